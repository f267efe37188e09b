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
    done = subprocess.run(filter_command(*reference[:1], source, *reference[1:], "--batch", "20"),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    index, out, rejects = tmp_path / "k.index", tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    command = filter_command(index, source, out, rejects, "--batch", "20")
    rng = random.Random(11)
    kills, wanted = 0, 30
    while True:
        env = dict(os.environ)
        how = ("timer", "committed", "written")[kills % 3] if kills < wanted else None
        if how is not None:
            # Die right after a commit (before writing) or after writing; a timer run may die
            # anywhere before its third commit.  Each killed run does at most 3 groups of 20
            # lines, so 30 kills cannot finish the 2,000 lines.
            point = "committed" if how == "timer" else how
            env[FAULT_ENV] = f"{point}:{3 if how == 'timer' else rng.randint(1, 3)}"
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if how == "timer":
            try:
                proc.wait(timeout=rng.uniform(0.3, 2.5))
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


# -- one clear line and a distinct exit status per fault ------------------------------------

def one_line_error(result, code: int) -> str:
    assert result.returncode == code, result.stderr
    lines = [x for x in result.stderr.splitlines() if x.startswith("dedup: error:")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.fixture
def small_stream(tmp_path) -> tuple[Path, list[bytes]]:
    lines = stream_lines(60, seed=4, invalid_every=0)
    return write_stream(tmp_path / "in.jsonl", lines), lines


def interrupted_run(tmp_path, source: Path, at: str = "committed:2"):
    """A run killed after its second group was committed (before that group was written)."""
    paths = tmp_path / "i.index", tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    env = dict(os.environ, **{FAULT_ENV: at})
    killed = subprocess.run(filter_command(paths[0], source, *paths[1:], "--batch", "10"), env=env,
                            capture_output=True)
    assert killed.returncode == -9
    return paths


def test_invalid_utf8_on_stdin_is_routed_and_the_stream_goes_on(tmp_path):
    lines = stream_lines(30, seed=6, invalid_every=0)
    bad = b'{"id": "cafe", "text": "caf\xe9 cr\xe8me, served in a \xa3 5 cup"}\n'
    stdin = b"".join(lines[:10] + [bad] + lines[10:])
    rejects = tmp_path / "rejects.jsonl"
    result = subprocess.run([sys.executable, "-m", "dedup", "filter", "--index", str(tmp_path / "u.index"),
                             "-r", str(rejects)], input=stdin, capture_output=True, timeout=300)
    assert result.returncode == 0, result.stderr.decode()
    held = [json.loads(x) for x in rejects.read_text().splitlines()]
    invalid = [r for r in held if r["dedup"]["status"] == "invalid"]
    assert [r["dedup"]["reason"] for r in invalid] == ["invalid UTF-8 at byte 28"]
    assert base64_bytes(invalid[0]["raw_base64"]) == bad.rstrip(b"\n")     # the exact bytes are kept
    assert invalid[0]["dedup"]["line"] == 11
    assert len(result.stdout.splitlines()) + len(held) == len(lines) + 1   # every line after it too
    assert b"line 11: invalid: invalid UTF-8 at byte 28" in result.stderr


def base64_bytes(text: str) -> bytes:
    import base64
    return base64.b64decode(text)


def test_full_disk_is_one_line_and_the_rerun_completes_exactly_once(tmp_path, small_stream):
    """A file size limit (as a full disk) stops the filter with status 6; nothing is lost or doubled."""
    source, lines = small_stream
    for limit in (250_000, 500_000, 1_000_000, 2_000_000):   # one that stops the run part-way
        folder = tmp_path / str(limit)
        folder.mkdir()
        index, out, rejects = folder / "f.index", folder / "out.jsonl", folder / "rejects.jsonl"
        command = filter_command(index, source, out, rejects, "--batch", "10")
        full = subprocess.run(command, capture_output=True, text=True, timeout=300,
                              preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))
        if full.returncode != 0 and out.exists() and out.stat().st_size:
            break
    message = one_line_error(full, 6)
    assert "no space left" in message or "cannot write" in message
    assert 0 < len(line_numbers(out, rejects, lines)) < len(lines)     # it stopped part-way
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert sorted(line_numbers(out, rejects, lines)) == list(range(1, len(lines) + 1))
    assert run_cli("index", "check", str(index)).returncode == 0


def test_full_disk_at_the_output_write(tmp_path, small_stream, monkeypatch):
    """ENOSPC while writing an output (after the commit): status 6, and a rerun restores the group."""
    import errno

    from typer.testing import CliRunner

    from dedup import filter as stream_filter
    from dedup.cli import app
    source, lines = small_stream
    index, out, rejects = tmp_path / "w.index", tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    writes = {"n": 0}
    real_write = stream_filter.Sink.write

    def failing_write(self, data):
        writes["n"] += 1
        if writes["n"] == 5:
            raise OSError(errno.ENOSPC, "No space left on device", str(self.name))
        real_write(self, data)

    monkeypatch.setattr(stream_filter.Sink, "write", failing_write)
    args = ["filter", "--index", str(index), "-o", str(out), "-r", str(rejects), "--batch", "10", str(source)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 6 and "No space left on device" in result.output
    monkeypatch.setattr(stream_filter.Sink, "write", real_write)
    again = subprocess.run(filter_command(index, source, out, rejects, "--batch", "10"), capture_output=True,
                           text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert sorted(line_numbers(out, rejects, lines)) == list(range(1, len(lines) + 1))


def flip_inside(path: Path, needle: bytes) -> None:
    """Flip one byte in the middle of where ``needle`` is stored in the file."""
    data = bytearray(path.read_bytes())
    at = data.find(needle)
    assert at >= 0, "the stored bytes were not found in the file"
    data[at + len(needle) // 2] ^= 0x5A
    path.write_bytes(bytes(data))


def built_index(tmp_path, lines: list[bytes]) -> Path:
    from dedup import Index
    from dedup.load import parse_record
    path = tmp_path / "d.index"
    with Index.open(path) as index, index.batch():
        for raw in lines:
            index.add(parse_record(raw.decode())[0])
    return path


@pytest.mark.parametrize("column", ["text", "buckets"])
def test_a_flipped_byte_is_found_by_check_stats_and_filter(tmp_path, small_stream, column):
    source, lines = small_stream
    path = built_index(tmp_path, lines[:20])
    stored = sqlite3.connect(path).execute(f"SELECT id, {column} FROM docs ORDER BY key LIMIT 1 OFFSET 3").fetchone()
    doc_id, blob = stored
    flip_inside(path, blob[len(blob) // 2: len(blob) // 2 + 48])
    check = run_cli("index", "check", str(path))
    message = one_line_error(check, 3)
    assert "damaged" in message and doc_id in check.stderr
    stats = run_cli("index", "stats", str(path))
    assert stats.returncode == 3 and json.loads(stats.stdout)["check"].startswith("DAMAGED")
    if column == "text":   # a copy of the damaged document makes the filter read it back
        copy = json.loads(lines[3])
        copy["id"] = "copy"
        result = run_cli("filter", "--index", str(path), stdin=json.dumps(copy) + "\n")
        assert "damaged" in one_line_error(result, 3)


def test_a_damaged_header_is_status_3(tmp_path, small_stream):
    source, lines = small_stream
    path = built_index(tmp_path, lines[:5])
    data = bytearray(path.read_bytes())
    data[0:16] = b"not sqlite at al"
    path.write_bytes(bytes(data))
    for args in (("index", "stats", str(path)), ("index", "check", str(path))):
        assert "not a dedup index" in one_line_error(run_cli(*args), 3)


def test_resume_refuses_an_emptied_output_and_other_input(tmp_path, small_stream):
    source, lines = small_stream
    index, out, rejects = interrupted_run(tmp_path, source)
    assert out.stat().st_size > 0
    other = write_stream(tmp_path / "other.jsonl", lines[5:])
    message = one_line_error(subprocess.run(filter_command(index, other, out, rejects), capture_output=True,
                                            text=True), 7)
    assert "not the same input" in message
    kept = out.read_bytes()
    out.write_bytes(b"")   # what '>' does on a rerun
    message = one_line_error(subprocess.run(filter_command(index, source, out, rejects), capture_output=True,
                                            text=True), 7)
    assert "cut short or replaced" in message and "'>>'" in message
    out.write_bytes(kept)
    resumed = subprocess.run(filter_command(index, source, out, rejects), capture_output=True, text=True)
    assert resumed.returncode == 0 and "resuming run" in resumed.stderr
    assert sorted(line_numbers(out, rejects, lines)) == list(range(1, len(lines) + 1))


# -- Redis: unreachable, credentials, TLS, URLs ----------------------------------------------

@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of this test's own (it is stopped mid-test), with a password."""
    import shutil
    import socket
    import time
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server on PATH (.ci/run installs it)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--requirepass", "s3cret-Pw"], stdout=subprocess.DEVNULL)
    import redis
    client = redis.Redis(port=port, password="s3cret-Pw")
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield port, proc
    proc.kill()
    proc.wait()


def test_redis_password_is_never_printed(private_redis, tmp_path):
    port, _ = private_redis
    url = f"redis://:s3cret-Pw@127.0.0.1:{port}/0?prefix=p"
    stats = run_cli("index", "stats", url)
    assert stats.returncode == 0, stats.stderr
    assert "s3cret-Pw" not in stats.stdout + stats.stderr and ":***@" in stats.stdout
    wrong = run_cli("index", "stats", f"redis://:s3cret-Pw-wrong@127.0.0.1:{port}/0")
    assert "s3cret-Pw" not in one_line_error(wrong, 5) + wrong.stdout


def test_redis_gone_mid_stream_is_status_5(private_redis, tmp_path):
    port, proc = private_redis
    source = write_stream(tmp_path / "in.jsonl", stream_lines(400, seed=8, invalid_every=0))
    out = tmp_path / "out.jsonl"
    command = filter_command(f"redis://:s3cret-Pw@127.0.0.1:{port}/0", source, out, tmp_path / "rejects.jsonl",
                             "--batch", "10")
    filtering = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    import time
    deadline = time.time() + 120
    while time.time() < deadline and (not out.exists() or out.stat().st_size == 0):
        time.sleep(0.05)
    proc.kill()
    _, err = filtering.communicate(timeout=120)
    result = subprocess.CompletedProcess(command, filtering.returncode, "", err)
    assert "cannot reach Redis" in one_line_error(result, 5) or "Redis error" in err
    assert "s3cret-Pw" not in err


def test_redis_url_faults_fail_fast_with_one_line(private_redis):
    import time
    port, _ = private_redis
    assert "port must be a number" in one_line_error(run_cli("index", "stats", "redis://127.0.0.1:abc/0"), 2)
    started = time.monotonic()
    tls = one_line_error(run_cli("index", "stats", f"rediss://127.0.0.1:{port}/0"), 5)
    assert time.monotonic() - started < 15 and "cannot reach Redis" in tls
    assert "cannot reach Redis" in one_line_error(run_cli("index", "stats", "redis://127.0.0.1:1/0"), 5)


def test_a_quiet_input_does_not_hold_back_judged_lines(tmp_path):
    """--flush-ms bounds latency: a line is committed and written while the input stays open."""
    import time
    lines = stream_lines(3, seed=7, invalid_every=0)
    out = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "dedup", "filter", "--index", str(tmp_path / "q.index"), "-o", str(out),
               "--flush-ms", "200"]
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        proc.stdin.write(lines[0])
        proc.stdin.flush()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (out.exists() and out.stat().st_size):
            time.sleep(0.05)
        assert out.read_bytes() == lines[0] and proc.poll() is None   # written, the input still open
        proc.stdin.write(b"".join(lines[1:]))
    finally:
        proc.stdin.close()
    assert proc.wait(timeout=60) == 0
    assert out.read_bytes() == b"".join(lines)
