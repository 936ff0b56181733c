"""``sleepstage report``: sleep architecture per time bin and phase from hypnograms."""

from __future__ import annotations

from pathlib import Path

from ._args import DataError, UsageError, add_subcommand, safe_name
from ._data_args import has_source
from ._outputs import check_outputs

#: Order of the stages in the tables and figures (the 3- and 5-class names, then UNSCORED).
_KNOWN = ("WAKE", "N1", "N2", "N3", "NREM", "REM", "UNSCORED")


#: Help of ``--epoch-length`` for ``report`` (its hypnograms need it, not only its data).
EPOCH_LENGTH_HELP = (
    "epoch length of the hypnograms in seconds: needed for EDF+, plain text and "
    "AccuSleePy hypnograms and a CSV of one epoch per recording; a CSV's onsets "
    "give it otherwise (and are checked against it when it is given); also the "
    "epoch length of the signals of a data source"
)


def add_parser(subparsers, parents) -> None:
    parser = add_subcommand(
        subparsers, "report", parents,
        help="sleep architecture per time bin and light/dark phase from hypnograms",
        description="Read hypnograms (sleepstage.io.read_hypnogram; the format from the "
                    "content): the CSV 'predict' writes (columns epoch, onset in seconds, "
                    "stage; UNSCORED allowed; an optional recording column splits a file "
                    "into recordings, each recording's rows together and in time order; the "
                    "epoch length is the most common step between onsets, one per file), "
                    "EDF+ annotations, plain text (one stage per line) and AccuSleePy label "
                    "files; the last three hold no epoch length: give --epoch-length. Write "
                    "DIR/architecture.csv (one row per recording and time bin: minutes, "
                    "percent, bouts and mean bout duration of each stage, transitions), "
                    "DIR/summary.csv (per recording and phase: "
                    "totals, bouts, latencies, transition counts and probabilities, brief "
                    "arousals, fragmentation index, bout-length histograms) and "
                    "DIR/<recording>_architecture.png. With --group, also DIR/groups.csv "
                    "and DIR/groups_architecture.png (mean and SD per bin of each group). "
                    "With the recordings' signals as a data source (--edf, --task4, "
                    "--synthetic; recording ids matching the hypnograms' names), also "
                    "DIR/spectra.csv: the mean power spectrum of each stage and phase "
                    "relative to the recording's total power, drawn in the figures. "
                    "Definitions: sleepstage.report.architecture and architecture_summary.",
        examples=(
            "sleepstage report scored/*_hypnogram.csv -o architecture/",
            "sleepstage report wt1.csv wt2.csv ko1.csv ko2.csv -o arch/ \\",
            "    --start 2024-03-01T07:00 --lights-on 07:00 --min-bout 2 \\",
            "    --group wt=wt1.csv,wt2.csv --group ko=ko1.csv,ko2.csv",
            "sleepstage report scored/synthetic-0_hypnogram.csv --synthetic 1 -o arch/",
            "sleepstage report SC4001EC-Hypnogram.edf SC4002EC-Hypnogram.edf \\",
            "    --epoch-length 30 -o arch/",
        ),
    )
    parser.add_argument("hypnograms", nargs="+", metavar="HYPNOGRAM",
                        help="hypnogram files: the CSV 'predict' writes (columns epoch, "
                             "onset, stage, optionally recording: each recording's rows "
                             "together and in time order), EDF+ annotations, plain text or "
                             "AccuSleePy labels (these three with --epoch-length)")
    parser.add_argument("-o", "--out-dir", required=True, metavar="DIR",
                        help="folder for the outputs")
    parser.add_argument("--bin", type=float, default=60.0, metavar="MINUTES",
                        help="bin length in minutes (default: 60)")
    parser.add_argument("--start", action="append", metavar="[RECORDING=]ISO_TIME",
                        help="clock time of the start (onset 0), e.g. 2024-03-01T07:00; "
                             "RECORDING=ISO_TIME for one recording (repeatable); default: "
                             "the start in an EDF+ hypnogram's header")
    parser.add_argument("--lights-on", metavar="HH:MM",
                        help="time lights go on; with --start or an EDF+ hypnogram's header "
                             "start, adds phase and zeitgeber time and aligns bins to the "
                             "clock (a recording whose start is unknown gets neither)")
    parser.add_argument("--light-hours", type=float, default=12.0, metavar="H",
                        help="length of the light phase (default: 12)")
    parser.add_argument("--min-bout", type=int, default=1, metavar="EPOCHS",
                        help="merge runs shorter than this into their surroundings "
                             "(default: 1, none)")
    parser.add_argument("--brief-arousal", type=float, default=16.0, metavar="SECONDS",
                        help="longest wake bout inside sleep counted as a brief arousal "
                             "(default: 16)")
    parser.add_argument("--latency-min", type=float, default=60.0, metavar="SECONDS",
                        help="latencies are to the first bout of at least this long "
                             "(default: 60)")
    parser.add_argument("--group", action="append", metavar="NAME=FILE,...",
                        help="a group of recordings (files given above or recording names); "
                             "repeatable; with --lights-on, each of its recordings needs a "
                             "start")
    parser.add_argument("--fmax", type=float, default=45.0, metavar="HZ",
                        help="highest frequency of the stage spectra (default: 45, or "
                             "Nyquist if lower)")
    parser.add_argument("--no-plot", action="store_true", help="write the tables only")
    parser.set_defaults(run=run)


def epoch_length_needed(path, exc) -> UsageError:
    """The error for a hypnogram (``path``, shown as given) whose epoch length is unknown.

    ``exc`` is the :class:`sleepstage.io.EpochLengthUnknownError` its reader raised.
    """
    return UsageError(f"Hypnogram {path}: {exc.reason}; give --epoch-length in seconds "
                      "(e.g. 4 for mice, 30 for human PSG).")


def read_recordings(path, *, epoch_length: float | None = None, stages: int = 3) -> list[dict]:
    """The recordings of one hypnogram file, read by :func:`sleepstage.io.read_hypnogram`.

    Returns a list of ``{"recording", "stages", "onsets", "epoch_length", "path", "start"}``;
    one per value of the ``recording`` column, else one named after the file (``_hypnogram``
    dropped). ``start`` is the start date and time of an EDF+ file's header (None for the
    other formats, or a header without one). The reader's errors become
    :class:`DataError` naming the file; a file that cannot show its epoch length (EDF+,
    plain text, AccuSleePy, a CSV of one epoch per recording) without ``--epoch-length`` is
    a :class:`UsageError`.
    """
    from ..io import EpochLengthUnknownError, read_hypnogram

    path = Path(path)
    try:
        table = read_hypnogram(path, epoch_length=epoch_length, stages=stages)
    except EpochLengthUnknownError as exc:
        raise epoch_length_needed(path, exc) from None
    except ValueError as exc:
        message = str(exc)
        raise DataError(message if str(path) in message
                        else f"Hypnogram {path}: {message}") from None
    length = float(table.attrs["epoch_length"])
    start = table.attrs.get("start")  # an EDF+ header's start date and time, else None
    parts = (table.groupby("recording", sort=False) if "recording" in table.columns
             else [(path.stem.removesuffix("_hypnogram"), table)])
    return [{"recording": str(name), "stages": part["stage"].to_numpy(object),
             "onsets": part["onset"].to_numpy(float), "epoch_length": length, "path": path,
             "start": start}
            for name, part in parts]


def _starts(values, names) -> dict:
    """``--start`` values: one ISO time for all, or RECORDING=ISO_TIME."""
    import pandas as pd

    starts: dict = {}
    for text in values or []:
        name, sep, when = text.rpartition("=")
        try:
            stamp = pd.Timestamp(when.strip())
        except (ValueError, TypeError):
            stamp = pd.NaT
        if pd.isna(stamp):
            raise UsageError(f"--start expects an ISO date and time such as "
                             f"2024-03-01T07:00 (or RECORDING=ISO_TIME), got {text!r}.")
        if not sep:
            starts.update(dict.fromkeys(names, stamp))
        elif name not in names:
            raise UsageError(f"--start names recording {name!r}, which is not among the "
                             f"hypnograms ({', '.join(names)}).")
        else:
            starts[name] = stamp
    return starts


def _groups(values, recordings) -> dict:
    """``--group NAME=FILE,...``: files given on the command line, or recording names."""
    from ._args import parse_assignment, split_list

    by_file: dict = {}
    for rec in recordings:
        by_file.setdefault(rec["path"].resolve(), []).append(rec["recording"])
    names = {rec["recording"] for rec in recordings}
    groups: dict = {}
    for text in values or []:
        name, members = parse_assignment(text, "--group")
        if name in groups:
            raise UsageError(f"--group {name!r} is given twice.")
        chosen = []
        for item in split_list(members):
            if Path(item).resolve() in by_file:
                chosen += by_file[Path(item).resolve()]
            elif item in names:
                chosen.append(item)
            else:
                raise UsageError(f"--group {name}: {item!r} is not one of the hypnogram files "
                                 "given (nor a recording name in them).")
        if not chosen:
            raise UsageError(f"--group {name} names no recording.")
        groups[name] = chosen
    return groups


def _spectra(args, recordings, tables) -> dict:
    """Stage spectra of every recording of the data source, matched to its hypnogram."""
    import numpy as np

    from .._internal.groups import recording_segments
    from ..report import stage_power_spectra
    from ._loading import load_data, recording_id

    data = load_data(args, need_labels=False, purpose="report").data
    by_name = {rec["recording"]: rec for rec in recordings}
    segments = recording_segments(data.groups, data.n_epochs)  # contiguous, in data order
    out = {}
    for rec_id, first, stop in zip(segments.ids, segments.starts.tolist(),
                                   segments.stops.tolist(), strict=True):
        name = recording_id(rec_id)
        if name not in by_name:
            raise DataError(f"Recording {name!r} of the data source has no hypnogram among "
                            f"{', '.join(by_name)}; hypnograms are matched by name.")
        rec, table = by_name[name], tables[name]
        if stop - first != len(table.epochs):
            raise DataError(f"Recording {name!r} has {stop - first} epochs but its "
                            f"hypnogram {rec['path']} has {len(table.epochs)}.")
        if not np.isclose(data.epoch_length, table.epoch_length):
            raise DataError(f"Recording {name!r} has {data.epoch_length:g}-s epochs but its "
                            f"hypnogram {rec['path']} has {table.epoch_length:g}-s epochs.")
        phase = table.epochs["phase"].to_numpy()
        out[name] = stage_power_spectra(
            data.X[first:stop], table.epochs["stage"].to_numpy(), data.sfreq,
            ch_names=data.ch_names, phase=None if phase[0] is None else phase,
            fmax=min(data.sfreq / 2, args.fmax))
    return out


def _check_numbers(args) -> None:
    """Refuse option values the computation cannot use, as usage errors naming the option."""
    import math

    for option, value, unit in (("--bin", args.bin, "minutes"),
                                ("--brief-arousal", args.brief_arousal, "seconds"),
                                ("--latency-min", args.latency_min, "seconds"),
                                ("--fmax", args.fmax, "Hz")):
        if not (math.isfinite(value) and value > 0):
            raise UsageError(f"{option} must be a positive number of {unit}, got {value:g}.")
    if not (math.isfinite(args.light_hours) and 0 < args.light_hours < 24):
        raise UsageError(f"--light-hours must be a number of hours above 0 and below 24, got "
                         f"{args.light_hours:g}.")


def _hypnogram_files(paths: list[str]) -> list[str]:
    """The hypnogram files as given, each once; a file given twice (in any spelling) is refused."""
    seen: dict = {}
    for path in paths:
        key = Path(path).resolve()
        if key in seen:
            also = "" if seen[key] == path else f" (as {seen[key]} and {path})"
            raise UsageError(f"Hypnogram {path} is given twice{also}; give each file once.")
        seen[key] = path
    return list(seen.values())


def _check_names(recordings: list[dict], *, plot: bool) -> None:
    """Each recording's name must be unique, and so must its figure's file name when plotting."""
    owners: dict = {}
    for rec in recordings:
        name = rec["recording"]
        if name in owners:
            raise DataError(f"Recording {name!r} is in both {owners[name]} and {rec['path']}: "
                            "the tables name recordings by their file (without _hypnogram) or "
                            "their recording column; give each recording its own name.")
        owners[name] = rec["path"]
    if not plot:
        return
    seen: dict = {}
    for rec in recordings:
        key = safe_name(rec["recording"]).lower()
        if key in seen:
            raise DataError(f"Recordings {seen[key]!r} and {rec['recording']!r} would share "
                            f"the file {safe_name(rec['recording'])}_architecture.png: give the "
                            "hypnograms distinct names.")
        seen[key] = rec["recording"]


def _check_groups_aligned(groups: dict[str, list[str]], starts: dict) -> None:
    """With --lights-on, a group's recordings are lined up on zeitgeber time: each needs a start."""
    for group, members in groups.items():
        unknown = [m for m in members if m not in starts]
        if unknown:
            raise UsageError(
                f"--group {group}: no start is known for {', '.join(unknown)}, so the group's "
                "bins cannot be lined up on zeitgeber time (--lights-on); give each of its "
                f"recordings a start (--start {unknown[0]}=ISO_TIME), or leave out "
                "--lights-on to line them up on the time since their start.")


def run(args) -> int:
    import re

    import pandas as pd

    from ..io import atomic_outputs, check_folder
    from ..report import (
        architecture_figure,
        bin_table,
        group_figure,
        group_table,
        parse_lights_on,
        summarize,
    )
    from ..report import epoch_table as make_epoch_table

    _check_numbers(args)
    if args.min_bout < 1:
        raise UsageError(f"--min-bout must be at least 1 epoch, got {args.min_bout}.")
    if getattr(args, "feature_table", None):
        raise UsageError("The stage spectra of 'report' need the raw signals (--edf, --task4, "
                         "--synthetic); --feature-table holds features only.")
    if args.lights_on is not None:
        try:
            parse_lights_on(args.lights_on)
        except ValueError:
            raise UsageError(f"--lights-on expects a 24-hour clock time HH:MM such as 07:00, "
                             f"got {args.lights_on!r}.") from None
    out_dir = check_folder(args.out_dir)
    recordings = []
    for path in _hypnogram_files(args.hypnograms):
        recordings += read_recordings(path, epoch_length=args.epoch_length,
                                      stages=args.stages)
    _check_names(recordings, plot=not args.no_plot)
    names = [rec["recording"] for rec in recordings]
    # --start wins over the start an EDF+ hypnogram's header gives
    starts = {rec["recording"]: pd.Timestamp(rec["start"]) for rec in recordings
              if rec["start"] is not None}
    starts.update(_starts(args.start, names))
    if args.lights_on is not None and not starts:  # those without a start get no phases
        raise UsageError("--lights-on needs --start (the clock time of the start) or an EDF+ "
                         "hypnogram whose header gives its start; none is known.")
    groups = _groups(args.group, recordings)
    if args.lights_on is not None:
        _check_groups_aligned(groups, starts)

    with_spectra = has_source(args)  # the recordings' signals are given
    outputs = [out_dir / "architecture.csv", out_dir / "summary.csv"]
    if groups:
        outputs.append(out_dir / "groups.csv")
    if with_spectra:
        outputs.append(out_dir / "spectra.csv")
    if not args.no_plot:
        outputs += [out_dir / f"{safe_name(n)}_architecture.png" for n in names]
        if groups:
            outputs.append(out_dir / "groups_architecture.png")

    check_outputs(args, outputs)  # before any signal is read, never onto a hypnogram
    labels = [s for s in _KNOWN[:-1] if any((rec["stages"] == s).any() for rec in recordings)]
    bins, summaries, tables = [], [], {}
    for rec in recordings:
        name = rec["recording"]
        start = starts.get(name)
        try:
            table = make_epoch_table(
                rec["stages"], rec["epoch_length"], onsets=rec["onsets"], bin_minutes=args.bin,
                start=start, lights_on=args.lights_on if start is not None else None,
                light_hours=args.light_hours, min_bout=args.min_bout, labels=labels)
        except ValueError as exc:
            raise DataError(f"Hypnogram {rec['path']} ({name}): {exc}") from None
        tables[name] = table
        bins.append(bin_table(table, recording=name))
        summaries.append(summarize(table, recording=name, latency_min_seconds=args.latency_min,
                                   brief_arousal_max=args.brief_arousal))
    bins_all = pd.concat(bins, ignore_index=True)
    summary = pd.concat(summaries, ignore_index=True)
    histogram = [c for c in summary.columns if re.fullmatch(r"bouts_.+_[\d.]+-[\d.]+s", c)]
    summary[histogram] = summary[histogram].fillna(0).astype(int)
    grouped = group_table(bins_all, groups) if groups else None
    spectra = _spectra(args, recordings, tables) if with_spectra else {}

    from ..io import write_table

    with atomic_outputs(outputs, force=args.force) as temps:
        temp = dict(zip(outputs, temps, strict=True))
        write_table(bins_all, temp[outputs[0]], force=True)
        write_table(summary, temp[outputs[1]], force=True)
        if grouped is not None:
            write_table(grouped, temp[out_dir / "groups.csv"], force=True)
        if with_spectra:
            write_table(pd.concat([t.assign(recording=name) for name, t in spectra.items()])
                        [["recording", *next(iter(spectra.values())).columns]],
                        temp[out_dir / "spectra.csv"], force=True)
        if not args.no_plot:
            for rec in recordings:
                name = rec["recording"]
                start = starts.get(name)
                title = (f"{name}: {Path(rec['path']).name}, {rec['epoch_length']:g}-s epochs"
                         + (f", from {start:%Y-%m-%d %H:%M}" if start is not None else ""))
                architecture_figure(tables[name], title=title, spectra=spectra.get(name),
                                    path=temp[out_dir / f"{safe_name(name)}_architecture.png"],
                                    force=True)
            if grouped is not None:
                group_figure(grouped, labels, light_hours=args.light_hours,
                             title="minutes per bin by group (mean ± SD across recordings)",
                             path=temp[out_dir / "groups_architecture.png"], force=True)
    for row in summary[summary["phase"] == "all"].to_dict("records"):
        line = f"{row['recording']}: {row['recorded_minutes'] / 60:.1f} h, "
        if row["recorded_minutes"] > row["unscored_minutes"]:
            stages = ", ".join(f"{s} {row[f'percent_{s}']:.1f} %" for s in labels)
            print(f"{line}{stages}, {row['transitions']} transitions")
        else:
            print(f"{line}no scored epoch")
    print(f"Architecture of {len(recordings)} recording(s) written to {out_dir}")
    return 0
