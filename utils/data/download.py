"""Downloading one file: the policy, in one place.

- **Timeouts**: ``(connect, read)`` = ``$COURSE_CONNECT_TIMEOUT`` (5 s) and ``$COURSE_DOWNLOAD_TIMEOUT`` (30 s),
  plus a **total deadline** per file over all URLs and tries (``$COURSE_DOWNLOAD_DEADLINE``; by default
  120 s + 4 s per MB of the registry's size).
- **Retries** (``$COURSE_DOWNLOAD_RETRIES``, 2) only for what can pass: a 5xx, 408 or 429 answer, a read timeout,
  a connection cut mid-body. Never for a wrong checksum, another 4xx, a refused or timed-out connection (offline,
  a firewall), a file larger than the registry says, or a full disk.
- **Size cap**: the download stops once it passes the registry's size (+1 % + 64 KiB), or ``max_size``.
- The bytes go to a temporary file next to the target, are hashed while they stream, and are moved into place
  (atomic) only after the checksum matched, with normal file permissions (``0666`` less the umask).
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import DataError, DiskFullError

_NO_SPACE = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}
_RETRY_STATUS = {408, 429, 500, 502, 503, 504}


class DownloadError(DataError):
    """One URL failed. ``retry`` says whether trying it again could help; ``next_url`` whether another URL could."""

    def __init__(self, message: str, *, retry: bool, next_url: bool = True) -> None:
        super().__init__(message)
        self.retry = retry
        self.next_url = next_url


def _env_number(name: str, default: float, *, integer: bool = False, minimum: float = 0) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        value = None
    if value is None or value < minimum or (not integer and value == 0):
        kind = "a whole number" if integer else "a number of seconds"
        raise DataError(f"{name} must be {kind} >= {minimum}{'' if integer else ' (not 0)'}, got {raw!r}")
    return value


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


def env_flag(name: str) -> bool:
    """``$name`` as a yes/no setting: ``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off``/unset (any
    case); anything else is a :class:`DataError` that names the variable (a typo must not flip the meaning)."""
    raw = os.environ.get(name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise DataError(f"{name} must be 1 or 0 (also true/false, yes/no, on/off), got {os.environ[name]!r}")


def offline() -> bool:
    """True when ``COURSE_OFFLINE`` forbids downloads: then only the mirror and the cache are used."""
    return env_flag("COURSE_OFFLINE")


def online() -> bool:
    """True when the user opted in to downloads *outside* the registry (``COURSE_ONLINE=1``), such as Keras'
    pretrained ImageNet weights, and ``COURSE_OFFLINE`` is not set. Off by default: a notebook guards such an
    optional, unverified, large download with ``if utils.data.online():`` and runs the same without it."""
    wanted, forbidden = env_flag("COURSE_ONLINE"), offline()  # both read: a typo in either is an error
    return wanted and not forbidden


@dataclass(frozen=True)
class Policy:
    """Timeouts, retries and the total deadline of one file's download (from the environment by default)."""

    connect: float = 5.0
    read: float = 30.0
    retries: int = 2
    deadline: float = 120.0
    backoff: float = 1.0

    @classmethod
    def from_env(cls, size: int | None = None) -> Policy:
        read = _env_number("COURSE_DOWNLOAD_TIMEOUT", 30.0)
        return cls(connect=min(_env_number("COURSE_CONNECT_TIMEOUT", 5.0), read), read=read,
                   retries=int(_env_number("COURSE_DOWNLOAD_RETRIES", 2, integer=True)),
                   deadline=_env_number("COURSE_DOWNLOAD_DEADLINE", 120.0 + 4.0 * (size or 0) / 1e6))


def _hasher(known: str | None):
    alg = (known or "sha256:").partition(":")[0]
    return alg, hashlib.new(alg)


def _attempt(url: str, target: Path, known: str | None, cap: int | None, policy: Policy, deadline_at: float) -> str:
    import requests
    import urllib3

    remaining = max(deadline_at - time.monotonic(), 0.01)  # requests refuses a timeout <= 0
    timeout = (min(policy.connect, remaining), min(policy.read, remaining))
    try:
        resp = requests.get(url, stream=True, timeout=timeout, headers={"Accept-Encoding": "identity"})
    except requests.exceptions.ConnectTimeout as exc:
        raise DownloadError(f"connection timed out after {timeout[0]:g} s (offline or a firewall?)",
                            retry=False) from exc
    except requests.exceptions.TooManyRedirects as exc:
        raise DownloadError(f"too many redirects ({exc})", retry=False) from exc
    except requests.exceptions.ReadTimeout as exc:
        raise DownloadError(f"read timed out after {timeout[1]:g} s (timeout)", retry=True) from exc
    except requests.exceptions.ConnectionError as exc:
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        refused = isinstance(reason, urllib3.exceptions.NewConnectionError)
        raise DownloadError(f"{'cannot connect' if refused else 'connection failed'}: {exc}",
                            retry=not refused) from exc
    with resp:
        if resp.status_code >= 400:
            raise DownloadError(f"HTTP {resp.status_code} {resp.reason}", retry=resp.status_code in _RETRY_STATUS)
        declared = resp.headers.get("Content-Length")
        if cap is not None and declared and declared.isdigit() and int(declared) > cap:
            raise DownloadError(f"the server announces {int(declared):,} bytes, more than the {cap:,} expected: "
                                "refused", retry=False)
        alg, h = _hasher(known)
        sha = hashlib.sha256()
        n = 0
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                try:
                    for chunk in _chunks(resp):
                        n += len(chunk)
                        if cap is not None and n > cap:
                            raise DownloadError(f"more than {cap:,} bytes arrived (the registry's size with slack): "
                                                "stopped", retry=False)
                        if time.monotonic() > deadline_at:
                            raise DownloadError(f"the total deadline of {policy.deadline:.0f} s passed after "
                                                f"{n:,} bytes (COURSE_DOWNLOAD_DEADLINE)", retry=False, next_url=False)
                        h.update(chunk)
                        sha.update(chunk)
                        out.write(chunk)
                except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as exc:
                    raise DownloadError(f"the transfer broke off after {n:,} bytes ({exc})", retry=True) from exc
            if declared and declared.isdigit() and "Content-Encoding" not in resp.headers and n != int(declared):
                raise DownloadError(f"got {n:,} of {int(declared):,} bytes", retry=True)
            if known is not None and h.hexdigest() != known.partition(":")[2].lower():
                raise DownloadError(f"the downloaded file's {alg} hash {h.hexdigest()} does not match the known "
                                    f"hash {known}", retry=False)
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, target)
        except OSError as exc:
            if exc.errno in _NO_SPACE:
                raise DiskFullError(f"not enough disk space in {target.parent} for {target.name} "
                                    f"({exc.strerror}; {n:,} bytes written): free some space or set "
                                    "COURSE_DATA_DIR to a disk with room") from exc
            raise
        finally:
            tmp.unlink(missing_ok=True)
    return sha.hexdigest()


def _chunks(resp):
    """The body in pieces as they arrive (``read1``), so the deadline is checked even when data trickles in:
    ``iter_content`` would wait for a whole 64 KiB block."""
    read1 = getattr(resp.raw, "read1", None)
    if read1 is None:  # pragma: no cover - urllib3 < 2
        yield from resp.iter_content(1 << 16)
        return
    while True:
        chunk = read1(1 << 16, decode_content=True)
        if not chunk:
            return
        yield chunk


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def download(url: str, target: Path, known: str | None, *, cap: int | None, policy: Policy, deadline_at: float,
             log: list[str]) -> str:
    """Download ``url`` to ``target`` (verified, atomic); return the file's sha256. Failed tries go to ``log``.

    Raises :class:`DownloadError` (the last try's) or :class:`DiskFullError`.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(policy.retries + 1):
        if time.monotonic() >= deadline_at:
            raise DownloadError(f"the total deadline of {policy.deadline:.0f} s passed (COURSE_DOWNLOAD_DEADLINE)",
                                retry=False, next_url=False)
        try:
            return _attempt(url, target, known, cap, policy, deadline_at)
        except DownloadError as exc:
            log.append(f"download from {url} failed (try {attempt + 1}): {str(exc)[:300]}")
            if not exc.retry or attempt == policy.retries:
                raise
            time.sleep(max(0.0, min(policy.backoff * 2 ** attempt, deadline_at - time.monotonic())))
    raise AssertionError("unreachable")
