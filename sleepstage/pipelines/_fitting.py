"""Fitting with recording ids: groups routed to the steps that request them, and the epochs
flagged as artefacts left out of what the last step learns from."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn import config_context
from sklearn.base import is_classifier
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing

from .._internal.anatomy import LAYOUT_PARAMS, declared_layout
from .._internal.groups import cut_recordings, recording_segments
from .._internal.progress import say
from .._internal.routing import consumes_groups, predict_with_groups
from .._internal.validation import check_scored
from ..features import ARTEFACT_REASONS, detect_artefacts

__all__ = ["fit_kept_epochs", "fit_with_groups", "predict_with_groups", "training_epochs"]

logger = logging.getLogger(__name__)


def fit_with_groups(estimator, X, y, groups=None, *, exclude_artefacts: bool = True,
                    layout: Mapping[str, Any] | None = None, verbose: int = 0):
    """Fit ``estimator``, routing ``groups`` to every step that requests it.

    Metadata routing is switched on for the call only; steps that do not ask for ``groups``
    never see it, and estimators that route nothing are fitted plainly.

    Parameters
    ----------
    estimator : estimator
        Typically a pipeline from :func:`~sleepstage.pipelines.make_staging_pipeline`.
    X : array-like, shape (n_epochs, n_channels * n_samples) or 3-D
        Raw epochs (or whatever ``estimator`` reads), recordings contiguous, in time order.
    y : array-like of shape (n_epochs,)
        Stage labels.
    groups : array-like of shape (n_epochs,), optional
        Recording id of each epoch; None means one recording.
    exclude_artefacts : bool, default True
        Drop the epochs that :func:`sleepstage.features.detect_artefacts` flags (clipping,
        flat lines, extreme amplitude, judged per recording) from the training set, so the
        classifier never learns from them. This needs raw epochs and their channel layout:
        ``layout`` if given, else the ``sfreq`` / ``ch_names`` / ``ch_types`` parameters of
        the estimator's ``"features"`` step. Without either (e.g. a feature matrix given to a
        bare classifier) nothing is dropped. The flagged epochs stay in their recordings
        for the steps before the last one (per-recording scaling and temporal context run
        on whole recordings, as at predict time); only the last step (the classifier, the
        HMM) is fitted without them, each recording cut where epochs are left out, so that
        no stage transition or sequence joins epochs that were not consecutive (see
        :func:`fit_kept_epochs`).
    layout : mapping, optional
        ``{"sfreq": ..., "ch_names": ..., "ch_types": ...}`` of ``X``, e.g.
        ``EpochData.layout()``.
    verbose : int, default=0
        0 is silent; 1 says when the fit starts (epochs, recordings, steps), one line as each
        step of a pipeline starts fitting (``fitting step 'features' (1/4) on 540 epochs``)
        and how long the fit took (log lines, or standard error when logging does not show
        them). The fit is the same as with 0.

    Returns
    -------
    estimator
        The fitted ``estimator``.

    Raises
    ------
    ValueError
        If ``y`` holds a single class (for a classifier), or if every training epoch is
        flagged as an artefact.

    Warns
    -----
    UserWarning
        If more than a quarter of the epochs of a recording are flagged.
    """
    start = time.perf_counter()
    if verbose:
        n_recordings = 1 if groups is None else len(np.unique(np.asarray(groups)))
        steps = getattr(estimator, "steps", None)
        what = (" -> ".join(name for name, _ in steps) if steps else type(estimator).__name__)
        say(logger, verbose, "fitting %s on %d epochs of %d recording(s)", what, len(y),
            n_recordings)
    keep = None
    if exclude_artefacts:
        layout = _raw_layout(estimator, layout)
        if layout is not None:
            flags = detect_artefacts(X, groups, **layout)
            keep = training_epochs(flags, groups, stacklevel=2)
    fitted = fit_kept_epochs(estimator, X, y, groups, keep, verbose=verbose)
    say(logger, verbose, "fitted in %.1f s", time.perf_counter() - start)
    return fitted


def fit_kept_epochs(estimator, X, y, groups=None, keep: np.ndarray | None = None, *,
                    verbose: int = 0):
    """Fit ``estimator`` so that its last step learns from the ``keep`` epochs only.

    Leaving epochs out of a recording must not join their neighbours. So the steps before
    the last one of a :class:`~sklearn.pipeline.Pipeline` are fitted and applied on every
    epoch with the true recording ids, exactly as they run at predict time (the scaler's
    statistics and the context windows cover the whole recording), and the last step is
    fitted on the kept rows with each recording cut into pieces where epochs are left out
    (:func:`~sleepstage._internal.groups.cut_recordings`): an HMM counts no transition across a
    cut, a sequence model sees no sequence across it. An estimator that is not a pipeline
    is fitted on the kept epochs with the cut recording ids.

    Parameters
    ----------
    estimator : estimator
        A pipeline or a single estimator; fitted in place, ``groups`` routed to the steps
        that request it.
    X : array-like of shape (n_epochs, ...)
    y : array-like of shape (n_epochs,)
    groups : array-like of shape (n_epochs,), optional
        Recording id of each epoch; None means one recording.
    keep : numpy.ndarray of bool, shape (n_epochs,), optional
        Epochs to learn from; None keeps every epoch.
    verbose : int, default=0
        With 1 or more, a pipeline is fitted one step at a time (the same fit) and a line
        says when each step starts (see :func:`sleepstage._internal.progress.say`).

    Returns
    -------
    estimator
        The fitted ``estimator``.
    """
    y = np.asarray(y)
    keep = None if keep is None or np.all(keep) else np.asarray(keep, dtype=bool)
    check_scored(y if keep is None else y[keep])
    if is_classifier(estimator):
        present = np.unique(y if keep is None else y[keep])
        if present.size < 2:
            raise ValueError(
                f"Training needs at least 2 classes (stages), but the training epochs hold "
                f"only {present.tolist()}: a stager cannot learn from one stage."
            )
    stepwise = isinstance(estimator, Pipeline) and len(estimator.steps) > 1
    with config_context(enable_metadata_routing=True):
        if keep is None and not (verbose and stepwise):
            return _fit_routed(estimator, "fit", X, y, groups)
        if not stepwise:
            pieces = cut_recordings(groups, keep)
            rows = np.flatnonzero(keep)
            return _fit_routed(estimator, "fit", _safe_indexing(X, rows), y[rows], pieces)
        n_steps = len(estimator.steps)
        # one step at a time: says which one is running (with verbose), and puts each fitted
        # step back into ``estimator`` (with ``memory=``, a slice fits clones of its steps)
        Xt = X
        for i, (name, step) in enumerate(estimator.steps[:-1]):
            if step is None or step == "passthrough":
                continue
            say(logger, verbose, "fitting step %r (%d/%d) on %d epochs", name, i + 1,
                n_steps, len(y))
            part = estimator[i:i + 1]
            Xt = _fit_routed(part, "fit_transform", Xt, y, groups)
            estimator.steps[i] = part.steps[0]
        name, final = estimator.steps[-1]
        if final is not None and final != "passthrough":
            if keep is not None:
                pieces = cut_recordings(groups, keep)
                rows = np.flatnonzero(keep)
                Xt, y, groups = _safe_indexing(Xt, rows), y[rows], pieces
            say(logger, verbose, "fitting step %r (%d/%d) on %d epochs", name, n_steps,
                n_steps, len(y))
            _fit_routed(final, "fit", Xt, y, groups)
        return estimator


def _fit_routed(estimator, method: str, X, y, groups):
    """``estimator.<method>(X, y)``, with ``groups`` when the estimator's fit consumes it."""
    func = getattr(estimator, method)
    if groups is not None and consumes_groups(estimator, "fit"):
        return func(X, y, groups=groups)
    return func(X, y)


def _raw_layout(estimator, layout: Mapping[str, Any] | None) -> dict | None:
    """Layout of the raw epochs: given, or read from the ``"features"`` step's parameters."""
    if layout is not None:
        return {key: layout.get(key) for key in LAYOUT_PARAMS}
    declared = declared_layout(estimator)
    if declared is not None:
        return declared
    logger.debug("no raw-epoch layout known for %s: artefacts are not excluded",
                 type(estimator).__name__)
    return None


def training_epochs(flags: pd.DataFrame, groups, *, stacklevel: int = 2) -> np.ndarray:
    """Epochs fit to train on: those that ``flags`` does not mark as artefacts.

    Parameters
    ----------
    flags : pandas.DataFrame
        Output of :func:`~sleepstage.features.detect_artefacts` for the training epochs.
    groups : array-like of shape (n_epochs,) or None
        Recording id of each epoch; None means one recording.
    stacklevel : int
        The ``stacklevel`` the caller would give :func:`warnings.warn` itself, so that the
        warning points at the user's call.

    Returns
    -------
    numpy.ndarray of bool, shape (n_epochs,)
        True for the epochs to keep.

    Raises
    ------
    ValueError
        If every epoch is flagged.

    Warns
    -----
    UserWarning
        If more than a quarter of the epochs of a recording are flagged.
    """
    bad = flags["artefact"].to_numpy()
    if not bad.any():
        return ~bad
    n_epochs = bad.size
    if bad.all():
        counts = ", ".join(f"{reason} {int(flags[reason].sum())}" for reason in ARTEFACT_REASONS)
        raise ValueError(
            f"All {n_epochs} training epochs are flagged as artefacts (by reason, which can "
            f"overlap: {counts}); check the "
            "recordings (a dead or saturated channel?) or fit with exclude_artefacts=False."
        )
    segments = recording_segments(groups, n_epochs)
    share = np.add.reduceat(bad.astype(np.int64), segments.starts) / segments.lengths
    if (share > 0.25).any():
        worst = int(share.argmax())
        name = segments.ids.tolist()[worst]
        warnings.warn(
            f"{int((share > 0.25).sum())} recording(s) have more than 25 % of their epochs "
            f"flagged as artefacts (recording {name!r}: {share[worst]:.0%}); "
            "they are excluded from training. Check those recordings.",
            UserWarning, stacklevel=stacklevel + 1,
        )
    logger.info("excluding %d of %d training epochs flagged as artefacts", int(bad.sum()),
                n_epochs)
    return ~bad
