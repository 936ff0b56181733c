"""``sleepstage predict``: score recordings with a model file."""

from __future__ import annotations

import copy
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._args import DataError, add_subcommand, safe_name
from ._data_args import EDF_OPTIONS, SOURCE_OPTIONS, has_source
from ._loading import _unique_id, check_against_model, edf_entries, load_data, recording_id
from ._outputs import check_outputs
from ._parallel import add_parallel_arguments, dask_backend, local_threads, resolve_n_jobs
from ._review import (
    add_review_arguments,
    add_review_outputs,
    review_settings,
    review_table,
)

if TYPE_CHECKING:
    import numpy as np

#: Preferred column order of the stage probabilities.
_CANONICAL = ("WAKE", "N1", "N2", "N3", "NREM", "REM")
#: EDF+ annotation text of each stage (Sleep-EDF style).
_EDF_TEXT = {"WAKE": "Sleep stage W", "REM": "Sleep stage R", "NREM": "Sleep stage N",
             "N1": "Sleep stage N1", "N2": "Sleep stage N2", "N3": "Sleep stage N3"}


def add_parser(subparsers, parents) -> None:
    parser = add_subcommand(
        subparsers, "predict", parents,
        help="score recordings with a model file (hypnogram CSV, EDF+, plot)",
        description="Score every epoch of the given recordings with a model file. Each "
                    "recording gets <id>_hypnogram.csv with columns epoch, onset (s), stage, "
                    "proba_<STAGE> for every class, confidence (the probability of the "
                    "predicted stage, halved for epochs flagged as artefacts), artefact and "
                    "artefact_reasons (clipping, flat line or extreme amplitude, per channel) "
                    "and, for scored data, scored. Recordings are matched to "
                    "the model: channels by name (see --rename), resampled to the model's "
                    "rate, cut into the model's epoch length. An EDF file is read a chunk of "
                    "epochs at a time, so its samples are never all in memory (a neural "
                    "model reads it whole). Recordings are scored one at a "
                    "time (or several at once with --n-jobs / --dask-scheduler) and each "
                    "one's outputs are written as soon as it is done; a recording that fails "
                    "is reported and the others are kept (exit status 1).",
        examples=(
            "sleepstage predict night.joblib --edf eeg.edf \\",
            "    --rename 'EEG C3=EEG Fpz-Cz' --rename 'EEG O1=EEG Pz-Oz' \\",
            "    --rename 'EMG EMG1=EMG submental' --annotations --plot -o scored/",
            "sleepstage predict night.joblib --edf 'study/*.edf' --n-jobs 2 -o scored/",
        ),
    )
    parser.add_argument("model", help="model file written by 'sleepstage fit'")
    parser.add_argument("-o", "--out-dir", default=".", metavar="DIR",
                        help="folder for the outputs (default: current folder)")
    parser.add_argument("--annotations", action="store_true",
                        help="also write <id>_hypnogram.edf (EDF+ annotations)")
    parser.add_argument("--plot", action="store_true",
                        help="also write <id>_hypnogram.png")
    add_trust_argument(parser)
    add_review_arguments(parser)
    add_parallel_arguments(parser, tasks="recordings scored", default="1")
    parser.set_defaults(run=run)


def _ordered(classes) -> list:
    known = [c for c in _CANONICAL if c in classes]
    return known + [c for c in classes if c not in known]


def _bouts(stages: np.ndarray, onsets: np.ndarray, epoch_length: float):
    """Merge consecutive epochs of one stage (split at gaps) into (onset, duration, stage)."""
    import numpy as np

    new = np.ones(len(stages), dtype=bool)
    new[1:] = (stages[1:] != stages[:-1]) | ~np.isclose(np.diff(onsets), epoch_length)
    starts = np.flatnonzero(new)
    stops = np.append(starts[1:], len(stages))
    durations = onsets[stops - 1] + epoch_length - onsets[starts]
    return onsets[starts], durations, stages[starts]


def hypnogram_table(recording_pred, proba, classes, onsets, scored=None, artefacts=None):
    """The per-recording output table (pandas DataFrame).

    With ``artefacts`` (the rows of :func:`~sleepstage.features.detect_artefacts` for the
    recording), the table gains ``artefact`` and ``artefact_reasons`` columns and the
    confidence of flagged epochs is multiplied by
    :data:`~sleepstage.features.ARTEFACT_CONFIDENCE_FACTOR`.
    """
    import numpy as np
    import pandas as pd

    from ..features import flag_confidence

    column = {c: i for i, c in enumerate(classes)}
    table = pd.DataFrame({"epoch": np.arange(len(recording_pred)), "onset": onsets,
                          "stage": recording_pred})
    if scored is not None:
        table["scored"] = scored
    for c in _ordered(classes):
        table[f"proba_{c}"] = proba[:, column[c]]
    index = np.array([column[p] for p in recording_pred.tolist()], dtype=int)
    table["confidence"] = proba[np.arange(len(index)), index]
    if artefacts is not None:
        flagged = np.asarray(artefacts["artefact"], dtype=bool)
        table["confidence"] = flag_confidence(table["confidence"].to_numpy(), flagged)
        table["artefact"] = flagged
        table["artefact_reasons"] = np.asarray(artefacts["reasons"], dtype=object)
    return table


def _warn_about_inputs(data, classes, flags) -> None:
    """Warn about scored stages the model never saw and recordings full of artefacts."""
    import numpy as np

    if data.y is not None:
        unseen = sorted(set(np.asarray(data.y).tolist()) - set(classes), key=str)
        if unseen:
            warnings.warn(
                f"Scored stage(s) {unseen} were never seen by the model (classes {classes}); "
                "those epochs count as disagreements in the summary.",
                UserWarning, stacklevel=2,
            )
    if flags is None:  # no raw signal (a feature table): nothing was flagged
        return
    share = flags.groupby(np.asarray(data.groups), sort=False)["artefact"].mean()
    for rec, value in share[share > 0.25].items():
        warnings.warn(
            f"{value:.0%} of the epochs of recording {rec!r} are flagged as artefacts (see "
            "the artefact_reasons column); its hypnogram is unreliable.",
            UserWarning, stacklevel=2,
        )


def output_paths(recordings, out_dir: Path, *, annotations: bool = False,
                 plot: bool = False) -> dict:
    """The files ``predict`` writes for each recording, in ``out_dir``.

    Raises
    ------
    DataError
        If two recordings would share a file name (ids that differ only in characters that
        file names drop, or in case), naming both and the file.
    """
    suffixes = [".csv", *([".edf"] if annotations else []), *([".png"] if plot else [])]
    outputs, owners = {}, {}
    for rec in recordings:
        stem = out_dir / f"{recording_id(safe_name(rec))}_hypnogram"
        # not with_suffix: a '.' in the id (mouse.1) would be taken for a suffix and replaced
        paths = [stem.with_name(stem.name + s) for s in suffixes]
        key = stem.name.lower()
        if key in owners:
            raise DataError(
                f"Recordings {str(owners[key])!r} and {str(rec)!r} would both be written to "
                f"{paths[0]}: file names keep only letters, digits, '.', '_' "
                "and '-' (and some file systems ignore case). Give the recordings distinct "
                "names."
            )
        owners[key] = rec
        outputs[rec] = paths
    return outputs


def add_trust_argument(parser) -> None:
    """``--trust-pickle``, for every subcommand that loads a model file."""
    parser.add_argument("--trust-pickle", action="store_true",
                        help="load a model file that stores its pipeline as a pickle (the "
                             "neural models do): this runs code from the file, so use it "
                             "only for files you made or trust")


@dataclass
class _Scored:
    """One recording's predictions, ready to be written."""

    rec: str
    table: Any  # pandas DataFrame, see hypnogram_table
    pred: Any
    proba: Any
    classes: list
    scored: Any  # the scored stages, or None
    onsets: Any
    epoch_length: float
    start: Any  # datetime of the recording's start, or None


@dataclass
class _Failed:
    """A recording that could not be scored, and why."""

    rec: str
    error: BaseException


def _score(model, data, start) -> _Scored:
    """Predict every epoch of ``data`` (one recording) and build its output table."""
    import numpy as np

    from .._internal.routing import predict_and_proba
    from ..features import detect_artefacts
    from ..pipelines import predict_rows
    from ._provenance import warn_if_unlike_training
    from ._stream import StreamedRecording

    pipeline = model.pipeline
    if isinstance(data, StreamedRecording):  # read in chunks: features and flags are ready
        warn_if_unlike_training(model.metadata, data, edges=data.edges)
        pred, proba = predict_rows(data.rest, data.features, data.groups)  # context in blocks
        flags = data.flags
    else:
        warn_if_unlike_training(model.metadata, data)  # e.g. raw EMG onto an EMG envelope
        pred, proba = predict_and_proba(pipeline, data.X, data.groups)  # features once
        flags = (detect_artefacts(data.X, data.groups, **data.layout()) if data.has_signal
                 else None)  # a feature table: no signal
    pred, proba = np.asarray(pred), np.asarray(proba, dtype=float)
    classes = list(pipeline.classes_)
    _warn_about_inputs(data, classes, flags)
    onsets = (np.asarray(data.onsets) if data.onsets is not None
              else np.arange(data.n_epochs) * data.epoch_length)
    scored = None if data.y is None else np.asarray(data.y)
    table = hypnogram_table(pred, proba, classes, onsets, scored, flags)
    return _Scored(rec=str(data.recordings[0]), table=table, pred=pred, proba=proba,
                   classes=classes, scored=scored, onsets=onsets,
                   epoch_length=data.epoch_length, start=start)


def _score_task(model, args, source, rec: str):
    """One task: load (an EDF entry) or take (an ``EpochData``) one recording and score it.

    Errors are returned, not raised, so that the other recordings go on.
    """
    try:
        streamed = None
        if isinstance(source, dict):  # an EDF recording, read here (in the worker) in chunks
            from ._stream import stream_edf

            streamed = stream_edf(model, args, {**source, "id": rec})
        if streamed is not None:
            data, start = streamed
        elif isinstance(source, dict):  # a neural model reads the whole recording's samples
            one = copy.copy(args)
            for option in SOURCE_OPTIONS:
                if option != "edf":
                    setattr(one, option, None)
            one.edf = [{**source, "id": rec}]
            loaded = load_data(one, need_labels=False, model=model, purpose="predict")
            data, start = loaded.data, loaded.starts.get(rec)
        else:
            data, start = source
        return _score(model, data, start)
    except Exception as exc:  # reported with the recording's name by the caller
        return _Failed(rec=rec, error=exc)


def plot_title(args, rec: str, source) -> str:
    """Title of a recording's hypnogram: the recording, the model file and the data."""
    from ._data_args import describe_sources

    data = (f"edf: {Path(source['psg']).name}" if isinstance(source, dict)
            else "; ".join(describe_sources(args)))
    return f"{rec}  |  model: {Path(args.model).name}  |  data: {data}"


def _write(result: _Scored, paths: list, force: bool, review: dict | None = None,
           title: str | None = None) -> str:
    """Write one recording's outputs (all or none) and return its summary line."""
    import numpy as np

    from ..io import atomic_outputs, write_edf_annotations, write_table
    from ..metrics import staging_scores
    from ..report import hypnogram

    pred, scored = result.pred, result.scored
    review = None if review is None else review_table(result.table, result.epoch_length,
                                                       review)
    with atomic_outputs(paths, force=force) as temps:
        csv, *others = temps
        write_table(result.table, csv, force=True)
        for final, path in zip(paths[1:], others, strict=True):
            if path.suffix == ".edf":
                starts, durations, stages = _bouts(pred, result.onsets, result.epoch_length)
                texts = [_EDF_TEXT.get(str(s), f"Sleep stage {s}") for s in stages]
                write_edf_annotations(path, starts, durations, texts, start=result.start,
                                      force=True)
            elif final.suffix == ".csv":  # the review list, the only other .csv (tested on
                # the destination: a temporary file takes the suffix of a link's target)
                write_table(review, path, force=True)
            else:
                hypnogram(scored, pred, result.proba, classes=result.classes,
                          marked=None if review is None else review["epoch"].to_numpy(),
                          epoch_length=result.epoch_length, onsets=result.onsets,
                          start=result.start, artefacts=result.table.get("artefact"),
                          title=title or result.rec, path=path, force=True)
    line = f"{result.rec}: {len(pred)} epochs -> {', '.join(p.name for p in paths)}"
    n_flagged = int(result.table["artefact"].sum()) if "artefact" in result.table else 0
    if n_flagged:
        line += f", {n_flagged} flagged as artefacts"
    if scored is not None:
        agreement = float(np.mean(scored == pred))
        balanced = staging_scores(scored, pred)["balanced_accuracy"]
        line += f" (agreement {agreement:.3f}, balanced accuracy {balanced:.3f})"
    return line


def _sources(args, model) -> dict:
    """``{recording id: source}`` in the order given, before any recording is read.

    EDF recordings (``--edf``, patterns, ``--edf-list``) are read one at a time by the tasks,
    their ids taken from the file names. Other sources (``--synthetic``, ``--task4``,
    ``--sleep-edf``, or those mixed with EDF files) are loaded together, as by the other
    subcommands, then scored one recording at a time.
    """
    others = any(getattr(args, o, None) for o in SOURCE_OPTIONS if o not in EDF_OPTIONS)
    if has_source(args) and not others:
        check_against_model(args, model)  # once, not once per recording
        entries = edf_entries(args)  # every file checked to exist
        used: set = set()
        return {_unique_id(Path(e["psg"]).stem, used): e for e in entries}
    import numpy as np

    loaded = load_data(args, need_labels=False, model=model, purpose="predict")
    data, groups = loaded.data, np.asarray(loaded.data.groups)
    return {str(rec): (data.select(groups == rec), loaded.starts.get(rec))
            for rec in data.recordings}


def run(args) -> int:
    from contextlib import ExitStack

    from joblib import Parallel, delayed

    from .._internal.threads import limit_threads
    from ..io import check_folder, load_model

    out_dir = Path(args.out_dir)
    check_folder(out_dir)  # before the model and the data are read
    n_jobs = resolve_n_jobs(args, 1)
    model = load_model(args.model, trust_pickle=args.trust_pickle)
    sources = _sources(args, model)
    # File names follow the recording ids: every output is checked here, before any work.
    outputs = add_review_outputs(output_paths(list(sources), out_dir,
                                              annotations=args.annotations, plot=args.plot),
                                 args)
    check_outputs(args, [path for paths in outputs.values() for path in paths])

    tasks = (delayed(_score_task)(model, args, source, rec) for rec, source in sources.items())
    failed = []
    with ExitStack() as stack:
        stack.enter_context(dask_backend(args.dask_scheduler))
        if n_jobs == 1 or len(sources) == 1:
            results = (task(*a, **k) for task, a, k in tasks)
        else:
            # the tasks run at the same time: each on one thread (the same predictions)
            _, changed = limit_threads(model.pipeline)
            if changed:
                model.pipeline.set_params(**dict.fromkeys(changed, 1))
            stack.enter_context(local_threads(args))  # reading, features, LightGBM: no GIL
            results = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(tasks)
        # Each recording's outputs are written (all or none) as soon as it is scored.
        review = review_settings(args)
        for result in results:
            if isinstance(result, _Scored):
                try:
                    print(_write(result, outputs[result.rec], args.force, review,
                                 plot_title(args, result.rec, sources[result.rec])), flush=True)
                    continue
                except Exception as exc:
                    result = _Failed(rec=result.rec, error=exc)
            if len(sources) == 1:
                raise result.error  # one recording: the error is the command's
            failed.append(result.rec)
            print(f"sleepstage: error: recording {result.rec}: {result.error}",
                  file=sys.stderr, flush=True)
    if failed:
        print(f"sleepstage: error: {len(failed)} of {len(sources)} recordings failed "
              f"({', '.join(failed)}); the outputs of the others are in {out_dir}.",
              file=sys.stderr)
        return 1
    print(f"Outputs written to {out_dir}")
    return 0
