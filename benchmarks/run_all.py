"""Run every benchmark script in ``benchmarks/`` in sequence (``make benchmarks``).

Each script runs in its own process from the project root, with ``SLEEPSTAGE_DATA_DIR``
defaulting to the tests' data folder (``../shared/data``) when it exists; scripts that only write
``docs/benchmarks.md`` when asked (a ``--write`` option) are asked to. A failing script
does not stop the others; the exit code is 1 if any failed.

Usage::

    python benchmarks/run_all.py                    # everything
    python benchmarks/run_all.py --only bench_yasa bench_scoring
    python benchmarks/run_all.py --skip compare_models --list
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def scripts() -> list[Path]:
    """Benchmark scripts: every ``benchmarks/*.py`` except helpers (``_*.py``) and this one."""
    return sorted(path for path in HERE.glob("*.py")
                  if not path.name.startswith("_") and path.name != Path(__file__).name)


def environment() -> dict[str, str]:
    """The scripts' environment: ``SLEEPSTAGE_DATA_DIR`` set as in the tests if unset."""
    env = dict(os.environ)
    shared = ROOT.parent / "shared" / "data"
    if "SLEEPSTAGE_DATA_DIR" not in env and shared.is_dir():
        env["SLEEPSTAGE_DATA_DIR"] = str(shared)
    return env


def command(path: Path) -> list[str]:
    """The command line that runs ``path`` and lets it write its section."""
    cmd = [sys.executable, str(path.relative_to(ROOT))]
    if '"--write"' in path.read_text():
        cmd.append("--write")
    return cmd


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="run only these scripts (name with or without .py)")
    parser.add_argument("--skip", nargs="+", default=[], metavar="NAME",
                        help="scripts not to run")
    parser.add_argument("--list", action="store_true", help="print the commands and exit")
    args = parser.parse_args(argv)

    available = {path.stem: path for path in scripts()}
    wanted = [name.removesuffix(".py") for name in (args.only or available)]
    unknown = sorted(set(wanted + [s.removesuffix(".py") for s in args.skip]) - set(available))
    if unknown:
        print(f"error: unknown benchmark(s) {unknown}; available: {sorted(available)}",
              file=sys.stderr)
        return 2
    skipped = {name.removesuffix(".py") for name in args.skip}
    selected = [available[name] for name in wanted if name not in skipped]
    if args.list:
        for path in selected:
            print(" ".join(command(path)[1:]))
        return 0

    results = []
    for path in selected:
        cmd = command(path)
        load = os.getloadavg()[0]
        print(f"\n=== {' '.join(cmd[1:])} (load average {load:.1f}) ===", flush=True)
        start = time.perf_counter()
        code = subprocess.call(cmd, cwd=ROOT, env=environment())
        results.append((path.name, code, time.perf_counter() - start))
        print(f"=== {path.name}: exit {code} after {results[-1][2]:.0f} s ===", flush=True)

    print("\nSummary")
    for name, code, seconds in results:
        print(f"  {name:<28} {'ok' if code == 0 else f'FAILED (exit {code})':<18} "
              f"{seconds:8.0f} s")
    return 0 if all(code == 0 for _, code, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
