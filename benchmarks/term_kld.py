"""Word features for sentence pairs learned from labelled pairs (an experiment for msrp.py;
not shipped): discriminative term weights (TF-KLD) and a table of learned substitutions.

The weighting follows the idea of Ji & Eisenstein (2013), "Discriminative improvements to
distributional sentence similarity" (TF-KLD): a word or word bigram matters for paraphrase
as much as its "in both sentences" vs "in one only" behaviour differs between paraphrase and
non-paraphrase pairs.  For each hashed unigram/bigram column, among the labelled pairs where
it occurs in at least one sentence, p = share of paraphrase pairs that have it on both sides,
q = the same among non-paraphrase pairs; its weight is the Bernoulli KL divergence KL(p || q).
Rare terms are shrunk toward the overall rates (``prior`` pseudo-pairs), otherwise a term seen
in one training pair takes that pair's label and the weights overfit.

From the weights, five named features per pair: the cosine of the KLD-weighted term vectors;
the KLD mass each side has that the other lacks (smaller, larger); the shared mass as a share of
the larger and of the smaller side.  A substitution table (stem pairs left unmatched on opposite
sides of paraphrase pairs, e.g. a verb and its synonym, learned instead of taken from WordNet)
gives three more: the share of unmatched stems with a learned substitute on the other side, and
how many are left without one (``NAMES``: all eight).  Optionally (``latent``) the weighted
sentence-term matrix is factorised (truncated SVD) and a logistic model on the pair of latent
vectors (sum, |difference|) gives one more feature, ``latent_score``, and the latent cosine.

Weights are fitted on training pairs only; features of the pairs they were fitted on are
cross-fitted (each inner fold scored by weights fitted on the other inner folds), so the model
that combines them with dedup's features never sees in-sample values.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.preprocessing import normalize

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from dedup.sentences import STEM, WORD, HashedTokens, counts

NAMES = ("kld_cosine", "kld_unmatched_min", "kld_unmatched_max", "kld_shared_share", "kld_shared_min",
         "substituted_share", "unsubstituted_min", "unsubstituted_max")
LATENT_NAMES = ("latent_cosine", "latent_score")


def term_counts(texts: list[str]) -> sp.csr_matrix:
    """Hashed word unigram and bigram counts of each text (dedup's hashing)."""
    tokens = HashedTokens.of(texts)
    grams = [tokens.grams(n) for n in (1, 2)]
    return counts(np.concatenate([g[0] for g in grams]), np.concatenate([g[1] for g in grams]), len(texts))


def content_stems(text: str) -> frozenset[str]:
    """The text's words less stop words, cut to dedup's stem length."""
    return frozenset(w[:STEM] for w in WORD.findall(text.lower()) if w not in ENGLISH_STOP_WORDS)


@dataclass(frozen=True)
class PairTerms:
    """Term counts of both sides of pairs, in dedup's hashed columns (weights fitted on one set
    of pairs apply to any other)."""

    a: sp.csr_matrix
    b: sp.csr_matrix
    unmatched: tuple[tuple[frozenset[str], frozenset[str]], ...]   # content stems one side has, the other lacks

    @classmethod
    def of(cls, a: list[str], b: list[str]) -> "PairTerms":
        stems_a, stems_b = [content_stems(t) for t in a], [content_stems(t) for t in b]
        return cls(term_counts(a), term_counts(b), tuple((x - y, y - x) for x, y in zip(stems_a, stems_b)))

    @property
    def binary(self) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        return (self.a > 0).astype(np.float64), (self.b > 0).astype(np.float64)


def kld_weights(terms: PairTerms, rows: np.ndarray, labels: np.ndarray, prior: float = 20.0) -> np.ndarray:
    """KL(p || q) per column from the pairs ``rows`` (labels indexed like the pairs)."""
    p, q = both_sides_rates(terms, rows, labels, prior)
    return p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))


def both_sides_rates(terms: PairTerms, rows: np.ndarray, labels: np.ndarray,
                     prior: float = 20.0) -> tuple[np.ndarray, np.ndarray]:
    """Per column: (p, q), the shrunk shares of paraphrase / other pairs among ``rows`` that have
    the term on both sides, of those that have it on either."""
    a, b = (m[rows] for m in terms.binary)
    both, either = a.multiply(b), ((a + b) > 0).astype(np.float64)
    positive = labels[rows] == 1

    def column_sums(m: sp.csr_matrix, keep: np.ndarray) -> np.ndarray:
        return np.asarray(m[keep].sum(0)).ravel()

    both_p, either_p = column_sums(both, positive), column_sums(either, positive)
    both_n, either_n = column_sums(both, ~positive), column_sums(either, ~positive)
    p0, q0 = both_p.sum() / either_p.sum(), both_n.sum() / either_n.sum()
    p = (both_p + prior * p0) / (either_p + prior)
    q = (both_n + prior * q0) / (either_n + prior)
    return p, q


def kld_features(terms: PairTerms, weights: np.ndarray) -> dict[str, np.ndarray]:
    """The ``NAMES`` features of every pair under the column ``weights``."""
    wa, wb = normalize(terms.a.multiply(weights).tocsr()), normalize(terms.b.multiply(weights).tocsr())
    ba, bb = terms.binary
    mass_a = np.asarray(ba.multiply(weights).sum(1)).ravel()
    mass_b = np.asarray(bb.multiply(weights).sum(1)).ravel()
    shared = np.asarray(ba.multiply(bb).multiply(weights).sum(1)).ravel()
    only_a, only_b = mass_a - shared, mass_b - shared
    share_a, share_b = shared / np.maximum(mass_a, 1e-9), shared / np.maximum(mass_b, 1e-9)
    return {"kld_cosine": np.asarray(wa.multiply(wb).sum(1)).ravel(),
            "kld_unmatched_min": np.minimum(only_a, only_b), "kld_unmatched_max": np.maximum(only_a, only_b),
            "kld_shared_share": shared / np.maximum(np.maximum(mass_a, mass_b), 1e-9),
            "kld_shared_min": np.minimum(share_a, share_b)}


def substitutions(terms: PairTerms, rows: np.ndarray, labels: np.ndarray, most: int = 200) -> set[tuple[str, str]]:
    """Stem pairs learned as substitutes: left unmatched on opposite sides of a paraphrase pair
    among ``rows`` at least three times as often as of other pairs (pairs with more than
    ``most`` unmatched combinations are left out: unrelated sentences, not substitutions)."""
    seen = {0: Counter(), 1: Counter()}
    for i in rows.tolist():
        only_a, only_b = terms.unmatched[i]
        if len(only_a) * len(only_b) <= most:
            seen[int(labels[i] == 1)].update(_ordered(u, v) for u in only_a for v in only_b)
    return {pair for pair, n in seen[1].items() if n >= 3 * seen[0][pair]}


def _ordered(u: str, v: str) -> tuple[str, str]:
    return (u, v) if u < v else (v, u)


def substitution_features(terms: PairTerms, table: set[tuple[str, str]]) -> dict[str, np.ndarray]:
    """Per pair: the share of unmatched stems with a learned substitute on the other side (the
    smaller of the two sides' shares), and how many are left without one (smaller, larger; / 5)."""
    share, left_a, left_b = (np.zeros(len(terms.unmatched)) for _ in range(3))
    for i, (only_a, only_b) in enumerate(terms.unmatched):
        found_a = sum(any(_ordered(u, v) in table for v in only_b) for u in only_a)
        found_b = sum(any(_ordered(u, v) in table for u in only_a) for v in only_b)
        share[i] = min(found_a / max(len(only_a), 1), found_b / max(len(only_b), 1))
        left_a[i], left_b[i] = len(only_a) - found_a, len(only_b) - found_b
    return {"substituted_share": share, "unsubstituted_min": np.minimum(left_a, left_b) / 5,
            "unsubstituted_max": np.maximum(left_a, left_b) / 5}


def latent_features(terms: PairTerms, weights: np.ndarray, fit_rows: np.ndarray, labels: np.ndarray,
                    dimensions: int = 50) -> dict[str, np.ndarray]:
    """Latent cosine and a logistic score on (u + v, |u - v|) of the SVD of the weighted terms,
    the SVD and the logistic model fitted on ``fit_rows``."""
    used = np.union1d(terms.a.indices, terms.b.indices)   # the SVD works on the columns in use only
    wa, wb = (normalize(m[:, used].multiply(weights[used]).tocsr()) for m in (terms.a, terms.b))
    svd = TruncatedSVD(dimensions, n_iter=2, random_state=0).fit(sp.vstack([wa[fit_rows], wb[fit_rows]]))
    u, v = normalize(svd.transform(wa)), normalize(svd.transform(wb))
    pair = np.hstack([u + v, np.abs(u - v)])
    model = LogisticRegression(max_iter=3000).fit(pair[fit_rows], labels[fit_rows])
    return {"latent_cosine": (u * v).sum(1), "latent_score": model.decision_function(pair)}


def learned_features(terms: PairTerms, labels: np.ndarray, train: np.ndarray, test: np.ndarray,
                     latent: int = 0, inner: int = 5) -> dict[str, np.ndarray]:
    """Features of every pair in ``train`` and ``test``: test rows from weights fitted on all of
    ``train``, train rows cross-fitted over ``inner`` folds of it."""
    out: dict[str, np.ndarray] = {}

    def score(fit_rows: np.ndarray, rows: np.ndarray) -> None:
        weights = kld_weights(terms, fit_rows, labels)
        found = kld_features(terms, weights) | substitution_features(terms, substitutions(terms, fit_rows, labels))
        if latent:
            found |= latent_features(terms, weights, fit_rows, labels, latent)
        for name, values in found.items():
            out.setdefault(name, np.zeros(len(labels)))[rows] = values[rows]

    score(train, test)
    for fit, held in KFold(inner, shuffle=True, random_state=1).split(train):   # a split blind to labels
        score(train[fit], train[held])
    return out
