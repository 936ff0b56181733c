"""Recordings read a chunk of epochs at a time, in memory bounded by the chunk."""

from __future__ import annotations

import numbers
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .._internal.validation import check_finite
from ._edf import _EdfPlan, _epoch_data, _plan_edf, _read_epochs
from ._epochs import EpochData
from ._stages import RK_TO_3CLASS

__all__ = ["EdfChunks", "iter_edf"]


def _check_chunk_epochs(chunk_epochs) -> int:
    """Return ``chunk_epochs`` as an int >= 1, else raise a named error."""
    if isinstance(chunk_epochs, bool) or not isinstance(chunk_epochs, numbers.Integral):
        raise TypeError(
            f"The 'chunk_epochs' parameter must be an integer >= 1, but got {chunk_epochs!r}."
        )
    if chunk_epochs < 1:
        raise ValueError(
            f"The 'chunk_epochs' parameter must be an integer >= 1, but got {chunk_epochs!r}."
        )
    return int(chunk_epochs)


def iter_edf(
    psg_path: str | os.PathLike,
    hypnogram_path: str | os.PathLike | None = None,
    *,
    chunk_epochs: int = 120,
    channels: Mapping[str, str] | Sequence[str] | None = None,
    epoch_length: float = 30.0,
    resample: float | None = None,
    label_mapping: Mapping[str, str] = RK_TO_3CLASS,
    keep_wake_minutes: float | None = None,
    recording_id: str | None = None,
    drop_unscored: bool = True,
) -> EdfChunks:
    """Read an EDF/EDF+ recording (and its hypnogram) a chunk of epochs at a time.

    The epochs, their order and everything about them are those of :func:`read_edf` with
    the same arguments; only the samples of one chunk (plus a margin) are in memory at a
    time, so a recording of any length can be read. The headers and the hypnogram are read,
    and the arguments checked, when this function is called; the samples as the chunks are
    asked for.

    Parameters
    ----------
    psg_path : path-like
        The polysomnography EDF file.
    hypnogram_path : path-like, optional
        Scoring as annotations, as in :func:`read_edf`. None gives unlabelled epochs.
    chunk_epochs : int, default=120
        Largest number of epochs in one chunk (120 epochs of 30 s are one hour). Memory
        grows with ``chunk_epochs x channels x samples per epoch`` at the file's rate, plus
        a margin on either side of each chunk (see Notes).
    channels, epoch_length, resample, label_mapping, keep_wake_minutes, recording_id, \
drop_unscored
        As in :func:`read_edf`.

    Returns
    -------
    EdfChunks
        An iterator of :class:`EpochData`: consecutive chunks of ``chunk_epochs`` kept
        epochs in time order (the last one may be shorter; a chunk may span a gap of an
        EDF+D file). Each chunk's ``info`` is that of :func:`read_edf` (the counts are
        those of the whole recording). Before any sample is read, its ``n_epochs`` and
        ``info`` tell the number of epochs of the whole recording and that ``info``.

    Raises
    ------
    TypeError
        If ``chunk_epochs`` is not an integer (``True`` and ``2.5`` are refused).
    ValueError
        If ``chunk_epochs`` < 1, and in every case where :func:`read_edf` raises it.

    See Also
    --------
    read_edf : The whole recording in memory at once.

    Notes
    -----
    Each chunk is read through MNE without preloading the file (``preload=False`` and a
    windowed ``get_data``), with a margin on either side (less at the edges of the
    recording and of the gaps of an EDF+D file) that absorbs the edge effects of
    resampling: the reach of the resampling filter (a fraction of a second), or 60 s when
    the picked channels have different rates in the file (MNE upsamples the slower ones
    over each read window). :meth:`EpochData.concatenate` of the chunks gives
    :func:`read_edf`'s epochs bit for bit, also with ``resample``: every chunk's read
    starts a whole number of polyphase periods (``down`` input samples of the ``up / down``
    ratio) from the start of the whole-recording read, so that its resampled samples fall
    on the same output grid and see the same input, and epoch offsets are rounded the same
    way.

    The exception is an EDF holding channels at different rates: MNE upsamples the slower
    picked channels with an FFT over each read window, whose result depends on the window.
    The channels at the file's highest rate are still identical; the upsampled ones differ
    slightly from :func:`read_edf`'s (as :func:`read_edf`'s own differ from those of a
    preloaded file). On Sleep-EDF SC4001, whose ``EMG submental`` is a 1-Hz envelope read
    at 100 Hz, 120-epoch chunks differ from :func:`read_edf` by a median 0.02 % of each
    epoch's peak (99th percentile 0.8 %, at most 7 %).

    Examples
    --------
    >>> for chunk in iter_edf("rat01.edf", chunk_epochs=900,
    ...                       channels={"EEG1": "eeg", "EMG": "emg"},
    ...                       epoch_length=4, resample=128):  # doctest: +SKIP
    ...     print(chunk.X.shape, chunk.onsets[0])
    """
    chunk_epochs = _check_chunk_epochs(chunk_epochs)
    plan = _plan_edf(
        psg_path,
        hypnogram_path,
        channels=channels,
        epoch_length=epoch_length,
        resample=resample,
        label_mapping=label_mapping,
        keep_wake_minutes=keep_wake_minutes,
        recording_id=recording_id,
        drop_unscored=drop_unscored,
    )
    return EdfChunks(plan, chunk_epochs)


class EdfChunks(Iterator[EpochData]):
    """The chunks of :func:`iter_edf`: an iterator of :class:`EpochData`.

    Attributes
    ----------
    n_epochs : int
        Kept epochs of the whole recording (the sum of the chunks' ``n_epochs``).
    chunk_epochs : int
        Largest number of epochs in one chunk.
    info : dict
        The ``info`` of every chunk (that of :func:`read_edf`).
    """

    def __init__(self, plan: _EdfPlan, chunk_epochs: int) -> None:
        self._plan = plan
        self._next = 0
        self.chunk_epochs = chunk_epochs
        self.n_epochs = plan.n_epochs
        self.info: dict[str, Any] = dict(plan.info)

    def __iter__(self) -> EdfChunks:
        return self

    def __next__(self) -> EpochData:
        plan, first = self._plan, self._next
        if first >= plan.n_epochs:
            raise StopIteration
        stop = min(first + self.chunk_epochs, plan.n_epochs)
        self._next = stop
        X = _read_epochs(plan, first, stop)
        check_finite(X, what=f"The signal of {plan.path.name} (epochs {first} to {stop - 1})")
        return _epoch_data(plan, X, first, stop)
