"""The comparison page in a real browser (headless Chromium): the input-difference table is there, the energy table
too, the dispatch difference switches day with its drop-down, no console errors.

Uses the browser and page helpers of ``test_report_browser.py``; skipped like those where no
Chromium is installed (and required in CI).
"""

from __future__ import annotations

from typing import Any

from test_compare import OVERRIDES, _workdir, plan_a, plan_b
from test_report_browser import Page, _switch_and_check, browser  # noqa: F401 - ``browser`` is a pytest fixture

from planner.report.compare import compare_charts, compare_labels
from planner.report.figures import day_labels
from planner.report.html import write_compare


def test_compare_page_shows_the_input_differences_without_errors(browser: Any) -> None:  # noqa: F811
    a, b = plan_a(), plan_b()
    path = write_compare(a, b, _workdir() / "compare_variant.html", ("two_day.nc", "variant.nc"))
    page = Page(browser, path)
    try:
        page.wait_for_charts(len(compare_charts(a, b, compare_labels(a, b, None))))
        table = page.page.locator("#inputs table.differences")
        assert table.is_visible()
        rows = table.locator("tbody tr")
        assert rows.count() == len(OVERRIDES)
        text = table.inner_text()
        assert "policy.pue_max" in text and "1.25" in text and "accelerators.gpu.capex_cny" in text
        assert "--set policy.pue_max=1.25" in page.page.locator("header .variant").inner_text()
        energy = page.page.locator("#operation table.energy-deltas")
        assert energy.is_visible() and "facility energy" in energy.inner_text()
        _switch_and_check(page, "chart-dispatch-diff", day_labels(a))  # the plans have the same days
        assert page.errors == [] and page.requests == [] and page.dialogs == []
    finally:
        page.close()
