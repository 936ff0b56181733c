"""Write benchmark results into their own section of ``docs/benchmarks.md``.

Each benchmark owns a section delimited by ``<!-- begin: NAME -->`` / ``<!-- end: NAME -->``;
rerunning it replaces only that section, stamped with the machine and the command.
"""

from __future__ import annotations

import os
import platform
import re
import sys
import tempfile
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
HEADER = (
    "# Benchmarks\n\n"
    "Every figure below was written by the script named in its section; rerun the command to\n"
    "reproduce it (`make benchmarks` runs them all). Times are wall-clock seconds on the\n"
    "machine named in each section.\n"
)


def machine() -> str:
    """One line describing the machine and the library versions."""
    import lightgbm
    import scipy
    import sklearn

    cpu = platform.processor() or platform.machine()
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, numpy "
        f"{np.__version__}, scipy {scipy.__version__}, scikit-learn {sklearn.__version__}, "
        f"LightGBM {lightgbm.__version__}"
    )


def table(frame: pd.DataFrame, floatfmt: str = ".3f") -> str:
    """A pandas DataFrame as a markdown table (no tabulate dependency)."""
    def fmt(value):
        if isinstance(value, float | np.floating):
            return format(value, floatfmt)
        return str(value)

    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    rows = ["| " + " | ".join(fmt(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *rows])


def _script() -> str:
    """The running script's path from the repository root, wherever it was started from."""
    script = Path(sys.argv[0]).resolve()
    root = DOC.parents[1]
    return (script.relative_to(root) if script.is_relative_to(root) else script).as_posix()


def write_section(name: str, title: str, body: str, command: str | None = None) -> None:
    """Replace (or append) the section ``name`` of docs/benchmarks.md atomically."""
    command = command or "python " + " ".join([_script(), *sys.argv[1:]])
    section = (
        f"<!-- begin: {name} -->\n## {title}\n\n"
        f"Command: `{command}`  \nMachine: {machine()}  \nRun on: {date.today().isoformat()}\n\n"
        f"{body.strip()}\n<!-- end: {name} -->"
    )
    DOC.parent.mkdir(parents=True, exist_ok=True)
    text = DOC.read_text() if DOC.exists() else HEADER
    pattern = re.compile(rf"<!-- begin: {re.escape(name)} -->.*?<!-- end: {re.escape(name)} -->",
                         re.S)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else (
        text.rstrip() + "\n\n" + section + "\n")
    with tempfile.NamedTemporaryFile("w", dir=DOC.parent, delete=False, suffix=".tmp") as tmp:
        tmp.write(text)
    os.replace(tmp.name, DOC)
    print(f"wrote section {name!r} of {DOC}")


def publish(name: str, title: str, body: str, *, write: bool = True) -> None:
    """Print ``body``; with ``write``, also make it the section ``name`` of docs/benchmarks.md."""
    print(body)
    if write:
        write_section(name, title, body)
