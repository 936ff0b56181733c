"""Honest cross-validation splitters for sleep recordings.

Consecutive epochs are strongly correlated, so held-out epochs must come from another recording
(animal / night) or, within a single recording, from a contiguous block of time. Shuffled-epoch
splits are deliberately not offered.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.model_selection import BaseCrossValidator, LeaveOneGroupOut

from .._internal.groups import recording_segments
from .._internal.validation import check_option, check_positive
from ._factory import DEFAULT_CONTEXT, DEFAULT_EPOCH_LENGTH

__all__ = ["BlockSplit", "RecordingSplit", "block_groups", "recording_folds", "resolve_cv"]


class RecordingSplit(LeaveOneGroupOut):
    """Leave-one-recording-out: each fold holds out every epoch of one recording.

    scikit-learn's :class:`~sklearn.model_selection.LeaveOneGroupOut` with the recording
    ids as groups, except that the folds follow the order in which the recordings first
    appear (``LeaveOneGroupOut`` sorts the ids) and the errors say what to do instead.

    Examples
    --------
    >>> import numpy as np
    >>> groups = np.repeat(["c", "a", "b"], 4)
    >>> folds = RecordingSplit().split(groups, groups=groups)
    >>> [sorted(set(groups[test].tolist())) for _, test in folds]
    [['c'], ['a'], ['b']]
    """

    def _iter_test_masks(self, X=None, y=None, groups=None):
        if groups is None:
            raise ValueError("RecordingSplit needs groups (the recording id of each epoch).")
        groups = np.asarray(groups)
        recordings = _in_order(groups)
        if len(recordings) < 2:
            raise ValueError(
                f"Leave-one-recording-out needs at least 2 recordings, found {len(recordings)}; "
                "use cv='blocks:5' to evaluate a single recording in contiguous blocks."
            )
        for recording in recordings:
            yield groups == recording

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """Number of recordings."""
        if groups is None:
            raise ValueError("RecordingSplit needs groups to count the folds.")
        return len(_in_order(np.asarray(groups)))


class BlockSplit(BaseCrossValidator):
    """Contiguous time blocks: each recording is cut into ``n_blocks`` equal stretches of time,
    and fold k holds out block k of every recording.

    Parameters
    ----------
    n_blocks : int, default=5
        Number of folds (blocks per recording).
    gap : int or "auto", default="auto"
        Epochs left out of the training set on each side of a held-out block, within its
        recording. Sleep bouts straddle block edges, and the epochs next to a test block are
        nearly copies of its first and last epochs (and share their temporal-context
        windows); without a gap they are trained on. "auto" is the length of the default
        temporal-context window (:data:`~sleepstage.pipelines.DEFAULT_CONTEXT`, 60 s) in
        epochs of ``epoch_length``: 15 epochs of 4 s, 2 epochs of 30 s. 0 means no gap.
    epoch_length : float, optional
        Epoch length in seconds, for ``gap="auto"``. None means the reference 4-s epochs;
        :func:`~sleepstage.pipelines.cross_validate_recordings` and
        :func:`~sleepstage.parallel.grid_search` fill it in from the data.

    Examples
    --------
    >>> import numpy as np
    >>> [test.tolist() for _, test in BlockSplit(n_blocks=3, gap=0).split(np.zeros(6))]
    [[0, 1], [2, 3], [4, 5]]
    >>> train, test = next(BlockSplit(n_blocks=3, gap=1).split(np.zeros(9)))
    >>> train.tolist(), test.tolist()  # epoch 3, next to the test block, is left out
    ([4, 5, 6, 7, 8], [0, 1, 2])
    >>> BlockSplit(epoch_length=30.0).gap_epochs()
    2
    """

    def __init__(self, n_blocks: int = 5, *, gap: int | str = "auto",
                 epoch_length: float | None = None):
        self.n_blocks = n_blocks
        self.gap = gap
        self.epoch_length = epoch_length

    def gap_epochs(self) -> int:
        """The gap in epochs, ``"auto"`` resolved with ``epoch_length``.

        Raises
        ------
        ValueError
            If ``gap`` is neither "auto" nor an integer >= 0.
        """
        if isinstance(self.gap, str):
            check_option("gap", self.gap, ["auto", "an integer >= 0"])
            epoch_length = (DEFAULT_EPOCH_LENGTH if self.epoch_length is None
                            else check_positive("epoch_length", self.epoch_length))
            seconds = max(DEFAULT_CONTEXT["windows"] + DEFAULT_CONTEXT["past_windows"])
            return max(1, round(seconds / epoch_length))  # as TemporalContext rounds it
        if (isinstance(self.gap, bool) or not isinstance(self.gap, numbers.Integral)
                or self.gap < 0):
            raise ValueError(f"Invalid value for the 'gap' parameter. Allowed values are "
                             f"'auto' or an integer >= 0 (epochs), but got {self.gap!r} "
                             "instead.")
        return int(self.gap)

    def split(self, X, y=None, groups=None):
        """Yield ``(train, test)`` index arrays; test is one contiguous block per recording.

        Raises
        ------
        ValueError
            If the gap leaves a fold without training epochs.
        """
        n_epochs = len(X)
        gap = self.gap_epochs()
        blocks = block_index(n_epochs, self.n_blocks, groups)
        segments = recording_segments(groups, n_epochs)
        recording = np.repeat(np.arange(len(segments)), segments.lengths)
        for k in range(self.n_blocks):
            test_mask = blocks == k
            train_mask = ~test_mask
            if gap:
                # first and last test epoch of each recording, broadcast to its epochs
                first = np.minimum.reduceat(np.where(test_mask, np.arange(n_epochs), n_epochs),
                                            segments.starts)[recording]
                last = np.maximum.reduceat(np.where(test_mask, np.arange(n_epochs), -1),
                                           segments.starts)[recording]
                position = np.arange(n_epochs)
                near = (position >= first - gap) & (position <= last + gap)
                train_mask &= ~near
            if not train_mask.any():
                raise ValueError(
                    f"BlockSplit(n_blocks={self.n_blocks}, gap={gap} epochs) leaves no training "
                    f"epochs in fold {k} ({n_epochs} epochs in all); use fewer blocks or a "
                    "smaller gap."
                )
            yield np.flatnonzero(train_mask), np.flatnonzero(test_mask)

    def _iter_test_indices(self, X=None, y=None, groups=None):  # pragma: no cover - via split
        for _, test in self.split(X, y, groups):
            yield test

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """Number of blocks."""
        return int(self.n_blocks)


def block_index(n_epochs: int, n_blocks: int, groups=None) -> np.ndarray:
    """Block number (0 .. n_blocks-1) of each epoch, blocks cut within each recording."""
    if int(n_blocks) != n_blocks or n_blocks < 2:
        raise ValueError(f"n_blocks must be an integer >= 2, got {n_blocks!r}.")
    blocks = np.empty(n_epochs, dtype=np.int64)
    for segment in recording_segments(groups, n_epochs).slices():
        start, stop = segment.start, segment.stop
        length = stop - start
        if length < n_blocks:
            raise ValueError(
                f"A recording of {length} epochs cannot be cut into {n_blocks} blocks."
            )
        blocks[start:stop] = np.arange(length) * n_blocks // length
    return blocks


def block_groups(groups, n_blocks: int) -> np.ndarray:
    """Recording ids refined to ``"<recording>/block<k>"`` for block-wise evaluation.

    Each block then counts as its own recording, so training sets assembled from
    non-adjacent blocks are never treated as one continuous stretch of time (context windows,
    per-recording scaling and HMM transitions stay within a block).
    """
    groups = np.asarray(groups)
    blocks = block_index(len(groups), n_blocks, groups)
    labels = np.char.add(groups.astype(str), np.char.add("/block", blocks.astype(str)))
    return labels.astype(object)


def resolve_cv(cv, epoch_length: float | None = None) -> tuple[BaseCrossValidator, int | None]:
    """Turn ``"recording"``, ``"blocks:K"``, ``"blocks:K:GAP"`` or a splitter into
    ``(splitter, n_blocks)``.

    ``GAP`` is the :class:`BlockSplit` gap in epochs; without it the gap is "auto",
    resolved with ``epoch_length`` (the data's epoch length, in seconds). A
    :class:`BlockSplit` without an ``epoch_length`` gets this one.
    """
    if isinstance(cv, str):
        if cv == "recording":
            return RecordingSplit(), None
        if cv.startswith("blocks:"):
            parts = cv.split(":")
            try:
                n_blocks = int(parts[1])
            except ValueError:
                raise ValueError(f"cv={cv!r}: the number of blocks must be an integer, "
                                 "e.g. 'blocks:5'.") from None
            if len(parts) > 3:
                raise ValueError(f"cv={cv!r}: expected 'blocks:K' or 'blocks:K:GAP'.")
            gap: int | str = "auto"
            if len(parts) == 3:
                if not parts[2].isdigit():
                    raise ValueError(f"cv={cv!r}: the gap (GAP in 'blocks:K:GAP', epochs left "
                                     "out of training on each side of a test block) must be "
                                     "an integer >= 0, e.g. 'blocks:5:15'.")
                gap = int(parts[2])
            return BlockSplit(n_blocks=n_blocks, gap=gap, epoch_length=epoch_length), n_blocks
        check_option("cv", cv, ["recording", "blocks:K (e.g. 'blocks:5')",
                                "blocks:K:GAP (e.g. 'blocks:5:15')"])
    if isinstance(cv, BlockSplit):
        if cv.epoch_length is None and epoch_length is not None:
            cv = BlockSplit(n_blocks=cv.n_blocks, gap=cv.gap, epoch_length=epoch_length)
        return cv, int(cv.n_blocks)
    if hasattr(cv, "split") and hasattr(cv, "get_n_splits"):
        return cv, None
    raise TypeError(f"cv must be 'recording', 'blocks:K' or a splitter object, got {cv!r}.")


def recording_folds(data, cv: Any = "recording") -> tuple[list, np.ndarray, np.ndarray]:
    """The folds of ``data`` under ``cv``, and the recording ids its steps are given.

    Parameters
    ----------
    data : EpochData
        Epochs with their recording ids (``data.groups``).
    cv : {"recording", "blocks:K", "blocks:K:GAP"} or splitter
        As for :func:`resolve_cv`; ``"blocks:K"`` gaps resolve with ``data.epoch_length``.

    Returns
    -------
    splits : list of (train, test) index arrays
        The splitter called with the true recording ids.
    groups : numpy.ndarray
        The true recording id of each epoch.
    routed : numpy.ndarray
        The ids the per-recording steps receive: ``groups``, or with ``"blocks:K"`` one id
        per block (:func:`block_groups`), so that no block is joined to another.

    Examples
    --------
    >>> from sleepstage.data import make_synthetic
    >>> data = make_synthetic(n_recordings=2, hours=0.1)
    >>> splits, groups, routed = recording_folds(data, "blocks:2:0")
    >>> len(splits), str(routed[0])
    (2, 'synthetic-0/block0')
    """
    splitter, n_blocks = resolve_cv(cv, data.epoch_length)
    groups = np.asarray(data.groups)
    routed = groups if n_blocks is None else block_groups(groups, n_blocks)
    return list(splitter.split(data.X, data.y, groups)), groups, routed


def _in_order(groups: np.ndarray) -> np.ndarray:
    _, first = np.unique(groups, return_index=True)
    return groups[np.sort(first)]
