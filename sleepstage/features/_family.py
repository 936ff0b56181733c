"""Base class of the per-epoch feature families and the numeric helpers they share."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._internal.validation import check_epochs, check_finite, check_positive
from ._base import EpochTransformer
from ._batch import POWER_FLOOR, EpochBatch, Workspace, run_batches
from ._psd import PSDPlan, make_psd_plan, notch_mask

__all__ = [
    "AMPLITUDE_FLOOR",
    "FAMILIES",
    "POWER_FLOOR",
    "FeatureFamily",
    "PSDFeatureFamily",
    "abs_linear_quantiles",
    "channel_indices",
    "check_batch_finite",
    "check_features_finite",
    "linear_quantiles",
    "safe_log",
]

#: Family of every column, as reported by ``feature_families_``.
FAMILIES: tuple[str, ...] = ("band_power", "spectral_shape", "emg", "hjorth", "time")

#: Floor under amplitude-like values (units, e.g. V): the square root of ``POWER_FLOOR``.
AMPLITUDE_FLOOR: float = 1e-15

#: Epochs per batch when a family runs on its own (EpochFeatures has a parameter).
STANDALONE_BATCH_SIZE: int = 1024


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
        Scratch buffers reused between calls (see :mod:`sleepstage.features._batch`).

    Returns
    -------
    numpy.ndarray, shape (n_rows, len(quantiles)), float64
        Equal to ``np.quantile(np.abs(x), quantiles, axis=-1).T`` (method ``"linear"``):
        the order statistics are samples of ``|x|``, interpolated in float64.
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


def check_batch_finite(batch: EpochBatch, X: np.ndarray) -> None:
    """Raise like ``check_finite(X)`` if the batch holds NaN/inf, at no extra pass.

    A NaN or inf sample makes its epoch mean non-finite; only then is the whole of ``X``
    scanned, for a message naming the first bad value (a huge but finite epoch whose sum
    overflows passes that scan). Called after the families' ``_prefetch``, the mean comes
    from the pass over the declared statistics, which reads the samples once for both.
    """
    if not np.isfinite(batch.mean).all():
        check_finite(X)


def check_features_finite(out: np.ndarray, X: np.ndarray, names: np.ndarray) -> np.ndarray:
    """Return ``out``, or raise ``ValueError`` if finite samples gave non-finite features.

    Samples around 1e19 or more overflow float32 powers (squares of the samples), which
    would hand NaN or inf to the classifier (LightGBM treats NaN as missing, silently).
    """
    finite = np.isfinite(out)
    if finite.all():
        return out
    epoch, column = (int(i) for i in np.argwhere(~finite)[0])
    n_bad = int(np.count_nonzero(~finite.all(axis=1)))
    peak = float(np.max(np.abs(X[epoch])))
    raise ValueError(
        f"The features of {n_bad} epoch(s) are not finite (first: epoch {epoch}, "
        f"{names[column]}): its samples reach {peak:.3g}, beyond what float32 power "
        "computations hold. Check the units of X (volts are expected) or rescale it."
    )


class FeatureFamily(EpochTransformer):
    """An :class:`EpochTransformer` that fills its columns from an :class:`EpochBatch`.

    Subclasses implement ``_feature_table(ch_names, ch_types)`` returning
    ``[(channel, feature, family), ...]`` (column ``<channel>_<feature>``) and
    ``_fill(batch, out)`` writing those columns for one batch into the float32 array
    ``out`` (a view, possibly into a wider output). Families running
    inside :class:`~sleepstage.features.EpochFeatures` share one batch, hence one PSD,
    one centred copy, one sort.

    Fitted attributes added to those of :class:`EpochTransformer`: ``feature_families_``,
    the family of each output column (one of ``"band_power"``, ``"spectral_shape"``,
    ``"emg"``, ``"hjorth"``, ``"time"``), and ``feature_channels_``, its channel.
    """

    # -- hooks ------------------------------------------------------------------------------
    def _feature_table(self, ch_names: Sequence[str], ch_types: Sequence[str]) -> list:
        raise NotImplementedError

    def _fill(self, batch: EpochBatch, out: np.ndarray) -> None:
        raise NotImplementedError

    def _prefetch(self, batch: EpochBatch) -> None:
        """Declare shared intermediates (e.g. the PSD channels) before any ``_fill``."""

    # -- plumbing ---------------------------------------------------------------------------
    def _feature_names(self, ch_names: Sequence[str], ch_types: Sequence[str]) -> list[str]:
        return [f"{ch}_{feature}" for ch, feature, _ in self._feature_table(ch_names, ch_types)]

    def _validate_fit_input(self, X) -> np.ndarray:
        X3 = super()._validate_fit_input(X)
        table = self._feature_table(self.ch_names_, self.ch_types_)
        self.feature_families_ = np.asarray([family for _, _, family in table], dtype=object)
        self.feature_channels_ = np.asarray([ch for ch, _, _ in table], dtype=object)
        return X3

    def _validate_transform_input(self, X) -> np.ndarray:
        check_is_fitted(self, "feature_names_out_")
        # Finiteness is checked batch by batch in _compute (check_batch_finite).
        return check_epochs(
            X, len(self.ch_names_), n_samples=self.n_samples_, ch_names=self.ch_names_,
            allow_nan=True,
        )

    def _compute(self, X: np.ndarray) -> np.ndarray:
        out = np.empty((X.shape[0], self.feature_names_out_.size), dtype=np.float32)

        def work(start: int, stop: int, fft_workers: int, workspace: Workspace) -> None:
            batch = EpochBatch(X[start:stop], fft_workers=fft_workers, workspace=workspace)
            self._prefetch(batch)
            check_batch_finite(batch, X)  # after the declarations: see check_batch_finite
            self._fill(batch, out[start:stop])

        run_batches(X.shape[0], STANDALONE_BATCH_SIZE, work, n_jobs=1)
        return check_features_finite(out, X, self.feature_names_out_)

    def fit_transform(self, X, y=None) -> np.ndarray:
        """Fit to ``X`` and return its features, validating ``X`` only once.

        Parameters
        ----------
        X : array-like, shape (n_epochs, n_channels * n_samples) or 3-D
            Epochs, flat (channel by channel) or ``(n_epochs, n_channels, n_samples)``.
        y : ignored

        Returns
        -------
        numpy.ndarray, shape (n_epochs, n_features), float32
        """
        return self._compute(self._validate_fit_input(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True  # (n_epochs, n_channels, n_samples) is accepted
        tags.transformer_tags.preserves_dtype = ["float32"]  # output is always float32
        return tags

    def get_feature_families_out(self) -> np.ndarray:
        """Family of every output column (same order as ``get_feature_names_out()``)."""
        check_is_fitted(self, "feature_families_")
        return self.feature_families_.copy()


class PSDFeatureFamily(FeatureFamily):
    """A :class:`FeatureFamily` whose features are read from the PSD of its ``channels_``.

    Subclasses have the PSD parameters ``method``, ``window``, ``overlap`` and
    ``bandwidth`` and the mains parameters ``notch_freqs`` and ``notch_width``; their
    ``_check_params`` sets ``channels_`` and calls :meth:`_fit_psd_plan` and
    :meth:`_fit_notch`. Families with equal plans share one PSD per batch; the notches are
    left out when each family reads it, so families with different notches still share it.
    """

    def _fit_notch(self, plan: PSDPlan) -> np.ndarray:
        """Validate the notch parameters; the bins of ``plan.freqs`` they leave out.

        Sets ``notch_bands_``, the left-out bands ``(lo, hi)`` in Hz that hold at least one
        bin of the PSD.
        """
        width = check_positive("notch_width", self.notch_width)
        freqs = self.notch_freqs
        if freqs is None:
            freqs = ()
        elif isinstance(freqs, (int, float, np.number)):
            freqs = (freqs,)
        notch_freqs = []
        for f in freqs:
            try:
                value = float(f)
            except (TypeError, ValueError):
                value = float("nan")
            if not (np.isfinite(value) and value > 0):
                raise ValueError(
                    "The 'notch_freqs' parameter must be positive mains frequencies in Hz "
                    f"(e.g. (50, 60)) or None, but got {self.notch_freqs!r}."
                )
            notch_freqs.append(value)
        mask = notch_mask(plan.freqs, tuple(notch_freqs), width, plan.df)
        self.notch_bands_ = [
            (f - width / 2, f + width / 2) for f in notch_freqs
            if notch_mask(plan.freqs, (f,), width, plan.df).any()
        ]
        return mask

    def _fit_psd_plan(self, n_samples: int) -> PSDPlan:
        """Resolve the PSD settings against the epoch length, as the attribute ``psd_plan_``."""
        self.psd_plan_ = make_psd_plan(
            self.sfreq_, n_samples, method=self.method, window=self.window,
            overlap=self.overlap, bandwidth=self.bandwidth,
        )
        return self.psd_plan_

    def _prefetch(self, batch: EpochBatch) -> None:
        if self.channels_:
            batch.prefetch_psd(self.psd_plan_, self.channels_)


def channel_indices(ch_types: Sequence[str], wanted: Sequence[str]) -> list[int]:
    """Positions of the channels whose type is in ``wanted``."""
    return [i for i, ch_type in enumerate(ch_types) if ch_type in wanted]
