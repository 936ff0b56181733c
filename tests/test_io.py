"""Atomic output writing and model files (sleepstage.io)."""

from __future__ import annotations

import json

import joblib
import numpy as np
import pandas as pd
import pytest
from _model_files import doctored
from lightgbm import LGBMClassifier
from sklearn.pipeline import Pipeline

import sleepstage.io as ssio
from sleepstage.data import EpochData
from sleepstage.features import EpochTransformer
from sleepstage.io import (
    TRUST_NOTICE,
    ModelFile,
    _model_file,
    atomic_write,
    check_writable,
    describe_training_data,
    load_model,
    save_figure,
    save_model,
    write_json,
    write_table,
    write_text,
)


class _ChannelMeans(EpochTransformer):
    """Smallest real raw-epoch transformer: mean and std of each channel."""

    def _feature_names(self, ch_names, ch_types):
        return [f"{c}_{s}" for c in ch_names for s in ("mean", "std")]

    def _compute(self, X):
        return np.stack([X.mean(-1), X.std(-1)], axis=-1).reshape(len(X), -1)


@pytest.fixture
def rng():
    return np.random.default_rng(42)


@pytest.fixture
def data(rng):
    n, sfreq, n_samples = 240, 32.0, 128
    y = np.array(["WAKE", "NREM", "REM"])[rng.integers(0, 3, n)]
    scale = np.select([y == "WAKE", y == "NREM", y == "REM"], [3.0, 1.0, 0.3])
    X = rng.normal(size=(n, 3, n_samples)) * scale[:, None, None]
    return EpochData(X, y, np.repeat(["a", "b"], n // 2), sfreq, ("eeg1", "eeg2", "emg"),
                     ("eeg", "eeg", "emg"), n_samples / sfreq)


@pytest.fixture
def fitted(data):
    pipe = Pipeline([
        ("features", _ChannelMeans(sfreq=data.sfreq)),
        ("classifier", LGBMClassifier(n_estimators=15, n_jobs=1, verbose=-1, random_state=0)),
    ])
    return pipe.fit(data.X, data.y)


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if ".tmp" in p.name)


# -- atomic writing -----------------------------------------------------------------------------
def test_atomic_write_creates_file_and_parents(tmp_path):
    out = tmp_path / "new" / "sub" / "report.txt"
    with atomic_write(out) as tmp:
        assert tmp.parent == out.parent
        assert tmp.suffix == ".txt"
        assert not out.exists()
        tmp.write_text("done")
    assert out.read_text() == "done"
    assert _leftovers(out.parent) == []


def test_atomic_write_refuses_existing_without_force(tmp_path):
    out = tmp_path / "a.csv"
    out.write_text("old")
    with pytest.raises(FileExistsError, match=r"already exist.*--force"):
        with atomic_write(out) as tmp:
            tmp.write_text("new")
    assert out.read_text() == "old"
    with atomic_write(out, force=True) as tmp:
        tmp.write_text("new")
    assert out.read_text() == "new"
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("existing", [False, True])
def test_atomic_write_leaves_nothing_on_error(tmp_path, existing):
    out = tmp_path / "model.joblib"
    if existing:
        out.write_text("keep me")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_write(out, force=True) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert _leftovers(tmp_path) == []
    assert out.exists() == existing
    if existing:
        assert out.read_text() == "keep me"


def test_atomic_write_rejects_folder(tmp_path):
    with pytest.raises(IsADirectoryError, match="folder"):
        with atomic_write(tmp_path, force=True):
            pass


def test_check_writable_names_every_existing_output(tmp_path):
    (tmp_path / "a.csv").write_text("x")
    (tmp_path / "b.json").write_text("x")
    with pytest.raises(FileExistsError, match=r"a\.csv.*b\.json"):
        check_writable([tmp_path / "a.csv", tmp_path / "b.json", tmp_path / "c.png"])
    check_writable([tmp_path / "a.csv"], force=True)
    check_writable([tmp_path / "c.png"])


def test_writers_round_trip(tmp_path):
    write_text(tmp_path / "t.txt", "héllo")
    assert (tmp_path / "t.txt").read_text(encoding="utf-8") == "héllo"

    write_json(tmp_path / "r.json", {"kappa": np.float32(0.5), "cm": np.eye(2, dtype=int),
                                      "nan": float("nan"), "path": tmp_path})
    loaded = json.loads((tmp_path / "r.json").read_text())
    assert loaded == {"kappa": 0.5, "cm": [[1, 0], [0, 1]], "nan": None, "path": str(tmp_path)}

    table = pd.DataFrame({"epoch": [0, 1], "stage": ["WAKE", "REM"]})
    write_table(table, tmp_path / "h.csv")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "h.csv"), table)
    write_table(table, tmp_path / "h.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "h.parquet"), table,
                                  check_dtype=False)
    with pytest.raises(FileExistsError):
        write_table(table, tmp_path / "h.csv")


def test_save_figure_writes_png(tmp_path):
    from matplotlib.figure import Figure

    fig = Figure()
    fig.subplots().plot([0, 1], [1, 0])
    out = save_figure(fig, tmp_path / "fig.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(FileExistsError):
        save_figure(fig, out)
    assert _leftovers(tmp_path) == []


# -- model files --------------------------------------------------------------------------------
def test_describe_training_data():
    summary = describe_training_data(["WAKE", "NREM", "NREM", "REM"], [1, 1, 2, 2])
    assert summary == {"n_epochs": 4, "n_recordings": 2,
                       "class_counts": {"NREM": 2, "REM": 1, "WAKE": 1}}


def test_save_load_round_trip(tmp_path, data, fitted):
    path = save_model(fitted, tmp_path / "m.joblib", data=data, metadata={"note": "unit test"})
    model = load_model(path, trust_pickle=True)  # a test-module estimator: pickled
    assert isinstance(model, ModelFile)
    assert model.serializer == "pickle"
    np.testing.assert_array_equal(model.pipeline.predict(data.X), fitted.predict(data.X))
    np.testing.assert_array_equal(model.pipeline.predict_proba(data.X),
                                  fitted.predict_proba(data.X))
    meta = model.metadata
    assert meta["note"] == "unit test"
    assert model.sfreq == 32.0 and model.epoch_length == 4.0
    assert model.ch_names == ["eeg1", "eeg2", "emg"]
    assert model.ch_types == ["eeg", "eeg", "emg"]
    assert model.classes == ["NREM", "REM", "WAKE"]
    assert meta["feature_names"][:2] == ["eeg1_mean", "eeg1_std"]
    assert len(meta["feature_names"]) == 6
    counts = dict(zip(*np.unique(data.y, return_counts=True), strict=True))
    assert meta["training_data"]["n_epochs"] == data.n_epochs
    assert meta["training_data"]["n_recordings"] == 2
    assert meta["training_data"]["class_counts"] == {k: int(v) for k, v in counts.items()}
    for lib in ("sleepstage", "numpy", "scipy", "sklearn", "lightgbm", "mne"):
        assert meta["versions"][lib]
    assert "LGBMClassifier" in meta["params"]["repr"]
    assert meta["params"]["params"]["classifier__n_estimators"] == 15
    assert meta["created"].endswith("+00:00")
    json.dumps(meta)  # metadata is plain JSON


def test_layout_read_from_fitted_extractor(tmp_path, fitted):
    model = load_model(save_model(fitted, tmp_path / "m.joblib"), trust_pickle=True)
    assert model.sfreq == 32.0
    assert model.epoch_length == 4.0
    assert model.ch_names == ["eeg1", "eeg2", "emg"]
    assert model.metadata["training_data"]["n_epochs"] is None


def test_save_model_does_not_overwrite(tmp_path, fitted):
    path = save_model(fitted, tmp_path / "m.joblib")
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="already exist"):
        save_model(fitted, path)
    assert path.read_bytes() == before
    save_model(fitted, path, force=True)


def test_load_model_rejects_foreign_files(tmp_path):
    joblib.dump({"pipeline": None}, tmp_path / "other.joblib")
    with pytest.raises(ValueError, match=r"not a sleepstage model file.*Nothing in it was "):
        load_model(tmp_path / "other.joblib", trust_pickle=True)
    (tmp_path / "text.joblib").write_text("epoch,stage\n0,WAKE\n")
    with pytest.raises(ValueError, match=r"not a sleepstage model file: it is not a model "
                                         r"container"):
        load_model(tmp_path / "text.joblib")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_model(tmp_path / "missing.joblib")


def test_load_model_checks_format_version(tmp_path, fitted):
    save_model(fitted, tmp_path / "m.joblib")
    doctored(tmp_path / "m.joblib", tmp_path / "future.joblib",
             format_version=ssio.MODEL_FORMAT_VERSION + 1)
    with pytest.raises(ValueError, match=r"format version 3.*Upgrade sleepstage"):
        load_model(tmp_path / "future.joblib", trust_pickle=True)


def test_load_model_checks_package_version(tmp_path, fitted, monkeypatch):
    major, minor = (int(v) for v in _model_file.__version__.split(".")[:2])
    monkeypatch.setattr(_model_file, "__version__", f"{major + 1}.0.0")
    save_model(fitted, tmp_path / "major.joblib")
    monkeypatch.setattr(_model_file, "__version__", f"{major}.{minor + 1}.0")
    save_model(fitted, tmp_path / "minor.joblib")
    monkeypatch.undo()
    with pytest.raises(ValueError, match=r"different major version.*Nothing in it was loaded"):
        load_model(tmp_path / "major.joblib", trust_pickle=True)
    with pytest.warns(UserWarning, match=r"newer sleepstage"):
        model = load_model(tmp_path / "minor.joblib", trust_pickle=True)
    assert model.pipeline is not None


def test_trust_notice_is_documented():
    assert "trust" in TRUST_NOTICE
    assert "pickle" in load_model.__doc__ and "trust" in load_model.__doc__
