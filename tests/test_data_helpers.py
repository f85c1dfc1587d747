"""Shared helpers of the data-layer tests (no tests here): one mirror builder, one isolation fixture, one local
HTTP server on 127.0.0.1 that counts the requests it answers."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import os
import tarfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from utils import data
from utils.data import loaders, store

PAYLOAD = b"course data \x00\x01\x02" * 1000
SHA = hashlib.sha256(PAYLOAD).hexdigest()
MD5 = hashlib.md5(PAYLOAD).hexdigest()
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """A fresh cache, no mirror, offline, short timeouts; nothing remembered from earlier tests."""
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("COURSE_DATA_MIRROR", raising=False)
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.setenv("COURSE_DOWNLOAD_TIMEOUT", "1")
    monkeypatch.setenv("COURSE_DOWNLOAD_RETRIES", "1")
    for var in ("COURSE_CONNECT_TIMEOUT", "COURSE_DOWNLOAD_DEADLINE"):
        monkeypatch.delenv(var, raising=False)
    loaders.forget()
    store._MEMO.clear()
    store._WARNED.clear()
    Handler.hits.clear()
    Handler.sent.clear()
    return tmp_path


def cache_dir() -> Path:
    return Path(os.environ["COURSE_DATA_DIR"])


def make_mirror(root: Path, files: dict[str, bytes], listed: dict[str, bytes] | None = None,
                extra_lines: str = "") -> Path:
    """A mirror folder holding ``files`` and a SHA256SUMS listing them (or the bytes in ``listed``)."""
    lines = []
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(content)
        lines.append(f"{hashlib.sha256((listed or {}).get(rel, content)).hexdigest()}  {rel}\n")
    root.mkdir(parents=True, exist_ok=True)
    (root / "SHA256SUMS").write_text("".join(lines) + extra_lines)
    return root


def idx_bytes(arr: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + arr.astype(np.uint8).tobytes()


def mnist_files(n_train=12, n_test=5) -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    files = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        files[f"mnist/{prefix}-images-idx3-ubyte.gz"] = gzip.compress(idx_bytes(rng.integers(0, 256, (n, 28, 28))))
        files[f"mnist/{prefix}-labels-idx1-ubyte.gz"] = gzip.compress(idx_bytes(np.arange(n) % 10))
    return files


def tar_bytes(members: dict[str, bytes], mode: str = "w:gz") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tf.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def wav_bytes(n: int = 40) -> bytes:
    from scipy.io import wavfile

    buf = io.BytesIO()
    wavfile.write(buf, 8000, np.arange(n, dtype=np.int16))
    return buf.getvalue()


class Handler(http.server.BaseHTTPRequestHandler):
    """Routes: /ok.bin, /missing.bin (404), /flaky.bin (500 once), /down.bin (500 always), /truncated.bin,
    /wrong.bin (wrong bytes), /stall.bin, /drip.bin (10 B every 0.2 s), /huge.bin (5 MB, no Content-Length),
    /redirect.bin. ``hits`` counts requests per path, ``sent`` the bytes sent."""

    hits: dict[str, int] = {}
    sent: dict[str, int] = {}
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):  # keep test output clean
        pass

    def _send(self, body: bytes, code: int = 200, length: int | None = None) -> None:
        self.send_response(code)
        if length != -1:
            self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)
        Handler.sent[self.path] = Handler.sent.get(self.path, 0) + len(body)

    def do_GET(self):  # noqa: N802 - http.server's naming
        n = Handler.hits[self.path] = Handler.hits.get(self.path, 0) + 1
        try:
            self._route(n)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _route(self, n: int) -> None:
        if self.path == "/ok.bin":
            self._send(PAYLOAD)
        elif self.path == "/missing.bin":
            self._send(b"not found", 404)
        elif self.path == "/flaky.bin":
            self._send(b"oops", 500) if n == 1 else self._send(PAYLOAD)
        elif self.path == "/down.bin":
            self._send(b"oops", 503)
        elif self.path == "/truncated.bin":
            self._send(PAYLOAD[: len(PAYLOAD) // 2], length=len(PAYLOAD))
            self.close_connection = True
        elif self.path == "/wrong.bin":
            self._send(PAYLOAD[::-1])
        elif self.path == "/stall.bin":
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[:100])
            self.wfile.flush()
            time.sleep(6)
        elif self.path == "/drip.bin":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(100):
                self.wfile.write(b"x" * 10)
                self.wfile.flush()
                Handler.sent[self.path] = Handler.sent.get(self.path, 0) + 10
                time.sleep(0.2)
        elif self.path == "/huge.bin":
            self.send_response(200)
            self.end_headers()
            for _ in range(80):
                self.wfile.write(b"\0" * 65536)
                Handler.sent[self.path] = Handler.sent.get(self.path, 0) + 65536
        elif self.path == "/redirect.bin":
            self.send_response(302)
            self.send_header("Location", "/ok.bin")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._send(b"?", 404)


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def online(isolated, monkeypatch):
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    return isolated


def remote(url: str, name: str = "t/file.bin", known: str | None = f"sha256:{SHA}", size: int | None = None,
           **kw) -> data.RemoteFile:
    return data.RemoteFile(name, (url,), known, len(PAYLOAD) if size is None else size, "test", **kw)
