"""The chrome stage: site furniture is set aside; article text never is."""

from __future__ import annotations

from collections import Counter

from dedup.chrome import ChromeDetector
from dedup.records import Document
from dedup.settings import ChromeSettings

from .conftest import SEED_002


def chrome_lines(detector: ChromeDetector, text: str) -> list[str]:
    return [text[s:e] for s, e in detector.spans(Document("d", text))]


def test_pattern_lines_are_chrome_and_article_paragraphs_are_not(seeds):
    body = next(p.strip() for p in seeds[SEED_002].split("\n\n") if len(p.split()) > 30)   # a real paragraph
    text = "\n".join(["Follow us on Twitter", body, "Leave a Reply", "Source link", "Photo: Getty Images"])
    found = chrome_lines(ChromeDetector(), text)
    assert found == ["Follow us on Twitter", "Leave a Reply", "Source link", "Photo: Getty Images"]


def test_a_short_line_repeated_in_enough_documents_is_learned_as_chrome(seeds):
    furniture = "Brought to you by the Example Valley Gazette team"
    paragraphs = [p.strip() for p in seeds[SEED_002].split("\n\n") if len(p.split()) > 20]
    documents = [Document(f"d{i}", f"{p}\n{furniture}") for i, p in enumerate(paragraphs[:4])]
    assert furniture in chrome_lines(ChromeDetector().fit(documents), documents[0].text)
    # One document fewer than chrome_min_docs: not furniture yet.
    assert furniture not in chrome_lines(ChromeDetector().fit(documents[:3]), documents[0].text)
    assert furniture in chrome_lines(ChromeDetector(ChromeSettings(chrome_min_docs=3)).fit(documents[:3]),
                                     documents[0].text)


def test_counts_kept_elsewhere_teach_the_same_as_fit(seeds):
    """An index keeps line counts as it grows; fit_counts learns exactly what fit does."""
    furniture = "Brought to you by the Example Valley Gazette team"
    paragraphs = [p.strip() for p in seeds[SEED_002].split("\n\n") if len(p.split()) > 20]
    documents = [Document(f"d{i}", f"{p}\n{furniture}") for i, p in enumerate(paragraphs[:5])]
    detector = ChromeDetector()
    counts = Counter(key for d in documents for key in detector.line_keys(d))
    assert detector.fit_counts(counts).repeated_ == ChromeDetector().fit(documents).repeated_


def test_a_repeated_long_paragraph_stays_evidence(seeds):
    """A syndicated paragraph in many copies is the reuse we look for, not furniture."""
    paragraph = next(p.strip() for p in seeds[SEED_002].split("\n\n") if len(p.split()) > 30)
    documents = [Document(f"d{i}", f"Intro {i}.\n{paragraph}") for i in range(6)]
    assert paragraph not in chrome_lines(ChromeDetector().fit(documents), documents[0].text)


def test_an_inline_share_bar_inside_a_long_line_is_chrome(seeds):
    body = next(p.strip() for p in seeds[SEED_002].split("\n\n") if len(p.split()) > 30)
    text = body + " Share this: Facebook Twitter WhatsApp LinkedIn Email Print"
    (found,) = chrome_lines(ChromeDetector(), text)
    assert found.startswith("Share this") and body not in found
