"""Report stage: a terminal summary for people and JSON for machines.

The terminal summary tells the story of the corpus, in the order a reader asks:

1. how much is original (kinds of article in total and per outlet, each count's rule);
2. widely shared passages, once each (text, carriers, earliest), and how many pairs they
   would have made;
3. story families, biggest first: the root (earliest original, or the absent source) first,
   then who took from whom as a tree (each article under its strongest parent), each article
   with headline, outlet and date, and the passage it shares quoted from the original text;
4. pairs that link no family (a shared sentence or two), absent sources, skipped inputs.

Families, parents and kinds all come from the lineage stage (``report.families``,
``report.origins``); this module only lays them out.
"""

from __future__ import annotations

import json
from collections import defaultdict

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .records import Document, Pair, ScanReport

_QUOTE_CHARS = 240
_OUTLET_ROWS = 25
_PASSAGE_CARRIERS = 8


def to_json(report: ScanReport) -> str:
    """Deterministic JSON: the same input gives byte-identical output."""
    return json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n"


def excerpt(text: str, limit: int = _QUOTE_CHARS) -> str:
    """The text as written (punctuation kept), on one line, cut at ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def print_summary(report: ScanReport, console: Console) -> None:
    docs, pairs = report.documents, report.pairs
    dropped = report.pairs_dropped_as_shared
    console.print(f"[bold]dedup[/bold]: {len(docs)} documents, {len(pairs)} related pairs"
                  + (f" ({dropped} more shared only widely shared passages: not listed)" if dropped else "")
                  + f", {len(report.families)} story families, {len(report.sources)} absent sources, "
                  f"{len(report.skipped)} skipped")
    if report.origins:
        _print_originality(report, console)
    if report.shared_passages:
        _print_shared_passages(report, console)
    in_family = set()
    for n, family in enumerate(report.families, start=1):
        _print_family(report, n, family, console)
        in_family.update(family)
    loose = [p for p in pairs if report.family_of(p.a) is None or report.family_of(p.a) != report.family_of(p.b)]
    if loose:
        console.print(f"\n[bold]Pairs that join no family[/bold] ({len(loose)}: they share too little of "
                      f"either article to make one story)")
        for pair in loose:
            _print_pair_line(report, pair, console)
    if report.sources:
        console.print("\n[bold]Absent sources[/bold] (credited, not in the corpus):")
        for source in report.sources:
            console.print(Text(f"  {source.name}  <- " + ", ".join(source.cited_by)))
    if report.skipped:
        console.print(f"\n[bold yellow]Skipped {len(report.skipped)}[/bold yellow]:")
        for item in report.skipped:
            console.print(Text(f"  {item}"))


def _print_originality(report: ScanReport, console: Console) -> None:
    summary = report.originality()
    total, kinds = summary["articles"], list(summary["total"])
    console.print("\n[bold]How much is original[/bold]")
    table = Table(show_header=True, header_style="bold", box=None, padding=(0, 1))
    for column in ("kind", "articles", "share", "rule"):
        table.add_column(column, overflow="fold")
    for kind in kinds:
        count = summary["total"][kind]
        table.add_row(kind, str(count), f"{count / max(1, total):.0%}", Text(summary["rules"][kind]))
    console.print(table)
    outlets = summary["per_outlet"]
    per = Table(title="per outlet", show_header=True, header_style="bold", box=None, padding=(0, 1))
    per.add_column("outlet", overflow="fold")
    for column in ("articles", *kinds):
        per.add_column(column, justify="right")
    for row in outlets[:_OUTLET_ROWS]:
        per.add_row(Text(row["outlet"]), str(row["articles"]), *(str(row[k]) for k in kinds))
    console.print(per)
    if len(outlets) > _OUTLET_ROWS:
        console.print(f"  … {len(outlets) - _OUTLET_ROWS} more outlets (all of them in the JSON output)")


def _print_shared_passages(report: ScanReport, console: Console) -> None:
    console.print(f"\n[bold]Widely shared passages[/bold] ({len(report.shared_passages)}): carried by more "
                  "documents than copying explains; reported once, not evidence of who took from whom")
    for n, passage in enumerate(report.shared_passages, start=1):
        carriers = list(passage.documents)
        shown = ", ".join(carriers[:_PASSAGE_CARRIERS]) + (f", … {len(carriers) - _PASSAGE_CARRIERS} more"
                                                           if len(carriers) > _PASSAGE_CARRIERS else "")
        console.print(Text(f"  {n}. “{excerpt(passage.text)}”"))
        console.print(Text(f"     {len(carriers)} documents from {passage.copy_groups} copy groups; earliest "
                           f"{_describe(report, passage.earliest)}; {passage.pairs_dropped} pairs that shared "
                           f"only this were dropped"))
        console.print(Text(f"     carried by {shown}"))


def _describe(report: ScanReport, node: str) -> str:
    """``id "headline" — outlet, date`` for a document; the name for an absent source."""
    if node.startswith("source:"):
        return f"{report.source_name(node)} (absent: credited, not in the corpus)"
    doc = report.document(node)
    origin = report.origin(node)
    outlet = (origin.outlet if origin else None) or doc.source
    bits = [b for b in (outlet, doc.date or (f"crawled {doc.crawled_at}" if doc.crawled_at else None)) if b]
    return f'{node} "{excerpt(doc.title, 80)}"' + (f" — {', '.join(bits)}" if bits else "") if doc.title \
        else node + (f" — {', '.join(bits)}" if bits else "")


def family_tree(report: ScanReport, family) -> list[tuple[int, str, str | None]]:
    """The family as a tree: (depth, node, relation to its parent), roots first (absent sources,
    then the earliest original), each article under its strongest parent (``report.origins``)."""
    members = set(family)
    origins = {node: report.origin(node) for node in family if report.origin(node) is not None}
    parent = {d: o.parent for d, o in origins.items() if o.parent in members}
    relation = {d: o.relation for d, o in origins.items()}
    lone = len([m for m in family if not m.startswith("source:")]) == 1
    for edge in (report.edges if lone else ()):   # a lone article hangs under the absent source it credits
        if edge.child in members and edge.parent in members and edge.child not in parent \
                and edge.parent.startswith("source:"):
            parent[edge.child], relation[edge.child] = edge.parent, edge.relation
    kind = {d: o.kind for d, o in origins.items()}
    children: dict[str | None, list[str]] = defaultdict(list)
    for node in family:
        children[parent.get(node)].append(node)
    from .lineage import document_time

    def order(node: str) -> tuple:
        when = document_time(report.document(node))[0] if not node.startswith("source:") else None
        return (not node.startswith("source:"), kind.get(node) != "original", when is None,
                when.timestamp() if when else 0.0, node)

    rows: list[tuple[int, str, str | None]] = []
    seen: set[str] = set()

    def walk(node: str, depth: int) -> None:
        if node in seen:
            return
        seen.add(node)
        rows.append((depth, node, relation.get(node) if node in parent else None))
        for child in sorted(children.get(node, []), key=order):
            walk(child, depth + 1)

    for root in sorted(children.get(None, []), key=order):
        walk(root, 0)
    return rows


def _print_family(report: ScanReport, n: int, family, console: Console) -> None:
    docs = [m for m in family if not m.startswith("source:")]
    console.print(f"\n[bold]Family {n}[/bold] ({len(docs)} articles"
                  + (f", {len(family) - len(docs)} absent sources" if len(family) > len(docs) else "") + ")")
    kind = {node: report.origin(node).kind for node in family if report.origin(node) is not None}
    rows = family_tree(report, family)
    has_children = {rows[i][1] for i in range(len(rows) - 1) if rows[i + 1][0] > rows[i][0]}
    credited_only = [node for depth, node, _ in rows if node.startswith("source:") and node not in has_children]
    for depth, node, relation in rows:
        if node in credited_only:
            continue   # listed once below: credited by a member, no member takes its story from it
        label = f"[{relation}] " if relation else ""
        tag = f" ({kind[node]})" if node in kind else ""
        console.print(Text("  " + "   " * depth + ("└─ " if depth else "◆ ") + label + _describe(report, node) + tag))
    if credited_only:
        console.print(Text("  also credited (not in the corpus): "
                           + ", ".join(report.source_name(node) for node in credited_only)))
    members = set(family)
    pairs = [p for p in report.pairs if p.a in members and p.b in members]
    if pairs:
        console.print(Text(f"  pairs ({len(pairs)}):"))
        for pair in pairs:
            _print_pair_line(report, pair, console)


def _print_pair_line(report: ScanReport, pair: Pair, console: Console) -> None:
    arrow = {"a_from_b": f"{pair.a} took from {pair.b}", "b_from_a": f"{pair.b} took from {pair.a}"}.get(
        pair.direction, pair.direction)
    console.print(Text(f"    {pair.a} ~ {pair.b}: {pair.relation}, {arrow} ({pair.confidence:.2f}); "
                       f"{pair.containment_a_in_b:.0%} of {pair.a} and {pair.containment_b_in_a:.0%} of {pair.b} "
                       f"shared verbatim" + (f", {len(pair.alignments)} sentences aligned" if pair.alignments else "")))
    for line in pair.evidence:
        console.print(Text(f"      • {line}"))
    longest = pair.longest_passage()
    if longest:
        quote = report.document(pair.a).text[longest.a_start:longest.a_end]
        console.print(Text(f"      “{excerpt(quote)}” ({longest.words} words)"))


def print_compare(pair: Pair, a: Document, b: Document, console: Console) -> None:
    console.print(f"[bold]{a.id}[/bold] ({len(a.text)} chars)  vs  [bold]{b.id}[/bold] ({len(b.text)} chars)")
    console.print(f"relation: [bold]{pair.relation}[/bold]   direction: {pair.direction} "
                  f"(confidence {pair.confidence:.2f})")
    console.print(f"containment a in b: {pair.containment_a_in_b:.0%}   b in a: {pair.containment_b_in_a:.0%}   "
                  f"jaccard: {pair.jaccard:.3f}   aligned sentences: {pair.aligned_a:.0%} / {pair.aligned_b:.0%}")
    console.print(f"\n[bold]{pair.a} ~ {pair.b}[/bold]: {pair.relation}")
    for line in pair.evidence:
        console.print(Text(f"  • {line}"))
    for p in pair.passages:
        console.print(Text(f"  passage a[{p.a_start}:{p.a_end}] = b[{p.b_start}:{p.b_end}] ({p.words} words): "
                           f"“{excerpt(a.text[p.a_start:p.a_end])}”"))
    if pair.alignments:
        table = Table(title="Aligned sentences", show_lines=True)
        table.add_column(pair.a, ratio=1)
        table.add_column("score", justify="right")
        table.add_column(pair.b, ratio=1)
        for al in pair.alignments:
            table.add_row(Text(a.text[al.a_start:al.a_end]), f"{al.score:.2f}", Text(b.text[al.b_start:al.b_end]))
        console.print(table)
