"""Loading real files, and bad input: skipped with a reason, never a traceback."""

from __future__ import annotations

import codecs
import json
import os
import random

import numpy as np
import pytest
from datasketch import MinHash

from dedup import load as load_module
from dedup import load_path
from dedup.load import extract_html, iter_path
from dedup.records import Document
from dedup.sketch import MinHasher, Shingler

from .conftest import SEED_002, run_cli, scan_json, write


def test_html_page_gives_visible_text_title_and_date(tmp_path, seeds):
    body = "".join(f"<p>{para}</p>\n" for para in seeds[SEED_002].split("\n\n") if para.strip())
    write(tmp_path, "page.html", f"""<!doctype html><html><head>
        <title>Meta AI star &amp; Zuckerberg</title>
        <meta property="article:published_time" content="2025-11-20T08:00:00Z">
        <style>p {{ color: red }}</style><script>var secret = "do not index";</script>
        </head><body><nav>Home | World</nav><article>{body}</article></body></html>""")
    (doc,) = load_path(tmp_path).documents
    assert doc.title == "Meta AI star & Zuckerberg"
    assert doc.date == "2025-11-20T08:00:00Z"
    assert "do not index" not in doc.text and "color: red" not in doc.text
    assert "Wang’s unhappiness is just the latest manifestation" in doc.text


def test_html_copy_of_a_text_article_is_found(tmp_path, seeds):
    body = "".join(f"<p>{para}</p>" for para in seeds[SEED_002].split("\n\n") if para.strip())
    write(tmp_path, "page.htm", f"<html><head><title>t</title></head><body>{body}</body></html>")
    write(tmp_path, SEED_002, seeds[SEED_002])
    report = scan_json(tmp_path, "--no-paraphrase")
    (pair,) = report["pairs"]
    assert pair["relation"] == "duplicate"


def test_jsonl_records_become_documents_with_metadata(tmp_path, seeds):
    lines = [
        {"id": "nyp-1", "text": seeds[SEED_002], "title": "Wang", "date": "2025-11-20",
         "source": "New York Post", "url": "https://nypost.com/x"},
        {"id": "copy-1", "text": seeds[SEED_002]},
    ]
    write(tmp_path, "feed.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n")
    corpus = load_path(tmp_path)
    assert [d.id for d in corpus.documents] == ["nyp-1", "copy-1"]
    assert corpus.documents[0].source == "New York Post" and corpus.documents[0].date == "2025-11-20"
    assert corpus.skipped == []


def test_bad_inputs_are_skipped_with_reasons_and_scan_goes_on(tmp_path, seeds):
    write(tmp_path, SEED_002, seeds[SEED_002])
    write(tmp_path, "copy.txt", seeds[SEED_002])
    write(tmp_path, "empty.txt", "")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 au lait, d\xe9j\xe0 vu".encode("latin-1"))
    os.symlink(tmp_path / "gone.txt", tmp_path / "broken.txt")
    write(tmp_path, "feed.jsonl", '{"id": "ok", "text": "A short but fine record about nothing."}\n'
                                  '{"id": "bad", "text": \n'
                                  '{"id": "no-text"}\n')
    result = run_cli("scan", str(tmp_path), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    reasons = {(s["path"], s["line"]): s["reason"] for s in report["skipped"]}
    assert reasons[("empty.txt", None)] == "no text (empty file)"
    assert "binary" in reasons[("binary.txt", None)]
    assert ("latin1.txt", None) not in reasons     # a legacy encoding is read, not skipped
    assert "unreadable" in reasons[("broken.txt", None)]
    assert "malformed JSON" in reasons[("feed.jsonl", 2)]
    assert reasons[("feed.jsonl", 3)] == "missing 'text'"
    # Each skipped item is also reported on stderr, one line each, naming the file.
    for line in ("empty.txt: no text", "binary.txt: binary", "feed.jsonl:2: malformed JSON"):
        assert f"dedup: skipped {line}" in result.stderr
    # The readable documents were scanned as usual.
    assert {d["id"] for d in report["documents"]} == {SEED_002, "copy.txt", "ok", "latin1.txt"}
    assert {d["id"]: d["encoding"] for d in report["documents"]}["latin1.txt"] == "cp1252"
    assert report["pairs"][0]["relation"] == "duplicate"


def test_unreadable_file_permission(tmp_path, seeds):
    if os.geteuid() == 0:
        pytest.skip("root reads everything; the broken-link case covers unreadable files")
    path = write(tmp_path, "secret.txt", seeds[SEED_002])
    path.chmod(0)
    assert "permission denied" in load_path(tmp_path).skipped[0].reason


def test_missing_folder_is_one_clear_line_and_exit_2(tmp_path):
    result = run_cli("scan", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert result.stderr.strip() == f"dedup: error: {tmp_path / 'nope'}: no such file or folder"


def test_nothing_readable_exits_1(tmp_path):
    write(tmp_path, "empty.txt", "   \n")
    result = run_cli("scan", str(tmp_path))
    assert result.returncode == 1
    assert "skipped empty.txt: no text (empty file)" in result.stderr
    assert "no readable documents" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_option_value_is_a_clear_error(tmp_path, seeds):
    write(tmp_path, "a.txt", seeds[SEED_002])
    result = run_cli("scan", str(tmp_path), "--window-threshold", "1.5")
    assert result.returncode == 2
    assert "window-threshold must be in (0, 1], got 1.5" in result.stderr
    assert "Traceback" not in result.stderr


def test_progress_bar_on_stderr_for_large_scans(tmp_path, news_sentences):
    for i in range(260):
        write(tmp_path, f"d{i:03}.txt", " ".join(news_sentences[i * 3:(i + 1) * 3]))
    result = run_cli("scan", str(tmp_path), "--format", "json", "--no-paraphrase")
    assert result.returncode == 0
    assert "analyze" in result.stderr and "260/260" in result.stderr
    json.loads(result.stdout)   # the bar never pollutes stdout
    small = run_cli("scan", str(tmp_path / "d000.txt"), "--format", "json")
    assert "fingerprint" not in small.stderr


def test_compare_shows_passages_with_offsets(tmp_path, seeds):
    a = write(tmp_path, "a.txt", seeds[SEED_002])
    b = write(tmp_path, "b.txt", "Preface line of another site.\n\n" + seeds[SEED_002][:2000])
    result = run_cli("compare", str(a), str(b), "--format", "json")
    assert result.returncode == 0, result.stderr
    pair = json.loads(result.stdout)
    assert pair["relation"] == "excerpt"
    text_a, text_b = seeds[SEED_002], b.read_text()
    for p in pair["passages"]:
        assert text_a[p["a_start"]:p["a_end"]] == text_b[p["b_start"]:p["b_end"]]
    human = run_cli("compare", str(a), str(b))
    assert "passage a[" in human.stdout and "excerpt" in human.stdout


def test_signatures_are_datasketch_minhash(seeds):
    """Our vectorised signatures equal datasketch's own MinHash over the same shingles."""
    fingerprint = Shingler(5).fingerprint(Document("x", seeds[SEED_002]))
    hasher = MinHasher(num_perm=128, seed=1, window_words=50)
    sketch = hasher.sketch(fingerprint)
    whole = MinHash(num_perm=128, seed=1, hashfunc=int)
    whole.update_batch([int(h) for h in fingerprint.shingles])
    assert np.array_equal(whole.hashvalues, sketch.signature)
    start, end = sketch.window_shingles[3]
    window = MinHash(num_perm=128, seed=1, hashfunc=int)
    window.update_batch([int(h) for h in fingerprint.shingles[start:end]])
    assert np.array_equal(window.hashvalues, sketch.windows[3])
    assert hasher.minhash(sketch.signature).jaccard(whole) == 1.0


def test_offsets_survive_unicode_normalisation(tmp_path):
    """Matching folds ligatures, curly quotes and case; offsets still point into the original."""
    original = "Intro.\n\nThe ﬁrm’s “BOLD” plan was announced on Monday by the chief executive in Paris today."
    copy = "Other intro here.\n\nthe firm's \"bold\" plan was announced on monday by the chief executive in paris today."
    write(tmp_path, "a.txt", original)
    write(tmp_path, "b.txt", copy)
    report = scan_json(tmp_path, "--no-paraphrase")
    (pair,) = report["pairs"]
    (p,) = pair["passages"]
    assert original[p["a_start"]:p["a_end"]] == "The ﬁrm’s “BOLD” plan was announced on Monday by the chief executive in Paris today"
    assert copy[p["b_start"]:p["b_end"]] == "the firm's \"bold\" plan was announced on monday by the chief executive in paris today"


def test_tokenizer_spans_equal_the_regex_definition(seeds):
    import re
    from dedup.text import tokenize
    # Scripts without spaces (CJK, Thai) are one token per character: tests/test_text.py.
    samples = list(seeds.values()) + ["ﬁrm’s İstanbul Straße naïve ١٢٣ x_y é\u0301 café—déjà", "", "  ", "a"]
    for text in samples:
        tokens = tokenize(text)
        assert list(zip(tokens.starts.tolist(), tokens.ends.tolist())) == [m.span() for m in re.finditer(r"\w+", text)]
    assert tokenize("The ﬁrm’s CAFÉ").words == ["the", "firm", "s", "café"]


# --- Encodings, HTML, folders, size cap, JSONL metadata --------------------------------------

@pytest.mark.parametrize("codec, expected", [
    ("utf-8-sig", "utf-8"), ("utf-16", "utf-16-le"), ("utf-16-be", "utf-16-be"),
    ("utf-32", "utf-32-le"), ("cp1252", "cp1252"),
])
def test_encodings_are_detected_and_recorded(tmp_path, seeds, codec, expected):
    text = seeds[SEED_002]
    data = text.encode(codec)
    if codec == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    (tmp_path / "article.txt").write_bytes(data)
    corpus = load_path(tmp_path)
    assert corpus.skipped == []
    (doc,) = corpus.documents
    assert doc.text == text and doc.encoding == expected
    assert doc.to_json()["encoding"] == expected


def test_legacy_encoded_copies_are_read_and_matched(tmp_path, seeds):
    """cp1252 (curly quotes, dashes) and UTF-16 copies of a UTF-8 article are duplicates of it."""
    write(tmp_path, SEED_002, seeds[SEED_002])
    (tmp_path / "windows.txt").write_bytes(seeds[SEED_002].encode("cp1252"))
    (tmp_path / "latin.html").write_bytes(
        b'<html><head><meta charset="iso-8859-1"><title>Caf\xe9</title></head><body><p>'
        + "Café déjà vu — “quoted”".encode("cp1252") + b"</p></body></html>")
    (tmp_path / "utf16.txt").write_bytes(seeds[SEED_002].encode("utf-16"))
    report = scan_json(tmp_path, "--no-paraphrase")
    encodings = {d["id"]: d["encoding"] for d in report["documents"]}
    assert encodings == {SEED_002: "utf-8", "windows.txt": "cp1252", "utf16.txt": "utf-16-le", "latin.html": "cp1252"}
    relations = {frozenset((p["a"], p["b"])): p["relation"] for p in report["pairs"]}
    assert relations[frozenset((SEED_002, "windows.txt"))] == "duplicate"
    assert relations[frozenset((SEED_002, "utf16.txt"))] == "duplicate"
    doc = load_path(tmp_path / "latin.html").documents[0]
    assert doc.title == "Café" and doc.text == "Café déjà vu — “quoted”"


def test_utf16_without_bom_is_read_and_binary_still_refused(tmp_path, seeds):
    (tmp_path / "le.txt").write_bytes(seeds[SEED_002][:500].encode("utf-16-le"))
    rng = random.Random(1)
    (tmp_path / "noise.txt").write_bytes(bytes(rng.randrange(1, 256) for _ in range(4000)))
    corpus = load_path(tmp_path)
    assert [d.encoding for d in corpus.documents] == ["utf-16-le"]
    (skipped,) = corpus.skipped
    assert skipped.path == "noise.txt" and ("binary" in skipped.reason or "not text" in skipped.reason)


def test_html5_head_never_closed_keeps_its_text(tmp_path, seeds):
    body = "".join(f"<p>{para}" for para in seeds[SEED_002].split("\n\n") if para.strip())
    write(tmp_path, "page.html", "<!DOCTYPE html><html lang=en><meta charset=utf-8><title>Wang &amp; Meta</title>"
                                 '<script type="application/ld+json">{"@context": "https://schema.org", "@graph": '
                                 '[{"@type": "WebPage"}, {"@type": "NewsArticle", "datePublished": "2025-11-20"}]}'
                                 f"</script><link rel=stylesheet href=x.css>{body}<table><tr><td>cell")
    (doc,) = load_path(tmp_path).documents
    assert doc.title == "Wang & Meta" and doc.date == "2025-11-20"
    assert "Wang’s unhappiness is just the latest manifestation" in doc.text
    assert doc.text.endswith("cell") and "schema.org" not in doc.text


def test_extract_html_is_one_function_and_never_raises():
    page = extract_html("<html><head><meta name=date content='2024-01-02'><title>T</title><body>"
                        "<div>One<br>two</div><!-- hidden --><style>x{}</style>three</body>")
    text, title, date = page.text, page.title, page.date
    assert (text, title, date) == ("One\ntwo\nthree", "T", "2024-01-02")
    for raw in ["", "<", "<?xml version='1.0' encoding='latin-1'?><p>x", "\x00\x01", "<p>" * 5000 + "deep"]:
        assert isinstance(extract_html(raw).text, str)


def test_unreadable_folder_is_reported(tmp_path, seeds, monkeypatch):
    write(tmp_path, "a.txt", seeds[SEED_002])
    write(tmp_path, "locked/b.txt", seeds[SEED_002])
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    corpus = load_path(tmp_path)
    assert [d.id for d in corpus.documents] == ["a.txt"]
    assert [str(s) for s in corpus.skipped] == ["locked/: unreadable folder: permission denied"]


def test_size_cap_skips_big_documents_with_a_clear_reason(tmp_path, seeds):
    write(tmp_path, "big.txt", seeds[SEED_002])
    write(tmp_path, "small.txt", seeds[SEED_002][:900])
    records = [{"id": "big", "text": seeds[SEED_002]}, {"id": "small", "text": seeds[SEED_002][:900]}]
    write(tmp_path, "feed.jsonl", "\n".join(json.dumps(r) for r in records) + "\n")
    corpus = load_path(tmp_path, max_bytes=2000)
    assert sorted(d.id for d in corpus.documents) == ["small", "small.txt"]
    reasons = {(s.path, s.line): s.reason for s in corpus.skipped}
    assert reasons[("big.txt", None)].startswith("too large: ")
    assert "limit of 2.0 KiB (max_bytes)" in reasons[("big.txt", None)]
    assert reasons[("feed.jsonl", 1)].startswith("record too large")
    assert len(load_path(tmp_path).documents) == 4     # the default cap (10 MiB) lets them all in
    with pytest.raises(ValueError):
        load_path(tmp_path, max_bytes=0)


def test_iter_path_streams_one_file_at_a_time(tmp_path, seeds, monkeypatch):
    for i in range(5):
        write(tmp_path, f"d{i}.txt", f"Article {i}. " + seeds[SEED_002])
    reads = []
    real = load_module.read_bytes
    monkeypatch.setattr(load_module, "read_bytes", lambda file, *a: reads.append(file.name) or real(file, *a))
    items = iter_path(tmp_path)
    first = next(items)
    assert isinstance(first, Document) and first.id == "d0.txt" and reads == ["d0.txt"]
    assert [d.id for d in items] == ["d1.txt", "d2.txt", "d3.txt", "d4.txt"]


def test_jsonl_bad_dates_warn_and_duplicate_ids_name_file_and_line(tmp_path):
    text = "A short but fine record about nothing in particular."
    rows = [{"id": "a", "text": text, "date": "nan"}, {"id": "b", "text": text, "date": {"y": 2020}},
            {"id": "c", "text": text, "date": "2020-05-01"}, {"id": "a", "text": text}]
    write(tmp_path, "feed.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    corpus = load_path(tmp_path)
    assert [(d.id, d.date) for d in corpus.documents] == [("a", None), ("b", None), ("c", "2020-05-01")]
    assert [str(w) for w in corpus.warnings] == ['feed.jsonl:1: date "nan" ignored: not a date',
                                                 'feed.jsonl:2: date {"y": 2020} ignored: not a date']
    assert [str(s) for s in corpus.skipped] == [
        "feed.jsonl:4: duplicate document id 'a' (first read from feed.jsonl:1)"]
