"""Shingling and MinHash sketches, per document and per overlapping window.

One implementation serves the scanner and the persistent index, so both agree
on what a duplicate is.

Shingles are runs of ``shingle_size`` normalised words that never cross a
chrome line.  Each shingle gets a deterministic 32-bit hash (word hashes from
BLAKE2b, combined by a polynomial over uint64, folded to 32 bits).  The MinHash
signatures are exactly what ``datasketch.MinHash(scheme="affine32")`` would
compute from those 32-bit values (MurmurHash3 finaliser, then ``a*h + b mod
2**32`` with datasketch's own permutation parameters), only vectorised: the
shingle hashes of a document are permuted once, reduced to minima per block of
``window_words // 2`` shingles, and each window is the minimum of two adjacent
blocks.  The document signature is the minimum over all blocks.  This way a
300-word excerpt inside a 3,000-word article still collides with the windows
that hold it (containment), not only whole documents with each other
(resemblance).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from .records import Document
from .settings import SketchSettings
from .text import tokenize

SCHEME = "affine32"
TOKENIZER = "word-runs-cjk-chars-v2"          # bump when tokenize() splits text differently (v2: CJK/Thai per character)
SHINGLE_HASH = "blake2b64-poly-fold32-v1"   # bump if the shingle hash ever changes
_POLY = np.uint64(0x9E3779B97F4A7C15)        # odd multiplier for combining word hashes
_MASK32 = np.uint64(0xFFFFFFFF)


class WordHasher:
    """Deterministic 64-bit hashes of words, cached (Python's hash() is salted per process)."""

    def __init__(self) -> None:
        self._cache: dict[str, int] = {}

    def __call__(self, words: list[str]) -> np.ndarray:
        cache = self._cache
        values = list(map(cache.get, words))   # one C-level pass; only unseen words reach Python code
        if None in values:
            for i, word in enumerate(words):
                if values[i] is None:
                    value = cache.get(word)
                    if value is None:
                        value = int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(),
                                               "little")
                        if len(cache) < 2_000_000:   # bound memory on endless streams
                            cache[word] = value
                    values[i] = value
        return np.fromiter(values, dtype=np.uint64, count=len(values))


@dataclass(frozen=True)
class Fingerprint:
    """The matchable content of one document: its non-chrome words and their shingles."""

    doc_id: str
    token_starts: np.ndarray    # char offsets of kept (non-chrome) tokens in the original text
    token_ends: np.ndarray
    segments: np.ndarray        # tokens in one segment are not separated by chrome
    shingles: np.ndarray        # uint32 hash of each shingle
    shingle_tokens: np.ndarray  # index (into kept tokens) of each shingle's first word

    @property
    def n_tokens(self) -> int:
        return len(self.token_starts)


class Shingler:
    """Turns a document (minus its chrome spans) into a ``Fingerprint``."""

    def __init__(self, shingle_size: int = 5) -> None:
        if shingle_size < 1:
            raise ValueError("shingle_size must be at least 1")
        self.shingle_size = shingle_size
        self._hasher = WordHasher()

    def fingerprint(self, doc: Document, chrome: list[tuple[int, int]] = ()) -> Fingerprint:
        tokens = tokenize(doc.text)
        is_chrome = _inside(tokens.starts, chrome)
        kept = np.flatnonzero(~is_chrome)
        # Tokens separated by chrome get different segment numbers.
        segments = np.cumsum(is_chrome)[kept]
        words = [tokens.words[i] for i in kept]
        shingles, first = self.shingle(self._hasher(words), segments)
        return Fingerprint(doc.id, tokens.starts[kept], tokens.ends[kept], segments, shingles, first)

    def shingle(self, word_hashes: np.ndarray, segments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = self.shingle_size
        n = len(word_hashes) - k + 1
        if n <= 0:
            return np.empty(0, dtype=np.uint32), np.empty(0, dtype=np.int64)
        combined = np.zeros(n, dtype=np.uint64)
        for j in range(k):   # polynomial hash; uint64 arithmetic wraps, which is intended
            combined = combined * _POLY + word_hashes[j:j + n]
        folded = ((combined >> np.uint64(32)) ^ combined) & _MASK32
        valid = np.flatnonzero(segments[:n] == segments[k - 1:])
        return folded[valid].astype(np.uint32), valid.astype(np.int64)


def _inside(positions: np.ndarray, spans) -> np.ndarray:
    """For each position, whether it falls inside one of the sorted, disjoint ``spans``."""
    if not len(spans):
        return np.zeros(len(positions), dtype=bool)
    starts = np.array([s for s, _ in spans])
    ends = np.array([e for _, e in spans])
    idx = np.searchsorted(starts, positions, side="right") - 1
    return (idx >= 0) & (positions < ends[np.maximum(idx, 0)])


@dataclass(frozen=True)
class Sketch:
    """MinHash signatures of a document and of its overlapping windows."""

    doc_id: str
    signature: np.ndarray        # (num_perm,) uint32, the whole document
    windows: np.ndarray          # (n_windows, num_perm) uint32
    window_shingles: np.ndarray  # (n_windows, 2) shingle index range [start, end) of each window

    @property
    def empty(self) -> bool:
        return len(self.windows) == 0


def fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, as datasketch applies it before permuting."""
    h = values.astype(np.uint32)
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h


class MinHasher:
    """Computes document and window signatures compatible with datasketch's affine32 MinHash."""

    @classmethod
    def from_settings(cls, s: SketchSettings) -> "MinHasher":
        return cls(s.num_perm, s.seed, s.window_words)

    _CHUNK_BLOCKS = 64   # permute this many blocks at a time to bound memory on huge documents

    def __init__(self, num_perm: int = 128, seed: int = 1, window_words: int = 50) -> None:
        if window_words < 2:
            raise ValueError("window_words must be at least 2")
        self.num_perm = num_perm
        self.seed = seed
        self.step = window_words // 2
        self.window = 2 * self.step
        from datasketch import MinHash   # imported here: it takes half a second, and --help needs none of it

        self.permutations = MinHash(num_perm=num_perm, seed=seed, scheme=SCHEME).permutations

    def sketch(self, fingerprint: Fingerprint) -> Sketch:
        blocks = self.block_minima(fingerprint.shingles)
        n = len(fingerprint.shingles)
        if len(blocks) == 0:
            empty = np.empty((0, self.num_perm), dtype=np.uint32)
            return Sketch(fingerprint.doc_id, np.full(self.num_perm, 0xFFFFFFFF, np.uint32), empty,
                          np.empty((0, 2), dtype=np.int64))
        if len(blocks) <= 2:
            windows = blocks.min(axis=0, keepdims=True)
            ranges = np.array([[0, n]], dtype=np.int64)
        else:
            windows = np.minimum(blocks[:-1], blocks[1:])
            starts = np.arange(len(windows), dtype=np.int64) * self.step
            ranges = np.stack([starts, np.minimum(starts + self.window, n)], axis=1)
        return Sketch(fingerprint.doc_id, blocks.min(axis=0), windows, ranges)

    def block_minima(self, shingles: np.ndarray) -> np.ndarray:
        """Minimum permuted hash of each block of ``step`` consecutive shingles."""
        a, b = self.permutations
        mixed = fmix32(shingles)
        out = []
        span = self.step * self._CHUNK_BLOCKS
        for start in range(0, len(mixed), span):
            chunk = mixed[start:start + span]
            permuted = chunk[:, None] * a[None, :] + b[None, :]   # wraps mod 2**32
            out.append(np.minimum.reduceat(permuted, np.arange(0, len(chunk), self.step), axis=0))
        return np.concatenate(out) if out else np.empty((0, self.num_perm), dtype=np.uint32)

    def minhash(self, signature: np.ndarray):
        """Wrap a signature as a datasketch MinHash (for LSH indexes and Jaccard estimates)."""
        from datasketch import MinHash

        return MinHash(seed=self.seed, hashvalues=signature, permutations=self.permutations, scheme=SCHEME)
