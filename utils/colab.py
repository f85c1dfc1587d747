"""The Colab branch of the setup cell.

On Colab the setup cell clones the course once (``git clone`` into :data:`COLAB_DIR`, only when that folder is
missing) and imports ``utils`` from the clone; :func:`utils.setup` then calls :func:`prepare`, which installs
only the packages Colab lacks. Everything else about Colab (GPU advice) is in :mod:`utils.device`.

The clone line must be in the notebook (``utils`` does not exist before it), so its text is kept here, in
:func:`setup_cell`, and a test checks that every notebook's setup cell is exactly that text.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from .paths import REPO_ROOT

#: Where the setup cell clones the course on Colab.
COLAB_DIR = "/content/hopfield-to-transformers"

#: Packages the notebooks need at run time. Tools for developing the course (pytest, nbval, ruff, jupyterlab,
#: nbclient, nbconvert, ipykernel) are in requirements.txt but are not installed on Colab.
DEV_ONLY = {"pytest", "nbval", "pytest-timeout", "ruff", "jupyterlab", "nbclient", "nbconvert", "nbformat",
            "ipykernel", "ipywidgets"}

#: Distribution name -> import name, where they differ.
IMPORT_NAMES = {"scikit-learn": "sklearn", "tensorflow-cpu": "tensorflow", "pyyaml": "yaml"}


def repo_url() -> str:
    """The course's clone URL, built from :data:`utils.GITHUB_REPO`."""
    from . import GITHUB_REPO

    return f"https://github.com/{GITHUB_REPO}"


def colab_badge(notebook: str) -> str:
    """The Markdown "Open in Colab" badge of ``notebook`` (its file name, e.g. ``01_hopfield.ipynb``)."""
    from . import GITHUB_REPO

    url = f"https://colab.research.google.com/github/{GITHUB_REPO}/blob/main/notebooks/{notebook}"
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"


def setup_cell(notebook: str, *, keras: bool = False, torch: bool = False, seed: int = 0) -> str:
    """The exact source of the setup cell of ``notebook`` (its file stem)."""
    lines = [
        "# Setup. On Colab: fetch the course once. Everywhere: make `utils` importable, then one call seeds",
        "# everything, picks the run profile, sets the plot style and prints a status line.",
        "import os, sys",
        f'if "google.colab" in sys.modules and not os.path.isdir("{COLAB_DIR}"):',
        f"    !git clone -q --depth 1 {repo_url()} {COLAB_DIR}",
        f'sys.path.insert(0, "{COLAB_DIR}" if "google.colab" in sys.modules else os.path.abspath(".."))',
    ]
    if keras:
        lines.append("# Keras backend: jax unless KERAS_BACKEND is set; changing it needs a kernel restart.")
    lines.append("import utils")
    args = [f'"{notebook}"', f"seed={seed}"] + (["keras=True"] if keras else []) + (["torch=True"] if torch else [])
    lines.append(f"course = utils.setup({', '.join(args)})")
    return "\n".join(lines)


def _requirements(path: Path) -> list[str]:
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith(("#", "-")):
            lines.append(line)
    return lines


def missing_packages(requirements: Iterable[str] | None = None,
                     is_importable: Callable[[str], bool] | None = None) -> list[str]:
    """The runtime requirements (``requirements.txt`` lines) whose module cannot be imported here.

    Environment markers are honoured; dev-only tools (:data:`DEV_ONLY`) are skipped; a requirement counts as
    present when its module imports at any version (Colab's own stack is trusted).
    """
    from packaging.requirements import Requirement

    if requirements is None:
        requirements = _requirements(REPO_ROOT / "requirements.txt")
    if is_importable is None:
        def is_importable(mod: str) -> bool:
            return importlib.util.find_spec(mod) is not None
    missing = []
    for line in requirements:
        req = Requirement(line)
        name = req.name.lower()
        if name in DEV_ONLY or (req.marker is not None and not req.marker.evaluate()):
            continue
        module = IMPORT_NAMES.get(name, name.replace("-", "_"))
        if not is_importable(module):
            missing.append(str(req).split(";")[0].strip())
    return missing


def prepare(run: Callable[..., object] = subprocess.run) -> list[str]:
    """On Colab: pip-install what Colab lacks (quietly) and return it. ``COURSE_COLAB_DRY_RUN=1`` only prints."""
    missing = missing_packages()
    if not missing:
        return []
    cmd = [sys.executable, "-m", "pip", "install", "-q", *missing]
    if os.environ.get("COURSE_COLAB_DRY_RUN") == "1":
        print("would run:", " ".join(cmd))
        return missing
    print(f"installing what Colab lacks: {' '.join(missing)}")
    run(cmd, check=True)
    importlib.invalidate_caches()
    return missing
