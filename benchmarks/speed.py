"""Speed: dedup against its peers on the same generated news corpus, at growing sizes.

    python benchmarks/speed.py                       # 1,000 / 10,000 / 100,000 articles
    python benchmarks/speed.py --small               # 500 / 1,000 / 2,000 (CI)
    python benchmarks/speed.py --sizes 2500 5000 10000 --output benchmarks/results/speed.json

For each size, each engine runs in its own process (so each peak RSS is its own):
  - dedup full scan (verbatim + paraphrase + lineage), with time per stage;
  - dedup verbatim stages only (--no-paraphrase);
  - dedup sketch stage alone (tokenise, shingle, MinHash per document and window);
  - baseline: plain datasketch MinHashLSH over whole documents at its documented
    defaults (threshold 0.9, 128 permutations), 5-word shingles, insert + query each;
  - rensa's RMinHashLSH (threshold 0.8, 128 permutations, 8 bands), where it installs.
Prints wall time, docs/s, peak RSS, recall of the generated truth, the ratio to the
datasketch baseline, and how each time grows with size (2x documents -> ~2x time is
linear, ~4x quadratic).  --output writes JSON for notebooks/speed.ipynb.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (Timer, generated_corpus, peak_rss_mb, parse_engine_args, print_table,  # noqa: E402
                    run_engines, write_json)


def measure_dedup(n: int, msrp: Path, paraphrase: bool) -> dict:
    from dedup import Scanner
    from dedup.records import Document

    articles, truth = generated_corpus(n, folder=msrp)
    documents = [Document(doc_id, text) for doc_id, text in articles]
    stages: dict[str, float] = {}
    mark = [time.perf_counter()]

    def progress(stage: str, done: int, total: int) -> None:
        if done == total:
            now = time.perf_counter()
            stages[stage] = stages.get(stage, 0.0) + now - mark[0]
            mark[0] = now

    with Timer() as timer:
        mark[0] = time.perf_counter()
        report = Scanner(paraphrase=paraphrase).scan(documents, progress=progress)
        stages["lineage+report"] = time.perf_counter() - mark[0]
    found = {frozenset((p.a, p.b)) for p in report.pairs}
    return {"seconds": timer.seconds, "stages": stages, "pairs": len(report.pairs), "peak_mb": peak_rss_mb(),
            "recall": sum(frozenset(k) in found for k in truth) / max(1, len(truth))}


def measure_sketch(n: int, msrp: Path) -> dict:
    """The sketch stage alone: fingerprints and MinHash signatures of every document and window."""
    from dedup.core import Context, analyze
    from dedup.records import Document

    articles, _ = generated_corpus(n, folder=msrp)
    context = Context()
    with Timer() as timer:
        windows = 0
        for doc_id, text in articles:
            doc = Document(doc_id, text)
            windows += len(analyze(doc, context).sketch.windows)
    return {"seconds": timer.seconds, "stages": {}, "pairs": 0, "peak_mb": peak_rss_mb(), "recall": float("nan"),
            "windows": windows}


def measure_rensa(n: int, msrp: Path) -> dict:
    import re

    from rensa import RMinHash, RMinHashLSH

    articles, truth = generated_corpus(n, folder=msrp)
    with Timer() as timer:
        lsh, sketches = RMinHashLSH(threshold=0.8, num_perm=128, num_bands=8), []
        for key, (_, text) in enumerate(articles):
            words = re.findall(r"\w+", text.lower())
            m = RMinHash(num_perm=128, seed=42)
            m.update([" ".join(words[i:i + 5]) for i in range(max(1, len(words) - 4))])
            sketches.append(m)
            lsh.insert(key, m)
        found = set()
        for key, m in enumerate(sketches):
            found.update(frozenset((articles[key][0], articles[o][0])) for o in lsh.query(m) if o != key)
    return {"seconds": timer.seconds, "stages": {}, "pairs": len(found), "peak_mb": peak_rss_mb(),
            "recall": sum(frozenset(k) in found for k in truth) / max(1, len(truth))}


def measure_baseline(n: int, msrp: Path) -> dict:
    """Plain datasketch, documented defaults: document-level MinHashLSH, threshold 0.9."""
    import re

    from datasketch import MinHash, MinHashLSH

    articles, truth = generated_corpus(n, folder=msrp)
    with Timer() as timer:
        lsh = MinHashLSH(threshold=0.9, num_perm=128)
        sketches = {}
        for doc_id, text in articles:
            words = re.findall(r"\w+", text.lower())
            m = MinHash(num_perm=128)
            m.update_batch([" ".join(words[i:i + 5]).encode() for i in range(max(1, len(words) - 4))])
            sketches[doc_id] = m
            lsh.insert(doc_id, m)
        found = set()
        for doc_id, m in sketches.items():
            found.update(frozenset((doc_id, other)) for other in lsh.query(m) if other != doc_id)
    return {"seconds": timer.seconds, "stages": {}, "pairs": len(found), "peak_mb": peak_rss_mb(),
            "recall": sum(frozenset(k) in found for k in truth) / max(1, len(truth))}


ENGINES = {
    "baseline": ("datasketch doc-level 0.9", measure_baseline),
    "rensa": ("rensa 0.8, 8 bands", measure_rensa),
    "sketch": ("dedup sketch stage", measure_sketch),
    "verbatim": ("dedup --no-paraphrase", partial(measure_dedup, paraphrase=False)),
    "dedup": ("dedup full scan", partial(measure_dedup, paraphrase=True)),
}


def rensa_installed() -> bool:
    import importlib.util
    return importlib.util.find_spec("rensa") is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--small", action="store_true", help="500 / 1,000 / 2,000 articles (minutes, for CI)")
    args = parse_engine_args(parser, ENGINES)
    sizes = [500, 1000, 2000] if args.small else args.sizes
    rows = run_engines(Path(__file__), ENGINES, sizes, args.msrp,
                       skip=lambda key, n: "not installed" if key == "rensa" and not rensa_installed() else None)
    for row in rows:
        same = [r for r in rows if r["engine"] == row["engine"] and r["n"] < row["n"]]
        prev = same[-1] if same else None
        row["growth"] = f"x{row['seconds'] / prev['seconds']:.2f} for x{row['n'] / prev['n']:.1f} docs" if prev else "-"
        base = next(r for r in rows if r["n"] == row["n"] and r["engine"].startswith("datasketch"))
        row["vs_baseline"] = row["seconds"] / base["seconds"]
    print()
    print_table(rows, [("docs", "{n}"), ("engine", "{engine}"), ("seconds", "{seconds:.1f}"),
                       ("docs/s", "{docs_per_s:.0f}"), ("peak MB", "{peak_mb:.0f}"), ("pairs", "{pairs}"),
                       ("truth recall", "{recall:.3f}"), ("time vs datasketch", "{vs_baseline:.2f}x"),
                       ("growth", "{growth}")])
    paraphrase = [r for r in rows if r["engine"] == "dedup full scan"]
    if len(paraphrase) > 1:
        first, last = paraphrase[0], paraphrase[-1]
        exponent = math.log(last["stages"]["paraphrase"] / first["stages"]["paraphrase"]) / math.log(
            last["n"] / first["n"])
        print(f"\nparaphrase stage grows as n^{exponent:.2f} from {first['n']} to {last['n']} documents "
              f"(1 = linear, 2 = quadratic)")
    write_json(args.output, rows)


if __name__ == "__main__":
    main()
