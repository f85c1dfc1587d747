import json
import os
import subprocess
import sys

import pytest

import utils
from utils import colab, device, nbtools, report, session
from utils.nbtools import write_notebook
from utils.paths import REPO_ROOT


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
    monkeypatch.setattr(colab, "prepare", lambda notebook: calls.append(notebook))
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    utils.setup("98_demo", quiet=True)
    assert calls == ["98_demo"]  # the notebook decides chapter-only packages


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


# ------------------------------------------------------------------ the setup cell's output, in a fresh process

SETUP = """
import sys
sys.path.insert(0, {root!r})
import utils
utils.setup("98_demo", keras=True, torch=True)
print("MODULES", "tensorflow" in sys.modules, "jax" in sys.modules)
import os
print("PREALLOCATE", os.environ.get("XLA_PYTHON_CLIENT_PREALLOCATE"))
"""


@pytest.mark.keras
def test_setup_prints_only_its_status_line_and_imports_tensorflow_only_as_the_backend(tmp_path):
    backend = os.environ.get("KERAS_BACKEND", "jax")
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "XLA_PYTHON_CLIENT_PREALLOCATE")}
    env.update(COURSE_BUILD_DIR=str(tmp_path), COURSE_PROFILE="smoke", KERAS_BACKEND=backend)
    res = subprocess.run([sys.executable, "-c", SETUP.format(root=str(REPO_ROOT))], capture_output=True, text=True,
                         env=env, timeout=300, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    out = res.stdout.splitlines()
    assert out[0].startswith("profile smoke · ") and f"on {backend}" in out[0] and len(out) == 3
    assert out[1] == f"MODULES {backend == 'tensorflow'} True"  # Keras 3 imports jax on every backend
    assert out[2] == "PREALLOCATE false"  # set before jax loaded: it must not take 75 % of a shared GPU
    assert res.stderr.strip() == "", res.stderr[-2000:]  # no TensorFlow / absl start-up log


# ------------------------------------------------------------------ the course map


def test_course_map_is_data_with_every_chapter_and_question():
    stems = [c.stem for c in nbtools.CHAPTERS]
    assert stems == sorted(stems) and "12b_bert" in stems
    assert {"13a_functional_regression_autoencoders", "13b_memory_networks_custom_layers_style"} <= set(stems)
    bert = next(c for c in nbtools.CHAPTERS if c.stem == "12b_bert")
    assert (bert.number, bert.title) == ("12b", "BERT: pretraining and fine-tuning")
    assert sorted(nbtools.EXAM_QUESTIONS) == list(range(1, 42))
    assert nbtools.EXAM_QUESTIONS[28][1] == "12b" and nbtools.EXAM_QUESTIONS[27][1] == "12"
    assert nbtools.COURSE_MAP.name == "course.toml" and nbtools.COURSE_MAP.parent == REPO_ROOT / "utils"
    assert 'utils = ["course.toml"]' in (REPO_ROOT / "pyproject.toml").read_text()  # shipped with the package


@pytest.mark.parametrize("text,match", [
    ('[[chapter]]\nstem = "01_a"\ntitle = "A"\n[[chapter]]\nstem = "01_a"\ntitle = "B"\n', "twice"),
    ('[[chapter]]\nstem = "01_a"\n', "lacks title"),
    ('[[chapter]]\nstem = "01_a"\ntitle = "A"\n[exam]\n1 = { chapter = "02", question = "q" }\n',
     "Q1 points at chapter '02'"),
])
def test_course_map_errors_name_the_problem(tmp_path, text, match):
    (tmp_path / "course.toml").write_text(text)
    with pytest.raises(ValueError, match=match):
        nbtools.load_course_map(tmp_path / "course.toml")


def test_exam_table_prefers_the_chapter_the_map_assigns(tmp_path, monkeypatch):
    title = "# {n} · T\n\n**Sources:** x. smoke 1 s · cpu 1 s · gpu 1 s"
    write_notebook(tmp_path / "12_transformers.ipynb", [("md", title.format(n="12")),
                                                        ("md", "## Exam Q28 · BERT, old")])
    monkeypatch.setattr(nbtools, "notebook_paths", lambda: sorted(tmp_path.glob("*.ipynb")))
    row = lambda q: next(r for r in nbtools.exam_table().splitlines() if r.startswith(f"| {q} |"))  # noqa: E731
    assert "12_transformers · Exam Q28 · BERT, old" in row(28)  # the assigned 12b is not written yet
    write_notebook(tmp_path / "12b_bert.ipynb", [("md", title.format(n="12b")), ("md", "## Exam Q28 · BERT")])
    assert "(notebooks/12b_bert.ipynb#exam-q28--bert)" in row(28)
    assert "planned: 12_transformers" in row(27)
    assert "| 12b | [BERT: pretraining and fine-tuning](notebooks/12b_bert.ipynb)" in nbtools.chapter_table()
    write_notebook(tmp_path / "13a_more.ipynb", [("md", "# 13a · More models I\n\nsmoke 1 s · cpu 1 s · gpu 1 s")])
    assert "| 13a | [More models I](notebooks/13a_more.ipynb) |" in nbtools.chapter_table()  # not in the map yet


def test_setup_cells_are_regenerated_in_place(tmp_path):
    cells = _good_cells("98_demo")
    cells[1] = ("code", colab.legacy_setup_cell("98_demo"))
    path = write_notebook(tmp_path / "98_demo.ipynb", cells)
    assert nbtools.anatomy_problems(path) == [] and "previous version" in nbtools.anatomy_notes(path)[0]
    before = json.loads(path.read_text())
    assert nbtools.update_setup_cell(path) is True and nbtools.update_setup_cell(path) is False
    after = json.loads(path.read_text())
    assert "".join(after["cells"][1]["source"]) == colab.setup_cell("98_demo")
    assert [c for i, c in enumerate(after["cells"]) if i != 1] == [c for i, c in enumerate(before["cells"]) if i != 1]
    assert nbtools.anatomy_notes(path) == [] and nbtools.anatomy_problems(path) == []


def test_report_and_session_share_the_run_state(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    s = utils.setup("98_demo", quiet=True)
    assert report.active_notebook() == "98_demo" == session.current().notebook
    doc = json.loads(report.metrics_path("98_demo").read_text())
    assert doc["status"] == s.status  # the status line is kept for the report
