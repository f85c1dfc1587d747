"""The notebook runner on tiny notebooks written by the test (a real kernel: a few seconds each)."""

import json
import os
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
    bad = times["01_bad"]
    assert bad["failed_cell"] == 1 and bad["cell_source"] == "raise ValueError('planted failure')"
    assert any("ValueError: planted failure" in line for line in bad["error_tail"])
    assert not any("\x1b[" in line for line in bad["error_tail"])  # ANSI colours stripped
    good = times["00_good"]
    assert good["kernel_start_s"] > 0 and good["setup_cell_s"] >= 0 and good["run"] == bad["run"]
    assert good["html"] == "notebooks/00_good.html" and "setup_extra_output" not in good
    text = (build / "REPORT.md").read_text()
    assert "[html](notebooks/00_good.html) · [ipynb](notebooks/00_good.ipynb)" in text
    assert "| 01_bad | smoke | FAILED at cell 1 |" in text and "### 01_bad — cell 1" in text
    assert "ValueError: planted failure" in text.split("## Failures")[1]


def test_the_kernel_is_this_interpreter_and_noise_in_the_setup_cell_is_reported(workspace, tmp_path, capsys,
                                                                                 monkeypatch):
    """Even with another ``python3`` kernelspec first on Jupyter's path (a user's, here one that cannot start)."""
    spec = tmp_path / "jupyter/kernels/python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-c", "raise SystemExit(3)", "{connection_file}"],
        "display_name": "another Python", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    write_notebook(workspace / "00_exe.ipynb", [
        ("code", "import sys\nprint('status line')\nprint('extra', file=sys.stderr)"),
        ("code", "print(sys.executable)"),
    ])
    assert run.main(["--profile", "smoke", "--no-html"]) == 0
    assert "setup cell printed more than its status line: extra" in capsys.readouterr().out
    executed = json.loads((tmp_path / "build/notebooks/00_exe.ipynb").read_text())
    printed = "".join(executed["cells"][1]["outputs"][0]["text"]).strip()
    assert os.path.realpath(printed) == os.path.realpath(sys.executable)


@pytest.mark.skipif(run.mathjax_dir() is None, reason="jupyter-server-mathjax is not installed")
def test_html_loads_the_shipped_mathjax(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("$$E = mc^2$$")])
    html = run.export_html(nb, tmp_path / "x.html").read_text()
    assert f'src="mathjax/MathJax.js?config={run.MATHJAX_CONFIG}"' in html
    assert "libs/mathjax" not in html  # no CDN MathJax
    assert (tmp_path / "mathjax" / "MathJax.js").exists()
    run.export_html(nb, tmp_path / "y.html")  # the copy is made once and reused
    assert (tmp_path / "mathjax" / ".source").read_text() == str(run.mathjax_dir())


def test_cli_rejects_bad_profile():
    with pytest.raises(SystemExit):
        run.main(["--profile", "turbo"])


def test_outcome_line():
    assert "before any cell" in run.Outcome("x", False, 1.0, None, "boom").line()


def test_a_cell_timeout_names_the_cell(workspace, tmp_path):
    path = write_notebook(workspace / "00_slow.ipynb", [("code", "x = 1"), ("code", "import time\ntime.sleep(30)")])
    outcome = run.run_notebook(path, "smoke", timeout=2, html=False)
    assert not outcome.ok and outcome.failed_cell == 1 and "CellTimeoutError" in outcome.error
    assert outcome.cell_source == "import time"


def test_a_dead_kernel_names_the_cell_that_killed_it(workspace, tmp_path):
    path = write_notebook(workspace / "00_dead.ipynb", [("code", "x = 1"), ("code", "import os\nos._exit(1)"),
                                                          ("code", "print('never')")])
    outcome = run.run_notebook(path, "smoke", timeout=60, html=False)
    assert not outcome.ok and outcome.failed_cell == 1 and outcome.error.startswith("DeadKernelError")
    assert outcome.cell_source == "import os" and (tmp_path / "build/notebooks/00_dead.ipynb").exists()
