"""Scores for sleep staging: agreement (balanced accuracy, kappa, per-class F1),
sleep architecture (time in each stage, bouts, transitions per hour) and calibration of the
confidence (expected calibration error, where the errors fall)."""

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

from ._architecture import _plain, sleep_architecture, stage_bouts
from ._internal.groups import recording_segments

__all__ = [
    "count_transitions",
    "errors_in_least_confident",
    "expected_calibration_error",
    "sleep_architecture",
    "stage_bouts",
    "staging_scores",
    "transitions_per_hour",
]

#: Number of equal-width confidence bins of the expected calibration error.
ECE_BINS = 15


def count_transitions(y: Sequence[Any], groups: Sequence[Any] | None = None) -> int:
    """Number of stage changes between consecutive epochs, never counted across recordings.

    Parameters
    ----------
    y : array-like, shape (n_epochs,)
        Stages in time order.
    groups : array-like, shape (n_epochs,), optional
        Recording of each epoch; epochs of one recording are contiguous.

    Returns
    -------
    int

    Examples
    --------
    >>> count_transitions(["W", "W", "N", "N", "R", "N"])
    3
    >>> count_transitions(["W", "N", "N", "R"], groups=[0, 0, 1, 1])
    2
    """
    y = np.asarray(y)
    if y.size < 2:
        return 0
    changed = y[1:] != y[:-1]
    if groups is not None:
        changed[recording_segments(groups, y.size).starts[1:] - 1] = False
    return int(np.count_nonzero(changed))


def transitions_per_hour(
    y: Sequence[Any], epoch_length: float, groups: Sequence[Any] | None = None
) -> float:
    """Stage transitions per hour of recording (a fragmentation measure).

    Parameters
    ----------
    y : array-like, shape (n_epochs,)
        Stages in time order.
    epoch_length : float
        Epoch duration in seconds.
    groups : array-like, optional
        Recording of each epoch; transitions are not counted across recordings.

    Returns
    -------
    float
    """
    hours = len(y) * float(epoch_length) / 3600.0
    return count_transitions(y, groups) / hours if hours > 0 else float("nan")


def _confidence(proba, classes, y_pred) -> np.ndarray:
    """Probability that ``proba`` gives to each epoch's predicted stage."""
    proba = np.asarray(proba, dtype=np.float64)
    classes = list(classes)
    if proba.ndim != 2 or proba.shape[1] != len(classes):
        raise ValueError(
            f"proba must have shape (n_epochs, {len(classes)}) (one column per class of "
            f"{[_plain(c) for c in classes]}), but got shape {proba.shape}."
        )
    if proba.size and (not np.isfinite(proba).all() or proba.min() < -1e-9
                       or proba.max() > 1 + 1e-9):
        raise ValueError("proba must hold finite probabilities in [0, 1].")
    proba = np.clip(proba, 0.0, 1.0)   # rounding: a posterior may read 1 + 2e-16
    if y_pred is None:
        return proba.max(axis=1)
    y_pred = np.asarray(y_pred)
    if y_pred.shape != (proba.shape[0],):
        raise ValueError(f"proba has {proba.shape[0]} rows but y_pred has shape "
                         f"{y_pred.shape}.")
    column = {c: i for i, c in enumerate(np.asarray(classes).tolist())}
    missing = sorted(set(y_pred.tolist()) - set(column), key=str)
    if missing:
        raise ValueError(f"Predicted stage(s) {missing} have no column in proba (classes "
                         f"{[_plain(c) for c in classes]}).")
    index = np.fromiter((column[p] for p in y_pred.tolist()), dtype=np.intp,
                        count=y_pred.size)
    return proba[np.arange(y_pred.size), index]


def _top_label(y_true, proba, classes, y_pred) -> tuple[np.ndarray, np.ndarray]:
    """(confidence, correct) of each epoch's predicted stage (argmax of proba if None)."""
    confidence = _confidence(proba, classes, y_pred)
    if y_pred is None:
        y_pred = np.asarray(classes)[np.asarray(proba).argmax(axis=1)]
    y_true = np.asarray(y_true)
    if y_true.shape != confidence.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but proba has "
                         f"{confidence.size} rows.")
    return confidence, y_true == np.asarray(y_pred)


def expected_calibration_error(
    y_true: Sequence[Any],
    proba: Any,
    *,
    classes: Sequence[Any],
    y_pred: Sequence[Any] | None = None,
    n_bins: int = ECE_BINS,
) -> float:
    """Expected calibration error of the top label (confidence of the predicted stage).

    The confidences are put into ``n_bins`` equal-width bins of [0, 1] (each bin
    ``(lo, hi]``, the first one also holds 0, as in
    :func:`sklearn.calibration.calibration_curve`) and
    ``ECE = sum_b |accuracy_b - mean confidence_b| * n_b / n`` (Guo et al., ICML 2017).

    Parameters
    ----------
    y_true : array-like, shape (n_epochs,)
        True stages.
    proba : array-like, shape (n_epochs, n_classes)
        Stage probabilities, columns in ``classes`` order.
    classes : sequence
        The stage of each column of ``proba`` (e.g. the model's ``classes_``).
    y_pred : array-like, shape (n_epochs,), optional
        The predicted stages. Default: the most probable class of each row, which gives the
        standard top-label ECE. Give it when the prediction is not the argmax of ``proba``
        (a Viterbi-decoded hypnogram and its posteriors): the confidence is then the
        probability of the predicted stage, the ``confidence`` column of
        ``sleepstage predict``.
    n_bins : int
        Number of bins.

    Returns
    -------
    float
        In [0, 1]; 0 means that among epochs of confidence p, a share p is right.

    Examples
    --------
    >>> expected_calibration_error(["W", "N"], [[0.9, 0.1], [0.6, 0.4]], classes=["W", "N"])
    0.35
    """
    confidence, correct = _top_label(y_true, proba, classes, y_pred)
    if confidence.size == 0:
        return float("nan")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.searchsorted(edges[1:-1], confidence, side="left")
    count = np.bincount(bins, minlength=n_bins)
    gap = np.abs(np.bincount(bins, weights=correct, minlength=n_bins)
                 - np.bincount(bins, weights=confidence, minlength=n_bins))
    # sum_b |n_b acc_b - n_b conf_b| / n == sum_b |acc_b - conf_b| n_b / n
    return float(gap[count > 0].sum() / confidence.size)


def errors_in_least_confident(
    y_true: Sequence[Any],
    proba: Any,
    *,
    classes: Sequence[Any],
    y_pred: Sequence[Any] | None = None,
    share: float = 0.1,
) -> float:
    """Share of the errors that fall among the ``share`` least confident epochs.

    A useful confidence points a reviewer at the errors: with ``share=0.1``, a value of
    0.8 means that checking the 10 % least confident epochs finds 80 % of the errors
    (a confidence unrelated to the errors gives about 0.1).

    Parameters
    ----------
    y_true, proba, classes, y_pred
        As in :func:`expected_calibration_error`.
    share : float
        Fraction of epochs, in (0, 1], that counts as least confident: the
        ``round(share * n_epochs)`` epochs of lowest confidence. Epochs tied with the last
        one selected count with the fraction of them that fits (the expected value over
        every order of the ties).

    Returns
    -------
    float
        In [0, 1]; NaN when there is no error.

    Examples
    --------
    >>> y = ["W"] * 10
    >>> proba = [[0.4, 0.6]] + [[0.9, 0.1]] * 9
    >>> errors_in_least_confident(y, proba, classes=["W", "N"])
    1.0
    """
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share!r}.")
    confidence, correct = _top_label(y_true, proba, classes, y_pred)
    wrong = ~correct
    n_wrong = int(wrong.sum())
    if n_wrong == 0:
        return float("nan")
    k = round(share * confidence.size)
    if k == 0:
        return 0.0
    threshold = np.sort(confidence)[k - 1]
    below = confidence < threshold
    tied = confidence == threshold
    fraction = (k - int(below.sum())) / int(tied.sum())
    caught = wrong[below].sum() + fraction * wrong[tied].sum()
    return float(caught / n_wrong)


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
        If the shapes differ, ``labels`` misses a stage that occurs in ``y_true`` or
        ``y_pred``, or ``proba`` does not fit ``classes`` and ``y_pred``.

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
    if labels is None:
        labels = np.unique(np.concatenate([y_true, y_pred]))
    labels = list(labels)
    unknown = (set(y_true.tolist()) | set(y_pred.tolist())) - set(np.asarray(labels).tolist())
    if unknown:
        raise ValueError(
            f"Stage(s) {sorted(unknown, key=str)} occur in y_true or y_pred but not in labels "
            f"{[_plain(label) for label in labels]}; give every stage in labels (e.g. a "
            "stage the model never saw must still be listed to count as an error)."
        )
    keys = [_plain(label) for label in labels]
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


