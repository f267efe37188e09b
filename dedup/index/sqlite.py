"""Embedded on-disk index backend: one SQLite file, no server.

Crash safety: every ``put`` is one transaction in WAL mode, so a process killed
at any instant (SIGKILL) leaves the last committed state: an index that opens
and answers, missing at most the document whose transaction had not committed.
``synchronous=NORMAL`` keeps commits cheap; it protects against process death,
not against the machine losing power mid-write (use FULL for that).

Write-behind postings: a document's LSH buckets are hundreds of random keys, and
inserting them into the big ``buckets`` B-tree one document per commit rewrites
hundreds of pages each time.  So ``put`` commits only the document row (an append,
with its bucket list inside it, marked pending); pending documents are searched
in memory, and every ``flush_every`` documents (and on close) their postings are
merged into ``buckets`` in one sorted batch.  A crash before the merge loses
nothing: pending rows are reloaded from the file on the next open.

Concurrency: one writer at a time; others wait ``busy_timeout`` seconds, then
get ``IndexLocked``.  Each process also picks up the others' pending documents
before every lookup.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from .backend import IndexError_, IndexLocked, StoredDocument

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    key INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    digest TEXT NOT NULL,
    text BLOB NOT NULL,
    meta TEXT NOT NULL,
    buckets BLOB NOT NULL,
    pending INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS pending_docs ON docs (key) WHERE pending = 1;
CREATE TABLE IF NOT EXISTS buckets (
    bucket INTEGER NOT NULL,
    doc INTEGER NOT NULL,
    PRIMARY KEY (bucket, doc)
) WITHOUT ROWID;
"""
_MAX_VARIABLES = 30_000


class SQLiteBackend:
    def __init__(self, path: str | os.PathLike, *, busy_timeout: float = 10.0, create: bool = True,
                 flush_every: int = 2000) -> None:
        self.location = str(path)
        self.flush_every = flush_every
        self._pending: dict[int, list[int]] = {}        # bucket -> keys of pending documents
        self._pending_docs: dict[int, np.ndarray] = {}  # key -> its buckets
        self._synced_key = 0
        target = Path(path)
        if target.is_dir():
            raise IndexError_(f"{path}: is a folder, not an index file")
        if not create and not target.exists():
            raise IndexError_(f"{path}: no such index")
        if create and not target.parent.exists():
            raise IndexError_(f"{path}: folder {target.parent} does not exist")
        try:
            self.db = sqlite3.connect(self.location, timeout=busy_timeout, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA cache_size=-262144")   # up to 256 MiB of pages
            with self._write():
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        self.db.execute(statement)
        except sqlite3.DatabaseError as err:
            raise _translate(err, self.location) from None

    @contextmanager
    def _write(self) -> Iterator[None]:
        """One atomic write transaction (BEGIN IMMEDIATE takes the write lock up front)."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as err:
            raise _translate(err, self.location) from None
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        try:
            self.db.execute("COMMIT")
        except sqlite3.OperationalError as err:
            self.db.execute("ROLLBACK")
            raise _translate(err, self.location) from None

    def read_meta(self) -> dict | None:
        row = self._query("SELECT value FROM meta WHERE key = 'parameters'").fetchone()
        return json.loads(row[0]) if row else None

    def write_meta(self, meta: dict) -> None:
        with self._write():
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('parameters', ?)", (json.dumps(meta, sort_keys=True),))

    def lookup(self, buckets: Sequence[int]) -> dict[str, int]:
        self._sync_pending()
        values = [int(b) for b in buckets]
        hits: dict[int, int] = {}
        for start in range(0, len(values), _MAX_VARIABLES):
            chunk = values[start:start + _MAX_VARIABLES]
            marks = ",".join("?" * len(chunk))
            for doc, count in self._query(f"SELECT doc, COUNT(*) FROM buckets WHERE bucket IN ({marks}) "
                                          "GROUP BY doc", chunk):
                hits[doc] = hits.get(doc, 0) + count
        pending = self._pending
        for bucket in values:
            for key in pending.get(bucket, ()):
                hits[key] = hits.get(key, 0) + 1
        if not hits:
            return {}
        keys = list(hits)
        names = dict(self._query(f"SELECT key, id FROM docs WHERE key IN ({','.join('?' * len(keys))})", keys))
        found: dict[str, int] = {}
        for key, count in hits.items():   # a document can be both merged and still pending here
            if key in names:
                found[names[key]] = max(found.get(names[key], 0), count)
        return found

    def get(self, doc_id: str) -> StoredDocument | None:
        row = self._query("SELECT id, digest, text, meta FROM docs WHERE id = ?", (doc_id,)).fetchone()
        return StoredDocument.unpack(*row) if row else None

    def put(self, doc: StoredDocument, buckets: Sequence[int]) -> None:
        packed = np.unique(np.asarray(buckets, dtype=np.int64))
        with self._write():
            self._delete(doc.id)
            cursor = self.db.execute("INSERT INTO docs (id, digest, text, meta, buckets) VALUES (?, ?, ?, ?, ?)",
                                     (doc.id, doc.digest, doc.pack_text(), doc.pack_meta(), packed.tobytes()))
        self._remember_pending(cursor.lastrowid, packed)
        if len(self._pending_docs) >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        """Merge every pending document's postings into the buckets table, in one transaction."""
        with self._write():
            rows = self.db.execute("SELECT key, buckets FROM docs WHERE pending = 1").fetchall()
            if rows:
                postings = np.concatenate([np.stack([np.frombuffer(b, dtype=np.int64),
                                                     np.full(len(b) // 8, key, dtype=np.int64)], axis=1)
                                           for key, b in rows])
                postings = postings[np.lexsort((postings[:, 1], postings[:, 0]))]   # sorted: fewer page writes
                self.db.executemany("INSERT OR IGNORE INTO buckets VALUES (?, ?)", postings.tolist())
                self.db.execute("UPDATE docs SET pending = 0 WHERE pending = 1")
        self._pending.clear()
        self._pending_docs.clear()

    def remove(self, doc_id: str) -> bool:
        with self._write():
            return self._delete(doc_id)

    def _delete(self, doc_id: str) -> bool:
        row = self.db.execute("SELECT key, buckets, pending FROM docs WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            return False
        key, packed, pending = row
        if not pending:
            self.db.executemany("DELETE FROM buckets WHERE bucket = ? AND doc = ?",
                                ((int(b), key) for b in np.frombuffer(packed, dtype=np.int64)))
        self.db.execute("DELETE FROM docs WHERE key = ?", (key,))
        self._forget_pending(key)
        return True

    def _remember_pending(self, key: int, buckets: np.ndarray) -> None:
        if key in self._pending_docs:
            return
        self._pending_docs[key] = buckets
        for bucket in buckets.tolist():
            self._pending.setdefault(bucket, []).append(key)
        self._synced_key = max(self._synced_key, key)

    def _forget_pending(self, key: int) -> None:
        for bucket in self._pending_docs.pop(key, np.empty(0, dtype=np.int64)).tolist():
            keys = self._pending[bucket]
            keys.remove(key)
            if not keys:
                del self._pending[bucket]

    def _sync_pending(self) -> None:
        """Pick up documents other processes (or a crashed run) left pending."""
        for key, packed in self._query("SELECT key, buckets FROM docs WHERE pending = 1 AND key > ?",
                                       (self._synced_key,)):
            self._remember_pending(key, np.frombuffer(packed, dtype=np.int64))

    def stats(self) -> dict:
        documents = self._query("SELECT COUNT(*) FROM docs").fetchone()[0]
        pending = self._query("SELECT COUNT(*) FROM docs WHERE pending = 1").fetchone()[0]
        entries = self._query("SELECT COUNT(*) FROM buckets").fetchone()[0]
        size = sum(os.path.getsize(p) for p in (self.location, self.location + "-wal") if os.path.exists(p))
        return {"backend": "sqlite", "location": self.location, "documents": documents,
                "pending_documents": pending, "bucket_entries": entries, "bytes_on_disk": size}

    def close(self) -> None:
        try:
            if self._pending_docs:
                self.flush()
        except IndexError_:
            pass   # another writer holds the lock: our rows stay pending, the next open merges them
        finally:
            self.db.close()

    def _query(self, sql: str, params: Sequence = ()) -> sqlite3.Cursor:
        try:
            return self.db.execute(sql, params)
        except sqlite3.DatabaseError as err:
            raise _translate(err, self.location) from None


def _translate(err: sqlite3.DatabaseError, location: str) -> IndexError_:
    message = str(err)
    if "locked" in message or "busy" in message:
        return IndexLocked(f"{location}: index is locked by another process (try again, or use one writer)")
    if "not a database" in message or "malformed" in message:
        return IndexError_(f"{location}: not a dedup index (or a damaged file): {message}")
    if "unable to open" in message or "readonly" in message:
        return IndexError_(f"{location}: cannot open the index for writing: {message}")
    return IndexError_(f"{location}: {message}")
