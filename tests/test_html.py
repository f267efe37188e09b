"""The HTML report, checked on the live page in headless Chromium (Playwright)."""

from __future__ import annotations

import pytest

from dedup import Scanner
from dedup.html import CHROMIUM_ARGS, find_chromium, render
from dedup.records import Document

from .conftest import ROOT, SEED_000, SEED_001, SEED_002, run_cli, write

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class LivePage:
    """A page with every request and console error recorded."""

    def __init__(self, browser, path):
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.requests, self.errors = [], []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.url = path.resolve().as_uri()
        self.page.goto(self.url)
        self.page.wait_for_function("window.dedupReady === true")

    def assert_clean(self):
        assert self.errors == []
        assert [u for u in self.requests if u != self.url] == []   # nothing leaves the page


@pytest.fixture(scope="module")
def seeds_page(browser, tmp_path_factory):
    path = tmp_path_factory.mktemp("html") / "seeds.html"
    result = run_cli("scan", str(ROOT / "seeds"), "--html", str(path))
    assert result.returncode == 0, result.stderr
    live = LivePage(browser, path)
    yield live
    live.page.close()


def test_family_of_000_and_001_and_the_absent_ft(seeds_page):
    page = seeds_page.page
    family = page.locator(f'details.family[data-members~="{SEED_000}"]')
    assert family.count() == 1
    assert SEED_001 in family.get_attribute("data-members")
    assert family.locator("table.pairs tbody tr").count() == 1
    assert "paraphrase" in family.locator("table.pairs").inner_text()
    # The graph: the FT as an absent-source node, and 002's edge to it.
    ft = page.locator('g.node.source[data-node="source:financial-times"]')
    assert ft.count() == 1 and "Financial Times" in ft.text_content()
    edge = page.locator(f'g.edge[data-child="{SEED_002}"][data-parent="source:financial-times"]')
    assert edge.count() == 1 and edge.get_attribute("data-relation") == "cites"
    seeds_page.assert_clean()


def test_clicking_a_highlight_scrolls_the_other_pane(seeds_page):
    page = seeds_page.page
    family = page.locator(f'details.family[data-members~="{SEED_000}"]')
    family.locator("button.open-pair").first.click()
    view = family.locator(".pairview")
    assert "metastatic cancer" in view.locator(".evidence").inner_text()
    pane_b = view.locator('.pane[data-side="b"]')
    # Pick the highlight on the left whose counterpart lies lowest in the right pane.
    key = page.evaluate("""() => {
        const b = document.querySelector('.pairview .pane[data-side="b"]');
        let best = null;
        b.querySelectorAll('.hl').forEach(h => { if (!best || h.offsetTop > best.offsetTop) best = h; });
        return best.getAttribute('data-key');
    }""")
    assert pane_b.evaluate("e => e.scrollTop") == 0
    view.locator(f'.pane[data-side="a"] .hl[data-key="{key}"]').first.click()
    page.wait_for_timeout(100)
    top, height = pane_b.evaluate("e => [e.scrollTop, e.clientHeight]")
    twin_top = view.locator(f'.pane[data-side="b"] .hl[data-key="{key}"]').first.evaluate("e => e.offsetTop")
    assert top > 0 and top <= twin_top <= top + height
    # Chrome is greyed out, not highlighted.
    assert view.locator('.pane[data-side="a"] .chrome').filter(has_text="Leave a Reply").count() == 1
    seeds_page.assert_clean()


def test_article_markup_renders_as_text(browser, tmp_path, seeds):
    hostile = ("<script>window.pwned = 1</script><img src=x onerror=\"window.pwned = 2\">\n\n"
               + seeds[SEED_002])
    report = Scanner().scan([Document("hostile", hostile), Document("copy", hostile + "\nRead more")])
    path = write(tmp_path, "hostile.html", render(report))
    live = LivePage(browser, path)
    live.page.locator("button.open-pair").first.click()
    assert live.page.evaluate("window.pwned") is None
    assert "<script>window.pwned = 1</script>" in live.page.locator('.pane[data-side="a"]').inner_text()
    live.assert_clean()


def test_pair_table_sorts_and_paginates(browser, tmp_path, seeds):
    docs = [Document(f"copy{i:02d}", seeds[SEED_002][: 2500 + 150 * i]) for i in range(12)]   # 66 pairs
    path = write(tmp_path, "many.html", render(Scanner(paraphrase=False).scan(docs)))
    live = LivePage(browser, path)
    rows = live.page.locator("table.pairs tbody tr")
    assert rows.count() == 50
    more = live.page.locator("button.more")
    assert more.inner_text() == "show 16 more of 66"
    more.click()
    assert rows.count() == 66
    live.page.locator('table.pairs th[data-key="jaccard"]').click()
    values = [float(rows.nth(i).locator("td").nth(9).inner_text()) for i in range(66)]
    assert values == sorted(values) and values[0] < values[-1]
    live.assert_clean()


def test_compare_writes_a_pair_page(browser, tmp_path):
    path = tmp_path / "pair.html"
    result = run_cli("compare", str(ROOT / "seeds" / SEED_000), str(ROOT / "seeds" / SEED_001), "--html", str(path))
    assert result.returncode == 0, result.stderr
    live = LivePage(browser, path)
    live.page.locator("button.open-pair").click()
    assert live.page.locator(".pairview .hl").count() >= 6   # both sides of >= 3 aligned sentences
    live.assert_clean()
