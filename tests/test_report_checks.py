import json

import numpy as np
import pytest

import utils
from utils import report, session
from utils.checks import CheckFailed, check


@pytest.fixture
def nb(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_BUILD_DIR", str(tmp_path / "build"))
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    monkeypatch.setattr(session, "_CURRENT", None)
    s = utils.setup("99_test", quiet=True)
    yield s
    monkeypatch.setattr(session, "_CURRENT", None)


def test_record_writes_the_documented_shape(nb, tmp_path):
    utils.record("acc", np.float32(0.981), book=0.9812, grade="A", source="mnist (full)")
    utils.record("seconds", 12, higher_is_better=False)
    doc = json.loads((tmp_path / "build/metrics/99_test.json").read_text())
    assert doc["notebook"] == "99_test" and doc["profile"] == "smoke"
    acc = doc["metrics"]["acc"]
    assert acc["value"] == pytest.approx(0.981) and acc["book"] == 0.9812 and acc["grade"] == "A"
    assert acc["higher_is_better"] is True and acc["source"] == "mnist (full)" and acc["profile"] == "smoke"
    assert doc["metrics"]["seconds"]["value"] == 12


def test_setup_starts_a_fresh_file(nb, tmp_path):
    utils.record("old", 1)
    utils.setup("99_test", quiet=True)
    assert json.loads((tmp_path / "build/metrics/99_test.json").read_text())["metrics"] == {}


@pytest.mark.parametrize("kwargs,match", [
    (dict(name="bad name", value=1), "identifiers"),
    (dict(name="x", value=float("nan")), "finite"),
    (dict(name="x", value="0.9"), "real number"),
    (dict(name="x", value=True), "real number"),
    (dict(name="x", value=1, grade="Z", book=1), "grade"),
    (dict(name="x", value=1, grade="A"), "without a book"),
    (dict(name=None, value=1), "identifiers"),
    (dict(name="x", value=1, higher_is_better="yes"), "True, False or None"),
    (dict(name="x", value=np.array([0.9, 0.8])), r"one number, got an array of shape \(2,\)"),
    (dict(name="x", value=1, note="two\nlines"), "one line"),
    (dict(name="x", value=1, source="a\rb"), "one line"),
    (dict(name="x", value=1, source=None), "must be a string"),
    (dict(name="x", value=1, notebook="../../x"), "file stem"),
    (dict(name="x", value=1, notebook="sub/x"), "file stem"),
])
def test_record_rejects_bad_input(nb, kwargs, match):
    with pytest.raises(report.ReportError, match=match):
        utils.record(**kwargs)


def test_record_needs_a_setup(monkeypatch):
    monkeypatch.setattr(session, "_CURRENT", None)
    with pytest.raises(report.ReportError, match="setup"):
        utils.record("x", 1)


def test_report_aggregates_book_vs_ours(nb, tmp_path, capsys):
    utils.record("acc", 0.99, book=0.98, grade="B", source="SUBSET")
    utils.record("loss", 1.5, book=1.3685, higher_is_better=False)
    table = utils.show_results()
    assert "| acc | 0.98 (B) | 0.99 | better | smoke | SUBSET |" in table
    assert "| loss | 1.3685 | 1.5 | worse |" in table
    path = report.write_report({"99_test": {"profile": "smoke", "status": "ok", "seconds": 3.21}})
    text = path.read_text()
    assert "book vs ours" in text and "| 99_test | smoke | ok | 3.2 s |" in text and "| acc |" in text


def test_report_with_no_metrics(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_BUILD_DIR", str(tmp_path / "empty"))
    assert "No metrics recorded yet" in report.write_report().read_text()


def test_verdict():
    assert report.verdict({"value": 1.0, "book": 1.0, "higher_is_better": True}) == "same"
    assert report.verdict({"value": 2.0, "book": 1.0, "higher_is_better": False}) == "worse"
    assert report.verdict({"value": 2.0, "book": None, "higher_is_better": True}) == ""


def test_record_accepts_one_element_arrays_and_tensors(nb):
    import torch

    assert utils.record("a", np.array([0.5]))["value"] == 0.5
    assert utils.record("t", torch.tensor(0.25))["value"] == 0.25
    with pytest.raises(report.ReportError, match="one number"):
        utils.record("t2", torch.tensor([1.0, 2.0]))


def test_pipes_in_a_field_do_not_break_the_table(nb):
    utils.record("gradcheck", 1e-9, higher_is_better=False, note="max |g - g_num|", source="synthetic | tiny")
    table = utils.show_results()
    row = next(r for r in table.splitlines() if r.startswith("| gradcheck"))
    assert row.endswith("| synthetic \\| tiny |")
    assert row.replace("\\|", "").count("|") == len(report.TABLE_HEAD[1].split("|")) - 1  # 7 cell borders


@pytest.mark.parametrize("stem", ["notebooks/01_hopfield.ipynb", "..", "../../x", "01.ipynb", "", "a\\b", None])
def test_start_rejects_paths(stem, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_BUILD_DIR", str(tmp_path / "build"))
    with pytest.raises(report.ReportError, match="file stem"):
        report.start(stem, "cpu")
    assert not list(tmp_path.rglob("*.json"))


def test_nothing_is_written_outside_build_metrics(nb, tmp_path):
    with pytest.raises(report.ReportError):
        utils.record("x", 1, notebook="../../escaped")
    assert not (tmp_path / "escaped.json").exists() and not list(tmp_path.glob("*.json"))


def test_check_exact_allclose_and_fail(capsys):
    assert check("same", [1, 2, 3], np.array([1, 2, 3]))
    assert check("close", 1.0, 1.0 + 1e-9)
    out = capsys.readouterr().out
    assert "[ok] same: exact" in out and "[ok] close: allclose (max abs diff 1e-09" in out
    with pytest.raises(CheckFailed, match=r"max abs diff 0.5 at \(1,\)"):
        check("wrong", [1.0, 2.0], [1.0, 2.5])
    with pytest.raises(CheckFailed, match="shape"):
        check("shape", np.zeros((2, 3)), np.zeros((3, 2)))
    assert check("text", "abc", "abc")
    with pytest.raises(CheckFailed):
        check("text", "abc", "abd")


def test_check_accepts_tensors():
    import torch

    assert check("torch", torch.tensor([1.0, 2.0], requires_grad=True) * 1, [1.0, 2.0], quiet=True)
