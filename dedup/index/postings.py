"""In-memory inverted index: LSH bucket id -> document keys, as a few sorted numpy runs.

The embedded index keeps each document's bucket ids packed in its row (4 bytes a
bucket) and rebuilds this structure from them when it opens: a B-tree of
(bucket, document) rows on disk took ~8 KB a document and a random page write per
posting.  New postings go to a small dict; every ``buffer_size`` postings the dict
is sealed into a sorted run, and runs of similar size are merged (a log-structured
merge), so adding costs O(log n) per posting and a lookup searches each run (at most a
few dozen).  Most buckets a document is looked up by hold nobody, so a bitmap of the
buckets in use (``Occupied``: 32 MB, one bit per 16 bucket ids) answers "nobody" for
~95% of them with one memory access, and only the rest are searched for: in each run
through its directory (``Run``), as a binary search into millions of postings is a
cache miss per step.  Documents looked up together (``lookup_many``) share each run's
numpy calls, whose fixed cost is most of what one document's lookup costs.
"""

from __future__ import annotations

import numpy as np

from ..arrays import ranges

KEY = np.uint32    # bucket ids as stored (the low 32 bits of candidates.bucket_keys, folded)
DOC = np.uint32    # document keys (SQLite row ids)


def counted(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values, sorted, and how often each occurs (``np.unique(return_counts=True)``
    by a sort: see ``arrays.distinct``)."""
    ordered = np.sort(values)
    if not len(ordered):
        return ordered, np.empty(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    return ordered[starts], np.diff(np.append(starts, len(ordered)))


def by_bucket(keys: np.ndarray, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Postings sorted by bucket (then document): each packed in 64 bits, sorted once.  A stable
    argsort of the buckets and two gathers took 1.7 times as long (an index's 40 million postings,
    sorted on open); ``Run.of``'s stable sort of the sorted result is then one pass."""
    pairs = np.sort((keys.astype(np.uint64) << np.uint64(32)) | owners.astype(np.uint64))
    return (pairs >> np.uint64(32)).astype(KEY), (pairs & np.uint64(0xFFFFFFFF)).astype(DOC)


class BucketMap:
    """bucket -> documents in a dict, filled and searched with set operations (loops in C).

    Nearly every bucket holds one document, so ``first`` maps a bucket to it and only the
    rare shared buckets keep a list in ``more``."""

    def __init__(self) -> None:
        self.first: dict = {}
        self.more: dict = {}
        self.size = 0

    def add(self, doc, buckets: list[int]) -> None:
        new = dict.fromkeys(buckets, doc)
        for bucket in self.first.keys() & new.keys():
            del new[bucket]
            if bucket in self.more:
                self.more[bucket].append(doc)
            else:
                self.more[bucket] = [self.first[bucket], doc]
        self.first.update(new)
        self.size += len(buckets)

    def lookup(self, query: list[int]) -> list:
        """Every document in any of the ``query`` buckets, once per bucket it is in."""
        found = []
        more = self.more
        for bucket in self.first.keys() & query:
            if bucket in more:
                found.extend(more[bucket])
            else:
                found.append(self.first[bucket])
        return found

    def items(self):
        more = self.more
        for bucket, doc in self.first.items():
            if bucket in more:
                for member in more[bucket]:
                    yield bucket, member
            else:
                yield bucket, doc


class Occupied:
    """Which buckets may hold a document: one bit per ``1 << shift`` bucket ids (never cleared:
    a bucket emptied by a removal only costs a search that finds nothing)."""

    def __init__(self, bits: int = 28) -> None:
        self.shift = np.uint32(32 - bits)
        self.bits = np.zeros(1 << (bits - 3), dtype=np.uint8)

    def add(self, keys: np.ndarray) -> None:
        # no np.unique first: ``ufunc.at`` applies repeated slots correctly, and numpy's hash-table
        # unique took 30 s for the 12 million postings of a 30,000-document index on open
        slots = np.asarray(keys, dtype=KEY) >> self.shift
        np.bitwise_or.at(self.bits, slots >> 3, np.left_shift(1, slots & 7).astype(np.uint8))

    def may_hold(self, keys: np.ndarray) -> np.ndarray:
        slots = keys >> self.shift
        return (self.bits[slots >> 3] >> (slots & 7).astype(np.uint8)) & 1 == 1


class Postings:
    def __init__(self, buffer_size: int = 1 << 16) -> None:
        self.buffer_size = buffer_size
        self._runs: list[Run] = []   # sorted postings, largest first
        self._buffer = BucketMap()
        self._occupied = Occupied()

    def __len__(self) -> int:
        return sum(len(run) for run in self._runs) + self._buffer.size

    def add(self, doc: int, buckets: np.ndarray) -> None:
        self._occupied.add(buckets)
        self._buffer.add(doc, buckets.tolist())
        if self._buffer.size >= self.buffer_size:
            self._seal()

    def add_many(self, docs: list[int], buckets: list[np.ndarray]) -> None:
        """Bulk load (opening an index): one sorted run for all of them."""
        if not docs:
            return
        keys = np.concatenate(buckets).astype(KEY, copy=False)
        self._occupied.add(keys)
        self._push(*by_bucket(keys, np.repeat(np.asarray(docs, dtype=DOC), [len(b) for b in buckets])))

    def lookup(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(document keys, how many of the ``query`` buckets (distinct) each is in)."""
        return self.lookup_many([query])[0]

    def lookup_many(self, queries: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        """``lookup`` of each query, all searched together: each run is searched once for all of
        them (the fixed cost of a numpy call is most of a lookup's cost for one document)."""
        query = np.concatenate([np.asarray(q, dtype=KEY) for q in queries]) if queries else np.empty(0, KEY)
        asker = np.repeat(np.arange(len(queries), dtype=np.uint64), [len(q) for q in queries])
        wanted = self._occupied.may_hold(query)
        query, asker = query[wanted], asker[wanted]
        found = [run.find(query, asker) for run in self._runs] if len(query) else []
        if self._buffer.size:
            for i, one in enumerate(queries):
                extra = self._buffer.lookup(query[asker == i].tolist())
                if extra:
                    found.append((np.full(len(extra), i, dtype=np.uint64), np.asarray(extra, dtype=DOC)))
        found = [pair for pair in found if len(pair[0])]
        if not found:
            return [(np.empty(0, dtype=DOC), np.empty(0, dtype=np.int64)) for _ in queries]
        # one number per (query, document): the query in the high 32 bits, so sorting groups by query
        pairs, counts = counted(np.concatenate([(a << np.uint64(32)) | d.astype(np.uint64) for a, d in found]))
        bounds = np.searchsorted(pairs >> np.uint64(32), np.arange(len(queries) + 1, dtype=np.uint64))
        docs = (pairs & np.uint64(0xFFFFFFFF)).astype(DOC)
        return [(docs[lo:hi], counts[lo:hi]) for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist())]

    def _seal(self) -> None:
        if not self._buffer.size:
            return
        pairs = np.fromiter(self._buffer.items(), dtype=np.dtype((np.int64, 2)), count=self._buffer.size)
        self._buffer = BucketMap()
        self._push(pairs[:, 0].astype(KEY), pairs[:, 1].astype(DOC))

    def _push(self, keys: np.ndarray, owners: np.ndarray) -> None:
        # Merge while the newest run is at least half the size of the one before: sizes stay
        # geometric, so there are O(log n) runs and each posting is re-sorted O(log n) times.
        while self._runs and 2 * len(keys) >= len(self._runs[-1]):
            run = self._runs.pop()
            keys, owners = np.concatenate((run.keys, keys)), np.concatenate((run.docs, owners))
        self._runs.append(Run.of(keys, owners))


class Run:
    """Postings sorted by bucket, with a directory: ``starts[p]`` is where the buckets whose top bits
    are ``p`` begin, one slot per ~``PER_SLOT`` postings.  A lookup reads two slots and a few keys
    for each bucket (a handful of memory accesses) where a binary search made ~25 dependent ones."""

    PER_SLOT = 4
    COUNTED = 1 << 22

    def __init__(self, keys: np.ndarray, docs: np.ndarray, starts: np.ndarray, shift: int) -> None:
        self.keys, self.docs, self.starts, self.shift = keys, docs, starts, np.uint32(shift)

    @classmethod
    def of(cls, keys: np.ndarray, owners: np.ndarray) -> "Run":
        order = np.argsort(keys, kind="stable")
        keys, owners = keys[order], owners[order]
        bits = int(np.clip(np.log2(max(len(keys), 1) / cls.PER_SLOT), 1, 30))
        shift = 32 - bits
        # counted a slice at a time: bincount copies its input as 64-bit integers (320 MB for the
        # 40 million postings of 100,000 articles, when the largest run is merged)
        per_slot = np.zeros(1 << bits, dtype=np.int64)
        for start in range(0, len(keys), cls.COUNTED):
            per_slot += np.bincount(keys[start:start + cls.COUNTED] >> np.uint32(shift), minlength=1 << bits)
        starts = np.zeros((1 << bits) + 1, dtype=np.uint32 if len(keys) < 1 << 32 else np.int64)
        np.cumsum(per_slot, out=starts[1:])
        return cls(keys, owners, starts, shift)

    def __len__(self) -> int:
        return len(self.keys)

    def find(self, query: np.ndarray, asker: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For every posting whose bucket is in ``query`` (each query's buckets distinct): who asked
        for it (``asker`` of that bucket) and its document."""
        slots = query >> self.shift
        lo, hi = self.starts[slots].astype(np.int64), self.starts[slots + 1].astype(np.int64)
        some = hi > lo
        if not some.any():
            return asker[:0], np.empty(0, dtype=DOC)
        lo, sizes = lo[some], (hi - lo)[some]
        at = ranges(lo, sizes)
        hit = self.keys[at] == np.repeat(query[some], sizes)
        return np.repeat(asker[some], sizes)[hit], self.docs[at[hit]]
