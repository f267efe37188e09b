"""Persistent index for pre-ingest filtering: is this incoming article new, or a near-copy
of something already seen (and of what)?

    from dedup import Index
    with Index.open("news.index") as index:       # created if missing (SQLite file)
        verdict = index.check(doc)                 # no side effect
        verdict = index.add(doc)                   # check, then remember it if it is new (one transaction)
        with index.batch() as batch:               # many documents, one transaction (group commit)
            verdicts = [index.add(d) for d in docs]

``Index.open("redis://host:6379/0?prefix=news")`` shares one index between workers.

The index analyses, buckets and verifies documents with the analysis core the
scanner uses (``core.analyze``, ``candidates.bucket_keys``, ``core.verify_verbatim``,
``classify.verbatim_relation``), so ``dedup scan`` and ``dedup filter`` agree on
what a duplicate is.  Chrome too: the index counts, per short line, the indexed
documents carrying it, and analyses each document with a detector fitted on those
counts (the document itself included), so a line repeated in ``chrome_min_docs``
documents is chrome in ``filter`` as in ``scan``.  It never loads the paraphrase
stage (scikit-learn).

Check-and-add is atomic across processes: a batch is judged inside the backend's
write transaction (see ``backend``), against everything committed before it and the
batch's own earlier documents.
"""

from __future__ import annotations

from collections import Counter
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence, TypeVar

import numpy as np

from ..candidates import banding
from ..core import Context
from ..records import DUPLICATE, EXCERPT, OVERLAP, Document
from ..settings import Settings
from .backend import (Batch, Conflict, Entry, IndexBackend, IndexDamaged, IndexError_, IndexLocked, IndexMismatch,
                      IndexUnreachable, NoSpace, StoredDocument)
from .postings import KEY, BucketMap, row_buckets, spread
from .prepare import CONTAINS, Banding, Prepared, Preparer, Verifier, analyze_with_chrome, ranked, short_lines

__all__ = ["Index", "Verdict", "Batch", "Conflict", "IndexError_", "IndexLocked", "IndexMismatch",
           "IndexDamaged", "IndexUnreachable", "NoSpace"]

FORMAT = 3   # 3: 32-bit bucket ids packed per document, short-line counts, filter checkpoints
NEW = "new"
ALREADY_SEEN = "already_seen"
DUPLICATE_RELATIONS = (DUPLICATE, EXCERPT, ALREADY_SEEN)
T = TypeVar("T")
_PENDING_SHIFT = KEY(12)


@dataclass(frozen=True)
class Verdict:
    """The answer for one document: what it is relative to the index, and to what."""

    doc_id: str
    relation: str                                   # new | duplicate | excerpt | contains | overlap | already_seen
    matches: list[tuple[str, float]] = field(default_factory=list)  # (indexed id, share of this doc inside it)
    added: bool = False

    @property
    def is_duplicate(self) -> bool:
        return self.relation in DUPLICATE_RELATIONS

    @property
    def reason(self) -> str:
        if self.relation == NEW:
            return "new"
        if self.relation == ALREADY_SEEN:
            return f"already seen: id {self.doc_id} with the same text is in the index"
        best, score = self.matches[0]
        return {DUPLICATE: f"duplicate of {best} ({score:.0%} shared)",
                EXCERPT: f"excerpt of {best} ({score:.0%} of it lies inside {best})",
                CONTAINS: f"contains {best}", OVERLAP: f"shares passages with {best} ({score:.0%})"}[self.relation]

    def to_json(self) -> dict:
        return {"id": self.doc_id, "relation": self.relation, "is_duplicate": self.is_duplicate,
                "reason": self.reason, "added": self.added,
                "matches": [{"id": i, "score": round(s, 4)} for i, s in self.matches]}


class _Pending:
    """The open batch: documents judged and admitted but not yet committed, searchable."""

    def __init__(self) -> None:
        self.batch = Batch()
        self.docs: dict[str, StoredDocument] = {}
        self.postings = BucketMap()
        # Most buckets a document is looked up by hold none of the batch's: a small map (one flag per
        # 4,096 bucket ids, ~10% set by a batch of 256 articles) says so without a Python integer for each.
        self.occupied = np.zeros(1 << 20, dtype=bool)
        self.lines: Counter[int] = Counter()

    def add(self, entry: Entry) -> None:
        self.batch.entries.append(entry)
        self.docs[entry.doc.id] = entry.doc
        buckets = row_buckets([entry.buckets])[0]
        self.postings.add(entry.doc.id, buckets.tolist())
        self.occupied[spread(buckets) >> _PENDING_SHIFT] = True
        self.lines.update(entry.lines.tolist())

    def lookup(self, buckets: np.ndarray, hits: dict[str, int]) -> None:
        if not self.docs:
            return
        found = Counter(self.postings.lookup(buckets[self.occupied[spread(buckets) >> _PENDING_SHIFT]].tolist()))
        for doc_id, count in found.items():
            hits[doc_id] = max(hits.get(doc_id, 0), count)


class Index:
    def __init__(self, backend: IndexBackend, settings: Settings | None = None) -> None:
        self.backend = backend
        self.settings = settings or Settings()
        self.context = Context(self.settings)
        num_perm = self.settings.sketch.num_perm
        self.banding = Banding(banding(self.settings.candidates.document_threshold, num_perm),
                               banding(self.settings.candidates.window_threshold, num_perm))
        self._pending: _Pending | None = None
        self._verifier = Verifier(self.context, self._stored, self._digests, self._line_counts)
        self._preparer = Preparer(Context(self.settings), self.banding, getattr(backend, "path_for_readers", None),
                                  backend.lookup_many)
        self._check_parameters()

    @classmethod
    def open(cls, location: str | Path, settings: Settings | None = None, *, create: bool = True) -> "Index":
        """Open (or create) an index: a file path (SQLite) or a ``redis://`` URL."""
        location = str(location)
        if location.startswith(("redis://", "rediss://", "unix://")):
            from .redis import RedisBackend
            backend: IndexBackend = RedisBackend(location)
        else:
            from .sqlite import SQLiteBackend
            backend = SQLiteBackend(location, create=create)
        try:
            return cls(backend, settings)
        except BaseException:
            backend.close()
            raise

    def parameters(self) -> dict:
        """What stored data depends on (sketches, bucket ids, short-line counts); an index
        refuses to be used with other values."""
        s = self.settings
        return {"format": FORMAT, **s.sketch_parameters(), "bucket_bits": 32,
                "window_threshold": s.candidates.window_threshold,
                "document_threshold": s.candidates.document_threshold,
                "chrome": asdict(s.chrome),
                "bands": {"document": list(self.banding.document), "window": list(self.banding.window)}}

    def _check_parameters(self) -> None:
        wanted = self.parameters()
        stored = self.backend.read_meta()
        if stored is None:
            self.backend.write_meta(wanted)
            return
        differences = [f"{k}={stored.get(k)!r} (now {wanted.get(k)!r})"
                       for k in sorted(set(stored) | set(wanted)) if stored.get(k) != wanted.get(k)]
        if differences:
            raise IndexMismatch(f"{self.backend.location}: built with other settings: "
                                + ", ".join(differences)
                                + "; data made another way does not compare: open it with the same settings "
                                  "or build a new index")

    # -- the API -------------------------------------------------------------

    def check(self, doc: Document) -> Verdict:
        """What ``doc`` is relative to the indexed documents (and the open batch).  Changes nothing."""
        verdict, _ = self._judge(doc)
        return verdict

    def add(self, doc: Document) -> Verdict:
        """Check ``doc``, then remember it unless it is a near-copy of an indexed document.

        Inside ``batch()`` the document joins the batch (committed with it); otherwise it is
        committed at once, in its own transaction.  Idempotent: the same id with the same text
        is answered ``already_seen`` and not written again; the same id with new text replaces
        the old version."""
        if self._pending is not None:
            return self._admit(doc)
        return self._in_own_batch(lambda: self._admit(doc))

    def add_all(self, docs: Sequence[Document]) -> list[Verdict]:
        """``add`` each document, in order: the same verdicts, faster.  Inside ``batch()`` they join
        the batch; otherwise they are committed together, in one transaction.

        The documents are analysed ahead, in a worker process (see ``prepare``), while this
        process judges the earlier ones, and the short-line counts of all of them are read at once."""
        if self._pending is None:
            return self._in_own_batch(lambda: self.add_all(docs))
        # closed here even if judging fails, so the worker's unread answers are drained at once
        with closing(self._preparer.prepare(docs, self._verifier.seen_chrome)) as ahead:
            # ahead first: zip then resumes it once more at the end, so it records how long this process waited
            return [self._admit(doc, prepared) for prepared, doc in zip(ahead, docs)]

    def _in_own_batch(self, judge: Callable[[], T]) -> T:
        """``judge()`` inside a batch of its own, committed at once; judged again from the start
        whenever another writer committed meanwhile (the verdicts may have changed)."""
        while True:
            try:
                with self.batch():
                    return judge()
            except Conflict:
                continue

    @contextmanager
    def batch(self) -> Iterator[Batch]:
        """One write transaction for many ``add`` calls (group commit).

        Everything added inside is committed together when the block ends, with the
        batch's ``checkpoint`` if one was set, or not at all if the block raises.  The
        documents are judged against everything committed before the batch began (no
        other writer can slip in between), and against each other in order.  On Redis,
        ``Conflict`` is raised when another worker committed first: nothing was written,
        judge the same documents again."""
        if self._pending is not None:
            raise RuntimeError("batches do not nest")
        self.backend.begin()
        self._pending = pending = _Pending()
        try:
            yield pending.batch
        except BaseException:
            self._pending = None
            self.backend.rollback()
            raise
        self._pending = None
        self.backend.commit(pending.batch)

    def checkpoint(self, run: str) -> bytes | None:
        """The state a filter run saved with its last committed batch (None: no run to resume)."""
        return self.backend.checkpoint(run)

    def remove(self, doc_id: str) -> bool:
        return self.backend.remove(doc_id)

    def get(self, doc_id: str) -> Document | None:
        stored = self._stored(doc_id)
        if stored is None:
            return None
        return stored.to_document()

    def stats(self) -> dict:
        return {**self.backend.stats(), "parameters": self.parameters()}

    def verify(self) -> list[str]:
        """Read everything back; every problem found (empty: the index is intact)."""
        return self.backend.verify()

    def close(self) -> None:
        self._preparer.close()
        self.backend.close()

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- internals -------------------------------------------------------------

    def _admit(self, doc: Document, prepared: Prepared | None = None) -> Verdict:
        verdict, judged = self._judge(doc, prepared)
        if verdict.is_duplicate or judged is None:
            return verdict
        stored = prepared.record if prepared is not None and prepared.record is not None else StoredDocument.of(doc)
        self._pending.add(Entry(stored, judged.stored, np.array(sorted(judged.lines.values()), dtype=np.int64)))
        self._verifier.remember(doc, stored.digest, judged.analysis, judged.lines, judged.chrome)
        return Verdict(verdict.doc_id, verdict.relation, verdict.matches, added=True)

    def _stored(self, doc_id: str) -> StoredDocument | None:
        if self._pending is not None and doc_id in self._pending.docs:
            return self._pending.docs[doc_id]
        return self.backend.get(doc_id)

    def _digest(self, doc_id: str) -> str | None:
        if self._pending is not None and doc_id in self._pending.docs:
            return self._pending.docs[doc_id].digest
        return self.backend.digest(doc_id)

    def _digests(self, doc_ids: Sequence[str]) -> list[str | None]:
        """``_digest`` of each of ``doc_ids``: those not in the open batch read together."""
        pending = self._pending.docs if self._pending is not None else {}
        committed = list(dict.fromkeys(doc_id for doc_id in doc_ids if doc_id not in pending))
        stored = dict(zip(committed, self.backend.digests(committed))) if committed else {}
        return [pending[doc_id].digest if doc_id in pending else stored[doc_id] for doc_id in doc_ids]

    def _line_counts(self, keys: dict[str, int]) -> dict[str, int]:
        """Indexed documents carrying each short line (``keys``: line -> its hash)."""
        stored = self.backend.line_counts(list(keys.values()))
        pending = self._pending.lines if self._pending is not None else {}
        return {key: stored.get(h, 0) + pending.get(h, 0) for key, h in keys.items()}

    def _judge(self, doc: Document, prepared: Prepared | None = None):
        """The verdict, and (unless already seen) the document ``Prepared``: its analysis, lines and buckets.

        A document ``prepared`` ahead keeps its analysis when the chrome it assumed is the
        chrome the index's counts give now; otherwise it is analysed again here."""
        stored = self._digest(doc.id)   # of an indexed version of it (its text is not read)
        digest = prepared.record.digest if prepared is not None and prepared.record is not None else None
        if stored is not None and stored == (digest or StoredDocument.digest_of(doc.text)):
            return Verdict(doc.id, ALREADY_SEEN, [(doc.id, 1.0)]), None
        if prepared is None:
            prepared = Prepared(short_lines(doc, self.context))
        lines = prepared.lines
        # The document counts itself, as in a scan of the indexed documents plus this one
        # (a new version of an indexed id is counted once, as the scan would).
        chrome = self._verifier.chrome_of({k: n + (stored is None) for k, n in self._line_counts(lines).items()})
        if prepared.analysis is None or prepared.chrome != chrome:
            analysis = analyze_with_chrome(doc, self.context, chrome)
            prepared = Prepared(lines, chrome, analysis, *self.banding.query_and_stored(analysis.sketch))
        query = prepared.query
        if query is None:
            return Verdict(doc.id, NEW), prepared
        hits = dict(prepared.hits) if prepared.hits is not None else self.backend.lookup(query)
        if self._pending is not None:
            self._pending.lookup(query, hits)
        hits.pop(doc.id, None)   # a new version of itself is not a copy
        found = [f for f in self._compare(prepared, ranked(hits, self.settings.index.max_candidates)) if f]
        order = (DUPLICATE, EXCERPT, OVERLAP, CONTAINS)
        found.sort(key=lambda f: (order.index(f[1]), -f[2], f[0]))
        relation = found[0][1] if found else NEW
        return Verdict(doc.id, relation, [(i, s) for i, _, s in found]), prepared

    def _compare(self, prepared: Prepared, others: list[str]) -> list[tuple[str, str, float] | None]:
        """For each of ``others``: (other id, relation of the incoming document to it, share of it
        inside the other), or None.

        A comparison made ahead (against the committed documents) stands when the other document
        is not in the open batch and its chrome is still what the comparison took; the others are
        compared here, together."""
        incoming_lines = set(prepared.lines)
        ahead = [other_id for other_id in others if other_id in prepared.checked
                 and (self._pending is None or other_id not in self._pending.docs)]
        chromes = self._verifier.chromes_for([prepared.checked[other_id].lines for other_id in ahead], incoming_lines)
        found = {other_id: prepared.checked[other_id].found for other_id, chrome in zip(ahead, chromes)
                 if chrome == prepared.checked[other_id].chrome}
        left = [other_id for other_id in others if other_id not in found]
        found.update(zip(left, (c.found for c in self._verifier.compare_many(prepared.analysis, left, incoming_lines))))
        return [found[other_id] for other_id in others]
