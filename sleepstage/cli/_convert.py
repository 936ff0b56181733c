"""``sleepstage convert``: move a hypnogram between the formats labs' viewers use."""

from __future__ import annotations

import argparse
import datetime as dt

from ._args import UsageError, add_subcommand
from ._outputs import check_outputs

#: Format names (as sleepstage.io.HYPNOGRAM_FORMATS, kept here so --help imports nothing).
_FORMATS = ("csv", "edf", "text", "accusleep")


def add_parser(subparsers, parents) -> None:
    parser = add_subcommand(
        subparsers, "convert", parents,
        help="convert a hypnogram between CSV, EDF+, plain text and AccuSleePy labels",
        description="Read a hypnogram and write it in another format, so scores move between "
                    "this package and the viewer a lab corrects them in. Formats: csv (the "
                    "table 'sleepstage predict' writes: epoch, onset, stage, ...), edf (EDF+ "
                    "annotations, e.g. Sleep-EDF hypnograms; R&K stages 1-4 read as NREM, "
                    "or as N1/N2/N3 with --stages 5), "
                    "text (one stage name per line) and accusleep (AccuSleePy's label CSV: "
                    "brain_state 1 = REM, 2 = wake, 3 = NREM, -1 = undefined). The input "
                    "format is told from the file's content, the output format from its "
                    "suffix (.csv, .edf, .txt); AccuSleePy's files are asked for with "
                    "--to accusleep. Unscored epochs stay unscored. EDF+, text and "
                    "AccuSleePy files hold no epoch length: give --epoch-length. A CSV holding "
                    "several recordings (a recording column) is refused: convert one "
                    "recording at a time.",
        examples=(
            "sleepstage convert mouse1_hypnogram.csv -o mouse1_labels.csv --to accusleep",
            "sleepstage convert mouse1_labels.csv --epoch-length 4 -o mouse1_hypnogram.edf",
            "sleepstage convert SC4001EC-Hypnogram.edf --epoch-length 30 -o SC4001.txt",
        ),
    )
    parser.add_argument("hypnogram", metavar="IN", help="hypnogram file to read")
    parser.add_argument("-o", "--out", required=True, metavar="OUT",
                        help="file to write (format from the suffix unless --to is given)")
    parser.add_argument("--epoch-length", type=float, metavar="S",
                        help="epoch length in seconds (needed unless the input is a CSV "
                             "with onsets)")
    parser.add_argument("--from", dest="from_format", choices=_FORMATS, metavar="FMT",
                        help=f"input format ({', '.join(_FORMATS)}; default: from the content)")
    parser.add_argument("--to", dest="to_format", choices=_FORMATS, metavar="FMT",
                        help=f"output format ({', '.join(_FORMATS)}; default: from the suffix)")
    parser.add_argument("--stages", type=int, choices=(3, 5), default=3,
                        help="classes the R&K stages of an EDF+ input become: 3 "
                             "(WAKE/NREM/REM) or 5 (WAKE/N1/N2/N3/REM); default 3. Other "
                             "formats hold stage names and keep them")
    parser.add_argument("--start", type=_iso_time, metavar="ISO_TIME",
                        help="start of the recording, e.g. 2024-03-01T19:00:00, written to an "
                             "EDF+ header (default: the input EDF+ header's, else unknown)")
    parser.set_defaults(run=run)


def _iso_time(text: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO date and time (e.g. 2024-03-01T19:00:00): {text!r}") from None


def run(args) -> int:
    from ..io import (
        EpochLengthUnknownError,
        hypnogram_format,
        read_hypnogram,
        write_hypnogram,
    )
    from ._report import epoch_length_needed

    to_format = args.to_format or hypnogram_format(args.out, reading=False)
    check_outputs(args, [args.out])  # before reading the input, never onto it
    try:
        table = read_hypnogram(args.hypnogram, format=args.from_format,
                               epoch_length=args.epoch_length, stages=args.stages)
    except EpochLengthUnknownError as exc:
        raise epoch_length_needed(args.hypnogram, exc) from None
    if "recording" in table.columns:
        ids = list(dict.fromkeys(table["recording"].tolist()))
        if len(ids) > 1:
            shown = ", ".join(map(str, ids[:5])) + (", ..." if len(ids) > 5 else "")
            raise UsageError(f"{args.hypnogram} holds {len(ids)} recordings ({shown}); "
                             "convert one recording at a time (one file each).")
    epoch_length = table.attrs["epoch_length"]
    write_hypnogram(args.out, table, epoch_length=epoch_length, format=to_format,
                    start=args.start, force=args.force)
    counts = table["stage"].value_counts()
    print(f"{args.hypnogram} ({table.attrs['format']}) -> {args.out} ({to_format}): "
          f"{len(table)} epochs of {epoch_length:g} s ("
          + ", ".join(f"{stage} {n}" for stage, n in counts.items()) + ")")
    return 0
