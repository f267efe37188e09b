"""Pre-ingest filter throughput: the on-disk index vs in-memory datasketch, side by side.

    python benchmarks/filter_throughput.py            # 10,000 and 100,000 articles
    python benchmarks/filter_throughput.py --small    # 2,000 and 5,000 (CI)

For each size, each engine streams the same generated articles (real MSRP text,
15% of them copies, edited copies, excerpts or rewrites of earlier ones) through
check + add, in its own process so each peak RSS is its own:

  dedup SQLite index   Index.add on an on-disk index file (WAL, one commit per document)
  datasketch, same work  in-memory MinHashLSH given the same signatures and doing the
                         same inserts (document + stored windows) and queries (document +
                         all windows); memory grows ~13 KB per insert, so it runs only up
                         to --same-work-max documents
  datasketch, doc-level  plain in-memory MinHashLSH at its defaults: its own MinHash of
                         5-word shingles, one query and one insert per document

Then the query cost: the mean time of Index.check over 500 held-out articles against
the index built at each size (a cost that does not grow linearly with the index).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (Timer, generated_corpus, peak_rss_mb, parse_engine_args, print_table,  # noqa: E402
                    run_engines, write_json)

HELD_OUT = 500


def stream(n: int, msrp: Path):
    articles, _ = generated_corpus(n + HELD_OUT, seed=11, folder=msrp)
    return articles[:n], articles[n:]


def run_dedup(n: int, msrp: Path) -> dict:
    from dedup import Index
    from dedup.records import Document

    articles, held_out = stream(n, msrp)
    folder = tempfile.mkdtemp(prefix="dedup-bench-")
    path = os.path.join(folder, "bench.index")
    duplicates = 0
    with Timer() as timer:
        with Index.open(path) as index:
            for doc_id, text in articles:
                duplicates += index.add(Document(doc_id, text)).is_duplicate
    with Index.open(path) as index:
        stats = index.stats()
        probes = [Document(f"probe{i}", text) for i, (_, text) in enumerate(held_out)]
        with Timer() as probe_timer:
            for doc in probes:
                index.check(doc)
    return {"seconds": timer.seconds, "peak_mb": peak_rss_mb(), "held_back": duplicates,
            "disk_mb": stats["bytes_on_disk"] / 2**20, "check_ms": probe_timer.seconds / len(probes) * 1000}


def run_same_work(n: int, msrp: Path) -> dict:
    """datasketch MinHashLSH in memory, fed our signatures, same inserts and queries as the index."""
    from datasketch import MinHashLSH

    from dedup.records import Document
    from dedup.core import Context, analyze

    articles, _ = stream(n, msrp)
    context = Context()
    s = context.settings
    with Timer() as timer:
        documents = MinHashLSH(threshold=s.candidates.document_threshold, num_perm=s.sketch.num_perm)
        windows = MinHashLSH(threshold=s.candidates.window_threshold, num_perm=s.sketch.num_perm)
        held = 0
        for doc_id, text in articles:
            doc = Document(doc_id, text)
            sketch = analyze(doc, context).sketch
            if sketch.empty:
                continue
            wrap = context.minhasher.minhash
            found = set(documents.query(wrap(sketch.signature)))
            for row in sketch.windows:
                found.update(key[0] for key in windows.query(wrap(row)))
            held += bool(found)
            documents.insert(doc_id, wrap(sketch.signature), check_duplication=False)
            for k, row in enumerate(sketch.windows[::2]):
                windows.insert((doc_id, k), wrap(row), check_duplication=False)
    return {"seconds": timer.seconds, "peak_mb": peak_rss_mb(), "held_back": held, "disk_mb": 0.0,
            "check_ms": float("nan")}


def run_doc_level(n: int, msrp: Path) -> dict:
    from datasketch import MinHash, MinHashLSH

    articles, _ = stream(n, msrp)
    with Timer() as timer:
        lsh = MinHashLSH(threshold=0.9, num_perm=128)
        held = 0
        for doc_id, text in articles:
            words = re.findall(r"\w+", text.lower())
            m = MinHash(num_perm=128)
            m.update_batch([" ".join(words[i:i + 5]).encode() for i in range(max(1, len(words) - 4))])
            held += bool(lsh.query(m))
            lsh.insert(doc_id, m, check_duplication=False)
    return {"seconds": timer.seconds, "peak_mb": peak_rss_mb(), "held_back": held, "disk_mb": 0.0,
            "check_ms": float("nan")}


ENGINES = {"dedup": ("dedup SQLite index", run_dedup), "same": ("datasketch, same work", run_same_work),
           "doc": ("datasketch, doc-level", run_doc_level)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--small", action="store_true", help="2,000 and 5,000 articles (for CI)")
    parser.add_argument("--same-work-max", type=int, default=20_000,
                        help="largest size for the same-work datasketch baseline (memory)")
    args = parse_engine_args(parser, ENGINES)
    sizes = [2000, 5000] if args.small else args.sizes
    too_big = "over --same-work-max (in-memory LSH of all windows needs ~13 KB per insert)"
    rows = run_engines(Path(__file__), ENGINES, sizes, args.msrp,
                       skip=lambda key, n: too_big if key == "same" and n > args.same_work_max else None)
    for row in rows:
        same = [r for r in rows if r["n"] == row["n"] and r["engine"] == ENGINES["same"][0]]
        doc = [r for r in rows if r["n"] == row["n"] and r["engine"] == ENGINES["doc"][0]]
        row["vs_same"] = f"{row['docs_per_s'] / same[0]['docs_per_s']:.0%}" if same else "-"
        row["vs_doc"] = f"{row['docs_per_s'] / doc[0]['docs_per_s']:.0%}" if doc else "-"
        row["check"] = f"{row['check_ms']:.2f}" if row["check_ms"] == row["check_ms"] else "-"
    print()
    print_table(rows, [("docs", "{n}"), ("engine", "{engine}"), ("seconds", "{seconds:.1f}"),
                       ("docs/s check+add", "{docs_per_s:.0f}"), ("vs same-work", "{vs_same}"),
                       ("vs doc-level", "{vs_doc}"), ("peak MB", "{peak_mb:.0f}"), ("disk MB", "{disk_mb:.0f}"),
                       ("held back", "{held_back}"), ("check ms", "{check}")])
    ours = [r for r in rows if r["engine"] == ENGINES["dedup"][0]]
    if len(ours) > 1:
        a, b = ours[0], ours[-1]
        print(f"\nquery cost: {a['check_ms']:.2f} ms per check at {a['n']} documents, {b['check_ms']:.2f} ms at "
              f"{b['n']} (x{b['check_ms'] / a['check_ms']:.2f} for x{b['n'] / a['n']:.0f} documents)")
    write_json(args.output, rows)


if __name__ == "__main__":
    main()
