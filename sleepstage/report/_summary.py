"""Sleep architecture per recording and phase, and the comparison of groups per bin.

:func:`architecture_summary` gives the totals a sleep paper reports for a whole recording
and for its light and dark phases; :func:`group_table` gives the mean and spread of the
per-bin table of several recordings per group. Definitions of epochs, bouts, bins and
transitions are those of :func:`sleepstage.report.architecture`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._internal.validation import check_positive
from ._architecture import UNSCORED, EpochTable, epoch_table

__all__ = ["architecture_summary", "bout_length_edges", "group_table", "summarize"]


def bout_length_edges(max_epochs: int) -> np.ndarray:
    """Doubling bout-length bins in epochs, ``[1, 2, 4, ...]``, covering ``max_epochs``.

    Bin ``k`` holds the bouts of ``edges[k] <= n_epochs < edges[k + 1]`` epochs.

    Examples
    --------
    >>> bout_length_edges(5).tolist()
    [1, 2, 4, 8]
    """
    n = max(1, math.ceil(math.log2(max(int(max_epochs), 1) + 1)))
    return 2 ** np.arange(n + 1)


def architecture_summary(
    stages: Sequence[Any],
    epoch_length: float,
    *,
    onsets: Sequence[float] | None = None,
    recording: Any = None,
    start: Any = None,
    lights_on: Any = None,
    light_hours: float = 12.0,
    min_bout: int = 1,
    labels: Sequence[Any] | None = None,
    wake: Any = "WAKE",
    latency_min_seconds: float = 60.0,
    brief_arousal_max: float = 16.0,
) -> pd.DataFrame:
    """Sleep architecture of one hypnogram, whole and per light/dark phase.

    Epochs, bouts (after ``min_bout`` merging) and transitions are defined as in
    :func:`sleepstage.report.architecture`; a bout belongs to the phase in which it starts.
    *Sleep* is every scored stage other than ``wake``.

    Parameters
    ----------
    stages, epoch_length, onsets, recording, start, lights_on, light_hours, min_bout, labels
        As in :func:`sleepstage.report.architecture`.
    wake : default "WAKE"
        The wake stage.
    latency_min_seconds : float, default 60
        A latency is measured to the first bout of a stage lasting at least
        ``N = ceil(latency_min_seconds / epoch_length)`` epochs (and at least 1): N = 15 for
        4-s epochs, N = 2 for 30-s epochs. Use ``epoch_length`` for the first epoch.
    brief_arousal_max : float, default 16
        Longest brief arousal in seconds.

    Returns
    -------
    pandas.DataFrame
        One row per phase: ``all``, then ``light`` and ``dark`` when ``start`` and
        ``lights_on`` are given. Columns: ``recording`` (when given), ``phase``,
        ``recorded_minutes``, ``unscored_minutes``, ``sleep_minutes``; for each stage
        ``minutes_<S>``, ``percent_<S>`` (of the scored time), ``bouts_<S>``,
        ``mean_bout_s_<S>`` (NaN without bouts), ``bouts_per_hour_<S>`` (per hour of
        scored time); for each sleep stage ``latency_min_<S>``: minutes from the onset of
        the phase's first epoch (the recording's start for ``all``) to the onset of the
        first bout of at least N epochs of that stage starting in the phase (NaN when there
        is none); ``transitions`` and ``transitions_per_hour`` (per hour of scored time);
        for each ordered pair of distinct stages ``transitions_<A>_to_<B>`` (count) and
        ``p_<A>_to_<B>``, the fraction of the bouts of A that end in a scored epoch of
        another stage which end in B (each row of these sums to 1; NaN when no A bout
        ends so); ``brief_arousals``: bouts of ``wake`` of at most ``brief_arousal_max``
        seconds inside sleep (preceded and followed, without a gap, by a sleep epoch);
        ``brief_arousals_per_hour_sleep``; ``fragmentation_index``: transitions from a
        sleep stage to ``wake`` per hour of sleep (brief arousals included); and the
        bout-length histogram, ``bouts_<S>_<a>-<b>s``: the number of bouts of S lasting at
        least a and less than b seconds, on doubling bins (1, 2, 3-4, 5-8, ... epochs).

    Examples
    --------
    >>> y = ["WAKE"] * 20 + ["NREM"] * 30 + ["WAKE"] * 2 + ["NREM"] * 20 + ["REM"] * 15
    >>> row = architecture_summary(y, 4.0).iloc[0].to_dict()
    >>> row["brief_arousals"], round(row["latency_min_NREM"], 3), row["latency_min_REM"]
    (1, 1.333, 4.8)
    >>> row["p_NREM_to_WAKE"], row["p_NREM_to_REM"]
    (0.5, 0.5)
    """
    table = epoch_table(stages, epoch_length, onsets=onsets, start=start,
                        lights_on=lights_on, light_hours=light_hours, min_bout=min_bout,
                        labels=labels)
    return summarize(table, recording=recording, wake=wake,
                     latency_min_seconds=latency_min_seconds,
                     brief_arousal_max=brief_arousal_max)


def summarize(
    table: EpochTable,
    *,
    recording: Any = None,
    wake: Any = "WAKE",
    latency_min_seconds: float = 60.0,
    brief_arousal_max: float = 16.0,
) -> pd.DataFrame:
    """The rows of :func:`architecture_summary` from an :class:`EpochTable`."""
    latency_min_seconds = check_positive("latency_min_seconds", latency_min_seconds)
    brief_arousal_max = check_positive("brief_arousal_max", brief_arousal_max)
    epochs, bouts, labels = table.epochs, table.bouts, table.labels
    length = table.epoch_length
    n_latency = max(1, math.ceil(latency_min_seconds / length - 1e-9))
    sleep = [s for s in labels if s != wake]
    # brief arousals: short wake bouts with a sleep bout right before and right after
    following = bouts["previous"].shift(-1)  # the bout after, when it follows without gap
    bouts = bouts.assign(
        brief=(bouts["stage"].eq(wake) & (bouts["duration"] <= brief_arousal_max + 1e-9)
               & bouts["previous"].isin(sleep) & following.notna()
               & bouts["stage"].shift(-1).isin(sleep)),
        to_wake=bouts["stage"].eq(wake) & bouts["previous"].isin(sleep),
    )
    edges = bout_length_edges(int(bouts["n_epochs"].max()))
    phases = {"all": np.ones(len(epochs), dtype=bool)}
    if epochs["phase"].notna().all():
        for name in ("light", "dark"):
            phases[name] = (epochs["phase"] == name).to_numpy()
    rows = []
    for name, mask in phases.items():
        part = epochs[mask]
        mine = bouts if name == "all" else bouts[bouts["phase"] == name]
        rows.append(_phase_row(name, part, mine, labels, sleep, length, n_latency, edges))
    out = pd.DataFrame(rows)
    if recording is not None:
        out.insert(0, "recording", recording)
    return out


def _phase_row(name, epochs, bouts, labels, sleep, length, n_latency, edges) -> dict:
    minute = length / 60.0
    counts = epochs["stage"].value_counts()
    scored_min = sum(int(counts.get(s, 0)) for s in labels) * minute
    sleep_min = sum(int(counts.get(s, 0)) for s in sleep) * minute
    row: dict[str, Any] = {
        "phase": name,
        "recorded_minutes": len(epochs) * minute,
        "unscored_minutes": int(counts.get(UNSCORED, 0)) * minute,
        "sleep_minutes": sleep_min,
    }
    scored_hours = scored_min / 60.0
    first_onset = float(epochs["onset"].iloc[0]) if len(epochs) else np.nan
    for stage in labels:
        own = bouts[bouts["stage"] == stage]
        minutes = int(counts.get(stage, 0)) * minute
        row[f"minutes_{stage}"] = minutes
        row[f"percent_{stage}"] = 100.0 * minutes / scored_min if scored_min else np.nan
        row[f"bouts_{stage}"] = len(own)
        row[f"mean_bout_s_{stage}"] = float(own["duration"].mean()) if len(own) else np.nan
        row[f"bouts_per_hour_{stage}"] = len(own) / scored_hours if scored_hours else np.nan
    for stage in sleep:
        long = bouts[(bouts["stage"] == stage) & (bouts["n_epochs"] >= n_latency)]
        row[f"latency_min_{stage}"] = ((float(long["onset"].iloc[0]) - first_onset) / 60.0
                                       if len(long) else np.nan)
    changes = bouts[bouts["transition"]]
    row["transitions"] = len(changes)
    row["transitions_per_hour"] = len(changes) / scored_hours if scored_hours else np.nan
    pairs = changes.groupby(["previous", "stage"]).size()
    for a in labels:
        out_of_a = int(pairs.xs(a, level="previous").sum()) if a in pairs.index.get_level_values(
            "previous") else 0
        for b in labels:
            if a == b:
                continue
            n = int(pairs.get((a, b), 0))
            row[f"transitions_{a}_to_{b}"] = n
            row[f"p_{a}_to_{b}"] = n / out_of_a if out_of_a else np.nan
    sleep_hours = sleep_min / 60.0
    row["brief_arousals"] = int(bouts["brief"].sum())
    row["brief_arousals_per_hour_sleep"] = (row["brief_arousals"] / sleep_hours if sleep_hours
                                            else np.nan)
    row["fragmentation_index"] = (int(bouts["to_wake"].sum()) / sleep_hours if sleep_hours
                                  else np.nan)
    for stage in labels:
        n_epochs = bouts.loc[bouts["stage"] == stage, "n_epochs"].to_numpy()
        hist, _ = np.histogram(n_epochs, bins=edges)
        for lo, hi, n in zip(edges[:-1], edges[1:], hist, strict=True):
            row[f"bouts_{stage}_{lo * length:g}-{hi * length:g}s"] = int(n)
    return row


def group_table(
    bins: pd.DataFrame, groups: Mapping[Any, Sequence[Any]], *, key: str | None = None
) -> pd.DataFrame:
    """Mean, standard deviation and count of the per-bin table of each group's recordings.

    Parameters
    ----------
    bins : pandas.DataFrame
        Per-bin tables of :func:`sleepstage.report.architecture` for several recordings,
        concatenated (with a ``recording`` column), computed with the same ``labels`` (a
        stage column missing for a recording would be left out of its mean, not counted 0).
    groups : mapping
        Group name -> recording names.
    key : str, optional
        Column that aligns bins across recordings: ``zt`` when present (zeitgeber hours),
        else ``bin_start``.

    Returns
    -------
    pandas.DataFrame
        One row per group and bin: ``group``, the key, ``n`` (recordings with that bin),
        then ``<column>_mean`` and ``<column>_sd`` (sample SD; NaN for one recording) for
        every ``minutes_``, ``percent_``, ``bouts_`` and ``mean_bout_s_`` column and for
        ``transitions``.

    Raises
    ------
    ValueError
        If a group names a recording absent from ``bins``, or one whose ``key`` is missing
        (NaN, e.g. no ``zt`` for a recording without a start while others have one).
    """
    if key is None:
        key = "zt" if "zt" in bins.columns else "bin_start"
    known = set(bins["recording"])
    values = [c for c in bins.columns
              if c.startswith(("minutes_", "percent_", "bouts_", "mean_bout_s_"))
              or c == "transitions"]
    parts = []
    for name, members in groups.items():
        missing = [m for m in members if m not in known]
        if missing:
            raise ValueError(f"Group {name!r} names recording(s) {missing} that are not among "
                             f"the hypnograms {sorted(known, key=str)}.")
        mine = bins[bins["recording"].isin(list(members))]
        unaligned = list(dict.fromkeys(mine.loc[mine[key].isna(), "recording"]))
        if unaligned:  # groupby would drop their bins: the group's n would be wrong
            raise ValueError(f"Group {name!r}: recording(s) {unaligned} have no {key!r} "
                             "(zt needs the recording's start and lights_on), so their bins "
                             "cannot be lined up with the others'; give every recording a "
                             "start, or pass key='bin_start'.")
        stats = mine.groupby(key)[values].agg(["mean", "std"])
        stats.columns = [f"{col}_{'sd' if what == 'std' else what}" for col, what in stats.columns]
        stats.insert(0, "n", mine.groupby(key).size())
        stats.insert(0, "group", name)
        stats = stats.reset_index()
        parts.append(stats[["group", key, *stats.columns.drop(["group", key])]])
    return pd.concat(parts, ignore_index=True)
