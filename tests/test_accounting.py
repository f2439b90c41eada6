"""Accounting that leaves the optimiser no loophole (DESIGN.md §3), on tiny hand-solved instances.

Each test closes one loophole; its optimum is worked out by hand in the comment beside it,
with what the looser accounting gave instead. Every instance starts from ``tests/tiny.py``;
recap (discount rate 0, 1-year lives, so each asset costs its capex once):

* server ``gpu``: 1,000 tokens/s, 1 PFLOPS, 10 kW full = idle (unless changed), 1 U, 1,000,000 CNY;
* air racks: 20 kW and 42 U -> 2 servers per rack, 100,000 CNY; kappa 0.1 at 15 °C;
* cooling plant units of 1 MW IT for 1,000,000 CNY, N+0;
* halls: 100 slots and 1 MW IT for 10,000,000 CNY; no aux losses;
* grid blocks: 10 MW for 1,000,000 CNY, N-0; energy flat 0.5 CNY/kWh = 500 CNY/MWh.

The default tiny plan (2,000 tokens/s -> 2 servers, 1 rack, 1 hall, 1 plant unit, 1 block) costs
14,100,000 CNY of capital; its facility draws 0.022 MW, i.e. 0.528 MWh a day, 192.72 MWh a year.

The model is solved to a MIP gap of 1e-9, so NPVs must match to rel 1e-6.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
from test_model_tiny import dlc_cooling, solve_tiny, total
from tiny import tiny, write_profile

from planner.solver.highs import SolveOptions
from planner.time.prepare import prepare_time

ALL_MONTHS = list(range(1, 13))
OPTIONS = SolveOptions(time_limit_s=60, mip_gap=1e-9)
HOURS = np.arange(24)
#: Calendar days of January-June and July-December in the profile's non-leap 2026.
FIRST_HALF_DAYS, SECOND_HALF_DAYS = 181, 184


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The flat tiny profile (15 °C, PV 0, inference shape 1, hydro availability 1)."""
    return write_profile(tmp_path_factory.mktemp("accounting") / "profile.csv")


def assert_npv(ds: xr.Dataset, npv: float) -> None:
    """The NPV [CNY] to rel 1e-6 (checked first, so that a failure shows the model's value)."""
    assert float(ds.npv_cny) == pytest.approx(npv, rel=1e-6)


def assert_stocks(ds: xr.Dataset, **integers: float) -> None:
    """Whole-number stocks, summed over their other dims."""
    for name, expected in integers.items():
        assert total(ds, name) == pytest.approx(expected, abs=1e-6), name


def hydro(**over: Any) -> dict[str, Any]:
    """A green hydro PPA on the profile's ``hydro_availability``, wheeled through the grid."""
    base = {
        "availability_column": "hydro_availability",
        "energy_cny_per_kwh": 0.6,
        "capacity_cny_per_kw_year": 20,
        "max_mw": 1.0,
    }
    base.update(over)
    return base


def battery(**over: Any) -> dict[str, Any]:
    base = {
        "capex_cny_per_kwh": 100,
        "capex_cny_per_kw": 100,
        "charge_efficiency": 1.0,
        "discharge_efficiency": 0.8,
        "max_mwh": 1.0,
        "max_mw": 1.0,
        "lifetime_years": 1,
        "fixed_om_fraction": 0.0,
    }
    base.update(over)
    return base


def served_tokens(ds: xr.Dataset) -> np.ndarray:
    """Tokens/s served each (year, day, hour): sum over (a, c) of tok_a x inference servers."""
    tokens = xr.DataArray([1000.0] * ds.sizes["accelerator"], dims="accelerator")  # every tiny SKU: 1,000 tok/s
    return (ds.inference_servers * tokens).sum(("accelerator", "cooling")).values


def recomputed_green_share(ds: xr.Dataset, nongreen: tuple[str, ...] = ()) -> np.ndarray:
    """Green share per year from the Dataset's own variables (DESIGN.md §3):
    (sum W_d (P_fac - grid - non-green PPA) + certificates) / sum W_d P_fac."""
    w = ds.day_weight
    fac = (ds.facility_power_mw * w).sum(("site", "day", "hour"))
    grid = (ds.grid_import_mw * w).sum(("site", "day", "hour"))
    other = 0.0
    if nongreen:
        other = (ds.ppa_mw_used.sel(ppa=list(nongreen)) * w).sum(("site", "ppa", "day", "hour"))
    return ((fac - grid - other + ds.certificates_mwh) / fac).values


# --------------------------------------------------------------------------- 1. no credit for useless work

#: 12 cool hours (15 °C, 0-11 h) and 12 hot hours (30 °C, 12-23 h) every day.
COOL_HOT_DRY_BULB = [15.0] * 12 + [30.0] * 12


def _useless_work_case() -> dict[str, Any]:
    return {
        "demand.inference.peak_tokens_per_s": 1000,
        "demand.inference.reserve_margin": 2.0,  # 3 x 1,000 tokens/s installed -> 3 servers
        "accelerators.gpu.idle_kw": 5,
        "accelerators.gpu.cooling": ["air", "dlc"],
        # air: free below 20 °C (kappa 0.1), fully mechanical at 30 °C with COP 5 (kappa 0.1 + 1/5 = 0.3)
        "cooling.air.free_cooling_below_c": 20,
        "cooling.air.mechanical_above_c": 30,
        "cooling.air.cop_rated_at_c": 30,
        "cooling.air.plant.capex_cny_per_unit": 1e4,
        "cooling.dlc": dlc_cooling(),
        "policy.pue_max": 1.19,
    }


def test_pue_cap_gets_no_credit_for_useless_work(tmp_path: Path) -> None:
    # Demand 1,000 tokens/s every hour, reserve margin 2 -> 3 servers (reserve penalty 1e6 CNY per
    # token/s).  Servers draw 5 kW idle, 10 kW busy; one busy server meets the demand.  Air kappa
    # 0.1 in the 12 cool hours and 0.3 in the 12 hot ones (mean 0.2); dlc kappa 0.05.  PUE cap 1.19.
    # Per day, IT = 24 x (3 x 5 + 5) = 480 kWh whatever the cooling.
    #   All air, demand served exactly: cooling 0.2 x 480 = 96 kWh -> PUE 1.2 > 1.19.
    #   With k dlc servers (the busy one in dlc): cooling = 0.05 x 24 x 5 (k + 1) + 0.2 x 24 x 5 (3 - k)
    #   = 78 - 18 k kWh/day -> PUE 1 + (78 - 18 k)/480: k=1 1.125, k=2 1.0875, k=3 1.05.
    #   k=1 (2 air in 1 rack + 1 dlc rack) and k=2 (1 air rack + 2 dlc in 1 rack) need the same racks
    #   (300,000) and plants (2 x 10,000); k=2 uses 18 kWh/day less; k=3 needs 2 dlc racks (400,000).
    # Optimum k=2: servers 3,000,000, racks 300,000, hall 10,000,000, plants 20,000, grid 1,000,000,
    # energy (480 + 42) kWh x 365 x 0.5 = 95,265.  NPV = 14,415,265 CNY, PUE = 1 + 42/480 = 1.0875.
    # Looser accounting (served >= demand): keep 3 air servers (2 racks, 200,000) and "serve" x
    # extra servers' worth of tokens in the cool hours: PUE = (576 + 66 x)/(480 + 60 x) = 1.19 at
    # x = 8/9, energy (576 + 528/9) x 182.5 = 115,826.67 -> NPV 14,325,826.67 with no dlc.
    cool_hot = write_profile(tmp_path / "cool_hot.csv", dry_bulb_c=COOL_HOT_DRY_BULB)
    ds = solve_tiny(cool_hot, _useless_work_case()).dataset
    assert_npv(ds, 14_415_265)
    assert total(ds, "servers", cooling="air") == pytest.approx(1, abs=1e-6)
    assert total(ds, "servers", cooling="dlc") == pytest.approx(2, abs=1e-6)
    assert total(ds, "racks", cooling="air") == pytest.approx(1, abs=1e-6)
    assert total(ds, "racks", cooling="dlc") == pytest.approx(1, abs=1e-6)
    assert_stocks(ds, servers=3, halls=1, cooling_units=2, grid_blocks=1)
    assert float(ds.pue.item()) == pytest.approx(1.0875, rel=1e-6)
    # served = demand every hour, and no training is done without training demand
    np.testing.assert_allclose(served_tokens(ds), 1000.0, rtol=1e-6)
    assert float(ds.training_servers.sum()) == pytest.approx(0.0, abs=1e-6)


# --------------------------------------------------------------------------- 2. green is energy consumed

#: Hydro available 0-11 h only.
HALF_DAY_HYDRO = [1.0] * 12 + [0.0] * 12


def _battery_green_case() -> dict[str, Any]:
    return {
        "policy.green_share_min": 0.75,
        "power.ppa": {"hydro": hydro()},
        "power.battery": battery(),
        "power.green_certificates": {"price_cny_per_mwh": 0.0, "max_share": 0.0},
    }


def test_green_share_never_credits_battery_losses(tmp_path: Path) -> None:
    # Load L = 0.022 MW flat (528 kWh/day); hydro (0.6 CNY/kWh, 20 CNY/kW/yr) only in hours 0-11;
    # grid 0.5 CNY/kWh; battery charge efficiency 1, discharge 0.8 (round trip 0.8), 100 CNY/kWh and
    # 100 CNY/kW; no certificates.  Green floor 0.75: grid may supply at most 0.25 x 528 = 132 kWh/day.
    # Green energy = facility - grid = hydro taken - battery losses.  The 12 hydro hours carry
    # 264 kWh; the battery must deliver D = 132 kWh in hours 12-23, so it charges D / 0.8 = 165 kWh
    # from hydro in hours 0-11 (13.75 kW for 12 h), stores 165 kWh.
    #   Hydro: (22 + 13.75) kW -> contract 35.75 kW (715 CNY), energy 0.429 MWh/day x 365 = 156.585 MWh
    #   x 600 = 93,951; grid 0.132 x 365 = 48.18 MWh x 500 = 24,090; battery 165 kWh x 100 +
    #   13.75 kW x 100 = 17,875.  (More storage or hydro only costs more: hydro dearer than grid.)
    # NPV = 14,100,000 + 715 + 93,951 + 24,090 + 17,875 = 14,236,631 CNY, green share exactly 0.75.
    # Looser accounting (green = hydro taken): hydro taken >= 396 kWh/day, i.e. only 132 kWh/day into
    # the battery (E 0.132 MWh, P 0.011 MW: 14,300), of which 105.6 kWh come back; hydro 33 kW
    # (660), 144.54 MWh (86,724); grid 57.816 MWh (28,908) -> NPV 14,230,592 reported "75 % green"
    # while (396 - 26.4)/528 = 70 % of the energy consumed was green.
    half_hydro = write_profile(tmp_path / "half_hydro.csv", hydro_availability=HALF_DAY_HYDRO)
    ds = solve_tiny(half_hydro, _battery_green_case()).dataset
    assert_npv(ds, 14_236_631)
    assert_stocks(ds, servers=2, racks=1, halls=1, cooling_units=1, grid_blocks=1)
    assert float(ds.battery_mwh.item()) == pytest.approx(0.165, rel=1e-6)
    assert float(ds.battery_mw.item()) == pytest.approx(0.01375, rel=1e-6)
    assert float(ds.ppa_mw.sum()) == pytest.approx(0.03575, rel=1e-6)
    assert float(ds.green_share.item()) == pytest.approx(0.75, rel=1e-6)
    assert recomputed_green_share(ds)[0] == pytest.approx(0.75, rel=1e-6)
    # grid energy is exactly the quarter that may be grey
    assert float((ds.grid_import_mw * ds.day_weight).sum()) == pytest.approx(48.18, rel=1e-6)


# --------------------------------------------------------------------------- 3. PPAs are contracts for energy

VALLEY_PEAK_TARIFF = [{"name": "all", "months": ALL_MONTHS, "valley": ["0-8"], "peak": ["16-20"]}]


@pytest.mark.parametrize(
    ("ppa", "ppa_mw", "taken_mwh", "npv"),
    [
        # Grid: valley 0-8 h 200, flat 500, peak 16-20 h 800 CNY/MWh; load 0.022 MW; hydro available
        # every hour, fee 20 CNY/kW/yr; no PPA at all: grid 0.022 x 365 x (8x200 + 12x500 + 4x800)
        # = 86,724 -> NPV 14,186,724.
        # (a) 600 CNY/MWh, take-or-pay 1: every contracted MW pays 600 x 24 h a day whether taken or
        #     not (5,256,000 + 20,000 per MW-year) and saves at most 10,800 x 365 = 3,942,000 of grid
        #     energy: no contract.  NPV = 14,186,724.  (As an option - pay only what is taken - it is
        #     taken in the 4 peak hours: 22 kW (440), 32.12 MWh x 600 = 19,272, grid 61,028 ->
        #     14,180,740.)
        (hydro(take_or_pay=1.0), 0.0, 0.0, 14_186_724),
        # (b) 400 CNY/MWh, take-or-pay 1: paid for all 24 h, so taken in all of them (the valley too:
        #     the energy is paid anyway).  Per MW-day 9,600 against 10,800 of grid: contract the load,
        #     22 kW (440), 192.72 MWh x 400 = 77,088, no grid energy.  NPV = 14,177,528.  (As an
        #     option it is taken in flat and peak hours only: 128.48 MWh x 400 = 51,392 + valley grid
        #     64.24 MWh x 200 = 12,848 + 440 -> 14,164,680.)
        (hydro(energy_cny_per_kwh=0.4, take_or_pay=1.0), 0.022, 192.72, 14_177_528),
        # (c) 600 CNY/MWh, no take-or-pay, minimum take 25 % of the energy made available: 6 of
        #     24 h a day -> the 4 peak hours (-200 each) and 2 flat ones (+100 each): 600 per MW-day
        #     saved, 219,000 - 20,000 fee per MW-year > 0 -> contract 22 kW (440); 48.18 MWh x 600 =
        #     28,908; grid 10 flat hours 80.3 MWh x 500 = 40,150 + valley 64.24 MWh x 200 = 12,848.
        #     NPV = 14,100,000 + 440 + 28,908 + 40,150 + 12,848 = 14,182,346.  (Without the minimum:
        #     14,180,740.)
        (hydro(min_take_share=0.25), 0.022, 48.18, 14_182_346),
    ],
    ids=["take_or_pay_dear", "take_or_pay_cheap", "min_take_share"],
)
def test_ppa_is_a_contract_not_a_free_option(
    profile: Path, ppa: dict[str, Any], ppa_mw: float, taken_mwh: float, npv: float
) -> None:
    ds = solve_tiny(
        profile,
        {"power.grid.tariff.seasons": VALLEY_PEAK_TARIFF, "power.ppa": {"hydro": ppa}},
    ).dataset
    assert_npv(ds, npv)
    assert_stocks(ds, servers=2, racks=1, halls=1, cooling_units=1, grid_blocks=1)
    assert float(ds.ppa_mw.sum()) == pytest.approx(ppa_mw, abs=1e-9)
    taken = float((ds.ppa_mw_used * ds.day_weight).sum())
    assert taken == pytest.approx(taken_mwh, rel=1e-6, abs=1e-6)
    # taken + not taken = available x contracted, every hour
    gap = ds.ppa_mw_used + ds.ppa_mw_not_taken - ds.ppa_availability * ds.ppa_mw
    assert float(abs(gap).max()) == pytest.approx(0.0, abs=1e-9)


# --------------------------------------------------------------------------- 4. reserve on what can run


def test_reserve_counts_only_available_servers(profile: Path) -> None:
    # Demand 10,000 tokens/s, reserve 0.15, availability 0.9: installed capacity that can run
    # 900 N >= 11,500 -> N = ceil(12.78) = 13 (serving needs only 0.9 N >= 10 -> 12).
    # 13 servers (13,000,000), 130 kW -> 7 racks (700,000), 1 hall (10,000,000), 1 plant unit
    # (1,000,000), 1 grid block (1,000,000); energy 0.143 MW x 8,760 x 500 = 626,340.
    # NPV = 26,326,340 CNY.  (Counting installed tokens, 1,000 N >= 11,500 -> 12 servers, 6 racks,
    # energy 578,160: 25,178,160.)
    ds = solve_tiny(
        profile,
        {
            "demand.inference.peak_tokens_per_s": 10_000,
            "demand.inference.reserve_margin": 0.15,
            "accelerators.gpu.availability": 0.9,
        },
    ).dataset
    assert_npv(ds, 26_326_340)
    assert_stocks(ds, servers=13, racks=7, halls=1, cooling_units=1, grid_blocks=1)
    assert float(ds.reserve_unserved_tokens_per_s.sum()) == pytest.approx(0.0, abs=1e-6)


# --------------------------------------------------------------------------- 5. representative days keep the prices

#: Dry season (Jan-Jun, 181 days): valley 0-8 h x 0.4, peak 16-20 h x 1.6, + 0.1 CNY/kWh.
#: Wet season (Jul-Dec, 184 days): flat all day.
SEASONAL_TARIFF = {
    "power.grid.tariff.seasons": [
        {"name": "dry", "months": [1, 2, 3, 4, 5, 6], "valley": ["0-8"], "peak": ["16-20"]},
        {"name": "wet", "months": [7, 8, 9, 10, 11, 12]},
    ],
    "power.grid.tariff.season_adders": [{"months": [1, 2, 3, 4, 5, 6], "cny_per_kwh": 0.1}],
    "policy.carbon_price_cny_per_t": 100,
}


def _seasonal_emissions() -> np.ndarray:
    """0.6 t/MWh in January-June, 0.4 t/MWh in July-December (8760 hours)."""
    return np.r_[np.full(FIRST_HALF_DAYS * 24, 0.6), np.full(SECOND_HALF_DAYS * 24, 0.4)]


def test_one_representative_day_carries_the_calendar_means(tmp_path: Path) -> None:
    # One representative day stands for all 365: each of its hours carries the day-weighted mean of
    # the calendar's TOU multiplier, season adder and emission factor (not one medoid day's season).
    seasonal = write_profile(tmp_path / "seasonal.csv", grid_emission_t_per_mwh=_seasonal_emissions())
    time = prepare_time(tiny(seasonal, {**SEASONAL_TARIFF, "time.representative_days": 1}))
    assert time.n_days == 1
    dry = np.where(HOURS < 8, 0.4, np.where((HOURS >= 16) & (HOURS < 20), 1.6, 1.0))
    mean_mult = (FIRST_HALF_DAYS * dry + SECOND_HALF_DAYS * 1.0) / 365
    np.testing.assert_allclose(time.tou_multiplier[0], mean_mult, rtol=1e-9)
    np.testing.assert_allclose(time.season_adder_cny_per_kwh[0], 0.1 * FIRST_HALF_DAYS / 365, rtol=1e-9)
    np.testing.assert_allclose(
        time.grid_emission_t_per_mwh[0], (FIRST_HALF_DAYS * 0.6 + SECOND_HALF_DAYS * 0.4) / 365, rtol=1e-9
    )


def test_energy_and_carbon_cost_of_one_representative_day_are_the_calendars(tmp_path: Path) -> None:
    # Flat load 0.022 MW = 22 kW all year.  Price per day, sum over 24 h of CNY/kWh:
    #   dry day 0.5 x (8 x 0.4 + 4 x 1.6 + 12 x 1) + 24 x 0.1 = 10.8 + 2.4 = 13.2; wet day 0.5 x 24 = 12.
    # Energy = 22 kW x (181 x 13.2 + 184 x 12) = 22 x 4,597.2 = 101,138.40 CNY.
    # Carbon 100 CNY/t on 0.528 MWh/day x (181 x 0.6 + 184 x 0.4) t/MWh = 96.2016 t -> 9,620.16 CNY.
    # NPV = 14,100,000 + 101,138.40 + 9,620.16 = 14,210,758.56 CNY.
    # (One medoid day's season instead: a wet day gives 96,360 + 7,708.80, a dry day 105,996 +
    # 11,563.20.)
    seasonal = write_profile(tmp_path / "seasonal.csv", grid_emission_t_per_mwh=_seasonal_emissions())
    ds = solve_tiny(seasonal, {**SEASONAL_TARIFF, "time.representative_days": 1}).dataset
    assert_npv(ds, 14_210_758.56)
    assert float(ds.cost.sel(component="grid_energy").sum()) == pytest.approx(101_138.40, rel=1e-6)
    assert float(ds.cost.sel(component="carbon").sum()) == pytest.approx(9_620.16, rel=1e-6)
    assert_stocks(ds, servers=2, racks=1, halls=1, cooling_units=1, grid_blocks=1)


# --------------------------------------------------------------------------- 6. liquid cooling captures part of heat


def test_dlc_residual_heat_goes_to_the_air_plant(profile: Path) -> None:
    # The servers may only go in dlc racks; dlc captures 75 % of their heat, the rest goes to air.
    # kappa of a dlc rack = 0.75 x 0.05 + 0.25 x 0.1 = 0.0625 -> PUE 1.0625.
    # 2 servers (2,000,000) in 1 dlc rack (200,000), 1 hall (10,000,000), dlc plant 1 unit of 1 MW
    # (10,000); air plant (2 kW units, 10,000 each, N+1) carries 0.25 x 20 kW = 5 kW ->
    # ceil(2.5) + 1 = 4 units (40,000), though there are no air racks; grid 1 block (1,000,000);
    # energy 0.02 MW x 1.0625 x 8,760 x 500 = 93,075.
    # NPV = 13,343,075 CNY.  (Capture 1: kappa 0.05, no air plant, energy 91,980 -> 13,301,980.)
    ds = solve_tiny(
        profile,
        {
            "accelerators.gpu.cooling": ["dlc"],
            "cooling.dlc": dlc_cooling(liquid_capture=0.75, residual_heat_to="air"),
            "cooling.air.plant.unit_mw": 0.002,
            "cooling.air.plant.capex_cny_per_unit": 1e4,
            "cooling.air.plant.redundancy": 1,
        },
    ).dataset
    assert_npv(ds, 13_343_075)
    assert total(ds, "racks", cooling="dlc") == pytest.approx(1, abs=1e-6)
    assert total(ds, "racks", cooling="air") == pytest.approx(0, abs=1e-6)
    assert total(ds, "cooling_units", cooling="dlc") == pytest.approx(1, abs=1e-6)
    assert total(ds, "cooling_units", cooling="air") == pytest.approx(4, abs=1e-6)
    assert float(ds.pue.item()) == pytest.approx(1.0625, rel=1e-6)
    np.testing.assert_allclose(ds.cooling_power_mw.sum("cooling").values, 0.02 * 0.0625, rtol=1e-6)


# --------------------------------------------------------------------------- 7. demand charge on monthly peaks


def _july_peak() -> np.ndarray:
    """Inference shape 1 in July, 0.5 in every other month (8760 hours)."""
    month = np.repeat(np.arange(1, 13), np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]) * 24)
    return np.where(month == 7, 1.0, 0.5)


def test_demand_charge_on_each_months_peak(tmp_path: Path) -> None:
    # Peak 2,000 tokens/s in July, 1,000 in the other months; servers 10 kW busy, 0 idle -> 2 servers,
    # IT 20 kW in July and 10 kW otherwise; facility 22 kW and 11 kW.  Monthly days (exact here).
    # Demand charge 10 CNY/kW/month on each month's peak: 10 x (22 + 11 x 11) = 1,430.
    # Energy: 0.011 MW x (8,760 + 31 x 24) h x 500 = 0.011 x 9,504 x 500 = 52,272.
    # NPV = 14,100,000 + 52,272 + 1,430 = 14,153,702 CNY.  (On the year's peak, 12 x 22 x 10 = 2,640:
    # 14,154,912.)
    july = write_profile(tmp_path / "july.csv", inference_shape=_july_peak())
    ds = solve_tiny(
        july,
        {
            "time.representative_days": "monthly",
            "accelerators.gpu.idle_kw": 0,
            "power.grid.tariff.fixed_charge_basis": "demand",
            "power.grid.tariff.demand_cny_per_kw_month": 10,
        },
    ).dataset
    assert_npv(ds, 14_153_702)
    assert_stocks(ds, servers=2, racks=1, halls=1, cooling_units=1, grid_blocks=1)
    assert float(ds.cost.sel(component="grid_energy").sum()) == pytest.approx(52_272, rel=1e-6)
    # member_days (day x calendar month): each representative day stands for the days of its own month
    months = [dim for dim in ds.member_days.dims if dim != "day"]
    np.testing.assert_allclose(ds.member_days.sum(months).values, ds.day_weight.values)
    assert float(ds.member_days.max()) == 31


# --------------------------------------------------------------------------- property: green share recomputed


@pytest.mark.parametrize(
    ("profile_columns", "changes", "nongreen"),
    [
        ({"hydro_availability": HALF_DAY_HYDRO}, _battery_green_case(), ()),
        (
            {},
            {
                "policy.green_share_min": 0.5,
                "power.ppa": {"hydro": hydro(capacity_cny_per_kw_year=20)},
                "power.green_certificates": {"price_cny_per_mwh": 30, "max_share": 0.5},
            },
            (),
        ),
        (
            # a cheap grey contract (0.3 CNY/kWh) and a green floor met by hydro and certificates
            {"wind_availability": 1.0},
            {
                "policy.green_share_min": 0.5,
                "power.ppa": {
                    "hydro": hydro(),
                    "coal": hydro(
                        availability_column="wind_availability", energy_cny_per_kwh=0.3, green=False, take_or_pay=0.5
                    ),
                },
                "power.green_certificates": {"price_cny_per_mwh": 30, "max_share": 0.5},
            },
            ("coal",),
        ),
    ],
    ids=["battery", "ppa_and_certificates", "grey_contract"],
)
def test_green_share_recomputes_from_the_dataset(
    tmp_path: Path, profile_columns: dict[str, Any], changes: dict[str, Any], nongreen: tuple[str, ...]
) -> None:
    path = write_profile(tmp_path / "profile.csv", **profile_columns)
    ds = solve_tiny(path, changes).dataset
    share = recomputed_green_share(ds, nongreen)
    np.testing.assert_allclose(ds.green_share.values, share, rtol=1e-6)
    assert np.all(share <= 1 + 1e-9)
    assert np.all(share >= 0.5 - 1e-6)


# ------------------------------------------------------------------ every *_scale key reaches every term it names


def test_price_scale_reaches_existing_servers_fixed_om(profile: Path) -> None:
    """``accelerators.<a>.price_scale`` scales the price of every server of the type: new servers'
    capital and the fixed O&M of existing ones (charged on the first year's price).

    One existing server (built 2025, 5-year life) covers the demand of 1,000 tokens/s; fixed O&M
    3 %/year of 1,000,000 CNY = 30,000 CNY, and 60,000 CNY at price_scale 2. No server is bought.
    """
    existing = [{"accelerator": "gpu", "cooling": "air", "count": 1, "year_built": 2025}]
    base = {
        "existing.servers": existing,
        "accelerators.gpu.lifetime_years": 5,
        "accelerators.gpu.fixed_om_fraction": 0.03,
        "demand.inference.peak_tokens_per_s": 1000,
    }
    om = []
    for scale in (1.0, 2.0):
        ds = solve_tiny(profile, {**base, "accelerators.gpu.price_scale": scale}).dataset
        assert ds is not None
        assert float(ds.servers_new.sum()) == 0
        om.append(float(ds.cost.sel(component="fixed_om_existing_servers").sum()))
    assert om == pytest.approx([30_000.0, 60_000.0], rel=1e-9)


@pytest.mark.parametrize(
    ("key", "variable"),
    [
        ("demand.inference.scale", "inference_demand_tokens_per_s"),
        ("demand.training.scale", "training_demand_flop"),
    ],
)
def test_demand_scales_reach_the_demand_the_plan_saw(profile: Path, key: str, variable: str) -> None:
    """A demand scale of 2 doubles the demand every balance uses (hourly inference, annual training)."""
    base = {"demand.training.flop": "1e20 FLOP"}
    one = solve_tiny(profile, base).dataset
    two = solve_tiny(profile, {**base, key: 2.0}).dataset
    assert one is not None and two is not None
    np.testing.assert_allclose(two[variable].values, 2 * one[variable].values, rtol=1e-12)
    assert float(one[variable].max()) > 0


def test_tariff_scale_scales_the_floating_part_of_every_hour(profile: Path) -> None:
    """``power.grid.tariff.scale`` multiplies the floating part (and season adders) of every hour's
    grid price; the non-floating funds (0.1 CNY/kWh here) stay: 0.5 -> 0.1 + 2 x 0.4 = 0.9 CNY/kWh."""
    base = {"power.grid.tariff.non_floating_cny_per_kwh": 0.1}
    one = solve_tiny(profile, base).dataset
    two = solve_tiny(profile, {**base, "power.grid.tariff.scale": 2.0}).dataset
    assert one is not None and two is not None
    np.testing.assert_allclose(one.grid_price_cny_per_mwh.values, 500.0, rtol=1e-12)
    np.testing.assert_allclose(two.grid_price_cny_per_mwh.values, 900.0, rtol=1e-12)


# --------------------------------------------------------------------------- emissions, both ways


@pytest.mark.parametrize("basis", ["location", "market"])
def test_carbon_price_applies_to_the_chosen_emissions_basis(profile: Path, basis: str) -> None:
    """The tiny plan draws 22 kW from the grid all year: 192.72 MWh at 0.5 t/MWh = 96.36 t (location).

    With a carbon price of 100 CNY/t on location-based emissions the carbon cost is 9,636 CNY and
    certificates are useless (no green requirement): none are bought. On market-based emissions each
    certificate (5 CNY/MWh) removes 0.5 t at the residual factor, worth 50 CNY, so the plan buys them up
    to the energy that is not green (192.72 MWh, 963.60 CNY) and market-based emissions fall to 0:
    NPV lower by 9,636 - 963.60 = 8,672.40 CNY. Both bases are reported either way.
    """
    changes = {
        "policy.carbon_price_cny_per_t": 100,
        "policy.emissions_basis": basis,
        "power.green_certificates": {"price_cny_per_mwh": 5.0, "max_share": 1.0, "residual_emission_t_per_mwh": 0.5},
    }
    ds = solve_tiny(profile, changes).dataset
    base = solve_tiny(profile, {}).dataset
    assert ds is not None and base is not None
    location = float(ds.emissions_t.sel(basis="location").sum())
    assert location == pytest.approx(96.36, rel=1e-9)
    extra = float(ds.npv_cny) - float(base.npv_cny)
    if basis == "location":
        assert total(ds, "certificates_mwh") == pytest.approx(0.0, abs=1e-9)
        assert float(ds.emissions_t.sel(basis="market").sum()) == pytest.approx(96.36, rel=1e-9)
        assert extra == pytest.approx(9_636.0, rel=1e-9)
    else:
        assert total(ds, "certificates_mwh") == pytest.approx(192.72, rel=1e-9)
        assert float(ds.emissions_t.sel(basis="market").sum()) == pytest.approx(0.0, abs=1e-6)
        assert extra == pytest.approx(963.60, rel=1e-9)
    assert ds.emissions_t.attrs["priced_basis"] == basis
