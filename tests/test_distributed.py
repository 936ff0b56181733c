"""The same feature extraction and grid search on a Dask cluster give the local results."""

from __future__ import annotations

from functools import partial

import joblib
import numpy as np
import pytest

from sleepstage.data import make_synthetic
from sleepstage.parallel import extract_features, grid_search
from sleepstage.pipelines import make_staging_pipeline, predict_with_groups

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    """Two single-threaded worker processes: tasks really travel pickled to other processes."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def data():
    return make_synthetic(n_recordings=3, hours=0.5, random_state=0)


def test_extract_features_on_dask_equals_local(client, data):
    local, names = extract_features(data)
    with distributed.get_task_stream(client) as stream, \
            joblib.parallel_config(backend="dask"):
        remote, remote_names = extract_features(data)
    assert len(stream.data) >= 3  # one task per recording ran on the cluster
    np.testing.assert_array_equal(remote, local)
    np.testing.assert_array_equal(remote_names, names)


def test_loaders_run_on_dask_workers(client):
    loaders = [partial(make_synthetic, n_recordings=1, hours=0.1, random_state=seed)
               for seed in (5, 6, 7)]
    local = np.concatenate([extract_features(load())[0] for load in loaders])
    with joblib.parallel_config(backend="dask"):
        remote, _ = extract_features(loaders, n_jobs=-1)
    np.testing.assert_array_equal(remote, local)


def test_grid_search_on_dask_equals_local(client, data):
    pipe = make_staging_pipeline(n_estimators=10, n_jobs=1)
    grid = {"num_leaves": [4, 8], "learning_rate": [0.1, 0.3]}
    local = grid_search(pipe, data, grid, n_jobs=1)
    with joblib.parallel_config(backend="dask"):
        remote = grid_search(pipe, data, grid)
    assert len(remote.cv_results_["params"]) == 4
    for k in range(3):
        key = f"split{k}_test_score"
        np.testing.assert_allclose(remote.cv_results_[key], local.cv_results_[key], atol=1e-12)
    assert remote.best_params_ == local.best_params_
    np.testing.assert_array_equal(
        predict_with_groups(remote.best_estimator_, data.X, data.groups),
        predict_with_groups(local.best_estimator_, data.X, data.groups),
    )
