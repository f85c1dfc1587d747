"""The registry: every dataset the course uses, its files, URLs, checksums, sizes and licence.

This file is data. Where a checksum comes from is said next to it (``hash_source``); nothing here is computed at
run time. A dataset distributed as an archive names the folder it unpacks to (``extracted``) and, where nobody
publishes a checksum of the archive itself, a ``manifest``: the sha256 of the ``sha256sum`` listing of the files
that matter inside it (see :func:`utils.data.store.manifest_digest`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

_HASH_ALGS = ("md5", "sha1", "sha256")


def check_relative(path: str) -> None:
    """Raise ``ValueError`` unless ``path`` is a safe relative path with ``/`` (no ``..``, not absolute)."""
    if not isinstance(path, str) or not path:
        raise ValueError(f"not a safe relative path: {path!r}")
    p = PurePosixPath(path)
    if (p.is_absolute() or ".." in p.parts or not p.parts
            or "\\" in path or (len(path) > 1 and path[1] == ":") or "\x00" in path):
        raise ValueError(f"not a safe relative path: {path!r}")


_check_relative = check_relative  # the old private name


def _check_hash(what: str, known: str | None) -> None:
    if known is not None:
        alg, _, digest = known.partition(":")
        if alg not in _HASH_ALGS or not digest:
            raise ValueError(f"{what} must look like 'sha256:<hex>', got {known!r}")


@dataclass(frozen=True)
class RemoteFile:
    """One file the course may download.

    ``path`` is relative, with ``/``: the same under the cache and the mirror. ``known_hash`` is pooch-style
    (``"md5:…"``, ``"sha256:…"``) or ``None`` when nobody publishes one: then the first download is pinned
    (its sha256 is printed and stored in ``<data dir>/pins.json``) and later downloads must match it.
    ``size`` (bytes) caps a download (with a little slack); ``max_size`` caps one whose size is not known.
    ``content_hash`` is the hash of the *gunzipped* content, for gzip files that copies may have re-compressed
    (MNIST): a file with another gzip header but the same content is accepted as genuine.
    """

    path: str
    urls: tuple[str, ...]
    known_hash: str | None
    size: int | None = None
    hash_source: str = ""
    content_hash: str | None = None
    max_size: int | None = None

    def __post_init__(self) -> None:
        if not self.urls:
            raise ValueError(f"{self.path}: a RemoteFile needs at least one URL")
        if isinstance(self.urls, str):
            raise ValueError(f"{self.path}: urls is a tuple of URLs, not one string")
        check_relative(self.path)
        _check_hash(f"{self.path}: known_hash", self.known_hash)
        _check_hash(f"{self.path}: content_hash", self.content_hash)

    @property
    def byte_cap(self) -> int | None:
        """The most bytes a download of this file may bring: ``size`` + 1 % + 64 KiB, else ``max_size``."""
        if self.size:
            return self.size + self.size // 100 + 65536
        return self.max_size


@dataclass(frozen=True)
class Dataset:
    """A dataset: its files, where they come from, and its licence.

    For a dataset distributed as an archive, ``extracted`` names the folder (relative to the data dir and the
    mirror) the archive unpacks to; a mirror holds that folder's files, already extracted. ``manifest`` is the
    sha256 of the sorted ``sha256sum`` lines (paths relative to that folder) of the files matching
    ``manifest_glob``: it identifies the canonical content however the archive was packed.
    """

    name: str
    title: str
    files: tuple[RemoteFile, ...]
    source: str
    licence: str
    extracted: str | None = None
    notes: str = ""
    parts: dict[str, str] = field(default_factory=dict)
    manifest: str | None = None
    manifest_glob: str = "**/*"


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
                           f"md5:{md5}", size, "md5 published by the MNIST distributors (torchvision, TFDS); "
                           "content: md5 of the decompressed file (SOURCES.md of the offline mirror)",
                           content_hash=f"md5:{content_md5}")
                for fname, md5, size, content_md5 in [
                    ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873", 9912422, "6bbc9ace898e44ae57da46a324031adb"),
                    ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432", 28881, "a25bea736e30d166cdddb491f175f624"),
                    ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3", 1648877, "2646ac647ad5339dbf082846283269ea"),
                    ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c", 4542, "27ae3e4e09519cfbb04c329615203637"),
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
                        None, None, "a GitHub tag archive: pinned on first download; its recordings are checked "
                        "against the registry's manifest", max_size=200_000_000),),
            source="Z. Jackson et al., https://github.com/Jakobovski/free-spoken-digit-dataset",
            licence="CC BY-SA 4.0", extracted="fsdd/free-spoken-digit-dataset-1.0.10",
            # sha256 of the sha256sum listing of recordings/*.wav at tag v1.0.10 (3,000 files; the mirror's
            # SOURCES.md: every file's git blob equals the tag's tree entry)
            manifest="04e1baae96c6a26e39c623f2b01d0182ddae627ba0ac02a3cdc17ba2af99fd9b",
            manifest_glob="recordings/*.wav",
        ),
        Dataset(
            "airquality", "UCI Air Quality: 9,357 hourly readings of 5 metal-oxide sensors and reference analysers "
            "(benzene, CO, NOx, ...), an Italian city, March 2004 - April 2005",
            (RemoteFile("airquality/AirQualityUCI.csv",
                        (f"{_GH_RAW}/minubae/stepwise_predictor_selection/294cc76b16db31bc4be5a89caa9d0f9c76c9c165/AirQualityUCI/AirQualityUCI.csv",),
                        "sha256:13277ae5d8581e80b7be09d47c7d3d06fe9b8e957078f2cf6e859f955e62f996", 785065,
                        _MIRROR_NOTE + "; the unmodified CSV of UCI's AirQualityUCI.zip"),),
            source="S. De Vito et al., Sensors and Actuators B 129(2), 2008; UCI ML repository, dataset 360",
            licence="CC BY 4.0",
            notes="The canonical distribution is https://archive.ics.uci.edu/ml/machine-learning-databases/00360/"
                  "AirQualityUCI.zip (its CSV member is this file). Semicolons, decimal commas; -200 = missing.",
        ),
        Dataset(
            "babi", "bAbI tasks v1.2 (Weston et al. 2015): 20 question-answering tasks, English, 1k questions per file",
            (RemoteFile("babi/tasks_1-20_v1-2.tar.gz",
                        ("https://s3.amazonaws.com/text-datasets/babi_tasks_1-20_v1-2.tar.gz",
                         "https://www.thespermwhale.com/jaseweston/babi/tasks_1-20_v1-2.tar.gz"),
                        None, None, "nobody pins the archive Keras downloads: pinned on first download; its en/ "
                        "files are checked against the registry's manifest (huggingface's babi_qa records "
                        "sha256 0364ebde659f14d11bc21744516c5ec49d3d06cb692733f66680771244998898 for the "
                        "thespermwhale copy, 15,719,851 bytes)", max_size=40_000_000),),
            source="J. Weston et al., Towards AI-Complete Question Answering (arXiv:1502.05698), Facebook AI Research",
            licence="CC BY 3.0", extracted="babi/tasks_1-20_v1-2",
            # sha256 of the sha256sum listing of en/*.txt (the 40 files of the 1k English tasks; the mirror's
            # SOURCES.md says why they are genuine)
            manifest="2fa671df5fef3abff557fa0c7d720f90fcb6eeefe86228dd3e6e9ebdbc2757e7",
            manifest_glob="en/*.txt",
        ),
    ]
}

NLTK_RESOURCES = {Path(f.path).stem: f.path for f in REGISTRY["nltk"].files}


def get_dataset(name: str) -> Dataset:
    """The registry entry ``name``; ``KeyError`` lists the valid names."""
    if not isinstance(name, str):
        raise TypeError(f"a dataset name is a string, got {name!r}")
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(REGISTRY)}") from None
