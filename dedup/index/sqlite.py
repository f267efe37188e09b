"""Embedded on-disk index backend: one SQLite file, no server.

Storage (about 3.5 KB a generated news article; see benchmarks/filter_throughput.py):
each document is one row holding its zlib-compressed text, a sha256 digest, its LSH
bucket ids packed as 4-byte integers, the hashes of its short lines packed as 8-byte
integers, and a CRC of those fields.  The bucket -> documents index lives in memory
(``postings.Postings``), rebuilt from the rows when the file is opened and kept up to
date with the rows other processes add (row keys only grow, so "rows above the last
key seen" is exactly what is new).  ``lines`` counts the documents per short line (the
chrome stage's evidence), ``runs`` the checkpoints of interrupted filter runs.

Atomic check-and-add: ``begin`` takes the write lock (BEGIN IMMEDIATE) before the
batch is judged and ``commit`` releases it, so no other process can add a document
between a batch's lookups and its inserts.  Writers therefore take turns, one batch
at a time; a writer that waits longer than ``busy_timeout`` gets ``IndexLocked``.

Crash safety: WAL mode, one transaction per batch: a process killed at any instant
leaves the last committed batch, never part of one.  ``synchronous=NORMAL`` protects
against process death, not against the machine losing power mid-write.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from .backend import (Batch, Entry, IndexDamaged, IndexError_, IndexLocked, NoSpace, StoredDocument, pack_uint,
                      unpack_row, unpack_uint)
from .postings import KEY, Postings, row_buckets

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    key INTEGER PRIMARY KEY AUTOINCREMENT,   -- never reused: other processes may still hold old keys
    id TEXT NOT NULL UNIQUE,
    digest TEXT NOT NULL,
    text BLOB NOT NULL,
    meta TEXT NOT NULL,
    buckets BLOB NOT NULL,
    lines BLOB NOT NULL,
    crc INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS lines (hash INTEGER PRIMARY KEY, docs INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS runs (name TEXT PRIMARY KEY, state BLOB NOT NULL);
"""
_MAX_VARIABLES = 30_000
_PROBLEMS_SHOWN = 20


def row_crc(doc_id: str, digest: str, meta: str, buckets: bytes, lines: bytes) -> int:
    """CRC of a row's fields other than the text (the text has zlib's own check and the digest)."""
    crc = zlib.crc32(doc_id.encode("utf-8"))
    for part in (digest.encode(), meta.encode("utf-8"), buckets, lines):
        crc = zlib.crc32(part, crc)
    return crc


class SQLiteBackend:
    def __init__(self, path: str | os.PathLike, *, busy_timeout: float = 30.0, create: bool = True,
                 read_only: bool = False) -> None:
        """``read_only``: a reader beside the writer (``prepare``'s worker): it never writes, so it
        opens while the writer holds the write lock."""
        self.location = str(path)
        self.path_for_readers = self.location
        target = Path(path)
        if target.is_dir():
            raise IndexError_(f"{path}: is a folder, not an index file")
        if not create and not target.exists():
            raise IndexError_(f"{path}: no such index")
        if create and not target.parent.exists():
            raise IndexError_(f"{path}: folder {target.parent} does not exist")
        self.postings = Postings()
        self._ids: dict[int, str] = {}   # row key -> document id, for every live row we know of
        self._keys: dict[str, int] = {}  # document id -> its newest row key
        self._synced = 0                 # highest row key loaded into the postings
        self._in_transaction = False
        self._dropped: list[int] = []    # row keys deleted by the open transaction
        try:
            self.db = sqlite3.connect(self.location, timeout=busy_timeout, isolation_level=None)
            # Rows are ~3.5 KB: 4 KB pages would hold one each and waste the rest (a new file only).
            self.db.execute("PRAGMA page_size=16384")
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA cache_size=-65536")   # up to 64 MiB of pages
        except sqlite3.DatabaseError as err:
            raise translate(err, self.location) from None
        if not read_only:
            self._run_write(lambda: [self.db.execute(statement) for statement in SCHEMA.split(";")
                                     if statement.strip()], sync=False)
        self._sync()

    # -- metadata --------------------------------------------------------------

    def read_meta(self) -> dict | None:
        row = self._query("SELECT value FROM meta WHERE key = 'parameters'").fetchone()
        try:
            return json.loads(row[0]) if row else None
        except ValueError:
            raise IndexDamaged(f"{self.location}: the stored settings are damaged; rebuild the index") from None

    def write_meta(self, meta: dict) -> None:
        self._run_write(lambda: self.db.execute("INSERT OR REPLACE INTO meta VALUES ('parameters', ?)",
                                                (json.dumps(meta, sort_keys=True),)))

    # -- batches ----------------------------------------------------------------

    def begin(self, *, sync: bool = True) -> None:
        self._query("BEGIN IMMEDIATE")
        self._in_transaction = True
        try:
            if sync:
                self._sync()
        except BaseException:
            self.rollback()
            raise

    def commit(self, batch: Batch) -> None:
        with self._rolled_back_on_error():
            added = [self._insert(entry) for entry in batch.entries]
            if batch.checkpoint is not None:
                name, state = batch.checkpoint
                self.db.execute("INSERT OR REPLACE INTO runs VALUES (?, ?)", (name, state))
            if batch.finished is not None:
                self.db.execute("DELETE FROM runs WHERE name = ?", (batch.finished,))
            self.db.execute("COMMIT")
        self._in_transaction = False
        for key in self._dropped:
            self._ids.pop(key, None)
        self._dropped.clear()
        for key, entry in zip(added, batch.entries):
            self._ids[key] = entry.doc.id
            self._keys[entry.doc.id] = key
        self._index_postings(added, [entry.buckets for entry in batch.entries])
        if added:   # we held the write lock since begin(): nobody else added rows in between
            self._synced = max(self._synced, max(added))

    def rollback(self) -> None:
        self._dropped.clear()
        if self._in_transaction:
            self._in_transaction = False
            try:
                self.db.execute("ROLLBACK")
            except sqlite3.DatabaseError:
                pass   # SQLite already rolled back (e.g. after a full disk)

    def _insert(self, entry: Entry) -> int:
        doc = entry.doc
        self._delete(doc.id)
        buckets, lines = pack_uint(entry.buckets, KEY), pack_uint(entry.lines, np.int64)
        meta = doc.pack_meta()
        cursor = self.db.execute(
            "INSERT INTO docs (id, digest, text, meta, buckets, lines, crc) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (doc.id, doc.digest, doc.pack_text(), meta, buckets, lines, row_crc(doc.id, doc.digest, meta, buckets,
                                                                                 lines)))
        self._count_lines(entry.lines, +1)
        return cursor.lastrowid

    def _delete(self, doc_id: str) -> bool:
        row = self.db.execute("SELECT key, lines FROM docs WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            return False
        key, lines = row
        self._count_lines(unpack_uint(lines, np.int64, self.location, doc_id), -1)
        self.db.execute("DELETE FROM docs WHERE key = ?", (key,))
        self._dropped.append(key)   # forgotten once committed; its postings then point at no live row
        return True

    def _count_lines(self, hashes: np.ndarray, delta: int) -> None:
        if not len(hashes):
            return
        self.db.executemany("INSERT INTO lines VALUES (?, ?) ON CONFLICT(hash) DO UPDATE SET docs = docs + ?",
                            [(h, max(delta, 0), delta) for h in hashes.tolist()])
        if delta < 0:
            self.db.execute("DELETE FROM lines WHERE docs <= 0")

    # -- reading -----------------------------------------------------------------

    def lookup(self, buckets: np.ndarray) -> dict[str, int]:
        return self.lookup_many([buckets])[0]

    def lookup_many(self, queries: list[np.ndarray]) -> list[dict[str, int]]:
        """``lookup`` of each of ``queries``, searched together."""
        if not self._in_transaction:
            self._sync()
        return [self._documents(keys, counts) for keys, counts in self.postings.lookup_many(queries)]

    def _documents(self, keys: np.ndarray, counts: np.ndarray) -> dict[str, int]:
        found: dict[str, int] = {}
        ids = self._ids
        for key, count in zip(keys.tolist(), counts.tolist()):
            doc_id = ids.get(key)
            if doc_id is not None:   # an old version of a replaced document, or a removed one: skip
                found[doc_id] = max(found.get(doc_id, 0), count)
        return found

    def get(self, doc_id: str) -> StoredDocument | None:
        row = self._query("SELECT id, digest, text, meta FROM docs WHERE id = ?", (doc_id,)).fetchone()
        return StoredDocument.unpack(*row, where=self.location) if row else None

    def digest(self, doc_id: str) -> str | None:
        row = self._query("SELECT digest FROM docs WHERE id = ?", (doc_id,)).fetchone()
        return row[0] if row else None

    def digests(self, doc_ids: Sequence[str]) -> list[str | None]:
        found: dict[str, str] = {}
        for start in range(0, len(doc_ids), _MAX_VARIABLES):
            part = list(doc_ids[start:start + _MAX_VARIABLES])
            marks = ",".join("?" * len(part))
            found.update(self._query(f"SELECT id, digest FROM docs WHERE id IN ({marks})", part).fetchall())
        return [found.get(doc_id) for doc_id in doc_ids]

    def line_counts(self, hashes: Sequence[int]) -> dict[int, int]:
        values = [int(h) for h in hashes]
        if not values:
            return {}
        marks = ",".join("?" * len(values))
        return dict(self._query(f"SELECT hash, docs FROM lines WHERE hash IN ({marks})", values).fetchall())

    def checkpoint(self, run: str) -> bytes | None:
        row = self._query("SELECT state FROM runs WHERE name = ?", (run,)).fetchone()
        return row[0] if row else None

    def remove(self, doc_id: str) -> bool:
        return self._run_write(lambda: self._delete(doc_id))

    def stats(self) -> dict:
        documents = self._query("SELECT COUNT(*) FROM docs").fetchone()[0]
        runs = self._query("SELECT COUNT(*) FROM runs").fetchone()[0]
        size = sum(os.path.getsize(p) for p in (self.location, self.location + "-wal") if os.path.exists(p))
        return {"backend": "sqlite", "location": self.location, "documents": documents,
                "postings": len(self.postings), "interrupted_runs": runs, "bytes_on_disk": size,
                "bytes_per_document": round(size / documents) if documents else None}

    def verify(self) -> list[str]:
        """Structure (SQLite's integrity check), every row's CRC, text and digest, and the line counts."""
        problems = [r[0] for r in self._query("PRAGMA integrity_check").fetchall() if r[0] != "ok"]
        counts: dict[int, int] = {}
        for key, doc_id, digest, text, meta, buckets, lines, crc in self._query("SELECT * FROM docs"):
            try:
                if row_crc(doc_id, digest, meta, buckets, lines) != crc:
                    raise IndexDamaged(f"stored document {doc_id!r} is damaged (checksum mismatch)")
                StoredDocument.unpack(doc_id, digest, text, meta, where=self.location)
                unpack_row(buckets, self.location, doc_id)
                for h in unpack_uint(lines, np.int64, self.location, doc_id).tolist():
                    counts[h] = counts.get(h, 0) + 1
            except IndexDamaged as err:
                problems.append(str(err).split(": ", 1)[-1])
        stored = dict(self._query("SELECT hash, docs FROM lines").fetchall())
        if stored != counts:
            wrong = sum(1 for h in set(stored) | set(counts) if stored.get(h) != counts.get(h))
            problems.append(f"{wrong} short-line counts disagree with the documents")
        if len(problems) > _PROBLEMS_SHOWN:
            problems = problems[:_PROBLEMS_SHOWN] + [f"... and {len(problems) - _PROBLEMS_SHOWN} more"]
        return problems

    def close(self) -> None:
        self.rollback()
        self.db.close()

    # -- internals ---------------------------------------------------------------

    def _sync(self) -> None:
        """Load rows added since we last looked (by other processes, or all of them on open)."""
        keys, buckets = [], []
        for key, doc_id, packed in self._query("SELECT key, id, buckets FROM docs WHERE key > ? ORDER BY key",
                                               (self._synced,)):
            self._ids.pop(self._keys.get(doc_id, -1), None)   # a new version replaced that row
            self._ids[key] = doc_id
            self._keys[doc_id] = key
            keys.append(key)
            buckets.append(unpack_row(packed, self.location, doc_id))
        if not keys:
            return
        self._index_postings(keys, buckets)
        self._synced = keys[-1]

    def _index_postings(self, keys: list[int], rows: list[np.ndarray]) -> None:
        """Postings of new rows: many (a committed batch, rows other processes added) as one sorted
        run, with numpy; a few one by one (a sorted run each would mean many small runs)."""
        if len(keys) > 64:
            self.postings.add_rows(keys, rows)
        else:
            buckets, lengths = row_buckets(rows)
            for key, b in zip(keys, np.split(buckets, np.cumsum(lengths)[:-1])):
                self.postings.add(key, b)

    def _run_write(self, action, *, sync: bool = True):
        self.begin(sync=sync)
        with self._rolled_back_on_error():
            result = action()
        self.commit(Batch())
        return result

    @contextmanager
    def _rolled_back_on_error(self) -> Iterator[None]:
        """Inside an open transaction: any failure rolls it back; SQLite's own errors become ours."""
        try:
            yield
        except sqlite3.DatabaseError as err:
            self.rollback()
            raise translate(err, self.location) from None
        except BaseException:
            self.rollback()
            raise

    def _query(self, sql: str, params: Sequence = ()) -> sqlite3.Cursor:
        try:
            return self.db.execute(sql, params)
        except sqlite3.DatabaseError as err:
            raise translate(err, self.location) from None


def translate(err: Exception, location: str) -> IndexError_:
    """SQLite's (or the OS's) error as one of ours, with a message a person can act on."""
    message = str(err)
    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return NoSpace(f"{location}: no space left to write the index ({err.strerror}); nothing of the "
                       "current batch was committed: free space and rerun")
    if "locked" in message or "busy" in message:
        return IndexLocked(f"{location}: index is locked by another process (try again, or use one writer)")
    if "full" in message or "disk I/O error" in message:
        return NoSpace(f"{location}: cannot write the index ({message}: a full disk or a file size limit); "
                       "nothing of the current batch was committed: free space and rerun")
    if "not a database" in message or "malformed" in message or "corrupt" in message:
        return IndexDamaged(f"{location}: not a dedup index, or a damaged file ({message}); "
                            "'dedup index check' tells which")
    if "unable to open" in message or "readonly" in message:
        return IndexError_(f"{location}: cannot open the index for writing: {message}")
    return IndexError_(f"{location}: {message}")
