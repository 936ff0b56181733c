"""scikit-learn's estimator checks over every public estimator (settings and expected failures
in ``tests/_estimator_registry.py``), and what the checks blocked by a minimum epoch length
would have tested, on epochs long enough."""

from __future__ import annotations

import pickle
import re

import joblib
import numpy as np
import pytest
from _estimator_registry import (
    EPOCH_MINIMUM,
    EXPECTED_FAILED_CHECKS,
    HAS_TORCH,
    estimators,
    expected_failed_checks,
)
from sklearn.base import clone, is_classifier
from sklearn.exceptions import DataConversionWarning, NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.utils import get_tags
from sklearn.utils._testing import create_memmap_backed_data
from sklearn.utils.estimator_checks import estimator_checks_generator, parametrize_with_checks

import sleepstage.features
import sleepstage.models

ESTIMATORS = estimators()


# strict: a listed check that starts passing fails the suite, so the list stays honest
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks,
                         xfail_strict=True)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_registry_covers_every_public_estimator():
    public = {name for name in sleepstage.features.__all__
              if isinstance(getattr(sleepstage.features, name), type)
              and hasattr(getattr(sleepstage.features, name), "fit")}
    public -= {"EpochTransformer", "FeatureFamily", "PSDFeatureFamily"}  # abstract bases
    public |= {"HMMSmoother", "ArtefactDetector"}
    if HAS_TORCH:
        public |= {name for name in sleepstage.models.__all__ if name != "HMMSmoother"}
    registered = {type(est).__name__ for est in ESTIMATORS}
    assert public <= registered


def test_each_configuration_is_registered_once():
    """The registry is the only run of the checks; a configuration listed twice runs twice."""
    configurations = [(class_name(est), joblib.hash(est.get_params())) for est in ESTIMATORS]
    assert len(set(configurations)) == len(configurations)


def test_every_expected_failure_has_a_reason():
    for name, checks in EXPECTED_FAILED_CHECKS.items():
        assert checks, name
        for check, reason in checks.items():
            assert check.startswith("check_") and len(reason) > 40, (name, check)


def check_name(check) -> str:
    return getattr(check, "func", check).__name__


def test_expected_failures_name_real_checks():
    for estimator in ESTIMATORS:
        names = {check_name(check) for _, check in estimator_checks_generator(estimator)}
        unknown = set(expected_failed_checks(estimator)) - names
        assert not unknown, (type(estimator).__name__, unknown)


# -- estimators with a minimum epoch length ---------------------------------------------------
def class_name(estimator) -> str:
    return type(estimator).__name__


SHORT = [est for est in ESTIMATORS if class_name(est) in EPOCH_MINIMUM]


def marks(estimator) -> list:
    """The ``neural`` marker for the neural baselines."""
    neural = class_name(estimator) in {"LSTMClassifier", "ConvNetClassifier"}
    return [pytest.mark.neural] if neural else []


def causes(exc: BaseException):
    """The exception and those it was raised from (a check may wrap the estimator's error)."""
    while exc is not None:
        yield exc
        exc = exc.__cause__ or exc.__context__


@pytest.mark.parametrize("estimator", [pytest.param(est, id=class_name(est), marks=marks(est))
                                       for est in SHORT])
def test_checks_blocked_by_the_epoch_length_fail_for_that_reason_only(estimator):
    minimum = EPOCH_MINIMUM[class_name(estimator)]
    ran = set()
    for est, check in estimator_checks_generator(estimator, mark=None):
        if check_name(check) not in minimum.checks:
            continue
        with pytest.raises(Exception) as info:
            check(est)
        messages = [str(exc) for exc in causes(info.value) if isinstance(exc, ValueError)]
        assert any(re.search(minimum.error, message) for message in messages), (
            check_name(check), info.value)
        ran.add(check_name(check))
    assert ran == set(minimum.checks)


def output(estimator, X):
    """What the estimator gives for ``X``: features, or class probabilities."""
    if is_classifier(estimator):
        return estimator.predict_proba(X)
    return estimator.transform(X)


def fitted_output(estimator, X, y):
    fitted = clone(estimator).fit(X, y)
    return fitted, output(fitted, X)


# Each contract stands for the checks named in its docstring.
def contract_fit_returns_self_and_leaves_parameters(estimator, X, y):
    """check_estimators_fit_returns_self, check_dont_overwrite_parameters,
    check_estimators_overwrite_params, check_fit_check_is_fitted, check_n_features_in."""
    est = clone(estimator)
    if get_tags(est).requires_fit:
        with pytest.raises(NotFittedError):
            output(est, X)
    params, attributes = joblib.hash(est.get_params()), set(vars(est))
    assert est.fit(X, y) is est
    assert joblib.hash(est.get_params()) == params
    added = set(vars(est)) - attributes
    assert all(name.endswith("_") or name.startswith("_") for name in added), added
    assert est.n_features_in_ == X.shape[1]


def contract_output_leaves_the_estimator_unchanged(estimator, X, y):
    """check_dict_unchanged."""
    est = clone(estimator).fit(X, y)
    before = dict(vars(est))
    output(est, X)
    if is_classifier(est):
        est.predict(X)
    assert vars(est) == before


def contract_same_output_for_every_input_kind(estimator, X, y):
    """check_estimators_dtypes, check_dtype_object, check_transformer_preserve_dtypes,
    check_*_data_not_an_array, check_f_contiguous_array_estimator,
    check_readonly_memmap_input, check_transformer_general."""
    _, reference = fitted_output(estimator, X, y)
    kinds = {"float32": X.astype(np.float32), "float64": X, "Fortran": np.asfortranarray(X),
             "list": X.tolist(), "object": X.astype(object),
             "read-only memmap": create_memmap_backed_data(X)}
    for kind, data in kinds.items():
        fitted = clone(estimator).fit(data, y)
        np.testing.assert_allclose(output(fitted, data), reference, rtol=1e-5, atol=1e-6,
                                   err_msg=kind)
    integers = np.round(X * 10).astype(np.int64)
    assert np.isfinite(output(clone(estimator).fit(integers, y), integers)).all()


def contract_output_per_epoch(estimator, X, y):
    """check_methods_sample_order_invariance, check_methods_subset_invariance."""
    fitted, reference = fitted_output(estimator, X, y)
    order = np.random.default_rng(1).permutation(len(X))
    np.testing.assert_allclose(output(fitted, X[order]), reference[order], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(output(fitted, X[:7]), reference[:7], rtol=1e-5, atol=1e-7)


def contract_refit_pickle_and_pipeline_give_the_same_output(estimator, X, y):
    """check_fit_idempotent, check_estimators_pickle, check_pipeline_consistency,
    check_fit_score_takes_y."""
    fitted, reference = fitted_output(estimator, X, y)
    np.testing.assert_array_equal(output(fitted.fit(X, y), X), reference)
    np.testing.assert_array_equal(output(pickle.loads(pickle.dumps(fitted)), X), reference)
    np.testing.assert_array_equal(output(make_pipeline(clone(estimator)).fit(X, y), X),
                                  reference)


def contract_bad_input_raises(estimator, X, y):
    """check_estimators_nan_inf, check_fit2d_predict1d, check_n_features_in_after_fitting."""
    fitted = clone(estimator).fit(X, y)
    with pytest.raises(ValueError, match=rf"X has {X.shape[1] - 1} features, but it is "
                                         rf"expecting {X.shape[1]} features"):
        output(fitted, X[:, :-1])
    with pytest.raises(ValueError, match=r"Epochs must be 2-D .* but got an array of shape"):
        output(fitted, X[0])
    for value in (np.nan, np.inf):
        bad = X.copy()
        bad[3, 5] = value
        with pytest.raises(ValueError, match=r"X contains 1 non-finite value\(s\)"):
            clone(estimator).fit(bad, y)
        with pytest.raises(ValueError, match=r"X contains 1 non-finite value\(s\)"):
            output(fitted, bad)


def contract_classifier_labels(estimator, X, y):
    """check_classifiers_classes, check_supervised_y_2d, check_classifiers_train (shapes)."""
    labels = np.array(["REM", "NREM", "WAKE"])[y]
    fitted = clone(estimator).fit(X, labels)
    assert fitted.classes_.tolist() == ["NREM", "REM", "WAKE"]
    assert set(fitted.predict(X)) <= set(labels)
    assert fitted.predict_proba(X).shape == (len(X), 3)
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        clone(estimator).fit(X, labels[:, None])


CONTRACTS = [contract_fit_returns_self_and_leaves_parameters,
             contract_output_leaves_the_estimator_unchanged,
             contract_same_output_for_every_input_kind, contract_output_per_epoch,
             contract_refit_pickle_and_pipeline_give_the_same_output, contract_bad_input_raises,
             contract_classifier_labels]


@pytest.mark.parametrize(
    ("estimator", "contract"),
    [pytest.param(est, contract, id=f"{class_name(est)}-{contract.__name__}", marks=marks(est))
     for est in SHORT for contract in CONTRACTS
     if is_classifier(est) or contract is not contract_classifier_labels],
)
def test_blocked_checks_hold_on_long_enough_epochs(estimator, contract):
    n_samples = EPOCH_MINIMUM[class_name(estimator)].samples + 8   # one channel
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 12)
    X = rng.standard_normal((len(y), n_samples)) + y[:, None]
    contract(estimator, X, y)
