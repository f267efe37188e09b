"""The paraphrase stage's corpus-level half on Spark executors: the text model fitted in parts
and each story's TF-IDF neighbours found by a term join, so that the driver fits no text model.

The answer is ``ParaphraseFinder.candidates``' (the same pairs, the same cosines), made of the
local stage's own functions; this module only decides where each runs and what is shuffled:

    documents numbered in id order, each executor partition hashed ``TextModel.CHUNK`` at a
    time (``paraphrase._document_counts``)             -> rows kept; story document frequencies
    document frequencies summed (a tree aggregate of hashed-length arrays), the IDF
    (``paraphrase._idf``) broadcast, the word rows weighed (``paraphrase._weigh``)
    the stories' rows pruned (``paraphrase._keep_top``), their terms joined (term -> stories;
    a term in more than ``max_df_docs`` stories dropped, as locally), the partial dot product
    of each pair of stories sharing a term                     -> by row
    each row's products summed in term order (float32, as scipy's sparse product adds them:
    the same bits), its best ``3 * neighbours`` kept (``_keep_top``: the local shortlist)
    each shortlisted pair once, joined with its two documents' rows, scored by
    ``TextModel.cosines`` (a model of those rows only, ``TextModel.of_rows``)
    each row's best ``neighbours`` at ``min_similarity`` or more    -> the pairs, to the driver

The rows of a pair meet where the pair is scored: each document's row is sent once to each
partition that scores one of its pairs, not once per pair.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import scipy.sparse as sp

from ..arrays import ranges, runs
from ..paraphrase import TextModel, _chunk_counts, _idf, _keep_top, _weigh, _WordTable, story_pairs
from ..sentences import HASHED
from ..settings import ParaphraseSettings
from .spark import SPILL, batches, by_part


@dataclass(frozen=True)
class Rows:
    """Some documents' rows of the text model, made on an executor: their numbers (id order),
    their hashed word rows (counts, or weighed), whether each has character 4-grams, and their
    evidence texts (character rows are made from them again when a cosine needs them, as the
    local model makes them)."""

    numbers: np.ndarray
    words: sp.csr_matrix
    has_chars: np.ndarray
    texts: list[str]
    stories: np.ndarray   # whether each document represents its story (``StoryGroups``)


def hash_partition(items: Iterable[tuple[int, tuple[str, bool]]]) -> Iterator[tuple[str, object]]:
    """A partition's (number, (evidence text, represents its story)), ``TextModel.CHUNK`` at a time,
    hashed as ``TextModel.fit`` hashes them: ("rows", Rows of counts) and ("df", the chunk's story
    document frequencies of word and character features, nonzero entries only)."""
    table = _WordTable()   # each distinct word of the partition hashed once
    for chunk in batches(items, TextModel.CHUNK):
        numbers = np.array([n for n, _ in chunk], dtype=np.int64)
        texts = [text for _, (text, _) in chunk]
        stories = np.array([story for _, (_, story) in chunk], dtype=bool)
        counted = _chunk_counts(table, texts, stories, keep_chars=False)
        yield "df", (counted.word_df, counted.char_df)
        yield "rows", Rows(numbers, counted.words, counted.has_chars, texts, stories)


def _merge_df(x, y):
    """Two (word, character) document frequencies, each (columns, counts) of its nonzero entries,
    summed: the tree aggregate moves the columns a partition has, not 2^20 of them."""
    return tuple(_sum_sparse(a, b) for a, b in zip(x, y))


def _sum_sparse(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    columns, inverse = np.unique(np.concatenate([a[0], b[0]]), return_inverse=True)
    counts = np.zeros(len(columns), dtype=np.int64)
    np.add.at(counts, inverse.ravel(), np.concatenate([a[1], b[1]]))
    return columns, counts


def _dense(found: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    dense = np.zeros(HASHED, dtype=np.int64)
    dense[found[0]] = found[1]
    return dense


def _weighed(rows: Rows, idf: np.ndarray) -> Rows:
    return replace(rows, words=_weigh(rows.words.copy(), idf))


def _documents(rows: Rows) -> Iterator[tuple[int, tuple]]:
    """(number, (word row's columns, its weights, has character 4-grams, text)) of each document."""
    words = rows.words
    for k, number in enumerate(rows.numbers.tolist()):
        at = slice(words.indptr[k], words.indptr[k + 1])
        yield number, (words.indices[at].copy(), words.data[at].copy(), bool(rows.has_chars[k]), rows.texts[k])


# -- neighbours: terms joined, partial products summed per row ----------------------------------

def pruned_postings(rows: Rows, top_terms: int, parts: int) -> Iterator[tuple[int, tuple]]:
    """The stories' pruned rows (each its ``top_terms`` heaviest terms, ``_keep_top``) as postings
    (term, story, weight), split by term to ``parts`` partitions."""
    pruned = _keep_top(rows.words[rows.stories], top_terms).tocoo()
    terms, numbers = pruned.col.astype(np.int64), rows.numbers[rows.stories][pruned.row]
    yield from by_part(terms % parts, parts, terms, numbers, pruned.data)


def term_products(chunks: Iterable[tuple[int, tuple]], max_df: int, parts: int) -> Iterator[tuple[int, tuple]]:
    """A term partition's postings joined: for each term in 2 to ``max_df`` stories (a term in
    more makes no neighbours, as ``ParaphraseFinder.candidate_pairs`` drops it), the product of
    the two weights of every ordered pair of its stories, as (row, column, term, product), split
    by row to ``parts`` partitions."""
    chunks = [chunk for _, chunk in chunks]
    if not chunks:
        return
    terms, numbers, weights = (np.concatenate(arrays) for arrays in zip(*chunks))
    order = np.lexsort((numbers, terms))
    terms, numbers, weights = terms[order], numbers[order], weights[order]
    starts, sizes = runs(terms)
    joined = (sizes >= 2) & (sizes <= max_df)
    starts, sizes = starts[joined], sizes[joined]
    if not len(starts):
        return
    # each posting of a joined term meets every posting of its term: the term's sizes[g] ** 2 entries
    entry = ranges(starts, sizes)
    size = np.repeat(sizes, sizes)
    left = np.repeat(entry, size)
    right = ranges(np.repeat(starts, sizes), size)
    other = left != right
    left, right = left[other], right[other]
    rows, columns = numbers[left], numbers[right]
    products = weights[left] * weights[right]
    yield from by_part(rows % parts, parts, rows, columns, terms[left], products)


def shortlist_partition(chunks: Iterable[tuple[int, tuple]], top: int) -> Iterator[tuple[int, int]]:
    """A row partition's shortlist: each row's overlap with each other story, its products added
    in term order from zero (as scipy's sparse product adds them, so the very same float32 sums),
    the ``top`` largest kept (``_keep_top``: ties to the lower document): (row, column) pairs."""
    chunks = [chunk for _, chunk in chunks]
    if not chunks:
        return
    rows, columns, terms, products = (np.concatenate(arrays) for arrays in zip(*chunks))
    order = np.lexsort((terms, columns, rows))
    rows, columns, products = rows[order], columns[order], products[order]
    starts = np.flatnonzero(np.r_[True, (rows[1:] != rows[:-1]) | (columns[1:] != columns[:-1])])
    sizes = np.diff(np.r_[starts, len(rows)])
    sums = np.zeros(len(starts), dtype=products.dtype)
    for k in range(int(sizes.max(initial=0))):   # the k-th term of every pair that has one, added in turn
        having = np.flatnonzero(sizes > k)
        sums[having] += products[starts[having] + k]
    pair_rows, pair_columns = rows[starts], columns[starts]
    local, index = np.unique(pair_rows, return_inverse=True)
    n_columns = int(max(pair_columns.max(), local.max())) + 1
    overlaps = sp.csr_matrix((sums, (index.ravel(), pair_columns)), shape=(len(local), n_columns))
    kept = _keep_top(overlaps, top).tocoo()
    yield from zip(local[kept.row].tolist(), kept.col.tolist())


def best_of_rows(items: Iterable[tuple[int, Iterable[tuple[int, float]]]], settings: ParaphraseSettings
                 ) -> Iterator[tuple[tuple[int, int], float]]:
    """Each row's ``neighbours`` best scored shortlisted pairs (``_keep_top``) at ``min_similarity``
    or more, as ((smaller, larger), cosine): ``candidate_pairs``' last step."""
    items = [(row, sorted(scored)) for row, scored in items]
    if not items:
        return
    rows = np.repeat(np.arange(len(items)), [len(s) for _, s in items])
    columns = np.array([c for _, s in items for c, _ in s], dtype=np.int64)
    values = np.array([v for _, s in items for _, v in s], dtype=np.float64)
    scored = sp.csr_matrix((values, (rows, columns)), shape=(len(items), int(columns.max(initial=0)) + 1))
    best = _keep_top(scored, settings.neighbours).tocoo()
    for k, column, cosine in zip(best.row.tolist(), best.col.tolist(), best.data.tolist()):
        if cosine >= settings.min_similarity:
            row = items[k][0]
            yield (min(row, column), max(row, column)), cosine


# -- cosines: each pair joined with its two documents' rows -------------------------------

def score_part(pairs: Iterable[tuple[int, int]], documents: Iterable[tuple[int, tuple]], char_idf: np.ndarray,
               at_least: float) -> Iterator[tuple[tuple[int, int], float]]:
    """``TextModel.cosines`` of a partition's pairs, on a model of the rows of their documents."""
    pairs, documents = list(pairs), sorted(documents, key=lambda d: d[0])
    if not pairs:
        return
    index = {number: k for k, (number, _) in enumerate(documents)}
    columns = [d[0] for _, d in documents]
    matrix = sp.csr_matrix((np.concatenate([d[1] for _, d in documents]), np.concatenate(columns),
                            np.r_[0, np.cumsum([len(c) for c in columns])]), shape=(len(documents), HASHED))
    model = TextModel.of_rows(matrix, np.array([d[2] for _, d in documents]), char_idf, [d[3] for _, d in documents])
    cosines = model.cosines(np.array([index[a] for a, _ in pairs]), np.array([index[b] for _, b in pairs]), at_least)
    yield from zip(pairs, cosines.tolist())


class DistributedTextModel:
    """The paraphrase stage's text model, fitted in parts on the executors: what the driver asks of
    ``TextModel`` (neighbours, cosines of given pairs), answered there.  ``group`` is each
    document's story representative (``StoryGroups.group``, documents numbered in id order)."""

    def __init__(self, sc, settings: ParaphraseSettings, partitions: int,
                 measured: Callable = lambda rdd, what: rdd) -> None:
        self.sc, self.settings, self.parts = sc, settings, partitions
        self.measured = measured   # counts what is collected to the driver (``SparkEngine.measured``)
        self.counts: dict[str, int] = {}
        self.shortlist = self.scores = None   # kept while what is made from them may still be read

    def fit(self, numbered, group: Sequence[int]) -> "DistributedTextModel":
        """Rows of the (number, evidence text) documents; IDF over the stories (``group``, each
        document's representative, held by the driver: ``candidates`` reads it)."""
        self.group = np.asarray(group, dtype=np.int64)
        shared = self.sc.broadcast(self.group)
        flagged = numbered.map(lambda nt: (nt[0], (nt[1], bool(shared.value[nt[0]] == nt[0]))))
        return self.fit_stories(flagged, int((self.group == np.arange(len(self.group))).sum()))

    def fit_stories(self, flagged, stories: int) -> "DistributedTextModel":
        """Rows of the (number, (evidence text, represents its story)) documents; IDF over the
        ``stories`` (how many documents represent one): nothing per document on the driver."""
        self.hashed = hashed = flagged.mapPartitions(hash_partition).persist(SPILL)
        none = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
        word_df, char_df = map(_dense, hashed.filter(lambda t: t[0] == "df").values()
                               .treeAggregate((none, none), _merge_df, _merge_df))
        is_story = np.ones(stories, dtype=bool)   # what ``_idf`` counts: the story rows
        word_idf, self.char_idf = self.sc.broadcast(_idf(word_df, is_story)), self.sc.broadcast(_idf(char_df, is_story))
        self.rows = hashed.filter(lambda t: t[0] == "rows").map(lambda t: _weighed(t[1], word_idf.value)).persist(SPILL)
        # partitioned once by number: each ``cosines`` join then moves only the rows it sends
        self.documents = self.rows.flatMap(_documents).partitionBy(self.parts).persist(SPILL)
        return self

    def neighbours(self) -> dict[tuple[int, int], float]:
        """``ParaphraseFinder.candidate_pairs`` over the stories: (i, j) -> cosine, i < j."""
        found = dict(self.measured(self.neighbour_scores(), "paraphrase_candidates").collect())
        self.counts["neighbour_pairs"] = len(found)
        return found

    def neighbour_scores(self):
        """``neighbours`` as an RDD of ((i, j), cosine), on the executors."""
        s, parts = self.settings, self.parts
        postings = self.rows.flatMap(lambda rows: pruned_postings(rows, s.top_terms, parts))
        products = (postings.partitionBy(parts, lambda part: part)
                    .mapPartitions(lambda chunks: term_products(chunks, s.max_df_docs, parts)))
        shortlist = (products.partitionBy(parts, lambda part: part)
                     .mapPartitions(lambda chunks: shortlist_partition(chunks, 3 * s.neighbours)).persist(SPILL))
        once = shortlist.map(lambda rc: (min(rc), max(rc))).distinct(parts)
        scores = self.cosines(once, at_least=s.min_similarity)
        by_pair = shortlist.map(lambda rc: ((min(rc), max(rc)), rc))
        scored = by_pair.join(scores, parts).map(lambda kv: (kv[1][0][0], (kv[1][0][1], kv[1][1])))
        self.counts["shortlisted_pairs"] = shortlist.count()
        self.shortlist = shortlist   # unpersisted with the model: the scores are made from it when read
        return scored.groupByKey(parts).mapPartitions(lambda items: best_of_rows(items, s))

    def cosines(self, pairs, at_least: float = 0.0):
        """((a, b), cosine) of an RDD of document-number pairs, as ``TextModel.cosines`` scores them:
        the pairs split by their first document, each document's row sent once to each partition
        that needs it."""
        parts = self.parts
        keyed = pairs.map(lambda ab: (ab[0] % parts, ab))
        needs = keyed.flatMap(lambda kv: ((kv[1][0], kv[0]), (kv[1][1], kv[0]))).distinct(parts).partitionBy(parts)
        sent = needs.join(self.documents, parts).map(lambda kv: (kv[1][0], (kv[0], kv[1][1])))   # rows stay put
        char_idf = self.char_idf
        return keyed.cogroup(sent, parts).flatMap(
            lambda kv: score_part(kv[1][0], kv[1][1], char_idf.value, at_least))

    def cosines_of(self, pairs: Sequence[tuple[int, int]]) -> dict[tuple[int, int], float]:
        """pair -> cosine of each given pair, in their order."""
        if not pairs:
            return {}
        found = dict(self.measured(self.cosines(self.sc.parallelize(list(set(pairs)), self.parts)),
                                   "paraphrase_candidates").collect())
        return {pair: found[pair] for pair in pairs}

    def candidates(self, extra: Sequence[tuple[int, int]] = ()) -> dict[tuple[int, int], float]:
        """``ParaphraseFinder.candidates``: each story's best neighbours, plus the ``extra`` pairs
        (verbatim overlaps) judged on their stories' representatives."""
        found = self.neighbours()
        found.update(self.cosines_of(story_pairs(self.group, extra, found)))
        return found

    def candidate_scores(self, overlaps, group):
        """``candidates`` as an RDD of ((i, j), cosine), the ``overlaps`` an RDD of document-number
        pairs and ``group`` an RDD of (number, representative): each overlap judged on its
        stories' representatives (``story_pairs`` of the one pair, where the pair is)."""
        parts = self.parts
        found = self.neighbour_scores().reduceByKey(lambda x, y: x, parts).persist(SPILL)   # a pair from both its rows
        by_second = overlaps.join(group, parts).map(lambda kv: (kv[1][0], (kv[0], kv[1][1])))   # j: (i, i's story)
        stories = by_second.join(group, parts).flatMap(
            lambda kv: story_pairs({kv[1][0][0]: kv[1][0][1], kv[0]: kv[1][1]}, [(kv[1][0][0], kv[0])], ()))
        extra = stories.distinct(parts).map(lambda pair: (pair, None)).subtractByKey(found, parts).keys()
        self.scores = found.union(self.cosines(extra)).persist(SPILL)
        self.counts.update(neighbour_pairs=found.count(), paraphrase_candidates=self.scores.count())
        found.unpersist()
        return self.scores

    def unpersist(self) -> None:
        for kept in (self.shortlist, self.scores):
            if kept is not None:
                kept.unpersist()
        self.hashed.unpersist()
        self.rows.unpersist()
        self.documents.unpersist()
