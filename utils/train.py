"""The torch training loop the course teaches in chapters 02-03, written once: ``fit``, ``evaluate``, ``predict``,
early stopping with patience, parameter counting and MNIST as ready-made tensors.

Chapter 03 writes the loop out by hand; from chapter 04 on notebooks import it from here::

    from utils import train
    history = train.fit(model, torch.optim.Adam(model.parameters()), X, Y, epochs=10, batch_size=128,
                        val=(X_val, Y_val), patience=3)          # stops, and restores the best epoch
    val_loss, val_acc = train.evaluate(model, X_val, Y_val)

Chapter 06 adds what a convnet recipe needs, through the same call: a per-step learning-rate ``scheduler``,
``augment(x_batch, generator)`` drawn afresh for every training batch, ``monitor="val_accuracy"`` for the
checkpoint, ``keep_best`` (the best epoch's weights kept in ``history.best_state`` without restoring them), and
any ``loss_fn`` (e.g. ``functools.partial(F.cross_entropy, label_smoothing=0.1)``). Images in
``torch.channels_last`` stay in that layout: indexing a batch keeps it.

torch is imported lazily (inside the functions), so ``import utils.train`` is cheap.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["EarlyStopping", "History", "MNISTSplit", "count_params", "evaluate", "fit", "mnist_split", "predict"]


def _positive_int(value: Any, what: str, *, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not hasattr(value, "__index__") or int(value) < 1:
        raise ValueError(f"{what} must be a whole number >= 1, got {value!r}")
    return int(value)


def count_params(model: Any, *, trainable_only: bool = False) -> int:
    """Number of scalar parameters of a torch ``nn.Module`` (or of an iterable of tensors / NumPy arrays).

    ``trainable_only=True`` counts only tensors with ``requires_grad`` (arrays always count).
    """
    params = model.parameters() if hasattr(model, "parameters") else model
    if isinstance(params, (str, bytes)) or not isinstance(params, Iterable):
        raise TypeError(f"count_params takes an nn.Module or an iterable of arrays, got {type(model).__name__}")
    total = 0
    for p in params:
        if not hasattr(p, "shape"):
            raise TypeError(f"count_params: {type(p).__name__} is not a tensor or an array")
        if trainable_only and not getattr(p, "requires_grad", True):
            continue
        total += int(np.prod(tuple(p.shape), dtype=np.int64))
    return total


def predict(model, X, *, batch_size: int | None = 4096):
    """``model(X)`` in eval mode without recording a graph, in chunks of ``batch_size`` rows (None: one chunk).

    The model's train/eval mode is restored afterwards, so calling this inside a training loop is safe.
    """
    import torch

    batch_size = _positive_int(batch_size, "batch_size", allow_none=True)
    if len(X) == 0:
        raise ValueError("predict: X is empty")
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            step = batch_size or len(X)
            return torch.cat([model(X[i:i + step]) for i in range(0, len(X), step)])
    finally:
        model.train(was_training)


def evaluate(model, X, Y, *, loss_fn: Callable | None = None, batch_size: int | None = 4096) -> tuple[float, float]:
    """``(mean loss, accuracy)`` of a classifier on ``(X, Y)`` in eval mode, no graph (see :func:`predict`).

    ``loss_fn(logits, Y)`` defaults to ``F.cross_entropy`` (raw logits, integer class labels). The accuracy
    is the fraction of rows whose arg-max equals the label; for a non-classifier (``Y`` not integer) it is nan.
    """
    import torch
    import torch.nn.functional as F

    if len(X) != len(Y):
        raise ValueError(f"evaluate: {len(X)} inputs but {len(Y)} targets")
    logits = predict(model, X, batch_size=batch_size)
    loss = (loss_fn or F.cross_entropy)(logits, Y).item()
    if Y.dtype in (torch.int64, torch.int32, torch.int16, torch.uint8) and logits.ndim == 2:
        acc = (logits.argmax(1) == Y).float().mean().item()
    else:
        acc = float("nan")
    return loss, acc


class EarlyStopping:
    """Early stopping on a monitored value (lower is better), with patience and a best-state checkpoint.

    Call :meth:`step` once per epoch with the value (e.g. the validation loss) and the model. An epoch
    *improves* when its value is lower than the best so far by more than ``min_delta`` (a tie does not
    improve). :meth:`step` returns True once ``patience`` epochs in a row brought no improvement
    (``patience=None``: never; the best state is still kept). :meth:`restore` loads the best state back.
    """

    def __init__(self, patience: int | None = None, *, min_delta: float = 0.0) -> None:
        self.patience = _positive_int(patience, "patience", allow_none=True)
        if not (isinstance(min_delta, (int, float)) and min_delta >= 0):
            raise ValueError(f"min_delta must be a number >= 0, got {min_delta!r}")
        self.min_delta = float(min_delta)
        self.best = math.inf
        self.best_epoch: int | None = None
        self.best_state: dict | None = None
        self.epoch = -1
        self.stopped_epoch: int | None = None

    def step(self, value: float, model=None) -> bool:
        value = float(value)
        self.epoch += 1
        if math.isnan(value):
            improved = False
        else:
            improved = value < self.best - self.min_delta
        if improved:
            self.best, self.best_epoch = value, self.epoch
            if model is not None:
                self.best_state = copy.deepcopy(model.state_dict())
        since = self.epoch - (self.best_epoch if self.best_epoch is not None else -1)
        if self.patience is not None and since >= self.patience:
            self.stopped_epoch = self.epoch
            return True
        return False

    def restore(self, model) -> None:
        if self.best_state is None:
            raise RuntimeError("EarlyStopping.restore: no state was saved (no epoch improved, or no model passed)")
        model.load_state_dict(self.best_state)


class History(dict):
    """Per-epoch lists (``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``, ``lr``) plus what happened:
    ``epochs_run``, ``best_epoch`` (0-based, on the monitored value), ``stopped_early``, ``restored``,
    ``best_state`` (a copy of the best epoch's ``state_dict`` when ``keep_best`` or ``restore_best``; else None)
    and ``seconds`` (wall time of the whole run, validation included).
    A dict, so :func:`utils.plots.training_curves` takes it as it is."""

    epochs_run: int = 0
    best_epoch: int | None = None
    stopped_early: bool = False
    restored: bool = False
    best_state: dict | None = None
    seconds: float = 0.0


_MONITORS = ("val_loss", "val_accuracy")
_INT_DTYPES = ("int64", "int32", "int16", "uint8")


def _is_labels(Y) -> bool:
    return str(Y.dtype).replace("torch.", "") in _INT_DTYPES


def _model_device(model):
    p = next(iter(model.parameters()), None)
    return None if p is None else p.device


def fit(model, opt, X, Y, *, epochs: int, batch_size: int, val: tuple | None = None,
        loss_fn: Callable | None = None, patience: int | None = None, restore_best: bool | None = None,
        keep_best: bool = False, monitor: str = "val_loss", scheduler=None, augment: Callable | None = None,
        seed: int = 0, progress: bool = False) -> History:
    """Mini-batch training on tensors ``X, Y`` that already live on the model's device (checked).

    Each epoch reshuffles (a CPU generator seeded with ``seed``, so runs repeat) and takes index slices of
    ``batch_size`` rows: no per-sample Python work, no host sync per step (losses are summed on the device).
    ``augment(x_batch, generator)`` transforms every *training* batch afresh (never the validation set) and draws
    its randomness from the same seeded generator; it must return as many rows as it was given.
    ``scheduler.step()`` is called after every optimiser step (a per-step schedule); the learning rate of each
    epoch's first step is logged in ``lr``.

    With ``val=(X_val, Y_val)`` the validation loss and accuracy are logged after every epoch and ``monitor``
    (``"val_loss"``, lower is better, or ``"val_accuracy"``, higher is better) is tracked: ``patience=P`` stops
    after P epochs without improvement. ``restore_best`` (default: True when ``val`` is given) loads the weights
    of the best epoch at the end; ``keep_best=True`` keeps a copy of them in ``history.best_state`` (so you can
    evaluate the last epoch first and restore afterwards).
    """
    import time

    import torch
    import torch.nn.functional as F

    from .timing import progress as _progress

    epochs = _positive_int(epochs, "epochs")
    batch_size = _positive_int(batch_size, "batch_size")
    if len(X) != len(Y) or len(X) == 0:
        raise ValueError(f"fit: need as many targets as inputs (and at least one): got {len(X)} and {len(Y)}")
    if val is not None and (len(val) != 2 or len(val[0]) != len(val[1])):
        raise ValueError("fit: val must be a pair (X_val, Y_val) of equal length")
    if monitor not in _MONITORS:
        raise ValueError(f"fit: monitor must be one of {_MONITORS}, got {monitor!r}")
    if monitor == "val_accuracy" and not (_is_labels(Y) and (val is None or _is_labels(val[1]))):
        raise ValueError("fit: monitor='val_accuracy' needs integer class labels")
    if patience is not None and val is None:
        raise ValueError(f"fit: early stopping (patience) monitors {monitor}: pass val=(X_val, Y_val)")
    restore_best = (val is not None) if restore_best is None else bool(restore_best)
    if (restore_best or keep_best) and val is None:
        raise ValueError("fit: restore_best / keep_best need a validation set (val=...)")
    if augment is not None and not callable(augment):
        raise TypeError(f"fit: augment must be a function (x_batch, generator) -> x_batch, got {type(augment).__name__}")
    dev = _model_device(model)
    for name, t in (("X", X), ("Y", Y)) + ((("X_val", val[0]), ("Y_val", val[1])) if val is not None else ()):
        if dev is not None and hasattr(t, "device") and t.device != dev:
            raise ValueError(f"fit: {name} is on {t.device} but the model is on {dev}: move the data once, "
                             f"before training (X.to(device)), not batch by batch")
    loss_fn = loss_fn or F.cross_entropy
    classify = _is_labels(Y)
    stopper = EarlyStopping(patience)
    sign = 1.0 if monitor == "val_loss" else -1.0
    h = History(loss=[], accuracy=[], val_loss=[], val_accuracy=[], lr=[])
    g = torch.Generator().manual_seed(seed)
    epoch_iter = _progress(range(epochs), desc="epochs") if progress else range(epochs)
    t0 = time.perf_counter()
    for _ in epoch_iter:
        model.train()
        h["lr"].append(opt.param_groups[0]["lr"])
        order = torch.randperm(len(X), generator=g).to(X.device)
        tot = torch.zeros((), device=X.device)
        hit = torch.zeros((), device=X.device)
        for i in range(0, len(X), batch_size):
            idx = order[i:i + batch_size]
            xb = X[idx]
            if augment is not None:
                xb = augment(xb, g)
                if len(xb) != len(idx):
                    raise ValueError(f"fit: augment returned {len(xb)} rows for a batch of {len(idx)}")
            out = model(xb)
            loss = loss_fn(out, Y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if scheduler is not None:
                scheduler.step()
            tot += loss.detach() * len(idx)
            if classify:
                hit += (out.argmax(1) == Y[idx]).sum()
        h["loss"].append(tot.item() / len(X))
        h["accuracy"].append(hit.item() / len(X) if classify else float("nan"))
        h.epochs_run += 1
        if val is not None:
            vl, va = evaluate(model, val[0], val[1], loss_fn=loss_fn)
            h["val_loss"].append(vl)
            h["val_accuracy"].append(va)
            value = vl if monitor == "val_loss" else va
            if stopper.step(sign * value, model if (restore_best or keep_best) else None):
                h.stopped_early = True
                break
    h.seconds = time.perf_counter() - t0
    if val is None:
        del h["val_loss"], h["val_accuracy"]
    else:
        h.best_epoch = stopper.best_epoch
        h.best_state = stopper.best_state
    if restore_best and stopper.best_state is not None:
        stopper.restore(model)
        h.restored = True
    return h


@dataclass
class MNISTSplit:
    """MNIST cut into train / validation / test, flattened and normalised with training-set statistics."""

    x_train: Any
    y_train: Any
    x_val: Any
    y_val: Any
    x_test: Any
    y_test: Any
    mean: float
    std: float
    idx_train: np.ndarray
    idx_val: np.ndarray
    source: str

    def shapes(self) -> str:
        return (f"train {tuple(self.x_train.shape)}, validation {tuple(self.x_val.shape)}, "
                f"test {tuple(self.x_test.shape)}")


def mnist_split(n_train: int, n_val: int, n_test: int | None = None, *, shuffle_seed: int | None = None,
                normalize: bool = True, flatten: bool = True, as_torch: bool = False, device=None,
                dtype=np.float32, data: tuple | None = None) -> MNISTSplit:
    """Training, validation and test sets from MNIST (``utils.data.load_mnist``, or ``data`` if given).

    The validation images are held out of MNIST's *training* set and never overlap the training slice:
    with ``shuffle_seed=None`` training takes the first ``n_train`` images and validation the last ``n_val``;
    with a seed, validation is the first ``n_val`` of one random permutation and training the next ``n_train``,
    so splits with the same seed and ``n_val`` share their validation set and a larger training set contains
    a smaller one. The test set is the first ``n_test`` of MNIST's
    separate test images (None: all). Pixels are scaled to [0, 1]; with ``normalize`` they are then
    standardised with the mean and standard deviation of the *training slice* (never of validation or test).
    ``source`` names what was used and says SUBSET whenever fewer than all images were used.
    ``as_torch=True`` returns tensors (float32 images, int64 labels) on ``device``.
    """
    n_train = _positive_int(n_train, "n_train")
    n_val = _positive_int(n_val, "n_val")
    n_test = _positive_int(n_test, "n_test", allow_none=True)
    source_line = None
    if data is None:
        from . import data as _data

        data = _data.load_mnist()
        source_line = _data.describe("mnist")
    (x_tr, y_tr), (x_te, y_te) = data
    if n_train + n_val > len(x_tr):
        raise ValueError(f"mnist_split: {n_train} training + {n_val} validation images, but only {len(x_tr)} "
                         "MNIST training images are loaded; validation must not overlap training")
    n_test = len(x_te) if n_test is None else n_test
    if n_test > len(x_te):
        raise ValueError(f"mnist_split: {n_test} test images asked for, only {len(x_te)} loaded")
    if shuffle_seed is None:
        idx_train, idx_val = np.arange(n_train), np.arange(len(x_tr) - n_val, len(x_tr))
    else:
        perm = np.random.default_rng(shuffle_seed).permutation(len(x_tr))
        idx_val, idx_train = perm[:n_val], perm[n_val:n_val + n_train]

    def prep(x):
        x = np.asarray(x, dtype=dtype) / 255.0
        return x.reshape(len(x), -1) if flatten else x

    xs = [prep(x_tr[idx_train]), prep(x_tr[idx_val]), prep(x_te[:n_test])]
    mean, std = float(xs[0].mean()), float(xs[0].std())
    if normalize:
        xs = [((x - mean) / std).astype(dtype) for x in xs]
    ys = [np.asarray(y, np.int64) for y in (y_tr[idx_train], y_tr[idx_val], y_te[:n_test])]
    used = f"used train {n_train:,} / validation {n_val:,} (held out of MNIST train) / test {n_test:,}"
    full = n_train + n_val == len(x_tr) and n_test == len(x_te) and len(x_tr) >= 60000 and len(x_te) >= 10000
    base = source_line or f"MNIST as given: train {len(x_tr):,}, test {len(x_te):,}"
    source = f"{base}; {used}" if full else f"SUBSET of {base}; {used}"
    if as_torch:
        import torch

        xs = [torch.as_tensor(x, device=device) for x in xs]
        ys = [torch.as_tensor(y, device=device) for y in ys]
    return MNISTSplit(xs[0], ys[0], xs[1], ys[1], xs[2], ys[2], mean, std, idx_train, idx_val, source)
