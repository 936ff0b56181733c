"""Per-recording normalisation of every feature, robust to the recording's stage mix."""

from __future__ import annotations

import logging
import numbers
import warnings
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
from sklearn.base import OneToOneFeatureMixin, clone

from .._internal.groups import Segments
from .._internal.rows import SCORE_ROWS, rowwise
from .._internal.validation import check_option
from .._internal.warnings import user_stacklevel
from ._recording import RecordingTransformer

__all__ = ["FIRST_PASS_PARAMS", "RecordingScaler"]

logger = logging.getLogger(__name__)

#: Spreads below this (relative to float64 resolution) count as zero and are replaced by 1.
_TINY = 10 * np.finfo(np.float64).eps
#: Columns whose float64 statistics are computed at a time, and rows the first-pass
#: classifier scores at a time, when a recording is normalised: the temporaries stay
#: bounded whatever the recording's length (every statistic is per column and every
#: prediction per row, so the result is the same as on the whole matrix).
_COLUMN_BLOCK = 8
_ROW_BLOCK = SCORE_ROWS

#: LightGBM settings of the default first-pass classifier (``reference="stage"``). The
#: settings before 2026-12 were ``n_estimators=60, class_weight="balanced"`` on LightGBM's
#: defaults (255 bins, every epoch and column per tree); ``make_staging_pipeline(
#: preset="2026-11")`` still uses them.
FIRST_PASS_PARAMS: Mapping[str, Any] = MappingProxyType(dict(
    n_estimators=60, class_weight="balanced", max_bin=63, subsample=0.5, subsample_freq=1,
    colsample_bytree=0.5))

#: A stage needs this many epochs in a recording before its statistics there are used.
MIN_STAGE_EPOCHS: int = 20


class RecordingScaler(OneToOneFeatureMixin, RecordingTransformer):
    """Per-recording normalisation of each feature that does not depend on the stage mix.

    Recordings differ in electrode gain, impedance and body size: the same state gives
    other feature values in another animal. This step maps every recording onto the scale of
    the training recordings. The recordings are given as ``groups`` (one recording id per
    epoch, contiguous and in time order); without ``groups`` all epochs are one recording.

    With ``reference="stage"`` (the default) a recording ``r`` is modelled as an affine
    distortion of a reference animal, feature by feature: ``x = gain_r * u + offset_r``.
    Offset and gain are estimated *per stage* and averaged with fixed weights (the stage
    frequencies of the training labels): the offset is the weighted mean over stages of
    ``median(x | stage) - gain_r * M[stage]``, where ``M`` holds the median of each stage in
    the training reference, and the gain is the weighted within-stage spread (median
    absolute deviation) of the recording relative to the reference. Both are therefore the
    same whether the animal slept 30 % or 60 % of the recording, and a stage missing from a
    recording simply does not contribute. In training the stages are the true labels; at
    transform time they come from a first-pass classifier (``estimator``) trained on the
    normalised training data, iterated ``n_iter`` times starting from the recording's
    quantiles. With ``reference="recording"`` each recording is centred on its own median
    and divided by its own ``quantile_range`` width, which follows the stage mix (after
    sleep deprivation the extra sleep shifts every median): kept for comparison.

    Parameters
    ----------
    reference : {"stage", "recording"}, default="stage"
        Stage-anchored affine normalisation, or the recording's own median and quantile
        range.
    center : {"median", "mean"} or None, default="median"
        ``reference="recording"`` only: location subtracted from each feature.
    spread : {"percentile", "std"} or None, default="percentile"
        Scale each feature is divided by. ``reference="recording"``: the width of
        ``quantile_range`` ("percentile"), the standard deviation ("std"), or nothing.
        ``reference="stage"``: any value but None estimates a gain per recording; None
        estimates the offset alone (enough for log powers, where a gain is an offset).
        A zero spread is replaced by 1.
    quantile_range : tuple of two floats, default=(5.0, 95.0)
        Lower and upper percentiles (0-100): the spread of ``reference="recording"`` and the
        starting point of the stage-anchored iterations.
    min_epochs : int, default=2700
        Shortest recording whose own statistics are trusted (2700 epochs are 3 h of 4-s
        epochs; :func:`~sleepstage.pipelines.make_staging_pipeline` converts 3 h with its
        ``epoch_length``, e.g. 360 epochs of 30 s). ``reference="stage"``: a shorter
        recording, in training or at transform time, is not normalised by its own
        statistics; it keeps the training reference (features pass through unchanged, as
        for an average training recording) and a ``UserWarning`` says so once per call.
        ``reference="recording"``: if any training recording is shorter, scaling is off
        (``scaled_`` is False); a short recording met at transform time is scaled, with a
        warning.
    estimator : classifier or None, default=None
        ``reference="stage"``: the first-pass classifier that assigns the stages of a new
        recording. None: a small LightGBM (``FIRST_PASS_PARAMS``: 60 trees, balanced
        class weights, half of the epochs and of the columns per tree on 63-bin
        histograms; one thread).
    n_iter : int, default=3
        ``reference="stage"``: rounds of (classify, re-estimate offset and gain).

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen in :meth:`fit`.
    feature_names_in_ : ndarray of str
        Names of the features seen in :meth:`fit`, when ``X`` was a DataFrame.
    n_recordings_ : int
        Number of recordings seen in :meth:`fit`.
    scaled_ : bool
        Whether the step transforms anything (``reference="recording"``: every training
        recording had ``min_epochs`` epochs or more).
    classes_ : ndarray
        Stages seen in :meth:`fit` (``reference="stage"``).
    stage_medians_, stage_spreads_ : ndarray of shape (n_classes, n_features)
        Median and median absolute deviation of every feature within each stage, in the
        training reference (``reference="stage"``).
    stage_weights_ : ndarray of shape (n_classes,)
        Stage frequencies of the training labels, weighting the per-stage spreads.
    reference_quantiles_ : ndarray of shape (3, n_features)
        Low, median and high quantiles of the normalised training data: the first guess
        for a new recording.
    estimator_ : classifier
        The fitted first-pass classifier (``reference="stage"``).
    offsets_, gains_ : ndarray of shape (n_recordings, n_features)
        Offset and gain estimated for each training recording (``reference="stage"``;
        0 and 1 for recordings shorter than ``min_epochs``).

    Notes
    -----
    The gauge of the reference is the average training recording: the offsets of the
    training recordings that were normalised average 0 and their gains have geometric mean
    1, so a recording passed through unchanged (too short to be normalised) is treated as an
    average training recording. With one training recording the reference is that
    recording itself.

    Any per-recording normalisation removes what it takes for electrode differences,
    including a true change of the same size in every stage. The stage anchoring removes no
    effect of the stage *mix*, but a real shift within stages (e.g. higher NREM delta power
    in recovery sleep) is partly taken as a gain or offset; study such spectral effects on
    the raw features, with the hypnogram this pipeline produces.

    The stage-anchored estimates are only as good as the first-pass stages; the median is
    robust to a minority of misassigned epochs. A recording in which a stage is too rare
    (fewer than :data:`MIN_STAGE_EPOCHS` epochs) is normalised by the stages it has.

    Recording ids reach this step through scikit-learn's metadata routing: ``fit``,
    ``transform`` and ``fit_transform`` request ``groups`` by default.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0], [2.0], [3.0], [10.0], [20.0], [30.0]])
    >>> scaler = RecordingScaler(reference="recording", quantile_range=(0, 100), min_epochs=1)
    >>> scaler.fit_transform(X, groups=[0, 0, 0, 1, 1, 1]).ravel().tolist()
    [-0.5, 0.0, 0.5, -0.5, 0.0, 0.5]
    """

    _fitted_attribute = "scaled_"

    def __init__(self, *, reference="stage", center="median", spread="percentile",
                 quantile_range=(5.0, 95.0), min_epochs=2700, estimator=None, n_iter=3):
        self.reference = reference
        self.center = center
        self.spread = spread
        self.quantile_range = quantile_range
        self.min_epochs = min_epochs
        self.estimator = estimator
        self.n_iter = n_iter

    # -- validation ---------------------------------------------------------------------------
    def _check_params(self) -> tuple[float, float]:
        check_option("reference", self.reference, ["stage", "recording"])
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
        for name in ("min_epochs", "n_iter"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 0:
                raise ValueError(
                    f"The '{name}' parameter must be an integer >= 0, but got {value!r}."
                )
        return low, high

    def _warn_short(self, segments: Segments, what: str) -> None:
        short = segments.lengths < self.min_epochs
        if not short.any():
            return
        shown = ", ".join(f"{segments.describe(i)} ({segments.lengths[i]} epochs)"
                          for i in np.flatnonzero(short)[:5])
        warnings.warn(
            f"RecordingScaler: {int(short.sum())} recording(s) have fewer than min_epochs="
            f"{self.min_epochs} epochs: {shown}. {what}",
            UserWarning,
            stacklevel=user_stacklevel(),
        )

    # -- reference="recording" ----------------------------------------------------------------
    def _scale_by_recording(self, X: np.ndarray, segments: Segments) -> np.ndarray:
        low, high = self._check_params()
        out = np.empty_like(X)
        self._warn_short(segments, "Their per-recording statistics are unreliable.")
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

    # -- reference="stage" --------------------------------------------------------------------
    def _offset_and_gain(self, x: np.ndarray, codes: np.ndarray,
                         columns: slice = slice(None)) -> tuple[np.ndarray, np.ndarray]:
        """Offset and gain of one recording (raw features) given the stage of each epoch.

        ``x`` holds the recording's ``columns`` of the features (all by default); the
        statistics of each column are computed from that column alone.
        """
        n_features = x.shape[1]
        present = [c for c in range(len(self.classes_))
                   if np.count_nonzero(codes == c) >= MIN_STAGE_EPOCHS]
        if not present:
            return np.zeros(n_features), np.ones(n_features)
        gain = np.ones(n_features)
        if self.spread is not None:
            weights = self.stage_weights_[present][:, None]
            spreads = np.stack([_mad(x[codes == c]) for c in present])
            gain = ((weights * spreads).sum(axis=0)
                    / (weights * self.stage_spreads_[present][:, columns]).sum(axis=0))
            gain = np.where((gain > _TINY) & np.isfinite(gain), gain, 1.0)
        weights = self.stage_weights_[present]
        offsets = np.stack([np.median(x[codes == c], axis=0)
                            - gain * self.stage_medians_[c][columns] for c in present])
        offset = (weights[:, None] * offsets).sum(axis=0) / weights.sum()
        return offset, gain

    def _stage_statistics(self, U: np.ndarray, codes: np.ndarray) -> None:
        self.stage_medians_ = np.stack(
            [np.median(U[codes == c], axis=0) for c in range(len(self.classes_))])
        spreads = np.stack([_mad(U[codes == c]) for c in range(len(self.classes_))])
        self.stage_spreads_ = np.where(spreads > _TINY, spreads, 1.0)

    def _fit_stage_reference(self, X: np.ndarray, segments: Segments, y) -> np.ndarray:
        """Learn the reference from the true stages; return the normalised training data."""
        if y is None:
            raise ValueError("RecordingScaler(reference='stage') requires y to be passed, but "
                             "the target y is None: the reference is the median of every "
                             "feature within each stage. Pass the stage labels, or use "
                             "reference='recording' for unlabelled data.")
        self.classes_, codes = np.unique(y, return_inverse=True)
        self.stage_weights_ = np.bincount(codes) / codes.size
        X64 = X.astype(np.float64)
        U = X64.copy()
        n_recordings = len(segments)
        self.offsets_ = np.zeros((n_recordings, X.shape[1]))
        self.gains_ = np.ones((n_recordings, X.shape[1]))
        normalised = np.flatnonzero(segments.lengths >= self.min_epochs)
        self._stage_statistics(X64, codes)
        parts = segments.slices()
        for _ in range(max(self.n_iter, 1)):
            if normalised.size == 0:
                break
            for index in normalised:
                part = parts[index]
                self.offsets_[index], self.gains_[index] = self._offset_and_gain(
                    X64[part], codes[part])
            # gauge: the average normalised training recording is the reference. A change
            # of reference u -> u / d - c maps (gain, offset) to (gain * d, offset + gain *
            # d * c): gains get geometric mean 1, then offsets mean 0
            gains = self.gains_[normalised] / np.exp(
                np.log(self.gains_[normalised]).mean(axis=0))
            offsets = self.offsets_[normalised]
            shift = -offsets.mean(axis=0) / gains.mean(axis=0)
            self.gains_[normalised] = gains
            self.offsets_[normalised] = offsets + gains * shift
            for index in normalised:
                part = parts[index]
                U[part] = (X64[part] - self.offsets_[index]) / self.gains_[index]
            self._stage_statistics(U, codes)
        low, high = self._check_params()
        self.reference_quantiles_ = np.percentile(U, [low, 50.0, high], axis=0)
        self.estimator_ = clone(self._first_pass_estimator()).fit(U, codes)
        return U

    def _first_pass_estimator(self):
        if self.estimator is not None:
            return self.estimator
        from lightgbm import LGBMClassifier

        # one thread: a small model, often fitted inside parallel folds or grid searches;
        # rough stages suffice, so each tree sees half of the epochs and of the columns on
        # 63-bin histograms (LightGBM's 255 bins and every epoch: 2 s more on 3 x 24 h)
        return LGBMClassifier(**FIRST_PASS_PARAMS, random_state=0, n_jobs=1, verbose=-1)

    def _normalise_by_stage(self, X: np.ndarray, segments: Segments) -> np.ndarray:
        """Estimate each recording's offset and gain from first-pass stages; normalise.

        The float64 statistics are computed a few columns at a time and the first-pass
        stages a block of rows at a time (:data:`_COLUMN_BLOCK`, :data:`_ROW_BLOCK`), so
        that memory beyond the output stays bounded for a recording of any length.
        """
        out = np.array(X, dtype=np.result_type(X.dtype, np.float32))
        q_ref = self.reference_quantiles_
        ref_width = np.where(q_ref[2] - q_ref[0] > _TINY, q_ref[2] - q_ref[0], 1.0)
        low, high = self._check_params()
        columns = [slice(i, i + _COLUMN_BLOCK) for i in range(0, X.shape[1], _COLUMN_BLOCK)]

        def by_columns(x: np.ndarray, statistic) -> tuple[np.ndarray, ...]:
            parts = [statistic(x[:, cols].astype(np.float64), cols) for cols in columns]
            return tuple(np.concatenate(values) for values in zip(*parts, strict=True))

        for part, length in zip(segments.slices(), segments.lengths, strict=True):
            if length < self.min_epochs:
                continue
            x = X[part]
            q_low, q_mid, q_high = by_columns(
                x, lambda xc, cols: tuple(np.percentile(xc, [low, 50.0, high], axis=0)))
            gain = np.ones(x.shape[1])
            if self.spread is not None:
                gain = (q_high - q_low) / ref_width
                gain = np.where(gain > _TINY, gain, 1.0)
            offset = q_mid - gain * q_ref[1]
            for _ in range(self.n_iter):
                codes = rowwise(lambda rows, offset=offset, gain=gain: self.estimator_.predict(
                    (rows.astype(np.float64) - offset) / gain), x, _ROW_BLOCK)
                offset, gain = by_columns(
                    x, lambda xc, cols, codes=codes: self._offset_and_gain(xc, codes, cols))
            for cols in columns:
                out[part, cols] = (x[:, cols].astype(np.float64) - offset[cols]) / gain[cols]
        return out.astype(X.dtype, copy=False)

    # -- RecordingTransformer hooks --------------------------------------------------------
    def _fit_segments(self, X: np.ndarray, segments: Segments, y) -> None:
        self.n_recordings_ = len(segments)
        short = segments.lengths < self.min_epochs
        if self.reference == "stage":
            self.scaled_ = True
            self._training_normalised = self._fit_stage_reference(X, segments, y)
            self._warn_short(segments, "They keep the training reference (features pass "
                                       "through unchanged) instead of being normalised by "
                                       "statistics that short stretches cannot support.")
            return
        self.scaled_ = not short.any()
        if not self.scaled_:
            warnings.warn(
                f"RecordingScaler: {int(short.sum())} of {len(segments)} training recording(s) "
                f"have fewer than min_epochs={self.min_epochs} epochs (shortest: "
                f"{int(segments.lengths.min())}); statistics of such short stretches follow "
                "their stage mix, so scaling is off and features pass through unchanged.",
                UserWarning,
                stacklevel=user_stacklevel(),
            )

    def _fit_transform_segments(self, X: np.ndarray, segments: Segments, y) -> np.ndarray:
        if self.reference == "stage":
            out = self._training_normalised.astype(X.dtype, copy=False)
            del self._training_normalised
            return out
        return self._transform_segments(X, segments)

    def fit(self, X, y=None, groups=None):
        """Learn the reference (``reference="stage"``) or check the data.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_features)
            Feature matrix, epochs of each recording contiguous and in time order.
        y : array-like of shape (n_epochs,)
            Stage labels; required with ``reference="stage"``.
        groups : array-like of shape (n_epochs,), optional
            Recording id of each epoch; None means one recording.

        Returns
        -------
        self
        """
        super().fit(X, y, groups=groups)
        self.__dict__.pop("_training_normalised", None)
        return self

    def _transform_segments(self, X: np.ndarray, segments: Segments) -> np.ndarray:
        if self.reference == "stage":
            self._warn_short(segments, "They keep the training reference (features pass "
                                       "through unchanged) instead of being normalised by "
                                       "statistics that short stretches cannot support.")
            return self._normalise_by_stage(X, segments)
        return self._scale_by_recording(X, segments) if self.scaled_ else X

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.reference == "stage":
            tags.target_tags.required = True
        return tags


def _mad(values: np.ndarray) -> np.ndarray:
    """Median absolute deviation from the median, per column."""
    return np.median(np.abs(values - np.median(values, axis=0)), axis=0)
