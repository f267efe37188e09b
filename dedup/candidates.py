"""Candidates stage: which pairs of documents are worth aligning (MinHash LSH).

Two LSH tables: one over passage-sized windows (finds an excerpt inside a much
longer article: containment) and one over whole documents (resemblance).  A
pair is a candidate when any of their windows, or the documents, collide.  LSH
only buys recall cheaply; the align stage decides what is really shared.

Engines (one small interface, ``LSHEngine.colliding``):

- ``datasketch``: datasketch's ``MinHashLSH``, one insert and one query per window;
  the reference implementation.
- ``numpy`` (default): the same banding, with the same (bands, rows) that
  datasketch chooses for the threshold, done for all windows at once with numpy
  (sort bucket keys, read off equal runs).  Identical candidates, much faster.

The choice is ``CandidateSettings.lsh`` (the LSH implementation), not to be confused
with the execution engine (local or a cluster) that runs the whole scan.
"""

from __future__ import annotations

from typing import Iterator, Protocol, Sequence

import numpy as np

from .arrays import distinct, ranks
from .records import ProgressCallback
from .settings import CandidateSettings
from .sketch import MinHasher, Sketch



def banding(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) minimising false positives + negatives at ``threshold``, as datasketch picks them."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


_MIX = np.uint64(0x9E3779B97F4A7C15)
_TAG_MIX = np.uint64(0xD6E8FEB86659FD93)
DOCUMENT_TABLE, WINDOW_TABLE = 0, 1


def bucket_keys(signatures: np.ndarray, bands: int, rows: int, table: int = DOCUMENT_TABLE) -> np.ndarray:
    """(n, bands) uint64 LSH bucket keys: equal keys = same bucket.

    Each band's rows are combined by a polynomial (wrapping mod 2**64), then tagged with the
    band number and the table (documents or windows), so keys of different bands or tables
    never meet.  The one definition of a bucket, for the scan engines and the index alike."""
    keys = np.zeros((len(signatures), bands), dtype=np.uint64)
    for r in range(rows):   # row r of every band: columns r, r + rows, ... (one (n, bands) temporary at a time)
        keys *= _MIX
        keys += signatures[:, r:bands * rows:rows]
    tags = np.arange(bands, dtype=np.uint64) + np.uint64(table * 1000 + 1)
    return keys * _TAG_MIX + tags[None, :]


Rows = np.ndarray | Sequence[np.ndarray]   # signature rows: one array, or blocks of rows in order


class LSHEngine(Protocol):
    def colliding(self, signatures: Rows, owners: np.ndarray, threshold: float) -> set[tuple[int, int]]:
        """Owner pairs (i < j) of any two signature rows that share an LSH bucket."""


def _row_blocks(signatures: Rows, rows_per_block: int) -> Iterator[np.ndarray]:
    """``signatures`` as arrays of about ``rows_per_block`` rows each, in order: blocks given as many
    small arrays (a document's windows each) are joined a few at a time, never into one big copy."""
    if isinstance(signatures, np.ndarray):
        for start in range(0, len(signatures), rows_per_block):
            yield signatures[start:start + rows_per_block]
        return
    pending: list[np.ndarray] = []
    filled = 0
    for block in signatures:
        pending.append(block)
        filled += len(block)
        if filled >= rows_per_block:
            yield np.concatenate(pending)
            pending, filled = [], 0
    if filled:
        yield np.concatenate(pending)


class DatasketchEngine:
    """Reference engine: datasketch's MinHashLSH with in-memory storage."""

    def __init__(self, minhasher: MinHasher) -> None:
        self.minhasher = minhasher

    def colliding(self, signatures: Rows, owners: np.ndarray, threshold: float) -> set[tuple[int, int]]:
        from datasketch import MinHashLSH

        lsh = MinHashLSH(threshold=threshold, num_perm=self.minhasher.num_perm)
        wrapped = [self.minhasher.minhash(row) for block in _row_blocks(signatures, 4096) for row in block]
        with lsh.insertion_session() as session:
            for key, minhash in enumerate(wrapped):
                session.insert(key, minhash, check_duplication=False)
        found = set()
        for key, minhash in enumerate(wrapped):
            i = int(owners[key])
            found.update((i, int(owners[k])) for k in lsh.query(minhash) if owners[k] > i)
        return found


class NumpyEngine:
    """Vectorised banding: same buckets as datasketch, computed for all rows at once.

    ``max_bucket``: a bucket holding more distinct documents than this (boilerplate
    that escaped the chrome stage, or a story copied hundreds of times) contributes
    a chain through its members instead of all pairs, so one bucket cannot make the
    stage quadratic; the family still comes out connected.
    """

    def __init__(self, num_perm: int, max_bucket: int = 200) -> None:
        self.num_perm = num_perm
        self.max_bucket = max_bucket

    def colliding(self, signatures: Rows, owners: np.ndarray, threshold: float) -> set[tuple[int, int]]:
        found: set[tuple[int, int]] = set()
        if len(owners) < 2:
            return found
        # Keys of different bands never meet (each is tagged with its band), so the bands are
        # collected one at a time: the sort's temporaries are one band's, not the whole table's.
        for band_keys in _band_major_keys(signatures, len(owners), *banding(threshold, self.num_perm)):
            self.collect_pairs(band_keys, owners, found)
        return found

    def collect_pairs(self, keys: np.ndarray, owners: np.ndarray, found: set[tuple[int, int]],
                      batch: int = 4_000_000) -> None:
        """Add the owner pairs of each bucket to ``found``: all pairs of its distinct owners, or a
        chain through them past ``max_bucket``.  ``keys[k]`` is a bucket ``owners[k]`` falls in, in
        any order, bands mixed (keys are band-tagged): the Spark engine pairs each partition's buckets
        with it, so both engines pair by this one rule.  Vectorised over buckets, ``batch`` pairs at a
        time (bounds memory when a story copied many times fills every band of every window)."""
        order = np.lexsort((owners, keys))
        keys, members = keys[order], owners[order]
        first_of_owner = np.r_[True, (keys[1:] != keys[:-1]) | (members[1:] != members[:-1])]
        keys, members = keys[first_of_owner], members[first_of_owner]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        sizes = np.diff(np.r_[starts, len(keys)])
        shared = sizes > 1
        starts, sizes = starts[shared], sizes[shared]
        chained = sizes > self.max_bucket
        # A chain is the pair of each member with the next; all pairs, of each with every later one.
        lengths = np.where(chained, sizes - 1, sizes * (sizes - 1) // 2)
        bounds = np.searchsorted(np.cumsum(lengths), np.arange(batch, lengths.sum() + batch, batch), side="right")
        base = int(members.max(initial=0)) + 1   # a pair (i, j) as the one number i * base + j
        for lo, hi in zip(np.r_[0, bounds[:-1]], bounds):
            if hi > lo:
                first, second = _bucket_pairs(starts[lo:hi], sizes[lo:hi], chained[lo:hi])
                codes = distinct(members[first] * base + members[second])
                found.update(zip((codes // base).tolist(), (codes % base).tolist()))


def _band_major_keys(signatures: Rows, n: int, bands: int, rows: int, rows_per_block: int = 65_536) -> np.ndarray:
    """(bands, n) bucket keys, one contiguous row per band, made ``rows_per_block`` signature rows
    at a time: at 100,000 articles the windows' signatures are ~1 GB, and neither they nor
    ``bucket_keys``' temporaries are ever held whole a second time."""
    keys = np.empty((bands, n), dtype=np.uint64)
    start = 0
    for block in _row_blocks(signatures, rows_per_block):
        keys[:, start:start + len(block)] = bucket_keys(block, bands, rows).T
        start += len(block)
    if start != n:
        raise ValueError(f"{start} signature rows for {n} owners")
    return keys


def _bucket_pairs(starts: np.ndarray, sizes: np.ndarray, chained: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row positions (first, second) of the pairs of buckets (``starts``, ``sizes``): for a chained
    bucket each row with the next, otherwise each row with every later row of its bucket."""
    rank = ranks(sizes)
    rows = np.repeat(starts, sizes) + rank   # every row of every bucket
    size = np.repeat(sizes, sizes)
    later = np.where(np.repeat(chained, sizes), (rank < size - 1).astype(np.int64), size - rank - 1)
    first = np.repeat(rows, later)
    return first, first + 1 + ranks(later)


class CandidateFinder:
    """Candidate pairs from the document and window LSH tables (parameters: ``CandidateSettings``)."""

    def __init__(self, settings: CandidateSettings, minhasher: MinHasher) -> None:
        self.minhasher = minhasher
        self.window_threshold = settings.window_threshold
        self.document_threshold = settings.document_threshold
        self.engine: LSHEngine = (NumpyEngine(minhasher.num_perm, settings.max_bucket) if settings.lsh == "numpy"
                                  else DatasketchEngine(minhasher))

    def pairs(self, sketches: Sequence[Sketch], progress: ProgressCallback | None = None) -> list[tuple[int, int]]:
        """Sorted index pairs (i < j) of sketches that may share text."""
        present = [i for i, s in enumerate(sketches) if not s.empty]
        if len(present) < 2:
            return []
        windows = [sketches[i].windows for i in present]   # not joined: NumpyEngine keys them block by block
        window_owners = np.repeat(np.asarray(present, dtype=np.int64), [len(w) for w in windows])
        documents = np.stack([sketches[i].signature for i in present])
        found = self.engine.colliding(documents, np.asarray(present, dtype=np.int64), self.document_threshold)
        if progress:
            progress("candidates", 1, 2)
        found |= self.engine.colliding(windows, window_owners, self.window_threshold)
        if progress:
            progress("candidates", 2, 2)
        return sorted(found)
