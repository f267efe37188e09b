"""Candidates stage: which pairs of documents are worth aligning (datasketch MinHashLSH).

Two LSH indexes: one over passage-sized windows (finds an excerpt inside a much
longer article: containment) and one over whole documents (resemblance).  A
pair is a candidate when any window or the documents collide.  LSH only buys
recall cheaply; the align stage decides what is really shared.
"""

from __future__ import annotations

from typing import Callable, Sequence

from datasketch import MinHashLSH

from .sketch import MinHasher, Sketch

ProgressCallback = Callable[[str, int, int], None]


class CandidateFinder:
    def __init__(self, minhasher: MinHasher, *, window_threshold: float = 0.3,
                 document_threshold: float = 0.5) -> None:
        self.minhasher = minhasher
        self.window_threshold = window_threshold
        self.document_threshold = document_threshold

    def pairs(self, sketches: Sequence[Sketch], progress: ProgressCallback | None = None) -> list[tuple[int, int]]:
        """Sorted index pairs (i < j) of sketches that may share text."""
        num_perm = self.minhasher.num_perm
        windows = MinHashLSH(threshold=self.window_threshold, num_perm=num_perm)
        documents = MinHashLSH(threshold=self.document_threshold, num_perm=num_perm)
        owner: list[int] = []   # window key -> document index
        wrap = self.minhasher.minhash
        with windows.insertion_session() as w_session, documents.insertion_session() as d_session:
            for i, sketch in enumerate(sketches):
                if sketch.empty:
                    continue
                d_session.insert(i, wrap(sketch.signature), check_duplication=False)
                for row in sketch.windows:
                    w_session.insert(len(owner), wrap(row), check_duplication=False)
                    owner.append(i)
        found: set[tuple[int, int]] = set()
        for i, sketch in enumerate(sketches):
            if progress:
                progress("candidates", i + 1, len(sketches))
            if sketch.empty:
                continue
            others = {j for j in documents.query(wrap(sketch.signature)) if j > i}
            for row in sketch.windows:
                others.update(owner[key] for key in windows.query(wrap(row)) if owner[key] > i)
            found.update((i, j) for j in others)
        return sorted(found)
