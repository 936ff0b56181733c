"""Recording membership of epochs: validation of ``groups`` and contiguous segments.

Per-recording steps (:class:`~sleepstage.features.RecordingScaler`,
:class:`~sleepstage.features.TemporalContext`, :class:`~sleepstage.models.HMMSmoother`)
receive the recording id of every epoch as ``groups``. The epochs of one recording must be
contiguous and in time order; ``groups=None`` means that all epochs form one continuous
recording.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Segments", "check_groups", "cut_recordings", "recording_segments", "runs"]


@dataclass(frozen=True)
class Segments:
    """Contiguous recordings of a sequence of epochs.

    Attributes
    ----------
    starts, stops : numpy.ndarray of int, shape (n_recordings,)
        Half-open epoch ranges ``[start, stop)`` of each recording, in input order.
    ids : numpy.ndarray, shape (n_recordings,)
        Recording id of each range (``[0]`` when no groups were given).
    grouped : bool
        Whether recording ids were given (False: the input is one recording, not named).
    """

    starts: np.ndarray
    stops: np.ndarray
    ids: np.ndarray
    grouped: bool = True

    def describe(self, index: int) -> str:
        """Recording ``index`` for a message: its id, or "the input" without groups."""
        if not self.grouped:
            return "the input (one recording: no groups given)"
        return repr(self.ids.tolist()[index])

    @property
    def n_epochs(self) -> int:
        """Total number of epochs."""
        return int(self.stops[-1]) if len(self.stops) else 0

    @property
    def lengths(self) -> np.ndarray:
        """Number of epochs of each recording."""
        return self.stops - self.starts

    def __len__(self) -> int:
        return len(self.starts)

    def slices(self) -> list[slice]:
        """One ``slice`` per recording."""
        return [slice(int(a), int(b)) for a, b in zip(self.starts, self.stops, strict=True)]

    def epoch_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Start and stop of the recording that holds each epoch, shape (n_epochs,) each."""
        lengths = self.lengths
        return np.repeat(self.starts, lengths), np.repeat(self.stops, lengths)

    def first_epochs(self) -> np.ndarray:
        """Boolean mask, True on the first epoch of each recording."""
        mask = np.zeros(self.n_epochs, dtype=bool)
        mask[self.starts] = True
        return mask


def check_groups(groups: Any, n_samples: int) -> np.ndarray | None:
    """Return ``groups`` as a 1-D array of length ``n_samples`` (or None).

    Raises
    ------
    ValueError
        If ``groups`` is not 1-D, has the wrong length, or holds missing values.
    """
    if groups is None:
        return None
    if hasattr(groups, "to_numpy"):  # pandas Series / Index
        groups = groups.to_numpy()
    groups = np.asarray(groups)
    if groups.ndim != 1:
        raise ValueError(
            f"groups must be 1-D (one recording id per epoch), but got an array of shape "
            f"{groups.shape}."
        )
    if groups.shape[0] != n_samples:
        raise ValueError(
            f"groups has {groups.shape[0]} entries but X has {n_samples} epochs; give one "
            "recording id per epoch."
        )
    if pd.isna(groups).any():
        raise ValueError("groups contains missing values (NaN/None); every epoch needs a "
                         "recording id.")
    return groups


def recording_segments(groups: Any, n_samples: int) -> Segments:
    """Split ``n_samples`` epochs into contiguous recordings according to ``groups``.

    Parameters
    ----------
    groups : array-like of shape (n_samples,) or None
        Recording id of each epoch; None means one continuous recording.
    n_samples : int
        Number of epochs.

    Returns
    -------
    Segments

    Raises
    ------
    ValueError
        If a recording id reappears after another recording (its epochs are not contiguous).

    Examples
    --------
    >>> seg = recording_segments(["a", "a", "b", "b", "b"], 5)
    >>> seg.starts.tolist(), seg.stops.tolist(), seg.ids.tolist()
    ([0, 2], [2, 5], ['a', 'b'])
    """
    groups = check_groups(groups, n_samples)
    if groups is None or n_samples == 0:
        return Segments(np.array([0]), np.array([n_samples]), np.array([0]), grouped=False)
    segments = runs(groups)
    starts, ids = segments.starts, segments.ids
    repeated = pd.Series(ids).duplicated().to_numpy()
    if repeated.any():
        k = int(np.flatnonzero(repeated)[0])
        raise ValueError(
            f"Recording id {ids.tolist()[k]!r} reappears at epoch {int(starts[k])} after epochs of "
            "another recording. The epochs of each recording must be contiguous and in time "
            "order: sort the data by recording, then by time."
        )
    return segments


def runs(groups: Any) -> Segments:
    """The maximal runs of one id in ``groups``, in input order, without any check.

    :func:`recording_segments` is these runs, after checking ``groups`` and that no id
    comes back after another one; use it unless a repeated id must be allowed (each of its
    runs is then a segment of its own).

    Parameters
    ----------
    groups : array-like of shape (n_epochs,), n_epochs >= 1

    Returns
    -------
    Segments

    Examples
    --------
    >>> runs(["a", "a", "b", "a"]).slices()
    [slice(0, 2, None), slice(2, 3, None), slice(3, 4, None)]
    """
    groups = np.asarray(groups)
    changes = np.flatnonzero(groups[1:] != groups[:-1]) + 1
    starts = np.concatenate([[0], changes]).astype(np.intp)
    stops = np.concatenate([changes, [groups.size]]).astype(np.intp)
    return Segments(starts, stops, groups[starts])


def cut_recordings(groups: Any, keep: np.ndarray) -> np.ndarray | None:
    """Recording ids of the epochs in ``keep``, each recording cut where epochs are left out.

    Leaving epochs out of a sequence makes the epochs on either side of them neighbours,
    although they were not consecutive in time. Giving each uninterrupted stretch of kept
    epochs an id of its own ("piece") keeps sequence steps (transition counts, context
    windows, sequence models) from treating the stretches as one.

    Parameters
    ----------
    groups : array-like of shape (n_epochs,) or None
        Recording id of each epoch; None means one continuous recording.
    keep : numpy.ndarray of bool, shape (n_epochs,)
        Epochs that remain.

    Returns
    -------
    numpy.ndarray of shape (n_kept,) or None
        ``groups[keep]`` when no recording is interrupted (None if ``groups`` is None).
        Otherwise the ids as text, ``"<recording>/part<k>"`` for piece ``k`` (from 0) of
        each interrupted recording, or the piece number alone when ``groups`` is None.

    Examples
    --------
    >>> keep = np.array([True, True, False, True, True, True])
    >>> cut_recordings(["a", "a", "a", "a", "b", "b"], keep).tolist()
    ['a/part0', 'a/part0', 'a/part1', 'b', 'b']
    >>> cut_recordings(None, keep).tolist()
    [0, 0, 1, 1, 1]
    >>> cut_recordings(["a", "a", "a", "b", "b", "b"], keep).tolist()  # only an end dropped
    ['a', 'a', 'b', 'b', 'b']
    """
    keep = np.asarray(keep, dtype=bool)
    segments = recording_segments(groups, keep.size)
    groups = check_groups(groups, keep.size)
    # a piece starts at a kept epoch that opens its recording or follows a left-out epoch
    starts = (segments.first_epochs() | np.r_[False, ~keep[:-1]])[keep]
    piece = np.cumsum(starts) - 1  # global piece number of each kept epoch
    recording = np.repeat(np.arange(len(segments)), segments.lengths)[keep]
    present, first_kept = np.unique(recording, return_index=True)
    first_piece = np.zeros(len(segments), dtype=piece.dtype)
    first_piece[present] = piece[first_kept]
    within = piece - first_piece[recording]  # piece number within its recording
    if not within.any():
        return None if groups is None else groups[keep]
    if groups is None:
        return piece
    names = groups[keep].astype(str).astype(object)
    cut = np.zeros(len(segments), dtype=bool)
    cut[recording[within > 0]] = True
    cut = cut[recording]  # epochs of a recording that is cut
    names[cut] = np.char.add(names[cut].astype(str), np.char.add("/part", within[cut].astype(str)))
    return names
