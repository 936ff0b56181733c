"""Task4 CSV rows are keyed by their Id: order, uniqueness and agreement across files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_data_task4 import edit

from sleepstage.data import EpochData, load_task4_csv, write_task4_csv

N_EPOCHS = 12  # Ids 0..11: sorted as text, 10 and 11 come right after 1
FILES = ("train_eeg1.csv", "train_eeg2.csv", "train_emg.csv", "train_labels.csv")


@pytest.fixture
def data() -> EpochData:
    rng = np.random.default_rng(1)
    X = rng.standard_normal((N_EPOCHS, 3, 8)).astype(np.float32)
    y = np.array(["WAKE", "WAKE", "NREM", "NREM", "NREM", "REM"] * 2)
    return EpochData(X, y, np.zeros(N_EPOCHS), 2.0, ("eeg1", "eeg2", "emg"),
                     ("eeg", "eeg", "emg"), 4.0)


@pytest.fixture
def folder(tmp_path, data):
    write_task4_csv(data, tmp_path)
    return tmp_path


def load(folder, **kwargs):
    return load_task4_csv(folder, sfreq=2.0, **kwargs)


def as_text_order(frame):
    return frame.iloc[np.argsort(frame["Id"].astype(str).to_numpy(), kind="stable")]


def test_rows_sorted_as_text_load_in_true_order(folder, data):
    for name in FILES:
        edit(folder / name, as_text_order)
    assert pd.read_csv(folder / "train_eeg1.csv")["Id"].tolist()[:4] == [0, 1, 10, 11]
    loaded = load(folder, recording_length=6)
    np.testing.assert_array_equal(loaded.X, data.X)
    np.testing.assert_array_equal(loaded.y, data.y)
    assert loaded.groups.tolist() == [0] * 6 + [1] * 6


def test_each_file_is_keyed_on_its_own(folder, data):
    # the labels reversed, one channel sorted as text: still matched by Id
    edit(folder / "train_labels.csv", lambda f: f.iloc[::-1])
    edit(folder / "train_emg.csv", as_text_order)
    loaded = load(folder)
    np.testing.assert_array_equal(loaded.X, data.X)
    np.testing.assert_array_equal(loaded.y, data.y)


def test_numeric_ids_written_as_text_sort_numerically(folder, data):
    for name in FILES:
        edit(folder / name, lambda f: as_text_order(f).assign(Id=f["Id"].astype(str)))
    np.testing.assert_array_equal(load(folder).X, data.X)


@pytest.mark.parametrize("name", FILES)
def test_duplicate_id_refused(folder, name):
    edit(folder / name, lambda f: f.assign(Id=f["Id"].where(f["Id"] != 7, 4)))
    with pytest.raises(ValueError, match=rf"{name} holds duplicate Id\(s\) \[4\]: each epoch"):
        load(folder)


def test_ids_that_disagree_are_named(folder):
    edit(folder / "train_eeg2.csv", lambda f: f.assign(Id=f["Id"].where(f["Id"] != 5, 50)))
    with pytest.raises(ValueError, match=r"Ids of train_eeg2.csv disagree with those of "
                                         r"train_eeg1.csv: train_eeg2.csv lacks Id\(s\) \[5\] "
                                         r"and holds Id\(s\) \[50\] that train_eeg1.csv lacks"):
        load(folder)


def test_labels_that_disagree_are_named(folder):
    edit(folder / "train_labels.csv", lambda f: f.assign(Id=f["Id"] + 2))
    with pytest.raises(ValueError, match=r"train_labels.csv lacks Id\(s\) \[0, 1\] and holds "
                                         r"Id\(s\) \[12, 13\]"):
        load(folder)


def test_missing_id_in_every_file_refused(folder):
    for name in FILES:
        edit(folder / name, lambda f: f[f["Id"] != 3])
    with pytest.raises(ValueError, match=r"Ids of train_eeg1.csv skip \[3\]: the Ids must be "
                                         "consecutive integers"):
        load(folder)


def test_ids_need_not_start_at_zero(folder, data):
    for name in FILES:
        edit(folder / name, lambda f: f.assign(Id=f["Id"] + 1000))
    np.testing.assert_array_equal(load(folder).X, data.X)
