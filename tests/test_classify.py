"""The decision step: the only place that names relations.  Hand-built evidence, one rule at a time."""

from __future__ import annotations

import dataclasses

import pytest

from dedup.align import Overlap
from dedup.classify import decide, make_pair, with_direction
from dedup.core import PairEvidence
from dedup.paraphrase import SentenceEvidence
from dedup.records import (A_FROM_B, DUPLICATE, EXCERPT, OVERLAP, PARAPHRASE, Alignment, Direction,
                           Passage)
from dedup.settings import RelationSettings

RULES = RelationSettings()
PASSAGE = Passage(0, 120, 10, 130, "Meta paid billions to bring billionaire AI prodigy Alexandr Wang on board", 12)


def evidence(a_in_b: float = 0.0, b_in_a: float = 0.0, aligned: tuple[float, float] | None = None,
             sentences: int = 5) -> PairEvidence:
    overlap = Overlap((PASSAGE,), a_in_b, b_in_a, 0.1) if a_in_b or b_in_a else Overlap()
    found = None
    if aligned is not None:
        alignments = tuple(Alignment(i * 10, i * 10 + 9, i * 10, i * 10 + 9, 0.8) for i in range(sentences))
        found = SentenceEvidence(alignments, aligned[0], aligned[1], 0.4, ("5 sentences aligned",))
    return PairEvidence("a", "b", overlap, found)


@pytest.mark.parametrize("a_in_b, b_in_a, relation", [
    (0.95, 0.90, DUPLICATE),   # both covered
    (0.95, 0.30, EXCERPT),     # only one covered: it lies inside the other
    (0.30, 0.95, EXCERPT),
    (0.30, 0.20, OVERLAP),     # shared passages, neither covered
])
def test_verbatim_relations_from_containment(a_in_b, b_in_a, relation):
    assert decide(evidence(a_in_b, b_in_a), RULES).relation == relation


def test_nothing_shared_is_no_pair():
    assert decide(evidence(), RULES) is None
    assert decide(evidence(aligned=(0.05, 0.05), sentences=1), RULES) is None


def test_aligned_sentences_without_verbatim_text_are_a_paraphrase():
    decision = decide(evidence(aligned=(0.4, 0.5)), RULES)
    assert decision.relation == PARAPHRASE and decision.uses_sentences


def test_too_few_aligned_sentences_are_not_a_paraphrase():
    assert decide(evidence(aligned=(0.4, 0.5), sentences=2), RULES) is None
    assert decide(evidence(aligned=(0.05, 0.5)), RULES) is None   # one side barely touched


def test_an_overlap_becomes_a_paraphrase_only_when_retold_beyond_its_passages():
    retold = decide(evidence(0.25, 0.2, aligned=(0.6, 0.7)), RULES)
    assert retold.relation == PARAPHRASE
    assert any("verbatim passages cover only 25%" in line for line in retold.evidence)
    # An article quoting a passage of another: sentences align no further than the passage.
    assert decide(evidence(0.25, 0.2, aligned=(0.3, 0.3)), RULES).relation == OVERLAP
    # Mostly verbatim (a reworded copy, a partial reprint): stays an overlap however well sentences align.
    assert decide(evidence(0.6, 0.6, aligned=(0.9, 0.95)), RULES).relation == OVERLAP


def test_duplicates_and_excerpts_stay_verbatim_relations_whatever_the_sentences_say():
    assert decide(evidence(0.95, 0.9, aligned=(1.0, 1.0)), RULES).relation == DUPLICATE
    assert decide(evidence(0.95, 0.3, aligned=(1.0, 0.4)), RULES).relation == EXCERPT


def test_pairs_are_built_once_and_never_change():
    ev = evidence(0.25, 0.2, aligned=(0.6, 0.7))
    pair = make_pair(ev, decide(ev, RULES))
    assert pair.passages == (PASSAGE,) and len(pair.alignments) == 5 and pair.similarity == 0.4
    with pytest.raises(dataclasses.FrozenInstanceError):
        pair.relation = DUPLICATE   # type: ignore[misc]
    directed = with_direction(pair, Direction(A_FROM_B, 0.7, ("a is dated later",)))
    assert directed.direction == A_FROM_B and directed.evidence[-1] == "a is dated later"
    assert pair.direction != A_FROM_B   # the original is untouched


def test_overlap_without_sentence_verdict_keeps_no_alignments():
    ev = evidence(0.25, 0.2, aligned=(0.3, 0.3))
    pair = make_pair(ev, decide(ev, RULES))
    assert pair.relation == OVERLAP and pair.alignments == () and pair.containment_a_in_b == 0.25
