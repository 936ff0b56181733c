"""Calibration of a stager's confidence: expected calibration error, where the errors fall.

The confidence of an epoch is the probability that the model gives to the stage it
predicts. A calibrated confidence tells a reviewer how far to trust each epoch, and a useful
one points at the errors (:func:`errors_in_least_confident`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._internal.values import plain

__all__ = ["ECE_BINS", "errors_in_least_confident", "expected_calibration_error"]

#: Number of equal-width confidence bins of the expected calibration error.
ECE_BINS = 15


def _confidence(proba, classes, y_pred) -> np.ndarray:
    """Probability that ``proba`` gives to each epoch's predicted stage."""
    proba = np.asarray(proba, dtype=np.float64)
    classes = list(classes)
    if proba.ndim != 2 or proba.shape[1] != len(classes):
        raise ValueError(
            f"proba must have shape (n_epochs, {len(classes)}) (one column per class of "
            f"{[plain(c) for c in classes]}), but got shape {proba.shape}."
        )
    if proba.size and (not np.isfinite(proba).all() or proba.min() < -1e-9
                       or proba.max() > 1 + 1e-9):
        raise ValueError("proba must hold finite probabilities in [0, 1].")
    if proba.size:
        sums = proba.sum(axis=1)
        worst = int(np.argmax(np.abs(sums - 1.0)))
        if abs(sums[worst] - 1.0) > 1e-2:  # rounded to 3 decimals (as tools export
            # them) a row is off by up to ~1e-3; [0.9, 0.9] is no probability row
            raise ValueError(f"Each row of proba must sum to 1 (one probability per class), "
                             f"but row {worst} sums to {sums[worst]:.6g}.")
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
                         f"{[plain(c) for c in classes]}).")
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
