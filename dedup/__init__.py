"""dedup: near-duplicate, excerpt, paraphrase and syndication detection for news articles."""

from .index import Index, Verdict
from .load import Corpus, InputError, load_path
from .pipeline import Scanner
from .records import (Alignment, Document, Edge, Pair, Passage, ScanReport, Skipped, Source)
from .settings import Settings

__version__ = "0.1.0"

__all__ = [
    "Alignment", "Corpus", "Document", "Edge", "Index", "InputError", "Pair", "Passage", "ScanReport", "Scanner",
    "Settings", "Skipped", "Source", "Verdict", "load_path", "scan", "__version__",
]


def scan(path, **settings) -> ScanReport:
    """Load a folder (or file) and scan it: ``dedup.scan("corpus/").pairs``."""
    return Scanner(**settings).scan(load_path(path))
