"""Spectral features of EEG/EOG channels: band powers, ratios and the shape of the spectrum."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from .._internal.validation import check_option, check_positive
from ..data import CH_TYPES
from ._base import DEFAULT_SFREQ
from ._engine import (
    DEFAULT_NOTCH_FREQS,
    DEFAULT_NOTCH_WIDTH,
    POWER_FLOOR,
    PSD_METHODS,
    EpochBatch,
    band_mask,
    contiguous_runs,
    safe_log,
)
from ._family import PSDFeatureFamily, channel_indices
from ._registry import register_family

__all__ = ["DEFAULT_BANDS", "DEFAULT_RATIOS", "SpectralFeatures", "resolve_bands"]

logger = logging.getLogger(__name__)

#: Band presets in Hz, half-open ``[lo, hi)``; upper edges are capped at ``fmax`` (Nyquist
#: by default) when the bands are resolved at fit.
#:
#: ``"rodent"``: theta is 6-9 Hz, the peak range of mouse hippocampal theta that dominates
#: the cortical EEG in REM sleep (~6.5-8 Hz) and active wake (up to ~9 Hz); 4-6 Hz is left out
#: on purpose, as it holds the upper tail of rodent NREM slow activity and would blur the
#: theta/delta contrast that separates REM from NREM. 9-10 Hz also belongs to no band, so
#: the relative powers sum to less than 1.
#: ``"human"``: the AASM-style bands; gamma stops at 45 Hz, below 50/60 Hz mains noise.
#: Rodent gamma spans both mains frequencies; :class:`SpectralFeatures` leaves their bins
#: out (``notch_freqs``).
DEFAULT_BANDS: Mapping[str, Mapping[str, tuple[float, float]]] = MappingProxyType({
    "rodent": MappingProxyType({
        "delta": (0.5, 4.0),
        "theta": (6.0, 9.0),
        "sigma": (10.0, 15.0),
        "beta": (15.0, 30.0),
        "gamma": (30.0, 100.0),
    }),
    "human": MappingProxyType({
        "delta": (0.5, 4.0),
        "theta": (4.0, 8.0),
        "alpha": (8.0, 12.0),
        "sigma": (12.0, 16.0),
        "beta": (16.0, 30.0),
        "gamma": (30.0, 45.0),
    }),
})

#: Ratios used by ``ratios="auto"`` (numerator, denominator), kept when both bands exist.
DEFAULT_RATIOS: tuple[tuple[str, str], ...] = (
    ("theta", "delta"),
    ("sigma", "delta"),
    ("delta", "beta"),
)

#: ``bands="auto"`` picks the rodent preset for epochs shorter than this (seconds): rodent
#: scoring uses 2-10 s epochs, human scoring 20-30 s; the sampling rate does not tell them
#: apart (both are recorded at 100-1000 Hz).
AUTO_RODENT_MAX_EPOCH: float = 10.0

# Bins per block in the two-level search for the spectral edge frequency.
_EDGE_BLOCK = 16

_BAND_POWER = re.compile(r"^(.+_abspower_log|.+_relpower|total_power_log|.+_ratio_log)$")
_SPECTRAL_SHAPE = re.compile(r"^(sef[0-9.e+-]+|spectral_entropy|peak_freq)$")


def resolve_bands(
    bands, *, epoch_length: float, fmin: float, fmax: float, freqs: np.ndarray, sfreq: float
) -> tuple[str, dict[str, tuple[float, float]]]:
    """Resolve ``bands`` into ``(preset name, {name: (lo, hi)})`` clipped to ``[fmin, fmax)``.

    Rules: every band is clipped to ``[fmin, fmax)``. A band of a preset that lies entirely
    outside that range (e.g. gamma at a low sampling rate) is dropped and logged; a band
    given explicitly in a dict raises instead. Any remaining band that contains no frequency
    bin at the PSD resolution raises ``ValueError`` naming the band, sfreq and resolution.
    """
    if isinstance(bands, str):
        check_option("bands", bands, ("auto", *DEFAULT_BANDS))
        preset = bands
        if preset == "auto":
            preset = "rodent" if epoch_length < AUTO_RODENT_MAX_EPOCH else "human"
        requested = dict(DEFAULT_BANDS[preset])
        strict = False
    elif isinstance(bands, Mapping):
        preset, requested, strict = "custom", dict(bands), True
        if not requested:
            raise ValueError("The 'bands' parameter is an empty dict; give at least one band.")
    else:
        raise TypeError(
            "The 'bands' parameter must be 'auto', 'rodent', 'human' or a dict "
            f"name -> (lo, hi) in Hz, but got {bands!r}."
        )
    df = freqs[1] - freqs[0]
    resolved: dict[str, tuple[float, float]] = {}
    for name, edges in requested.items():
        try:
            lo, hi = (float(v) for v in edges)
        except (TypeError, ValueError):
            raise ValueError(
                f"Band {name!r} must be a pair (lo, hi) of frequencies in Hz, got {edges!r}."
            ) from None
        if not (np.isfinite(lo) and lo >= 0 and hi > lo):
            raise ValueError(f"Band {name!r} must satisfy 0 <= lo < hi, got ({lo}, {hi}).")
        lo_c, hi_c = max(lo, fmin), min(hi, fmax)
        if lo_c >= hi_c:
            message = (
                f"Band {name!r} [{lo:g}, {hi:g}) Hz lies outside the analysed range "
                f"[{fmin:g}, {fmax:g}) Hz (sfreq={sfreq:g} Hz, Nyquist {sfreq / 2:g} Hz)"
            )
            if strict:
                raise ValueError(message + "; remove it or raise the sampling rate.")
            logger.info("%s; dropped from the %r preset.", message, preset)
            continue
        n_bins = np.count_nonzero(band_mask(freqs, lo_c, hi_c, df))
        if n_bins == 0:
            raise ValueError(
                f"Band {name!r} [{lo_c:g}, {hi_c:g}) Hz contains no frequency bin at "
                f"sfreq={sfreq:g} Hz with a resolution of {df:g} Hz; lengthen the PSD "
                "window (or the epochs), or widen the band."
            )
        resolved[str(name)] = (lo_c, hi_c)
    if not resolved:
        raise ValueError(
            f"No band of the {preset!r} preset lies below fmax={fmax:g} Hz "
            f"(sfreq={sfreq:g} Hz); pass bands explicitly."
        )
    return preset, resolved


def _resolve_ratios(ratios, bands: Mapping[str, tuple[float, float]]) -> tuple:
    if ratios is None:
        return ()
    if isinstance(ratios, str):
        check_option("ratios", ratios, ("auto",))
        return tuple((a, b) for a, b in DEFAULT_RATIOS if a in bands and b in bands)
    pairs = []
    for pair in ratios:
        if isinstance(pair, str) or len(pair) != 2:
            raise ValueError(
                f"Each ratio must be a pair (numerator, denominator) of band names, got {pair!r}."
            )
        for band in pair:
            if band not in bands:
                raise ValueError(
                    f"Ratio {tuple(pair)!r} uses band {band!r}, which is not among the "
                    f"resolved bands {list(bands)}."
                )
        pairs.append((str(pair[0]), str(pair[1])))
    return tuple(pairs)


@register_family("spectral")
class SpectralFeatures(PSDFeatureFamily):
    """Band powers, band ratios and spectral shape of every EEG/EOG channel.

    The PSD of each channel is computed once for all epochs (Welch or multitaper, see
    ``method``), in float32, and every feature is read from it. Only bins in
    ``[fmin, fmax)`` outside the mains notches are used; bands are half-open ``[lo, hi)``
    so no bin counts twice.

    Mains: the bins within ``notch_width / 2`` Hz of each frequency of ``notch_freqs``
    (50 and 60 Hz by default, +-2 Hz) count in no band, in no total and in no spectral
    shape feature. Rodent gamma (30-100 Hz, capped at Nyquist) spans both mains
    frequencies, and a line in the total would also scale every relative power. Harmonics
    (100, 120, 150 Hz, ...) are left out only when listed. The time-domain families (EMG
    amplitude, Hjorth, time statistics) still see the line; notch-filter the recording
    (:func:`mne.filter.notch_filter`) when it dominates them.

    Per channel ``<ch>`` (in this order):

    - ``<ch>_<band>_abspower_log``: log of the band's absolute power (units², e.g. V²:
      PSD summed over the band's bins times the bin width);
    - ``<ch>_<band>_relpower``: band power / total power;
    - ``<ch>_total_power_log``: log of the total power in ``[fmin, fmax)``, notches left out;
    - ``<ch>_<num>_<den>_ratio_log``: log of the power ratio of two bands;
    - ``<ch>_sef95``: spectral edge frequency (Hz) below which ``edge`` of the total power
      lies, treating each bin's power as spread evenly over its width;
    - ``<ch>_spectral_entropy``: Shannon entropy of the normalised spectrum divided by the
      log of the number of bins used (1 = white, 0 = a single line);
    - ``<ch>_peak_freq``: frequency (Hz) of the largest PSD bin.

    EMG channels are left out by default (``spectral_types``): the EEG bands say little
    about muscle tone, which :class:`~sleepstage.features.EMGFeatures` measures directly.
    A flat channel (total power at most 1e-30 units²) gives finite values: log powers at
    ``log(1e-30)``, relative powers, ratio logs, edge and peak frequencies and entropy all 0.

    Parameters
    ----------
    sfreq : float, default 128
        Sampling frequency in Hz.
    ch_names, ch_types : sequence of str or None
        Channel layout; None means the reference ``("eeg1", "eeg2", "emg")`` /
        ``("eeg", "eeg", "emg")``.
    epoch_length : float, optional
        Declared epoch length in seconds, checked against ``X`` at fit (see
        :class:`~sleepstage.features.EpochTransformer`).
    bands : {"auto", "rodent", "human"} or dict
        Frequency bands, a preset of :data:`DEFAULT_BANDS` or ``{name: (lo, hi)}`` in Hz.
        ``"auto"``: ``"rodent"`` for epochs shorter than 10 s, ``"human"`` otherwise.
        Edges are clipped to ``[fmin, fmax)``; preset bands outside it are dropped, dict
        bands outside it raise; a band without any frequency bin raises ``ValueError``.
    method : {"welch", "multitaper"}
        PSD estimator (see :func:`~sleepstage.features._engine.make_psd_plan`).
    window : float, default 2.0
        Welch segment length in seconds (resolution ``1 / window`` Hz); at least the epoch
        length means one Hann-windowed periodogram of the whole epoch.
    overlap : float, default 0.5
        Welch segment overlap fraction.
    bandwidth : float, default 2.0
        Multitaper bandwidth in Hz.
    ratios : "auto", sequence of (str, str) or None
        Band power ratios; ``"auto"`` uses theta/delta, sigma/delta and delta/beta when
        those bands exist.
    edge : float, default 0.95
        Fraction of power for the spectral edge frequency.
    fmin : float, default 0.5
        Lowest frequency analysed (Hz); excludes DC and slow drifts.
    fmax : float or None
        Highest frequency analysed (exclusive); None or above Nyquist means Nyquist.
    notch_freqs : sequence of float or None, default (50.0, 60.0)
        Mains frequencies in Hz whose bins are left out (see above); None or ``()`` keeps
        every bin. A band that would keep no bin raises ``ValueError``.
    notch_width : float, default 4.0
        Full width in Hz of each left-out notch ``[f - notch_width / 2, f + notch_width / 2)``:
        the main lobe of the default estimators (+-1 Hz) around a line that may drift by
        +-1 Hz.
    spectral_types : sequence of str, default ("eeg", "eog")
        Channel types that get spectral features.

    Attributes
    ----------
    bands_ : dict
        Resolved bands ``{name: (lo, hi)}`` after clipping.
    bands_preset_ : str
        ``"rodent"``, ``"human"`` or ``"custom"``.
    ratios_ : tuple of (str, str)
        Resolved ratios.
    fmax_ : float
        Resolved upper frequency limit.
    freqs_ : numpy.ndarray
        Frequencies of the bins in ``[fmin, fmax)`` (notched bins included).
    notch_bands_ : list of (float, float)
        The left-out notches ``(lo, hi)`` in Hz that hold at least one bin of the PSD.
    psd_plan_ : PSDPlan
        PSD settings resolved against the epoch length.
    channels_ : list of int
        Positions of the channels that get spectral features.
    feature_names_out_, feature_families_ : numpy.ndarray of str

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(512) / 128
    >>> X = np.tile(np.sin(2 * np.pi * 7 * t), (4, 1, 1)).astype(np.float32)
    >>> spec = SpectralFeatures(ch_names=["eeg"], ch_types=["eeg"]).fit(X)
    >>> out = spec.transform(X)
    >>> names = list(spec.get_feature_names_out())
    >>> bool(out[0, names.index("eeg_theta_relpower")] > 0.9)
    True
    """

    column_families = ("band_power", "spectral_shape")

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
        notch_freqs=DEFAULT_NOTCH_FREQS,
        notch_width=DEFAULT_NOTCH_WIDTH,
        spectral_types=("eeg", "eog"),
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
        self.notch_freqs = notch_freqs
        self.notch_width = notch_width
        self.spectral_types = spectral_types

    @classmethod
    def column_family_of(cls, feature: str) -> str | None:
        if _BAND_POWER.match(feature):
            return "band_power"
        return "spectral_shape" if _SPECTRAL_SHAPE.match(feature) else None

    # -- fit --------------------------------------------------------------------------------
    def _check_params(self, n_samples: int) -> None:
        check_option("method", self.method, PSD_METHODS)
        for ch_type in self.spectral_types:
            check_option("spectral_types", ch_type, CH_TYPES)
        self.channels_ = channel_indices(self.ch_types_, tuple(self.spectral_types))
        edge = check_positive("edge", self.edge)
        if edge >= 1:
            raise ValueError(f"The 'edge' parameter must be in (0, 1), but got {self.edge!r}.")
        fmin = check_positive("fmin", self.fmin, strict=False)
        nyquist = self.sfreq_ / 2
        fmax = nyquist if self.fmax is None else min(check_positive("fmax", self.fmax), nyquist)
        if fmin >= fmax:
            raise ValueError(
                f"fmin={fmin:g} Hz must be below fmax={fmax:g} Hz (sfreq={self.sfreq_:g} Hz)."
            )
        self.fmax_ = fmax
        plan = self._fit_psd_plan(n_samples)
        keep = band_mask(plan.freqs, fmin, fmax, plan.df)
        if not keep.any():
            raise ValueError(
                f"No frequency bin lies in [{fmin:g}, {fmax:g}) Hz at sfreq={self.sfreq_:g} Hz "
                f"with a resolution of {plan.df:g} Hz."
            )
        first, last = np.flatnonzero(keep)[[0, -1]]
        self._bins = slice(int(first), int(last) + 1)
        self.freqs_ = plan.freqs[self._bins]
        self.bands_preset_, self.bands_ = resolve_bands(
            self.bands, epoch_length=n_samples / self.sfreq_, fmin=fmin, fmax=fmax,
            freqs=plan.freqs, sfreq=self.sfreq_,
        )
        self.ratios_ = _resolve_ratios(self.ratios, self.bands_)
        # Notched bins are zeroed in the copy of the PSD that _fill reads, so that every
        # sum over bins (bands, total, edge) leaves them out.
        notched = self._fit_notch(plan)[self._bins]
        self._notch_runs = contiguous_runs(notched)
        self._n_used_bins = int(np.count_nonzero(~notched))
        notches = ", ".join(f"[{lo:g}, {hi:g})" for lo, hi in self.notch_bands_)
        if self._n_used_bins == 0:
            raise ValueError(
                f"Every frequency bin in [{fmin:g}, {fmax:g}) Hz lies in a mains notch "
                f"({notches} Hz); change 'notch_freqs' or 'notch_width'."
            )
        # Each band is a contiguous run of bins [start, stop) of freqs_.
        self._band_slices = []
        for name, (lo, hi) in self.bands_.items():
            in_band = band_mask(self.freqs_, lo, hi, plan.df)
            if not (in_band & ~notched).any():
                raise ValueError(
                    f"Band {name!r} [{lo:g}, {hi:g}) Hz lies entirely in the mains notches "
                    f"{notches} Hz; narrow 'notch_width', change 'notch_freqs' (None keeps "
                    "every bin) or widen the band."
                )
            inside = np.flatnonzero(in_band)
            self._band_slices.append(slice(int(inside[0]), int(inside[-1]) + 1))
        self._edge = edge

    def _per_channel_table(self) -> list[tuple[str, str]]:
        band_names = list(self.bands_)
        table = [(f"{b}_abspower_log", "band_power") for b in band_names]
        table += [(f"{b}_relpower", "band_power") for b in band_names]
        table.append(("total_power_log", "band_power"))
        table += [(f"{a}_{b}_ratio_log", "band_power") for a, b in self.ratios_]
        table += [
            (f"sef{100 * self._edge:g}", "spectral_shape"),
            ("spectral_entropy", "spectral_shape"),
            ("peak_freq", "spectral_shape"),
        ]
        return table

    def _feature_table(self, ch_names, ch_types) -> list[tuple[str, str]]:
        per_channel = self._per_channel_table()
        return [
            (ch_names[i], name, family)
            for i in self.channels_
            for name, family in per_channel
        ]

    # -- transform --------------------------------------------------------------------------
    def _fill(self, batch: EpochBatch, out: np.ndarray) -> None:
        if not self.channels_:
            return
        full = batch.psd(self.psd_plan_, self.channels_)
        # Scratch arrays come from the batch's workspace: fresh ones page-fault every batch.
        workspace = batch.workspace
        psd = workspace.array("spectral_psd", (*full.shape[:2], self.freqs_.size))
        np.copyto(psd, full[..., self._bins])  # (n, k, m): bins in [fmin, fmax)
        for run in self._notch_runs:  # mains bins count nowhere
            psd[..., run] = 0
        stride = len(self._per_channel_table())
        n_bands = len(self.bands_)
        df = self.psd_plan_.df
        band_power = np.stack([np.einsum("nkm->nk", psd[..., band])
                               for band in self._band_slices], axis=-1)
        band_power = band_power.astype(np.float64) * df  # (n, k, n_bands)
        total = np.einsum("nkm->nk", psd).astype(np.float64) * df
        flat = total <= POWER_FLOOR  # no power to distribute: a flat channel
        band_log = safe_log(band_power, POWER_FLOOR)
        relative = np.divide(band_power, total[..., None], out=np.zeros_like(band_power),
                             where=~flat[..., None])
        col = 0
        for j in range(n_bands):
            out[:, col::stride] = band_log[..., j]
            col += 1
        for j in range(n_bands):
            out[:, col::stride] = relative[..., j]
            col += 1
        out[:, col::stride] = safe_log(total, POWER_FLOOR)
        col += 1
        index = {name: j for j, name in enumerate(self.bands_)}
        for num, den in self.ratios_:
            out[:, col::stride] = band_log[..., index[num]] - band_log[..., index[den]]
            col += 1
        out[:, col::stride] = self._edge_frequency(psd, flat, workspace)
        out[:, col + 1::stride] = self._entropy(psd, total, flat, workspace)
        peak = self.freqs_[np.argmax(psd, axis=-1)]
        out[:, col + 2::stride] = np.where(flat, 0.0, peak)

    def _edge_frequency(self, psd: np.ndarray, flat: np.ndarray, workspace) -> np.ndarray:
        """Spectral edge frequency; each bin's power is spread evenly over its width.

        The crossing bin is found in two levels, blocks of 16 bins then bins within the
        block, all in float64: a full float64 cumulative sum over every bin costs ~10x more
        (NumPy's cumsum runs one short loop per row), and float32 sums would move the edge
        by up to ~1e-3 Hz (near the edge, bins hold a small fraction of the total).
        """
        n, k, m = psd.shape
        r = n * k  # one row per epoch and channel; plain (row, column) indexing below
        rows = np.arange(r)
        size = _EDGE_BLOCK
        n_blocks = -(-m // size)
        padded = workspace.scratch(0, (r, n_blocks, size))
        padded.reshape(r, -1)[:, :m] = psd.reshape(r, m)
        padded.reshape(r, -1)[:, m:] = 0
        blocks = np.einsum("rbj->rb", padded, dtype=np.float64)
        cumulative = np.cumsum(blocks, axis=-1)
        target = self._edge * cumulative[:, -1]
        block = np.argmax(cumulative >= target[:, None], axis=-1)
        start = cumulative[rows, block] - blocks[rows, block]  # power below the block
        inside = padded[rows, block]  # (r, size)
        running = np.cumsum(inside, axis=-1, dtype=np.float64) + start[:, None]
        reached = running >= target[:, None]
        # Rounding may leave the block's last real bin a hair below the target: it crosses.
        reached[rows, np.minimum(size, m - block * size) - 1] = True
        within = np.argmax(reached, axis=-1)
        power = inside[rows, within].astype(np.float64)
        before = running[rows, within] - power
        df = self.psd_plan_.df
        # power == 0 only for a flat channel, or where the rounding guard above lands on an
        # empty bin: the edge is then that bin's upper edge.
        fraction = np.divide(target - before, power, where=power > 0, out=np.ones_like(power))
        sef = self.freqs_[block * size + within] - df / 2 + df * fraction
        return np.where(flat, 0.0, sef.reshape(n, k))

    def _entropy(self, psd: np.ndarray, total: np.ndarray, flat: np.ndarray,
                 workspace) -> np.ndarray:
        scale = np.where(flat, 0.0, self.psd_plan_.df / np.where(flat, 1.0, total))
        p = np.multiply(psd, scale.astype(np.float32)[..., None],
                        out=workspace.scratch(0, psd.shape))  # normalised spectrum
        # -sum(p log p), with 0 log 0 = 0 (the floor only meets p == 0).
        log_p = np.maximum(p, POWER_FLOOR, out=workspace.scratch(1, psd.shape))
        np.log(log_p, out=log_p)
        entropy = -np.vecdot(p, log_p).astype(np.float64)
        if self._n_used_bins < 2:  # a single bin: its spectrum cannot be spread, entropy 0
            return np.zeros_like(entropy)
        return entropy / np.log(self._n_used_bins)  # zeroed mains bins add 0 log 0 = 0
