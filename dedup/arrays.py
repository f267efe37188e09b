"""Array helpers the stages share."""

from __future__ import annotations

import numpy as np


def distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values of ``values`` (flattened): ``np.unique`` without its hash table,
    which numpy 2.3+ uses for plain calls and which is 4-10x slower than a sort on arrays of a few
    hundred values up (shingles per document, pair codes per bucket)."""
    ordered = np.sort(np.asarray(values), axis=None)
    if len(ordered) < 2:
        return ordered
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


def locate(values: np.ndarray, sorted_distinct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``values``, its position in ``sorted_distinct`` (sorted, no repeats) and whether
    it is there: a binary search, no hash table and no sort of either side (``np.isin`` sorts both)."""
    if not len(sorted_distinct):
        return np.zeros(len(values), dtype=np.intp), np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_distinct, values), len(sorted_distinct) - 1)
    return at, sorted_distinct[at] == values


def ranges(starts: np.ndarray | int, counts: np.ndarray) -> np.ndarray:
    """``range(starts[k], starts[k] + counts[k])`` for each k, one after another, without a Python
    loop (int64; ``starts`` may be one number for all)."""
    counts = np.asarray(counts, dtype=np.int64)
    ends = np.cumsum(counts)
    return np.repeat(np.asarray(starts, dtype=np.int64) - (ends - counts), counts) + np.arange(ends[-1] if len(ends) else 0)


def ranks(counts: np.ndarray) -> np.ndarray:
    """0, 1, ... counts[k] - 1 for each k, one after another: each entry's place in its group."""
    return ranges(0, counts)


def runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and length of each run of equal neighbours in ``values``."""
    if not len(values):
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    return starts, np.diff(np.r_[starts, len(values)])
