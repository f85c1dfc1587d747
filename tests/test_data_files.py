"""Loaders, archives, the mirror's list and the mirror writer, on small files made by the tests (and on the
real offline mirror when one is configured)."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from test_data_helpers import REPO, idx_bytes, isolated, make_mirror, mnist_files, tar_bytes, wav_bytes  # noqa: F401

from utils import data

pytestmark = pytest.mark.usefixtures("isolated")
REAL_MIRROR = os.environ.get("COURSE_DATA_MIRROR")  # read before the fixture unsets it
FSDD = "fsdd/free-spoken-digit-dataset-1.0.10"


def test_load_mnist_from_a_mirror(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(make_mirror(tmp_path / "m", mnist_files())))
    assert data.describe("mnist") == "mnist (not loaded yet)"
    result = data.load_mnist()
    (xtr, ytr), (xte, yte) = result  # the shape notebooks unpack
    assert xtr.shape == (12, 28, 28) and xtr.dtype == np.uint8 and list(ytr[:3]) == [0, 1, 2]
    assert xte.shape == (5, 28, 28) and isinstance(result, tuple) and len(result) == 2
    assert result.source.origin == "mirror" and result.source.subset and not result.source.canonical
    line = data.describe("mnist")
    assert line == data.describe(result) == str(result.source)
    assert "SUBSET" in line and "offline mirror" in line and "not the canonical file" in line
    assert pickle.loads(pickle.dumps(result)).source == result.source


def test_read_idx_rejects_bad_files(tmp_path):
    bad_magic = tmp_path / "a.idx"
    bad_magic.write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(data.CorruptDataError, match="magic"):
        data.read_idx(bad_magic)
    short = tmp_path / "b.idx"
    short.write_bytes(idx_bytes(np.zeros((3, 2, 2)))[:-1])
    with pytest.raises(data.CorruptDataError, match="header says"):
        data.read_idx(short)
    import gzip

    broken_gz = tmp_path / "c.idx.gz"
    broken_gz.write_bytes(gzip.compress(idx_bytes(np.zeros((3, 2))))[:-8])
    with pytest.raises(data.CorruptDataError, match="gzip"):
        data.read_idx(broken_gz)


def cifar_records(labels, seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    return b"".join(bytes([y]) + rng.integers(0, 256, 3072, dtype=np.uint8).tobytes() for y in labels)


def test_load_cifar10_reads_whatever_batches_exist(tmp_path, monkeypatch, capsys):
    train = cifar_records([6, 9, 9])
    archive = tar_bytes({"cifar-10-batches-bin/data_batch_1.bin": train,
                         "cifar-10-batches-bin/test_batch.bin": cifar_records([3, 8], seed=1),
                         "cifar-10-batches-bin/batches.meta.txt": b"airplane\n"})
    mirror = make_mirror(tmp_path / "m", {"cifar10/cifar-10-binary.tar.gz": archive})
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(mirror))
    result = data.load_cifar10()
    (xtr, ytr), (xte, yte) = result
    assert xtr.shape == (3, 32, 32, 3) and list(ytr) == [6, 9, 9] and list(yte) == [3, 8]
    # channels last: pixel (0, 0) of image 0 has the first red, green and blue bytes of its record
    rec = np.frombuffer(train, np.uint8)[:3073]
    assert list(xtr[0, 0, 0]) == [rec[1], rec[1 + 1024], rec[1 + 2048]]
    assert "SUBSET" in capsys.readouterr().out and result.source.facts == {"train": 3, "test": 2}


def test_load_cifar10_rejects_ragged_records(tmp_path, monkeypatch):
    archive = tar_bytes({"b/data_batch_1.bin": b"\x00" * 100, "b/test_batch.bin": cifar_records([1])})
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
    text = data.load_tiny_shakespeare()
    assert text.startswith("First Citizen") and isinstance(text, str) and text.source.facts == {"chars": 32}
    alice = data.load_alice()
    assert alice == "ALICE\nDown the Rabbit-Hole\n" and alice.source.facts["edition"] == "book"
    sentences, labels = data.load_umich_sentiment()
    assert sentences == ["good movie", "bad movie"] and list(labels) == [1, 0]
    with pytest.raises(ValueError, match="edition"):
        data.load_alice("klingon")


def test_umich_bad_line_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(make_mirror(tmp_path / "m", {
        "umich-sentiment/umich-sentiment-train.txt": b"1\tok\nno tab here\n"})))
    with pytest.raises(data.CorruptDataError, match=":2:"):
        data.load_umich_sentiment()


def test_unknown_names_and_wrong_types_are_clear_errors(tmp_path):
    with pytest.raises(KeyError, match="mnist"):
        data.fetch("nope")
    with pytest.raises(KeyError, match="brown"):
        data.load_nltk("klingon")
    with pytest.raises(TypeError, match="not one string"):
        data.fetch("mnist", "mnist/t10k-labels-idx1-ubyte.gz")
    with pytest.raises(KeyError, match="unknown parts"):
        data.fetch("mnist", ["t10k-labels.gz"])
    with pytest.raises(ValueError, match="archive dataset"):
        data.fetch("fsdd", parts=["x"])
    with pytest.raises(TypeError, match="not one string"):
        data.write_mirror(tmp_path / "out", "mnist")
    with pytest.raises(KeyError, match="unknown dataset 'mnst'"):
        data.write_mirror(tmp_path / "out", ["mnst"])
    assert not (tmp_path / "out").exists()  # nothing written before the names were checked
    with pytest.raises(TypeError, match="separate arguments"):
        data.load_nltk(["brown"])
    with pytest.raises(TypeError):
        data.describe(42)


def test_fetch_accepts_file_names_as_parts(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(make_mirror(tmp_path / "m", mnist_files())))
    got = data.fetch("mnist", ["t10k-labels-idx1-ubyte.gz"])
    assert [p.name for p in got] == ["t10k-labels-idx1-ubyte.gz"] and got.origin == "mirror"


def test_registry_is_consistent():
    for ds in data.REGISTRY.values():
        for f in ds.files:
            assert f.urls and all(u.startswith("https://") for u in f.urls), f
            assert f.known_hash or "pinned" in f.hash_source, f"{f.path}: no hash and no pin note"
            assert f.byte_cap, f"{f.path}: no size cap"
    for bad in ["../escape", "/abs", "a\\b", "C:x", ""]:
        with pytest.raises(ValueError):
            data.RemoteFile(bad, ("https://x",), None)
    with pytest.raises(ValueError):
        data.RemoteFile("ok", ("https://x",), "crc32:1234")


def test_fsdd_manifest_matches_the_real_mirror_listing():
    """The registry's FSDD manifest is the sha256 of the recordings' listing (3,000 files at tag v1.0.10)."""
    if not REAL_MIRROR:
        pytest.skip("no offline mirror configured")
    sums = data.read_sums(Path(REAL_MIRROR) / "SHA256SUMS")
    pairs = [(rel[len(FSDD) + 1:], sha) for rel, sha in sums.items() if rel.startswith(f"{FSDD}/recordings/")]
    assert len(pairs) == 3000
    assert data.store.manifest_digest(pairs) == data.REGISTRY["fsdd"].manifest


def test_read_sums_parses_and_rejects(tmp_path):
    good = tmp_path / "S"
    good.write_text(f"{'a' * 64}  dir/x.bin\n{'b' * 64} *./y.bin\n\n")
    assert data.read_sums(good) == {"dir/x.bin": "a" * 64, "y.bin": "b" * 64}
    bad = tmp_path / "B"
    bad.write_text("not a checksum line\n")
    with pytest.raises(data.DataError, match="B:1"):
        data.read_sums(bad)


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", f"{FSDD}/../../../../etc/passwd",
                                  "a\\..\\b", "C:/x"])
def test_read_sums_refuses_traversal_lines(tmp_path, name):
    sums = tmp_path / "SHA256SUMS"
    sums.write_text(f"{'a' * 64}  ok.txt\n{'b' * 64}  {name}\n")
    with pytest.raises(data.DataError, match=r"SHA256SUMS:2: unsafe file name"):
        data.read_sums(sums)


def test_a_traversal_line_in_a_mirror_is_never_followed(tmp_path, monkeypatch):
    """An extracted dataset's prefix followed by '..': refused while reading the list, so no file outside the
    mirror is hashed or used, and write_mirror cannot copy the line into a new list."""
    outside = tmp_path / "secret.wav"
    outside.write_bytes(wav_bytes())
    m = make_mirror(tmp_path / "m", {f"{FSDD}/recordings/1_a_0.wav": wav_bytes()},
                    extra_lines=f"{hashlib.sha256(outside.read_bytes()).hexdigest()}  {FSDD}/../../secret.wav\n")
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(m))
    with pytest.raises(data.DataError, match="unsafe file name"):
        data.load_fsdd()
    with pytest.raises(data.DataError, match="unsafe file name"):
        data.write_mirror(tmp_path / "out", ["fsdd"])


# ---------------------------------------------------------------------------------------------------- archives

def tar_member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "", content: bytes = b"hi") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo(name)
        info.type, info.linkname = kind, linkname
        if kind == tarfile.REGTYPE:
            info.size = len(content)
            tf.addfile(info, io.BytesIO(content))
        else:
            tf.addfile(info)
    return buf.getvalue()


@pytest.mark.parametrize("member", ["../evil.txt", "a/../../evil.txt", "/abs/evil.txt", "C:evil", "..\\evil"])
def test_tar_with_escaping_member_is_refused(tmp_path, member):
    archive = tmp_path / "a.tar"
    archive.write_bytes(tar_member(member))
    with pytest.raises(data.UnsafeArchiveError):
        data.safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists() and not list((tmp_path / "out").rglob("*"))


@pytest.mark.parametrize("kind, linkname", [(tarfile.SYMTYPE, "/etc/passwd"), (tarfile.LNKTYPE, "/etc/passwd"),
                                            (tarfile.LNKTYPE, "../x"), (tarfile.CHRTYPE, ""),
                                            (tarfile.FIFOTYPE, "")])
def test_tar_with_links_and_special_files_is_refused(tmp_path, kind, linkname):
    archive = tmp_path / "a.tar"
    archive.write_bytes(tar_member("thing", kind, linkname))
    with pytest.raises(data.UnsafeArchiveError, match="link|regular"):
        data.safe_extract(archive, tmp_path / "out")
    assert not list((tmp_path / "out").rglob("*"))


def test_tar_edge_cases_are_corrupt_data_not_raw_os_errors(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name in ["x", "x/y"]:  # a file, then a member inside it
            info = tarfile.TarInfo(name)
            info.size = 1
            tf.addfile(info, io.BytesIO(b"1"))
    (tmp_path / "clash.tar").write_bytes(buf.getvalue())
    with pytest.raises(data.CorruptDataError, match="inside the file"):
        data.safe_extract(tmp_path / "clash.tar", tmp_path / "out1")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for content in (b"first", b"second"):
            info = tarfile.TarInfo("dup.txt")
            info.size = len(content)
            tf.addfile(info, io.BytesIO(content))
    (tmp_path / "dup.tar").write_bytes(buf.getvalue())
    with pytest.raises(data.CorruptDataError, match="twice"):
        data.safe_extract(tmp_path / "dup.tar", tmp_path / "out2")
    (tmp_path / "big.tar").write_bytes(tar_member("big.bin", content=b"x" * 5000))
    with pytest.raises(data.CorruptDataError, match="more than 1,000 bytes"):
        data.safe_extract(tmp_path / "big.tar", tmp_path / "out3", max_bytes=1000)
    assert not [p for p in tmp_path.glob("out*/**/*") if p.is_file()]


@pytest.mark.parametrize("member", ["../evil.txt", "/abs.txt"])
def test_zip_with_escaping_member_is_refused(tmp_path, member):
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(member, "x")
    with pytest.raises(data.UnsafeArchiveError):
        data.safe_extract(archive, tmp_path / "out")


def test_safe_archive_extracts_tar_and_zip(tmp_path):
    archive = tmp_path / "a.tar"
    archive.write_bytes(tar_member("pkg/file.txt"))
    assert [f.read_text() for f in data.safe_extract(archive, tmp_path / "out")] == ["hi"]
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as zf:
        zf.writestr("pkg/", "")
        zf.writestr("pkg/z.txt", "zip")
    assert [f.read_text() for f in data.safe_extract(tmp_path / "a.zip", tmp_path / "outz")] == ["zip"]


def test_not_an_archive(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"this is no archive " * 40)
    with pytest.raises(data.CorruptDataError):
        data.safe_extract(junk, tmp_path / "out")


# ------------------------------------------------------------------------------------------ FSDD from a mirror

def fsdd_mirror(root: Path, names=("3_theo_0", "3_theo_7", "5_lucas_12")) -> Path:
    return make_mirror(root, {f"{FSDD}/recordings/{n}.wav": wav_bytes() for n in names})


def test_fsdd_from_an_extracted_mirror_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(fsdd_mirror(tmp_path / "m")))
    digits = data.load_fsdd()
    assert list(digits.labels) == [3, 3, 5] and digits.rate == 8000 and digits.speakers == ["theo", "theo", "lucas"]
    train, test = digits.split()
    assert list(test) == [0] and list(train) == [1, 2]
    assert digits.source.origin == "mirror" and digits.source.subset and digits.source.kind == "differs"
    assert data.dataset_dir("fsdd") == tmp_path / "m" / FSDD


def test_unlisted_file_in_a_mirror_folder_is_never_loaded(tmp_path, monkeypatch, capsys):
    m = fsdd_mirror(tmp_path / "m")
    (m / FSDD / "recordings/7_mallory_0.wav").write_bytes(wav_bytes())  # planted, not in SHA256SUMS
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(m))
    digits = data.load_fsdd()
    assert list(digits.labels) == [3, 3, 5] and "mallory" not in digits.speakers
    out = capsys.readouterr().out
    assert "not listed in its SHA256SUMS and are ignored" in out and "7_mallory_0.wav" in out
    assert "recordings/7_mallory_0.wav" not in data.dataset_files("fsdd").files


def test_fsdd_corrupt_mirror_folder_falls_back_and_explains(tmp_path, monkeypatch):
    m = make_mirror(tmp_path / "m", {f"{FSDD}/recordings/1_a_0.wav": b"RIFF"})
    (m / f"{FSDD}/recordings/1_a_0.wav").write_bytes(b"changed")
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(m))
    with pytest.raises(data.DataUnavailable, match="refused as corrupt"):
        data.load_fsdd()


# ---------------------------------------------------------------------------------------------------- mirror writer

def test_write_mirror_round_trip(tmp_path, monkeypatch):
    src = make_mirror(tmp_path / "src", mnist_files())
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(src))
    sums = data.write_mirror(tmp_path / "out", ["mnist"])
    assert data.read_sums(sums) == data.read_sums(src / "SHA256SUMS")
    with pytest.raises(ValueError, match="destination"):
        data.write_mirror(src, ["mnist"])
    # the written mirror verifies with the system's sha256sum, as a lab would check it
    if subprocess.run(["which", "sha256sum"], capture_output=True).returncode == 0:
        subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=sums.parent, check=True)


def test_write_mirror_of_an_archive_dataset_copies_only_listed_files(tmp_path, monkeypatch):
    m = fsdd_mirror(tmp_path / "m")
    (m / FSDD / "recordings/7_mallory_0.wav").write_bytes(wav_bytes())
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(m))
    sums = data.read_sums(data.write_mirror(tmp_path / "out", ["fsdd"]))
    assert sorted(sums) == sorted(data.read_sums(m / "SHA256SUMS"))
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(tmp_path / "out"))
    assert list(data.load_fsdd().labels) == [3, 3, 5]


def test_cli_list_and_error_exit(tmp_path):
    env = {**os.environ, "COURSE_DATA_DIR": str(tmp_path / "c"), "COURSE_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    env.pop("COURSE_DATA_MIRROR", None)
    out = subprocess.run([sys.executable, "-m", "utils.data", "list"], cwd=REPO, env=env,
                         capture_output=True, text=True, check=True).stdout
    assert "mnist" in out and "fsdd" in out and "warning" not in out
    bad = subprocess.run([sys.executable, "-m", "utils.data", "fetch", "mnist"], cwd=REPO, env=env,
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "Cannot get the data file" in bad.stdout
    env["COURSE_DATA_MIRROR"] = str(tmp_path / "typo")
    out = subprocess.run([sys.executable, "-m", "utils.data", "list"], cwd=REPO, env=env,
                         capture_output=True, text=True, check=True).stdout
    assert "warning:" in out and "does not exist" in out


def test_status_lines_need_files_not_just_a_listing(tmp_path, monkeypatch):
    m = fsdd_mirror(tmp_path / "m")
    (m / FSDD / "recordings/3_theo_0.wav").unlink()  # listed but gone
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(m))
    (Path(os.environ["COURSE_DATA_DIR"]) / FSDD).mkdir(parents=True)  # a folder without its marker
    line = next(s for s in data.status_lines() if s.startswith("fsdd"))
    assert "not here yet" in line


# ---------------------------------------------------------------------------------------------------- real mirror

real_mirror = pytest.mark.skipif(not REAL_MIRROR, reason="no offline mirror configured")


@real_mirror
def test_real_mirror_loaders(monkeypatch):
    monkeypatch.setenv("COURSE_DATA_MIRROR", REAL_MIRROR)
    mnist = data.load_mnist()
    (xtr, ytr), (xte, yte) = mnist
    assert xtr.shape == (60000, 28, 28) and list(ytr[:5]) == [5, 0, 4, 1, 9]
    # the mirror's MNIST is re-gzipped: recognised as the canonical content by its decompressed md5
    assert mnist.source.kind == "same content"
    assert "offline mirror, re-compressed, same content)" in data.describe("mnist")
    (cx, cy), (tx, ty) = data.load_cifar10()
    assert list(cy[:5]) == [6, 9, 9, 4, 1] and list(ty[:5]) == [3, 8, 8, 0, 6]
    assert list(cx[0, 0, :10, 0]) == [59, 43, 50, 68, 98, 119, 139, 145, 149, 149]
    assert data.load_tiny_shakespeare().source.kind == "canonical"
    monkeypatch.setenv("NLTK_DATA", os.environ.get("NLTK_DATA", ""))
    nltk = data.load_nltk("punkt_tab", "treebank")
    assert nltk.word_tokenize("Hello world. Second sentence.") == ["Hello", "world", ".", "Second", "sentence", "."]
    assert len(nltk.corpus.treebank.tagged_sents()) == 3914
    digits = data.load_fsdd()
    assert len(digits.labels) == 3000 and digits.source.kind == "canonical"
    assert data.describe(digits) == "fsdd (full, recordings 3,000; offline mirror)"
