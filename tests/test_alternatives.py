"""Near-optimal alternatives (``plan alternatives``) on a tiny instance worked out by hand, and their invariants.

The instance: the tiny scenario (tests/tiny.py) needs two servers (2,000 tokens/s of inference,
1,000 each) and offers an imported ``gpu`` at 1,000,000 CNY and a domestic ``npu``, identical but
1 % dearer (1,010,000 CNY). Racks, halls, cooling plant and grid blocks cost 1,000 CNY each and
energy 0.001 CNY/kWh, so that servers are nearly all of the cost:

* least cost: two gpu servers; NPV = 2,000,000 + 4 x 1,000 + 22 kW x 8,760 h x 0.001 CNY/kWh
  = 2,004,192.72 CNY; domestic share 0;
* at 2 % slack (budget 2,044,276.57) two npu servers fit (2,024,192.72): the domestic share ranges
  over [0, 1] and imported servers over [0, 2];
* at 0.5 % slack (budget 2,014,213.68) only one npu fits (one of each: 2,014,192.72): the share
  ranges over [0, 0.5] and imported servers over [1, 2].
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner
from test_sweep import write_yaml
from tiny import tiny_data, write_profile

from planner.cli import cli
from planner.report.alternatives import alternative_plans, range_rows, write_alternatives_report
from planner.results.dataset import to_dataset
from planner.results.io import read_dataset
from planner.results.kpis import limit_achieved, limit_bounds
from planner.results.metrics import METRICS, metric_columns, metric_value
from planner.scenario import ScenarioError, load_scenario
from planner.solver.dive import basis_arrays
from planner.solver.highs import SolveOptions
from planner.studies.alternatives import AlternativesError, run_alternatives
from planner.studies.alternatives.search import MAX_LPS, Level, Searched, implied_integer, search

LEAST_NPV = 2_000_000 + 4 * 1_000 + 22 * 8_760 * 0.001


def _data(profile: Path) -> dict[str, Any]:
    data = tiny_data(profile)
    gpu = data["accelerators"]["gpu"]
    data["accelerators"]["npu"] = {**gpu, "vendor": "Y", "chip": "N1", "domestic": True, "capex_cny": 1.01e6}
    data["cooling"]["air"]["capex_cny_per_rack"] = 1000
    data["cooling"]["air"]["plant"]["capex_cny_per_unit"] = 1000
    data["facility"]["hall"]["capex_cny"] = 1000
    data["power"]["grid"]["capex_cny_per_block"] = 1000
    data["power"]["grid"]["tariff"]["flat_cny_per_kwh"] = 0.001
    return data


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("alternatives")
    return write_yaml(folder / "two_types.yaml", _data(write_profile(folder / "profile.csv")))


def _run(scenario_file: Path, slack: float, tmp: Path, **kw: Any) -> xr.Dataset:
    return run_alternatives(
        scenario_file,
        slack=slack,
        metrics=kw.pop("metrics", ["domestic_share", "imported_servers"]),
        workers=1,
        results_dir=tmp / "results",
        **kw,
    )


@pytest.fixture(scope="module")
def wide_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("wide")


@pytest.fixture(scope="module")
def wide(scenario_file: Path, wide_folder: Path) -> xr.Dataset:
    return _run(scenario_file, 0.02, wide_folder, n_random=2)


@pytest.fixture(scope="module")
def narrow(scenario_file: Path, tmp_path_factory: pytest.TempPathFactory) -> xr.Dataset:
    return _run(scenario_file, 0.005, tmp_path_factory.mktemp("narrow"))


def _at(ds: xr.Dataset, var: str, alt: str) -> float:
    return float(ds[var].sel(alternative=alt))


def test_least_cost_is_two_imported_servers(wide: xr.Dataset) -> None:
    assert _at(wide, "npv_cny", "least_cost") == pytest.approx(LEAST_NPV, rel=1e-9)
    assert _at(wide, "metric_domestic_share", "least_cost") == 0.0
    assert _at(wide, "metric_imported_servers", "least_cost") == 2.0


def test_at_two_percent_the_domestic_share_ranges_from_0_to_1(wide: xr.Dataset) -> None:
    assert _at(wide, "metric_domestic_share", "domestic_share-max") == pytest.approx(1.0)
    assert _at(wide, "metric_domestic_share", "domestic_share-min") == pytest.approx(0.0)
    assert _at(wide, "metric_imported_servers", "imported_servers-min") == pytest.approx(0.0)
    assert _at(wide, "metric_imported_servers", "imported_servers-max") == pytest.approx(2.0)
    assert _at(wide, "npv_cny", "domestic_share-max") == pytest.approx(LEAST_NPV + 20_000, rel=1e-9)


def test_at_half_a_percent_only_one_domestic_server_fits(narrow: xr.Dataset) -> None:
    assert _at(narrow, "metric_domestic_share", "domestic_share-max") == pytest.approx(0.5)
    assert _at(narrow, "metric_imported_servers", "imported_servers-min") == pytest.approx(1.0)
    assert _at(narrow, "npv_cny", "domestic_share-max") == pytest.approx(LEAST_NPV + 10_000, rel=1e-9)


def test_the_limits_bracket_the_room(wide: xr.Dataset, narrow: xr.Dataset) -> None:
    """At 0.5 % the budget leaves 10,021 CNY for npu's 10,000 CNY premium per server, plus at most
    the 4,000 CNY of racks, hall, plant and block the LP may leave fractional: its best domestic
    share lies in [1.0021 / 2, 1.4021 / 2] (no plan has 2 npu; a share's limit is the LP's), its
    fewest imported servers in [0.598, 1] (the MIP proves 1: its bound, when better, is the limit).
    At 2 % the limits are the ends themselves: share 0 and 1."""
    assert 0.501 <= _at(narrow, "limit_domestic_share", "domestic_share-max") <= 0.702
    assert 0.598 <= _at(narrow, "limit_imported_servers", "imported_servers-min") <= 1.0
    assert _at(wide, "limit_domestic_share", "domestic_share-max") == pytest.approx(1.0, abs=1e-6)
    assert _at(wide, "limit_domestic_share", "domestic_share-min") == pytest.approx(0.0, abs=1e-6)
    assert np.isnan(_at(wide, "limit_domestic_share", "imported_servers-min"))  # another metric's direction


def _searched(scenario_file: Path, metric: str, sign: float, slack: float) -> tuple[Searched, Level, float, float]:
    """The search alone (no MIP after it) from the least-cost plan: what it found, its level, the budget and
    the least-cost plan's position."""
    from planner.pipeline import build
    from planner.solver.solve import solve

    scenario = load_scenario(scenario_file)
    built = build(scenario)
    assert built.compiled is not None
    options = SolveOptions(time_limit_s=60, mip_gap=0.0)
    least = solve(built.model, options, compiled=built.compiled, shadow_prices=False)
    assert least.x is not None and least.relaxation_basis is not None
    reference = to_dataset(built.model, least)
    num, den = metric_columns(built.model, built.compiled.columns, reference, METRICS[metric], scenario)
    level = Level.linear((sign * num[0], sign * num[1])) if den is None else Level.share(num, den, sign)
    budget = (1 + slack) * float(least.objective)
    found = search(built.compiled, level, budget, least.x, options, basis_arrays(least.relaxation_basis))
    if found.x is not None:  # a plan of the model within the budget
        assert float(built.compiled.cost @ found.x + built.compiled.offset) <= budget * (1 + 1e-9)
    return found, level, budget, level.position(least.x)


def test_the_search_alone_finds_the_two_domestic_servers_and_proves_the_share_cannot_pass_1(
    scenario_file: Path,
) -> None:
    """At 2 %: from the least-cost plan (share 0, position 0) the least-cost plan at the level share >= 1 is
    two npu servers, NPV + 20,000 CNY, within the budget; every level beyond 1 has no plan at all."""
    found, _, _, start = _searched(scenario_file, "domestic_share", -1.0, 0.02)
    assert start == 0.0
    assert found.position == pytest.approx(-1.0)  # share 1
    assert found.limit == pytest.approx(-1.0, abs=2e-6) and found.limit <= found.position + 1e-9
    assert found.dives >= 1 and 0 < found.lps <= MAX_LPS


def test_the_search_proves_the_limit_of_a_linear_direction_with_the_level_rows_dual(scenario_file: Path) -> None:
    """At 0.5 %: every imported server the LP replaces by an npu costs 10,000 CNY (V is linear below 2).
    At the start's level (2 servers) the row binds with a dual of 0 (degenerate), so the first step is a
    tenth of the start's position: 1.8 servers, 2,000 CNY dearer. The tangent there (the row's dual,
    -10,000 CNY per server) meets the budget at 0.702124, but no step goes more than twice as far as the
    LPs have gone: 1.4 servers, 6,000 CNY dearer; from there the tangent is in reach, and the fourth LP
    confirms it: B - V(2) = 12,978.76 CNY, so 2 - 1.297876 = 0.702124 servers. Servers come whole, so the
    limit proven is 1 server, and the plan the search rounds to has 1: proven optimal without HiGHS's MIP."""
    found, level, budget, start = _searched(scenario_file, "imported_servers", 1.0, 0.005)
    assert start == 2.0
    assert found.position == pytest.approx(1.0)
    assert found.limit == 1.0
    lps = [(z, v) for what, z, v, _ in found.steps if what == "lp"]
    # [MCNY] V(2): two gpu, energy 192.72 CNY, one rack and the fractions of a hall, a plant unit and a
    # block the LP needs (0.02, 0.02, 0.0022 of 1,000 CNY each)
    assert lps[0] == (2.0, pytest.approx(2.0 + 192.72e-6 + 1042.2e-6, abs=1e-9))
    assert lps[1] == (pytest.approx(1.8), pytest.approx(lps[0][1] + 0.002, abs=1e-9))
    assert lps[2] == (pytest.approx(1.4), pytest.approx(lps[0][1] + 0.006, abs=1e-9))
    assert budget == pytest.approx(1.005 * LEAST_NPV / 1e6)
    assert lps[3] == (pytest.approx(0.702124, abs=1e-6), pytest.approx(budget))


def test_stocks_built_from_whole_units_are_whole_and_hourly_operation_is_not(scenario_file: Path) -> None:
    """A stock (grid blocks in service) is defined by an equality row from whole builds with coefficients
    +-1 and no fractional fleet: it is whole in every plan; power drawn in an hour is not."""
    from planner.pipeline import build

    compiled = build(load_scenario(scenario_file)).compiled
    assert compiled is not None
    whole = implied_integer(compiled)
    by_component: dict[str, set[bool]] = {}
    for j, v in enumerate(compiled.columns):
        by_component.setdefault(v.parent_component().local_name, set()).add(bool(whole[j]))
    for stock in ("servers", "racks", "halls", "grid_blocks", "cooling_units"):
        assert by_component[stock] == {True}, stock
    assert by_component["grid_import"] == {False}
    assert whole.sum() > compiled.integer.sum()


@pytest.mark.parametrize("which", ["wide", "narrow"])
def test_every_alternative_is_within_the_slack_and_meets_every_limit(which: str, request: Any) -> None:
    ds: xr.Dataset = request.getfixturevalue(which)
    slack = float(ds.attrs["slack"])
    least = float(ds.attrs["least_cost_npv_cny"])
    gap = float(ds.attrs["least_cost_mip_gap"])
    assert (ds["status"] == "optimal").all()
    assert (ds["npv_cny"] <= (1 + slack) * least * (1 + 1e-9)).all()
    assert (ds["npv_cny"] >= least * (1 - gap) * (1 - 1e-9)).all()
    for alt in ds["alternative"].values:
        plan = ds.sel(alternative=alt)
        bounds, achieved = limit_bounds(plan), limit_achieved(plan)
        assert not bool((np.isfinite(bounds) & ~np.isfinite(achieved)).any())
    # min <= least cost <= max for each metric pushed both ways
    for name in ("domestic_share", "imported_servers"):
        v = ds[f"metric_{name}"]
        lo, hi, lc = float(v.sel(alternative=f"{name}-min")), float(v.sel(alternative=f"{name}-max")), float(v[0])
        assert lo <= lc + 1e-9 <= hi + 2e-9
        # the proven limits lie beyond what the plans reached
        limit = ds[f"limit_{name}"]
        assert float(limit.sel(alternative=f"{name}-min")) <= lo + 1e-6
        assert float(limit.sel(alternative=f"{name}-max")) >= hi - 1e-6


def test_metric_values_are_what_the_objective_optimised(scenario_file: Path, wide: xr.Dataset) -> None:
    """The metric's linear form over the model's columns, at the plan's values, is the Dataset's metric."""
    from planner.pipeline import build

    scenario = load_scenario(scenario_file)
    built = build(scenario)
    assert built.compiled is not None
    plan = wide.isel(alternative=0)
    for name in ("imported_servers", "installed_pflops", "grid_mw", "halls", "emissions_t"):
        (c, c0), _ = metric_columns(built.model, built.compiled.columns, plan, METRICS[name], scenario)
        assert np.count_nonzero(c) > 0, name
    emissions = metric_value(plan, METRICS["emissions_t"], scenario)
    assert emissions == pytest.approx(float(plan["emissions_t"].sel(basis="location").sum()), rel=1e-9)
    assert metric_value(plan, METRICS["grid_mw"], scenario) == pytest.approx(float(plan["grid_mw"].sum("site")[-1]))


def test_random_directions_are_saved_and_differ(wide: xr.Dataset) -> None:
    ids = [str(a) for a in wide["alternative"].values]
    assert ids[-2:] == ["random-1", "random-2"]
    assert (wide["npv_cny"].sel(alternative=["random-1", "random-2"]) <= 1.02 * LEAST_NPV * (1 + 1e-9)).all()


def test_a_second_run_keeps_every_saved_alternative(scenario_file: Path, wide: xr.Dataset, wide_folder: Path) -> None:
    parts = wide_folder / "results" / "two_types"
    stamps = {p.name: p.stat().st_mtime_ns for p in parts.glob("*.json")}
    assert len(stamps) == 7  # least cost, 2 metrics x 2 senses, 2 random directions
    again = _run(scenario_file, 0.02, wide_folder, n_random=2)
    assert {p.name: p.stat().st_mtime_ns for p in parts.glob("*.json")} == stamps  # nothing solved again
    xr.testing.assert_identical(wide.drop_vars("wall_time_s"), again.drop_vars("wall_time_s"))
    assert read_dataset(wide_folder / "results" / "two_types.nc")["npv_cny"].size == 7


def test_unknown_metric_and_bad_slack_are_named_at_once(scenario_file: Path, tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as err:
        _run(scenario_file, 0.0, tmp_path, metrics=["domestic_shares", "grid_mw"])
    text = str(err.value)
    assert "domestic_shares" in text and "did you mean domestic_share" in text and "--slack" in text


def test_an_infeasible_scenario_says_why(scenario_file: Path, tmp_path: Path) -> None:
    with pytest.raises(AlternativesError, match="no least-cost plan"):
        _run(scenario_file, 0.02, tmp_path, overrides=["facility.max_halls=0", "policy.installed_eflops_min=0.001"])


# --------------------------------------------------------------------------- the page and the command


def test_page_ranges_are_the_datasets_and_every_plan_is_linked(
    wide: xr.Dataset, wide_folder: Path, tmp_path: Path
) -> None:
    metrics, decisions = range_rows(wide)
    by_key = {r.key: r for r in metrics}
    share = by_key["domestic_share"]
    assert (share.low, share.least, share.high) == (0.0, 0.0, pytest.approx(1.0))
    assert share.high_at in ("domestic_share-max", "imported_servers-min")
    bought = {r.key: r for r in decisions}["servers_new:npu"]
    assert (bought.low, bought.high) == (0.0, pytest.approx(2.0))
    plans = alternative_plans(wide, wide_folder / "results" / "two_types")
    assert sorted(plans) == sorted(str(a) for a in wide["alternative"].values)
    assert all(p.attrs["scenario_overrides"] == "[]" for p in plans.values())  # each says how it was made
    page, written = write_alternatives_report(wide, tmp_path / "two_types.html", plans)
    assert sorted(p.name for p in (tmp_path / "two_types").iterdir()) == sorted(
        [f"{a}.html" for a in plans] + ["plotly.min.js"]
    )
    html = page.read_text(encoding="utf-8")
    assert all(f'href="two_types/{a}.html"' in html for a in written)
    assert "100.0 %" in html and "Y N1 servers bought" in html  # display names, not the key "npu"
    assert html.count("<script src=") == 1  # the shared plotly.js, once


def test_plan_alternatives_command(scenario_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    bad = CliRunner().invoke(cli, ["alternatives", str(scenario_file), "--metric", "grid_mv"])
    assert bad.exit_code == 2 and "--metric grid_mv: unknown metric 'grid_mv'" in bad.output
    assert "did you mean grid_mw" in bad.output
    ok = CliRunner().invoke(
        cli, ["alternatives", str(scenario_file), "--metric", "domestic_share", "--workers", "1", "--slack", "0.005"]
    )
    assert ok.exit_code == 0, ok.output
    assert "domestic_share: 0.0 % .. 50.0 %" in ok.output
    assert (tmp_path / "results" / "alternatives" / "two_types.nc").is_file()
    page = tmp_path / "reports" / "alternatives" / "two_types.html"
    assert page.is_file()
    page.unlink()
    again = CliRunner().invoke(cli, ["report", str(tmp_path / "results" / "alternatives" / "two_types.nc")])
    assert again.exit_code == 0, again.output  # plan report redraws the alternatives page and each plan's report
    assert page.is_file() and (page.parent / "two_types" / "least_cost.html").is_file()
    assert not list((tmp_path / "results").rglob("*.tmp*"))  # nothing half-written
    infeasible = CliRunner().invoke(
        cli,
        [
            "alternatives",
            str(scenario_file),
            "--set",
            "facility.max_halls=0",
            "--set",
            "policy.installed_eflops_min=0.001",
        ],
    )
    assert infeasible.exit_code == 1 and "no least-cost plan" in infeasible.output
