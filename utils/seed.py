"""Seeding every random number generator the course uses, in one call."""

from __future__ import annotations

import os
import random
import sys

import numpy as np


def seed_everything(seed: int = 0, *, frameworks: tuple[str, ...] = ()) -> list[str]:
    """Seed python's ``random``, NumPy, and torch / Keras (which seeds TensorFlow and JAX too).

    torch and Keras are seeded when they are already imported or named in ``frameworks``
    (``"torch"``, ``"keras"``); naming one imports it. Returns the names of what was seeded.
    Seeds make runs repeatable on one machine and library version; they do not make CPU and GPU agree.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    unknown = set(frameworks) - {"torch", "keras"}
    if unknown:
        raise ValueError(f"unknown frameworks {sorted(unknown)}; expected 'torch' and/or 'keras'")
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)  # for subprocesses; this interpreter's hash seed is fixed already
    seeded = ["random", "numpy"]
    if "torch" in frameworks or "torch" in sys.modules:
        import torch

        torch.manual_seed(seed)
        seeded.append("torch")
    if "keras" in frameworks or "keras" in sys.modules:
        _seed_keras(seed)
        seeded.append("keras")
    return seeded


def _seed_keras(seed: int) -> None:
    """``keras.utils.set_random_seed`` without importing TensorFlow when the backend is not TensorFlow.

    Keras's own function imports TensorFlow whenever it is installed (to seed ``tf.data``), which costs seconds
    and prints TensorFlow's start-up log in a jax or torch notebook. Here TensorFlow is seeded only when it is
    the backend or already imported; Keras's global seed generator is reset exactly as Keras does it.
    """
    import keras

    if keras.backend.backend() == "tensorflow" or "tensorflow" in sys.modules:
        keras.utils.set_random_seed(seed)
        return
    try:
        from keras.src.backend.common import global_state
        from keras.src.random import seed_generator
        from keras.src.utils import rng_utils
    except ImportError:  # a Keras whose internals moved: fall back to its public function
        keras.utils.set_random_seed(seed)
        return
    global_state.set_global_attribute(rng_utils.GLOBAL_RANDOM_SEED, seed)
    global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, None)
    random.seed(seed)
    np.random.seed(seed)
    if keras.backend.backend() == "torch":
        import torch

        torch.manual_seed(seed)
