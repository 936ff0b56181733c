"""Sleep architecture of a hypnogram: time in each stage, bouts, durations, transitions.

A *bout* is a maximal run of consecutive epochs of one stage within one recording; a run
never continues across a recording boundary (``groups``), and the first and last bouts of a
recording count even though the recording cuts them. These are the numbers a sleep study
reports (minutes of each stage, bout counts and durations, transitions), so a stager is
judged on them as well as on epoch agreement. :func:`sleepstage.metrics.staging_scores`
compares them between a true and a predicted hypnogram. :func:`merge_short_bouts` applies a
minimum bout length before bouts are counted (the per-bin and per-phase tables of
:mod:`sleepstage.report` build on these functions).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._internal.groups import recording_segments
from .._internal.values import plain

__all__ = [
    "count_transitions",
    "merge_short_bouts",
    "sleep_architecture",
    "stage_bouts",
    "transitions_per_hour",
]


def _bout_starts(y: np.ndarray, groups: Any) -> np.ndarray:
    """Index of the first epoch of every bout."""
    first = recording_segments(groups, y.size).first_epochs()
    first[1:] |= y[1:] != y[:-1]
    return np.flatnonzero(first)


def stage_bouts(
    y: Sequence[Any], groups: Sequence[Any] | None = None, *, epoch_length: float | None = None
) -> pd.DataFrame:
    """The bouts of a hypnogram: maximal runs of one stage within a recording.

    Parameters
    ----------
    y : array-like, shape (n_epochs,)
        Stages in time order.
    groups : array-like, shape (n_epochs,), optional
        Recording of each epoch (epochs of one recording contiguous); a bout never runs
        across two recordings. None means one recording.
    epoch_length : float, optional
        Epoch duration in seconds; adds a ``duration`` column (s).

    Returns
    -------
    pandas.DataFrame
        One row per bout in time order: ``recording`` (its id, 0 without ``groups``),
        ``stage``, ``first_epoch`` (index into ``y``), ``n_epochs`` and, with
        ``epoch_length``, ``duration``.

    Examples
    --------
    >>> stage_bouts(["W", "W", "N", "N", "N", "W"], epoch_length=4).values.tolist()
    [[0, 'W', 0, 2, 8.0], [0, 'N', 2, 3, 12.0], [0, 'W', 5, 1, 4.0]]
    >>> bouts = stage_bouts(["W", "W", "W"], groups=["a", "a", "b"])
    >>> bouts[["recording", "n_epochs"]].values.tolist()
    [['a', 2], ['b', 1]]
    """
    y = np.asarray(y)
    starts = _bout_starts(y, groups)
    lengths = np.diff(np.append(starts, y.size))
    recording = (np.zeros(starts.size, dtype=int) if groups is None
                 else np.asarray(groups)[starts])
    table = pd.DataFrame({"recording": recording, "stage": y[starts], "first_epoch": starts,
                          "n_epochs": lengths})
    if epoch_length is not None:
        table["duration"] = lengths * float(epoch_length)
    return table


def sleep_architecture(
    y: Sequence[Any],
    labels: Sequence[Any],
    *,
    epoch_length: float | None = None,
    groups: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """Time in each stage, bouts per hour and mean bout duration of a hypnogram.

    Parameters
    ----------
    y : array-like, shape (n_epochs,)
        Stages in time order.
    labels : sequence
        Stages to report, in order; a stage absent from ``y`` gets 0 % time, 0 bouts per
        hour and a mean bout duration of NaN (no bout to average).
    epoch_length : float, optional
        Epoch duration in seconds; needed for the rates and durations.
    groups : array-like, shape (n_epochs,), optional
        Recording of each epoch; bouts never run across recordings.

    Returns
    -------
    dict
        ``percent_time`` (dict stage -> % of epochs, equal to % of time since epochs have
        one length) and, with ``epoch_length``, ``bouts_per_hour`` and
        ``mean_bout_seconds`` (dicts stage -> value). Rates are per hour of all epochs
        together (every recording in ``groups``).

    Examples
    --------
    >>> arch = sleep_architecture(["W"] * 450 + ["N"] * 450, ["W", "N", "R"], epoch_length=4)
    >>> arch["percent_time"], arch["bouts_per_hour"]["W"], arch["mean_bout_seconds"]["W"]
    ({'W': 50.0, 'N': 50.0, 'R': 0.0}, 1.0, 1800.0)
    """
    y = np.asarray(y)
    n = y.size
    keys = [plain(label) for label in labels]
    percent = {key: 100.0 * int(np.count_nonzero(y == label)) / n if n else float("nan")
               for key, label in zip(keys, labels, strict=True)}
    result: dict[str, Any] = {"percent_time": percent}
    if epoch_length is None:
        return result
    bouts = stage_bouts(y, groups)
    hours = n * float(epoch_length) / 3600.0
    per_hour, mean_seconds = {}, {}
    for key, label in zip(keys, labels, strict=True):
        lengths = bouts["n_epochs"].to_numpy()[bouts["stage"].to_numpy() == label]
        per_hour[key] = lengths.size / hours if hours > 0 else float("nan")
        mean_seconds[key] = (float(lengths.mean()) * float(epoch_length) if lengths.size
                             else float("nan"))
    result["bouts_per_hour"] = per_hour
    result["mean_bout_seconds"] = mean_seconds
    return result


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


def merge_short_bouts(
    y: Sequence[Any],
    min_bout: int,
    *,
    groups: Sequence[Any] | None = None,
    unscored: Any = None,
) -> np.ndarray:
    """Relabel every bout shorter than ``min_bout`` epochs into its surroundings.

    Short bouts are handled one at a time, the shortest first (the earliest on ties); each
    takes the stage of a neighbouring bout of the same recording and merges with it:

    - when the bouts before and after it have the same stage, all three become one bout;
    - otherwise it joins the longer of its two neighbours (the earlier one on a tie); at the
      edge of a recording, or next to an unscored stretch, the only scored neighbour.

    A merged bout that is still shorter than ``min_bout`` goes back in the queue. Unscored
    epochs (``unscored``) are never relabelled and never absorb a bout, and a short bout with
    no scored neighbour (between two unscored stretches) is kept as it is. Bouts never take a
    stage across a recording boundary (``groups``).

    Parameters
    ----------
    y : array-like, shape (n_epochs,)
        Stages in time order.
    min_bout : int
        Shortest bout kept, in epochs; 1 changes nothing.
    groups : array-like, shape (n_epochs,), optional
        Recording (or contiguous segment) of each epoch.
    unscored : optional
        Label of unscored epochs, e.g. ``"UNSCORED"``.

    Returns
    -------
    numpy.ndarray
        The relabelled stages (a copy), same length as ``y``.

    Examples
    --------
    >>> merge_short_bouts(list("WWWNWWRRRRN"), 2).tolist()
    ['W', 'W', 'W', 'W', 'W', 'W', 'R', 'R', 'R', 'R', 'R']
    >>> merge_short_bouts(list("WWNRRR"), 2).tolist()
    ['W', 'W', 'R', 'R', 'R', 'R']
    """
    if isinstance(min_bout, bool) or int(min_bout) != min_bout or min_bout < 1:
        raise ValueError(f"The 'min_bout' parameter must be an integer >= 1 (epochs), got "
                         f"{min_bout!r}.")
    y = np.array(y, copy=True)
    bouts = stage_bouts(y, groups)
    if min_bout == 1 or len(bouts) < 2:
        return y
    stage = bouts["stage"].tolist()
    first = bouts["first_epoch"].to_numpy().copy()
    length = bouts["n_epochs"].to_numpy().copy()
    recording = bouts["recording"].to_numpy()
    n = len(bouts)
    same = recording[1:] == recording[:-1]
    prev = np.where(np.r_[False, same], np.arange(n) - 1, -1)
    nxt = np.where(np.r_[same, False], np.arange(n) + 1, -1)
    alive = np.ones(n, dtype=bool)
    scored = np.array([unscored is None or s != unscored for s in stage], dtype=bool)
    heap = [(int(length[i]), int(i)) for i in range(n) if scored[i] and length[i] < min_bout]
    heapq.heapify(heap)

    def absorb(keep: int, gone: int) -> None:  # ``gone`` is next to ``keep``
        length[keep] += length[gone]
        first[keep] = min(first[keep], first[gone])
        alive[gone] = False
        if nxt[keep] == gone:
            nxt[keep] = nxt[gone]
            if nxt[gone] != -1:
                prev[nxt[gone]] = keep
        else:
            prev[keep] = prev[gone]
            if prev[gone] != -1:
                nxt[prev[gone]] = keep

    while heap:
        size, i = heapq.heappop(heap)
        if not alive[i] or size != length[i]:
            continue
        before, after = int(prev[i]), int(nxt[i])
        candidates = [j for j in (before, after) if j != -1 and scored[j]]
        if not candidates:
            continue
        if len(candidates) == 2 and stage[before] == stage[after]:
            absorb(before, i)
            absorb(before, after)
            target = before
        else:
            target = max(candidates, key=lambda j: length[j])  # the earlier one on a tie
            absorb(target, i)
        if length[target] < min_bout:
            heapq.heappush(heap, (int(length[target]), target))
    for i in np.flatnonzero(alive):
        y[first[i]:first[i] + length[i]] = stage[i]
    return y
