"""Loading the data sources given on the command line into one ``EpochData``.

One loader per source (``--synthetic``, ``--task4``, ``--sleep-edf``, ``--edf``); each
returns ``(source description, EpochData)``. :func:`load_data` then picks and renames
channels, matches a model's layout (:mod:`sleepstage.cli._channels`) and joins the parts.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._args import DataError, UsageError
from ._channels import match_model, pick_channels, rename_channels, typed_channels
from ._data_args import channel_spec, has_raw_source, has_source, renames

__all__ = [
    "Loaded",
    "check_against_model",
    "edf_entries",
    "load_data",
    "load_feature_tables",
    "recording_id",
]

logger = logging.getLogger("sleepstage.cli")


@dataclass
class Loaded:
    """Loaded epochs plus what the outputs need to know about each recording."""

    data: Any
    starts: dict = field(default_factory=dict)  # recording id -> datetime of its start


def recording_id(value) -> str:
    """The id a recording carries everywhere: tables, plot titles and file names.

    Ids made only of digits (``--task4`` recordings 0, 1, ...; an EDF named ``1.edf``) become
    ``recording-<digits>``, the form file names need, so that one id names the recording in
    every output.
    """
    text = str(value)
    return f"recording-{text}" if text.isdigit() else text


def _with_recording_ids(data):
    """``data`` with each recording id ``g`` turned into ``recording_id(g)`` (see there)."""
    import numpy as np

    ids = {g: recording_id(g) for g in data.recordings.tolist()}
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


@dataclass
class _Request:
    """What every loader needs to know besides its own options."""

    args: Any
    model: Any  # ModelFile or None
    target_sfreq: float | None
    spec: dict[str, str | None] | None  # --channel
    renames: dict[str, str]  # --rename
    used_ids: set = field(default_factory=set)
    starts: dict = field(default_factory=dict)

    def epoch_length(self, default: float) -> float:
        """``--epoch-length``, else the model's, else the source's ``default``."""
        if self.args.epoch_length is not None:
            return self.args.epoch_length
        return (self.model.epoch_length if self.model is not None else None) or default

    def file_name(self, name: str) -> str:
        """A channel's name in the files: ``name`` before ``--rename``."""
        return next((old for old, new in self.renames.items() if new == name), name)

    def channels(self) -> dict[str, str] | None:
        """What a file loader reads, ``{name in the file: type}``.

        The ``--channel`` list, else the model's channels (under their names before
        ``--rename``), else None: every channel whose name states its type.
        """
        if self.spec is not None:
            return typed_channels(self.spec)
        if self.model is None or not self.model.ch_names:
            return None
        from ..data import channel_type

        types = self.model.ch_types or [channel_type(c) for c in self.model.ch_names]
        return {self.file_name(c): t for c, t in zip(self.model.ch_names, types, strict=True)}


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


def _check_model_channels(psg: Path, header_names, request: _Request) -> None:
    """Each channel of the model must be in the file (under its name before ``--rename``)."""
    pairs = [(request.file_name(m), m) for m in request.model.ch_names or ()]
    missing = [(w, m) for w, m in pairs if w not in header_names]
    if missing:
        needed = ", ".join(f"{w!r}" + (f" (model name {m!r})" if w != m else "")
                           for w, m in missing)
        raise DataError(
            f"{psg}: channel(s) {needed} needed by the model are missing; the file "
            f"has {header_names}. Map channels with --rename 'FILE NAME=MODEL NAME'."
        )


_GLOB_CHARACTERS = frozenset("*?[")


def _expand_pattern(entry: dict) -> list[dict]:
    """``--edf PSG``: the file itself, or every file a glob pattern matches (sorted)."""
    import glob

    text = str(entry["psg"])
    if Path(text).exists() or not _GLOB_CHARACTERS & set(text):
        return [entry]
    if entry["hypnogram"]:
        raise UsageError(f"--hypnogram {entry['hypnogram']} follows the pattern --edf {text!r}: "
                         "give each scored recording its own --edf, or use --edf-list with "
                         "'PSG<TAB>HYPNOGRAM' lines.")
    matches = sorted(p for p in glob.glob(text) if Path(p).is_file())
    if not matches:
        raise DataError(f"--edf {text!r}: the pattern matches no file.")
    return [{"psg": p, "hypnogram": None} for p in matches]


def _read_edf_list(path: str) -> list[dict]:
    """``--edf-list FILE``: one ``PSG`` or ``PSG<TAB>HYPNOGRAM`` per line."""
    list_file = Path(path)
    try:
        text = list_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"--edf-list {path}: the list file does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"--edf-list {path}: cannot read the list file: {exc}") from None
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t") if f.strip()]
        if len(fields) > 2:
            raise DataError(f"{list_file}, line {number}: expected 'PSG' or "
                            f"'PSG<TAB>HYPNOGRAM', got {len(fields)} fields.")
        paths = [list_file.parent / f for f in fields]  # absolute paths stay absolute
        for kind, file in zip(("recording", "hypnogram"), paths, strict=False):
            if not file.is_file():
                raise DataError(f"{list_file}, line {number}: the {kind} {file} does not "
                                "exist.")
        entries.append({"psg": str(paths[0]),
                        "hypnogram": str(paths[1]) if len(paths) > 1 else None})
    return entries


def edf_entries(args) -> list[dict]:
    """The EDF recordings named by ``--edf`` (files or glob patterns) and ``--edf-list``.

    Returns
    -------
    list of dict
        ``{"psg": path, "hypnogram": path or None}`` for each recording, ``--edf`` first,
        in the order given (a pattern's matches sorted).

    Raises
    ------
    DataError
        For a pattern that matches nothing, a missing list file, a listed file that does
        not exist (named with its line number), or any other named file that does not exist.
    """
    entries = [e for entry in getattr(args, "edf", None) or [] for e in _expand_pattern(entry)]
    for path in getattr(args, "edf_list", None) or []:
        entries.extend(_read_edf_list(path))
    for entry in entries:
        for path in (entry["psg"], entry["hypnogram"]):
            if path is not None and not Path(path).is_file():
                raise DataError(f"File {path} does not exist.")
    return entries


def _load_synthetic(request: _Request) -> list[tuple[str, Any]]:
    from ..data import make_synthetic

    args = request.args
    if args.synthetic < 1:
        raise UsageError("--synthetic expects a positive number of animals.")
    part = make_synthetic(n_recordings=args.synthetic, hours=args.hours,
                          sfreq=request.target_sfreq or 128.0,
                          epoch_length=request.epoch_length(4.0),
                          random_state=args.seed)
    return [("synthetic data", part)]


def _load_task4(request: _Request) -> list[tuple[str, Any]]:
    from ..data import load_task4_csv

    args = request.args
    try:
        part = load_task4_csv(args.task4, subset=args.subset,
                              recording_length=args.recording_length or None,
                              epoch_length=request.epoch_length(4.0))
    except ValueError as exc:
        raise DataError(str(exc)) from exc
    part = _with_recording_ids(part)
    return [(f"--task4 {args.task4}", part)]


def _load_sleep_edf(request: _Request) -> list[tuple[str, Any]]:
    from ..data import load_sleep_edf

    args = request.args
    keep = 30.0 if args.keep_wake_minutes is None else args.keep_wake_minutes
    try:
        part = load_sleep_edf(args.sleep_edf, args.sleep_edf_recording, path=args.data_dir,
                              channels=request.channels(), epoch_length=request.epoch_length(30.0),
                              n_classes=args.stages,
                              keep_wake_minutes=None if keep < 0 else keep,
                              resample=request.target_sfreq)
    except ValueError as exc:
        raise DataError(f"Sleep-EDF: {exc}") from exc
    return [("Sleep-EDF", part)]


def _edf_reading(entry: dict, request: _Request) -> tuple[Path, dict, tuple]:
    """``(psg, keyword arguments of read_edf / iter_edf, header)`` of one EDF entry.

    ``header`` is :func:`_edf_header`'s ``(channel names, sampling rate, start)``, read once.
    """
    from ..data import RK_TO_3CLASS, RK_TO_5CLASS

    args = request.args
    keep = args.keep_wake_minutes
    psg = Path(entry["psg"])
    header = _edf_header(psg)
    header_names, header_sfreq, _ = header
    if request.spec is None and request.model is not None:
        _check_model_channels(psg, header_names, request)
    resample = None
    if request.target_sfreq is not None and abs(request.target_sfreq - header_sfreq) > 1e-9:
        resample = request.target_sfreq
    options = dict(
        hypnogram_path=entry["hypnogram"], channels=request.channels(),
        epoch_length=request.epoch_length(30.0), resample=resample,
        label_mapping=RK_TO_3CLASS if args.stages == 3 else RK_TO_5CLASS,
        keep_wake_minutes=None if keep is None or keep < 0 else keep,
        recording_id=entry.get("id") or _unique_id(psg.stem, request.used_ids))
    return psg, options, header


def _load_edf(request: _Request) -> list[tuple[str, Any]]:
    from ..data import read_edf

    parts = []
    for entry in edf_entries(request.args):
        psg, options, (*_, meas_date) = _edf_reading(entry, request)
        rid = options["recording_id"]
        try:
            part = read_edf(psg, **options)
        except ValueError as exc:
            raise DataError(f"{psg}: {exc}") from exc
        request.starts[rid] = meas_date
        parts.append((f"EDF {psg.name}", part))
    return parts


#: Option (``args`` attribute) -> its loader, in the order the sources are joined.
_LOADERS = {
    "synthetic": _load_synthetic,
    "task4": _load_task4,
    "sleep_edf": _load_sleep_edf,
    "edf": _load_edf,
}


def _adapt(part, source: str, request: _Request):
    """One source's data after ``--channel``, ``--rename`` and the model's layout."""
    spec = request.spec
    if spec is not None and not source.startswith(("EDF", "Sleep-EDF")):  # EDF read them so
        part = pick_channels(part, list(spec),
                             [spec[c] or part.ch_types[part.ch_names.index(c)]
                              if c in part.ch_names else None for c in spec],
                             source=source)
    part = rename_channels(part, request.renames)
    if request.model is not None:
        return match_model(part, request.model, source=source)
    if request.target_sfreq is not None:
        from ..data import resample_epochs

        return resample_epochs(part, request.target_sfreq)
    return part


def check_against_model(args, model) -> None:
    """``--sfreq`` and ``--epoch-length`` must agree with the model's (None: no model).

    The kind of source must be the model's too: ``--feature-table`` for a model fitted on
    feature tables, raw-signal sources for the others.

    Raises
    ------
    UsageError
        Naming the option and the model's value.
    """
    if model is not None:
        reads_tables = model.input_features is not None
        if reads_tables and has_raw_source(args):
            raise UsageError(
                f"The model {model.path or ''} was fitted on feature tables (columns "
                f"{', '.join(model.input_features[:5])}"
                f"{', ...' if len(model.input_features) > 5 else ''}): give its data with "
                "--feature-table, not as raw signals.")
        if not reads_tables and getattr(args, "feature_table", None):
            raise UsageError(
                f"The model {model.path or ''} reads raw epochs (channels "
                f"{', '.join(model.ch_names or [])}), not feature tables: give the recordings "
                "themselves, or fit a model on feature tables (sleepstage fit --feature-table).")
    if (model is not None and args.sfreq is not None and model.sfreq
            and abs(args.sfreq - model.sfreq) > 1e-9):
        raise UsageError(f"--sfreq {args.sfreq:g} contradicts the model's {model.sfreq:g} Hz; "
                         "omit --sfreq (recordings are resampled to the model's rate).")
    if (model is not None and args.epoch_length is not None and model.epoch_length
            and abs(args.epoch_length - model.epoch_length) > 1e-6):
        raise UsageError(f"--epoch-length {args.epoch_length:g} contradicts the model's "
                         f"{model.epoch_length:g}-s epochs.")


def _request(args, model) -> _Request:
    target_sfreq = args.sfreq if args.sfreq is not None else (
        model.sfreq if model is not None else None)
    return _Request(args=args, model=model, target_sfreq=target_sfreq,
                    renames=renames(args), spec=channel_spec(args))


def _combine(parts: list, container, *, what: str, need_labels: bool, no_labels: str):
    """One ``container`` (``EpochData`` or ``FeatureTable``) of ``parts``.

    Raises
    ------
    DataError
        Recording ids repeated across the parts, parts that cannot be concatenated
        (``what`` names them), or no labels when ``need_labels`` (message ``no_labels``).
    """
    flat = [str(i) for part in parts for i in part.recordings]
    if len(set(flat)) != len(flat):
        raise DataError(f"Recording ids repeat across the {what}: {flat}.")
    try:
        data = parts[0] if len(parts) == 1 else container.concatenate(parts)
    except ValueError as exc:
        raise DataError(f"The {what} cannot be combined: {exc}") from None
    if need_labels and data.y is None:
        raise DataError(no_labels)
    return data


def load_data(args, *, need_labels: bool, model=None, required: bool = True,
              purpose: str = "this command") -> Loaded | None:
    """Load every source given on the command line into one ``EpochData``.

    With ``model`` (a :class:`~sleepstage.io.ModelFile`), recordings are matched to the
    model: channels picked and ordered by name (after ``--rename``), the model's epoch length
    used, and the sampling rate resampled to the model's.
    """
    if not has_source(args):
        if required:
            raise UsageError("No data source: give --synthetic N, --task4 DIR, --edf PSG, "
                             "--sleep-edf SUBJECTS or --feature-table FILE.")
        return None
    if getattr(args, "feature_table", None):
        return load_feature_tables(args, need_labels=need_labels, model=model, purpose=purpose)
    from ..data import EpochData

    check_against_model(args, model)
    request = _request(args, model)
    if args.sleep_edf or args.edf or getattr(args, "edf_list", None):
        _quiet_mne(args)
    parts: list[tuple[str, Any]] = []
    for option, loader in _LOADERS.items():
        if getattr(args, option) or (option == "edf" and getattr(args, "edf_list", None)):
            parts.extend(loader(request))

    data = _combine([_adapt(part, source, request) for source, part in parts], EpochData,
                    what="data sources", need_labels=need_labels,
                    no_labels=f"{purpose} needs scored epochs, but the data have no labels "
                              "(give --hypnogram after --edf, or --subset train).")
    logger.info("loaded %d epochs from %d recording(s): %d channels %s at %g Hz, %g-s epochs",
                data.n_epochs, len(data.recordings), len(data.ch_names),
                list(data.ch_names), data.sfreq, data.epoch_length)
    return Loaded(data=data, starts=request.starts)


def load_feature_tables(args, *, need_labels: bool, model=None,
                        purpose: str = "this command") -> Loaded:
    """Load every ``--feature-table`` into one :class:`~sleepstage.data.FeatureTable`.

    Feature tables are not combined with raw-signal sources, and ``--channel``,
    ``--rename`` and ``--sfreq`` (which act on signals) are refused. The epoch length is
    ``--epoch-length``, else the model's, else read from each table's onsets. With a
    ``model``, which must have been fitted on feature tables, each table must have exactly
    the model's feature columns (in any order: they are put in the model's).

    Raises
    ------
    UsageError
        Raw sources or signal options given with tables, or a model that reads raw epochs.
    DataError
        A table that cannot be read (see :func:`sleepstage.data.read_feature_table`),
        columns that differ between tables or from the model's (naming those missing and
        extra), recording ids repeated across tables, or no scored epoch when
        ``need_labels``.
    """
    from ..data import FeatureTable, read_feature_table

    if has_raw_source(args):
        raise UsageError("--feature-table cannot be combined with raw-signal sources "
                         "(--synthetic, --task4, --edf, --edf-list, --sleep-edf) in one run: "
                         "a model reads either feature tables or raw epochs. Write the "
                         "features of the recordings with 'sleepstage features' first.")
    for option, flag in (("channel", "--channel"), ("rename", "--rename"), ("sfreq", "--sfreq")):
        if getattr(args, option, None):
            raise UsageError(f"{flag} acts on raw signals; a feature table has no channels "
                             "and no sampling rate (its columns are the features).")
    check_against_model(args, model)
    length = args.epoch_length if args.epoch_length is not None else (
        model.epoch_length if model is not None else None)
    expected = model.input_features if model is not None else None
    parts = []
    for path in args.feature_table:
        try:
            part = read_feature_table(path, epoch_length=length)
        except (ValueError, FileNotFoundError) as exc:
            raise DataError(str(exc)) from None
        if expected is None:
            expected = list(part.feature_names)
        if list(part.feature_names) != expected:
            whose = (f"the model {model.path or ''} was fitted on" if model is not None
                     else f"the first table ({args.feature_table[0]})")
            try:
                part = part.reorder(expected)
            except ValueError as exc:
                raise DataError(f"{path}: its feature columns are not those {whose}. "
                                f"{exc}") from None
        part = _with_recording_ids(part)
        parts.append(part)
    data = _combine(parts, FeatureTable, what="feature tables", need_labels=need_labels,
                    no_labels=f"{purpose} needs scored epochs, but the feature table(s) have "
                              "no 'stage' column with scored epochs.")
    logger.info("loaded %d epochs from %d recording(s): %d features, %g-s epochs",
                data.n_epochs, len(data.recordings), data.n_features, data.epoch_length)
    return Loaded(data=data)
