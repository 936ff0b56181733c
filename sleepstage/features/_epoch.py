"""The composite per-epoch feature extractor that the pipelines use."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._internal.validation import check_option, check_positive
from ._base import DEFAULT_SFREQ
from ._batch import EpochBatch, Workspace, run_batches
from ._emg import EMGFeatures
from ._family import FeatureFamily, check_batch_finite, check_features_finite
from ._hjorth import HjorthFeatures
from ._psd import DEFAULT_NOTCH_FREQS, DEFAULT_NOTCH_WIDTH
from ._spectral import SpectralFeatures
from ._timestats import TimeFeatures

__all__ = ["FAMILY_NAMES", "EpochFeatures"]

#: Names accepted by ``EpochFeatures(include=...)``, in the default order.
FAMILY_NAMES: tuple[str, ...] = ("spectral", "emg", "hjorth", "time")


class EpochFeatures(FeatureFamily):
    """All per-epoch features: spectral, EMG, Hjorth and time-domain, computed in one pass.

    The output is exactly ``np.hstack`` of :class:`SpectralFeatures`,
    :class:`EMGFeatures`, :class:`HjorthFeatures` and :class:`TimeFeatures` (in the order of
    ``include``) configured alike, but every intermediate is computed once per batch: one
    PSD per channel serves both the spectral bands and the EMG high band, one pass over the
    centred signal serves the moments and zero crossings, one over the first difference
    serves Hjorth and the line length, one sort serves the inter-quartile ranges and the EMG
    percentiles. Epochs are processed in batches of at most ``batch_size`` into a
    preallocated float32 output, so memory stays proportional to ``batch_size`` (about 3
    float32 copies of a batch per worker, ~18 MB at the default on the reference layout),
    not to the recording. Scratch arrays are reused from batch to batch, and ``n_jobs``
    threads work on batches in parallel. All arithmetic on samples is float32; per-epoch
    statistics are finished in float64.

    Parameters
    ----------
    sfreq : float, default 128
        Sampling frequency in Hz.
    ch_names, ch_types : sequence of str or None
        Channel layout; None means the reference ``("eeg1", "eeg2", "emg")`` /
        ``("eeg", "eeg", "emg")``; names given without types are typed by name ("emg"/"eog"
        in the name, else "eeg").
    epoch_length : float, optional
        Declared epoch length in seconds. When given, :meth:`fit` checks that each epoch of
        ``X`` holds ``epoch_length * sfreq`` samples per channel, so that data of another
        epoch length (30-s human epochs in a pipeline built for 4-s rodent epochs) is refused
        instead of being described with the wrong time scale.
    bands, method, window, overlap, bandwidth, ratios, edge, fmin, fmax, spectral_types
        Spectral settings, see :class:`SpectralFeatures` (``method``, ``window``,
        ``overlap``, ``bandwidth`` also set the PSD behind the EMG high band).
    notch_freqs, notch_width
        Mains notches left out of the spectral features and of the EMG high band (50 and
        60 Hz +-2 Hz by default; None keeps every bin), see :class:`SpectralFeatures`.
    high_band, percentiles
        EMG settings, see :class:`EMGFeatures`.
    include : sequence of str, default ("spectral", "emg", "hjorth", "time")
        Families to compute, in output order.
    batch_size : int, default 1024
        Largest number of epochs per batch; the epochs are split into batches of equal
        size, so that threads finish together. At 1024 reference epochs (6 MB per float32
        copy) even the FFT output, which cannot be preallocated, is recycled by the
        allocator instead of being mapped afresh (page faults) for every batch; 4096
        measured no faster and needs 4x the memory (see ``benchmarks/bench_features.py``).
    n_jobs : int or None, default None
        Threads working on batches in parallel (None: 1 unless inside a
        ``joblib.parallel_config`` context; -1: all cores). With one batch, the FFT uses
        them instead. Output does not depend on it. The batches run on threads of this
        process under any joblib backend (loky, Dask, ...), so -1 means the cores of this
        machine, not the workers of a cluster.

    Attributes
    ----------
    transformers_ : list of (str, FeatureFamily)
        The fitted families, in output order.
    bands_ : dict
        Resolved spectral bands (empty without the spectral family).
    feature_names_out_ : numpy.ndarray of str
        ``<channel>_<feature>`` for every column.
    feature_families_ : numpy.ndarray of str
        ``"band_power"``, ``"spectral_shape"``, ``"emg"``, ``"hjorth"`` or ``"time"`` for
        every column.
    feature_channels_ : numpy.ndarray of str
        Channel of every column.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((8, 1536)).astype(np.float32)
    >>> feats = EpochFeatures().fit(X)
    >>> out = feats.transform(X)
    >>> out.shape[1] == len(feats.get_feature_names_out())
    True
    >>> sorted(set(feats.feature_families_))
    ['band_power', 'emg', 'hjorth', 'spectral_shape', 'time']
    """

    def __init__(
        self,
        *,
        sfreq=DEFAULT_SFREQ,
        ch_names=None,
        ch_types=None,
        epoch_length=None,
        bands="auto",
        method="welch",
        window=2.0,
        overlap=0.5,
        bandwidth=2.0,
        ratios="auto",
        edge=0.95,
        fmin=0.5,
        fmax=None,
        spectral_types=("eeg", "eog"),
        notch_freqs=DEFAULT_NOTCH_FREQS,
        notch_width=DEFAULT_NOTCH_WIDTH,
        high_band=(20.0, 60.0),
        percentiles=(10, 50, 90),
        include=FAMILY_NAMES,
        batch_size=1024,
        n_jobs=None,
    ):
        self.sfreq = sfreq
        self.ch_names = ch_names
        self.ch_types = ch_types
        self.epoch_length = epoch_length
        self.bands = bands
        self.method = method
        self.window = window
        self.overlap = overlap
        self.bandwidth = bandwidth
        self.ratios = ratios
        self.edge = edge
        self.fmin = fmin
        self.fmax = fmax
        self.spectral_types = spectral_types
        self.notch_freqs = notch_freqs
        self.notch_width = notch_width
        self.high_band = high_band
        self.percentiles = percentiles
        self.include = include
        self.batch_size = batch_size
        self.n_jobs = n_jobs

    # -- fit --------------------------------------------------------------------------------
    def _make_family(self, name: str) -> FeatureFamily:
        layout = {"sfreq": self.sfreq_, "ch_names": self.ch_names_, "ch_types": self.ch_types_}
        psd = {"method": self.method, "window": self.window, "overlap": self.overlap,
               "bandwidth": self.bandwidth, "notch_freqs": self.notch_freqs,
               "notch_width": self.notch_width}
        if name == "spectral":
            return SpectralFeatures(
                **layout, **psd, bands=self.bands, ratios=self.ratios, edge=self.edge,
                fmin=self.fmin, fmax=self.fmax, spectral_types=self.spectral_types,
            )
        if name == "emg":
            return EMGFeatures(
                **layout, **psd, high_band=self.high_band, percentiles=self.percentiles
            )
        if name == "hjorth":
            return HjorthFeatures(**layout)
        return TimeFeatures(**layout)

    def _check_params(self, n_samples: int) -> None:
        include = [self.include] if isinstance(self.include, str) else list(self.include)
        if not include:
            raise ValueError(f"The 'include' parameter is empty; choose from {FAMILY_NAMES}.")
        for name in include:
            check_option("include", name, FAMILY_NAMES)
        if len(set(include)) != len(include):
            raise ValueError(f"The 'include' parameter has duplicates: {include}.")
        batch_size = check_positive("batch_size", self.batch_size)
        if batch_size != int(batch_size):
            raise ValueError(
                f"The 'batch_size' parameter must be a positive integer, got {self.batch_size!r}."
            )
        self._batch_size = int(batch_size)
        # The layout is already validated; families only need it and the epoch length.
        template = np.zeros((1, len(self.ch_names_), n_samples), dtype=np.float32)
        self.transformers_ = [
            (name, self._make_family(name).fit(template)) for name in include
        ]
        spectral = dict(self.transformers_).get("spectral")
        self.bands_ = dict(spectral.bands_) if spectral is not None else {}

    def _feature_table(self, ch_names, ch_types) -> list[tuple[str, str]]:
        table = []
        for _, family in self.transformers_:
            table += family._feature_table(ch_names, ch_types)
        if not table:
            raise ValueError(
                f"No feature to compute: the families {[n for n, _ in self.transformers_]} "
                f"have no matching channel among types {list(ch_types)}."
            )
        return table

    # -- transform --------------------------------------------------------------------------
    def _compute(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "transformers_")
        out = np.empty((X.shape[0], self.feature_names_out_.size), dtype=np.float32)
        bounds = np.cumsum([0] + [f.feature_names_out_.size for _, f in self.transformers_])

        def work(start: int, stop: int, fft_workers: int, workspace: Workspace) -> None:
            batch = EpochBatch(X[start:stop], fft_workers=fft_workers, workspace=workspace)
            for _, family in self.transformers_:
                family._prefetch(batch)
            check_batch_finite(batch, X)  # after the declarations: see check_batch_finite
            for (_, family), lo, hi in zip(self.transformers_, bounds[:-1], bounds[1:],
                                           strict=True):
                family._fill(batch, out[start:stop, lo:hi])

        run_batches(X.shape[0], self._batch_size, work, n_jobs=self.n_jobs)
        return check_features_finite(out, X, self.feature_names_out_)
