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


_PASSED = 0  # checks passed in this process (utils.exercise counts the ones inside an exercise)


def passed_count() -> int:
    """How many checks have passed in this process so far."""
    return _PASSED


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
    if got is None or expected is None:
        if got is None and expected is None:
            return _report(name, "exact", quiet)
        raise CheckFailed(f"[FAIL] {name}: got {got!r}, expected {expected!r}"
                          + (" (did the function return its result?)" if got is None else ""))
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
    tol = f"rtol {rtol:g}, atol {atol:g}"
    if ga.ndim == 0:
        raise CheckFailed(f"[FAIL] {name}: got {float(ga):.6g}, expected {float(ea):.6g} "
                          f"(abs diff {max_diff:.3g}; {tol})")
    where = np.unravel_index(int(np.nanargmax(diff)), diff.shape)
    bad = int(np.sum(~np.isclose(ga, ea, rtol=rtol, atol=atol, equal_nan=True)))
    raise CheckFailed(
        f"[FAIL] {name}: max abs diff {max_diff:.3g} at {tuple(int(i) for i in where)} "
        f"(got {float(ga[where]):.6g}, expected {float(ea[where]):.6g}); {bad} of {ga.size} entries off ({tol})"
    )


def check_true(name: str, condition: Any, detail: str = "", *, quiet: bool = False) -> bool:
    """Assert a property (``condition`` truthy) like a grader: ``[ok] name`` or :class:`CheckFailed` with ``detail``.

    >>> check_true("probabilities sum to one", abs(0.3 + 0.7 - 1) < 1e-12)
    [ok] probabilities sum to one
    True
    """
    c = _to_numpy(condition)
    if isinstance(c, np.ndarray):
        if c.size != 1:
            raise CheckFailed(f"[FAIL] {name}: the condition is an array of shape {c.shape}; "
                              "reduce it with .all() or .any() first")
        c = c.item()
    if c is None or not bool(c):
        raise CheckFailed(f"[FAIL] {name}" + (f": {detail}" if detail else ""))
    return _report(name, "", quiet)


def _report(name: str, how: str, quiet: bool) -> bool:
    global _PASSED
    _PASSED += 1
    if not quiet:
        print(f"[ok] {name}: {how}" if how else f"[ok] {name}")
    return True


def compare(diff: float, se: float, *, k: float = 2.0, higher_is_better: bool = True) -> str:
    """Verdict on a measured difference ``diff`` (ours minus the other) with standard error ``se``:
    ``"better"`` or ``"worse"`` when ``|diff| > k·se``, else ``"not distinguishable"``.

    ``higher_is_better=False`` for errors and losses (a negative difference is then "better"). The verdict is
    printed next to the numbers instead of asserting an ordering that the noise cannot support.

    >>> compare(0.05, 0.01), compare(0.01, 0.01), compare(-3.0, 1.0, higher_is_better=False)
    ('better', 'not distinguishable', 'better')
    """
    diff, se, k = float(diff), float(se), float(k)
    if not (np.isfinite(diff) and np.isfinite(se) and np.isfinite(k)) or se < 0 or k <= 0:
        raise ValueError(f"compare needs a finite difference, a finite se >= 0 and k > 0 (got {diff}, {se}, {k})")
    if abs(diff) <= k * se:
        return "not distinguishable"
    return "better" if (diff > 0) == higher_is_better else "worse"
