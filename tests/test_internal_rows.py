"""``sleepstage._internal.rows.rowwise``: a row-wise function scored a block at a time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lightgbm import LGBMClassifier

from sleepstage._internal.rows import SCORE_ROWS, num_samples_or_none, rowwise


@pytest.fixture(scope="module")
def classifier():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4)).astype(np.float32)
    y = (X[:, 0] + 0.5 * rng.normal(size=300) > 0).astype(int)
    return LGBMClassifier(n_estimators=10, num_leaves=7, verbose=-1, n_jobs=1).fit(X, y), X


@pytest.mark.parametrize("rows", [1, 7, 299, 300, 10**6])
def test_blocks_equal_the_whole_input_bit_for_bit(classifier, rows):
    model, X = classifier
    for method in (model.predict, model.predict_proba):
        np.testing.assert_array_equal(rowwise(method, X, rows), method(X))
    frame = pd.DataFrame(X, columns=list("abcd"))
    on_frame = LGBMClassifier(n_estimators=10, num_leaves=7, verbose=-1, n_jobs=1).fit(
        frame, model.predict(X))
    np.testing.assert_array_equal(rowwise(on_frame.predict_proba, frame, rows),
                                  on_frame.predict_proba(frame))


def test_blocks_are_consecutive_and_bounded():
    seen = []

    def func(block):
        seen.append(block.copy())
        return block[:, 0]

    X = np.arange(20.0)[:, None]
    np.testing.assert_array_equal(rowwise(func, X, 6), np.arange(20.0))
    assert [len(block) for block in seen] == [6, 6, 6, 2]
    seen.clear()
    rowwise(func, X)  # default: SCORE_ROWS, so one call
    assert len(seen) == 1 and SCORE_ROWS >= 20


def test_inputs_without_rows_are_passed_whole():
    assert num_samples_or_none(object()) is None
    assert num_samples_or_none([[1, 2], [3, 4], [5, 6]]) == 3
    assert rowwise(lambda value: [len(str(value))], object(), 1).shape == (1,)
