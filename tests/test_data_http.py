"""The download policy against a real HTTP server on 127.0.0.1 (started by these tests): what is retried and what
is not (requests counted by the server), timeouts and the total deadline, the size cap, file modes, the cache,
the mirror, and the offline message."""

from __future__ import annotations

import http.server
import os
import stat
import threading
import time
from pathlib import Path

import pytest
import test_data_helpers as helpers
from test_data_helpers import MD5, PAYLOAD, SHA, Handler, cache_dir, make_mirror, remote

from utils import data

pytestmark = pytest.mark.network
isolated, online, server = helpers.isolated, helpers.online, helpers.server  # the shared fixtures


def test_download_success_then_cache_with_server_stopped(online):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    rf = remote(f"http://127.0.0.1:{httpd.server_address[1]}/ok.bin")
    got = data.locate(rf)
    assert got.path.read_bytes() == PAYLOAD and (got.origin, got.kind) == ("download", "canonical")
    httpd.shutdown()
    httpd.server_close()
    again = data.locate(rf)  # no server now: must come from the cache
    assert again.path == got.path and again.origin == "cache"
    assert data.fetch_file(rf) == got.path  # the old API: a Path


def test_downloaded_file_has_normal_permissions(online, server):
    old = os.umask(0o022)
    try:
        path = data.fetch_file(remote(f"{server}/ok.bin"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # not the temporary file's 0600


def test_md5_known_hash_is_accepted(online, server):
    assert data.fetch_file(remote(f"{server}/ok.bin", known=f"md5:{MD5}")).read_bytes() == PAYLOAD


def test_404_is_not_retried_and_gives_the_offline_message(online, server, monkeypatch):
    monkeypatch.setenv("COURSE_DOWNLOAD_RETRIES", "3")
    with pytest.raises(data.DataUnavailable) as err:
        data.fetch_file(remote(f"{server}/missing.bin"))
    msg = str(err.value)
    assert "t/file.bin" in msg and "/missing.bin" in msg and SHA in msg and "404" in msg
    assert Handler.hits["/missing.bin"] == 1
    assert not (cache_dir() / "t/file.bin").exists()


def test_hash_mismatch_is_not_retried_and_leaves_no_file(online, server, monkeypatch):
    monkeypatch.setenv("COURSE_DOWNLOAD_RETRIES", "3")
    with pytest.raises(data.DataUnavailable) as err:
        data.fetch_file(remote(f"{server}/wrong.bin"))
    assert "does not match" in str(err.value) and Handler.hits["/wrong.bin"] == 1
    assert not [p for p in cache_dir().rglob("*") if p.is_file() and p.suffix != ".lock"]  # no file, no temporary


def test_500_then_success_is_retried_once(online, server):
    path = data.fetch_file(remote(f"{server}/flaky.bin"))
    assert path.read_bytes() == PAYLOAD and Handler.hits["/flaky.bin"] == 2


def test_persistent_503_is_tried_retries_plus_one_times(online, server, monkeypatch):
    monkeypatch.setenv("COURSE_DOWNLOAD_RETRIES", "2")
    with pytest.raises(data.DataUnavailable, match="503"):
        data.fetch_file(remote(f"{server}/down.bin"))
    assert Handler.hits["/down.bin"] == 3


def test_truncated_body_is_retried_and_not_kept(online, server):
    with pytest.raises(data.DataUnavailable):
        data.fetch_file(remote(f"{server}/truncated.bin"))
    assert Handler.hits["/truncated.bin"] == 2  # a cut connection may pass: retried (retries=1)
    assert not list(cache_dir().rglob("file.bin*"))


def test_truncated_body_is_refused_even_without_a_known_hash(online, server, monkeypatch):
    monkeypatch.setenv("COURSE_DOWNLOAD_RETRIES", "0")
    with pytest.raises(data.DataUnavailable):
        data.fetch_file(remote(f"{server}/truncated.bin", known=None))
    assert not data.store._pins()


def test_body_beyond_the_registry_size_is_cut_off_and_not_retried(online, server, monkeypatch):
    monkeypatch.setenv("COURSE_DOWNLOAD_RETRIES", "3")
    with pytest.raises(data.DataUnavailable, match="more than"):
        data.fetch_file(remote(f"{server}/huge.bin", size=1000))  # 5 MB, no Content-Length
    assert Handler.hits["/huge.bin"] == 1
    assert not list(cache_dir().rglob("file.bin*"))


def test_announced_size_beyond_the_cap_is_refused_before_reading(online, server):
    with pytest.raises(data.DataUnavailable, match="announces"):
        data.fetch_file(data.RemoteFile("t/file.bin", (f"{server}/ok.bin",), None, None, "test", max_size=1000))
    assert Handler.sent.get("/ok.bin", 0) <= len(PAYLOAD) and not data.store._pins()


def test_stalling_server_times_out_within_bounds(online, server, monkeypatch):
    monkeypatch.setenv("COURSE_DOWNLOAD_RETRIES", "0")
    t0 = time.perf_counter()
    with pytest.raises(data.DataUnavailable) as err:
        data.fetch_file(remote(f"{server}/stall.bin"))
    assert time.perf_counter() - t0 < 5, "the read timeout did not bound a stalled transfer"
    assert "timed out" in str(err.value).lower() or "timeout" in str(err.value).lower()


def test_total_deadline_bounds_a_dripping_server(online, server, monkeypatch):
    """10 bytes every 0.2 s never trips the 1 s read timeout; the 1.5 s total deadline stops it, untried again."""
    monkeypatch.setenv("COURSE_DOWNLOAD_DEADLINE", "1.5")
    monkeypatch.setenv("COURSE_DOWNLOAD_RETRIES", "3")
    rf = data.RemoteFile("t/drip.bin", (f"{server}/drip.bin", f"{server}/ok.bin"), None, 1000, "test")
    t0 = time.perf_counter()
    with pytest.raises(data.DataUnavailable, match="deadline"):
        data.fetch_file(rf)
    assert time.perf_counter() - t0 < 3.5
    assert Handler.hits["/drip.bin"] == 1 and "/ok.bin" not in Handler.hits  # the deadline covers every URL


def test_refused_connection_is_not_retried_and_fails_fast(online, monkeypatch):
    monkeypatch.setenv("COURSE_DOWNLOAD_RETRIES", "3")
    t0 = time.perf_counter()
    with pytest.raises(data.DataUnavailable) as err:
        data.fetch_file(remote("http://127.0.0.1:1/refused.bin"))  # nothing listens on port 1
    assert time.perf_counter() - t0 < 2  # 3 retries with back-off would take > 7 s
    assert "127.0.0.1:1/refused.bin" in str(err.value) and "(try 1)" in str(err.value)
    assert "(try 2)" not in str(err.value)


def test_black_holed_connection_times_out_once_per_url(online, monkeypatch):
    """A firewall that drops packets: a listening socket whose backlog is full never completes a connection.
    The connect timeout ends each URL once (no retries): 2 URLs x 0.5 s, where 3 retries would take > 4 s."""
    import socket

    monkeypatch.setenv("COURSE_CONNECT_TIMEOUT", "0.5")
    monkeypatch.setenv("COURSE_DOWNLOAD_RETRIES", "3")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(0)
    port = sock.getsockname()[1]
    fillers = []
    for _ in range(4):  # fill the accept queue; later connections hang in SYN_SENT
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", port))
        fillers.append(c)
    time.sleep(0.2)
    rf = data.RemoteFile("t/x.bin", (f"http://127.0.0.1:{port}/a", f"http://127.0.0.1:{port}/b"), f"sha256:{SHA}")
    t0 = time.perf_counter()
    try:
        with pytest.raises(data.DataUnavailable) as err:
            data.fetch_file(rf)
    finally:
        for c in [*fillers, sock]:
            c.close()
    assert time.perf_counter() - t0 < 3
    assert str(err.value).count("connection timed out after 0.5 s") == 2 and "(try 2)" not in str(err.value)


def test_bad_timeout_setting_is_a_clear_error(online, server, monkeypatch):
    monkeypatch.setenv("COURSE_DOWNLOAD_TIMEOUT", "abc")
    with pytest.raises(data.DataError, match="COURSE_DOWNLOAD_TIMEOUT must be a number"):
        data.fetch_file(remote(f"{server}/ok.bin"))


def test_redirect_is_followed(online, server):
    assert data.fetch_file(remote(f"{server}/redirect.bin")).read_bytes() == PAYLOAD


def test_second_url_is_tried_when_the_first_fails(online, server):
    rf = data.RemoteFile("t/file.bin", (f"{server}/missing.bin", f"{server}/ok.bin"), f"sha256:{SHA}")
    assert data.fetch_file(rf).read_bytes() == PAYLOAD


def test_unpublished_hash_is_pinned_on_first_download_and_enforced(online, server, capsys):
    rf = remote(f"{server}/ok.bin", known=None)
    path = data.fetch_file(rf)
    assert data.store._pins()["t/file.bin"] == f"sha256:{SHA}"
    assert SHA in capsys.readouterr().out
    path.write_bytes(b"tampered")  # no longer matches the pin: moved aside, downloaded again
    assert data.fetch_file(rf).read_bytes() == PAYLOAD
    assert [p.read_bytes() for p in path.parent.glob("file.bin.mismatch-*")] == [b"tampered"]


def test_corrupt_cache_file_is_moved_aside_then_replaced(online, server, capsys):
    rf = remote(f"{server}/ok.bin")
    target = cache_dir() / rf.path
    target.parent.mkdir(parents=True)
    target.write_bytes(b"garbage")
    assert data.fetch_file(rf).read_bytes() == PAYLOAD
    (aside,) = target.parent.glob("file.bin.mismatch-*")
    assert aside.read_bytes() == b"garbage" and "moved aside" in capsys.readouterr().out


def test_mirror_hit_is_used_without_network(isolated, monkeypatch):
    content = b"re-compressed but listed"  # a mirror file may differ from the canonical bytes
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(make_mirror(isolated / "mirror", {"t/file.bin": content})))
    got = data.locate(remote("http://127.0.0.1:1/never.bin"))
    assert got.path.read_bytes() == content and (got.origin, got.kind) == ("mirror", "differs")


def test_corrupted_mirror_file_falls_back_to_download(online, server, monkeypatch):
    mirror = make_mirror(online / "mirror", {"t/file.bin": b"bit rot"}, listed={"t/file.bin": b"the original"})
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(mirror))
    assert data.fetch_file(remote(f"{server}/ok.bin")).read_bytes() == PAYLOAD


def test_offline_without_mirror_names_file_url_hash_and_place(isolated):
    t0 = time.perf_counter()
    with pytest.raises(data.DataUnavailable) as err:
        data.load_mnist()
    assert time.perf_counter() - t0 < 30
    msg = str(err.value)
    assert "mnist/train-images-idx3-ubyte.gz" in msg
    assert "https://" in msg and "f68b3c2dcbeaaa9fbdd348bbdeb94873" in msg
    assert str(cache_dir() / "mnist") in msg and "COURSE_DATA_MIRROR" in msg


def test_load_nltk_fails_at_once_offline_instead_of_a_later_lookup_error(isolated):
    """Why notebooks never call nltk.download (offline it returns False and the failure surfaces later as a
    LookupError): load_nltk raises DataUnavailable at once, naming the file, and never asks NLTK's downloader."""
    t0 = time.perf_counter()
    with pytest.raises(data.DataUnavailable, match="nltk_data/corpora/brown.zip"):
        data.load_nltk("brown")
    assert time.perf_counter() - t0 < 5


def test_unpublished_fsdd_checksum_is_worded_once(isolated):
    with pytest.raises(data.DataUnavailable) as err:
        data.load_fsdd()
    msg = str(err.value)
    assert "none published (none published" not in msg and "not published (a GitHub tag archive" in msg
    assert "fsdd/free-spoken-digit-dataset-1.0.10/ with its files listed" in msg


def test_missing_mirror_folder_is_flagged(isolated, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(isolated / "no-such-mirror"))
    with pytest.raises(data.DataUnavailable) as err:
        data.fetch_file(remote("http://127.0.0.1:1/never.bin"))
    assert "does not exist" in str(err.value) and "does not exist" in capsys.readouterr().out
    assert Path(os.environ["COURSE_DATA_MIRROR"]).name == "no-such-mirror"
