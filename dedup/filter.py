"""The JSONL stream filter: every input line ends up in exactly one output, once, with a reason.

policy ``drop`` (default): unique documents go to ``out`` unchanged; near-duplicates
and invalid lines go to ``rejects`` with a ``dedup`` field saying why (and, with no
rejects stream, are recorded in the log: line number, id, reason).
policy ``flag``: every document goes to ``out`` with a ``dedup`` field; invalid lines
go to ``rejects`` when given, else to ``out`` as ``{"dedup": ..., "raw": line}``.

Exactly once, even under SIGKILL (a transactional outbox).  Lines are read in groups
(``batch_size`` lines, or what arrived within ``flush_ms``).  Each group is judged in
one index transaction, and the lines it sends to each output are saved *in that same
transaction*, together with where the run stands: input lines consumed (and a
sha256 of them) and each output file's length before the group.  Only after the
commit are the lines written out.  So at any instant the index holds the documents
of the committed groups and the outbox of the last one:

- killed before a commit: nothing of the group is stored or written; rerun judges it again;
- killed after a commit, before or while writing: on rerun each output file is cut back
  to the length saved and the saved group is written again, then the consumed input
  lines are skipped (checked against the hash) and the stream goes on.

Rerun the same command on the same input (outputs named by ``--output``/``--rejects``,
or standard output appended to a file with ``>>``); the run is known by its output
files (or ``--run NAME``).  A pipe cannot be cut back, so into a pipe the last group
may be written twice after a crash (never lost).  A run that completes leaves no
checkpoint behind.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import queue
import stat
import threading
import time
import zlib
from dataclasses import asdict, dataclass, fields
from typing import BinaryIO, Iterable, Iterator, TextIO

from .index import Conflict, Index, Verdict
from .index.backend import EXIT_RESUME, IndexError_
from .load import parse_record

DROP, FLAG = "drop", "flag"
POLICIES = (DROP, FLAG)
DEFAULT_MAX_LINE_BYTES = 5 * 1024 * 1024
DEFAULT_BATCH = 256
DEFAULT_FLUSH_MS = 500
FAULT_ENV = "DEDUP_FILTER_FAULT"   # tests only: "POINT:N" kills the process the N-th time it reaches POINT


class ResumeError(IndexError_):
    """An interrupted run cannot be resumed as asked (other input, an output cut short)."""

    exit_code = EXIT_RESUME


@dataclass
class FilterCounts:
    read: int = 0
    unique: int = 0
    duplicates: int = 0
    invalid: int = 0

    def add(self, other: "FilterCounts") -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def __str__(self) -> str:
        return (f"{self.read} lines: {self.unique} unique, {self.duplicates} near-duplicates, "
                f"{self.invalid} invalid")


class Sink:
    """An output stream; a regular file can also be measured and cut back (for resuming)."""

    def __init__(self, stream, name: str) -> None:
        self.stream = stream
        self.name = name
        self.binary = not isinstance(stream, io.TextIOBase)
        target = stream if self.binary else getattr(stream, "buffer", None)
        self.fd = None
        try:
            fd = stream.fileno()
            if stat.S_ISREG(os.fstat(fd).st_mode) and target is not None:
                self.fd, self.stream, self.binary = fd, target, True
        except (AttributeError, OSError, ValueError):
            pass

    @property
    def is_file(self) -> bool:
        return self.fd is not None

    def identity(self) -> str:
        return os.path.realpath(f"/proc/self/fd/{self.fd}") if os.path.exists("/proc/self/fd") else self.name

    def size(self) -> int:
        self.stream.flush()
        return os.fstat(self.fd).st_size

    def cut(self, length: int) -> None:
        self.stream.flush()
        self.stream.truncate(length)
        self.stream.seek(length)

    def write(self, data: bytes) -> None:
        if data:
            self.stream.write(data if self.binary else data.decode("utf-8"))
            self.stream.flush()


@dataclass
class _Group:
    """What one group of lines sends where (rendered, not yet written)."""

    out: bytearray
    rejects: bytearray
    log: list[str]
    counts: FilterCounts


class StreamFilter:
    def __init__(self, index: Index, *, policy: str = DROP, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
                 check_only: bool = False, batch_size: int = DEFAULT_BATCH, flush_ms: float = DEFAULT_FLUSH_MS,
                 run_name: str | None = None, resume: bool = True) -> None:
        if policy not in POLICIES:
            raise ValueError(f"policy must be one of {', '.join(POLICIES)}, got {policy!r}")
        if batch_size < 1 or flush_ms < 0:
            raise ValueError("batch size must be at least 1 and flush-ms at least 0")
        self.index = index
        self.policy = policy
        self.max_line_bytes = max_line_bytes
        self.check_only = check_only
        self.batch_size = batch_size
        self.flush_s = flush_ms / 1000
        self.run_name = run_name
        self.resume = resume
        self._faults = _parse_fault(os.environ.get(FAULT_ENV))
        self._has_rejects = False

    def run(self, source: BinaryIO | Iterable, out, rejects, log: TextIO) -> FilterCounts:
        """Filter ``source`` (lines, bytes or str) into ``out`` and ``rejects``; a summary of this input."""
        out_sink = out if isinstance(out, Sink) else Sink(out, "output")
        reject_sink = None if rejects is None else rejects if isinstance(rejects, Sink) else Sink(rejects, "rejects")
        self._has_rejects = reject_sink is not None
        run = None if self.check_only else self.run_name or _run_name(out_sink, reject_sink)
        counts, consumed, digest = FilterCounts(), 0, hashlib.sha256()
        state = self._resume(run, out_sink, reject_sink, log) if run and self.resume else None
        lines = _timed_lines(source, self.flush_s)
        if state is not None:
            counts = FilterCounts(**state["counts"])
            consumed = self._skip(lines, state, digest)
            log.write(f"dedup filter: resuming run {run}: {consumed} lines were already done\n")
        for group in self._groups(lines, consumed):
            for _, raw in group:
                digest.update(raw)
            consumed += len(group)
            rendered = self._commit(group, run, out_sink, reject_sink, consumed, digest, counts)
            self._fault("committed")
            self._write(rendered, out_sink, reject_sink, log)
            counts.add(rendered.counts)
            self._fault("written")
        if run is not None:
            self._finish(run)
        return counts

    # -- resuming ----------------------------------------------------------------

    def _resume(self, run: str, out: Sink, rejects: Sink | None, log: TextIO) -> dict | None:
        """Put the outputs back where the last commit left them; the saved state, or None."""
        payload = self.index.checkpoint(run)
        if payload is None:
            return None
        state, boxes = _decode_checkpoint(payload)
        for sink, key, box in ((out, "out", boxes[0]), (rejects, "rejects", boxes[1])):
            if sink is None:
                continue
            before = state["sizes"][key]
            if sink.is_file:
                size = sink.size()
                if size < before:
                    raise ResumeError(f"{sink.name}: holds {size} bytes but the interrupted run had committed "
                                      f"{before}: it was cut short or replaced (written with '>' instead of '>>'?); "
                                      "restore it, or start over with --no-resume")
                sink.cut(before)
            sink.write(box)   # the last committed group: perhaps not, or only partly, written before the crash
        return state

    @staticmethod
    def _skip(lines: Iterator, state: dict, digest) -> int:
        """Consume the lines the interrupted run already did, checking they are the same lines."""
        wanted, done = state["lines"], 0
        while done < wanted:
            item = next(lines, None)
            if item is None:
                raise ResumeError(f"the input has only {done} lines but the interrupted run had done {wanted}: "
                                  "not the same input (rerun it on the same input, or use --no-resume)")
            if item is _TICK:
                continue
            digest.update(item)
            done += 1
        if digest.hexdigest() != state["sha256"]:
            raise ResumeError(f"the first {wanted} lines differ from those of the interrupted run: not the same "
                              "input (rerun it on the same input, or use --no-resume)")
        return done

    def _finish(self, run: str) -> None:
        """The whole input is written: drop the run's checkpoint (a later run starts afresh)."""
        if self.index.checkpoint(run) is None:
            return
        with self.index.batch() as batch:
            batch.finished = run

    # -- one group -----------------------------------------------------------------

    def _groups(self, lines: Iterator, first_number: int) -> Iterator[list[tuple[int, bytes]]]:
        """Lines (numbered from 1) in groups of ``batch_size``, or fewer once ``flush_ms`` passed."""
        group: list[tuple[int, bytes]] = []
        started = 0.0
        number = first_number
        for item in lines:
            if item is not _TICK:
                number += 1
                if not group:
                    started = time.monotonic()
                group.append((number, item))
            if group and (len(group) >= self.batch_size or time.monotonic() - started >= self.flush_s):
                yield group
                group = []
        if group:
            yield group

    def _commit(self, group, run, out: Sink, rejects: Sink | None, consumed: int, digest, counts) -> _Group:
        """Judge a group in one index transaction that also saves its outbox and the run's position."""
        if self.check_only:
            return self._render(group)
        while True:
            try:
                with self.index.batch() as batch:
                    rendered = self._render(group)
                    if run is not None:
                        total = FilterCounts(**asdict(counts))
                        total.add(rendered.counts)
                        state = {"lines": consumed, "sha256": digest.hexdigest(), "counts": asdict(total),
                                 "sizes": {"out": _size(out), "rejects": _size(rejects)}}
                        batch.checkpoint = (run, _encode_checkpoint(state, rendered))
                return rendered
            except Conflict:
                continue   # another worker committed first: judge the group again on the new state

    def _write(self, rendered: _Group, out: Sink, rejects: Sink | None, log: TextIO) -> None:
        out.write(bytes(rendered.out))
        if rejects is not None:
            rejects.write(bytes(rendered.rejects))
        if rendered.log:
            log.write("".join(rendered.log))
            log.flush()

    def _render(self, group: list[tuple[int, bytes]]) -> _Group:
        """Parse the group's lines, judge its documents all together (``Index.add_all``), render in order."""
        rendered = _Group(bytearray(), bytearray(), [], FilterCounts())
        parsed = []   # (line number, line, text, document or None, problem or None)
        for number, raw in group:
            line = raw.rstrip(b"\r\n")
            if not line.strip():
                continue
            text, problem = self._decode(line)
            document = None
            if problem is None:
                document, problem = parse_record(text)
            parsed.append((number, line, text, document, problem))
        documents = [document for _, _, _, document, problem in parsed if problem is None]
        verdicts = iter([self.index.check(d) for d in documents] if self.check_only else self.index.add_all(documents))
        for number, line, text, document, problem in parsed:
            rendered.counts.read += 1
            if problem is not None:
                rendered.counts.invalid += 1
                self._invalid(number, line, text, problem, rendered)
                continue
            verdict = next(verdicts)
            if verdict.is_duplicate:
                rendered.counts.duplicates += 1
            else:
                rendered.counts.unique += 1
            self._judged(number, line, text, verdict, rendered)
        return rendered

    def _decode(self, line: bytes) -> tuple[str, str | None]:
        if len(line) > self.max_line_bytes:
            return line.decode("utf-8", errors="replace"), (f"line too large: {len(line) / 2**20:.1f} MiB "
                        f"(limit {self.max_line_bytes / 2**20:.1f} MiB)")
        try:
            return line.decode("utf-8"), None
        except UnicodeDecodeError as err:
            return line.decode("utf-8", errors="replace"), f"invalid UTF-8 at byte {err.start + 1}"

    def _invalid(self, number: int, line: bytes, text: str, problem: str, rendered: _Group) -> None:
        record = {"dedup": {"status": "invalid", "reason": problem, "line": number}, "raw": text}
        if problem.startswith("invalid UTF-8"):   # the exact bytes too: nothing is lost to the replacement
            record["raw_base64"] = base64.b64encode(line).decode("ascii")
        rendered.log.append(f"dedup filter: line {number}: invalid: {problem}\n")
        if self._has_rejects:
            _emit(rendered.rejects, record)
        elif self.policy == FLAG:
            _emit(rendered.out, record)

    def _judged(self, number: int, line: bytes, text: str, verdict: Verdict, rendered: _Group) -> None:
        if self.policy == FLAG:
            _emit(rendered.out, _with_verdict(text, verdict, number))
        elif not verdict.is_duplicate:
            rendered.out += line + b"\n"
        else:
            _emit(rendered.rejects, _with_verdict(text, verdict, number))
        if verdict.is_duplicate:
            rendered.log.append(f"dedup filter: line {number}: id {verdict.doc_id}: {verdict.reason}\n")

    def _fault(self, point: str) -> None:
        """Test hook (``DEDUP_FILTER_FAULT``): die here, as a SIGKILL would."""
        if point in self._faults:
            self._faults[point] -= 1
            if self._faults[point] == 0:
                import signal
                os.kill(os.getpid(), signal.SIGKILL)


_TICK = object()   # no line arrived within flush_ms


def _timed_lines(source, flush_s: float) -> Iterator:
    """The lines of ``source`` as bytes, with ``_TICK`` whenever none arrived for ``flush_s``.

    A thread reads, so a quiet input (a socket, a slow producer) never holds back the
    lines already judged: their group is committed and written within ``flush_ms``."""
    lines: queue.Queue = queue.Queue(maxsize=4096)
    done = object()

    def read() -> None:
        try:
            for line in source:
                lines.put(line.encode("utf-8") if isinstance(line, str) else line)
        except BaseException as err:   # handed to the main thread, raised there
            lines.put(err)
        lines.put(done)

    threading.Thread(target=read, daemon=True, name="dedup-filter-reader").start()
    while True:
        try:
            item = lines.get(timeout=max(flush_s, 0.001))
        except queue.Empty:
            yield _TICK
            continue
        if item is done:
            return
        if isinstance(item, BaseException):
            raise item
        yield item


def _run_name(out: Sink, rejects: Sink | None) -> str | None:
    """A run is known by its output files; into a pipe (no name to know it by) none is kept."""
    if not out.is_file or (rejects is not None and not rejects.is_file):
        return None
    return "out=" + out.identity() + (";rejects=" + rejects.identity() if rejects is not None else "")


def _size(sink: Sink | None) -> int:
    return sink.size() if sink is not None and sink.is_file else 0


def _encode_checkpoint(state: dict, rendered: _Group) -> bytes:
    header = dict(state, boxes=[len(rendered.out), len(rendered.rejects)])
    return zlib.compress(json.dumps(header).encode("utf-8") + b"\n" + bytes(rendered.out) + bytes(rendered.rejects), 1)


def _decode_checkpoint(payload: bytes) -> tuple[dict, tuple[bytes, bytes]]:
    from .index import IndexDamaged
    try:
        data = zlib.decompress(payload)
        header, body = data.split(b"\n", 1)
        state = json.loads(header)
        n_out, n_rejects = state["boxes"]
    except (zlib.error, ValueError, KeyError) as err:
        raise IndexDamaged(f"the saved checkpoint of the interrupted run is damaged ({err}); "
                           "start over with --no-resume") from None
    return state, (body[:n_out], body[n_out:n_out + n_rejects])


def _parse_fault(spec: str | None) -> dict[str, int]:
    if not spec:
        return {}
    point, _, count = spec.partition(":")
    return {point: int(count or 1)}


def _with_verdict(text: str, verdict: Verdict, number: int) -> dict:
    record = json.loads(text)
    record["dedup"] = {"status": "duplicate" if verdict.is_duplicate else "unique", "line": number,
                       **verdict.to_json()}
    return record


def _emit(target: bytearray, record: dict) -> None:
    target += (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
