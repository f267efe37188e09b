"""Chrome rule 4, an outlet's furniture: learned from whole pages by ``fit`` and from the same
public pieces (``page``, ``line_counts``, ``is_candidate``, ``is_furniture``) that the Spark engine
runs on its executors."""

from __future__ import annotations

import json

import pytest

from dedup.chrome import ChromeDetector, is_candidate, line_counts, line_hash, line_key, outlet_key
from dedup.records import Document
from dedup.settings import ChromeSettings

from .conftest import FIXTURES

PROMO = "Get the Example Gazette's morning briefing delivered to your inbox every weekday before breakfast"
WIRE_NOTE = "This story was distributed by a news agency and is reprinted here under its usual licence terms"
TWICE = "An earlier version of this story misstated the name of the county's acting chief medical officer"
RERUN = "Readers who have questions about the strike can reach our transport desk through the form below"


@pytest.fixture(scope="module")
def cycle() -> list[Document]:
    records = [json.loads(line) for line in (FIXTURES / "newscycle" / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    return sorted((Document(id=r["id"], text=r["text"], title=r.get("title") or "", url=r.get("url"),
                            source=r.get("source")) for r in records), key=lambda d: d.id)


@pytest.fixture(scope="module")
def stories(cycle) -> list[str]:
    """Real article bodies of different stories: each of the news cycle's documents' long paragraphs."""
    bodies = []
    for doc in cycle:
        paragraphs = [p.strip() for p in doc.text.split("\n") if len(p.split()) > 25]
        if len(paragraphs) >= 3 and not any(p in body for p in paragraphs for body in bodies):
            bodies.append("\n".join(paragraphs[:3]))
    return bodies


def page(doc_id: str, outlet: str, title: str, body: str, *extra: str) -> Document:
    return Document(doc_id, "\n".join([body, *extra]), title=title, url=f"https://{outlet}/{doc_id}")


def test_a_line_under_several_stories_of_one_outlet_only_is_its_furniture(stories):
    """The promo under three different stories of one outlet is its furniture; a note two outlets
    print is not (shared text is reported, not hidden); nor is a line under one story run twice
    (under one title, or under two titles with the same paragraphs)."""
    documents = [
        page("a1", "gazette.example", "Budget vote", stories[0], PROMO, WIRE_NOTE),   # the note: 3 documents
        page("a2", "gazette.example", "Storm warning", stories[1], PROMO),
        page("a3", "gazette.example", "School board", stories[2], PROMO, TWICE),
        page("a4", "gazette.example", "School board", stories[2], TWICE),               # the same title again
        page("b1", "ledger.example", "Harbour works", stories[3], WIRE_NOTE),
        page("b2", "ledger.example", "Court ruling", stories[4], WIRE_NOTE),
        page("c1", "herald.example", "Rail strike", stories[5], RERUN),
        page("c2", "herald.example", "Rail strike, updated", stories[5], RERUN),   # one story, two titles
    ]
    detector = ChromeDetector().fit(documents)
    assert detector.furniture_ == {"gazette.example": {line_hash(line_key(PROMO))}}
    assert PROMO in [documents[0].text[s:e] for s, e in detector.spans(documents[0])]
    assert WIRE_NOTE not in [documents[4].text[s:e] for s, e in detector.spans(documents[4])]
    # one more outlet needed: at outlet_min_docs=4 the promo (three stories) is not furniture
    assert ChromeDetector(ChromeSettings(outlet_min_docs=4)).fit(documents).furniture_ == {}
    # and when another outlet prints it too, it is shared text, no outlet's furniture
    elsewhere = page("d1", "courier.example", "Ferry fares", stories[6], PROMO)
    assert ChromeDetector().fit(documents + [elsewhere]).furniture_ == {}


def test_the_pieces_give_fits_furniture_on_a_news_cycle(cycle):
    """On a real news cycle with outlets: counting each line per page, keeping the candidates and
    deciding line by line from its carriers' titles and bodies in document order — the steps a
    cluster runs apart — is ``fit``; and every furniture line is printed by one outlet only,
    under at least ``outlet_min_docs`` titles."""
    detector = ChromeDetector().fit(cycle)
    assert sum(len(lines) for lines in detector.furniture_.values()) >= 50
    pages = [p for p in map(detector.page, cycle) if p is not None]
    in_outlet, everywhere = line_counts(pages)
    decided: dict[str, set[int]] = {}
    for h, n in in_outlet.items():
        carriers = [p for p in pages if h in set(p.lines.tolist())]
        line = h ^ carriers[0].salt
        if is_candidate(n, everywhere[line]) and detector.is_furniture(line, [(p.title, p.body) for p in carriers]):
            decided.setdefault(carriers[0].outlet, set()).add(line)
    assert decided == detector.furniture_
    for outlet, furniture in detector.furniture_.items():
        for line in furniture:
            carriers = [d for d in cycle if line in {line_hash(line_key(x)) for x in d.text.split("\n")}]
            assert {outlet_key(d) for d in carriers} == {outlet}
            assert len({d.title.strip().lower() for d in carriers}) >= detector.outlet_min_docs
