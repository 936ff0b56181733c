"""Shared base for transformers that work within each recording (``groups``)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import (
    FLOAT_DTYPES,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from .._internal.groups import Segments, recording_segments

__all__ = ["RecordingTransformer"]


class RecordingTransformer(TransformerMixin, BaseEstimator):
    """Base class: feature transforms computed within each recording.

    Recording ids arrive as ``groups`` (one id per epoch, epochs of each recording
    contiguous and in time order; None means one recording), requested by default through
    scikit-learn's metadata routing for ``fit`` and ``transform``. ``fit_transform`` is
    defined explicitly so that a :class:`~sklearn.pipeline.Pipeline` passes ``groups`` to
    the transform as well.

    Subclasses implement ``_check_params()`` (validate and resolve parameters),
    ``_fit_segments(X, segments, y)`` (set fitted attributes; the name of one of them is
    ``_fitted_attribute``; ``y`` is None when none was given) and
    ``_transform_segments(X, segments)``; ``_fit_transform_segments(X, segments, y)``
    transforms the training data (by default as ``transform`` would).
    """

    # recording ids are requested by default, so users need not call set_*_request
    __metadata_request__fit: ClassVar[dict[str, bool]] = {"groups": True}
    __metadata_request__transform: ClassVar[dict[str, bool]] = {"groups": True}

    #: A fitted attribute that ``transform`` checks for.
    _fitted_attribute: ClassVar[str] = "n_features_in_"

    # -- hooks ------------------------------------------------------------------------------
    def _check_params(self) -> None:
        """Validate (and resolve) the parameters; called first in every ``fit``."""

    def _fit_segments(self, X: np.ndarray, segments: Segments, y: np.ndarray | None) -> None:
        """Set the fitted attributes from the validated ``X``, its recordings and labels."""

    def _transform_segments(self, X: np.ndarray, segments: Segments) -> np.ndarray:
        raise NotImplementedError

    def _fit_transform_segments(self, X: np.ndarray, segments: Segments,
                                y: np.ndarray | None) -> np.ndarray:
        """Transform the training data (default: as :meth:`transform` would)."""
        return self._transform_segments(X, segments)

    # -- scikit-learn API -------------------------------------------------------------------
    def _fit(self, X, y, groups) -> tuple[np.ndarray, Segments, np.ndarray | None]:
        self._check_params()
        X = validate_data(self, X, dtype=FLOAT_DTYPES, reset=True)
        if y is not None:
            y = column_or_1d(y)
            check_consistent_length(X, y)
        segments = recording_segments(groups, X.shape[0])
        self._fit_segments(X, segments, y)
        return X, segments, y

    def _validate_transform(self, X, groups) -> tuple[np.ndarray, Segments]:
        """The checked ``X`` of :meth:`transform` (fitted, same features) and its recordings."""
        check_is_fitted(self, self._fitted_attribute)
        X = validate_data(self, X, dtype=FLOAT_DTYPES, reset=False)
        return X, recording_segments(groups, X.shape[0])

    def fit(self, X, y=None, groups=None):
        """Check the parameters and the data; no statistic of the values is kept.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_features)
            Feature matrix, epochs of each recording contiguous and in time order.
        y : array-like of shape (n_epochs,), optional
            Stage labels, for the steps that use them (see the class).
        groups : array-like of shape (n_epochs,), optional
            Recording id of each epoch; None means one recording.

        Returns
        -------
        self
        """
        self._fit(X, y, groups)
        return self

    def transform(self, X, groups=None) -> np.ndarray:
        """Transform each recording on its own.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_features)
        groups : array-like of shape (n_epochs,), optional
            Recording id of each epoch; None means one recording.

        Returns
        -------
        numpy.ndarray of shape (n_epochs, n_features_out)
            Same float dtype as ``X`` (float32 stays float32); see the class for the columns.
        """
        return self._transform_segments(*self._validate_transform(X, groups))

    def fit_transform(self, X, y=None, groups=None) -> np.ndarray:
        """Fit and transform in one pass, with the same ``groups`` for both.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_features)
        y : array-like of shape (n_epochs,), optional
            Stage labels, for the steps that use them (see the class).
        groups : array-like of shape (n_epochs,), optional
            Recording id of each epoch; None means one recording.

        Returns
        -------
        numpy.ndarray of shape (n_epochs, n_features_out)
        """
        X, segments, y = self._fit(X, y, groups)
        return self._fit_transform_segments(X, segments, y)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
