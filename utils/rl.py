"""Reinforcement-learning helpers (chapter 14): the small, tested pieces a DQN is built from.

- :func:`q_learning_update`  the tabular Q-learning update, in place
- :func:`bellman_targets`    :math:`r + \\gamma (1 - \\text{done}) \\max_{a'} Q(s', a')` for a batch (NumPy or torch)
- :func:`linear_epsilon`     an ε-greedy schedule: random during observation, then linear annealing, then flat
- :class:`ReplayBuffer`      a fixed-capacity ring buffer of named NumPy fields with uniform sampling
- :func:`wilson_interval`    the Wilson score interval of a binomial proportion (win rates, accuracies)

The chapter's notebook lets the student write each of them first (its exercises) and then uses these versions.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def q_learning_update(Q: np.ndarray, s: int, a: int, r: float, s_next: int, done: bool, alpha: float,
                      gamma: float) -> float:
    """One tabular Q-learning step on ``Q`` (shape ``(n_states, n_actions)``), in place; returns the TD error.

    :math:`Q(s,a) \\leftarrow Q(s,a) + \\alpha\\,[r + \\gamma \\max_{a'} Q(s',a') - Q(s,a)]`, with no bootstrap
    (target ``r``) when the transition ends the episode.
    """
    target = r if done else r + gamma * float(np.max(Q[s_next]))
    td = target - Q[s, a]
    Q[s, a] += alpha * td
    return float(td)


def bellman_targets(r: Any, done: Any, q_next: Any, gamma: float) -> Any:
    """DQN regression targets :math:`y = r + \\gamma (1-d) \\max_{a'} Q(s', a')` for a batch.

    ``r`` and ``done`` have shape ``(B,)``; ``q_next`` is ``(B, n_actions)``, the Q-values of the next states
    (from the target network, or from the online network when there is none). Works on NumPy arrays and on
    torch tensors (the result has the type of ``q_next``).
    """
    if hasattr(q_next, "detach"):  # torch
        import torch

        r_t = torch.as_tensor(r, dtype=q_next.dtype, device=q_next.device)
        d_t = torch.as_tensor(done, dtype=q_next.dtype, device=q_next.device)
        return r_t + gamma * (1 - d_t) * q_next.max(dim=1).values
    q_next = np.asarray(q_next, dtype=float)
    return np.asarray(r, dtype=float) + gamma * (1 - np.asarray(done, dtype=float)) * q_next.max(axis=1)


def linear_epsilon(game: Any, *, start: float, end: float, n_observe: int, n_anneal: int) -> Any:
    """ε for (0-based) game number ``game``: 1 (purely random) for the first ``n_observe`` games, then
    linear from ``start`` to ``end`` over ``n_anneal`` games, then ``end``. Vectorised over ``game``."""
    g = np.asarray(game, dtype=float)
    frac = np.clip((g - n_observe) / max(n_anneal, 1), 0.0, 1.0)
    eps = np.where(g < n_observe, 1.0, start + (end - start) * frac)
    return float(eps) if eps.ndim == 0 else eps


class ReplayBuffer:
    """Experience replay: a ring buffer of named fields; the oldest entries are overwritten when it is full.

    >>> buf = ReplayBuffer(4, a=((), np.int64), s=((2,), np.float32))
    >>> buf.add(a=np.arange(6), s=np.zeros((6, 2)))
    >>> len(buf), sorted(buf.fields["a"].tolist())      # 6 added, capacity 4: entries 0 and 1 are gone
    (4, [2, 3, 4, 5])
    """

    def __init__(self, capacity: int, **fields: tuple[tuple[int, ...], Any]) -> None:
        if capacity < 1 or not fields:
            raise ValueError("a replay buffer needs a capacity >= 1 and at least one field")
        self.capacity = int(capacity)
        self.fields = {k: np.zeros((self.capacity, *shape), dtype=dtype) for k, (shape, dtype) in fields.items()}
        self.ptr = 0  # where the next entry goes
        self.size = 0  # how many entries are stored

    def __len__(self) -> int:
        return self.size

    def add(self, **batch: Any) -> None:
        """Append a batch of transitions (every field, each with the same leading length)."""
        if set(batch) != set(self.fields):
            raise ValueError(f"add() needs exactly the fields {sorted(self.fields)}, got {sorted(batch)}")
        n = {len(np.asarray(v)) for v in batch.values()}
        if len(n) != 1:
            raise ValueError("every field of a batch must have the same length")
        n = n.pop()
        idx = (self.ptr + np.arange(n)) % self.capacity
        for k, v in batch.items():
            self.fields[k][idx] = v
        self.ptr = int((self.ptr + n) % self.capacity)
        self.size = min(self.size + n, self.capacity)

    def sample(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """``n`` transitions drawn uniformly with replacement from the stored ones (as the book's code does)."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        idx = rng.integers(0, self.size, size=n)
        return {k: v[idx] for k, v in self.fields.items()}


def wilson_interval(k: Any, n: Any, z: float = 1.96) -> tuple[Any, Any]:
    """The Wilson score interval ``(low, high)`` for ``k`` successes in ``n`` trials (default 95 %).

    Unlike the normal approximation it stays inside [0, 1] and behaves at rates near 0 or 1.
    """
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    if np.any(n <= 0) or np.any((k < 0) | (k > n)):
        raise ValueError("need 0 <= k <= n and n > 0")
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo, hi = centre - half, centre + half
    if lo.ndim == 0:
        return float(max(lo, 0.0)), float(min(hi, 1.0))
    return np.clip(lo, 0, 1), np.clip(hi, 0, 1)


def binomial_se(p: float, n: int) -> float:
    """The standard error :math:`\\sqrt{p(1-p)/n}` of a proportion measured on ``n`` trials."""
    return math.sqrt(p * (1 - p) / n)
