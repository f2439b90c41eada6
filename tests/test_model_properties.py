"""Properties of optimal plans on tiny instances (``tests/tiny.py``).

* a tighter policy limit never lowers the optimal cost (PUE cap, domestic share, green share),
  and neither does more demand or a tighter purchase cap;
* multiplying every price and cost by k multiplies the objective by k and leaves the plan;
* a policy combination that cannot hold gives status "infeasible" and a diagnosis that names
  the limits in words.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from tiny import tiny_data, write_profile

from planner.model import build_model
from planner.pipeline import PlanRun, plan_scenario
from planner.scenario import scenario_from_dict
from planner.solver.highs import SolveOptions
from planner.solver.solve import solve

OPTIONS = SolveOptions(time_limit_s=60, mip_gap=1e-9)
ALL_MONTHS = list(range(1, 13))


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny profile with a daily shape: warm afternoons, midday PV, hydro less available at night."""
    temp = [12.0] * 10 + [28.0] * 8 + [12.0] * 6  # air above its free-cooling band 10-18 h
    pv = [0.0] * 7 + [0.3, 0.6, 0.8, 0.9, 0.9, 0.8, 0.6, 0.3] + [0.0] * 9
    hydro = [0.6] * 6 + [1.0] * 18
    shape = [0.6] * 8 + [1.0] * 16
    return write_profile(
        tmp_path_factory.mktemp("props") / "profile.csv",
        dry_bulb_c=temp,
        wet_bulb_c=[t - 3 for t in temp],
        pv_cf=pv,
        hydro_availability=hydro,
        inference_shape=shape,
    )


def set_key(data: dict[str, Any], dotted: str, value: Any) -> None:
    node = data
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def rich_data(profile: Path, **changes: Any) -> dict[str, Any]:
    """The tiny scenario with two server types, two cooling technologies, a PPA, PV, a battery
    and a two-price tariff; ``changes`` are dotted keys (``__`` stands for ``.``)."""
    data = tiny_data(profile)
    data["demand"]["inference"]["peak_tokens_per_s"] = 8000
    data["accelerators"]["gpu"]["cooling"] = ["air", "dlc"]
    data["accelerators"]["dom"] = {
        **copy.deepcopy(data["accelerators"]["gpu"]),
        "domestic": True,
        "capex_cny": 1.4e6,
        "tokens_per_s": 900,
        "pflops_per_server": 0.8,
        "full_kw": 9,
        "idle_kw": 3,
        "cooling": ["air", "dlc"],
    }
    data["cooling"]["air"].update(
        {"free_cooling_below_c": 18, "mechanical_above_c": 26, "cop_rated": 4, "fans_pumps_kw_per_kw": 0.15}
    )
    data["cooling"]["dlc"] = {
        **copy.deepcopy(data["cooling"]["air"]),
        "capex_cny_per_rack": 2.5e5,
        "fans_pumps_kw_per_kw": 0.05,
        "free_cooling_below_c": 40,
        "mechanical_above_c": 45,
    }
    data["cooling"]["air"]["plant"]["capex_cny_per_unit"] = 2e5
    data["cooling"]["dlc"]["plant"]["capex_cny_per_unit"] = 1e5
    data["power"]["grid"]["tariff"]["seasons"] = [
        {"name": "all", "months": ALL_MONTHS, "valley": ["0-7"], "peak": ["17-21"]}
    ]
    data["power"]["ppa"] = {
        "hydro": {
            "availability_column": "hydro_availability",
            "energy_cny_per_kwh": 0.55,
            "capacity_cny_per_kw_year": 20,
            "max_mw": 0.2,
        },
    }
    data["power"]["pv"].update({"capex_cny_per_kw": 800, "max_mw": 0.05})
    data["power"]["battery"].update({"max_mwh": 0.1, "max_mw": 0.05})
    data["power"]["green_certificates"] = {"price_cny_per_mwh": 30.0, "max_share": 0.25}
    data["power"]["generators"].update({"unit_mw": 0.05, "redundancy": 1, "critical_fraction": 0.5})
    for key, value in changes.items():
        set_key(data, key.replace("__", "."), value)
    return data


def solve_data(data: dict[str, Any]) -> PlanRun:
    return plan_scenario(scenario_from_dict(data), OPTIONS, shadow_prices=False)


def optimal_cost(data: dict[str, Any]) -> float:
    """The optimal NPV [CNY] (model and solver only: no results Dataset, to keep the loops quick)."""
    outcome = solve(build_model(scenario_from_dict(data)), OPTIONS, shadow_prices=False)
    assert outcome.status == "optimal", outcome.diagnosis
    return outcome.objective * 1e6


def assert_non_decreasing(costs: list[float], labels: list[Any]) -> None:
    assert len(costs) == len(labels)
    for i in range(1, len(costs)):
        a, ca, b, cb = labels[i - 1], costs[i - 1], labels[i], costs[i]
        assert cb >= ca * (1 - 1e-9), f"cost fell from {ca:,.2f} ({a}) to {cb:,.2f} ({b})"


# --------------------------------------------------------------------------- monotone in the limits


def test_tighter_pue_cap_never_lowers_cost(profile: Path) -> None:
    caps: list[Any] = [None, 1.2, 1.12, 1.08]
    costs = []
    for cap in caps:
        data = rich_data(profile)
        if cap is not None:
            data["policy"] = {"pue_max": cap}
        costs.append(optimal_cost(data))
    assert_non_decreasing(costs, caps)
    assert costs[-1] > costs[0]  # the tightest cap does bite


def test_higher_domestic_share_never_lowers_cost(profile: Path) -> None:
    shares = [0.0, 0.4, 0.8, 1.0]
    costs = [optimal_cost(rich_data(profile, policy__domestic_compute_share_min=s)) for s in shares]
    assert_non_decreasing(costs, shares)
    assert costs[-1] > costs[0]


def test_higher_green_share_never_lowers_cost(profile: Path) -> None:
    shares = [0.0, 0.3, 0.6, 0.8]
    costs = [optimal_cost(rich_data(profile, policy__green_share_min=s)) for s in shares]
    assert_non_decreasing(costs, shares)
    assert costs[-1] > costs[0]


def test_more_demand_never_lowers_cost(profile: Path) -> None:
    demands = [0, 4000, 8000, 30_000]
    costs = [optimal_cost(rich_data(profile, demand__inference__peak_tokens_per_s=r)) for r in demands]
    assert_non_decreasing(costs, demands)
    assert costs[-1] > costs[0]


def test_tighter_purchase_cap_never_lowers_cost(profile: Path) -> None:
    caps = [100, 4, 0]  # new gpu servers a year
    costs = [optimal_cost(rich_data(profile, accelerators__gpu__max_new_per_year=c)) for c in caps]
    assert_non_decreasing(costs, caps)


# --------------------------------------------------------------------------- scaling every money value


def money_keys(node: Any, path: str = "") -> list[str]:
    """Dotted paths of every money value: keys that name a currency (``cny``)."""
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            sub = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and "cny" in key.lower() and key != "currency":
                out.append(sub)
            else:
                out += money_keys(value, sub)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += money_keys(value, f"{path}[{i}]")
    return out


def scale_money(data: dict[str, Any], k: float) -> dict[str, Any]:
    """A copy of a scenario dict with every price, cost and penalty multiplied by ``k``."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if isinstance(key, str) and "cny" in key.lower() and key != "currency":
                    out[key] = _times(value, k)
                else:
                    out[key] = walk(value)
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(copy.deepcopy(data))


def _times(value: Any, k: float) -> Any:
    if isinstance(value, dict):  # {year: value}
        return {y: _times(v, k) for y, v in value.items()}
    assert isinstance(value, int | float) and not isinstance(value, bool), value
    return value * k


def test_money_keys_cover_every_cost(profile: Path) -> None:
    data = rich_data(profile, policy__carbon_price_cny_per_t=50.0)
    data["power"]["grid"]["tariff"]["season_adders"] = [{"months": [1, 2], "cny_per_kwh": 0.05}]
    keys = set(money_keys(data))
    expected = {
        "demand.shortfall_penalty.training_cny_per_eflop",
        "demand.shortfall_penalty.inference_cny_per_million_tokens",
        "demand.shortfall_penalty.reserve_cny_per_token_per_s",
        "accelerators.gpu.capex_cny",
        "accelerators.dom.capex_cny",
        "cooling.air.capex_cny_per_rack",
        "cooling.dlc.capex_cny_per_rack",
        "cooling.air.plant.capex_cny_per_unit",
        "cooling.dlc.plant.capex_cny_per_unit",
        "facility.hall.capex_cny",
        "power.grid.capex_cny_per_block",
        "power.grid.tariff.flat_cny_per_kwh",
        "power.grid.tariff.non_floating_cny_per_kwh",
        "power.grid.tariff.capacity_cny_per_kva_month",
        "power.grid.tariff.season_adders[0].cny_per_kwh",
        "power.ppa.hydro.energy_cny_per_kwh",
        "power.ppa.hydro.capacity_cny_per_kw_year",
        "power.pv.capex_cny_per_kw",
        "power.battery.capex_cny_per_kwh",
        "power.battery.capex_cny_per_kw",
        "power.generators.capex_cny_per_unit",
        "power.green_certificates.price_cny_per_mwh",
        "policy.carbon_price_cny_per_t",
    }
    assert expected <= keys, expected - keys


@pytest.fixture(scope="module")
def scaling_base(profile: Path) -> tuple[dict[str, Any], PlanRun]:
    base = rich_data(
        profile,
        policy__green_share_min=0.5,
        policy__pue_max=1.2,
        policy__carbon_price_cny_per_t=40.0,
        power__grid__tariff__non_floating_cny_per_kwh=0.1,
        power__grid__tariff__capacity_cny_per_kva_month=0.5,
        finance__discount_rate=0.05,
        accelerators__gpu__lifetime_years=3,
        accelerators__gpu__fixed_om_fraction=0.04,
        years=[2026, 2027],
    )
    return base, solve_data(base)


@pytest.mark.parametrize("k", [0.25, 10.0])
def test_scaling_all_money_scales_objective(scaling_base: tuple[dict[str, Any], PlanRun], k: float) -> None:
    base, run0 = scaling_base
    run1 = solve_data(scale_money(base, k))
    assert run0.outcome.status == run1.outcome.status == "optimal"
    ds0, ds1 = run0.dataset, run1.dataset
    assert float(ds1.npv_cny) == pytest.approx(k * float(ds0.npv_cny), rel=1e-6)
    assert run1.outcome.objective == pytest.approx(k * run0.outcome.objective, rel=1e-6)
    # the instance uses what is being scaled
    for component in ("servers_capital", "grid_energy", "ppa_energy", "carbon", "grid_fixed_charge"):
        assert float(ds0.cost.sel(component=component).sum()) > 0, component
    # the same plan is optimal (compare stocks; ties between equal-cost plans are not expected here)
    for name in ("servers", "racks", "halls"):
        assert float(ds1[name].sum()) == pytest.approx(float(ds0[name].sum()), abs=1e-6), name


# --------------------------------------------------------------------------- infeasible policies


def test_existing_air_fleet_above_pue_cap_is_infeasible(profile: Path) -> None:
    # 4 existing air-cooled gpu servers (built 2025, 5-year life) must be kept and draw 10 kW
    # each; air cooling alone gives PUE >= 1.15 (fans and pumps). DLC could reach 1.1 (so the cap
    # passes validation), but no new server may be bought to dilute the PUE, so the cap cannot hold.
    data = rich_data(
        profile,
        accelerators__gpu__lifetime_years=5,
        accelerators__gpu__max_new_per_year=0,
        accelerators__dom__max_new_per_year=0,
        policy__pue_max=1.1,
    )
    data["existing"] = {"servers": [{"accelerator": "gpu", "cooling": "air", "count": 4, "year_built": 2025}]}
    run = solve_data(data)
    assert run.outcome.status == "infeasible"
    assert run.dataset is None
    text = "\n".join(run.outcome.diagnosis)
    assert "PUE cap" in text, text
    assert "1.1" in text and "2026" in text, text


def test_full_domestic_share_without_domestic_chip_is_infeasible(profile: Path) -> None:
    # A 100 % domestic compute share, an installed-compute target of 1 PFLOPS, and no domestic
    # chip that may be bought.
    data = rich_data(
        profile,
        policy__domestic_compute_share_min=1.0,
        policy__installed_eflops_min=0.001,
        accelerators__dom__max_new_per_year=0,
    )
    run = solve_data(data)
    assert run.outcome.status == "infeasible"
    text = "\n".join(run.outcome.diagnosis)
    assert "domestic compute share" in text, text
    assert "installed-compute target" in text, text


def test_green_share_beyond_supply_is_infeasible(profile: Path) -> None:
    # Green share 100 %, certificates at most 25 % of it, so PPA + PV must give 75 % of the
    # facility energy; PV is capped at 0.05 MWp and the hydro PPA at 0.2 MW.  An installed-compute
    # target of 200 PFLOPS means >= 200 gpu (10 kW idle) or 250 dom (3 kW idle) servers, drawing
    # >= 0.75 MW even when idle (shortfall cannot empty the site), far beyond the green supply.
    data = rich_data(profile, policy__green_share_min=1.0, policy__installed_eflops_min=0.2)
    run = solve_data(data)
    assert run.outcome.status == "infeasible"
    text = "\n".join(run.outcome.diagnosis)
    assert "green-power share" in text, text
