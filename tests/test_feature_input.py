"""make_staging_pipeline(features=False): the default pipeline on a per-epoch feature matrix."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.model_selection import GroupKFold, cross_val_score

from sleepstage.data import make_synthetic
from sleepstage.features import EpochFeatures, RecordingScaler
from sleepstage.parallel import StagingScorer
from sleepstage.pipelines import make_staging_pipeline

FAST = {"n_estimators": 20}


@pytest.fixture(scope="module")
def features():
    data = make_synthetic(n_recordings=3, hours=3.2, random_state=3)
    X = EpochFeatures(**data.layout()).fit_transform(data.X)
    names = EpochFeatures(**data.layout()).fit(data.X[:2]).get_feature_names_out()
    return pd.DataFrame(X, columns=names), np.asarray(data.y), np.asarray(data.groups)


def test_no_feature_step_and_same_steps_after_it():
    raw = make_staging_pipeline()
    table = make_staging_pipeline(features=False, epoch_length=30.0)
    assert [name for name, _ in raw.steps] == ["features", "scaler", "context", "classifier"]
    assert [name for name, _ in table.steps] == ["scaler", "context", "classifier"]
    # time scales follow the epoch length: 360 epochs of 30 s are 3 h; 60 s are 2 epochs
    assert table.named_steps["scaler"].min_epochs == 360
    assert table.named_steps["context"].epoch_length == 30.0


def test_fits_a_feature_table_with_groups_routed(features):
    X, y, groups = features
    pipe = make_staging_pipeline(features=False, **FAST)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe.fit(X, y, groups=groups)
        pred = pipe.predict(X, groups=groups)
        scores = cross_val_score(make_staging_pipeline(features=False, **FAST), X, y,
                                 cv=GroupKFold(3), params={"groups": groups},
                                 scoring=StagingScorer("balanced_accuracy"))
    assert (pred == y).mean() > 0.9
    assert scores.min() > 0.85
    names = pipe[:-1].get_feature_names_out()
    assert names[0] == X.columns[0] and any(name.endswith("__mean_c60s") for name in names)


def test_short_input_at_predict_time_keeps_the_training_reference(features):
    """The plain scikit-learn way: fit on long data, predict a short stretch without groups."""
    X, y, groups = features
    long_enough = groups != groups[-1]
    pipe = make_staging_pipeline(features=False, **FAST).fit(X[long_enough], y[long_enough])
    scaler = pipe.named_steps["scaler"]
    short = X[~long_enough].iloc[:300]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = scaler.transform(short)
    assert sum("keep the training reference" in str(w.message) for w in caught) == 1
    np.testing.assert_array_equal(out, short.to_numpy(np.float32))


def test_neural_models_need_raw_epochs():
    with pytest.raises(ValueError, match="reads raw epochs"):
        make_staging_pipeline("cnn", features=False)


def test_the_old_per_recording_scaling_stays_reachable():
    pipe = make_staging_pipeline(features=False,
                         scaler=RecordingScaler(reference="recording", min_epochs=10))
    assert pipe.named_steps["scaler"].reference == "recording"
