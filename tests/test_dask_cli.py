"""``--dask-scheduler``: the CLI's parallel work runs on a Dask cluster, with local results.

A two-worker ``LocalCluster`` stands in for a real cluster: each command runs once locally
and once with ``--dask-scheduler <address>``, the task stream shows that work reached the
workers, and the outputs are compared. Most tests use in-process workers (threads: quick to
start on a loaded machine, tasks still go through the scheduler); one runs on worker
processes, where every task travels pickled over TCP as on a real cluster.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from _cli_runner import run_main

from sleepstage.data import make_synthetic
from sleepstage.io import load_model
from sleepstage.pipelines import predict_with_groups

distributed = pytest.importorskip("distributed")

FAST = ["--set", "n_jobs=1", "--set", "n_estimators=10", "--set", "num_leaves=7"]
SYNTH = ["--synthetic", "2", "--hours", "0.25"]  # 2 x 225 epochs


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        yield cluster.scheduler_address, client


def run(capsys, *args) -> tuple[int, str, str]:
    status, out, err = run_main(capsys, *args)
    assert status == 0, err
    return status, out, err


def on_cluster(capsys, cluster, *args) -> tuple[str, str, int]:
    """Run the command with --dask-scheduler; returns (stdout, stderr, tasks run)."""
    address, client = cluster
    with distributed.get_task_stream(client) as stream:
        _, out, err = run(capsys, *args, "--dask-scheduler", address)
    return out, err, len(stream.data)


def test_features_on_dask_equal_local(capsys, cluster, tmp_path):
    args = ["features", "--synthetic", "3", "--hours", "0.1", "--context"]
    run(capsys, *args, "-o", tmp_path / "local.csv")
    _, err, tasks = on_cluster(capsys, cluster, *args, "--n-jobs", "2",
                               "-o", tmp_path / "dask.csv")
    assert tasks >= 3  # one task per recording
    assert "--n-jobs 2 is ignored with --dask-scheduler" in err
    local, remote = pd.read_csv(tmp_path / "local.csv"), pd.read_csv(tmp_path / "dask.csv")
    assert len(remote) == 270 and any("__mean_c60s" in c for c in remote.columns)
    pd.testing.assert_frame_equal(remote, local)


def test_evaluate_on_dask_equals_local(capsys, cluster, tmp_path):
    args = ["evaluate", *SYNTH, *FAST]
    run(capsys, *args, "-o", tmp_path / "local.json")
    _, _, tasks = on_cluster(capsys, cluster, *args, "-o", tmp_path / "dask.json")
    assert tasks >= 2  # one task per fold
    local = json.loads((tmp_path / "local.json").read_text())
    remote = json.loads((tmp_path / "dask.json").read_text())
    assert len(remote["folds"]) == 2
    for got, want in zip(remote["folds"], local["folds"], strict=True):
        for key in ("balanced_accuracy", "kappa", "accuracy", "f1", "confusion",
                    "test_recordings"):
            assert got[key] == want[key]
    assert remote["overall"] == local["overall"]


def test_evaluate_on_worker_processes_equals_local(capsys, tmp_path):
    args = ["evaluate", *SYNTH, *FAST, "--cv", "blocks:2"]
    run(capsys, *args, "-o", tmp_path / "local.json")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        assert cluster.scheduler_address.startswith("tcp://")
        _, _, tasks = on_cluster(capsys, (cluster.scheduler_address, client), *args,
                                 "-o", tmp_path / "dask.json")
    assert tasks >= 2
    local = json.loads((tmp_path / "local.json").read_text())
    remote = json.loads((tmp_path / "dask.json").read_text())
    assert remote["cv"] == "blocks:2" and len(remote["folds"]) == 2
    strip = [{k: v for k, v in fold.items() if not k.endswith("_seconds")}
             for fold in remote["folds"]]
    assert strip == [{k: v for k, v in fold.items() if not k.endswith("_seconds")}
                     for fold in local["folds"]]
    assert remote["overall"] == local["overall"]


def test_grid_search_on_dask_equals_local(capsys, cluster, tmp_path):
    args = ["grid-search", *SYNTH, *FAST, "--grid", "num_leaves=4,7",
            "--grid", "learning_rate=0.1,0.3"]
    run(capsys, *args, "-o", tmp_path / "local")
    out, _, tasks = on_cluster(capsys, cluster, *args, "-o", tmp_path / "dask")
    assert "4 candidate(s) x 2 folds (recording) = 8 fits" in out
    assert tasks >= 2  # (candidate, fold) fits reached the workers; joblib may batch them
    local = pd.read_csv(tmp_path / "local" / "cv_results.csv")
    remote = pd.read_csv(tmp_path / "dask" / "cv_results.csv")
    scores = [c for c in local.columns if c.startswith("split") or c.startswith("rank")]
    assert {"split0_test_score", "split1_test_kappa", "rank_test_score"} <= set(scores)
    pd.testing.assert_frame_equal(remote[["params", *scores]], local[["params", *scores]])
    best = [json.loads((tmp_path / d / "best_params.json").read_text())
            for d in ("local", "dask")]
    assert best[0]["best_params"] == best[1]["best_params"]
    assert best[0]["best_score"] == best[1]["best_score"]


def test_fit_on_dask_equals_local(capsys, cluster, tmp_path):
    args = ["fit", *SYNTH, *FAST]
    run(capsys, *args, "-o", tmp_path / "local.joblib")
    _, _, tasks = on_cluster(capsys, cluster, *args, "-o", tmp_path / "dask.joblib")
    assert tasks >= 2  # the features of each recording
    local, remote = load_model(tmp_path / "local.joblib"), load_model(tmp_path / "dask.joblib")
    test = make_synthetic(n_recordings=1, hours=0.25, random_state=5)
    np.testing.assert_array_equal(
        predict_with_groups(remote.pipeline, test.X, test.groups, method="predict_proba"),
        predict_with_groups(local.pipeline, test.X, test.groups, method="predict_proba"),
    )
