"""Scoring a long input a block of rows at a time, so a model's copies of it stay bounded.

Used wherever a fitted model scores a whole recording whose rows do not depend on each other
(a classifier's ``predict`` / ``predict_proba``): the HMM's classifier, the scaler's
first-pass stages, the adapted stager's scores. scikit-learn is imported inside the
functions, so importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["SCORE_ROWS", "num_samples_or_none", "rowwise"]

#: Rows scored at a time by :func:`rowwise` unless told otherwise.
SCORE_ROWS = 8192


def num_samples_or_none(X: Any) -> int | None:
    """Number of rows of ``X`` (scikit-learn's ``_num_samples``), None if it has none."""
    from sklearn.utils.validation import _num_samples

    try:
        return _num_samples(X)
    except TypeError:
        return None


def rowwise(func: Callable[[Any], Any], X: Any, rows: int | None = None) -> np.ndarray:
    """``func(X)`` computed ``rows`` rows of ``X`` at a time, the results concatenated.

    Only for a ``func`` whose output row ``i`` depends on input row ``i`` alone (a fitted
    classifier's ``predict`` or ``predict_proba``): the result is then that of ``func(X)``
    (bit for bit for tree models such as LightGBM; a model built on BLAS products may round
    a block of one row differently in the last bit), while the copies ``func`` makes of its
    input (LightGBM converts it) stay bounded by the block. An input of at most ``rows``
    rows, or without a number of rows, is passed whole.

    Parameters
    ----------
    func : callable
        Called on ``X`` or on consecutive row blocks of it (``sklearn.utils._safe_indexing``:
        arrays, DataFrames, lists).
    X : array-like
    rows : int, optional
        Rows per block (the last block may be shorter); default :data:`SCORE_ROWS`.

    Returns
    -------
    numpy.ndarray
        ``numpy.asarray(func(X))``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(10.0)[:, None]
    >>> rowwise(lambda block: 2 * block[:, 0], X, rows=4).tolist()
    [0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0]
    """
    from sklearn.utils import _safe_indexing

    rows = SCORE_ROWS if rows is None else rows
    n = num_samples_or_none(X)
    if n is None or n <= rows:
        return np.asarray(func(X))
    return np.concatenate([np.asarray(func(_safe_indexing(X, slice(start, min(start + rows, n)))))
                           for start in range(0, n, rows)])
