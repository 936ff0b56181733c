"""The ``sleepstage`` command line: one module per subcommand plus the shared data sources.

Each subcommand module (``_fit``, ``_predict``, ...) exposes ``add_parser(subparsers,
parents)`` and ``run(args) -> int``; :mod:`sleepstage.cli._main` wires them together. The
data sources every subcommand shares are split by job: ``_data_args`` declares the options
and reads their values, ``_loading`` loads each source, ``_channels`` picks and renames
channels and matches a model's layout. Everything beyond the standard library (NumPy
included) is imported inside ``run``, so that ``sleepstage --help`` starts in a fraction of a
second (``tests/test_cli_startup.py`` checks it).
"""

from ._main import build_parser, main

__all__ = ["build_parser", "main"]
