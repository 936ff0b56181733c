"""``sleepstage.data.read_feature_table`` and the ``FeatureTable`` container."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from sleepstage.data import (
    UNSCORED,
    EpochData,
    FeatureTable,
    make_synthetic,
    read_feature_table,
)
from sleepstage.pipelines import fit_with_groups, make_staging_pipeline, predict_with_groups


def _frame(n: int = 6) -> pd.DataFrame:
    """Two recordings ('m1': n epochs, 'm2': 4), 4-s epochs, two features."""
    rng = np.random.default_rng(0)
    recordings = ["m1"] * n + ["m2"] * 4
    epochs = [*range(n), *range(4)]
    return pd.DataFrame({
        "recording": recordings, "epoch": epochs, "onset": np.array(epochs) * 4.0,
        "stage": (["WAKE", "NREM", "REM"] * 4)[: n + 4],
        "log_delta": rng.normal(size=n + 4), "log_emg": rng.normal(size=n + 4),
    })


def _write(frame: pd.DataFrame, tmp_path, name: str = "table.csv"):
    path = tmp_path / name
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return path


@pytest.mark.parametrize("name", ["table.csv", "table.parquet", "table.PQ"])
def test_reads_csv_and_parquet(tmp_path, name):
    frame = _frame()
    table = read_feature_table(_write(frame, tmp_path, name))
    assert isinstance(table, EpochData)  # accepted wherever recordings are
    assert table.feature_names == ("log_delta", "log_emg")
    assert table.X.dtype == np.float32 and table.X.shape == (10, 2)
    np.testing.assert_array_equal(table.X, frame[["log_delta", "log_emg"]].to_numpy(np.float32))
    assert table.y.tolist() == frame.stage.tolist()
    assert table.groups.tolist() == frame.recording.tolist()
    assert table.recordings.tolist() == ["m1", "m2"]
    np.testing.assert_array_equal(table.onsets, frame.onset)
    assert table.epoch_length == 4.0
    assert table.layout() == {"features": False, "epoch_length": 4.0}
    assert table.n_features == 2 and getattr(table, "n_samples", None) is None


def test_to_frame_round_trips(tmp_path):
    table = read_feature_table(_write(_frame(), tmp_path))
    again = read_feature_table(_write(table.to_frame(), tmp_path, "again.parquet"))
    np.testing.assert_array_equal(again.X, table.X)
    assert again.y.tolist() == table.y.tolist()
    assert again.groups.tolist() == table.groups.tolist()


def test_numeric_recording_ids_stay_text(tmp_path):
    frame = _frame().assign(recording=["1"] * 6 + ["02"] * 4)
    assert read_feature_table(_write(frame, tmp_path)).recordings.tolist() == ["1", "02"]


def test_layout_builds_the_pipeline_without_the_feature_step(tmp_path):
    table = read_feature_table(_write(_frame(), tmp_path))
    names = [name for name, _ in make_staging_pipeline(**table.layout()).steps]
    assert names == ["scaler", "context", "classifier"]


def test_epoch_length_from_onsets_with_a_pause(tmp_path):
    frame = _frame().assign(onset=[0, 30, 60, 150, 180, 210, 0, 30, 60, 90])
    table = read_feature_table(_write(frame, tmp_path))
    assert table.epoch_length == 30.0
    assert read_feature_table(_write(frame, tmp_path), epoch_length=30).epoch_length == 30.0


def test_epoch_length_is_the_most_common_step_as_for_hypnograms(tmp_path):
    """Mostly 4-s steps with one pause of 2 epochs and one of 3: 4 s, not the smallest."""
    frame = _frame().assign(onset=[0, 8, 12, 16, 28, 32, 0, 4, 8, 12])
    assert read_feature_table(_write(frame, tmp_path)).epoch_length == 4.0


@pytest.mark.parametrize("onsets, given, match", [
    # 'm1' at 4 s, 'm2' at 2 s: was read as 2-s epochs, every step of 'm1' a pause
    ([0, 4, 8, 12, 16, 20, 0, 2, 4, 6], None,
     r"recording 'm2' has 2-s epochs \(epoch 1, row 8, starts 2 s after the previous epoch\) "
     r"but the table's most common step between onsets is 4 s: one table holds one epoch"),
    # 8-s steps read as 2-s epochs with a gap after each
    ([0, 8, 16, 24, 32, 40, 0, 8, 16, 24], 2.0,
     r"the epoch length 2 s is not the most common step between the onsets of recording "
     r"'m1', 8 s: give the epoch length the table was written with, or none"),
    ([0, 30, 60, 150, 180, 210, 0, 30, 60, 90], 10.0, r"epoch length 10 s .* 'm1', 30 s"),
])
def test_one_table_holds_one_epoch_length(tmp_path, onsets, given, match):
    path = _write(_frame().assign(onset=onsets), tmp_path)
    with pytest.raises(ValueError, match=match):
        read_feature_table(path, epoch_length=given)


@pytest.mark.parametrize("onsets, given, match", [
    ([0, 4, 8, 13, 17, 21, 0, 4, 8, 12], None, r"not multiples of one epoch length: give it"),
    ([0, 4, 8, 12, 16, 20, 0, 4, 8, 12], 30.0, r"not on a grid of 30-s epochs.*epoch 1 of "
                                                r"recording 'm1' \(row 2\)"),
    ([0, 4, 8, 8, 16, 20, 0, 4, 8, 12], None, r"onsets must increase.*epoch 3 of recording "
                                              r"'m1' \(row 4\)"),
])
def test_onsets_that_fit_no_epoch_length_are_refused(tmp_path, onsets, given, match):
    path = _write(_frame().assign(onset=onsets), tmp_path)
    with pytest.raises(ValueError, match=match):
        read_feature_table(path, epoch_length=given)


def test_single_epoch_recordings_need_the_epoch_length(tmp_path):
    frame = _frame().iloc[[0, 6]]
    with pytest.raises(ValueError, match=r"single epoch.*--epoch-length"):
        read_feature_table(_write(frame, tmp_path))
    assert read_feature_table(_write(frame, tmp_path), epoch_length=4).n_epochs == 2


def test_unscored_epochs_are_dropped_or_kept(tmp_path):
    frame = _frame().astype({"stage": object})
    frame.loc[1, "stage"] = None
    frame.loc[2, "stage"] = UNSCORED
    path = _write(frame, tmp_path)
    table = read_feature_table(path)
    assert table.n_epochs == 8 and UNSCORED not in table.y
    np.testing.assert_array_equal(table.onsets[:2], [0.0, 12.0])  # the gap shows in onsets
    kept = read_feature_table(path, drop_unscored=False)
    assert kept.y[1:3].tolist() == [UNSCORED, UNSCORED] and kept.n_epochs == 10


def test_stage_names_are_read_in_any_case(tmp_path):
    """As read_hypnogram reads them: 'nrem' and 'NREM' are one class; 'unscored' is unscored."""
    stages = ["wake", "NREM", "nrem", "Rem", "unscored", "n2", "WAKE", "NREM", "REM", "WAKE"]
    table = read_feature_table(_write(_frame().assign(stage=stages), tmp_path),
                               drop_unscored=False)
    assert table.y.tolist() == ["WAKE", "NREM", "NREM", "REM", UNSCORED, "N2", "WAKE", "NREM",
                                "REM", "WAKE"]


@pytest.mark.parametrize("label", ["NA", "N/A", "1.0", "Deep"])
def test_a_label_that_is_no_stage_is_named(tmp_path, label):
    """pandas' missing-value words are not read as an empty (unscored) cell."""
    frame = _frame().astype({"stage": object})
    frame.loc[[2, 7], "stage"] = label
    with pytest.raises(ValueError, match=rf"unknown stage '{re.escape(label)}' in row 3 "
                                         r"\(recording 'm1', epoch 2; 2 such row\(s\)\)\. "
                                         r"Stages are WAKE, NREM, REM, N1, N2, N3, UNSCORED"):
        read_feature_table(_write(frame, tmp_path))


def test_a_lab_s_own_labels_read_through_a_mapping(tmp_path):
    stages = ["W", "NR", "NR", "R", "", "W", "W", "NR", "R", "W"]
    path = _write(_frame().assign(stage=stages), tmp_path)
    mapping = {"W": "WAKE", "NR": "NREM", "R": "REM"}
    table = read_feature_table(path, mapping=mapping, drop_unscored=False)
    assert table.y.tolist() == ["WAKE", "NREM", "NREM", "REM", UNSCORED, "WAKE", "WAKE",
                                "NREM", "REM", "WAKE"]
    lower = read_feature_table(path, mapping={"W": "wake", "NR": "nrem", "R": "Rem"})
    assert set(lower.y) == {"WAKE", "NREM", "REM"}  # stage names in any case, as in a cell
    with pytest.raises(ValueError, match=r"unknown stage 'R' in row 4 .* The mapping knows "
                                         r"'W', 'NR'"):
        read_feature_table(path, mapping={"W": "WAKE", "NR": "NREM"})


def test_only_an_empty_cell_is_a_missing_id_or_stage(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("recording,epoch,onset,stage,a\nNA,0,0,WAKE,1.5\nNA,1,4,,2.0\n"
                    "null,0,0,NREM,NA\nnull,1,4,REM,1\n")
    with pytest.raises(ValueError, match=r"column 'a' holds missing"):  # a feature: missing
        read_feature_table(path)
    path.write_text(path.read_text().replace("NREM,NA", "NREM,3"))
    table = read_feature_table(path, drop_unscored=False)
    assert table.groups.tolist() == ["NA", "NA", "null", "null"]
    assert table.y.tolist() == ["WAKE", UNSCORED, "NREM", "REM"]


def test_numbers_stored_as_text_read_as_in_a_csv(tmp_path):
    frame = _frame()
    text = frame.assign(log_emg=[repr(v) for v in frame.log_emg])
    as_csv = read_feature_table(_write(frame, tmp_path))
    as_text = read_feature_table(_write(text, tmp_path, "text.parquet"))
    np.testing.assert_array_equal(as_text.X, as_csv.X)
    text.loc[3, "log_emg"] = "high"
    with pytest.raises(ValueError, match=r"column 'log_emg' is not numeric: row 4 \(recording "
                                         r"'m1', epoch 3\) holds 'high'"):
        read_feature_table(_write(text, tmp_path, "text.parquet"))


def test_a_stage_column_without_scores_is_an_unscored_table(tmp_path):
    table = read_feature_table(_write(_frame().assign(stage=""), tmp_path))
    assert table.y is None and table.n_epochs == 10
    assert read_feature_table(_write(_frame().drop(columns="stage"), tmp_path)).y is None


@pytest.mark.parametrize("change, match", [
    (lambda f: f.assign(epoch=[0, 1, 2, 2, 4, 5, 0, 1, 2, 3]),
     r"duplicate \(recording, epoch\) key\(s\): \('m1', 2\) in row 4"),
    (lambda f: f.assign(epoch=[0, 1, 3, 2, 4, 5, 0, 1, 2, 3]),
     r"rows out of order: epoch 2 of recording 'm1' \(row 4\) follows epoch 3"),
    (lambda f: f.iloc[[0, 1, 2, 6, 7, 3, 4, 5, 8, 9]],
     r"rows of recording 'm1' are not together \(row 6"),
    (lambda f: f.drop(index=[2, 3, 7]),
     r"missing epochs: recording 'm1' lacks epoch\(s\) 2-3; recording 'm2' lacks epoch\(s\) 1"),
    (lambda f: f.assign(epoch=[1, 2, 3, 4, 5, 6, 0, 1, 2, 3]),
     r"recording 'm1' lacks epoch\(s\) 0"),
    (lambda f: f.assign(epoch=[0, 1, 2.5, 3, 4, 5, 0, 1, 2, 3]),
     r"column 'epoch' must hold integers; row 3 has 2.5"),
    (lambda f: f.assign(log_emg=[0, 1, "high", 3, 4, 5, 6, 7, 8, 9]),
     r"column 'log_emg' is not numeric: row 3 \(recording 'm1', epoch 2\) holds 'high'"),
    (lambda f: f.assign(log_emg=[0, 1, np.nan, 3, np.inf, 5, 6, 7, 8, 9]),
     r"column 'log_emg' holds missing, NaN or infinite values .* at 2 row\(s\): \('m1', 2\) "
     r"in row 3, \('m1', 4\) in row 5"),
    (lambda f: f.assign(log_emg=[0, 1, 1e39, 3, 4, 5, 6, 7, 8, 9]),
     r"column 'log_emg' .*beyond float32"),
    (lambda f: f.drop(columns="onset"), r"required column\(s\) 'onset' missing"),
    (lambda f: f[["recording", "epoch", "onset", "stage"]], r"no feature column"),
    (lambda f: f.assign(recording=["m1"] * 5 + [""] + ["m2"] * 4), r"empty recording id in "
                                                                   r"row\(s\) 6"),
    (lambda f: f.iloc[:0], r"the table has no rows"),
])
def test_bad_tables_are_refused_by_name(tmp_path, change, match):
    path = _write(change(_frame()), tmp_path)
    with pytest.raises(ValueError, match=match):
        read_feature_table(path)


def test_repeated_csv_columns_are_refused(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("recording,epoch,onset,a,a\nm,0,0,1,2\nm,1,4,1,2\n")
    with pytest.raises(ValueError, match=r"column\(s\) 'a' appear more than once"):
        read_feature_table(path)


def test_unknown_suffix_and_missing_file(tmp_path):
    with pytest.raises(ValueError, match=r"must be .csv, .parquet or .pq.*'.xlsx'"):
        read_feature_table(tmp_path / "table.xlsx")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_feature_table(tmp_path / "absent.csv")


def test_select_concatenate_and_reorder(tmp_path):
    table = read_feature_table(_write(_frame(), tmp_path))
    part = table.select(table.groups == "m2")
    assert isinstance(part, FeatureTable) and part.n_epochs == 4
    both = FeatureTable.concatenate([table.select(table.groups == "m1"), part])
    np.testing.assert_array_equal(both.X, table.X)
    swapped = table.reorder(["log_emg", "log_delta"])
    np.testing.assert_array_equal(swapped.X, table.X[:, ::-1])
    with pytest.raises(ValueError, match="other feature columns than the first: the same "
                                         "names in another order"):
        FeatureTable.concatenate([table, swapped])
    with pytest.raises(ValueError, match=r"missing 'log_theta'; extra 'log_emg'"):
        table.reorder(["log_delta", "log_theta"])
    with pytest.raises(ValueError, match="no sampling rate and no channels"):
        FeatureTable(table.X, None, table.groups, 4.0, sfreq=128.0,
                     feature_names=table.feature_names)


def test_a_table_of_extracted_features_predicts_as_the_raw_pipeline(tmp_path):
    """CSV keeps every float32 feature exactly: the table pipeline is the raw one."""
    from sleepstage.parallel import extract_features

    data = make_synthetic(n_recordings=2, hours=0.25, random_state=1, artefact_rate=0)
    features, names = extract_features(data, n_jobs=1)
    frame = FeatureTable(features, data.y, data.groups, data.epoch_length, onsets=data.onsets,
                         feature_names=names).to_frame()
    table = read_feature_table(_write(frame, tmp_path))
    settings = dict(scaler=False, smoothing=None, n_estimators=10, n_jobs=1)
    raw = fit_with_groups(make_staging_pipeline(**data.layout(), **settings), data.X, data.y,
                          data.groups, exclude_artefacts=False)
    tab = fit_with_groups(make_staging_pipeline(**table.layout(), **settings), table.X,
                          table.y, table.groups, exclude_artefacts=False)
    np.testing.assert_array_equal(predict_with_groups(tab, table.X, table.groups),
                                  predict_with_groups(raw, data.X, data.groups))


def test_python_fits_and_cross_validation_train_on_every_epoch_of_a_table(tmp_path):
    """No raw signal, no artefact judgement: the defaults work on a table (has_signal)."""
    from sleepstage.parallel import fit_pipeline, grid_search
    from sleepstage.pipelines import cross_validate_recordings

    rng = np.random.default_rng(1)
    epochs = np.tile(np.arange(24), 3)
    stages = np.tile(np.repeat(["WAKE", "NREM", "REM"], 8), 3)
    frame = pd.DataFrame({"recording": np.repeat(["m1", "m2", "m3"], 24), "epoch": epochs,
                          "onset": epochs * 4.0, "stage": stages,
                          "log_delta": rng.normal(size=72) + (stages == "NREM"),
                          "log_emg": rng.normal(size=72) + (stages == "WAKE")})
    table = read_feature_table(_write(frame, tmp_path))
    assert table.has_signal is False and EpochData.has_signal is True
    settings = dict(scaler=False, smoothing=None, n_estimators=5, min_child_samples=2,
                    n_jobs=1)
    pipeline = make_staging_pipeline(**table.layout(), **settings)
    assert fit_pipeline(pipeline, table).predict(table.X).shape == (table.n_epochs,)
    report = cross_validate_recordings(pipeline, table, cv="recording")
    assert len(report.folds) == 3
    search = grid_search(pipeline, table, {"classifier__n_estimators": [3, 5]},
                         cv="recording")
    assert search.best_params_
