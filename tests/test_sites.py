"""Sites (start areas): a scenario without ``sites`` is one site; several sites keep their own grid,
plant and gensets. Tiny instances from ``tests/tiny.py`` with optima worked out by hand.

Recap of the tiny numbers used below (discount rate 0; 1-year lives unless a test says otherwise):

* server ``gpu``: 1,000 tokens/s, 10 kW (full = idle), 1 U, 1,000,000 CNY;
* air racks: 2 servers per rack (20 kW), 100,000 CNY; kappa 0.1 below 50 °C (the profile is 15 °C);
* plant units of 1 MW for 1,000,000 CNY; halls of 1 MW and 100 slots for 10,000,000 CNY;
* grid blocks of ``block_mva`` x pf 1 for 1,000,000 CNY; gensets 100,000 CNY;
* energy 0.5 CNY/kWh: 1 MW for a year costs 8,760 h x 500 CNY/MWh = 4,380,000 CNY.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner
from conftest import REPO_ROOT, load_default_yaml_data, write_scenario
from tiny import tiny, write_profile

from planner import pipeline
from planner.cli import cli
from planner.model import ModelData, build_model
from planner.pipeline import ModelCache, plan_scenario
from planner.results.sites import cluster_view
from planner.scenario import ScenarioError, load_scenario, scenario_from_dict
from planner.solver import solve as solve_module
from planner.solver.coarse import CoarsePlan
from planner.solver.dive import DiveResult, Relaxation
from planner.solver.highs import SolveOptions, compile_model
from planner.solver.solve import solve as solve_model
from planner.time.prepare import prepare_time

OPTIONS = SolveOptions(time_limit_s=60, mip_gap=1e-9)
YEAR_OF_ENERGY = 8760 * 500  #: CNY for 1 MW over a year at 0.5 CNY/kWh


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The flat tiny profile with some sun (PV capacity factor 0.5 from 8 h to 16 h)."""
    pv = [0.5 if 8 <= h < 16 else 0.0 for h in range(24)]
    return write_profile(tmp_path_factory.mktemp("sites") / "profile.csv", pv_cf=pv)


def solve(profile: Path, changes: dict[str, Any]) -> xr.Dataset:
    run = plan_scenario(tiny(profile, changes), OPTIONS)
    assert run.outcome.status == "optimal", run.outcome.diagnosis
    assert run.dataset is not None
    return run.dataset


def site(max_halls: int, max_blocks: int, **over: Any) -> dict[str, Any]:
    """A site entry with the given land and grid (no PV unless given)."""
    return {"max_halls": max_halls, "grid": {"max_blocks": max_blocks}, "pv_max_mw": 0, **over}


# ---------------------------------------------------------------------------------------------- one site


#: A two-year tiny case with everything that is per site in use: N+1 plant, N+1 gensets, N-1 grid,
#: PV, a battery, a TOU tariff, halls that live both years, hall and block limits that bind.
RICH = {
    "years": [2026, 2027],
    "demand.inference.peak_tokens_per_s": {2026: 150_000, 2027: 250_000},
    "facility.hall.lifetime_years": 5,
    "facility.max_halls": 3,
    "facility.max_new_halls_per_year": 2,
    "cooling.air.plant.redundancy": 1,
    "power.grid.redundancy": 1,
    "power.grid.max_blocks": 4,
    "power.grid.block_mva": 1.5,
    "power.grid.tariff.seasons": [{"name": "all", "months": list(range(1, 13)), "peak": ["16-20"], "valley": ["0-8"]}],
    "power.generators.critical_fraction": 1.0,
    "power.generators.redundancy": 1,
    "power.pv.max_mw": 0.5,
    "power.pv.capex_cny_per_kw": 100,
    "power.battery.max_mwh": 1.0,
    "power.battery.max_mw": 1.0,
}


def test_one_explicit_site_gives_the_plan_without_sites(profile: Path) -> None:
    # The same scenario written with one explicit site carrying the cluster's own limits builds the
    # same model (rows, columns, integers) and gives the same plan and NPV.
    implicit = tiny(profile, RICH)
    explicit = tiny(
        profile,
        {
            **RICH,
            "sites": {
                "campus": site(3, 4, max_new_halls_per_year=2, pv_max_mw=0.5),
            },
        },
    )
    m1, m2 = build_model(implicit), build_model(explicit)
    for kind in (pyo_constraint(), pyo_var()):
        assert m1.nobjectives() == m2.nobjectives()
        assert sum(1 for _ in m1.component_data_objects(kind, active=True)) == sum(
            1 for _ in m2.component_data_objects(kind, active=True)
        )
    a = plan_scenario(implicit, OPTIONS).dataset
    b = plan_scenario(explicit, OPTIONS).dataset
    assert a is not None and b is not None
    assert a.site.values.tolist() == ["main"] and b.site.values.tolist() == ["campus"]
    assert float(b.npv_cny) == pytest.approx(float(a.npv_cny), rel=1e-9)
    b = b.assign_coords(site=a.site.values)
    for name in a.data_vars:
        if a[name].dtype.kind in "fiub":
            np.testing.assert_allclose(b[name].values, a[name].values, rtol=1e-7, atol=1e-7, err_msg=name)
        else:
            assert (b[name].values == a[name].values).all(), name
    # the plan uses what makes the case rich
    assert float(a.halls.sum("site").isel(year=-1)) == 3
    assert float(a.pv_mw.sum()) > 0 and float(a.battery_mwh.sum()) > 0


def test_the_default_with_one_explicit_site_compiles_to_the_same_matrices() -> None:
    # inputs/2030.yaml (on 2 representative days, to build fast) without sites, and with one site
    # carrying its facility.max_halls, max_new_halls_per_year, grid.max_blocks and pv.max_mw: the
    # matrices handed to HiGHS are identical, entry for entry, and so are the column names but for
    # the site's name.
    data = load_default_yaml_data()
    data["time"]["representative_days"] = 2
    data["time"]["extreme_days"] = {}
    implicit = compile_model(build_model(scenario_from_dict(data)))
    data["sites"] = {
        "tianfu": {
            "max_halls": data["facility"]["max_halls"],
            "max_new_halls_per_year": data["facility"]["max_new_halls_per_year"],
            "grid": {"max_blocks": data["power"]["grid"]["max_blocks"]},
            "pv_max_mw": data["power"]["pv"]["max_mw"],
        }
    }
    explicit = compile_model(build_model(scenario_from_dict(data)))
    assert implicit.shape == explicit.shape
    assert (implicit.A != explicit.A).nnz == 0
    for name in ("cost", "col_lower", "col_upper", "row_lower", "row_upper", "integer"):
        np.testing.assert_array_equal(getattr(implicit, name), getattr(explicit, name), err_msg=name)
    assert implicit.offset == explicit.offset
    names = [v.name.replace("tianfu", "main") for v in explicit.columns]
    assert names == [v.name for v in implicit.columns]


def pyo_constraint() -> Any:
    import pyomo.environ as pyo

    return pyo.Constraint


def pyo_var() -> Any:
    import pyomo.environ as pyo

    return pyo.Var


def test_results_carry_a_site_dim_and_the_cluster_view_adds_it_up(profile: Path) -> None:
    ds = solve(profile, {"demand.inference.peak_tokens_per_s": 100_000})
    for name in ("servers", "racks", "halls", "grid_blocks", "cooling_units", "generator_units", "pv_mw"):
        assert ds[name].dims[0] == "site", name
        assert ds[name].attrs["units"], name
    for name in ("it_power_mw", "facility_power_mw", "grid_import_mw", "training_servers", "ppa_mw_used"):
        assert ds[name].dims[0] == "site", name
    total = cluster_view(ds)
    assert "site" not in total.dims
    assert total["servers"].dims == ("accelerator", "cooling", "year")
    assert total["servers"].attrs == ds["servers"].attrs
    assert float(total["servers"].sum()) == float(ds["servers"].sum()) == 100


# ---------------------------------------------------------------------------------------------- two sites


#: Site ``a`` has 100 servers running (1 MW IT, 1.1 MW facility) in its one hall, on its one grid block
#: of 1.1 MW: its connection is full. Air cooling is free below 20 °C and fully mechanical above 30 °C:
#: kappa is 0.1 at a (15 °C) and 0.1 + 1 / 5 = 0.3 at b, 15 K warmer (30 °C: all mechanical, COP
#: 5 - 0.1 x (30 - 30) = 5).
#: Demand is 200 servers. Everything lives 5 years (annuity = capex / 5 at r = 0); the existing
#: units are sunk (no O&M).
TWO_SITES = {
    "demand.inference.peak_tokens_per_s": 200_000,
    "accelerators.gpu.lifetime_years": 5,
    "cooling.air.lifetime_years": 5,
    "cooling.air.plant.lifetime_years": 5,
    "facility.hall.lifetime_years": 5,
    "power.grid.lifetime_years": 5,
    "power.grid.block_mva": 1.1,
    "cooling.air.free_cooling_below_c": 20,
    "cooling.air.mechanical_above_c": 30,
    "sites": {
        "a": site(10, 1),
        "b": site(10, 10, climate={"dry_bulb_offset_k": 15}),
    },
    "existing": {
        "servers": [{"accelerator": "gpu", "cooling": "air", "count": 100, "year_built": 2025, "site": "a"}],
        "racks": [{"cooling": "air", "count": 50, "year_built": 2025, "site": "a"}],
        "halls": [{"count": 1, "year_built": 2025, "site": "a"}],
        "grid_blocks": [{"count": 1, "year_built": 2025, "site": "a"}],
        "cooling_units": [{"cooling": "air", "count": 1, "year_built": 2025, "site": "a"}],
    },
}


def test_growth_goes_to_the_site_with_spare_grid(profile: Path) -> None:
    # 100 new servers, 50 racks, 1 hall, plant units and blocks, annuity capex / 5:
    # Site a full (max_blocks 1): all of it at b. b draws 1 MW x 1.3 = 1.3 MW -> 2 blocks of 1.1 MW, 1 plant
    #   unit (1 MW heat); capex 100 + 5 + 10 + 1 + 2 = 118 M -> 23,600,000 a year; energy
    #   (1.1 at a + 1.3 at b) MW x 4,380,000 = 10,512,000. NPV 34,112,000.
    ds = solve(profile, TWO_SITES)
    assert float(ds.npv_cny) == pytest.approx(23_600_000 + 2.4 * YEAR_OF_ENERGY, rel=1e-6)
    new = {name: ds[name].sum([d for d in ds[name].dims if d != "site"]) for name in ("servers_new", "halls_new")}
    assert new["servers_new"].sel(site="a") == 0 and new["servers_new"].sel(site="b") == 100
    assert new["halls_new"].sel(site="a") == 0 and new["halls_new"].sel(site="b") == 1
    assert ds.grid_blocks.sel(site="a").item() == 1 and ds.grid_blocks.sel(site="b").item() == 2
    assert ds.cooling_units.sel(site="b").sum().item() == 1
    np.testing.assert_allclose(ds.facility_power_mw.sel(site="b").values, 1.3, rtol=1e-9)
    np.testing.assert_allclose(ds.cooling_coefficient.sel(site="b").values, 0.3, rtol=1e-12)


def test_with_spare_grid_at_both_growth_goes_to_the_cooler_site(profile: Path) -> None:
    # Control: a may have 5 blocks. All growth at a (kappa 0.1): 1 new block (2.2 MW in 2 blocks),
    # 1 plant unit, 1 hall; capex 100 + 5 + 10 + 1 + 1 = 117 M -> 23,400,000; energy 2.2 x 4,380,000
    # = 9,636,000. NPV 33,036,000 (b would cost 0.2 MW x 4,380,000 more energy and one more block).
    changes = {**TWO_SITES, "sites": {**TWO_SITES["sites"], "a": site(10, 5)}}
    ds = solve(profile, changes)
    assert float(ds.npv_cny) == pytest.approx(23_400_000 + 2.2 * YEAR_OF_ENERGY, rel=1e-6)
    assert ds.servers_new.sel(site="b").sum().item() == 0
    assert ds.grid_blocks.sel(site="a").item() == 2 and ds.grid_blocks.sel(site="b").item() == 0


def test_no_new_block_before_the_first_year_a_site_can_energise_one(profile: Path) -> None:
    # Same control, but a's new blocks cannot be energised before 2027: growth goes to b as when a is full.
    changes = {**TWO_SITES, "sites": {**TWO_SITES["sites"], "a": site(10, 5)}}
    changes["sites"]["a"]["grid"]["first_new_block_year"] = 2027
    ds = solve(profile, changes)
    assert float(ds.npv_cny) == pytest.approx(23_600_000 + 2.4 * YEAR_OF_ENERGY, rel=1e-6)
    assert ds.grid_blocks_new.sel(site="a").sum().item() == 0


@pytest.mark.parametrize(("price", "at_b"), [(0.40, True), (0.42, False)])
def test_a_cheaper_tariff_at_the_warm_site_draws_the_growth_there(profile: Path, price: float, at_b: bool) -> None:
    # The control above (a cool with spare grid: 33,036,000), with b's own flat price. Growth at b:
    # capex 118 M -> 23,600,000; energy 1.1 MW at a x 4,380,000 = 4,818,000 and 1.3 MW at b x 8,760 h
    # x price. Break-even at price = (33,036,000 - 28,418,000) / (1.3 x 8,760,000) = 0.40553 CNY/kWh:
    # at 0.40 b costs 28,418,000 + 4,555,200 = 32,973,200; at 0.42 a stays cheaper (33,036,000).
    changes = {**TWO_SITES, "sites": {**TWO_SITES["sites"], "a": site(10, 5)}}
    changes["sites"]["b"] = {**changes["sites"]["b"], "grid": {"max_blocks": 10, "tariff": {"flat_cny_per_kwh": price}}}
    ds = solve(profile, changes)
    expected = 23_600_000 + 1.1 * YEAR_OF_ENERGY + 1.3 * 8760 * price * 1000 if at_b else 33_036_000
    assert float(ds.npv_cny) == pytest.approx(expected, rel=1e-6)
    assert (ds.servers_new.sel(site="b").sum().item() == 100) is at_b
    np.testing.assert_allclose(ds.grid_price_cny_per_mwh.sel(site="b").values, price * 1000, rtol=1e-12)
    np.testing.assert_allclose(ds.grid_price_cny_per_mwh.sel(site="a").values, 500, rtol=1e-12)


def test_a_sites_own_settlement_and_fixed_charge(profile: Path) -> None:
    # A TOU tariff (peak 16-20 h at 1.6, valley 0-8 h at 0.4, flat otherwise at 0.5 CNY/kWh, 0.1 of funds)
    # and a capacity charge of 10 CNY/kVA/month; b settles at 0.3 CNY/kWh every hour and pays 5.
    # Growth at b, as with a full (the first test): energy at a 1.1 MW x 8,760 h at the day's mean price
    # (8 h x (0.1 + 0.4 x 0.4) + 4 h x (0.1 + 0.4 x 1.6) + 12 h x 0.5) / 24 = 0.46 CNY/kWh -> 4,432,560;
    # at b 1.3 MW x 8,760 x 300 = 3,416,400; capacity a 1 block x 1,100 kVA x 10 x 12 = 132,000, b 2
    # blocks x 1,100 x 5 x 12 = 132,000. NPV 23,600,000 + 4,432,560 + 3,416,400 + 264,000 = 31,712,960.
    changes = {
        **TWO_SITES,
        "power.grid.tariff.seasons": [
            {"name": "all", "months": list(range(1, 13)), "peak": ["16-20"], "valley": ["0-8"]}
        ],
        "power.grid.tariff.non_floating_cny_per_kwh": 0.1,
        "power.grid.tariff.capacity_cny_per_kva_month": 10,
    }
    changes["sites"] = {
        **TWO_SITES["sites"],
        "b": {
            **TWO_SITES["sites"]["b"],
            "grid": {
                "max_blocks": 10,
                "tariff": {"flat_cny_per_kwh": 0.3, "time_of_use": False, "capacity_cny_per_kva_month": 5},
            },
        },
    }
    ds = solve(profile, changes)
    assert float(ds.npv_cny) == pytest.approx(31_712_960, rel=1e-6)
    price = ds.grid_price_cny_per_mwh.isel(year=0, day=0)
    np.testing.assert_allclose(price.sel(site="b").values, 300, rtol=1e-12)
    np.testing.assert_allclose(price.sel(site="a").values[[0, 12, 17]], [260, 500, 740], rtol=1e-12)
    # the cluster's price is the mean weighted by each site's import
    view = cluster_view(ds).grid_price_cny_per_mwh.isel(year=0, day=0, hour=17).item()
    imports = ds.grid_import_mw.isel(year=0, day=0, hour=17)
    assert view == pytest.approx(float((price.sel(hour=17) * imports).sum() / imports.sum()), rel=1e-12)


def test_a_site_tariff_sweep_reuses_the_built_model(profile: Path) -> None:
    changes = {**TWO_SITES, "sites": {**TWO_SITES["sites"], "a": site(10, 5)}}
    changes["sites"]["b"] = {**changes["sites"]["b"], "grid": {"max_blocks": 10, "tariff": {"flat_cny_per_kwh": 0.42}}}
    cache = ModelCache()
    first = plan_scenario(tiny(profile, changes), OPTIONS, cache=cache)
    assert first.dataset is not None and float(first.dataset.npv_cny) == pytest.approx(33_036_000, rel=1e-6)
    changes["sites"]["b"]["grid"]["tariff"] = {"flat_cny_per_kwh": 0.40}
    reused = plan_scenario(tiny(profile, changes), OPTIONS, cache=cache)
    assert reused.model is first.model and reused.dataset is not None
    assert float(reused.dataset.npv_cny) == pytest.approx(32_973_200, rel=1e-6)


@pytest.fixture(scope="module")
def own_columns(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny profile with a site's own columns: b's dry bulb at 30 °C from 8 h to 16 h and 15 °C
    otherwise, a constant 25 °C, and a PV column that is dark all year."""
    b = [30.0 if 8 <= h < 16 else 15.0 for h in range(24)]
    pv = [0.5 if 8 <= h < 16 else 0.0 for h in range(24)]
    path = tmp_path_factory.mktemp("own_columns") / "profile.csv"
    return write_profile(path, pv_cf=pv, b_dry_bulb_c=b, warm_dry_bulb_c=25.0, dark_pv_cf=0.0)


def test_a_site_with_its_own_temperature_column(own_columns: Path) -> None:
    # As the first test (a full, growth at b: 2 blocks, 1 plant unit, capex 23,600,000 a year), with b's
    # own column: kappa 0.3 in the 8 warm hours, 0.1 in the other 16, so b draws 1 MW x (1 + 4/24) on
    # average. NPV 23,600,000 + (1.1 + 7/6) x 4,380,000 = 33,528,000.
    changes = {
        **TWO_SITES,
        "sites": {**TWO_SITES["sites"], "b": site(10, 10, climate={"dry_bulb_column": "b_dry_bulb_c"})},
    }
    ds = solve(own_columns, changes)
    assert float(ds.npv_cny) == pytest.approx(23_600_000 + (1.1 + 7 / 6) * YEAR_OF_ENERGY, rel=1e-6)
    np.testing.assert_allclose(ds.site_dry_bulb_c.sel(site="b").isel(day=0).values[[0, 8, 15, 16]], [15, 30, 30, 15])
    np.testing.assert_allclose(ds.site_dry_bulb_c.sel(site="a").values, 15.0)
    kappa = ds.cooling_coefficient.sel(site="b", cooling="air").isel(day=0).values
    np.testing.assert_allclose(kappa[[0, 8]], [0.1, 0.3], rtol=1e-12)
    # the residual checks read b's column from the file on the representative day's calendar day
    from test_residuals import check_facility_power, scenario_of

    check_facility_power(ds, scenario_of(ds))
    # an offset applies to the site's own column as it does to the profile's: 25 °C + 5 K is the 30 °C
    # of the first test, at every hour (NPV 23,600,000 + 2.4 x 4,380,000)
    warm = site(10, 10, climate={"dry_bulb_column": "warm_dry_bulb_c", "dry_bulb_offset_k": 5})
    ds = solve(own_columns, {**TWO_SITES, "sites": {**TWO_SITES["sites"], "b": warm}})
    assert float(ds.npv_cny) == pytest.approx(23_600_000 + 2.4 * YEAR_OF_ENERGY, rel=1e-6)
    np.testing.assert_allclose(ds.site_dry_bulb_c.sel(site="b").values, 30.0)


def test_a_site_with_its_own_dark_pv_column_builds_no_pv(own_columns: Path) -> None:
    # 100 servers (1.1 MW) in one hall at one site; PV at 100 CNY/kW (100,000 CNY per MWp a year) saves
    # 0.5 MW x 8 h x 365 x 500 CNY/MWh = 730,000 a year where the profile's sun shines, so the site with
    # the servers takes its 1 MWp. With b's own column dark all year, the plan goes to a with its PV at
    # the same NPV; with both dark, no PV anywhere and the NPV 730,000 - 100,000 = 630,000 higher.
    dark = site(5, 5, pv_max_mw=1, pv_profile_column="dark_pv_cf")
    changes = {
        "power.pv.capex_cny_per_kw": 100,
        "power.pv.max_mw": 2,
        "demand.inference.peak_tokens_per_s": 100_000,
        "sites": {"a": site(5, 5, pv_max_mw=1), "b": dark},
    }
    one = solve(own_columns, changes)
    assert float(one.pv_mw.sel(site="a").max()) == pytest.approx(1.0)
    assert float(one.pv_mw.sel(site="b").max()) == pytest.approx(0.0, abs=1e-9)
    assert one.servers.sel(site="a").sum().item() == 100
    np.testing.assert_allclose(one.site_pv_capacity_factor.sel(site="b").values, 0.0)
    np.testing.assert_allclose(one.site_pv_capacity_factor.sel(site="a").values, one.pv_capacity_factor.values)
    none = solve(own_columns, {**changes, "sites": {"a": dark, "b": dark}})
    assert float(none.pv_mw.max()) == pytest.approx(0.0, abs=1e-9)
    assert float(none.npv_cny) - float(one.npv_cny) == pytest.approx(630_000, rel=1e-6)


def test_a_sites_own_columns_must_exist_and_be_in_range(own_columns: Path) -> None:
    two = {"sites": {"a": site(1, 2), "b": site(1, 2, climate={"dry_bulb_column": "b_dry_bulbc"})}}
    found = problems(own_columns, two)
    assert "no column 'b_dry_bulbc'" in found["sites.b.climate.dry_bulb_column"]
    assert "b_dry_bulb_c" in found["sites.b.climate.dry_bulb_column"]  # did you mean
    two["sites"]["b"] = site(1, 2, pv_profile_column="b_dry_bulb_c")  # temperatures are no capacity factor
    found = problems(own_columns, two)
    assert "within 0 .. 1" in found["sites.b.pv_profile_column"]
    # 25 °C of wet bulb against the profile's 15 °C dry bulb: not a weather
    two["sites"]["b"] = site(1, 2, climate={"wet_bulb_column": "warm_dry_bulb_c"})
    found = problems(own_columns, two)
    assert "wet bulb is above its dry bulb in 8760 hour(s)" in found["sites.b.climate.wet_bulb_column"]
    # the same column as the site's dry bulb too is consistent
    two["sites"]["b"] = site(1, 2, climate={"wet_bulb_column": "warm_dry_bulb_c", "dry_bulb_column": "warm_dry_bulb_c"})
    tiny(own_columns, two)


@pytest.mark.parametrize(("where", "kappa"), [("a", 0.1), ("b", 0.3)])
def test_a_contract_of_one_site_draws_the_servers_there(profile: Path, where: str, kappa: float) -> None:
    # Hydro at 0.1 CNY/kWh (100 CNY/MWh, availability 1) that only one site may take; 100 servers (1 MW IT).
    # a is cool (kappa 0.1), b warm (0.3): wherever the contract is, the servers go, because 1 MW x
    # (1 + kappa) of hydro costs less than grid energy at a (1.1 x 4,380,000 = 4,818,000): at a
    # 1.1 x 876,000 = 963,600, at b 1.3 x 876,000 = 1,138,800. Capex: 100 + 5 + 10 + 1 + 1 = 117 M.
    changes = {
        "demand.inference.peak_tokens_per_s": 100_000,
        "cooling.air.free_cooling_below_c": 20,
        "cooling.air.mechanical_above_c": 30,
        "power.ppa": {
            "hydro": {
                "availability_column": "hydro_availability",
                "energy_cny_per_kwh": 0.1,
                "max_mw": 10,
                "sites": [where],
            }
        },
        "sites": {"a": site(5, 5), "b": site(5, 5, climate={"dry_bulb_offset_k": 15})},
    }
    ds = solve(profile, changes)
    assert float(ds.npv_cny) == pytest.approx(117_000_000 + (1 + kappa) * 8760 * 100, rel=1e-6)
    assert ds.servers.sel(site=where).sum().item() == 100
    other = "b" if where == "a" else "a"
    assert float(ds.ppa_mw_used.sel(site=other).sum()) == 0


#: 200 servers (2 MW IT, 2.2 MW facility) with N+1 air plant and N+1 gensets of 1.1 MW carrying the
#: whole facility load; blocks of 1.1 MW, N-0.
REDUNDANT = {
    "demand.inference.peak_tokens_per_s": 200_000,
    "cooling.air.plant.redundancy": 1,
    "power.generators.critical_fraction": 1.0,
    "power.generators.redundancy": 1,
    "power.generators.unit_mw": 1.1,
    "power.grid.block_mva": 1.1,
}


def test_redundancy_per_site_costs_one_more_genset_and_plant_unit_than_pooled(profile: Path) -> None:
    # Pooled (one site, 2 halls): servers 200 M + racks 10 M + halls 20 M + plant 3 x 1 M (2 MW heat,
    # N+1) + blocks 2 x 1 M (2.2 MW) + gensets 3 x 0.1 M (2.2 MW, N+1) = 235.3 M; energy 2.2 x 4,380,000
    # = 9,636,000. NPV 244,936,000.
    pooled = solve(profile, {**REDUNDANT, "facility.max_halls": 2})
    assert float(pooled.npv_cny) == pytest.approx(235_300_000 + 2.2 * YEAR_OF_ENERGY, rel=1e-6)
    assert pooled.cooling_units.sum().item() == 3 and pooled.generator_units.sum().item() == 3
    # Two sites of one hall each: 100 servers at each; per site 2 plant units (1 MW, N+1) and 2 gensets
    # (1.1 MW, N+1), 1 block: exactly one more plant unit (1,000,000) and one more genset (100,000).
    split = solve(profile, {**REDUNDANT, "facility.max_halls": 2, "sites": {"a": site(1, 5), "b": site(1, 5)}})
    assert float(split.npv_cny) - float(pooled.npv_cny) == pytest.approx(1_100_000, rel=1e-6)
    np.testing.assert_array_equal(split.cooling_units.sum(["cooling", "year"]).values, [2, 2])
    np.testing.assert_array_equal(split.generator_units.sum("year").values, [2, 2])
    np.testing.assert_array_equal(split.grid_blocks.sum("year").values, [1, 1])
    assert split.servers.sel(site="a").sum().item() == split.servers.sel(site="b").sum().item() == 100


def test_cluster_limits_cap_the_sum_over_sites(profile: Path) -> None:
    # Two sites of 10 halls each under a cluster cap of 1 hall: only 100 servers can be installed; the
    # other 100,000 tokens/s go unserved (penalty 1e6 CNY per Mtoken; a whole year of 0.1 Mtok/s).
    ds = solve(profile, {**REDUNDANT, "facility.max_halls": 1, "sites": {"a": site(10, 5), "b": site(10, 5)}})
    assert ds.halls.sum().item() == 1
    assert ds.servers.sum().item() == 100


# ---------------------------------------------------------------------------------------------- bad input


def problems(profile: Path, changes: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ScenarioError) as info:
        tiny(profile, changes)
    return {p.path: p.message for p in info.value.problems}


def test_unknown_key_under_a_site_names_its_path(profile: Path) -> None:
    found = problems(profile, {"sites": {"a": {**site(1, 1), "max_hals": 2}}})
    assert "sites.a.max_hals" in found
    assert "max_halls" in found["sites.a.max_hals"]


def test_negative_and_missing_site_values_name_their_path(profile: Path) -> None:
    found = problems(profile, {"sites": {"a": {"max_halls": -1, "pv_max_mw": "5 kg"}}})
    assert "sites.a.max_halls" in found
    assert "sites.a.grid" in found  # required
    assert "sites.a.pv_max_mw" in found


def test_existing_units_must_stand_at_a_known_site(profile: Path) -> None:
    two = {"sites": {"a": site(1, 2), "b": site(1, 2)}}
    found = problems(profile, {**two, "existing": {"halls": [{"count": 1, "year_built": 2025}]}})
    assert "existing.halls[0].site" in found and "a, b" in found["existing.halls[0].site"]
    found = problems(profile, {**two, "existing": {"halls": [{"count": 1, "year_built": 2025, "site": "c"}]}})
    assert "unknown site 'c'" in found["existing.halls[0].site"]
    found = problems(profile, {"existing": {"halls": [{"count": 1, "year_built": 2025, "site": "a"}]}})
    assert "no sites" in found["existing.halls[0].site"]


def test_plan_validate_exits_2_and_names_the_site_path(tmp_path: Path) -> None:
    data = load_default_yaml_data()
    data["sites"] = {"pidu": {"max_halls": 7, "grid": {"max_blocks": 3, "firstnew_block_year": 2027}, "pv_max_mw": 12}}
    result = CliRunner().invoke(cli, ["validate", str(write_scenario(tmp_path, data))])
    assert result.exit_code == 2, result.output
    text = result.output + result.stderr
    assert "sites.pidu.grid.firstnew_block_year" in text and "first_new_block_year" in text
    assert "Traceback" not in text


def test_plan_validate_lists_the_sites(tmp_path: Path) -> None:
    data = load_default_yaml_data()
    data["sites"] = {"pidu": {"max_halls": 7, "grid": {"max_blocks": 3, "first_new_block_year": 2027}, "pv_max_mw": 12}}
    result = CliRunner().invoke(cli, ["validate", str(write_scenario(tmp_path, data))])
    assert result.exit_code == 0, result.output
    assert "Sites" in result.output and "pidu" in result.output and "2027" in result.output


def test_a_site_tariff_names_its_path(profile: Path) -> None:
    two = {"sites": {"a": site(1, 2), "b": site(1, 2)}}
    two["sites"]["b"]["grid"] = {"max_blocks": 2, "tariff": {"demand_cny_per_kw_month": 30}}
    found = problems(profile, two)
    assert "capacity" in found["sites.b.grid.tariff.demand_cny_per_kw_month"]
    two["sites"]["b"]["grid"] = {"max_blocks": 2, "tariff": {"non_floating_cny_per_kwh": 0.6}}
    found = problems(profile, two)
    assert "below its flat price (0.5" in found["sites.b.grid.tariff.non_floating_cny_per_kwh"]
    two["sites"]["b"]["grid"] = {"max_blocks": 2, "tariff": {"flat_cny_per_kwh": "30 EUR"}}
    assert "sites.b.grid.tariff.flat_cny_per_kwh" in problems(profile, two)


def test_the_cluster_funds_are_checked_against_the_flat_price_of_each_site_that_pays_them(profile: Path) -> None:
    """Funds of 0.55 CNY/kWh over the tiny flat price of 0.5: an error once at the cluster's key while
    a site pays the cluster's flat price, and none when every site has a flat price of its own above it.
    """
    dear = {"max_blocks": 2, "tariff": {"flat_cny_per_kwh": 0.8}}
    one_own = {"power.grid.tariff.non_floating_cny_per_kwh": 0.55, "sites": {"a": site(1, 2), "b": site(1, 2)}}
    one_own["sites"]["b"]["grid"] = dear
    found = problems(profile, one_own)
    key = "power.grid.tariff.non_floating_cny_per_kwh"
    assert list(found) == [key]
    assert "0.55 CNY/kWh) must be below the flat price (0.5 CNY/kWh)" in found[key]
    one_own["sites"]["a"]["grid"] = dear
    s = tiny(profile, one_own)
    assert {n: s.site_tariff(n).non_floating_cny_per_kwh for n in s.sites} == {"a": 0.55, "b": 0.55}


def test_a_contract_names_known_sites(profile: Path) -> None:
    hydro = {"availability_column": "hydro_availability", "energy_cny_per_kwh": 0.1, "max_mw": 1, "sites": ["yan"]}
    found = problems(profile, {"power.ppa": {"hydro": hydro}, "sites": {"yaan": site(1, 2)}})
    assert "did you mean 'yaan'" in found["power.ppa.hydro.sites[0]"]


def test_a_site_grid_must_carry_its_redundancy(profile: Path) -> None:
    found = problems(profile, {"power.grid.redundancy": 1, "sites": {"a": site(1, 1)}})
    assert "sites.a.grid.max_blocks" in found


# ---------------------------------------------------------------------------------------------- diagnosis


@pytest.mark.parametrize(
    ("sites", "cluster", "line"),
    [
        (
            {"a": site(5, 5, max_new_halls_per_year=1), "b": site(5, 0)},
            {},
            [
                "the utility limit of 0 grid blocks at site 'b' in 2026",
                "at most 1 new halls a year at site 'a' in 2026",
            ],
        ),
        (
            {"a": site(5, 5), "b": site(5, 5)},
            {"facility.max_halls": 2},
            ["the cluster limit of 2 halls over all sites in 2026"],
        ),
        (
            {"a": site(5, 5, grid={"max_blocks": 5, "first_new_block_year": 2027}), "b": site(1, 5)},
            {},
            ["no new grid block at site 'a' before 2027 in 2026"],
        ),
    ],
    ids=["site_limits", "cluster_limit", "first_block_year"],
)
def test_a_diagnosis_names_the_site_of_a_limit(
    profile: Path, sites: dict[str, Any], cluster: dict[str, Any], line: list[str]
) -> None:
    # 300 servers of 1 PFLOPS (3 MW, 3 halls) for a 0.3 EFLOPS target; the sites cannot hold them.
    run = plan_scenario(tiny(profile, {"policy.installed_eflops_min": 0.3, "sites": sites, **cluster}), OPTIONS)
    assert run.outcome.status == "infeasible"
    lines = [x.strip().removeprefix("- ") for x in run.outcome.diagnosis]
    assert "the installed-compute target of 0.30 EFLOPS in 2026" in lines
    for expected in line:
        assert expected in lines, lines


def test_a_site_without_a_grid_connection_is_valid(profile: Path) -> None:
    # max_blocks 0 is a site with no connection (PV, direct contracts): not an error, only unused here
    ds = solve(profile, {"sites": {"a": site(1, 5), "b": site(1, 0)}})
    assert ds.halls.sel(site="b").sum().item() == 0


# ---------------------------------------------------------------------------------------------- downstream


def test_a_built_multi_site_model_is_reused_for_new_numbers(profile: Path) -> None:
    # A sweep's re-use: the two-site model built once, then updated by index with new prices and
    # demand, gives the plan a fresh build gives.
    cache = ModelCache()
    first = plan_scenario(tiny(profile, TWO_SITES), OPTIONS, cache=cache)
    assert first.dataset is not None
    moved = {**TWO_SITES, "facility.hall.capex_cny": 2e7, "demand.inference.peak_tokens_per_s": 300_000}
    reused = plan_scenario(tiny(profile, moved), OPTIONS, cache=cache)
    fresh = plan_scenario(tiny(profile, moved), OPTIONS)
    assert reused.model is first.model
    assert reused.dataset is not None and fresh.dataset is not None
    assert float(reused.dataset.npv_cny) == pytest.approx(float(fresh.dataset.npv_cny), rel=1e-9)
    np.testing.assert_array_equal(reused.dataset.servers.values, fresh.dataset.servers.values)


def test_reports_metrics_and_exports_read_a_multi_site_plan(profile: Path) -> None:
    from io import StringIO

    from rich.console import Console

    from planner.report import render_compare, render_report
    from planner.report.export import export_tables
    from planner.report.terminal import print_plan
    from planner.results.metrics import METRICS, metric_columns, metric_value

    scenario = tiny(profile, TWO_SITES)
    run = plan_scenario(scenario, OPTIONS)
    ds = run.dataset
    assert ds is not None
    one = solve(profile, {"demand.inference.peak_tokens_per_s": 200_000})
    assert "<html" in render_report(ds) and "<html" in render_compare(one, ds)
    builds = export_tables(ds)["builds"]
    assert len(builds)
    out = StringIO()
    print_plan(ds, Console(file=out, width=200))
    assert "NPV" in out.getvalue()
    # a metric optimised over the columns is the metric of the Dataset (site dims included)
    compiled = compile_model(run.model)  # the solved model: its columns hold the plan
    x = np.array([v.value or 0.0 for v in compiled.columns])
    for name in ("halls", "grid_mw", "installed_pflops", "emissions_t", "imported_servers"):
        (c, c0), _ = metric_columns(run.model, compiled.columns, ds, METRICS[name], scenario)
        assert np.count_nonzero(c) > 0, name
        assert float(c @ x + c0) == pytest.approx(metric_value(ds, METRICS[name], scenario), rel=1e-9), name
    assert metric_value(ds, METRICS["halls"], scenario) == 2  # the existing hall at a, a new one at b


def test_the_shipped_four_site_variant_loads_and_keeps_the_defaults_cluster_caps() -> None:
    """inputs/tianfu-sites.yaml: the default on Shuangliu, Pidu, Jianyang and Ya'an (estimates of
    docs/research/sites-network.md §1.6), the existing fleet at Pidu; the default's cluster-wide caps still
    bind the sum (41 halls of land against 40, 17 blocks against 16)."""
    cut = ["time.representative_days=2", "time.extreme_days={}"]
    s = load_scenario(REPO_ROOT / "inputs" / "tianfu-sites.yaml", cut)
    assert list(s.sites) == ["shuangliu", "pidu", "jianyang", "yaan"]
    assert sum(v.max_halls for v in s.sites.values()) == 41 and s.facility.max_halls == 40
    assert sum(v.grid.max_blocks for v in s.sites.values()) == 17 and s.power.grid.max_blocks == 16
    assert {e.site for group in ("servers", "halls", "grid_blocks") for e in getattr(s.existing, group)} == {"pidu"}
    compiled = compile_model(build_model(s))
    one_site = compile_model(build_model(load_scenario(REPO_ROOT / "inputs" / "2030.yaml", cut)))
    assert len(compiled.columns) > 3 * len(one_site.columns)  # four sites: every build and hourly column per site
    # Ya'an settles at 0.34 CNY/kWh every hour; the other sites pay the cluster's TOU tariff
    data = build_model(s).planner_data
    prices = data.site_prices
    assert data.flat_price("yaan", 2026) == 0.34 and not prices["yaan"].time_of_use
    assert data.flat_price("pidu", 2026) == s.power.grid.tariff.flat_cny_per_kwh.at(2026) and prices["pidu"].time_of_use


def test_the_shipped_network_variant_serves_every_region_from_the_sites() -> None:
    """inputs/tianfu-network.yaml: the four sites with three latency classes and three hubs (estimates of
    docs/research/sites-network.md §2-3): every site may serve every region; Chongqing leases for training
    and inference, Gui'an for training only, Qingyang buys."""
    s = load_scenario(REPO_ROOT / "inputs" / "tianfu-network.yaml")
    regions = s.demand.inference.regions
    assert sum(r.share for r in regions.values()) == pytest.approx(1.0)
    assert all(set(s.sites) <= set(r.sites) for r in regions.values())
    hubs = s.network.hubs
    assert set(hubs["chongqing"].lease.workloads) == {"training", "inference"}
    assert list(hubs["gui_an"].lease.workloads) == ["training"] and hubs["qingyang"].lease is None
    assert hubs["qingyang"].sell.max_pflops.at(2026) == 880


# ---------------------------------------------------------------------------------------------- coarse first plan


@pytest.mark.parametrize("concurrent", [True, False])
def test_a_large_model_of_several_sites_takes_its_first_plan_from_the_coarse_model(
    profile: Path, monkeypatch: pytest.MonkeyPatch, concurrent: bool
) -> None:
    # The hand-worked case of test_growth_goes_to_the_site_with_spare_grid at 6 representative days of
    # a flat profile (every day alike), solved as the planner solves a large model of several sites:
    # the first plan from the same scenario at 2 days, its integers fixed here, no rounding here.
    monkeypatch.setattr(pipeline, "INTERIOR_POINT_COLUMNS", 0)
    monkeypatch.setattr(pipeline, "COARSE_DAYS", 2)
    scenario = tiny(profile, {**TWO_SITES, "time.representative_days": 6})
    options = replace(OPTIONS, concurrent_dive=concurrent)
    coarse = pipeline.coarse_scenario(scenario, options)
    assert coarse is not None and coarse.time.representative_days == 2
    rounding = _trace_rounding(monkeypatch)
    run = plan_scenario(scenario, options)
    assert run.outcome.status == "optimal" and run.dataset is not None
    fine, rough = build_model_size(scenario), build_model_size(coarse)
    assert set(rounding) == {rough} and fine > rough  # the dive rounded the coarse model only
    assert run.outcome.coarse_left == [] and "coarse_large_dive" not in run.outcome.timings
    assert run.outcome.termination.endswith("(plan from the coarse model's rounding)")  # HiGHS found none better
    assert run.outcome.plan_source == "coarse model's rounding"
    assert {"coarse_dive", "coarse_fixed_lp"} <= run.outcome.timings.keys()
    assert float(run.dataset.npv_cny) == pytest.approx(23_600_000 + 2.4 * YEAR_OF_ENERGY, rel=1e-6)
    assert run.outcome.coarse_objective == pytest.approx(run.outcome.objective, rel=1e-9)
    assert run.dataset.halls_new.sel(site="b").sum().item() == 1
    assert run.dataset.attrs["first_plan_source"] == "coarse model's rounding"
    assert run.dataset.attrs["coarse_objective_cny"] == pytest.approx(float(run.dataset.npv_cny), rel=1e-9)


def test_a_coarse_dive_out_of_time_leaves_its_groups_to_the_large_models_dive(
    profile: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The case above, with the coarse dive told to stop at once (COARSE_SHARE 0): it fixes nothing and
    # leaves every group to the large model's own dive, which gives the plan (before, a coarse dive out
    # of time left the solve without any plan: four sites, --time-limit 300).
    monkeypatch.setattr(pipeline, "INTERIOR_POINT_COLUMNS", 0)
    monkeypatch.setattr(pipeline, "COARSE_DAYS", 2)
    monkeypatch.setattr(solve_module, "COARSE_SHARE", 0.0)
    scenario = tiny(profile, {**TWO_SITES, "time.representative_days": 6})
    rough = pipeline.build(pipeline.coarse_scenario(scenario, OPTIONS)).compiled
    assert rough is not None
    names = [name for name, _ in Relaxation(rough, OPTIONS).groups()]
    rounding = _trace_rounding(monkeypatch)
    run = plan_scenario(scenario, replace(OPTIONS, concurrent_dive=False))
    assert run.outcome.status == "optimal" and run.dataset is not None
    assert run.outcome.coarse_left == names and len(names) >= 4
    assert run.dataset.attrs["coarse_groups_left"] == json.dumps(names)
    assert set(rounding) == {build_model_size(scenario)}  # the large model's dive fixed every group
    assert run.outcome.plan_source == "coarse model's rounding"
    assert {"coarse_dive", "coarse_fixed_lp", "coarse_large_dive"} <= run.outcome.timings.keys()
    npv = 23_600_000 + 2.4 * YEAR_OF_ENERGY  # the hand-worked optimum
    assert float(run.dataset.npv_cny) == pytest.approx(npv, rel=1e-6)
    assert run.outcome.coarse_objective is not None and run.outcome.coarse_objective * 1e6 >= npv * (1 - 1e-9)


def test_a_hurried_dive_stops_at_its_hurry_with_the_groups_it_left(profile: Path) -> None:
    compiled = pipeline.build(tiny(profile, {**TWO_SITES, "time.representative_days": 2})).compiled
    assert compiled is not None
    relaxation = Relaxation(compiled, OPTIONS)
    result = relaxation.dive(deadline=time.perf_counter() + 60, hurry=0.0)  # long past
    assert result.bound is not None and result.objective is None and result.steps == []
    assert result.left == [name for name, _ in relaxation.groups()]
    assert result.x is not None and np.array_equal(result.x, relaxation.values())  # the relaxation's values
    # The groups left, fixed by a dive of those alone after the others were fixed by hand.
    first, *rest = relaxation.groups()
    again = Relaxation(compiled, OPTIONS)
    whole = np.ceil(result.x[first[1]] - 1e-6)
    again.set_bounds(first[1], whole, whole)
    finished = again.dive(deadline=time.perf_counter() + 60, only=frozenset(name for name, _ in rest))
    assert [name for name, _, _ in finished.steps] == [name for name, _ in rest]
    assert finished.x is not None and np.array_equal(finished.x[first[1]], whole)
    ints = finished.x[compiled.integer]
    assert np.allclose(ints, np.round(ints), atol=1e-9)


def test_a_solve_without_a_plan_says_how_far_the_coarse_model_got() -> None:
    first = solve_module._FirstPlan.__new__(solve_module._FirstPlan)
    first.days = 4
    first._done = CoarsePlan(coarse=DiveResult(bound=None, timings={"relaxation": 151.4}))
    (line,) = first.shortfall({"dive_relaxation": 230.0})
    assert "same scenario at 4 representative days" in line and "relaxation stopped after 151 s" in line
    assert "beside it took 230 s" in line and "--time-limit" in line
    stopped = DiveResult(bound=1.0, steps=[("halls_new", 2.0, 3.0)])
    first._done = CoarsePlan(coarse=stopped, timings={"coarse_dive": 97.0})
    assert "rounding fixed 1 groups of whole units in 97 s" in first.shortfall({})[0]
    first._done = CoarsePlan(
        coarse=DiveResult(bound=1.0, x=np.zeros(1)),
        large=DiveResult(bound=None),
        timings={"coarse_dive": 150.0, "coarse_fixed_lp": 40.0},
    )
    assert "gave no plan in 40 s" in first.shortfall({})[0]
    first._done = CoarsePlan(coarse=DiveResult(bound=1.0, x=np.zeros(1)), timings={"coarse_dive": 150.0})
    assert "gave no plan in 0 s" in first.shortfall({})[0]  # no large LP ran (other integer columns)
    first._done = CoarsePlan(
        coarse=DiveResult(bound=1.0, x=np.zeros(1), left=["generators_new", "servers_new"]),
        large=DiveResult(bound=1.0),
        timings={"coarse_dive": 150.0, "coarse_fixed_lp": 40.0, "coarse_large_dive": 61.0},
    )
    assert "groups left (generators_new, servers_new) stopped after 61 s" in first.shortfall({})[0]
    first._done = None
    assert first.shortfall({}) == []


def _trace_rounding(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The columns of the model of each rounding the dives try from now on (``Relaxation._fix``)."""
    rounding: list[int] = []
    fix = Relaxation._fix

    def traced(self: Relaxation, cols: np.ndarray, values: np.ndarray, deadline: float) -> float | None:
        rounding.append(len(self.compiled.columns))
        return fix(self, cols, values, deadline)

    monkeypatch.setattr(Relaxation, "_fix", traced)
    return rounding


def build_model_size(scenario: Any) -> int:
    """Columns of a scenario's compiled model."""
    built = pipeline.build(scenario)
    assert built.compiled is not None
    return len(built.compiled.columns)


def test_only_a_large_model_of_several_sites_gets_a_coarse_model(profile: Path) -> None:
    two = tiny(profile, {**TWO_SITES, "time.representative_days": 6})
    one = tiny(profile, {"time.representative_days": 6})
    assert pipeline.coarse_scenario(two, OPTIONS) is None  # far below the interior-point threshold
    sites = load_scenario(REPO_ROOT / "inputs" / "tianfu-sites.yaml")
    coarse = pipeline.coarse_scenario(sites, OPTIONS)
    assert coarse is not None and coarse.time.representative_days == pipeline.COARSE_DAYS
    assert coarse.sites == sites.sites and coarse.time.profiles == sites.time.profiles
    assert pipeline.coarse_scenario(sites, replace(OPTIONS, dive=False)) is None
    one_large = load_scenario(REPO_ROOT / "inputs" / "2030.yaml", ["time.representative_days=48"])
    assert pipeline.coarse_scenario(one_large, OPTIONS) is None  # 225 k columns, but one site
    assert pipeline.coarse_scenario(one, OPTIONS) is None


# ---------------------------------------------------------------------------------------------- in-use links


#: Two sites that must both be used from 2026 (1.5 MW of IT in 1 MW halls, one new hall a year at each),
#: with N-1 grid and N+1 plant per site: the in-use binaries carry spare units.
IN_USE = {
    "years": [2026, 2027, 2028],
    "demand.inference.peak_tokens_per_s": {2026: 150_000, 2027: 250_000, 2028: 400_000},
    "facility.hall.lifetime_years": 5,
    "facility.max_halls": 6,
    "cooling.air.plant.redundancy": 1,
    "power.grid.redundancy": 1,
    "power.grid.block_mva": 1.5,
    "sites": {
        "a": site(3, 5, max_new_halls_per_year=1),
        "b": site(3, 5, max_new_halls_per_year=1),
    },
}


def test_reachable_halls_by_hand(profile: Path) -> None:
    # a: one existing hall built 2024 (life 4: serves to 2027), one new hall a year, land for 3;
    # b: two new halls a year, land for 5, but the cluster builds at most 3 a year and holds 6.
    scenario = tiny(
        profile,
        {
            **IN_USE,
            "facility.hall.lifetime_years": 4,
            "facility.max_new_halls_per_year": 3,
            "existing.halls": [{"count": 1, "year_built": 2024, "site": "a"}],
            "sites": {"a": site(3, 5, max_new_halls_per_year=1), "b": site(5, 5, max_new_halls_per_year=2)},
        },
    )
    data = ModelData(scenario, prepare_time(scenario))
    # a: 1 + 1 = 2 in 2026; 1 + 2 = 3 in 2027; the existing hall retired, 3 builds = 3 in 2028
    assert [data.reachable_halls("a", y) for y in data.years] == [2, 3, 3]
    # b: 2, 4, then 6 capped by its land (5)
    assert [data.reachable_halls("b", y) for y in data.years] == [2, 4, 5]


def _loosened(m: Any, which: set[str]) -> Any:
    """The model without the named tightenings of the in-use links (``m.tightenings``)."""
    if "servers" in which:
        m.cooling_server_link.deactivate()
    if "kept" in which:
        m.site_in_use_kept.deactivate()
    if "reach" in which:
        m.site_use_reach.deactivate()
    return m


@pytest.mark.parametrize("which", [{"servers"}, {"kept"}, {"reach"}, {"servers", "kept", "reach"}])
def test_in_use_tightenings_lift_the_lp_bound_and_keep_the_optimum(profile: Path, which: set[str]) -> None:
    # The server-power link, "a site in use stays in use" and the big-M of the halls a site can have
    # that year are valid: without any of them the MIP optimum is the same; each of them lifts the
    # LP relaxation, the bound the rounding dive and HiGHS start from.
    def bounds(m: Any) -> tuple[float, float]:
        _, lp = Relaxation(compile_model(m), OPTIONS).solve_lp(time.perf_counter() + 60)
        outcome = solve_model(m, OPTIONS, shadow_prices=False)
        assert lp is not None and outcome.objective is not None
        return lp, outcome.objective

    lp, best = bounds(build_model(tiny(profile, IN_USE)))
    loose_lp, loose_best = bounds(_loosened(build_model(tiny(profile, IN_USE)), which))
    assert best == pytest.approx(loose_best, rel=1e-9)
    assert loose_lp < lp - 0.3  # [MCNY]
    assert lp <= best + 1e-6
