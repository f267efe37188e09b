"""The JSONL stream filter: every input line ends up in exactly one output, with a reason.

policy ``drop`` (default): unique documents go to ``out`` unchanged; near-duplicates
and invalid lines go to ``rejects`` with a ``dedup`` field saying why (and, with no
rejects stream, are recorded in the log: line number, id, reason).
policy ``flag``: every document goes to ``out`` with a ``dedup`` field; invalid lines
go to ``rejects`` when given, else to ``out`` as ``{"dedup": ..., "raw": line}``.
A document is written out only after the index has committed it, so output is the
acknowledgement: after a crash, resume with the lines not yet written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, TextIO

from .index import Index, Verdict
from .load import parse_record

DROP, FLAG = "drop", "flag"
POLICIES = (DROP, FLAG)
DEFAULT_MAX_LINE_BYTES = 5 * 1024 * 1024


@dataclass
class FilterCounts:
    read: int = 0
    unique: int = 0
    duplicates: int = 0
    invalid: int = 0

    def __str__(self) -> str:
        return (f"{self.read} lines: {self.unique} unique, {self.duplicates} near-duplicates, "
                f"{self.invalid} invalid")


class StreamFilter:
    def __init__(self, index: Index, *, policy: str = DROP, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
                 check_only: bool = False) -> None:
        if policy not in POLICIES:
            raise ValueError(f"policy must be one of {', '.join(POLICIES)}, got {policy!r}")
        self.index = index
        self.policy = policy
        self.max_line_bytes = max_line_bytes
        self.check_only = check_only

    def run(self, lines: Iterable[str], out: TextIO, rejects: TextIO | None, log: TextIO) -> FilterCounts:
        counts = FilterCounts()
        for number, line in enumerate(lines, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            counts.read += 1
            problem = self._too_large(line)
            document = None
            if problem is None:
                document, problem = parse_record(line)
            if problem is not None:
                counts.invalid += 1
                self._invalid(number, line, problem, out, rejects, log)
                continue
            verdict = self.index.check(document) if self.check_only else self.index.add(document)
            if verdict.is_duplicate:
                counts.duplicates += 1
            else:
                counts.unique += 1
            self._judged(number, line, verdict, out, rejects, log)
        return counts

    def _too_large(self, line: str) -> str | None:
        size = len(line.encode("utf-8"))
        if size > self.max_line_bytes:
            return f"line too large: {size / 2**20:.1f} MiB (limit {self.max_line_bytes / 2**20:.1f} MiB)"
        return None

    def _invalid(self, number: int, line: str, problem: str, out, rejects, log) -> None:
        record = {"dedup": {"status": "invalid", "reason": problem, "line": number}, "raw": line}
        log.write(f"dedup filter: line {number}: invalid: {problem}\n")
        target = rejects if rejects is not None else (out if self.policy == FLAG else None)
        if target is not None:
            _emit(target, record)

    def _judged(self, number: int, line: str, verdict: Verdict, out, rejects, log) -> None:
        if self.policy == FLAG:
            _emit(out, _with_verdict(line, verdict, number))
        elif not verdict.is_duplicate:
            out.write(line + "\n")
            out.flush()
        else:
            if rejects is not None:
                _emit(rejects, _with_verdict(line, verdict, number))
        if verdict.is_duplicate:
            log.write(f"dedup filter: line {number}: id {verdict.doc_id}: {verdict.reason}\n")


def _with_verdict(line: str, verdict: Verdict, number: int) -> dict:
    record = json.loads(line)
    record["dedup"] = {"status": "duplicate" if verdict.is_duplicate else "unique", "line": number,
                       **verdict.to_json()}
    return record


def _emit(stream: TextIO, record: dict) -> None:
    stream.write(json.dumps(record, ensure_ascii=False) + "\n")
    stream.flush()
