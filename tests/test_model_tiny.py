"""Tiny planning instances whose optimum is worked out by hand beside each test.

Every instance starts from ``tests/tiny.py`` (read its docstring for the numbers). Recap of
what the arithmetic below uses, all with discount rate 0 and 1-year lives (annuity = capex):

* server ``gpu``: 1,000 tokens/s, 1 PFLOPS, 10 kW (full = idle), 1 U, 1,000,000 CNY;
* air racks: 20 kW and 42 U -> 2 servers per rack, 100,000 CNY per rack; kappa 0.1;
* cooling plant units of 1 MW IT for 1,000,000 CNY, N+0;
* halls: 100 rack slots and 1 MW IT for 10,000,000 CNY;
* grid blocks: 10 MVA x pf 1 = 10 MW for 1,000,000 CNY, N-0;
* energy: flat 0.5 CNY/kWh = 500 CNY/MWh every hour, 8,760 h a year.

One server drawing 10 kW with air cooling (kappa 0.1) therefore costs
0.011 MW x 8,760 h x 500 CNY/MWh = 48,180 CNY of energy a year.

The model is solved to a MIP gap of 1e-9, so the objective must match to rel 1e-6.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
from tiny import tiny, write_profile

from planner.pipeline import PlanRun, plan_scenario
from planner.solver.highs import SolveOptions

ALL_MONTHS = list(range(1, 13))
OPTIONS = SolveOptions(time_limit_s=60, mip_gap=1e-9)


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The flat tiny profile (15 °C, PV 0, inference shape 1, hydro availability 1)."""
    return write_profile(tmp_path_factory.mktemp("tiny") / "profile.csv")


def solve_tiny(profile: Path, changes: dict[str, Any] | None = None) -> PlanRun:
    run = plan_scenario(tiny(profile, changes), OPTIONS)
    assert run.outcome.status == "optimal", run.outcome.diagnosis
    assert run.dataset is not None
    return run


def total(ds: xr.Dataset, name: str, **sel: Any) -> float:
    """A dataset variable summed over everything but what ``sel`` picks, as a float."""
    da = ds[name]
    if sel:
        da = da.sel(**sel)
    return float(da.sum())


def assert_plan(ds: xr.Dataset, npv: float, **integers: float) -> None:
    """Check the NPV [CNY] (rel 1e-6) and whole-number stocks (summed over their other dims)."""
    for name, expected in integers.items():
        assert total(ds, name) == pytest.approx(expected, abs=1e-6), name
    assert float(ds.npv_cny) == pytest.approx(npv, rel=1e-6)


def domestic_server(**over: Any) -> dict[str, Any]:
    """A domestic server like ``gpu`` but dearer: 1,500,000 CNY."""
    base = {
        "vendor": "D",
        "chip": "D1",
        "domestic": True,
        "accelerators_per_server": 8,
        "pflops_per_server": 1.0,
        "tokens_per_s": 1000,
        "full_kw": 10,
        "idle_kw": 10,
        "rack_units": 1,
        "capex_cny": 1.5e6,
        "fixed_om_fraction": 0.0,
        "lifetime_years": 1,
        "mfu": 1.0,
        "availability": 1.0,
        "cooling": ["air"],
    }
    base.update(over)
    return base


def dlc_cooling(**over: Any) -> dict[str, Any]:
    """Direct liquid cooling: like air (20 kW, 42 U per rack) but 200,000 CNY per rack and kappa 0.05."""
    base = {
        "rack_kw_max": 20,
        "rack_units": 42,
        "capex_cny_per_rack": 2e5,
        "lifetime_years": 1,
        "fixed_om_fraction": 0.0,
        "basis": "dry_bulb",
        "free_cooling_below_c": 50,
        "mechanical_above_c": 60,
        "cop_rated": 5,
        "fans_pumps_kw_per_kw": 0.05,
        "plant": {
            "unit_mw": 1.0,
            "capex_cny_per_unit": 1e4,
            "redundancy": 0,
            "lifetime_years": 1,
            "fixed_om_fraction": 0.0,
        },
    }
    base.update(over)
    return base


# --------------------------------------------------------------------------- (a) the default


def test_default_tiny(profile: Path) -> None:
    # Demand 2,000 tokens/s -> 2 servers (2,000,000); 20 kW -> 1 rack (100,000) -> 1 hall
    # (10,000,000); 0.02 MW IT -> 1 plant unit (1,000,000); 0.022 MW -> 1 grid block
    # (1,000,000); energy 0.022 MW x 8,760 h x 500 = 96,360.  NPV = 14,196,360 CNY.
    ds = solve_tiny(profile).dataset
    assert_plan(ds, 14_196_360, servers=2, racks=1, halls=1, cooling_units=1, grid_blocks=1, generator_units=0)
    assert float(ds.cost.sel(component="grid_energy").sum()) == pytest.approx(96_360, rel=1e-9)
    assert float(ds.pue.item()) == pytest.approx(1.1, rel=1e-9)


# --------------------------------------------------------------------------- (b) limits bind in turn


def test_rack_hall_grid_limits_bind(profile: Path) -> None:
    # 250,000 tokens/s -> 250 servers (250,000,000).  Racks: power 250 x 10 kW / 20 kW = 125,
    # space 250 U / 42 U = 6 -> 125 racks (12,500,000).  Halls: slots 125 / 100 -> 2 but
    # nameplate 2.5 MW / 1 MW -> 3 halls (30,000,000).  Plant: 2.5 MW IT / 1 MW -> 3 units
    # (3,000,000).  Grid blocks of 1 MVA: facility 2.5 x 1.1 = 2.75 MW -> 3 blocks (3,000,000).
    # Energy 2.75 MW x 8,760 h x 500 = 12,045,000.  NPV = 310,545,000 CNY.
    ds = solve_tiny(
        profile,
        {
            "demand.inference.peak_tokens_per_s": 250_000,
            "power.grid.block_mva": 1.0,
        },
    ).dataset
    assert_plan(ds, 310_545_000, servers=250, racks=125, halls=3, cooling_units=3, grid_blocks=3)


def test_hall_slots_bind(profile: Path) -> None:
    # As above, but halls of 10 slots and 10 MW (max 20 halls): 125 racks / 10 slots -> 13 halls
    # (130,000,000), nameplate 2.5 MW / 10 MW -> 1.  Servers 250,000,000, racks 12,500,000,
    # plant 3,000,000, grid 3,000,000, energy 12,045,000.  NPV = 410,545,000 CNY.
    ds = solve_tiny(
        profile,
        {
            "demand.inference.peak_tokens_per_s": 250_000,
            "power.grid.block_mva": 1.0,
            "facility.hall.rack_slots": 10,
            "facility.hall.it_mw": 10.0,
            "facility.max_halls": 20,
        },
    ).dataset
    assert_plan(ds, 410_545_000, servers=250, racks=125, halls=13, cooling_units=3, grid_blocks=3)


# --------------------------------------------------------------------------- (c) cooling mix under a PUE cap


def _two_cooling(pue_max: float | None) -> dict[str, Any]:
    changes: dict[str, Any] = {
        "demand.inference.peak_tokens_per_s": 24_000,
        "accelerators.gpu.cooling": ["air", "dlc"],
        "cooling.air.fans_pumps_kw_per_kw": 0.3,
        "cooling.air.plant.capex_cny_per_unit": 1e4,
        "cooling.dlc": dlc_cooling(),
    }
    if pue_max is not None:
        changes["policy.pue_max"] = pue_max
    return changes


def test_cheap_air_without_pue_cap(profile: Path) -> None:
    # 24 servers (24,000,000).  Air: 10 kW x 1.3 x 8,760 h x 0.5 CNY/kWh = 56,940 CNY/server/yr;
    # dlc: 10 x 1.05 x 8,760 x 0.5 = 45,990, i.e. 21,900 less per 2-server rack, but a dlc rack
    # costs 100,000 more.  All air: 12 racks (1,200,000), 1 hall (10,000,000), 1 air plant unit
    # (10,000), 1 grid block (1,000,000), energy 24 x 56,940 = 1,366,560.
    # NPV = 37,576,560 CNY (all dlc: 24M + 2.4M + 10M + 0.01M + 1M + 1,103,760 = 38,513,760).
    ds = solve_tiny(profile, _two_cooling(None)).dataset
    assert_plan(ds, 37_576_560, servers=24, halls=1, grid_blocks=1)
    assert total(ds, "servers", cooling="air") == 24
    assert total(ds, "racks", cooling="air") == 12 and total(ds, "racks", cooling="dlc") == 0
    assert total(ds, "cooling_units", cooling="air") == 1 and total(ds, "cooling_units", cooling="dlc") == 0
    assert float(ds.pue.item()) == pytest.approx(1.3, rel=1e-9)


def test_pue_cap_forces_dlc_share(profile: Path) -> None:
    # PUE cap 1.2 with aux 0 and every server drawing 10 kW all the time: with a air servers of 24,
    # PUE = 1 + (0.3 a + 0.05 (24 - a)) / 24 <= 1.2  ->  0.25 a <= 3.6  ->  a <= 14.4 -> 14 air.
    # Energy = 43,800 x (24 x 1.05 + 0.25 a) = 1,103,760 + 10,950 a.
    #   a = 14: air 7 racks (700,000) + dlc 10 in 5 racks (1,000,000), energy 1,257,060;
    #   a = 13: 7 + 6 racks (1,900,000) -> 200,000 more racks for 10,950 less energy;
    #   a = 12: 6 + 6 racks (1,800,000) -> 100,000 more for 21,900 less energy.
    # So a = 14: servers 24,000,000, racks 1,700,000, 1 hall 10,000,000, one plant unit per
    # technology 20,000, 1 grid block 1,000,000, energy 1,257,060.  NPV = 37,977,060 CNY
    # (all dlc would be 38,513,760).  PUE = 1 + 4.7 / 24 = 1.195833.
    ds = solve_tiny(profile, _two_cooling(1.2)).dataset
    assert_plan(ds, 37_977_060, servers=24, halls=1, grid_blocks=1, cooling_units=2)
    assert total(ds, "servers", cooling="air") == 14
    assert total(ds, "servers", cooling="dlc") == 10
    assert total(ds, "racks", cooling="air") == 7 and total(ds, "racks", cooling="dlc") == 5
    assert float(ds.pue.item()) == pytest.approx(1 + 4.7 / 24, rel=1e-9)


# --------------------------------------------------------------------------- (d) battery arbitrage

VALLEY_PEAK_TARIFF = [{"name": "all", "months": ALL_MONTHS, "valley": ["0-8"], "peak": ["16-20"]}]


def _battery_case(max_mwh: float) -> dict[str, Any]:
    return {
        "demand.inference.peak_tokens_per_s": 100_000,
        "power.grid.tariff.seasons": VALLEY_PEAK_TARIFF,
        "power.battery": {
            "capex_cny_per_kwh": 10,
            "capex_cny_per_kw": 10,
            "charge_efficiency": 0.9,
            "discharge_efficiency": 0.9,
            "max_mwh": max_mwh,
            "max_mw": 1.0,
            "lifetime_years": 1,
            "fixed_om_fraction": 0.0,
        },
    }


def test_battery_arbitrage(profile: Path) -> None:
    # Prices: valley (0-8 h) 0.4 x 500 = 200, peak (16-20 h) 1.6 x 500 = 800, flat 500 CNY/MWh.
    # 100 servers (100,000,000), 50 racks (5,000,000), 1 hall (1.0 MW nameplate, 10,000,000),
    # 1 plant unit (1,000,000), 1 grid block (1,000,000); facility 1.1 MW every hour.
    # Without storage the energy bill is 1.1 MW x 365 x (8 x 200 + 4 x 800 + 12 x 500) = 4,336,200.
    # Battery, eta 0.9/0.9, at most 1 MWh: charge 1/0.9 = 1.1111 MWh in the valley, store 1 MWh,
    # deliver 0.9 MWh in the peak -> saves 0.9 x 800 - 200 / 0.9 = 497.78 CNY/day = 181,688.89/yr.
    # A flat-to-peak cycle would also pay (500 / 0.81 = 617 < 800) but the energy bound binds.
    # MW: 0.9 MWh over 4 peak hours -> 0.225 MW (charging needs only 1.111 / 8 = 0.139 MW).
    # Battery capex 1 MWh x 10,000 + 0.225 MW x 10,000 = 12,250.
    # NPV = 117,000,000 + 4,336,200 - 181,688.89 + 12,250 = 121,166,761.11 CNY.
    ds = solve_tiny(profile, _battery_case(1.0)).dataset
    saving = 365 * (0.9 * 800 - 200 / 0.9)
    assert_plan(
        ds, 117_000_000 + 4_336_200 - saving + 12_250, servers=100, racks=50, halls=1, cooling_units=1, grid_blocks=1
    )
    assert float(ds.battery_mwh.item()) == pytest.approx(1.0, rel=1e-6)
    assert float(ds.battery_mw.item()) == pytest.approx(0.225, rel=1e-6)
    hours = np.arange(24)
    valley, peak = hours < 8, (hours >= 16) & (hours < 20)
    charge = ds.battery_charge_mw.sum("site").isel(year=0, day=0).values
    discharge = ds.battery_discharge_mw.sum("site").isel(year=0, day=0).values
    assert charge[valley].sum() == pytest.approx(1 / 0.9, rel=1e-6)
    assert charge[~valley].sum() == pytest.approx(0, abs=1e-7)
    assert discharge[peak].sum() == pytest.approx(0.9, rel=1e-6)
    assert discharge[~peak].sum() == pytest.approx(0, abs=1e-7)
    assert float(ds.battery_soc_mwh.max()) == pytest.approx(1.0, rel=1e-6)
    # the saving against the same plan without storage, by hand
    without = solve_tiny(profile, _battery_case(0.0)).dataset
    assert float(without.npv_cny) == pytest.approx(121_336_200, rel=1e-9)
    assert float(without.npv_cny) - float(ds.npv_cny) == pytest.approx(saving - 12_250, rel=1e-6)


# --------------------------------------------------------------------------- (e) N+1 gensets


def test_gensets_n_plus_one(profile: Path) -> None:
    # Critical fraction 1, 0.01 MW units, N+1: facility 0.022 MW -> ceil(2.2) + 1 = 4 gensets
    # at 100,000 each.  NPV = 14,196,360 + 400,000 = 14,596,360 CNY.
    ds = solve_tiny(
        profile,
        {
            "power.generators.unit_mw": 0.01,
            "power.generators.redundancy": 1,
            "power.generators.critical_fraction": 1.0,
        },
    ).dataset
    assert_plan(ds, 14_596_360, servers=2, racks=1, halls=1, cooling_units=1, grid_blocks=1, generator_units=4)


# --------------------------------------------------------------------------- (f) domestic share, (g) import cap


@pytest.mark.parametrize(
    ("share", "n_domestic", "npv"),
    [
        # 2 servers needed; domestic PFLOPS >= share x all PFLOPS (1 PFLOPS each).
        # 0.5: 1 domestic (1,500,000) + 1 gpu (1,000,000): 14,196,360 + 500,000 = 14,696,360.
        (0.5, 1, 14_696_360),
        # 0.6: 1 of 2 is 0.5 < 0.6 -> 2 domestic (3,000,000): 15,196,360 (3 servers would cost more).
        (0.6, 2, 15_196_360),
    ],
)
def test_domestic_share_floor(profile: Path, share: float, n_domestic: int, npv: float) -> None:
    ds = solve_tiny(
        profile,
        {
            "accelerators.dom": domestic_server(),
            "policy.domestic_compute_share_min": share,
        },
    ).dataset
    assert_plan(ds, npv, servers=2, racks=1, halls=1, cooling_units=1, grid_blocks=1)
    assert total(ds, "servers", accelerator="dom") == n_domestic
    assert total(ds, "servers", accelerator="gpu") == 2 - n_domestic
    assert float(ds.domestic_share.item()) >= share - 1e-9


@pytest.mark.parametrize(
    ("cap", "n_gpu", "npv"),
    [
        # no gpu may be imported: 2 domestic servers at 1,500,000: 14,196,360 + 1,000,000.
        (0, 0, 15_196_360),
        # one gpu a year: 1 gpu + 1 domestic: 14,196,360 + 500,000.
        (1, 1, 14_696_360),
    ],
)
def test_import_cap(profile: Path, cap: int, n_gpu: int, npv: float) -> None:
    ds = solve_tiny(
        profile,
        {
            "accelerators.dom": domestic_server(),
            "accelerators.gpu.max_new_per_year": cap,
        },
    ).dataset
    assert_plan(ds, npv, servers=2, racks=1, halls=1, cooling_units=1, grid_blocks=1)
    assert total(ds, "servers", accelerator="gpu") == n_gpu
    assert total(ds, "servers", accelerator="dom") == 2 - n_gpu


# --------------------------------------------------------------------------- (h) training only

#: FLOP one 1-PFLOPS server at MFU 1 does in a year: 1e15 x 3,600 x 8,760 = 3.1536e22 FLOP.
SERVER_YEAR_FLOP = 1e15 * 3600 * 8760


def test_training_only(profile: Path) -> None:
    # No inference; 3 server-years of training: 3 x 3.1536e22 = 9.4608e22 FLOP, flexibility 1.
    # 3 servers (3,000,000), 30 kW -> 2 racks (200,000), 1 hall (10,000,000), 1 plant unit
    # (1,000,000), 1 grid block (1,000,000); energy 0.033 MW x 8,760 x 500 = 144,540.
    # NPV = 15,344,540 CNY.  (The FLOP are given with their unit, so the test holds whatever the
    # schema's canonical unit; at commit a37f000 the schema read EFLOP while compute.py divided
    # by 1e21 as if FLOP, and this test failed with 0 servers.)
    ds = solve_tiny(
        profile,
        {
            "demand.inference.peak_tokens_per_s": 0,
            "demand.training.flop": f"{3 * SERVER_YEAR_FLOP!r} FLOP",
            "demand.training.flexibility": 1.0,
        },
    ).dataset
    assert_plan(ds, 15_344_540, servers=3, racks=2, halls=1, cooling_units=1, grid_blocks=1)
    assert float(ds.training_unserved_flop.sum()) == pytest.approx(0, abs=1e-6 * SERVER_YEAR_FLOP)
    assert float(ds.training_demand_flop.item()) == pytest.approx(3 * SERVER_YEAR_FLOP, rel=1e-9)


# --------------------------------------------------------------------------- (i) shortfall


def test_shortfall_when_penalty_is_cheap(profile: Path) -> None:
    # Penalty 1 CNY per million tokens: the year's 2,000 tokens/s x 3,600 x 8,760 = 63,072 Mtok
    # cost 63,072 CNY unserved, far below the 14.2 M CNY of serving them; the missing reserve
    # (2,000 tokens/s at 0.5 CNY per token/s) adds 1,000.  Nothing is built.
    # NPV = 64,072 CNY.
    ds = solve_tiny(
        profile,
        {
            "demand.shortfall_penalty.inference_cny_per_million_tokens": 1.0,
            "demand.shortfall_penalty.reserve_cny_per_token_per_s": 0.5,
        },
    ).dataset
    assert_plan(ds, 64_072, servers=0, racks=0, halls=0, cooling_units=0, grid_blocks=0)
    np.testing.assert_allclose(ds.inference_unserved.values, 2000.0, rtol=1e-9)
    assert float(ds.reserve_unserved_tokens_per_s.item()) == pytest.approx(2000, rel=1e-9)
    assert float(ds.cost.sel(component="shortfall_inference").sum()) == pytest.approx(63_072, rel=1e-9)


def test_no_load_needs_no_redundant_grid_or_gensets(profile: Path) -> None:
    # No demand, N-1 grid blocks and N+1 gensets: nothing is in use, so nothing should be built.
    # NPV = 0.  (The model gives 1 grid block + 1 genset = 1,100,000 CNY.)
    ds = solve_tiny(
        profile,
        {
            "demand.inference.peak_tokens_per_s": 0,
            "power.grid.redundancy": 1,
            "power.generators.redundancy": 1,
            "power.generators.critical_fraction": 1.0,
            "cooling.air.plant.redundancy": 1,
        },
    ).dataset
    assert_plan(ds, 0.0, servers=0, racks=0, halls=0, cooling_units=0, grid_blocks=0, generator_units=0)


def test_redundancy_when_in_use(profile: Path) -> None:
    # The default tiny with N+1 plant, N-1 grid and N+1 gensets (0.01 MW units, all load critical):
    # 2 plant units (2,000,000), 2 grid blocks (2,000,000), ceil(0.022 / 0.01) + 1 = 4 gensets
    # (400,000).  NPV = 14,196,360 + 1,000,000 + 1,000,000 + 400,000 = 16,596,360 CNY.
    ds = solve_tiny(
        profile,
        {
            "cooling.air.plant.redundancy": 1,
            "power.grid.redundancy": 1,
            "power.generators.unit_mw": 0.01,
            "power.generators.redundancy": 1,
            "power.generators.critical_fraction": 1.0,
        },
    ).dataset
    assert_plan(ds, 16_596_360, servers=2, racks=1, halls=1, cooling_units=2, grid_blocks=2, generator_units=4)


# --------------------------------------------------------------------------- (j) existing fleet

FIVE_YEAR_LIVES = {
    "accelerators.gpu.lifetime_years": 5,
    "accelerators.gpu.fixed_om_fraction": 0.05,
    "cooling.air.lifetime_years": 5,
    "cooling.air.fixed_om_fraction": 0.1,
    "cooling.air.plant.lifetime_years": 5,
    "cooling.air.plant.fixed_om_fraction": 0.03,
    "facility.hall.lifetime_years": 5,
    "facility.hall.fixed_om_fraction": 0.02,
    "power.grid.lifetime_years": 5,
    "power.grid.fixed_om_fraction": 0.02,
}


def _existing(servers: int) -> dict[str, Any]:
    return {
        **FIVE_YEAR_LIVES,
        "existing": {
            "servers": [{"accelerator": "gpu", "cooling": "air", "count": servers, "year_built": 2025}],
            "racks": [{"cooling": "air", "count": 1, "year_built": 2025}],
            "halls": [{"count": 1, "year_built": 2025}],
            "grid_blocks": [{"count": 1, "year_built": 2025}],
            "cooling_units": [{"cooling": "air", "count": 1, "year_built": 2025}],
        },
    }


def test_existing_fleet_covers_demand(profile: Path) -> None:
    # Everything built in 2025 with 5-year lives serves 2026; only fixed O&M (share x capex):
    # servers 2 x 0.05 x 1,000,000 = 100,000; rack 0.1 x 100,000 = 10,000; hall
    # 0.02 x 10,000,000 = 200,000; plant 0.03 x 1,000,000 = 30,000; grid 0.02 x 1,000,000 = 20,000;
    # energy 96,360.  NPV = 456,360 CNY.
    ds = solve_tiny(profile, _existing(2)).dataset
    assert_plan(
        ds,
        456_360,
        servers=2,
        racks=1,
        halls=1,
        cooling_units=1,
        grid_blocks=1,
        servers_new=0,
        racks_new=0,
        halls_new=0,
        cooling_units_new=0,
        grid_blocks_new=0,
    )


def test_existing_fleet_half_covers_demand(profile: Path) -> None:
    # One existing server; one new one at 1,000,000 x (1/5 + 0.05) = 250,000 a year, in the
    # existing rack (2 servers fit).  O&M: 50,000 + 10,000 + 200,000 + 30,000 + 20,000, energy 96,360.
    # NPV = 656,360 CNY.
    ds = solve_tiny(profile, _existing(1)).dataset
    assert_plan(ds, 656_360, servers=2, servers_new=1, racks=1, racks_new=0, halls_new=0, grid_blocks_new=0)


# --------------------------------------------------------------------------- (k) discounting over two years


def test_two_years_with_discounting(profile: Path) -> None:
    # Years 2026-2027, r = 0.1, every life 2 years: all built in 2026 and serving both years.
    # CRF(0.1, 2) = 0.1 x 1.21 / 0.21; NPV factor of the two annuities = CRF x (1 + 1/1.1) = 1.1
    # exactly.  Capex 14,100,000 x 1.1 = 15,510,000; energy 96,360 x (1 + 1/1.1) = 183,960.
    # NPV = 15,693,960 CNY.
    ds = solve_tiny(
        profile,
        {
            "years": [2026, 2027],
            "finance.discount_rate": 0.1,
            "accelerators.gpu.lifetime_years": 2,
            "cooling.air.lifetime_years": 2,
            "cooling.air.plant.lifetime_years": 2,
            "facility.hall.lifetime_years": 2,
            "power.grid.lifetime_years": 2,
        },
    ).dataset
    assert float(ds.npv_cny) == pytest.approx(15_693_960, rel=1e-6)
    np.testing.assert_allclose(ds.servers.sum(("site", "accelerator", "cooling")).values, [2, 2])
    np.testing.assert_allclose(ds.servers_new.sum(("site", "accelerator", "cooling")).values, [2, 0])
    np.testing.assert_allclose(ds.halls_new.sum("site").values, [1, 0])
    np.testing.assert_allclose(ds.discount_factor.values, [1.0, 1 / 1.1])


# --------------------------------------------------------------------------- (l) green power, PV, charges


def test_green_share_with_ppa_and_certificates(profile: Path) -> None:
    # Facility 0.022 MW x 8,760 h = 192.72 MWh.  Green share 0.5 -> 96.36 MWh green, of which
    # certificates may cover 0.5 x 96.36 = 48.18 MWh at 30 CNY/MWh (1,445.40), cheaper than the
    # PPA's premium (600 - 500 = 100 CNY/MWh + capacity fee); the other 48.18 MWh from the hydro
    # PPA (availability 1), taken flat at 48.18 / 8,760 = 0.0055 MW so that the contract is
    # smallest: capacity 5.5 kW x 20 CNY/kW/yr = 110, energy 48.18 x 600 = 28,908; grid
    # 144.54 MWh x 500 = 72,270.  NPV = 14,100,000 + 1,445.40 + 110 + 28,908 + 72,270 = 14,202,733.40.
    ds = solve_tiny(
        profile,
        {
            "policy.green_share_min": 0.5,
            "power.ppa": {
                "hydro": {
                    "availability_column": "hydro_availability",
                    "energy_cny_per_kwh": 0.6,
                    "capacity_cny_per_kw_year": 20,
                    "max_mw": 1.0,
                }
            },
            "power.green_certificates": {"price_cny_per_mwh": 30, "max_share": 0.5},
        },
    ).dataset
    assert_plan(ds, 14_202_733.40, servers=2, racks=1, halls=1, cooling_units=1, grid_blocks=1)
    assert float(ds.certificates_mwh.item()) == pytest.approx(48.18, rel=1e-6)
    assert float(ds.ppa_mw.sum()) == pytest.approx(0.0055, rel=1e-6)
    assert float(ds.green_share.item()) == pytest.approx(0.5, rel=1e-6)


@pytest.mark.parametrize(
    ("max_mw", "pv_mw", "npv"),
    [
        # PV at cf 0.25 every hour earns 0.25 x 8,760 x 500 = 1,095,000 CNY per MWp a year against
        # 1,000 CNY/kW = 1,000,000 capex: build to the limit 0.05 MWp, saving 0.05 x 95,000 = 4,750.
        (0.05, 0.05, 14_196_360 - 4_750),
        # with room for more, PV stops where its output meets the 0.022 MW load (no export):
        # 0.022 / 0.25 = 0.088 MWp (88,000).  The "sun" of this profile shines at cf 0.25 every
        # hour, so PV then carries the whole load and no grid block (1,000,000) is needed either:
        # 14,100,000 - 1,000,000 (grid block) + 88,000 (PV) = 13,188,000.
        (1.0, 0.088, 13_188_000),
    ],
)
def test_pv_sized_by_value_and_load(tmp_path: Path, max_mw: float, pv_mw: float, npv: float) -> None:
    sunny = write_profile(tmp_path / "sunny.csv", pv_cf=0.25)
    ds = solve_tiny(sunny, {"power.pv.max_mw": max_mw}).dataset
    assert_plan(ds, npv, servers=2, racks=1, halls=1, cooling_units=1, grid_blocks=1 if max_mw < 0.088 else 0)
    assert float(ds.pv_mw.item()) == pytest.approx(pv_mw, rel=1e-6)


@pytest.mark.parametrize(
    ("changes", "npv"),
    [
        # demand charge 10 CNY/kW/month on the 22 kW peak: 22 x 10 x 12 = 2,640.
        (
            {"power.grid.tariff.fixed_charge_basis": "demand", "power.grid.tariff.demand_cny_per_kw_month": 10},
            14_196_360 + 2_640,
        ),
        # capacity charge 0.1 CNY/kVA/month on one 10 MVA block: 0.1 x 12 x 10,000 kVA = 12,000.
        ({"power.grid.tariff.capacity_cny_per_kva_month": 0.1}, 14_196_360 + 12_000),
        # carbon 100 CNY/t on 192.72 MWh x 0.5 t/MWh = 96.36 t: 9,636.
        ({"policy.carbon_price_cny_per_t": 100}, 14_196_360 + 9_636),
    ],
    ids=["demand_charge", "capacity_charge", "carbon_price"],
)
def test_grid_charges_and_carbon(profile: Path, changes: dict[str, Any], npv: float) -> None:
    ds = solve_tiny(profile, changes).dataset
    assert_plan(ds, npv, servers=2, racks=1, halls=1, cooling_units=1, grid_blocks=1)


# --------------------------------------------------------------------------- costs add up


@pytest.mark.parametrize(
    "changes",
    [
        {},
        _battery_case(1.0),
        _existing(1),
        {"years": [2026, 2027], "finance.discount_rate": 0.1, "accelerators.gpu.lifetime_years": 2},
    ],
    ids=["default", "battery", "existing", "discounted"],
)
def test_costs_add_up_to_objective(profile: Path, changes: dict[str, Any]) -> None:
    run = solve_tiny(profile, changes)
    ds = run.dataset
    npv = float((ds.cost * ds.discount_factor).sum())
    assert npv == pytest.approx(float(ds.npv_cny), rel=1e-9)
    assert npv == pytest.approx(run.outcome.objective * 1e6, rel=1e-9)
    assert ds.attrs["objective_cny"] == pytest.approx(npv, rel=1e-9)
