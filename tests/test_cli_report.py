"""``sleepstage report``: hypnogram CSVs -> architecture.csv, summary.csv, figures, groups;
end to end on synthetic mice and on the real mouse's expert scoring, and every refusal."""

from __future__ import annotations

import importlib.util
import re

import numpy as np
import pandas as pd
import pytest
from _cli_runner import run_main
from conftest import REPO_ROOT, require_file

from sleepstage.data import make_synthetic


def _write(path, stages, epoch_length=4.0, **extra):
    stages = np.asarray(stages, dtype=object)
    table = pd.DataFrame({"epoch": np.arange(len(stages)),
                          "onset": np.arange(len(stages)) * epoch_length, "stage": stages,
                          **extra})
    table.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def synthetic_hypnograms(tmp_path_factory):
    """Stages of three synthetic mice (2 h each) as the CSVs ``predict`` writes."""
    folder = tmp_path_factory.mktemp("hyp")
    data = make_synthetic(n_recordings=3, hours=2, random_state=0)
    paths = []
    for i, rec in enumerate(data.recordings):
        stages = np.asarray(data.y)[np.asarray(data.groups) == rec]
        paths.append(_write(folder / f"mouse{i}_hypnogram.csv", stages))
    return paths


def test_report_end_to_end_on_synthetic_mice(capsys, tmp_path, synthetic_hypnograms):
    a, b, c = synthetic_hypnograms
    out = tmp_path / "arch"
    status, stdout, err = run_main(
        capsys, "report", a, b, c, "-o", out, "--start", "2024-03-01T07:00",
        "--lights-on", "07:00", "--bin", "30", "--min-bout", "2",
        "--group", f"wt={a},{b}", "--group", "ko=mouse2", "--no-plot")
    assert status == 0, err
    assert sorted(p.name for p in out.iterdir()) == [
        "architecture.csv", "groups.csv", "summary.csv"]
    bins = pd.read_csv(out / "architecture.csv")
    assert list(bins.columns[:5]) == ["recording", "bin_start", "clock_time", "zt", "phase"]
    assert bins.groupby("recording").size().tolist() == [4, 4, 4]  # 2 h in 30-min bins
    assert set(bins["phase"]) == {"light"}
    minutes = bins.filter(regex="^minutes_").sum(axis=1)
    assert np.allclose(minutes, bins["recorded_minutes"]) and np.allclose(minutes, 30)
    summary = pd.read_csv(out / "summary.csv")
    assert summary[["recording", "phase"]].to_numpy().tolist() == [
        [f"mouse{i}", phase] for i in range(3) for phase in ("all", "light", "dark")]
    for stage in ("WAKE", "NREM", "REM"):  # bouts in the bins add up to the summary's
        per_bin = bins.groupby("recording")[f"bouts_{stage}"].sum()
        whole = summary[summary["phase"] == "all"].set_index("recording")[f"bouts_{stage}"]
        assert per_bin.to_dict() == whole.to_dict()
    assert (summary.filter(regex=r"^bouts_WAKE_4-8s$") == 0).all().all()  # --min-bout 2
    groups = pd.read_csv(out / "groups.csv")
    assert groups.groupby("group", sort=False)["n"].max().to_dict() == {"wt": 2, "ko": 1}
    assert "mouse0: 2.0 h, WAKE" in stdout
    # the outputs are never overwritten without --force, and nothing is written then
    before = (out / "summary.csv").read_bytes()
    status, _, err = run_main(capsys, "report", a, "-o", out, "--no-plot")
    assert status == 1 and "already exist" in err
    assert (out / "summary.csv").read_bytes() == before


@pytest.mark.slow
def test_report_writes_one_figure_per_recording_and_the_group_figure(capsys, tmp_path,
                                                                     synthetic_hypnograms):
    a, b, _ = synthetic_hypnograms
    out = tmp_path / "arch"
    status, _, err = run_main(capsys, "report", a, b, "-o", out, "--group", f"x={a},{b}")
    assert status == 0, err
    assert sorted(p.name for p in out.iterdir()) == [
        "architecture.csv", "groups.csv", "groups_architecture.png", "mouse0_architecture.png",
        "mouse1_architecture.png", "summary.csv"]
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in out.glob("*.png"))


def test_report_on_the_real_mouse_expert_scoring(capsys, tmp_path):
    path = require_file("mouse-bandpower/zfhx3_subject2.csv")
    spec = importlib.util.spec_from_file_location("_mouse", REPO_ROOT / "benchmarks" / "_mouse.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    mouse = module.load_mouse(path)
    files = {}
    for condition, part in mouse.items():
        stages = np.array(["UNSCORED" if s is None else s for s in part["y"]], dtype=object)
        files[condition] = _write(tmp_path / f"{condition}_hypnogram.csv", stages)
    status, _, err = run_main(
        capsys, "report", files["Baseline"], files["Recovery"], "-o", tmp_path / "out",
        "--start", "Baseline=2012-08-16T07:00", "--start", "Recovery=2012-08-18T13:09:20",
        "--lights-on", "07:00", "--no-plot")
    assert status == 0, err
    bins = pd.read_csv(tmp_path / "out" / "architecture.csv")
    summary = pd.read_csv(tmp_path / "out" / "summary.csv").set_index(["recording", "phase"])
    # Baseline: 24 clock-aligned hourly bins, 12 light then 12 dark
    base = bins[bins["recording"] == "Baseline"]
    assert base["zt"].tolist() == list(range(24))
    assert base["phase"].tolist() == ["light"] * 12 + ["dark"] * 12
    # Recovery starts 13:09:20: a partial first bin (13:00-14:00), then whole hours
    rec = bins[bins["recording"] == "Recovery"]
    assert rec["clock_time"].iloc[0] == "2012-08-18 13:00:00"
    assert rec["recorded_minutes"].iloc[0] == pytest.approx(50 + 40 / 60)
    # every scored epoch is counted once; the 5 unscored ones are not
    for condition, part in mouse.items():
        y = pd.Series(part["y"])
        for stage in ("WAKE", "NREM", "REM"):
            assert summary.loc[(condition, "all"), f"minutes_{stage}"] == pytest.approx(
                (y == stage).sum() * 4 / 60)
    assert summary.loc[("Recovery", "all"), "unscored_minutes"] == pytest.approx(5 * 4 / 60)
    # the mouse sleeps more in the light phase, and more after sleep deprivation
    assert (summary.loc[("Baseline", "light"), "sleep_minutes"]
            > summary.loc[("Baseline", "dark"), "sleep_minutes"])
    assert (summary.loc[("Recovery", "light"), "percent_NREM"]
            > summary.loc[("Baseline", "light"), "percent_NREM"])
    assert summary.loc[("Baseline", "all"), "brief_arousals"] > 100


@pytest.fixture
def hyp(tmp_path):
    return _write(tmp_path / "m_hypnogram.csv", ["WAKE"] * 5 + ["NREM"] * 5)


@pytest.mark.parametrize(("table", "message"), [
    ({"epoch": [0, 1], "onset": [0, 4], "stage": ["WAKE", "DEEP"]},
     r"Unknown stage 'DEEP' on line 3 of bad\.csv"),
    ({"epoch": [0, 2, 1], "onset": [0, 8, 4], "stage": ["WAKE"] * 3},
     r"Epochs out of order in bad\.csv: line 4 has epoch 1 after 2"),
    ({"epoch": [0, 1, 2], "onset": [0, 8, 4], "stage": ["WAKE"] * 3},
     "line 4 has onset 4 after 8"),
    ({"epoch": [0, 1], "stage": ["WAKE", "NREM"]}, "has no column onset"),
    ({"epoch": [0, 1], "onset": [0, 4], "stage": ["WAKE", None]},
     r"1 epoch\(s\) of bad\.csv have no stage \(first on line 3\): write UNSCORED"),
])
def test_bad_hypnograms_are_refused(capsys, tmp_path, table, message):
    path = tmp_path / "bad.csv"
    pd.DataFrame(table).to_csv(path, index=False)
    status, _, err = run_main(capsys, "report", path, "-o", tmp_path / "out")
    assert status == 1
    assert re.search(message, err), err
    assert str(path) in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("args", "status", "message"), [
    (["--bin", "0.05"], 1, r"bin \(0.05 min = 3 s\) is shorter than one epoch \(4 s\)"),
    (["--bin", "0"], 2, "--bin must be a positive number of minutes"),
    (["--start", "2024-01-01", "--lights-on", "7 am"], 2, "--lights-on expects a 24-hour"),
    (["--lights-on", "07:00"], 2, "--lights-on needs --start"),
    (["--start", "soon"], 2, "--start expects an ISO date and time"),
    (["--start", "other=2024-01-01T07:00"], 2, "--start names recording 'other'"),
    (["--group", "wt=missing.csv"], 2, r"--group wt: 'missing.csv' is not one of the hypnogram"),
    (["--group", "wt"], 2, "--group expects key=value"),
    (["--min-bout", "0"], 2, "--min-bout must be at least 1"),
    (["--bin", "nan"], 2, "--bin must be a positive number of minutes, got nan"),
    (["--light-hours", "0"], 2, "--light-hours must be a number of hours above 0 and below 24"),
    (["--light-hours", "24", "--start", "2024-01-01T00:00", "--lights-on", "07:00"], 2,
     "--light-hours must be a number of hours above 0 and below 24, got 24"),
    (["--brief-arousal", "0"], 2, "--brief-arousal must be a positive number of seconds"),
    (["--latency-min", "nan"], 2, "--latency-min must be a positive number of seconds"),
    (["--fmax", "-1"], 2, "--fmax must be a positive number of Hz"),
    (["--feature-table", "f.csv"], 2, "spectra of 'report' need the raw signals"),
])
def test_bad_options_are_refused(capsys, tmp_path, hyp, args, status, message):
    code, _, err = run_main(capsys, "report", hyp, "-o", tmp_path / "out", *args)
    assert code == status, err
    assert re.search(message, err), err
    if status == 2:  # named as the option is typed, not as a parameter of a hypnogram's
        assert "parameter" not in err and "Hypnogram" not in err
    assert not (tmp_path / "out").exists()


def test_a_group_needs_a_start_for_each_recording_with_lights_on(capsys, tmp_path):
    stages = ["WAKE"] * 450 + ["NREM"] * 900  # 1.5 h at 4 s
    a = _write(tmp_path / "a.csv", stages)
    b = _write(tmp_path / "b.csv", stages)
    # a's bins are on zeitgeber time, b has none: b's bins were dropped (n = 1 everywhere)
    status, _, err = run_main(capsys, "report", a, b, "-o", tmp_path / "out", "--start",
                              "a=2024-03-01T18:30", "--lights-on", "07:00", "--group",
                              f"g={a},{b}", "--no-plot")
    assert status == 2, err
    assert "--group g: no start is known for b" in err and "--start b=ISO_TIME" in err
    assert not (tmp_path / "out").exists()
    # with a start for each, or without --lights-on (time since the start), both count
    for extra in (["--start", "b=2024-03-01T18:30", "--lights-on", "07:00"], []):
        out = tmp_path / f"out{len(extra)}"
        status, _, err = run_main(capsys, "report", a, b, "-o", out, "--start",
                                  "a=2024-03-01T18:30", *extra, "--group", f"g={a},{b}",
                                  "--no-plot")
        assert status == 0, err
        assert set(pd.read_csv(out / "groups.csv")["n"]) == {2}


def test_a_repeated_recording_or_file_is_named_as_such(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for folder in ("d1", "d2"):
        (tmp_path / folder).mkdir()
        _write(tmp_path / folder / "m1.csv", ["WAKE", "NREM"] * 5)
    status, _, err = run_main(capsys, "report", "d1/m1.csv", "d2/m1.csv", "-o", "out",
                              "--no-plot")
    assert status == 1 and "Recording 'm1' is in both d1/m1.csv and d2/m1.csv" in err
    assert "architecture.png" not in err
    for twice in (["d1/m1.csv", "./d1/m1.csv"], ["d1/m1.csv", "d1/m1.csv"]):
        status, _, err = run_main(capsys, "report", *twice, "-o", "out", "--no-plot")
        assert status == 2 and f"Hypnogram {twice[1]} is given twice" in err
    # names that differ only in case: a clash of figures (some file systems), not of tables
    _write(tmp_path / "M1.csv", ["WAKE", "NREM"] * 5)
    status, _, err = run_main(capsys, "report", "d1/m1.csv", "M1.csv", "-o", "out")
    assert status == 1 and "'m1' and 'M1' would share the file" in err
    assert not (tmp_path / "out").exists()
    status, _, err = run_main(capsys, "report", "d1/m1.csv", "M1.csv", "-o", "out",
                              "--no-plot")
    assert status == 0, err


def test_a_hypnogram_without_scored_epochs(capsys, tmp_path):
    path = _write(tmp_path / "uns.csv", ["UNSCORED"] * 30)
    status, stdout, err = run_main(capsys, "report", path, "-o", tmp_path / "out")
    assert status == 0, err
    assert "uns: 0.0 h, no scored epoch" in stdout and ", ," not in stdout
    assert "warning" not in err.lower()
    assert (tmp_path / "out" / "uns_architecture.png").read_bytes()[:4] == b"\x89PNG"


def test_missing_hypnogram_and_recording_column(capsys, tmp_path):
    status, _, err = run_main(capsys, "report", tmp_path / "none.csv", "-o", tmp_path / "o")
    assert status == 1 and "Hypnogram file not found" in err and "none.csv" in err
    # a recording column splits one file into recordings
    path = _write(tmp_path / "both.csv", ["WAKE", "NREM"] * 4, recording=["a"] * 4 + ["b"] * 4)
    table = pd.read_csv(path)
    table.loc[4:, "epoch"] -= 4
    table.loc[4:, "onset"] -= 16
    table.to_csv(path, index=False)
    status, _, err = run_main(capsys, "report", path, "-o", tmp_path / "o", "--no-plot")
    assert status == 0, err
    assert pd.read_csv(tmp_path / "o" / "summary.csv")["recording"].tolist() == ["a", "b"]


def test_report_with_the_signals_adds_stage_spectra(capsys, tmp_path):
    data = make_synthetic(n_recordings=1, hours=0.5, random_state=0)
    hyp = _write(tmp_path / "synthetic-0_hypnogram.csv", data.y)
    status, _, err = run_main(capsys, "report", hyp, "--synthetic", "1", "--hours", "0.5",
                              "-o", tmp_path / "out", "--no-plot", "--fmax", "30")
    assert status == 0, err
    spectra = pd.read_csv(tmp_path / "out" / "spectra.csv")
    assert list(spectra.columns) == ["recording", "channel", "phase", "stage", "n_epochs",
                                     "frequency", "relative_power"]
    assert spectra["frequency"].max() == 30 and set(spectra["phase"]) == {"all"}
    delta = spectra[(spectra["channel"] == "eeg1") & spectra["frequency"].between(1, 4)]
    by_stage = delta.groupby("stage")["relative_power"].mean()
    assert by_stage["NREM"] > by_stage["WAKE"]  # slow waves in NREM
    emg = spectra[spectra["channel"] == "emg"].groupby("stage")["relative_power"].mean()
    assert emg["WAKE"] > emg["NREM"]  # muscle tone in wake
    # the signals must match the hypnogram: by name and epoch count
    other = _write(tmp_path / "other_hypnogram.csv", data.y)
    status, _, err = run_main(capsys, "report", other, "--synthetic", "1", "--hours", "0.5",
                              "-o", tmp_path / "o2", "--no-plot")
    assert status == 1 and "Recording 'synthetic-0' of the data source has no hypnogram" in err
    (tmp_path / "s").mkdir()
    short = _write(tmp_path / "s" / "synthetic-0_hypnogram.csv", data.y[:100])
    status, _, err = run_main(capsys, "report", short, "--synthetic", "1", "--hours", "0.5",
                              "-o", tmp_path / "o3", "--no-plot")
    assert status == 1 and "has 450 epochs but its hypnogram" in err
    assert not (tmp_path / "o2").exists() and not (tmp_path / "o3").exists()


def test_report_spectra_of_each_recording_are_those_of_its_own_epochs(capsys, tmp_path):
    from sleepstage.report import stage_power_spectra

    data = make_synthetic(n_recordings=2, hours=0.25, random_state=0)
    groups = np.asarray(data.groups)
    hyps = [_write(tmp_path / f"{rec}_hypnogram.csv", np.asarray(data.y)[groups == rec])
            for rec in data.recordings]
    status, _, err = run_main(capsys, "report", *hyps, "--synthetic", "2", "--hours", "0.25",
                              "-o", tmp_path / "out", "--no-plot")
    assert status == 0, err
    written = pd.read_csv(tmp_path / "out" / "spectra.csv")
    for rec in data.recordings:
        mask = groups == rec
        expected = stage_power_spectra(data.X[mask], np.asarray(data.y)[mask], data.sfreq,
                                       ch_names=data.ch_names, fmax=45.0)
        got = written[written["recording"] == rec].drop(columns="recording")
        pd.testing.assert_frame_equal(got.reset_index(drop=True),
                                      expected.reset_index(drop=True), check_dtype=False)


def test_report_reads_plain_text_and_edf_hypnograms_with_the_epoch_length(capsys, tmp_path):
    from sleepstage.io import write_hypnogram

    stages = ["WAKE"] * 30 + ["NREM"] * 60 + ["REM"] * 15 + ["UNSCORED"] * 3 + ["WAKE"] * 12
    (tmp_path / "m1.txt").write_text("".join(f"{s.lower()}\n" for s in stages))
    write_hypnogram(tmp_path / "m2_hypnogram.edf", stages, epoch_length=4)
    # plain text and EDF+ hold no epoch length: the report says to give it, and writes nothing
    for name in ("m1.txt", "m2_hypnogram.edf"):
        status, _, err = run_main(capsys, "report", tmp_path / name, "-o", tmp_path / "out")
        assert status == 2, err
        assert str(tmp_path / name) in err and "give --epoch-length" in err
        assert "Traceback" not in err and not (tmp_path / "out").exists()
    status, _, err = run_main(capsys, "report", tmp_path / "m1.txt", tmp_path / "m2_hypnogram.edf",
                              "--epoch-length", "4", "-o", tmp_path / "out", "--no-plot")
    assert status == 0, err
    summary = pd.read_csv(tmp_path / "out" / "summary.csv").set_index(["recording", "phase"])
    for name in ("m1", "m2"):
        row = summary.loc[(name, "all")]
        assert row["minutes_NREM"] == pytest.approx(60 * 4 / 60)
        assert row["minutes_WAKE"] == pytest.approx(42 * 4 / 60)
        assert row["unscored_minutes"] == pytest.approx(3 * 4 / 60)
    # a label the reader does not know is named with its line and the file
    (tmp_path / "bad.txt").write_text("WAKE\nDeep\n")
    status, _, err = run_main(capsys, "report", tmp_path / "bad.txt", "--epoch-length", "4",
                              "-o", tmp_path / "o2")
    assert status == 1 and "Unknown stage 'Deep' on line 2" in err
    assert str(tmp_path / "bad.txt") in err and not (tmp_path / "o2").exists()


def test_report_takes_the_start_of_an_edf_hypnogram_header(capsys, tmp_path):
    import datetime

    from sleepstage.io import write_hypnogram

    stages = ["WAKE"] * 450 + ["NREM"] * 450  # 1 h at 4 s
    write_hypnogram(tmp_path / "m_hypnogram.edf", stages, epoch_length=4,
                    start=datetime.datetime(2024, 3, 1, 18, 30))
    status, _, err = run_main(capsys, "report", tmp_path / "m_hypnogram.edf",
                              "--epoch-length", "4", "--lights-on", "07:00", "-o",
                              tmp_path / "out", "--no-plot")
    assert status == 0, err
    table = pd.read_csv(tmp_path / "out" / "architecture.csv")
    # bins aligned to the clock: 18:00 (holding 18:30-19:00, light), then 19:00 (dark)
    assert table["clock_time"].astype(str).str[:16].tolist() == ["2024-03-01 18:00",
                                                                 "2024-03-01 19:00"]
    assert table["phase"].tolist() == ["light", "dark"]
    # --start wins over the header
    status, _, err = run_main(capsys, "report", tmp_path / "m_hypnogram.edf",
                              "--epoch-length", "4", "--start", "2024-03-01T08:00",
                              "--lights-on", "07:00", "-o", tmp_path / "out2", "--no-plot")
    assert status == 0, err
    table = pd.read_csv(tmp_path / "out2" / "architecture.csv")
    assert str(table["clock_time"].iloc[0]).startswith("2024-03-01 08:00")
    assert set(table["phase"]) == {"light"}


def test_lights_on_gives_phases_to_the_recordings_whose_start_is_known(capsys, tmp_path):
    import datetime

    from sleepstage.io import write_hypnogram

    stages = ["WAKE"] * 450 + ["NREM"] * 450  # 1 h at 4 s
    a = _write(tmp_path / "a_hypnogram.csv", stages)
    b = _write(tmp_path / "b_hypnogram.csv", stages)
    # --start for a only: a gets phases and clock times, b none
    status, _, err = run_main(capsys, "report", a, b, "--start", "a=2024-03-01T18:30",
                              "--lights-on", "07:00", "-o", tmp_path / "out", "--no-plot")
    assert status == 0, err
    bins = pd.read_csv(tmp_path / "out" / "architecture.csv").set_index("recording")
    assert bins.loc["a", "phase"].tolist() == ["light", "dark"]
    assert bins.loc[["b"], "phase"].isna().all() and bins.loc[["b"], "clock_time"].isna().all()
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert summary.groupby("recording")["phase"].apply(list).to_dict() == {
        "a": ["all", "light", "dark"], "b": ["all"]}
    # an EDF+ header's start for one recording, --start for another
    write_hypnogram(tmp_path / "e_hypnogram.edf", stages, epoch_length=4,
                    start=datetime.datetime(2024, 3, 1, 18, 30))
    status, _, err = run_main(capsys, "report", tmp_path / "e_hypnogram.edf", a, b,
                              "--epoch-length", "4", "--start", "b=2024-03-01T08:00",
                              "--lights-on", "07:00", "-o", tmp_path / "out2", "--no-plot")
    assert status == 0, err
    bins = pd.read_csv(tmp_path / "out2" / "architecture.csv").set_index("recording")
    assert bins.loc["e", "phase"].tolist() == ["light", "dark"]
    assert set(bins.loc[["b"], "phase"]) == {"light"}
    assert str(bins.loc[["b"], "clock_time"].iloc[0]).startswith("2024-03-01 08:00")
    assert bins.loc[["a"], "phase"].isna().all()
    # no start known for any recording: --lights-on is refused
    status, _, err = run_main(capsys, "report", a, b, "--lights-on", "07:00",
                              "-o", tmp_path / "out3")
    assert status == 2 and "--lights-on needs --start" in err
    assert not (tmp_path / "out3").exists()


def test_a_csv_of_one_epoch_per_recording_needs_the_epoch_length(capsys, tmp_path):
    one = _write(tmp_path / "one_hypnogram.csv", ["WAKE"])
    each = _write(tmp_path / "each.csv", ["WAKE", "NREM"], recording=["a", "b"])
    for path in (one, each):
        status, _, err = run_main(capsys, "report", path, "-o", tmp_path / "out")
        assert status == 2, err
        assert str(path) in err and "give --epoch-length" in err
        assert "epoch_length=" not in err and not (tmp_path / "out").exists()
    status, _, err = run_main(capsys, "report", one, "--epoch-length", "4", "-o",
                              tmp_path / "out", "--no-plot")
    assert status == 0, err


def test_report_help_has_its_own_epoch_length_text(capsys):
    status, stdout, _ = run_main(capsys, "report", "--help")
    assert status == 0
    text = " ".join(stdout.split())
    assert "30 for EDF" not in text
    assert "--epoch-length S epoch length of the hypnograms in seconds" in text
    assert "rows together and in time order" in text
    status, stdout, _ = run_main(capsys, "fit", "--help")  # the other commands keep theirs
    assert "30 for EDF" in " ".join(stdout.split())


def test_report_of_an_edf_hypnogram_in_five_classes(capsys, tmp_path):
    from sleepstage.io import write_edf_annotations

    texts = ["Sleep stage W", "Sleep stage 1", "Sleep stage 2", "Sleep stage 3",
             "Sleep stage R", "Sleep stage W"]
    write_edf_annotations(tmp_path / "rk.edf", np.arange(6) * 300.0, [300] * 6, texts)
    status, _, err = run_main(capsys, "report", tmp_path / "rk.edf", "--epoch-length", "30",
                              "--stages", "5", "-o", tmp_path / "out", "--no-plot")
    assert status == 0, err
    table = pd.read_csv(tmp_path / "out" / "architecture.csv")
    assert {"minutes_N1", "minutes_N2", "minutes_N3"} <= set(table.columns)
    assert table["minutes_N2"].sum() == pytest.approx(5.0)
