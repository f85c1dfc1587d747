"""utils.codestyle: the mechanical one-statement-per-line and cell-length repairs behind `nbtools tidy`."""

import ast
import json

import pytest

from utils import nbtools
from utils.codestyle import split_joined_statements, split_long_cell, tidy_cells


def _same_program(a: str, b: str) -> bool:
    return ast.dump(ast.parse(a)) == ast.dump(ast.parse(b))


def test_joined_statements_go_on_their_own_lines_at_the_block_indent():
    src = "x = 1; y = 2\nfor i in range(3):\n    a = i; b = a  # comment stays\n    print(a, b)\n"
    out, n = split_joined_statements(src)
    assert n == 2
    assert out == "x = 1\ny = 2\nfor i in range(3):\n    a = i\n    b = a  # comment stays\n    print(a, b)\n"
    assert _same_program(src, out)


def test_non_ascii_text_before_the_semicolon_keeps_the_columns_right():
    src = 'ax.set(title="‖∂h/∂x‖ (log)"); ax.legend()\n'
    out, n = split_joined_statements(src)
    assert (out, n) == ('ax.set(title="‖∂h/∂x‖ (log)")\nax.legend()\n', 1)


def test_semicolons_inside_strings_and_inline_bodies_are_left_alone():
    src = 's = "a; b"\nif s: t = 1; u = 2\n'
    out, n = split_joined_statements(src)
    assert (out, n) == (src, 0)


def test_a_cell_with_magics_is_refused_by_the_parser():
    with pytest.raises(SyntaxError):
        split_joined_statements("%pip install x\n")


def _long(n_stmts: int, extra: str = "") -> str:
    return "\n".join(f"v{i} = {i}" for i in range(n_stmts)) + extra


def test_a_long_cell_is_cut_between_statements_into_pieces_of_at_most_25_lines():
    src = _long(60)
    pieces = split_long_cell(src)
    assert len(pieces) == 3 and all(len(p.splitlines()) <= 25 for p in pieces)
    assert _same_program(src, "\n".join(pieces))


def test_functions_stay_whole_and_take_their_comments_and_decorators_along():
    fn = "# helper\n@staticmethod\ndef f(x):\n" + "".join(f"    y{i} = x\n" for i in range(10)) + "    return x\n"
    src = _long(20) + "\n\n" + fn + "\n" + _long(5)
    pieces = split_long_cell(src)
    assert any(p.startswith("# helper\n@staticmethod\ndef f(x):") for p in pieces)
    assert _same_program(src, "\n".join(pieces))


def test_exercise_cells_and_short_cells_are_never_cut():
    assert len(split_long_cell("def f():\n    ### BEGIN SOLUTION\n" + "    a = 1\n" * 40)) == 1
    assert len(split_long_cell("with utils.exercise(1, 't'):\n    pass\n" + _long(40))) == 1
    assert split_long_cell(_long(10)) == [_long(10)]


def test_no_cut_after_a_bare_expression_or_once_plotting_has_started():
    expr = "\n".join(f"f({i})" for i in range(40))          # every statement is a displayed expression
    assert split_long_cell(expr) == [expr]
    plot = "fig, ax = plt.subplots()\n" + _long(40)
    assert split_long_cell(plot) == [plot]


def test_tidy_cells_counts_what_it_did_and_leaves_markdown_alone():
    cells = [("md", "a; b"), ("code", "%time x = 1"), ("code", "a = 1; b = 2"), ("code", _long(30))]
    new, stats = tidy_cells(cells)
    assert new[:2] == cells[:2] and new[2] == ("code", "a = 1\nb = 2")
    assert stats == {"joined": 1, "cuts": 1, "long": 0} and len(new) == 5


def test_the_tidy_command_rewrites_a_notebook_in_place(tmp_path, capsys):
    p = nbtools.write_notebook(tmp_path / "nb.ipynb", [("md", "# t"), ("code", "a = 1; b = 2")])
    assert nbtools.main(["tidy", str(p)]) == 0
    assert json.loads(p.read_text())["cells"][1]["source"] == "a = 1\nb = 2"
    assert "1 joined statements split" in capsys.readouterr().out


def test_without_magics_blanks_ipython_lines_and_keeps_line_numbers():
    from utils import codestyle

    src = "import os\n!pip install x\n  %timeit f()\nx = 1"
    out = codestyle.without_magics(src)
    assert out.splitlines() == ["import os", "", "", "x = 1"]
    compile(out, "<cell>", "exec")
