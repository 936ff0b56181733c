"""Muscle-tone features of EMG channels: RMS, high-band power and amplitude percentiles."""

from __future__ import annotations

import re

import numpy as np

from .._internal.validation import check_option
from ._base import DEFAULT_SFREQ
from ._engine import (
    AMPLITUDE_FLOOR,
    DEFAULT_NOTCH_FREQS,
    DEFAULT_NOTCH_WIDTH,
    POWER_FLOOR,
    PSD_METHODS,
    EpochBatch,
    abs_linear_quantiles,
    band_mask,
    contiguous_runs,
    safe_log,
)
from ._family import PSDFeatureFamily, channel_indices
from ._registry import register_family

__all__ = ["EMGFeatures"]

_FEATURE = re.compile(r"^(rms_log|highband_power_log|abs_p[0-9.e+-]+_log)$")


@register_family("emg")
class EMGFeatures(PSDFeatureFamily):
    """Amplitude of every EMG channel: the muscle tone that separates REM from wake.

    Per EMG channel ``<ch>`` (in this order):

    - ``<ch>_rms_log``: log of the root mean square of the raw signal (DC included: for an
      amplitude envelope such as Sleep-EDF's 1-Hz ``EMG submental`` the level is the
      information). Under a gain ``g`` it shifts by ``log(g)``.
    - ``<ch>_highband_power_log``: log of the power in ``high_band`` Hz (PSD summed over the
      band's bins times the bin width, same estimator as
      :class:`~sleepstage.features.SpectralFeatures`); the band is capped at Nyquist, and
      the bins of the mains notches (``notch_freqs``, 50 and 60 Hz +-2 Hz by default, both
      inside the default 20-60 Hz band) are left out, so that line noise does not pass
      for muscle tone. The RMS and the percentiles still see it.
      Envelope-like EMG sampled slowly and upsampled has almost no power there: the value
      is then small but finite.
    - ``<ch>_abs_p<q>_log``: log of the ``q``-th percentile of ``|x|`` (linear interpolation,
      as ``np.percentile``), a robust amplitude less sensitive to twitches than the RMS.

    Channels of other types get no feature; with no EMG channel the transformer has zero
    columns (so EEG-only layouts still work inside
    :class:`~sleepstage.features.EpochFeatures`).

    Parameters
    ----------
    sfreq : float, default 128
        Sampling frequency in Hz.
    ch_names, ch_types : sequence of str or None
        Channel layout; None means the reference layout.
    epoch_length : float, optional
        Declared epoch length in seconds, checked against ``X`` at fit (see
        :class:`~sleepstage.features.EpochTransformer`).
    high_band : (float, float), default (20, 60)
        Half-open ``[lo, hi)`` band in Hz for the high-frequency EMG power; ``hi`` is capped
        at Nyquist, and ``lo`` at or above Nyquist raises ``ValueError``.
    percentiles : sequence of float, default (10, 50, 90)
        Percentiles (0-100) of ``|x|``.
    notch_freqs : sequence of float or None, default (50.0, 60.0)
        Mains frequencies in Hz whose bins the high-band power leaves out; None or ``()``
        keeps every bin. A high band that would keep no bin raises ``ValueError``.
    notch_width : float, default 4.0
        Full width in Hz of each notch, as in :class:`~sleepstage.features.SpectralFeatures`.
    method, window, overlap, bandwidth
        PSD settings, as in :class:`~sleepstage.features.SpectralFeatures`.

    Attributes
    ----------
    channels_ : list of int
        Positions of the EMG channels.
    high_band_ : (float, float)
        The band after capping at Nyquist.
    notch_bands_ : list of (float, float)
        The left-out notches ``(lo, hi)`` in Hz that hold at least one bin of the PSD.
    psd_plan_ : PSDPlan
        PSD settings resolved against the epoch length.
    feature_names_out_, feature_families_ : numpy.ndarray of str

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((5, 3, 512)).astype(np.float32)
    >>> emg = EMGFeatures().fit(X)
    >>> list(emg.get_feature_names_out())[:2]
    ['emg_rms_log', 'emg_highband_power_log']
    >>> emg.transform(X).shape
    (5, 5)
    """

    column_families = ("emg",)
    statistics = ("variance",)

    def __init__(
        self,
        *,
        sfreq=DEFAULT_SFREQ,
        ch_names=None,
        ch_types=None,
        epoch_length=None,
        high_band=(20.0, 60.0),
        percentiles=(10, 50, 90),
        notch_freqs=DEFAULT_NOTCH_FREQS,
        notch_width=DEFAULT_NOTCH_WIDTH,
        method="welch",
        window=2.0,
        overlap=0.5,
        bandwidth=2.0,
    ):
        self.sfreq = sfreq
        self.ch_names = ch_names
        self.ch_types = ch_types
        self.epoch_length = epoch_length
        self.high_band = high_band
        self.percentiles = percentiles
        self.notch_freqs = notch_freqs
        self.notch_width = notch_width
        self.method = method
        self.window = window
        self.overlap = overlap
        self.bandwidth = bandwidth

    @classmethod
    def column_family_of(cls, feature: str) -> str | None:
        return "emg" if _FEATURE.match(feature) else None

    def _check_params(self, n_samples: int) -> None:
        check_option("method", self.method, PSD_METHODS)
        self.channels_ = channel_indices(self.ch_types_, ("emg",))
        try:
            percentiles = np.asarray(self.percentiles, dtype=np.float64).ravel()
        except (TypeError, ValueError):
            raise TypeError(
                f"The 'percentiles' parameter must be numbers in [0, 100], got "
                f"{self.percentiles!r}."
            ) from None
        if np.any(~np.isfinite(percentiles) | (percentiles < 0) | (percentiles > 100)):
            raise ValueError(
                f"The 'percentiles' parameter must be numbers in [0, 100], got "
                f"{self.percentiles!r}."
            )
        if np.unique(percentiles).size != percentiles.size:
            raise ValueError(f"The 'percentiles' parameter has duplicates: {self.percentiles!r}.")
        self._percentiles = percentiles
        try:
            lo, hi = (float(v) for v in self.high_band)
        except (TypeError, ValueError):
            raise ValueError(
                f"The 'high_band' parameter must be a pair (lo, hi) in Hz, got "
                f"{self.high_band!r}."
            ) from None
        if not (np.isfinite(lo) and 0 <= lo < hi):
            raise ValueError(f"The 'high_band' parameter must satisfy 0 <= lo < hi, got {lo, hi}.")
        plan = self._fit_psd_plan(n_samples)
        nyquist = self.sfreq_ / 2
        hi = min(hi, nyquist)
        self.high_band_ = (lo, hi)
        in_band = band_mask(plan.freqs, lo, hi, plan.df)
        if self.channels_ and not in_band.any():
            raise ValueError(
                f"The EMG high band [{lo:g}, {hi:g}) Hz contains no frequency bin at "
                f"sfreq={self.sfreq_:g} Hz (Nyquist {nyquist:g} Hz) with a resolution of "
                f"{plan.df:g} Hz; lower 'high_band' or use a higher sampling rate."
            )
        used = in_band & ~self._fit_notch(plan)
        if self.channels_ and not used.any():
            notches = ", ".join(f"[{a:g}, {b:g})" for a, b in self.notch_bands_)
            raise ValueError(
                f"The EMG high band [{lo:g}, {hi:g}) Hz lies entirely in the mains notches "
                f"{notches} Hz; widen 'high_band', narrow 'notch_width' or change "
                "'notch_freqs' (None keeps every bin)."
            )
        # The band without its notched bins: a few runs of consecutive bins.
        self._band_runs = contiguous_runs(used)

    def _feature_table(self, ch_names, ch_types) -> list[tuple[str, str]]:
        per_channel = ["rms_log", "highband_power_log"]
        per_channel += [f"abs_p{q:g}_log" for q in self._percentiles]
        return [(ch_names[i], name, "emg") for i in self.channels_ for name in per_channel]

    def _prefetch(self, batch: EpochBatch) -> None:
        super()._prefetch(batch)  # the PSD, and the variance for the RMS
        if self.channels_:
            batch.prefetch_sorted(self.channels_)  # for the percentiles of |x|

    def _fill(self, batch: EpochBatch, out: np.ndarray) -> None:
        if not self.channels_:
            return
        channels = self.channels_
        stride = 2 + self._percentiles.size
        out[:, 0::stride] = 0.5 * safe_log(batch.mean_square[:, channels], POWER_FLOOR)
        psd = batch.psd(self.psd_plan_, channels)  # shared with other families: read only
        high = sum(psd[..., run].sum(axis=-1, dtype=np.float32).astype(np.float64)
                   for run in self._band_runs)
        out[:, 1::stride] = safe_log(high * self.psd_plan_.df, POWER_FLOOR)
        fractions = self._percentiles / 100
        for k, ch in enumerate(channels):
            quantiles = abs_linear_quantiles(batch.sorted(ch), fractions, batch.workspace)
            out[:, k * stride + 2 : (k + 1) * stride] = safe_log(quantiles, AMPLITUDE_FLOOR)
