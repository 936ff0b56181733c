"""The ``sleepstage`` command line: fit, predict, evaluate, grid-search, importances, features.

A thin layer over the library: every subcommand is one function (``sleepstage.cli._<name>.run``)
calling library functions. Results go to stdout and files, messages and progress to stderr.

``--n-jobs N`` and ``--dask-scheduler ADDRESS`` (on ``fit``, ``evaluate``, ``grid-search``
and ``features``) say how many tasks run at once and where: with an address, the whole
command runs inside ``joblib.parallel_config(backend="dask")`` with a Dask client connected
to it (see ``docs/scaling.md``).

Exit status: 0 on success, 2 for a usage error (unknown option, missing data source, bad
``--set``), 1 when the data, a model file or an output stops the command; the error is one
line, with the traceback only under ``--debug``.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import traceback
import warnings
from collections.abc import Sequence

from .._internal.warnings import warn_once_per_message
from .._version import __version__
from . import (
    _adapt,
    _convert,
    _demo,
    _evaluate,
    _features,
    _fit,
    _grid_search,
    _importances,
    _predict,
    _report,
)
from ._args import DataError, UsageError
from ._data_args import add_data_arguments
from ._parallel import dask_backend

__all__ = ["build_parser", "main"]

PROG = "sleepstage"

_EPILOG = """\
examples:
  sleepstage fit --synthetic 3 -o mice.joblib
  sleepstage predict mice.joblib --task4 data/ --subset test --plot -o scored/
  sleepstage evaluate --sleep-edf 0 --cv blocks:5
  sleepstage grid-search --synthetic 3 --grid num_leaves=15,31 --grid learning_rate=0.05,0.1
  sleepstage grid-search --task4 data/ --grid num_leaves=15,31 --dask-scheduler tcp://host:8786
  sleepstage importances mice.joblib --synthetic 1 --seed 7 --hours 6
  sleepstage features --edf night.edf --channel 'EEG Fpz-Cz=eeg' -o features.parquet

Model files are checked before their pipeline is read; the neural models' files hold a
pickle, which runs code when loaded (--trust-pickle): only load files you made or trust.
Run 'sleepstage COMMAND --help' for the options and an example of each command."""


def _global_options(*, suppress: bool) -> argparse.ArgumentParser:
    """--quiet / --debug / --force, accepted before and after the subcommand."""
    default = argparse.SUPPRESS if suppress else False
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group("general")
    group.add_argument("-q", "--quiet", action="store_true", default=default,
                       help="silence progress messages")
    group.add_argument("--debug", action="store_true", default=default,
                       help="show debug messages and the traceback of errors")
    group.add_argument("-f", "--force", action="store_true", default=default,
                       help="overwrite existing outputs (never an input of the command)")
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``sleepstage`` (subcommands required)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Automatic sleep staging of EEG/EMG recordings: train a stager on scored "
                    "recordings, score new ones, tune it and inspect it.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[_global_options(suppress=False)],
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    subparsers = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    subparsers.required = True

    common = _global_options(suppress=True)
    data = argparse.ArgumentParser(add_help=False)
    add_data_arguments(data)
    for module in (_fit, _predict, _adapt, _evaluate, _grid_search, _importances, _features):
        module.add_parser(subparsers, [common, data])
    _demo.add_parser(subparsers, [common])
    report_data = argparse.ArgumentParser(add_help=False)  # its own --epoch-length help
    add_data_arguments(report_data, epoch_length_help=_report.EPOCH_LENGTH_HELP)
    _report.add_parser(subparsers, [common, report_data])
    _convert.add_parser(subparsers, [common])
    return parser


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = super().format(record)
        if record.levelno >= logging.WARNING:
            return f"{record.levelname.lower()}: {message}"
        return message


def _short_warning(message, category, filename, lineno, line=None) -> str:
    return f"{category.__name__}: {message}"


def _configure_logging(quiet: bool, debug: bool):
    """Send the package's log records (progress) and warnings to stderr.

    Returns a function that restores the previous configuration, so that ``main`` can be
    called repeatedly from Python (tests, notebooks) without stacking handlers.
    """
    level = logging.DEBUG if debug else logging.WARNING if quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter("%(message)s"))
    saved = []
    for name in ("sleepstage", "py.warnings"):
        log = logging.getLogger(name)
        saved.append((log, log.handlers[:], log.level, log.propagate))
        log.handlers[:] = [handler]
        log.setLevel(level)
        log.propagate = False
    logging.captureWarnings(True)
    formatwarning = warnings.formatwarning
    if not debug:  # one line per warning: "UserWarning: message"
        warnings.formatwarning = _short_warning

    def restore() -> None:
        warnings.formatwarning = formatwarning
        logging.captureWarnings(False)
        for log, handlers, old_level, propagate in saved:
            log.handlers[:] = handlers
            log.setLevel(old_level)
            log.propagate = propagate

    return restore


def _one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, KeyError):  # str(KeyError) adds quotes
        text = f"missing key {text}"
    return re.sub(r"\s+", " ", text).strip()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        0 on success, 1 on a data/model/file error, 2 on a usage error.
    """
    # Idle OpenMP threads sleep instead of spinning. libgomp reads this once, when it is
    # loaded: LightGBM's copy is loaded by the subcommands' imports below (inside ``run``),
    # so setting it here is in time for it, and worker processes started later (joblib's
    # loky) inherit it. Spinning threads are pathological when several thread pools share
    # few cores (docs/scaling.md). An explicit setting in the environment is kept.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) or a usage error (2)
        return int(exc.code or 0)
    restore_logging = _configure_logging(args.quiet, args.debug)
    try:
        # each distinct warning once per run, whichever step or fold issues it
        with warn_once_per_message(), dask_backend(getattr(args, "dask_scheduler", None)):
            return int(args.run(args) or 0)
    except UsageError as exc:
        sys.stderr.write(f"{PROG} {args.command}: error: {_one_line(exc)}\n")
        if args.debug:
            traceback.print_exc()
        return 2
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return 130
    except (DataError, ValueError, TypeError, OSError, ImportError, KeyError,
            MemoryError) as exc:
        if args.debug:
            traceback.print_exc()
        sys.stderr.write(f"{PROG}: error: {_one_line(exc)}\n")
        return 1
    except Exception as exc:  # a bug: still one line, but say how to see more
        if args.debug:
            traceback.print_exc()
        sys.stderr.write(f"{PROG}: error: unexpected {type(exc).__name__}: {_one_line(exc)}"
                         + ("" if args.debug else " (run with --debug for the traceback)")
                         + "\n")
        return 1
    finally:
        restore_logging()

