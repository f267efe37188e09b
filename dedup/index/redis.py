"""Shared index backend on Redis (redis-py), for several workers or machines.

Keys, under a prefix (default ``dedup``):
  PREFIX:meta            string, JSON settings the index was built with
  PREFIX:gen             counter, incremented by every commit and removal
  PREFIX:doc:ID          hash {digest, text (zlib), meta, buckets, lines, gen, seq}
  PREFIX:b:ID            set of the documents with a bucket of that 32-bit id: each as
                         0xFF, its band's slot (2 bytes), its id (``member``), or as its
                         id alone when stored without bands (``postings.ANY_BAND``)
  PREFIX:docs            set of all document ids
  PREFIX:line:HASH       counter, documents carrying a short line
  PREFIX:runs            hash {run name: checkpoint of an interrupted filter run}

Atomic check-and-add, optimistically: inside a batch every key a verdict reads (the
buckets looked up, the documents fetched, the short-line counters) is WATCHed before it
is read; ``commit`` applies the batch in one MULTI/EXEC (which also increments ``gen``,
the commit order).  If another worker changed any of those keys meanwhile, EXEC fails,
nothing is written and the caller judges the batch again on the new state
(``Conflict``).  So a batch is admitted only against everything committed before it,
as with one writer, while workers adding unrelated documents do not disturb each other.
"""

from __future__ import annotations

import json
from typing import Sequence
from urllib.parse import parse_qs, urlparse

import numpy as np

from ..arrays import distinct
from .backend import (Batch, Conflict, IndexError_, IndexUnreachable, StoredDocument, pack_uint, unpack_row,
                      unpack_uint)
from .postings import ANY_BAND, BUCKET, KEY, row_buckets

_BANDED = b"\xff"   # starts a member with a band (never the first byte of a UTF-8 document id)


def member(slot: int, doc_id: str) -> bytes:
    """A document as a member of a bucket id's set: with the band's slot the id was stored under."""
    return doc_id.encode("utf-8") if slot == ANY_BAND else _BANDED + slot.to_bytes(2, "big") + doc_id.encode("utf-8")


def split_member(found: bytes) -> tuple[int, str]:
    """(slot, document id) of a member."""
    if found[:1] == _BANDED:
        return int.from_bytes(found[1:3], "big"), found[3:].decode("utf-8")
    return ANY_BAND, found.decode("utf-8")


def _ids_and_slots(buckets: np.ndarray) -> list[tuple[int, int]]:
    buckets = np.asarray(buckets, dtype=BUCKET)
    return list(zip((buckets & np.uint64(0xFFFFFFFF)).tolist(), (buckets >> np.uint64(32)).tolist()))

CONNECT_TIMEOUT_S = 5.0   # also bounds a TLS handshake against a server that does not speak TLS
COMMAND_TIMEOUT_S = 30.0


def masked(url: str) -> str:
    """The URL with any password replaced by ``***`` (safe to print)."""
    parsed = urlparse(url)
    if parsed.password is None:
        return url
    user = parsed.username or ""
    host = parsed.netloc.rsplit("@", 1)[1]
    return parsed._replace(netloc=f"{user}:***@{host}").geturl()


class RedisBackend:
    def __init__(self, url: str) -> None:
        self.location = masked(url)
        try:
            import redis
        except ImportError:
            raise IndexError_(f"{self.location}: the Redis backend needs redis-py: pip install 'dedup[redis]'") \
                from None
        parsed = urlparse(url)
        try:
            parsed.port
        except ValueError:
            raise IndexError_(f"{self.location}: the port must be a number") from None
        self._password = parsed.password
        self.prefix = parse_qs(parsed.query).get("prefix", ["dedup"])[0]
        self._errors = (redis.RedisError, OSError)
        self._watch_error = redis.WatchError
        self._pipe = None
        plain = parsed._replace(query="").geturl()
        try:
            # First a PING whose every wait is the short connect timeout (a TLS handshake to a server
            # that does not speak TLS would otherwise hang for the whole command timeout).
            with redis.Redis.from_url(plain, socket_timeout=CONNECT_TIMEOUT_S,
                                      socket_connect_timeout=CONNECT_TIMEOUT_S) as probe:
                probe.ping()
            self.client = redis.Redis.from_url(plain, socket_timeout=COMMAND_TIMEOUT_S,
                                               socket_connect_timeout=CONNECT_TIMEOUT_S)
        except self._errors as err:
            raise IndexUnreachable(f"{self.location}: cannot reach Redis: {self._clean(err)}") from None
        except ValueError as err:
            raise IndexError_(f"{self.location}: not a usable Redis URL: {self._clean(err)}") from None

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    def read_meta(self) -> dict | None:
        value = self._call(self.client.get, self._key("meta"))
        return json.loads(value) if value else None

    def write_meta(self, meta: dict) -> None:
        self._call(self.client.set, self._key("meta"), json.dumps(meta, sort_keys=True))

    # -- batches -------------------------------------------------------------------

    def begin(self) -> None:
        self._pipe = self.client.pipeline(transaction=True)
        self._call(self._pipe.watch, self._key("gen"))
        self._generation = int(self._call(self._pipe.get, self._key("gen")) or 0)
        self._call(self._pipe.unwatch)   # gen only numbers commits; conflicts come from the keys read

    def _watch(self, keys: list[str]) -> None:
        """Inside a batch: any later change to ``keys`` by another worker fails the commit."""
        if self._pipe is not None and keys:
            self._call(self._pipe.watch, *keys)

    def commit(self, batch: Batch) -> None:
        pipe, self._pipe = self._pipe, None
        try:
            if batch.entries:   # (WATCH also puts the pipeline back in immediate mode for the reads below)
                pipe.watch(*[self._key("doc", e.doc.id) for e in batch.entries])
            old = {e.doc.id: pipe.hmget(self._key("doc", e.doc.id), "buckets", "lines") for e in batch.entries}
            pipe.multi()
            for seq, entry in enumerate(batch.entries):
                doc = entry.doc
                self._unlink(pipe, doc.id, *old[doc.id])
                pipe.hset(self._key("doc", doc.id), mapping={
                    "digest": doc.digest, "text": doc.pack_text(), "meta": doc.pack_meta(),
                    "buckets": pack_uint(entry.buckets, KEY), "lines": pack_uint(entry.lines, np.int64),
                    "gen": self._generation + 1, "seq": seq})   # commit order (batch, place in it)
                for bucket, slot in _ids_and_slots(distinct(row_buckets([entry.buckets])[0])):
                    pipe.sadd(self._key("b", str(bucket)), member(slot, doc.id))
                for line in entry.lines.tolist():
                    pipe.incr(self._key("line", str(line)))
                pipe.sadd(self._key("docs"), doc.id)
            if batch.checkpoint is not None:
                pipe.hset(self._key("runs"), batch.checkpoint[0], batch.checkpoint[1])
            if batch.finished is not None:
                pipe.hdel(self._key("runs"), batch.finished)
            pipe.incr(self._key("gen"))
            pipe.execute()
        except self._watch_error:
            raise Conflict() from None
        except self._errors as err:
            raise IndexUnreachable(f"{self.location}: Redis error: {self._clean(err)}") from None
        finally:
            pipe.reset()

    def rollback(self) -> None:
        if self._pipe is not None:
            self._pipe.reset()
            self._pipe = None

    def _unlink(self, pipe, doc_id: str, old_buckets: bytes | None, old_lines: bytes | None) -> None:
        if old_buckets is None:
            return
        for bucket, slot in _ids_and_slots(row_buckets([unpack_row(old_buckets, self.location, doc_id)])[0]):
            pipe.srem(self._key("b", str(bucket)), member(slot, doc_id))
        for line in unpack_uint(old_lines or b"", np.int64, self.location, doc_id).tolist():
            pipe.decr(self._key("line", str(line)))
        pipe.delete(self._key("doc", doc_id))
        pipe.srem(self._key("docs"), doc_id)

    # -- reading ---------------------------------------------------------------------

    def lookup_many(self, queries: list[np.ndarray]) -> list[dict[str, int]]:
        return [self.lookup(query) for query in queries]

    def lookup(self, buckets: np.ndarray) -> dict[str, int]:
        """A document stored with bands is counted once per bucket (slot and id) of ``buckets`` it is
        in; one stored without, once per distinct id (as ``Postings.lookup``)."""
        wanted = set(_ids_and_slots(distinct(np.asarray(buckets, dtype=BUCKET))))
        ids = sorted({bucket for bucket, _ in wanted})
        keys = [self._key("b", str(bucket)) for bucket in ids]
        self._watch(keys)
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.smembers(key)
        hits: dict[str, int] = {}
        for bucket, members in zip(ids, self._call(pipe.execute)):
            for found in members:
                slot, doc_id = split_member(found)
                if slot == ANY_BAND or (bucket, slot) in wanted:
                    hits[doc_id] = hits.get(doc_id, 0) + 1
        return hits

    def get(self, doc_id: str) -> StoredDocument | None:
        self._watch([self._key("doc", doc_id)])
        row = self._call(self.client.hmget, self._key("doc", doc_id), "digest", "text", "meta")
        if row[0] is None:
            return None
        return StoredDocument.unpack(doc_id, row[0].decode(), row[1], row[2].decode(), where=self.location)

    def digest(self, doc_id: str) -> str | None:
        self._watch([self._key("doc", doc_id)])
        found = self._call(self.client.hget, self._key("doc", doc_id), "digest")
        return found.decode() if found is not None else None

    def digests(self, doc_ids: Sequence[str]) -> list[str | None]:
        keys = [self._key("doc", doc_id) for doc_id in doc_ids]
        self._watch(keys)
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.hget(key, "digest")
        return [found.decode() if found is not None else None for found in self._call(pipe.execute)]

    def line_counts(self, hashes: Sequence[int]) -> dict[int, int]:
        values = [int(h) for h in hashes]
        if not values:
            return {}
        keys = [self._key("line", str(h)) for h in values]
        self._watch(keys)
        counts = self._call(self.client.mget, keys)
        return {h: int(c) for h, c in zip(values, counts) if c is not None and int(c) > 0}

    def checkpoint(self, run: str) -> bytes | None:
        return self._call(self.client.hget, self._key("runs"), run)

    def remove(self, doc_id: str) -> bool:
        while True:
            self.begin()
            pipe = self._pipe
            try:
                pipe.watch(self._key("doc", doc_id))
                old = pipe.hmget(self._key("doc", doc_id), "buckets", "lines")
                if old[0] is None:
                    return False
                pipe.multi()
                self._unlink(pipe, doc_id, *old)
                pipe.incr(self._key("gen"))
                pipe.execute()
                return True
            except self._watch_error:
                continue
            except self._errors as err:
                raise IndexUnreachable(f"{self.location}: Redis error: {self._clean(err)}") from None
            finally:
                self.rollback()

    def stats(self) -> dict:
        info = self._call(self.client.info, "memory")
        return {"backend": "redis", "location": self.location, "prefix": self.prefix,
                "documents": self._call(self.client.scard, self._key("docs")),
                "interrupted_runs": self._call(self.client.hlen, self._key("runs")),
                "server_memory_bytes": info.get("used_memory")}

    def verify(self) -> list[str]:
        """Every stored document decompresses and matches its digest, and is in its buckets."""
        problems = []
        for listed in self._call(self.client.smembers, self._key("docs")):
            doc_id = listed.decode("utf-8")
            try:
                if self.get(doc_id) is None:
                    problems.append(f"document {doc_id!r} is listed but not stored")
                    continue
                packed = self._call(self.client.hget, self._key("doc", doc_id), "buckets")
                buckets = _ids_and_slots(row_buckets([unpack_row(packed or b"", self.location, doc_id)])[0])
                if buckets and not self._call(self.client.sismember, self._key("b", str(buckets[0][0])),
                                              member(buckets[0][1], doc_id)):
                    problems.append(f"document {doc_id!r} is missing from its buckets")
            except IndexError_ as err:
                problems.append(str(err).split(": ", 1)[-1])
        return problems

    def close(self) -> None:
        self.rollback()
        self.client.close()

    def _clean(self, err: Exception) -> str:
        """An error message with the password (if redis-py put it in) masked."""
        message = str(err) or type(err).__name__
        return message.replace(self._password, "***") if self._password else message

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except self._errors as err:
            raise IndexUnreachable(f"{self.location}: Redis error: {self._clean(err)}") from None
