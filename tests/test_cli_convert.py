"""``sleepstage convert``: hypnograms between the package's CSV, EDF+, text and AccuSleePy."""

from __future__ import annotations

import datetime as dt
import itertools

import pandas as pd
import pytest
from _cli_runner import run_main

from sleepstage.io import HYPNOGRAM_FORMATS, read_hypnogram, write_hypnogram

SUFFIX = {"csv": ".csv", "edf": ".edf", "text": ".txt", "accusleep": ".csv"}
STAGES = ["UNSCORED", "WAKE", "WAKE", "NREM", "NREM", "REM", "UNSCORED", "WAKE"]


@pytest.mark.parametrize(("source", "target"),
                         list(itertools.permutations(HYPNOGRAM_FORMATS, 2)))
def test_convert_every_pair_and_back(capsys, tmp_path, source, target):
    first = write_hypnogram(tmp_path / f"in{SUFFIX[source]}", STAGES, epoch_length=4,
                            format=source)
    out = tmp_path / f"out{SUFFIX[target]}"
    to = ["--to", "accusleep"] if target == "accusleep" else []
    status, stdout, err = run_main(capsys, "convert", first, "-o", out, "--epoch-length", 4,
                                   *to)
    assert status == 0, err
    assert f"({source}) -> {out} ({target}): 8 epochs of 4 s" in stdout
    back = tmp_path / f"back{SUFFIX[source]}"
    status, _, err = run_main(capsys, "convert", out, "-o", back, "--epoch-length", "4",
                              "--from", target, "--to", source)
    assert status == 0, err
    assert read_hypnogram(back, epoch_length=4)["stage"].tolist() == STAGES


def test_convert_predict_csv_to_accusleep_keeps_confidence(capsys, tmp_path):
    table = pd.DataFrame({"epoch": [0, 1, 2], "onset": [0.0, 4.0, 8.0],
                          "stage": ["WAKE", "NREM", "REM"], "proba_WAKE": [0.9, 0.2, 0.1],
                          "confidence": [0.9, 0.7, 0.6]})
    table.to_csv(tmp_path / "m_hypnogram.csv", index=False)
    status, _, err = run_main(capsys, "convert", tmp_path / "m_hypnogram.csv",
                              "-o", tmp_path / "labels.csv", "--to", "accusleep")
    assert status == 0, err
    labels = pd.read_csv(tmp_path / "labels.csv")
    assert labels["brain_state"].tolist() == [2, 3, 1]
    assert labels["confidence_score"].tolist() == [0.9, 0.7, 0.6]


def test_convert_sleep_edf_hypnogram_to_text(capsys, tmp_path, sleep_edf_files):
    _, hypnogram_path = sleep_edf_files
    status, stdout, err = run_main(capsys, "convert", hypnogram_path, "-o",
                                   tmp_path / "SC4001.txt", "--epoch-length", "30")
    assert status == 0, err
    lines = (tmp_path / "SC4001.txt").read_text().splitlines()
    assert len(lines) == 2880 and set(lines) == {"WAKE", "NREM", "REM", "UNSCORED"}
    assert "2880 epochs of 30 s" in stdout
    status, _, err = run_main(capsys, "convert", hypnogram_path, "-o", tmp_path / "5.txt",
                              "--epoch-length", "30", "--stages", "5")
    assert status == 0, err
    assert set((tmp_path / "5.txt").read_text().splitlines()) == {
        "WAKE", "N1", "N2", "N3", "REM", "UNSCORED"}


def test_convert_sets_the_start_of_an_edf(capsys, tmp_path):
    write_hypnogram(tmp_path / "s.txt", STAGES, epoch_length=4)
    status, _, err = run_main(capsys, "convert", tmp_path / "s.txt", "-o", tmp_path / "s.edf",
                              "--epoch-length", "4", "--start", "2024-03-01T19:30:00")
    assert status == 0, err
    read = read_hypnogram(tmp_path / "s.edf", epoch_length=4)
    assert read.attrs["start"] == dt.datetime(2024, 3, 1, 19, 30)
    status, _, err = run_main(capsys, "convert", tmp_path / "s.txt", "-o", tmp_path / "t.edf",
                              "--epoch-length", "4", "--start", "evening")
    assert status == 2 and "not an ISO date and time" in err


@pytest.mark.parametrize(("args", "status", "message"), [
    (["in.txt", "-o", "out.csv"], 2,
     "Hypnogram in.txt: a 'text' hypnogram does not record its epoch length; give "
     "--epoch-length"),
    (["one.csv", "-o", "out.txt"], 2,
     "Hypnogram one.csv: it holds one epoch, so its onsets show no epoch length; give "
     "--epoch-length"),
    (["two.csv", "-o", "out.txt"], 2,
     "two.csv holds 2 recordings (a, b); convert one recording at a time"),
    (["in.txt", "-o", "out.tsv", "--epoch-length", "4"], 1, "from its suffix '.tsv'"),
    (["bad.txt", "-o", "out.csv", "--epoch-length", "4"], 1, "Unknown stage 'Deep' on line 2"),
    (["in.txt", "-o", "in.txt", "--epoch-length", "4"], 1,
     "Cannot write in.txt: it is the same file as the input in.txt"),
    (["in.txt", "-o", "in.txt", "--epoch-length", "4", "--force"], 1,
     "Cannot write in.txt: it is the same file as the input in.txt"),
    (["in.txt", "-o", "bad.txt", "--epoch-length", "4"], 1,
     "already exist: bad.txt. Use --force to overwrite"),
    (["missing.txt", "-o", "out.csv", "--epoch-length", "4"], 1, "Hypnogram file not found"),
])
def test_convert_errors_are_one_line_and_write_nothing(capsys, tmp_path, monkeypatch, args,
                                                       status, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.txt").write_text("WAKE\nREM\n")
    (tmp_path / "bad.txt").write_text("WAKE\nDeep\n")
    (tmp_path / "one.csv").write_text("epoch,onset,stage\n0,0,WAKE\n")
    (tmp_path / "two.csv").write_text("recording,epoch,onset,stage\na,0,0,WAKE\na,1,4,NREM\n"
                                      "b,0,0,REM\nb,1,4,WAKE\n")
    inputs = sorted(p.name for p in tmp_path.iterdir())
    code, _, err = run_main(capsys, "convert", *args)
    assert code == status, err
    assert message in err and err.count("\n") == 1 and "epoch_length=" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == inputs


def test_convert_a_csv_of_one_recording_keeps_its_id(capsys, tmp_path):
    (tmp_path / "one.csv").write_text("recording,epoch,onset,stage\n001,0,0,WAKE\n"
                                      "001,1,4,NREM\n")
    status, _, err = run_main(capsys, "convert", tmp_path / "one.csv", "-o", tmp_path / "o.csv")
    assert status == 0, err
    assert (tmp_path / "o.csv").read_text().splitlines()[1:] == ["0,0,WAKE,001",
                                                                 "1,4,NREM,001"]


def test_convert_and_report_ask_for_the_epoch_length_alike(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.txt").write_text("WAKE\nREM\n")
    expected = ("error: Hypnogram in.txt: a 'text' hypnogram does not record its epoch "
                "length; give --epoch-length in seconds (e.g. 4 for mice, 30 for human PSG).")
    for args in (["convert", "in.txt", "-o", "out.csv"], ["report", "in.txt", "-o", "out"]):
        code, _, err = run_main(capsys, *args)
        assert code == 2 and err.strip() == f"sleepstage {args[0]}: {expected}", err
