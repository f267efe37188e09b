"""The foundation: verbatim copies, chrome, excerpts, offsets into the original files."""

from __future__ import annotations

import copy
import random

import pytest

from dedup import load_path
from dedup.chrome import ChromeDetector
from dedup.settings import CandidateSettings, ChromeSettings
from dedup.records import DUPLICATE, EXCERPT, OVERLAP
from synth import edit_words, embed, word_slice, wrap_chrome
from dedup.text import normalize_text

from .conftest import SEED_000, SEED_001, SEED_002, scan_json, seed_text, write


def pair_of(report: dict, a: str, b: str) -> dict | None:
    for pair in report["pairs"]:
        if {pair["a"], pair["b"]} == {a, b}:
            return pair
    return None


def strip_chrome(text: str) -> str:
    """The article body of a seed without its own site furniture."""
    detector = ChromeDetector()
    from dedup.records import Document
    spans = detector.spans(Document("x", text))
    kept, last = [], 0
    for start, end in spans:
        kept.append(text[last:start])
        last = end
    kept.append(text[last:])
    return "".join(kept).strip()


def assert_offsets_slice_files(folder, report: dict, pair: dict) -> None:
    """Every passage's offsets cut the same words out of both original files."""
    text_a = (folder / pair["a"]).read_bytes().decode("utf-8")
    text_b = (folder / pair["b"]).read_bytes().decode("utf-8")
    assert pair["passages"], pair
    for p in pair["passages"]:
        a_slice = text_a[p["a_start"]:p["a_end"]]
        b_slice = text_b[p["b_start"]:p["b_end"]]
        assert a_slice == p["text"]
        assert a_slice.split()[0] and b_slice.split()[0]
        if pair["relation"] == DUPLICATE and pair["jaccard"] == 1.0:
            assert normalize_text(a_slice) == normalize_text(b_slice)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, seeds, long_unrelated_article):
    """The seeds plus generated variants of them with known relations (made and scanned once:
    no test writes into it)."""
    tmp_path = tmp_path_factory.mktemp("corpus")
    rng = random.Random(7)
    s002 = seeds[SEED_002]
    for name, text in seeds.items():
        write(tmp_path, name, text)
    write(tmp_path, "copy_exact.txt", s002)
    write(tmp_path, "copy_chrome.txt", wrap_chrome(strip_chrome(s002)))
    write(tmp_path, "copy_edited.txt", edit_words(s002, 0.10, rng))
    excerpt = word_slice(s002[s002.index("Wang’s unhappiness"):], 0, 300)
    write(tmp_path, "excerpt.txt", excerpt)
    write(tmp_path, "host.txt", embed(long_unrelated_article, excerpt, 0.4))
    return tmp_path


@pytest.fixture(scope="module")
def scanned(corpus):
    return scan_json(corpus)


@pytest.fixture
def report(scanned):
    return copy.deepcopy(scanned)   # each test its own copy of the one scan's report


def test_exact_copy_is_duplicate_with_offsets_into_both_files(corpus, report):
    pair = pair_of(report, SEED_002, "copy_exact.txt")
    assert pair["relation"] == DUPLICATE
    assert pair["jaccard"] == 1.0
    assert pair["containment_a_in_b"] == 1.0 and pair["containment_b_in_a"] == 1.0
    assert_offsets_slice_files(corpus, report, pair)
    # One passage: the whole article, read across the photo captions (chrome) inside it,
    # which themselves count for nothing.
    (passage,) = pair["passages"]
    text = (corpus / SEED_002).read_text()
    # (The headline repeats in 4+ copies here, so the chrome stage learned it as furniture.)
    assert passage["text"].startswith("Meta paid billions to bring billionaire AI prodigy")
    assert passage["text"].endswith("“erroneous and inconsistent” with its rules")
    assert passage["a_end"] - passage["a_start"] > 0.95 * len(text.split("Source link")[0].strip())


def test_copy_in_other_site_chrome_is_duplicate(corpus, report):
    pair = pair_of(report, SEED_002, "copy_chrome.txt")
    assert pair["relation"] == DUPLICATE
    assert min(pair["containment_a_in_b"], pair["containment_b_in_a"]) > 0.9
    assert_offsets_slice_files(corpus, report, pair)


def test_copy_with_ten_percent_edits_is_duplicate(corpus, report):
    pair = pair_of(report, SEED_002, "copy_edited.txt")
    assert pair["relation"] == DUPLICATE
    # Jaccard of 5-word shingles collapses under edits; containment through chained passages does not.
    assert pair["jaccard"] < 0.6
    assert min(pair["containment_a_in_b"], pair["containment_b_in_a"]) > 0.85
    assert_offsets_slice_files(corpus, report, pair)


def test_excerpt_inside_unrelated_long_article(corpus, report):
    excerpt_text = (corpus / "excerpt.txt").read_text()
    host_text = (corpus / "host.txt").read_text()
    assert len(host_text.split()) > 2500

    alone = pair_of(report, SEED_002, "excerpt.txt")
    assert alone["relation"] == EXCERPT
    inner = "a" if alone["a"] == "excerpt.txt" else "b"
    assert alone[f"containment_{inner}_in_{'b' if inner == 'a' else 'a'}"] > 0.95

    hosted = pair_of(report, "excerpt.txt", "host.txt")
    assert hosted["relation"] == EXCERPT
    # The host's offsets cut out the embedded excerpt, and nothing else of the host
    # (passages break only at the photo caption, chrome, inside the excerpt).
    side = "b" if hosted["b"] == "host.txt" else "a"
    where = host_text.index(excerpt_text)
    starts = [p[f"{side}_start"] for p in hosted["passages"]]
    ends = [p[f"{side}_end"] for p in hosted["passages"]]
    assert min(starts) == where and max(ends) <= where + len(excerpt_text)
    assert sum(e - s for s, e in zip(starts, ends)) > 0.8 * len(excerpt_text)

    # 002 vs the host: only ~300 of the host's ~3,000 words are shared: found by windows,
    # invisible to whole-document Jaccard.
    partial = pair_of(report, SEED_002, "host.txt")
    assert partial["relation"] == OVERLAP
    assert partial["jaccard"] < 0.2
    assert_offsets_slice_files(corpus, report, partial)


def test_seeds_are_not_verbatim_copies_of_each_other(report):
    seeds = {SEED_000, SEED_001, SEED_002}
    for pair in report["pairs"]:
        if {pair["a"], pair["b"]} <= seeds:
            assert pair["relation"] not in (DUPLICATE, EXCERPT, OVERLAP), pair


def test_shared_chrome_alone_is_not_reuse(tmp_path, seeds):
    # Two different articles carrying the same site furniture (that of seed 000's site).
    chrome_000 = seed_text(SEED_000).split("Mark your calendars!")[1]
    write(tmp_path, "one.txt", strip_chrome(seeds[SEED_001]) + "\n\nMark your calendars!" + chrome_000)
    write(tmp_path, "two.txt", strip_chrome(seeds[SEED_002]) + "\n\nMark your calendars!" + chrome_000)
    report = scan_json(tmp_path, "--no-paraphrase")
    assert report["pairs"] == []
    # Without the chrome stage (a detector that knows no pattern and learns nothing from two
    # files) the same files do share long verbatim passages: the chrome stage is what drops them.
    from dedup.core import Context, analyze, verify_verbatim
    blind = Context(chrome=ChromeDetector(patterns={}))
    one, two = (analyze(d, blind) for d in load_path(tmp_path).documents)
    shared = verify_verbatim(one, two, blind).passages
    assert shared and max(p.words for p in shared) >= 20


def test_chrome_learned_from_repetition(tmp_path, news_sentences):
    """A line repeated across many documents is chrome even if no pattern knows it."""
    furniture = "Brought to you by the Example Valley Gazette team"
    for i in range(5):
        body = " ".join(news_sentences[i * 10:(i + 1) * 10])
        write(tmp_path, f"d{i}.txt", f"{body}\n{furniture}\n")
    corpus = load_path(tmp_path)
    detector = ChromeDetector(ChromeSettings(chrome_min_docs=4)).fit(corpus.documents)
    assert detector.why(furniture) == "repeated in at least 4 documents"
    assert all(any(corpus.documents[0].text[s:e] == furniture for s, e in detector.spans(d))
               for d in corpus.documents[:1])


def test_scan_output_is_deterministic(corpus):
    from .conftest import run_cli
    first = run_cli("scan", str(corpus), "--format", "json")
    second = run_cli("scan", str(corpus), "--format", "json")
    assert first.returncode == 0
    assert first.stdout == second.stdout


def test_terminal_summary_names_families_and_quotes_a_passage(corpus):
    from .conftest import run_cli
    result = run_cli("scan", str(corpus))
    assert result.returncode == 0
    assert "Family 1" in result.stdout
    assert "duplicate" in result.stdout and "excerpt" in result.stdout
    # The longest shared passage is quoted, from the article itself.
    assert "Meta paid billions to bring billionaire AI prodigy" in result.stdout


def test_numpy_engine_finds_exactly_the_datasketch_candidates(corpus):
    """The vectorised banding is the same LSH as datasketch's MinHashLSH, only faster."""
    from dedup.candidates import CandidateFinder
    from dedup.core import Context, analyze
    documents = load_path(corpus).documents
    context = Context.fit(documents)
    sketches = [analyze(d, context).sketch for d in documents]
    fast = CandidateFinder(CandidateSettings(lsh="numpy"), context.minhasher).pairs(sketches)
    reference = CandidateFinder(CandidateSettings(lsh="datasketch"), context.minhasher).pairs(sketches)
    assert fast == reference
    assert len(fast) >= 10
