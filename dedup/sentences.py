"""Sentence-level paraphrase scoring from lexical features (scikit-learn).

Two sentences are compared on features a person could check, the ones published
lexical methods use: TF-IDF cosines over words and characters; n-gram overlap
(Jaccard, and BLEU-style precision both ways); word and content-word containment, also
weighted by IDF (a rare word left unmatched says more than a common one); the longest
common subsequence of words (both ways: LCS and its insert/delete rate) and a TER-like
word edit rate (Levenshtein over words, substitutions counted once); METEOR-style
unigram F-mean over stems; shared, conflicting and one-sided figures, names, negations
and quotes; content words left unmatched; length ratio; and eight from word knowledge learned
from labelled pairs (``term_weights``: TF-KLD term weights, learned substitutes).  A logistic
regression turns them into a probability that the two say the same thing.  Its weights are fitted
on the training split of the Microsoft Research Paraphrase Corpus by
``python benchmarks/msrp.py --train-model`` and shipped with the word IDF it was trained with in
``sentence_model.json`` and the learned terms in ``term_weights.npz`` (the corpus itself is not
shipped).

Nothing here is fitted on the corpus being scanned: every feature is hashed
(``HashingVectorizer``) and weighted by the shipped IDF, so a sentence pair scores
the same in ``dedup compare A B`` and in any scan.  What each sentence brings is
computed once (``SentenceRows.of``), then any set of sentence pairs is scored in
one go (``pair_features``) by row-wise products of sparse matrices.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, fields
from functools import cached_property, lru_cache, wraps
from pathlib import Path
from typing import Callable, Iterable, Sequence, TypeVar

import numpy as np
import scipy.sparse as sp

from . import term_weights
from .arrays import distinct, locate, ranges, ranks
from .evidence import distinctive, names, numbers, quotes
from .sketch import fmix32
from .sklearn_parts import ENGLISH_STOP_WORDS, murmurhash3_32   # not scikit-learn's package import: a second
from .term_weights import TERMS_PATH, LearnedRows, LearnedTerms

T = TypeVar("T")
MODEL_PATH = Path(__file__).with_name("sentence_model.json")
FEATURES = (
    "word_cosine", "char_cosine", "word_jaccard", "bigram_jaccard", "trigram_jaccard", "fourgram_jaccard",
    "containment_min", "containment_max", "content_jaccard", "content_containment_min",
    "content_containment_max", "unmatched_min", "unmatched_max", "bleu_min", "bleu_max", "lcs_min", "lcs_max",
    "edit_rate", "meteor_min", "meteor_max", "number_shared", "number_conflict", "name_jaccard", "name_conflict",
    "negation_conflict", "quote_shared", "length_ratio", "length_gap", "length_min",
    "idf_containment_min", "idf_containment_max", "unmatched_content_idf_min", "unmatched_content_idf_max",
    "unmatched_content_min", "unmatched_content_max", "number_unmatched_min", "number_unmatched_max",
    "word_edit_rate", *term_weights.FEATURES,
)
HASHED = 2 ** 20          # hashed feature columns: a collision inside one sentence pair is negligible
WORD = re.compile(r"\w+")
NEGATIONS = frozenset({"not", "no", "never", "nor", "none", "nobody", "nothing", "without", "t"})  # t: "isn't"
STEM = 5                  # words cut to five characters: a stemmer for morphology ("acquired"/"acquires")


_STOP = frozenset(ENGLISH_STOP_WORDS)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def word_hash(word: str) -> int:
    """The hashed column of one word (every feature of the stage hashes words this way)."""
    return murmurhash3_32(word, positive=True) % HASHED


@lru_cache(maxsize=100_000)
def _word(word: str) -> tuple[int, bool, int, np.ndarray, np.ndarray]:
    """Per distinct word, once per process: its hash, whether it is a stop word, its stem's
    hash, and the hashes of its character 2-5-grams and 4-grams (padded with spaces at
    both ends, as scikit-learn's ``char_wb`` does)."""
    padded = f" {word} "
    grams = [padded[i:i + n] for n in (2, 3, 4, 5) for i in range(len(padded) - n + 1)]
    hashes = np.array([murmurhash3_32(g, positive=True) for g in grams], dtype=np.uint32)
    fours = np.array([murmurhash3_32(padded[i:i + 4], positive=True) for i in range(len(padded) - 3)],
                     dtype=np.uint32)
    return (murmurhash3_32(word, positive=True), word in _STOP, murmurhash3_32(word[:STEM], positive=True),
            hashes % HASHED, fours % HASHED)


@dataclass(frozen=True)
class _WordFacts:
    """``_word`` of many distinct words, by id, as arrays: hash, stop word, stem hash, and the
    character 2-5-gram and 4-gram columns end to end (word i's from ``*_bounds[i]``).  Never
    changed once made: a table that learns new words makes a new one."""

    hashes: np.ndarray        # uint64
    stop: np.ndarray          # bool
    stems: np.ndarray         # uint64
    grams: np.ndarray         # int64 character 2-5-gram columns
    grams_bounds: np.ndarray
    fours: np.ndarray         # int64 character 4-gram columns
    fours_bounds: np.ndarray

    @classmethod
    def of(cls, words: Sequence[str]) -> "_WordFacts":
        """The facts of ``words``: ASCII words all at once (``_ascii_facts``), others one by one."""
        plain = [w for w in words if w.isascii()]
        if len(plain) < len(words):   # in their order: plain words first
            return cls.of(plain).extended(cls.one_by_one([w for w in words if not w.isascii()]))
        return _ascii_facts(plain) if plain else cls.one_by_one([])

    @classmethod
    def one_by_one(cls, words: Sequence[str]) -> "_WordFacts":
        info = [_word(w) for w in words]
        grams, fours = [i[3] for i in info], [i[4] for i in info]
        return cls(np.array([i[0] for i in info], dtype=np.uint64), np.array([i[1] for i in info], dtype=bool),
                   np.array([i[2] for i in info], dtype=np.uint64), _joined(grams), _bounds(grams),
                   _joined(fours), _bounds(fours))

    def extended(self, more: "_WordFacts") -> "_WordFacts":
        return _WordFacts(*(np.concatenate([getattr(self, name), getattr(more, name)]) if not name.endswith("bounds")
                            else np.concatenate([getattr(self, name), getattr(self, name)[-1] + getattr(more, name)[1:]])
                            for name in (f.name for f in fields(self))))

    def columns(self, ids: np.ndarray, fours_only: bool) -> tuple[np.ndarray, np.ndarray]:
        """The character gram columns of the words ``ids``, end to end, and how many each has."""
        flat, bounds = (self.fours, self.fours_bounds) if fours_only else (self.grams, self.grams_bounds)
        starts = bounds[ids]
        lengths = bounds[ids + 1] - starts
        return flat[ranges(starts, lengths)], lengths


def _joined(arrays: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(arrays).astype(np.int64) if arrays else np.empty(0, dtype=np.int64)


def _bounds(arrays: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([[0], np.cumsum([len(a) for a in arrays], dtype=np.int64)])


class _WordTable:
    """Every distinct word this process has tokenised for sentences, by id (``_WordFacts``):
    each token is then a dictionary look-up, its facts numpy indexing.  Starts afresh past
    ``MAX_WORDS`` words (what was handed out stays valid: the facts are never changed)."""

    MAX_WORDS = 100_000   # as many as ``_word`` caches

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.facts = _WordFacts.one_by_one([])

    def ids(self, words: list[str]) -> tuple[np.ndarray, _WordFacts]:
        """The id of each word and the facts they index, new words added."""
        new = [w for w in dict.fromkeys(words) if w not in self.index]
        if new:
            if len(self.index) + len(new) > self.MAX_WORDS:
                self.index, self.facts = {}, _WordFacts.one_by_one([])
                new = list(dict.fromkeys(words))
            new = sorted(new, key=lambda w: not w.isascii())   # as ``_WordFacts.of`` lays them out
            self.index.update(zip(new, range(len(self.index), len(self.index) + len(new))))
            self.facts = self.facts.extended(_WordFacts.of(new))
        return np.fromiter(map(self.index.__getitem__, words), dtype=np.int64, count=len(words)), self.facts


_WORDS = _WordTable()   # this process's

_C1, _C2 = np.uint32(0xCC9E2D51), np.uint32(0x1B873593)


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def murmur_keys(keys: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``murmurhash3_32(key, positive=True)`` (scikit-learn's: MurmurHash3 x86, 32 bits, seed 0)
    of many byte strings at once: row k of ``keys`` (uint8, a width that is a multiple of 4) holds
    key k in its first ``lengths[k]`` bytes and zeros after.  A zero-padded tail block mixes as the
    tail bytes do, and an all-zero block leaves the hash as it is, so every row runs the same steps."""
    blocks = np.ascontiguousarray(keys).view("<u4")
    full = lengths // 4
    h = np.zeros(len(keys), dtype=np.uint32)
    for b in range(blocks.shape[1]):
        k = _rotl(blocks[:, b] * _C1, 15) * _C2
        h = np.where(b < full, _rotl(h ^ k, 13) * np.uint32(5) + np.uint32(0xE6546B64), h ^ k)
    return fmix32(h ^ lengths.astype(np.uint32))


def _hash_slices(buffer: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``murmur_keys`` of ``buffer[starts[k]:starts[k] + lengths[k]]`` for each k (the buffer
    padded with zeros past its end)."""
    width = 4 * max(1, -(-int(lengths.max(initial=0)) // 4))
    at = np.arange(width)
    inside = at < lengths[:, None]
    keys = np.where(inside, buffer[np.where(inside, starts[:, None] + at, 0)], 0).astype(np.uint8)
    return murmur_keys(keys, lengths)


def _ascii_facts(words: Sequence[str]) -> _WordFacts:
    """``_word`` of many ASCII words, hashed by numpy (``_WordFacts.one_by_one`` hashes each key
    in Python): each word, its stem, and the character 2-5-grams of " word " (n, then position)."""
    lengths = np.array([len(w) for w in words], dtype=np.int64)
    text = np.frombuffer("".join(f" {w} " for w in words).encode("ascii"), dtype=np.uint8)
    padded = np.r_[0, np.cumsum(lengths + 2)[:-1]]   # where each " word " starts in ``text``
    hashes = _hash_slices(text, padded + 1, lengths).astype(np.uint64)
    stems = _hash_slices(text, padded + 1, np.minimum(lengths, STEM)).astype(np.uint64)
    sizes = np.arange(2, 6)
    per_size = np.maximum(lengths[:, None] + 3 - sizes, 0)          # (words, 4): grams of each size
    counts = per_size.ravel()
    size = np.repeat(np.tile(sizes, len(words)), counts)
    starts = np.repeat(np.repeat(padded, 4), counts) + ranks(counts)
    grams = (_hash_slices(text, starts, size) % HASHED).astype(np.int64)
    fours = grams[size == 4]
    return _WordFacts(hashes, np.array([w in _STOP for w in words], dtype=bool), stems, grams,
                      np.r_[0, np.cumsum(per_size.sum(axis=1))], fours, np.r_[0, np.cumsum(per_size[:, 2])])


def split_words(texts: Sequence[str]) -> list[list[str]]:
    """Each text's words, lower-cased: what every feature of the stage is computed from."""
    return [WORD.findall(t.lower()) for t in texts]


@dataclass(frozen=True)
class HashedTokens:
    """The words of many texts as flat arrays (row = which text), hashed once per distinct
    word: n-grams and character grams are then numpy arithmetic, not Python per token."""

    n_rows: int
    rows: np.ndarray      # text of each token
    hashes: np.ndarray    # uint64 word hash of each token
    stop: np.ndarray      # stop word?
    stems: np.ndarray     # uint64 stem hash
    words: list[str]
    ids: np.ndarray | None = None        # each token's word in ``table`` (None: ``chars`` hashes ``words``)
    table: _WordFacts | None = None

    @classmethod
    def of(cls, texts: Sequence[str], split: Sequence[list[str]] | None = None) -> "HashedTokens":
        """The words of ``texts``; ``split``: their ``split_words``, when already found."""
        tokens = split_words(texts) if split is None else split
        words = [w for ws in tokens for w in ws]
        ids, table = _WORDS.ids(words)
        rows = np.repeat(np.arange(len(texts)), [len(ws) for ws in tokens])
        return cls(len(texts), rows, table.hashes[ids], table.stop[ids], table.stems[ids], words, ids, table)

    def without_stop_words(self) -> "HashedTokens":
        keep = ~self.stop
        return HashedTokens(self.n_rows, self.rows[keep], self.hashes[keep], self.stop[keep], self.stems[keep],
                            [w for w, k in zip(self.words, keep.tolist()) if k],
                            None if self.ids is None else self.ids[keep], self.table)

    def grams(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of each word n-gram inside one text."""
        if n == 1:
            return self.rows, (self.hashes % HASHED).astype(np.int64)
        if len(self.rows) < n:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        inside = self.rows[n - 1:] == self.rows[:len(self.rows) - n + 1]
        mixed = np.full(len(self.rows) - n + 1, n, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for k in range(n):
                mixed = mixed * _GOLDEN + self.hashes[k:len(self.rows) - n + 1 + k]
            mixed ^= mixed >> np.uint64(29)
        return self.rows[:len(mixed)][inside], (mixed[inside] % HASHED).astype(np.int64)

    def chars(self, fours_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of each character 2-5-gram (or 4-gram) within a word."""
        if self.table is not None:
            columns, lengths = self.table.columns(self.ids, fours_only)
            return np.repeat(self.rows, lengths), columns
        grams = [_word(w)[4 if fours_only else 3] for w in self.words]
        if not grams:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        return np.repeat(self.rows, [len(g) for g in grams]), np.concatenate(grams).astype(np.int64)


def counts(rows: np.ndarray, columns: np.ndarray, n_rows: int, binary: bool = False) -> sp.csr_matrix:
    """Sparse (n_rows, HASHED) counts of the (row, column) entries.  Entries in row order (tokens
    come so) are laid out as CSR rows directly: scipy's (row, column) constructor goes through a
    COO copy first (a quarter of the cost for character grams, two thirds for words)."""
    ones = np.ones(len(rows), dtype=np.float32)
    if len(rows) > 1 and not (rows[1:] >= rows[:-1]).all():
        matrix = sp.csr_matrix((ones, (rows, columns)), shape=(n_rows, HASHED))
    else:
        index = np.int32 if len(rows) < 2 ** 31 else np.int64   # as scipy chooses
        indptr = np.zeros(n_rows + 1, dtype=index)
        np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
        matrix = sp.csr_matrix((ones, np.asarray(columns).astype(index), indptr), shape=(n_rows, HASHED))
    matrix.sum_duplicates()
    if binary:
        matrix.data[:] = 1.0
    return matrix


@dataclass(frozen=True)
class WordWeights:
    """Inverse document frequency of words over sentences of real news (shipped, not fitted
    on what is scanned): the most common words by name, every other word ``default``; and the
    term weights and substitutes learned from labelled pairs (``term_weights``; None: none)."""

    idf: dict[str, float]
    default: float
    learned: LearnedTerms | None = None

    @cached_property
    def learned_terms(self) -> LearnedTerms:
        return self.learned if self.learned is not None else LearnedTerms.empty(HASHED)

    @classmethod
    def count(cls, sentences: Iterable[str], keep: int = 8000) -> "WordWeights":
        """Smoothed IDF (as scikit-learn computes it) of the ``keep`` most common words."""
        df: Counter[str] = Counter()
        total = 0
        for sentence in sentences:
            df.update(set(WORD.findall(sentence.lower())))
            total += 1
        idf = {w: round(math.log((1 + total) / (1 + n)) + 1, 3) for w, n in df.most_common(keep)}
        rarest_kept = min(df.most_common(keep)[-1][1], 2) if df else 1
        return cls(idf, round(math.log((1 + total) / (1 + rarest_kept)) + 1, 3))

    @cached_property
    def columns(self) -> np.ndarray:
        """IDF of each hashed column (computed once per model)."""
        weights = np.full(HASHED, self.default, dtype=np.float32)
        for word, value in self.idf.items():
            weights[word_hash(word)] = value
        return weights


def _items(found: Sequence[set[str]]) -> sp.csr_matrix:
    """Binary rows: which extracted items (figures, names, quotes) each text carries, hashed."""
    rows = [i for i, items in enumerate(found) for _ in items]
    cols = [word_hash(item) for items in found for item in items]
    return counts(np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64), len(found), binary=True)



def sublinear_idf(matrix: sp.csr_matrix, idf: np.ndarray | None) -> sp.csr_matrix:
    """(1 + log tf) times IDF (None: 1), rows L2-normalised."""
    weighted = matrix.copy()
    weighted.data = 1.0 + np.log(weighted.data)
    if idf is not None:
        weighted.data *= idf[weighted.indices]
    return _unit_rows(weighted)


def _unit_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """In place: each non-empty row divided by its L2 norm, to the bit as scikit-learn's ``normalize``
    does it (squares in the data's type, summed in float64 in row order, quotients in float64)."""
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    norms = np.sqrt(np.bincount(rows, weights=(matrix.data * matrix.data).astype(np.float64),
                                minlength=matrix.shape[0]))
    norms[norms == 0] = 1.0
    matrix.data = (matrix.data / norms[rows]).astype(matrix.data.dtype)
    return matrix


@dataclass(frozen=True)
class SentenceRows:
    """What the sentence model needs from each sentence of many texts, computed once, kept
    compact: every hashed feature block side by side in one matrix (``STACKED``: block k in
    columns k * HASHED onwards), so one row-wise product gives every overlap of a set of
    sentence pairs; the blocks the alignment reads on their own; word sequences; quotes."""

    stacked: sp.csr_matrix      # IDF-weighted words, character 2-5-grams, binary 1-4-grams, content words,
                                # stems, figures, names, quotes, sqrt(IDF) of distinct words and content
                                # words (see ``STACKED``)
    sizes: np.ndarray           # (rows, len(STACKED)): each block's row sum (set sizes of the binary blocks)
    content: sp.csr_matrix      # IDF-weighted, L2-normalised content words (stop words left out): the prefilter
    distinctive: sp.csr_matrix  # binary: figures worth noticing (with a unit, or 3+ digits not a year)
    names: sp.csr_matrix        # binary: capitalised names
    quotes: sp.csr_matrix       # binary: quoted phrases
    negations: np.ndarray       # how many negation words each sentence has
    words_in_order: "Ragged"   # each sentence's word hashes in order, for the longest common subsequence
    quote_sets: tuple[frozenset[str], ...]   # the quoted phrases themselves (a quote inside a longer one counts)
    learned: LearnedRows        # word + bigram sets under the learned term weights, content stems (term_weights)

    def __len__(self) -> int:
        return len(self.words_in_order)

    @property
    def tokens(self) -> tuple[tuple[int, ...], ...]:
        """Each sentence's word hashes in order, as tuples (for inspection; ``pair_features`` reads
        ``words_in_order``)."""
        return self.words_in_order.rows()

    def take(self, start: int, stop: int) -> "SentenceRows":
        """Rows ``start`` to ``stop`` as a compact copy that keeps nothing of these rows alive (a
        document kept for later pairs must not hold its whole batch's matrices)."""
        def part(value):
            piece = value[start:stop]
            return piece.copy() if isinstance(piece, np.ndarray) else piece
        return SentenceRows(**{f.name: part(getattr(self, f.name)) for f in fields(self)})

    @classmethod
    def concat(cls, ranges: Sequence[tuple["SentenceRows", int, int]]) -> "SentenceRows":
        """Rows ``start`` to ``stop`` of each ``(rows, start, stop)``, one range after another, as
        rows of their own: the sentences of documents prepared in different batches gathered, so
        that their pairs are scored in one ``pair_features`` call (each row is copied as it is)."""
        bounds = [(start, stop) for _, start, stop in ranges]

        def joined(values: list):
            if isinstance(values[0], sp.csr_matrix):
                return _concat_rows(values, bounds)
            parts = [value[start:stop] for value, (start, stop) in zip(values, bounds)]
            if isinstance(values[0], Ragged):
                return Ragged.concat(parts)
            return tuple(x for part in parts for x in part) if isinstance(values[0], tuple) else np.concatenate(parts)

        learned = LearnedRows(*(joined([getattr(rows.learned, name) for rows, _, _ in ranges])
                                for name in ("root_weights", "stems")), ranges[0][0].learned.terms)
        return cls(**{f.name: joined([getattr(rows, f.name) for rows, _, _ in ranges])
                      for f in fields(cls) if f.name != "learned"}, learned=learned)

    def block(self, name: str) -> sp.csr_matrix:
        """One block of ``stacked`` on its own (for inspection and tests; the hot path reads ``stacked``)."""
        k = STACKED.index(name)
        return self.stacked[:, k * HASHED:(k + 1) * HASHED]

    @classmethod
    def of(cls, texts: Sequence[str], weights: WordWeights, split: Sequence[list[str]] | None = None
           ) -> "SentenceRows":
        """The rows of ``texts`` (``split``: their ``split_words``, when already found)."""
        idf = weights.columns
        figures = [numbers(t) for t in texts]
        quoted = [frozenset(quotes(t)) for t in texts]
        words = HashedTokens.of(texts, split)
        content = words.without_stop_words()
        n = len(texts)
        blocks = {
            "words": sublinear_idf(counts(*words.grams(1), n), idf),
            "chars": sublinear_idf(counts(*words.chars(), n), None),
            **{f"grams{k}": counts(*words.grams(k), n, binary=True) for k in (1, 2, 3, 4)},
            "content_set": counts(*content.grams(1), n, binary=True),
            "stems": counts(words.rows, (words.stems % HASHED).astype(np.int64), n, binary=True),
            "numbers": _items(figures),
            "names": _items([names(t) for t in texts]),
            "quotes": _items(quoted),
            "idf_words": _root_idf(counts(*words.grams(1), n, binary=True), idf),
            "idf_content": _root_idf(counts(*content.grams(1), n, binary=True), idf),
        }
        stacked = sp.hstack([blocks[name] for name in STACKED], format="csr")
        return cls(
            stacked=stacked,
            sizes=_block_sums(stacked, squared=_ROOT_IDF_BLOCKS),
            content=content_rows(content, idf),
            distinctive=_items([distinctive(f) for f in figures]),
            names=blocks["names"],
            quotes=blocks["quotes"],
            negations=np.bincount(words.rows[np.isin(words.hashes, _NEGATION_HASHES)], minlength=n).astype(float),
            words_in_order=_token_ids(words),
            quote_sets=tuple(quoted),
            learned=learned_rows(words, content, weights.learned_terms),
        )


def _concat_rows(matrices: Sequence[sp.csr_matrix], bounds: Sequence[tuple[int, int]]) -> sp.csr_matrix:
    """Rows ``start`` to ``stop`` of each CSR matrix (of one width), one range after another, from
    their arrays (a scipy slice per range costs more than the copy)."""
    indptr, indices, data, filled = [np.zeros(1, dtype=np.int64)], [], [], 0
    for matrix, (start, stop) in zip(matrices, bounds):
        lo, hi = int(matrix.indptr[start]), int(matrix.indptr[stop])
        indptr.append(matrix.indptr[start + 1:stop + 1].astype(np.int64) - lo + filled)
        indices.append(matrix.indices[lo:hi])
        data.append(matrix.data[lo:hi])
        filled += hi - lo
    return sp.csr_matrix((np.concatenate(data), np.concatenate(indices), np.concatenate(indptr)),
                         shape=(sum(stop - start for start, stop in bounds), matrices[0].shape[1]))


def content_rows(content: HashedTokens, idf: np.ndarray) -> sp.csr_matrix:
    """IDF-weighted, L2-normalised content words of each text (``SentenceRows.content``): what
    a sentence pair's cosine, the paraphrase stage's prefilter, is taken on."""
    return sublinear_idf(counts(*content.grams(1), content.n_rows), idf)


def content_only(texts: Sequence[str], weights: WordWeights, split: Sequence[list[str]] | None = None
                 ) -> sp.csr_matrix:
    """``SentenceRows.of(texts, weights).content`` alone, at a tenth of the cost (each row is the
    same: it depends on its own text only); ``split``: the texts' ``split_words``, when found."""
    return content_rows(HashedTokens.of(texts, split).without_stop_words(), weights.columns)


def learned_rows(words: HashedTokens, content: HashedTokens, learned: LearnedTerms) -> LearnedRows:
    """The sentences' binary word + bigram sets and content-stem sets under the ``learned`` terms
    (with ``LearnedTerms.empty``, the plain sets: what ``benchmarks/term_kld.py`` fits them on)."""
    n = words.n_rows
    unigrams, bigrams = words.grams(1), words.grams(2)
    terms = counts(np.concatenate([unigrams[0], bigrams[0]]), np.concatenate([unigrams[1], bigrams[1]]), n,
                   binary=True)
    stems = counts(content.rows, (content.stems % HASHED).astype(np.int64), n, binary=True)
    return learned.rows(terms, stems)


_NEGATION_HASHES = np.array([murmurhash3_32(w, positive=True) for w in NEGATIONS], dtype=np.uint64)


def _token_ids(words: HashedTokens) -> "Ragged":
    """Each text's words as hashes (enough for the longest common subsequence), laid end to end."""
    return Ragged(words.hashes.astype(np.int64), np.searchsorted(words.rows, np.arange(words.n_rows + 1)))


@dataclass(frozen=True)
class Ragged:
    """Rows of different lengths laid end to end: row k is ``values[bounds[k]:bounds[k + 1]]``.  A
    sentence's words stay one array slice, so a batch of sentence pairs gathers its words with a few
    numpy calls instead of building arrays from tuples pair by pair."""

    values: np.ndarray   # int64
    bounds: np.ndarray   # int64, rows + 1, from 0

    def __len__(self) -> int:
        return len(self.bounds) - 1

    def __getitem__(self, rows: slice) -> "Ragged":
        """Consecutive rows as a compact copy (``SentenceRows.take``, ``concat``)."""
        start, stop, _ = rows.indices(len(self))
        stop = max(start, stop)
        lo, hi = int(self.bounds[start]), int(self.bounds[stop])
        return Ragged(self.values[lo:hi].copy(), self.bounds[start:stop + 1] - lo)

    def lengths(self, rows: np.ndarray) -> np.ndarray:
        return (self.bounds[rows + 1] - self.bounds[rows]).astype(np.int64)

    def gather(self, rows: np.ndarray) -> np.ndarray:
        """The values of ``rows``, one row after another."""
        return self.values[ranges(self.bounds[rows], self.lengths(rows))]

    def rows(self) -> tuple[tuple[int, ...], ...]:
        flat, bounds = self.values.tolist(), self.bounds.tolist()
        return tuple(tuple(flat[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:]))

    @classmethod
    def concat(cls, parts: Sequence["Ragged"]) -> "Ragged":
        offsets = np.cumsum([0] + [len(part.values) for part in parts[:-1]])
        return cls(np.concatenate([part.values for part in parts]),
                   np.concatenate([[0]] + [part.bounds[1:] + offset for part, offset in zip(parts, offsets)]
                                  ).astype(np.int64))

    @classmethod
    def of(cls, rows: Sequence[Sequence[int]]) -> "Ragged":
        lengths = [len(row) for row in rows]
        return cls(np.fromiter((x for row in rows for x in row), dtype=np.int64, count=sum(lengths)),
                   np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]).astype(np.int64))


@dataclass(frozen=True)
class RowSlice:
    """Consecutive rows of a CSR matrix as views of its arrays (``indptr`` from 0): what a pair's
    sentence products read, without the checks and copies of a scipy slice (which cost more
    than the product itself for a pair's few dozen sentences)."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray

    @classmethod
    def of(cls, matrix: sp.csr_matrix, start: int, stop: int) -> "RowSlice":
        bounds = matrix.indptr[start:stop + 1]
        lo, hi = (int(bounds[0]), int(bounds[-1])) if len(bounds) else (0, 0)
        return cls(bounds - lo, matrix.indices[lo:hi], matrix.data[lo:hi])

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.indptr) - 1, HASHED

    @cached_property
    def columns(self) -> np.ndarray:
        """The sorted distinct columns these rows use (``cross`` intersects them)."""
        return distinct(self.indices)


def one_blas_thread(function: Callable[..., T]) -> Callable[..., T]:
    """``function`` with its BLAS products (``cross``'s) on one thread.  A product that BLAS splits
    among threads may differ in its last bits (its float32 sums grouped otherwise: 3,031 of the
    million content cosines of the sentences of 40 real articles, on two threads), so a pair's
    sentence cosines (the prefilter, anchored matches) would depend on the machine's core count;
    and a pair's few dozen sentences are too few to share: the threads cost more CPU than they save
    (dense 1,200-article scan, the alignment in one process: 4.2 CPU s with OpenBLAS's threads,
    3.2 on one; in two worker processes, each had its own threads contending for the two cores)."""
    @wraps(function)
    def on_one_thread(*args, **kwargs):
        with _blas_libraries().limit(limits=1, user_api="blas"):
            return function(*args, **kwargs)
    return on_one_thread


@lru_cache(maxsize=1)
def _blas_libraries():
    """The BLAS libraries this process has loaded, found once (finding them costs milliseconds, a
    tenth of a batch's alignment): numpy's, which ``cross``'s products run on, is loaded with numpy."""
    from threadpoolctl import ThreadpoolController   # scikit-learn's dependency

    return ThreadpoolController()


def cross(x: "sp.csr_matrix | RowSlice", y: "sp.csr_matrix | RowSlice", columns: np.ndarray | None = None
          ) -> np.ndarray:
    """Dot products of every row of ``x`` with every row of ``y``, as a dense (n, m) array,
    over the hashed ``columns`` (sorted, distinct) only when given.  Only the columns both
    sides use are kept, renumbered, as small dense blocks: a transpose 2**20 columns wide (or
    a sparse product of a pair's few sentences) costs more than the work."""
    first, second = sorted((_columns(x), _columns(y)), key=len)
    common = first[locate(first, second)[1]]   # sorted, distinct: np.intersect1d's answer without its sorts
    if columns is not None:
        common = np.intersect1d(common, columns, assume_unique=True)
    if not len(common):
        return np.zeros((x.shape[0], y.shape[0]))
    return _dense_columns(x, common) @ _dense_columns(y, common).T


def _columns(m: "sp.csr_matrix | RowSlice") -> np.ndarray:
    """The sorted distinct columns ``m`` uses (a ``RowSlice`` finds them once)."""
    return m.columns if isinstance(m, RowSlice) else distinct(m.indices)


def _dense_columns(m: "sp.csr_matrix | RowSlice", common: np.ndarray) -> np.ndarray:
    """The rows of ``m`` over the ``common`` columns only, dense (n, len(common))."""
    position, keep = locate(m.indices, common)
    rows = np.repeat(np.arange(len(m.indptr) - 1), np.diff(m.indptr))
    out = np.zeros((len(m.indptr) - 1, len(common)), dtype=m.data.dtype)
    out[rows[keep], position[keep]] = m.data[keep]
    return out


STACKED = ("words", "chars", "grams1", "grams2", "grams3", "grams4", "content_set", "stems", "numbers", "names",
           "quotes", "idf_words", "idf_content")
_BLOCK = {name: k for k, name in enumerate(STACKED)}
_ROOT_IDF_BLOCKS = np.isin(STACKED, ("idf_words", "idf_content"))


def _root_idf(binary: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """A set of words holding the square root of each word's IDF: the row-wise product of two
    such rows sums the IDF of the words both sentences have."""
    weighted = binary.copy()
    weighted.data = np.sqrt(idf[weighted.indices]).astype(np.float32)
    return weighted


def _block_sums(matrix: sp.csr_matrix, squared: np.ndarray | None = None) -> np.ndarray:
    """Each row's sum per block (of the squared values in the ``squared`` blocks: the IDF sum of a
    ``_root_idf`` set)."""
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    block = matrix.indices // HASHED
    values = matrix.data if squared is None else np.where(squared[block], matrix.data ** 2, matrix.data)
    flat = np.bincount(rows * len(STACKED) + block, weights=values, minlength=matrix.shape[0] * len(STACKED))
    return flat.reshape(matrix.shape[0], len(STACKED))


def pair_features(a: SentenceRows, rows_a: np.ndarray, b: SentenceRows, rows_b: np.ndarray) -> np.ndarray:
    """Features (len(rows_a), F) of the sentence pairs (a[rows_a[k]], b[rows_b[k]])."""
    overlaps = _block_sums(a.stacked[rows_a].multiply(b.stacked[rows_b]).tocsr())
    size_a, size_b = a.sizes[rows_a], b.sizes[rows_b]

    def shared(name: str) -> np.ndarray:
        return overlaps[:, _BLOCK[name]]

    def jaccard(name: str):
        common, sx, sy = shared(name), size_a[:, _BLOCK[name]], size_b[:, _BLOCK[name]]
        return common / np.maximum(sx + sy - common, 1), common, sx, sy

    columns = [shared("words"), shared("chars")]
    precisions = []
    for n in (1, 2, 3, 4):
        value, common, sx, sy = jaccard(f"grams{n}")
        columns.append(value)
        precisions.append((common, sx, sy))
    common, sx, sy = precisions[0]
    columns += _containment(common, sx, sy)
    content_j, c_shared, c_a, c_b = jaccard("content_set")
    columns += [content_j, *_containment(c_shared, c_a, c_b)]
    unmatched_a, unmatched_b = sx - common, sy - common
    columns += [np.minimum(unmatched_a, unmatched_b) / 10, np.maximum(unmatched_a, unmatched_b) / 10]
    columns += _bleu(precisions)
    words_a, words_b = a.words_in_order, b.words_in_order
    length_a, length_b = words_a.lengths(rows_a), words_b.lengths(rows_b)
    lcs, edits = (x.astype(float) for x in _lane_scores(words_a.gather(rows_a), length_a,
                                                        words_b.gather(rows_b), length_b))
    length_a, length_b = length_a.astype(float), length_b.astype(float)
    columns += _containment(lcs, length_a, length_b)
    columns.append((length_a + length_b - 2 * lcs) / np.maximum(np.maximum(length_a, length_b), 1))
    stem_shared, stem_a, stem_b = jaccard("stems")[1:]
    columns += _meteor(stem_shared, stem_a, stem_b)
    figures_shared, figures_a, figures_b = jaccard("numbers")[1:]
    columns += [np.minimum(figures_shared, 3) / 3,
                ((figures_a > figures_shared) & (figures_b > figures_shared)).astype(float)]
    name_j, name_shared, name_a, name_b = jaccard("names")
    columns += [name_j, ((name_a > name_shared) & (name_b > name_shared)).astype(float)]
    columns.append(((a.negations[rows_a] > 0) != (b.negations[rows_b] > 0)).astype(float))
    columns.append(np.minimum(shared("quotes"), 1))
    columns += [np.minimum(sx, sy) / np.maximum(np.maximum(sx, sy), 1),
                np.abs(sx - sy) / np.maximum(sx + sy, 1), np.minimum(sx, sy) / 30]
    idf_shared, idf_a, idf_b = jaccard("idf_words")[1:]
    columns += _containment(idf_shared, idf_a, idf_b)
    rare_shared, rare_a, rare_b = jaccard("idf_content")[1:]
    columns += [x / 20 for x in _one_sided(rare_shared, rare_a, rare_b)]
    columns += [x / 5 for x in _one_sided(c_shared, c_a, c_b)]
    columns += _one_sided(figures_shared, figures_a, figures_b)
    columns.append(edits / np.maximum(np.maximum(length_a, length_b), 1))
    columns += term_weights.pair_columns(a.learned[rows_a], b.learned[rows_b])
    return np.stack(columns, axis=1).astype(np.float64)


def _one_sided(shared: np.ndarray, size_a: np.ndarray, size_b: np.ndarray) -> list[np.ndarray]:
    """What each side has that the other lacks: [smaller, larger]."""
    a, b = np.maximum(size_a - shared, 0), np.maximum(size_b - shared, 0)
    return [np.minimum(a, b), np.maximum(a, b)]


def _containment(shared: np.ndarray, size_a: np.ndarray, size_b: np.ndarray) -> list[np.ndarray]:
    """Share of each side found in the other: [smaller, larger]."""
    a, b = shared / np.maximum(size_a, 1), shared / np.maximum(size_b, 1)
    return [np.minimum(a, b), np.maximum(a, b)]


def _bleu(precisions: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> list[np.ndarray]:
    """BLEU-style score each way (geometric mean of 1-4-gram precisions, add-one smoothed
    above unigrams, times a brevity penalty): [smaller, larger]."""
    scores = []
    for side in (1, 2):
        logs = [np.log((common + (n > 0)) / np.maximum(sizes[side - 1] + (n > 0), 1) + 1e-9)
                for n, (common, *sizes) in enumerate(precisions)]
        own, other = precisions[0][side], precisions[0][3 - side]
        brevity = np.minimum(0.0, 1.0 - other / np.maximum(own, 1))
        scores.append(np.exp(np.mean(logs, axis=0) + brevity))
    return [np.minimum(*scores), np.maximum(*scores)]


def _meteor(shared: np.ndarray, size_a: np.ndarray, size_b: np.ndarray) -> list[np.ndarray]:
    """METEOR's recall-weighted unigram F-mean (over stems), taking each side as the reference."""
    p, r = shared / np.maximum(size_a, 1), shared / np.maximum(size_b, 1)
    one = 10 * p * r / np.maximum(r + 9 * p, 1e-9)
    other = 10 * p * r / np.maximum(p + 9 * r, 1e-9)
    return [np.minimum(one, other), np.maximum(one, other)]


WORD_BITS = 64   # sentences of up to this many words are compared on numpy's 64-bit integers


def _sequence_scores(a: Sequence[Sequence[int]], b: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """``_lcs`` and ``_word_edits`` of each pair (a[k], b[k]), as integer arrays (``_lane_scores``)."""
    a, b = Ragged.of(a), Ragged.of(b)
    every = np.arange(len(a))
    return _lane_scores(a.values, a.lengths(every), b.values, b.lengths(every))


def _lane_scores(words_a: np.ndarray, length_a: np.ndarray, words_b: np.ndarray, length_b: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """``_lcs`` and ``_word_edits`` of each pair k of word sequences (``length_a[k]`` words of
    ``words_a`` from where pair k - 1's end, and the same of b), as integer arrays.  Pairs whose
    first side has 1 to ``WORD_BITS`` words (nearly every sentence) run the same bit-parallel
    recurrences all at once, one numpy step per word of the second side (unsigned 64-bit arithmetic
    wraps, and the bits above a sentence's length are masked off, as they are from Python's
    integers); the others one by one."""
    start_a, start_b = np.cumsum(length_a) - length_a, np.cumsum(length_b) - length_b
    lcs = np.zeros(len(length_a), dtype=np.int64)
    edits = np.zeros(len(length_a), dtype=np.int64)
    short = (length_a > 0) & (length_a <= WORD_BITS) & (length_b > 0)
    for k in np.flatnonzero(~short).tolist():
        a = words_a[start_a[k]:start_a[k] + length_a[k]].tolist()
        b = words_b[start_b[k]:start_b[k] + length_b[k]].tolist()
        lcs[k], edits[k] = _lcs(a, b), _word_edits(a, b)
    if short.any():
        lcs[short], edits[short] = _bit_parallel(words_a, start_a[short], length_a[short],
                                                 words_b, start_b[short], length_b[short])
    return lcs, edits


def _bit_parallel(words_a: np.ndarray, start_a: np.ndarray, length_a: np.ndarray,
                  words_b: np.ndarray, start_b: np.ndarray, length_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``_lcs`` and ``_word_edits`` of pairs whose sides are not empty and whose first sides have at
    most ``WORD_BITS`` words (pair k: ``length_a[k]`` words of ``words_a`` from ``start_a[k]``, and
    the same of b): the recurrences of those functions on uint64 arrays, one lane per pair, the
    lanes ordered by the second side's length so that step t works on the lanes still running."""
    order = np.argsort(-length_b, kind="stable")
    length_a, length_b = length_a[order], length_b[order]
    running = np.searchsorted(-length_b, -np.arange(length_b[0]), side="left")   # lanes with a word t
    masks = _match_masks(words_a[ranges(start_a[order], length_a)], words_b[ranges(start_b[order], length_b)],
                         length_a, length_b)
    one = np.uint64(1)
    full = np.where(length_a == WORD_BITS, ~np.uint64(0), (one << length_a.astype(np.uint64)) - one)
    top = one << (length_a - 1).astype(np.uint64)
    v, plus, minus, distance = full.copy(), full.copy(), np.zeros_like(full), length_a.copy()
    for t, n in enumerate(running.tolist()):
        equal, mask, high = masks[:n, t], full[:n], top[:n]
        u = v[:n] & equal                                  # _lcs
        v[:n] = ((v[:n] + u) | (v[:n] - u)) & mask
        vertical = equal | minus[:n]                       # _word_edits
        horizontal = (((equal & plus[:n]) + plus[:n]) ^ plus[:n]) | equal
        up = minus[:n] | (~(horizontal | plus[:n]) & mask)
        down = plus[:n] & horizontal
        distance[:n] += (up & high != 0).astype(np.int64) - (down & high != 0)
        up = ((up << one) | one) & mask
        down = (down << one) & mask
        plus[:n] = down | (~(vertical | up) & mask)
        minus[:n] = up & vertical
    lcs, edits = np.empty_like(length_a), np.empty_like(length_a)
    lcs[order], edits[order] = length_a - _popcount(v), distance
    return lcs, edits


def _match_masks(words_a: np.ndarray, words_b: np.ndarray, length_a: np.ndarray, length_b: np.ndarray
                 ) -> np.ndarray:
    """(lanes, longest b) uint64: bit i of [k, t] set when a[k][i] is the word b[k][t] (the masks
    ``_lcs`` builds per pair), by one join of (lane, word) keys over all pairs (lane k's words:
    ``length_a[k]`` of ``words_a``, after lane k - 1's; the same of b)."""
    lane_a, lane_b = np.repeat(np.arange(len(length_a)), length_a), np.repeat(np.arange(len(length_b)), length_b)
    place_a, place_b = ranks(length_a), ranks(length_b)
    key_a = (lane_a << 32) | words_a
    key_b = (lane_b << 32) | words_b
    by_key = np.argsort(key_a, kind="stable")
    low = np.searchsorted(key_a[by_key], key_b, side="left")
    found = np.searchsorted(key_a[by_key], key_b, side="right") - low
    entry = np.repeat(np.arange(len(key_b)), found)                  # a b word, once per a position it matches
    at = by_key[ranges(low, found)]
    masks = np.zeros((len(length_a), int(length_b.max())), dtype=np.uint64)
    np.bitwise_or.at(masks, (lane_b[entry], place_b[entry]), np.uint64(1) << place_a[at].astype(np.uint64))
    return masks


def _popcount(values: np.ndarray) -> np.ndarray:
    """Set bits of each uint64."""
    if hasattr(np, "bitwise_count"):   # numpy 2
        return np.bitwise_count(values).astype(np.int64)
    return np.unpackbits(values.astype("<u8").view(np.uint8).reshape(-1, 8), axis=1).sum(axis=1).astype(np.int64)


def _lcs(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common subsequence of two word sequences (bit-parallel, Hyyrö 2004)."""
    if not a or not b:
        return 0
    masks: dict[int, int] = {}
    for i, word in enumerate(a):
        masks[word] = masks.get(word, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for word in b:
        u = v & masks.get(word, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - bin(v).count("1")


def _word_edits(a: Sequence[int], b: Sequence[int]) -> int:
    """Word-level Levenshtein distance (insertions, deletions, substitutions; TER without its
    block shifts), bit-parallel (Myers 1999, in Hyyrö's formulation)."""
    if not a or not b:
        return len(a) + len(b)
    masks: dict[int, int] = {}
    for i, word in enumerate(a):
        masks[word] = masks.get(word, 0) | (1 << i)
    full, top = (1 << len(a)) - 1, 1 << (len(a) - 1)
    plus, minus, distance = full, 0, len(a)
    for word in b:
        equal = masks.get(word, 0)
        vertical = equal | minus
        horizontal = (((equal & plus) + plus) ^ plus) | equal
        up = minus | (~(horizontal | plus) & full)
        down = plus & horizontal
        distance += 1 if up & top else -1 if down & top else 0
        up = ((up << 1) | 1) & full
        down = (down << 1) & full
        plus = down | (~(vertical | up) & full)
        minus = up & vertical
    return distance


class SentenceFeatures:
    """Features of sentence pairs given as text (a labelled corpus, ``paraphrase_probability``)."""

    def __init__(self, weights: WordWeights | None = None) -> None:
        self.weights = weights if weights is not None else SentenceModel.load().weights

    def rows(self, texts: Sequence[str]) -> SentenceRows:
        return SentenceRows.of(texts, self.weights)

    def transform(self, a: Sequence[str], b: Sequence[str], *, paired: bool) -> np.ndarray:
        """Features of each pair: (len(a), F) when paired, else (len(a) * len(b), F) row-major."""
        rows_a, rows_b = self.rows(a), self.rows(b)
        if paired:
            index = np.arange(len(a))
            return pair_features(rows_a, index, rows_b, index)
        return pair_features(rows_a, np.repeat(np.arange(len(a)), len(b)), rows_b, np.tile(np.arange(len(b)), len(a)))


class SentenceModel:
    """Probability that two sentences are paraphrases (logistic regression on ``FEATURES``),
    with the word weights its features were computed with."""

    def __init__(self, coefficients: Sequence[float] | None = None, intercept: float = 0.0,
                 mean: Sequence[float] | None = None, scale: Sequence[float] | None = None,
                 weights: WordWeights | None = None) -> None:
        n = len(FEATURES)
        self.coefficients = np.asarray(coefficients if coefficients is not None else np.zeros(n), dtype=float)
        self.intercept = float(intercept)
        self.mean = np.asarray(mean if mean is not None else np.zeros(n), dtype=float)
        self.scale = np.asarray(scale if scale is not None else np.ones(n), dtype=float)
        self.weights = weights if weights is not None else WordWeights({}, 1.0)

    @classmethod
    def fit(cls, features: np.ndarray, labels: np.ndarray, weights: WordWeights | None, C: float = 1.0
            ) -> "SentenceModel":
        from sklearn.linear_model import LogisticRegression   # training only (benchmarks/msrp.py)

        mean, scale = features.mean(axis=0), features.std(axis=0) + 1e-9
        regression = LogisticRegression(C=C, max_iter=5000).fit((features - mean) / scale, labels)
        return cls(regression.coef_[0], regression.intercept_[0], mean, scale, weights)

    def probability(self, features: np.ndarray) -> np.ndarray:
        # A row-wise sum, not ``@``: a BLAS matrix-vector product's last bits depend on a row's
        # place in the batch, and a sentence pair must score the same in a scan and alone.
        z = (((features - self.mean) / self.scale) * self.coefficients).sum(axis=-1) + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def save(self, path: Path = MODEL_PATH, **provenance) -> None:
        """The weights as JSON at ``path``; the learned term weights, if any, beside it (``TERMS_PATH``'s name)."""
        learned = {}
        if self.weights.learned is not None:
            self.weights.learned.save(path.with_name(TERMS_PATH.name))
            learned = {"learned_terms": TERMS_PATH.name}
        payload = {"features": list(FEATURES), "coefficients": self.coefficients.round(6).tolist(),
                   "intercept": round(self.intercept, 6), "mean": self.mean.round(6).tolist(),
                   "scale": self.scale.round(6).tolist(), **provenance, **learned,
                   "default_idf": self.weights.default, "idf": self.weights.idf}
        path.write_text(json.dumps(payload, indent=0, ensure_ascii=False) + "\n")

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> "SentenceModel":
        return _load(path)


@lru_cache(maxsize=2)
def _load(path: Path) -> SentenceModel:
    payload = json.loads(path.read_text(encoding="utf-8"))
    if payload["features"] != list(FEATURES) or "idf" not in payload:
        raise ValueError(f"{path}: built for other features; retrain with benchmarks/msrp.py --train-model")
    learned = LearnedTerms.load(path.with_name(payload["learned_terms"])) if "learned_terms" in payload else None
    return SentenceModel(payload["coefficients"], payload["intercept"], payload["mean"], payload["scale"],
                         WordWeights(payload["idf"], payload["default_idf"], learned))


def paraphrase_probability(pairs: Sequence[tuple[str, str]]) -> np.ndarray:
    """Probability that each (sentence, sentence) pair says the same thing, by the shipped
    sentence model (the one scans and ``dedup compare`` use; a scan aligns a pair at
    ``sentence_probability``, 0.4 by default)::

        >>> dedup.paraphrase_probability([("Meta said on Wednesday it would cut 600 jobs in its AI unit.",
        ...     "Meta told staff on Wednesday that 600 jobs in its AI unit would be cut.")])  # doctest: +SKIP
        array([0.969])
    """
    pairs = list(pairs)
    if not pairs:
        return np.zeros(0)
    if any(len(p) != 2 or not all(isinstance(s, str) for s in p) for p in pairs):
        raise ValueError("paraphrase_probability takes a list of (sentence, sentence) pairs of strings")
    model = SentenceModel.load()
    features = SentenceFeatures(model.weights).transform([a for a, _ in pairs], [b for _, b in pairs], paired=True)
    return model.probability(features)
