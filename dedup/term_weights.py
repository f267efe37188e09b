"""Word knowledge learned from labelled sentence pairs, shipped with the sentence model.

Two small tables, both in the sentence stage's hashed columns (``sentences.word_hash`` space),
fitted on the MSRP training split by ``python benchmarks/msrp.py --train-model``
(``benchmarks/term_kld.py`` does the fitting) and shipped as ``term_weights.npz``:

- **term weights** (TF-KLD, after Ji & Eisenstein 2013): how much a word or word bigram being on
  both sides, rather than on one, tells paraphrases from other pairs — the Bernoulli KL divergence
  between its "on both sides" rate among paraphrase pairs and among the others, rare terms shrunk
  toward the overall rates.  Terms whose weight is the shrunk default are not stored.
- **substitutes**: stem pairs that training paraphrases leave unmatched on opposite sides far more
  often than other pairs do (a verb and its synonym, "cut"/"laid"), a synonym list learned instead
  of taken from WordNet.

Eight features per sentence pair (``FEATURES``): the cosine of the KLD-weighted term sets; the
weight each side has that the other lacks (smaller, larger); the shared weight as a share of the
larger side and of each side (smaller); the share of content stems left unmatched that have a
learned substitute in the other sentence (the smaller side's share), and how many are left without
one (smaller, larger).  What each sentence brings (``LearnedRows``) is computed once per sentence;
a pair's features are then row-wise products.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .arrays import locate

TERMS_PATH = Path(__file__).with_name("term_weights.npz")
FEATURES = ("kld_cosine", "kld_unmatched_min", "kld_unmatched_max", "kld_shared_share", "kld_shared_min",
            "substituted_share", "unsubstituted_min", "unsubstituted_max")


@dataclass(frozen=True)
class LearnedTerms:
    """TF-KLD weights of hashed word and bigram columns (``default`` for the rest) and the
    learned substitutes, each stem pair (u, v) as one sorted key (``pair_keys``)."""

    columns: np.ndarray        # sorted hashed columns with a weight of their own
    weights: np.ndarray        # their weights
    default: float             # every other column's weight
    substitutes: np.ndarray    # sorted distinct pair keys
    width: int

    @classmethod
    def empty(cls, width: int) -> "LearnedTerms":
        """No learned knowledge: every term weighs the same, no substitutes."""
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), 1.0, np.zeros(0, dtype=np.int64),
                   width)

    @classmethod
    def of(cls, weights: np.ndarray, default: float, pairs: np.ndarray, width: int,
           tolerance: float = 0.0) -> "LearnedTerms":
        """From a weight per column (those within ``tolerance`` of ``default`` dropped) and
        substitute stem pairs ((n, 2) hashed columns)."""
        keep = np.flatnonzero(np.abs(weights - default) > tolerance)
        return cls(keep.astype(np.int64), weights[keep].astype(np.float32), float(default),
                   _substitute_keys(pairs, width), width)

    def are_substitutes(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Whether each stem column pair (u[k], v[k]) is a learned substitute (either order)."""
        return locate(pair_keys(np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64), self.width),
                      self.substitutes)[1]

    @cached_property
    def has_substitute(self) -> np.ndarray:
        """Whether each hashed stem column is in a learned substitute pair (dense, 1 MB: made once)."""
        found = np.zeros(self.width, dtype=bool)
        found[self.substitutes // self.width] = True
        found[self.substitutes % self.width] = True
        return found

    @cached_property
    def column_weights(self) -> np.ndarray:
        """The weight of every hashed column (dense, 4 MB: made once, read for every sentence batch)."""
        dense = np.full(self.width, self.default, dtype=np.float32)
        dense[self.columns] = self.weights
        return dense

    def rows(self, terms: sp.csr_matrix, stems: sp.csr_matrix) -> "LearnedRows":
        """What each sentence brings, from its binary word + bigram set ``terms`` and its binary
        content-stem set ``stems``."""
        root = terms.astype(np.float32, copy=True)
        root.data = np.sqrt(self.column_weights[root.indices])
        return LearnedRows(root, stems.astype(np.float32), self)

    def save(self, path: Path = TERMS_PATH) -> None:
        pairs = np.stack([self.substitutes // self.width, self.substitutes % self.width], 1)
        np.savez_compressed(path, columns=self.columns.astype(np.uint32), weights=self.weights.astype(np.float16),
                            default=np.float32(self.default), width=np.int64(self.width),
                            substitutes=pairs.astype(np.uint32))

    @classmethod
    def load(cls, path: Path = TERMS_PATH) -> "LearnedTerms":
        try:
            with np.load(path) as found:
                width = int(found["width"])
                return cls(found["columns"].astype(np.int64), found["weights"].astype(np.float32),
                           float(found["default"]), _substitute_keys(found["substitutes"], width), width)
        except (OSError, KeyError, ValueError) as error:
            raise ValueError(f"{path}: cannot read the learned term weights ({error}); "
                             "retrain with benchmarks/msrp.py --train-model") from None


def pair_keys(u: np.ndarray, v: np.ndarray, width: int) -> np.ndarray:
    """One key per stem column pair, the same in either order."""
    return np.minimum(u, v) * width + np.maximum(u, v)


def _substitute_keys(pairs: np.ndarray, width: int) -> np.ndarray:
    """Substitute stem pairs ((n, 2) hashed columns) as the sorted distinct keys ``are_substitutes`` searches."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    return np.unique(pair_keys(pairs[:, 0], pairs[:, 1], width))


@dataclass(frozen=True)
class LearnedRows:
    """Per sentence: its word + bigram set holding the square root of each term's weight (a
    row-wise product then sums the weight both sides carry) and its content stems; and the
    learned terms they were made with (shared by all rows)."""

    root_weights: sp.csr_matrix
    stems: sp.csr_matrix
    terms: LearnedTerms

    def __getitem__(self, rows: "slice | np.ndarray") -> "LearnedRows":
        """The rows ``rows`` (a slice or row numbers, repeats allowed) as rows of their own."""
        return LearnedRows(self.root_weights[rows], self.stems[rows], self.terms)


def pair_columns(a: LearnedRows, b: LearnedRows) -> list[np.ndarray]:
    """The ``FEATURES`` of pairs whose sides are row k of ``a`` and of ``b``."""
    shared = a.root_weights.multiply(b.root_weights).tocsr()
    shared_mass, shared_square = _row_sums(shared), _row_sums(shared, power=2)
    mass_a, mass_b = _row_sums(a.root_weights, power=2), _row_sums(b.root_weights, power=2)
    square_a, square_b = _row_sums(a.root_weights, power=4), _row_sums(b.root_weights, power=4)
    only_a, only_b = mass_a - shared_mass, mass_b - shared_mass
    share_a, share_b = shared_mass / np.maximum(mass_a, 1e-9), shared_mass / np.maximum(mass_b, 1e-9)
    columns = [shared_square / np.maximum(np.sqrt(square_a * square_b), 1e-9),
               np.minimum(only_a, only_b), np.maximum(only_a, only_b),
               shared_mass / np.maximum(np.maximum(mass_a, mass_b), 1e-9), np.minimum(share_a, share_b)]
    both = a.stems.multiply(b.stems)
    only_a, only_b = (a.stems - both).tocsr(), (b.stems - both).tocsr()
    only_a.eliminate_zeros()
    only_b.eliminate_zeros()
    unmatched_a, unmatched_b = _row_sums(only_a), _row_sums(only_b)
    found_a, found_b = _substituted(only_a, only_b, a.terms)
    left_a, left_b = unmatched_a - found_a, unmatched_b - found_b
    columns += [np.minimum(found_a / np.maximum(unmatched_a, 1), found_b / np.maximum(unmatched_b, 1)),
                np.minimum(left_a, left_b) / 5, np.maximum(left_a, left_b) / 5]
    return columns


def _substituted(only_a: sp.csr_matrix, only_b: sp.csr_matrix, terms: LearnedTerms
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Per pair (row): how many of the stems each side leaves unmatched have a learned substitute
    among the other side's unmatched stems.  Only stems that have a substitute at all can find
    one (``LearnedTerms.has_substitute``): every (a stem, b stem) combination of those of a pair is
    made at once, as flat arrays, and looked up in the sorted keys."""
    n_pairs = only_a.shape[0]
    nothing = np.zeros(n_pairs), np.zeros(n_pairs)
    if not len(terms.substitutes):
        return nothing
    pair_of_a, stems_a = _with_substitutes(only_a, terms)
    pair_of_b, stems_b = _with_substitutes(only_b, terms)
    n_b = np.bincount(pair_of_b, minlength=n_pairs)
    group = n_b[pair_of_a]                     # an a stem's combinations: its pair's b stems
    total = int(group.sum())
    if not total:
        return nothing
    a_entry = np.repeat(np.arange(len(pair_of_a)), group)
    starts = np.cumsum(group) - group
    b_entry = (np.cumsum(n_b) - n_b)[pair_of_a][a_entry] + np.arange(total) - starts[a_entry]
    hit = terms.are_substitutes(stems_a[a_entry], stems_b[b_entry])
    a_found = np.bincount(a_entry[hit], minlength=len(pair_of_a)) > 0
    b_found = np.bincount(b_entry[hit], minlength=len(stems_b)) > 0
    return (np.bincount(pair_of_a, weights=a_found, minlength=n_pairs),
            np.bincount(pair_of_b, weights=b_found, minlength=n_pairs))


def _with_substitutes(stems: sp.csr_matrix, terms: LearnedTerms) -> tuple[np.ndarray, np.ndarray]:
    """The row (pair) and column (int64) of each entry of ``stems`` that has a learned substitute."""
    keep = terms.has_substitute[stems.indices]
    rows = np.repeat(np.arange(stems.shape[0]), np.diff(stems.indptr))
    return rows[keep], stems.indices[keep].astype(np.int64)


def _row_sums(matrix: sp.spmatrix, power: int = 1) -> np.ndarray:
    matrix = matrix.tocsr()
    values = matrix.data.astype(np.float64) ** power
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    return np.bincount(rows, weights=values, minlength=matrix.shape[0])
