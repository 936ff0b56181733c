"""The data-source options every data subcommand shares, and reading their values.

Nothing here loads data or imports a numerical library, so that ``--help`` stays fast;
:mod:`sleepstage.cli._loading` loads what these options name.
"""

from __future__ import annotations

import argparse
import math

from ._args import UsageError, parse_assignment

__all__ = [
    "add_data_arguments",
    "channel_spec",
    "describe_sources",
    "has_raw_source",
    "has_source",
    "integer_list",
    "positive_float",
    "renames",
]

#: The options that name a data source (``args`` attributes).
SOURCE_OPTIONS = ("synthetic", "task4", "edf", "edf_list", "sleep_edf", "feature_table")
#: The options that name raw-signal sources (every source but --feature-table).
RAW_SOURCE_OPTIONS = SOURCE_OPTIONS[:-1]
#: The options that name EDF files (``predict`` reads these one recording at a time).
EDF_OPTIONS = ("edf", "edf_list")


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0 (0 must not pass for "use the default")."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def integer_list(text: str) -> list[int]:
    """argparse type: ``"0,1"`` -> ``[0, 1]`` (at least one integer).

    Only the text is read here; :func:`sleepstage.data.load_sleep_edf` validates the values.
    """
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers separated by commas, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError(f"expected at least one integer, got {text!r}")
    return values


class AppendEdf(argparse.Action):
    """``--edf PSG``: start a new EDF source (a hypnogram may follow)."""

    def __call__(self, parser, namespace, values, option_string=None):
        sources = list(getattr(namespace, self.dest, None) or [])
        sources.append({"psg": values, "hypnogram": None})
        setattr(namespace, self.dest, sources)


class AttachHypnogram(argparse.Action):
    """``--hypnogram HYP``: the scoring of the preceding ``--edf``."""

    def __call__(self, parser, namespace, values, option_string=None):
        sources = list(getattr(namespace, "edf", None) or [])
        if not sources:
            parser.error("--hypnogram must follow the --edf it belongs to.")
        if sources[-1]["hypnogram"] is not None:
            parser.error(f"--edf {sources[-1]['psg']} already has a hypnogram; give one "
                         "--hypnogram after each --edf.")
        sources[-1] = {**sources[-1], "hypnogram": values}
        namespace.edf = sources


def add_data_arguments(parser: argparse.ArgumentParser, *,
                       epoch_length_help: str | None = None) -> None:
    """Add the data-source options (``--task4``, ``--edf``, ``--synthetic``, ...).

    ``epoch_length_help`` replaces the help of ``--epoch-length`` (a subcommand whose own
    inputs also need it, e.g. ``report``'s hypnograms).
    """
    group = parser.add_argument_group(
        "data sources",
        "Any combination with the same channel layout; recordings keep their own ids.",
    )
    group.add_argument("--synthetic", type=int, metavar="N",
                       help="N SYNTHETIC mice (2 EEG + EMG, 128 Hz, 4-s epochs)")
    group.add_argument("--hours", type=positive_float, default=24.0, metavar="H",
                       help="hours per synthetic recording (default: 24)")
    group.add_argument("--seed", type=int, default=0,
                       help="seed of synthetic data and models (default: 0)")
    group.add_argument("--task4", metavar="DIR",
                       help="folder in the reference CSV format (train_eeg1.csv, ...)")
    group.add_argument("--subset", choices=("train", "test"), default="train",
                       help="which --task4 files to read (default: train)")
    group.add_argument("--recording-length", type=int, default=21600, metavar="EPOCHS",
                       help="--task4 epochs per recording, 0 for one recording "
                            "(default: 21600 = 24 h of 4-s epochs)")
    group.add_argument("--edf", action=AppendEdf, metavar="PSG",
                       help="an EDF/EDF+ recording, or a quoted pattern such as "
                            "'night/*.edf' (every matching file, sorted; repeatable)")
    group.add_argument("--edf-list", action="append", metavar="FILE",
                       help="a text file naming one EDF recording per line, optionally "
                            "'PSG<TAB>HYPNOGRAM'; blank lines and '#' comments are skipped, "
                            "relative paths are relative to the list (repeatable)")
    group.add_argument("--hypnogram", action=AttachHypnogram, metavar="HYP",
                       help="EDF+ scoring of the preceding --edf")
    group.add_argument("--sleep-edf", type=integer_list, metavar="SUBJECTS",
                       help="Sleep-EDF subjects through MNE's fetcher, e.g. 0,1")
    group.add_argument("--sleep-edf-recording", type=integer_list, default="1",
                       metavar="NIGHTS",
                       help="Sleep-EDF nights per subject, e.g. 1,2 (default: 1)")
    group.add_argument("--data-dir", metavar="DIR",
                       help="folder holding physionet-sleep-data/ (default: "
                            "$SLEEPSTAGE_DATA_DIR, else MNE's data folder: "
                            "PHYSIONET_SLEEP_PATH, MNE_DATA or ~/mne_data)")
    group.add_argument("--feature-table", action="append", metavar="FILE",
                       help="a per-epoch feature table (.csv, .parquet or .pq) as written by "
                            "'sleepstage features': columns recording, epoch, onset, "
                            "optionally stage, then one column per feature (repeatable; not "
                            "combined with raw-signal sources)")
    group.add_argument("--channel", action="append", metavar="NAME[=TYPE]",
                       help="channel to use and its type (eeg, emg, eog), e.g. "
                            "'EEG Fpz-Cz=eeg' (repeatable; default: all EEG/EMG/EOG channels, "
                            "or the model's channels)")
    group.add_argument("--rename", action="append", metavar="OLD=NEW",
                       help="rename a channel after loading, e.g. to the model's names: "
                            "'EEG C3=EEG Fpz-Cz' (repeatable)")
    group.add_argument("--stages", type=int, choices=(3, 5), default=3,
                       help="R&K stages of EDF hypnograms as 3 classes (WAKE/NREM/REM) or 5 "
                            "(AASM: WAKE/N1/N2/N3/REM); default 3")
    group.add_argument("--keep-wake-minutes", type=float, metavar="MIN",
                       help="keep the sleep period +/- MIN minutes of wake (EDF default: all; "
                            "Sleep-EDF default: 30; negative: all)")
    group.add_argument("--epoch-length", type=positive_float, metavar="S",
                       help=epoch_length_help or (
                           "epoch length in seconds (default: the model's, else 4 for "
                           "synthetic/--task4, 30 for EDF, and read from the onsets of "
                           "--feature-table)"))
    group.add_argument("--sfreq", type=positive_float, metavar="HZ",
                       help="resample to this sampling rate (default: the model's, else keep)")


def has_source(args) -> bool:
    """Whether any data source was given."""
    return any(getattr(args, name, None) for name in SOURCE_OPTIONS)


def has_raw_source(args) -> bool:
    """Whether a raw-signal source (anything but ``--feature-table``) was given."""
    return any(getattr(args, name, None) for name in RAW_SOURCE_OPTIONS)


def _integers(values) -> str:
    return ",".join(map(str, values))


def describe_sources(args) -> list[str]:
    """Short human-readable list of the sources, for metadata and reports."""
    out = []
    if args.synthetic:
        out.append(f"synthetic: {args.synthetic} x {args.hours:g} h, seed {args.seed}")
    if args.task4:
        out.append(f"task4: {args.task4} ({args.subset})")
    for entry in args.edf or []:
        hyp = f" + {entry['hypnogram']}" if entry["hypnogram"] else ""
        out.append(f"edf: {entry['psg']}{hyp}")
    for path in getattr(args, "edf_list", None) or []:
        out.append(f"edf list: {path}")
    if args.sleep_edf:
        out.append(f"sleep-edf: subjects {_integers(args.sleep_edf)}, "
                   f"nights {_integers(args.sleep_edf_recording)}")
    for path in getattr(args, "feature_table", None) or []:
        out.append(f"feature table: {path}")
    return out


def channel_spec(args) -> dict[str, str | None] | None:
    """``{name: type or None}`` from ``--channel NAME[=TYPE]``; None without ``--channel``."""
    if not args.channel:
        return None
    spec: dict[str, str | None] = {}
    for text in args.channel:
        name, sep, ch_type = text.partition("=")
        name, ch_type = name.strip(), ch_type.strip().lower()
        if not name:
            raise UsageError(f"--channel expects NAME or NAME=TYPE, got {text!r}.")
        if sep and ch_type not in ("eeg", "emg", "eog"):
            raise UsageError(f"--channel {text!r}: the type must be eeg, emg or eog.")
        spec[name] = ch_type if sep else None
    return spec


def renames(args) -> dict[str, str]:
    """``{old: new}`` from ``--rename``; a channel renamed twice, or two to one name, is wrong."""
    mapping: dict[str, str] = {}
    for text in args.rename or []:
        old, new = parse_assignment(text, "--rename")
        new = new.strip()
        if not new:
            raise UsageError(f"--rename {text!r} gives no new name.")
        if old in mapping and mapping[old] != new:
            raise UsageError(f"--rename gives channel {old!r} two new names, {mapping[old]!r} "
                             f"and {new!r}; give one.")
        clash = [o for o, n in mapping.items() if n == new and o != old]
        if clash:
            raise UsageError(f"--rename gives channels {clash[0]!r} and {old!r} the same name "
                             f"{new!r}; each channel needs its own name.")
        mapping[old] = new
    return mapping
