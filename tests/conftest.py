"""Shared fixtures: the seed articles and real news text to build variants from."""

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
MSRP = Path(os.environ.get("DEDUP_MSRP", ROOT.parent / "shared" / "data" / "msrp")) / "msr_paraphrase_train.txt"

SEED_000 = "000_86c1817bd931ca65.txt"
SEED_001 = "001_5ed9fca67c134b59.txt"
SEED_002 = "002_3d18dac6f47cbb1a.txt"


def seed_text(name: str) -> str:
    return (SEEDS / name).read_bytes().decode("utf-8")


@pytest.fixture(scope="session")
def seeds() -> dict[str, str]:
    return {name: seed_text(name) for name in (SEED_000, SEED_001, SEED_002)}


@pytest.fixture(scope="session")
def news_pairs() -> list[tuple[str, str, str]]:
    """MSRP sentence pairs (label, sentence 1, sentence 2): real news text by many outlets."""
    if not MSRP.exists():
        pytest.skip(f"MSRP corpus not found at {MSRP}")
    rows = [line.split("\t") for line in MSRP.read_text(encoding="utf-8-sig").splitlines()[1:]]
    return [(r[0], r[3], r[4]) for r in rows if len(r) == 5]


@pytest.fixture(scope="session")
def news_sentences(news_pairs) -> list[str]:
    """Distinct real news sentences, unrelated to the seeds."""
    return list(dict.fromkeys(a for _, a, _ in news_pairs))


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
