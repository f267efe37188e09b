"""The datasets a scan writes with ``--out DIR``: one definition of each row, whichever engine.

    DIR/pairs/       one row per reported pair: ``Pair.to_json()`` (relation, direction,
                     confidence, evidence, shared passages with offsets, aligned sentences)
    DIR/documents/   one row per document: its metadata, ``family`` (the id of its story
                     family: the family's first member) and ``parents`` (what it derives from:
                     documents and absent sources)
    DIR/sources/     absent sources: outlets credited but not in the corpus (``Source.to_json()``)
    DIR/rejects/     input records that are not documents, each with where and why
    DIR/counts.json  how many of each, and what the candidate stage capped

The local engine writes JSON lines (``part-00000.json``); the Spark engine writes Parquet
(default) or JSON lines, one part file per partition.  ``read_dataset`` reads either back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Sequence

from ..records import Document, Edge, Pair, ScanReport, Skipped, Source

DATASETS = ("pairs", "documents", "sources", "rejects")
MAX_REJECTED_CHARS = 2000   # a rejected record is kept this long: enough to find and fix it


def pair_row(pair: Pair) -> dict:
    return pair.to_json()


def document_row(document: Document, family: str | None, parents: Sequence[str]) -> dict:
    return {**document.to_json(), "family": family, "parents": sorted(parents)}


def source_row(source: Source) -> dict:
    return source.to_json()


def reject_row(path: str, reason: str, line: int | None = None, record: str = "") -> dict:
    return {"path": path, "line": line, "reason": reason, "record": record[:MAX_REJECTED_CHARS]}


def skipped_row(item: Skipped) -> dict:
    return reject_row(item.path, item.reason, item.line)


def family_ids(families: Iterable[Sequence[str]]) -> dict[str, str]:
    """Each node's family id: the family's first member (members come sorted, sources after them)."""
    return {node: family[0] for family in families for node in family}


def parents_of(edges: Iterable[Edge]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for edge in edges:
        found.setdefault(edge.child, []).append(edge.parent)
    return found


def report_rows(report: ScanReport) -> dict[str, list[dict]]:
    """A scan report as the rows of each dataset (how the local engine writes ``--out``)."""
    family = family_ids(report.families)
    parents = parents_of(report.edges)
    return {
        "pairs": [pair_row(p) for p in report.pairs],
        "documents": [document_row(d, family.get(d.id), parents.get(d.id, [])) for d in report.documents],
        "sources": [source_row(s) for s in report.sources],
        "rejects": [skipped_row(s) for s in report.skipped],
    }


def write_json_dataset(folder: Path, rows: Iterable[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "part-00000.json", "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_counts(out: Path, counts: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "counts.json").write_text(json.dumps(counts, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_dataset(folder: str | Path) -> list[dict]:
    """All rows of one dataset written by either engine (JSON lines, or Parquet with pyarrow)."""
    folder = Path(folder)
    rows: list[dict] = []
    for part in sorted(folder.glob("part-*")):
        if part.suffix == ".json":
            rows.extend(json.loads(line) for line in part.read_text(encoding="utf-8").splitlines() if line)
        elif part.suffix == ".parquet":
            import pyarrow.parquet as pq
            rows.extend(pq.read_table(part).to_pylist())
    return rows
