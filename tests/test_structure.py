"""The course's own promises: notebook anatomy, clean notebooks, README tables, environment files."""

from __future__ import annotations

import json
import re

import pytest

from utils import nbtools
from utils.paths import REPO_ROOT, notebook_paths

NOTEBOOKS = notebook_paths()
README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
FORBIDDEN = re.compile(r"keras\.datasets|nltk\.download\(|urlretrieve|!wget|!curl|requests\.get\(|"
                       r"torchvision\.datasets")


def test_there_are_notebooks():
    assert NOTEBOOKS and NOTEBOOKS[0].name == "00_welcome.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_anatomy(path):
    assert nbtools.anatomy_problems(path) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_outputs_and_no_own_downloads(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert not any(c.get("outputs") or c.get("execution_count") for c in code), "strip the outputs"
    src = "\n".join("".join(c["source"]) for c in code)
    assert not FORBIDDEN.search(src), f"fetches data itself: {FORBIDDEN.search(src).group(0)}; use utils.data"
    assert "assert" in src or "check(" in src


def test_readme_tables_are_current():
    assert nbtools.render_readme(README) == README, "run: python -m utils.nbtools readme"


def test_readme_lists_every_notebook_and_all_41_questions():
    for p in NOTEBOOKS:
        assert f"notebooks/{p.name}" in README
    exam = README.split("<!-- BEGIN exam")[1].split("<!-- END exam")[0]
    assert [int(q) for q in re.findall(r"^\| (\d+) \|", exam, re.M)] == list(range(1, 42))


def test_every_landed_exam_question_points_at_a_section():
    for p in NOTEBOOKS:
        for _q, heading in nbtools.exam_sections(p).items():
            assert f"{p.stem} · {heading}" in README


def _specs(lines):
    out = {}
    for line in lines:
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith(("#", "-")):
            name = re.split(r"[<>=!~;\s\[]", line, maxsplit=1)[0].lower()
            out.setdefault(name, set()).add(line.replace(" ", ""))
    return out


def test_requirements_and_environment_agree():
    req = _specs((REPO_ROOT / "requirements.txt").read_text().splitlines())
    env_lines = []
    in_pip = False
    for line in (REPO_ROOT / "environment.yml").read_text().splitlines():
        if re.match(r"\s+- pip:\s*$", line):
            in_pip = True
            continue
        if in_pip and re.match(r"\s{6,}- ", line):
            item = line.strip()[2:].strip()
            env_lines.append(item[1:-1] if item[:1] == item[-1:] == "'" else item)
    assert env_lines, "environment.yml has no pip: section"
    assert _specs(env_lines) == req


def test_requirements_never_pull_an_unpinned_torch():
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert re.search(r"TORCH_SPEC \?= torch==\d+\.\d+\.\d+", makefile)
    assert makefile.index("$(TORCH_SPEC)") < makefile.index("-r requirements.txt")


def test_ci_calls_the_readme_test_command():
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    assert "make test" in README and "make run" in README
    assert re.search(r"^\s*make test\b", ci, re.M)


def test_setup_cells_point_at_the_one_repository():
    from utils import GITHUB_REPO

    for p in NOTEBOOKS:
        text = p.read_text(encoding="utf-8")
        assert all(m == GITHUB_REPO for m in re.findall(r"github\.com/([\w.-]+/[\w.-]+?)(?:/|\s|\"|\))", text)
                   if not m.startswith("Jakobovski")), p.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_code_cells_are_short_with_one_statement_per_line(path):
    """COURSE_GUIDE: a code cell holds at most 25 lines, and statements are not joined with ';'
    (``python -m utils.nbtools tidy`` fixes both)."""
    from utils import codestyle

    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    problems = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"])
        if len(src.splitlines()) > codestyle.MAX_LINES:
            problems.append(f"cell {i}: {len(src.splitlines())} lines")
        if codestyle.split_joined_statements(codestyle.without_magics(src))[1]:
            problems.append(f"cell {i}: statements joined with ';'")
    assert not problems, problems
