import os
import random
import subprocess
import sys

import numpy as np
import pytest

from utils import backend
from utils.seed import seed_everything


def test_default_is_jax_unless_overridden(monkeypatch):
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.delitem(sys.modules, "keras", raising=False)
    assert backend.choose_backend() == "jax" and os.environ["KERAS_BACKEND"] == "jax"
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    assert backend.choose_backend() == "torch"


def test_unknown_backend(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "theano")
    monkeypatch.delitem(sys.modules, "keras", raising=False)
    with pytest.raises(ValueError, match="jax, tensorflow, torch"):
        backend.choose_backend()


@pytest.mark.keras
def test_switching_after_import_needs_a_restart():
    """In a fresh interpreter: Keras imported with one backend refuses a switch to another."""
    want = os.environ.get("KERAS_BACKEND", "jax")
    other = "torch" if want != "torch" else "jax"
    code = (
        f"import os; os.environ['KERAS_BACKEND'] = {want!r}\n"
        "from utils import backend; import keras\n"
        f"assert backend.current_backend() == {want!r}, backend.current_backend()\n"
        f"os.environ['KERAS_BACKEND'] = {other!r}\n"
        "try:\n    backend.choose_backend()\nexcept RuntimeError as e:\n    print('refused:', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         cwd=os.path.dirname(os.path.dirname(__file__)))
    assert out.returncode == 0, out.stderr[-2000:]
    assert "refused:" in out.stdout and "restart the kernel" in out.stdout


@pytest.mark.keras
def test_seed_everything_makes_keras_repeatable():
    import keras

    seed_everything(3, frameworks=("keras",))
    a = keras.random.normal((4,))
    seed_everything(3, frameworks=("keras",))
    b = keras.random.normal((4,))
    assert np.allclose(np.asarray(a), np.asarray(b))


def test_seed_everything_repeats_python_numpy_torch():
    import torch

    assert "torch" in seed_everything(7, frameworks=("torch",))
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    seed_everything(7)
    assert first == (random.random(), np.random.rand(), torch.rand(1).item())


@pytest.mark.parametrize("bad", [-1, 1.5, True, "1"])
def test_seed_rejects_bad_values(bad):
    with pytest.raises(ValueError):
        seed_everything(bad)


def test_seed_rejects_unknown_framework():
    with pytest.raises(ValueError, match="theano"):
        seed_everything(0, frameworks=("theano",))


@pytest.mark.keras
def test_seeding_keras_imports_tensorflow_only_when_it_is_the_backend():
    """In a fresh interpreter: setup's seeding must not pull in TensorFlow (seconds, and its log) on jax/torch."""
    want = os.environ.get("KERAS_BACKEND", "jax")
    code = (
        f"import os, sys; os.environ['KERAS_BACKEND'] = {want!r}\n"
        "from utils.seed import seed_everything\n"
        "seed_everything(3, frameworks=('keras',))\n"
        "import keras\n"
        "from keras.src.utils import rng_utils\n"
        "a = keras.ops.convert_to_numpy(keras.random.uniform((3,)))\n"
        "seed_everything(3, frameworks=('keras',))\n"
        "b = keras.ops.convert_to_numpy(keras.random.uniform((3,)))\n"
        "print('tf imported:', 'tensorflow' in sys.modules, 'seed:', rng_utils.get_random_seed(),\n"
        "      'same:', (a == b).all())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"tf imported: {want == 'tensorflow'} seed: 3 same: True" in out.stdout, out.stdout + out.stderr[-1000:]


@pytest.mark.keras
def test_bucketed_jax_draws_give_the_same_weights_and_leave_traced_draws_alone():
    """On jax: models built with bucketed draws have bit-identical weights; eager draws keep their shape and
    values; draws inside a jitted function still work (they are not bucketed); other backends are untouched."""
    if os.environ.get("KERAS_BACKEND", "jax") != "jax":
        pytest.skip("the bucketing is a jax-only speed-up")
    code = (
        "import os; os.environ['KERAS_BACKEND'] = 'jax'\n"
        "import numpy as np, jax, keras\n"
        "from keras import layers\n"
        "from utils import backend\n"
        "def build():\n"
        "    keras.utils.set_random_seed(7)\n"
        "    m = keras.Sequential([keras.Input((5, 6, 3)), layers.Conv2D(7, 3), layers.BatchNormalization(),\n"
        "                          layers.Flatten(), layers.Dense(11, kernel_initializer='he_normal'),\n"
        "                          layers.Dense(3, kernel_initializer='truncated_normal')])\n"
        "    draws = [np.asarray(f((4, 9), seed=3)) for f in (keras.random.normal, keras.random.uniform,\n"
        "                                                     keras.random.truncated_normal)]\n"
        "    return [np.asarray(w) for w in m.get_weights()] + draws\n"
        "before = build()\n"
        "assert backend.bucket_jax_random_draws() and backend.bucket_jax_random_draws()  # idempotent\n"
        "after = build()\n"
        "assert len(before) == len(after)\n"
        "for a, b in zip(before, after):\n"
        "    assert a.shape == b.shape and np.array_equal(a, b), (a.shape, b.shape)\n"
        "seed = keras.random.SeedGenerator(1)\n"
        "f = jax.jit(lambda k: keras.random.normal((3, 5), seed=k) + 1.0)\n"
        "assert f(jax.random.PRNGKey(0)).shape == (3, 5)\n"
        "assert keras.random.normal((), seed=2).shape == () and keras.random.uniform((1,), seed=2).shape == (1,)\n"
        "print('same weights')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         cwd=os.path.dirname(os.path.dirname(__file__)))
    assert out.returncode == 0, out.stderr[-2000:]
    assert "same weights" in out.stdout


def test_bucketing_is_a_no_op_off_jax(monkeypatch):
    monkeypatch.setattr(backend, "current_backend", lambda: "torch")
    assert backend.bucket_jax_random_draws() is False
