"""HTML report: one self-contained file (inline CSS, JS and SVG; no network).

Overview: each story family drawn as a derivation graph (documents and absent
sources as nodes, derives-from edges labelled by relation and confidence), then
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

from .records import A_FROM_B, B_FROM_A, ScanReport

# Headless Chromium flags for looking at a report (tests, screenshots): no sandbox as root,
# and no background traffic, which a closed network would refuse.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]


def find_chromium() -> str | None:
    import shutil
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


NODE_W, NODE_H, GAP_X, GAP_Y, ROW_MAX, MARGIN = 210, 44, 90, 70, 6, 20
OPEN_FAMILIES = 5


def families_of(report: ScanReport) -> list[dict]:
    """The report's families (computed once, by the lineage stage), each with its nodes and pair indices."""
    out = []
    for members in report.families:
        nodes = sorted(members, key=lambda n: (n.startswith("source:"), n))
        member_set = set(nodes)
        pair_ids = [i for i, p in enumerate(report.pairs) if p.a in member_set]
        out.append({"nodes": nodes, "pairs": pair_ids})
    return out


def layout(nodes: list[str], report: ScanReport) -> dict[str, tuple[float, float]]:
    """Layered positions: sources on top, each document below what it derives from.

    Layers longer than ``ROW_MAX`` wrap onto extra rows; every node sits on its own grid
    cell, so nodes never overlap."""
    node_set = set(nodes)
    parents: dict[str, set[str]] = defaultdict(set)
    for edge in report.edges:
        if edge.child in node_set and edge.parent in node_set:
            parents[edge.child].add(edge.parent)
    has_sources = any(n.startswith("source:") for n in nodes)
    layer = {n: (0 if n.startswith("source:") else int(has_sources)) for n in nodes}
    for _ in range(len(nodes)):   # longest path; bounded, so a cycle cannot loop forever
        changed = False
        for child, ps in parents.items():
            want = max(layer[p] for p in ps) + 1
            if want > layer[child] and want <= len(nodes):
                layer[child], changed = want, True
        if not changed:
            break
    positions: dict[str, tuple[float, float]] = {}
    row = 0
    for level in sorted(set(layer.values())):
        members = [n for n in nodes if layer[n] == level]
        members.sort(key=lambda n: (sum(positions[p][0] for p in parents[n] if p in positions)
                                    / max(1, len([p for p in parents[n] if p in positions])), n))
        for start in range(0, len(members), ROW_MAX):
            for col, node in enumerate(members[start:start + ROW_MAX]):
                positions[node] = (MARGIN + col * (NODE_W + GAP_X), MARGIN + row * (NODE_H + GAP_Y))
            row += 1
    return positions


def graph_svg(nodes: list[str], report: ScanReport) -> str:
    pos = layout(nodes, report)
    node_set = set(nodes)
    width = max(x for x, _ in pos.values()) + NODE_W + MARGIN
    height = max(y for _, y in pos.values()) + NODE_H + MARGIN
    parts = [f'<svg class="graph" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
             f'viewBox="0 0 {width:.0f} {height:.0f}" role="img">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
             'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>']
    directed = {(e.child, e.parent) for e in report.edges}
    lines = [(e.child, e.parent, e.relation, e.confidence, "derives") for e in report.edges
             if e.child in node_set and e.parent in node_set]
    lines += [(p.a, p.b, p.relation, p.confidence, p.direction) for p in report.pairs
              if p.a in node_set and p.direction not in (A_FROM_B, B_FROM_A)
              and (p.a, p.b) not in directed and (p.b, p.a) not in directed]
    for child, parent_, relation, confidence, kind in lines:
        (x1, y1), (x2, y2) = pos[child], pos[parent_]
        ax, ay, bx, by = x1 + NODE_W / 2, y1, x2 + NODE_W / 2, y2 + NODE_H
        if y1 == y2:   # same row: connect the sides
            ay = by = y1 + NODE_H / 2
            ax, bx = (x1, x2 + NODE_W) if x1 > x2 else (x1 + NODE_W, x2)
        arrow = ' marker-end="url(#arrow)"' if kind == "derives" else ' stroke-dasharray="5,4"'
        label = f"{relation} {confidence:.2f}" if kind == "derives" else f"{relation} ({kind})"
        parts.append(f'<g class="edge" data-child="{html.escape(child)}" data-parent="{html.escape(parent_)}" '
                     f'data-relation="{html.escape(relation)}"><line x1="{ax:.0f}" y1="{ay:.0f}" x2="{bx:.0f}" '
                     f'y2="{by:.0f}" stroke="#555" stroke-width="1.5"{arrow}/>'
                     f'<text x="{(ax + bx) / 2:.0f}" y="{(ay + by) / 2 - (NODE_H / 2 + 6 if ay == by else 4):.0f}" '
                     f'class="edge-label">'
                     f'{html.escape(label)}</text></g>')
    titles = {d.id: d.title for d in report.documents}
    for node in nodes:
        x, y = pos[node]
        is_source = node.startswith("source:")
        name = next((s.name for s in report.sources if s.id == node), node) if is_source else node
        short = name if len(name) <= 26 else name[:24] + "…"
        tooltip = f"absent source: {name}" if is_source else f"{node}\n{titles.get(node, '')}"
        parts.append(f'<g class="node{" source" if is_source else ""}" data-node="{html.escape(node)}">'
                     f'<title>{html.escape(tooltip)}</title>'
                     f'<rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="8"/>'
                     f'<text x="{x + NODE_W / 2}" y="{y + 18}" class="node-label">{html.escape(short)}</text>'
                     f'<text x="{x + NODE_W / 2}" y="{y + 34}" class="node-kind">'
                     f'{"absent source" if is_source else "document"}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def _data(report: ScanReport, families: list[dict]) -> str:
    documents = {d.id: {"title": d.title, "text": d.text, "date": d.date, "source": d.source,
                        "chrome": report.chrome.get(d.id, [])} for d in report.documents}
    payload = {"documents": documents, "pairs": [p.to_json() for p in report.pairs],
               "families": [{"nodes": f["nodes"], "pairs": f["pairs"]} for f in families]}
    text = json.dumps(payload, ensure_ascii=False)
    # Safe inside <script>: no "</script>", no "<!--", no HTML parsing of article text.
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def render(report: ScanReport, title: str = "dedup report") -> str:
    families = families_of(report)
    sections = []
    for n, family in enumerate(families):
        docs = [x for x in family["nodes"] if not x.startswith("source:")]
        relations = sorted({report.pairs[i].relation for i in family["pairs"]})
        summary = (f"Family {n + 1}: {len(docs)} document{'s' * (len(docs) != 1)}, "
                   f"{len(family['pairs'])} pair{'s' * (len(family['pairs']) != 1)}"
                   + (f" ({', '.join(relations)})" if relations else "")
                   + (f", credits {', '.join(x for x in family['nodes'] if x.startswith('source:'))}"
                      if len(docs) < len(family["nodes"]) else ""))
        sections.append(
            f'<details class="family" data-family="{n}" data-members="{html.escape(" ".join(family["nodes"]))}"'
            f'{" open" if n < OPEN_FAMILIES else ""}><summary>{html.escape(summary)}</summary>'
            f'<div class="graph-wrap">{graph_svg(family["nodes"], report)}</div>'
            f'<div class="pairs" data-family="{n}"></div></details>')
    skipped = "".join(f"<li>{html.escape(str(s))}</li>" for s in report.skipped)
    counts = (f"{len(report.documents)} documents · {len(report.pairs)} related pairs · "
              f"{len(families)} families · {len(report.sources)} absent sources · {len(report.skipped)} skipped")
    return (_PAGE.replace("__TITLE__", html.escape(title)).replace("__COUNTS__", html.escape(counts))
            .replace("__FAMILIES__", "".join(sections) or "<p>No related documents.</p>")
            .replace("__SKIPPED__", f"<details><summary>Skipped inputs</summary><ul>{skipped}</ul></details>"
                     if skipped else "")
            .replace("__CSS__", _CSS).replace("__JS__", _JS).replace("__DATA__", _data(report, families)))


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title><style>__CSS__</style></head>
<body><header><h1>__TITLE__</h1><p class="counts">__COUNTS__</p>
<p class="legend"><span class="hl sample" style="background:#ffd8a8">shared passage / aligned sentence</span>
<span class="chrome">site chrome (not evidence)</span> Click a highlight to find its counterpart.</p></header>
<main>__FAMILIES__ __SKIPPED__</main>
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
.more{margin:4px 0}
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
  window.dedupReady = true;
})();
"""
