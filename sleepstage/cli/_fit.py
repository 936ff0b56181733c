"""``sleepstage fit``: train a stager on scored recordings and write a model file.

The features of the recordings are computed in parallel (:func:`sleepstage.parallel.fit_pipeline`:
one task per recording, on threads here or on a Dask cluster), the rest of the pipeline is
fitted on them in this process.
"""

from __future__ import annotations

import argparse
import time

from ._args import add_subcommand
from ._data_args import describe_sources
from ._loading import load_data
from ._outputs import check_outputs
from ._parallel import add_parallel_arguments, local_threads, resolve_n_jobs

PIPELINES = ("lgbm", "hgb", "logreg", "lstm", "cnn")


def add_pipeline_arguments(parser: argparse.ArgumentParser) -> None:
    """``--pipeline`` and ``--set``, shared by fit, evaluate and grid-search."""
    parser.add_argument("--pipeline", choices=PIPELINES, default="lgbm",
                        help="final classifier: LightGBM (default), HistGradientBoosting, "
                             "logistic regression, or the neural LSTM / CNN baselines")
    parser.add_argument("--set", action="append", dest="settings", metavar="KEY=VALUE",
                        help="pipeline setting or hyper-parameter (repeatable), e.g. "
                             "n_estimators=500, smoothing=null, context=false, "
                             "classifier__estimator__num_leaves=15")


def add_parser(subparsers, parents) -> None:
    parser = add_subcommand(
        subparsers, "fit", parents,
        help="train a stager and save it as a model file",
        description="Train a staging pipeline on scored recordings and write a model file "
                    "(a zip archive whose metadata.json is checked before the pipeline is "
                    "loaded) carrying its metadata: versions, sampling rate, channels, "
                    "epoch length, classes, feature names, training-data summary, parameters.",
        examples=(
            "sleepstage fit --synthetic 3 --hours 24 -o mice.joblib",
            "sleepstage fit --edf SC4001E0-PSG.edf --hypnogram SC4001EC-Hypnogram.edf \\",
            "    --channel 'EEG Fpz-Cz=eeg' --channel 'EEG Pz-Oz=eeg' \\",
            "    --channel 'EMG submental=emg' --keep-wake-minutes 30 \\",
            "    --set n_estimators=500 -o night.joblib",
            "sleepstage fit --task4 data/ --dask-scheduler tcp://10.0.0.1:8786 -o mice.joblib",
        ),
    )
    add_pipeline_arguments(parser)
    add_parallel_arguments(parser, tasks="recordings whose features are computed (one "
                                         "recording: threads on its batches of epochs)",
                           default="-1, every core")
    parser.add_argument("-o", "--out", default="model.joblib", metavar="FILE",
                        help="model file to write (default: model.joblib)")
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..io import save_model
    from ..parallel import fit_pipeline
    from ._pipeline import build_pipeline
    from ._provenance import describe_training
    from ._settings import check_settings

    check_outputs(args, [args.out])
    check_settings(args.pipeline, args.settings, args)
    data = load_data(args, need_labels=True, purpose="fit").data
    pipeline, settings = build_pipeline(args.pipeline, args.settings, data, args.seed,
                                        quiet=args.quiet)
    n_jobs = resolve_n_jobs(args, -1)
    start = time.perf_counter()
    with local_threads(args):
        fit_pipeline(pipeline, data, n_jobs=n_jobs)  # a feature table: artefacts not judged
    seconds = time.perf_counter() - start
    # save_model refuses an incomplete or unfitted pipeline before it writes anything, so a
    # failed fit never leaves a model file behind.
    save_model(pipeline, args.out, data=data, force=args.force, metadata={
        "pipeline_name": args.pipeline,
        "settings": settings,
        "sources": describe_sources(args),
        "fit_seconds": round(seconds, 3),
        **describe_training(data),  # for the checks of predict and importances
    })
    classes = ", ".join(map(str, pipeline.classes_))
    print(f"Fitted {args.pipeline} on {data.n_epochs} epochs from {len(data.recordings)} "
          f"recording(s) in {seconds:.1f} s (classes {classes}).")
    print(f"Model written to {args.out}")
    return 0
