"""Shared fixtures: the seed articles, and generated news-like text to build variants from
(everything the tests need is in the repository or made here; no external corpus)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dedup.records import Document

# Generated variants of real articles (benchmarks/synth.py) serve the tests too.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"

SEED_000 = "000_86c1817bd931ca65.txt"
SEED_001 = "001_5ed9fca67c134b59.txt"
SEED_002 = "002_3d18dac6f47cbb1a.txt"


def seed_text(name: str) -> str:
    return (SEEDS / name).read_bytes().decode("utf-8")


@pytest.fixture(scope="session")
def seeds() -> dict[str, str]:
    return {name: seed_text(name) for name in (SEED_000, SEED_001, SEED_002)}


FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def news_pairs() -> list[tuple[str, str, str]]:
    """Sentence pairs (label, sentence 1, sentence 2), label "1" when the second retells the first:
    the hand-written ones in tests/fixtures/paraphrase_pairs.tsv (no external corpus needed)."""
    rows = [line.split("\t") for line in (FIXTURES / "paraphrase_pairs.tsv").read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    return [(r[0], r[1], r[2]) for r in rows if len(r) == 3]


@pytest.fixture(scope="session")
def news_sentences() -> list[str]:
    """3,000 distinct news-like sentences, unrelated to the seeds and to each other."""
    return synthetic_sentences(3000)


def synthetic_sentences(n: int, seed: int = 11) -> list[str]:
    """Distinct sentences that share no run of five words with each other or the seeds.

    Words are drawn from the seeds' vocabulary and from made-up names, with short
    function words between them, so the text tokenises, shingles and splits into
    sentences like news copy without any two sentences saying the same thing.
    Deterministic for a given ``seed``."""
    import random
    import re

    rng = random.Random(seed)
    seed_words = sorted({w.lower() for name in (SEED_000, SEED_001, SEED_002)
                         for w in re.findall(r"[A-Za-z]{4,}", seed_text(name))})
    syllables = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"] + ["ar", "en", "ol", "is", "un"]
    made_up = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(2, 3))) for _ in range(3000)})
    names = [w.capitalize() for w in made_up[::3]]
    content = seed_words + made_up
    glue = ["the", "of", "and", "to", "in", "a", "for", "on", "with", "said", "at", "by", "from", "was", "has"]
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    sentences: list[str] = []
    seen: set[str] = set()
    while len(sentences) < n:
        words = [rng.choice(names)]
        for _ in range(rng.randint(12, 22)):
            roll = rng.random()
            if roll < 0.35:
                words.append(rng.choice(glue))
            elif roll < 0.42:
                words.append(rng.choice(names))
            elif roll < 0.45:
                words.append(str(rng.randint(2, 2000)))
            elif roll < 0.47:
                words.append(rng.choice(days))
            else:
                words.append(rng.choice(content))
        sentence = " ".join(words) + rng.choice([".", ".", ".", "?", "!"] if rng.random() < 0.05 else ["."])
        if sentence not in seen:
            seen.add(sentence)
            sentences.append(sentence)
    return sentences


@pytest.fixture(scope="session")
def long_unrelated_article(news_sentences) -> str:
    """About 3,000 words of real, unrelated news text in paragraphs of four sentences."""
    chosen = news_sentences[:150]
    return "\n\n".join(" ".join(chosen[i:i + 4]) for i in range(0, len(chosen), 4))


def run_cli(*args: str, cwd: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run the installed CLI exactly as a user would."""
    return subprocess.run([sys.executable, "-m", "dedup", *args], capture_output=True, text=True,
                          cwd=cwd, input=stdin, timeout=300)


def scan_json(folder: Path, *extra: str) -> dict:
    result = run_cli("scan", str(folder), "--format", "json", *extra)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


def doc(doc_id: str, text: str, **meta) -> Document:
    return Document(id=doc_id, text=text, **meta)


REDIS = os.environ.get("DEDUP_TEST_REDIS")
REDIS_SKIP = "set DEDUP_TEST_REDIS=redis://127.0.0.1:PORT/0 (.ci/run starts a redis-server and sets it)"


@pytest.fixture
def redis_url():
    """A fresh Redis index location (its own key prefix), its keys deleted afterwards; the test is
    skipped, saying why, when no Redis server is given."""
    if not REDIS:
        pytest.skip(REDIS_SKIP)
    import uuid

    prefix = f"test-{uuid.uuid4().hex[:8]}"
    yield f"{REDIS}?prefix={prefix}"
    import redis
    client = redis.Redis.from_url(REDIS)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


# -- Spark: one session for every Spark test ----------------------------------------------------


def pytest_collection_modifyitems(config, items):
    """Spark tests first: under README's ``pytest -n 2 --dist loadfile`` a test file is one unit of
    work, and test_spark.py, the longest, then starts at once on one worker while the other takes
    the rest.  (Not ``--dist loadgroup``: with pytest 9.2 it silently stops grouping, pytest-xdist
    issue 1386.)  Without xdist only the order changes; no test depends on another's."""
    items.sort(key=lambda item: item.get_closest_marker("spark") is None)   # stable: file order kept


@pytest.fixture(scope="session")
def spark_session():
    """A local[2] SparkSession shared by all Spark tests of a worker (each start costs a JVM)."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (SparkSession.builder.master("local[2]").appName("dedup-tests")
             .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
             .config("spark.default.parallelism", "2").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    yield spark
    spark.stop()
