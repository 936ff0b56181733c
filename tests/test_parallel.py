"""Parallel feature extraction over recordings and recording-grouped grid search."""

from __future__ import annotations

from functools import partial

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import balanced_accuracy_score
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import Pipeline

from sleepstage.data import EpochData, make_synthetic
from sleepstage.features import EpochFeatures, RecordingScaler
from sleepstage.models import HMMSmoother
from sleepstage.parallel import StagingScorer, extract_features, grid_search, limit_threads
from sleepstage.pipelines import (
    fit_with_groups,
    make_staging_pipeline,
    predict_with_groups,
)

#: (method, recording ids seen) for every call of SpyHMM, in call order
CALLS: list[tuple[str, tuple | None]] = []
#: number of training epochs of every SpyHMM.fit, in call order
FIT_SIZES: list[int] = []


class SpyHMM(HMMSmoother):
    """HMMSmoother that records the recording ids (and epochs) it receives."""

    def fit(self, X, y, groups=None, **fit_params):
        CALLS.append(("fit", None if groups is None else tuple(dict.fromkeys(groups))))
        FIT_SIZES.append(len(X))
        return super().fit(X, y, groups=groups, **fit_params)

    def predict(self, X, groups=None):
        CALLS.append(("predict", None if groups is None else tuple(dict.fromkeys(groups))))
        return super().predict(X, groups=groups)


@pytest.fixture(autouse=True)
def _clear_calls():
    CALLS.clear()
    FIT_SIZES.clear()
    yield
    CALLS.clear()
    FIT_SIZES.clear()


@pytest.fixture(scope="module")
def data() -> EpochData:
    """Three labelled recordings of 30 min (450 epochs each)."""
    return make_synthetic(n_recordings=3, hours=0.5, random_state=0)


@pytest.fixture(scope="module")
def flat(data) -> EpochData:
    """``data`` with the EMG lead off (a flat line) in 12 epochs of the first recording."""
    X = data.X.copy()
    X[20:32, 2, :] = 0.0
    return EpochData(X, data.y, data.groups, data.sfreq, data.ch_names, data.ch_types,
                     data.epoch_length)


@pytest.fixture(scope="module")
def small() -> EpochData:
    """Three recordings of 6 min (90 epochs each)."""
    return make_synthetic(n_recordings=3, hours=0.1, random_state=1)


def _spy_pipeline(var_smoothing=1e-9) -> Pipeline:
    """Features, per-recording scaling, naive Bayes in a recording-aware HMM (fast to fit)."""
    return Pipeline([
        ("features", EpochFeatures(include=("spectral", "emg"))),
        ("scaler", RecordingScaler(reference="recording", min_epochs=10)),
        ("classifier", SpyHMM(GaussianNB(var_smoothing=var_smoothing))),
    ])


# -- extract_features ------------------------------------------------------------------------
def test_extract_features_equals_epoch_features(small):
    features, names = extract_features(small)
    reference = EpochFeatures().fit(small.X).transform(small.X)
    np.testing.assert_array_equal(features, reference)
    assert features.dtype == np.float32
    assert names.tolist() == EpochFeatures().fit(small.X).get_feature_names_out().tolist()


def test_parallel_over_recordings_equals_serial(small):
    serial, names = extract_features(small, n_jobs=1)
    parallel, parallel_names = extract_features(small, n_jobs=2)  # loky processes
    np.testing.assert_array_equal(parallel, serial)
    np.testing.assert_array_equal(parallel_names, names)
    with joblib.parallel_config(backend="threading"):
        threaded, _ = extract_features(small, n_jobs=-1)
    np.testing.assert_array_equal(threaded, serial)


def test_sequence_and_loaders_equal_concatenated(small):
    parts = [small.select(small.groups == rec) for rec in small.recordings]
    whole, _ = extract_features(small)
    from_parts, _ = extract_features(parts, n_jobs=2)
    np.testing.assert_array_equal(from_parts, whole)

    loaders = [partial(make_synthetic, n_recordings=1, hours=0.05, random_state=s)
               for s in (3, 4)]
    loaded, _ = extract_features(loaders, n_jobs=2)
    expected = np.concatenate([extract_features(load())[0] for load in loaders])
    np.testing.assert_array_equal(loaded, expected)


def test_batch_size_and_feature_params(small):
    default, _ = extract_features(small, include=("spectral", "hjorth"))
    batched, names = extract_features(small, batch_size=7, include=("spectral", "hjorth"))
    np.testing.assert_array_equal(batched, default)
    assert not any("_zero_crossings" in n or n.startswith("emg_rms") for n in names)
    assert default.shape[1] == len(names) < extract_features(small)[0].shape[1]


def test_as_frame_index(small):
    frame, names = extract_features(small, as_frame=True)
    assert isinstance(frame, pd.DataFrame)
    assert frame.columns.tolist() == names.tolist()
    assert frame.index.names == ["recording", "epoch"]
    np.testing.assert_array_equal(frame.index.get_level_values("recording"), small.groups)
    first = small.groups == small.recordings[1]
    np.testing.assert_array_equal(frame.index.get_level_values("epoch")[first],
                                  np.arange(first.sum()))


def test_extract_features_errors(small):
    other = make_synthetic(n_recordings=1, hours=0.05, sfreq=64.0)
    with pytest.raises(ValueError, match="layout"):
        extract_features([small, other])
    with pytest.raises(ValueError, match="sfreq"):
        extract_features(small, sfreq=100)
    with pytest.raises(ValueError, match="include"):
        extract_features(small, include=("spectral", "wavelets"))
    with pytest.raises(TypeError, match="EpochData"):
        extract_features(small.X)
    with pytest.raises(TypeError, match=r"data\[1\]"):
        extract_features([small, "file.edf"])
    with pytest.raises(ValueError, match="empty"):
        extract_features([])
    with pytest.raises(TypeError, match="loader returned"):
        extract_features([lambda: small.X])


# -- scorer ----------------------------------------------------------------------------------
def test_staging_scorer_metrics(data):
    model = fit_with_groups(_spy_pipeline(), data.X, data.y, data.groups)
    pred = predict_with_groups(model, data.X, data.groups)
    single = StagingScorer("balanced_accuracy")(model, data.X, data.y, groups=data.groups)
    assert single == pytest.approx(balanced_accuracy_score(data.y, pred))
    several = StagingScorer(["kappa", "f1_macro"])(model, data.X, data.y, groups=data.groups)
    assert set(several) == {"kappa", "f1_macro"}
    assert all(-1 <= v <= 1 for v in several.values())
    with pytest.raises(ValueError, match="'scoring' parameter"):
        StagingScorer("roc_auc")(model, data.X, data.y)
    request = StagingScorer().get_metadata_routing()
    assert request.consumes("score", ["groups"]) == {"groups"}


# -- grid_search -----------------------------------------------------------------------------
def test_grid_search_routes_groups_to_fit_and_scoring(data):
    grid = {"classifier__estimator__var_smoothing": [1e-9, 1e-2]}
    search = grid_search(_spy_pipeline(), data, grid)
    recordings = tuple(data.recordings)
    fits = [ids for method, ids in CALLS if method == "fit"]
    predicts = [ids for method, ids in CALLS if method == "predict"]
    # 2 candidates x 3 folds, then the refit on everything
    assert len(fits) == 7 and len(predicts) == 6
    for ids in fits[:-1]:
        assert ids is not None and len(ids) == 2  # the two training recordings
    assert fits[-1] == recordings
    for k, ids in enumerate(predicts):  # each scoring call decodes the held-out recording
        assert ids == (recordings[k % 3],)
    assert search.best_estimator_.named_steps["classifier"].n_features_in_ > 0


def test_grid_search_scores_equal_per_recording_decoding(data):
    grid = {"var_smoothing": [1e-9, 0.5]}
    search = grid_search(_spy_pipeline(), data, grid, cv="blocks:3")
    assert "param_classifier__estimator__var_smoothing" in search.cv_results_
    # blocks: each held-out fold holds one block of every recording, decoded separately
    predicts = [ids for method, ids in CALLS if method == "predict"]
    assert len(predicts) == 6
    for ids in predicts:
        assert ids is not None and len(ids) == 3 and all("/block" in str(i) for i in ids)
    # the refit on all data sees the recordings, not the blocks of the folds
    assert [ids for method, ids in CALLS if method == "fit"][-1] == tuple(data.recordings)

    from sleepstage.pipelines import BlockSplit, block_groups

    routed = block_groups(data.groups, 3)
    splits = list(BlockSplit(n_blocks=3).split(data.X, data.y, data.groups))
    for c, value in enumerate(grid["var_smoothing"]):
        for k, (train, test) in enumerate(splits):
            model = _spy_pipeline(value)
            fit_with_groups(model, data.X[train], data.y[train], routed[train])
            pred = predict_with_groups(model, data.X[test], routed[test])
            expected = balanced_accuracy_score(data.y[test], pred)
            assert search.cv_results_[f"split{k}_test_score"][c] == pytest.approx(expected)


def test_grid_search_parallel_equals_serial_and_limits_threads(data):
    pipe = _spy_pipeline().set_params(features__n_jobs=2)
    grid = {"var_smoothing": [1e-9, 0.5]}
    serial = grid_search(pipe, data, grid, n_jobs=1)
    with joblib.parallel_config(backend="threading"):
        parallel = grid_search(pipe, data, grid, n_jobs=2)
    for key in ("split0_test_score", "split1_test_score", "split2_test_score"):
        np.testing.assert_allclose(parallel.cv_results_[key], serial.cv_results_[key],
                                   atol=1e-6)
    assert parallel.best_params_ == serial.best_params_
    # serial: nested threads untouched; parallel: set to 1 (the input pipeline is unchanged)
    assert serial.best_estimator_.get_params()["features__n_jobs"] == 2
    assert parallel.best_estimator_.get_params()["features__n_jobs"] == 1
    assert pipe.get_params()["features__n_jobs"] == 2


def test_limit_threads_keeps_grid_parameters():
    pipe = make_staging_pipeline(n_jobs=2, features={"n_jobs": -1})
    limited, changed = limit_threads(pipe, keep=["features__n_jobs"])
    assert changed == {"classifier__estimator__n_jobs": 2}
    assert limited.get_params()["classifier__estimator__n_jobs"] == 1
    assert limited.get_params()["features__n_jobs"] == -1
    assert limited is not pipe


def test_grid_search_multimetric(data):
    search = grid_search(_spy_pipeline(), data, {"var_smoothing": [1e-9]},
                         scoring=["kappa", "balanced_accuracy"])
    assert search.refit == "kappa"
    assert {"mean_test_kappa", "mean_test_balanced_accuracy"} <= set(search.cv_results_)
    assert search.best_score_ == search.cv_results_["mean_test_kappa"][search.best_index_]


def test_grid_search_refit_choices(data):
    grid = {"var_smoothing": [1e-9, 0.5]}
    picked = grid_search(_spy_pipeline(), data, grid, refit=lambda results: 1)
    assert picked.best_index_ == 1 and picked.best_params_ == {
        "classifier__estimator__var_smoothing": 0.5}
    assert picked.best_estimator_.get_params()["classifier__estimator__var_smoothing"] == 0.5
    np.testing.assert_array_equal(picked.predict(data.X),
                                  picked.best_estimator_.predict(data.X))
    FIT_SIZES.clear()
    unfitted = grid_search(_spy_pipeline(), data, grid, refit=False)
    assert len(FIT_SIZES) == 6  # 2 candidates x 3 folds, no refit
    assert not hasattr(unfitted, "best_estimator_")
    with pytest.raises(ValueError, match="'refit' parameter"):
        grid_search(_spy_pipeline(), data, grid, scoring=["kappa"], refit="accuracy")


def test_grid_search_leaves_artefacts_out_like_cross_validation(flat):
    from sleepstage.features import detect_artefacts
    from sleepstage.pipelines import RecordingSplit, cross_validate_recordings

    flagged = detect_artefacts(flat.X, flat.groups, **flat.layout())["artefact"].to_numpy()
    assert np.flatnonzero(flagged).tolist() == list(range(20, 32))
    splits = list(RecordingSplit().split(flat.X, flat.y, flat.groups))
    grid = {"var_smoothing": [1e-9, 0.5]}

    search = grid_search(_spy_pipeline(), flat, grid)
    kept = [int((~flagged[train]).sum()) for train, _ in splits]
    assert kept != [len(train) for train, _ in splits]  # the flat epochs are in 2 folds
    assert FIT_SIZES == kept * 2 + [len(flat.y) - 12]  # candidate-major, then the refit
    for c, value in enumerate(grid["var_smoothing"]):
        report = cross_validate_recordings(_spy_pipeline(value), flat)
        for k, fold in enumerate(report.folds):
            assert search.cv_results_[f"split{k}_test_score"][c] == pytest.approx(
                fold["balanced_accuracy"])

    FIT_SIZES.clear()
    grid_search(_spy_pipeline(), flat, grid, exclude_artefacts=False)
    assert FIT_SIZES == [len(train) for train, _ in splits] * 2 + [len(flat.y)]


# -- fit_pipeline ----------------------------------------------------------------------------
def test_fit_pipeline_equals_fit_with_groups(flat):
    from sleepstage.parallel import fit_pipeline

    test = make_synthetic(n_recordings=1, hours=0.1, random_state=9)
    reference = fit_with_groups(_spy_pipeline(), flat.X, flat.y, flat.groups,
                                layout=flat.layout())
    assert FIT_SIZES == [len(flat.y) - 12]  # the flat-EMG epochs are left out
    FIT_SIZES.clear()
    with joblib.parallel_config(backend="threading"):
        model = fit_pipeline(_spy_pipeline(), flat, n_jobs=2)
    assert FIT_SIZES == [len(flat.y) - 12]
    # the first recording is cut where its flat epochs are left out
    pieces = ("synthetic-0/part0", "synthetic-0/part1", *flat.recordings[1:])
    assert [ids for method, ids in CALLS if method == "fit"][-1] == pieces
    for method in ("predict", "predict_proba"):
        np.testing.assert_array_equal(
            predict_with_groups(model, test.X, test.groups, method=method),
            predict_with_groups(reference, test.X, test.groups, method=method))
    assert model.get_params()["features__n_jobs"] is None  # the step's setting is kept

    FIT_SIZES.clear()
    fit_pipeline(_spy_pipeline(), flat, exclude_artefacts=False)
    assert FIT_SIZES == [len(flat.y)]


def test_fit_pipeline_without_feature_step_and_errors(data, flat):
    from sklearn.preprocessing import FunctionTransformer

    from sleepstage.parallel import fit_pipeline

    # a pipeline that does not start with EpochFeatures is fitted by fit_with_groups, whole
    first_samples = Pipeline([
        ("flatten", FunctionTransformer(lambda X: X.reshape(len(X), -1)[:, :16])),
        ("classifier", SpyHMM(GaussianNB())),
    ])
    model = fit_pipeline(first_samples, flat)
    assert FIT_SIZES == [len(flat.y) - 12]  # artefacts still left out
    assert model.predict(flat.X[:5]).shape == (5,)
    unlabelled = EpochData(data.X[:10], None, data.groups[:10], data.sfreq, data.ch_names,
                           data.ch_types, data.epoch_length)
    with pytest.raises(ValueError, match="labelled"):
        fit_pipeline(_spy_pipeline(), unlabelled)
    with pytest.raises(TypeError, match="EpochData"):
        fit_pipeline(_spy_pipeline(), data.X)


# -- cross_validate_recordings with parallel folds ---------------------------------------------
@pytest.fixture(scope="module")
def two() -> EpochData:
    """Two labelled recordings of 30 min."""
    return make_synthetic(n_recordings=2, hours=0.5, random_state=0)


@pytest.mark.filterwarnings("ignore:Fold 1. stage.s. .'REM'.:UserWarning")
def test_cross_validate_parallel_folds_equal_serial(two):
    from sleepstage.pipelines import cross_validate_recordings

    pipe = make_staging_pipeline(n_estimators=10)
    serial = cross_validate_recordings(pipe, two, n_jobs=1, return_predictions=True)
    parallel = cross_validate_recordings(pipe, two, n_jobs=2, return_predictions=True)
    np.testing.assert_array_equal(parallel.predictions, serial.predictions)
    for got, want in zip(parallel.folds, serial.folds, strict=True):
        for key in ("balanced_accuracy", "kappa", "accuracy"):
            assert got[key] == pytest.approx(want[key], abs=1e-12)
        assert got["f1"] == pytest.approx(want["f1"], abs=1e-12, nan_ok=True)  # no REM: NaN
        np.testing.assert_array_equal(got["confusion"], want["confusion"])
    assert parallel.overall["balanced_accuracy"] == pytest.approx(
        serial.overall["balanced_accuracy"], abs=1e-12)
    np.testing.assert_array_equal(parallel.confusion, serial.confusion)


@pytest.mark.filterwarnings("ignore:Fold 1. stage.s. .'REM'.:UserWarning")
def test_cross_validate_parallel_folds_run_single_threaded(two, monkeypatch):
    from sleepstage.pipelines import _evaluate, cross_validate_recordings

    seen = []
    original = _evaluate.fit_kept_epochs  # what every fold's fit goes through

    def spy(model, *args, **kwargs):
        params = model.get_params()
        seen.append((params["classifier__estimator__n_jobs"], params["features__n_jobs"]))
        return original(model, *args, **kwargs)

    monkeypatch.setattr(_evaluate, "fit_kept_epochs", spy)
    pipe = make_staging_pipeline(n_estimators=10)  # LightGBM and features: every core
    with joblib.parallel_config(backend="threading"):  # the spy sees the fits
        cross_validate_recordings(pipe, two, n_jobs=2)
    assert seen == [(1, 1), (1, 1)]
    seen.clear()
    cross_validate_recordings(pipe, two, n_jobs=1)
    assert seen == [(None, -1), (None, -1)]  # serial folds keep the pipeline's threads
    assert pipe.get_params()["classifier__estimator__n_jobs"] is None  # input unchanged


def test_grid_search_errors(data):
    with pytest.raises(ValueError, match="no parameter"):
        grid_search(_spy_pipeline(), data, {"num_trees": [1, 2]})
    with pytest.raises(ValueError, match="full name"):
        grid_search(make_staging_pipeline(), data, {"n_jobs": [1, 2]})
    with pytest.raises(TypeError, match="list of values"):
        grid_search(_spy_pipeline(), data, {"var_smoothing": 1e-9})
    unlabelled = EpochData(data.X[:10], None, data.groups[:10], data.sfreq, data.ch_names,
                           data.ch_types, data.epoch_length)
    with pytest.raises(ValueError, match="labelled"):
        grid_search(_spy_pipeline(), unlabelled, {"var_smoothing": [1e-9]})
    with pytest.raises(TypeError, match="EpochData"):
        grid_search(_spy_pipeline(), data.X, {"var_smoothing": [1e-9]})
    with pytest.raises(ValueError, match="'scoring' parameter"):
        grid_search(_spy_pipeline(), data, {"var_smoothing": [1e-9]}, scoring="roc_auc")
    y = np.asarray(data.y, dtype=object).copy()
    y[:4] = "UNSCORED"  # refused before any fit, as by cross_validate_recordings
    unscored = EpochData(data.X, y, data.groups, data.sfreq, data.ch_names, data.ch_types,
                         data.epoch_length)
    with pytest.raises(ValueError, match=r"data.y holds 4 epoch\(s\) labelled 'UNSCORED'"):
        grid_search(_spy_pipeline(), unscored, {"var_smoothing": [1e-9]})


def test_extract_features_takes_a_recording_id_that_comes_back():
    """Each run of one id is a task of its own; the rows stay in input order."""
    small = make_synthetic(n_recordings=2, hours=0.05, random_state=3)
    half = small.n_epochs // 4
    groups = np.asarray(small.groups).copy()
    groups[:half] = groups[-1]  # the last recording's id also opens the data
    mixed = EpochData(small.X, small.y, groups, small.sfreq, small.ch_names, small.ch_types,
                      small.epoch_length)
    features, _ = extract_features(mixed)
    expected = EpochFeatures(**small.layout()).fit(small.X[:1]).transform(small.X)
    np.testing.assert_array_equal(features, expected)
