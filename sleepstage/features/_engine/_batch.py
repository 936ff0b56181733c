"""One batch of epochs and the intermediate arrays the feature families share.

An :class:`EpochBatch` computes each intermediate (moments, statistics of the first and
second differences, sorted samples, PSD, ...) the first time a family asks for it and keeps
it for the others, so :class:`~sleepstage.features.EpochFeatures` never computes the same
thing twice; what the families declare beforehand (``prefetch_*``) is computed together.
Large intermediates are written into a :class:`Workspace` whose buffers are reused from one
batch to the next: allocating fresh multi-megabyte arrays for every batch costs more in
page faults than the arithmetic itself. Temporaries share a few scratch buffers, and the
passes over samples work through chunks of epochs that stay in cache, so that a batch
touches little memory besides its own samples. :func:`run_batches` drives the batches,
optionally on several threads (one workspace each): NumPy and ``scipy.fft`` release the
GIL in their loops, so threads scale without copying data.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs, parallel_config

from ..._internal.validation import check_finite
from ._numeric import POWER_FLOOR
from ._psd import PSDPlan, compute_psd
from ._workspace import Workspace

__all__ = [
    "STATISTICS",
    "EpochBatch",
    "check_batch_finite",
    "check_features_finite",
    "run_batches",
]


#: Statistics over samples an :class:`EpochBatch` computes in one pass (property names).
STATISTICS: tuple[str, ...] = (
    "variance", "standardised_moments", "zero_crossings", "diff_variance", "diff2_variance",
    "abs_diff_sum",
)

# Samples per chunk of the statistics pass (3 MB of float32, ~340 reference epochs); chunks
# of 2-4 MB measured fastest.
_CHUNK_SAMPLES = 3 << 18


class EpochBatch:
    """Shared intermediates of a ``(n_epochs, n_channels, n_samples)`` float32 batch.

    Statistics over samples come back with shape ``(n_epochs, n_channels)`` in float64
    (they are small; float64 keeps the ratios derived from them accurate), while arrays
    over samples stay float32.

    Parameters
    ----------
    x : numpy.ndarray, shape (n_epochs, n_channels, n_samples), float32, C-contiguous
        The epochs.
    fft_workers : int
        Threads for :func:`scipy.fft.rfft`.
    workspace : Workspace or None
        Scratch buffers to write intermediates into; None allocates fresh arrays.
    """

    def __init__(
        self, x: np.ndarray, *, fft_workers: int = 1, workspace: Workspace | None = None
    ) -> None:
        self.x = x
        self.fft_workers = fft_workers
        self.workspace = Workspace() if workspace is None else workspace
        self._psd: list[tuple[PSDPlan, list[int], np.ndarray]] = []
        self._psd_requests: list[tuple[PSDPlan, Sequence[int]]] = []
        self._sorted: dict[int, np.ndarray] = {}
        self._sort_requests: set[int] = set()
        self._stats: dict[str, np.ndarray | tuple[np.ndarray, np.ndarray]] = {}
        self._stat_requests: set[str] = set()
        self._mean: np.ndarray | None = None

    @property
    def n_samples(self) -> int:
        """Samples per epoch and channel."""
        return self.x.shape[-1]

    def _scratch(self, name: str, last: int | None = None, dtype=np.float32) -> np.ndarray:
        n, c, t = self.x.shape
        return self.workspace.array(name, (n, c, t if last is None else last), dtype)

    # Intermediates are cached by hand: functools.cached_property holds one lock per
    # property, shared by all instances, before Python 3.12, which would serialise the
    # threads of run_batches.
    @property
    def mean(self) -> np.ndarray:
        """Mean of every epoch and channel, shape (n, c), float32.

        With statistics over samples declared, it comes from their pass, which then reads
        each chunk of samples from memory once for both.
        """
        if self._mean is None:
            pending = self._stat_requests - self._stats.keys()
            if pending:
                self._compute_statistics(pending)
            else:
                self._mean = _mean(self.x)
        return self._mean

    # -- statistics over samples ------------------------------------------------------------
    # They come from one pass over the batch (_compute_statistics), chunk by chunk, computing
    # every statistic declared by prefetch_statistics at once.
    @property
    def variance(self) -> np.ndarray:
        """Variance (biased) of every epoch and channel, float64."""
        return self._statistic("variance")

    @property
    def standardised_moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Skewness ``m3 / m2**1.5`` and excess kurtosis ``m4 / m2**2 - 3``, float64.

        ``m3`` and ``m4`` are float32 sums of ``c**2 * c`` and ``c**2 * c**2`` (``c`` the
        centred signal), from one array of squares. Since ``sum(c**4) <= (n * m2)**2``, the
        fourth powers neither overflow nor fall into subnormals while ``m2`` lies in
        ``[1e-15, 1e18 / n]`` units² (volts, microvolts and ADC counts all do); rows outside
        that range are recomputed on the standardised signal ``c / sqrt(m2)``. 0 for a flat
        channel (variance <= 1e-30).
        """
        return self._statistic("standardised_moments")

    @property
    def zero_crossings(self) -> np.ndarray:
        """Sign changes of the centred signal (zero counts as positive), float64."""
        return self._statistic("zero_crossings")

    @property
    def diff_variance(self) -> np.ndarray:
        """Variance of the first difference along samples, float64."""
        return self._statistic("diff_variance")

    @property
    def diff2_variance(self) -> np.ndarray:
        """Variance of the second difference along samples, float64."""
        return self._statistic("diff2_variance")

    @property
    def abs_diff_sum(self) -> np.ndarray:
        """Sum of ``|diff(x)|`` along samples (line length), float64."""
        return self._statistic("abs_diff_sum")

    @property
    def mean_square(self) -> np.ndarray:
        """Mean of ``x ** 2`` (not centred), float64."""
        mean = self.mean.astype(np.float64)
        return self.variance + mean * mean

    def prefetch_statistics(self, names: Iterable[str]) -> None:
        """Declare statistics over samples (names of the properties above) to compute at once."""
        names = set(names)
        if not names <= set(STATISTICS):
            raise ValueError(
                f"Unknown batch statistics {sorted(names - set(STATISTICS))}; "
                f"known: {STATISTICS}."
            )
        self._stat_requests |= names

    def _statistic(self, name: str):
        if name not in self._stats:
            self._compute_statistics((self._stat_requests | {name}) - self._stats.keys())
        return self._stats[name]

    def _compute_statistics(self, names: set[str]) -> None:
        """Compute the statistics ``names`` (and the mean, if not known yet) in one pass."""
        if "standardised_moments" in names:
            names = names | {"variance"}
        # Overflowing fourth powers are redone in _finish_moments; non-finite samples are
        # reported by check_batch_finite, huge ones by check_features_finite.
        with np.errstate(over="ignore", invalid="ignore"):
            sums = self._sums_over_samples(names)
            self._finish_statistics(names, sums)

    def _sums_over_samples(self, names: set[str]) -> dict[str, np.ndarray]:
        """Float32 sums over samples behind the statistics ``names``, chunk by chunk.

        Within a chunk (~340 reference epochs) the samples, the centred signal, its squares
        and signs and the first and second differences stay in cache from one step to the
        next: ~20 % faster than whole-batch arrays, measured. Every sum is over one row, so
        the values do not depend on the chunking.
        """
        x = self.x
        n, c, t = x.shape
        known_mean = self._mean is not None
        mean = self._mean if known_mean else np.empty((n, c), dtype=np.float32)
        sums = {name: np.empty((n, c), dtype=np.float32) for name in names}
        if "standardised_moments" in names:
            sums["m4"] = np.empty((n, c), dtype=np.float32)
        if "zero_crossings" in names:
            count_dtype = _count_dtype(t - 1)
            sums["zero_crossings"] = np.empty((n, c), dtype=count_dtype)
        scratch = self.workspace.scratch
        step = max(1, _CHUNK_SAMPLES // (c * t))
        for start in range(0, n, step):
            rows = slice(start, start + step)
            chunk = x[rows]
            shape, flat_shape = chunk.shape, (chunk.size,)
            if not known_mean:
                mean[rows] = _mean(chunk)
            if names & {"variance", "zero_crossings"}:
                centred = np.subtract(chunk, mean[rows, :, None], out=scratch(0, shape))
            if "variance" in names:
                sums["variance"][rows] = np.vecdot(centred, centred)
            if "standardised_moments" in names:
                squared = np.multiply(centred, centred, out=scratch(1, shape))
                sums["standardised_moments"][rows] = np.vecdot(squared, centred)
                sums["m4"][rows] = np.vecdot(squared, squared)
            if "zero_crossings" in names:
                negative = np.signbit(centred, out=scratch(1, shape, bool)).reshape(-1)
                changes = _lagged(negative, scratch(2, flat_shape, bool), np.not_equal)
                sums["zero_crossings"][rows] = _rows(changes.view(np.uint8), shape, 1).sum(
                    axis=-1, dtype=count_dtype)
            if names & {"diff_variance", "diff2_variance", "abs_diff_sum"}:
                diff = _lagged(chunk.reshape(-1), scratch(0, flat_shape))
            if "diff_variance" in names:
                d = _rows(diff, shape, 1)
                sums["diff_variance"][rows] = np.vecdot(d, d)
            if "diff2_variance" in names:
                d2 = _rows(_lagged(diff, scratch(1, flat_shape)), shape, 2)
                sums["diff2_variance"][rows] = np.vecdot(d2, d2)
            if "abs_diff_sum" in names:
                magnitude = np.abs(diff, out=scratch(1, flat_shape))
                sums["abs_diff_sum"][rows] = np.einsum("nct->nc", _rows(magnitude, shape, 1))
        self._mean = mean
        return sums

    def _finish_statistics(self, names: set[str], sums: dict[str, np.ndarray]) -> None:
        """The statistics ``names`` in float64 from their float32 sums."""
        x, t, stats = self.x, self.n_samples, self._stats
        if "variance" in names:
            stats["variance"] = sums["variance"].astype(np.float64) / t
        if "standardised_moments" in names:
            stats["standardised_moments"] = self._finish_moments(
                sums["standardised_moments"], sums["m4"])
        if "zero_crossings" in names:
            stats["zero_crossings"] = sums["zero_crossings"].astype(np.float64)
        # Means of the differences are telescoping sums of x, in float32 like the differences.
        if "diff_variance" in names:
            total = x[..., -1] - x[..., 0]
            stats["diff_variance"] = _variance_from_sums(sums["diff_variance"], total, t - 1)
        if "diff2_variance" in names:
            total = (x[..., -1] - x[..., -2]) - (x[..., 1] - x[..., 0])
            stats["diff2_variance"] = _variance_from_sums(sums["diff2_variance"], total, t - 2)
        if "abs_diff_sum" in names:
            stats["abs_diff_sum"] = sums["abs_diff_sum"].astype(np.float64)

    def _finish_moments(self, sum3: np.ndarray, sum4: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Skewness and kurtosis from the float32 sums of ``c**3`` and ``c**4``."""
        variance = self._stats["variance"]
        t = self.n_samples
        varies = variance > POWER_FLOOR
        m2 = np.where(varies, variance, 1.0)
        skewness = np.where(varies, sum3.astype(np.float64) / t / m2**1.5, 0.0)
        kurtosis = np.where(varies, sum4.astype(np.float64) / t / (m2 * m2) - 3.0, 0.0)
        rescale = varies & ((variance < 1e-15) | (variance > 1e18 / t))
        if rescale.any():
            centred = self.x[rescale] - self.mean[rescale][:, None]
            z = centred / np.sqrt(variance[rescale]).astype(np.float32)[:, None]
            z2 = z * z
            skewness[rescale] = np.vecdot(z2, z).astype(np.float64) / t
            kurtosis[rescale] = np.vecdot(z2, z2).astype(np.float64) / t - 3.0
        return skewness, kurtosis

    # -- order statistics -------------------------------------------------------------------
    def sorted(self, channel: int) -> np.ndarray:
        """Samples of one channel in ascending order, shape (n, t), float32.

        The channels declared by :meth:`prefetch_sorted` are sorted together with it when
        they are consecutive: one copy and one sort call over a contiguous block (~10 %
        faster than channel by channel, measured on the reference layout).
        """
        if channel not in self._sorted:
            pending = sorted((self._sort_requests | {channel}) - self._sorted.keys())
            if pending != list(range(pending[0], pending[-1] + 1)):
                pending = [channel]
            lo, hi = pending[0], pending[-1] + 1
            rows = self._scratch("sorted")[:, lo:hi]
            np.copyto(rows, self.x[:, lo:hi])
            rows.sort(axis=-1)
            for i, ch in enumerate(pending):
                self._sorted[ch] = rows[:, i]
        return self._sorted[channel]

    def prefetch_sorted(self, channels: Sequence[int]) -> None:
        """Declare channels whose sorted samples will be asked for, to sort them at once."""
        self._sort_requests.update(channels)

    # -- spectra ----------------------------------------------------------------------------
    def psd(self, plan: PSDPlan, channels: Sequence[int]) -> np.ndarray:
        """PSD of the given channels, shape (n, len(channels), n_freqs), float32.

        Reuses a block computed earlier with an equal plan when it holds all ``channels``
        (a view when they are consecutive in it); otherwise computes them in one call,
        together with the channels declared for that plan by :meth:`prefetch_psd`.
        """
        channels = list(channels)
        for known, block_channels, block in self._psd:
            if known == plan and set(channels) <= set(block_channels):
                positions = [block_channels.index(ch) for ch in channels]
                return _take(block, positions)
        declared = {ch for known, chs in self._psd_requests if known == plan for ch in chs}
        held = {ch for known, chs, _ in self._psd if known == plan for ch in chs}
        block_channels = sorted(set(channels) | (declared - held))
        block = compute_psd(_take(self.x, block_channels), plan, workers=self.fft_workers,
                            workspace=self.workspace)
        self._psd.append((plan, block_channels, block))
        return _take(block, [block_channels.index(ch) for ch in channels])

    def prefetch_psd(self, plan: PSDPlan, channels: Sequence[int]) -> None:
        """Declare channels whose PSD will be asked for, to compute them all in one call."""
        self._psd_requests.append((plan, list(channels)))


def _take(x: np.ndarray, channels: Sequence[int]) -> np.ndarray:
    """``x[:, channels]``, as a view when the channels are consecutive."""
    channels = list(channels)
    if channels and channels == list(range(channels[0], channels[-1] + 1)):
        return x[:, channels[0] : channels[-1] + 1]
    return x[:, channels]


def _mean(x: np.ndarray) -> np.ndarray:
    """Mean along the last axis in float32 (einsum: 2-3x faster than ufunc reductions over
    short rows, measured)."""
    return np.einsum("nct->nc", x) / np.float32(x.shape[-1])


def _lagged(flat: np.ndarray, out: np.ndarray, op=np.subtract) -> np.ndarray:
    """``op(flat[1:], flat[:-1])`` written into ``out``, of ``flat``'s size (last is 0).

    Differences are taken over a flattened chunk in one contiguous pass: NumPy then runs one
    long SIMD loop instead of one short loop per row (~4x faster). Values that straddle two
    rows are computed too; the strided row views from :func:`_rows` skip them.
    """
    op(flat[1:], flat[:-1], out=out[:-1])
    out[-1] = 0
    return out


def _rows(flat: np.ndarray, shape: tuple[int, int, int], lag: int) -> np.ndarray:
    """View of a flat ``(n, c, t)`` array as (n, c, t - lag), skipping row-straddling values."""
    return flat.reshape(shape)[..., : shape[-1] - lag]


def _count_dtype(largest: int) -> np.dtype:
    """Unsigned integer dtype, at least 16 bits, that holds counts up to ``largest``.

    Sign changes of an epoch are counted by summing a byte per pair of samples: uint16
    sums are ~3x faster than uint32 sums on reference chunks (measured; ~2 % of
    EpochFeatures' time, within run-to-run noise), but a row of more than 65 536 samples
    (e.g. 70-s epochs at 1 kHz) needs 32 bits, or its count wraps around.
    """
    return np.promote_types(np.min_scalar_type(largest), np.uint16)


def _variance_from_sums(sum_sq: np.ndarray, total: np.ndarray, n: int) -> np.ndarray:
    """Variance of ``n`` values from the sum of their squares and their sum, float64."""
    mean = total.astype(np.float64) / n
    mean_square = sum_sq.astype(np.float64) / n
    return np.maximum(mean_square - mean * mean, 0.0)


def run_batches(
    n_epochs: int,
    batch_size: int,
    func: Callable[[int, int, int, Workspace], None],
    *,
    n_jobs: int | None = None,
) -> None:
    """Call ``func(start, stop, fft_workers, workspace)`` for consecutive batches of epochs.

    The batches hold at most ``batch_size`` epochs and as equal numbers as possible, so
    that threads finish together. With more than one job the batches run on threads
    (``func`` must write disjoint output rows), each thread with its own :class:`Workspace`
    and a single FFT thread. With one batch, the FFT itself uses ``n_jobs`` threads.

    The batches always run on threads of this process, whatever joblib backend is active:
    ``func`` writes into arrays of the caller, which a process or a Dask worker would fill
    in a copy (or fail to receive at all: the closures do not pickle). ``n_jobs`` is
    resolved as joblib's threading backend resolves it (None: the ``n_jobs`` of an
    enclosing ``joblib.parallel_config``, else 1; -1: all cores of this machine), never
    as the number of workers of a Dask cluster.
    """
    n_batches = max(1, -(-n_epochs // batch_size))
    batch_size = -(-n_epochs // n_batches)
    starts = range(0, n_epochs, batch_size)
    # A local threading context, not a prefer="threads" hint: an explicit backend such as
    # parallel_config(backend="loky") or "dask" overrides the hint (PicklingError).
    with parallel_config(backend="threading"):
        jobs = effective_n_jobs(n_jobs)
        if len(starts) == 1 or jobs == 1:
            fft_workers = jobs if len(starts) == 1 else 1
            workspace = Workspace()
            for start in starts:
                func(start, min(start + batch_size, n_epochs), fft_workers, workspace)
            return
        local = threading.local()

        def task(start: int) -> None:
            if not hasattr(local, "workspace"):
                local.workspace = Workspace()
            func(start, min(start + batch_size, n_epochs), 1, local.workspace)

        Parallel(n_jobs=jobs)(delayed(task)(start) for start in starts)


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
