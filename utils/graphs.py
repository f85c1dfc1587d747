"""Drawing small directed graphs (computational graphs, unrolled RNNs, cells) with matplotlib only.

:func:`draw` takes the nodes as ``{node: label}`` and the edges as ``(src, dst)`` pairs in data-flow
direction, optionally ``(src, dst, label)`` or ``(src, dst, label, colour)``. Positions come from ``pos``
(``{node: (x, y)}``) or, without it, from :func:`layered_layout`: every node sits in a column by its
longest path to an output, inputs on the left, the output on the right. Nodes can be any hashable objects
(autograd nodes, ``Value``s, strings).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

__all__ = ["draw", "layered_layout"]


def _edges(edges: Iterable, nodes: Mapping) -> list[tuple[Any, Any, str, str]]:
    out = []
    for e in edges:
        if not isinstance(e, tuple) or not 2 <= len(e) <= 4:
            raise ValueError(f"an edge is (src, dst[, label[, colour]]), got {e!r}")
        src, dst, label, colour = (*e, "", "0.45")[:4] if len(e) == 2 else (*e, "0.45")[:4]
        label = "" if label is None else label
        for end in (src, dst):
            if end not in nodes:
                raise KeyError(f"edge {label or ''} ({src!r} -> {dst!r}) names a node that is not in `nodes`: {end!r}")
        out.append((src, dst, str(label), colour))
    return out


def layered_layout(nodes: Iterable[Hashable], edges: Iterable) -> dict:
    """``{node: (x, y)}``: column ``-d`` for a node whose longest path to a sink has ``d`` edges; the nodes
    of a column are spread evenly around ``y = 0``. Raises ``ValueError`` on a cycle."""
    nodes = list(nodes)
    succ: dict = {n: [] for n in nodes}
    for e in edges:
        succ[e[0]].append(e[1])
    depth: dict = {}
    visiting: set = set()

    def dist(n):
        if n in depth:
            return depth[n]
        if n in visiting:
            raise ValueError("layered_layout: the graph has a cycle (pass explicit positions with pos=)")
        visiting.add(n)
        depth[n] = 1 + max((dist(d) for d in succ[n]), default=-1)
        visiting.discard(n)
        return depth[n]

    cols: dict = {}
    for n in nodes:
        cols.setdefault(dist(n), []).append(n)
    return {n: (-d, i - (len(ns) - 1) / 2) for d, ns in cols.items() for i, n in enumerate(ns)}


def draw(ax, nodes: Mapping, edges: Iterable, *, pos: Mapping | None = None, title: str = "", fontsize: float = 8,
         facecolor: str = "#E6F0FA", highlight: Mapping | None = None, margin: float = 0.6) -> dict:
    """Draw the graph into ``ax``: a rounded box per node, an arrow per edge (from the source's box to the
    destination's box), edge labels at the arrow's midpoint. ``highlight`` maps nodes to a face colour.
    Returns ``{node: text artist}``."""
    if not isinstance(nodes, Mapping) or not nodes:
        raise ValueError("nodes must be a non-empty mapping {node: label}")
    edge_list = _edges(edges, nodes)
    pos = dict(pos) if pos is not None else layered_layout(nodes, edge_list)
    missing = [n for n in nodes if n not in pos]
    if missing:
        raise KeyError(f"no position for node(s) {missing[:3]!r}")
    from .plots import PALETTE

    highlight = dict(highlight or {})
    texts = {n: ax.text(*pos[n], str(label), ha="center", va="center", fontsize=fontsize, zorder=3,
                        bbox=dict(boxstyle="round", fc=highlight.get(n, facecolor), ec=PALETTE[0]))
             for n, label in nodes.items()}
    for src, dst, label, colour in edge_list:
        ax.annotate("", xy=pos[dst], xytext=pos[src],
                    arrowprops=dict(arrowstyle="->", color=colour, shrinkA=0, shrinkB=0,
                                    patchA=texts[src].get_bbox_patch(), patchB=texts[dst].get_bbox_patch()))
        if label:
            (x0, y0), (x1, y1) = pos[src], pos[dst]
            ax.text((x0 + x1) / 2, (y0 + y1) / 2, label, color=colour, fontsize=fontsize, ha="center", va="bottom")
    xs, ys = [p[0] for p in pos.values()], [p[1] for p in pos.values()]
    ax.set(xlim=(min(xs) - margin, max(xs) + margin), ylim=(min(ys) - margin, max(ys) + margin), title=title)
    ax.axis("off")
    return texts
