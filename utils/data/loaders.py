"""Loaders: ``load_<dataset>()`` returns NumPy arrays or plain Python objects, and says where they came from.

Every result carries ``.source``, a :class:`Source`: the dataset, where its files came from (offline mirror,
download cache, download), whether they are the canonical bytes, and the sizes loaded (a subset is labelled).
The results stay what they always were — ``(x_train, y_train), (x_test, y_test)`` unpacks, a text is a ``str`` —
they only gain the attribute. ``describe(result)`` or ``str(result.source)`` is the one-line summary to pass as
``source=`` to :func:`utils.record`; ``describe("mnist")`` describes the last ``load_mnist()`` of this process.
Converting to tensors is the notebook's job. Nothing is ever unpickled.
"""

from __future__ import annotations

import gzip
import os
import tarfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from .errors import CorruptDataError
from .registry import NLTK_RESOURCES, get_dataset
from .store import dataset_files, fetch

# ---------------------------------------------------------------------------------------------------- provenance

_WHERE = {"mirror": "offline mirror", "cache": "download cache", "download": "downloaded"}
_KIND_NOTE = {"same content": ", re-compressed, same content", "differs": ", not the canonical file",
              "unknown": ", unverified"}
_KIND_RANK = ["canonical", "pinned", "same content", "unknown", "differs"]


def _worst(kinds) -> str:
    kinds = [k for k in kinds if k in _KIND_RANK] or ["unknown"]
    return max(kinds, key=_KIND_RANK.index)


@dataclass(frozen=True)
class Source:
    """Where a loader's data came from. ``str(source)`` is the line :func:`describe` prints."""

    dataset: str
    origin: str
    kind: str = "canonical"
    facts: dict = field(default_factory=dict)
    subset: bool = False

    @property
    def canonical(self) -> bool:
        """True when the files are the registry's canonical bytes (or the same content, re-compressed)."""
        return self.kind in ("canonical", "pinned", "same content")

    def __str__(self) -> str:
        sizes = ", ".join(f"{k} {v:,}" for k, v in self.facts.items() if isinstance(v, int) and not isinstance(v, bool))
        label = "SUBSET" if self.subset else "full"
        where = " + ".join(_WHERE.get(o, o) for o in self.origin.split("+"))
        return f"{self.dataset} ({label}{', ' + sizes if sizes else ''}; {where}{_KIND_NOTE.get(self.kind, '')})"


class Split(tuple):
    """``((x_train, y_train), (x_test, y_test))`` — a plain tuple with a ``.source`` attribute."""

    source: Source

    def __new__(cls, items, source: Source):
        obj = super().__new__(cls, items)
        obj.source = source
        return obj

    def __reduce__(self):
        return (Split, (tuple(self), self.source))


class Text(str):
    """A ``str`` with a ``.source`` attribute (string methods return plain ``str``)."""

    source: Source

    def __new__(cls, text: str, source: Source):
        obj = super().__new__(cls, text)
        obj.source = source
        return obj

    def __reduce__(self):
        return (Text, (str(self), self.source))


_LAST: dict[str, Source] = {}  # the last load of each dataset in this process, for describe(name)


def _done(source: Source) -> Source:
    _LAST[source.dataset] = source
    return source


def forget() -> None:
    """Forget which datasets were loaded in this process (``describe(name)`` says "not loaded yet" again)."""
    _LAST.clear()


def last_source(name: str) -> Source | None:
    """The :class:`Source` of the last load of dataset ``name`` in this process, or None."""
    get_dataset(name)
    return _LAST.get(name)


def describe(what: Any) -> str:
    """One line on the data a loader returned: where it came from, its size, whether it is a subset.

    ``what`` is a loader's result (anything with ``.source``), a :class:`Source`, or a dataset name (then the
    last load of that dataset in this process). Use it as the ``source=`` of :func:`utils.record`.
    """
    if isinstance(what, Source):
        return str(what)
    if isinstance(getattr(what, "source", None), Source):  # before the str test: a Text is a str
        return str(what.source)
    if not isinstance(what, str):
        raise TypeError(f"describe() takes a dataset name or a loader's result, got {type(what).__name__}")
    ds = get_dataset(what)
    src = _LAST.get(ds.name)
    return str(src) if src is not None else f"{ds.name} (not loaded yet)"


class _View(Mapping):
    """Read-only views of the last loads, under the old names ``ORIGINS`` and ``LOADED``."""

    def __init__(self, fn) -> None:
        self._fn = fn

    def __getitem__(self, key):
        return self._fn(_LAST[key])

    def __iter__(self) -> Iterator[str]:
        return iter(dict(_LAST))

    def __len__(self) -> int:
        return len(_LAST)

    def clear(self) -> None:
        forget()

    def __repr__(self) -> str:
        return repr(dict(self))


ORIGINS = _View(lambda s: s.origin)
LOADED = _View(lambda s: {**s.facts, "subset": s.subset})


def _source(name: str, fetched, facts: dict, subset: bool = False) -> Source:
    return _done(Source(name, fetched.origin, _worst(fetched.kinds), facts, subset))


# ---------------------------------------------------------------------------------------------------- loaders


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


def load_mnist() -> Split:
    """MNIST as ``(x_train, y_train), (x_test, y_test)``: uint8 images (N, 28, 28) and uint8 labels (N,)."""
    fetched = fetch("mnist")
    paths = {Path(p).name: p for p in fetched}
    x_tr = read_idx(paths["train-images-idx3-ubyte.gz"])
    y_tr = read_idx(paths["train-labels-idx1-ubyte.gz"])
    x_te = read_idx(paths["t10k-images-idx3-ubyte.gz"])
    y_te = read_idx(paths["t10k-labels-idx1-ubyte.gz"])
    if len(x_tr) != len(y_tr) or len(x_te) != len(y_te):
        raise CorruptDataError("MNIST: image and label counts differ")
    src = _source("mnist", fetched, {"train": len(x_tr), "test": len(x_te)}, len(x_tr) < 60000 or len(x_te) < 10000)
    return Split(((x_tr, y_tr), (x_te, y_te)), src)


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


def load_cifar10() -> Split:
    """CIFAR-10 (binary version) as ``(x_train, y_train), (x_test, y_test)``: uint8 (N, 32, 32, 3), labels (N,).

    Reads whichever ``data_batch_*.bin`` members the archive holds (a mirror may hold a subset) straight from
    the tar, without extracting or unpickling anything; says so when the result is a subset.
    """
    fetched = fetch("cifar10")
    (archive,) = fetched
    train_parts, test = [], None
    try:
        with tarfile.open(archive) as tf:
            members = sorted((m for m in tf.getmembers() if m.isfile()), key=lambda m: m.name)
            for m in members:
                base = PurePosixPath(m.name).name
                if base.startswith("data_batch_") and base.endswith(".bin"):
                    train_parts.append(_cifar_records(tf.extractfile(m).read(), base))
                elif base == "test_batch.bin":
                    test = _cifar_records(tf.extractfile(m).read(), base)
    except (tarfile.TarError, EOFError, gzip.BadGzipFile) as exc:
        raise CorruptDataError(f"{archive}: broken archive ({exc})") from exc
    if not train_parts or test is None:
        raise CorruptDataError(f"{archive}: no data_batch_*.bin or no test_batch.bin inside")
    x_tr = np.concatenate([p[0] for p in train_parts])
    y_tr = np.concatenate([p[1] for p in train_parts])
    subset = len(x_tr) < 50000 or len(test[0]) < 10000
    src = _source("cifar10", fetched, {"train": len(x_tr), "test": len(test[0])}, subset)
    if subset:
        print(f"CIFAR-10: a SUBSET — {len(x_tr):,} training / {len(test[0]):,} test images "
              "(the full set has 50,000 / 10,000); label results as subset results")
    return Split(((x_tr, y_tr), test), src)


def load_tiny_shakespeare() -> Text:
    """The tiny-shakespeare corpus as one string (1,115,394 characters)."""
    fetched = fetch("tinyshakespeare")
    text = fetched[0].read_text(encoding="utf-8")
    return Text(text, _source("tinyshakespeare", fetched, {"chars": len(text)}))


def load_alice(edition: str = "book") -> Text:
    """*Alice's Adventures in Wonderland* as a string, line ends normalised to ``\\n``.

    ``edition="book"``: the exact file the Keras book used (older Gutenberg edition, header stripped; its BOM
    is removed here). ``edition="gutenberg"``: Project Gutenberg's current edition of eBook #11.
    """
    ds = get_dataset("alice")
    if not isinstance(edition, str) or edition not in ds.parts:
        raise ValueError(f"edition must be one of {sorted(ds.parts)}, got {edition!r}")
    fetched = fetch("alice", [ds.parts[edition]])
    text = fetched[0].read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
    return Text(text, _source("alice", fetched, {"edition": edition, "chars": len(text)}))


def load_umich_sentiment() -> Split:
    """UMICH SI650 training sentences and labels (1 positive, 0 negative), in file order: ``(sentences, labels)``."""
    fetched = fetch("umich_sentiment")
    path = fetched[0]
    sentences, labels = [], []
    for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        label, sep, sentence = line.partition("\t")
        if not sep or label.strip() not in ("0", "1"):
            raise CorruptDataError(f"{path}:{n}: expected 'label<TAB>sentence', got {line[:60]!r}")
        labels.append(int(label))
        sentences.append(sentence.strip())
    src = _source("umich_sentiment", fetched, {"sentences": len(sentences)})
    return Split((sentences, np.array(labels, dtype=np.int64)), src)


def load_nltk(*resources: str):
    """Make NLTK find the named resources (all of them by default) offline; return the ``nltk`` module.

    Names: ``brown``, ``movie_reviews``, ``stopwords``, ``treebank``, ``universal_tagset``, ``punkt_tab``.
    The files come from the mirror, the cache or a download like every other file; the folders holding them
    are put first on ``nltk.data.path``. Never call ``nltk.download`` in a notebook: offline it returns
    ``False`` without raising, and the failure shows up later as a confusing ``LookupError``.
    (The result is the ``nltk`` module itself, so its provenance is in ``describe("nltk")``.)
    """
    if len(resources) == 1 and isinstance(resources[0], (list, tuple)):
        raise TypeError(f"name the resources as separate arguments: load_nltk(*{list(resources[0])!r})")
    names = resources or tuple(NLTK_RESOURCES)
    unknown = [r for r in names if r not in NLTK_RESOURCES]
    if unknown:
        raise KeyError(f"unknown NLTK resources {unknown}; known: {', '.join(NLTK_RESOURCES)}")
    fetched = fetch("nltk", [NLTK_RESOURCES[r] for r in names])
    roots: list[str] = []
    for path in fetched:
        root = str(path.parents[1])  # <root>/corpora/brown.zip -> <root>
        if root not in roots:
            roots.append(root)
    import nltk

    for root in reversed(roots):
        if root in nltk.data.path:
            nltk.data.path.remove(root)
        nltk.data.path.insert(0, root)
    os.environ["NLTK_DATA"] = os.pathsep.join(roots)
    _source("nltk", fetched, {"resources": len(names)})
    return nltk


@dataclass
class SpokenDigits:
    """The Free Spoken Digit Dataset: ``waves[i]`` (int16) says digit ``labels[i]``, by ``speakers[i]``."""

    waves: list[np.ndarray]
    labels: np.ndarray
    speakers: list[str]
    takes: np.ndarray
    rate: int
    source: Source | None = None

    def split(self) -> tuple[np.ndarray, np.ndarray]:
        """The official split as index arrays ``(train, test)``: takes 0-4 are the test set."""
        test = self.takes < 5
        return np.flatnonzero(~test), np.flatnonzero(test)


def load_fsdd() -> SpokenDigits:
    """All FSDD recordings (files ``{digit}_{speaker}_{take}.wav``) with labels, speakers and takes.

    Only verified files are read: those the mirror's SHA256SUMS lists, or those the archive held.
    """
    from scipy.io import wavfile

    folder = dataset_files("fsdd")
    files = folder.glob("recordings/*.wav")
    if not files:
        raise CorruptDataError(f"{folder.path / 'recordings'}: no verified .wav files")
    waves, labels, speakers, takes, rates = [], [], [], [], set()
    for f in files:
        parts = f.stem.split("_")
        if len(parts) != 3 or not parts[0].isdigit() or not parts[2].isdigit():
            raise CorruptDataError(f"{f}: expected a name '<digit>_<speaker>_<take>.wav'")
        digit, speaker, take = parts
        rate, wave = wavfile.read(f)
        rates.add(rate)
        waves.append(wave)
        labels.append(int(digit))
        speakers.append(speaker)
        takes.append(int(take))
    if len(rates) != 1:
        raise CorruptDataError(f"FSDD: mixed sample rates {sorted(rates)}")
    src = _done(Source("fsdd", folder.origin, folder.kind, {"recordings": len(files)}, len(files) < 3000))
    return SpokenDigits(waves, np.array(labels), speakers, np.array(takes), rates.pop(), src)


# ---------------------------------------------------------------------------------------------------- Air Quality

AIRQUALITY_MISSING = -200.0  #: the UCI file's code for a missing value


@dataclass
class AirQuality:
    """The UCI Air Quality table: ``values[i, j]`` is column ``columns[j]`` at hour ``times[i]``.

    ``values`` is float64 exactly as in the file: a missing value stays ``-200`` (:data:`AIRQUALITY_MISSING`),
    so that a notebook can show what ignoring that code does. ``times`` is ``datetime64[h]``.
    """

    columns: list[str]
    values: np.ndarray
    times: np.ndarray
    source: Source | None = None

    def column(self, name: str) -> np.ndarray:
        """One column by its name in the file's header, e.g. ``"C6H6(GT)"``."""
        if name not in self.columns:
            raise KeyError(f"no column {name!r}; columns: {', '.join(self.columns)}")
        return self.values[:, self.columns.index(name)]

    def missing(self) -> np.ndarray:
        """A boolean mask of the missing values (coded -200 in the file)."""
        return self.values == AIRQUALITY_MISSING


def _number(text: str, where: str) -> float:
    try:
        return float(text.replace(",", "."))
    except ValueError:
        raise CorruptDataError(f"{where}: {text!r} is not a number") from None


def load_airquality() -> AirQuality:
    """UCI Air Quality (``AirQualityUCI.csv``): 13 numeric columns at 9,357 consecutive hours.

    The file: ``;``-separated, decimal commas, ``Date`` (dd/mm/yyyy) and ``Time`` (HH.MM.SS) first, two empty
    trailing fields on every line and empty rows at the end (skipped). Nothing is imputed here.
    """
    fetched = fetch("airquality")
    path = fetched[0]
    lines = path.read_text(encoding="ascii", errors="replace").splitlines()
    if not lines:
        raise CorruptDataError(f"{path}: empty file")
    header = [h for h in lines[0].split(";")]
    while header and not header[-1]:
        header.pop()
    if header[:2] != ["Date", "Time"] or len(header) < 3:
        raise CorruptDataError(f"{path}: expected a header 'Date;Time;...', got {lines[0][:60]!r}")
    columns, rows, stamps = header[2:], [], []
    for n, line in enumerate(lines[1:], 2):
        fields = line.split(";")
        if not any(f.strip() for f in fields):
            continue
        if len(fields) < len(header) or any(f for f in fields[len(header):]):
            raise CorruptDataError(f"{path}:{n}: expected {len(header)} fields, got {line[:60]!r}")
        date, clock = fields[0].split("/"), fields[1].split(".")
        if len(date) != 3 or len(clock) != 3:
            raise CorruptDataError(f"{path}:{n}: bad date/time {fields[0]!r} {fields[1]!r}")
        stamps.append(f"{date[2]}-{date[1]}-{date[0]}T{clock[0]}")
        rows.append([_number(f, f"{path}:{n}") for f in fields[2:len(header)]])
    if not rows:
        raise CorruptDataError(f"{path}: no data rows")
    try:
        times = np.array(stamps, dtype="datetime64[h]")
    except ValueError as exc:
        raise CorruptDataError(f"{path}: bad timestamp ({exc})") from None
    values = np.array(rows, dtype=np.float64)
    src = _source("airquality", fetched, {"hours": len(values), "columns": len(columns)})
    return AirQuality(columns, values, times, src)


# ---------------------------------------------------------------------------------------------------- bAbI

@dataclass(frozen=True)
class BabiLine:
    """One line of a bAbI story: a statement (``answer is None``) or a question with its answer and the
    line numbers of its supporting facts. ``id`` restarts at 1 with every story."""

    id: int
    text: str
    answer: str | None = None
    supports: tuple[int, ...] = ()

    @property
    def is_question(self) -> bool:
        return self.answer is not None


class BabiTask(tuple):
    """``(train_stories, test_stories)`` of one bAbI task — each story a list of :class:`BabiLine` — with
    ``.task`` (number), ``.name`` (e.g. "single-supporting-fact") and ``.source``."""

    source: Source
    task: int
    name: str

    def __new__(cls, items, source: Source, task: int, name: str):
        obj = super().__new__(cls, items)
        obj.source, obj.task, obj.name = source, task, name
        return obj

    def __reduce__(self):
        return (BabiTask, (tuple(self), self.source, self.task, self.name))


def parse_babi(text: str, where: str = "bAbI file") -> list[list[BabiLine]]:
    """Parse the bAbI format into stories: ``ID text`` lines, ID 1 starts a story; a question line is
    ``ID question<TAB>answer<TAB>supporting IDs``. Checks that IDs rise by one and that supports point back."""
    stories: list[list[BabiLine]] = []
    for n, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        nid, sep, rest = raw.partition(" ")
        if not sep or not nid.isdigit():
            raise CorruptDataError(f"{where}:{n}: expected 'ID text', got {raw[:60]!r}")
        nid = int(nid)
        if nid == 1:
            stories.append([])
        elif not stories or stories[-1][-1].id != nid - 1:
            raise CorruptDataError(f"{where}:{n}: line ID {nid} does not follow the previous line")
        if "\t" in rest:
            parts = rest.split("\t")
            if len(parts) != 3 or not parts[1].strip():
                raise CorruptDataError(f"{where}:{n}: a question is 'question<TAB>answer<TAB>IDs', got {raw[:60]!r}")
            try:
                sup = tuple(int(s) for s in parts[2].split())
            except ValueError:
                raise CorruptDataError(f"{where}:{n}: supporting IDs {parts[2]!r} are not numbers") from None
            if any(not 1 <= s < nid for s in sup):
                raise CorruptDataError(f"{where}:{n}: a supporting ID in {sup} is not an earlier line")
            stories[-1].append(BabiLine(nid, parts[0].strip(), parts[1].strip(), sup))
        else:
            stories[-1].append(BabiLine(nid, rest.strip()))
    return stories


def load_babi(task: int = 1) -> BabiTask:
    """bAbI v1.2, English 1k version, task ``task`` (1-20): ``(train_stories, test_stories)``; see :class:`BabiTask`.

    Reads ``en/qa{task}_<name>_{train,test}.txt`` of the verified folder (mirror or extracted archive).
    """
    if isinstance(task, bool) or not isinstance(task, int) or not 1 <= task <= 20:
        raise ValueError(f"task is a number 1-20, got {task!r}")
    folder = dataset_files("babi")
    out, name = [], None
    for split in ("train", "test"):
        files = folder.glob(f"en/qa{task}_*_{split}.txt")
        if len(files) != 1:
            raise CorruptDataError(f"{folder.path / 'en'}: expected one verified qa{task}_*_{split}.txt, "
                                   f"found {len(files)}")
        name = files[0].name[len(f"qa{task}_"):-len(f"_{split}.txt")]
        out.append(parse_babi(files[0].read_text(encoding="utf-8"), str(files[0])))
    facts = {"task": task, "train questions": sum(ln.is_question for s in out[0] for ln in s),
             "test questions": sum(ln.is_question for s in out[1] for ln in s)}
    src = _done(Source("babi", folder.origin, folder.kind, facts, False))
    return BabiTask(tuple(out), src, task, name)
