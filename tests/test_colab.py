"""The Colab branch of the setup cell, simulated: a stub ``google.colab`` module and a local bare git
repository as the clone source. The setup cell's own text (from a real notebook) is executed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from utils import colab
from utils.paths import REPO_ROOT, notebook_paths

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


def test_prepare_installs_only_what_is_missing(monkeypatch):
    calls = []
    monkeypatch.setattr(colab, "missing_packages", lambda: ["gensim>=4.3"])
    assert colab.prepare(run=lambda cmd, check: calls.append(cmd)) == ["gensim>=4.3"]
    assert calls and calls[0][-1] == "gensim>=4.3" and calls[0][1:4] == ["-m", "pip", "install"]
    monkeypatch.setattr(colab, "missing_packages", lambda: [])
    assert colab.prepare(run=lambda *a, **k: pytest.fail("nothing to install")) == []


def test_setup_cell_and_badge_come_from_one_repository_setting():
    import utils

    cell = colab.setup_cell("01_hopfield", keras=True)
    assert f"https://github.com/{utils.GITHUB_REPO}" in cell and colab.COLAB_DIR in cell
    assert 'course = utils.setup("01_hopfield", seed=0, keras=True)' in cell
    assert f"github/{utils.GITHUB_REPO}/blob/main/notebooks/01_hopfield.ipynb" in colab.colab_badge("01_hopfield.ipynb")


@pytest.mark.skipif(GIT is None, reason="git is not installed")
def test_setup_cell_on_simulated_colab_clones_once_and_imports_the_clone(tmp_path):
    # 1. a bare repository holding this course (the files the setup cell needs)
    src = tmp_path / "src"
    shutil.copytree(REPO_ROOT / "utils", src / "utils", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO_ROOT / "requirements.txt", src / "requirements.txt")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "course"]):
        subprocess.run([GIT, *cmd], cwd=src, check=True, env=env)
    bare = tmp_path / "course.git"
    subprocess.run([GIT, "clone", "-q", "--bare", str(src), str(bare)], check=True)

    # 2. the setup cell of a real notebook, pointed at the bare repo and a temporary /content
    nb = notebook_paths()[0]
    setup_src = "".join(next(c for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code")["source"])
    content = tmp_path / "content" / "course"
    setup_src = setup_src.replace(colab.repo_url(), bare.as_uri()).replace(colab.COLAB_DIR, str(content))

    # 3. run it twice in a fresh interpreter with a stub google.colab and IPython's `!` handling
    stub = tmp_path / "stub"
    (stub / "google" / "colab").mkdir(parents=True)
    (stub / "google" / "__init__.py").write_text("")
    (stub / "google" / "colab" / "__init__.py").write_text("")
    driver = (
        "import sys, subprocess, google.colab\n"
        "from IPython.core.inputtransformer2 import TransformerManager\n"
        "class Shell:\n"
        "    def system(self, cmd):\n"
        "        print('SHELL', cmd); subprocess.run(cmd, shell=True, check=True)\n"
        "code = TransformerManager().transform_cell(open(sys.argv[1]).read())\n"
        "g = {'get_ipython': lambda: Shell()}\n"
        "exec(code, g)\n"
        "print('UTILS', g['utils'].__file__)\n"
        "print('PROFILE', g['course'].profile)\n"
    )
    (tmp_path / "cell.py").write_text(setup_src)
    run_env = {**env, "PYTHONPATH": str(stub), "COURSE_COLAB_DRY_RUN": "1", "COURSE_PROFILE": "smoke",
               "COURSE_BUILD_DIR": str(tmp_path / "build")}
    outs = []
    for _ in range(2):
        res = subprocess.run([sys.executable, "-c", driver, str(tmp_path / "cell.py")], cwd=tmp_path,
                             capture_output=True, text=True, env=run_env, timeout=300)
        assert res.returncode == 0, res.stderr[-3000:]
        outs.append(res.stdout)
    assert "SHELL git clone" in outs[0] and "SHELL" not in outs[1]  # cloned once, reused after
    assert f"UTILS {content}/utils/__init__.py" in outs[0]          # utils imported from the clone
    assert "PROFILE smoke" in outs[0] and (content / ".git").is_dir()
