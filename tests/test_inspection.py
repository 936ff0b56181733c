"""Feature importances (sleepstage.inspection)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lightgbm import LGBMClassifier
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from sleepstage.inspection import (
    aggregate_importances,
    feature_families,
    feature_importances,
    importance_table,
)
from sleepstage.inspection._importances import _within_group_permutations

NAMES = ["eeg1_delta_relpower", "eeg2_theta_relpower", "emg_rms_log", "eeg1_hjorth_mobility",
         "eeg1_delta_relpower__mean_c15"]


def _names_out(transformer, input_features):
    return np.asarray(NAMES, dtype=object)


@pytest.fixture(scope="module")
def dataset():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(600, 5))
    y = np.where(X[:, 0] > 0.5, "WAKE", np.where(X[:, 2] > 0, "NREM", "REM"))
    groups = np.repeat(["r1", "r2", "r3"], 200)
    return X, y, groups


def _pipeline(classifier=None):
    classifier = classifier or LGBMClassifier(n_estimators=30, n_jobs=1, verbose=-1, random_state=0)
    return Pipeline([("features", FunctionTransformer(feature_names_out=_names_out)),
                     ("classifier", classifier)])


@pytest.fixture(scope="module")
def fitted(dataset):
    X, y, _ = dataset
    return _pipeline().fit(X, y)


class _ModeSmoother(ClassifierMixin, BaseEstimator):
    """Stand-in for HMMSmoother: wraps a classifier, predicts each recording's majority."""

    def __init__(self, estimator=None):
        self.estimator = estimator

    def fit(self, X, y, groups=None):
        self.estimator_ = clone(self.estimator).fit(X, y)
        self.classes_ = self.estimator_.classes_
        return self

    def predict(self, X, groups=None):
        if groups is None:
            raise ValueError("groups are required")
        pred = self.estimator_.predict(X)
        out = pred.copy()
        for g in np.unique(groups):
            values, counts = np.unique(pred[groups == g], return_counts=True)
            out[groups == g] = values[np.argmax(counts)]
        return out


class _GroupCentering(TransformerMixin, BaseEstimator):
    """Per-recording centering whose transform insists on groups (like RecordingScaler)."""

    def fit(self, X, y=None, groups=None):
        return self

    def fit_transform(self, X, y=None, groups=None):
        return self.transform(X, np.zeros(len(X)) if groups is None else groups)

    def transform(self, X, groups=None):
        if groups is None:
            raise ValueError("groups are required")
        X = np.array(X, dtype=float)
        for g in np.unique(groups):
            X[groups == g] -= X[groups == g].mean(axis=0)
        return X

    def get_feature_names_out(self, input_features=None):
        return np.asarray(input_features, dtype=object)


def test_within_group_permutations_stay_in_groups():
    rng = np.random.default_rng(0)
    codes = np.repeat([2, 0, 1], [5, 7, 3])
    perms = _within_group_permutations(codes, 4, rng)
    assert perms.shape == (4, 15)
    for perm in perms:
        assert sorted(perm) == list(range(15))
        np.testing.assert_array_equal(codes[perm], codes)
    assert not (perms == np.arange(15)).all(axis=1).any()  # actually shuffled


def test_families_and_channels():
    table = feature_families(
        ["EEG Fpz-Cz_delta_relpower", "EEG Fpz-Cz_hjorth_complexity", "EMG submental_rms_log",
         "EEG Fpz-Cz_sef95", "EEG Fpz-Cz_kurtosis", "EEG Fpz-Cz_sigma_abspower_log__std_c5",
         "coherence_fpz_pz"],
        ch_names=["EEG Fpz-Cz", "EMG submental"], ch_types=["eeg", "emg"],
    )
    assert table.channel.tolist() == ["EEG Fpz-Cz"] * 2 + ["EMG submental"] + \
        ["EEG Fpz-Cz"] * 3 + ["other"]
    # a context feature belongs to its base feature's family; its window is kept apart
    assert table.family.tolist() == ["band_power", "hjorth", "emg", "spectral_shape", "time",
                                     "band_power", "other"]
    assert table.window.tolist() == ["epoch"] * 5 + ["std_c5", "epoch"]
    longest = feature_families(["eeg_1_mean"], ch_names=["eeg", "eeg_1"])
    assert longest.channel.tolist() == ["eeg_1"]
    declared = feature_families(["eeg1_kurtosis"], ch_names=["eeg1"],
                                declared={"eeg1_kurtosis": "time_stats"})
    assert declared.family.tolist() == ["time_stats"]
    assert feature_families(["emg_rms_log"]).channel.tolist() == ["emg"]


def test_table_columns_named_by_another_program_are_not_given_a_channel():
    """Without channel names, ``log_delta`` is no feature of a channel called "log"."""
    table = feature_families(["eeg1_delta_relpower", "log_delta", "rel_theta__mean_c20s",
                              "log_emg", "EMG_integral"])
    assert table.channel.tolist() == ["eeg1", "other", "other", "other", "other"]
    assert table.family.tolist() == ["band_power", "other", "other", "emg", "emg"]
    assert table.window.tolist() == ["epoch", "epoch", "mean_c20s", "epoch", "epoch"]


@pytest.mark.parametrize("kind", ["gain", "split"])
def test_booster_importances(fitted, kind):
    table = feature_importances(fitted, kind=kind)
    assert list(table.columns) == ["feature", "channel", "family", "window", "importance"]
    assert sorted(table.feature) == sorted(NAMES)
    assert table.importance.is_monotonic_decreasing
    assert table.attrs["kind"] == kind
    expected = fitted[-1].booster_.feature_importance(importance_type=kind)
    by_name = dict(zip(table.feature, table.importance, strict=True))
    np.testing.assert_allclose([by_name[n] for n in NAMES], expected)
    if kind == "gain":
        assert set(table.feature[:2]) == {"eeg1_delta_relpower", "emg_rms_log"}
    row = table.set_index("feature").loc["eeg1_delta_relpower__mean_c15"]
    assert (row.channel, row.family, row.window) == ("eeg1", "band_power", "mean_c15")


def test_permutation_importance(fitted, dataset):
    X, y, groups = dataset
    table = feature_importances(fitted, X, y, groups, kind="permutation", n_repeats=3)
    assert list(table.columns) == ["feature", "channel", "family", "window", "importance",
                                   "importance_std"]
    assert table.attrs["baseline_score"] > 0.9
    top = table.set_index("feature").importance
    assert top["eeg1_delta_relpower"] > 0.2
    assert top["emg_rms_log"] > 0.1
    assert abs(top["eeg1_hjorth_mobility"]) < 0.05
    again = feature_importances(fitted, X, y, groups, kind="permutation", n_repeats=3)
    np.testing.assert_array_equal(again.importance, table.importance)


def test_permutation_keeps_recording_level_information():
    """A feature constant within each recording loses nothing when shuffled by recording."""
    rng = np.random.default_rng(3)
    groups = np.repeat([0, 1, 2, 3], 100)
    y = np.repeat(["WAKE", "NREM", "WAKE", "NREM"], 100)
    X = np.column_stack([np.repeat([1.0, 2.0, 3.0, 4.0], 100) * (y == "WAKE"),
                         rng.normal(size=400)])
    clf = LGBMClassifier(n_estimators=10, n_jobs=1, verbose=-1, min_child_samples=5).fit(X, y)
    within = feature_importances(clf, X, y, groups, kind="permutation", n_repeats=2)
    assert within.set_index("feature").importance["Column_0"] == 0.0
    across = feature_importances(clf, X, y, None, kind="permutation", n_repeats=2)
    assert across.set_index("feature").importance["Column_0"] > 0.3


def test_groups_reach_transformers_and_smoother(dataset):
    X, y, groups = dataset
    pipe = Pipeline([
        ("features", FunctionTransformer(feature_names_out=_names_out)),
        ("scaler", _GroupCentering()),
        ("classifier", _ModeSmoother(LGBMClassifier(n_estimators=20, n_jobs=1, verbose=-1))),
    ]).fit(X, y)
    gain = feature_importances(pipe, kind="gain")  # through the smoother's estimator_
    assert gain.feature[0] in {"eeg1_delta_relpower", "emg_rms_log"}
    smoothed = feature_importances(pipe, X, y, groups, kind="permutation", n_repeats=2)
    raw = feature_importances(pipe, X, y, groups, kind="permutation", n_repeats=2,
                              smoothing=False)
    # majority smoothing predicts one stage per recording: little to lose by shuffling
    assert smoothed.importance.abs().max() < 0.02
    assert raw.set_index("feature").importance["eeg1_delta_relpower"] > 0.2
    with pytest.raises(ValueError, match="groups are required"):
        feature_importances(pipe, X, y, None, kind="permutation")


def test_errors(fitted, dataset):
    X, y, _ = dataset
    logreg = _pipeline(LogisticRegression()).fit(X, y)
    with pytest.raises(ValueError, match=r"LogisticRegression.*kind='permutation'"):
        feature_importances(logreg, kind="gain")
    assert len(feature_importances(logreg, X, y, kind="permutation", n_repeats=1)) == 5
    with pytest.raises(ValueError, match="needs held-out data"):
        feature_importances(fitted, kind="permutation")
    with pytest.raises(ValueError, match="'kind'"):
        feature_importances(fitted, kind="shap")
    with pytest.raises(ValueError, match="n_repeats"):
        feature_importances(fitted, X, y, kind="permutation", n_repeats=0)


def test_aggregate_and_table(fitted, dataset):
    X, y, groups = dataset
    gain = feature_importances(fitted, kind="gain")
    by_channel = aggregate_importances(gain, by="channel")
    assert list(by_channel.columns) == ["channel", "importance", "n_features"]
    assert by_channel.n_features.sum() == 5
    assert by_channel.importance.sum() == pytest.approx(gain.importance.sum())
    assert by_channel.importance.is_monotonic_decreasing
    by_family = aggregate_importances(gain, by="family").set_index("family")
    assert by_family.loc["band_power", "n_features"] == 3  # with the context of delta
    assert "context" not in by_family.index
    by_window = aggregate_importances(gain, by="window").set_index("window")
    assert by_window.n_features.to_dict() == {"epoch": 4, "mean_c15": 1}
    assert by_window.importance.sum() == pytest.approx(gain.importance.sum())
    old = gain.drop(columns="window")  # a table without windows gets them from the names
    pd.testing.assert_frame_equal(aggregate_importances(old, by="window"),
                                  aggregate_importances(gain, by="window"))
    with pytest.raises(ValueError, match="'by'"):
        aggregate_importances(gain, by="stage")

    table = importance_table(fitted, X, y, groups, n_repeats=2)
    assert list(table.columns) == ["feature", "channel", "family", "window", "gain", "split",
                                   "permutation", "permutation_std"]
    assert len(table) == 5 and table.gain.is_monotonic_decreasing
    assert importance_table(fitted).columns.tolist()[-2:] == ["gain", "split"]


def test_permutation_chunking_and_vectorised_score(fitted, dataset, monkeypatch):
    from sklearn.metrics import balanced_accuracy_score

    from sleepstage.inspection import _importances as ssinspect

    X, y, groups = dataset
    rng = np.random.default_rng(0)
    preds = np.array(["WAKE", "NREM", "REM"])[rng.integers(0, 3, (4, len(y)))]
    np.testing.assert_allclose(ssinspect._balanced_accuracy(y, preds),
                               [balanced_accuracy_score(y, p) for p in preds])
    together = feature_importances(fitted, X, y, groups, kind="permutation", n_repeats=2)
    monkeypatch.setattr(ssinspect, "_PERMUTATION_BUDGET", 1)  # one feature per predict call
    one_by_one = feature_importances(fitted, X, y, groups, kind="permutation", n_repeats=2)
    np.testing.assert_array_equal(together.importance, one_by_one.importance)
    np.testing.assert_array_equal(together.importance_std, one_by_one.importance_std)


def test_families_come_from_the_feature_registry():
    """Without declarations, names are attributed as the feature extractor declares them."""
    import sleepstage.inspection as inspection
    from sleepstage.features import EpochFeatures, column_families

    X = np.random.default_rng(0).normal(size=(4, 3, 512)).astype(np.float32)
    extractor = EpochFeatures().fit(X)
    names = [str(n) for n in extractor.get_feature_names_out()]
    parsed = feature_families(names, ch_names=list(extractor.ch_names_),
                              ch_types=list(extractor.ch_types_))
    assert parsed.family.tolist() == [str(f) for f in extractor.feature_families_]
    # the real temporal-context names: each column in its base feature's family
    from sleepstage.features import TemporalContext

    context = TemporalContext(windows=(3,), past_windows=(), lags=(1,)).fit(
        np.zeros((10, len(names))), groups=np.zeros(10))
    with_context = [str(n) for n in context.get_feature_names_out(names)]
    table = feature_families(with_context, ch_names=list(extractor.ch_names_),
                             ch_types=list(extractor.ch_types_))
    own = dict(zip(names, parsed.family, strict=True))
    assert table.family.tolist() == [own[n.partition("__")[0]] for n in with_context]
    assert set(table.window) == {"epoch", "mean_c3", "lag_m1", "lag_p1"}
    with pytest.warns(FutureWarning, match=r"FAMILIES is deprecated.*column_families"):
        families = inspection.FAMILIES
    assert families == (*column_families(), inspection.CONTEXT_FAMILY)
