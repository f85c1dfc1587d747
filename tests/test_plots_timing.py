import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from utils import plots
from utils.timing import best_time, progress, timer


def test_training_curves_from_dict_and_history():
    fig = plots.training_curves({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8]})
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 2

    class History:
        history = {"loss": [3, 2, 1]}

    assert len(plots.training_curves(History()).axes) == 1
    with pytest.raises(ValueError):
        plots.training_curves({})
    with pytest.raises(ValueError, match="none of the metrics"):
        plots.training_curves({"loss": [1]}, metrics=["auc"])


def test_image_grid_shapes_and_errors():
    fig = plots.image_grid(np.zeros((7, 28, 28), np.uint8), list(range(7)), ncols=3)
    assert len(fig.axes) == 9
    assert len(plots.image_grid(np.random.rand(2, 8, 8, 3) * 255).axes) == 2
    with pytest.raises(ValueError):
        plots.image_grid(np.zeros((28, 28)))
    with pytest.raises(ValueError, match="labels"):
        plots.image_grid(np.zeros((2, 4, 4)), [1])


def test_confusion_matrix_counts():
    fig, counts = plots.confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], ["a", "b", "c"])
    assert counts.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    with pytest.raises(ValueError):
        plots.confusion_matrix([0, 1], [0])
    with pytest.raises(ValueError):
        plots.confusion_matrix([-1], [0])


def test_confusion_matrix_rejects_bad_labels():
    with pytest.raises(ValueError, match=r"labels \[5\] are out of range for 2 class names"):
        plots.confusion_matrix([0, 5], [0, 1], ["a", "b"])  # used to be a bare IndexError
    with pytest.raises(ValueError, match="whole-number"):
        plots.confusion_matrix([0.0, 1.5], [0, 1])  # used to be truncated to 1 silently
    _, counts = plots.confusion_matrix(np.array([0.0, 1.0]), [0, 1])  # whole floats are fine
    assert counts.tolist() == [[1, 0], [0, 1]]
    with pytest.raises(TypeError, match="not one string"):
        plots.confusion_matrix([0, 1], [0, 1], "ab")


def test_a_string_where_a_list_is_expected_is_a_clear_error():
    with pytest.raises(TypeError, match="not one string"):
        plots.training_curves({"loss": [1.0, 0.5]}, metrics="loss")
    with pytest.raises(TypeError, match="not one string"):
        plots.image_grid(np.zeros((3, 4, 4)), "abc")


def test_timer_and_progress(capsys, monkeypatch):
    import time

    with timer("nap") as t:
        time.sleep(0.05)
    assert t.seconds >= 0.05 and "⏱ nap:" in capsys.readouterr().out  # it measures the block, not zero
    final = t.seconds
    time.sleep(0.01)
    assert t.seconds == final  # frozen at the end of the block
    monkeypatch.setenv("CI", "true")
    assert list(progress(range(3), desc="x")) == [0, 1, 2]


def test_best_time_returns_the_fastest_call_and_the_result(monkeypatch):
    ticks = iter([0.0, 5.0, 10.0, 11.0, 20.0, 23.0])            # calls of 5 s, 1 s, 3 s
    monkeypatch.setattr("utils.timing.time.perf_counter", lambda: next(ticks))
    calls = []
    seconds, result = best_time(lambda: calls.append(1) or len(calls), repeats=3)
    assert seconds == 1.0 and result == 3 and len(calls) == 3


@pytest.mark.parametrize("repeats", [0, -1, 1.5, True, "3"])
def test_best_time_refuses_bad_repeats(repeats):
    with pytest.raises(ValueError, match="repeats"):
        best_time(lambda: None, repeats=repeats)
