"""SpectralFeatures: band powers, ratios, spectral shape, band resolution rules."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from sleepstage.features import DEFAULT_BANDS, SpectralFeatures
from sleepstage.features._engine import compute_psd, make_psd_plan

SFREQ = 128.0
N_SAMPLES = 512


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def _sine(freq, *, n_epochs=4, sfreq=SFREQ, n_samples=N_SAMPLES, amplitude=1.0, rng=None):
    t = np.arange(n_samples) / sfreq
    phase = 0.0 if rng is None else rng.uniform(0, 2 * np.pi, size=(n_epochs, 1, 1))
    x = amplitude * np.sin(2 * np.pi * freq * t + phase)
    return np.broadcast_to(x, (n_epochs, 1, n_samples)).astype(np.float32)


def _one_channel(**params):
    return SpectralFeatures(ch_names=["eeg"], ch_types=["eeg"], **params)


def _column(est, out, name):
    return out[:, list(est.get_feature_names_out()).index(name)]


def test_seven_hz_sine_puts_power_in_theta(rng):
    X = _sine(7.0, rng=rng)
    est = _one_channel().fit(X)
    out = est.transform(X)
    assert est.bands_preset_ == "rodent"
    assert np.all(_column(est, out, "eeg_theta_relpower") > 0.9)
    assert np.all(_column(est, out, "eeg_delta_relpower") < 0.05)
    np.testing.assert_allclose(_column(est, out, "eeg_peak_freq"), 7.0)
    np.testing.assert_allclose(_column(est, out, "eeg_sef95"), 7.0, atol=1.0)
    assert np.all(_column(est, out, "eeg_theta_delta_ratio_log") > np.log(20))
    assert np.all(_column(est, out, "eeg_spectral_entropy") < 0.3)


def test_white_noise_has_high_entropy_and_spread_power(rng):
    X = rng.standard_normal((20, 1, N_SAMPLES)).astype(np.float32)
    est = _one_channel().fit(X)
    out = est.transform(X)
    assert np.all(_column(est, out, "eeg_spectral_entropy") > 0.9)
    # Flat spectrum: gamma [30, 64) holds about (64 - 30) / (64 - 0.5) of the power, less
    # the two 4-Hz mains notches (50 and 60 Hz) left out of both gamma and the total.
    np.testing.assert_allclose(_column(est, out, "eeg_gamma_relpower").mean(),
                               (34 - 8) / (63.5 - 8), atol=0.03)


def test_relative_powers_sum_to_at_most_one_and_ignore_gain(rng):
    X = rng.standard_normal((30, 3, N_SAMPLES)).astype(np.float32)
    est = SpectralFeatures().fit(X)
    out = est.transform(X)
    names = est.get_feature_names_out()
    for ch in ("eeg1", "eeg2"):
        rel = out[:, [i for i, n in enumerate(names) if n.startswith(ch) and "relpower" in n]]
        assert rel.shape[1] == len(est.bands_)
        assert np.all(rel >= 0)
        assert np.all(rel.sum(axis=1) <= 1 + 1e-5)
    gain = 37.5
    scaled = est.transform(X * gain)
    rel_cols = ["relpower" in n or "entropy" in n or "sef" in n or "peak" in n for n in names]
    np.testing.assert_allclose(scaled[:, rel_cols], out[:, rel_cols], rtol=1e-4, atol=1e-6)
    log_cols = ["abspower_log" in n or "total_power_log" in n for n in names]
    np.testing.assert_allclose(scaled[:, log_cols], out[:, log_cols] + 2 * np.log(gain),
                               atol=1e-4)
    ratio_cols = ["ratio_log" in n for n in names]
    np.testing.assert_allclose(scaled[:, ratio_cols], out[:, ratio_cols], atol=1e-4)


def test_emg_channels_are_skipped_by_default(rng):
    X = rng.standard_normal((3, 3, N_SAMPLES)).astype(np.float32)
    est = SpectralFeatures().fit(X)
    assert est.channels_ == [0, 1]
    assert not any(n.startswith("emg") for n in est.get_feature_names_out())
    assert set(est.feature_families_) == {"band_power", "spectral_shape"}
    with_emg = SpectralFeatures(spectral_types=("eeg", "emg")).fit(X)
    assert with_emg.channels_ == [0, 1, 2]
    assert with_emg.transform(X).shape[1] == 3 * est.transform(X).shape[1] // 2


def test_band_presets_and_auto_rule():
    assert set(DEFAULT_BANDS) == {"rodent", "human"}
    short = np.zeros((1, 1, 512), np.float32)
    long = np.zeros((1, 1, 3000), np.float32)
    assert _one_channel().fit(short).bands_preset_ == "rodent"
    est = _one_channel(sfreq=100.0).fit(long)
    assert est.bands_preset_ == "human"
    assert list(est.bands_) == ["delta", "theta", "alpha", "sigma", "beta", "gamma"]
    # Rodent gamma (30, 100) is capped at Nyquist (64 Hz at 128 Hz).
    assert _one_channel().fit(short).bands_["gamma"] == (30.0, 64.0)


def test_bands_are_half_open(rng):
    # Bins fall exactly on 4 Hz (0.5-Hz resolution): it must count in "high" only.
    X = rng.standard_normal((10, 1, 3000)).astype(np.float32)
    est = _one_channel(sfreq=100.0, ratios=None,
                       bands={"low": (0.5, 4), "high": (4, 8), "both": (0.5, 8)}).fit(X)
    out = est.transform(X)
    low, high, both = (_column(est, out, f"eeg_{b}_relpower") for b in ("low", "high", "both"))
    np.testing.assert_allclose(low + high, both, rtol=1e-5)


def test_custom_bands_and_ratios(rng):
    X = rng.standard_normal((5, 1, N_SAMPLES)).astype(np.float32)
    est = _one_channel(bands={"slow": (0.5, 2), "fast": (20, 40)},
                       ratios=[("fast", "slow")]).fit(X)
    assert list(est.get_feature_names_out()) == [
        "eeg_slow_abspower_log", "eeg_fast_abspower_log", "eeg_slow_relpower",
        "eeg_fast_relpower", "eeg_total_power_log", "eeg_fast_slow_ratio_log", "eeg_sef95",
        "eeg_spectral_entropy", "eeg_peak_freq",
    ]
    out = est.transform(X)
    np.testing.assert_allclose(out[:, 5], out[:, 1] - out[:, 0], atol=1e-5)
    assert _one_channel(ratios=None).fit(X).ratios_ == ()
    with pytest.raises(ValueError, match=r"Ratio .* uses band 'alpha'"):
        _one_channel(ratios=[("alpha", "delta")]).fit(X)


def test_low_sampling_rate_drops_preset_bands_but_rejects_explicit_ones(caplog):
    X = np.zeros((2, 1, 200), np.float32)  # 50 Hz, 4-s epochs: Nyquist 25 Hz
    with caplog.at_level(logging.INFO, logger="sleepstage.features._spectral"):
        est = _one_channel(sfreq=50.0).fit(X)
    assert "gamma" not in est.bands_
    assert est.bands_["beta"] == (15.0, 25.0)
    assert "gamma" in caplog.text
    with pytest.raises(ValueError, match=r"'gamma' \[30, 45\) Hz lies outside.*sfreq=50 Hz"):
        _one_channel(sfreq=50.0, bands={"delta": (0.5, 4), "gamma": (30, 45)}).fit(X)


def test_band_without_frequency_bin_raises():
    X = np.zeros((2, 1, 512), np.float32)
    # A 0.25-s window gives 4-Hz bins (0, 4, 8, ...): nothing in delta [0.5, 4).
    with pytest.raises(ValueError, match=r"'delta'.*no frequency bin.*sfreq=128 Hz.*4 Hz"):
        _one_channel(window=0.25).fit(X)
    with pytest.raises(ValueError, match=r"'narrow'.*no frequency bin"):
        _one_channel(bands={"narrow": (7.1, 7.3)}).fit(X)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"method": "fft"}, "'method' parameter"),
        ({"bands": "cat"}, "'bands' parameter"),
        ({"bands": {}}, "empty dict"),
        ({"bands": {"x": (5, 2)}}, "0 <= lo < hi"),
        ({"edge": 1.5}, "'edge' parameter"),
        ({"overlap": 1.0}, "'overlap' parameter"),
        ({"fmin": 70.0}, "fmin=70 Hz must be below fmax=64 Hz"),
        ({"spectral_types": ("eeg", "ecg")}, "'spectral_types' parameter"),
        ({"method": "multitaper", "bandwidth": 0.1}, "bandwidth"),
    ],
)
def test_invalid_settings_raise_at_fit(params, match):
    X = np.zeros((2, 1, 512), np.float32)
    est = _one_channel(**params)
    with pytest.raises(ValueError, match=match):
        est.fit(X)


def test_window_longer_than_epoch_gives_one_periodogram():
    est = _one_channel(window=10.0).fit(np.zeros((1, 1, 512), np.float32))
    assert est.psd_plan_.n_segments == 1
    assert est.psd_plan_.nperseg == 512
    assert est.psd_plan_.df == pytest.approx(0.25)


def test_multitaper_finds_the_sine(rng):
    X = _sine(7.5, rng=rng)
    est = _one_channel(method="multitaper", bandwidth=2.0).fit(X)
    assert est.psd_plan_.n_tapers == 7  # NW = 4, 2 NW - 1 tapers
    out = est.transform(X)
    assert np.all(_column(est, out, "eeg_theta_relpower") > 0.9)
    np.testing.assert_allclose(_column(est, out, "eeg_peak_freq"), 7.5)


def test_psd_integrates_to_the_variance(rng):
    x = rng.standard_normal((200, 1, 512)).astype(np.float32) * 3.0
    plan = make_psd_plan(SFREQ, 512)
    psd = compute_psd(x, plan)
    assert psd.dtype == np.float32
    total = psd.sum(axis=-1) * plan.df
    np.testing.assert_allclose(total.mean(), 9.0, rtol=0.03)


def test_flat_channel_is_finite(rng):
    X = rng.standard_normal((4, 3, N_SAMPLES)).astype(np.float32)
    X[:, 0] = 0.0
    X[:2, 1] = 1.5
    est = SpectralFeatures().fit(X)
    out = est.transform(X)
    assert np.isfinite(out).all()
    names = est.get_feature_names_out()
    flat = out[:, [n.startswith("eeg1") and "relpower" in n for n in names]]
    np.testing.assert_array_equal(flat, 0.0)
    np.testing.assert_allclose(_column(est, out, "eeg1_total_power_log"), np.log(1e-30),
                               rtol=1e-6)


def test_model_files_of_0_1_0_find_the_psd_plan(tmp_path):
    """Plans recorded as ``sleepstage.features._psd.PSDPlan`` (before the engine moved) load."""
    import dataclasses

    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from sleepstage.features import EpochFeatures
    from sleepstage.features._psd import PSDPlan as OldPSDPlan
    from sleepstage.io import load_model, save_model

    X = np.random.default_rng(0).standard_normal((40, 3, N_SAMPLES)).astype(np.float32)
    y = np.repeat(["W", "N"], 20)
    pipe = Pipeline([("features", EpochFeatures(include=("spectral", "emg"))),
                     ("clf", LogisticRegression(max_iter=5000))]).fit(X, y)
    for _, family in pipe.named_steps["features"].transformers_:
        plan = family.psd_plan_
        family.psd_plan_ = OldPSDPlan(**{f.name: getattr(plan, f.name)
                                         for f in dataclasses.fields(plan)})
    path = save_model(pipe, tmp_path / "old.skops")
    loaded = load_model(path).pipeline
    spectral, emg = (f for _, f in loaded.named_steps["features"].transformers_)
    assert type(spectral.psd_plan_) is OldPSDPlan
    assert spectral.psd_plan_ == emg.psd_plan_  # one shared PSD, as before
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
