"""Lineage on Spark executors: the decided pairs joined with their two documents' metadata,
never every document collected to the driver.

The steps are ``lineage.LineageBuilder.build``'s own pieces, each run where its data is:

    corpus-wide facts (``OutletFacts``: host -> outlet name, outlets present, names domains spell):
        one small reduce each over the documents, collected and broadcast (one entry per outlet)
    each document's ``Credited`` (its ``Reading``, outlet, wire, credits, absent ones):
        ``LineageBuilder.credit`` on the executor that keeps its analysis (text dropped after)
    each pair's direction: the pair joined with its two documents' ``Credited`` -> ``directed``
    siblings of a common parent: each pair joined with its two documents' parents -> ``sibling_check``
    edges: ``pair_edge`` of each pair, ``source_edges`` of each document
    absent sources: the documents' absent credits grouped by name (collected: one per outlet)
    origins: each document's edges, siblings evidence and outlet cogrouped -> ``origin_of``

"First" and "last" document in ``build`` are by the order it is given, which the scanner makes
the id order; here they are the smallest and largest id, so the answers are the local engine's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pyspark import RDD, StorageLevel

from ..lineage import (SIBLINGS, Credited, Lineage, LineageBuilder, OutletFacts, Reading, cited_source, origin_of,
                       pair_edge, parent_links, sibling_check, source_edges, spelled_label, substantive)
from ..records import Pair, Source
from ..settings import LineageSettings

SPILL = StorageLevel.MEMORY_AND_DISK


def outlet_facts(builder: LineageBuilder, documents) -> OutletFacts:
    """``LineageBuilder.outlet_facts`` over an RDD of (id, Document): each fact a reduce by key,
    the first document the smallest id, the last the largest."""
    named = dict(documents.flatMap(lambda kv: _keyed(builder.host_name(kv[1]), kv[0]))
                 .reduceByKey(min).mapValues(lambda found: found[1]).collect())
    outlets = documents.mapValues(lambda d: (d, builder.outlet(d, named)))
    present = outlets.values().map(lambda found: found[1]).filter(bool).distinct().collect()
    spelled = dict(outlets.flatMap(lambda kv: _keyed((spelled_label(*kv[1]), kv[1][1]), kv[0]))
                   .reduceByKey(max).mapValues(lambda found: found[1]).collect())
    return OutletFacts(named, frozenset(present), spelled)


def _keyed(found: tuple[str | None, str] | None, doc_id: str) -> list[tuple[str, tuple[str, str]]]:
    """(key, (document id, value)) when ``found`` is a (key, value) with a key, else nothing."""
    return [(found[0], (doc_id, found[1]))] if found and found[0] else []


def credited_documents(builder: LineageBuilder, analyses, facts) -> "RDD[tuple[str, Credited]]":
    """(id, Credited) of each kept analysis; the text, read once here, is not carried further
    (no per-pair or per-document step after reads it)."""
    def credit(analysis) -> Credited:
        document = analysis.document
        reading = Reading.of(builder.matcher, document, analysis.evidence_text)
        return builder.credit(replace(document, text=""), reading, facts.value)

    return analyses.mapValues(credit)


def directed_pairs(builder: LineageBuilder, pairs, credited, partitions: int):
    """Each pair with its direction (``LineageBuilder.directed``), then as siblings where both its
    documents derive from a third (``sibling_check``): joins, one document side at a time."""
    by_a = pairs.map(lambda p: (p.a, p)).join(credited, partitions)
    by_b = by_a.map(lambda kv: (kv[1][0].b, kv[1])).join(credited, partitions)
    directed = by_b.map(lambda kv: builder.directed(kv[1][0][0], kv[1][0][1], kv[1][1])).persist(SPILL)
    parents = (directed.mapPartitions(parent_links).map(lambda link: (link[0], (link[1], link[2])))
               .groupByKey(partitions).mapValues(dict))
    with_a = directed.map(lambda p: (p.a, p)).leftOuterJoin(parents, partitions)
    with_b = with_a.map(lambda kv: (kv[1][0].b, (kv[1][0], kv[1][1] or {}))).leftOuterJoin(parents, partitions)
    return with_b.map(lambda kv: sibling_check(kv[1][0][0], kv[1][0][1], kv[1][1] or {}))


def absent_source_rows(credited) -> "RDD[Source]":
    """The absent sources, each with the documents crediting it (``lineage.cited_source``, as
    ``build``): an RDD of ``Source``."""
    return credited.flatMap(lambda kv: [(name, kv[0]) for name in kv[1].absent]).groupByKey().map(
        lambda kv: cited_source(*kv))


def origins(credited, directed, to_sources, names, share: float):
    """(``origin_of``) each document's kind and strongest parent, from its own edges cogrouped."""
    outlets = credited.mapValues(lambda c: c.outlet)
    to_documents = directed.flatMap(lambda p: [(e.child, e) for e in [pair_edge(p)] if e and substantive(p, share)])
    siblings = directed.filter(lambda p: p.direction == SIBLINGS and substantive(p, share)).flatMap(
        lambda p: [(doc, ((p.a, p.b), " ".join(p.evidence))) for doc in (p.a, p.b)])

    def origin(kv):
        doc_id, (outlet, parents, cited, told) = kv
        by_parent = lambda e: e.parent   # noqa: E731 - build's edges come sorted by (child, parent)
        return origin_of(doc_id, next(iter(outlet)), sorted(parents, key=by_parent), sorted(cited, key=by_parent),
                         "".join(text for _, text in sorted(told)), names.value)

    return outlets.groupWith(to_documents, to_sources, siblings).map(origin)


@dataclass
class ExecutorLineage:
    """``LineageBuilder.build``'s answer kept on the executors: the directed pairs, the absent
    sources, the derivation edges, each an RDD (``unpersist`` when read)."""

    credited: RDD
    pairs: RDD
    sources: RDD
    to_sources: RDD
    edges: RDD

    def unpersist(self) -> None:
        for kept in (self.credited, self.pairs, self.sources, self.to_sources):
            kept.unpersist()


def executor_lineage(settings: LineageSettings, analyses, pairs, partitions: int) -> ExecutorLineage:
    """``LineageBuilder.build``'s pairs, sources and edges for the RDD of ``pairs`` over the kept
    ``analyses`` ((id, DocumentAnalysis) on the executors), nothing collected but the corpus-wide
    outlet facts (one entry per outlet)."""
    sc = analyses.context
    builder = LineageBuilder(settings)
    metadata = analyses.mapValues(lambda a: replace(a.document, text="")).persist(SPILL)   # read 3 times, kept small
    facts = sc.broadcast(outlet_facts(builder, metadata))
    metadata.unpersist()
    credited = credited_documents(builder, analyses, facts).persist(SPILL)
    directed = directed_pairs(builder, pairs, credited, partitions).persist(SPILL)
    to_sources = credited.values().flatMap(source_edges).map(lambda e: (e.child, e)).persist(SPILL)
    edges = directed.map(pair_edge).filter(bool).union(to_sources.values())
    return ExecutorLineage(credited, directed, absent_source_rows(credited).persist(SPILL), to_sources, edges)


def distributed_lineage(settings: LineageSettings, analyses, pairs: list[Pair], partitions: int) -> Lineage:
    """``LineageBuilder.build``'s answer for ``pairs`` over the kept ``analyses`` ((id,
    DocumentAnalysis) on the executors): pairs, sources, edges and origins, collected for the
    report; families are left to the engine's connected components."""
    sc = analyses.context
    found = executor_lineage(settings, analyses, sc.parallelize(pairs, partitions), partitions)
    sources = sorted(found.sources.collect(), key=lambda s: s.name)
    names = sc.broadcast({s.id: s.name for s in sources})
    told = origins(found.credited, found.pairs, found.to_sources, names, settings.family_min_share).collect()
    lineage = Lineage(tuple(sorted(found.pairs.collect(), key=lambda p: (p.a, p.b))), (), tuple(sources),
                      tuple(sorted(found.edges.collect(), key=lambda e: (e.child, e.parent))),
                      origins=tuple(sorted(told, key=lambda o: o.document)))
    found.unpersist()
    return lineage
