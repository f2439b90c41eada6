"""The shipped default's report in a real browser (playwright + Debian's chromium), on the plan solved once per session.

What a planner presenting the default sees must agree with its Dataset: every chart drawn, no
console error, no network request; the binding badges exactly where :func:`binding` says a limit
binds; the cash table's rows add up to its totals and its totals to the Dataset's capital spent;
and at 800 px no two subplot titles overlap.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
from test_report_browser import Page, assert_subplot_titles_apart, browser  # noqa: F401 - the browser fixture

from planner.report.html import report_charts, write_report
from planner.results.kpis import binding

pytestmark = pytest.mark.slow  # the default plan: solved once per session (tests/conftest.py)

UNITS = {"CNY": 1.0, "k CNY": 1e3, "M CNY": 1e6, "bn CNY": 1e9}


@pytest.fixture(scope="module")
def report_file(default_plan: xr.Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report(default_plan, tmp_path_factory.mktemp("default_report") / "2030.html")


@pytest.fixture(scope="module")
def page(browser: Any, report_file: Path, default_plan: xr.Dataset) -> Iterator[Page]:  # noqa: F811
    p = Page(browser, report_file)
    p.wait_for_charts(len(report_charts(default_plan)))
    yield p
    p.close()


def test_every_chart_draws_without_errors_or_network(page: Page, default_plan: xr.Dataset) -> None:
    drawn = page.page.evaluate("() => document.querySelectorAll('.js-plotly-plot').length")
    assert drawn == len(report_charts(default_plan))
    assert page.errors == [] and page.requests == []


def test_binding_badges_sit_where_the_dataset_says(page: Page, default_plan: xr.Dataset) -> None:
    binds = binding(default_plan)
    cells = page.page.locator("table.compliance td[data-year]")
    n_binding = 0
    for i in range(cells.count()):
        cell = cells.nth(i)
        limit, year = str(cell.get_attribute("data-limit")), int(str(cell.get_attribute("data-year")))
        expected = bool(binds.sel(limit=limit, year=year))
        n_binding += expected
        assert (cell.locator(".badge.binding").count() == 1) is expected, (limit, year)
    assert n_binding >= 1, "the default binds its green-share floor from 2027 (README): a badge must show it"


def _number(text: str) -> float:
    return float(text.replace(",", "").strip() or "nan")


def test_cash_table_adds_up_to_the_datasets_capital(page: Page, default_plan: xr.Dataset) -> None:
    heading = page.page.locator("h3", has_text="Capital spent by asset class and year").inner_text()
    unit = re.search(r"\[(.+)\]", heading)
    assert unit is not None and unit.group(1) in UNITS, heading
    scale = UNITS[unit.group(1)]
    rows = page.page.locator("table.cash tbody tr")
    table = {}
    for i in range(rows.count()):
        cells = rows.nth(i).locator("td")
        table[cells.nth(0).inner_text().strip()] = [_number(cells.nth(j).inner_text()) for j in range(1, cells.count())]
    total = next(v for k, v in table.items() if k.lower().startswith("capital spent") or k.lower() == "total")
    assets = [v for k, v in table.items() if not (k.lower().startswith(("capital spent", "total", "cash")))]
    years = default_plan.sizes["year"]
    half_step = 0.5 * 10 ** -_decimals(page) * scale  # one rounding of the shown figures
    capital = default_plan["capital_spent_cny"]
    np.testing.assert_allclose(np.array(total[:years]) * scale, capital.sum("asset").values, atol=half_step)
    assert total[-1] * scale == pytest.approx(float(capital.sum()), abs=half_step)
    shown_sum = np.sum(assets, axis=0)  # rows add up to the total row, within the rounding of each cell
    assert np.all(np.abs(shown_sum - np.array(total)) * scale <= half_step * (len(assets) + 1))


def _decimals(page: Page) -> int:
    first = page.page.locator("table.cash tbody tr").first.locator("td").nth(1).inner_text()
    return len(first.split(".")[1]) if "." in first else 0


def test_subplot_titles_do_not_overlap_at_800px(browser: Any, report_file: Path, default_plan: xr.Dataset) -> None:  # noqa: F811
    narrow = Page(browser, report_file, width=800)
    try:
        narrow.wait_for_charts(len(report_charts(default_plan)))
        assert_subplot_titles_apart(narrow)
    finally:
        narrow.close()
