"""Command line: ``dedup scan FOLDER`` and ``dedup compare A B``.  Only wraps the library."""

from __future__ import annotations

import io
import sys
from contextlib import contextmanager
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
        "  dedup compare a.txt b.html      # one pair in detail"
    ),
)


class Format(str, Enum):
    text = "text"
    json = "json"


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
            if done == total or done % 50 == 0:
                bars.update(tasks[stage], completed=done, total=total)

        yield update


def settings_from(**options) -> Settings:
    try:
        return Settings.of(**options)
    except ValueError as err:
        fail(str(err))


def report_skipped(corpus) -> None:
    for item in corpus.skipped:
        typer.echo(f"dedup: skipped {item}", err=True)


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
        report_skipped(result.report)
    if result.report is None or out is not None:
        typer.echo("dedup: " + ", ".join(f"{result.counts.get(k, 0)} {k}" for k in
                                         ("documents", "rejects", "pairs", "families", "sources"))
                   + (f"; datasets in {out}" if out else ""), err=True)
    return result.report


@app.command()
def scan(
    folder: Optional[Path] = typer.Argument(None, help="Folder (searched recursively) or file: .txt .md .html .htm "
                                            ".jsonl. Default: the seed articles shipped with dedup."),
    format: Format = typer.Option(Format.text, "--format", "-f", help="text: summary for people; json: for machines."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the report here instead of stdout."),
    paraphrase: bool = option("paraphrase", "--paraphrase/--no-paraphrase"),
    shingle_size: int = option("shingle_size"),
    window_words: int = option("window_words"),
    window_threshold: float = option("window_threshold"),
    document_threshold: float = option("document_threshold"),
    min_passage_words: int = option("min_passage_words"),
    chrome_min_docs: int = option("chrome_min_docs"),
    lsh: str = option("lsh"),
    progress: Optional[bool] = typer.Option(None, "--progress/--no-progress", help="Progress bars on stderr "
                                            f"(default: on for more than {PROGRESS_MIN_DOCUMENTS} documents)."),
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
    """Scan a folder of articles and report which share text, where, and who took from whom.

    Relations: duplicate (the same article once chrome is set aside), excerpt (one lies
    inside the other), overlap (shared passages), paraphrase (retold in other words).
    Exit status: 0 on success, 1 if no document could be read, 2 on a usage error.
    """
    from .load import InputError, load_path
    from .pipeline import Scanner
    from .report import print_summary, to_json

    settings = settings_from(paraphrase=paraphrase, shingle_size=shingle_size, window_words=window_words,
                             window_threshold=window_threshold, document_threshold=document_threshold,
                             min_passage_words=min_passage_words, chrome_min_docs=chrome_min_docs, lsh=lsh)
    if master is not None or engine != "local" or out is not None:
        report = engine_report("spark" if master is not None else engine, folder, settings, master, out,
                               out_format, column or [])
        if report is None:
            return
    else:
        try:
            corpus = load_path(folder or default_corpus())
        except InputError as err:
            fail(str(err))
        report_skipped(corpus)
        if not corpus.documents:
            fail(f"{folder or default_corpus()}: no readable documents", code=1)
        show_progress = progress if progress is not None else len(corpus.documents) > PROGRESS_MIN_DOCUMENTS
        with progress_bar(show_progress) as callback:
            report = Scanner(settings).scan(corpus, progress=callback)
    if html is not None:
        from .html import render
        write_output(render(report, title=f"dedup: {folder or 'seeds'}"), html)
    if format is Format.json:
        write_output(to_json(report), output)
    else:
        console = Console(record=output is not None, file=None if output is None else io.StringIO(),
                          width=None if output is None and sys.stdout.isatty() else 120)
        print_summary(report, console)
        if output is not None:
            write_output(console.export_text(), output)


@app.command()
def compare(
    a: Path = typer.Argument(..., help="First article (.txt .md .html .htm, or a one-line .jsonl)."),
    b: Path = typer.Argument(..., help="Second article."),
    format: Format = typer.Option(Format.text, "--format", "-f", help="text or json."),
    html: Optional[Path] = typer.Option(None, "--html", help="Also write the pair as a self-contained HTML page."),
    corpus_path: Optional[Path] = typer.Option(None, "--corpus", help="Learn what is common (repeated chrome "
                                               "lines, word weights, names) from this folder, as a scan of it "
                                               "does: the pair is then judged exactly as in that scan. Default: "
                                               "from the two articles alone."),
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


index_app = typer.Typer(no_args_is_help=True, help="Inspect or edit a persistent index (see 'dedup filter').")
app.add_typer(index_app, name="index")


def open_index(location: str, *, create: bool = True):
    from .index import Index, IndexError_
    try:
        return Index.open(location, create=create)
    except IndexError_ as err:
        fail(str(err))


@app.command("filter")
def filter_command(
    index: str = typer.Option(..., "--index", "-i", help="Index file (created if missing; SQLite) or "
                              "redis://HOST:PORT/DB?prefix=NAME for an index shared by several workers."),
    inputs: Optional[list[Path]] = typer.Argument(None, help="JSONL files to read (default: standard input). "
                                                  "One article per line: at least 'id' and 'text'."),
    rejects: Optional[Path] = typer.Option(None, "--rejects", "-r", help="Write near-duplicates and invalid "
                                           "lines here, each with a 'dedup' field saying why."),
    policy: str = typer.Option("drop", "--policy", help="drop: only unique documents go to stdout. "
                               "flag: every document goes to stdout with a 'dedup' field."),
    check_only: bool = typer.Option(False, "--check-only", help="Judge against the index without adding."),
    max_line_mb: float = typer.Option(5.0, "--max-line-mb", help="Longer lines are rejected as invalid."),
) -> None:
    """Pre-ingest filter: pass new articles through, hold back near-copies of anything seen before.

    Reads JSONL, answers each article against a persistent index (excerpts of an indexed
    article count as copies) and adds the new ones. Every input line ends up in exactly one
    output with a reason; malformed lines too. A summary and one line per held-back article
    go to stderr. Example:

      dedup filter --index news.index < incoming.jsonl > unique.jsonl 2> filter.log
    """
    from .filter import POLICIES, StreamFilter
    if policy not in POLICIES:
        fail(f"--policy must be one of {', '.join(POLICIES)}, got {policy!r}")
    streams = []
    for path in inputs or []:
        try:
            streams.append(open(path, encoding="utf-8", errors="replace"))
        except OSError as err:
            fail(f"{path}: cannot read: {err.strerror or err}")
    try:
        reject_stream = open(rejects, "a", encoding="utf-8") if rejects else None
    except OSError as err:
        fail(f"{rejects}: cannot write: {err.strerror or err}")
    from .index import IndexError_
    with open_index(index) as opened:
        runner = StreamFilter(opened, policy=policy, check_only=check_only,
                              max_line_bytes=int(max_line_mb * 2**20))
        sources = streams or [sys.stdin]
        try:
            counts = [runner.run(source, sys.stdout, reject_stream, sys.stderr) for source in sources]
        except IndexError_ as err:
            fail(str(err))
    total = {k: sum(getattr(c, k) for c in counts) for k in ("read", "unique", "duplicates", "invalid")}
    typer.echo(f"dedup filter: {total['read']} lines: {total['unique']} unique, {total['duplicates']} "
               f"near-duplicates, {total['invalid']} invalid", err=True)


@index_app.command("stats")
def index_stats(location: str = typer.Argument(..., help="Index file or redis:// URL.")) -> None:
    """Documents, LSH bands and size on disk of an index, as JSON."""
    import json
    with open_index(location, create=False) as opened:
        typer.echo(json.dumps(opened.stats(), indent=2))


@index_app.command("remove")
def index_remove(location: str = typer.Argument(..., help="Index file or redis:// URL."),
                 doc_id: str = typer.Argument(..., help="Id of the document to forget.")) -> None:
    """Forget one document (later copies of it will pass as new)."""
    with open_index(location, create=False) as opened:
        if not opened.remove(doc_id):
            fail(f"{location}: no document with id {doc_id!r}", code=1)
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
