"""The command line's parallel options, OpenMP start-up setting and quiet neural training.

``--n-jobs`` / ``--dask-scheduler`` on fit, evaluate, grid-search and features (the Dask
runs themselves are in ``tests/test_dask_cli.py``), ``OMP_WAIT_POLICY=PASSIVE`` for
LightGBM's OpenMP runtime in both entry points, and ``--quiet`` silencing skorch's
per-epoch table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _cli_runner import run_main

from sleepstage.data import make_synthetic
from sleepstage.features import RecordingScaler
from sleepstage.io import load_model
from sleepstage.pipelines import (
    fit_with_groups,
    make_staging_pipeline,
    predict_with_groups,
    scaler_min_epochs,
)

FAST = ["--set", "n_jobs=1", "--set", "n_estimators=10", "--set", "num_leaves=7"]
SYNTH = ["--synthetic", "2", "--hours", "0.25"]  # 2 x 225 epochs
PARALLEL_COMMANDS = ["fit", "evaluate", "grid-search", "features"]


@pytest.mark.parametrize("command", PARALLEL_COMMANDS)
def test_parallel_options_in_help(capsys, command):
    status, out, _ = run_main(capsys, command, "--help")
    assert status == 0
    assert "--n-jobs N" in out and "--dask-scheduler ADDRESS" in out
    assert 'pip install "sleepstage[distributed]"' in " ".join(out.split())


def test_n_jobs_zero_is_a_usage_error(capsys, tmp_path):
    status, _, err = run_main(capsys, "features", "--synthetic", "1", "--hours", "0.05",
                              "--n-jobs", "0", "-o", tmp_path / "f.csv")
    assert status == 2 and "--n-jobs 0" in err
    assert not (tmp_path / "f.csv").exists()


def test_missing_distributed_extra_exits_1(capsys, tmp_path, monkeypatch):
    # an import of dask.distributed fails as it does without the extra
    for name in ("distributed", "dask.distributed"):
        monkeypatch.setitem(sys.modules, name, None)
    for command in PARALLEL_COMMANDS:
        status, out, err = run_main(capsys, command, "--synthetic", "1", "--hours", "0.05",
                                    "--grid", "num_leaves=4,7", "--dask-scheduler",
                                    "tcp://127.0.0.1:1", "-o", tmp_path / "out") \
            if command == "grid-search" else \
            run_main(capsys, command, "--synthetic", "1", "--hours", "0.05",
                     "--dask-scheduler", "tcp://127.0.0.1:1", "-o", tmp_path / "out")
        assert status == 1, err
        assert err.count("\n") == 1 and 'pip install "sleepstage[distributed]"' in err
        assert "Traceback" not in err and out == ""
    assert not (tmp_path / "out").exists()


def test_features_n_jobs_equal_serial_and_pipeline(capsys, tmp_path):
    args = ["features", "--synthetic", "3", "--hours", "0.25", "--context"]
    for n_jobs in (1, 2):
        status, _, err = run_main(capsys, *args, "--n-jobs", n_jobs,
                                  "-o", tmp_path / f"n{n_jobs}.csv")
        assert status == 0, err
    serial, parallel = (pd.read_csv(tmp_path / f"n{n}.csv") for n in (1, 2))
    pd.testing.assert_frame_equal(parallel, serial)
    # the same numbers as the default pipeline's steps before its classifier
    data = make_synthetic(n_recordings=3, hours=0.25, random_state=0)
    scaler = RecordingScaler(reference="recording",  # exported tables carry no labels
                             min_epochs=scaler_min_epochs(data.epoch_length))
    steps = make_staging_pipeline(**data.layout(), scaler=scaler, smoothing=None)[:-1]
    Xt = data.X
    for i, (_, step) in enumerate(steps.steps):
        Xt = step.fit_transform(Xt) if i == 0 else step.fit_transform(Xt, groups=data.groups)
    assert serial.columns[4:].tolist() == steps.get_feature_names_out().tolist()
    np.testing.assert_allclose(serial.iloc[:, 4:].to_numpy(), Xt, rtol=1e-6, atol=1e-6)


def test_features_set_n_jobs_points_to_option(capsys, tmp_path):
    status, _, err = run_main(capsys, "features", "--synthetic", "1", "--hours", "0.05",
                              "--set", "n_jobs=2", "-o", tmp_path / "f.csv")
    assert status == 2 and "--n-jobs" in err


def test_evaluate_n_jobs_equal_serial(capsys, tmp_path):
    results = []
    for n_jobs in (1, 2):
        out = tmp_path / f"n{n_jobs}.json"
        status, _, err = run_main(capsys, "evaluate", *SYNTH, *FAST, "--n-jobs", n_jobs,
                                  "-o", out)
        assert status == 0, err
        results.append(json.loads(out.read_text()))
    serial, parallel = results
    for got, want in zip(parallel["folds"], serial["folds"], strict=True):
        for key in ("balanced_accuracy", "kappa", "f1", "confusion", "test_recordings"):
            assert got[key] == want[key]
    assert parallel["overall"] == serial["overall"]


def test_grid_search_uses_library_search(capsys, tmp_path, monkeypatch):
    import sleepstage.parallel

    calls = []
    original = sleepstage.parallel.grid_search

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(sleepstage.parallel, "grid_search", spy)
    status, out, err = run_main(capsys, "grid-search", *SYNTH, *FAST, "--grid",
                                "num_leaves=4,7", "--n-jobs", "2", "-o", tmp_path / "g")
    assert status == 0, err
    assert len(calls) == 1
    assert calls[0]["n_jobs"] == 2 and calls[0]["cv"] == "recording"
    assert calls[0]["scoring"] == ["balanced_accuracy", "kappa"]
    assert "2 candidate(s) x 2 folds (recording) = 4 fits" in out
    table = pd.read_csv(tmp_path / "g" / "cv_results.csv")
    np.testing.assert_allclose(table.mean_test_score,
                               table[["split0_test_score", "split1_test_score"]].mean(axis=1))
    assert table.rank_test_score.min() == 1


def test_fit_n_jobs_equals_fit_with_groups(capsys, tmp_path):
    status, _, err = run_main(capsys, "fit", *SYNTH, *FAST, "--n-jobs", "2",
                              "-o", tmp_path / "m.joblib")
    assert status == 0, err
    model = load_model(tmp_path / "m.joblib")
    assert model.pipeline.get_params()["features__n_jobs"] == -1  # the pipeline's own
    data = make_synthetic(n_recordings=2, hours=0.25, random_state=0)
    reference = make_staging_pipeline(**data.layout(), n_jobs=1, n_estimators=10, num_leaves=7)
    fit_with_groups(reference, data.X, data.y, data.groups, layout=data.layout())
    test = make_synthetic(n_recordings=1, hours=0.25, random_state=4)
    np.testing.assert_array_equal(
        predict_with_groups(model.pipeline, test.X, test.groups, method="predict_proba"),
        predict_with_groups(reference, test.X, test.groups, method="predict_proba"),
    )


# -- OMP_WAIT_POLICY ---------------------------------------------------------------------------
def test_main_sets_passive_wait_policy_unless_set(capsys, monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert run_main(capsys, "--version")[0] == 0
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    assert run_main(capsys, "--version")[0] == 0
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"


def _entry_points() -> list[list[str]]:
    script = Path(sys.executable).with_name("sleepstage")
    return [[sys.executable, "-m", "sleepstage"],
            *([[str(script)]] if script.exists() else [])]


@pytest.mark.cli
@pytest.mark.parametrize("command", _entry_points(), ids=lambda c: " ".join(c[-2:]))
def test_lightgbm_openmp_runtime_waits_passively(command, tmp_path):
    """libgomp reports its settings (OMP_DISPLAY_ENV) when it loads: LightGBM's copy, loaded
    after ``main`` started, must see PASSIVE, i.e. a spin count of 0 (300000 when unset)."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    env.update(OMP_DISPLAY_ENV="VERBOSE", PYTHONWARNINGS="ignore")
    args = ["features", "--context", "--synthetic", "1", "--hours", "0.02",
            "-o", str(tmp_path / "f.csv")]  # --context builds the pipeline: imports LightGBM

    def spin_counts(*extra: str) -> list[str]:
        done = subprocess.run([*command, *args, *extra], capture_output=True, text=True,
                              env=env, timeout=300, check=True)
        return [line.split("=")[1].strip() for line in done.stderr.splitlines()
                if "GOMP_SPINCOUNT" in line]

    assert "'0'" in spin_counts()
    env["OMP_WAIT_POLICY"] = "ACTIVE"  # an explicit setting of the user is kept
    active = spin_counts("--force")
    assert active and set(active) == {"'30000000000'"}


# -- --quiet and the neural models ---------------------------------------------------------------
@pytest.mark.neural
def test_quiet_silences_skorch_epoch_table(capsys, tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("skorch")
    args = ["fit", "--synthetic", "2", "--hours", "0.05", "--pipeline", "cnn",
            "--set", "max_epochs=2", "--set", "n_threads=1"]
    status, out, err = run_main(capsys, *args, "-o", tmp_path / "loud.joblib")
    assert status == 0, err
    assert "train_loss" in out and "valid_loss" in out  # skorch's table, without --quiet
    status, out, err = run_main(capsys, *args, "--quiet", "-o", tmp_path / "quiet.joblib")
    assert status == 0, err
    for text in ("train_loss", "valid_loss", "epoch ", "Restoring best model"):
        assert text not in out and text not in err
    assert out.startswith("Fitted cnn on 90 epochs")
    model = load_model(tmp_path / "quiet.joblib", trust_pickle=True)  # neural: a pickle
    assert model.pipeline.get_params()["classifier__estimator__verbose"] == 0
    # a model file refitted under --quiet (evaluate --model) is silenced too
    status, out, err = run_main(capsys, "evaluate", "--model", tmp_path / "loud.joblib",
                                "--trust-pickle", "--synthetic", "2", "--hours", "0.05",
                                "--quiet",
                                "-o", tmp_path / "e.json")
    assert status == 0, err
    assert "train_loss" not in out and "train_loss" not in err
