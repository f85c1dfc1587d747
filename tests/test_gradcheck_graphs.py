import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from utils import gradcheck, graphs  # noqa: E402


def test_central_diff_and_jacobian():
    x = np.linspace(-2, 2, 9)
    np.testing.assert_allclose(gradcheck.central_diff(np.sin, x), np.cos(x), rtol=1e-8)
    A = np.arange(12.0).reshape(3, 4)
    np.testing.assert_allclose(gradcheck.num_jacobian(lambda v: A @ v, np.ones(4)), A, atol=1e-7)
    M = np.array([[1.0, 2.0], [0.0, 3.0]])
    np.testing.assert_allclose(gradcheck.num_jacobian(lambda v: v @ M @ v, [0.5, -1.0]), (M + M.T) @ [0.5, -1.0],
                               rtol=1e-7)
    assert gradcheck.num_jacobian(lambda X: X.sum(0), np.ones((2, 3))).shape == (3, 2, 3)
    with pytest.raises(ValueError):
        gradcheck.num_jacobian(np.sin, np.ones(3), h=0)
    with pytest.raises(ValueError):
        gradcheck.num_jacobian(np.sin, np.array([]))


def test_rel_error():
    assert gradcheck.rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0 and gradcheck.rel_error([0.0], [0.0]) == 0.0
    assert gradcheck.rel_error([1.0, 0.0], [-1.0, 0.0]) == 1.0
    with pytest.raises(ValueError):
        gradcheck.rel_error([1.0], [1.0, 2.0])


def test_grad_check_finds_right_and_wrong_gradients_and_counts_calls():
    r = np.random.default_rng(0)
    W, x = r.normal(size=(3, 4)), r.normal(size=4)
    loss = lambda: float(np.sum(np.tanh(W @ x) ** 2))
    good = (2 * np.tanh(W @ x) * (1 - np.tanh(W @ x) ** 2))[:, None] * x[None, :]
    res = gradcheck.grad_check(loss, [W], [good])
    assert res.max_error < 1e-8 and res.evaluations == 2 * W.size
    W_before = W.copy()
    bad = gradcheck.grad_check(loss, [W], [good * 1.01])
    assert bad.max_error > 1e-3
    np.testing.assert_array_equal(W, W_before)                                   # parameters restored
    sampled = gradcheck.grad_check(loss, [W], [good], entries=5, seed=1)
    assert sampled.evaluations == 10 and sampled.max_error < 1e-8
    with pytest.raises(ValueError):
        gradcheck.grad_check(loss, [W], [])
    with pytest.raises(ValueError):
        gradcheck.grad_check(loss, [W], [good[:, :2]])
    with pytest.raises(ValueError):
        gradcheck.grad_check(loss, [W], [good], entries=0)
    with pytest.raises(TypeError):
        gradcheck.grad_check(lambda: 0.0, [np.zeros(3, dtype=int)], [np.zeros(3)])


def test_layered_layout_columns_and_cycle():
    pos = graphs.layered_layout(["a", "b", "c", "out"], [("a", "c"), ("b", "c"), ("c", "out"), ("a", "out")])
    assert pos["out"][0] == 0 and pos["c"][0] == -1 and pos["a"][0] == -2 and pos["b"][0] == -2
    assert pos["a"][1] != pos["b"][1]
    with pytest.raises(ValueError, match="cycle"):
        graphs.layered_layout(["a", "b"], [("a", "b"), ("b", "a")])


def test_draw_auto_and_explicit_positions():
    fig, ax = plt.subplots()
    texts = graphs.draw(ax, {"x": "x", "h": "tanh", "y": "y"}, [("x", "h"), ("h", "y", "W", "red")], title="t")
    assert set(texts) == {"x", "h", "y"} and texts["h"].get_text() == "tanh"
    assert len([c for c in ax.get_children() if type(c).__name__ == "Annotation"]) == 2
    assert ax.get_title() == "t"
    fig2, ax2 = plt.subplots()
    graphs.draw(ax2, {1: "a", 2: "b"}, [(1, 2)], pos={1: (0, 0), 2: (3, 1)})
    assert ax2.get_xlim() == (-0.6, 3.6)
    with pytest.raises(KeyError):
        graphs.draw(ax2, {1: "a"}, [(1, 2)])
    with pytest.raises(KeyError):
        graphs.draw(ax2, {1: "a", 2: "b"}, [(1, 2)], pos={1: (0, 0)})
    with pytest.raises(ValueError):
        graphs.draw(ax2, {}, [])
    with pytest.raises(ValueError):
        graphs.draw(ax2, {1: "a"}, [(1,)])
    plt.close("all")


def test_worker_datasets():
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    from utils import workers
    ds = workers.SlowDataset(5, delay=0)
    assert len(ds) == 5 and ds[3] == (3, -1)
    with pytest.raises(IndexError):
        ds[5]
    with pytest.raises(ValueError):
        workers.SlowDataset(-1)
    assert [int(v) for v in DataLoader(workers.Countdown(4), batch_size=None)] == [4, 3, 2, 1]
    d = workers.Draws()
    assert len(d) == 8 and d[0].dtype == torch.float64
