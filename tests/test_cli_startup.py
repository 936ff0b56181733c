"""A light command line and a lazy ``import sleepstage``.

``sleepstage --help`` (and each subcommand's) must not import the numerical libraries, and
``import sleepstage`` loads its parts on first use. Each check runs in a fresh interpreter,
since this test process has long imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from importlib import metadata
from pathlib import Path

import pytest

import sleepstage
from sleepstage.cli import build_parser

REPO_ROOT = Path(__file__).resolve().parents[1]

#: Libraries that take 0.1-1 s to import; none may load for ``--help``.
HEAVY = ("scipy", "sklearn", "pandas", "mne", "lightgbm", "matplotlib", "torch", "skorch",
         "numpy", "joblib", "dask", "distributed", "yaml")

#: Prints the heavy libraries in ``sys.modules`` after running ``CODE`` (a JSON list).
_PROBE = """
import json, sys
{code}
print(json.dumps(sorted({{m.partition(".")[0] for m in sys.modules}} & set({heavy!r}))))
"""


def _heavy_after(code: str) -> list[str]:
    """Heavy libraries imported by ``code`` run in a fresh interpreter in the repository."""
    done = subprocess.run([sys.executable, "-c", _PROBE.format(code=code, heavy=HEAVY)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _subcommands() -> list[str]:
    parser = build_parser()
    actions = [a for a in parser._actions if a.choices and a.dest == "command"]
    return sorted(actions[0].choices)


def test_every_subcommand_is_probed():
    assert set(_subcommands()) >= {"fit", "predict", "evaluate", "grid-search", "importances",
                                   "features", "demo"}


@pytest.mark.cli
def test_help_imports_no_heavy_library():
    """``--help`` of the command and of every subcommand, one interpreter per command line."""
    code = (
        "import contextlib, io\n"
        "from sleepstage.cli import main\n"
        "loaded = {}\n"
        f"for argv in [[], *[[c] for c in {_subcommands()!r}]]:\n"
        "    with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "        status = main([*argv, '--help'])\n"
        "    assert status == 0 and 'usage: sleepstage' in out.getvalue(), argv\n"
        "    loaded[' '.join(argv) or '(top level)'] = sorted(\n"
        "        {m.partition('.')[0] for m in sys.modules} & set(" + repr(HEAVY) + "))\n"
        "print(json.dumps(loaded))\n"
    )
    done = subprocess.run([sys.executable, "-c", "import json, sys\n" + code], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120, check=True)
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(loaded) == 1 + len(_subcommands())
    assert {argv: heavy for argv, heavy in loaded.items() if heavy} == {}


@pytest.mark.cli
@pytest.mark.parametrize("module", ["sleepstage", "sleepstage.cli"])
def test_python_dash_m_runs_the_command_line(module):
    done = subprocess.run([sys.executable, "-m", module, "--version"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"sleepstage {sleepstage.__version__}"


def test_console_script_entry_point():
    (entry,) = [ep for ep in metadata.entry_points(group="console_scripts")
                if ep.name == "sleepstage"]
    assert entry.value == "sleepstage.cli:main"
    from sleepstage.cli import main

    assert entry.load() is main


def test_import_sleepstage_is_light():
    assert _heavy_after("import sleepstage") == []


def test_lazy_names_import_on_first_use():
    loaded = _heavy_after("import sleepstage; sleepstage.EpochData")  # sleepstage.data
    assert "numpy" in loaded and "torch" not in loaded


def test_every_public_name_resolves():
    for name in sleepstage.__all__:
        assert getattr(sleepstage, name) is not None, name
    from sleepstage.data import EpochData
    from sleepstage.pipelines import make_staging_pipeline

    assert sleepstage.EpochData is EpochData
    assert sleepstage.make_staging_pipeline is make_staging_pipeline
    assert set(sleepstage.__all__) <= set(dir(sleepstage))


@pytest.mark.parametrize("name", ["data", "features", "models", "pipelines", "io", "metrics",
                                  "parallel", "report", "inspection"])
def test_subpackages_are_attributes(name):
    assert getattr(sleepstage, name).__name__ == f"sleepstage.{name}"
    assert name in dir(sleepstage)


@pytest.mark.parametrize("alias", ["plot", "inspect"])
def test_deprecated_submodules_still_resolve_and_stay_out_of_all(alias):
    assert alias not in sleepstage.__all__
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # the alias warns once, on import
        assert getattr(sleepstage, alias).__name__ == f"sleepstage.{alias}"


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        sleepstage.nope  # noqa: B018
