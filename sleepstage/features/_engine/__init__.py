"""The engine under the feature families: batches of epochs, their PSD and scratch memory.

Layers, each importing only those before it: :mod:`._workspace` (scratch buffers reused
between batches), :mod:`._numeric` (floors, logs, quantiles of sorted rows),
:mod:`._psd` (batched Welch / multitaper PSD) and :mod:`._batch` (one batch of epochs and
the intermediates the families share, :func:`run_batches` to drive batches on threads).

Why hand-written
----------------
The straightforward equivalent, which the engine must match, loops over epochs and
channels with the textbook functions: ``scipy.signal.welch`` / ``periodogram``,
``np.percentile``, ``scipy.stats.skew`` / ``kurtosis`` and ``np.var`` of ``np.diff``
(``tests/test_features_reference.py`` holds it and compares every column to ``rtol=1e-5``;
``tests/test_features_numerics.py`` pins the edge cases). It takes 6.1 ms per reference
epoch (3 channels x 512 samples at 128 Hz; measured on 400 epochs), about 400 s for the
64 800 epochs of the features benchmark, which
:class:`~sleepstage.features.EpochFeatures` computes in 1.31 s on one thread and 0.76 s on
two (``benchmarks/bench_features.py``, ``docs/benchmarks.md``, "Feature extraction
speed"): ~300x on one thread, and 8.3x the time of one ``scipy.fft.rfft`` of the same
array. The gains of the individual devices (chunking, shared scratch buffers, one sort for
several channels, ``einsum`` reductions) are stated where they are made.

Nothing here is public API; the families in :mod:`sleepstage.features` import it.
"""

from ._batch import STATISTICS, EpochBatch, check_batch_finite, check_features_finite, run_batches
from ._numeric import (
    AMPLITUDE_FLOOR,
    POWER_FLOOR,
    abs_linear_quantiles,
    linear_quantiles,
    safe_log,
)
from ._psd import (
    DEFAULT_NOTCH_FREQS,
    DEFAULT_NOTCH_WIDTH,
    PSD_METHODS,
    PSDPlan,
    band_mask,
    compute_psd,
    contiguous_runs,
    make_psd_plan,
    notch_mask,
)
from ._workspace import Workspace

__all__ = [
    "AMPLITUDE_FLOOR",
    "DEFAULT_NOTCH_FREQS",
    "DEFAULT_NOTCH_WIDTH",
    "POWER_FLOOR",
    "PSD_METHODS",
    "STATISTICS",
    "EpochBatch",
    "PSDPlan",
    "Workspace",
    "abs_linear_quantiles",
    "band_mask",
    "check_batch_finite",
    "check_features_finite",
    "compute_psd",
    "contiguous_runs",
    "linear_quantiles",
    "make_psd_plan",
    "notch_mask",
    "run_batches",
    "safe_log",
]
