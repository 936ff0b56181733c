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
(2 by default in :func:`~sleepstage.pipelines.make_classifier`) and
:class:`~sleepstage.features.EpochFeatures` may process batches on threads. When the tasks
of a function below run in parallel, every nested ``n_jobs`` parameter is set to 1, so that
``n_jobs`` workers each running a multi-threaded fit do not oversubscribe the cores (with
2 cores, 2 workers x 2 LightGBM threads is slower than either alone). When they run one
after the other, the nested settings are left as they are.
"""

from __future__ import annotations

import logging
import numbers
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from joblib import delayed, effective_n_jobs, parallel_config
from sklearn import config_context
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils.metadata_routing import MetadataRequest

from ._internal.progress import Progress, run_tasks, say
from ._internal.threads import limit_threads
from ._internal.warnings import warn_once_per_message
from .data._epochs import EpochData
from .features import EpochFeatures, detect_artefacts
from .metrics import staging_scores
from .pipelines import fit_with_groups, predict_with_groups
from .pipelines._evaluate import fit_kept_epochs, training_epochs
from .pipelines._splits import block_groups, resolve_cv

__all__ = [
    "SCORING",
    "StagingScorer",
    "extract_features",
    "fit_pipeline",
    "grid_search",
    "limit_threads",
]

logger = logging.getLogger(__name__)

#: Metrics :class:`StagingScorer` computes.
SCORING: tuple[str, ...] = ("balanced_accuracy", "kappa", "accuracy", "f1_macro")

#: A recording, or a function that loads one where it is called (on a worker).
Source = EpochData | Callable[[], EpochData]


# -- feature extraction ----------------------------------------------------------------------
def _as_sources(data: Any) -> list[Source]:
    if isinstance(data, EpochData) or callable(data):
        return [data]
    if isinstance(data, (str, bytes)) or not isinstance(data, Sequence):
        raise TypeError(
            "data must be an EpochData, a function returning one, or a sequence of these, "
            f"but got {type(data).__name__}."
        )
    sources = list(data)
    if not sources:
        raise ValueError("data is an empty sequence: give at least one recording.")
    for k, source in enumerate(sources):
        if not (isinstance(source, EpochData) or callable(source)):
            raise TypeError(
                f"data[{k}] is a {type(source).__name__}; expected an EpochData or a function "
                "returning one."
            )
    return sources


def _recording_chunks(data: EpochData) -> list[slice]:
    """The epochs of each consecutive run of one recording id."""
    groups = np.asarray(data.groups)
    changes = np.flatnonzero(groups[1:] != groups[:-1]) + 1
    starts = np.concatenate([[0], changes])
    stops = np.concatenate([changes, [len(groups)]])
    return [slice(int(a), int(b)) for a, b in zip(starts, stops, strict=True)]


def _extractor(layout: Mapping[str, Any], params: Mapping[str, Any], batch_size: int,
               n_jobs: int | None, X: np.ndarray) -> EpochFeatures:
    """An EpochFeatures for ``layout``, fitted on the first epoch (fitting reads no values)."""
    return EpochFeatures(**layout, **params, batch_size=batch_size, n_jobs=n_jobs).fit(X[:1])


def _features_of(source: Source, layout: Mapping[str, Any] | None, params: Mapping[str, Any],
                 batch_size: int, n_jobs: int | None,
                 X: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, names and recording ids of one task (runs in a joblib worker)."""
    if X is None:  # a loader: read the recording where the task runs
        data = source()
        if not isinstance(data, EpochData):
            raise TypeError(f"A loader returned a {type(data).__name__}, expected an EpochData.")
        X, layout, groups = data.X, data.layout(), np.asarray(data.groups)
    else:
        groups = np.asarray(source)
    extractor = _extractor(layout, params, batch_size, n_jobs, X)
    return extractor.transform(X), extractor.get_feature_names_out(), groups


def extract_features(
    data: Source | Sequence[Source],
    *,
    n_jobs: int | None = None,
    batch_size: int = 4096,
    as_frame: bool = False,
    verbose: int = 0,
    **feature_params: Any,
) -> tuple[np.ndarray | pd.DataFrame, np.ndarray]:
    """Per-epoch features of many recordings, one joblib task per recording.

    Each recording's epochs go through :class:`~sleepstage.features.EpochFeatures` with the
    recording's channel layout; tasks run in parallel with ``n_jobs`` workers, or on a Dask
    cluster inside ``joblib.parallel_config(backend="dask")``. The result equals the serial
    computation exactly, whatever the backend and ``n_jobs``.

    Parameters
    ----------
    data : EpochData, callable or sequence of these
        Recordings. An ``EpochData`` holding several recordings (``groups``) is split into
        one task per recording. A callable without arguments returning an ``EpochData``
        (e.g. ``functools.partial(read_edf, path)``) is called inside its task, so that a
        cluster worker reads the file itself instead of receiving the signal over the
        network. All recordings must share sampling rate, channels and epoch length.
    n_jobs : int or None
        Recordings processed at the same time (joblib semantics: None is 1 outside a
        ``joblib.parallel_config`` context and every Dask worker inside a Dask one; -1 is
        every core). With several tasks in parallel each uses one thread; with a single
        task, ``n_jobs`` threads work on its batches instead.
    batch_size : int
        Epochs per batch inside a task: memory stays proportional to it rather than to the
        recording (see :class:`~sleepstage.features.EpochFeatures`).
    as_frame : bool
        Return a :class:`pandas.DataFrame` with the feature names as columns and a
        ``(recording, epoch)`` index instead of an array.
    verbose : int, default=0
        0 is silent; 1 shows progress over the recordings (a progress bar on a terminal,
        log lines otherwise; see :mod:`sleepstage._internal.progress`).
    **feature_params
        Parameters of :class:`~sleepstage.features.EpochFeatures` (``bands``, ``method``,
        ``include``, ...), except the layout, which comes from the data.

    Returns
    -------
    features : numpy.ndarray of shape (n_epochs, n_features), float32, or DataFrame
        Rows in input order (recordings in the order given, epochs in time order).
    names : numpy.ndarray of str
        Feature names (``<channel>_<feature>``).

    Raises
    ------
    ValueError
        Recordings with different layouts, layout parameters in ``feature_params``, or any
        error of :class:`~sleepstage.features.EpochFeatures` (invalid setting, NaN samples).

    Examples
    --------
    >>> from sleepstage.data import make_synthetic
    >>> data = make_synthetic(n_recordings=2, hours=0.1)
    >>> features, names = extract_features(data)  # n_jobs=-1: all cores
    >>> features.shape == (data.n_epochs, len(names))
    True
    >>> str(names[0]).startswith("eeg1_")
    True
    """
    sources = _as_sources(data)
    layout_params = {"sfreq", "ch_names", "ch_types", "n_jobs", "batch_size"} & set(feature_params)
    if layout_params:
        raise ValueError(
            f"{sorted(layout_params)} cannot be given as feature parameters: the channel "
            "layout comes from the data, and n_jobs / batch_size are arguments of "
            "extract_features."
        )
    # Tasks: (groups, layout, X) per recording of each EpochData, or (loader, None, None).
    tasks: list[tuple[Any, dict | None, np.ndarray | None]] = []
    first_layout = None
    for k, source in enumerate(sources):
        if not isinstance(source, EpochData):
            tasks.append((source, None, None))
            continue
        layout = {**source.layout()}
        key = (source.sfreq, source.ch_names, source.ch_types, source.n_samples)
        if first_layout is None:
            first_layout = key
            # validate the settings here, before any work is dispatched
            _extractor(layout, feature_params, batch_size, 1, source.X)
        elif key != first_layout:
            raise ValueError(
                f"Recording {k} has layout (sfreq, channels, types, samples) {key}, but the "
                f"first has {first_layout}; extract features of each layout separately."
            )
        for epochs in _recording_chunks(source):
            tasks.append((source.groups[epochs], layout, source.X[epochs]))

    parallel = len(tasks) > 1 and effective_n_jobs(n_jobs) != 1
    inner_jobs = 1 if parallel else n_jobs
    logger.info("extracting features of %d recording(s) (%s)", len(tasks),
                f"n_jobs={n_jobs}" if parallel else "serial")
    with Progress(len(tasks), "feature extraction: recordings", verbose=verbose,
                  logger=logger) as progress:
        if parallel:
            results = run_tasks(
                (delayed(_features_of)(src, layout, feature_params, batch_size, inner_jobs, X)
                 for src, layout, X in tasks),
                n_jobs=n_jobs, progress=progress,
            )
        else:
            # Batch threads stay on this machine even inside a Dask parallel_config context.
            with parallel_config(backend="threading"):
                results = []
                for src, layout, X in tasks:
                    results.append(_features_of(src, layout, feature_params, batch_size,
                                                inner_jobs, X))
                    progress.update()

    names = results[0][1]
    for k, (_, other, _) in enumerate(results[1:], start=1):
        if not np.array_equal(other, names):
            raise ValueError(
                f"Task {k} produced features {other[:3].tolist()}... but the first produced "
                f"{names[:3].tolist()}...: all recordings must share one channel layout."
            )
    if len(results) == 1:
        features = results[0][0]
    else:
        features = np.concatenate([values for values, _, _ in results])
    if not as_frame:
        return features, names
    recordings = np.concatenate([groups for _, _, groups in results])
    epochs = np.concatenate([np.arange(len(groups)) for _, _, groups in results])
    index = pd.MultiIndex.from_arrays([recordings, epochs], names=["recording", "epoch"])
    return pd.DataFrame(features, columns=names, index=index), names


# -- fitting ---------------------------------------------------------------------------------
_LAYOUT_KEYS = ("sfreq", "ch_names", "ch_types")


def _artefact_mask(data: EpochData, groups: np.ndarray) -> np.ndarray:
    """Epochs :func:`~sleepstage.features.detect_artefacts` flags, judged per id of ``groups``."""
    return detect_artefacts(data.X, groups, **data.layout())["artefact"].to_numpy()


def fit_pipeline(pipeline, data: EpochData, *, n_jobs: int | None = None,
                 exclude_artefacts: bool = True, verbose: int = 0):
    """Fit a staging pipeline, extracting the features of each recording as a joblib task.

    The same fit as :func:`~sleepstage.pipelines.fit_with_groups` (recording ids routed to
    the per-recording steps, artefact epochs left out), but the first step's features are
    computed by :func:`extract_features`: one task per recording, ``n_jobs`` at a time, on
    a Dask cluster inside ``joblib.parallel_config(backend="dask")``. The remaining steps
    are then fitted on the feature matrix, in this process. Pipelines that do not start
    with an :class:`~sleepstage.features.EpochFeatures` step for ``data``'s layout (the
    neural ones) are fitted by ``fit_with_groups`` directly.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        Typically :func:`~sleepstage.pipelines.make_staging_pipeline` output; fitted in place.
    data : EpochData
        Labelled epochs with recording ids.
    n_jobs : int or None
        Recordings whose features are computed at the same time (see
        :func:`extract_features`). The ``n_jobs`` parameter of the feature step is not used
        for the fit and is left as it is.
    exclude_artefacts : bool
        Leave the epochs flagged by :func:`~sleepstage.features.detect_artefacts` out of
        the fit, as ``fit_with_groups`` does.
    verbose : int, default=0
        0 is silent; 1 shows the progress of the feature extraction over the recordings and
        says when the remaining steps are fitted and how long it took.

    Returns
    -------
    pipeline
        The fitted ``pipeline``; it predicts exactly as after ``fit_with_groups``.

    Raises
    ------
    ValueError
        Unlabelled data, a single stage, or every epoch flagged as an artefact.

    Examples
    --------
    >>> from sleepstage.data import make_synthetic
    >>> from sleepstage.pipelines import make_staging_pipeline
    >>> data = make_synthetic(n_recordings=2, hours=0.5)
    >>> model = fit_pipeline(make_staging_pipeline(n_estimators=10, n_jobs=1), data, n_jobs=2)
    >>> model.predict(data.X[:3]).shape
    (3,)
    """
    if not isinstance(data, EpochData):
        raise TypeError(f"data must be an EpochData, got {type(data).__name__}.")
    if data.y is None:
        raise ValueError("Fitting needs labelled data, but data.y is None.")
    steps = getattr(pipeline, "steps", None) or []
    first = steps[0][1] if steps else None
    if len(steps) < 2 or not isinstance(first, EpochFeatures):
        return fit_with_groups(pipeline, data.X, data.y, data.groups,
                               exclude_artefacts=exclude_artefacts, layout=data.layout(),
                               verbose=verbose)
    params = first.get_params(deep=False)
    layout = data.layout()
    if any(_as_tuple(params[key]) != _as_tuple(layout[key]) for key in _LAYOUT_KEYS):
        # the step cannot read these epochs: let fit_with_groups raise its own error
        return fit_with_groups(pipeline, data.X, data.y, data.groups,
                               exclude_artefacts=exclude_artefacts, layout=layout,
                               verbose=verbose)
    feature_params = {key: value for key, value in params.items()
                      if key not in (*_LAYOUT_KEYS, "epoch_length", "n_jobs", "batch_size")}
    features, _ = extract_features(data, n_jobs=n_jobs, batch_size=params["batch_size"],
                                   verbose=verbose, **feature_params)
    y, groups = np.asarray(data.y), np.asarray(data.groups)
    keep = None
    if exclude_artefacts:
        flags = detect_artefacts(data.X, groups, **data.layout())
        keep = training_epochs(flags, groups, stacklevel=2)
    say(logger, verbose, "fitting %s on the features of %d epochs",
        " -> ".join(name for name, _ in steps[1:]), len(y))
    start = time.perf_counter()
    first.fit(data.X[:1])  # stateless: fitting validates the layout and reads no values
    fit_kept_epochs(pipeline[1:], features, y, groups, keep)  # the same fit as fit_with_groups
    say(logger, verbose, "fitted in %.1f s", time.perf_counter() - start)
    return pipeline


def _as_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, (list, tuple, np.ndarray)) else value


# -- scoring ---------------------------------------------------------------------------------
class StagingScorer:
    """Scorer that predicts each held-out recording on its own, then scores the hypnogram.

    A string scorer such as ``scoring="balanced_accuracy"`` calls ``estimator.predict(X)``
    without recording ids: a pipeline with temporal context or HMM smoothing then treats
    all held-out recordings (or blocks) as one continuous recording. This scorer requests
    ``groups`` through scikit-learn's metadata routing and passes them to ``predict``
    (:func:`~sleepstage.pipelines.predict_with_groups`), so every recording is decoded
    separately, exactly as at deployment.

    Parameters
    ----------
    metrics : str or sequence of str, default "balanced_accuracy"
        Among :data:`SCORING`: ``"balanced_accuracy"``, ``"kappa"`` (Cohen's),
        ``"accuracy"``, ``"f1_macro"``. One name: the call returns a float; several: a
        dict (multi-metric search).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> X, y = np.zeros((6, 1)), np.array([1, 1, 2, 2, 3, 3])
    >>> model = DummyClassifier(strategy="most_frequent").fit(X, y)
    >>> StagingScorer("balanced_accuracy")(model, X, y)
    0.3333333333333333
    """

    def __init__(self, metrics: str | Sequence[str] = "balanced_accuracy") -> None:
        self.metrics = metrics

    def _names(self) -> list[str]:
        names = [self.metrics] if isinstance(self.metrics, str) else list(self.metrics)
        if not names:
            raise ValueError(f"The 'scoring' parameter is empty; choose from {list(SCORING)}.")
        for name in names:
            if name not in SCORING:
                shown = ", ".join(repr(s) for s in SCORING)
                raise ValueError(
                    f"Invalid value for the 'scoring' parameter. Allowed values are {shown}, "
                    f"but got {name!r} instead."
                )
        return names

    def __call__(self, estimator, X, y, groups=None) -> float | dict[str, float]:
        """Score ``estimator`` on ``X``, decoding each recording of ``groups`` separately.

        Parameters
        ----------
        estimator : fitted estimator
        X : array-like
            Held-out epochs (or features), each recording contiguous and in time order.
        y : array-like of shape (n_epochs,)
            True stages.
        groups : array-like of shape (n_epochs,), optional
            Recording id of each epoch; None means one recording.

        Returns
        -------
        float or dict
        """
        names = self._names()
        pred = predict_with_groups(estimator, X, groups)
        scores = staging_scores(np.asarray(y), pred)
        scores["f1_macro"] = float(np.mean(list(scores["f1"].values())))
        values = {name: float(scores[name]) for name in names}
        return values[names[0]] if isinstance(self.metrics, str) else values

    def get_metadata_routing(self) -> MetadataRequest:
        """Request ``groups`` for scoring (routed by ``GridSearchCV`` and friends).

        Returns
        -------
        sklearn.utils.metadata_routing.MetadataRequest
        """
        request = MetadataRequest(owner=type(self).__name__)
        request.score.add_request(param="groups", alias=True)
        return request

    def __repr__(self) -> str:
        return f"StagingScorer({self.metrics!r})"


# -- grid search -----------------------------------------------------------------------------
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
        predicted and scored.

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

    splitter, n_blocks = resolve_cv(cv, data.epoch_length)
    groups = np.asarray(data.groups)
    routed = groups if n_blocks is None else block_groups(groups, n_blocks)
    X, y = data.X, np.asarray(data.y)
    splits = list(splitter.split(X, y, groups))
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
    so that each fold is fitted as :func:`~sleepstage.pipelines._evaluate.fit_kept_epochs`
    fits it: earlier steps on every epoch, the last step on the kept epochs of each
    recording, cut where flagged epochs are left out. Another estimator gets training
    indices without the flagged epochs (and ``keep`` is None).
    """
    flagged = _artefact_mask(data, np.asarray(data.groups))
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
    :func:`~sleepstage.pipelines._evaluate.fit_kept_epochs`, exactly as
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
