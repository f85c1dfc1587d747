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
