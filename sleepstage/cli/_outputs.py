"""The outputs of a subcommand: checked before any work, never written over an input.

Every subcommand that writes files calls :func:`check_outputs` with the files it will
write, before it reads its data: :func:`sleepstage.io.check_writable` with ``--force`` and
the files the command line reads (:func:`input_files`), so that an output that is one of
its inputs is refused even with ``--force``, and an existing output is refused with advice
in command-line terms.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ._args import DataError, UsageError

__all__ = ["check_outputs", "input_files"]

#: ``args`` attributes that name one input file (model files, labels, a hypnogram, a grid).
_FILE_OPTIONS = ("model", "labels", "hypnogram", "grid_file")
#: ``args`` attributes that name several input files.
_FILE_LIST_OPTIONS = ("hypnograms", "feature_table", "edf_list")


def input_files(args) -> list[Path]:
    """The files the command line names to be read: model, labels, hypnograms, data.

    Data sources: ``--feature-table``, the EDF recordings and hypnograms of ``--edf``
    (patterns expanded) and ``--edf-list`` (the list files too), the CSV files of the
    ``--task4`` folder and every file of the Sleep-EDF folder ``--sleep-edf`` reads. Names
    that cannot be resolved yet (a pattern matching nothing, a missing list) are left out:
    reading them fails before anything is written.
    """
    from ._loading import edf_entries

    files = [getattr(args, name, None) for name in _FILE_OPTIONS]
    for name in _FILE_LIST_OPTIONS:
        files += getattr(args, name, None) or []
    if getattr(args, "edf", None) or getattr(args, "edf_list", None):
        try:
            entries = edf_entries(args)
        except (DataError, UsageError):  # reported when the data are loaded, before writing
            entries = []
        files += [path for entry in entries for path in (entry["psg"], entry["hypnogram"])]
    folder = getattr(args, "task4", None)
    if folder and Path(folder).is_dir():
        files += sorted(Path(folder).glob("*.csv"))
    if getattr(args, "sleep_edf", None):  # every file of the Sleep-EDF folder it reads from
        from ..data import get_data_dir

        data_dir = getattr(args, "data_dir", None)
        sleep_edf = Path(data_dir or get_data_dir()) / "physionet-sleep-data"
        if sleep_edf.is_dir():
            files += sorted(f for f in sleep_edf.iterdir() if f.is_file())
    return [Path(f) for f in files if isinstance(f, (str, os.PathLike))]


def check_outputs(args, paths: Iterable[str | os.PathLike]) -> list[Path]:
    """:func:`sleepstage.io.check_writable` for a subcommand's outputs.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (``--force`` and the inputs, see :func:`input_files`).
    paths : iterable of path-like
        Every file the subcommand will write.

    Returns
    -------
    list of pathlib.Path
        As :func:`sleepstage.io.check_writable`.

    Raises
    ------
    DataError
        Naming the outputs that already exist (without ``--force``).
    ValueError
        If an output is one of the inputs (even with ``--force``), or as
        :func:`sleepstage.io.check_writable`.
    """
    from ..io import check_writable

    paths = [Path(p) for p in paths]
    try:
        return check_writable(paths, force=args.force, inputs=input_files(args))
    except FileExistsError:
        existing = ", ".join(str(p) for p in paths if os.path.exists(p))
        raise DataError(f"Output file(s) already exist: {existing}. Use --force to "
                        "overwrite, or choose another output.") from None
