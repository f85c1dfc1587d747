"""Data: one registry of every file the course uses, verified downloads, an offline mirror, and loaders.

Where a file comes from, in this order (details in :mod:`utils.data.store`):

1. the **offline mirror** (``$COURSE_DATA_MIRROR``, a directory with a ``SHA256SUMS`` file in ``sha256sum``
   format): a file listed there is verified against that list and then used in place; a file it does not list
   is never used. A mirror may hold files that differ byte-wise from the canonical ones (re-compressed, a
   subset); its own list is what counts, and :func:`describe` says whether they are the canonical ones.
2. the **download cache** (``$COURSE_DATA_DIR`` or ``<repo>/data``), verified against the registry's hash; a
   file that fails is moved aside, never deleted;
3. a **download** (:mod:`utils.data.download`: connect/read timeouts, a total deadline, retries only where they
   can help, the registry's size as a cap, temporary file + hash check + atomic move).

With none of them available (offline, no mirror) a :class:`DataUnavailable` error names the file, its URL, its
checksum and where to put it. ``COURSE_OFFLINE=1`` skips the download attempt altogether (:func:`offline`).
:func:`online` is the opt-in (``COURSE_ONLINE=1``) for optional downloads outside the registry (pretrained
weights): off by default, and never on while ``COURSE_OFFLINE`` is set.

Loaders (``load_<dataset>()``) return NumPy arrays or plain Python objects that also carry ``.source`` (where
the data came from; :func:`describe`). Downloaded data is never unpickled, and archives are extracted only after
every member has been checked, into a temporary folder that is renamed into place under a lock.

The package: :mod:`~utils.data.registry` (the data), :mod:`~utils.data.store` (mirror, cache, pins, locks,
extraction), :mod:`~utils.data.download`, :mod:`~utils.data.archives`, :mod:`~utils.data.loaders`,
:mod:`~utils.data.mirror` (writing a mirror, status), :mod:`~utils.data.cli` (``python -m utils.data --help``).
"""

from __future__ import annotations

from .archives import safe_extract
from .cli import main
from .download import Policy, offline, online
from .errors import CorruptDataError, DataError, DataUnavailable, DiskFullError, UnsafeArchiveError
from .loaders import (
    AIRQUALITY_MISSING,
    CIFAR10_CLASSES,
    LOADED,
    ORIGINS,
    AirQuality,
    BabiLine,
    BabiTask,
    Source,
    Split,
    SpokenDigits,
    Text,
    describe,
    forget,
    last_source,
    load_airquality,
    load_alice,
    load_babi,
    load_cifar10,
    load_fsdd,
    load_mnist,
    load_nltk,
    load_tiny_shakespeare,
    load_umich_sentiment,
    parse_babi,
    read_idx,
)
from .mirror import status_lines, write_mirror
from .registry import NLTK_RESOURCES, REGISTRY, Dataset, RemoteFile, get_dataset
from .store import (
    Fetched,
    Folder,
    Located,
    dataset_dir,
    dataset_files,
    fetch,
    fetch_file,
    file_hash,
    hash_matches,
    locate,
    mirror_sums,
    read_sums,
)

__all__ = [
    "CIFAR10_CLASSES", "LOADED", "ORIGINS", "REGISTRY", "CorruptDataError", "DataError", "DataUnavailable", "Dataset",
    "DiskFullError", "Fetched", "Folder", "Located", "NLTK_RESOURCES", "Policy", "RemoteFile", "Source",
    "SpokenDigits", "Split", "Text", "UnsafeArchiveError", "dataset_dir", "dataset_files", "describe", "fetch",
    "fetch_file", "file_hash", "forget", "get_dataset", "hash_matches", "last_source", "load_alice", "load_cifar10",
    "load_fsdd", "load_mnist", "load_nltk", "load_tiny_shakespeare", "load_umich_sentiment", "locate", "main",
    "mirror_sums", "offline", "online", "read_idx", "read_sums", "safe_extract", "status_lines", "write_mirror",
    # chapter 13
    "AIRQUALITY_MISSING", "AirQuality", "BabiLine", "BabiTask", "load_airquality", "load_babi", "parse_babi",
]
