"""Widely shared passages on Spark executors: what ``passages.SharedPassageFinder.fit`` learns and
what ``SharedPassages.filter`` takes out of each pair, without the driver holding any analysis.

The answer is the local finder's, made of its own pieces; this module only decides where each
runs and what is shuffled:

    each document's shingle hashes, with its number (id order), as arrays by hash partition
    per hash partition: ``passages.carried_widely`` (hashes at least ``shared_min_docs``
    documents carry) and ``same_carrier_groups``       -> (carriers, hashes) partial groups
    a group's hashes gathered from every partition (reduceByKey on its carriers), kept if long
    enough (``SharedPassageFinder.passage_candidates``)
    copy groups: connected components (``components.connected_components``) of the verbatim pairs
    sharing ``copy_share`` of either document; each candidate's carriers joined with them and
    their copy groups counted; ``SharedPassageFinder.widely_shared``   -> the few groups, to the driver
    each widely shared group's carriers' analyses: ``passages._longest_runs`` where they are kept
    -> spans, to the driver, merged there (``SharedPassageFinder.learned``: few groups), each
    merged group's carriers described where they are kept (``passages.carrier_span``)
    the learned ``SharedPassages`` broadcast; each verbatim pair joined with its two analyses,
    ``SharedPassages.filter_pair``       -> (key, ``FilteredPair``), tallied on the driver
"""

from __future__ import annotations

from operator import add
from typing import Iterable, Iterator

import numpy as np

from ..core import DocumentAnalysis, PairEvidence
from ..passages import (CarrierSpan, FilteredPair, SharedPassageFinder, SharedPassages, _longest_runs, carried_widely,
                        carrier_span, describe, same_carrier_groups)
from .components import connected_components
from .spark import SPILL, by_part, named_analyses

SHINGLES_PER_PARTITION = 1_000_000   # postings per hash partition (about 12 MB of arrays)


def shingle_postings(items: Iterable[tuple[int, np.ndarray]], parts: int) -> Iterator[tuple[int, tuple]]:
    """A partition's (document number, shingle hashes) as keys ``hash << 32 | number`` split by hash
    partition (hash modulo ``parts``): a few arrays per pair of partitions, not a row per shingle."""
    keys = [np.asarray(shingles, dtype=np.uint64) << np.uint64(32) | np.uint64(number) for number, shingles in items]
    if keys:
        keys = np.concatenate(keys)
        yield from by_part(((keys >> np.uint64(32)) % np.uint64(parts)).astype(np.int64), parts, keys)


def carrier_groups(chunks: Iterable[tuple[int, tuple[np.ndarray]]], min_docs: int
                   ) -> Iterator[tuple[tuple[int, ...], np.ndarray]]:
    """One hash partition's groups of shingles with exactly the same carriers (every key of each
    of its hashes is here): the local finder's ``carried_widely`` and ``same_carrier_groups``."""
    keys = [chunk for _, (chunk,) in chunks]
    if keys:
        yield from same_carrier_groups(*carried_widely(np.concatenate(keys), min_docs))


def runs_partition(items: Iterable[tuple[int, DocumentAnalysis]], wide: list, k: int) -> Iterator[tuple[int, int, tuple]]:
    """(group, carrier, (first token, last token)) of the partition's carriers: ``_longest_runs`` on
    the analyses kept here (a carrier's runs depend on its own shingles only)."""
    local = dict(items)
    groups = [(tuple(d for d in carriers if d in local), shingles) for carriers, shingles, _ in wide]
    if not any(carriers for carriers, _ in groups):
        return
    for g, spans in enumerate(_longest_runs(local, groups, k)):
        for d, span in spans.items():
            yield g, d, span


def widely_shared(finder: SharedPassageFinder, items: Iterable[tuple[tuple[int, ...], tuple[np.ndarray, int]]]
                  ) -> list[tuple[tuple[int, ...], np.ndarray, int]]:
    """``SharedPassageFinder.widely_shared`` of a partition's (carriers, (hashes, copy groups))."""
    items = list(items)
    count = {carriers: n for carriers, (_, n) in items}
    return finder.widely_shared(((carriers, hashes) for carriers, (hashes, _) in items), count.__getitem__)


class DistributedSharedPassages:
    """``SharedPassageFinder.fit`` and ``SharedPassages.filter`` on the executors of ``engine``
    (a ``SparkEngine`` whose ``ids`` number the documents in id order)."""

    def __init__(self, engine, finder: SharedPassageFinder) -> None:
        self.engine = engine
        self.finder = finder
        self.counts: dict[str, int] = {}

    @property
    def sc(self):
        return self.engine.session().sparkContext

    def fit(self, analyses, verbatim) -> SharedPassages:
        """What the local finder learns from all analyses and the verbatim pairs (an RDD of
        ``PairEvidence``); the driver is sent the few widely shared groups and their carriers' spans."""
        finder, partitions, ids = self.finder, self.engine.partitions, self.engine.ids
        numbers = ids.map(lambda kv: (kv[1], kv[0]))   # number -> id
        candidates = self.candidates(analyses, ids).persist(SPILL)
        roots = connected_components(verbatim.filter(finder.joins_copies).map(lambda ev: (ev.a, ev.b)), partitions)
        groups = (candidates.keys().flatMap(lambda carriers: ((d, carriers) for d in carriers))
                  .join(numbers, partitions).map(lambda kv: (kv[1][1], kv[1][0]))   # (id, carriers)
                  .leftOuterJoin(roots, partitions).map(lambda kv: (kv[1][0], kv[1][1] or kv[0]))
                  .distinct(partitions).mapValues(lambda _: 1).reduceByKey(add, partitions))
        wide = (candidates.join(groups, partitions)
                .mapPartitions(lambda items: widely_shared(finder, items)))
        wide = sorted(self.engine.measured(wide, "shared_passages").collect(), key=lambda w: int(w[1][0]))
        self.counts.update(passage_candidates=candidates.count(), widely_shared_groups=len(wide))
        candidates.unpersist()
        if not wide:
            return finder.learned([], lambda groups: [])
        wanted = self.sc.broadcast({d for carriers, _, _ in wide for d in carriers})
        carriers = (ids.filter(lambda kv: kv[1] in wanted.value).join(analyses, partitions).values()
                    .persist(SPILL))   # (number, analysis) of the carriers only
        shared_wide, k = self.sc.broadcast(wide), finder.k
        runs = self.engine.measured(carriers.mapPartitions(lambda items: runs_partition(items, shared_wide.value, k)),
                                    "shared_passages").collect()
        spans: list[dict[int, tuple[int, int]]] = [{} for _ in wide]
        for g, d, span in sorted(runs):
            spans[g][d] = span
        learned = finder.learned(finder.found(wide, spans), lambda groups: self.describe_all(carriers, groups))
        carriers.unpersist()
        return learned

    def candidates(self, analyses, ids):
        """(carriers, hashes) of every group of shingles long enough to be a passage that at least
        ``shared_min_docs`` documents carry (``SharedPassageFinder.candidates``, by hash partition)."""
        finder, partitions = self.finder, self.engine.partitions
        shingles = analyses.mapValues(lambda a: a.fingerprint.shingles).join(ids, partitions).values()
        total = shingles.map(lambda sn: len(sn[0])).sum()
        parts = max(partitions, int(-(-total // SHINGLES_PER_PARTITION)))
        self.counts["shingle_partitions"] = parts
        min_docs = finder.min_docs
        return (shingles.map(lambda sn: (sn[1], sn[0])).mapPartitions(lambda items: shingle_postings(items, parts))
                .partitionBy(parts, lambda part: part).mapPartitions(lambda chunks: carrier_groups(chunks, min_docs))
                .reduceByKey(lambda x, y: np.concatenate([x, y]), partitions).mapValues(np.sort)
                .mapPartitions(lambda items: finder.passage_candidates(items).items()))

    def describe_all(self, carriers, groups) -> list:
        """``passages.describe`` of each merged group, its carriers' spans made where they are kept."""
        wanted: dict[int, list[tuple[int, int, int]]] = {}
        for g, group in enumerate(groups):
            for d, (first, last) in group.spans.items():
                wanted.setdefault(d, []).append((g, first, last))
        shared = self.sc.broadcast(wanted)
        found = carriers.flatMap(lambda na: [(g, na[0], carrier_span(na[1], first, last))
                                             for g, first, last in shared.value.get(na[0], ())])
        by_group: list[list[tuple[int, CarrierSpan]]] = [[] for _ in groups]
        for g, d, span in self.engine.measured(found, "shared_passages").collect():
            by_group[g].append((d, span))
        return [describe(group, [span for _, span in sorted(spans, key=lambda ds: ds[0])])
                for group, spans in zip(groups, by_group)]

    def filtered(self, shared: SharedPassages, pairs, analyses):
        """(key, ``FilteredPair``) of every (key, ``PairEvidence``) of ``pairs``: each pair joined with
        its two analyses, ``SharedPassages.filter_pair`` where they are kept.  No passage learned:
        every pair as it is (``SharedPassages.filter``'s shortcut)."""
        if not len(shared.hashes):
            return pairs.mapValues(FilteredPair)
        # A pair loses nothing unless its first document carries a widely shared shingle, and every
        # document that does is one of the passages' carriers: only those pairs are joined with
        # their analyses, and only the analyses they need are shuffled (all of them were: 250 MiB at 10k).
        carriers = self.sc.broadcast(frozenset(d for p in shared.passages for d in p.documents))
        touched = pairs.filter(lambda kv: kv[1].a in carriers.value).persist(SPILL)
        needed = named_analyses(analyses, touched.flatMap(lambda kv: (kv[1].a, kv[1].b))).persist(SPILL)
        partitions, broadcast = self.engine.partitions, self.sc.broadcast(shared)
        second = (touched.map(lambda kv: (kv[1].b, kv)).join(needed, partitions)
                  .map(lambda kv: (kv[1][0][1].a, (kv[1][0], kv[1][1]))))   # a: ((key, evidence), analysis b)
        grouped = second.groupByKey(partitions).join(needed, partitions)
        untouched = pairs.filter(lambda kv: kv[1].a not in carriers.value).mapValues(FilteredPair)
        return untouched.union(grouped.flatMap(lambda kv: filter_all(broadcast.value, kv[1][1], kv[1][0])))


def filter_all(shared: SharedPassages, a: DocumentAnalysis, pairs: Iterable[tuple[tuple[tuple, PairEvidence],
               DocumentAnalysis]]) -> list[tuple[tuple, FilteredPair]]:
    """``SharedPassages.filter_pair`` of each of ``a``'s pairs (``a`` is their first document)."""
    spans = shared.spans([a])
    return [(key, shared.filter_pair(spans, 0, a, b, evidence)) for (key, evidence), b in pairs]
