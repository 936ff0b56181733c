"""Hidden-Markov-model smoothing of per-epoch stage probabilities.

The decoders run over all recordings at once: the first epoch of each recording "resets" the
chain (its step matrix ignores the previous state), so a boundary is just another step. The
recursions over epochs are evaluated in ``sqrt(n)`` blocks vectorised across blocks, which
keeps the Python loop to about ``3 * sqrt(n)`` small numpy steps (21 600 epochs: ~450).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import numbers
import warnings
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from scipy.special import logsumexp, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.metrics import accuracy_score
from sklearn.utils import _safe_indexing, get_tags
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _num_samples,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
)

from .._internal.groups import Segments, recording_segments
from .._internal.rows import SCORE_ROWS, num_samples_or_none, rowwise
from .._internal.validation import check_option, check_positive
from .._internal.warnings import user_stacklevel

__all__ = ["TRANSITION_WEIGHTS", "HMMSmoother"]

#: Rows of the classifier's input scored at a time (bounds its copies of a long recording).
_PROBA_ROWS = SCORE_ROWS

#: Candidate transition weights of ``HMMSmoother(transition_weight="auto")``, from the plain
#: HMM (1) down to almost no smoothing.
TRANSITION_WEIGHTS: tuple[float, ...] = (1.0, 0.7, 0.5, 0.35, 0.25, 0.18, 0.12, 0.08, 0.05,
                                         0.03, 0.02)

logger = logging.getLogger(__name__)


class HMMSmoother(ClassifierMixin, MetaEstimatorMixin, BaseEstimator):
    """Smooth a per-epoch classifier with a hidden Markov model over stages.

    A per-epoch classifier ignores that sleep stages last minutes, which fragments the
    hypnogram. This meta-estimator fits the classifier, learns how stages follow each other
    in the training recordings, and decodes the most probable stage *sequence* of each
    recording (hybrid HMM: the classifier's posteriors divided by the class priors serve as
    scaled emission likelihoods).

    Parameters
    ----------
    estimator : classifier
        Any classifier with ``predict_proba`` (LightGBM, logistic regression, a pipeline,
        the neural baselines). It is cloned in :meth:`fit`.
    pseudocount : float, default=1.0
        Added to the count of every transition seen at least once in the training labels and
        to every self-transition (a stage can always persist).
    unseen_pseudocount : float, default=0.0
        Added to the transitions never seen in training. With the default 0 they get
        probability exactly zero and never appear in a decoded sequence (e.g. WAKE -> REM in
        mice); a small positive value (e.g. 1e-3) allows them when the evidence is
        overwhelming, at the risk of short spurious excursions.
    priors : {"train", "uniform"} or array-like of shape (n_classes,), default="train"
        Class priors the classifier's posteriors are divided by. "train" uses the stage
        frequencies of the training labels, which suits a classifier trained on the natural
        stage mix. A classifier trained with balanced class weights
        (``class_weight="balanced"``) already behaves as if the priors were uniform: use
        "uniform" for it, otherwise rare stages are favoured twice.
    startprob : {"frequency", "first", "uniform"}, default="frequency"
        Distribution of the first epoch of a recording: the training stage frequencies
        (suits excerpts that may start anywhere, e.g. contiguous blocks), the stage of the
        first epoch of each training recording (plus ``pseudocount``), or uniform.
    proba_floor : float, default=1e-6
        The classifier's probabilities are clipped below at this value before decoding, so
        that one overconfident epoch cannot veto a stage outright.
    transition_weight : float in (0, 1] or "auto", default=1.0
        Exponent of the transition probabilities in decoding (the "language-model scale" of
        hybrid speech recognisers): ``log P(path) = sum log lik + weight * sum log trans``.
        1 is the plain HMM. A classifier that already sees neighbouring epochs (temporal
        context features) gives evidence that is correlated from epoch to epoch, so the plain
        HMM counts the stage persistence twice and erases brief arousals and short bouts;
        a smaller weight keeps them. "auto" learns the weight from cross-fitted posteriors
        of the training data (see ``cv``): the weight whose decoded held-out hypnograms
        have the number of transitions closest to the true one, from the grid
        :data:`TRANSITION_WEIGHTS`. Forbidden transitions (probability 0) stay forbidden at
        every weight.
    calibration : {"temperature", None}, default=None
        "temperature" rescales the forward-backward posteriors returned by
        :meth:`predict_proba` as ``softmax(log p / T)``, with ``T`` fitted by maximum
        likelihood on cross-fitted posteriors of the training data (Guo et al. 2017), so that
        a confidence of 0.9 is right about 9 times in 10 on new recordings. The decoded
        stages (:meth:`predict`) do not change. None returns the posteriors as they are.
    cv : int, default=2
        Number of cross-fitting folds used when ``transition_weight="auto"`` or
        ``calibration="temperature"``: with at least ``cv`` training recordings, whole
        recordings are held out (in time order, each in the fold where its middle epoch
        falls, so that folds hold similar numbers of epochs); otherwise, or when a few
        recordings hold nearly every epoch, every recording is cut into ``cv`` contiguous
        blocks of time and block ``k`` of each recording is held out in fold ``k``. The
        classifier is fitted ``cv`` extra times.

    Attributes
    ----------
    estimator_ : classifier
        The fitted clone of ``estimator``.
    classes_ : ndarray of shape (n_classes,)
        Class labels, taken from ``estimator_.classes_``.
    transition_counts_ : ndarray of shape (n_classes, n_classes)
        Consecutive stage pairs in the training labels (row: from, column: to), counted
        within recordings only.
    transmat_ : ndarray of shape (n_classes, n_classes)
        Transition probabilities (rows sum to 1).
    startprob_ : ndarray of shape (n_classes,)
        Distribution of the first epoch of a recording.
    class_prior_ : ndarray of shape (n_classes,)
        Priors the classifier's posteriors are divided by.
    transition_weight_ : float
        Exponent of the transition probabilities used in decoding.
    temperature_ : float
        Temperature applied to the posteriors of :meth:`predict_proba` (1.0: none).
    cross_fit_scores_ : dict
        With a learned weight or temperature: the true and decoded transitions of the
        cross-fitted training hypnograms for each candidate weight, and the negative
        log-likelihood of the posteriors before and after temperature scaling.
    n_features_in_ : int
        Number of features seen by ``estimator_`` (when it exposes it).

    Notes
    -----
    ``groups`` (one recording id per epoch, contiguous and in time order) tells
    :meth:`fit` which consecutive labels are real transitions and tells :meth:`predict`
    and :meth:`predict_proba` where each recording starts; without ``groups`` the input is
    one continuous recording. ``fit``, ``predict``, ``predict_proba`` and ``score`` request
    ``groups`` through scikit-learn's metadata routing by default. When routing is enabled,
    ``groups`` (and other fit parameters) also reach ``estimator.fit`` if the estimator
    requests them (e.g. a neural network's grouped validation split); when routing is
    disabled, extra fit parameters are passed to ``estimator.fit`` unchanged and ``groups``
    is used by the HMM only.

    :meth:`predict` returns the Viterbi path (the most probable sequence); :meth:`predict_proba`
    returns the forward-backward posteriors of each epoch. Their argmax can differ from the
    Viterbi path, and it can contain zero-probability transitions, whereas the Viterbi path
    never does. :meth:`score` is the accuracy of :meth:`predict` (scikit-learn's classifier
    default), computed with ``groups``.

    Both decoders run in O(n_epochs x n_classes^3) vectorised numpy operations, in log space
    (21 600 epochs and 3 stages: about 40 ms for the Viterbi path and 100 ms for the
    posteriors, exact even when a stage is never left).

    References
    ----------
    Rabiner, L. R. (1989). A tutorial on hidden Markov models and selected applications in
    speech recognition. Proc. IEEE 77(2), 257-286.

    Bourlard, H. & Morgan, N. (1994). Connectionist speech recognition: a hybrid approach.
    Kluwer (posteriors divided by priors as scaled likelihoods).

    Guo, C., Pleiss, G., Sun, Y. & Weinberger, K. Q. (2017). On calibration of modern neural
    networks. ICML (temperature scaling).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([1, 2, 3, 2, 1], 40)
    >>> X = y[:, None] + rng.normal(scale=0.8, size=(200, 1))
    >>> hmm = HMMSmoother(LogisticRegression()).fit(X, y)
    >>> hmm.transition_counts_.tolist()
    [[78, 1, 0], [1, 78, 1], [0, 1, 39]]
    >>> float(hmm.transmat_[0, 2])  # 1 -> 3 never seen: forbidden
    0.0
    >>> bool((hmm.predict(X) == y).mean() > 0.95)
    True
    """

    __metadata_request__fit: ClassVar[dict[str, bool]] = {"groups": True}
    __metadata_request__predict: ClassVar[dict[str, bool]] = {"groups": True}
    __metadata_request__predict_proba: ClassVar[dict[str, bool]] = {"groups": True}
    __metadata_request__score: ClassVar[dict[str, bool]] = {"groups": True}

    def __init__(self, estimator, *, pseudocount=1.0, unseen_pseudocount=0.0, priors="train",
                 startprob="frequency", proba_floor=1e-6, transition_weight=1.0,
                 calibration=None, cv=2):
        self.estimator = estimator
        self.pseudocount = pseudocount
        self.unseen_pseudocount = unseen_pseudocount
        self.priors = priors
        self.startprob = startprob
        self.proba_floor = proba_floor
        self.transition_weight = transition_weight
        self.calibration = calibration
        self.cv = cv

    # -- fitting ------------------------------------------------------------------------------
    def fit(self, X, y, groups=None, **fit_params):
        """Fit the classifier and learn the stage transitions of the training recordings.

        Parameters
        ----------
        X : array-like
            Training input of ``estimator`` (features, or raw epochs for neural models),
            epochs of each recording contiguous and in time order.
        y : array-like of shape (n_epochs,)
            Stage labels.
        groups : array-like of shape (n_epochs,), optional
            Recording id of each epoch; None means one recording.
        **fit_params
            Passed to ``estimator.fit`` (through metadata routing when it is enabled).

        Returns
        -------
        self
        """
        pseudo = check_positive("pseudocount", self.pseudocount, strict=False)
        unseen = check_positive("unseen_pseudocount", self.unseen_pseudocount, strict=False)
        check_option("startprob", self.startprob, ["frequency", "first", "uniform"])
        self._check_floor()
        y = column_or_1d(y, warn=True)
        n_samples = _num_samples(X)
        check_consistent_length(X, y)
        if n_samples == 0:
            raise ValueError("Found an empty array: HMMSmoother needs at least one epoch "
                             "(0 samples given).")
        check_classification_targets(y)
        if np.unique(y).size < 2:
            raise ValueError(
                "HMMSmoother needs at least 2 classes (stages) in y to learn transitions, but "
                f"got 1 class: {np.unique(y).tolist()}."
            )
        segments = recording_segments(groups, n_samples)

        if _routing_enabled():
            metadata = dict(fit_params)
            if groups is not None:
                metadata["groups"] = groups
            estimator_params = process_routing(self, "fit", **metadata)["estimator"]["fit"]
        else:
            estimator_params = fit_params
        self.estimator_ = clone(self.estimator).fit(X, y, **estimator_params)
        if not hasattr(self.estimator_, "predict_proba"):
            raise TypeError(
                f"HMMSmoother needs a classifier with predict_proba, but "
                f"{type(self.estimator_).__name__} has none."
            )
        self.classes_ = np.asarray(self.estimator_.classes_)
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.estimator_, name):
                setattr(self, name, getattr(self.estimator_, name))
        codes = pd.Index(self.classes_).get_indexer(y)
        if (codes < 0).any():
            unknown = sorted(set(np.asarray(y)[codes < 0].tolist()))
            raise ValueError(f"Labels {unknown} are not among the classifier's classes_ "
                             f"{self.classes_.tolist()}.")
        self._learn_chain(codes, segments, pseudo, unseen)
        weight, calibration, n_folds = self._check_decoding_params()
        self.transition_weight_ = 1.0 if weight == "auto" else weight
        self.temperature_ = 1.0
        if weight == "auto" or calibration == "temperature":
            self._learn_from_cross_fit(X, y, codes, segments, estimator_params, n_folds,
                                       learn_weight=weight == "auto",
                                       learn_temperature=calibration == "temperature")
        return self

    def _check_decoding_params(self) -> tuple[float | str, str | None, int]:
        weight = self.transition_weight
        if not (isinstance(weight, str) and weight == "auto"):
            if (isinstance(weight, bool) or not isinstance(weight, numbers.Real)
                    or not 0 < weight <= 1):
                raise ValueError(
                    "The 'transition_weight' parameter must be a number in (0, 1] or 'auto', "
                    f"but got {weight!r}."
                )
            weight = float(weight)
        check_option("calibration", self.calibration, ["temperature", None])
        cv = self.cv
        if isinstance(cv, bool) or not isinstance(cv, numbers.Integral) or cv < 2:
            raise ValueError(f"The 'cv' parameter must be an integer >= 2, but got {cv!r}.")
        return weight, self.calibration, int(cv)

    def _learn_from_cross_fit(self, X, y, codes: np.ndarray, segments: Segments,
                              estimator_params: dict, n_folds: int, *, learn_weight: bool,
                              learn_temperature: bool) -> None:
        """Learn the transition weight and the temperature from cross-fitted posteriors."""
        folds = _cross_fit_folds(segments, n_folds)
        n_samples, n_classes = codes.size, len(self.classes_)
        proba = np.zeros((n_samples, n_classes))
        for fold in range(n_folds):
            held_out = folds == fold
            train = np.flatnonzero(~held_out)
            test = np.flatnonzero(held_out)
            if test.size == 0 or np.unique(codes[train]).size < 2:
                warnings.warn(
                    f"HMMSmoother cannot cross-fit with cv={n_folds}: fold {fold} leaves "
                    f"{train.size} training epochs with {np.unique(codes[train]).size} "
                    "stage(s), so the transition weight stays 1 and the posteriors are not "
                    "calibrated. Give more or longer recordings, or set transition_weight "
                    "and calibration explicitly.",
                    UserWarning,
                    stacklevel=user_stacklevel(),
                )
                self.cross_fit_scores_ = {"failed_fold": fold}
                return
            params = {key: _safe_indexing(value, train)
                      if num_samples_or_none(value) == n_samples else value
                      for key, value in estimator_params.items()}
            estimator = clone(self.estimator).fit(_safe_indexing(X, train), y[train], **params)
            columns = pd.Index(self.classes_).get_indexer(estimator.classes_)
            proba[np.ix_(test, columns)] = estimator.predict_proba(_safe_indexing(X, test))
        # held-out stretches are decoded separately: a new segment wherever the fold changes
        first = segments.first_epochs() | np.append(True, folds[1:] != folds[:-1])
        lik = self._scaled_likelihood(proba)
        within = ~first[1:]
        true_transitions = int(np.count_nonzero((codes[1:] != codes[:-1]) & within))
        scores: dict[str, object] = {"true_transitions": true_transitions}
        if learn_weight:
            decoded = {}
            for weight in TRANSITION_WEIGHTS:
                with np.errstate(divide="ignore"):
                    path = _viterbi(np.log(self.startprob_),
                                    np.log(self._weighted_transmat(weight)), np.log(lik), first)
                decoded[weight] = int(np.count_nonzero((path[1:] != path[:-1]) & within))
            # closest count; on a tie the larger weight (the plainer HMM)
            self.transition_weight_ = min(
                TRANSITION_WEIGHTS, key=lambda w: (abs(decoded[w] - true_transitions), -w))
            scores["decoded_transitions"] = decoded
        if learn_temperature:
            log_post = np.log(np.maximum(
                _posteriors(self.startprob_, self._weighted_transmat(), lik, first),
                np.finfo(np.float64).tiny))
            rows = np.arange(n_samples)

            def nll(log_t: float) -> float:
                scaled = log_post / np.exp(log_t)
                scaled -= logsumexp(scaled, axis=1, keepdims=True)
                return float(-scaled[rows, codes].mean())

            best = minimize_scalar(nll, bounds=(np.log(0.05), np.log(50.0)), method="bounded")
            self.temperature_ = float(np.exp(best.x))
            scores["nll"] = nll(0.0)
            scores["nll_calibrated"] = float(best.fun)
        self.cross_fit_scores_ = scores
        decoded = scores.get("decoded_transitions", {}).get(self.transition_weight_)
        logger.info("HMM: transition weight %.3g (cross-fitted training hypnograms: %s "
                    "transitions decoded, %d true), temperature %.3g",
                    self.transition_weight_, "-" if decoded is None else decoded,
                    true_transitions, self.temperature_)

    def _weighted_transmat(self, weight: float | None = None) -> np.ndarray:
        """Transition probabilities raised to ``weight`` (default ``transition_weight_``;
        rows not renormalised; forbidden transitions stay 0)."""
        weight = self.transition_weight_ if weight is None else weight
        return self.transmat_ ** weight * (self.transmat_ > 0)

    def _learn_chain(self, codes: np.ndarray, segments: Segments, pseudo: float,
                     unseen: float) -> None:
        n_classes = len(self.classes_)
        within = ~segments.first_epochs()[1:]  # pair (t-1, t) inside one recording
        pairs = codes[:-1][within] * n_classes + codes[1:][within]
        counts = np.bincount(pairs, minlength=n_classes**2).reshape(n_classes, n_classes)
        self.transition_counts_ = counts
        allowed = (counts > 0) | np.eye(n_classes, dtype=bool)
        trans = counts + np.where(allowed, pseudo, unseen)
        stuck = trans.sum(axis=1) == 0  # only with pseudocount=0: a stage never left
        trans[stuck, stuck] = 1.0
        self.transmat_ = trans / trans.sum(axis=1, keepdims=True)

        freq = np.bincount(codes, minlength=n_classes).astype(np.float64)
        if isinstance(self.priors, str):
            check_option("priors", self.priors, ["train", "uniform"])
            prior = np.maximum(freq, 1.0) if self.priors == "train" else np.ones(n_classes)
        else:
            prior = np.asarray(self.priors, dtype=np.float64)
            if prior.shape != (n_classes,) or not np.all(np.isfinite(prior)) or np.any(
                    prior <= 0):
                raise ValueError(
                    f"The 'priors' parameter must be 'train', 'uniform' or {n_classes} "
                    f"positive numbers (one per class {self.classes_.tolist()}), but got "
                    f"{self.priors!r}."
                )
        self.class_prior_ = prior / prior.sum()

        if self.startprob == "frequency":
            start = freq
        elif self.startprob == "first":
            start = np.bincount(codes[segments.starts], minlength=n_classes) + pseudo
        else:
            start = np.ones(n_classes)
        self.startprob_ = start / start.sum()
        logger.debug("HMM transitions learned from %d recordings:\n%s", len(segments),
                     self.transmat_)

    def _check_floor(self) -> float:
        floor = check_positive("proba_floor", self.proba_floor)
        if floor >= 1:
            raise ValueError(f"The 'proba_floor' parameter must be < 1, but got {floor!r}.")
        return floor

    # -- decoding -----------------------------------------------------------------------------
    def _likelihood(self, X, groups) -> tuple[np.ndarray, np.ndarray]:
        """Scaled likelihoods (max 1 per epoch) and the first-epoch mask."""
        check_is_fitted(self, "transmat_")
        return self._given_likelihood(self._classifier_proba(X), groups,
                                      wording=("predict_proba of the classifier returned",) * 2)

    def _classifier_proba(self, X) -> np.ndarray:
        """``estimator_.predict_proba(X)`` as float64, computed ``_PROBA_ROWS`` rows at a time.

        The classifier's copies of its input (LightGBM converts it) then stay bounded by the
        block on a long recording; each row's probabilities do not depend on the others.
        """
        return np.asarray(rowwise(self.estimator_.predict_proba, X, _PROBA_ROWS),
                          dtype=np.float64)

    def _path(self, lik: np.ndarray, first: np.ndarray) -> np.ndarray:
        """Viterbi labels from scaled likelihoods."""
        with np.errstate(divide="ignore"):
            path = _viterbi(np.log(self.startprob_), np.log(self._weighted_transmat()),
                            np.log(lik), first)
        return self.classes_[path]

    def _tempered_posteriors(self, lik: np.ndarray, first: np.ndarray) -> np.ndarray:
        """Forward-backward posteriors from scaled likelihoods, tempered by ``temperature_``."""
        posterior = _posteriors(self.startprob_, self._weighted_transmat(), lik, first)
        if self.temperature_ == 1.0:
            return posterior
        scaled = np.log(np.maximum(posterior, np.finfo(np.float64).tiny)) / self.temperature_
        return softmax(scaled, axis=1)

    def _scaled_likelihood(self, proba: np.ndarray) -> np.ndarray:
        """Posteriors divided by the priors, floored and scaled to a maximum of 1 per epoch."""
        lik = np.maximum(proba, self._check_floor()) / self.class_prior_
        return lik / lik.max(axis=1, keepdims=True)

    def predict(self, X, groups=None) -> np.ndarray:
        """Most probable stage sequence of each recording (Viterbi).

        Parameters
        ----------
        X : array-like
            Input of ``estimator``, epochs of each recording contiguous and in time order.
        groups : array-like of shape (n_epochs,), optional
            Recording id of each epoch; None means one recording.

        Returns
        -------
        numpy.ndarray of shape (n_epochs,)
            Labels from ``classes_``.
        """
        lik, first = self._likelihood(X, groups)
        return self._path(lik, first)

    def predict_proba(self, X, groups=None) -> np.ndarray:
        """Posterior stage probabilities of each epoch given its whole recording.

        Parameters
        ----------
        X : array-like
        groups : array-like of shape (n_epochs,), optional
            Recording id of each epoch; None means one recording.

        Returns
        -------
        numpy.ndarray of shape (n_epochs, n_classes)
            Forward-backward posteriors (with ``transition_weight_``, then tempered by
            ``temperature_``); rows sum to 1, columns follow ``classes_``.
        """
        lik, first = self._likelihood(X, groups)
        return self._tempered_posteriors(lik, first)

    def predict_and_proba(self, X, groups=None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict` and :meth:`predict_proba` with the classifier run once.

        Parameters
        ----------
        X : array-like
        groups : array-like of shape (n_epochs,), optional
            Recording id of each epoch; None means one recording.

        Returns
        -------
        labels : numpy.ndarray of shape (n_epochs,)
            As :meth:`predict`.
        proba : numpy.ndarray of shape (n_epochs, n_classes)
            As :meth:`predict_proba`.
        """
        lik, first = self._likelihood(X, groups)
        return self._path(lik, first), self._tempered_posteriors(lik, first)

    def decode(self, proba, groups=None, *, posteriors: bool = False) -> np.ndarray:
        """Decode given classifier probabilities instead of computing them from ``X``.

        :meth:`predict` and :meth:`predict_proba` are ``decode`` applied to
        ``estimator_.predict_proba(X)``; this entry point lets a caller correct those
        probabilities first (e.g. :func:`sleepstage.pipelines.adapt`).

        Parameters
        ----------
        proba : array-like of shape (n_epochs, n_classes)
            Per-epoch probabilities of the classifier, columns following ``classes_``.
        groups : array-like of shape (n_epochs,), optional
            Recording id of each epoch; None means one recording.
        posteriors : bool, default=False
            False: the Viterbi path (labels, as :meth:`predict`); True: the tempered
            forward-backward posteriors (as :meth:`predict_proba`).

        Returns
        -------
        numpy.ndarray
            Labels of shape (n_epochs,), or posteriors of shape (n_epochs, n_classes).
        """
        lik, first = self._given_likelihood(proba, groups)
        return self._tempered_posteriors(lik, first) if posteriors else self._path(lik, first)

    def decode_and_proba(self, proba, groups=None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`decode` to labels and to posteriors, the inputs checked and scaled once.

        Parameters
        ----------
        proba : array-like of shape (n_epochs, n_classes)
            Per-epoch probabilities of the classifier, columns following ``classes_``.
        groups : array-like of shape (n_epochs,), optional
            Recording id of each epoch; None means one recording.

        Returns
        -------
        labels : numpy.ndarray of shape (n_epochs,)
            As ``decode(proba, groups)``.
        posteriors : numpy.ndarray of shape (n_epochs, n_classes)
            As ``decode(proba, groups, posteriors=True)``.
        """
        lik, first = self._given_likelihood(proba, groups)
        return self._path(lik, first), self._tempered_posteriors(lik, first)

    def _given_likelihood(self, proba, groups, *, wording: tuple[str, str] = (
            "proba has", "proba holds")) -> tuple[np.ndarray, np.ndarray]:
        """Scaled likelihoods and first-epoch mask of probabilities given to :meth:`decode`
        (or computed by :meth:`_likelihood`); ``wording`` starts the messages on a bad shape
        and on non-finite values."""
        check_is_fitted(self, "transmat_")
        proba = np.asarray(proba, dtype=np.float64)
        has, holds = wording
        if proba.ndim != 2 or proba.shape[1] != len(self.classes_):
            raise ValueError(f"{has} shape {proba.shape}, expected (n_epochs, "
                             f"{len(self.classes_)}).")
        if not np.all(np.isfinite(proba)):
            raise ValueError(f"{holds} NaN or infinite values.")
        lik = self._scaled_likelihood(proba)
        return lik, recording_segments(groups, proba.shape[0]).first_epochs()

    def score(self, X, y, sample_weight=None, groups=None) -> float:
        """Accuracy of :meth:`predict` (decoded with ``groups``).

        Parameters
        ----------
        X : array-like
        y : array-like of shape (n_epochs,)
        sample_weight : array-like of shape (n_epochs,), optional
        groups : array-like of shape (n_epochs,), optional

        Returns
        -------
        float
        """
        return float(accuracy_score(y, self.predict(X, groups=groups),
                                    sample_weight=sample_weight))

    # -- scikit-learn plumbing ----------------------------------------------------------------
    def get_metadata_routing(self):
        """Routing: ``groups`` for the HMM itself, fit metadata to ``estimator.fit``.

        Returns
        -------
        sklearn.utils.metadata_routing.MetadataRouter
        """
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(estimator=self.estimator,
                 method_mapping=MethodMapping().add(caller="fit", callee="fit"))
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            tags.input_tags = dataclasses.replace(get_tags(self.estimator).input_tags)
        except Exception:  # an estimator without scikit-learn tags: keep the defaults
            logger.debug("no tags for %r", self.estimator)
        return tags


# -- cross-fitting ----------------------------------------------------------------------------
def _cross_fit_folds(segments: Segments, n_folds: int) -> np.ndarray:
    """Fold of every epoch: whole recordings when there are enough, else blocks of time.

    Recordings go to folds in time order by where their middle epoch falls in the whole
    training set, so folds hold similar numbers of epochs even when the recordings differ in
    length (e.g. pieces cut at left-out artefact epochs).
    """
    folds = np.empty(segments.n_epochs, dtype=np.intp)
    n_epochs = max(segments.n_epochs, 1)
    for part in segments.slices():
        length = part.stop - part.start
        if len(segments) >= n_folds:
            folds[part] = min((part.start + length // 2) * n_folds // n_epochs, n_folds - 1)
        else:
            folds[part] = np.arange(length) * n_folds // length
    counts = np.bincount(folds, minlength=n_folds)
    if len(segments) >= n_folds and counts.min() < segments.n_epochs / (4 * n_folds):
        # a few recordings hold nearly every epoch: cut each into blocks of time instead
        for part in segments.slices():
            length = part.stop - part.start
            folds[part] = np.arange(length) * n_folds // length
    return folds


# -- decoders ---------------------------------------------------------------------------------
def _viterbi(log_start: np.ndarray, log_trans: np.ndarray, log_lik: np.ndarray,
             first: np.ndarray) -> np.ndarray:
    """Viterbi path (state indices) of every recording, recordings starting where ``first``."""
    n, n_states = log_lik.shape
    steps = log_trans[None, :, :] + log_lik[:, None, :]
    steps[first] = (log_start + log_lik[first])[:, None, :]  # reset: previous state ignored
    delta = _scan(steps, np.zeros(n_states), semiring="max")  # best score ending in each state
    # backpointers: best previous state for each state at t (t >= 1)
    back = np.empty((n, n_states), dtype=np.intp)
    back[:-1] = (delta[:-1, :, None] + log_trans[None]).argmax(axis=1)
    last = np.append(first[1:], True)  # last epoch of a recording: start from its best end
    back[last] = delta[last].argmax(axis=1)[:, None]
    # path[t] = back[t][path[t + 1]]; compose the maps by doubling (log2(n) gathers)
    offsets = np.arange(n)[:, None] * n_states
    shift = 1
    while shift < n:
        back[:-shift] = back.ravel()[back[shift:] + offsets[: n - shift]]
        shift *= 2
    return back[:, 0]


def _posteriors(start: np.ndarray, trans: np.ndarray, lik: np.ndarray,
                first: np.ndarray) -> np.ndarray:
    """Forward-backward posteriors, recordings starting where ``first``.

    The recursions run in log space. Scaling in the linear domain is not enough: on a chain
    with a stage that is never left, the forward and backward messages of a state can
    differ from those of the others by far more than the float64 range (hundreds of epochs
    at the probability floor), and their product, the posterior, is then lost.
    """
    n, n_states = lik.shape
    with np.errstate(divide="ignore"):
        log_start, log_trans, log_lik = np.log(start), np.log(trans), np.log(lik)
    steps = log_trans[None, :, :] + log_lik[:, None, :]
    steps[first] = (log_start + log_lik[first])[:, None, :]
    log_alpha = _scan(steps, np.zeros(n_states), semiring="logsum")
    # beta[t] = steps[t + 1] @ beta[t + 1]: a forward scan over the reversed, transposed steps
    log_beta = np.zeros((n, n_states))
    if n > 1:
        log_beta[:-1] = _scan(np.ascontiguousarray(steps[:0:-1].transpose(0, 2, 1)),
                              np.zeros(n_states), semiring="logsum")[::-1]
    log_post = log_alpha + log_beta
    log_post -= log_post.max(axis=1, keepdims=True)
    post = np.exp(log_post)
    return post / post.sum(axis=1, keepdims=True)


def _scan(steps: np.ndarray, init: np.ndarray, *, semiring: str) -> np.ndarray:
    """States after each step of ``v[t] = v[t-1] (x) steps[t]``, ``v[-1] = init``.

    ``semiring="max"``: max-plus products (log domain, Viterbi); ``"logsum"``: log-sum-exp
    products (log domain, forward algorithm). The result is defined up to an additive
    constant per row (rows are shifted to a maximum of 0). The n steps are cut into ~sqrt(n)
    blocks: the transfer matrix of every block is built for all blocks at once, the block
    entry states are chained, and the states inside all blocks are then filled in at once.
    """
    n, k, _ = steps.shape
    size = max(1, math.isqrt(n))
    n_blocks = -(-n // size)
    maxplus = semiring == "max"
    identity = np.full((k, k), -np.inf)  # log of the identity matrix, in both semirings
    np.fill_diagonal(identity, 0.0)
    padded = np.concatenate([steps, np.broadcast_to(identity, (n_blocks * size - n, k, k))])
    # (position in block, block, from, to)
    blocks = np.ascontiguousarray(padded.reshape(n_blocks, size, k, k).transpose(1, 0, 2, 3))
    if maxplus:
        blocks_t = np.ascontiguousarray(blocks.transpose(0, 1, 3, 2))  # (.., to, from)
        transfer = np.broadcast_to(identity, (n_blocks, k, k))
        for pos in range(size):
            transfer = _lastmax(transfer[:, :, None, :] + blocks_t[pos][:, None, :, :])
        entry = np.empty((n_blocks, k))
        state = np.asarray(init, dtype=np.float64)
        transfer_t = transfer.transpose(0, 2, 1)
        for b in range(n_blocks):
            entry[b] = state
            state = _lastmax(state + transfer_t[b])
            state -= state.max()
        out = np.empty((size, n_blocks, k))
        state = entry
        for pos in range(size):
            state = _lastmax(state[:, None, :] + blocks_t[pos])
            out[pos] = state
    else:
        transfer = np.broadcast_to(identity, (n_blocks, k, k))
        for pos in range(size):
            transfer = _log_matmul(transfer, blocks[pos])
            transfer -= transfer.max(axis=(1, 2), keepdims=True)
        entry = np.empty((n_blocks, k))
        state = np.asarray(init, dtype=np.float64)
        for b in range(n_blocks):
            entry[b] = state
            state = _log_matmul(state[None, :], transfer[b])[0]
            state -= state.max()
        out = np.empty((size, n_blocks, k))
        state = entry
        for pos in range(size):
            state = _log_matmul(state[:, None, :], blocks[pos])[:, 0]
            state -= state.max(axis=1, keepdims=True)
            out[pos] = state
    return out.transpose(1, 0, 2).reshape(n_blocks * size, k)[:n]


def _log_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``log(exp(a) @ exp(b))`` over the last two axes, exact for ``-inf`` entries.

    The short inner axis is reduced by pairwise ``numpy.logaddexp`` (a few states), which is
    several times faster than ``scipy.special.logsumexp`` on these small blocks.
    """
    out = a[..., :, 0, None] + b[..., None, 0, :]
    for m in range(1, a.shape[-1]):
        np.logaddexp(out, a[..., :, m, None] + b[..., None, m, :], out=out)
    return out


def _lastmax(values: np.ndarray) -> np.ndarray:
    """Maximum over a short last axis (pairwise maxima beat a reduction for a few states)."""
    out = values[..., 0].copy()
    for j in range(1, values.shape[-1]):
        np.maximum(out, values[..., j], out=out)
    return out
