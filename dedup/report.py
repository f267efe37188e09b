"""Report stage: a terminal summary for people and JSON for machines."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .records import Document, Pair, ScanReport

_QUOTE_CHARS = 240


def to_json(report: ScanReport) -> str:
    """Deterministic JSON: the same input gives byte-identical output."""
    return json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n"


def excerpt(text: str, limit: int = _QUOTE_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def print_summary(report: ScanReport, console: Console) -> None:
    docs, pairs = report.documents, report.pairs
    console.print(f"[bold]dedup[/bold]: {len(docs)} documents, {len(pairs)} related pairs, "
                  f"{len(report.families)} story families, {len(report.sources)} absent sources, "
                  f"{len(report.skipped)} skipped")
    for n, family in enumerate(report.families, start=1):
        console.print(f"\n[bold]Family {n}[/bold]: " + ", ".join(family))
    if pairs:
        console.print()
        console.print(_pair_table(pairs))
        for pair in pairs:
            _print_pair_detail(pair, report.document(pair.a), console, quote_only=True)
    if report.sources:
        console.print("\n[bold]Absent sources[/bold] (credited, not in the corpus):")
        for source in report.sources:
            console.print(f"  {source.name}  <- " + ", ".join(source.cited_by))
    if report.skipped:
        console.print(f"\n[bold yellow]Skipped {len(report.skipped)}[/bold yellow]:")
        for item in report.skipped:
            console.print(Text(f"  {item}"))


def _pair_table(pairs: list[Pair]) -> Table:
    table = Table(title="Related pairs", show_lines=False)
    for column in ("a", "b", "relation", "direction", "a in b", "b in a", "aligned", "jaccard"):
        table.add_column(column, overflow="fold")
    for p in pairs:
        direction = {"a_from_b": "a ← b", "b_from_a": "b ← a"}.get(p.direction, p.direction)
        aligned = f"{len(p.alignments)} sent." if p.alignments else "-"
        table.add_row(p.a, p.b, p.relation, f"{direction} ({p.confidence:.2f})" if p.confidence else direction,
                      f"{p.containment_a_in_b:.0%}", f"{p.containment_b_in_a:.0%}", aligned, f"{p.jaccard:.2f}")
    return table


def print_compare(pair: Pair, a: Document, b: Document, console: Console) -> None:
    console.print(f"[bold]{a.id}[/bold] ({len(a.text)} chars)  vs  [bold]{b.id}[/bold] ({len(b.text)} chars)")
    console.print(f"relation: [bold]{pair.relation}[/bold]   direction: {pair.direction} "
                  f"(confidence {pair.confidence:.2f})")
    console.print(f"containment a in b: {pair.containment_a_in_b:.0%}   b in a: {pair.containment_b_in_a:.0%}   "
                  f"jaccard: {pair.jaccard:.3f}   aligned sentences: {pair.aligned_a:.0%} / {pair.aligned_b:.0%}")
    _print_pair_detail(pair, a, console, quote_only=False, b=b)


def _print_pair_detail(pair: Pair, a: Document, console: Console, *, quote_only: bool,
                       b: Document | None = None) -> None:
    console.print(f"\n[bold]{pair.a} ~ {pair.b}[/bold]: {pair.relation}")
    for line in pair.evidence:
        console.print(Text(f"  • {line}"))
    longest = pair.longest_passage()
    passages = [longest] if quote_only and longest else ([] if quote_only else pair.passages)
    for p in passages:
        console.print(Text(f"  passage a[{p.a_start}:{p.a_end}] = b[{p.b_start}:{p.b_end}] ({p.words} words): "
                           f"“{excerpt(p.text)}”"))
    if not quote_only and b is not None and pair.alignments:
        table = Table(title="Aligned sentences", show_lines=True)
        table.add_column(pair.a, ratio=1)
        table.add_column("score", justify="right")
        table.add_column(pair.b, ratio=1)
        for al in pair.alignments:
            table.add_row(Text(a.text[al.a_start:al.a_end]), f"{al.score:.2f}", Text(b.text[al.b_start:al.b_end]))
        console.print(table)
