"""``python -m utils.run [NAMES…] [--profile P]``: execute the course notebooks and write the results report.

Notebooks run in chapter order, each in a fresh kernel with the notebook's folder as working directory and
``COURSE_PROFILE`` set. Executed copies go to ``build/notebooks/<name>.ipynb`` and ``.html`` (the HTML typesets
its formulas offline with the MathJax that ``jupyter-server-mathjax`` ships, copied to
``build/notebooks/mathjax/``); each run's status, wall time, kernel start, failing cell and the error's last
lines to ``build/times.json``; then ``build/REPORT.md`` and ``build/results.png`` are written from every
notebook's recorded metrics. The exit code is non-zero when any notebook failed, and the failing cell is named.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .paths import NOTEBOOKS_DIR, build_dir, notebook_paths
from .profiles import PROFILES, get_profile, validate_profile
from .report import write_report


@dataclass
class Outcome:
    """How one notebook's run went."""

    name: str
    ok: bool
    seconds: float
    failed_cell: int | None = None
    error: str = ""
    cell_source: str = ""
    error_tail: list[str] = field(default_factory=list)
    kernel_start_s: float | None = None
    setup_cell_s: float | None = None
    setup_extra_output: str = ""
    slowest: list[tuple[int, float, str]] = field(default_factory=list)

    def line(self) -> str:
        if self.ok:
            return f"ok      {self.name}  {self.seconds:6.1f} s"
        where = f"cell {self.failed_cell}" if self.failed_cell is not None else "before any cell"
        return f"FAILED  {self.name}  {self.seconds:6.1f} s  at {where}: {self.error}"


def resolve(names: list[str]) -> list[Path]:
    """Notebook paths for ``names`` (``01``, ``01_hopfield``, ``01_hopfield.ipynb`` or a path), in chapter order.

    No names: every notebook. An unknown or ambiguous name raises ``SystemExit`` listing the notebooks.
    """
    every = notebook_paths()
    if not names:
        return every
    chosen: list[Path] = []
    for name in names:
        p = Path(name)
        if p.suffix == ".ipynb" and p.exists():
            chosen.append(p.resolve())
            continue
        stem = p.name.removesuffix(".ipynb")
        hits = ([nb for nb in every if nb.stem == stem]
                or [nb for nb in every if nb.stem.split("_")[0] == stem]
                or [nb for nb in every if nb.stem.startswith(stem)])
        if len(hits) != 1:
            known = ", ".join(nb.stem for nb in every) or "none"
            why = "matches several" if hits else "matches none"
            raise SystemExit(f"notebook {name!r} {why} of the course notebooks: {known}")
        chosen.append(hits[0])
    return sorted(dict.fromkeys(chosen), key=lambda q: q.name)


@contextmanager
def _env(**values: str) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

#: How many lines of a failing cell's traceback the report keeps.
ERROR_TAIL_LINES = 12


def _first_line(source: str) -> str:
    return source.strip().splitlines()[0][:80] if source.strip() else ""


def _first_error(nb) -> tuple[int | None, str, str, list[str]]:
    """``(cell index, "Name: message", the cell's first line, the traceback's last lines)`` of the first error."""
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                tb = [_ANSI.sub("", line) for chunk in out.get("traceback", []) for line in chunk.splitlines()]
                tb = [line.rstrip() for line in tb if line.strip()]
                first = _first_line(cell.source)
                msg = f"{out.get('ename')}: {str(out.get('evalue'))[:300]}"
                return i, f"{msg} (cell starts: {first!r})", first, tb[-ERROR_TAIL_LINES:] or [msg]
    return None, "", "", []


def _stamp(cell, key: str) -> float | None:
    from datetime import datetime

    value = cell.get("metadata", {}).get("execution", {}).get(key)
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() if value else None
    except (AttributeError, ValueError):
        return None


def _timings(nb, t0_epoch: float) -> tuple[float | None, float | None, list[tuple[int, float, str]]]:
    """Kernel start (launch to the first cell's start), the setup cell's time, the three slowest cells."""
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    spans = []
    for i, c in code:
        a, b = _stamp(c, "iopub.execute_input"), _stamp(c, "shell.execute_reply")
        if a is not None and b is not None:
            spans.append((i, b - a, _first_line(c.source)))
    first = _stamp(code[0][1], "iopub.execute_input") if code else None
    kernel = None if first is None else max(0.0, first - t0_epoch)
    setup = spans[0][1] if spans and spans[0][0] == code[0][0] else None
    slowest = sorted(spans, key=lambda x: -x[1])[:3]
    return kernel, setup, [(i, round(sec, 1), src) for i, sec, src in slowest]


def _setup_extra_output(nb) -> str:
    """What the setup cell printed besides its one status line (TensorFlow's start-up log, warnings), or ''."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code:
        return ""
    lines = []
    for out in code[0].get("outputs", []):
        if out.get("output_type") == "stream":
            lines += [(out.get("name"), line) for line in out.get("text", "").splitlines() if line.strip()]
        elif out.get("output_type") != "error":
            lines.append(("display", out.get("output_type", "")))
    extra = [line for k, line in lines if k != "stdout"] + [line for k, line in lines if k == "stdout"][1:]
    return " / ".join(extra)[:300]


def mathjax_dir() -> Path | None:
    """The MathJax 2 tree shipped by ``jupyter-server-mathjax`` (``MathJax.js`` inside), or None."""
    import importlib.util

    spec = importlib.util.find_spec("jupyter_server_mathjax")
    if spec is None or not spec.origin:
        return None
    static = Path(spec.origin).parent / "static"
    return static if (static / "MathJax.js").exists() else None


#: The MathJax configuration the executed HTML loads (one that the shipped MathJax contains).
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"


def offline_mathjax(out_dir: Path) -> str | None:
    """Copy the shipped MathJax next to the HTML files (once) and return the relative URL the HTML loads; None
    (the exporter's CDN default) when ``jupyter-server-mathjax`` is not installed."""
    src = mathjax_dir()
    if src is None:
        return None
    dest = out_dir / "mathjax"
    stamp = dest / ".source"
    if not (stamp.exists() and stamp.read_text() == str(src)):
        tmp = out_dir / f".mathjax-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(src, tmp)
        (tmp / ".source").write_text(str(src))
        shutil.rmtree(dest, ignore_errors=True)
        try:
            os.replace(tmp, dest)
        except OSError:  # another runner put it there first
            shutil.rmtree(tmp, ignore_errors=True)
    return f"mathjax/MathJax.js?config={MATHJAX_CONFIG}"


#: The shipped MathJax has only the STIX-Web fonts (MathJax's default "TeX" fonts are left out of the package:
#: without this, formulas needing a font file, such as a prime, show "Math Processing Error").
#: Its files load from disk, so a slow disk or a busy machine should not hit MathJax's 15 s load timeout.
MATHJAX_FONTS = ('<script type="text/x-mathjax-config">MathJax.Ajax.timeout = 60 * 1000; '
                 'MathJax.Hub.Config({"HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", '
                 'imageFont: null}});</script>\n')


def export_html(nb, path: Path) -> Path:
    """Write ``nb`` as HTML at ``path``, with math typeset offline where the shipped MathJax is installed."""
    from nbconvert import HTMLExporter

    url = offline_mathjax(path.parent)
    exporter = HTMLExporter(mathjax_url=url) if url else HTMLExporter()
    body, _ = exporter.from_notebook_node(nb)
    if url:
        tag = f'<script src="{url}">'
        body = body.replace(tag, MATHJAX_FONTS + tag, 1)
    path.write_text(body, encoding="utf-8")
    return path


def this_interpreter_kernel_manager():
    """A kernel-manager class whose ``python3`` kernel is *this* interpreter's ipykernel, whatever kernelspecs
    Jupyter finds: a ``python3`` kernelspec in ``~/.local/share/jupyter`` or on ``JUPYTER_PATH`` would otherwise
    win and run the notebooks with another Python (other packages, another ``utils``)."""
    from ipykernel.kernelspec import RESOURCES, get_kernel_dict
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class ThisInterpreterSpecs(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):  # noqa: ARG002 - one kernel only
            return self.kernel_spec_class(resource_dir=RESOURCES, **get_kernel_dict())

    class ThisInterpreterKernel(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _this_interpreter_specs(self):
            return ThisInterpreterSpecs(data_dir=self.data_dir)

    return ThisInterpreterKernel


def run_notebook(path: Path, profile: str, *, timeout: int = 1800, html: bool = True,
                 out_dir: Path | None = None, cwd: Path | None = None) -> Outcome:
    """Execute one notebook in a fresh kernel; write the executed copy (and HTML); return the outcome.

    The kernel's working directory is ``cwd`` (default: the notebook's folder); a student version written
    elsewhere runs with ``cwd=NOTEBOOKS_DIR`` so that its setup cell finds the repository as usual.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    out_dir = out_dir or build_dir() / "notebooks"
    out_dir.mkdir(parents=True, exist_ok=True)
    nb = nbformat.read(path, as_version=4)
    started: list[int] = []  # the cells in the order nbclient starts them: the last one is running now
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            kernel_manager_class=this_interpreter_kernel_manager(),
                            on_cell_start=lambda cell, cell_index: started.append(cell_index),
                            resources={"metadata": {"path": str(cwd or path.parent)}})
    t0, t0_epoch = time.perf_counter(), time.time()
    ok, cell, error, first, tail = True, None, "", "", []
    with _env(COURSE_PROFILE=profile, PYTHONPATH=os.pathsep.join(filter(None, [str(NOTEBOOKS_DIR.parent),
                                                                              os.environ.get("PYTHONPATH")]))):
        try:
            client.execute()
        except CellExecutionError:
            ok = False
            cell, error, first, tail = _first_error(nb)
        except (CellTimeoutError, DeadKernelError) as exc:
            ok = False
            # the cell that was running (a dead kernel may die before it reported an execution count)
            cell = started[-1] if started else None
            error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            first = _first_line(nb.cells[cell].source) if cell is not None else ""
            tail = [error]
    seconds = time.perf_counter() - t0
    kernel, setup, slowest = _timings(nb, t0_epoch)
    nbformat.write(nb, out_dir / path.name)
    if html:
        export_html(nb, out_dir / path.with_suffix(".html").name)
    return Outcome(path.stem, ok, seconds, cell, error, first, tail, kernel, setup, _setup_extra_output(nb), slowest)


def _record(outcome: Outcome, profile: str, run_id: str, started: str, out_dir: Path, html: bool) -> dict:
    """The runner's ``times.json`` entry of one run (paths relative to the build folder)."""
    from .report import _now

    rel = out_dir.relative_to(build_dir()) if out_dir.is_relative_to(build_dir()) else out_dir
    entry = {"profile": profile, "status": "ok" if outcome.ok else "FAILED", "seconds": round(outcome.seconds, 1),
             "run": run_id, "started": started, "finished": _now(),
             "ipynb": f"{rel.as_posix()}/{outcome.name}.ipynb"}
    if html:
        entry["html"] = f"{rel.as_posix()}/{outcome.name}.html"
    if outcome.kernel_start_s is not None:
        entry["kernel_start_s"] = round(outcome.kernel_start_s, 1)
    if outcome.setup_cell_s is not None:
        entry["setup_cell_s"] = round(outcome.setup_cell_s, 1)
    if outcome.setup_extra_output:
        entry["setup_extra_output"] = outcome.setup_extra_output
    if outcome.slowest:
        entry["slowest_cells"] = [list(x) for x in outcome.slowest]
    if not outcome.ok:
        entry.update(failed_cell=outcome.failed_cell, error=outcome.error, cell_source=outcome.cell_source,
                     error_tail=outcome.error_tail)
    return entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.run", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebooks to run (e.g. 00 or 01_hopfield); default: all")
    parser.add_argument("--profile", choices=PROFILES, help="run profile (default: COURSE_PROFILE, else automatic)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds a single cell may take (default 1800)")
    parser.add_argument("--no-html", action="store_true", help="skip the HTML copies")
    parser.add_argument("--report-only", action="store_true",
                        help="run nothing: rebuild build/REPORT.md and results.png from what earlier runs left")
    args = parser.parse_args(argv)
    if args.report_only:
        try:
            times = json.loads((build_dir() / "times.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            times = {}
        print(f"report: {write_report(times)}")
        return 0
    profile = validate_profile(args.profile) if args.profile else get_profile()
    paths = resolve(args.names)
    if not paths:
        print(f"no notebooks found in {NOTEBOOKS_DIR}")
        return 1
    print(f"running {len(paths)} notebook(s) in the {profile} profile; output in {build_dir()}")
    from .timing import progress

    times_file = build_dir() / "times.json"
    try:
        times = json.loads(times_file.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        times = {}
    from .report import _now

    outcomes = []
    run_id = _now()
    out_dir = build_dir() / "notebooks"
    bar = progress(paths, desc="notebooks", unit="nb")
    for path in bar:
        if hasattr(bar, "set_postfix_str"):
            bar.set_postfix_str(path.stem)
        started = _now()
        outcome = run_notebook(path, profile, timeout=args.timeout, html=not args.no_html, out_dir=out_dir)
        outcomes.append(outcome)
        print(outcome.line(), flush=True)
        times[path.stem] = _record(outcome, profile, run_id, started, out_dir, not args.no_html)
        times_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = times_file.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(times, indent=1) + "\n")
        os.replace(tmp, times_file)
    report = write_report(times)
    failed = [o for o in outcomes if not o.ok]
    print(f"report: {report}")
    for o in outcomes:
        if o.setup_extra_output:
            print(f"note: {o.name}'s setup cell printed more than its status line: {o.setup_extra_output[:120]}")
    print(f"{len(outcomes) - len(failed)} passed, {len(failed)} failed")
    for o in failed:
        print(o.line(), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
