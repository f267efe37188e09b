"""Pre-ingest filter throughput: the on-disk index vs in-memory datasketch, side by side.

    python benchmarks/filter_throughput.py                  # 10,000 and 100,000 articles
    python benchmarks/filter_throughput.py --sizes 10000    # one size
    python benchmarks/filter_throughput.py --small          # 2,000 and 5,000 (CI)
    python benchmarks/filter_throughput.py --sizes 5000 --baseline-code ../main   # before vs after a change

With ``--baseline-code`` the group-commit run is made a second time with the ``dedup`` package of
another checkout (e.g. main) and the two runs' verdicts are compared document by document (they
must be equal unless the change means to change them): a before/after on the same stream in one run.

For each size, each engine streams the same generated articles (real MSRP text,
15% of them copies, edited copies, excerpts or rewrites of earlier ones) through
check + add, in its own process so each peak RSS is its own:

  dedup, group commit    Index.add_all of 256 documents inside index.batch() (what `dedup filter`
                         does: the documents are analysed, looked up and partly verified ahead
                         in one worker process, see dedup/index/prepare.py), on an on-disk
                         SQLite index file
  dedup, commit per doc  Index.add, one transaction per document (up to --per-doc-max)
  dedup @ baseline code  the group-commit run with --baseline-code's dedup (before a change)
  datasketch, same work  in-memory MinHashLSH given the same signatures and doing the
                         same inserts (document + stored windows) and queries (document +
                         all windows); memory grows ~13 KB per insert, so it runs only up
                         to --same-work-max documents
  datasketch, doc-level  plain in-memory MinHashLSH at its defaults: its own MinHash of
                         5-word shingles, one query and one insert per document

Columns: wall-clock documents/s and documents per CPU-second (the machine may be shared:
CPU time is what the engine itself spent, its worker process included), the ratio to the same-work baseline, peak RSS,
bytes on disk per indexed document, the candidates per document (indexed documents sharing a
bucket with it, before IndexSettings.max_candidates), the latency of Index.check on 500 held-out
articles against the finished index (p50 and p99), and how the verifier's kept shingle sets
served the candidates verified in the index's own process (checked by them / ruled out by them),
and the share of add_all's time the index's process waited for its worker's analyses (near 0:
the worker keeps ahead; high: the worker is the bottleneck, or the machine has no second core free).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (Timer, generated_corpus, peak_rss_mb, parse_engine_args, print_table,  # noqa: E402
                    run_engines, write_json)

HELD_OUT = 500
VERDICTS = "DEDUP_BENCH_VERDICTS"   # a folder where group-commit runs write their verdicts (--baseline-code)
BASELINE = "DEDUP_BENCH_BASELINE_CODE"   # the checkout whose dedup the baseline run imports
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

    import dedup
    from dedup import Index
    from dedup.records import Document

    articles, held_out = stream(n, msrp)
    documents = [Document(doc_id, text) for doc_id, text in articles]
    candidates = count_candidates()
    folder = tempfile.mkdtemp(prefix="dedup-bench-")
    path = os.path.join(folder, "bench.index")
    verdicts = []
    cpu = cpu_timer()
    with Timer() as timer:
        with Index.open(path) as index:
            for start in range(0, n, group):
                if group > 1:
                    with index.batch():
                        verdicts += index.add_all(documents[start:start + group])
                else:
                    verdicts.append(index.add(documents[start]))
            kept = getattr(index._verifier, "counts", {})   # absent in code before the shingle sets
            waited, handing_out = getattr(index._preparer, "waited", (NAN, NAN))
    cpu_seconds = cpu()
    candidates_per_doc = candidates[0] / n   # of the stream's documents (not the held-out checks below)
    held = sum(v.is_duplicate for v in verdicts)
    if os.environ.get(VERDICTS) and group > 1:
        verdicts_file(n, Path(dedup.__file__).parents[1]).write_text("".join(
            f"{v.doc_id}\t{v.relation}\t{v.added}\t{' '.join(f'{i}:{s:.6f}' for i, s in v.matches)}\n"
            for v in verdicts))
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
            "candidates": candidates_per_doc,
            "bytes_per_doc": stats["bytes_on_disk"] / max(1, stats["documents"]), "open_s": open_timer.seconds,
            "check_p50": float(np.percentile(latencies, 50)), "check_p99": float(np.percentile(latencies, 99)),
            "kept": f"{kept.get('shingles checked', 0)}/{kept.get('ruled out', 0)}" if kept else "-",
            "waited": f"{waited / handing_out:.0%}" if handing_out == handing_out and handing_out else "-"}


def count_candidates() -> list[int]:
    """A counter of the candidates the index's process judges each document against (the indexed
    documents in its buckets, before ``max_candidates``), kept by wrapping ``ranked`` as the index
    calls it (so any version of the code is counted alike)."""
    import dedup.index as index_module

    counter = [0]
    ranked = index_module.ranked

    def counting(hits, limit):
        counter[0] += len(hits)
        return ranked(hits, limit)

    index_module.ranked = counting
    return counter


def run_dedup_per_doc(n: int, msrp: Path) -> dict:
    return run_dedup(n, msrp, group=1)


def run_baseline(n: int, msrp: Path) -> dict:
    """The group-commit run in a process importing the baseline checkout's dedup."""
    env = dict(os.environ, PYTHONPATH=os.environ[BASELINE])
    # run in that checkout's folder: a child process started with ``-c`` (the index's worker) imports
    # from its working folder first, so from here it would import this checkout's dedup
    result = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", "dedup", "--n", str(n),
                             "--msrp", str(Path(msrp).resolve())],
                            env=env, capture_output=True, text=True, cwd=os.environ[BASELINE])
    if result.returncode != 0:
        raise RuntimeError(f"baseline run failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def verdicts_file(n: int, code: Path) -> Path:
    tag = hashlib.sha1(str(code.resolve()).encode()).hexdigest()[:10]
    return Path(os.environ[VERDICTS]) / f"{n}-{tag}.tsv"


def compare_verdicts(n: int, baseline: Path) -> str:
    """How many of the n verdicts (relation, added, matches with scores) differ from the baseline's."""
    import dedup
    ours = verdicts_file(n, Path(dedup.__file__).parents[1]).read_text().splitlines()
    theirs = verdicts_file(n, baseline).read_text().splitlines()
    differ = [(a, b) for a, b in zip(ours, theirs) if a != b]
    for a, b in differ[:5]:
        print(f"  n={n}: verdict differs:\n    this code: {a}\n    baseline:  {b}", file=sys.stderr)
    return f"{len(differ)} of {len(ours)} differ" if len(ours) == len(theirs) else "different lengths"


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
            "bytes_per_doc": NAN, "open_s": NAN, "check_p50": NAN, "check_p99": NAN, "kept": "-", "waited": "-",
            "candidates": NAN}


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


ENGINES = {"dedup": ("dedup, group commit", run_dedup), "base": ("dedup @ baseline code", run_baseline),
           "single": ("dedup, commit per doc", run_dedup_per_doc),
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
    parser.add_argument("--baseline-code", type=Path,
                        help="also run the group commit with the dedup package of this checkout (e.g. main), "
                             "and compare the two runs' verdicts")
    args = parse_engine_args(parser, ENGINES)
    if args.baseline_code:
        os.environ[BASELINE] = str(args.baseline_code.resolve())
        os.environ[VERDICTS] = tempfile.mkdtemp(prefix="dedup-verdicts-")
    sizes = [2000, 5000] if args.small else args.sizes
    limits = {"same": (args.same_work_max, "over --same-work-max (in-memory LSH of all windows needs ~13 KB per insert)"),
              "single": (args.per_doc_max, "over --per-doc-max")}
    rows = run_engines(Path(__file__), ENGINES, sizes, args.msrp,
                       skip=lambda key, n: "not asked for (--engines)" if key not in args.engines
                       else "no --baseline-code" if key == "base" and not args.baseline_code
                       else limits[key][1] if key in limits and n > limits[key][0] else None)
    for row in rows:
        row["cpu_docs_per_s"] = row["n"] / row["cpu_seconds"]
    for row in rows:
        same = [r for r in rows if r["n"] == row["n"] and r["engine"] == ENGINES["same"][0]]
        row["vs_same"] = (f"{row['docs_per_s'] / same[0]['docs_per_s']:.1f}x / "
                          f"{row['cpu_docs_per_s'] / same[0]['cpu_docs_per_s']:.1f}x") if same else "-"
        for key in ("bytes_per_doc", "check_p50", "check_p99", "candidates"):
            row[key + "_text"] = "-" if row[key] != row[key] else (f"{row[key]:.0f}" if key == "bytes_per_doc"
                                                                   else f"{row[key]:.2f}")
    print()
    print_table(rows, [("docs", "{n}"), ("engine", "{engine}"), ("seconds", "{seconds:.1f}"),
                       ("docs/s", "{docs_per_s:.0f}"), ("docs/cpu-s", "{cpu_docs_per_s:.0f}"),
                       ("vs same-work (wall / cpu)", "{vs_same}"), ("peak MB", "{peak_mb:.0f}"),
                       ("bytes/doc on disk", "{bytes_per_doc_text}"), ("check p50 ms", "{check_p50_text}"),
                       ("check p99 ms", "{check_p99_text}"), ("held back", "{held_back}"),
                       ("candidates/doc", "{candidates_text}"),
                       ("kept shingles: checked/ruled out", "{kept}"), ("waited for worker", "{waited}")])
    if args.baseline_code:
        for n in sizes:
            print(f"verdicts at {n:,} documents, this code vs {args.baseline_code}: "
                  f"{compare_verdicts(n, args.baseline_code.resolve())}")
        shutil.rmtree(os.environ[VERDICTS])
    write_json(args.output, rows)


if __name__ == "__main__":
    main()
