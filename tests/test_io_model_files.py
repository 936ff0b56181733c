"""Model files: checked before anything is loaded, metadata from the fitted pipeline, and no
model file from a failed fit."""

from __future__ import annotations

import dataclasses
import pickle
import warnings

import joblib
import numpy as np
import pytest
from _cli_runner import run_main
from _model_files import doctored, read_container, write_container
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline

from sleepstage.data import make_synthetic
from sleepstage.io import MODEL_FORMAT, load_model, read_model_header, save_model
from sleepstage.pipelines import fit_with_groups, make_staging_pipeline, predict_with_groups

FAST = {"n_estimators": 10, "num_leaves": 7, "n_jobs": 1}
SYNTH = ["--synthetic", "1", "--hours", "0.05"]


@pytest.fixture(scope="module")
def data():
    """Two synthetic animals of 15 min."""
    return make_synthetic(n_recordings=2, hours=0.25, random_state=0)


@pytest.fixture(scope="module")
def fitted(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the scaler on 15-min recordings
        return fit_with_groups(make_staging_pipeline(**data.layout(), **FAST), data.X, data.y,
                               data.groups)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory, data, fitted):
    path = tmp_path_factory.mktemp("model") / "mice.joblib"
    save_model(fitted, path, data=data)
    return path


# -- malicious files are refused unread -----------------------------------------------------------
class _WritesFile:
    """Unpickling this object creates the file ``target`` (what an attacker's code could do)."""

    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return (open, (self.target, "w"))


class _Unvetted(ClassifierMixin, BaseEstimator):
    """A classifier from outside sleepstage: fine to run, not vouched for by the loader."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))

    def predict(self, X):
        return self.classes_[np.zeros(len(X), dtype=int)]


def _malicious(kind, model_file, folder):
    """A file posing as a model whose loading (by unpickling) would create ``marker``."""
    marker = folder / "pwned"
    evil = pickle.dumps(_WritesFile(marker))
    path = folder / f"{kind}.joblib"
    if kind == "raw-pickle":
        path.write_bytes(evil)
    elif kind == "old-format-dict":  # the format of sleepstage's model files before the container
        joblib.dump({"format": MODEL_FORMAT, "format_version": 1, "pipeline": _WritesFile(marker),
                     "metadata": {"sleepstage_version": "0.1.0"}}, path)
    elif kind == "container-wrong-hash":
        doctored(model_file, path, payload=evil, rehash=False,
                 payload_record={"serializer": "pickle"})
    elif kind == "container-bad-metadata":
        doctored(model_file, path, payload=evil, format="not-a-model",
                 payload_record={"serializer": "pickle"})
    elif kind == "container-pickle-untrusted":  # consistent in every way, but a pickle
        doctored(model_file, path, payload=evil, payload_record={"serializer": "pickle"})
    elif kind == "container-pickle-as-skops":
        doctored(model_file, path, payload=evil)
    return path, marker


MALICIOUS = ["raw-pickle", "old-format-dict", "container-wrong-hash", "container-bad-metadata",
             "container-pickle-untrusted", "container-pickle-as-skops"]


@pytest.mark.parametrize("kind", MALICIOUS)
def test_malicious_file_is_refused_unread(model_file, tmp_path, kind):
    path, marker = _malicious(kind, model_file, tmp_path)
    trust = kind != "container-pickle-untrusted"  # even with the opt-in, checks come first
    with pytest.raises(ValueError, match="Nothing in it was loaded"):
        load_model(path, trust_pickle=trust)
    assert not marker.exists()


def test_the_malicious_payload_really_runs_code(model_file, tmp_path):
    """Positive control: the opt-in does unpickle, so the refusals above are what protects."""
    path, marker = _malicious("container-pickle-untrusted", model_file, tmp_path)
    with pytest.raises(ValueError):  # the file is created before the pickle turns out bad
        load_model(path, trust_pickle=True)
    assert marker.exists()


@pytest.mark.parametrize("kind", ["raw-pickle", "container-pickle-untrusted"])
@pytest.mark.parametrize("command", [
    ["predict", "{model}", *SYNTH, "-o", "{out}"],
    ["evaluate", "--model", "{model}", "--synthetic", "2", "--hours", "0.05", "-o", "{out}.json"],
    ["importances", "{model}", "-o", "{out}"],
])
def test_commands_refuse_malicious_files(capsys, model_file, tmp_path, kind, command):
    path, marker = _malicious(kind, model_file, tmp_path)
    args = [a.format(model=path, out=tmp_path / "out") for a in command]
    status, _, err = run_main(capsys, *args)
    assert not marker.exists()  # no code from the file ran
    assert status == 1, err
    assert "Nothing in it was loaded" in err and "Traceback" not in err
    assert not list(tmp_path.glob("out*"))


def test_skops_payload_with_unvetted_types_is_refused(data, tmp_path):
    import skops.io as sio

    pipe = Pipeline([("classifier", _Unvetted())]).fit(data.X.reshape(data.n_epochs, -1), data.y)
    good = save_model(pipe, tmp_path / "m.joblib", data=data)
    assert read_model_header(good)["payload"]["serializer"] == "pickle"  # not vouched for
    smuggled = doctored(good, tmp_path / "smuggled.joblib", payload=sio.dumps(pipe),
                        payload_record={"serializer": "skops"})
    with pytest.raises(ValueError, match=r"holds types sleepstage does not trust: "
                                         r"test_io_model_files\._Unvetted"):
        load_model(smuggled, trust_pickle=True)
    assert load_model(good, trust_pickle=True).serializer == "pickle"


def test_header_is_read_without_the_payload(model_file):
    header = read_model_header(model_file)
    assert header["format"] == MODEL_FORMAT
    assert header["payload"]["serializer"] == "skops"
    assert len(header["payload"]["sha256"]) == 64
    assert header["metadata"]["ch_names"] == ["eeg1", "eeg2", "emg"]


# -- a good model round-trips ---------------------------------------------------------------------
def test_default_pipeline_round_trips_without_pickle(model_file, data, fitted):
    model = load_model(model_file)  # no trust_pickle needed: stored with skops
    assert model.serializer == "skops"
    for method in ("predict", "predict_proba"):
        np.testing.assert_array_equal(
            predict_with_groups(model.pipeline, data.X, data.groups, method=method),
            predict_with_groups(fitted, data.X, data.groups, method=method))
    assert model.ch_names == ["eeg1", "eeg2", "emg"] and model.sfreq == 128.0
    assert model.epoch_length == 4.0 and model.classes == list(fitted.classes_)


def test_a_plain_pipeline_loads_as_a_staging_pipeline(data, fitted, tmp_path):
    """Files written before StagingPipeline hold a scikit-learn Pipeline: it comes back
    routing groups to every step, as the package's pipelines do now."""
    from sleepstage.pipelines import StagingPipeline

    plain = Pipeline(fitted.steps)
    path = save_model(plain, tmp_path / "plain.joblib", data=data)
    loaded = load_model(path).pipeline
    assert type(loaded) is StagingPipeline
    np.testing.assert_array_equal(
        loaded.predict_proba(data.X, groups=data.groups),  # routing off
        predict_with_groups(fitted, data.X, data.groups, method="predict_proba"))


def test_metadata_that_disagree_with_the_pipeline_are_refused_at_load(model_file, tmp_path):
    swapped = doctored(model_file, tmp_path / "swapped.joblib",
                       metadata={"ch_names": ["eeg2", "eeg1", "emg"]})
    with pytest.raises(ValueError, match=r"inconsistent.*channel names"):
        load_model(swapped)


# -- item: the metadata come from the fitted pipeline ---------------------------------------------
@pytest.mark.parametrize(("change", "match"), [
    ({"ch_names": ("eeg2", "eeg1", "emg")},
     r"channel names \(in order\): \['eeg2', 'eeg1', 'emg'\] in data, "
     r"\['eeg1', 'eeg2', 'emg'\] in the fitted pipeline"),
    ({"sfreq": 256.0, "epoch_length": 2.0},  # the same 512 samples per epoch
     r"sampling rate \(Hz\): 256\.0 in data, 128\.0 in the fitted pipeline; "
     r"epoch length \(s\): 2\.0 in data, 4\.0 in the fitted pipeline"),
])
def test_save_model_refuses_data_that_disagree(data, fitted, tmp_path, change, match):
    other = dataclasses.replace(data, **change)
    with pytest.raises(ValueError, match=match):
        save_model(fitted, tmp_path / "m.joblib", data=other)
    assert not (tmp_path / "m.joblib").exists()


def test_save_model_refuses_metadata_overrides_that_disagree(data, fitted, tmp_path):
    with pytest.raises(ValueError, match=r"epoch length \(s\): 30 in metadata, 4\.0 in the"):
        save_model(fitted, tmp_path / "m.joblib", metadata={"epoch_length": 30})
    path = save_model(fitted, tmp_path / "m.joblib", data=data,
                      metadata={"epoch_length": 4.0, "note": "agreeing keys are fine"})
    assert load_model(path).metadata["note"] == "agreeing keys are fine"


# -- item: no model file from an unfinished pipeline ----------------------------------------------
def test_save_model_refuses_unfitted_and_incomplete_pipelines(data, tmp_path):
    with pytest.raises(NotFittedError, match="not fitted"):
        save_model(make_staging_pipeline(**data.layout()), tmp_path / "unfitted.joblib")
    headless = Pipeline([("features", make_staging_pipeline(**data.layout())[0]),
                         ("classifier", None)]).fit(data.X[:200], data.y[:200])
    with pytest.raises(ValueError, match=r"final step \(the classifier\) is None"):
        save_model(headless, tmp_path / "headless.joblib")
    assert list(tmp_path.iterdir()) == []


def test_failed_fit_leaves_no_model_file(capsys, tmp_path):
    out = tmp_path / "m.joblib"
    status, stdout, err = run_main(capsys, "fit", *SYNTH, "--set", "classifier=null",
                                   "-o", out)
    assert status != 0
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert "Saved model" not in stdout + err and "Model written" not in stdout + err


def test_fit_reports_the_model_file_once(capsys, tmp_path):
    out = tmp_path / "m.joblib"
    status, stdout, err = run_main(capsys, "fit", *SYNTH, "--set", "n_estimators=5", "-o", out)
    assert status == 0, err
    assert (stdout + err).count(str(out)) == 1
    assert "Saved model" not in err and f"Model written to {out}" in stdout
    header, _ = read_container(out)
    assert header["metadata"]["pipeline_name"] == "lgbm"


def test_container_helper_round_trips(model_file, tmp_path):
    header, payload = read_container(model_file)
    copy = write_container(tmp_path / "copy.joblib", header, payload)
    assert load_model(copy).serializer == "skops"
