"""Timing heavy cells, and progress bars that stay quiet in CI."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from .device import is_ci

T = TypeVar("T")


class Timer:
    """Elapsed wall time of a ``with timer(...)`` block: ``.seconds`` (live inside the block, final after)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.start = time.perf_counter()
        self.end: float | None = None

    @property
    def seconds(self) -> float:
        return (self.end if self.end is not None else time.perf_counter()) - self.start

    def __repr__(self) -> str:
        return f"Timer({self.label!r}, {self.seconds:.2f} s)"


@contextmanager
def timer(label: str = "cell", *, quiet: bool = False) -> Iterator[Timer]:
    """Time a block and print ``⏱ label: 1.23 s`` at its end; the yielded :class:`Timer` keeps the value."""
    t = Timer(label)
    try:
        yield t
    finally:
        t.end = time.perf_counter()
        if not quiet:
            print(f"⏱ {label}: {t.seconds:.2f} s")


def best_time(fn, repeats: int = 3) -> tuple[float, object]:
    """``(seconds, result)``: the fastest of ``repeats`` calls of ``fn()`` (the least disturbed by other work on
    the machine) and the last call's result. For speed ratios that are recorded, never asserted."""
    if not isinstance(repeats, int) or isinstance(repeats, bool) or repeats < 1:
        raise ValueError(f"repeats must be a positive int, got {repeats!r}")
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def progress(iterable: Iterable[T], desc: str = "", total: int | None = None, **kwargs) -> Iterable[T]:
    """``tqdm`` over ``iterable`` (the notebook widget in Jupyter); silent in CI or with ``disable=True``."""
    from tqdm.auto import tqdm

    kwargs.setdefault("disable", is_ci())
    return tqdm(iterable, desc=desc, total=total, **kwargs)
