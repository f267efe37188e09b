"""Command line: ``dedup scan FOLDER`` and ``dedup compare A B``.  Only wraps the library."""

from __future__ import annotations

import io
import sys
from contextlib import contextmanager, nullcontext
from enum import Enum
from pathlib import Path
from typing import Iterator, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from . import __version__
from .settings import Settings, field_of, limits_text

# Only what --help needs is imported at the top; each command imports its stages.
PROGRESS_MIN_DOCUMENTS = 200
DEFAULT_MAX_MB = 10.0   # the load stage's per-document cap (load.DEFAULT_MAX_BYTES), in the CLI's unit


def option(name: str, *flags: str):
    """A CLI option for the settings field ``name``: default, help and limits come from the field."""
    f = field_of(name)
    limits = limits_text(f)
    return typer.Option(f.default, *flags, help=f.metadata["help"] + (f" ({limits})" if limits else ""))

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help=(
        "Find verbatim copies, excerpts and paraphrased retellings among news articles, "
        "and tell which derives from which, with evidence you can check.\n\n"
        "Examples:\n\n"
        "  dedup scan                      # the three seed articles shipped with dedup\n\n"
        "  dedup scan corpus/ --format json -o report.json\n\n"
        "  dedup compare a.txt b.html      # one pair in detail\n\n"
        "  dedup dedupe corpus/ -o kept.jsonl   # one per cluster of copies"
    ),
)


class Format(str, Enum):
    text = "text"
    json = "json"
    csv = "csv"


class Keep(str, Enum):
    earliest = "earliest"
    longest = "longest"
    source = "source"


def default_corpus() -> Path:
    """The seed articles shipped with dedup (the embedded default corpus)."""
    return Path(__file__).resolve().parent / "seeds"


def fail(message: str, code: int = 2) -> None:
    """One clear line on stderr, no traceback."""
    typer.echo(f"dedup: error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def progress_bar(enabled: bool) -> Iterator:
    """A progress callback drawing rich bars on stderr, one per stage, for long scans."""
    if not enabled:
        yield None
        return
    columns = (TextColumn("{task.description:>12}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as bars:
        tasks: dict[str, int] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(stage, total=total)
            if done == total or done % max(1, total // 100) == 0:   # at most ~100 redraws a stage
                bars.update(tasks[stage], completed=done, total=total)

        yield update


def settings_from(**options) -> Settings:
    try:
        return Settings.of(**options)
    except ValueError as err:
        fail(str(err))


def read_corpus(paths: Optional[list[str]], include: list[str], exclude: list[str], quiet: bool,
                progress: Optional[bool] = None, max_mb: float = DEFAULT_MAX_MB):
    """The documents of ``paths`` (``-``: JSONL on stdin; none: the seeds), skipped inputs
    reported on stderr unless ``quiet``; exit 1 when nothing could be read.  A big folder takes
    a while to read: a terminal shows a spinner meanwhile (how many files is not known yet)."""
    from .inputs import PathFilter, load_paths
    from .load import InputError

    if not max_mb > 0:
        fail(f"--max-mb must be a positive number of megabytes, got {max_mb}")
    paths = paths or [str(default_corpus())]
    console = Console(stderr=True)
    spinner = not quiet and progress is not False and console.is_terminal
    try:
        with console.status(f"reading {', '.join(paths)}") if spinner else nullcontext():
            corpus = load_paths(paths, PathFilter(tuple(include), tuple(exclude)), stdin=sys.stdin,
                                max_bytes=int(max_mb * 2**20))
    except InputError as err:
        fail(str(err))
    if not quiet:
        for item in corpus.skipped:
            typer.echo(f"dedup: skipped {item}", err=True)
        for item in corpus.warnings:
            typer.echo(f"dedup: warning {item}", err=True)
    if not corpus.documents:
        fail(f"{', '.join(paths)}: no readable documents", code=1)
    return corpus


def run_scan(corpus, settings: Settings, progress: Optional[bool], quiet: bool):
    """Scan with progress bars on stderr: when asked, else for large corpora; never when quiet."""
    from .pipeline import Scanner

    show = not quiet and (progress if progress is not None else len(corpus.documents) > PROGRESS_MIN_DOCUMENTS)
    with progress_bar(show) as callback:
        return Scanner(settings).scan(corpus, progress=callback)


PATHS_HELP = ("Folders (searched recursively) or files: .txt .md .html .htm .jsonl; '-' reads JSONL from "
              "standard input. Default: the seed articles shipped with dedup.")
INCLUDE_HELP = ("Read only files of a folder matching this glob ('*.html'; with a '/', the path inside the "
                "folder: '2024/*'). Repeatable.")
EXCLUDE_HELP = "Leave out files of a folder matching this glob (as --include). Repeatable."
MAX_MB_HELP = ("A document (a file, or one JSONL line) larger than this many megabytes is skipped with a "
               "reason instead of being read: a guard against memory blow-ups on stray dumps.")
QUIET_HELP = "Nothing on stderr but errors: no skipped-input lines, no progress bars, no summary line."
PROGRESS_HELP = f"Progress bars on stderr (default: on for more than {PROGRESS_MIN_DOCUMENTS} documents)."


def write_output(text: str, output: Optional[Path]) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as err:
        fail(f"{output}: cannot write: {err.strerror or err}")


def source_text(folder: Optional[Path]) -> str:
    """The scan's input as given: a path, or a URI that ``Path`` squeezed ("s3a:/b" back to "s3a://b")."""
    import re
    text = str(folder or default_corpus())
    return text if text.startswith("file:") else re.sub(r"^([a-z][a-z0-9+.-]+):/(?!/)", r"\1://", text)


def engine_report(engine: str, folder: Optional[Path], settings: Settings, master: Optional[str],
                  out: Optional[str], out_format: str, columns: list[str]):
    """Run a scan on an execution engine (``dedup.engines``); the report, or None when the corpus was
    too big to collect (then the counts go to stderr and the datasets to ``out``)."""
    from .engines import ENGINES, make_engine
    from .load import InputError
    if engine not in ENGINES:
        fail(f"--engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    options = {}
    if engine == "spark":
        for item in columns:
            field, _, name = item.partition("=")
            if field not in ("id", "text", "title", "date", "url", "source") or not name:
                fail(f"--column must be FIELD=COLUMN with FIELD one of id, text, title, date, url, source; got {item!r}")
            options[f"{field}_column"] = name
        options.update(out_format=out_format, **({"master": master} if master else {}))
    try:
        runner = make_engine(engine, settings, **options)
        result = runner.scan(source_text(folder), out)
    except InputError as err:
        fail(str(err))
    except ValueError as err:
        fail(str(err))
    except ImportError:
        fail("--engine spark needs pyspark: pip install -e '.[spark]' (and Java 17)")
    except RuntimeError as err:   # pyspark's errors when no JVM starts (no Java) or a job fails
        fail(f"spark: {str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__} "
             "(is Java 17 installed? see README 'Spark')")
    if result.report is not None:
        for item in result.report.skipped:
            typer.echo(f"dedup: skipped {item}", err=True)
    if result.report is None or out is not None:
        typer.echo("dedup: " + ", ".join(f"{result.counts.get(k, 0)} {k}" for k in
                                         ("documents", "rejects", "pairs", "families", "sources"))
                   + (f"; datasets in {out}" if out else ""), err=True)
    return result.report


@app.command()
def scan(
    paths: Optional[list[str]] = typer.Argument(None, help=PATHS_HELP, show_default=False, metavar="[PATH]..."),
    format: Format = typer.Option(Format.text, "--format", "-f", help="text: summary for people; json: everything, "
                                  "for machines (dedup/schema/report.schema.json); csv: one row per pair."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the report here instead of stdout."),
    include: list[str] = typer.Option([], "--include", help=INCLUDE_HELP, show_default=False, metavar="GLOB"),
    exclude: list[str] = typer.Option([], "--exclude", help=EXCLUDE_HELP, show_default=False, metavar="GLOB"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help=QUIET_HELP),
    max_mb: float = typer.Option(DEFAULT_MAX_MB, "--max-mb", help=MAX_MB_HELP),
    paraphrase: bool = option("paraphrase", "--paraphrase/--no-paraphrase"),
    shingle_size: int = option("shingle_size"),
    window_words: int = option("window_words"),
    window_threshold: float = option("window_threshold"),
    document_threshold: float = option("document_threshold"),
    min_passage_words: int = option("min_passage_words"),
    chrome_min_docs: int = option("chrome_min_docs"),
    lsh: str = option("lsh"),
    jobs: int = option("jobs", "--jobs", "-j"),
    progress: Optional[bool] = typer.Option(None, "--progress/--no-progress", help=PROGRESS_HELP),
    html: Optional[Path] = typer.Option(None, "--html", help="Also write a self-contained HTML report here: "
                                        "derivation graphs, sortable pair tables, articles side by side."),
    engine: str = typer.Option("local", "--engine", help="Execution engine: local (this process) or spark "
                               "(the same analysis on Spark executors; pip install -e '.[spark]', Java 17). Not "
                               "the LSH implementation, which is --lsh."),
    master: Optional[str] = typer.Option(None, "--master", help="Spark master (local[N], spark://HOST:7077, "
                                         "yarn); implies --engine spark. Default local[*]."),
    out: Optional[str] = typer.Option(None, "--out", help="Also write datasets here (a folder or URI): pairs "
                                      "with evidence, documents with family and parents, absent sources, "
                                      "rejected records, counts.json."),
    out_format: str = typer.Option("parquet", "--out-format", help="parquet or json (JSON lines); the local "
                                   "engine always writes JSON lines."),
    column: Optional[list[str]] = typer.Option(None, "--column", help="FIELD=COLUMN: the input column (JSONL "
                                               "key) holding a document field (id, text, title, date, url, "
                                               "source), for --engine spark; repeatable."),
) -> None:
    """Scan articles and report which share text, where, and who took from whom.

    Relations: duplicate (the same article once chrome is set aside), excerpt (one lies
    inside the other), overlap (shared passages), paraphrase (retold in other words).
    Exit status: 0 on success, 1 if no document could be read, 2 on a usage error.
    """
    from .report import print_summary, to_json

    settings = settings_from(paraphrase=paraphrase, shingle_size=shingle_size, window_words=window_words,
                             window_threshold=window_threshold, document_threshold=document_threshold,
                             min_passage_words=min_passage_words, chrome_min_docs=chrome_min_docs, lsh=lsh,
                             jobs=jobs)
    if master is not None or engine != "local" or out is not None:
        if paths and len(paths) > 1:
            fail("--engine spark and --out take one input (a folder, file, glob or URI), "
                 f"got {len(paths)}")
        folder = Path(paths[0]) if paths else None
        report = engine_report("spark" if master is not None else engine, folder, settings, master, out,
                               out_format, column or [])
        if report is None:
            return
    else:
        corpus = read_corpus(paths, include, exclude, quiet, progress, max_mb)
        report = run_scan(corpus, settings, progress, quiet)
    if html is not None:
        from .html import render
        write_output(render(report, title=f"dedup: {', '.join(paths or ['seeds'])}"), html)
    if format is Format.json:
        write_output(to_json(report), output)
    elif format is Format.csv:
        from .export import PAIR_COLUMNS, pair_rows, to_csv
        write_output(to_csv(pair_rows(report), PAIR_COLUMNS), output)
    else:
        console = Console(record=output is not None, file=None if output is None else io.StringIO(),
                          width=None if output is None and sys.stdout.isatty() else 120)
        print_summary(report, console)
        if output is not None:
            write_output(console.export_text(), output)


@app.command()
def dedupe(
    paths: Optional[list[str]] = typer.Argument(None, help=PATHS_HELP, show_default=False, metavar="[PATH]..."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the kept documents here (JSONL) "
                                          "instead of stdout."),
    keep: Keep = typer.Option(Keep.earliest, "--keep", "-k", help="Which document of a cluster to keep: earliest "
                              "(publication date; undated last), longest (most characters), source (the one the "
                              "others derive from, by lineage). Ties: earliest, then longest, then smallest id."),
    relations: str = typer.Option("duplicate,excerpt", "--relations", help="Relations that put two documents "
                                  "in one cluster, comma-separated (duplicate, excerpt, overlap, paraphrase). "
                                  "The default holds back what 'dedup filter' does; all four give one document "
                                  "per story family."),
    clusters: Optional[Path] = typer.Option(None, "--clusters", help="Also write every document with its "
                                            "cluster_id, family_id and is_representative here (CSV)."),
    include: list[str] = typer.Option([], "--include", help=INCLUDE_HELP, show_default=False, metavar="GLOB"),
    exclude: list[str] = typer.Option([], "--exclude", help=EXCLUDE_HELP, show_default=False, metavar="GLOB"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help=QUIET_HELP),
    max_mb: float = typer.Option(DEFAULT_MAX_MB, "--max-mb", help=MAX_MB_HELP),
    paraphrase: Optional[bool] = typer.Option(None, "--paraphrase/--no-paraphrase", help="Run the paraphrase "
                                              "stage (default: only when --relations includes paraphrase)."),
    progress: Optional[bool] = typer.Option(None, "--progress/--no-progress", help=PROGRESS_HELP),
) -> None:
    """Keep one document per cluster of near-copies: write them as JSONL, each with its cluster.

    Each kept record has the document's fields and a 'dedup' field: cluster_id, family_id,
    the rule used, and the ids dropped in its favour. Example:

      dedup dedupe corpus/ -o unique.jsonl --clusters clusters.csv
    """
    import json

    from .export import DOCUMENT_COLUMNS, check_options, deduplicate, document_rows, representative_records, to_csv

    try:
        chosen = check_options(keep.value, [r.strip() for r in relations.split(",") if r.strip()])
    except ValueError as err:
        fail(str(err).replace("relations", "--relations", 1))
    settings = settings_from(paraphrase="paraphrase" in chosen if paraphrase is None else paraphrase)
    report = run_scan(read_corpus(paths, include, exclude, quiet, progress, max_mb), settings, progress, quiet)
    result = deduplicate(report, keep.value, chosen)
    records = representative_records(report, result)
    write_output("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), output)
    if clusters is not None:
        write_output(to_csv(document_rows(report, result), DOCUMENT_COLUMNS), clusters)
    if not quiet:
        typer.echo(f"dedup dedupe: {len(report.documents)} documents, {len(records)} kept, "
                   f"{len(report.documents) - len(records)} dropped (keep {keep.value}; clusters joined by "
                   f"{', '.join(chosen)})", err=True)


@app.command()
def compare(
    a: Path = typer.Argument(..., help="First article (.txt .md .html .htm, or a one-line .jsonl)."),
    b: Path = typer.Argument(..., help="Second article."),
    format: Format = typer.Option(Format.text, "--format", "-f", help="text or json."),
    html: Optional[Path] = typer.Option(None, "--html", help="Also write the pair as a self-contained HTML page."),
    corpus_path: Optional[Path] = typer.Option(None, "--corpus", help="Judge the pair as the scan of this "
                                               "folder does (what it learns there: repeated chrome lines, widely "
                                               "shared passages, which pairs are tried) and report exactly that "
                                               "scan's answer. Default: the two articles alone."),
) -> None:
    """Show one pair in detail: shared passages with offsets, aligned sentences, evidence."""
    from .load import InputError, load_path
    from .pipeline import Scanner
    from .report import print_compare

    context_documents = None
    if corpus_path is not None:
        try:
            context_documents = load_path(corpus_path).documents
        except InputError as err:
            fail(str(err))
    documents = []
    for path in (a, b):
        try:
            corpus = load_path(path)
        except InputError as err:
            fail(str(err))
        if not corpus.documents:
            fail(str(corpus.skipped[0]) if corpus.skipped else f"{path}: no readable document")
        documents.append(corpus.documents[0])
    first, second = documents
    if first.id == second.id:
        from dataclasses import replace
        second = replace(second, id=f"{second.id} (b)")
    if context_documents is not None:   # the files are usually inside the corpus: use its ids for them
        first, second = (next((d for d in context_documents if d.text == x.text), x) for x in (first, second))
    report = Scanner().compare_report(first, second, context_documents)
    pair = report.pairs[0]
    if html is not None:
        from .html import render
        write_output(render(report, title=f"dedup: {first.id} vs {second.id}"), html)
    if format is Format.json:
        import json
        sys.stdout.write(json.dumps(pair.to_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        print_compare(pair, report.document(pair.a), report.document(pair.b), Console())


index_app = typer.Typer(no_args_is_help=True, help="Inspect, check or edit a persistent index (see 'dedup filter').")
app.add_typer(index_app, name="index")

FILTER_EXIT_CODES = ("Exit status: 0 done (invalid lines are routed, not fatal); 2 usage error or an index built "
                     "with other settings; 3 damaged index; 4 index locked by another writer; 5 index server "
                     "unreachable; 6 no space left (index or output); 7 an interrupted run cannot be resumed "
                     "as asked.")


def open_index(location: str, *, create: bool = True, settings: Optional[Settings] = None):
    from .index import Index, IndexError_
    try:
        return Index.open(location, settings, create=create)
    except IndexError_ as err:
        fail(str(err), err.exit_code)


@contextmanager
def index_errors(output: Optional[Path] = None) -> Iterator[None]:
    """Index, resume and write failures as one line each, with their own exit status."""
    import errno
    from .index import IndexError_
    try:
        yield
    except IndexError_ as err:
        fail(str(err), err.exit_code)
    except OSError as err:
        if err.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
            fail(f"{err.filename or output or 'output'}: cannot write: {err.strerror}; the last committed "
                 "group is kept in the index: free space and rerun the same command to resume", 6)
        raise


def open_binary(path: Path, mode: str):
    try:
        return open(path, mode)
    except OSError as err:
        fail(f"{path}: cannot {'read' if 'r' in mode else 'write'}: {err.strerror or err}")


@app.command("filter", help=f"""Pre-ingest filter: pass new articles through, hold back near-copies of anything seen before.

    Reads JSONL, answers each article against a persistent index (excerpts of an indexed
    article count as copies) and adds the new ones. Every input line ends up in exactly one
    output with a reason, exactly once even if the process is killed: rerun the same command
    to resume (outputs as files: --output/--rejects, or '>>'). A summary and one line per
    held-back article go to stderr. Example:

      dedup filter --index news.index -o unique.jsonl -r rejects.jsonl incoming.jsonl

    {FILTER_EXIT_CODES}
    """)
def filter_command(
    index: str = typer.Option(..., "--index", "-i", help="Index file (created if missing; SQLite) or "
                              "redis://HOST:PORT/DB?prefix=NAME for an index shared by several workers."),
    inputs: Optional[list[Path]] = typer.Argument(None, help="JSONL files to read, in order, as one stream "
                                                  "(default: standard input). One article per line: at least "
                                                  "'id' and 'text'."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Append unique documents here instead of "
                                          "standard output."),
    rejects: Optional[Path] = typer.Option(None, "--rejects", "-r", help="Append near-duplicates and invalid "
                                           "lines here, each with a 'dedup' field saying why."),
    policy: str = typer.Option("drop", "--policy", help="drop: only unique documents go to the output. "
                               "flag: every document goes to the output with a 'dedup' field."),
    check_only: bool = typer.Option(False, "--check-only", help="Judge against the index without adding."),
    max_line_mb: float = typer.Option(5.0, "--max-line-mb", help="Longer lines are rejected as invalid."),
    batch: int = typer.Option(256, "--batch", help="Documents judged and committed together (group commit).",
                              min=1),
    flush_ms: float = typer.Option(500, "--flush-ms", help="Latency bound: a line is committed and written at "
                                   "most this long after it was read (plus judging time), even when the input "
                                   "pauses.", min=0),
    run: Optional[str] = typer.Option(None, "--run", help="Name of this run, to resume it after a crash "
                                      "(default: from the output files' paths; none when writing to a pipe)."),
    resume: bool = typer.Option(True, "--resume/--no-resume", help="Resume an interrupted run with the same "
                                "outputs (default), or start over from the first input line."),
    shingle_sets_kept: int = option("shingle_sets_kept", "--shingle-sets-kept"),
) -> None:
    from itertools import chain

    from .filter import POLICIES, Sink, StreamFilter
    if policy not in POLICIES:
        fail(f"--policy must be one of {', '.join(POLICIES)}, got {policy!r}")
    sources = [open_binary(path, "rb") for path in inputs or []]
    out_sink = Sink(open_binary(output, "ab"), str(output)) if output else Sink(sys.stdout.buffer, "standard output")
    reject_sink = Sink(open_binary(rejects, "ab"), str(rejects)) if rejects else None
    with open_index(index, settings=settings_from(shingle_sets_kept=shingle_sets_kept)) as opened, \
            index_errors(output):
        runner = StreamFilter(opened, policy=policy, check_only=check_only, max_line_bytes=int(max_line_mb * 2**20),
                              batch_size=batch, flush_ms=flush_ms, run_name=run, resume=resume)
        counts = runner.run(chain(*sources) if sources else sys.stdin.buffer, out_sink, reject_sink, sys.stderr)
    typer.echo(f"dedup filter: {counts}", err=True)


@index_app.command("stats")
def index_stats(location: str = typer.Argument(..., help="Index file or redis:// URL.")) -> None:
    """Documents, settings, size on disk, and whether every record reads back intact, as JSON.
    Exit status 3 when the index is damaged."""
    import json
    with open_index(location, create=False) as opened, index_errors():
        stats = opened.stats()
        problems = opened.verify()
    stats["check"] = "ok" if not problems else f"DAMAGED: {len(problems)} problems (see 'dedup index check')"
    typer.echo(json.dumps(stats, indent=2))
    if problems:
        raise typer.Exit(3)


@index_app.command("check")
def index_check(location: str = typer.Argument(..., help="Index file or redis:// URL.")) -> None:
    """Read the whole index back: file structure, every document (checksums, text, digest) and the
    short-line counts. Prints 'ok' (exit 0) or each problem (exit 3)."""
    with open_index(location, create=False) as opened, index_errors():
        documents = opened.stats()["documents"]
        problems = opened.verify()
    if problems:
        for problem in problems:
            typer.echo(f"dedup: {location}: {problem}", err=True)
        fail(f"{location}: damaged ({len(problems)} problems); rebuild it from the original articles", 3)
    typer.echo(f"ok: {documents} documents")


@index_app.command("remove")
def index_remove(location: str = typer.Argument(..., help="Index file or redis:// URL."),
                 doc_id: str = typer.Argument(..., help="Id of the document to forget.")) -> None:
    """Forget one document (later copies of it will pass as new)."""
    with open_index(location, create=False) as opened, index_errors():
        if not opened.remove(doc_id):
            fail(f"{opened.backend.location}: no document with id {doc_id!r}", code=1)
    typer.echo(f"removed {doc_id}")


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"dedup {__version__}")
        raise typer.Exit()


@app.callback()
def root(version: bool = typer.Option(False, "--version", callback=version_callback, is_eager=True,
                                      help="Show the version and exit.")) -> None:
    """dedup: near-duplicate and syndication detection for news articles."""


def main() -> None:
    app()
