"""Fitting a staging pipeline with the features of each recording computed as a task."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from .._internal.anatomy import LAYOUT_PARAMS
from .._internal.progress import say
from ..data import EpochData
from ..features import EpochFeatures, detect_artefacts
from ..pipelines import fit_kept_epochs, fit_with_groups, training_epochs
from ._features import extract_features

__all__ = ["fit_pipeline"]

logger = logging.getLogger(__name__)

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
        the fit, as ``fit_with_groups`` does. Ignored for data without raw signal (a
        :class:`~sleepstage.data.FeatureTable`): every epoch is learnt from.
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
    exclude_artefacts = exclude_artefacts and data.has_signal  # a feature table: no samples
    steps = getattr(pipeline, "steps", None) or []
    first = steps[0][1] if steps else None
    if len(steps) < 2 or not isinstance(first, EpochFeatures):
        return fit_with_groups(pipeline, data.X, data.y, data.groups,
                               exclude_artefacts=exclude_artefacts, layout=data.layout(),
                               verbose=verbose)
    params = first.get_params(deep=False)
    layout = data.layout()
    if any(_as_tuple(params[key]) != _as_tuple(layout[key]) for key in LAYOUT_PARAMS):
        # the step cannot read these epochs: let fit_with_groups raise its own error
        return fit_with_groups(pipeline, data.X, data.y, data.groups,
                               exclude_artefacts=exclude_artefacts, layout=layout,
                               verbose=verbose)
    feature_params = {key: value for key, value in params.items()
                      if key not in (*LAYOUT_PARAMS, "epoch_length", "n_jobs", "batch_size")}
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
