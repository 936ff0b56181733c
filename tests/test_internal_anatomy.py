"""Pipeline anatomy (sleepstage._internal.anatomy): one reading of how a pipeline is built."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from sleepstage._internal import anatomy
from sleepstage.features import EpochFeatures
from sleepstage.models import HMMSmoother


@pytest.fixture(scope="module")
def epochs():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2, 256)).astype(np.float32)
    y = np.repeat(["WAKE", "NREM", "REM"], 20)
    return X, y


def _pipeline():
    return Pipeline([
        ("features", EpochFeatures(sfreq=128.0, ch_names=("eeg", "emg"),
                                   ch_types=("eeg", "emg"))),
        ("skip", "passthrough"),
        ("scaler", StandardScaler()),
        ("classifier", HMMSmoother(LogisticRegression(max_iter=200))),
    ])


def test_steps_final_and_wrapped_estimator(epochs):
    pipe = _pipeline().fit(*epochs)
    transformers, final = anatomy.split_pipeline(pipe)
    assert [type(t).__name__ for t in transformers] == ["EpochFeatures", "StandardScaler"]
    assert final is pipe.named_steps["classifier"]
    assert isinstance(anatomy.inner_estimator(final), LogisticRegression)
    assert anatomy.active_steps(pipe) == [*transformers, final]
    assert list(anatomy.fitted_parts(pipe))[-1] is final.estimator_
    bare = LogisticRegression()
    assert anatomy.split_pipeline(bare) == ([], bare)
    assert anatomy.active_steps(bare) == [bare] and anatomy.inner_estimator(bare) is bare


def test_layout_fitted_and_declared(epochs):
    pipe = _pipeline()
    assert anatomy.raw_epoch_step(pipe) is None and anatomy.fitted_layout(pipe) == {}
    assert anatomy.declared_layout(pipe) == {"sfreq": 128.0, "ch_names": ("eeg", "emg"),
                                             "ch_types": ("eeg", "emg")}
    pipe.fit(*epochs)
    assert anatomy.raw_epoch_step(pipe) is pipe.named_steps["features"]
    assert anatomy.fitted_layout(pipe) == {"sfreq": 128.0, "ch_names": ["eeg", "emg"],
                                           "ch_types": ["eeg", "emg"], "epoch_length": 2.0}
    assert anatomy.input_shape(pipe) == (2, 256)
    # no "features" step declaring the layout: nothing is declared
    plain = Pipeline([("scale", FunctionTransformer()), ("clf", LogisticRegression())])
    assert anatomy.declared_layout(plain) is None
    assert anatomy.declared_layout(LogisticRegression()) is None


def test_feature_names(epochs):
    pipe = _pipeline().fit(*epochs)
    names = anatomy.feature_names_out(pipe)
    assert names == [str(n) for n in pipe[:-1].get_feature_names_out()]
    assert anatomy.feature_names_out(LogisticRegression()) is None
    only_classifier = Pipeline([("skip", "passthrough"), ("clf", LogisticRegression())])
    assert anatomy.feature_names_out(only_classifier) is None


def test_feature_names_from_input_features():
    # a pipeline on a feature table: names follow the given columns, as text
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(30, 3)), np.repeat(["WAKE", "NREM", "REM"], 10)
    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(X, y)
    columns = ["delta", "theta", 7]
    assert anatomy.feature_names_out(pipe, columns) == ["delta", "theta", "7"]
    assert anatomy.feature_names_out(pipe) == ["x0", "x1", "x2"]
    # no transformer: the classifier sees the input columns themselves
    only_classifier = Pipeline([("skip", "passthrough"), ("clf", LogisticRegression())])
    assert anatomy.feature_names_out(only_classifier, columns) == ["delta", "theta", "7"]
    assert anatomy.feature_names_out(LogisticRegression(), columns) == ["delta", "theta", "7"]
