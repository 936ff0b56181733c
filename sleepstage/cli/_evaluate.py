"""``sleepstage evaluate``: recording-wise or block-wise cross-validation."""

from __future__ import annotations

import argparse
from pathlib import Path

from .._version import __version__
from ._args import add_subcommand
from ._data_args import describe_sources
from ._fit import add_pipeline_arguments
from ._loading import load_data
from ._outputs import check_outputs
from ._parallel import add_parallel_arguments, resolve_n_jobs
from ._predict import add_trust_argument


def add_cv_arguments(parser: argparse.ArgumentParser) -> None:
    """``--cv``, shared by evaluate and grid-search."""
    parser.add_argument("--cv", metavar="SCHEME",
                        help="'recording' (leave one recording out) or 'blocks:K[:GAP]' (K "
                             "contiguous time blocks, GAP epochs left out of training on "
                             "each side of a test block; default GAP: the 60-s context "
                             "window, 15 epochs of 4 s, 2 of 30 s); default: recording when "
                             "there are several recordings, else blocks:5")


def check_cv(text: str | None) -> None:
    """Reject a malformed ``--cv`` before any data are loaded."""
    from ._args import UsageError

    if text is None or text == "recording":
        return
    head, _, rest = text.partition(":")
    count, _, gap = rest.partition(":")
    if head != "blocks" or not count.isdigit() or int(count) < 2:
        raise UsageError(f"--cv must be 'recording' or 'blocks:K[:GAP]' with an integer "
                         f"K >= 2 (e.g. blocks:5), got {text!r}.")
    if ":" in rest and not gap.isdigit():
        raise UsageError(f"--cv blocks:K:GAP: GAP (epochs left out of training on each side "
                         f"of a test block) must be an integer >= 0 (e.g. blocks:5:15), got "
                         f"{gap!r} in {text!r}.")


def default_cv(args, data) -> str:
    """The ``--cv`` value, or the sensible default for the data."""
    if args.cv:
        return args.cv
    return "recording" if len(data.recordings) >= 2 else "blocks:5"


def add_parser(subparsers, parents) -> None:
    parser = add_subcommand(
        subparsers, "evaluate", parents,
        help="cross-validate a pipeline across recordings or time blocks",
        description="Cross-validate a staging pipeline, leaving out whole recordings (or "
                    "contiguous time blocks of a single recording), never shuffled epochs. "
                    "Prints tables and writes JSON with, per fold, per recording and pooled "
                    "over all held-out epochs (the headline): balanced accuracy, Cohen's "
                    "kappa, per-class F1, the confusion matrix, time in each stage (true, "
                    "predicted, error in points), bouts per hour and mean bout duration per "
                    "stage, transitions per hour, and the calibration of the confidence "
                    "(expected calibration error, share of the errors among the 10 % least "
                    "confident epochs).",
        examples=(
            "sleepstage evaluate --synthetic 3 --cv recording -o evaluation.json --plot",
            "sleepstage evaluate --sleep-edf 0 --cv blocks:5 --model night.joblib",
            "sleepstage evaluate --task4 data/ --n-jobs 2",
        ),
    )
    add_pipeline_arguments(parser)
    parser.add_argument("--model", metavar="FILE",
                        help="evaluate the configuration of this model file (refitted in "
                             "every fold) instead of --pipeline")
    add_trust_argument(parser)
    add_cv_arguments(parser)
    add_parallel_arguments(parser, tasks="folds", default="1")
    parser.add_argument("-o", "--out", default="evaluation.json", metavar="FILE",
                        help="JSON results (default: evaluation.json)")
    parser.add_argument("--plot", action="store_true",
                        help="also write the pooled confusion matrix next to the JSON")
    parser.set_defaults(run=run)


def run(args) -> int:
    from sklearn.base import clone

    from ..io import load_model, write_json
    from ..pipelines import cross_validate_recordings
    from ..report import confusion
    from ._pipeline import apply_settings, build_pipeline, silence_neural
    from ._settings import check_settings

    check_cv(args.cv)
    out = Path(args.out)
    png = out.with_name(f"{out.stem}_confusion.png")
    check_outputs(args, [out, *([png] if args.plot else [])])
    model = load_model(args.model, trust_pickle=args.trust_pickle) if args.model else None
    if model is None:
        check_settings(args.pipeline, args.settings, args)
    data = load_data(args, need_labels=True, model=model, purpose="evaluate").data
    if model is not None:
        pipeline = clone(model.pipeline)
        if args.quiet:
            silence_neural(pipeline)
        settings = apply_settings(pipeline, args.settings)
        name = model.metadata.get("pipeline_name", str(args.model))
    else:
        pipeline, settings = build_pipeline(args.pipeline, args.settings, data, args.seed,
                                            quiet=args.quiet)
        name = args.pipeline
    cv = default_cv(args, data)
    report = cross_validate_recordings(pipeline, data, cv=cv, n_jobs=resolve_n_jobs(args, 1),
                                       return_predictions=args.plot)
    print(report)
    results = {
        "sleepstage_version": __version__,
        "pipeline": name,
        "settings": settings,
        "sources": describe_sources(args),
        "n_epochs": data.n_epochs,
        "n_recordings": len(data.recordings),
        "epoch_length": data.epoch_length,
        **report.to_dict(),
    }
    write_json(out, results, force=args.force)
    if args.plot:
        sources = "; ".join(results["sources"])
        confusion(data.y, report.predictions, labels=report.labels,
                  title=f"{name}, cross-validation: {report.cv}\ndata: {sources}",
                  path=png, force=args.force)
    print(f"Results written to {out}" + (f" and {png}" if args.plot else ""))
    return 0
