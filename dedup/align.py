"""Align stage: the exact passages two documents share, with original offsets.

Shared shingles are seeds; seeds on one diagonal (same offset between the two
documents) form runs of verbatim text; runs separated by a few edited words
are chained into one passage, so a copy with 10% of its words changed still
reads as one long shared passage instead of dozens of fragments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .arrays import distinct
from .records import Passage
from .settings import AlignSettings
from .sketch import Fingerprint


@dataclass(frozen=True)
class Overlap:
    """What two fingerprints share verbatim (the align stage's evidence for one pair)."""

    passages: tuple[Passage, ...] = ()
    containment_a_in_b: float = 0.0   # share of a's words inside shared passages
    containment_b_in_a: float = 0.0
    jaccard: float = 0.0              # exact Jaccard of the two shingle sets


@dataclass
class _Chain:
    a0: int
    a1: int   # last token, inclusive
    b0: int
    b1: int


class Aligner:
    """Finds shared passages between two fingerprints (parameters: ``AlignSettings``).

    ``min_passage_words``: shorter shared stretches are common phrases, not reuse.
    ``max_gap_words``: runs this close on both sides join into one passage (edits).
    ``max_shift_words``: ... as long as the two sides' gaps differ by at most this much.
    ``neighbour_ratio``: finished passages in order on both sides merge when the gap is at
    most this share of the shorter one.
    ``max_occurrences``: a shingle repeated more often in one document is ignored as a seed.
    """

    def __init__(self, settings: AlignSettings | None = None, *, shingle_size: int = 5) -> None:
        s = settings or AlignSettings()
        if s.min_passage_words < shingle_size:
            raise ValueError("min_passage_words must be at least shingle_size")
        self.k = shingle_size
        self.min_words = s.min_passage_words
        self.max_gap = s.max_gap_words
        self.max_shift = s.max_shift_words
        self.neighbour_ratio = s.neighbour_ratio
        self.max_occurrences = s.max_occurrences

    def align(self, a: Fingerprint, b: Fingerprint, text_a: str) -> Overlap:
        set_a, set_b = distinct(a.shingles), distinct(b.shingles)
        common = np.intersect1d(set_a, set_b, assume_unique=True)
        if len(common) == 0:
            return Overlap()
        jaccard = len(common) / (len(set_a) + len(set_b) - len(common))
        chains = _drop_nested(self._merge_neighbours(
            [c for c in self._chain(self._runs(a, b, common), a, b) if min(c.a1 - c.a0, c.b1 - c.b0) + 1 >= self.min_words]))
        passages = tuple(sorted(
            (Passage(int(a.token_starts[c.a0]), int(a.token_ends[c.a1]),
                     int(b.token_starts[c.b0]), int(b.token_ends[c.b1]),
                     text_a[a.token_starts[c.a0]:a.token_ends[c.a1]], c.a1 - c.a0 + 1) for c in chains),
            key=lambda p: (p.a_start, p.b_start)))
        return Overlap(passages, _covered([(c.a0, c.a1) for c in chains], a.n_tokens),
                       _covered([(c.b0, c.b1) for c in chains], b.n_tokens), jaccard)

    def _runs(self, a: Fingerprint, b: Fingerprint, common: np.ndarray) -> list[tuple[int, int, int]]:
        """Maximal runs of consecutive shared shingles: (a_token, b_token, length_in_shingles)."""
        ia = np.flatnonzero(np.isin(a.shingles, common))
        ib = np.flatnonzero(np.isin(b.shingles, common))
        order = np.argsort(b.shingles[ib], kind="stable")
        b_hashes, b_pos = b.shingles[ib][order], ib[order]
        lo = np.searchsorted(b_hashes, a.shingles[ia], side="left")
        hi = np.searchsorted(b_hashes, a.shingles[ia], side="right")
        a_counts = dict(zip(*np.unique(a.shingles[ia], return_counts=True)))
        seeds = []
        for i, l, h in zip(ia, lo, hi):
            if h - l > self.max_occurrences or a_counts[a.shingles[i]] > self.max_occurrences:
                continue
            ta = int(a.shingle_tokens[i])
            seeds.extend((int(b.shingle_tokens[j]) - ta, ta) for j in b_pos[l:h])
        seeds.sort()
        runs = []
        for diag, ta in seeds:
            if runs and runs[-1][3] == diag and runs[-1][0] + runs[-1][2] == ta:
                runs[-1][2] += 1
            else:
                runs.append([ta, ta + diag, 1, diag])
        return sorted((r[0], r[1], r[2]) for r in runs)

    def _chain(self, runs, a: Fingerprint, b: Fingerprint) -> list[_Chain]:
        """Join runs that follow each other closely on both sides into passages."""
        open_chains: list[_Chain] = []
        done: list[_Chain] = []
        for ta, tb, length in runs:
            a1, b1 = ta + length + self.k - 2, tb + length + self.k - 2
            # Chains too far behind can no longer be extended.
            still_open = []
            for c in open_chains:
                (still_open if c.a1 >= ta - self.max_gap - 1 else done).append(c)
            open_chains = still_open
            best, best_gap = None, None
            for c in open_chains:
                gap_a, gap_b = ta - c.a1 - 1, tb - c.b1 - 1
                if not (-self.k < gap_a <= self.max_gap and -self.k < gap_b <= self.max_gap):
                    continue
                if abs(gap_a - gap_b) > self.max_shift:
                    continue   # edits change a few words; a big shift is another passage
                if a.segments[c.a1] != a.segments[ta] or b.segments[c.b1] != b.segments[tb]:
                    continue   # never join across chrome
                gap = max(gap_a, 0) + max(gap_b, 0)
                if best_gap is None or gap < best_gap:
                    best, best_gap = c, gap
            if best is None:
                open_chains.append(_Chain(ta, a1, tb, b1))
            else:
                best.a1, best.b1 = max(best.a1, a1), max(best.b1, b1)
        return done + open_chains


    def _merge_neighbours(self, chains: list[_Chain]) -> list[_Chain]:
        """Join passages that follow each other on both sides with a gap that is small next
        to them (a rewritten sentence inside a copied article): one reuse, one passage."""
        merged: list[_Chain] = []
        for c in sorted(chains, key=lambda c: (c.a0, c.b0)):
            if merged:
                last = merged[-1]
                gap_a, gap_b = c.a0 - last.a1 - 1, c.b0 - last.b1 - 1
                allowed = max(self.max_gap, self.neighbour_ratio * min(last.a1 - last.a0, c.a1 - c.a0))
                # Token positions skip chrome, so a caption between two halves of a copied
                # article is no gap: the copy is one passage (its chrome still counts for nothing).
                if 0 <= gap_a <= allowed and 0 <= gap_b <= allowed:
                    last.a1, last.b1 = c.a1, c.b1
                    continue
            merged.append(_Chain(c.a0, c.a1, c.b0, c.b1))
        return merged


def _drop_nested(chains: list[_Chain]) -> list[_Chain]:
    """Drop passages lying inside a longer one on both sides (a phrase the article repeats
    matches off the main diagonal too; it adds nothing)."""
    return [c for c in chains
            if not any(o is not c and o.a0 <= c.a0 and c.a1 <= o.a1 and o.b0 <= c.b0 and c.b1 <= o.b1
                       and (o.a1 - o.a0) > (c.a1 - c.a0) for o in chains)]


def _covered(intervals: list[tuple[int, int]], total: int) -> float:
    """Share of ``total`` tokens covered by the union of inclusive token intervals."""
    if not total or not intervals:
        return 0.0
    mask = np.zeros(total, dtype=bool)
    for lo, hi in intervals:
        mask[lo:hi + 1] = True
    return float(mask.sum()) / total
