"""Shingling and MinHash sketches, per document and per overlapping window.

One implementation serves the scanner and the persistent index, so both agree
on what a duplicate is.

Shingles are runs of ``shingle_size`` normalised words that never cross a
chrome line.  Each shingle gets a deterministic 32-bit hash (word hashes from
BLAKE2b, combined by a polynomial over uint64, folded to 32 bits).  The MinHash
signatures are exactly what ``datasketch.MinHash(scheme="affine32")`` would
compute from those 32-bit values (MurmurHash3 finaliser, then ``a*h + b mod
2**32`` with datasketch's own permutation parameters), only vectorised, over a
batch of documents at a time (``Shingler.fingerprints``, ``MinHasher.sketches``): the
shingle hashes of a document are permuted once, reduced to minima per block of
``window_words // 2`` shingles, and each window is the minimum of two adjacent
blocks.  The document signature is the minimum over all blocks.  This way a
300-word excerpt inside a 3,000-word article still collides with the windows
that hold it (containment), not only whole documents with each other
(resemblance).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from .records import Document
from .settings import SketchSettings
from .text import WordKeys, word_keys

SCHEME = "affine32"
TOKENIZER = "word-runs-cjk-chars-v2"          # bump when tokenize() splits text differently (v2: CJK/Thai per character)
SHINGLE_HASH = "blake2b64-poly-fold32-v1"   # bump if the shingle hash ever changes
_POLY = np.uint64(0x9E3779B97F4A7C15)        # odd multiplier for combining word hashes
# Character offsets and token/shingle indices kept per document.  int32 halves what a 100k scan
# holds: the load stage caps documents at ``--max-mb`` (``load.DEFAULT_MAX_BYTES``, 10 MB), far
# below 2**31 characters, so every offset and index fits (``as_positions`` checks, for texts
# given to the library directly).
POSITION = np.int32


class WordHasher:
    """Deterministic 64-bit hashes of words (BLAKE2b of their normalised UTF-8 bytes), remembered
    (Python's hash() is salted per process).

    Words of up to 8 ASCII bytes (most words of English news) are remembered in a numpy hash
    table keyed by the word's bytes packed into one uint64, an exact key, so a batch's tokens
    are looked up in a few array operations; longer and non-ASCII words in a dict."""

    _TABLE_BITS = 18   # slots; a word whose slot is taken goes to the dict instead

    def __init__(self) -> None:
        self._cache: dict[bytes, int] = {}
        self._table_words = np.zeros(1 << self._TABLE_BITS, dtype=np.uint64)   # 0: an empty slot
        self._table_hashes = np.zeros(1 << self._TABLE_BITS, dtype=np.uint64)

    def __call__(self, words: WordKeys) -> np.ndarray:
        """The hash of each token's word."""
        out = np.empty(len(words.at), dtype=np.uint64)
        lengths = words.lengths
        short = lengths <= 8
        if words.special:
            short[list(words.special)] = False
        index = np.flatnonzero(short)
        packed = _packed(words.buffer, words.at[index], lengths[index])
        slot = (packed * _POLY) >> np.uint64(64 - self._TABLE_BITS)
        found = self._table_words[slot] == packed
        out[index[found]] = self._table_hashes[slot[found]]
        unseen = index[~found]
        rest = np.concatenate([unseen, np.flatnonzero(~short)])
        if len(rest):
            out[rest] = self.hash_words(words.keys(rest))
            self._remember(packed[~found], slot[~found], out[unseen])
        return out

    def _remember(self, packed: np.ndarray, slot: np.ndarray, hashes: np.ndarray) -> None:
        """Put short words into their table slots where those are free (one word per slot)."""
        free = self._table_words[slot] == 0
        slot, first = np.unique(slot[free], return_index=True)
        self._table_words[slot] = packed[free][first]
        self._table_hashes[slot] = hashes[free][first]

    def hash_words(self, words: list[bytes]) -> np.ndarray:
        cache = self._cache
        values = list(map(cache.get, words))   # one C-level pass; only unseen words reach Python code
        if None in values:
            for i, word in enumerate(words):
                if values[i] is None:
                    value = cache.get(word)
                    if value is None:
                        value = int.from_bytes(hashlib.blake2b(word, digest_size=8).digest(), "little")
                        if len(cache) < 2_000_000:   # bound memory on endless streams
                            cache[word] = value
                    values[i] = value
        return np.fromiter(values, dtype=np.uint64, count=len(values))


_BYTE_MASKS = np.array([(1 << (8 * n)) - 1 for n in range(9)], dtype=np.uint64)


def _packed(buffer: bytes, at: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The words ``buffer[at:at + length]`` (each at most 8 bytes, none zero) as uint64, little
    endian: distinct words, distinct numbers."""
    padded = buffer + bytes(8)
    eight = np.ndarray(shape=(len(buffer) + 1,), dtype="<u8", buffer=padded, strides=(1,))   # 8 bytes from each offset
    return eight[at] & _BYTE_MASKS[lengths]


@dataclass(frozen=True)
class Fingerprint:
    """The matchable content of one document: its non-chrome words and their shingles."""

    doc_id: str
    token_starts: np.ndarray    # POSITION char offsets of kept (non-chrome) tokens in the original text
    token_ends: np.ndarray      # POSITION
    segments: np.ndarray        # POSITION; tokens in one segment are not separated by chrome
    shingles: np.ndarray        # uint32 hash of each shingle
    shingle_tokens: np.ndarray  # POSITION index (into kept tokens) of each shingle's first word

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

    def fingerprint(self, doc: Document, chrome: Sequence[tuple[int, int]] = ()) -> Fingerprint:
        return self.fingerprints([doc], [chrome])[0]

    def fingerprints(self, docs: Sequence[Document],
                     chromes: Sequence[Sequence[tuple[int, int]]]) -> list[Fingerprint]:
        """``fingerprint`` of each document, in numpy passes over the whole batch: for news-length
        texts the fixed cost of each numpy call is what a per-document loop pays most for."""
        texts = [doc.text for doc in docs]
        tokens = word_keys(texts)
        starts, ends, counts = tokens.starts, tokens.ends, tokens.counts
        token_bounds = _bounds(counts)
        is_chrome = _inside_each(starts, token_bounds, texts, chromes)
        kept = np.flatnonzero(~is_chrome)
        # Tokens separated by chrome get different segment numbers, counted from each document's start.
        breaks = np.cumsum(is_chrome)
        before = np.r_[0, breaks][token_bounds[:-1]]
        owner = np.repeat(np.arange(len(texts)), counts)
        segments = (breaks - before[owner])[kept]
        # A shingle is made of one segment of one document: a new document starts a new run too.
        is_first = np.zeros(len(starts), dtype=bool)
        is_first[token_bounds[:-1][counts > 0]] = True
        runs = np.cumsum(is_chrome | is_first)[kept]
        shingles, first = self.shingle(self._hasher(tokens)[kept], runs)
        kept_bounds = np.searchsorted(kept, token_bounds)
        shingle_bounds = np.searchsorted(first, kept_bounds)
        # Each shingle's first token counted from its own document's first kept token.
        first -= np.repeat(kept_bounds[:-1], np.diff(shingle_bounds))
        kept_starts, kept_ends, segments, first = map(as_positions, (starts[kept], ends[kept], segments, first))
        out = []
        for doc, k0, k1, s0, s1 in zip(docs, kept_bounds[:-1].tolist(), kept_bounds[1:].tolist(),
                                       shingle_bounds[:-1].tolist(), shingle_bounds[1:].tolist()):
            out.append(Fingerprint(doc.id, kept_starts[k0:k1], kept_ends[k0:k1], segments[k0:k1],
                                   shingles[s0:s1], first[s0:s1]))
        return out

    def shingle(self, word_hashes: np.ndarray, segments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The uint32 hash of each run of ``shingle_size`` words within one segment, and the index
        of its first word."""
        k = self.shingle_size
        n = len(word_hashes) - k + 1
        if n <= 0:
            return np.empty(0, dtype=np.uint32), np.empty(0, dtype=np.int64)
        combined = word_hashes[:n].copy()
        for j in range(1, k):   # polynomial hash; uint64 arithmetic wraps, which is intended
            combined *= _POLY
            combined += word_hashes[j:j + n]
        valid = np.flatnonzero(segments[:n] == segments[k - 1:])
        combined = combined[valid]
        folded = (combined >> np.uint64(32)).astype(np.uint32) ^ combined.astype(np.uint32)
        return folded, valid.astype(np.int64)


def as_positions(values: np.ndarray) -> np.ndarray:
    """``values`` (offsets or indices within one document) as ``POSITION``."""
    if len(values) and values.max() > np.iinfo(POSITION).max:
        raise ValueError(f"a document offset ({values.max()}) does not fit {np.dtype(POSITION).name}: "
                         "documents must stay under 2**31 characters")
    return values.astype(POSITION)


def _bounds(counts: np.ndarray) -> np.ndarray:
    """Where each of consecutive groups of ``counts`` items starts, plus the end of the last."""
    bounds = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=bounds[1:])
    return bounds


def _inside_each(starts: np.ndarray, token_bounds: np.ndarray, texts: Sequence[str],
                 chromes: Sequence[Sequence[tuple[int, int]]]) -> np.ndarray:
    """``_inside`` for a batch: tokens ``token_bounds[d]:token_bounds[d + 1]`` are text d's, with
    offsets into it, and ``chromes[d]`` are its spans.  Laid end to end, the texts' spans stay
    sorted and disjoint, so one search answers for all."""
    if not any(len(spans) for spans in chromes):
        return np.zeros(len(starts), dtype=bool)
    shift = _bounds(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)))
    spans = [(s + at, e + at) for spans, at in zip(chromes, shift.tolist()) for s, e in spans]
    return _inside(starts + np.repeat(shift[:-1], np.diff(token_bounds)), spans)


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
    """MinHash signatures of a document and of its overlapping windows.

    ``windows`` are most of a sketch's memory (num_perm uint32 per window) and only the LSH
    stages read them: ``without_windows()`` is the sketch a scan keeps after its candidates
    are made (``windows`` None)."""

    doc_id: str
    signature: np.ndarray             # (num_perm,) uint32, the whole document
    windows: np.ndarray | None        # (n_windows, num_perm) uint32; None once dropped
    window_shingles: np.ndarray       # (n_windows, 2) POSITION shingle index range [start, end) of each window

    @property
    def empty(self) -> bool:
        return len(self.window_shingles) == 0

    def without_windows(self) -> "Sketch":
        """This sketch without its window signatures (the document signature and window ranges kept)."""
        return replace(self, windows=None)


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
        return self.sketches([fingerprint])[0]

    def sketches(self, fingerprints: Sequence[Fingerprint]) -> list[Sketch]:
        """``sketch`` of each fingerprint, with the permutation and the minima done for the whole
        batch at once."""
        lengths = np.fromiter((len(fp.shingles) for fp in fingerprints), dtype=np.int64, count=len(fingerprints))
        n_blocks = -(-lengths // self.step)
        first_block = _bounds(n_blocks)
        owner = np.repeat(np.arange(len(fingerprints)), n_blocks)
        block_starts = _bounds(lengths)[owner] + (np.arange(first_block[-1]) - first_block[owner]) * self.step
        shingles = np.concatenate([fp.shingles for fp in fingerprints]) if fingerprints else np.empty(0, np.uint32)
        blocks = self.block_minima(shingles, block_starts)
        # Window i of a document is the minimum of its blocks i and i + 1; one with a single block
        # is a window of its own.
        pairs = blocks.copy()
        np.minimum(blocks[:-1], blocks[1:], out=pairs[:-1])
        single = first_block[:-1][n_blocks == 1]
        pairs[single] = blocks[single]
        n_windows = np.where(n_blocks > 1, n_blocks - 1, n_blocks)
        window_owner = np.repeat(np.arange(len(fingerprints)), n_windows)
        window_bounds = _bounds(n_windows)
        index = np.arange(window_bounds[-1]) - window_bounds[window_owner]
        windows = pairs[first_block[window_owner] + index]
        starts = index * self.step
        ranges = as_positions(np.stack([starts, np.minimum(starts + self.window, lengths[window_owner])], axis=1))
        has_blocks = n_blocks > 0
        signatures = np.full((len(fingerprints), self.num_perm), 0xFFFFFFFF, dtype=np.uint32)
        if has_blocks.any():
            signatures[has_blocks] = np.minimum.reduceat(blocks, first_block[:-1][has_blocks], axis=0)
        return [Sketch(fp.doc_id, signatures[d], windows[w0:w1], ranges[w0:w1])
                for d, (fp, w0, w1) in enumerate(zip(fingerprints, window_bounds[:-1].tolist(),
                                                      window_bounds[1:].tolist()))]

    _CHUNK_SHINGLES = 1000   # permute about this many shingles at a time: the product stays in cache

    def block_minima(self, shingles: np.ndarray, block_starts: np.ndarray) -> np.ndarray:
        """Minimum permuted hash of each block of shingles: block i is
        ``shingles[block_starts[i]:block_starts[i + 1]]`` (the last one runs to the end), at most
        ``step`` long.  Each block is padded to the longest one's length with copies of its own
        last shingle (which leaves its minimum as it is), so the minima are one reduction over a
        (blocks, width, num_perm) array, several times cheaper than ``reduceat``."""
        a, b = self.permutations
        lengths = np.diff(np.r_[block_starts, len(shingles)])
        width = int(lengths.max(initial=1))
        padded = block_starts[:, None] + np.minimum(np.arange(width), lengths[:, None] - 1)
        mixed = fmix32(shingles)[padded.ravel()]
        out = np.empty((len(block_starts), self.num_perm), dtype=np.uint32)
        per_chunk = max(1, self._CHUNK_SHINGLES // width)   # blocks
        buffer = np.empty((per_chunk * width, self.num_perm), dtype=np.uint32)
        for first in range(0, len(block_starts), per_chunk):
            chunk = mixed[first * width:(first + per_chunk) * width]
            permuted = np.multiply(chunk[:, None], a[None, :], out=buffer[:len(chunk)])   # wraps mod 2**32
            permuted += b
            np.minimum.reduce(permuted.reshape(-1, width, self.num_perm), axis=1,
                              out=out[first:first + len(chunk) // width])
        return out

    def minhash(self, signature: np.ndarray):
        """Wrap a signature as a datasketch MinHash (for LSH indexes and Jaccard estimates)."""
        from datasketch import MinHash

        return MinHash(seed=self.seed, hashvalues=signature, permutations=self.permutations, scheme=SCHEME)
