"""Notebook tooling for course authors: write notebooks, check their anatomy, regenerate README's tables.

- :func:`write_notebook` builds an ``.ipynb`` (no outputs) from a list of ``("md" | "code", source)`` cells.
- :func:`anatomy_problems` lists how a notebook departs from the course anatomy (COURSE_GUIDE.md §1);
  the tests require an empty list for every notebook.
- ``python -m utils.nbtools readme`` rewrites the chapter table and the exam-question map in README.md
  from the course map (``utils/course.toml``: chapters and exam questions, landed or planned) and the notebooks
  themselves (title cells, "Exam Qn" section headings); a test checks README is current.
- ``python -m utils.nbtools strip NOTEBOOK…`` removes outputs and execution counts.
- ``python -m utils.nbtools setup-cells [NOTEBOOK…]`` regenerates the setup cells from :func:`utils.colab.setup_cell`.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .paths import REPO_ROOT, notebook_paths

# --------------------------------------------------------------------------------------------------------------
# The course map (from the syllabus): every chapter and every exam question, landed or planned — data, kept in
# utils/course.toml (lecturers edit it there)
# --------------------------------------------------------------------------------------------------------------

#: The course map's file (shipped inside the package, see pyproject's package-data).
COURSE_MAP = Path(__file__).with_name("course.toml")


def chapter_number(stem: str) -> str:
    """A notebook's chapter number: its stem up to the first ``_`` (``"06"``, ``"12b"`` for ``12b_bert``)."""
    return stem.split("_", 1)[0]


@dataclass(frozen=True)
class Chapter:
    number: str
    stem: str
    title: str
    sources: str


def load_course_map(path: str | Path = COURSE_MAP) -> tuple[list[Chapter], dict[int, tuple[str, str]]]:
    """``(chapters, exam)`` from the course map: chapters in stem order; ``exam[q] = (question, chapter number)``.

    Raises ``ValueError`` naming the problem for a chapter without a stem/title, a duplicate stem, or an exam
    question that points at no chapter."""
    import tomllib

    doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    chapters = []
    for i, entry in enumerate(doc.get("chapter", [])):
        missing = {"stem", "title"} - set(entry)
        if missing:
            raise ValueError(f"{path}: chapter #{i + 1} lacks {', '.join(sorted(missing))}")
        chapters.append(Chapter(chapter_number(entry["stem"]), entry["stem"], entry["title"],
                                entry.get("sources", "")))
    stems = [c.stem for c in chapters]
    if len(set(stems)) != len(stems):
        raise ValueError(f"{path}: a chapter stem appears twice: {sorted(s for s in stems if stems.count(s) > 1)}")
    numbers = {c.number for c in chapters}
    exam: dict[int, tuple[str, str]] = {}
    for key, entry in sorted(doc.get("exam", {}).items(), key=lambda kv: int(kv[0])):
        if entry.get("chapter") not in numbers:
            raise ValueError(f"{path}: exam Q{key} points at chapter {entry.get('chapter')!r}, which is not in the map")
        exam[int(key)] = (entry["question"], entry["chapter"])
    return sorted(chapters, key=lambda c: c.stem), exam


CHAPTERS, EXAM_QUESTIONS = load_course_map()

# --------------------------------------------------------------------------------------------------------------
# Reading and writing notebooks
# --------------------------------------------------------------------------------------------------------------


def write_notebook(path: str | Path, cells: list[tuple[str, str]]) -> Path:
    """Write ``cells`` (``("md", text)`` or ``("code", source)``) as a clean notebook (no outputs) at ``path``."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "accelerator": "GPU",
        "colab": {"provenance": []},
    }
    for kind, src in cells:
        src = src.strip("\n")
        if kind == "md":
            nb.cells.append(nbformat.v4.new_markdown_cell(src))
        elif kind == "code":
            nb.cells.append(nbformat.v4.new_code_cell(src))
        else:
            raise ValueError(f"cell kind must be 'md' or 'code', got {kind!r}")
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i:03d}"
    path = Path(path)
    nbformat.validate(nb)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _load(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _src(cell: dict) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def strip_outputs(path: str | Path) -> bool:
    """Remove outputs and execution counts from a notebook in place; return True when it changed."""
    path = Path(path)
    nb = _load(path)
    changed = False
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            if cell.get("outputs") or cell.get("execution_count") is not None:
                changed = True
            cell["outputs"], cell["execution_count"] = [], None
    if changed:
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return changed


def export_images(executed: str | Path, dest: str | Path) -> list[Path]:
    """Save every PNG output of an executed notebook as ``dest/cell<NNN>_<k>.png`` (to look at the plots)."""
    import base64

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for i, cell in enumerate(_load(Path(executed))["cells"]):
        k = 0
        for out in cell.get("outputs", []):
            png = out.get("data", {}).get("image/png")
            if png:
                f = dest / f"cell{i:03d}_{k}.png"
                f.write_bytes(base64.b64decode("".join(png) if isinstance(png, list) else png))
                written.append(f)
                k += 1
    return written


# --------------------------------------------------------------------------------------------------------------
# Anatomy
# --------------------------------------------------------------------------------------------------------------

RUNTIME_RE = re.compile(r"smoke[^\n]*?(?P<smoke>~?\s*[\d.]+\s*(?:s|min))"
                        r"[^\n]*?cpu[^\n]*?(?P<cpu>~?\s*[\d.]+\s*(?:s|min))"
                        r"[^\n]*?gpu[^\n]*?(?P<gpu>~?\s*[\d.]+\s*(?:s|min))", re.I)


def _setup_kwargs(src: str) -> dict | None:
    m = re.search(r"^course = utils\.setup\((.*)\)\s*$", src, re.M)
    if not m:
        return None
    try:
        call = ast.parse(f"f({m.group(1)})").body[0].value  # type: ignore[attr-defined]
        return {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
    except (SyntaxError, ValueError):
        return None


#: Student exercises per chapter (COURSE_GUIDE §7); the welcome notebook has none.
MIN_EXERCISES, MAX_EXERCISES = 3, 6


def anatomy_problems(path: str | Path) -> list[str]:
    """How the notebook at ``path`` departs from the course anatomy; [] when it follows it."""
    from .colab import colab_badge, legacy_setup_cell, setup_cell
    from .exercises import exercise_problems

    path = Path(path)
    nb = _load(path)
    cells = nb.get("cells", [])
    problems = []
    if not cells:
        return ["the notebook has no cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    title = _src(cells[0]) if cells[0]["cell_type"] == "markdown" else ""
    number = chapter_number(path.stem)
    if not re.match(rf"# {number} · \S", title):
        problems.append(f"the first cell must be markdown starting '# {number} · <title>'")
    if colab_badge(path.name) not in title:
        problems.append("the title cell lacks the Colab badge (utils.colab.colab_badge)")
    if "source" not in title.lower():
        problems.append("the title cell must list the sources it covers")
    if not RUNTIME_RE.search(title):
        problems.append("the title cell must give the expected run time per profile (smoke … cpu … gpu …)")
    if not code:
        return problems + ["the notebook has no code cells"]
    setup_src = _src(code[0])
    kwargs = _setup_kwargs(setup_src)
    if kwargs is None:
        problems.append(f'the first code cell must be the setup cell ending in course = utils.setup("{path.stem}", …)')
    elif setup_src != setup_cell(path.stem, **kwargs) and setup_src != legacy_setup_cell(path.stem, **kwargs):
        problems.append("the setup cell differs from utils.colab.setup_cell(...) — regenerate it, don't edit it "
                        f"(python -m utils.nbtools setup-cells {path})")
    if not any("course.budget(" in _src(c) for c in code[1:4]):
        problems.append("one of the three code cells after setup must be the budget cell (course.budget(...))")
    if not any("utils.record(" in _src(c) for c in code):
        problems.append("no results recorded (utils.record)")
    if not any("utils.show_results(" in _src(c) for c in code):
        problems.append("no results table (utils.show_results())")
    if not any(c["cell_type"] == "markdown" and re.search(r"^## .*Summary", _src(c), re.M) for c in cells[-4:]):
        problems.append("one of the last cells must be a '## Summary' markdown cell")
    if any(c.get("outputs") or c.get("execution_count") is not None for c in code):
        problems.append("stored outputs: strip them (python -m utils.nbtools strip …)")
    problems += exercise_problems(nb)
    if number != "00":
        from .exercises import find_exercises

        try:
            n = len([e for e in find_exercises(nb) if e.checker_cell is not None])
        except ValueError:
            n = 0
        if not MIN_EXERCISES <= n <= MAX_EXERCISES:
            problems.append(f"{n} student exercises; a chapter has {MIN_EXERCISES}–{MAX_EXERCISES} "
                            "(COURSE_GUIDE §7: markdown task, stub with ### BEGIN SOLUTION, checker)")
    return problems


def anatomy_notes(path: str | Path) -> list[str]:
    """Departures that do not fail the anatomy check yet (a setup cell of the previous version)."""
    from .colab import legacy_setup_cell

    code = [c for c in _load(Path(path)).get("cells", []) if c["cell_type"] == "code"]
    kwargs = _setup_kwargs(_src(code[0])) if code else None
    if kwargs is not None and _src(code[0]) == legacy_setup_cell(Path(path).stem, **kwargs):
        return [f"the setup cell is the previous version (no clone-failure check, clones main): "
                f"python -m utils.nbtools setup-cells {path}"]
    return []


def update_setup_cell(path: str | Path) -> bool:
    """Rewrite the setup cell of the notebook at ``path`` to :func:`utils.colab.setup_cell` with the same
    arguments, touching nothing else; True when it changed. A cell that is not a setup cell raises ValueError."""
    from .colab import setup_cell

    path = Path(path)
    nb = _load(path)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    kwargs = _setup_kwargs(_src(code[0])) if code else None
    if kwargs is None:
        raise ValueError(f"{path}: the first code cell is no setup cell (course = utils.setup(...))")
    new = setup_cell(path.stem, **kwargs)
    if _src(code[0]) == new:
        return False
    lines = new.split("\n")
    code[0]["source"] = [line + "\n" for line in lines[:-1]] + [lines[-1]]
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return True


def runtimes(path: str | Path) -> dict[str, str]:
    """The expected run time per profile stated in the title cell: ``{"smoke": "30 s", …}``."""
    m = RUNTIME_RE.search(_src(_load(Path(path))["cells"][0]))
    return {k: v.replace("~", "").strip() for k, v in m.groupdict().items()} if m else {}


def exam_sections(path: str | Path) -> dict[int, str]:
    """``{question: heading}`` for every markdown heading that names an exam question ("Exam Q20", "Q12–Q15")."""
    found: dict[int, str] = {}
    for cell in _load(Path(path))["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for line in _src(cell).splitlines():
            if not line.startswith("#"):
                continue
            heading = line.lstrip("#").strip()
            for m in re.finditer(r"\bQ(\d{1,2})(?:\s*[–-]\s*Q?(\d{1,2}))?\b", heading):
                lo = int(m.group(1))
                hi = int(m.group(2)) if m.group(2) else lo
                for q in range(lo, hi + 1):
                    if q in EXAM_QUESTIONS:
                        found.setdefault(q, heading)
    return found


# --------------------------------------------------------------------------------------------------------------
# README tables
# --------------------------------------------------------------------------------------------------------------


def _anchor(heading: str) -> str:
    a = heading.strip().lower()
    a = re.sub(r"[^\w\- ]", "", a, flags=re.UNICODE)
    return a.replace(" ", "-")


def _notebook_title(path: Path) -> str:
    """The title in a notebook's first cell (``# 13a · Title`` → ``Title``), else one made from its stem."""
    try:
        first = _src(_load(path)["cells"][0]).splitlines()[0]
    except (IndexError, KeyError, OSError, ValueError):
        first = ""
    m = re.match(r"#\s*\S+\s*·\s*(.+)", first)
    return m.group(1).strip() if m else path.stem.split("_", 1)[-1].replace("_", " ")


def chapter_table() -> str:
    """The README's chapter table, built from the notebooks (landed) and :data:`CHAPTERS` (planned)."""
    from .colab import colab_badge

    present = {p.stem: p for p in notebook_paths()}
    rows = ["| # | Notebook | Sources | Colab | smoke | cpu | gpu |", "|---|---|---|---|---|---|---|"]
    stems = {c.stem for c in CHAPTERS}
    extra = [Chapter(chapter_number(s), s, _notebook_title(p), "") for s, p in present.items() if s not in stems]
    for ch in sorted(CHAPTERS + extra, key=lambda c: c.stem):
        if ch.stem in present:
            t = runtimes(present[ch.stem])
            rows.append(f"| {ch.number} | [{ch.title}](notebooks/{ch.stem}.ipynb) | {ch.sources} | "
                        f"{colab_badge(ch.stem + '.ipynb')} | {t.get('smoke', '?')} | {t.get('cpu', '?')} | "
                        f"{t.get('gpu', '?')} |")
        else:
            rows.append(f"| {ch.number} | {ch.title} (planned) | {ch.sources} | — | — | — | — |")
    return "\n".join(rows)


def exam_table() -> str:
    """The README's map of all 41 exam questions to the notebook section that answers them.

    A question is linked to a heading of the chapter the course map assigns it to; when that notebook has no
    heading for it (not written yet), to the first other notebook that has one; else it is listed as planned."""
    present = {p.stem: p for p in notebook_paths()}
    by_number = {c.number: c for c in CHAPTERS}
    headings = {stem: exam_sections(p) for stem, p in present.items()}
    rows = ["| Q | Question | Where |", "|---|---|---|"]
    for q, (title, chapter) in EXAM_QUESTIONS.items():
        assigned = by_number[chapter].stem
        candidates = [assigned] + [s for s in sorted(headings) if s != assigned]
        stem = next((s for s in candidates if q in headings.get(s, {})), None)
        if stem is not None:
            heading = headings[stem][q]
            where = f"[{stem} · {heading}](notebooks/{stem}.ipynb#{_anchor(heading)})"
        else:
            where = f"planned: {assigned}"
        rows.append(f"| {q} | {title} | {where} |")
    return "\n".join(rows)


MARKERS = {"chapters": chapter_table, "exam": exam_table}


def render_readme(text: str) -> str:
    """``text`` with every ``<!-- BEGIN x -->…<!-- END x -->`` block regenerated."""
    for key, fn in MARKERS.items():
        begin, end = f"<!-- BEGIN {key} (generated: python -m utils.nbtools readme) -->", f"<!-- END {key} -->"
        if begin not in text or end not in text:
            raise ValueError(f"README lacks the markers {begin!r} … {end!r}")
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{begin}\n{fn()}\n{end}{tail}"
    return text


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["readme"]:
        readme = REPO_ROOT / "README.md"
        new = render_readme(readme.read_text(encoding="utf-8"))
        readme.write_text(new, encoding="utf-8")
        print(f"updated {readme}")
        return 0
    if argv[:1] == ["strip"] and argv[1:]:
        for p in argv[1:]:
            print(f"{p}: {'stripped' if strip_outputs(p) else 'clean'}")
        return 0
    if argv[:1] == ["images"] and len(argv) == 3:
        for f in export_images(argv[1], argv[2]):
            print(f)
        return 0
    if argv[:1] == ["setup-cells"]:
        for p in [Path(a) for a in argv[1:]] or notebook_paths():
            print(f"{p}: {'setup cell regenerated' if update_setup_cell(p) else 'setup cell current'}")
        return 0
    if argv[:1] == ["tidy"] and argv[1:]:
        from .codestyle import tidy_cells

        for p in argv[1:]:
            nb = _load(Path(p))
            cells = [("md" if c["cell_type"] == "markdown" else "code", _src(c)) for c in nb["cells"]]
            new, stats = tidy_cells(cells)
            if new != cells:
                write_notebook(p, new)
            print(f"{p}: {stats['joined']} joined statements split, {stats['cuts']} cells cut, "
                  f"{stats['long']} still over 25 lines")
        return 0
    if argv[:1] == ["check"]:
        bad = 0
        for p in [Path(a) for a in argv[1:]] or notebook_paths():
            for note in anatomy_notes(p):
                print(f"{p.name}: note: {note}")
            for problem in anatomy_problems(p):
                print(f"{p.name}: {problem}")
                bad += 1
        print("anatomy ok" if not bad else f"{bad} problem(s)")
        return 1 if bad else 0
    print("usage: python -m utils.nbtools readme | strip NOTEBOOK… | check [NOTEBOOK…] | setup-cells [NOTEBOOK…] "
          "| images EXECUTED.ipynb DIR | tidy NOTEBOOK…")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
