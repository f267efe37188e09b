"""Sentence preparation made cheaper with the same answers, on real text (the seeds and the
news-cycle fixture): words hashed by numpy as scikit-learn hashes them one by one, facts found
with shortcuts that skip only what cannot match, copies given their original's sentence data,
documents carried between alignment parts, and the copies of a story found retold aligned with
the part that finds it, as the round by round stage aligns them."""

from __future__ import annotations

import re

import numpy as np
import pytest

import dedup.pipeline
from dedup import Scanner
from dedup.evidence import _LOWER_WORD, _NAME, _NUMBER, _QUOTE, _name, matching_quotes, names, numbers, quotes, quotes_match
from dedup.load import load_path
from dedup.paraphrase import ParaphraseFinder, _monotone_matches
from dedup.records import PARAPHRASE, Document
from dedup.sentences import WORD, HashedTokens, _WordFacts, cross, murmur_keys, one_blas_thread
from dedup.settings import Settings
from dedup.sklearn_parts import murmurhash3_32
from dedup.text import _SENTENCE_END, _sentence_ends, sentences

from .conftest import FIXTURES, SEED_000, SEED_001

# Words of news text outside ASCII (the seeds have none): hashed one by one, as before.
NON_ASCII = ["são", "müller", "erdoğan", "łukasz", "café", "naïve", "zürich", "señor", "français", "øre"]


def _seed_words(seeds: dict[str, str]) -> list[str]:
    return list(dict.fromkeys(w for text in seeds.values() for w in WORD.findall(text.lower())))


def test_numpy_murmurhash_is_scikit_learns_on_every_seed_word_and_its_prefixes(seeds):
    keys = [w for w in _seed_words(seeds) if w.isascii()]
    keys += [k[:n] for k in keys[:200] for n in range(1, 6)] + [" " + k[:4] for k in keys[:200]]
    width = 4 * -(-max(map(len, keys)) // 4)
    rows = np.zeros((len(keys), width), dtype=np.uint8)
    for r, key in enumerate(keys):
        rows[r, :len(key)] = np.frombuffer(key.encode("ascii"), dtype=np.uint8)
    lengths = np.array([len(k) for k in keys], dtype=np.int64)
    assert murmur_keys(rows, lengths).tolist() == [murmurhash3_32(k, positive=True) for k in keys]


def test_word_facts_by_numpy_are_the_one_by_one_facts_non_ascii_words_included(seeds):
    words = _seed_words(seeds)
    assert sum(w.isascii() for w in words) > 500
    words = words[:500] + NON_ASCII[:5] + words[500:] + NON_ASCII[5:]
    fast = _WordFacts.of(words)
    slow = _WordFacts.one_by_one(sorted(words, key=lambda w: not w.isascii()))   # the order ``of`` lays out
    for name in ("hashes", "stop", "stems", "grams", "grams_bounds", "fours", "fours_bounds"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name


def test_character_grams_from_the_word_table_are_those_hashed_word_by_word(seeds):
    texts = [s for text in seeds.values() for s in re.split(r"(?<=[.!?])\s+", text)][:300]
    tokens = HashedTokens.of(texts)
    plain = HashedTokens(tokens.n_rows, tokens.rows, tokens.hashes, tokens.stop, tokens.stems, tokens.words)
    for fours_only in (False, True):
        for table, words in zip(tokens.chars(fours_only), plain.chars(fours_only)):
            assert np.array_equal(table, words)


# ``evidence``'s patterns as first written (each now starts with one character class).
_NAME_AS_WRITTEN = re.compile(r"\b(?:[A-Z][\w'’-]*[a-z0-9][\w'’-]*|[A-Z]{2,})(?:\s+(?:[A-Z][\w'’-]+|of|de|van|von)){0,4}")
_AS_WRITTEN = {
    _QUOTE: re.compile(r"[\u201c\"]([^\u201c\u201d\"\n]{3,200})[\u201d\"]|\u2018([^\u2018\u2019\n]{3,120})\u2019"),
    _NUMBER: re.compile(r"(?:[$€£¥]\s?)?\d[\d,.]*(?:\s?(?:%|(?:percent|per cent|billion|million|trillion|bn)\b))?",
                        re.I),
    _NAME: _NAME_AS_WRITTEN,
}


def _names_reference(text: str) -> set[str]:
    """``names`` as first written: every lower-case word of the text collected up front."""
    found, lower_words = set(), set(_LOWER_WORD.findall(text))
    for match in _NAME_AS_WRITTEN.finditer(text):
        words, name = _name(match.group())
        if len(words) == 1 and words[0].lower() in lower_words:
            continue
        if name:
            found.add(name)
    return found


@pytest.fixture(scope="module")
def newscycle() -> list[Document]:
    return sorted(load_path(FIXTURES / "newscycle").documents, key=lambda d: d.id)


def test_names_and_figures_by_their_shortcuts_are_the_full_rules_on_every_real_sentence(seeds, newscycle):
    texts = [text[s:e] for text in [*seeds.values(), *(d.text for d in newscycle)] for s, e in sentences(text)]
    assert len(texts) > 1000
    assert [names(t) for t in texts] == [_names_reference(t) for t in texts]
    documents = [*seeds.values(), *(d.text for d in newscycle)]   # long texts: no substring search
    assert [names(t) for t in documents] == [_names_reference(t) for t in documents]
    edge_cases = ["$ 5, £12bn, 3 per cent, 4.5%, $x and ¥, 2024.", "xMr Smith, AI and IBM's U.N.", '‘it’s "no" said',
                  "“an ‘inner’ one” and 'single' ‘quotes’ \"straight\"", "٣ digits, A1 B2c"]
    for pattern, as_written in _AS_WRITTEN.items():
        for t in [*documents, *texts, *edge_cases]:
            assert [(m.span(), m.groups()) for m in pattern.finditer(t)] == [
                (m.span(), m.groups()) for m in as_written.finditer(t)], (pattern.pattern, t[:80])
    with_digits = [t for t in texts if re.search(r"\d", t)]
    assert with_digits and all(numbers(t) for t in with_digits if re.search(r"\d{2}", t))
    assert all(not numbers(t) for t in texts if not re.search(r"\d", t))
    # a single capitalised word that is also written in lower case is an ordinary word
    assert "how" not in names("How it began. We know how.") and "meta" in names("Meta said so. Meta did.")


def test_quotes_match_when_matching_quotes_finds_any_on_every_pair_of_real_quoted_sentences(seeds, newscycle):
    found = [quotes(text[s:e]) for text in [*seeds.values(), *(d.text for d in newscycle)] for s, e in sentences(text)]
    quoted = [q for q in found if q][:150]
    assert len(quoted) > 50
    answers = [quotes_match(x, y) for x in quoted for y in quoted]
    assert answers == [bool(matching_quotes(x, y)) for x in quoted for y in quoted]
    assert any(answers) and not all(answers)
    assert quotes_match({"metastatic cancer spreads"}, {"metastatic cancer"})
    assert not quotes_match({"metastatic cancers"}, {"metastatic cancer"})   # whole words only


def test_a_quote_in_another_by_its_compiled_pattern_is_the_search_of_the_pattern_as_written(seeds, newscycle):
    """``_quote_in`` compiles each quote's whole-word pattern once: the same answers as searching
    the pattern written out, on every pair of real quotes and on their words as quotes."""
    from dedup.evidence import _quote_in

    found = sorted({q for text in [*seeds.values(), *(d.text for d in newscycle)] for q in quotes(text)})
    pieces = sorted({" ".join(q.split()[k:k + 2]) for q in found for k in range(len(q.split()))})
    pairs = [(x, y) for x in found for y in [*found, *pieces] if x != y and (x in y or y in x)]
    assert len(pairs) > 500
    written = [(x if len(x) <= len(y) else y) == (y if len(x) <= len(y) else x)
               or re.search(rf"\b{re.escape(min(x, y, key=len))}\b", max(x, y, key=len)) is not None
               for x, y in pairs]
    assert [_quote_in(x, y) for x, y in pairs] == written and any(written) and not all(written)


def test_content_cosines_before_and_after_full_preparation_are_the_same(seeds, newscycle):
    """``compare_many`` reuses the content-word cosines of its prefilter, taken on ``content_only``
    rows, in ``plan_sentences``: they must be what the prepared sentences give, to the bit."""
    docs = [Document(name, text) for name, text in sorted(seeds.items())] + newscycle[:20]
    context, analyses = Scanner().analyze(docs)
    finder = ParaphraseFinder()
    finder.prepare(analyses, context)
    finder.prepare_content(analyses)
    pairs = [(a, b) for a in analyses[:8] for b in analyses if a.id < b.id]
    before = [cross(finder.content(a), finder.content(b)) for a, b in pairs]
    finder.prepare_sentences(analyses[::2])   # in another batch than the prefilter's, half of them
    assert all(a.id in finder._sentences for a in analyses[::2])
    after = [cross(finder.content(a), finder.content(b)) for a, b in pairs]
    assert all(np.array_equal(x, y) for x, y in zip(before, after))
    assert sum(x.max(initial=0) > 0.5 for x in before) > 5
    a, b = finder.sentence_data(analyses[0]), finder.sentence_data(analyses[2])
    given = finder.plan_sentences(a, b, False, frozenset(), None, None, before[1])
    computed = finder.plan_sentences(a, b, False, frozenset(), None, None)
    assert pairs[1][1].id == analyses[2].id and np.array_equal(given.candidates, computed.candidates)


def test_sentences_prepared_from_the_words_the_content_check_found_are_those_prepared_afresh(seeds, newscycle):
    docs = [Document(name, text) for name, text in sorted(seeds.items())] + newscycle[:20]
    context, analyses = Scanner().analyze(docs)
    checked, fresh = ParaphraseFinder(), ParaphraseFinder()
    for finder in (checked, fresh):
        finder.prepare(analyses, context)
    checked.prepare_content(analyses[::2])
    assert set(checked._words) == {a.id for a in analyses[::2]}
    checked.prepare_sentences(analyses)   # half from the words found, half split now, in one batch
    fresh.prepare_sentences(analyses)
    for a in analyses:
        x, y = checked.sentence_data(a), fresh.sentence_data(a)
        assert x.rows.tokens[x.first:x.first + len(x.spans)] == y.rows.tokens[y.first:y.first + len(y.spans)]
        for name in ("stacked", "content", "names", "quotes"):
            p, q = x.matrix(name), y.matrix(name)
            assert all(np.array_equal(getattr(p, f), getattr(q, f)) for f in ("indptr", "indices", "data")), name
    checked.forget(a.id for a in analyses)
    assert not checked._words


def _monotone_matches_as_written(scores: np.ndarray) -> list[tuple[int, int]]:
    """``paraphrase._monotone_matches`` as first written: every row stepped, numpy scalars traced back."""
    n, m = scores.shape
    best = np.zeros((n + 1, m + 1))
    for i in range(1, n + 1):
        take = np.where(scores[i - 1] > 0, best[i - 1, :-1] + scores[i - 1], -1.0)
        best[i, 1:] = np.maximum.accumulate(np.maximum(best[i - 1, 1:], take))
    matches, i, j = [], n, m
    while i > 0 and j > 0:
        if scores[i - 1, j - 1] > 0 and best[i, j] == best[i - 1, j - 1] + scores[i - 1, j - 1]:
            matches.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif best[i, j] == best[i - 1, j]:
            i -= 1
        else:
            j -= 1
    return matches[::-1]


def test_monotone_matches_skipping_empty_rows_are_those_of_every_row_stepped(seeds, newscycle):
    docs = [Document(name, text) for name, text in sorted(seeds.items())] + newscycle[:12]
    context, analyses = Scanner().analyze(docs)
    finder = ParaphraseFinder()
    finder.prepare(analyses, context)
    finder.prepare_content(analyses)
    weights = []
    for a in analyses[:10]:
        for b in analyses:
            cosines = cross(finder.content(a), finder.content(b))
            for cut in (0.3, 0.5, 0.7):   # sparse, as decided sentence pairs are; ties among copies' sentences
                weights.append(np.where(cosines >= cut, cosines, 0).astype(np.float32))
    assert sum(len(_monotone_matches_as_written(w)) > 2 for w in weights) > 50
    assert [_monotone_matches(w) for w in weights] == [_monotone_matches_as_written(w) for w in weights]


def test_sentence_ends_tried_only_where_one_can_start_are_every_match_of_the_pattern(seeds, newscycle):
    texts = [*seeds.values(), *(d.text for d in newscycle)]
    texts += ["He left!あの日. ok", "Wow!」これは", "a.\n\nb", "東京。大阪！京都", "end!?  next", "A.B. C", "q?\u300dの",
              "no end", "!!あ", "。。。\n\n", "!\u300d\u300d\n", "Mr. X. Dr.\nY", ""]
    found = [[(m.span(), m.group()) for m in _sentence_ends(t)] for t in texts]
    assert found == [[(m.span(), m.group()) for m in _SENTENCE_END.finditer(t)] for t in texts]
    assert sum(map(len, found)) > 1000 and ((8, 8), "") in found[len(texts) - 13]   # an empty one, before CJK text


def test_a_verbatim_copy_gets_its_originals_sentence_data(seeds):
    docs = [Document(SEED_000, seeds[SEED_000]), Document("reprint", seeds[SEED_000]),
            Document(SEED_001, seeds[SEED_001])]
    context, analyses = Scanner().analyze(docs)
    finder = ParaphraseFinder()
    finder.prepare(analyses, context)
    finder.prepare_sentences(analyses[:1])
    finder.prepare_sentences(analyses)
    original, reprint, other = (finder.sentence_data(a) for a in analyses)
    assert reprint is original and other is not original
    assert finder.align_sentences(reprint, other, anchored=True) == finder.align_sentences(original, other,
                                                                                          anchored=True)


def test_carried_documents_outlive_forget_until_no_longer_carried(seeds):
    docs = [Document(name, text) for name, text in sorted(seeds.items())]
    context, analyses = Scanner().analyze(docs)
    finder = ParaphraseFinder()
    finder.prepare(analyses, context)
    finder.prepare_sentences(analyses)
    ids = [a.id for a in analyses]
    finder.carry(ids[:2])
    assert len(finder.sentence_data(analyses[0]).rows) == len(analyses[0].sentences)   # rows of its own
    finder.forget(ids)
    assert set(finder._sentences) == set(ids[:2])
    finder.carry(ids[1:2], needed=ids[:1])   # the first is still needed here: kept, forgettable again
    assert set(finder._sentences) == set(ids[:2])
    finder.forget(ids)
    assert set(finder._sentences) == set(ids[1:2])
    finder.carry(())
    assert not finder._sentences


class _RoundByRound(Scanner):
    """A scanner that aligns as an engine aligning elsewhere does: the stage's two rounds apart."""

    aligns_copies_in_parts = False


def test_copies_aligned_with_the_part_that_finds_their_story_retold_match_the_second_round(seeds, newscycle,
                                                                                          monkeypatch):
    extra = [Document("reprint-000", seeds[SEED_000]), Document("reprint-001", seeds[SEED_001]),
             Document("second-reprint-001", seeds[SEED_001])]
    corpus = newscycle + [Document(name, text) for name, text in seeds.items()] + extra
    monkeypatch.setattr(dedup.pipeline, "MIN_PARALLEL_ALIGN", 0)
    monkeypatch.setattr(dedup.pipeline, "ALIGN_BATCH", 3)
    monkeypatch.setattr(dedup.pipeline, "ALIGN_PART", 7)
    reports = [scanner(Settings.of(jobs=jobs)).scan(corpus).to_json()
               for scanner in (Scanner, _RoundByRound) for jobs in (1, 2)]
    for report in reports:
        del report["parameters"]
    assert reports[0] == reports[1] == reports[2] == reports[3]
    inherited = {(p["a"], p["b"]) for p in reports[0]["pairs"] if p["relation"] == PARAPHRASE}
    assert {(SEED_001, "reprint-000"), (SEED_000, "reprint-001")} <= inherited



def _numpy_blas_threads() -> set[int]:
    """The thread counts of numpy's BLAS (the one ``cross``'s products run on; scipy may load its own)."""
    from threadpoolctl import threadpool_info

    return {info["num_threads"] for info in threadpool_info()
            if info["user_api"] == "blas" and "numpy" in info["filepath"]} or {1}   # not a wheel: not told apart


@one_blas_thread
def _blas_threads_and_cosines(rows, parts):
    return _numpy_blas_threads(), [cross(rows.content, rows.content) for _ in parts]


def test_sentence_cosines_on_one_blas_thread_are_the_same_here_and_in_workers_whatever_blas_had(newscycle):
    """The alignment runs its products on one BLAS thread (``one_blas_thread``): the content
    cosines of every pair of sentences of 40 real articles (one product, large enough for BLAS to
    split) are the same to the bit in this process, where BLAS had two threads, and in two
    fan-out workers; and they are the products of a single thread."""
    from threadpoolctl import threadpool_limits

    from dedup.fanout import map_parts
    from dedup.sentences import SentenceModel, SentenceRows

    texts = [d.text[s:e] for d in newscycle[:40] for s, e in sentences(d.text)]
    rows = SentenceRows.of(texts, SentenceModel.load().weights)
    assert len(texts) > 500
    with threadpool_limits(2, user_api="blas"):   # as on a machine of two cores or more
        here = _blas_threads_and_cosines(rows, [0])
    with threadpool_limits(1, user_api="blas"):
        single = cross(rows.content, rows.content)
    found = [here, *map_parts(_blas_threads_and_cosines, rows, [[0], [1]], jobs=2, min_parallel=0)]
    assert [threads for threads, _ in found] == [{1}] * 3
    assert all(np.array_equal(single, cosines) for _, (cosines,) in found) and (single > 0.5).sum() > len(texts)


def test_a_pairs_sentences_are_compared_on_one_blas_thread_in_compare_and_in_align_texts(seeds, monkeypatch):
    from threadpoolctl import threadpool_limits

    import dedup.paraphrase

    seen = set()

    def recorded(*args, **kwargs):
        seen.update(_numpy_blas_threads())
        return cross(*args, **kwargs)

    monkeypatch.setattr(dedup.paraphrase, "cross", recorded)
    context, (a, b) = Scanner().analyze([Document(SEED_000, seeds[SEED_000]), Document(SEED_001, seeds[SEED_001])])
    finder = ParaphraseFinder()
    finder.prepare([a, b], context)
    with threadpool_limits(2, user_api="blas"):
        aligned = finder.compare(a, b, context)
        texts = finder.align_texts(seeds[SEED_000], seeds[SEED_001], anchored=True)
    assert seen == {1} and aligned.alignments and texts.alignments


def test_counts_laid_out_row_by_row_are_scipys_coordinate_counts_on_real_sentences(newscycle):
    """``counts`` builds rows whose entries come in row order without scipy's COO step: the same
    arrays (indices, pointers, values and their types) as scipy's (row, column) constructor, for
    every block of the sentences of real articles, and for entries out of row order."""
    import scipy.sparse as sp

    from dedup.sentences import HASHED, counts

    texts = [d.text[s:e] for d in newscycle[:30] for s, e in sentences(d.text)]
    words = HashedTokens.of(texts)
    unigrams, bigrams = words.grams(1), words.grams(2)
    blocks = [words.chars(), words.chars(fours_only=True), unigrams, bigrams, words.grams(4),
              words.without_stop_words().grams(1),
              (np.concatenate([unigrams[0], bigrams[0]]), np.concatenate([unigrams[1], bigrams[1]])),   # unordered
              (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))]
    for rows, columns in blocks:
        for binary in (False, True):
            expected = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, columns)), shape=(len(texts), HASHED))
            expected.sum_duplicates()
            if binary:
                expected.data[:] = 1.0
            found = counts(rows, columns, len(texts), binary=binary)
            assert found.has_canonical_format
            for name in ("indptr", "indices", "data"):
                assert getattr(found, name).dtype == getattr(expected, name).dtype
                assert np.array_equal(getattr(found, name), getattr(expected, name))
    assert counts(*words.chars(), len(texts)).data.max() > 1


def test_words_in_order_kept_as_one_array_give_each_sentences_words_and_the_pairwise_lcs(newscycle):
    """Each sentence's word hashes laid end to end (``Ragged``) are the words of that sentence alone,
    also after ``take`` and ``concat`` as the alignment gathers rows; and the LCS and word edit
    distance read from the gathered arrays (``_lane_scores``, what ``pair_features`` uses) equal
    the pair-by-pair functions on the words as tuples, for real sentence pairs of every length class."""
    from dedup.paraphrase import SentenceModel
    from dedup.sentences import SentenceRows, _lane_scores, _lcs, _word_edits

    texts = [d.text[s:e] for d in newscycle[:12] for s, e in sentences(d.text)]
    rows = SentenceRows.of(texts, SentenceModel.load().weights)
    expected = [tuple(HashedTokens.of([t]).hashes.tolist()) for t in texts]
    assert rows.tokens == tuple(expected) and len(rows) == len(texts)
    half = len(texts) // 2
    gathered = SentenceRows.concat([(rows, half, len(texts)), (rows.take(0, half), 0, half)])
    assert gathered.tokens == tuple(expected[half:] + expected[:half])
    rng = np.random.default_rng(7)
    picked_a, picked_b = rng.integers(0, len(texts), 400), rng.integers(0, len(texts), 400)
    longest = int(np.argmax([len(t) for t in expected]))
    assert len(expected[longest]) > 64   # a pair over a lane's 64 words is done one by one
    picked_a[:3], picked_b[:3] = longest, [longest, 0, picked_b[3]]
    words = gathered.words_in_order
    in_gathered = (np.arange(len(texts)) - half) % len(texts)   # sentence k's row in ``gathered``
    a, b = in_gathered[picked_a], in_gathered[picked_b]
    lcs, edits = _lane_scores(words.gather(a), words.lengths(a), words.gather(b), words.lengths(b))
    pairs = [(expected[i], expected[j]) for i, j in zip(picked_a.tolist(), picked_b.tolist())]
    assert lcs.tolist() == [_lcs(x, y) for x, y in pairs]
    assert edits.tolist() == [_word_edits(x, y) for x, y in pairs]
    assert lcs[0] == len(expected[longest]) and (lcs > 0).sum() > 100 and edits.max() > 20   # real overlaps
