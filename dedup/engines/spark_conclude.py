"""The corpus-level steps after the shared-passage filter on Spark executors, for a corpus no
driver holds (``--out DIR`` and more than ``summary_max_documents``): what
``pipeline.Scanner.conclude_filtered`` does on the driver, with every pair and every document
kept on the executors.

The answer is the local scanner's, made of its own per-pair and per-group rules; this module only
decides where each runs and what is joined:

    the filtered verbatim pairs tallied (``SharedPassages.tally``'s counts: the pairs dropped per
    passage, reduced by key; the emptied ones kept for ``settle``), keyed by document numbers
    (id order, the LSH step's numbering) by two joins
    story groups (``StoryGroups.of_evidence``): ``paraphrase.story_link`` of each pair; each excerpt's
    longest container (``story_rank``, reduced by key); connected components
    (``components.connected_components``) of the duplicates and containers; each component's
    representative (``story_rank`` again)          -> (number, representative) of every document
    the paraphrase stage (``Scanner.sentence_evidence``): the text model fitted over the stories and
    their neighbours found (``spark_paraphrase.DistributedTextModel.candidate_scores``, the verbatim
    overlaps judged on their stories' representatives by ``story_pairs`` of each pair); each
    candidate joined with its verbatim evidence -> ``RetoldCopies.alignable`` of the one pair;
    aligned where its analyses are kept (``spark.align_partition``); each aligned pair joined with
    its stories' members -> ``RetoldCopies.inherited`` -> the second round, aligned alike
    what the stage changed filtered again (``DistributedSharedPassages.filtered``) and tallied; the
    pairs it dropped keep their verbatim evidence (``conclude_filtered``'s merge)
    ``pipeline.decided_pair`` of each pair (``classify.decide``, ``make_pair``); ``settle``: the
    emptied pairs not decided, their passages counted (reduced by key)
    lineage (``spark_lineage.executor_lineage``), families and the datasets: from these RDDs

The driver is sent counts, the pairs dropped per widely shared passage (one number each) and the
broadcast facts (the settings, the learned passages, the context); no pair, no document.
"""

from __future__ import annotations

from dataclasses import replace
from operator import add

from ..core import Context
from ..paraphrase import ParaphraseFinder, story_link, story_rank
from ..passages import SharedPassages
from ..pipeline import RetoldCopies, Scanner, _verbatim_relation, decided_pair
from ..records import DUPLICATE, EXCERPT, OVERLAP
from ..settings import RelationSettings
from .components import connected_components
from .spark import SPILL, align_partition, executor_context, named_analyses


def alignable(key: tuple[int, int], similarity: float | None, known, settings) -> list:
    """``RetoldCopies.alignable`` of one pair, its verbatim evidence (``known``, or None) joined to it."""
    return RetoldCopies({}, {} if known is None else {key: known}, settings).alignable([(*key, similarity)])


def inherited(job, evidence, members_i, members_j, settings) -> list[tuple[tuple[int, int], None]]:
    """``RetoldCopies.inherited`` of one aligned pair, its two stories' members joined to it (None:
    a story of one), each pair keyed as the verbatim evidence is, (smaller, larger)."""
    members = {story: found for story, found in ((job.i, members_i), (job.j, members_j)) if found is not None}
    return [((min(i, j), max(i, j)), None) for i, j, _ in RetoldCopies(members, {}, settings).inherited(job, evidence)]


def _later(x: tuple[int, object], y: tuple[int, object]) -> tuple[int, object]:
    """Of two (stage, value), the later stage's (a dict updated stage after stage)."""
    return x if x[0] >= y[0] else y


def updated(earlier, later, parts: int):
    """(key, value) of ``earlier`` updated by ``later``, as ``{**earlier, **later}`` merges two dicts:
    a key in both takes ``later``'s value."""
    staged = earlier.mapValues(lambda value: (0, value)).union(later.mapValues(lambda value: (1, value)))
    return staged.reduceByKey(_later, parts).mapValues(lambda found: found[1])


def story_groups(verbatim, lengths, relation: RelationSettings, parts: int):
    """(number, its story's representative) of every document: ``StoryGroups.of_evidence`` of the
    ((i, j), ``PairEvidence``) of ``verbatim`` and the (number, length in tokens) of ``lengths``."""
    links = verbatim.map(lambda kv: story_link(kv[0], kv[1], relation)).filter(lambda link: link is not None)
    links = links.persist(SPILL)
    duplicates = links.filter(lambda link: link[0] == DUPLICATE).values()
    containers = (links.filter(lambda link: link[0] == EXCERPT).map(lambda link: (link[1][1], link[1][0]))
                  .join(lengths, parts).map(lambda kv: (kv[1][0], (story_rank(kv[1][1], kv[0]), kv[0])))
                  .reduceByKey(max, parts).mapValues(lambda found: found[1]))   # (excerpt, longest container)
    roots = connected_components(duplicates.union(containers), parts)   # the documents of stories of several
    longest = (roots.join(lengths, parts).map(lambda kv: (kv[1][0], (story_rank(kv[1][1], kv[0]), kv[0])))
               .reduceByKey(max, parts).mapValues(lambda found: found[1]))   # root -> representative
    grouped = roots.map(lambda kv: (kv[1], kv[0])).join(longest, parts).values()
    alone = lengths.map(lambda kv: (kv[0], kv[0])).subtractByKey(grouped, parts)
    found = alone.union(grouped).persist(SPILL)
    found.count()
    links.unpersist()
    return found


class DistributedConclusion:
    """``Scanner.conclude_filtered`` on the executors of ``engine`` (a ``SparkEngine`` after its LSH
    step: ``engine.ids`` numbers the documents in id order), over the kept ``analyses`` ((id,
    DocumentAnalysis)); ``shared`` is updated with the pairs dropped, as ``tally`` and ``settle``
    update it."""

    def __init__(self, engine, analyses, context: Context, shared: SharedPassages) -> None:
        self.engine, self.analyses, self.context, self.shared = engine, analyses, context, shared
        self.settings = engine.settings
        self.parts = engine.partitions
        self.sc = engine.session().sparkContext
        self.ids = engine.ids   # (id, number)
        self.names = self.ids.map(lambda kv: (kv[1], kv[0])).persist(SPILL)   # (number, id)
        self.emptied = self.sc.emptyRDD()   # ((a, b), lost passages): pairs only aligned sentences are left of
        self.text = None

    # -- the shared-passage filter's counts ------------------------------------------------

    def tally(self, filtered):
        """``SharedPassages.tally`` of an RDD of (key, ``FilteredPair``): the kept (key, evidence),
        on the executors; the dropped pairs counted on ``shared``, the emptied ones kept for
        ``settle`` (a later tally's replacing an earlier one's, as the local dict does)."""
        filtered = filtered.persist(SPILL)
        dropped = filtered.filter(lambda kv: kv[1].evidence is None)
        self.count_dropped(dropped.map(lambda kv: (None, kv[1].lost)))
        emptied = filtered.filter(lambda kv: kv[1].evidence is not None and kv[1].emptied).map(
            lambda kv: ((kv[1].evidence.a, kv[1].evidence.b), kv[1].lost)).persist(SPILL)
        self.emptied = self.emptied.subtractByKey(emptied, self.parts).union(emptied)
        return filtered.filter(lambda kv: kv[1].evidence is not None).mapValues(lambda found: found.evidence)

    def count_dropped(self, lost) -> None:
        """``SharedPassages.count_dropped`` of an RDD of (key, the passages each dropped pair lost):
        one number per passage collected."""
        by_passage = self.engine.measured(lost.flatMap(lambda kv: [(n, 1) for n in kv[1]]).reduceByKey(add),
                                          "counts").collect()
        self.shared.count_dropped(dict(by_passage), lost.count())

    def numbered(self, by_ids):
        """((a, b), value) of document ids as ((i, j), value) of their numbers (i < j as a < b)."""
        first = by_ids.map(lambda kv: (kv[0][0], (kv[0][1], kv[1]))).join(self.ids, self.parts)   # a: ((b, v), i)
        second = first.map(lambda kv: (kv[1][0][0], (kv[1][1], kv[1][0][1]))).join(self.ids, self.parts)
        return second.map(lambda kv: ((kv[1][0][0], kv[1][1]), kv[1][0][1]))

    # -- story groups ----------------------------------------------------------------------

    def lengths(self):
        """(number, length in tokens) of every document."""
        tokens = self.analyses.mapValues(lambda a: a.fingerprint.n_tokens)
        return self.ids.join(tokens, self.parts).values().persist(SPILL)

    def stories(self, filtered):
        """(the tallied verbatim evidence keyed by numbers, each document's representative)."""
        verbatim = self.numbered(self.tally(filtered)).persist(SPILL)
        group = story_groups(verbatim, self.lengths(), self.settings.relation, self.parts)
        self.engine.counts.update(stories=group.filter(lambda kv: kv[0] == kv[1]).count(),
                                  filtered_pairs=verbatim.count())
        return verbatim, group

    # -- the paraphrase stage --------------------------------------------------------------

    def paraphrased(self, verbatim, group):
        """The evidence the decision step reads: ``conclude_filtered``'s merge of the verbatim
        evidence with what the paraphrase stage found, filtered again (``Scanner.sentence_evidence``)."""
        if not self.settings.paraphrase.paraphrase or self.engine.counts["documents"] < 2:
            return verbatim
        found = self.sentence_evidence(verbatim, group)
        from .spark_passages import DistributedSharedPassages

        refiltered = DistributedSharedPassages(self.engine, Scanner(self.settings).passage_finder()).filtered(
            self.shared, found, self.analyses)
        changed = self.tally(refiltered)
        return updated(verbatim, changed, self.parts)

    def sentence_evidence(self, verbatim, group):
        """((i, j), evidence) of every pair the paraphrase stage aligns: the candidates, then the
        copies of each story found retold."""
        s, parts = self.settings, self.parts
        from .spark_paraphrase import DistributedTextModel

        texts = self.ids.join(self.analyses.mapValues(lambda a: a.evidence_text), parts).values()
        flagged = texts.join(group, parts).map(lambda kv: (kv[0], (kv[1][0], kv[1][1] == kv[0])))
        self.text = DistributedTextModel(self.sc, s.paraphrase, parts, self.engine.measured)
        self.text.fit_stories(flagged, self.engine.counts["stories"])
        overlaps = verbatim.filter(lambda kv: _verbatim_relation(kv[1], s) == OVERLAP).keys()
        candidates = self.text.candidate_scores(overlaps, group)
        first = candidates.leftOuterJoin(verbatim, parts).flatMap(lambda kv: alignable(kv[0], kv[1][0], kv[1][1], s))
        first = self.aligned(first).persist(SPILL)
        members = (group.filter(lambda kv: kv[0] != kv[1]).map(lambda kv: (kv[1], kv[0])).groupByKey(parts)
                   .map(lambda kv: (kv[0], [kv[0], *sorted(kv[1])])))   # representative first
        with_i = first.map(lambda kv: (kv[0][0], kv[1])).leftOuterJoin(members, parts)   # i: ((job, ev), members)
        with_j = with_i.map(lambda kv: (kv[1][0][0].j, (kv[1][0], kv[1][1]))).leftOuterJoin(members, parts)
        second = (with_j.flatMap(lambda kv: inherited(*kv[1][0][0], kv[1][0][1], kv[1][1], s))
                  .reduceByKey(lambda x, y: x, parts).leftOuterJoin(verbatim, parts)
                  .flatMap(lambda kv: alignable(kv[0], None, kv[1][1], s)))
        second = self.aligned(second)
        self.engine.counts.update(self.text.counts)
        return updated(first.mapValues(lambda je: je[1]), second.mapValues(lambda je: je[1]), parts).persist(SPILL)

    def aligned(self, jobs):
        """((i, j), (job, evidence)) of an RDD of ``AlignJob``: a job without a document cosine scored
        by the text model, each joined with its two analyses and aligned where they meet."""
        parts, names = self.parts, self.names
        keyed = jobs.map(lambda job: ((job.i, job.j), job)).persist(SPILL)
        missing = keyed.filter(lambda kv: kv[1].similarity is None)
        scored = missing.join(self.text.cosines(missing.keys()), parts).mapValues(
            lambda jc: replace(jc[0], similarity=jc[1]))
        ready = keyed.filter(lambda kv: kv[1].similarity is not None).union(scored)
        by_i = ready.map(lambda kv: (kv[0][0], kv)).join(names, parts)   # i: ((key, job), id a)
        by_j = by_i.map(lambda kv: (kv[1][0][0][1], kv[1])).join(names, parts)   # j: (((key, job), a), id b)
        named = by_j.map(lambda kv: (kv[1][0][1], (kv[1][0][0], kv[1][1]))).persist(SPILL)   # a: ((key, job), b)
        kept = named_analyses(self.analyses, named.flatMap(lambda kv: (kv[0], kv[1][1]))).persist(SPILL)
        with_a = named.join(kept, parts)
        both = with_a.map(lambda kv: (kv[1][0][1], (kv[1][0][0], kv[1][1]))).join(kept, parts).map(
            lambda kv: (kv[1][0][0], kv[1][0][0][1], kv[1][0][1], kv[1][1]))   # ((key, job), job, a, b)
        context = self.sc.broadcast(executor_context(replace(self.context, paraphraser=ParaphraseFinder(
            self.settings.paraphrase))))
        settings = self.settings
        found = both.mapPartitions(lambda items: align_partition(items, context.value, settings))
        aligned = found.map(lambda kj: (kj[0][0], (kj[0][1], kj[1]))).persist(SPILL)
        self.engine.counts["aligned_pairs"] = self.engine.counts.get("aligned_pairs", 0) + aligned.count()
        for done in (keyed, named, kept):
            done.unpersist()
        return aligned

    # -- decisions -------------------------------------------------------------------------

    def decided(self, evidence):
        """Each pair as reported before lineage (``pipeline.decided_pair``), keyed by its ids; the
        emptied pairs not decided counted on their passages (``SharedPassages.settle``)."""
        relation = self.settings.relation
        pairs = evidence.values().map(lambda ev: decided_pair(ev, relation)).filter(lambda p: p is not None).persist(SPILL)
        self.count_dropped(self.emptied.subtractByKey(pairs.map(lambda p: (p.key, None)), self.parts))
        self.engine.counts["decided_pairs"] = pairs.count()
        return pairs

    def unpersist(self) -> None:
        self.names.unpersist()
        if self.text is not None:
            self.text.unpersist()
