"""Small EDF/EDF+ files written field by field, for tests that need a header made to measure.

The layout follows the EDF and EDF+ specifications (https://www.edfplus.info): a 256-byte
header, 256 bytes per signal, then data records of 16-bit samples. EDF+ files carry an
``EDF Annotations`` signal whose first annotation in each record is the record's onset.
"""

from __future__ import annotations

import datetime

import numpy as np

START = datetime.datetime(2020, 1, 1, 22, 0, 0)


def _field(value, width: int) -> bytes:
    return str(value).ljust(width)[:width].encode("ascii")


def write_edf(path, signals, sfreq: int, ch_names, *, start: datetime.datetime = START,
              record_onsets=None, edf_plus: bool | None = None, unit: str = "uV",
              phys: float | None = None, date_known: bool = True):
    """Write ``signals`` (channels x samples) as EDF, or EDF+ with 1-s data records.

    Parameters
    ----------
    record_onsets : array-like of float, optional
        Onset (s from ``start``) of each 1-s data record. When given, the file is EDF+D
        (discontinuous); gaps between records are not stored.
    edf_plus : bool, optional
        Write an EDF+C file (with the annotation signal) when no ``record_onsets`` are
        given; default plain EDF.
    phys : float, optional
        Physical range ``[-phys, phys]``; default the largest absolute value.
    date_known : bool
        False writes an EDF+ recording field ``Startdate X ...`` (date unknown).
    """
    signals = np.asarray(signals, dtype=float)
    n_channels, n_times = signals.shape
    n_records = n_times // sfreq
    discontinuous = record_onsets is not None
    plus = discontinuous or bool(edf_plus)
    if record_onsets is None:
        record_onsets = np.arange(n_records, dtype=float)
    record_onsets = np.asarray(record_onsets, dtype=float)
    assert record_onsets.size == n_records
    phys = float(phys or np.abs(signals).max() or 1.0)
    tal_samples = 30  # 60 bytes per record for the time-keeping annotation
    labels = list(ch_names) + (["EDF Annotations"] if plus else [])
    n_signals = len(labels)
    units = [unit] * n_channels + ([""] if plus else [])
    pmin = [f"{-phys:.1f}"] * n_channels + (["-1"] if plus else [])
    pmax = [f"{phys:.1f}"] * n_channels + (["1"] if plus else [])
    per_record = [sfreq] * n_channels + ([tal_samples] if plus else [])
    reserved = "EDF+D" if discontinuous else "EDF+C" if plus else ""
    recording = (f"Startdate {start.strftime('%d-%b-%Y').upper()} X X X" if plus and date_known
                 else "Startdate X X X X")
    header = b"".join([
        _field(0, 8), _field("X X X X", 80), _field(recording, 80),
        _field(start.strftime("%d.%m.%y"), 8), _field(start.strftime("%H.%M.%S"), 8),
        _field(256 * (n_signals + 1), 8), _field(reserved, 44), _field(n_records, 8),
        _field(1, 8), _field(n_signals, 4),
        *[_field(name, 16) for name in labels], *[_field("", 80)] * n_signals,
        *[_field(u, 8) for u in units], *[_field(v, 8) for v in pmin],
        *[_field(v, 8) for v in pmax], *[_field(-32768, 8)] * n_signals,
        *[_field(32767, 8)] * n_signals, *[_field("", 80)] * n_signals,
        *[_field(n, 8) for n in per_record], *[_field("", 32)] * n_signals,
    ])
    digital = np.round(signals[:, : n_records * sfreq] / phys * 32767).astype("<i2")
    records = digital.reshape(n_channels, n_records, sfreq).transpose(1, 0, 2)
    body = bytearray()
    for k in range(n_records):
        body += records[k].tobytes()
        if plus:
            tal = f"+{record_onsets[k]:g}\x14\x14\x00".encode("ascii")
            body += tal.ljust(2 * tal_samples, b"\x00")
    path.write_bytes(header + bytes(body))
    return path
