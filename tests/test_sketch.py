"""The batched sketch stage computes exactly the scheme the index stores (``SHINGLE_HASH``,
``TOKENIZER``, affine32 MinHash): a plain per-word reference written here, over real text."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from datasketch import MinHash

from dedup import fanout, workers
from dedup.core import Context, analyze, analyze_many
from dedup.records import Document
from dedup.text import normalize_word, tokenize, word_keys

from .conftest import FIXTURES

MASK64 = (1 << 64) - 1
POLY = 0x9E3779B97F4A7C15


def reference_shingles(text: str, chrome, k: int = 5) -> tuple[list[int], list[int]]:
    """Shingle hashes and first kept tokens, one Python int at a time: BLAKE2b of each normalised
    word, a polynomial over uint64, folded to 32 bits; no shingle across chrome."""
    tokens = tokenize(text)
    kept, segments, segment = [], [], 0
    for word, start in zip(tokens.words, tokens.starts.tolist()):
        if any(s <= start < e for s, e in chrome):
            segment += 1
            continue
        kept.append(int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little"))
        segments.append(segment)
    hashes, first = [], []
    for i in range(len(kept) - k + 1):
        if segments[i] != segments[i + k - 1]:
            continue
        combined = 0
        for h in kept[i:i + k]:
            combined = (combined * POLY + h) & MASK64
        hashes.append(((combined >> 32) ^ combined) & 0xFFFFFFFF)
        first.append(i)
    return hashes, first


def datasketch_signature(hashes: list[int], num_perm: int = 128, seed: int = 1) -> np.ndarray:
    m = MinHash(num_perm=num_perm, seed=seed, scheme="affine32", hashfunc=int)
    m.update_batch(hashes)
    return m.hashvalues


def real_texts(seeds) -> list[Document]:
    """The seeds, real news from the news-cycle fixture (with site chrome), text in scripts without
    spaces and with accented words, and the degenerate ones, in one batch."""
    rows = [json.loads(line) for line in (FIXTURES / "newscycle" / "corpus.jsonl").read_text(encoding="utf-8")
            .splitlines()[:25]]
    docs = [Document(name, text) for name, text in seeds.items()]
    docs += [Document(r["id"], r["text"]) for r in rows]
    docs += [Document("mixed", "Le café de Zoë: 東京都は十日、感染者を確認した。The firm’s CAFÉ said “ﬁne” — " * 12),
             Document("empty", ""), Document("short", "Four words only here"),
             Document("ascii-after-accent", "naïve " + seeds[next(iter(seeds))][:600])]
    return docs


def test_signatures_equal_the_per_word_reference_and_datasketch(seeds):
    docs = real_texts(seeds)
    context = Context.fit(docs)
    first = analyze_many(docs, context)   # every word new: hashed one by one
    again = analyze_many(docs, context)   # every word remembered (most in the word table)
    assert any(a.chrome for a in first), "the fixture should exercise chrome"
    step = context.minhasher.step
    for doc, a in zip(docs * 2, first + again):
        hashes, first = reference_shingles(doc.text, a.chrome)
        assert a.fingerprint.shingles.tolist() == hashes, doc.id
        assert a.fingerprint.shingle_tokens.tolist() == first, doc.id
        assert a.fingerprint.shingles.dtype == np.uint32 and a.sketch.windows.dtype == np.uint32
        if not hashes:
            assert a.sketch.empty and (a.sketch.signature == 0xFFFFFFFF).all()
            continue
        assert np.array_equal(a.sketch.signature, datasketch_signature(hashes)), doc.id
        n_blocks = -(-len(hashes) // step)
        assert len(a.sketch.windows) == max(1, n_blocks - 1)
        for i in {0, len(a.sketch.windows) // 2, len(a.sketch.windows) - 1}:
            start, end = a.sketch.window_shingles[i].tolist()
            assert (start, end) == (i * step, min(i * step + 2 * step, len(hashes)))
            assert np.array_equal(a.sketch.windows[i], datasketch_signature(hashes[start:end])), doc.id


def test_a_batch_gives_what_one_document_at_a_time_gives(seeds):
    docs = real_texts(seeds)
    context = Context.fit(docs)
    for batched, doc in zip(analyze_many(docs, context), docs):
        alone = analyze(doc, context)
        assert batched.chrome == alone.chrome
        for name in ("token_starts", "token_ends", "segments", "shingles", "shingle_tokens"):
            assert np.array_equal(getattr(batched.fingerprint, name), getattr(alone.fingerprint, name)), name
        for name in ("signature", "windows", "window_shingles"):
            assert np.array_equal(getattr(batched.sketch, name), getattr(alone.sketch, name)), name


def test_word_keys_of_a_batch_are_each_texts_tokens(seeds):
    texts = [d.text for d in real_texts(seeds)]
    found = word_keys(texts)
    assert found.counts.tolist() == [len(tokenize(t)) for t in texts]
    at = 0
    for text in texts:
        tokens = tokenize(text)
        n = len(tokens)
        assert np.array_equal(found.starts[at:at + n], tokens.starts)
        assert np.array_equal(found.ends[at:at + n], tokens.ends)
        assert found.keys()[at:at + n] == [normalize_word(w).encode("utf-8") for w in tokens.words]
        at += n


@pytest.mark.slow
def test_worker_processes_send_back_the_same_analyses(seeds, monkeypatch):
    docs = real_texts(seeds) * 3
    context = Context.fit(docs)
    monkeypatch.setattr(fanout, "MIN_PARALLEL", 10)
    monkeypatch.setattr(workers, "CHUNK", 16)
    here = analyze_many(docs, context)
    there = list(workers.analyze_all(docs, context, jobs=2))
    assert [a.document for a in there] == docs
    for x, y in zip(here, there):
        assert x.chrome == y.chrome
        for owner in ("fingerprint", "sketch"):
            for name, value in vars(getattr(x, owner)).items():
                other = getattr(getattr(y, owner), name)
                assert (np.array_equal(value, other) and value.dtype == other.dtype) if isinstance(value, np.ndarray) \
                    else value == other
