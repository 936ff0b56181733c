"""Figures for sleep staging: hypnograms, confusion matrices, importances, stage spectra.

Every function builds a :class:`matplotlib.figure.Figure` directly (no ``pyplot`` state, never
``show``), so it works headless, in scripts, in tests and in notebooks alike. Each returns the
Figure and, when ``path`` is given, also saves it atomically (see
:func:`sleepstage.io.save_figure`); an existing file is not overwritten without
``force=True``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._internal.validation import check_option, check_positive

__all__ = ["STAGE_COLORS", "confusion", "hypnogram", "importances", "stage_spectra"]

logger = logging.getLogger(__name__)

#: Vertical order of stages in a hypnogram, top to bottom (conventional clinical layout).
_DISPLAY_ORDER = ("WAKE", "REM", "N1", "NREM", "N2", "N3")
#: Order of stages in tables and matrices: wake, then sleep from light to deep, then REM.
_TABLE_ORDER = ("WAKE", "N1", "N2", "N3", "NREM", "REM")

#: One colour per stage name, shared by every figure.
STAGE_COLORS: dict[str, str] = {
    "WAKE": "#e6a817",
    "REM": "#d62728",
    "NREM": "#1f4e9c",
    "N1": "#7fb2e5",
    "N2": "#3b75c4",
    "N3": "#0b2a5b",
}


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------
def _new_axes(ax=None, *, nrows: int = 1, ncols: int = 1, figsize=None, **kwargs):
    """Return (figure, axes): ``ax`` and its figure, or a fresh pyplot-free Figure."""
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=True, **kwargs)
    return fig, axes


def _finish(fig, path, force: bool):
    if path is not None:
        from ..io import save_figure

        save_figure(fig, path, force=force)
    return fig


def _stage_order(labels: Sequence[Any], order: Sequence[str] = _DISPLAY_ORDER) -> list:
    """Known stage names in ``order`` first, then any others sorted."""
    present = list(dict.fromkeys(np.asarray(labels).tolist()))
    known = [s for s in order if s in present]
    others = sorted((s for s in present if s not in order), key=str)
    return known + others


def _default_nperseg(n_samples: int, sfreq: float) -> int:
    """Default Welch segment: 2 s, or the whole epoch if shorter."""
    return int(min(n_samples, round(2 * sfreq)))


def _welch_psd(X, sfreq: float, nperseg: int | None, fmax: float | None):
    """Welch PSD of epochs along the last axis, and the mask of frequencies up to ``fmax``.

    Hann windows of ``nperseg`` samples (:func:`_default_nperseg` when None), 50 % overlap;
    ``fmax`` defaults to the Nyquist frequency. Returns ``(freqs, psd, keep)``.
    """
    from scipy.signal import welch

    if nperseg is None:
        nperseg = _default_nperseg(X.shape[-1], sfreq)
    freqs, psd = welch(X, fs=sfreq, nperseg=int(nperseg), axis=-1)
    keep = freqs <= (sfreq / 2 if fmax is None else check_positive("fmax", fmax))
    return freqs, psd, keep


def _clock_axis(axis, start) -> str:
    """Clock-time ticks on a date axis; returns the axis label (naming the start date)."""
    import matplotlib.dates as mdates

    tz = start.tzinfo
    locator = mdates.AutoDateLocator(tz=tz, minticks=4, maxticks=12)
    formatter = mdates.ConciseDateFormatter(locator, tz=tz, show_offset=False)
    formatter.zero_formats = ["", "%Y", "%d %b", "%d %b", "%H:%M", "%H:%M"]
    axis.set_major_locator(locator)
    axis.set_major_formatter(formatter)
    # EDF headers hold local clock time (MNE tags it UTC): shown as is, without a zone name
    return f"clock time (recording started {start:%Y-%m-%d %H:%M})"


def _color(stage, index: int) -> str:
    if stage in STAGE_COLORS:
        return STAGE_COLORS[stage]
    return f"C{index % 10}"


def _as_labels(values, what: str) -> np.ndarray:
    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{what} must be 1-D (one stage per epoch), got shape {arr.shape}.")
    return arr


# ----------------------------------------------------------------------------------------------
# hypnogram
# ----------------------------------------------------------------------------------------------
def hypnogram(
    true=None,
    pred=None,
    proba=None,
    *,
    epoch_length: float = 4.0,
    classes: Sequence[Any] | None = None,
    onsets=None,
    start=None,
    artefacts=None,
    marked=None,
    title: str | None = None,
    ax=None,
    path: str | os.PathLike | None = None,
    force: bool = False,
):
    """Plot a hypnogram: scored stages, predicted stages overlaid, probabilities below.

    Stages are drawn as a step plot in the conventional order, wake at the top
    (WAKE, REM, N1/NREM, N2, N3); the prediction is overlaid on the scoring, and epochs where
    they disagree are shaded. Epochs flagged as artefacts are marked on a track of their own
    below the stages. Class probabilities, if given, appear as a stacked area in a second
    panel below. Legends sit to the right of the panels, never over the data.

    Parameters
    ----------
    true : array-like of shape (n_epochs,), optional
        Scored stages.
    pred : array-like of shape (n_epochs,), optional
        Predicted stages.
    proba : array-like of shape (n_epochs, n_classes) or pandas.DataFrame, optional
        Class probabilities. Columns follow ``classes`` (e.g. ``pipeline.classes_``); a
        DataFrame's column names are used as class names when ``classes`` is None.
    epoch_length : float
        Epoch duration in seconds (4 for the rodent task, 30 for human PSG).
    classes : sequence, optional
        All stage labels (sets the y axis and the ``proba`` column order). Defaults to the
        labels present in ``true`` and ``pred``.
    onsets : array-like of shape (n_epochs,), optional
        Epoch onsets in seconds; defaults to ``index * epoch_length``.
    start : datetime.datetime, optional
        Clock time of onset 0 (the recording's start). When given, the time axis shows
        clock time (``HH:MM``, the date at midnight) instead of hours since the start.
    artefacts : array-like of bool, shape (n_epochs,), optional
        Epochs flagged as artefacts (e.g. the ``artefact`` column of the table
        ``sleepstage predict`` writes), marked on an "artefact" track.
    marked : array-like of int, optional
        Epochs to point out (e.g. those to review, the ``epoch`` column of
        ``<id>_review.csv``), shown as purple triangles along the top of the stage panel.
    title : str, optional
        Figure title, e.g. naming the recording, the model and the data.
    ax : matplotlib Axes, optional
        Draw into this Axes (only without ``proba``, which needs a second panel).
    path : path-like, optional
        Also save the figure here (format from the suffix).
    force : bool
        Overwrite an existing ``path``.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = hypnogram(["WAKE", "NREM", "NREM", "REM"], ["WAKE", "NREM", "REM", "REM"])
    >>> len(fig.axes)
    1
    """
    epoch_length = check_positive("epoch_length", epoch_length)
    if true is None and pred is None and proba is None:
        raise ValueError("Nothing to plot: pass at least one of true, pred or proba.")
    series = {}
    if true is not None:
        series["scored"] = _as_labels(true, "true")
    if pred is not None:
        series["predicted"] = _as_labels(pred, "pred")
    proba_arr = None
    if proba is not None:
        if classes is None and hasattr(proba, "columns"):
            classes = list(proba.columns)
        proba_arr = np.asarray(proba, dtype=float)
        if proba_arr.ndim != 2:
            raise ValueError(f"proba must be 2-D (n_epochs, n_classes), got {proba_arr.shape}.")
        if classes is None:
            raise ValueError(
                "proba needs its class order: pass classes= (e.g. pipeline.classes_) or a "
                "DataFrame with one column per class."
            )
        if len(classes) != proba_arr.shape[1]:
            raise ValueError(
                f"proba has {proba_arr.shape[1]} columns but {len(classes)} classes were given."
            )
    lengths = {name: len(v) for name, v in series.items()}
    if proba_arr is not None:
        lengths["proba"] = proba_arr.shape[0]
    if len(set(lengths.values())) > 1:
        raise ValueError(f"true, pred and proba must have one row per epoch, got {lengths}.")
    n_epochs = next(iter(lengths.values()))
    if n_epochs == 0:
        raise ValueError("Nothing to plot: zero epochs.")
    flags = None
    if artefacts is not None:
        flags = np.asarray(artefacts)
        if flags.shape != (n_epochs,) or flags.dtype.kind not in "bui":
            raise ValueError(f"artefacts must hold one bool per epoch ({n_epochs},), got "
                             f"{flags.dtype} of shape {flags.shape}.")
        flags = flags.astype(bool)
    if start is not None:
        import datetime as _dt

        if not isinstance(start, _dt.datetime):
            raise TypeError(f"start must be a datetime.datetime, got {type(start).__name__}.")

    all_labels = np.concatenate([v for v in series.values()]) if series else np.array([])
    if classes is None:
        order = _stage_order(all_labels)
    else:
        order = _stage_order(list(classes))
        unknown = sorted({str(v) for v in all_labels.tolist()} - {str(c) for c in order})
        if unknown:
            raise ValueError(f"Unknown stage label(s) {unknown}; classes are {list(classes)}.")
    position = {str(stage): len(order) - 1 - i for i, stage in enumerate(order)}

    if onsets is None:
        seconds = np.arange(n_epochs + 1) * epoch_length
    else:
        onsets = np.asarray(onsets, dtype=float)
        if onsets.shape != (n_epochs,):
            raise ValueError(f"onsets has shape {onsets.shape}, expected ({n_epochs},).")
        seconds = np.append(onsets, onsets[-1] + epoch_length)
    in_hours = seconds[-1] - seconds[0] >= 2 * 3600
    if start is None:
        t = seconds / (3600.0 if in_hours else 60.0)
    else:  # matplotlib date numbers (days), so that the axis shows clock time
        import matplotlib.dates as mdates

        t = mdates.date2num(start) + seconds / 86400.0

    if proba_arr is not None:
        if ax is not None:
            raise ValueError("ax cannot be used together with proba, which needs two panels.")
        from matplotlib.figure import Figure

        fig = Figure(figsize=(11, 4.5), layout="constrained")
        ax_h, ax_p = fig.subplots(2, 1, sharex=True, height_ratios=(2, 1))
    else:
        fig, ax_h = _new_axes(ax, figsize=(11, 3))
        ax_p = None

    styles = {
        "scored": {"color": "0.2", "linewidth": 1.6},
        "predicted": {"color": "tab:orange", "linewidth": 0.9, "alpha": 0.9},
    }
    for name, labels in series.items():
        y = np.array([position[str(v)] for v in labels.tolist()], dtype=float)
        ax_h.step(t, np.append(y, y[-1]), where="post", label=name, **styles[name])
    if len(series) == 2:
        wrong = series["scored"] != series["predicted"]
        if wrong.any():
            ax_h.fill_between(t, -0.5, len(order) - 0.5, where=np.append(wrong, False),
                              step="post", color="tab:red", alpha=0.12, linewidth=0,
                              label="disagreement")
        agreement = 1.0 - wrong.mean()
        ax_h.set_title(f"agreement {agreement:.1%}", loc="right", fontsize="small")
    if marked is not None and len(marked):
        marked = np.asarray(marked)
        if marked.dtype.kind not in "iu" or marked.min() < 0 or marked.max() >= n_epochs:
            raise ValueError(f"marked must hold epoch indices in 0..{n_epochs - 1}.")
        ax_h.plot((t[marked] + t[marked + 1]) / 2, np.full(marked.size, len(order) - 0.62),
                  linestyle="none", marker="v", markersize=4, color="tab:purple",
                  label=f"to review ({marked.size} epochs)", clip_on=False)
    ticks, tick_labels, bottom = list(position.values()), list(position), -0.5
    if flags is not None:  # a track of its own below the stages
        bottom = -1.5
        ax_h.axhline(-0.5, color="0.75", linewidth=0.6)
        # a tick per flagged epoch, so that a single epoch of a long recording stays visible
        centres = (t[:-1] + t[1:])[flags] / 2
        ax_h.plot(centres, np.full(centres.size, -1.0), linestyle="none", marker="|",
                  markersize=9, markeredgewidth=1.0, color="0.25",
                  label=f"artefact ({int(flags.sum())} epochs)")
        ticks, tick_labels = [*ticks, -1.0], [*tick_labels, "artefact"]
    if series or flags is not None:
        ax_h.set_yticks(ticks, tick_labels)
        ax_h.set_ylim(bottom, len(order) - 0.5)
        ax_h.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize="small",
                    frameon=False, borderaxespad=0.0)
    ax_h.set_xlim(t[0], t[-1])
    ax_h.set_ylabel("stage")
    if proba_arr is not None:
        stacked = [c for c in order if c in list(classes)]
        col = {c: i for i, c in enumerate(classes)}
        values = [np.append(proba_arr[:, col[c]], proba_arr[-1, col[c]]) for c in stacked]
        colors = [_color(c, i) for i, c in enumerate(stacked)]
        ax_p.stackplot(t, values, labels=[str(c) for c in stacked], colors=colors, step="post",
                       linewidth=0)
        ax_p.set_ylim(0, 1)
        ax_p.set_ylabel("probability")
        ax_p.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize="small",
                    frameon=False, borderaxespad=0.0)
        ax_last = ax_p
    else:
        ax_last = ax_h
    if start is None:
        ax_last.set_xlabel("time since start (h)" if in_hours else "time since start (min)")
    else:
        ax_last.set_xlabel(_clock_axis(ax_last.xaxis, start))
    if title:
        fig.suptitle(title)
    return _finish(fig, path, force)


# ----------------------------------------------------------------------------------------------
# confusion matrix
# ----------------------------------------------------------------------------------------------
def confusion(
    y_true,
    y_pred,
    *,
    labels: Sequence[Any] | None = None,
    normalize: str | None = "true",
    title: str | None = None,
    ax=None,
    path: str | os.PathLike | None = None,
    force: bool = False,
):
    """Plot a confusion matrix of scored (rows) against predicted (columns) stages.

    Each cell shows the normalised value with the number of epochs below it (e.g.
    ``0.93`` over ``(1234)``); tick labels give the number of epochs of each scored stage
    (rows) and of each predicted stage (columns); the colour bar is labelled with what the
    colours measure. Stages run WAKE, N1, N2, N3, NREM, REM, then any others.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_epochs,)
        Scored and predicted stages.
    labels : sequence, optional
        Stages to show (epochs scored or predicted as anything else are left out); defaults
        to the labels present. Shown in the order above whatever their order here.
    normalize : {"true", "pred", "all"} or None
        As in :func:`sklearn.metrics.confusion_matrix`: "true" shows per-stage recall
        (each row sums to 1), "pred" per-stage precision, "all" shares of all epochs, None
        counts only.
    title : str, optional
        Title, e.g. naming the model, the cross-validation and the data set; the total
        number of epochs is added on a line of its own.
    ax : matplotlib Axes, optional
    path : path-like, optional
        Also save the figure here.
    force : bool
        Overwrite an existing ``path``.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = confusion(["WAKE", "NREM", "REM"], ["WAKE", "NREM", "NREM"])
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['WAKE (n=1)', 'NREM (n=1)', 'REM (n=1)']
    """
    from sklearn.metrics import confusion_matrix

    check_option("normalize", normalize, ("true", "pred", "all", None))
    y_true = _as_labels(y_true, "y_true")
    y_pred = _as_labels(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} epochs but y_pred has {y_pred.size}.")
    if y_true.size == 0:
        raise ValueError("Nothing to plot: zero epochs.")
    if labels is None:
        labels = np.concatenate([y_true, y_pred])
    labels = _stage_order(list(labels), _TABLE_ORDER)
    counts = confusion_matrix(y_true, y_pred, labels=labels)
    if normalize is None:
        values = counts.astype(float)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            values = confusion_matrix(y_true, y_pred, labels=labels, normalize=normalize)
    fig, ax = _new_axes(ax, figsize=(5.6, 4.8))
    vmax = 1.0 if normalize else max(float(values.max()), 1.0)
    image = ax.imshow(values, cmap="Blues", vmin=0.0, vmax=vmax)
    for i, j in np.ndindex(values.shape):
        text = f"{counts[i, j]}" if normalize is None else \
            f"{values[i, j]:.2f}\n({counts[i, j]})"
        ax.text(j, i, text, ha="center", va="center", fontsize="small",
                color="white" if values[i, j] > 0.55 * vmax else "black")
    names = [str(s) for s in labels]
    ax.set_xticks(range(len(labels)),
                  [f"{s}\n(n={n})" for s, n in zip(names, counts.sum(axis=0), strict=True)])
    ax.set_yticks(range(len(labels)),
                  [f"{s} (n={n})" for s, n in zip(names, counts.sum(axis=1), strict=True)])
    ax.set_xlabel("predicted stage")
    ax.set_ylabel("scored stage")
    colorbar_label = {
        "true": "fraction of the scored stage (recall)",
        "pred": "fraction of the predicted stage (precision)",
        "all": "fraction of all epochs",
        None: "epochs",
    }[normalize]
    fig.colorbar(image, ax=ax, label=colorbar_label, shrink=0.85)
    total = f"{int(counts.sum())} epochs"
    ax.set_title(f"{title}\n{total}" if title else total, fontsize="medium")
    return _finish(fig, path, force)


# ----------------------------------------------------------------------------------------------
# importances
# ----------------------------------------------------------------------------------------------
def _window_label(window: str) -> str:
    """Readable name of a temporal-context window (``mean_c15`` -> ``mean, centred 15 ep``)."""
    import re

    if window == "epoch":
        return "epoch itself"
    lag = re.fullmatch(r"lag_([mp])(\d+(?:\.\d+)?)(s?)", window)
    if lag:
        sign = "-" if lag[1] == "m" else "+"
        return f"lag {sign}{lag[2]} s" if lag[3] else f"epoch {sign}{lag[2]}"
    stat = re.fullmatch(r"(\w+?)_([cp])(\d+(?:\.\d+)?)(s?)", window)
    if stat:
        span = f"{stat[3]} s" if stat[4] else f"{stat[3]} ep"
        return f"{stat[1]}, {'centred' if stat[2] == 'c' else 'past'} {span}"
    return window


def _bars(ax, names, values, errors, xlabel: str, title: str) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.barh(np.arange(len(names)), values, xerr=errors, color="tab:blue", alpha=0.85,
            error_kw={"elinewidth": 0.8, "capsize": 2})
    ax.set_yticks(np.arange(len(names)), names)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=4))  # readable in narrow panels
    ax.set_xlabel(xlabel)
    ax.axvline(0, color="0.5", linewidth=0.6)
    ax.set_title(title)


def importances(
    table,
    *,
    top: int = 20,
    by: str = "feature",
    title: str | None = None,
    ax=None,
    path: str | os.PathLike | None = None,
    force: bool = False,
):
    """Horizontal bar chart of feature importances, by feature, channel or family.

    With ``by="family"`` two panels are drawn: the importance of each feature family
    (band power, EMG, Hjorth, ...), temporal-context features counted in the family of
    their base feature, and the importance of each context window (the epoch itself, the
    mean over the 15 centred epochs, the epoch before, ...), summed over the families; both
    sums come from :func:`sleepstage.inspection.aggregate_importances`.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`sleepstage.inspection.feature_importances` (columns ``feature``,
        ``channel``, ``family``, ``window``, ``importance`` and optionally
        ``importance_std``).
    top : int
        Number of bars (largest first).
    by : {"feature", "channel", "family"}
        Plot single features, sums per channel, or sums per family and per context window.
    title : str, optional
        Title (of the whole figure for ``by="family"``).
    ax : matplotlib Axes, or a pair of Axes for ``by="family"``, optional
    path : path-like, optional
        Also save the figure here.
    force : bool
        Overwrite an existing ``path``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ..inspection import aggregate_importances

    check_option("by", by, ("feature", "channel", "family"))
    if int(top) < 1:
        raise ValueError(f"The 'top' parameter must be >= 1, got {top!r}.")
    if "importance" not in getattr(table, "columns", ()):
        raise ValueError("table must be a DataFrame with an 'importance' column "
                         "(see sleepstage.inspection.feature_importances).")
    if table.empty:
        raise ValueError("The importance table is empty.")
    kind = table.attrs.get("kind") if hasattr(table, "attrs") else None
    xlabel = {
        "gain": "total gain",
        "split": "number of splits",
        "permutation": "balanced-accuracy drop",
    }.get(kind, "importance")
    panels = [by] if by != "family" else ["family", "window"]
    if by == "family":
        axes = None if ax is None else list(np.atleast_1d(ax))
        if axes is not None and len(axes) != 2:
            raise ValueError("by='family' draws two panels (families and context windows): "
                             "pass ax=(ax_family, ax_window).")
    else:
        axes = None if ax is None else [ax]
    frames = []
    for column in panels:
        shown = table if column == "feature" else aggregate_importances(table, by=column)
        frames.append(shown.sort_values("importance", ascending=False).head(int(top)))
    if axes is None:
        rows = max(len(f) for f in frames)
        _, new_axes = _new_axes(None, ncols=len(panels),
                                figsize=(7 if len(panels) == 1 else 11, 1.1 + 0.28 * rows))
        axes = list(np.atleast_1d(new_axes))
    fig = axes[0].figure
    titles = {"family": "by feature family (context included)",
              "window": "by context window (all families)"}
    for axis, column, shown in zip(axes, panels, frames, strict=True):
        labels = shown[column].astype(str)
        if column == "window":
            labels = labels.map(_window_label)
        elif column == "family":
            labels = labels.str.replace("_", " ")
        errors = None
        if "importance_std" in shown.columns:
            errors = shown["importance_std"].to_numpy(dtype=float)[::-1]
        panel_title = titles[column] if by == "family" else title or f"importance by {by}"
        _bars(axis, labels.to_numpy()[::-1], shown["importance"].to_numpy(dtype=float)[::-1],
              errors, xlabel, panel_title)
    if by == "family" and title:
        fig.suptitle(title)
    return _finish(fig, path, force)


# ----------------------------------------------------------------------------------------------
# stage spectra
# ----------------------------------------------------------------------------------------------
def stage_spectra(
    data,
    *,
    channel: str | Sequence[str] | None = None,
    fmax: float | None = None,
    nperseg: int | None = None,
    title: str | None = None,
    path: str | os.PathLike | None = None,
    force: bool = False,
):
    """Mean log power spectrum of each stage, one panel per channel.

    The PSD of every epoch is estimated with :func:`scipy.signal.welch` (Hann windows of
    ``nperseg`` samples, 50 % overlap), then ``log10`` PSD is averaged over the epochs of each
    stage. A quick check that stages differ as expected (delta in NREM, theta in rodent REM,
    EMG power in wake).

    Parameters
    ----------
    data : EpochData
        Labelled epochs (``data.y`` not None).
    channel : str or sequence of str, optional
        Channel name(s) to show; all channels by default.
    fmax : float, optional
        Highest frequency shown (Hz); the Nyquist frequency by default.
    nperseg : int, optional
        Welch segment length in samples; ``min(n_samples, 2 * sfreq)`` by default.
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

    if data.y is None:
        raise ValueError("stage_spectra needs labelled data (data.y is None).")
    if channel is None:
        channels = list(data.ch_names)
    else:
        channels = [channel] if isinstance(channel, str) else list(channel)
        missing = [c for c in channels if c not in data.ch_names]
        if missing:
            raise ValueError(f"Channel(s) {missing} not found; available are "
                             f"{list(data.ch_names)}.")
    index = [data.ch_names.index(c) for c in channels]
    if nperseg is None:
        nperseg = _default_nperseg(data.n_samples, data.sfreq)
    if not 2 <= int(nperseg) <= data.n_samples:
        raise ValueError(f"nperseg must be between 2 and {data.n_samples}, got {nperseg}.")
    freqs, psd, keep = _welch_psd(data.X[:, index, :], data.sfreq, nperseg, fmax)
    log_psd = np.log10(np.maximum(psd, np.finfo(np.float32).tiny))
    stages = _stage_order(data.y, _TABLE_ORDER)

    fig = Figure(figsize=(3.6 * len(channels) + 1.2, 3.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(channels), sharex=True))
    y = np.asarray(data.y)
    for ax, ch, k in zip(axes, channels, range(len(channels)), strict=True):
        for i, stage in enumerate(stages):
            mask = y == stage
            mean = log_psd[mask, k][:, keep].mean(axis=0)
            ax.plot(freqs[keep], mean, color=_color(stage, i),
                    label=f"{stage} (n={int(mask.sum())})")
        ax.set_title(ch)
        ax.set_xlabel("frequency (Hz)")
    axes[0].set_ylabel("mean log10 PSD")
    axes[-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small",
                    frameon=False, borderaxespad=0.0)  # beside the panels, not over a curve
    if title:
        fig.suptitle(title)
    return _finish(fig, path, force)
