"""Tests of utils.text: tokenizer, vocabulary, padding, temperature sampling (shared by chapters 07, 09, 12)."""

import numpy as np
import pytest

from utils import text
from utils.text import PAD, UNK, Vocab, pad, sample, softmax, tokenize


def test_tokenize_words_and_punctuation():
    assert tokenize("I love green eggs and ham.") == ["i", "love", "green", "eggs", "and", "ham", "."]
    assert tokenize("Don't STOP!", lower=False) == ["Don't", "STOP", "!"]
    assert tokenize("a, b", punctuation=False) == ["a", "b"]
    assert tokenize("") == []


def test_tokenize_rejects_non_strings():
    with pytest.raises(TypeError):
        tokenize(["not", "a", "string"])
    with pytest.raises(TypeError):
        tokenize(None)


def test_vocab_reserved_ids_and_order():
    v = Vocab.build([["b", "a", "b"], ["c", "a", "b"]])
    assert v.itos[:2] == ["<pad>", "<unk>"] and (PAD, UNK) == (0, 1)
    assert v.words == ["b", "a", "c"]                      # by count, ties by first occurrence
    assert v.counts.tolist() == [0, 0, 3, 2, 1]
    assert len(v) == 5 and "a" in v and "z" not in v
    assert v["z"] == UNK and v["b"] == 2


def test_vocab_min_count_and_max_size():
    toks = [["x"] * 5 + ["y"] * 3 + ["z"]]
    assert Vocab.build(toks, min_count=2).words == ["x", "y"]
    assert Vocab.build(toks, max_size=1).words == ["x"]
    assert Vocab.build(toks, max_size=0).words == []
    assert len(Vocab.build([])) == 2


def test_vocab_ignores_literal_special_tokens():
    v = Vocab.build([["<pad>", "<unk>", "a"]])
    assert v.words == ["a"]


@pytest.mark.parametrize("kwargs", [dict(min_count=0), dict(min_count=1.5), dict(max_size=-1), dict(max_size=2.0)])
def test_vocab_bad_sizes(kwargs):
    with pytest.raises(ValueError):
        Vocab.build([["a"]], **kwargs)


def test_vocab_bad_inputs():
    with pytest.raises(TypeError):
        Vocab.build("a string, not token lists")
    with pytest.raises(TypeError):
        Vocab.build(["ab", "cd"])                          # strings, not lists of tokens
    with pytest.raises(TypeError):
        Vocab.build([[1, 2]])
    with pytest.raises(ValueError):
        Vocab(["a", "b"])                                   # reserved tokens missing
    with pytest.raises(ValueError):
        Vocab(["<pad>", "<unk>", "a", "a"])
    with pytest.raises(ValueError):
        Vocab(["<pad>", "<unk>", "a"], counts=[0, 0])


def test_encode_decode_round_trip():
    v = Vocab.build([tokenize("the cat sat on the mat")])
    ids = v.encode(["the", "cat", "flew"])
    assert ids.dtype == np.int64 and ids.tolist() == [2, 3, UNK]
    assert v.decode(ids) == ["the", "cat", "<unk>"]
    assert v.decode([PAD, 2, PAD]) == ["the"]
    assert v.decode([PAD, 2], skip_pad=False) == ["<pad>", "the"]
    assert v.decode(np.array([[2, 3]])) == ["the", "cat"]
    with pytest.raises(IndexError):
        v.decode([len(v)])
    with pytest.raises(IndexError):
        v.decode([-1])
    with pytest.raises(TypeError):
        v.decode([1.5])
    with pytest.raises(TypeError):
        v.encode("the cat")


def test_pad_matches_keras_semantics():
    seqs = [[1, 2, 3], [4], []]
    assert pad(seqs).tolist() == [[1, 2, 3], [0, 0, 4], [0, 0, 0]]
    assert pad(seqs, 2).tolist() == [[2, 3], [0, 4], [0, 0]]
    assert pad(seqs, 2, padding="post", truncating="post").tolist() == [[1, 2], [4, 0], [0, 0]]
    assert pad(seqs, 0).shape == (3, 0)
    assert pad([]).shape == (0, 0)
    with pytest.raises(ValueError):
        pad(seqs, padding="middle")
    with pytest.raises(ValueError):
        pad(seqs, -1)


def test_encode_batch():
    v = Vocab.build([["a", "b", "a"]])
    assert v.encode_batch([["a"], ["b", "a", "c"]], maxlen=2).tolist() == [[0, 2], [2, UNK]]


def test_softmax_temperature():
    z = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(softmax(z), np.exp(z) / np.exp(z).sum())
    np.testing.assert_allclose(softmax(z, 2.0), softmax(z / 2.0))
    assert softmax(np.array([1000.0, 0.0]))[0] == pytest.approx(1.0)       # stable
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError):
            softmax(z, bad)
    with pytest.raises(ValueError):
        softmax(np.array([]))
    with pytest.raises(ValueError):
        softmax(np.array([0.0, np.inf]))


def test_sample_greedy_and_distribution():
    z = np.log(np.array([0.1, 0.2, 0.7]))
    assert sample(z, 0) == 2 and isinstance(sample(z, 0), int)
    batch = np.tile(z, (20_000, 1))
    draws = sample(batch, 1.0, np.random.default_rng(0))
    assert draws.shape == (20_000,) and draws.dtype == np.int64
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / len(draws), [0.1, 0.2, 0.7], atol=0.01)
    cold = sample(batch[:2000], 0.05, np.random.default_rng(1))
    assert np.mean(cold == 2) > 0.99                              # T -> 0 approaches greedy
    hot = sample(batch, 100.0, np.random.default_rng(2))
    np.testing.assert_allclose(np.bincount(hot, minlength=3) / len(hot), [1 / 3] * 3, atol=0.02)


def test_sample_reproducible_with_rng():
    z = np.zeros((50, 7))
    a = sample(z, 1.0, np.random.default_rng(3))
    b = sample(z, 1.0, np.random.default_rng(3))
    assert np.array_equal(a, b) and a.min() >= 0 and a.max() < 7


@pytest.mark.parametrize("logits,temperature", [
    (np.zeros(3), -0.5), (np.zeros(3), float("nan")), (np.zeros(3), None),
    (np.zeros((2, 0)), 1.0), (np.zeros((2, 2, 2)), 1.0), (np.array([0.0, np.nan]), 1.0),
])
def test_sample_bad_inputs(logits, temperature):
    with pytest.raises(ValueError):
        sample(logits, temperature)


def test_module_doctest():
    import doctest

    assert doctest.testmod(text).failed == 0


def test_bow_accuracy_learns_a_word_rule_and_refuses_a_bare_string():
    from utils.text import bow_accuracy

    train = ["good film", "bad film", "good plot", "bad plot"] * 5
    y = [1, 0, 1, 0] * 5
    assert bow_accuracy(train, y, ["good story", "bad story"], [1, 0]) == 1.0
    with pytest.raises(TypeError):
        bow_accuracy("good film", y, ["x"], [1])


def test_normalise():
    from utils.text import normalise

    assert normalise("The Da Vinci Code book is just AWESOME!") == "the da vinci code book is just awesome !"
    assert normalise("  a ,b ") == normalise("A, b") == "a , b"


def test_unique_split_no_text_on_both_sides_and_majority_labels():
    from utils.text import unique_split

    texts = ["Good film.", "good film .", "GOOD FILM.", "Bad film.", "bad film", "Tie here", "tie here",
             "x", "y", "z"]
    labels = [1, 1, 0, 0, 0, 1, 0, 1, 0, 1]
    tr, ytr, te, yte = unique_split(texts, labels, test_size=0.4, seed=3)
    assert not set(tr) & set(te)                                   # no sentence on both sides
    assert len(tr) + len(te) == 7 and len(te) == round(0.4 * 7)    # 7 distinct normalised texts
    assert sorted([*tr, *te]) == sorted({" ".join(tokenize(t)) for t in texts})
    label = dict(zip([*tr, *te], [*ytr, *yte]))
    assert label["good film ."] == 1 and label["bad film"] == 0    # majority of the repeats
    assert label["tie here"] == 0                                  # a tie goes to the smaller label
    assert ytr.dtype.kind == "i" and tr.dtype.kind == "U"
    again = unique_split(texts, labels, test_size=0.4, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(again, (tr, ytr, te, yte)))
    other = unique_split(texts, labels, test_size=0.4, seed=4)
    assert set(other[2]) != set(te) or set(unique_split(texts, labels, test_size=0.4, seed=5)[2]) != set(te)


@pytest.mark.parametrize("kwargs", [dict(test_size=0.0), dict(test_size=1.0), dict(test_size=0.01)])
def test_unique_split_refuses_empty_sides(kwargs):
    from utils.text import unique_split

    with pytest.raises(ValueError):
        unique_split(["a", "b", "c"], [0, 1, 0], **kwargs)


def test_unique_split_bad_inputs():
    from utils.text import unique_split

    with pytest.raises(TypeError):
        unique_split("a string", [0])
    with pytest.raises(ValueError):
        unique_split(["a", "b"], [0])
    with pytest.raises(ValueError):
        unique_split(["a", "b"], [0.5, 1.0])
    with pytest.raises(ValueError):
        unique_split(["a", "b"], [-1, 0])
