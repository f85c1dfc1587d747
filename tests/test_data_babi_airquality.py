"""The chapter-13 datasets: UCI Air Quality and bAbI — parsing, corrupt and missing files, the offline message,
on small files made here (and on the real offline mirror when one is configured)."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from test_data_helpers import isolated, make_mirror, tar_bytes  # noqa: F401

from utils import data

pytestmark = pytest.mark.usefixtures("isolated")
REAL_MIRROR = os.environ.get("COURSE_DATA_MIRROR")  # read before the fixture unsets it
AQ = "airquality/AirQualityUCI.csv"
BABI = "babi/tasks_1-20_v1-2"

AQ_HEADER = "Date;Time;CO(GT);PT08.S1(CO);C6H6(GT);;"
AQ_TEXT = (f"{AQ_HEADER}\r\n10/03/2004;18.00.00;2,6;1360;11,9;;\r\n10/03/2004;19.00.00;-200;1292;9,4;;\r\n"
           ";;;;;;\r\n;;;;;;\r\n")

QA1_TRAIN = ("1 Mary moved to the bathroom.\n2 John went to the hallway.\n3 Where is Mary? \tbathroom\t1\n"
             "4 Daniel went back to the hallway.\n5 Where is Daniel? \thallway\t4\n"
             "1 Sandra journeyed to the office.\n2 Where is Sandra? \toffice\t1\n")
QA1_TEST = "1 John travelled to the hallway.\n2 Mary journeyed to the bathroom.\n3 Where is John? \thallway\t1\n"


def babi_files(train=QA1_TRAIN, test=QA1_TEST) -> dict[str, bytes]:
    return {f"{BABI}/en/qa1_single-supporting-fact_train.txt": train.encode(),
            f"{BABI}/en/qa1_single-supporting-fact_test.txt": test.encode()}


def test_airquality_parses_decimal_commas_times_and_keeps_the_missing_code(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(make_mirror(tmp_path / "m", {AQ: AQ_TEXT.encode()})))
    aq = data.load_airquality()
    assert aq.columns == ["CO(GT)", "PT08.S1(CO)", "C6H6(GT)"]
    assert aq.values.shape == (2, 3) and aq.values.dtype == np.float64  # the empty rows are skipped
    assert list(aq.column("C6H6(GT)")) == [11.9, 9.4] and aq.values[1, 0] == data.AIRQUALITY_MISSING
    assert aq.missing().sum() == 1 and aq.missing()[1, 0]
    assert str(aq.times[0]) == "2004-03-10T18" and (np.diff(aq.times) == np.timedelta64(1, "h")).all()
    assert aq.source.origin == "mirror" and not aq.source.canonical  # a made-up file is not UCI's
    assert "hours 2" in data.describe("airquality")
    with pytest.raises(KeyError, match="C6H6"):
        aq.column("benzene")


@pytest.mark.parametrize("text, match", [
    ("Day;Hour;CO\r\n", "header"),
    (f"{AQ_HEADER}\r\n10/03/2004;18.00.00;2,6;abc;11,9;;\r\n", r":2: 'abc' is not a number"),
    (f"{AQ_HEADER}\r\n10/03/2004;18.00.00;2,6\r\n", ":2: expected"),
    (f"{AQ_HEADER}\r\n2004-03-10;18.00.00;2,6;1360;11,9;;\r\n", "bad date"),
    (f"{AQ_HEADER}\r\n;;;;;;\r\n", "no data rows"),
])
def test_airquality_corrupt_files_are_named(tmp_path, monkeypatch, text, match):
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(make_mirror(tmp_path / "m", {AQ: text.encode()})))
    with pytest.raises(data.CorruptDataError, match=match):
        data.load_airquality()


def test_airquality_offline_message_names_file_url_and_checksum(tmp_path):
    with pytest.raises(data.DataUnavailable) as info:
        data.load_airquality()
    msg = str(info.value)
    assert "Cannot get the data file 'airquality/AirQualityUCI.csv'" in msg
    assert "raw.githubusercontent.com" in msg and "13277ae5d8581e80" in msg and "785,065 bytes" in msg
    assert "COURSE_DATA_MIRROR" in msg and "COURSE_OFFLINE is set" in msg


def test_airquality_changed_mirror_file_is_refused(tmp_path, monkeypatch):
    m = make_mirror(tmp_path / "m", {AQ: AQ_TEXT.encode()})
    (m / AQ).write_bytes(AQ_TEXT.replace("2,6", "9,9").encode())  # no longer what SHA256SUMS says
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(m))
    with pytest.raises(data.DataUnavailable, match="refused as corrupt"):
        data.load_airquality()


def test_parse_babi_stories_questions_and_supports():
    stories = data.parse_babi(QA1_TRAIN)
    assert [len(s) for s in stories] == [5, 2]
    q = stories[0][2]
    assert q.is_question and q.text == "Where is Mary?" and q.answer == "bathroom" and q.supports == (1,)
    assert not stories[0][0].is_question and stories[0][0].text == "Mary moved to the bathroom."
    assert stories[1][1].answer == "office" and stories[1][0].id == 1


@pytest.mark.parametrize("text, match", [
    ("Mary moved.\n", "expected 'ID text'"),
    ("1 Mary moved.\n3 John went.\n", "does not follow"),
    ("2 Mary moved.\n", "does not follow"),
    ("1 Mary moved.\n2 Where is Mary?\tbathroom\n", "question is"),
    ("1 Mary moved.\n2 Where is Mary?\tbathroom\t5\n", "not an earlier line"),
    ("1 Mary moved.\n2 Where is Mary?\tbathroom\tone\n", "not numbers"),
])
def test_parse_babi_rejects_broken_lines(text, match):
    with pytest.raises(data.CorruptDataError, match=match):
        data.parse_babi(text, "f.txt")


def test_load_babi_from_a_mirror_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(make_mirror(tmp_path / "m", babi_files())))
    task = data.load_babi(1)
    train, test = task
    assert task.task == 1 and task.name == "single-supporting-fact"
    assert len(train) == 2 and len(test) == 1 and test[0][2].answer == "hallway"
    assert task.source.facts == {"task": 1, "train questions": 3, "test questions": 1}
    assert task.source.kind == "differs"  # not the registry's manifest: made-up files
    assert pickle.loads(pickle.dumps(task)).name == task.name
    with pytest.raises(data.CorruptDataError, match="qa2_"):
        data.load_babi(2)
    for bad in (0, 21, "1", True):
        with pytest.raises(ValueError, match="1-20"):
            data.load_babi(bad)


def test_load_babi_from_an_archive_in_the_cache(tmp_path, monkeypatch):
    members = {f"tasks_1-20_v1-2/{rel[len(BABI) + 1:]}": b for rel, b in babi_files().items()}
    archive = tar_bytes(members)
    cache = Path(os.environ["COURSE_DATA_DIR"])
    (cache / "babi").mkdir(parents=True)
    (cache / "babi/tasks_1-20_v1-2.tar.gz").write_bytes(archive)  # no pin yet: taken as is, then pinned? no:
    # an unpinned cached file of a pinned-on-download entry is used as "unknown"; its files fail the manifest
    with pytest.raises(data.CorruptDataError, match="manifest"):
        data.load_babi(1)


def test_load_babi_corrupt_story_file_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(make_mirror(tmp_path / "m", babi_files(test="1 a.\n3 b.\n"))))
    with pytest.raises(data.CorruptDataError, match=r"qa1_single-supporting-fact_test.txt:2"):
        data.load_babi(1)


def test_load_babi_missing_offline_says_what_to_do(tmp_path):
    with pytest.raises(data.DataUnavailable) as info:
        data.load_babi(1)
    msg = str(info.value)
    assert "babi/tasks_1-20_v1-2.tar.gz" in msg and "s3.amazonaws.com/text-datasets" in msg
    assert "the extracted folder babi/tasks_1-20_v1-2/" in msg and "not published" in msg


def test_registry_entries():
    aq, babi = data.get_dataset("airquality"), data.get_dataset("babi")
    assert aq.files[0].known_hash.startswith("sha256:13277ae5") and aq.licence == "CC BY 4.0"
    assert babi.extracted == BABI and babi.manifest_glob == "en/*.txt" and len(babi.manifest) == 64


real_mirror = pytest.mark.skipif(not REAL_MIRROR, reason="no offline mirror configured")


@real_mirror
def test_babi_manifest_matches_the_real_mirror_listing():
    sums = data.read_sums(Path(REAL_MIRROR) / "SHA256SUMS")
    pairs = [(rel[len(BABI) + 1:], sha) for rel, sha in sums.items()
             if rel.startswith(f"{BABI}/en/") and rel.endswith(".txt")]
    assert len(pairs) == 40
    assert data.store.manifest_digest(pairs) == data.REGISTRY["babi"].manifest


@real_mirror
def test_real_mirror_airquality_and_babi(monkeypatch):
    monkeypatch.setenv("COURSE_DATA_MIRROR", REAL_MIRROR)
    aq = data.load_airquality()
    assert aq.values.shape == (9357, 13) and aq.source.kind == "canonical"
    assert str(aq.times[0]) == "2004-03-10T18" and str(aq.times[-1]) == "2005-04-04T14"
    assert aq.column("C6H6(GT)")[0] == 11.9 and (aq.column("C6H6(GT)") == -200).sum() == 366
    assert (np.diff(aq.times) == np.timedelta64(1, "h")).all()
    for task in (1, 2, 3):
        train, test = t = data.load_babi(task)
        assert t.source.kind == "canonical" and t.source.facts["train questions"] == 1000
        assert sum(line.is_question for s in test for line in s) == 1000
    assert data.load_babi(1)[1][0][0].text == "John travelled to the hallway."
