"""Robust standardisation of every feature within each recording."""

from __future__ import annotations

import logging
import numbers
import warnings

import numpy as np
from sklearn.base import OneToOneFeatureMixin

from .._groups import Segments
from .._validation import check_option
from ._recording import RecordingTransformer

__all__ = ["RecordingScaler"]

logger = logging.getLogger(__name__)

#: Spreads below this (relative to float64 resolution) count as zero and are replaced by 1.
_TINY = 10 * np.finfo(np.float64).eps


class RecordingScaler(OneToOneFeatureMixin, RecordingTransformer):
    """Robust standardisation of each feature within each recording.

    Every feature is centred and scaled with statistics of the recording it belongs to —
    by default the median and the 5-95 percentile range — computed on the data being
    transformed, at fit time as at predict time. A new animal or subject is therefore
    normalised by its own statistics, which removes differences in electrode gain,
    impedance and body size between recordings. The recordings are given as ``groups``
    (one recording id per epoch, contiguous and in time order); without ``groups`` all
    epochs are one recording.

    Parameters
    ----------
    center : {"median", "mean"} or None, default="median"
        Location subtracted from each feature; None leaves the data uncentred.
    spread : {"percentile", "std"} or None, default="percentile"
        Scale each feature is divided by: the width of ``quantile_range`` ("percentile"),
        the standard deviation ("std"), or nothing (None). A spread that is zero (a feature
        constant within a recording) is replaced by 1, so that such a feature becomes 0
        after centring instead of NaN or inf.
    quantile_range : tuple of two floats, default=(5.0, 95.0)
        Lower and upper percentiles (0-100) of the "percentile" spread. With the default,
        the central 90 % of a recording's epochs span about one unit.
    min_epochs : int, default=2700
        Shortest recording whose own statistics are trusted (2700 epochs are 3 h of 4-s
        epochs; :func:`~sleepstage.pipelines.make_pipeline` converts 3 h with its
        ``epoch_length``, e.g. 360 epochs of 30 s). If any training recording is shorter,
        :meth:`fit` turns scaling off with a ``UserWarning`` and the step passes features
        through unchanged, at fit and at predict time (``scaled_`` is False): the centre and
        spread of a short stretch are set by its stage mix, not by the electrodes. A
        recording shorter than ``min_epochs`` met at predict time by a scaling step is
        scaled, with a ``UserWarning``.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen in :meth:`fit`.
    feature_names_in_ : ndarray of str
        Names of the features seen in :meth:`fit`, when ``X`` was a DataFrame.
    n_recordings_ : int
        Number of recordings seen in :meth:`fit`.
    scaled_ : bool
        Whether the step scales (every training recording had ``min_epochs`` epochs or more)
        or passes the features through.

    Notes
    -----
    Nothing about the feature values is learned in :meth:`fit`: statistics always come from
    the recording being transformed. This is the point of the method, and also its caveat:
    the statistics depend on the stage mix of the recording. A recording that is mostly
    wake (or a short excerpt of one stage) is centred differently from a typical 24-h
    recording, so the scaled features of the same physiological state shift with it.
    Recordings should be long enough to contain every stage in roughly usual proportions.

    The epochs of a recording must be contiguous; a recording id that reappears after
    another recording raises ``ValueError``.

    Recording ids reach this step through scikit-learn's metadata routing: ``fit``,
    ``transform`` and ``fit_transform`` request ``groups`` by default, so inside a
    :class:`~sklearn.pipeline.Pipeline` with ``sklearn.set_config(enable_metadata_routing=True)``
    ``pipe.fit(X, y, groups=groups)`` reaches them without further set-up.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0], [2.0], [3.0], [10.0], [20.0], [30.0]])
    >>> scaler = RecordingScaler(quantile_range=(0, 100), min_epochs=1)
    >>> scaler.fit_transform(X, groups=[0, 0, 0, 1, 1, 1]).ravel().tolist()
    [-0.5, 0.0, 0.5, -0.5, 0.0, 0.5]
    """

    _fitted_attribute = "scaled_"

    def __init__(self, *, center="median", spread="percentile", quantile_range=(5.0, 95.0),
                 min_epochs=2700):
        self.center = center
        self.spread = spread
        self.quantile_range = quantile_range
        self.min_epochs = min_epochs

    # -- validation ---------------------------------------------------------------------------
    def _check_params(self) -> tuple[float, float]:
        check_option("center", self.center, ["median", "mean", None])
        check_option("spread", self.spread, ["percentile", "std", None])
        try:
            low, high = (float(q) for q in self.quantile_range)
        except (TypeError, ValueError):
            raise ValueError(
                "The 'quantile_range' parameter must be a pair of percentiles (low, high), "
                f"but got {self.quantile_range!r}."
            ) from None
        if not 0 <= low < high <= 100:
            raise ValueError(
                "The 'quantile_range' parameter must satisfy 0 <= low < high <= 100, but got "
                f"{self.quantile_range!r}."
            )
        if (not isinstance(self.min_epochs, numbers.Integral) or isinstance(self.min_epochs, bool)
                or self.min_epochs < 0):
            raise ValueError(
                f"The 'min_epochs' parameter must be an integer >= 0, but got {self.min_epochs!r}."
            )
        return low, high

    # -- computation --------------------------------------------------------------------------
    def _scale(self, X: np.ndarray, segments: Segments) -> np.ndarray:
        low, high = self._check_params()
        out = np.empty_like(X)
        short = segments.lengths < self.min_epochs
        if short.any():
            shown = ", ".join(f"{rid!r} ({n} epochs)" for rid, n in
                              zip(segments.ids[short][:5].tolist(),
                                  segments.lengths[short][:5].tolist(),
                                  strict=True))
            warnings.warn(
                f"{int(short.sum())} recording(s) have fewer than min_epochs="
                f"{self.min_epochs} epochs: {shown}. Their per-recording statistics are "
                "unreliable.",
                UserWarning,
                stacklevel=2,
            )
        for part in segments.slices():
            block = X[part].astype(np.float64)
            if self.spread == "percentile" or self.center == "median":
                q_low, q_mid, q_high = np.percentile(block, [low, 50.0, high], axis=0)
            if self.center == "median":
                location = q_mid
            elif self.center == "mean":
                location = block.mean(axis=0)
            else:
                location = 0.0
            if self.spread == "percentile":
                scale = q_high - q_low
            elif self.spread == "std":
                scale = block.std(axis=0)
            else:
                scale = np.ones(X.shape[1])
            scale = np.where(scale < _TINY, 1.0, scale)
            out[part] = (block - location) / scale
        return out

    # -- RecordingTransformer hooks --------------------------------------------------------
    def _fit_segments(self, X: np.ndarray, segments: Segments) -> None:
        self.n_recordings_ = len(segments)
        short = segments.lengths < self.min_epochs
        self.scaled_ = not short.any()
        if not self.scaled_:
            warnings.warn(
                f"RecordingScaler: {int(short.sum())} of {len(segments)} training recording(s) "
                f"have fewer than min_epochs={self.min_epochs} epochs (shortest: "
                f"{int(segments.lengths.min())}); statistics of such short stretches follow "
                "their stage mix, so scaling is off and features pass through unchanged.",
                UserWarning,
                stacklevel=4,
            )

    def _transform_segments(self, X: np.ndarray, segments: Segments) -> np.ndarray:
        return self._scale(X, segments) if self.scaled_ else X
