"""Word-vector helpers: the evaluation sets bundled with gensim, similarity and analogy evaluation of any
word -> vector mapping, nearest neighbours, and GloVe's text format.

The evaluation files ship inside the installed ``gensim`` package (``gensim/test/test_data``), so they work
offline: ``wordsim353.tsv`` (353 pairs, relatedness), ``simlex999.txt`` (999 pairs, similarity) and
``questions-words.txt`` (Mikolov's 19,544 analogy questions).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

EVAL_SETS = {"wordsim353": "wordsim353.tsv", "simlex999": "simlex999.txt", "analogies": "questions-words.txt"}


def eval_path(name: str) -> Path:
    """The path of a gensim-bundled evaluation file: ``"wordsim353"``, ``"simlex999"`` or ``"analogies"``."""
    if name not in EVAL_SETS:
        raise KeyError(f"unknown evaluation set {name!r}; known: {', '.join(EVAL_SETS)}")
    from gensim.test.utils import datapath

    path = Path(datapath(EVAL_SETS[name]))
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found — is gensim installed with its test data?")
    return path


def load_similarity(name: str, *, lower: bool = True) -> list[tuple[str, str, float]]:
    """The word pairs of a similarity set as ``(word1, word2, human score)``; ``#`` lines are skipped."""
    pairs = []
    for n, line in enumerate(eval_path(name).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise ValueError(f"{name}:{n}: expected 'word1<TAB>word2<TAB>score', got {line!r}")
        a, b, s = parts
        pairs.append((a.lower(), b.lower(), float(s)) if lower else (a, b, float(s)))
    return pairs


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation (average ranks for ties)."""
    from scipy.stats import spearmanr

    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) != len(y) or len(x) < 3:
        raise ValueError(f"need two equally long sequences of >= 3 values, got {len(x)} and {len(y)}")
    return float(spearmanr(x, y).statistic)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two vectors (0 when one of them is zero)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return float(a @ b / (na * nb)) if na > 0 and nb > 0 else 0.0


def evaluate_similarity(vectors: Mapping[str, np.ndarray], pairs: Sequence[tuple[str, str, float]]
                        ) -> tuple[float, float, int]:
    """Spearman rho between cosine similarity and the human scores, on the pairs whose two words are both in
    ``vectors`` (a dict, gensim ``KeyedVectors``, or anything with ``in`` and ``[]``).

    Returns ``(rho, coverage, n_used)``: coverage is the fraction of pairs used. rho is NaN when fewer than
    three pairs are covered.
    """
    if not pairs:
        raise ValueError("no pairs to evaluate")
    used = [(a, b, s) for a, b, s in pairs if a in vectors and b in vectors]
    coverage = len(used) / len(pairs)
    if len(used) < 3:
        return float("nan"), coverage, len(used)
    model = [cosine(vectors[a], vectors[b]) for a, b, _ in used]
    return spearman(model, [s for *_, s in used]), coverage, len(used)


class Vectors(Mapping):
    """A read-only word -> vector mapping over a matrix (row ``i`` is ``words[i]``), with cosine neighbours."""

    def __init__(self, words: Sequence[str], matrix: np.ndarray) -> None:
        matrix = np.asarray(matrix, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[0] != len(words):
            raise ValueError(f"matrix must be (len(words), dim) = ({len(words)}, d), got {matrix.shape}")
        self.words = list(words)
        self.index = {w: i for i, w in enumerate(self.words)}
        if len(self.index) != len(self.words):
            raise ValueError("duplicate words")
        self.matrix = matrix
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        self.unit = matrix / np.where(norms > 0, norms, 1)

    def __getitem__(self, word: str) -> np.ndarray:
        return self.matrix[self.index[word]]

    def __iter__(self):
        return iter(self.words)

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    def nearest(self, word: str, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` words with the highest cosine similarity to ``word`` (itself excluded)."""
        sims = self.unit @ self.unit[self.index[word]]
        sims[self.index[word]] = -np.inf
        top = np.argsort(-sims)[:k]
        return [(self.words[i], float(sims[i])) for i in top]

    def to_keyed_vectors(self):
        """The same vectors as gensim ``KeyedVectors`` (for ``evaluate_word_analogies``, ``most_similar``)."""
        from gensim.models import KeyedVectors

        kv = KeyedVectors(self.matrix.shape[1])
        kv.add_vectors(self.words, self.matrix)
        return kv


def analogy_accuracy(kv, *, restrict_vocab: int = 30_000) -> tuple[float, int]:
    """Accuracy on Mikolov's analogy questions with gensim's ``evaluate_word_analogies`` (3CosAdd), counting
    only questions whose four words are among the ``restrict_vocab`` most frequent (first) words of ``kv``.

    ``kv`` is gensim ``KeyedVectors`` or a :class:`Vectors`. Returns ``(accuracy, n_questions)``; accuracy is 0.0
    when no question is covered.
    """
    if isinstance(kv, Vectors):
        kv = kv.to_keyed_vectors()
    import logging

    level = logging.getLogger("gensim").level
    logging.getLogger("gensim").setLevel(logging.ERROR)
    try:
        score, sections = kv.evaluate_word_analogies(str(eval_path("analogies")), restrict_vocab=restrict_vocab)
    finally:
        logging.getLogger("gensim").setLevel(level)
    total = next(s for s in sections if s["section"] == "Total accuracy")
    n = len(total["correct"]) + len(total["incorrect"])
    return (float(score) if n else 0.0), n


def write_glove(path: str | os.PathLike, words: Sequence[str], matrix: np.ndarray, *, precision: int = 6) -> Path:
    """Write vectors in GloVe's text format: one ``word v1 v2 ... vd`` line per word, no header."""
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != len(words):
        raise ValueError(f"matrix must be (len(words), dim), got {matrix.shape} for {len(words)} words")
    bad = [w for w in words if not w or any(c.isspace() for c in w)]
    if bad:
        raise ValueError(f"GloVe's format cannot hold words that are empty or contain whitespace: {bad[:5]}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for w, row in zip(words, matrix):
            f.write(w + " " + " ".join(f"{x:.{precision}g}" for x in row) + "\n")
    return path


def read_glove(path: str | os.PathLike) -> tuple[list[str], np.ndarray]:
    """Read a GloVe text file back: ``(words, matrix)``; every line must have the same dimension."""
    words, rows = [], []
    with Path(path).open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            parts = line.rstrip("\n").split(" ")
            if len(parts) < 2:
                raise ValueError(f"{path}:{n}: expected 'word v1 ... vd'")
            if rows and len(parts) - 1 != len(rows[0]):
                raise ValueError(f"{path}:{n}: dimension {len(parts) - 1}, expected {len(rows[0])}")
            words.append(parts[0])
            rows.append(np.array(parts[1:], dtype=np.float32))
    if not rows:
        raise ValueError(f"{path}: empty file")
    return words, np.stack(rows)
