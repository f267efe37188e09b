"""Fitting the word knowledge the sentence model ships (``dedup/term_weights.py``) from labelled
sentence pairs: used by msrp.py, inside each training fold for the cross-validation and on all
pairs for ``--train-model``.

The term weighting follows the idea of Ji & Eisenstein (2013), "Discriminative improvements to
distributional sentence similarity" (TF-KLD): a word or word bigram matters for paraphrase as
much as its "in both sentences" vs "in one only" behaviour differs between paraphrase and
non-paraphrase pairs.  For each hashed unigram/bigram column, among the labelled pairs where it
occurs in at least one sentence, p = share of paraphrase pairs that have it on both sides, q = the
same among non-paraphrase pairs; its weight is the Bernoulli KL divergence KL(p || q).  Rare terms
are shrunk toward the overall rates (``prior`` pseudo-pairs), otherwise a term seen in one training
pair takes that pair's label and the weights overfit; a term never seen weighs what the overall
rates give.

Substitutes: content stems left unmatched on opposite sides of a paraphrase pair at least
``ratio`` times as often as of other pairs (pairs with more than ``most`` unmatched combinations
are left out: unrelated sentences, not substitutions).

Features of the pairs a table was fitted on are cross-fitted (``learned_features``: each inner fold
scored by a table fitted on the other inner folds), so the model that combines them with the
other features never sees in-sample values; held-out pairs are scored by the table fitted on all
training pairs.  Every feature is computed by dedup's own code (``term_weights.pair_columns``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import KFold

from dedup.sentences import HASHED, SentenceRows, WordWeights
from dedup.term_weights import FEATURES, LearnedRows, LearnedTerms, pair_columns

PRIOR = 20.0          # pseudo-pairs a term's rates are shrunk with (5-100 all score alike)
RATIO = 3.0           # a substitute is unmatched this many times as often in paraphrases as in the rest
LEAST = 1             # a substitute is seen in at least this many training paraphrases
MOST = 200            # pairs with more unmatched stem combinations than this teach no substitutes
TOLERANCE = 0.03      # term weights this close to the default are not stored (a term seen in one pair)


@dataclass(frozen=True)
class PairSets:
    """Both sides of labelled pairs as plain sets (binary word + bigram sets and content stems, in
    dedup's hashed columns: ``sentences.learned_rows`` with no learned terms) and each pair's
    unmatched stem combinations (``u * HASHED + v``, u < v; empty for pairs with over ``MOST``)."""

    a: LearnedRows
    b: LearnedRows
    combinations: tuple[np.ndarray, ...]

    @classmethod
    def of(cls, a: SentenceRows, b: SentenceRows) -> "PairSets":
        """From the sentence rows of both sides (row k of each is pair k), whatever terms they were made with."""
        plain = LearnedTerms.empty(HASHED)
        sides = [plain.rows((rows.learned.root_weights > 0).astype(np.float32), rows.learned.stems)
                 for rows in (a, b)]
        return cls(*sides, tuple(_combinations(sides[0].stems, sides[1].stems)))

    @classmethod
    def of_texts(cls, a: list[str], b: list[str]) -> "PairSets":
        plain = WordWeights({}, 1.0)
        return cls.of(SentenceRows.of(a, plain), SentenceRows.of(b, plain))


def _combinations(stems_a: sp.csr_matrix, stems_b: sp.csr_matrix):
    for k in range(stems_a.shape[0]):
        x = stems_a.indices[stems_a.indptr[k]:stems_a.indptr[k + 1]]
        y = stems_b.indices[stems_b.indptr[k]:stems_b.indptr[k + 1]]
        only_a, only_b = np.setdiff1d(x, y), np.setdiff1d(y, x)
        if len(only_a) * len(only_b) > MOST:
            yield np.zeros(0, dtype=np.int64)
            continue
        u, v = np.meshgrid(only_a.astype(np.int64), only_b.astype(np.int64))
        yield (np.minimum(u, v) * HASHED + np.maximum(u, v)).ravel()


def both_sides_rates(sets: PairSets, rows: np.ndarray, labels: np.ndarray,
                     prior: float = PRIOR) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Per column: (p, q), the shrunk shares of paraphrase / other pairs among ``rows`` that have
    the term on both sides, of those that have it on either; and the overall rates (p0, q0)."""
    a, b = sets.a.root_weights[rows], sets.b.root_weights[rows]
    both, either = a.multiply(b).tocsr(), ((a + b) > 0).astype(np.float64)
    positive = labels[rows] == 1

    def column_sums(m: sp.csr_matrix, keep: np.ndarray) -> np.ndarray:
        return np.asarray(m[keep].sum(0)).ravel()

    both_p, either_p = column_sums(both, positive), column_sums(either, positive)
    both_n, either_n = column_sums(both, ~positive), column_sums(either, ~positive)
    p0, q0 = both_p.sum() / either_p.sum(), both_n.sum() / either_n.sum()
    return (both_p + prior * p0) / (either_p + prior), (both_n + prior * q0) / (either_n + prior), p0, q0


def _kl(p, q):
    return p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))


def kld_weights(sets: PairSets, rows: np.ndarray, labels: np.ndarray, prior: float = PRIOR
                ) -> tuple[np.ndarray, float]:
    """KL(p || q) per column from the pairs ``rows``, and the weight of a column never seen."""
    p, q, p0, q0 = both_sides_rates(sets, rows, labels, prior)
    return _kl(p, q), float(_kl(p0, q0))


def substitutions(sets: PairSets, rows: np.ndarray, labels: np.ndarray, ratio: float = RATIO,
                  least: int = LEAST) -> np.ndarray:
    """(n, 2) stem columns learned as substitutes from the pairs ``rows``."""
    def seen(keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        found = [sets.combinations[i] for i in rows[keep].tolist()]
        return np.unique(np.concatenate(found) if found else np.zeros(0, dtype=np.int64), return_counts=True)

    positive = labels[rows] == 1
    keys_p, n_p = seen(positive)
    keys_n, n_n = seen(~positive)
    position = np.searchsorted(keys_n, keys_p)
    inside = position < len(keys_n)
    negative = np.zeros(len(keys_p))
    match = inside.copy()
    match[inside] = keys_n[position[inside]] == keys_p[inside]
    negative[match] = n_n[position[match]]
    kept = keys_p[(n_p >= ratio * negative) & (n_p >= least)]
    return np.stack([kept // HASHED, kept % HASHED], 1)


def fit(sets: PairSets, rows: np.ndarray, labels: np.ndarray, prior: float = PRIOR, ratio: float = RATIO,
        least: int = LEAST, tolerance: float = TOLERANCE) -> LearnedTerms:
    """Term weights and substitutes fitted on the labelled pairs ``rows``."""
    weights, default = kld_weights(sets, rows, labels, prior)
    return LearnedTerms.of(weights, default, substitutions(sets, rows, labels, ratio, least), HASHED, tolerance)


def features(sets: PairSets, learned: LearnedTerms) -> np.ndarray:
    """The learned ``FEATURES`` (n_pairs, 8) of every pair under ``learned``, by dedup's code."""
    a = learned.rows(sets.a.root_weights, sets.a.stems)
    b = learned.rows(sets.b.root_weights, sets.b.stems)
    return np.stack(pair_columns(a, b), axis=1)


def learned_features(sets: PairSets, labels: np.ndarray, train: np.ndarray, test: np.ndarray,
                     inner: int = 5, **options) -> np.ndarray:
    """Learned features (n_pairs, 8) of every pair in ``train`` and ``test``: test rows from a table
    fitted on all of ``train``, train rows cross-fitted over ``inner`` folds of it (rows in
    neither stay zero)."""
    out = np.zeros((len(labels), len(FEATURES)))
    if len(test):
        out[test] = features(sets, fit(sets, train, labels, **options))[test]
    for fitted, held in KFold(inner, shuffle=True, random_state=1).split(train):   # a split blind to labels
        out[train[held]] = features(sets, fit(sets, train[fitted], labels, **options))[train[held]]
    return out
