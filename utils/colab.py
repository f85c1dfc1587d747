"""The Colab branch of the setup cell.

On Colab the setup cell clones the course once (``git clone`` of :data:`GIT_REF` into :data:`COLAB_DIR`, only
when ``COLAB_DIR/utils`` is missing), stops with a clear message when the clone fails, and imports ``utils`` from
the clone; :func:`utils.setup` then calls :func:`prepare`, which installs only the packages Colab lacks and says
when the runtime must be restarted. Everything else about Colab (GPU advice) is in :mod:`utils.device`.

The clone line must be in the notebook (``utils`` does not exist before it), so its text is kept here, in
:func:`setup_cell`, and a test checks that every notebook's setup cell is exactly that text. The repository is
the one setting :data:`utils.paths.GITHUB_REPO` (also ``utils.GITHUB_REPO``); the badge (:func:`colab_badge`)
and the clone use the same repository and the same revision :data:`GIT_REF`, so a notebook opened from its
badge clones the ``utils`` it was written against.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path

from .paths import GITHUB_REPO, REPO_ROOT

#: Where the setup cell clones the course on Colab.
COLAB_DIR = "/content/hopfield-to-transformers"

#: The revision (branch or tag) that the badges open and the setup cell clones. A release branch or a fork
#: changes it here and regenerates the title and setup cells (``python -m utils.nbtools setup-cells``).
GIT_REF = "main"

#: Packages the notebooks need at run time. Tools for developing the course (pytest, nbval, ruff, jupyterlab,
#: nbclient, nbconvert, ipykernel) are in requirements.txt but are not installed on Colab.
DEV_ONLY = {"pytest", "nbval", "pytest-timeout", "pytest-xdist", "ruff", "jupyterlab", "nbclient", "nbconvert",
            "nbformat", "ipykernel", "ipywidgets", "jupyter-server-mathjax"}

#: Packages only some chapters need (chapter numbers): Colab installs them for those chapters only.
CHAPTER_ONLY = {"gensim": {"07"}}

#: Distribution name -> import name, where they differ.
IMPORT_NAMES = {"scikit-learn": "sklearn", "tensorflow-cpu": "tensorflow", "pyyaml": "yaml"}


def repo_url() -> str:
    """The course's clone URL, built from :data:`utils.paths.GITHUB_REPO`."""
    return f"https://github.com/{GITHUB_REPO}"


def colab_badge(notebook: str) -> str:
    """The Markdown "Open in Colab" badge of ``notebook`` (its file name, e.g. ``01_hopfield.ipynb``)."""
    url = f"https://colab.research.google.com/github/{GITHUB_REPO}/blob/{GIT_REF}/notebooks/{notebook}"
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"


def setup_cell(notebook: str, *, keras: bool = False, torch: bool = False, seed: int = 0) -> str:
    """The exact source of the setup cell of ``notebook`` (its file stem)."""
    lines = [
        "# Setup. On Colab: fetch the course once. Everywhere: make `utils` importable, then one call seeds",
        "# everything, picks the run profile, sets the plot style and prints a status line.",
        "import os, sys",
        f'if "google.colab" in sys.modules and not os.path.isdir("{COLAB_DIR}/utils"):',
        f"    !git clone -q --depth 1 --branch {GIT_REF} {repo_url()} {COLAB_DIR}",
        f'    if not os.path.isdir("{COLAB_DIR}/utils"):',
        '        raise RuntimeError("git could not clone the course (its message is above): check the runtime\'s '
        'internet access, then run this cell again")',
        f'sys.path.insert(0, "{COLAB_DIR}" if "google.colab" in sys.modules else os.path.abspath(".."))',
    ]
    if keras:
        lines.append("# Keras backend: jax unless KERAS_BACKEND is set; changing it needs a kernel restart.")
    lines.append("import utils")
    args = [f'"{notebook}"', f"seed={seed}"] + (["keras=True"] if keras else []) + (["torch=True"] if torch else [])
    lines.append(f"course = utils.setup({', '.join(args)})")
    return "\n".join(lines)


def legacy_setup_cell(notebook: str, *, keras: bool = False, torch: bool = False, seed: int = 0) -> str:
    """The previous version of :func:`setup_cell` (clone of ``main`` without a failure check). The anatomy check
    still accepts it with a note until ``python -m utils.nbtools setup-cells`` has regenerated every notebook."""
    new = setup_cell(notebook, keras=keras, torch=torch, seed=seed).splitlines()
    old = new[:3] + [f'if "google.colab" in sys.modules and not os.path.isdir("{COLAB_DIR}"):',
                     f"    !git clone -q --depth 1 {repo_url()} {COLAB_DIR}"] + new[7:]
    return "\n".join(old)


def _requirements(path: Path) -> list[str]:
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith(("#", "-")):
            lines.append(line)
    return lines


def _needed(name: str, notebook: str | None) -> bool:
    chapters = CHAPTER_ONLY.get(name)
    return chapters is None or notebook is None or notebook.split("_", 1)[0] in chapters


def missing_packages(requirements: Iterable[str] | None = None,
                     is_importable: Callable[[str], bool] | None = None,
                     notebook: str | None = None) -> list[str]:
    """The runtime requirements (``requirements.txt`` lines) whose module cannot be imported here.

    Environment markers are honoured; dev-only tools (:data:`DEV_ONLY`) are skipped, and so are packages that
    only other chapters need (:data:`CHAPTER_ONLY`) when ``notebook`` is given; a requirement counts as present
    when its module imports at any version (see :func:`outdated_packages` for the version check).
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
        if name in DEV_ONLY or (req.marker is not None and not req.marker.evaluate()) or not _needed(name, notebook):
            continue
        module = IMPORT_NAMES.get(name, name.replace("-", "_"))
        if not is_importable(module):
            missing.append(str(req).split(";")[0].strip())
    return missing


def outdated_packages(requirements: Iterable[str] | None = None,
                      version: Callable[[str], str | None] | None = None) -> list[str]:
    """``"keras 3.5.0 (the course needs keras>=3.6,<4)"`` for each installed runtime requirement whose version
    is outside its range. Colab's stack is kept (reinstalling an imported package needs a restart), so these are
    only reported."""
    from packaging.requirements import Requirement

    if requirements is None:
        requirements = _requirements(REPO_ROOT / "requirements.txt")
    if version is None:
        def version(dist: str) -> str | None:
            try:
                return metadata.version(dist)
            except metadata.PackageNotFoundError:
                return None
    out = []
    for line in requirements:
        req = Requirement(line)
        if req.name.lower() in DEV_ONLY or (req.marker is not None and not req.marker.evaluate()):
            continue
        have = version(req.name)
        if have is None and req.name.lower() == "tensorflow-cpu":  # Colab ships the full tensorflow
            have = version("tensorflow")
        if have is not None and req.specifier and not req.specifier.contains(have, prereleases=True):
            out.append(f"{req.name} {have} (the course needs {req.name}{req.specifier})")
    return out


def _installed_versions() -> dict[str, str]:
    out = {}
    for dist in metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if name:
            out[name] = dist.version
    return out


def imported_changes(before: dict[str, str], after: dict[str, str] | None = None,
                     modules: Iterable[str] | None = None) -> list[str]:
    """The distributions that changed between ``before`` and ``after`` (``{name: version}``) and whose modules
    are already imported (``modules``, default ``sys.modules``): they need a restart to take effect."""
    after = _installed_versions() if after is None else after
    imported = {m.split(".", 1)[0] for m in (sys.modules if modules is None else modules)}
    owners: dict[str, set[str]] = {}
    for module, dists in metadata.packages_distributions().items():
        for d in dists:
            owners.setdefault(d.lower().replace("_", "-"), set()).add(module)
    changed = []
    for name, old in sorted(before.items()):
        new = after.get(name)
        mods = owners.get(name, {name.replace("-", "_")})
        if new != old and mods & imported:
            changed.append(f"{name} {old} → {new or 'removed'}")
    return changed


def prepare(notebook: str | None = None, run: Callable[..., object] = subprocess.run) -> list[str]:
    """On Colab: pip-install what Colab lacks for ``notebook`` and return it; say when a restart is needed.

    ``COURSE_COLAB_DRY_RUN=1`` only prints the pip command. A failed pip install raises ``RuntimeError`` with
    pip's last lines. When the install changed a package that is already imported (numpy, say), the new
    version is only used after *Runtime > Restart session*: the message says so.
    """
    for line in outdated_packages():
        print(f"note: Colab has {line}; if a cell fails on it, pip-install that range and restart the session")
    missing = missing_packages(notebook=notebook)
    if not missing:
        return []
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", *missing]
    if os.environ.get("COURSE_COLAB_DRY_RUN") == "1":
        print("would run:", " ".join(cmd))
        return missing
    print(f"installing what Colab lacks: {' '.join(missing)}")
    before = _installed_versions()
    res = run(cmd, capture_output=True, text=True)
    code = getattr(res, "returncode", 0)
    if code:
        tail = "\n".join(((getattr(res, "stdout", "") or "") + (getattr(res, "stderr", "") or "")).splitlines()[-15:])
        raise RuntimeError(f"pip could not install {' '.join(missing)} (exit {code}):\n{tail}")
    importlib.invalidate_caches()
    changed = imported_changes(before)
    if changed:
        print("RESTART NEEDED: pip changed packages this session has already imported ("
              + ", ".join(changed) + "): choose Runtime > Restart session, then run the notebook again")
    return missing
