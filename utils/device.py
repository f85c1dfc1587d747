"""Devices: GPUs for torch / TensorFlow / JAX, Colab detection, CPU threads, the one-line status.

Frameworks are imported lazily and only when installed, so asking about the device never costs a TensorFlow
import in a notebook that does not use TensorFlow.
"""

from __future__ import annotations

import importlib.util
import operator
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache

FRAMEWORKS = ("torch", "tensorflow", "jax")


@dataclass(frozen=True)
class GPU:
    """One GPU as reported by the driver: its name and memory in MiB."""

    name: str
    memory_mib: int | None = None

    def __str__(self) -> str:
        return f"{self.name} ({self.memory_mib / 1024:.0f} GiB)" if self.memory_mib else self.name


def is_colab() -> bool:
    """True inside Google Colab (its ``google.colab`` module is importable or already imported)."""
    if "google.colab" in sys.modules:
        return True
    try:
        return importlib.util.find_spec("google.colab") is not None
    except (ImportError, ValueError):
        return False


def is_installed(module: str) -> bool:
    """True when ``module`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def is_ci() -> bool:
    """True under continuous integration (the ``CI`` environment variable is set to a true value)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@lru_cache(maxsize=1)
def nvidia_gpus() -> tuple[GPU, ...]:
    """GPUs listed by ``nvidia-smi`` (empty when there is no NVIDIA driver). Cheap: imports no framework."""
    exe = shutil.which("nvidia-smi")
    if not exe:
        return ()
    try:
        out = subprocess.run(
            [exe, "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    gpus = []
    for line in out.strip().splitlines():
        name, _, mem = line.partition(",")
        try:
            gpus.append(GPU(name.strip(), int(float(mem.strip()))))
        except ValueError:
            gpus.append(GPU(name.strip()))
    return tuple(gpus)


def has_gpu() -> bool:
    """True when a GPU is present: ``nvidia-smi`` lists one, or an already imported framework sees one."""
    if nvidia_gpus():
        return True
    return any(framework_gpus(fw) for fw in FRAMEWORKS if fw in sys.modules)


def framework_gpus(framework: str) -> list[str]:
    """The GPU devices ``framework`` (``torch``, ``tensorflow`` or ``jax``) can use; [] if it is not installed.

    This imports the framework, so call it only for frameworks the notebook uses.
    """
    if framework not in FRAMEWORKS:
        raise ValueError(f"unknown framework {framework!r}; expected one of {FRAMEWORKS}")
    if not is_installed(framework):
        return []
    if framework == "torch":
        import torch

        kind = _torch_accelerator(torch)
        if kind == "cuda":
            return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        return ["Apple MPS"] if kind == "mps" else []
    if framework == "tensorflow":
        import tensorflow as tf

        return [d.name for d in tf.config.list_physical_devices("GPU")]
    import jax

    try:
        return [str(d) for d in jax.devices("gpu")]
    except RuntimeError:  # no GPU backend
        return []


def _torch_accelerator(torch) -> str | None:
    """``"cuda"``, ``"mps"`` or None: the accelerator torch can use here (the one place that decides)."""
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return None


def torch_device():
    """The best torch device here: ``cuda``, else ``mps``, else ``cpu``."""
    import torch

    return torch.device(_torch_accelerator(torch) or "cpu")


def cpu_threads() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _env_threads() -> int | None:
    for var in ("COURSE_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "").strip()
        if value:
            try:
                n = int(value)
            except ValueError:
                n = 0
            if n < 1:
                raise ValueError(f"{var} must be a whole number of threads >= 1, got {value!r}") from None
            return n
    return None


def _thread_count(n: object) -> int:
    """``n`` as a thread count: a whole number >= 1 (numpy integers too); anything else is a clear error."""
    if isinstance(n, bool) or not hasattr(n, "__index__"):
        raise TypeError(f"threads must be a whole number >= 1 (or None for the default), got {n!r}")
    n = operator.index(n)
    if n < 1:
        raise ValueError(f"threads must be >= 1 (or None for the default: $COURSE_THREADS, else all cores), got {n}")
    return n


def set_threads(n: int | None = None, *, blas: bool = False) -> int:
    """Use ``n`` threads in torch, if it is already imported; return ``n``.

    ``n`` defaults to ``$COURSE_THREADS``, else ``$OMP_NUM_THREADS``, else all usable cores. On a busy machine
    (a shared CI box) fewer threads can be many times faster: ``COURSE_THREADS=1``.

    With ``blas=True`` the BLAS/OpenMP pools already loaded (NumPy's OpenBLAS, MKL) are limited to ``n`` at
    run time too, through ``threadpoolctl``. Small matrices (Hopfield nets, tiny RNNs) run fastest on one
    thread, and several threads on a busy machine can be many times slower: call ``set_threads(1, blas=True)``.
    Environment variables such as ``OMP_NUM_THREADS`` must be set before a library loads, so they are only
    set here when not set yet.
    """
    n = _thread_count(n) if n is not None else (_env_threads() or cpu_threads())
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(n))
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)
    if blas and is_installed("threadpoolctl"):
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=n)
    return n


def device_summary() -> str:
    """A short description of the compute: GPU names and memory, or ``CPU, N threads``."""
    gpus = nvidia_gpus()
    if gpus:
        return "GPU: " + ", ".join(str(g) for g in gpus)
    return f"CPU, {cpu_threads()} threads"


def gpu_advice() -> str:
    """What to do about a missing GPU, or '' when there is one."""
    if has_gpu():
        return ""
    if is_colab():
        return "no GPU: in Colab choose Runtime > Change runtime type > T4 GPU, then run all cells again"
    return "no GPU found: expect the cpu profile (minutes, reduced epochs)"
