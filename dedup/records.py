"""Plain records passed between the stages of the pipeline.

Every offset in these records is a character offset into ``Document.text``,
the text as it was read (for .txt/.md/.jsonl that is the file's own text; for
HTML it is the visible text extracted from the page).  Normalisation only
ever happens on copies used for matching, never on what offsets point into.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable

# Relations between two documents, strongest first.
DUPLICATE = "duplicate"      # essentially the same article once chrome is set aside
EXCERPT = "excerpt"          # one is largely contained, verbatim, in the other
OVERLAP = "overlap"          # they share one or more verbatim passages
PARAPHRASE = "paraphrase"    # the same report retold in other words
RELATIONS = (DUPLICATE, EXCERPT, OVERLAP, PARAPHRASE)

# Version of the JSON report's layout (``dedup/schema/report.schema.json``): the major part
# changes when a field is removed or changes meaning, the minor part when one is added.
SCHEMA_VERSION = "1.1"

# How a long stage reports progress: (stage name, items done, items in all).
ProgressCallback = Callable[[str, int, int], None]

# Direction of derivation between the two documents of a pair.
A_FROM_B = "a_from_b"
B_FROM_A = "b_from_a"
SIBLINGS = "siblings"        # both derive from a common (possibly absent) source
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Document:
    """One article: its text and what we know about where it came from."""

    id: str
    text: str
    title: str = ""
    date: str | None = None      # publication date or time, any common format (ISO 8601, RFC 2822, "March 7, 2024")
    url: str | None = None
    source: str | None = None    # the outlet, e.g. "Financial Times"
    path: str | None = None      # the file it was read from
    encoding: str | None = None  # the encoding its bytes were read with (e.g. "utf-8", "cp1252")
    crawled_at: str | None = None   # when a crawler fetched it (weighs less than a publication date)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "date": self.date,
            "url": self.url,
            "source": self.source,
            "path": self.path,
            "encoding": self.encoding,
            "crawled_at": self.crawled_at,
            "chars": len(self.text),
        }


@dataclass(frozen=True)
class FileNote:
    """Something said about an input file (and line), with the reason."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.reason}"

    def to_json(self) -> dict:
        return {"path": self.path, "line": self.line, "reason": self.reason}


@dataclass(frozen=True)
class Skipped(FileNote):
    """An input that could not be read, and why (never silently dropped)."""


@dataclass(frozen=True)
class LoadWarning(FileNote):
    """Something read but not used (e.g. a JSONL date of "nan"); the document itself is kept."""


@dataclass(frozen=True)
class Passage:
    """A stretch of text found verbatim (up to small edits) in both documents."""

    a_start: int
    a_end: int
    b_start: int
    b_end: int
    text: str        # the passage as it reads in document a
    words: int       # length in words, on the a side

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Alignment:
    """A sentence of document a matched to a sentence of document b that says the same thing."""

    a_start: int
    a_end: int
    b_start: int
    b_end: int
    score: float

    def to_json(self) -> dict:
        return {
            "a_start": self.a_start,
            "a_end": self.a_end,
            "b_start": self.b_start,
            "b_end": self.b_end,
            "score": round(self.score, 4),
        }


@dataclass(frozen=True)
class Direction:
    """Who took from whom in one pair, and the votes that decided it (the lineage stage's answer)."""

    direction: str = UNKNOWN
    confidence: float = 0.0
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pair:
    """What two documents share, what that makes them, and who took from whom.

    Built once, by ``classify.make_pair``, from the evidence of each stage; never changed after."""

    a: str
    b: str
    relation: str
    jaccard: float = 0.0
    containment_a_in_b: float = 0.0
    containment_b_in_a: float = 0.0
    passages: tuple[Passage, ...] = ()
    alignments: tuple[Alignment, ...] = ()
    aligned_a: float = 0.0       # share of a's sentences aligned to b
    aligned_b: float = 0.0
    similarity: float = 0.0      # document-level TF-IDF cosine
    direction: str = UNKNOWN
    confidence: float = 0.0
    evidence: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.a, self.b)

    def longest_passage(self) -> Passage | None:
        return max(self.passages, key=lambda p: (p.words, -p.a_start), default=None)

    def to_json(self) -> dict:
        return {
            "a": self.a,
            "b": self.b,
            "relation": self.relation,
            "jaccard": round(self.jaccard, 4),
            "containment_a_in_b": round(self.containment_a_in_b, 4),
            "containment_b_in_a": round(self.containment_b_in_a, 4),
            "aligned_a": round(self.aligned_a, 4),
            "aligned_b": round(self.aligned_b, 4),
            "similarity": round(self.similarity, 4),
            "direction": self.direction,
            "confidence": round(self.confidence, 4),
            "evidence": list(self.evidence),
            "passages": [p.to_json() for p in self.passages],
            "alignments": [al.to_json() for al in self.alignments],
        }


@dataclass(frozen=True)
class Source:
    """A source that documents cite but that is not in the corpus (e.g. the FT)."""

    id: str           # "source:financial-times"
    name: str         # "Financial Times"
    cited_by: tuple[str, ...]

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, "cited_by": list(self.cited_by)}


@dataclass(frozen=True)
class Edge:
    """``child`` derives from ``parent`` (a document id or an absent source id)."""

    child: str
    parent: str
    relation: str
    confidence: float
    evidence: tuple[str, ...]

    def to_json(self) -> dict:
        return {
            "child": self.child,
            "parent": self.parent,
            "relation": self.relation,
            "confidence": round(self.confidence, 4),
            "evidence": list(self.evidence),
        }


@dataclass
class ScanReport:
    """Everything a scan found, in a deterministic order."""

    documents: list[Document]
    skipped: list[Skipped]
    pairs: list[Pair]
    families: list[list[str]]
    sources: list[Source] = field(default_factory=list)
    warnings: list[LoadWarning] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    parameters: dict = field(default_factory=dict)
    chrome: dict[str, list[tuple[int, int]]] = field(default_factory=dict)   # for display, not in JSON
    origins: list = field(default_factory=list)   # lineage.Origin per document: original, wire reprint, reprint, ...
    shared_passages: list = field(default_factory=list)   # passages.SharedPassage: reported once, not pair evidence
    pairs_dropped_as_shared: int = 0   # pairs whose only shared text was widely shared passages
    _doc_index: dict = field(default_factory=dict, repr=False, compare=False)
    _pair_index: dict = field(default_factory=dict, repr=False, compare=False)
    _family_index: dict = field(default_factory=dict, repr=False, compare=False)
    _origin_index: dict = field(default_factory=dict, repr=False, compare=False)

    def document(self, doc_id: str) -> Document:
        return self._documents_by_id()[doc_id]

    def pair(self, a: str, b: str) -> Pair | None:
        by_key = self._pairs_by_key()
        return by_key.get((a, b)) or by_key.get((b, a))

    def family_of(self, node: str) -> int | None:
        """Index in ``families`` of the family holding a document (or absent source) id (an absent
        source credited from several families: the first)."""
        if self._family_index.get("_size") != (len(self.families), sum(map(len, self.families))):
            self._family_index.clear()
            for n, family in reversed(list(enumerate(self.families))):
                self._family_index.update((member, n) for member in family)
            self._family_index["_size"] = (len(self.families), sum(map(len, self.families)))
        return self._family_index.get(node)

    def origin(self, doc_id: str):
        """The document's ``lineage.Origin`` (kind, outlet, strongest parent), or None."""
        if len(self._origin_index) != len(self.origins):
            self._origin_index.clear()
            self._origin_index.update((o.document, o) for o in self.origins)
        return self._origin_index.get(doc_id)

    def source_name(self, node: str) -> str:
        return next((s.name for s in self.sources if s.id == node), node)

    # Lookups are built on first use (reports are built once, then read).
    def _documents_by_id(self) -> dict[str, Document]:
        if len(self._doc_index) != len(self.documents):
            self._doc_index.clear()
            self._doc_index.update((d.id, d) for d in self.documents)
        return self._doc_index

    def _pairs_by_key(self) -> dict[tuple[str, str], Pair]:
        if len(self._pair_index) != len(self.pairs):
            self._pair_index.clear()
            self._pair_index.update((p.key, p) for p in self.pairs)
        return self._pair_index

    def originality(self) -> dict:
        """How much is original (``lineage.originality``): kinds in total and per outlet, with rules."""
        from .lineage import originality
        return originality(self.origins)

    def to_pandas(self, keep: str = "earliest", relations: tuple[str, ...] = (DUPLICATE, EXCERPT)):
        """(pairs, documents) DataFrames; documents carry ``family_id``, ``cluster_id`` and
        ``is_representative`` (one per cluster, rule ``keep``).  See ``dedup.export``."""
        from .export import to_pandas
        return to_pandas(self, keep, relations)

    def to_json(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "parameters": self.parameters,
            "documents": [d.to_json() for d in self.documents],
            "skipped": [s.to_json() for s in self.skipped],
            "warnings": [w.to_json() for w in self.warnings],
            "pairs": [p.to_json() for p in self.pairs],
            "families": [list(f) for f in self.families],
            "sources": [s.to_json() for s in self.sources],
            "edges": [e.to_json() for e in self.edges],
            "originality": self.originality(),
            "origins": [o.to_json() for o in self.origins],
            "shared_passages": [p.to_json() for p in self.shared_passages],
            "pairs_dropped_as_shared": self.pairs_dropped_as_shared,
        }
