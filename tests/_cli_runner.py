"""Running the command line in-process from tests."""

from __future__ import annotations

from sleepstage.cli import main


def run_main(capsys, *args) -> tuple[int, str, str]:
    """Run ``main(args)`` in-process; returns (status, stdout, stderr)."""
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err
