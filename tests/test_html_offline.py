"""The executed HTML is readable offline: a course notebook exported the way the runner exports it, opened in
headless Chromium with every network request refused, has its formulas typeset by the MathJax shipped in
``jupyter-server-mathjax`` (no raw ``$$`` left, no "Math Processing Error").

Skipped with the reason where Chromium (Debian's ``chromium``; .ci/run installs it when apt is available) or
``jupyter-server-mathjax`` is absent."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from utils import run
from utils.paths import NOTEBOOKS_DIR

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome", "headless_shell")
BROWSER = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)

pytestmark = [
    pytest.mark.skipif(BROWSER is None, reason=f"no headless Chromium on PATH (tried {', '.join(BROWSERS)}): "
                                               "install Debian's chromium to run the offline-HTML check"),
    pytest.mark.skipif(run.mathjax_dir() is None, reason="jupyter-server-mathjax (the offline MathJax) is not "
                                                         "installed: pip install -r requirements.txt"),
]


def render_offline(html, tmp_path, screenshot=None) -> str:
    """The DOM of ``html`` after Chromium ran its scripts with no network (a black-hole proxy, no DNS)."""
    args = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
            "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
            "--virtual-time-budget=30000"]
    if screenshot:
        subprocess.run([*args, "--window-size=1100,1400", f"--screenshot={screenshot}", html.as_uri()],
                       capture_output=True, timeout=180)
    res = subprocess.run([*args, "--dump-dom", html.as_uri()], capture_output=True, text=True, timeout=180)
    assert res.returncode == 0 and "<body" in res.stdout, res.stderr[-2000:]
    return res.stdout


def visible_text(dom: str) -> str:
    """The DOM without scripts, styles and code (where ``$`` is not math)."""
    return re.sub(r"(?is)<(script|style|pre|code)\b.*?</\1>", "", dom)


@pytest.mark.parametrize("stem", ["01_hopfield"])
def test_formulas_are_typeset_offline(stem, tmp_path):
    import nbformat

    nb = nbformat.read(NOTEBOOKS_DIR / f"{stem}.ipynb", as_version=4)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert source.count("$$") >= 10  # a notebook with real math in it
    html = run.export_html(nb, tmp_path / f"{stem}.html")
    dom = render_offline(html, tmp_path, screenshot=tmp_path / f"{stem}.png")
    tex = len(re.findall(r'<script type="math/tex', dom))
    typeset = len(re.findall(r'<span class="MathJax"', dom))
    assert tex >= source.count("$$") // 2, f"MathJax found only {tex} formulas"
    assert typeset == tex, f"{typeset} of {tex} formulas typeset"
    assert "$$" not in visible_text(dom), "raw $$ left in the page"
    assert 'class="MathJax_Error"' not in dom, "a formula failed: [Math Processing Error]"
