"""The shared Redis backend: same verdicts as the embedded index, several workers at once."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dedup import Index, Settings
from dedup.index import IndexError_, IndexMismatch
from dedup.records import Document
from synth import word_slice

from .conftest import SEED_000, SEED_001, SEED_002

pytestmark = pytest.mark.redis
def test_redis_round_trip_and_parameters(redis_url, seeds):
    with Index.open(redis_url) as index:
        for name, text in seeds.items():
            assert index.add(Document(name, text)).relation == "new"
    s002 = seeds[SEED_002]
    with Index.open(redis_url) as index:   # a new connection sees the same index
        assert index.check(Document("copy", s002 + "\nRead more\n")).relation == "duplicate"
        assert index.check(Document("clip", word_slice(s002, 300, 200))).relation == "excerpt"
        assert index.check(Document(SEED_000, seeds[SEED_000])).relation == "already_seen"
        assert index.stats()["documents"] == 3
        assert index.remove(SEED_001) and not index.remove(SEED_001)
        assert index.stats()["documents"] == 2
    with pytest.raises(IndexMismatch):
        Index.open(redis_url, Settings.of(num_perm=64))


def test_two_workers_share_one_redis_index(redis_url, tmp_path):
    from .test_filter_faults import stream_lines
    records = [json.loads(x) for x in stream_lines(120, seed=9, invalid_every=0, related_share=0)]
    records = [{"id": f"w{i}", "text": r["text"]} for i, r in enumerate(records)]
    copies = [{"id": f"copy-of-w{i}", "text": r["text"]} for i, r in enumerate(records[:60])]
    # Worker one ingests the originals, worker two the copies: run one after the other in
    # separate processes, so the second can only know the first's documents through Redis.
    for batch in (records, copies):
        path = tmp_path / f"{batch[0]['id']}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in batch))
        result = subprocess.run([sys.executable, "-m", "dedup", "filter", "--index", redis_url,
                                 "--policy", "flag", str(path)], capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
    verdicts = [json.loads(x)["dedup"] for x in result.stdout.splitlines()]
    assert all(v["relation"] == "duplicate" for v in verdicts)
    assert [v["matches"][0]["id"] for v in verdicts] == [f"w{i}" for i in range(60)]


def test_unreachable_redis_is_a_clear_error():
    with pytest.raises(IndexError_) as err:
        Index.open("redis://127.0.0.1:1/0")
    assert "cannot reach Redis" in str(err.value)
