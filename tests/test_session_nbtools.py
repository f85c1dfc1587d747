import json

import pytest

import utils
from utils import colab, device, nbtools, session
from utils.nbtools import write_notebook


@pytest.fixture(autouse=True)
def build(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_BUILD_DIR", str(tmp_path / "build"))
    monkeypatch.setattr(session, "_CURRENT", None)


def test_setup_prints_one_status_line(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_PROFILE", "cpu")
    monkeypatch.setenv("COURSE_DATA_MIRROR", "/some/mirror")
    s = utils.setup("98_demo", seed=1)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("profile cpu · ") and "data: mirror /some/mirror" in out[0]
    assert (s.notebook, s.profile, s.seed) == ("98_demo", "cpu", 1)
    assert session.current_notebook() == "98_demo"
    assert s.budget(dict(n=1), dict(n=2), dict(n=3), show=False).n == 2


def test_setup_on_colab_installs_what_is_missing(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(device, "is_colab", lambda: True)
    monkeypatch.setattr(colab, "prepare", lambda: calls.append("prepare"))
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    utils.setup("98_demo", quiet=True)
    assert calls == ["prepare"]


def test_setup_with_torch_reports_its_version(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    s = utils.setup("98_demo", torch=True)
    assert "torch " in s.status


def test_bad_profile_stops_setup(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "fast")
    with pytest.raises(ValueError, match="smoke, cpu, gpu"):
        utils.setup("98_demo")


def _exercise(n: int):
    return [("md", f"### Exercise {n} · Twice\n\nReturn 2x."),
            ("code", f"def twice{n}(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"),
            ("code", f'with utils.exercise({n}, "Twice"):\n    utils.check("2 x 3", twice{n}(3), 6)')]


def _good_cells(stem: str):
    return [
        ("md", f"# 98 · Demo\n\n{colab.colab_badge(stem + '.ipynb')}\n\n**Sources:** none.\n\n"
               "**Expected run time:** smoke ~5 s · cpu ~1 min · gpu ~1 min."),
        ("code", colab.setup_cell(stem)),
        ("code", "B = course.budget(smoke=dict(n=1), cpu=dict(n=2), gpu=dict(n=3))"),
        ("md", "## Exam Q20 · Conv layers\n\ntext"),
        ("md", "## Exam Q12–Q13 · two at once"),
        *[cell for n in (1, 2, 3) for cell in _exercise(n)],
        ("code", "assert B.n >= 1\nutils.record('n', B.n)\nutils.show_results()"),
        ("md", "## Summary\n\n* done"),
    ]


def test_anatomy_accepts_a_good_notebook_and_names_each_problem(tmp_path):
    good = write_notebook(tmp_path / "98_demo.ipynb", _good_cells("98_demo"))
    assert nbtools.anatomy_problems(good) == []
    assert nbtools.runtimes(good) == {"smoke": "5 s", "cpu": "1 min", "gpu": "1 min"}
    assert sorted(nbtools.exam_sections(good)) == [12, 13, 20]

    cells = _good_cells("98_demo")
    cells[1] = ("code", cells[1][1].replace("import utils", "import utils  # edited"))
    cells[0] = ("md", "# Demo without number")
    del cells[2]
    bad = write_notebook(tmp_path / "98_demo.ipynb", cells)
    problems = " | ".join(nbtools.anatomy_problems(bad))
    assert "first cell must be markdown" in problems and "setup cell differs" in problems
    assert "budget cell" in problems and "Colab badge" in problems

    cells = [c for c in _good_cells("98_demo") if "twice3" not in c[1] and "Exercise 3" not in c[1]]
    few = write_notebook(tmp_path / "98_demo.ipynb", cells)
    assert nbtools.anatomy_problems(few) == ["2 student exercises; a chapter has 3–6 (COURSE_GUIDE §7: markdown "
                                             "task, stub with ### BEGIN SOLUTION, checker)"]


def test_strip_outputs(tmp_path):
    path = write_notebook(tmp_path / "x.ipynb", [("code", "print(1)")])
    nb = json.loads(path.read_text())
    nb["cells"][0]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "1\n"}]
    nb["cells"][0]["execution_count"] = 1
    path.write_text(json.dumps(nb))
    assert nbtools.strip_outputs(path) is True
    assert nbtools.strip_outputs(path) is False
    assert nbtools.anatomy_problems(path)  # and it is no course notebook


def test_write_notebook_rejects_unknown_cell_kind(tmp_path):
    with pytest.raises(ValueError, match="md"):
        write_notebook(tmp_path / "x.ipynb", [("raw", "x")])


def test_render_readme_needs_markers():
    with pytest.raises(ValueError, match="markers"):
        nbtools.render_readme("no markers here")
    text = ("<!-- BEGIN chapters (generated: python -m utils.nbtools readme) -->\nold\n<!-- END chapters -->\n"
            "<!-- BEGIN exam (generated: python -m utils.nbtools readme) -->\n<!-- END exam -->")
    out = nbtools.render_readme(text)
    assert "old" not in out and "| 41 |" in out and "00_welcome" in out


def test_export_images(tmp_path):
    import base64

    path = write_notebook(tmp_path / "x.ipynb", [("code", "plot")])
    nb = json.loads(path.read_text())
    png = base64.b64encode(b"\x89PNG fake").decode()
    nb["cells"][0]["outputs"] = [{"output_type": "display_data", "data": {"image/png": png}, "metadata": {}}]
    path.write_text(json.dumps(nb))
    (f,) = nbtools.export_images(path, tmp_path / "img")
    assert f.read_bytes() == b"\x89PNG fake"
