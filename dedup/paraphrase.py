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
from typing import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from .evidence import describe_shared, names, numbers, quotes, shared_quotes
from .records import OVERLAP, PARAPHRASE, Alignment, Document, Pair, ProgressCallback
from .sentences import SentenceFeatures, SentenceModel
from .settings import Settings
from .text import sentences

_MIN_SENTENCE_WORDS = 5


@dataclass
class SentenceAlignment:
    alignments: list[Alignment]
    aligned_a: float   # share of a's sentences aligned
    aligned_b: float


def blank_spans(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` with each span replaced by newlines of the same length (offsets stay valid)."""
    if not spans:
        return text
    chars = list(text)
    for start, end in spans:
        chars[start:end] = "\n" * (end - start)
    return "".join(chars)


class ParaphraseFinder:
    def __init__(self, *, neighbours: int = 10, min_similarity: float = 0.2, sentence_probability: float = 0.5,
                 min_aligned_sentences: int = 3, min_aligned_share: float = 0.2, top_terms: int = 40,
                 max_df_docs: int = 200, strong_probability: float = 0.75, anchored_threshold: float = 0.15,
                 prefilter: float = 0.2, quote_bonus: float = 0.3, number_bonus: float = 0.15,
                 name_bonus: float = 0.1, beyond_passages: float = 0.2, low_verbatim: float = 0.5,
                 sentence_model: SentenceModel | None = None) -> None:
        self.neighbours = neighbours
        self.min_similarity = min_similarity
        self.sentence_probability = sentence_probability
        self.strong_probability = strong_probability
        self.prefilter = prefilter
        self.beyond_passages = beyond_passages
        self.low_verbatim = low_verbatim
        self.sentence_model = sentence_model if sentence_model is not None else SentenceModel.load()
        self.min_aligned_sentences = min_aligned_sentences
        self.min_aligned_share = min_aligned_share
        self.top_terms = top_terms
        self.max_df_docs = max_df_docs
        self.anchored_threshold = anchored_threshold
        self.quote_bonus = quote_bonus
        self.number_bonus = number_bonus
        self.name_bonus = name_bonus

    @classmethod
    def from_settings(cls, s: Settings) -> "ParaphraseFinder":
        return cls(neighbours=s.neighbours, min_similarity=s.min_similarity,
                   sentence_probability=s.sentence_probability, min_aligned_sentences=s.min_aligned_sentences,
                   min_aligned_share=s.min_aligned_share, anchored_threshold=s.anchored_threshold)

    # -- the corpus --------------------------------------------------------

    def find(self, documents: Sequence[Document], chrome_spans: Sequence[list[tuple[int, int]]],
             verbatim: Sequence[Pair] = (), progress: ProgressCallback | None = None) -> list[Pair]:
        """All pairs: the ``verbatim`` ones (an ``overlap`` whose sentences align far beyond its
        shared passages becomes a ``paraphrase``) plus new paraphrase pairs."""
        pairs = list(verbatim)
        if len(documents) < 2:
            return pairs
        texts = [blank_spans(d.text, spans) for d, spans in zip(documents, chrome_spans)]
        model = TextModel().fit(texts)
        vectors = model.document_matrix_
        index = {d.id: i for i, d in enumerate(documents)}
        known = {(p.a, p.b): p for p in verbatim}
        overlaps = [(index[p.a], index[p.b]) for p in verbatim if p.relation == OVERLAP]
        candidates = {(i, j): c for i, j, c in self.candidate_pairs(model.word_matrix_, vectors)}
        for i, j in overlaps:
            candidates.setdefault((i, j), float(vectors[i].multiply(vectors[j]).sum()))
        facts = _LazyFacts(texts)
        rare = _rare_names(facts.names)
        for n, ((i, j), similarity) in enumerate(sorted(candidates.items())):
            if progress:
                progress("paraphrase", n + 1, len(candidates))
            existing = known.get((documents[i].id, documents[j].id))
            if existing is not None and existing.relation != OVERLAP:
                continue
            found = self.compare(documents[i], documents[j], texts[i], texts[j], model, similarity,
                                 facts[i], facts[j], rare)
            if found is None:
                continue
            if existing is None:
                pairs.append(found)
            elif self.retold_beyond_passages(found, existing):
                _upgrade(existing, found)
        return pairs

    def retold_beyond_passages(self, paraphrase: Pair, overlap: Pair) -> bool:
        """Sentences align well beyond what verbatim passages cover: a retelling that
        happens to share some phrases, not an article quoting another."""
        aligned = max(paraphrase.aligned_a, paraphrase.aligned_b)
        verbatim = max(overlap.containment_a_in_b, overlap.containment_b_in_a)
        return verbatim < self.low_verbatim and aligned >= verbatim + self.beyond_passages

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

    def compare(self, a: Document, b: Document, text_a: str, text_b: str, model: "TextModel",
                similarity: float, facts_a: "Facts", facts_b: "Facts", rare_names: set[str]) -> Pair | None:
        quoted = shared_quotes(text_a, text_b)
        figures = facts_a.distinctive_numbers & facts_b.distinctive_numbers
        # A shared distinctive quote or figures make a common origin likely, so weaker
        # sentence matches are admitted; without them the bar stays high.
        anchored = bool(quoted) or len(figures) >= 2
        result = self.align_sentences(text_a, text_b, model, anchored, facts_a.names & facts_b.names & rare_names)
        if not self.is_paraphrase(result):
            return None
        evidence = [f"{len(result.alignments)} sentences aligned "
                    f"({result.aligned_a:.0%} of {a.id}, {result.aligned_b:.0%} of {b.id}), "
                    f"document cosine {similarity:.2f}"
                    + (f"; anchored by {len(quoted)} shared quotes and {len(figures)} figures" if anchored else "")]
        evidence += describe_shared(text_a, text_b)
        return Pair(a=a.id, b=b.id, relation=PARAPHRASE, alignments=result.alignments,
                    aligned_a=result.aligned_a, aligned_b=result.aligned_b, similarity=similarity,
                    evidence=evidence)

    def is_paraphrase(self, result: SentenceAlignment) -> bool:
        return (len(result.alignments) >= self.min_aligned_sentences
                and min(result.aligned_a, result.aligned_b) >= self.min_aligned_share / 2
                and max(result.aligned_a, result.aligned_b) >= self.min_aligned_share)

    def decide(self, probabilities: np.ndarray) -> np.ndarray:
        """dedup's sentence-level paraphrase decision (what benchmarks/msrp.py measures)."""
        return probabilities >= self.sentence_probability

    def align_sentences(self, text_a: str, text_b: str, model: "TextModel", anchored: bool = False,
                        names: set[str] = frozenset()) -> SentenceAlignment:
        """Align sentences one to one.  A pair qualifies when the sentence model says the two
        are paraphrases, or, in documents anchored by a shared quote or figures, when it
        carries its own evidence (a shared quote, figure or rare name) and some similarity."""
        spans_a, spans_b = _content_sentences(text_a), _content_sentences(text_b)
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
    if number != digits:
        return any(ch in number for ch in "$€£¥%") or any(u in number for u in ("billion", "million", "trillion"))
    return len(digits) >= 3 and not re.fullmatch(r"(19|20)\d\d", digits)


class _LazyFacts:
    """Facts of each text: names for every document (rarity is judged over the corpus),
    quotes and figures only for the documents that reach alignment."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.texts = texts
        self.names = [frozenset(names(t)) for t in texts]
        self._cache: dict[int, Facts] = {}

    def __getitem__(self, i: int) -> Facts:
        if i not in self._cache:
            self._cache[i] = Facts.of(self.texts[i], self.names[i])
        return self._cache[i]


def _rare_names(names_by_document: Sequence[frozenset[str]]) -> set[str]:
    """Names found in few documents (a name in every article of the corpus proves nothing;
    a corpus of two, as in ``dedup compare``, cannot say, so every name counts)."""
    counts = Counter(name for found in names_by_document for name in found)
    total = len(names_by_document)
    limit = max(2, total // 100)
    return {name for name, n in counts.items() if n <= limit and (n < total or total <= 2)}


def _upgrade(overlap: Pair, paraphrase: Pair) -> None:
    """Turn a verbatim ``overlap`` into a ``paraphrase``, keeping its passages as evidence."""
    verbatim = max(overlap.containment_a_in_b, overlap.containment_b_in_a)
    overlap.relation = PARAPHRASE
    overlap.alignments = paraphrase.alignments
    overlap.aligned_a, overlap.aligned_b = paraphrase.aligned_a, paraphrase.aligned_b
    overlap.similarity = paraphrase.similarity
    overlap.evidence = paraphrase.evidence + [f"verbatim passages cover only {verbatim:.0%}; "
                                              f"{len(overlap.passages)} kept as evidence"]


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

    def fit(self, texts: Sequence[str]) -> "TextModel":
        self.word_matrix_ = self.words.fit_transform(texts).tocsr()
        chars = self.chars.fit_transform(texts)
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
    return [(s, e) for s, e in sentences(text) if len(text[s:e].split()) >= _MIN_SENTENCE_WORDS]


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
