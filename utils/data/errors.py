"""The data layer's errors: one base class, so a notebook or the command line can catch them all."""

from __future__ import annotations


class DataError(RuntimeError):
    """Base class of the data layer's errors."""


class DataUnavailable(DataError):
    """A file could not be had from the mirror, the cache or the network. The message says how to fix it."""


class UnsafeArchiveError(DataError):
    """An archive holds a member that would land outside the target folder (absolute, ``..``, a link)."""


class CorruptDataError(DataError):
    """A file was found but its content is not what it should be (bad header, wrong size, wrong checksum)."""


class DiskFullError(DataError):
    """Writing a download or an extracted archive failed for lack of disk space (or a file-size limit)."""
