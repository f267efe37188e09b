"""The decision step: the only place that knows what makes a pair a duplicate, an excerpt,
an overlap or a paraphrase, and the one place a ``Pair`` is built.

Each stage hands over its own evidence (``core.PairEvidence``: the verbatim overlap
and, when the paraphrase stage ran, the sentence alignment); ``decide`` names the
relation, ``make_pair`` builds the frozen ``Pair``, and ``with_direction`` adds the
lineage stage's answer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .records import DUPLICATE, EXCERPT, OVERLAP, PARAPHRASE, Direction, Pair
from .settings import RelationSettings

if TYPE_CHECKING:
    from .align import Overlap
    from .core import PairEvidence
    from .paraphrase import SentenceEvidence


@dataclass(frozen=True)
class Decision:
    relation: str
    evidence: tuple[str, ...] = ()
    uses_sentences: bool = False   # the sentence alignment is part of the verdict


def verbatim_relation(overlap: "Overlap", s: RelationSettings) -> str | None:
    """``duplicate`` when both documents are covered by shared passages, ``excerpt`` when
    one is, ``overlap`` when they share at least one passage, else None."""
    if not overlap.passages:
        return None
    low = min(overlap.containment_a_in_b, overlap.containment_b_in_a)
    high = max(overlap.containment_a_in_b, overlap.containment_b_in_a)
    if low >= s.duplicate_containment:
        return DUPLICATE
    if high >= s.excerpt_containment:
        return EXCERPT
    return OVERLAP


def is_paraphrase(found: "SentenceEvidence", s: RelationSettings) -> bool:
    """Enough sentences say the same thing, on both sides."""
    return (len(found.alignments) >= s.min_aligned_sentences
            and min(found.aligned_a, found.aligned_b) >= s.min_aligned_share / 2
            and max(found.aligned_a, found.aligned_b) >= s.min_aligned_share)


def retold_beyond_passages(found: "SentenceEvidence", overlap: "Overlap", s: RelationSettings) -> bool:
    """Sentences align well beyond what verbatim passages cover: a retelling that happens
    to share some phrases, not an article quoting another."""
    aligned = max(found.aligned_a, found.aligned_b)
    verbatim = max(overlap.containment_a_in_b, overlap.containment_b_in_a)
    return verbatim < s.low_verbatim and aligned >= verbatim + s.beyond_passages


def decide(evidence: "PairEvidence", s: RelationSettings) -> Decision | None:
    """The relation two documents have, or None when nothing links them."""
    overlap, found = evidence.overlap, evidence.sentences
    verbatim = verbatim_relation(overlap, s)
    if found is not None and is_paraphrase(found, s):
        if verbatim is None:
            return Decision(PARAPHRASE, found.evidence, uses_sentences=True)
        if verbatim == OVERLAP and retold_beyond_passages(found, overlap, s):
            share = max(overlap.containment_a_in_b, overlap.containment_b_in_a)
            return Decision(PARAPHRASE, found.evidence + (f"verbatim passages cover only {share:.0%}; "
                                                          f"{len(overlap.passages)} kept as evidence",),
                            uses_sentences=True)
    return Decision(verbatim) if verbatim is not None else None


def make_pair(evidence: "PairEvidence", decision: Decision) -> Pair:
    """The pair as reported, before lineage: relation, passages, aligned sentences, evidence."""
    overlap, found = evidence.overlap, evidence.sentences
    verbatim = dict(jaccard=overlap.jaccard, containment_a_in_b=overlap.containment_a_in_b,
                    containment_b_in_a=overlap.containment_b_in_a, passages=overlap.passages) \
        if overlap.passages else {}
    sentences = dict(alignments=found.alignments, aligned_a=found.aligned_a, aligned_b=found.aligned_b,
                     similarity=found.similarity) if decision.uses_sentences and found is not None else {}
    return Pair(a=evidence.a, b=evidence.b, relation=decision.relation, evidence=decision.evidence,
                **verbatim, **sentences)


def with_direction(pair: Pair, direction: Direction) -> Pair:
    return replace(pair, direction=direction.direction, confidence=direction.confidence,
                   evidence=pair.evidence + direction.evidence)
