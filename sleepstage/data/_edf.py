"""Polysomnography in EDF/EDF+ files, read through MNE and cut into scored epochs."""

from __future__ import annotations

import datetime as _dt
import itertools
import logging
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .._internal.validation import check_finite, check_positive
from ._edf_header import EdfHeader, first_record_offset, read_edf_header, record_onsets
from ._epochs import CH_TYPES, EpochData, channel_type
from ._stages import RK_TO_3CLASS, UNSCORED, map_labels

if TYPE_CHECKING:
    import mne

__all__ = ["read_edf"]

logger = logging.getLogger(__name__)

#: Extra signal read on each side of the kept epochs, so that the edge effects of MNE's
#: upsampling of slow channels (preload=False) and of resampling stay outside the epochs.
_PAD_SECONDS = 60.0
#: Onsets and durations within this many seconds of the epoch grid count as aligned.
_ALIGN_TOL = 1e-3
_TRUNCATED = "Number of records from the header does not match the file size"
_MIXED_RATES = "Loading an EDF with mixed sampling frequencies"


def _resolve_channels(channels, available: Sequence[str], path: Path) -> dict[str, str]:
    """Map the ``channels`` argument to ``{name: type}`` in output order."""
    if channels is None:
        picked = {name: t for name in available if (t := channel_type(name, None)) is not None}
        if not picked:
            raise ValueError(
                f"No channel of {path.name} has 'EEG', 'EOG' or 'EMG' in its name; pass "
                f"channels=[...] or {{name: type}}. Available channels: {list(available)}."
            )
    elif isinstance(channels, Mapping):
        picked = {str(name): str(kind).lower() for name, kind in channels.items()}
        wrong = {name: kind for name, kind in picked.items() if kind not in CH_TYPES}
        if wrong:
            raise ValueError(
                f"Unknown channel type(s) {wrong} in 'channels'; allowed are {list(CH_TYPES)}."
            )
    else:
        names = [channels] if isinstance(channels, str) else [str(c) for c in channels]
        if len(set(names)) != len(names):
            raise ValueError(f"Channel names must be unique, got {names}.")
        picked = {name: channel_type(name) for name in names}
    if not picked:
        raise ValueError("'channels' is empty: name at least one channel.")
    missing = [name for name in picked if name not in available]
    if missing:
        raise ValueError(
            f"Channel(s) {missing} not found in {path.name}. Available channels: "
            f"{list(available)}."
        )
    return picked


def _open_raw(path: Path, include: Sequence[str] | None = None) -> mne.io.BaseRaw:
    """Read the header with MNE; a corrupt or truncated file raises ``ValueError``.

    MNE only warns about a truncated file (and reads what is there), so its warnings are
    collected: that one becomes an error, the others (filter settings of the header,
    annotations outside the data) are logged at debug level.
    """
    import mne  # imported on use: MNE is slow to import and only needed for EDF files

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            raw = mne.io.read_raw_edf(path, include=include, preload=False, verbose="warning")
    except Exception as exc:  # MNE raises many types on malformed headers
        raise ValueError(
            f"Could not read the EDF file {path} (corrupt or truncated?): {exc}"
        ) from exc
    for warning in caught:
        message = str(warning.message)
        if _TRUNCATED in message:
            raise ValueError(f"The EDF file {path} is truncated or corrupt: {message}")
        logger.debug("MNE reading %s: %s", path.name, message)
    return raw


def _read_hypnogram(
    path: Path, psg_start: _dt.datetime | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, _dt.datetime | None]:
    """Onsets (s from the start of the PSG), durations, descriptions and the file's start.

    The start of an EDF/EDF+ hypnogram comes from its header (MNE returns none for it), that
    of other formats from :attr:`mne.Annotations.orig_time`. When both the hypnogram and the
    PSG have a start, onsets are shifted by the difference; otherwise they are taken as
    seconds from the PSG start.
    """
    if not path.is_file():
        raise ValueError(f"Hypnogram file not found: {path}.")
    try:
        import mne

        annotations = mne.read_annotations(path)
    except Exception as exc:
        raise ValueError(f"Could not read the hypnogram {path}: {exc}") from exc
    if len(annotations) == 0:  # MNE returns no annotations for files it cannot parse
        raise ValueError(
            f"The hypnogram {path} holds no annotations: it is empty or not an annotation file."
        )
    onset = np.asarray(annotations.onset, dtype=float)
    header = read_edf_header(path)
    start = header.start if header is not None else annotations.orig_time
    if header is not None and start is not None:  # MNE counts onsets from the first record
        start = start + _dt.timedelta(seconds=first_record_offset(header))
    if start is not None and psg_start is not None:
        onset = onset + (start - psg_start).total_seconds()
    elif start is None:
        logger.info("%s has no start time: its onsets count from the PSG start.", path.name)
    descriptions = np.array([str(d) for d in annotations.description], dtype=object)
    return onset, np.asarray(annotations.duration, dtype=float), descriptions, start


def _expand_stages(
    onset: np.ndarray,
    duration: np.ndarray,
    stages: np.ndarray,
    descriptions: np.ndarray,
    epoch_length: float,
    path: Path,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Per-epoch stages on a grid starting at the first scored onset.

    Returns ``(t0, stage of each grid epoch, covered)``; uncovered epochs are UNSCORED.
    Annotations later in the file win where they overlap.
    """
    scored = duration > 0
    if not scored.any():
        raise ValueError(f"The hypnogram {path.name} has no annotation with a duration.")
    t0 = float(onset[scored].min())
    start = (onset[scored] - t0) / epoch_length
    count = duration[scored] / epoch_length
    misaligned = (np.abs(start - np.round(start)) * epoch_length > _ALIGN_TOL) | (
        np.abs(count - np.round(count)) * epoch_length > _ALIGN_TOL
    )
    if misaligned.any():
        i = int(np.flatnonzero(misaligned)[0])
        raise ValueError(
            f"The hypnogram {path.name} does not fit {epoch_length:g}-s epochs: annotation "
            f"{descriptions[scored][i]!r} at {onset[scored][i]:g} s lasts "
            f"{duration[scored][i]:g} s. Onsets and durations must be multiples of "
            "epoch_length from the first annotation."
        )
    start = np.round(start).astype(np.int64)
    count = np.round(count).astype(np.int64)
    total = int(count.sum())
    # index of every epoch of every annotation, without a Python loop
    index = np.repeat(start, count) + np.arange(total) - np.repeat(np.cumsum(count) - count, count)
    grid = np.full(int((start + count).max()), UNSCORED, dtype=object)
    grid[index] = np.repeat(stages[scored], count)
    covered = np.zeros(grid.shape, dtype=bool)
    covered[index] = True
    return t0, grid, covered


def _sleep_window(
    stages: np.ndarray, onsets: np.ndarray, epoch_length: float, minutes: float
) -> np.ndarray:
    """Mask of the epochs inside [first sleep onset - minutes, last sleep onset + minutes]."""
    sleep = np.flatnonzero((stages != "WAKE") & (stages != UNSCORED))
    if sleep.size == 0:
        raise ValueError(
            "keep_wake_minutes was given, but the hypnogram scores no sleep epoch in the "
            "recording: there is no sleep period to keep."
        )
    low = onsets[sleep[0]] - minutes * 60.0 - _ALIGN_TOL
    high = onsets[sleep[-1]] + minutes * 60.0 + _ALIGN_TOL
    return (onsets >= low) & (onsets + epoch_length <= high)


class _Segment(NamedTuple):
    """A continuous stretch of an EDF file: onset (s), first sample, samples, end (s)."""

    time: float
    sample: int
    n: int
    end: float


class _Window(NamedTuple):
    """The input samples ``start:stop`` read for every kept epoch of one segment at once.

    ``origin`` is the first sample of the first kept epoch of the segment: epoch offsets in
    the resampled signal are rounded relative to it, and every read of part of the segment
    starts a whole number of polyphase periods (``down`` input samples) from ``start``, so
    that a part and the whole give the same output samples.
    """

    origin: int
    start: int
    stop: int


def _segments(
    fields: EdfHeader | None, sfreq: float, n_times: int, path: Path
) -> list[_Segment]:
    """Continuous stretches of the file, in time order.

    Samples index MNE's reading of the file, which puts the data records end to end; the
    onsets are the true times from the header start. A continuous file is one stretch; an
    EDF+D file is cut wherever a data record does not start where the previous one ended.
    """
    if fields is None or not fields.is_discontinuous:
        return [_Segment(0.0, 0, n_times, n_times / sfreq)]
    onsets = record_onsets(fields)
    per_record = fields.record_duration * sfreq
    if abs(per_record - round(per_record)) > 1e-6 or round(per_record) < 1:
        raise ValueError(
            f"The data records of the EDF+D file {path.name} last {fields.record_duration:g} s, "
            f"not a whole number of samples at {sfreq:g} Hz."
        )
    per_record = round(per_record)
    breaks = np.flatnonzero(np.diff(onsets) > fields.record_duration + _ALIGN_TOL) + 1
    firsts = np.concatenate([[0], breaks])
    lasts = np.concatenate([breaks, [len(onsets)]])
    segments = []
    for first, last in zip(firsts, lasts, strict=True):
        sample = int(first) * per_record
        n = min(int(last - first) * per_record, n_times - sample)
        if n > 0:
            time = float(onsets[first])
            segments.append(_Segment(time, sample, n, time + n / sfreq))
    for a, b in itertools.pairwise(segments):
        logger.info("%s: gap of %g s in the recording at %g s (EDF+D); no epoch spans it.",
                    path.name, b.time - a.end, a.end)
    return segments


def _grid_in_segments(
    segments: list[_Segment],
    t0: float,
    epoch_length: float,
    n_grid: int,
    sfreq: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grid epochs ``t0 + k * epoch_length`` lying wholly within one stretch of signal.

    Returns the epoch numbers ``k`` (increasing), the sample (in MNE's reading) at which
    each starts and the index of its segment.
    """
    ks, samples, where = [], [], []
    for index, (seg_time, seg_sample, _, seg_end) in enumerate(segments):
        k_lo = max(0, int(np.ceil((seg_time - t0) / epoch_length - _ALIGN_TOL / epoch_length)))
        k_hi = min(n_grid, int(np.floor((seg_end - t0) / epoch_length + _ALIGN_TOL / epoch_length)))
        if k_hi <= k_lo:
            continue
        k = np.arange(k_lo, k_hi)
        ks.append(k)
        samples.append(seg_sample + np.round((t0 + k * epoch_length - seg_time) * sfreq))
        where.append(np.full(k.size, index))
    if not ks:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return (np.concatenate(ks), np.concatenate(samples).astype(np.int64),
            np.concatenate(where).astype(np.int64))


def _mixed_rates(fields: EdfHeader | None, picked: Mapping[str, str]) -> bool:
    """Whether the picked channels may have different rates (True when unsure)."""
    if fields is None:
        return True
    rates = {n for label, n in zip(fields.labels, fields.samples_per_record, strict=False)
             if label.strip() in picked}
    found = sum(label.strip() in picked for label in fields.labels)
    return len(rates) != 1 or found != len(picked)


def _read_span(raw, picked: Mapping[str, str], start: int, stop: int, path: Path) -> np.ndarray:
    """Samples ``start:stop`` of the picked channels, as MNE reads them."""
    with warnings.catch_warnings():
        # edge effects of upsampling slow channels are confined to the margins
        warnings.filterwarnings("ignore", message=_MIXED_RATES, category=RuntimeWarning)
        try:
            return raw.get_data(picks=list(picked), start=start, stop=stop)
        except Exception as exc:
            raise ValueError(f"Could not read the samples of {path}: {exc}") from exc


def _resample_ratio(sfreq: float, target: float) -> tuple[int, int]:
    ratio = Fraction(target).limit_denominator(10_000) / Fraction(sfreq).limit_denominator(10_000)
    return ratio.numerator, ratio.denominator


def _samples_per_epoch(sfreq: float, epoch_length: float, what: str) -> int:
    n = sfreq * epoch_length
    if abs(n - round(n)) > 1e-6:
        raise ValueError(
            f"{what} {sfreq:g} Hz x epoch_length {epoch_length:g} s = {n:g} is not a whole "
            "number of samples; choose another epoch_length or resample."
        )
    return round(n)


@dataclass(frozen=True)
class _EdfPlan:
    """Everything known about a recording before its samples are read.

    Built by :func:`_plan_edf` from the headers and the hypnogram; :func:`_read_epochs`
    then reads the samples of any run of the kept epochs. :func:`read_edf` reads them all
    at once, :func:`~sleepstage.data.iter_edf` a chunk at a time.
    """

    path: Path
    raw: mne.io.BaseRaw
    picked: dict[str, str]
    sfreq: float
    out_sfreq: float
    epoch_length: float
    up: int
    down: int
    #: input samples read for one epoch (rounded up when an epoch is not whole samples)
    span: int
    #: output samples of one epoch
    n_samples: int
    #: input samples of margin around a part of a segment (absorbs edge effects: the
    #: resampling filter's reach, 60 s when MNE upsamples slower channels)
    pad: int
    segments: list[_Segment]
    #: the whole-recording read of each segment; None where no epoch is kept
    windows: list[_Window | None]
    #: first input sample, segment index and onset (s) of each kept epoch, in time order
    starts: np.ndarray
    segment_of: np.ndarray
    onsets: np.ndarray
    y: np.ndarray | None
    info: dict

    @property
    def n_epochs(self) -> int:
        """Number of kept epochs."""
        return int(self.starts.size)


def _plan_edf(
    psg_path: str | os.PathLike,
    hypnogram_path: str | os.PathLike | None,
    *,
    channels: Mapping[str, str] | Sequence[str] | None,
    epoch_length: float,
    resample: float | None,
    label_mapping: Mapping[str, str],
    keep_wake_minutes: float | None,
    recording_id: str | None,
    drop_unscored: bool,
) -> _EdfPlan:
    """Check the arguments, read the headers and the hypnogram, choose the epochs to read.

    The parameters are those of :func:`read_edf`; no sample is read here.
    """
    psg_path = Path(psg_path)
    epoch_length = check_positive("epoch_length", epoch_length)
    if keep_wake_minutes is not None:
        keep_wake_minutes = check_positive("keep_wake_minutes", keep_wake_minutes, strict=False)
        if hypnogram_path is None:
            raise ValueError("keep_wake_minutes needs a hypnogram (hypnogram_path is None).")
    if not isinstance(label_mapping, Mapping):
        raise TypeError(f"label_mapping must be a mapping, got {type(label_mapping).__name__}.")
    if not psg_path.is_file():
        raise ValueError(f"EDF file not found: {psg_path}.")

    header = _open_raw(psg_path)
    picked = _resolve_channels(channels, header.ch_names, psg_path)
    raw = header if list(picked) == header.ch_names else _open_raw(psg_path, list(picked))
    sfreq = float(raw.info["sfreq"])
    n_times = raw.n_times
    up = down = 1
    out_sfreq = sfreq
    if resample is not None:
        out_sfreq = check_positive("resample", resample)
        up, down = _resample_ratio(sfreq, out_sfreq)
    what = "The sampling frequency" if resample is None else "The resample frequency"
    n_samples = _samples_per_epoch(out_sfreq, epoch_length, what)
    if (up, down) == (1, 1):
        span = n_samples
    else:
        # The signal is resampled before the epochs are cut, so only the output rate must
        # give whole epochs: a file at 101 Hz can give 2.5-s epochs at 128 Hz. Input spans
        # are read whole samples long (rounded up); epochs start at the nearest sample.
        span = int(np.ceil(sfreq * epoch_length - 1e-6))
    fields = read_edf_header(psg_path)
    segments = _segments(fields, sfreq, n_times, psg_path)
    # the header's own start, by the rule used for the hypnogram (an EDF+ "Startdate X" is
    # unknown, where MNE would take the dd.mm.yy field)
    psg_start = fields.start if fields is not None else raw.info["meas_date"]

    # -- epoch grid and stages ------------------------------------------------------------
    hyp_start = None
    if hypnogram_path is None:
        t0, stages, covered = segments[0].time, None, None
        n_grid = int(np.floor((segments[-1].end - t0) / epoch_length + 1e-9))
    else:
        hypnogram_path = Path(hypnogram_path)
        onset, duration, description, hyp_start = _read_hypnogram(hypnogram_path, psg_start)
        mapped = map_labels(
            description, label_mapping, what=f"annotation descriptions in {hypnogram_path.name}"
        )
        t0, stages, covered = _expand_stages(
            onset, duration, mapped, description, epoch_length, hypnogram_path
        )
        n_grid = stages.size
    grid, first_sample, segment_of = _grid_in_segments(
        segments, t0, epoch_length, n_grid, sfreq
    )
    if grid.size == 0 or (covered is not None and not covered[grid].any()):
        if hypnogram_path is None:
            raise ValueError(
                f"{psg_path.name} holds {n_times / sfreq:g} s, less than one {epoch_length:g}-s "
                "epoch."
            )
        starts = ""
        if hyp_start is not None and psg_start is not None:
            starts = (f" The hypnogram's header starts at {hyp_start:%Y-%m-%d %H:%M:%S}, the "
                      f"recording's at {psg_start:%Y-%m-%d %H:%M:%S}: is it the scoring of "
                      "another recording?")
        raise ValueError(
            f"The hypnogram {hypnogram_path.name} (scoring {t0:g} to "
            f"{t0 + n_grid * epoch_length:g} s) does not overlap the recording "
            f"{psg_path.name} ({segments[0].time:g} to {segments[-1].end:g} s).{starts}"
        )
    keep = np.ones(grid.size, dtype=bool)
    n_unscored = 0
    if stages is not None:
        stages = stages[grid]
        if keep_wake_minutes is not None:
            keep &= _sleep_window(
                stages, t0 + grid * epoch_length, epoch_length, keep_wake_minutes
            )
        if drop_unscored:
            unscored = keep & (stages == UNSCORED)
            n_unscored = int(unscored.sum())
            keep &= ~unscored
        if not keep.any():
            raise ValueError(f"No scored epoch of {psg_path.name} is left to return.")

    # -- what to read: the span of the kept epochs of each segment, with margins ----------
    starts, segment_of = first_sample[keep], segment_of[keep]
    pad = int(_PAD_SECONDS * sfreq) // down * down
    windows: list[_Window | None] = []
    for index, segment in enumerate(segments):
        inside = starts[segment_of == index]
        if inside.size == 0:
            windows.append(None)
            continue
        origin, stop = int(inside[0]), int(inside[-1]) + span
        pad_before = min(pad, origin - segment.sample) // down * down
        pad_after = min(pad, segment.sample + segment.n - stop)
        windows.append(_Window(origin, origin - pad_before, stop + pad_after))
    onsets = np.empty(starts.size)
    for index, segment in enumerate(segments):
        inside = segment_of == index
        onsets[inside] = segment.time + (starts[inside] - segment.sample) / sfreq
    # a part of a segment needs the margin of resample_poly's filter (10 * max(up, down)
    # samples at the upsampled rate) and a polyphase period to align its start; the 60-s
    # margin only where MNE upsamples slower channels over each read window
    fir_margin = -(-10 * max(up, down) // up) + down if (up, down) != (1, 1) else 0
    fir_pad = -(-fir_margin // down) * down
    pad = max(pad, fir_pad) if _mixed_rates(fields, picked) else fir_pad

    rid = psg_path.stem if recording_id is None else recording_id
    meas_date = raw.info["meas_date"]
    logger.info(
        "%s: %d epochs of %g s from %d channels (%d unscored dropped).",
        psg_path.name, starts.size, epoch_length, len(picked), n_unscored,
    )
    return _EdfPlan(
        path=psg_path,
        raw=raw,
        picked=picked,
        sfreq=sfreq,
        out_sfreq=out_sfreq,
        epoch_length=epoch_length,
        up=up,
        down=down,
        span=span,
        n_samples=n_samples,
        pad=pad,
        segments=segments,
        windows=windows,
        starts=starts,
        segment_of=segment_of,
        onsets=onsets,
        y=None if stages is None else stages[keep].astype(str),
        info={
            "source": "edf",
            "psg_file": str(psg_path),
            "hypnogram_file": None if hypnogram_path is None else str(hypnogram_path),
            "recording_id": rid,
            "orig_sfreq": sfreq,
            "sfreq": out_sfreq,
            "channels": dict(picked),
            "meas_date": None if meas_date is None else meas_date.isoformat(),
            "keep_wake_minutes": keep_wake_minutes,
            "n_unscored_dropped": n_unscored,
        },
    )


def _read_epochs(plan: _EdfPlan, first: int, stop: int) -> np.ndarray:
    """The signal of the kept epochs ``first:stop`` of ``plan``, float32, epochs first.

    Each segment they touch is read once, from a window of the whole-recording read of that
    segment (:class:`_Window`): it starts a whole number of polyphase periods after the
    whole read's start and ends at its end or ``plan.pad`` samples after the last epoch, so
    that the resampled samples of any run of epochs are those of the whole recording.
    """
    up, down = plan.up, plan.down
    pieces = []
    for index in np.unique(plan.segment_of[first:stop]):
        window = plan.windows[index]
        starts_in = plan.starts[first:stop][plan.segment_of[first:stop] == index]
        start, end = int(starts_in[0]), int(starts_in[-1]) + plan.span
        read_start = window.start + max(0, (start - plan.pad - window.start) // down) * down
        read_stop = min(end + plan.pad, window.stop)
        signal = _read_span(plan.raw, plan.picked, read_start, read_stop, plan.path)
        # (with whole input epochs, (starts_in - origin) is a multiple of span and this is
        # exact; otherwise each epoch starts at the output sample nearest to its onset)
        offsets = (np.round((starts_in - window.origin) * up / down).astype(np.int64)
                   + (window.origin - read_start) * up // down)
        take = offsets[:, None] + np.arange(plan.n_samples)
        n_out = -(-signal.shape[-1] * up // down)  # resample_poly's output length
        short = int(take[-1, -1]) + 1 - n_out
        if short > up // down + 1:
            raise RuntimeError(f"{plan.path.name}: the epochs overrun the samples read by "
                               f"{short}; this is a bug, please report it.")
        # epochs first, one channel at a time: one float32 copy of the epochs (the cast on
        # assignment rounds as astype does)
        epochs = np.empty((take.shape[0], signal.shape[0], plan.n_samples), dtype=np.float32)

        def cut(channel: int, signal=signal, take=take, short=short, epochs=epochs) -> None:
            samples = signal[channel]
            if (up, down) != (1, 1):
                from scipy.signal import resample_poly  # here: scipy.signal loads slowly

                samples = resample_poly(samples, up, down)
            if short > 0:  # rounding at the very end of the signal: repeat its last sample
                samples = np.pad(samples, (0, short), mode="edge")
            epochs[:, channel] = samples[take]

        _each_channel(cut, signal.shape[0], parallel=(up, down) != (1, 1))
        del signal
        pieces.append(epochs)
    return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)


def _each_channel(work, n_channels: int, *, parallel: bool) -> None:
    """``work(channel)`` for every channel, on threads when ``parallel`` and cores allow.

    Resampling (``resample_poly``) releases the GIL and each channel is filtered on its
    own, so the result is the same whatever the threads.
    """
    n_threads = min(n_channels, os.cpu_count() or 1) if parallel else 1
    if n_threads <= 1:
        for channel in range(n_channels):
            work(channel)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(n_threads) as pool:
        for done in [pool.submit(work, c) for c in range(n_channels)]:
            done.result()


def _epoch_data(plan: _EdfPlan, X: np.ndarray, first: int, stop: int) -> EpochData:
    """The kept epochs ``first:stop`` of ``plan`` with their signal ``X``."""
    return EpochData(
        X=X,
        y=None if plan.y is None else plan.y[first:stop],
        groups=np.full(stop - first, plan.info["recording_id"]),
        sfreq=plan.out_sfreq,
        ch_names=tuple(plan.picked),
        ch_types=tuple(plan.picked.values()),
        epoch_length=plan.epoch_length,
        onsets=plan.onsets[first:stop],
        info={**plan.info, "channels": dict(plan.picked)},
    )


def read_edf(
    psg_path: str | os.PathLike,
    hypnogram_path: str | os.PathLike | None = None,
    *,
    channels: Mapping[str, str] | Sequence[str] | None = None,
    epoch_length: float = 30.0,
    resample: float | None = None,
    label_mapping: Mapping[str, str] = RK_TO_3CLASS,
    keep_wake_minutes: float | None = None,
    recording_id: str | None = None,
    drop_unscored: bool = True,
) -> EpochData:
    """Read an EDF/EDF+ recording (and its hypnogram) into consecutive epochs.

    Parameters
    ----------
    psg_path : path-like
        The polysomnography EDF file.
    hypnogram_path : path-like, optional
        Scoring as annotations in any file :func:`mne.read_annotations` reads (EDF+ such as
        Sleep-EDF's ``*-Hypnogram.edf``, MNE ``.txt``/``.csv``/``.fif``). Each annotation
        covers a whole number of epochs; later annotations win where two overlap. Onsets
        are aligned to the PSG through the files' start times when both have one (for an
        EDF/EDF+ hypnogram, the start date and time of its header; an EDF+ header saying
        ``Startdate X`` has none), else taken as seconds from the PSG start. A hypnogram
        that does not overlap the recording is refused. None gives unlabelled epochs.
    channels : dict, list of str or None
        ``{name: type}`` with types ``"eeg"``, ``"emg"``, ``"eog"``; or a list of names
        whose types are guessed (``"EMG"`` in the name -> emg, ``"EOG"`` -> eog, else eeg);
        or None for every channel with ``EEG``, ``EOG`` or ``EMG`` in its name. The output
        keeps this order. Only these channels are read.
    epoch_length : float
        Epoch length in seconds; ``sfreq * epoch_length`` must be a whole number at the
        rate of the output (``resample`` if given: the signal is resampled before it is
        cut into epochs, so a file at an odd rate can be read by resampling it).
    resample : float, optional
        Target sampling frequency in Hz (polyphase filtering of the read channels,
        :func:`scipy.signal.resample_poly`). None keeps the file's rate.
    label_mapping : mapping
        Annotation description -> stage name or :data:`UNSCORED`; an annotation not in it
        raises ``ValueError``. Use ``RK_TO_5CLASS`` for 5-class staging.
    keep_wake_minutes : float, optional
        Keep only the sleep period plus this many minutes on either side: the epochs lying
        entirely within [onset of the first sleep epoch - N min, onset of the last sleep
        epoch + N min], where sleep is any stage other than ``"WAKE"`` and unscored. Needs a
        hypnogram. None keeps everything. On Sleep-EDF SC4001 with N = 30 this keeps 60
        wake epochs before sleep onset and 59 after the last sleep epoch: the 840 epochs
        used as a reference in the literature (MNE's sleep tutorial crops its annotations
        at the end of the last sleep epoch + 30 min instead, and gets 841).
    recording_id : str, optional
        Value of ``groups``; defaults to the PSG file's stem.
    drop_unscored : bool
        Drop epochs scored :data:`UNSCORED` (``?``, movement time) or not covered by the
        hypnogram; ``onsets`` shows the gaps. When False they stay with ``y == "UNSCORED"``.

    Returns
    -------
    EpochData
        ``X`` in volts (float32), ``onsets`` in seconds from the PSG's header start time
        (true times, also across the gaps of an EDF+D file), and ``info``
        with the file names, ``orig_sfreq``, the ``channels`` mapping and counts.

    Raises
    ------
    ValueError
        Missing, corrupt or truncated file; a missing channel (listing those available);
        unknown annotation descriptions; a hypnogram that is not aligned to the epochs or
        does not overlap the recording; a non-integral number of samples per epoch.

    Notes
    -----
    A discontinuous EDF+ file (``EDF+D``) is read with its gaps: the onset of each data
    record comes from its time-keeping annotation, epochs lie on one grid of true times
    and never straddle a gap (partial epochs at the edges of a gap are left out), and
    ``onsets`` are true times. MNE itself reads such files as if the records were contiguous.

    When an EDF holds channels at different rates, MNE upsamples the slower ones to the
    fastest picked rate on reading; Sleep-EDF's ``EMG submental`` (a 1 Hz envelope) thus
    arrives at 100 Hz. Only the span of the kept epochs (plus a 60-s margin that absorbs
    edge effects) is read from the file.

    Examples
    --------
    >>> data = read_edf("SC4001E0-PSG.edf", "SC4001EC-Hypnogram.edf",
    ...                 channels={"EEG Fpz-Cz": "eeg", "EMG submental": "emg"},
    ...                 keep_wake_minutes=30)  # doctest: +SKIP
    >>> data.X.shape  # doctest: +SKIP
    (840, 2, 3000)
    """
    plan = _plan_edf(
        psg_path,
        hypnogram_path,
        channels=channels,
        epoch_length=epoch_length,
        resample=resample,
        label_mapping=label_mapping,
        keep_wake_minutes=keep_wake_minutes,
        recording_id=recording_id,
        drop_unscored=drop_unscored,
    )
    X = _read_epochs(plan, 0, plan.n_epochs)
    check_finite(X, what=f"The signal of {plan.path.name}")
    return _epoch_data(plan, X, 0, plan.n_epochs)
