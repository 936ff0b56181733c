"""``sleepstage predict``: score recordings with a model file."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from ._args import DataError, add_subcommand, safe_name
from ._loading import load_data, recording_id

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
                    "rate, cut into the model's epoch length.",
        examples=(
            "sleepstage predict night.joblib --edf eeg.edf \\",
            "    --rename 'EEG C3=EEG Fpz-Cz' --rename 'EEG O1=EEG Pz-Oz' \\",
            "    --rename 'EMG EMG1=EMG submental' --annotations --plot -o scored/",
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
        key = stem.name.lower()
        if key in owners:
            raise DataError(
                f"Recordings {str(owners[key])!r} and {str(rec)!r} would both be written to "
                f"{stem.with_suffix('.csv')}: file names keep only letters, digits, '.', '_' "
                "and '-' (and some file systems ignore case). Give the recordings distinct "
                "names."
            )
        owners[key] = rec
        outputs[rec] = [stem.with_suffix(s) for s in suffixes]
    return outputs


def add_trust_argument(parser) -> None:
    """``--trust-pickle``, for every subcommand that loads a model file."""
    parser.add_argument("--trust-pickle", action="store_true",
                        help="load a model file that stores its pipeline as a pickle (the "
                             "neural models do): this runs code from the file, so use it "
                             "only for files you made or trust")


def run(args) -> int:
    import numpy as np

    from ..features import detect_artefacts
    from ..io import (
        atomic_outputs,
        check_folder,
        check_writable,
        load_model,
        write_edf_annotations,
        write_table,
    )
    from ..metrics import staging_scores
    from ..pipelines import predict_with_groups
    from ..report import hypnogram
    from ._provenance import warn_if_unlike_training

    out_dir = Path(args.out_dir)
    check_folder(out_dir)  # before the model and the data are read
    model = load_model(args.model, trust_pickle=args.trust_pickle)
    loaded = load_data(args, need_labels=False, model=model, purpose="predict")
    data = loaded.data
    warn_if_unlike_training(model.metadata, data)  # e.g. raw EMG onto an EMG envelope
    recordings = list(data.recordings)
    # File names follow the recording ids, known once the sources are read: every output is
    # checked here, before any computation.
    outputs = output_paths(recordings, out_dir, annotations=args.annotations, plot=args.plot)
    every = [path for paths in outputs.values() for path in paths]
    check_writable(every, force=args.force)

    pipeline = model.pipeline
    proba = np.asarray(predict_with_groups(pipeline, data.X, data.groups,
                                           method="predict_proba"), dtype=float)
    pred = np.asarray(predict_with_groups(pipeline, data.X, data.groups))
    classes = list(pipeline.classes_)
    flags = detect_artefacts(data.X, data.groups, **data.layout())
    _warn_about_inputs(data, classes, flags)
    groups = np.asarray(data.groups)
    lines = []
    # All outputs or none: each is written to a temporary file next to it and moved into
    # place once every one exists; a failure removes only what this run wrote.
    with atomic_outputs(every, force=args.force) as temps:
        temp = dict(zip(every, temps, strict=True))
        for rec in recordings:
            mask = groups == rec
            n = int(mask.sum())
            onsets = (data.onsets[mask] if data.onsets is not None
                      else np.arange(n) * data.epoch_length)
            scored = None if data.y is None else np.asarray(data.y)[mask]
            table = hypnogram_table(pred[mask], proba[mask], classes, onsets, scored,
                                    flags[mask])
            csv, *others = outputs[rec]
            write_table(table, temp[csv], force=True)
            for path in others:
                if path.suffix == ".edf":
                    starts, durations, stages = _bouts(pred[mask], onsets, data.epoch_length)
                    texts = [_EDF_TEXT.get(str(s), f"Sleep stage {s}") for s in stages]
                    write_edf_annotations(temp[path], starts, durations, texts,
                                          start=loaded.starts.get(rec), force=True)
                else:
                    hypnogram(scored, pred[mask], proba[mask], classes=classes,
                              epoch_length=data.epoch_length, title=str(rec),
                              path=temp[path], force=True)
            line = f"{rec}: {n} epochs -> {', '.join(p.name for p in outputs[rec])}"
            n_flagged = int(flags["artefact"].to_numpy()[mask].sum())
            if n_flagged:
                line += f", {n_flagged} flagged as artefacts"
            if scored is not None:
                agreement = float(np.mean(scored == pred[mask]))
                balanced = staging_scores(scored, pred[mask])["balanced_accuracy"]
                line += f" (agreement {agreement:.3f}, balanced accuracy {balanced:.3f})"
            lines.append(line)
    for line in lines:
        print(line)
    print(f"Outputs written to {out_dir}")
    return 0
