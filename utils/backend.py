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
