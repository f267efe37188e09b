"""Paraphrase stage: retellings of the same report in other words (scikit-learn TF-IDF).

1. TF-IDF is fitted on the corpus being scanned, chrome blanked out: word
   uni+bigrams and character n-grams, sublinear tf.
2. Candidate pairs come from a pruned sparse self-product: each document keeps
   only its ``top_terms`` most distinctive word features, and features found in
   more than ``max_df_docs`` documents are dropped, so the product costs about
   n * top_terms * max_df_docs and never builds a dense n x n matrix.  The
   ``neighbours`` best per document are then scored with the full cosine.
3. Sentences of each candidate pair are aligned one-to-one: a dynamic programme
   finds the best alignment that keeps story order, then clearly similar
   out-of-order sentences are added (retellings do reorder).
4. A pair is a paraphrase when enough sentences align on both sides.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from .core import MIN_SENTENCE_WORDS
from .evidence import describe_shared, names, numbers, quotes, shared_quotes
from .classify import verbatim_relation
from .records import DUPLICATE, EXCERPT, Alignment
from .sentences import SentenceFeatures, SentenceModel
from .settings import ParaphraseSettings, RelationSettings
from .text import sentences

if TYPE_CHECKING:
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
            if part not in container or (lengths[whole], -whole) > (lengths[container[part]], -container[part]):
                container[part] = whole
        for i, j in [*duplicates, *container.items()]:
            parent[root(i)] = root(j)
        longest: dict[int, int] = {}
        for i in range(len(lengths)):
            r = root(i)
            if r not in longest or lengths[i] > lengths[longest[r]]:
                longest[r] = i
        return cls(tuple(longest[root(i)] for i in range(len(lengths))))

    @classmethod
    def of_verbatim(cls, analyses: Sequence["DocumentAnalysis"], verbatim: dict[tuple[int, int], "PairEvidence"],
                    relation: "RelationSettings") -> "StoryGroups":
        """Groups from the verbatim stage's evidence, by the one rule that names duplicates and excerpts."""
        duplicates, excerpts = [], []
        for (i, j), evidence in verbatim.items():
            found = verbatim_relation(evidence.overlap, relation)
            if found == DUPLICATE:
                duplicates.append((i, j))
            elif found == EXCERPT:
                a_in_b = evidence.overlap.containment_a_in_b >= evidence.overlap.containment_b_in_a
                excerpts.append((i, j) if a_in_b else (j, i))
        return cls.join([a.fingerprint.n_tokens for a in analyses], duplicates, excerpts)

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


class ParaphraseFinder:
    """Finds retellings: TF-IDF neighbours, then sentence alignment (parameters: ``ParaphraseSettings``)."""

    def __init__(self, settings: ParaphraseSettings | None = None,
                 sentence_model: SentenceModel | None = None) -> None:
        s = settings or ParaphraseSettings()
        self.settings = s
        self.neighbours = s.neighbours
        self.min_similarity = s.min_similarity
        self.sentence_probability = s.sentence_probability
        self.strong_probability = s.strong_probability
        self.prefilter = s.prefilter
        self.top_terms = s.top_terms
        self.max_df_docs = s.max_df_docs
        self.anchored_threshold = s.anchored_threshold
        self.quote_bonus = s.quote_bonus
        self.number_bonus = s.number_bonus
        self.name_bonus = s.name_bonus
        self.sentence_model = sentence_model if sentence_model is not None else SentenceModel.load()
        self._facts: dict[str, Facts] = {}
        self._names: dict[str, frozenset[str]] = {}
        self._row: dict[str, int] = {}
        self._groups = StoryGroups.singletons(0)

    # -- the corpus --------------------------------------------------------

    def prepare(self, analyses: Sequence["DocumentAnalysis"], context: "Context",
                groups: StoryGroups | None = None) -> None:
        """Learn what sentence alignment needs from the corpus, chrome blanked out: the text
        model (TF-IDF) and which names are rare, both over story ``groups`` (default: each
        document its own), so copies of one article count once.  Stored in ``context``, so
        every pair is judged the same way whichever front end asks."""
        groups = groups or StoryGroups.singletons(len(analyses))
        texts = [a.evidence_text for a in analyses]
        representatives = groups.representatives
        context.text_model = TextModel().fit([texts[r] for r in representatives], texts)
        context.paraphraser = self
        self._names = {a.id: frozenset(names(t)) for a, t in zip(analyses, texts)}
        by_group: dict[int, set[str]] = {r: set() for r in representatives}
        for a, r in zip(analyses, groups.group):
            by_group[r] |= self._names[a.id]
        context.rare_names = frozenset(_rare_names([frozenset(n) for n in by_group.values()]))
        self._row = {a.id: i for i, a in enumerate(analyses)}
        self._groups = groups

    def similarity(self, context: "Context", a: "DocumentAnalysis", b: "DocumentAnalysis") -> float:
        """Document-level TF-IDF cosine of two prepared documents."""
        vectors = context.text_model.document_matrix_
        return float(vectors[self._row[a.id]].multiply(vectors[self._row[b.id]]).sum())

    def candidates(self, context: "Context", extra: Sequence[tuple[int, int]] = ()) -> dict[tuple[int, int], float]:
        """(i, j) -> document cosine for each document's best TF-IDF neighbours, plus ``extra`` pairs
        (verbatim overlaps, which may turn out to be retellings)."""
        model, groups = context.text_model, self._groups
        keep = np.asarray(groups.representatives)
        vectors = model.document_matrix_
        found = {(int(keep[i]), int(keep[j])): c
                 for i, j, c in self.candidate_pairs(model.word_matrix_[keep], vectors[keep])}
        for i, j in extra:   # an overlap of a copy is judged on its group's representative
            i, j = sorted((groups.group[i], groups.group[j]))
            if i != j:
                found.setdefault((i, j), float(vectors[i].multiply(vectors[j]).sum()))
        return found

    def facts(self, analysis: "DocumentAnalysis") -> "Facts":
        """Quotes, figures and names of a document, extracted once."""
        found = self._facts.get(analysis.id)
        if found is None:
            found = self._facts[analysis.id] = Facts.of(analysis.evidence_text, self._names.get(analysis.id))
        return found

    def candidate_pairs(self, words: sp.csr_matrix, vectors: sp.csr_matrix) -> list[tuple[int, int, float]]:
        """(i, j, cosine) with i < j for each document's best neighbours, never a dense n x n."""
        pruned = _keep_top_terms(words, self.top_terms)
        df = np.bincount(pruned.indices, minlength=pruned.shape[1])
        pruned = pruned[:, np.flatnonzero(df <= self.max_df_docs)] if (df > self.max_df_docs).any() else pruned
        overlap = (pruned @ pruned.T).tocsr()
        found: dict[tuple[int, int], float] = {}
        for i in range(overlap.shape[0]):
            row = overlap.indices[overlap.indptr[i]:overlap.indptr[i + 1]]
            row = row[row != i]
            if not len(row):
                continue
            cosines = np.asarray(vectors[row].multiply(vectors[i]).sum(axis=1)).ravel()
            best = np.argsort(-cosines, kind="stable")[: self.neighbours]
            for j, c in zip(row[best], cosines[best]):
                if c >= self.min_similarity:
                    found[(min(i, int(j)), max(i, int(j)))] = float(c)
        return sorted((i, j, c) for (i, j), c in found.items())

    # -- one pair ------------------------------------------------------------

    def compare(self, a: "DocumentAnalysis", b: "DocumentAnalysis", context: "Context",
                similarity: float | None = None) -> SentenceEvidence:
        """The sentences of ``a`` and ``b`` that say the same thing, with evidence a person can check."""
        text_a, text_b = a.evidence_text, b.evidence_text
        if similarity is None:
            similarity = self.similarity(context, a, b)
        facts_a, facts_b = self.facts(a), self.facts(b)
        quoted = shared_quotes(text_a, text_b)
        figures = facts_a.distinctive_numbers & facts_b.distinctive_numbers
        # A shared distinctive quote or figures make a common origin likely, so weaker
        # sentence matches are admitted; without them the bar stays high.
        anchored = bool(quoted) or len(figures) >= 2
        rare = facts_a.names & facts_b.names
        if context.rare_names is not None:
            rare &= context.rare_names
        result = self.align_sentences(text_a, text_b, context.text_model, anchored, rare,
                                      list(a.sentences), list(b.sentences))
        if not result.alignments:
            return SentenceEvidence((), result.aligned_a, result.aligned_b, similarity)
        evidence = (f"{len(result.alignments)} sentences aligned "
                    f"({result.aligned_a:.0%} of {a.id}, {result.aligned_b:.0%} of {b.id}), "
                    f"document cosine {similarity:.2f}"
                    + (f"; anchored by {len(quoted)} shared quotes and {len(figures)} figures" if anchored else ""),
                    *describe_shared(text_a, text_b))
        return SentenceEvidence(tuple(result.alignments), result.aligned_a, result.aligned_b, similarity, evidence)

    def decide(self, probabilities: np.ndarray) -> np.ndarray:
        """dedup's sentence-level paraphrase decision (what benchmarks/msrp.py measures)."""
        return probabilities >= self.sentence_probability

    def align_sentences(self, text_a: str, text_b: str, model: "TextModel", anchored: bool = False,
                        names: set[str] = frozenset(), spans_a: list[tuple[int, int]] | None = None,
                        spans_b: list[tuple[int, int]] | None = None) -> SentenceAlignment:
        """Align sentences one to one.  A pair qualifies when the sentence model says the two
        are paraphrases, or, in documents anchored by a shared quote or figures, when it
        carries its own evidence (a shared quote, figure or rare name) and some similarity."""
        spans_a = _content_sentences(text_a) if spans_a is None else spans_a
        spans_b = _content_sentences(text_b) if spans_b is None else spans_b
        if not spans_a or not spans_b:
            return SentenceAlignment([], 0.0, 0.0)
        sents_a = [text_a[s:e] for s, e in spans_a]
        sents_b = [text_b[s:e] for s, e in spans_b]
        cosines = (model.sentences(sents_a) @ model.sentences(sents_b).T).toarray()
        weights = np.zeros_like(cosines)
        # Only pairs with some lexical overlap are worth the model's features (speed).
        candidates = np.argwhere(cosines >= self.prefilter)
        if len(candidates):
            features = model.sentence_features.transform([sents_a[i] for i in candidates[:, 0]],
                                                         [sents_b[j] for j in candidates[:, 1]], paired=True)
            probabilities = self.sentence_model.probability(features)
            chosen = self.decide(probabilities)
            weights[candidates[chosen, 0], candidates[chosen, 1]] = probabilities[chosen]
        evidenced = np.zeros_like(cosines, dtype=bool)
        if anchored:
            bonus = self.anchor_bonus(sents_a, sents_b, names)
            evidenced = (bonus > 0) & (cosines + bonus >= self.anchored_threshold)
            weights = np.where(evidenced, np.maximum(weights, np.minimum(cosines + bonus, 1.0)), weights)
        matches = self.match(weights, evidenced)
        alignments = [Alignment(spans_a[i][0], spans_a[i][1], spans_b[j][0], spans_b[j][1], float(weights[i, j]))
                      for i, j in matches]
        return SentenceAlignment(alignments, len(matches) / len(spans_a), len(matches) / len(spans_b))

    def anchor_bonus(self, sents_a: list[str], sents_b: list[str], names: set[str]) -> np.ndarray:
        """Extra score for sentence pairs that carry the same quote, figure or rare name."""
        fa, fb = [Facts.of(s) for s in sents_a], [Facts.of(s) for s in sents_b]
        bonus = np.zeros((len(sents_a), len(sents_b)))
        for i, x in enumerate(fa):
            for j, y in enumerate(fb):
                if x.quotes and y.quotes and shared_quotes(sents_a[i], sents_b[j]):
                    bonus[i, j] += self.quote_bonus
                bonus[i, j] += self.number_bonus * min(len(x.distinctive_numbers & y.distinctive_numbers), 2)
                bonus[i, j] += self.name_bonus * min(len(x.names & y.names & names), 2)
        return bonus

    def match(self, weights: np.ndarray, evidenced: np.ndarray) -> list[tuple[int, int]]:
        """One-to-one sentence matches: the best order-keeping set, then reordered ones
        (retellings reorder) that are clearly paraphrases or carry their own evidence."""
        ordered = _monotone_matches(weights)
        used_a, used_b = {i for i, _ in ordered}, {j for _, j in ordered}
        extra = []
        for flat in np.argsort(-weights, axis=None, kind="stable"):
            i, j = divmod(int(flat), weights.shape[1])
            if weights[i, j] <= 0:
                break
            if weights[i, j] < self.strong_probability and not evidenced[i, j]:
                continue
            if i not in used_a and j not in used_b:
                extra.append((i, j))
                used_a.add(i)
                used_b.add(j)
        return sorted(ordered + extra)


@dataclass(frozen=True)
class Facts:
    """Checkable content of a text: quotes, distinctive figures, names."""

    quotes: frozenset[str]
    distinctive_numbers: frozenset[str]
    names: frozenset[str]

    @classmethod
    def of(cls, text: str, known_names: frozenset[str] | None = None) -> "Facts":
        return cls(frozenset(quotes(text)), frozenset(n for n in numbers(text) if _distinctive(n)),
                   frozenset(names(text)) if known_names is None else known_names)


def _distinctive(number: str) -> bool:
    """A figure worth noticing: with a unit or currency, or 3+ digits that are not a year."""
    digits = re.sub(r"\D", "", number)
    if number.replace(",", "") != digits:   # "3,000" is a plain figure; "$3", "3%" carry a unit
        return any(ch in number for ch in "$€£¥%") or any(u in number for u in ("billion", "million", "trillion"))
    return len(digits) >= 3 and not re.fullmatch(r"(19|20)\d\d", digits)


def _rare_names(names_by_document: Sequence[frozenset[str]]) -> set[str]:
    """Names found in few documents (a name in every article of the corpus proves nothing;
    a corpus of two, as in ``dedup compare``, cannot say, so every name counts)."""
    counts = Counter(name for found in names_by_document for name in found)
    total = len(names_by_document)
    limit = max(2, total // 100)
    return {name for name, n in counts.items() if n <= limit and (n < total or total <= 2)}


class TextModel:
    """TF-IDF fitted on one corpus: documents over word uni+bigrams and character n-grams;
    sentences over words, with IDF learned from the corpus's sentences (so it means
    something even for a corpus of three articles)."""

    MAX_FIT_SENTENCES = 200_000
    MAX_FEATURE_SENTENCES = 20_000   # the character TF-IDF of the sentence model is costlier

    def __init__(self) -> None:
        self.words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english",
                                     token_pattern=r"(?u)\b\w+\b", dtype=np.float32)
        # Character 4-grams (within words): morphology ("suffocating"/"suffocated") at a third
        # of the cost of 3-5-grams, which dominated the whole scan's time and memory.
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(4, 4), sublinear_tf=True,
                                     dtype=np.float32)
        self.sentence_words = TfidfVectorizer(ngram_range=(1, 1), sublinear_tf=True, stop_words="english",
                                              token_pattern=r"(?u)\b\w+\b", dtype=np.float32)
        self.sentence_features = SentenceFeatures()

    def fit(self, texts: Sequence[str], documents: Sequence[str] | None = None) -> "TextModel":
        """Weights learned from ``texts`` (one per story); rows for ``documents`` (default: ``texts``)."""
        self.words.fit(texts)
        self.chars.fit(texts)
        documents = texts if documents is None else documents
        self.word_matrix_ = self.words.transform(documents).tocsr()
        chars = self.chars.transform(documents)
        self.document_matrix_ = normalize(sp.hstack([self.word_matrix_, chars]).tocsr())
        corpus_sentences = [t[s:e] for t in texts for s, e in _content_sentences(t)]
        if len(corpus_sentences) > self.MAX_FIT_SENTENCES:
            step = len(corpus_sentences) / self.MAX_FIT_SENTENCES
            corpus_sentences = [corpus_sentences[int(i * step)] for i in range(self.MAX_FIT_SENTENCES)]
        self.sentence_words.fit(corpus_sentences or list(texts))
        step = max(1, len(corpus_sentences) // self.MAX_FEATURE_SENTENCES)
        self.sentence_features.fit(corpus_sentences[::step] or list(texts))
        return self

    def documents(self, texts: Sequence[str]) -> sp.csr_matrix:
        """L2-normalised rows; cosine between rows is a plain dot product."""
        combined = sp.hstack([self.words.transform(texts), self.chars.transform(texts)]).tocsr()
        return normalize(combined)

    def sentences(self, texts: Sequence[str]) -> sp.csr_matrix:
        return normalize(self.sentence_words.transform(texts))


def _content_sentences(text: str) -> list[tuple[int, int]]:
    return [(s, e) for s, e in sentences(text) if len(text[s:e].split()) >= MIN_SENTENCE_WORDS]


def _keep_top_terms(matrix: sp.csr_matrix, top: int) -> sp.csr_matrix:
    """Keep each row's ``top`` largest entries (its most distinctive terms)."""
    matrix = matrix.tocsr(copy=True)
    for i in range(matrix.shape[0]):
        lo, hi = matrix.indptr[i], matrix.indptr[i + 1]
        if hi - lo > top:
            row = matrix.data[lo:hi]
            cut = np.partition(row, hi - lo - top)[hi - lo - top]
            row[row < cut] = 0
    matrix.eliminate_zeros()
    return matrix


def _monotone_matches(scores: np.ndarray) -> list[tuple[int, int]]:
    """Highest-total set of matches (i, j) increasing in both i and j (weighted LCS)."""
    n, m = scores.shape
    best = np.zeros((n + 1, m + 1))
    for i in range(1, n + 1):
        row = scores[i - 1]
        for j in range(1, m + 1):
            take = best[i - 1, j - 1] + row[j - 1] if row[j - 1] > 0 else -1.0
            best[i, j] = max(best[i - 1, j], best[i, j - 1], take)
    matches = []
    i, j = n, m
    while i > 0 and j > 0:
        if scores[i - 1, j - 1] > 0 and best[i, j] == best[i - 1, j - 1] + scores[i - 1, j - 1]:
            matches.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif best[i, j] == best[i - 1, j]:
            i -= 1
        else:
            j -= 1
    return matches[::-1]
