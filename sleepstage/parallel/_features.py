"""Per-epoch features of many recordings, one joblib task per recording."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from joblib import delayed, effective_n_jobs, parallel_config

from .._internal.groups import runs
from .._internal.progress import Progress, run_tasks
from ..data import EpochData
from ..features import EpochFeatures

__all__ = ["extract_features"]

logger = logging.getLogger(__name__)

#: A recording, or a function that loads one where it is called (on a worker).
Source = EpochData | Callable[[], EpochData]


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
        for epochs in runs(source.groups).slices():
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
