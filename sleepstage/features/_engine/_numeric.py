"""Floors, logs and quantiles shared by the feature families."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._workspace import Workspace

__all__ = [
    "AMPLITUDE_FLOOR",
    "POWER_FLOOR",
    "abs_linear_quantiles",
    "linear_quantiles",
    "safe_log",
]

#: Floor under power-like values (units², e.g. V²): logs are taken of ``max(value, floor)``
#: and a variance or total power at or below it marks a flat channel. Physical signals are
#: many orders above it; it keeps a flat channel's features finite.
POWER_FLOOR: float = 1e-30

#: Floor under amplitude-like values (units, e.g. V): the square root of ``POWER_FLOOR``.
AMPLITUDE_FLOOR: float = 1e-15


def safe_log(values: np.ndarray, floor: float) -> np.ndarray:
    """Natural log of ``max(values, floor)``: exact above the floor, finite below it."""
    return np.log(np.maximum(values, floor))


def linear_quantiles(sorted_x: np.ndarray, quantiles: Sequence[float]) -> np.ndarray:
    """Quantiles of data sorted along the last axis, as ``np.quantile(method="linear")``.

    Parameters
    ----------
    sorted_x : numpy.ndarray, shape (..., n_samples)
        Data sorted in ascending order along the last axis.
    quantiles : sequence of float
        Fractions in ``[0, 1]``.

    Returns
    -------
    numpy.ndarray, shape (..., len(quantiles)), float64
    """
    n = sorted_x.shape[-1]
    position = np.asarray(quantiles, dtype=np.float64) * (n - 1)
    below = np.floor(position).astype(np.intp)
    above = np.minimum(below + 1, n - 1)
    fraction = position - below
    low = sorted_x[..., below].astype(np.float64)
    high = sorted_x[..., above].astype(np.float64)
    return low + (high - low) * fraction


def abs_linear_quantiles(
    sorted_rows: np.ndarray, quantiles: Sequence[float], workspace: Workspace | None = None
) -> np.ndarray:
    """Quantiles of ``|x|`` from rows of ``x`` sorted ascending, without sorting ``|x|``.

    The ``k + 1`` smallest ``|x|`` are the values closest to 0, a contiguous window
    ``x[s : s + k + 1]`` of the sorted row, whose largest ``|x|`` is
    ``max(-x[s], x[s + k])``. So the ``k``-th smallest ``|x|`` (from 0) is the minimum of
    that expression over the windows: one elementwise maximum and one ``argmin`` over the
    rows per rank, instead of a second sort. Moving a window towards 0 never makes it worse,
    so only starts within ``k + 1`` of the first non-negative value need a look (for
    non-negative signals, such as EMG envelopes, one start). The next order statistic is
    the nearer of the two values that extend the best window, but at least the ``k``-th:
    when tied ``|x|`` let the best window leave out a smaller value, the two are equal.

    Parameters
    ----------
    sorted_rows : numpy.ndarray, shape (n_rows, n_samples)
        Each row sorted in ascending order (rows may be strided, e.g. one channel of a
        ``(n_epochs, n_channels, n_samples)`` buffer).
    quantiles : sequence of float
        Fractions in ``[0, 1]``.
    workspace : Workspace or None
        Scratch buffers reused between calls (see :class:`Workspace`).

    Returns
    -------
    numpy.ndarray, shape (n_rows, len(quantiles)), float64
        Equal to ``np.quantile(np.abs(x), quantiles, axis=-1).T`` (method ``"linear"``):
        the order statistics are samples of ``|x|``, interpolated in float64.

    Notes
    -----
    Measured on 1024 rows of 512 samples (3 quantiles): 0.67 ms, against 1.9 ms to sort
    ``|x|`` again and 20 ms for ``np.quantile(np.abs(x), ...)``, the straightforward
    equivalent that ``tests/test_features_reference.py`` compares with.
    """
    n_rows, n = sorted_rows.shape
    position = np.asarray(quantiles, dtype=np.float64) * (n - 1)
    rank = np.floor(position).astype(np.intp)  # the rank-th and (rank+1)-th are needed
    fraction = position - rank
    value = np.empty((n_rows, rank.size), dtype=np.float64)
    following = np.empty_like(value)
    if n_rows == 0:
        return value
    if workspace is None:
        workspace = Workspace()
    # Fewest and most negative values in a row: the first column whose maximum (minimum)
    # over the rows is >= 0.
    fewest = _first_nonnegative_column(sorted_rows, np.ndarray.max)
    most = _first_nonnegative_column(sorted_rows, np.ndarray.min)
    rows = np.arange(n_rows)
    for q, k in enumerate(rank.tolist()):
        # Windows x[s : s + k + 1]; in every row a best one starts in [first, last].
        first, last = max(0, fewest - k - 1), min(n - k - 1, most)
        largest = np.negative(sorted_rows[:, first : last + 1],
                              out=workspace.scratch(0, (n_rows, last + 1 - first),
                                                    sorted_rows.dtype))
        np.maximum(largest, sorted_rows[:, first + k : last + k + 1], out=largest)
        start = first + largest.argmin(axis=1)
        value[:, q] = largest[rows, start - first]
        before = np.abs(sorted_rows[rows, np.maximum(start - 1, 0)])
        after = np.abs(sorted_rows[rows, np.minimum(start + k + 1, n - 1)])
        nearest = np.minimum(np.where(start > 0, before, np.inf),
                             np.where(start + k + 1 < n, after, np.inf))
        # No value beyond the window (k = n - 1): the fraction is 0 there anyway.
        following[:, q] = np.where(np.isfinite(nearest), np.maximum(nearest, value[:, q]),
                                   value[:, q])
    return value + (following - value) * fraction


def _first_nonnegative_column(sorted_rows: np.ndarray, reduce) -> int:
    """First column whose ``reduce`` (max or min) over the rows is >= 0, or the row length.

    With every row sorted, the column maxima and minima are sorted too: a binary search
    reads log2(n) columns instead of the whole array.
    """
    lo, hi = 0, sorted_rows.shape[1]
    while lo < hi:
        mid = (lo + hi) // 2
        if reduce(sorted_rows[:, mid]) >= 0:
            hi = mid
        else:
            lo = mid + 1
    return lo
