"""The neural baselines learn with their default settings, on small data too.

Trained on 2 h of one synthetic mouse, the CNN once predicted a single stage for every seed
(balanced accuracy 0.333 on another mouse): early stopping watched the last 20 % of the one
recording, whose stage mix is skewed, and kept the first pass. The validation split now
takes stratified blocks of time, and a warning says when the first pass is kept.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import balanced_accuracy_score

from sleepstage.data import make_synthetic

pytest.importorskip("torch")
pytest.importorskip("skorch")
pytestmark = pytest.mark.neural


@pytest.fixture(scope="module")
def two_hours():
    """2 h of mouse 0 for training, 2 h of mouse 1 for testing."""
    train = make_synthetic(n_recordings=1, hours=2, random_state=0)
    both = make_synthetic(n_recordings=2, hours=2, random_state=0)
    other = both.groups == np.unique(both.groups)[1]
    return train, both.X[other], both.y[other]


# -- validation split -------------------------------------------------------------------------
def _blocks(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.flatnonzero(np.diff(np.r_[0, mask.astype(int), 0]))
    return list(zip(edges[::2], edges[1::2], strict=True))


def test_validation_blocks_hold_every_stage_and_are_not_the_tail(two_hours):
    from sleepstage.models._torch import validation_mask

    train, _, _ = two_hours
    y = np.asarray(train.y)
    for seed in range(5):
        valid, held = validation_mask(len(y), None, 0.2, np.random.RandomState(seed), y)
        assert held.size == 0
        assert set(y[valid]) == set(y[~valid]) == set(y)
        assert abs(valid.mean() - 0.2) < 0.03
        blocks = _blocks(valid)
        assert len(blocks) >= 2  # several stretches of time, not one tail
        assert min(stop - start for start, stop in blocks) >= len(y) // 25  # contiguous
        # the class mix of the validation epochs follows the whole recording's
        for stage in set(y):
            assert abs(np.mean(y[valid] == stage) - np.mean(y == stage)) < 0.1


def test_validation_recordings_are_stratified_too():
    from sleepstage.models._torch import validation_mask

    # 5 recordings; only recording "c" holds stage 3 besides the others
    groups = np.repeat(list("abcde"), 20)
    y = np.tile(np.repeat([1, 2], 10), 5)
    y[groups == "c"] = np.repeat([1, 2, 3, 3], 5)
    y[groups == "e"] = np.repeat([1, 2, 3, 3], 5)
    valid, held = validation_mask(100, groups, 0.2, np.random.RandomState(0), y)
    assert held.size == 1 and held[0] in ("c", "e")  # stage 3 on both sides
    np.testing.assert_array_equal(valid, groups == held[0])


def test_warning_when_early_stopping_keeps_the_first_pass():
    from sleepstage.models import ConvNetClassifier

    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3, 64)).astype("float32")
    y = np.tile(np.repeat([1, 2], 10), 10)  # noise: nothing to learn
    # a learning rate so large that every pass after the first makes the network worse
    clf = ConvNetClassifier(max_epochs=4, patience=2, lr=5.0, optimizer="sgd",
                            random_state=0, verbose=0, n_threads=1)
    with pytest.warns(ConvergenceWarning, match="kept the weights of the first training"):
        clf.fit(X, y)
    assert clf.n_iter_ > 1


# -- learning on 2 h of one animal --------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize(("model", "settings"), [
    ("cnn", {}),    # every default, max_epochs=30 with early stopping
    ("lstm", {}),   # every default: 30 passes, ~35 s of one CPU (balanced accuracy 0.886)
])
def test_defaults_learn_on_two_hours_of_one_animal(two_hours, model, settings):
    from sleepstage.models import ConvNetClassifier, LSTMClassifier

    train, X_other, y_other = two_hours
    cls = ConvNetClassifier if model == "cnn" else LSTMClassifier
    clf = cls(random_state=0, verbose=0, n_threads=1, **settings)
    clf.fit(train.X, train.y)
    pred = clf.predict(X_other)
    assert len(set(pred)) == 3, f"{model} predicts only {sorted(set(pred))}"
    score = balanced_accuracy_score(y_other, pred)
    assert score > 0.6, f"{model}: balanced accuracy {score:.3f} on another animal"
