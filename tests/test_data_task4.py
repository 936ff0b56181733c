"""The reference rodent CSV format: round trip, recording blocks and every error path."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from sleepstage.data import EpochData, _task4, load_task4_csv, write_task4_csv

N_EPOCHS = 10
LAYOUT = {"ch_names": ("eeg1", "eeg2", "emg"), "ch_types": ("eeg", "eeg", "emg")}


@pytest.fixture
def data() -> EpochData:
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((N_EPOCHS, 3, 512)) * 1e-4).astype(np.float32)
    X[0, 0, 0] = np.float32(1 / 3)  # digits that need full float32 precision
    y = rng.choice(np.array(["WAKE", "NREM", "REM"]), size=N_EPOCHS)
    return EpochData(X, y, np.zeros(N_EPOCHS), 128.0, epoch_length=4.0, **LAYOUT)


@pytest.fixture
def folder(tmp_path, data):
    write_task4_csv(data, tmp_path)
    return tmp_path


def edit(path, change):
    """Rewrite a small CSV after ``change(frame)``."""
    change(pd.read_csv(path)).to_csv(path, index=False)


# -- round trip ---------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ["auto", "c", "pyarrow"])
def test_round_trip(folder, data, engine):
    loaded = load_task4_csv(folder, recording_length=None, engine=engine)
    np.testing.assert_array_equal(loaded.X, data.X)  # bit-exact float32
    assert loaded.X.dtype == np.float32
    np.testing.assert_array_equal(loaded.y, data.y)
    assert (loaded.ch_names, loaded.ch_types) == (LAYOUT["ch_names"], LAYOUT["ch_types"])
    assert (loaded.sfreq, loaded.epoch_length) == (128.0, 4.0)
    np.testing.assert_array_equal(loaded.groups, np.zeros(N_EPOCHS))
    np.testing.assert_array_equal(loaded.onsets, np.arange(N_EPOCHS) * 4.0)
    assert loaded.info["files"][-1] == "train_labels.csv"


def test_written_files_look_like_the_reference(folder):
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["train_eeg1.csv", "train_eeg2.csv", "train_emg.csv", "train_labels.csv"]
    header = (folder / "train_eeg1.csv").read_text().splitlines()[0].split(",")
    assert header[:3] == ["Id", "x0", "x1"] and len(header) == 513
    labels = pd.read_csv(folder / "train_labels.csv")
    assert list(labels.columns) == ["Id", "y"] and set(labels["y"]) <= {1, 2, 3}


def test_round_trip_without_pyarrow(tmp_path, data, monkeypatch):
    monkeypatch.setattr(_task4, "_pyarrow", lambda: (None, None))
    write_task4_csv(data, tmp_path)
    np.testing.assert_array_equal(load_task4_csv(tmp_path).X, data.X)
    with pytest.raises(ValueError, match=r"needs the optional pyarrow"):
        load_task4_csv(tmp_path, engine="pyarrow")


def test_test_subset_has_no_labels(tmp_path, data):
    unlabelled = EpochData(data.X, None, data.groups, 128.0, epoch_length=4.0, **LAYOUT)
    written = write_task4_csv(unlabelled, tmp_path, subset="test")
    assert [p.name for p in written] == ["test_eeg1.csv", "test_eeg2.csv", "test_emg.csv"]
    loaded = load_task4_csv(tmp_path, subset="test")
    assert loaded.y is None
    np.testing.assert_array_equal(loaded.X, data.X)
    # labels are not written for the test subset even when present
    write_task4_csv(data, tmp_path / "again", subset="test")
    assert not (tmp_path / "again" / "train_labels.csv").exists()


def test_other_layouts_name_the_files(tmp_path):
    X = np.arange(4 * 2 * 8, dtype=np.float32).reshape(4, 2, 8)
    data = EpochData(X, np.array(["WAKE"] * 4), np.zeros(4), 2.0, ("fp", "chin"),
                     ("eeg", "emg"), 4.0)
    write_task4_csv(data, tmp_path)
    assert (tmp_path / "train_chin.csv").is_file()
    loaded = load_task4_csv(tmp_path, sfreq=2.0, ch_names=("fp", "chin"), ch_types=("eeg", "emg"))
    np.testing.assert_array_equal(loaded.X, X)


# -- recordings ---------------------------------------------------------------------------
def test_recordings_are_consecutive_blocks(folder, caplog):
    with caplog.at_level(logging.WARNING, logger="sleepstage.data._task4"):
        loaded = load_task4_csv(folder, recording_length=4)
    assert loaded.groups.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]
    assert loaded.onsets.tolist() == [0, 4, 8, 12, 0, 4, 8, 12, 0, 4]
    assert "the last recording (id 2) holds only 2 epochs" in caplog.text


def test_whole_blocks_log_nothing(folder, caplog):
    with caplog.at_level(logging.WARNING, logger="sleepstage.data._task4"):
        loaded = load_task4_csv(folder, recording_length=5)
    assert loaded.groups.tolist() == [0] * 5 + [1] * 5
    assert caplog.text == ""


def test_default_recording_length_is_24h(folder):
    assert load_task4_csv(folder).info["recording_length"] == 21600 == 24 * 3600 // 4


# -- errors -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["train_emg.csv", "train_labels.csv"])
def test_missing_file(folder, name):
    (folder / name).unlink()
    with pytest.raises(ValueError, match=rf"Missing file .*{name}"):
        load_task4_csv(folder)


def test_ids_that_disagree(folder):
    edit(folder / "train_eeg2.csv", lambda f: f.assign(Id=f["Id"].where(f["Id"] != 3, 99)))
    with pytest.raises(ValueError, match=r"Ids of train_eeg2.csv disagree .*lacks Id\(s\) "
                                         r"\[3\] and holds Id\(s\) \[99\]"):
        load_task4_csv(folder)


def test_string_ids_that_disagree(folder):
    for name in ("train_eeg1.csv", "train_eeg2.csv", "train_emg.csv", "train_labels.csv"):
        edit(folder / name, lambda f: f.assign(Id="e" + f["Id"].astype(str)))
    edit(folder / "train_emg.csv", lambda f: f.assign(Id=f["Id"].where(f.index != 1, "zz")))
    with pytest.raises(ValueError, match=r"train_emg.csv disagree .*lacks Id\(s\) "
                                         r"\['e1'\] and holds Id\(s\) \['zz'\]"):
        load_task4_csv(folder)


def test_label_ids_that_disagree(folder):
    edit(folder / "train_labels.csv", lambda f: f.assign(Id=f["Id"] + 1))
    with pytest.raises(ValueError, match=r"Ids of train_labels.csv disagree"):
        load_task4_csv(folder)


@pytest.mark.parametrize("name", ["train_emg.csv", "train_labels.csv"])
def test_row_counts_that_disagree(folder, name):
    edit(folder / name, lambda f: f.iloc[:-1])
    with pytest.raises(ValueError, match=rf"{name} has 9 rows but train_eeg1.csv has 10"):
        load_task4_csv(folder)


def test_wrong_number_of_sample_columns(folder):
    with pytest.raises(ValueError, match=r"train_eeg1.csv has 512 sample columns.* 400 samples"):
        load_task4_csv(folder, sfreq=100.0)


def test_non_integral_samples_per_epoch(folder):
    with pytest.raises(ValueError, match=r"not a whole number of samples"):
        load_task4_csv(folder, sfreq=127.9)


def test_missing_id_column(folder):
    edit(folder / "train_emg.csv", lambda f: f.rename(columns={"Id": "index"}))
    with pytest.raises(ValueError, match=r"train_emg.csv has no 'Id' column"):
        load_task4_csv(folder)


@pytest.mark.parametrize("engine", ["c", "pyarrow"])
def test_nan_samples(folder, engine):
    edit(folder / "train_emg.csv", lambda f: f.assign(x7=f["x7"].where(f["Id"] != 2)))
    with pytest.raises(ValueError, match=r"train_emg.csv contains 1 non-finite .*\(2, 7\)"):
        load_task4_csv(folder, engine=engine)


@pytest.mark.parametrize("engine", ["c", "pyarrow"])
def test_non_numeric_samples(folder, engine):
    edit(folder / "train_eeg2.csv", lambda f: f.assign(x3=f["x3"].astype(str).replace(
        f["x3"].astype(str).iloc[4], "abc")))
    with pytest.raises(ValueError, match=r"Could not parse .*train_eeg2.csv"):
        load_task4_csv(folder, engine=engine)


def test_unknown_labels(folder):
    edit(folder / "train_labels.csv", lambda f: f.assign(y=f["y"].where(f["Id"] != 5, 4)))
    with pytest.raises(ValueError, match=r"Unknown labels in train_labels.csv: 4"):
        load_task4_csv(folder)


def test_missing_labels(folder):
    edit(folder / "train_labels.csv", lambda f: f.assign(y=f["y"].where(f["Id"] != 6)))
    with pytest.raises(ValueError, match=r"train_labels.csv has missing labels; .* row 6"):
        load_task4_csv(folder)


def test_labels_file_without_y(folder):
    edit(folder / "train_labels.csv", lambda f: f.rename(columns={"y": "stage"}))
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['y'\]"):
        load_task4_csv(folder)


def test_float_labels_that_are_integers_are_accepted(folder, data):
    edit(folder / "train_labels.csv", lambda f: f.assign(y=f["y"].astype(float)))
    np.testing.assert_array_equal(load_task4_csv(folder).y, data.y)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"subset": "valid"}, ValueError, "'subset' parameter"),
        ({"engine": "polars"}, ValueError, "'engine' parameter"),
        ({"recording_length": 0}, ValueError, "recording_length must be >= 1"),
        ({"recording_length": 2.5}, TypeError, "recording_length must be an int"),
        ({"ch_types": ("eeg", "eeg")}, ValueError, "same length"),
        ({"ch_types": ("eeg", "eeg", "ecg")}, ValueError, "'ch_types' parameter"),
        ({"ch_names": ("a", "a", "b")}, ValueError, "must be unique"),
        ({"sfreq": -1}, ValueError, "'sfreq' parameter"),
    ],
)
def test_bad_parameters(folder, kwargs, error, match):
    with pytest.raises(error, match=match):
        load_task4_csv(folder, **kwargs)


def test_write_errors(tmp_path, data):
    unlabelled = EpochData(data.X, None, data.groups, 128.0, epoch_length=4.0, **LAYOUT)
    with pytest.raises(ValueError, match=r"needs labels"):
        write_task4_csv(unlabelled, tmp_path)
    five = EpochData(data.X, np.array(["N2"] * N_EPOCHS), data.groups, 128.0, epoch_length=4.0,
                     **LAYOUT)
    with pytest.raises(ValueError, match=r"Unknown stages for train_labels.csv: 'N2'"):
        write_task4_csv(five, tmp_path)
    with pytest.raises(TypeError, match=r"must be an EpochData"):
        write_task4_csv(data.X, tmp_path)
