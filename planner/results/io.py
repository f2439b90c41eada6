"""Files the planner writes and reads: atomic writes, the netCDF results file, file hashes.

A process killed at any moment leaves the old file or the new one, never a part. Every file the
planner writes (results, reports, sweep parts and records, the combined sweep file) goes through
:func:`atomic_path`: the content is written to a temp file in the target's own folder (so the
final rename cannot cross file systems), flushed to disk, given normal permissions and renamed
over the target with ``os.replace`` (atomic on POSIX), after which the folder entry is
flushed too. A reader sees the complete old file or the complete new one.

Temp files are named so that nothing ever takes them for a result and so that a later run can
tell whose they are::

    .<target name>.<pid>.<host tag>.<random>.tmp        e.g.  .2030.nc.4711.3f2a9c01.k2j_x8aq.tmp

hidden, ending in ``.tmp`` (``keep_suffix`` appends the target's suffix for writers that choose the
format by extension: ``....tmp.mps``), with the writer's process id and a tag of its host name. A
process killed while writing leaves its temp file behind; the next write into the same folder
removes every temp file of this naming whose host is this host and whose process no longer runs
(:func:`remove_stale_temps`). A temp file of a live process, or of another host sharing the
folder, is never touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import xarray as xr

__all__ = [
    "HOST_TAG",
    "NETCDF_SUFFIXES",
    "ResultsFileError",
    "atomic_folder",
    "atomic_path",
    "file_sha256",
    "is_results_file",
    "read_dataset",
    "remove_stale_temps",
    "write_bytes",
    "write_dataset",
]

HOST_TAG = hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]
"""8 hex digits naming this host in temp file names."""

_TEMP = re.compile(r"^\.(?P<target>.+)\.(?P<pid>\d+)\.(?P<host>[0-9a-f]{8})\.(?P<rand>[a-z0-9_]+)\.tmp(\.\w+)?$")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()  # mkstemp creates 0600: give the result the mode open() would
_DIR_MODE = 0o777 & ~_umask()  # mkdtemp creates 0700: give the result the mode mkdir() would
_cleaned: set[Path] = set()


def _process_gone(pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # EPERM: it runs, as another user
        return False
    return False


def remove_stale_temps(folder: Path | str) -> list[Path]:
    """Remove the temp files that killed runs on this host left in ``folder``; return them.

    Only names of :func:`atomic_path`'s pattern are considered, and only those whose host tag is
    this host's and whose process is gone (a zombie counts as running); a temp folder of
    :func:`atomic_folder` goes with its content. Missing folders and files that vanish meanwhile
    are fine.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP.match(entry.name)
        if match is None or match["host"] != HOST_TAG or not _process_gone(int(match["pid"])):
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


def _fsync_file(path: Path) -> None:
    """Flush a file's content to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _prepare_folder(folder: Path) -> None:
    """Create ``folder`` and, once per process, remove the temp files killed runs left in it."""
    folder.mkdir(parents=True, exist_ok=True)
    key = folder.resolve()
    if key not in _cleaned:
        remove_stale_temps(folder)
        _cleaned.add(key)


@contextlib.contextmanager
def atomic_path(path: Path | str, keep_suffix: bool = False) -> Iterator[Path]:
    """A temp path to write ``path``'s new content to; renamed over ``path`` when the block ends.

    If the block raises, the temp file is removed and ``path`` is left as it was. Folders are
    created. Stale temp files of killed runs in the folder are removed first (once per process).

    Parameters
    ----------
    path : path
        The file to (re)write.
    keep_suffix : bool
        End the temp name with ``path``'s suffix too (``.tmp.mps``), for writers that pick the
        format from the extension.

    Examples
    --------
    >>> with atomic_path("results/2030.nc") as tmp:          # doctest: +SKIP
    ...     ds.to_netcdf(tmp)
    """
    path = Path(path)
    folder = path.parent
    _prepare_folder(folder)
    suffix = ".tmp" + (path.suffix if keep_suffix and path.suffix else "")
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.{HOST_TAG}.", suffix=suffix, dir=folder)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        _fsync_file(tmp)  # the content is on disk before the name points at it
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
        _fsync_dir(folder)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


@contextlib.contextmanager
def atomic_folder(path: Path | str) -> Iterator[Path]:
    """A temp folder to write the files of the folder ``path`` into; it takes ``path``'s place when the block ends.

    The temp folder is made beside ``path`` (named like :func:`atomic_path`'s temp files); when
    the block ends its files are flushed to disk and it is renamed to ``path``. An existing folder
    ``path`` is renamed aside first and removed after, so a reader sees the old folder or the new
    one, complete (for an instant, neither). All of the old folder's content goes: the caller
    decides whether it may. If the block raises, the temp folder is removed and ``path`` is left
    as it was. An existing file (not a folder) at ``path`` fails the rename (``NotADirectoryError``).
    """
    path = Path(path)
    folder = path.parent
    _prepare_folder(folder)
    prefix = f".{path.name}.{os.getpid()}.{HOST_TAG}."
    tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=".tmp", dir=folder))
    try:
        yield tmp
        for entry in tmp.iterdir():
            _fsync_file(entry)
            os.chmod(entry, _FILE_MODE)
        os.chmod(tmp, _DIR_MODE)
        _fsync_dir(tmp)
        old = folder / f"{prefix}{secrets.token_hex(4)}_old.tmp"
        moved = path.is_dir() and not path.is_symlink()
        if moved:
            os.replace(path, old)
        try:
            os.replace(tmp, path)
        except OSError:
            if moved:  # the old folder back where it was
                os.replace(old, path)
            raise
        _fsync_dir(folder)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_bytes(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


# --------------------------------------------------------------------------- the results file


def write_dataset(ds: xr.Dataset, path: Path | str) -> Path:
    """Write a Dataset to netCDF atomically (:func:`atomic_path`: temp file, then rename)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf")
    return path


def read_dataset(path: Path | str) -> xr.Dataset:
    """Read a results file written by :func:`write_dataset` (fully loaded, file closed)."""
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


class ResultsFileError(Exception):
    """A file given as results is missing or not a planner results file."""


NETCDF_SUFFIXES = (".nc", ".nc4", ".netcdf", ".h5", ".hdf5")
_MAGIC = (b"\x89HDF\r\n\x1a\n", b"CDF\x01", b"CDF\x02", b"CDF\x05")


def is_results_file(path: Path | str) -> bool:
    """True if ``path`` looks like netCDF: a netCDF suffix, or the HDF5 / classic netCDF magic bytes."""
    path = Path(path)
    if path.suffix.lower() in NETCDF_SUFFIXES:
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError:
        return False
    return any(head.startswith(m) for m in _MAGIC)


def file_sha256(path: Path | str) -> str:
    """SHA-256 of a file's bytes, read in blocks (hex; "" if it cannot be read)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return ""
    return digest.hexdigest()
