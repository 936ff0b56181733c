"""Neural baselines: layer sizes, training, labels, sklearn plumbing and the import guard."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline

HAS_TORCH = all(importlib.util.find_spec(m) is not None for m in ("torch", "skorch"))
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="needs the neural extra (torch, skorch)")
pytestmark = pytest.mark.neural

SFREQ = 32
N_SAMPLES = 64  # 2-s epochs at 32 Hz keep the LSTM fast
FREQ = {1: 6.0, 2: 2.0, 3: 4.0}  # EEG rhythm per stage (WAKE, NREM, REM)
EMG = {1: 3.0, 2: 1.0, 3: 0.3}  # EMG amplitude per stage


def make_epochs(n_recordings=3, n_epochs=120, *, seed=0, first_id=0):
    """Tiny separable recordings: stage bouts, a rhythm per stage, an EMG level per stage."""
    rng = np.random.default_rng(seed)
    t = np.arange(N_SAMPLES) / SFREQ
    X, y, groups = [], [], []
    for rec in range(n_recordings):
        bouts = rng.integers(1, 4, size=n_epochs)
        lengths = rng.integers(3, 10, size=n_epochs)
        stages = np.repeat(bouts, lengths)[:n_epochs]
        freq = np.vectorize(FREQ.get)(stages)[:, None]
        emg = np.vectorize(EMG.get)(stages)[:, None]
        phase = rng.uniform(0, 2 * np.pi, (n_epochs, 1))
        noise = 0.5 * rng.standard_normal((2, n_epochs, N_SAMPLES))
        eeg1 = np.sin(2 * np.pi * freq * t + phase) + noise[0]
        eeg2 = np.sin(2 * np.pi * freq * t + phase + 1.0) + noise[1]
        emg_signal = emg * rng.standard_normal((n_epochs, N_SAMPLES))
        X.append(np.stack([eeg1, eeg2, emg_signal], axis=1))
        y.append(stages)
        groups.append(np.full(n_epochs, first_id + rec))
    return (np.concatenate(X).astype(np.float32), np.concatenate(y), np.concatenate(groups))


@pytest.fixture(scope="module")
def train_data():
    return make_epochs(3, 120, seed=0)


@pytest.fixture(scope="module")
def test_data():
    X, y, _ = make_epochs(1, 150, seed=1, first_id=99)
    return X, y


def _lstm(**params):
    from sleepstage.models import LSTMClassifier

    settings = dict(max_epochs=12, batch_size=32, lr=5e-3, patience=4, downsample=2,
                    random_state=0, verbose=0, n_threads=1)
    settings.update(params)
    return LSTMClassifier(**settings)


def _cnn(**params):
    from sleepstage.models import ConvNetClassifier

    settings = dict(max_epochs=15, batch_size=32, lr=1e-2, patience=5, random_state=0,
                    verbose=0, n_threads=1)
    settings.update(params)
    return ConvNetClassifier(**settings)


@pytest.fixture(scope="module")
def fitted_lstm(train_data):
    X, y, groups = train_data
    return _lstm().fit(X, y, groups=groups)


@pytest.fixture(scope="module")
def fitted_cnn(train_data):
    X, y, groups = train_data
    return _cnn().fit(X, y, groups=groups)


# -- architectures ---------------------------------------------------------------------------
@needs_torch
def test_lstm_parameter_count_matches_reference():
    from sleepstage.models._lstm import LSTMModule

    module = LSTMModule(n_channels=3, n_classes=3, hidden_size=32, n_layers=2)
    assert sum(p.numel() for p in module.parameters()) == 13_283
    # Keras keeps one bias vector per gate instead of two: 13 283 - 2 x 128 = 13 027.
    n_hh_bias = sum(p.numel() for n, p in module.named_parameters() if "bias_hh" in n)
    assert 13_283 - n_hh_bias == 13_027


@needs_torch
def test_lstm_forward_shape_and_downsample_keeps_parameters():
    import torch

    from sleepstage.models._lstm import LSTMModule

    full, pooled = LSTMModule(downsample=1), LSTMModule(downsample=4)
    assert sum(p.numel() for p in pooled.parameters()) == 13_283
    x = torch.randn(5, 3, 64)
    with torch.no_grad():
        assert full(x).shape == pooled(x).shape == (5, 3)


@needs_torch
def test_convnet_paper_has_exactly_3050_parameters():
    import torch

    from sleepstage.models._cnn import ConvNetModule, convnet_layers

    module = ConvNetModule(n_channels=8, n_samples=900, n_classes=3, variant="paper")
    assert sum(p.numel() for p in module.parameters()) == 3_050
    layers = {layer.name: layer for layer in convnet_layers("paper", 8, 900)}
    assert layers["conv6"].kernel == (1, 37)
    assert layers["pool3"].shape == (7, 1, 37)
    assert layers["conv7"].shape == (3, 1, 1)
    assert module(torch.randn(2, 8, 900)).shape == (2, 3)


@needs_torch
def test_convnet_rodent_layers_and_count():
    import torch

    from sleepstage.models._cnn import ConvNetModule, convnet_layers

    layers = convnet_layers("rodent", 3, 512)
    shapes = {layer.name: layer.shape for layer in layers}
    assert shapes["conv1"] == (3, 3, 512)  # "same" temporal padding
    assert shapes["conv2"] == (3, 1, 512)  # spatial 3x1 collapses the channels
    assert shapes["conv6"] == (10, 1, 1)  # spans the remaining time (21 samples)
    module = ConvNetModule(3, 512, 3, "rodent")
    assert sum(p.numel() for p in module.parameters()) == sum(L.n_params for L in layers) == 1830
    assert module(torch.randn(4, 3, 512)).shape == (4, 3)


@needs_torch
def test_convnet_rejects_inputs_too_small():
    from sleepstage.models._cnn import convnet_layers

    with pytest.raises(ValueError, match="at least 8 channels"):
        convnet_layers("paper", 3, 900)
    with pytest.raises(ValueError, match="at least 24 samples"):
        convnet_layers("rodent", 3, 20)
    with pytest.raises(ValueError, match="'variant'"):
        convnet_layers("resnet", 3, 512)


# -- training ---------------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize(("model", "threshold"), [("lstm", 0.8), ("cnn", 0.8)])
def test_short_training_beats_chance(model, threshold, request, test_data):
    clf = request.getfixturevalue(f"fitted_{model}")
    X_test, y_test = test_data
    score = balanced_accuracy_score(y_test, clf.predict(X_test))
    assert score > threshold, f"{model}: balanced accuracy {score:.2f} (chance 0.33)"
    assert 1 <= clf.n_iter_ <= clf.max_epochs


@needs_torch
def test_fitted_attributes(fitted_lstm, train_data):
    X, y, _ = train_data
    assert fitted_lstm.n_parameters_ == 13_283
    assert fitted_lstm.n_features_in_ == 3 * N_SAMPLES
    assert (fitted_lstm.n_channels_, fitted_lstm.n_samples_) == (3, N_SAMPLES)
    X3 = X.reshape(len(X), 3, -1)
    np.testing.assert_allclose(fitted_lstm.channel_mean_, X3.mean(axis=(0, 2)), atol=1e-4)
    np.testing.assert_allclose(fitted_lstm.channel_scale_, X3.std(axis=(0, 2)), rtol=1e-4)
    counts = np.bincount(y)[1:]
    np.testing.assert_allclose(fitted_lstm.class_weight_, len(y) / (3 * counts))
    # 3 recordings x 20 % < 1 recording: stratified blocks of time are held out instead.
    assert fitted_lstm.validation_recordings_.size == 0
    assert 0.15 * 360 <= fitted_lstm.n_validation_epochs_ <= 0.25 * 360
    callbacks = dict(fitted_lstm.net_.callbacks)
    assert callbacks["grad_clip"].gradient_clip_value == 1.0
    assert callbacks["early_stopping"].patience == 4


@needs_torch
def test_same_seed_same_predictions(train_data, test_data):
    X, y, groups = train_data
    X_test, _ = test_data
    first = _cnn(max_epochs=3).fit(X, y, groups=groups).predict_proba(X_test)
    second = _cnn(max_epochs=3).fit(X, y, groups=groups).predict_proba(X_test)
    other = _cnn(max_epochs=3, random_state=1).fit(X, y, groups=groups).predict_proba(X_test)
    np.testing.assert_array_equal(first, second)
    assert not np.allclose(first, other)


@needs_torch
def test_lstm_same_seed_same_predictions(train_data, test_data):
    X, y, _ = train_data
    X_test, _ = test_data
    first = _lstm(max_epochs=2).fit(X[:120], y[:120]).predict_proba(X_test)
    second = _lstm(max_epochs=2).fit(X[:120], y[:120]).predict_proba(X_test)
    np.testing.assert_array_equal(first, second)


@needs_torch
def test_fit_leaves_torch_global_state_alone(train_data):
    import torch

    X, y, _ = train_data
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    _cnn(max_epochs=1, n_threads=1).fit(X[:90], y[:90])
    assert torch.get_num_threads() == threads
    assert torch.equal(torch.rand(3), expected)
    assert not torch.are_deterministic_algorithms_enabled()


# -- labels and shapes ------------------------------------------------------------------------
@needs_torch
def test_string_labels_round_trip_and_shapes(train_data, test_data):
    X, y, groups = train_data
    X_test, _ = test_data
    names = np.array(["?", "WAKE", "NREM", "REM"], dtype=object)[y]
    clf = _cnn(max_epochs=2).fit(X.reshape(len(X), 3, -1), names, groups=groups)
    assert clf.classes_.tolist() == ["NREM", "REM", "WAKE"]
    pred = clf.predict(X_test)
    assert pred.shape == (len(X_test),)
    assert set(pred) <= {"WAKE", "NREM", "REM"}
    proba = clf.predict_proba(X_test)
    assert proba.shape == (len(X_test), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    # Flat and 3-D inputs are the same epochs.
    np.testing.assert_array_equal(clf.predict(X_test.reshape(len(X_test), 3, -1)), pred)


@needs_torch
def test_integer_labels_round_trip(fitted_lstm, test_data):
    X_test, _ = test_data
    assert fitted_lstm.classes_.tolist() == [1, 2, 3]
    pred = fitted_lstm.predict(X_test)
    assert pred.dtype.kind == "i"
    assert set(pred.tolist()) <= {1, 2, 3}



@needs_torch
@pytest.mark.parametrize("model", ["lstm", "cnn"])
def test_flat_and_3d_inputs_train_the_same_model(model, train_data, test_data):
    X, y, _ = train_data
    X_test, _ = test_data
    build = _lstm if model == "lstm" else _cnn
    flat = build(max_epochs=2).fit(X[:120].reshape(120, -1), y[:120])  # (n, c * t)
    cube = build(max_epochs=2).fit(X[:120], y[:120])  # (n, c, t)
    assert flat.n_features_in_ == cube.n_features_in_ == 3 * N_SAMPLES
    np.testing.assert_array_equal(flat.predict_proba(X_test), cube.predict_proba(X_test))


@needs_torch
def test_arbitrary_integer_labels_returned_as_given(train_data, test_data):
    X, y, _ = train_data
    X_test, _ = test_data
    codes = np.array([0, 42, -7, 1000])[y]  # WAKE=42, NREM=-7, REM=1000: unsorted, negative
    clf = _cnn(max_epochs=2).fit(X, codes)
    assert clf.classes_.tolist() == [-7, 42, 1000]
    pred = clf.predict(X_test)
    assert pred.dtype.kind == "i" and set(pred.tolist()) <= {-7, 42, 1000}
    proba = clf.predict_proba(X_test)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], pred)

@needs_torch
def test_two_classes_and_other_channel_counts():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 5, 48)).astype(np.float32)
    y = np.repeat(["sleep", "wake"], 30)
    X[y == "wake", 4] *= 4
    clf = _cnn(n_channels=5, max_epochs=2).fit(X, y)
    assert clf.predict_proba(X).shape == (60, 2)
    assert clf.net_.module_.dense.out_features == 2
    assert clf.n_parameters_ == sum(p.numel() for p in clf.net_.module_.parameters())


@needs_torch
@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"lr": 0}, ValueError, "'lr'"),
        ({"max_epochs": 0}, ValueError, "'max_epochs'"),
        ({"batch_size": 2.5}, TypeError, "'batch_size'"),
        ({"validation_fraction": 1.0}, ValueError, "'validation_fraction'"),
        ({"optimizer": "lbfgs"}, ValueError, "'optimizer'"),
        ({"class_weight": "auto"}, ValueError, "'class_weight'"),
        ({"grad_clip": 0}, ValueError, "'grad_clip'"),
        ({"variant": "paper"}, ValueError, "at least 8 channels"),
    ],
)
def test_invalid_parameters_raise_named_errors(params, error, match, train_data):
    X, y, _ = train_data
    with pytest.raises(error, match=match):
        _cnn(**params).fit(X, y)


@needs_torch
def test_invalid_data_raise_named_errors(train_data, fitted_cnn):
    X, y, groups = train_data
    with pytest.raises(ValueError, match="not a multiple of the 3"):
        _cnn().fit(X.reshape(len(X), -1)[:, :-1], y)
    with pytest.raises(ValueError, match="one label per epoch"):
        _cnn().fit(X, y[:-1])
    with pytest.raises(ValueError, match="at least 2 classes"):
        _cnn().fit(X, np.ones(len(y)))
    with pytest.raises(ValueError, match="one recording id per epoch"):
        _cnn().fit(X, y, groups=groups[:-1])
    bad = X.copy()
    bad[3, 2, 7] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        _cnn().fit(bad, y)
    with pytest.raises(ValueError, match="65 samples per channel, but 64 were expected"):
        fitted_cnn.predict(np.zeros((2, 3, N_SAMPLES + 1), np.float32))


# -- validation split by recording --------------------------------------------------------------
@needs_torch
def test_validation_mask_by_recording_and_tails():
    from sleepstage.models._torch import validation_mask

    rng = np.random.RandomState(0)
    groups = np.repeat(["a", "b", "c", "d", "e"], 10)
    valid, held = validation_mask(50, groups, 0.2, rng)
    assert held.size == 1 and valid.sum() == 10
    np.testing.assert_array_equal(valid, groups == held[0])
    # Too few recordings for whole ones: 20 % of the blocks of time (about 20 blocks).
    valid, held = validation_mask(30, np.repeat([7, 8], 15), 0.2, rng)
    assert held.size == 0
    assert 4 <= valid.sum() <= 8
    # No groups: one continuous recording cut into blocks (here of one epoch each).
    valid, _ = validation_mask(10, None, 0.3, rng)
    assert valid.sum() == 3


@needs_torch
def test_groups_routed_through_pipeline_hold_out_a_recording():
    X, y, groups = make_epochs(5, 40, seed=3)
    pipe = Pipeline([("classifier", _cnn(max_epochs=2))])
    with sklearn.config_context(enable_metadata_routing=True):
        pipe.fit(X, y, groups=groups)
    clf = pipe.named_steps["classifier"]
    assert clf.validation_recordings_.size == 1
    assert clf.n_validation_epochs_ == 40
    # Routing off: the classic step__param syntax reaches fit as well.
    pipe = Pipeline([("classifier", _cnn(max_epochs=2))]).fit(X, y, classifier__groups=groups)
    assert pipe.named_steps["classifier"].validation_recordings_.size == 1


# -- scikit-learn plumbing ----------------------------------------------------------------------
@needs_torch
def test_clone_and_get_params_are_honest():
    clf = _lstm(hidden_size=16, downsample=2)
    params = clf.get_params()
    assert params["hidden_size"] == 16 and params["downsample"] == 2
    assert not any("__" in key for key in params)
    copy = clone(clf)
    assert copy.get_params() == params
    assert not hasattr(copy, "net_")


@needs_torch
def test_grid_search_with_recording_folds():
    X, y, groups = make_epochs(4, 40, seed=4)
    search = GridSearchCV(
        _cnn(max_epochs=2, validation_fraction=0.25),
        {"lr": [1e-3, 1e-2]},
        cv=GroupKFold(n_splits=2),
        scoring="balanced_accuracy",
    )
    with sklearn.config_context(enable_metadata_routing=True):
        search.fit(X, y, groups=groups)
    assert set(search.cv_results_["param_lr"]) == {1e-3, 1e-2}
    assert search.best_estimator_.validation_recordings_.size == 1
    assert search.predict(X[:5]).shape == (5,)


@needs_torch
def test_joblib_round_trip(fitted_lstm, test_data, tmp_path):
    X_test, _ = test_data
    path = tmp_path / "lstm.joblib"
    joblib.dump(fitted_lstm, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X_test), fitted_lstm.predict_proba(X_test))
    assert loaded.get_params() == fitted_lstm.get_params()



@needs_torch
@pytest.mark.parametrize("model", ["lstm", "cnn"])
def test_make_pipeline_neural_with_hmm_smoother(model, test_data, tmp_path):
    from sleepstage.models import ConvNetClassifier, HMMSmoother, LSTMClassifier
    from sleepstage.pipelines import make_staging_pipeline

    cls = LSTMClassifier if model == "lstm" else ConvNetClassifier
    fast = dict(max_epochs=12, batch_size=32, lr=5e-3 if model == "lstm" else 1e-2,
                patience=4, verbose=0, n_threads=1)
    if model == "lstm":
        fast["downsample"] = 2
    plain = make_staging_pipeline(model, smoothing=None, **fast)
    assert [name for name, _ in plain.steps] == ["classifier"]  # raw epochs, no feature step
    assert type(plain.named_steps["classifier"]) is cls
    pipe = make_staging_pipeline(model, **fast)
    assert [name for name, _ in pipe.steps] == ["classifier"]
    hmm = pipe.named_steps["classifier"]
    assert isinstance(hmm, HMMSmoother) and type(hmm.estimator) is cls
    assert hmm.estimator.get_params()["max_epochs"] == 12
    X, y, groups = make_epochs(5, 72, seed=5)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe.fit(X, y, groups=groups)
    hmm = pipe.named_steps["classifier"]
    # groups reached both the HMM (transitions within recordings) and the network
    # (a whole recording held out for early stopping)
    assert hmm.transition_counts_.sum() == len(y) - 5
    assert hmm.estimator_.validation_recordings_.size == 1
    X_test, y_test = test_data
    test_groups = np.repeat([0, 1], [75, 75])
    pred = pipe.predict(X_test, groups=test_groups)
    assert balanced_accuracy_score(y_test, pred) > 0.7
    proba = pipe.predict_proba(X_test, groups=test_groups)
    assert proba.shape == (len(X_test), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    path = tmp_path / f"{model}_hmm.joblib"
    joblib.dump(pipe, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict(X_test, groups=test_groups), pred)
    np.testing.assert_array_equal(loaded.predict_proba(X_test, groups=test_groups), proba)

@needs_torch
def test_sklearn_estimator_checks_that_need_no_data():
    from sklearn.utils.estimator_checks import (
        check_get_params_invariance,
        check_no_attributes_set_in_init,
        check_parameters_default_constructible,
    )

    from sleepstage.models import ConvNetClassifier, LSTMClassifier

    for cls in (LSTMClassifier, ConvNetClassifier):
        estimator = cls()
        check_parameters_default_constructible(cls.__name__, estimator)
        check_no_attributes_set_in_init(cls.__name__, estimator)
        check_get_params_invariance(cls.__name__, estimator)
        assert estimator.__sklearn_tags__().input_tags.three_d_array


@needs_torch
def test_verbose_prints_one_line_per_pass(train_data, capsys):
    X, y, groups = train_data
    _cnn(max_epochs=3, patience=10, verbose=0).fit(X, y, groups=groups)
    assert capsys.readouterr().out == ""
    _cnn(max_epochs=3, patience=10, verbose=1).fit(X, y, groups=groups)
    out = capsys.readouterr().out
    assert "valid_loss" in out
    assert sum(line.split()[0] in {"1", "2", "3"} for line in out.splitlines() if line.strip()) == 3


# -- without the neural extra -------------------------------------------------------------------
# A meta-path finder that refuses torch and skorch, as if the neural extra were not installed.
# (``sys.modules["torch"] = None`` is not enough: SciPy probes ``sys.modules["torch"].Tensor``.)
BLOCK_TORCH = """
import sys

class _NoTorch:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.split(".")[0] in ("torch", "skorch"):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, _NoTorch)
"""


def _run_without_torch(code: str) -> subprocess.CompletedProcess:
    blocker = BLOCK_TORCH
    return subprocess.run(
        [sys.executable, "-c", blocker + textwrap.dedent(code)],
        capture_output=True, text=True, timeout=120,
    )


def test_without_torch_import_works_and_constructing_names_the_extra():
    result = _run_without_torch(
        """
        import sleepstage, sleepstage.models
        from sleepstage.models import ConvNetClassifier, HMMSmoother, LSTMClassifier

        print("imported", "torch" in sys.modules)
        for cls in (LSTMClassifier, ConvNetClassifier):
            try:
                cls()
            except ImportError as exc:
                print(exc)
            else:
                print("no error")
        """
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "imported False"
    for name, line in zip(["LSTMClassifier", "ConvNetClassifier"], lines[1:], strict=True):
        assert line.startswith(f"{name} needs PyTorch and skorch: pip install 'sleepstage[neural]'")


@needs_torch
def test_import_sleepstage_does_not_import_torch():
    result = subprocess.run(
        [sys.executable, "-c",
         "import sys, sleepstage, sleepstage.models; print('torch' in sys.modules)"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
