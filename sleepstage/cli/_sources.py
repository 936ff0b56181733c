"""Data sources shared by every subcommand, and matching a recording to a model's layout."""

from __future__ import annotations

import argparse
import dataclasses
import logging
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ._args import AppendEdf, AttachHypnogram, DataError, UsageError, parse_assignment

__all__ = ["Loaded", "add_data_arguments", "describe_sources", "has_source", "load_data"]

logger = logging.getLogger("sleepstage.cli")


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0 (0 must not pass for "use the default")."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the data-source options (``--task4``, ``--edf``, ``--synthetic``, ...)."""
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
                       help="an EDF/EDF+ recording (repeatable)")
    group.add_argument("--hypnogram", action=AttachHypnogram, metavar="HYP",
                       help="EDF+ scoring of the preceding --edf")
    group.add_argument("--sleep-edf", metavar="SUBJECTS",
                       help="Sleep-EDF subjects through MNE's fetcher, e.g. 0,1")
    group.add_argument("--sleep-edf-recording", default="1", metavar="NIGHTS",
                       help="Sleep-EDF nights per subject, e.g. 1,2 (default: 1)")
    group.add_argument("--data-dir", metavar="DIR",
                       help="folder holding physionet-sleep-data/ (default: "
                            "$SLEEPSTAGE_DATA_DIR, else MNE's data folder: "
                            "PHYSIONET_SLEEP_PATH, MNE_DATA or ~/mne_data)")
    group.add_argument("--channel", action="append", metavar="NAME[=TYPE]",
                       help="channel to use and its type (eeg, emg, eog), e.g. "
                            "'EEG Fpz-Cz=eeg' (repeatable; default: all EEG/EMG/EOG channels, "
                            "or the model's channels)")
    group.add_argument("--rename", action="append", metavar="OLD=NEW",
                       help="rename a channel after loading, e.g. to the model's names: "
                            "'EEG C3=EEG Fpz-Cz' (repeatable)")
    group.add_argument("--stages", type=int, choices=(3, 5), default=3,
                       help="EDF scoring: 3 classes (WAKE/NREM/REM) or 5 (AASM); default 3")
    group.add_argument("--keep-wake-minutes", type=float, metavar="MIN",
                       help="keep the sleep period +/- MIN minutes of wake (EDF default: all; "
                            "Sleep-EDF default: 30; negative: all)")
    group.add_argument("--epoch-length", type=positive_float, metavar="S",
                       help="epoch length in seconds (default: the model's, else 4 for "
                            "synthetic/--task4 and 30 for EDF)")
    group.add_argument("--sfreq", type=positive_float, metavar="HZ",
                       help="resample to this sampling rate (default: the model's, else keep)")


def has_source(args) -> bool:
    """Whether any data source was given."""
    return any(getattr(args, name, None) for name in ("synthetic", "task4", "edf", "sleep_edf"))


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
    if args.sleep_edf:
        out.append(f"sleep-edf: subjects {args.sleep_edf}, nights {args.sleep_edf_recording}")
    return out


@dataclass
class Loaded:
    """Loaded epochs plus what the outputs need to know about each recording."""

    data: Any
    starts: dict = field(default_factory=dict)  # recording id -> datetime of its start


# -- parsing helpers ------------------------------------------------------------------------------
def _int_list(text: str, option: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise UsageError(f"{option} expects integers separated by commas, got {text!r}.") from None
    if not values:
        raise UsageError(f"{option} expects at least one integer.")
    return values


def _channel_spec(args) -> dict[str, str | None] | None:
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


def _renames(args) -> dict[str, str]:
    """``{old: new}`` from ``--rename``; a channel renamed twice, or two to one name, is wrong."""
    renames: dict[str, str] = {}
    for text in args.rename or []:
        old, new = parse_assignment(text, "--rename")
        new = new.strip()
        if not new:
            raise UsageError(f"--rename {text!r} gives no new name.")
        if old in renames and renames[old] != new:
            raise UsageError(f"--rename gives channel {old!r} two new names, {renames[old]!r} "
                             f"and {new!r}; give one.")
        clash = [o for o, n in renames.items() if n == new and o != old]
        if clash:
            raise UsageError(f"--rename gives channels {clash[0]!r} and {old!r} the same name "
                             f"{new!r}; each channel needs its own name.")
        renames[old] = new
    return renames


def _guess_type(name: str) -> str:
    lower = name.lower()
    return "emg" if "emg" in lower else "eog" if "eog" in lower else "eeg"


def _typed(spec: dict[str, str | None]) -> dict[str, str]:
    return {name: ch_type or _guess_type(name) for name, ch_type in spec.items()}


# -- EpochData transformations ------------------------------------------------------------------
def _pick(data, names, types=None, *, source: str, hint: str = ""):
    missing = [c for c in names if c not in data.ch_names]
    if missing:
        raise DataError(
            f"{source}: channel(s) {missing} not found; it has {list(data.ch_names)}.{hint}"
        )
    index = [data.ch_names.index(c) for c in names]
    if types is None:
        types = [data.ch_types[i] for i in index]
    return dataclasses.replace(data, X=data.X[:, index, :], ch_names=tuple(names),
                               ch_types=tuple(types))


def _rename(data, renames: dict[str, str]):
    if not renames:
        return data
    names = tuple(renames.get(c, c) for c in data.ch_names)
    if len(set(names)) != len(names):
        raise DataError(f"--rename makes channel names collide: {list(names)}.")
    return dataclasses.replace(data, ch_names=names)


def resample_epochs(data, sfreq: float):
    """Resample every epoch to ``sfreq`` (polyphase filter, per epoch)."""
    from scipy.signal import resample_poly

    if abs(data.sfreq - sfreq) < 1e-9:
        return data
    ratio = Fraction(sfreq / data.sfreq).limit_denominator(1000)
    n_target = sfreq * data.epoch_length
    if abs(n_target - round(n_target)) > 1e-6:
        raise DataError(f"Cannot resample {data.epoch_length:g}-s epochs to {sfreq:g} Hz: "
                        f"{n_target:g} is not a whole number of samples.")
    X = resample_poly(data.X, ratio.numerator, ratio.denominator, axis=-1)
    X = X[..., : round(n_target)].astype(np.float32)
    if X.shape[-1] != round(n_target):
        raise DataError(f"Resampling from {data.sfreq:g} to {sfreq:g} Hz gave {X.shape[-1]} "
                        f"samples per epoch instead of {round(n_target)}.")
    logger.info("resampled %d epochs from %g Hz to %g Hz", data.n_epochs, data.sfreq, sfreq)
    return dataclasses.replace(data, X=X, sfreq=float(sfreq))


def _match_model(data, model, *, source: str):
    """Reorder/select the model's channels by name, check epoch length, resample."""
    if model.ch_names:
        missing = [c for c in model.ch_names if c not in data.ch_names]
        hint = ""
        if missing:
            hint = (" The model needs it; map a recording channel to the model's name with "
                    f"--rename, e.g. --rename 'RECORDING NAME={missing[0]}'.")
        data = _pick(data, list(model.ch_names), model.ch_types, source=source, hint=hint)
    if model.epoch_length and abs(data.epoch_length - float(model.epoch_length)) > 1e-6:
        raise DataError(f"{source} has {data.epoch_length:g}-s epochs but the model was fitted "
                        f"on {float(model.epoch_length):g}-s epochs.")
    if model.sfreq and abs(data.sfreq - float(model.sfreq)) > 1e-9:
        data = resample_epochs(data, float(model.sfreq))
    return data


# -- loading ------------------------------------------------------------------------------------
def _quiet_mne(args) -> None:
    """MNE prints INFO messages to stdout by default; keep stdout for results."""
    import mne

    debug, quiet = getattr(args, "debug", False), getattr(args, "quiet", False)
    mne.set_log_level("DEBUG" if debug else "ERROR" if quiet else "WARNING")


def _edf_header(path: Path):
    import mne

    try:
        raw = mne.io.read_raw_edf(path, preload=False, verbose="error")
    except Exception as exc:
        raise DataError(f"Could not read the EDF header of {path}: {exc}") from exc
    return raw.ch_names, float(raw.info["sfreq"]), raw.info.get("meas_date")


def recording_id(value) -> str:
    """The id a recording carries everywhere: tables, plot titles and file names.

    Ids made only of digits (``--task4`` recordings 0, 1, ...; an EDF named ``1.edf``) become
    ``recording-<digits>``, the form file names need, so that one id names the recording in
    every output.
    """
    text = str(value)
    return f"recording-{text}" if text.isdigit() else text


def _with_ids(data, ids: dict):
    """``data`` with its recording ids mapped through ``ids`` (unchanged ids kept)."""
    if all(str(k) == v for k, v in ids.items()):
        return data
    groups = np.array([ids[g] for g in data.groups.tolist()], dtype=object).astype(str)
    return dataclasses.replace(data, groups=groups)


def _unique_id(stem: str, used: set) -> str:
    stem = recording_id(stem)
    candidate, k = stem, 2
    while candidate in used:
        candidate, k = f"{stem}-{k}", k + 1
    used.add(candidate)
    return candidate


def _load_edf_sources(args, *, epoch_length, target_sfreq, model, renames, used_ids, starts):
    from ..data import RK_TO_3CLASS, RK_TO_5CLASS, read_edf

    spec = _channel_spec(args)
    inverse = {new: old for old, new in renames.items()}
    mapping = RK_TO_3CLASS if args.stages == 3 else RK_TO_5CLASS
    keep = args.keep_wake_minutes
    keep = None if keep is None or keep < 0 else keep
    parts = []
    for entry in args.edf:
        psg = Path(entry["psg"])
        hyp = entry["hypnogram"]
        for path in (psg, Path(hyp) if hyp else None):
            if path is not None and not path.is_file():
                raise DataError(f"File {path} does not exist.")
        header_names, header_sfreq, meas_date = _edf_header(psg)
        if spec is not None:
            channels = _typed(spec)
        elif model is not None and model.ch_names:
            wanted = [inverse.get(c, c) for c in model.ch_names]
            missing = [c for c in wanted if c not in header_names]
            if missing:
                needed = ", ".join(
                    f"{w!r}" + (f" (model name {m!r})" if w != m else "")
                    for w, m in zip(wanted, model.ch_names, strict=True) if w in missing
                )
                raise DataError(
                    f"{psg}: channel(s) {needed} needed by the model are missing; the file "
                    f"has {header_names}. Map channels with --rename 'FILE NAME=MODEL NAME'."
                )
            types = model.ch_types or [_guess_type(c) for c in model.ch_names]
            channels = dict(zip(wanted, types, strict=True))
        else:
            channels = None
        resample = None
        if target_sfreq is not None and abs(target_sfreq - header_sfreq) > 1e-9:
            resample = target_sfreq
        recording_id = _unique_id(psg.stem, used_ids)
        try:
            part = read_edf(psg, hyp, channels=channels, epoch_length=epoch_length,
                            resample=resample, label_mapping=mapping, keep_wake_minutes=keep,
                            recording_id=recording_id)
        except ValueError as exc:
            raise DataError(f"{psg}: {exc}") from exc
        starts[recording_id] = meas_date
        parts.append((f"EDF {psg.name}", part))
    return parts


def load_data(args, *, need_labels: bool, model=None, required: bool = True,
              purpose: str = "this command") -> Loaded | None:
    """Load every source given on the command line into one ``EpochData``.

    With ``model`` (a :class:`~sleepstage.io.ModelFile`), recordings are matched to the
    model: channels picked and ordered by name (after ``--rename``), the model's epoch length
    used, and the sampling rate resampled to the model's.
    """
    if not has_source(args):
        if required:
            raise UsageError("No data source: give --synthetic N, --task4 DIR, --edf PSG or "
                             "--sleep-edf SUBJECTS.")
        return None
    from ..data import EpochData

    if (model is not None and args.sfreq is not None and model.sfreq
            and abs(args.sfreq - model.sfreq) > 1e-9):
        raise UsageError(f"--sfreq {args.sfreq:g} contradicts the model's {model.sfreq:g} Hz; "
                         "omit --sfreq (recordings are resampled to the model's rate).")
    if (model is not None and args.epoch_length is not None and model.epoch_length
            and abs(args.epoch_length - model.epoch_length) > 1e-6):
        raise UsageError(f"--epoch-length {args.epoch_length:g} contradicts the model's "
                         f"{model.epoch_length:g}-s epochs.")
    target_sfreq = args.sfreq if args.sfreq is not None else (
        model.sfreq if model is not None else None)
    model_epoch = model.epoch_length if model is not None else None

    def epoch_length(default: float) -> float:
        if args.epoch_length is not None:
            return args.epoch_length
        return model_epoch or default
    renames = _renames(args)
    spec = _channel_spec(args)
    used_ids: set = set()
    starts: dict = {}
    parts: list[tuple[str, Any]] = []

    if args.synthetic:
        from ..data import make_synthetic

        if args.synthetic < 1:
            raise UsageError("--synthetic expects a positive number of animals.")
        part = make_synthetic(n_recordings=args.synthetic, hours=args.hours,
                              sfreq=target_sfreq or 128.0,
                              epoch_length=epoch_length(4.0),
                              random_state=args.seed)
        parts.append(("synthetic data", part))
    if args.task4:
        from ..data import load_task4_csv

        try:
            part = load_task4_csv(args.task4, subset=args.subset,
                                  recording_length=args.recording_length or None,
                                  epoch_length=epoch_length(4.0))
        except ValueError as exc:
            raise DataError(str(exc)) from exc
        part = _with_ids(part, {g: recording_id(g) for g in part.recordings.tolist()})
        parts.append((f"--task4 {args.task4}", part))
    if args.sleep_edf or args.edf:
        _quiet_mne(args)
    if args.sleep_edf:
        from ..data import load_sleep_edf

        subjects = _int_list(args.sleep_edf, "--sleep-edf")
        nights = _int_list(args.sleep_edf_recording, "--sleep-edf-recording")
        keep = 30.0 if args.keep_wake_minutes is None else args.keep_wake_minutes
        channels = None
        if spec is not None:
            channels = _typed(spec)
        elif model is not None and model.ch_names:
            inverse = {new: old for old, new in renames.items()}
            types = model.ch_types or [_guess_type(c) for c in model.ch_names]
            channels = {inverse.get(c, c): t for c, t in zip(model.ch_names, types, strict=True)}
        try:
            part = load_sleep_edf(subjects, nights, path=args.data_dir, channels=channels,
                                  epoch_length=epoch_length(30.0),
                                  n_classes=args.stages,
                                  keep_wake_minutes=None if keep < 0 else keep,
                                  resample=target_sfreq)
        except ValueError as exc:
            raise DataError(f"Sleep-EDF: {exc}") from exc
        parts.append(("Sleep-EDF", part))
    if args.edf:
        parts.extend(_load_edf_sources(
            args, epoch_length=epoch_length(30.0),
            target_sfreq=target_sfreq, model=model, renames=renames, used_ids=used_ids,
            starts=starts,
        ))

    adapted = []
    for source, part in parts:
        if spec is not None and not source.startswith(("EDF", "Sleep-EDF")):
            part = _pick(part, list(spec), [spec[c] or part.ch_types[part.ch_names.index(c)]
                                            if c in part.ch_names else None for c in spec],
                         source=source)
        part = _rename(part, renames)
        if model is not None:
            part = _match_model(part, model, source=source)
        elif target_sfreq is not None:
            part = resample_epochs(part, target_sfreq)
        adapted.append(part)
    ids = [list(p.recordings) for p in adapted]
    flat = [str(i) for group in ids for i in group]
    if len(set(flat)) != len(flat):
        raise DataError(f"Recording ids repeat across sources: {flat}.")
    try:
        data = adapted[0] if len(adapted) == 1 else EpochData.concatenate(adapted)
    except ValueError as exc:
        raise DataError(f"The data sources cannot be combined: {exc}") from exc
    if need_labels and data.y is None:
        raise DataError(f"{purpose} needs scored epochs, but the data have no labels "
                        "(give --hypnogram after --edf, or --subset train).")
    logger.info("loaded %d epochs from %d recording(s): %d channels %s at %g Hz, %g-s epochs",
                data.n_epochs, len(data.recordings), len(data.ch_names),
                list(data.ch_names), data.sfreq, data.epoch_length)
    return Loaded(data=data, starts=starts)
