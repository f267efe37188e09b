"""Loading real files, and bad input: skipped with a reason, never a traceback."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from datasketch import MinHash

from dedup import load_path
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
    assert "window_threshold must be in (0, 1]" in result.stderr
    assert "Traceback" not in result.stderr


def test_progress_bar_on_stderr_for_large_scans(tmp_path, news_sentences):
    for i in range(260):
        write(tmp_path, f"d{i:03}.txt", " ".join(news_sentences[i * 3:(i + 1) * 3]))
    result = run_cli("scan", str(tmp_path), "--format", "json", "--no-paraphrase")
    assert result.returncode == 0
    assert "fingerprint" in result.stderr and "260/260" in result.stderr
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
