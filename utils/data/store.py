"""Where a file comes from: the offline mirror, then the download cache, then a download.

1. The **offline mirror** (``$COURSE_DATA_MIRROR``, a folder with a ``SHA256SUMS`` file in ``sha256sum`` format):
   a file listed there is verified against that list and used in place. A mirror may hold files that differ
   byte-wise from the canonical ones (re-compressed, a subset); its own list is what counts, and the result
   says whether the bytes (or, for gzip files, the content) are the canonical ones. A file the list does not
   name is never used; a listed file that fails its check is refused and the next source is tried.
2. The **download cache** (``$COURSE_DATA_DIR`` or ``<repo>/data``), verified against the registry's hash (or
   the content hash, or the pin). A cached file that fails is **moved aside** (``<name>.mismatch-<time>``), never
   deleted, and the move is reported.
3. A **download** (see :mod:`utils.data.download`), under a per-file lock so that two processes do not fetch the
   same file twice.

Archive datasets are extracted under a per-dataset lock into a temporary folder, checked, renamed into place,
and only then marked done (``.<folder>.extracted``, which lists every extracted file with its size and sha256):
a half-extracted folder is never taken for a complete one, and a changed file causes a fresh extraction.
"""

from __future__ import annotations

import contextlib
import glob
import gzip
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..paths import data_dir, mirror_dir
from . import download as _dl
from .archives import safe_extract
from .errors import CorruptDataError, DataError, DataUnavailable, DiskFullError
from .registry import Dataset, RemoteFile, check_relative, get_dataset

# ---------------------------------------------------------------------------------------------------- hashes


def file_hash(path: str | os.PathLike, alg: str = "sha256") -> str:
    """The hex digest of a file (streamed)."""
    h = hashlib.new(alg)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


_MEMO: dict[tuple, str] = {}


def _digest(path: Path, alg: str = "sha256", *, gunzip: bool = False) -> str:
    """``file_hash`` memoised per (path, size, mtime, inode) in this process: a cache hit is hashed once."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns, st.st_ino, alg, gunzip)
    if key not in _MEMO:
        if gunzip:
            h = hashlib.new(alg)
            try:
                with gzip.open(path, "rb") as fh:
                    for block in iter(lambda: fh.read(1 << 20), b""):
                        h.update(block)
                _MEMO[key] = h.hexdigest()
            except (OSError, EOFError):
                _MEMO[key] = ""
        else:
            _MEMO[key] = file_hash(path, alg)
    return _MEMO[key]


def hash_matches(path: str | os.PathLike, known_hash: str) -> bool:
    """True when ``path`` has the pooch-style ``known_hash`` (``"md5:…"``, ``"sha256:…"``)."""
    alg, _, digest = known_hash.partition(":")
    return _digest(Path(path), alg) == digest.lower()


def content_matches(path: Path, content_hash: str) -> bool:
    """True when the gunzipped content of ``path`` has ``content_hash`` (False for a file that is not gzip)."""
    alg, _, digest = content_hash.partition(":")
    return _digest(path, alg, gunzip=True) == digest.lower()


def manifest_digest(pairs: Iterable[tuple[str, str]]) -> str:
    """sha256 of the ``sha256sum`` listing (``"<sha256>  <relative path>\\n"``, sorted by path) of ``pairs``."""
    text = "".join(f"{sha}  {rel}\n" for rel, sha in sorted(pairs))
    return hashlib.sha256(text.encode()).hexdigest()


def _judge(path: Path, rf: RemoteFile, known_sha256: str | None = None) -> str:
    """How ``path`` relates to the registry: "canonical", "same content" (re-compressed), or "differs"."""
    if rf.known_hash:
        alg, _, digest = rf.known_hash.partition(":")
        if (known_sha256 if alg == "sha256" and known_sha256 else _digest(path, alg)) == digest.lower():
            return "canonical"
    if rf.content_hash and content_matches(path, rf.content_hash):
        return "same content"
    return "differs" if rf.known_hash or rf.content_hash else "unknown"


# ------------------------------------------------------------------------------------------ locks, atomic writes


@contextlib.contextmanager
def file_lock(name: str) -> Iterator[bool]:
    """An exclusive inter-process lock ``<data dir>/.locks/<name>.lock``; yields False where none can be had
    (a read-only data dir: then nothing is written anyway)."""
    lock_dir = data_dir() / ".locks"
    path = lock_dir / f"{name.replace('/', '__')}.lock"
    try:
        lock_dir.mkdir(parents=True, exist_ok=True)
        try:
            fh = open(path, "a+b")
        except PermissionError:  # another user's lock file in a shared cache: flock works on a read-only handle
            fh = open(path, "rb")
    except OSError:
        yield False
        return
    with fh:
        if sys.platform == "win32":  # pragma: no cover - the course runs on Linux/macOS/Colab
            import msvcrt

            while True:
                try:
                    msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)
                    break
                except OSError:
                    time.sleep(0.1)
            try:
                yield True
            finally:
                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield True
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and ``os.replace`` (readers never see half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.chmod(tmp, 0o666 & ~_dl._umask())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        if exc.errno in _dl._NO_SPACE:
            raise DiskFullError(f"not enough disk space to write {path}") from exc
        raise


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def move_aside(path: Path, why: str) -> Path:
    """Rename ``path`` to ``<name>.mismatch-<UTC time>`` (never delete a user's file), print and return it."""
    aside = path.with_name(f"{path.name}.mismatch-{_stamp()}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.mismatch-{_stamp()}-{n}")
    path.rename(aside)
    print(f"note: {path} {why}: moved aside to {aside.name} (not deleted)")
    return aside


# ---------------------------------------------------------------------------------------------------- pins


def _pins_path() -> Path:
    return data_dir() / "pins.json"


def _pins() -> dict[str, str]:
    """The pinned sha256 of files without a published checksum. A broken ``pins.json`` is an error, not {}:
    an empty answer would let an unverified file through."""
    path = _pins_path()
    try:
        pins = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is not valid JSON ({exc}): repair it, or move it away to pin again") from None
    if not isinstance(pins, dict):
        raise DataError(f"{path} must hold a JSON object of 'path': 'sha256:<hex>'")
    return pins


def _pin(rel: str, digest: str) -> None:
    with file_lock("pins"):
        pins = _pins()
        pins[rel] = f"sha256:{digest}"
        write_atomic(_pins_path(), json.dumps(pins, indent=1, sort_keys=True) + "\n")
    print(f"pinned {rel}: sha256 {digest} (no published checksum; later downloads must match this)")


# ---------------------------------------------------------------------------------------------------- the mirror's list


def read_sums(path: str | os.PathLike) -> dict[str, str]:
    """Parse a ``sha256sum``-format file into ``{relative path: hex digest}``.

    Malformed lines, unsafe names (absolute, ``..``, backslashes) and duplicate names raise :class:`DataError`
    with the file and line.
    """
    sums: dict[str, str] = {}
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        digest, sep, name = line.partition("  ")
        if not sep:
            digest, sep, name = line.partition(" *")  # binary-mode marker
        digest = digest.strip().lower()
        if not sep or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise DataError(f"{path}:{n}: not a sha256sum line: {line[:80]!r}")
        name = name.strip()
        if name.startswith("./"):
            name = name[2:]
        try:
            check_relative(name)
        except ValueError:
            raise DataError(f"{path}:{n}: unsafe file name {name!r} (names are relative, with no '..'): "
                            "refused") from None
        if name in sums and sums[name] != digest:
            raise DataError(f"{path}:{n}: {name!r} is listed twice with different checksums")
        sums[name] = digest
    return sums


_SUMS_CACHE: dict[Path, tuple[int, int, dict[str, str]]] = {}


def mirror_sums(mirror: Path) -> dict[str, str]:
    """The mirror's ``SHA256SUMS`` as a dict (cached per file modification time); {} when it has none."""
    sums_file = mirror / "SHA256SUMS"
    if not sums_file.is_file():
        return {}
    st = sums_file.stat()
    cached = _SUMS_CACHE.get(sums_file)
    if cached and cached[:2] == (st.st_mtime_ns, st.st_size):
        return cached[2]
    sums = read_sums(sums_file)
    _SUMS_CACHE[sums_file] = (st.st_mtime_ns, st.st_size, sums)
    return sums


def mirror_problem() -> str | None:
    """Why ``$COURSE_DATA_MIRROR`` cannot be used (missing folder, no SHA256SUMS), or None (unset or fine)."""
    mirror = mirror_dir()
    if mirror is None:
        return None
    if not mirror.is_dir():
        return f"COURSE_DATA_MIRROR={mirror} does not exist"
    if not (mirror / "SHA256SUMS").is_file():
        return f"COURSE_DATA_MIRROR={mirror} has no SHA256SUMS file, so nothing in it is used"
    return None


_WARNED: set[str] = set()


def _warn_once(msg: str) -> None:
    if msg not in _WARNED:
        _WARNED.add(msg)
        print(f"warning: {msg}")


def _mirror_file(rel: str, problems: list[str]) -> tuple[Path, str] | None:
    """The mirror's verified copy of ``rel`` and its sha256, or None (with the reason in ``problems``)."""
    mirror = mirror_dir()
    if mirror is None:
        return None
    bad = mirror_problem()
    if bad:
        _warn_once(bad)
        problems.append(bad)
        return None
    sums = mirror_sums(mirror)
    candidate = mirror / rel
    if rel not in sums:
        if candidate.exists():
            problems.append(f"mirror file {candidate} is not listed in {mirror / 'SHA256SUMS'}: not used")
        return None
    if not candidate.is_file():
        problems.append(f"mirror lists {rel} but {candidate} does not exist")
        return None
    if _digest(candidate) != sums[rel]:
        problems.append(f"mirror file {candidate} does not match its SHA256SUMS entry: refused as corrupt")
        return None
    return candidate, sums[rel]


def _from_mirror(rel: str, problems: list[str]) -> Path | None:  # the old private helper
    found = _mirror_file(rel, problems)
    return None if found is None else found[0]


# ---------------------------------------------------------------------------------------------------- one file


@dataclass(frozen=True)
class Located:
    """A verified local file: where it came from ("mirror", "cache", "download") and how it relates to the
    registry ("canonical", "same content" = re-compressed, "differs" = a mirror's own copy, "pinned")."""

    path: Path
    origin: str
    kind: str


def _offline() -> bool:
    return _dl.offline()


def _unavailable(rf: RemoteFile, problems: list[str], *, archive_of: Dataset | None = None) -> DataUnavailable:
    mirror = mirror_dir()
    try:
        pinned = rf.known_hash or _pins().get(rf.path)
    except DataError as exc:
        pinned, problems = None, [*problems, str(exc)]
    checksum = pinned or f"not published ({rf.hash_source})"
    mirror_now = "not set" if mirror is None else (mirror_problem() or str(mirror))
    what = (f"the extracted folder {archive_of.extracted}/ with its files listed in its SHA256SUMS"
            if archive_of and archive_of.extracted else f"{rf.path} listed in its SHA256SUMS")
    lines = [
        f"Cannot get the data file {rf.path!r}.",
        f"  URL:       {rf.urls[0]}" + "".join(f"\n  or:        {u}" for u in rf.urls[1:]),
        f"  checksum:  {checksum}" + (f"  ({rf.size:,} bytes)" if rf.size else ""),
        "Fix it in one of these ways:",
        f"  * download it on a machine with internet and put it at {data_dir() / rf.path}",
        f"  * or set COURSE_DATA_MIRROR to a mirror folder that has {what} (now: {mirror_now})",
        "    (`python -m utils.data mirror DEST` writes such a folder on a machine that has the data)",
    ]
    if problems:
        lines.append("What was tried:")
        lines += [f"  - {p}" for p in problems]
    return DataUnavailable("\n".join(lines))


def _check_cached(rf: RemoteFile, target: Path, problems: list[str]) -> Located | None:
    if not target.is_file():
        return None
    if rf.known_hash is None:
        pinned = _pins().get(rf.path)
        if pinned is None or hash_matches(target, pinned):
            return Located(target, "cache", "pinned" if pinned else "unknown")
    else:
        kind = _judge(target, rf)
        if kind in ("canonical", "same content"):
            return Located(target, "cache", kind)
    try:
        aside = move_aside(target, "does not match its checksum")
    except OSError as exc:  # a read-only cache: never download over the user's file
        problems.append(f"cached {target} fails its checksum and cannot be moved aside ({exc.strerror}): "
                        "left in place, not used, nothing downloaded over it")
        raise _unavailable(rf, problems) from None
    problems.append(f"cached {target} failed its checksum: moved aside to {aside.name} (not deleted)")
    return None


def _remove_stale(parent: Path, pattern: str) -> None:
    """Remove what a killed process left (``.part`` downloads, ``.tmp-`` extractions). Called with the lock
    held, and only this code's lock holders create such names, so whatever matches is stale."""
    for p in parent.glob(pattern):
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


def locate(rf: RemoteFile, *, dataset: Dataset | None = None) -> Located:
    """Return ``rf`` verified, from the mirror, the cache or a download (in that order), with its provenance."""
    problems: list[str] = []
    found = _mirror_file(rf.path, problems)
    if found is not None:
        return Located(found[0], "mirror", _judge(found[0], rf, found[1]))
    target = data_dir() / rf.path
    with file_lock(rf.path) as locked:
        hit = _check_cached(rf, target, problems)
        if hit is not None:
            return hit
        if locked and target.parent.is_dir():
            _remove_stale(target.parent, f".{glob.escape(target.name)}.????????.part")
        if _offline():
            problems.append("COURSE_OFFLINE is set: no download attempted")
            raise _unavailable(rf, problems, archive_of=dataset)
        pinned = None if rf.known_hash else _pins().get(rf.path)
        expected = rf.known_hash or pinned
        policy = _dl.Policy.from_env(rf.size)
        deadline_at = time.monotonic() + policy.deadline
        for url in rf.urls:
            try:
                sha = _dl.download(url, target, expected, cap=rf.byte_cap, policy=policy, deadline_at=deadline_at,
                                   log=problems)
                break
            except _dl.DownloadError as exc:
                if not exc.next_url:
                    break
        else:
            raise _unavailable(rf, problems, archive_of=dataset)
        if not target.is_file():
            raise _unavailable(rf, problems, archive_of=dataset)
        if expected is None:
            _pin(rf.path, sha)
    return Located(target, "download", "canonical" if rf.known_hash else "pinned")


def fetch_file(rf: RemoteFile, *, dataset: str | None = None) -> Path:
    """Return a local, verified path for ``rf``: from the mirror, the cache, or a download (in that order).

    (``dataset`` is accepted for backwards compatibility; :func:`locate` also says where the file came from.)
    """
    return locate(rf).path


class Fetched(list):
    """The local paths :func:`fetch` returns (a list), with ``origin``: "mirror", "cache", "download" or a
    mixture ("cache+download"), and ``kinds``: each file's relation to the registry."""

    origin: str = ""
    kinds: tuple[str, ...] = ()


def _combine(origins: Iterable[str]) -> str:
    present = set(origins)
    return "+".join(o for o in ("mirror", "cache", "download") if o in present)


def fetch(name: str, parts: Iterable[str] | None = None) -> Fetched:
    """Fetch dataset ``name`` (all its files, or the ones in ``parts``: registry paths or file names); return
    their local paths.

    A dataset distributed as an archive returns its extracted folder instead (see :func:`dataset_dir`).
    """
    ds = get_dataset(name)
    if isinstance(parts, (str, bytes, os.PathLike)):
        raise TypeError(f"parts is a list of file paths, e.g. [{str(parts)!r}], not one string")
    if ds.extracted:
        if parts is not None:
            raise ValueError(f"{name} is an archive dataset: it has no parts (got {list(parts)}); "
                             "use dataset_files() for its files")
        folder = dataset_files(name)
        out = Fetched([folder.path])
        out.origin, out.kinds = folder.origin, (folder.kind,)
        return out
    files = list(ds.files)
    if parts is not None:
        wanted = list(parts)
        by_name = {f.path: f for f in ds.files} | {Path(f.path).name: f for f in ds.files}
        unknown = [p for p in wanted if p not in by_name]
        if unknown:
            raise KeyError(f"{name}: unknown parts {unknown}; known: {', '.join(f.path for f in ds.files)}")
        files = list(dict.fromkeys(by_name[p] for p in wanted))
    found = [locate(f, dataset=ds) for f in files]
    out = Fetched(f.path for f in found)
    out.origin, out.kinds = _combine(f.origin for f in found), tuple(f.kind for f in found)
    return out


# ---------------------------------------------------------------------------------------------------- archive datasets


@dataclass(frozen=True)
class Folder:
    """An archive dataset's verified folder: ``files`` are the paths (relative, ``/``) that were verified and
    may be loaded; any other file in ``path`` is ignored."""

    path: Path
    files: tuple[str, ...]
    origin: str
    kind: str

    def glob(self, pattern: str) -> list[Path]:
        """The verified files matching ``pattern`` (``fnmatch`` style on the relative path), sorted."""
        from fnmatch import fnmatchcase

        return [self.path / f for f in self.files if fnmatchcase(f, pattern)]


def _manifest_kind(ds: Dataset, digests: dict[str, str]) -> str:
    if ds.manifest is None:
        return "unknown"
    from fnmatch import fnmatchcase

    pairs = [(rel, sha) for rel, sha in digests.items() if fnmatchcase(rel, ds.manifest_glob)]
    return "canonical" if manifest_digest(pairs) == ds.manifest else "differs"


def _unlisted(folder: Path, listed: set[str]) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_file() and p.relative_to(folder).as_posix() not in listed)


def _mirror_folder(ds: Dataset, problems: list[str]) -> Folder | None:
    mirror = mirror_dir()
    if mirror is None or mirror_problem():
        if mirror is not None:
            _warn_once(mirror_problem())
            problems.append(mirror_problem())
        return None
    prefix = ds.extracted.rstrip("/") + "/"
    listed = {rel[len(prefix):]: sha for rel, sha in mirror_sums(mirror).items() if rel.startswith(prefix)}
    if not listed:
        return None
    bad = [rel for rel in listed if _mirror_file(prefix + rel, problems) is None]
    if bad:
        return None
    folder = mirror / ds.extracted
    extra = _unlisted(folder, set(listed))
    if extra:
        _warn_once(f"{len(extra)} file(s) in the mirror folder {folder} are not listed in its SHA256SUMS and are "
                   f"ignored (never loaded): {', '.join(extra[:5])}{' …' if len(extra) > 5 else ''}")
    return Folder(folder, tuple(sorted(listed)), "mirror", _manifest_kind(ds, listed))


def _stamp_path(out: Path) -> Path:
    return out.parent / f".{out.name}.extracted"


def _read_stamp(out: Path) -> dict | None:
    """The marker of a finished extraction, or None. The old marker (a bare digest) does not count: it was
    written by a version that could leave a partial folder."""
    try:
        stamp = json.loads(_stamp_path(out).read_text())
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return stamp if isinstance(stamp, dict) and stamp.get("format") == 2 else None


def _stamp_ok(out: Path, stamp: dict | None, archive_sha: str | None, *, verify: bool = False) -> bool:
    """Whether ``out`` is the finished extraction ``stamp`` describes: every file there with its size, and
    with ``verify`` also its sha256 (memoised per process), so that what is loaded is what was extracted."""
    if stamp is None or not out.is_dir() or (archive_sha and stamp.get("archive_sha256") != archive_sha):
        return False
    files, digests = stamp.get("files") or {}, stamp.get("sha256") or {}
    if verify and set(digests) != set(files):  # a marker without checksums (earlier today's code): redo
        return False
    for rel, size in files.items():
        try:
            if (out / rel).stat().st_size != size or (verify and _digest(out / rel) != digests[rel]):
                return False
        except OSError:
            return False
    return bool(files)


def _extract(ds: Dataset, archive: Path, archive_sha: str, out: Path) -> dict:
    """Extract into a temporary folder beside ``out``, verify, rename into place, write the marker last."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
    try:
        rf = ds.files[0]
        cap = 20 * (rf.size or rf.max_size or archive.stat().st_size) + (1 << 20)
        safe_extract(archive, tmp, max_bytes=cap)
        fresh = tmp / out.name
        if not fresh.is_dir():
            raise CorruptDataError(f"{archive} did not unpack to {out.name}/")
        digests = {p.relative_to(fresh).as_posix(): file_hash(p) for p in sorted(fresh.rglob("*")) if p.is_file()}
        kind = _manifest_kind(ds, digests)
        if kind == "differs":
            raise CorruptDataError(f"{archive}: its files do not match the registry's manifest for {ds.name} "
                                   f"({ds.manifest_glob}): not the canonical data")
        old_stamp = _stamp_path(out)
        if out.exists():
            if old_stamp.exists():  # our own earlier extraction (stale or partial): replace it
                old_stamp.unlink()  # the marker goes first and comes back last
                out.rename(tmp / "old")
            else:  # not made by this code: keep it
                move_aside(out, "is not a finished extraction")
        os.rename(fresh, out)
        stamp = {"format": 2, "archive_sha256": archive_sha, "kind": kind,
                 "files": {rel: (out / rel).stat().st_size for rel in digests}, "sha256": digests}
        write_atomic(old_stamp, json.dumps(stamp, indent=0, sort_keys=True) + "\n")  # the marker, last
        return stamp
    except OSError as exc:
        if exc.errno in _dl._NO_SPACE:
            raise DiskFullError(f"not enough disk space to extract {archive.name} into {out.parent}: free some "
                                "space or set COURSE_DATA_DIR to a disk with room") from exc
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def dataset_files(name: str) -> Folder:
    """An archive dataset's verified folder and the files in it that may be loaded (see :class:`Folder`).

    From the mirror (its SHA256SUMS lists the folder's files; unlisted files are ignored with a warning), else
    from the cache: extracted once, under a lock, atomically; the marker lists every file.
    """
    ds = get_dataset(name)
    if not ds.extracted:
        raise ValueError(f"{name} is not an archive dataset; use fetch({name!r})")
    problems: list[str] = []
    found = _mirror_folder(ds, problems)
    if found is not None:
        return found
    out = data_dir() / ds.extracted
    with file_lock(f"dataset-{name}") as locked:
        stamp = _read_stamp(out)
        if not locked and _stamp_ok(out, stamp, None, verify=True):  # a read-only cache, extracted before
            return _cached_folder(out, stamp)
        try:
            located = locate(ds.files[0], dataset=ds)
        except DataUnavailable as exc:
            if problems:
                raise DataUnavailable(str(exc) + "\n" + "\n".join(f"  - {p}" for p in problems)) from None
            raise
        archive_sha = _digest(located.path)
        if not _stamp_ok(out, stamp, archive_sha, verify=True):
            out.parent.mkdir(parents=True, exist_ok=True)
            if locked:
                _remove_stale(out.parent, f".{glob.escape(out.name)}.tmp-*")
            stamp = _extract(ds, located.path, archive_sha, out)
        folder = _cached_folder(out, stamp)
    return Folder(folder.path, folder.files, located.origin, folder.kind)


def _cached_folder(out: Path, stamp: dict) -> Folder:
    listed = set(stamp["files"])
    extra = _unlisted(out, listed)
    if extra:
        _warn_once(f"{len(extra)} file(s) in {out} were not in the archive and are ignored: "
                   f"{', '.join(extra[:5])}{' …' if len(extra) > 5 else ''}")
    return Folder(out, tuple(sorted(listed)), "cache", stamp.get("kind", "unknown"))


def dataset_dir(name: str) -> Path:
    """The folder of an archive dataset: the mirror's verified copy, else the extracted download.

    Only the files :func:`dataset_files` lists are verified; prefer it (the loaders use it).
    """
    return dataset_files(name).path


def _fetch_with(rf: RemoteFile, name: str, problems: list[str]) -> Path:  # the old private helper
    try:
        return locate(rf, dataset=get_dataset(name)).path
    except DataUnavailable as exc:
        raise DataUnavailable(str(exc) + "\n" + "\n".join(f"  - {p}" for p in problems)) from None


__all__ = ["Fetched", "Folder", "Located", "dataset_dir", "dataset_files", "fetch", "fetch_file", "file_hash",
           "hash_matches", "locate", "manifest_digest", "mirror_problem", "mirror_sums", "read_sums"]
