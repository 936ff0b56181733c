"""Small checking helpers shared by every module, each with one message shape.

Errors name what is wrong and what was expected, e.g.
``Invalid value for the 'method' parameter. Allowed values are 'welch', 'multitaper', but got
'fft' instead.``
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "check_epochs",
    "check_finite",
    "check_option",
    "check_positive",
    "check_scored",
]

#: Marker of epochs without a usable stage (:data:`sleepstage.data.UNSCORED`, defined here
#: so that every subpackage can check labels for it).
UNSCORED = "UNSCORED"


def check_option(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``, else raise a named ``ValueError``."""
    allowed = list(allowed)
    if value not in allowed:
        shown = ", ".join(repr(a) for a in allowed)
        raise ValueError(
            f"Invalid value for the {name!r} parameter. Allowed values are {shown}, "
            f"but got {value!r} instead."
        )
    return value


def check_scored(y: Any, what: str = "y") -> None:
    """Refuse labels holding the unscored marker (:data:`sleepstage.data.UNSCORED`).

    An unscored epoch has no stage: learnt, it would become a stage of its own; scored, it
    would count as an error or a hit of that stage. Readers keep such epochs only when asked
    (``drop_unscored=False``), so that the gaps show; they must be left out before fitting
    or scoring.
    """
    if y is None:
        return
    labels = np.asarray(y)
    if labels.dtype.kind not in "OUS":  # numbers: no marker
        return
    n_unscored = int(np.count_nonzero(labels.astype(object) == UNSCORED))
    if n_unscored:
        raise ValueError(
            f"{what} holds {n_unscored} epoch(s) labelled {UNSCORED!r}: an unscored epoch "
            f"has no stage to learn or to score. Leave them out first (e.g. X[y != "
            f"{UNSCORED!r}]), or read the data with drop_unscored=True (the default)."
        )


def check_positive(name: str, value: Any, *, strict: bool = True) -> float:
    """Return ``value`` as a float if it is a (strictly) positive finite number.

    Written here rather than with :func:`sklearn.utils.check_scalar`, which was tried:
    ``check_scalar(value, name, numbers.Real, min_val=0)`` lets NaN and inf through,
    refuses what parameters have accepted so far (a 0-d array, a numeric string such as
    ``"128"``), and says ``sfreq == 0, must be > 0.`` where this says
    ``The 'sfreq' parameter must be a finite number > 0, but got 0.`` (the wording of
    :func:`check_option`, which the tests match). Wrapping it would keep none of its code.

    Raises
    ------
    TypeError
        If ``value`` is not a number.
    ValueError
        If it is NaN, infinite, negative, or 0 with ``strict``.

    Examples
    --------
    >>> check_positive("sfreq", "128"), check_positive("fmin", 0, strict=False)
    (128.0, 0.0)
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"The {name!r} parameter must be a number, but got {value!r}.") from None
    if not np.isfinite(number) or number < 0 or (strict and number == 0):
        bound = "> 0" if strict else ">= 0"
        raise ValueError(
            f"The {name!r} parameter must be a finite number {bound}, but got {value!r}."
        )
    return number


def check_finite(X: np.ndarray, what: str = "X") -> np.ndarray:
    """Raise ``ValueError`` naming the first epoch that holds NaN or inf samples."""
    finite = np.isfinite(X)
    if not finite.all():
        bad = np.argwhere(~finite)[0]
        kind = "NaN" if np.isnan(X[tuple(bad)]) else "infinite"
        n_bad = int(np.count_nonzero(~finite))
        raise ValueError(
            f"{what} contains {n_bad} non-finite value(s); the first {kind} value is at "
            f"index {tuple(int(i) for i in bad)}. Remove or interpolate them before staging."
        )
    return X


def check_epochs(
    X: Any,
    n_channels: int,
    *,
    n_samples: int | None = None,
    ch_names: Sequence[str] | None = None,
    dtype: Any = np.float32,
    allow_nan: bool = False,
) -> np.ndarray:
    """Return epochs as a C-contiguous ``(n_epochs, n_channels, n_samples)`` array.

    Parameters
    ----------
    X : array-like, shape (n_epochs, n_channels * n_samples) or (n_epochs, n_channels, n_samples)
        Epochs, either flat (channel by channel) or already 3-D.
    n_channels : int
        Number of channels the caller declared.
    n_samples : int, optional
        Expected samples per epoch; checked when given.
    ch_names : sequence of str, optional
        Used in error messages only.
    dtype : numpy dtype
        Output dtype (float32 by default; float64 input is converted).
    allow_nan : bool
        When False (default), NaN or inf samples raise ``ValueError``.

    Returns
    -------
    numpy.ndarray, shape (n_epochs, n_channels, n_samples)
    """
    if hasattr(X, "to_numpy"):  # pandas
        X = X.to_numpy()
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise TypeError("Sparse input is not supported: epochs must be a dense array "
                        "(convert with X.toarray()).")
    X = _as_array(X)
    if X.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: epochs must be real-valued, but got an "
                         f"array of dtype {X.dtype}.")
    if X.dtype.kind not in "fiub":
        raise TypeError(f"Epochs must be numeric, but got an array of dtype {X.dtype}.")
    if X.ndim not in (2, 3):
        raise ValueError(
            "Epochs must be 2-D (n_epochs, n_channels * n_samples) or 3-D "
            f"(n_epochs, n_channels, n_samples), but got an array of shape {X.shape}. Reshape "
            "your data, e.g. X.reshape(1, -1) for a single flat epoch."
        )
    if X.shape[0] == 0:
        raise ValueError(f"Found an empty array of shape {X.shape}: at least one epoch is needed.")
    names = f" ({', '.join(ch_names)})" if ch_names is not None else ""
    if X.ndim == 2:
        n_columns = X.shape[1]
        # scikit-learn's wording (its estimator checks look for it), then ours
        if n_columns == 0:
            raise ValueError(
                f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of "
                f"{2 * n_channels} is required: each epoch needs at least 2 samples per channel."
            )
        if n_samples is not None and n_columns != n_channels * n_samples:
            detail = (
                f"each epoch has {n_columns // n_channels} samples per channel, but {n_samples} "
                "were expected (sfreq x epoch length of the fitted model)"
                if n_columns % n_channels == 0 else
                f"{n_columns} columns are not a multiple of the {n_channels} channels{names}"
            )
            raise ValueError(f"X has {n_columns} features, but it is expecting "
                             f"{n_channels * n_samples} features as input: {detail}.")
        if n_columns % n_channels:
            raise ValueError(
                f"X has {n_columns} columns, which is not a multiple of the {n_channels} "
                f"declared channels{names}. Pass ch_names/ch_types matching the data."
            )
        if n_columns < 2 * n_channels:
            raise ValueError(
                f"X has {n_columns} feature(s) for {n_channels} channel(s){names}: each epoch "
                "needs at least 2 samples per channel."
            )
        X = X.reshape(X.shape[0], n_channels, n_columns // n_channels)
    elif X.shape[1] != n_channels:
        raise ValueError(
            f"X has {X.shape[1]} channels (shape {X.shape}), but {n_channels} were "
            f"declared{names}."
        )
    if n_samples is not None and X.shape[2] != n_samples:
        raise ValueError(
            f"Each epoch has {X.shape[2]} samples per channel, but {n_samples} were expected "
            "(sfreq x epoch length of the fitted model)."
        )
    if X.shape[2] < 2:
        raise ValueError(f"Each epoch needs at least 2 samples per channel, got {X.shape[2]}.")
    X = np.ascontiguousarray(X, dtype=dtype)
    if not allow_nan:
        check_finite(X)
    return X


def _as_array(X: Any) -> np.ndarray:
    """``np.asarray(X)``; object arrays of numbers become float64, ragged input raises."""
    try:
        X = np.asarray(X)
        if X.dtype == object:
            X = X.astype(np.float64)  # a non-number inside raises numpy's TypeError
    except ValueError:  # a ragged sequence: numpy cannot stack it
        raise ValueError(
            "Epochs must all have the same shape, but got a sequence of unequal lengths "
            f"({_shapes(X)}). Cut the recording into epochs of equal length first."
        ) from None
    return X


def _shapes(items: Any, limit: int = 5) -> str:
    """Shapes of the first few items of a sequence, for error messages."""
    shapes = [str(np.shape(item)) for item in list(items)[:limit]]
    return ", ".join(shapes) + (", ..." if len(items) > limit else "")
