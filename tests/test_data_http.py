"""The data layer against a real HTTP server on 127.0.0.1 (started by these tests): downloads, retries,
timeouts, hash checks, redirects, cache, mirror, and the offline message."""

from __future__ import annotations

import hashlib
import http.server
import os
import threading
import time
from pathlib import Path

import pytest

from utils import data

pytestmark = pytest.mark.network

PAYLOAD = b"course data \x00\x01\x02" * 1000
SHA = hashlib.sha256(PAYLOAD).hexdigest()
MD5 = hashlib.md5(PAYLOAD).hexdigest()


class Handler(http.server.BaseHTTPRequestHandler):
    hits: dict[str, int] = {}

    def log_message(self, *args):  # keep test output clean
        pass

    def _send(self, body: bytes, code: int = 200, length: int | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 - http.server's naming
        n = Handler.hits[self.path] = Handler.hits.get(self.path, 0) + 1
        if self.path == "/ok.bin":
            self._send(PAYLOAD)
        elif self.path == "/missing.bin":
            self._send(b"not found", 404)
        elif self.path == "/flaky.bin":
            self._send(b"oops", 500) if n == 1 else self._send(PAYLOAD)
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
    yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("COURSE_DATA_MIRROR", raising=False)
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    monkeypatch.setenv("COURSE_DOWNLOAD_TIMEOUT", "1")
    monkeypatch.setenv("COURSE_DOWNLOAD_RETRIES", "1")
    Handler.hits.clear()
    data.ORIGINS.clear()
    return tmp_path


def remote(url: str, name: str = "t/file.bin", known: str | None = f"sha256:{SHA}") -> data.RemoteFile:
    return data.RemoteFile(name, (url,), known, len(PAYLOAD), "test")


def test_download_success_then_cache_with_server_stopped(tmp_path):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    rf = remote(f"http://127.0.0.1:{httpd.server_address[1]}/ok.bin")
    path = data.fetch_file(rf, dataset="t")
    assert path.read_bytes() == PAYLOAD and data.ORIGINS["t"] == "download"
    httpd.shutdown()
    httpd.server_close()
    data.ORIGINS.clear()
    again = data.fetch_file(rf, dataset="t")  # no server now: must come from the cache
    assert again == path and data.ORIGINS["t"] == "cache"


def test_md5_known_hash_is_accepted(server):
    rf = remote(f"{server[1]}/ok.bin", known=f"md5:{MD5}")
    assert data.fetch_file(rf).read_bytes() == PAYLOAD


def test_404_gives_the_offline_message(server):
    with pytest.raises(data.DataUnavailable) as err:
        data.fetch_file(remote(f"{server[1]}/missing.bin"))
    msg = str(err.value)
    assert "t/file.bin" in msg and "/missing.bin" in msg and SHA in msg and "404" in msg
    assert not (Path(os.environ["COURSE_DATA_DIR"]) / "t/file.bin").exists()


def test_500_then_success_is_retried(server):
    path = data.fetch_file(remote(f"{server[1]}/flaky.bin"))
    assert path.read_bytes() == PAYLOAD and Handler.hits["/flaky.bin"] == 2


def test_truncated_body_is_not_kept(server, monkeypatch):
    monkeypatch.setenv("COURSE_DOWNLOAD_RETRIES", "0")
    with pytest.raises(data.DataUnavailable):
        data.fetch_file(remote(f"{server[1]}/truncated.bin"))
    assert not list((Path(os.environ["COURSE_DATA_DIR"])).rglob("file.bin"))


def test_truncated_body_is_refused_even_without_a_known_hash(server, monkeypatch):
    monkeypatch.setenv("COURSE_DOWNLOAD_RETRIES", "0")
    with pytest.raises(data.DataUnavailable):
        data.fetch_file(remote(f"{server[1]}/truncated.bin", known=None))
    assert not data._pins()


def test_wrong_bytes_hash_mismatch_leaves_no_file(server, monkeypatch):
    monkeypatch.setenv("COURSE_DOWNLOAD_RETRIES", "0")
    with pytest.raises(data.DataUnavailable) as err:
        data.fetch_file(remote(f"{server[1]}/wrong.bin"))
    assert "hash" in str(err.value).lower()
    cache = Path(os.environ["COURSE_DATA_DIR"])
    assert not [p for p in cache.rglob("*") if p.is_file()]  # neither the file nor a temporary left behind


def test_stalling_server_times_out_within_bounds(server, monkeypatch):
    monkeypatch.setenv("COURSE_DOWNLOAD_RETRIES", "0")
    t0 = time.perf_counter()
    with pytest.raises(data.DataUnavailable) as err:
        data.fetch_file(remote(f"{server[1]}/stall.bin"))
    assert time.perf_counter() - t0 < 5, "the download timeout did not bound a stalled transfer"
    assert "timed out" in str(err.value).lower() or "timeout" in str(err.value).lower()


def test_redirect_is_followed(server):
    assert data.fetch_file(remote(f"{server[1]}/redirect.bin")).read_bytes() == PAYLOAD


def test_second_url_is_tried_when_the_first_fails(server):
    rf = data.RemoteFile("t/file.bin", (f"{server[1]}/missing.bin", f"{server[1]}/ok.bin"), f"sha256:{SHA}")
    assert data.fetch_file(rf).read_bytes() == PAYLOAD


def test_unpublished_hash_is_pinned_on_first_download_and_enforced(server, capsys):
    rf = remote(f"{server[1]}/ok.bin", known=None)
    path = data.fetch_file(rf)
    assert data._pins()["t/file.bin"] == f"sha256:{SHA}"
    assert SHA in capsys.readouterr().out
    path.write_bytes(b"tampered")  # a changed cache file no longer matches the pin: downloaded again
    assert data.fetch_file(rf).read_bytes() == PAYLOAD


def test_corrupt_cache_file_is_replaced(server):
    rf = remote(f"{server[1]}/ok.bin")
    target = Path(os.environ["COURSE_DATA_DIR"]) / rf.path
    target.parent.mkdir(parents=True)
    target.write_bytes(b"garbage")
    assert data.fetch_file(rf).read_bytes() == PAYLOAD


def _mirror(tmp_path: Path, rel: str, content: bytes, listed: bytes | None = None) -> Path:
    mirror = tmp_path / "mirror"
    (mirror / rel).parent.mkdir(parents=True, exist_ok=True)
    (mirror / rel).write_bytes(content)
    digest = hashlib.sha256(content if listed is None else listed).hexdigest()
    (mirror / "SHA256SUMS").write_text(f"{digest}  {rel}\n")
    return mirror


def test_mirror_hit_is_used_without_network(tmp_path, monkeypatch):
    content = b"re-compressed but listed"  # a mirror file may differ from the canonical bytes
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(_mirror(tmp_path, "t/file.bin", content)))
    path = data.fetch_file(remote("http://127.0.0.1:1/never.bin"), dataset="t")
    assert path.read_bytes() == content and data.ORIGINS["t"] == "mirror"


def test_corrupted_mirror_file_is_refused(tmp_path, monkeypatch):
    mirror = _mirror(tmp_path, "t/file.bin", b"bit rot", listed=b"the original")
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(data.DataUnavailable) as err:
        data.fetch_file(remote("http://127.0.0.1:1/never.bin"))
    assert "refused as corrupt" in str(err.value)


def test_corrupted_mirror_file_falls_back_to_download(tmp_path, monkeypatch, server):
    mirror = _mirror(tmp_path, "t/file.bin", b"bit rot", listed=b"the original")
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(mirror))
    assert data.fetch_file(remote(f"{server[1]}/ok.bin")).read_bytes() == PAYLOAD


def test_offline_without_mirror_names_file_url_hash_and_place(monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    t0 = time.perf_counter()
    with pytest.raises(data.DataUnavailable) as err:
        data.load_mnist()
    assert time.perf_counter() - t0 < 30
    msg = str(err.value)
    assert "mnist/train-images-idx3-ubyte.gz" in msg
    assert "https://" in msg and "f68b3c2dcbeaaa9fbdd348bbdeb94873" in msg
    assert str(Path(os.environ["COURSE_DATA_DIR"]) / "mnist") in msg and "COURSE_DATA_MIRROR" in msg


def test_unreachable_host_fails_fast_with_the_message(monkeypatch):
    monkeypatch.setenv("COURSE_DOWNLOAD_RETRIES", "0")
    t0 = time.perf_counter()
    with pytest.raises(data.DataUnavailable) as err:
        data.fetch_file(remote("http://127.0.0.1:1/refused.bin"))  # nothing listens on port 1
    assert time.perf_counter() - t0 < 30
    assert "127.0.0.1:1/refused.bin" in str(err.value)


def test_nltk_download_returns_false_offline_instead_of_raising(tmp_path):
    """Why notebooks never call nltk.download: offline it *returns False*, so a failure surfaces later as a
    confusing LookupError. utils.data.load_nltk raises DataUnavailable at once instead."""
    from nltk.downloader import Downloader

    d = Downloader(server_index_url="http://127.0.0.1:1/index.xml", download_dir=str(tmp_path))
    assert d.download("brown", quiet=True) is False
