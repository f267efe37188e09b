"""The one small interface every index backend implements (SQLite embedded, Redis shared).

A backend stores documents and an inverted index from LSH bucket ids to the
documents in them.  It knows nothing about shingles or MinHash: the ``Index``
computes bucket ids, the backend only keeps them, atomically.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import asdict, dataclass
from typing import Protocol, Sequence


class IndexError_(Exception):
    """A problem with the index itself (cannot open, wrong format, settings mismatch)."""


class IndexLocked(IndexError_):
    """Another process holds the index for writing longer than we wait."""


class IndexMismatch(IndexError_):
    """The index was built with other sketch parameters: its signatures do not compare."""


@dataclass(frozen=True)
class StoredDocument:
    id: str
    text: str
    digest: str                 # sha256 of the text: same id + same digest = already seen
    title: str = ""
    date: str | None = None
    url: str | None = None
    source: str | None = None

    @staticmethod
    def digest_of(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def pack_text(self) -> bytes:
        return zlib.compress(self.text.encode("utf-8"), 6)

    def pack_meta(self) -> str:
        meta = asdict(self)
        del meta["text"], meta["id"], meta["digest"]
        return json.dumps(meta, sort_keys=True)

    @classmethod
    def unpack(cls, doc_id: str, digest: str, packed_text: bytes, meta: str) -> "StoredDocument":
        return cls(id=doc_id, digest=digest, text=zlib.decompress(packed_text).decode("utf-8"), **json.loads(meta))


class IndexBackend(Protocol):
    location: str

    def read_meta(self) -> dict | None:
        """The parameters the index was built with, or None for a new index."""

    def write_meta(self, meta: dict) -> None: ...

    def lookup(self, buckets: Sequence[int]) -> dict[str, int]:
        """Documents in any of ``buckets``, with how many of them each is in."""

    def get(self, doc_id: str) -> StoredDocument | None: ...

    def put(self, doc: StoredDocument, buckets: Sequence[int]) -> None:
        """Store (or replace) a document and its buckets atomically: all or nothing."""

    def remove(self, doc_id: str) -> bool: ...

    def stats(self) -> dict: ...

    def close(self) -> None: ...
