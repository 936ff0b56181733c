"""Feature batches run on local threads whatever joblib backend the caller has active.

``EpochFeatures(n_jobs != 1)`` writes every batch into one output array through closures,
which neither pickle nor share memory with another process: under
``joblib.parallel_config(backend="loky")`` or the Dask backend they must still run on
threads of the calling process (a ``prefer="threads"`` hint is overridden by an explicit
backend: ``PicklingError`` under loky, a hang under an in-process Dask cluster).
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pytest

from sleepstage.data import make_synthetic
from sleepstage.features import EpochFeatures
from sleepstage.features._engine import run_batches
from sleepstage.pipelines import make_staging_pipeline

# Seconds a call may take before the test calls it hung (a failed Dask submission never
# resolves its future).
_HANG = 60


@pytest.fixture(scope="module")
def epochs() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((96, 1536)).astype(np.float32)


@pytest.fixture(scope="module")
def serial(epochs) -> np.ndarray:
    return EpochFeatures(n_jobs=1).fit_transform(epochs)


def _within(seconds: float, func, *args):
    """``func(*args)``, failing the test instead of hanging when it takes over ``seconds``."""
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(func, *args).result(timeout=seconds)
    finally:
        pool.shutdown(wait=False)


def _fit_then_transform(X: np.ndarray, n_jobs: int) -> tuple[np.ndarray, np.ndarray]:
    # batch_size 16: six batches, so that n_jobs > 1 really dispatches them
    feats = EpochFeatures(n_jobs=n_jobs, batch_size=16)
    return feats.fit(X).transform(X), feats.fit_transform(X)


@pytest.mark.parametrize("n_jobs", [2, -1])
def test_epoch_features_under_loky_backend(epochs, serial, n_jobs):
    with joblib.parallel_config(backend="loky", n_jobs=2):
        transformed, fitted = _fit_then_transform(epochs, n_jobs)
    np.testing.assert_array_equal(transformed, serial)
    np.testing.assert_array_equal(fitted, serial)


def test_batches_run_on_threads_of_this_process_under_loky():
    seen = []

    def record(start, stop, fft_workers, workspace):
        seen.append((os.getpid(), threading.get_ident(), start, stop))

    with joblib.parallel_config(backend="loky"):
        run_batches(100, 10, record, n_jobs=2)
    assert sorted((start, stop) for _, _, start, stop in seen) == [
        (k, k + 10) for k in range(0, 100, 10)
    ]
    assert {pid for pid, *_ in seen} == {os.getpid()}


def test_n_jobs_none_follows_the_enclosing_config():
    threads = set()

    def record(start, stop, fft_workers, workspace):
        threads.add(threading.get_ident())
        time.sleep(0.01)  # let the other thread pick up a batch

    with joblib.parallel_config(backend="loky", n_jobs=2):
        run_batches(40, 4, record)
    assert len(threads) == 2


def test_default_pipeline_fits_under_loky_backend():
    """make_staging_pipeline() extracts features with n_jobs=-1, the case the Dask recipe hits."""
    data = make_synthetic(n_recordings=1, hours=0.25, random_state=0)
    with joblib.parallel_config(backend="loky"):
        pipe = make_staging_pipeline(n_estimators=5, scaler=False, features={"batch_size": 64})
        pipe.fit(data.X, data.y)
        pred = pipe.predict(data.X)
    assert pred.shape == data.y.shape


def _under_dask(X: np.ndarray, n_jobs: int) -> tuple[np.ndarray, np.ndarray]:
    # joblib's configuration is thread-local: enter it on the thread that does the work
    with joblib.parallel_config(backend="dask"):
        return _fit_then_transform(X, n_jobs)


def test_epoch_features_under_dask_backend(epochs, serial):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client, \
            distributed.get_task_stream(client) as stream:
        for n_jobs in (2, -1):
            transformed, fitted = _within(_HANG, _under_dask, epochs, n_jobs)
            np.testing.assert_array_equal(transformed, serial)
            np.testing.assert_array_equal(fitted, serial)
    assert stream.data == []  # no batch was sent to the cluster
