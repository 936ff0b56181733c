"""Recording-wise cross-validation with staging scores."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from joblib import delayed, effective_n_jobs
from sklearn.base import clone

from .._internal.progress import Progress, run_tasks
from .._internal.routing import predict_and_proba
from .._internal.threads import limit_threads
from .._internal.validation import check_scored
from .._internal.values import plain
from .._internal.warnings import warn_once_per_message
from ..data import EpochData
from ..features import detect_artefacts
from ..metrics import staging_scores
from ._fitting import fit_kept_epochs, training_epochs
from ._splits import recording_folds

__all__ = ["CVReport", "cross_validate_recordings"]

logger = logging.getLogger(__name__)


#: Per-fold / per-recording / pooled columns of :meth:`CVReport.summary` that hold one value;
#: every per-stage score (a dict stage -> value) becomes one ``<name>_<stage>`` column.
_SCALAR_SCORES = (
    "n_epochs", "balanced_accuracy", "kappa", "accuracy", "transitions_per_hour_true",
    "transitions_per_hour_pred", "mean_confidence", "expected_calibration_error",
    "errors_in_least_confident_10pct", "fit_seconds", "predict_seconds",
)
#: Tables of ``str(report)``: score -> column header; per-stage scores by their prefix.
_FOLD_TABLE = {"fold": "fold", "test": "test", "n_epochs": "epochs",
               "balanced_accuracy": "bal acc", "kappa": "kappa", "f1_": "F1 ",
               "expected_calibration_error": "ECE"}
_RECORDING_TABLE = {"recording": "recording", "n_epochs": "epochs",
                    "percent_time_error_": "%time err ",
                    "transitions_per_hour_true": "trans/h true",
                    "transitions_per_hour_pred": "trans/h pred",
                    "expected_calibration_error": "ECE",
                    "errors_in_least_confident_10pct": "errors in 10% least conf"}
#: Rows of the per-stage table of the pooled scores in ``str(report)``.
_PER_STAGE = {
    "f1": "F1", "percent_time_true": "% time true", "percent_time_pred": "% time predicted",
    "percent_time_error": "% time error (points)", "bouts_per_hour_true": "bouts/h true",
    "bouts_per_hour_pred": "bouts/h predicted", "mean_bout_seconds_true": "mean bout s true",
    "mean_bout_seconds_pred": "mean bout s predicted",
}


def _flat(scores: Mapping[str, Any]) -> dict[str, Any]:
    """One level of scores: per-stage dicts become ``<name>_<stage>`` entries."""
    row: dict[str, Any] = {}
    for key, value in scores.items():
        if isinstance(value, Mapping):
            row.update({f"{key}_{label}": item for label, item in value.items()})
        elif key in _SCALAR_SCORES:
            row[key] = value
    return row


@dataclass
class CVReport:
    """Result of :func:`cross_validate_recordings`.

    The headline numbers are pooled over all held-out epochs (``overall``): a fold whose
    test block holds few epochs of a stage would otherwise weigh as much as the others, and
    a stage absent from a fold has no F1 there.

    Attributes
    ----------
    folds : list of dict
        Scores of each fold (see :func:`sleepstage.metrics.staging_scores`) plus ``fold``,
        ``test_recordings``, ``fit_seconds`` and ``predict_seconds``.
    overall : dict
        Scores of all held-out predictions pooled together (the headline numbers).
    labels : list
        Class order of the per-stage scores and the confusion matrix.
    cv : str
        Description of the splitting scheme.
    predictions : numpy.ndarray or None
        Held-out prediction of every epoch (with ``return_predictions=True``).
    recordings : list of dict
        Scores of each recording over its held-out epochs, plus ``recording``.
    probabilities : numpy.ndarray or None
        Held-out stage probabilities of every epoch, columns in ``labels`` order (with
        ``return_predictions=True`` and a model that has ``predict_proba``).
    """

    folds: list[dict[str, Any]]
    overall: dict[str, Any]
    labels: list
    cv: str
    predictions: np.ndarray | None = field(default=None, repr=False)
    recordings: list[dict[str, Any]] = field(default_factory=list, repr=False)
    probabilities: np.ndarray | None = field(default=None, repr=False)

    @property
    def confusion(self) -> np.ndarray:
        """Confusion matrix summed over folds (rows true, columns predicted)."""
        return np.asarray(self.overall["confusion"])

    def pooled(self, metric: str) -> float:
        """A pooled score (``"balanced_accuracy"``, ``"f1_REM"``, ``"percent_time_error_REM"``...).

        Raises
        ------
        KeyError
            If the report has no such score.
        """
        flat = _flat(self.overall)
        if metric not in flat:
            raise KeyError(f"No pooled score {metric!r}; available: {sorted(flat)}.")
        return float(flat[metric])

    def mean(self, metric: str) -> float:
        """Mean over folds of a per-fold score, skipping folds where it is NaN.

        A stage absent from both the truth and the prediction of a fold has no F1 there
        (NaN), so ``mean("f1_WAKE")`` averages the folds that have one. Prefer
        :meth:`pooled` for the headline number.
        """
        rows = [_flat(fold) for fold in self.folds]
        if not any(metric in row for row in rows):
            raise KeyError(f"No per-fold score {metric!r}; available: {sorted(rows[0])}.")
        values = np.array([row.get(metric, np.nan) for row in rows], dtype=float)
        return float(np.nanmean(values)) if not np.isnan(values).all() else float("nan")

    def summary(self, by: str = "fold") -> pd.DataFrame:
        """One row per fold (or recording), then a ``pooled`` row with the headline scores.

        Parameters
        ----------
        by : {"fold", "recording"}
            Rows per fold (columns ``fold``, ``test``) or per held-out recording (column
            ``recording``).

        Returns
        -------
        pandas.DataFrame
            Every score of :func:`~sleepstage.metrics.staging_scores` as a column, per-stage
            ones as ``<score>_<stage>`` (``f1_REM``, ``percent_time_error_REM``...); per
            fold also ``fit_seconds`` and ``predict_seconds``. The last row, ``pooled``,
            holds the scores of all held-out epochs together.
        """
        if by == "fold":
            rows = [{"fold": fold["fold"],
                     "test": ",".join(map(str, fold["test_recordings"])),
                     **_flat(fold)} for fold in self.folds]
            rows.append({"fold": "pooled", "test": "all", **_flat(self.overall)})
        elif by == "recording":
            rows = [{"recording": rec["recording"], **_flat(rec)} for rec in self.recordings]
            rows.append({"recording": "pooled", **_flat(self.overall)})
        else:
            raise ValueError(f"Invalid value for the 'by' parameter. Allowed values are "
                             f"'fold', 'recording', but got {by!r} instead.")
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary: pooled scores (``overall``), folds, recordings, fold means."""
        names = dict.fromkeys(name for fold in self.folds for name in _flat(fold))
        return {
            "cv": self.cv,
            "labels": self.labels,
            "overall": self.overall,
            "folds": self.folds,
            "recordings": self.recordings,
            "mean_over_folds": {name: self.mean(name) for name in names},
        }

    def __str__(self) -> str:
        def number(value: float) -> str:
            return f"{value:.3f}"

        def table(frame: pd.DataFrame, spec: dict[str, str]) -> str:
            shown = {}
            for key, header in spec.items():
                if key.endswith("_"):
                    shown.update({column: header + column[len(key):] for column in frame
                                  if column.startswith(key)})
                elif key in frame:
                    shown[key] = header
            return frame[list(shown)].rename(columns=shown).to_string(
                index=False, float_format=number, na_rep="-")

        lines = [f"Cross-validation ({self.cv}), {len(self.folds)} folds; scores per fold, "
                 "per recording and pooled over all held-out epochs"]
        lines.append(table(self.summary(), _FOLD_TABLE))
        lines.append("sleep architecture and calibration per recording (%time err: "
                     "predicted minus true, in points):")
        lines.append(table(self.summary(by="recording"), _RECORDING_TABLE))
        stages = pd.DataFrame({name: self.overall[key] for key, name in _PER_STAGE.items()
                               if key in self.overall}).T
        lines.append("pooled, per stage:")
        lines.append(stages.to_string(float_format=lambda v: f"{v:.2f}", na_rep="-"))
        pooled = self.overall
        f1 = "  ".join(f"F1 {label} {value:.3f}" for label, value in pooled["f1"].items())
        lines.append(f"pooled: balanced accuracy {pooled['balanced_accuracy']:.3f}  "
                     f"kappa {pooled['kappa']:.3f}  {f1}")
        headline = []
        if "transitions_per_hour_true" in pooled:
            headline.append(f"transitions/h {pooled['transitions_per_hour_true']:.1f} true, "
                            f"{pooled['transitions_per_hour_pred']:.1f} predicted")
        if "expected_calibration_error" in pooled:
            caught = pooled["errors_in_least_confident_10pct"]
            headline.append(f"ECE {pooled['expected_calibration_error']:.3f}, mean confidence "
                            f"{pooled['mean_confidence']:.3f}, errors among the 10 % least "
                            f"confident epochs: {'-' if np.isnan(caught) else f'{caught:.0%}'}")
        if headline:
            lines.append("pooled: " + "  ".join(headline))
        return "\n".join(lines)


def cross_validate_recordings(
    pipeline,
    data: EpochData,
    cv: Any = "recording",
    *,
    n_jobs: int | None = None,
    return_predictions: bool = False,
    exclude_artefacts: bool = True,
    verbose: int = 0,
) -> CVReport:
    """Cross-validate a staging pipeline across recordings or contiguous time blocks.

    Parameters
    ----------
    pipeline : estimator
        A scikit-learn estimator (typically from
        :func:`sleepstage.pipelines.make_staging_pipeline`); cloned for every fold.
    data : EpochData
        Labelled epochs with their recording ids (``data.groups``).
    cv : {"recording", "blocks:K", "blocks:K:GAP"} or splitter
        ``"recording"``: leave one recording (animal / night) out. ``"blocks:K"``: every
        recording is cut into K contiguous stretches of time and each fold holds out one; the
        blocks then count as separate recordings for the per-recording steps, so a training
        set made of non-adjacent blocks is never treated as continuous. The GAP epochs on
        each side of a test block are left out of training (default: the 60-s context
        window in epochs of ``data.epoch_length``; see
        :class:`~sleepstage.pipelines.BlockSplit`). Any scikit-learn
        group-aware splitter is also accepted. Shuffled-epoch splits are not offered:
        consecutive epochs are strongly correlated and would inflate every score.
    n_jobs : int, optional
        Folds fitted in parallel (joblib semantics; inside
        ``joblib.parallel_config(backend="dask")`` they run on the Dask cluster). When the
        folds run in parallel, every nested ``n_jobs`` parameter (LightGBM threads, feature
        batch threads) is set to 1, so that N folds do not each start their own thread
        pool on the same cores (see :func:`sleepstage.parallel.limit_threads`).
    return_predictions : bool
        Keep the held-out prediction of every epoch in ``report.predictions`` and its
        stage probabilities in ``report.probabilities``.
    exclude_artefacts : bool
        Drop artefact epochs from each training fold (see :func:`fit_with_groups`); the
        held-out epochs are all predicted and scored. The flags are judged once, per
        recording (true ids, also with ``"blocks:K"``), exactly as ``fit_with_groups`` and
        ``sleepstage predict`` judge them on the same recordings, so every command reports
        the same flagged epochs. Ignored for data without raw signal (a
        :class:`~sleepstage.data.FeatureTable`).
    verbose : int, default=0
        0 is silent; 1 shows progress over the folds, with each fold's balanced accuracy:
        a progress bar on a terminal, log lines otherwise
        (see :mod:`sleepstage._internal.progress`).

    Returns
    -------
    CVReport
        Per-fold, per-recording and pooled (over all held-out epochs; the headline)
        balanced accuracy, Cohen's kappa, per-class F1, confusion matrix, time in each
        stage, bouts per hour and mean bout duration per stage, transitions per hour, and,
        for a model with ``predict_proba``, the calibration of its confidence (expected
        calibration error, mean confidence, share of the errors among the 10 % least
        confident epochs); see :func:`sleepstage.metrics.staging_scores`. The prediction
        is the model's ``predict``; the confidence of an epoch is the ``predict_proba``
        value of the predicted stage. Fit and predict seconds per fold.

    Examples
    --------
    >>> from sleepstage.data import make_synthetic
    >>> from sleepstage.pipelines import make_staging_pipeline
    >>> data = make_synthetic(n_recordings=3, hours=1, random_state=0)
    >>> report = cross_validate_recordings(make_staging_pipeline(n_estimators=20), data)
    >>> len(report.folds)
    3
    """
    if not isinstance(data, EpochData):
        raise TypeError(f"data must be an EpochData, got {type(data).__name__}.")
    if data.y is None:
        raise ValueError("Cross-validation needs labelled data, but data.y is None.")
    check_scored(data.y, "data.y")
    exclude_artefacts = exclude_artefacts and data.has_signal  # a feature table: no samples
    splits, groups, routing_groups = recording_folds(data, cv)
    X, y = data.X, np.asarray(data.y)
    labels = list(np.unique(y))
    description = cv if isinstance(cv, str) else repr(cv)
    for k, (train, test) in enumerate(splits):
        unseen = sorted(set(y[test].tolist()) - set(y[train].tolist()), key=str)
        if unseen:
            warnings.warn(
                f"Fold {k}: stage(s) {unseen} of the held-out epochs never occur in the "
                "training epochs, so the model cannot predict them; they count as errors.",
                UserWarning, stacklevel=2,
            )
    logger.info("cross-validating %d folds (%s) on %d epochs", len(splits), description, len(y))
    if effective_n_jobs(n_jobs) != 1 and len(splits) > 1:
        pipeline, changed = limit_threads(pipeline)
        if changed:
            logger.info("parallel folds: nested threads set to 1 for %s", sorted(changed))
    layout, epoch_length = data.layout(), data.epoch_length
    keep = None
    if exclude_artefacts:
        # per true recording: a block's own statistics would flag other epochs than the
        # recording's do, and the counts would disagree with fit and predict
        keep = training_epochs(detect_artefacts(X, groups, **layout), groups, stacklevel=2)

    def run_fold(k: int, train: np.ndarray, test: np.ndarray, X, y, routing_groups,
                 groups) -> tuple[dict, np.ndarray]:
        # The arrays are arguments, not closure variables, so that joblib can memory-map
        # them (loky) or send them once to the cluster (Dask) instead of with every fold.
        model = clone(pipeline)
        start = time.perf_counter()
        fit_kept_epochs(model, X[train], y[train], routing_groups[train],
                        None if keep is None else keep[train])
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        pred, proba = _predict_held_out(model, X[test], routing_groups[test], labels)
        predict_seconds = time.perf_counter() - start
        scores = staging_scores(y[test], pred, labels=labels, groups=routing_groups[test],
                                epoch_length=epoch_length, proba=proba)
        test_recordings = list(dict.fromkeys(groups[test].tolist()))
        scores.update(fold=k, test_recordings=test_recordings,
                      fit_seconds=fit_seconds, predict_seconds=predict_seconds)
        logger.info("fold %d: balanced accuracy %.3f", k, scores["balanced_accuracy"])
        return scores, pred, proba

    tasks = (delayed(run_fold)(k, train, test, X, y, routing_groups, groups)
             for k, (train, test) in enumerate(splits))
    # every fold runs the same steps: each cause of warning is shown once, not per fold
    with warn_once_per_message(), Progress(len(splits), "cross-validation folds",
                                           verbose=verbose, logger=logger) as progress:
        results = run_tasks(tasks, n_jobs=n_jobs, progress=progress, describe=lambda r: (
            f"fold {r[0]['fold']}: balanced accuracy {r[0]['balanced_accuracy']:.3f}"))
    predictions = np.empty(len(y), dtype=y.dtype)
    has_proba = all(proba is not None for _, _, proba in results)
    probabilities = np.full((len(y), len(labels)), np.nan) if has_proba else None
    tested = np.zeros(len(y), dtype=bool)
    for (_, test), (_, pred, proba) in zip(splits, results, strict=True):
        predictions[test] = pred
        tested[test] = True
        if has_proba:
            probabilities[test] = proba

    def pooled_scores(mask: np.ndarray) -> dict[str, Any]:
        return staging_scores(y[mask], predictions[mask], labels=labels,
                              groups=routing_groups[mask], epoch_length=epoch_length,
                              proba=probabilities[mask] if has_proba else None)

    overall = pooled_scores(tested)
    recordings = [{"recording": recording, **pooled_scores(tested & (groups == recording))}
                  for recording in dict.fromkeys(groups[tested].tolist())]
    return CVReport(
        folds=[scores for scores, _, _ in results],
        overall=overall,
        labels=[plain(label) for label in labels],
        cv=description,
        predictions=predictions if return_predictions else None,
        recordings=recordings,
        probabilities=probabilities if return_predictions else None,
    )


def _predict_held_out(model, X, groups, labels: list) -> tuple[np.ndarray, np.ndarray | None]:
    """Prediction and stage probabilities (columns in ``labels`` order) of held-out epochs.

    Both come from the model itself: ``predict`` is the prediction (for an HMM the Viterbi
    path, which need not be the argmax of the posteriors) and ``predict_proba`` gives the
    confidences; None without ``predict_proba``. A pipeline's transforms run once for both.
    """
    pred, proba = predict_and_proba(model, X, groups)
    if proba is None:
        return pred, None
    classes = getattr(model, "classes_", None)
    if classes is None:
        logger.debug("%s has no classes_: no calibration scores", type(model).__name__)
        return pred, None
    proba = np.asarray(proba)
    # a fold trained without some stage has no column for it: probability 0
    full = np.zeros((proba.shape[0], len(labels)))
    column = {label: i for i, label in enumerate(np.asarray(labels).tolist())}
    for j, label in enumerate(np.asarray(classes).tolist()):
        full[:, column[label]] = proba[:, j]
    return pred, full
