"""Plain Python values for messages and JSON: numpy scalars shown as what they hold."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["plain"]


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds; anything else unchanged.

    numpy 2 shows ``np.int64(3)`` where a user expects ``3``, and :mod:`json` cannot write
    numpy scalars.

    Examples
    --------
    >>> plain(np.int64(3)), plain("W")
    (3, 'W')
    """
    return value.item() if isinstance(value, np.generic) else value
