"""Pre-ingest filter throughput: the on-disk index vs in-memory datasketch, side by side.

    python benchmarks/filter_throughput.py                  # 10,000 and 100,000 articles
    python benchmarks/filter_throughput.py --sizes 10000    # one size
    python benchmarks/filter_throughput.py --small          # 2,000 and 5,000 (CI)

For each size, each engine streams the same generated articles (real MSRP text,
15% of them copies, edited copies, excerpts or rewrites of earlier ones) through
check + add, in its own process so each peak RSS is its own:

  dedup, group commit    Index.add_all of 256 documents inside index.batch() (what `dedup filter`
                         does: the documents are analysed, looked up and partly verified ahead
                         in one worker process, see dedup/index/prepare.py), on an on-disk
                         SQLite index file
  dedup, commit per doc  Index.add, one transaction per document (up to --per-doc-max)
  datasketch, same work  in-memory MinHashLSH given the same signatures and doing the
                         same inserts (document + stored windows) and queries (document +
                         all windows); memory grows ~13 KB per insert, so it runs only up
                         to --same-work-max documents
  datasketch, doc-level  plain in-memory MinHashLSH at its defaults: its own MinHash of
                         5-word shingles, one query and one insert per document

Columns: wall-clock documents/s and documents per CPU-second (the machine may be shared:
CPU time is what the engine itself spent, its worker process included), the ratio to the same-work baseline, peak RSS,
bytes on disk per indexed document, and the latency of Index.check on 500 held-out
articles against the finished index (p50 and p99).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (Timer, generated_corpus, peak_rss_mb, parse_engine_args, print_table,  # noqa: E402
                    run_engines, write_json)

HELD_OUT = 500
GROUP = 256
NAN = float("nan")


def stream(n: int, msrp: Path):
    articles, _ = generated_corpus(n + HELD_OUT, seed=11, folder=msrp)
    return articles[:n], articles[n:]


def cpu_timer():
    """CPU seconds of this process and of its children that have ended (the index's worker ends with it)."""
    def used() -> float:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + children.ru_utime + children.ru_stime

    start = used()
    return lambda: used() - start


def run_dedup(n: int, msrp: Path, group: int = GROUP) -> dict:
    import numpy as np

    from dedup import Index
    from dedup.records import Document

    articles, held_out = stream(n, msrp)
    documents = [Document(doc_id, text) for doc_id, text in articles]
    folder = tempfile.mkdtemp(prefix="dedup-bench-")
    path = os.path.join(folder, "bench.index")
    held = 0
    cpu = cpu_timer()
    with Timer() as timer:
        with Index.open(path) as index:
            for start in range(0, n, group):
                if group > 1:
                    with index.batch():
                        held += sum(v.is_duplicate for v in index.add_all(documents[start:start + group]))
                else:
                    held += index.add(documents[start]).is_duplicate
    cpu_seconds = cpu()
    with Timer() as open_timer:
        index = Index.open(path)
    with index:
        stats = index.stats()
        latencies = []
        for i, (_, text) in enumerate(held_out):
            began = time.perf_counter()
            index.check(Document(f"probe{i}", text))
            latencies.append((time.perf_counter() - began) * 1000)
    shutil.rmtree(folder)
    return {"seconds": timer.seconds, "cpu_seconds": cpu_seconds, "peak_mb": peak_rss_mb(), "held_back": held,
            "bytes_per_doc": stats["bytes_on_disk"] / max(1, stats["documents"]), "open_s": open_timer.seconds,
            "check_p50": float(np.percentile(latencies, 50)), "check_p99": float(np.percentile(latencies, 99))}


def run_dedup_per_doc(n: int, msrp: Path) -> dict:
    return run_dedup(n, msrp, group=1)


def run_same_work(n: int, msrp: Path) -> dict:
    """datasketch MinHashLSH in memory, fed our signatures, same inserts and queries as the index."""
    from datasketch import MinHashLSH

    from dedup.records import Document
    from dedup.core import Context, analyze

    articles, _ = stream(n, msrp)
    context = Context()
    s = context.settings
    cpu = cpu_timer()
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
    return in_memory(timer, cpu, held)


def in_memory(timer, cpu, held: int) -> dict:
    return {"seconds": timer.seconds, "cpu_seconds": cpu(), "peak_mb": peak_rss_mb(), "held_back": held,
            "bytes_per_doc": NAN, "open_s": NAN, "check_p50": NAN, "check_p99": NAN}


def run_doc_level(n: int, msrp: Path) -> dict:
    from datasketch import MinHash, MinHashLSH

    articles, _ = stream(n, msrp)
    cpu = cpu_timer()
    with Timer() as timer:
        lsh = MinHashLSH(threshold=0.9, num_perm=128)
        held = 0
        for doc_id, text in articles:
            words = re.findall(r"\w+", text.lower())
            m = MinHash(num_perm=128)
            m.update_batch([" ".join(words[i:i + 5]).encode() for i in range(max(1, len(words) - 4))])
            held += bool(lsh.query(m))
            lsh.insert(doc_id, m, check_duplication=False)
    return in_memory(timer, cpu, held)


ENGINES = {"dedup": ("dedup, group commit", run_dedup), "single": ("dedup, commit per doc", run_dedup_per_doc),
           "same": ("datasketch, same work", run_same_work), "doc": ("datasketch, doc-level", run_doc_level)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--small", action="store_true", help="2,000 and 5,000 articles (for CI)")
    parser.add_argument("--same-work-max", type=int, default=20_000,
                        help="largest size for the same-work datasketch baseline (memory)")
    parser.add_argument("--per-doc-max", type=int, default=10_000,
                        help="largest size for the commit-per-document run (time)")
    parser.add_argument("--engines", nargs="+", choices=list(ENGINES), default=list(ENGINES),
                        help="run only these engines")
    args = parse_engine_args(parser, ENGINES)
    sizes = [2000, 5000] if args.small else args.sizes
    limits = {"same": (args.same_work_max, "over --same-work-max (in-memory LSH of all windows needs ~13 KB per insert)"),
              "single": (args.per_doc_max, "over --per-doc-max")}
    rows = run_engines(Path(__file__), ENGINES, sizes, args.msrp,
                       skip=lambda key, n: "not asked for (--engines)" if key not in args.engines
                       else limits[key][1] if key in limits and n > limits[key][0] else None)
    for row in rows:
        row["cpu_docs_per_s"] = row["n"] / row["cpu_seconds"]
    for row in rows:
        same = [r for r in rows if r["n"] == row["n"] and r["engine"] == ENGINES["same"][0]]
        row["vs_same"] = (f"{row['docs_per_s'] / same[0]['docs_per_s']:.1f}x / "
                          f"{row['cpu_docs_per_s'] / same[0]['cpu_docs_per_s']:.1f}x") if same else "-"
        for key in ("bytes_per_doc", "check_p50", "check_p99"):
            row[key + "_text"] = "-" if row[key] != row[key] else (f"{row[key]:.0f}" if key == "bytes_per_doc"
                                                                   else f"{row[key]:.2f}")
    print()
    print_table(rows, [("docs", "{n}"), ("engine", "{engine}"), ("seconds", "{seconds:.1f}"),
                       ("docs/s", "{docs_per_s:.0f}"), ("docs/cpu-s", "{cpu_docs_per_s:.0f}"),
                       ("vs same-work (wall / cpu)", "{vs_same}"), ("peak MB", "{peak_mb:.0f}"),
                       ("bytes/doc on disk", "{bytes_per_doc_text}"), ("check p50 ms", "{check_p50_text}"),
                       ("check p99 ms", "{check_p99_text}"), ("held back", "{held_back}")])
    write_json(args.output, rows)


if __name__ == "__main__":
    main()
