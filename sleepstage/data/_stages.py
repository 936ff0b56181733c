"""Canonical sleep-stage names and the label mappings users meet."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .._internal.validation import UNSCORED as _UNSCORED
from .._internal.values import plain

__all__ = [
    "RK_TO_3CLASS",
    "RK_TO_5CLASS",
    "STAGES_3",
    "STAGES_5",
    "STAGE_SPELLINGS",
    "TASK4_CODES",
    "UNSCORED",
    "map_labels",
]

#: Stage names of the 3-class rodent task, in canonical order.
STAGES_3: tuple[str, ...] = ("WAKE", "NREM", "REM")
#: Stage names of 5-class human staging (AASM), in canonical order.
STAGES_5: tuple[str, ...] = ("WAKE", "N1", "N2", "N3", "REM")

#: Integer codes of the reference rodent task (``train_labels.csv``).
TASK4_CODES: dict[int, str] = {1: "WAKE", 2: "NREM", 3: "REM"}

#: Marker for epochs without a usable stage (dropped by the loaders); defined in
#: ``sleepstage._internal.validation``, where every subpackage can check labels for it.
UNSCORED = _UNSCORED

#: Upper-case spelling -> canonical name of every stage (3- and 5-class) and of
#: :data:`UNSCORED`: stage names written in any case read as the same stage
#: (``map_labels([s.upper() for s in labels], STAGE_SPELLINGS)``).
STAGE_SPELLINGS: dict[str, str] = {s.upper(): s for s in (*STAGES_3, *STAGES_5, UNSCORED)}

#: Sleep-EDF / Rechtschaffen & Kales annotations to the 3-class task, with the AASM texts
#: (``Sleep stage N1`` ... ``N3``) and the ``Sleep stage N`` that ``predict --annotations``
#: writes for NREM, so that the package's own EDF+ scores read back as a hypnogram.
RK_TO_3CLASS: dict[str, str] = {
    "Sleep stage W": "WAKE",
    "Sleep stage 1": "NREM",
    "Sleep stage 2": "NREM",
    "Sleep stage 3": "NREM",
    "Sleep stage 4": "NREM",
    "Sleep stage R": "REM",
    "Sleep stage ?": UNSCORED,
    "Movement time": UNSCORED,
    "Sleep stage N": "NREM",
    "Sleep stage N1": "NREM",
    "Sleep stage N2": "NREM",
    "Sleep stage N3": "NREM",
}

#: Sleep-EDF / R&K annotations to 5-class AASM staging (stages 3 and 4 become N3), with the
#: AASM texts ``Sleep stage N1`` ... ``N3``.
RK_TO_5CLASS: dict[str, str] = {
    "Sleep stage W": "WAKE",
    "Sleep stage 1": "N1",
    "Sleep stage 2": "N2",
    "Sleep stage 3": "N3",
    "Sleep stage 4": "N3",
    "Sleep stage R": "REM",
    "Sleep stage ?": UNSCORED,
    "Movement time": UNSCORED,
    "Sleep stage N1": "N1",
    "Sleep stage N2": "N2",
    "Sleep stage N3": "N3",
}


def map_labels(
    labels: Iterable[Any], mapping: Mapping[Any, str], *, what: str = "labels"
) -> np.ndarray:
    """Translate raw labels to canonical stage names.

    Parameters
    ----------
    labels : iterable
        Raw labels (integer codes, annotation strings, ...).
    mapping : mapping
        Raw label -> canonical stage name (or :data:`UNSCORED`).
    what : str
        Used in the error message.

    Returns
    -------
    numpy.ndarray of str
        Canonical names, same length as ``labels``.

    Raises
    ------
    ValueError
        If a label is not in ``mapping``; the message lists the unknown values.

    Examples
    --------
    >>> map_labels([1, 2, 3, 2], TASK4_CODES).tolist()
    ['WAKE', 'NREM', 'REM', 'NREM']
    """
    values = np.asarray(list(labels), dtype=object)
    unique = list(dict.fromkeys(values.tolist()))
    unknown = [u for u in unique if u not in mapping]
    if unknown:
        shown = ", ".join(repr(plain(u)) for u in unknown[:10])
        known = ", ".join(repr(k) for k in mapping)
        raise ValueError(f"Unknown {what}: {shown}. Known values are {known}.")
    lookup = {u: mapping[u] for u in unique}
    return np.array([lookup[v] for v in values.tolist()], dtype=object).astype(str)
