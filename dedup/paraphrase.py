"""Paraphrase stage: retellings of the same report in other words.

1. Document vectors are hashed (word uni+bigrams and character 4-grams, sublinear
   tf), weighted by an IDF counted in one pass over the corpus's stories (verbatim
   copies collapsed into story groups first, so a reprinted story counts once):
   nothing is fitted over a vocabulary, so the stage is linear and streamable.
2. Candidate pairs come from one pruned sparse self-product: each document keeps
   only its ``top_terms`` most distinctive word features, and features found in
   more than ``max_df_docs`` stories are dropped.  Per document, the best
   ``3 * neighbours`` by that product are scored with the full cosine and the
   ``neighbours`` best kept; all of it vectorised, never a dense n x n matrix.
3. Each document's sentences are prepared once (spans, hashed feature rows,
   figures, names, quotes: ``SentenceData``).  The sentences of a candidate pair
   are aligned one-to-one: a dynamic programme finds the best alignment that keeps
   story order, then clearly similar out-of-order sentences are added (retellings
   do reorder).  A pair that cannot reach a paraphrase even if every candidate
   sentence pair aligned is not scored at all, and one whose verbatim overlap
   already rules one out (``classify.decide`` of the best conceivable alignment)
   is not even prepared; nor, beyond its content words, one without a shared quote
   or figures whose candidates (its sentence pairs of similar content words) are
   too few.  Pairs are aligned in batches (``compare_many``): the candidate
   sentence pairs of a whole batch are featurised and scored in one call.
4. A pair is a paraphrase when enough sentences align on both sides (``classify``).

Sentence scores depend only on the two sentences and the shipped sentence model,
so ``dedup compare A B`` and a scan align a pair's sentences alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

import numpy as np
import scipy.sparse as sp

from .arrays import ranges, ranks
from .classify import decide, is_paraphrase, verbatim_relation
from .core import MIN_SENTENCE_WORDS
from .evidence import describe, distinctive, matching_quotes, names, numbers, quotes, quotes_match
from .fanout import map_shared, resolve_jobs
from .records import DUPLICATE, EXCERPT, PARAPHRASE, Alignment, ProgressCallback
from .sentences import (_STOP, HASHED, HashedTokens, RowSlice, SentenceModel, SentenceRows, _word,
                        content_only, counts, cross, one_blas_thread, pair_features, split_words,
                        word_hash)
from .sklearn_parts import murmurhash3_32
from .settings import ParaphraseSettings, RelationSettings
from .text import sentences

if TYPE_CHECKING:
    from .align import Overlap
    from .core import Context, DocumentAnalysis, PairEvidence


@dataclass
class SentenceAlignment:
    alignments: list[Alignment]
    aligned_a: float   # share of a's sentences aligned
    aligned_b: float


@dataclass(frozen=True)
class SentenceEvidence:
    """Which sentences of two documents say the same thing (the paraphrase stage's evidence)."""

    alignments: tuple[Alignment, ...]
    aligned_a: float        # share of a's sentences aligned
    aligned_b: float
    similarity: float       # document-level TF-IDF cosine
    evidence: tuple[str, ...] = ()


def align_pair(a: "DocumentAnalysis", b: "DocumentAnalysis", context: "Context",
               similarity: float | None = None) -> SentenceEvidence:
    """Align the sentences of two analysed documents with what the context learned from the corpus."""
    return context.paraphraser.compare(a, b, context, similarity)


@dataclass(frozen=True)
class SentenceData:
    """One text's sentences, prepared once for every pair it is part of: rows ``first`` to
    ``first + len(spans)`` of ``rows`` (prepared for many texts at once, which is faster)."""

    text: str
    spans: tuple[tuple[int, int], ...]
    rows: SentenceRows
    first: int = 0

    @classmethod
    def of(cls, text: str, spans: Sequence[tuple[int, int]], model: SentenceModel) -> "SentenceData":
        return cls.batch([(text, spans)], model)[0]

    @classmethod
    def batch(cls, texts: Sequence[tuple[str, Sequence[tuple[int, int]]]], model: SentenceModel,
              split: Sequence[list[str]] | None = None) -> list["SentenceData"]:
        """``(text, sentence spans)`` of many texts prepared together (``split``: the words of
        their sentences, one after another, when already found)."""
        rows = SentenceRows.of([text[s:e] for text, spans in texts for s, e in spans], model.weights, split)
        out, first = [], 0
        for text, spans in texts:
            out.append(cls(text, tuple(spans), rows, first))
            first += len(spans)
        return out

    def detached(self) -> "SentenceData":
        """The same sentences with rows of their own (``SentenceRows.take``), not a batch's."""
        return SentenceData(self.text, self.spans, self.rows.take(self.first, self.first + len(self.spans)))

    @property
    def index(self) -> np.ndarray:
        """This text's rows in ``rows``."""
        return np.arange(self.first, self.first + len(self.spans))

    def matrix(self, name: str) -> RowSlice:
        """This text's rows of one of the ``SentenceRows`` matrices (views, made once per name)."""
        found = self._slices.get(name)
        if found is None:
            found = self._slices[name] = RowSlice.of(getattr(self.rows, name), self.first,
                                                     self.first + len(self.spans))
        return found

    @cached_property
    def _slices(self) -> dict[str, RowSlice]:
        return {}

    @cached_property
    def sentences(self) -> list[str]:
        return [self.text[s:e] for s, e in self.spans]

    @cached_property
    def quoted(self) -> np.ndarray:
        """Indices of the sentences that carry a quote."""
        return np.flatnonzero(np.diff(self.matrix("quotes").indptr) > 0)

    def quotes(self, i: int) -> frozenset[str]:
        return self.rows.quote_sets[self.first + i]


@dataclass(frozen=True)
class StoryGroups:
    """Documents that carry one text: verbatim duplicates joined, each excerpt attached to
    its longest container.  Rarity (names, IDF) and neighbour lists are judged over groups,
    so reprints of one article neither make its names common nor fill its neighbour list;
    each group is represented by its longest member."""

    group: tuple[int, ...]   # the representative (index of the longest member) of each document

    @classmethod
    def singletons(cls, n: int) -> "StoryGroups":
        return cls(tuple(range(n)))

    @classmethod
    def join(cls, lengths: Sequence[int], duplicates: Sequence[tuple[int, int]],
             excerpts: Sequence[tuple[int, int]]) -> "StoryGroups":
        """``duplicates``: pairs that are one text; ``excerpts``: (contained, container) pairs.
        An excerpt joins only its longest container, so a round-up quoting two stories does
        not merge them."""
        parent = list(range(len(lengths)))

        def root(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        container: dict[int, int] = {}
        for part, whole in excerpts:
            if part not in container or story_rank(lengths[whole], whole) > story_rank(lengths[container[part]],
                                                                                       container[part]):
                container[part] = whole
        for i, j in [*duplicates, *container.items()]:
            parent[root(i)] = root(j)
        longest: dict[int, int] = {}
        for i in range(len(lengths)):
            r = root(i)
            if r not in longest or story_rank(lengths[i], i) > story_rank(lengths[longest[r]], longest[r]):
                longest[r] = i
        return cls(tuple(longest[root(i)] for i in range(len(lengths))))

    @classmethod
    def of_verbatim(cls, analyses: Sequence["DocumentAnalysis"], verbatim: dict[tuple[int, int], "PairEvidence"],
                    relation: "RelationSettings") -> "StoryGroups":
        """Groups from the verbatim stage's evidence, by the one rule that names duplicates and excerpts."""
        return cls.of_evidence([a.fingerprint.n_tokens for a in analyses], verbatim, relation)

    @classmethod
    def of_evidence(cls, lengths: Sequence[int], verbatim: dict[tuple[int, int], "PairEvidence"],
                    relation: "RelationSettings") -> "StoryGroups":
        """``of_verbatim`` from each document's length in tokens (all it reads of the analyses: the
        Spark engine's driver holds no analysis)."""
        duplicates, excerpts = [], []
        for key, evidence in verbatim.items():
            link = story_link(key, evidence, relation)
            if link is not None:
                (duplicates if link[0] == DUPLICATE else excerpts).append(link[1])
        return cls.join(list(lengths), duplicates, excerpts)

    @property
    def representatives(self) -> list[int]:
        return sorted(set(self.group))

    def members(self) -> dict[int, list[int]]:
        """Representative -> every document of its group (the representative first)."""
        found: dict[int, list[int]] = {r: [r] for r in self.representatives}
        for i, r in enumerate(self.group):
            if i != r:
                found[r].append(i)
        return found


def story_link(key: tuple[int, int], evidence: "PairEvidence", relation: "RelationSettings"
               ) -> tuple[str, tuple[int, int]] | None:
    """What one verbatim pair brings to the story groups: (``duplicate``, its key), (``excerpt``,
    (contained, container)), or None (the rule for one pair: the Spark engine's executors call it
    per pair, ``StoryGroups.of_evidence`` per corpus)."""
    found = verbatim_relation(evidence.overlap, relation)
    if found == DUPLICATE:
        return DUPLICATE, key
    if found == EXCERPT:
        i, j = key
        a_in_b = evidence.overlap.containment_a_in_b >= evidence.overlap.containment_b_in_a
        return EXCERPT, (i, j) if a_in_b else (j, i)
    return None


def story_rank(length: int, index: int) -> tuple[int, int]:
    """The order in which a story is represented by its longest member and an excerpt joins its
    longest container: longer first, the lower index on ties."""
    return length, -index


def story_pairs(group: Sequence[int], pairs: Iterable[tuple[int, int]], known: Iterable[tuple[int, int]]
                ) -> list[tuple[int, int]]:
    """Document ``pairs`` as pairs of their stories' representatives (``group``: each document's),
    sorted, each once, leaving out those ``known`` and a story paired with itself (the verbatim
    overlaps the paraphrase stage tries besides the neighbours, locally and on Spark)."""
    stories = {(min(group[i], group[j]), max(group[i], group[j])) for i, j in pairs} - set(known)
    return [(int(i), int(j)) for i, j in sorted(stories) if i != j]


class EvidenceTexts(Sequence[str]):
    """The evidence texts of analyses, each made when read (``DocumentAnalysis.evidence_text``):
    the text model reads a document's text again when a cosine needs its character rows, and
    a list would hold every text a second time."""

    def __init__(self, analyses: Sequence["DocumentAnalysis"]) -> None:
        self.analyses = analyses

    def __len__(self) -> int:
        return len(self.analyses)

    def __getitem__(self, k):   # an index or a slice, as a Sequence's
        if isinstance(k, slice):
            return [a.evidence_text for a in self.analyses[k]]
        return self.analyses[k].evidence_text


class ParaphraseFinder:
    """Finds retellings: TF-IDF neighbours, then sentence alignment (parameters: ``ParaphraseSettings``)."""

    def __init__(self, settings: ParaphraseSettings | None = None,
                 sentence_model: SentenceModel | None = None) -> None:
        s = settings or ParaphraseSettings()
        self.settings = s
        self.sentence_model = sentence_model if sentence_model is not None else SentenceModel.load()
        self._facts: dict[str, Facts] = {}
        self._sentences: dict[str, SentenceData] = {}
        self._content: dict[str, RowSlice] = {}   # content-word rows of documents not (yet) prepared in full
        self._words: dict[str, list[list[str]]] = {}   # their sentences' words, until ``compare_many`` returns
        self._retained: frozenset[str] = frozenset()
        self._row: dict[str, int] = {}
        self._groups = StoryGroups.singletons(0)

    # -- the corpus --------------------------------------------------------

    def prepare(self, analyses: Sequence["DocumentAnalysis"], context: "Context",
                groups: StoryGroups | None = None, progress: ProgressCallback | None = None,
                jobs: int = 1) -> None:
        """Learn what the stage needs from the corpus, chrome blanked out: document vectors
        with an IDF counted over story ``groups`` (default: each document its own), so copies
        of one article count once.  Stored in ``context``.  Nothing learned here changes how
        a pair's sentences are judged (only which pairs are tried), so every front end judges
        a pair alike.  Seconds on a large corpus: reported as stage ``set-up``, a step per
        ``TextModel.CHUNK`` documents, hashed on ``jobs`` processes."""
        groups = groups or StoryGroups.singletons(len(analyses))
        context.text_model = TextModel(jobs).fit(EvidenceTexts(analyses), stories=groups.representatives,
                                                 progress=progress)
        context.paraphraser = self
        self._row = {a.id: i for i, a in enumerate(analyses)}
        self._groups = groups

    def similarity(self, context: "Context", a: "DocumentAnalysis", b: "DocumentAnalysis") -> float:
        """Document-level TF-IDF cosine of two prepared documents."""
        return float(context.text_model.cosines([self._row[a.id]], [self._row[b.id]])[0])

    def candidates(self, context: "Context", extra: Sequence[tuple[int, int]] = ()) -> dict[tuple[int, int], float]:
        """(i, j) -> document cosine for each story's best TF-IDF neighbours, plus ``extra`` pairs
        (verbatim overlaps, which may turn out to be retellings), each judged on its stories'
        representatives."""
        model, groups = context.text_model, self._groups
        keep = np.asarray(groups.representatives)
        found = {(int(keep[i]), int(keep[j])): c for i, j, c in self.candidate_pairs(
            _keep_top(model.word_matrix_, self.settings.top_terms)[keep],
            lambda rows, cols: model.cosines(keep[rows], keep[cols], at_least=self.settings.min_similarity))}
        pairs = story_pairs(groups.group, extra, found)
        if pairs:
            rows, cols = np.array(pairs).T
            for (i, j), c in zip(pairs, model.cosines(rows, cols)):
                found[(i, j)] = float(c)
        return found

    def facts(self, analysis: "DocumentAnalysis") -> "Facts":
        """Quotes, figures and names of a document, extracted once."""
        found = self._facts.get(analysis.id)
        if found is None:
            found = self._facts[analysis.id] = Facts.of(analysis.evidence_text)
        return found

    def sentence_data(self, analysis: "DocumentAnalysis") -> SentenceData:
        """A document's sentences with their feature rows, computed once."""
        found = self._sentences.get(analysis.id)
        if found is None:
            self.prepare_sentences([analysis])
            found = self._sentences[analysis.id]
        return found

    def content(self, analysis: "DocumentAnalysis") -> RowSlice:
        """A document's content-word rows (``SentenceRows.content``): from its sentence data when
        prepared, else from ``prepare_content``."""
        data = self._sentences.get(analysis.id)
        return data.matrix("content") if data is not None else self._content[analysis.id]

    def prepare_content(self, analyses: Sequence["DocumentAnalysis"]) -> None:
        """The content-word rows of documents whose sentences are not prepared (``content_only``:
        the same rows, all in one pass)."""
        todo = list({a.id: a for a in analyses if a.id not in self._sentences and a.id not in self._content}.values())
        if not todo:
            return
        texts = [sentence for a in todo for sentence in _sentence_texts(a)]
        split = split_words(texts)
        matrix = content_only(texts, self.sentence_model.weights, split)
        first = 0
        for a in todo:
            self._content[a.id] = RowSlice.of(matrix, first, first + len(a.sentences))
            self._words[a.id] = split[first:first + len(a.sentences)]
            first += len(a.sentences)

    def forget(self, ids: Iterable[str]) -> None:
        """Drop what was prepared for these documents (they have no pair left to align), except
        for those ``retain`` names."""
        for doc_id in ids:
            if doc_id not in self._retained:
                self._facts.pop(doc_id, None)
                self._sentences.pop(doc_id, None)
                self._content.pop(doc_id, None)
                self._words.pop(doc_id, None)

    def retain(self, ids: Iterable[str]) -> None:
        """Keep what is prepared for these documents through ``forget`` (they may have pairs later)."""
        self._retained = frozenset(ids)

    @property
    def retained(self) -> frozenset[str]:
        return self._retained

    def carry(self, ids: Iterable[str], needed: Iterable[str] = ()) -> None:
        """``retain`` these documents instead of those retained so far, which are forgotten unless
        ``needed``; those already prepared get rows of their own (as ``prepare_sentences`` gives
        retained ones)."""
        before = self._retained
        self._retained = frozenset(ids)
        self.forget(before - self._retained - set(needed))
        for doc_id in self._retained - before:
            data = self._sentences.get(doc_id)
            if data is not None:
                self._keep(doc_id, data)

    def prepare_sentences(self, analyses: Sequence["DocumentAnalysis"], batch: int = 500) -> None:
        """Sentence data of many documents, ``batch`` at a time (one vectorised pass each)."""
        todo = list({a.id: a for a in analyses if a.id not in self._sentences}.values())
        # a verbatim copy has its original's sentences, rows and all (a reprint's text is the same)
        known = {(data.text, data.spans): data for data in self._sentences.values()}
        for a in todo:
            same = known.get((a.evidence_text, a.sentences))
            if same is not None:
                self._keep(a.id, same)
        todo = [a for a in todo if a.id not in self._sentences]
        for start in range(0, len(todo), batch):
            chunk = todo[start:start + batch]
            keys = [(a.evidence_text, a.sentences) for a in chunk]
            texts = dict(zip(keys, chunk))   # each distinct text (and its sentences) once
            prepared = dict(zip(texts, SentenceData.batch(list(texts), self.sentence_model,
                                                          self._split(texts.values()))))
            for a, key in zip(chunk, keys):
                self._keep(a.id, prepared[key])

    def _split(self, analyses: Iterable["DocumentAnalysis"]) -> list[list[str]]:
        """The words of the documents' sentences, one after another: those ``prepare_content`` found
        (a document checked on its content words first is not tokenised twice), the others split now."""
        return [words for a in analyses
                for words in self._words.get(a.id) or split_words(_sentence_texts(a))]

    def _keep(self, doc_id: str, data: SentenceData) -> None:
        """Store a document's sentence data: a document kept for later pairs (``retain``) gets rows
        of its own, so that its batch's matrices go as soon as the batch's other documents are
        forgotten."""
        retained = doc_id in self._retained and len(data.rows) > len(data.spans)
        self._sentences[doc_id] = data.detached() if retained else data
        self._content.pop(doc_id, None)   # ``content`` reads the sentence data from now on

    def candidate_pairs(self, words: sp.csr_matrix, cosines: Callable[[np.ndarray, np.ndarray], np.ndarray]
                        ) -> list[tuple[int, int, float]]:
        """(i, j, cosine) with i < j for each document's best neighbours: one pruned sparse
        product over ``words``, the best ``3 * neighbours`` of each row by it scored with the
        full ``cosines(rows, cols)``."""
        pruned = _keep_top(words, self.settings.top_terms)
        df = np.bincount(pruned.indices, minlength=pruned.shape[1])
        if (df > self.settings.max_df_docs).any():
            pruned.data[df[pruned.indices] > self.settings.max_df_docs] = 0
            pruned.eliminate_zeros()
        shortlist = _shortlist(pruned, 3 * self.settings.neighbours).tocoo()
        scored = _each_pair_once(cosines, shortlist.row, shortlist.col)
        best = _keep_top(sp.csr_matrix((scored, (shortlist.row, shortlist.col)), shape=shortlist.shape),
                         self.settings.neighbours).tocoo()
        keep = best.data >= self.settings.min_similarity
        found: dict[tuple[int, int], float] = {}
        for i, j, c in zip(best.row[keep].tolist(), best.col[keep].tolist(), best.data[keep].tolist()):
            found[(min(i, j), max(i, j))] = c
        return sorted((i, j, c) for (i, j), c in found.items())

    # -- pairs -------------------------------------------------------------

    def compare(self, a: "DocumentAnalysis", b: "DocumentAnalysis", context: "Context",
                similarity: float | None = None) -> SentenceEvidence:
        """The sentences of ``a`` and ``b`` that say the same thing, with evidence a person can check."""
        return self.compare_many([(a, b, similarity, None)], context)[0]

    @one_blas_thread
    def compare_many(self, pairs: Sequence[tuple["DocumentAnalysis", "DocumentAnalysis", float | None,
                                                 "Overlap | None"]],
                     context: "Context") -> list[SentenceEvidence]:
        """``compare`` of each ``(a, b, similarity, overlap)``, the candidate sentence pairs of all
        of them scored by the sentence model in one go (the same scores, a fraction of the calls).
        ``overlap``, when given, is the pair's verbatim overlap as it will be decided on: a pair that
        could not become a paraphrase with it even if every sentence aligned is not aligned at all
        (its sentences not even prepared), nor one whose candidate sentence pairs could not make one."""
        similarities = self.similarities(context, pairs)
        relation = context.settings.relation
        hopeful = [k for k, (a, b, _, overlap) in enumerate(pairs)
                   if _could_be_paraphrase(len(a.sentences), len(b.sentences), len(a.sentences), len(b.sentences),
                                           relation, overlap)]
        anchored = {k: self.facts(pairs[k][0]).anchors(self.facts(pairs[k][1])) for k in hopeful}
        # An unanchored pair's only candidates are its sentence pairs of similar content words: when
        # too few of its sentences have one, it is ruled out on those words alone, before its
        # sentences are prepared in full (ten times the cost), by the very test ``plan_sentences`` makes.
        self.prepare_content([x for k in hopeful if not anchored[k] for x in pairs[k][:2]])
        # the same rows as the prepared sentences' (``content_only``), so ``plan_sentences`` reuses the cosines
        cosines = {k: cross(self.content(pairs[k][0]), self.content(pairs[k][1])) for k in hopeful if not anchored[k]}
        hopeful = [k for k in hopeful if anchored[k] or _could_align(cosines[k] >= self.settings.prefilter, relation,
                                                                     pairs[k][3])]
        self.prepare_sentences([x for k in hopeful for x in pairs[k][:2]])
        found = [SentenceEvidence((), 0.0, 0.0, similarity) for similarity in similarities]
        plans = {}
        for k in hopeful:
            a, b, _, overlap = pairs[k]
            names = self.telling_names(context, a, b) if anchored[k] else frozenset()   # only anchored ones use names
            plan = self.plan_sentences(self.sentence_data(a), self.sentence_data(b), anchored[k], names, relation,
                                       overlap, cosines.get(k))
            if plan is not None:
                plans[k] = plan
        for (k, plan), probabilities in zip(plans.items(), self.score(plans.values())):
            a, b, _, _ = pairs[k]
            found[k] = self.evidence(a, b, self.settle(plan, probabilities), similarities[k])
        self._words.clear()
        return found

    def similarities(self, context: "Context", pairs: Sequence[tuple["DocumentAnalysis", "DocumentAnalysis",
                                                                      float | None, object]]) -> list[float]:
        """Each pair's given document cosine, or the text model's (all missing ones in one call)."""
        found = [similarity for _, _, similarity, _ in pairs]
        missing = [k for k, similarity in enumerate(found) if similarity is None]
        if missing:
            rows = [self._row[pairs[k][0].id] for k in missing]
            cols = [self._row[pairs[k][1].id] for k in missing]
            for k, cosine in zip(missing, context.text_model.cosines(rows, cols).tolist()):
                found[k] = cosine
        return found

    def telling_names(self, context: "Context", a: "DocumentAnalysis", b: "DocumentAnalysis") -> frozenset[str]:
        """The names both documents carry that point to a common source (``telling_names``)."""
        rare = telling_names(self.facts(a).names & self.facts(b).names, self.sentence_data(a), self.sentence_data(b))
        return rare & context.rare_names if context.rare_names is not None else rare

    def evidence(self, a: "DocumentAnalysis", b: "DocumentAnalysis", result: SentenceAlignment,
                 similarity: float) -> SentenceEvidence:
        """The alignment as evidence: what aligned, how much of each side, and the facts both carry."""
        if not result.alignments:
            return SentenceEvidence((), result.aligned_a, result.aligned_b, similarity)
        facts_a, facts_b = self.facts(a), self.facts(b)
        quoted, figures = facts_a.shared_quotes(facts_b), facts_a.shared_figures(facts_b)
        evidence = (f"{len(result.alignments)} sentences aligned "
                    f"({result.aligned_a:.0%} of {a.id}, {result.aligned_b:.0%} of {b.id}), "
                    f"document cosine {similarity:.2f}"
                    + (f"; anchored by {len(quoted)} shared quotes and {len(figures)} figures"
                       if _anchored(bool(quoted), figures) else ""),
                    *describe(facts_a.quotes, facts_b.quotes, facts_a.numbers, facts_b.numbers,
                              facts_a.names, facts_b.names))
        return SentenceEvidence(tuple(result.alignments), result.aligned_a, result.aligned_b, similarity, evidence)

    def decide(self, probabilities: np.ndarray) -> np.ndarray:
        """dedup's sentence-level paraphrase decision (what benchmarks/msrp.py measures)."""
        return probabilities >= self.settings.sentence_probability

    def align_texts(self, text_a: str, text_b: str, anchored: bool = False,
                    names: frozenset[str] = frozenset()) -> SentenceAlignment:
        """``align_sentences`` for two plain texts (their sentences of five words or more)."""
        return self.align_sentences(SentenceData.of(text_a, _content_sentences(text_a), self.sentence_model),
                                    SentenceData.of(text_b, _content_sentences(text_b), self.sentence_model),
                                    anchored, names)

    @one_blas_thread
    def align_sentences(self, a: SentenceData, b: SentenceData, anchored: bool = False,
                        names: frozenset[str] = frozenset(),
                        relation: RelationSettings | None = None) -> SentenceAlignment:
        """Align sentences one to one.  A pair qualifies when the sentence model says the two
        are paraphrases, or, in documents anchored by a shared quote or figures, when it
        carries its own evidence (a shared quote, figure or rare name) and some similarity.
        With ``relation``, documents that could not make a paraphrase even if every candidate
        sentence pair aligned are not scored (the answer would be no alignment that counts)."""
        plan = self.plan_sentences(a, b, anchored, names, relation)
        if plan is None:
            return SentenceAlignment([], 0.0, 0.0)
        return self.settle(plan, self.score([plan])[0])

    def plan_sentences(self, a: SentenceData, b: SentenceData, anchored: bool, names: frozenset[str],
                       relation: RelationSettings | None, overlap: "Overlap | None" = None,
                       cosines: np.ndarray | None = None) -> "SentencePlan | None":
        """What ``align_sentences`` knows before the sentence model is asked: the sentence cosines
        (``cosines``, the content-word cosines of ``a`` and ``b``, when already computed), the pairs
        carrying their own evidence, the candidate pairs; None when nothing can align or (with
        ``relation``) nothing that aligns could make a paraphrase."""
        if not a.spans or not b.spans:
            return None
        if cosines is None:
            cosines = cross(a.matrix("content"), b.matrix("content"))
        evidenced = np.zeros_like(cosines, dtype=bool)
        bonus = None
        if anchored:
            bonus = self.anchor_bonus(a, b, names)
            evidenced = (bonus > 0) & (cosines + bonus >= self.settings.anchored_threshold)
        passing = cosines >= self.settings.prefilter   # the model is asked only where words overlap
        if relation is not None and not _could_align(passing | evidenced, relation, overlap):
            return None
        return SentencePlan(a, b, cosines, evidenced, bonus, np.argwhere(passing))

    def score(self, plans: "Iterable[SentencePlan]") -> list[np.ndarray]:
        """The sentence model's probability for each plan's candidate pairs, all plans' pairs
        featurised in one call: the sentences of every document involved gathered into one set of
        rows (``SentenceRows.concat``; documents prepared in different batches, or kept with rows
        of their own, would otherwise be scored batch pair by batch pair, a call each)."""
        plans = list(plans)
        found: list[np.ndarray] = [np.zeros(0) for _ in plans]
        asked = [k for k, plan in enumerate(plans) if len(plan.candidates)]
        if not asked:
            return found
        offset: dict[int, int] = {}   # id of a document's SentenceData -> its first row in the gathered rows
        ranges, filled = [], 0
        for data in (side for k in asked for side in (plans[k].a, plans[k].b)):
            if id(data) not in offset:
                offset[id(data)] = filled
                ranges.append((data.rows, data.first, data.first + len(data.spans)))
                filled += len(data.spans)
        rows = SentenceRows.concat(ranges)
        rows_a = np.concatenate([offset[id(plans[k].a)] + plans[k].candidates[:, 0] for k in asked])
        rows_b = np.concatenate([offset[id(plans[k].b)] + plans[k].candidates[:, 1] for k in asked])
        probabilities = self.sentence_model.probability(pair_features(rows, rows_a, rows, rows_b))
        for k, part in zip(asked, np.split(probabilities, np.cumsum([len(plans[k].candidates) for k in asked])[:-1])):
            found[k] = part
        return found

    def settle(self, plan: "SentencePlan", probabilities: np.ndarray) -> SentenceAlignment:
        """The alignment a plan makes with its candidates' probabilities."""
        a, b, cosines, candidates = plan.a, plan.b, plan.cosines, plan.candidates
        weights = np.zeros_like(cosines)
        if len(candidates):
            chosen = self.decide(probabilities)
            weights[candidates[chosen, 0], candidates[chosen, 1]] = probabilities[chosen]
        if plan.bonus is not None:
            weights = np.where(plan.evidenced, np.maximum(weights, np.minimum(cosines + plan.bonus, 1.0)), weights)
        matches = self.match(weights, plan.evidenced)
        alignments = [Alignment(a.spans[i][0], a.spans[i][1], b.spans[j][0], b.spans[j][1], float(weights[i, j]))
                      for i, j in matches]
        return SentenceAlignment(alignments, len(matches) / len(a.spans), len(matches) / len(b.spans))

    def anchor_bonus(self, a: SentenceData, b: SentenceData, names: frozenset[str]) -> np.ndarray:
        """Extra score for sentence pairs that carry the same quote, figure or rare name."""
        figures = cross(a.matrix("distinctive"), b.matrix("distinctive"))
        bonus = self.settings.number_bonus * np.minimum(figures, 2)
        if names:
            shared = cross(a.matrix("names"), b.matrix("names"), np.unique([word_hash(n) for n in names]))
            bonus += self.settings.name_bonus * np.minimum(shared, 2)
        for i in a.quoted.tolist():
            for j in b.quoted.tolist():
                if quotes_match(a.quotes(i), b.quotes(j)):
                    bonus[i, j] += self.settings.quote_bonus
        return bonus

    def match(self, weights: np.ndarray, evidenced: np.ndarray) -> list[tuple[int, int]]:
        """One-to-one sentence matches: the best order-keeping set, then reordered ones
        (retellings reorder) that are clearly paraphrases or carry their own evidence."""
        ordered = _monotone_matches(weights)
        used_a, used_b = {i for i, _ in ordered}, {j for _, j in ordered}
        extra = []
        eligible = (weights > 0) & ((weights >= self.settings.strong_probability) | evidenced)
        flat = np.flatnonzero(eligible)
        for k in flat[np.argsort(-weights.ravel()[flat], kind="stable")].tolist():
            i, j = divmod(k, weights.shape[1])
            if i not in used_a and j not in used_b:
                extra.append((i, j))
                used_a.add(i)
                used_b.add(j)
        return sorted(ordered + extra)


@dataclass(frozen=True)
class SentencePlan:
    """A pair's sentences as judged before the sentence model is asked (``plan_sentences``)."""

    a: SentenceData
    b: SentenceData
    cosines: np.ndarray          # (n, m) content-word cosines
    evidenced: np.ndarray        # (n, m) pairs carrying their own evidence (anchored documents only)
    bonus: np.ndarray | None     # (n, m) anchor bonus, when anchored
    candidates: np.ndarray       # (k, 2) sentence pairs the model is asked about


def _could_align(possible: np.ndarray, relation: RelationSettings, overlap: "Overlap | None") -> bool:
    """``_could_be_paraphrase`` when only the sentence pairs marked in ``possible`` (n, m) may align."""
    return _could_be_paraphrase(int(possible.any(axis=1).sum()), int(possible.any(axis=0).sum()), *possible.shape,
                                relation, overlap)


def _could_be_paraphrase(rows: int, cols: int, n: int, m: int, relation: RelationSettings,
                         overlap: "Overlap | None" = None) -> bool:
    """Whether the best conceivable alignment of ``n`` and ``m`` sentences (every one of the
    ``rows`` and ``cols`` that have a candidate partner matched) would make a paraphrase by
    ``classify.decide``, with the pair's verbatim ``overlap`` when it is known: if not, scoring
    the sentences cannot change the verdict."""
    if not n or not m:
        return False
    most = min(rows, cols)
    best = SentenceEvidence((None,) * most, most / n, most / m, 0.0)
    if overlap is None:
        return is_paraphrase(best, relation)
    from .core import PairEvidence
    decision = decide(PairEvidence("", "", overlap, best), relation)
    return decision is not None and decision.relation == PARAPHRASE


@dataclass(frozen=True)
class Facts:
    """Checkable content of a text: quotes, distinctive figures, names."""

    quotes: frozenset[str]
    numbers: frozenset[str]
    text: str = field(repr=False, compare=False)   # the text itself, for ``names``

    @cached_property
    def names(self) -> frozenset[str]:
        """Found when first asked: whether a pair is anchored (which most pairs are judged on
        alone) takes quotes and figures only, and names cost the most to find."""
        return frozenset(names(self.text))

    @cached_property
    def distinctive_numbers(self) -> frozenset[str]:
        return frozenset(distinctive(self.numbers))

    def shared_quotes(self, other: "Facts") -> list[str]:
        return matching_quotes(self.quotes, other.quotes)

    def shared_figures(self, other: "Facts") -> frozenset[str]:
        return self.distinctive_numbers & other.distinctive_numbers

    def anchors(self, other: "Facts") -> bool:
        """A shared distinctive quote or figures make a common origin likely, so weaker sentence
        matches are admitted; without them the bar stays high (``_anchored``)."""
        return _anchored(quotes_match(self.quotes, other.quotes), self.shared_figures(other))

    @classmethod
    def of(cls, text: str) -> "Facts":
        return cls(frozenset(quotes(text)), frozenset(numbers(text)), text)


TOPIC_SENTENCES = 2   # a name in more sentences than this of either document is what both are about


def _anchored(shares_quote: bool, figures: frozenset[str]) -> bool:
    """The rule: a shared quote, or two shared distinctive figures."""
    return shares_quote or len(figures) >= 2


def telling_names(shared: frozenset[str], a: SentenceData, b: SentenceData) -> frozenset[str]:
    """The shared names that point to a common source rather than a common subject: each
    named in at most ``TOPIC_SENTENCES`` sentences of either document ("Meta" in every other
    sentence of two articles about Meta proves nothing; the one researcher both quote does).
    Judged within the pair, so copies elsewhere in a corpus cannot change it, and ``dedup
    compare`` and a scan agree."""
    if not shared:
        return frozenset()
    in_a, in_b = a.matrix("names").indices, b.matrix("names").indices
    return frozenset(name for name in shared
                     if max((in_a == word_hash(name)).sum(), (in_b == word_hash(name)).sum()) <= TOPIC_SENTENCES)


class TextModel:
    """Document vectors in two parts: hashed content-word uni+bigrams and character 4-grams
    of content words, sublinear tf times an IDF counted over the corpus's stories in one
    pass, each part L2-normalised.  The cosine of two documents is that of the two parts
    side by side (``cosines``), without ever building the side-by-side matrix."""

    CHUNK = 2000   # documents hashed at a time at most: bounds the transient token arrays on large corpora

    def __init__(self, jobs: int = 1) -> None:
        self.jobs = jobs   # processes hashing chunks of documents (0: every core; see ``fanout``)
        self.words = _WordTable()   # each distinct word hashed once (a worker process adds to its own copy)

    def fit(self, texts: Sequence[str], stories: Sequence[int] | None = None,
            progress: ProgressCallback | None = None) -> "TextModel":
        """Rows for ``texts``; IDF counted over the rows listed in ``stories`` (default: all).
        The word rows are kept (``word_matrix_``); of the character rows only their IDF, and
        the rows a cosine needs are made again from ``texts`` (kept, not copied: a lazy
        sequence is welcome) when asked (``char_rows``): the neighbour search needs them for
        a few pairs only, and kept they would be two thirds of the model's memory.  Unless
        they are few (``KEEP_CHAR_TEXTS``, ``KEEP_CHAR_ENTRIES``): then they are kept, and not
        made twice.  Chunks of documents are hashed on ``jobs`` processes (``_count_chunk``:
        the workers inherit ``texts``, only document indexes go out)."""
        is_story = np.zeros(len(texts), dtype=bool)
        is_story[np.arange(len(texts)) if stories is None else np.asarray(stories, dtype=np.int64)] = True
        chunk = self.chunk_size(len(texts))
        steps = len(range(0, len(texts), chunk)) + 1
        words, has_chars = [], []
        word_df, char_df = np.zeros(HASHED, dtype=np.int64), np.zeros(HASHED, dtype=np.int64)
        keep_chars = len(texts) <= KEEP_CHAR_TEXTS
        chars: list[sp.csr_matrix] | None = [] if keep_chars else None   # the character rows while few enough
        parts = map_shared(_count_chunk, (self.words, texts, is_story, keep_chars), range(len(texts)), chunk,
                           self.jobs)
        for n, part in enumerate(parts):
            words.append(part.words)
            for df, (columns, found) in ((word_df, part.word_df), (char_df, part.char_df)):
                df[columns] += found   # each column once per chunk
            has_chars.append(part.has_chars)
            if chars is not None:
                chars.append(part.chars)
                if sum(c.nnz for c in chars) > KEEP_CHAR_ENTRIES:
                    chars = None
            if progress:
                progress("set-up", n + 1, steps)
        self.texts_ = texts
        self.word_matrix_ = _stack(words, len(texts))
        self.word_idf_ = _idf(word_df, is_story)
        _weigh(self.word_matrix_, self.word_idf_)
        self.char_idf_ = _idf(char_df, is_story)
        # weighed when rows are asked for; columns not sorted yet (``char_rows`` sorts the rows it weighs)
        self.char_counts_ = None if chars is None else _stack(chars, len(texts))
        filled = (np.diff(self.word_matrix_.indptr) > 0).astype(np.float64) + np.concatenate([[]] + has_chars)
        self.norms_ = np.sqrt(np.maximum(filled, 1.0))
        if progress:
            progress("set-up", steps, steps)
        return self

    def chunk_size(self, n_texts: int) -> int:
        """Documents hashed per task: ``CHUNK``, or fewer so that each process gets about four
        chunks (ten thousand documents on two processes: 1,250; chunks of uneven cost even out),
        but not under an eighth of ``CHUNK`` (the answers are the same for any chunking)."""
        return min(self.CHUNK, max(self.CHUNK // 8, -(-n_texts // (4 * resolve_jobs(self.jobs)))))

    @classmethod
    def of_rows(cls, word_matrix: sp.csr_matrix, has_chars: np.ndarray, char_idf: np.ndarray,
                texts: Sequence[str]) -> "TextModel":
        """A model of some documents only, fitted elsewhere in parts: their weighed word rows,
        whether each has character 4-grams, the corpus's character IDF and their texts (character
        rows are made from them when asked).  Its ``cosines`` are the whole model's for these
        documents (rows are independent); the Spark engine's executors score pairs with it."""
        model = cls()
        model.texts_, model.word_matrix_, model.char_idf_, model.char_counts_ = texts, word_matrix, char_idf, None
        model.norms_ = np.sqrt(np.maximum((np.diff(word_matrix.indptr) > 0).astype(np.float64) + has_chars, 1.0))
        return model

    def char_rows(self, index: np.ndarray) -> sp.csr_matrix:
        """The weighted character rows of documents ``index`` (in that order)."""
        if self.char_counts_ is not None:   # a copy of the rows, sorted and weighed as made again below
            rows = self.char_counts_[np.asarray(index, dtype=np.int64)]
            rows.sort_indices()
            return _weigh(rows, self.char_idf_)
        texts = [self.texts_[i] for i in np.asarray(index, dtype=np.int64).tolist()]
        return _weigh(_document_counts(self.words, texts, words=False)[1], self.char_idf_)

    def cosines(self, rows: np.ndarray, cols: np.ndarray, at_least: float = 0.0) -> np.ndarray:
        """Document cosine of each pair (rows[k], cols[k]).  With ``at_least``, a pair of two
        documents with words whose word cosine is under ``WORD_SHARE * at_least`` is taken to
        fall below ``at_least``: its character part is not computed and it comes back as its
        word part alone (a value under ``at_least``).  Most pairs a neighbour search scores are
        such, and the character part is two thirds of the work.  Many pairs are shared among
        ``jobs`` processes, ``PAIRS_PER_JOB`` at a time."""
        pairs = np.column_stack([np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)])
        parts = list(map_shared(_cosines, (self, at_least), pairs, PAIRS_PER_JOB, self.jobs,
                                min_parallel=2 * PAIRS_PER_JOB))
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.float64)


# Character counts kept from the fit when all of them have no more entries than this (8 bytes each:
# 160 MB at most; 1,200 articles of the topic-dense corpus have 1.1 million, 3,000 generated ones
# 3.3 million, 100,000 would have about 110 million and are not kept): a small corpus's cosines
# then weigh the rows they need instead of hashing those texts again.
KEEP_CHAR_ENTRIES = 20_000_000
# Workers send their chunks' character rows back only for corpora of up to this many documents (10,000
# generated articles have 11 million entries): a larger corpus's would not be kept, and at 100,000 they
# would be about 900 MB to pass between processes for nothing.
KEEP_CHAR_TEXTS = 20_000
PAIRS_PER_JOB = 100_000   # pairs a process scores at a time; fewer than two such are scored here
CHAR_PAIRS = 20_000       # pairs whose character rows are made at a time: bounds those rows' memory


def _cosines(shared: tuple[TextModel, float], pairs: np.ndarray) -> np.ndarray:
    """``TextModel.cosines`` of some pairs, in one process."""
    model, at_least = shared
    rows, cols = pairs[:, 0], pairs[:, 1]
    dots = _row_dots(model.word_matrix_, rows, cols)
    has_words = np.diff(model.word_matrix_.indptr) > 0
    scored = np.flatnonzero((dots >= WORD_SHARE * at_least) | ~has_words[rows] | ~has_words[cols])
    for start in range(0, len(scored), CHAR_PAIRS):
        some = scored[start:start + CHAR_PAIRS]
        needed, local = np.unique(np.r_[rows[some], cols[some]], return_inverse=True)
        local = local.ravel()
        dots[some] += _row_dots(model.char_rows(needed), local[:len(some)], local[len(some):])
    return dots / (model.norms_[rows] * model.norms_[cols])


# Two texts that share almost no words (word cosine under a fifth of the document cosine
# sought) do not reach it through their character 4-grams: both parts count half, so at the
# default 0.2 the 4-grams alone would need a cosine of 0.36 and more, and among shortlisted
# pairs whose word cosine is under 0.05 the most measured is 0.33 (1,200 articles of the
# topic-dense real-news corpus) and 0.28 (30,000 generated).  Documents without words are
# always scored in full.
WORD_SHARE = 0.2


def _document_counts(table: "_WordTable", texts: Sequence[str], words: bool = True
                     ) -> tuple[sp.csr_matrix | None, sp.csr_matrix]:
    """Hashed counts of content-word uni+bigrams (None unless ``words``) and of character
    4-grams of content words (morphology, "suffocating"/"suffocated", at a third of the cost
    of 3-5-grams).  Words are looked up in ``table`` (hashed once per distinct
    word); the 4-gram counts are the documents' word counts times each word's 4-gram counts
    (one sparse product)."""
    word_counts, char_counts = _unsorted_counts(table, texts, words)
    char_counts.sort_indices()   # sorted columns, as ``counts`` makes them
    return word_counts, char_counts


def _sentence_texts(a: "DocumentAnalysis") -> list[str]:
    """A document's sentences as text (``evidence_text`` is made on each call: once here)."""
    text = a.evidence_text
    return [text[start:stop] for start, stop in a.sentences]


def _unsorted_counts(table: "_WordTable", texts: Sequence[str], words: bool = True
                     ) -> tuple[sp.csr_matrix | None, sp.csr_matrix]:
    """``_document_counts`` with the character rows' columns in no order (the product's):
    sorting them is most of their cost, and the fit needs only which columns each row has."""
    tokens = split_words(texts)
    ids = table.ids([w for ws in tokens for w in ws])
    rows = np.repeat(np.arange(len(texts)), [len(ws) for ws in tokens])
    content = ~table.stop[ids]
    rows, ids = rows[content], ids[content]
    word_counts = None
    if words:
        hashes = table.hashes[ids]
        content_words = HashedTokens(len(texts), rows, hashes, np.zeros(len(ids), dtype=bool), hashes, [])
        grams = [content_words.grams(1), content_words.grams(2)]
        word_counts = counts(np.concatenate([r for r, _ in grams]), np.concatenate([c for _, c in grams]), len(texts))
    # the distinct ids, ascending, and each token's place among them (``np.unique`` without its sort)
    present = np.zeros(len(table.hashes), dtype=bool)
    present[ids] = True
    distinct = np.flatnonzero(present)
    local = (np.cumsum(present) - 1)[ids]
    in_documents = sp.csr_matrix((np.ones(len(ids), dtype=np.float32), (rows, local)),
                                 shape=(len(texts), len(distinct)))
    return word_counts, (in_documents @ table.fours(distinct)).tocsr()   # no duplicates: a product's rows


@dataclass(frozen=True)
class _ChunkCounts:
    """What hashing a chunk of documents brings to ``TextModel.fit``: its word rows, in how many
    of its story rows each word and character column is (the columns met, and their counts: a
    dense count per chunk would be 8 MB to pass back), which rows have character 4-grams, and
    its character rows (columns unsorted) when they may be kept."""

    words: sp.csr_matrix
    word_df: tuple[np.ndarray, np.ndarray]
    char_df: tuple[np.ndarray, np.ndarray]
    has_chars: np.ndarray
    chars: sp.csr_matrix | None


def _count_chunk(shared: tuple["_WordTable", Sequence[str], np.ndarray, bool], indexes: range) -> _ChunkCounts:
    """The counts of the documents ``indexes`` of the fit's texts (``TextModel.fit``), in one process."""
    table, texts, is_story, keep_chars = shared
    return _chunk_counts(table, texts[indexes.start:indexes.stop], is_story[indexes.start:indexes.stop], keep_chars)


def _chunk_counts(table: "_WordTable", texts: Sequence[str], in_story: np.ndarray, keep_chars: bool) -> _ChunkCounts:
    """What hashing ``texts`` brings to a fit (``in_story``: which of them count for the IDF); the
    Spark engine's executors hash their partitions by it too."""
    word_counts, char_counts = _unsorted_counts(table, texts)
    return _ChunkCounts(word_counts, _met(_story_df(word_counts, in_story)), _met(_story_df(char_counts, in_story)),
                        np.diff(char_counts.indptr) > 0, char_counts if keep_chars else None)


def _met(df: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The columns of ``df`` that are not 0, and their values."""
    columns = np.flatnonzero(df)
    return columns.astype(np.int32), df[columns]


class _WordTable:
    """Every distinct word a text model has hashed, by id: its hash, whether it is a stop
    word, and its character 4-gram columns (as ``sentences._word`` makes them, the one
    definition: ``_word_facts``), all of them end to end (word i's from ``bounds[i]``)."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.hashes = np.empty(0, dtype=np.uint64)
        self.stop = np.empty(0, dtype=bool)
        self._fours = np.empty(0, dtype=np.int32)
        self._bounds = np.zeros(1, dtype=np.int64)

    def ids(self, words: list[str]) -> np.ndarray:
        """The id of each word, new words added."""
        new = [w for w in dict.fromkeys(words) if w not in self.index]
        if new:
            self._add(new)
        return np.fromiter(map(self.index.__getitem__, words), dtype=np.int64, count=len(words))

    def _add(self, new: list[str]) -> None:
        hashes, stop, fours, bounds = _word_facts(new)
        self.index.update(zip(new, range(len(self.index), len(self.index) + len(new))))
        self.hashes = np.concatenate([self.hashes, hashes])
        self.stop = np.concatenate([self.stop, stop])
        self._fours = np.concatenate([self._fours, fours])
        self._bounds = np.concatenate([self._bounds, self._bounds[-1] + bounds[1:]])

    def fours(self, ids: np.ndarray) -> sp.csr_matrix:
        """(len(ids), HASHED) counts of each word's character 4-grams."""
        starts = self._bounds[ids]
        lengths = self._bounds[ids + 1] - starts
        indptr = np.r_[0, np.cumsum(lengths, dtype=np.int64)]
        columns = self._fours[ranges(starts, lengths)]
        matrix = sp.csr_matrix((np.ones(len(columns), dtype=np.float32), columns, indptr), shape=(len(ids), HASHED))
        matrix.sum_duplicates()
        return matrix


def _word_facts(words: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``sentences._word``'s hash, stop-word flag and character 4-gram columns of each word: the
    4-grams of " word " end to end (word i's from ``bounds[i]``; a word of n characters has n - 1).
    The 4-grams of ASCII words are hashed in one call: ``murmurhash3_32`` of an int32 array hashes
    each value's four bytes, which are the 4-gram's UTF-8 bytes; other words' come from ``_word``."""
    hashes = np.array([murmurhash3_32(w, positive=True) for w in words], dtype=np.uint64)
    stop = np.array([w in _STOP for w in words], dtype=bool)
    lengths = np.array([len(w) for w in words], dtype=np.int64)
    bounds = np.r_[0, np.cumsum(np.maximum(lengths - 1, 0))]
    fours = np.empty(bounds[-1], dtype=np.int32)
    plain = np.array([w.isascii() for w in words], dtype=bool)
    if plain.any():
        padded = "".join(f" {w} " for w, p in zip(words, plain.tolist()) if p).encode("ascii")
        n_grams = np.maximum(lengths[plain] - 1, 0)
        starts = np.r_[0, np.cumsum(lengths[plain] + 2)[:-1]]   # of each padded word in ``padded``
        within = ranks(n_grams)
        if len(within):
            blocks = np.ndarray(shape=(len(padded) - 3,), dtype="<i4", buffer=padded, strides=(1,))
            grams = np.ascontiguousarray(blocks[np.repeat(starts, n_grams) + within], dtype=np.int32)
            fours[np.repeat(bounds[:-1][plain], n_grams) + within] = murmurhash3_32(grams, positive=True) % HASHED
    for k in np.flatnonzero(~plain).tolist():
        fours[bounds[k]:bounds[k + 1]] = _word(words[k])[4]
    return hashes, stop, fours, bounds


def _stack(parts: list[sp.csr_matrix], n_rows: int) -> sp.csr_matrix:
    """The rows of ``parts`` one under another; ``parts`` is emptied.  Each array is joined
    and its pieces let go before the next (``sp.vstack`` holds every piece and the whole)."""
    sizes = [p.nnz for p in parts]
    indptr = np.concatenate([[0]] + [p.indptr[1:] + offset for p, offset in zip(parts, np.cumsum([0] + sizes[:-1]))])
    n_columns = parts[0].shape[1] if parts else HASHED
    pieces = [p.data for p in parts], [p.indices for p in parts]
    parts.clear()
    data = np.concatenate(pieces[0]) if pieces[0] else np.empty(0, dtype=np.float32)
    pieces[0].clear()
    indices = np.concatenate(pieces[1]) if pieces[1] else np.empty(0, dtype=np.int32)
    pieces[1].clear()
    return sp.csr_matrix((data, indices, indptr), shape=(n_rows, n_columns))


WEIGH_ROWS = 10_000   # rows weighed at a time: bounds the float64 temporaries on a large corpus


def _row_blocks(matrix: sp.csr_matrix) -> list[tuple[int, int]]:
    return [(start, min(start + WEIGH_ROWS, matrix.shape[0])) for start in range(0, matrix.shape[0], WEIGH_ROWS)]


def _story_df(matrix: sp.csr_matrix, is_story: np.ndarray) -> np.ndarray:
    """In how many of the story rows each column is, ``WEIGH_ROWS`` rows at a time."""
    indptr, df = matrix.indptr, np.zeros(matrix.shape[1], dtype=np.int64)
    for start, end in _row_blocks(matrix):
        in_story = np.repeat(is_story[start:end], np.diff(indptr[start:end + 1]))
        df += np.bincount(matrix.indices[indptr[start]:indptr[end]][in_story], minlength=matrix.shape[1])
    return df


def _idf(df: np.ndarray, is_story: np.ndarray) -> np.ndarray:
    """Smoothed IDF over the story rows (as scikit-learn computes it)."""
    return (np.log((1 + is_story.sum()) / (1 + df)) + 1).astype(np.float32)


def _weigh(matrix: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """In place: (1 + log tf) times ``idf``, rows L2-normalised; ``WEIGH_ROWS`` rows at a time
    (each row's sums are the same, so are the results)."""
    indptr = matrix.indptr
    for start, end in _row_blocks(matrix):
        at = slice(indptr[start], indptr[end])
        data = (1 + np.log(matrix.data[at])) * idf[matrix.indices[at]]
        rows = np.repeat(np.arange(end - start, dtype=np.int32), np.diff(indptr[start:end + 1]))
        norms = np.sqrt(np.bincount(rows, weights=data.astype(np.float64) ** 2, minlength=end - start))
        matrix.data[at] = data / np.maximum(norms, 1e-12).astype(np.float32)[rows]
    return matrix


def _each_pair_once(cosines: Callable[[np.ndarray, np.ndarray], np.ndarray], rows: np.ndarray,
                    cols: np.ndarray) -> np.ndarray:
    """``cosines(rows, cols)`` with each unordered pair computed once: two documents are often on
    each other's shortlists (a third of the entries at 30k generated articles), and the cosine is
    symmetric to the bit (the same products, summed in the same order)."""
    if not len(rows):
        return cosines(rows, cols)
    low, high = np.minimum(rows, cols).astype(np.int64), np.maximum(rows, cols).astype(np.int64)
    _, first, inverse = np.unique(low * (int(high.max()) + 1) + high, return_index=True, return_inverse=True)
    return cosines(low[first], high[first])[inverse.ravel()]


def _row_dots(vectors: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray, chunk: int = 5000) -> np.ndarray:
    """Dot products of the row pairs (rows[k], cols[k]), in chunks to bound memory."""
    out = np.empty(len(rows), dtype=np.float64)
    for start in range(0, len(rows), chunk):
        r, c = rows[start:start + chunk], cols[start:start + chunk]
        out[start:start + chunk] = np.asarray(vectors[r].multiply(vectors[c]).sum(axis=1)).ravel()
    return out


def _content_sentences(text: str) -> list[tuple[int, int]]:
    return [(s, e) for s, e in sentences(text) if len(text[s:e].split()) >= MIN_SENTENCE_WORDS]


def _shortlist(pruned: sp.csr_matrix, top: int, chunk: int = 2000) -> sp.csr_matrix:
    """Each row's ``top`` largest overlaps with the other rows (``pruned @ pruned.T``, diagonal
    left out), ``chunk`` rows of the product at a time: the product of a topic-dense corpus
    fills up as it grows (terms shared by up to ``max_df_docs`` documents), and a chunk's rows
    are cut to ``top`` before the next is made (rows are independent: the same entries)."""
    transposed = pruned.T.tocsr()
    parts = []
    for start in range(0, pruned.shape[0], chunk):
        block = (pruned[start:start + chunk] @ transposed).tocsr()
        block.setdiag(0, k=start)   # row r of the block is document start + r
        block.eliminate_zeros()
        parts.append(_keep_top(block, top))
    return sp.vstack(parts, format="csr") if parts else sp.csr_matrix(pruned.shape[:1] * 2)


KEEP_TOP_ROWS = 10_000   # rows cut at a time: bounds the sort's temporaries on a corpus's word matrix


def _keep_top(matrix: sp.csr_matrix, top: int) -> sp.csr_matrix:
    """Each row's ``top`` largest entries (ties: the lower column first), without a loop over
    rows; ``KEEP_TOP_ROWS`` rows at a time (rows are independent: the same entries)."""
    matrix = matrix.tocsr()
    if matrix.shape[0] <= KEEP_TOP_ROWS:
        return _keep_top_rows(matrix, top)
    return _stack([_keep_top_rows(matrix[start:start + KEEP_TOP_ROWS], top)
                   for start in range(0, matrix.shape[0], KEEP_TOP_ROWS)], matrix.shape[0])


def _keep_top_rows(matrix: sp.csr_matrix, top: int) -> sp.csr_matrix:
    matrix.sum_duplicates()
    counts = np.diff(matrix.indptr)
    if not len(counts) or counts.max(initial=0) <= top:
        return matrix.copy()
    rows = np.repeat(np.arange(matrix.shape[0]), counts)
    if matrix.data.dtype == np.float32:
        keep = _row_top(_ascending(matrix.data), rows, matrix.indptr, counts, top)
    else:
        keep = np.repeat(counts <= top, counts)   # a row with no more than ``top`` entries keeps them all
        cut = np.flatnonzero(~keep)               # only the longer rows are sorted
        order = cut[np.lexsort((matrix.indices[cut], -matrix.data[cut], rows[cut]))]
        long_counts = counts[counts > top]
        rank = ranks(long_counts)
        keep[order[rank < top]] = True
    kept_counts = np.bincount(rows[keep], minlength=matrix.shape[0])
    return sp.csr_matrix((matrix.data[keep], matrix.indices[keep], np.r_[0, np.cumsum(kept_counts)]),
                         shape=matrix.shape)


def _ascending(values: np.ndarray) -> np.ndarray:
    """float32 values as uint32 keys in the same order (IEEE order as unsigned; -0.0 ties with 0.0):
    0 is the smallest key of all (that of 0.0 when no value is negative)."""
    bits = (values + np.float32(0)).view(np.uint32)   # + 0 turns -0.0 into 0.0
    negative = bits >> np.uint32(31)
    if not negative.any():   # weights: the bits alone are in order
        return bits
    return np.where(negative, ~bits, bits | np.uint32(0x80000000))


def _row_top(keys: np.ndarray, rows: np.ndarray, indptr: np.ndarray, counts: np.ndarray, top: int) -> np.ndarray:
    """Which entries are among their row's ``top`` largest ``keys`` (ties: the earlier entry first,
    which in canonical CSR is the lower column), without a sort: each longer row's ``top``-th
    largest key by ``np.partition``, over the rows laid out in blocks padded with 0 (no key is
    smaller) to the next power of two in length (at most twice the entries), a block per length
    class; then every key above it is kept, and of those equal to it the first ones."""
    threshold = np.zeros(len(counts), dtype=np.uint32)   # rows of ``top`` entries or fewer: all kept
    long = np.flatnonzero(counts > top)
    classes = np.ceil(np.log2(counts[long])).astype(np.int64)
    for size in np.unique(classes).tolist():
        members = long[classes == size]
        lengths = counts[members]
        within = ranks(lengths)
        block = np.zeros((len(members), 1 << size), dtype=np.uint32)
        block[np.repeat(np.arange(len(members)), lengths), within] = keys[np.repeat(indptr[members], lengths) + within]
        threshold[members] = np.partition(block, (1 << size) - top, axis=1)[:, (1 << size) - top]
    bar = threshold[rows]
    keep = keys > bar
    at_bar = np.flatnonzero(keys == bar)
    bar_rows = rows[at_bar]   # ascending
    rank = np.arange(len(at_bar)) - np.searchsorted(bar_rows, bar_rows)
    keep[at_bar[rank < top - np.bincount(rows[keep], minlength=len(counts))[bar_rows]]] = True
    return keep


def _monotone_matches(scores: np.ndarray) -> list[tuple[int, int]]:
    """Highest-total set of matches (i, j) increasing in both i and j (weighted LCS).

    One vectorised step per row: best[i, j] = max(best[i-1, j], best[i, j-1], take) is a
    running maximum along the row of max(best[i-1, j], best[i-1, j-1] + score)."""
    n, m = scores.shape
    best = np.zeros((n + 1, m + 1))
    live = (scores > 0).any(axis=1).tolist()
    for i in range(1, n + 1):
        if not live[i - 1]:   # nothing to take: the step leaves the (non-decreasing) row above as it is
            best[i] = best[i - 1]
            continue
        row = scores[i - 1]
        take = np.where(row > 0, best[i - 1, :-1] + row, -1.0)
        best[i, 1:] = np.maximum.accumulate(np.maximum(best[i - 1, 1:], take))
    return _trace_back(scores.tolist(), best.tolist())


def _trace_back(scores: list[list[float]], best: list[list[float]]) -> list[tuple[int, int]]:
    """The matches of ``_monotone_matches``'s table, from its last cell back (on Python floats:
    the same values and sums as numpy's scalars, at a fraction of the cost per step)."""
    matches = []
    i, j = len(scores), len(scores[0]) if scores else 0
    while i > 0 and j > 0:
        if scores[i - 1][j - 1] > 0 and best[i][j] == best[i - 1][j - 1] + scores[i - 1][j - 1]:
            matches.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif best[i][j] == best[i - 1][j]:
            i -= 1
        else:
            j -= 1
    return matches[::-1]
