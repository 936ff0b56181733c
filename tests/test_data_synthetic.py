"""Tests of the synthetic rodent recordings (sleepstage.data.make_synthetic)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import welch

from sleepstage.data import STAGES_3, EpochData, make_synthetic
from sleepstage.data._synthetic import _hypnogram, _occupancy, _spawn_seeds

SFREQ = 128.0


@pytest.fixture(scope="module")
def small() -> EpochData:
    """3 animals x 2 h, the default layout."""
    return make_synthetic(3, 2.0, random_state=7)


@pytest.fixture(scope="module")
def day() -> EpochData:
    """One animal, 24 h (the only full-day signal run in this file)."""
    return make_synthetic(1, 24.0, random_state=3)


@pytest.fixture(scope="module")
def hypnograms() -> list[tuple[np.ndarray, np.ndarray]]:
    """Continuous-time hypnograms of 3 animals x 24 h (no signals: fast)."""
    out = []
    for seed in _spawn_seeds(11, 3):
        bounds, stages, _ = _hypnogram(np.random.default_rng(seed), 86400.0, 4.0, 0.0)
        out.append((bounds, stages))
    return out


def _psd(data: EpochData, mask: np.ndarray, channel: int) -> tuple[np.ndarray, np.ndarray]:
    freqs, psd = welch(data.X[mask, channel], fs=data.sfreq, nperseg=256, axis=-1)
    return freqs, psd.mean(axis=0)


def _band(freqs, psd, lo, hi) -> float:
    return float(psd[(freqs >= lo) & (freqs < hi)].sum())


# -- layout -------------------------------------------------------------------------------------
def test_layout_shape_dtype_and_labels(small):
    n = 3 * 1800
    assert isinstance(small, EpochData)
    assert small.X.shape == (n, 3, 512)
    assert small.X.dtype == np.float32
    assert small.flat().shape == (n, 1536)
    assert small.ch_names == ("eeg1", "eeg2", "emg")
    assert small.ch_types == ("eeg", "eeg", "emg")
    assert small.sfreq == SFREQ and small.epoch_length == 4.0
    assert set(np.unique(small.y)) == set(STAGES_3)
    # the seed is part of the id: animals of different seeds never share one
    assert list(small.recordings) == [f"synthetic-seed7-{k}" for k in range(3)]
    # recordings are contiguous blocks, onsets restart at 0 for each animal
    assert (small.groups[:1800] == "synthetic-seed7-0").all()
    assert (small.groups[-1800:] == "synthetic-seed7-2").all()
    np.testing.assert_allclose(small.onsets[1800:1803], [0.0, 4.0, 8.0])
    assert np.isfinite(small.X).all()


def test_info_documents_synthetic_origin_and_animals(small):
    info = small.info
    assert info["synthetic"] is True
    assert "SYNTHETIC" in info["description"]
    assert info["units"] == "V"
    assert info["parameters"]["random_state"] == 7
    assert set(info["recordings"]) == set(small.recordings)
    for details in info["recordings"].values():
        animal = details["animal"]
        for key in ("eeg1_gain", "eeg2_gain", "emg_gain", "theta_freq_hz", "eeg_noise_uv"):
            assert np.isfinite(animal[key])
        assert sum(details["stage_fractions"].values()) == pytest.approx(1.0)
        bouts = details["bouts"]
        assert bouts["onset"].shape == bouts["duration"].shape == bouts["stage"].shape


def test_units_are_volts(small):
    eeg_rms = np.sqrt(np.mean(small.X[:, :2].astype(np.float64) ** 2))
    assert 1e-5 < eeg_rms < 3e-4  # tens to hundreds of microvolts
    assert np.abs(small.X).max() <= 1e-3 + 1e-9  # amplifier rail at +/-1 mV


@pytest.mark.parametrize(("sfreq", "epoch_length", "n_samples"), [(100.0, 30.0, 3000),
                                                                   (256.0, 2.0, 512)])
def test_other_sampling_rates_and_epoch_lengths(sfreq, epoch_length, n_samples):
    data = make_synthetic(1, 0.5, sfreq=sfreq, epoch_length=epoch_length, random_state=0)
    assert data.X.shape == (int(1800 // epoch_length), 3, n_samples)
    assert data.sfreq == sfreq and data.epoch_length == epoch_length
    assert np.isfinite(data.X).all()


# -- determinism --------------------------------------------------------------------------------
def test_same_seed_same_data_other_seed_different():
    a = make_synthetic(2, 0.25, random_state=5)
    b = make_synthetic(2, 0.25, random_state=5)
    c = make_synthetic(2, 0.25, random_state=6)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert a.info["recordings"]["synthetic-seed5-1"]["animal"] == b.info["recordings"][
        "synthetic-seed5-1"]["animal"]
    assert not np.array_equal(a.X, c.X)


def test_animal_does_not_depend_on_number_of_recordings():
    one = make_synthetic(1, 0.25, random_state=5)
    two = make_synthetic(2, 0.25, random_state=5)
    np.testing.assert_array_equal(one.X, two.X[: one.n_epochs])
    assert one.info["recordings"]["synthetic-seed5-0"]["animal"] == two.info["recordings"][
        "synthetic-seed5-0"]["animal"]


def test_generator_seed_is_accepted():
    a = make_synthetic(1, 0.1, random_state=np.random.default_rng(1))
    b = make_synthetic(1, 0.1, random_state=np.random.default_rng(1))
    np.testing.assert_array_equal(a.X, b.X)


# -- hypnogram ----------------------------------------------------------------------------------
def test_stage_proportions_and_light_dark_over_three_days(hypnograms):
    time_in = np.zeros(3)
    light_wake, dark_wake = [], []
    for bounds, stages in hypnograms:
        durations = np.diff(bounds)
        for s in range(3):
            time_in[s] += durations[stages == s].sum()
        edges = np.array([0.0, 43200.0, 86400.0])
        occupancy = _occupancy(bounds, stages, edges)
        light_wake.append(occupancy[0, 0] / 43200)
        dark_wake.append(occupancy[1, 0] / 43200)
    fractions = time_in / time_in.sum()
    for fraction, target, tolerance in zip(fractions, (0.45, 0.48, 0.07), (0.07, 0.07, 0.025),
                                           strict=True):
        assert abs(fraction - target) <= tolerance
    # lights on (first 12 h): more sleep; lights off: more wake, in every animal
    assert all(d > lt + 0.1 for lt, d in zip(light_wake, dark_wake, strict=True))


def test_bout_lengths_and_transition_rate_are_mouse_like(hypnograms):
    rem, nrem, wake, rates = [], [], [], []
    for bounds, stages in hypnograms:
        durations = np.diff(bounds)
        rem.append(durations[stages == 2])
        nrem.append(durations[stages == 1])
        wake.append(durations[stages == 0])
        rates.append((stages.size - 1) / (bounds[-1] / 3600))
        # REM is entered from NREM only
        following = stages[1:][stages[:-1] == 0]
        assert (following == 1).all()
        assert (stages[:-1][stages[1:] == 2] == 1).all()
    rem, nrem, wake = map(np.concatenate, (rem, nrem, wake))
    assert 60 <= np.median(rem) <= 120
    assert 90 <= np.median(nrem) <= 300
    assert np.min(wake) < 10 and np.max(wake) > 1800  # seconds to well over half an hour
    assert all(15 <= r <= 45 for r in rates)


def test_day_labels_proportions_and_no_wake_to_rem(day):
    y = day.y
    assert not np.any((y[:-1] == "WAKE") & (y[1:] == "REM"))
    fractions = [np.mean(y == s) for s in STAGES_3]
    for fraction, target, tolerance in zip(fractions, (0.45, 0.48, 0.07), (0.12, 0.12, 0.04),
                                           strict=True):
        assert abs(fraction - target) <= tolerance
    details = day.info["recordings"]["synthetic-seed3-0"]
    assert 15 <= details["epoch_transitions_per_hour"] <= 45
    assert details["n_mixed_epochs"] > 0


def test_labels_are_the_majority_stage_of_each_epoch(small):
    details = small.info["recordings"]["synthetic-seed7-1"]
    bouts = details["bouts"]
    y = small.y[small.groups == "synthetic-seed7-1"]
    ends = bouts["onset"] + bouts["duration"]
    rng = np.random.default_rng(0)
    for epoch in rng.choice(y.size, 200, replace=False):
        start, stop = 4.0 * epoch, 4.0 * epoch + 4.0
        overlap = np.clip(np.minimum(ends, stop) - np.maximum(bouts["onset"], start), 0, None)
        shares = {s: overlap[bouts["stage"] == s].sum() for s in STAGES_3}
        assert y[epoch] == max(shares, key=shares.get)


# -- signals ------------------------------------------------------------------------------------
def test_rem_has_a_theta_peak_at_the_animals_frequency(small):
    for rec in small.recordings:
        mask = (small.groups == rec) & (small.y == "REM")
        freqs, psd = _psd(small, mask, channel=1)
        window = (freqs >= 1.0) & (freqs < 20.0)
        peak = freqs[window][np.argmax(psd[window])]
        assert 6.0 <= peak <= 9.0
        expected = small.info["recordings"][rec]["animal"]["theta_freq_hz"]
        assert abs(peak - expected) <= 0.5


def test_nrem_is_dominated_by_delta(small):
    for rec in small.recordings:
        by_stage = {}
        for stage in STAGES_3:
            freqs, psd = _psd(small, (small.groups == rec) & (small.y == stage), channel=0)
            by_stage[stage] = (_band(freqs, psd, 0.5, 4), _band(freqs, psd, 6, 9),
                               _band(freqs, psd, 10, 15))
        delta, theta, _ = by_stage["NREM"]
        assert delta > 4 * theta
        assert delta > 2 * by_stage["WAKE"][0] and delta > 2 * by_stage["REM"][0]
        # spindles: more sigma power in NREM than in REM
        assert by_stage["NREM"][2] > by_stage["REM"][2]


def test_emg_rms_orders_wake_nrem_rem(small):
    rms = np.sqrt(np.mean(small.X[:, 2].astype(np.float64) ** 2, axis=1))
    for rec in small.recordings:
        medians = [np.median(rms[(small.groups == rec) & (small.y == s)]) for s in STAGES_3]
        assert medians[0] > 2 * medians[1]
        assert medians[1] > 1.5 * medians[2]


def test_animals_differ_unless_variability_is_zero(small):
    animals = [small.info["recordings"][r]["animal"] for r in small.recordings]
    for key in ("eeg1_gain", "eeg2_gain", "emg_gain", "theta_freq_hz", "eeg_noise_uv"):
        assert len({a[key] for a in animals}) == 3
    # the EMG level follows the drawn gain
    rms = np.sqrt(np.mean(small.X[:, 2].astype(np.float64) ** 2, axis=1))
    level = [np.median(rms[(small.groups == r) & (small.y == "NREM")]) for r in small.recordings]
    gains = [a["emg_gain"] for a in animals]
    assert np.argsort(level).tolist() == np.argsort(gains).tolist()

    same = make_synthetic(3, 0.1, random_state=7, animal_variability=0.0)
    animals = [same.info["recordings"][r]["animal"] for r in same.recordings]
    assert all(a == animals[0] for a in animals)


def test_artefact_rate_controls_movement_artefacts():
    clean = make_synthetic(1, 1.0, random_state=2, artefact_rate=0.0)
    noisy = make_synthetic(1, 1.0, random_state=2, artefact_rate=0.3)
    n_wake = int(np.sum(noisy.y == "WAKE"))
    assert clean.info["recordings"]["synthetic-seed2-0"]["n_artefact_epochs"] == 0
    n_art = noisy.info["recordings"]["synthetic-seed2-0"]["n_artefact_epochs"]
    assert 0.15 * n_wake < n_art < 0.45 * n_wake
    # large slow excursions: the EEG peak amplitude of wake epochs grows, some reach the rail
    wake = noisy.y == "WAKE"
    peak_clean = np.abs(clean.X[clean.y == "WAKE", 0]).max(axis=1)
    peak_noisy = np.abs(noisy.X[wake, 0]).max(axis=1)
    assert np.quantile(peak_noisy, 0.95) > 2 * np.quantile(peak_clean, 0.95)
    assert np.any(np.isclose(np.abs(noisy.X[wake, :2]), 1e-3))


# -- validation ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"hours": 0}, ValueError, "'hours' parameter must be a finite number > 0"),
        ({"hours": -1.0}, ValueError, "'hours'"),
        ({"hours": 0.0005}, ValueError, "shorter than one epoch"),
        ({"epoch_length": 3.3}, ValueError, "whole number of samples"),
        ({"sfreq": 100.0, "epoch_length": 2.005}, ValueError, "whole number of samples"),
        ({"epoch_length": 1.0}, ValueError, "epoch_length must be at least 2 s"),
        ({"sfreq": 16.0}, ValueError, "sfreq must be at least 32 Hz"),
        ({"sfreq": "fast"}, TypeError, "'sfreq' parameter must be a number"),
        ({"n_recordings": 0}, ValueError, "n_recordings must be >= 1"),
        ({"n_recordings": 1.5}, TypeError, "n_recordings must be an integer"),
        ({"artefact_rate": 1.5}, ValueError, r"artefact_rate must lie in \[0, 1\]"),
        ({"artefact_rate": -0.1}, ValueError, "'artefact_rate'"),
        ({"animal_variability": -1}, ValueError, "'animal_variability'"),
        ({"start_zt": 24}, ValueError, r"start_zt must lie in \[0, 24\)"),
        ({"random_state": "seed"}, TypeError, "random_state must be None"),
        ({"random_state": -3}, ValueError, "random_state must be non-negative"),
    ],
)
def test_invalid_parameters_raise_named_errors(kwargs, error, match):
    params = {"n_recordings": 1, "hours": 0.1, **kwargs}
    with pytest.raises(error, match=match):
        make_synthetic(**params)
