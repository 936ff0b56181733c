"""Shared base for transformers that read raw epochs with a declared channel layout."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._internal.validation import check_epochs, check_option, check_positive
from ..data import CH_TYPES, channel_type

__all__ = ["DEFAULT_CH_NAMES", "DEFAULT_CH_TYPES", "DEFAULT_SFREQ", "EpochTransformer"]

#: The reference rodent layout: 2 EEG + 1 EMG at 128 Hz, 4-s epochs (512 samples).
DEFAULT_SFREQ: float = 128.0
DEFAULT_CH_NAMES: tuple[str, ...] = ("eeg1", "eeg2", "emg")
DEFAULT_CH_TYPES: tuple[str, ...] = ("eeg", "eeg", "emg")


class EpochTransformer(TransformerMixin, BaseEstimator):
    """Base class: validates the layout in ``fit`` and reshapes ``X`` to 3-D.

    Subclasses implement ``_feature_names(ch_names, ch_types)`` (list of str) and
    ``_compute(X3d)`` returning ``(n_epochs, n_features)`` float32 values, and may override
    ``_check_params(n_samples)`` to validate scientific settings against the data.

    Parameters
    ----------
    sfreq : float
        Sampling frequency in Hz.
    ch_names : sequence of str or None
        Channel names in the order they are concatenated in ``X``; None means the reference
        layout ``("eeg1", "eeg2", "emg")``.
    ch_types : sequence of str or None
        ``"eeg"``, ``"emg"`` or ``"eog"`` per channel; None means ``("eeg", "eeg", "emg")``.
    epoch_length : float, optional
        Declared epoch length in seconds. When given, :meth:`fit` checks that each epoch of
        ``X`` holds ``epoch_length * sfreq`` samples per channel, so that data of another
        epoch length (30-s human epochs in a pipeline built for 4-s rodent epochs) is refused
        instead of being described with the wrong time scale.
    """

    def __init__(self, *, sfreq=DEFAULT_SFREQ, ch_names=None, ch_types=None,
                 epoch_length=None):
        self.sfreq = sfreq
        self.ch_names = ch_names
        self.ch_types = ch_types
        self.epoch_length = epoch_length

    # -- layout -----------------------------------------------------------------------------
    def _resolve_layout(self) -> tuple[float, tuple[str, ...], tuple[str, ...]]:
        sfreq = check_positive("sfreq", self.sfreq)
        ch_names = DEFAULT_CH_NAMES if self.ch_names is None else tuple(map(str, self.ch_names))
        if self.ch_types is None:
            ch_types = (DEFAULT_CH_TYPES if self.ch_names is None
                        else tuple(map(channel_type, ch_names)))
        else:
            ch_types = tuple(str(t).lower() for t in self.ch_types)
        if len(ch_types) != len(ch_names):
            raise ValueError(
                f"ch_names has {len(ch_names)} entries but ch_types has {len(ch_types)}."
            )
        if len(set(ch_names)) != len(ch_names):
            raise ValueError(f"ch_names must be unique, got {list(ch_names)}.")
        for ch_type in ch_types:
            check_option("ch_types", ch_type, CH_TYPES)
        return sfreq, ch_names, ch_types

    def _validate_fit_input(self, X) -> np.ndarray:
        sfreq, ch_names, ch_types = self._resolve_layout()
        X3 = check_epochs(X, len(ch_names), ch_names=ch_names)
        self.sfreq_ = sfreq
        self.ch_names_ = ch_names
        self.ch_types_ = ch_types
        self.n_samples_ = X3.shape[2]
        _check_epoch_length(self.epoch_length, sfreq, X3.shape[2])
        self.n_features_in_ = X3.shape[1] * X3.shape[2]
        self._check_params(X3.shape[2])
        self.feature_names_out_ = np.asarray(self._feature_names(ch_names, ch_types), dtype=object)
        return X3

    def _validate_transform_input(self, X) -> np.ndarray:
        check_is_fitted(self, "feature_names_out_")
        return check_epochs(X, len(self.ch_names_), n_samples=self.n_samples_,
                            ch_names=self.ch_names_)

    # -- hooks ------------------------------------------------------------------------------
    def _check_params(self, n_samples: int) -> None:
        """Validate settings against the data (epoch length, Nyquist); override as needed."""

    def _feature_names(self, ch_names: Sequence[str], ch_types: Sequence[str]) -> list[str]:
        raise NotImplementedError

    def _compute(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # -- scikit-learn API -------------------------------------------------------------------
    def fit(self, X, y=None):
        """Validate the layout and settings against ``X``; learns nothing from the values.

        Parameters
        ----------
        X : array-like, shape (n_epochs, n_channels * n_samples) or (n_epochs, n_channels, n_times)
        y : ignored

        Returns
        -------
        self
        """
        self._validate_fit_input(X)
        return self

    def transform(self, X) -> np.ndarray:
        """Compute the features of every epoch.

        Parameters
        ----------
        X : array-like, shape (n_epochs, n_channels * n_samples) or (n_epochs, n_channels, n_times)

        Returns
        -------
        numpy.ndarray, shape (n_epochs, n_features), float32
        """
        X3 = self._validate_transform_input(X)
        return self._compute(X3)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the output columns, ``<channel>_<feature>``."""
        check_is_fitted(self, "feature_names_out_")
        return self.feature_names_out_.copy()


def _check_epoch_length(epoch_length, sfreq: float, n_samples: int) -> None:
    """Refuse epochs whose duration differs from the declared ``epoch_length``."""
    if epoch_length is None:
        return
    declared = check_positive("epoch_length", epoch_length)
    if abs(n_samples - declared * sfreq) >= 1.0:
        raise ValueError(
            f"X holds {n_samples} samples per channel and epoch, i.e. {n_samples / sfreq:g}-s "
            f"epochs at {sfreq:g} Hz, but epoch_length={declared:g} s was declared "
            f"({declared * sfreq:g} samples). Declare the epoch length of the data (e.g. "
            "make_staging_pipeline(epoch_length=...), or **data.layout())."
        )
