"""The committed news-cycle fixture (tests/fixtures/newscycle) is well formed and its truth consistent.

These tests check the data, not dedup's behaviour on it (benchmarks/story.py measures that).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "newscycle"
ROLES = {"original", "wire_reprint", "copy", "excerpt", "rewrite", "quote_sharer", "unrelated"}
RELATIONS = {"duplicate", "excerpt", "paraphrase", "overlap"}
WIRES = {"Associated Press", "Reuters", "Agence France-Presse"}
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def runs(text: str, n: int = 8) -> set[tuple[str, ...]]:
    w = words(text)
    return {tuple(w[k:k + n]) for k in range(len(w) - n + 1)}


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    return [json.loads(line) for line in (FIXTURE / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((FIXTURE / "truth.json").read_text(encoding="utf-8"))


def test_records_have_every_field_and_unique_ids(corpus):
    assert 60 <= len(corpus) <= 100
    assert sum(f.stat().st_size for f in FIXTURE.iterdir()) < 400_000
    for record in corpus:
        assert set(record) == {"id", "text", "title", "url", "date", "source", "crawled_at"}
        assert record["text"].strip() and record["title"].strip()
        assert record["url"].startswith(("http://", "https://"))
        datetime.strptime(record["crawled_at"], "%Y-%m-%dT%H:%M:%SZ")
    assert len({r["id"] for r in corpus}) == len(corpus)
    assert any(r["source"] for r in corpus) and any(not r["source"] for r in corpus)


def test_dates_come_in_mixed_formats(corpus):
    dates = [r["date"] for r in corpus]
    assert any(d is None for d in dates)
    kinds = set()
    for d in filter(None, dates):
        if re.fullmatch(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT", d):
            kinds.add("rfc2822")
        elif re.fullmatch(r"[A-Z][a-z]+ \d{1,2}, \d{4}", d):
            kinds.add("long")
        else:
            datetime.fromisoformat(d.replace("Z", "+00:00"))
            kinds.add("iso")
    assert {"iso", "rfc2822", "long"} <= kinds or len(kinds) >= 2


def test_truth_covers_every_document(corpus, truth):
    docs = truth["documents"]
    assert set(docs) == {r["id"] for r in corpus}
    assert truth["counts"]["documents"] == len(corpus)
    for doc_id, t in docs.items():
        assert t["role"] in ROLES
        assert t["outlet"] in truth["outlets"]
        parent = t["parent"]
        assert parent is None or parent in docs or parent in WIRES, (doc_id, parent)
        if t["role"] in ("quote_sharer", "unrelated", "original"):
            assert parent is None
        else:
            assert t["story"] in truth["stories"] and parent is not None
        if parent in docs:
            assert docs[parent]["story"] == t["story"]
            assert docs[parent]["published"] <= t["published"], doc_id


def test_absent_wires_are_absent_and_reprints_look_like_wire_copy(corpus, truth):
    text = {r["id"]: r["text"] for r in corpus}
    marks = {"Associated Press": "(AP)", "Reuters": "(Reuters)", "Agence France-Presse": "(AFP)"}
    for key, story in truth["stories"].items():
        members = [d for d, t in truth["documents"].items() if t["story"] == key]
        if story["kind"] == "wire":
            assert not any(truth["documents"][d]["role"] == "original" for d in members)
            reprints = [d for d in members if truth["documents"][d]["role"] == "wire_reprint"]
            assert len(reprints) >= 2
            for d in reprints:
                assert marks[story["wire"]] in text[d] or "contributed to this report" in text[d]
        else:
            assert story["original"] in members
            assert truth["documents"][story["original"]]["role"] == "original"


def test_every_page_names_its_own_outlet_and_credits_only_others(corpus, truth):
    docs = truth["documents"]
    for r in corpus:
        assert docs[r["id"]]["outlet"] in r["text"]
        parent = docs[r["id"]]["parent"]
        if parent in docs:
            assert docs[parent]["outlet"] != docs[r["id"]]["outlet"]
    for key in truth["stories"]:
        outlets = [t["outlet"] for t in docs.values() if t["story"] == key]
        assert len(outlets) == len(set(outlets))        # one outlet, one version of a story


def test_pairs_are_consistent(corpus, truth):
    docs, text = truth["documents"], {r["id"]: r["text"] for r in corpus}
    seen = set()
    for p in truth["pairs"]:
        a, b = p["a"], p["b"]
        key = frozenset((a, b))
        assert key not in seen and a != b
        seen.add(key)
        assert docs[a]["story"] == docs[b]["story"] == p["story"]
        assert p["relation"] in RELATIONS and p["relation"] in p["accept"]
        if p["direction"] == "a_from_b":
            assert docs[a]["parent"] == b or docs[docs[a]["parent"]]["parent"] == b
        elif p["direction"] == "b_from_a":
            assert docs[b]["parent"] == a or docs[docs[b]["parent"]]["parent"] == a
        if p["relation"] in ("duplicate", "excerpt"):
            shared = runs(text[a]) & runs(text[b])
            smaller = min(docs[a]["body_words"], docs[b]["body_words"])
            assert len(shared) >= 0.6 * smaller, (a, b, p["relation"])
    # every wire reprint pair of a story is expected, and no pair crosses stories
    for key in truth["stories"]:
        reprints = sorted(d for d, t in docs.items() if t["story"] == key and t["role"] == "wire_reprint")
        for i, a in enumerate(reprints):
            for b in reprints[i + 1:]:
                assert frozenset((a, b)) in seen


def test_families_are_the_stories(truth):
    docs = truth["documents"]
    families = truth["families"]
    assert len(families) == len(truth["stories"])
    members = [d for f in families for d in f]
    assert len(members) == len(set(members)) == sum(1 for t in docs.values() if t["story"])
    for family in families:
        assert len({docs[d]["story"] for d in family}) == 1


def test_shared_passages_are_carried_by_unrelated_articles(corpus, truth):
    text = {r["id"]: " ".join(r["text"].split()) for r in corpus}
    docs = truth["documents"]
    assert truth["shared_passages"]
    for passage in truth["shared_passages"]:
        assert 25 <= len(words(passage["text"])) <= 40
        carriers = set(passage["documents"])
        assert len(carriers) >= 20 and passage["origin"] in carriers
        core = " ".join(passage["text"].rstrip(".").split())
        for doc_id in text:
            assert (core in text[doc_id]) == (doc_id in carriers), doc_id
        for doc_id in carriers:
            assert docs[doc_id]["role"] == "quote_sharer" and docs[doc_id]["story"] is None
        titles = {r["title"] for r in corpus if r["id"] in carriers}
        assert len(titles) == len(carriers)            # different stories, not copies of one
