"""The cache and archive extraction: never losing a user's file, content hashes, pins, atomic and locked
extraction (with two real processes), what an extracted folder may contain, and a full disk (a real file-size
limit, in a child process)."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from test_data_helpers import REPO, cache_dir, isolated, mnist_files, tar_bytes, wav_bytes  # noqa: F401

from utils import data
from utils.data import store

pytestmark = pytest.mark.usefixtures("isolated")
REAL_MIRROR = os.environ.get("COURSE_DATA_MIRROR")


def gz(content: bytes, mtime: int) -> bytes:
    return gzip.compress(content, mtime=mtime)


# ---------------------------------------------------------------------------------------------------- single files

def test_a_recompressed_cache_file_is_recognised_by_its_content():
    content = b"idx content " * 100
    original, recompressed = gz(content, 1), gz(content, 2)
    assert original != recompressed
    rf = data.RemoteFile("t/x.gz", ("http://127.0.0.1:1/x.gz",), f"md5:{hashlib.md5(original).hexdigest()}",
                         len(original), "test", content_hash=f"md5:{hashlib.md5(content).hexdigest()}")
    target = cache_dir() / rf.path
    target.parent.mkdir(parents=True)
    target.write_bytes(recompressed)
    got = data.locate(rf)
    assert (got.path, got.origin, got.kind) == (target, "cache", "same content")
    assert target.read_bytes() == recompressed


@pytest.mark.skipif(not REAL_MIRROR, reason="no offline mirror configured")
def test_mirror_mnist_copied_into_an_empty_cache_is_used_offline_not_deleted():
    """The review's row 18: the advice 'put it at <cache>/mnist/...' followed with the mirror's files."""
    dest = cache_dir() / "mnist"
    shutil.copytree(Path(REAL_MIRROR) / "mnist", dest)
    for f in dest.iterdir():
        f.chmod(0o644)
    (x, y), _ = data.load_mnist()
    assert x.shape == (60000, 28, 28) and len(list(dest.iterdir())) == 4
    assert "download cache, re-compressed, same content)" in data.describe("mnist")


def test_a_mismatching_cache_file_is_moved_aside_offline_and_the_message_says_so(capsys):
    rf = data.RemoteFile("t/x.bin", ("http://127.0.0.1:1/x.bin",), f"sha256:{'0' * 64}", 10, "test")
    target = cache_dir() / rf.path
    target.parent.mkdir(parents=True)
    target.write_bytes(b"my own file")
    with pytest.raises(data.DataUnavailable, match="moved aside to x.bin.mismatch-"):
        data.fetch_file(rf)
    (aside,) = target.parent.glob("x.bin.mismatch-*")
    assert aside.read_bytes() == b"my own file" and not target.exists()
    assert "(not deleted)" in capsys.readouterr().out


def test_a_broken_pins_file_is_an_error_not_an_empty_pin_list():
    rf = data.RemoteFile("t/p.bin", ("http://127.0.0.1:1/p.bin",), None, 10, "pinned on first download")
    (cache_dir() / "t").mkdir(parents=True)
    (cache_dir() / rf.path).write_bytes(b"unverified")
    (cache_dir() / "pins.json").write_text('{"t/p.bin": "sha256:')  # torn or hand-edited
    with pytest.raises(data.DataError, match="pins.json is not valid JSON"):
        data.fetch_file(rf)


def test_pins_from_two_processes_at_once_are_all_kept():
    script = textwrap.dedent("""
        import sys
        from utils.data import store
        for i in range(25):
            store._pin(f"t/{sys.argv[1]}-{i}.bin", "ab" * 32)
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen([sys.executable, "-c", script, tag], cwd=REPO, env=env, stdout=subprocess.DEVNULL)
             for tag in ("a", "b")]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    pins = json.loads((cache_dir() / "pins.json").read_text())
    assert len(pins) == 50  # without the lock, read-modify-write loses entries
    assert stat.S_IMODE((cache_dir() / "pins.json").stat().st_mode) & 0o044 == 0o044
    assert not list(cache_dir().glob(".pins.json.*"))


# ---------------------------------------------------------------------------------------------------- extraction

def toy_dataset(archive: bytes, manifest: str | None = None, name: str = "toy") -> data.Dataset:
    """A registry entry for an archive placed in the cache (offline: no download)."""
    rf = data.RemoteFile(f"{name}/pkg.tar.gz", ("http://127.0.0.1:1/pkg.tar.gz",),
                         f"sha256:{hashlib.sha256(archive).hexdigest()}", len(archive), "test")
    (cache_dir() / name).mkdir(parents=True, exist_ok=True)
    (cache_dir() / rf.path).write_bytes(archive)
    return data.Dataset(name, "toy", (rf,), "tests", "none", extracted=f"{name}/pkg", manifest=manifest,
                        manifest_glob="rec/*.wav")


def toy_members(n: int) -> dict[str, bytes]:
    return {f"pkg/rec/{i}_toy_{i}.wav": wav_bytes(20 + i % 7) for i in range(n)}


@pytest.fixture
def toy(monkeypatch):
    def register(archive: bytes, manifest: str | None = None):
        ds = toy_dataset(archive, manifest)
        monkeypatch.setitem(data.REGISTRY, ds.name, ds)
        return ds

    return register


def test_extraction_from_the_cache_marks_done_last_and_is_reused(toy):
    toy(tar_bytes(toy_members(5) | {"pkg/README": b"read me"}))
    first = data.dataset_files("toy")
    out = cache_dir() / "toy/pkg"
    assert first.path == out and first.origin == "cache" and len(first.files) == 6
    stamp = json.loads((cache_dir() / "toy/.pkg.extracted").read_text())
    assert stamp["format"] == 2 and sorted(stamp["files"]) == sorted(first.files)
    assert stat.S_IMODE(out.stat().st_mode) & 0o055 == 0o055  # not mkdtemp's 0700
    inode = out.stat().st_ino
    assert data.dataset_files("toy").files == first.files and out.stat().st_ino == inode  # reused, not redone
    assert not [p for p in (cache_dir() / "toy").iterdir() if ".tmp-" in p.name]


def test_a_partial_folder_from_the_old_code_is_redone(toy):
    toy(tar_bytes(toy_members(8)))
    out = cache_dir() / "toy/pkg/rec"
    out.mkdir(parents=True)
    (out / "0_toy_0.wav").write_bytes(b"half")
    (cache_dir() / "toy/.pkg.extracted").write_text("a bare digest, as the old code wrote it")
    assert len(data.dataset_files("toy").glob("rec/*.wav")) == 8
    assert (out / "0_toy_0.wav").read_bytes() != b"half"


def test_a_folder_the_code_did_not_make_is_moved_aside_not_deleted(toy, capsys):
    toy(tar_bytes(toy_members(3)))
    mine = cache_dir() / "toy/pkg"
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("my notes")
    assert len(data.dataset_files("toy").files) == 3
    (aside,) = (cache_dir() / "toy").glob("pkg.mismatch-*")
    assert (aside / "notes.txt").read_text() == "my notes" and "moved aside" in capsys.readouterr().out


def test_a_file_added_to_an_extracted_folder_is_ignored(toy, capsys):
    toy(tar_bytes(toy_members(3)))
    folder = data.dataset_files("toy")
    (folder.path / "rec/9_mallory_9.wav").write_bytes(wav_bytes())
    again = data.dataset_files("toy")
    assert "rec/9_mallory_9.wav" not in again.files and len(again.glob("rec/*.wav")) == 3
    assert "not in the archive and are ignored" in capsys.readouterr().out


def test_a_missing_extracted_file_triggers_a_fresh_extraction(toy):
    toy(tar_bytes(toy_members(4)))
    folder = data.dataset_files("toy")
    (folder.path / "rec/1_toy_1.wav").unlink()
    assert (data.dataset_files("toy").path / "rec/1_toy_1.wav").is_file()


def test_an_archive_whose_files_miss_the_manifest_is_refused_and_leaves_nothing(toy):
    members = toy_members(3)
    pairs = [(name[len("pkg/"):], hashlib.sha256(b"other").hexdigest()) for name in members]
    toy(tar_bytes(members), manifest=store.manifest_digest(pairs))
    with pytest.raises(data.CorruptDataError, match="manifest"):
        data.dataset_files("toy")
    assert sorted(p.name for p in (cache_dir() / "toy").iterdir()) == ["pkg.tar.gz"]


def test_fsdd_loads_from_a_cached_archive_checked_by_the_manifest(monkeypatch):
    names = ["1_a_0", "2_b_7"]
    members = {f"free-spoken-digit-dataset-1.0.10/recordings/{n}.wav": wav_bytes() for n in names}
    members["free-spoken-digit-dataset-1.0.10/README.md"] = b"readme"
    archive = tar_bytes(members)
    pairs = [(f"recordings/{n}.wav", hashlib.sha256(wav_bytes()).hexdigest()) for n in names]
    ds = replace(data.REGISTRY["fsdd"], manifest=store.manifest_digest(pairs))
    monkeypatch.setitem(data.REGISTRY, "fsdd", ds)
    (cache_dir() / "fsdd").mkdir(parents=True)
    (cache_dir() / ds.files[0].path).write_bytes(archive)  # no pin yet: the manifest is what vouches for it
    digits = data.load_fsdd()
    assert list(digits.labels) == [1, 2] and data.describe(digits) == "fsdd (SUBSET, recordings 2; download cache)"


CONCURRENT = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, sys.argv[1])
    from test_data_store import toy_dataset
    from utils import data
    from utils.data import store
    archive = open(sys.argv[2], "rb").read()
    ds = toy_dataset(archive)  # same bytes, same entry in both processes
    data.REGISTRY[ds.name] = ds
    extracted = []
    real = store._extract
    store._extract = lambda *a: extracted.append(1) or real(*a)
    while time.time() < float(sys.argv[3]):
        time.sleep(0.005)
    t0 = time.time()
    folder = data.dataset_files("toy")
    print(json.dumps({"files": len(folder.files), "extracted": len(extracted), "t0": t0, "t1": time.time()}))
""")


def test_two_processes_extracting_at_once_both_succeed_with_one_complete_folder(tmp_path):
    """The review's row 14 (FSDD partial folder, 'Directory not empty'), with 3,000 members, both processes
    released at the same instant."""
    import time

    archive = tar_bytes(toy_members(3000))
    (tmp_path / "a.tar.gz").write_bytes(archive)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.time() + 2.0
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT, str(Path(__file__).parent),
                               str(tmp_path / "a.tar.gz"), str(start)], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    results = [json.loads(o[0].strip().splitlines()[-1]) for o in outs]
    assert [r["files"] for r in results] == [3000, 3000]
    assert sum(r["extracted"] for r in results) == 1  # the second waited for the lock, then reused the folder
    first_done = min(r["t1"] for r in results)
    assert max(r["t0"] for r in results) < first_done  # they really ran at the same time
    folder = cache_dir() / "toy/pkg/rec"
    assert len(list(folder.iterdir())) == 3000
    assert not [p for p in (cache_dir() / "toy").iterdir() if ".tmp-" in p.name or "mismatch" in p.name]


DISK_FULL = textwrap.dedent("""
    import http.server, resource, signal, sys, threading
    sys.path.insert(0, sys.argv[1])
    from test_data_store import toy_dataset, toy_members
    from test_data_helpers import tar_bytes
    from utils import data
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    body = b"z" * 300_000

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_GET(self):
            self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
            self.wfile.write(body)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    archive = tar_bytes({f"pkg/f{i}.bin": b"y" * 150_000 for i in range(3)}, mode="w")
    ds = toy_dataset(archive)  # written before the limit
    data.REGISTRY[ds.name] = ds
    resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
    for what in ("download", "extract"):
        try:
            if what == "download":
                rf = data.RemoteFile("t/big.bin", (f"http://127.0.0.1:{httpd.server_address[1]}/b",), None,
                                     len(body), "test")
                data.fetch_file(rf)
            else:
                data.dataset_files("toy")
            print(what, "no error")
        except data.DiskFullError as exc:
            print(what, "DiskFullError:", exc)
""")


@pytest.mark.network
@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_full_disk_is_named_as_such_for_downloads_and_extraction(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("COURSE_OFFLINE", None)
    out = subprocess.run([sys.executable, "-c", DISK_FULL, str(Path(__file__).parent)], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    assert lines[-2].startswith("download DiskFullError: not enough disk space"), out.stdout
    assert lines[-1].startswith("extract DiskFullError: not enough disk space"), out.stdout
    assert not list(cache_dir().rglob("*.part")) and not (cache_dir() / "t/big.bin").exists()
    assert not [p for p in (cache_dir() / "toy").iterdir() if ".tmp-" in p.name or p.name == "pkg"]
