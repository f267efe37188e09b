"""Property tests over arbitrary Unicode and arbitrary bytes (hypothesis, short runs).

The guarantees: every token span slices the text to characters whose normalisation is
the token; sentence spans are ordered, disjoint, trimmed and inside the text; loading
any bytes written to a file gives documents or skipped records, never an exception."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dedup
from dedup.load import Corpus, LoadWarning, extract_html, iter_path, load_path
from dedup.records import Document, Skipped
from dedup.text import _in_char_scripts, normalize_word, sentences, tokenize

import numpy as np

EXAMPLES = int(os.environ.get("DEDUP_FUZZ_EXAMPLES", "150"))   # raise it for a longer fuzz run
QUICK = settings(max_examples=EXAMPLES, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow])
SLOWER = settings(max_examples=max(EXAMPLES // 4, 10), deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow])

# Text that mixes the hard cases: CJK and kana, Hangul, Thai (with its combining marks),
# Latin with ligatures and combining accents, fullwidth forms, sentence ends, newlines.
MIXED = st.text(alphabet=st.one_of(
    st.sampled_from(list("东京年奥运会。！？「」ひらがなカタカナー한국어ภาษาไทยั่ ﬁé\u0301ÅＴｈｅ１２.!?\"'’” \n\t\u3000_-")),
    st.characters(codec="utf-8"),
), max_size=200)
ANY_TEXT = st.one_of(st.text(max_size=300), MIXED)


@QUICK
@given(ANY_TEXT)
def test_token_spans_slice_to_their_normalised_words(text):
    tokens = tokenize(text)
    starts, ends = tokens.starts.tolist(), tokens.ends.tolist()
    assert len(starts) == len(ends) == len(tokens.words)
    previous_end = 0
    for word, start, end in zip(tokens.words, starts, ends):
        assert previous_end <= start < end <= len(text)
        piece = text[start:end]
        assert word == normalize_word(piece)
        assert re.fullmatch(r"\w+", piece)
        previous_end = end
    # Every \w character is in some token; outside scripts without spaces, tokens are the regex's.
    covered = sum(e - s for s, e in zip(starts, ends))
    assert covered == sum(len(m.group()) for m in re.finditer(r"\w+", text))
    codes = np.array([ord(c) for c in text], dtype=np.uint32)
    if not len(codes) or not _in_char_scripts(codes).any():
        assert list(zip(starts, ends)) == [m.span() for m in re.finditer(r"\w+", text)]


@QUICK
@given(ANY_TEXT)
def test_sentence_spans_are_ordered_disjoint_trimmed_and_inside(text):
    previous_end = 0
    for start, end in sentences(text):
        assert previous_end <= start < end <= len(text)
        piece = text[start:end]
        assert piece == piece.strip()
        previous_end = end


SUFFIXES = st.sampled_from([".txt", ".md", ".html", ".jsonl"])
BYTES = st.one_of(
    st.binary(max_size=600),
    ANY_TEXT.map(lambda t: t.encode("utf-8")),
    st.tuples(ANY_TEXT, st.sampled_from(["utf-16", "utf-16-le", "utf-32", "utf-8-sig", "gb18030", "shift_jis"]))
      .map(lambda pair: pair[0].encode(pair[1], "ignore")),
    st.lists(st.fixed_dictionaries({"id": st.one_of(st.text(max_size=5), st.integers(), st.none()),
                                    "text": st.one_of(ANY_TEXT, st.integers()),
                                    "date": st.one_of(st.text(max_size=8), st.floats(), st.none(),
                                                      st.dictionaries(st.text(max_size=2), st.integers(),
                                                                      max_size=2))}),
             max_size=4).map(lambda rows: "\n".join(__import__("json").dumps(r) for r in rows).encode()),
)


def check_items(items: list) -> None:
    for item in items:
        assert isinstance(item, (Document, Skipped, LoadWarning))
        if isinstance(item, Document):
            assert item.text.strip() and isinstance(item.encoding, str)
        else:
            assert item.reason


@QUICK
@given(data=BYTES, suffix=SUFFIXES)
def test_loading_any_bytes_never_raises(data, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "input" + suffix)
        path.write_bytes(data)
        items = list(iter_path(folder, max_bytes=400))
        check_items(items)
        corpus = load_path(path)
        assert isinstance(corpus, Corpus)
        check_items(corpus.documents + corpus.skipped + corpus.warnings)
        if suffix != ".jsonl":
            assert len(corpus.documents) + len(corpus.skipped) >= 1


@QUICK
@given(ANY_TEXT)
def test_html_extraction_never_raises(text):
    page = extract_html(f"<html><head><title>{text[:20]}<body><p>{text}")
    assert isinstance(page.text, str) and isinstance(page.title, str)
    extract_html(text)


@SLOWER
@given(st.lists(st.tuples(BYTES, SUFFIXES), min_size=1, max_size=3))
def test_scan_never_raises_on_any_files(files):
    with tempfile.TemporaryDirectory() as folder:
        for i, (data, suffix) in enumerate(files):
            Path(folder, f"f{i}{suffix}").write_bytes(data)
            if suffix != ".jsonl":
                Path(folder, f"f{i}-copy{suffix}").write_bytes(data)   # so that pairs are found
        report = dedup.Scanner(paraphrase=False).scan(load_path(folder))
        texts = {d.id: d.text for d in report.documents}
        for pair in report.pairs:
            for p in pair.passages:
                assert texts[pair.a][p.a_start:p.a_end] == p.text


@QUICK
@given(st.lists(ANY_TEXT, max_size=4))
def test_word_keys_of_a_batch_equal_each_texts_tokens(texts):
    from dedup.text import word_keys
    found = word_keys(texts)
    expected = [tokenize(t) for t in texts]
    assert found.counts.tolist() == [len(t) for t in expected]
    assert found.starts.tolist() == [s for t in expected for s in t.starts.tolist()]
    assert found.ends.tolist() == [e for t in expected for e in t.ends.tolist()]
    assert found.keys() == [w.encode("utf-8") for t in expected for w in t.words]
