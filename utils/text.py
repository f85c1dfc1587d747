"""Text helpers shared by the language chapters (07 word embeddings, 09 RNN applications, 12 transformers, 12b BERT).

- :func:`tokenize` — lower-case regex word tokenizer (works offline, no NLTK model needed);
- :class:`Vocab` — a vocabulary with ``min_count`` / ``max_size``, the reserved ids ``PAD = 0`` and ``UNK = 1``,
  ``encode`` / ``decode`` and per-id counts (for noise tables, subsampling);
- :func:`pad` — pad / truncate id sequences to one length (like ``keras.utils.pad_sequences``, without Keras);
- :func:`softmax` and :func:`sample` — temperature sampling from logits (``temperature=0`` is greedy);
- :func:`bow_accuracy` — bag-of-words logistic regression, the baseline for text classification;
- :func:`normalise` and :func:`unique_split` — split labelled texts by unique normalised text (no text on both
  sides: UMICH repeats its sentences); used by 12b, the same split as 07 and 09 make inline.

>>> v = Vocab.build([tokenize("The cat sat. The dog sat!")])
>>> v.decode(v.encode(["the", "dog", "flew"]))
['the', 'dog', '<unk>']
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

PAD, UNK = 0, 1
PAD_TOKEN, UNK_TOKEN = "<pad>", "<unk>"

#: words (letters, digits, underscore, with inner apostrophes: "don't") or single punctuation marks
TOKEN_RE = re.compile(r"\w+(?:'\w+)*|[^\w\s]")
WORD_RE = re.compile(r"\w+(?:'\w+)*")


def tokenize(text: str, *, lower: bool = True, punctuation: bool = True) -> list[str]:
    """Split ``text`` into tokens: words and (with ``punctuation=True``) single punctuation marks.

    >>> tokenize("I love green eggs and ham.")
    ['i', 'love', 'green', 'eggs', 'and', 'ham', '.']
    >>> tokenize("Don't panic!", punctuation=False)
    ["don't", 'panic']
    """
    if not isinstance(text, str):
        raise TypeError(f"tokenize expects a str, got {type(text).__name__}")
    if lower:
        text = text.lower()
    return (TOKEN_RE if punctuation else WORD_RE).findall(text)


def _check_token_lists(token_lists: Iterable[Sequence[str]]) -> list[Sequence[str]]:
    if isinstance(token_lists, str):
        raise TypeError("pass a list of token lists (e.g. [tokenize(s) for s in sentences]), not one string")
    out = []
    for ts in token_lists:
        if isinstance(ts, str):
            raise TypeError("each element must be a list of tokens, not a string: wrap it as [tokens]")
        for t in ts:
            if not isinstance(t, str):
                raise TypeError(f"tokens must be str, got {type(t).__name__} ({t!r})")
        out.append(ts)
    return out


class Vocab:
    """Token <-> id mapping. Ids 0 and 1 are reserved for ``<pad>`` and ``<unk>``; the other tokens follow by
    decreasing count (ties: first occurrence first, as Keras' old ``Tokenizer`` did).

    ``counts[i]`` is the corpus count of id ``i`` (0 for the two reserved ids).
    """

    def __init__(self, tokens: Sequence[str], counts: Sequence[int] | None = None) -> None:
        tokens = list(tokens)
        if tokens[:2] != [PAD_TOKEN, UNK_TOKEN]:
            raise ValueError(f"a Vocab's first two tokens are {PAD_TOKEN!r} and {UNK_TOKEN!r}")
        if len(set(tokens)) != len(tokens):
            dup = [t for t, c in Counter(tokens).items() if c > 1]
            raise ValueError(f"duplicate tokens in the vocabulary: {dup[:5]}")
        self.itos: list[str] = tokens
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(tokens)}
        if counts is None:
            counts = [0] * len(tokens)
        if len(counts) != len(tokens):
            raise ValueError(f"{len(counts)} counts for {len(tokens)} tokens")
        self.counts = np.asarray(counts, dtype=np.int64)

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]], *, min_count: int = 1,
              max_size: int | None = None) -> Vocab:
        """Count the tokens of ``token_lists`` (an iterable of token sequences) and keep those seen at least
        ``min_count`` times, at most ``max_size`` of them (the most frequent; the two reserved ids not counted)."""
        if not isinstance(min_count, (int, np.integer)) or isinstance(min_count, bool) or min_count < 1:
            raise ValueError(f"min_count must be an integer >= 1, got {min_count!r}")
        if max_size is not None and (not isinstance(max_size, (int, np.integer)) or max_size < 0):
            raise ValueError(f"max_size must be None or an integer >= 0, got {max_size!r}")
        counter: Counter[str] = Counter()
        for ts in _check_token_lists(token_lists):
            counter.update(ts)
        for special in (PAD_TOKEN, UNK_TOKEN):
            counter.pop(special, None)
        kept = [(t, c) for t, c in counter.most_common() if c >= min_count]
        if max_size is not None:
            kept = kept[:max_size]
        return cls([PAD_TOKEN, UNK_TOKEN] + [t for t, _ in kept], [0, 0] + [c for _, c in kept])

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        return token in self.stoi

    def __getitem__(self, token: str) -> int:
        return self.stoi.get(token, UNK)

    def __repr__(self) -> str:
        return f"Vocab({len(self)} tokens: {self.itos[2:7]}...)"

    @property
    def words(self) -> list[str]:
        """The real tokens (without ``<pad>`` and ``<unk>``), in id order from id 2."""
        return self.itos[2:]

    def encode(self, tokens: Sequence[str]) -> np.ndarray:
        """The ids of ``tokens`` (unknown tokens -> ``UNK``) as an int64 array."""
        if isinstance(tokens, str):
            raise TypeError("encode expects a sequence of tokens; call tokenize(text) first")
        return np.fromiter((self.stoi.get(t, UNK) for t in tokens), dtype=np.int64, count=len(tokens))

    def encode_batch(self, token_lists: Iterable[Sequence[str]], maxlen: int | None = None, *,
                     padding: str = "pre", truncating: str = "pre") -> np.ndarray:
        """Encode and pad many token lists into one ``(n, maxlen)`` int64 array (see :func:`pad`)."""
        return pad([self.encode(ts) for ts in _check_token_lists(token_lists)], maxlen,
                   padding=padding, truncating=truncating)

    def decode(self, ids: Iterable[int], *, skip_pad: bool = True) -> list[str]:
        """The tokens of ``ids`` (``<pad>`` dropped unless ``skip_pad=False``); an id outside the vocabulary
        raises ``IndexError``."""
        arr = np.asarray(list(ids) if not hasattr(ids, "__array__") else ids)
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"ids must be integers, got dtype {arr.dtype}")
        arr = arr.ravel()
        bad = arr[(arr < 0) | (arr >= len(self))]
        if bad.size:
            raise IndexError(f"ids outside the vocabulary of {len(self)}: {bad[:5].tolist()}")
        return [self.itos[i] for i in arr.tolist() if not (skip_pad and i == PAD)]


def pad(seqs: Sequence[Sequence[int]], maxlen: int | None = None, *, value: int = PAD,
        padding: str = "pre", truncating: str = "pre") -> np.ndarray:
    """Pad (and truncate) integer sequences to ``maxlen`` (default: the longest), like Keras' ``pad_sequences``:
    ``"pre"`` pads / cuts at the front, ``"post"`` at the end."""
    if padding not in ("pre", "post") or truncating not in ("pre", "post"):
        raise ValueError(f"padding and truncating are 'pre' or 'post', got {padding!r}, {truncating!r}")
    seqs = [np.asarray(s, dtype=np.int64).ravel() for s in seqs]
    if maxlen is None:
        maxlen = max((len(s) for s in seqs), default=0)
    if maxlen < 0:
        raise ValueError(f"maxlen must be >= 0, got {maxlen}")
    out = np.full((len(seqs), maxlen), value, dtype=np.int64)
    for i, s in enumerate(seqs):
        s = (s[-maxlen:] if truncating == "pre" else s[:maxlen]) if maxlen else s[:0]
        if len(s):
            if padding == "pre":
                out[i, maxlen - len(s):] = s
            else:
                out[i, :len(s)] = s
    return out


def softmax(logits, temperature: float = 1.0, axis: int = -1) -> np.ndarray:
    """``softmax(logits / temperature)``, computed stably; ``temperature`` must be > 0."""
    z = np.asarray(logits, dtype=np.float64)
    if z.size == 0:
        raise ValueError("softmax of an empty array")
    if not np.all(np.isfinite(z)):
        raise ValueError("logits must be finite (use a large negative number, not -inf, to mask)")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0 for softmax, got {temperature!r}")
    z = z / temperature
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def sample(logits, temperature: float = 1.0, rng: np.random.Generator | None = None):
    """Draw one index per row of ``logits`` (shape ``(V,)`` or ``(n, V)``) from ``softmax(logits / T)``.

    ``temperature=0`` is greedy (the arg-max); small T sharpens, large T flattens. Returns an int for 1-D
    input, else an int64 array of length n. Pass log-probabilities as logits to sample from probabilities.
    """
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim not in (1, 2) or z.shape[-1] == 0:
        raise ValueError(f"logits must have shape (V,) or (n, V) with V >= 1, got {z.shape}")
    if temperature is None or not np.isfinite(temperature) or temperature < 0:
        raise ValueError(f"temperature must be a finite number >= 0, got {temperature!r}")
    if not np.all(np.isfinite(z)):
        raise ValueError("logits must be finite")
    z2 = z.reshape(-1, z.shape[-1])
    if temperature == 0:
        idx = z2.argmax(axis=1)
    else:
        rng = np.random.default_rng() if rng is None else rng
        p = softmax(z2, temperature)
        cs = p.cumsum(axis=1)
        idx = (cs > rng.random((len(p), 1)) * cs[:, -1:]).argmax(axis=1)   # one categorical draw per row
    return int(idx[0]) if z.ndim == 1 else idx.astype(np.int64)


def bow_accuracy(train_texts: Sequence[str], y_train, test_texts: Sequence[str], y_test) -> float:
    """Test accuracy of bag-of-words logistic regression: the strongest simple baseline for text classification.

    Texts are already normalised and space-separated (every run of non-spaces is one token); the vocabulary is
    fitted on the training texts only. Needs scikit-learn.
    """
    if isinstance(train_texts, str) or isinstance(test_texts, str):
        raise TypeError("pass sequences of texts, not one string")
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = CountVectorizer(token_pattern=r"[^ ]+")
    clf = LogisticRegression(max_iter=2000).fit(vec.fit_transform(train_texts), y_train)
    return float(np.mean(clf.predict(vec.transform(test_texts)) == np.asarray(y_test)))


def normalise(sentence: str) -> str:
    """The normalised form used to find repeated sentences: lower-cased :func:`tokenize` tokens joined by spaces.

    >>> normalise("The Da Vinci Code book is just awesome.")
    'the da vinci code book is just awesome .'
    """
    return " ".join(tokenize(sentence))


def unique_split(texts: Sequence[str], labels, *, test_size: float = 0.3, seed: int = 0, key=normalise):
    """Split labelled texts **by unique normalised text**, so that no text is on both sides.

    Every distinct ``key(text)`` appears once, with its majority label (a tie goes to the smaller label), and
    goes to the test part with ``round(test_size * n_distinct)`` others, drawn by ``seed``. Returns
    ``(train_texts, y_train, test_texts, y_test)`` as NumPy arrays; the texts are the normalised keys. A data set
    with many repeats (UMICH: 7,086 rows, 1,349 distinct sentences) otherwise scores memory, not generalisation.
    """
    if isinstance(texts, str):
        raise TypeError("pass a sequence of texts, not one string")
    y = np.asarray(labels)
    if len(texts) != len(y):
        raise ValueError(f"{len(texts)} texts for {len(y)} labels")
    if not np.issubdtype(y.dtype, np.integer) or (y.size and y.min() < 0):
        raise ValueError("labels must be integers >= 0")
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size!r}")
    keys = np.array([key(t) for t in texts], dtype=object)
    uniq, inverse = np.unique(keys.astype(str), return_inverse=True)
    votes = np.zeros((len(uniq), int(y.max(initial=0)) + 1), dtype=np.int64)
    np.add.at(votes, (inverse, y), 1)
    y_uniq = votes.argmax(1)                                   # ties: the first maximum, the smaller label
    order = np.random.default_rng(seed).permutation(len(uniq))
    n_test = round(test_size * len(uniq))
    if not 0 < n_test < len(uniq):
        raise ValueError(f"test_size {test_size} leaves an empty side for {len(uniq)} distinct texts")
    te, tr = order[:n_test], order[n_test:]
    return uniq[tr], y_uniq[tr], uniq[te], y_uniq[te]
