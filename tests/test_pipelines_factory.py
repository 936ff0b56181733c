"""LightGBM presets of make_classifier / make_staging_pipeline: "fast" (default) and "2026-11"."""

from __future__ import annotations

import pytest

from sleepstage.data import make_synthetic
from sleepstage.pipelines import cross_validate_recordings, make_classifier, make_staging_pipeline
from sleepstage.pipelines._factory import LGBM_PRESETS

#: The LightGBM settings of the default pipeline before the "fast" preset.
OLD_SETTINGS = dict(n_estimators=150, learning_rate=0.1, num_leaves=31, min_child_samples=20,
                    subsample=0.8, subsample_freq=1, colsample_bytree=0.8,
                    class_weight="balanced", random_state=0, verbose=-1)


def _set_params(estimator) -> dict:
    """The parameters set on a LightGBM estimator (its extra keyword arguments included)."""
    return {key: value for key, value in estimator.get_params().items()
            if key in OLD_SETTINGS or key in LGBM_PRESETS["fast"] or key == "max_bin"}


def test_old_preset_gives_the_old_estimator_parameters():
    params = make_classifier(preset="2026-11").get_params()
    assert {key: params[key] for key in OLD_SETTINGS} == OLD_SETTINGS
    assert "max_bin" not in params  # LightGBM's own 255 bins


def test_fast_preset_is_the_default():
    params = _set_params(make_classifier())
    assert params == _set_params(make_classifier(preset="fast"))
    assert params["max_bin"] == 63
    assert params["colsample_bytree"] == params["subsample"] == 0.5
    assert params["class_weight"] == "balanced"


def test_pipeline_preset_reaches_the_classifier_and_params_override_it():
    old = make_staging_pipeline(preset="2026-11").named_steps["classifier"].estimator
    assert _set_params(old) == _set_params(make_classifier(preset="2026-11"))
    new = make_staging_pipeline(n_estimators=7).named_steps["classifier"].estimator
    assert new.get_params()["n_estimators"] == 7
    assert new.get_params()["max_bin"] == 63
    plain = make_staging_pipeline(plain=True, preset="2026-11").named_steps["classifier"]
    assert plain.get_params()["colsample_bytree"] == 0.8


def test_preset_sets_the_scaler_first_pass():
    import numpy as np

    from sleepstage.features import FIRST_PASS_PARAMS, RecordingScaler

    old = make_staging_pipeline(preset="2026-11").named_steps["scaler"].estimator
    params = old.get_params()
    assert (params["n_estimators"], params["class_weight"]) == (60, "balanced")
    assert "max_bin" not in params and params["subsample"] == 1.0  # every epoch, 255 bins
    assert make_staging_pipeline().named_steps["scaler"].estimator is None  # the default
    assert FIRST_PASS_PARAMS["max_bin"] == 63 and FIRST_PASS_PARAMS["subsample"] == 0.5
    with pytest.raises(TypeError):
        FIRST_PASS_PARAMS["max_bin"] = 255  # read-only
    rng = np.random.default_rng(0)
    y = np.repeat(["WAKE", "NREM", "REM"], 100)
    X = rng.normal(size=(300, 4)) + (y == "NREM")[:, None]
    fitted = RecordingScaler(min_epochs=10).fit(X, y).estimator_.get_params()
    assert {k: fitted[k] for k in FIRST_PASS_PARAMS} == dict(FIRST_PASS_PARAMS)
    given = RecordingScaler(min_epochs=10)
    assert make_staging_pipeline(scaler=given, preset="2026-11").named_steps["scaler"] is given


def test_unknown_preset_is_refused_by_name():
    with pytest.raises(ValueError, match=r"'preset'.*'fast', '2026-11'.*'2025'"):
        make_staging_pipeline(preset="2025")
    with pytest.raises(ValueError, match="'preset'"):
        make_classifier(preset="slow")


@pytest.mark.slow
def test_fast_default_scores_the_synthetic_mice_as_the_old_preset():
    data = make_synthetic(n_recordings=3, hours=2, random_state=0)
    scores = {}
    for preset in ("2026-11", "fast"):
        report = cross_validate_recordings(make_staging_pipeline(preset=preset, **data.layout()),
                                           data, cv="recording")
        scores[preset] = report.overall
    assert scores["fast"]["balanced_accuracy"] >= 0.97
    assert abs(scores["fast"]["balanced_accuracy"]
               - scores["2026-11"]["balanced_accuracy"]) <= 0.01
    true_rate = scores["fast"]["transitions_per_hour_true"]
    assert abs(scores["fast"]["transitions_per_hour_pred"] - true_rate) <= 0.25 * true_rate
