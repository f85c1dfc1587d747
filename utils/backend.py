"""The Keras backend: ``jax`` by default, ``KERAS_BACKEND`` overrides (``tensorflow`` and ``torch`` are tested).

Why jax: on this course's 2-core reference machine the Keras book's chapter-1 recipe (MNIST MLP, Adam,
20 epochs) takes about 12 s on jax, 29 s on tensorflow and 45 s on torch, all at the same accuracy.

The backend is fixed when ``keras`` is first imported, so :func:`choose_backend` must run before that (the
setup cell does it); changing it afterwards needs a kernel restart.
"""

from __future__ import annotations

import os
import sys

DEFAULT_BACKEND = "jax"
BACKENDS = ("jax", "tensorflow", "torch")


def choose_backend(default: str = DEFAULT_BACKEND) -> str:
    """Set ``KERAS_BACKEND`` to ``default`` unless the user set it; return the backend that will be used.

    Raises ``ValueError`` for an unknown backend and ``RuntimeError`` when Keras is already imported with a
    different backend (restart the kernel to switch).
    """
    backend = os.environ.get("KERAS_BACKEND", "").strip() or default
    if backend not in BACKENDS:
        raise ValueError(f"unknown Keras backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if "keras" in sys.modules:
        current = sys.modules["keras"].backend.backend()
        if current != backend:
            raise RuntimeError(
                f"Keras is already imported with backend {current!r}; restart the kernel to use {backend!r}"
            )
    os.environ["KERAS_BACKEND"] = backend
    # TensorFlow's C++ start-up chatter (oneDNN notes, absl's "log messages before InitializeLog") is noise in a
    # notebook's first output; warnings and errors still show. jax must not grab 75 % of a GPU's memory when the
    # notebook also uses torch on it.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    return backend


def current_backend() -> str | None:
    """The backend of the imported Keras, else the one ``KERAS_BACKEND`` asks for, else ``None``."""
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    return os.environ.get("KERAS_BACKEND") or None


def bucket_jax_random_draws() -> bool:
    """Make Keras's eager random draws on jax compile once per power-of-two size instead of once per shape.

    On jax every new shape given to ``jax.random.normal``/``uniform``/``truncated_normal`` compiles a new XLA
    program (about 0.5 s each on one CPU core), and Keras draws every weight of every new layer that way: building
    a model with new layer sizes cost seconds before it trained a single step. The draws here are made for the
    next power of two of the size and cut to the shape: with jax's partitionable threefry (the default) element
    ``i`` of a draw depends only on the key and ``i``, so the values are the very same numbers (tested). Draws
    inside a traced function (dropout in a compiled train step) are left as they are. Returns ``True`` when the
    draws are bucketed (jax backend, partitionable threefry), ``False`` otherwise.
    """
    if current_backend() != "jax":
        return False
    import jax
    import numpy as np

    try:  # private modules: if a later jax or Keras moves them, keep the stock draws
        from jax._src import core as _core
        from keras.src.backend.jax import random as krandom
    except ImportError:
        return False
    names = ("normal", "uniform", "truncated_normal")
    if getattr(krandom, "_course_bucketed", False):
        return True
    if not (getattr(jax.config, "jax_threefry_partitionable", False) and hasattr(_core, "trace_state_clean")
            and all(callable(getattr(krandom, name, None)) for name in names)):
        return False

    def bucketed(draw):
        def wrapper(shape, *args, **kwargs):
            try:
                dims = tuple(int(d) for d in shape)
            except TypeError:  # symbolic dimensions
                return draw(shape, *args, **kwargs)
            n = int(np.prod(dims, dtype=np.int64))
            if n < 2 or not _core.trace_state_clean():
                return draw(shape, *args, **kwargs)
            flat = draw((1 << (n - 1).bit_length(),), *args, **kwargs)
            return jax.numpy.asarray(np.asarray(flat)[:n].reshape(dims))

        wrapper.__wrapped__ = draw
        wrapper.__doc__ = draw.__doc__
        return wrapper

    for name in names:
        setattr(krandom, name, bucketed(getattr(krandom, name)))
    krandom._course_bucketed = True
    return True
