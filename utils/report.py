"""Headline results: record them next to the book's value, show "book vs ours", aggregate ``build/REPORT.md``.

A notebook records each headline number once with :func:`record`; it lands in
``build/metrics/<notebook>.json``::

    {"notebook": "05_keras_mnist", "profile": "cpu",
     "metrics": {"adam_test_accuracy": {"value": 0.981, "book": 0.9812, "grade": "A", "higher_is_better": true,
                                         "profile": "cpu", "source": "mnist (full, ...; offline mirror)", ...}}}

``python -m utils.run`` (or :func:`write_report`) gathers every such file into ``build/REPORT.md`` (run status,
failures, links to the executed HTML, environment, expected vs measured time, a verdict per metric against the
book within a tolerance that fits the metric) and draws ``build/results.png`` (ours vs book, one panel per metric).

This module keeps the run state (which notebook is set up, in which profile) itself: :func:`start` sets it, so
:func:`record` needs nothing from :mod:`utils.session` (which imports this module, never the other way round).
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

from .paths import REPO_ROOT, build_dir


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


#: The notebook set up in this process and its profile (set by :func:`start`, i.e. by ``utils.setup``).
_ACTIVE: dict[str, str] | None = None


def active_notebook() -> str | None:
    """The notebook :func:`start` began in this process (``utils.setup`` calls it), or None."""
    return _ACTIVE["notebook"] if _ACTIVE else None


def _the_notebook(notebook: str | None) -> str:
    """``notebook``, else the one :func:`start` began; checked to be a file stem."""
    notebook = notebook or active_notebook()
    if notebook is None:
        raise ReportError("no notebook set up: call utils.setup('<notebook stem>') first")
    return check_stem(notebook)


def start(notebook: str, profile: str, *, status: str = "") -> Path:
    """Begin a fresh metrics file for ``notebook`` (a rerun replaces the last run's numbers) and make it the
    notebook that :func:`record` and :func:`show_results` use. ``status`` is the setup's status line (device,
    versions, data), kept in the file for the report."""
    global _ACTIVE
    path = metrics_path(notebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, {"notebook": notebook, "profile": profile, "started": _now(), "status": status, "metrics": {}})
    _ACTIVE = {"notebook": notebook, "profile": profile}
    return path


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write(path: Path, doc: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # one per process: two writers never share it
    try:
        tmp.write_text(json.dumps(doc, indent=1) + "\n")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


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
    n: int | None = None,
    tol: float | None = None,
) -> dict:
    """Record the headline metric ``name`` of the current notebook and return its entry.

    ``book`` is the Keras book's reported value (with its reliability ``grade`` A/B/C) when the book ran the
    experiment. ``source`` says what data it was computed on — pass ``utils.data.describe("mnist")`` or say
    "synthetic" / "SUBSET ..." so a subset is never mistaken for a full-data result. ``higher_is_better=None``
    for numbers that are neither (counts, times are ``False``).

    The report compares ``value`` with ``book`` within a noise tolerance: ``tol`` (absolute) when given; else, for
    a fraction such as an accuracy measured on ``n`` test samples, two standard errors ``2·sqrt(p(1-p)/n)``
    (``n`` defaults to the test count in ``source``, e.g. "test 10,000"); else 5 % of the book's value.
    """
    notebook = _the_notebook(notebook)
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
    if n is not None and (isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1):
        raise ReportError(f"n is the number of samples the value was measured on (an int >= 1), got {n!r}")
    if tol is not None:
        tol = _number(tol, f"{name} (tol)")
        if tol < 0:
            raise ReportError(f"tol is a non-negative tolerance, got {tol!r}")
    path = metrics_path(notebook)
    try:
        doc = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        doc = {"notebook": notebook, "profile": _current_profile(), "metrics": {}}
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
    if n is not None:
        entry["n"] = int(n)
    if tol is not None:
        entry["tol"] = tol
    doc["metrics"][name] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, doc)
    return entry


def _current_profile() -> str:
    if _ACTIVE:
        return _ACTIVE["profile"]
    from .profiles import get_profile

    return get_profile()


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


# ------------------------------------------------------------------------------------------------ verdicts

#: Relative tolerance when a metric gives neither ``tol`` nor a sample count: 5 % of the book's value.
DEFAULT_REL_TOL = 0.05
_TEST_COUNT = re.compile(r"\btest(?: set)?[ :=]+(\d[\d,]*)\b|\b(\d[\d,]*) (?:[a-z]+ ){0,2}(?:games|episodes)\b", re.I)


def sample_count(entry: dict) -> int | None:
    """The number of samples behind a metric: its ``n``, else the count its ``source`` names ("test 10,000",
    "1,000 greedy evaluation games")."""
    if entry.get("n"):
        return int(entry["n"])
    m = _TEST_COUNT.search(entry.get("source") or "")
    return int((m.group(1) or m.group(2)).replace(",", "")) if m else None


def tolerance(entry: dict) -> tuple[float, str] | None:
    """``(tol, how)``: how far ``value`` may sit from ``book`` and still be "within noise"; None without a book.

    ``tol`` given → it. Two whole numbers (parameter counts) → 0. A fraction (accuracy, rate) with a known
    sample count ``n`` → two standard errors,
    ``2·sqrt(p(1-p)/n)`` at the mean of ours and the book's ``p``. Otherwise ``DEFAULT_REL_TOL`` of the book."""
    book, value = entry.get("book"), entry.get("value")
    if book is None or value is None:
        return None
    if entry.get("tol") is not None:
        return float(entry["tol"]), "given"
    if isinstance(value, int) and isinstance(book, int):
        return 0.0, "exact count"
    n = sample_count(entry)
    if n and 0 <= value <= 1 and 0 <= book <= 1:
        p = (value + book) / 2
        return 2 * math.sqrt(max(p * (1 - p), 1 / n) / n), f"2 s.e., n={n:,}"
    return DEFAULT_REL_TOL * abs(book), f"{DEFAULT_REL_TOL:.0%} of the book's value"


def comparable(entry: dict) -> str:
    """'' when the metric can be compared with the book, else why not: ``smoke`` or ``subset``."""
    if entry.get("profile") == "smoke":
        return "smoke"
    if re.search(r"\bsubset\b", entry.get("source") or "", re.I):
        return "subset"
    return ""


def verdict(entry: dict) -> str:
    """Ours against the book: ``within noise``, ``above`` or ``below`` (the book's value ± :func:`tolerance`);
    ``not comparable (smoke)`` / ``(subset)`` for smoke runs and data subsets; '' when the book has no value."""
    tol = tolerance(entry)
    if tol is None:
        return ""
    why = comparable(entry)
    if why:
        return f"not comparable ({why})"
    diff = entry["value"] - entry["book"]
    if abs(diff) <= tol[0] * (1 + 1e-9) + 1e-12:
        return "within noise"
    return "above" if diff > 0 else "below"


def verdict_cell(entry: dict) -> str:
    """The verdict with its tolerance and, for above/below, whether that is better or worse."""
    v = verdict(entry)
    if v in ("", ) or v.startswith("not comparable"):
        return v
    tol, how = tolerance(entry)
    hib = entry.get("higher_is_better")
    better = "" if v == "within noise" or hib is None else (
        " (better)" if (v == "above") == bool(hib) else " (worse)")
    if how == "exact count":
        return f"{v}{better} (exact count)" if v != "within noise" else "equal (exact count)"
    return f"{v}{better}, ±{tol:,.0f}" + f" ({how})" if tol >= 1000 else f"{v}{better}, ±{tol:.2g} ({how})"


def cell(text: Any) -> str:
    """``text`` made safe for one Markdown table cell: ``|`` escaped, line breaks turned into spaces."""
    return " ".join(str(text).split("\n")).replace("\r", " ").replace("|", "\\|")


def rows_markdown(doc: dict) -> list[str]:
    """Markdown table rows (no header) of one notebook's metrics (every field escaped, see :func:`cell`)."""
    rows = []
    for name, e in doc.get("metrics", {}).items():
        book = _fmt(e.get("book")) + (f" ({e['grade']})" if e.get("grade") else "")
        unit = f" {e['unit']}" if e.get("unit") else ""
        rows.append(f"| {cell(name)} | {cell(book)} | {cell(_fmt(e.get('value')) + unit)} | {cell(verdict_cell(e))} "
                    f"| {cell(e.get('profile') or '')} | {cell(e.get('source', ''))} |")
    return rows


TABLE_HEAD = ["| metric | book | ours | vs book | profile | data |", "|---|---|---|---|---|---|"]


def show_results(notebook: str | None = None) -> str:
    """Print (in Jupyter: display as Markdown) the "book vs ours" table of the current notebook; return it."""
    notebook = _the_notebook(notebook)
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


# ------------------------------------------------------------------------------------------------ the report

def environment() -> dict[str, str]:
    """What the report says about where it ran: git revision, Python and framework versions (read from the
    installed metadata, nothing imported), Keras backend, device, data location."""
    import platform
    import subprocess
    from importlib import metadata

    from . import device
    from .backend import DEFAULT_BACKEND
    from .paths import data_dir, mirror_dir

    env: dict[str, str] = {}
    try:
        rev = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short=10", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10)
        env["git revision"] = (rev.stdout.strip() + (" + uncommitted changes" if dirty.stdout.strip() else "")
                               if rev.returncode == 0 else "not a git checkout")
    except (OSError, subprocess.SubprocessError):
        env["git revision"] = "unknown (git not found)"
    env["python"] = platform.python_version()
    versions = []
    for dist in ("numpy", "torch", "keras", "jax", "tensorflow", "tensorflow-cpu"):
        try:
            versions.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            pass
    env["frameworks"] = ", ".join(versions)
    env["Keras backend"] = os.environ.get("KERAS_BACKEND") or f"{DEFAULT_BACKEND} (default)"
    env["device"] = device.device_summary()
    mirror = mirror_dir()
    env["data"] = f"mirror {mirror}" if mirror else f"cache {data_dir()}"
    return env


def _parse_time(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def freshness(doc: dict, run: dict | None) -> str:
    """Whether a notebook's metrics belong to its last runner run: ``current``, ``partial (the run failed)``,
    ``stale (…)`` for numbers left from an earlier run or another profile, or ``not from the runner``."""
    if not run:
        return "not from the runner: an interactive or test run"
    started, run_start = _parse_time(doc.get("started")), _parse_time(run.get("started"))
    if doc.get("profile") != run.get("profile"):
        return f"stale: recorded in the {doc.get('profile')} profile, last run was {run.get('profile')}"
    if started and run_start and started.timestamp() < run_start.timestamp() - 1:
        return f"stale: recorded {doc.get('started')}, before the last run started ({run.get('started')})"
    if run.get("status") != "ok":
        return "partial: the run failed, numbers recorded before the failure"
    return "current"


def _seconds(text: str) -> float | None:
    m = re.fullmatch(r"\s*([\d.]+)\s*(s|min)\s*", text or "")
    return float(m.group(1)) * (60 if m.group(2) == "min" else 1) if m else None


def _duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _expected(notebook: str, profile: str) -> str:
    from .nbtools import runtimes
    from .paths import NOTEBOOKS_DIR

    path = NOTEBOOKS_DIR / f"{notebook}.ipynb"
    try:
        return runtimes(path).get(profile, "") if path.exists() else ""
    except (OSError, ValueError, KeyError, IndexError):
        return ""


def _run_rows(times: dict[str, dict], out: Path) -> list[str]:
    rows = ["| notebook | profile | status | expected | measured | kernel start + setup cell | executed |",
            "|---|---|---|---|---|---|---|"]
    for nb, t in sorted(times.items()):
        status = t.get("status", "")
        if status != "ok" and t.get("failed_cell") is not None:
            status += f" at cell {t['failed_cell']}"
        expected = _expected(nb, t.get("profile", ""))
        measured = _duration(t.get("seconds", 0))
        limit = _seconds(expected)
        if limit and t.get("seconds", 0) > 1.25 * limit:
            measured += f" (over, ×{t['seconds'] / limit:.1f})"
        start = ("" if t.get("kernel_start_s") is None else
                 f"{t['kernel_start_s']:.1f} s + {t.get('setup_cell_s', 0):.1f} s")
        links = " · ".join(f"[{kind}]({rel})" for kind, rel in (("html", t.get("html")), ("ipynb", t.get("ipynb")))
                           if rel and (out.parent / rel).exists())
        rows.append(f"| {cell(nb)} | {cell(t.get('profile', ''))} | {cell(status)} | {cell(expected or '?')} "
                    f"| {cell(measured)} | {cell(start)} | {links or '—'} |")
    return rows


def _failure_lines(times: dict[str, dict]) -> list[str]:
    lines = []
    for nb, t in sorted(times.items()):
        if t.get("status") == "ok":
            continue
        where = f"cell {t['failed_cell']}" if t.get("failed_cell") is not None else "before any cell"
        lines += [f"### {nb} — {where}", ""]
        if t.get("cell_source"):
            lines += [f"The cell starts: `{t['cell_source']}`", ""]
        lines += ["```", *(t.get("error_tail") or [t.get("error") or "(no error message)"]), "```", ""]
    return lines


def write_report(times: dict[str, dict] | None = None, path: Path | None = None,
                 plot: bool = True) -> Path:
    """Gather every ``build/metrics/*.json`` (and the runner's records in ``times``) into ``build/REPORT.md``,
    and draw ``results.png`` beside it (ours vs book, see :func:`write_results_plot`)."""
    path = path or build_dir() / "REPORT.md"
    docs = load_metrics()
    times = times or {}
    latest = max((t.get("run", "") for t in times.values()), default="")
    lines = ["# Results report", "",
             f"Generated {_now()}. \"book\" is the value the Keras book reports (grade A: printed by its code, "
             "B: prose, C: read off a chart); \"ours\" is this run's. A verdict compares the two within a noise "
             "tolerance: two standard errors for an accuracy on n test samples, else the tolerance the notebook "
             f"gave, else {DEFAULT_REL_TOL:.0%} of the book's value. Smoke runs and data subsets are not "
             "comparable with the book.", ""]
    lines += ["## Environment", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {cell(v)} |" for k, v in environment().items()] + [""]
    if times:
        ok = sum(t.get("status") == "ok" for t in times.values())
        lines += ["## Runs", "", f"{ok} of {len(times)} notebooks ran to the end"
                  + (f"; the latest runner invocation started {latest}" if latest else "") + ". Rows from "
                  "earlier invocations keep their own profile and time.", ""]
        lines += _run_rows(times, path) + [""]
        failures = _failure_lines(times)
        if failures:
            lines += ["## Failures", ""] + failures
    lines += ["## Metrics: book vs ours", ""]
    if not docs:
        lines.append("No metrics recorded yet: run a notebook (`python -m utils.run`).")
    elif plot:
        png = write_results_plot(docs, times, path.with_name("results.png"))
        if png is not None:
            lines += [f"![ours vs book, one panel per metric]({png.name})", ""]
    for nb, doc in sorted(docs.items()):
        fresh = freshness(doc, times.get(nb))
        lines += [f"### {nb} (profile: {doc.get('profile')}; {fresh})", ""]
        if doc.get("status"):
            lines += [f"Setup: {cell(doc['status'])}", ""]
        lines += TABLE_HEAD + rows_markdown(doc) + [""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


_COLOURS = {"within noise": "#4c9a2a", "above": "#d9822b", "below": "#d9822b", "not comparable": "#9e9e9e"}


def write_results_plot(docs: dict[str, dict], times: dict[str, dict] | None, path: Path) -> Path | None:
    """One panel per metric that has a book value: a bar for the book, one for ours (with its noise tolerance as
    an error bar), coloured by the verdict (grey: not comparable; hatched: stale or partial). None when no
    metric has a book value."""
    items = [(nb, name, e) for nb, doc in sorted(docs.items()) for name, e in doc.get("metrics", {}).items()
             if e.get("book") is not None and e.get("value") is not None]
    if not items:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    cols = min(4, len(items))
    rows = math.ceil(len(items) / cols)
    fig = Figure(figsize=(3.1 * cols, 2.5 * rows), layout="constrained")
    FigureCanvasAgg(fig)
    for i, (nb, name, e) in enumerate(items):
        ax = fig.add_subplot(rows, cols, i + 1)
        v = verdict(e)
        colour = next((c for k, c in _COLOURS.items() if v.startswith(k)), "#9e9e9e")
        stale = freshness(docs[nb], (times or {}).get(nb)) != "current" and bool(times)
        tol = tolerance(e)
        ax.bar([0], [e["book"]], color="#5b7db1", width=0.6)
        ax.bar([1], [e["value"]], color=colour, width=0.6, yerr=[[tol[0]], [tol[0]]] if tol else None,
               capsize=4, hatch="//" if stale else None, edgecolor="white" if stale else None)
        ax.set_xticks([0, 1], ["book", "ours"])
        lo, hi = sorted((e["book"], e["value"]))
        pad = max((hi - lo) * 0.6, (tol[0] if tol else 0) * 1.5, abs(hi) * 0.02, 1e-12)
        if lo > 0 and lo - pad > 0 and (hi - lo) < 0.5 * hi:  # zoom in where the bars are close (axis noted)
            ax.set_ylim(lo - pad, hi + pad)
        label = verdict_cell(e).split(",")[0].split(" (exact")[0]
        ax.set_title(f"{nb.split('_', 1)[0]} · {name}\n{label}{' (stale)' if stale else ''}", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle("ours vs the book (error bar: the noise tolerance; y axes do not start at 0 where zoomed)",
                 fontsize=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path
