"""``utils.setup()``: the one call at the top of every notebook."""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from importlib import metadata

from . import backend as _backend
from . import device, plots, profiles, report
from .paths import data_dir, mirror_dir
from .seed import seed_everything


@dataclass
class Session:
    """What :func:`setup` decided: the notebook, profile, seed, Keras backend and device."""

    notebook: str
    profile: str
    seed: int
    keras_backend: str | None
    device: str
    status: str

    def budget(self, smoke: dict, cpu: dict, gpu: dict, show: bool = True):
        """This session's sizes from a per-profile table (see :func:`utils.profiles.budget`)."""
        return profiles.budget(smoke, cpu, gpu, profile=self.profile, show=show)


_CURRENT: Session | None = None


def current_notebook() -> str | None:
    """The notebook set up in this process, or None."""
    return _CURRENT.notebook if _CURRENT else None


def current_profile() -> str:
    """The profile of the current session, else the automatically chosen one."""
    return _CURRENT.profile if _CURRENT else profiles.get_profile()


def current() -> Session | None:
    """The :class:`Session` of this process (what :func:`setup` returned), or None."""
    return _CURRENT


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def status_line(profile: str, keras_backend: str | None, frameworks: list[str]) -> str:
    """The one-line status: profile, device (+ advice), Keras backend, versions, data location."""
    parts = [f"profile {profile}", device.device_summary()]
    advice = device.gpu_advice()
    if advice:
        parts[-1] += f" — {advice}"
    if keras_backend:
        parts.append(f"Keras {_version('keras')} on {keras_backend}")
    versions = [f"python {platform.python_version()}", f"numpy {_version('numpy')}"]
    for fw in frameworks:
        dist = "tensorflow" if fw == "tensorflow" and _version("tensorflow") else \
            "tensorflow-cpu" if fw == "tensorflow" else fw
        if _version(dist):
            versions.append(f"{fw} {_version(dist)}")
    parts.append(", ".join(versions))
    mirror = mirror_dir()
    parts.append(f"data: mirror {mirror}" if mirror else f"data: {data_dir()}")
    return " · ".join(parts)


def setup(notebook: str, *, seed: int = 0, keras: bool = False, torch: bool = False,
          threads: int | None = None, quiet: bool = False) -> Session:
    """Start a notebook: Colab installs (on Colab), profile, Keras backend, threads, seeds, plot style,
    a fresh metrics file, and one printed status line. Returns the :class:`Session`.

    ``notebook`` is the file stem (``"01_hopfield"``): metrics go to ``build/metrics/<notebook>.json``.
    ``keras=True`` chooses the backend (jax unless ``KERAS_BACKEND`` says otherwise) *before* importing Keras;
    ``torch=True`` imports and seeds torch.
    """
    global _CURRENT
    report.check_stem(notebook)
    if device.is_colab():
        from . import colab

        colab.prepare(notebook)
    profile = profiles.get_profile()
    # jax must not grab 75 % of a GPU's memory (its default) when torch or TensorFlow share the GPU; this must be
    # set before jax is first imported, which happens when Keras loads (on any backend: Keras 3 imports jax).
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    keras_backend = _backend.choose_backend() if keras else None
    frameworks = (["torch"] if torch else []) + (["keras"] if keras else [])
    device.set_threads(threads)
    seed_everything(seed, frameworks=tuple(frameworks))
    if keras:
        _backend.bucket_jax_random_draws()  # jax: weights drawn as before, compiled per size class, not per shape
    if torch:
        device.set_threads(threads)  # torch is imported now
    plots.style()
    shown = [fw for fw in ("torch", "jax", "tensorflow") if fw in sys.modules]
    status = status_line(profile, keras_backend, shown)
    report.start(notebook, profile, status=status)
    if not quiet:
        print(status)
    _CURRENT = Session(notebook, profile, seed, keras_backend, device.device_summary(), status)
    return _CURRENT
