"""Recording boundaries: where each recording's contiguous run of epochs starts and stops."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["segment_bounds"]


def segment_bounds(
    groups: Sequence[Any] | None, n_epochs: int | None = None
) -> list[tuple[int, int]]:
    """Return ``[(start, stop), ...]`` of the contiguous runs of equal recording ids.

    Parameters
    ----------
    groups : array-like, shape (n_epochs,), or None
        Recording id of each epoch. None means one recording of ``n_epochs`` epochs.
    n_epochs : int, optional
        Needed when ``groups`` is None.

    Returns
    -------
    list of (int, int)

    Raises
    ------
    ValueError
        If a recording id appears in two separate runs (epochs of a recording must be
        contiguous and in time order).

    Examples
    --------
    >>> segment_bounds(["a", "a", "b", "b", "b"])
    [(0, 2), (2, 5)]
    """
    if groups is None:
        if n_epochs is None:
            raise ValueError("segment_bounds needs n_epochs when groups is None.")
        return [(0, int(n_epochs))]
    groups = np.asarray(groups)
    if groups.ndim != 1:
        raise ValueError(f"groups must be 1-D, got shape {groups.shape}.")
    if n_epochs is not None and groups.shape[0] != n_epochs:
        raise ValueError(f"groups has {groups.shape[0]} entries but there are {n_epochs} epochs.")
    if groups.size == 0:
        return []
    starts = np.flatnonzero(groups[1:] != groups[:-1]) + 1
    starts = np.concatenate([[0], starts])
    stops = np.concatenate([starts[1:], [groups.size]])
    run_ids = groups[starts]
    if len(np.unique(run_ids)) != len(run_ids):
        _, counts = np.unique(run_ids, return_counts=True)
        repeated = np.unique(run_ids)[counts > 1]
        raise ValueError(
            f"Recording id(s) {repeated[:5].tolist()} appear in separate runs of epochs; the "
            "epochs of each recording must be contiguous and in time order."
        )
    return [(int(a), int(b)) for a, b in zip(starts, stops, strict=True)]
