"""Scores for sleep staging: agreement (balanced accuracy, kappa, per-class F1) and
fragmentation (stage transitions per hour)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    cohen_kappa_score,
    confusion_matrix,
    f1_score,
)

from ._groups import recording_segments

__all__ = ["count_transitions", "staging_scores", "transitions_per_hour"]


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


def staging_scores(
    y_true: Sequence[Any],
    y_pred: Sequence[Any],
    *,
    labels: Sequence[Any] | None = None,
    groups: Sequence[Any] | None = None,
    epoch_length: float | None = None,
) -> dict[str, Any]:
    """Agreement and fragmentation of a predicted hypnogram against the truth.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n_epochs,)
        True and predicted stages, in time order.
    labels : sequence, optional
        Class order for F1 and the confusion matrix (default: sorted union). Every stage
        of ``y_true`` and ``y_pred`` must be in it.
    groups : array-like, optional
        Recording of each epoch (for transition counts).
    epoch_length : float, optional
        Epoch duration in seconds; needed for transitions per hour.

    Returns
    -------
    dict
        ``balanced_accuracy``, ``kappa`` (Cohen's), ``accuracy``, ``f1`` (dict label -> F1),
        ``confusion`` (list of lists, rows true, columns predicted, in ``labels`` order),
        ``labels``, ``n_epochs`` and, with ``epoch_length``, ``transitions_per_hour_true`` and
        ``transitions_per_hour_pred``.

    Raises
    ------
    ValueError
        If the shapes differ, or ``labels`` misses a stage that occurs in ``y_true`` or
        ``y_pred``.
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
    f1 = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    scores: dict[str, Any] = {
        "n_epochs": int(y_true.size),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "kappa": float(cohen_kappa_score(y_true, y_pred)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "f1": {_plain(label): float(value) for label, value in zip(labels, f1, strict=True)},
        "labels": [_plain(label) for label in labels],
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }
    if epoch_length is not None:
        scores["transitions_per_hour_true"] = transitions_per_hour(y_true, epoch_length, groups)
        scores["transitions_per_hour_pred"] = transitions_per_hour(y_pred, epoch_length, groups)
    return scores


def _plain(value: Any) -> Any:
    """numpy scalar -> Python scalar (for JSON)."""
    return value.item() if isinstance(value, np.generic) else value
