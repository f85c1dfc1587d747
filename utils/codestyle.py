"""Mechanical code-style repairs for notebook cells (house rules: code cells of at most 25 lines, one statement
per line). ``python -m utils.nbtools tidy NOTEBOOK…`` applies them in place.

Both repairs are syntax-aware (``ast``) and never change what a cell computes:

- :func:`split_joined_statements` puts ``a; b`` on two lines at the block's indentation; a body written on its
  header's line (``if x: a; b``) is left alone.
- :func:`split_long_cell` cuts a long cell between top-level statements (keeping the comments just above a
  statement with it), never inside an exercise (solution markers, ``utils.exercise``), never after a bare
  expression (a new cell would display its value) and never once a figure is being built (a figure is shown and
  closed at the end of its cell).
"""

from __future__ import annotations

import ast
import re

MAX_LINES = 25
_PLOTTING = re.compile(r"\b(plt\.|fig\b|axes\b|ax\.|plots\.|graphs\.draw)")


def _chars(line: str, byte_offset: int) -> int:
    """ast's column offsets count UTF-8 bytes; string slicing counts characters."""
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8"))


def without_magics(src: str) -> str:
    """``src`` with its IPython lines (``!git clone``, ``%timeit``) blanked, so that the rest parses as Python;
    line numbers are kept."""
    return "\n".join("" if line.lstrip().startswith(("!", "%")) else line for line in src.splitlines())


def split_joined_statements(src: str) -> tuple[str, int]:
    """``(new source, number of splits)``: every ``a; b`` on its own lines. Raises ``SyntaxError`` if ``src``
    does not parse (e.g. a cell with IPython magics)."""
    tree = ast.parse(src)
    lines = src.splitlines(keepends=True)
    edits = []
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            body = getattr(node, field, None)
            if not isinstance(body, list) or not body or not isinstance(body[0], ast.stmt):
                continue
            first_line = lines[body[0].lineno - 1]
            if first_line[:_chars(first_line, body[0].col_offset)].strip():  # body on the header's line
                continue
            indent = first_line[:_chars(first_line, body[0].col_offset)]
            for a, b in zip(body, body[1:]):
                if b.lineno == a.end_lineno:
                    edits.append((a.end_lineno - 1, a.end_col_offset, b.col_offset, indent))
    for li, c0, c1, indent in sorted(edits, reverse=True):
        line = lines[li]
        c0, c1 = _chars(line, c0), _chars(line, c1)
        if line[c0:c1].strip() != ";":
            raise ValueError(f"unexpected text between two statements: {line[c0:c1]!r} in {line!r}")
        lines[li] = line[:c0] + "\n" + indent + line[c1:]
    out = "".join(lines)
    ast.parse(out)
    return out, len(edits)


def split_long_cell(src: str, max_lines: int = MAX_LINES) -> list[str]:
    """``src`` cut into cells of at most ``max_lines`` lines where that is safe (see the module docstring); the
    last piece may stay longer when no safe cut exists. ``[src]`` when nothing is cut."""
    lines = src.splitlines()
    if len(lines) <= max_lines or "### BEGIN" in src or "utils.exercise(" in src:
        return [src]
    try:
        tree = ast.parse(src)
    except SyntaxError:
        return [src]
    cuts = []
    for prev, stmt in zip(tree.body, tree.body[1:]):
        start = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])]) - 1
        while start > 0 and lines[start - 1].lstrip().startswith("#"):
            start -= 1
        if isinstance(prev, ast.Expr) or any(_PLOTTING.search(line) for line in lines[:start]):
            continue
        cuts.append(start)
    pieces, begin = [], 0
    while len(lines) - begin > max_lines:
        options = [c for c in cuts if begin < c <= begin + max_lines]
        if not options:
            break
        after_blank = [c for c in options if not lines[c - 1].strip()]
        cut = max(after_blank or options)
        pieces.append("\n".join(lines[begin:cut]).rstrip())
        begin = cut
        while begin < len(lines) and not lines[begin].strip():
            begin += 1
    pieces.append("\n".join(lines[begin:]).rstrip())
    for piece in pieces:
        ast.parse(piece)
    return pieces


def tidy_cells(cells: list[tuple[str, str]], max_lines: int = MAX_LINES) -> tuple[list[tuple[str, str]], dict]:
    """Apply both repairs to ``[(kind, source)]`` cells; returns the new cells and counts of what was done."""
    out, stats = [], {"joined": 0, "cuts": 0, "long": 0}
    for kind, src in cells:
        if kind != "code":
            out.append((kind, src))
            continue
        try:
            src, n = split_joined_statements(src)
        except SyntaxError:                      # magics (the setup cell): leave the cell as it is
            out.append((kind, src))
            continue
        stats["joined"] += n
        pieces = split_long_cell(src, max_lines)
        stats["cuts"] += len(pieces) - 1
        stats["long"] += sum(len(p.splitlines()) > max_lines for p in pieces)
        out += [("code", p) for p in pieces]
    return out, stats
