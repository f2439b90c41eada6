"""The reports in a real browser: playwright driving Debian's chromium, headless, on the HTML files.

Each page must open from disk with no console error and no network request, draw every chart,
and switch the dispatch chart when another representative day is picked in its drop-down. A
scenario named ``<script>alert(1)</script>`` must not open a dialog.

Skips only where no chromium (or no playwright) exists *and* the environment variable ``CI``
is not set; in CI these tests always run (``.ci/run`` installs Debian's chromium).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_report import HOSTILE_DESCRIPTION, HOSTILE_NAME, TWO_DAY, compare_file, plan, report_file, varied_profile
from tiny import tiny

from planner.pipeline import ModelCache, plan_scenario
from planner.report.compare import compare_charts
from planner.report.figures import day_labels
from planner.report.html import report_charts, write_report
from planner.results.kpis import binding
from planner.studies.limit_costs import add_limit_costs, limit_costs

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def _chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; in CI the browser tests must run (.ci/run installs Debian's chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - depends on the machine
        _skip_or_fail("the playwright package is not installed")
    executable = _chromium()
    if executable is None:
        _skip_or_fail("no chromium executable (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Page:
    """A page opened from a file, recording console errors, failed and non-file requests, dialogs."""

    def __init__(self, browser: Any, path: Path, width: int = 1366) -> None:
        self.page = browser.new_page(viewport={"width": width, "height": 900})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on(
            "console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None
        )
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url}"))
        self.page.on("request", self._request)
        self.page.on("dialog", self._dialog)
        self.page.goto(path.resolve().as_uri(), wait_until="load")

    def _request(self, request: Any) -> None:
        if not request.url.startswith(("file:", "data:", "blob:", "about:")):
            self.requests.append(request.url)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def wait_for_charts(self, n: int) -> None:
        self.page.wait_for_function(
            "n => document.querySelectorAll('.js-plotly-plot').length >= n", arg=n, timeout=20_000
        )

    def chart_ys(self, chart_id: str) -> list[Any]:
        return self.page.evaluate("id => document.getElementById(id).data.map(t => Array.from(t.y || []))", chart_id)

    def chart_title(self, chart_id: str) -> str:
        return self.page.evaluate("id => document.getElementById(id).layout.title.text", chart_id)

    def pick_day(self, chart_id: str, label: str) -> None:
        """Open the chart's drop-down and click the entry ``label``, as a user would."""
        chart = self.page.locator(f"#{chart_id}")
        chart.locator(".updatemenu-header").first.click(timeout=5_000)
        chart.locator(".updatemenu-dropdown-button", has_text=label).first.click(timeout=5_000)
        self.page.wait_for_timeout(200)

    def close(self) -> None:
        self.page.close()


def _switch_and_check(page: Page, chart_id: str, labels: list[str]) -> None:
    before, title = page.chart_ys(chart_id), page.chart_title(chart_id)
    active = page.page.evaluate("id => document.getElementById(id).layout.updatemenus[0].active", chart_id)
    other = labels[(active + 1) % len(labels)]
    page.pick_day(chart_id, other)
    after = page.chart_ys(chart_id)
    assert after != before, "the dispatch chart must show the other day's data"
    assert other in page.chart_title(chart_id) and page.chart_title(chart_id) != title
    assert page.page.evaluate("id => document.getElementById(id).layout.updatemenus[0].active", chart_id) != active


@pytest.fixture(scope="module")
def report_page(browser: Any) -> Iterator[Page]:
    """The report of the two-day plan named ``<script>alert(1)</script>``, open, every chart drawn."""
    page = Page(browser, report_file("hostile"))
    page.wait_for_charts(len(report_charts(plan("hostile"))))
    yield page
    page.close()


@pytest.fixture(scope="module")
def compare_page(browser: Any) -> Iterator[Page]:
    """The comparison of the two-day plan (A) with the hostile one (B), open, every chart drawn."""
    page = Page(browser, compare_file("two_day", "hostile"))
    page.wait_for_charts(len(compare_charts(plan("two_day"), plan("hostile"), ("a", "b"))))
    yield page
    page.close()


def test_report_opens_without_errors_or_network(report_page: Page) -> None:
    page = report_page
    assert page.page.locator(".js-plotly-plot").count() == len(report_charts(plan("hostile")))
    assert page.page.evaluate("typeof window.Plotly") == "object"
    assert page.errors == [] and page.requests == []


def test_report_dispatch_dropdown_switches_the_day(report_page: Page) -> None:
    _switch_and_check(report_page, "chart-dispatch", day_labels(plan("hostile")))
    assert report_page.errors == []


def test_hostile_scenario_name_runs_no_script(report_page: Page) -> None:
    page = report_page
    page.page.wait_for_timeout(200)
    assert page.dialogs == [], f"a dialog opened: {page.dialogs}"
    assert page.page.locator("h1").inner_text() == HOSTILE_NAME  # shown as literal text
    assert page.page.title().startswith(HOSTILE_NAME)
    assert HOSTILE_DESCRIPTION.split(" & ")[0] in page.page.locator("header .desc").inner_text()
    assert page.page.locator("header img").count() == 0 and page.page.locator("header b").count() == 0


def test_compare_report_opens_without_errors_or_network(compare_page: Page) -> None:
    page = compare_page
    assert page.page.locator(".js-plotly-plot").count() == len(
        compare_charts(plan("two_day"), plan("hostile"), ("a", "b"))
    )
    assert "Δ" in page.page.locator("table.deltas").inner_text()
    assert HOSTILE_NAME in page.page.locator("h1").inner_text()  # B is the hostile plan: shown as text
    assert page.errors == [] and page.requests == [] and page.dialogs == []


def test_compare_dispatch_dropdowns_switch_the_day(compare_page: Page) -> None:
    _switch_and_check(compare_page, "chart-dispatch-a", day_labels(plan("two_day")))
    _switch_and_check(compare_page, "chart-dispatch-b", day_labels(plan("hostile")))
    assert compare_page.errors == [] and compare_page.dialogs == []


@pytest.fixture(scope="module")
def tight(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Page]]:
    """The two-day plan with a compute target of 3 PFLOPS (it binds: demand needs 2 servers) under its PUE cap of
    1.3 (headroom), its limits costed, and its report open."""
    cache = ModelCache()
    run = plan_scenario(tiny(varied_profile(), {**TWO_DAY, "policy.installed_eflops_min": 0.003}), cache=cache)
    assert run.dataset is not None
    ds = add_limit_costs(run.dataset, limit_costs(run, run.outcome.options, cache))
    page = Page(browser, write_report(ds, tmp_path_factory.mktemp("tight") / "tight.html"))
    page.wait_for_charts(len(report_charts(ds)))
    yield ds, page
    page.close()


def test_binding_badges_sit_where_binding_says(tight: tuple[Any, Page]) -> None:
    ds, page = tight
    binds = binding(ds)
    cells = page.page.locator("table.compliance td[data-year]")
    shown: dict[tuple[str, int], str] = {}
    for i in range(cells.count()):
        cell = cells.nth(i)
        key = (str(cell.get_attribute("data-limit")), int(str(cell.get_attribute("data-year"))))
        shown[key] = cell.locator(".badge").inner_text()
        assert (cell.locator(".badge.binding").count() == 1) is bool(binds.sel(limit=key[0], year=key[1])), key
        assert ("cell-binding" in str(cell.get_attribute("class"))) is bool(binds.sel(limit=key[0], year=key[1]))
    years = [int(y) for y in ds.year.values]
    assert all(shown[("installed_eflops_min", y)] == "binding" for y in years)
    assert all(shown[("pue_max", y)].startswith("headroom 0.") for y in years)
    cost = page.page.locator("table.compliance td.limit-cost[data-limit='installed_eflops_min']").inner_text()
    assert "M CNY (NPV)" in cost and "between" in cost
    assert page.page.locator("table.compliance td.limit-cost[data-limit='pue_max']").inner_text() == "not binding"
    assert page.errors == [] and page.requests == []


#: For every chart: the boxes of its subplot titles (make_subplots' annotations: paper-anchored at the
#: top of a y-axis domain, centred, anchored at their bottom) as [left, top, right, bottom] in pixels.
SUBPLOT_TITLE_BOXES = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(div => {
  const lay = div.layout, tops = new Set();
  for (const [k, v] of Object.entries(lay)) if (/^yaxis\\d*$/.test(k) && v.domain) tops.add(+v.domain[1].toFixed(6));
  return {id: div.id, boxes: (lay.annotations || []).map((a, i) => [a, i])
    .filter(([a]) => a.yref === 'paper' && a.yanchor === 'bottom' && a.xanchor === 'center')
    .filter(([a]) => tops.has(+(+a.y).toFixed(6)))
    .map(([a, i]) => div.querySelector(`g.annotation[data-index="${i}"]`))
    .filter(g => g).map(g => { const r = g.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })};
})"""


def test_subplot_titles_do_not_overlap_at_800px(browser: Any) -> None:
    """At 800 px a row of three or four panels leaves ~150-220 px per title: long titles wrap, none overlap."""
    page = Page(browser, report_file("two_day"), width=800)
    try:
        page.wait_for_charts(len(report_charts(plan("two_day"))))
        charts = page.page.evaluate(SUBPLOT_TITLE_BOXES)
        assert sum(len(c["boxes"]) for c in charts) >= 6, "the report's subplot titles were not found"
        for c in charts:
            boxes = c["boxes"]
            for i, a in enumerate(boxes):
                for b in boxes[i + 1 :]:
                    apart = a[2] <= b[0] + 0.5 or b[2] <= a[0] + 0.5 or a[3] <= b[1] + 0.5 or b[3] <= a[1] + 0.5
                    assert apart, f"{c['id']}: subplot titles overlap at 800 px: {a} and {b}"
        assert page.errors == [] and page.requests == []
    finally:
        page.close()
