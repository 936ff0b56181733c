"""The container every loader returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

__all__ = ["CH_TYPES", "EpochData", "channel_type"]

#: Channel types the feature extractors understand.
CH_TYPES: tuple[str, ...] = ("eeg", "emg", "eog")


def channel_type(name: str, default: str | None = "eeg") -> str | None:
    """The channel type a channel's name states: ``"emg"``, ``"eog"`` or ``"eeg"``.

    The name is searched, ignoring case, for ``EMG``, then ``EOG``, then ``EEG``; the first
    found decides. This is the one rule the loaders, the command line and the feature
    extractors use when no type is given.

    Parameters
    ----------
    name : str
        Channel name, e.g. ``"EEG Fpz-Cz"`` or ``"EMG submental"``.
    default : str or None, default="eeg"
        Returned when the name states no type (None lets a caller skip such channels).

    Returns
    -------
    str or None
        ``"emg"``, ``"eog"``, ``"eeg"`` or ``default``.

    Examples
    --------
    >>> channel_type("EMG submental"), channel_type("Fpz-Cz"), channel_type("Resp", None)
    ('emg', 'eeg', None)
    """
    upper = str(name).upper()
    for token in ("EMG", "EOG", "EEG"):
        if token in upper:
            return token.lower()
    return default


@dataclass
class EpochData:
    """Epoched recording(s) ready for staging.

    Parameters
    ----------
    X : numpy.ndarray, shape (n_epochs, n_channels, n_samples), float32
        Signal of each epoch and channel, in the recording's units (volts for EDF).
    y : numpy.ndarray of str, shape (n_epochs,), or None
        Stage of each epoch (canonical names such as ``"WAKE"``), None when unlabelled.
    groups : numpy.ndarray, shape (n_epochs,)
        Recording (animal / night) id of each epoch; epochs of one recording are
        contiguous and in time order.
    sfreq : float
        Sampling frequency in Hz.
    ch_names : tuple of str
        Channel names, e.g. ``("eeg1", "eeg2", "emg")``.
    ch_types : tuple of str
        ``"eeg"``, ``"emg"`` or ``"eog"`` for each channel.
    epoch_length : float
        Epoch duration in seconds (``n_samples / sfreq``).
    onsets : numpy.ndarray, shape (n_epochs,), optional
        Onset of each epoch in seconds from the start of its recording.
    info : dict
        Free-form provenance (source files, synthetic parameters, ...).

    Examples
    --------
    >>> import numpy as np
    >>> data = EpochData(np.zeros((2, 3, 512), np.float32), None, np.zeros(2), 128.0,
    ...                  ("eeg1", "eeg2", "emg"), ("eeg", "eeg", "emg"), 4.0)
    >>> data.flat().shape
    (2, 1536)
    """

    X: np.ndarray
    y: np.ndarray | None
    groups: np.ndarray
    sfreq: float
    ch_names: Sequence[str]
    ch_types: Sequence[str]
    epoch_length: float
    onsets: np.ndarray | None = None
    info: dict = field(default_factory=dict)
    #: Whether ``X`` holds raw samples (False for a feature table): artefact detection,
    #: which judges samples, runs only on raw signal.
    has_signal: ClassVar[bool] = True

    def __post_init__(self) -> None:
        self.X = np.ascontiguousarray(self.X, dtype=np.float32)
        self.ch_names = tuple(str(c) for c in self.ch_names)
        self.ch_types = tuple(str(t) for t in self.ch_types)
        self.groups = np.asarray(self.groups)
        self.sfreq = float(self.sfreq)
        self.epoch_length = float(self.epoch_length)
        if self.X.ndim != 3:
            raise ValueError(
                f"EpochData.X must be 3-D (n_epochs, n_channels, n_samples), got shape "
                f"{self.X.shape}."
            )
        n_epochs, n_channels, n_samples = self.X.shape
        if len(self.ch_names) != n_channels or len(self.ch_types) != n_channels:
            raise ValueError(
                f"X has {n_channels} channels but {len(self.ch_names)} names and "
                f"{len(self.ch_types)} types were given."
            )
        unknown = sorted(set(self.ch_types) - set(CH_TYPES))
        if unknown:
            raise ValueError(f"Unknown channel type(s) {unknown}; allowed are {list(CH_TYPES)}.")
        if abs(n_samples - self.sfreq * self.epoch_length) > 0.5:
            raise ValueError(
                f"Epochs have {n_samples} samples, but sfreq x epoch_length = "
                f"{self.sfreq} x {self.epoch_length} = {self.sfreq * self.epoch_length:g}."
            )
        self._check_epoch_arrays(n_epochs)

    def _check_epoch_arrays(self, n_epochs: int) -> None:
        """Check that ``groups``, ``y`` and ``onsets`` hold one value per epoch."""
        if self.groups.shape != (n_epochs,):
            raise ValueError(f"groups has shape {self.groups.shape}, expected ({n_epochs},).")
        if self.y is not None:
            self.y = np.asarray(self.y)
            if self.y.shape != (n_epochs,):
                raise ValueError(f"y has shape {self.y.shape}, expected ({n_epochs},).")
        if self.onsets is not None:
            self.onsets = np.asarray(self.onsets, dtype=float)
            if self.onsets.shape != (n_epochs,):
                raise ValueError(f"onsets has shape {self.onsets.shape}, expected ({n_epochs},).")

    @property
    def n_epochs(self) -> int:
        """Number of epochs."""
        return self.X.shape[0]

    @property
    def n_samples(self) -> int:
        """Samples per channel in one epoch."""
        return self.X.shape[2]

    @property
    def recordings(self) -> np.ndarray:
        """Recording ids in order of first appearance."""
        _, first = np.unique(self.groups, return_index=True)
        return self.groups[np.sort(first)]

    def flat(self) -> np.ndarray:
        """Return ``X`` as ``(n_epochs, n_channels * n_samples)``, channel by channel."""
        return self.X.reshape(self.n_epochs, -1)

    def layout(self) -> dict:
        """Keyword arguments describing the channel and epoch layout.

        Accepted by the feature extractors, :func:`~sleepstage.features.detect_artefacts`
        and :func:`~sleepstage.pipelines.make_staging_pipeline`:
        ``make_staging_pipeline(**data.layout())`` builds a pipeline for this sampling rate,
        these channels and this epoch length.

        Returns
        -------
        dict
            ``{"sfreq": ..., "ch_names": ..., "ch_types": ..., "epoch_length": ...}``.
        """
        return {"sfreq": self.sfreq, "ch_names": self.ch_names, "ch_types": self.ch_types,
                "epoch_length": self.epoch_length}

    def select(self, mask: np.ndarray) -> EpochData:
        """Return the epochs where ``mask`` (boolean or integer index) selects."""
        return EpochData(
            X=self.X[mask],
            y=None if self.y is None else self.y[mask],
            groups=self.groups[mask],
            sfreq=self.sfreq,
            ch_names=self.ch_names,
            ch_types=self.ch_types,
            epoch_length=self.epoch_length,
            onsets=None if self.onsets is None else self.onsets[mask],
            info=dict(self.info),
        )

    @classmethod
    def concatenate(cls, parts: Sequence[EpochData]) -> EpochData:
        """Stack several recordings with the same layout into one ``EpochData``."""
        if not parts:
            raise ValueError("Nothing to concatenate: got an empty list of EpochData.")
        first = parts[0]
        for part in parts[1:]:
            if (part.sfreq, part.ch_names, part.ch_types, part.epoch_length) != (
                first.sfreq, first.ch_names, first.ch_types, first.epoch_length
            ):
                raise ValueError(
                    "Cannot concatenate recordings with different layouts: "
                    f"{(first.sfreq, first.ch_names, first.epoch_length)} vs "
                    f"{(part.sfreq, part.ch_names, part.epoch_length)}."
                )
        labelled = [p.y is not None for p in parts]
        if any(labelled) and not all(labelled):
            raise ValueError("Cannot concatenate labelled and unlabelled recordings.")
        has_onsets = all(p.onsets is not None for p in parts)
        return cls(
            X=np.concatenate([p.X for p in parts]),
            y=np.concatenate([p.y for p in parts]) if all(labelled) else None,
            groups=np.concatenate([p.groups for p in parts]),
            sfreq=first.sfreq,
            ch_names=first.ch_names,
            ch_types=first.ch_types,
            epoch_length=first.epoch_length,
            onsets=np.concatenate([p.onsets for p in parts]) if has_onsets else None,
            info={"parts": [p.info for p in parts]},
        )
