"""``python -m utils.run [NAMES…] [--profile P]``: execute the course notebooks and write the results report.

Notebooks run in chapter order, each in a fresh kernel with the notebook's folder as working directory and
``COURSE_PROFILE`` set. Executed copies go to ``build/notebooks/<name>.ipynb`` and ``.html``; wall times to
``build/times.json``; then ``build/REPORT.md`` is written from every notebook's recorded metrics.
The exit code is non-zero when any notebook failed, and the failing cell is named.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
        hits = [nb for nb in every if nb.stem == stem] or [nb for nb in every if nb.stem.startswith(stem)]
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


def _first_error(nb) -> tuple[int | None, str]:
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                first = cell.source.strip().splitlines()[0][:60] if cell.source.strip() else ""
                return i, f"{out.get('ename')}: {str(out.get('evalue'))[:300]} (cell starts: {first!r})"
    return None, ""


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
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd or path.parent)}})
    t0 = time.perf_counter()
    ok, cell, error = True, None, ""
    with _env(COURSE_PROFILE=profile, PYTHONPATH=os.pathsep.join(filter(None, [str(NOTEBOOKS_DIR.parent),
                                                                              os.environ.get("PYTHONPATH")]))):
        try:
            client.execute()
        except CellExecutionError:
            ok = False
            cell, error = _first_error(nb)
        except (CellTimeoutError, DeadKernelError) as exc:
            ok = False
            cell = next((i for i, c in reversed(list(enumerate(nb.cells)))
                         if c.cell_type == "code" and c.get("execution_count")), None)
            error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    seconds = time.perf_counter() - t0
    nbformat.write(nb, out_dir / path.name)
    if html:
        from nbconvert import HTMLExporter

        body, _ = HTMLExporter().from_notebook_node(nb)
        (out_dir / path.with_suffix(".html").name).write_text(body, encoding="utf-8")
    return Outcome(path.stem, ok, seconds, cell, error)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.run", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebooks to run (e.g. 00 or 01_hopfield); default: all")
    parser.add_argument("--profile", choices=PROFILES, help="run profile (default: COURSE_PROFILE, else automatic)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds a single cell may take (default 1800)")
    parser.add_argument("--no-html", action="store_true", help="skip the HTML copies")
    args = parser.parse_args(argv)
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
    outcomes = []
    bar = progress(paths, desc="notebooks", unit="nb")
    for path in bar:
        if hasattr(bar, "set_postfix_str"):
            bar.set_postfix_str(path.stem)
        outcome = run_notebook(path, profile, timeout=args.timeout, html=not args.no_html)
        outcomes.append(outcome)
        print(outcome.line(), flush=True)
        times[path.stem] = {"profile": profile, "status": "ok" if outcome.ok else "FAILED",
                            "seconds": round(outcome.seconds, 1)}
        times_file.parent.mkdir(parents=True, exist_ok=True)
        times_file.write_text(json.dumps(times, indent=1) + "\n")
    report = write_report(times)
    failed = [o for o in outcomes if not o.ok]
    print(f"report: {report}")
    print(f"{len(outcomes) - len(failed)} passed, {len(failed)} failed")
    for o in failed:
        print(o.line(), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
