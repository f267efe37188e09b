"""The contract every index backend keeps (``dedup.index.backend.IndexBackend``), run against
each: SQLite (embedded) and Redis (shared).  The ``Index`` relies on exactly these promises."""

from __future__ import annotations


import numpy as np
import pytest

from dedup.index.backend import Batch, Conflict, Entry, IndexLocked, StoredDocument

from .conftest import SEED_000, SEED_001, SEED_002



@pytest.fixture(params=["sqlite", "redis"])
def open_backend(request, tmp_path):
    """A function opening a new connection to one fresh index (call it twice for two processes)."""
    opened = []
    if request.param == "sqlite":
        from dedup.index.sqlite import SQLiteBackend

        def connect():
            opened.append(SQLiteBackend(tmp_path / "contract.index", busy_timeout=0.2))
            return opened[-1]
    else:
        from dedup.index.redis import RedisBackend
        url = request.getfixturevalue("redis_url")   # skips, saying why, without a Redis server

        def connect():
            opened.append(RedisBackend(url))
            return opened[-1]
    yield connect
    for backend in opened:
        backend.close()


def entry(doc_id: str, text: str, buckets, lines=()) -> Entry:
    doc = StoredDocument(id=doc_id, text=text, digest=StoredDocument.digest_of(text), title=text.split("\n")[0],
                         source="seed")
    return Entry(doc, np.asarray(buckets, dtype=np.uint32), np.asarray(lines, dtype=np.int64))


def commit(backend, *entries: Entry, checkpoint=None, finished=None) -> None:
    backend.begin()
    backend.commit(Batch(list(entries), checkpoint, finished))


def test_meta_round_trip(open_backend):
    backend = open_backend()
    assert backend.read_meta() is None
    backend.write_meta({"format": 3, "bands": {"window": [37, 3]}})
    assert open_backend().read_meta() == {"format": 3, "bands": {"window": [37, 3]}}


def test_committed_documents_are_found_by_bucket_id_and_line(open_backend, seeds):
    backend = open_backend()
    commit(backend, entry("a", seeds[SEED_000], [1, 2, 3], [-7, 9]), entry("b", seeds[SEED_001], [3, 4], [9]))
    other = open_backend()   # another process: sees what was committed
    for view in (backend, other):
        assert view.lookup(np.array([2, 3, 4, 99], dtype=np.uint32)) == {"a": 2, "b": 2}
        assert view.lookup(np.array([99], dtype=np.uint32)) == {}
        assert view.line_counts([9, -7, 5]) == {9: 2, -7: 1}
        stored = view.get("a")
        assert stored.text == seeds[SEED_000] and stored.source == "seed" and stored.digest == \
            StoredDocument.digest_of(seeds[SEED_000])
        assert view.get("missing") is None
        assert view.digest("a") == stored.digest and view.digest("missing") is None
        assert view.digests(["missing", "b", "a"]) == [None, view.digest("b"), stored.digest] and view.digests([]) == []
        assert view.stats()["documents"] == 2
        assert view.verify() == []


def test_same_id_replaces_and_remove_forgets(open_backend, seeds):
    backend = open_backend()
    commit(backend, entry("a", seeds[SEED_000], [1, 2], [5]))
    commit(backend, entry("a", seeds[SEED_002], [8], [6]))
    assert backend.lookup(np.array([1, 2], dtype=np.uint32)) == {}
    assert backend.lookup(np.array([8], dtype=np.uint32)) == {"a": 1}
    assert backend.get("a").text == seeds[SEED_002]
    assert backend.digest("a") == StoredDocument.digest_of(seeds[SEED_002])
    assert backend.digests(["a"]) == [StoredDocument.digest_of(seeds[SEED_002])]
    assert backend.line_counts([5, 6]) == {6: 1}
    assert backend.remove("a") and not backend.remove("a")
    other = open_backend()
    for view in (backend, other):
        assert view.get("a") is None and view.lookup(np.array([8], dtype=np.uint32)) == {}
        assert view.line_counts([6]) == {} and view.stats()["documents"] == 0


def test_a_bucket_id_meets_its_own_band_only_and_rows_without_bands_meet_any(open_backend, seeds):
    """Rows in band order (``stored_row``): an id is found under the band its place in the row gives,
    not under another band's; a row of plain ids (as written before rows had bands) by any band's.
    Replacing and removing such documents forgets exactly their buckets."""
    from dedup.index.postings import banded, stored_row

    def row(document, windows):
        return stored_row(np.array(document, dtype=np.uint32), np.array(windows, dtype=np.uint32))

    backend = open_backend()
    commit(backend, entry("a", seeds[SEED_000], row([5, 6], [[7, 8, 9], [7, 7, 7]])),
           entry("b", seeds[SEED_001], row([6, 5], [[9, 8, 7]])), entry("c", seeds[SEED_002], [6, 9]))
    other = open_backend()
    for view in (backend, other):
        assert view.lookup(banded(np.array([5, 6]), 1)) == {"a": 2, "c": 1}   # c: id 6, once
        assert view.lookup(banded(np.array([6, 5]), 1)) == {"b": 2, "c": 1}
        assert view.lookup(banded(np.array([7, 8, 9]), 3)) == {"a": 3, "b": 1, "c": 1}   # b: 8 in band 4
        assert view.lookup(banded(np.array([7, 7, 7]), 3)) == {"a": 3, "b": 1}   # a's second window; b's 7 in band 5
        assert view.verify() == []
    commit(backend, entry("a", seeds[SEED_002], row([1, 2], [[3, 4, 5]])))   # a new version of a
    assert backend.remove("b")
    for view in (backend, open_backend()):
        assert view.lookup(banded(np.array([5, 6]), 1)) == {"c": 1}
        assert view.lookup(banded(np.array([1, 6]), 1)) == {"a": 1, "c": 1}
        assert view.verify() == []


def test_rollback_writes_nothing_and_checkpoints_travel_with_their_batch(open_backend, seeds):
    backend = open_backend()
    backend.begin()
    backend.rollback()
    assert backend.stats()["documents"] == 0
    commit(backend, entry("a", seeds[SEED_000], [1]), checkpoint=("run-1", b"\x00state"))
    assert open_backend().checkpoint("run-1") == b"\x00state" and backend.checkpoint("run-2") is None
    commit(backend, finished="run-1")
    assert backend.checkpoint("run-1") is None and backend.stats()["documents"] == 1


def test_no_commit_slips_in_between_a_batch_s_reads_and_its_commit(open_backend, seeds):
    """Check-and-add is atomic: while one writer's batch is open, another cannot commit a document
    the batch could have seen, or else the batch's commit fails with Conflict (and is judged again)."""
    first, second = open_backend(), open_backend()
    first.begin()
    assert first.lookup(np.array([42], dtype=np.uint32)) == {}
    try:
        commit(second, entry("copy", seeds[SEED_001], [42]))
        slipped_in = True
    except IndexLocked:   # SQLite: the open batch holds the write lock
        slipped_in = False
    if slipped_in:        # Redis: the commit went through, so the open batch must not
        with pytest.raises(Conflict):
            first.commit(Batch([entry("original", seeds[SEED_001], [42])]))
        first.begin()     # judged again, it now sees the other writer's document
        assert first.lookup(np.array([42], dtype=np.uint32)) == {"copy": 1}
        first.rollback()
    else:
        first.commit(Batch([entry("original", seeds[SEED_001], [42])]))
        assert second.lookup(np.array([42], dtype=np.uint32)) == {"original": 1}
