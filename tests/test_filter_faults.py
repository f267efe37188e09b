"""The filter under injected faults: SIGKILL anywhere, bad bytes, a full disk, a damaged index.

Streams are real text: generated articles (benchmarks/synth.py) built from the
sentences of the seed articles, with copies, edited copies and excerpts among them.
"""

from __future__ import annotations

import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from dedup.filter import FAULT_ENV
from dedup.text import sentences
from synth import news_corpus

from .conftest import SEED_000, SEED_001, SEED_002, run_cli, seed_text


def seed_sentences() -> list[str]:
    found = []
    for name in (SEED_000, SEED_001, SEED_002):
        text = seed_text(name)
        found += [text[a:b] for a, b in sentences(text) if len(text[a:b].split()) >= 8]
    return found


def stream_lines(n: int, seed: int = 3, *, invalid_every: int = 97, related_share: float = 0.15) -> list[bytes]:
    """``n`` JSONL lines of generated articles (``related_share`` of them copies, edited copies,
    excerpts or rewrites of earlier ones), with an invalid line (malformed JSON, missing text,
    invalid UTF-8) every ``invalid_every`` lines."""
    articles, _ = news_corpus(n, seed_sentences(), random.Random(seed), sentences_per_article=(6, 12),
                              related_share=related_share)
    broken = [b'{"id": "broken", "text": "unterminated\n', b'{"id": "no-text"}\n',
              b'{"id": "latin1", "text": "caf\xe9 au lait, \xa3 5"}\n']
    lines = []
    for i, (doc_id, text) in enumerate(articles, start=1):
        if invalid_every and i % invalid_every == 0:
            lines.append(broken[(i // invalid_every) % len(broken)])
        else:
            lines.append((json.dumps({"id": doc_id, "text": text}) + "\n").encode("utf-8"))
    return lines


def write_stream(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(lines))
    return path


def filter_command(index: Path, source: Path, out: Path, rejects: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "dedup", "filter", "--index", str(index), "-o", str(out), "-r", str(rejects),
            *extra, str(source)]


def line_numbers(out: Path, rejects: Path, lines: list[bytes]) -> list[int]:
    """The input line number of every record in both outputs (with repeats, if any)."""
    number_of = {}
    for number, raw in enumerate(lines, start=1):
        try:
            number_of[json.loads(raw)["id"]] = number
        except (ValueError, KeyError):
            pass
    found = [number_of[json.loads(x)["id"]] for x in out.read_text().splitlines()]
    found += [json.loads(x)["dedup"]["line"] for x in rejects.read_text().splitlines()]
    return found


@pytest.mark.slow
def test_sigkill_anywhere_every_line_once(tmp_path):
    """Dozens of SIGKILLs at random instants and right between commit and write; rerunning the
    same command each time ends with the same outputs as one uninterrupted run, byte for byte."""
    lines = stream_lines(2000)
    source = write_stream(tmp_path / "in.jsonl", lines)
    reference = [tmp_path / "ref.index", tmp_path / "ref-out.jsonl", tmp_path / "ref-rejects.jsonl"]
    done = subprocess.run(filter_command(*reference[:1], source, *reference[1:], "--batch", "25"),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    index, out, rejects = tmp_path / "k.index", tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    command = filter_command(index, source, out, rejects, "--batch", "25")
    rng = random.Random(11)
    kills, wanted = 0, 30
    while True:
        env = dict(os.environ)
        how = ("timer", "committed", "written")[kills % 3] if kills < wanted else None
        if how in ("committed", "written"):   # die right after a commit (before writing) or after writing
            env[FAULT_ENV] = f"{how}:{rng.randint(1, 3)}"
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if how == "timer":
            try:
                proc.wait(timeout=rng.uniform(0.5, 3.0))
            except subprocess.TimeoutExpired:
                proc.kill()   # SIGKILL
        _, err = proc.communicate(timeout=600)
        if proc.returncode == 0:
            break
        assert proc.returncode == -9, err.decode()
        kills += 1
    assert kills >= wanted, "the stream ended before enough kills: make it longer"
    found = line_numbers(out, rejects, lines)
    assert sorted(found) == list(range(1, len(lines) + 1))       # every input line in exactly one output, once
    assert out.read_bytes() == reference[1].read_bytes()          # the same unique documents, in the same order
    assert rejects.read_bytes() == reference[2].read_bytes()
    check = run_cli("index", "check", str(index))
    assert check.returncode == 0, check.stderr
    unique = len(out.read_text().splitlines())
    assert check.stdout.strip() == f"ok: {unique} documents"
    assert sqlite3.connect(index).execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0   # nothing left to resume
