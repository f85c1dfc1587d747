"""One name, one meaning: no function or class is defined in two notebooks, and no notebook defines a function
under the name of a public ``utils`` function (that is either a copy of it or a confusing twin: use the helper,
or name your own by what it does)."""

from __future__ import annotations

import ast
import json
from collections import defaultdict
from pathlib import Path

import utils
from utils import codestyle
from utils.paths import notebook_paths


def notebook_definitions(path) -> dict[str, int]:
    """Top-level ``def``/``class`` names of a notebook's code cells -> the first cell index that defines each."""
    out: dict[str, int] = {}
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        for node in ast.parse(codestyle.without_magics("".join(cell["source"]))).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                out.setdefault(node.name, i)
    return out


def utils_public_names() -> dict[str, str]:
    """Public top-level functions and classes of the ``utils`` modules -> ``module.name`` (read with ast: no
    module is imported, so no framework is loaded)."""
    out: dict[str, str] = {}
    root = Path(utils.__file__).parent
    for path in sorted(root.rglob("*.py")):
        module = ".".join(("utils", *path.relative_to(root).with_suffix("").parts))
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            defines = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            if defines and not node.name.startswith("_"):
                out.setdefault(node.name, module.removesuffix(".__init__"))
    return out


def test_no_name_is_defined_in_two_notebooks():
    where = defaultdict(list)
    for path in notebook_paths():
        for name, cell in notebook_definitions(path).items():
            where[name].append(f"{path.stem} cell {cell}")
    twice = {name: places for name, places in where.items() if len(places) > 1}
    assert not twice, f"defined in more than one notebook (rename by meaning, or move it to utils): {twice}"


def test_no_notebook_redefines_a_utils_function():
    public = utils_public_names()
    shadows = {f"{path.stem} cell {cell}: {name}": public[name]
               for path in notebook_paths() for name, cell in notebook_definitions(path).items() if name in public}
    assert not shadows, f"notebook definitions named like a utils helper (use the helper or rename): {shadows}"


def test_the_name_check_sees_definitions(tmp_path):
    code = "!pip -q install x\ndef f():\n    def inner(): pass\nclass C: pass"
    nb = {"cells": [{"cell_type": "code", "source": code}, {"cell_type": "markdown", "source": "def g(): pass"}]}
    path = tmp_path / "x.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    assert notebook_definitions(path) == {"f": 0, "C": 0}
    assert utils_public_names()["count_params"] == "utils.train"
