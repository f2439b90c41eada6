"""Which policy limits bind, and what each binding limit costs in total (``plan solve --limit-costs``).

Hand-checked on the tiny instance (``tests/tiny.py``) with a second server type ``dom``: the same
as ``gpu`` (1 PFLOPS, 1,000 tokens/s, 10 kW) but domestic and 10 % dearer (1,100,000 CNY against
1,000,000 CNY; 1-year life at a 0 % discount rate, so its NPV is its price). Inference demand of
N x 1,000 tokens/s needs N servers whatever their type, so a domestic-share minimum s only changes
which servers are bought: ceil(s N) domestic ones instead of none, each 100,000 CNY dearer. Racks,
halls, cooling, grid and energy are the same either way (both types draw 10 kW).

* N = 4, s = 50 %: 2 domestic servers, the limit costs 0.5 x 4 x 100,000 = 200,000 CNY; the plan sits
  at the limit (50.0 %). Its shadow price (the pricing LP, servers continuous) is the cost of one
  percentage point: 0.01 x 4 x 100,000 = 4,000 CNY.
* N = 3, s = 50 %: 1.5 servers would do in an LP but whole servers take 2, so the limit costs
  200,000 CNY again (not 150,000), and the plan has 16.7 pp of headroom (66.7 %) although the
  limit binds: its shadow price is nonzero (3,000 CNY per point), which is what ``binding`` reads.
* The PUE cap of 1.3 never binds (PUE 1.1: kappa 0.1, no aux losses): headroom 0.200, no cost.

The NPV of the N = 4 plan: servers 2 x 1.0 M + 2 x 1.1 M, racks 2 x 0.1 M, one hall 10 M, one
plant unit 1 M, one grid block 1 M, energy 44 kW x 8,760 h x 0.5 CNY/kWh = 192,720: 16,592,720 CNY.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pyomo.environ as pyo
import pytest
import yaml
from click.testing import CliRunner
from pyomo.repn import generate_standard_repn
from tiny import tiny, tiny_data, write_profile

from planner import pipeline
from planner.cli import cli
from planner.model.update import structure_key
from planner.pipeline import ModelCache, plan_scenario
from planner.report.limits import badges, fmt_headroom, limit_cost_text, marginal_text
from planner.report.tables import compliance_grid
from planner.results.io import read_dataset
from planner.results.kpis import BINDING_RTOL, binding, headroom
from planner.scenario import Scenario, scenario_from_dict
from planner.studies.limit_costs import LimitCosts, add_limit_costs, limit_costs, relaxed_scenario

PRICE_GAP = 100_000.0  #: a domestic server's extra cost [CNY]

#: Policy limit (the ``limit`` coordinate) -> the model's rows it is written in.
ROWS = {
    "pue_max": "pue_cap",
    "green_share_min": "green_share",
    "domestic_compute_share_min": "domestic_share",
    "installed_eflops_min": "eflops_target",
    "carbon_cap_t": "carbon_cap_limit",
}


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_profile(tmp_path_factory.mktemp("limit-costs") / "profile.csv")


def domestic_data(profile: Path, servers: int = 4, **policy: Any) -> dict[str, Any]:
    """The tiny scenario with a domestic server type 10 % dearer and ``servers`` x 1,000 tokens/s of demand."""
    data = tiny_data(profile)
    dom = copy.deepcopy(data["accelerators"]["gpu"])
    dom.update(domestic=True, chip="D1", capex_cny=1.1e6)
    data["accelerators"]["dom"] = dom
    data["demand"]["inference"]["peak_tokens_per_s"] = 1000 * servers
    data["policy"] = {"domestic_compute_share_min": 0.5, "pue_max": 1.3, **policy}
    return data


def domestic(profile: Path, servers: int = 4, **policy: Any) -> Scenario:
    return scenario_from_dict(domestic_data(profile, servers, **policy))


def costed(scenario: Scenario) -> tuple[Any, LimitCosts]:
    """The plan of ``scenario`` and the cost of its binding limits (the model re-used)."""
    cache = ModelCache()
    run = plan_scenario(scenario, cache=cache)
    assert run.dataset is not None, run.outcome.termination
    result = limit_costs(run, run.outcome.options, cache)
    add_limit_costs(run.dataset, result)
    return run, result


# --------------------------------------------------------------------------- (a) the total cost, by hand


@pytest.mark.parametrize(
    ("servers", "share", "hand_cost", "at_limit"),
    [(4, 0.5, 0.5 * 4 * PRICE_GAP, True), (3, 2 / 3, 2 * PRICE_GAP, False)],
    ids=["at-the-limit", "whole-servers"],
)
def test_domestic_share_costs_what_it_adds(
    profile: Path, servers: int, share: float, hand_cost: float, at_limit: bool
) -> None:
    run, result = costed(domestic(profile, servers))
    ds = run.dataset
    assert float(ds["domestic_share"].item()) == pytest.approx(share, rel=1e-9)
    gap = run.outcome.options.mip_gap * float(ds["npv_cny"])
    cost = float(ds["limit_cost_cny"].sel(limit="domestic_compute_share_min"))
    low = float(ds["limit_cost_low_cny"].sel(limit="domestic_compute_share_min"))
    high = float(ds["limit_cost_high_cny"].sel(limit="domestic_compute_share_min"))
    assert cost == pytest.approx(hand_cost, abs=gap + 1e-6)
    assert low - 1e-6 <= hand_cost <= high + 1e-6 and low <= cost <= high
    assert high - low <= 2 * gap + 1e-6
    assert result.costs["domestic_compute_share_min"].npv_relaxed_cny == pytest.approx(
        float(ds["npv_cny"]) - hand_cost, abs=gap + 1e-6
    )
    # It binds either way: at the limit, or (whole servers) through its nonzero shadow price.
    assert bool(binding(ds).sel(limit="domestic_compute_share_min").all())
    room = float(headroom(ds).sel(limit="domestic_compute_share_min").item())
    assert (abs(room) <= BINDING_RTOL) is at_limit
    price = float(ds["shadow_price"].sel(limit="domestic_compute_share_min").item())
    assert price == pytest.approx(0.01 * servers * PRICE_GAP, rel=1e-6)
    assert "limit relaxed in every year" in ds["limit_cost_cny"].attrs["method"]


def test_a_limit_with_headroom_has_no_cost_and_a_headroom_badge(profile: Path) -> None:
    run, result = costed(domestic(profile, 4))
    ds = run.dataset
    assert set(result.costs) == {"domestic_compute_share_min"}  # one re-solve: the PUE cap does not bind
    assert np.isnan(float(ds["limit_cost_cny"].sel(limit="pue_max")))
    assert not bool(binding(ds).sel(limit="pue_max").any())
    assert float(headroom(ds).sel(limit="pue_max").item()) == pytest.approx(0.2, abs=1e-9)
    marks = badges(ds)
    assert marks[("pue_max", 2026)].text == "headroom 0.200"
    assert marks[("domestic_compute_share_min", 2026)].text == "binding"
    assert marks[("green_share_min", 2026)].text == "not set"
    assert limit_cost_text(ds, "pue_max") == ("not binding", "")
    assert limit_cost_text(ds, "green_share_min") == ("not set", "")
    amount, interval = limit_cost_text(ds, "domestic_compute_share_min")
    assert amount == "200 k CNY (NPV)" and interval.startswith("between 200 k CNY")
    rows = {row["key"]: row for row in compliance_grid(ds)[0]}
    cell = rows["domestic_compute_share_min"]["cells"][0]
    assert cell["badge"] == "binding" and cell["price"] == "< 5 k CNY (NPV) per percentage point of domestic share"
    assert "4,000 CNY (NPV)" in cell["method"]
    assert rows["pue_max"]["cells"][0]["price"] == "not binding"


def test_the_plan_model_is_reused_and_given_back(profile: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = ModelCache()
    run = plan_scenario(domestic(profile, 4), cache=cache)
    builds: list[Any] = []
    build_model = pipeline.build_model
    monkeypatch.setattr(pipeline, "build_model", lambda data: builds.append(data) or build_model(data))
    result = limit_costs(run, run.outcome.options, cache)
    assert builds == [], "the relaxed scenario must re-use the plan's built model"
    assert result.costs["domestic_compute_share_min"].status == "optimal"
    m = run.model
    assert pyo.value(m.domestic_share_min[2026]) == pytest.approx(0.5)  # the plan's numbers ...
    dom = sum(v.value for k, v in m.servers.items() if k[1] == "dom")  # N[site, type, cooling, year]
    assert dom == pytest.approx(2.0)  # ... and its plan


def test_relaxed_scenarios_keep_the_structure(profile: Path) -> None:
    base = domestic(profile, 4, installed_eflops_min={2026: 0.001}, carbon_cap_t=1e5)
    for limit in ("pue_max", "domestic_compute_share_min", "installed_eflops_min", "carbon_cap_t"):
        relaxed = relaxed_scenario(base, limit)
        assert structure_key(relaxed) == structure_key(base), limit
    assert relaxed_scenario(base, "installed_eflops_min").policy.installed_eflops_min.at(2026) == 0.0
    assert relaxed_scenario(base, "pue_max").policy.pue_max.at(2026) == 3.0
    # A green minimum of 0 would still cap certificates that lower market-based emissions: removed.
    market = tiny(
        profile,
        {
            "policy": {"green_share_min": 0.3, "carbon_price_cny_per_t": 50, "emissions_basis": "market"},
            "power.green_certificates": {"price_cny_per_mwh": 10.0, "max_share": 0.5},
        },
    )
    assert relaxed_scenario(market, "green_share_min").policy.green_share_min is None


# --------------------------------------------------------------------------- (b) binding() against the model's rows


def _row_at_bound(con: Any) -> bool:
    """Whether a row is at one of its bounds, within BINDING_RTOL of the size of its terms."""
    repn = generate_standard_repn(con.body, compute_values=True)
    scale = sum(abs(c * v.value) for c, v in zip(repn.linear_coefs, repn.linear_vars, strict=True))
    body = pyo.value(con.body)
    slack = min(
        (body - pyo.value(con.lower)) if con.has_lb() else np.inf,
        (pyo.value(con.upper) - body) if con.has_ub() else np.inf,
    )
    return bool(slack <= BINDING_RTOL * max(1.0, scale))


@pytest.mark.parametrize(
    "policy",
    [
        {"pue_max": 1.1, "domestic_compute_share_min": 0.5, "installed_eflops_min": 0.003, "carbon_cap_t": 250},
        {"pue_max": 1.3, "domestic_compute_share_min": 0.25, "installed_eflops_min": 0.004, "carbon_cap_t": 1e4},
    ],
    ids=["pue-and-share-bind", "target-and-share-bind"],
)
@pytest.mark.parametrize("prices", [True, False], ids=["priced", "unpriced"])
def test_binding_agrees_with_the_model_rows(profile: Path, policy: dict[str, float], prices: bool) -> None:
    run = plan_scenario(domestic(profile, 4, **policy), shadow_prices=prices)
    ds = run.dataset
    assert ds is not None
    binds = binding(ds)
    seen = {True: 0, False: 0}
    for limit, row in ROWS.items():
        component = getattr(run.model, row)
        for y in (int(v) for v in ds.year.values):
            expected = y in component and _row_at_bound(component[y])
            assert bool(binds.sel(limit=limit, year=y)) is expected, (limit, y)
            if y in component:
                seen[expected] += 1
    assert seen[True] >= 2 and seen[False] >= 2  # both kinds met


# --------------------------------------------------------------------------- texts


def test_marginal_cost_and_headroom_texts() -> None:
    step = "per 0.01 lower PUE cap"
    assert marginal_text(152.9e6, step, True) == "153 M CNY (NPV) per 0.01 lower PUE cap"
    assert marginal_text(4_000.0, step, True) == "< 5 k CNY (NPV) per 0.01 lower PUE cap"
    assert marginal_text(0.0, step, False) == "not binding"
    assert marginal_text(float("nan"), step, False) == "not binding"
    assert marginal_text(0.0, step, True) == "0 at the margin"
    assert fmt_headroom(0.05, "share") == "5.0 pp" and fmt_headroom(0.2, "ratio") == "0.200"
    assert fmt_headroom(-1500.0, "t") == "1.5 kt" and fmt_headroom(0.5, "eflops") == "500 PFLOPS"


# --------------------------------------------------------------------------- (d) the command line


def test_cli_limit_costs(profile: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(domestic_data(profile), sort_keys=False), encoding="utf-8")
    runner = CliRunner()
    plain = runner.invoke(cli, ["solve", str(path), "--no-report", "-o", "plain.nc"])
    assert plain.exit_code == 0, plain.output
    assert "plan solve --limit-costs gives the total cost of each binding limit" in plain.stdout
    assert "limit_cost_cny" not in read_dataset(tmp_path / "plain.nc")
    result = runner.invoke(cli, ["solve", str(path), "--limit-costs", "--no-report", "-o", "costed.nc"])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "costing 1 binding limit(s) (domestic_compute_share_min)" in text
    assert "limit cost Domestic compute share: 200 k CNY (NPV), between 200 k CNY and 200 k CNY" in text
    assert "headroom 0.200" in text and "binding · < 5 k CNY" in text
    ds = read_dataset(tmp_path / "costed.nc")
    assert float(ds["limit_cost_cny"].sel(limit="domestic_compute_share_min")) == pytest.approx(2e5, abs=50)
    assert np.isnan(float(ds["limit_cost_cny"].sel(limit="pue_max")))
    assert "relaxed to 0 in every year" in str(ds["limit_cost_method"].sel(limit="domestic_compute_share_min").values)
