"""Data: one registry of every file the course uses, verified downloads, an offline mirror, and loaders.

Where a file comes from, in this order:

1. the **offline mirror** (``$COURSE_DATA_MIRROR``, a directory with a ``SHA256SUMS`` file in ``sha256sum``
   format): a file listed there is verified against that list and then used in place. A mirror may hold files
   that differ byte-wise from the canonical ones (re-compressed, a subset); its own list is what counts.
   A mirror file that fails its check is refused (never used) and the next source is tried.
2. the **download cache** (``$COURSE_DATA_DIR`` or ``<repo>/data``), verified against the registry's hash;
3. a **download** with :mod:`pooch` (temporary file, hash check, then move; retries; timeouts), from the
   registry's URLs in order.

With none of them available (offline, no mirror) a :class:`DataUnavailable` error names the file, its URL, its
checksum and where to put it. ``COURSE_OFFLINE=1`` skips the download attempt altogether.

Loaders (``load_<dataset>()``) return NumPy arrays or plain Python objects; converting to tensors is the
notebook's job. Downloaded data is never unpickled and archives are extracted only after every member has
been checked (no absolute paths, no ``..``, no links out of the target).

Run ``python -m utils.data --help`` for the command line: list the datasets, fetch them, write a mirror.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import tarfile
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from .paths import data_dir, mirror_dir

# --------------------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------------------


class DataError(RuntimeError):
    """Base class of the data layer's errors."""


class DataUnavailable(DataError):
    """A file could not be had from the mirror, the cache or the network. The message says how to fix it."""


class UnsafeArchiveError(DataError):
    """An archive holds a member that would land outside the target folder (absolute, ``..``, a link)."""


class CorruptDataError(DataError):
    """A file was found but its content is not what it should be (bad header, wrong size)."""


# --------------------------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------------------------


def _check_relative(path: str) -> None:
    p = PurePosixPath(path)
    if p.is_absolute() or ".." in p.parts or not p.parts or "\\" in path:
        raise ValueError(f"not a safe relative path: {path!r}")


@dataclass(frozen=True)
class RemoteFile:
    """One file the course may download.

    ``path`` is relative, with ``/``: the same under the cache and the mirror. ``known_hash`` is pooch-style
    (``"md5:…"``, ``"sha256:…"``) or ``None`` when nobody publishes one: then the first download is pinned
    (its sha256 is printed and stored in ``<data dir>/pins.json``) and later downloads must match it.
    """

    path: str
    urls: tuple[str, ...]
    known_hash: str | None
    size: int | None = None
    hash_source: str = ""

    def __post_init__(self) -> None:
        if not self.urls:
            raise ValueError(f"{self.path}: a RemoteFile needs at least one URL")
        _check_relative(self.path)
        if self.known_hash is not None:
            alg, _, digest = self.known_hash.partition(":")
            if alg not in ("md5", "sha1", "sha256") or not digest:
                raise ValueError(f"{self.path}: known_hash must look like 'sha256:<hex>', got {self.known_hash!r}")


@dataclass(frozen=True)
class Dataset:
    """A dataset: its files, where they come from, and its licence.

    For a dataset distributed as an archive, ``extracted`` names the folder (relative to the data dir and the
    mirror) the archive unpacks to; a mirror holds that folder's files, already extracted.
    """

    name: str
    title: str
    files: tuple[RemoteFile, ...]
    source: str
    licence: str
    extracted: str | None = None
    notes: str = ""
    parts: dict[str, str] = field(default_factory=dict)


_GH_RAW = "https://raw.githubusercontent.com"
_NLTK = f"{_GH_RAW}/nltk/nltk_data/gh-pages/packages"
_MIRROR_NOTE = "sha256 of the file at that repository commit (the offline mirror's provenance list, SOURCES.md)"


def _nltk_file(sub: str, md5: str | None, size: int, sha256: str | None = None) -> RemoteFile:
    known = f"sha256:{sha256}" if sha256 else f"md5:{md5}"
    return RemoteFile(f"nltk_data/{sub}", (f"{_NLTK}/{sub}",), known, size,
                      "nltk_data's index.xml (md5)" if md5 else "sha256 published with the nltk_data package")


REGISTRY: dict[str, Dataset] = {
    d.name: d
    for d in [
        Dataset(
            "mnist", "MNIST handwritten digits (60,000 train / 10,000 test, 28x28 grey)",
            tuple(
                RemoteFile(f"mnist/{fname}",
                           (f"https://ossci-datasets.s3.amazonaws.com/mnist/{fname}",
                            f"https://storage.googleapis.com/cvdf-datasets/mnist/{fname}"),
                           f"md5:{md5}", size, "md5 published by the MNIST distributors (torchvision, TFDS)")
                for fname, md5, size in [
                    ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873", 9912422),
                    ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432", 28881),
                    ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3", 1648877),
                    ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c", 4542),
                ]
            ),
            source="Y. LeCun, C. Cortes, C. Burges, http://yann.lecun.com/exdb/mnist/",
            licence="CC BY-SA 3.0 (as distributed by TFDS / torchvision)",
        ),
        Dataset(
            "cifar10", "CIFAR-10 tiny images, binary version (50,000 train / 10,000 test, 32x32 RGB, 10 classes)",
            (RemoteFile("cifar10/cifar-10-binary.tar.gz", ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",),
                        "md5:c32a1d4ab5d03f1284b67883e8d87530", 170052171,
                        "md5 published on the dataset's page, https://www.cs.toronto.edu/~kriz/cifar.html"),),
            source="A. Krizhevsky, Learning Multiple Layers of Features from Tiny Images (2009)",
            licence="no licence stated; free for research and teaching",
        ),
        Dataset(
            "tinyshakespeare", "tiny-shakespeare: 1.1 MB of Shakespeare plays (char-rnn)",
            (RemoteFile("tinyshakespeare/input.txt",
                        (f"{_GH_RAW}/karpathy/char-rnn/d1d7aa34fdb3626174bce1d753e6cc6845ce7087/data/tinyshakespeare/input.txt",),
                        "sha256:86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed", 1115394,
                        "the sha256 in wide use for this file (e.g. by its loaders)"),),
            source="A. Karpathy, char-rnn", licence="public domain text (Shakespeare); char-rnn is MIT",
        ),
        Dataset(
            "alice", "Alice's Adventures in Wonderland (Project Gutenberg #11): the Keras book's file and the current edition",
            (RemoteFile("alice/alice_in_wonderland.txt",
                        (f"{_GH_RAW}/sujitpal/intro-dl-talk-code/5dd8fecd0d3edc3901598bb99c00a9ce32d16bf8/data/alice_in_wonderland.txt",),
                        "sha256:6b95b094df1aea86711b656a8d80cf9e76ee019d7606f6a905360f47cda88fe6", 147651, _MIRROR_NOTE),
             RemoteFile("alice/11-0.txt",
                        (f"{_GH_RAW}/gutenbergbooks/11/5e5120e12a58a10254e0e6a42661d887e61c2aac/11-0.txt",),
                        "sha256:f17aa0bf7466424a8b357b688678666bad7a0148963ef349016a3098faa6bd1e", 151095, _MIRROR_NOTE)),
            source="Lewis Carroll, via Project Gutenberg", licence="public domain in the USA",
            parts={"book": "alice/alice_in_wonderland.txt", "gutenberg": "alice/11-0.txt"},
        ),
        Dataset(
            "umich_sentiment", "UMICH SI650 sentiment sentences (Kaggle), the Keras book's ch. 5-6 file",
            (RemoteFile("umich-sentiment/umich-sentiment-train.txt",
                        (f"{_GH_RAW}/PacktPublishing/Deep-Learning-with-Keras/9559743621823e81aba3f5b49075f452e4c50edd/Chapter06/data/umich-sentiment-train.txt",),
                        "sha256:8e9aed3f76ddc6db6564f28f2de15fd9d65c07c1e56846787ea7c961d6b098e9", 448075, _MIRROR_NOTE),),
            source="University of Michigan SI650 (Kaggle in-class competition, 2011)",
            licence="research/teaching use (Kaggle competition data)",
        ),
        Dataset(
            "nltk", "NLTK corpora: brown, treebank sample, movie_reviews, stopwords, universal tagset, punkt_tab",
            (
                _nltk_file("corpora/brown.zip", "a0a8630959d3d937873b1265b0a05497", 3314357),
                _nltk_file("corpora/movie_reviews.zip", "155de2b77c6834dd8eea7cbe88e93acb", 4004848),
                _nltk_file("corpora/stopwords.zip", "8726a900bca7083674536e2593686361", 34276),
                _nltk_file("corpora/treebank.zip", "78c24a97940c2504d0ad35dd3f8a560b", 1740034),
                _nltk_file("taggers/universal_tagset.zip", "ba5a69f2148a8cea6fb5084585e20890", 19095),
                _nltk_file("tokenizers/punkt_tab.zip", None, 4319076,
                           "e57f64187974277726a3417ca6f181ec5403676c717672eef6a748a7b20e0106"),
            ),
            source="NLTK data, https://www.nltk.org/nltk_data/",
            licence="per corpus: brown and treebank non-commercial, movie_reviews CC BY 4.0, universal_tagset CC BY-SA 4.0",
            notes="An offline mirror may hold an English-only punkt_tab.zip (other languages then raise LookupError).",
        ),
        Dataset(
            "fsdd", "Free Spoken Digit Dataset v1.0.10: 3,000 recordings of digits 0-9, 6 speakers, 8 kHz mono",
            (RemoteFile("fsdd/free-spoken-digit-dataset-v1.0.10.tar.gz",
                        ("https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/v1.0.10.tar.gz",),
                        None, None, "none published (GitHub tag archive): pinned on first download"),),
            source="Z. Jackson et al., https://github.com/Jakobovski/free-spoken-digit-dataset",
            licence="CC BY-SA 4.0", extracted="fsdd/free-spoken-digit-dataset-1.0.10",
        ),
    ]
}

NLTK_RESOURCES = {Path(f.path).stem: f.path for f in REGISTRY["nltk"].files}


def get_dataset(name: str) -> Dataset:
    """The registry entry ``name``; ``KeyError`` lists the valid names."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(REGISTRY)}") from None


# --------------------------------------------------------------------------------------------------------------
# Hashes, pins, the mirror's list
# --------------------------------------------------------------------------------------------------------------


def file_hash(path: str | os.PathLike, alg: str = "sha256") -> str:
    """The hex digest of a file (streamed)."""
    h = hashlib.new(alg)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def hash_matches(path: str | os.PathLike, known_hash: str) -> bool:
    """True when ``path`` has the pooch-style ``known_hash`` (``"md5:…"``, ``"sha256:…"``)."""
    alg, _, digest = known_hash.partition(":")
    return file_hash(path, alg) == digest.lower()


def _pins_path() -> Path:
    return data_dir() / "pins.json"


def _pins() -> dict[str, str]:
    try:
        return json.loads(_pins_path().read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _pin(rel: str, digest: str) -> None:
    pins = _pins()
    pins[rel] = f"sha256:{digest}"
    _pins_path().parent.mkdir(parents=True, exist_ok=True)
    _pins_path().write_text(json.dumps(pins, indent=1, sort_keys=True) + "\n")
    print(f"pinned {rel}: sha256 {digest} (no published checksum; later downloads must match this)")


def read_sums(path: str | os.PathLike) -> dict[str, str]:
    """Parse a ``sha256sum``-format file into ``{relative path: hex digest}``; malformed lines raise."""
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
        sums[name] = digest
    return sums


_SUMS_CACHE: dict[Path, tuple[float, dict[str, str]]] = {}
_VERIFIED: dict[tuple[str, int, float], str] = {}


def mirror_sums(mirror: Path) -> dict[str, str]:
    """The mirror's ``SHA256SUMS`` as a dict (cached per file modification time); {} when it has none."""
    sums_file = mirror / "SHA256SUMS"
    if not sums_file.is_file():
        return {}
    mtime = sums_file.stat().st_mtime
    cached = _SUMS_CACHE.get(sums_file)
    if cached and cached[0] == mtime:
        return cached[1]
    sums = read_sums(sums_file)
    _SUMS_CACHE[sums_file] = (mtime, sums)
    return sums


def _sha256_memo(path: Path) -> str:
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime)
    if key not in _VERIFIED:
        _VERIFIED[key] = file_hash(path)
    return _VERIFIED[key]


def _from_mirror(rel: str, problems: list[str]) -> Path | None:
    mirror = mirror_dir()
    if mirror is None:
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
    if _sha256_memo(candidate) != sums[rel]:
        problems.append(f"mirror file {candidate} does not match its SHA256SUMS entry: refused as corrupt")
        return None
    return candidate


# --------------------------------------------------------------------------------------------------------------
# Fetching one file
# --------------------------------------------------------------------------------------------------------------

#: Where each dataset came from in this process: "mirror", "cache" or "download" (see :func:`describe`).
ORIGINS: dict[str, str] = {}


def _offline() -> bool:
    return os.environ.get("COURSE_OFFLINE", "").strip().lower() in ("1", "true", "yes")


def _timeout() -> float:
    return float(os.environ.get("COURSE_DOWNLOAD_TIMEOUT", "30"))


def _retries() -> int:
    return int(os.environ.get("COURSE_DOWNLOAD_RETRIES", "2"))


def _unavailable(rf: RemoteFile, problems: list[str]) -> DataUnavailable:
    mirror = mirror_dir()
    checksum = rf.known_hash or _pins().get(rf.path) or f"none published ({rf.hash_source})"
    lines = [
        f"Cannot get the data file {rf.path!r}.",
        f"  URL:       {rf.urls[0]}" + "".join(f"\n  or:        {u}" for u in rf.urls[1:]),
        f"  checksum:  {checksum}" + (f"  ({rf.size:,} bytes)" if rf.size else ""),
        "Fix it in one of these ways:",
        f"  * download it on a machine with internet and put it at {data_dir() / rf.path}",
        f"  * or set COURSE_DATA_MIRROR to a mirror folder that has {rf.path} listed in its SHA256SUMS"
        + (f" (now: {mirror})" if mirror else " (now: not set)"),
        "    (`python -m utils.data mirror DEST` writes such a folder on a machine that has the data)",
    ]
    if problems:
        lines.append("What was tried:")
        lines += [f"  - {p}" for p in problems]
    return DataUnavailable("\n".join(lines))


def _download(url: str, target: Path, known_hash: str | None, timeout: float, retries: int) -> None:
    import pooch

    downloader = pooch.HTTPDownloader(progressbar=False, timeout=timeout)
    fetcher = pooch.create(path=target.parent, base_url="", registry={target.name: known_hash},
                           urls={target.name: url}, retry_if_failed=retries)
    fetcher.fetch(target.name, downloader=downloader)


def fetch_file(rf: RemoteFile, *, dataset: str | None = None) -> Path:
    """Return a local, verified path for ``rf``: from the mirror, the cache, or a download (in that order)."""
    problems: list[str] = []
    found = _from_mirror(rf.path, problems)
    if found is not None:
        _note_origin(dataset, "mirror")
        return found
    target = data_dir() / rf.path
    expected = rf.known_hash or _pins().get(rf.path)
    if target.is_file():
        if expected is None or hash_matches(target, expected):
            _note_origin(dataset, "cache")
            return target
        problems.append(f"cached {target} failed its checksum: removed, downloading again")
        target.unlink()
    if _offline():
        problems.append("COURSE_OFFLINE is set: no download attempted")
        raise _unavailable(rf, problems)
    target.parent.mkdir(parents=True, exist_ok=True)
    for url in rf.urls:
        try:
            _download(url, target, expected, _timeout(), _retries())
            break
        except Exception as exc:  # noqa: BLE001 - every failure is reported, then the next URL is tried
            problems.append(f"download from {url} failed: {type(exc).__name__}: {str(exc)[:300]}")
            if target.exists() and expected is not None and not hash_matches(target, expected):
                target.unlink()
    else:
        raise _unavailable(rf, problems)
    if expected is None:
        _pin(rf.path, file_hash(target))
    _note_origin(dataset, "download")
    return target


def _note_origin(dataset: str | None, origin: str) -> None:
    if dataset:
        previous = ORIGINS.get(dataset)
        # "download" beats "cache" beats "mirror" when a dataset's files came from several places
        order = ["mirror", "cache", "download"]
        if previous is None or order.index(origin) > order.index(previous):
            ORIGINS[dataset] = origin


def fetch(name: str, parts: Iterable[str] | None = None) -> list[Path]:
    """Fetch dataset ``name`` (all its files, or the registry paths in ``parts``); return their local paths.

    A dataset distributed as an archive returns its extracted folder instead (see :func:`dataset_dir`).
    """
    ds = get_dataset(name)
    if ds.extracted:
        return [dataset_dir(name)]
    wanted = set(parts) if parts is not None else None
    files = [f for f in ds.files if wanted is None or f.path in wanted]
    if wanted is not None and len(files) != len(wanted):
        raise KeyError(f"{name}: unknown parts {sorted(wanted - {f.path for f in files})}")
    return [fetch_file(f, dataset=name) for f in files]


# --------------------------------------------------------------------------------------------------------------
# Archives
# --------------------------------------------------------------------------------------------------------------


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


def safe_extract(archive: str | os.PathLike, target: str | os.PathLike) -> list[Path]:
    """Extract a ``.tar[.gz]`` or ``.zip`` into ``target`` after checking every member; return the files.

    Refuses (with :class:`UnsafeArchiveError`, before writing anything) absolute member names, ``..``,
    symbolic/hard links and device files.
    """
    archive, target = Path(archive), Path(target)
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            for info in infos:
                _safe_member(info.filename, target)
            for info in infos:
                dest = _safe_member(info.filename, target)
                if info.is_dir():
                    dest.mkdir(parents=True, exist_ok=True)
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(dest, "wb") as out:
                    shutil.copyfileobj(src, out)
                written.append(dest)
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
        for m in members:
            dest = _safe_member(m.name, target)
            if m.isdir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            src = tf.extractfile(m)
            assert src is not None  # regular file, checked above
            with src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out)
            written.append(dest)
    return written


def dataset_dir(name: str) -> Path:
    """The folder of an archive dataset: the mirror's verified copy, else the extracted download."""
    ds = get_dataset(name)
    if not ds.extracted:
        raise ValueError(f"{name} is not an archive dataset; use fetch({name!r})")
    mirror = mirror_dir()
    problems: list[str] = []
    if mirror is not None:
        prefix = ds.extracted.rstrip("/") + "/"
        listed = [rel for rel in mirror_sums(mirror) if rel.startswith(prefix)]
        if listed:
            bad = [rel for rel in listed if _from_mirror(rel, problems) is None]
            if not bad:
                _note_origin(name, "mirror")
                return mirror / ds.extracted
    archive = _fetch_with(ds.files[0], name, problems)
    out = data_dir() / ds.extracted
    stamp = out.parent / f".{out.name}.extracted"
    digest = _sha256_memo(archive)
    if not (out.is_dir() and stamp.is_file() and stamp.read_text() == digest):
        if out.exists():
            shutil.rmtree(out)
        safe_extract(archive, out.parent)
        if not out.is_dir():
            raise CorruptDataError(f"{archive} did not unpack to {out}")
        stamp.write_text(digest)
    return out


def _fetch_with(rf: RemoteFile, name: str, problems: list[str]) -> Path:
    try:
        return fetch_file(rf, dataset=name)
    except DataUnavailable as exc:
        raise DataUnavailable(str(exc) + "\n" + "\n".join(f"  - {p}" for p in problems)) from None


# --------------------------------------------------------------------------------------------------------------
# Loaders
# --------------------------------------------------------------------------------------------------------------

#: Facts about the data each loader returned in this process (sizes, subset or not), for :func:`describe`.
LOADED: dict[str, dict] = {}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (MNIST's format), gzip-compressed or not, checking its header against its size."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise CorruptDataError(f"{path}: broken gzip stream ({exc})") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise CorruptDataError(f"{path}: not an unsigned-byte IDX file (magic {raw[:4].hex()})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    if len(raw) != header + int(np.prod(dims)):
        raise CorruptDataError(f"{path}: header says {dims} but the file has {len(raw) - header} data bytes")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims)


def load_mnist() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """MNIST as ``(x_train, y_train), (x_test, y_test)``: uint8 images (N, 28, 28) and uint8 labels (N,)."""
    paths = {Path(p).name: p for p in fetch("mnist")}
    x_tr = read_idx(paths["train-images-idx3-ubyte.gz"])
    y_tr = read_idx(paths["train-labels-idx1-ubyte.gz"])
    x_te = read_idx(paths["t10k-images-idx3-ubyte.gz"])
    y_te = read_idx(paths["t10k-labels-idx1-ubyte.gz"])
    if len(x_tr) != len(y_tr) or len(x_te) != len(y_te):
        raise CorruptDataError("MNIST: image and label counts differ")
    LOADED["mnist"] = {"train": len(x_tr), "test": len(x_te), "subset": len(x_tr) < 60000 or len(x_te) < 10000}
    return (x_tr, y_tr), (x_te, y_te)


CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
_CIFAR_RECORD = 1 + 32 * 32 * 3


def _cifar_records(data: bytes, member: str) -> tuple[np.ndarray, np.ndarray]:
    if len(data) % _CIFAR_RECORD:
        raise CorruptDataError(f"CIFAR-10 {member}: {len(data)} bytes is not a whole number of records")
    rec = np.frombuffer(data, np.uint8).reshape(-1, _CIFAR_RECORD)
    y = rec[:, 0].copy()
    if y.max(initial=0) > 9:
        raise CorruptDataError(f"CIFAR-10 {member}: label {y.max()} out of range")
    x = rec[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy()  # channels last
    return x, y


def load_cifar10() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """CIFAR-10 (binary version) as ``(x_train, y_train), (x_test, y_test)``: uint8 (N, 32, 32, 3), labels (N,).

    Reads whichever ``data_batch_*.bin`` members the archive holds (a mirror may hold a subset) straight from
    the tar, without extracting or unpickling anything; says so when the result is a subset.
    """
    (archive,) = fetch("cifar10")
    train_parts, test = [], None
    with tarfile.open(archive) as tf:
        members = sorted((m for m in tf.getmembers() if m.isfile()), key=lambda m: m.name)
        for m in members:
            base = PurePosixPath(m.name).name
            if base.startswith("data_batch_") and base.endswith(".bin"):
                train_parts.append(_cifar_records(tf.extractfile(m).read(), base))
            elif base == "test_batch.bin":
                test = _cifar_records(tf.extractfile(m).read(), base)
    if not train_parts or test is None:
        raise CorruptDataError(f"{archive}: no data_batch_*.bin or no test_batch.bin inside")
    x_tr = np.concatenate([p[0] for p in train_parts])
    y_tr = np.concatenate([p[1] for p in train_parts])
    subset = len(x_tr) < 50000 or len(test[0]) < 10000
    LOADED["cifar10"] = {"train": len(x_tr), "test": len(test[0]), "subset": subset}
    if subset:
        print(f"CIFAR-10: a SUBSET — {len(x_tr):,} training / {len(test[0]):,} test images "
              "(the full set has 50,000 / 10,000); label results as subset results")
    return (x_tr, y_tr), test


def load_tiny_shakespeare() -> str:
    """The tiny-shakespeare corpus as one string (1,115,394 characters)."""
    (path,) = fetch("tinyshakespeare")
    text = path.read_text(encoding="utf-8")
    LOADED["tinyshakespeare"] = {"chars": len(text), "subset": False}
    return text


def load_alice(edition: str = "book") -> str:
    """*Alice's Adventures in Wonderland* as a string, line ends normalised to ``\\n``.

    ``edition="book"``: the exact file the Keras book used (older Gutenberg edition, header stripped; its BOM
    is removed here). ``edition="gutenberg"``: Project Gutenberg's current edition of eBook #11.
    """
    ds = get_dataset("alice")
    if edition not in ds.parts:
        raise ValueError(f"edition must be one of {sorted(ds.parts)}, got {edition!r}")
    (path,) = fetch("alice", [ds.parts[edition]])
    text = path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
    LOADED["alice"] = {"edition": edition, "chars": len(text), "subset": False}
    return text


def load_umich_sentiment() -> tuple[list[str], np.ndarray]:
    """UMICH SI650 training sentences and labels (1 positive, 0 negative), in file order."""
    (path,) = fetch("umich_sentiment")
    sentences, labels = [], []
    for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        label, sep, sentence = line.partition("\t")
        if not sep or label.strip() not in ("0", "1"):
            raise CorruptDataError(f"{path}:{n}: expected 'label<TAB>sentence', got {line[:60]!r}")
        labels.append(int(label))
        sentences.append(sentence.strip())
    LOADED["umich_sentiment"] = {"sentences": len(sentences), "subset": False}
    return sentences, np.array(labels, dtype=np.int64)


def load_nltk(*resources: str):
    """Make NLTK find the named resources (all of them by default) offline; return the ``nltk`` module.

    Names: ``brown``, ``movie_reviews``, ``stopwords``, ``treebank``, ``universal_tagset``, ``punkt_tab``.
    The files come from the mirror, the cache or a download like every other file; the folders holding them
    are put first on ``nltk.data.path``. Never call ``nltk.download`` in a notebook: offline it returns
    ``False`` without raising, and the failure shows up later as a confusing ``LookupError``.
    """
    names = resources or tuple(NLTK_RESOURCES)
    unknown = [r for r in names if r not in NLTK_RESOURCES]
    if unknown:
        raise KeyError(f"unknown NLTK resources {unknown}; known: {', '.join(NLTK_RESOURCES)}")
    roots: list[str] = []
    for r in names:
        rel = NLTK_RESOURCES[r]
        (path,) = fetch("nltk", [rel])
        root = str(path.parents[1])  # <root>/corpora/brown.zip -> <root>
        if root not in roots:
            roots.append(root)
    import nltk

    for root in reversed(roots):
        if root in nltk.data.path:
            nltk.data.path.remove(root)
        nltk.data.path.insert(0, root)
    os.environ["NLTK_DATA"] = os.pathsep.join(roots)
    LOADED["nltk"] = {"resources": list(names), "subset": False}
    return nltk


@dataclass
class SpokenDigits:
    """The Free Spoken Digit Dataset: ``waves[i]`` (int16) says digit ``labels[i]``, by ``speakers[i]``."""

    waves: list[np.ndarray]
    labels: np.ndarray
    speakers: list[str]
    takes: np.ndarray
    rate: int

    def split(self) -> tuple[np.ndarray, np.ndarray]:
        """The official split as index arrays ``(train, test)``: takes 0-4 are the test set."""
        test = self.takes < 5
        return np.flatnonzero(~test), np.flatnonzero(test)


def load_fsdd() -> SpokenDigits:
    """All FSDD recordings (files ``{digit}_{speaker}_{take}.wav``) with labels, speakers and takes."""
    from scipy.io import wavfile

    folder = dataset_dir("fsdd") / "recordings"
    files = sorted(folder.glob("*.wav"))
    if not files:
        raise CorruptDataError(f"{folder}: no .wav files")
    waves, labels, speakers, takes, rates = [], [], [], [], set()
    for f in files:
        digit, speaker, take = f.stem.split("_")
        rate, wave = wavfile.read(f)
        rates.add(rate)
        waves.append(wave)
        labels.append(int(digit))
        speakers.append(speaker)
        takes.append(int(take))
    if len(rates) != 1:
        raise CorruptDataError(f"FSDD: mixed sample rates {sorted(rates)}")
    LOADED["fsdd"] = {"recordings": len(files), "subset": len(files) < 3000}
    return SpokenDigits(waves, np.array(labels), speakers, np.array(takes), rates.pop())


def describe(name: str) -> str:
    """One line on the data a loader returned: where it came from, its size, whether it is a subset.

    Use it as the ``source=`` of :func:`utils.record` so the report says what the numbers were computed on.
    """
    ds = get_dataset(name)
    origin = ORIGINS.get(name, "not loaded yet")
    facts = LOADED.get(name, {})
    sizes = ", ".join(f"{k} {v:,}" for k, v in facts.items() if isinstance(v, int) and not isinstance(v, bool))
    label = "SUBSET" if facts.get("subset") else "full"
    where = {"mirror": "offline mirror", "cache": "download cache", "download": "downloaded"}.get(origin, origin)
    return f"{ds.name} ({label}{', ' + sizes if sizes else ''}; {where})"


# --------------------------------------------------------------------------------------------------------------
# Writing a mirror
# --------------------------------------------------------------------------------------------------------------


def write_mirror(dest: str | os.PathLike, names: Iterable[str] | None = None) -> Path:
    """Copy the named datasets (all by default) into ``dest`` in mirror layout and write ``dest/SHA256SUMS``.

    The files come from the current mirror, the cache or a download. Archive datasets are written extracted,
    as a mirror holds them. Existing entries of ``dest/SHA256SUMS`` for other files are kept.
    """
    dest = Path(dest).resolve()
    src_mirror = mirror_dir()
    if src_mirror is not None and src_mirror == dest:
        raise ValueError("the destination is the mirror being read: choose another folder")
    dest.mkdir(parents=True, exist_ok=True)
    sums = mirror_sums(dest) if (dest / "SHA256SUMS").is_file() else {}
    for name in names or REGISTRY:
        ds = get_dataset(name)
        if ds.extracted:
            folder = dataset_dir(name)
            pairs = [(f, f"{ds.extracted}/{f.relative_to(folder).as_posix()}")
                     for f in sorted(folder.rglob("*")) if f.is_file()]
        else:
            pairs = [(p, f.path) for p, f in zip(fetch(name), ds.files)]
        for src, rel in pairs:
            out = dest / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            if out.resolve() != src.resolve():
                shutil.copyfile(src, out)
            sums[rel] = file_hash(out)
        print(f"{name}: {len(pairs)} file(s) written to {dest}")
    lines = [f"{digest}  {rel}\n" for rel, digest in sorted(sums.items())]
    (dest / "SHA256SUMS").write_text("".join(lines))
    _SUMS_CACHE.pop(dest / "SHA256SUMS", None)
    return dest / "SHA256SUMS"


def status_lines() -> list[str]:
    """One line per dataset: where it would come from now (mirror / cache / missing), without downloading."""
    mirror = mirror_dir()
    sums = mirror_sums(mirror) if mirror else {}
    lines = []
    for ds in REGISTRY.values():
        if ds.extracted:
            in_mirror = any(rel.startswith(ds.extracted + "/") for rel in sums)
            in_cache = (data_dir() / ds.extracted).is_dir()
        else:
            in_mirror = all(f.path in sums for f in ds.files)
            in_cache = all((data_dir() / f.path).is_file() for f in ds.files)
        where = "mirror" if in_mirror else "cache" if in_cache else "not here yet (download on first use)"
        lines.append(f"{ds.name:<16} {where:<10}  {ds.title}")
    return lines


__all__ = [
    "CIFAR10_CLASSES", "REGISTRY", "CorruptDataError", "DataError", "DataUnavailable", "Dataset", "RemoteFile",
    "SpokenDigits", "UnsafeArchiveError", "dataset_dir", "describe", "fetch", "fetch_file", "file_hash",
    "load_alice", "load_cifar10", "load_fsdd", "load_mnist", "load_nltk", "load_tiny_shakespeare",
    "load_umich_sentiment", "read_idx", "read_sums", "safe_extract", "status_lines", "write_mirror",
]


def main(argv: list[str] | None = None) -> int:
    """``python -m utils.data``: list datasets, fetch some or all, or write a mirror for a lab without internet."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m utils.data", description=main.__doc__)
    sub = parser.add_subparsers(dest="cmd")
    sub.add_parser("list", help="the registry and where each dataset would come from now")
    p_fetch = sub.add_parser("fetch", help="fetch datasets into the cache (all when none is named)")
    p_fetch.add_argument("names", nargs="*", metavar="NAME")
    p_mirror = sub.add_parser("mirror", help="write the datasets (all when none is named) as a mirror folder")
    p_mirror.add_argument("dest", help="the folder to write (files + SHA256SUMS)")
    p_mirror.add_argument("names", nargs="*", metavar="NAME")
    args = parser.parse_args(argv)
    try:
        if args.cmd in (None, "list"):
            print(f"data dir: {data_dir()}\nmirror:   {mirror_dir() or 'not set (COURSE_DATA_MIRROR)'}")
            print("\n".join(status_lines()))
        elif args.cmd == "fetch":
            for name in args.names or REGISTRY:
                t0 = time.perf_counter()
                paths = fetch(name)
                print(f"{name}: {len(paths)} path(s), {describe(name)}, {time.perf_counter() - t0:.1f} s")
        else:
            sums = write_mirror(args.dest, args.names or None)
            print(f"wrote {sums}; check it with: cd {sums.parent} && sha256sum -c SHA256SUMS")
    except (DataError, KeyError) as exc:
        print(f"error: {exc}")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
