"""Time-series helpers shared by the recurrent chapters (08, 09): sliding windows, the naive baselines every
forecast must beat, a linear autoregression on lags, and the RMSE.

Conventions: a series is a 1-D array ``x``; a forecast target is named by its index ``t`` into ``x``; every
baseline predicts ``x[t]`` from values before ``t`` only (one step ahead, true past values as inputs).

>>> x = np.arange(10.0)
>>> X, y, t = windows(x, 3)
>>> X[0].tolist(), float(y[0]), int(t[0])
([0.0, 1.0, 2.0], 3.0, 3)
>>> persistence(x, t)[:2].tolist()
[2.0, 3.0]
"""

from __future__ import annotations

import numpy as np

__all__ = ["lag_matrix", "lag_regression", "persistence", "rmse", "seasonal_naive", "windows"]


def rmse(pred, target) -> float:
    """Root mean squared error of ``pred`` against ``target`` (any shapes that broadcast; flattened)."""
    pred, target = np.asarray(pred, dtype=float), np.asarray(target, dtype=float)
    return float(np.sqrt(np.mean((pred - target) ** 2)))


def windows(x, length: int, horizon: int = 1):
    """All sliding windows of ``length`` values of ``x`` and the value ``horizon`` steps after each window's end.

    Returns ``(X, y, t)``: ``X[i] = x[i:i+length]``, ``y[i] = x[t[i]]`` with ``t[i] = i + length + horizon - 1``.
    Exactly ``len(x) - length - horizon + 1`` rows (every usable window, none left empty). ``horizon=1`` is the
    next value; ``horizon=2`` skips one step. Works on any array whose first axis is time.
    """
    x = np.asarray(x)
    if length < 1 or horizon < 1:
        raise ValueError(f"length and horizon must be >= 1, got {length}, {horizon}")
    n = len(x) - length - horizon + 1
    if n < 1:
        raise ValueError(f"a series of {len(x)} values has no window of {length} with horizon {horizon}")
    idx = np.arange(n)[:, None] + np.arange(length)
    t = np.arange(n) + length + horizon - 1
    return x[idx], x[t], t


def _targets(x, t, need: int) -> tuple[np.ndarray, np.ndarray]:
    x, t = np.asarray(x, dtype=float), np.asarray(t)
    if t.size and (t.min() < need or t.max() >= len(x)):
        raise IndexError(f"targets must lie in [{need}, {len(x)}) to have {need} past values")
    return x, t


def persistence(x, t, horizon: int = 1) -> np.ndarray:
    """The naive forecast "repeat the last known value": ``x[t - horizon]`` for every target index ``t``."""
    x, t = _targets(x, t, horizon)
    return x[t - horizon]


def seasonal_naive(x, t, season: int, drift: bool = False) -> np.ndarray:
    """The value one season earlier, ``x[t - season]``.

    With ``drift=True`` it is scaled by the latest growth over one season, ``x[t-1] / x[t-1-season]``:
    last year's month times this year's year-on-year ratio (for a positive series whose seasonal swing grows
    with its level, e.g. the airline passengers).
    """
    x, t = _targets(x, t, season + (1 if drift else 0))
    pred = x[t - season]
    return pred * x[t - 1] / x[t - 1 - season] if drift else pred


def lag_matrix(x, t, lags: int) -> np.ndarray:
    """``(len(t), lags)`` matrix of past values: column ``k`` holds ``x[t - 1 - k]``."""
    x, t = _targets(x, t, lags)
    return x[np.asarray(t)[:, None] - 1 - np.arange(lags)]


def lag_regression(x, t_train, t_test, lags: int):
    """Ordinary least squares of ``x[t]`` on an intercept and its ``lags`` previous values.

    Fitted on the targets ``t_train``; returns ``(predictions at t_test, coefficients [intercept, lag 1, ...])``.
    A linear autoregression, AR(lags): the strongest *simple* baseline for a series with a season shorter
    than ``lags``.
    """
    A = np.c_[np.ones(len(t_train)), lag_matrix(x, t_train, lags)]
    coef = np.linalg.lstsq(A, np.asarray(x, dtype=float)[np.asarray(t_train)], rcond=None)[0]
    return np.c_[np.ones(len(t_test)), lag_matrix(x, t_test, lags)] @ coef, coef
