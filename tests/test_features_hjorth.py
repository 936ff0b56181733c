"""HjorthFeatures: activity, mobility (in Hz) and complexity."""

from __future__ import annotations

import numpy as np
import pytest

from sleepstage.features import HjorthFeatures


def _sines(freqs, *, sfreq=128.0, n_samples=512, amplitude=1.0):
    t = np.arange(n_samples) / sfreq
    rng = np.random.default_rng(0)
    phases = rng.uniform(0, 2 * np.pi, size=len(freqs))
    x = [amplitude * np.sin(2 * np.pi * f * t + p) for f, p in zip(freqs, phases, strict=True)]
    return np.asarray(x, dtype=np.float32)[:, None, :]


@pytest.mark.parametrize("sfreq", [128.0, 100.0])
def test_mobility_of_a_sine_is_its_frequency(sfreq):
    freqs = [1.0, 7.0, 12.5, 30.0, 0.4 * sfreq]
    X = _sines(freqs, sfreq=sfreq, n_samples=int(4 * sfreq))
    est = HjorthFeatures(sfreq=sfreq, ch_names=["eeg"]).fit(X)
    out = est.transform(X)
    # Whole cycles fit in 4 s for every frequency: the sampled sine is exact.
    np.testing.assert_allclose(out[:, 1], freqs, rtol=2e-3)
    np.testing.assert_allclose(out[:, 2], 1.0, atol=5e-3)  # complexity of a pure sine
    np.testing.assert_allclose(out[:, 0], np.log(0.5), atol=5e-3)  # variance of a sine: 1/2


def test_complexity_of_noise_exceeds_that_of_a_sine():
    rng = np.random.default_rng(1)
    noise = rng.standard_normal((40, 1, 512)).astype(np.float32)
    X = np.concatenate([_sines([10.0]), noise])
    out = HjorthFeatures(ch_names=["eeg"]).fit(X).transform(X)
    assert np.all(out[1:, 2] > 1.1 * out[0, 2])
    # White noise: var(diff) = 2 var(x), so m = sqrt(2) and mobility = sfreq / 4 = 32 Hz.
    assert out[1:, 1].mean() == pytest.approx(32.0, rel=0.02)


def test_activity_shifts_with_gain_and_the_rest_does_not():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((10, 3, 512)).astype(np.float32)
    est = HjorthFeatures().fit(X)
    out, scaled = est.transform(X), est.transform(X * 1e-5)
    np.testing.assert_allclose(scaled[:, 0::3], out[:, 0::3] + 2 * np.log(1e-5), atol=1e-4)
    np.testing.assert_allclose(scaled[:, 1::3], out[:, 1::3], rtol=1e-4)
    np.testing.assert_allclose(scaled[:, 2::3], out[:, 2::3], rtol=1e-4)


def test_names_cover_every_channel():
    X = np.zeros((1, 3, 512), np.float32)
    est = HjorthFeatures().fit(X)
    assert list(est.get_feature_names_out())[3:6] == [
        "eeg2_hjorth_activity_log", "eeg2_hjorth_mobility", "eeg2_hjorth_complexity",
    ]
    assert set(est.feature_families_) == {"hjorth"}


def test_flat_channel_is_finite():
    X = np.random.default_rng(3).standard_normal((2, 3, 512)).astype(np.float32)
    X[:, 1] = 0.0
    out = HjorthFeatures().fit(X).transform(X)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[:, 4:6], 0.0)


def test_too_short_epochs_raise():
    with pytest.raises(ValueError, match="at least 4 samples"):
        HjorthFeatures(ch_names=["eeg"]).fit(np.zeros((2, 1, 3), np.float32))
