"""Datasets for chapter 03's ``DataLoader`` worker demos.

They live in a module, not in the notebook, because ``DataLoader`` workers started with *spawn* (the default
on macOS and Windows, and on Linux from Python 3.14) re-import the dataset's class by name: a class defined in
a notebook's ``__main__`` cannot be found there. Classes from an importable module work with every start method.
"""

from __future__ import annotations

import time

import numpy as np

try:  # torch is optional for `import utils`; these classes need it
    from torch.utils.data import Dataset, IterableDataset, get_worker_info
except ImportError:  # pragma: no cover - torch is in requirements.txt
    Dataset = IterableDataset = object

    def get_worker_info():
        return None

__all__ = ["Countdown", "Draws", "SlowDataset"]


class SlowDataset(Dataset):
    """``n`` items, each taking ``delay`` seconds to "read"; item ``i`` is ``(i, worker id or -1)``."""

    def __init__(self, n: int, delay: float = 0.005) -> None:
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be a whole number >= 0, got {n!r}")
        if not (isinstance(delay, (int, float)) and delay >= 0):
            raise ValueError(f"delay must be >= 0 seconds, got {delay!r}")
        self.n, self.delay = n, float(delay)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        if not 0 <= i < self.n:
            raise IndexError(i)
        time.sleep(self.delay)                       # pretend to read and decode a file
        info = get_worker_info()
        return i, -1 if info is None else info.id


class Draws(Dataset):
    """Eight random triples: (own generator made in ``__init__``, ``np.random``, ``torch.rand``).

    The own generator is copied into every worker unchanged, so its draws repeat across workers; the global
    NumPy and torch generators are reseeded per worker by the ``DataLoader``.
    """

    def __init__(self, n: int = 8, seed: int = 0) -> None:
        self.n = n
        self.rng = np.random.default_rng(seed)       # created once, then copied into every worker

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        import torch

        return torch.tensor([self.rng.random(), np.random.rand(), torch.rand(()).item()], dtype=torch.float64)


class Countdown(IterableDataset):
    """The stream ``n, n-1, ..., 1`` (no ``__len__``, no indexing, no sharding: every worker yields it all)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __iter__(self):
        return iter(range(self.n, 0, -1))
