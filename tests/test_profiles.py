import pytest

from utils import profiles
from utils.profiles import ProfileError, budget, get_profile


def test_override_and_automatic_choice(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", " CPU ")
    assert get_profile() == "cpu"
    monkeypatch.delenv("COURSE_PROFILE")
    assert get_profile(has_gpu=True) == "gpu"
    assert get_profile(has_gpu=False) == "cpu"


def test_bad_profile_lists_the_valid_ones(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "turbo")
    with pytest.raises(ProfileError, match="smoke, cpu, gpu"):
        get_profile()


def test_budget_picks_the_active_column(capsys):
    b = budget(smoke=dict(epochs=1, n=100), cpu=dict(epochs=5, n=60000), gpu=dict(epochs=20, n=60000), profile="cpu")
    assert (b.epochs, b.n, b.profile) == (5, 60000, "cpu")
    out = capsys.readouterr().out
    assert "cpu*" in out and "60,000" in out


def test_budget_requires_the_same_keys():
    with pytest.raises(ProfileError, match="gpu"):
        budget(smoke=dict(a=1), cpu=dict(a=2), gpu=dict(b=3), profile="smoke", show=False)


def test_budget_follows_the_environment(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    assert budget(smoke=dict(k=1), cpu=dict(k=2), gpu=dict(k=3), show=False).k == 1


def test_format_budget_marks_active():
    text = profiles.format_budget({"smoke": {"x": 1.5}, "cpu": {"x": 2}, "gpu": {"x": True}}, "gpu")
    assert "gpu*" in text and "True" in text
