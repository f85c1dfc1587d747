"""Exercises the student writes: the checker context, the marker semantics, and every student version executed."""

from __future__ import annotations

import json
import re

import pytest

import utils
from utils import exercises, session
from utils.checks import CheckFailed
from utils.exercises import ExerciseError, exercise, find_exercises, replace_solutions, student_version
from utils.paths import notebook_paths


def _nb(*cells):
    return {"cells": [{"cell_type": k, "source": s, "metadata": {}, **({"outputs": ["x"], "execution_count": 3}
                                                                        if k == "code" else {})}
                      for k, s in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


TASK = ("markdown", "### Exercise 1 · Square\nReturn x squared.")
STUB = ("code", "def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION\n")
CHECKER = ("code", 'with utils.exercise(1, "Square"):\n    utils.check("3 squared", square(3), 9)\n'
                   "    ### BEGIN HIDDEN TESTS\n    utils.check(\"-2 squared\", square(-2), 4)\n"
                   "    ### END HIDDEN TESTS\n")


# -------------------------------------------------------------------------- the checker context


@pytest.fixture
def nb_session(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_BUILD_DIR", str(tmp_path / "build"))
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    monkeypatch.setattr(session, "_CURRENT", None)
    monkeypatch.setattr(exercises, "_SEEN", {})
    yield utils.setup("99_test", quiet=True)
    monkeypatch.setattr(session, "_CURRENT", None)


def test_a_correct_answer_prints_ok_and_is_counted(nb_session, tmp_path, capsys):
    with exercise(1, "Square"):
        utils.check("3 squared", 3 * 3, 9)
        utils.check_true("positive", 9 > 0)
    assert "[ok] Exercise 1 · Square: 2 checks passed" in capsys.readouterr().out
    doc = json.loads((tmp_path / "build/metrics/99_test.json").read_text())
    assert doc["metrics"]["exercises_count"]["value"] == 1
    assert doc["metrics"]["exercises_count"]["note"] == "1 of 1 solved in this run"


def test_a_stub_says_not_done_yet_and_the_notebook_goes_on(nb_session, tmp_path, capsys):
    def stub(x):
        raise NotImplementedError("Exercise 2: Cube")

    with exercise(2, "Cube"):
        utils.check("cube", stub(2), 8)
    out = capsys.readouterr().out
    assert "[not done yet] Exercise 2 · Cube" in out and "Exercise 2: Cube" in out
    with exercise(1, "Square"):
        utils.check("3 squared", 9, 9)
    doc = json.loads((tmp_path / "build/metrics/99_test.json").read_text())
    assert doc["metrics"]["exercises_count"]["value"] == 2
    assert doc["metrics"]["exercises_count"]["note"] == "1 of 2 solved in this run"


def test_a_wrong_answer_fails_with_the_exercise_named():
    with pytest.raises(CheckFailed, match=r"Exercise 3 · Square: \[FAIL\] 3 squared: .*got 6"):
        with exercise(3, "Square"):
            utils.check("3 squared", 6, 9)


def test_a_none_answer_is_never_ok():
    with pytest.raises(CheckFailed, match="got None"):
        utils.check("x", None, float("nan"))
    with pytest.raises(CheckFailed, match="return its result"):
        utils.check("x", None, 1.0)
    assert utils.check("both None", None, None, quiet=True)


def test_check_true_fails_with_its_detail_and_refuses_arrays():
    np = pytest.importorskip("numpy")
    with pytest.raises(CheckFailed, match="sums to 0.9"):
        utils.check_true("sums to one", False, "sums to 0.9")
    with pytest.raises(CheckFailed, match=r"\.all\(\)"):
        utils.check_true("all positive", np.array([True, False]))
    assert utils.check_true("one element", np.array([True]), quiet=True)


def test_a_checker_that_checks_nothing_is_an_error():
    with pytest.raises(ExerciseError, match="ran no utils.check"):
        with exercise(1, "Nothing"):
            pass


def test_other_errors_propagate():
    with pytest.raises(ZeroDivisionError):
        with exercise(1, "Divide"):
            utils.check("x", 1 / 0, 1)


@pytest.mark.parametrize("number,title", [(0, "t"), (True, "t"), ("1", "t"), (1, ""), (1, None)])
def test_bad_exercise_arguments(number, title):
    with pytest.raises(ExerciseError):
        with exercise(number, title):
            utils.check("x", 1, 1)


# -------------------------------------------------------------------------- marker semantics (nbgrader's)


def test_solution_regions_keep_their_indentation_and_several_regions_per_cell_are_replaced():
    src = ("def f(x):\n    ### BEGIN SOLUTION\n    y = x + 1\n    ### END SOLUTION\n    return y\n\n"
           "def g(x):\n    if x:\n        ### BEGIN SOLUTION\n        return 1\n        ### END SOLUTION\n"
           "    return 0")
    out = replace_solutions(src, 'raise NotImplementedError("E")')
    assert out == ("def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError(\"E\")\n    return y\n\n"
                   "def g(x):\n    if x:\n        # YOUR CODE HERE\n        raise NotImplementedError(\"E\")\n"
                   "    return 0")
    compile(out, "<student>", "exec")


def test_markdown_answer_regions_become_your_answer_here():
    out = replace_solutions("Why?\n\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION\n", "", markdown=True)
    assert out == "Why?\n\nYOUR ANSWER HERE"


@pytest.mark.parametrize("src,match", [
    ("### BEGIN SOLUTION\nx = 1\n", "never closed"),
    ("x = 1\n### END SOLUTION\n", "without"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "inside another"),
])
def test_malformed_markers_are_refused(src, match):
    with pytest.raises(ExerciseError, match=match):
        replace_solutions(src, "raise NotImplementedError")


def test_student_version_stubs_solutions_removes_hidden_tests_and_clears_outputs():
    nb = _nb(("markdown", "# 99 · T"), TASK, STUB, CHECKER)
    out = student_version(nb)
    stub, checker = out["cells"][2], out["cells"][3]
    assert stub["source"] == ("def square(x):\n    # YOUR CODE HERE\n"
                              "    raise NotImplementedError('Exercise 1: Square')")
    assert "HIDDEN" not in checker["source"] and "square(-2)" not in checker["source"]
    assert 'utils.check("3 squared", square(3), 9)' in checker["source"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in out["cells"] if c["cell_type"] == "code")
    assert "Student version" in out["cells"][0]["source"]
    assert "return x * x" in nb["cells"][2]["source"], "the reference notebook is left unchanged"
    ns = {"utils": utils}
    exec(stub["source"], ns)
    exec(checker["source"], ns)  # the student version's checker runs: "not done yet", no error


def test_find_exercises_pairs_stubs_and_checkers():
    nb = _nb(TASK, STUB, ("markdown", "between"), CHECKER)
    assert find_exercises(nb) == [exercises.Exercise(1, "Square", 1, 3)]


@pytest.mark.parametrize("cells,match", [
    ([TASK, STUB, ("code", "print(square(3))")], "no checker after it"),
    ([TASK, STUB, ("code", 'with utils.exercise(1, "Square"):\n    assert square(3) == 9\n')], "no check helper"),
    ([STUB, CHECKER], "needs a markdown cell"),
    ([("markdown", "### Exercise 2 · Square"), STUB, ("code", CHECKER[1].replace("(1,", "(2,"))],
     "numbered"),
    ([TASK, ("code", CHECKER[1])], "no stub"),
])
def test_exercise_problems(cells, match):
    problems = exercises.exercise_problems(_nb(*cells))
    assert any(match in p for p in problems), problems


def test_a_well_formed_exercise_has_no_problems():
    assert exercises.exercise_problems(_nb(TASK, STUB, CHECKER)) == []


def test_the_command_line_writes_student_versions(tmp_path, capsys):
    assert exercises.main(["student", "01", "--out", str(tmp_path)]) == 0
    written = list(tmp_path.glob("*.ipynb"))
    if written:
        text = written[0].read_text()
        assert "### BEGIN SOLUTION" not in text and "NotImplementedError" in text


# -------------------------------------------------------------------------- every student version, executed

WITH_EXERCISES = [p for p in notebook_paths()
                  if any(e.checker_cell is not None for e in find_exercises(json.loads(p.read_text())))]


def _run_student_version(path, tmp_path, monkeypatch):
    """Solutions removed, the notebook still runs to the end; every checker says "not done yet", none says ok."""
    from utils.run import run_notebook

    monkeypatch.setenv("COURSE_BUILD_DIR", str(tmp_path / "build"))  # keep the reference run's metrics
    student = exercises.write_student_version(path, tmp_path / "student")
    # run where a student opens it (its own folder): the editable install makes `utils` importable there
    outcome = run_notebook(student, "smoke", html=False, out_dir=tmp_path / "executed")
    assert outcome.ok, f"the student version of {path.name} fails at cell {outcome.failed_cell}: {outcome.error}"
    executed = json.loads((tmp_path / "executed" / path.name).read_text())
    text = {i: "".join("".join(o.get("text", "")) for o in c.get("outputs", []))
            for i, c in enumerate(executed["cells"]) if c["cell_type"] == "code"}
    for ex in find_exercises(json.loads(path.read_text())):
        out = text[ex.checker_cell]
        assert f"[not done yet] Exercise {ex.number} · {ex.title}" in out, (ex, out[-500:])
        assert f"[ok] Exercise {ex.number}" not in out


def _student_test(path):
    @pytest.mark.student
    def test_student_version_runs_top_to_bottom(self, tmp_path, monkeypatch):
        _run_student_version(path, tmp_path, monkeypatch)

    test_student_version_runs_top_to_bottom.__doc__ = f"The student version of {path.name} runs top to bottom."
    return test_student_version_runs_top_to_bottom


# One class per notebook (TestStudentVersion_<stem>): pytest-xdist's ``--dist loadscope`` (CI) schedules a class as
# one unit, so the student versions (minutes in all) spread over both workers instead of queueing on one.
for _path in WITH_EXERCISES:
    _name = "TestStudentVersion_" + re.sub(r"\W", "_", _path.stem)
    globals()[_name] = type(_name, (), {"test_student_version_runs_top_to_bottom": _student_test(_path)})
