"""``python -m sleepstage.cli``: the same command line as the ``sleepstage`` script."""

import sys

from ._main import main

if __name__ == "__main__":
    sys.exit(main())
