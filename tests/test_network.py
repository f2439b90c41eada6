"""Demand regions with latency classes, and the national network's hubs (lease and sell): tiny instances
from ``tests/tiny.py`` with optima worked out by hand.

Recap of the tiny numbers used below (discount rate 0; 1-year lives unless a test says otherwise):

* server ``gpu``: 1 PFLOPS, 1,000 tokens/s, MFU 1, availability 1, 10 kW full = idle, 1 U, 1,000,000 CNY;
* air racks: 2 servers per rack (20 kW), 100,000 CNY; kappa 0.1 below 50 °C (the profile is 15 °C);
* plant units of 1 MW (IT heat) for 1,000,000 CNY; halls of 1 MW and 100 slots for 10,000,000 CNY;
* grid blocks of 10 MVA for 1,000,000 CNY; energy 0.5 CNY/kWh: 1 MW for a year costs
  8,760 h x 500 CNY/MWh = 4,380,000 CNY; 1 PFLOPS held for a year is 8,760 PFLOPS·h.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner
from conftest import load_default_yaml_data, write_scenario
from tiny import tiny, write_profile

from planner.cli import cli
from planner.model import build_model
from planner.model.stages import first_stage_mask
from planner.pipeline import plan_scenario
from planner.results.sites import cluster_view
from planner.scenario import ScenarioError
from planner.solver.highs import SolveOptions, compile_model

OPTIONS = SolveOptions(time_limit_s=60, mip_gap=1e-9)
YEAR_OF_ENERGY = 8760 * 500  #: CNY for 1 MW over a year at 0.5 CNY/kWh
HOURS = 8760


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_profile(tmp_path_factory.mktemp("network") / "profile.csv")


def solve(profile: Path, changes: dict[str, Any]) -> xr.Dataset:
    run = plan_scenario(tiny(profile, changes), OPTIONS)
    assert run.outcome.status == "optimal", run.outcome.diagnosis
    assert run.dataset is not None
    return run.dataset


def site(**over: Any) -> dict[str, Any]:
    """A site with room for 10 halls and 10 grid blocks (no PV)."""
    return {"max_halls": 10, "grid": {"max_blocks": 10}, "pv_max_mw": 0, **over}


def lease(price: float, max_pflops: float, *workloads: str) -> dict[str, Any]:
    """A hub's lease of ``gpu`` servers."""
    return {
        "price_cny_per_pflops_hour": price,
        "max_pflops": max_pflops,
        "accelerator": "gpu",
        "workloads": list(workloads),
    }


# ---------------------------------------------------------------------------------------------- regions

#: Site a is cool (kappa 0.1), b warm (15 K warmer: 30 °C, all mechanical at COP 5, kappa 0.1 + 1/5 = 0.3).
#: Demand 200,000 tokens/s = 200 servers. Grid blocks cost 100,000 CNY here, so that a second block costs
#: less than the extra cooling of putting everything at the warm site (0.2 MW -> 876,000 a year).
TWO_SITES = {
    "demand.inference.peak_tokens_per_s": 200_000,
    "power.grid.capex_cny_per_block": 1e5,
    "cooling.air.free_cooling_below_c": 20,
    "cooling.air.mechanical_above_c": 30,
    "sites": {"a": site(), "b": site(climate={"dry_bulb_offset_k": 15})},
}


def test_without_regions_every_server_goes_to_the_cheap_site(profile: Path) -> None:
    # All 200 servers at a: servers 200 M + racks 100 x 0.1 M + halls 2 x 10 M + plant 2 x 1 M + 1 block
    # (2.2 MW) 0.1 M = 232.1 M; energy 2.2 MW x 4,380,000 = 9,636,000. NPV 241,736,000.
    ds = solve(profile, TWO_SITES)
    assert float(ds.npv_cny) == pytest.approx(232_100_000 + 2.2 * YEAR_OF_ENERGY, rel=1e-9)
    assert ds.servers.sel(site="a").sum().item() == 200 and ds.servers.sel(site="b").sum().item() == 0
    assert ds.region.values.tolist() == ["all"]


def test_a_region_whose_latency_class_excludes_the_cheap_site_is_served_by_the_expensive_one(profile: Path) -> None:
    # Region "metro" (half the demand) may only be served at b, "far" (the other half) anywhere.
    # metro: 100 servers at b: 100 M + 5 M racks + 1 hall 10 M + 1 plant unit 1 M + 1 block 0.1 M = 116.1 M,
    #   1 MW IT x 1.3 = 1.3 MW -> 1.3 x 4,380,000 = 5,694,000.
    # far: 100 servers at a, the cheaper site: 116.1 M, 1.1 MW -> 4,818,000 (at b too it would save the
    #   block, 100,000, but cost 0.2 MW x 4,380,000 = 876,000 more energy).
    # NPV = 232,200,000 + 10,512,000 = 242,712,000: 976,000 more than without regions (a second block,
    # 100,000, and 0.2 MW more cooling, 876,000).
    regions = {"metro": {"share": 0.5, "sites": ["b"]}, "far": {"share": 0.5, "sites": ["a", "b"]}}
    ds = solve(profile, {**TWO_SITES, "demand.inference.regions": regions})
    assert float(ds.npv_cny) == pytest.approx(232_200_000 + 2.4 * YEAR_OF_ENERGY, rel=1e-9)
    assert ds.servers.sel(site="a").sum().item() == 100 and ds.servers.sel(site="b").sum().item() == 100
    routed = ds.inference_routed_tokens_per_s
    np.testing.assert_allclose(routed.sel(site="a", region="metro").values, 0.0, atol=1e-9)
    np.testing.assert_allclose(routed.sel(site="b", region="metro").values, 100_000, rtol=1e-9)
    np.testing.assert_allclose(routed.sel(site="a", region="far").values, 100_000, rtol=1e-9)
    np.testing.assert_allclose(ds.inference_unserved_by_region.values, 0.0, atol=1e-6)
    assert ds.region_site.sel(region="metro").values.tolist() == [0, 1]
    # the cluster view adds the sites up: what each region got from the cluster's own servers
    total = cluster_view(ds)
    np.testing.assert_allclose(total.inference_routed_tokens_per_s.sel(region="metro").values, 100_000, rtol=1e-9)
    assert "region_site" not in total


def test_one_explicit_region_over_every_site_gives_the_plan_without_regions(profile: Path) -> None:
    # The routing rows only split what the sites serve: one region with every site is the implicit one.
    one = solve(profile, {**TWO_SITES, "demand.inference.regions": {"all": {"share": 1, "sites": ["a", "b"]}}})
    implicit = solve(profile, TWO_SITES)
    assert float(one.npv_cny) == pytest.approx(float(implicit.npv_cny), rel=1e-12)
    np.testing.assert_array_equal(one.servers.values, implicit.servers.values)
    xr.testing.assert_allclose(one.inference_routed_tokens_per_s, implicit.inference_routed_tokens_per_s)


def test_a_region_only_a_hub_may_serve_is_served_on_leased_compute(profile: Path) -> None:
    # 100,000 tokens/s: "local" (half) at the one site, "remote" (half) only at hub h, whose lease takes
    # inference at 50 CNY/PFLOPS·h. local: 50 servers 50 M + 25 racks 2.5 M + 1 hall 10 M + 1 plant unit 1 M
    # + 1 block 1 M = 64.5 M, 0.55 MW -> 2,409,000. remote: 50,000 tokens/s = 50 PFLOPS of gpu leased all
    # year: 50 x 8,760 x 50 = 21,900,000. NPV 88,809,000. The leased PFLOPS are not installed compute.
    changes = {
        "demand.inference.peak_tokens_per_s": 100_000,
        "demand.inference.regions": {
            "local": {"share": 0.5, "sites": ["main"]},
            "remote": {"share": 0.5, "sites": ["h"]},
        },
        "network.hubs": {"h": {"lease": lease(50, 100, "inference")}},
    }
    ds = solve(profile, changes)
    assert float(ds.npv_cny) == pytest.approx(64_500_000 + 0.55 * YEAR_OF_ENERGY + 50 * HOURS * 50, rel=1e-9)
    assert ds.lease_pflops.sel(hub="h").item() == pytest.approx(50)
    np.testing.assert_allclose(ds.inference_leased_tokens_per_s.sel(hub="h", region="remote").values, 50_000)
    assert ds.installed_pflops.item() == 50
    assert float(ds.cost.sel(component="network_lease").item()) == pytest.approx(21_900_000, rel=1e-12)
    assert float(ds.lease_cost_cny.item()) == pytest.approx(21_900_000, rel=1e-12)


# ---------------------------------------------------------------------------------------------- leasing

#: 50 PFLOPS of training for the whole year (50 x 1e15 x 3,600 x 8,760 FLOP) and 50,000 tokens/s.
TRAINING_AND_INFERENCE = {
    "demand.training.flop": 50 * 1e15 * 3600 * HOURS,
    "demand.inference.peak_tokens_per_s": 50_000,
}


def test_leasing_cheaper_than_building_takes_the_training_and_not_the_inference(profile: Path) -> None:
    # Hub g leases gpu compute at 50 CNY/PFLOPS·h for training only.
    # Building for training would cost 50 servers 50 M + 25 racks 2.5 M (the hall, plant unit and block
    #   built for inference have room: 100 servers, 1 MW, 10 MVA) + 0.55 MW of energy 2,409,000 = 54,909,000;
    # leasing 50 PFLOPS all year costs 50 x 8,760 x 50 = 21,900,000: training is leased.
    # Inference cannot be leased there: 50 servers 50 M + 2.5 M racks + 10 M hall + 1 M plant + 1 M block
    #   = 64.5 M and 2,409,000 of energy.
    # NPV = 66,909,000 + 21,900,000 = 88,809,000.
    ds = solve(profile, {**TRAINING_AND_INFERENCE, "network.hubs": {"g": {"lease": lease(50, 100, "training")}}})
    assert float(ds.npv_cny) == pytest.approx(66_909_000 + 21_900_000, rel=1e-9)
    assert ds.lease_pflops.sel(hub="g").item() == pytest.approx(50)
    np.testing.assert_allclose(ds.lease_training_pflops.sel(hub="g").values, 50, rtol=1e-9)
    assert float(ds.servers.sum()) == 50 and float(ds.training_servers.sum()) == 0
    # leased compute is none of the cluster's: installed PFLOPS and the IT power are those of its 50 servers
    assert ds.installed_pflops.item() == 50
    np.testing.assert_allclose(ds.it_power_mw.sum(["site", "cooling"]).values, 0.5)
    assert ds.pue.item() == pytest.approx(1.1)
    assert float(ds.training_unserved_flop.item()) == pytest.approx(0, abs=1e9)
    # the lease is paid in cash in its year, beside the capital spent (1-year assets: 64.5 M) and the energy
    assert float(ds.capital_spent_cny.sum()) == pytest.approx(64_500_000, rel=1e-12)
    assert float(ds.cash_flow_cny.item()) == pytest.approx(64_500_000 + 2_409_000 + 21_900_000, rel=1e-9)
    # the cost of the cluster's own compute leaves the lease out: 66,909,000 over its 50 servers' busy
    # PFLOP-hours (50 x 8,760 = 438,000, all serving inference), not 88,809,000 over them
    assert ds.cost_per_pflop_hour.item() == pytest.approx(66_909_000 / 438_000, rel=1e-9)


def test_leasing_dearer_than_building_is_not_done(profile: Path) -> None:
    # Leasing 50 PFLOPS for a year costs 438,000 x price; building them 54,909,000 (above): break-even at
    # 125.4 CNY/PFLOPS·h. At 130 (56,940,000) building wins: 100 servers, 50 racks, 1 hall, 1 plant unit,
    # 1 block = 117 M, 1.1 MW -> 4,818,000. NPV 121,818,000.
    ds = solve(profile, {**TRAINING_AND_INFERENCE, "network.hubs": {"g": {"lease": lease(130, 100, "training")}}})
    assert float(ds.npv_cny) == pytest.approx(117_000_000 + 1.1 * YEAR_OF_ENERGY, rel=1e-9)
    assert float(ds.lease_pflops.sum()) == pytest.approx(0, abs=1e-9)


def test_a_lease_cap_leaves_the_rest_to_building(profile: Path) -> None:
    # At 50 CNY/PFLOPS·h but at most 20 PFLOPS: 20 leased (8,760,000), 30 servers built for training
    # (30 M + 15 racks 1.5 M; energy 0.33 MW -> 1,445,400) beside the 64.5 M + 2,409,000 for inference.
    ds = solve(profile, {**TRAINING_AND_INFERENCE, "network.hubs": {"g": {"lease": lease(50, 20, "training")}}})
    expected = 64_500_000 + 2_409_000 + 20 * HOURS * 50 + 31_500_000 + 0.33 * YEAR_OF_ENERGY
    assert float(ds.npv_cny) == pytest.approx(expected, rel=1e-9)
    assert ds.lease_pflops.sel(hub="g").item() == pytest.approx(20)
    assert float(ds.servers.sum()) == 80


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ({}, {"network.hubs": {"g": {"lease": lease(50, 100, "training", "inference")}}}),
        (
            {"demand.inference.regions": {"r": {"share": 1.0, "sites": ["main"]}}},
            {
                "demand.inference.regions": {"r": {"share": 1.0, "sites": ["main", "g"]}},
                "network.hubs": {"g": {"lease": lease(20, 100, "inference")}},
            },
        ),
    ],
    ids=["a_hub_to_lease_from", "a_hub_in_the_class"],
)
def test_more_options_never_cost_more(profile: Path, before: dict[str, Any], after: dict[str, Any]) -> None:
    # A hub to lease from, or a hub added to a region's latency class, only adds options: the NPV cannot
    # rise (and here, with leasing cheaper than building, it falls).
    without = solve(profile, {**TRAINING_AND_INFERENCE, **before})
    with_hub = solve(profile, {**TRAINING_AND_INFERENCE, **after})
    assert float(with_hub.npv_cny) < float(without.npv_cny)


# ---------------------------------------------------------------------------------------------- selling

#: 100 existing servers (sunk: no capex, no O&M; 5-year lives so that they serve 2026) in 50 racks, one
#: hall, one plant unit and one block, all existing; idle at 5 kW, 10 kW at full load. Demand: 50 servers.
#: Without a sale: IT 100 x 5 kW + 50 x 5 kW = 0.75 MW, x 1.1 = 0.825 MW -> 3,613,500 a year.
#: A server sold runs at full load: 5 kW more IT, 5.5 kW more facility, 2.75 CNY an hour at 0.5 CNY/kWh
#: = 2.75 CNY per PFLOPS·h of marginal running cost.
SPARE = {
    "demand.inference.peak_tokens_per_s": 50_000,
    "accelerators.gpu.idle_kw": 5,
    "accelerators.gpu.lifetime_years": 5,
    "cooling.air.lifetime_years": 5,
    "cooling.air.plant.lifetime_years": 5,
    "facility.hall.lifetime_years": 5,
    "power.grid.lifetime_years": 5,
    "existing": {
        "servers": [{"accelerator": "gpu", "cooling": "air", "count": 100, "year_built": 2025}],
        "racks": [{"cooling": "air", "count": 50, "year_built": 2025}],
        "halls": [{"count": 1, "year_built": 2025}],
        "grid_blocks": [{"count": 1, "year_built": 2025}],
        "cooling_units": [{"cooling": "air", "count": 1, "year_built": 2025}],
    },
}


@pytest.mark.parametrize(
    ("price", "most", "sold"),
    [(10.0, 80.0, 50.0), (10.0, 30.0, 30.0), (2.0, 80.0, 0.0)],
    ids=["spare_capacity", "buyer_limit", "below_running_cost"],
)
def test_selling_spare_capacity_when_the_price_beats_the_running_cost(
    profile: Path, price: float, most: float, sold: float
) -> None:
    # At 10 CNY/PFLOPS·h (> 2.75) the 50 spare servers are sold (at most the buyer's limit); at 2 (< 2.75)
    # none. NPV = 3,613,500 - sold x 8,760 x (price - 2.75): at 10 and 50 PFLOPS, 3,613,500 - 3,175,500 =
    # 438,000 (revenue 4,380,000 less 1,204,500 more energy).
    ds = solve(
        profile, {**SPARE, "network.hubs": {"q": {"sell": {"price_cny_per_pflops_hour": price, "max_pflops": most}}}}
    )
    assert float(ds.npv_cny) == pytest.approx(3_613_500 - sold * HOURS * (price - 2.75), rel=1e-9, abs=1e-3)
    assert ds.sold_pflops.sel(hub="q").item() == pytest.approx(sold, abs=1e-9)
    assert float(ds.servers_sold.sum()) == pytest.approx(sold, abs=1e-9)
    assert float(ds.sale_revenue_cny.item()) == pytest.approx(sold * HOURS * price, abs=1e-3)
    # sold servers draw power here and stay installed compute of the cluster
    np.testing.assert_allclose(ds.it_power_mw.sum(["site", "cooling"]).values, 0.75 + sold * 0.005)
    assert ds.installed_pflops.item() == 100
    # the cost of the cluster's own compute is before the sale's revenue: NPV + revenue = 3,613,500 +
    # 2.75 x sold x 8,760 over (50 serving inference + sold) x 8,760 busy PFLOP-hours (at 10: 5.5 CNY)
    own = (3_613_500 + 2.75 * sold * HOURS) / ((50 + sold) * HOURS)
    assert ds.cost_per_pflop_hour.item() == pytest.approx(own, rel=1e-9)


def test_sold_servers_are_not_inference_reserve(profile: Path) -> None:
    # With a 20 % reserve the cluster needs 60 servers' worth of capacity for 50,000 tokens/s: only 40
    # of the 100 can be sold, 40 x 8,760 x 7.25 = 2,540,400 off the NPV.
    ds = solve(
        profile,
        {
            **SPARE,
            "demand.inference.reserve_margin": 0.2,
            "network.hubs": {"q": {"sell": {"price_cny_per_pflops_hour": 10, "max_pflops": 80}}},
        },
    )
    assert ds.sold_pflops.sel(hub="q").item() == pytest.approx(40)
    assert float(ds.npv_cny) == pytest.approx(3_613_500 - 40 * HOURS * 7.25, rel=1e-9)


# ---------------------------------------------------------------------------------------------- bad input


def problems(profile: Path, changes: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ScenarioError) as info:
        tiny(profile, changes)
    return {p.path: p.message for p in info.value.problems}


def test_a_region_naming_an_unknown_site_names_both(profile: Path) -> None:
    regions = {"metro": {"share": 1.0, "sites": ["b", "aa"]}}
    found = problems(profile, {"sites": {"a": site(), "b": site()}, "demand.inference.regions": regions})
    message = found["demand.inference.regions.metro.sites[1]"]
    assert "region 'metro'" in message and "'aa'" in message and "did you mean 'a'" in message


def test_a_region_names_each_site_once(profile: Path) -> None:
    found = problems(profile, {"demand.inference.regions": {"metro": {"share": 1.0, "sites": ["main", "main"]}}})
    assert "names 'main' twice" in found["demand.inference.regions.metro.sites[1]"]


def test_region_shares_must_add_up_to_one(profile: Path) -> None:
    regions = {"metro": {"share": 0.5, "sites": ["main"]}, "far": {"share": 0.4, "sites": ["main"]}}
    found = problems(profile, {"demand.inference.regions": regions})
    assert "add up to 0.9" in found["demand.inference.regions"]


def test_a_region_may_name_only_hubs_that_lease_inference(profile: Path) -> None:
    regions = {"far": {"share": 1.0, "sites": ["main", "g"]}}
    found = problems(
        profile, {"demand.inference.regions": regions, "network.hubs": {"g": {"lease": lease(1, 1, "training")}}}
    )
    assert "leases no inference" in found["demand.inference.regions.far.sites[1]"]


def test_hub_errors_name_their_path(profile: Path) -> None:
    found = problems(
        profile,
        {
            "network.hubs": {
                "g": {
                    "lease": {**lease(1, 1, "training"), "accelerator": "gpx", "price_cny_per_pflops_hour": "1 CNY/kWh"}
                }
            }
        },
    )
    assert "network.hubs.g.lease.price_cny_per_pflops_hour" in found
    found = problems(profile, {"network.hubs": {"g": {"lease": {**lease(1, 1, "batch"), "accelerator": "gpx"}}}})
    assert "network.hubs.g.lease.workloads[0]" in found
    found = problems(profile, {"network.hubs": {"g": {"lease": {**lease(1, 1, "training"), "accelerator": "gpx"}}}})
    assert "did you mean 'gpu'" in found["network.hubs.g.lease.accelerator"]
    found = problems(profile, {"network.hubs": {"main": {"sell": {"price_cny_per_pflops_hour": 1, "max_pflops": 1}}}})
    assert "also a site" in found["network.hubs.main"]


def test_plan_validate_lists_the_regions_and_hubs(tmp_path: Path) -> None:
    data = load_default_yaml_data()
    data["demand"]["inference"]["regions"] = {"metro": {"share": 1.0, "sites": ["main", "cq"]}}
    lease = {"price_cny_per_pflops_hour": "13 CNY/PFLOPS/h", "max_pflops": 500, "accelerator": "h200"}
    data["network"] = {"hubs": {"cq": {"lease": {**lease, "workloads": ["inference"]}}}}
    result = CliRunner().invoke(cli, ["validate", str(write_scenario(tmp_path, data))])
    assert result.exit_code == 0, result.output
    assert "Demand regions" in result.output and "main, cq" in result.output
    assert "Hubs" in result.output and "h200" in result.output


def test_plan_validate_exits_2_naming_the_region_and_the_unknown_site(tmp_path: Path) -> None:
    data = load_default_yaml_data()
    data["demand"]["inference"]["regions"] = {"chengdu_metro": {"share": 1.0, "sites": ["shuangliu"]}}
    result = CliRunner().invoke(cli, ["validate", str(write_scenario(tmp_path, data))])
    assert result.exit_code == 2, result.output
    text = result.output + result.stderr
    assert "demand.inference.regions.chengdu_metro.sites[0]" in text and "'shuangliu'" in text
    assert "Traceback" not in text


# ---------------------------------------------------------------------------------------------- policy


def test_leased_compute_does_not_count_toward_the_installed_compute_target(profile: Path) -> None:
    # The leasing case above (training leased at 50 CNY/PFLOPS·h, NPV 88,809,000) with a target of 0.1
    # EFLOPS installed: the cluster must own 100 servers; once bought (idle = full power, so running them
    # costs nothing more) they also do the training and nothing is leased: 117 M + 1.1 MW x 4,380,000 =
    # 121,818,000. The target costs 33,009,000 because leased PFLOPS are not the cluster's.
    changes = {
        **TRAINING_AND_INFERENCE,
        "policy.installed_eflops_min": 0.1,
        "network.hubs": {"g": {"lease": lease(50, 100, "training")}},
    }
    ds = solve(profile, changes)
    assert float(ds.npv_cny) == pytest.approx(117_000_000 + 1.1 * YEAR_OF_ENERGY, rel=1e-9)
    assert float(ds.lease_pflops.sum()) == pytest.approx(0, abs=1e-6)
    assert ds.installed_pflops.item() == 100
    # the pricing LP prices the target of a plan with hubs (a number, and how it was obtained)
    assert np.isfinite(ds.shadow_price.sel(limit="installed_eflops_min").item())
    assert "LP dual" in str(ds.shadow_price_method.sel(limit="installed_eflops_min").item())


def test_an_infeasible_plan_with_hubs_is_diagnosed(profile: Path) -> None:
    # Leased compute cannot meet an installed-compute target the land cannot hold (3 halls of servers on 1).
    changes = {
        "policy.installed_eflops_min": 0.3,
        "facility.max_halls": 1,
        "network.hubs": {"g": {"lease": lease(1, 1000, "training", "inference")}},
    }
    run = plan_scenario(tiny(profile, changes), OPTIONS)
    assert run.outcome.status == "infeasible"
    lines = [x.strip().removeprefix("- ") for x in run.outcome.diagnosis]
    assert "the installed-compute target of 0.30 EFLOPS in 2026" in lines


# ---------------------------------------------------------------------------------------------- downstream


def test_a_built_network_model_is_reused_for_new_prices(profile: Path) -> None:
    # A sweep's re-use: the lease and sale prices and caps are parameters; a model built once and updated
    # by index gives the plan a fresh build gives (here: leasing becomes dearer than building).
    from planner.pipeline import ModelCache

    hubs = {
        "g": {"lease": lease(50, 100, "training")},
        "q": {"sell": {"price_cny_per_pflops_hour": 1, "max_pflops": 5}},
    }
    cache = ModelCache()
    first = plan_scenario(tiny(profile, {**TRAINING_AND_INFERENCE, "network.hubs": hubs}), OPTIONS, cache=cache)
    moved = {**TRAINING_AND_INFERENCE, "network.hubs": {**hubs, "g": {"lease": lease(130, 100, "training")}}}
    reused = plan_scenario(tiny(profile, moved), OPTIONS, cache=cache)
    fresh = plan_scenario(tiny(profile, moved), OPTIONS)
    assert reused.model is first.model
    assert reused.dataset is not None and fresh.dataset is not None
    assert float(reused.dataset.npv_cny) == pytest.approx(117_000_000 + 1.1 * YEAR_OF_ENERGY, rel=1e-9)
    assert float(reused.dataset.npv_cny) == pytest.approx(float(fresh.dataset.npv_cny), rel=1e-12)


def test_the_full_year_check_operates_a_plan_with_regions_and_hubs(profile: Path) -> None:
    # The flat profile: every hour of the year is the representative day's, so the plan operated over all
    # 365 days costs what it cost on one (the lease and the regions' routing are re-decided per year).
    from planner.studies.full_year import operate_full_year

    changes = {
        **TRAINING_AND_INFERENCE,
        "demand.inference.regions": {"local": {"share": 1.0, "sites": ["main"]}},
        "network.hubs": {"g": {"lease": lease(50, 100, "training")}},
    }
    run = plan_scenario(tiny(profile, changes), OPTIONS, shadow_prices=False)
    operation = operate_full_year(run)
    assert operation.dataset is not None and operation.dataset.sizes["day"] == 365
    assert float(operation.dataset.npv_cny) == pytest.approx(66_909_000 + 21_900_000, rel=1e-6)
    np.testing.assert_allclose(operation.dataset.lease_pflops.values, 50, rtol=1e-6)


def test_reports_and_the_terminal_show_the_network_flows(profile: Path) -> None:
    from io import StringIO

    from rich.console import Console

    from planner.report import render_report
    from planner.report.export import export_tables
    from planner.report.terminal import print_plan
    from planner.results.io import read_dataset, write_dataset

    changes = {
        **SPARE,
        "demand.inference.regions": {
            "local": {"share": 0.6, "sites": ["main"]},
            "remote": {"share": 0.4, "sites": ["g"]},
        },
        "network.hubs": {
            "g": {"lease": lease(50, 100, "inference")},
            "q": {"sell": {"price_cny_per_pflops_hour": 10, "max_pflops": 30}},
        },
    }
    ds = solve(profile, changes)
    out = StringIO()
    print_plan(ds, Console(file=out, width=200))
    text = out.getvalue()
    assert "leased from g [PFLOPS]" in text and "sold to q [PFLOPS]" in text and "inference served in remote" in text
    html = render_report(ds)
    assert "compute leased from g" in html and "compute sold to q" in html
    assert len(export_tables(ds)["builds"])
    path = write_dataset(ds, Path(str(profile)).parent / "network.nc")
    back = read_dataset(path)
    assert back.hub.values.tolist() == ["g", "q"] and back.region.values.tolist() == ["local", "remote"]
    xr.testing.assert_allclose(back.lease_pflops, ds.lease_pflops)


def test_a_sweep_over_the_lease_price_stacks_the_hub_flows(profile: Path, tmp_path: Path) -> None:
    # The leasing case at 50 and at 130 CNY/PFLOPS·h (break-even 125.4): 50 PFLOPS leased, then none.
    import yaml

    from planner.results.io import read_dataset
    from planner.studies.sweep import run_sweep

    data = tiny(profile, {**TRAINING_AND_INFERENCE, "network.hubs": {"g": {"lease": lease(50, 100, "training")}}})
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(data.model_dump(mode="json")), encoding="utf-8")
    sweep = {
        "name": "lease",
        "base": "tiny.yaml",
        "grid": {"network.hubs.g.lease.price_cny_per_pflops_hour": [50, 130]},
        "shadow_prices": False,
    }
    (tmp_path / "lease.yaml").write_text(yaml.safe_dump(sweep), encoding="utf-8")
    run_sweep(tmp_path / "lease.yaml", workers=1, results_dir=tmp_path / "results", progress=False)
    ds = read_dataset(tmp_path / "results" / "lease.nc")
    leased = ds.lease_pflops.sel(hub="g").squeeze(drop=True)
    np.testing.assert_allclose(leased.values.ravel(), [50, 0], atol=1e-6)
    np.testing.assert_allclose(ds.npv_cny.values.ravel(), [88_809_000, 121_818_000], rtol=1e-9)


def test_a_lease_and_a_sale_are_contracts_decided_in_their_year(profile: Path) -> None:
    """Across futures (planner.model.stages) a year's lease and sale are signed then, like a PPA: first-stage up
    to ``commit_until``; which servers serve the sale, and what the leased compute does each hour, are not."""
    changes = {
        "years": [2026, 2027],
        "network.hubs": {
            "h": {"lease": lease(50.0, 100.0, "training"), "sell": {"price_cny_per_pflops_hour": 10.0, "max_pflops": 5}}
        },
    }
    m = build_model(tiny(profile, changes))
    compiled = compile_model(m)
    chosen = {compiled.columns[j].name for j in np.flatnonzero(first_stage_mask(m, compiled.columns, 2026))}
    assert {"lease_pflops[h,2026]", "sold_pflops[h,2026]"} <= chosen
    assert not {"lease_pflops[h,2027]", "sold_pflops[h,2027]"} & chosen
    assert not any(n.startswith(("servers_sold[", "lease_training[")) for n in chosen)
