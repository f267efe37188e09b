"""The pre-ingest filter: persistent index, crash safety, JSONL stream contract."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

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


def generated_stream(news_sentences, n: int) -> list[dict]:
    return [{"id": f"doc{i:04d}", "text": " ".join(news_sentences[i * 6:(i + 1) * 6])} for i in range(n)]


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
