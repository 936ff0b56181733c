"""EDF+ annotation files (sleepstage.io.write_edf_annotations)."""

from __future__ import annotations

import datetime

import mne
import numpy as np
import pytest

from sleepstage.io import write_edf_annotations

STAGES = ["Sleep stage W", "Sleep stage 1", "Sleep stage R"]


def _header(path) -> dict:
    raw = path.read_bytes()
    return {"recording": raw[88:168].decode().rstrip(), "date": raw[168:176].decode(),
            "time": raw[176:184].decode(), "reserved": raw[192:236].decode().rstrip(),
            "n_records": raw[236:244].decode().rstrip(),
            "record_duration": raw[244:252].decode().rstrip(),
            "label": raw[256:272].decode().rstrip()}


def test_round_trip_and_header(tmp_path):
    start = datetime.datetime(2026, 3, 4, 22, 15, 7, 250_000)
    onsets, durations = [0.0, 30.5, 0.1 + 0.2], [30.0, 60.0, 0.0]
    path = write_edf_annotations(tmp_path / "h.edf", onsets, durations, STAGES, start=start)
    read = mne.read_annotations(path)
    order = np.argsort(onsets, kind="stable")  # readers list annotations by onset
    np.testing.assert_array_equal(read.onset, np.asarray(onsets)[order])
    np.testing.assert_array_equal(read.duration, np.asarray(durations)[order])
    assert list(read.description) == [STAGES[i] for i in order]
    # the layout of the Sleep-EDF hypnograms, the start to the second
    assert _header(path) == {"recording": "Startdate 04-MAR-2026 X X X", "date": "04.03.26",
                             "time": "22.15.07", "reserved": "EDF+C", "n_records": "1",
                             "record_duration": "0", "label": "EDF Annotations"}
    raw = mne.io.read_raw_edf(path, verbose="error")
    assert raw.info["meas_date"] == start.replace(microsecond=0, tzinfo=datetime.timezone.utc)


def test_unknown_start_and_no_annotations(tmp_path):
    path = write_edf_annotations(tmp_path / "empty.edf", [], [], [])
    header = _header(path)
    assert (header["recording"], header["date"], header["time"]) == (
        "Startdate X X X X", "01.01.85", "00.00.00")
    assert len(mne.read_annotations(path)) == 0


def test_refusals_and_atomic_writing(tmp_path):
    path = tmp_path / "h.edf"
    with pytest.raises(ValueError, match=r"onsets \(2\), durations \(1\) and descriptions"):
        write_edf_annotations(path, [0, 30], [30], STAGES[:2])
    with pytest.raises(ValueError, match="durations finite and >= 0"):
        write_edf_annotations(path, [0], [-1], STAGES[:1])
    with pytest.raises(ValueError, match="printable ASCII"):
        write_edf_annotations(path, [0], [30], ["Schlafstadium Wach\u00e4"])
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary file left
    write_edf_annotations(path, [0], [30], STAGES[:1])
    with pytest.raises(FileExistsError, match="force=True"):
        write_edf_annotations(path, [0], [30], STAGES[1:2])
    write_edf_annotations(path, [0], [30], STAGES[1:2], force=True)
    assert list(mne.read_annotations(path).description) == STAGES[1:2]
    assert [p.name for p in tmp_path.iterdir()] == ["h.edf"]
