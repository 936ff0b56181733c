"""The ``sleepstage`` command line: one module per subcommand plus the shared sources.

Each subcommand module (``_fit``, ``_predict``, ...) exposes ``add_parser(subparsers,
parents)`` and ``run(args) -> int``; :mod:`sleepstage.cli._main` wires them together. Heavy
libraries are imported inside ``run`` so that ``sleepstage --help`` stays fast.
"""

from ._main import build_parser, main

__all__ = ["build_parser", "main"]
