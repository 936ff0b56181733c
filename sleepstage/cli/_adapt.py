"""``sleepstage adapt``: adapt a model to new recordings with a few epochs scored by hand."""

from __future__ import annotations

from pathlib import Path

from ._args import DataError, add_subcommand
from ._loading import load_data
from ._outputs import check_outputs
from ._predict import add_trust_argument

#: Metadata keys that ``save_model`` writes afresh for the adapted model.
_FRESH_KEYS = ("sleepstage_version", "versions", "created", "params")


def add_parser(subparsers, parents) -> None:
    parser = add_subcommand(
        subparsers, "adapt", parents,
        help="adapt a model to new recordings with a few epochs scored by hand",
        description="Adapt a model file to new recordings with the stages of a few of their "
                    "epochs (typically the least confident ones, listed by 'predict "
                    "--review N', with their stages corrected) and write a new model file. "
                    "The adapted model adds a small classifier of those recordings (fitted "
                    "on their labelled and confidently scored epochs), corrects the score "
                    "of each stage, and keeps the labelled epochs at their given stage when "
                    "the same recordings are scored again. The labels file is a CSV with "
                    "columns epoch (0-based, as in the hypnogram 'predict' writes) and stage, "
                    "plus recording when several recordings are given; other columns are "
                    "ignored. The new model file records the adaptation (labels file, labels "
                    "per stage, methods) in its metadata.",
        examples=(
            "sleepstage predict mice.joblib --edf m7.edf --review 300 -o scored/",
            "# correct the stage column of scored/m7_review.csv, then:",
            "sleepstage adapt mice.joblib --edf m7.edf --labels scored/m7_review.csv \\",
            "    -o mice-m7.joblib",
            "sleepstage predict mice-m7.joblib --edf m7.edf -o rescored/",
        ),
    )
    parser.add_argument("model", help="model file written by 'sleepstage fit'")
    parser.add_argument("--labels", required=True, metavar="CSV",
                        help="CSV with columns epoch, stage (and recording when several "
                             "recordings are given)")
    parser.add_argument("-o", "--out", required=True, metavar="FILE",
                        help="adapted model file to write (refused if it exists, unless "
                             "--force)")
    parser.add_argument("--no-bias", action="store_true",
                        help="do not correct the score of each stage (keeps the stage amounts "
                             "closer to the original model's when the labelled epochs are "
                             "not the least confident ones)")
    add_trust_argument(parser)
    parser.set_defaults(run=run)


def read_labels(path, recordings: list[str], lengths: dict[str, int], starts: dict[str, int],
                classes: list[str]):
    """The labels file as ``{row position: stage}``, checked against the recordings.

    Raises
    ------
    DataError
        The file cannot be read, lacks a column, names an unknown recording or stage, an
        epoch that does not exist, or labels an epoch twice; each message names the rows.
    """
    import numpy as np
    import pandas as pd

    from ..data import STAGE_SPELLINGS

    path = Path(path)
    try:
        # as hypnograms are read: spaces after commas ignored, stage names in any case
        table = pd.read_csv(path, dtype={"recording": str, "stage": str},
                            skipinitialspace=True)
    except FileNotFoundError:
        raise DataError(f"Labels file {path} does not exist.") from None
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"Labels file {path} is not a readable CSV: {exc}") from None
    missing = [c for c in ("epoch", "stage") if c not in table.columns]
    if missing:
        raise DataError(f"Labels file {path} lacks the column(s) {missing}; it needs epoch "
                        "and stage (and recording when several recordings are given), got "
                        f"{list(table.columns)}.")
    if table.empty:
        raise DataError(f"Labels file {path} has no rows.")
    line = table.index.to_numpy() + 2  # file line of each row (header is line 1)
    if "recording" in table.columns:
        given = table["recording"].fillna("").astype(str)  # the ids load_data gives
        unknown = sorted(set(given) - set(recordings))
        if unknown:
            raise DataError(f"Labels file {path} names recording(s) {unknown[:5]} that are not "
                            f"in the data (recordings: {recordings[:10]}).")
        rec = given.to_numpy()
    elif len(recordings) == 1:
        rec = np.full(len(table), recordings[0], dtype=object)
    else:
        raise DataError(f"Labels file {path} has no recording column, but {len(recordings)} "
                        f"recordings are given ({recordings[:10]}): add a recording column.")
    epoch = pd.to_numeric(table["epoch"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(epoch) | (epoch != np.round(epoch))
    if bad.any():
        raise DataError(f"Labels file {path}: epoch must be a whole number, but line(s) "
                        f"{line[bad][:5].tolist()} hold {table['epoch'][bad][:5].tolist()}.")
    epoch = epoch.astype(np.int64)
    length = np.array([lengths[r] for r in rec])
    outside = (epoch < 0) | (epoch >= length)
    if outside.any():
        shown = [f"{r} epoch {e} (of {n})" for r, e, n in
                 zip(rec[outside][:5], epoch[outside][:5], length[outside][:5], strict=True)]
        raise DataError(f"Labels file {path}: {int(outside.sum())} label(s) for epochs that "
                        f"do not exist (epochs count from 0): {shown}, line(s) "
                        f"{line[outside][:5].tolist()}.")
    stage = table["stage"]
    empty = stage.isna().to_numpy() | (stage.fillna("").str.strip() == "").to_numpy()
    if empty.any():
        raise DataError(f"Labels file {path}: line(s) {line[empty][:5].tolist()} have no "
                        "stage.")
    stage = np.array([STAGE_SPELLINGS.get(s.upper(), s) for s in stage.str.strip()],
                     dtype=object)
    unknown_stage = ~np.isin(stage.astype(str), classes)
    if unknown_stage.any():
        raise DataError(f"Labels file {path}: unknown stage(s) "
                        f"{sorted(set(stage[unknown_stage].tolist()))} on line(s) "
                        f"{line[unknown_stage][:5].tolist()}; the model's stages are "
                        f"{classes}.")
    position = np.array([starts[r] for r in rec]) + epoch
    twice = pd.Index(position).duplicated(keep=False)
    if twice.any():
        raise DataError(f"Labels file {path}: epoch(s) labelled more than once, on lines "
                        f"{line[twice][:6].tolist()}.")
    return dict(zip(position.tolist(), stage.tolist(), strict=True))


def run(args) -> int:
    import numpy as np

    from .._internal.anatomy import split_pipeline
    from .._internal.groups import recording_segments
    from ..io import load_model, save_model
    from ..pipelines import adapt

    check_outputs(args, [args.out])  # not the model or labels it reads, even with --force
    model = load_model(args.model, trust_pickle=args.trust_pickle)
    data = load_data(args, need_labels=False, model=model, purpose="adapt").data
    groups = np.asarray(data.groups).astype(str)
    segments = recording_segments(groups, len(groups))  # contiguous: ids = data.recordings
    recordings = [str(r) for r in segments.ids]
    lengths = dict(zip(recordings, segments.lengths.tolist(), strict=True))
    starts = dict(zip(recordings, segments.starts.tolist(), strict=True))
    classes = [str(c) for c in model.pipeline.classes_]
    # stage names as written; adapt maps them onto the model's classes
    labels = read_labels(args.labels, recordings, lengths, starts, classes)
    adapted = adapt(model.pipeline, data.X, labels, groups, bias=not args.no_bias)
    adaptation = dict(split_pipeline(adapted)[1].adaptation_)
    adaptation.update({"labels_file": str(Path(args.labels).resolve()),
                       "adapted_from": str(Path(args.model).resolve()),
                       "recordings": recordings})
    metadata = {k: v for k, v in model.metadata.items() if k not in _FRESH_KEYS}
    metadata["adaptation"] = adaptation
    # data: the layout (or a feature table's columns) the model reads; the training-data
    # summary stays the original one (from metadata)
    save_model(adapted, args.out, metadata=metadata, data=data, force=args.force)
    counts = ", ".join(f"{k} {v}" for k, v in adaptation["labels_per_stage"].items())
    print(f"Adapted {args.model} to {len(recordings)} recording(s) with {len(labels)} "
          f"labelled epochs ({counts}): {', '.join(adaptation['method'])}.")
    print(f"Model written to {args.out}")
    return 0
