"""``sleepstage features``: the named feature table of any data source."""

from __future__ import annotations

from ._args import UsageError, add_subcommand, parse_assignment, parse_value
from ._loading import load_data
from ._outputs import check_outputs
from ._parallel import add_parallel_arguments, local_threads, resolve_n_jobs


def add_parser(subparsers, parents) -> None:
    parser = add_subcommand(
        subparsers, "features", parents,
        help="write the named per-epoch feature table (CSV or Parquet)",
        description="Compute the per-epoch features (band powers, spectral shape, EMG, Hjorth, "
                    "time statistics; optionally per-recording scaling and temporal context "
                    "as in the default pipeline) and write one row per epoch with columns "
                    "recording, epoch, onset, stage (when scored) and one column per feature.",
        examples=(
            "sleepstage features --synthetic 1 --hours 2 -o features.parquet",
            "sleepstage features --edf eeg.edf --channel 'EEG C3=eeg' \\",
            "    --channel 'EMG EMG1=emg' --epoch-length 30 --set method=multitaper",
            "sleepstage features --task4 data/ --dask-scheduler tcp://10.0.0.1:8786 \\",
            "    -o features.parquet",
        ),
    )
    parser.add_argument("--set", action="append", dest="settings", metavar="KEY=VALUE",
                        help="EpochFeatures parameter (repeatable), e.g. method=multitaper")
    parser.add_argument("--context", action="store_true",
                        help="add per-recording scaling and temporal-context features")
    parser.add_argument("-o", "--out", default="features.csv", metavar="FILE",
                        help="output: .csv, or .parquet/.pq for Parquet; other suffixes are "
                             "refused (default: features.csv)")
    add_parallel_arguments(parser, tasks="recordings (one recording: threads on its "
                                         "batches of epochs)", default="-1, every core")
    parser.set_defaults(run=run)


def feature_frame(data, settings: dict, *, context: bool, n_jobs: int | None = -1):
    """Features of every epoch as a DataFrame with recording/epoch/onset/stage columns.

    The per-epoch features come from :func:`sleepstage.parallel.extract_features` (one
    joblib task per recording, ``n_jobs`` at a time, on the active joblib backend); with
    ``context``, per-recording scaling and the temporal-context step of the default
    pipeline follow. The scaling is the recording's own median and quantile range
    (``RecordingScaler(reference="recording")``): the default pipeline's stage-anchored
    scaling needs stage labels to learn its reference, and an exported table must not carry
    its own labels inside its features.
    """
    import numpy as np
    import pandas as pd

    from ..features import RecordingScaler
    from ..parallel import extract_features
    from ..pipelines import make_staging_pipeline, scaler_min_epochs

    settings = dict(settings)
    batch_size = settings.pop("batch_size", 4096)
    Xt, names = extract_features(data, n_jobs=n_jobs, batch_size=batch_size, **settings)
    if context:  # the steps between features and classifier of the default pipeline
        scaler = RecordingScaler(reference="recording",
                                 min_epochs=scaler_min_epochs(data.epoch_length))
        steps = make_staging_pipeline(**data.layout(), scaler=scaler, context=True,
                              smoothing=None)[1:-1]
        for _, step in steps.steps:
            Xt = step.fit_transform(Xt, groups=data.groups)
        names = steps.get_feature_names_out(names)
    groups = np.asarray(data.groups)
    position = np.arange(len(groups))
    starts = np.r_[0, np.flatnonzero(groups[1:] != groups[:-1]) + 1]
    epoch = position - np.repeat(starts, np.diff(np.r_[starts, len(groups)]))
    columns = {"recording": groups, "epoch": epoch,
               "onset": data.onsets if data.onsets is not None else epoch * data.epoch_length}
    if data.y is not None:
        columns["stage"] = np.asarray(data.y)
    meta = pd.DataFrame(columns)
    return pd.concat([meta, pd.DataFrame(Xt, columns=list(names))], axis=1)


def run(args) -> int:
    from ..io import table_format, write_table
    from ._settings import check_feature_settings

    try:
        table_format(args.out)  # refuse e.g. .xlsx before any work, instead of CSV inside
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    check_outputs(args, [args.out])
    if getattr(args, "feature_table", None):
        raise UsageError("features computes features from raw signals; a --feature-table "
                         "already holds them (give --edf, --task4, --sleep-edf or --synthetic).")
    settings = {}
    for text in args.settings or []:
        key, value = parse_assignment(text, "--set")
        settings[key] = parse_value(value)
    if "n_jobs" in settings:
        raise UsageError("--set n_jobs=... is not a feature setting here: use --n-jobs N.")
    check_feature_settings(settings, args)  # before any data are read
    n_jobs = resolve_n_jobs(args, -1)
    data = load_data(args, need_labels=False, purpose="features").data
    with local_threads(args):
        table = feature_frame(data, settings, context=args.context, n_jobs=n_jobs)
    write_table(table, args.out, force=args.force)
    n_features = table.shape[1] - (4 if data.y is not None else 3)
    print(f"{data.n_epochs} epochs x {n_features} features from {len(data.recordings)} "
          f"recording(s) written to {args.out}")
    return 0
