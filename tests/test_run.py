"""The notebook runner on tiny notebooks written by the test (a real kernel: a few seconds each)."""

import json
import sys

import pytest

from utils import run
from utils.nbtools import write_notebook


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    monkeypatch.setattr(run, "notebook_paths", lambda: sorted(nbdir.glob("[0-9][0-9]_*.ipynb")))
    monkeypatch.setenv("COURSE_BUILD_DIR", str(tmp_path / "build"))
    return nbdir


def test_resolve_names(workspace):
    for stem in ("00_a", "01_b", "02_c"):
        write_notebook(workspace / f"{stem}.ipynb", [("code", "1")])
    assert [p.stem for p in run.resolve([])] == ["00_a", "01_b", "02_c"]
    assert [p.stem for p in run.resolve(["02", "00_a.ipynb"])] == ["00_a", "02_c"]
    with pytest.raises(SystemExit, match="matches none"):
        run.resolve(["07"])
    with pytest.raises(SystemExit, match="matches several"):
        run.resolve(["0"])


def test_main_runs_writes_report_and_names_the_failing_cell(workspace, tmp_path, capsys):
    write_notebook(workspace / "00_good.ipynb", [
        ("code", "import os\nassert os.environ['COURSE_PROFILE'] == 'smoke'\nprint('cwd', os.getcwd())"),
        ("md", "text"),
    ])
    write_notebook(workspace / "01_bad.ipynb", [
        ("code", "x = 1"),
        ("code", "raise ValueError('planted failure')"),
        ("code", "print('never')"),
    ])
    code = run.main(["--profile", "smoke"])
    out = capsys.readouterr()
    assert code == 1
    assert "ok      00_good" in out.out and "1 passed, 1 failed" in out.out
    assert "FAILED  01_bad" in out.err and "cell 1" in out.err and "planted failure" in out.err
    build = tmp_path / "build"
    executed = json.loads((build / "notebooks/00_good.ipynb").read_text())
    assert str(workspace) in "".join(executed["cells"][0]["outputs"][0]["text"])  # ran in the notebook's folder
    assert (build / "notebooks/00_good.html").exists()
    times = json.loads((build / "times.json").read_text())
    assert times["00_good"]["status"] == "ok" and times["01_bad"]["status"] == "FAILED"
    assert "00_good" in (build / "REPORT.md").read_text()


def test_cli_rejects_bad_profile():
    with pytest.raises(SystemExit):
        run.main(["--profile", "turbo"])


def test_outcome_line():
    assert "before any cell" in run.Outcome("x", False, 1.0, None, "boom").line()
    assert sys.executable  # the runner's kernel is this interpreter's ipykernel
