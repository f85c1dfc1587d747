"""Tests of utils.embeddings: gensim's bundled evaluation sets, similarity / analogy evaluation, GloVe format."""

import numpy as np
import pytest

from utils import embeddings as emb


def test_bundled_sets_load():
    ws = emb.load_similarity("wordsim353")
    sl = emb.load_similarity("simlex999")
    assert len(ws) == 353 and len(sl) == 999
    assert ws[0] == ("love", "sex", 6.77)
    assert all(isinstance(s, float) for *_, s in ws)
    with pytest.raises(KeyError):
        emb.eval_path("nope")


def test_evaluate_similarity_coverage_and_perfect_rank():
    pairs = [("a", "b", 3.0), ("a", "c", 2.0), ("a", "d", 1.0), ("a", "zzz", 5.0)]
    ang = {"b": 0.1, "c": 0.5, "d": 1.0}                   # cosine to "a" falls with the angle
    vecs = {"a": np.array([1.0, 0.0]), **{w: np.array([np.cos(t), np.sin(t)]) for w, t in ang.items()}}
    rho, cov, n = emb.evaluate_similarity(vecs, pairs)
    assert rho == pytest.approx(1.0) and cov == 0.75 and n == 3
    rho2, cov2, n2 = emb.evaluate_similarity({}, pairs)
    assert np.isnan(rho2) and cov2 == 0 and n2 == 0
    with pytest.raises(ValueError):
        emb.evaluate_similarity(vecs, [])


def test_cosine_and_spearman():
    assert emb.cosine([1, 0], [0, 1]) == 0 and emb.cosine([1, 1], [2, 2]) == pytest.approx(1)
    assert emb.cosine([0, 0], [1, 1]) == 0
    assert emb.spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1)
    with pytest.raises(ValueError):
        emb.spearman([1, 2], [1, 2])


def test_vectors_nearest_and_keyed_vectors():
    v = emb.Vectors(["x", "y", "z"], np.array([[1, 0], [0.9, 0.1], [0, 1]]))
    assert v.nearest("x", 1)[0][0] == "y" and len(v) == 3 and "z" in v
    kv = v.to_keyed_vectors()
    np.testing.assert_allclose(kv["z"], [0, 1])
    with pytest.raises(ValueError):
        emb.Vectors(["x"], np.zeros((2, 3)))
    with pytest.raises(ValueError):
        emb.Vectors(["x", "x"], np.zeros((2, 3)))


def test_analogy_accuracy_on_a_constructed_space():
    # country i = e_i, its capital = e_i + e_capital: 3CosAdd (on unit vectors) solves every such question
    pairs = [("athens", "greece"), ("baghdad", "iraq"), ("bangkok", "thailand"), ("beijing", "china")]
    eye = np.eye(len(pairs) + 1)
    words = [w for p in pairs for w in p]
    rows = [r for i in range(len(pairs)) for r in (eye[i] + eye[-1], eye[i])]
    acc, n = emb.analogy_accuracy(emb.Vectors(words, np.array(rows)), restrict_vocab=100)
    assert n >= 12 and acc == 1.0        # 4 * 3 questions in the first section (and repeats later), all right
    acc0, n0 = emb.analogy_accuracy(emb.Vectors(["x", "y"], np.eye(2)), restrict_vocab=100)
    assert (acc0, n0) == (0.0, 0)


def test_glove_round_trip(tmp_path):
    words = ["the", "cat", "naïve"]
    m = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    p = emb.write_glove(tmp_path / "v.txt", words, m)
    w2, m2 = emb.read_glove(p)
    assert w2 == words
    np.testing.assert_allclose(m2, m, rtol=1e-5)
    from gensim.models import KeyedVectors

    kv = KeyedVectors.load_word2vec_format(str(p), binary=False, no_header=True)
    np.testing.assert_allclose(kv["cat"], m[1], rtol=1e-5)


def test_glove_bad_inputs(tmp_path):
    with pytest.raises(ValueError):
        emb.write_glove(tmp_path / "a.txt", ["two words"], np.zeros((1, 2)))
    with pytest.raises(ValueError):
        emb.write_glove(tmp_path / "b.txt", ["a"], np.zeros((2, 2)))
    bad = tmp_path / "c.txt"
    bad.write_text("a 1 2\nb 1\n")
    with pytest.raises(ValueError):
        emb.read_glove(bad)
    (tmp_path / "d.txt").write_text("")
    with pytest.raises(ValueError):
        emb.read_glove(tmp_path / "d.txt")
