"""Loaders, archives, the mirror's list and the mirror writer, on small files made by the tests (and on the
real offline mirror when one is configured)."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from utils import data


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    data.ORIGINS.clear()
    data.LOADED.clear()


def idx_bytes(arr: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + arr.astype(np.uint8).tobytes()


def make_mirror(root: Path, files: dict[str, bytes]) -> Path:
    lines = []
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(content)
        lines.append(f"{hashlib.sha256(content).hexdigest()}  {rel}\n")
    (root / "SHA256SUMS").write_text("".join(lines))
    return root


def fake_mnist(root: Path, n_train=12, n_test=5) -> Path:
    rng = np.random.default_rng(0)
    files = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        files[f"mnist/{prefix}-images-idx3-ubyte.gz"] = gzip.compress(idx_bytes(rng.integers(0, 256, (n, 28, 28))))
        files[f"mnist/{prefix}-labels-idx1-ubyte.gz"] = gzip.compress(idx_bytes(np.arange(n) % 10))
    return make_mirror(root, files)


def test_load_mnist_from_a_mirror(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(fake_mnist(tmp_path / "m")))
    (xtr, ytr), (xte, yte) = data.load_mnist()
    assert xtr.shape == (12, 28, 28) and xtr.dtype == np.uint8 and list(ytr[:3]) == [0, 1, 2]
    assert xte.shape == (5, 28, 28)
    assert "SUBSET" in data.describe("mnist") and "offline mirror" in data.describe("mnist")


def test_read_idx_rejects_bad_files(tmp_path):
    bad_magic = tmp_path / "a.idx"
    bad_magic.write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(data.CorruptDataError, match="magic"):
        data.read_idx(bad_magic)
    short = tmp_path / "b.idx"
    short.write_bytes(idx_bytes(np.zeros((3, 2, 2)))[:-1])
    with pytest.raises(data.CorruptDataError, match="header says"):
        data.read_idx(short)
    broken_gz = tmp_path / "c.idx.gz"
    broken_gz.write_bytes(gzip.compress(idx_bytes(np.zeros((3, 2))))[:-8])
    with pytest.raises(data.CorruptDataError, match="gzip"):
        data.read_idx(broken_gz)


def cifar_tar(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tf.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def cifar_records(labels, seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    out = b""
    for y in labels:
        out += bytes([y]) + rng.integers(0, 256, 3072, dtype=np.uint8).tobytes()
    return out


def test_load_cifar10_reads_whatever_batches_exist(tmp_path, monkeypatch, capsys):
    train = cifar_records([6, 9, 9])
    archive = cifar_tar({"cifar-10-batches-bin/data_batch_1.bin": train,
                         "cifar-10-batches-bin/test_batch.bin": cifar_records([3, 8], seed=1),
                         "cifar-10-batches-bin/batches.meta.txt": b"airplane\n"})
    mirror = make_mirror(tmp_path / "m", {"cifar10/cifar-10-binary.tar.gz": archive})
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(mirror))
    (xtr, ytr), (xte, yte) = data.load_cifar10()
    assert xtr.shape == (3, 32, 32, 3) and list(ytr) == [6, 9, 9] and list(yte) == [3, 8]
    # channels last: pixel (0, 0) of image 0 has the first red, green and blue bytes of its record
    rec = np.frombuffer(train, np.uint8)[:3073]
    assert list(xtr[0, 0, 0]) == [rec[1], rec[1 + 1024], rec[1 + 2048]]
    assert "SUBSET" in capsys.readouterr().out


def test_load_cifar10_rejects_ragged_records(tmp_path, monkeypatch):
    archive = cifar_tar({"b/data_batch_1.bin": b"\x00" * 100, "b/test_batch.bin": cifar_records([1])})
    mirror = make_mirror(tmp_path / "m", {"cifar10/cifar-10-binary.tar.gz": archive})
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(mirror))
    with pytest.raises(data.CorruptDataError, match="whole number"):
        data.load_cifar10()


def test_text_loaders_and_umich_format(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(make_mirror(tmp_path / "m", {
        "tinyshakespeare/input.txt": b"First Citizen:\nBefore we proceed",
        "alice/alice_in_wonderland.txt": "\ufeffALICE\r\nDown the Rabbit-Hole\r\n".encode(),
        "umich-sentiment/umich-sentiment-train.txt": b"1\tgood movie\n0\tbad movie",
    })))
    assert data.load_tiny_shakespeare().startswith("First Citizen")
    assert data.load_alice() == "ALICE\nDown the Rabbit-Hole\n"
    sentences, labels = data.load_umich_sentiment()
    assert sentences == ["good movie", "bad movie"] and list(labels) == [1, 0]
    with pytest.raises(ValueError, match="edition"):
        data.load_alice("klingon")


def test_umich_bad_line_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(make_mirror(tmp_path / "m", {
        "umich-sentiment/umich-sentiment-train.txt": b"1\tok\nno tab here\n"})))
    with pytest.raises(data.CorruptDataError, match=":2:"):
        data.load_umich_sentiment()


def test_unknown_names_are_listed():
    with pytest.raises(KeyError, match="mnist"):
        data.fetch("nope")
    with pytest.raises(KeyError, match="brown"):
        data.load_nltk("klingon")


def test_registry_is_consistent():
    for ds in data.REGISTRY.values():
        for f in ds.files:
            assert f.urls and all(u.startswith("https://") for u in f.urls), f
            assert f.known_hash or "pinned" in f.hash_source, f"{f.path}: no hash and no pin note"
    with pytest.raises(ValueError):
        data.RemoteFile("../escape", ("https://x",), None)
    with pytest.raises(ValueError):
        data.RemoteFile("ok", ("https://x",), "crc32:1234")


def test_read_sums_parses_and_rejects(tmp_path):
    good = tmp_path / "S"
    good.write_text(f"{'a' * 64}  dir/x.bin\n{'b' * 64} *./y.bin\n\n")
    assert data.read_sums(good) == {"dir/x.bin": "a" * 64, "y.bin": "b" * 64}
    bad = tmp_path / "B"
    bad.write_text("not a checksum line\n")
    with pytest.raises(data.DataError, match="B:1"):
        data.read_sums(bad)


# ---------------------------------------------------------------------------------------------------- archives

def tar_with(name: str, *, link: bool = False) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo(name)
        if link:
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tf.addfile(info)
        else:
            info.size = 2
            tf.addfile(info, io.BytesIO(b"hi"))
    return buf.getvalue()


@pytest.mark.parametrize("member", ["../evil.txt", "a/../../evil.txt", "/abs/evil.txt"])
def test_tar_with_escaping_member_is_refused(tmp_path, member):
    archive = tmp_path / "a.tar"
    archive.write_bytes(tar_with(member))
    with pytest.raises(data.UnsafeArchiveError):
        data.safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists() and not list((tmp_path / "out").rglob("*"))


def test_tar_with_symlink_is_refused(tmp_path):
    archive = tmp_path / "a.tar"
    archive.write_bytes(tar_with("link", link=True))
    with pytest.raises(data.UnsafeArchiveError, match="link"):
        data.safe_extract(archive, tmp_path / "out")


@pytest.mark.parametrize("member", ["../evil.txt", "/abs.txt"])
def test_zip_with_escaping_member_is_refused(tmp_path, member):
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(member, "x")
    with pytest.raises(data.UnsafeArchiveError):
        data.safe_extract(archive, tmp_path / "out")


def test_safe_archive_extracts(tmp_path):
    archive = tmp_path / "a.tar"
    archive.write_bytes(tar_with("pkg/file.txt"))
    files = data.safe_extract(archive, tmp_path / "out")
    assert [f.read_text() for f in files] == ["hi"]


def test_not_an_archive(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"this is no archive " * 40)
    with pytest.raises(data.CorruptDataError):
        data.safe_extract(junk, tmp_path / "out")


def test_fsdd_from_an_extracted_mirror_folder(tmp_path, monkeypatch):
    from scipy.io import wavfile

    base = "fsdd/free-spoken-digit-dataset-1.0.10/recordings"
    files = {}
    for name in ["3_theo_0", "3_theo_7", "5_lucas_12"]:
        buf = io.BytesIO()
        wavfile.write(buf, 8000, np.arange(40, dtype=np.int16))
        files[f"{base}/{name}.wav"] = buf.getvalue()
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(make_mirror(tmp_path / "m", files)))
    digits = data.load_fsdd()
    assert list(digits.labels) == [3, 3, 5] and digits.rate == 8000 and digits.speakers == ["theo", "theo", "lucas"]
    train, test = digits.split()
    assert list(test) == [0] and list(train) == [1, 2]


def test_fsdd_corrupt_mirror_folder_falls_back_and_explains(tmp_path, monkeypatch):
    m = make_mirror(tmp_path / "m", {"fsdd/free-spoken-digit-dataset-1.0.10/recordings/1_a_0.wav": b"RIFF"})
    (m / "fsdd/free-spoken-digit-dataset-1.0.10/recordings/1_a_0.wav").write_bytes(b"changed")
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(m))
    with pytest.raises(data.DataUnavailable, match="refused as corrupt"):
        data.load_fsdd()


# ---------------------------------------------------------------------------------------------------- mirror writer

def test_write_mirror_round_trip(tmp_path, monkeypatch):
    src = fake_mnist(tmp_path / "src")
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(src))
    sums = data.write_mirror(tmp_path / "out", ["mnist"])
    assert data.read_sums(sums) == data.read_sums(src / "SHA256SUMS")
    with pytest.raises(ValueError, match="destination"):
        data.write_mirror(src, ["mnist"])
    # the written mirror verifies with the system's sha256sum, as a lab would check it
    if subprocess.run(["which", "sha256sum"], capture_output=True).returncode == 0:
        subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=sums.parent, check=True)


def test_cli_list_and_error_exit(tmp_path, monkeypatch):
    env = {**os.environ, "COURSE_DATA_DIR": str(tmp_path / "c"), "COURSE_OFFLINE": "1"}
    env.pop("COURSE_DATA_MIRROR", None)
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-m", "utils.data", "list"], cwd=root, env=env,
                         capture_output=True, text=True, check=True).stdout
    assert "mnist" in out and "fsdd" in out
    bad = subprocess.run([sys.executable, "-m", "utils.data", "fetch", "mnist"], cwd=root, env=env,
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "Cannot get the data file" in bad.stdout


# ---------------------------------------------------------------------------------------------------- real mirror

real_mirror = pytest.mark.skipif(not os.environ.get("COURSE_DATA_MIRROR"), reason="no offline mirror configured")


@real_mirror
def test_real_mirror_loaders(monkeypatch):
    monkeypatch.setenv("COURSE_DATA_MIRROR", os.environ["COURSE_DATA_MIRROR"])
    (xtr, ytr), (xte, yte) = data.load_mnist()
    assert xtr.shape == (60000, 28, 28) and list(ytr[:5]) == [5, 0, 4, 1, 9]
    (cx, cy), (tx, ty) = data.load_cifar10()
    assert list(cy[:5]) == [6, 9, 9, 4, 1] and list(ty[:5]) == [3, 8, 8, 0, 6]
    assert list(cx[0, 0, :10, 0]) == [59, 43, 50, 68, 98, 119, 139, 145, 149, 149]
    monkeypatch.setenv("NLTK_DATA", os.environ.get("NLTK_DATA", ""))
    nltk = data.load_nltk("punkt_tab", "treebank")
    assert nltk.word_tokenize("Hello world. Second sentence.") == ["Hello", "world", ".", "Second", "sentence", "."]
    assert len(nltk.corpus.treebank.tagged_sents()) == 3914
