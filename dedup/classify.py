"""Classify stage: name the verbatim relation between two documents."""

from __future__ import annotations

from .align import Overlap
from .records import DUPLICATE, EXCERPT, OVERLAP


class Classifier:
    """``duplicate`` when both documents are covered by shared passages, ``excerpt`` when
    one is, ``overlap`` when they share at least one passage, else None."""

    def __init__(self, *, duplicate_containment: float = 0.8, excerpt_containment: float = 0.8) -> None:
        self.duplicate_containment = duplicate_containment
        self.excerpt_containment = excerpt_containment

    def relation(self, overlap: Overlap) -> str | None:
        if not overlap.passages:
            return None
        low = min(overlap.containment_a_in_b, overlap.containment_b_in_a)
        high = max(overlap.containment_a_in_b, overlap.containment_b_in_a)
        if low >= self.duplicate_containment:
            return DUPLICATE
        if high >= self.excerpt_containment:
            return EXCERPT
        return OVERLAP
