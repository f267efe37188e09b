"""dedup: near-duplicate, excerpt, paraphrase and syndication detection for news articles.

Names are imported on first use, so ``import dedup`` (and ``dedup --help``) stay fast:
the paraphrase stage's scikit-learn loads only when a scan uses it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Alignment": "records", "Document": "records", "Edge": "records", "Pair": "records", "Passage": "records",
    "ScanReport": "records", "Skipped": "records", "Source": "records", "Direction": "records",
    "Corpus": "load", "InputError": "load", "load_path": "load",
    "Scanner": "pipeline", "Settings": "settings",
    "Index": "index", "Verdict": "index",
    "Context": "core", "DocumentAnalysis": "core", "PairEvidence": "core", "analyze": "core", "verify": "core",
    "paraphrase_probability": "sentences",
}

__all__ = sorted([*_EXPORTS, "scan", "__version__"])

if TYPE_CHECKING:
    from .core import Context, DocumentAnalysis, PairEvidence, analyze, verify  # noqa: F401
    from .index import Index, Verdict  # noqa: F401
    from .load import Corpus, InputError, load_path  # noqa: F401
    from .pipeline import Scanner  # noqa: F401
    from .records import (Alignment, Direction, Document, Edge, Pair, Passage, ScanReport,  # noqa: F401
                          Skipped, Source)
    from .sentences import paraphrase_probability  # noqa: F401
    from .settings import Settings  # noqa: F401


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'dedup' has no attribute {name!r}")


def scan(path, **settings):
    """Load a folder (or file) and scan it: ``dedup.scan("corpus/").pairs``."""
    from .load import load_path
    from .pipeline import Scanner

    return Scanner(**settings).scan(load_path(path))
