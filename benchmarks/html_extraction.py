"""HTML main text: the whole visible text (lxml, the former extractor) against trafilatura
(``dedup.load.extract_html``), on real saved news pages with known main text.

The pages: the 23 saved news pages (CNN, Wired, Time, cleveland.com, Fox 13, Yonhap,
Arabic, Chinese, Japanese, Thai, Spanish, Latvian, Burmese sites) that newspaper4k's
test suite ships in its source distribution, each with the article text that suite
expects (``tests/data/html/NAME.html`` and ``tests/data/txt/NAME.txt``).  The script
fetches that sdist with pip into a cache folder the first time (or pass ``--pages``).

For each page:
- main strings: the paragraphs of the expected text (20 characters or more);
- boilerplate strings: lines of the page's visible text (20 characters or more) that
  are not part of the expected text and hold no main paragraph, less the page title
  (menus, related links, footers, captions, share bars);
- kept: share of main strings found in the extracted text; dropped: share of
  boilerplate strings not found in it (after collapsing spaces); the whole visible
  text drops none by this definition;
- pairs: what ``dedup.Scanner`` reports among the pages' extracted texts: pairs of
  two copies of one article (the same saved page or the same expected text; the
  suite ships one page twice, as cleveland.com1 and video_article_01) and pairs of different articles
  (shared site furniture read as ``overlap``: false pairs).
The expected text is another extractor's output checked by its authors, not a hand
labelling: a caption or subtitle it leaves out counts as boilerplate here.

    python benchmarks/html_extraction.py [--pages DIR] [--repeat 3] [--per-page]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import print_table  # noqa: E402

from dedup.load import decode, extract_html, visible_text  # noqa: E402

SDIST = "newspaper4k==0.9.6"
CACHE = Path.home() / ".cache" / "dedup-bench" / "html"
MIN_CHARS = 20
EXTRACTORS = {"lxml visible text (before)": visible_text, "trafilatura (extract_html now)": extract_html}


@dataclass
class LabelledPage:
    name: str
    raw: str
    main: list[str]          # strings that belong to the article
    boilerplate: list[str]   # strings that do not
    article: str             # the expected text


PAGES_UNAVAILABLE = 3   # exit status when the labelled pages cannot be had (CI tolerates only this one)


def flat(text: str) -> str:
    return " ".join(text.split())


def pages_folder(given: Path | None) -> Path:
    """``DIR`` holding html/ and txt/; the newspaper4k sdist fetched with pip if not given."""
    if given is not None:
        if not (given / "html").is_dir() or not (given / "txt").is_dir():
            sys.exit(f"html_extraction: error: {given}: expected html/ and txt/ folders in it")
        return given
    found = sorted(CACHE.glob("newspaper4k-*/tests/data"))
    if found:
        return found[-1]
    CACHE.mkdir(parents=True, exist_ok=True)
    fetched = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                              SDIST, "-d", str(CACHE)], capture_output=True, text=True)
    if fetched.returncode != 0:
        print(f"html_extraction: error: could not fetch {SDIST}'s saved test pages with pip "
              f"({(fetched.stderr.strip().splitlines() or ['no message'])[-1]}); pass --pages DIR", file=sys.stderr)
        sys.exit(PAGES_UNAVAILABLE)
    (archive,) = CACHE.glob("newspaper4k-*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(CACHE, filter="data")
    return sorted(CACHE.glob("newspaper4k-*/tests/data"))[-1]


def labelled_pages(folder: Path) -> list[LabelledPage]:
    pages = []
    for html in sorted((folder / "html").glob("*.html")):
        expected = folder / "txt" / (html.stem + ".txt")
        if not expected.exists():
            continue   # a page the suite keeps for other checks (feeds, redirects, front pages)
        raw, _ = decode(html.read_bytes(), html=True)
        main_text = expected.read_text(encoding="utf-8")
        main = [flat(p) for p in main_text.splitlines() if len(flat(p)) >= MIN_CHARS]
        whole, title = flat(main_text), flat(visible_text(raw).title)
        boilerplate = [line for line in dict.fromkeys(flat(x) for x in visible_text(raw).text.splitlines())
                       if len(line) >= MIN_CHARS and line not in whole and line not in title
                       and not any(m in line for m in main)]
        pages.append(LabelledPage(html.stem, raw, main, boilerplate, whole))
    return pages


def score(page: LabelledPage, extracted: str) -> tuple[float, float]:
    text = flat(extracted)
    kept = sum(m in text for m in page.main) / len(page.main) if page.main else 1.0
    dropped = sum(b not in text for b in page.boilerplate) / len(page.boilerplate) if page.boilerplate else 1.0
    return kept, dropped


def pairs_found(pages: list[LabelledPage], texts: list[str]) -> tuple[int, int]:
    """(pairs of pages of one article, pairs of different articles) that a scan reports."""
    from dedup import Scanner
    from dedup.records import Document

    report = Scanner(paraphrase=False).scan([Document(id=p.name, text=t) for p, t in zip(pages, texts)])
    by_name = {p.name: p for p in pages}
    same = sum(one_article(by_name[pair.a], by_name[pair.b]) for pair in report.pairs)
    return same, len(report.pairs) - same


def one_article(a: LabelledPage, b: LabelledPage) -> bool:
    """Two pages of one article: the same saved page, or the same expected text."""
    return a.raw == b.raw or a.article == b.article


def measure(pages: list[LabelledPage], repeat: int) -> tuple[list[dict], list[dict]]:
    summary, per_page = [], []
    for label, extract in EXTRACTORS.items():
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            texts = [extract(p.raw).text for p in pages]
            best = min(best, time.perf_counter() - start)
        scores = [score(p, t) for p, t in zip(pages, texts)]
        per_page += [{"page": p.name, "extractor": label, "kept": k, "dropped": d, "chars": len(t)}
                     for p, (k, d), t in zip(pages, scores, texts)]
        same, different = pairs_found(pages, texts)
        main_total = sum(len(p.main) for p in pages)
        boiler_total = sum(len(p.boilerplate) for p in pages)
        summary.append({
            "extractor": label,
            "kept": sum(k * len(p.main) for p, (k, _) in zip(pages, scores)) / main_total,
            "dropped": sum(d * len(p.boilerplate) for p, (_, d) in zip(pages, scores)) / boiler_total,
            "page_kept": sum(k for k, _ in scores) / len(scores),
            "page_dropped": sum(d for _, d in scores) / len(scores),
            "pages_s": len(pages) / best,
            "same": same, "different": different,
        })
    return summary, per_page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, help="folder with html/NAME.html and txt/NAME.txt")
    parser.add_argument("--repeat", type=int, default=3, help="timing runs; the best is shown")
    parser.add_argument("--per-page", action="store_true", help="also print each page's scores")
    args = parser.parse_args()
    pages = labelled_pages(pages_folder(args.pages))
    same_pairs = sum(one_article(a, b) for i, a in enumerate(pages) for b in pages[i + 1:])
    print(f"{len(pages)} real pages, {sum(len(p.main) for p in pages)} main strings, "
          f"{sum(len(p.boilerplate) for p in pages)} boilerplate strings, "
          f"{same_pairs} pair(s) of pages of one article\n")
    summary, per_page = measure(pages, args.repeat)
    if args.per_page:
        print_table(per_page, [("page", "{page}"), ("extractor", "{extractor}"), ("main kept", "{kept:.2f}"),
                               ("boilerplate dropped", "{dropped:.2f}"), ("chars", "{chars}")])
        print()
    print_table(summary, [("extractor", "{extractor}"), ("main kept", "{kept:.3f}"),
                          ("boilerplate dropped", "{dropped:.3f}"), ("kept/page", "{page_kept:.3f}"),
                          ("dropped/page", "{page_dropped:.3f}"), ("pages/s", "{pages_s:.1f}"),
                          ("pairs: one article", "{same}"), ("pairs: different articles", "{different}")])


if __name__ == "__main__":
    main()
