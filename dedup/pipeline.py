"""The scan pipeline, top to bottom, on the analysis core (``core.py``):

    load -> Context.fit (chrome) -> analyze each document -> LSH candidates -> verify verbatim
    -> widely shared passages (learned, reported once, taken out of the pairs)
    -> paraphrase stage (text model, TF-IDF neighbours, sentence alignment) -> decide
    -> lineage (directions, sources, families) -> ScanReport

The CLI only wraps this module; ``compare`` runs the very same calls on one pair.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from .align import Overlap
from .candidates import CandidateFinder
from .classify import Decision, decide, make_pair, verbatim_relation
from .core import Context, DocumentAnalysis, PairEvidence, verify, verify_verbatim
from .fanout import map_parts, map_shared, resolve_jobs
from .lineage import Lineage, LineageBuilder
from .load import Corpus
from .passages import SharedPassageFinder, SharedPassages
from .records import OVERLAP, PARAPHRASE, Document, Pair, ProgressCallback, ScanReport
from .settings import RelationSettings, Settings
from .workers import analyze_all

if TYPE_CHECKING:
    from .paraphrase import StoryGroups

NO_RELATION = "none"
VERIFY_CHUNK = 1000   # candidate pairs verified per task (a progress step; a worker's share of the stage)
ALIGN_BATCH = 256   # pairs aligned together: their sentence pairs scored in one call, the batch's memory bounded
ALIGN_PART = 8 * ALIGN_BATCH   # at most this many pairs a task of the alignment (a progress step)
UNKNOWN_OVERLAP_COST = 3   # ``_parts``: such a pair costs about three document preparations (dense news: 4.5 and 1.5 ms)
MIN_PARALLEL_ALIGN = ALIGN_BATCH   # fewer pairs are aligned in this process (starting workers costs more)


@dataclass(frozen=True)
class AlignJob:
    """One pair for sentence alignment: indices into the analyses, the document cosine (None:
    computed from the text model) and the verbatim overlap already found, as the pair will be
    decided on (widely shared passages taken out; None: none found yet, computed with the
    alignment)."""

    i: int
    j: int
    similarity: float | None
    overlap: Overlap | None


class Scanner:
    """Finds and explains text reuse in a set of documents.

    >>> report = Scanner().scan(load_path("seeds"))       # doctest: +SKIP
    >>> Scanner(window_threshold=0.25, paraphrase=False)   # any setting by name   # doctest: +SKIP
    """

    # Whether ``align_pairs`` runs here, on this machine's processes: its parts then also align the
    # copies of the stories they find retold.  An engine that aligns elsewhere (Spark's executors)
    # sets False and gets those as a second round of ``align_pairs``.
    aligns_copies_in_parts: bool = True

    def __init__(self, settings: Settings | None = None, **overrides) -> None:
        settings = settings or Settings()
        self.settings = settings.updated(**overrides) if overrides else settings

    # -- the whole corpus -------------------------------------------------

    def scan(self, corpus: Corpus | Iterable[Document], progress: ProgressCallback | None = None) -> ScanReport:
        if not isinstance(corpus, Corpus):
            corpus = Corpus(documents=list(corpus))
        documents = sorted(corpus.documents, key=lambda d: d.id)
        context, analyses = self.analyze(documents, progress)
        candidates = self.candidates(analyses, context, progress)
        # Window signatures are most of an analysis's memory and only the candidates need them.
        analyses = [a.without_windows() for a in analyses]
        verbatim = self.verified(analyses, context, candidates, progress)
        del candidates   # verified: not held through the later stages
        return self.conclude(corpus, context, analyses, verbatim, progress)

    def conclude(self, corpus: Corpus, context: Context, analyses: Sequence[DocumentAnalysis],
                 evidence: dict[tuple[int, int], PairEvidence],
                 progress: ProgressCallback | None = None) -> ScanReport:
        """The corpus-level steps after verbatim verification (``analyses`` sorted by id, keys
        index them): shared passages, the paraphrase stage, decisions, lineage.  The Spark
        engine verifies verbatim candidates on its executors and calls this on the driver."""
        shared = self.shared_passages(analyses, evidence)
        return self.conclude_filtered(corpus, context, analyses, shared, shared.filter(evidence, analyses), progress)

    def conclude_filtered(self, corpus: Corpus, context: Context, analyses: Sequence[DocumentAnalysis],
                          shared: SharedPassages, evidence: dict[tuple[int, int], PairEvidence],
                          progress: ProgressCallback | None = None) -> ScanReport:
        """``conclude`` once the widely shared passages are learned (``shared``) and taken out of
        the verbatim ``evidence``: the paraphrase stage, decisions, lineage.  The Spark engine
        learns and filters on its executors and calls this on the driver."""
        if self.settings.paraphrase.paraphrase:
            found = self.sentence_evidence(analyses, context, evidence, progress)
            # only what the stage added or changed is filtered again: the rest passed the filter as it is
            changed = {key: ev for key, ev in found.items() if ev is not evidence.get(key)}
            evidence = {**evidence, **self.without_shared(shared, changed, analyses)}
        decided = self.decide(evidence)
        shared.settle({p.key for p in decided})
        _tick(progress, "lineage", 0, 1)
        report = self.report(corpus, analyses, decided, shared)
        _tick(progress, "lineage", 1, 1)
        return report

    def without_shared(self, shared: SharedPassages, evidence: dict[tuple[int, int], PairEvidence],
                       analyses: Sequence[DocumentAnalysis]) -> dict[tuple[int, int], PairEvidence]:
        """``evidence`` without the widely shared passages (``SharedPassages.filter``; the Spark
        engine filters on its executors)."""
        return shared.filter(evidence, analyses)

    def analyze(self, documents: Sequence[Document], progress: ProgressCallback | None = None,
                corpus: Sequence[Document] | None = None) -> tuple[Context, list[DocumentAnalysis]]:
        """Fit the context on ``corpus`` (default: the documents themselves) and analyse each document."""
        _tick(progress, "chrome", 0, 1)
        context = Context.fit(documents if corpus is None else corpus, self.settings)
        _tick(progress, "chrome", 1, 1)
        analyses = []
        for analysis in analyze_all(documents, context, self.settings.execution.jobs):
            analyses.append(analysis)
            _tick(progress, "analyze", len(analyses), len(documents))
        return context, analyses

    def verbatim_evidence(self, analyses: Sequence[DocumentAnalysis], context: Context,
                          progress: ProgressCallback | None = None) -> dict[tuple[int, int], PairEvidence]:
        """LSH candidates, each verified by exact alignment; pairs sharing nothing are dropped."""
        return self.verified(analyses, context, self.candidates(analyses, context, progress), progress)

    def candidates(self, analyses: Sequence[DocumentAnalysis], context: Context,
                   progress: ProgressCallback | None = None) -> list[tuple[int, int]]:
        """Sorted index pairs of analyses whose document or window sketches share an LSH bucket."""
        return CandidateFinder(self.settings.candidates, context.minhasher).pairs([a.sketch for a in analyses],
                                                                                  progress)

    def verified(self, analyses: Sequence[DocumentAnalysis], context: Context, candidates: Sequence[tuple[int, int]],
                 progress: ProgressCallback | None = None) -> dict[tuple[int, int], PairEvidence]:
        """Each candidate pair verified by exact alignment; pairs sharing nothing are dropped.
        ``VERIFY_CHUNK`` pairs at a time, on ``--jobs`` processes from ``MIN_PARALLEL`` pairs
        (the workers inherit the analyses; only pair indices and overlaps travel)."""
        found, done = {}, 0
        for chunk in map_shared(_verify_chunk, (analyses, context), list(candidates), VERIFY_CHUNK,
                                self.settings.execution.jobs):
            for (i, j), overlap in chunk:
                found[(i, j)] = PairEvidence(analyses[i].id, analyses[j].id, overlap)
            done = min(done + VERIFY_CHUNK, len(candidates))
            _tick(progress, "align", done, len(candidates))
        return found

    def shared_passages(self, analyses: Sequence[DocumentAnalysis],
                        verbatim: dict[tuple[int, int], PairEvidence]) -> SharedPassages:
        """Passages carried by more documents than copying explains (a quoted statement, a chain's
        promo): learned from the verbatim evidence, then reported once and taken out of the pairs
        (``passages.py`` states the rule)."""
        return self.passage_finder().fit(analyses, verbatim)

    def passage_finder(self) -> SharedPassageFinder:
        """The shared-passage finder of these settings (the Spark engine runs its pieces on executors)."""
        return SharedPassageFinder(self.settings.chrome, min_passage_words=self.settings.align.min_passage_words,
                                   shingle_size=self.settings.sketch.shingle_size)

    def sentence_evidence(self, analyses: Sequence[DocumentAnalysis], context: Context,
                          verbatim: dict[tuple[int, int], PairEvidence],
                          progress: ProgressCallback | None = None) -> dict[tuple[int, int], PairEvidence]:
        """Sentence alignment for TF-IDF neighbours and for verbatim overlaps (which may be
        retellings that share a few phrases).  Duplicates and excerpts are left as they are.

        Verbatim copies are collapsed into story groups first: the stage learns and searches
        over one representative per story, and every copy inherits its story's retellings
        (so adding a reprint never hides a paraphrase)."""
        if len(analyses) < 2:
            return verbatim
        _tick(progress, "set-up", 0, 1)   # seconds before the first step: scikit-learn loads
        overlaps = [key for key, ev in verbatim.items() if _verbatim_relation(ev, self.settings) == OVERLAP]
        groups, candidates = self.paraphrase_candidates(analyses, context, verbatim, overlaps, progress)
        retold = RetoldCopies(groups.members(), verbatim, self.settings)
        found = dict(verbatim)

        # two rounds: the candidates, then the copies of each story found retold (they inherit its
        # retellings).  Aligned here, the second round runs with the first: a part aligns the copies
        # of each story it finds retold right away, while both stories' sentences are prepared.
        first = retold.alignable((i, j, c) for (i, j), c in sorted(candidates.items()))
        with_first: dict[tuple[int, int], PairEvidence] = {}
        if self.aligns_copies_in_parts:
            evidence = self._align(analyses, context, first, retold, progress, "paraphrase", with_first)
        else:
            evidence = self.align_pairs(analyses, context, first, progress)
        inherited = []
        for job, pair in zip(first, evidence):
            found[(job.i, job.j)] = pair
            inherited += retold.inherited(job, pair)
        second = retold.alignable(inherited)
        rest = [job for job in second if (job.i, job.j) not in with_first]
        late = dict(zip(((job.i, job.j) for job in rest),
                        self.align_pairs(analyses, context, rest, progress, stage="retold copies")))
        found.update(((job.i, job.j), with_first.get((job.i, job.j), late.get((job.i, job.j)))) for job in second)
        context.paraphraser.forget(a.id for a in analyses)   # nothing is aligned after this
        return found

    def paraphrase_candidates(self, analyses: Sequence[DocumentAnalysis], context: Context,
                              verbatim: dict[tuple[int, int], PairEvidence], overlaps: Sequence[tuple[int, int]],
                              progress: ProgressCallback | None = None
                              ) -> tuple["StoryGroups", dict[tuple[int, int], float]]:
        """The story groups of the verbatim evidence and the pairs the paraphrase stage aligns first,
        (i, j) -> document cosine: each story's TF-IDF neighbours and the verbatim ``overlaps``, by a
        text model fitted over the stories (set in ``context``).  The Spark engine does this on its
        executors (``engines/spark_paraphrase.py``) and sets no text model on its driver."""
        from .paraphrase import ParaphraseFinder, StoryGroups   # scikit-learn: loaded only when this stage runs

        groups = StoryGroups.of_verbatim(analyses, verbatim, self.settings.relation)
        ParaphraseFinder(self.settings.paraphrase).prepare(analyses, context, groups, progress,
                                                           jobs=self.settings.execution.jobs)
        _tick(progress, "neighbours", 0, 1)
        candidates = context.paraphraser.candidates(context, overlaps)
        _tick(progress, "neighbours", 1, 1)
        return groups, candidates

    def align_pairs(self, analyses: Sequence[DocumentAnalysis], context: Context, jobs: Sequence[AlignJob],
                    progress: ProgressCallback | None = None, stage: str = "paraphrase") -> list[PairEvidence]:
        """What ``core.verify`` finds for each job's pair (its verbatim overlap unless known, its
        sentences aligned).  Jobs are taken in an order that keeps each document's pairs close
        together (``_local_order``) and cut into parts of consecutive jobs, aligned on ``--jobs``
        processes from ``MIN_PARALLEL_ALIGN`` jobs (``_align_part``: the workers inherit the
        analyses and the context; only jobs and evidence travel).  Each result is a function of
        the pair and the context alone, so the parts may run anywhere, in any process: the Spark
        engine runs these on its executors.  Progress is ticked as ``stage`` (the second round, the
        copies of stories found retold, is a stage of its own where it runs apart:
        ``aligns_copies_in_parts``)."""
        return self._align(analyses, context, jobs, None, progress, stage, {})

    def _align(self, analyses: Sequence[DocumentAnalysis], context: Context, jobs: Sequence[AlignJob],
               retold: "RetoldCopies | None", progress: ProgressCallback | None, stage: str,
               copies: dict[tuple[int, int], PairEvidence]) -> list[PairEvidence]:
        """``align_pairs``; with ``retold``, each part also aligns the copies of every story it
        finds retold (``RetoldCopies``), their evidence put in ``copies``."""
        if not jobs:
            return []
        order = _local_order(jobs)
        ordered = [jobs[k] for k in order]
        found: list[PairEvidence | None] = [None] * len(jobs)
        done = 0
        parts = _parts(ordered, self.settings.execution.jobs)
        reach = {}   # document id -> the position of its last job
        for position, job in enumerate(ordered):
            reach[analyses[job.i].id] = reach[analyses[job.j].id] = position
        positions = {(job.i, job.j): position for position, job in enumerate(ordered)}
        for evidence, copied in map_parts(_align_part, (analyses, context, retold, reach, positions), parts,
                                          self.settings.execution.jobs, min_parallel=MIN_PARALLEL_ALIGN):
            for k, pair in zip(order[done:done + len(evidence)], evidence):
                found[k] = pair
            copies.update(copied)
            done += len(evidence)
            _tick(progress, stage, done, len(jobs))
        context.paraphraser.carry(())
        return found

    def decide(self, evidence: dict[tuple[int, int], PairEvidence]) -> list[Pair]:
        decided = (decided_pair(evidence[key], self.settings.relation) for key in sorted(evidence))
        return [pair for pair in decided if pair is not None]

    def report(self, corpus: Corpus, analyses: Sequence[DocumentAnalysis], pairs: Sequence[Pair],
               shared: SharedPassages | None = None) -> ScanReport:
        lineage = self.lineage(analyses, pairs)
        return ScanReport(
            documents=[a.document for a in analyses],
            skipped=sorted(corpus.skipped, key=lambda s: (s.path, s.line or 0)),
            warnings=sorted(corpus.warnings, key=lambda w: (w.path, w.line or 0)),
            pairs=sorted(lineage.pairs, key=lambda p: (p.a, p.b)),
            families=[list(f) for f in lineage.families],
            sources=list(lineage.sources),
            edges=list(lineage.edges),
            parameters=self.settings.to_json(),
            chrome={a.id: list(a.chrome) for a in analyses},
            origins=list(lineage.origins),
            shared_passages=list(shared.passages) if shared else [],
            pairs_dropped_as_shared=shared.pairs_dropped if shared else 0,
        )

    def lineage(self, analyses: Sequence[DocumentAnalysis], pairs: Sequence[Pair]) -> Lineage:
        """Directions, derivation edges, absent sources, origins and families of the decided pairs
        (the Spark engine computes these on its executors, by the same ``LineageBuilder`` pieces)."""
        builder = LineageBuilder(self.settings.lineage, jobs=self.settings.execution.jobs)
        return builder.build([a.document for a in analyses], pairs, [a.evidence_text for a in analyses])

    # -- one pair in detail -----------------------------------------------

    def compare(self, a: Document, b: Document, corpus: Sequence[Document] | None = None) -> Pair:
        """Everything that links two documents; relation ``"none"`` when nothing does."""
        return self.compare_report(a, b, corpus).pairs[0]

    def compare_report(self, a: Document, b: Document, corpus: Sequence[Document] | None = None) -> ScanReport:
        """One pair in detail.

        With ``corpus``: exactly what the scan of the corpus (``a`` and ``b`` added if missing)
        says of the pair, with that scan's families, sources and edges (relation ``"none"`` when
        the scan links them in no pair; its verbatim overlap is still shown).  Without: the two
        documents judged directly through the same core calls, sentences always compared."""
        if corpus:
            scanned = self.scan(_with(list(corpus), (a, b)))
            pair = scanned.pair(a.id, b.id)
            if pair is None:   # show what they share verbatim, chrome judged as in the scan
                two = sorted((scanned.document(a.id), scanned.document(b.id)), key=lambda d: d.id)
                context, (first, second) = self.analyze(two, corpus=scanned.documents)
                evidence = verify(first, second, context, sentences=False)
                why = "the scan of the corpus links them in no pair"
                if evidence.overlap.passages and any({a.id, b.id} <= set(p.documents) for p in scanned.shared_passages):
                    why += ("; what they share verbatim the corpus carries widely (see its shared passages: "
                            "reported once, not evidence)")
                pair = make_pair(evidence, Decision(NO_RELATION, (why,)))
            return replace(scanned, pairs=[pair])
        context, analyses = self.analyze(_with([], (a, b)))
        first, second = analyses
        if self.settings.paraphrase.paraphrase:
            from .paraphrase import ParaphraseFinder

            ParaphraseFinder(self.settings.paraphrase).prepare(analyses, context)
        evidence = verify(first, second, context, sentences=False)
        decision = decide(evidence, self.settings.relation)
        if context.paraphraser is not None and _aligns(decision, context, first, second):
            evidence = verify(first, second, context, overlap=evidence.overlap)
            decision = decide(evidence, self.settings.relation)
        pair = make_pair(evidence, decision or Decision(NO_RELATION))
        return self.report(Corpus(documents=[first.document, second.document]), analyses, [pair])


def decided_pair(evidence: PairEvidence, relation: RelationSettings) -> Pair | None:
    """One pair as reported before lineage, or None when nothing links it (the rule for one pair:
    the Spark engine's executors call it per pair, ``Scanner.decide`` per corpus)."""
    decision = decide(evidence, relation)
    return make_pair(evidence, decision) if decision is not None else None


def _local_order(jobs: Sequence[AlignJob]) -> list[int]:
    """The jobs in an order that keeps each document's pairs close together: documents numbered by
    reverse Cuthill-McKee over the graph of pairs (a narrow band), pairs sorted by their numbers."""
    if len(jobs) < 2:
        return list(range(len(jobs)))
    import scipy.sparse as sp
    from scipy.sparse.csgraph import reverse_cuthill_mckee

    ends = np.array([(job.i, job.j) for job in jobs], dtype=np.int64)
    nodes, local = np.unique(ends, return_inverse=True)
    local = local.reshape(ends.shape)
    graph = sp.csr_matrix((np.ones(len(jobs)), (local[:, 0], local[:, 1])), shape=(len(nodes), len(nodes)))
    rank = np.empty(len(nodes), dtype=np.int64)
    rank[reverse_cuthill_mckee((graph + graph.T).tocsr(), symmetric_mode=True)] = np.arange(len(nodes))
    ranked = np.sort(rank[local], axis=1)
    return np.lexsort((ranked[:, 1], ranked[:, 0])).tolist()


def _part_size(n_jobs: int, jobs: int) -> int:
    """Jobs per part of ``align_pairs``: half of each process's share, so that parts of uneven cost
    even out among the processes, within a quarter of ``ALIGN_BATCH`` and ``ALIGN_PART``.  Not
    less: a part prepares the sentences of each of its documents, and a document in two parts is
    prepared twice (topic-dense news, 2,523 pairs on two processes: 1,075 preparations of 646
    documents in parts of a quarter share, 877 in halves; the align stage 5.8 -> 5.1 CPU s)."""
    return min(ALIGN_PART, max(ALIGN_BATCH // 4, -(-n_jobs // (2 * resolve_jobs(jobs)))))


def _parts(ordered: Sequence[AlignJob], jobs: int) -> list[Sequence[AlignJob]]:
    """``ordered`` cut into as many parts of consecutive jobs as ``_part_size`` makes, of about
    even estimated cost rather than even length: parts of even length cost 0.2 to 2.2 CPU s on
    topic-dense news, so one process idled while the other finished.  A job's cost: each document
    it brings to the part for the first time (its sentences prepared), and ``UNKNOWN_OVERLAP_COST``
    more when its verbatim overlap is not known yet (its candidate sentence pairs are scored;
    a known overlap rules most such pairs out early)."""
    count = -(-len(ordered) // _part_size(len(ordered), jobs))
    if count < 2:
        return [ordered]
    seen: set[int] = set()
    cost = np.empty(len(ordered))
    for k, job in enumerate(ordered):
        cost[k] = (job.i not in seen) + (job.j not in seen) + (UNKNOWN_OVERLAP_COST if job.overlap is None else 0)
        seen.update((job.i, job.j))
    total = np.cumsum(cost)
    cuts = np.searchsorted(total, total[-1] * np.arange(1, count) / count, side="right")
    bounds = np.unique(np.concatenate(([0], cuts, [len(ordered)])))
    return [ordered[start:stop] for start, stop in zip(bounds[:-1], bounds[1:])]


@dataclass(frozen=True)
class RetoldCopies:
    """The second round of the paraphrase stage: when a pair of stories ends as a paraphrase,
    every copy of either story is aligned with the other story (the copy inherits the retelling;
    adding a reprint never hides one).  ``members``: each story's documents, its representative
    first (``StoryGroups.members``); ``verbatim``: the verbatim evidence, whose duplicates and
    excerpts are left as they are."""

    members: dict[int, list[int]]
    verbatim: dict[tuple[int, int], PairEvidence]
    settings: Settings

    def alignable(self, pairs: Iterable[tuple[int, int, float | None]]) -> list[AlignJob]:
        """Pairs to align, each once, with its known overlap; duplicates and excerpts left as they are."""
        jobs = {}
        for i, j, similarity in pairs:
            i, j = min(i, j), max(i, j)
            known = self.verbatim.get((i, j))
            if known is None or _verbatim_relation(known, self.settings) == OVERLAP:
                jobs[(i, j)] = AlignJob(i, j, similarity, known.overlap if known else None)
        return list(jobs.values())

    @cached_property
    def story(self) -> dict[int, int]:
        """Each document's story (its representative)."""
        return {member: story for story, group in self.members.items() for member in group}

    def inherited(self, job: AlignJob, evidence: PairEvidence) -> list[tuple[int, int, None]]:
        """The pairs a first-round job brings to the second round: none unless it is a paraphrase."""
        decision = decide(evidence, self.settings.relation)
        if decision is None or decision.relation != PARAPHRASE:
            return []
        return ([(copy, job.j, None) for copy in self.members.get(job.i, [job.i])[1:]]
                + [(job.i, copy, None) for copy in self.members.get(job.j, [job.j])[1:]])


def _align_part(shared: tuple[Sequence[DocumentAnalysis], Context, RetoldCopies | None, dict[str, int],
                              dict[tuple[int, int], int]],
                jobs: Sequence[AlignJob]) -> tuple[list[PairEvidence], dict[tuple[int, int], PairEvidence]]:
    """``Scanner.align_pairs`` of consecutive jobs, in one process, ``ALIGN_BATCH`` at a time: a
    batch's candidate sentence pairs are scored together, and a pair whose known overlap rules
    out a paraphrase is not aligned (``ParaphraseFinder.compare_many``).  With ``RetoldCopies``,
    the copies of the stories a batch finds retold are aligned next, while the stories' sentences
    are still prepared (their evidence is the second value).  What was prepared for a document is
    dropped after its last batch in the part, so a process holds a band of documents, not all of
    them, except for those with pairs in later parts (``reach``: each document's last position
    among all jobs; ``positions``: each job's), carried to this process's next part, which is
    likely to be one of them: the next part, perhaps in another process, prepares its own."""
    analyses, context, retold, reach, positions = shared
    stage = context.paraphraser
    end = positions[(jobs[-1].i, jobs[-1].j)]
    here = {analyses[k].id for job in jobs for k in (job.i, job.j)}
    carried = {doc_id for doc_id in stage.retained | here if reach.get(doc_id, -1) > end}
    stage.carry(carried, needed=here)   # what the last part carried and this one needs is dropped after it
    last: dict[str, int] = {}   # document id -> the batch of its last pair
    for position, job in enumerate(jobs):
        for doc in (job.i, job.j):
            last[analyses[doc].id] = position // ALIGN_BATCH
    done_after: dict[int, list[str]] = {}
    for doc_id, batch_number in last.items():
        done_after.setdefault(batch_number, []).append(doc_id)
    found, copies = [], {}
    for batch_number, start in enumerate(range(0, len(jobs), ALIGN_BATCH)):
        batch = jobs[start:start + ALIGN_BATCH]
        evidence = _align_batch(analyses, context, batch)
        found += evidence
        second = [] if retold is None else retold.alignable(
            pair for job, pair_evidence in zip(batch, evidence) for pair in retold.inherited(job, pair_evidence))
        if second:
            copies.update(((job.i, job.j), ev) for job, ev in zip(second, _align_batch(analyses, context, second)))
            # a copy is kept while its story has pairs left (in the part, or carried to the next)
            for copy in {k for job in second for k in (job.i, job.j) if analyses[k].id not in last}:
                story = analyses[retold.story[copy]].id
                if story in carried:   # and so is the copy, as far as its story reaches
                    reach[analyses[copy].id] = reach[story]
                    carried.add(analyses[copy].id)
                else:
                    done_after.setdefault(max(batch_number, last.get(story, batch_number)), []).append(analyses[copy].id)
            stage.carry(carried)   # only grown: nothing is forgotten, the new ones kept
        stage.forget(done_after.get(batch_number, ()))
    return found, copies


def _align_batch(analyses: Sequence[DocumentAnalysis], context: Context, batch: Sequence[AlignJob]
                 ) -> list[PairEvidence]:
    """The evidence of each job of a batch, its candidate sentence pairs scored together."""
    sentences = context.paraphraser.compare_many([(analyses[job.i], analyses[job.j], job.similarity, job.overlap)
                                                  for job in batch], context)
    found = []
    for job, aligned in zip(batch, sentences):
        a, b = analyses[job.i], analyses[job.j]
        overlap = job.overlap if job.overlap is not None else verify_verbatim(a, b, context)
        found.append(PairEvidence(a.id, b.id, overlap, aligned))
    return found


def _verify_chunk(shared: tuple[Sequence[DocumentAnalysis], Context], pairs: Sequence[tuple[int, int]]
                  ) -> list[tuple[tuple[int, int], Overlap]]:
    """The verbatim overlap of each pair that shares a passage."""
    analyses, context = shared
    found = []
    for i, j in pairs:
        overlap = verify_verbatim(analyses[i], analyses[j], context)
        if overlap.passages:
            found.append(((i, j), overlap))
    return found


def _aligns(decision: Decision | None, context: Context, a: DocumentAnalysis, b: DocumentAnalysis) -> bool:
    """Whether a scan would align this pair's sentences: an overlap, or a TF-IDF neighbour."""
    if decision is not None:
        return decision.relation == OVERLAP
    return context.paraphraser.similarity(context, a, b) >= context.settings.paraphrase.min_similarity


def _verbatim_relation(evidence: PairEvidence, settings: Settings) -> str | None:
    return verbatim_relation(evidence.overlap, settings.relation)


def _with(corpus: list[Document], extra: Iterable[Document]) -> list[Document]:
    ids = {d.id for d in corpus}
    return sorted(corpus + [d for d in extra if d.id not in ids], key=lambda d: d.id)


def _tick(progress: ProgressCallback | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)
