"""``--n-jobs`` and ``--dask-scheduler``: how many tasks, and where they run.

The subcommands call the library's joblib-based functions
(:func:`sleepstage.parallel.extract_features`, :func:`sleepstage.parallel.grid_search`,
:func:`sleepstage.pipelines.cross_validate_recordings`, the batch threads of
:class:`~sleepstage.features.EpochFeatures`). ``--dask-scheduler`` runs the whole command
inside ``joblib.parallel_config(backend="dask")`` with a ``dask.distributed.Client``
connected to the address, so the same calls send their tasks to the cluster; nothing else
changes (see ``docs/scaling.md``).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from ._args import DataError, UsageError

__all__ = [
    "INSTALL_HINT",
    "add_parallel_arguments",
    "dask_backend",
    "local_threads",
    "resolve_n_jobs",
]

logger = logging.getLogger(__name__)

#: How to get the optional Dask dependency, quoted in the error message.
INSTALL_HINT = 'pip install "sleepstage[distributed]"'


def add_parallel_arguments(parser: argparse.ArgumentParser, *, tasks: str,
                           default: str) -> None:
    """Add ``--n-jobs`` and ``--dask-scheduler`` to a subcommand.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand's parser.
    tasks : str
        What runs in parallel, for the help text ("folds", "recordings", ...).
    default : str
        The local default, for the help text.
    """
    group = parser.add_argument_group("parallelism")
    group.add_argument("--n-jobs", type=int, default=None, metavar="N",
                       help=f"{tasks} at the same time (joblib: -1 every core; default: "
                            f"{default})")
    group.add_argument("--dask-scheduler", metavar="ADDRESS",
                       help="run the parallel work on this Dask cluster, e.g. "
                            f"tcp://10.0.0.1:8786 (needs {INSTALL_HINT})")


def resolve_n_jobs(args: argparse.Namespace, local_default: int | None) -> int | None:
    """The ``n_jobs`` to give the library for this command.

    ``--n-jobs`` if given (capped at the number of CPU cores, with a warning), else
    ``local_default``. With ``--dask-scheduler`` it is always
    -1: joblib's Dask backend runs as many tasks at once as the cluster has worker threads
    whatever ``n_jobs`` says, and -1 tells the library that the tasks run in parallel (so
    that nested LightGBM / feature threads are set to 1 on the workers).
    """
    n_jobs = getattr(args, "n_jobs", None)
    if n_jobs == 0:
        raise UsageError("--n-jobs 0 is not a number of jobs: give N >= 1, or -1 for every "
                         "core.")
    if getattr(args, "dask_scheduler", None):
        if n_jobs is not None:
            logger.warning("--n-jobs %d is ignored with --dask-scheduler: the cluster's "
                           "worker threads set how many tasks run at once.", n_jobs)
        return -1
    if n_jobs is not None and n_jobs > 1:
        from joblib import cpu_count

        cores = cpu_count()
        if n_jobs > cores:
            # more workers than cores only adds threads and memory: 100 000 of them exhaust
            # the process's threads before any work is done
            logger.warning("--n-jobs %d is more than the %d CPU core(s) of this machine; "
                           "using %d.", n_jobs, cores, cores)
            n_jobs = cores
    return local_default if n_jobs is None else n_jobs


@contextmanager
def dask_backend(address: str | None) -> Iterator[None]:
    """Run the body on the Dask cluster at ``address`` (no-op when ``address`` is None).

    Raises
    ------
    DataError
        When the ``distributed`` extra is not installed (the message names the command
        that installs it).
    OSError
        When no scheduler answers at ``address`` (Dask's own message).
    """
    if not address:
        yield
        return
    try:
        from dask.distributed import Client
    except ImportError:
        raise DataError(f"--dask-scheduler needs Dask's distributed scheduler, which is not "
                        f"installed: {INSTALL_HINT}") from None
    from joblib import parallel_config

    client = Client(address)
    try:
        with parallel_config(backend="dask", client=client):
            yield
    finally:
        client.close()


def local_threads(args: argparse.Namespace):
    """Run per-recording feature tasks on threads, unless they go to a Dask cluster.

    On one machine threads beat processes for feature extraction: NumPy and ``scipy.fft``
    release the GIL and no copy of the signal is made (``docs/scaling.md``).
    """
    from contextlib import nullcontext

    from joblib import parallel_config

    if getattr(args, "dask_scheduler", None):
        return nullcontext()
    return parallel_config(backend="threading")
