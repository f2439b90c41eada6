"""The hedge page (``plan hedge``) in a real browser: the tiny two-future study of tests/test_futures.py,
with a hostile future description, opened from disk in chromium (skipped as the other browser tests are)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_futures import LOW_HIGH, _data
from test_report import HOSTILE_NAME
from test_report_browser import Page, browser  # noqa: F401 - the browser fixture
from test_sweep import write_yaml
from tiny import write_profile

from planner.cli import cli
from planner.results.io import read_dataset


@pytest.fixture(scope="module")
def hedge_page(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Page, Path]]:  # noqa: F811
    folder = tmp_path_factory.mktemp("hedge_browser")
    write_yaml(folder / "base.yaml", _data(write_profile(folder / "profile.csv")))
    futures = [{**LOW_HIGH[0], "description": HOSTILE_NAME}, LOW_HIGH[1]]
    write_yaml(folder / "study.yaml", {"name": "study", "base": "base.yaml", "commit_until": 2026, "futures": futures})
    out = folder / "results" / "study.nc"
    result = CliRunner().invoke(
        cli, ["hedge", str(folder / "study.yaml"), "--workers", "1", "-o", str(out), "--no-report"]
    )
    assert result.exit_code == 0, result.output
    assert "decided now" in result.output and "hedged plan" in result.output
    html = folder / "page.html"
    result = CliRunner().invoke(cli, ["report", str(out), "-o", str(html)])
    assert result.exit_code == 0, result.output
    page = Page(browser, html)
    page.wait_for_charts(3)
    yield page, out
    page.close()


def test_hedge_page_draws_every_chart_without_errors_or_network(hedge_page: tuple[Page, Path]) -> None:
    page, _ = hedge_page
    assert page.page.locator(".js-plotly-plot").count() == 3
    assert page.errors == [] and page.requests == []
    page.page.wait_for_timeout(200)
    assert page.dialogs == []
    assert HOSTILE_NAME in page.page.locator("table.futures").inner_text()  # shown as text, not run


def test_hedge_page_regret_heatmap_shows_the_regret_table(hedge_page: tuple[Page, Path]) -> None:
    page, out = hedge_page
    ds = read_dataset(out)
    z = page.page.evaluate("() => document.getElementById('chart-regret').data[0].z")
    expected = ds["regret_cny"].values / 1e6  # M CNY on this instance
    assert [[round(v, 3) for v in row] for row in z] == [[round(float(v), 3) for v in row] for row in expected]
    commit = page.page.locator("table.commit").inner_text()
    assert "servers (" in commit and "2026" in commit
    # the hedge (2 servers now) differs from both futures' own plans (1 and 3): highlighted
    assert page.page.locator("table.commit td.differs").count() >= 2


def test_hedge_page_links_each_futures_plan_report(hedge_page: tuple[Page, Path], browser: Any) -> None:  # noqa: F811
    page, _ = hedge_page
    links = page.page.locator("section#recourse a")
    assert links.count() == 2
    href = links.first.get_attribute("href")
    assert href is not None
    target = Path(page.page.url.removeprefix("file://")).parent / href
    assert target.is_file()
    child = Page(browser, target)
    child.wait_for_charts(5)
    assert child.errors == [] and child.requests == []
    child.close()
