"""Where things live: repository root, data cache, offline mirror, build output.

Every location can be overridden by an environment variable, so a lab server or CI can redirect them without
touching code:

========================  =================================  ==========================================
variable                  default                            what it is
========================  =================================  ==========================================
``COURSE_DATA_DIR``       ``<repo>/data``                    download cache (git-ignored)
``COURSE_DATA_MIRROR``    unset                              offline mirror directory with ``SHA256SUMS``
``COURSE_BUILD_DIR``      ``<repo>/build``                   executed notebooks, metrics, ``REPORT.md``
========================  =================================  ==========================================
"""

from __future__ import annotations

import os
from pathlib import Path

#: The course's GitHub repository (``owner/name``): the Colab badges and the setup cell's clone use it.
#: (``utils.GITHUB_REPO`` is this value; it lives here so that :mod:`utils.colab` needs nothing from the package
#: ``__init__``.)
GITHUB_REPO = "hopfield-to-transformers/course"

#: The repository root (the folder that holds ``utils/``).
REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser().resolve() if value else None


def data_dir() -> Path:
    """The download cache: ``$COURSE_DATA_DIR`` or ``<repo>/data``."""
    return _env_path("COURSE_DATA_DIR") or REPO_ROOT / "data"


def mirror_dir() -> Path | None:
    """The offline mirror given by ``$COURSE_DATA_MIRROR``, or ``None`` when it is not set."""
    return _env_path("COURSE_DATA_MIRROR")


def build_dir() -> Path:
    """Executed notebooks, metrics and the report: ``$COURSE_BUILD_DIR`` or ``<repo>/build``."""
    return _env_path("COURSE_BUILD_DIR") or REPO_ROOT / "build"


def notebook_paths() -> list[Path]:
    """All course notebooks, in chapter order (their file names start with the chapter number)."""
    return sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]*_*.ipynb"))
