"""Headline results: record them next to the book's value, show "book vs ours", aggregate ``build/REPORT.md``.

A notebook records each headline number once with :func:`record`; it lands in
``build/metrics/<notebook>.json``::

    {"notebook": "05_keras_mnist", "profile": "cpu",
     "metrics": {"adam_test_accuracy": {"value": 0.981, "book": 0.9812, "grade": "A", "higher_is_better": true,
                                         "profile": "cpu", "source": "mnist (full, ...; offline mirror)", ...}}}

``python -m utils.run`` (or :func:`write_report`) gathers every such file into ``build/REPORT.md``.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .paths import build_dir


class ReportError(ValueError):
    """A metric that cannot be recorded (no notebook set up, bad name or value)."""


def metrics_dir() -> Path:
    """``build/metrics``: one JSON file per notebook."""
    return build_dir() / "metrics"


_STEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def check_stem(notebook: object) -> str:
    """``notebook`` if it is a notebook's file stem (``01_hopfield``); else :class:`ReportError`. A stem is
    one file name: no folder, no ``..``, no ``.ipynb``, so its metrics file stays inside ``build/metrics``."""
    if (not isinstance(notebook, str) or not _STEM.fullmatch(notebook) or notebook.endswith(".ipynb")
            or ".." in notebook):
        raise ReportError(f"give the notebook's file stem, e.g. '01_hopfield', not {notebook!r}")
    return notebook


def metrics_path(notebook: str) -> Path:
    """The metrics file of ``notebook`` (its file stem, e.g. ``01_hopfield``)."""
    return metrics_dir() / f"{check_stem(notebook)}.json"


def start(notebook: str, profile: str) -> Path:
    """Begin a fresh metrics file for ``notebook`` (a rerun replaces the last run's numbers)."""
    path = metrics_path(notebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, {"notebook": notebook, "profile": profile, "started": _now(), "metrics": {}})
    return path


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write(path: Path, doc: dict) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n")
    os.replace(tmp, path)


def _number(value: Any, what: str) -> float | int:
    if hasattr(value, "item") and callable(value.item):  # numpy / torch / jax scalars
        size = getattr(value, "size", 1)
        size = size() if callable(size) else size  # torch: a method; numpy/jax: a number
        if hasattr(size, "numel"):
            size = size.numel()
        if size != 1:
            shape = tuple(getattr(value, "shape", ()))
            raise ReportError(f"{what} must be one number, got an array of shape {shape}: reduce it first "
                              "(e.g. .mean()) or record each element under its own name")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ReportError(f"{what} must be a real number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ReportError(f"{what} must be finite, got {value!r}")
    return value if isinstance(value, int) else float(value)


def record(
    name: str,
    value: Any,
    *,
    book: Any = None,
    grade: str | None = None,
    higher_is_better: bool | None = True,
    source: str = "",
    unit: str = "",
    note: str = "",
    notebook: str | None = None,
) -> dict:
    """Record the headline metric ``name`` of the current notebook and return its entry.

    ``book`` is the Keras book's reported value (with its reliability ``grade`` A/B/C) when the book ran the
    experiment. ``source`` says what data it was computed on — pass ``utils.data.describe("mnist")`` or say
    "synthetic" / "SUBSET ..." so a subset is never mistaken for a full-data result. ``higher_is_better=None``
    for numbers that are neither (counts, times are ``False``).
    """
    from . import session

    notebook = notebook or session.current_notebook()
    if notebook is None:
        raise ReportError("no notebook set up: call utils.setup('<notebook stem>') first")
    check_stem(notebook)
    if not isinstance(name, str) or not name.isidentifier():
        raise ReportError(f"metric names are identifiers (letters, digits, _): {name!r}")
    if not isinstance(higher_is_better, (bool, type(None))):
        raise ReportError(f"higher_is_better is True, False or None, got {higher_is_better!r}")
    for field, text in (("source", source), ("unit", unit), ("note", note)):
        if not isinstance(text, str):
            raise ReportError(f"{field} must be a string, got {type(text).__name__}: {text!r}")
        if "\n" in text or "\r" in text:
            raise ReportError(f"{field} must be one line (it is a cell of the results table): {text[:60]!r}")
    if grade is not None and grade not in ("A", "B", "C"):
        raise ReportError(f"grade is A, B or C (the syllabus' reliability grades), got {grade!r}")
    if grade is not None and book is None:
        raise ReportError("a grade without a book value")
    path = metrics_path(notebook)
    try:
        doc = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        doc = {"notebook": notebook, "profile": session.current_profile(), "metrics": {}}
    entry = {
        "value": _number(value, name),
        "book": None if book is None else _number(book, f"{name} (book)"),
        "grade": grade,
        "higher_is_better": higher_is_better,
        "profile": doc.get("profile"),
        "source": source,
        "unit": unit,
        "note": note,
        "recorded": _now(),
    }
    doc["metrics"][name] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, doc)
    return entry


def load_metrics(notebook: str | None = None) -> dict[str, dict]:
    """``{notebook: document}`` for every metrics file (or just ``notebook``'s)."""
    out = {}
    files = [metrics_path(notebook)] if notebook else sorted(metrics_dir().glob("*.json"))
    for f in files:
        try:
            doc = json.loads(f.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            continue
        out[doc.get("notebook", f.stem)] = doc
    return out


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.5g}" if abs(v) < 1e5 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def verdict(entry: dict) -> str:
    """``better`` / ``worse`` / ``same`` compared with the book's value, '' when there is none."""
    book, value, hib = entry.get("book"), entry.get("value"), entry.get("higher_is_better")
    if book is None or value is None or hib is None:
        return ""
    if math.isclose(value, book, rel_tol=1e-3, abs_tol=1e-9):
        return "same"
    return "better" if (value > book) == bool(hib) else "worse"


def cell(text: Any) -> str:
    """``text`` made safe for one Markdown table cell: ``|`` escaped, line breaks turned into spaces."""
    return " ".join(str(text).split("\n")).replace("\r", " ").replace("|", "\\|")


def rows_markdown(doc: dict) -> list[str]:
    """Markdown table rows (no header) of one notebook's metrics (every field escaped, see :func:`cell`)."""
    rows = []
    for name, e in doc.get("metrics", {}).items():
        book = _fmt(e.get("book")) + (f" ({e['grade']})" if e.get("grade") else "")
        unit = f" {e['unit']}" if e.get("unit") else ""
        rows.append(f"| {cell(name)} | {cell(book)} | {cell(_fmt(e.get('value')) + unit)} | {verdict(e)} "
                    f"| {cell(e.get('profile') or '')} | {cell(e.get('source', ''))} |")
    return rows


TABLE_HEAD = ["| metric | book | ours | vs book | profile | data |", "|---|---|---|---|---|---|"]


def show_results(notebook: str | None = None) -> str:
    """Print (in Jupyter: display as Markdown) the "book vs ours" table of the current notebook; return it."""
    from . import session

    notebook = notebook or session.current_notebook()
    if notebook is None:
        raise ReportError("no notebook set up: call utils.setup('<notebook stem>') first")
    doc = load_metrics(notebook).get(notebook, {"metrics": {}})
    table = "\n".join(TABLE_HEAD + rows_markdown(doc))
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display

        if get_ipython() is not None:
            display(Markdown(table))
            return table
    except ImportError:
        pass
    print(table)
    return table


def write_report(times: dict[str, dict] | None = None, path: Path | None = None) -> Path:
    """Gather every ``build/metrics/*.json`` (and the runner's wall times) into ``build/REPORT.md``."""
    path = path or build_dir() / "REPORT.md"
    docs = load_metrics()
    times = times or {}
    lines = ["# Results report", "", f"Generated {_now()}. \"book\" is the value the Keras book reports "
             "(grade A: printed by its code, B: prose, C: read off a chart); \"ours\" is this run's.", ""]
    if times:
        lines += ["## Runs", "", "| notebook | profile | status | wall time |", "|---|---|---|---|"]
        for nb, t in sorted(times.items()):
            lines.append(f"| {nb} | {t.get('profile', '')} | {t.get('status', '')} | {t.get('seconds', 0):.1f} s |")
        lines.append("")
    lines += ["## Metrics: book vs ours", ""]
    if not docs:
        lines.append("No metrics recorded yet: run a notebook (`python -m utils.run`).")
    for nb, doc in sorted(docs.items()):
        lines += [f"### {nb} (profile: {doc.get('profile')})", ""] + TABLE_HEAD + rows_markdown(doc) + [""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path
