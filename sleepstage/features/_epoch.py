"""The composite per-epoch feature extractor that the pipelines use."""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._internal.validation import check_option, check_positive
from ._base import DEFAULT_SFREQ
from ._engine import (
    DEFAULT_NOTCH_FREQS,
    DEFAULT_NOTCH_WIDTH,
    EpochBatch,
    Workspace,
    check_batch_finite,
    check_features_finite,
    run_batches,
)
from ._family import FeatureFamily
from ._registry import FAMILIES, FamilySpec

__all__ = ["FAMILY_NAMES", "EpochFeatures"]

#: The families ``EpochFeatures`` computes by default, in output order (any registered
#: family, see :data:`~sleepstage.features.FAMILIES`, may be asked for by name).
FAMILY_NAMES: tuple[str, ...] = ("spectral", "emg", "hjorth", "time")

# Parameters of EpochFeatures itself, never handed to a family.
_OWN_PARAMETERS = frozenset({"include", "families", "batch_size", "n_jobs"})


class EpochFeatures(FeatureFamily):
    """All per-epoch features: spectral, EMG, Hjorth and time-domain, computed in one pass.

    The output is exactly ``np.hstack`` of the registered families it computes (by default
    :class:`SpectralFeatures`, :class:`EMGFeatures`, :class:`HjorthFeatures` and
    :class:`TimeFeatures`, in the order of ``include`` or ``families``) configured alike,
    but every intermediate is computed once per batch: one
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

        These flat parameters (each tunable on its own, e.g.
        ``GridSearchCV(..., {"features__window": [2, 4]})``) go to every computed family
        that has a parameter of that name, so one ``window`` sets the one PSD that the
        spectral and EMG families share.
    include : sequence of str, default ("spectral", "emg", "hjorth", "time")
        Families to compute, in output order: names of registered families
        (:data:`~sleepstage.features.FAMILIES`).
    families : dict or None, default None
        ``{name: {parameter: value}}``: the families to compute, in the order of the dict,
        each with parameters of its own, e.g. ``{"spectral": {"bands": "human"},
        "emg": {}}``. A family's parameters not given there take the flat parameter of the
        same name, else the family's default; families registered outside this package
        take their parameters only from here. Given, it replaces ``include``, which must
        then stay at its default. A grid search tunes it as a whole (a list of dicts).
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

    Each family with settings of its own (here human bands for the spectral family only):

    >>> feats = EpochFeatures(families={"spectral": {"bands": "human"}, "hjorth": {}}).fit(X)
    >>> [name for name, _ in feats.transformers_], list(feats.bands_)[:3]
    (['spectral', 'hjorth'], ['delta', 'theta', 'alpha'])
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
        families=None,
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
        self.families = families
        self.batch_size = batch_size
        self.n_jobs = n_jobs

    # -- fit --------------------------------------------------------------------------------
    def _requested_families(self) -> list[tuple[FamilySpec, dict]]:
        """(registry entry, parameter overrides) of every family to compute, in order."""
        known = tuple(FAMILIES)
        if self.families is None:
            include = [self.include] if isinstance(self.include, str) else list(self.include)
            requested = [(name, {}) for name in include]
            source = "include"
        else:
            if not isinstance(self.families, Mapping):
                raise TypeError(
                    "The 'families' parameter must be a dict {family: {parameter: value}} or "
                    f"None, but got {self.families!r}."
                )
            requested = list(self.families.items())
            source = "families"
            include = [self.include] if isinstance(self.include, str) else list(self.include)
            if include not in (list(FAMILY_NAMES), [name for name, _ in requested]):
                raise ValueError(
                    "Give the families either in 'include' or as the keys of 'families', "
                    f"not both: include={self.include!r}, families={self.families!r}."
                )
        if not requested:
            raise ValueError(f"The {source!r} parameter is empty; choose from {known}.")
        names = [name for name, _ in requested]
        for name in names:
            check_option(source, name, known)
        if len(set(names)) != len(names):
            raise ValueError(f"The {source!r} parameter has duplicates: {names}.")
        resolved = []
        for name, overrides in requested:
            if overrides is None:
                overrides = {}
            if not isinstance(overrides, Mapping):
                raise TypeError(
                    f"The parameters of the feature family {name!r} in 'families' must be a "
                    f"dict, but got {overrides!r}."
                )
            resolved.append((FAMILIES[name], dict(overrides)))
        return resolved

    def _make_family(self, spec: FamilySpec, overrides: dict) -> FeatureFamily:
        """The family of ``spec`` with the fitted layout, the flat and its own parameters."""
        unknown = sorted(set(overrides) - set(spec.parameters))
        if unknown:
            raise ValueError(
                f"Invalid parameter(s) {unknown} for the feature family {spec.name!r} in "
                f"'families'. Allowed parameters are {list(spec.parameters)} (the layout "
                "sfreq, ch_names, ch_types and epoch_length is set on EpochFeatures)."
            )
        flat = self.get_params(deep=False)
        params = {p: flat[p] for p in spec.parameters
                  if p in flat and p not in _OWN_PARAMETERS}
        params.update(overrides)
        return spec.cls(sfreq=self.sfreq_, ch_names=self.ch_names_, ch_types=self.ch_types_,
                        **params)

    def _check_params(self, n_samples: int) -> None:
        requested = self._requested_families()
        batch_size = check_positive("batch_size", self.batch_size)
        if batch_size != int(batch_size):
            raise ValueError(
                f"The 'batch_size' parameter must be a positive integer, got {self.batch_size!r}."
            )
        self._batch_size = int(batch_size)
        if self.n_jobs is not None and (not isinstance(self.n_jobs, numbers.Integral)
                                        or isinstance(self.n_jobs, bool) or self.n_jobs == 0):
            raise ValueError(f"The 'n_jobs' parameter must be None or a non-zero integer "
                             f"(-1: every core), got {self.n_jobs!r}.")
        # The layout is already validated; families only need it and the epoch length.
        template = np.zeros((1, len(self.ch_names_), n_samples), dtype=np.float32)
        self.transformers_ = [
            (spec.name, self._make_family(spec, overrides).fit(template))
            for spec, overrides in requested
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
