"""The scan's faster forms give the answers of the plain ones, on the real news-cycle fixture:
stages fanned out over processes (document hashing, lineage's reading), outlet names found by first letter, LSH bucket pairs made
for all buckets at once, the neighbour product made a chunk of rows at a time."""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.sparse as sp

import dedup.fanout
from dedup import Scanner
from dedup.candidates import NumpyEngine, banding, bucket_keys
from dedup.lineage import _MEDIA_NAME, LineageBuilder, OutletMatcher
from dedup.load import load_path
from dedup.paraphrase import TextModel, _keep_top, _shortlist
from dedup.records import Document
from dedup.settings import Settings

from .conftest import FIXTURES, SEEDS


@pytest.fixture(scope="module")
def newscycle():
    return sorted(load_path(FIXTURES / "newscycle").documents, key=lambda d: d.id)


def test_scan_on_two_processes_reports_what_one_process_does(newscycle, monkeypatch):
    # The seeds' retelling 000~001 and a reprint of 000, which inherits it (decided in order).
    seeds = [Document(p.stem, p.read_text(encoding="utf-8")) for p in sorted(SEEDS.glob("*.txt"))]
    corpus = newscycle + seeds + [Document("reprint_000", seeds[0].text)]
    one = Scanner(Settings.of(jobs=1)).scan(corpus).to_json()
    del one["parameters"]   # jobs itself differs
    # Small chunks and no minimum size, so the fixture is really cut and fanned out.
    monkeypatch.setattr(dedup.fanout, "MIN_PARALLEL", 0)
    monkeypatch.setattr(TextModel, "CHUNK", 9)
    monkeypatch.setattr(LineageBuilder, "CHUNK", 11)
    two = Scanner(Settings.of(jobs=2)).scan(corpus).to_json()
    del two["parameters"]
    relations = {(p["a"], p["b"]): p["relation"] for p in one["pairs"]}
    assert relations[(seeds[0].id, seeds[1].id)] == relations[(seeds[1].id, "reprint_000")] == "paraphrase"
    assert two == one


def _flat_outlet_pattern(matcher: OutletMatcher) -> re.Pattern:
    """Every outlet alias tried in turn at every word, longest first (the plain form)."""
    patterns = []
    for name, (aliases, _) in matcher.outlets.items():
        for alias in (name, *aliases):
            body = re.escape(alias)
            patterns.append(body if alias.isupper() and len(alias) <= 4 else f"(?i:{body})")
    patterns.sort(key=len, reverse=True)
    return re.compile(rf"\b(?:{'|'.join(patterns)}|{_MEDIA_NAME})\b")


def test_outlet_names_found_by_first_letter_are_those_of_the_flat_alternation(newscycle):
    matcher = OutletMatcher()
    flat = _flat_outlet_pattern(matcher)
    texts = [d.text for d in newscycle] + [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    texts.append("as the new york times and the ny post reported; FT said; RTÉ News wrote; the İmage Daily Post")
    found = 0
    for text in texts:
        expected = [(m.span(), m.group()) for m in flat.finditer(text)]
        assert [(m.span(), m.group()) for m in matcher._pattern.finditer(text)] == expected
        found += len(expected)
    assert found > 50, "the texts name outlets"


def _pairs_bucket_by_bucket(keys: np.ndarray, owners: np.ndarray, max_bucket: int) -> set[tuple[int, int]]:
    found = set()
    for key in np.unique(keys):
        docs = sorted(set(owners[keys == key].tolist()))
        if len(docs) > max_bucket:
            found.update(zip(docs[:-1], docs[1:]))
        else:
            found.update((a, b) for n, a in enumerate(docs) for b in docs[n + 1:])
    return found


@pytest.mark.parametrize("max_bucket", [2, 200])
def test_bucket_pairs_made_at_once_are_those_of_each_bucket(newscycle, max_bucket):
    context, analyses = Scanner().analyze(newscycle[:150])
    windows = np.concatenate([a.sketch.windows for a in analyses])
    owners = np.repeat(np.arange(len(analyses)), [len(a.sketch.windows) for a in analyses])
    keys = bucket_keys(windows, *banding(0.3, context.minhasher.num_perm))
    keys, owners = keys.ravel(), np.repeat(owners, keys.shape[1])
    found: set[tuple[int, int]] = set()
    NumpyEngine(context.minhasher.num_perm, max_bucket)._collect(keys, owners, found, batch=500)
    assert len(found) > 10
    assert found == _pairs_bucket_by_bucket(keys, owners, max_bucket)


def test_neighbour_shortlist_made_in_chunks_is_that_of_the_whole_product(newscycle):
    words = _keep_top(TextModel().fit([d.text for d in newscycle]).word_matrix_, 40)
    whole = (words @ words.T).tocsr()
    whole.setdiag(0)
    whole.eliminate_zeros()
    expected = _keep_top(whole, 30).tocoo()
    chunked = _shortlist(words, 30, chunk=53).tocoo()
    assert expected.nnz > len(newscycle)
    for part in ("row", "col", "data"):
        assert np.array_equal(getattr(chunked, part), getattr(expected, part))
    assert sp.csr_matrix(chunked).shape == whole.shape
