"""What the scan keeps in memory, smaller, with the same answers, on real text (the seeds and the
news-cycle fixture): offsets and indices as ``sketch.POSITION``, window signatures dropped once
the LSH candidates are made, bucket keys built a row at a time and collected a band at a time."""

from __future__ import annotations

import numpy as np
import pytest

from dedup import Scanner
from dedup.candidates import NumpyEngine, banding, bucket_keys
from dedup.core import Context, analyze_many, blank_spans
from dedup.load import Corpus, load_path
from dedup.records import Document
from dedup.sketch import POSITION, as_positions
from dedup.text import normalize_word, tokenize

from .conftest import FIXTURES
from .test_scale import _pairs_bucket_by_bucket


@pytest.fixture(scope="module")
def newscycle() -> list[Document]:
    return sorted(load_path(FIXTURES / "newscycle").documents, key=lambda d: d.id)


def test_fingerprint_positions_are_narrow_and_still_slice_the_words(seeds):
    docs = [Document(name, text) for name, text in seeds.items()]
    for doc, a in zip(docs, analyze_many(docs, Context.fit(docs))):
        fp = a.fingerprint
        for name in ("token_starts", "token_ends", "segments", "shingle_tokens"):
            assert getattr(fp, name).dtype == POSITION, name
        assert a.sketch.window_shingles.dtype == POSITION
        tokens = tokenize(doc.text)
        word_at = {(s, e): w for w, s, e in zip(tokens.words, tokens.starts.tolist(), tokens.ends.tolist())}
        kept = list(zip(fp.token_starts.tolist(), fp.token_ends.tolist()))
        assert fp.n_tokens > 100 and kept == sorted(kept)
        assert [word_at[span] for span in kept] == [normalize_word(doc.text[s:e]) for s, e in kept]


def test_an_offset_past_position_is_refused_not_wrapped():
    beyond = np.array([0, int(np.iinfo(POSITION).max) + 1], dtype=np.int64)
    with pytest.raises(ValueError, match="does not fit int32"):
        as_positions(beyond)
    assert as_positions(beyond[:1]).dtype == POSITION


def test_without_windows_keeps_all_but_the_window_signatures(newscycle):
    _, analyses = Scanner().analyze(newscycle[:40])
    for a in analyses:
        lean = a.without_windows()
        assert lean.sketch.windows is None and a.sketch.windows is not None   # the original is left as it was
        assert lean.fingerprint is a.fingerprint and lean.document is a.document and lean.chrome == a.chrome
        assert np.array_equal(lean.sketch.signature, a.sketch.signature)
        assert np.array_equal(lean.sketch.window_shingles, a.sketch.window_shingles)
        assert lean.sketch.empty == a.sketch.empty
    assert not any(a.sketch.empty for a in analyses)


def test_no_stage_after_the_candidates_reads_window_signatures(newscycle):
    """The scan drops them before aligning; concluding with and without them reports the same."""
    scanner = Scanner()
    documents = newscycle[:120]
    context, analyses = scanner.analyze(documents)
    candidates = scanner.candidates(analyses, context)
    lean = [a.without_windows() for a in analyses]
    kept = scanner.conclude(Corpus(documents=documents), context, analyses,
                            scanner.verified(analyses, context, candidates))
    context, analyses = scanner.analyze(documents)
    dropped = scanner.conclude(Corpus(documents=documents), context, lean, scanner.verified(lean, context, candidates))
    assert len(kept.pairs) > 20
    assert dropped.to_json() == kept.to_json()
    assert scanner.scan(documents).to_json() == kept.to_json()


def test_bucket_keys_are_the_polynomial_of_each_band(newscycle):
    _, analyses = Scanner().analyze(newscycle[:20])
    windows = np.concatenate([a.sketch.windows for a in analyses])
    bands, rows = banding(0.3, windows.shape[1])
    keys = bucket_keys(windows, bands, rows, table=1)
    mask = (1 << 64) - 1
    for n in (0, len(windows) // 2, len(windows) - 1):
        for band in range(bands):
            key = 0
            for value in windows[n, band * rows:(band + 1) * rows].tolist():
                key = (key * 0x9E3779B97F4A7C15 + value) & mask
            assert int(keys[n, band]) == (key * 0xD6E8FEB86659FD93 + band + 1001) & mask


@pytest.mark.parametrize("max_bucket", [2, 200])
def test_windows_collected_band_by_band_collide_as_the_whole_table(newscycle, max_bucket):
    context, analyses = Scanner().analyze(newscycle[:150])
    windows = np.concatenate([a.sketch.windows for a in analyses])
    owners = np.repeat(np.arange(len(analyses)), [len(a.sketch.windows) for a in analyses])
    found = NumpyEngine(context.minhasher.num_perm, max_bucket).colliding(windows, owners, 0.3)
    keys = bucket_keys(windows, *banding(0.3, context.minhasher.num_perm))
    assert len(found) > 10
    assert found == _pairs_bucket_by_bucket(keys.ravel(), np.repeat(owners, keys.shape[1]), max_bucket)


@pytest.mark.parametrize("rows_per_block", [7, 100, 1_000_000])
def test_windows_keyed_block_by_block_collide_as_one_array(newscycle, rows_per_block):
    """The scan hands each document's windows over unjoined (no second ~1 GB copy at 100k articles);
    however they are cut into blocks, the buckets, and so the pairs, are those of one array."""
    from dedup.candidates import _band_major_keys
    context, analyses = Scanner().analyze(newscycle[:150])
    per_document = [a.sketch.windows for a in analyses]
    windows = np.concatenate(per_document)
    owners = np.repeat(np.arange(len(analyses)), [len(w) for w in per_document])
    bands, rows = banding(0.3, context.minhasher.num_perm)
    keyed = _band_major_keys(per_document, len(windows), bands, rows, rows_per_block=rows_per_block)
    assert np.array_equal(keyed, bucket_keys(windows, bands, rows).T)
    engine = NumpyEngine(context.minhasher.num_perm)
    assert engine.colliding(per_document, owners, 0.3) == engine.colliding(windows, owners, 0.3)
    with pytest.raises(ValueError, match="signature rows"):
        _band_major_keys(per_document, len(windows) + 1, bands, rows)


def test_evidence_text_blanks_chrome_without_keeping_a_second_copy(newscycle):
    _, analyses = Scanner().analyze(newscycle)
    with_chrome = [a for a in analyses if a.chrome]
    assert len(with_chrome) > 10, "the fixture's outlet furniture is chrome"
    for a in with_chrome:
        chars = list(a.document.text)
        for start, end in a.chrome:
            chars[start:end] = "\n" * (end - start)
        assert a.evidence_text == "".join(chars) != a.document.text
        assert "evidence_text" not in vars(a)   # made when asked, not held beside the text
    overlapping = blank_spans("one two three four", [(4, 13), (0, 7), (16, 18)])
    assert overlapping == "\n" * 13 + " fo\n\n"


def test_a_document_kept_for_later_pairs_holds_rows_of_its_own_and_aligns_alike(seeds):
    """The scan keeps the documents of a copied story for a second round of pairs; their sentence
    rows are copied out of their batch (so the batch's matrices can go), and align as before."""
    from dedup.paraphrase import ParaphraseFinder

    from .conftest import SEED_000, SEED_001, SEED_002
    docs = [Document(id=name, text=seeds[name]) for name in (SEED_000, SEED_001, SEED_002)]
    context, analyses = Scanner().analyze(docs)
    finder = ParaphraseFinder()
    finder.prepare(analyses, context)
    finder.prepare_sentences(analyses)
    a, b = (finder.sentence_data(x) for x in analyses[:2])
    assert a.rows is b.rows and len(a.rows) > len(a.spans)   # prepared in one batch
    own = a.detached()
    assert len(own.rows) == len(own.spans) == len(a.spans)
    assert not np.shares_memory(own.rows.stacked.data, a.rows.stacked.data)
    assert not np.shares_memory(own.rows.sizes, a.rows.sizes)
    aligned = finder.align_sentences(a, b, anchored=True)
    assert aligned.alignments, "the seeds' retelling aligns"
    assert finder.align_sentences(own, b, anchored=True) == aligned

    kept = ParaphraseFinder()
    kept.prepare(analyses, context)
    kept.retain([analyses[0].id])
    kept.prepare_sentences(analyses)
    assert len(kept.sentence_data(analyses[0]).rows) == len(a.spans)
    assert kept.sentence_data(analyses[1]).rows is kept.sentence_data(analyses[2]).rows
