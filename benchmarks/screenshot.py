"""Render the seeds' HTML report in headless Chromium and save screenshots a person can look at.

    python benchmarks/screenshot.py [--output-dir benchmarks/results]

Writes seeds-report.html, seeds-overview.png (the families and their graphs) and
seeds-pair.png (000 and 001 side by side, a highlight clicked).  With --large N it
also reports the size of the page for N generated articles and how long Chromium
takes to make it interactive and to open a pair.  Needs Debian's chromium and the
playwright package (both installed by .ci/run).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output-dir", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--large", type=int, default=0, help="also time a report of this many generated articles")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from dedup import scan
    from dedup.html import CHROMIUM_ARGS, find_chromium, render

    chromium = find_chromium()
    if chromium is None:
        sys.exit("screenshot: error: no chromium on PATH (apt-get install chromium)")
    args.output_dir.mkdir(parents=True, exist_ok=True)
    page_path = args.output_dir / "seeds-report.html"
    page_path.write_text(render(scan(ROOT / "seeds"), title="dedup: seeds"), encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(page_path.resolve().as_uri())
        page.wait_for_function("window.dedupReady === true")
        page.screenshot(path=str(args.output_dir / "seeds-overview.png"), full_page=True)
        page.locator("button.open-pair").first.click()
        page.locator('.pane[data-side="a"] .hl').nth(2).click()
        page.wait_for_timeout(200)
        page.locator(".pairview").screenshot(path=str(args.output_dir / "seeds-pair.png"))
        if args.large:
            time_large_report(browser, args.large, args.output_dir)
        browser.close()
    for name in ("seeds-report.html", "seeds-overview.png", "seeds-pair.png"):
        print(args.output_dir / name)


def time_large_report(browser, n: int, folder: Path) -> None:
    import time

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from common import generated_corpus

    from dedup import Scanner
    from dedup.html import render
    from dedup.records import Document

    articles, _ = generated_corpus(n)
    report = Scanner().scan([Document(i, t) for i, t in articles])
    path = folder / f"report-{n}.html"
    path.write_text(render(report), encoding="utf-8")
    page = browser.new_page()
    started = time.perf_counter()
    page.goto(path.resolve().as_uri())
    page.wait_for_function("window.dedupReady === true")
    ready = time.perf_counter() - started
    started = time.perf_counter()
    page.locator("button.open-pair").first.click()
    page.locator(".pairview").wait_for()
    opened = time.perf_counter() - started
    print(f"report of {n} articles ({len(report.pairs)} pairs, "
          f"{page.locator('details.family').count()} families): {path.stat().st_size / 2**20:.1f} MiB, "
          f"interactive in {ready:.2f} s, a pair opens in {opened:.2f} s")
    path.unlink()


if __name__ == "__main__":
    main()
