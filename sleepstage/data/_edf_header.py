"""The fixed-width EDF/EDF+ header fields MNE does not expose: start time and record onsets.

MNE's :func:`mne.read_annotations` returns no start time for an EDF+ annotation file, and
:func:`mne.io.read_raw_edf` reads a discontinuous EDF+ file ("EDF+D") as if its data records
followed one another without gaps. Both pieces of information sit in documented fields of the
format (https://www.edfplus.info/specs/edf.html and ``edfplus.html``):

- bytes 88-167: the recording identification; in EDF+ it starts with ``Startdate dd-MMM-yyyy``
  (or ``Startdate X`` when the date is unknown);
- bytes 168-175 and 176-183: start date ``dd.mm.yy`` and start time ``hh.mm.ss`` (years 85-99
  are 1985-1999, 00-84 are 2000-2084);
- bytes 192-235: reserved, ``EDF+C`` (continuous) or ``EDF+D`` (discontinuous) in EDF+;
- in EDF+, the first annotation of every data record of the ``EDF Annotations`` signal is a
  time-keeping annotation holding the onset of that record, in seconds from the start time.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["EdfHeader", "first_record_offset", "read_edf_header", "record_onsets"]

_ANNOTATION_LABEL = "EDF Annotations"
_TIMEKEEPING = re.compile(rb"^([+-]\d+(?:\.\d*)?)\x14")


@dataclass(frozen=True)
class EdfHeader:
    """The header fields needed for alignment (see the module docstring)."""

    path: Path
    recording: str
    date: str
    time: str
    reserved: str
    header_bytes: int
    n_records: int
    record_duration: float
    labels: tuple[str, ...]
    samples_per_record: tuple[int, ...]
    bytes_per_sample: int

    @property
    def is_edf_plus(self) -> bool:
        """Whether the reserved field marks the file as EDF+ (``EDF+C`` or ``EDF+D``)."""
        return self.reserved.startswith(("EDF+", "BDF+"))

    @property
    def is_discontinuous(self) -> bool:
        """Whether the file is EDF+D (or BDF+D): its data records may have gaps between them."""
        return self.reserved.startswith(("EDF+D", "BDF+D"))

    @property
    def start(self) -> _dt.datetime | None:
        """Start of the first data record (UTC-naive as written), or None when unknown.

        The four-digit date of the EDF+ ``Startdate`` subfield is preferred (as MNE does);
        an EDF+ file whose subfield is ``Startdate X`` has no known start. The time always
        comes from the ``hh.mm.ss`` field.
        """
        day = None
        tokens = self.recording.split()
        if tokens[:1] == ["Startdate"] and len(tokens) > 1:
            if tokens[1] == "X" and self.is_edf_plus:
                return None
            try:
                day = _dt.datetime.strptime(tokens[1], "%d-%b-%Y").date()
            except ValueError:
                day = None
        try:
            if day is None:
                d, m, y = (int(v) for v in self.date.split("."))
                day = _dt.date(y + (1900 if y >= 85 else 2000), m, d)
            hh, mm, ss = (int(v) for v in self.time.split("."))
            return _dt.datetime.combine(day, _dt.time(hh, mm, ss), tzinfo=_dt.UTC)
        except ValueError:
            return None


def _text(raw: bytes) -> str:
    return raw.decode("latin-1").strip()


def read_edf_header(path: str | Path) -> EdfHeader | None:
    """Parse the fixed-width header of an EDF/BDF file; None when ``path`` is not one."""
    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.read(256)
        if len(head) < 256 or head[:8] not in (b"0       ", b"\xffBIOSEMI"):
            return None
        try:
            n_signals = int(_text(head[252:256]))
            n_records = int(_text(head[236:244]))
            record_duration = float(_text(head[244:252]))
            header_bytes = int(_text(head[184:192]))
        except ValueError:
            return None
        signal_header = handle.read(256 * n_signals)
    if n_signals < 0 or len(signal_header) < 256 * n_signals:
        return None

    def column(offset: int, width: int) -> list[str]:
        start = offset * n_signals
        return [_text(signal_header[start + i * width : start + (i + 1) * width])
                for i in range(n_signals)]

    labels = column(0, 16)
    try:
        samples = [int(v) for v in column(16 + 80 + 8 + 8 + 8 + 8 + 8 + 80, 8)]
    except ValueError:
        return None
    return EdfHeader(
        path=path,
        recording=_text(head[88:168]),
        date=_text(head[168:176]),
        time=_text(head[176:184]),
        reserved=_text(head[192:236]),
        header_bytes=header_bytes,
        n_records=n_records,
        record_duration=record_duration,
        labels=tuple(labels),
        samples_per_record=tuple(samples),
        bytes_per_sample=3 if head[:1] == b"\xff" else 2,
    )


def _annotation_bytes(header: EdfHeader, n: int) -> np.ndarray:
    """The ``EDF Annotations`` signal of the first ``n`` data records, one row of bytes each."""
    index = header.labels.index(_ANNOTATION_LABEL)
    width = header.bytes_per_sample
    record_bytes = sum(header.samples_per_record) * width
    first = sum(header.samples_per_record[:index]) * width
    size = header.samples_per_record[index] * width
    records = np.memmap(header.path, dtype=np.uint8, mode="r", offset=header.header_bytes,
                        shape=(n, record_bytes))
    tals = np.array(records[:, first : first + size])
    del records
    return tals


def first_record_offset(header: EdfHeader) -> float:
    """Seconds from the header's start time to the first data record (EDF+), else 0.

    EDF+ headers hold whole seconds: a start with a fraction of a second is written as the
    header's time plus the onset of the time-keeping annotation of the first record, and
    :func:`mne.read_annotations` counts its onsets from there.
    """
    if (not header.is_edf_plus or _ANNOTATION_LABEL not in header.labels
            or header.n_records < 1):
        return 0.0
    found = _TIMEKEEPING.match(_annotation_bytes(header, 1)[0].tobytes())
    return float(found.group(1)) if found is not None else 0.0


def record_onsets(header: EdfHeader) -> np.ndarray:
    """Onset of every data record, in seconds from the header's start time.

    For EDF+D files they are read from the time-keeping annotation opening each record's
    ``EDF Annotations`` signal; for any other file the records are contiguous by definition
    (``index * record_duration``).

    Raises
    ------
    ValueError
        An EDF+D file without an ``EDF Annotations`` signal, a record whose time-keeping
        annotation is missing, or record onsets that go backwards or overlap.
    """
    n = header.n_records
    contiguous = np.arange(n, dtype=float) * header.record_duration
    if not header.is_discontinuous:
        return contiguous
    name = header.path.name
    if _ANNOTATION_LABEL not in header.labels:
        raise ValueError(
            f"{name} is a discontinuous EDF+ file (EDF+D) without an 'EDF Annotations' "
            "signal, so the onsets of its data records are unknown."
        )
    tals = _annotation_bytes(header, n)
    onsets = np.empty(n)
    for k in range(n):
        found = _TIMEKEEPING.match(tals[k].tobytes())
        if found is None:
            raise ValueError(
                f"Data record {k} of the EDF+D file {name} has no time-keeping annotation, "
                "so its onset is unknown."
            )
        onsets[k] = float(found.group(1))
    if n > 1 and np.any(np.diff(onsets) < header.record_duration - 1e-6):
        k = int(np.flatnonzero(np.diff(onsets) < header.record_duration - 1e-6)[0])
        raise ValueError(
            f"The data records of {name} overlap or go back in time: record {k + 1} starts at "
            f"{onsets[k + 1]:g} s, before record {k} ends ({onsets[k]:g} + "
            f"{header.record_duration:g} s)."
        )
    return onsets
