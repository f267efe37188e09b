"""Running the core's pure functions on several cores.

``analyze`` is a function of a document and the context only (``core.py``), so a corpus
can be cut into chunks and analysed in worker processes: the context goes to each worker
once (as the pool starts), each chunk of documents goes out and its analyses come back, in
order.  Below ``MIN_PARALLEL`` documents starting processes costs more than it saves.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from typing import Iterator, Sequence

from .core import Context, DocumentAnalysis, analyze
from .records import Document

MIN_PARALLEL = 2000   # documents; fewer are analysed in this process
CHUNK = 250           # documents per task: big enough to amortise pickling, small enough to balance

_context: Context | None = None   # each worker process's copy, set once by _start


def resolve_jobs(jobs: int) -> int:
    """``jobs`` as a process count: 0 means every core this process may use."""
    if jobs > 0:
        return jobs
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:   # not on Linux
        return max(1, os.cpu_count() or 1)


def analyze_all(documents: Sequence[Document], context: Context, jobs: int) -> Iterator[DocumentAnalysis]:
    """``analyze`` of every document, in order, on ``jobs`` processes (0: all cores)."""
    workers = resolve_jobs(jobs)
    if workers == 1 or len(documents) < MIN_PARALLEL:
        for doc in documents:
            yield analyze(doc, context)
        return
    chunks = [documents[start:start + CHUNK] for start in range(0, len(documents), CHUNK)]
    with ProcessPoolExecutor(workers, initializer=_start, initargs=(context,)) as pool:
        for analyses in pool.map(_analyze_chunk, chunks):
            yield from analyses


def _start(context: Context) -> None:
    global _context
    _context = context


def _analyze_chunk(documents: Sequence[Document]) -> list[DocumentAnalysis]:
    assert _context is not None, "worker started without a context"
    return [analyze(doc, _context) for doc in documents]
