"""Plots in one style: training curves, image grids, confusion matrices.

Every function returns the matplotlib ``Figure`` (so tests and notebooks can save or inspect it) and draws
into a new figure unless an ``ax`` is given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

#: The course palette (colour-blind safe, Okabe–Ito).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]


def style() -> None:
    """Apply the course's matplotlib style (sizes, grid, palette). ``utils.setup`` calls it."""
    import matplotlib as mpl

    mpl.rcParams.update({
        "figure.figsize": (7.0, 4.0),
        "figure.dpi": 100,
        "savefig.dpi": 120,
        "savefig.bbox": "tight",
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 11,
        "axes.labelsize": 10,
        "legend.fontsize": 9,
        "legend.frameon": False,
        "image.cmap": "viridis",
        "axes.prop_cycle": mpl.cycler(color=PALETTE),
    })


def _not_a_string(value: Any, what: str, example: str) -> None:
    """A ``str`` where a list is expected would be split into letters: say so instead."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{what} is a list, e.g. [{example!r}], not one string: got {value!r}")


def _history_dict(history: Any) -> dict[str, list[float]]:
    h = getattr(history, "history", history)  # a Keras History, or a plain dict
    if not isinstance(h, Mapping) or not h:
        raise ValueError("history must be a Keras History or a non-empty dict of lists")
    out = {}
    for k, v in h.items():
        values = [float(x) for x in np.ravel(np.asarray(v, dtype=float))]
        if values:
            out[str(k)] = values
    return out


def training_curves(history: Any, metrics: Sequence[str] | None = None, *, title: str = "", logy: bool = False):
    """One panel per metric (``loss``, ``accuracy``, …), training and ``val_`` curves together, per epoch.

    ``history`` is a Keras ``History`` or a dict such as ``{"loss": [...], "val_loss": [...]}``.
    """
    import matplotlib.pyplot as plt

    _not_a_string(metrics, "metrics", str(metrics))
    h = _history_dict(history)
    bases = list(metrics) if metrics else [k for k in h if not k.startswith("val_")]
    bases = [b for b in bases if b in h or f"val_{b}" in h]
    if not bases:
        raise ValueError(f"none of the metrics {list(metrics or [])} is in the history (keys: {list(h)})")
    fig, axes = plt.subplots(1, len(bases), figsize=(4.2 * len(bases), 3.2), squeeze=False)
    for ax, base in zip(axes[0], bases):
        for key, label, ls in ((base, "train", "-"), (f"val_{base}", "validation", "--")):
            if key in h:
                ax.plot(np.arange(1, len(h[key]) + 1), h[key], ls, marker="o", ms=3, label=label)
        ax.set(xlabel="epoch", ylabel=base, title=base)
        if logy:
            ax.set_yscale("log")
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def image_grid(images: Any, labels: Sequence[Any] | None = None, *, ncols: int = 10, cmap: str | None = None,
               size: float = 1.1, title: str = "", vmin: float | None = None, vmax: float | None = None):
    """Show images in a grid, each with its label as a title.

    ``images``: (N, H, W) grey or (N, H, W, 3) colour, any numeric dtype (uint8 0–255 or floats).
    Grey images get the ``gray`` colour map unless ``cmap`` is given.
    """
    import matplotlib.pyplot as plt

    imgs = np.asarray(images)
    if imgs.ndim == 4 and imgs.shape[-1] == 1:
        imgs = imgs[..., 0]
    if imgs.ndim not in (3, 4) or len(imgs) == 0:
        raise ValueError(f"images must be (N, H, W) or (N, H, W, 3) with N > 0, got shape {imgs.shape}")
    _not_a_string(labels, "labels", "a label per image")
    if labels is not None and len(labels) != len(imgs):
        raise ValueError(f"{len(labels)} labels for {len(imgs)} images")
    n = len(imgs)
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.3 if labels is not None else 0)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = imgs[i]
        if img.ndim == 3 and img.dtype != np.uint8 and img.max() > 1.0:
            img = np.clip(img / 255.0, 0, 1)
        ax.imshow(img, cmap=cmap or ("gray" if img.ndim == 2 else None), vmin=vmin, vmax=vmax,
                  interpolation="nearest")
        if labels is not None:
            ax.set_title(str(labels[i]), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _labels(y: Any, what: str) -> np.ndarray:
    """Class labels as an int array; floats must be whole numbers (1.0 is 1, 1.5 is an error, not 1)."""
    if hasattr(y, "detach"):  # torch tensors
        y = y.detach().cpu().numpy()
    arr = np.asarray(y).ravel()
    if arr.dtype.kind in "iub":
        return arr.astype(int)
    if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        return arr.astype(int)
    raise ValueError(f"{what} must hold whole-number class labels (use argmax for scores), got dtype "
                     f"{arr.dtype} with values such as {arr[:3].tolist()}")


def confusion_matrix(y_true: Any, y_pred: Any, class_names: Sequence[str] | None = None, *, normalize: bool = True,
                     title: str = "confusion matrix"):
    """Plot the confusion matrix (rows: true class, columns: predicted), row-normalised by default.

    Returns ``(fig, counts)`` where ``counts[i, j]`` is how many samples of class ``i`` were predicted ``j``.
    """
    import matplotlib.pyplot as plt

    _not_a_string(class_names, "class_names", "cat")
    yt, yp = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if yt.shape != yp.shape:
        raise ValueError(f"y_true and y_pred differ in length: {yt.shape} vs {yp.shape}")
    if yt.size and min(yt.min(), yp.min()) < 0:
        raise ValueError("class labels must be non-negative integers")
    k = len(class_names) if class_names is not None else int(max(yt.max(initial=0), yp.max(initial=0)) + 1)
    if class_names is not None and yt.size and max(yt.max(), yp.max()) >= k:
        bad = sorted({int(v) for v in np.concatenate([yt, yp]) if v >= k})
        raise ValueError(f"labels {bad[:10]} are out of range for {k} class names (labels are 0..{k - 1})")
    counts = np.zeros((k, k), dtype=int)
    np.add.at(counts, (yt, yp), 1)
    shown = counts / np.maximum(counts.sum(1, keepdims=True), 1) if normalize else counts
    fig, ax = plt.subplots(figsize=(0.5 * k + 2.5, 0.5 * k + 2))
    im = ax.imshow(shown, cmap="Blues", vmin=0)
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    ax.set(xticks=range(k), yticks=range(k), xlabel="predicted", ylabel="true", title=title)
    ax.set_xticklabels(names, rotation=45, ha="right")
    ax.set_yticklabels(names)
    ax.grid(False)
    for i in range(k):
        for j in range(k):
            v = shown[i, j]
            ax.text(j, i, f"{v:.2f}" if normalize else f"{v}", ha="center", va="center", fontsize=7,
                    color="white" if v > 0.5 * shown.max() else "black")
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig, counts
