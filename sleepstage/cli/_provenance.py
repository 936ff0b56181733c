"""What a model file remembers of its training data, and the checks that use it.

``sleepstage fit`` and ``grid-search`` store two small summaries of the training epochs in
the model's metadata:

``training_epochs``
    A fingerprint: the 64-bit BLAKE2b hashes of the training epochs' samples, keeping those
    whose hash is divisible by ``modulus`` (chosen so that at most
    :data:`MAX_STORED_HASHES` are kept). The selection depends on the content alone, so the
    same epochs give the same kept hashes whatever recordings surround them.
    ``sleepstage importances`` hashes the data it is given the same way and warns when they
    overlap the training data: permutation importance measured on the training epochs shows
    what the model memorised, not what carries over to new recordings.
``channel_edge_hz``
    For every channel, the median over epochs of the frequency below which 95 % of the
    power of the (mean-removed) epoch lies. A raw EMG has power up to tens of hertz; a
    rectified, smoothed EMG envelope (Sleep-EDF's 1-Hz ``EMG submental``) has almost none
    above 1 Hz. ``sleepstage predict`` compares the recordings it scores against it and
    warns when a channel's edge differs by more than :data:`EDGE_RATIO` from training: the
    channel is not the kind of signal the model learned from (raw EMG mapped onto an
    envelope, another filter, another unit).
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from typing import Any

import numpy as np

__all__ = [
    "EDGE_RATIO",
    "MAX_STORED_HASHES",
    "describe_training",
    "edge_step",
    "epoch_edges",
    "median_edges",
    "warn_if_training_data",
    "warn_if_unlike_training",
]

logger = logging.getLogger("sleepstage.cli")

#: At most this many epoch hashes are stored in a model file.
MAX_STORED_HASHES = 4096

#: A channel whose spectral edge differs from training by more than this factor is reported.
EDGE_RATIO = 8.0

#: Epochs whose spectral edge is computed (evenly spaced through the data).
_EDGE_EPOCHS = 512


def _epoch_hashes(X: np.ndarray) -> np.ndarray:
    """64-bit BLAKE2b hash of every epoch's samples (float32)."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    return np.array([int.from_bytes(hashlib.blake2b(epoch.tobytes(), digest_size=8).digest(),
                                    "little") for epoch in X], dtype=np.uint64)


def edge_step(n_epochs: int) -> int:
    """Every ``edge_step(n)``-th epoch of ``n`` (from the first) has its spectral edge computed."""
    return max(1, n_epochs // _EDGE_EPOCHS)


def epoch_edges(X: np.ndarray, sfreq: float) -> np.ndarray:
    """The 95 % spectral edge frequency (Hz) of every epoch and channel (NaN for flat ones).

    Computed epoch by epoch, so a chunk of epochs gives the rows of the whole.
    """
    epochs = np.asarray(X, dtype=np.float64)
    epochs = epochs - epochs.mean(axis=-1, keepdims=True)
    power = np.abs(np.fft.rfft(epochs, axis=-1)) ** 2
    freqs = np.fft.rfftfreq(epochs.shape[-1], d=1.0 / sfreq)
    cumulative = np.cumsum(power, axis=-1)
    total = cumulative[..., -1:]
    edge_index = np.argmax(cumulative >= 0.95 * np.where(total > 0, total, 1.0), axis=-1)
    edge = freqs[edge_index]  # (epochs, channels)
    edge[total[..., 0] <= 0] = np.nan  # flat epochs say nothing
    return edge


def median_edges(edges: np.ndarray) -> np.ndarray:
    """Per channel, the median of :func:`epoch_edges` rows (NaN for an all-flat channel)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN channel
        return np.nanmedian(edges, axis=0)


def _edges(X: np.ndarray, sfreq: float) -> np.ndarray:
    """Per channel, the median 95 % spectral edge frequency (Hz) of some epochs."""
    return median_edges(epoch_edges(X[::edge_step(len(X))], sfreq))


def describe_training(data) -> dict[str, Any]:
    """The metadata entries ``training_epochs`` and ``channel_edge_hz`` for ``data``.

    Parameters
    ----------
    data : EpochData
        The training epochs. For a feature table (no raw signal) the fingerprint is that
        of each epoch's features, and there is no ``channel_edge_hz`` (no channels).

    Returns
    -------
    dict
        JSON-compatible.
    """
    hashes = _epoch_hashes(data.X)
    modulus = 1
    while (hashes % np.uint64(modulus) == 0).sum() > MAX_STORED_HASHES:
        modulus *= 2
    kept = np.unique(hashes[hashes % np.uint64(modulus) == 0])
    what = "samples" if data.has_signal else "features"
    out = {"training_epochs": {"hash": f"blake2b-64 of float32 {what}", "modulus": modulus,
                               "n_epochs": len(hashes),
                               "kept": [f"{int(h):016x}" for h in kept]}}
    if data.has_signal:
        edges = _edges(data.X, data.sfreq)
        out["channel_edge_hz"] = {
            str(name): (None if not np.isfinite(e) else round(float(e), 2))
            for name, e in zip(data.ch_names, edges, strict=True)}
    return out


def warn_if_training_data(metadata: dict, data, *, purpose: str) -> float:
    """Warn when ``data`` holds epochs of the model's training data; returns the share.

    Parameters
    ----------
    metadata : dict
        The model file's metadata.
    data : EpochData
        The epochs given to the command.
    purpose : str
        What they are used for, for the message.

    Returns
    -------
    float
        Estimated share of the given epochs that were training epochs (0 when the model
        file holds no fingerprint).
    """
    stored = metadata.get("training_epochs")
    if not isinstance(stored, dict) or not stored.get("kept"):
        return 0.0
    modulus = np.uint64(int(stored.get("modulus", 1)))
    kept = {int(h, 16) for h in stored["kept"]}
    hashes = _epoch_hashes(data.X)
    sampled = hashes[hashes % modulus == 0]
    if sampled.size == 0:
        return 0.0
    share = float(np.mean([int(h) in kept for h in sampled]))
    if share > 0:
        warnings.warn(
            f"About {share:.0%} of the epochs given for {purpose} are epochs the model was "
            "trained on: measured on its own training data, it shows what the model "
            "memorised rather than what carries over to new recordings. Give held-out "
            "recordings (e.g. other animals, or --synthetic with another --seed).",
            UserWarning, stacklevel=2,
        )
    return share


def warn_if_unlike_training(metadata: dict, data, *, edges: np.ndarray | None = None
                            ) -> list[str]:
    """Warn about channels whose spectral edge differs from training by > :data:`EDGE_RATIO`.

    Parameters
    ----------
    metadata : dict
        The model file's metadata.
    data : EpochData
        The epochs to score, already matched to the model (channel names, sampling rate).
        Only its ``ch_names`` are read when ``edges`` is given.
    edges : numpy.ndarray of shape (n_channels,), optional
        The channels' median spectral edges, when the epochs are not all in memory:
        :func:`median_edges` of the :func:`epoch_edges` of every :func:`edge_step`-th
        epoch of the recording (what is otherwise computed from ``data.X``).

    Returns
    -------
    list of str
        The channels reported.
    """
    stored = metadata.get("channel_edge_hz")
    if not isinstance(stored, dict):
        return []
    if edges is None:
        edges = _edges(data.X, data.sfreq)
    edges = dict(zip(data.ch_names, edges, strict=True))
    reported = []
    for name, trained in stored.items():
        now = edges.get(name)
        if trained is None or now is None or not np.isfinite(now):
            continue
        low, high = sorted((float(trained), float(now)))
        if high > EDGE_RATIO * max(low, 1e-3):
            reported.append(name)
            hint = (" (e.g. a raw EMG where the model learned from a smoothed EMG envelope)"
                    if now > trained else " (e.g. an EMG envelope where the model learned "
                    "from a raw EMG)")
            warnings.warn(
                f"Channel {name!r}: 95 % of its power lies below {now:.3g} Hz in these "
                f"recordings but below {trained:.3g} Hz in the model's training data"
                f"{hint}; it is not the kind of signal the model learned from, so the "
                "stages scored from it are unreliable.",
                UserWarning, stacklevel=2,
            )
    return reported
