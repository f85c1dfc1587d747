"""The Colab branch of the setup cell: what gets installed, what is reported, and the setup cell itself run in a
real IPython shell (its ``!git clone`` goes through IPython's own system call, which does not raise on failure),
with a stub ``google.colab`` module and a local bare git repository as the clone source."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from utils import colab
from utils.paths import REPO_ROOT

GIT = shutil.which("git")


def test_missing_packages_honours_markers_dev_tools_and_import_names():
    reqs = ["numpy>=1.26", "scikit-learn>=1.4", "gensim>=4.3", "pytest>=8", "nbval",
            'tensorflow-cpu>=2.16; sys_platform == "linux" and platform_machine == "x86_64"',
            'tensorflow>=2.16; sys_platform != "linux" or platform_machine != "x86_64"']
    present = {"numpy", "sklearn"}
    missing = colab.missing_packages(reqs, is_importable=lambda m: m in present)
    assert "gensim>=4.3" in missing and not any(m.startswith(("numpy", "scikit", "pytest", "nbval")) for m in missing)
    assert sum(m.startswith("tensorflow") for m in missing) == 1  # exactly one of the two marker lines applies
    assert colab.missing_packages(reqs, is_importable=lambda m: True) == []


def test_chapter_only_packages_are_installed_for_their_chapter_only():
    reqs = ["gensim>=4.3", "nltk>=3.9"]
    nothing = lambda m: False  # noqa: E731
    assert colab.missing_packages(reqs, nothing, notebook="05_keras_mnist") == ["nltk>=3.9"]
    assert colab.missing_packages(reqs, nothing, notebook="07_word_embeddings") == ["gensim>=4.3", "nltk>=3.9"]


def test_outdated_packages_are_reported_not_reinstalled():
    reqs = ["keras>=3.6,<4", "numpy>=1.26,<3", "pytest>=8"]
    versions = {"keras": "3.5.0", "numpy": "2.0.2", "pytest": "7.0"}
    assert colab.outdated_packages(reqs, version=versions.get) == ["keras 3.5.0 (the course needs keras<4,>=3.6)"]


def _result(code: int, out: str = "", err: str = ""):
    return SimpleNamespace(returncode=code, stdout=out, stderr=err)


def test_prepare_installs_only_what_is_missing(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(colab, "missing_packages", lambda notebook=None: ["gensim>=4.3"])
    monkeypatch.setattr(colab, "outdated_packages", lambda: [])
    monkeypatch.delenv("COURSE_COLAB_DRY_RUN", raising=False)
    assert colab.prepare("07_word_embeddings", run=lambda cmd, **kw: calls.append(cmd) or _result(0)) == ["gensim>=4.3"]
    assert calls and calls[0][-1] == "gensim>=4.3" and calls[0][1:4] == ["-m", "pip", "install"]
    assert "RESTART" not in capsys.readouterr().out  # nothing imported changed
    monkeypatch.setattr(colab, "missing_packages", lambda notebook=None: [])
    assert colab.prepare(run=lambda *a, **k: pytest.fail("nothing to install")) == []


def test_prepare_says_restart_when_an_imported_package_changed(monkeypatch, capsys):
    monkeypatch.setattr(colab, "missing_packages", lambda notebook=None: ["numpy>=2"])
    monkeypatch.setattr(colab, "outdated_packages", lambda: ["keras 3.5.0 (the course needs keras<4,>=3.6)"])
    monkeypatch.delenv("COURSE_COLAB_DRY_RUN", raising=False)
    snapshots = iter([{"numpy": "1.26.4"}, {"numpy": "2.1.0"}])
    monkeypatch.setattr(colab, "_installed_versions", lambda: next(snapshots))
    colab.prepare(run=lambda cmd, **kw: _result(0))
    out = capsys.readouterr().out
    assert "note: Colab has keras 3.5.0" in out
    assert "RESTART NEEDED" in out and "numpy 1.26.4 → 2.1.0" in out and "Runtime > Restart session" in out


def test_imported_changes_counts_only_imported_modules():
    before = {"numpy": "1.0", "gensim": "4.3.0", "tqdm": "4.66"}
    after = {"numpy": "2.0", "gensim": "4.4.0", "tqdm": "4.66"}
    assert colab.imported_changes(before, after, modules=["numpy.linalg", "tqdm"]) == ["numpy 1.0 → 2.0"]
    assert colab.imported_changes(before, after, modules=[]) == []


def test_a_real_pip_failure_stops_with_pips_message(monkeypatch):
    """A real pip, offline (--no-index through pip's environment variable): a clear error with pip's words."""
    monkeypatch.setattr(colab, "missing_packages", lambda notebook=None: ["h2t-no-such-package==0.0.1"])
    monkeypatch.setattr(colab, "outdated_packages", lambda: [])
    monkeypatch.delenv("COURSE_COLAB_DRY_RUN", raising=False)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    with pytest.raises(RuntimeError, match=r"(?s)pip could not install h2t-no-such-package==0.0.1 \(exit 1\).*"
                                           r"(No matching distribution|Could not find a version)"):
        colab.prepare()


def test_the_repository_setting_lives_in_paths_and_the_package_agrees():
    """colab needs nothing from ``utils/__init__`` (no import cycle); ``utils.GITHUB_REPO`` is the same value."""
    import utils
    from utils import paths

    assert utils.GITHUB_REPO == paths.GITHUB_REPO and "from . import" not in Path(colab.__file__).read_text()


def test_badge_setup_cell_and_clone_share_one_repository_and_revision():
    import utils

    cell = colab.setup_cell("01_hopfield", keras=True)
    assert f"--branch {colab.GIT_REF} https://github.com/{utils.GITHUB_REPO} {colab.COLAB_DIR}" in cell
    assert 'course = utils.setup("01_hopfield", seed=0, keras=True)' in cell
    badge = colab.colab_badge("01_hopfield.ipynb")
    assert f"github/{utils.GITHUB_REPO}/blob/{colab.GIT_REF}/notebooks/01_hopfield.ipynb" in badge
    assert colab.repo_url() == f"https://github.com/{utils.GITHUB_REPO}"


# ------------------------------------------------------------------------- the setup cell in a real IPython

DRIVER = """
import sys, google.colab
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
result = shell.run_cell(open(sys.argv[1]).read())
err = result.error_in_exec or result.error_before_exec
print("ERROR", type(err).__name__ if err else None, err)
if err is None:
    print("UTILS", shell.user_ns["utils"].__file__)
    print("PROFILE", shell.user_ns["course"].profile)
"""


def _bare_repo(tmp_path, branch: str = "main"):
    """A bare repository holding this course's ``utils`` and ``requirements.txt`` on ``branch``."""
    src = tmp_path / "src"
    shutil.copytree(REPO_ROOT / "utils", src / "utils", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO_ROOT / "requirements.txt", src / "requirements.txt")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    for cmd in (["init", "-q", "-b", branch], ["add", "-A"], ["commit", "-qm", "course"]):
        subprocess.run([GIT, *cmd], cwd=src, check=True, env=env, capture_output=True)
    bare = tmp_path / "course.git"
    subprocess.run([GIT, "clone", "-q", "--bare", str(src), str(bare)], check=True, capture_output=True)
    return bare


def _run_cell(tmp_path, url: str, content):
    cell = colab.setup_cell("00_welcome").replace(colab.repo_url(), url).replace(colab.COLAB_DIR, str(content))
    (tmp_path / "cell.py").write_text(cell)
    stub = tmp_path / "stub"
    (stub / "google" / "colab").mkdir(parents=True, exist_ok=True)
    (stub / "google" / "__init__.py").write_text("")
    (stub / "google" / "colab" / "__init__.py").write_text("")
    env = {**os.environ, "PYTHONPATH": str(stub), "COURSE_COLAB_DRY_RUN": "1", "COURSE_PROFILE": "smoke",
           "COURSE_BUILD_DIR": str(tmp_path / "build"), "GIT_TERMINAL_PROMPT": "0"}
    res = subprocess.run([sys.executable, "-c", DRIVER, str(tmp_path / "cell.py")], cwd=tmp_path,
                         capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    return res.stdout + res.stderr


@pytest.mark.skipif(GIT is None, reason="git is not installed")
def test_setup_cell_on_simulated_colab_clones_once_and_imports_the_clone(tmp_path):
    bare = _bare_repo(tmp_path)
    content = tmp_path / "content" / "course"
    first = _run_cell(tmp_path, bare.as_uri(), content)
    assert "ERROR None" in first, first
    assert f"UTILS {content}/utils/__init__.py" in first and "PROFILE smoke" in first  # the clone's utils
    head = (content / ".git" / "HEAD").read_text()
    assert f"refs/heads/{colab.GIT_REF}" in head  # the revision the badge names
    (content / "utils" / "MARK").write_text("kept")
    second = _run_cell(tmp_path, bare.as_uri(), content)
    assert "ERROR None" in second and (content / "utils" / "MARK").exists()  # not cloned again


@pytest.mark.skipif(GIT is None, reason="git is not installed")
@pytest.mark.parametrize("source", ["missing-repo", "missing-branch"])
def test_a_failed_clone_stops_the_setup_cell_with_a_clear_message(tmp_path, source):
    if source == "missing-repo":
        url = (tmp_path / "no-such-repo.git").as_uri()
    else:
        url = _bare_repo(tmp_path, branch="other").as_uri()  # the repository lacks the revision GIT_REF
    content = tmp_path / "content" / "course"
    out = _run_cell(tmp_path, url, content)
    assert "ERROR RuntimeError git could not clone the course" in out, out
    assert "fatal:" in out  # git's own message is shown above ours
    assert "UTILS" not in out and not (content / "utils").exists()
