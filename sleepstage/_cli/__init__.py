"""Private helpers of the ``sleepstage`` command line: one module per subcommand.

Each subcommand module exposes ``add_parser(subparsers, parents)`` and ``run(args) -> int``;
:mod:`sleepstage.cli` wires them together. Heavy libraries are imported inside ``run`` so
that ``sleepstage --help`` stays fast.
"""
