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
#: top of a y-axis domain, centred or at the panel's left edge, anchored at their bottom) as [left, top,
#: right, bottom] in pixels.
SUBPLOT_TITLE_BOXES = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(div => {
  const lay = div.layout, tops = new Set();
  for (const [k, v] of Object.entries(lay)) if (/^yaxis\\d*$/.test(k) && v.domain) tops.add(+v.domain[1].toFixed(6));
  return {id: div.id, boxes: (lay.annotations || []).map((a, i) => [a, i])
    .filter(([a]) => a.yref === 'paper' && a.yanchor === 'bottom' && ['center', 'left'].includes(a.xanchor))
    .filter(([a]) => tops.has(+(+a.y).toFixed(6)))
    .map(([a, i]) => div.querySelector(`g.annotation[data-index="${i}"]`))
    .filter(g => g).map(g => { const r = g.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })};
})"""


#: For every chart: the boxes of the chart, its title and its subtitle (none: null), as for SUBPLOT_TITLE_BOXES.
TITLE_BOXES = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(div => {
  const box = e => {
    if (!e) return null;
    const r = e.getBoundingClientRect();
    return [r.left, r.top, r.right, r.bottom];
  };
  return {id: div.id, chart: box(div), title: box(div.querySelector('.gtitle')),
          subtitle: box(div.querySelector('.gtitle-subtitle'))};
})"""


@pytest.fixture(scope="module")
def narrow_page(browser: Any) -> Iterator[Page]:
    """The report of the two-day plan in an 800-px window, every chart drawn."""
    page = Page(browser, report_file("two_day"), width=800)
    page.wait_for_charts(len(report_charts(plan("two_day"))))
    yield page
    page.close()


def assert_subplot_titles_apart(page: Page) -> None:
    """No two subplot titles of any chart on the page overlap (and the page logged no error, fetched nothing)."""
    charts = page.page.evaluate(SUBPLOT_TITLE_BOXES)
    assert sum(len(c["boxes"]) for c in charts) >= 6, "the report's subplot titles were not found"
    for c in charts:
        boxes = c["boxes"]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                apart = a[2] <= b[0] + 0.5 or b[2] <= a[0] + 0.5 or a[3] <= b[1] + 0.5 or b[3] <= a[1] + 0.5
                assert apart, f"{c['id']}: subplot titles overlap at {page.page.viewport_size}: {a} and {b}"
    assert page.errors == [] and page.requests == []


def test_subplot_titles_do_not_overlap_at_800px(narrow_page: Page) -> None:
    """At 800 px a row of three or four panels leaves ~150-220 px per title: long titles wrap, none overlap."""
    assert_subplot_titles_apart(narrow_page)


def test_chart_titles_fit_at_800px(narrow_page: Page) -> None:
    """At 800 px every chart's title and subtitle end inside the chart (none is cut at the right) and sit above
    its subplot titles; the policy chart's key of markers is its subtitle."""
    page = narrow_page
    subplot_titles = {c["id"]: c["boxes"] for c in page.page.evaluate(SUBPLOT_TITLE_BOXES)}
    charts = page.page.evaluate(TITLE_BOXES)
    assert {"chart-compliance", "chart-dispatch-days"} <= {c["id"] for c in charts if c["subtitle"]}
    for c in charts:
        left, right = c["chart"][0], c["chart"][2]
        for what in ("title", "subtitle"):
            box = c[what]
            if box is None:
                assert what == "subtitle", f"{c['id']}: no title"
                continue
            assert left - 0.5 <= box[0] and box[2] <= right + 0.5, f"{c['id']}: {what} {box} cut at 800 px ({right})"
            for sub in subplot_titles.get(c["id"], []):
                assert box[3] <= sub[1] + 0.5, f"{c['id']}: {what} {box} runs into a subplot title {sub}"
    assert page.errors == [] and page.requests == []


#: The two-day plan made as hard to lay out at 800 px as the default plan: three years (three year buttons), a
#: day kept for two extremes (a long day label, "day 1 · 11 Jul · ×1 d ★ hottest, hottest wet-bulb") and a
#: cooling technology with a long name (a wide legend beside the dispatch, which narrows its plot).
NARROW_DISPATCH = {
    **TWO_DAY,
    "name": "two-day, long labels",
    "years": [2026, 2027, 2028],
    "time.representative_days": 3,
    "time.extreme_days": {"dry_bulb_c": "max", "wet_bulb_c": "max"},  # the same day: both flagged on it
    "cooling.air.description": "evaporative free air cooling",
}


@pytest.fixture(scope="module")
def narrow_dispatch_page(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    """The report of :data:`NARROW_DISPATCH` in an 800-px window, every chart drawn.

    On the two-day plan's page (:func:`narrow_page`) the dispatch's menus and titles have room to spare;
    here they have as little as on the default plan's.
    """
    run = plan_scenario(tiny(varied_profile(), NARROW_DISPATCH))
    assert run.dataset is not None, run.outcome.termination
    assert any("★" in label for label in day_labels(run.dataset)), "no day kept for an extreme: short day labels"
    page = Page(browser, write_report(run.dataset, tmp_path_factory.mktemp("narrow") / "narrow.html"), width=800)
    page.wait_for_charts(len(report_charts(run.dataset)))
    yield page
    page.close()


#: The dispatch charts of a report.
DISPATCH_CHARTS = ("chart-dispatch", "chart-dispatch-days")

#: The boxes of a chart's menus: one per menu (a drop-down's header, a row of buttons) and the drop-down's
#: list when open; each button's box and its label's; the chart's, its title's and its annotations'.
MENU_BOXES = """id => {
  const div = document.getElementById(id);
  const box = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const sized = b => b[2] - b[0] > 0 && b[3] - b[1] > 0;
  return {
    menus: Array.from(div.querySelectorAll('.updatemenu-container g.updatemenu-header-group,'
      + ' .updatemenu-container g.updatemenu-dropdown-button-group')).map(box).filter(sized),
    buttons: Array.from(div.querySelectorAll('.updatemenu-container g.updatemenu-header,'
      + ' .updatemenu-container g.updatemenu-button')).map(g => ({
        rect: box(g.querySelector('rect.updatemenu-item-rect')),
        text: box(g.querySelector('text.updatemenu-item-text'))})),
    chart: box(div),
    titles: Array.from(div.querySelectorAll('.gtitle, .gtitle-subtitle, g.annotation')).map(box).filter(sized),
  };
}"""

#: Each TOU band of a chart (those shown and those a day button shows) as its span of the paper's height
#: [bottom, top] and the y domain of its panel (the y axis its x axis is anchored to), in paper fractions.
TOU_SPANS = """id => {
  const div = document.getElementById(id), full = div._fullLayout, lay = div.layout;
  const axis = ref => full[ref.replace(/^([xy])(\\d*)$/, (m, letter, n) => letter + 'axis' + n)];
  const shapes = [...(lay.shapes || [])];
  for (const menu of lay.updatemenus || [])
    for (const button of menu.buttons || [])
      for (const arg of button.args || []) if (arg && Array.isArray(arg.shapes)) shapes.push(...arg.shapes);
  return shapes.filter(s => String(s.name || '').startsWith('TOU ')).map(s => {
    const yref = s.yref || 'y', panel = axis(axis(s.xref || 'x').anchor).domain;
    let span;
    if (yref === 'paper') span = [s.y0, s.y1];
    else {
      const ax = axis(yref.split(' ')[0]), [d0, d1] = ax.domain;
      const f = yref.endsWith(' domain') ? (v => v) : (v => (v - ax.range[0]) / (ax.range[1] - ax.range[0]));
      span = [d0 + f(s.y0) * (d1 - d0), d0 + f(s.y1) * (d1 - d0)];
    }
    return {name: s.name, yref: yref, span: [Math.min(...span), Math.max(...span)], panel: panel};
  });
}"""


def _apart(a: list[float], b: list[float]) -> bool:
    """Whether two boxes [left, top, right, bottom] do not overlap (touching is apart)."""
    return a[2] <= b[0] + 0.5 or b[2] <= a[0] + 0.5 or a[3] <= b[1] + 0.5 or b[3] <= a[1] + 0.5


def test_dispatch_menus_do_not_overlap_at_800px(narrow_page: Page, narrow_dispatch_page: Page) -> None:
    """At 800 px the day drop-down (its label as wide as the plot) and the year buttons do not overlap each
    other, nor the chart's title or its panels' titles; every button's label fits its box."""
    for page in (narrow_page, narrow_dispatch_page):
        boxes = page.page.evaluate(MENU_BOXES, "chart-dispatch")
        menus = boxes["menus"]
        assert len(menus) == 2, f"expected the day drop-down and the year buttons: {menus}"
        for i, a in enumerate(menus):
            for b in menus[i + 1 :]:
                assert _apart(a, b), f"chart-dispatch: menus overlap at 800 px: {a} and {b}"
            for t in boxes["titles"]:
                assert _apart(a, t), f"chart-dispatch: menu {a} overlaps a title {t} at 800 px"
        assert len(boxes["buttons"]) >= 3  # the drop-down's header and a button per year
        for button in boxes["buttons"]:
            rect, text = button["rect"], button["text"]
            assert rect[0] - 0.5 <= text[0] and text[2] <= rect[2] + 0.5, f"label {text} wider than its box {rect}"
        assert page.errors == [] and page.requests == []


def test_tou_shading_stays_in_its_panel_at_800px(narrow_page: Page, narrow_dispatch_page: Page) -> None:
    """The TOU bands of the dispatch charts (on the day shown and every other day) span the upper panel's
    height only: the lower panel and its title are not shaded."""
    for page, chart in ((p, c) for p in (narrow_page, narrow_dispatch_page) for c in DISPATCH_CHARTS):
        spans = page.page.evaluate(TOU_SPANS, chart)
        assert spans, f"{chart}: no TOU bands"
        for s in spans:
            (lo, hi), (d0, d1) = s["span"], s["panel"]
            assert d0 - 1e-6 <= lo and hi <= d1 + 1e-6, (
                f"{chart}: {s['name']} ({s['yref']}) spans {s['span']}, its panel {s['panel']}"
            )


def test_dispatch_titles_inside_the_chart_at_800px(narrow_page: Page, narrow_dispatch_page: Page) -> None:
    """At 800 px the dispatch charts' titles and annotations (the panels' titles) start and end inside the
    chart: none runs off its left edge (a title centred over a plot narrowed by the legend beside it did)."""
    for page, chart in ((p, c) for p in (narrow_page, narrow_dispatch_page) for c in DISPATCH_CHARTS):
        boxes = page.page.evaluate(MENU_BOXES, chart)
        left, right = boxes["chart"][0], boxes["chart"][2]
        assert boxes["titles"], f"{chart}: no title"
        for t in boxes["titles"]:
            assert left - 0.5 <= t[0] and t[2] <= right + 0.5, f"{chart}: {t} not inside the chart [{left}, {right}]"
