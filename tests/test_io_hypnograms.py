"""Hypnograms in the package's CSV, EDF+, plain text and AccuSleePy's label CSV."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd
import pytest

from sleepstage.data import RK_TO_5CLASS, UNSCORED
from sleepstage.io import (
    ACCUSLEEP_CODES,
    HYPNOGRAM_FORMATS,
    EpochLengthUnknownError,
    hypnogram_format,
    read_hypnogram,
    write_edf_annotations,
    write_hypnogram,
)

SUFFIX = {"csv": ".csv", "edf": ".edf", "text": ".txt", "accusleep": ".csv"}
# unscored epochs at the start, inside and at the end; runs of one and several epochs
STAGES = np.array(["UNSCORED", "WAKE", "WAKE", "NREM", "NREM", "NREM", "REM", UNSCORED,
                   "REM", "WAKE", "NREM", "UNSCORED"])


def _write(tmp_path, fmt, stages=STAGES, name="hyp", **kwargs):
    path = tmp_path / f"{name}_{fmt}{SUFFIX[fmt]}"
    return write_hypnogram(path, stages, epoch_length=4, format=fmt, **kwargs)


@pytest.mark.parametrize("fmt", HYPNOGRAM_FORMATS)
def test_each_format_round_trips_with_unscored_epochs(tmp_path, fmt):
    path = _write(tmp_path, fmt)
    table = read_hypnogram(path, epoch_length=4)  # format from the content
    assert list(table.columns[:3]) == ["epoch", "onset", "stage"]
    assert table["stage"].tolist() == STAGES.tolist()
    assert table["epoch"].tolist() == list(range(len(STAGES)))
    np.testing.assert_allclose(table["onset"], np.arange(len(STAGES)) * 4.0)
    assert table.attrs["format"] == fmt and table.attrs["epoch_length"] == 4


@pytest.mark.parametrize(("source", "target"), list(itertools.permutations(HYPNOGRAM_FORMATS,
                                                                            2)))
def test_every_pair_of_formats_round_trips(tmp_path, source, target):
    first = read_hypnogram(_write(tmp_path, source, name="a"), epoch_length=4)
    path = tmp_path / f"b_{target}{SUFFIX[target]}"
    write_hypnogram(path, first, epoch_length=4, format=target)
    second = read_hypnogram(path, format=target, epoch_length=4)
    back = tmp_path / f"c_{source}{SUFFIX[source]}"
    write_hypnogram(back, second, epoch_length=4, format=source)
    third = read_hypnogram(back, format=source, epoch_length=4)
    for table in (second, third):
        assert table["stage"].tolist() == STAGES.tolist()
        np.testing.assert_allclose(table["onset"], np.arange(len(STAGES)) * 4.0)


def test_package_csv_keeps_its_other_columns_and_infers_the_epoch_length(tmp_path):
    table = pd.DataFrame({"epoch": [0, 1, 2], "onset": [0.0, 30.0, 60.0],
                          "stage": ["WAKE", "NREM", "REM"], "proba_WAKE": [0.9, 0.1, 0.2],
                          "confidence": [0.9, 0.8, 0.7], "scored": ["WAKE", "NREM", "NREM"]})
    table.to_csv(tmp_path / "p.csv", index=False)
    read = read_hypnogram(tmp_path / "p.csv")
    assert read.attrs["epoch_length"] == 30
    pd.testing.assert_frame_equal(read, table)
    write_hypnogram(tmp_path / "q.csv", read, epoch_length=30)
    pd.testing.assert_frame_equal(read_hypnogram(tmp_path / "q.csv"), table)


def test_a_hypnogram_starting_late_keeps_its_onsets_through_edf(tmp_path):
    onsets = 1800.0 + np.arange(len(STAGES)) * 30  # scoring starts 30 min into the recording
    write_hypnogram(tmp_path / "late.csv", STAGES, epoch_length=30, onsets=onsets)
    first = read_hypnogram(tmp_path / "late.csv")
    write_hypnogram(tmp_path / "late.edf", first, epoch_length=30)
    back = read_hypnogram(tmp_path / "late.edf", epoch_length=30)
    assert back["stage"].tolist() == STAGES.tolist()
    np.testing.assert_allclose(back["onset"], onsets)


def test_package_csv_with_gaps_keeps_its_onsets_and_edf_marks_the_gap_unscored(tmp_path):
    onsets = np.array([0.0, 4.0, 8.0, 20.0, 24.0])  # two epochs missing (an EDF+D gap)
    stages = ["WAKE", "WAKE", "NREM", "NREM", "REM"]
    write_hypnogram(tmp_path / "g.csv", stages, epoch_length=4, onsets=onsets)
    read = read_hypnogram(tmp_path / "g.csv", epoch_length=4)
    np.testing.assert_allclose(read["onset"], onsets)
    write_hypnogram(tmp_path / "g.edf", read, epoch_length=4)
    edf = read_hypnogram(tmp_path / "g.edf", epoch_length=4)
    assert edf["stage"].tolist() == ["WAKE", "WAKE", "NREM", UNSCORED, UNSCORED, "NREM", "REM"]
    with pytest.raises(ValueError, match="lists consecutive epochs, but the onsets jump from "
                                         "8 s to 20 s"):
        write_hypnogram(tmp_path / "g.txt", read, epoch_length=4)


def test_accusleep_file_has_their_codes_and_confidence(tmp_path):
    table = pd.DataFrame({"epoch": [0, 1, 2, 3], "onset": [0.0, 2.5, 5.0, 7.5],
                          "stage": ["REM", "WAKE", "NREM", UNSCORED],
                          "confidence": [0.5, 0.9, 0.75, 0.25]})
    path = write_hypnogram(tmp_path / "labels.csv", table, epoch_length=2.5,
                           format="accusleep")
    raw = pd.read_csv(path)
    assert raw.columns.tolist() == ["brain_state", "confidence_score"]
    assert raw["brain_state"].tolist() == [1, 2, 3, -1]
    assert ACCUSLEEP_CODES == {1: "REM", 2: "WAKE", 3: "NREM", -1: "UNSCORED"}
    read = read_hypnogram(path, epoch_length=2.5)
    assert read.attrs["format"] == "accusleep"
    pd.testing.assert_frame_equal(read, table)


def test_accusleep_file_of_another_set_up_reads_with_a_mapping(tmp_path):
    (tmp_path / "l.csv").write_text("brain_state\n1\n4\n2\n")
    with pytest.raises(ValueError, match=r"Unknown brain_state code 4 on line 3 of l\.csv"):
        read_hypnogram(tmp_path / "l.csv", epoch_length=4)
    mapping = {**ACCUSLEEP_CODES, 4: UNSCORED}
    assert read_hypnogram(tmp_path / "l.csv", epoch_length=4, mapping=mapping)[
        "stage"].tolist() == ["REM", UNSCORED, "WAKE"]


def test_accusleep_codes_are_integers_and_the_first_other_cell_is_named(tmp_path):
    (tmp_path / "s.csv").write_text("brain_state\n1\nREM\n3\n")
    with pytest.raises(ValueError, match=r"Unknown brain_state code 'REM' on line 3 of s\.csv"):
        read_hypnogram(tmp_path / "s.csv", epoch_length=4)
    (tmp_path / "b.csv").write_text("brain_state\n2\nTrue\n")  # a boolean is not code 1
    with pytest.raises(ValueError, match=r"Unknown brain_state code 'True' on line 3 of b\.csv"):
        read_hypnogram(tmp_path / "b.csv", epoch_length=4)
    (tmp_path / "f.csv").write_text("brain_state\n2.0\n-1\n1\n")  # as pandas writes floats
    assert read_hypnogram(tmp_path / "f.csv", epoch_length=4)["stage"].tolist() == [
        "WAKE", UNSCORED, "REM"]
    for odd in ("1e0", "1_0", "\uff12"):  # float syntax and non-ASCII digits are no codes
        (tmp_path / "o.csv").write_text(f"brain_state\n2\n{odd}\n", encoding="utf-8")
        with pytest.raises(ValueError, match=rf"Unknown brain_state code '{odd}' on line 3"):
            read_hypnogram(tmp_path / "o.csv", epoch_length=4)
    (tmp_path / "w.csv").write_text("brain_state\nW\nR\n")  # text labels, with a mapping
    assert read_hypnogram(tmp_path / "w.csv", epoch_length=4, mapping={
        "W": "WAKE", "R": "REM"})["stage"].tolist() == ["WAKE", "REM"]


def test_a_blank_line_between_rows_is_refused_not_skipped(tmp_path):
    # skipped, it would move every later AccuSleePy epoch one place earlier
    (tmp_path / "b.csv").write_text("brain_state,confidence_score\n2,0.9\n\n3,0.8\n1,0.7\n")
    with pytest.raises(ValueError, match=r"Missing brain_state on line 3 of b\.csv"):
        read_hypnogram(tmp_path / "b.csv", epoch_length=4)
    (tmp_path / "p.csv").write_text("epoch,onset,stage\n0,0,WAKE\n1,4,WAKE\n \n2,8,NREM\n")
    with pytest.raises(ValueError, match=r"Column 'epoch' of p\.csv must hold numbers: line 4 "
                                         "leaves it empty"):
        read_hypnogram(tmp_path / "p.csv")
    # blank lines before the header or after the last row are no epochs
    (tmp_path / "t.csv").write_text("\nbrain_state\n2\n3\n\n\n")
    assert read_hypnogram(tmp_path / "t.csv", epoch_length=4)["stage"].tolist() == [
        "WAKE", "NREM"]
    (tmp_path / "q.csv").write_text("epoch,onset,stage\n0,0,WAKE\n1,4,REM\n\n")
    assert read_hypnogram(tmp_path / "q.csv")["stage"].tolist() == ["WAKE", "REM"]


def test_accusleep_file_without_epochs_is_refused_like_a_csv(tmp_path):
    for name, header in (("a.csv", "brain_state,confidence_score"),
                         ("c.csv", "epoch,onset,stage")):
        (tmp_path / name).write_text(f"{header}\n\n")
        with pytest.raises(ValueError, match=rf"{name[0]}\.csv holds no epoch"):
            read_hypnogram(tmp_path / name, epoch_length=4)


def test_text_accepts_any_case_and_writes_canonical_names(tmp_path):
    (tmp_path / "t.txt").write_text("wake\nNrem\n\nREM\n\n")
    with pytest.raises(ValueError, match=r"Unknown stage '' on line 3 of t\.txt"):
        read_hypnogram(tmp_path / "t.txt", epoch_length=4)
    (tmp_path / "t.txt").write_text("wake\nNrem\nREM\n\n")  # trailing blank lines are fine
    read = read_hypnogram(tmp_path / "t.txt", epoch_length=4)
    assert read["stage"].tolist() == ["WAKE", "NREM", "REM"]


def test_edf_keeps_the_start_and_expands_annotations_into_epochs(tmp_path):
    start = dt.datetime(2024, 3, 1, 19, 30, 0)
    write_edf_annotations(tmp_path / "h.edf", [0, 60, 90, 95], [60, 30, 0, 30],
                          ["Sleep stage W", "Sleep stage 3", "Lights on", "Sleep stage R"],
                          start=start)
    with pytest.raises(ValueError, match=r"epoch length 30 s does not divide the annotations "
                                         r"of h\.edf: 'Sleep stage R' at 95 s lasts 30 s"):
        read_hypnogram(tmp_path / "h.edf", epoch_length=30)
    with pytest.raises(ValueError, match="does not record its epoch length"):
        read_hypnogram(tmp_path / "h.edf")
    read = read_hypnogram(tmp_path / "h.edf", epoch_length=5)  # events of duration 0 skipped
    assert read.attrs["start"] == start
    assert read["stage"].tolist() == ["WAKE"] * 12 + ["NREM"] * 6 + [UNSCORED] + ["REM"] * 6
    five = read_hypnogram(tmp_path / "h.edf", epoch_length=5, mapping=RK_TO_5CLASS)
    assert set(five["stage"]) == {"WAKE", "N3", "REM", UNSCORED}
    write_hypnogram(tmp_path / "copy.edf", read, epoch_length=5)  # start from attrs
    assert read_hypnogram(tmp_path / "copy.edf", epoch_length=5).attrs["start"] == start


def test_edf_keeps_a_start_with_a_fraction_of_a_second(tmp_path):
    import mne

    start = dt.datetime(2024, 1, 1, 18, 30, 0, 500000)  # header: 18.30.00, offset: 0.5 s
    path = write_hypnogram(tmp_path / "h.edf", ["WAKE", "WAKE", "REM"], epoch_length=4,
                           start=start)
    read = read_hypnogram(path, epoch_length=4)
    assert read.attrs["start"] == start
    assert read["onset"].tolist() == [0.0, 4.0, 8.0]
    assert mne.read_annotations(path).onset.tolist() == [0.0, 8.0]  # from the start itself


def test_edf_unknown_annotation_is_named_with_its_place(tmp_path):
    write_edf_annotations(tmp_path / "u.edf", [0, 30], [30, 30],
                          ["Sleep stage W", "Stage Foo"])
    with pytest.raises(ValueError, match=r"Unknown annotation 'Stage Foo' at 30 s "
                                         r"\(annotation 2\) in u.edf"):
        read_hypnogram(tmp_path / "u.edf", epoch_length=30)


def test_edf_rk_stages_read_as_three_or_five_classes(tmp_path):
    texts = ["Sleep stage W", "Sleep stage 1", "Sleep stage 2", "Sleep stage 3",
             "Sleep stage 4", "Sleep stage R", "Sleep stage N"]  # the last: package-written
    write_edf_annotations(tmp_path / "rk.edf", np.arange(7) * 30.0, [30] * 7, texts)
    three = read_hypnogram(tmp_path / "rk.edf", epoch_length=30)
    assert three["stage"].tolist() == ["WAKE"] + ["NREM"] * 4 + ["REM", "NREM"]
    five = read_hypnogram(tmp_path / "rk.edf", epoch_length=30, stages=5)
    assert five["stage"].tolist() == ["WAKE", "N1", "N2", "N3", "N3", "REM", "NREM"]
    with pytest.raises(ValueError, match="'stages' parameter"):
        read_hypnogram(tmp_path / "rk.edf", epoch_length=30, stages=4)


def test_sleep_edf_hypnogram_matches_load_sleep_edf(sleep_edf_files, data_dir):
    from sleepstage.data import load_sleep_edf

    _, hypnogram_path = sleep_edf_files
    table = read_hypnogram(hypnogram_path, epoch_length=30)
    assert table.attrs["format"] == "edf" and table.attrs["start"] is not None
    data = load_sleep_edf(path=data_dir, channels=["EEG Fpz-Cz"])
    stages = table.set_index("onset")["stage"].reindex(np.asarray(data.onsets))
    assert stages.notna().all()
    assert stages.tolist() == np.asarray(data.y).tolist()
    assert UNSCORED in set(table["stage"])  # what the loader drops, the reader keeps


@pytest.mark.parametrize(("content", "name", "message"), [
    ("epoch,onset,stage\n0,0,WAKE\n1,4,Deep\n", "s.csv", "Unknown stage 'Deep' on line 3"),
    ("epoch,onset,stage\n0,0,WAKE\n2,8,REM\n1,4,NREM\n", "o.csv",
     "Epochs out of order in o.csv: line 4 has epoch 1 after 2"),
    ("epoch,onset,stage\n0,0,WAKE\n1,6,REM\n", "l.csv",
     r"do not fit 4-s epochs \(as given\): line 3"),
    ("epoch,onset,stage\n0,0,WAKE\n1,x,REM\n", "n.csv", "line 3 has 'x'"),
    ("time,label\n0,W\n", "x.csv", "not a hypnogram in any known format"),
    ("brain_state\n2\n", "a.txt", "named like a 'text' file but holds a 'accusleep'"),
    ("WAKE\nREM\n", "w.txt", "does not record its epoch length"),
])
def test_bad_files_are_refused_with_what_is_wrong(tmp_path, content, name, message):
    (tmp_path / name).write_text(content)
    epoch_length = None if name == "w.txt" else 4
    with pytest.raises(ValueError, match=message):
        read_hypnogram(tmp_path / name, epoch_length=epoch_length)


def test_binary_file_and_missing_file_are_refused(tmp_path):
    (tmp_path / "b.csv").write_bytes(b"\xff\xfe\x00\x01" * 10)
    with pytest.raises(ValueError, match="not a hypnogram in any known format"):
        read_hypnogram(tmp_path / "b.csv", epoch_length=4)
    with pytest.raises(ValueError, match="Hypnogram file not found"):
        read_hypnogram(tmp_path / "none.csv")
    with pytest.raises(ValueError, match="Allowed values are 'csv', 'edf', 'text', "
                                         "'accusleep', but got 'xml'"):
        read_hypnogram(tmp_path / "b.csv", format="xml")


def test_write_refuses_what_a_format_cannot_hold_and_never_clobbers(tmp_path):
    with pytest.raises(ValueError, match=r"Stage\(s\) 'N2' have no code in the 'accusleep'"):
        write_hypnogram(tmp_path / "a.csv", ["WAKE", "N2"], epoch_length=30,
                        format="accusleep")
    with pytest.raises(ValueError, match=r"Unknown stage\(s\) 'Deep'"):
        write_hypnogram(tmp_path / "a.csv", ["WAKE", "Deep"], epoch_length=30)
    with pytest.raises(ValueError, match=r"from its suffix '\.tsv'"):
        write_hypnogram(tmp_path / "a.tsv", ["WAKE"], epoch_length=30)
    with pytest.raises(ValueError, match="onsets must increase"):
        write_hypnogram(tmp_path / "a.csv", ["WAKE", "REM"], epoch_length=30, onsets=[30, 0])
    assert not list(tmp_path.iterdir())
    write_hypnogram(tmp_path / "a.txt", ["WAKE"], epoch_length=30)
    with pytest.raises(FileExistsError, match="already exist"):
        write_hypnogram(tmp_path / "a.txt", ["REM"], epoch_length=30)
    assert (tmp_path / "a.txt").read_text() == "WAKE\n"
    write_hypnogram(tmp_path / "a.txt", ["REM"], epoch_length=30, force=True)
    assert (tmp_path / "a.txt").read_text() == "REM\n"


def test_format_from_suffix_and_content(tmp_path):
    assert hypnogram_format(tmp_path / "x.csv", reading=False) == "csv"
    assert hypnogram_format(tmp_path / "x.EDF", reading=False) == "edf"
    assert hypnogram_format(tmp_path / "x.txt", reading=False) == "text"
    (tmp_path / "labels.csv").write_text("brain_state,confidence_score\n1,0.5\n")
    assert hypnogram_format(tmp_path / "labels.csv") == "accusleep"
    (tmp_path / "stages").write_text("NREM\n")
    assert hypnogram_format(tmp_path / "stages") == "text"


def test_csv_with_a_recording_column_is_checked_within_each_recording(tmp_path):
    table = pd.DataFrame({"recording": ["a"] * 3 + ["b"] * 4,
                          "epoch": [0, 1, 2, 0, 1, 2, 3],
                          "onset": [0.0, 4.0, 8.0, 0.0, 4.0, 8.0, 12.0],
                          "stage": ["WAKE", "NREM", "rem", "UNSCORED", "N1", "N2", "N3"]})
    table.to_csv(tmp_path / "two.csv", index=False)
    for epoch_length in (None, 4):  # inferred from the steps within recordings, or checked
        read = read_hypnogram(tmp_path / "two.csv", epoch_length=epoch_length)
        assert read.attrs["epoch_length"] == 4
        assert read["recording"].tolist() == table["recording"].tolist()
        assert read["stage"].tolist() == ["WAKE", "NREM", "REM", UNSCORED, "N1", "N2", "N3"]
    # without the column, the same rows are out of order where the second recording starts
    table.drop(columns="recording").to_csv(tmp_path / "one.csv", index=False)
    with pytest.raises(ValueError, match=r"Epochs out of order in one\.csv: line 5 has epoch 0 "
                                         "after 2"):
        read_hypnogram(tmp_path / "one.csv")
    # a recording out of order is named, with the line
    bad = table.copy()
    bad.loc[5, "onset"] = 2.0
    bad.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match=r"Epochs out of order in bad\.csv \(recording 'b'\): "
                                         "line 7 has onset 2 after 4"):
        read_hypnogram(tmp_path / "bad.csv")
    # the rows of a recording must be together, and every row needs a recording
    table.iloc[[0, 3, 1, 2, 4, 5, 6]].to_csv(tmp_path / "mixed.csv", index=False)
    with pytest.raises(ValueError, match=r"recording 'a' in mixed\.csv are not together: it "
                                         "continues on line 4"):
        read_hypnogram(tmp_path / "mixed.csv")
    table.assign(recording=["a", "a", None, "b", "b", "b", "b"]).to_csv(tmp_path / "n.csv",
                                                                        index=False)
    with pytest.raises(ValueError, match=r"Line 4 of n\.csv has no recording"):
        read_hypnogram(tmp_path / "n.csv")
    # one epoch per recording: nothing to infer the epoch length from
    table.iloc[[0, 3]].to_csv(tmp_path / "single.csv", index=False)
    with pytest.raises(EpochLengthUnknownError,
                       match=r"single\.csv: it holds one epoch per recording, so its onsets "
                             r"show no epoch length; give it in seconds \(epoch_length=\)"):
        read_hypnogram(tmp_path / "single.csv")
    assert read_hypnogram(tmp_path / "single.csv", epoch_length=30).attrs["epoch_length"] == 30


def test_csv_missing_a_column_or_a_stage_is_named(tmp_path):
    (tmp_path / "c.csv").write_text("epoch,stage\n0,WAKE\n")
    with pytest.raises(ValueError, match=r"c\.csv has no column onset"):
        read_hypnogram(tmp_path / "c.csv")
    (tmp_path / "e.csv").write_text("epoch,onset,stage\n0,0,WAKE\n1,4,\n2,8,\n")
    with pytest.raises(ValueError, match=r"2 epoch\(s\) of e\.csv have no stage \(first on "
                                         r"line 3\): write UNSCORED"):
        read_hypnogram(tmp_path / "e.csv")


def test_epoch_length_unknown_is_its_own_value_error(tmp_path):
    (tmp_path / "one.csv").write_text("epoch,onset,stage\n0,0,WAKE\n")
    (tmp_path / "w.txt").write_text("WAKE\nREM\n")
    for name, reason in (("one.csv", "it holds one epoch, so its onsets show no epoch length"),
                         ("w.txt", "a 'text' hypnogram does not record its epoch length")):
        with pytest.raises(EpochLengthUnknownError) as info:
            read_hypnogram(tmp_path / name)
        assert isinstance(info.value, ValueError)
        assert info.value.reason == reason and info.value.path == tmp_path / name
        assert str(info.value) == f"{name}: {reason}; give it in seconds (epoch_length=)."
    assert read_hypnogram(tmp_path / "one.csv", epoch_length=4).attrs["epoch_length"] == 4


def test_inferred_epoch_length_is_checked_against_every_step(tmp_path):
    # a step of 2 s among 4-s epochs: refused, naming the file and line
    (tmp_path / "m.csv").write_text("epoch,onset,stage\n0,0,NREM\n1,4,NREM\n2,8,NREM\n"
                                    "3,10,NREM\n")
    with pytest.raises(ValueError, match=r"onsets of m\.csv do not fit 4-s epochs \(the most "
                                         r"common step between onsets\): line 5 starts 2 s"):
        read_hypnogram(tmp_path / "m.csv")
    # the same within a recording names the recording
    rows = [("a", i, 4.0 * i) for i in range(4)] + [("b", 0, 0.0), ("b", 1, 4.0), ("b", 2, 6.0)]
    # (b's steps 4 and 2 are as common: the file's length wins the tie)
    table = pd.DataFrame(rows, columns=["recording", "epoch", "onset"]).assign(stage="NREM")
    table.to_csv(tmp_path / "r.csv", index=False)
    with pytest.raises(ValueError, match=r"onsets of r\.csv \(recording 'b'\) do not fit 4-s "
                                         r"epochs .*line 8 starts 2 s"):
        read_hypnogram(tmp_path / "r.csv")
    # recording b in 30-s epochs among 4-s ones: one file holds one epoch length
    rows = ([("a", i, 4.0 * i) for i in range(50)] + [("b", i, 30.0 * i) for i in range(10)])
    table = pd.DataFrame(rows, columns=["recording", "epoch", "onset"]).assign(stage="WAKE")
    table.to_csv(tmp_path / "mixed_len.csv", index=False)
    with pytest.raises(ValueError, match=r"Recording 'b' of mixed_len\.csv has 30-s epochs "
                                         r"\(line 53 starts 30 s .*most common epoch length is "
                                         r"4 s: one file holds one epoch length; write one "
                                         r"file per epoch length"):
        read_hypnogram(tmp_path / "mixed_len.csv")
    # also when b's steps are whole numbers of a's (8-s epochs would read as 4-s with gaps)
    rows = ([("a", i, 4.0 * i) for i in range(50)] + [("b", i, 8.0 * i) for i in range(10)])
    pd.DataFrame(rows, columns=["recording", "epoch", "onset"]).assign(stage="WAKE").to_csv(
        tmp_path / "eights.csv", index=False)
    with pytest.raises(ValueError, match=r"Recording 'b' of eights\.csv has 8-s epochs"):
        read_hypnogram(tmp_path / "eights.csv")
    # gaps of whole epochs stay allowed, and a given length is checked the same way
    (tmp_path / "gap.csv").write_text("epoch,onset,stage\n0,0,WAKE\n1,4,WAKE\n2,8,NREM\n"
                                      "5,20,NREM\n")
    assert read_hypnogram(tmp_path / "gap.csv").attrs["epoch_length"] == 4
    with pytest.raises(ValueError, match=r"\(recording 'b'\) do not fit 4-s epochs "
                                         r"\(as given\)"):
        read_hypnogram(tmp_path / "mixed_len.csv", epoch_length=4)


def test_a_given_epoch_length_must_be_the_most_common_step(tmp_path):
    # 4-s onsets read with 2-s epochs would be every other epoch missing
    (tmp_path / "h.csv").write_text("epoch,onset,stage\n0,0,WAKE\n1,4,WAKE\n2,8,NREM\n"
                                    "3,12,NREM\n7,28,REM\n")
    with pytest.raises(ValueError, match=r"The epoch length given for h\.csv, 2 s, is not the "
                                         r"most common step between its onsets, 4 s: give "):
        read_hypnogram(tmp_path / "h.csv", epoch_length=2)
    assert read_hypnogram(tmp_path / "h.csv", epoch_length=4).attrs["epoch_length"] == 4
    # checked in each recording; a tie goes to the given length; one epoch has no step
    rows = ([("a", 0, 0.0), ("a", 1, 4.0), ("a", 3, 12.0), ("c", 0, 0.0)]
            + [("b", i, 8.0 * i) for i in range(4)])
    table = pd.DataFrame(rows, columns=["recording", "epoch", "onset"]).assign(stage="WAKE")
    table.to_csv(tmp_path / "r.csv", index=False)
    with pytest.raises(ValueError, match=r"given for r\.csv \(recording 'b'\), 4 s, is not "
                                         r"the most common step between its onsets, 8 s"):
        read_hypnogram(tmp_path / "r.csv", epoch_length=4)
    table.iloc[:4].to_csv(tmp_path / "ac.csv", index=False)
    assert read_hypnogram(tmp_path / "ac.csv", epoch_length=4).attrs["epoch_length"] == 4


def test_recording_ids_keep_their_text(tmp_path):
    (tmp_path / "zeros.csv").write_text("recording,epoch,onset,stage\n001,0,0,NREM\n"
                                        "001,1,4,NREM\n002,0,0,WAKE\n002,1,4,WAKE\n")
    (tmp_path / "floats.csv").write_text("recording,epoch,onset,stage\n1.5,0,0,NREM\n"
                                         "1.5,1,4,NREM\n2,0,0,WAKE\n2,1,4,WAKE\n")
    (tmp_path / "na.csv").write_text("recording,epoch,onset,stage\nNA,0,0,WAKE\nNA,1,4,NREM\n"
                                     "None,0,0,WAKE\nNone,1,4,REM\n WT1,0,0,WAKE\nWT1,1,4,NREM\n")
    for name, ids in (("zeros", ["001", "002"]), ("floats", ["1.5", "2"]),
                      ("na", ["NA", "None", "WT1"])):
        read = read_hypnogram(tmp_path / f"{name}.csv")
        assert list(dict.fromkeys(read["recording"])) == ids
        assert all(isinstance(r, str) for r in read["recording"])
    # only an empty cell is a missing id; an empty or NA stage is still an epoch without one
    (tmp_path / "gap.csv").write_text("recording,epoch,onset,stage\nNA,0,0,WAKE\n,1,4,NREM\n")
    with pytest.raises(ValueError, match=r"Line 3 of gap\.csv has no recording"):
        read_hypnogram(tmp_path / "gap.csv")
    (tmp_path / "st.csv").write_text("recording,epoch,onset,stage\nNA,0,0,WAKE\nNA,1,4,NA\n")
    with pytest.raises(ValueError, match=r"1 epoch\(s\) of st\.csv have no stage \(first on "
                                         r"line 3\)"):
        read_hypnogram(tmp_path / "st.csv")
