"""Sentence-level paraphrase scoring from lexical features (scikit-learn).

Two sentences are compared on features a person could check: TF-IDF cosines
over words and characters, word and bigram overlap (Jaccard and containment
both ways), shared and conflicting figures, shared names and quotes, length
ratio, and n-gram precision.  A logistic regression turns them into a
probability that the two say the same thing.  Its weights are fitted on the
training split of the Microsoft Research Paraphrase Corpus by
``python benchmarks/accuracy.py --train-model`` and shipped as a few dozen
numbers in ``sentence_model.json``; the corpus itself is not shipped.

Every feature is computed as a matrix product, so the same code scores the
pairs of a labelled corpus (``paired=True``: row i with row i) and all
sentence pairs of two articles (``paired=False``: every row with every row).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize

from .evidence import names, numbers, quotes

MODEL_PATH = Path(__file__).with_name("sentence_model.json")
FEATURES = (
    "word_cosine", "char_cosine", "word_jaccard", "bigram_jaccard", "trigram_jaccard", "fourgram_jaccard",
    "containment_min", "containment_max", "content_jaccard", "content_containment_min",
    "content_containment_max", "unmatched_min", "unmatched_max", "number_shared", "number_conflict",
    "name_jaccard", "name_conflict", "quote_shared", "length_ratio", "length_gap", "length_min",
)


def _items(a: Sequence[str], b: Sequence[str], extract) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Binary matrices over one vocabulary: which extracted items (figures, names, quotes)
    each text of ``a`` and of ``b`` carries."""
    vocabulary: dict[str, int] = {}
    matrices = []
    for texts in (a, b):
        rows, cols = [], []
        for i, text in enumerate(texts):
            for item in extract(text):
                rows.append(i)
                cols.append(vocabulary.setdefault(item, len(vocabulary)))
        matrices.append((rows, cols, len(texts)))
    width = max(1, len(vocabulary))
    return tuple(sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(n, width)) for r, c, n in matrices)


class SentenceFeatures:
    """Fitted vocabularies (TF-IDF weights come from the texts given to ``fit``)."""

    def __init__(self) -> None:
        self.words = TfidfVectorizer(sublinear_tf=True, token_pattern=r"(?u)\b\w+\b", dtype=np.float32)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, dtype=np.float32)
        # n-gram overlap counts every word, known to the corpus or not: hashed, so there is
        # nothing to fit (2**22 buckets: a collision inside one sentence pair is negligible).
        self.grams = [_binary_hashing(ngram_range=(n, n), token_pattern=r"(?u)\b\w+\b") for n in (1, 2, 3, 4)]
        self.content = _binary_hashing(stop_words="english")

    def fit(self, texts: Sequence[str]) -> "SentenceFeatures":
        """Learn TF-IDF weights from a corpus (dedup fits on the articles it scans)."""
        self.words.fit(texts)
        self.chars.fit(texts)
        return self

    def transform(self, a: Sequence[str], b: Sequence[str], *, paired: bool) -> np.ndarray:
        """Features of each pair: (len(a), F) when paired, else (len(a) * len(b), F) row-major."""
        def overlap(x: sp.csr_matrix, y: sp.csr_matrix) -> np.ndarray:
            if paired:
                return np.asarray(x.multiply(y).sum(axis=1)).ravel()
            return (x @ y.T).toarray().ravel()

        def sizes(x: sp.csr_matrix, y: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
            sx, sy = np.asarray(x.sum(axis=1)).ravel(), np.asarray(y.sum(axis=1)).ravel()
            if paired:
                return sx, sy
            return np.repeat(sx, len(sy)), np.tile(sy, len(sx))

        def jaccard(x, y):
            shared = overlap(x, y)
            sx, sy = sizes(x, y)
            return shared / np.maximum(sx + sy - shared, 1), shared, sx, sy

        columns = [overlap(normalize(self.words.transform(a)), normalize(self.words.transform(b))),
                   overlap(normalize(self.chars.transform(a)), normalize(self.chars.transform(b)))]
        unigrams = None
        for grams in self.grams:
            value, shared, sx, sy = jaccard(grams.transform(a), grams.transform(b))
            columns.append(value)
            if unigrams is None:
                unigrams = (shared, sx, sy)
        shared, sx, sy = unigrams
        columns += _containment(shared, sx, sy)
        content_j, c_shared, c_a, c_b = jaccard(self.content.transform(a), self.content.transform(b))
        columns += [content_j, *_containment(c_shared, c_a, c_b)]
        unmatched_a, unmatched_b = sx - shared, sy - shared
        columns += [np.minimum(unmatched_a, unmatched_b) / 10, np.maximum(unmatched_a, unmatched_b) / 10]
        figures_shared, figures_a, figures_b = jaccard(*_items(a, b, numbers))[1:]
        columns += [np.minimum(figures_shared, 3) / 3, ((figures_a > figures_shared) & (figures_b > figures_shared))
                    .astype(float)]
        name_j, name_shared, name_a, name_b = jaccard(*_items(a, b, names))
        columns += [name_j, ((name_a > name_shared) & (name_b > name_shared)).astype(float)]
        columns.append(np.minimum(overlap(*_items(a, b, quotes)), 1))
        columns += [np.minimum(sx, sy) / np.maximum(np.maximum(sx, sy), 1),
                    np.abs(sx - sy) / np.maximum(sx + sy, 1), np.minimum(sx, sy) / 30]
        return np.stack(columns, axis=1).astype(np.float64)


def _binary_hashing(**options) -> HashingVectorizer:
    return HashingVectorizer(binary=True, norm=None, alternate_sign=False, n_features=2**22, dtype=np.float32,
                             **options)


def _containment(shared: np.ndarray, size_a: np.ndarray, size_b: np.ndarray) -> list[np.ndarray]:
    """Share of each side found in the other: [smaller, larger]."""
    a, b = shared / np.maximum(size_a, 1), shared / np.maximum(size_b, 1)
    return [np.minimum(a, b), np.maximum(a, b)]


class SentenceModel:
    """Probability that two sentences are paraphrases (logistic regression on ``FEATURES``)."""

    def __init__(self, coefficients: Sequence[float] | None = None, intercept: float = 0.0,
                 mean: Sequence[float] | None = None, scale: Sequence[float] | None = None) -> None:
        n = len(FEATURES)
        self.coefficients = np.asarray(coefficients if coefficients is not None else np.zeros(n), dtype=float)
        self.intercept = float(intercept)
        self.mean = np.asarray(mean if mean is not None else np.zeros(n), dtype=float)
        self.scale = np.asarray(scale if scale is not None else np.ones(n), dtype=float)

    @classmethod
    def fit(cls, features: np.ndarray, labels: np.ndarray, C: float = 1.0) -> "SentenceModel":
        mean, scale = features.mean(axis=0), features.std(axis=0) + 1e-9
        regression = LogisticRegression(C=C, max_iter=2000).fit((features - mean) / scale, labels)
        return cls(regression.coef_[0], regression.intercept_[0], mean, scale)

    def probability(self, features: np.ndarray) -> np.ndarray:
        z = ((features - self.mean) / self.scale) @ self.coefficients + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def save(self, path: Path = MODEL_PATH, **provenance) -> None:
        payload = {"features": list(FEATURES), "coefficients": self.coefficients.round(6).tolist(),
                   "intercept": round(self.intercept, 6), "mean": self.mean.round(6).tolist(),
                   "scale": self.scale.round(6).tolist(), **provenance}
        path.write_text(json.dumps(payload, indent=1) + "\n")

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> "SentenceModel":
        payload = json.loads(path.read_text())
        if payload["features"] != list(FEATURES):
            raise ValueError(f"{path}: built for other features; retrain with benchmarks/accuracy.py --train-model")
        return cls(payload["coefficients"], payload["intercept"], payload["mean"], payload["scale"])
