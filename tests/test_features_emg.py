"""EMGFeatures: log-RMS, high-band power, amplitude percentiles, EMG-free layouts."""

from __future__ import annotations

import numpy as np
import pytest

from sleepstage.features import EMGFeatures


@pytest.fixture
def emg_epochs():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((25, 3, 512)).astype(np.float32)
    X[:, 2] *= rng.uniform(0.5, 5, size=(25, 1)).astype(np.float32)  # varying muscle tone
    return X


def test_names_and_families(emg_epochs):
    est = EMGFeatures().fit(emg_epochs)
    assert list(est.get_feature_names_out()) == [
        "emg_rms_log", "emg_highband_power_log", "emg_abs_p10_log", "emg_abs_p50_log",
        "emg_abs_p90_log",
    ]
    assert set(est.feature_families_) == {"emg"}
    assert est.channels_ == [2]


def test_log_rms_shifts_by_log_gain(emg_epochs):
    est = EMGFeatures().fit(emg_epochs)
    out = est.transform(emg_epochs)
    gain = 250.0
    scaled = est.transform(emg_epochs * gain)
    # Amplitudes shift by log(g), the power by 2 log(g).
    np.testing.assert_allclose(scaled[:, 0], out[:, 0] + np.log(gain), atol=1e-5)
    np.testing.assert_allclose(scaled[:, 1], out[:, 1] + 2 * np.log(gain), atol=1e-4)
    np.testing.assert_allclose(scaled[:, 2:], out[:, 2:] + np.log(gain), atol=1e-5)
    rms = np.sqrt(np.mean(emg_epochs[:, 2].astype(np.float64) ** 2, axis=1))
    np.testing.assert_allclose(out[:, 0], np.log(rms), atol=1e-5)


def test_percentiles_match_numpy(emg_epochs):
    est = EMGFeatures(percentiles=(5, 37.5, 99)).fit(emg_epochs)
    out = est.transform(emg_epochs)
    expected = np.percentile(np.abs(emg_epochs[:, 2].astype(np.float64)), [5, 37.5, 99], axis=1)
    np.testing.assert_allclose(out[:, 2:], np.log(expected.T), rtol=1e-6, atol=1e-6)
    assert est.get_feature_names_out()[3] == "emg_abs_p37.5_log"


def test_high_band_tracks_fast_muscle_activity():
    rng = np.random.default_rng(3)
    t = np.arange(512) / 128
    slow = np.sin(2 * np.pi * 2 * t)  # 2 Hz: below the band
    fast = 0.3 * np.sin(2 * np.pi * 40 * t)  # 40 Hz: inside [20, 60)
    X = np.stack([slow, slow + fast])[:, None, :] + 0.001 * rng.standard_normal((2, 1, 512))
    est = EMGFeatures(ch_names=["emg"], ch_types=["emg"]).fit(X)
    out = est.transform(X)
    # Power of a 0.3-amplitude sine is 0.045; the slow epoch has (almost) none.
    np.testing.assert_allclose(np.exp(out[1, 1]), 0.045, rtol=0.02)
    assert out[1, 1] - out[0, 1] > np.log(100)


def test_high_band_is_capped_at_nyquist():
    X = np.random.default_rng(0).standard_normal((3, 3, 3000)).astype(np.float32)
    est = EMGFeatures(sfreq=100.0).fit(X)
    assert est.high_band_ == (20.0, 50.0)
    assert np.isfinite(est.transform(X)).all()


def test_envelope_like_emg_gives_small_finite_high_band_power():
    # Sleep-EDF's EMG is a 1-Hz envelope repeated up to 100 Hz: no power above 20 Hz.
    rng = np.random.default_rng(1)
    envelope = np.repeat(rng.uniform(1e-6, 5e-6, size=(6, 30)), 100, axis=1)
    X = np.stack([np.zeros_like(envelope), envelope], axis=1).astype(np.float32)
    est = EMGFeatures(sfreq=100.0, ch_names=["eeg", "emg"], ch_types=["eeg", "emg"]).fit(X)
    out = est.transform(X)
    assert np.isfinite(out).all()
    assert np.all(out[:, 1] < 2 * np.log(1e-6))  # far below the signal's own power


def test_low_sampling_rate_rejects_the_high_band():
    X = np.zeros((2, 3, 128), np.float32)  # 32 Hz: Nyquist 16 Hz < 20 Hz
    with pytest.raises(ValueError, match=r"EMG high band \[20, 16\) Hz .*sfreq=32 Hz"):
        EMGFeatures(sfreq=32.0).fit(X)
    est = EMGFeatures(sfreq=32.0, high_band=(8, 16)).fit(X)
    assert est.high_band_ == (8.0, 16.0)


def test_no_emg_channel_gives_zero_columns():
    X = np.random.default_rng(0).standard_normal((4, 2, 512)).astype(np.float32)
    est = EMGFeatures(ch_names=["eeg1", "eeg2"]).fit(X)  # types guessed: both EEG
    assert est.get_feature_names_out().size == 0
    assert est.transform(X).shape == (4, 0)


def test_flat_emg_is_finite():
    X = np.zeros((3, 3, 512), np.float32)
    out = EMGFeatures().fit(X).transform(X)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out[:, 0], np.log(1e-15), rtol=1e-6)


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"percentiles": (10, 120)}, ValueError, "'percentiles'"),
        ({"percentiles": (10, 10)}, ValueError, "duplicates"),
        ({"percentiles": ("a",)}, TypeError, "'percentiles'"),
        ({"high_band": (60, 20)}, ValueError, "'high_band'"),
        ({"high_band": 20}, ValueError, "'high_band'"),
        ({"method": "burg"}, ValueError, "'method' parameter"),
    ],
)
def test_invalid_settings_raise(params, error, match):
    with pytest.raises(error, match=match):
        EMGFeatures(**params).fit(np.zeros((2, 3, 512), np.float32))
