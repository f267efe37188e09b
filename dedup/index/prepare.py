"""Incoming documents analysed ahead of the index, on the second core.

What the index needs from an incoming document (its short lines, its analysis, its
bucket ids) is nearly all independent of the index: only *which* of its short lines
are chrome depends on the index's counts.  So a worker process analyses the documents
of a batch while this process judges the earlier ones, assuming as chrome the lines
it was told the index already counts as chrome.  The index then computes the exact
chrome set from its counts, as it always did, and uses the worker's analysis only when
the two sets are equal (nearly always: a line rarely crosses the threshold between
dispatch and judgement); otherwise it analyses the document again itself.  Verdicts
are therefore exactly those of analysing every document in the index's own process.

One worker process, not a pool of them: the index's own work (lookups, verification,
the commit) keeps this process busy, and on a 2-core machine one more process is what
is left.  ``ExecutionSettings.jobs`` = 1 turns it off.  Small batches are analysed
here (starting the worker would cost more).  The worker exits when this process dies
(it watches its parent), so a killed filter leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

from ..candidates import DOCUMENT_TABLE, WINDOW_TABLE, bucket_keys
from ..core import Context, DocumentAnalysis, analyze
from ..records import Document
from ..sketch import Sketch
from ..workers import resolve_jobs
from .postings import KEY

MIN_AHEAD = 48    # documents in a batch before the worker is used
CHUNK = 24        # documents per task: the first chunk is analysed here while the worker starts on the rest
_FOLD = np.uint64(32)


@dataclass(frozen=True)
class Prepared:
    """One incoming document, ready to be judged: its short lines and, when analysed ahead,
    its analysis under an assumed chrome set and its bucket ids (None: an empty sketch)."""

    lines: dict[str, int]                   # short line -> its stored hash
    chrome: frozenset[str] = frozenset()    # the short lines the analysis took as chrome
    analysis: DocumentAnalysis | None = None
    query: np.ndarray | None = None         # bucket ids it is looked up by (all windows)
    stored: np.ndarray | None = None        # bucket ids it is stored under (every other window)


@dataclass(frozen=True)
class Banding:
    """The LSH (bands, rows) of the two tables: what a bucket id depends on besides the sketch."""

    document: tuple[int, int]
    window: tuple[int, int]

    def query_and_stored(self, sketch) -> tuple[np.ndarray | None, np.ndarray]:
        """The bucket ids a document is looked up by (None: an empty sketch, never looked up),
        and those it is stored under."""
        stored = bucket_ids(sketch, self.document, self.window, all_windows=False)
        return None if sketch.empty else bucket_ids(sketch, self.document, self.window, all_windows=True), stored


def bucket_ids(sketch, document_bands: tuple[int, int], window_bands: tuple[int, int], *,
               all_windows: bool) -> np.ndarray:
    """Bucket ids of a sketch (32 bits: what is stored): its document bands and its window bands.

    Stored documents keep every other window (they tile the text without overlap);
    queries use all windows, which overlap by half, so an excerpt anywhere still
    lines up with a stored window to within a quarter of its length."""
    windows = sketch.windows
    if not all_windows and len(windows) > 2:
        keep = list(range(0, len(windows), 2))
        if keep[-1] != len(windows) - 1:
            keep.append(len(windows) - 1)
        windows = windows[keep]
    keys = np.concatenate([bucket_keys(sketch.signature[None, :], *document_bands, table=DOCUMENT_TABLE).ravel(),
                           bucket_keys(windows, *window_bands, table=WINDOW_TABLE).ravel()])
    return np.unique(((keys >> _FOLD) ^ keys).astype(KEY))


def line_hash(key: str) -> int:
    """A short line's key as stored: a signed 64-bit hash (SQLite integers are signed)."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little", signed=True)


def short_lines(doc: Document, context: Context) -> dict[str, int]:
    """The document's distinct short lines (what the chrome counts are kept by), with their hashes."""
    return {key: line_hash(key) for key in context.chrome.line_keys(doc)}


def analyze_with_chrome(doc: Document, context: Context, chrome: frozenset[str] | set[str]) -> DocumentAnalysis:
    """``analyze`` with exactly ``chrome`` (of the document's short lines) taken as repeated chrome."""
    _assume_chrome(context, chrome)
    return analyze(doc, context)


def _assume_chrome(context: Context, chrome: frozenset[str] | set[str]) -> None:
    context.chrome.fit_counts(dict.fromkeys(chrome, context.settings.chrome.chrome_min_docs))


def analyze_for_verification(doc: Document, context: Context, chrome: frozenset[str] | set[str]) -> DocumentAnalysis:
    """What verifying a pair needs of an indexed document (chrome spans, fingerprint), with ``chrome``
    taken as repeated chrome, as ``analyze_with_chrome`` would give it, but without its MinHash
    sketch (left empty): it is already in the index, only looked up, never looked up by."""
    _assume_chrome(context, chrome)
    spans = tuple(context.chrome.spans(doc))
    num_perm = context.settings.sketch.num_perm
    no_sketch = Sketch(doc.id, np.full(num_perm, 0xFFFFFFFF, np.uint32), np.empty((0, num_perm), dtype=np.uint32),
                       np.empty((0, 2), dtype=np.int64))
    return DocumentAnalysis(doc, spans, context.shingler.fingerprint(doc, spans), no_sketch)


def prepare_ahead(doc: Document, context: Context, known_chrome: set[str], banding: Banding) -> Prepared:
    lines = short_lines(doc, context)
    chrome = frozenset(key for key in lines if key in known_chrome)
    analysis = analyze_with_chrome(doc, context, chrome)
    return Prepared(lines, chrome, analysis, *banding.query_and_stored(analysis.sketch))


class Preparer:
    """Hands out ``Prepared`` documents in order, analysed ahead by one worker process when it pays."""

    def __init__(self, context: Context, banding: Banding) -> None:
        self.context = context
        self.banding = banding
        self.enabled = resolve_jobs(context.settings.execution.jobs) > 1
        self._pool: ProcessPoolExecutor | None = None
        self._sent: set[str] = set()   # chrome lines the worker was told of

    def prepare(self, docs: Sequence[Document], known_chrome: set[str]) -> Iterator[Prepared]:
        if not self.enabled or len(docs) < MIN_AHEAD:
            for doc in docs:
                yield Prepared(short_lines(doc, self.context))
            return
        pool = self._start()
        new_chrome = known_chrome - self._sent
        self._sent |= new_chrome
        tasks: list[Future] = []
        for start in range(CHUNK, len(docs), CHUNK):
            tasks.append(pool.submit(_prepare_chunk, docs[start:start + CHUNK], new_chrome))
            new_chrome = set()
        try:
            for doc in docs[:CHUNK]:   # meanwhile the worker starts on the next chunks
                yield Prepared(short_lines(doc, self.context))
            for task in tasks:
                yield from task.result()
        finally:
            for task in tasks:
                task.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _start(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(1, initializer=_start_worker,
                                             initargs=(self.context, self.banding, os.getpid()))
            self._sent = set()
        return self._pool


_worker: dict = {}   # the worker process's context, banding and known chrome lines


def _start_worker(context: Context, banding: Banding, parent: int) -> None:
    _worker.update(context=context, banding=banding, chrome=set())
    threading.Thread(target=_exit_with, args=(parent,), daemon=True, name="dedup-parent-watch").start()


def _exit_with(parent: int) -> None:
    """A SIGKILLed parent cannot stop its worker: the worker notices it is orphaned and exits."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def _prepare_chunk(docs: Sequence[Document], new_chrome: set[str]) -> list[Prepared]:
    _worker["chrome"] |= new_chrome
    return [prepare_ahead(doc, _worker["context"], _worker["chrome"], _worker["banding"]) for doc in docs]
