"""Artefact detector: each criterion, per-recording statistics, false positives, integration."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from sleepstage.data import make_synthetic
from sleepstage.features import (
    ARTEFACT_CONFIDENCE_FACTOR,
    ArtefactDetector,
    EpochFeatures,
    detect_artefacts,
    flag_confidence,
)
from sleepstage.pipelines import fit_with_groups
from sleepstage.pipelines._fitting import _raw_layout

SFREQ = 128.0


@pytest.fixture(scope="module")
def clean():
    """Two synthetic animals, 1 h each, without the generator's movement artefacts."""
    return make_synthetic(n_recordings=2, hours=1, random_state=0, artefact_rate=0.0)


def noise(n_epochs=120, n_channels=3, n_samples=512, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n_epochs, n_channels, n_samples)).astype(np.float32)


def test_clean_synthetic_recordings_have_few_false_positives(clean):
    flags = detect_artefacts(clean.X, clean.groups, **clean.layout())
    assert list(flags.columns) == ["clipping", "flat", "amplitude", "artefact", "reasons"]
    assert len(flags) == clean.n_epochs
    assert flags["artefact"].mean() < 0.01
    assert (flags["reasons"] == "").sum() == (~flags["artefact"]).sum()


def test_each_kind_is_flagged_on_the_right_channel():
    X = noise()
    X[5, 0, 100:140] = X[:, 0].max()       # 40 samples (0.31 s) stuck at the maximum
    X[6, 1, 200:240] = X[:, 1].min()       # ... and at the minimum
    X[7, 2, :200] = 0.25                   # EMG flat for 1.6 s
    X[8, 1, 250:300] += 60.0               # a step far above the usual peaks
    X[9, 1, :] *= 1e-4                     # almost flat but not constant
    flags = detect_artefacts(X, ch_names=("eeg1", "eeg2", "emg"))
    assert flags.index[flags.artefact].tolist() == [5, 6, 7, 8, 9]
    assert flags.reasons[5:10].tolist() == ["eeg1:clipping", "eeg2:clipping", "emg:flat",
                                            "eeg2:amplitude", "eeg2:flat"]
    assert flags.loc[5, "clipping"] and not flags.loc[5, "flat"]
    assert flags.loc[8, "amplitude"] and not flags.loc[8, "clipping"]


def test_short_runs_at_the_extreme_are_not_clipping():
    X = noise()
    X[5, 0, 100:103] = X[:, 0].max()       # 3 samples = 0.023 s < clip_duration
    assert not detect_artefacts(X).artefact.any()
    assert detect_artefacts(X, clip_duration=0.02).loc[5, "clipping"]


def test_emg_amplitude_is_physiology_not_artefact():
    X = noise()
    X[60:, 2] *= 30.0                      # half the recording awake with 30x the EMG
    X[10, 2, 100:140] *= 1000.0
    assert not detect_artefacts(X).artefact.any()
    flags = detect_artefacts(X, amplitude_types=("emg",))
    assert flags.reasons[10] == "emg:amplitude"


def test_statistics_are_per_recording():
    X = noise(n_epochs=200)
    groups = np.repeat(["quiet", "loud"], [180, 20])
    X[180:] *= 50.0                        # a second animal with 50 times the gain
    per_recording = detect_artefacts(X, groups)
    assert not per_recording.artefact.any()
    unscaled = np.concatenate([X[:180], X[180:] / 50.0])
    assert per_recording.equals(detect_artefacts(unscaled, groups))
    as_one = detect_artefacts(X)           # without groups: one recording whose loud
    assert as_one.artefact[180:].all()     # tenth looks like artefacts
    assert not as_one.artefact[:180].any()


def test_gain_and_offset_do_not_change_flags(clean):
    X = clean.X.copy()
    X[10, 0, 50:300] = X[clean.groups == clean.groups[10], 0].max()
    reference = detect_artefacts(X, clean.groups, **clean.layout())
    scaled = detect_artefacts(X * 1e3 + 5e-3, clean.groups, **clean.layout())
    assert reference.loc[10, "clipping"]
    assert reference.drop(columns="reasons").equals(scaled.drop(columns="reasons"))


def test_transform_matches_detect_and_names():
    X = noise()
    X[3, 2, :300] = 0.0
    detector = ArtefactDetector()
    out = detector.fit_transform(X.reshape(len(X), -1))
    assert out.dtype == np.float32 and out.shape == (len(X), 4)
    assert detector.get_feature_names_out().tolist() == [
        "artefact_clipping", "artefact_flat", "artefact_amplitude", "artefact"]
    table = detector.detect(X)
    np.testing.assert_array_equal(out, table.iloc[:, :4].to_numpy(np.float32))
    assert detector.flat_samples_ == 128 and detector.clip_samples_ == 6


def test_windows_shrink_to_short_epochs():
    X = noise(n_samples=40)                # 40 samples: shorter than the 1-s flat window
    X[2, 0] = 1.0
    detector = ArtefactDetector(sfreq=SFREQ).fit(X)
    assert detector.flat_samples_ == 40
    assert detector.detect(X).reasons[2] == "eeg1:flat"


@pytest.mark.parametrize(("params", "error", "match"), [
    ({"clip_tolerance": 1.5}, ValueError, "'clip_tolerance' parameter must lie in"),
    ({"flat_ratio": -0.1}, ValueError, "'flat_ratio' parameter must be a finite number"),
    ({"amplitude_factor": 1.0}, ValueError, "'amplitude_factor' parameter must be > 1"),
    ({"amplitude_percentile": 101}, ValueError, r"lie in \(0, 100\]"),
    ({"amplitude_types": ("ecg",)}, ValueError, "Invalid value for the 'amplitude_types'"),
    ({"clip_duration": "long"}, TypeError, "'clip_duration' parameter must be a number"),
    ({"batch_size": 0}, ValueError, "'batch_size' parameter must be a positive integer"),
    ({"sfreq": 0}, ValueError, "'sfreq' parameter must be a finite number > 0"),
])
def test_parameter_errors(params, error, match):
    with pytest.raises(error, match=match):
        ArtefactDetector(**params).fit(noise(n_epochs=4))


def test_input_errors():
    with pytest.raises(ValueError, match="not a multiple of the 3 declared channels"):
        detect_artefacts(np.zeros((5, 100)))
    X = noise(n_epochs=5)
    X[2, 1, 7] = np.nan
    with pytest.raises(ValueError, match="first NaN value is at index"):
        detect_artefacts(X)
    with pytest.raises(ValueError, match="groups has 3 entries but X has 5 epochs"):
        detect_artefacts(noise(n_epochs=5), groups=[0, 0, 1])
    detector = ArtefactDetector().fit(noise(n_samples=512))
    with pytest.raises(ValueError, match="but 512 were expected"):
        detector.detect(noise(n_samples=256))


def test_batches_do_not_change_the_result(clean):
    full = ArtefactDetector(**clean.layout()).fit(clean.X).transform(clean.X, clean.groups)
    small = ArtefactDetector(**clean.layout(), batch_size=7).fit(clean.X)
    np.testing.assert_array_equal(small.transform(clean.X, clean.groups), full)


def test_clone_and_pickle():
    X = noise()
    X[4, 0, :200] = 0.0
    detector = ArtefactDetector(flat_ratio=0.05).fit(X)
    restored = pickle.loads(pickle.dumps(detector))
    assert restored.detect(X).equals(detector.detect(X))
    assert clone(detector).get_params() == detector.get_params()


def test_flag_confidence():
    lowered = flag_confidence([0.9, 0.6, 1.0], [False, True, True])
    np.testing.assert_allclose(lowered, [0.9, 0.6 * ARTEFACT_CONFIDENCE_FACTOR,
                                         ARTEFACT_CONFIDENCE_FACTOR])
    with pytest.raises(ValueError, match="one flag per epoch"):
        flag_confidence([0.9, 0.6], [True])
    with pytest.raises(ValueError, match=r"'factor' parameter must lie in \(0, 1\]"):
        flag_confidence([0.9], [True], factor=2.0)


# -- training integration ---------------------------------------------------------------------
class Spy(LogisticRegression):
    """Records the rows it was fitted on."""

    def fit(self, X, y, sample_weight=None):
        self.seen_ = np.asarray(X).copy()
        return super().fit(X.reshape(len(X), -1)[:, :8], y)


def test_fit_with_groups_excludes_flagged_epochs(clean):
    X, y, groups = clean.X.copy(), clean.y, clean.groups
    X[[3, 500, 1000], 2, :300] = 0.0
    spy = fit_with_groups(Spy(), X, y, groups, layout=clean.layout())
    assert len(spy.seen_) == len(X) - 3
    keep = np.ones(len(X), bool)
    keep[[3, 500, 1000]] = False
    np.testing.assert_array_equal(spy.seen_, X[keep])
    assert len(fit_with_groups(Spy(), X, y, groups, exclude_artefacts=False,
                               layout=clean.layout()).seen_) == len(X)
    # without a layout (e.g. a feature matrix for a bare classifier) nothing is dropped
    assert len(fit_with_groups(Spy(), X, y, groups).seen_) == len(X)


def test_layout_read_from_the_features_step():
    from sleepstage.pipelines import make_staging_pipeline

    pipe = make_staging_pipeline(sfreq=100.0, ch_names=("a", "b"), ch_types=("eeg", "emg"))
    assert _raw_layout(pipe, None) == {"sfreq": 100.0, "ch_names": ("a", "b"),
                                       "ch_types": ("eeg", "emg")}
    assert _raw_layout(LogisticRegression(), None) is None


def test_fit_with_groups_when_everything_is_flagged():
    X = noise(n_epochs=20)
    X[:, 2] = 0.0                          # a dead EMG channel
    with pytest.raises(ValueError, match="All 20 training epochs are flagged as artefacts"):
        fit_with_groups(Spy(), X, np.tile([1, 2], 10), layout={"sfreq": SFREQ})


def test_fit_with_groups_warns_about_a_bad_recording():
    X = noise(n_epochs=40)
    X[20:32, 2, :200] = 0.0                # 12 of the 20 epochs of recording "b"
    groups = np.repeat(["a", "b"], 20)
    with pytest.warns(UserWarning, match=r"recording 'b': 60%"):
        spy = fit_with_groups(Spy(), X, np.tile([1, 2], 20), groups, layout={"sfreq": SFREQ})
    assert len(spy.seen_) == 28


def test_features_of_flagged_epochs_stay_finite(clean):
    X = clean.X[:50].copy()
    X[5, 2] = 0.0                          # dead EMG
    X[6, 0] = np.clip(X[6, 0] * 50, -1e-4, 1e-4)
    features = EpochFeatures().fit_transform(X)
    assert np.isfinite(features).all()


def test_old_module_path_warns_and_reexports():
    """``sleepstage.artefacts`` is an alias of the names now in ``sleepstage.features``."""
    import importlib
    import sys

    import sleepstage.features as features

    sys.modules.pop("sleepstage.artefacts", None)
    with pytest.warns(FutureWarning, match=r"import .* from sleepstage\.features"):
        alias = importlib.import_module("sleepstage.artefacts")
    for name in alias.__all__:
        assert getattr(alias, name) is getattr(features, name)
