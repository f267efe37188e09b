"""The local execution engine: ``pipeline.Scanner`` in this process, behind the engine interface."""

from __future__ import annotations

from pathlib import Path

from ..load import load_path
from ..pipeline import Scanner
from ..records import ProgressCallback
from ..settings import Settings
from . import EngineResult
from .datasets import report_rows, write_counts, write_json_dataset


class LocalEngine:
    """Loads a folder or file with ``load.load_path`` and scans it with ``pipeline.Scanner``."""

    name = "local"

    def __init__(self, settings: Settings | None = None, progress: ProgressCallback | None = None) -> None:
        self.settings = settings or Settings()
        self.progress = progress

    def scan(self, source: str, out: str | None = None) -> EngineResult:
        corpus = load_path(source)
        report = Scanner(self.settings).scan(corpus, progress=self.progress)
        counts = {"documents": len(report.documents), "rejects": len(report.skipped), "pairs": len(report.pairs),
                  "families": len(report.families), "sources": len(report.sources)}
        if out is not None:
            for name, rows in report_rows(report).items():
                write_json_dataset(Path(out) / name, rows)
            write_counts(Path(out), counts)
        return EngineResult(report, counts, out)
