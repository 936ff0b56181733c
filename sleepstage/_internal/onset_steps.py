"""The epoch length that onsets show: the most common step between them, per recording.

Shared by the readers of files that list epochs with their onsets (hypnogram CSVs, feature
tables), so that both take the same epoch length from the same onsets and refuse the same
mixtures of epoch lengths; each words its own errors.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

__all__ = ["common_step", "other_step"]


def common_step(steps: np.ndarray) -> float:
    """The most common of the steps between onsets (to the microsecond).

    A tie goes to the shortest of the steps tied.

    Examples
    --------
    >>> common_step(np.array([4.0, 4.0, 8.0, 2.0]))
    4.0
    """
    values, counts = np.unique(np.round(steps, 6), return_counts=True)
    return float(values[np.argmax(counts)])


def other_step(steps: np.ndarray, bounds: Sequence[tuple[Hashable, int, int]],
               epoch_length: float, *, tolerance: float):
    """The first recording whose most common step is not ``epoch_length``, else None.

    Parameters
    ----------
    steps : numpy.ndarray, shape (n_rows - 1,)
        ``numpy.diff`` of the onsets of every row (steps between recordings included; only
        those within a recording are read).
    bounds : sequence of (recording, first row, end row)
        Each recording's half-open range of rows.
    epoch_length : float
        The epoch length in seconds.
    tolerance : float
        Seconds by which a step may differ from ``epoch_length`` and still be one epoch.

    Returns
    -------
    tuple or None
        ``(recording, first row, its most common step, which of its steps are
        epoch_length)``. A tie between the epoch length and another step goes to the epoch
        length; a recording of one epoch has no step.

    Examples
    --------
    >>> other_step(np.array([4.0, 4.0, -8.0, 2.0, 2.0]), [("a", 0, 3), ("b", 3, 6)], 2.0,
    ...            tolerance=1e-3)[:3]
    ('a', 0, 4.0)
    """
    for recording, first, stop in bounds:
        if stop - first < 2:
            continue
        own = steps[first:stop - 1]
        length = common_step(own)
        fits = np.abs(own - epoch_length) <= tolerance
        if fits.sum() < (np.abs(own - length) <= tolerance).sum():
            return recording, first, length, fits
    return None
