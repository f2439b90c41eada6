"""The report's site view: what each site (start area) holds, against its own limits, worked out by hand
on the tiny scenario (tests/tiny.py), and drawn in a real browser.

Two sites ``a`` and ``b``, each with land for one hall of 10 kW IT: the 2,000 tokens/s of demand need two
1,000 tokens/s servers of 10 kW, so each site holds one, both years (1-year lives: rebuilt each year). Per
site and year, by hand:

* compute 1 PFLOPS = 0.001 EFLOPS; 1 server; halls 1 of 1; grid blocks 1 of 1 (10 MVA at pf 1, N-0: 10 MW
  firm); cooling plant 1 unit (1 MW units); no gensets (critical fraction 0), no PV, no battery;
* IT 10 kW all year: 8,760 h x 0.010 MW = 87.6 MWh = 0.0876 GWh; cooling 0.1 kW per kW of IT, no aux
  losses: facility 0.011 MW, 0.09636 GWh, PUE 1.1; peak import 0.011 MW (grid only, no PPA).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
from test_report_browser import Page, browser  # noqa: F401  (the module's chromium fixture)
from tiny import tiny, write_profile

from planner.pipeline import plan_scenario
from planner.report.figures.sites import site_schematic_figure
from planner.report.html import render_report, report_charts, write_report
from planner.report.sites import has_site_view, hub_rows, site_rows, site_table
from planner.report.terminal import print_plan

TWO_SITES = {
    "years": [2026, 2027],
    "sites": {name: {"max_halls": 1, "grid": {"max_blocks": 1}, "pv_max_mw": 0} for name in ("a", "b")},
    "facility.hall.it_mw": 0.01,
}


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_profile(tmp_path_factory.mktemp("report_sites") / "profile.csv")


def _plan(profile: Path, changes: dict[str, Any]) -> xr.Dataset:
    run = plan_scenario(tiny(profile, changes))
    assert run.outcome.status == "optimal", run.outcome.diagnosis
    assert run.dataset is not None
    return run.dataset


@pytest.fixture(scope="module")
def two_sites(profile: Path) -> xr.Dataset:
    return _plan(profile, TWO_SITES)


def test_each_sites_figures_are_the_hand_worked_ones(two_sites: xr.Dataset) -> None:
    rows = site_rows(two_sites)
    assert [r.site for r in rows] == ["a", "b"]
    for r in rows:
        assert r.servers.tolist() == [1, 1]
        np.testing.assert_allclose(r.eflops, 0.001)
        assert r.halls.tolist() == [1, 1] and r.max_halls == 1
        assert r.grid_blocks.tolist() == [1, 1] and r.max_grid_blocks == 1
        np.testing.assert_allclose(r.firm_mw, 10.0)
        np.testing.assert_allclose(r.peak_import_mw, 0.011, rtol=1e-6)
        np.testing.assert_allclose(r.it_gwh, 0.0876, rtol=1e-6)
        np.testing.assert_allclose(r.facility_gwh, 0.09636, rtol=1e-6)
        np.testing.assert_allclose(r.pue, 1.1, rtol=1e-6)
        assert r.plant_units.tolist() == [1, 1] and r.gensets.tolist() == [0, 0]
        assert r.pv_mw.tolist() == [0, 0] and r.battery_mwh.tolist() == [0, 0]
    table = site_table(rows)
    assert table is not None
    assert [row["cells"][2] for row in table["rows"]] == ["1 / 1", "1 / 1"]  # halls / land
    assert [row["cells"][6] for row in table["rows"]] == ["1.100", "1.100"]  # PUE


def test_the_site_view_is_on_the_page_of_a_multi_site_plan_only(profile: Path, two_sites: xr.Dataset) -> None:
    html = render_report(two_sites)
    assert 'id="sites"' in html and 'href="#sites"' in html
    assert {"site_schematic", "site_build"} <= set(report_charts(two_sites))
    one = _plan(profile, {"years": [2026, 2027]})
    assert not has_site_view(one) and has_site_view(two_sites)
    assert 'id="sites"' not in render_report(one)
    assert not {"site_schematic", "site_build"} & set(report_charts(one))


@pytest.fixture(scope="module")
def sites_page(browser: Any, two_sites: xr.Dataset, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:  # noqa: F811
    path = write_report(two_sites, tmp_path_factory.mktemp("report_sites_page") / "two_sites.html")
    page = Page(browser, path)
    page.wait_for_charts(len(report_charts(two_sites)))
    yield page
    page.close()


def test_site_charts_draw_and_the_year_buttons_switch_the_schematic(sites_page: Page) -> None:
    page = sites_page.page
    assert page.locator("#sites table.sites tbody tr").count() == 2
    texts = "id => document.getElementById(id).data.map(t => t.text)"
    before = page.evaluate(texts, "chart-site-schematic")
    assert any(isinstance(t, list) and any("<b>a</b>" in s for s in t) for t in before)
    page.locator("#chart-site-schematic .updatemenu-button").first.click()  # 2026
    page.wait_for_timeout(200)
    active = page.evaluate("id => document.getElementById(id).layout.updatemenus[0].active", "chart-site-schematic")
    assert active == 0
    after = page.evaluate(texts, "chart-site-schematic")
    assert after[-1] == before[-1] and "cluster demand" in after[-1][0]  # the centre keeps its label
    assert after[-2] == before[-2]  # the two years of this plan are the same
    assert sites_page.errors == [] and sites_page.requests == []


#: The two full sites and training of 2 PFLOPS for each year (MFU 1), which only hub ``g`` can take: it
#: leases ``gpu`` compute for training at 50 CNY/PFLOPS·h, so 2 PFLOPS are leased both years; hub ``q``
#: would buy compute at 1 CNY/PFLOPS·h, below the running cost, so nothing is sold to it.
WITH_HUBS = {
    **TWO_SITES,
    "demand.training.flop": 2 * 1e15 * 3600 * 8760,
    "network.hubs": {
        "g": {
            "lease": {
                "price_cny_per_pflops_hour": 50,
                "max_pflops": 10,
                "accelerator": "gpu",
                "workloads": ["training"],
            }
        },
        "q": {"sell": {"price_cny_per_pflops_hour": 1, "max_pflops": 10}},
    },
}


@pytest.fixture(scope="module")
def with_hubs(profile: Path) -> xr.Dataset:
    return _plan(profile, WITH_HUBS)


def test_the_schematic_shows_the_hubs_and_what_flows_to_each(with_hubs: xr.Dataset, two_sites: xr.Dataset) -> None:
    hubs = hub_rows(with_hubs)
    assert [h.hub for h in hubs] == ["g", "q"]
    np.testing.assert_allclose(hubs[0].leased_pflops, 2, rtol=1e-9)
    assert hubs[0].sold_pflops.tolist() == [0, 0] and hubs[1].leased_pflops.tolist() == [0, 0]
    assert hubs[1].sold_pflops.tolist() == [0, 0]
    years = [2026, 2027]
    fig = site_schematic_figure(site_rows(with_hubs), years, hubs)
    # traces: 2 site lines, the site discs, the centre, 2 hub lines, the hub squares
    assert len(fig.data) == 2 + 1 + 1 + 2 + 1
    marks = fig.data[-1]
    assert list(marks.text) == ["<b>g</b> (hub)<br>leased 2 PFLOPS", "<b>q</b> (hub)<br>no lease or sale"]
    # g's line is as wide as the widest: 2 PFLOPS leased against 2 PFLOPS of the cluster's own; q has none
    assert fig.data[4].line.width == 14 and fig.data[5].line.width == 0
    # every year button restyles every trace (one entry per trace in each list)
    for button in fig.layout.updatemenus[0].buttons:
        assert all(len(v) == len(fig.data) for v in button.args[0].values())
    # a plan without hubs draws none
    assert hub_rows(two_sites) == []
    assert len(site_schematic_figure(site_rows(two_sites), years, hub_rows(two_sites)).data) == 4


def test_the_hubs_year_buttons_keep_their_labels_in_a_browser(
    browser: Any,  # noqa: F811
    with_hubs: xr.Dataset,
    tmp_path: Path,
) -> None:
    path = write_report(with_hubs, tmp_path / "with_hubs.html")
    page = Page(browser, path)
    try:
        page.wait_for_charts(len(report_charts(with_hubs)))
        texts = "id => document.getElementById(id).data.map(t => t.text)"
        before = page.page.evaluate(texts, "chart-site-schematic")
        page.page.locator("#chart-site-schematic .updatemenu-button").first.click()  # 2026
        page.page.wait_for_timeout(200)
        after = page.page.evaluate(texts, "chart-site-schematic")
        assert after[-1] == before[-1] and "leased 2 PFLOPS" in after[-1][0]
        assert page.errors == [] and page.requests == []
    finally:
        page.close()


def test_the_terminal_summary_lists_the_sites_of_a_multi_site_plan(profile: Path, two_sites: xr.Dataset) -> None:
    from rich.console import Console

    def printed(ds: xr.Dataset) -> str:
        console = Console(width=200, record=True)
        print_plan(ds, console)
        return console.export_text()

    text = printed(two_sites)
    assert "Sites in 2027" in text
    lines = [line for line in text.splitlines() if line.startswith("│ a ") or line.startswith("│ b ")]
    assert len(lines) == 2 and all("1 / 1" in line and "1.100" in line for line in lines)
    assert "Sites in" not in printed(_plan(profile, {"years": [2026, 2027]}))
