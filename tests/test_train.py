import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from utils import train  # noqa: E402


def _blobs(n=300, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    X = torch.randn(n, 2, generator=g) + 3 * torch.eye(3)[y][:, :2] - 1.5 * (y == 2).float()[:, None]
    return X, y


def test_count_params_module_arrays_and_errors():
    net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    assert train.count_params(net) == 4 * 3 + 3 + 3 * 2 + 2
    net[0].weight.requires_grad_(False)
    assert train.count_params(net, trainable_only=True) == 3 + 3 * 2 + 2
    assert train.count_params([np.zeros((2, 5)), np.zeros(7)]) == 17
    with pytest.raises(TypeError):
        train.count_params("weights")
    with pytest.raises(TypeError):
        train.count_params([1.0, 2.0])


def test_predict_and_evaluate_restore_mode_and_match_by_hand():
    X, y = _blobs()
    net = nn.Sequential(nn.Linear(2, 8), nn.Dropout(0.5), nn.Linear(8, 3))
    net.train()
    loss, acc = train.evaluate(net, X, y, batch_size=7)           # chunks must not change the answer
    assert net.training, "evaluate must restore train mode"
    net.eval()
    with torch.no_grad():
        logits = net(X)
    assert math.isclose(loss, nn.functional.cross_entropy(logits, y).item(), rel_tol=1e-5)
    assert math.isclose(acc, (logits.argmax(1) == y).float().mean().item())
    out = train.predict(net, X, batch_size=None)
    assert not out.requires_grad and out.shape == (300, 3)
    with pytest.raises(ValueError):
        train.evaluate(net, X, y[:5])
    with pytest.raises(ValueError):
        train.predict(net, X, batch_size=0)
    _, acc_reg = train.evaluate(nn.Linear(2, 1), X, torch.randn(300, 1), loss_fn=nn.functional.mse_loss)
    assert math.isnan(acc_reg)


def test_early_stopping_rule():
    es = train.EarlyStopping(patience=2)
    stops = [es.step(v) for v in [3.0, 2.0, 2.0, 2.5]]
    assert stops == [False, False, False, True]
    assert es.best_epoch == 1 and es.stopped_epoch == 3          # a tie is no improvement
    never = train.EarlyStopping(None)
    assert not any(never.step(v) for v in np.linspace(1, 2, 20))
    assert never.best_epoch == 0
    nan = train.EarlyStopping(1)
    assert nan.step(float("nan")) is True                         # nan never improves
    with pytest.raises(ValueError):
        train.EarlyStopping(patience=0)
    with pytest.raises(ValueError):
        train.EarlyStopping(2, min_delta=-1)
    with pytest.raises(RuntimeError):
        train.EarlyStopping(2).restore(nn.Linear(1, 1))


def test_fit_learns_is_reproducible_and_validates_input():
    X, y = _blobs()
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
        h = train.fit(net, torch.optim.Adam(net.parameters(), lr=1e-2), X, y, epochs=15, batch_size=32)
        runs.append(h)
    assert runs[0]["loss"] == runs[1]["loss"], "same seed, same run"
    assert runs[0]["loss"][-1] < 0.5 * runs[0]["loss"][0] and runs[0]["accuracy"][-1] > 0.85
    assert "val_loss" not in runs[0] and runs[0].epochs_run == 15 and not runs[0].restored
    # the epoch loss is the mean of the batch losses: check against a hand loop for one epoch
    torch.manual_seed(1)
    net = nn.Linear(2, 3)
    twin = nn.Linear(2, 3)
    twin.load_state_dict(net.state_dict())
    h = train.fit(net, torch.optim.SGD(net.parameters(), lr=0.1), X, y, epochs=1, batch_size=len(X))
    ref = nn.functional.cross_entropy(twin(X), y).item()
    assert math.isclose(h["loss"][0], ref, rel_tol=1e-6)
    with pytest.raises(ValueError, match="patience"):
        train.fit(net, torch.optim.SGD(net.parameters(), lr=0.1), X, y, epochs=1, batch_size=8, patience=2)
    with pytest.raises(ValueError):
        train.fit(net, torch.optim.SGD(net.parameters(), lr=0.1), X, y[:3], epochs=1, batch_size=8)
    with pytest.raises(ValueError):
        train.fit(net, torch.optim.SGD(net.parameters(), lr=0.1), X, y, epochs=0, batch_size=8)
    with pytest.raises(ValueError):
        train.fit(net, torch.optim.SGD(net.parameters(), lr=0.1), X, y, epochs=1, batch_size=8, restore_best=True)


def test_fit_early_stopping_stops_and_restores_best():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(40, 5, generator=g)
    y = torch.randint(0, 2, (40,), generator=g)                  # pure noise: a big net overfits at once
    Xv, yv = torch.randn(200, 5, generator=g), torch.randint(0, 2, (200,), generator=g)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 256), nn.ReLU(), nn.Linear(256, 2))
    h = train.fit(net, torch.optim.Adam(net.parameters(), lr=1e-2), X, y, epochs=300, batch_size=40,
                  val=(Xv, yv), patience=10)
    assert h.stopped_early and h.epochs_run < 300
    assert h.epochs_run - 1 - h.best_epoch == 10
    assert h["val_loss"][h.best_epoch] == min(h["val_loss"])
    assert h.restored
    assert math.isclose(train.evaluate(net, Xv, yv)[0], min(h["val_loss"]), rel_tol=1e-6)


def test_fit_calls_scheduler_every_step():
    X, y = _blobs(64)
    net = nn.Linear(2, 3)
    opt = torch.optim.SGD(net.parameters(), lr=1.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 ** s)
    h = train.fit(net, opt, X, y, epochs=3, batch_size=16, scheduler=sched)   # 4 steps per epoch
    assert h["lr"] == [1.0, 0.5 ** 4, 0.5 ** 8]


def _fake_mnist(n_tr=100, n_te=30):
    r = np.random.default_rng(0)
    return ((r.integers(0, 256, (n_tr, 28, 28), dtype=np.uint8), r.integers(0, 10, n_tr, dtype=np.uint8)),
            (r.integers(0, 256, (n_te, 28, 28), dtype=np.uint8), r.integers(0, 10, n_te, dtype=np.uint8)))


def test_mnist_split_disjoint_normalised_labelled():
    fake = _fake_mnist()
    s = train.mnist_split(60, 25, 10, data=fake)
    assert s.x_train.shape == (60, 784) and s.x_val.shape == (25, 784) and s.x_test.shape == (10, 784)
    assert not set(s.idx_train) & set(s.idx_val)
    assert abs(s.x_train.mean()) < 1e-5 and abs(s.x_train.std() - 1) < 1e-4       # training-set statistics
    assert abs(s.x_val.mean()) > 1e-6                                              # ... not the validation set's
    np.testing.assert_allclose(s.x_val[0], (fake[0][0][75].reshape(-1) / 255.0 - s.mean) / s.std, rtol=1e-5)
    assert s.source.startswith("SUBSET")
    sh = train.mnist_split(60, 40, data=fake, shuffle_seed=3, as_torch=True, normalize=False)
    assert not set(sh.idx_train) & set(sh.idx_val) and len(sh.x_test) == 30
    small = train.mnist_split(20, 40, data=fake, shuffle_seed=3)
    assert np.array_equal(small.idx_val, sh.idx_val) and set(small.idx_train) <= set(sh.idx_train)
    assert sh.x_train.dtype == torch.float32 and sh.y_train.dtype == torch.int64 and float(sh.x_train.max()) <= 1
    with pytest.raises(ValueError, match="overlap"):
        train.mnist_split(80, 25, data=fake)
    with pytest.raises(ValueError):
        train.mnist_split(10, 10, 31, data=fake)
    with pytest.raises(ValueError):
        train.mnist_split(0, 10, data=fake)


def _hand_loop(net, opt, X, y, epochs, batch, augment, seed, sched=None):
    """The loop chapter 06 used to write by hand: randperm + split, augment per batch from the same generator."""
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        net.train()
        for idx in torch.randperm(len(y), generator=gen).split(batch):
            xb = X[idx] if augment is None else augment(X[idx], gen)
            loss = nn.functional.cross_entropy(net(xb), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()


def _noisy_flip(x, gen):
    """A toy augmentation: random sign flips of the features plus noise, all drawn from gen."""
    sign = torch.where(torch.rand(len(x), 1, generator=gen) < 0.5, -1.0, 1.0)
    return x * sign + 0.1 * torch.randn(x.shape, generator=gen)


def test_fit_augment_matches_the_hand_loop_bit_for_bit():
    X, y = _blobs(100)
    nets = []
    for use_fit in (True, False):
        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))
        opt = torch.optim.AdamW(net.parameters(), lr=1e-2, weight_decay=0.05)
        if use_fit:
            train.fit(net, opt, X, y, epochs=3, batch_size=16, augment=_noisy_flip, seed=5)
        else:
            _hand_loop(net, opt, X, y, 3, 16, _noisy_flip, 5)
        nets.append(net)
    for a, b in zip(nets[0].parameters(), nets[1].parameters()):
        assert torch.equal(a, b), "fit with augment must be the same loop as the hand-written one"


def test_fit_augments_training_batches_only_and_checks_the_augmentation():
    X, y = _blobs(40)
    seen = []

    def spy(x, gen):
        assert isinstance(gen, torch.Generator)
        seen.append(len(x))
        return x
    net = nn.Linear(2, 3)
    train.fit(net, torch.optim.SGD(net.parameters(), lr=0.1), X, y, epochs=2, batch_size=16, augment=spy,
              val=(X[:7], y[:7]))
    assert seen == [16, 16, 8] * 2, "every training batch once per epoch; never the 7 validation rows"
    with pytest.raises(ValueError, match="rows"):
        train.fit(net, torch.optim.SGD(net.parameters(), lr=0.1), X, y, epochs=1, batch_size=16,
                  augment=lambda x, g: x[:1])
    with pytest.raises(TypeError, match="augment"):
        train.fit(net, torch.optim.SGD(net.parameters(), lr=0.1), X, y, epochs=1, batch_size=16, augment="flip")


def test_fit_monitor_val_accuracy_and_keep_best():
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(40, 5, generator=g), torch.randint(0, 2, (40,), generator=g)
    Xv, yv = torch.randn(200, 5, generator=g), torch.randint(0, 2, (200,), generator=g)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 64), nn.ReLU(), nn.Linear(64, 2))
    h = train.fit(net, torch.optim.Adam(net.parameters(), lr=1e-2), X, y, epochs=30, batch_size=40,
                  val=(Xv, yv), monitor="val_accuracy", restore_best=False, keep_best=True)
    acc = h["val_accuracy"]
    assert h.best_epoch == int(np.argmax(acc)), "the first epoch with the highest validation accuracy"
    assert not h.restored and h.best_state is not None and h.seconds > 0
    assert math.isclose(train.evaluate(net, Xv, yv)[1], acc[-1]), "restore_best=False leaves the last weights"
    net.load_state_dict(h.best_state)
    assert math.isclose(train.evaluate(net, Xv, yv)[1], max(acc)), "best_state holds the best epoch's weights"
    assert train.fit(net, torch.optim.SGD(net.parameters(), lr=0.1), X, y, epochs=1, batch_size=8,
                     val=(Xv, yv), restore_best=False).best_state is None, "no copy unless asked for"
    with pytest.raises(ValueError, match="monitor"):
        train.fit(net, torch.optim.SGD(net.parameters(), lr=0.1), X, y, epochs=1, batch_size=8, val=(Xv, yv),
                  monitor="accuracy")
    with pytest.raises(ValueError, match="integer"):
        train.fit(nn.Linear(5, 1), torch.optim.SGD(net.parameters(), lr=0.1), X, torch.randn(40, 1), epochs=1,
                  batch_size=8, val=(Xv, torch.randn(200, 1)), monitor="val_accuracy",
                  loss_fn=nn.functional.mse_loss)
    with pytest.raises(ValueError, match="keep_best"):
        train.fit(net, torch.optim.SGD(net.parameters(), lr=0.1), X, y, epochs=1, batch_size=8, keep_best=True)


def test_fit_refuses_data_on_another_device_and_keeps_channels_last():
    X, y = _blobs(32)
    net = nn.Linear(2, 3)
    with pytest.raises(ValueError, match="device"):
        train.fit(net, torch.optim.SGD(net.parameters(), lr=0.1), X.to("meta"), y, epochs=1, batch_size=8)
    with pytest.raises(ValueError, match="X_val"):
        train.fit(net, torch.optim.SGD(net.parameters(), lr=0.1), X, y, epochs=1, batch_size=8,
                  val=(X.to("meta"), y))

    class NeedsChannelsLast(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.fc = nn.Conv2d(3, 4, 3, padding=1), nn.Linear(4, 3)

        def forward(self, x):
            if self.training:
                assert x.is_contiguous(memory_format=torch.channels_last), "a batch lost the channels_last layout"
            return self.fc(self.conv(x).mean((2, 3)))
    imgs = torch.randn(32, 3, 8, 8).contiguous(memory_format=torch.channels_last)
    net = NeedsChannelsLast().to(memory_format=torch.channels_last)
    h = train.fit(net, torch.optim.SGD(net.parameters(), lr=0.1), imgs, y, epochs=2, batch_size=8)
    assert h.epochs_run == 2


def test_library_warmup_cosine_schedule_per_step():
    # chapter 06's schedule: linear warm-up over one epoch, then a cosine to 0, stepped after every batch
    X, y = _blobs(64)
    net = nn.Linear(2, 3)
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3)
    warm, total = 4, 6 * 4                                  # 64 rows / 16 = 4 steps per epoch, 6 epochs
    sched = torch.optim.lr_scheduler.SequentialLR(opt, [
        torch.optim.lr_scheduler.LinearLR(opt, start_factor=1 / warm, end_factor=1.0, total_iters=warm - 1),
        torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total - warm)], milestones=[warm])
    h = train.fit(net, opt, X, y, epochs=6, batch_size=16, scheduler=sched)

    def closed_form(t):
        return 3e-3 * ((t + 1) / warm if t < warm else 0.5 * (1 + math.cos(math.pi * (t - warm) / (total - warm))))
    np.testing.assert_allclose(h["lr"], [closed_form(4 * e) for e in range(6)], rtol=1e-9, atol=1e-15)
