"""utils.keras_train: fit with its epoch timer and test evaluation, snapshot / restore, warm_up.

Runs on whichever backend KERAS_BACKEND names (jax by default; CI repeats the Keras tests on tensorflow and torch).
Tiny models, so that the whole module takes a few seconds.
"""

import numpy as np
import pytest

from utils import backend

pytestmark = pytest.mark.keras

try:
    backend.choose_backend()
except RuntimeError:  # Keras already imported by another test module, with its own backend: use that one
    pass
keras = pytest.importorskip("keras")
from utils import keras_train  # noqa: E402


def _data(n=192, d=6, k=3, seed=0):
    r = np.random.default_rng(seed)
    y = r.integers(0, k, n)
    x = (r.normal(size=(n, d)) + 2.0 * np.eye(k, d)[y]).astype("float32")
    return x, keras.utils.to_categorical(y, k).astype("float32")


def _model(dropout=0.0, name="net"):
    keras.utils.set_random_seed(0)
    layers = [keras.Input((6,)), keras.layers.Dense(8, activation="relu")]
    layers += [keras.layers.Dropout(dropout)] if dropout else []
    return keras.Sequential([*layers, keras.layers.Dense(3, activation="softmax")], name=name)


def _values(model):
    return [np.array(keras.ops.convert_to_numpy(v)) for v in [*model.variables, *model.optimizer.variables]]


def test_fit_times_epochs_and_evaluates_the_test_set():
    x, y = _data()
    xt, yt = _data(96, seed=1)
    run = keras_train.fit(_model(), x, y, epochs=3, batch_size=32, validation_split=0.25, test_data=(xt, yt),
                          test_each_epoch=True, optimizer=keras.optimizers.Adam(0.05),
                          loss="categorical_crossentropy", metrics=["accuracy"])
    assert run.epochs == 3 and len(run.history["val_loss"]) == 3 and all(s > 0 for s in run.epoch_seconds)
    assert np.allclose(run.elapsed, np.cumsum(run.epoch_seconds)) and run.seconds >= run.elapsed[-1]
    loss, acc = run.model.evaluate(xt, yt, batch_size=128, verbose=0)
    assert np.isclose(run.test["accuracy"], acc) and np.isclose(run.test["loss"], loss, rtol=1e-5)
    assert len(run.curve("accuracy")) == 3 and run.curve("loss")[-1] == run.test["loss"]
    assert run.history["loss"][-1] < run.history["loss"][0]
    assert "test: " in run.summary() and run.model.name in run.summary()
    two = run.after(2)
    assert two.epochs == 2 and two.history["loss"] == run.history["loss"][:2] and two.test == run.test_curve[1]
    with pytest.raises(ValueError, match="between 1 and 3"):
        run.after(4)
    again = keras_train.fit(run.model, x, y, epochs=1, batch_size=32, test_data=(xt, yt, np.ones(96)))
    assert again.test_curve == [] and set(again.test) >= {"loss", "accuracy"}      # compiled model kept
    with pytest.raises(ValueError, match="test_each_epoch"):
        again.curve()


def test_fit_refuses_bad_input():
    x, y = _data()
    with pytest.raises(ValueError, match="not compiled"):
        keras_train.fit(_model(), x, y, epochs=1)
    model = _model()
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    with pytest.raises(ValueError, match="same number of samples"):
        keras_train.fit(model, x, y[:-1], epochs=1)
    with pytest.raises(ValueError, match="same number of samples"):
        keras_train.fit(model, x, y, epochs=1, test_data=(x[:10], y[:11]))
    with pytest.raises(ValueError, match=r"\(x, y\) or"):
        keras_train.fit(model, x, y, epochs=1, validation_data=x)
    with pytest.raises(ValueError, match="epochs"):
        keras_train.fit(model, x, y, epochs=0)
    with pytest.raises(ValueError, match="needs test_data"):
        keras_train.fit(model, x, y, epochs=1, test_each_epoch=True)
    with pytest.raises(ValueError, match="without optimizer"):
        keras_train.fit(model, x, y, epochs=1, loss="mse")


def test_restore_repeats_a_fresh_run_exactly():
    """Dropout masks, data shuffling and the optimiser's moments all come back: two restored runs are equal.

    (The first fit of a model draws one extra shuffling permutation while it builds its step function, so the
    runs compared are the ones after it, as after keras_train.warm_up.)
    """
    x, y = _data()
    model = _model(dropout=0.3)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="categorical_crossentropy")
    assert not model.optimizer.built
    start = keras_train.snapshot(model, seed=0)        # builds the optimiser, as fit would
    assert model.optimizer.built and "variables" in repr(start)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    runs, ends = [], []
    for _ in range(2):
        assert start.restore() is model
        assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 0
        runs.append(model.fit(x, y, batch_size=32, epochs=2, verbose=0).history["loss"])
        ends.append(_values(model))
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 2 * 6
    assert np.allclose(runs[0], runs[1], rtol=1e-6, atol=0)
    for a, b in zip(*ends):
        assert np.allclose(a, b, rtol=1e-5, atol=1e-7)
    numpy_state = np.random.get_state()[1].copy()
    start.restore(seed=None)                           # seed=None: the variables only, the random streams untouched
    assert np.array_equal(np.random.get_state()[1], numpy_state)
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 0


def test_snapshot_of_models_that_share_layers():
    body = _model(name="body")
    head = keras.Sequential([body, keras.layers.Dense(2)], name="head")     # shares body's layers
    body.compile(optimizer="adam", loss="categorical_crossentropy")
    head.compile(optimizer="sgd", loss="mse")
    snap = keras_train.snapshot([body, head])
    n_unique = len({id(v) for m in (body, head) for v in [*m.variables, *m.optimizer.variables]})
    assert len(snap.values) == n_unique
    w0 = [w.copy() for w in head.get_weights()]
    head.set_weights([w + 1.0 for w in w0])
    models = snap.restore()
    assert models == [body, head]
    for a, b in zip(w0, head.get_weights()):
        assert np.array_equal(a, b)


def test_snapshot_refuses_what_it_cannot_restore():
    with pytest.raises(ValueError, match="no optimizer"):
        keras_train.snapshot(_model())
    with pytest.raises(TypeError):
        keras_train.snapshot(np.zeros(3))
    with pytest.raises(ValueError, match="at least one"):
        keras_train.snapshot([])
    unbuilt = keras.Sequential([keras.layers.Dense(2)])
    unbuilt.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="no weights yet"):
        keras_train.snapshot(unbuilt)
    model = _model()
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    snap = keras_train.snapshot(model)
    model.compile(optimizer="adam", loss="categorical_crossentropy")    # other optimiser: other variables
    with pytest.raises(ValueError, match="no longer match"):
        snap.restore()


def test_warm_up_leaves_the_model_as_it_was():
    x, y = _data()
    model = _model(dropout=0.2)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    keras_train.snapshot(model)                               # builds the optimiser, so that _values can read it
    before = _values(model)
    seconds = keras_train.warm_up(model, x, y, batch_size=32, test_data=(x[:64], y[:64]), test_batch_size=64)
    assert seconds > 0
    for a, b in zip(before, _values(model)):
        assert np.array_equal(a, b)
