"""Failure paths of the data layer found while re-checking the utils review: a result that is a ``str``
(``describe``), the ``COURSE_ONLINE`` opt-in, what a killed process leaves behind (a SIGKILLed extraction, a
stale ``.part``), a cache file that cannot be moved aside, and a total deadline that is already spent."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import test_data_helpers as helpers
from test_data_helpers import PAYLOAD, SHA, Handler, cache_dir, make_mirror, remote, tar_bytes, wav_bytes

from utils import data
from utils.data import download as dl
from utils.data import store

isolated, online, server = helpers.isolated, helpers.online, helpers.server  # the shared fixtures
pytestmark = pytest.mark.usefixtures("isolated")


# ---------------------------------------------------------------------------------------------------- describe

def test_describe_takes_a_text_result_and_says_when_a_mirror_copy_is_not_canonical(tmp_path, monkeypatch):
    """A Text is a str: describe(text) once took it for a dataset name ("unknown dataset 'First Citizen...'")."""
    mirror = make_mirror(tmp_path / "mirror", {"tinyshakespeare/input.txt": b"forged\n"})
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(mirror))
    text = data.load_tiny_shakespeare()
    assert text == "forged\n"
    assert data.describe(text) == "tinyshakespeare (full, chars 7; offline mirror, not the canonical file)"
    assert data.describe("tinyshakespeare") == data.describe(text)  # by name: the last load
    with pytest.raises(KeyError, match="unknown dataset"):
        data.describe("forged\n")  # a plain str is still a name


# ---------------------------------------------------------------------------------------------------- online()

@pytest.mark.parametrize("online_value,offline_value,expected", [
    (None, None, False), ("", None, False), ("1", None, True), ("TRUE", None, True), ("yes", "0", True),
    ("0", None, False), ("off", None, False), ("1", "1", False),  # offline wins
])
def test_online_is_an_opt_in_that_offline_overrides(monkeypatch, online_value, offline_value, expected):
    for var, value in (("COURSE_ONLINE", online_value), ("COURSE_OFFLINE", offline_value)):
        if value is None:
            monkeypatch.delenv(var, raising=False)
        else:
            monkeypatch.setenv(var, value)
    assert data.online() is expected
    assert data.offline() is (offline_value == "1")


@pytest.mark.parametrize("var", ["COURSE_ONLINE", "COURSE_OFFLINE"])
def test_a_typo_in_the_online_or_offline_flag_is_an_error_not_a_silent_no(monkeypatch, var):
    monkeypatch.setenv(var, "ye")
    with pytest.raises(data.DataError, match=f"{var} must be 1 or 0.*'ye'"):
        data.online()


# ---------------------------------------------------------------------------------------------------- killed processes

KILLED = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, sys.argv[1])
    from test_data_store import toy_dataset
    from utils import data
    from utils.data import store
    ds = toy_dataset(open(sys.argv[2], "rb").read())
    data.REGISTRY[ds.name] = ds
    real = store.safe_extract
    def slow(*a, **kw):
        out = real(*a, **kw)
        open(sys.argv[3], "w").write("extracted into the temporary folder")
        time.sleep(60)  # killed here, between extraction and the rename into place
        return out
    store.safe_extract = slow
    data.dataset_files("toy")
""")


def test_an_extraction_killed_midway_leaves_nothing_that_counts_and_the_next_run_cleans_up(tmp_path, monkeypatch):
    from test_data_store import toy_dataset

    members = {f"pkg/rec/{i}_toy_{i}.wav": wav_bytes(20 + i) for i in range(50)}
    archive = tar_bytes(members)
    (tmp_path / "a.tar.gz").write_bytes(archive)
    ready = tmp_path / "ready"
    child = subprocess.Popen([sys.executable, "-c", KILLED, str(Path(__file__).parent), str(tmp_path / "a.tar.gz"),
                              str(ready)], cwd=helpers.REPO, env={**os.environ, "PYTHONPATH": str(helpers.REPO)},
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ready.exists(), child.stderr.read() if child.poll() is not None else "the child never got there"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        child.stderr.close()
    toy = cache_dir() / "toy"
    assert [p.name for p in toy.iterdir() if ".tmp-" in p.name]  # what the killed process left
    assert not (toy / "pkg").exists() and not (toy / ".pkg.extracted").exists()  # nothing that looks finished
    ds = toy_dataset(archive)
    monkeypatch.setitem(data.REGISTRY, ds.name, ds)
    folder = data.dataset_files("toy")  # the dead process's lock is gone with it: no wait
    assert len(folder.glob("rec/*.wav")) == 50
    assert sorted(p.name for p in toy.iterdir()) == [".pkg.extracted", "pkg", "pkg.tar.gz"]  # the leftovers are gone


@pytest.mark.network
def test_a_stale_part_file_of_a_killed_download_is_removed_and_others_are_kept(online, server):
    rf = remote(f"{server}/ok.bin")
    folder = cache_dir() / "t"
    folder.mkdir(parents=True)
    stale = folder / ".file.bin.k1ll3d_x.part"  # tempfile's 8 random characters
    stale.write_bytes(b"half a download")
    other = [folder / ".file.bin.other.k1ll3d_x.part", folder / "notes.part"]  # another file's, the user's
    for p in other:
        p.write_bytes(b"keep")
    assert data.fetch_file(rf).read_bytes() == PAYLOAD
    assert not stale.exists() and all(p.read_bytes() == b"keep" for p in other)


# ---------------------------------------------------------------------------------------------------- the cache

@pytest.mark.network
def test_a_bad_cache_file_that_cannot_be_moved_aside_is_never_downloaded_over(online, server, monkeypatch):
    """A read-only cache (root ignores file modes, so the rename is made to fail)."""
    rf = remote(f"{server}/ok.bin")
    target = cache_dir() / rf.path
    target.parent.mkdir(parents=True)
    target.write_bytes(b"the user's own file")

    def refuse(path, why):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(store, "move_aside", refuse)
    with pytest.raises(data.DataUnavailable, match=r"cannot be moved aside \(Permission denied\): left in place"):
        data.fetch_file(rf)
    assert target.read_bytes() == b"the user's own file" and Handler.hits == {}


# ---------------------------------------------------------------------------------------------------- the deadline

@pytest.mark.network
def test_a_spent_deadline_is_a_deadline_error_not_a_bad_timeout_value(online, server, tmp_path):
    """urllib3 refuses a timeout <= 0; the time left is clamped, and the deadline is what the message names."""
    policy = dl.Policy(connect=1, read=1, retries=0, deadline=5)
    with pytest.raises(dl.DownloadError, match="total deadline of 5 s passed"):
        dl._attempt(f"{server}/ok.bin", tmp_path / "x.bin", f"sha256:{SHA}", None, policy,
                    deadline_at=time.monotonic() - 1)
    assert not list(tmp_path.glob("*.part")) and hashlib.sha256(PAYLOAD).hexdigest() == SHA


# ---------------------------------------------------------------------------------------------------- shared caches

@pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")
def test_another_users_lock_file_still_locks(monkeypatch):
    """In a shared cache the lock file may belong to someone else (mode 0644): it is opened read-only and still
    excludes a second process (root ignores file modes, so the refusal to open it for writing is simulated)."""
    import builtins

    with store.file_lock("t/x.bin") as first:
        assert first
    lock = cache_dir() / ".locks/t__x.bin.lock"

    def no_write(path, mode="r", *args, **kw):
        if Path(path) == lock and mode != "rb":
            raise PermissionError(13, "Permission denied", str(path))
        return builtins.open(path, mode, *args, **kw)

    monkeypatch.setattr(store, "open", no_write, raising=False)
    probe = ("import fcntl, sys; fh = open(sys.argv[1], 'rb')\n"
             "try:\n    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB); print('free')\n"
             "except BlockingIOError:\n    print('held')")
    with store.file_lock("t/x.bin") as locked:
        assert locked
        held = subprocess.run([sys.executable, "-c", probe, str(lock)], capture_output=True, text=True, timeout=60)
    assert held.stdout.strip() == "held"
    free = subprocess.run([sys.executable, "-c", probe, str(lock)], capture_output=True, text=True, timeout=60)
    assert free.stdout.strip() == "free"


# ------------------------------------------------------------------------------------------------ the extracted cache

def test_a_changed_file_of_the_same_size_in_an_extracted_folder_is_noticed_and_extracted_again(monkeypatch):
    """What is loaded is what the archive held: the marker keeps every file's sha256, not only its size."""
    from test_data_store import toy_dataset

    members = {f"pkg/rec/{i}_toy_{i}.wav": wav_bytes(20 + i) for i in range(4)}
    ds = toy_dataset(tar_bytes(members))
    monkeypatch.setitem(data.REGISTRY, ds.name, ds)
    folder = data.dataset_files("toy")
    wav = folder.path / "rec/1_toy_1.wav"
    original = wav.read_bytes()
    wav.write_bytes(bytes(len(original)))  # same size, other bytes
    store._MEMO.clear()  # a new process
    assert data.dataset_files("toy").path == folder.path and wav.read_bytes() == original
    stamp = (cache_dir() / "toy/.pkg.extracted").read_text()
    assert hashlib.sha256(original).hexdigest() in stamp
