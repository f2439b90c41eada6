"""Plans that hold across futures (``plan hedge``): a tiny two-stage instance worked out by hand, the
properties every hedge must have, the futures-file checks and the first-stage rule.

**The instance** (the tiny scenario of tests/tiny.py over 2026-2027, discount rate 0): servers serve
1,000 tokens/s each and live two years. Bought in 2026 a server costs 1.0 M CNY (charged 0.5 M in each
of the two years); bought in 2027 it costs 2.4 M (charged 1.2 M in 2027, its only year in the horizon),
and at most one can be bought then (supply). A missing server-year of inference costs 5 M CNY (158.55
CNY per million tokens x 31,536 M tokens). Everything else (racks, halls, cooling, grid, energy) costs
next to nothing. Inference demand is 1,000 tokens/s in 2026 (one server) and, in 2027,

* future ``low`` (probability 0.3): 1,000 tokens/s; future ``high`` (0.7): 3,000 tokens/s.

The 2026 purchase ``n`` is decided now (``commit_until: 2026``); 2027 is recourse. Cost by n [M CNY]:

====  ======  ====================================  ====================
n     low     high                                  expected (0.3 / 0.7)
====  ======  ====================================  ====================
1     1.0     1 + 1.2 (one late) + 5 (one missing)  0.3 + 5.04 = 5.34
2     2.0     2 + 1.2 = 3.2                          0.6 + 2.24 = 2.84
3     3.0     3.0                                   3.0
====  ======  ====================================  ====================

* perfect foresight: ``low`` buys 1 (1.0), ``high`` buys 3 (3.0): E = 0.3 + 2.1 = 2.4;
* the hedged plan buys **2**, neither future's own plan: E = 2.84;
* EVPI = 2.84 - 2.4 = **0.44 M CNY**;
* the mean-value future (2027 demand 0.3 x 1,000 + 0.7 x 3,000 = 2,400 tokens/s) buys 3 (3.0 against
  2 + 1.2 = 3.2 or 2 + 0.4 x 5 = 4.0): its plan costs 3.0 in both futures, so VSS = 3.0 - 2.84 = **0.16 M CNY**;
* regrets: low's plan in ``high`` 7.2 - 3.0 = 4.2; high's plan in ``low`` 3.0 - 1.0 = 2.0; the hedge 1.0 and 0.2.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner
from test_sweep import write_yaml
from tiny import tiny_data, write_profile

from planner.cli import cli
from planner.model import build_model
from planner.model.stages import decision_components, first_stage_mask, first_stage_values
from planner.pipeline import plan_scenario
from planner.report.hedge import decision_label, render_hedge_report
from planner.results.io import read_dataset
from planner.scenario import ScenarioError, load_scenario, scenario_from_dict
from planner.scenario.futures import load_futures, mean_value_overrides
from planner.solver.highs import compile_model
from planner.studies.futures import run_hedge
from planner.studies.futures.progressive import _rho_values
from planner.studies.futures.stack import cvar

M = 1e6
TOL = 200.0  # CNY: what the near-free racks, halls, cooling, grid and energy add
SERVER_YEAR_CNY = 5e6
TOKENS_PER_SERVER_YEAR_M = 1000 * 3600 * 8760 / 1e6


def _data(profile: Path) -> dict[str, Any]:
    data = tiny_data(profile)
    data["years"] = [2026, 2027]
    gpu = data["accelerators"]["gpu"]
    gpu.update(capex_cny={2026: 1e6, 2027: 2.4e6}, lifetime_years=2, max_new_per_year={2026: 10, 2027: 1})
    data["demand"]["inference"]["peak_tokens_per_s"] = {2026: 1000, 2027: 1000}
    data["demand"]["shortfall_penalty"] = {
        "training_cny_per_eflop": 1e6,
        "inference_cny_per_million_tokens": SERVER_YEAR_CNY / TOKENS_PER_SERVER_YEAR_M,
        "reserve_cny_per_token_per_s": 1e-6,
    }
    data["cooling"]["air"].update(capex_cny_per_rack=1e-3, lifetime_years=2)
    data["cooling"]["air"]["plant"].update(capex_cny_per_unit=1e-3, lifetime_years=2)
    data["facility"]["hall"].update(capex_cny=1e-3, lifetime_years=2)
    data["power"]["grid"].update(capex_cny_per_block=1e-3, lifetime_years=2)
    data["power"]["grid"]["tariff"]["flat_cny_per_kwh"] = 1e-6
    return data


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("futures")
    write_yaml(folder / "base.yaml", _data(write_profile(folder / "profile.csv")))
    return folder


def _futures(folder: Path, name: str, futures: list[dict[str, Any]], **extra: Any) -> Path:
    data = {"name": name, "base": "base.yaml", "commit_until": 2026, **extra, "futures": futures}
    return write_yaml(folder / f"{name}.yaml", data)


LOW_HIGH = [
    {"name": "low", "probability": 0.3, "source": "test", "overrides": {}},
    {
        "name": "high",
        "probability": 0.7,
        "source": "test",
        "overrides": {"demand.inference.peak_tokens_per_s.2027": 3000},
    },
]


@pytest.fixture(scope="module")
def hedge(folder: Path) -> xr.Dataset:
    # the set list (no effect on this plan: no training) makes every future differ from the base file, as in the
    # shipped example
    path = _futures(folder, "low_high", LOW_HIGH, set=["demand.shortfall_penalty.training_cny_per_eflop=2e6"])
    return run_hedge(path, workers=1, results_dir=folder / "results")


def _servers_2026(ds: xr.Dataset, plan: str) -> float:
    return float(ds["first_stage_value"].sel(plan=plan, decision="servers_new[main,gpu,air,2026]"))


def test_hedged_plan_buys_two_servers_now_neither_futures_own_plan(hedge: xr.Dataset) -> None:
    assert _servers_2026(hedge, "hedged") == 2
    assert _servers_2026(hedge, "perfect-low") == 1
    assert _servers_2026(hedge, "perfect-high") == 3
    assert _servers_2026(hedge, "mean_value") == 3
    # first stage equal in every future; recourse its own: high buys the one late server, low none
    new = hedge["servers_new"].sel(accelerator="gpu").sum(["cooling", "site"])
    assert new.sel(year=2026).values.tolist() == [2, 2]
    assert new.sel(year=2027, future="low") == 0
    assert new.sel(year=2027, future="high") == 1


def test_costs_regrets_evpi_and_vss_are_the_hand_worked_ones(hedge: xr.Dataset) -> None:
    cost = hedge["cost_cny"]
    expected = {
        ("hedged", "low"): 2.0,
        ("hedged", "high"): 3.2,
        ("perfect-low", "low"): 1.0,
        ("perfect-low", "high"): 7.2,
        ("perfect-high", "low"): 3.0,
        ("perfect-high", "high"): 3.0,
        ("mean_value", "low"): 3.0,
        ("mean_value", "high"): 3.0,
    }
    for (plan, future), value in expected.items():
        assert float(cost.sel(plan=plan, future=future)) == pytest.approx(value * M, abs=TOL), (plan, future)
    assert float(hedge["regret_cny"].sel(plan="perfect-low", future="high")) == pytest.approx(4.2 * M, abs=TOL)
    assert float(hedge["regret_cny"].sel(plan="hedged", future="low")) == pytest.approx(1.0 * M, abs=TOL)
    assert float(hedge["expected_cost_cny"].sel(plan="hedged")) == pytest.approx(2.84 * M, abs=TOL)
    assert float(hedge["evpi_cny"]) == pytest.approx(0.44 * M, abs=TOL)
    assert float(hedge["vss_cny"]) == pytest.approx(0.16 * M, abs=TOL)
    assert hedge.attrs["hedge_objective_cny"] == pytest.approx(2.84 * M, abs=TOL)
    assert hedge["probability"].values.tolist() == [0.3, 0.7]
    for name in ("cost_cny", "regret_cny", "evpi_cny", "vss_cny", "probability", "first_stage_value"):
        assert hedge[name].attrs["units"], name
    assert [str(v) for v in hedge.data_vars if "units" not in hedge[v].attrs] == []


def test_properties_hedge_beats_every_plan_in_expectation_and_evpi_vss_are_nonnegative(hedge: xr.Dataset) -> None:
    gap = float(hedge.attrs["hedge_mip_gap"]) if math.isfinite(float(hedge.attrs["hedge_mip_gap"])) else 0.0
    expected = hedge["expected_cost_cny"]
    hedged = float(expected.sel(plan="hedged"))
    assert (expected.values >= hedged * (1 - gap) - TOL).all()
    assert float(hedge["evpi_cny"]) >= -TOL
    assert float(hedge["vss_cny"]) >= -TOL
    assert (hedge["regret_cny"].values >= -TOL).all()


def test_the_file_round_trips_and_plan_report_draws_the_hedge_page(hedge: xr.Dataset, folder: Path) -> None:
    path = folder / "results" / "low_high.nc"
    back = read_dataset(path)
    assert back.attrs["study"] == "hedge"
    np.testing.assert_allclose(back["cost_cny"].values, hedge["cost_cny"].values)
    out = folder / "page.html"
    result = CliRunner().invoke(cli, ["report", str(path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "regret" in html.lower() and "low" in html and "high" in html


def test_one_future_of_probability_one_is_plan_solve(folder: Path) -> None:
    path = _futures(folder, "only_high", [{**LOW_HIGH[1], "probability": 1.0}])
    ds = run_hedge(path, workers=1, results_dir=folder / "results")
    assert _servers_2026(ds, "hedged") == _servers_2026(ds, "perfect-high") == 3
    assert float(ds["cost_cny"].sel(plan="hedged", future="high")) == pytest.approx(
        float(ds["perfect_foresight_cost_cny"].sel(future="high")), abs=TOL
    )
    assert float(ds["evpi_cny"]) == pytest.approx(0.0, abs=TOL)
    assert float(ds["vss_cny"]) == pytest.approx(0.0, abs=TOL)
    # and what plan solve makes of the same scenario, run here on its own
    run = plan_scenario(load_scenario(folder / "base.yaml", ["demand.inference.peak_tokens_per_s.2027=3000"]))
    assert run.dataset is not None
    assert float(ds["npv_cny"].sel(future="high")) == pytest.approx(float(run.dataset["npv_cny"]), abs=TOL)
    np.testing.assert_allclose(ds["servers_new"].sel(future="high").values, run.dataset["servers_new"].values)


def test_a_resumed_study_solves_nothing_again(hedge: xr.Dataset, folder: Path) -> None:
    messages: list[str] = []

    class Console:
        def print(self, text: str) -> None:
            messages.append(str(text))

    again = run_hedge(folder / "low_high.yaml", workers=1, results_dir=folder / "results", console=Console())
    assert any("hedged plan is saved" in m for m in messages)
    assert not any("solving" in m for m in messages), messages
    np.testing.assert_allclose(again["cost_cny"].values, hedge["cost_cny"].values)


def test_a_plan_a_future_cannot_carry_out_is_infinite_regret_with_the_reason(folder: Path) -> None:
    capped = {
        "name": "capped",
        "probability": 0.1,
        "overrides": {"accelerators.gpu.max_new_per_year.2026": 2, "demand.inference.peak_tokens_per_s.2027": 3000},
    }
    path = _futures(folder, "capped", [{**LOW_HIGH[0], "probability": 0.2}, LOW_HIGH[1], capped])
    ds = run_hedge(path, workers=1, results_dir=folder / "results")
    assert _servers_2026(ds, "hedged") <= 2  # decided now: within every future's cap
    assert math.isinf(float(ds["cost_cny"].sel(plan="perfect-high", future="capped")))
    assert str(ds["evaluation_status"].sel(plan="perfect-high", future="capped").values) == "infeasible"
    message = str(ds["evaluation_message"].sel(plan="perfect-high", future="capped").values)
    assert (
        "cannot meet this future's limits" in message
        and "the purchase cap of 2 new G1 servers a year in 2026" in message
    )
    assert math.isinf(float(ds["expected_cost_cny"].sel(plan="perfect-high")))


def test_cvar_of_a_discrete_distribution() -> None:
    # worst 10 % of probability: 0.1 of the cost 10 -> 10; worst 30 %: (0.2 x 10 ... ) by hand
    assert cvar([1.0, 10.0], [0.8, 0.2], 0.9) == pytest.approx(10.0)
    assert cvar([1.0, 10.0], [0.8, 0.2], 0.7) == pytest.approx((0.2 * 10 + 0.1 * 1) / 0.3)
    assert cvar([1.0, 10.0], [0.8, 0.2], 0.0) == pytest.approx(0.8 + 2.0)


def test_risk_aversion_buys_more_insurance(folder: Path) -> None:
    # CVaR_0.5 with weight 10 nearly minimises the cost of the worst half: 'high' (p 0.7) dominates it,
    # so the plan moves to high's own plan: n = 3 (E 3.0 + 10 x 3.0) against n = 2 (2.84 + 10 x 3.2).
    path = _futures(folder, "averse", LOW_HIGH, risk={"cvar_alpha": 0.5, "weight": 10})
    ds = run_hedge(path, workers=1, results_dir=folder / "results")
    assert _servers_2026(ds, "hedged") == 3
    assert float(ds["cvar_cny"].sel(plan="hedged")) == pytest.approx(3.0 * M, abs=TOL)


# --------------------------------------------------------------------------- the futures file


def test_every_problem_of_a_futures_file_at_once_with_its_path(folder: Path) -> None:
    path = write_yaml(
        folder / "bad.yaml",
        {
            "name": "bad",
            "base": "base.yaml",
            "commit_until": 2031,
            "futures": [
                {"name": "a", "probability": 0.5, "overrides": {"policy.pue_mx": 1.2}},
                {"name": "a", "probability": 0.4, "overrides": {"accelerators.gpu.full_kw": -5}},
            ],
        },
    )
    with pytest.raises(ScenarioError) as err:
        load_futures(path)
    text = str(err.value)
    assert "futures: the probabilities must sum to 1, they sum to 0.9" in text
    assert "futures[1].name" in text
    result = CliRunner().invoke(cli, ["hedge", str(path)])
    assert result.exit_code == 2
    # the shape fixed, the futures' own values are checked
    path = write_yaml(
        folder / "bad2.yaml",
        {
            "name": "bad2",
            "base": "base.yaml",
            "commit_until": 2031,
            "futures": [
                {"name": "a", "probability": 0.5, "overrides": {"policy.pue_mx": 1.2}},
                {"name": "b", "probability": 0.5, "overrides": {"accelerators.gpu.full_kw": -5}},
            ],
        },
    )
    with pytest.raises(ScenarioError) as err:
        load_futures(path)
    paths = [p.path for p in err.value.problems]
    assert "commit_until" in paths
    assert any(p.startswith("futures[0].overrides.policy.pue_mx") for p in paths)
    assert any("pue_max" in p.message for p in err.value.problems)
    assert any(p.startswith("futures[1].overrides.accelerators.gpu.full_kw") for p in paths)
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2
    assert "futures[0].overrides.policy.pue_mx" in result.output


def test_mean_value_future_takes_probability_weighted_means(folder: Path) -> None:
    path = _futures(
        folder,
        "means",
        [
            {
                "name": "a",
                "probability": 0.25,
                "overrides": {"accelerators.gpu.capex_cny.2027": 2e6, "power.ppa": None, "demand.inference.scale": 2},
            },
            {"name": "b", "probability": 0.75, "overrides": {"demand.inference.peak_tokens_per_s.2027": 3000}},
        ],
    )
    spec = load_futures(path, check_futures=False)
    overrides, notes = mean_value_overrides(spec)
    # capex: a 2e6, b the base's 2.4e6; demand: a the base's 1,000, b 3,000; the scale: a 2, b the default 1
    assert "accelerators.gpu.capex_cny.2027=2300000.0" in overrides
    assert "demand.inference.peak_tokens_per_s.2027=2500.0" in overrides
    assert "demand.inference.scale=1.25" in overrides
    assert len(notes) == 1 and notes[0].startswith("power.ppa: not a number") and "b" in notes[0]


# --------------------------------------------------------------------------- the first-stage rule


def test_first_stage_columns_are_the_builds_and_contracts_up_to_commit_until(folder: Path) -> None:
    data = _data(folder / "profile.csv")
    m = build_model(scenario_from_dict(data))
    compiled = compile_model(m)
    mask = first_stage_mask(m, compiled.columns, 2026)
    chosen = {compiled.columns[j].name for j in np.flatnonzero(mask)}
    assert "servers_new[main,gpu,air,2026]" in chosen and "racks_new[main,air,2026]" in chosen
    assert "servers_new[main,gpu,air,2027]" not in chosen
    assert not any(n.startswith(("servers[", "grid_import", "inference_unserved")) for n in chosen)
    names = {c.local_name for c in decision_components(m)}
    assert {"servers_new", "halls_new", "grid_blocks_new", "ppa_contract", "battery_mwh_new"} <= names
    assert all(int(n.rstrip("]").split(",")[-1].split("[")[-1]) <= 2026 for n in first_stage_values(m, 2026))


def test_a_decision_one_future_cannot_take_is_held_at_zero_now_and_named_where_a_plan_takes_it(folder: Path) -> None:
    # Everything to 2027 is decided now. In 'a' a 2027 server is cheap (0.25 M in the horizon): its own plan
    # buys 2 + 1 late (2.25 M). In 'b' no server can be bought in 2027 at all (the column does not exist):
    # a decision taken now cannot depend on the future, so the hedge buys none late and 3 in 2026 (3.0 M in both).
    cheap = {"accelerators.gpu.capex_cny.2027": 5e5, "demand.inference.peak_tokens_per_s.2027": 3000}
    futures = [
        {"name": "a", "probability": 0.5, "overrides": cheap},
        {"name": "b", "probability": 0.5, "overrides": {**cheap, "accelerators.gpu.max_new_per_year.2027": 0}},
    ]
    path = _futures(folder, "cut", futures, commit_until=2027)
    ds = run_hedge(path, workers=1, results_dir=folder / "results")
    late = "servers_new[main,gpu,air,2027]"
    assert float(ds["first_stage_value"].sel(plan="perfect-a", decision=late)) == 1
    assert float(ds["first_stage_value"].sel(plan="hedged", decision=late)) == 0
    assert _servers_2026(ds, "hedged") == 3
    assert float(ds["cost_cny"].sel(plan="perfect-a", future="a")) == pytest.approx(2.25 * M, abs=TOL)
    assert float(ds["expected_cost_cny"].sel(plan="hedged")) == pytest.approx(3.0 * M, abs=TOL)
    message = str(ds["evaluation_message"].sel(plan="perfect-a", future="b").values)
    assert f"{late} = 1: this future cannot take that decision" in message
    assert math.isinf(float(ds["regret_cny"].sel(plan="perfect-a", future="b")))


def test_plan_validate_checks_a_hedge_file_against_its_futures_file(hedge: xr.Dataset, folder: Path) -> None:
    results = folder / "results" / "low_high.nc"
    result = CliRunner().invoke(cli, ["validate", str(results)])
    assert result.exit_code == 0, result.output
    assert "hedge made from" in result.output and "low_high.yaml" in result.output
    source = folder / "low_high.yaml"
    text = source.read_text(encoding="utf-8")
    try:
        source.write_text(text.replace("probability: 0.3", "probability: 0.30000001"), encoding="utf-8")
        result = CliRunner().invoke(cli, ["validate", str(results)])
        assert result.exit_code == 2
    finally:
        source.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------- progressive hedging (method: ph)


@pytest.fixture(scope="module")
def ph_hedge(folder: Path) -> xr.Dataset:
    path = _futures(
        folder, "low_high_ph", LOW_HIGH, method="ph", set=["demand.shortfall_penalty.training_cny_per_eflop=2e6"]
    )
    return run_hedge(path, workers=1, results_dir=folder / "results")


def test_ph_reaches_the_hand_worked_hedge_and_its_expected_npv_to_the_yuan(
    ph_hedge: xr.Dataset, hedge: xr.Dataset
) -> None:
    # PH on the two futures of the module docstring: iteration 0 solves each alone (low buys 1, high 3); the
    # weights pull both to the hedge's 2 servers now. Its consensus, fixed in each future, costs 2.0 (low) and
    # 3.2 (high): E = 2.84 M CNY, the extensive form's optimum.
    assert _servers_2026(ph_hedge, "hedged") == 2
    new = ph_hedge["servers_new"].sel(accelerator="gpu").sum(["cooling", "site"])
    assert new.sel(year=2026).values.tolist() == [2, 2]
    assert new.sel(year=2027).values.tolist() == [0, 1]
    e_ph = float(ph_hedge["expected_cost_cny"].sel(plan="hedged"))
    assert e_ph == pytest.approx(2.84 * M, abs=TOL)
    assert e_ph == pytest.approx(float(hedge["expected_cost_cny"].sel(plan="hedged")), abs=1.0)  # to the yuan
    assert float(ph_hedge["cost_cny"].sel(plan="hedged", future="low")) == pytest.approx(2.0 * M, abs=TOL)
    assert float(ph_hedge["cost_cny"].sel(plan="hedged", future="high")) == pytest.approx(3.2 * M, abs=TOL)
    assert float(ph_hedge["evpi_cny"]) == pytest.approx(0.44 * M, abs=TOL)
    assert float(ph_hedge["vss_cny"]) == pytest.approx(0.16 * M, abs=TOL)
    # the same Dataset as the extensive form's, with how PH ended
    assert set(ph_hedge.data_vars) == set(hedge.data_vars)
    assert ph_hedge.attrs["hedge_method"] == "ph" and hedge.attrs["hedge_method"] == "extensive"
    assert int(ph_hedge.attrs["hedge_ph_converged"]) == 1
    n = int(ph_hedge.attrs["hedge_ph_iterations"])
    assert 1 <= n <= 50
    # each of the two futures: iteration 0, the n - 1 iterations before the n-th found the metric below the
    # threshold (it stops before its solves) and the Lagrangian bound's solve
    assert int(ph_hedge.attrs["hedge_ph_subproblem_solves"]) == 2 * (n + 1)
    assert len(json.loads(ph_hedge.attrs["hedge_ph_history"])) == n


def test_ph_bounds_lower_bound_below_the_hedge_below_every_evaluated_plan(ph_hedge: xr.Dataset) -> None:
    # trivial bound: each future alone, E = 0.3 x 1.0 + 0.7 x 3.0 = 2.4 M CNY (the perfect-foresight expectation)
    trivial = float(ph_hedge.attrs["hedge_ph_trivial_bound_cny"])
    assert trivial == pytest.approx(2.4 * M, abs=TOL)
    lower = float(ph_hedge.attrs["hedge_bound_cny"])
    assert lower >= trivial - 1e-6
    assert float(ph_hedge.attrs["hedge_ph_lagrangian_bound_cny"]) <= lower + 1e-6
    hedged = float(ph_hedge["expected_cost_cny"].sel(plan="hedged"))
    assert lower <= hedged + 1e-6
    assert float(ph_hedge.attrs["hedge_objective_cny"]) == pytest.approx(hedged, abs=1e-6)
    assert float(ph_hedge.attrs["hedge_mip_gap"]) == pytest.approx((hedged - lower) / hedged, rel=1e-9)
    assert (ph_hedge["expected_cost_cny"].values >= hedged - TOL).all()


def test_ph_holds_at_zero_a_decision_one_future_cannot_take(folder: Path) -> None:
    # The case of test_a_decision_one_future_cannot_take_...: 'b' has no 2027 server column; PH gives it a
    # placeholder held at 0, so the consensus buys none late and 3 in 2026 (3.0 M CNY in both futures).
    cheap = {"accelerators.gpu.capex_cny.2027": 5e5, "demand.inference.peak_tokens_per_s.2027": 3000}
    futures = [
        {"name": "a", "probability": 0.5, "overrides": cheap},
        {"name": "b", "probability": 0.5, "overrides": {**cheap, "accelerators.gpu.max_new_per_year.2027": 0}},
    ]
    path = _futures(folder, "cut_ph", futures, commit_until=2027, method="ph")
    ds = run_hedge(path, workers=1, results_dir=folder / "results")
    assert float(ds["first_stage_value"].sel(plan="hedged", decision="servers_new[main,gpu,air,2027]")) == 0
    assert _servers_2026(ds, "hedged") == 3
    assert float(ds["expected_cost_cny"].sel(plan="hedged")) == pytest.approx(3.0 * M, abs=TOL)


def test_a_bad_method_or_ph_with_a_risk_block_is_refused_with_its_path(folder: Path) -> None:
    path = _futures(folder, "bad_method", LOW_HIGH, method="benders", ph={"iteration_limit": 0})
    with pytest.raises(ScenarioError) as err:
        load_futures(path)
    paths = [p.path for p in err.value.problems]
    assert "method" in paths and "ph.iteration_limit" in paths
    assert "'extensive' or 'ph'" in str(err.value)
    path = _futures(folder, "ph_risk", LOW_HIGH, method="ph", risk={"cvar_alpha": 0.5, "weight": 1})
    with pytest.raises(ScenarioError) as err:
        load_futures(path)
    assert [p.path for p in err.value.problems] == ["method"]
    assert "method: extensive" in str(err.value)
    result = CliRunner().invoke(cli, ["hedge", str(path)])
    assert result.exit_code == 2
    assert "method" in result.output


def test_the_hedge_page_says_how_the_plan_was_found(ph_hedge: xr.Dataset, hedge: xr.Dataset) -> None:
    ph_page = render_hedge_report(ph_hedge)
    assert "progressive hedging (" in ph_page and "gap to its lower bound" in ph_page
    assert "extensive form, MIP" in render_hedge_report(hedge)
    result = CliRunner().invoke(cli, ["validate", str(Path(ph_hedge.attrs["futures_source"]))])
    assert result.exit_code == 0 and "hedged by progressive hedging" in result.output, result.output


def test_a_ph_consensus_a_future_cannot_carry_out_is_no_plan_with_the_reason(folder: Path) -> None:
    # One PH iteration: x-bar of the 2026 purchase is 0.1 x 1 + 0.8 x 3 + 0.1 x 2 = 2.7, rounded to 3, beyond the
    # purchase cap of 2 in 'capped' (a row, not a bound): fixed there, no plan meets the cap, so there is no hedged
    # plan (exit 1), and the message says why (the diagnosis) and what to do.
    capped = {
        "name": "capped",
        "probability": 0.1,
        "overrides": {"accelerators.gpu.max_new_per_year.2026": 2, "demand.inference.peak_tokens_per_s.2027": 3000},
    }
    futures = [{**LOW_HIGH[0], "probability": 0.1}, {**LOW_HIGH[1], "probability": 0.8}, capped]
    path = _futures(folder, "capped_ph", futures, method="ph", ph={"iteration_limit": 1})
    result = CliRunner().invoke(cli, ["hedge", str(path), "--workers", "1", "-o", str(folder / "capped_ph.nc")])
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "did not converge in 1 iterations" in text
    assert "future 'capped' has no plan with the consensus fixed (infeasible)" in text
    assert "the purchase cap of 2 new G1 servers a year in 2026" in text
    assert "raise ph.iteration_limit, or use method: extensive" in text


def test_ph_rho_is_the_cost_coefficient_times_the_factor_and_the_median_where_there_is_none() -> None:
    # costs 1.0 and 0.001 MCNY per unit, and one decision without a cost: its rho is the median of 1.0 and 0.001
    rho = _rho_values({"servers": 1.0, "racks": -0.001, "contract": 0.0}, 2.0)
    assert rho == pytest.approx({"servers": 2.0, "racks": 0.002, "contract": 2.0 * 0.5005})
    assert _rho_values({"a": 0.0}, 3.0) == {"a": 3.0}


def test_a_decision_is_named_in_words_with_its_site_when_there_are_several() -> None:
    # builds carry the site as their first index; contracts (a PPA, a hub's lease or sale) have none, even
    # when a contract shares a name with a site
    one, two = xr.Dataset(coords={"site": ["main"]}), xr.Dataset(coords={"site": ["a", "b"]})
    assert decision_label(one, "halls_new[main,2026]") == "data halls, 2026"
    assert decision_label(two, "halls_new[b,2026]") == "data halls, at b, 2026"
    assert decision_label(two, "grid_blocks_new[a,2027]") == "grid blocks, at a, 2027"
    assert decision_label(two, "ppa_contract[a,2026]") == "a PPA contracted, 2026"
    assert decision_label(two, "lease_pflops[gui_an,2026]") == "compute leased from gui_an, 2026"
    assert decision_label(two, "sold_pflops[qingyang,2027]") == "compute sold to qingyang, 2027"


@pytest.mark.parametrize("command", [["hedge", "inputs/futures/tianfu.yaml"], ["alternatives", "inputs/2030.yaml"]])
def test_a_study_output_without_a_suffix_is_refused_before_any_solve(tmp_path: Path, command: list[str]) -> None:
    # Its solves are kept in the folder of the same name without the suffix: "-o x" would make the folder
    # and the combined file one path, and the study failed only when it wrote, after every solve (9 min).
    root = Path(__file__).resolve().parent.parent
    out = tmp_path / "hedge"
    result = CliRunner().invoke(cli, [command[0], str(root / command[1]), "-o", str(out)])
    assert result.exit_code == 2
    assert f"{out} has no suffix: give a file such as {out}.nc" in " ".join(result.output.split())
    assert list(tmp_path.iterdir()) == []  # nothing written
