"""Honest cross-validation splitters for sleep recordings.

Consecutive epochs are strongly correlated, so held-out epochs must come from another recording
(animal / night) or, within a single recording, from a contiguous block of time. Shuffled-epoch
splits are deliberately not offered.
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import BaseCrossValidator

from .._groups import recording_segments
from .._validation import check_option

__all__ = ["BlockSplit", "RecordingSplit", "block_groups", "resolve_cv"]


class RecordingSplit(BaseCrossValidator):
    """Leave-one-recording-out: each fold holds out every epoch of one recording.

    Examples
    --------
    >>> import numpy as np
    >>> groups = np.repeat(["a", "b", "c"], 4)
    >>> [sorted(set(groups[test])) for _, test in RecordingSplit().split(groups, groups=groups)]
    [['a'], ['b'], ['c']]
    """

    def split(self, X, y=None, groups=None):
        """Yield ``(train, test)`` index arrays, one fold per recording."""
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
            test = np.flatnonzero(groups == recording)
            yield np.flatnonzero(groups != recording), test

    def _iter_test_indices(self, X=None, y=None, groups=None):  # pragma: no cover - via split
        for _, test in self.split(X, y, groups):
            yield test

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
    n_blocks : int
        Number of folds (blocks per recording).
    gap : int
        Epochs dropped from the training set on each side of a held-out block, so that the
        epochs adjacent to the test block (the most correlated with it) are not trained on.

    Examples
    --------
    >>> import numpy as np
    >>> [test.tolist() for _, test in BlockSplit(n_blocks=3).split(np.zeros(6))]
    [[0, 1], [2, 3], [4, 5]]
    """

    def __init__(self, n_blocks: int = 5, *, gap: int = 0):
        self.n_blocks = n_blocks
        self.gap = gap

    def split(self, X, y=None, groups=None):
        """Yield ``(train, test)`` index arrays; test is one contiguous block per recording."""
        n_epochs = len(X)
        blocks = block_index(n_epochs, self.n_blocks, groups)
        for k in range(self.n_blocks):
            test_mask = blocks == k
            train_mask = ~test_mask
            if self.gap:
                near = np.convolve(test_mask, np.ones(2 * self.gap + 1), mode="same") > 0
                train_mask &= ~near
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


def resolve_cv(cv) -> tuple[BaseCrossValidator, int | None]:
    """Turn ``"recording"``, ``"blocks:K"`` or a splitter into ``(splitter, n_blocks)``."""
    if isinstance(cv, str):
        if cv == "recording":
            return RecordingSplit(), None
        if cv.startswith("blocks:"):
            try:
                n_blocks = int(cv.split(":", 1)[1])
            except ValueError:
                raise ValueError(f"cv={cv!r}: the number of blocks must be an integer, "
                                 "e.g. 'blocks:5'.") from None
            return BlockSplit(n_blocks=n_blocks), n_blocks
        check_option("cv", cv, ["recording", "blocks:K (e.g. 'blocks:5')"])
    if isinstance(cv, BlockSplit):
        return cv, int(cv.n_blocks)
    if hasattr(cv, "split") and hasattr(cv, "get_n_splits"):
        return cv, None
    raise TypeError(f"cv must be 'recording', 'blocks:K' or a splitter object, got {cv!r}.")


def _in_order(groups: np.ndarray) -> np.ndarray:
    _, first = np.unique(groups, return_index=True)
    return groups[np.sort(first)]
