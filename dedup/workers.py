"""Running the core's pure functions on several cores.

``analyze`` is a function of a document and the context only (``core.py``), so a corpus
can be cut into chunks and analysed in worker processes (``fanout.map_shared``: the context
goes to each worker once, as the pool starts), each chunk of documents goes out and its
analyses come back packed, in order.  Below ``fanout.MIN_PARALLEL`` documents starting
processes costs more than it saves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

from .core import ANALYZE_BATCH, Context, DocumentAnalysis, analyze_many
from .fanout import map_shared, processes
from .records import Document
from .sketch import Fingerprint, Sketch

CHUNK = ANALYZE_BATCH   # documents per task: big enough to amortise pickling, small enough to balance


def analyze_all(documents: Sequence[Document], context: Context, jobs: int) -> Iterator[DocumentAnalysis]:
    """``analyze`` of every document, in order, on ``jobs`` processes (0: all cores)."""
    chunks = [documents[start:start + CHUNK] for start in range(0, len(documents), CHUNK)]
    workers = processes(len(documents), len(chunks), jobs)
    if workers <= 1:
        for chunk in chunks:   # one batch at a time, unpacked: analyses stream out as before
            yield from analyze_many(chunk, context)
        return
    packed = map_shared(_analyze_chunk, context, documents, CHUNK, workers, min_parallel=0)
    for chunk, part in zip(chunks, packed):
        yield from part.unpack(chunk)


def _analyze_chunk(context: Context, documents: Sequence[Document]) -> "_Packed":
    return _Packed.pack(analyze_many(documents, context))


# What a worker sends back, per field: (owner, attribute).  Pickling each document's dozen small
# arrays costs about a third of analysing it; the chunk's arrays laid end to end cost little, and
# the documents themselves stay where they are.
_FIELDS = (("fingerprint", "token_starts"), ("fingerprint", "token_ends"), ("fingerprint", "segments"),
           ("fingerprint", "shingles"), ("fingerprint", "shingle_tokens"),
           ("sketch", "windows"), ("sketch", "window_shingles"))


@dataclass(frozen=True)
class _Packed:
    """The analyses of a chunk of documents as a few arrays: each field's arrays concatenated,
    with the bounds of each document's part."""

    arrays: tuple[np.ndarray, ...]    # one per ``_FIELDS`` entry
    bounds: tuple[np.ndarray, ...]    # per field, document d's part is arrays[f][bounds[f][d]:bounds[f][d + 1]]
    signatures: np.ndarray            # (documents, num_perm)
    chrome: np.ndarray                # (spans, 2), all documents' chrome spans
    chrome_bounds: np.ndarray

    @classmethod
    def pack(cls, analyses: Sequence[DocumentAnalysis]) -> "_Packed":
        arrays, bounds = [], []
        for owner, name in _FIELDS:
            parts = [getattr(getattr(a, owner), name) for a in analyses]
            arrays.append(np.concatenate(parts))
            bounds.append(_bounds([len(part) for part in parts]))
        spans = [span for a in analyses for span in a.chrome]
        return cls(tuple(arrays), tuple(bounds), np.array([a.sketch.signature for a in analyses], dtype=np.uint32),
                   np.array(spans, dtype=np.int64).reshape(-1, 2), _bounds([len(a.chrome) for a in analyses]))

    def unpack(self, documents: Sequence[Document]) -> list[DocumentAnalysis]:
        """The analyses again, for the same ``documents`` in the same order."""
        cut = [[array[lo:hi] for lo, hi in zip(b[:-1].tolist(), b[1:].tolist())]
               for array, b in zip(self.arrays, self.bounds)]
        chrome = [tuple(map(tuple, self.chrome[lo:hi].tolist()))
                  for lo, hi in zip(self.chrome_bounds[:-1].tolist(), self.chrome_bounds[1:].tolist())]
        return [DocumentAnalysis(doc, spans, Fingerprint(doc.id, *fields[:5]),
                                 Sketch(doc.id, signature, *fields[5:]))
                for doc, spans, signature, *fields in zip(documents, chrome, self.signatures, *cut)]


def _bounds(lengths: list[int]) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
