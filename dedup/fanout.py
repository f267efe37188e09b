"""Corpus-level stages on several cores: a pure function mapped over chunks of a corpus.

``workers.py`` runs ``analyze`` this way (it packs what comes back); the verbatim verification of
candidate pairs, the paraphrase stage's document vectors and cosines, the sentence alignment of
its candidate pairs (parts of consecutive pairs in an order that keeps each document's pairs
together, so a worker prepares a document's sentences once), and the lineage stage's reading of
every document (outlets credited, wire marks) are also functions of each chunk alone, so they fan
out the same way (``map_shared``) and come back in order, exactly what one process would compute.
Small inputs stay in this process: starting workers costs more.  On a machine whose cores are
busy with other work, two workers cost more CPU seconds than one process does the same work in
(the dense 1,200-article scan: 14-15 s against 12-13 s on the shared 2-core machine); ``--jobs 1``
keeps a scan in one process.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Iterator, Sequence, TypeVar

MIN_PARALLEL = 2000   # items; fewer are handled in this process (starting workers costs more)

T = TypeVar("T")
R = TypeVar("R")

_shared: Any = None   # each worker's copy of ``map_shared``'s state, set once as the worker starts


def map_shared(function: Callable[[Any, Sequence[T]], R], shared: Any, items: Sequence[T], chunk: int, jobs: int,
               min_parallel: int | None = None) -> Iterator[R]:
    """``function(shared, items[k:k + chunk])`` for each chunk in order, on ``jobs`` processes (0:
    every core) when there are at least ``min_parallel`` (default ``MIN_PARALLEL``) items and two
    chunks.  For work that reads a large state (analyses, a fitted context): where processes fork,
    the workers inherit ``shared`` as it is in memory, never pickled; only chunks and answers travel."""
    chunks = [items[start:start + chunk] for start in range(0, len(items), chunk)]
    yield from map_parts(function, shared, chunks, jobs, min_parallel)


def map_parts(function: Callable[[Any, Sequence[T]], R], shared: Any, parts: Sequence[Sequence[T]], jobs: int,
              min_parallel: int | None = None) -> Iterator[R]:
    """``map_shared`` over parts cut by the caller (of uneven sizes, e.g. of even cost)."""
    workers = processes(sum(len(part) for part in parts), len(parts), jobs, min_parallel)
    if workers <= 1:
        yield from (function(shared, part) for part in parts)
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_share, initargs=(shared,)) as pool:
        yield from pool.map(_call_shared, [function] * len(parts), parts)


def processes(items: int, chunks: int, jobs: int, min_parallel: int | None = None) -> int:
    """How many processes to share ``chunks`` chunks of ``items`` items among: 1 (this one) below
    ``min_parallel`` (default ``MIN_PARALLEL``) items, never more than there are chunks."""
    min_parallel = MIN_PARALLEL if min_parallel is None else min_parallel
    return 1 if items < min_parallel else max(1, min(resolve_jobs(jobs), chunks))


def resolve_jobs(jobs: int) -> int:
    """``jobs`` as a process count: 0 means every core this process may use."""
    if jobs > 0:
        return jobs
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:   # not on Linux
        return max(1, os.cpu_count() or 1)


def _share(shared: Any) -> None:
    global _shared
    _shared = shared


def _call_shared(function: Callable[[Any, Sequence[T]], R], chunk: Sequence[T]) -> R:
    return function(_shared, chunk)
