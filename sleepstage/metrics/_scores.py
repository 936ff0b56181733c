"""All the scores of a predicted hypnogram: agreement with the true one (balanced accuracy,
kappa, per-class F1, confusion), its sleep architecture (:mod:`._architecture`) and the
calibration of its confidence (:mod:`._calibration`)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    cohen_kappa_score,
    confusion_matrix,
    f1_score,
)

from .._internal.validation import check_scored
from .._internal.values import plain
from ._architecture import sleep_architecture, transitions_per_hour
from ._calibration import _confidence, errors_in_least_confident, expected_calibration_error

__all__ = ["staging_scores"]


def staging_scores(
    y_true: Sequence[Any],
    y_pred: Sequence[Any],
    *,
    labels: Sequence[Any] | None = None,
    groups: Sequence[Any] | None = None,
    epoch_length: float | None = None,
    proba: Any = None,
    classes: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """Agreement, sleep architecture and calibration of a predicted hypnogram.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n_epochs,)
        True and predicted stages, in time order.
    labels : sequence, optional
        Class order of every per-stage result (default: sorted union). Every stage of
        ``y_true`` and ``y_pred`` must be in it.
    groups : array-like, optional
        Recording of each epoch (epochs of one recording contiguous): transitions and bouts
        are never counted across recordings.
    epoch_length : float, optional
        Epoch duration in seconds; needed for transitions, bouts per hour and bout
        durations.
    proba : array-like, shape (n_epochs, n_classes), optional
        Stage probabilities of the epochs (the model's ``predict_proba``); adds the
        calibration of the confidence of ``y_pred``.
    classes : sequence, optional
        Stage of each column of ``proba`` (default: ``labels``). Every predicted stage needs
        a column.

    Returns
    -------
    dict
        Agreement: ``n_epochs``, ``balanced_accuracy``, ``kappa`` (Cohen's), ``accuracy``,
        ``f1`` (dict stage -> F1; NaN for a stage absent from both ``y_true`` and ``y_pred``,
        which has nothing to score), ``labels`` and ``confusion`` (list of lists, rows
        true, columns predicted, in ``labels`` order).

        Time in each stage (dicts stage -> %): ``percent_time_true``,
        ``percent_time_pred`` and ``percent_time_error`` (predicted minus true, in
        percentage points).

        With ``epoch_length``: ``transitions_per_hour_true`` / ``_pred`` and, as dicts stage
        -> value, ``bouts_per_hour_true`` / ``_pred`` and ``mean_bout_seconds_true`` /
        ``_pred`` (a bout is a maximal run of one stage within a recording; see
        :func:`stage_bouts`; the mean is NaN for a stage without bouts).

        With ``proba``: ``mean_confidence`` (the probability of the predicted stage,
        averaged), ``expected_calibration_error`` (top label, 15 equal-width bins; see
        :func:`expected_calibration_error`) and ``errors_in_least_confident_10pct`` (the
        share of the errors among the 10 % least confident epochs; see
        :func:`errors_in_least_confident`).

    Raises
    ------
    ValueError
        If the shapes differ or are not 1-D, ``y_true`` holds ``"UNSCORED"`` epochs (leave
        them out: they have no stage to score), ``labels`` misses a stage that occurs in
        ``y_true`` or ``y_pred``, or ``proba`` does not fit ``classes`` and ``y_pred``.

    Notes
    -----
    Kappa is NaN when it is undefined (truth and prediction both a single, identical
    stage). scikit-learn's warnings about such cases and about predicted stages absent
    from the truth are not passed on: the values above say what happened.

    Examples
    --------
    >>> s = staging_scores(["W", "W", "N", "N"], ["W", "N", "N", "N"], labels=["W", "N", "R"],
    ...                    epoch_length=30)
    >>> s["f1"]
    {'W': 0.6666666666666666, 'N': 0.8, 'R': nan}
    >>> s["percent_time_error"]
    {'W': -25.0, 'N': 25.0, 'R': 0.0}
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has {y_pred.shape}.")
    if y_true.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D (one stage per epoch), got shape "
                         f"{y_true.shape}.")
    check_scored(y_true, "y_true")
    if labels is None:
        labels = np.unique(np.concatenate([y_true, y_pred]))
    labels = list(labels)
    unknown = (set(y_true.tolist()) | set(y_pred.tolist())) - set(np.asarray(labels).tolist())
    if unknown:
        raise ValueError(
            f"Stage(s) {sorted(unknown, key=str)} occur in y_true or y_pred but not in labels "
            f"{[plain(label) for label in labels]}; give every stage in labels (e.g. a "
            "stage the model never saw must still be listed to count as an error)."
        )
    keys = [plain(label) for label in labels]
    # F1 = 2 TP / (2 TP + FP + FN) is 0/0 only for a stage absent from both: NaN, not 0.
    f1 = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=np.nan)
    with warnings.catch_warnings():
        # Stages predicted but absent from the truth count as errors of the true stages, a
        # single stage in both is scored against ``labels``, and an undefined kappa is NaN:
        # the result says all of it, so scikit-learn's warnings about it are not passed on.
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true",
                                category=UserWarning)
        warnings.filterwarnings("ignore", message="A single label was found",
                                category=UserWarning)
        warnings.filterwarnings("ignore", category=UndefinedMetricWarning)
        balanced = balanced_accuracy_score(y_true, y_pred)
        kappa = cohen_kappa_score(y_true, y_pred, labels=labels)
    scores: dict[str, Any] = {
        "n_epochs": int(y_true.size),
        "balanced_accuracy": float(balanced),
        "kappa": float(kappa),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "f1": dict(zip(keys, map(float, f1), strict=True)),
        "labels": keys,
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }
    true = sleep_architecture(y_true, labels, epoch_length=epoch_length, groups=groups)
    pred = sleep_architecture(y_pred, labels, epoch_length=epoch_length, groups=groups)
    scores["percent_time_true"] = true["percent_time"]
    scores["percent_time_pred"] = pred["percent_time"]
    scores["percent_time_error"] = {key: pred["percent_time"][key] - true["percent_time"][key]
                                    for key in keys}
    if epoch_length is not None:
        scores["transitions_per_hour_true"] = transitions_per_hour(y_true, epoch_length, groups)
        scores["transitions_per_hour_pred"] = transitions_per_hour(y_pred, epoch_length, groups)
        for name in ("bouts_per_hour", "mean_bout_seconds"):
            scores[f"{name}_true"] = true[name]
            scores[f"{name}_pred"] = pred[name]
    if proba is not None:
        classes = labels if classes is None else list(classes)
        confidence = _confidence(proba, classes, y_pred)
        if confidence.size != y_true.size:
            raise ValueError(f"proba has {confidence.size} rows but y_true has "
                             f"{y_true.size} epochs.")
        scores["mean_confidence"] = float(confidence.mean()) if confidence.size else np.nan
        scores["expected_calibration_error"] = expected_calibration_error(
            y_true, proba, classes=classes, y_pred=y_pred)
        scores["errors_in_least_confident_10pct"] = errors_in_least_confident(
            y_true, proba, classes=classes, y_pred=y_pred, share=0.1)
    return scores


