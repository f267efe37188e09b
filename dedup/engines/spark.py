"""The Spark execution engine: the local scanner's answers, computed on a cluster's executors.

Every rule is the analysis core's (``core.analyze``, ``candidates.bucket_keys``,
``core.verify_verbatim`` / ``core.verify``, ``classify.decide`` / ``make_pair``,
``LineageBuilder.direct``, ``ParaphraseFinder.candidate_pairs``' pruning); this module only
decides where each call runs and what is shuffled between them:

    read (JSONL / Parquet / a local folder)  -> documents keyed by id, rejects kept apart
    chrome: count short lines per document (reduceByKey)   -> Context, broadcast
    analyze each document on executors, batched            -> LSH (band, bucket) keys, lineage facts
    groupBy bucket (oversized buckets capped, counted)     -> verbatim candidate pairs
    text model fitted once on the driver (a sample if huge), broadcast
    each document's top TF-IDF terms; groupBy term (common terms dropped, counted)
        -> cosine of pairs sharing a term -> each document's best neighbours
    candidate pairs joined with their two documents -> verify, decide, direct (on executors)
    families: large-star / small-star connected components (``components.py``)

Nothing proportional to the number of pairs is collected to the driver; the summary report
is collected only when the corpus is small (``summary_max_documents``).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from operator import add
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
from pyspark import StorageLevel

from ..candidates import DOCUMENT_TABLE, WINDOW_TABLE, banding, bucket_keys
from ..classify import decide, make_pair, verbatim_relation, with_direction
from ..core import Context, PairEvidence, analyze, blank_spans, verify, verify_verbatim
from ..chrome import ChromeDetector
from ..lineage import Citation, LineageBuilder, source_id
from ..load import InputError, load_path, parse_record
from ..records import OVERLAP, Document, Edge, Pair, ScanReport, Skipped, Source
from ..settings import Section, Settings, param
from . import EngineResult
from .components import connected_components
from .datasets import (DATASETS, document_row, pair_row, reject_row, skipped_row, source_row, write_counts)

log = logging.getLogger(__name__)

BATCH = 256   # documents analysed per numpy batch on an executor
SPILL = StorageLevel.MEMORY_AND_DISK   # what is kept between steps may not fit in executors' memory

SCHEMAS = {
    "pairs": "a string, b string, relation string, jaccard double, containment_a_in_b double, "
             "containment_b_in_a double, aligned_a double, aligned_b double, similarity double, direction string, "
             "confidence double, evidence array<string>, passages array<struct<a_start:long, a_end:long, "
             "b_start:long, b_end:long, text:string, words:long>>, alignments array<struct<a_start:long, "
             "a_end:long, b_start:long, b_end:long, score:double>>",
    "documents": "id string, title string, date string, url string, source string, path string, chars long, "
                 "family string, parents array<string>",
    "sources": "id string, name string, cited_by array<string>",
    "rejects": "path string, line long, reason string, record string",
}


@dataclass(frozen=True)
class SparkSettings(Section):
    """Where and how the Spark engine runs (the analysis settings stay in ``Settings``)."""

    name = "spark"
    master: str = param("local[*]", "Spark master: local[N] (N cores of this machine), spark://HOST:7077, yarn, "
                        "k8s://...; ignored when a session is passed in (spark-submit).")
    partitions: int = param(0, "Partitions of the document and pair datasets (0: Spark's default "
                            "parallelism).", low=0)
    input_format: str = param("auto", "auto: a .parquet path or a folder of .parquet files is Parquet, another "
                              "local folder or file is read like the local engine reads it, anything else is "
                              "JSON lines.", choices=("auto", "jsonl", "parquet", "files"))
    id_column: str = param("id", "Input column (JSONL key) holding the document id.")
    text_column: str = param("text", "Input column holding the article text.")
    title_column: str = param("title", "Input column holding the title (optional).")
    date_column: str = param("date", "Input column holding the publication date (optional).")
    url_column: str = param("url", "Input column holding the URL (optional).")
    source_column: str = param("source", "Input column holding the outlet (optional).")
    out_format: str = param("parquet", "Format of the --out datasets.", choices=("parquet", "json"))
    fit_sample: int = param(50_000, "The text model (TF-IDF vocabulary and IDF) is fitted on the driver on at "
                            "most this many documents, a uniform sample of a larger corpus.", low=2)
    summary_max_documents: int = param(20_000, "Collect the usual report to the driver only up to this many "
                                       "documents (beyond, read the --out datasets).", low=0)

    def columns(self) -> dict[str, str]:
        """Document field -> input column."""
        return {"id": self.id_column, "text": self.text_column, "title": self.title_column,
                "date": self.date_column, "url": self.url_column, "source": self.source_column}


# -- reading ------------------------------------------------------------------

def check_source(source: str) -> None:
    """A local path that is not there is the user's error, said in one line (URIs and globs are
    Spark's to resolve)."""
    if "://" not in source and not any(c in source for c in "*?[{") and not Path(source).exists():
        raise InputError(f"{source}: no such file or folder")


def resolve_format(source: str, setting: str) -> str:
    if setting != "auto":
        return setting
    local = "://" not in source
    path = Path(source)
    if source.rstrip("/").endswith(".parquet"):
        return "parquet"
    if local and path.is_dir():
        return "parquet" if any(path.glob("*.parquet")) else "files"
    if local and path.is_file() and path.suffix.lower() not in (".jsonl", ".json", ".ndjson"):
        return "files"
    return "jsonl"


def parse_object(obj: dict, columns: dict[str, str]) -> tuple[Document | None, str | None]:
    """A record (JSON object, Parquet row) as a Document, through the loader's own validation."""
    mapped = {field: obj[column] for field, column in columns.items() if obj.get(column) is not None}
    return parse_record(json.dumps(mapped, default=str))


def parse_line(line: str, columns: dict[str, str]) -> tuple[Document | None, str | None]:
    if all(field == column for field, column in columns.items()):
        return parse_record(line)
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        return parse_record(line)   # the loader's message for malformed JSON
    return parse_object(obj, columns) if isinstance(obj, dict) else parse_record(line)


def _parsed(path: str, raw: str, parsed: tuple[Document | None, str | None], line: int | None = None):
    """("doc", Document) or ("reject", row): a bad record is data, never a failed job."""
    document, problem = parsed
    if problem:
        return ("reject", reject_row(path, problem, line, raw))
    return ("doc", document)


# -- what each document brings (computed once on an executor) -------------------

@dataclass(frozen=True)
class DocumentFacts:
    """A document with what the later steps need of it: chrome spans, LSH bucket keys, and the
    lineage stage's per-document knowledge (its outlet, whom it credits, which credits are absent)."""

    document: Document
    chrome: tuple[tuple[int, int], ...]
    keys: np.ndarray                         # uint64 LSH bucket keys, documents and windows tables
    outlet: str | None
    cites: dict[str, list[Citation]]
    absent: dict[str, list[Citation]]

    @property
    def evidence_text(self) -> str:
        return blank_spans(self.document.text, self.chrome)


def analyse_partition(documents: Iterable[tuple[str, Document]], context: Context, lineage: LineageBuilder,
                      present: frozenset[str], doc_band: tuple[int, int], window_band: tuple[int, int]
                      ) -> Iterator[tuple[str, DocumentFacts]]:
    """``core.analyze`` each document, LSH keys by ``bucket_keys`` for a batch at once."""
    batch: list[Document] = []
    for _, document in documents:
        batch.append(document)
        if len(batch) == BATCH:
            yield from _analyse_batch(batch, context, lineage, present, doc_band, window_band)
            batch = []
    if batch:
        yield from _analyse_batch(batch, context, lineage, present, doc_band, window_band)


def _analyse_batch(batch, context, lineage, present, doc_band, window_band):
    analyses = [analyze(d, context) for d in batch]
    kept = [a for a in analyses if not a.sketch.empty]   # as the local candidates stage: no shingles, no keys
    keys: dict[str, list[np.ndarray]] = {a.id: [] for a in analyses}
    if kept:
        documents = bucket_keys(np.stack([a.sketch.signature for a in kept]), *doc_band, table=DOCUMENT_TABLE)
        windows = bucket_keys(np.concatenate([a.sketch.windows for a in kept]), *window_band, table=WINDOW_TABLE)
        owners = np.repeat(np.arange(len(kept)), [len(a.sketch.windows) for a in kept])
        for n, a in enumerate(kept):
            keys[a.id] = [documents[n], windows[owners == n].ravel()]
    for a in analyses:
        outlet = lineage.matcher.outlet_of(a.document)
        cites = lineage._cited(a.evidence_text, outlet)
        absent = {name: c for name, c in cites.items() if name not in present}
        found = np.unique(np.concatenate(keys[a.id])) if keys[a.id] else np.empty(0, np.uint64)
        yield a.id, DocumentFacts(a.document, a.chrome, found, outlet, cites, absent)


# -- candidate pairs from buckets and postings -----------------------------------

def pairs_of_bucket(members: Iterable[str], cap: int, oversized) -> list[tuple[str, str]]:
    """All pairs of a bucket's documents, or, past ``cap`` documents, a chain through them
    (``candidates.NumpyEngine``'s rule: the family stays connected, the stage stays linear)."""
    docs = sorted(set(members))
    if len(docs) < 2:
        return []
    if len(docs) > cap:
        oversized.add(1)
        return list(zip(docs[:-1], docs[1:]))
    return [(docs[x], docs[y]) for x in range(len(docs)) for y in range(x + 1, len(docs))]


def pairs_of_term(members: Iterable[str], max_df: int, dropped) -> list[tuple[str, str]]:
    """Pairs of documents sharing one distinctive term; a term in more than ``max_df`` documents
    is dropped, as ``ParaphraseFinder.candidate_pairs`` drops it."""
    docs = sorted(set(members))
    if len(docs) > max_df:
        dropped.add(1)
        return []
    return [(docs[x], docs[y]) for x in range(len(docs)) for y in range(x + 1, len(docs))]


def vectors_of_partition(facts: Iterable[tuple[str, DocumentFacts]], context: Context):
    """Each document's TF-IDF vector (one-row CSR) and its ``top_terms`` most distinctive word terms."""
    from ..paraphrase import _keep_top_terms

    items = list(facts)
    for lo in range(0, len(items), BATCH):
        chunk = items[lo:lo + BATCH]
        texts = [f.evidence_text for _, f in chunk]
        model = context.text_model
        vectors = model.documents(texts)
        top = _keep_top_terms(model.words.transform(texts).tocsr(), context.paraphraser.top_terms)
        for n, (doc_id, _) in enumerate(chunk):
            yield doc_id, (vectors[n], top.indices[top.indptr[n]:top.indptr[n + 1]].tolist())


def cosine(a, b) -> float:
    """Document cosine of two one-row vectors, summed as the paraphrase stage sums a row."""
    return float(np.asarray(b.multiply(a).sum(axis=1)).ravel()[0])


def best_neighbours(doc_id: str, scored: Iterable[tuple[str, float]], neighbours: int, min_similarity: float):
    """The ``neighbours`` most similar candidates of one document (ties: the smaller id first, as
    the local stage's document order), those at ``min_similarity`` or more."""
    best = sorted(scored, key=lambda item: (-item[1], item[0]))[:neighbours]
    return [((min(doc_id, other), max(doc_id, other)), c) for other, c in best if c >= min_similarity]


# -- one pair, on an executor ------------------------------------------------------

def judge_all(a: DocumentFacts, others: Iterable[tuple[DocumentFacts, bool, float | None]], context: Context,
              lineage: LineageBuilder) -> list[Pair]:
    """Every candidate pair of document ``a`` (it comes first in each), ``a`` analysed once."""
    first = analyze(a.document, context)
    found = (judge(a, b, from_lsh, similarity, context, lineage, first) for b, from_lsh, similarity in others)
    return [pair for pair in found if pair is not None]


def judge(a: DocumentFacts, b: DocumentFacts, from_lsh: bool, similarity: float | None, context: Context,
          lineage: LineageBuilder, first=None) -> Pair | None:
    """What the local scanner concludes for one candidate pair: verbatim evidence for LSH
    candidates, sentence alignment for TF-IDF neighbours and for overlaps (not for duplicates
    or excerpts), the relation from ``classify.decide``, the direction from the lineage stage.
    Analyses are not shipped (ten times the text's size): each side is analysed again here."""
    first = first if first is not None else analyze(a.document, context)
    second = analyze(b.document, context)
    known = None
    if from_lsh:
        overlap = verify_verbatim(first, second, context)
        known = PairEvidence(first.id, second.id, overlap) if overlap.passages else None
    evidence = known
    if context.paraphraser is not None:
        verbatim = verbatim_relation(known.overlap, context.settings.relation) if known else None
        if (similarity is not None or verbatim == OVERLAP) and verbatim in (None, OVERLAP):
            if similarity is None:
                similarity = cosine(*context.text_model.documents([first.evidence_text, second.evidence_text]))
            evidence = verify(first, second, context, similarity=similarity,
                              overlap=known.overlap if known else None)
    if evidence is None:
        return None
    decision = decide(evidence, context.settings.relation)
    if decision is None:
        return None
    pair = make_pair(evidence, decision)
    outlet = {a.document.id: a.outlet, b.document.id: b.outlet}
    cites = {a.document.id: a.cites, b.document.id: b.cites}
    absent = {a.document.id: a.absent, b.document.id: b.absent}
    return with_direction(pair, lineage.direct(pair, a.document, b.document, outlet, cites, absent))


def direction_edge(pair: Pair) -> Edge | None:
    """The derivation edge of a directed pair (child derives from parent), as the lineage stage draws it."""
    if pair.direction not in ("a_from_b", "b_from_a"):
        return None
    child, parent = (pair.a, pair.b) if pair.direction == "a_from_b" else (pair.b, pair.a)
    return Edge(child, parent, pair.relation, pair.confidence, tuple(pair.evidence))


def citation_edges(doc_id: str, absent: dict[str, list[Citation]]) -> list[Edge]:
    return [Edge(doc_id, source_id(name), "cites", 0.9,
                 tuple(f'credits {name}: "…{c.snippet}…"' for c in cited[:3]))
            for name, cited in sorted(absent.items())]


@dataclass(frozen=True)
class _Prepared:
    """What ``ParaphraseFinder.prepare`` reads of an analysis: its id and chrome-blanked text."""

    id: str
    evidence_text: str


class SparkEngine:
    """Scan with Spark: same pairs, relations, directions and families as ``LocalEngine``.

    ``SparkEngine(settings, master="local[4]")`` starts (or joins) a session; pass
    ``session=`` to run inside one you own (spark-submit, a notebook, tests)."""

    name = "spark"

    def __init__(self, settings: Settings | None = None, session=None, spark: SparkSettings | None = None,
                 **options) -> None:
        self.settings = settings or Settings()
        self.spark = spark if spark is not None else SparkSettings(**options)
        self._session = session
        self.counts: dict[str, int] = {}
        self.timings: dict[str, float] = {}   # seconds per step of the last scan

    # -- session and input --------------------------------------------------

    def session(self):
        if self._session is None:
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)   # executors run this interpreter
            from pyspark.sql import SparkSession
            self._session = (SparkSession.builder.master(self.spark.master).appName("dedup")
                             .config("spark.ui.showConsoleProgress", "false")
                             .config("spark.ui.enabled", "false").getOrCreate())
            self._session.sparkContext.setLogLevel("ERROR")   # failures reach the user as one line, not JVM logs
        return self._session

    @property
    def partitions(self) -> int:
        return self.spark.partitions or self.session().sparkContext.defaultParallelism

    def read(self, source: str):
        """(documents keyed by id, rejected records as rows); the first of two records with one id
        wins, as in the local loader, and the other is rejected."""
        check_source(source)
        spark = self.session()
        sc = spark.sparkContext
        kind = resolve_format(source, self.spark.input_format)
        columns = self.spark.columns()
        if kind == "files":
            corpus = load_path(source)
            tagged = sc.parallelize([("doc", d) for d in corpus.documents]
                                    + [("reject", skipped_row(s)) for s in corpus.skipped], self.partitions)
        else:
            frame = self._frame(spark, source, kind)
            if kind == "parquet":
                wanted = [c for c in columns.values() if c in frame.columns]
                tagged = frame.select(*wanted).rdd.map(
                    lambda row: _parsed(source, json.dumps(row.asDict(), default=str)[:2000],
                                        parse_object(row.asDict(), columns)))
            else:
                tagged = self._json_lines(frame, columns)
        tagged = tagged.zipWithIndex().persist(SPILL)
        rejects = tagged.filter(lambda t: t[0][0] == "reject").map(lambda t: t[0][1])
        keyed = (tagged.filter(lambda t: t[0][0] == "doc").map(lambda t: (t[0][1].id, (t[1], t[0][1])))
                 .groupByKey(self.partitions).mapValues(lambda found: [d for _, d in sorted(found, key=lambda x: x[0])]))
        keyed = keyed.persist(SPILL)
        duplicates = keyed.flatMap(lambda kv: [reject_row(d.path or d.id, f"duplicate document id '{d.id}'")
                                               for d in kv[1][1:]])
        return keyed.mapValues(lambda found: found[0]), rejects.union(duplicates)

    def _json_lines(self, frame, columns: dict[str, str]):
        """Each non-blank line parsed, with its line number where the file was read in one
        contiguous run of rows (a file Spark splits and interleaves with others gets none)."""
        from pyspark.sql.functions import input_file_name

        rows = frame.select(input_file_name().alias("path"), "value").rdd.zipWithIndex().persist(SPILL)
        runs = (rows.map(lambda r: (r[0].path, (r[1], r[1], 1)))
                .reduceByKey(lambda x, y: (min(x[0], y[0]), max(x[1], y[1]), x[2] + y[2])).collectAsMap())
        first = {path: lo for path, (lo, hi, count) in runs.items() if hi - lo + 1 == count}

        def parse(item):
            row, index = item
            line = index - first[row.path] + 1 if row.path in first else None
            return _parsed(row.path, row.value, parse_line(row.value, columns), line)

        return rows.filter(lambda r: r[0].value.strip()).map(parse)

    def _frame(self, spark, source: str, kind: str):
        from pyspark.errors import AnalysisException
        try:
            frame = spark.read.parquet(source) if kind == "parquet" else spark.read.text(source)
        except AnalysisException as err:
            raise InputError(f"{source}: cannot read as {kind}: {str(err).splitlines()[0]}") from None
        if kind == "parquet":
            for required in ("id", "text"):
                column = self.spark.columns()[required]
                if column not in frame.columns:
                    raise InputError(f"{source}: no column {column!r} for the document {required} "
                                     f"(columns: {', '.join(frame.columns)})")
        return frame

    # -- the scan ---------------------------------------------------------------

    def scan(self, source: str, out: str | None = None) -> EngineResult:
        check_source(source)   # before starting a JVM for nothing
        sc = self.session().sparkContext
        self.counts, self.timings = {}, {}
        with self.step("read"):
            documents, rejects = self.read(source)
            rejects = rejects.persist(SPILL)
            n = documents.count()
            self.counts.update(documents=n, rejects=rejects.count())
        if n == 0:
            raise InputError(f"{source}: no readable documents")
        if out is None and n > self.spark.summary_max_documents:
            raise InputError(f"{source}: {n} documents are too many to report without --out DIR "
                             f"(summary_max_documents is {self.spark.summary_max_documents})")
        with self.step("analyze"):
            context = self.fit_chrome(documents)
            lineage = LineageBuilder(self.settings.lineage)
            present = frozenset(documents.map(lambda kv: lineage.matcher.outlet_of(kv[1])).filter(bool)
                                .distinct().collect())
            facts = self.analyse(documents, context, lineage, present)
            facts.count()
        with self.step("lsh"):
            lsh = self.lsh_pairs(facts)
        neighbours = sc.emptyRDD()
        if self.settings.paraphrase.paraphrase and n >= 2:
            with self.step("text_model"):
                self.fit_text_model(facts, context, n)
            shared = sc.broadcast(context)
            with self.step("neighbours"):
                neighbours = self.neighbour_pairs(facts, shared)
        else:
            shared = sc.broadcast(context)
        with self.step("verify"):
            pairs = self.judge_pairs(facts, lsh, neighbours, shared, lineage).persist(SPILL)
            self.counts["pairs"] = pairs.count()
        with self.step("families"):
            families = self.families(facts, pairs)
            sources = (facts.flatMap(lambda kv: [(name, kv[0]) for name in kv[1].absent]).groupByKey()
                       .map(lambda kv: Source(source_id(kv[0]), kv[0], tuple(sorted(kv[1])))).persist(SPILL))
            self.counts["sources"] = sources.count()
        if out is not None:
            with self.step("write"):
                self.write(out, pairs.map(pair_row), self.document_rows(facts, pairs, families),
                           sources.map(source_row), rejects)
        report = None
        if n <= self.spark.summary_max_documents:
            with self.step("summary"):
                report = self.summary(facts, pairs, families, sources, rejects)
        self.counts["shuffle_bytes"] = sum(v for k, v in self.counts.items() if k.startswith("shuffle_bytes_"))
        if out is not None:
            write_counts(Path(out), {**self.counts, "seconds": self.timings})
        return EngineResult(report, dict(self.counts), out)

    def fit_chrome(self, documents) -> Context:
        """Chrome lines repeated across documents, counted exactly (one reduceByKey of short lines)."""
        detector = ChromeDetector(self.settings.chrome)
        limit = self.settings.chrome.chrome_min_docs
        counts = (documents.flatMap(lambda kv: detector.line_keys(kv[1])).map(lambda key: (key, 1))
                  .reduceByKey(add).filter(lambda kv: kv[1] >= limit).collectAsMap())
        self.counts["chrome_lines"] = len(counts)
        return Context(self.settings, detector.fit_counts(counts))

    def analyse(self, documents, context: Context, lineage: LineageBuilder, present: frozenset[str]):
        sc = self.session().sparkContext
        s = self.settings
        doc_band = banding(s.candidates.document_threshold, s.sketch.num_perm)
        window_band = banding(s.candidates.window_threshold, s.sketch.num_perm)
        shared = sc.broadcast((context, lineage, present))

        def run(items):
            ctx, builder, outlets = shared.value
            return analyse_partition(items, ctx, builder, outlets, doc_band, window_band)

        return documents.mapPartitions(run, preservesPartitioning=True).persist(SPILL)

    def lsh_pairs(self, facts):
        """Verbatim candidates: documents sharing an LSH bucket (documents or windows table).  The
        postings are grouped in the JVM (a DataFrame ``groupBy`` on the keys as longs): grouping
        millions of them in Python workers was the step that grew fastest."""
        from pyspark.sql import functions as F

        sc = self.session().sparkContext
        cap = self.settings.candidates.max_bucket
        oversized = sc.accumulator(0)
        postings = self.session().createDataFrame(
            facts.flatMap(lambda kv: [(key, kv[0]) for key in kv[1].keys.view(np.int64).tolist()]),
            "key long, id string")
        buckets = (postings.groupBy("key").agg(F.collect_set("id").alias("ids"))
                   .filter(F.size("ids") > 1).persist(SPILL))
        colliding, largest = buckets.agg(F.count(F.lit(1)), F.max(F.size("ids"))).first()
        pairs = (buckets.rdd.flatMap(lambda row: pairs_of_bucket(row.ids, cap, oversized))
                 .distinct(self.partitions).persist(SPILL))
        self.counts.update(lsh_keys=postings.count(), colliding_buckets=colliding, largest_bucket=largest or 0,
                           lsh_candidates=pairs.count())
        self.counts["oversized_buckets"] = oversized.value
        if oversized.value:
            log.warning("%d LSH buckets held more than %d documents: their members were linked as a chain, "
                        "not all pairs (max_bucket)", oversized.value, cap)
        buckets.unpersist()
        return pairs

    def fit_text_model(self, facts, context: Context, n: int) -> None:
        """The paraphrase stage's text model and rare names, learned once on the driver: from every
        document when the corpus is small, else from a sample (rare names then counted exactly)."""
        from ..paraphrase import ParaphraseFinder

        texts = facts.map(lambda kv: (kv[0], kv[1].evidence_text))
        sampled = n > self.spark.fit_sample
        chosen = texts.takeSample(False, self.spark.fit_sample, seed=1) if sampled else texts.collect()
        finder = ParaphraseFinder(self.settings.paraphrase)
        finder.prepare([_Prepared(i, t) for i, t in sorted(chosen)], context)
        if sampled:
            context.rare_names = self.rare_names(facts, n)
        # What the executors need is the fitted model; the driver-side matrices and per-document caches stay here.
        finder._names, finder._row, finder._facts = {}, {}, {}
        del context.text_model.word_matrix_, context.text_model.document_matrix_
        self.counts["text_model_documents"] = len(chosen)

    def rare_names(self, facts, n: int) -> frozenset[str]:
        """Names found in few documents, counted over the whole corpus (the rule of
        ``paraphrase._rare_names``: at most max(2, n // 100) documents)."""
        from ..evidence import names

        limit = max(2, n // 100)
        counts = facts.flatMap(lambda kv: set(names(kv[1].evidence_text))).map(lambda x: (x, 1)).reduceByKey(add)
        return frozenset(counts.filter(lambda kv: kv[1] <= limit and (kv[1] < n or n <= 2)).keys().collect())

    def neighbour_pairs(self, facts, shared):
        """((a, b), cosine) for each document's best TF-IDF neighbours among those sharing one of
        its distinctive terms (``ParaphraseFinder.candidate_pairs``, distributed)."""
        sc = self.session().sparkContext
        p = self.settings.paraphrase
        dropped = sc.accumulator(0)
        vectors = facts.mapPartitions(lambda items: vectors_of_partition(items, shared.value),
                                      preservesPartitioning=True).persist(SPILL)
        postings = vectors.flatMap(lambda kv: [(term, kv[0]) for term in kv[1][1]])
        shared_terms = (postings.groupByKey(self.partitions)
                        .flatMap(lambda kv: pairs_of_term(kv[1], p.max_df_docs, dropped)).distinct(self.partitions))
        only = vectors.mapValues(lambda v: v[0])
        scored = (shared_terms.join(only).map(lambda kv: (kv[1][0], (kv[0], kv[1][1])))
                  .join(only).map(lambda kv: (kv[1][0][0], kv[0], cosine(kv[1][0][1], kv[1][1]))).persist(SPILL))
        best = (scored.flatMap(lambda t: [(t[0], (t[1], t[2])), (t[1], (t[0], t[2]))]).groupByKey(self.partitions)
                .flatMap(lambda kv: best_neighbours(kv[0], kv[1], p.neighbours, p.min_similarity))
                .reduceByKey(lambda x, _: x).persist(SPILL))
        self.counts.update(term_pairs=scored.count(), neighbour_pairs=best.count())
        self.counts["dropped_terms"] = dropped.value
        return best

    def judge_pairs(self, facts, lsh, neighbours, shared, lineage: LineageBuilder):
        """Every candidate pair joined with its two documents and judged on an executor."""
        candidates = lsh.map(lambda ab: (ab, True)).fullOuterJoin(neighbours, self.partitions)
        by_second = candidates.map(lambda kv: (kv[0][1], (kv[0][0], bool(kv[1][0]), kv[1][1])))
        with_second = by_second.join(facts).map(lambda kv: (kv[1][0][0], (kv[1][1], kv[1][0][1], kv[1][0][2])))
        by_first = with_second.groupByKey(self.partitions).join(facts)   # a: ([(facts b, lsh?, cosine)], facts a)
        self.counts["judged_pairs"] = candidates.count()
        return by_first.flatMap(lambda kv: judge_all(kv[1][1], kv[1][0], shared.value, lineage))

    def families(self, facts, pairs):
        """(document, family id): connected components of the reported pairs, plus each document that
        only credits an absent source (a family with it), as ``lineage.families_of`` defines them."""
        links = pairs.map(lambda p: (p.a, p.b))
        components = connected_components(links, self.partitions)
        crediting = facts.filter(lambda kv: bool(kv[1].absent)).map(lambda kv: (kv[0], kv[0]))
        found = components.union(crediting.subtractByKey(components)).persist(SPILL)
        self.counts["families"] = found.values().distinct().count()
        return found

    def document_rows(self, facts, pairs, families):
        parents = (pairs.map(direction_edge).filter(bool).map(lambda e: (e.child, e.parent))
                   .union(facts.flatMap(lambda kv: [(kv[0], source_id(name)) for name in kv[1].absent]))
                   .groupByKey())
        return (facts.mapValues(lambda f: f.document).leftOuterJoin(families).leftOuterJoin(parents)
                .map(lambda kv: document_row(kv[1][0][0], kv[1][0][1], list(kv[1][1] or []))))

    # -- output -----------------------------------------------------------------

    def write(self, out: str, pairs, documents, sources, rejects) -> None:
        spark = self.session()
        for name, rows in zip(DATASETS, (pairs, documents, sources, rejects)):
            frame = spark.read.json(rows.map(lambda row: json.dumps(row, ensure_ascii=False)), schema=SCHEMAS[name])
            writer = frame.write.mode("overwrite")
            if self.spark.out_format == "json":
                writer.option("ignoreNullFields", "false").json(f"{out.rstrip('/')}/{name}")
            else:
                writer.parquet(f"{out.rstrip('/')}/{name}")

    def summary(self, facts, pairs, families, sources, rejects) -> ScanReport:
        """The usual report, collected (small corpora only)."""
        documents = sorted(facts.map(lambda kv: (kv[1].document, kv[1].chrome)).collect(), key=lambda x: x[0].id)
        directed = sorted(pairs.collect(), key=lambda p: (p.a, p.b))
        source_list = sorted(sources.collect(), key=lambda s: s.name)
        members: dict[str, list[str]] = {}
        for doc_id, family in families.collect():
            members.setdefault(family, []).append(doc_id)
        family_list = [tuple(sorted(ids) + [s.id for s in source_list if set(ids) & set(s.cited_by)])
                       for ids in members.values()]
        edges = [e for e in map(direction_edge, directed) if e is not None]
        edges += facts.flatMap(lambda kv: citation_edges(kv[0], kv[1].absent)).collect()
        skipped = [Skipped(r["path"], r["reason"], r["line"]) for r in rejects.collect()]
        return ScanReport(
            documents=[d for d, _ in documents],
            skipped=sorted(skipped, key=lambda s: (s.path, s.line or 0)),
            pairs=directed,
            families=[list(f) for f in sorted(family_list, key=lambda f: (-len(f), f))],
            sources=source_list,
            edges=sorted(edges, key=lambda e: (e.child, e.parent)),
            parameters=self.settings.to_json(),
            chrome={d.id: list(c) for d, c in documents},
        )

    def shuffle_bytes(self) -> int:
        """Bytes written to shuffles so far by this session's executors (Spark's status store)."""
        try:
            executors = self.session().sparkContext._jsc.sc().statusStore().executorList(True)
            return int(sum(executors.apply(i).totalShuffleWrite() for i in range(executors.size())))
        except Exception as err:   # a Spark version without it: say so, do not fail the scan
            log.warning("shuffle sizes unavailable: %s", str(err).splitlines()[0])
            return 0

    @contextmanager
    def step(self, name: str):
        """Time one step and the bytes it shuffled (steps end with an action, so both are its own)."""
        start, shuffled = time.perf_counter(), self.shuffle_bytes()
        yield
        self.timings[name] = round(time.perf_counter() - start, 2)
        self.counts[f"shuffle_bytes_{name}"] = self.shuffle_bytes() - shuffled
        log.info("spark %s: %.1fs", name, self.timings[name])
