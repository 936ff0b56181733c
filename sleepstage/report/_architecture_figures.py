"""Figures of sleep architecture: one recording's overview and the comparison of groups.

Like every figure of :mod:`sleepstage.report`, each function builds a
:class:`matplotlib.figure.Figure` without ``pyplot`` state, returns it and, with ``path``,
saves it atomically. The hypnogram panel is drawn by :func:`sleepstage.report.hypnogram`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._architecture import EpochTable, bin_table, epoch_table
from ._plots import _color, _finish, hypnogram
from ._summary import bout_length_edges

__all__ = ["architecture_figure", "group_figure"]

_DARK = {"color": "0.55", "alpha": 0.18, "linewidth": 0, "zorder": 0}


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open index ranges of the True runs of ``mask``."""
    edges = np.diff(np.r_[0, mask.astype(int), 0])
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def _clock_formatter(ax, clock: bool) -> None:
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    span = np.diff(ax.get_xlim())[0]
    step = next((s for s in (0.25, 0.5, 1, 2, 3, 4, 6, 12) if span / s <= 12), 24)
    ax.xaxis.set_major_locator(MultipleLocator(step))
    if clock:
        ax.xaxis.set_major_formatter(FuncFormatter(
            lambda x, _: f"{round(x * 60) // 60 % 24:02d}:{round(x * 60) % 60:02d}"))


def architecture_figure(
    stages: Sequence[Any] | EpochTable,
    epoch_length: float | None = None,
    *,
    onsets: Sequence[float] | None = None,
    bin_minutes: float = 60.0,
    start: Any = None,
    lights_on: Any = None,
    light_hours: float = 12.0,
    min_bout: int = 1,
    labels: Sequence[Any] | None = None,
    spectra: pd.DataFrame | None = None,
    title: str | None = None,
    path: str | os.PathLike | None = None,
    force: bool = False,
):
    """Overview of one hypnogram: the hypnogram, stage amounts per bin, bout lengths.

    Top, the hypnogram on clock time (hours since the start without ``start``), with the
    dark phase shaded grey when ``start`` and ``lights_on`` are given; middle, minutes of
    each stage per bin (stacked bars); bottom, one panel per stage with the number of bouts
    in doubling length bins (seconds); with ``spectra``, a last row with one panel per
    channel: the relative power spectrum of each stage (solid: light phase, dashed: dark
    phase; the whole recording without phases). Bouts and bins are those of
    :func:`sleepstage.report.architecture` (after ``min_bout`` merging).

    Parameters
    ----------
    stages : array-like of shape (n_epochs,), or an EpochTable
        Stages in time order (``"UNSCORED"`` allowed), scored or predicted. An
        :class:`~sleepstage.report._architecture.EpochTable` is drawn as it is (the other
        parameters but ``title``, ``path`` and ``force`` are then ignored).
    epoch_length, onsets, bin_minutes, start, lights_on, light_hours, min_bout, labels
        As in :func:`sleepstage.report.architecture`.
    spectra : pandas.DataFrame, optional
        Output of :func:`sleepstage.report.stage_power_spectra` for this recording.
    title : str, optional
        Figure title (e.g. the recording's name and where its stages come from).
    path : path-like, optional
        Also save the figure here.
    force : bool
        Overwrite an existing ``path``.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = architecture_figure(["WAKE"] * 900 + ["NREM"] * 800 + ["REM"] * 100, 4.0)
    >>> len(fig.axes)
    5
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    if isinstance(stages, EpochTable):
        table = stages
    else:
        if epoch_length is None:
            raise ValueError("architecture_figure needs epoch_length (seconds).")
        table = epoch_table(stages, epoch_length, onsets=onsets, bin_minutes=bin_minutes,
                            start=start, lights_on=lights_on, light_hours=light_hours,
                            min_bout=min_bout, labels=labels)
    bins = bin_table(table)
    epochs, labels = table.epochs, table.labels
    length = table.epoch_length
    clock = "clock_time" in bins.columns
    # x axis in hours: of the day of the start (clock), else since the start
    offset = 0.0
    if clock:
        first = pd.Timestamp(bins["clock_time"].iloc[0]) - pd.to_timedelta(
            bins["bin_start"].iloc[0], unit="s")
        offset = (first - first.normalize()).total_seconds()
    onset = epochs["onset"].to_numpy()
    hours = (onset + offset) / 3600.0
    x0, x1 = hours[0], hours[-1] + length / 3600.0

    n_stage = max(len(labels), 1)
    channels = [] if spectra is None else list(dict.fromkeys(spectra["channel"]))
    ratios = (1.1, 1.1, 1.0, 1.1) if channels else (1.1, 1.1, 1.0)
    fig = Figure(figsize=(11, 8.2 + 2.8 * bool(channels)), layout="constrained")
    grid = fig.add_gridspec(len(ratios), 1, height_ratios=ratios)
    ax_h = fig.add_subplot(grid[0])
    ax_m = fig.add_subplot(grid[1], sharex=ax_h)
    bottom_row = grid[2].subgridspec(1, n_stage)
    ax_b = [fig.add_subplot(bottom_row[0, i]) for i in range(n_stage)]

    # hypnogram: drawn by the shared function on onsets shifted to the x axis (s), then
    # rescaled to hours whatever unit it chose
    hypnogram(true=epochs["stage"].to_numpy(), epoch_length=length,
              onsets=onset + offset, ax=ax_h)
    legend = ax_h.get_legend()
    if legend is not None:
        legend.remove()
    for line in ax_h.get_lines():
        x = line.get_xdata()
        scale = (x[-1] - x[0]) / max(x1 - x0, 1e-12)
        line.set_xdata(np.asarray(x) / scale)
    ax_h.set_xlim(x0, x1)
    ax_h.set_xlabel("")
    merged = _min_bout_text(table)
    ax_h.set_title("hypnogram" + (f" (bouts shorter than {merged} merged)" if merged else ""),
                   loc="left", fontsize="medium")

    # stage amounts per bin (stacked bars)
    width = (bins["bin_start"].diff().min() if len(bins) > 1 else
             bins["recorded_minutes"].iloc[0] * 60.0)
    left = (bins["bin_start"].to_numpy() + offset) / 3600.0
    bottom = np.zeros(len(bins))
    for i, stage in enumerate(labels):
        values = bins[f"minutes_{stage}"].to_numpy(float)
        ax_m.bar(left, values, width=width / 3600.0 * 0.92, bottom=bottom, align="edge",
                 color=_color(stage, i), label=str(stage))
        bottom += values
    ax_m.set_ylabel(f"minutes per {width / 60:g}-min bin")
    ax_m.set_ylim(0, width / 60.0 * 1.02)  # the whole bin: recordings compare at a glance
    if labels:
        ax_m.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small",
                    frameon=False)
    if not bottom.any():  # nothing scored in this recording (the stages are the report's)
        ax_m.text(0.5, 0.5, "no scored epoch", transform=ax_m.transAxes, ha="center",
                  va="center")
    ax_m.set_xlabel("clock time (h)" if clock else "time since start (h)")
    ax_m.set_xlim(x0, x1)

    # dark phase
    if epochs["phase"].notna().all():
        for a, b in _runs((epochs["phase"] == "dark").to_numpy()):
            for ax in (ax_h, ax_m):
                ax.axvspan(hours[a], hours[b - 1] + length / 3600.0, **_DARK)
        from matplotlib.patches import Patch

        handles, names = ax_m.get_legend_handles_labels()
        patch = Patch(color=_DARK["color"], alpha=_DARK["alpha"])
        ax_m.legend([*handles, patch],
                    [*names, "dark phase"], loc="upper left", bbox_to_anchor=(1.0, 1.0),
                    fontsize="small", frameon=False)
    _clock_formatter(ax_m, clock)

    # bout-length distributions
    bouts = table.bouts[table.bouts["scored"]]
    edges = bout_length_edges(int(bouts["n_epochs"].max()) if len(bouts) else 1)
    names = [f"{lo * length:g}" for lo in edges[:-1]]
    for i, (ax, stage) in enumerate(zip(ax_b, labels, strict=False)):
        counts, _ = np.histogram(bouts.loc[bouts["stage"] == stage, "n_epochs"], bins=edges)
        ax.bar(np.arange(len(counts)), counts, color=_color(stage, i), width=0.85)
        ax.set_xticks(np.arange(len(counts)), names, rotation=90, fontsize="x-small")
        ax.set_title(f"{stage} bouts (n={int(counts.sum())})", fontsize="medium")
        ax.set_xlabel("bout length (s), lower edge of doubling bins", fontsize="small")
        ax.set_ylim(0, max(1, int(counts.max())) * 1.05)  # counts: from 0, whole numbers
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax_b[0].set_ylabel("number of bouts")
    if channels:
        _draw_spectra(fig, grid[3], spectra, channels, labels)
    if title:
        fig.suptitle(title)
    return _finish(fig, path, force)


def _draw_spectra(fig, cell, spectra: pd.DataFrame, channels: list, labels: list) -> None:
    """One panel per channel: relative power of each stage, light solid and dark dashed."""
    row = cell.subgridspec(1, len(channels))
    phases = [p for p in ("light", "dark") if p in set(spectra["phase"])] or ["all"]
    style = {"light": "-", "dark": "--", "all": "-"}
    axes = []
    for k, channel in enumerate(channels):
        ax = fig.add_subplot(row[0, k], sharey=axes[0] if axes else None)
        axes.append(ax)
        mine = spectra[spectra["channel"] == channel]
        for i, stage in enumerate(labels):
            for phase in phases:
                part = mine[(mine["stage"] == stage) & (mine["phase"] == phase)]
                if part.empty:
                    continue
                name = stage if phase == "all" else f"{stage}, {phase}"
                ax.plot(part["frequency"], part["relative_power"], style[phase],
                        color=_color(stage, i), linewidth=1.1, label=name)
        ax.set_yscale("log")
        ax.set_title(f"{channel} spectrum", fontsize="medium")
        ax.set_xlabel("frequency (Hz)")
    axes[0].set_ylabel("power / recording's total (1/Hz)")
    axes[-1].legend(fontsize="x-small", frameon=False, loc="upper left",
                    bbox_to_anchor=(1.0, 1.0))


def _min_bout_text(table: EpochTable) -> str:
    return f"{table.min_bout} epochs" if table.min_bout > 1 else ""


def group_figure(
    groups: pd.DataFrame,
    labels: Sequence[Any],
    *,
    what: str = "minutes",
    light_hours: float = 12.0,
    title: str | None = None,
    path: str | os.PathLike | None = None,
    force: bool = False,
):
    """Mean and standard deviation per bin of each group, one panel per stage.

    Parameters
    ----------
    groups : pandas.DataFrame
        Output of :func:`sleepstage.report.group_table`.
    labels : sequence
        Stages to show, one panel each.
    what : {"minutes", "percent", "bouts", "mean_bout_s"}
        The per-bin quantity.
    light_hours : float, default 12
        Light-phase length; with zeitgeber hours (``zt``) the dark phase is shaded.
    title : str, optional
    path : path-like, optional
        Also save the figure here.
    force : bool
        Overwrite an existing ``path``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    from .._internal.validation import check_option

    check_option("what", what, ("minutes", "percent", "bouts", "mean_bout_s"))
    zt = "zt" in groups.columns
    key = "zt" if zt else "bin_start"
    fig = Figure(figsize=(3.8 * len(labels), 3.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(labels), sharex=True))
    unit = {"minutes": "minutes per bin", "percent": "% of scored time",
            "bouts": "bouts per bin", "mean_bout_s": "mean bout duration (s)"}[what]
    for ax, stage in zip(axes, labels, strict=True):
        for i, (name, part) in enumerate(groups.groupby("group", sort=False)):
            x = part[key].to_numpy(float) / (1.0 if zt else 3600.0)
            mean = part[f"{what}_{stage}_mean"].to_numpy(float)
            sd = part[f"{what}_{stage}_sd"].to_numpy(float)
            n = int(part["n"].max())
            ax.plot(x, mean, marker="o", markersize=3, color=f"C{i}", label=f"{name} (n={n})")
            ax.fill_between(x, mean - sd, mean + sd, color=f"C{i}", alpha=0.2, linewidth=0)
        if zt:
            lo, hi = ax.get_xlim()
            day = np.floor(lo / 24.0) * 24.0
            while day < hi:
                ax.axvspan(day + light_hours, day + 24.0, **_DARK)
                day += 24.0
            ax.set_xlim(lo, hi)
        ax.set_title(str(stage))
        ax.set_xlabel("start of bin, zeitgeber time (h)" if zt
                      else "start of bin, time since start (h)")
    axes[0].set_ylabel(f"{unit}, mean ± SD")
    axes[-1].legend(fontsize="small", frameon=False, loc="upper left",
                    bbox_to_anchor=(1.0, 1.0))
    if title:
        fig.suptitle(title)
    return _finish(fig, path, force)
