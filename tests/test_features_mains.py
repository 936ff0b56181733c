"""Mains line noise (50/60 Hz) is left out of band, total and relative powers by default.

At 128 Hz both mains frequencies lie below Nyquist, inside the rodent gamma band (30-64 Hz)
and the EMG high band (20-60 Hz); a line there also raises the total power that every
relative power is divided by.
"""

from __future__ import annotations

import numpy as np
import pytest

from sleepstage.data import make_synthetic
from sleepstage.features import EMGFeatures, EpochFeatures, SpectralFeatures

SFREQ = 128.0
N_SAMPLES = 512
# 20 uV RMS: within the range of mains pickup by tethered rodent EEG/EMG, below the EEG
# (30-60 uV RMS) and well above the EMG of sleep (3-6 uV RMS).
LINE_RMS = 20e-6


@pytest.fixture(scope="module")
def epochs() -> np.ndarray:
    """90 synthetic reference epochs (volts) of all three stages."""
    return make_synthetic(n_recordings=1, hours=0.1, random_state=0).X


def _with_line(X: np.ndarray, freq: float, seed: int = 1) -> np.ndarray:
    """``X`` plus a sinusoid of ``freq`` Hz and ``LINE_RMS`` on every channel, random phase."""
    t = np.arange(X.shape[-1]) / SFREQ
    phase = np.random.default_rng(seed).uniform(0, 2 * np.pi, (X.shape[0], X.shape[1], 1))
    line = LINE_RMS * np.sqrt(2) * np.sin(2 * np.pi * freq * t + phase)
    return (X + line).astype(np.float32)


def _power_columns(feats: EpochFeatures) -> dict[str, list[int]]:
    """Columns that a line in the band or total would move: logs and relative powers."""
    names = list(feats.get_feature_names_out())
    logs = [i for i, n in enumerate(names)
            if n.endswith(("_abspower_log", "_total_power_log", "_ratio_log"))
            or n == "emg_highband_power_log"]
    relative = [i for i, n in enumerate(names) if n.endswith("_relpower")]
    return {"logs": logs, "relative": relative}


# 50.3 and 59.8 Hz: a drifting line between bins leaks a little beyond the main lobe
@pytest.mark.parametrize("freq", [50.0, 60.0, 50.3, 59.8])
def test_line_leaves_powers_unchanged_by_default(epochs, freq):
    feats = EpochFeatures().fit(epochs)
    clean, noisy = feats.transform(epochs), feats.transform(_with_line(epochs, freq))
    columns = _power_columns(feats)
    change = np.abs(noisy - clean)
    assert change[:, columns["logs"]].max() < 0.01  # < 1 % of any band or total power
    assert change[:, columns["relative"]].max() < 0.002


@pytest.mark.parametrize("freq", [50.0, 60.0])
def test_line_moves_powers_without_the_notch(epochs, freq):
    feats = EpochFeatures(notch_freqs=None).fit(epochs)
    clean, noisy = feats.transform(epochs), feats.transform(_with_line(epochs, freq))
    names = list(feats.get_feature_names_out())
    change = np.abs(noisy - clean).max(axis=0)
    for name in ("eeg1_gamma_abspower_log", "eeg2_gamma_abspower_log",
                 "emg_highband_power_log"):
        assert change[names.index(name)] > 1.0, name  # the line dominates: > e-fold
    assert change[names.index("eeg2_gamma_relpower")] > 0.2
    assert change[names.index("eeg2_total_power_log")] > 0.3


def test_feature_names_do_not_depend_on_the_notch(epochs):
    with_notch = EpochFeatures().fit(epochs).get_feature_names_out()
    without = EpochFeatures(notch_freqs=None).fit(epochs).get_feature_names_out()
    np.testing.assert_array_equal(with_notch, without)


def test_notch_is_configurable(epochs):
    """A 55-Hz notch protects against a 55-Hz line, not against 50 Hz."""
    feats = EpochFeatures(notch_freqs=[55], notch_width=2.0).fit(epochs)
    assert feats.transformers_[0][1].notch_bands_ == [(54.0, 56.0)]
    gamma = list(feats.get_feature_names_out()).index("eeg2_gamma_abspower_log")
    clean = feats.transform(epochs)[:, gamma]
    assert np.abs(feats.transform(_with_line(epochs, 55.0))[:, gamma] - clean).max() < 1e-4
    assert np.abs(feats.transform(_with_line(epochs, 50.0))[:, gamma] - clean).max() > 1.0


def test_notch_bands_hold_only_notches_below_nyquist():
    X = np.random.default_rng(0).standard_normal((4, 3, 3000)).astype(np.float32)
    spec = SpectralFeatures(sfreq=100.0, bands="human").fit(X)  # Nyquist 50 Hz
    assert spec.notch_bands_ == [(48.0, 52.0)]
    assert EMGFeatures(sfreq=100.0).fit(X).notch_bands_ == [(48.0, 52.0)]


def test_white_noise_entropy_stays_one_with_the_notch():
    """Entropy is normalised by the bins used, so white noise still scores about 1."""
    X = np.random.default_rng(3).standard_normal((20, 1, N_SAMPLES)).astype(np.float32)
    spec = SpectralFeatures(ch_names=["eeg"], ch_types=["eeg"]).fit(X)
    entropy = spec.transform(X)[:, list(spec.get_feature_names_out()).index(
        "eeg_spectral_entropy")]
    assert np.all(entropy > 0.95)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"notch_freqs": (50, -60)}, "'notch_freqs'"),
        ({"notch_freqs": ("mains",)}, "'notch_freqs'"),
        ({"notch_freqs": (np.nan,)}, "'notch_freqs'"),
        ({"notch_width": 0}, "'notch_width'"),
        ({"notch_width": np.inf}, "'notch_width'"),
    ],
)
def test_invalid_notch_parameters_are_named(epochs, params, match):
    for est in (SpectralFeatures(**params), EMGFeatures(**params), EpochFeatures(**params)):
        with pytest.raises(ValueError, match=match):
            est.fit(epochs)


def test_a_band_inside_a_notch_is_refused(epochs):
    with pytest.raises(ValueError, match=r"Band 'mains' .* lies entirely in the mains notches"):
        SpectralFeatures(bands={"delta": (0.5, 4), "mains": (49, 51)}).fit(epochs)
    with pytest.raises(ValueError, match=r"EMG high band .* lies entirely in the mains notches"):
        EMGFeatures(high_band=(48, 52)).fit(epochs)
    # without the notch the same bands are fine
    SpectralFeatures(bands={"delta": (0.5, 4), "mains": (49, 51)}, notch_freqs=None).fit(epochs)
    EMGFeatures(high_band=(48, 52), notch_freqs=()).fit(epochs)
