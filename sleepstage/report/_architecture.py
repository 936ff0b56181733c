"""Sleep architecture per time bin: minutes, percentages, bouts and transitions.

What every sleep study reports from a hypnogram, hour by hour (or per any bin length), for
one label sequence at a time, scored or predicted. The definitions, shared with
:func:`sleepstage.report.architecture_summary`:

- an *epoch* belongs to the bin (and phase) in which it starts;
- a *bout* is a maximal run of consecutive epochs of one stage (see
  :func:`sleepstage.metrics.stage_bouts`); an unscored epoch ends it, and so does a gap in
  the onsets (a missing stretch of recording). With ``min_bout`` > 1, shorter runs are first
  merged into their surroundings (:func:`sleepstage.metrics.merge_short_bouts`). A bout is
  counted in the bin where it starts, and its duration is its whole length even when it
  runs on into later bins;
- a *transition* is a change of stage between two consecutive epochs, both scored and with
  no gap between them; it is counted in the bin of the epoch where the new stage starts.

Bins are aligned to the recording's start, or, when the clock time of the start and the
time lights go on are known, to the clock (bin edges at lights-on plus whole multiples of
the bin length, so hourly bins are zeitgeber hours and the first bin may be partial).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._internal.validation import check_positive
from ..metrics import merge_short_bouts, stage_bouts
from ._plots import _TABLE_ORDER, _stage_order

__all__ = ["UNSCORED", "EpochTable", "architecture", "bin_table", "epoch_table", "parse_lights_on",
           "stage_columns"]

#: Label of epochs without a stage (as :data:`sleepstage.data.UNSCORED`).
UNSCORED = "UNSCORED"
#: Per-stage columns of the bin table, in order.
_PER_STAGE = ("minutes", "percent", "bouts", "mean_bout_s")


def stage_columns(labels: Sequence[Any]) -> list[str]:
    """Per-stage column names of :func:`architecture`, e.g. ``minutes_WAKE``."""
    return [f"{what}_{stage}" for stage in labels for what in _PER_STAGE]


def parse_lights_on(value: Any) -> _dt.time:
    """``"HH:MM"`` (or a :class:`datetime.time`) as a time of day.

    Raises
    ------
    ValueError
        If ``value`` is not a 24-hour clock time such as ``"07:00"``.
    """
    if isinstance(value, _dt.time):
        return value
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", str(value))
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"Invalid value for lights_on: expected a 24-hour clock time HH:MM "
                         f"such as 07:00, but got {value!r}.")
    return _dt.time(int(match[1]), int(match[2]))


def _parse_start(value: Any) -> pd.Timestamp:
    try:
        start = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"Invalid value for start: expected an ISO date and time such as "
                         f"2024-03-01T07:00:00, but got {value!r}.") from exc
    if pd.isna(start):
        raise ValueError(f"Invalid value for start: got {value!r}.")
    return start


@dataclass
class EpochTable:
    """Every epoch of one hypnogram with its bin and phase, and its bouts.

    Attributes
    ----------
    epochs : pandas.DataFrame
        One row per epoch: ``onset`` (s), ``stage`` (after ``min_bout`` merging),
        ``segment`` (contiguous stretch without gaps), ``bin`` (index), ``phase``
        (``light``/``dark``, or None without a clock).
    bouts : pandas.DataFrame
        One row per bout: ``stage``, ``first_epoch``, ``n_epochs``, ``duration`` (s),
        ``onset`` (s), ``bin``, ``phase``, ``scored``, ``transition`` (it starts right after
        a scored epoch of another stage), ``previous`` (that stage, or None).
    bins : pandas.DataFrame
        One row per bin holding epochs: ``bin``, ``bin_start`` (s from the start of the
        recording; negative for a partial first bin aligned to the clock), ``clock_time``
        and ``zt`` (hours since the last lights-on at or before the start; with a clock).
    labels : list
        Stages reported, in order.
    epoch_length : float
    min_bout : int
        Shortest bout kept (epochs); shorter runs were merged.
    """

    epochs: pd.DataFrame
    bouts: pd.DataFrame
    bins: pd.DataFrame
    labels: list
    epoch_length: float
    min_bout: int = 1


def epoch_table(
    stages: Sequence[Any],
    epoch_length: float,
    *,
    onsets: Sequence[float] | None = None,
    bin_minutes: float = 60.0,
    start: Any = None,
    lights_on: Any = None,
    light_hours: float = 12.0,
    min_bout: int = 1,
    labels: Sequence[Any] | None = None,
) -> EpochTable:
    """Validate a hypnogram and attach bins, phases and bouts (see :func:`architecture`)."""
    epoch_length = check_positive("epoch_length", epoch_length)
    bin_seconds = check_positive("bin_minutes", bin_minutes) * 60.0
    if bin_seconds < epoch_length:
        raise ValueError(f"The bin ({bin_minutes:g} min = {bin_seconds:g} s) is shorter than "
                         f"one epoch ({epoch_length:g} s); choose bins of at least one epoch.")
    light_seconds = check_positive("light_hours", light_hours) * 3600.0
    if light_seconds >= 86400.0:
        raise ValueError(f"The 'light_hours' parameter must be below 24, got {light_hours!r}.")
    stages = np.asarray(stages.to_numpy() if hasattr(stages, "to_numpy") else stages,
                        dtype=object)
    if stages.ndim != 1 or stages.size == 0:
        raise ValueError(f"stages must be a non-empty 1-D sequence (one stage per epoch), got "
                         f"shape {stages.shape}.")
    missing = pd.isna(stages)
    if missing.any():
        raise ValueError(f"{int(missing.sum())} epoch(s) have no stage (first at epoch "
                         f"{int(np.flatnonzero(missing)[0])}); mark unscored epochs "
                         f"{UNSCORED!r}.")
    if labels is None:
        # stages is an object array, which _stage_order keeps as is (ints stay ints)
        labels = [s for s in _stage_order(stages, _TABLE_ORDER) if s != UNSCORED]
    else:
        labels = [s for s in labels if s != UNSCORED]
        unknown = sorted({str(s) for s in stages.tolist()} - {str(s) for s in labels}
                         - {UNSCORED})
        if unknown:
            raise ValueError(f"Unknown stage(s) {unknown}: expected one of {list(labels)} or "
                             f"{UNSCORED!r}.")
    if onsets is None:
        onsets = np.arange(stages.size) * epoch_length
    else:
        onsets = np.asarray(onsets, dtype=float)
        if onsets.shape != stages.shape:
            raise ValueError(f"onsets has {onsets.size} values for {stages.size} epochs.")
        if not np.isfinite(onsets).all():
            raise ValueError("onsets hold missing or infinite values.")
        step = np.diff(onsets)
        bad = np.flatnonzero(step < epoch_length - 1e-6 * epoch_length)
        if bad.size:
            k = int(bad[0])
            raise ValueError(
                f"Epochs out of order or overlapping: epoch {k + 1} starts at {onsets[k + 1]:g} "
                f"s, less than one epoch ({epoch_length:g} s) after epoch {k} at "
                f"{onsets[k]:g} s. Sort the hypnogram by onset and check the epoch length.")
    gap = np.r_[False, ~np.isclose(np.diff(onsets), epoch_length)]
    segment = np.cumsum(gap)
    merged = merge_short_bouts(stages, min_bout, groups=segment, unscored=UNSCORED)

    origin = 0.0  # bin edges at origin + k * bin_seconds (in onset seconds)
    phase = None
    if lights_on is not None and start is None:
        raise ValueError("lights_on needs the clock time of the start (start=...) to tell "
                         "light from dark.")
    if start is not None:
        start = _parse_start(start)
        if lights_on is not None:
            on = parse_lights_on(lights_on)
            first_on = start.normalize() + pd.Timedelta(hours=on.hour, minutes=on.minute)
            if first_on > start:
                first_on -= pd.Timedelta(days=1)
            since_on = (start - first_on).total_seconds()  # >= 0, < 1 day
            origin = -(since_on % bin_seconds)
            day = ((onsets + since_on) % 86400.0)
            phase = np.where(day < light_seconds, "light", "dark")
    bin_index = np.floor((onsets - origin) / bin_seconds + 1e-9).astype(int)
    epochs = pd.DataFrame({"onset": onsets, "stage": merged, "segment": segment,
                           "bin": bin_index, "phase": phase})

    bouts = stage_bouts(merged, segment, epoch_length=epoch_length)
    first = bouts["first_epoch"].to_numpy()
    bouts["onset"] = onsets[first]
    bouts["bin"] = bin_index[first]
    bouts["phase"] = None if phase is None else phase[first]
    bouts["scored"] = bouts["stage"] != UNSCORED
    previous = bouts["stage"].shift(1).where(bouts["recording"].eq(
        bouts["recording"].shift(1)))
    bouts["previous"] = previous.where(previous.ne(UNSCORED) & previous.notna(), None)
    bouts["transition"] = bouts["scored"] & bouts["previous"].notna()
    bouts = bouts.drop(columns="recording")

    used = np.unique(bin_index)
    bins = pd.DataFrame({"bin": used, "bin_start": origin + used * bin_seconds})
    if start is not None:
        bins["clock_time"] = start + pd.to_timedelta(bins["bin_start"], unit="s")
        if lights_on is not None:
            bins["zt"] = (bins["bin_start"] + since_on) / 3600.0
            bin_phase = epochs.groupby("bin")["phase"].agg(
                lambda p: p.iloc[0] if (p == p.iloc[0]).all() else "mixed")
            bins["phase"] = bin_phase.reindex(used).to_numpy()
    return EpochTable(epochs, bouts, bins, list(labels), epoch_length, int(min_bout))


def architecture(
    stages: Sequence[Any],
    epoch_length: float,
    *,
    onsets: Sequence[float] | None = None,
    recording: Any = None,
    bin_minutes: float = 60.0,
    start: Any = None,
    lights_on: Any = None,
    light_hours: float = 12.0,
    min_bout: int = 1,
    labels: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """Sleep architecture of one hypnogram per time bin.

    Parameters
    ----------
    stages : array-like of shape (n_epochs,)
        Stage of each epoch in time order, scored or predicted; ``"UNSCORED"`` marks epochs
        without a stage (they count in no stage, end bouts and break transitions).
    epoch_length : float
        Epoch duration in seconds (4 for the rodent recordings, 30 for human PSG).
    onsets : array-like of shape (n_epochs,), optional
        Onset of each epoch in seconds from the start of the recording, strictly increasing
        by at least one epoch; a larger step is a gap (no epoch; bouts end there).
        Default ``index * epoch_length``.
    recording : optional
        Recording name, written in a first ``recording`` column when given.
    bin_minutes : float, default 60
        Bin length in minutes; at least one epoch.
    start : datetime-like or str, optional
        Clock time of the recording's start (onset 0), e.g. ``"2024-03-01T07:00"``; adds
        ``clock_time``.
    lights_on : str or datetime.time, optional
        Time lights go on, ``"HH:MM"``; with ``start``, adds ``zt`` and ``phase`` and
        aligns the bins to the clock (see the module docstring).
    light_hours : float, default 12
        Length of the light phase in hours; the dark phase is the rest of the 24 h.
    min_bout : int, default 1
        Shortest bout in epochs; shorter runs are merged into their surroundings first
        (:func:`sleepstage.metrics.merge_short_bouts`). 1 merges nothing.
    labels : sequence, optional
        Stages to report, in order. A stage in ``stages`` outside ``labels`` (other than
        ``"UNSCORED"``) is an error. Default: the stages present, WAKE, N1, N2, N3, NREM, REM
        first.

    Returns
    -------
    pandas.DataFrame
        One row per bin that holds at least one epoch, in time order, with columns
        ``recording`` (with ``recording``), ``bin_start`` (s from the start; the nominal
        start of the bin, negative for a partial first bin aligned to the clock),
        ``clock_time`` (with ``start``), ``zt`` (hours since the last lights-on at or
        before the start) and ``phase`` (``light``, ``dark``, or ``mixed`` for a bin that
        spans both; with ``start`` and ``lights_on``), ``recorded_minutes`` (minutes of
        epochs in the bin), ``unscored_minutes``, then for each stage ``minutes_<STAGE>``
        (time in the stage), ``percent_<STAGE>`` (of the scored time of the bin; NaN when
        none), ``bouts_<STAGE>`` (bouts starting in the bin) and ``mean_bout_s_<STAGE>``
        (their mean whole duration in seconds; NaN without bouts), and ``transitions``
        (stage changes between consecutive scored epochs, counted in the bin of the epoch
        where the new stage starts).

    Raises
    ------
    ValueError
        For an unknown stage, a missing stage, onsets out of order or overlapping, a bin
        shorter than one epoch, a bad ``start`` or ``lights_on``, or ``lights_on`` without
        ``start``.

    Examples
    --------
    >>> table = architecture(["WAKE"] * 3 + ["NREM"] * 4 + ["WAKE"], 900, bin_minutes=60)
    >>> table[["bin_start", "minutes_WAKE", "bouts_NREM", "mean_bout_s_NREM"]].values.tolist()
    [[0.0, 45.0, 1.0, 3600.0], [3600.0, 15.0, 0.0, nan]]
    """
    table = epoch_table(stages, epoch_length, onsets=onsets, bin_minutes=bin_minutes,
                        start=start, lights_on=lights_on, light_hours=light_hours,
                        min_bout=min_bout, labels=labels)
    return bin_table(table, recording=recording)


def bin_table(table: EpochTable, *, recording: Any = None) -> pd.DataFrame:
    """Aggregate an :class:`EpochTable` per bin (the table :func:`architecture` returns)."""
    epochs, bouts, labels = table.epochs, table.bouts, table.labels
    minute = table.epoch_length / 60.0
    bins = table.bins.set_index("bin")
    counts = pd.crosstab(epochs["bin"], epochs["stage"]).reindex(
        index=bins.index, columns=[*labels, UNSCORED], fill_value=0)
    out = bins.copy()
    out["recorded_minutes"] = counts.sum(axis=1) * minute
    out["unscored_minutes"] = counts[UNSCORED] * minute
    scored = (counts[labels].sum(axis=1) * minute).replace(0.0, np.nan)
    stats = bouts[bouts["scored"]].groupby(["bin", "stage"])["duration"].agg(["count", "mean"])
    for stage in labels:
        out[f"minutes_{stage}"] = counts[stage] * minute
        out[f"percent_{stage}"] = 100.0 * out[f"minutes_{stage}"] / scored
        mine = stats.xs(stage, level="stage") if stage in stats.index.get_level_values(
            "stage") else pd.DataFrame(columns=["count", "mean"], dtype=float)
        out[f"bouts_{stage}"] = mine["count"].reindex(bins.index).fillna(0).astype(int)
        out[f"mean_bout_s_{stage}"] = mine["mean"].reindex(bins.index).astype(float)
    out["transitions"] = (bouts[bouts["transition"]].groupby("bin").size()
                          .reindex(bins.index, fill_value=0).astype(int))
    out = out.reset_index(drop=True)
    if recording is not None:
        out.insert(0, "recording", recording)
    return out
