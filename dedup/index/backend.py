"""The one small interface every index backend implements (SQLite embedded, Redis shared).

A backend stores documents, an inverted index from LSH bucket ids to the documents
in them, how many documents carry each short line (the chrome stage's counts), and
the checkpoints of interrupted filter runs.  It knows nothing about shingles or
MinHash: the ``Index`` computes bucket ids and line hashes, the backend keeps them.

Writes happen in batches: ``begin()`` starts a write transaction and brings the
backend's view up to date with what other processes committed; ``commit(batch)``
applies every document and the checkpoint of that batch all at once, or nothing.
Between the two, no other writer can commit (SQLite holds the write lock), or the
commit fails with ``Conflict`` and the caller judges the batch again (Redis).  So
"check, then add" is atomic across processes: each batch is judged against
everything committed before it.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import asdict, dataclass, field, replace
from typing import Protocol, Sequence

import numpy as np

from ..records import Document
from .postings import KEY, row_shape

# Exit statuses of the CLI, one per kind of failure (README "Pre-ingest filter").
EXIT_USAGE = 2
EXIT_DAMAGED = 3
EXIT_LOCKED = 4
EXIT_UNREACHABLE = 5
EXIT_NO_SPACE = 6
EXIT_RESUME = 7


class IndexError_(Exception):
    """A problem with the index itself (cannot open, wrong format, settings mismatch)."""

    exit_code = EXIT_USAGE


class IndexLocked(IndexError_):
    """Another process holds the index for writing longer than we wait."""

    exit_code = EXIT_LOCKED


class IndexMismatch(IndexError_):
    """The index was built with other settings: its signatures do not compare."""

    exit_code = EXIT_USAGE


class IndexDamaged(IndexError_):
    """The file or a stored record is not what was written (a flipped byte, a truncated file)."""

    exit_code = EXIT_DAMAGED


class IndexUnreachable(IndexError_):
    """The backend's server cannot be reached (or went away mid-stream)."""

    exit_code = EXIT_UNREACHABLE


class NoSpace(IndexError_):
    """The disk (or the file size limit) is full: nothing of the batch was committed."""

    exit_code = EXIT_NO_SPACE


class Conflict(Exception):
    """Another writer committed while this batch was judged: judge it again (not an error)."""


@dataclass(frozen=True)
class StoredDocument:
    id: str
    text: str
    digest: str                 # sha256 of the text: same id + same digest = already seen
    title: str = ""
    date: str | None = None
    url: str | None = None
    source: str | None = None
    packed: bytes = field(default=b"", compare=False, repr=False)   # the text compressed, if done ahead

    @staticmethod
    def digest_of(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @classmethod
    def of(cls, doc: Document, *, packed: bool = False) -> "StoredDocument":
        """``doc`` as stored; ``packed``: its text compressed now (by the worker analysing it ahead)."""
        stored = cls.known(doc, cls.digest_of(doc.text), b"")
        return replace(stored, packed=stored.pack_text()) if packed else stored

    @classmethod
    def known(cls, doc: Document, digest: str, packed: bytes) -> "StoredDocument":
        """``of(doc, packed=True)`` from its digest and compressed text made elsewhere."""
        return cls(id=doc.id, text=doc.text, digest=digest, title=doc.title, date=doc.date, url=doc.url,
                   source=doc.source, packed=packed)

    def to_document(self) -> Document:
        return Document(id=self.id, text=self.text, title=self.title, date=self.date, url=self.url,
                        source=self.source)

    def pack_text(self) -> bytes:
        return self.packed or zlib.compress(self.text.encode("utf-8"), 6)

    def pack_meta(self) -> str:
        meta = asdict(self)
        del meta["text"], meta["id"], meta["digest"], meta["packed"]
        return json.dumps({k: v for k, v in meta.items() if v}, sort_keys=True)

    @classmethod
    def unpack(cls, doc_id: str, digest: str, packed_text: bytes, meta: str, where: str = "") -> "StoredDocument":
        """The stored record, checked: a damaged text (zlib or digest) is ``IndexDamaged``, never garbage."""
        try:
            text = zlib.decompress(packed_text).decode("utf-8")
            fields = json.loads(meta)
        except (zlib.error, UnicodeDecodeError, ValueError, TypeError) as err:
            raise IndexDamaged(f"{where}: stored document {doc_id!r} is damaged ({err}); "
                               "run 'dedup index check' and rebuild the index") from None
        if cls.digest_of(text) != digest:
            raise IndexDamaged(f"{where}: stored document {doc_id!r} is damaged (its text no longer matches "
                               "its digest); run 'dedup index check' and rebuild the index")
        return cls(id=doc_id, digest=digest, text=text, **fields)


@dataclass(frozen=True)
class Entry:
    """One document to store, with what it is found by: its LSH buckets and its short lines."""

    doc: StoredDocument
    buckets: np.ndarray      # its row of uint32 bucket ids, in band order (postings.stored_row)
    lines: np.ndarray        # uint64 hashes of its distinct short lines (chrome counts)


@dataclass
class Batch:
    """What one write transaction commits: documents, and where the filter run stands."""

    entries: list[Entry] = field(default_factory=list)
    checkpoint: tuple[str, dict] | None = None   # (run name, state) saved with the documents
    finished: str | None = None                  # run name whose checkpoint is dropped (the run completed)


def pack_uint(values: np.ndarray, dtype) -> bytes:
    return np.ascontiguousarray(values, dtype=dtype).tobytes()


def unpack_uint(blob: bytes, dtype, where: str, doc_id: str) -> np.ndarray:
    if len(blob) % np.dtype(dtype).itemsize:
        raise IndexDamaged(f"{where}: stored document {doc_id!r} is damaged (truncated bucket list); "
                           "run 'dedup index check' and rebuild the index")
    return np.frombuffer(blob, dtype=dtype)


def unpack_row(blob: bytes, where: str, doc_id: str) -> np.ndarray:
    """A document's stored row of bucket ids, checked: one whose length does not fit its bands is
    ``IndexDamaged`` (its ids would be read under the wrong bands)."""
    row = unpack_uint(blob, KEY, where, doc_id)
    try:
        row_shape(row)
    except ValueError as err:
        raise IndexDamaged(f"{where}: stored document {doc_id!r} is damaged ({err}); "
                           "run 'dedup index check' and rebuild the index") from None
    return row


class IndexBackend(Protocol):
    location: str      # where the index is, safe to print (passwords masked)

    def read_meta(self) -> dict | None:
        """The settings the index was built with, or None for a new index."""

    def write_meta(self, meta: dict) -> None: ...

    def begin(self) -> None:
        """Start a write transaction and see everything committed so far."""

    def commit(self, batch: Batch) -> None:
        """Store the batch's documents (replacing same ids) and its checkpoint atomically.
        Raises ``Conflict`` when another writer committed since ``begin`` (nothing is written)."""

    def rollback(self) -> None: ...

    def lookup(self, buckets: np.ndarray) -> dict[str, int]:
        """Committed documents in any of ``buckets``, with how many of them each is in."""

    def lookup_many(self, queries: list[np.ndarray]) -> list[dict[str, int]]:
        """``lookup`` of each of ``queries`` (searched together where the backend can)."""

    def get(self, doc_id: str) -> StoredDocument | None: ...

    def digest(self, doc_id: str) -> str | None:
        """The stored document's digest (None: not indexed), without reading its text."""

    def digests(self, doc_ids: Sequence[str]) -> list[str | None]:
        """``digest`` of each of ``doc_ids``, read together."""

    def line_counts(self, hashes: Sequence[int]) -> dict[int, int]:
        """How many committed documents carry each short line (by hash); absent ones are 0."""

    def checkpoint(self, run: str) -> dict | None:
        """The saved state of an interrupted filter run, or None."""

    def remove(self, doc_id: str) -> bool: ...

    def stats(self) -> dict: ...

    def verify(self) -> list[str]:
        """Every problem found by reading the whole index back (empty: intact)."""

    def close(self) -> None: ...
