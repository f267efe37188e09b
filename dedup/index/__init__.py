"""Persistent index for pre-ingest filtering: is this incoming article new, or a near-copy
of something already seen (and of what)?

    from dedup import Index
    with Index.open("news.index") as index:       # created if missing (SQLite file)
        verdict = index.check(doc)                 # no side effect
        verdict = index.add(doc)                   # check, then remember it if it is new

``Index.open("redis://host:6379/0?prefix=news")`` shares one index between workers.

The index analyses, buckets and verifies documents with the analysis core the
scanner uses (``core.analyze``, ``candidates.bucket_keys``, ``core.verify_verbatim``,
``classify.verbatim_relation``), so ``dedup scan`` and ``dedup filter`` agree on
what a duplicate is.  It never loads the paraphrase stage (scikit-learn).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..candidates import DOCUMENT_TABLE, WINDOW_TABLE, banding, bucket_keys
from ..classify import verbatim_relation
from ..core import Context, analyze, verify_verbatim
from ..records import DUPLICATE, EXCERPT, OVERLAP, Document
from ..settings import Settings
from .backend import IndexBackend, IndexError_, IndexLocked, IndexMismatch, StoredDocument

__all__ = ["Index", "Verdict", "IndexError_", "IndexLocked", "IndexMismatch"]

FORMAT = 2   # 2: bucket ids from candidates.bucket_keys (format 1 indexes must be rebuilt)
NEW = "new"
ALREADY_SEEN = "already_seen"
CONTAINS = "contains"      # the incoming document contains an indexed one (it is not a copy)
DUPLICATE_RELATIONS = (DUPLICATE, EXCERPT, ALREADY_SEEN)


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


class Index:
    def __init__(self, backend: IndexBackend, settings: Settings | None = None) -> None:
        self.backend = backend
        self.settings = settings or Settings()
        self.context = Context(self.settings)
        num_perm = self.settings.sketch.num_perm
        self.document_bands = banding(self.settings.candidates.document_threshold, num_perm)
        self.window_bands = banding(self.settings.candidates.window_threshold, num_perm)
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
        """What stored signatures depend on; an index refuses to be used with other values."""
        return {"format": FORMAT, **self.settings.sketch_parameters(),
                "window_threshold": self.settings.candidates.window_threshold,
                "document_threshold": self.settings.candidates.document_threshold,
                "bands": {"document": list(self.document_bands), "window": list(self.window_bands)}}

    def _check_parameters(self) -> None:
        wanted = self.parameters()
        stored = self.backend.read_meta()
        if stored is None:
            self.backend.write_meta(wanted)
            return
        differences = [f"{k}={stored.get(k)!r} (now {wanted.get(k)!r})"
                       for k in sorted(set(stored) | set(wanted)) if stored.get(k) != wanted.get(k)]
        if differences:
            raise IndexMismatch(f"{self.backend.location}: built with other sketch parameters: "
                                + ", ".join(differences)
                                + "; signatures made another way do not compare: open it with the same settings "
                                  "or build a new index")

    # -- the API -------------------------------------------------------------

    def check(self, doc: Document) -> Verdict:
        """What ``doc`` is relative to the indexed documents.  Changes nothing."""
        verdict, _ = self._judge(doc)
        return verdict

    def add(self, doc: Document) -> Verdict:
        """Check ``doc``, then remember it unless it is a near-copy of an indexed document.

        Idempotent: the same id with the same text is answered ``already_seen`` and not
        written again; the same id with new text replaces the old version."""
        verdict, buckets = self._judge(doc)
        if verdict.is_duplicate:
            return verdict
        self.backend.put(StoredDocument(id=doc.id, text=doc.text, digest=StoredDocument.digest_of(doc.text),
                                        title=doc.title, date=doc.date, url=doc.url, source=doc.source), buckets)
        return Verdict(verdict.doc_id, verdict.relation, verdict.matches, added=True)

    def remove(self, doc_id: str) -> bool:
        return self.backend.remove(doc_id)

    def get(self, doc_id: str) -> Document | None:
        stored = self.backend.get(doc_id)
        if stored is None:
            return None
        return Document(id=stored.id, text=stored.text, title=stored.title, date=stored.date, url=stored.url,
                        source=stored.source)

    def stats(self) -> dict:
        return {**self.backend.stats(), "parameters": self.parameters()}

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- internals -------------------------------------------------------------

    def _judge(self, doc: Document) -> tuple[Verdict, np.ndarray]:
        stored = self.backend.get(doc.id)
        if stored is not None and stored.digest == StoredDocument.digest_of(doc.text):
            return Verdict(doc.id, ALREADY_SEEN, [(doc.id, 1.0)]), np.empty(0, dtype=np.int64)
        analysis = analyze(doc, self.context)
        sketch = analysis.sketch
        if sketch.empty:
            return Verdict(doc.id, NEW), np.empty(0, dtype=np.int64)
        hits = self.backend.lookup(self._buckets(sketch, all_windows=True).tolist())
        hits.pop(doc.id, None)   # a new version of itself is not a copy
        ranked = sorted(hits, key=lambda k: (-hits[k], k))[: self.settings.index.max_candidates]
        found: list[tuple[str, str, float]] = []
        for other_id in ranked:
            other = self.get(other_id)
            if other is None:   # removed meanwhile by another worker
                continue
            overlap = verify_verbatim(analysis, analyze(other, self.context), self.context)
            relation = verbatim_relation(overlap, self.settings.relation)
            if relation is None:
                continue
            if relation == EXCERPT and overlap.containment_a_in_b < overlap.containment_b_in_a:
                relation = CONTAINS
            found.append((other_id, relation, overlap.containment_a_in_b))
        order = (DUPLICATE, EXCERPT, OVERLAP, CONTAINS)
        found.sort(key=lambda f: (order.index(f[1]), -f[2], f[0]))
        relation = found[0][1] if found else NEW
        return Verdict(doc.id, relation, [(i, s) for i, _, s in found]), self._buckets(sketch, all_windows=False)

    def _buckets(self, sketch, *, all_windows: bool) -> np.ndarray:
        """Bucket ids of a sketch: its document bands and its window bands.

        Stored documents keep every other window (they tile the text without overlap);
        queries use all windows, which overlap by half, so an excerpt anywhere still
        lines up with a stored window to within a quarter of its length."""
        windows = sketch.windows
        if not all_windows and len(windows) > 2:
            keep = list(range(0, len(windows), 2))
            if keep[-1] != len(windows) - 1:
                keep.append(len(windows) - 1)
            windows = windows[keep]
        keys = [bucket_keys(sketch.signature[None, :], *self.document_bands, table=DOCUMENT_TABLE),
                bucket_keys(windows, *self.window_bands, table=WINDOW_TABLE)]
        return np.unique(np.concatenate([k.ravel() for k in keys])).view(np.int64)
