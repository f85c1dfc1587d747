"""Exercises the student writes (COURSE_GUIDE §7): the checker context, and student versions of the notebooks.

An exercise is three consecutive cells:

1. markdown — ``### Exercise N · Title``, the task, and what a correct answer satisfies;
2. code, the *stub* — the function the student writes, with the reference solution between nbgrader's markers
   ``### BEGIN SOLUTION`` and ``### END SOLUTION``;
3. code, the *checker* — the next code cell::

       with utils.exercise(N, "Title"):
           utils.check("output on a small input", student_function(x), reference(x))

:func:`exercise` prints ``[ok] Exercise N · Title`` when every check inside passes, ``[not done yet] …`` when the
stub still raises :class:`NotImplementedError` (and lets the notebook go on, so *Run all* reaches the end), and
fails loudly on a wrong answer. Lines between ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS`` run in the
reference version and are removed from the student version.

``python -m utils.exercises student [NOTEBOOK…] [--out DIR]`` writes the student versions (every solution region
replaced by a stub that raises ``NotImplementedError("Exercise N: Title")``, hidden tests removed, outputs
cleared) to ``build/student/``. The markers are nbgrader's, with nbgrader's semantics (indentation kept, several
regions per cell, ``YOUR ANSWER HERE`` in markdown cells), so a lecturer can also run nbgrader on the notebooks.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import checks

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
CODE_STUB = "# YOUR CODE HERE"
MARKDOWN_STUB = "YOUR ANSWER HERE"

#: ``with utils.exercise(3, "Title"):`` in a checker cell (the number and title are literals).
CHECKER_RE = re.compile(r"^with\s+utils\.exercise\(\s*(\d+)\s*,\s*(['\"])(.+?)\2\s*\)\s*:", re.M)
#: a call to one of the grader-style check helpers
CHECK_CALL_RE = re.compile(r"\butils\.(?:check|check_true)\(")


class ExerciseError(ValueError):
    """A notebook whose exercise markers are malformed (unclosed, nested, or with no checker)."""


# --------------------------------------------------------------------------------------------------------------
# The checker context
# --------------------------------------------------------------------------------------------------------------

_SEEN: dict[str, dict[int, str]] = {}  # notebook -> {exercise number: "ok" | "not done"}


@contextmanager
def exercise(number: int, title: str) -> Iterator[None]:
    """Run an exercise's checks: print ``[ok]``, or ``[not done yet]`` for a stub, or fail on a wrong answer."""
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise ExerciseError(f"exercise numbers are positive integers, got {number!r}")
    if not isinstance(title, str) or not title.strip():
        raise ExerciseError("an exercise needs a title")
    label = f"Exercise {number} · {title}"
    before = checks.passed_count()
    try:
        yield
    except NotImplementedError as exc:
        detail = str(exc) or "the stub raises NotImplementedError"
        print(f"[not done yet] {label}: write your solution in the cell above ({detail})")
        _note(number, "not done")
        return
    except checks.CheckFailed as exc:
        raise checks.CheckFailed(f"{label}: {exc}") from exc
    ran = checks.passed_count() - before
    if ran == 0:
        raise ExerciseError(f"{label}: the checker ran no utils.check / utils.check_true")
    print(f"[ok] {label}: {ran} check{'s' if ran != 1 else ''} passed")
    _note(number, "ok")


def _note(number: int, status: str) -> None:
    from . import report, session

    notebook = session.current_notebook()
    if notebook is None:
        return
    seen = _SEEN.setdefault(notebook, {})
    seen[number] = status
    done = sum(s == "ok" for s in seen.values())
    report.record("exercises_count", len(seen), higher_is_better=None, source="this notebook",
                  note=f"{done} of {len(seen)} solved in this run")


# --------------------------------------------------------------------------------------------------------------
# Markers: finding exercises, writing student versions
# --------------------------------------------------------------------------------------------------------------


def _src(cell: dict) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _regions(text: str, begin: str, end: str, where: str) -> list[tuple[int, int]]:
    """``(first, last)`` line indices of each ``begin … end`` region (markers included); malformed → error."""
    out, start = [], None
    for i, line in enumerate(text.splitlines()):
        stripped = line.strip()
        if stripped == begin:
            if start is not None:
                raise ExerciseError(f"{where}: '{begin}' inside another region (line {i + 1})")
            start = i
        elif stripped == end:
            if start is None:
                raise ExerciseError(f"{where}: '{end}' without '{begin}' (line {i + 1})")
            out.append((start, i))
            start = None
    if start is not None:
        raise ExerciseError(f"{where}: '{begin}' on line {start + 1} is never closed")
    return out


def replace_solutions(text: str, stub: str, *, markdown: bool = False, where: str = "cell") -> str:
    """``text`` with every solution region replaced, keeping the indentation of its ``BEGIN`` marker.

    Code: the region becomes ``# YOUR CODE HERE`` and ``stub`` (e.g. ``raise NotImplementedError(...)``);
    markdown: ``YOUR ANSWER HERE``. Several regions per cell are each replaced.
    """
    lines = text.splitlines()
    for first, last in reversed(_regions(text, BEGIN_SOLUTION, END_SOLUTION, where)):
        indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
        new = [MARKDOWN_STUB] if markdown else [f"{indent}{CODE_STUB}", f"{indent}{stub}"]
        lines[first: last + 1] = new
    return "\n".join(lines)


def remove_hidden_tests(text: str, *, where: str = "cell") -> str:
    """``text`` without its hidden-test regions (markers included)."""
    lines = text.splitlines()
    for first, last in reversed(_regions(text, BEGIN_HIDDEN, END_HIDDEN, where)):
        del lines[first: last + 1]
    return "\n".join(lines)


@dataclass(frozen=True)
class Exercise:
    """One exercise of a notebook: its number and title, and the indices of its stub and checker cells."""

    number: int
    title: str
    stub_cell: int
    checker_cell: int | None


def find_exercises(nb: dict, where: str = "notebook") -> list[Exercise]:
    """Every code cell with a solution region, paired with the checker that follows it.

    Raises :class:`ExerciseError` for malformed markers. A stub with no checker after it gets
    ``checker_cell=None`` (the anatomy check reports it).
    """
    cells = nb.get("cells", [])
    found = []
    for i, cell in enumerate(cells):
        text = _src(cell)
        here = f"{where} cell {i}"
        _regions(text, BEGIN_HIDDEN, END_HIDDEN, here)
        if not _regions(text, BEGIN_SOLUTION, END_SOLUTION, here) or cell["cell_type"] != "code":
            continue
        nxt = next((j for j in range(i + 1, len(cells)) if cells[j]["cell_type"] == "code"), None)
        m = CHECKER_RE.search(_src(cells[nxt])) if nxt is not None else None
        if m:
            found.append(Exercise(int(m.group(1)), m.group(3), i, nxt))
        else:
            found.append(Exercise(0, "", i, None))
    return found


def exercise_problems(nb: dict) -> list[str]:
    """How a notebook's exercises depart from §7 of the course guide; [] when they follow it."""
    try:
        found = find_exercises(nb)
    except ExerciseError as exc:
        return [str(exc)]
    cells = nb.get("cells", [])
    problems = []
    numbers = []
    for ex in found:
        if ex.checker_cell is None:
            problems.append(f"cell {ex.stub_cell}: a solution region with no checker after it "
                            "(the next code cell must be `with utils.exercise(N, \"Title\"):`)")
            continue
        numbers.append(ex.number)
        checker = _src(cells[ex.checker_cell])
        if not CHECK_CALL_RE.search(checker):
            problems.append(f"cell {ex.checker_cell}: the checker of exercise {ex.number} calls no check helper "
                            "(utils.check / utils.check_true)")
        if BEGIN_SOLUTION in checker:
            problems.append(f"cell {ex.checker_cell}: a checker must not hold a solution region")
        md = next((cells[j] for j in range(ex.stub_cell - 1, -1, -1) if cells[j]["cell_type"] == "markdown"), None)
        if md is None or not re.search(rf"^#+ Exercise {ex.number}\b", _src(md), re.M):
            problems.append(f"cell {ex.stub_cell}: exercise {ex.number} needs a markdown cell before its stub "
                            f"with a heading '### Exercise {ex.number} · …'")
    if numbers and sorted(numbers) != list(range(1, len(numbers) + 1)):
        problems.append(f"exercises are numbered {numbers}; number them 1, 2, … in order")
    elif numbers != sorted(numbers):
        problems.append(f"exercises are numbered {numbers}; number them in order")
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "code" and CHECKER_RE.search(_src(cell)) and not any(
                e.checker_cell == i for e in found):
            problems.append(f"cell {i}: a checker with no stub (solution region) in the code cell before it")
    return problems


STUDENT_NOTE = ("> **Student version.** Each *Exercise* has a cell for you to complete (`# YOUR CODE HERE`, "
                "replace the `raise NotImplementedError`) and a checker cell after it: it prints "
                "`[not done yet]` until you write your solution, `[ok]` when it is right, and fails with a "
                "message when it is wrong. The rest of the notebook runs without your answers.")


def student_version(nb: dict, where: str = "notebook") -> dict:
    """A student copy of notebook ``nb``: solutions replaced by stubs, hidden tests removed, outputs cleared."""
    import copy

    nb = copy.deepcopy(nb)
    titles = {ex.stub_cell: (ex.number, ex.title) for ex in find_exercises(nb, where) if ex.checker_cell is not None}
    for i, cell in enumerate(nb["cells"]):
        text = _src(cell)
        if cell["cell_type"] == "code":
            n, title = titles.get(i, (None, ""))
            msg = f"Exercise {n}: {title}" if n else "your code here"
            text = replace_solutions(text, f"raise NotImplementedError({msg!r})", where=f"{where} cell {i}")
            text = remove_hidden_tests(text, where=f"{where} cell {i}")
            cell["outputs"], cell["execution_count"] = [], None
        elif cell["cell_type"] == "markdown":
            text = replace_solutions(text, "", markdown=True, where=f"{where} cell {i}")
        cell["source"] = text
    if nb["cells"] and nb["cells"][0]["cell_type"] == "markdown" and titles:
        nb["cells"][0]["source"] = _src(nb["cells"][0]).rstrip("\n") + "\n\n" + STUDENT_NOTE
    return nb


def write_student_version(path: str | Path, out_dir: str | Path | None = None) -> Path:
    """Write the student version of the notebook at ``path`` into ``out_dir`` (default ``build/student``)."""
    from .paths import build_dir

    path = Path(path)
    out_dir = Path(out_dir) if out_dir is not None else build_dir() / "student"
    nb = json.loads(path.read_text(encoding="utf-8"))
    student = student_version(nb, where=path.name)
    out_dir.mkdir(parents=True, exist_ok=True)
    dest = out_dir / path.name
    dest.write_text(json.dumps(student, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.exercises",
                                     description="student versions of the course notebooks")
    sub = parser.add_subparsers(dest="cmd", required=True)
    st = sub.add_parser("student", help="write student versions (solutions removed) to build/student/")
    st.add_argument("names", nargs="*", help="notebooks (e.g. 01 or 01_hopfield); default: all")
    st.add_argument("--out", help="output folder (default: build/student)")
    ls = sub.add_parser("list", help="list each notebook's exercises")
    ls.add_argument("names", nargs="*")
    args = parser.parse_args(argv)
    from .run import resolve

    paths = resolve(args.names)
    for p in paths:
        nb = json.loads(p.read_text(encoding="utf-8"))
        found = [e for e in find_exercises(nb, p.name) if e.checker_cell is not None]
        if args.cmd == "list":
            print(f"{p.stem}: {len(found)} exercise(s)")
            for e in found:
                print(f"  {e.number}. {e.title}")
        elif found:
            print(f"{write_student_version(p, args.out)}  ({len(found)} exercises)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
