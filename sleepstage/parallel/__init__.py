"""Parallel and distributed work over recordings: feature extraction, fitting, grid search.

These functions schedule their tasks through :mod:`joblib`, so the same call runs on one
core, on all cores of a machine (``n_jobs=-1``) or on a Dask cluster::

    from dask.distributed import Client
    import joblib

    client = Client("tcp://scheduler:8786")          # or LocalCluster()
    with joblib.parallel_config(backend="dask"):
        features, names = extract_features(recordings, n_jobs=-1)
        model = fit_pipeline(make_staging_pipeline(**data.layout()), data, n_jobs=-1)
        search = grid_search(make_staging_pipeline(), data, {"num_leaves": [15, 31]}, n_jobs=-1)

Results do not depend on where they ran: each task computes the same numbers as the
serial run (see ``docs/scaling.md``).

Threads
-------
The package's estimators have threads of their own: LightGBM trains on ``n_jobs`` threads
(LightGBM's own default in :func:`~sleepstage.pipelines.make_classifier`: every core) and
:class:`~sleepstage.features.EpochFeatures` may process batches on threads. When the tasks
of a function below run in parallel, every nested ``n_jobs`` parameter is set to 1, so that
``n_jobs`` workers each running a multi-threaded fit do not oversubscribe the cores (with
2 cores, 2 workers x 2 LightGBM threads is slower than either alone). When they run one
after the other, the nested settings are left as they are.
"""

from .._internal.threads import limit_threads
from ..metrics import SCORING, StagingScorer
from ._features import extract_features
from ._fit import fit_pipeline
from ._grid_search import grid_search

__all__ = [
    "SCORING",
    "StagingScorer",
    "extract_features",
    "fit_pipeline",
    "grid_search",
    "limit_threads",
]
