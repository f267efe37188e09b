"""In-memory inverted index: LSH bucket id -> document keys, as a few sorted numpy runs.

The embedded index keeps each document's bucket ids packed in its row (4 bytes a
bucket) and rebuilds this structure from them when it opens: a B-tree of
(bucket, document) rows on disk took ~8 KB a document and a random page write per
posting.  New postings go to a small dict; every ``buffer_size`` postings the dict
is sealed into a sorted run, and runs of similar size are merged (a log-structured
merge), so adding costs O(log n) per posting and a lookup is one binary search per
run (at most a few dozen runs).
"""

from __future__ import annotations

import numpy as np

KEY = np.uint32    # bucket ids as stored (the low 32 bits of candidates.bucket_keys, folded)
DOC = np.uint32    # document keys (SQLite row ids)


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated ``range(s, s + c)`` for each start and count, without a Python loop."""
    total = int(counts.sum())
    offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    return offsets + np.arange(total)


class Postings:
    def __init__(self, buffer_size: int = 1 << 16) -> None:
        self.buffer_size = buffer_size
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []   # (sorted keys, their documents)
        self._buffer: dict[int, list[int]] = {}
        self._buffered = 0

    def __len__(self) -> int:
        return sum(len(keys) for keys, _ in self._runs) + self._buffered

    def add(self, doc: int, buckets: np.ndarray) -> None:
        buffer = self._buffer
        for bucket in buckets.tolist():
            members = buffer.get(bucket)
            if members is None:
                buffer[bucket] = [doc]
            else:
                members.append(doc)
        self._buffered += len(buckets)
        if self._buffered >= self.buffer_size:
            self._seal()

    def add_many(self, docs: list[int], buckets: list[np.ndarray]) -> None:
        """Bulk load (opening an index): one sorted run for all of them."""
        if not docs:
            return
        keys = np.concatenate(buckets).astype(KEY, copy=False)
        owners = np.repeat(np.asarray(docs, dtype=DOC), [len(b) for b in buckets])
        self._push(keys, owners)

    def lookup(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(document keys, how many of the distinct ``query`` buckets each is in)."""
        query = np.unique(np.asarray(query, dtype=KEY))
        found = []
        for keys, docs in self._runs:
            lo = np.searchsorted(keys, query, side="left")
            counts = np.searchsorted(keys, query, side="right") - lo
            hit = counts > 0
            if hit.any():
                found.append(docs[_ranges(lo[hit], counts[hit])])
        if self._buffered:
            buffer = self._buffer
            extra = [doc for bucket in query.tolist() for doc in buffer.get(bucket, ())]
            if extra:
                found.append(np.asarray(extra, dtype=DOC))
        if not found:
            return np.empty(0, dtype=DOC), np.empty(0, dtype=np.int64)
        return np.unique(np.concatenate(found), return_counts=True)

    def _seal(self) -> None:
        if not self._buffered:
            return
        keys = np.fromiter((k for k, members in self._buffer.items() for _ in members), dtype=KEY,
                           count=self._buffered)
        owners = np.fromiter((d for members in self._buffer.values() for d in members), dtype=DOC,
                             count=self._buffered)
        self._buffer = {}
        self._buffered = 0
        self._push(keys, owners)

    def _push(self, keys: np.ndarray, owners: np.ndarray) -> None:
        order = np.argsort(keys, kind="stable")
        self._runs.append((keys[order], owners[order]))
        # Merge while the newest run is at least half the size of the one before: sizes stay
        # geometric, so there are O(log n) runs and each posting is re-sorted O(log n) times.
        while len(self._runs) >= 2 and 2 * len(self._runs[-1][0]) >= len(self._runs[-2][0]):
            (k2, d2), (k1, d1) = self._runs.pop(), self._runs.pop()
            keys, owners = np.concatenate((k1, k2)), np.concatenate((d1, d2))
            order = np.argsort(keys, kind="stable")
            self._runs.append((keys[order], owners[order]))
