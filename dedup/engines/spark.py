"""The Spark engine: the local scanner's answers, the per-document, per-pair and corpus-level work
on a cluster's executors; only a corpus small enough for its report (``summary_max_documents``)
is concluded on the driver, through ``pipeline.Scanner`` itself.

Every rule is the analysis core's, the pipeline's or lineage's; this module only decides where
each call runs and what is shuffled between them:

    on executors (distributed, linear in the corpus):
      read (JSONL / Parquet / a local folder)  -> documents keyed by id, rejects kept apart
      chrome: count short lines per document (reduceByKey)  -> Context, broadcast
        and each outlet's furniture (rule 4): each outlet-named page's line hashes counted by key,
        the candidate lines joined back to their pages, ``ChromeDetector.is_furniture`` per line
      ``core.analyze`` each document once, batched          -> analyses (kept, spilled to disk)
                                                               and LSH keys (``candidates.bucket_keys``)
      bucket keys as numpy arrays, paired per bucket partition -> verbatim candidate pairs
        by ``candidates.NumpyEngine`` (oversized buckets chained, counted)
      each candidate pair joined with its two analyses      -> ``core.verify_verbatim``, kept there
      widely shared passages (``spark_passages``): shingles counted by hash partition
      (``passages.carried_widely``, ``same_carrier_groups``), copy groups by connected components
      of the verbatim pairs, the few widely shared groups' runs and spans made where their
      carriers are kept (``_longest_runs``, ``carrier_span``), merged and described on the driver
      (``SharedPassageFinder.learned``), broadcast; each verbatim pair filtered there
      (``SharedPassages.filter_pair``)
    then, over ``summary_max_documents`` (with ``--out``: no report), on executors
    (``spark_conclude``: ``Scanner.conclude_filtered``'s per-pair and per-group rules joined there):
      the filtered pairs tallied (the pairs dropped per passage reduced by key), keyed by document
      numbers; story groups (``paraphrase.story_link`` per pair, connected components, ``story_rank``);
      the text model fitted over the stories and its neighbours (``spark_paraphrase``), the verbatim
      overlaps judged on their stories (``story_pairs`` per pair); ``RetoldCopies.alignable`` and
      ``inherited`` per pair, both rounds aligned where the analyses are kept; what changed filtered
      again; ``pipeline.decided_pair`` per pair (``classify.decide``); ``settle``'s count by a
      subtract; lineage (``spark_lineage.executor_lineage``) on the RDD of decided pairs; families;
      the pairs, documents and sources datasets written from these RDDs
    or, up to ``summary_max_documents`` (the report returned), on the driver
    (``Scanner.conclude_filtered``, the local engine's own code): each document's ``DriverDocument``
      (document, chrome spans, length in tokens: no analysis) and the filtered verbatim pairs
      collected, tallied; story groups, the paraphrase stage's planning, ``classify.decide``,
      ``SharedPassages.settle``, the report; from it, on executors, the text model and neighbours
      (``ExecutorScanner.paraphrase_candidates``), the alignments (``ExecutorScanner.align_pairs``),
      the second filter (``ExecutorScanner.without_shared``), lineage (``distributed_lineage``)
      and the families (``lineage.family_links`` connected by ``components.connected_components``,
      assembled with ``lineage.assemble_families``).

So the answers are the local engine's by construction.  Over ``summary_max_documents`` the driver
is sent no pair and no document's analysis or ``DriverDocument``: counts, the chrome lines repeated
across documents, the widely shared passages (their groups, their carriers' spans), the outlet facts (one entry per outlet), the pairs dropped per
passage and each outlet's furniture lines (chrome rule 4, decided on the executors): nothing per
document.  What the driver is sent is counted (``collected_bytes_*``).
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from operator import add
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

import numpy as np
from pyspark import StorageLevel

from ..candidates import DOCUMENT_TABLE, WINDOW_TABLE, NumpyEngine, banding, bucket_keys
from ..chrome import FURNITURE_MIN_PAGES, ChromeDetector, is_candidate
from ..core import Context, DocumentAnalysis, PairEvidence, analyze, verify_verbatim
from ..lineage import assemble_families, family_links
from ..load import Corpus, InputError, load_path, parse_record_checked
from ..passages import SharedPassages
from ..pipeline import AlignJob, Scanner
from ..records import Document, LoadWarning, ScanReport, Skipped
from ..settings import Section, Settings, param
from . import EngineResult
from .components import connected_components
from .datasets import DATASETS, document_row, pair_row, reject_row, skipped_row, source_row, write_counts
from .spark_lineage import distributed_lineage, executor_lineage

if TYPE_CHECKING:
    from .spark_paraphrase import DistributedTextModel

log = logging.getLogger(__name__)

BATCH = 256   # documents analysed per numpy batch on an executor
SPILL = StorageLevel.MEMORY_AND_DISK   # what is kept between steps may not fit in executors' memory

SCHEMAS = {
    "pairs": "a string, b string, relation string, jaccard double, containment_a_in_b double, "
             "containment_b_in_a double, aligned_a double, aligned_b double, similarity double, direction string, "
             "confidence double, evidence array<string>, passages array<struct<a_start:long, a_end:long, "
             "b_start:long, b_end:long, text:string, words:long>>, alignments array<struct<a_start:long, "
             "a_end:long, b_start:long, b_end:long, score:double>>",
    "documents": "id string, title string, date string, url string, source string, path string, encoding string, "
                 "crawled_at string, chars long, "
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


Parsed = tuple[Document | None, str | None, list[str]]   # (document, problem, warnings): parse_record_checked's


def parse_object(obj: dict, columns: dict[str, str]) -> Parsed:
    """A record (JSON object, Parquet row) as a Document, through the loader's own validation."""
    mapped = {field: obj[column] for field, column in columns.items() if obj.get(column) is not None}
    return parse_record_checked(json.dumps(mapped, default=str))


def parse_line_checked(line: str, columns: dict[str, str]) -> Parsed:
    if all(field == column for field, column in columns.items()):
        return parse_record_checked(line)
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        return parse_record_checked(line)   # the loader's message for malformed JSON
    return parse_object(obj, columns) if isinstance(obj, dict) else parse_record_checked(line)


def parse_line(line: str, columns: dict[str, str]) -> tuple[Document | None, str | None]:
    document, problem, _ = parse_line_checked(line, columns)
    return document, problem


def _parsed(path: str, raw: str, parsed: Parsed, line: int | None = None) -> list[tuple]:
    """("doc", (Document, path, line)) or ("reject", row), and ("warn", LoadWarning) for what the
    loader read but did not use: a bad record is data, never a failed job, and nothing is dropped
    unsaid."""
    document, problem, warnings = parsed
    said = [("warn", LoadWarning(path, warning, line)) for warning in warnings]
    if problem:
        return said + [("reject", reject_row(path, problem, line, raw))]
    return said + [("doc", (document, path, line))]


def duplicate_rows(doc_id: str, found: list[tuple[Document, str, int | None]]) -> list[dict]:
    """Every record after the first with one id, rejected in the local loader's words."""
    def where(path: str, line: int | None) -> str:
        name = path.rstrip("/").rsplit("/", 1)[-1]   # the file's name, as the local loader names a file it was given
        return f"{name}:{line}" if line is not None else name

    first = where(*found[0][1:])
    return [reject_row(path, f"duplicate document id '{doc_id}' (first read from {first})", line)
            for _, path, line in found[1:]]


# -- what each document brings (computed once on an executor) -------------------

@dataclass(frozen=True)
class AnalysedDocument:
    """A document's analysis (made once, on an executor; its window signatures dropped, as the
    local scanner drops them after its candidates) and its LSH bucket keys (documents and windows
    tables, uint64)."""

    analysis: DocumentAnalysis
    keys: np.ndarray


def analyse_partition(documents: Iterable[tuple[str, Document]], context: Context, doc_band: tuple[int, int],
                      window_band: tuple[int, int]) -> Iterator[tuple[str, AnalysedDocument]]:
    """``core.analyze`` each document, LSH keys by ``bucket_keys`` for a batch at once."""
    for batch in batches((document for _, document in documents), BATCH):
        yield from _analyse_batch(batch, context, doc_band, window_band)


def numbered_ids(keyed, partitions: int):
    """(id, number) of each document of an RDD keyed by document id, numbered in id order (the local
    scanner's order: its indices)."""
    return keyed.keys().sortBy(lambda doc_id: doc_id, numPartitions=partitions).zipWithIndex()


def batches(items: Iterable, size: int) -> Iterator[list]:
    """``items`` in lists of ``size`` (the last one shorter): a partition's iterator taken a batch at a time."""
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _analyse_batch(batch, context, doc_band, window_band):
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
        found = np.unique(np.concatenate(keys[a.id])) if keys[a.id] else np.empty(0, np.uint64)
        # the window signatures made the keys; kept, they would be most of what is shuffled and collected
        yield a.id, AnalysedDocument(a.without_windows(), found)


def named_analyses(analyses, ids):
    """(id, analysis) of the documents an RDD of ``ids`` names: the ids sent to the partitions where
    the analyses are kept (partitioned as they are, so the join moves no analysis), and only the
    analyses named leave them (joining every analysis to the paraphrase stage's jobs shuffled all
    of them, twice a round: 595 MiB at 10k; nor are the ids collected to filter them)."""
    parts = analyses.getNumPartitions()
    wanted = ids.distinct(parts).map(lambda doc: (doc, None)).partitionBy(parts)
    return wanted.join(analyses, parts).mapValues(lambda found: found[1])


def analyses_of(keyed):
    """(id, DocumentAnalysis) of the (id, AnalysedDocument) the analyse step keeps."""
    return keyed.mapValues(lambda found: found.analysis)


# -- candidate pairs from buckets: numpy arrays shuffled, not one row per posting ------------

DOCUMENTS_PER_LSH_PARTITION = 2000   # ~700 postings a document: ~1.4 M postings (~25 MB) a bucket partition


def postings_by_partition(items: Iterable[tuple[int, np.ndarray]], parts: int) -> Iterator[tuple[int, tuple]]:
    """A partition's postings, (bucket keys, document numbers) as two arrays per target partition
    (key modulo ``parts``): the shuffle moves a few arrays per pair of partitions, not a Python
    row per posting (69 M of them at 100k articles)."""
    numbers, keys = [], []
    for number, found in items:
        keys.append(found)
        numbers.append(np.full(len(found), number, dtype=np.int64))
    if not keys:
        return
    keys, numbers = np.concatenate(keys), np.concatenate(numbers)
    yield from by_part((keys % np.uint64(parts)).astype(np.int64), parts, keys, numbers)


def by_part(target: np.ndarray, parts: int, *arrays: np.ndarray) -> Iterator[tuple[int, tuple[np.ndarray, ...]]]:
    """``arrays`` split by each entry's ``target`` partition (one stable sort, not a pass per part):
    (part, the arrays' entries for it) for every part that has any."""
    order = np.argsort(target, kind="stable")
    bounds = np.searchsorted(target[order], np.arange(parts + 1))
    for part in range(parts):
        chosen = order[bounds[part]:bounds[part + 1]]
        if len(chosen):
            yield part, tuple(array[chosen] for array in arrays)


def bucket_pairs(chunks: Iterable[tuple[int, tuple[np.ndarray, np.ndarray]]], engine: NumpyEngine,
                 total: int) -> Iterator[tuple[str, object]]:
    """The candidate pairs of one partition's buckets, by the local engine's own rule
    (``candidates.NumpyEngine``: all pairs of a bucket's documents, a chain past ``max_bucket``),
    as codes ``i * total + j`` of document numbers; and the partition's bucket counts."""
    chunks = [chunk for _, chunk in chunks]
    if not chunks:
        return
    keys = np.concatenate([k for k, _ in chunks])
    numbers = np.concatenate([n for _, n in chunks])
    found: set[tuple[int, int]] = set()
    engine.collect_pairs(keys, numbers, found)
    order = np.lexsort((numbers, keys))   # each document once per bucket: a bucket's size counts documents
    keys, numbers = keys[order], numbers[order]
    once = np.r_[True, (keys[1:] != keys[:-1]) | (numbers[1:] != numbers[:-1])]
    sizes = np.unique(keys[once], return_counts=True)[1]
    sizes = sizes[sizes > 1]
    yield "counts", (len(keys), len(sizes), int(sizes.max(initial=0)), int((sizes > engine.max_bucket).sum()))
    yield "codes", np.fromiter((i * total + j for i, j in found), dtype=np.int64, count=len(found))


def distinct_codes(chunks: Iterable[tuple[int, np.ndarray]]) -> Iterator[int]:
    """One partition's pair codes, each once."""
    codes = [c for _, c in chunks]
    if codes:
        yield from np.unique(np.concatenate(codes)).tolist()


def by_code_partition(codes: np.ndarray, parts: int) -> Iterator[tuple[int, np.ndarray]]:
    """Pair codes split by code modulo ``parts`` (one pair found in several buckets meets itself)."""
    for part, (chosen,) in by_part(codes % parts, parts, codes):
        yield part, chosen


# -- one document's candidate pairs, on an executor -----------------------------------

def verify_all(a: DocumentAnalysis, others: Iterable[DocumentAnalysis], context: Context) -> list[PairEvidence]:
    """``core.verify_verbatim`` of every LSH candidate pair of ``a`` (the smaller id of each);
    pairs sharing no passage are dropped, as ``Scanner.verbatim_evidence`` drops them."""
    found = []
    for b in others:
        overlap = verify_verbatim(a, b, context)
        if overlap.passages:
            found.append(PairEvidence(a.id, b.id, overlap))
    return found


# -- sentence alignment, on executors -------------------------------------------------

def executor_context(context: Context) -> Context:
    """What an executor needs to align a pair's sentences: the context without the corpus's text
    model (each job brings its document cosine) and with a paraphrase stage of empty caches."""
    from ..paraphrase import ParaphraseFinder

    stage = context.paraphraser
    return replace(context, text_model=None, paraphraser=ParaphraseFinder(stage.settings, stage.sentence_model))


def align_partition(items: Iterable[tuple[int, AlignJob, DocumentAnalysis, DocumentAnalysis]], context: Context,
                    settings: Settings) -> list[tuple[int, PairEvidence]]:
    """``Scanner.align_pairs`` of a partition's jobs, each job's two analyses joined to it: the
    local scanner's own per-pair step."""
    items = list(items)
    analyses = [x for _, _, a, b in items for x in (a, b)]
    jobs = [replace(job, i=2 * k, j=2 * k + 1) for k, (_, job, _, _) in enumerate(items)]
    one_process = settings.updated(jobs=1)   # an executor task is one slot: Spark gives the parallelism
    return [(n, found) for (n, *_), found in zip(items, Scanner(one_process).align_pairs(analyses, context, jobs))]


@dataclass(frozen=True)
class DriverDocument:
    """What the driver's remaining steps read of a document's analysis (the report's document and
    chrome, the story groups' length in tokens): the analysis itself stays on the executors."""

    document: Document
    chrome: tuple[tuple[int, int], ...]
    n_tokens: int

    @property
    def id(self) -> str:
        return self.document.id

    @classmethod
    def of(cls, analysis: DocumentAnalysis, text: bool = True) -> "DriverDocument":
        """``text``: keep the document's text (only the returned report shows it)."""
        document = analysis.document if text else replace(analysis.document, text="")
        return cls(document, analysis.chrome, analysis.fingerprint.n_tokens)


class ExecutorScanner(Scanner):
    """``pipeline.Scanner`` whose sentence alignments run on the executors, each pair joined with
    the two analyses the executors keep; the rest of ``conclude`` runs as it does locally."""

    aligns_copies_in_parts = False   # the copies of stories found retold come as a second round

    def __init__(self, settings: Settings, engine: "SparkEngine", analyses) -> None:
        super().__init__(settings)
        self.engine = engine
        self.kept = analyses   # (id, DocumentAnalysis) on the executors
        self.text: "DistributedTextModel | None" = None   # the paraphrase stage's text model, on the executors

    def numbered_texts(self):
        """(number, evidence text) of the kept analyses, numbered in id order (the driver's indices;
        the LSH step's numbers when it ran): only the texts are joined, not the analyses."""
        ids = self.engine.ids
        if ids is None:
            ids = numbered_ids(self.kept, self.engine.partitions)
        return ids.join(self.kept.mapValues(lambda a: a.evidence_text), self.engine.partitions).values()

    def paraphrase_candidates(self, analyses, context, verbatim, overlaps, progress=None):
        """``Scanner.paraphrase_candidates`` with the text model fitted and searched on the executors
        (``spark_paraphrase``); the driver's paraphrase stage holds no text model, and aligns nothing
        itself (``align_pairs``)."""
        from ..paraphrase import ParaphraseFinder, StoryGroups
        from .spark_paraphrase import DistributedTextModel

        groups = StoryGroups.of_evidence([d.n_tokens for d in analyses], verbatim, self.settings.relation)
        context.paraphraser = ParaphraseFinder(self.settings.paraphrase)
        start = time.perf_counter()
        self.text = DistributedTextModel(self.engine.session().sparkContext, self.settings.paraphrase,
                                         self.engine.partitions, self.engine.measured)
        self.text.fit(self.numbered_texts(), groups.group)
        candidates = self.text.candidates(overlaps)
        self.engine.counts.update(self.text.counts)
        self.engine.timings["text model and neighbours (in driver)"] = round(time.perf_counter() - start, 2)
        return groups, candidates

    def align_pairs(self, analyses, context, jobs, progress=None, stage="paraphrase") -> list[PairEvidence]:
        if not jobs:
            return []
        missing = [(job.i, job.j) for job in jobs if job.similarity is None]   # scored on the executors
        cosines = self.text.cosines_of(missing)
        jobs = [job if job.similarity is not None else replace(job, similarity=cosines[(job.i, job.j)]) for job in jobs]
        sc = self.engine.session().sparkContext
        shared, settings = sc.broadcast(executor_context(context)), self.settings
        needed = sc.broadcast({analyses[k].id for job in jobs for k in (job.i, job.j)})
        kept = self.kept.filter(lambda kv: kv[0] in needed.value)   # only these analyses are shuffled
        by_first = sc.parallelize([(analyses[job.i].id, (n, job, analyses[job.j].id)) for n, job in enumerate(jobs)],
                                  self.engine.partitions)
        by_second = by_first.join(kept).map(lambda kv: (kv[1][0][2], (kv[1][0][0], kv[1][0][1], kv[1][1])))
        both = by_second.join(kept).map(lambda kv: (*kv[1][0], kv[1][1]))   # (n, job, analysis a, analysis b)
        aligned = both.mapPartitions(lambda items: align_partition(items, shared.value, settings))
        found = dict(self.engine.measured(aligned, "alignments").collect())
        self.engine.counts["aligned_pairs"] = self.engine.counts.get("aligned_pairs", 0) + len(jobs)
        return [found[n] for n in range(len(jobs))]

    def without_shared(self, shared, evidence, analyses):
        """``SharedPassages.filter`` of the pairs the paraphrase stage added or changed, each pair
        filtered where its analyses are kept (``spark_passages``)."""
        if not evidence or not len(shared.hashes):
            return evidence
        from .spark_passages import DistributedSharedPassages

        pairs = self.engine.session().sparkContext.parallelize(list(evidence.items()), self.engine.partitions)
        found = DistributedSharedPassages(self.engine, self.passage_finder()).filtered(
            shared, pairs, self.kept)
        return shared.tally(sorted(self.engine.measured(found, "alignments").collect(), key=lambda kf: kf[0]))

    def lineage(self, analyses, pairs):
        """Lineage on the executors (``spark_lineage``): the pairs joined with their documents'
        metadata from the kept analyses, not from the driver's."""
        start = time.perf_counter()   # inside the driver step: timed, its shuffles counted there
        found = distributed_lineage(self.settings.lineage, self.kept, list(pairs), self.engine.partitions)
        self.engine.timings["lineage (in driver)"] = round(time.perf_counter() - start, 2)
        return found


def _counted(item, counter):
    counter.add(len(pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)))
    return item


# -- families, on executors ------------------------------------------------------------

def family_members(roots) -> list[list[str]]:
    """The components of ``connected_components``' (node, root) pairs, each sorted."""
    return roots.map(lambda kv: (kv[1], kv[0])).groupByKey().map(lambda kv: sorted(kv[1])).collect()


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
        self.warnings: list[LoadWarning] = []   # what was read but not used (a date of "nan"), as the loader says it
        self._collected: dict = {}   # what -> accumulator of the bytes collected to the driver (``measured``)
        self.ids = None   # (id, number in id order) of the last scan's documents, on the executors

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
        self.warnings = []
        spark = self.session()
        sc = spark.sparkContext
        kind = resolve_format(source, self.spark.input_format)
        columns = self.spark.columns()
        if kind == "files":
            corpus = load_path(source)
            self.warnings = list(corpus.warnings)
            tagged = sc.parallelize([("doc", (d, d.path or d.id, None)) for d in corpus.documents]
                                    + [("reject", skipped_row(s)) for s in corpus.skipped], self.partitions)
        else:
            frame = self._frame(spark, source, kind)
            if kind == "parquet":
                wanted = [c for c in columns.values() if c in frame.columns]
                tagged = frame.select(*wanted).rdd.flatMap(
                    lambda row: _parsed(source, json.dumps(row.asDict(), default=str)[:2000],
                                        parse_object(row.asDict(), columns)))
            else:
                tagged = self._json_lines(frame, columns)
        tagged = tagged.zipWithIndex().persist(SPILL)
        self.warnings += tagged.filter(lambda t: t[0][0] == "warn").map(lambda t: t[0][1]).collect()
        rejects = tagged.filter(lambda t: t[0][0] == "reject").map(lambda t: t[0][1])
        keyed = (tagged.filter(lambda t: t[0][0] == "doc").map(lambda t: (t[0][1][0].id, (t[1], t[0][1])))
                 .groupByKey(self.partitions).mapValues(lambda found: [d for _, d in sorted(found, key=lambda x: x[0])]))
        keyed = keyed.persist(SPILL)
        duplicates = keyed.flatMap(lambda kv: duplicate_rows(kv[0], kv[1]))
        return keyed.mapValues(lambda found: found[0][0]), rejects.union(duplicates)

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
            document, problem, warnings = parse_line_checked(row.value, columns)
            # Spark reads text as UTF-8: the encoding the local loader names for a UTF-8 file
            document = replace(document, encoding="utf-8") if document is not None else None
            return _parsed(row.path, row.value, (document, problem, warnings), line)

        return rows.filter(lambda r: r[0].value.strip()).flatMap(parse)

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
        self.counts, self.timings, self._collected, self.ids = {}, {}, {}, None
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
            keyed = self.analyse(documents, context)
            keyed.count()
            analyses = analyses_of(keyed)
        with self.step("lsh"):
            lsh = self.lsh_pairs(keyed)
        with self.step("verify"):
            verbatim = self.verbatim_pairs(analyses, lsh, sc.broadcast(context))
            self.counts["verbatim_pairs"] = verbatim.count()
        with self.step("shared passages"):
            shared, filtered = self.shared_passages(analyses, verbatim)
            filtered = filtered.persist(SPILL)
            filtered.count()
            verbatim.unpersist()
        if n > self.spark.summary_max_documents:   # no report: nothing per pair or document to the driver
            self.conclude_on_executors(analyses, context, shared, filtered, rejects, out)
            report = None
        else:
            report = self.conclude_on_driver(analyses, context, shared, filtered, rejects, out)
        self.counts["shuffle_bytes"] = sum(v for k, v in self.counts.items() if k.startswith("shuffle_bytes_"))
        self.counts.update(self.collected_bytes())
        if out is not None:
            write_counts(Path(out), {**self.counts, "seconds": self.timings})
        return EngineResult(report, dict(self.counts), out)

    def conclude_on_driver(self, analyses, context: Context, shared: SharedPassages, filtered, rejects,
                           out: str | None) -> ScanReport:
        """The summary's steps: ``conclude`` on the driver, the families on the executors, collected."""
        sc = self.session().sparkContext
        with self.step("driver"):
            skipped = [Skipped(r["path"], r["reason"], r["line"]) for r in rejects.collect()]
            report = self.conclude(analyses, context, shared, filtered, skipped)
            self.counts.update(pairs=len(report.pairs), sources=len(report.sources),
                               shared_passages=len(report.shared_passages))
        with self.step("families"):
            components = self.family_components(sc.parallelize(report.pairs, self.partitions))
            crediting = sc.parallelize([doc for s in report.sources for doc in s.cited_by], self.partitions)
            roots = self.with_crediting(components, crediting).persist(SPILL)
            self.counts["families"] = roots.values().distinct().count()
            families = assemble_families(family_members(components), report.sources)
            report = replace(report, families=[list(f) for f in families])
        if out is not None:
            with self.step("write"):
                edges = sc.parallelize(report.edges, self.partitions)
                self.write(out, {"pairs": self._rows(map(pair_row, report.pairs)),
                                 "documents": self.document_rows(analyses, roots, edges),
                                 "sources": self._rows(map(source_row, report.sources)), "rejects": rejects})
        return report

    def conclude_on_executors(self, analyses, context: Context, shared: SharedPassages, filtered, rejects,
                              out: str) -> None:
        """``Scanner.conclude_filtered`` on the executors (``spark_conclude``), its answers written
        as the datasets: the driver is sent counts, never a pair or a document."""
        from .spark_conclude import DistributedConclusion

        conclusion = DistributedConclusion(self, analyses, context, shared)
        with self.step("stories"):
            verbatim, group = conclusion.stories(filtered)
        with self.step("paraphrase"):
            evidence = conclusion.paraphrased(verbatim, group).persist(SPILL)
            self.counts["evidence_pairs"] = evidence.count()
        with self.step("decide"):
            decided = conclusion.decided(evidence)
        with self.step("lineage"):
            lineage = executor_lineage(self.settings.lineage, analyses, decided, self.partitions)
            self.counts.update(pairs=lineage.pairs.count(), sources=lineage.sources.count(),
                               shared_passages=len(shared.passages), pairs_dropped_as_shared=shared.pairs_dropped)
        with self.step("families"):
            components = self.family_components(lineage.pairs)
            roots = self.with_crediting(components, lineage.sources.flatMap(lambda s: s.cited_by)).persist(SPILL)
            self.counts["families"] = roots.values().distinct().count()
        with self.step("write"):
            self.write(out, {"pairs": lineage.pairs.map(pair_row),
                             "documents": self.document_rows(analyses, roots, lineage.edges),
                             "sources": lineage.sources.map(source_row), "rejects": rejects})
        lineage.unpersist()
        conclusion.unpersist()

    def fit_chrome(self, documents) -> Context:
        """Chrome lines repeated across documents, counted exactly (one reduceByKey of short lines)."""
        detector = ChromeDetector(self.settings.chrome)
        limit = self.settings.chrome.chrome_min_docs
        counts = (documents.flatMap(lambda kv: detector.line_keys(kv[1])).map(lambda key: (key, 1))
                  .reduceByKey(add).filter(lambda kv: kv[1] >= limit).collectAsMap())
        self.counts["chrome_lines"] = len(counts)
        detector.furniture_ = self.outlet_furniture(documents, detector)
        return Context(self.settings, detector.fit_counts(counts))

    def outlet_furniture(self, documents, detector: ChromeDetector) -> dict[str, set[int]]:
        """Each outlet's page furniture (``ChromeDetector.fit``'s rule 4) decided on the executors by
        the local pieces: each outlet-named document's ``page``, the pages per line at its outlet and
        per plain line (``line_counts``, as sums of ones by key), the lines ``is_candidate`` keeps
        joined back to their pages and grouped per line, in document id order as the local fit sees
        them, ``is_furniture`` per line.  Only the furniture (outlet, line hash) reaches the driver."""
        pages = documents.flatMapValues(lambda doc: [page] if (page := detector.page(doc)) is not None else []) \
            .persist(SPILL)
        at_outlet = (pages.flatMap(lambda ip: (((h, ip[1].salt), 1) for h in ip[1].lines.tolist()))
                     .reduceByKey(add).filter(lambda kv: kv[1] >= FURNITURE_MIN_PAGES))
        everywhere = (pages.flatMap(lambda ip: ((line, 1) for line in ip[1].plain_lines().tolist()))
                      .reduceByKey(add).filter(lambda kv: kv[1] >= FURNITURE_MIN_PAGES))
        # (line at outlet, plain line) of each candidate: repeated at its outlet, at no other
        candidates = (at_outlet.map(lambda kv: (kv[0][0] ^ kv[0][1], (kv[0][0], kv[1]))).join(everywhere)
                      .filter(lambda kv: is_candidate(kv[1][0][1], kv[1][1])).map(lambda kv: (kv[1][0][0], kv[0])))
        # each candidate's carrier pages: (document id, candidate line) by a join of plain numbers,
        # then each carrier's outlet, title and body joined by its id
        carried = (pages.flatMap(lambda ip: ((h, ip[0]) for h in ip[1].lines.tolist())).join(candidates)
                   .map(lambda kv: (kv[1][0], (kv[0], kv[1][1]))))
        carriers = (pages.mapValues(lambda page: (page.outlet, page.title, page.body)).join(carried)
                    .map(lambda kv: ((kv[1][1][0], kv[1][1][1]), (kv[0], kv[1][0]))).groupByKey())

        def decided(group) -> list[tuple[str, int]]:
            (_, line), pages_of = group
            ordered = [page for _, page in sorted(pages_of, key=lambda ip: ip[0])]
            if not detector.is_furniture(line, [(title, body) for _, title, body in ordered]):
                return []
            return [(ordered[-1][0], line)]

        furniture: dict[str, set[int]] = {}
        for outlet, line in self.measured(carriers.flatMap(decided), "chrome_furniture").collect():
            furniture.setdefault(outlet, set()).add(line)
        pages.unpersist()
        return furniture

    def analyse(self, documents, context: Context):
        """(id, AnalysedDocument) for every document, analysed on the executors, kept for the
        steps after (analysing again costs more than reading the kept analyses back)."""
        sc = self.session().sparkContext
        s = self.settings
        doc_band = banding(s.candidates.document_threshold, s.sketch.num_perm)
        window_band = banding(s.candidates.window_threshold, s.sketch.num_perm)
        shared = sc.broadcast(context)
        return documents.mapPartitions(lambda items: analyse_partition(items, shared.value, doc_band, window_band),
                                       preservesPartitioning=True).persist(SPILL)

    def lsh_pairs(self, keyed):
        """Verbatim candidates: documents sharing an LSH bucket (documents or windows table).
        Documents are numbered in id order; each analyse partition sends its postings as numpy
        arrays split by key to ``DOCUMENTS_PER_LSH_PARTITION``-sized bucket partitions, where
        ``candidates.NumpyEngine`` pairs them (its cap, its chain: the local answers); the pair
        codes are made distinct the same way and named by id again.  One Python row per posting
        (a DataFrame groupBy of 69 M rows at 100k articles) was where the 100k run stalled."""
        cap = self.settings.candidates.max_bucket
        ids = numbered_ids(keyed, self.partitions).persist(SPILL)
        total = ids.count()
        parts = max(self.partitions, -(-total // DOCUMENTS_PER_LSH_PARTITION))
        numbered = keyed.mapValues(lambda found: found.keys).join(ids, self.partitions).values()   # (keys, number)
        engine = NumpyEngine(self.settings.sketch.num_perm, cap)
        found = (numbered.map(lambda kn: (kn[1], kn[0])).mapPartitions(lambda items: postings_by_partition(items, parts))
                 .partitionBy(parts, lambda part: part).mapPartitions(lambda chunks: bucket_pairs(chunks, engine, total))
                 .persist(SPILL))
        counts = found.filter(lambda t: t[0] == "counts").values().collect()
        codes = (found.filter(lambda t: t[0] == "codes").flatMap(lambda t: by_code_partition(t[1], parts))
                 .partitionBy(parts, lambda part: part).mapPartitions(distinct_codes))
        names = ids.map(lambda kv: (kv[1], kv[0]))
        first = codes.map(lambda code: (code // total, code % total)).join(names, self.partitions)
        pairs = (first.map(lambda kv: (kv[1][0], kv[1][1])).join(names, self.partitions)
                 .map(lambda kv: (kv[1][0], kv[1][1])).persist(SPILL))   # (id a, id b), a < b as numbers are
        oversized = sum(c[3] for c in counts)
        self.counts.update(lsh_keys=sum(c[0] for c in counts), colliding_buckets=sum(c[1] for c in counts),
                           largest_bucket=max((c[2] for c in counts), default=0), lsh_candidates=pairs.count(),
                           oversized_buckets=oversized, lsh_partitions=parts)
        if oversized:
            log.warning("%d LSH buckets held more than %d documents: their members were linked as a chain, "
                        "not all pairs (max_bucket)", oversized, cap)
        found.unpersist()
        self.ids = ids   # kept: the paraphrase stage numbers documents alike
        return pairs

    def verbatim_pairs(self, analyses, lsh, shared):
        """Every LSH candidate pair joined with its two analyses and verified on an executor: the
        pairs that share a passage, as ``PairEvidence``, kept on the executors."""
        second = lsh.map(lambda ab: (ab[1], ab[0])).join(analyses).map(lambda kv: (kv[1][0], kv[1][1]))
        grouped = second.groupByKey(self.partitions).join(analyses)   # a: ([analysis b], analysis a)
        return grouped.flatMap(lambda kv: verify_all(kv[1][1], kv[1][0], shared.value)).persist(SPILL)

    def shared_passages(self, analyses, verbatim):
        """The widely shared passages learned on the executors (``spark_passages``) and each verbatim
        pair filtered there: (``SharedPassages``, the filtered pairs as (ids, ``FilteredPair``), on
        the executors)."""
        from .spark_passages import DistributedSharedPassages

        distributed = DistributedSharedPassages(self, Scanner(self.settings).passage_finder())
        shared = distributed.fit(analyses, verbatim)
        self.counts.update(distributed.counts)
        return shared, distributed.filtered(shared, verbatim.map(lambda ev: ((ev.a, ev.b), ev)), analyses)

    def conclude(self, analyses, context: Context, shared: SharedPassages, filtered,
                 skipped: list[Skipped]) -> ScanReport:
        """The corpus-level steps left to the driver, by the local engine's own
        ``Scanner.conclude_filtered``: it is sent each document's ``DriverDocument`` (no analysis)
        and the filtered verbatim pairs."""
        text = self.counts["documents"] <= self.spark.summary_max_documents   # else no report: no text needed
        ordered = sorted(self.measured(analyses.values().map(lambda a: DriverDocument.of(a, text)), "documents")
                         .toLocalIterator(), key=lambda d: d.id)   # a partition at a time
        index = {d.id: n for n, d in enumerate(ordered)}
        found = self.measured(filtered, "verbatim").collect()
        evidence = shared.tally(sorted(((index[a], index[b]), pair) for (a, b), pair in found))
        corpus = Corpus(documents=[d.document for d in ordered], skipped=skipped, warnings=list(self.warnings))
        scanner = ExecutorScanner(self.settings, self, analyses)
        report = scanner.conclude_filtered(corpus, context, ordered, shared, evidence)
        if scanner.text is not None:
            scanner.text.unpersist()
        return report

    def family_components(self, pairs):
        """(document, family id) on the executors for every document in a substantive pair: the
        connected components (large-star / small-star) of ``lineage.family_links``, each named by
        its smallest document, which is the family's first member."""
        share = self.settings.lineage.family_min_share
        return connected_components(pairs.mapPartitions(lambda found: family_links(found, share)),
                                    self.partitions).persist(SPILL)

    def with_crediting(self, components, crediting):
        """(document, family id) for every document in a family: the components, and each
        document that only credits an absent source (``crediting``: an RDD of the documents that
        credit one), a family of its own with it (``lineage.assemble_families``' rule)."""
        alone = crediting.map(lambda doc: (doc, doc)).distinct(self.partitions)
        return components.union(alone.subtractByKey(components))

    def document_rows(self, analyses, roots, edges):
        """The documents dataset: each document joined with its family id and its parents (from an
        RDD of the derivation edges)."""
        parents = edges.map(lambda e: (e.child, e.parent)).groupByKey(self.partitions).mapValues(list)
        return (analyses.mapValues(lambda a: a.document).leftOuterJoin(roots).leftOuterJoin(parents)
                .map(lambda kv: document_row(kv[1][0][0], kv[1][0][1], kv[1][1] or [])))

    # -- output -----------------------------------------------------------------

    def write(self, out: str, rows: dict) -> None:
        """The datasets, each an RDD of rows made by ``datasets``' functions (one definition with
        the local engine)."""
        spark = self.session()
        for name in DATASETS:
            frame = spark.read.json(rows[name].map(lambda row: json.dumps(row, ensure_ascii=False)),
                                    schema=SCHEMAS[name])
            writer = frame.write.mode("overwrite")
            if self.spark.out_format == "json":
                writer.option("ignoreNullFields", "false").json(f"{out.rstrip('/')}/{name}")
            else:
                writer.parquet(f"{out.rstrip('/')}/{name}")

    def _rows(self, rows: Iterable[dict]):
        return self.session().sparkContext.parallelize(list(rows), self.partitions)

    def shuffle_bytes(self) -> int:
        """Bytes written to shuffles so far by this session's executors (Spark's status store)."""
        try:
            executors = self.session().sparkContext._jsc.sc().statusStore().executorList(True)
            return int(sum(executors.apply(i).totalShuffleWrite() for i in range(executors.size())))
        except Exception as err:   # a Spark version without it: say so, do not fail the scan
            log.warning("shuffle sizes unavailable: %s", str(err).splitlines()[0])
            return 0

    def measured(self, rdd, what: str):
        """``rdd``, each element it hands the driver counted in ``collected_bytes_<what>`` (pickled,
        as the driver receives it): what the driver is sent, measured where it is sent from."""
        counter = self._collected.get(what)
        if counter is None:
            counter = self._collected[what] = self.session().sparkContext.accumulator(0)
        return rdd.map(lambda item: _counted(item, counter))

    def collected_bytes(self) -> dict[str, int]:
        found = {f"collected_bytes_{what}": counter.value for what, counter in self._collected.items()}
        return {**found, "collected_bytes": sum(found.values())}

    @contextmanager
    def step(self, name: str):
        """Time one step and the bytes it shuffled (steps end with an action, so both are its own)."""
        start, shuffled = time.perf_counter(), self.shuffle_bytes()
        yield
        self.timings[name] = round(time.perf_counter() - start, 2)
        self.counts[f"shuffle_bytes_{name}"] = self.shuffle_bytes() - shuffled
        log.info("spark %s: %.1fs", name, self.timings[name])
