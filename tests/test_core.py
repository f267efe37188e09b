"""The analysis core: every front end (scan, compare, the index behind filter) judges a pair the
same way, every output renders the same families, and the core runs unchanged in other processes."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor

from dedup import Document, Index, Scanner
from dedup.core import Context, analyze, verify_verbatim
from dedup.html import families_of
from dedup.report import to_json
from synth import word_slice, wrap_chrome

from .conftest import SEED_000, SEED_001, SEED_002, run_cli


def corpus(seeds) -> list[Document]:
    """The seeds, a reprint of 002 in another site's chrome, and a clip of 000."""
    return [Document(name, text) for name, text in seeds.items()] + [
        Document("reprint-002", wrap_chrome(seeds[SEED_002])),
        Document("clip-000", word_slice(seeds[SEED_000], 100, 250)),
    ]


def test_scan_and_compare_give_the_same_pair(seeds):
    documents = corpus(seeds)
    report = Scanner().scan(documents)
    by_id = {d.id: d for d in documents}
    for a, b in [(SEED_002, "reprint-002"), (SEED_000, "clip-000"), (SEED_000, SEED_001)]:
        scanned = report.pair(a, b)
        compared = Scanner().compare(by_id[a], by_id[b], corpus=documents)
        assert scanned is not None, (a, b)
        assert compared == scanned, (a, b)
    assert report.pair(SEED_000, SEED_001).relation == "paraphrase"


def test_scan_and_filter_agree_on_verbatim_relations(seeds, tmp_path):
    documents = corpus(seeds)
    report = Scanner(paraphrase=False).scan(documents)
    with Index.open(tmp_path / "agree.index") as index:
        index.add(Document(SEED_002, seeds[SEED_002]))
        index.add(Document(SEED_000, seeds[SEED_000]))
        reprint = index.check(next(d for d in documents if d.id == "reprint-002"))
        clip = index.check(next(d for d in documents if d.id == "clip-000"))
    scanned_reprint = report.pair(SEED_002, "reprint-002")
    assert reprint.relation == scanned_reprint.relation == "duplicate"
    assert reprint.matches[0][0] == SEED_002
    # The index's score is the share of the incoming document inside the match: the scan's containment.
    assert abs(reprint.matches[0][1] - scanned_reprint.containment_b_in_a) < 1e-9
    scanned_clip = report.pair(SEED_000, "clip-000")
    assert clip.relation == scanned_clip.relation == "excerpt"
    assert abs(clip.matches[0][1] - scanned_clip.containment_b_in_a) < 1e-9


def test_text_json_and_html_show_the_same_families(seeds, tmp_path):
    for name, text in seeds.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    report = Scanner().scan([Document(name, text) for name, text in seeds.items()])
    as_json = json.loads(to_json(report))["families"]
    assert as_json == [list(f) for f in report.families]
    assert [sorted(f["nodes"]) for f in families_of(report)] == [sorted(f) for f in report.families]
    text = run_cli("scan", str(tmp_path)).stdout
    assert f"{len(report.families)} story families" in text
    assert all(f"Family {n}" in text for n in range(1, len(report.families) + 1))


def _sketch_in_worker(payload: bytes) -> bytes:
    document, context = pickle.loads(payload)
    return pickle.dumps(analyze(document, context).sketch.signature)


def test_the_core_runs_unchanged_in_a_worker_process(seeds):
    context = Context.fit([Document(n, t) for n, t in seeds.items()])
    document = Document(SEED_002, seeds[SEED_002])
    here = analyze(document, context)
    with ProcessPoolExecutor(1) as pool:
        there = pickle.loads(pool.submit(_sketch_in_worker, pickle.dumps((document, context))).result())
    assert (there == here.sketch.signature).all()
    assert verify_verbatim(here, analyze(document, context), context).containment_a_in_b > 0.95


def _loaded_modules(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True).stdout.split()
    return set(out)


def test_import_help_and_index_stats_do_not_load_scikit_learn(tmp_path):
    assert "sklearn" not in _loaded_modules("import dedup")
    help_modules = _loaded_modules(
        "import sys\nfrom dedup.cli import app\nsys.argv = ['dedup', '--help']\n"
        "try:\n    app()\nexcept SystemExit:\n    pass")
    assert "sklearn" not in help_modules and "datasketch" not in help_modules
    index = tmp_path / "x.index"
    assert run_cli("filter", "--index", str(index), stdin='{"id": "a", "text": "one two three four five six"}\n'
                   ).returncode == 0
    stats_modules = _loaded_modules(
        f"import sys\nfrom dedup.cli import app\nsys.argv = ['dedup', 'index', 'stats', {str(index)!r}]\n"
        "try:\n    app()\nexcept SystemExit:\n    pass")
    assert "sklearn" not in stats_modules and "dedup.index" in stats_modules


def test_worker_processes_give_the_same_report(seeds, monkeypatch):
    """--jobs changes how the work runs, never what it finds."""
    import random

    from dedup import fanout, workers
    from synth import edit_words

    rng = random.Random(5)
    documents = corpus(seeds) + [Document(f"edit-{n}", edit_words(seeds[SEED_002], 0.1, rng)) for n in range(6)]
    monkeypatch.setattr(fanout, "MIN_PARALLEL", 2)   # small corpus, real worker processes
    monkeypatch.setattr(workers, "CHUNK", 3)
    one = Scanner(jobs=1, paraphrase=False).scan(documents)
    two = Scanner(jobs=2, paraphrase=False).scan(documents)
    first, second = json.loads(to_json(one)), json.loads(to_json(two))
    assert first.pop("parameters")["execution"] == {"jobs": 1}
    second.pop("parameters")
    assert first == second
    assert len(one.pairs) >= 20
