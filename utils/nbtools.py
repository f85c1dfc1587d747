"""Notebook tooling for course authors: write notebooks, check their anatomy, regenerate README's tables.

- :func:`write_notebook` builds an ``.ipynb`` (no outputs) from a list of ``("md" | "code", source)`` cells.
- :func:`anatomy_problems` lists how a notebook departs from the course anatomy (COURSE_GUIDE.md §1);
  the tests require an empty list for every notebook.
- ``python -m utils.nbtools readme`` rewrites the chapter table and the exam-question map in README.md
  from the notebooks themselves (title cells, "Exam Qn" section headings); a test checks README is current.
- ``python -m utils.nbtools strip NOTEBOOK…`` removes outputs and execution counts.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .paths import REPO_ROOT, notebook_paths

# --------------------------------------------------------------------------------------------------------------
# The course map (from the syllabus): every chapter and every exam question, landed or planned
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chapter:
    number: str
    stem: str
    title: str
    sources: str


CHAPTERS = [
    Chapter("00", "00_welcome", "Welcome: environment, profiles, data", "—"),
    Chapter("01", "01_hopfield", "Hopfield networks and neurodynamics", "lab manual intro + §1; extensions"),
    Chapter("02", "02_from_scratch", "From the perceptron to backprop, by hand", "exam Q1–5, 7–9, 16, 30; book ch. 1"),
    Chapter("03", "03_pytorch_essentials", "PyTorch essentials", "exam Q29, 31–35, 39, 40; lab manual §4, tasks 6.1–6.3"),
    Chapter("04", "04_training_deep_nets", "Training deep networks", "exam Q6, 10–15, 36, 37; book ch. 1 sweeps"),
    Chapter("05", "05_keras_mnist", "Keras on MNIST; the Keras API", "book ch. 1–2"),
    Chapter("06", "06_convnets", "Convolutional networks", "exam Q17–20, 38; book ch. 3"),
    Chapter("07", "07_word_embeddings", "Word embeddings", "exam Q21–23 (Q40 applied); book ch. 5"),
    Chapter("08", "08_rnn_mechanics", "Recurrent networks: mechanics", "problem sheet Ex. 1–5; RNN slides; lab manual §2, §3, §5, tasks 6.4–6.7; exam Q24, 25, 41"),
    Chapter("09", "09_rnn_applications", "Recurrent networks: applications", "book ch. 6; RNN slides"),
    Chapter("10", "10_gan", "Generative adversarial networks", "book ch. 4 (GAN part)"),
    Chapter("11", "11_wavenet", "WaveNet", "book ch. 4 (WaveNet part)"),
    Chapter("12", "12_transformers", "Attention, Transformer, BERT", "exam Q26–28"),
    Chapter("13", "13_keras_models", "More Keras models", "book ch. 7"),
    Chapter("14", "14_deep_rl", "Deep reinforcement learning: DQN plays catch", "book ch. 8"),
]

EXAM_QUESTIONS: dict[int, tuple[str, str]] = {
    1: ("Perceptron model; linearly non-separable sets; multilayer networks", "02"),
    2: ("Activation functions: requirements; popular functions", "02"),
    3: ("Deep learning; the \"second spring of AI\" and its causes", "02"),
    4: ("Linear maps; vector–matrix differentiation", "02"),
    5: ("The gradient problem; gradient of a multivariable function; how to compute it", "02"),
    6: ("Cross-validation; train/validation/test; overfitting; early stopping", "04"),
    7: ("Softmax and the cross-entropy loss", "02"),
    8: ("The backpropagation mechanism", "02"),
    9: ("Differentiable programming and how backprop is implemented", "02"),
    10: ("Stochastic gradient descent; training batches", "04"),
    11: ("Adaptive gradient methods; momentum; Nesterov", "04"),
    12: ("The weight-initialisation problem; Xavier initialisation", "04"),
    13: ("Hyperparameters: learning rate and batch size", "04"),
    14: ("Overfitting and regularisation; dropout", "04"),
    15: ("Mini-batches; batch normalisation", "04"),
    16: ("Multilayer networks; the computational graph", "02"),
    17: ("Machine learning on images; how CNNs work; their advantages", "06"),
    18: ("Architecture of a multilayer CNN for image recognition", "06"),
    19: ("Deep learning on small image datasets", "06"),
    20: ("Conv layer; pooling; padding, kernel size, stride, dilation", "06"),
    21: ("Distributional semantics, co-occurrence matrix, word vectors", "07"),
    22: ("word2vec: CBOW", "07"),
    23: ("word2vec: skip-gram", "07"),
    24: ("Recurrent networks: training and its difficulties", "08"),
    25: ("The LSTM module", "08"),
    26: ("The attention mechanism; an example", "12"),
    27: ("Transformer architecture", "12"),
    28: ("The BERT model", "12"),
    29: ("The Tensor class; size-changing and aggregation operations", "03"),
    30: ("The core logic of training a neural network", "02"),
    31: ("Automatic differentiation in PyTorch", "03"),
    32: ("Dataset, DataLoader, transforms, Compose", "03"),
    33: ("The nn.Module class", "03"),
    34: ("Linear layers", "03"),
    35: ("Non-linear activation layers", "03"),
    36: ("Normalisation layers", "04"),
    37: ("Regularisation layers (Dropout)", "04"),
    38: ("Convolution and pooling layers", "06"),
    39: ("Loss-function layers", "03"),
    40: ("nn.Embedding layers and their use", "03"),
    41: ("torch.nn.LSTM and torch.nn.GRU", "08"),
}

# --------------------------------------------------------------------------------------------------------------
# Reading and writing notebooks
# --------------------------------------------------------------------------------------------------------------


def write_notebook(path: str | Path, cells: list[tuple[str, str]]) -> Path:
    """Write ``cells`` (``("md", text)`` or ``("code", source)``) as a clean notebook (no outputs) at ``path``."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "accelerator": "GPU",
        "colab": {"provenance": []},
    }
    for kind, src in cells:
        src = src.strip("\n")
        if kind == "md":
            nb.cells.append(nbformat.v4.new_markdown_cell(src))
        elif kind == "code":
            nb.cells.append(nbformat.v4.new_code_cell(src))
        else:
            raise ValueError(f"cell kind must be 'md' or 'code', got {kind!r}")
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i:03d}"
    path = Path(path)
    nbformat.validate(nb)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _load(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _src(cell: dict) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def strip_outputs(path: str | Path) -> bool:
    """Remove outputs and execution counts from a notebook in place; return True when it changed."""
    path = Path(path)
    nb = _load(path)
    changed = False
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            if cell.get("outputs") or cell.get("execution_count") is not None:
                changed = True
            cell["outputs"], cell["execution_count"] = [], None
    if changed:
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return changed


def export_images(executed: str | Path, dest: str | Path) -> list[Path]:
    """Save every PNG output of an executed notebook as ``dest/cell<NNN>_<k>.png`` (to look at the plots)."""
    import base64

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for i, cell in enumerate(_load(Path(executed))["cells"]):
        k = 0
        for out in cell.get("outputs", []):
            png = out.get("data", {}).get("image/png")
            if png:
                f = dest / f"cell{i:03d}_{k}.png"
                f.write_bytes(base64.b64decode("".join(png) if isinstance(png, list) else png))
                written.append(f)
                k += 1
    return written


# --------------------------------------------------------------------------------------------------------------
# Anatomy
# --------------------------------------------------------------------------------------------------------------

RUNTIME_RE = re.compile(r"smoke[^\n]*?(?P<smoke>~?\s*[\d.]+\s*(?:s|min))[^\n]*?cpu[^\n]*?(?P<cpu>~?\s*[\d.]+\s*(?:s|min))"
                        r"[^\n]*?gpu[^\n]*?(?P<gpu>~?\s*[\d.]+\s*(?:s|min))", re.I)


def _setup_kwargs(src: str) -> dict | None:
    m = re.search(r"^course = utils\.setup\((.*)\)\s*$", src, re.M)
    if not m:
        return None
    try:
        call = ast.parse(f"f({m.group(1)})").body[0].value  # type: ignore[attr-defined]
        return {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
    except (SyntaxError, ValueError):
        return None


#: Student exercises per chapter (COURSE_GUIDE §7); the welcome notebook has none.
MIN_EXERCISES, MAX_EXERCISES = 3, 6


def anatomy_problems(path: str | Path) -> list[str]:
    """How the notebook at ``path`` departs from the course anatomy; [] when it follows it."""
    from .colab import colab_badge, setup_cell
    from .exercises import exercise_problems

    path = Path(path)
    nb = _load(path)
    cells = nb.get("cells", [])
    problems = []
    if not cells:
        return ["the notebook has no cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    title = _src(cells[0]) if cells[0]["cell_type"] == "markdown" else ""
    number = path.stem[:2]
    if not re.match(rf"# {number} · \S", title):
        problems.append(f"the first cell must be markdown starting '# {number} · <title>'")
    if colab_badge(path.name) not in title:
        problems.append("the title cell lacks the Colab badge (utils.colab.colab_badge)")
    if "source" not in title.lower():
        problems.append("the title cell must list the sources it covers")
    if not RUNTIME_RE.search(title):
        problems.append("the title cell must give the expected run time per profile (smoke … cpu … gpu …)")
    if not code:
        return problems + ["the notebook has no code cells"]
    setup_src = _src(code[0])
    kwargs = _setup_kwargs(setup_src)
    if kwargs is None:
        problems.append(f'the first code cell must be the setup cell ending in course = utils.setup("{path.stem}", …)')
    elif setup_src != setup_cell(path.stem, **kwargs):
        problems.append("the setup cell differs from utils.colab.setup_cell(...) — regenerate it, don't edit it")
    if not any("course.budget(" in _src(c) for c in code[1:4]):
        problems.append("one of the three code cells after setup must be the budget cell (course.budget(...))")
    if not any("utils.record(" in _src(c) for c in code):
        problems.append("no results recorded (utils.record)")
    if not any("utils.show_results(" in _src(c) for c in code):
        problems.append("no results table (utils.show_results())")
    if not any(c["cell_type"] == "markdown" and re.search(r"^## .*Summary", _src(c), re.M) for c in cells[-4:]):
        problems.append("one of the last cells must be a '## Summary' markdown cell")
    if any(c.get("outputs") or c.get("execution_count") is not None for c in code):
        problems.append("stored outputs: strip them (python -m utils.nbtools strip …)")
    problems += exercise_problems(nb)
    if number != "00":
        from .exercises import find_exercises

        try:
            n = len([e for e in find_exercises(nb) if e.checker_cell is not None])
        except ValueError:
            n = 0
        if not MIN_EXERCISES <= n <= MAX_EXERCISES:
            problems.append(f"{n} student exercises; a chapter has {MIN_EXERCISES}–{MAX_EXERCISES} "
                            "(COURSE_GUIDE §7: markdown task, stub with ### BEGIN SOLUTION, checker)")
    return problems


def runtimes(path: str | Path) -> dict[str, str]:
    """The expected run time per profile stated in the title cell: ``{"smoke": "30 s", …}``."""
    m = RUNTIME_RE.search(_src(_load(Path(path))["cells"][0]))
    return {k: v.replace("~", "").strip() for k, v in m.groupdict().items()} if m else {}


def exam_sections(path: str | Path) -> dict[int, str]:
    """``{question: heading}`` for every markdown heading that names an exam question ("Exam Q20", "Q12–Q15")."""
    found: dict[int, str] = {}
    for cell in _load(Path(path))["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for line in _src(cell).splitlines():
            if not line.startswith("#"):
                continue
            heading = line.lstrip("#").strip()
            for m in re.finditer(r"\bQ(\d{1,2})(?:\s*[–-]\s*Q?(\d{1,2}))?\b", heading):
                lo = int(m.group(1))
                hi = int(m.group(2)) if m.group(2) else lo
                for q in range(lo, hi + 1):
                    if q in EXAM_QUESTIONS:
                        found.setdefault(q, heading)
    return found


# --------------------------------------------------------------------------------------------------------------
# README tables
# --------------------------------------------------------------------------------------------------------------


def _anchor(heading: str) -> str:
    a = heading.strip().lower()
    a = re.sub(r"[^\w\- ]", "", a, flags=re.UNICODE)
    return a.replace(" ", "-")


def chapter_table() -> str:
    """The README's chapter table, built from the notebooks (landed) and :data:`CHAPTERS` (planned)."""
    from .colab import colab_badge

    present = {p.stem: p for p in notebook_paths()}
    rows = ["| # | Notebook | Sources | Colab | smoke | cpu | gpu |", "|---|---|---|---|---|---|---|"]
    stems = {c.stem for c in CHAPTERS}
    extra = [Chapter(p.stem[:2], p.stem, p.stem[3:].replace("_", " "), "") for s, p in present.items() if s not in stems]
    for ch in sorted(CHAPTERS + extra, key=lambda c: c.stem):
        if ch.stem in present:
            t = runtimes(present[ch.stem])
            rows.append(f"| {ch.number} | [{ch.title}](notebooks/{ch.stem}.ipynb) | {ch.sources} | "
                        f"{colab_badge(ch.stem + '.ipynb')} | {t.get('smoke', '?')} | {t.get('cpu', '?')} | "
                        f"{t.get('gpu', '?')} |")
        else:
            rows.append(f"| {ch.number} | {ch.title} (planned) | {ch.sources} | — | — | — | — |")
    return "\n".join(rows)


def exam_table() -> str:
    """The README's map of all 41 exam questions to the notebook section that answers them."""
    present = {p.stem: p for p in notebook_paths()}
    sections: dict[int, tuple[str, str]] = {}
    for stem, p in present.items():
        for q, heading in exam_sections(p).items():
            sections.setdefault(q, (stem, heading))
    by_number = {c.number: c for c in CHAPTERS}
    rows = ["| Q | Question | Where |", "|---|---|---|"]
    for q, (title, chapter) in EXAM_QUESTIONS.items():
        if q in sections:
            stem, heading = sections[q]
            where = f"[{stem} · {heading}](notebooks/{stem}.ipynb#{_anchor(heading)})"
        else:
            where = f"planned: {by_number[chapter].stem}"
        rows.append(f"| {q} | {title} | {where} |")
    return "\n".join(rows)


MARKERS = {"chapters": chapter_table, "exam": exam_table}


def render_readme(text: str) -> str:
    """``text`` with every ``<!-- BEGIN x -->…<!-- END x -->`` block regenerated."""
    for key, fn in MARKERS.items():
        begin, end = f"<!-- BEGIN {key} (generated: python -m utils.nbtools readme) -->", f"<!-- END {key} -->"
        if begin not in text or end not in text:
            raise ValueError(f"README lacks the markers {begin!r} … {end!r}")
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{begin}\n{fn()}\n{end}{tail}"
    return text


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["readme"]:
        readme = REPO_ROOT / "README.md"
        new = render_readme(readme.read_text(encoding="utf-8"))
        readme.write_text(new, encoding="utf-8")
        print(f"updated {readme}")
        return 0
    if argv[:1] == ["strip"] and argv[1:]:
        for p in argv[1:]:
            print(f"{p}: {'stripped' if strip_outputs(p) else 'clean'}")
        return 0
    if argv[:1] == ["images"] and len(argv) == 3:
        for f in export_images(argv[1], argv[2]):
            print(f)
        return 0
    if argv[:1] == ["check"]:
        bad = 0
        for p in [Path(a) for a in argv[1:]] or notebook_paths():
            for problem in anatomy_problems(p):
                print(f"{p.name}: {problem}")
                bad += 1
        print("anatomy ok" if not bad else f"{bad} problem(s)")
        return 1 if bad else 0
    print("usage: python -m utils.nbtools readme | strip NOTEBOOK… | check [NOTEBOOK…] | images EXECUTED.ipynb DIR")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
