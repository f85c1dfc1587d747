"""pytest configuration for the whole repository.

- Every notebook runs under nbval in the ``smoke`` profile (``COURSE_TEST_PROFILE`` overrides, e.g. ``cpu``).
- ``--keras-only`` selects the Keras code paths: notebooks whose setup cell asks for Keras, and tests marked
  ``keras``. CI uses it to run them again under the tensorflow and torch backends.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["COURSE_PROFILE"] = os.environ.get("COURSE_TEST_PROFILE", "smoke")
os.environ.setdefault("CI", "true")  # quiet progress bars in the notebooks' kernels


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--keras-only", action="store_true", default=False,
                     help="run only Keras notebooks and tests marked 'keras'")


def _uses_keras(path: Path, _cache: dict[Path, bool] = {}) -> bool:  # noqa: B006 - per-process memo
    if path not in _cache:
        _cache[path] = "keras=True" in path.read_text(encoding="utf-8")
    return _cache[path]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.fspath))
        if path.suffix == ".ipynb" and _uses_keras(path):
            item.add_marker(pytest.mark.keras)
    if config.getoption("--keras-only"):
        keep = [i for i in items if i.get_closest_marker("keras")]
        drop = [i for i in items if not i.get_closest_marker("keras")]
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# ---- per-notebook test time (CI prints a table of them: .ci/run) --------------------------------------------
_TIMES: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        key = Path(path).stem
    elif "::TestStudentVersion_" in report.nodeid:
        key = "student:" + report.nodeid.split("::TestStudentVersion_", 1)[1].split("::", 1)[0]
    else:
        key = "unit tests"
    _TIMES[key] = _TIMES.get(key, 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    out = os.environ.get("COURSE_TEST_TIMES")
    if not out or hasattr(session.config, "workerinput"):  # only the controller writes (pytest-xdist)
        return
    import json

    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps({k: round(v, 1) for k, v in sorted(_TIMES.items())}, indent=1) + "\n")
