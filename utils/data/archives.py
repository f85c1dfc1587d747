"""Archives: extract a ``.tar[.gz]`` or ``.zip`` only after every member has been checked.

Refused, before anything is written: absolute names, ``..``, drive letters, backslashes that climb out, symbolic
and hard links, device files and FIFOs, duplicate members, a file that another member uses as a folder, and
archives whose members add up to more than ``max_bytes``.
"""

from __future__ import annotations

import errno
import gzip
import os
import shutil
import tarfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from .errors import CorruptDataError, DiskFullError, UnsafeArchiveError

_NO_SPACE = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _safe_member(name: str, target: Path) -> Path:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchiveError(f"archive member {name!r} has an absolute path: refused")
    if ".." in p.parts:
        raise UnsafeArchiveError(f"archive member {name!r} climbs out of the target with '..': refused")
    dest = (target / Path(*p.parts)).resolve() if p.parts else target.resolve()
    if dest != target.resolve() and target.resolve() not in dest.parents:
        raise UnsafeArchiveError(f"archive member {name!r} would land outside {target}: refused")
    return dest


def _plan(archive: Path, target: Path, entries: list[tuple[str, bool, int]], max_bytes: int | None) -> None:
    """Check the whole member list: names, duplicates, file-versus-folder clashes, the total size."""
    files: set[Path] = set()
    dirs: set[Path] = set()
    total = 0
    for name, is_dir, size in entries:
        dest = _safe_member(name, target)
        if dest == target.resolve() and not is_dir:
            raise CorruptDataError(f"{archive}: member {name!r} has no file name")
        if dest in files or (not is_dir and dest in dirs):
            raise CorruptDataError(f"{archive}: member {name!r} appears twice (or as file and folder)")
        (dirs if is_dir else files).add(dest)
        total += size
        if max_bytes is not None and total > max_bytes:
            raise CorruptDataError(f"{archive}: members add up to more than {max_bytes:,} bytes: refused")
    for f in files:
        if any(parent in files for parent in f.parents):
            clash = next(p for p in f.parents if p in files)
            raise CorruptDataError(f"{archive}: member {f.name!r} lies inside the file {clash.name!r}")


def _write_member(src, dest: Path, written: list[Path]) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with src, open(dest, "wb") as out:
        shutil.copyfileobj(src, out)
    written.append(dest)


def safe_extract(archive: str | os.PathLike, target: str | os.PathLike, *, max_bytes: int | None = None) -> list[Path]:
    """Extract a ``.tar[.gz]`` or ``.zip`` into ``target`` after checking every member; return the files.

    Refuses (with :class:`UnsafeArchiveError` or :class:`CorruptDataError`, before writing anything) absolute
    member names, ``..``, symbolic/hard links, device files, duplicates, and more than ``max_bytes`` in all.
    A full disk raises :class:`DiskFullError`.
    """
    archive, target = Path(archive), Path(target)
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                infos = zf.infolist()
                _plan(archive, target, [(i.filename, i.is_dir(), i.file_size) for i in infos], max_bytes)
                for info in infos:
                    dest = _safe_member(info.filename, target)
                    if info.is_dir():
                        dest.mkdir(parents=True, exist_ok=True)
                    else:
                        _write_member(zf.open(info), dest, written)
            return written
        try:
            tf = tarfile.open(archive)
        except tarfile.TarError as exc:
            raise CorruptDataError(f"{archive} is neither a zip nor a tar archive ({exc})") from exc
        with tf:
            members = tf.getmembers()
            for m in members:
                _safe_member(m.name, target)
                if m.issym() or m.islnk():
                    raise UnsafeArchiveError(f"archive member {m.name!r} is a link: refused")
                if not (m.isfile() or m.isdir()):
                    raise UnsafeArchiveError(f"archive member {m.name!r} is not a regular file or folder: refused")
            _plan(archive, target, [(m.name, m.isdir(), m.size if m.isfile() else 0) for m in members], max_bytes)
            for m in members:
                dest = _safe_member(m.name, target)
                if m.isdir():
                    dest.mkdir(parents=True, exist_ok=True)
                else:
                    src = tf.extractfile(m)
                    assert src is not None  # regular file, checked above
                    _write_member(src, dest, written)
    except OSError as exc:
        if exc.errno in _NO_SPACE:
            raise DiskFullError(f"not enough disk space to extract {archive.name} into {target} "
                                f"({exc.strerror})") from exc
        if isinstance(exc, gzip.BadGzipFile):
            raise CorruptDataError(f"{archive}: broken gzip stream ({exc})") from exc
        if isinstance(exc, (IsADirectoryError, FileExistsError, NotADirectoryError)):
            raise CorruptDataError(f"{archive}: members clash with each other ({exc})") from exc
        raise
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise CorruptDataError(f"{archive}: broken archive ({exc})") from exc
    return written
