"""Data sources on the command line and their defaults: data folder, ids, option values."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from _cli_runner import run_main
from mne.datasets.sleep_physionet import age

from sleepstage.cli import build_parser
from sleepstage.cli._data_args import describe_sources
from sleepstage.cli._loading import recording_id
from sleepstage.data import (
    get_data_dir,
    load_sleep_edf,
    make_synthetic,
    mne_data_dir,
    write_task4_csv,
)
from sleepstage.io import write_table


# -- item 17: where Sleep-EDF is looked for ---------------------------------------------------
@pytest.fixture
def no_data_dir_env(monkeypatch, tmp_path):
    """No SLEEPSTAGE_DATA_DIR; MNE's Sleep-EDF folder is an empty temporary folder."""
    monkeypatch.delenv("SLEEPSTAGE_DATA_DIR", raising=False)
    monkeypatch.delenv("MNE_DATA", raising=False)
    mne_folder = tmp_path / "mne_data"
    monkeypatch.setenv("PHYSIONET_SLEEP_PATH", str(mne_folder))
    return mne_folder


@pytest.fixture
def offline(monkeypatch):
    """A fetcher that records its ``path`` and fails as without network (never downloads)."""
    calls = []

    def fetch_data(**kwargs):
        calls.append(kwargs["path"])
        raise OSError("network is unreachable")

    monkeypatch.setattr(age, "fetch_data", fetch_data)
    return calls


def test_default_data_dir_is_mne_s_not_the_working_directory(no_data_dir_env, tmp_path,
                                                             monkeypatch, offline):
    # a ../shared/data next to the working directory is not a place the package looks
    (tmp_path / "shared" / "data" / "physionet-sleep-data").mkdir(parents=True)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert get_data_dir() == mne_data_dir() == no_data_dir_env
    with pytest.raises(ValueError, match="not in"):
        load_sleep_edf()
    assert offline == [str(no_data_dir_env)]


def test_environment_variable_overrides_mne(no_data_dir_env, tmp_path, monkeypatch, offline):
    monkeypatch.setenv("SLEEPSTAGE_DATA_DIR", str(tmp_path / "mine"))
    assert get_data_dir() == tmp_path / "mine"
    with pytest.raises(ValueError, match=r"mine/physionet-sleep-data \(\$SLEEPSTAGE_DATA_DIR\)"):
        load_sleep_edf()


def test_missing_files_say_where_and_how(no_data_dir_env, offline):
    with pytest.raises(ValueError) as caught:
        load_sleep_edf()
    message = str(caught.value)
    assert f"{no_data_dir_env / 'physionet-sleep-data'} (MNE's data folder)" in message
    assert "--data-dir" in message and "SLEEPSTAGE_DATA_DIR" in message
    assert "could not be downloaded: network is unreachable" in message


def test_cli_missing_sleep_edf_names_data_dir(no_data_dir_env, offline, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    status, out, err = run_main(capsys, "features", "--sleep-edf", "0", "--data-dir", empty,
                                "-o", tmp_path / "f.csv")
    assert status == 1 and out == ""
    assert f"{empty / 'physionet-sleep-data'} (the path given)" in err
    assert "--data-dir" in err and "SLEEPSTAGE_DATA_DIR" in err
    assert offline == [str(empty)]


# -- item 19: option values, ids, short --task4 folders ---------------------------------------
TINY = ["--synthetic", "1", "--hours", "0.05"]  # 45 epochs


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--sleep-edf", "0,x", "expected integers separated by commas, got '0,x'"),
    ("--sleep-edf", ",", "expected at least one integer, got ','"),
    ("--sleep-edf-recording", "1.5", "expected integers separated by commas, got '1.5'"),
])
def test_sleep_edf_lists_are_usage_errors(capsys, tmp_path, option, value, message):
    status, out, err = run_main(capsys, "features", "--sleep-edf", "0", option, value,
                                "-o", tmp_path / "f.csv")
    assert status == 2 and out == ""
    assert f"argument {option}: {message}" in err


def test_sources_are_described_as_given():
    args = build_parser().parse_args(["fit", "--sleep-edf", "0, 1", "--sleep-edf-recording",
                                      "1,2", "--synthetic", "2", "--hours", "0.5"])
    assert args.sleep_edf == [0, 1] and args.sleep_edf_recording == [1, 2]
    assert describe_sources(args) == ["synthetic: 2 x 0.5 h, seed 0",
                                      "sleep-edf: subjects 0,1, nights 1,2"]
    assert build_parser().parse_args(["fit", "--sleep-edf", "3"]).sleep_edf_recording == [1]


@pytest.mark.parametrize(("option", "value"), [("--epoch-length", "0"), ("--sfreq", "0"),
                                               ("--sfreq", "-128"), ("--hours", "0"),
                                               ("--epoch-length", "nan")])
def test_zero_or_negative_values_are_usage_errors(capsys, tmp_path, option, value):
    status, out, err = run_main(capsys, "features", *TINY, option, value,
                                "-o", tmp_path / "f.csv")
    assert status == 2 and out == ""
    assert f"argument {option}: expected a number > 0, got '{value}'" in err
    assert not (tmp_path / "f.csv").exists()


@pytest.mark.parametrize(("renames", "match"), [
    (["EEG Cz=eeg1", "EEG Cz=eeg2"], "channel 'EEG Cz' two new names, 'eeg1' and 'eeg2'"),
    (["EEG Cz=eeg1", "EEG Pz=eeg1"], "channels 'EEG Cz' and 'EEG Pz' the same name 'eeg1'"),
])
def test_conflicting_renames_are_usage_errors(capsys, tmp_path, renames, match):
    from _edf_files import write_edf

    edf = write_edf(tmp_path / "night.edf", np.zeros((2, 6000)), 100, ["EEG Cz", "EEG Pz"])
    args = [a for text in renames for a in ("--rename", text)]
    status, _, err = run_main(capsys, "features", "--edf", edf, *args, "-o", tmp_path / "f.csv")
    assert status == 2 and match in err


def test_seed_is_part_of_synthetic_ids(capsys, tmp_path):
    ids = {}
    for seed in ("0", "4"):
        out = tmp_path / f"seed{seed}.csv"
        assert run_main(capsys, "features", *TINY, "--seed", seed, "-o", out)[0] == 0
        ids[seed] = set(pd.read_csv(out)["recording"])
    assert ids == {"0": {"synthetic-0"}, "4": {"synthetic-seed4-0"}}


@pytest.fixture
def task4_folder(tmp_path):
    """Two recordings of 20 epochs in the reference CSV format (a few minutes each)."""
    data = make_synthetic(n_recordings=2, hours=20 * 4 / 3600)
    write_task4_csv(dataclasses.replace(data, groups=np.zeros(data.n_epochs)), tmp_path / "t4")
    return tmp_path / "t4"


def test_task4_ids_are_the_file_names_ids(capsys, tmp_path, task4_folder):
    out = tmp_path / "f.csv"
    status, _, _ = run_main(capsys, "features", "--task4", task4_folder,
                            "--recording-length", "20", "-o", out)
    assert status == 0
    # the id that names the recording's files ("recording-0_hypnogram.csv") names it in
    # tables and plot titles too
    assert pd.read_csv(out)["recording"].unique().tolist() == ["recording-0", "recording-1"]
    assert recording_id(0) == "recording-0" and recording_id("SC4001") == "SC4001"


def test_predict_names_task4_recordings_once(capsys, tmp_path, task4_folder):
    model = tmp_path / "m.joblib"
    source = ["--task4", task4_folder, "--recording-length", "20"]
    status, _, err = run_main(capsys, "fit", *source, "--pipeline", "logreg", "--n-jobs", "1",
                              "--set", "smoothing=null", "--set", "context=false", "-o", model)
    assert status == 0, err
    status, out, err = run_main(capsys, "predict", model, *source, "-o", tmp_path / "scored")
    assert status == 0, err
    # one id in the summary lines (and plot titles) and the file names
    assert "recording-0: 20 epochs -> recording-0_hypnogram.csv" in out
    assert "recording-1: 20 epochs -> recording-1_hypnogram.csv" in out
    # probabilities with 10 significant digits at most, not float64's 17
    rows = (tmp_path / "scored" / "recording-0_hypnogram.csv").read_text().splitlines()
    numbers = [field for row in rows[1:] for field in row.split(",")
               if field[:1].isdigit() and "e" not in field]
    assert numbers and max(len(f.replace(".", "").strip("0")) for f in numbers) <= 10


def test_csv_tables_have_no_float_noise(tmp_path):
    table = pd.DataFrame({"onset": [0.1 + 0.2, 86399.996],
                          "proba_WAKE": [1 / 3, float(np.float32(0.1))]})
    text = write_table(table, tmp_path / "t.csv").read_text()
    assert text.splitlines() == ["onset,proba_WAKE", "0.3,0.3333333333", "86399.996,0.1000000015"]
    # float32 values survive the round trip
    assert np.float32(pd.read_csv(tmp_path / "t.csv")["proba_WAKE"][1]) == np.float32(0.1)


def test_short_task4_folder_suggests_recording_length(capsys, tmp_path, task4_folder):
    status, _, err = run_main(capsys, "features", "--task4", task4_folder,
                              "-o", tmp_path / "f.csv")
    assert status == 0
    assert "All 40 epochs (0.0444 h) form one recording, shorter than recording_length = " \
           "21600 epochs (24 h)" in err
    assert "--recording-length" in err
    status, _, err = run_main(capsys, "features", "--task4", task4_folder,
                              "--recording-length", "0", "-o", tmp_path / "g.csv")
    assert status == 0 and "recording_length" not in err
