"""EDF+ annotation files (hypnograms), written atomically with :mod:`edfio`."""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ._atomic import atomic_write

__all__ = ["write_edf_annotations"]


def _check_annotations(onsets, durations, descriptions) -> tuple[np.ndarray, np.ndarray,
                                                                   list[str]]:
    onsets = np.asarray(onsets, dtype=float).ravel()
    durations = np.asarray(durations, dtype=float).ravel()
    descriptions = [str(d) for d in descriptions]
    if not len(onsets) == len(durations) == len(descriptions):
        raise ValueError(
            f"onsets ({len(onsets)}), durations ({len(durations)}) and descriptions "
            f"({len(descriptions)}) must have the same length."
        )
    if not (np.isfinite(onsets).all() and np.isfinite(durations).all()) or (durations < 0).any():
        raise ValueError("Annotation onsets must be finite and durations finite and >= 0.")
    for text in descriptions:
        if any(ord(ch) < 32 or ord(ch) > 126 for ch in text):
            raise ValueError(f"Annotation {text!r} must be printable ASCII.")
    return onsets, durations, descriptions


def write_edf_annotations(
    path: str | os.PathLike,
    onsets,
    durations,
    descriptions: Sequence[str],
    *,
    start: _dt.datetime | None = None,
    force: bool = False,
) -> Path:
    """Write an annotation-only EDF+ file (e.g. a hypnogram), atomically.

    The file has the layout of the Sleep-EDF hypnogram files: one data record of duration 0
    holding a single ``EDF Annotations`` signal with one time-stamped annotation list per
    annotation, so EDF viewers and :func:`mne.read_annotations` read it next to the
    recording it annotates. It is written by :class:`edfio.Edf` (the writer behind
    :func:`mne.export.export_raw` for EDF) into the temporary file of
    :func:`~sleepstage.io.atomic_write`. edfio writes each onset and duration as the
    shortest decimal that reads back as the same float, and orders annotations by onset
    (then duration and text), the order in which readers list them.

    Parameters
    ----------
    path : path-like
        Destination, conventionally ``*.edf``.
    onsets, durations : array-like of float
        Seconds from the start of the recording, and durations in seconds.
    descriptions : sequence of str
        Annotation texts, e.g. ``"Sleep stage W"``; printable ASCII.
    start : datetime.datetime, optional
        Start of the annotated recording, written to the header so the file lines up with
        the recording; unknown by default (the header then says so as EDF+ prescribes:
        ``Startdate X``, 01.01.85 00.00.00). EDF+ headers hold whole seconds: a fraction of
        a second goes in the start offset of the time-keeping annotation, as EDF+ provides
        (onsets stay relative to ``start``; :func:`mne.read_annotations` and edfio read them
        so, though :func:`mne.io.read_raw_edf` sets the sub-second part of a recording's
        ``meas_date`` to 0).
    force : bool
        Overwrite an existing file.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ValueError
        If the three sequences differ in length, an onset or duration is not finite, a
        duration is negative, or a description is not printable ASCII.

    Examples
    --------
    >>> import tempfile, pathlib, mne
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "hyp.edf"
    >>> _ = write_edf_annotations(out, [0, 30], [30, 60], ["Sleep stage W", "Sleep stage R"])
    >>> list(mne.read_annotations(out).description)
    ['Sleep stage W', 'Sleep stage R']
    """
    import edfio

    onsets, durations, descriptions = _check_annotations(onsets, durations, descriptions)
    if start is None:
        recording, starttime = edfio.Recording(), None
    else:  # edfio writes the whole seconds to the header, the rest as the start offset
        recording = edfio.Recording(startdate=start.date())
        starttime = start.time().replace(tzinfo=None)
    # A generator, not a list: edfio writes an annotation-only file from any iterable,
    # including an empty one (the file then holds the time-keeping annotation only).
    annotations = (edfio.EdfAnnotation(float(onset), float(duration), text)
                   for onset, duration, text in zip(onsets, durations, descriptions,
                                                    strict=True))
    edf = edfio.Edf([], recording=recording, starttime=starttime, annotations=annotations)
    with atomic_write(path, force=force) as tmp:
        edf.write(tmp)
    return Path(path)
