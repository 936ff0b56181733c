"""Data sources on the command line and their defaults: data folder, ids, option values."""

from __future__ import annotations

import pytest
from _cli_runner import run_main
from mne.datasets.sleep_physionet import age

from sleepstage.data import get_data_dir, load_sleep_edf, mne_data_dir


# -- item 17: where Sleep-EDF is looked for ---------------------------------------------------
@pytest.fixture
def no_data_dir_env(monkeypatch, tmp_path):
    """No SLEEPSTAGE_DATA_DIR; MNE's Sleep-EDF folder is an empty temporary folder."""
    monkeypatch.delenv("SLEEPSTAGE_DATA_DIR", raising=False)
    monkeypatch.delenv("MNE_DATA", raising=False)
    mne_folder = tmp_path / "mne_data"
    monkeypatch.setenv("PHYSIONET_SLEEP_PATH", str(mne_folder))
    return mne_folder


@pytest.fixture
def offline(monkeypatch):
    """A fetcher that records its ``path`` and fails as without network (never downloads)."""
    calls = []

    def fetch_data(**kwargs):
        calls.append(kwargs["path"])
        raise OSError("network is unreachable")

    monkeypatch.setattr(age, "fetch_data", fetch_data)
    return calls


def test_default_data_dir_is_mne_s_not_the_working_directory(no_data_dir_env, tmp_path,
                                                             monkeypatch, offline):
    # a ../shared/data next to the working directory is not a place the package looks
    (tmp_path / "shared" / "data" / "physionet-sleep-data").mkdir(parents=True)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert get_data_dir() == mne_data_dir() == no_data_dir_env
    with pytest.raises(ValueError, match="not in"):
        load_sleep_edf()
    assert offline == [str(no_data_dir_env)]


def test_environment_variable_overrides_mne(no_data_dir_env, tmp_path, monkeypatch, offline):
    monkeypatch.setenv("SLEEPSTAGE_DATA_DIR", str(tmp_path / "mine"))
    assert get_data_dir() == tmp_path / "mine"
    with pytest.raises(ValueError, match=r"mine/physionet-sleep-data \(\$SLEEPSTAGE_DATA_DIR\)"):
        load_sleep_edf()


def test_missing_files_say_where_and_how(no_data_dir_env, offline):
    with pytest.raises(ValueError) as caught:
        load_sleep_edf()
    message = str(caught.value)
    assert f"{no_data_dir_env / 'physionet-sleep-data'} (MNE's data folder)" in message
    assert "--data-dir" in message and "SLEEPSTAGE_DATA_DIR" in message
    assert "could not be downloaded: network is unreachable" in message


def test_cli_missing_sleep_edf_names_data_dir(no_data_dir_env, offline, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    status, out, err = run_main(capsys, "features", "--sleep-edf", "0", "--data-dir", empty,
                                "-o", tmp_path / "f.csv")
    assert status == 1 and out == ""
    assert f"{empty / 'physionet-sleep-data'} (the path given)" in err
    assert "--data-dir" in err and "SLEEPSTAGE_DATA_DIR" in err
    assert offline == [str(empty)]
