"""Scale: the local engine against the Spark engine on one machine, and what 10M articles would shuffle.

    python benchmarks/spark_scale.py                     # 10,000 and 100,000 generated articles
    python benchmarks/spark_scale.py --sizes 10000       # one size
    python benchmarks/spark_scale.py --small             # 1,000 (CI)
    cd /tmp; python .../benchmarks/spark_scale.py --sizes 10000 --no-summary --engines spark2 baseline2 --baseline DIR
                                                         # Spark with --out and no report: concluded on the
                                                         # executors (before: on main's driver); run outside the
                                                         # checkout, so that Spark's workers import --baseline's code

For each size the generated corpus (``common.generated_corpus``: real MSRP news sentences, with
copies, excerpts and paraphrases among them) is written once as JSON lines; then each engine
scans that file in its own process:

  - local: ``LocalEngine`` (``pipeline.Scanner``), the baseline;
  - spark local[1] and spark local[2]: ``SparkEngine`` with one and two executor cores.

Printed side by side: wall time, peak memory of the whole process tree (driver, JVM, Python
workers), whether the Spark answers equal the local ones (pairs, relations, directions), and
the Spark job's own counts: LSH postings, colliding buckets, the largest bucket, candidate
pairs of each kind, bytes shuffled.  From the per-document rates, a projection for 10M
articles (linear: the generated corpus keeps the same share of related articles at any size).
The driver JVM's heap is capped at 6 GB (``SPARK_SCALE_DRIVER_MEMORY`` to change it); the load
average at the end of each run is printed with it (the machine is shared).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import threading
from types import SimpleNamespace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_MSRP, Timer, generated_corpus, print_table, run_isolated, write_json  # noqa: E402

ENGINES = {"local": "local engine", "spark1": "spark local[1]", "spark2": "spark local[2]",
           "baseline2": "baseline local[2]"}   # spark local[2] with the code of --baseline DIR (before a change)
PROJECTED = 10_000_000
PROJECTED_COUNTS = ("lsh_keys", "colliding_buckets", "lsh_candidates", "verbatim_pairs", "aligned_pairs", "pairs",
                    "families", "shuffle_bytes", "collected_bytes")


class TreeMemory:
    """Peak resident memory of this process and all its descendants (the JVM, Python workers),
    sampled from /proc twice a second, and the CPU seconds they used (less affected by the load
    of a shared machine than wall time)."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self.own_peak_mb = 0.0   # this process alone: the local engine, or the Spark driver's Python
        self.cpu_s = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, self.sample())

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.peak_mb = max(self.peak_mb, self.sample())

    def sample(self) -> float:
        """The tree's resident MB now; keeps the most CPU seconds seen (user + system, with
        those of its finished children)."""
        parents, rss, cpu = {}, {}, {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
            cpu[int(entry)] = sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
        mine, frontier = {os.getpid()}, [os.getpid()]
        while frontier:
            parent = frontier.pop()
            children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in mine]
            mine.update(children)
            frontier.extend(children)
        self.cpu_s = max(self.cpu_s, sum(cpu.get(pid, 0) for pid in mine))
        self.own_peak_mb = max(self.own_peak_mb, rss.get(os.getpid(), 0) / 2**20)
        return sum(rss.get(pid, 0) for pid in mine) / 2**20


def answers_digest(pairs) -> str:
    """A fingerprint of the answers: every pair's documents, relation and direction."""
    keys = sorted(f"{p.a}|{p.b}|{p.relation}|{p.direction}" for p in pairs)
    return hashlib.sha1("\n".join(keys).encode()).hexdigest()[:12]


def measure(engine: str, path: Path, no_summary: bool = False) -> dict:
    """One engine's scan of ``path`` in this process.  ``no_summary``: Spark writes ``--out``
    datasets with ``summary_max_documents=0`` (no report collected: the path a corpus no driver
    holds takes) and the answers are read back from its pairs dataset."""
    from dedup.engines import make_engine
    from dedup.engines.datasets import read_dataset

    with TreeMemory() as memory, Timer() as timer:
        if engine == "local":
            result = make_engine("local").scan(str(path))
            timings: dict = {}
        else:
            from pyspark.sql import SparkSession
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            cores = 1 if engine == "spark1" else 2   # spark2 and baseline2: two
            session = (SparkSession.builder.master(f"local[{cores}]").appName("dedup-bench")
                       .config("spark.ui.enabled", "false")
                       .config("spark.driver.memory", os.environ.get("SPARK_SCALE_DRIVER_MEMORY", "6g"))
                       .config("spark.sql.shuffle.partitions", str(4 * cores)).getOrCreate())
            session.sparkContext.setLogLevel("ERROR")
            if no_summary:
                out = Path(tempfile.mkdtemp(prefix="spark-scale-out-"))
                runner = make_engine("spark", session=session, partitions=4 * cores, summary_max_documents=0,
                                     out_format="json")
                result = runner.scan(str(path), out=str(out))
            else:
                runner = make_engine("spark", session=session, partitions=4 * cores, summary_max_documents=10**9)
                result = runner.scan(str(path))
            timings = runner.timings
    if result.report is None:   # the answers as written
        pairs = [SimpleNamespace(**row) for row in read_dataset(Path(result.out) / "pairs")]
    else:
        pairs = result.report.pairs
    return {"load_average": round(os.getloadavg()[0], 1), "seconds": timer.seconds, "cpu_s": memory.cpu_s,
            "peak_mb": memory.peak_mb, "driver_mb": memory.own_peak_mb, "pairs": len(pairs),
            "digest": answers_digest(pairs), "counts": result.counts, "stages": timings}


def baseline_env(folder: Path) -> dict[str, str]:
    """An environment whose processes run the dedup package found in ``folder`` (first on
    PYTHONPATH, which Spark's Python workers inherit)."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(folder.resolve()),
                                                                      os.environ.get("PYTHONPATH")]))}


def write_corpus(n: int, msrp: Path, folder: Path) -> Path:
    articles, _ = generated_corpus(n, folder=msrp)
    path = folder / f"generated-{n}.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        for doc_id, text in articles:
            out.write(json.dumps({"id": doc_id, "text": text}) + "\n")
    return path


def projection(row: dict) -> list[dict]:
    """Each Spark count per article, times 10M."""
    n, counts = row["n"], row["counts"]
    return [{"count": name, "measured": counts.get(name, 0), "per_article": counts.get(name, 0) / n,
             "at_10M": counts.get(name, 0) / n * PROJECTED} for name in PROJECTED_COUNTS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--small", action="store_true", help="1,000 articles (CI)")
    parser.add_argument("--engines", nargs="+", choices=list(ENGINES), default=list(ENGINES))
    parser.add_argument("--msrp", type=Path, default=DEFAULT_MSRP)
    parser.add_argument("--output", type=Path, help="also write the results as JSON here")
    parser.add_argument("--baseline", type=Path, help="a source tree of dedup from before a change (e.g. "
                        "`git archive main | tar -x -C DIR`): engine baseline2 runs Spark local[2] on its code")
    parser.add_argument("--no-summary", action="store_true", help="Spark engines write --out datasets with "
                        "summary_max_documents=0: the driver collects no report (answers read from the datasets)")
    parser.add_argument("--worker", choices=list(ENGINES), help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(args.worker, args.input, args.no_summary), default=float))
        return
    sizes = [1_000] if args.small else args.sizes
    engines = [e for e in args.engines if e != "baseline2" or args.baseline]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            path = write_corpus(n, args.msrp, Path(folder))
            for engine in engines:
                result = run_isolated(Path(__file__), "--worker", engine, "--input", str(path),
                                      *(["--no-summary"] if args.no_summary else []),
                                      env=baseline_env(args.baseline) if engine == "baseline2" else None)
                result.update(engine=ENGINES[engine], n=n, docs_per_s=n / result["seconds"])
                rows.append(result)
                print(f"  n={n:>7} {ENGINES[engine]:<16} {result['seconds']:8.1f}s {result['cpu_s']:8.1f} CPU s "
                      f"load {result['load_average']:.1f} answers {result['digest']} "
                      f"{result['peak_mb']:8.0f} MB (driver {result['driver_mb']:.0f} MB)  "
                      + ", ".join(f"{k} {v:.0f}s" for k, v in result["stages"].items()), file=sys.stderr)
    for row in rows:
        local = next((r for r in rows if r["n"] == row["n"] and r["engine"] == ENGINES["local"]), None)
        row["same_as_local"] = "yes" if local and local["digest"] == row["digest"] else ("-" if not local else "NO")
        row["vs_local"] = row["seconds"] / local["seconds"] if local else float("nan")
        collected = row["counts"].get("collected_bytes")
        row["collected_mib"] = f"{collected / 2**20:,.1f}" if collected is not None else "-"
    print_table(rows, [("articles", "{n:,}"), ("engine", "{engine}"), ("seconds", "{seconds:.1f}"),
                       ("CPU s", "{cpu_s:.1f}"), ("docs/s", "{docs_per_s:.0f}"), ("load", "{load_average:.1f}"),
                       ("× local time", "{vs_local:.2f}"),
                       ("peak MB (tree)", "{peak_mb:,.0f}"), ("driver MB", "{driver_mb:,.0f}"),
                       ("collected MiB", "{collected_mib}"), ("pairs", "{pairs:,}"),
                       ("same answers", "{same_as_local}")])
    spark_rows = [r for r in rows if r["engine"] != ENGINES["local"]]
    if spark_rows:
        largest = max(spark_rows, key=lambda r: (r["n"], r["engine"]))
        c = largest["counts"]
        print(f"\nSpark job at {largest['n']:,} articles ({largest['engine']}): {c.get('lsh_keys', 0):,} LSH postings "
              f"in {c.get('colliding_buckets', 0):,} colliding buckets (largest {c.get('largest_bucket', 0)} "
              f"documents, {c.get('oversized_buckets', 0)} over the cap), {c.get('verbatim_pairs', 0):,} verbatim "
              f"pairs, {c.get('documents', 0):,} documents, {c.get('families', 0):,} "
              f"families found on the executors; shuffled bytes by step: "
              + ", ".join(f"{k.removeprefix('shuffle_bytes_')} {v / 2**20:.1f} MiB" for k, v in c.items()
                          if k.startswith("shuffle_bytes_")))
        for row in spark_rows:   # before (baseline) and after side by side: what the driver is sent, by kind
            print(f"\nCollected to the driver at {row['n']:,} articles, {row['engine']} (MiB): " + ", ".join(
                f"{k.removeprefix('collected_bytes_')} {v / 2**20:.2f}" for k, v in row["counts"].items()
                if k.startswith("collected_bytes_")))
        print(f"\nProjected to {PROJECTED:,} articles (linear in articles, from the run above):")
        print_table(projection(largest), [("count", "{count}"), ("measured", "{measured:,}"),
                                          ("per article", "{per_article:.2f}"), ("at 10M", "{at_10M:,.0f}")])
    write_json(args.output, rows)


if __name__ == "__main__":
    main()
