"""Progress of long library calls: a bar on a terminal, log lines otherwise.

Library functions that run for minutes (:func:`~sleepstage.pipelines.cross_validate_recordings`,
:func:`~sleepstage.pipelines.fit_with_groups`, :func:`~sleepstage.parallel.extract_features`,
:func:`~sleepstage.parallel.fit_pipeline`) take ``verbose``:

- ``0`` (the default): silent, as a library should be.
- ``1`` or more: a :mod:`tqdm` progress bar on standard error when it is a terminal (or in a
  notebook); otherwise one log line per finished task through the calling module's logger
  (``logging.getLogger("sleepstage....")``). When logging is not configured to show that
  logger's INFO records, the lines are written to standard error instead, so that
  ``verbose=1`` always shows something.

tqdm is a dependency of the package (and of MNE).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["Progress", "run_tasks", "say"]


def _on_terminal() -> bool:
    stream = sys.stderr
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


def say(logger: logging.Logger, verbose: int, message: str, *args: Any) -> None:
    """One progress line: through ``logger`` if it shows INFO records, else on stderr.

    Parameters
    ----------
    logger : logging.Logger
        The calling module's logger.
    verbose : int
        Nothing is said when 0.
    message, *args
        ``logging``-style message and arguments.
    """
    if not verbose:
        return
    if logger.isEnabledFor(logging.INFO) and logger.hasHandlers():
        logger.info(message, *args)
    else:
        sys.stderr.write((message % args if args else message) + "\n")
        sys.stderr.flush()


class Progress:
    """Progress over ``total`` tasks (folds, recordings).

    Parameters
    ----------
    total : int
        Number of tasks.
    description : str
        What is counted, e.g. ``"cross-validation folds"``.
    verbose : int
        0: silent; 1 or more: a bar on a terminal, else one line per task.
    logger : logging.Logger
        Logger of the calling module.

    Examples
    --------
    >>> import logging
    >>> with Progress(2, "folds", verbose=0, logger=logging.getLogger("x")) as bar:
    ...     bar.update("fold 0 done")
    ...     bar.update("fold 1 done")
    """

    def __init__(self, total: int, description: str, *, verbose: int,
                 logger: logging.Logger) -> None:
        self.total = int(total)
        self.description = description
        self.verbose = int(verbose)
        self.logger = logger
        self.done = 0
        self._bar = None
        self._start = time.perf_counter()

    def __enter__(self) -> Progress:
        if self.verbose and _on_terminal():
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.total, desc=self.description, file=sys.stderr,
                             leave=True, dynamic_ncols=True)
        return self

    def update(self, message: str = "") -> None:
        """Count one finished task; ``message`` says how it went."""
        self.done += 1
        if not self.verbose:
            return
        if self._bar is not None:
            if message:
                self._bar.set_postfix_str(message, refresh=False)
            self._bar.update(1)
            return
        elapsed = time.perf_counter() - self._start
        say(self.logger, self.verbose, "%s: %d/%d done in %.1f s%s", self.description,
            self.done, self.total, elapsed, f" ({message})" if message else "")

    def __exit__(self, *exc_info) -> None:
        if self._bar is not None:
            self._bar.close()


def run_tasks(tasks: Iterable, *, n_jobs: int | None, progress: Progress,
              describe: Callable[[Any], str] | None = None) -> list:
    """Run joblib ``delayed`` tasks, counting each finished one in ``progress``.

    Results come back in task order, as from ``joblib.Parallel(n_jobs)(tasks)``; with a
    visible ``progress`` they are consumed as a generator so that each finished task is
    counted when it finishes (a joblib backend that cannot return a generator, such as
    ``"multiprocessing"``, counts them all at the end).

    Parameters
    ----------
    tasks : iterable of joblib delayed calls
    n_jobs : int or None
        As for :class:`joblib.Parallel`.
    progress : Progress
        Counts the finished tasks.
    describe : callable, optional
        Turns a result into the message shown for it.

    Returns
    -------
    list
        The results, in task order.
    """
    from joblib import Parallel

    tasks = list(tasks)
    if not progress.verbose:
        results = Parallel(n_jobs=n_jobs)(tasks)
    else:
        try:
            results = []
            for result in Parallel(n_jobs=n_jobs, return_as="generator")(tasks):
                results.append(result)
                progress.update(describe(result) if describe else "")
            return results
        except ValueError as exc:  # raised before any task runs
            if "return_as" not in str(exc) or results:
                raise
            results = Parallel(n_jobs=n_jobs)(tasks)
    for result in results:
        progress.update(describe(result) if describe and progress.verbose else "")
    return results
