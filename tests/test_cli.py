"""The CLI in a shell: stdin, several paths, globs, --quiet, CSV, the JSON schema, dedupe."""

from __future__ import annotations

import csv
import io
import json
import random
from importlib import resources

import jsonschema
import pytest

from dedup.records import SCHEMA_VERSION
from synth import edit_words, word_slice

from .conftest import SEED_001, SEED_002, run_cli, scan_json, write


@pytest.fixture(scope="module")
def schema() -> dict:
    """The schema file as installed with the package (package data, not the repository copy)."""
    return json.loads((resources.files("dedup") / "schema" / "report.schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def folder(tmp_path_factory, seeds):
    """Seed 002, a 10%-edited copy, an excerpt in a subfolder, seed 001, and a photo (read only)."""
    tmp_path = tmp_path_factory.mktemp("folder")
    original = seeds[SEED_002]
    write(tmp_path, "original.txt", original)
    write(tmp_path, "copy.txt", edit_words(original, 0.10, random.Random(5)))
    write(tmp_path, "clips/excerpt.md", word_slice(original[original.index("Wang’s unhappiness"):], 0, 300))
    write(tmp_path, "other.txt", seeds[SEED_001])
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF")
    return tmp_path


@pytest.fixture(scope="module")
def folder_report(folder) -> dict:
    return scan_json(folder, "--no-paraphrase")


def jsonl(**texts: str) -> str:
    return "".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in texts.items())


def relations(report: dict) -> dict[frozenset, str]:
    return {frozenset((p["a"], p["b"])): p["relation"] for p in report["pairs"]}


def test_dash_reads_jsonl_from_stdin(seeds):
    original = seeds[SEED_002]
    result = run_cli("scan", "-", "--no-paraphrase", "-f", "json",
                     stdin=jsonl(nyp=original, copy=edit_words(original, 0.1, random.Random(1)), memo=seeds[SEED_001]))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [d["id"] for d in report["documents"]] == ["copy", "memo", "nyp"]
    assert relations(report) == {frozenset({"copy", "nyp"}): "duplicate"}


def test_several_paths_and_stdin_together(folder, seeds):
    result = run_cli("scan", str(folder / "original.txt"), str(folder / "clips"), "-", "--no-paraphrase", "-f", "json",
                     stdin=jsonl(memo=seeds[SEED_001]))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    ids = [d["id"] for d in report["documents"]]
    original, excerpt = (folder / "original.txt").as_posix(), (folder / "clips" / "excerpt.md").as_posix()
    assert ids == sorted([original, excerpt, "memo"])
    assert relations(report) == {frozenset({original, excerpt}): "excerpt"}


def test_include_and_exclude_globs(folder):
    everything = run_cli("scan", str(folder), "--no-paraphrase", "-f", "json")
    assert "dedup: skipped photo.jpg: unsupported file type '.jpg'" in everything.stderr
    chosen = run_cli("scan", str(folder), "--no-paraphrase", "-f", "json", "--include", "*.txt", "--include", "*.md",
                     "--exclude", "other*")
    assert chosen.returncode == 0 and chosen.stderr == ""
    report = json.loads(chosen.stdout)
    assert [d["id"] for d in report["documents"]] == ["clips/excerpt.md", "copy.txt", "original.txt"]
    assert report["skipped"] == []
    only_clips = scan_json(folder, "--no-paraphrase", "--include", "clips/*")
    assert [d["id"] for d in only_clips["documents"]] == ["clips/excerpt.md"]


def test_quiet_leaves_stderr_empty_but_errors(folder, tmp_path):
    result = run_cli("scan", str(folder), "--no-paraphrase", "--progress", "--quiet", "-f", "json")
    assert result.returncode == 0 and result.stderr == ""
    assert json.loads(result.stdout)["skipped"][0]["path"] == "photo.jpg"   # still in the report
    missing = run_cli("scan", str(tmp_path / "nowhere"), "--quiet")
    assert missing.returncode == 2
    assert missing.stderr.strip() == f"dedup: error: {tmp_path / 'nowhere'}: no such file or folder"


def test_progress_covers_every_stage_of_a_full_scan():
    result = run_cli("scan", "--progress", "-f", "json")   # the seeds: the paraphrase stage runs
    assert result.returncode == 0
    for stage in ("chrome", "analyze", "candidates", "set-up", "neighbours", "paraphrase", "lineage"):
        assert stage in result.stderr, stage


def test_csv_has_one_row_per_pair_matching_the_json(folder, folder_report):
    report = folder_report
    result = run_cli("scan", str(folder), "--no-paraphrase", "--format", "csv", "-q")
    assert result.returncode == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == len(report["pairs"]) >= 3
    for row, pair in zip(rows, report["pairs"]):
        assert (row["a"], row["b"], row["relation"]) == (pair["a"], pair["b"], pair["relation"])
        assert float(row["containment_a_in_b"]) == pair["containment_a_in_b"]
        assert int(row["passages"]) == len(pair["passages"])
        longest = max(pair["passages"], key=lambda p: p["words"])
        assert row["longest_passage"][:60] == " ".join(longest["text"].split())[:60]


def test_json_carries_its_schema_version_and_real_output_validates(folder_report, schema):
    jsonschema.Draft202012Validator.check_schema(schema)
    files = folder_report                                    # passages, a skipped file
    seeds = json.loads(run_cli("scan", "-f", "json").stdout)  # alignments, an absent source, edges
    for report in (files, seeds):
        assert report["schema_version"] == SCHEMA_VERSION
        jsonschema.validate(report, schema)
    assert files["skipped"] and any(p["passages"] for p in files["pairs"])
    assert any(p["alignments"] for p in seeds["pairs"]) and seeds["sources"] and seeds["edges"]


@pytest.mark.parametrize("break_it", [
    lambda r: r["pairs"][0].update(relation="copy"),
    lambda r: r["pairs"][0]["passages"][0].pop("a_end"),
    lambda r: r["documents"][0].update(chars="many"),
    lambda r: r.update(unknown_section=[]),
    lambda r: r.pop("schema_version"),
])
def test_schema_rejects_what_the_report_never_writes(folder_report, schema, break_it):
    report = json.loads(json.dumps(folder_report))   # a copy to break
    jsonschema.validate(report, schema)
    break_it(report)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(report, schema)


def test_dedupe_keeps_one_per_cluster_and_its_output_scans_clean(folder, tmp_path):
    out, clusters = tmp_path / "unique.jsonl", tmp_path / "clusters.csv"
    result = run_cli("dedupe", str(folder), "-o", str(out), "--clusters", str(clusters), "--keep", "longest")
    assert result.returncode == 0, result.stderr
    assert "4 documents, 2 kept, 2 dropped (keep longest" in result.stderr
    kept = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    lengths = {p.relative_to(folder).as_posix(): len(p.read_text(encoding="utf-8"))
               for p in folder.rglob("*") if p.suffix in (".txt", ".md")}
    longest_copy = max(("original.txt", "copy.txt"), key=lengths.get)
    assert [k["id"] for k in kept] == [longest_copy, "other.txt"]
    assert sorted(kept[0]["dedup"]["dropped"]) == sorted({"original.txt", "copy.txt", "clips/excerpt.md"}
                                                         - {longest_copy})
    assert kept[0]["text"] == (folder / longest_copy).read_text(encoding="utf-8")
    rows = {r["id"]: r for r in csv.DictReader(clusters.open(encoding="utf-8"))}
    assert len(rows) == 4
    assert sorted(i for i, r in rows.items() if r["is_representative"] == "True") == [longest_copy, "other.txt"]
    assert rows["clips/excerpt.md"]["cluster_id"] == rows["original.txt"]["cluster_id"] != rows["other.txt"]["cluster_id"]
    # What was kept has no near-copies left.
    again = run_cli("scan", str(out), "--no-paraphrase", "-f", "json")
    assert json.loads(again.stdout)["pairs"] == []


def test_dedupe_reads_stdin_and_writes_stdout(seeds):
    original = seeds[SEED_002]
    result = run_cli("dedupe", "-", "-q", stdin=jsonl(b=edit_words(original, 0.1, random.Random(2)), a=original))
    assert result.returncode == 0 and result.stderr == ""
    (kept,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert kept["id"] == "a" and kept["dedup"] == {"cluster_id": 0, "family_id": 0, "keep": "earliest",
                                                   "dropped": ["b"]}


@pytest.mark.parametrize("args, message", [
    (("dedupe", "--relations", "copy"), "--relations must be some of duplicate, excerpt, overlap, paraphrase"),
    (("dedupe", "--keep", "first"), "Invalid value for '--keep'"),
    (("scan", "--format", "xml"), "Invalid value for '--format'"),
    (("scan", "--window-words", "1"), "window-words must be in [2, 10000], got 1"),
])
def test_bad_options_are_one_line_and_exit_2(args, message):
    result = run_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_package_is_typed():
    assert (resources.files("dedup") / "py.typed").is_file()


def test_load_warnings_and_the_size_cap_reach_the_user(seeds, schema, tmp_path):
    """A JSONL date that is not a date is dropped with a warning (stderr and JSON), and a
    document over --max-mb is skipped with the reason; the rest of the input is scanned."""
    lines = [json.dumps({"id": "keeps", "text": seeds[SEED_001], "date": "nan"}),
             json.dumps({"id": "big", "text": seeds[SEED_002] * 3})]
    result = run_cli("scan", "-", "--format", "json", "--no-paraphrase", "--max-mb", "0.01",
                     stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    jsonschema.validate(report, schema)
    assert [d["id"] for d in report["documents"]] == ["keeps"]
    assert report["documents"][0]["date"] is None
    (warning,) = report["warnings"]
    assert warning["line"] == 1 and "nan" in warning["reason"]
    assert "dedup: warning <stdin>:1:" in result.stderr
    assert any(s["line"] == 2 and "too large" in s["reason"] for s in report["skipped"])
    bad = run_cli("scan", "-", "--max-mb", "0", stdin=lines[0] + "\n")
    assert bad.returncode == 2 and bad.stderr.startswith("dedup: error: --max-mb must be a positive")
