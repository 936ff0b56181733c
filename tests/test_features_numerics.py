"""Numerical range of the per-epoch statistics: counts that do not wrap around on long epochs."""

from __future__ import annotations

import numpy as np
import pytest

from sleepstage.features import EpochFeatures, TimeFeatures


def _sign_changes(x: np.ndarray) -> np.ndarray:
    """Sign changes of the mean-removed rows (zero counts as positive), counted plainly."""
    centred = x - x.mean(axis=-1, keepdims=True)
    return np.count_nonzero(np.diff(np.signbit(centred), axis=-1), axis=-1)


@pytest.mark.parametrize("n_samples", [65_535, 65_536, 65_537, 70_000])
def test_zero_crossing_rate_of_long_epochs(n_samples):
    sfreq = 1000.0
    rng = np.random.default_rng(n_samples)
    alternating = np.where(np.arange(n_samples) % 2, -1.0, 1.0)
    random_signs = rng.choice([-1.0, 1.0], size=n_samples)  # values far from their mean
    X = np.stack([alternating, random_signs])[:, None, :].astype(np.float32)
    expected = _sign_changes(X[:, 0].astype(np.float64)) / (n_samples / sfreq)
    assert expected[0] == pytest.approx((n_samples - 1) / (n_samples / sfreq))  # ~1000/s

    est = TimeFeatures(sfreq=sfreq, ch_names=["eeg"], ch_types=["eeg"]).fit(X)
    rate = est.transform(X)[:, list(est.get_feature_names_out()).index("eeg_zero_crossing_rate")]
    np.testing.assert_allclose(rate, expected, rtol=1e-6)

    feats = EpochFeatures(sfreq=sfreq, ch_names=["eeg"], ch_types=["eeg"], include=["time"])
    out = feats.fit_transform(X)
    names = list(feats.get_feature_names_out())
    np.testing.assert_allclose(out[:, names.index("eeg_zero_crossing_rate")], expected,
                               rtol=1e-6)
