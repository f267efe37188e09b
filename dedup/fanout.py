"""Corpus-level stages on several cores: a pure function mapped over chunks of a corpus.

``workers.py`` runs ``analyze`` this way; the paraphrase stage's document vectors and the
lineage stage's reading of every document (outlets credited, wire marks) are also functions
of each chunk alone, so they fan out the same way and come back in order, exactly what one
process would compute.  Small inputs stay in this process: starting workers costs more.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Iterator, Sequence, TypeVar

from .workers import MIN_PARALLEL, resolve_jobs

T = TypeVar("T")
R = TypeVar("R")


def map_chunks(function: Callable[[Sequence[T]], R], items: Sequence[T], chunk: int, jobs: int,
               min_parallel: int | None = None) -> Iterator[R]:
    """``function(items[k:k + chunk])`` for each chunk in order, on ``jobs`` processes (0: every
    core) when there are at least ``min_parallel`` (default ``MIN_PARALLEL``) items and two
    chunks.  ``function`` must be a module-level function (it is pickled by name)."""
    min_parallel = MIN_PARALLEL if min_parallel is None else min_parallel
    chunks = [items[start:start + chunk] for start in range(0, len(items), chunk)]
    workers = min(resolve_jobs(jobs), len(chunks))
    if workers <= 1 or len(items) < min_parallel:
        yield from map(function, chunks)
        return
    with ProcessPoolExecutor(workers) as pool:
        yield from pool.map(function, chunks)
