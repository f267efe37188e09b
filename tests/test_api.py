"""The library in a pipeline: dedup.scan on records, DataFrames and datasets; tables; representatives."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

import dedup
from dedup import Document, RecordError
from dedup.export import deduplicate, document_rows
from synth import edit_words, word_slice

from .conftest import SEED_000, SEED_001, SEED_002, write


@pytest.fixture(scope="module")
def variants(seeds) -> dict[str, str]:
    """Seed 002, a copy with 10% of its words edited, a 300-word excerpt, and seed 001 (unrelated
    to 002 verbatim)."""
    original = seeds[SEED_002]
    return {
        "original": original,
        "edited": edit_words(original, 0.10, random.Random(3)),
        "excerpt": word_slice(original[original.index("Wang’s unhappiness"):], 0, 300),
        "other": seeds[SEED_001],
    }


def relations(report) -> dict[frozenset, str]:
    return {frozenset((p.a, p.b)): p.relation for p in report.pairs}


def test_plain_strings_get_position_ids_and_are_scanned(variants):
    texts = [variants["other"], variants["original"], variants["edited"]]
    report = dedup.scan(texts, paraphrase=False)
    assert [d.id for d in report.documents] == ["0", "1", "2"]
    assert report.document("1").title == variants["original"].splitlines()[0].strip()
    assert relations(report) == {frozenset({"1", "2"}): "duplicate"}


def test_string_ids_sort_in_input_order_past_ten(variants):
    texts = [f"{variants['excerpt']} Part {n}." for n in range(11)]
    report = dedup.scan(texts, paraphrase=False)
    assert [d.id for d in report.documents] == [f"{n:02d}" for n in range(11)]


def test_mappings_with_metadata_and_renamed_columns(variants):
    rows = [{"key": "orig", "body": variants["original"], "outlet": "New York Post", "when": "2025-11-20"},
            {"key": 7, "body": variants["excerpt"], "when": None, "link": "https://example.org/7"}]
    report = dedup.scan(rows, columns={"id": "key", "text": "body", "source": "outlet", "date": "when",
                                       "url": "link"}, paraphrase=False)
    orig, seven = report.document("orig"), report.document("7")
    assert (orig.source, orig.date, orig.url) == ("New York Post", "2025-11-20", None)
    assert (seven.date, seven.url) == (None, "https://example.org/7")
    (pair,) = report.pairs
    assert pair.relation == "excerpt"
    # The excerpt's offsets slice the original text it was cut from.
    longest = pair.longest_passage()
    side = "a" if pair.a == "7" else "b"
    start, end = (getattr(longest, f"{side}_start"), getattr(longest, f"{side}_end"))
    assert variants["excerpt"][start:end] in variants["original"]


def test_documents_pass_through_and_match_a_scan_of_the_same_files(tmp_path, variants):
    for name in ("original", "edited", "excerpt", "other"):
        write(tmp_path, f"{name}.txt", variants[name])
    from_files = dedup.scan(tmp_path, paraphrase=False)
    from_records = dedup.scan([{"id": f"{name}.txt", "text": variants[name]} for name in variants],
                              paraphrase=False)
    from_documents = dedup.scan([Document(f"{n}.txt", t) for n, t in variants.items()], paraphrase=False)
    assert relations(from_files) == relations(from_records) == relations(from_documents)
    assert relations(from_files)[frozenset({"original.txt", "edited.txt"})] == "duplicate"
    assert relations(from_files)[frozenset({"original.txt", "excerpt.txt"})] == "excerpt"


def test_dataframe_rows_index_as_id_and_timestamps_as_iso_dates(variants):
    import pandas   # in the dev extra
    frame = pandas.DataFrame({"text": [variants["original"], variants["edited"], variants["other"]],
                              "date": pandas.to_datetime(["2025-11-20 08:00", "2025-11-21 00:00", None])},
                             index=["nyp", "copy", "other"])
    report = dedup.scan(frame, paraphrase=False)
    assert report.document("nyp").date == "2025-11-20T08:00:00"
    assert report.document("other").date is None          # NaT is no date, not the text "NaT"
    (pair,) = report.pairs
    assert {pair.a, pair.b} == {"nyp", "copy"} and pair.relation == "duplicate"
    # The later copy derives from the earlier article (lineage uses the converted dates).
    child = pair.a if pair.direction == "a_from_b" else pair.b
    assert child == "copy"


def test_dataframe_with_an_id_column_and_a_bad_row(variants):
    import pandas   # in the dev extra
    frame = pandas.DataFrame({"doc": ["a", "b", "c"], "content": [variants["original"], None, variants["edited"]]})
    with pytest.raises(RecordError, match=r"record 1 \(id 'b'\): missing 'content'"):
        dedup.scan(frame, columns={"id": "doc", "text": "content"})
    report = dedup.scan(frame, columns={"id": "doc", "text": "content"}, errors="skip", paraphrase=False)
    assert [d.id for d in report.documents] == ["a", "c"]
    assert [str(s) for s in report.skipped] == ["<records>:1: id 'b': missing 'content'"]


def test_hugging_face_dataset(variants):
    import datasets   # in the dev extra; dedup itself never imports it
    data = datasets.Dataset.from_dict({"text": [variants["other"], variants["original"], variants["excerpt"]],
                                       "source": ["Daily Mail", "New York Post", None]})
    report = dedup.scan(data, paraphrase=False)
    assert [d.id for d in report.documents] == ["0", "1", "2"]
    assert report.document("1").source == "New York Post"
    assert relations(report) == {frozenset({"1", "2"}): "excerpt"}


def test_anything_shaped_like_a_dataset_is_read_by_rows(variants):
    """datasets is recognised by shape (column_names, features), never imported."""
    class Rows:
        column_names = ["text"]
        features = {"text": "string"}

        def __iter__(self):
            return iter([{"text": variants["original"]}, {"text": variants["edited"]}])

    report = dedup.scan(Rows(), paraphrase=False)
    assert relations(report) == {frozenset({"0", "1"}): "duplicate"}


@pytest.mark.parametrize("rows, message", [
    ([{"id": "x"}], r"record 0 \(id 'x'\): missing 'text'"),
    ([{"id": "x", "text": "   "}], r"record 0 \(id 'x'\): empty 'text'"),
    ([{"id": "x", "text": b"bytes"}], r"record 0 \(id 'x'\): 'text' is not a string \(bytes\)"),
    ([{"text": "an article"}], r"record 0: missing 'id'"),
    ([{"id": 1.5, "text": "an article"}], r"record 0 \(id '1.5'\): 'id' is not a string or whole number"),
    ([{"id": "x", "text": "an article", "date": {"y": 2020}}], r"record 0 \(id 'x'\): 'date' is not a date"),
    ([{"id": "x", "text": "one"}, {"id": "x", "text": "two"}],
     r"record 1 \(id 'x'\): duplicate id 'x' \(first used by record 0\)"),
    ([{"id": "x", "text": "one"}, 42], r"record 1: expected a mapping, an \(id, text\) pair, a string or a Document, got int"),
])
def test_bad_records_name_the_record_and_the_problem(rows, message):
    with pytest.raises(RecordError, match=message):
        dedup.scan(rows)


def test_bad_arguments_are_refused_before_reading():
    with pytest.raises(TypeError, match="cannot scan a dict"):
        dedup.scan({"id": "x", "text": "an article"})
    with pytest.raises(TypeError, match="cannot scan a int"):
        dedup.scan(42)
    with pytest.raises(ValueError, match="unknown field 'body'"):
        dedup.scan(["text"], columns={"body": "text"})
    with pytest.raises(ValueError, match="errors must be one of raise, skip"):
        dedup.scan(["text"], errors="ignore")
    with pytest.raises(ValueError, match="unknown setting 'window'"):
        dedup.scan(["text"], window=3)
    with pytest.raises(dedup.InputError, match="no such file or folder"):
        dedup.scan(Path("/nonexistent/folder"))
    seeds = Path(__file__).resolve().parents[1] / "seeds"
    with pytest.raises(TypeError, match="pass them as Path objects"):
        dedup.scan([str(p) for p in sorted(seeds.iterdir())])


def test_include_and_exclude_choose_files_of_a_folder(tmp_path, variants):
    write(tmp_path, "news/original.txt", variants["original"])
    write(tmp_path, "news/copy.md", variants["edited"])
    write(tmp_path, "news/drafts/excerpt.txt", variants["excerpt"])
    (tmp_path / "news" / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0JFIF")
    everything = dedup.scan(tmp_path / "news", paraphrase=False)
    assert [s.path for s in everything.skipped] == ["photo.jpg"]
    chosen = dedup.scan(tmp_path / "news", include=["*.txt", "*.md"], exclude="drafts/*", paraphrase=False)
    assert [d.id for d in chosen.documents] == ["copy.md", "original.txt"]
    assert chosen.skipped == []
    assert relations(chosen) == {frozenset({"copy.md", "original.txt"}): "duplicate"}


def test_several_paths_keep_their_ids_apart(tmp_path, variants):
    write(tmp_path, "one/article.txt", variants["original"])
    write(tmp_path, "two/article.txt", variants["edited"])
    report = dedup.scan([tmp_path / "one", tmp_path / "two"], paraphrase=False)
    ids = [d.id for d in report.documents]
    assert ids == [f"{(tmp_path / 'one').as_posix()}/article.txt", f"{(tmp_path / 'two').as_posix()}/article.txt"]
    assert relations(report) == {frozenset(ids): "duplicate"}


# --- tables and representatives --------------------------------------------------


@pytest.fixture(scope="module")
def dated(variants):
    """The original (earliest), a later edited copy, an undated excerpt, and an unrelated article."""
    rows = [
        {"id": "copy", "text": variants["edited"], "date": "2025-11-21", "source": "Daily Mail"},
        {"id": "excerpt", "text": variants["excerpt"]},
        {"id": "original", "text": variants["original"], "date": "2025-11-20", "source": "New York Post"},
        {"id": "memo-a", "text": variants["other"]},
    ]
    return dedup.scan(rows, paraphrase=False)


def test_to_pandas_gives_pairs_and_documents_with_families_and_representatives(dated):
    import pandas  # noqa: F401  (in the dev extra)
    pairs, documents = dated.to_pandas()
    assert len(pairs) == len(dated.pairs) >= 2
    row = pairs.set_index(["a", "b"]).loc[("copy", "original")]
    assert row["relation"] == "duplicate" and row["passages"] >= 1 and row["passage_words"] > 500
    assert row["longest_passage"] and row["direction"] == "a_from_b"   # the later copy took from the original
    by_id = documents.set_index("id")
    assert by_id.loc["copy", "family_id"] == by_id.loc["original", "family_id"] == by_id.loc["excerpt", "family_id"]
    assert by_id.loc["memo-a", "family_id"] != by_id.loc["original", "family_id"]
    assert by_id["is_representative"].to_dict() == {"copy": False, "excerpt": False, "memo-a": True,
                                                    "original": True}
    assert set(by_id["representative"]) == {"original", "memo-a"}
    assert documents.groupby("cluster_id")["is_representative"].sum().eq(1).all()


def test_to_pandas_without_pandas_says_how_to_get_it(dated, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)   # what an environment without pandas gives
    with pytest.raises(ImportError, match=r"to_pandas needs pandas: pip install 'dedup\[pandas\]'"):
        dated.to_pandas()


@pytest.mark.parametrize("keep", ["earliest", "longest", "source"])
def test_representative_rules(dated, keep):
    members = ("copy", "excerpt", "original")
    kept = {"earliest": "original",     # dated 2025-11-20, the copy a day later, the excerpt undated
            "longest": max(members, key=lambda m: len(dated.document(m).text)),
            "source": "original"}[keep]  # the copy derives from it (dates), the excerpt too (containment)
    (cluster,) = [c for c in deduplicate(dated, keep).clusters if len(c.members) > 1]
    assert cluster.representative == kept != "excerpt"
    assert sorted(cluster.members) == ["copy", "excerpt", "original"]


def test_longest_rule_keeps_the_full_article_over_its_excerpt(variants):
    report = dedup.scan([{"id": "clip", "text": variants["excerpt"], "date": "2025-01-01"},
                         {"id": "full", "text": variants["original"], "date": "2025-06-01"}], paraphrase=False)
    assert deduplicate(report, "longest").representatives == ["full"]
    assert deduplicate(report, "earliest").representatives == ["clip"]


def test_relations_choose_what_joins_a_cluster(seeds):
    """The two memo retellings are a paraphrase: one family, but kept apart unless paraphrases join."""
    report = dedup.scan([{"id": n, "text": t} for n, t in seeds.items()])
    assert relations(report) == {frozenset({SEED_000, SEED_001}): "paraphrase"}
    assert len(deduplicate(report).representatives) == 3
    joined = deduplicate(report, relations=["duplicate", "excerpt", "paraphrase"])
    assert len(joined.representatives) == 2
    rows = {r["id"]: r for r in document_rows(report, joined)}
    assert rows[SEED_000]["cluster_id"] == rows[SEED_001]["cluster_id"]
    assert rows[SEED_000]["family_id"] == rows[SEED_001]["family_id"] != rows[SEED_002]["family_id"]
    with pytest.raises(ValueError, match="keep must be one of earliest, longest, source"):
        deduplicate(report, "first")
    with pytest.raises(ValueError, match="relations must be some of"):
        deduplicate(report, relations=["copy"])


def test_source_rule_follows_lineage_where_length_misleads(seeds):
    """An undated republication in other site chrome is longer than its original; only its
    "Source link" marker says which came first, and ``source`` keeps the original."""
    from synth import wrap_chrome
    original = seeds[SEED_001]
    report = dedup.scan([{"id": "republished", "text": wrap_chrome(original) + "\nSource link\n"},
                         {"id": "original", "text": original}], paraphrase=False)
    (pair,) = report.pairs
    assert pair.relation == "duplicate"
    assert deduplicate(report, "longest").representatives == ["republished"]
    assert deduplicate(report, "source").representatives == ["original"]


def test_scanning_records_imports_neither_pandas_nor_datasets(seeds):
    """Both are optional: recognised by shape, imported only by to_pandas."""
    code = ("import json, sys, dedup\n"
            "texts = json.load(sys.stdin)\n"
            "report = dedup.scan(texts + texts[:1], paraphrase=False)\n"
            "assert [p.relation for p in report.pairs] == ['duplicate'], report.pairs\n"
            "print(sorted(m for m in ('pandas', 'datasets', 'pyarrow') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], input=json.dumps(list(seeds.values())),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_progress_reports_each_stage_from_start_to_end(seeds):
    """Every stage that reports, in pipeline order, ends at done == total (the paraphrase
    set-up included: seconds of TF-IDF fitting on a large corpus)."""
    calls: list[tuple[str, int, int]] = []
    dedup.scan([{"id": n, "text": t} for n, t in seeds.items()], progress=lambda *call: calls.append(call))
    stages = list(dict.fromkeys(stage for stage, _, _ in calls))
    assert stages == ["chrome", "analyze", "candidates", "set-up", "neighbours", "paraphrase", "lineage"]
    for stage in stages:
        mine = [(done, total) for s, done, total in calls if s == stage]
        assert mine[-1][0] == mine[-1][1] > 0, (stage, mine)
        assert [done for done, _ in mine] == sorted(done for done, _ in mine), (stage, mine)
