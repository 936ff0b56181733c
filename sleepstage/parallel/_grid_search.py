"""Grid search with recording-grouped folds, routed recording ids and per-recording scores."""

from __future__ import annotations

import logging
import numbers
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from joblib import effective_n_jobs
from sklearn import config_context
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from .._internal.threads import limit_threads
from .._internal.validation import check_scored
from .._internal.warnings import warn_once_per_message
from ..data import EpochData
from ..features import detect_artefacts
from ..metrics import StagingScorer
from ..pipelines import fit_kept_epochs, fit_with_groups, recording_folds

__all__ = ["grid_search"]

logger = logging.getLogger(__name__)


def _resolve_grid(estimator, param_grid) -> list[dict[str, list]]:
    """Expand short parameter names (``num_leaves``) into full ones when unambiguous."""
    grids = [param_grid] if isinstance(param_grid, Mapping) else list(param_grid)
    known = list(estimator.get_params(deep=True))
    resolved = []
    for grid in grids:
        if not isinstance(grid, Mapping):
            raise TypeError(f"param_grid must be a dict or a list of dicts, got {grid!r}.")
        out = {}
        for key, values in grid.items():
            if key not in known:
                matches = [name for name in known if name.endswith("__" + key)]
                if len(matches) != 1:
                    hint = (f"it matches {matches}; use the full name" if matches else
                            "no parameter of the pipeline has this name")
                    raise ValueError(f"Invalid parameter {key!r} in param_grid: {hint}.")
                key = matches[0]
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence | np.ndarray):
                raise TypeError(f"param_grid[{key!r}] must be a list of values, got {values!r}.")
            out[key] = list(values)
        resolved.append(out)
    return resolved


def grid_search(
    pipeline,
    data: EpochData,
    param_grid: Mapping[str, Sequence] | Sequence[Mapping[str, Sequence]],
    *,
    cv: Any = "recording",
    n_jobs: int | None = None,
    scoring: str | Sequence[str] = "balanced_accuracy",
    refit: bool | str = True,
    pre_dispatch: str | int = "2*n_jobs",
    error_score: Any = np.nan,
    verbose: int = 0,
    exclude_artefacts: bool = True,
) -> GridSearchCV:
    """Grid search with recording-grouped cross-validation and per-recording scoring.

    A :class:`~sklearn.model_selection.GridSearchCV` whose folds hold out whole recordings
    (or contiguous blocks of time), whose per-recording steps receive the recording ids
    (``groups``) through scikit-learn's metadata routing when fitting, and whose scorer
    (:class:`StagingScorer`) predicts each held-out recording separately, so temporal
    context and HMM smoothing never cross a recording boundary. Every fit sees the epochs
    that :func:`~sleepstage.pipelines.cross_validate_recordings` would train on, so a
    candidate's fold scores are those of ``cross_validate_recordings`` with its parameters.

    Parameters
    ----------
    pipeline : estimator
        Typically :func:`~sleepstage.pipelines.make_staging_pipeline` output; not modified.
    data : EpochData
        Labelled epochs with recording ids.
    param_grid : dict or list of dicts
        Parameter names to lists of values, as for ``GridSearchCV``. Short names
        (``num_leaves``) are expanded to the pipeline's full names
        (``classifier__estimator__num_leaves``) when unambiguous.
    cv : {"recording", "blocks:K", "blocks:K:GAP"} or splitter
        Leave-one-recording-out, K contiguous time blocks per recording (each block then
        counts as its own recording for the per-recording steps; GAP epochs on each side of
        a test block left out of training, by default the 60-s context window, see
        :class:`~sleepstage.pipelines.BlockSplit`), or a group-aware splitter called with
        the recording ids.
    n_jobs : int or None
        Parallel (candidate, fold) fits, joblib semantics; inside
        ``joblib.parallel_config(backend="dask")`` they run on the Dask cluster. When the
        fits run in parallel, nested ``n_jobs`` parameters (LightGBM threads, feature
        batch threads) not in ``param_grid`` are set to 1 to avoid oversubscription, for
        the refit too.
    scoring : str or sequence of str
        Metric(s) of :class:`StagingScorer`: ``"balanced_accuracy"`` (default),
        ``"kappa"``, ``"accuracy"``, ``"f1_macro"``.
    refit : bool, str or callable
        Refit the best candidate on all data, through
        :func:`~sleepstage.pipelines.fit_with_groups` with the true recording ids (also
        with ``cv="blocks:K"``) and, with ``exclude_artefacts``, without the flagged
        epochs. With several metrics, True refits on the first. A callable picks the best
        index from ``cv_results_``, as in ``GridSearchCV``.
    pre_dispatch, error_score
        As for ``GridSearchCV``.
    verbose : int
        As for ``GridSearchCV``, which prints on standard output: 1 announces the number of
        fits, 2 adds one line per finished (candidate, fold) fit, 3 its scores. With 1 or
        more, the refit also reports each step it fits, as
        :func:`~sleepstage.pipelines.fit_with_groups` does with ``verbose=1``.
    exclude_artefacts : bool
        Drop the epochs flagged by :func:`~sleepstage.features.detect_artefacts` (judged
        per recording, also with ``cv="blocks:K"``) from every training fold and
        from the refit, as :func:`~sleepstage.pipelines.cross_validate_recordings` and
        :func:`~sleepstage.pipelines.fit_with_groups` do; held-out epochs are all
        predicted and scored. Ignored for data without raw signal (a
        :class:`~sleepstage.data.FeatureTable`).

    Returns
    -------
    sklearn.model_selection.GridSearchCV
        Fitted; ``cv_results_`` holds one ``split<k>_test_<metric>`` per fold (``_score``
        with a single metric). Predict with recording ids through
        ``predict_with_groups(search.best_estimator_, X, groups)``.

    Examples
    --------
    >>> from sleepstage.data import make_synthetic
    >>> from sleepstage.pipelines import make_staging_pipeline
    >>> data = make_synthetic(n_recordings=3, hours=0.5)
    >>> pipeline = make_staging_pipeline(n_estimators=10, n_jobs=1)
    >>> search = grid_search(pipeline, data, {"num_leaves": [7, 15]})
    >>> sorted(search.best_params_)
    ['classifier__estimator__num_leaves']
    """
    if not isinstance(data, EpochData):
        raise TypeError(f"data must be an EpochData, got {type(data).__name__}.")
    if data.y is None:
        raise ValueError("Grid search needs labelled data, but data.y is None.")
    check_scored(data.y, "data.y")
    exclude_artefacts = exclude_artefacts and data.has_signal  # a feature table: no samples
    grids = _resolve_grid(pipeline, param_grid)
    scorer = StagingScorer(scoring if isinstance(scoring, str) else list(scoring))
    metrics = scorer._names()
    if not isinstance(scoring, str) and refit is True:
        refit = metrics[0]
    if isinstance(refit, str) and refit not in metrics:
        raise ValueError(
            f"Invalid value for the 'refit' parameter. Allowed values are True, False, a "
            f"callable or one of the scoring metrics {metrics}, but got {refit!r} instead."
        )

    splits, _, routed = recording_folds(data, cv)
    X, y = data.X, np.asarray(data.y)
    keep = None
    if exclude_artefacts:
        splits, keep = _train_without_artefacts(splits, data, pipeline)
    if effective_n_jobs(n_jobs) != 1:
        varied = {name for grid in grids for name in grid}
        pipeline, changed = limit_threads(pipeline, keep=varied)
        if changed:
            logger.info("parallel search: nested threads set to 1 for %s", sorted(changed))
    searched, fit_params = pipeline, {"groups": routed}
    if keep is not None:  # each fold's last step learns from the kept epochs only
        searched = _KeptEpochsPipeline(**pipeline.get_params(deep=False))
        fit_params["keep"] = keep

    # The refit is ours (below): GridSearchCV would refit on every epoch, artefacts included,
    # and with the block ids of cv="blocks:K" instead of the recordings'.
    search = GridSearchCV(
        searched, grids, scoring=scorer, n_jobs=n_jobs, refit=False, cv=splits,
        pre_dispatch=pre_dispatch, error_score=error_score, verbose=verbose,
    )
    n_candidates = sum(int(np.prod([len(v) for v in grid.values()])) for grid in grids)
    logger.info("grid search: %d candidate(s) x %d folds on %d epochs", n_candidates,
                len(splits), len(y))
    # every fit of every candidate runs the same steps: show each distinct warning once
    with warn_once_per_message():
        with config_context(enable_metadata_routing=True):
            search.fit(X, y, **fit_params)
        if refit is not False:
            _refit_best(search, refit, pipeline, data, exclude_artefacts=exclude_artefacts,
                        verbose=verbose)
    return search


def _train_without_artefacts(splits: list, data: EpochData,
                             pipeline) -> tuple[list, np.ndarray | None]:
    """Leave the epochs flagged as artefacts out of what each training fold learns from.

    Flags are judged per recording (the true ids, also when the folds are blocks), as
    :func:`~sleepstage.pipelines.cross_validate_recordings`, ``fit_with_groups`` and
    ``sleepstage predict`` judge them: detection reads one recording at a time, so
    flagging everything once gives the same flags as each command.

    Returns ``(splits, keep)``. For a :class:`~sklearn.pipeline.Pipeline`, the splits are
    unchanged and ``keep`` (True for the epochs to learn from) goes to every fit as metadata,
    so that each fold is fitted as :func:`~sleepstage.pipelines.fit_kept_epochs`
    fits it: earlier steps on every epoch, the last step on the kept epochs of each
    recording, cut where flagged epochs are left out. Another estimator gets training
    indices without the flagged epochs (and ``keep`` is None).
    """
    flagged = detect_artefacts(data.X, data.groups, **data.layout())["artefact"].to_numpy()
    if not flagged.any():
        return splits, None
    for k, (train, _) in enumerate(splits):
        if flagged[train].all():
            raise ValueError(
                f"All {train.size} training epochs of fold {k} are flagged as artefacts; "
                "check the recordings or use exclude_artefacts=False."
            )
    logger.info("grid search: %d epoch(s) flagged as artefacts left out of the training folds",
                int(flagged.sum()))
    if isinstance(pipeline, Pipeline):
        return splits, ~flagged
    return [(train[~flagged[train]], test) for train, test in splits], None


class _KeptEpochsPipeline(Pipeline):
    """A :class:`~sklearn.pipeline.Pipeline` whose ``fit`` also takes ``keep``.

    Used by :func:`grid_search` only. ``GridSearchCV`` gives each fit the training rows of
    one fold and their metadata, nothing else; ``keep`` (the epochs to learn from) travels
    as metadata so that each fold is fitted by
    :func:`~sleepstage.pipelines.fit_kept_epochs`, exactly as
    :func:`~sleepstage.pipelines.cross_validate_recordings` fits it. Parameters, and so
    ``cv_results_``, are those of the wrapped pipeline; every other method is the
    ``Pipeline``'s.
    """

    __metadata_request__fit: ClassVar[dict[str, bool]] = {"keep": True}

    def fit(self, X, y=None, keep=None, **params):
        """Fit as ``Pipeline.fit``; the last step learns from the ``keep`` epochs only."""
        if keep is None or np.all(keep):
            return super().fit(X, y, **params)
        return fit_kept_epochs(self, X, y, params.get("groups"), np.asarray(keep))

    def get_metadata_routing(self):
        """The ``Pipeline``'s routing, plus ``keep`` requested by ``fit`` itself."""
        return super().get_metadata_routing().add_self_request(self)


def _refit_best(search: GridSearchCV, refit: bool | str | Callable, pipeline,
                data: EpochData, *, exclude_artefacts: bool, verbose: int = 0) -> None:
    """Choose the best candidate as ``GridSearchCV`` does, and refit it on all recordings."""
    results = search.cv_results_
    if callable(refit):
        best = refit(results)
        if not isinstance(best, numbers.Integral) or not 0 <= best < len(results["params"]):
            raise IndexError(f"The refit callable returned {best!r}, not an index of "
                             f"cv_results_ (0 to {len(results['params']) - 1}).")
    else:
        metric = refit if isinstance(refit, str) and search.multimetric_ else "score"
        best = int(results[f"rank_test_{metric}"].argmin())
        search.best_score_ = results[f"mean_test_{metric}"][best]
    search.best_index_ = int(best)
    search.best_params_ = results["params"][best]
    model = clone(pipeline).set_params(**clone(search.best_params_, safe=False))
    start = time.perf_counter()
    fit_with_groups(model, data.X, np.asarray(data.y), data.groups,
                    exclude_artefacts=exclude_artefacts, layout=data.layout(),
                    verbose=min(int(verbose), 1))
    search.refit_time_ = time.perf_counter() - start
    search.best_estimator_ = model
    search.refit = refit  # the fitted search now behaves as one built with this refit
