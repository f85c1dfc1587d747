"""A grader-style checker for exercises: print how close an answer is, then assert.

>>> check("gradient", [1.0, 2.0], [1.0, 2.0 + 1e-12])
[ok] gradient: allclose (max abs diff 1e-12, rtol 1e-05, atol 1e-08)
True
"""

from __future__ import annotations

from typing import Any

import numpy as np


class CheckFailed(AssertionError):
    """Raised by :func:`check` when the answer is wrong; the message says how wrong."""


def _to_numpy(x: Any) -> Any:
    if hasattr(x, "detach"):  # torch
        x = x.detach().cpu()
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        try:
            return np.asarray(x.numpy())
        except (TypeError, ValueError, AttributeError):
            pass
    return x


def check(name: str, got: Any, expected: Any, *, rtol: float = 1e-5, atol: float = 1e-8, quiet: bool = False) -> bool:
    """Compare ``got`` with ``expected`` like a grader: exact, allclose (with the max difference), or wrong.

    Works on numbers, sequences, NumPy arrays and torch / TensorFlow / JAX tensors; strings and other
    objects are compared with ``==``. Prints one line and returns True, or raises :class:`CheckFailed`.
    """
    g, e = _to_numpy(got), _to_numpy(expected)
    if isinstance(g, (str, bytes, dict, set)) or isinstance(e, (str, bytes, dict, set)):
        if g == e:
            return _report(name, "exact", quiet)
        raise CheckFailed(f"[FAIL] {name}: got {g!r}, expected {e!r}")
    try:
        ga, ea = np.asarray(g, dtype=float), np.asarray(e, dtype=float)
    except (TypeError, ValueError):
        if g == e:
            return _report(name, "exact", quiet)
        raise CheckFailed(f"[FAIL] {name}: got {g!r}, expected {e!r}") from None
    if ga.shape != ea.shape:
        raise CheckFailed(f"[FAIL] {name}: shape {ga.shape} but expected shape {ea.shape}")
    if np.array_equal(ga, ea, equal_nan=True):
        return _report(name, "exact", quiet)
    diff = np.abs(ga - ea)
    max_diff = float(np.nanmax(diff)) if diff.size else 0.0
    if np.allclose(ga, ea, rtol=rtol, atol=atol, equal_nan=True):
        return _report(name, f"allclose (max abs diff {max_diff:.3g}, rtol {rtol:g}, atol {atol:g})", quiet)
    where = np.unravel_index(int(np.nanargmax(diff)), diff.shape) if diff.ndim else ()
    bad = int(np.sum(~np.isclose(ga, ea, rtol=rtol, atol=atol, equal_nan=True)))
    raise CheckFailed(
        f"[FAIL] {name}: max abs diff {max_diff:.3g} at {tuple(int(i) for i in where)} "
        f"(got {ga[where]!r}, expected {ea[where]!r}); {bad} of {ga.size} entries off (rtol {rtol:g}, atol {atol:g})"
    )


def _report(name: str, how: str, quiet: bool) -> bool:
    if not quiet:
        print(f"[ok] {name}: {how}")
    return True
