"""Shared helpers for the course *From Hopfield to Transformers*.

Every notebook starts with ``utils.setup(...)`` and ends with ``utils.record(...)`` / ``utils.show_results()``.
Importing this package is cheap: heavy frameworks (torch, TensorFlow, JAX, Keras) are imported lazily, only by
the functions that need them.

Modules, one concern each:

- :mod:`utils.paths`    where the repository, the data cache, the mirror and the build output live
- :mod:`utils.profiles` the ``smoke`` / ``cpu`` / ``gpu`` run profiles and per-notebook budgets
- :mod:`utils.device`   GPU detection for torch / TensorFlow / JAX, Colab detection, threads, the status line
- :mod:`utils.backend`  the Keras backend (default ``jax``; ``KERAS_BACKEND`` overrides)
- :mod:`utils.seed`     seeding python, numpy, torch and keras in one call
- :mod:`utils.session`  ``setup()``: the single call at the top of every notebook
- :mod:`utils.colab`    the Colab branch of the setup cell
- :mod:`utils.data`     dataset registry, verified downloads, offline mirror, ``load_<dataset>()`` loaders
- :mod:`utils.report`   headline metrics ("book vs ours") and ``build/REPORT.md``
- :mod:`utils.plots`    training curves, image grids, confusion matrices in one style
- :mod:`utils.checks`   a grader-style checker: exact / allclose / max diff, then assert; ``compare`` for noisy differences
- :mod:`utils.exercises` exercises the student writes: the checker context, student versions of the notebooks
- :mod:`utils.timing`   timers for heavy cells and progress bars that stay quiet in CI
- :mod:`utils.run`      ``python -m utils.run``: execute notebooks in chapter order and write the report
- :mod:`utils.train`    the torch training loop (``fit``, early stopping), ``evaluate``, ``count_params``, MNIST splits
- :mod:`utils.keras_train` the Keras fit helper with its epoch timer, and ``snapshot``/``restore`` of compiled models
- :mod:`utils.gradcheck` finite-difference gradients and Jacobians, checked against backprop
- :mod:`utils.graphs`   one drawer for computation graphs and unrolled networks
- :mod:`utils.nbtools`  notebook tools (strip, anatomy check, student versions' plumbing, README tables, ``tidy``)
- :mod:`utils.codestyle` the code-style rules behind ``nbtools tidy`` (one statement per line, cells <= 25 lines)
- :mod:`utils.workers`  Dataset classes for the DataLoader-worker demos (importable, so ``spawn`` works)
- :mod:`utils.text`, :mod:`utils.embeddings`, :mod:`utils.series`, :mod:`utils.rl`  text, embedding, series, RL helpers
"""

from __future__ import annotations

from .checks import check, check_true, compare
from .profiles import budget, get_profile
from .report import record, show_results
from .seed import seed_everything
from .session import setup
from .timing import progress, timer
from .train import count_params

__all__ = [
    "budget",
    "check",
    "check_true",
    "compare",
    "count_params",
    "exercise",
    "get_profile",
    "progress",
    "record",
    "seed_everything",
    "setup",
    "show_results",
    "timer",
]

def exercise(number: int, title: str):
    """The checker context of a student exercise (see :func:`utils.exercises.exercise`)."""
    from .exercises import exercise as _exercise  # imported here so that `python -m utils.exercises` runs cleanly

    return _exercise(number, title)


#: The course's GitHub repository (owner/name). The Colab badges and the Colab setup branch are built from it;
#: a test checks every notebook against it. The one place to change it is :data:`utils.paths.GITHUB_REPO`.
from .paths import GITHUB_REPO  # noqa: E402
