"""``sleepstage.pipelines.predict_rows``: context rows scored a block at a time.

The blockwise path must give the same stages and probabilities, bit for bit, as the whole
pipeline (``predict_and_proba``, ``predict`` and ``predict_proba``), for blocks of one epoch,
of a few epochs and larger than the input, on several recordings; the classifier runs once
per prediction.
"""

from __future__ import annotations

import numpy as np
import pytest

from sleepstage._internal.routing import predict_and_proba, predict_with_groups
from sleepstage.data import make_synthetic
from sleepstage.features import EpochFeatures, RecordingScaler
from sleepstage.models import _hmm
from sleepstage.pipelines import fit_with_groups, make_staging_pipeline, predict_rows


@pytest.fixture(scope="module")
def fitted():
    """A fitted feature-matrix pipeline (scaler, context, LightGBM + HMM), two new mice."""
    train = make_synthetic(n_recordings=2, hours=1.0, random_state=0)
    features = EpochFeatures(**train.layout(), n_jobs=1)
    model = make_staging_pipeline(features=False, epoch_length=train.epoch_length,
                                  scaler=RecordingScaler(min_epochs=50), n_estimators=20,
                                  num_leaves=7, n_jobs=1, random_state=0)
    fit_with_groups(model, features.fit_transform(train.flat()), train.y, train.groups)
    new = make_synthetic(n_recordings=2, hours=0.5, random_state=5)
    return model, features.transform(new.flat()), np.asarray(new.groups)


def _whole(model, X, groups):
    return (predict_with_groups(model, X, groups),
            predict_with_groups(model, X, groups, method="predict_proba"))


@pytest.mark.parametrize("block", [7, 450, 100_000])
def test_blockwise_equals_the_whole_pipeline_bit_for_bit(fitted, block):
    model, X, groups = fitted
    assert len(np.unique(groups)) == 2
    pred, proba = predict_rows(model, X, groups, block=block)
    whole_pred, whole_proba = _whole(model, X, groups)
    np.testing.assert_array_equal(pred, whole_pred)
    np.testing.assert_array_equal(proba, whole_proba)
    both = predict_and_proba(model, X, groups)
    np.testing.assert_array_equal(both[0], pred)
    np.testing.assert_array_equal(both[1], proba)


def test_blocks_of_one_epoch(fitted):
    model, X, groups = fitted
    keep = np.r_[0:80, np.flatnonzero(groups == groups[-1])[:80]]  # two short recordings
    pred, proba = predict_rows(model, X[keep], groups[keep], block=1)
    whole_pred, whole_proba = _whole(model, X[keep], groups[keep])
    np.testing.assert_array_equal(pred, whole_pred)
    np.testing.assert_array_equal(proba, whole_proba)


def test_classifier_runs_once(fitted, monkeypatch):
    model, X, groups = fitted
    classifier = model[-1].estimator_
    calls = []

    def counting(Xt):
        calls.append(len(Xt))
        return type(classifier).predict_proba(classifier, Xt)

    monkeypatch.setattr(classifier, "predict_proba", counting, raising=False)
    predict_and_proba(model, X, groups)
    assert calls == [len(X)]
    calls.clear()
    predict_rows(model, X, groups, block=1000)
    assert calls == [1000] * (len(X) // 1000) + [len(X) % 1000]


def test_hmm_predict_and_proba_and_row_blocks(fitted, monkeypatch):
    model, X, groups = fitted
    hmm, Xt = model[-1], predict_with_groups(model[:-1], X, groups, method="transform")
    pred, proba = hmm.predict_and_proba(Xt, groups)
    np.testing.assert_array_equal(pred, hmm.predict(Xt, groups))
    np.testing.assert_array_equal(proba, hmm.predict_proba(Xt, groups))
    monkeypatch.setattr(_hmm, "_PROBA_ROWS", 7)  # the classifier scored 7 rows at a time
    blocked = hmm.predict_and_proba(Xt, groups)
    np.testing.assert_array_equal(blocked[0], pred)
    np.testing.assert_array_equal(blocked[1], proba)


def test_other_pipelines_fall_back_to_the_whole_path(fitted):
    _, X, groups = fitted
    no_context = make_staging_pipeline(features=False, plain=True,  # no context, no HMM
                                       n_estimators=5, n_jobs=1, random_state=0)
    fit_with_groups(no_context, X, np.tile(["WAKE", "NREM", "REM"], len(X))[:len(X)], groups)
    pred, proba = predict_rows(no_context, X, groups)
    np.testing.assert_array_equal(pred, no_context.predict(X))
    np.testing.assert_array_equal(proba, no_context.predict_proba(X))
