"""dedup: near-duplicate, excerpt, paraphrase and syndication detection for news articles.

Names are imported on first use, so ``import dedup`` (and ``dedup --help``) stay fast:
the paraphrase stage's scikit-learn loads only when a scan uses it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any, Iterable, Mapping

__version__ = "0.1.0"

_EXPORTS = {
    "Alignment": "records", "Document": "records", "Edge": "records", "Pair": "records", "Passage": "records",
    "ScanReport": "records", "Skipped": "records", "Source": "records", "Direction": "records",
    "Corpus": "load", "InputError": "load", "load_path": "load",
    "Scanner": "pipeline", "Settings": "settings",
    "Index": "index", "Verdict": "index",
    "Context": "core", "DocumentAnalysis": "core", "PairEvidence": "core", "analyze": "core", "verify": "core",
    "Columns": "inputs", "RecordError": "inputs",
    "Deduplication": "export", "deduplicate": "export",
    "paraphrase_probability": "sentences",
}

__all__ = sorted([*_EXPORTS, "scan", "__version__"])

if TYPE_CHECKING:
    from .core import Context, DocumentAnalysis, PairEvidence, analyze, verify  # noqa: F401
    from .export import Deduplication, deduplicate  # noqa: F401
    from .inputs import Columns, RecordError  # noqa: F401
    from .index import Index, Verdict  # noqa: F401
    from .load import Corpus, InputError, load_path  # noqa: F401
    from .pipeline import Scanner  # noqa: F401
    from .records import (Alignment, Direction, Document, Edge, Pair, Passage, ProgressCallback,  # noqa: F401
                          ScanReport, Skipped, Source)
    from .sentences import paraphrase_probability  # noqa: F401
    from .settings import Settings  # noqa: F401


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'dedup' has no attribute {name!r}")


def scan(records: Any, *, columns: "Columns | Mapping[str, str] | None" = None, errors: str = "raise",
         include: "str | Iterable[str]" = (), exclude: "str | Iterable[str]" = (),
         progress: "ProgressCallback | None" = None, settings: "Settings | None" = None,
         **overrides: Any) -> "ScanReport":
    """Scan articles for reuse and return the report.

    ``records``: a folder or file path (``str`` or ``Path``; a list of ``Path`` objects for several),
    an iterable of ``Document`` records, of mappings (``id``, ``text``; optional ``title``, ``url``,
    ``date``, ``source``) or of plain strings (ids are their positions), a pandas DataFrame
    or a Hugging Face ``datasets.Dataset``.  ``columns`` renames fields (``{"text": "body"}``).
    A bad record raises ``RecordError`` naming it; ``errors="skip"`` lists it in
    ``report.skipped`` instead.  ``include``/``exclude``: shell globs choosing the files of a
    folder (``"*.html"``).  Any setting by name: ``dedup.scan(df, paraphrase=False)``.

    >>> report = dedup.scan(["first text ...", "second text ..."])     # doctest: +SKIP
    >>> pairs, documents = report.to_pandas()                          # doctest: +SKIP
    """
    from .inputs import PathFilter, to_corpus
    from .pipeline import Scanner

    scanner = Scanner(settings, **overrides)   # bad settings fail before any reading
    selected = PathFilter(_patterns(include), _patterns(exclude))
    return scanner.scan(to_corpus(records, columns, errors=errors, paths=selected), progress=progress)


def _patterns(value: "str | Iterable[str]") -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)
