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
import pickle
import subprocess
import sys
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from ..arrays import distinct
from ..candidates import DOCUMENT_TABLE, WINDOW_TABLE, bucket_keys
from ..classify import verbatim_relation
from ..core import Context, DocumentAnalysis, analyze, analyze_many, verify_verbatim
from ..records import EXCERPT, Document
from ..sketch import Fingerprint, Sketch
from ..fanout import resolve_jobs
from .backend import StoredDocument
from .postings import BUCKET, KEY, banded, stored_row


CONTAINS = "contains"      # the incoming document contains an indexed one (it is not a copy)
# Indexed documents whose analysis is kept for the next comparisons (~13 KB each: ~110 MB).  The
# candidates of a stream are mostly documents admitted a few thousand earlier: building 30,000,
# 512 kept spared 9% of the candidates' analyses, 8,192 kept 73% (index process CPU -16%).
ANALYSES_KEPT = 8192
MIN_AHEAD = 48    # documents in a batch before the worker is used
CHUNK = 24        # documents per task
FIRST = 8         # documents analysed here while the worker starts on the next ones (its first task as small)
MAX_LEAD = 128    # at most so many documents of a group analysed here when the worker falls behind
_FOLD = np.uint64(32)


@dataclass(frozen=True)
class Prepared:
    """One incoming document, ready to be judged: its short lines and, when analysed ahead,
    its analysis under an assumed chrome set and its bucket ids (None: an empty sketch)."""

    lines: dict[str, int]                   # short line -> its stored hash
    chrome: frozenset[str] = frozenset()    # the short lines the analysis took as chrome
    analysis: DocumentAnalysis | None = None
    query: np.ndarray | None = None         # buckets it is looked up by (all windows; postings.banded)
    stored: np.ndarray | None = None        # the row of bucket ids it is stored under (every other window)
    hits: dict[str, int] | None = None      # committed documents in its buckets (None: not looked up yet)
    checked: dict[str, "Comparison"] = field(default_factory=dict)   # the first of them, verified
    record: StoredDocument | None = None    # the document as stored (digest, compressed text), made ahead


@dataclass(frozen=True)
class Comparison:
    """An incoming document verified against one indexed document, and the chrome that took."""

    found: tuple[str, str, float] | None   # (indexed id, relation of the incoming one to it, share), or None
    lines: dict[str, int]                  # the indexed document's short lines
    chrome: frozenset[str]                 # those taken as chrome (by the counts, with the incoming document's)


class Verifier:
    """Verifies an incoming document against indexed ones: the indexed one is analysed with the
    chrome its short lines' counts give (the incoming document's lines counted too), then aligned.

    Two things are kept in memory, by (id, digest), so that most candidates are never analysed again:

    - the last few analyses with their short lines (of documents just admitted, or just verified
      against), as copies of one story keep coming back to the same originals; a kept analysis
      is reused while the same lines are chrome;
    - the shingle hashes of up to ``IndexSettings.shingle_sets_kept`` documents, one per position,
      with all their words (no chrome removed).  Chrome only removes words and splits runs, so a
      document's shingles under any chrome are among these, position for position.  The aligner's
      seeds are the pairs of positions with the same shingle, and a passage of
      ``min_passage_words`` needs two of them (one spans ``shingle_size`` words): a candidate
      giving fewer with the incoming document gives as few under any chrome, and the aligner
      would find no passage.  It is ruled out exactly, whatever the chrome counts are now or later."""

    def __init__(self, context: Context, stored: Callable[[str], StoredDocument | None],
                 digests: Callable[[Sequence[str]], list[str | None]],
                 line_counts: Callable[[dict[str, int]], dict[str, int]]) -> None:
        self.context = context
        self.stored = stored
        self.digests = digests   # of stored documents, without reading their texts (enough to rule them out)
        self.line_counts = line_counts
        self.seen_chrome: set[str] = set()   # short lines seen counted as chrome (what the worker assumes)
        self._analyses = Recent(ANALYSES_KEPT)   # (id, digest) -> (short lines, chrome ones, analysis)
        self._shingles = Recent(context.settings.index.shingle_sets_kept)   # (id, digest) -> all its shingles
        # candidates checked by their kept shingles, ruled out so, verified with a kept analysis (for benchmarks)
        self.counts: Counter[str] = Counter()
        align, shingle_size = context.settings.align, context.settings.sketch.shingle_size
        self._seeds_needed = 2 if align.min_passage_words > shingle_size else 1

    def chrome_of(self, counts: dict[str, int]) -> frozenset[str]:
        """The short lines that are chrome by repetition, given how many documents carry each."""
        chrome = frozenset(k for k, n in counts.items() if n >= self.context.settings.chrome.chrome_min_docs)
        self.seen_chrome |= chrome
        return chrome

    def chromes_for(self, lines: Sequence[dict[str, int]], incoming_lines: set[str]) -> list[frozenset[str]]:
        """The chrome among each stored document's short ``lines`` (the incoming document's lines
        counted too), their counts read at once."""
        counts = self.line_counts({key: h for each in lines for key, h in each.items()})
        return [self.chrome_of({key: counts.get(key, 0) + (key in incoming_lines) for key in each}) for each in lines]

    def compare(self, analysis: DocumentAnalysis, other_id: str, incoming_lines: set[str]) -> Comparison:
        return self.compare_many(analysis, [other_id], incoming_lines)[0]

    def compare_many(self, analysis: DocumentAnalysis, other_ids: Sequence[str],
                     incoming_lines: set[str]) -> list[Comparison]:
        """``compare`` with each of ``other_ids`` (distinct): the candidates not ruled out have their
        line counts read at once and those without a kept analysis are analysed together."""
        left = self._not_ruled_out(analysis, other_ids)
        others = [self.stored(other_id) if other_id in left else None for other_id in other_ids]
        indexed = self._indexed_analyses([other for other in others if other is not None], incoming_lines)
        return [Comparison(None, {}, frozenset()) if other is None   # holds under any chrome
                else self._aligned(analysis, other.id, *indexed[other.id]) for other in others]

    def _aligned(self, analysis: DocumentAnalysis, other_id: str, lines: dict[str, int], chrome: frozenset[str],
                 indexed: DocumentAnalysis) -> Comparison:
        overlap = verify_verbatim(analysis, indexed, self.context)
        relation = verbatim_relation(overlap, self.context.settings.relation)
        if relation is None:
            return Comparison(None, lines, chrome)
        if relation == EXCERPT and overlap.containment_a_in_b < overlap.containment_b_in_a:
            relation = CONTAINS
        return Comparison((other_id, relation, overlap.containment_a_in_b), lines, chrome)

    def remember(self, doc: Document, digest: str, analysis: DocumentAnalysis | None = None,
                 lines: dict[str, int] | None = None, chrome: frozenset[str] | None = None) -> None:
        """Keep what verifying against ``doc`` needs, from an ``analysis`` made anyway: its shingle
        hashes and, given the ``chrome`` it was analysed with (by the counts) and its short
        ``lines``, the analysis itself."""
        key = (doc.id, digest)
        if self._shingles.limit:
            self._shingles.put(key, all_shingles(doc, self.context, analysis))
        if analysis is not None and chrome is not None:
            self._analyses.put(key, (lines, chrome, without_sketch(analysis)))

    def _not_ruled_out(self, analysis: DocumentAnalysis, other_ids: Sequence[str]) -> set[str]:
        """Those of ``other_ids`` still stored and not ruled out by their kept shingles: their digests
        read at once, and the seeds each kept set gives counted together (``with_seeds``)."""
        versions = [(other_id, digest) for other_id, digest in zip(other_ids, self.digests(other_ids))
                    if digest is not None]   # None: removed meanwhile
        kept = [(key[0], self._shingles.get(key)) for key in versions]
        checked = [(other_id, shingles) for other_id, shingles in kept if shingles is not None]
        enough = with_seeds(analysis.fingerprint.shingles, [shingles for _, shingles in checked], self._seeds_needed)
        ruled_out = {other_id for (other_id, _), ok in zip(checked, enough) if not ok}
        self.counts.update(+Counter({"shingles checked": len(checked), "ruled out": len(ruled_out)}))   # + drops 0s
        return {other_id for other_id, _ in versions} - ruled_out

    def _indexed_analyses(self, stored: Sequence[StoredDocument], incoming_lines: set[str]) -> dict[str, tuple]:
        """id -> (short lines, chrome ones, analysis) of each stored document, analysed with the chrome
        the counts give now (with the incoming document's lines): a kept analysis if it took that
        chrome, otherwise all the others analysed together.  A line's count is the same whichever
        document carries it, so one chrome set (their union) gives each document its own."""
        docs = [one.to_document() for one in stored]
        cached = [self._analyses.get((one.id, one.digest)) for one in stored]
        lines = [kept[0] if kept is not None else short_lines(doc, self.context) for kept, doc in zip(cached, docs)]
        chromes = self.chromes_for(lines, incoming_lines)
        found = {}
        todo = []
        for i, (one, kept) in enumerate(zip(stored, cached)):
            if kept is not None and kept[1] == chromes[i]:
                self.counts["kept analysis"] += 1
                found[one.id] = kept
            else:
                todo.append(i)
        analyses = analyze_many_for_verification([docs[i] for i in todo], self.context,
                                                 frozenset().union(*(chromes[i] for i in todo)))
        for i, analysis in zip(todo, analyses):
            cache_key = (stored[i].id, stored[i].digest)
            if self._shingles.limit and not analysis.chrome:   # no chrome removed: all its shingles are here
                self._shingles.put(cache_key, all_shingles(docs[i], self.context, analysis))
            found[stored[i].id] = self._analyses.put(cache_key, (lines[i], chromes[i], analysis))
        return found


class Recent:
    """At most ``limit`` values by key (none when 0); the least recently used is dropped first."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key):
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key, value):
        if self.limit > 0:
            self._items[key] = value
            self._items.move_to_end(key)
            if len(self._items) > self.limit:
                self._items.popitem(last=False)
        return value


@dataclass(frozen=True)
class Banding:
    """The LSH (bands, rows) of the two tables: what a bucket id depends on besides the sketch."""

    document: tuple[int, int]
    window: tuple[int, int]

    def query_and_stored(self, sketch) -> tuple[np.ndarray | None, np.ndarray]:
        """The buckets a document is looked up by (None: an empty sketch, never looked up), and the
        row it is stored under (``bucket_ids`` and ``stored_row`` of it, each window's keys made once)."""
        document, windows = _folded_keys(sketch, self.document, self.window)
        stored = stored_row(document, windows[_stored_windows(len(windows))])
        return None if sketch.empty else _buckets(document, windows), stored


def bucket_ids(sketch, document_bands: tuple[int, int], window_bands: tuple[int, int], *,
               all_windows: bool) -> np.ndarray:
    """Buckets of a sketch (``postings.banded``: each 32-bit id as stored, with its band), distinct:
    its document bands and its window bands.

    Stored documents keep every other window (they tile the text without overlap);
    queries use all windows, which overlap by half, so an excerpt anywhere still
    lines up with a stored window to within a quarter of its length."""
    document, windows = _folded_keys(sketch, document_bands, window_bands)
    if not all_windows:
        windows = windows[_stored_windows(len(windows))]
    return _buckets(document, windows)


def _buckets(document: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """The distinct buckets of a document's band ids and its windows', slots in ``stored_row``'s order."""
    return distinct(np.concatenate([banded(document, 1), banded(windows, 1 + len(document))]))


def _stored_windows(count: int) -> list[int] | slice:
    """The windows a stored document keeps: every other one, and the last."""
    if count <= 2:
        return slice(None)
    keep = list(range(0, count, 2))
    if keep[-1] != count - 1:
        keep.append(count - 1)
    return keep


def _folded_keys(sketch, document_bands: tuple[int, int], window_bands: tuple[int, int]):
    """The 32-bit keys of the document's bands, and of each window's (one row a window)."""
    def folded(keys: np.ndarray) -> np.ndarray:
        return ((keys >> _FOLD) ^ keys).astype(KEY)

    return (folded(bucket_keys(sketch.signature[None, :], *document_bands, table=DOCUMENT_TABLE).ravel()),
            folded(bucket_keys(sketch.windows, *window_bands, table=WINDOW_TABLE)))


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
    return analyze_many_for_verification([doc], context, chrome)[0]


def analyze_many_for_verification(docs: Sequence[Document], context: Context,
                                  chrome: frozenset[str] | set[str]) -> list[DocumentAnalysis]:
    """``analyze_for_verification`` of each of ``docs``, fingerprinted in one batch (a document's
    chrome is its own lines among ``chrome``, so one set serves them all)."""
    if not docs:
        return []
    _assume_chrome(context, chrome)
    spans = [tuple(context.chrome.spans(doc)) for doc in docs]
    num_perm = context.settings.sketch.num_perm
    return [DocumentAnalysis(doc, chrome_spans, fingerprint, _no_sketch(doc.id, num_perm))
            for doc, chrome_spans, fingerprint in zip(docs, spans, context.shingler.fingerprints(docs, spans))]


def without_sketch(analysis: DocumentAnalysis) -> DocumentAnalysis:
    """``analysis`` with its sketch left empty, as ``analyze_for_verification`` gives it: what is kept."""
    return replace(analysis, sketch=_no_sketch(analysis.id, len(analysis.sketch.signature)))


def _no_sketch(doc_id: str, num_perm: int) -> Sketch:
    return Sketch(doc_id, np.full(num_perm, 0xFFFFFFFF, np.uint32), np.empty((0, num_perm), dtype=np.uint32),
                  np.empty((0, 2), dtype=np.int64))


def all_shingles(doc: Document, context: Context, analysis: DocumentAnalysis | None = None) -> np.ndarray:
    """The shingle hashes of ``doc`` at every position, sorted, with no chrome removed
    (``analysis``'s own when it removed none): those under any chrome are among them."""
    if analysis is not None and not analysis.chrome:
        return np.sort(analysis.fingerprint.shingles)
    return np.sort(context.shingler.fingerprint(doc, ()).shingles)


def seeds(shingles: np.ndarray, kept: np.ndarray) -> int:
    """Pairs of positions with the same hash, one in ``shingles``, one in ``kept`` (sorted)."""
    return int((np.searchsorted(kept, shingles, side="right") - np.searchsorted(kept, shingles, side="left")).sum())


def has_seeds(shingles: np.ndarray, kept: np.ndarray, needed: int) -> bool:
    """``seeds(shingles, kept) >= needed``."""
    return with_seeds(shingles, [kept], needed)[0]


def with_seeds(shingles: np.ndarray, kept: Sequence[np.ndarray], needed: int) -> list[bool]:
    """``seeds(shingles, each) >= needed`` for each of ``kept``, counted in one pass: a candidate's
    seeds are, over its kept hashes, how often each occurs in ``shingles`` (sorted once), and all
    candidates' hashes are searched together (numpy's fixed cost per call was most of the check)."""
    if not kept:
        return []
    ordered = np.sort(shingles)
    every = np.concatenate(kept)
    found = np.searchsorted(ordered, every, side="right") - np.searchsorted(ordered, every, side="left")
    lengths = np.array([len(one) for one in kept])
    ends = np.cumsum(lengths)
    total = np.concatenate(([0], np.cumsum(found)))
    return ((total[ends] - total[ends - lengths]) >= needed).tolist()


def ranked(hits: dict[str, int], limit: int) -> list[str]:
    """The candidates verified: those in most of the document's buckets first (ties by id)."""
    return sorted(hits, key=lambda k: (-hits[k], k))[:limit]


def analysed(docs: Sequence[Document], context: Context, seen_chrome: set[str], banding: Banding,
             remember: Callable[[Document, str, DocumentAnalysis], None] | None = None,
             pack: bool = True) -> list[Prepared]:
    """``docs`` analysed in one batch (``core.analyze_many``: a third of the CPU of analysing them one
    by one) taking as chrome their lines in ``seen_chrome`` (a document's chrome is its own lines
    among them, so one set serves the batch), digested and (``pack``) compressed as stored; ``remember``
    is given each one's analysis.  The index keeps an analysis only while that chrome holds."""
    _assume_chrome(context, seen_chrome)
    prepared = []
    for doc, analysis in zip(docs, analyze_many(docs, context)):
        lines = short_lines(doc, context)
        chrome = frozenset(key for key in lines if key in seen_chrome)
        query, stored = banding.query_and_stored(analysis.sketch)
        record = StoredDocument.of(doc, packed=pack)
        if remember is not None:
            remember(doc, record.digest, analysis)
        analysis = without_sketch(analysis)   # the bucket ids are made: the rest need not be kept
        prepared.append(Prepared(lines, chrome, analysis, query, stored, record=record))
    return prepared


def prepare_ahead(docs: Sequence[Document], context: Context, verifier: Verifier, banding: Banding,
                  reader=None, candidates: Sequence[int] = ()) -> list[Prepared]:
    """``analysed`` (the verifier remembering each one: if it is admitted, it is a candidate);
    with a ``reader`` (the committed index), also look each one up and verify its first
    ``candidates[i]`` candidates."""
    prepared = analysed(docs, context, verifier.seen_chrome, banding, verifier.remember)
    if reader is None:
        return prepared
    # only those it verifies: the index's process looks the others up (with the postings it keeps
    # anyway), so while the worker verifies none it never reads the postings, nor keeps them up to date
    asked = [i for i, p in enumerate(prepared) if p.query is not None and candidates[i]]
    if not asked:
        return prepared
    for i, hits in zip(asked, reader.lookup_many([prepared[i].query for i in asked])):
        hits.pop(docs[i].id, None)
        lines = set(prepared[i].lines)
        others = ranked(hits, candidates[i])
        checked = dict(zip(others, verifier.compare_many(prepared[i].analysis, others, lines)))
        prepared[i] = replace(prepared[i], hits=hits, checked=checked)
    return prepared


_ARRAYS = ("token_starts", "token_ends", "segments", "shingles", "shingle_tokens")   # of a Fingerprint


@dataclass(frozen=True)
class Packed:
    """A chunk's ``Prepared`` documents as the worker sends them back: each kind of array of all of
    them concatenated (pickling an array costs ~15 µs whatever its size, and a document had 12: a
    quarter of a millisecond a document, both sides), without what the index's process has or
    remakes (the documents, their empty sketches)."""

    rest: list[tuple]                 # per document: (lines, chrome, chrome spans, digest, packed text,
                                      # hits, checked, looked up by nothing)
    arrays: dict[str, np.ndarray]     # field -> all documents' values, concatenated
    lengths: dict[str, list[int]]     # field -> each document's length


def packed(prepared: list[Prepared]) -> Packed | list[Prepared]:
    """``prepared`` (analysed ahead: each with its analysis and record) to send back; as they are
    when an array's dtype differs between documents (concatenating would change it)."""
    fields = {name: [getattr(p.analysis.fingerprint, name) for p in prepared] for name in _ARRAYS}
    fields["query"] = [p.query if p.query is not None else np.empty(0, BUCKET) for p in prepared]
    fields["stored"] = [p.stored for p in prepared]
    if any(len({a.dtype for a in arrays}) > 1 for arrays in fields.values()):
        return prepared
    rest = [(p.lines, p.chrome, p.analysis.chrome, p.record.digest, p.record.packed, p.hits, p.checked,
             p.query is None) for p in prepared]
    return Packed(rest, {name: np.concatenate(arrays) for name, arrays in fields.items()},
                  {name: [len(a) for a in arrays] for name, arrays in fields.items()})


def unpacked(answer: Packed | list[Prepared], docs: Sequence[Document], num_perm: int) -> list[Prepared]:
    """The ``Prepared`` documents ``packed`` made of ``prepare_ahead``'s for ``docs``, equal to them."""
    if not isinstance(answer, Packed):
        return answer
    arrays = {name: [part.copy() for part in np.split(values, np.cumsum(answer.lengths[name])[:-1])]
              for name, values in answer.arrays.items()}   # copies: a kept analysis must not hold the chunk's
    prepared = []
    for i, (doc, (lines, chrome, spans, digest, text, hits, checked, unsearched)) in enumerate(zip(docs, answer.rest)):
        fingerprint = Fingerprint(doc.id, *(arrays[name][i] for name in _ARRAYS))
        analysis = DocumentAnalysis(doc, spans, fingerprint, _no_sketch(doc.id, num_perm))
        prepared.append(Prepared(lines, chrome, analysis, None if unsearched else arrays["query"][i],
                                 arrays["stored"][i], hits, checked, StoredDocument.known(doc, digest, text)))
    return prepared


class Preparer:
    """Hands out ``Prepared`` documents in order, analysed ahead by one worker process when it pays.

    The worker is a plain child process (``python -m dedup.index.prepare``) fed pickled chunks on
    its stdin and answering on its stdout, in order: nothing of this process is forked into it
    (SQLite's per-process lock state must not be), nothing of the caller's main module is run
    again, and it exits when its stdin closes, so when this process ends or is killed."""

    def __init__(self, context: Context, banding: Banding, index_path: str | None = None,
                 lookup_many: Callable[[list[np.ndarray]], list[dict[str, int]]] | None = None) -> None:
        """``lookup_many``: the committed documents in each query's buckets (the index's backend)."""
        self.context = context
        self.banding = banding
        self.lookup_many = lookup_many
        self.index_path = index_path   # an SQLite index the worker reads committed documents from
        self.enabled = resolve_jobs(context.settings.execution.jobs) > 1
        self._worker: subprocess.Popen | None = None
        self._sent: set[str] = set()   # chrome lines the worker was told of
        self.share = 0.5   # of the documents whose candidates the worker verifies (the rest: this process)
        self.lead = FIRST   # documents of a group analysed here, while the worker starts on the next ones
        self.waited = [0.0, 0.0]   # seconds this process waited for the worker, of seconds handing out (benchmarks)

    def prepare(self, docs: Sequence[Document], known_chrome: set[str]) -> Iterator[Prepared]:
        if not self.enabled or len(docs) < MIN_AHEAD:
            yield from self._here(docs, known_chrome)
            return
        worker = self._start()
        new_chrome = known_chrome - self._sent
        self._sent |= new_chrome
        lead = self.lead
        starts = [start for start in (lead, *range(lead + FIRST, len(docs), CHUNK)) if start < len(docs)]
        chunks = [docs[start:end] for start, end in zip(starts, starts[1:] + [len(docs)])]
        # A thread writes while this one reads: requests and answers both outgrow a pipe's buffer.
        writer = threading.Thread(target=_send, args=(worker.stdin, chunks, new_chrome, self.share), daemon=True)
        writer.start()
        received, began, waited = 0, time.perf_counter(), 0.0
        try:
            yield from self._here(docs[:lead], known_chrome)   # meanwhile the worker starts on the next chunks
            for chunk in chunks:
                asked = time.perf_counter()
                answer = self._receive(worker)
                waited += time.perf_counter() - asked
                received += 1
                yield from self._looked_up(unpacked(answer, chunk, self.context.settings.sketch.num_perm))
            elapsed = time.perf_counter() - began
            self.waited[0] += waited
            self.waited[1] += elapsed
            self._balance(waited / elapsed)
        finally:
            try:
                for _ in range(received, len(chunks)):   # left unread (the caller stopped): keep in step
                    self._receive(worker)
                writer.join()
            except BaseException:
                self.close(kill=True)
                raise

    def _here(self, docs: Sequence[Document], known_chrome: set[str]) -> Iterator[Prepared]:
        """``docs`` analysed in this process, a few at a time (together, as the worker does: it
        costs less than one by one; a few, as a group resumed after a crash is mostly already seen)."""
        for start in range(0, len(docs), CHUNK):
            # not compressed here: the commit compresses those admitted (pack_text), as it always did
            yield from self._looked_up(analysed(docs[start:start + CHUNK], self.context, known_chrome, self.banding,
                                                pack=False))

    def _looked_up(self, prepared: list[Prepared]) -> list[Prepared]:
        """``prepared`` with those the worker did not look up looked up here, together (a lookup's
        fixed cost is most of what it costs for one document).  The committed documents cannot
        change while a batch holds the write lock (on Redis, a batch judged against others' commits
        is judged again), so the index takes these hits as it takes the worker's."""
        asked = [i for i, p in enumerate(prepared) if p.hits is None and p.query is not None]
        if asked and self.lookup_many is not None:
            for i, hits in zip(asked, self.lookup_many([prepared[i].query for i in asked])):
                prepared[i] = replace(prepared[i], hits=hits)
        return prepared

    def _balance(self, idle: float) -> None:
        """Give the worker less work when this process waited for it (less verifying; verifying none,
        fewer documents to analyse), more when it never did (which process does what changes no verdict)."""
        if idle > 0.05:
            if self.share > 0:
                self.share = max(0.0, self.share - 0.125)
            else:
                self.lead = min(MAX_LEAD, self.lead + FIRST)
        elif idle < 0.01:
            if self.lead > FIRST:
                self.lead -= FIRST
            else:
                self.share = min(1.0, self.share + 0.125)

    def close(self, kill: bool = False) -> None:
        """End the worker: its input closed, it exits when done.  ``kill`` (after a failure): ended
        at once, since it may be blocked writing answers nobody reads while this process's writer
        thread is blocked writing to it, holding the lock that closing its input waits for."""
        if self._worker is not None:
            worker, self._worker = self._worker, None
            if kill:
                worker.kill()   # the writer thread's write fails and lets go of the stream
            try:
                worker.stdin.close()
            except OSError:   # a broken pipe flushing what the killed worker did not read
                pass
            worker.wait()
            worker.stdout.close()

    def _receive(self, worker: subprocess.Popen) -> list[Prepared]:
        try:
            return pickle.load(worker.stdout)
        except (EOFError, pickle.UnpicklingError):
            self.close(kill=True)
            raise RuntimeError("the document analysis worker process died (see its error above)") from None

    def _start(self) -> subprocess.Popen:
        if self._worker is None:
            package_root = str(Path(__file__).resolve().parents[2])   # import this very dedup there
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root,
                                                                          os.environ.get("PYTHONPATH")])))
            # not the working folder first on its path (``-c`` puts it there): another checkout's dedup
            # may be there (benchmarks run one beside another), and the worker must speak this one's protocol
            self._worker = subprocess.Popen([sys.executable, "-c", "import sys; sys.path.remove('') if '' in sys.path "
                                             f"else None; from {__name__} import _main; _main()"],
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
            pickle.dump((self.context, self.banding, self.index_path), self._worker.stdin)
            self._worker.stdin.flush()
            self._sent = set()
        return self._worker


def _send(stream, chunks: list[Sequence[Document]], new_chrome: set[str], share: float) -> None:
    try:
        for chunk in chunks:
            pickle.dump((list(chunk), new_chrome, share), stream, protocol=pickle.HIGHEST_PROTOCOL)
            new_chrome = set()
        stream.flush()
    except (BrokenPipeError, ValueError):
        pass   # the worker died or was closed: the reader reports it


def _serve(requests, answers) -> None:
    """The worker's loop: (context, banding, index path), then chunks of documents until stdin closes."""
    context, banding, index_path = pickle.load(requests)
    reader = None
    if index_path is not None:
        from .sqlite import SQLiteBackend
        reader = SQLiteBackend(index_path, create=False, read_only=True)

    def line_counts(lines: dict[str, int]) -> dict[str, int]:
        counts = reader.line_counts(list(lines.values()))
        return {key: counts.get(h, 0) for key, h in lines.items()}

    verifier = Verifier(context, reader.get if reader else lambda _: None,
                        reader.digests if reader else lambda ids: [None] * len(ids), line_counts)
    max_candidates = context.settings.index.max_candidates
    while True:
        try:
            docs, new_chrome, share = pickle.load(requests)
        except EOFError:
            return
        verifier.seen_chrome |= new_chrome
        # Verifying is the part of the work that grows with the index: the worker verifies the
        # candidates of a ``share`` of the documents, the index's process those of the others.
        candidates = [max_candidates * (int((i + 1) * share) > int(i * share)) for i in range(len(docs))]
        pickle.dump(packed(prepare_ahead(docs, context, verifier, banding, reader, candidates)), answers,
                    protocol=pickle.HIGHEST_PROTOCOL)
        answers.flush()


def _main() -> None:
    """The worker process: answers go to the original stdout, anything printed goes to stderr."""
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    _serve(sys.stdin.buffer, answers)
