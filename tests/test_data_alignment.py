"""Where epochs lie in time: hypnograms aligned by their header start, EDF+D gaps honoured."""

from __future__ import annotations

import datetime

import mne
import numpy as np
import pytest
from _edf_files import START, write_edf

from sleepstage.data import read_edf
from sleepstage.io import write_edf_annotations

SFREQ = 10  # Hz: small files, 300 samples per 30-s epoch
HOUR = datetime.timedelta(hours=1)


@pytest.fixture(scope="module")
def psg(tmp_path_factory):
    """A 2-h plain EDF starting at START whose EEG value is the time in seconds (uV)."""
    seconds = np.arange(2 * 3600 * SFREQ) / SFREQ
    path = tmp_path_factory.mktemp("psg") / "night.edf"
    return write_edf(path, np.vstack([seconds, -seconds]), SFREQ, ["EEG Cz", "EMG chin"],
                     phys=7300)


def hypnogram(path, start, onsets=(0, 600), durations=(600, 600),
              stages=("Sleep stage W", "Sleep stage 2")):
    return write_edf_annotations(path, onsets, durations, stages, start=start)


def seconds(data):
    """The time encoded in each epoch's first EEG sample (s)."""
    return data.X[:, 0, 0].astype(float) * 1e6


# -- item 2: the hypnogram's own start time -------------------------------------------------
def test_hypnogram_starting_one_hour_later_is_placed_an_hour_later(psg, tmp_path):
    late = hypnogram(tmp_path / "late-Hypnogram.edf", START + HOUR)
    data = read_edf(psg, late)
    assert data.onsets[0] == 3600.0 and data.n_epochs == 40
    assert data.y[:20].tolist() == ["WAKE"] * 20 and data.y[20:].tolist() == ["NREM"] * 20
    np.testing.assert_allclose(seconds(data), data.onsets, atol=0.3)


def test_hypnogram_starting_at_the_psg_start(psg, tmp_path):
    data = read_edf(psg, hypnogram(tmp_path / "same-Hypnogram.edf", START))
    assert data.onsets[0] == 0.0 and data.onsets[-1] == 1170.0


def test_hypnogram_starting_before_the_psg_is_cut(psg, tmp_path):
    early = hypnogram(tmp_path / "early-Hypnogram.edf", START - datetime.timedelta(minutes=5))
    data = read_edf(psg, early)
    # the first 5 min of the scoring precede the recording
    assert data.onsets[0] == 0.0 and data.n_epochs == 30
    assert (data.y == "WAKE").sum() == 10


def test_hypnogram_of_another_night_is_refused(psg, tmp_path):
    other = hypnogram(tmp_path / "other-Hypnogram.edf", START + 24 * HOUR)
    with pytest.raises(ValueError, match=r"other-Hypnogram\.edf .* does not overlap the "
                                         r"recording night\.edf.*hypnogram's header starts at "
                                         r"2020-01-02 22:00:00, the recording's at "
                                         r"2020-01-01 22:00:00"):
        read_edf(psg, other)


def test_hypnogram_without_start_counts_from_the_psg_start(psg, tmp_path):
    # an EDF+ file whose recording field says 'Startdate X' has no known start
    unknown = hypnogram(tmp_path / "nodate-Hypnogram.edf", None, onsets=(60,), durations=(60,),
                        stages=("Sleep stage R",))
    data = read_edf(psg, unknown)
    assert data.onsets.tolist() == [60.0, 90.0] and data.y.tolist() == ["REM", "REM"]


def test_psg_without_known_date_counts_from_its_start(tmp_path):
    seconds_ = np.arange(600 * SFREQ) / SFREQ
    path = write_edf(tmp_path / "undated.edf", np.vstack([seconds_, seconds_]), SFREQ,
                     ["EEG Cz", "EMG chin"], edf_plus=True, date_known=False, phys=700)
    # the hypnogram's date is known, the recording's is not: onsets count from the PSG start
    dated = hypnogram(tmp_path / "dated-Hypnogram.edf", START + 24 * HOUR, onsets=(60,),
                      durations=(60,), stages=("Sleep stage R",))
    data = read_edf(path, dated)
    assert data.onsets.tolist() == [60.0, 90.0]
    assert data.X.flags.c_contiguous


@pytest.fixture
def sc4001_hypnogram_copy(sleep_edf_files, tmp_path):
    def doctor(start: bytes, date: bytes | None = None, year: bytes | None = None):
        source = sleep_edf_files[1].read_bytes()
        assert source[168:184] == b"24.04.8916.13.00"  # the real start: same as the PSG's
        doctored = bytearray(source)
        doctored[176:184] = start
        if date is not None:
            doctored[168:176] = date
            doctored[88:168] = f"Startdate 24-APR-{year.decode()} X X X".ljust(80).encode()
        path = tmp_path / "SC4001EC-Hypnogram.edf"
        path.write_bytes(bytes(doctored))
        return path

    return doctor


def test_sc4001_hypnogram_header_shifts_the_real_night(sleep_edf_files, sc4001_hypnogram_copy):
    psg, _ = sleep_edf_files
    late = sc4001_hypnogram_copy(b"17.13.00")
    data = read_edf(psg, late, channels=["EEG Fpz-Cz"], keep_wake_minutes=30)
    # the real night (test_data_edf) keeps 840 epochs from 28830 s; one hour later here
    assert data.onsets[0] == 28830 + 3600
    assert mne.io.read_raw_edf(psg, verbose="error").info["meas_date"].year == 1989


def test_sc4001_hypnogram_of_2020_is_refused(sleep_edf_files, sc4001_hypnogram_copy):
    psg, _ = sleep_edf_files
    other = sc4001_hypnogram_copy(b"16.13.00", b"24.04.20", b"2020")
    with pytest.raises(ValueError, match=r"header starts at 2020-04-24 16:13:00, the "
                                         r"recording's at 1989-04-24 16:13:00"):
        read_edf(psg, other, channels=["EEG Fpz-Cz"])


# -- item 3: discontinuous EDF+ (EDF+D) ------------------------------------------------------
def gapped_psg(path, sfreq=100):
    """EDF+D: 120 s from 0 s, then 120 s from 3735 s (a 1-h gap; not on the 30-s grid).

    The EEG value of each sample is its true time in seconds (in uV).
    """
    onsets = np.concatenate([np.arange(120.0), 3735 + np.arange(120.0)])
    true_time = (onsets[:, None] + np.arange(sfreq) / sfreq).ravel()
    return write_edf(path, np.vstack([true_time, np.ones_like(true_time)]), sfreq,
                     ["EEG Cz", "EMG chin"], record_onsets=onsets, phys=4000)


def test_edf_plus_d_epochs_keep_their_true_times(tmp_path):
    path = gapped_psg(tmp_path / "gapped.edf")
    data = read_edf(path)
    # 4 epochs before the gap; after it the grid resumes at 3750 s (3735-3750 is a partial
    # epoch) and the epoch at 3840 s would run past the end of the signal at 3855 s
    assert data.onsets.tolist() == [0.0, 30.0, 60.0, 90.0, 3750.0, 3780.0, 3810.0]
    np.testing.assert_allclose(seconds(data), data.onsets, atol=0.3)
    # every sample of an epoch is contiguous in time: no epoch straddles the gap
    within = data.X[:, 0].astype(float) * 1e6 - data.onsets[:, None]
    np.testing.assert_allclose(within, np.broadcast_to(np.arange(3000) / 100, within.shape),
                               atol=0.3)


def test_edf_plus_d_with_hypnogram_and_resampling(tmp_path):
    path = gapped_psg(tmp_path / "gapped.edf")
    hyp = write_edf_annotations(tmp_path / "gapped-Hypnogram.edf", [0, 3720], [120, 150],
                                ["Sleep stage W", "Sleep stage R"], start=START)
    data = read_edf(path, hyp, resample=50)
    assert data.onsets.tolist() == [0.0, 30.0, 60.0, 90.0, 3750.0, 3780.0, 3810.0]
    assert data.y.tolist() == ["WAKE"] * 4 + ["REM"] * 3
    assert data.X.shape == (7, 2, 1500)
    np.testing.assert_allclose(seconds(data), data.onsets, atol=0.5)


def test_edf_plus_d_without_annotation_signal_is_refused(tmp_path):
    path = gapped_psg(tmp_path / "gapped.edf")
    raw = bytearray(path.read_bytes())
    n_signals = int(raw[252:256])
    label = 256 + 16 * (n_signals - 1)
    raw[label : label + 16] = b"Marker          "
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"gapped\.edf is a discontinuous EDF\+ file \(EDF\+D\) "
                                         "without an 'EDF Annotations' signal"):
        read_edf(path, channels=["EEG Cz"])


def test_edf_plus_c_reads_as_before(tmp_path):
    true_time = np.arange(120 * 100) / 100
    path = write_edf(tmp_path / "cont.edf", np.vstack([true_time, true_time]), 100,
                     ["EEG Cz", "EMG chin"], edf_plus=True, phys=4000)
    data = read_edf(path)
    assert data.onsets.tolist() == [0.0, 30.0, 60.0, 90.0]
    np.testing.assert_allclose(seconds(data), data.onsets, atol=0.3)
