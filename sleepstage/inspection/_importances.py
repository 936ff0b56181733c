"""Why the stager decides as it does: feature importances by feature, channel and family.

Three kinds of importance are offered for a fitted feature pipeline
(``features -> [scaler] -> [context] -> classifier``):

``"gain"`` / ``"split"``
    Read from the LightGBM booster of the final classifier (inside an ``HMMSmoother`` when
    the pipeline smooths): total split gain, or the number of splits using the feature. Cheap,
    need no data, but describe the training fit, not generalisation.
``"permutation"``
    Drop in balanced accuracy on held-out data when one column of the *transformed* feature
    matrix is shuffled. Shuffling happens within each recording (``groups``), so recording-
    level offsets survive and only the epoch-to-epoch information of the feature is
    destroyed. Correlated features share their importance (shuffling one leaves its
    correlates), so read sums per channel or family as lower bounds.

Each feature is attributed to a channel (the longest channel name that prefixes the feature
name, followed by ``_``), a family and a context window, which :func:`aggregate_importances`
sums over. The family is the column family the feature extractor declares
(``feature_families_``), else the one the registry of feature families recognises in the
name (:func:`sleepstage.features.column_family_of`); a temporal-context column
(``<feature>__<window>``, e.g. ``eeg1_delta_relpower__mean_c15``) belongs to the family of
its base feature, and its window (``mean_c15``: mean over 15 centred epochs; ``lag_m1``: the
epoch before) is recorded separately, ``"epoch"`` for the epoch's own values. So "how much
does the model rely on band powers" counts the band powers' context too, and "how much does
it rely on context" is read from the windows.
"""

from __future__ import annotations

import inspect as _pyinspect
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._internal.anatomy import feature_names_out, inner_estimator, raw_epoch_step, split_pipeline
from .._internal.validation import check_option
from ..features import column_families, column_family_of

__all__ = [
    "CONTEXT_FAMILY",
    "OWN_EPOCH",
    "aggregate_importances",
    "feature_families",
    "feature_importances",
    "importance_table",
]

logger = logging.getLogger(__name__)

#: Former family of the temporal-context columns (``<feature>__<window>``); they now belong
#: to the family of their base feature, their window in the ``window`` column.
CONTEXT_FAMILY = "context"

#: Window of the features computed on the epoch itself (no temporal context).
OWN_EPOCH = "epoch"

_KINDS = ("gain", "split", "permutation")


# ----------------------------------------------------------------------------------------------
# feature names
# ----------------------------------------------------------------------------------------------
def _feature_names(pipeline, n_features: int | None = None) -> list[str]:
    """Names of the features the classifier sees: from the transformers, else the classifier."""
    try:
        names = feature_names_out(pipeline)
    except Exception as exc:
        raise ValueError(
            "Cannot name the features: a transformer of the pipeline does not implement "
            f"get_feature_names_out ({exc})."
        ) from exc
    if names is not None:
        return names
    clf = inner_estimator(split_pipeline(pipeline)[1])
    for attr in ("feature_names_in_", "feature_name_"):
        names = getattr(clf, attr, None)
        if names is not None:
            return [str(n) for n in names]
    n = n_features if n_features is not None else getattr(clf, "n_features_in_", None)
    if n is None:
        raise ValueError("Cannot tell how many features the model uses.")
    return [f"x{i}" for i in range(int(n))]


def _accepts_groups(method) -> bool:
    try:
        return "groups" in _pyinspect.signature(method).parameters
    except (TypeError, ValueError):
        return False


# ----------------------------------------------------------------------------------------------
# channel and family attribution
# ----------------------------------------------------------------------------------------------
#: Channel and family of a feature that cannot be attributed (e.g. a feature-table column
#: such as ``log_delta``, named by another program).
OTHER = "other"


def _channel_of(name: str, ch_names: Sequence[str] | None) -> str:
    if ch_names:
        matches = [c for c in ch_names if name.startswith(f"{c}_")]
        if matches:
            return max(matches, key=len)
        return OTHER
    # Without channel names, the text before the first "_" is a channel only when the rest
    # is a feature the registry knows, as in the names the extractor writes
    # (``<channel>_<feature>``): the "log" of a table's ``log_delta`` is no channel.
    head, sep, rest = name.partition("_")
    return head if sep and column_family_of(rest) is not None else OTHER


def _declared_families(step) -> dict[str, str]:
    """Name -> family from an extractor's ``feature_families_`` (dict or aligned sequence)."""
    declared = getattr(step, "feature_families_", None) if step is not None else None
    if declared is None:
        return {}
    if isinstance(declared, dict):
        return {str(k): str(v) for k, v in declared.items()}
    try:
        names = [str(n) for n in step.get_feature_names_out()]
    except Exception:
        return {}
    declared = [str(v) for v in np.asarray(declared, dtype=object).tolist()]
    if len(declared) != len(names):
        logger.warning("feature_families_ has %d entries for %d features; ignoring it.",
                       len(declared), len(names))
        return {}
    return dict(zip(names, declared, strict=True))


def _registered_family(name: str, channel: str, ch_type: str | None) -> str:
    """The column family the registry recognises in ``name`` (without its channel).

    A name no registered family recognises is ``"emg"`` on an EMG channel (or when one of
    its ``_``-separated words is ``emg``, as in ``emg_rms`` or ``log_emg``), ``"time"`` on
    another channel and :data:`OTHER` without one.
    """
    rest = name[len(channel) + 1:] if name.startswith(f"{channel}_") else name
    family = column_family_of(rest)
    if family is not None:
        return family
    if ch_type == "emg" or "emg" in name.lower().split("_"):
        return "emg"
    return OTHER if channel == OTHER else "time"


def _deprecated_families() -> tuple[str, ...]:
    """Value of the deprecated ``FAMILIES``: the registered column families and context."""
    return (*column_families(), CONTEXT_FAMILY)


def feature_families(
    names: Sequence[str],
    *,
    ch_names: Sequence[str] | None = None,
    ch_types: Sequence[str] | None = None,
    declared: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Attribute each feature name to a channel, a family and a context window.

    Parameters
    ----------
    names : sequence of str
        Feature names, ``<channel>_<feature>``; temporal-context features end in
        ``__<window>`` (:meth:`sleepstage.features.TemporalContext.get_feature_names_out`)
        and are attributed to the channel and family of their base feature.
    ch_names : sequence of str, optional
        Channel names; the longest one prefixing a name (followed by ``_``) is its channel,
        ``"other"`` if none does. Without them the text before the first ``_`` is the
        channel when the rest is a registered feature name (``eeg1_delta_relpower``), else
        the channel is ``"other"`` (``log_delta``, a column named by another program).
    ch_types : sequence of str, optional
        Types matching ``ch_names``; a feature of an ``"emg"`` channel (or with the word
        ``emg`` in its name) that no registered family recognises belongs to ``"emg"``;
        other unrecognised features to ``"time"`` on a known channel, to ``"other"``
        without one.
    declared : dict, optional
        Name -> family declared by the feature extractor (``feature_families_``); wins over
        the registry of feature families (:func:`sleepstage.features.column_family_of`),
        which recognises the names of every registered family.

    Returns
    -------
    pandas.DataFrame
        Columns ``feature``, ``channel``, ``family`` and ``window`` (the context window,
        e.g. ``mean_c15``, or :data:`OWN_EPOCH` for the epoch's own values).

    Examples
    --------
    >>> table = feature_families(
    ...     ["eeg1_delta_relpower", "emg_rms_log", "eeg1_hjorth_mobility__mean_c15"],
    ...     ch_names=["eeg1", "emg"], ch_types=["eeg", "emg"])
    >>> table.family.tolist(), table.window.tolist()
    (['band_power', 'emg', 'hjorth'], ['epoch', 'epoch', 'mean_c15'])
    """
    declared = declared or {}
    types = dict(zip(ch_names, ch_types, strict=True)) if ch_names and ch_types else {}
    rows = []
    for name in map(str, names):
        base, sep, window = name.partition("__")
        channel = _channel_of(base, ch_names)
        if base in declared:
            family = declared[base]
        else:
            family = _registered_family(base, channel, types.get(channel))
        rows.append((name, channel, family, window if sep else OWN_EPOCH))
    return pd.DataFrame(rows, columns=["feature", "channel", "family", "window"])


# ----------------------------------------------------------------------------------------------
# transforming and predicting with recording ids
# ----------------------------------------------------------------------------------------------
def _transform(transformers: list, X, groups):
    """Apply fitted transformers in order, passing ``groups`` to those that take it."""
    Xt = X
    for step in transformers:
        if groups is not None and _accepts_groups(step.transform):
            Xt = step.transform(Xt, groups=groups)
        else:
            Xt = step.transform(Xt)
    return Xt


def _predict(estimator, X, groups):
    if groups is not None and _accepts_groups(estimator.predict):
        return np.asarray(estimator.predict(X, groups=groups))
    return np.asarray(estimator.predict(X))


def _within_group_permutations(codes: np.ndarray, n_repeats: int, rng) -> np.ndarray:
    """``(n_repeats, n)`` index arrays, each a random permutation within every group."""
    n = codes.shape[0]
    order = np.argsort(codes, kind="stable")  # positions grouped by recording
    keys = rng.random((n_repeats, n))
    shuffled = np.lexsort((keys, np.broadcast_to(codes, (n_repeats, n))), axis=-1)
    perms = np.empty((n_repeats, n), dtype=np.intp)
    perms[:, order] = shuffled
    return perms


def _balanced_accuracy(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Balanced accuracy of every row of ``pred`` (shape (..., n)) against ``y`` (shape (n,)).

    The mean recall over the classes present in ``y``, as
    :func:`sklearn.metrics.balanced_accuracy_score`, vectorised over the leading axes.
    """
    recalls = [(pred[..., y == c] == c).mean(axis=-1) for c in np.unique(y)]
    return np.mean(recalls, axis=0)


#: Memory the stacked permuted copies of the feature matrix may take (bytes).
_PERMUTATION_BUDGET = 256 * 2**20


def _permutation(
    pipeline, X, y, groups, *, n_repeats: int, random_state, smoothing: bool, names: list[str]
) -> tuple[np.ndarray, np.ndarray, float]:
    from sklearn.utils import check_random_state

    if X is None or y is None:
        raise ValueError("Permutation importance needs held-out data: pass X and y.")
    y = np.asarray(y)
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} epochs but y has {len(y)}.")
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape != y.shape:
            raise ValueError(f"groups has shape {groups.shape}, expected {y.shape}.")
    n_repeats = int(n_repeats)
    if n_repeats < 1:
        raise ValueError(f"The 'n_repeats' parameter must be >= 1, got {n_repeats}.")
    transformers, final = split_pipeline(pipeline)
    scorer_model = final if smoothing else inner_estimator(final)
    Xt = _transform(transformers, X, groups)
    columns = list(Xt.columns) if hasattr(Xt, "columns") else None
    Xt = np.asarray(Xt)
    if Xt.ndim != 2 or Xt.shape[1] != len(names):
        raise ValueError(f"Transformed data has shape {Xt.shape}, but {len(names)} feature "
                         "names were found.")
    n, n_features = Xt.shape
    if groups is None:
        codes = np.zeros(n, dtype=np.intp)
    else:
        _, codes = np.unique(groups, return_inverse=True)
        codes = codes.ravel()
    n_codes = int(codes.max()) + 1

    def predict(matrix, group_ids):
        data = pd.DataFrame(matrix, columns=columns) if columns is not None else matrix
        # every stacked copy is its own recording(s), so sequence steps never join copies
        return _predict(scorer_model, data, group_ids)

    baseline = float(_balanced_accuracy(y, predict(Xt, codes)))
    rng = check_random_state(random_state)
    # Several features are permuted per predict call: copies of Xt are stacked, feature k of
    # the chunk shuffled in copy block k. The draws are made feature by feature in order, so
    # results do not depend on the chunk size.
    block = n_repeats * n
    chunk = int(max(1, min(n_features, _PERMUTATION_BUDGET // (Xt.itemsize * n_features * block))))
    stacked = np.tile(Xt, (chunk * n_repeats, 1))
    stacked_groups = (codes[None, :] + n_codes * np.arange(chunk * n_repeats)[:, None]).ravel()
    drops = np.empty((n_features, n_repeats))
    for first in range(0, n_features, chunk):
        features = range(first, min(first + chunk, n_features))
        for k, j in enumerate(features):
            perms = _within_group_permutations(codes, n_repeats, rng)
            stacked[k * block:(k + 1) * block, j] = Xt[perms.ravel(), j]
        rows = len(features) * block
        pred = predict(stacked[:rows], stacked_groups[:rows]).reshape(len(features), n_repeats, n)
        drops[first:first + len(features)] = baseline - _balanced_accuracy(y, pred)
        for k, j in enumerate(features):
            stacked[k * block:(k + 1) * block, j] = np.tile(Xt[:, j], n_repeats)
    logger.debug("permutation importance: %d features x %d repeats in chunks of %d",
                 n_features, n_repeats, chunk)
    return drops.mean(axis=1), drops.std(axis=1), baseline


# ----------------------------------------------------------------------------------------------
# public API
# ----------------------------------------------------------------------------------------------
def feature_importances(
    pipeline,
    X=None,
    y=None,
    groups=None,
    kind: str = "gain",
    *,
    n_repeats: int = 5,
    random_state=0,
    smoothing: bool = True,
    ch_names: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Importance of every feature of a fitted pipeline, with its channel and family.

    Parameters
    ----------
    pipeline : fitted Pipeline or estimator
        Typically ``features -> [scaler] -> [context] -> classifier`` from
        ``sleepstage.pipelines.make_staging_pipeline``; the classifier may be an ``HMMSmoother``
        wrapping LightGBM. Feature names come from ``pipeline[:-1].get_feature_names_out()``.
    X : array-like of raw epochs, optional
        Held-out epochs in the pipeline's input layout; needed for ``kind="permutation"``.
    y : array-like of shape (n_epochs,), optional
        Their stages; needed for ``kind="permutation"``.
    groups : array-like of shape (n_epochs,), optional
        Recording id of each epoch. Passed to steps whose ``transform``/``predict`` accept it,
        and permutations stay within recordings. None means one continuous recording.
    kind : {"gain", "split", "permutation"}
        ``"gain"``/``"split"`` read the LightGBM booster (``booster_.feature_importance``);
        ``"permutation"`` measures the balanced-accuracy drop when a transformed feature
        column is shuffled within each recording.
    n_repeats : int
        Shuffles per feature (permutation only).
    random_state : int, RandomState or None
        Seed of the shuffles.
    smoothing : bool
        Permutation only, when the final step smooths (``HMMSmoother``): True (default)
        scores the smoothed predictions, i.e. the stager as deployed; False scores the
        inner classifier alone, which isolates each feature's epoch-level contribution.
    ch_names : sequence of str, optional
        Channel names used to attribute features; read from the feature extractor
        (``ch_names_``) by default.

    Returns
    -------
    pandas.DataFrame
        Columns ``feature``, ``channel``, ``family``, ``window`` (see
        :func:`feature_families`), ``importance`` (and ``importance_std`` for permutation),
        sorted by decreasing importance.
        ``table.attrs`` holds ``kind`` (and ``baseline_score`` for permutation).

    Raises
    ------
    ValueError
        For ``"gain"``/``"split"`` when the classifier is not LightGBM, or for
        ``"permutation"`` without ``X`` and ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> from lightgbm import LGBMClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)); y = (X[:, 0] > 0).astype(int)
    >>> clf = LGBMClassifier(n_estimators=10, n_jobs=1, verbose=-1).fit(X, y)
    >>> feature_importances(clf, kind="split").feature.iloc[0]
    'Column_0'
    """
    check_option("kind", kind, _KINDS)
    _, final = split_pipeline(pipeline)
    clf = inner_estimator(final)
    n_in = getattr(clf, "n_features_in_", None)
    names = _feature_names(pipeline, n_in)
    features_step = raw_epoch_step(pipeline)
    if ch_names is None and features_step is not None:
        ch_names = list(features_step.ch_names_)
    ch_types = None
    if features_step is not None and ch_names == list(features_step.ch_names_):
        ch_types = list(getattr(features_step, "ch_types_", []) or []) or None
    table = feature_families(names, ch_names=ch_names, ch_types=ch_types,
                             declared=_declared_families(features_step))
    if kind in ("gain", "split"):
        booster = getattr(clf, "booster_", None)
        if booster is None:
            raise ValueError(
                f"kind={kind!r} reads LightGBM's booster, but the final classifier is "
                f"{type(clf).__name__}. Use kind='permutation' (with held-out X and y)."
            )
        values = np.asarray(booster.feature_importance(importance_type=kind), dtype=float)
        if values.shape[0] != len(names):
            raise ValueError(f"The booster has {values.shape[0]} features but the pipeline "
                             f"names {len(names)}.")
        table["importance"] = values
    else:
        mean, std, baseline = _permutation(
            pipeline, X, y, groups, n_repeats=n_repeats, random_state=random_state,
            smoothing=smoothing, names=names,
        )
        table["importance"] = mean
        table["importance_std"] = std
        table.attrs["baseline_score"] = baseline
    table = table.sort_values("importance", ascending=False, kind="mergesort")
    table = table.reset_index(drop=True)
    table.attrs["kind"] = kind
    return table


def aggregate_importances(table: pd.DataFrame, by: str = "channel") -> pd.DataFrame:
    """Sum feature importances per channel, per family or per context window.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`feature_importances` (column ``importance``) or of
        :func:`importance_table` (one column per kind); every importance column is summed,
        ``*_std`` columns are dropped.
    by : {"channel", "family", "window"}
        Grouping column. A family includes the temporal context of its features; the
        windows tell the epoch's own values (:data:`OWN_EPOCH`) from each context window. A
        table without a ``window`` column (e.g. written by an earlier version) gets it from
        the feature names.

    Returns
    -------
    pandas.DataFrame
        Columns ``<by>``, the summed importance column(s) and ``n_features``, sorted by the
        first importance column, decreasing. For permutation importance the sum of
        single-feature drops is a lower bound of the group's joint importance when features
        are correlated.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"feature": ["a_x", "a_y", "b_x"], "channel": ["a", "a", "b"],
    ...                   "family": ["time"] * 3, "importance": [1.0, 2.0, 0.5]})
    >>> aggregate_importances(t, by="channel").importance.tolist()
    [3.0, 0.5]
    """
    check_option("by", by, ("channel", "family", "window"))
    if by == "window" and "window" not in table.columns and "feature" in table.columns:
        table = table.assign(window=feature_families(table["feature"])["window"].to_numpy())
    values = [c for c in table.columns
              if c not in ("feature", "channel", "family", "window")
              and not str(c).endswith("_std") and pd.api.types.is_numeric_dtype(table[c])]
    missing = [c for c in (by,) if c not in table.columns] + ([] if values else ["importance"])
    if missing:
        raise ValueError(f"The importance table lacks column(s) {missing}.")
    grouped = table.groupby(by, sort=False)
    out = grouped[values].sum()
    out["n_features"] = grouped.size()
    out = (out.reset_index()
           .sort_values(values[0], ascending=False, kind="mergesort")
           .reset_index(drop=True))
    out.attrs = dict(table.attrs)
    return out


def importance_table(
    pipeline,
    X=None,
    y=None,
    groups=None,
    *,
    kinds: Sequence[str] | None = None,
    n_repeats: int = 5,
    random_state=0,
    smoothing: bool = True,
) -> pd.DataFrame:
    """Several kinds of importance side by side, one row per feature.

    Parameters
    ----------
    pipeline, X, y, groups, n_repeats, random_state, smoothing
        As in :func:`feature_importances`.
    kinds : sequence of {"gain", "split", "permutation"}, optional
        Default: gain and split when the classifier is LightGBM, plus permutation when
        ``X`` and ``y`` are given.

    Returns
    -------
    pandas.DataFrame
        Columns ``feature``, ``channel``, ``family``, ``window`` and one column per kind
        (``permutation_std`` too), sorted by the first kind.
    """
    if kinds is None:
        clf = inner_estimator(split_pipeline(pipeline)[1])
        kinds = [k for k in ("gain", "split") if getattr(clf, "booster_", None) is not None]
        if X is not None and y is not None:
            kinds.append("permutation")
        if not kinds:
            raise ValueError("This model has no LightGBM booster: pass X and y to compute "
                             "permutation importance.")
    kinds = [check_option("kinds", k, _KINDS) for k in kinds]
    merged = None
    attrs: dict[str, Any] = {"kinds": list(kinds)}
    for kind in kinds:
        t = feature_importances(pipeline, X, y, groups, kind, n_repeats=n_repeats,
                                random_state=random_state, smoothing=smoothing)
        t = t.rename(columns={"importance": kind, "importance_std": f"{kind}_std"})
        if "baseline_score" in t.attrs:
            attrs["baseline_score"] = t.attrs["baseline_score"]
        merged = t if merged is None else merged.merge(
            t.drop(columns=["channel", "family", "window"]), on="feature", how="outer",
            sort=False
        )
    merged = merged.sort_values(kinds[0], ascending=False, kind="mergesort").reset_index(drop=True)
    merged.attrs = attrs
    return merged
