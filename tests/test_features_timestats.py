"""TimeFeatures: spread, shape, zero crossings and line length."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from sleepstage.features import TimeFeatures

NAMES = ("std_log", "iqr_log", "skewness", "kurtosis", "zero_crossing_rate", "line_length_log")


@pytest.fixture
def rng():
    return np.random.default_rng(99)


def _fit(X, **params):
    est = TimeFeatures(ch_names=[f"ch{i}" for i in range(X.shape[1])], **params).fit(X)
    return est, est.transform(X)


def test_names_and_families():
    est, _ = _fit(np.zeros((1, 2, 64), np.float32))
    assert list(est.get_feature_names_out()) == [f"ch{c}_{n}" for c in (0, 1) for n in NAMES]
    assert set(est.feature_families_) == {"time"}


def test_moments_match_scipy(rng):
    X = rng.gamma(2.0, size=(20, 2, 512)).astype(np.float32)  # skewed, heavy-ish tails
    _, out = _fit(X)
    x = X.astype(np.float64)
    np.testing.assert_allclose(out[:, 0::6], np.log(x.std(axis=-1)), atol=1e-5)
    np.testing.assert_allclose(out[:, 2::6], scipy.stats.skew(x, axis=-1), atol=1e-5)
    np.testing.assert_allclose(out[:, 3::6], scipy.stats.kurtosis(x, axis=-1), atol=1e-4)
    assert np.all(out[:, 2::6] > 0.5)  # gamma(2) has skewness sqrt(2)
    iqr = np.subtract(*np.percentile(x, [75, 25], axis=-1))
    np.testing.assert_allclose(out[:, 1::6], np.log(iqr), atol=1e-5)


def test_sine_zero_crossings_and_line_length():
    sfreq, f = 128.0, 6.0
    t = np.arange(512) / sfreq
    X = (3.0 * np.sin(2 * np.pi * f * t + 0.3) + 10.0)[None, None, :].astype(np.float32)
    _, out = _fit(X, sfreq=sfreq)
    # Two sign changes per cycle of the mean-removed sine (the offset of 10 is ignored).
    assert out[0, 4] == pytest.approx(2 * f, abs=0.25)
    # Line length per second of A sin(2 pi f t) is 4 A f.
    assert np.exp(out[0, 5]) == pytest.approx(4 * 3.0 * f, rel=0.01)
    assert out[0, 3] == pytest.approx(-1.5, abs=0.01)  # excess kurtosis of a sine


def test_shape_statistics_ignore_gain_and_offset(rng):
    X = rng.standard_normal((15, 1, 512)).astype(np.float32)
    _, out = _fit(X)
    _, moved = _fit(X * 20.0 + 5.0)
    np.testing.assert_allclose(moved[:, 2:5], out[:, 2:5], atol=1e-4)
    np.testing.assert_allclose(moved[:, [0, 1, 5]], out[:, [0, 1, 5]] + np.log(20.0), atol=1e-4)


def test_flat_channel_is_finite(rng):
    X = rng.standard_normal((3, 3, 512)).astype(np.float32)
    X[:, 0] = 1.5
    est = TimeFeatures().fit(X)
    out = est.transform(X)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[:, 2:6][:, :3], 0.0)  # skewness, kurtosis, crossings
    np.testing.assert_allclose(out[:, 0], np.log(1e-15), rtol=1e-6)
