"""``--feature-table`` on fit, predict, evaluate, grid-search and importances.

A synthetic table from ``sleepstage features`` goes through the chain in-process (tiny
models); the error paths of mixing sources, options that act on signals and columns that
differ from the model's; and the real mouse (``benchmarks/mouse_table.py``) end to end:
fit on Baseline, score Recovery.
"""

from __future__ import annotations

import importlib.util
import json
import re
import zipfile

import numpy as np
import pandas as pd
import pytest
from _cli_runner import run_main
from conftest import REPO_ROOT, require_file

from sleepstage.cli import main
from sleepstage.io import load_model
from sleepstage.metrics import staging_scores

FAST = ["--set", "n_jobs=1", "--set", "n_estimators=15", "--set", "num_leaves=7"]


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """Feature tables of 2 scored synthetic mice (2 x 450 epochs) and of another one."""
    folder = tmp_path_factory.mktemp("tables")
    train, test = folder / "train.csv", folder / "test.parquet"
    assert main(["features", "--synthetic", "2", "--hours", "0.5", "-o", str(train),
                 "--n-jobs", "1", "-q"]) == 0
    assert main(["features", "--synthetic", "1", "--seed", "3", "--hours", "0.25", "-o",
                 str(test), "--n-jobs", "1", "-q"]) == 0
    return train, test


@pytest.fixture(scope="module")
def table_model(tables, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "table.joblib"
    assert main(["fit", "--feature-table", str(tables[0]), *FAST, "-o", str(path), "-q"]) == 0
    return path


def test_fit_records_that_the_model_reads_feature_tables(tables, table_model):
    model = load_model(table_model)
    columns = [c for c in pd.read_csv(tables[0], nrows=1).columns
               if c not in ("recording", "epoch", "onset", "stage")]
    assert model.input_features == columns
    assert model.metadata["input"] == "features"
    assert model.epoch_length == 4.0 and model.sfreq is None and model.ch_names is None
    assert model.metadata["feature_names"][0] == columns[0]  # the table's names, not x0
    assert model.metadata["sources"] == [f"feature table: {tables[0]}"]
    assert [name for name, _ in model.pipeline.steps] == ["scaler", "context", "classifier"]
    assert model.metadata["training_data"]["n_recordings"] == 2


def test_predict_on_a_table_writes_the_hypnogram(capsys, tables, table_model, tmp_path):
    status, out, err = run_main(capsys, "predict", table_model, "--feature-table", tables[1],
                                "-o", tmp_path, "--annotations")
    assert status == 0, err
    table = pd.read_csv(tmp_path / "synthetic-seed3-0_hypnogram.csv")
    given = pd.read_parquet(tables[1])
    assert list(table.columns) == ["epoch", "onset", "stage", "scored", "proba_WAKE",
                                   "proba_NREM", "proba_REM", "confidence"]
    np.testing.assert_array_equal(table.onset, given.onset)
    assert table.scored.tolist() == given.stage.tolist()
    assert (tmp_path / "synthetic-seed3-0_hypnogram.edf").is_file()
    assert staging_scores(table.scored, table.stage)["balanced_accuracy"] > 0.8
    assert "balanced accuracy" in out


def test_columns_in_another_order_give_the_same_scores(capsys, tables, table_model, tmp_path):
    frame = pd.read_parquet(tables[1])
    keys, features = list(frame.columns[:4]), list(frame.columns[4:])
    frame[keys + features[::-1]].to_csv(tmp_path / "reversed.csv", index=False)
    for name, table in (("a", tables[1]), ("b", tmp_path / "reversed.csv")):
        assert run_main(capsys, "predict", table_model, "--feature-table", table,
                        "-o", tmp_path / name)[0] == 0
    csv = "synthetic-seed3-0_hypnogram.csv"
    assert (tmp_path / "a" / csv).read_bytes() == (tmp_path / "b" / csv).read_bytes()


def test_evaluate_on_tables(capsys, tables, tmp_path):
    status, _, err = run_main(capsys, "evaluate", "--feature-table", tables[0], *FAST,
                              "--set", "smoothing=null", "-o", tmp_path / "ev.json")
    assert status == 0, err
    results = json.loads((tmp_path / "ev.json").read_text())
    assert results["n_recordings"] == 2 and results["n_epochs"] == 900
    assert results["overall"]["balanced_accuracy"] > 0.5  # chance: 1/3; raw data: 0.57
    assert results["sources"] == [f"feature table: {tables[0]}"]


@pytest.mark.slow
def test_grid_search_on_tables(capsys, tables, tmp_path):
    status, _, err = run_main(capsys, "grid-search", "--feature-table", tables[0], *FAST,
                              "--set", "smoothing=null", "--grid", "num_leaves=4,7",
                              "-o", tmp_path / "gs")
    assert status == 0, err
    best = load_model(tmp_path / "gs" / "best_model.joblib")
    assert best.input_features == load_model_columns(tables[0])


def load_model_columns(path) -> list[str]:
    return list(pd.read_csv(path, nrows=1).columns[4:])


@pytest.mark.slow
def test_importances_name_the_table_columns(capsys, tables, table_model, tmp_path):
    status, _, err = run_main(capsys, "importances", table_model, "--feature-table",
                              tables[1], "--kind", "gain,permutation", "--n-repeats", "1",
                              "-o", tmp_path)
    assert status == 0, err
    table = pd.read_csv(tmp_path / "importances.csv")
    assert not table.feature.str.match(r"x\d+").any()
    assert "eeg1_delta_relpower" in set(table.feature)
    assert {"eeg1", "eeg2", "emg"} <= set(table.channel)


@pytest.fixture(scope="module")
def raw_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("raw") / "raw.joblib"
    assert main(["fit", "--synthetic", "1", "--hours", "0.25", *FAST, "-o", str(path),
                 "-q"]) == 0
    return path


def _bad_tables(tables, tmp_path):
    frame = pd.read_csv(tables[0])
    frame.drop(columns=["eeg1_sef95"]).assign(mood=1.0).to_csv(tmp_path / "cols.csv",
                                                                index=False)
    frame.drop(columns=["stage"]).to_csv(tmp_path / "unscored.csv", index=False)
    frame.drop(index=[5, 6]).to_csv(tmp_path / "gap.csv", index=False)


@pytest.mark.parametrize("command, match", [
    (["fit", "--feature-table", "{train}", "--synthetic", "1"],
     "fit: error: --feature-table cannot be combined with raw-signal sources"),
    (["fit", "--feature-table", "{train}", "--channel", "eeg1"],
     "--channel acts on raw signals"),
    (["fit", "--feature-table", "{train}", "--sfreq", "100"], "--sfreq acts on raw signals"),
    (["fit", "--feature-table", "{train}", "--set", "features=true"],
     "--set features=... does not apply to feature tables"),
    (["fit", "--feature-table", "{train}", "--pipeline", "lstm"],
     "--pipeline lstm reads raw epochs; a feature table needs a feature-based pipeline"),
    (["fit", "--feature-table", "{tmp}/unscored.csv"],
     "fit needs scored epochs, but the feature table.s. have no 'stage' column"),
    (["fit", "--feature-table", "{tmp}/gap.csv"],
     r"gap.csv: missing epochs: recording 'synthetic-0' lacks epoch\(s\) 5-6"),
    (["fit", "--feature-table", "{train}", "--feature-table", "{train}"],
     "Recording ids repeat across the feature tables"),
    (["predict", "{table_model}", "--feature-table", "{tmp}/cols.csv"],
     "cols.csv: its feature columns are not those the model .*table.joblib was fitted on. "
     "The feature columns differ: missing 'eeg1_sef95'; extra 'mood'"),
    (["evaluate", "--model", "{table_model}", "--feature-table", "{tmp}/cols.csv"],
     "missing 'eeg1_sef95'; extra 'mood'"),
    (["predict", "{table_model}", "--synthetic", "1", "--hours", "0.1"],
     "was fitted on feature tables .*: give its data with --feature-table"),
    (["predict", "{table_model}", "--feature-table", "{train}", "--epoch-length", "30"],
     "--epoch-length 30 contradicts the model's 4-s epochs"),
    (["predict", "{raw_model}", "--feature-table", "{train}"],
     "reads raw epochs .*not feature tables"),
    (["importances", "{raw_model}", "--feature-table", "{train}"],
     "reads raw epochs .*not feature tables"),
    (["fit", "--feature-table", "{tmp}/table.xlsx"], "must be .csv, .parquet or .pq"),
    (["features", "--feature-table", "{train}", "-o", "{tmp}/f.csv"],
     "a --feature-table already holds them"),
])
def test_errors_name_the_problem(capsys, tables, table_model, raw_model, tmp_path, command,
                                 match):
    _bad_tables(tables, tmp_path)
    names = {"train": tables[0], "tmp": tmp_path, "table_model": table_model,
             "raw_model": raw_model}
    argv = [a.format(**names) for a in command]
    if argv[0] in ("fit", "predict", "evaluate", "importances"):
        argv += ["-o", str(tmp_path / ("out" if argv[0] != "fit" else "m.joblib"))]
    status, _, err = run_main(capsys, *argv)
    assert status != 0
    assert re.search(match, err), err
    assert not (tmp_path / "m.joblib").exists()


def test_a_lab_table_with_numeric_ids_and_unscored_epochs(capsys, tmp_path):
    """A table made by hand: ids 1 and 2, any feature names, 10-s epochs, empty stages."""
    rng = np.random.default_rng(0)
    stages = np.tile(np.repeat(["WAKE", "NREM", "REM"], [40, 50, 10]), 6)
    n = len(stages) // 2
    frame = pd.DataFrame({
        "recording": np.repeat([1, 2], n), "epoch": np.tile(np.arange(n), 2),
        "onset": np.tile(np.arange(n) * 10.0, 2), "stage": stages.astype(object),
        "Delta (uV^2)": rng.normal(size=2 * n) + 2.0 * (stages == "NREM"),
        "EMG integral": rng.normal(size=2 * n) + 2.0 * (stages == "WAKE"),
    })
    frame.loc[[3, 4], "stage"] = None  # unscored: left out
    frame.to_csv(tmp_path / "lab.csv", index=False)
    status, _, err = run_main(capsys, "fit", "--feature-table", tmp_path / "lab.csv", *FAST,
                              "--set", "smoothing=null", "--set", "context=false",
                              "-o", tmp_path / "lab.joblib")
    assert status == 0, err
    model = load_model(tmp_path / "lab.joblib")
    assert model.epoch_length == 10.0
    assert model.input_features == ["Delta (uV^2)", "EMG integral"]
    status, _, err = run_main(capsys, "predict", tmp_path / "lab.joblib", "--feature-table",
                              tmp_path / "lab.csv", "-o", tmp_path / "out")
    assert status == 0, err
    first = pd.read_csv(tmp_path / "out" / "recording-1_hypnogram.csv")
    assert len(first) == n - 2 and first.onset.tolist()[2:4] == [20.0, 50.0]
    assert (tmp_path / "out" / "recording-2_hypnogram.csv").is_file()


def _mouse_table_module():
    spec = importlib.util.spec_from_file_location(
        "mouse_table", REPO_ROOT / "benchmarks" / "mouse_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_real_mouse_through_the_command_line(capsys, tmp_path):
    """Fit on the Baseline table, score the Recovery table (17.8 h after deprivation)."""
    source = require_file("mouse-bandpower/zfhx3_subject2.csv")
    paths = _mouse_table_module().write_mouse_tables(tmp_path, path=source)
    model = tmp_path / "mouse.joblib"
    status, _, err = run_main(capsys, "fit", "--feature-table", paths["Baseline"], "-o", model)
    assert status == 0, err
    with zipfile.ZipFile(model) as archive:
        meta = json.loads(archive.read("metadata.json"))["metadata"]
    assert meta["input_features"][:2] == ["log_delta", "log_theta"]
    status, _, err = run_main(capsys, "predict", model, "--feature-table", paths["Recovery"],
                              "-o", tmp_path / "scored")
    assert status == 0, err
    scored = pd.read_csv(tmp_path / "scored" / "Recovery_hypnogram.csv")
    assert len(scored) == 16060 - 5  # the five unscored epochs are left out
    assert staging_scores(scored.scored, scored.stage)["balanced_accuracy"] > 0.9
