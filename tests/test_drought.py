"""Drought as data: a dry year's hydro contract delivers less (``power.ppa.<k>.hydrology``), and the grid
rations the site on a run of days (``power.grid.rationing``), on the tiny scenario worked out by hand.

The tiny site draws 22 kW all year (two 10 kW servers, cooling 0.1 kW per kW of IT; tests/tiny.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tiny import tiny, write_profile

from planner.model.data import ModelData
from planner.pipeline import plan_scenario
from planner.scenario import ScenarioError
from planner.time.prepare import prepare_time

LOAD_MW = 0.022


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_profile(tmp_path_factory.mktemp("drought") / "profile.csv")


def _ppa(**extra: Any) -> dict[str, Any]:
    return {
        "hydro": {
            "availability_column": "hydro_availability",
            "energy_cny_per_kwh": 0.1,
            "capacity_cny_per_kw_year": 1.0,
            "max_mw": 1.0,
            **extra,
        }
    }


def test_a_dry_year_needs_more_contracted_mw_for_the_same_energy(profile: Path) -> None:
    # Hydro at 0.1 CNY/kWh + 1 CNY/kW-year beats the grid at 0.5 CNY/kWh: the site contracts its whole load,
    # 0.022 MW at availability 1. With half the water all year it needs twice the MW (0.044) for the same energy.
    wet = plan_scenario(tiny(profile, {"power.ppa": _ppa()}))
    dry = plan_scenario(tiny(profile, {"power.ppa": _ppa(hydrology={2026: dict.fromkeys(range(1, 13), 0.5)})}))
    assert wet.dataset is not None and dry.dataset is not None
    assert float(wet.dataset["ppa_mw"].sel(ppa="hydro", year=2026)) == pytest.approx(LOAD_MW, rel=1e-6)
    assert float(dry.dataset["ppa_mw"].sel(ppa="hydro", year=2026)) == pytest.approx(2 * LOAD_MW, rel=1e-6)
    assert float(dry.dataset["ppa_hydrology_factor"].sel(ppa="hydro", year=2026).max()) == pytest.approx(0.5)
    # nothing is made available beyond what is taken: half the doubled MW
    assert float(dry.dataset["ppa_mw_not_taken"].max()) == pytest.approx(0.0, abs=1e-9)


def test_a_dry_month_counts_by_the_calendar_days_a_representative_day_stands_for(profile: Path) -> None:
    s = tiny(profile, {"power.ppa": _ppa(hydrology={2026: {8: 0.5}})})
    data = ModelData(s, prepare_time(s))
    # one representative day for the year: August is 31 of its 365 days
    assert data.hydrology_factor("hydro", 2026) == pytest.approx([(31 * 0.5 + 334) / 365])


def test_rationing_days_are_a_representative_day_of_their_own_with_the_cap_on_the_connection(profile: Path) -> None:
    # 15-25 August (11 days) rationed to 0.012 MW through the connection: the 0.010 MW missing comes from a
    # direct contract (dearer than the grid, so taken on the rationed days only; the grid block is cheap
    # here, so that the contract does not pay for itself by sparing it).
    changes = {
        "power.grid.capex_cny_per_block": 1000,
        "time.representative_days": 2,
        "power.grid.rationing": {"start": "08-15", "end": "08-25", "import_cap_mw": {2026: 0.012}},
        "power.ppa": _ppa(energy_cny_per_kwh=2.0, delivery="direct"),
    }
    run = plan_scenario(tiny(profile, changes))
    ds = run.dataset
    assert ds is not None
    weight = ds["day_weight"].values
    rationed = int(np.flatnonzero(weight == 11)[0])
    assert sorted(weight.tolist()) == [11, 354]
    grid = ds["grid_import_mw"].sum("site").sel(year=2026).values
    assert grid[rationed].max() == pytest.approx(0.012, rel=1e-6)
    assert grid[1 - rationed].min() == pytest.approx(LOAD_MW, rel=1e-6)
    assert float(ds["ppa_mw"].sel(ppa="hydro", year=2026)) == pytest.approx(LOAD_MW - 0.012, rel=1e-6)


def test_rationing_without_a_cap_in_a_year_leaves_it_alone_and_bad_entries_are_named(profile: Path) -> None:
    changes = {
        "time.representative_days": 2,
        "power.grid.rationing": {"start": "08-15", "end": "08-25", "import_cap_mw": {}},
    }
    run = plan_scenario(tiny(profile, changes))
    assert run.dataset is not None
    assert float(run.dataset["grid_import_mw"].min()) == pytest.approx(LOAD_MW, rel=1e-6)
    with pytest.raises(ScenarioError) as err:
        tiny(profile, {"power.grid.rationing": {"start": "08-25", "end": "08-15", "import_cap_mw": {2031: 1}}})
    paths = {p.path for p in err.value.problems}
    assert {"power.grid.rationing.end", "power.grid.rationing.import_cap_mw.2031"} <= paths
    with pytest.raises(ScenarioError) as err:
        tiny(profile, {"power.grid.rationing": {"start": "8/15", "end": "08-25"}})
    assert "MM-DD" in str(err.value)


def test_rationing_caps_the_cluster_import_not_each_site(profile: Path) -> None:
    # Halls of 10 kW IT and one hall per site: one server at each of two sites, each drawing 11 kW. The
    # 12 kW rationing cap is on what the cluster imports (the grid rations the consumer, not a substation):
    # on the rationed days the sites take 12 kW together and the direct contract the other 10 kW. A cap per
    # site would let each import its 11 kW and no contract would be bought.
    sites = {name: {"max_halls": 1, "grid": {"max_blocks": 1}, "pv_max_mw": 0} for name in ("a", "b")}
    changes = {
        "sites": sites,
        "facility.hall.it_mw": 0.01,
        "power.grid.capex_cny_per_block": 1000,
        "time.representative_days": 2,
        "power.grid.rationing": {"start": "08-15", "end": "08-25", "import_cap_mw": {2026: 0.012}},
        "power.ppa": _ppa(energy_cny_per_kwh=2.0, delivery="direct"),
    }
    run = plan_scenario(tiny(profile, changes))
    ds = run.dataset
    assert ds is not None
    assert ds["servers"].sum(["accelerator", "cooling"]).sel(year=2026).values.tolist() == [1, 1]
    rationed = int(np.flatnonzero(ds["day_weight"].values == 11)[0])
    grid = ds["grid_import_mw"].sel(year=2026, day=ds["day"].values[rationed])
    assert float(grid.sum("site").max()) == pytest.approx(0.012, rel=1e-6)
    assert float(ds["ppa_mw"].sel(ppa="hydro", year=2026)) == pytest.approx(LOAD_MW - 0.012, rel=1e-6)


def test_too_few_representative_days_for_the_rationing_days_is_an_input_error(profile: Path) -> None:
    # the rationing days are a representative day of their own: one day in all leaves no typical day (it was a
    # ValueError from the day selection, a traceback, before the check)
    rationing = {"start": "08-15", "end": "08-25", "import_cap_mw": {2026: 0.012}}
    with pytest.raises(ScenarioError) as err:
        tiny(profile, {"time.representative_days": 1, "power.grid.rationing": rationing})
    (problem,) = [p for p in err.value.problems if p.path == "time.representative_days"]
    assert "rationing days" in problem.message
    assert tiny(profile, {"time.representative_days": 2, "power.grid.rationing": rationing}) is not None
