"""Widely shared passages: text that many otherwise unrelated documents carry.

A president's statement quoted by a hundred outlets, a speech line, a promo that a
chain of papers prints under every story: such a passage links every article that
carries it to every other, yet none of them took its story from another.  So it is
a finding of its own, reported once (its text, the documents carrying it, the
earliest), and it is not evidence that two documents are related.

The rule, learned per corpus (``ChromeSettings``):

- a *passage* is a set of shingles (``shingle_size`` words) carried by exactly the
  same documents, spanning at least ``min_passage_words`` words;
- documents that share at least ``copy_share`` of either one verbatim are one *copy
  group* (a wire story and its reprints, an article and its excerpts);
- a passage carried by at least ``shared_min_docs`` documents from at least
  ``shared_min_groups`` copy groups is *widely shared*: more documents carry it than
  copying explains.  Copies of one story, however many, are one copy group, so the
  text they share stays evidence.

``SharedPassages.filter`` then takes such passages out of each pair's verbatim
evidence (a passage at least half made of widely shared shingles), recomputes the
containment from what is left, does the same with aligned sentences (a shared quote
aligns with itself in every carrier), and drops pairs left with nothing, counting them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

import numpy as np

from .arrays import distinct, locate, runs
from .align import Overlap
from .settings import ChromeSettings

if TYPE_CHECKING:
    from .core import DocumentAnalysis, PairEvidence
    from .paraphrase import SentenceEvidence

# A pair's passage made at least this much of widely shared shingles is that passage, not evidence.
SHARED_PASSAGE_SHARE = 0.5


@dataclass(frozen=True)
class SharedPassage:
    """A passage many otherwise unrelated documents carry, reported once."""

    text: str                                 # as it reads in the earliest carrier (original punctuation)
    documents: tuple[str, ...]                # every document that carries it
    earliest: str                             # the carrier published first (else the first by id)
    spans: tuple[tuple[str, int, int], ...]   # (document, start, end): where it is in each carrier
    words: int
    copy_groups: int                          # how many copy groups carry it (why it is widely shared)
    pairs_dropped: int = 0                    # pairs whose only shared text was this passage

    def to_json(self) -> dict:
        return {"text": self.text, "words": self.words, "earliest": self.earliest,
                "documents": list(self.documents), "copy_groups": self.copy_groups,
                "pairs_dropped": self.pairs_dropped,
                "spans": [{"document": d, "start": s, "end": e} for d, s, e in self.spans]}


@dataclass(frozen=True)
class FilteredPair:
    """One pair after ``SharedPassages.filter_pair``: its evidence without widely shared passages
    (None: nothing left, the pair is dropped), the passages it lost (their numbers) and whether
    only aligned sentences are left of it (``emptied``: counted unless they make a pair)."""

    evidence: "PairEvidence | None"
    lost: frozenset[int] = frozenset()
    emptied: bool = False


@dataclass
class SharedPassages:
    """What ``SharedPassageFinder.fit`` learned: the passages and their shingles."""

    passages: list[SharedPassage] = field(default_factory=list)
    hashes: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.uint32))   # sorted, unique
    shingle_size: int = 5
    _group_of_hash: dict[int, int] = field(default_factory=dict, repr=False)
    pairs_dropped: int = 0   # pairs whose only shared text was widely shared (one pair may share several)
    _emptied: dict[tuple[str, str], set[int]] = field(default_factory=dict, repr=False)

    def filter(self, evidence: dict[tuple[int, int], "PairEvidence"],
               analyses: Sequence["DocumentAnalysis"]) -> dict[tuple[int, int], "PairEvidence"]:
        """Each pair's evidence without widely shared passages; pairs left with nothing (and no
        aligned sentences) are dropped and counted on the passage they shared."""
        if not len(self.hashes):
            return evidence
        spans = self.spans(analyses)
        return self.tally(((i, j), self.filter_pair(spans, i, analyses[i], analyses[j], ev))
                          for (i, j), ev in evidence.items())

    def filter_pair(self, spans: "_ShingleSpans", i: int, a: "DocumentAnalysis", b: "DocumentAnalysis",
                    ev: "PairEvidence") -> "FilteredPair":
        """One pair's evidence without widely shared passages (``spans``: of the analyses, ``i`` is
        ``a``'s index there): the rule for one pair, wherever it runs (the Spark engine's executors
        call it per pair, ``filter`` per corpus)."""
        if ev.sentences is not None:
            ev = replace(ev, sentences=self._without_shared_sentences(spans, i, ev.sentences))
        passages = ev.overlap.passages
        own = [p for p in passages if not self._is_shared(spans, i, p.a_start, p.a_end)]
        if len(own) == len(passages):
            return FilteredPair(ev)
        groups = frozenset(self._group(spans, i, p.a_start, p.a_end) for p in passages if p not in own)
        if own or ev.sentences is not None:
            return FilteredPair(replace(ev, overlap=_overlap_of(own, a, b, ev.overlap.jaccard)), groups, not own)
        return FilteredPair(None, groups)

    def tally(self, filtered: "Iterable[tuple[tuple, FilteredPair]]") -> dict[tuple, "PairEvidence"]:
        """The kept evidence of ``filtered`` (key, ``filter_pair``'s answer) in their order; the
        dropped pairs counted on the passages they shared, the emptied ones kept for ``settle``."""
        kept: dict[tuple, "PairEvidence"] = {}
        dropped_by: dict[int, int] = defaultdict(int)
        pairs = 0
        for key, found in filtered:
            if found.evidence is not None:
                kept[key] = found.evidence
                if found.emptied:   # only aligned sentences are left: counted if they do not make a pair
                    self._emptied[(found.evidence.a, found.evidence.b)] = set(found.lost)
                continue
            pairs += 1
            for group in found.lost:
                dropped_by[group] += 1
        self.count_dropped(dropped_by, pairs)
        return kept

    def _without_shared_sentences(self, spans: "_ShingleSpans", doc: int, found: "SentenceEvidence"):
        """The sentence alignment without sentences that lie in a widely shared passage (the quoted
        statement itself says nothing about who retold whom); shares scaled to what is left."""
        keep = [al for al in found.alignments if not self._is_shared(spans, doc, al.a_start, al.a_end)]
        if len(keep) == len(found.alignments):
            return found
        left = len(keep) / len(found.alignments)
        return replace(found, alignments=tuple(keep), aligned_a=found.aligned_a * left,
                       aligned_b=found.aligned_b * left,
                       evidence=found.evidence + (f"{len(found.alignments) - len(keep)} aligned sentences lie in "
                                                  f"widely shared passages: not counted",))

    def settle(self, decided: set[tuple[str, str]]) -> None:
        """Count the pairs whose only verbatim text was widely shared and whose aligned sentences
        did not make them a pair either (``decided``: the pairs the decision step kept)."""
        dropped_by: dict[int, int] = defaultdict(int)
        lost = [groups for key, groups in self._emptied.items() if key not in decided]
        for groups in lost:
            for group in groups:
                dropped_by[group] += 1
        self._emptied.clear()
        self.count_dropped(dropped_by, len(lost))

    def count_dropped(self, dropped_by: dict[int, int], pairs: int) -> None:
        """Add ``pairs`` to the pairs dropped as shared and ``dropped_by[n]`` to passage ``n``'s (the
        Spark engine counts its pairs on the executors and adds them here)."""
        self.passages = [replace(p, pairs_dropped=p.pairs_dropped + dropped_by.get(n, 0))
                         for n, p in enumerate(self.passages)]
        self.pairs_dropped += pairs

    def spans(self, analyses: Sequence["DocumentAnalysis"]) -> "_ShingleSpans":
        """What ``filter_pair`` reads of the analyses (``i`` indexes them)."""
        return _ShingleSpans(analyses, self.shingle_size)

    def _is_shared(self, spans: "_ShingleSpans", doc: int, start: int, end: int) -> bool:
        hashes = spans.inside(doc, start, end)
        return bool(len(hashes)) and locate(hashes, self.hashes)[1].mean() >= SHARED_PASSAGE_SHARE

    def _group(self, spans: "_ShingleSpans", doc: int, start: int, end: int) -> int:
        """The widely shared passage most of this stretch belongs to."""
        votes: dict[int, int] = defaultdict(int)
        for h in spans.inside(doc, start, end).tolist():
            if h in self._group_of_hash:
                votes[self._group_of_hash[h]] += 1
        return max(votes, key=votes.get) if votes else -1


class SharedPassageFinder:
    """Learns the widely shared passages of a corpus (parameters: ``ChromeSettings``)."""

    def __init__(self, settings: ChromeSettings | None = None, *, min_passage_words: int = 10,
                 shingle_size: int = 5) -> None:
        s = settings or ChromeSettings()
        self.min_docs = s.shared_min_docs
        self.min_groups = s.shared_min_groups
        self.copy_share = s.copy_share
        self.k = shingle_size
        self.min_shingles = max(1, min_passage_words - shingle_size + 1)

    def fit(self, analyses: Sequence["DocumentAnalysis"],
            evidence: dict[tuple[int, int], "PairEvidence"]) -> SharedPassages:
        group = np.asarray(self.copy_groups(len(analyses), evidence), dtype=np.int64)
        wide = self.widely_shared(self.candidates(analyses).items(),
                                  lambda carriers: len(distinct(group[list(carriers)])))
        spans = _longest_runs(analyses, [(carriers, shingles) for carriers, shingles, _ in wide], self.k)
        return self.learned(self.found(wide, spans), lambda groups: [describe(g, [
            carrier_span(analyses[d], t0, t1) for d, (t0, t1) in sorted(g.spans.items())]) for g in groups])

    def widely_shared(self, candidates: Iterable[tuple[tuple[int, ...], np.ndarray]],
                      copy_groups: Callable[[tuple[int, ...]], int]) -> list[tuple[tuple[int, ...], np.ndarray, int]]:
        """(carriers, shingles, copy groups) of the ``candidates`` whose carriers come from at least
        ``min_groups`` copy groups (``copy_groups``: how many the carriers come from), in their order."""
        return [(carriers, shingles, groups) for carriers, shingles in candidates
                if (groups := copy_groups(carriers)) >= self.min_groups]

    @staticmethod
    def found(wide: Sequence[tuple[tuple[int, ...], np.ndarray, int]],
              spans: Sequence[dict[int, tuple[int, int]]]) -> list["_Group"]:
        """The widely shared groups with their carriers' spans (``_longest_runs``, one per group)."""
        return [_Group(found, shingles, groups) for found, (_, shingles, groups) in zip(spans, wide)]

    def learned(self, found: list["_Group"], describe_all: Callable[[list["_Group"]], list[SharedPassage]]
                ) -> SharedPassages:
        """The passages of the ``found`` groups, adjacent ones merged, described by ``describe_all``
        (one ``describe`` per group, wherever their carriers are), the most widely shared first."""
        merged = _merge_adjacent(found, self.k)
        described = list(zip(describe_all(merged), merged))
        described.sort(key=lambda pg: (-len(pg[0].documents), pg[0].text))   # most widely shared first
        group_of_hash = {h: n for n, (_, g) in enumerate(described) for h in g.shingles.tolist()}
        hashes = distinct(np.concatenate([g.shingles for _, g in described])) if described \
            else np.empty(0, dtype=np.uint32)
        return SharedPassages([p for p, _ in described], hashes, self.k, group_of_hash)

    def candidates(self, analyses: Sequence["DocumentAnalysis"]) -> dict[tuple[int, ...], np.ndarray]:
        """Shingles carried by at least ``min_docs`` documents, grouped by exactly which documents
        carry them (in the order of each group's smallest hash); groups too short to be a passage
        are left out."""
        return self.passage_candidates(same_carrier_groups(*_carriers(analyses, self.min_docs)))

    def passage_candidates(self, groups: Iterable[tuple[tuple[int, ...], np.ndarray]]
                           ) -> dict[tuple[int, ...], np.ndarray]:
        """The groups of shingles (carriers, hashes) long enough to be a passage, in their order."""
        return {carriers: hashes for carriers, hashes in groups if len(hashes) >= self.min_shingles}

    def copy_groups(self, n: int, evidence: dict[tuple[int, int], "PairEvidence"]) -> list[int]:
        """A copy-group number per document: documents joined by pairs sharing ``copy_share`` of
        either one verbatim."""
        parent = list(range(n))

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for (i, j), ev in evidence.items():
            if self.joins_copies(ev):
                parent[find(i)] = find(j)
        return [find(x) for x in range(n)]

    def joins_copies(self, ev: "PairEvidence") -> bool:
        """Whether a verbatim pair puts its two documents in one copy group (``copy_groups``; the
        Spark engine's connected components): it shares ``copy_share`` of either one."""
        return max(ev.overlap.containment_a_in_b, ev.overlap.containment_b_in_a) >= self.copy_share


@dataclass(frozen=True)
class CarrierSpan:
    """Where a passage lies in one carrier (``carrier_span``): what describing it needs of the carrier."""

    document: str
    start: int
    end: int
    time: object   # ``lineage.document_time``'s first value: when it was published (None: unknown)
    text: str      # the passage as this carrier prints it


def carrier_span(analysis: "DocumentAnalysis", first: int, last: int) -> CarrierSpan:
    """The passage from token ``first`` to token ``last`` of one carrier, in characters."""
    from .lineage import document_time   # dates are the lineage stage's business
    fp = analysis.fingerprint
    start, end = int(fp.token_starts[first]), int(fp.token_ends[last])
    return CarrierSpan(analysis.id, start, end, document_time(analysis.document)[0], analysis.document.text[start:end])


def describe(group: "_Group", carriers: Sequence[CarrierSpan]) -> SharedPassage:
    """A passage as reported: its text as the earliest carrier prints it (``carriers``: one
    ``carrier_span`` per carrier, in document order)."""
    dated = sorted((c.time, c.document) for c in carriers if c.time is not None)
    earliest = dated[0][1] if dated else carriers[0].document
    text = next(c for c in carriers if c.document == earliest).text
    return SharedPassage(text, tuple(sorted(c.document for c in carriers)), earliest,
                         tuple((c.document, c.start, c.end) for c in carriers), len(text.split()), group.copy_groups)


@dataclass
class _Group:
    spans: dict[int, tuple[int, int]]   # carrier -> (first token, last token)
    shingles: np.ndarray
    copy_groups: int


def _merge_adjacent(groups: list[_Group], k: int) -> list[_Group]:
    """One passage, not several: a group of shingles that most of its carriers hold right next to
    (or overlapping) a group with more carriers joins it (the lead-in to a quote that some outlets
    kept, a word one outlet changed inside it)."""
    merged: list[_Group] = []
    for g in sorted(groups, key=lambda g: (-len(g.spans), min(g.spans))):
        for m in merged:
            common = [d for d in g.spans if d in m.spans]
            touching = [d for d in common if g.spans[d][0] <= m.spans[d][1] + k and m.spans[d][0] <= g.spans[d][1] + k]
            if common and len(touching) * 2 >= len(g.spans):
                for d, (t0, t1) in g.spans.items():
                    old = m.spans.get(d)
                    m.spans[d] = (min(t0, old[0]), max(t1, old[1])) if old and d in touching else old or (t0, t1)
                m.shingles = np.union1d(m.shingles, g.shingles)
                m.copy_groups = max(m.copy_groups, g.copy_groups)
                break
        else:
            merged.append(_Group(dict(g.spans), g.shingles, g.copy_groups))
    return merged


CARRIER_SLICES = 8   # the hash space is sorted this many slices at a time: the transient arrays are that much smaller


def _carriers(analyses: Sequence["DocumentAnalysis"], min_docs: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Every distinct (shingle hash, document) pair of the corpus whose hash at least ``min_docs``
    documents carry, sorted by hash, then document: sorts of 64-bit keys (hash above, document
    below), not a sort per document, made one slice of the hash space at a time (most shingles
    are carried by one story and are dropped slice by slice, so the corpus's shingles are never
    held as several 64-bit copies at once)."""
    lengths = np.fromiter((len(a.fingerprint.shingles) for a in analyses), dtype=np.int64, count=len(analyses))
    if not lengths.sum():
        return np.empty(0, dtype=np.uint32), np.empty(0, dtype=np.int64)
    hashes = np.concatenate([a.fingerprint.shingles for a in analyses]).astype(np.uint32, copy=False)
    ends = np.cumsum(lengths)
    found_hashes, found_docs = [], []
    bounds = np.linspace(0, 2 ** 32, CARRIER_SLICES + 1).astype(np.uint64)
    for low, high in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        at = np.flatnonzero((hashes >= low) & (hashes < high) if high < 2 ** 32 else hashes >= low)
        keys = hashes[at].astype(np.uint64) << np.uint64(32)
        keys |= np.searchsorted(ends, at, side="right").astype(np.uint64)   # the document each shingle is in
        del at
        slice_hashes, slice_docs = carried_widely(keys, min_docs)
        found_hashes.append(slice_hashes)
        found_docs.append(slice_docs)
    return np.concatenate(found_hashes), np.concatenate(found_docs)


def carried_widely(keys: np.ndarray, min_docs: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (hash, document) pairs of ``keys`` (uint64: shingle hash above, document number
    below) whose hash at least ``min_docs`` documents carry, as (hashes, documents) sorted by hash,
    then document.  Every hash's keys must be there (one slice of the hash space: the local scan's,
    or one partition of the Spark engine's)."""
    keys = distinct(keys)
    hashes = (keys >> np.uint64(32)).astype(np.uint32)
    starts, counts = runs(hashes)
    wide = np.repeat(counts >= min_docs, counts)
    return hashes[wide], (keys[wide] & np.uint64(0xFFFFFFFF)).astype(np.int64)


def same_carrier_groups(hashes: np.ndarray, docs: np.ndarray) -> list[tuple[tuple[int, ...], np.ndarray]]:
    """(carriers, hashes) for each set of documents carrying exactly the same shingles, in the order
    of each group's smallest hash (``hashes``, ``docs``: ``carried_widely``'s).  All of it on arrays:
    run lengths, labels by ``_same_carriers``."""
    starts, counts = runs(hashes)
    label = _same_carriers(docs, starts, counts)
    first = np.full(label.max(initial=-1) + 1, len(label), dtype=np.int64)
    np.minimum.at(first, label, np.arange(len(label)))   # runs are in hash order: a group's smallest hash
    sizes = np.bincount(label, minlength=len(first))
    by_label = np.argsort(label, kind="stable")           # each group's runs, hashes ascending
    bounds = np.r_[0, np.cumsum(sizes)]
    found = []
    for g in np.argsort(first, kind="stable").tolist():
        run = first[g]
        carriers = tuple(docs[starts[run]:starts[run] + counts[run]].tolist())
        found.append((carriers, hashes[starts[by_label[bounds[g]:bounds[g + 1]]]]))
    return found


def _mix64(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: well spread 64-bit values, so that sums of them rarely collide."""
    z = values.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _same_carriers(docs: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """A label per run of ``docs`` (run r: ``docs[starts[r]:starts[r] + counts[r]]``), equal for runs
    holding the same documents.  A wrapping 64-bit sum of mixed document numbers proposes the
    labels; every run is then checked element by element against its label's first run, and
    should two sets ever collide, the labels come from comparing the runs as tuples."""
    if not len(starts):
        return np.empty(0, dtype=np.int64)
    sums = np.add.reduceat(_mix64(docs), starts) ^ _mix64(counts)
    _, first, label = np.unique(sums, return_index=True, return_inverse=True)
    model = first[label.ravel()]
    if np.array_equal(counts[model], counts):
        offsets = np.arange(len(docs)) - np.repeat(starts, counts)
        if np.array_equal(docs[np.repeat(starts[model], counts) + offsets], docs):
            return label.ravel()
    labels: dict[tuple[int, ...], int] = {}
    return np.array([labels.setdefault(tuple(docs[s:s + c].tolist()), len(labels))
                     for s, c in zip(starts.tolist(), counts.tolist())], dtype=np.int64)


def _longest_runs(analyses: Sequence["DocumentAnalysis"], groups: Sequence[tuple[tuple[int, ...], np.ndarray]],
                  k: int) -> list[dict[int, tuple[int, int]]]:
    """For each group (its carriers, its shingles; no hash in two groups), per carrier: the first
    and last token of the longest run of the group's shingles there (a run breaks where
    consecutive hits lie more than ``k`` tokens apart; ties: the earliest).  All groups and
    documents at once."""
    found: list[dict[int, tuple[int, int]]] = [{} for _ in groups]
    if not groups:
        return found
    hashes = np.concatenate([shingles for _, shingles in groups])
    owner = np.repeat(np.arange(len(groups)), [len(shingles) for _, shingles in groups])
    order = np.argsort(hashes, kind="stable")
    hashes, owner = hashes[order], owner[order]
    held = distinct(np.concatenate([np.asarray(carriers, dtype=np.int64) for carriers, _ in groups])).tolist()
    shingles = np.concatenate([analyses[d].fingerprint.shingles for d in held])
    tokens = np.concatenate([analyses[d].fingerprint.shingle_tokens for d in held]).astype(np.int64)
    doc = np.repeat(held, [len(analyses[d].fingerprint.shingles) for d in held])
    at, hit = locate(shingles, hashes)
    group, doc, tokens = owner[at[hit]], doc[hit], tokens[hit]
    order = np.lexsort((doc, group))   # by group, then document; hits stay in text order (stable)
    group, doc, tokens = group[order], doc[order], tokens[order]
    new_key = np.r_[True, (group[1:] != group[:-1]) | (doc[1:] != doc[:-1])]
    starts = np.flatnonzero(new_key | np.r_[False, np.diff(tokens) > k])
    ends = np.r_[starts[1:], len(tokens)] - 1
    first, last, key = tokens[starts], tokens[ends], np.cumsum(new_key)[starts]
    best = np.lexsort((starts, first, first - last, key))   # per key: longest, then earliest
    best = best[np.r_[True, key[best][1:] != key[best][:-1]]]
    for g, d, t0, t1 in zip(group[starts[best]].tolist(), doc[starts[best]].tolist(),
                            first[best].tolist(), (last[best] + k - 1).tolist()):
        found[g][d] = (t0, t1)
    return found


class _ShingleSpans:
    """Per document, the character span each shingle covers (for finding the shingles of a passage)."""

    def __init__(self, analyses: Sequence["DocumentAnalysis"], k: int) -> None:
        self.analyses, self.k = analyses, k
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def inside(self, doc: int, start: int, end: int) -> np.ndarray:
        """Hashes of the shingles of ``doc`` lying wholly within ``[start, end)``."""
        if doc not in self._cache:
            fp = self.analyses[doc].fingerprint
            first = fp.shingle_tokens
            self._cache[doc] = (fp.token_starts[first], fp.token_ends[first + self.k - 1])
        starts, ends = self._cache[doc]
        lo, hi = np.searchsorted(starts, start, side="left"), np.searchsorted(starts, end, side="left")
        shingles = self.analyses[doc].fingerprint.shingles[lo:hi]
        return shingles[ends[lo:hi] <= end]


def _overlap_of(passages: list, a: "DocumentAnalysis", b: "DocumentAnalysis", jaccard: float) -> Overlap:
    """The verbatim overlap made of ``passages`` only: containment from the words they cover."""
    return Overlap(tuple(passages), _covered(a, [(p.a_start, p.a_end) for p in passages]),
                   _covered(b, [(p.b_start, p.b_end) for p in passages]), jaccard)


def _covered(analysis: "DocumentAnalysis", spans: list[tuple[int, int]]) -> float:
    starts = analysis.fingerprint.token_starts
    if not len(starts) or not spans:
        return 0.0
    inside = np.zeros(len(starts), dtype=bool)
    for start, end in spans:
        inside |= (starts >= start) & (starts < end)
    return float(inside.sum()) / len(starts)
