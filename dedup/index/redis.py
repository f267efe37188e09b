"""Shared index backend on Redis (redis-py), for several workers or machines.

Keys, under a prefix (default ``dedup``):
  PREFIX:meta            string, JSON parameters the index was built with
  PREFIX:doc:ID          hash {digest, text (zlib), meta, buckets}
  PREFIX:b:BUCKET        set of document ids in an LSH bucket
  PREFIX:docs            set of all document ids
A ``put`` is one MULTI/EXEC transaction (all or nothing); it WATCHes the
document key so two workers replacing the same id cannot interleave.
"""

from __future__ import annotations

import json
from typing import Sequence
from urllib.parse import parse_qs, urlparse

import numpy as np

from .backend import IndexError_, StoredDocument


class RedisBackend:
    def __init__(self, url: str) -> None:
        try:
            import redis
        except ImportError:
            raise IndexError_(f"{url}: the Redis backend needs redis-py: pip install 'dedup[redis]'") from None
        self.location = url
        parsed = urlparse(url)
        self.prefix = parse_qs(parsed.query).get("prefix", ["dedup"])[0]
        clean = parsed._replace(query="").geturl()
        self._errors = (redis.RedisError,)
        self._watch_error = redis.WatchError
        try:
            self.client = redis.Redis.from_url(clean, socket_timeout=30)
            self.client.ping()
        except redis.RedisError as err:
            raise IndexError_(f"{url}: cannot reach Redis: {err}") from None

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    def read_meta(self) -> dict | None:
        value = self._call(self.client.get, self._key("meta"))
        return json.loads(value) if value else None

    def write_meta(self, meta: dict) -> None:
        self._call(self.client.set, self._key("meta"), json.dumps(meta, sort_keys=True))

    def lookup(self, buckets: Sequence[int]) -> dict[str, int]:
        pipe = self.client.pipeline(transaction=False)
        for bucket in buckets:
            pipe.smembers(self._key("b", str(int(bucket))))
        hits: dict[str, int] = {}
        for members in self._call(pipe.execute):
            for member in members:
                doc_id = member.decode("utf-8")
                hits[doc_id] = hits.get(doc_id, 0) + 1
        return hits

    def get(self, doc_id: str) -> StoredDocument | None:
        row = self._call(self.client.hgetall, self._key("doc", doc_id))
        if not row:
            return None
        return StoredDocument.unpack(doc_id, row[b"digest"].decode(), row[b"text"], row[b"meta"].decode())

    def put(self, doc: StoredDocument, buckets: Sequence[int]) -> None:
        packed = np.unique(np.asarray(buckets, dtype=np.int64))
        doc_key = self._key("doc", doc.id)
        while True:
            with self.client.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(doc_key)
                    old = pipe.hget(doc_key, "buckets")
                    pipe.multi()
                    self._unlink(pipe, doc.id, old)
                    pipe.hset(doc_key, mapping={"digest": doc.digest, "text": doc.pack_text(),
                                                "meta": doc.pack_meta(), "buckets": packed.tobytes()})
                    for bucket in packed:
                        pipe.sadd(self._key("b", str(int(bucket))), doc.id)
                    pipe.sadd(self._key("docs"), doc.id)
                    pipe.execute()
                    return
                except self._watch_error:
                    continue   # another worker changed this document meanwhile: redo on fresh state
                except self._errors as err:
                    raise IndexError_(f"{self.location}: Redis error: {err}") from None

    def remove(self, doc_id: str) -> bool:
        doc_key = self._key("doc", doc_id)
        old = self._call(self.client.hget, doc_key, "buckets")
        if old is None:
            return False
        pipe = self.client.pipeline(transaction=True)
        self._unlink(pipe, doc_id, old)
        self._call(pipe.execute)
        return True

    def _unlink(self, pipe, doc_id: str, old_buckets: bytes | None) -> None:
        if old_buckets is None:
            return
        for bucket in np.frombuffer(old_buckets, dtype=np.int64):
            pipe.srem(self._key("b", str(int(bucket))), doc_id)
        pipe.delete(self._key("doc", doc_id))
        pipe.srem(self._key("docs"), doc_id)

    def stats(self) -> dict:
        info = self._call(self.client.info, "memory")
        return {"backend": "redis", "location": self.location, "prefix": self.prefix,
                "documents": self._call(self.client.scard, self._key("docs")),
                "server_memory_bytes": info.get("used_memory")}

    def close(self) -> None:
        self.client.close()

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except self._errors as err:
            raise IndexError_(f"{self.location}: Redis error: {err}") from None
