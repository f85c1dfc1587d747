"""Finite-difference gradient checking, written once (chapter 02 derives it; later chapters import it).

* :func:`central_diff` — elementwise derivative ``(f(x+h) - f(x-h)) / 2h`` of a vectorised function;
* :func:`num_jacobian` — the central-difference Jacobian of any array function, shape ``f(x).shape + x.shape``;
* :func:`rel_error` — the normwise relative error ``|a - b| / (|a| + |b|)``;
* :func:`grad_check` — compare analytic gradients of a scalar loss with central differences, parameter
  tensor by parameter tensor (optionally a random sample of entries), and count the loss evaluations.

NumPy only. For torch code use ``torch.autograd.gradcheck``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

__all__ = ["GradCheck", "central_diff", "grad_check", "num_jacobian", "rel_error"]


def _step(h: float) -> float:
    if not (isinstance(h, (int, float)) and h > 0):
        raise ValueError(f"the finite-difference step h must be a number > 0, got {h!r}")
    return float(h)


def central_diff(f: Callable, x, h: float = 1e-6):
    """Elementwise derivative estimate ``(f(x + h) - f(x - h)) / 2h`` (error O(h²)); ``f`` acts elementwise."""
    h = _step(h)
    x = np.asarray(x, dtype=float)
    return (np.asarray(f(x + h)) - np.asarray(f(x - h))) / (2 * h)


def num_jacobian(f: Callable, x, h: float = 1e-6) -> np.ndarray:
    """Central-difference Jacobian of ``f`` at ``x``: shape ``f(x).shape + x.shape`` (numerator layout).

    For a scalar ``f`` this is the gradient, with the shape of ``x``. Costs ``2 * x.size`` calls of ``f``.
    """
    h = _step(h)
    x = np.array(x, dtype=float)
    if x.size == 0:
        raise ValueError("num_jacobian: x is empty")
    fx = np.asarray(f(x), dtype=float)
    J = np.zeros(fx.shape + x.shape)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        J[(...,) + idx] = (np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h)
    return J


def rel_error(a, b) -> float:
    """``|a - b| / (|a| + |b|)`` in the Frobenius norm; 0 when both are zero."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: shapes differ, {a.shape} vs {b.shape}")
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - b) / denom)


class GradCheck(NamedTuple):
    max_error: float          # the largest per-tensor relative error
    errors: list[float]       # one relative error per parameter tensor
    evaluations: int          # calls of the loss made by the check (two per checked entry)


def grad_check(loss: Callable[[], float], params: Sequence[np.ndarray], grads: Sequence[np.ndarray], *,
               entries: int | None = None, h: float = 1e-6, seed: int = 0) -> GradCheck:
    """Compare analytic gradients with central differences of ``loss()``.

    ``params`` are the float arrays the loss reads (they are perturbed **in place** and restored);
    ``grads[k]`` is the analytic gradient of ``loss()`` with respect to ``params[k]``. ``entries=n`` checks
    ``n`` random entries per tensor (None: every entry). Use float64: in float32 the round-off of a
    central difference with h = 1e-6 is about 1e-2 relative.
    """
    h = _step(h)
    if len(params) != len(grads) or not params:
        raise ValueError(f"grad_check: {len(params)} parameter tensors but {len(grads)} gradients")
    if entries is not None and (isinstance(entries, bool) or not isinstance(entries, (int, np.integer)) or entries < 1):
        raise ValueError(f"entries must be a whole number >= 1 or None, got {entries!r}")
    r, errors, calls = np.random.default_rng(seed), [], 0
    for P, g in zip(params, grads):
        if np.shape(P) != np.shape(g):
            raise ValueError(f"grad_check: a parameter of shape {np.shape(P)} has a gradient of shape {np.shape(g)}")
        if not np.issubdtype(np.asarray(P).dtype, np.floating):
            raise TypeError("grad_check: parameters must be float arrays (they are perturbed in place)")
        idx = list(np.ndindex(P.shape))
        if entries is not None and entries < len(idx):
            idx = [idx[i] for i in r.choice(len(idx), entries, replace=False)]
        num = np.empty(len(idx))
        for k, i in enumerate(idx):
            old = P[i]
            P[i] = old + h
            lp = loss()
            P[i] = old - h
            lm = loss()
            P[i] = old
            calls += 2
            num[k] = (lp - lm) / (2 * h)
        ana = np.array([g[i] for i in idx], dtype=float)
        errors.append(rel_error(ana, num))
    return GradCheck(max(errors), errors, calls)
