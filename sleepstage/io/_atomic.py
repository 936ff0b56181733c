"""Writing files safely: checked output paths, atomic and all-or-none writes.

The primitives behind every writer of :mod:`sleepstage.io` (which re-exports them): outputs
are checked before any work, written to temporary files next to their destinations and
renamed into place once complete. Only regular files are ever replaced:
folders, devices, named pipes and sockets are refused even with ``force``, and a symbolic
link is followed deliberately (its target is replaced atomically, the link stays). A failed
write removes what it wrote (its temporary files, the outputs it created, the folders it
created when they are empty) and nothing else.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

__all__ = ["atomic_outputs", "atomic_write", "check_folder", "check_writable"]

logger = logging.getLogger("sleepstage.io")


# ----------------------------------------------------------------------------------------------
# Atomic writing
# ----------------------------------------------------------------------------------------------
_FILE_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
)


def _output_target(path: Path) -> Path:
    """The file that writing ``path`` replaces: ``path`` itself, or a symlink's final target.

    Symbolic links are followed on purpose: writing ``link -> data/out.csv`` replaces
    ``data/out.csv`` (atomically, in its own folder) and leaves the link in place, as writing
    through the link with ``open`` would. A dangling link creates its target.
    """
    if path.is_symlink():
        return Path(os.path.realpath(path))
    return path


def _os_error(exc: OSError, message: str) -> OSError:
    """``exc``'s type and errno with a message naming the user's path."""
    error = type(exc)(message)
    error.errno = exc.errno
    return error


def _shown(path: Path, target: Path) -> str:
    return str(path) if target == path else f"{path} (a link to {target})"


def _nearest_existing(folder: Path) -> Path:
    while not os.path.lexists(folder) and folder != folder.parent:
        folder = folder.parent
    return folder


def _check_output(path: Path, *, force: bool) -> Path:
    """Check one output path; return the file that will be replaced (see `_output_target`)."""
    target = _output_target(path)
    shown = _shown(path, target)
    try:
        mode = os.stat(target).st_mode
    except (FileNotFoundError, NotADirectoryError):  # the folder checks below say why
        mode = None
    except OSError as exc:
        raise _os_error(exc, f"Cannot write {shown}: {exc.strerror}.") from exc
    if mode is not None:
        for test, kind in _FILE_KINDS:
            if test(mode):
                raise (IsADirectoryError if kind == "a folder" else ValueError)(
                    f"Cannot write {shown}: it is {kind}, not a regular file. sleepstage only "
                    "writes regular files; give another output path."
                )
        if not force:
            raise FileExistsError(
                f"Output file(s) already exist: {shown}. Use force=True (--force on the "
                "command line) to overwrite, or choose another output."
            )
    folder = _nearest_existing(target.parent)
    if not folder.is_dir():
        raise NotADirectoryError(f"Cannot write {shown}: {folder} is a file, not a folder.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(f"Cannot write {shown}: no permission to write in the folder "
                              f"{folder}.")
    return target


def _same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` are one existing file (links followed), however named.

    ``a`` is also taken with ``..`` resolved by name, as writing it would (``new/../x``
    creates ``new`` and writes ``x``).
    """
    for path in (a, os.path.abspath(a)):
        try:
            if os.path.samefile(path, b):
                return True
        except OSError:  # one of them does not exist (or cannot be looked at)
            continue
    return False


def check_writable(
    paths: Iterable[str | os.PathLike],
    *,
    force: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
) -> list[Path]:
    """Check that every output in ``paths`` can be written, before any work starts.

    Call it before a long computation that ends by writing files, so that the user learns
    about a bad output before the work, not after. Each path must be new (or ``force``),
    must not be a folder, device, named pipe or socket (refused even with ``force``: only
    regular files are ever replaced), must not be one of the ``inputs`` (refused even with
    ``force``: the input would be lost), must lie in a folder that exists or can be created
    and is writable, and must differ from every other path given. A symbolic link is
    followed: its target is the file checked and, later, replaced.

    Parameters
    ----------
    paths : iterable of path-like
        Outputs about to be written.
    force : bool
        When True, existing regular files may be overwritten.
    inputs : iterable of path-like, optional
        Files the computation reads. An output that is the same file as one of them
        (whatever the path, links and hard links included) is refused.

    Returns
    -------
    list of pathlib.Path
        The files that will be written (symbolic links resolved), in the order given.

    Raises
    ------
    FileExistsError
        Naming every output that already exists (without ``force``).
    ValueError
        If an output is a device, pipe or socket, one of the ``inputs``, or two outputs are
        the same file.
    IsADirectoryError, NotADirectoryError, PermissionError
        If an output is a folder, its folder is a file, or its folder is not writable.
    """
    paths = [Path(p) for p in paths]
    inputs = [Path(p) for p in inputs]
    for path in paths:
        source = next((s for s in inputs if _same_file(path, s)), None)
        if source is not None:
            raise ValueError(f"Cannot write {path}: it is the same file as the input "
                             f"{source}, which would be lost; choose another output.")
    targets, existing = [], []
    for path in paths:
        try:
            targets.append(_check_output(path, force=force))
        except FileExistsError:
            targets.append(_output_target(path))
            existing.append(_shown(path, targets[-1]))
    if existing:
        raise FileExistsError(
            f"Output file(s) already exist: {', '.join(existing)}. Use force=True (--force on "
            "the command line) to overwrite, or choose another output."
        )
    seen: dict[str, Path] = {}
    for path, target in zip(paths, targets, strict=True):
        key = os.path.normcase(os.path.abspath(target))
        if key in seen:
            raise ValueError(f"Two outputs would be written to the same file: {seen[key]} and "
                             f"{path}.")
        seen[key] = path
    return targets


def check_folder(path: str | os.PathLike) -> Path:
    """Check that ``path`` is a folder, or can be created as one, that can be written into.

    For commands whose output file names are known only once the data are read: call it
    before reading them.

    Parameters
    ----------
    path : path-like
        Output folder.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    NotADirectoryError
        If ``path``, or the closest of its parents that exists, is not a folder.
    PermissionError
        If that folder is not writable.
    """
    path = Path(path)
    existing = _nearest_existing(path)
    if not existing.is_dir():
        where = "it is" if existing == path else f"{existing} is"
        raise NotADirectoryError(f"Cannot write into the folder {path}: {where} a file, not a "
                                 "folder.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(f"Cannot write into the folder {path}: no permission to write "
                              f"in {existing}.")
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _make_folders(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; return the folders created, outermost first."""
    missing = []
    while not os.path.lexists(folder) and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    created = []
    for new in reversed(missing):
        try:
            new.mkdir()
        except FileExistsError:  # made by someone else meanwhile: not ours to remove
            continue
        created.append(new)
    return created


def _remove_empty(folders: Iterable[Path]) -> None:
    """Remove the folders this run created, innermost first, where nothing else is left."""
    for folder in reversed(list(folders)):
        with contextlib.suppress(OSError):  # not empty: someone else's files stay
            folder.rmdir()


@contextlib.contextmanager
def atomic_outputs(
    paths: Iterable[str | os.PathLike], *, force: bool = False
) -> Iterator[list[Path]]:
    """Write several files all-or-none: yield temporary paths, then move them all into place.

    Every output is checked first (:func:`check_writable`). Each temporary file lives in the
    folder of its destination (so the final ``os.replace`` is an atomic rename on one file
    system), starts empty, and keeps the destination's suffix, so writers that infer the
    format from the extension (matplotlib, pandas, MNE) work unchanged; writers may
    overwrite it. Missing folders are created. When the block finishes, the destinations are
    checked again and every temporary file is renamed onto its destination. If anything
    fails, this run's temporary files, the outputs it had already moved into place that did
    not exist before, and the folders it created (when empty) are removed; nothing else is
    touched, so files other processes write into the same folder meanwhile stay.

    Parameters
    ----------
    paths : iterable of path-like
        Final destinations. A symbolic link is followed (its target is replaced, the link
        stays); folders, devices, pipes and sockets are refused.
    force : bool
        Overwrite existing regular files.

    Yields
    ------
    list of pathlib.Path
        The temporary files to write to, in the order of ``paths``.

    Raises
    ------
    FileExistsError, ValueError, OSError
        As :func:`check_writable`; error messages name the destination, never the temporary
        file.
    """
    paths = [Path(p) for p in paths]
    targets = check_writable(paths, force=force)
    temps: list[Path] = []
    created: list[Path] = []
    placed: list[Path] = []
    try:
        for path, target in zip(paths, targets, strict=True):
            try:
                created += _make_folders(target.parent)
                fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                            suffix=f".tmp{target.suffix}")
            except OSError as exc:
                raise _os_error(exc, f"Cannot write {path}: {exc.strerror}.") from exc
            os.close(fd)
            temps.append(Path(name))
        yield list(temps)
        check_writable(paths, force=force)  # something may have appeared meanwhile
        mode = 0o666 & ~_umask()
        for path, tmp, target in zip(paths, temps, targets, strict=True):
            new = not os.path.lexists(target)
            try:
                os.chmod(tmp, mode)
                os.replace(tmp, target)
            except OSError as exc:
                raise _os_error(exc, f"Cannot write {path}: {exc.strerror}.") from exc
            if new:
                placed.append(target)
            logger.debug("Wrote %s", path)
    except BaseException as exc:
        for tmp in temps:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        for target in placed:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
        _remove_empty(created)
        named = [str(t) for t in temps]
        if (isinstance(exc, OSError) and not isinstance(exc, FileExistsError)
                and any(n in str(exc) for n in named)):
            dest = next(p for p, t in zip(paths, named, strict=True) if t in str(exc))
            raise _os_error(exc, f"Cannot write {dest}: {exc.strerror or exc}.") from exc
        raise


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, *, force: bool = False) -> Iterator[Path]:
    """Write a file atomically: yield a temporary path, then rename it to ``path``.

    One-file form of :func:`atomic_outputs`: the temporary file lives in the destination
    folder and keeps its suffix; if the block raises, it is removed and ``path`` is left
    untouched. Missing parent folders are created (and removed again on failure if empty).
    Only regular files are replaced: folders, devices, named pipes and sockets are refused
    even with ``force``; a symbolic link is followed and its target replaced.

    Parameters
    ----------
    path : path-like
        Final destination.
    force : bool
        Overwrite ``path`` if it exists. When False (default) an existing ``path`` raises
        ``FileExistsError`` before anything is written.

    Yields
    ------
    pathlib.Path
        The temporary file to write to.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``force`` is False.
    ValueError
        If ``path`` is a device, named pipe or socket.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
    >>> with atomic_write(out) as tmp:
    ...     _ = tmp.write_text("hello")
    >>> out.read_text()
    'hello'
    """
    with atomic_outputs([path], force=force) as (tmp,):
        yield tmp
