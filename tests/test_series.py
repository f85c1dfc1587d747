"""Tests of utils.series: windows, naive and seasonal baselines, lag regression, RMSE (chapters 08 and 09)."""

import doctest

import numpy as np
import pytest

from utils import series
from utils.series import lag_matrix, lag_regression, persistence, rmse, seasonal_naive, windows


def test_doctests():
    assert doctest.testmod(series).failed == 0


def test_rmse():
    assert rmse([1, 2, 3], [1, 2, 3]) == 0.0
    assert rmse([0, 0], [3, 4]) == pytest.approx(np.sqrt(12.5))
    assert rmse(np.ones((2, 1)), np.zeros(2)) == 1.0          # shapes broadcast, then flattened


def test_windows_match_a_loop():
    x = np.random.default_rng(0).normal(size=30)
    for length, horizon in [(1, 1), (4, 1), (5, 2), (20, 3)]:
        X, y, t = windows(x, length, horizon)
        loop = [(x[i:i + length], x[i + length + horizon - 1]) for i in range(len(x) - length - horizon + 1)]
        assert X.shape == (len(loop), length) and len(y) == len(t) == len(loop)
        assert np.array_equal(X, np.array([a for a, _ in loop])) and np.array_equal(y, [b for _, b in loop])
        assert np.array_equal(x[t], y) and t[-1] == len(x) - 1    # the last value is a target: no window lost


def test_windows_keep_trailing_axes_and_reject_bad_sizes():
    X, y, _ = windows(np.arange(12.0).reshape(6, 2), 2)
    assert X.shape == (4, 2, 2) and y.shape == (4, 2)
    with pytest.raises(ValueError):
        windows(np.arange(3), 3)
    with pytest.raises(ValueError):
        windows(np.arange(10), 0)


def test_persistence_and_seasonal_naive():
    x = np.array([1.0, 2, 4, 8, 16, 32, 64])
    t = np.array([3, 5, 6])
    assert persistence(x, t).tolist() == [4, 16, 32]
    assert persistence(x, t, horizon=2).tolist() == [2, 8, 16]
    assert seasonal_naive(x, t, 2).tolist() == [2, 8, 16]
    # drift: x[t-2] * x[t-1] / x[t-3] -- exact on a geometric series
    assert np.allclose(seasonal_naive(x, t, 2, drift=True), x[t])
    with pytest.raises(IndexError):
        seasonal_naive(x, [2], 2, drift=True)                 # needs x[t - 3]
    with pytest.raises(IndexError):
        persistence(x, [7])


def test_lag_matrix_columns():
    x = np.arange(10.0)
    assert lag_matrix(x, [5, 9], 3).tolist() == [[4, 3, 2], [8, 7, 6]]


def test_lag_regression_recovers_an_autoregression():
    r = np.random.default_rng(1)
    e = r.normal(size=3000)
    x = np.zeros(len(e))
    for i in range(2, len(x)):                                  # AR(2) with an intercept, unit noise
        x[i] = 0.3 + 0.5 * x[i - 1] - 0.2 * x[i - 2] + e[i]
    t = np.arange(2, len(x))
    pred, coef = lag_regression(x, t[:2500], t[2500:], 2)
    assert np.allclose(coef, [0.3, 0.5, -0.2], atol=0.06)
    assert 0.85 < rmse(pred, x[t[2500:]]) < 1.15               # what is left is the noise
    assert rmse(pred, x[t[2500:]]) < rmse(persistence(x, t[2500:]), x[t[2500:]])
