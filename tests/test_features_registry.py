"""The registry of feature families: a family defined here is computed by EpochFeatures."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from sleepstage.features import (
    FAMILIES,
    FAMILY_NAMES,
    EpochFeatures,
    FeatureFamily,
    column_families,
    column_family_of,
    register_family,
    unregister_family,
)
from sleepstage.features._engine import AMPLITUDE_FLOOR, safe_log


class PeakToPeakFeatures(FeatureFamily):
    """``<ch>_ptp_log``: log of ``scale`` times the peak-to-peak amplitude of every channel."""

    column_families = ("amplitude",)
    statistics = ("variance",)  # declared only to exercise the shared pass

    def __init__(self, *, sfreq=128.0, ch_names=None, ch_types=None, epoch_length=None,
                 scale=1.0):
        super().__init__(sfreq=sfreq, ch_names=ch_names, ch_types=ch_types,
                         epoch_length=epoch_length)
        self.scale = scale

    @classmethod
    def column_family_of(cls, feature):
        return "amplitude" if feature == "ptp_log" else None

    def _feature_table(self, ch_names, ch_types):
        return [(ch, "ptp_log", "amplitude") for ch in ch_names]

    def _fill(self, batch, out):
        ptp = batch.x.max(axis=-1) - batch.x.min(axis=-1)
        out[:] = safe_log(self.scale * ptp.astype(np.float64), AMPLITUDE_FLOOR)


@pytest.fixture
def ptp_family():
    """``PeakToPeakFeatures`` registered as "ptp" for one test."""
    register_family("ptp")(PeakToPeakFeatures)
    yield "ptp"
    unregister_family("ptp")


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).standard_normal((9, 3, 512)).astype(np.float32)


def test_registered_family_is_computed_after_the_default_ones(ptp_family, X):
    spec = FAMILIES[ptp_family]
    assert spec.cls is PeakToPeakFeatures
    assert spec.parameters == ("scale",)
    assert spec.statistics == ("variance",)
    assert "amplitude" in column_families()
    assert column_family_of("ptp_log") == "amplitude"

    default = EpochFeatures().fit(X)
    feats = EpochFeatures(include=(*FAMILY_NAMES, ptp_family)).fit(X)
    names = feats.get_feature_names_out().tolist()
    n = len(default.get_feature_names_out())
    assert names[:n] == default.get_feature_names_out().tolist()
    assert names[n:] == ["eeg1_ptp_log", "eeg2_ptp_log", "emg_ptp_log"]
    assert feats.feature_families_[n:].tolist() == ["amplitude"] * 3
    out = feats.transform(X)
    np.testing.assert_array_equal(out[:, :n], default.transform(X))
    expected = np.log(np.ptp(X, axis=-1).astype(np.float64)).astype(np.float32)
    np.testing.assert_array_equal(out[:, n:], expected)


def test_per_family_parameters(ptp_family, X):
    feats = EpochFeatures(families={"hjorth": {}, ptp_family: {"scale": 2.0}}).fit(X)
    assert [name for name, _ in feats.transformers_] == ["hjorth", "ptp"]
    out = feats.transform(X)
    expected = np.log(2.0 * np.ptp(X, axis=-1).astype(np.float64)).astype(np.float32)
    np.testing.assert_array_equal(out[:, -3:], expected)
    params = clone(feats).get_params()
    assert params["families"] == {"hjorth": {}, "ptp": {"scale": 2.0}}


def test_families_equal_the_flat_parameters(X):
    flat = EpochFeatures(include=("spectral", "emg"), bands="human", window=1.0).fit(X)
    nested = EpochFeatures(window=1.0,
                           families={"spectral": {"bands": "human"}, "emg": None}).fit(X)
    assert nested.get_feature_names_out().tolist() == flat.get_feature_names_out().tolist()
    np.testing.assert_array_equal(nested.transform(X), flat.transform(X))
    # a flat parameter overridden for one family only
    own = EpochFeatures(families={"spectral": {"window": 1.0}, "emg": {}}).fit(X)
    spectral, emg = (family for _, family in own.transformers_)
    assert (spectral.window, emg.window) == (1.0, 2.0)


def test_bad_families_are_refused(X):
    with pytest.raises(ValueError, match=r"Invalid parameter\(s\) \['scale'\] .* 'spectral'"):
        EpochFeatures(families={"spectral": {"scale": 2}}).fit(X)
    with pytest.raises(ValueError, match=r"Invalid parameter.*layout"):
        EpochFeatures(families={"hjorth": {"sfreq": 256}}).fit(X)
    with pytest.raises(ValueError, match="'families' parameter"):
        EpochFeatures(families={"wavelets": {}}).fit(X)
    with pytest.raises(ValueError, match="'families' parameter is empty"):
        EpochFeatures(families={}).fit(X)
    with pytest.raises(ValueError, match="either in 'include' or as the keys of 'families'"):
        EpochFeatures(include=("time",), families={"hjorth": {}}).fit(X)
    with pytest.raises(TypeError, match="'families' parameter must be a dict"):
        EpochFeatures(families=["hjorth"]).fit(X)


def test_registry_rejects_a_clash_and_bad_declarations():
    with pytest.raises(ValueError, match="'spectral' is already registered by"):
        register_family("spectral")(PeakToPeakFeatures)
    assert FAMILIES["spectral"].cls.__name__ == "SpectralFeatures"

    class Unknown(PeakToPeakFeatures):
        statistics = ("median",)

    with pytest.raises(ValueError, match=r"unknown statistics \['median'\]"):
        register_family("unknown")(Unknown)

    class Nameless(PeakToPeakFeatures):
        column_families = ()

    with pytest.raises(ValueError, match="column families"):
        register_family("nameless")(Nameless)
    with pytest.raises(TypeError, match="FeatureFamily subclasses"):
        register_family("plain")(dict)
    with pytest.raises(ValueError, match="lower-case identifier"):
        register_family("Peak to peak")
    assert {"unknown", "nameless", "plain"}.isdisjoint(FAMILIES)
    with pytest.raises(KeyError, match="No feature family 'ptp'"):
        unregister_family("ptp")


def test_registry_describes_the_built_in_families(X):
    assert set(FAMILY_NAMES) <= set(FAMILIES)
    feats = EpochFeatures().fit(X)
    for name, family, channel in zip(feats.feature_names_out_, feats.feature_families_,
                                     feats.feature_channels_, strict=True):
        assert column_family_of(name[len(channel) + 1:]) == family, name
    assert set(feats.feature_families_) == set(column_families())
    assert column_family_of("delta_relpower__mean_c15") is None
