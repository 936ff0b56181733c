"""Which epochs a person should check: the least confident ones, or whole stretches."""

from __future__ import annotations

import numbers

import numpy as np

from .._internal.groups import recording_segments

__all__ = ["STRETCH_MINUTES", "review_epochs", "stretch_width"]

#: Default length (minutes) of one stretch of ``review_epochs(minutes=...)``.
STRETCH_MINUTES: float = 1.0


def stretch_width(epoch_length: float, stretch_minutes: float = STRETCH_MINUTES) -> int:
    """Epochs in one review stretch of ``stretch_minutes`` (at least one).

    A recording shorter than this is one stretch of its whole length.

    Examples
    --------
    >>> stretch_width(4.0), stretch_width(30.0), stretch_width(90.0)
    (15, 2, 1)
    """
    return max(1, round(stretch_minutes * 60 / epoch_length))


def review_epochs(confidence, n: int | None = None, *, minutes: float | None = None,
                  epoch_length: float | None = None, stretch_minutes: float = STRETCH_MINUTES,
                  groups=None) -> np.ndarray:
    """Epochs to review: the ``n`` least confident, or stretches totalling ``minutes``.

    Parameters
    ----------
    confidence : array-like of shape (n_epochs,)
        Confidence of each epoch's stage (e.g. the ``confidence`` column ``predict`` writes,
        the probability of the predicted stage).
    n : int, optional
        Number of epochs to pick in each recording: its ``n`` least confident (all of them
        when it has fewer). Ties keep time order.
    minutes : float, optional
        Instead of ``n``: pick whole contiguous stretches of ``stretch_minutes`` each, the
        ones of lowest mean confidence first, never overlapping and never crossing a
        recording boundary, until they total at least ``minutes`` per recording. When no
        whole stretch is left before that, the shorter runs of epochs left between the
        stretches follow, lowest mean confidence first, until the total is reached or the
        recording is used up (every epoch listed). Needs ``epoch_length``.
    epoch_length : float, optional
        Epoch duration in seconds (with ``minutes``).
    stretch_minutes : float, default=1.0
        Length of one stretch (with ``minutes``); at least one epoch.
    groups : array-like of shape (n_epochs,), optional
        Recording id of each epoch (contiguous); None means one recording.

    Returns
    -------
    numpy.ndarray of int
        Row positions. With ``n``: sorted by confidence, lowest first. With ``minutes``:
        the whole stretches by mean confidence, lowest first, then the shorter runs by mean
        confidence; the epochs of a stretch or run in time order.

    Raises
    ------
    ValueError
        If neither or both of ``n`` and ``minutes`` are given, either is negative,
        ``minutes`` comes without ``epoch_length``, or ``confidence`` holds NaN.

    Examples
    --------
    >>> review_epochs([0.9, 0.4, 0.99, 0.5, 0.7], n=2).tolist()
    [1, 3]
    >>> review_epochs([0.9, 0.4, 0.5, 0.95, 0.97, 0.96], minutes=0.2, epoch_length=4,
    ...               stretch_minutes=0.1).tolist()
    [1, 2, 3, 4]
    """
    confidence = np.asarray(confidence, dtype=np.float64)
    if confidence.ndim != 1:
        raise ValueError(f"confidence must be 1-D (one value per epoch), got shape "
                         f"{confidence.shape}.")
    if np.isnan(confidence).any():
        raise ValueError(f"confidence holds NaN at epoch(s) "
                         f"{np.flatnonzero(np.isnan(confidence))[:5].tolist()}.")
    if (n is None) == (minutes is None):
        raise ValueError("Give either n (a number of epochs) or minutes (stretches), not "
                         f"{'both' if n is not None else 'neither'}.")
    segments = recording_segments(groups, confidence.size)
    picked = []
    if n is not None:
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 0:
            raise ValueError(f"n must be an integer >= 0, but got {n!r}.")
        for part in segments.slices():
            order = np.argsort(confidence[part], kind="stable")[:n]
            picked.append(part.start + order)
        if not picked:
            return np.empty(0, dtype=np.int64)
        rows = np.concatenate(picked)
        return rows[np.argsort(confidence[rows], kind="stable")].astype(np.int64)
    if epoch_length is None or not epoch_length > 0:
        raise ValueError(f"minutes needs a positive epoch_length (seconds), got "
                         f"{epoch_length!r}.")
    if not isinstance(minutes, numbers.Real) or not minutes >= 0:
        raise ValueError(f"minutes must be a number >= 0, but got {minutes!r}.")
    if not isinstance(stretch_minutes, numbers.Real) or not stretch_minutes > 0:
        raise ValueError(f"stretch_minutes must be a number > 0, but got {stretch_minutes!r}.")
    width = stretch_width(epoch_length, stretch_minutes)
    wanted = int(np.ceil(minutes * 60 / epoch_length - 1e-9))
    stretches = []  # (shorter than a stretch, mean confidence, rows)
    for part in segments.slices():
        values = confidence[part]
        size = min(width, values.size)
        if wanted == 0 or size == 0:
            continue
        means = np.convolve(values, np.ones(size) / size, mode="valid")
        free = np.ones(values.size, dtype=bool)
        total = 0
        for start in np.argsort(means, kind="stable"):
            if total >= wanted:
                break
            if not free[start:start + size].all():
                continue
            free[start:start + size] = False
            total += size
            stretches.append((False, means[start], part.start + np.arange(start, start + size)))
        if total < wanted:  # every whole stretch is taken: the runs left between them
            edges = np.flatnonzero(np.diff(np.r_[0, free.astype(np.int8), 0]))
            runs = sorted(zip(edges[::2], edges[1::2], strict=True),
                          key=lambda run: values[run[0]:run[1]].mean())
            for first, stop in runs:
                if total >= wanted:
                    break
                total += stop - first
                stretches.append((True, values[first:stop].mean(),
                                  part.start + np.arange(first, stop)))
    stretches.sort(key=lambda item: item[:2])
    if not stretches:
        return np.empty(0, dtype=np.int64)
    return np.concatenate([rows for *_, rows in stretches]).astype(np.int64)
