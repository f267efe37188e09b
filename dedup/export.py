"""A scan report as tables: pairs and documents for pandas and spreadsheets, and one
representative per cluster of near-copies (``dedup dedupe``).

Clusters.  Documents joined by pairs whose relation is in ``relations`` form one cluster
(connected components, as story families are; a document related to none is a cluster of
its own).  The default joins ``duplicate`` and ``excerpt`` only, what ``dedup filter`` holds
back: an article that merely quotes another (``overlap``) or retells it (``paraphrase``) is
kept.  With every relation, clusters are the report's story families.

Representative of a cluster (``keep``):

- ``earliest``: the earliest publication date (undated documents after dated ones);
- ``longest``: the most characters (an excerpt's full article beats the excerpt);
- ``source``: the document the others derive from: one that derives from no other member,
  with the most members deriving from it (lineage: dates, credits, containment).

Ties go to the next rule in that order (earliest, then longest), then to the smallest id,
so the choice is deterministic.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from .lineage import connected_components, parse_date
from .records import DUPLICATE, EXCERPT, RELATIONS, Document, ScanReport
from .report import excerpt

if TYPE_CHECKING:
    import pandas

KEEP_RULES = ("earliest", "longest", "source")
DEFAULT_RELATIONS = (DUPLICATE, EXCERPT)
PASSAGE_CHARS = 300   # longest shared passage, as a spreadsheet cell shows it


@dataclass(frozen=True)
class Cluster:
    id: int
    members: tuple[str, ...]       # document ids, representative first
    family_id: int                 # the story family holding it (see ``family_ids``)

    @property
    def representative(self) -> str:
        return self.members[0]


@dataclass(frozen=True)
class Deduplication:
    """Each document's cluster and the one kept per cluster."""

    clusters: tuple[Cluster, ...]
    keep: str
    relations: tuple[str, ...]

    def cluster_of(self) -> dict[str, Cluster]:
        return {doc_id: c for c in self.clusters for doc_id in c.members}

    @property
    def representatives(self) -> list[str]:
        return [c.representative for c in self.clusters]


def check_options(keep: str, relations: Iterable[str]) -> tuple[str, ...]:
    """Validate at the boundary; returns ``relations`` as a tuple."""
    if keep not in KEEP_RULES:
        raise ValueError(f"keep must be one of {', '.join(KEEP_RULES)}, got {keep!r}")
    relations = tuple(relations)
    unknown = [r for r in relations if r not in RELATIONS]
    if unknown or not relations:
        raise ValueError(f"relations must be some of {', '.join(RELATIONS)}, got {', '.join(relations) or 'none'}")
    return relations


def deduplicate(report: ScanReport, keep: str = "earliest",
                relations: Iterable[str] = DEFAULT_RELATIONS) -> Deduplication:
    """Clusters of documents joined by ``relations``, each with its representative first."""
    relations = check_options(keep, relations)
    joined = connected_components((p.a, p.b) for p in report.pairs if p.relation in relations)
    grouped = {doc_id for members in joined for doc_id in members}
    groups = sorted(joined, key=lambda m: (-len(m), m)) + [[d.id] for d in report.documents if d.id not in grouped]
    families = family_ids(report)
    order = representative_order(report, keep, relations)
    clusters = tuple(Cluster(n, tuple(sorted(members, key=order)), families[members[0]])
                     for n, members in enumerate(groups))
    return Deduplication(clusters, keep, relations)


def family_ids(report: ScanReport) -> dict[str, int]:
    """Each document's story family: its index in ``report.families``; a document in no
    family is a family of its own, numbered after them in id order."""
    ids = {node: n for n, family in enumerate(report.families) for node in family}
    alone = [d.id for d in report.documents if d.id not in ids]
    ids.update((doc_id, len(report.families) + n) for n, doc_id in enumerate(alone))
    return ids


def representative_order(report: ScanReport, keep: str, relations: Sequence[str] = DEFAULT_RELATIONS
                         ) -> Callable[[str], tuple]:
    """Sort key putting the document to keep first, by rule ``keep`` (see the module doc).
    Only derivation edges of ``relations`` count: they are the ones inside a cluster."""
    documents = {d.id: d for d in report.documents}
    inside = [e for e in report.edges if e.relation in relations and e.parent in documents]
    children = Counter(e.parent for e in inside)   # members derived from this document
    derived = {e.child for e in inside}

    def earliest(doc: Document) -> tuple:
        date = parse_date(doc.date)
        return (date is None, date or 0)

    def longest(doc: Document) -> tuple:
        return (-len(doc.text),)

    def source(doc: Document) -> tuple:
        return (doc.id in derived, -children[doc.id])

    rules = {"earliest": (earliest, longest), "longest": (longest, earliest), "source": (source, earliest, longest)}

    def key(doc_id: str) -> tuple:
        doc = documents[doc_id]
        return tuple(part for rule in rules[keep] for part in rule(doc)) + (doc_id,)
    return key


# --- rows --------------------------------------------------------------------

PAIR_COLUMNS = ("a", "b", "relation", "direction", "confidence", "family_id", "jaccard", "containment_a_in_b",
                "containment_b_in_a", "aligned_a", "aligned_b", "similarity", "passages", "passage_words",
                "aligned_sentences", "longest_passage", "evidence")
DOCUMENT_COLUMNS = ("id", "title", "date", "url", "source", "path", "chars", "family_id", "cluster_id",
                    "cluster_size", "is_representative", "representative")


def pair_rows(report: ScanReport) -> list[dict[str, Any]]:
    """One flat row per pair (the JSON report has the passages and alignments in full)."""
    families = family_ids(report)
    rows = []
    for p in report.pairs:
        longest = p.longest_passage()
        rows.append({
            **{k: v for k, v in p.to_json().items() if k in PAIR_COLUMNS},
            "family_id": families[p.a],
            "passages": len(p.passages),
            "passage_words": sum(x.words for x in p.passages),
            "aligned_sentences": len(p.alignments),
            "longest_passage": excerpt(longest.text, PASSAGE_CHARS) if longest else "",
            "evidence": "; ".join(p.evidence),
        })
    return [{c: row[c] for c in PAIR_COLUMNS} for row in rows]


def document_rows(report: ScanReport, deduplication: Deduplication) -> list[dict[str, Any]]:
    """One row per document: its metadata, story family, cluster and whether it is kept."""
    families = family_ids(report)
    clusters = deduplication.cluster_of()
    rows = []
    for doc in report.documents:
        cluster = clusters[doc.id]
        meta = doc.to_json()
        rows.append({**{k: meta[k] for k in DOCUMENT_COLUMNS if k in meta},
                     "family_id": families[doc.id], "cluster_id": cluster.id, "cluster_size": len(cluster.members),
                     "is_representative": cluster.representative == doc.id,
                     "representative": cluster.representative})
    return rows


def to_pandas(report: ScanReport, keep: str = "earliest", relations: Iterable[str] = DEFAULT_RELATIONS
              ) -> tuple["pandas.DataFrame", "pandas.DataFrame"]:
    """(pairs, documents) as DataFrames; see ``pair_rows`` and ``document_rows``."""
    try:
        import pandas
    except ImportError:
        raise ImportError("to_pandas needs pandas: pip install 'dedup[pandas]'") from None
    deduplication = deduplicate(report, keep, relations)
    pairs = pandas.DataFrame(pair_rows(report), columns=list(PAIR_COLUMNS))
    documents = pandas.DataFrame(document_rows(report, deduplication), columns=list(DOCUMENT_COLUMNS))
    return pairs, documents


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """Rows as CSV text (header first), for spreadsheets."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def representative_records(report: ScanReport, deduplication: Deduplication) -> list[dict[str, Any]]:
    """What ``dedup dedupe`` writes: each kept document as a JSONL record (readable by
    ``dedup scan``) with a ``dedup`` field naming its cluster and the documents dropped."""
    records = []
    for cluster in deduplication.clusters:
        doc = report.document(cluster.representative)
        records.append({"id": doc.id, "text": doc.text, "title": doc.title, "date": doc.date, "url": doc.url,
                        "source": doc.source,
                        "dedup": {"cluster_id": cluster.id, "family_id": cluster.family_id, "keep": deduplication.keep,
                                  "dropped": list(cluster.members[1:])}})
    return records
