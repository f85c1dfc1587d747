"""utils.rl: the tabular update, Bellman targets, the ε schedule, the replay buffer and the Wilson interval."""

from __future__ import annotations

import numpy as np
import pytest

from utils import rl


def test_q_learning_update_bootstraps_only_when_not_done():
    Q = np.array([[0.0, 0.5, -0.2], [0.1, 0.3, 0.9]])
    td = rl.q_learning_update(Q, 0, 1, 0.0, 1, False, 0.5, 0.9)
    assert td == pytest.approx(0.9 * 0.9 - 0.5)
    assert Q[0, 1] == pytest.approx(0.5 + 0.5 * (0.81 - 0.5))
    rl.q_learning_update(Q, 1, 2, -1.0, 0, True, 1.0, 0.9)
    assert Q[1, 2] == pytest.approx(-1.0)
    assert Q[0, 0] == 0.0 and Q[1, 0] == 0.1  # other entries untouched


def test_q_learning_converges_on_a_deterministic_chain():
    # states 0 -> 1 -> 2 -> end; action 1 earns +1 at the last step, action 0 earns 0
    Q, gamma, rng = np.zeros((3, 2)), 0.9, np.random.default_rng(0)
    for _ in range(2000):
        s = 0
        while True:
            a = int(rng.integers(2))
            done = s == 2
            rl.q_learning_update(Q, s, a, float(done and a == 1), min(s + 1, 2), done, 0.5, gamma)
            if done:
                break
            s += 1
    expected = np.array([[gamma**2, gamma**2], [gamma, gamma], [0.0, 1.0]])
    np.testing.assert_allclose(Q, expected, atol=1e-9)


def test_bellman_targets_numpy_and_torch_agree_with_a_loop():
    rng = np.random.default_rng(1)
    r, d, q = rng.choice([-1.0, 0.0, 1.0], 64), rng.integers(0, 2, 64).astype(float), rng.normal(size=(64, 3))
    loop = np.array([r[i] if d[i] else r[i] + 0.99 * q[i].max() for i in range(64)])
    np.testing.assert_allclose(rl.bellman_targets(r, d, q, 0.99), loop)
    torch = pytest.importorskip("torch")
    out = rl.bellman_targets(torch.tensor(r), torch.tensor(d), torch.tensor(q), 0.99)
    assert isinstance(out, torch.Tensor)
    np.testing.assert_allclose(out.numpy(), loop)


def test_linear_epsilon_observes_anneals_and_stays():
    g = np.arange(1000)
    eps = rl.linear_epsilon(g, start=1.0, end=0.05, n_observe=100, n_anneal=500)
    ref = np.where(g < 100, 1.0, np.interp(g, [100, 600], [1.0, 0.05]))
    np.testing.assert_allclose(eps, ref, atol=1e-12)
    assert rl.linear_epsilon(5000, start=0.1, end=1e-4, n_observe=10, n_anneal=100) == pytest.approx(1e-4)
    assert isinstance(rl.linear_epsilon(3, start=0.1, end=0.0, n_observe=10, n_anneal=10), float)


def test_replay_buffer_ring_and_uniform_sampling():
    buf = rl.ReplayBuffer(10, i=((), np.int64), x=((2,), np.float32))
    buf.add(i=np.arange(7), x=np.arange(14).reshape(7, 2))
    assert len(buf) == 7 and buf.ptr == 7
    s = buf.sample(5000, np.random.default_rng(0))
    assert s["i"].max() < 7 and (s["x"][:, 0] == 2 * s["i"]).all()  # only filled rows, fields aligned
    counts = np.bincount(s["i"], minlength=7)
    assert counts.min() > 0.8 * 5000 / 7 and counts.max() < 1.2 * 5000 / 7
    buf.add(i=np.arange(7, 15), x=np.zeros((8, 2)))  # wraps around: 15 added, capacity 10
    assert len(buf) == 10 and buf.ptr == 5
    assert sorted(buf.fields["i"].tolist()) == list(range(5, 15))
    with pytest.raises(ValueError):
        buf.add(i=np.arange(2))  # a field missing
    with pytest.raises(ValueError):
        rl.ReplayBuffer(5, i=((), int)).sample(1, np.random.default_rng(0))


def test_wilson_interval_matches_scipy_and_stays_in_range():
    stats = pytest.importorskip("scipy.stats")
    for k, n in [(0, 20), (42, 100), (87, 100), (1000, 1000), (3, 7)]:
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        lo, hi = rl.wilson_interval(k, n)
        assert lo == pytest.approx(ci.low, rel=1e-3, abs=1e-6) and hi == pytest.approx(ci.high, rel=1e-3, abs=1e-6)
        assert 0.0 <= lo <= k / n <= hi <= 1.0
    lo, hi = rl.wilson_interval(np.array([1, 5]), np.array([10, 10]))
    assert lo.shape == (2,) and (lo < hi).all()
    with pytest.raises(ValueError):
        rl.wilson_interval(11, 10)
    assert rl.binomial_se(0.5, 100) == pytest.approx(0.05)
