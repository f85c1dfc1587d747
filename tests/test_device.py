import sys
import types

import pytest

from utils import device


def test_summary_without_gpu(monkeypatch):
    monkeypatch.setattr(device, "nvidia_gpus", lambda: ())
    assert device.device_summary().startswith("CPU, ")
    assert device.cpu_threads() >= 1


def test_summary_with_a_gpu(monkeypatch):
    monkeypatch.setattr(device, "nvidia_gpus", lambda: (device.GPU("Tesla T4", 15360),))
    assert device.has_gpu()
    assert device.device_summary() == "GPU: Tesla T4 (15 GiB)"
    assert device.gpu_advice() == ""


@pytest.mark.parametrize("script,expected", [
    ("echo 'Tesla T4, 15360'\necho 'Odd GPU, n/a'", (device.GPU("Tesla T4", 15360), device.GPU("Odd GPU"))),
    ("exit 9", ()),  # a broken driver means no GPU, not a crash
])
def test_nvidia_smi_parsing(monkeypatch, tmp_path, script, expected):
    fake = tmp_path / "nvidia-smi"
    fake.write_text(f"#!/bin/sh\n{script}\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    device.nvidia_gpus.cache_clear()
    try:
        assert device.nvidia_gpus() == expected
    finally:
        device.nvidia_gpus.cache_clear()


def test_colab_detection_and_advice(monkeypatch):
    monkeypatch.setattr(device, "nvidia_gpus", lambda: ())
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert device.is_colab()
    assert "Runtime" in device.gpu_advice()


def test_ci_flag(monkeypatch):
    monkeypatch.setenv("CI", "false")
    assert not device.is_ci()
    monkeypatch.setenv("CI", "true")
    assert device.is_ci()


def test_framework_gpus_validates_and_handles_torch():
    with pytest.raises(ValueError):
        device.framework_gpus("theano")
    assert device.framework_gpus("torch") == [] or device.has_gpu()
    assert str(device.torch_device()) in ("cpu", "cuda", "mps")


def test_set_threads(monkeypatch):
    with pytest.raises(ValueError):
        device.set_threads(-1)
    assert device.set_threads(1) == 1


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-2, ValueError), ("2", TypeError), (2.0, TypeError),
                                        (True, TypeError)])
def test_set_threads_rejects_what_is_not_a_thread_count(bad, error, monkeypatch):
    monkeypatch.setenv("COURSE_THREADS", "1")
    with pytest.raises(error, match="threads"):
        device.set_threads(bad)  # set_threads(0) used to mean "all cores", silently


def test_set_threads_accepts_numpy_integers():
    import numpy as np

    assert device.set_threads(np.int64(1)) == 1


def test_zero_threads_in_the_environment_is_an_error(monkeypatch):
    monkeypatch.setenv("COURSE_THREADS", "0")
    with pytest.raises(ValueError, match="COURSE_THREADS"):
        device.set_threads()


def test_set_threads_follows_the_environment(monkeypatch):
    monkeypatch.setenv("COURSE_THREADS", "1")
    assert device.set_threads() == 1
    monkeypatch.delenv("COURSE_THREADS")
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert device.set_threads() == 2
    monkeypatch.setenv("OMP_NUM_THREADS", "many")
    with pytest.raises(ValueError, match="OMP_NUM_THREADS"):
        device.set_threads()


def test_set_threads_limits_blas_at_run_time():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    import numpy  # noqa: F401 - loads its BLAS

    before = threadpoolctl.threadpool_info()
    try:
        device.set_threads(1, blas=True)
        assert all(pool["num_threads"] == 1 for pool in threadpoolctl.threadpool_info())
    finally:
        for pool in before:
            threadpoolctl.threadpool_limits(limits=pool["num_threads"], user_api=pool["user_api"])
