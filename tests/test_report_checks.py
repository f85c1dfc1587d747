import json

import numpy as np
import pytest

import utils
from utils import nbtools, report, session
from utils.checks import CheckFailed, check
from utils.paths import REPO_ROOT


@pytest.fixture
def nb(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_BUILD_DIR", str(tmp_path / "build"))
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    monkeypatch.setattr(session, "_CURRENT", None)
    monkeypatch.setattr(report, "_ACTIVE", None)
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
    (dict(name="x", value=1, n=0), "number of samples"),
    (dict(name="x", value=1, n=2.5), "number of samples"),
    (dict(name="x", value=1, tol=-1), "non-negative"),
])
def test_record_rejects_bad_input(nb, kwargs, match):
    with pytest.raises(report.ReportError, match=match):
        utils.record(**kwargs)


def test_record_needs_a_setup(monkeypatch):
    monkeypatch.setattr(session, "_CURRENT", None)
    monkeypatch.setattr(report, "_ACTIVE", None)
    with pytest.raises(report.ReportError, match="setup"):
        utils.record("x", 1)


def test_show_results_says_not_comparable_in_smoke(nb, capsys):
    utils.record("acc", 0.99, book=0.98, grade="B", source="mnist (full, train 60,000, test 10,000)")
    utils.record("loss", 1.5, book=1.3685, higher_is_better=False)
    table = utils.show_results()
    assert "| acc | 0.98 (B) | 0.99 | not comparable (smoke) | smoke |" in table
    assert "| loss | 1.3685 | 1.5 | not comparable (smoke) |" in table


def test_report_with_no_metrics(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_BUILD_DIR", str(tmp_path / "empty"))
    assert "No metrics recorded yet" in report.write_report().read_text()


def _e(value, book, **kw):
    return {"value": value, "book": book, "higher_is_better": True, "profile": "cpu", "source": "", **kw}


def test_verdict_uses_the_standard_error_of_an_accuracy():
    # n = 10,000 at p ~ 0.98: s.e. 0.0014, tolerance 2 s.e. = 0.0028
    assert report.verdict(_e(0.9790, 0.9812, n=10_000)) == "within noise"
    assert report.verdict(_e(0.9770, 0.9812, n=10_000)) == "below"
    assert report.verdict(_e(0.9850, 0.9812, n=10_000)) == "above"
    tol, how = report.tolerance(_e(0.9790, 0.9812, n=10_000))
    assert tol == pytest.approx(2 * ((0.9801 * 0.0199) / 10_000) ** 0.5) and how == "2 s.e., n=10,000"
    # n read from the data source when not given; a small test set widens the tolerance
    assert report.sample_count(_e(0.9, 0.9, source="mnist (full, train 60,000, test 10,000; mirror)")) == 10_000
    assert report.sample_count(_e(0.9, 0.9, source="catch, 40x40 input, 1,000 greedy evaluation games")) == 1_000
    assert report.sample_count(_e(0.9, 0.9, source="synthetic, 40x40")) is None
    assert report.verdict(_e(0.91, 0.93, source="umich (full, test 500)")) == "within noise"  # 2 s.e. = 0.024
    assert report.verdict(_e(0.91, 0.93, source="umich (full, test 5,000)")) == "below"  # 2 s.e. = 0.008


def test_verdict_tolerance_fallbacks_and_not_comparable():
    assert report.verdict(_e(1.40, 1.3685, higher_is_better=False)) == "within noise"   # 5 % of the book
    assert report.verdict(_e(1.50, 1.3685, higher_is_better=False)) == "above"
    assert "above (worse)" in report.verdict_cell(_e(1.50, 1.3685, higher_is_better=False))
    assert report.verdict(_e(1.50, 1.3685, tol=0.2)) == "within noise"
    assert report.verdict_cell(_e(109_482_240, 109_482_240, higher_is_better=None)) == "equal (exact count)"
    assert report.verdict(_e(4_195_072, 4_129_536, higher_is_better=None)) == "above"  # counts: exact, no 5 %
    assert report.verdict(_e(0.9, 0.98, profile="smoke")) == "not comparable (smoke)"
    subset = "cifar10 (SUBSET, train 4,000, test 1,000)"
    assert report.verdict(_e(0.7, 0.78, source=subset)) == "not comparable (subset)"
    assert report.verdict(_e(0.9, None)) == ""


def _run_entry(**kw):
    return {"profile": "cpu", "status": "ok", "seconds": 30.0, "run": "2026-01-01T10:00:00+00:00",
            "started": "2026-01-01T10:00:00+00:00", **kw}


def _metrics(build, stem, started, profile="cpu", **metrics):
    (build / "metrics").mkdir(parents=True, exist_ok=True)
    doc = {"notebook": stem, "profile": profile, "started": started, "status": "profile cpu · CPU, 2 threads",
           "metrics": {k: {"value": v, "book": b, "higher_is_better": True, "profile": profile,
                           "source": "mnist (full, train 60,000, test 10,000)"} for k, (v, b) in metrics.items()}}
    (build / "metrics" / f"{stem}.json").write_text(json.dumps(doc))


def test_report_shows_failures_links_environment_times_staleness_and_a_plot(tmp_path, monkeypatch):
    build = tmp_path / "build"
    monkeypatch.setenv("COURSE_BUILD_DIR", str(build))
    (build / "notebooks").mkdir(parents=True)
    (build / "notebooks" / "00_welcome.html").write_text("<html></html>")
    t = "2026-01-01T10:00:05+00:00"
    _metrics(build, "00_welcome", t, acc=(0.979, 0.9812))
    _metrics(build, "05_keras_mnist", t, acc=(0.95, 0.9812))                       # its run failed
    _metrics(build, "06_convnets", "2025-12-31T09:00:00+00:00", acc=(0.99, 0.992))  # before its last run: stale
    _metrics(build, "07_word_embeddings", t, profile="smoke", acc=(0.5, 0.9))      # another profile: stale
    times = {
        "00_welcome": _run_entry(seconds=95.0, html="notebooks/00_welcome.html", ipynb="notebooks/00_welcome.ipynb",
                                 kernel_start_s=1.2, setup_cell_s=0.4),
        "05_keras_mnist": _run_entry(status="FAILED", failed_cell=42, cell_source="callbacks = [", error="boom",
                                     error_tail=["Traceback (most recent call last)", "ValueError: planted"]),
        "06_convnets": _run_entry(),
        "07_word_embeddings": _run_entry(),
    }
    text = report.write_report(times).read_text()
    env = text.split("## Environment")[1].split("## Runs")[0]
    assert "git revision" in env and "| python |" in env and "Keras backend" in env and "| device |" in env
    assert "numpy " in env
    assert "| 05_keras_mnist | cpu | FAILED at cell 42 |" in text
    assert "### 05_keras_mnist — cell 42" in text and "ValueError: planted" in text and "`callbacks = [`" in text
    assert "[html](notebooks/00_welcome.html)" in text and "[ipynb](notebooks/00_welcome.ipynb)" not in text
    row = next(r for r in text.splitlines() if r.startswith("| 00_welcome |"))
    assert "1.2 s + 0.4 s" in row and "95.0 s" in row
    expected = nbtools.runtimes(REPO_ROOT / "notebooks/00_welcome.ipynb")["cpu"]
    assert f"| {expected} |" in row  # expected (from the title cell) beside measured
    assert "### 00_welcome (profile: cpu; current)" in text
    assert "within noise, ±0.0028" in text  # 2 s.e. at n = 10,000
    assert "### 05_keras_mnist (profile: cpu; partial: the run failed" in text
    assert "### 06_convnets (profile: cpu; stale: recorded 2025-12-31" in text
    assert "### 07_word_embeddings (profile: smoke; stale: recorded in the smoke profile" in text
    assert "![ours vs book" in text
    png = build / "results.png"
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_report_flags_an_overrun(tmp_path, monkeypatch):
    build = tmp_path / "build"
    monkeypatch.setenv("COURSE_BUILD_DIR", str(build))
    limit = report._seconds(nbtools.runtimes(REPO_ROOT / "notebooks/00_welcome.ipynb")["smoke"])
    times = {"00_welcome": _run_entry(profile="smoke", seconds=3 * limit)}
    assert "(over, ×3.0)" in report.write_report(times, plot=False).read_text()


def test_report_does_not_import_session():
    import ast

    tree = ast.parse((REPO_ROOT / "utils" / "report.py").read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "session" not in imported and "utils.session" not in imported


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


def test_metrics_are_written_whole_through_a_per_process_temporary_file(nb, tmp_path, monkeypatch):
    utils.record("a", 1)
    folder = tmp_path / "build/metrics"
    real = report.os.replace

    def crash(src, dst):  # the disk fills up (or the process dies) between writing and renaming
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report.os, "replace", crash)
    with pytest.raises(OSError):
        utils.record("b", 2)
    monkeypatch.setattr(report.os, "replace", real)
    assert sorted(p.name for p in folder.iterdir()) == ["99_test.json"]  # no temporary file left behind
    assert list(json.loads((folder / "99_test.json").read_text())["metrics"]) == ["a"]  # the last whole file


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


# ---------------------------------------------------------------- compare: verdicts on noisy differences
@pytest.mark.parametrize("diff,se,kw,expected", [
    (0.05, 0.01, {}, "better"),
    (-0.05, 0.01, {}, "worse"),
    (0.02, 0.01, {}, "not distinguishable"),          # exactly 2 se: not beyond the noise
    (0.021, 0.01, {}, "better"),
    (0.02, 0.01, {"k": 1.0}, "better"),
    (-3.0, 1.0, {"higher_is_better": False}, "better"),  # an error that went down
    (3.0, 1.0, {"higher_is_better": False}, "worse"),
    (0.0, 0.0, {}, "not distinguishable"),
    (1e-9, 0.0, {}, "better"),                         # no noise at all: any difference counts
])
def test_compare_verdicts(diff, se, kw, expected):
    assert utils.compare(diff, se, **kw) == expected


@pytest.mark.parametrize("diff,se,k", [(float("nan"), 0.1, 2), (0.1, float("inf"), 2), (0.1, -0.1, 2), (0.1, 0.1, 0)])
def test_compare_refuses_bad_input(diff, se, k):
    with pytest.raises(ValueError, match="compare needs"):
        utils.compare(diff, se, k=k)
