"""Execution engines: where a whole scan runs.

Two names that are easy to confuse, kept apart on purpose:

- the **execution engine** (``--engine``, this package): ``local`` runs ``pipeline.Scanner``
  in this process; ``spark`` runs the per-document and per-pair analysis-core calls
  (``core.analyze``, ``candidates.bucket_keys``, ``core.verify_verbatim``), the paraphrase
  stage's text model and neighbours, sentence alignment, lineage and the families (connected
  components) on a Spark cluster's executors, the other corpus-level steps on the driver through
  ``Scanner.conclude`` (see ``spark.py`` for which step runs where);
- the **LSH implementation** (``--lsh``, ``CandidateSettings.lsh``): numpy or datasketch
  banding inside the local engine's candidates stage.  The Spark engine always bands with
  ``bucket_keys`` (the same buckets) and groups by key instead.

Every engine answers ``scan(source, out) -> EngineResult``: the usual ``ScanReport`` when the
result is small enough to hold in memory, counts of what happened, and, with ``out``, the
datasets written there (``datasets.py``: pairs with their evidence, documents with their
family and parents, absent sources, rejected records).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ..records import ScanReport
from ..settings import Settings

ENGINES = ("local", "spark")


@dataclass
class EngineResult:
    """What a scan produced: the report (None when too big to collect), counts, where datasets went."""

    report: ScanReport | None
    counts: dict[str, int] = field(default_factory=dict)
    out: str | None = None


class Engine(Protocol):
    name: str

    def scan(self, source: str, out: str | None = None) -> EngineResult:
        """Scan ``source`` (a folder, file, glob or URI); write datasets to ``out`` when given."""


def make_engine(name: str, settings: Settings | None = None, **options) -> Engine:
    """The execution engine called ``name`` (``local`` or ``spark``); ``options`` go to its settings."""
    if name == "local":
        from .local import LocalEngine
        return LocalEngine(settings, **options)
    if name == "spark":
        from .spark import SparkEngine
        return SparkEngine(settings, **options)
    raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {name!r}")
