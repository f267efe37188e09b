"""Scale benchmark: the full scan on generated news corpora, side by side with a baseline.

    python benchmarks/scale.py                 # 2,500 / 5,000 / 10,000 articles
    python benchmarks/scale.py --small         # 500 / 1,000 / 2,000 (CI)
    python benchmarks/scale.py --sizes 20000

For each size, in separate processes so each peak RSS is its own:
  - dedup full scan (verbatim + paraphrase + lineage), with time per stage;
  - dedup verbatim stages only (--no-paraphrase);
  - baseline: plain datasketch MinHashLSH over whole documents at its default
    threshold (0.9), 5-word shingles, one insert + one query per document.
Prints wall time, docs/s, peak RSS, recall of the generated truth, and how each
time grows from one size to the next (2x documents -> ~2x time is linear; ~4x is quadratic).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_MSRP, Timer, generated_corpus, peak_rss_mb, print_table, run_isolated  # noqa: E402


def measure_dedup(n: int, paraphrase: bool, msrp: Path) -> dict:
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


def worker(args) -> None:
    if args.worker == "baseline":
        result = measure_baseline(args.n, args.msrp)
    else:
        result = measure_dedup(args.n, args.worker == "dedup", args.msrp)
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2500, 5000, 10000])
    parser.add_argument("--small", action="store_true", help="500 / 1,000 / 2,000 articles (minutes, for CI)")
    parser.add_argument("--msrp", type=Path, default=DEFAULT_MSRP, help="folder of the MSRP training split")
    parser.add_argument("--output", type=Path, help="also write the results as JSON here")
    parser.add_argument("--worker", choices=["dedup", "verbatim", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    sizes = [500, 1000, 2000] if args.small else args.sizes
    rows = []
    for n in sizes:
        for name in ("baseline", "verbatim", "dedup"):
            result = run_isolated(Path(__file__), "--worker", name, "--n", str(n), "--msrp", str(args.msrp))
            result.update(engine={"baseline": "datasketch doc-level 0.9", "verbatim": "dedup --no-paraphrase",
                                  "dedup": "dedup full scan"}[name], n=n, docs_per_s=n / result["seconds"])
            rows.append(result)
            stages = ", ".join(f"{k} {v:.1f}s" for k, v in result["stages"].items())
            print(f"  n={n:>6} {result['engine']:<26} {result['seconds']:7.1f}s  {stages}", file=sys.stderr)
    for row in rows:
        same = [r for r in rows if r["engine"] == row["engine"] and r["n"] < row["n"]]
        prev = same[-1] if same else None
        row["growth"] = f"x{row['seconds'] / prev['seconds']:.2f} for x{row['n'] / prev['n']:.1f} docs" if prev else "-"
        base = next(r for r in rows if r["n"] == row["n"] and r["engine"].startswith("datasketch"))
        row["vs_baseline"] = row["seconds"] / base["seconds"]
    print()
    print_table(rows, [("docs", "{n}"), ("engine", "{engine}"), ("seconds", "{seconds:.1f}"),
                       ("docs/s", "{docs_per_s:.0f}"), ("peak MB", "{peak_mb:.0f}"), ("pairs", "{pairs}"),
                       ("truth recall", "{recall:.3f}"), ("time vs baseline", "{vs_baseline:.1f}x"),
                       ("growth", "{growth}")])
    paraphrase = [r for r in rows if r["engine"] == "dedup full scan"]
    if len(paraphrase) > 1:
        first, last = paraphrase[0], paraphrase[-1]
        exponent = __import__("math").log(last["stages"].get("paraphrase", 0) / max(1e-9, first["stages"].get(
            "paraphrase", 1e-9))) / __import__("math").log(last["n"] / first["n"])
        print(f"\nparaphrase stage grows as n^{exponent:.2f} from {first['n']} to {last['n']} documents "
              f"(1 = linear, 2 = quadratic)")
    if args.output:
        args.output.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
