"""The align stage on small real-text inputs: what makes a shared passage, and what does not."""

from __future__ import annotations

import random

from dedup.core import Context, analyze, verify_verbatim
from dedup.records import Document
from synth import edit_words, word_slice

from .conftest import SEED_001, SEED_002

CONTEXT = Context()


def overlap_of(a: str, b: str):
    return verify_verbatim(analyze(Document("a", a), CONTEXT), analyze(Document("b", b), CONTEXT), CONTEXT)


def test_identical_texts_share_one_passage_covering_both(seeds):
    text = seeds[SEED_002]
    overlap = overlap_of(text, text)
    assert len(overlap.passages) == 1
    assert overlap.containment_a_in_b > 0.95 and overlap.containment_b_in_a > 0.95
    assert overlap.jaccard == 1.0


def test_an_excerpt_inside_another_article_is_one_passage_with_offsets_into_both(seeds):
    clip = word_slice(seeds[SEED_002], 400, 80)   # a stretch of body text without captions
    host = seeds[SEED_001] + "\n\n" + clip + "\n\nMore reporting followed."
    overlap = overlap_of(clip, host)
    (passage,) = overlap.passages
    assert passage.words >= 75
    assert clip[passage.a_start:passage.a_end].split() == host[passage.b_start:passage.b_end].split()
    # Containment is asymmetric: the clip lies inside the host, not the other way.
    assert overlap.containment_a_in_b > 0.9 and overlap.containment_b_in_a < 0.3


def test_a_shared_phrase_shorter_than_min_passage_words_is_not_a_passage(seeds):
    phrase = "according to a bombshell report"   # five words, shared, but a stock phrase
    a = seeds[SEED_001] + " " + phrase
    b = "The company declined to comment " + phrase + " published on Friday."
    assert overlap_of(a, b).passages == ()


def test_small_edits_do_not_split_a_copy_into_fragments(seeds):
    text = seeds[SEED_002]
    edited = edit_words(text, 0.10, random.Random(1))
    overlap = overlap_of(text, edited)
    assert len(overlap.passages) <= 3
    assert min(overlap.containment_a_in_b, overlap.containment_b_in_a) > 0.8


def test_unrelated_articles_share_nothing(seeds):
    overlap = overlap_of(seeds[SEED_001], seeds[SEED_002])
    assert overlap.passages == () and overlap.containment_a_in_b == 0.0
