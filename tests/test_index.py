"""The pre-ingest filter: persistent index, crash safety, JSONL stream contract."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from dedup import Index, Settings
from dedup.index import IndexMismatch
from dedup.records import Document
from synth import wrap_chrome, word_slice

from .conftest import SEED_000, SEED_001, SEED_002, run_cli, write
from .test_scan import strip_chrome


def jsonl(records) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


@pytest.fixture
def seeded_index(tmp_path, seeds):
    path = tmp_path / "news.index"
    with Index.open(path) as index:
        for name, text in seeds.items():
            assert index.add(Document(name, text)).added
    return path


def test_round_trip_across_processes(seeded_index, seeds):
    """A fresh process reopens the index and judges copies, excerpts and non-copies."""
    s002 = seeds[SEED_002]
    probe = textwrap.dedent(f"""
        import json, sys
        from dedup import Index, Document
        docs = json.load(sys.stdin)
        with Index.open({str(seeded_index)!r}, create=False) as index:
            print(json.dumps([index.check(Document(i, t)).to_json() for i, t in docs]))
    """)
    docs = [("copy-other-chrome", wrap_chrome(strip_chrome(s002))),
            ("excerpt", word_slice(s002[s002.index("Rather than slow down"):], 0, 250)),
            (SEED_000, seeds[SEED_000]), ("001-again-under-new-id", seeds[SEED_001])]
    result = subprocess.run([sys.executable, "-c", probe], input=json.dumps(docs), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    copy, excerpt, same, renamed = json.loads(result.stdout)
    assert copy["relation"] == "duplicate" and copy["matches"][0]["id"] == SEED_002
    assert excerpt["relation"] == "excerpt" and excerpt["matches"][0]["id"] == SEED_002
    assert same["relation"] == "already_seen"
    assert renamed["relation"] == "duplicate" and renamed["matches"][0]["id"] == SEED_001


def test_seed_000_and_001_are_both_kept(tmp_path, seeds):
    with Index.open(tmp_path / "i.index") as index:
        first = index.add(Document(SEED_000, seeds[SEED_000]))
        second = index.add(Document(SEED_001, seeds[SEED_001]))
    assert first.relation == "new" and second.relation == "new"
    assert second.added and not second.is_duplicate


def test_add_is_idempotent_and_same_id_new_text_replaces(seeded_index, seeds):
    with Index.open(seeded_index) as index:
        again = index.add(Document(SEED_002, seeds[SEED_002]))
        assert again.relation == "already_seen" and not again.added
        before = index.stats()["documents"]
        updated = index.add(Document(SEED_001, seeds[SEED_001] + "\n\nUpdate: Meta declined to comment further."))
        assert updated.added and updated.relation == "new"   # a new version of itself is not a copy
        assert index.stats()["documents"] == before
        assert index.get(SEED_001).text.endswith("declined to comment further.")


def test_check_has_no_side_effect(tmp_path, seeds):
    with Index.open(tmp_path / "i.index") as index:
        assert index.check(Document("x", seeds[SEED_002])).relation == "new"
        assert index.stats()["documents"] == 0


def test_other_sketch_parameters_are_refused(seeded_index):
    with pytest.raises(IndexMismatch) as err:
        Index.open(seeded_index, Settings.of(shingle_size=4))
    assert "shingle_size=5 (now 4)" in str(err.value)
    with pytest.raises(IndexMismatch) as err:   # chrome decides which shingles are stored
        Index.open(seeded_index, Settings.of(chrome_min_docs=6))
    assert "'chrome_min_docs': 4" in str(err.value) and "'chrome_min_docs': 6" in str(err.value)
    with Index.open(seeded_index, Settings.of(min_passage_words=12)) as index:   # verification only: fine
        assert index.stats()["documents"] == 3
    result = run_cli("index", "stats", str(seeded_index))
    assert result.returncode == 0 and json.loads(result.stdout)["documents"] == 3


def test_remove_and_stats(seeded_index, seeds):
    result = run_cli("index", "remove", str(seeded_index), SEED_002)
    assert result.returncode == 0
    stats = json.loads(run_cli("index", "stats", str(seeded_index)).stdout)
    assert stats["documents"] == 2 and stats["bytes_on_disk"] > 0
    assert stats["parameters"]["bands"] == {"document": [25, 5], "window": [37, 3]}
    with Index.open(seeded_index) as index:
        assert index.check(Document("copy", seeds[SEED_002])).relation == "new"
    missing = run_cli("index", "remove", str(seeded_index), "nope")
    assert missing.returncode == 1 and "no document with id 'nope'" in missing.stderr


def test_filter_routes_every_line_with_a_reason(tmp_path, seeds):
    s002 = seeds[SEED_002]
    lines = jsonl([{"id": "a", "text": s002, "source": "New York Post"},
                   {"id": "b", "text": seeds[SEED_000]},
                   {"id": "a-copy", "text": wrap_chrome(strip_chrome(s002))},
                   {"id": "no-text"},
                   {"id": "empty", "text": "  "}])
    lines += '{"id": "broken", "text": "unterminated\n'
    lines += json.dumps({"id": "huge", "text": "word " * (2 * 1024 * 1024)}) + "\n"   # 10 MiB
    lines += jsonl([{"id": "a", "text": s002}])
    rejects = tmp_path / "rejects.jsonl"
    result = run_cli("filter", "--index", str(tmp_path / "n.index"), "--rejects", str(rejects), stdin=lines)
    assert result.returncode == 0, result.stderr
    kept = [json.loads(x)["id"] for x in result.stdout.splitlines()]
    assert kept == ["a", "b"]
    held = [json.loads(x) for x in rejects.read_text().splitlines()]
    reasons = {r.get("id", r["dedup"]["line"]): r["dedup"]["reason"] for r in held}
    assert len(kept) + len(held) == 8            # every line in exactly one output
    assert reasons["a-copy"].startswith("duplicate of a")
    assert reasons[4] == "missing 'text'" and reasons[5] == "empty 'text'"
    assert reasons[6].startswith("malformed JSON")
    assert reasons[7].startswith("line too large: 10.0 MiB")
    assert reasons["a"].startswith("already seen")
    assert "8 lines: 2 unique, 2 near-duplicates, 4 invalid" in result.stderr
    assert "line 3: id a-copy: duplicate of a" in result.stderr


def test_filter_flag_policy_annotates_everything(tmp_path, seeds):
    lines = jsonl([{"id": "a", "text": seeds[SEED_002]}, {"id": "b", "text": seeds[SEED_002]}])
    result = run_cli("filter", "--index", str(tmp_path / "n.index"), "--policy", "flag", stdin=lines)
    out = [json.loads(x) for x in result.stdout.splitlines()]
    assert [(o["id"], o["dedup"]["status"]) for o in out] == [("a", "unique"), ("b", "duplicate")]
    assert out[1]["dedup"]["matches"] == [{"id": "a", "score": 1.0}]


def test_unusable_index_path_is_one_clear_error(tmp_path, seeds):
    lines = jsonl([{"id": "a", "text": seeds[SEED_002]}])
    missing_dir = run_cli("filter", "--index", str(tmp_path / "no" / "such" / "x.index"), stdin=lines)
    assert missing_dir.returncode == 2
    assert missing_dir.stderr.startswith("dedup: error:") and len(missing_dir.stderr.strip().splitlines()) == 1
    not_an_index = write(tmp_path, "notes.txt", "these are not the droids " * 400)
    garbage = run_cli("filter", "--index", str(not_an_index), stdin=lines)
    assert garbage.returncode == 3 and "not a dedup index" in garbage.stderr   # 3: damaged or not an index
    assert "Traceback" not in garbage.stderr + missing_dir.stderr


def test_scan_and_filter_agree_on_duplicates(tmp_path, seeds):
    from dedup import Scanner
    from synth import edit_words
    import random
    s002 = seeds[SEED_002]
    docs = [Document("orig", s002), Document("edited", edit_words(s002, 0.1, random.Random(5))),
            Document("clip", word_slice(s002, 200, 200)), Document("other", seeds[SEED_000])]
    report = Scanner(paraphrase=False).scan(docs)
    with Index.open(tmp_path / "agree.index") as index:
        verdicts = {d.id: index.add(d) for d in docs}
    assert report.pair("edited", "orig").relation == verdicts["edited"].relation == "duplicate"
    assert report.pair("clip", "orig").relation == verdicts["clip"].relation == "excerpt"
    assert verdicts["other"].relation == "new"


def test_a_second_process_sees_what_another_committed(tmp_path, seeds):
    """Each process keeps its postings in memory; it must still see what others commit and remove."""
    path = tmp_path / "shared.index"
    with Index.open(path) as writer, Index.open(path) as reader:
        assert reader.check(Document("copy", seeds[SEED_002])).relation == "new"
        writer.add(Document(SEED_002, seeds[SEED_002]))
        assert reader.check(Document("copy", seeds[SEED_002])).relation == "duplicate"
        assert writer.remove(SEED_002)
        assert reader.check(Document("copy", seeds[SEED_002])).relation == "new"


# -- several writers on one index -------------------------------------------------



@pytest.fixture(params=["sqlite", "redis"])
def shared_location(request, tmp_path):
    """One index location for several processes: a SQLite file, or a fresh Redis prefix."""
    if request.param == "sqlite":
        return str(tmp_path / "shared.index")
    return request.getfixturevalue("redis_url")


def run_writers(location: str, streams: list[Path], tmp_path: Path) -> list[tuple[list[dict], list[dict]]]:
    """Run one ``dedup filter`` per stream, all at once, on one index: (unique, rejects) of each."""
    procs = []
    for k, stream in enumerate(streams):
        out, rejects = tmp_path / f"w{k}-out.jsonl", tmp_path / f"w{k}-rejects.jsonl"
        command = [sys.executable, "-m", "dedup", "filter", "--index", location, "-o", str(out), "-r",
                   str(rejects), "--batch", "16", str(stream)]
        procs.append((subprocess.Popen(command, stderr=subprocess.PIPE, text=True), out, rejects))
    results = []
    for proc, out, rejects in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        results.append(([json.loads(x) for x in out.read_text().splitlines()],
                        [json.loads(x) for x in rejects.read_text().splitlines()]))
    return results


def commit_order(location: str):
    """Sort key: when each admitted document was committed (SQLite row keys, Redis generation)."""
    if location.startswith("redis://"):
        import redis
        from urllib.parse import parse_qs, urlparse
        prefix = parse_qs(urlparse(location).query)["prefix"][0]
        client = redis.Redis.from_url(location.split("?")[0])
        return lambda doc_id: tuple(int(v) for v in client.hmget(f"{prefix}:doc:{doc_id}", "gen", "seq"))
    import sqlite3
    db = sqlite3.connect(location)
    return lambda doc_id: db.execute("SELECT key FROM docs WHERE id = ?", (doc_id,)).fetchone()[0]


def admitted_by_one_writer(lines: list[bytes], folder: Path) -> list[str]:
    from .test_filter_faults import write_stream
    folder.mkdir()
    source = write_stream(folder / "single.jsonl", lines)
    (unique, _), = run_writers(str(folder / "single.index"), [source], folder)
    return [r["id"] for r in unique]


@pytest.mark.slow
@pytest.mark.parametrize("writers", [3])
def test_writers_on_the_same_stream_admit_what_one_writer_admits(shared_location, tmp_path, writers):
    """Each writer gets the whole stream: every document is admitted once, by one of them,
    and the admitted set is exactly one writer's."""
    from .test_filter_faults import stream_lines, write_stream
    lines = stream_lines(300, seed=5, invalid_every=0)
    expected = admitted_by_one_writer(lines, tmp_path / "single")
    source = write_stream(tmp_path / "all.jsonl", lines)
    results = run_writers(shared_location, [source] * writers, tmp_path)
    passed = [r["id"] for unique, _ in results for r in unique]
    assert sorted(passed) == sorted(expected)        # none passed twice, none missing, no extra
    for unique, rejects in results:
        assert len(unique) + len(rejects) == len(lines)
    with Index.open(shared_location) as index:
        assert index.stats()["documents"] == len(expected)


@pytest.mark.slow
@pytest.mark.parametrize("writers", [2, 4])
def test_writers_on_interleaved_streams_admit_no_near_copies(shared_location, tmp_path, writers):
    """Round-robin shares of one stream: which copy of a story comes first may change, but no
    writer admits a near-copy of a document another admitted, and each held-back document is
    a near-copy of one that was admitted."""
    from .test_filter_faults import stream_lines, write_stream
    lines = stream_lines(400, seed=5, invalid_every=0)
    expected = admitted_by_one_writer(lines, tmp_path / "single")
    shares = [write_stream(tmp_path / f"share{k}.jsonl", lines[k::writers]) for k in range(writers)]
    results = run_writers(shared_location, shares, tmp_path)
    admitted = [r["id"] for unique, _ in results for r in unique]
    held = [r for _, rejects in results for r in rejects]
    assert len(admitted) + len(held) == len(lines) and len(set(admitted)) == len(admitted)
    # A single writer given the admitted documents alone holds none of them back ...
    by_id = {json.loads(x)["id"]: x for x in lines}
    again = admitted_by_one_writer([by_id[i] for i in sorted(admitted, key=commit_order(shared_location))],
                                   tmp_path / "again")
    assert sorted(again) == sorted(admitted)
    # ... and every held-back document is a near-copy of an admitted one.
    with Index.open(shared_location) as index:
        assert index.stats()["documents"] == len(admitted)
        for record in held:
            verdict = index.check(Document(record["id"], record["text"]))
            assert verdict.is_duplicate and verdict.matches[0][0] in admitted
    assert abs(len(admitted) - len(expected)) <= len(lines) // 20   # order changes which copy, rarely how many


# -- chrome learned by the index (as a scan learns it) --------------------------------

def test_a_line_repeated_in_enough_indexed_documents_is_chrome_in_filter_as_in_scan(tmp_path, seeds):
    """A site's short lines (here real sentences of seed 001, repeated under every article of
    the site) become chrome once chrome_min_docs documents carry them: a bare republication of
    one article is then its duplicate, before that an excerpt (the site lines count as text)."""
    from dedup import Scanner
    from dedup.text import sentences
    from .test_filter_faults import stream_lines

    s001 = seeds[SEED_001]
    site = [s001[a:b] for a, b in sentences(s001) if 10 <= len(s001[a:b].split()) <= 20][:4]
    assert len(site) == 4
    bodies = [json.loads(x)["text"] for x in stream_lines(5, seed=12, invalid_every=0, related_share=0)]
    on_site = [Document(f"site-{k}", body + "\n\n" + "\n".join(site)) for k, body in enumerate(bodies)]
    republished = Document("elsewhere", bodies[0])   # site-0's article without the site's lines
    min_docs = Settings().chrome.chrome_min_docs
    for carrying in (min_docs - 1, min_docs):
        indexed = on_site[:carrying]
        with Index.open(tmp_path / f"chrome-{carrying}.index") as index:
            for doc in indexed:
                assert index.add(doc).added   # they share only the site lines: an overlap at most
            verdict = index.check(republished)
        pair = Scanner(paraphrase=False).scan(indexed + [republished]).pair("elsewhere", "site-0")
        expected = "excerpt" if carrying < min_docs else "duplicate"
        assert verdict.relation == pair.relation == expected
        assert verdict.matches[0][0] == "site-0"


def test_in_memory_postings_answer_as_a_plain_dict_would(seeds, monkeypatch):
    """The bucket -> documents index (sorted runs merged as they grow, plus a dict buffer) finds
    exactly the documents a dict of lists finds, with the same counts, whatever was sealed or merged:
    a bucket meets its own band's postings only, and rows stored without bands (an index written
    before buckets had them) by their ids in any band, counted once per distinct id."""
    import random
    from collections import Counter

    from dedup.core import Context, analyze
    from dedup.index.prepare import Banding, bucket_ids
    from dedup.index.postings import Postings, Run, row_buckets
    from synth import edit_words
    monkeypatch.setattr(Run, "COUNTED", 997)   # a run's directory counted in several slices
    banding = Banding((25, 5), (37, 3))

    def sketch_of(text: str):
        return analyze(Document("x", text), context).sketch

    def expected(query: np.ndarray, plain: dict, unbanded: dict) -> Counter:
        ids = {b & 0xFFFFFFFF for b in query.tolist()}
        return Counter([d for b in query.tolist() for d in plain.get(b, [])]
                       + [d for i in ids for d in unbanded.get(i, [])])

    context, rng = Context(), random.Random(2)
    postings, plain = Postings(buffer_size=3000), {}
    queries, found, most_runs = [], 0, 0
    texts = [edit_words(seeds[name], rate, rng) for name in seeds for rate in (0.0, 0.05, 0.2, 0.5)] * 3
    for doc, text in enumerate(texts):
        buckets = bucket_ids(sketch_of(text), (25, 5), (37, 3), all_windows=False)
        postings.add(doc, buckets)
        for bucket in buckets.tolist():
            plain.setdefault(bucket, []).append(doc)
        query = bucket_ids(sketch_of(texts[doc // 2]), (25, 5), (37, 3), all_windows=True)
        docs, counts = postings.lookup(query)
        assert dict(zip(docs.tolist(), counts.tolist())) == expected(query, plain, {})
        queries.append(query)
        most_runs = max(most_runs, len(postings._runs))
        if doc % 7 == 6:   # several documents looked up together: each gets what it gets alone
            together = postings.lookup_many(queries)
            assert [(d.tolist(), c.tolist()) for d, c in together] == \
                [(d.tolist(), c.tolist()) for d, c in map(postings.lookup, queries)]
            found += sum(len(d) for d, _ in together)
            queries = []
    assert found and len(postings) == sum(len(v) for v in plain.values()) and most_runs >= 2
    # loaded from stored rows a group at a time (opening an index, a committed group), every third
    # row as an index written before bands stored it (its distinct ids, sorted)
    rows = [banding.query_and_stored(sketch_of(text))[1] for text in texts]
    for k in range(0, len(rows), 3):
        rows[k] = np.unique(rows[k][2:])
    plain, unbanded = {}, {}
    for doc, row in enumerate(rows):
        buckets = row_buckets([row])[0]
        assert len(row) - len(buckets) == (0 if doc % 3 == 0 else 2)   # the header is no bucket
        for bucket in set(buckets.tolist()):
            if bucket >> 32:
                plain.setdefault(bucket, []).append(doc)
            else:
                unbanded.setdefault(bucket, []).append(doc)
    bulk = Postings(buffer_size=3000)
    for start in range(0, len(texts), 20):
        bulk.add_rows(list(range(start, min(start + 20, len(texts)))), rows[start:start + 20])
    for text in texts[::3] + [texts[1]]:
        query = bucket_ids(sketch_of(text), (25, 5), (37, 3), all_windows=True)
        docs, counts = bulk.lookup(query)
        assert dict(zip(docs.tolist(), counts.tolist())) == expected(query, plain, unbanded)
    assert len(bulk) == sum(len(v) for v in plain.values()) + sum(len(v) for v in unbanded.values())


def test_a_bucket_meets_only_its_own_band_s_postings():
    """The same 32-bit id in two bands is two buckets (chance collisions across bands are what
    grew the candidates with the index); stored without bands, it meets both."""
    from dedup.index.postings import Postings, banded
    postings = Postings()
    postings.add_rows(list(range(100, 200)), [np.array([0xFFFFFFFF, 2 << 16 | 3, 7, 8, 9, 10, 11])] * 100)
    postings.add(1, banded(np.array([7, 8]), 1))            # ids 7, 8 in bands 1, 2
    postings.add(2, banded(np.array([8, 7]), 1))            # the same ids, bands swapped
    postings.add(3, np.array([7, 8], dtype=np.uint64))      # without bands
    docs, counts = postings.lookup(banded(np.array([7, 8]), 1))
    assert dict(zip(docs.tolist(), counts.tolist())) == {1: 2, 3: 2, **{d: 2 for d in range(100, 200)}}
    docs, counts = postings.lookup(banded(np.array([9, 7]), 3))   # window bands: 9 in 3, 7 in 4
    assert dict(zip(docs.tolist(), counts.tolist())) == {3: 1, **{d: 1 for d in range(100, 200)}}
    docs, counts = postings.lookup(banded(np.array([10, 11]), 4))   # the window's second and third bands
    assert dict(zip(docs.tolist(), counts.tolist())) == {d: 2 for d in range(100, 200)}
    assert len(postings.lookup(banded(np.array([10, 11]), 3))[0]) == 0   # the same ids, one band off


def test_an_index_written_before_rows_had_bands_opens_and_answers_as_one_written_now(tmp_path):
    """An index whose rows hold sorted distinct ids (as written before rows kept their bands' order)
    opens as it is, its documents found by their ids in any band; documents added now get rows in
    band order beside them; the verdicts are those of an index written now throughout."""
    import shutil
    import sqlite3

    from dedup.index.postings import ROW_MARK
    from dedup.index.sqlite import row_crc
    docs = site_stream(160, seed=5)
    first, later = docs[:100], docs[100:]
    settings = Settings.of(jobs=1)
    with Index.open(tmp_path / "now.index", settings) as index:
        index.add_all(first)
    # the same documents, their rows then rewritten as the code before bands wrote them
    shutil.copy(tmp_path / "now.index", tmp_path / "before.index")
    db = sqlite3.connect(tmp_path / "before.index")
    for key, doc_id, digest, meta, row, lines in db.execute("SELECT key, id, digest, meta, buckets, lines "
                                                             "FROM docs").fetchall():
        plain = np.unique(np.frombuffer(row, dtype=np.uint32)[2:]).tobytes()
        db.execute("UPDATE docs SET buckets = ?, crc = ? WHERE key = ?",
                   (plain, row_crc(doc_id, digest, meta, plain, lines), key))
    db.commit()
    db.close()
    with Index.open(tmp_path / "now.index", settings) as index:
        expected = verdicts_of(index.add_all(later))
    with Index.open(tmp_path / "before.index", settings) as index:
        assert index.backend.postings._any_band > 0 and index.verify() == []
        got = verdicts_of(index.add_all(later))
    assert got == expected
    matched = {i for _, _, _, matches in expected for i, _ in matches}
    assert matched & {doc.id for doc in first}   # later documents were found by rows without bands
    with Index.open(tmp_path / "before.index", settings) as index:
        rows = dict(index.backend.db.execute("SELECT id, buckets FROM docs").fetchall())
        assert index.verify() == []
    marked = {doc_id for doc_id, row in rows.items() if np.frombuffer(row, dtype=np.uint32)[0] == ROW_MARK}
    assert marked == {doc.id for doc, (_, _, added, _) in zip(later, expected) if added}


# -- documents analysed ahead in a worker process (Index.add_all) ---------------------------

def site_stream(n: int, seed: int) -> list[Document]:
    """Generated real-text articles, some of them carrying a site's short lines (which become chrome
    part-way through the first batch), with copies, edited copies and excerpts among them."""
    from .test_filter_faults import stream_lines
    site = "\n".join(["Subscribe to our morning briefing", "All rights reserved by the Daily Courier",
                      "Share this story with a friend"])
    records = [json.loads(x) for x in stream_lines(n, seed=seed, invalid_every=0, related_share=0.3)]
    return [Document(r["id"], r["text"] + ("\n\n" + site if k % 3 == 0 else "")) for k, r in enumerate(records)]


def verdicts_of(verdicts) -> list[tuple]:
    return [(v.doc_id, v.relation, v.added, [(i, round(s, 6)) for i, s in v.matches]) for v in verdicts]


def test_add_all_with_a_worker_gives_the_verdicts_of_add_one_by_one(tmp_path):
    """The worker analyses, looks up and verifies ahead against the committed documents; the
    index keeps that work only where it still holds (no chrome change, no candidate in the open
    batch), so the verdicts are exactly those of ``add`` in one process."""
    from dedup.index import prepare
    docs = site_stream(240, seed=8)
    with Index.open(tmp_path / "one-by-one.index", Settings.of(jobs=1)) as index:
        expected = []
        for start in range(0, len(docs), 80):
            with index.batch():
                expected += [index.add(d) for d in docs[start:start + 80]]
    # whichever share of the work the worker is given (analysing from the lead-th document of a
    # group on, verifying a share of them), as the balance between the two processes moves it
    for lead, share in ((prepare.FIRST, 1.0), (40, 0.0), (prepare.MAX_LEAD, 0.5)):
        with Index.open(tmp_path / f"ahead-{lead}.index", Settings.of(jobs=2)) as index:
            found = []
            for start in range(0, len(docs), 80):
                index._preparer.lead, index._preparer.share = lead, share
                found += index.add_all(docs[start:start + 80])
            assert index._preparer._worker is not None   # the worker did take part
        assert verdicts_of(found) == verdicts_of(expected)
    relations = {v.relation for v in expected}
    assert {"new", "duplicate"} <= relations and len(relations) >= 3   # the stream has copies to find


def test_the_worker_ends_when_its_process_is_killed(tmp_path):
    """A SIGKILLed filter cannot stop its worker: the worker's input closes and it exits."""
    import os
    import signal
    import time
    source = tmp_path / "docs.json"
    source.write_text(json.dumps([(d.id, d.text) for d in site_stream(60, seed=2)]))
    script = textwrap.dedent(f"""
        import json, os, signal
        from dedup import Document, Index, Settings
        docs = [Document(i, t) for i, t in json.load(open({str(source)!r}))]
        with Index.open({str(tmp_path / 'k.index')!r}, Settings.of(jobs=2)) as index:
            index.add_all(docs)
            print(index._preparer._worker.pid, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == -signal.SIGKILL, result.stderr
    worker = int(result.stdout.split()[0])
    for _ in range(100):
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError(f"worker {worker} still running after its parent was killed")


# -- what the verifier keeps in memory: admitted analyses, shingle sets ----------------------

def assert_same_analysis(kept, again) -> None:
    from dataclasses import fields

    from dedup.sketch import Fingerprint
    assert kept.chrome == again.chrome
    for name in (f.name for f in fields(Fingerprint) if f.name != "doc_id"):
        assert np.array_equal(getattr(kept.fingerprint, name), getattr(again.fingerprint, name)), name


def test_the_analysis_kept_at_admission_is_the_one_verification_would_make(tmp_path):
    """A document admitted is verified against later with the analysis made when it came in
    (kept with the chrome it took); on real text, with site lines that turn into chrome part-way,
    that analysis equals analysing its stored text again with that chrome."""
    from dedup.index.backend import StoredDocument
    from dedup.index.prepare import analyze_for_verification
    docs = site_stream(40, seed=3)
    with Index.open(tmp_path / "i.index", Settings.of(jobs=1)) as index:
        verdicts = index.add_all(docs)
        kept = [index._verifier._analyses.get((d.id, StoredDocument.digest_of(d.text))) for d in docs]
        for doc, verdict, entry in zip(docs, verdicts, kept):
            assert (entry is not None) == verdict.added
            if entry is not None:
                assert_same_analysis(entry[2], analyze_for_verification(index.get(doc.id),
                                                                        index.context, entry[1]))
    assert any(entry[1] for entry in kept if entry) and any(not entry[1] for entry in kept if entry)


def test_kept_shingles_bound_the_aligner_s_seeds_under_any_chrome(seeds):
    """The rule-out is exact: a document's shingles with any of its short lines taken as chrome
    are among its kept shingles (all words, no chrome), position for position, so the seeds they
    give with another document are at most those the kept ones give; with fewer than two seeds the
    aligner finds no passage.  On real text, pairs are ruled out sharing no shingle and sharing one."""
    from collections import Counter

    from dedup.core import Context, verify_verbatim
    from dedup.index.prepare import all_shingles, analyze_for_verification, analyze_with_chrome, has_seeds, \
        seeds as seeds_of, short_lines, with_seeds
    context = Context()
    docs = site_stream(24, seed=5) + [Document(name, text) for name, text in seeds.items()]
    kept = {d.id: all_shingles(d, context) for d in docs}
    for doc in docs:
        lines = sorted(short_lines(doc, context))
        for chrome in (frozenset(), frozenset(lines), frozenset(lines[::2])):
            under = Counter(analyze_for_verification(doc, context, chrome).fingerprint.shingles.tolist())
            assert not under - Counter(kept[doc.id].tolist())
    analyses = [analyze_with_chrome(d, context, frozenset()) for d in docs]
    found = Counter()
    for a in analyses:
        for b in analyses:
            if a is not b:
                bound = min(seeds_of(a.fingerprint.shingles, kept[b.id]), 2)
                passages = bool(verify_verbatim(a, b, context).passages)
                assert [has_seeds(a.fingerprint.shingles, kept[b.id], n) for n in (1, 2)] == [bound >= 1, bound >= 2]
                assert bound == 2 or not passages
                found[bound, passages] += 1
    assert found[0, False] and found[1, False] and found[2, True]
    # all candidates' kept sets counted together give each one's own answer (kept sets empty too)
    sets = [kept[d.id] for d in docs] + [kept[docs[0].id][:0]]
    for a in analyses:
        for needed in (1, 2, 3):
            assert with_seeds(a.fingerprint.shingles, sets, needed) == [seeds_of(a.fingerprint.shingles, k) >= needed
                                                                        for k in sets]


def test_verdicts_do_not_depend_on_what_the_verifier_keeps(tmp_path, monkeypatch):
    """No shingle sets kept, a few (most evicted), or all; kept analyses or none: the same verdicts."""
    from dedup.index import prepare
    docs = site_stream(200, seed=9)
    results = {}
    for shingle_sets, analyses in ((0, 0), (60, 5), (100_000, prepare.ANALYSES_KEPT)):
        monkeypatch.setattr(prepare, "ANALYSES_KEPT", analyses)
        settings = Settings.of(jobs=1, shingle_sets_kept=shingle_sets)
        with Index.open(tmp_path / f"kept-{shingle_sets}.index", settings) as index:
            found = []
            for start in range(0, len(docs), 50):
                found += index.add_all(docs[start:start + 50])
            results[shingle_sets] = verdicts_of(found), index._verifier.counts
    (none, nothing_kept), (few, some_kept), (every, all_kept) = results.values()
    assert none == few == every
    assert not nothing_kept and 0 < some_kept["shingles checked"] < all_kept["shingles checked"]
    assert 0 < some_kept["kept analysis"] < all_kept["kept analysis"]
    assert {"new", "duplicate"} <= {v[1] for v in none}


def test_a_candidate_ruled_out_by_its_kept_shingles_gets_the_verdict_verification_gives(tmp_path, seeds):
    """Articles sharing too few shingles for a passage (candidates when their 32-bit bucket ids
    collide, which grows with the index, or when they share a phrase) are ruled out by their kept
    shingles without analysing them again; the answer is the one the full verification gives."""
    from dedup.core import Context
    from dedup.index.backend import StoredDocument
    from dedup.index.prepare import Verifier, analyze_with_chrome
    context = Context()
    docs = {d.id: d for d in site_stream(12, seed=4) + [Document(n, t) for n, t in seeds.items()]}
    stored = {i: StoredDocument.of(d) for i, d in docs.items()}
    no_counts = lambda lines: dict.fromkeys(lines, 0)   # noqa: E731
    digests = lambda ids: [stored[i].digest if i in stored else None for i in ids]   # noqa: E731
    keeping = Verifier(context, stored.get, digests, no_counts)
    verifying = Verifier(Context(Settings.of(shingle_sets_kept=0)), stored.get, digests, no_counts)
    for doc in docs.values():
        keeping.remember(doc, stored[doc.id].digest)
    for doc in docs.values():
        incoming = analyze_with_chrome(doc, context, frozenset())
        for other in docs:
            if other != doc.id:
                assert keeping.compare(incoming, other, set()).found == verifying.compare(incoming, other, set()).found
    assert keeping.counts["ruled out"] > 0 and keeping.counts["shingles checked"] > keeping.counts["ruled out"]
    assert not verifying.counts["shingles checked"]


def test_short_lines_are_the_normalised_lines_of_few_words(seeds):
    """The chrome counts are kept by a document's short lines; lines are passed over by their word
    count before normalising them only where normalising cannot change it (ASCII).  Real text, also
    with its spaces made non-breaking or zero-width and its quotes curly (NFKC and the folds apply)."""
    from dedup.chrome import line_key
    from dedup.core import Context
    from dedup.index.prepare import short_lines
    from dedup.text import lines
    context = Context()
    most = context.settings.chrome.repeat_max_words
    docs = site_stream(30, seed=3) + [Document(n, t) for n, t in seeds.items()]
    variants = {"nbsp": lambda t: t.replace(" ", "\u00a0"), "zero-width": lambda t: t.replace(" ", " \u200b "),
                "curly": lambda t: t.replace("'", "\u2019").replace(" - ", " \u2014 "), "plain": lambda t: t}
    found = 0
    for doc in docs:
        for change in variants.values():
            text = change(doc.text)
            expected = {k for k in (line_key(text[s:e]) for s, e in lines(text)) if k and len(k.split()) <= most}
            assert set(short_lines(Document(doc.id, text), context)) == expected
            found += len(expected)
    assert found


# -- the two processes' share of the work: packed answers, lookups here, candidates together ----

def test_packed_answers_are_the_documents_the_worker_prepared(seeds):
    """What the worker sends back (each kind of array of a chunk concatenated, no texts, no empty
    sketches) is, once unpacked with the chunk's documents, what it prepared: real text, with site
    lines taken as chrome, verified candidates, and a document too short to be looked up."""
    import pickle
    from dataclasses import fields

    from dedup.candidates import banding as bands
    from dedup.core import Context
    from dedup.index.prepare import Banding, Verifier, packed, prepare_ahead, short_lines, unpacked
    context = Context()
    docs = site_stream(30, seed=6) + [Document("short", "Too short.")]
    chrome = {key for doc in docs for key in short_lines(doc, context)}
    s = context.settings
    banding = Banding(bands(s.candidates.document_threshold, s.sketch.num_perm),
                      bands(s.candidates.window_threshold, s.sketch.num_perm))
    verifier = Verifier(context, lambda _: None, lambda ids: [None] * len(ids), lambda lines: dict.fromkeys(lines, 0))
    verifier.seen_chrome |= set(sorted(chrome)[::2])
    prepared = prepare_ahead(docs, context, verifier, banding)
    back = unpacked(pickle.loads(pickle.dumps(packed(prepared))), docs, s.sketch.num_perm)
    assert prepared[-1].query is None and back[-1].query is None and any(p.chrome for p in prepared)
    for one, other in zip(prepared, back):
        assert (one.lines, one.chrome, one.hits, one.checked) == (other.lines, other.chrome, other.hits, other.checked)
        assert one.record == other.record and one.record.packed == other.record.packed
        assert one.analysis.document == other.analysis.document
        assert_same_analysis(one.analysis, other.analysis)
        for name in ("query", "stored"):
            mine, theirs = getattr(one, name), getattr(other, name)
            assert (mine is None) == (theirs is None)
            assert mine is None or (np.array_equal(mine, theirs) and mine.dtype == theirs.dtype)
        for field in fields(one.analysis.sketch):
            assert np.array_equal(getattr(one.analysis.sketch, field.name), getattr(other.analysis.sketch, field.name))
        for name in ("token_starts", "token_ends", "segments", "shingles", "shingle_tokens"):
            assert getattr(one.analysis.fingerprint, name).dtype == getattr(other.analysis.fingerprint, name).dtype


def test_candidates_compared_together_get_the_answers_compared_one_by_one(seeds):
    """``compare_many`` reads the candidates' line counts at once and analyses those without a kept
    analysis together, with one chrome set for all: on real text where some candidates carry
    lines counted as chrome and others do not, each answer (relation, share, chrome taken) is the
    one ``compare`` gives alone, with nothing kept."""
    from dedup.core import Context
    from dedup.index.backend import StoredDocument
    from dedup.index.prepare import Verifier, analyze_with_chrome, short_lines
    context = Context(Settings.of(shingle_sets_kept=0))
    docs = {d.id: d for d in site_stream(40, seed=7) + [Document(n, t) for n, t in seeds.items()]}
    stored = {i: StoredDocument.of(d) for i, d in docs.items()}
    site = {key for d in docs.values() for key in short_lines(d, context)
            if sum(key in short_lines(o, context) for o in docs.values()) > 1}
    counts = lambda lines: {k: 10 if k in site else 0 for k in lines}   # noqa: E731  site lines: chrome
    digests = lambda ids: [stored[i].digest if i in stored else None for i in ids]   # noqa: E731
    together = Verifier(context, stored.get, digests, counts)
    alone = Verifier(context, stored.get, digests, counts)
    kinds = set()
    ids = list(docs)
    for k, doc in enumerate(docs.values()):
        incoming = analyze_with_chrome(doc, context, frozenset())
        others = [i for i in ids[k + 1:k + 13] if i != doc.id] + ["not-indexed"]
        many = together.compare_many(incoming, others, set(short_lines(doc, context)))
        for other, answer in zip(others, many):
            one = alone.compare(incoming, other, set(short_lines(doc, context)))
            assert (answer.found, answer.lines, answer.chrome) == (one.found, one.lines, one.chrome)
            kinds.add((answer.found is not None, bool(answer.chrome)))
    assert kinds >= {(True, True), (False, True), (False, False)}


def test_lookups_made_here_or_in_the_worker_see_another_writer_s_documents(tmp_path):
    """The documents the worker does not verify are looked up in this process, the others by the
    worker, which reads the postings only while it verifies (catching up on what it missed): either
    way copies of what another writer committed in between are found."""
    docs = site_stream(240, seed=12)
    originals, rest = docs[:120], docs[120:]
    path = tmp_path / "shared.index"
    with Index.open(path, Settings.of(jobs=2)) as index, Index.open(path, Settings.of(jobs=1)) as other:
        index.add_all(rest[:60])
        for k, share in enumerate((0.0, 1.0, 0.0, 1.0)):
            batch = originals[30 * k:30 * k + 30]
            admitted = [v.added for v in other.add_all(batch)]   # committed by the other writer
            copies = [Document(f"copy-{d.id}", d.text) for d in batch] + rest[60 + 15 * k:75 + 15 * k]
            index._preparer.lead, index._preparer.share = 8, share
            verdicts = index.add_all(copies)
            assert index._preparer._worker is not None
            assert all(v.is_duplicate for v in verdicts[:len(batch)]), share
            assert all(d.id in dict(v.matches) for v, d, added in zip(verdicts, batch, admitted) if added)
        assert sum(admitted) > 20


def test_the_worker_runs_this_dedup_whatever_the_working_folder_holds(tmp_path, monkeypatch):
    """The worker is started with ``-c``, which puts the working folder first on its path: a folder
    holding another ``dedup`` (another checkout) must not be imported by it."""
    fake = tmp_path / "elsewhere" / "dedup"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('another dedup was imported')\n")
    monkeypatch.chdir(fake.parent)
    docs = site_stream(60, seed=2)
    with Index.open(tmp_path / "w.index", Settings.of(jobs=2)) as index:
        verdicts = index.add_all(docs)
        assert index._preparer._worker is not None
    assert len(verdicts) == len(docs)


def test_a_document_s_query_and_stored_buckets_are_its_bucket_ids(seeds):
    """``Banding.query_and_stored`` makes each window's keys once for both: on real text (seeds,
    a site stream, a text of one window) they are ``bucket_ids`` of all windows and, read back from
    the stored row by the places of its ids, of the stored ones."""
    from dedup.core import Context, analyze
    from dedup.index.postings import row_buckets
    from dedup.index.prepare import Banding, bucket_ids
    context, banding = Context(), Banding((25, 5), (37, 3))
    docs = [Document(n, t) for n, t in seeds.items()] + site_stream(20, seed=1) + \
        [Document("one window", "A b c d e f g."), Document("none", "Too short.")]
    windows = set()
    for doc in docs:
        sketch = analyze(doc, context).sketch
        query, stored = banding.query_and_stored(sketch)
        assert np.array_equal(np.unique(row_buckets([stored])[0]),
                              bucket_ids(sketch, (25, 5), (37, 3), all_windows=False))
        n = len(sketch.windows)   # every other window and the last, all of two or fewer
        kept_windows = n if n <= 2 else (n + 1) // 2 + (n % 2 == 0)
        assert stored.dtype == np.uint32 and len(stored) == 2 + 25 + 37 * kept_windows
        if sketch.empty:
            assert query is None
        else:
            assert np.array_equal(query, bucket_ids(sketch, (25, 5), (37, 3), all_windows=True))
            assert set((query >> 32).tolist()) == set(range(1, 1 + 25 + 37))
        windows.add(min(len(sketch.windows), 3))
    assert windows == {0, 1, 2, 3}   # empty, one window, two (all kept), more (every other one)


def test_an_unreadable_answer_from_a_live_worker_ends_it_instead_of_hanging(tmp_path, monkeypatch):
    """When an answer cannot be read while the worker is alive and blocked writing more (and this
    process's writer thread blocked feeding it), the filter must fail with its one-line error, not
    wait forever on closing the worker's input (fails on the old code: the call never returns)."""
    import pickle
    import threading
    from dedup.index import prepare
    docs = site_stream(1500, seed=4)   # requests and answers both far outgrow a pipe's buffer
    real_load = pickle.load

    def unreadable(stream):
        if stream is not None and getattr(stream, "name", None) != "<stdin>":
            raise pickle.UnpicklingError("a damaged answer")
        return real_load(stream)

    outcome: list[BaseException | None] = []

    def run() -> None:
        with Index.open(tmp_path / "u.index", Settings.of(jobs=2)) as index:
            index._preparer.lead = prepare.FIRST
            monkeypatch.setattr(prepare.pickle, "load", unreadable)
            try:
                index.add_all(docs)
                outcome.append(None)
            except RuntimeError as error:
                outcome.append(error)
            finally:
                monkeypatch.setattr(prepare.pickle, "load", real_load)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(120)
    assert not thread.is_alive(), "the filter hung closing a worker it could not read"
    assert len(outcome) == 1 and isinstance(outcome[0], RuntimeError)
    assert "worker process died" in str(outcome[0])


def test_the_kept_analyses_are_bounded_the_least_recent_dropped(tmp_path, monkeypatch):
    """Memory stays bounded however long the stream: at most ``ANALYSES_KEPT`` analyses, of the
    documents admitted or verified against last; the ones dropped are analysed again when they are
    candidates."""
    from dedup.index import prepare
    from dedup.index.backend import StoredDocument
    monkeypatch.setattr(prepare, "ANALYSES_KEPT", 6)
    docs = site_stream(40, seed=3)
    with Index.open(tmp_path / "i.index", Settings.of(jobs=1)) as index:
        admitted = [d for d, v in zip(docs, index.add_all(docs)) if v.added]
        kept = index._verifier._analyses
        assert len(admitted) > 6 and len(kept) == 6
        held = [kept.get((d.id, StoredDocument.digest_of(d.text))) is not None for d in admitted]
        assert sum(held) == 6 and held[-1] and not held[0]   # the last admitted kept, the first dropped
