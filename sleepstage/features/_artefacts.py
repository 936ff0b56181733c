"""Artefact detection in raw epochs: clipping, flat lines and extreme amplitude.

A scoring tool must not silently stage garbage. :func:`detect_artefacts` (and the
:class:`ArtefactDetector` transformer behind it) flag, for every epoch and channel, three
kinds of technical artefact, each judged **relative to the recording** the epoch belongs to
(``groups``), so that electrode gains, amplifier ranges and units never need calibrating:

``clipping``
    Saturation of the amplifier or the converter: a run of at least ``clip_duration``
    seconds of samples within ``clip_tolerance`` (a fraction of the recording's range) of
    the recording's own maximum or minimum on that channel. A clean signal reaches its
    extreme value at one instant; a saturated one stays there.
``flat``
    A disconnected or dead electrode: a stretch of ``flat_duration`` seconds whose standard
    deviation is below ``flat_ratio`` times its typical value for that channel in the
    recording (the median over epochs of the smallest standard deviation of such a stretch
    in the epoch), or whose samples are all identical. Comparing like with like keeps slow
    signals such as a rectified EMG envelope (Sleep-EDF's 1-Hz ``EMG submental``) from
    looking flat next to their own 30-s variation.
``amplitude``
    Movement and electrical artefacts: an epoch whose peak absolute deviation from its own
    mean exceeds ``amplitude_factor`` times the ``amplitude_percentile``-th percentile of
    the epoch peaks of that channel in the recording. Only channels of the types in
    ``amplitude_types`` (EEG and EOG by default) are tested: EMG amplitude is the muscle
    tone itself, which legitimately varies about tenfold between REM atonia and active
    wake (its epoch peaks span a factor of ~80 within a clean synthetic day, and the wake
    share of a recording moves any percentile of them), so a large EMG is evidence of
    waking, not of an artefact. EMG channels are still checked for clipping and flat lines.

The defaults are deliberately generous: the amplitude reference is the upper quartile of
the epoch peaks rather than their median, and the factor is 8, while clean EEG and EOG
epochs stay below 3.5 times that reference in the synthetic recordings and in Sleep-EDF
SC4001. The false-positive rate on clean synthetic recordings is measured by
``benchmarks/bench_artefacts.py`` (results in ``docs/benchmarks.md``).

How the package uses the flags
------------------------------
- Training: :func:`sleepstage.pipelines.fit_with_groups` drops flagged epochs from the
  training set by default (``exclude_artefacts=True``), so the classifier does not learn
  from garbage. They stay in their recordings for the per-recording scaling and the
  temporal context, and the HMM and sequence models see each recording cut where they are
  left out, so no transition is counted between epochs that were not consecutive.
- Prediction: flagged epochs are still staged, but the ``sleepstage predict`` output marks
  them (``artefact``, ``artefact_reasons``) and multiplies their ``confidence`` by
  :data:`ARTEFACT_CONFIDENCE_FACTOR`; see :func:`flag_confidence`.

Caveats: the statistics are per recording, so a recording of a few epochs gets unreliable
references, and a recording that is mostly artefact defines "normal" by its artefacts.
Resampling with an anti-aliasing filter rings at the edges of clipped plateaus and may push
the recording's extreme above the plateau; detect clipping at the original sampling rate
when you can. Non-finite samples are not flagged but rejected with ``ValueError``, as
everywhere in the package.
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from .._internal.groups import recording_segments
from .._internal.validation import check_option, check_positive
from ..data import CH_TYPES
from ._base import DEFAULT_SFREQ, EpochTransformer

__all__ = [
    "ARTEFACT_CONFIDENCE_FACTOR",
    "ARTEFACT_REASONS",
    "ArtefactDetector",
    "ArtefactStatistics",
    "detect_artefacts",
    "flag_confidence",
]

logger = logging.getLogger(__name__)

#: Kinds of artefact, in the order of the columns of :meth:`ArtefactDetector.detect`.
ARTEFACT_REASONS: tuple[str, ...] = ("clipping", "flat", "amplitude")

#: The confidence of a flagged epoch's stage is multiplied by this factor in the outputs.
ARTEFACT_CONFIDENCE_FACTOR: float = 0.5


@dataclass(frozen=True)
class ArtefactStatistics:
    """What :class:`ArtefactDetector` needs of each epoch, per channel.

    Every field has shape ``(n_epochs, n_channels)``. The flags of a recording depend on its
    samples only through these, so they can be computed a chunk of epochs at a time
    (:meth:`ArtefactDetector.epoch_statistics`), joined (:meth:`concatenate`) and judged
    against the whole recording (:meth:`ArtefactDetector.detect_statistics`).

    Attributes
    ----------
    low, high : numpy.ndarray
        Smallest and largest sample (the recording's rails are their extremes).
    run_low, run_high : numpy.ndarray
        The lowest level the epoch stays at or below, and the highest it stays at or above,
        for ``clip_samples_`` consecutive samples (min over windows of the window's maximum,
        max over windows of the window's minimum).
    window_std : numpy.ndarray
        Smallest standard deviation of a ``flat_samples_`` window (0 where a run of that
        many identical samples occurs).
    peak : numpy.ndarray
        Largest absolute deviation from the epoch's mean.
    """

    low: np.ndarray
    high: np.ndarray
    run_low: np.ndarray
    run_high: np.ndarray
    window_std: np.ndarray
    peak: np.ndarray

    @property
    def n_epochs(self) -> int:
        """Number of epochs."""
        return int(self.window_std.shape[0])

    @classmethod
    def concatenate(cls, parts: Sequence[ArtefactStatistics]) -> ArtefactStatistics:
        """The statistics of consecutive chunks of epochs, joined in order."""
        parts = list(parts)
        if not parts:
            raise ValueError("concatenate needs at least one ArtefactStatistics.")
        return cls(**{f.name: np.concatenate([getattr(p, f.name) for p in parts])
                      for f in fields(cls)})


class ArtefactDetector(EpochTransformer):
    """Flag raw epochs with clipping, flat lines or extreme amplitude, per recording.

    The module :mod:`sleepstage.features._artefacts` describes the three criteria.
    Statistics come from the recording being examined (``groups``: one recording id per
    epoch, contiguous and in time order; without ``groups`` all epochs are one recording),
    at fit time as at transform time: nothing about the values is learned in :meth:`fit`.

    Parameters
    ----------
    sfreq : float, default 128
        Sampling frequency in Hz (converts the durations below into samples).
    ch_names, ch_types : sequence of str or None
        Channel layout of ``X``; None means the reference ``("eeg1", "eeg2", "emg")`` /
        ``("eeg", "eeg", "emg")``.
    epoch_length : float, optional
        Declared epoch length in seconds, checked against ``X`` at fit (see
        :class:`~sleepstage.features.EpochTransformer`).
    clip_tolerance : float, default 1e-3
        Samples within this fraction of the recording's range (max - min of the channel)
        from its maximum or minimum count as "at the rail".
    clip_duration : float, default 0.05
        Minimum duration in seconds of a run at the rail (at least 2 samples, at most the
        epoch). Smooth waves stay within 0.1 % of their peak for much less: 0.04 s at 0.5 Hz.
    flat_duration : float, default 1.0
        Length in seconds of the sliding window whose standard deviation is tested (at
        least 2 samples, at most the epoch).
    flat_ratio : float, default 0.01
        A window is flat when its standard deviation is below this fraction of the typical
        smallest-window standard deviation of the channel in the recording (or when all its
        samples are identical).
    amplitude_factor : float, default 8.0
        An epoch is extreme when its peak absolute deviation from its mean exceeds this
        many times the reference peak of the channel in the recording.
    amplitude_percentile : float, default 75.0
        Percentile (0-100] of the epoch peaks used as that reference. The upper quartile
        tolerates the spread of EEG amplitude across stages (NREM slow waves are 2-3 times
        larger than wake EEG) and up to 25 % of artefact epochs.
    amplitude_types : sequence of {"eeg", "emg", "eog"}, default ("eeg", "eog")
        Channel types tested for extreme amplitude (see the module notes on EMG).
    batch_size : int, default 2048
        Epochs processed at a time (memory: about ten float64 copies of a batch).

    Attributes
    ----------
    clip_samples_, flat_samples_ : int
        ``clip_duration`` and ``flat_duration`` resolved in samples.
    sfreq_, ch_names_, ch_types_, n_samples_, n_features_in_
        The validated layout (see :class:`~sleepstage.features.EpochTransformer`).

    Notes
    -----
    :meth:`transform` returns one float32 row per epoch: ``artefact_clipping``,
    ``artefact_flat``, ``artefact_amplitude`` (1.0 when any channel shows it) and
    ``artefact`` (any of them); :meth:`detect` returns the same as a DataFrame of booleans
    with the affected channels spelled out.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 3, 512)).astype(np.float32)
    >>> X[10, 2, 100:300] = 0.0                        # a flat EMG stretch
    >>> X[20, 0, 50:90] = X[:, 0].max()                # EEG stuck at its maximum
    >>> X[30, 1, 200:260] += 40.0                      # a large step
    >>> flags = ArtefactDetector().fit(X).detect(X)
    >>> flags.index[flags.artefact].tolist()
    [10, 20, 30]
    >>> flags.loc[[10, 20, 30], "reasons"].tolist()
    ['emg:flat', 'eeg1:clipping', 'eeg2:amplitude']
    """

    # recording ids are requested by default, so users need not call set_*_request
    __metadata_request__fit: ClassVar[dict[str, bool]] = {"groups": True}
    __metadata_request__transform: ClassVar[dict[str, bool]] = {"groups": True}

    def __init__(self, *, sfreq=DEFAULT_SFREQ, ch_names=None, ch_types=None, epoch_length=None,
                 clip_tolerance=1e-3, clip_duration=0.05, flat_duration=1.0, flat_ratio=0.01,
                 amplitude_factor=8.0, amplitude_percentile=75.0, amplitude_types=("eeg", "eog"),
                 batch_size=2048):
        self.sfreq = sfreq
        self.ch_names = ch_names
        self.ch_types = ch_types
        self.epoch_length = epoch_length
        self.clip_tolerance = clip_tolerance
        self.clip_duration = clip_duration
        self.flat_duration = flat_duration
        self.flat_ratio = flat_ratio
        self.amplitude_factor = amplitude_factor
        self.amplitude_percentile = amplitude_percentile
        self.amplitude_types = amplitude_types
        self.batch_size = batch_size

    # -- validation ---------------------------------------------------------------------------
    def _check_params(self, n_samples: int) -> None:
        sfreq = check_positive("sfreq", self.sfreq)
        for name in ("clip_tolerance", "flat_ratio"):
            value = check_positive(name, getattr(self, name), strict=False)
            if value >= 1:
                raise ValueError(f"The {name!r} parameter must lie in [0, 1), but got "
                                 f"{getattr(self, name)!r}.")
        factor = check_positive("amplitude_factor", self.amplitude_factor)
        if factor <= 1:
            raise ValueError("The 'amplitude_factor' parameter must be > 1, but got "
                             f"{self.amplitude_factor!r}.")
        percentile = check_positive("amplitude_percentile", self.amplitude_percentile)
        if percentile > 100:
            raise ValueError("The 'amplitude_percentile' parameter must lie in (0, 100], but "
                             f"got {self.amplitude_percentile!r}.")
        if (not isinstance(self.batch_size, numbers.Integral) or isinstance(self.batch_size, bool)
                or self.batch_size < 1):
            raise ValueError("The 'batch_size' parameter must be a positive integer, but got "
                             f"{self.batch_size!r}.")
        types = ((self.amplitude_types,) if isinstance(self.amplitude_types, str)
                 else tuple(self.amplitude_types))
        for ch_type in types:
            check_option("amplitude_types", ch_type, CH_TYPES)
        self._amplitude_channels = np.isin(np.asarray(self.ch_types_, dtype=object), types)
        clip = check_positive("clip_duration", self.clip_duration)
        flat = check_positive("flat_duration", self.flat_duration)
        self.clip_samples_ = int(min(n_samples, max(2, round(clip * sfreq))))
        self.flat_samples_ = int(min(n_samples, max(2, round(flat * sfreq))))

    def _feature_names(self, ch_names: Sequence[str], ch_types: Sequence[str]) -> list[str]:
        return [f"artefact_{reason}" for reason in ARTEFACT_REASONS] + ["artefact"]

    # -- computation --------------------------------------------------------------------------
    def _statistics(self, X: np.ndarray) -> ArtefactStatistics:
        """The per-epoch statistics of the validated 3-D ``X`` (see :meth:`epoch_statistics`)."""
        n_epochs, n_channels, _ = X.shape
        shape = (n_epochs, n_channels)
        stats = ArtefactStatistics(
            low=np.empty(shape, dtype=X.dtype), high=np.empty(shape, dtype=X.dtype),
            run_low=np.empty(shape, dtype=X.dtype), run_high=np.empty(shape, dtype=X.dtype),
            window_std=np.empty(shape), peak=np.empty(shape))
        for start in range(0, n_epochs, int(self.batch_size)):
            part = slice(start, min(start + int(self.batch_size), n_epochs))
            x = X[part]
            stats.low[part], stats.high[part] = x.min(axis=2), x.max(axis=2)
            stats.run_low[part], stats.run_high[part] = _run_levels(x, self.clip_samples_)
            identical = _has_run(np.diff(x, axis=2) == 0, self.flat_samples_ - 1)
            stats.window_std[part], stats.peak[part] = _window_std_and_peak(x, self.flat_samples_)
            stats.window_std[part][identical] = 0.0
        return stats

    def _flags_from_statistics(self, stats: ArtefactStatistics, groups) -> np.ndarray:
        """Boolean ``(n_epochs, n_channels, 3)``: clipping, flat, amplitude per channel.

        ``groups`` (recording ids, or None for one recording) sets the segments within
        which the rails and the flat and amplitude references are taken.
        """
        n_epochs, n_channels = stats.window_std.shape
        segments = recording_segments(groups, n_epochs)
        lengths = segments.lengths
        lo = np.minimum.reduceat(stats.low, segments.starts, axis=0)
        hi = np.maximum.reduceat(stats.high, segments.starts, axis=0)
        span = hi.astype(np.float64) - lo
        tol = self.clip_tolerance * span
        # an epoch stays at the top rail for clip_samples_ samples exactly when the highest
        # level it stays at or above that long (run_high) reaches the rail
        top = np.repeat(hi - tol, lengths, axis=0).astype(stats.high.dtype)
        bottom = np.repeat(lo + tol, lengths, axis=0).astype(stats.low.dtype)
        valid_range = np.repeat(span > 0, lengths, axis=0)

        flags = np.zeros((n_epochs, n_channels, len(ARTEFACT_REASONS)), dtype=bool)
        flags[:, :, 0] = ((stats.run_high >= top) | (stats.run_low <= bottom)) & valid_range
        window_std, peak = stats.window_std, stats.peak
        for part in segments.slices():
            reference = np.median(window_std[part], axis=0)
            flags[part, :, 1] = (window_std[part] < self.flat_ratio * reference) | (
                window_std[part] == 0.0)
            limit = self.amplitude_factor * np.percentile(peak[part],
                                                          self.amplitude_percentile, axis=0)
            flags[part, :, 2] = (peak[part] > limit) & (limit > 0) & self._amplitude_channels
        return flags

    def _channel_flags(self, X: np.ndarray, groups) -> np.ndarray:
        """Boolean ``(n_epochs, n_channels, 3)`` of the validated 3-D ``X``."""
        return self._flags_from_statistics(self._statistics(X), groups)

    def _summary(self, flags: np.ndarray) -> np.ndarray:
        by_reason = flags.any(axis=1)
        return np.column_stack([by_reason, by_reason.any(axis=1)]).astype(np.float32)

    # -- scikit-learn API ---------------------------------------------------------------------
    def fit(self, X, y=None, groups=None):
        """Validate the layout, the settings and ``groups``; learns nothing from the values.

        Parameters
        ----------
        X : array-like, shape (n_epochs, n_channels * n_samples) or 3-D
            Raw epochs.
        y : ignored
        groups : array-like of shape (n_epochs,), optional
            Recording id of each epoch; None means one recording.

        Returns
        -------
        self
        """
        X3 = self._validate_fit_input(X)
        recording_segments(groups, X3.shape[0])
        return self

    def transform(self, X, groups=None) -> np.ndarray:
        """Flag every epoch.

        Parameters
        ----------
        X : array-like, shape (n_epochs, n_channels * n_samples) or 3-D
        groups : array-like of shape (n_epochs,), optional
            Recording id of each epoch; None means one recording.

        Returns
        -------
        numpy.ndarray of shape (n_epochs, 4), float32
            1.0 where an epoch shows clipping, a flat line, extreme amplitude (on any
            channel), and any of them; 0.0 elsewhere.
        """
        X3 = self._validate_transform_input(X)
        return self._summary(self._channel_flags(X3, groups))

    def fit_transform(self, X, y=None, groups=None) -> np.ndarray:
        """Fit and transform with the same ``groups`` (so a Pipeline passes them to both).

        Parameters
        ----------
        X : array-like, shape (n_epochs, n_channels * n_samples) or 3-D
        y : ignored
        groups : array-like of shape (n_epochs,), optional

        Returns
        -------
        numpy.ndarray of shape (n_epochs, 4), float32
        """
        X3 = self._validate_fit_input(X)
        return self._summary(self._channel_flags(X3, groups))

    def detect(self, X, groups=None) -> pd.DataFrame:
        """Flags of every epoch as a table, with the affected channels.

        Parameters
        ----------
        X : array-like, shape (n_epochs, n_channels * n_samples) or 3-D
        groups : array-like of shape (n_epochs,), optional
            Recording id of each epoch; None means one recording.

        Returns
        -------
        pandas.DataFrame
            One row per epoch: boolean columns ``clipping``, ``flat``, ``amplitude`` (on any
            channel) and ``artefact`` (any of them), and ``reasons``, e.g.
            ``"eeg1:clipping;emg:flat"`` (empty for clean epochs).
        """
        check_is_fitted(self, "feature_names_out_")
        X3 = self._validate_transform_input(X)
        return self._table(self._channel_flags(X3, groups))

    def epoch_statistics(self, X) -> ArtefactStatistics:
        """What the detection needs of each epoch, computable a chunk of epochs at a time.

        The flags of a recording depend on its samples only through these statistics, so a
        recording too long for memory can be read in chunks (e.g. with
        :func:`~sleepstage.data.iter_edf`), the chunks' statistics joined with
        :meth:`ArtefactStatistics.concatenate` and given to :meth:`detect_statistics`:
        the flags equal those of :meth:`detect` on the whole recording.

        Parameters
        ----------
        X : array-like, shape (n_epochs, n_channels * n_samples) or 3-D
            Raw epochs, in the layout the detector was fitted on.

        Returns
        -------
        ArtefactStatistics

        Examples
        --------
        >>> import numpy as np
        >>> X = np.random.default_rng(0).standard_normal((100, 3, 512)).astype(np.float32)
        >>> X[40, 2, :256] = 0.0
        >>> detector = ArtefactDetector().fit(X)
        >>> parts = [detector.epoch_statistics(X[:30]), detector.epoch_statistics(X[30:])]
        >>> table = detector.detect_statistics(ArtefactStatistics.concatenate(parts))
        >>> table.equals(detector.detect(X))
        True
        """
        check_is_fitted(self, "feature_names_out_")
        return self._statistics(self._validate_transform_input(X))

    def detect_statistics(self, statistics: ArtefactStatistics, groups=None) -> pd.DataFrame:
        """The table of :meth:`detect`, from the epochs' :meth:`epoch_statistics`.

        Parameters
        ----------
        statistics : ArtefactStatistics
            Of every epoch of the recordings, in order.
        groups : array-like of shape (n_epochs,), optional
            Recording id of each epoch; None means one recording.

        Returns
        -------
        pandas.DataFrame
            As :meth:`detect`.
        """
        check_is_fitted(self, "feature_names_out_")
        if not isinstance(statistics, ArtefactStatistics):
            raise TypeError("statistics must be the ArtefactStatistics of epoch_statistics, "
                            f"got {type(statistics).__name__}.")
        if statistics.window_std.shape[1] != len(self.ch_names_):
            raise ValueError(f"statistics hold {statistics.window_std.shape[1]} channels; the "
                             f"detector was fitted on {len(self.ch_names_)}.")
        return self._table(self._flags_from_statistics(statistics, groups))

    def _table(self, flags: np.ndarray) -> pd.DataFrame:
        table = pd.DataFrame(flags.any(axis=1), columns=list(ARTEFACT_REASONS))
        table["artefact"] = table.to_numpy().any(axis=1)
        table["reasons"] = _reasons(flags, self.ch_names_)
        n_flagged = int(table["artefact"].sum())
        if n_flagged:
            # an epoch can show several reasons: the breakdown may add up to more
            logger.info("%d of %d epochs flagged as artefacts (by reason, which can overlap: "
                        "%s)", n_flagged, len(table),
                        ", ".join(f"{r} {int(table[r].sum())}" for r in ARTEFACT_REASONS))
        return table

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


def detect_artefacts(
    X,
    groups=None,
    *,
    sfreq: float = DEFAULT_SFREQ,
    ch_names: Sequence[str] | None = None,
    ch_types: Sequence[str] | None = None,
    epoch_length: float | None = None,
    clip_tolerance: float = 1e-3,
    clip_duration: float = 0.05,
    flat_duration: float = 1.0,
    flat_ratio: float = 0.01,
    amplitude_factor: float = 8.0,
    amplitude_percentile: float = 75.0,
    amplitude_types: Sequence[str] = ("eeg", "eog"),
) -> pd.DataFrame:
    """Flag raw epochs with clipping, flat lines or extreme amplitude, per recording.

    Shortcut for ``ArtefactDetector(...).fit(X).detect(X, groups)``; see
    :class:`ArtefactDetector` for the parameters and
    :mod:`sleepstage.features._artefacts` for the criteria.

    Parameters
    ----------
    X : array-like, shape (n_epochs, n_channels * n_samples) or (n_epochs, n_channels, n_samples)
        Raw epochs, e.g. ``EpochData.X``.
    groups : array-like of shape (n_epochs,), optional
        Recording id of each epoch; None means one recording.
    sfreq, ch_names, ch_types, epoch_length
        Channel and epoch layout (``**data.layout()`` of an :class:`~sleepstage.data.EpochData`).
    clip_tolerance, clip_duration, flat_duration, flat_ratio, amplitude_factor, \
amplitude_percentile, amplitude_types
        Detection settings, see :class:`ArtefactDetector`.

    Returns
    -------
    pandas.DataFrame
        Boolean columns ``clipping``, ``flat``, ``amplitude``, ``artefact`` and the string
        column ``reasons`` (``"<channel>:<reason>"`` joined by ``;``), one row per epoch.

    Examples
    --------
    >>> from sleepstage.data import make_synthetic
    >>> data = make_synthetic(n_recordings=1, hours=0.5, random_state=0, artefact_rate=0)
    >>> data.X[7, 2, :256] = 0.0                      # EMG lead off for 2 s
    >>> flags = detect_artefacts(data.X, data.groups, **data.layout())
    >>> flags.index[flags.artefact].tolist(), flags.reasons[7]
    ([7], 'emg:flat')
    """
    detector = ArtefactDetector(
        sfreq=sfreq, ch_names=ch_names, ch_types=ch_types, epoch_length=epoch_length,
        clip_tolerance=clip_tolerance, clip_duration=clip_duration,
        flat_duration=flat_duration, flat_ratio=flat_ratio,
        amplitude_factor=amplitude_factor, amplitude_percentile=amplitude_percentile,
        amplitude_types=amplitude_types,
    )
    return detector.fit(X, groups=groups).detect(X, groups)


def flag_confidence(confidence, artefact, *, factor: float = ARTEFACT_CONFIDENCE_FACTOR):
    """Lower the confidence of the stages of flagged epochs.

    Parameters
    ----------
    confidence : array-like of shape (n_epochs,)
        Probability of the predicted stage of each epoch.
    artefact : array-like of bool, shape (n_epochs,)
        Artefact flag of each epoch (``detect_artefacts(...)["artefact"]``).
    factor : float, default :data:`ARTEFACT_CONFIDENCE_FACTOR`
        Multiplier in (0, 1] applied to the confidence of flagged epochs.

    Returns
    -------
    numpy.ndarray of shape (n_epochs,), float64

    Examples
    --------
    >>> flag_confidence([0.9, 0.8], [False, True]).tolist()
    [0.9, 0.4]
    """
    factor = check_positive("factor", factor)
    if factor > 1:
        raise ValueError(f"The 'factor' parameter must lie in (0, 1], but got {factor!r}.")
    confidence = np.asarray(confidence, dtype=np.float64)
    artefact = np.asarray(artefact, dtype=bool)
    if confidence.shape != artefact.shape:
        raise ValueError(f"confidence has shape {confidence.shape} but artefact has "
                         f"{artefact.shape}; give one flag per epoch.")
    return np.where(artefact, confidence * factor, confidence)


# -- helpers ----------------------------------------------------------------------------------
def _has_run(mask: np.ndarray, length: int) -> np.ndarray:
    """Whether ``mask`` holds ``length`` consecutive True values along the last axis."""
    if length <= 0:
        return np.ones(mask.shape[:-1], dtype=bool)
    if length > mask.shape[-1]:
        return np.zeros(mask.shape[:-1], dtype=bool)
    counts = np.zeros((*mask.shape[:-1], mask.shape[-1] + 1), dtype=np.int32)
    np.cumsum(mask, axis=-1, out=counts[..., 1:])
    return (counts[..., length:] - counts[..., :-length]).max(axis=-1) >= length


def _run_levels(x: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Min over ``length``-sample windows of the window's max, and max of the window's min.

    Along the last axis (``1 <= length <= x.shape[-1]``); a run of ``length`` samples all
    ``>= v`` exists exactly when the second is ``>= v`` (and likewise below).
    """
    return (_window_extreme(x, length, np.maximum).min(axis=-1),
            _window_extreme(x, length, np.minimum).max(axis=-1))


def _window_extreme(x: np.ndarray, length: int, extreme) -> np.ndarray:
    """``extreme`` (np.minimum or np.maximum) of every ``length``-sample window (valid part).

    Windows double in length (``O(n log length)``); a window between two powers of two is
    the union of two overlapping ones. Exact: minima and maxima do not round.
    """
    out, width = x, 1
    while 2 * width <= length:
        out = extreme(out[..., :-width], out[..., width:])  # windows of 2 * width samples
        width *= 2
    if width < length:
        shift = length - width
        out = extreme(out[..., : out.shape[-1] - shift], out[..., shift:])
    return out


def _window_std_and_peak(x: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Smallest sliding-window standard deviation and peak deviation from the mean, per row.

    Windowed sums come from cumulative sums (float64, after removing each row's mean), so
    every window position is covered at O(1) cost.
    """
    centred = x - x.mean(axis=-1, keepdims=True, dtype=np.float64)
    peak = np.abs(centred).max(axis=-1)
    sums = np.zeros((*x.shape[:-1], x.shape[-1] + 1))
    squares = np.zeros_like(sums)
    np.cumsum(centred, axis=-1, out=sums[..., 1:])
    np.square(centred, out=centred)
    np.cumsum(centred, axis=-1, out=squares[..., 1:])
    mean = (sums[..., window:] - sums[..., :-window]) / window
    var = (squares[..., window:] - squares[..., :-window]) / window - np.square(mean)
    return np.sqrt(np.maximum(var.min(axis=-1), 0.0)), peak


def _reasons(flags: np.ndarray, ch_names: Sequence[str]) -> np.ndarray:
    """``"<channel>:<reason>"`` of every flag of each epoch, joined by ``;``."""
    out = np.full(flags.shape[0], "", dtype=object)
    for j, channel in enumerate(ch_names):
        for k, reason in enumerate(ARTEFACT_REASONS):
            hit = flags[:, j, k]
            if not hit.any():
                continue
            label = f"{channel}:{reason}"
            out[hit] = np.where(out[hit] == "", label, out[hit] + ";" + label)
    return out
