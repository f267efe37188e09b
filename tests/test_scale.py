"""The scan's faster forms give the answers of the plain ones, on the real news-cycle fixture:
stages fanned out over processes (document hashing, lineage's reading), outlet names found by first letter, LSH bucket pairs made
for all buckets at once, the neighbour product made a chunk of rows at a time, widely shared passages
found on arrays (one sort of (hash, document) pairs, runs detected at once)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.sparse as sp

import dedup.fanout
import dedup.pipeline
import dedup.paraphrase
import dedup.passages
from dedup import Scanner
from dedup.candidates import NumpyEngine, banding, bucket_keys
from dedup.lineage import _MEDIA_NAME, LineageBuilder, OutletMatcher
from dedup.load import load_path
from dedup.paraphrase import TextModel, _document_counts, _each_pair_once, _keep_top, _shortlist, _WordTable
from dedup.passages import SharedPassageFinder, _longest_runs
from dedup.records import Document
from dedup.sentences import HashedTokens, counts
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
    monkeypatch.setattr(dedup.pipeline, "VERIFY_CHUNK", 13)
    two = Scanner(Settings.of(jobs=2)).scan(corpus).to_json()
    del two["parameters"]
    relations = {(p["a"], p["b"]): p["relation"] for p in one["pairs"]}
    assert relations[(seeds[0].id, seeds[1].id)] == relations[(seeds[1].id, "reprint_000")] == "paraphrase"
    assert two == one


def test_sentence_alignment_in_parts_on_two_processes_reports_what_one_process_does(newscycle, monkeypatch):
    # Pairs cut into parts of a few batches of a few pairs, each part on a worker that prepares
    # its own documents' sentences, the retold seed 000~001 and its reprint's inheritance included.
    seeds = [Document(p.stem, p.read_text(encoding="utf-8")) for p in sorted(SEEDS.glob("*.txt"))]
    corpus = newscycle + seeds + [Document("reprint_000", seeds[0].text)]
    one = Scanner(Settings.of(jobs=1)).scan(corpus).to_json()
    del one["parameters"]
    monkeypatch.setattr(dedup.pipeline, "MIN_PARALLEL_ALIGN", 0)
    monkeypatch.setattr(dedup.pipeline, "ALIGN_BATCH", 3)
    monkeypatch.setattr(dedup.pipeline, "ALIGN_PART", 7)
    two = Scanner(Settings.of(jobs=2)).scan(corpus).to_json()
    del two["parameters"]
    assert two == one
    assert dedup.pipeline._part_size(100, 2) == 7 and dedup.pipeline._part_size(10, 2) == 3


def test_alignment_parts_are_cut_by_estimated_cost_not_by_length():
    # Cheap jobs first (overlaps already known, among a few documents), costly ones after (each a
    # new pair of documents, its overlap still to find): parts of even length would give the first
    # process almost nothing to do.  The parts keep the jobs' order and their number.
    from dedup.align import Overlap
    from dedup.pipeline import UNKNOWN_OVERLAP_COST, AlignJob, _part_size, _parts

    cheap = [AlignJob(k % 4, 4 + k % 3, None, Overlap()) for k in range(60)]
    costly = [AlignJob(10 + 2 * k, 11 + 2 * k, None, None) for k in range(40)]
    ordered = cheap + costly
    parts = _parts(ordered, 2)
    assert [job for part in parts for job in part] == ordered
    assert len(parts) == -(-len(ordered) // _part_size(len(ordered), 2))
    costs = [sum(2 + UNKNOWN_OVERLAP_COST for job in part if job.overlap is None) for part in parts]
    assert max(costs) - min(costs) <= 2 * (2 + UNKNOWN_OVERLAP_COST)   # even within about a job or two
    assert len(parts[0]) > 2 * len(parts[-1])


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
    NumpyEngine(context.minhasher.num_perm, max_bucket).collect_pairs(keys, owners, found, batch=500)
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


def _passage_candidates_shingle_by_shingle(analyses, min_docs: int, min_shingles: int) -> dict:
    """The plain form: each shingle's carriers gathered one shingle at a time."""
    carriers: dict[int, set[int]] = {}
    for d, analysis in enumerate(analyses):
        for h in analysis.fingerprint.shingles.tolist():
            carriers.setdefault(h, set()).add(d)
    groups: dict[tuple[int, ...], list[int]] = {}
    for h in sorted(carriers):
        if len(carriers[h]) >= min_docs:
            groups.setdefault(tuple(sorted(carriers[h])), []).append(h)
    return {c: hashes for c, hashes in groups.items() if len(hashes) >= min_shingles}


def _longest_run_one_document(analysis, shingles: set[int], k: int) -> tuple[int, int]:
    """The plain form: walk the document's shingles, keep the longest run of hits (the earliest on ties)."""
    fp = analysis.fingerprint
    runs: list[list[int]] = []
    for h, t in zip(fp.shingles.tolist(), fp.shingle_tokens.tolist()):
        if h in shingles:
            if runs and t - runs[-1][-1] <= k:
                runs[-1].append(t)
            else:
                runs.append([t])
    best = max(runs, key=lambda r: (r[-1] - r[0], -r[0]))
    return best[0], best[-1] + k - 1


@pytest.fixture(scope="module")
def newscycle_verbatim(newscycle):
    scanner = Scanner()
    context, analyses = scanner.analyze(newscycle)
    return analyses, scanner.verbatim_evidence(analyses, context)


@pytest.mark.parametrize("min_docs", [2, 5])
def test_shared_passage_candidates_found_on_arrays_are_those_found_shingle_by_shingle(newscycle_verbatim, min_docs):
    analyses, _ = newscycle_verbatim
    finder = SharedPassageFinder(Settings.of(shared_min_docs=min_docs).chrome)
    expected = _passage_candidates_shingle_by_shingle(analyses, min_docs, finder.min_shingles)
    found = finder.candidates(analyses)
    assert len(expected) > 5, "the news cycle's outlets share passages"
    assert list(found) == list(expected)   # the same groups, in the order of their smallest hash
    assert all(found[c].tolist() == hashes for c, hashes in expected.items())


def test_longest_runs_found_at_once_are_those_of_each_document(newscycle_verbatim):
    analyses, _ = newscycle_verbatim
    finder = SharedPassageFinder(Settings.of(shared_min_docs=2).chrome)
    groups = list(finder.candidates(analyses).items())
    found = _longest_runs(analyses, groups, finder.k)
    assert sum(map(len, found)) > 20
    for (carriers, hashes), spans in zip(groups, found):
        assert list(spans) == list(carriers)
        wanted = set(hashes.tolist())
        assert spans == {d: _longest_run_one_document(analyses[d], wanted, finder.k) for d in carriers}


def test_carrier_sets_that_collide_on_their_sum_are_still_told_apart(newscycle_verbatim, monkeypatch):
    analyses, evidence = newscycle_verbatim
    finder = SharedPassageFinder(Settings.of(shared_min_docs=2, shared_min_groups=2).chrome)
    candidates, passages = finder.candidates(analyses), finder.fit(analyses, evidence)
    # Every document mixed to the same number: every sum collides, the runs are compared as tuples.
    monkeypatch.setattr(dedup.passages, "_mix64", lambda values: np.zeros(len(values), dtype=np.uint64))
    collided = finder.candidates(analyses)
    assert len(candidates) > 5 and passages.passages   # the statement the whole cycle quotes
    assert list(collided) == list(candidates) and all(np.array_equal(collided[c], candidates[c]) for c in candidates)
    assert finder.fit(analyses, evidence).passages == passages.passages


@pytest.mark.parametrize("decimals", [None, 2])   # rounded: many ties, broken by the lower column
def test_rows_top_entries_by_sorted_keys_are_those_of_the_lexsort(newscycle, decimals):
    words = TextModel().fit([d.text for d in newscycle]).word_matrix_
    if decimals is not None:
        words.data = np.round(words.data, decimals).astype(np.float32)
    words.data[::7] *= -1   # negative values and zeros sort as numbers too
    as_float64 = sp.csr_matrix((words.data.astype(np.float64), words.indices, words.indptr), shape=words.shape)
    fast, lexsorted = _keep_top(words, 40).tocoo(), _keep_top(as_float64, 40).tocoo()   # float64: the lexsort
    assert words.dtype == np.float32 and lexsorted.nnz < words.nnz
    for part in ("row", "col"):
        assert np.array_equal(getattr(fast, part), getattr(lexsorted, part))
    assert np.array_equal(fast.data, lexsorted.data.astype(np.float32))


def test_pairs_on_both_shortlists_are_scored_once_to_the_same_bits(newscycle):
    model = TextModel().fit([d.text for d in newscycle])
    shortlist = _shortlist(_keep_top(model.word_matrix_, 40), 30).tocoo()
    calls = []

    def cosines(rows, cols):
        calls.append(len(rows))
        return model.cosines(rows, cols)

    once = _each_pair_once(cosines, shortlist.row, shortlist.col)
    assert calls[0] < 0.9 * shortlist.nnz, "documents are on each other's shortlists"
    assert np.array_equal(once, model.cosines(shortlist.row, shortlist.col))


# -- the paraphrase set-up and neighbours: faster forms, the same vectors and cosines ----------------

def _per_token_counts(texts):
    """The text model's counts by the plain definition: every content token hashed on its own
    (``HashedTokens``), its uni+bigrams and character 4-grams counted."""
    content = HashedTokens.of(texts).without_stop_words()
    grams = [content.grams(1), content.grams(2)]
    words = counts(np.concatenate([r for r, _ in grams]), np.concatenate([c for _, c in grams]), len(texts))
    return words, counts(*content.chars(fours_only=True), len(texts))


def _same(x: sp.csr_matrix, y: sp.csr_matrix) -> bool:
    return x.shape == y.shape and all(np.array_equal(getattr(x, p), getattr(y, p)) for p in ("indptr", "indices", "data"))


def test_counts_from_the_word_table_are_those_of_each_token_hashed(newscycle):
    texts = [d.text for d in newscycle]
    table = _WordTable()
    words, chars = _document_counts(table, texts)
    expected_words, expected_chars = _per_token_counts(texts)
    assert chars.nnz > words.nnz > 10 * len(texts)
    assert _same(words, expected_words) and _same(chars, expected_chars)
    assert _same(_document_counts(table, texts[::-1], words=False)[1], expected_chars[::-1])   # words already in the table


def test_text_model_in_small_blocks_and_chunks_weighs_as_the_whole(newscycle, monkeypatch):
    texts = [d.text for d in newscycle]
    stories = list(range(0, len(texts), 2))   # IDF over half of the documents
    whole = TextModel().fit(texts, stories=stories)
    monkeypatch.setattr(dedup.paraphrase, "WEIGH_ROWS", 7)
    monkeypatch.setattr(dedup.paraphrase, "KEEP_TOP_ROWS", 13)
    monkeypatch.setattr(TextModel, "CHUNK", 9)
    blocks = TextModel().fit(texts, stories=stories)
    assert _same(blocks.word_matrix_, whole.word_matrix_) and np.array_equal(blocks.norms_, whole.norms_)
    assert _same(_keep_top(blocks.word_matrix_, 40), dedup.paraphrase._keep_top_rows(whole.word_matrix_.copy(), 40))
    everyone = np.arange(len(texts))
    assert _same(blocks.char_rows(everyone), whole.char_rows(everyone))
    # the character rows made again for a few documents are those of the whole corpus, in the order asked
    assert _same(whole.char_rows(np.array([5, 2, 5])), whole.char_rows(everyone)[[5, 2, 5]])


def test_character_rows_kept_from_the_fit_are_those_made_again_from_the_texts(newscycle, monkeypatch):
    texts = [d.text for d in newscycle]
    kept = TextModel().fit(texts)
    monkeypatch.setattr(dedup.paraphrase, "KEEP_CHAR_ENTRIES", kept.char_counts_.nnz - 1)   # one entry too many
    made = TextModel().fit(texts)
    assert kept.char_counts_ is not None and made.char_counts_ is None
    some = np.array([7, 0, 7, len(texts) - 1])
    assert _same(kept.char_rows(some), made.char_rows(some))
    rows, cols = np.arange(len(texts) - 1), np.arange(1, len(texts))
    assert np.array_equal(kept.cosines(rows, cols), made.cosines(rows, cols))


def test_neighbour_scores_skip_only_pairs_that_cannot_reach_the_threshold(newscycle):
    model = TextModel().fit([d.text for d in newscycle])
    n = len(newscycle)
    rows, cols = np.triu_indices(n, k=1)   # every pair of the fixture
    full, quick = model.cosines(rows, cols), model.cosines(rows, cols, at_least=0.2)
    reached = full >= 0.2
    assert 10 < reached.sum() < len(full) // 4
    assert np.array_equal(quick[reached], full[reached])   # the same bits where it counts
    assert (quick[~reached] < 0.2).all() and (quick <= full).all()
    assert (quick < full).mean() > 0.5   # most pairs are not scored in full


def test_cosines_on_two_processes_are_those_of_one(newscycle, monkeypatch):
    model = TextModel().fit([d.text for d in newscycle])
    rows, cols = np.triu_indices(len(newscycle), k=1)
    one = model.cosines(rows, cols, at_least=0.2)
    monkeypatch.setattr(dedup.paraphrase, "PAIRS_PER_JOB", 500)
    model.jobs = 2
    assert len(rows) > 4 * 500
    assert np.array_equal(model.cosines(rows, cols, at_least=0.2), one)


def test_word_facts_of_many_words_at_once_are_those_of_each_word(newscycle):
    from dedup.paraphrase import _word_facts
    from dedup.sentences import WORD, _word

    words = list(dict.fromkeys(w for d in newscycle for w in WORD.findall(d.text.lower())))
    words += ["a", "of", "ab", "naïve", "café", "東京", "_", "x_1", "zürich"]   # short, non-ASCII, CJK
    hashes, stop, fours, bounds = _word_facts(words)
    assert len(words) > 1000 and stop.any() and not stop.all()
    for k, word in enumerate(words):
        expected = _word(word)
        assert (hashes[k], stop[k]) == (expected[0], expected[1])
        assert np.array_equal(fours[bounds[k]:bounds[k + 1]], expected[4])


@pytest.mark.parametrize("top", [1, 3, 7])
def test_rows_top_entries_by_partition_are_those_of_sorting_each_row(top):
    rng = np.random.default_rng(top)
    lengths = rng.integers(0, 70, size=60)   # rows of every length class, some no longer than ``top``
    rows = np.repeat(np.arange(60), lengths)
    columns = np.concatenate([np.sort(rng.choice(500, n, replace=False)) for n in lengths])
    values = rng.integers(1, 6, size=len(rows)).astype(np.float32) / 4   # few values: many ties
    matrix = sp.csr_matrix((values, columns, np.r_[0, np.cumsum(lengths)]), shape=(60, 500))
    kept = _keep_top(matrix, top)
    for r in range(60):
        entries = sorted(zip(-matrix[r].data, matrix[r].indices))[:top]   # largest first, then the lower column
        assert sorted(kept[r].indices.tolist()) == sorted(int(c) for _, c in entries)


def test_text_model_on_two_processes_that_keep_no_character_rows_scores_as_one(newscycle, monkeypatch):
    assert TextModel(jobs=2).chunk_size(10_000) == 1250 and TextModel(jobs=2).chunk_size(100_000) == TextModel.CHUNK
    texts = [d.text for d in newscycle]
    one = TextModel().fit(texts)
    monkeypatch.setattr(dedup.fanout, "MIN_PARALLEL", 0)
    monkeypatch.setattr(dedup.paraphrase, "KEEP_CHAR_TEXTS", len(texts) - 1)   # workers send none back
    monkeypatch.setattr(TextModel, "CHUNK", 16)
    two = TextModel(jobs=2).fit(texts)
    assert one.char_counts_ is not None and two.char_counts_ is None and two.chunk_size(len(texts)) < len(texts)
    assert _same(two.word_matrix_, one.word_matrix_) and np.array_equal(two.char_idf_, one.char_idf_)
    rows, cols = np.triu_indices(len(texts), k=1)
    assert np.array_equal(two.cosines(rows, cols, at_least=0.2), one.cosines(rows, cols, at_least=0.2))
