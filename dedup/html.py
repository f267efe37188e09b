"""HTML report: one self-contained file (inline CSS, JS and SVG; no network).

Overview: how much is original (totals with their rules, per outlet), the widely
shared passages, then each story family drawn as a derivation tree (documents,
titled, and absent sources as nodes; each article joined only to its strongest
parent, so transitive edges are not drawn; one row per depth, so no edge crosses
a node; a search box finds families and highlights matching articles), then
its pairs in a sortable, paginated table; opening a pair shows both articles side
by side with shared passages and aligned sentences highlighted in matching
colours and chrome greyed out; clicking a highlight scrolls the other side to its
counterpart.  Article text only ever reaches the page through ``textContent``
(or ``html.escape`` in the SVG), so markup inside an article renders as text, and
a Content-Security-Policy forbids any request leaving the page.

Families here are connected components of the whole lineage graph, so a lone
article linked to an absent source (seed 002 and the FT) is drawn too.  Pair
tables show 50 rows at a time and families past the first few start collapsed:
comfortable up to about 1,000 documents.
"""

from __future__ import annotations

import html
import json
from collections import defaultdict

from .records import ScanReport

# Headless Chromium flags for looking at a report (tests, screenshots): no sandbox as root,
# and no background traffic, which a closed network would refuse.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]


def find_chromium() -> str | None:
    import shutil
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


NODE_W, NODE_H, GAP_X, GAP_Y, MARGIN, ARC_H = 230, 44, 40, 70, 20, 36
OPEN_FAMILIES = 5


def families_of(report: ScanReport) -> list[dict]:
    """The report's families (computed once, by the lineage stage), each with its nodes and pair indices."""
    pairs_of: dict[int | None, list[int]] = defaultdict(list)
    for i, p in enumerate(report.pairs):
        pairs_of[report.family_of(p.a)].append(i)
    return [{"nodes": sorted(members, key=lambda n: (n.startswith("source:"), n)), "pairs": pairs_of[n]}
            for n, members in enumerate(report.families)]


def tree_parents(nodes: list[str], report: ScanReport) -> dict[str, tuple[str, str | None]]:
    """Each node's strongest parent in its family and the relation to it: the derivation tree the
    terminal report prints (``report.family_tree``), so transitive edges are never drawn."""
    from .report import family_tree

    parents: dict[str, tuple[str, str | None]] = {}
    stack: list[str] = []
    for depth, node, relation in family_tree(report, nodes):
        del stack[depth:]
        if depth:
            parents[node] = (stack[-1], relation)
        stack.append(node)
    return parents


def layout(nodes: list[str], report: ScanReport) -> dict[str, tuple[float, float]]:
    """Layered positions: each node one row below its parent in the derivation tree, roots on top.

    Every row holds one tree depth, so an edge joins adjacent rows and never crosses a node;
    within a row, nodes sit in the order of their parents, so edges stay short.  Wide rows
    scroll sideways."""
    parents = tree_parents(nodes, report)

    def depth(node: str) -> int:
        d, seen = 0, {node}
        while node in parents and parents[node][0] not in seen:
            node = parents[node][0]
            seen.add(node)
            d += 1
        return d

    layer = {n: depth(n) for n in nodes}
    positions: dict[str, tuple[float, float]] = {}
    for level in sorted(set(layer.values())):
        members = [n for n in nodes if layer[n] == level]
        members.sort(key=lambda n: (positions[parents[n][0]][0] if n in parents and parents[n][0] in positions
                                    else -1, n))
        for col, node in enumerate(members):
            positions[node] = (MARGIN + col * (NODE_W + GAP_X), MARGIN + level * (NODE_H + GAP_Y))
    return positions


def graph_svg(nodes: list[str], report: ScanReport, confidence: dict | None = None) -> str:
    pos = layout(nodes, report)
    parents = tree_parents(nodes, report)
    links = root_links(nodes, parents, report)
    if links:   # room above the top row for the arcs
        pos = {n: (x, y + ARC_H) for n, (x, y) in pos.items()}
    width = max(x for x, _ in pos.values()) + NODE_W + MARGIN
    height = max(y for _, y in pos.values()) + NODE_H + MARGIN
    parts = [f'<svg class="graph" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
             f'viewBox="0 0 {width:.0f} {height:.0f}" role="img">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
             'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>']
    if confidence is None:
        confidence = {(e.child, e.parent): e.confidence for e in report.edges}
    for child, (parent_, relation) in sorted(parents.items()):
        (x1, y1), (x2, y2) = pos[child], pos[parent_]
        ax, ay, bx, by = x1 + NODE_W / 2, y1, x2 + NODE_W / 2, y2 + NODE_H
        mid = (ay + by) / 2
        conf = confidence.get((child, parent_))
        label = f"{relation} {conf:.2f}" if conf is not None else (relation or "")
        parts.append(f'<g class="edge" data-child="{html.escape(child)}" data-parent="{html.escape(parent_)}" '
                     f'data-relation="{html.escape(relation or "")}"><path d="M{ax:.0f},{ay:.0f} C{ax:.0f},{mid:.0f} '
                     f'{bx:.0f},{mid:.0f} {bx:.0f},{by:.0f}" fill="none" stroke="#555" stroke-width="1.5" '
                     f'marker-end="url(#arrow)"/><text x="{(ax + bx) / 2:.0f}" y="{mid - 4:.0f}" class="edge-label">'
                     f'{html.escape(label)}</text></g>')
    for a, b, pair in links:   # roots linked without a direction: a dashed arc above the top row
        (x1, y1), (x2, y2) = pos[a], pos[b]
        ax, bx, top = x1 + NODE_W / 2, x2 + NODE_W / 2, y1 - ARC_H + 6
        label = f"{pair.relation} ({pair.direction})"
        parts.append(f'<g class="edge link" data-a="{html.escape(a)}" data-b="{html.escape(b)}" '
                     f'data-relation="{html.escape(pair.relation)}"><path d="M{ax:.0f},{y1:.0f} C{ax:.0f},{top:.0f} '
                     f'{bx:.0f},{top:.0f} {bx:.0f},{y2:.0f}" fill="none" stroke="#555" stroke-width="1.5" '
                     f'stroke-dasharray="5,4"/><text x="{(ax + bx) / 2:.0f}" y="{top + 4:.0f}" class="edge-label">'
                     f'{html.escape(label)}</text></g>')
    titles = {d.id: d for d in report.documents}
    kinds = {n: (o.kind, o.outlet) for n in nodes if (o := report.origin(n)) is not None}
    for node in nodes:
        x, y = pos[node]
        is_source = node.startswith("source:")
        name = report.source_name(node) if is_source else \
            (titles[node].title or node)
        short = name if len(name) <= 30 else name[:28] + "…"
        kind, outlet = kinds.get(node, ("", None))
        below = "absent source" if is_source else " · ".join(x for x in (node, outlet, kind) if x)
        tooltip = f"absent source: {name}" if is_source else f"{name}\n{below}\n{titles[node].date or ''}"
        parts.append(f'<g class="node{" source" if is_source else ""}" data-node="{html.escape(node)}">'
                     f'<title>{html.escape(tooltip)}</title>'
                     f'<rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="8"/>'
                     f'<text x="{x + NODE_W / 2}" y="{y + 18}" class="node-label">{html.escape(short)}</text>'
                     f'<text x="{x + NODE_W / 2}" y="{y + 34}" class="node-kind">'
                     f'{html.escape(below if len(below) <= 40 else below[:38] + "…")}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def root_links(nodes: list[str], parents: dict, report: ScanReport) -> list[tuple[str, str, object]]:
    """Articles at the top of the tree that are paired without a direction (siblings, unknown):
    each linked to the first root before it that it is paired with, so the family reads as one."""
    roots = [n for n in nodes if n not in parents and not n.startswith("source:")]
    links = []
    for j, b in enumerate(roots):
        pair = next(((a, p) for a in roots[:j] if (p := report.pair(a, b)) is not None), None)
        if pair is not None:
            links.append((pair[0], b, pair[1]))
    return links


def originality_html(report: ScanReport) -> str:
    """How much is original: totals with each count's rule, then a table per outlet."""
    if not report.origins:
        return ""
    summary = report.originality()
    kinds = list(summary["total"])
    total = max(1, summary["articles"])
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{summary['total'][k]}</td>"
                   f"<td>{summary['total'][k] / total:.0%}</td><td>{html.escape(summary['rules'][k])}</td></tr>"
                   for k in kinds)
    per = "".join("<tr><td>" + html.escape(r["outlet"]) + "</td>" + "".join(
        f"<td>{r[c]}</td>" for c in ("articles", *kinds)) + "</tr>" for r in summary["per_outlet"])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ("outlet", "articles", *kinds))
    return (f'<section class="originality"><h2>How much is original</h2><table class="kinds"><thead><tr>'
            f'<th>kind</th><th>articles</th><th>share</th><th>rule</th></tr></thead><tbody>{rows}</tbody></table>'
            f'<details><summary>per outlet ({len(summary["per_outlet"])})</summary><table class="outlets">'
            f'<thead><tr>{head}</tr></thead><tbody>{per}</tbody></table></details></section>')


def shared_passages_html(report: ScanReport) -> str:
    """Widely shared passages, once each: text, carriers, earliest, pairs they would have made."""
    if not report.shared_passages:
        return ""
    items = "".join(
        f'<li class="shared-passage" data-documents="{html.escape(" ".join(p.documents))}">'
        f'<blockquote>{html.escape(p.text)}</blockquote><p>{len(p.documents)} documents from {p.copy_groups} '
        f'copy groups; earliest {html.escape(p.earliest)}; {p.pairs_dropped} pairs that shared only this were '
        f'dropped. Carried by {html.escape(", ".join(p.documents))}</p></li>' for p in report.shared_passages)
    return (f'<section class="shared"><h2>Widely shared passages ({len(report.shared_passages)})</h2>'
            f'<p>Carried by more documents than copying explains: reported once, not evidence of who took '
            f'from whom.</p><ol>{items}</ol></section>')


def render(report: ScanReport, title: str = "dedup report") -> str:
    families = families_of(report)
    confidence = {(e.child, e.parent): e.confidence for e in report.edges}
    sections = []
    for n, family in enumerate(families):
        docs = [x for x in family["nodes"] if not x.startswith("source:")]
        relations = sorted({report.pairs[i].relation for i in family["pairs"]})
        summary = (f"Family {n + 1}: {len(docs)} document{'s' * (len(docs) != 1)}, "
                   f"{len(family['pairs'])} pair{'s' * (len(family['pairs']) != 1)}"
                   + (f" ({', '.join(relations)})" if relations else "")
                   + (f", credits {', '.join(x for x in family['nodes'] if x.startswith('source:'))}"
                      if len(docs) < len(family["nodes"]) else ""))
        searchable = " ".join([*family["nodes"], *(_search_text(report, d) for d in docs)]).lower()
        sections.append(
            f'<details class="family" data-family="{n}" data-members="{html.escape(" ".join(family["nodes"]))}" '
            f'data-search="{html.escape(searchable)}"'
            f'{" open" if n < OPEN_FAMILIES else ""}><summary>{html.escape(summary)}</summary>'
            f'<div class="graph-wrap">{graph_svg(family["nodes"], report, confidence)}</div>'
            f'<div class="pairs" data-family="{n}"></div></details>')
    loose = [i for i, p in enumerate(report.pairs)
             if report.family_of(p.a) is None or report.family_of(p.a) != report.family_of(p.b)]
    if loose:   # listed, not hidden: they share too little to make one story
        ids = sorted({x for i in loose for x in (report.pairs[i].a, report.pairs[i].b)})
        sections.append(
            f'<details class="family loose" data-family="{len(families)}" data-members="" '
            f'data-search="{html.escape(" ".join([*ids, *(_search_text(report, d) for d in ids)]).lower())}">'
            f'<summary>Pairs that join no family ({len(loose)}): they share too little of either article to '
            f'make one story</summary><div class="pairs" data-family="{len(families)}"></div></details>')
        families = families + [{"nodes": [], "pairs": loose}]
    skipped = "".join(f"<li>{html.escape(str(s))}</li>" for s in report.skipped)
    dropped = report.pairs_dropped_as_shared
    counts = (f"{len(report.documents)} documents · {len(report.pairs)} related pairs"
              + (f" ({dropped} more shared only widely shared passages)" if dropped else "")
              + f" · {len(report.families)} families · {len(report.sources)} absent sources · {len(report.skipped)} skipped")
    return (_PAGE.replace("__TITLE__", html.escape(title)).replace("__COUNTS__", html.escape(counts))
            .replace("__STORY__", originality_html(report) + shared_passages_html(report))
            .replace("__FAMILIES__", "".join(sections) or "<p>No related documents.</p>")
            .replace("__SKIPPED__", f"<details><summary>Skipped inputs</summary><ul>{skipped}</ul></details>"
                     if skipped else "")
            .replace("__CSS__", _CSS).replace("__JS__", _JS).replace("__DATA__", _data(report, families)))


def _search_text(report: ScanReport, doc_id: str) -> str:
    doc = report.document(doc_id)
    return " ".join(x for x in (doc.title, doc.source, doc.url, doc.date) if x)


def _data(report: ScanReport, families: list[dict]) -> str:
    documents = {d.id: {"title": d.title, "text": d.text, "date": d.date, "source": d.source, "url": d.url,
                        "chrome": report.chrome.get(d.id, [])} for d in report.documents}
    payload = {"documents": documents, "pairs": [p.to_json() for p in report.pairs],
               "families": [{"nodes": f["nodes"], "pairs": f["pairs"]} for f in families]}
    text = json.dumps(payload, ensure_ascii=False)
    # Safe inside <script>: no "</script>", no "<!--", no HTML parsing of article text.
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title><style>__CSS__</style></head>
<body><header><h1>__TITLE__</h1><p class="counts">__COUNTS__</p>
<p class="legend"><span class="hl sample" style="background:#ffd8a8">shared passage / aligned sentence</span>
<span class="chrome">site chrome (not evidence)</span> Click a highlight to find its counterpart.</p></header>
<main>__STORY__<section class="families"><h2>Story families</h2>
<p class="search"><label>Search <input type="search" id="search" placeholder="id, headline, outlet, url, date"></label>
<span id="search-count"></span></p>__FAMILIES__</section> __SKIPPED__</main>
<script id="dedup-data" type="application/json">__DATA__</script>
<script>__JS__</script></body></html>
"""

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
header{padding:12px 24px;background:#1f3b57;color:#fff}header h1{margin:0;font-size:22px}
.counts,.legend{margin:4px 0}.legend .chrome{color:#ccc}main{padding:12px 24px}
details.family{background:#fff;border:1px solid #ddd;border-radius:8px;margin:12px 0;padding:8px 12px}
summary{cursor:pointer;font-weight:600}.graph-wrap{overflow:auto;max-height:520px;margin:8px 0}
.graph .node rect{fill:#e8f0fe;stroke:#3b6ea8;stroke-width:1.5}.graph .node.source rect{fill:#fff4e0;stroke:#c77d00;stroke-dasharray:4,3}
.graph .node-label{font-size:11px;text-anchor:middle;font-weight:600}.graph .node-kind{font-size:10px;text-anchor:middle;fill:#666}
.graph .edge-label{font-size:11px;text-anchor:middle;fill:#333;paint-order:stroke;stroke:#fff;stroke-width:3px}
table.pairs{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0}
table.pairs th,table.pairs td{border-bottom:1px solid #eee;padding:4px 6px;text-align:left}
table.pairs th{cursor:pointer;background:#f3f5f8;user-select:none}table.pairs th.sorted::after{content:" ▾"}
table.pairs th.sorted.asc::after{content:" ▴"}button{cursor:pointer}
.pairview{border-top:2px solid #1f3b57;margin:8px 0;padding-top:6px}.evidence{margin:4px 0 8px 18px;font-size:13px}
.panes{display:grid;grid-template-columns:1fr 1fr;gap:12px}.pane{border:1px solid #ddd;border-radius:6px;padding:8px 10px;
max-height:70vh;overflow:auto;white-space:pre-wrap;background:#fff;position:relative}.pane h3{margin:0 0 6px;font-size:14px}
.hl{cursor:pointer;border-radius:2px}.hl.flash{outline:3px solid #d6336c}.chrome{color:#b0b0b0}
.more{margin:4px 0}h2{font-size:18px;margin:14px 0 6px}section{margin:8px 0}
table.kinds,table.outlets{border-collapse:collapse;font-size:13px}table.kinds td,table.kinds th,table.outlets td,
table.outlets th{border-bottom:1px solid #eee;padding:3px 8px;text-align:left}blockquote{margin:4px 0 2px 12px;
font-style:italic}.shared li p{margin:0 0 8px 12px;font-size:13px;color:#444}.search input{width:340px;padding:4px}
.graph .node.match rect{fill:#fff3bf;stroke:#e67700;stroke-width:3}details.family.hidden{display:none}
"""

_JS = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("dedup-data").textContent);
  var COLORS = ["#ffd8a8", "#b2f2bb", "#a5d8ff", "#eebefa", "#ffec99", "#99e9f2",
                "#ffc9c9", "#d0bfff", "#c0eb75", "#fcc2d7", "#96f2d7", "#bac8ff"];
  var PAGE = 50;
  var COLUMNS = [["a", "a"], ["b", "b"], ["relation", "relation"], ["direction", "direction"],
                 ["confidence", "conf."], ["containment_a_in_b", "a in b"], ["containment_b_in_a", "b in a"],
                 ["aligned_a", "aligned a"], ["aligned_b", "aligned b"], ["jaccard", "jaccard"],
                 ["similarity", "cosine"]];

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function fmt(v) { return typeof v === "number" ? (Math.round(v * 100) / 100).toString() : String(v); }

  function renderTable(container, family) {
    var state = {key: null, asc: true, shown: PAGE};
    var rows = family.pairs.slice();
    var table = el("table", {"class": "pairs"});
    var head = el("tr");
    COLUMNS.forEach(function (col) {
      var th = el("th", {"data-key": col[0]}, col[1]);
      th.addEventListener("click", function () {
        state.asc = state.key === col[0] ? !state.asc : true;
        state.key = col[0];
        rows.sort(function (x, y) {
          var a = data.pairs[x][col[0]], b = data.pairs[y][col[0]];
          return (a < b ? -1 : a > b ? 1 : 0) * (state.asc ? 1 : -1);
        });
        Array.prototype.forEach.call(head.children, function (h) { h.className = ""; });
        th.className = "sorted" + (state.asc ? " asc" : "");
        draw();
      });
      head.appendChild(th);
    });
    head.appendChild(el("th", {}, ""));
    var body = el("tbody");
    table.appendChild(el("thead")).appendChild(head);
    table.appendChild(body);
    var more = el("button", {"class": "more"}, "");
    var view = el("div", {"class": "pairview-slot"});
    more.addEventListener("click", function () { state.shown += PAGE; draw(); });
    function draw() {
      body.textContent = "";
      rows.slice(0, state.shown).forEach(function (index) {
        var pair = data.pairs[index];
        var tr = el("tr", {"data-pair": String(index)});
        COLUMNS.forEach(function (col) { tr.appendChild(el("td", {}, fmt(pair[col[0]]))); });
        var button = el("button", {"class": "open-pair", "data-pair": String(index)}, "view");
        button.addEventListener("click", function () { showPair(view, index); });
        tr.appendChild(el("td")).appendChild(button);
        body.appendChild(tr);
      });
      more.style.display = rows.length > state.shown ? "" : "none";
      more.textContent = "show " + Math.min(PAGE, rows.length - state.shown) + " more of " + rows.length;
    }
    draw();
    container.appendChild(table);
    container.appendChild(more);
    container.appendChild(view);
  }

  function spansFor(pair, side) {
    var spans = [];
    pair.passages.forEach(function (p, k) {
      spans.push({start: p[side + "_start"], end: p[side + "_end"], key: "p" + k, color: COLORS[k % COLORS.length]});
    });
    pair.alignments.forEach(function (al, k) {
      var c = COLORS[(k + pair.passages.length) % COLORS.length];
      spans.push({start: al[side + "_start"], end: al[side + "_end"], key: "s" + k, color: c});
    });
    return spans;
  }

  function paneText(pane, text, spans, chrome) {
    var cuts = {0: true};
    cuts[text.length] = true;
    spans.concat(chrome.map(function (c) { return {start: c[0], end: c[1]}; })).forEach(function (s) {
      cuts[s.start] = true; cuts[s.end] = true;
    });
    var points = Object.keys(cuts).map(Number).sort(function (a, b) { return a - b; });
    for (var i = 0; i + 1 < points.length; i++) {
      var lo = points[i], hi = points[i + 1];
      var piece = text.slice(lo, hi);
      var hit = null;
      for (var j = 0; j < spans.length; j++) {
        if (spans[j].start <= lo && hi <= spans[j].end) { hit = spans[j]; break; }
      }
      var inChrome = chrome.some(function (c) { return c[0] <= lo && hi <= c[1]; });
      var node;
      if (hit) {
        node = el("span", {"class": "hl", "data-key": hit.key, "style": "background:" + hit.color}, piece);
      } else if (inChrome) {
        node = el("span", {"class": "chrome", "title": "site chrome: not evidence"}, piece);
      } else {
        node = document.createTextNode(piece);
      }
      pane.appendChild(node);
    }
  }

  function showPair(slot, index) {
    var pair = data.pairs[index];
    slot.textContent = "";
    var box = el("div", {"class": "pairview", "data-pair": String(index)});
    box.appendChild(el("h3", {}, pair.a + "  ~  " + pair.b + ": " + pair.relation + ", " + pair.direction +
                              " (confidence " + fmt(pair.confidence) + ")"));
    var list = el("ul", {"class": "evidence"});
    pair.evidence.forEach(function (e) { list.appendChild(el("li", {}, e)); });
    box.appendChild(list);
    var panes = el("div", {"class": "panes"});
    ["a", "b"].forEach(function (side) {
      var id = pair[side], doc = data.documents[id];
      var pane = el("div", {"class": "pane", "data-side": side});
      pane.appendChild(el("h3", {}, id + (doc.date ? " · " + doc.date : "") + (doc.source ? " · " + doc.source : "")));
      paneText(pane, doc.text, spansFor(pair, side), doc.chrome || []);
      panes.appendChild(pane);
    });
    panes.addEventListener("click", function (event) {
      var target = event.target.closest(".hl");
      if (!target) return;
      var side = target.closest(".pane").getAttribute("data-side");
      var other = panes.querySelector('.pane[data-side="' + (side === "a" ? "b" : "a") + '"]');
      var twin = other.querySelector('.hl[data-key="' + target.getAttribute("data-key") + '"]');
      if (!twin) return;
      other.scrollTop = twin.offsetTop - other.clientHeight / 3;
      twin.classList.add("flash");
      setTimeout(function () { twin.classList.remove("flash"); }, 1200);
    });
    box.appendChild(panes);
    slot.appendChild(box);
  }

  function renderFamily(details) {
    if (details.getAttribute("data-rendered")) return;
    details.setAttribute("data-rendered", "1");
    var index = Number(details.getAttribute("data-family"));
    var family = data.families[index];
    if (family.pairs.length) renderTable(details.querySelector(".pairs"), family);
  }
  Array.prototype.forEach.call(document.querySelectorAll("details.family"), function (details) {
    if (details.open) renderFamily(details);
    details.addEventListener("toggle", function () { if (details.open) renderFamily(details); });
  });
  var search = document.getElementById("search"), count = document.getElementById("search-count");
  search.addEventListener("input", function () {
    var q = search.value.trim().toLowerCase(), shown = 0;
    Array.prototype.forEach.call(document.querySelectorAll("details.family"), function (details) {
      var hit = !q || details.getAttribute("data-search").indexOf(q) >= 0;
      details.classList.toggle("hidden", !hit);
      if (hit) shown++;
      if (hit && q && !details.open) details.open = true;
      Array.prototype.forEach.call(details.querySelectorAll("g.node"), function (node) {
        var id = node.getAttribute("data-node"), doc = data.documents[id] || {};
        var text = [id, doc.title, doc.source, doc.url, doc.date].join(" ").toLowerCase();
        node.classList.toggle("match", !!q && text.indexOf(q) >= 0);
      });
    });
    count.textContent = q ? shown + " families match" : "";
  });
  window.dedupReady = true;
})();
"""
