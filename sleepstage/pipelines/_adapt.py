"""Adapting a fitted stager to a new recording from a few epochs a person has scored."""

from __future__ import annotations

import copy
import logging
import numbers
import warnings
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import logsumexp, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_is_fitted

from .._internal.groups import recording_segments
from .._internal.routing import predict_with_groups
from .._internal.rows import rowwise
from .._internal.warnings import user_stacklevel
from ..models import HMMSmoother

__all__ = ["MIN_STAGE_LABELS", "AdaptedStager", "adapt"]

logger = logging.getLogger(__name__)

#: A stage needs this many labelled epochs before its score is corrected.
MIN_STAGE_LABELS: int = 5
#: Probabilities are floored at this value before their logarithm is taken.
_FLOOR = 1e-6
#: Two recomputed probabilities closer than this are the same epoch's (see ``clamp``).
_SAME_PROBA = 1e-4


class AdaptedStager(ClassifierMixin, MetaEstimatorMixin, BaseEstimator):
    """A fitted stager corrected with a few scored epochs of the recordings it scores.

    Built by :func:`adapt`, which puts it as the last step of an adapted pipeline. Three
    corrections, each on by default:

    - ``recording_model``: a classifier of the new recordings themselves. A small LightGBM
      (60 trees of 15 leaves) is fitted on the epochs of the labelled recordings that the
      original model scored with a confidence above ``confident`` (with their predicted
      stage) and on the labelled epochs (with their given stage, weighted ``label_weight``
      times), with balanced class weights. Its log-probabilities are averaged with the
      original classifier's, with weight ``recording_weight``, before the HMM decodes them.
      It learns where this animal's stages lie, which is what the least confident epochs
      are most informative about. It is applied to the recordings it was fitted on only
      (recognised as for ``clamp``); another recording gets the other corrections. Not
      fitted (with a warning) when a stage has fewer than ``min_labels`` epochs to learn
      from, and not used when it fails a check: fitted on one half of the labelled epochs
      (every other one in time), it must predict the other half (and vice versa) with a
      lower class-balanced log-loss and a higher balanced accuracy than the classifier
      without it (``recording_model_check_`` holds both).
    - ``bias``: a correction of the classifier's scores. One additive term per stage on the
      log-probabilities of the classifier (before the HMM), fitted by penalised maximum
      likelihood on the labelled epochs, each stage weighted equally (as the default
      classifier is trained with balanced class weights, the stage mix of the labels is
      not learnt). A stage with fewer than ``min_labels`` labelled epochs keeps a zero term
      (a warning says so); with fewer than two such stages no bias is fitted. Applied to
      every recording the adapted model scores.
    - ``clamp``: the labelled epochs are held at their given stage when the same recording
      is scored again: they enter the HMM as certain evidence (which also informs their
      neighbours), and the decoded stage and probabilities of each is the given one.

    A recording is recognised by its id (``groups``; without groups, the single recording),
    its number of epochs and the original classifier's probabilities at the labelled
    epochs, so another recording with the same name is never clamped.

    Parameters
    ----------
    estimator : classifier
        The *fitted* last step of a staging pipeline (an :class:`~sleepstage.models.
        HMMSmoother` or any classifier with ``predict_proba``); it is used as it is, never
        refitted (like scikit-learn's ``cv="prefit"``).
    recording_model : bool, default=True
        Fit the classifier of the labelled recordings (see above).
    bias : bool, default=True
        Fit the per-stage correction of the classifier's scores.
    clamp : bool, default=True
        Hold the labelled epochs at their given stage in the recordings they came from.
    min_labels : int, default=5
        Labelled epochs a stage needs before its score is corrected (``bias``), and epochs
        of each stage the recording model needs.
    penalty : float, default=1.0
        Weight of the squared size of the bias terms added to the negative log-likelihood
        (in units of one labelled epoch): a few labels move the scores little.
    confident : float in (0, 1), default=0.9
        Confidence above which an epoch's predicted stage is used to fit the recording
        model (weighted by that confidence).
    label_weight : float, default=10.0
        Weight of a labelled epoch relative to a confidently predicted one in the recording
        model.
    recording_weight : float in [0, 1], default=0.5
        Weight of the recording model's log-probabilities against the original
        classifier's (1: the recording model alone).

    Attributes
    ----------
    classes_ : ndarray
        Stage labels, those of ``estimator``.
    bias_ : ndarray of shape (n_classes,)
        The additive correction of the log-probabilities (zeros when not fitted).
    recording_model_ : classifier or None
        The classifier of the labelled recordings (classes coded 0..n_classes-1), None when
        not fitted or not used.
    recording_model_check_ : dict
        Held-out log-loss and balanced accuracy of the labelled epochs without and with
        the recording model.
    clamp_recordings_, clamp_epochs_, clamp_codes_ : ndarray
        Recording id (as str), epoch within that recording and class index of every
        labelled epoch.
    clamp_lengths_ : dict
        Number of epochs of each labelled recording.
    clamp_proba_ : ndarray of shape (n_labels, n_classes)
        The classifier's probabilities at the labelled epochs (to recognise the recording).
    adaptation_ : dict
        What was adapted: methods, labels per stage, the bias terms, stages left out, the
        recordings.
    n_features_in_ : int
        Number of features of ``estimator`` (when it has it).
    """

    __metadata_request__fit: ClassVar[dict[str, bool]] = {"groups": True}
    __metadata_request__predict: ClassVar[dict[str, bool]] = {"groups": True}
    __metadata_request__predict_proba: ClassVar[dict[str, bool]] = {"groups": True}
    __metadata_request__score: ClassVar[dict[str, bool]] = {"groups": True}

    def __init__(self, estimator, *, recording_model=True, bias=True, clamp=True,
                 min_labels=MIN_STAGE_LABELS, penalty=1.0, confident=0.9, label_weight=10.0,
                 recording_weight=0.5):
        self.estimator = estimator
        self.recording_model = recording_model
        self.bias = bias
        self.clamp = clamp
        self.min_labels = min_labels
        self.penalty = penalty
        self.confident = confident
        self.label_weight = label_weight
        self.recording_weight = recording_weight

    # -- the wrapped classifier ---------------------------------------------------------------
    def _scorer(self):
        """The classifier whose probabilities are corrected (the HMM's inner one)."""
        if isinstance(self.estimator, HMMSmoother):
            return self.estimator.estimator_
        return self.estimator

    def _raw_proba(self, X, groups) -> np.ndarray:
        scorer = self._scorer()
        if scorer is self.estimator:
            proba = predict_with_groups(scorer, X, groups, method="predict_proba")
        else:  # the HMM's classifier: each row's probabilities depend on that row alone
            proba = rowwise(scorer.predict_proba, X)
        return np.asarray(proba, dtype=np.float64)

    def _check_params(self) -> None:
        for name in ("recording_model", "bias", "clamp"):
            if not isinstance(getattr(self, name), bool | np.bool_):
                raise ValueError(f"The {name!r} parameter must be True or False, but got "
                                 f"{getattr(self, name)!r}.")
        if (not isinstance(self.min_labels, numbers.Integral) or isinstance(self.min_labels, bool)
                or self.min_labels < 1):
            raise ValueError("The 'min_labels' parameter must be an integer >= 1, but got "
                             f"{self.min_labels!r}.")
        checks = {"penalty": lambda v: v >= 0, "label_weight": lambda v: v > 0,
                  "confident": lambda v: 0 < v < 1, "recording_weight": lambda v: 0 <= v <= 1}
        ranges = {"penalty": ">= 0", "label_weight": "> 0", "confident": "in (0, 1)",
                  "recording_weight": "in [0, 1]"}
        for name, ok in checks.items():
            value = getattr(self, name)
            if (isinstance(value, bool) or not isinstance(value, numbers.Real)
                    or not ok(value)):
                raise ValueError(f"The {name!r} parameter must be a number {ranges[name]}, "
                                 f"but got {value!r}.")

    # -- fitting ------------------------------------------------------------------------------
    def fit(self, X, y, groups=None):
        """Learn the corrections from the labelled epochs of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_features)
            Input of ``estimator`` for whole recordings (recordings contiguous, in time
            order).
        y : array-like of shape (n_epochs,)
            Given stage of each epoch, None (or NaN) for the epochs nobody scored.
        groups : array-like of shape (n_epochs,), optional
            Recording id of each epoch; None means one recording.

        Returns
        -------
        self
        """
        self._check_params()
        try:
            check_is_fitted(self.estimator)
        except NotFittedError:
            raise NotFittedError(
                f"AdaptedStager corrects a fitted stager, but its estimator "
                f"({type(self.estimator).__name__}) is not fitted. clone() drops that fit, so "
                "an adapted pipeline cannot be refitted by cross_val_score or GridSearchCV: "
                "fit the original pipeline in each fold and call sleepstage.pipelines.adapt "
                "on it."
            ) from None
        self.classes_ = np.asarray(self.estimator.classes_)
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.estimator, name):
                setattr(self, name, getattr(self.estimator, name))
        y = pd.Series(np.asarray(y, dtype=object))
        labelled = y.notna().to_numpy()
        rows = np.flatnonzero(labelled)
        if rows.size == 0:
            raise ValueError("No labelled epoch: adaptation needs at least one epoch with a "
                             "given stage.")
        codes = pd.Index(self.classes_).get_indexer(y[labelled])
        if (codes < 0).any():
            unknown = sorted({str(v) for v in y[labelled][codes < 0]})
            raise ValueError(f"Unknown stage(s) {unknown}: the model's stages are "
                             f"{[str(c) for c in self.classes_]}.")
        segments = recording_segments(groups, len(y))
        raw = self._raw_proba(X, groups)
        proba = raw[rows]
        n_classes = len(self.classes_)
        counts = np.bincount(codes, minlength=n_classes)
        names = [str(c) for c in self.classes_]
        shown = ", ".join(f"{n} {c}" for n, c in zip(names, counts, strict=True))
        active = counts >= self.min_labels
        left_out = [n for n, a in zip(names, active, strict=True) if not a]
        self.bias_ = np.zeros(n_classes)
        if self.bias and active.sum() >= 2:
            if left_out:
                warnings.warn(
                    f"Stage(s) {left_out} have fewer than {self.min_labels} labelled epochs "
                    f"({shown}): their scores are not corrected.", UserWarning, stacklevel=3)
            self.bias_ = _fit_bias(np.log(np.maximum(proba, _FLOOR)), codes, active,
                                   float(self.penalty))
        elif self.bias:
            warnings.warn(
                f"Fewer than 2 stages have {self.min_labels} or more labelled epochs "
                f"({shown}): the classifier's scores are not corrected by a bias.",
                UserWarning, stacklevel=3)
            left_out = names
        self.recording_model_ = None
        self.recording_model_check_ = {}
        if self.recording_model:
            self.recording_model_ = self._fit_recording_model(X, raw, rows, codes, groups)
        starts, _ = segments.epoch_bounds()
        ids = np.repeat(segments.ids.astype(str), segments.lengths)
        self.clamp_recordings_ = ids[rows]
        self.clamp_epochs_ = (rows - starts[rows]).astype(np.int64)
        self.clamp_codes_ = codes.astype(np.int64)
        self.clamp_lengths_ = {str(i): int(n) for i, n in
                               zip(segments.ids.tolist(), segments.lengths.tolist(),
                                   strict=True)}
        self.clamp_proba_ = proba
        methods = ((["recording model"] if self.recording_model_ is not None else [])
                   + (["score bias"] if self.bias_.any() else [])
                   + (["labelled epochs held"] if self.clamp else []))
        self.adaptation_ = {
            "method": methods,
            "n_labels": int(rows.size),
            "labels_per_stage": dict(zip(names, counts.tolist(), strict=True)),
            "bias": dict(zip(names, np.round(self.bias_, 4).tolist(), strict=True)),
            "stages_not_corrected": left_out,
            "recordings": sorted(set(self.clamp_recordings_.tolist())),
            "recording_model_check": self.recording_model_check_,
        }
        logger.info("adapted with %d labelled epochs (%s): %s", rows.size, shown,
                    ", ".join(methods) or "nothing")
        return self

    def _fit_recording_model(self, X, raw, rows, codes, groups):
        """The classifier of the labelled recordings, or None (with a warning) if a stage
        has too few epochs to learn from."""
        from lightgbm import LGBMClassifier

        n_classes = len(self.classes_)
        if isinstance(self.estimator, HMMSmoother):
            labels, posterior = self.estimator.decode_and_proba(raw, groups)
            pred = pd.Index(self.classes_).get_indexer(labels)
        else:
            posterior, pred = raw, raw.argmax(axis=1)
        confidence = posterior[np.arange(len(pred)), pred]
        sure = confidence > self.confident
        sure[rows] = False
        train = np.r_[np.flatnonzero(sure), rows]
        target = np.r_[pred[sure], codes]
        counts = np.bincount(target, minlength=n_classes)
        if counts.min() < self.min_labels:
            shown = ", ".join(f"{c} {n}" for c, n in zip(self.classes_, counts, strict=True))
            warnings.warn(
                f"The recording model is not fitted: a stage has fewer than "
                f"{self.min_labels} epochs to learn from (labelled or predicted with "
                f"confidence > {self.confident}: {shown}).", UserWarning,
                stacklevel=user_stacklevel())
            return None
        weight = (target.size / (n_classes * counts))[target]
        weight[:-rows.size] *= confidence[sure]  # a predicted stage counts as much as it is sure
        weight[-rows.size:] *= self.label_weight
        def fitted(subset):
            model = LGBMClassifier(n_estimators=60, num_leaves=15, learning_rate=0.1,
                                   random_state=0, n_jobs=1, verbose=-1)
            return model.fit(_safe_indexing(X, train[subset]), target[subset],
                             sample_weight=weight[subset])

        # guard: cross-fitted on the labelled epochs (two interleaved halves), the recording
        # model must predict the held-out labels better than the corrected classifier alone
        is_label = np.r_[np.zeros(sure.sum(), dtype=bool), np.ones(rows.size, dtype=bool)]
        fold = np.full(train.size, -1)
        fold[is_label] = np.argsort(np.argsort(rows)) % 2
        base = np.log(np.maximum(raw[rows], _FLOOR)) + self.bias_
        mixed = base.copy()
        for k in (0, 1):
            held = fold[is_label] == k
            if held.any():
                own = _full_proba(fitted(fold != k), _safe_indexing(X, rows[held]), n_classes)
                w = float(self.recording_weight)
                mixed[held] = (1 - w) * base[held] + w * np.log(np.maximum(own, _FLOOR))
        loss_base, loss_mixed = _balanced_nll(base, codes), _balanced_nll(mixed, codes)
        right_base = _balanced_hits(base, codes)
        right_mixed = _balanced_hits(mixed, codes)
        self.recording_model_check_ = {
            "held_out_loss_without": round(loss_base, 4),
            "held_out_loss_with": round(loss_mixed, 4),
            "held_out_balanced_accuracy_without": round(right_base, 4),
            "held_out_balanced_accuracy_with": round(right_mixed, 4)}
        if not (loss_mixed < loss_base and right_mixed > right_base):
            logger.info("recording model not used: held-out loss %.4f (%.4f without it), "
                        "balanced accuracy %.4f (%.4f)", loss_mixed, loss_base, right_mixed,
                        right_base)
            return None
        return fitted(slice(None))

    # -- prediction ---------------------------------------------------------------------------
    def _corrected(self, X, groups) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Corrected classifier probabilities, and the clamped rows and their classes."""
        check_is_fitted(self, "bias_")
        raw = self._raw_proba(X, groups)
        logp = np.log(np.maximum(raw, _FLOOR)) + self.bias_
        known = self._recognised(raw, groups)
        if self.recording_model_ is not None and known:
            part = np.concatenate([np.arange(start, start + length)
                                   for _, start, length in known])
            own = np.log(np.maximum(_full_proba(self.recording_model_, _safe_indexing(X, part),
                                                len(self.classes_)), _FLOOR))
            w = float(self.recording_weight)
            logp[part] = (1 - w) * logp[part] + w * own
        proba = softmax(logp, axis=1)
        rows, codes = [np.empty(0, dtype=np.int64)], [np.empty(0, dtype=np.int64)]
        if self.clamp:
            for rid, start, _ in known:
                mine = self.clamp_recordings_ == rid
                rows.append(start + self.clamp_epochs_[mine])
                codes.append(self.clamp_codes_[mine])
        rows, codes = np.concatenate(rows), np.concatenate(codes)
        proba[rows] = np.eye(len(self.classes_))[codes]
        return proba, rows, codes

    def _recognised(self, raw: np.ndarray, groups) -> list[tuple[str, int, int]]:
        """(id, start, length) of the recordings of the input that were labelled in fit."""
        segments = recording_segments(groups, raw.shape[0])
        known = []
        for rid, start, length in zip(segments.ids.astype(str).tolist(),
                                      segments.starts.tolist(), segments.lengths.tolist(),
                                      strict=True):
            if self.clamp_lengths_.get(rid) != length:
                continue
            mine = self.clamp_recordings_ == rid
            if not mine.any():
                continue
            here = start + self.clamp_epochs_[mine]
            if not np.allclose(raw[here], self.clamp_proba_[mine], rtol=0, atol=_SAME_PROBA):
                logger.info("recording %r has the id and length of a labelled recording but "
                            "other data: it is scored without its labels", rid)
                continue
            known.append((rid, int(start), int(length)))
        return known

    def predict(self, X, groups=None) -> np.ndarray:
        """Stage of every epoch, from the corrected scores (labelled epochs: their label).

        Parameters
        ----------
        X : array-like
        groups : array-like of shape (n_epochs,), optional
            Recording id of each epoch; None means one recording.

        Returns
        -------
        numpy.ndarray of shape (n_epochs,)
        """
        proba, rows, codes = self._corrected(X, groups)
        if isinstance(self.estimator, HMMSmoother):
            pred = self.estimator.decode(proba, groups)
        else:
            pred = self.classes_[proba.argmax(axis=1)]
        pred = np.asarray(pred, dtype=self.classes_.dtype)
        pred[rows] = self.classes_[codes]
        return pred

    def predict_proba(self, X, groups=None) -> np.ndarray:
        """Stage probabilities of every epoch from the corrected scores.

        Parameters
        ----------
        X : array-like
        groups : array-like of shape (n_epochs,), optional

        Returns
        -------
        numpy.ndarray of shape (n_epochs, n_classes)
            Columns follow ``classes_``; a labelled epoch has probability 1 for its label.
        """
        proba, rows, codes = self._corrected(X, groups)
        if isinstance(self.estimator, HMMSmoother):
            proba = self.estimator.decode(proba, groups, posteriors=True)
            proba[rows] = np.eye(len(self.classes_))[codes]
        return proba

    def predict_and_proba(self, X, groups=None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict` and :meth:`predict_proba` with the scores corrected once.

        Parameters
        ----------
        X : array-like
        groups : array-like of shape (n_epochs,), optional

        Returns
        -------
        labels : numpy.ndarray of shape (n_epochs,)
        proba : numpy.ndarray of shape (n_epochs, n_classes)
        """
        proba, rows, codes = self._corrected(X, groups)
        if isinstance(self.estimator, HMMSmoother):
            pred, proba = self.estimator.decode_and_proba(proba, groups)
            proba[rows] = np.eye(len(self.classes_))[codes]
        else:
            pred = self.classes_[proba.argmax(axis=1)]
        pred = np.asarray(pred, dtype=self.classes_.dtype)
        pred[rows] = self.classes_[codes]
        return pred, proba

    def score(self, X, y, sample_weight=None, groups=None) -> float:
        """Accuracy of :meth:`predict`."""
        return float(accuracy_score(y, self.predict(X, groups=groups),
                                    sample_weight=sample_weight))


def _full_proba(model, X, n_classes: int) -> np.ndarray:
    """``model.predict_proba(X)`` with a column for every class code 0..n_classes-1.

    Scored a block of rows at a time (:func:`~sleepstage._internal.rows.rowwise`)."""
    proba = np.zeros((_num_rows(X), n_classes))
    proba[:, np.asarray(model.classes_, dtype=int)] = rowwise(model.predict_proba, X)
    return proba


def _balanced_nll(logp: np.ndarray, codes: np.ndarray) -> float:
    """Mean over stages of the mean negative log-likelihood of ``softmax(logp)``."""
    nll = logsumexp(logp, axis=1) - logp[np.arange(codes.size), codes]
    return float(np.mean([nll[codes == c].mean() for c in np.unique(codes)]))


def _balanced_hits(logp: np.ndarray, codes: np.ndarray) -> float:
    """Balanced accuracy of the argmax of ``logp`` against ``codes``."""
    hit = logp.argmax(axis=1) == codes
    return float(np.mean([hit[codes == c].mean() for c in np.unique(codes)]))


def _fit_bias(logp: np.ndarray, codes: np.ndarray, active: np.ndarray,
              penalty: float) -> np.ndarray:
    """Per-class terms ``b`` minimising the penalised, class-balanced NLL of
    ``softmax(logp + b)``."""
    n_classes = logp.shape[1]
    counts = np.bincount(codes, minlength=n_classes)
    index = np.arange(codes.size)
    # class-balanced weights (total = number of labels), as the default classifier is
    # trained with balanced class weights: the stage mix of the labels is not learnt
    present = counts > 0
    weight = np.zeros(n_classes)
    weight[present] = codes.size / (present.sum() * counts[present])
    w = weight[codes]

    def objective(free):
        b = np.zeros(n_classes)
        b[active] = free
        z = logp + b
        nll = float((w * (logsumexp(z, axis=1) - z[index, codes])).sum()
                    + penalty * (b**2).sum())
        grad = (w[:, None] * softmax(z, axis=1)).sum(axis=0) - weight * counts \
            + 2 * penalty * b
        return nll, grad[active]

    result = minimize(objective, np.zeros(int(active.sum())), jac=True, method="L-BFGS-B")
    bias = np.zeros(n_classes)
    bias[active] = result.x
    return bias - bias.mean()


def _check_labels(labels_by_index, n_epochs: int) -> pd.Series:
    """``labels_by_index`` as a Series of stages indexed by row position, validated."""
    if isinstance(labels_by_index, pd.Series):
        labels = labels_by_index
    elif isinstance(labels_by_index, Mapping):
        labels = pd.Series(dict(labels_by_index), dtype=object)
    else:
        raise TypeError("labels_by_index must be a mapping {row index: stage} or a pandas "
                        f"Series indexed by row, but got {type(labels_by_index).__name__}.")
    if labels.empty:
        raise ValueError("No labelled epoch: adaptation needs at least one epoch with a given "
                         "stage.")
    index = labels.index.to_numpy()
    if not all(isinstance(i, numbers.Integral) and not isinstance(i, bool) for i in index):
        bad = [i for i in index if not isinstance(i, numbers.Integral)][:5]
        raise ValueError(f"Label indices must be integer row positions, but got {bad}.")
    index = index.astype(np.int64)
    outside = index[(index < 0) | (index >= n_epochs)]
    if outside.size:
        raise ValueError(f"{outside.size} labelled epoch(s) do not exist: indices "
                         f"{sorted(outside.tolist())[:5]} are outside 0..{n_epochs - 1} "
                         f"({n_epochs} epochs).")
    duplicated = pd.Index(index)[pd.Index(index).duplicated()].unique()
    if len(duplicated):
        raise ValueError(f"Epoch(s) {sorted(duplicated.tolist())[:5]} are labelled more than "
                         "once.")
    missing = labels.isna().to_numpy()
    if missing.any():
        raise ValueError(f"Epoch(s) {sorted(index[missing].tolist())[:5]} have no stage.")
    return pd.Series(labels.to_numpy(dtype=object), index=index)


def adapt(pipeline, X, labels_by_index, groups=None, **params):
    """Adapt a fitted stager to new recordings with a few epochs scored by hand.

    A typical use: score a recording, review its least confident epochs
    (:func:`sleepstage.metrics.review_epochs`), give their true stages here, and score the
    recording again with the returned pipeline. Only the last step changes: it becomes an
    :class:`AdaptedStager`, which adds a small classifier of the labelled recordings
    themselves (fitted on their labelled and confidently scored epochs), corrects the
    classifier's score of each stage, and holds the labelled epochs at their given stage
    whenever the same recording is scored again (see :class:`AdaptedStager`). The
    features, the scaler and the original classifier are not refitted, so no training data
    is needed: a model file, the new recordings and their labels are enough. Adapting an
    already adapted pipeline starts again from the original classifier with the new labels.

    Parameters
    ----------
    pipeline : estimator
        A fitted pipeline from :func:`make_staging_pipeline` (or a fitted classifier). It is
        not modified.
    X : array-like
        Input of ``pipeline`` for the recordings the labels belong to, whole recordings
        (contiguous, in time order).
    labels_by_index : mapping or pandas.Series
        ``{row of X: stage}``; stages must be among ``pipeline.classes_``.
    groups : array-like of shape (n_epochs,), optional
        Recording id of each epoch of ``X``; None means one recording.
    **params
        Parameters of :class:`AdaptedStager` (``recording_model``, ``bias``, ``clamp``,
        ``min_labels``, ...), e.g. ``recording_model=False`` for the corrections that
        apply to any recording only.

    Returns
    -------
    sklearn.pipeline.Pipeline or AdaptedStager
        A new fitted pipeline (a deep copy) whose last step is an :class:`AdaptedStager`;
        ``adapted[-1].adaptation_`` records what was adapted. It pickles and is saved by
        :func:`sleepstage.io.save_model` like the original.

    Raises
    ------
    ValueError
        If a label names an unknown stage, an epoch that does not exist (index outside
        ``X``), or an epoch labelled twice, or if no epoch is labelled.

    Warns
    -----
    UserWarning
        If a stage has fewer than ``min_labels`` labelled epochs (its score is not
        corrected).

    Examples
    --------
    >>> from sleepstage.data import make_synthetic  # doctest: +SKIP
    >>> adapted = adapt(model, X_new, {120: "REM", 121: "REM", 640: "WAKE"})  # doctest: +SKIP
    """
    check_is_fitted(pipeline)
    n_epochs = _num_rows(X)
    labels = _check_labels(labels_by_index, n_epochs)
    if groups is not None and len(groups) != n_epochs:
        raise ValueError(f"groups has {len(groups)} entries but X has {n_epochs} epochs.")
    adapted = copy.deepcopy(pipeline)
    if isinstance(adapted, Pipeline) and len(adapted.steps) > 1:
        Xt = predict_with_groups(adapted[:-1], X, groups, method="transform")
        name, final = adapted.steps[-1]
    else:
        Xt, name, final = X, None, adapted
    if isinstance(final, AdaptedStager):  # start again from the original classifier
        final = final.estimator
    classes = [str(c) for c in np.asarray(final.classes_)]
    unknown = sorted({str(v) for v in labels.to_numpy()} - set(classes))
    if unknown:
        raise ValueError(f"Unknown stage(s) {unknown} in the labels: the model's stages are "
                         f"{classes}.")
    given = np.full(n_epochs, None, dtype=object)
    lookup = {str(c): c for c in np.asarray(final.classes_).tolist()}
    given[labels.index.to_numpy()] = [lookup[str(v)] for v in labels.to_numpy()]
    step = AdaptedStager(final, **params).fit(Xt, given, groups)
    if name is None:
        return step
    adapted.steps[-1] = (name, step)
    return adapted


def _num_rows(X: Any) -> int:
    shape = getattr(X, "shape", None)
    return int(shape[0]) if shape is not None else len(X)
