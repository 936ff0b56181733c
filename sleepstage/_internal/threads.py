"""Thread settings of estimators that run inside parallel tasks.

The package's estimators start threads of their own: LightGBM trains on ``n_jobs`` threads
and :class:`~sleepstage.features.EpochFeatures` may process batches on ``n_jobs`` joblib
threads. When several tasks (folds, grid candidates, recordings) run at the same time,
each task should use one thread, or ``n_jobs`` workers each running a multi-threaded fit
oversubscribe the cores (with 2 cores, 2 workers x 2 LightGBM threads is slower than
either alone).

Why estimator parameters and not :func:`threadpoolctl.threadpool_limits` or joblib's
``parallel_config(inner_max_num_threads=...)``: those cap the OpenMP and BLAS pools of the
process they run in (threadpoolctl) or of loky worker processes (joblib), but a thread
count that an estimator sets itself wins over them (LightGBM sets ``num_threads`` for every
call; measured with LightGBM 4.7 and threadpoolctl 3.8: inside ``threadpool_limits(1)`` a
fit still keeps about two cores busy, CPU/wall time 1.9, with ``n_jobs=2`` as with
``n_jobs=None``), ``EpochFeatures`` dispatches its batches with its own ``n_jobs``, and
neither reaches the workers of a Dask cluster. Setting the ``n_jobs`` parameters of a clone
with scikit-learn's ``get_params`` / ``set_params`` works with every joblib backend, and the
changed values can be reported. Inside loky workers joblib still caps the OpenMP and BLAS
pools as usual.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["limit_threads"]


def limit_threads(estimator, *, keep: Sequence[str] = ()) -> tuple[Any, dict[str, Any]]:
    """Clone ``estimator`` with every nested ``n_jobs`` parameter set to 1.

    Parameters
    ----------
    estimator : estimator
    keep : sequence of str
        Parameter names left untouched (e.g. those a grid search varies).

    Returns
    -------
    estimator : clone of ``estimator``
    changed : dict
        The parameters that were changed, with their original values.

    Examples
    --------
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> limited, changed = limit_threads(RandomForestClassifier(n_jobs=2))
    >>> limited.n_jobs, changed
    (1, {'n_jobs': 2})
    """
    from sklearn.base import clone  # here: importing this module must not load scikit-learn

    params = estimator.get_params(deep=True)
    changed = {name: value for name, value in params.items()
               if (name == "n_jobs" or name.endswith("__n_jobs")) and name not in keep
               and value != 1}
    limited = clone(estimator)
    if changed:
        limited.set_params(**dict.fromkeys(changed, 1))
    return limited, changed
