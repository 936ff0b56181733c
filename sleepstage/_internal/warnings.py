"""One warning per cause: showing each distinct warning message once in a long run.

A grid search fits the same pipeline dozens of times, and ``predict`` runs the pipeline
twice (probabilities and stages); a step that warns at every fit or transform (e.g. the
per-recording scaler turning itself off on short recordings) would repeat the same line
each time. Python's usual de-duplication does not help: scikit-learn runs every task inside
``warnings.catch_warnings()``, which resets the "already shown" registries, so the default
action shows the warning again for every task.

:func:`warn_once_per_message` shows each cause once for the duration of a run. A cause is
the warning's category and its message with the numbers outside quotes left out: "1 of 1
training recording(s) ... (shortest: 269)" and "... (shortest: 270)" are one cause, the same
message about recording 'a' and about recording 'b' are two. Two mechanisms work together:
the actions that would show a warning (``"default"``, ``"module"``, ``"always"``) become
``"once"`` (``"ignore"`` and ``"error"`` filters are kept), which scikit-learn hands to its
worker processes, so with ``n_jobs > 1`` a message appears at most once per worker; and in
this process, ``warnings.showwarning`` skips a cause already shown.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["cause", "user_stacklevel", "warn_once_per_message"]

_SHOWING = ("default", "module", "always")


def _pattern(regex) -> str:
    if regex is None:
        return ""
    return regex if isinstance(regex, str) else regex.pattern


#: Quoted text (kept as it is) or a number (left out of the cause).
_QUOTED_OR_NUMBER = re.compile(r"""('[^']*'|"[^"]*")|[-+]?\d+(?:[.,]\d+)*(?:[eE][-+]?\d+)?%?""")


def cause(category: type[Warning], message: str) -> tuple[type[Warning], str]:
    """The cause of a warning: its category and its message without unquoted numbers.

    Examples
    --------
    >>> cause(UserWarning, "1 of 3 recordings (shortest: 269)") == cause(
    ...     UserWarning, "2 of 3 recordings (shortest: 270)")
    True
    >>> cause(UserWarning, "recording 'rec-1': 30 %")[1]
    "recording 'rec-1': # %"
    """
    return category, _QUOTED_OR_NUMBER.sub(lambda m: m.group(1) or "#", message)


def user_stacklevel() -> int:
    """The ``stacklevel`` at which a warning points at the caller's own line.

    Counted from the function that calls :func:`warnings.warn` (level 1) up past every
    frame in sleepstage, scikit-learn or joblib, so that a warning raised deep inside a
    pipeline names the user's ``pipe.predict(...)`` line, however the call got there
    (scikit-learn's output wrappers, pipelines, meta-estimators).
    """
    import joblib
    import sklearn

    inside = tuple(os.path.dirname(module.__file__) + os.sep
                   for module in (sys.modules["sleepstage"], sklearn, joblib))
    frame = sys._getframe(2)  # the caller of the function that calls this one
    level = 2
    while frame.f_back is not None and frame.f_code.co_filename.startswith(inside):
        frame = frame.f_back  # (the outermost frame when every one is inside: the CLI)
        level += 1
    return level


@contextmanager
def warn_once_per_message() -> Iterator[None]:
    """Show each cause of warning (see :func:`cause`) at most once in the block.

    The warning filters and Python's registry of "once" warnings are restored on exit, so
    a later run shows its warnings again.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("default")
    ...     with warn_once_per_message():
    ...         for _ in range(3):
    ...             with warnings.catch_warnings():  # as every scikit-learn task does
    ...                 warnings.warn("the same cause", UserWarning)
    >>> len(caught)
    1
    """
    registry = warnings.onceregistry
    before = set(registry)
    with warnings.catch_warnings():
        current = list(warnings.filters)
        warnings.resetwarnings()
        # resetwarnings empties the list; adding in reverse with append=False keeps the order
        for action, message, category, module, lineno in reversed(current):
            warnings.filterwarnings("once" if action in _SHOWING else action,
                                    message=_pattern(message), category=category,
                                    module=_pattern(module), lineno=lineno)
        # the default action (no filter matches) becomes "once" as well
        warnings.filterwarnings("once", append=True)
        shown: set[tuple[type[Warning], str]] = set()
        show = warnings.showwarning

        def show_new_causes(message, category, filename, lineno, file=None, line=None):
            key = cause(category, str(message))
            if key not in shown:
                shown.add(key)
                show(message, category, filename, lineno, file, line)

        warnings.showwarning = show_new_causes  # restored by catch_warnings
        try:
            yield
        finally:
            for key in set(registry) - before:
                registry.pop(key, None)
