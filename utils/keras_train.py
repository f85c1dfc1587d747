"""Keras 3 helpers written once: compile-fit-evaluate with an epoch timer, and a snapshot that resets models.

Chapter 05 teaches ``compile`` / ``fit`` / ``evaluate``; from then on notebooks import them from here::

    from utils import keras_train
    run = keras_train.fit(model, x, y, epochs=20, batch_size=128, validation_split=0.2,
                          test_data=(x_test, y_test), test_each_epoch=True,
                          optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    run.history["val_accuracy"], run.epoch_seconds, run.test["accuracy"], run.curve("accuracy")

    start = keras_train.snapshot(model, seed=0)      # weights, optimiser state, seed generators
    ...                                              # train
    start.restore()                                  # back to the start: the same compiled model, no recompile

Why a snapshot: on the jax backend every *new* model compiles its training step again (seconds for a recurrent
net), so a notebook that trains the same architecture several times resets one compiled model instead of
building a new one. The snapshot holds every variable that decides what the next ``fit`` does: the weights, the
optimiser's variables (step counter, moments; built here if ``fit`` has not built them yet) and the state of the
layers' seed generators (dropout masks); with ``seed=`` it also reseeds the global random streams (data
shuffling, :func:`utils.seed.seed_everything`), so a restored model repeats a fresh run exactly. (The very first
``fit`` of a model draws one extra shuffling permutation while it builds its step function, so the runs that
repeat each other exactly are the ones after it: :func:`warm_up` makes that first call outside the clock.)

Backend-agnostic (jax, tensorflow, torch). Importing this module imports Keras, after
:func:`utils.backend.choose_backend` (jax unless ``KERAS_BACKEND`` says otherwise) when Keras is not loaded yet.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import backend as _backend
from .seed import seed_everything

if "keras" not in sys.modules:  # pick the course's backend before Keras fixes its own
    _backend.choose_backend()
import keras  # noqa: E402

__all__ = ["EpochTimer", "FitResult", "Snapshot", "fit", "snapshot", "warm_up"]


class EpochTimer(keras.callbacks.Callback):
    """Seconds per epoch (training and validation pass; the first epoch includes compilation) and, optionally,
    the test metrics after every epoch, measured with the clock stopped.

    ``test_data`` is ``(x, y)`` or ``(x, y, sample_weight)``; the metrics of each epoch are appended to
    ``test_curve`` as the dict ``model.evaluate(..., return_dict=True)`` returns.
    """

    def __init__(self, test_data: tuple | None = None, *, batch_size: int | None = 128):
        super().__init__()
        self.test_data, self.batch_size = test_data, batch_size
        self.epoch_seconds: list[float] = []
        self.test_curve: list[dict[str, float]] = []

    def on_train_begin(self, logs=None):
        self.epoch_seconds, self.test_curve = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_seconds.append(time.perf_counter() - self._t0)
        if self.test_data is not None:
            self.test_curve.append(_evaluate(self.model, self.test_data, self.batch_size))

    @property
    def elapsed(self) -> list[float]:
        """Training seconds at the end of each epoch (cumulative ``epoch_seconds``)."""
        return list(np.cumsum(self.epoch_seconds))


@dataclass
class FitResult:
    """What :func:`fit` returns. ``test`` is empty without ``test_data``; ``test_curve`` is empty unless
    ``test_each_epoch``. ``seconds`` is the wall time of the whole ``fit`` call (compilation included)."""

    model: Any
    history: dict[str, list[float]]
    epoch_seconds: list[float]
    seconds: float
    test: dict[str, float] = field(default_factory=dict)
    test_curve: list[dict[str, float]] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        """Epochs actually run (fewer than asked when a callback stopped the training)."""
        return len(self.epoch_seconds)

    @property
    def elapsed(self) -> list[float]:
        """Training seconds at the end of each epoch (test evaluations excluded)."""
        return list(np.cumsum(self.epoch_seconds))

    def after(self, epochs: int) -> FitResult:
        """The run as it stood after its first ``epochs`` epochs: history, times and (with ``test_each_epoch``)
        that epoch's test metrics. With a constant step size a k-epoch run *is* the first k epochs of a longer
        one. ``model`` stays the final model."""
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or not 1 <= epochs <= self.epochs:
            raise ValueError(f"epochs must be between 1 and {self.epochs}, got {epochs!r}")
        k = int(epochs)
        return FitResult(self.model, {name: v[:k] for name, v in self.history.items()}, self.epoch_seconds[:k],
                         float(sum(self.epoch_seconds[:k])), dict(self.test_curve[k - 1]) if self.test_curve else {},
                         self.test_curve[:k])

    def curve(self, metric: str = "accuracy") -> list[float]:
        """One test metric after every epoch (needs ``test_each_epoch=True``)."""
        if not self.test_curve:
            raise ValueError("no per-epoch test metrics: call fit(..., test_data=..., test_each_epoch=True)")
        return [d[metric] for d in self.test_curve]

    def summary(self) -> str:
        """One line: epochs, time, the last logged metrics and the test metrics."""
        last = " ".join(f"{k} {v[-1]:.4f}" for k, v in self.history.items())
        test = " ".join(f"{k} {v:.4f}" for k, v in self.test.items())
        return f"{self.model.name}: {self.epochs} epochs in {self.seconds:.1f} s | {last}" + (
            f" | test: {test}" if test else "")


def _n(a: Any) -> int:
    return len(a[0]) if isinstance(a, (list, tuple)) else len(a)


def _evaluate(model, data: tuple, batch_size: int | None) -> dict[str, float]:
    x, y, *w = data
    out = model.evaluate(x, y, sample_weight=w[0] if w else None, batch_size=batch_size, verbose=0,
                         return_dict=True)
    return {k: float(v) for k, v in out.items()}


def _check_data(what: str, data: Any) -> tuple:
    if not isinstance(data, (list, tuple)) or len(data) not in (2, 3):
        raise ValueError(f"{what} must be (x, y) or (x, y, sample_weight), got {type(data).__name__}")
    lengths = {_n(a) for a in data if a is not None}
    if len(lengths) != 1:
        raise ValueError(f"{what}: x, y (and sample_weight) need the same number of samples, got {sorted(lengths)}")
    return tuple(data)


def fit(model, x, y=None, *, epochs: int, batch_size: int = 128, validation_split: float = 0.0,
        validation_data: tuple | None = None, test_data: tuple | None = None, test_each_epoch: bool = False,
        test_batch_size: int | None = 128, optimizer=None, loss=None, metrics=None,
        callbacks: Iterable = (), verbose: int = 0, **fit_kwargs) -> FitResult:
    """Compile (when ``optimizer`` is given), fit, time every epoch, and evaluate on ``test_data``.

    ``test_data`` is ``(x, y)`` or ``(x, y, sample_weight)``, evaluated once at the end, or after every epoch
    with ``test_each_epoch=True`` (with the epoch clock stopped; the last epoch's metrics are then ``test``).
    A model compiled before keeps its compilation unless ``optimizer`` is passed. Other keyword arguments go
    to ``model.fit`` (``shuffle``, ``sample_weight``, ``validation_batch_size``, ...).
    """
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a whole number >= 1, got {epochs!r}")
    if optimizer is not None:
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    elif loss is not None or metrics is not None:
        raise ValueError("loss/metrics without optimizer: pass optimizer too, or compile the model yourself")
    if getattr(model, "optimizer", None) is None:
        raise ValueError(f"model {model.name!r} is not compiled: pass optimizer= and loss=, or call compile()")
    if y is not None:
        _check_data("(x, y)", (x, y))
    if validation_data is not None:
        validation_data = _check_data("validation_data", validation_data)
    if test_data is not None:
        test_data = _check_data("test_data", test_data)
    elif test_each_epoch:
        raise ValueError("test_each_epoch=True needs test_data")
    timer = EpochTimer(test_data if test_each_epoch else None, batch_size=test_batch_size)
    t0 = time.perf_counter()
    hist = model.fit(x, y, batch_size=batch_size, epochs=int(epochs), validation_split=validation_split,
                     validation_data=validation_data, callbacks=[timer, *callbacks], verbose=verbose,
                     **fit_kwargs)
    seconds = time.perf_counter() - t0
    test = {}
    if test_data is not None:
        test = dict(timer.test_curve[-1]) if timer.test_curve else _evaluate(model, test_data, test_batch_size)
    history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    return FitResult(model, history, timer.epoch_seconds, seconds, test, timer.test_curve)


def _as_models(models) -> list:
    out = list(models) if isinstance(models, (list, tuple)) else [models]
    if not out:
        raise ValueError("snapshot needs at least one model")
    for m in out:
        if not isinstance(m, keras.Model):
            raise TypeError(f"snapshot takes Keras models, got {type(m).__name__}")
    return out


def _state(models: Sequence) -> list:
    """Every variable that decides what the next ``fit`` does, each once (models may share layers)."""
    seen, state = set(), []
    for m in models:
        if not m.built:
            raise ValueError(f"model {m.name!r} has no weights yet: give it a keras.Input or call it once")
        opt = getattr(m, "optimizer", None)
        if opt is None:
            raise ValueError(f"model {m.name!r} has no optimizer: compile it before taking a snapshot")
        if not opt.built:  # fit builds it from the same list, so building it here changes nothing
            opt.build(m.trainable_variables)
        for v in [*m.variables, *opt.variables]:  # m.variables includes the seed generators' states
            if id(v) not in seen:
                seen.add(id(v))
                state.append(v)
    return state


class Snapshot:
    """The state of one or more compiled models at one moment; :meth:`restore` puts it back. Build with
    :func:`snapshot`."""

    def __init__(self, models, seed: int | None = None):
        self.models = _as_models(models)
        self._many = isinstance(models, (list, tuple))
        self.seed = seed
        self.values = [np.array(keras.ops.convert_to_numpy(v)) for v in _state(self.models)]

    def restore(self, *, seed: int | None | str = "snapshot"):
        """Assign the saved values again and reseed (``seed``: the snapshot's by default; ``None``: do not
        reseed). Returns the model, or the list of models. Raises ``ValueError`` when the models' variables
        no longer match (e.g. recompiled with another optimiser)."""
        state = _state(self.models)
        shapes = [tuple(v.shape) for v in state]
        saved = [a.shape for a in self.values]
        if len(state) != len(self.values) or shapes != saved:
            raise ValueError(f"the models' variables no longer match the snapshot ({len(state)} variables now, "
                             f"{len(self.values)} saved; recompiled with another optimizer?)")
        for v, a in zip(state, self.values):
            v.assign(a)
        seed = self.seed if seed == "snapshot" else seed
        if seed is not None:
            seed_everything(seed, frameworks=("keras",))
        return self.models if self._many else self.models[0]

    def __repr__(self) -> str:
        names = ", ".join(m.name for m in self.models)
        return f"Snapshot({names}: {len(self.values)} variables, {sum(a.size for a in self.values):,} numbers)"


def snapshot(models, *, seed: int | None = None) -> Snapshot:
    """Save the weights, optimiser variables and seed-generator states of a compiled model (or a list of models,
    shared layers counted once), so that ``.restore()`` resets them to this moment without recompiling.

    An optimiser that ``fit`` has not built yet is built here (from ``model.trainable_variables``, as ``fit``
    would). With ``seed``, ``restore()`` also reseeds python, NumPy and Keras (data shuffling), so the next ``fit``
    repeats a fresh run exactly.
    """
    return Snapshot(models, seed)


def warm_up(model, x, y, *, batch_size: int, test_data: tuple | None = None, test_batch_size: int | None = None,
            seed: int | None = 0, **fit_kwargs) -> float:
    """Compile ``model``'s training (and test) step outside the clock: one ``fit`` on the first batch and one
    evaluation of ``test_data``, then everything is put back (:func:`snapshot`, reseeded with ``seed``).
    Returns the seconds it took, i.e. the compilation cost of the first call on jax and tensorflow."""
    start = snapshot(model, seed=seed)
    t0 = time.perf_counter()
    model.fit(x[:batch_size], y[:batch_size], batch_size=batch_size, epochs=1, verbose=0, **fit_kwargs)
    if test_data is not None:
        _evaluate(model, _check_data("test_data", test_data), test_batch_size)
    seconds = time.perf_counter() - t0
    start.restore()
    return seconds

