"""The bad-input catalogue: every way data can be wrong, each with a clear error or warning.

Decisions recorded here (and in the docstrings of the modules concerned):

- NaN / inf samples: ``ValueError`` naming the first bad epoch, channel and sample, from the
  feature extractors, the neural models, the artefact detector and the EDF reader alike.
  Nothing interpolates silently.
- A flat (zero-variance) channel is not an error: its features stay finite (log powers at
  the floor ``log(1e-30)``, ratios and shape features 0) and so do the probabilities. The
  artefact detector flags its epochs (``flat``); training drops them and warns when more
  than 25 % of a recording is flagged (``ValueError`` when every epoch is); ``sleepstage
  predict`` still stages them, marks them and warns about such a recording.
- Wrong number of columns for the declared layout, a sampling rate too low for the bands,
  ragged epochs, empty input, a single training class, a missing EDF channel, a hypnogram
  that misses its recording, a truncated EDF, a model file of another version and a
  truncated, corrupt or foreign model file: ``ValueError`` with a message naming the problem
  (``TypeError`` for non-numeric data); ``sleepstage`` commands turn them into one error line
  and exit status 1.
- A stage at evaluation time that the model never saw: ``staging_scores`` refuses labels
  that miss a stage; cross-validation and ``sleepstage predict`` warn, since the result is
  still meaningful (those epochs count as errors).
- A recording shorter than the context window: the windows shrink to the recording
  (documented by :class:`~sleepstage.features.TemporalContext`); the per-recording scaler
  warns below ``min_epochs``.
- No path returns NaN probabilities, and ``sleepstage predict`` writes all its outputs or
  none.
"""

from __future__ import annotations

import dataclasses
import datetime
import warnings

import joblib
import mne
import numpy as np
import pandas as pd
import pytest
from _estimator_registry import HAS_TORCH, TINY_NEURAL
from _model_files import doctored
from sklearn.base import BaseEstimator, ClassifierMixin

from sleepstage import report
from sleepstage.cli import main
from sleepstage.cli._predict import _warn_about_inputs
from sleepstage.data import make_synthetic, read_edf
from sleepstage.features import (
    EpochFeatures,
    RecordingScaler,
    SpectralFeatures,
    TemporalContext,
    detect_artefacts,
)
from sleepstage.io import load_model, save_model
from sleepstage.metrics import staging_scores
from sleepstage.models import HMMSmoother
from sleepstage.pipelines import (
    cross_validate_recordings,
    fit_with_groups,
    make_staging_pipeline,
    predict_with_groups,
)

FAST = {"n_estimators": 10, "num_leaves": 7, "n_jobs": 1}


@pytest.fixture(scope="module")
def data():
    """Two synthetic animals of 15 min (225 epochs each)."""
    return make_synthetic(n_recordings=2, hours=0.25, random_state=0)


@pytest.fixture(scope="module")
def fitted(data):
    """The default pipeline (features, scaler, context, LightGBM, HMM), tiny."""
    return fit_with_groups(make_staging_pipeline(**FAST), data.X, data.y, data.groups)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory, data, fitted):
    path = tmp_path_factory.mktemp("model") / "mice.joblib"
    save_model(fitted, path, data=data)
    return path


def with_value(X, value, index=(3, 1, 10)):
    X = X.copy()
    X[index] = value
    return X


def write_edf(path, signals, sfreq, ch_names, start=datetime.datetime(2020, 1, 1, 22, 0)):
    """A minimal EDF file (16-bit, 1-s records) MNE reads: enough for the error paths."""
    signals = np.asarray(signals, dtype=float)
    n_channels, n_times = signals.shape
    n_records, per_record = n_times // int(sfreq), int(sfreq)
    phys = np.abs(signals).max() or 1.0

    def field(value, width):
        return str(value).ljust(width)[:width].encode("ascii")

    header = b"".join([
        field(0, 8), field("X X X X", 80), field("Startdate X X X X", 80),
        field(start.strftime("%d.%m.%y"), 8), field(start.strftime("%H.%M.%S"), 8),
        field(256 * (n_channels + 1), 8), field("", 44), field(n_records, 8), field(1, 8),
        field(n_channels, 4),
        *[field(name, 16) for name in ch_names], *[field("", 80)] * n_channels,
        *[field("uV", 8)] * n_channels, *[field(f"{-phys:.3f}", 8)] * n_channels,
        *[field(f"{phys:.3f}", 8)] * n_channels, *[field(-32768, 8)] * n_channels,
        *[field(32767, 8)] * n_channels, *[field("", 80)] * n_channels,
        *[field(per_record, 8)] * n_channels, *[field("", 32)] * n_channels,
    ])
    digital = np.round(signals[:, : n_records * per_record] / phys * 32767).astype("<i2")
    records = digital.reshape(n_channels, n_records, per_record).transpose(1, 0, 2)
    path.write_bytes(header + records.tobytes())
    return path


@pytest.fixture(scope="module")
def edf(tmp_path_factory):
    """Two minutes of a 3-channel recording at 100 Hz."""
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("edf") / "tiny.edf"
    return write_edf(path, 50 * rng.standard_normal((3, 12_000)), 100,
                     ["EEG Fpz", "EEG Pz", "EMG chin"])


# -- NaN or inf samples ---------------------------------------------------------------------
@pytest.mark.parametrize(("value", "kind"), [(np.nan, "NaN"), (np.inf, "infinite"),
                                             (-np.inf, "infinite")])
def test_non_finite_samples(data, fitted, value, kind):
    X = with_value(data.X, value)
    match = rf"1 non-finite value\(s\); the first {kind} value is at index \(3, 1, 10\)"
    with pytest.raises(ValueError, match=match):
        EpochFeatures().fit_transform(X)
    with pytest.raises(ValueError, match=match):
        predict_with_groups(fitted, X, data.groups)
    with pytest.raises(ValueError, match=match):
        fit_with_groups(make_staging_pipeline(**FAST), X, data.y, data.groups)
    with pytest.raises(ValueError, match=match):
        detect_artefacts(X.reshape(len(X), -1))


def test_non_finite_features_reach_no_classifier():
    X = np.ones((10, 2))
    X[4, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        RecordingScaler(reference="recording").fit_transform(X)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        TemporalContext().fit_transform(X)


class NaNClassifier(ClassifierMixin, BaseEstimator):
    """A broken classifier whose probabilities are NaN."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), np.nan)


def test_hmm_refuses_nan_probabilities():
    X, y = np.zeros((6, 1)), np.array([1, 1, 2, 2, 1, 1])
    hmm = HMMSmoother(NaNClassifier()).fit(X, y)
    with pytest.raises(ValueError, match="predict_proba of the classifier returned NaN"):
        hmm.predict_proba(X)


# -- a flat channel -------------------------------------------------------------------------
def test_flat_channel_gives_finite_features_and_probabilities(data, fitted):
    X = data.X.copy()
    X[:, 2] = 0.0                                     # EMG lead off for the whole night
    features = EpochFeatures().fit_transform(X)
    assert np.isfinite(features).all()
    proba = predict_with_groups(fitted, X, data.groups, method="predict_proba")
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    flags = detect_artefacts(X, data.groups, **data.layout())
    assert flags["flat"].all() and flags["reasons"].str.contains("emg:flat").all()


def test_flat_channel_in_training(data):
    X = data.X.copy()
    X[:100, 2] = 0.0                                  # 100 of the 225 epochs of animal 0
    with pytest.warns(UserWarning, match=r"recording 'synthetic-0': 4\d%"):
        fit_with_groups(make_staging_pipeline(plain=True, **FAST), X, data.y, data.groups)
    X[:, 2] = 0.0
    with pytest.raises(ValueError, match="All 450 training epochs are flagged as artefacts"):
        fit_with_groups(make_staging_pipeline(plain=True, **FAST), X, data.y, data.groups)
    # the caller can still insist
    fit_with_groups(make_staging_pipeline(plain=True, **FAST), X, data.y, data.groups,
                    exclude_artefacts=False)


# -- the wrong layout -------------------------------------------------------------------------
def test_wrong_number_of_columns(data, fitted):
    flat = data.flat()
    with pytest.raises(ValueError, match=r"X has 1535 columns, which is not a multiple of "
                                         r"the 3 declared channels \(eeg1, eeg2, emg\)"):
        make_staging_pipeline().fit(flat[:, :-1], data.y)
    with pytest.raises(ValueError, match=r"X has 1535 features, but it is expecting 1536 "
                                         r"features as input: 1535 columns are not a multiple "
                                         r"of the 3 channels \(eeg1, eeg2, emg\)"):
        predict_with_groups(fitted, flat[:, :-1], data.groups)
    with pytest.raises(ValueError, match=r"X has 768 features, but it is expecting 1536 "
                                         r"features as input: each epoch has 256 samples per "
                                         r"channel, but 512 were expected"):
        predict_with_groups(fitted, data.X[:, :, :256].reshape(len(data.X), -1), data.groups)
    with pytest.raises(ValueError, match=r"Each epoch has 256 samples per channel, but 512 "
                                         r"were expected"):
        predict_with_groups(fitted, data.X[:, :, :256], data.groups)
    with pytest.raises(ValueError, match=r"X has 2 channels \(shape \(450, 2, 512\)\), but 3 "
                                         r"were declared"):
        predict_with_groups(fitted, data.X[:, :2], data.groups)
    with pytest.raises(ValueError, match="ch_names has 2 entries but ch_types has 3"):
        EpochFeatures(ch_names=["a", "b"], ch_types=["eeg", "eeg", "emg"]).fit(flat)


def test_sampling_rate_too_low_for_the_bands():
    X = np.random.default_rng(0).standard_normal((5, 3 * 200)).astype(np.float32)
    with pytest.raises(ValueError, match=r"Band 'gamma' \[30, 45\) Hz lies outside the "
                                         r"analysed range \[0.5, 25\) Hz \(sfreq=50 Hz"):
        SpectralFeatures(sfreq=50, bands={"delta": (0.5, 4), "gamma": (30, 45)}).fit(X)
    # a preset drops the bands above Nyquist (logged) and caps the others
    spectral = SpectralFeatures(sfreq=50, bands="rodent").fit(X)
    assert "gamma" not in spectral.bands_ and spectral.bands_["beta"] == (15.0, 25.0)
    with pytest.raises(ValueError, match=r"EMG high band \[20, 5\) Hz contains no frequency "
                                         r"bin at sfreq=10 Hz"):
        EpochFeatures(sfreq=10).fit(X)


def test_epochs_of_unequal_length():
    ragged = [np.zeros(1536, np.float32), np.zeros(1500, np.float32)]
    with pytest.raises(ValueError, match=r"same shape, but got a sequence of unequal lengths "
                                         r"\(\(1536,\), \(1500,\)\)"):
        EpochFeatures().fit(ragged)
    with pytest.raises(ValueError, match="sequence of unequal lengths"):
        EpochFeatures().fit(np.array(ragged, dtype=object))
    with pytest.raises(TypeError, match="Epochs must be numeric"):
        EpochFeatures().fit(np.full((2, 1536), "1.0"))


def test_empty_input(fitted):
    empty = np.empty((0, 1536), np.float32)
    with pytest.raises(ValueError, match=r"Found an empty array of shape \(0, 1536\)"):
        EpochFeatures().fit(empty)
    with pytest.raises(ValueError, match=r"Found an empty array of shape \(0, 1536\)"):
        fitted.predict(empty)
    with pytest.raises(ValueError, match=r"Found an empty array of shape \(0, 1536\)"):
        fit_with_groups(make_staging_pipeline(**FAST), empty, np.array([]))
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\)"):
        RecordingScaler(reference="recording").fit(np.empty((0, 4)))


def test_hmm_smoother_on_empty_training_data():
    with pytest.raises(ValueError, match=r"empty|0 sample"):
        HMMSmoother(NaNClassifier()).fit(np.empty((0, 2)), np.array([]))


# -- labels -----------------------------------------------------------------------------------
def test_single_class(data):
    one = np.full(data.n_epochs, "NREM")
    with pytest.raises(ValueError, match=r"at least 2 classes \(stages\), but the training "
                                         r"epochs hold only \['NREM'\]"):
        fit_with_groups(make_staging_pipeline(plain=True, **FAST), data.X, one, data.groups)
    with pytest.raises(ValueError, match=r"HMMSmoother needs at least 2 classes"):
        make_staging_pipeline(**FAST).fit(data.X, one)


def test_stage_never_seen_by_the_model(data):
    with pytest.raises(ValueError, match=r"Stage\(s\) \['N1'\] occur in y_true or y_pred but "
                                         r"not in labels \['WAKE', 'NREM', 'REM'\]"):
        staging_scores(["WAKE", "N1"], ["WAKE", "NREM"], labels=["WAKE", "NREM", "REM"])
    y = data.y.copy()
    y[(data.groups == "synthetic-1") & (y == "WAKE")] = "REM"   # only animal 1 has "REM"
    with pytest.warns(UserWarning) as caught:                  # ... and only animal 0 "WAKE"
        report = cross_validate_recordings(make_staging_pipeline(plain=True, **FAST),
                                           dataclasses.replace(data, y=y))
    messages = [str(w.message) for w in caught]
    for fold, stage in ((0, "WAKE"), (1, "REM")):
        expected = (f"Fold {fold}: stage(s) ['{stage}'] of the held-out epochs never occur in "
                    "the training epochs, so the model cannot predict them")
        assert any(m.startswith(expected) for m in messages), messages
        assert report.folds[fold]["f1"][stage] == 0.0


def test_predict_warns_about_unseen_scored_stages(data):
    scored = data.select(np.arange(20))
    scored.y = np.where(scored.y == "REM", "N1", scored.y)
    scored.y[0] = "N1"
    flags = detect_artefacts(scored.X, scored.groups, **scored.layout())
    with pytest.warns(UserWarning, match=r"Scored stage\(s\) \['N1'\] were never seen by the "
                                         r"model"):
        _warn_about_inputs(scored, ["NREM", "REM", "WAKE"], flags)


# -- recordings shorter than the context ----------------------------------------------------
def test_recording_shorter_than_the_context_window(data, fitted):
    X = np.arange(6.0)[:, None]
    out = TemporalContext(windows=(15,), past_windows=(15,)).fit_transform(
        X, groups=[0, 0, 0, 1, 1, 1])
    np.testing.assert_allclose(out[:, 1], [1, 1, 1, 4, 4, 4], atol=1e-12)  # whole recording
    np.testing.assert_allclose(out[:, 2], [0, 0.5, 1, 3, 3.5, 4], atol=1e-12)  # so far
    short = data.select(np.arange(5))
    proba = predict_with_groups(fitted, short.X, short.groups, method="predict_proba")
    assert np.isfinite(proba).all()
    # a scaling step (trained on recordings long enough) warns about the short one
    scaler = RecordingScaler(reference="recording", min_epochs=100)
    scaling = fit_with_groups(make_staging_pipeline(scaler=scaler, **FAST),
                              data.X, data.y, data.groups)
    with pytest.warns(UserWarning, match=r"fewer than min_epochs=100 epochs: "
                                         r"'synthetic-0' \(5 epochs\)"):
        proba = predict_with_groups(scaling, short.X, short.groups, method="predict_proba")
    assert np.isfinite(proba).all()


# -- EDF files --------------------------------------------------------------------------------
def test_tiny_edf_reads(edf):
    data = read_edf(edf, epoch_length=30)
    assert data.X.shape == (4, 3, 3000) and data.ch_types == ("eeg", "eeg", "emg")


def test_edf_without_the_requested_channels(edf):
    with pytest.raises(ValueError, match=r"Channel\(s\) \['EEG Cz'\] not found in tiny\.edf\. "
                                         r"Available channels: \['EEG Fpz', 'EEG Pz', "
                                         r"'EMG chin'\]"):
        read_edf(edf, channels={"EEG Fpz": "eeg", "EEG Cz": "eeg"})


def test_hypnogram_that_does_not_overlap_its_recording(edf, tmp_path):
    hypnogram = tmp_path / "late.txt"
    mne.Annotations([600.0, 630.0], [30.0, 30.0], ["Sleep stage W", "Sleep stage 2"]).save(
        hypnogram)
    with pytest.raises(ValueError, match=r"The hypnogram late\.txt \(scoring 600 to 660 s\) "
                                         r"does not overlap the recording tiny\.edf \(0 to "
                                         r"120 s\)"):
        read_edf(edf, hypnogram, epoch_length=30)


@pytest.mark.parametrize(("keep", "match"), [
    (20_000, r"The EDF file .*broken\.edf is truncated or corrupt"),
    (300, r"Could not read the EDF file .*broken\.edf \(corrupt or truncated\?\)"),
])
def test_truncated_or_corrupt_edf(edf, tmp_path, keep, match):
    broken = tmp_path / "broken.edf"
    broken.write_bytes(edf.read_bytes()[:keep])
    with pytest.raises(ValueError, match=match):
        read_edf(broken, epoch_length=30)


def test_predict_on_an_edf_without_the_model_channels(capsys, edf, model_file, tmp_path):
    status = main(["predict", str(model_file), "--edf", str(edf), "-o", str(tmp_path / "o")])
    errors = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert status == 1 and len(errors) == 1
    assert "channel(s) 'eeg1', 'eeg2', 'emg' needed by the model are missing" in errors[0]
    assert not (tmp_path / "o").exists()


# -- model files ------------------------------------------------------------------------------
def assert_predict_refuses(model, tmp_path, capsys):
    """``sleepstage predict`` with this model file: one error line, exit 1, no output."""
    status = main(["predict", str(model), "--synthetic", "1", "--hours", "0.05",
                   "-o", str(tmp_path / "out")])
    errors = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert status == 1 and len(errors) == 1 and "Nothing in it was loaded" in errors[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("change", "match"), [
    ({"metadata": {"sleepstage_version": "99.0.0"}},
     r"was written by sleepstage 99\.0\.0, which is incompatible with the installed"),
    ({"format_version": 99}, r"has model format version 99, but this sleepstage"),
    ({"format": "something-else"}, r"is not a sleepstage model file"),
])
def test_model_file_from_an_incompatible_version(capsys, model_file, tmp_path, change, match):
    old = doctored(model_file, tmp_path / "old.joblib", **change)
    with pytest.raises(ValueError, match=match):
        load_model(old)
    assert_predict_refuses(old, tmp_path, capsys)


@pytest.mark.parametrize(("damage", "match"), [
    ("truncated", r"is not a sleepstage model file: it is not a model container"),
    ("garbage", r"is not a sleepstage model file: it is not a model container"),
    ("bare-pipeline", r"is not a sleepstage model file: it is not a model container"),
])
def test_truncated_corrupt_or_foreign_model_file(capsys, model_file, fitted, tmp_path, damage,
                                                 match):
    broken = tmp_path / "broken.joblib"
    if damage == "truncated":
        raw = model_file.read_bytes()
        broken.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        broken.write_bytes(b"not a pickle")
    else:                                   # a fitted pipeline dumped without save_model
        joblib.dump(fitted, broken)
    with pytest.raises(ValueError, match=match):
        load_model(broken)
    assert_predict_refuses(broken, tmp_path, capsys)


# -- outputs ----------------------------------------------------------------------------------
def test_extreme_amplitudes_never_give_nan_probabilities(data, fitted):
    for gain in (1e-20, 1e-9, 1e9, 1e20):
        proba = predict_with_groups(fitted, data.X * np.float32(gain), data.groups,
                                    method="predict_proba")
        assert np.isfinite(proba).all(), gain
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    # beyond float32 powers: an error, not NaN features a classifier would take as missing
    plain = fit_with_groups(make_staging_pipeline(plain=True, **FAST), data.X, data.y, data.groups)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's overflow warnings
        with pytest.raises(ValueError, match=r"The features of 450 epoch\(s\) are not "
                                             r"finite .* Check the units of X"):
            plain.predict_proba(data.X * np.float32(1e30))


def test_predict_failing_midway_keeps_finished_recordings_only(capsys, model_file, tmp_path,
                                                                monkeypatch):
    """Each recording's outputs are all or none: a failure while writing the second one
    leaves none of its files, keeps the first one's, and is reported (exit 1)."""
    calls = []

    def broken_plot(*args, **kwargs):
        calls.append(kwargs["path"])
        if len(calls) == 2:
            raise OSError("disk full")
        return original(*args, **kwargs)

    original = report.hypnogram
    monkeypatch.setattr(report, "hypnogram", broken_plot)
    out = tmp_path / "scored"
    args = ["predict", str(model_file), "--synthetic", "2", "--hours", "0.05", "--plot",
            "--annotations", "-o", str(out)]
    first = sorted(f"synthetic-0_hypnogram.{ext}" for ext in ("csv", "edf", "png"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(args) == 1
    err = capsys.readouterr().err
    assert "disk full" in err and "recording synthetic-1" in err and "1 of 2" in err
    assert len(calls) == 2 and sorted(p.name for p in out.iterdir()) == first
    # into a folder with other files: they stay, nothing of the failed recording is added
    for path in out.iterdir():
        path.unlink()
    (out / "notes.txt").write_text("keep")
    calls.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(args) == 1
    assert sorted(p.name for p in out.iterdir()) == sorted(["notes.txt", *first])
    for name in first:
        (out / name).unlink()
    # and a run that succeeds writes every output, flagged epochs included
    monkeypatch.setattr(report, "hypnogram", original)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(args) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["notes.txt", *sorted(f"synthetic-{k}_hypnogram.{ext}" for k in (0, 1)
                                          for ext in ("csv", "edf", "png"))]
    table = pd.read_csv(out / "synthetic-0_hypnogram.csv")
    assert {"artefact", "artefact_reasons", "confidence"} <= set(table.columns)


@pytest.mark.neural
@pytest.mark.skipif(not HAS_TORCH, reason="needs the neural extra (torch, skorch)")
@pytest.mark.parametrize("model", ["LSTMClassifier", "ConvNetClassifier"])
def test_neural_models_refuse_bad_inputs_and_never_return_nan(monkeypatch, model):
    from sleepstage import models

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 3, 32)).astype(np.float32), np.repeat([1, 2, 3], 10)
    tiny = {**TINY_NEURAL, "n_channels": 3}
    if model == "LSTMClassifier":
        tiny.update(hidden_size=4, n_layers=1)
    cls = getattr(models, model)
    with pytest.raises(ValueError, match="requires y to be passed, but the target y is None"):
        cls(**tiny).fit(X, None)
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        cls(**tiny).fit(X, rng.standard_normal(30))
    with pytest.raises(ValueError, match=r"needs at least 2 classes in y, but got one class"):
        cls(**tiny).fit(X, np.ones(30))
    fitted = cls(**tiny).fit(X, y)
    for value, kind in ((np.nan, "NaN"), (np.inf, "infinite")):
        match = rf"1 non-finite value\(s\); the first {kind} value is at index \(3, 1, 10\)"
        with pytest.raises(ValueError, match=match):
            cls(**tiny).fit(with_value(X, value), y)
        with pytest.raises(ValueError, match=match):
            fitted.predict_proba(with_value(X, value))
    monkeypatch.setattr(fitted.net_, "predict_proba", lambda X: np.full((len(X), 3), np.nan))
    with pytest.raises(ValueError, match=r"non-finite probabilities for 30 epoch\(s\)"):
        fitted.predict(X)


def test_unscored_labels_are_neither_learnt_nor_scored(data):
    """Epochs kept as UNSCORED (``drop_unscored=False``) must be left out, not become a
    fourth stage of the model and of its scores."""
    y = data.y.astype(object).copy()
    y[10:20] = "UNSCORED"
    unscored = dataclasses.replace(data, y=y)
    with pytest.raises(ValueError, match=r"data.y holds 10 epoch\(s\) labelled 'UNSCORED'"):
        cross_validate_recordings(make_staging_pipeline(plain=True, **FAST), unscored)
    with pytest.raises(ValueError, match=r"y holds 10 epoch\(s\) labelled 'UNSCORED'"):
        fit_with_groups(make_staging_pipeline(**FAST), data.X, y, data.groups)
