"""The cash view of a plan (issue 17): capital spent by asset class and year, and the cash flow.

``cost`` charges each build ``(CRF + fom) * capex`` in every year of service inside the horizon;
the cash view pays ``capex`` once, in the year of purchase (``capital_spent_cny``), and
``fom * capex`` in each year of service (``fixed_om_new_cny``); ``cash_flow_cny`` adds every other
cost component. Instances start from ``tests/tiny.py`` (discount rate 0; recap in
``test_accounting.py``): 1,000 tokens/s per server at 1,000,000 CNY, 2 servers per 100,000 CNY rack,
halls of 1 MW for 10,000,000 CNY, plant units of 1 MW for 1,000,000 CNY, grid blocks of 10 MW for
1,000,000 CNY, energy 500 CNY/MWh; one server draws 0.011 MW with its cooling, 96.36 MWh or
48,180 CNY of energy a year.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner
from rich.console import Console
from test_model_tiny import solve_tiny
from tiny import write_profile

from planner.cli import cli
from planner.report.cash import cash_rows, has_cash
from planner.report.html import render_report, report_charts
from planner.report.terminal import print_plan
from planner.results.io import write_dataset
from planner.scenario import Scenario
from planner.studies.sweep.stack import stack_plans

ASSETS = ["servers", "racks", "halls", "cooling_plant", "grid", "pv", "battery", "generators"]
CASH_VARIABLES = ["capital_spent_cny", "fixed_om_new_cny", "cash_flow_cny"]
#: Every asset of the tiny instance lives two years (with a two-year horizon: exactly the horizon).
TWO_YEAR_LIVES = {
    "years": [2026, 2027],
    "accelerators.gpu.lifetime_years": 2,
    "cooling.air.lifetime_years": 2,
    "cooling.air.plant.lifetime_years": 2,
    "facility.hall.lifetime_years": 2,
    "power.grid.lifetime_years": 2,
    "power.pv.lifetime_years": 2,
    "power.battery.lifetime_years": 2,
    "power.generators.lifetime_years": 2,
}


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The flat tiny profile (15 °C, PV 0, inference shape 1)."""
    return write_profile(tmp_path_factory.mktemp("cash") / "profile.csv")


@pytest.fixture(scope="module")
def sunny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny profile with PV output 1 per MWp from 08:00 to 15:59 every day, 0 otherwise."""
    pv = np.where((np.arange(24) >= 8) & (np.arange(24) < 16), 1.0, 0.0)
    return write_profile(tmp_path_factory.mktemp("cash-sunny") / "profile.csv", pv_cf=pv)


#: Two years, everything bought every year (1-year lives): servers, racks, halls, plant, grid, PV,
#: a battery (PV by day into part of the night) and a genset (critical fraction 1); prices differ by year.
EVERY_ASSET = {
    "years": [2026, 2027],
    "demand.inference.peak_tokens_per_s": {2026: 2000, 2027: 4000},
    "accelerators.gpu.capex_cny": {2026: 1_000_000, 2027: 800_000},
    "power.pv.capex_cny_per_kw": {2026: 100, 2027: 80},
    "power.pv.max_mw": 1.0,
    "power.battery.capex_cny_per_kwh": 10,
    "power.battery.capex_cny_per_kw": 10,
    "power.battery.max_mwh": 0.2,  # not enough for the night: the grid supplies the rest
    "power.battery.max_mw": 1.0,
    "power.generators.critical_fraction": 1.0,
}


@pytest.fixture(scope="module")
def every_asset(sunny: Path) -> tuple[Scenario, xr.Dataset]:
    run = solve_tiny(sunny, EVERY_ASSET)
    assert run.dataset is not None
    return run.scenario, run.dataset


def capital_annuities(ds: xr.Dataset) -> xr.DataArray:
    """The ``*_capital`` components of the annual cost, by year [CNY/year]."""
    capital = [str(c) for c in ds.component.values if str(c).endswith("_capital")]
    return ds.cost.sel(component=capital).sum("component")


# --------------------------------------------------------------------------- the Dataset


def test_capital_spent_by_asset_class_worked_out_by_hand(profile: Path) -> None:
    # Demand 2,000 tokens/s in 2026 and 4,000 in 2027; every asset lives 2 years; servers pay fixed
    # O&M of 10 % of capex a year. Buying in 2027 costs one year of annuity instead of two, so:
    # 2026: 2 servers, 1 rack, 1 hall, 1 plant unit, 1 grid block (0.022 MW fits each);
    # 2027: 2 more servers and 1 more rack (4 servers, 0.044 MW, still fit the rest).
    ds = solve_tiny(
        profile,
        {
            **TWO_YEAR_LIVES,
            "demand.inference.peak_tokens_per_s": {2026: 2000, 2027: 4000},
            "accelerators.gpu.fixed_om_fraction": 0.1,
        },
    ).dataset
    assert ds is not None
    assert [str(a) for a in ds.asset.values] == ASSETS
    spent = ds.capital_spent_cny.to_pandas()
    expected = {
        "servers": [2_000_000, 2_000_000],  # 2 x 1,000,000 each year
        "racks": [100_000, 100_000],
        "halls": [10_000_000, 0],
        "cooling_plant": [1_000_000, 0],
        "grid": [1_000_000, 0],
        "pv": [0, 0],
        "battery": [0, 0],
        "generators": [0, 0],
    }
    for asset, values in expected.items():
        np.testing.assert_allclose(spent.loc[asset].values, values, atol=1e-3, err_msg=asset)
    # fixed O&M of the new servers in service: 10 % of 2 x 1,000,000 in 2026, of 4 x 1,000,000 in 2027
    np.testing.assert_allclose(ds.fixed_om_new_cny.sel(asset="servers").values, [200_000, 400_000], atol=1e-3)
    assert float(ds.fixed_om_new_cny.drop_sel(asset="servers").sum()) == pytest.approx(0.0, abs=1e-3)
    # cash: capital spent + O&M + energy (2 servers: 96,360 CNY; 4 servers: 192,720 CNY)
    np.testing.assert_allclose(
        ds.cash_flow_cny.values, [14_100_000 + 200_000 + 96_360, 2_100_000 + 400_000 + 192_720], rtol=1e-9
    )
    # the annuities spread the same builds: CRF 1/2 + fom 0.1 on servers, CRF 1/2 on the rest
    np.testing.assert_allclose(
        ds.cost.sum("component").values,
        [0.6 * 2_000_000 + 0.5 * 12_100_000 + 96_360, 0.6 * 4_000_000 + 0.5 * 12_200_000 + 192_720],
        rtol=1e-9,
    )
    for name in CASH_VARIABLES:
        assert ds[name].attrs["units"] == "CNY" and ds[name].attrs["long_name"]


def test_capital_spent_is_units_bought_times_the_scenarios_price(every_asset: tuple[Scenario, xr.Dataset]) -> None:
    s, ds = every_asset
    p = s.power
    spent = ds.capital_spent_cny
    total = 0.0
    for y in (2026, 2027):
        at = {"year": y}
        # with 1-year lives and no existing fleet, what is in service was bought that year
        by_asset = {
            "servers": float(ds.servers_new.sel(at).sum()) * s.accelerators["gpu"].capex_cny.at(y),
            "racks": float(ds.racks_new.sel(at).sum()) * s.cooling["air"].capex_cny_per_rack.at(y),
            "halls": float(ds.halls_new.sel(at).sum()) * s.facility.hall.capex_cny.at(y),
            "cooling_plant": float(ds.cooling_units_new.sel(at).sum())
            * s.cooling["air"].plant.capex_cny_per_unit.at(y),
            "grid": float(ds.grid_blocks_new.sel(at).sum()) * p.grid.capex_cny_per_block.at(y),
            "pv": float(ds.pv_mw.sel(at).sum()) * 1000 * p.pv.capex_cny_per_kw.at(y),
            "battery": 1000
            * (
                float(ds.battery_mwh.sel(at).sum()) * p.battery.capex_cny_per_kwh.at(y)
                + float(ds.battery_mw.sel(at).sum()) * p.battery.capex_cny_per_kw.at(y)
            ),
            "generators": float(ds.generators_new.sel(at).sum()) * p.generators.capex_cny_per_unit.at(y),
        }
        for asset, value in by_asset.items():
            assert float(spent.sel(asset=asset, year=y)) == pytest.approx(value, rel=1e-6, abs=1e-3), (asset, y)
        total += sum(by_asset.values())
    assert float(spent.sum()) == pytest.approx(total, rel=1e-9)
    # every class is bought: 2 then 4 servers at 1,000,000 then 800,000 CNY, PV, a battery, a genset
    assert float(spent.sel(asset="servers").sum()) == pytest.approx(2 * 1_000_000 + 4 * 800_000, rel=1e-9)
    assert (spent.sum("year") > 0).all(), spent.sum("year").to_pandas()
    # 1-year lives, discount rate 0, no fixed O&M: the annuity of each class is what it spends that year
    for asset in ASSETS:
        np.testing.assert_allclose(
            spent.sel(asset=asset).values, ds.cost.sel(component=f"{asset}_capital").values, rtol=1e-9, atol=1e-3
        )
    np.testing.assert_allclose(ds.cash_flow_cny.values, ds.cost.sum("component").values, rtol=1e-9)


def test_over_lives_of_exactly_the_horizon_cash_and_annuities_spend_the_same(profile: Path) -> None:
    # Constant demand, every asset lives the two-year horizon, discount rate 0, no fixed O&M:
    # everything (14,100,000 CNY) is bought in 2026 and charged half in each year (CRF(0, 2) = 1/2).
    ds = solve_tiny(profile, TWO_YEAR_LIVES).dataset
    assert ds is not None
    spent = ds.capital_spent_cny.sum("asset")
    np.testing.assert_allclose(spent.values, [14_100_000, 0], atol=1e-3)
    np.testing.assert_allclose(capital_annuities(ds).values, [7_050_000, 7_050_000], rtol=1e-9)
    assert float(spent.sum()) == pytest.approx(float(capital_annuities(ds).sum()), rel=1e-9)
    assert float(ds.cash_flow_cny.sum()) == pytest.approx(float(ds.cost.sum()), rel=1e-9)
    np.testing.assert_allclose(ds.cash_flow_cny.values, [14_100_000 + 96_360, 96_360], rtol=1e-9)
    assert float(np.abs(ds.fixed_om_new_cny).sum()) == pytest.approx(0.0, abs=1e-6)


def test_builds_living_past_the_horizon_are_paid_in_full(profile: Path) -> None:
    # One year, 2-year lives: the annuity charges half of 14,100,000 CNY, the cash view all of it.
    ds = solve_tiny(profile, {k: v for k, v in TWO_YEAR_LIVES.items() if k != "years"}).dataset
    assert ds is not None
    assert float(ds.capital_spent_cny.sum()) == pytest.approx(14_100_000, rel=1e-9)
    assert float(capital_annuities(ds).sum()) == pytest.approx(7_050_000, rel=1e-9)
    assert float(ds.cash_flow_cny.sum()) == pytest.approx(14_100_000 + 96_360, rel=1e-9)


def test_the_existing_fleet_is_sunk_and_pays_its_fixed_om(profile: Path) -> None:
    # 2 servers, 1 rack, hall, plant unit and grid block built in 2025 serve the 2,000 tokens/s of 2026:
    # nothing is bought; the servers' fixed O&M (10 % of 2 x 1,000,000 CNY) and the energy are the cash.
    changes: dict[str, Any] = {
        **{k: v for k, v in TWO_YEAR_LIVES.items() if k != "years"},
        "accelerators.gpu.fixed_om_fraction": 0.1,
        "existing.servers": [{"accelerator": "gpu", "cooling": "air", "count": 2, "year_built": 2025}],
        "existing.racks": [{"cooling": "air", "count": 1, "year_built": 2025}],
        "existing.halls": [{"count": 1, "year_built": 2025}],
        "existing.cooling_units": [{"cooling": "air", "count": 1, "year_built": 2025}],
        "existing.grid_blocks": [{"count": 1, "year_built": 2025}],
    }
    ds = solve_tiny(profile, changes).dataset
    assert ds is not None
    assert float(np.abs(ds.capital_spent_cny).sum()) == pytest.approx(0.0, abs=1e-6)
    assert float(np.abs(ds.fixed_om_new_cny).sum()) == pytest.approx(0.0, abs=1e-6)
    assert float(ds.cost.sel(component="fixed_om_existing_servers").sum()) == pytest.approx(200_000, rel=1e-9)
    assert float(ds.cash_flow_cny.sum()) == pytest.approx(200_000 + 96_360, rel=1e-9)


def test_plans_with_the_asset_dim_stack_like_a_sweep(every_asset: tuple[Scenario, xr.Dataset]) -> None:
    _, ds = every_asset
    stacked = stack_plans([(0, ds), (2, ds)], 3)
    assert stacked.capital_spent_cny.dims == ("_case", "asset", "year")
    xr.testing.assert_equal(stacked.capital_spent_cny.isel(_case=2), ds.capital_spent_cny)
    assert np.isnan(stacked.capital_spent_cny.isel(_case=1).values).all()


# --------------------------------------------------------------------------- the report


def test_cash_table_totals_are_the_datasets(every_asset: tuple[Scenario, xr.Dataset]) -> None:
    _, ds = every_asset
    rows = cash_rows(ds)
    assets, (total,), (cash,) = (
        [r for r in rows if r.kind == "asset"],
        [r for r in rows if r.kind == "total"],
        [r for r in rows if r.kind == "cash"],
    )
    assert len(assets) == len(ASSETS)  # every class spends in this plan
    assert total.total == pytest.approx(float(ds.capital_spent_cny.sum()), rel=1e-12)
    np.testing.assert_allclose(total.values, ds.capital_spent_cny.sum("asset").values, rtol=1e-12)
    np.testing.assert_allclose([r.total for r in assets], ds.capital_spent_cny.sum("year").values, rtol=1e-12)
    assert sum(r.total for r in assets) == pytest.approx(total.total, rel=1e-12)
    np.testing.assert_allclose(np.sum([r.values for r in assets], axis=0), total.values, rtol=1e-12)
    np.testing.assert_allclose(cash.values, ds.cash_flow_cny.values, rtol=1e-12)
    html = render_report(ds)
    assert "Capital spent by asset class and year" in html and 'id="chart-cash"' in html
    assert "cash" in report_charts(ds)


def test_a_plan_written_before_the_cash_view_still_reports(
    every_asset: tuple[Scenario, xr.Dataset], tmp_path: Path
) -> None:
    _, ds = every_asset
    old = ds.drop_vars([*CASH_VARIABLES, "asset"])
    assert not has_cash(old) and cash_rows(old) == []
    assert "cash" not in report_charts(old)
    path = write_dataset(old, tmp_path / "old.nc")
    result = CliRunner().invoke(cli, ["report", str(path), "-o", str(tmp_path / "old.html")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    html = (tmp_path / "old.html").read_text(encoding="utf-8")
    assert "Capital spent by asset class" not in html and 'id="chart-cost"' in html


def test_terminal_summary_shows_capital_spent_per_year(every_asset: tuple[Scenario, xr.Dataset]) -> None:
    _, ds = every_asset
    console = Console(record=True, width=200)
    print_plan(ds, console)
    line = next(t for t in console.export_text().splitlines() if "capital spent [bn CNY]" in t)
    for y in (2026, 2027):
        assert f"{float(ds.capital_spent_cny.sel(year=y).sum()) / 1e9:,.3f}" in line
    console = Console(record=True, width=200)
    print_plan(ds.drop_vars([*CASH_VARIABLES, "asset"]), console)  # an older plan: no such line, no crash
    assert "capital spent" not in console.export_text()
