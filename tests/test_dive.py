"""The LP relaxation and rounding dive (planner/dive.py): a valid bound, a feasible plan, same optimum.

Feasibility is checked from the compiled matrices directly (row activities, bounds,
integrality), not through the dive's own bookkeeping.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from test_model_tiny import dlc_cooling
from tiny import tiny, tiny_data, write_profile

from planner.model import build_model
from planner.pipeline import plan_scenario
from planner.solver import dive as dive_module
from planner.solver import solve as solve_module
from planner.solver.bounds import dual_bound
from planner.solver.dive import START_STEP, ConcurrentDive, PlanStart, Relaxation
from planner.solver.highs import SolveOptions, compile_model, interior_point
from planner.solver.solve import solve

EXACT = SolveOptions(time_limit_s=60, mip_gap=1e-9)


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_profile(tmp_path_factory.mktemp("dive") / "profile.csv")


def _pue_case() -> dict[str, Any]:
    """Two cooling technologies under a PUE cap (hand optimum 37,977,060 CNY in test_model_tiny)."""
    return {
        "demand.inference.peak_tokens_per_s": 24_000,
        "accelerators.gpu.cooling": ["air", "dlc"],
        "cooling.air.fans_pumps_kw_per_kw": 0.3,
        "cooling.air.plant.capex_cny_per_unit": 1e4,
        "cooling.dlc": dlc_cooling(),
        "policy.pue_max": 1.2,
    }


CASES = {
    "default": {},
    "lumpy": {"demand.inference.peak_tokens_per_s": 250_000},
    "pue_cap": _pue_case(),
}


def _assert_feasible(compiled: Any, x: np.ndarray, tol: float = 1e-6) -> None:
    activity = compiled.A @ x
    scale = 1 + np.abs(activity)
    assert np.all(activity >= compiled.row_lower - tol * scale), "a row is below its lower bound"
    assert np.all(activity <= compiled.row_upper + tol * scale), "a row is above its upper bound"
    assert np.all(x >= compiled.col_lower - tol) and np.all(x <= compiled.col_upper + tol)
    ints = x[compiled.integer]
    assert np.allclose(ints, np.round(ints), atol=1e-9), "an integer column is fractional"


@pytest.mark.parametrize("case", sorted(CASES))
def test_dive_gives_feasible_plan_and_valid_bound(profile: Path, case: str) -> None:
    scenario = tiny(profile, CASES[case])
    compiled = compile_model(build_model(scenario))
    dive = Relaxation(compiled, EXACT).dive(time.perf_counter() + 60)
    assert dive.relaxation_status == "optimal"
    assert dive.x is not None and dive.objective is not None and dive.bound is not None
    _assert_feasible(compiled, dive.x)
    objective = float(compiled.cost @ dive.x + compiled.offset)
    assert dive.objective == pytest.approx(objective, rel=1e-9)
    # The MIP optimum, solved without the dive, lies between the relaxation and the dive.
    exact = solve(build_model(scenario), SolveOptions(time_limit_s=60, mip_gap=1e-9, dive=False))
    assert exact.objective is not None
    assert dive.bound <= exact.objective * (1 + 1e-9)
    assert exact.objective <= dive.objective * (1 + 1e-9)


def test_each_lp_of_the_dive_gets_the_time_it_is_given_whatever_earlier_runs_took(profile: Path) -> None:
    # HiGHS holds its time limit against the instance's total run time over all its runs (HiGHS#1477):
    # before, a dive's LP given "0.2 s left" after 0.3 s of earlier runs stopped at once ("Time limit
    # reached"); on four sites with --time-limit 300 every LP of the coarse dive after its relaxation did.
    compiled = compile_model(build_model(tiny(profile, CASES["lumpy"])))
    relaxation = Relaxation(compiled, EXACT)
    for _ in range(5_000):  # solves from scratch (about 1 ms each), until 0.3 s of run time in all
        if relaxation.highs.getRunTime() > 0.3:
            break
        relaxation.highs.clearSolver()
        assert relaxation.solve_lp(60)[0] == "optimal"
    assert relaxation.highs.getRunTime() > 0.3
    relaxation.highs.clearSolver()
    t0 = time.perf_counter()
    status, objective = relaxation.solve_lp(0.2)
    assert time.perf_counter() - t0 < 0.2
    assert status == "optimal" and objective is not None


def test_same_optimum_with_and_without_the_dive(profile: Path) -> None:
    scenario = tiny(profile, _pue_case())
    with_dive = plan_scenario(scenario, EXACT)
    without = plan_scenario(scenario, SolveOptions(time_limit_s=60, mip_gap=1e-9, dive=False))
    assert with_dive.outcome.objective == pytest.approx(without.outcome.objective, rel=1e-9)
    assert with_dive.dataset is not None
    assert float(with_dive.dataset.npv_cny) == pytest.approx(37_977_060, rel=1e-6)


class _Event:
    """Stands in for highspy's callback event: the dual bound HiGHS reports and the solution slot."""

    def __init__(self, bound: float) -> None:
        self.data_out = type("Out", (), {"mip_dual_bound": bound})()
        self.data_in = self
        self.solution: np.ndarray | None = None

    def setSolution(self, x: np.ndarray) -> None:  # noqa: N802 (highspy's name)
        self.solution = x


def test_dive_meets_the_mip_after_its_root_lp(profile: Path) -> None:
    scenario = tiny(profile, CASES["lumpy"])
    compiled = compile_model(build_model(scenario))
    concurrent = ConcurrentDive(Relaxation(compiled, EXACT), time.perf_counter() + 60)
    before_root = [_Event(-np.inf), _Event(12.0)]  # after setup; the trivial bound before the root LP
    for event in before_root:
        concurrent._callback(event)
        assert event.solution is None
    assert not concurrent.given
    meeting = _Event(300.0)  # the second finite bound: the root LP is solved; wait for the dive here
    concurrent._callback(meeting)
    result = concurrent.finish()
    assert concurrent.given and meeting.solution is not None and result.x is not None
    assert np.array_equal(meeting.solution, result.x)
    later = _Event(301.0)
    concurrent._callback(later)
    assert later.solution is None  # handed over once


def test_tight_gap_goes_on_to_branch_and_bound_from_the_dive(profile: Path) -> None:
    scenario = tiny(profile, CASES["lumpy"])
    outcome = solve(build_model(scenario), EXACT)
    assert "solve" in outcome.timings
    assert outcome.dive_objective is not None and outcome.objective is not None
    assert outcome.objective <= outcome.dive_objective * (1 + 1e-9)
    assert outcome.relaxation_bound is not None and outcome.bound is not None
    assert outcome.relaxation_bound <= outcome.bound * (1 + 1e-9)


def test_dive_first_skips_the_mip_only_when_the_relaxation_proves_the_gap(profile: Path) -> None:
    """One core per solve (sweeps): the dive runs first; a loose gap ends there, a tight one goes on."""
    scenario = tiny(profile, CASES["pue_cap"])  # dive 39.134, relaxation 29.373, optimum 37.977 MCNY
    exact = solve(build_model(scenario), SolveOptions(time_limit_s=60, mip_gap=1e-9, dive=False))
    loose = solve(build_model(scenario), SolveOptions(time_limit_s=60, mip_gap=0.3, concurrent_dive=False))
    assert loose.status == "optimal" and "rounding dive" in loose.termination
    assert "solve" not in loose.timings  # HiGHS's MIP never ran
    assert loose.objective == loose.dive_objective and loose.bound == loose.relaxation_bound
    assert loose.bound <= exact.objective <= loose.objective and loose.gap <= 0.3
    _assert_feasible(compile_model(build_model(scenario)), loose.x)
    tight = solve(build_model(scenario), SolveOptions(time_limit_s=60, mip_gap=1e-9, concurrent_dive=False))
    # 24.9 % > the gap: on to HiGHS's MIP (which proves this one at its root, before the meeting
    # point at which the dive's plan would be handed over).
    assert "solve" in tight.timings
    assert not tight.dive_beside_mip and not loose.dive_beside_mip  # the dive went first: its time is wall clock
    assert tight.objective == pytest.approx(exact.objective, rel=1e-9)
    assert tight.objective == pytest.approx(37.97706, rel=1e-6)


def test_a_large_models_cold_relaxation_by_interior_point_gives_the_simplexs_bound_and_optimum(
    profile: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above INTERIOR_POINT_COLUMNS (here: every model) the relaxation starts by HiPO with crossover,
    which ``highspy[extras]`` provides; its bound is the simplex's, its basis serves the dive's
    re-solves, the dive goes first (no MIP beside it) and a MIP after it solves its root LP by HiPO
    too. Optimum by hand in test_model_tiny.
    """
    assert interior_point() == "hipo"  # the dependency is installed and HiGHS accepts it
    scenario = tiny(profile, CASES["pue_cap"])
    compiled = compile_model(build_model(scenario))
    simplex = Relaxation(compiled, EXACT)
    assert not simplex.cold_interior
    bound = simplex.dive(time.perf_counter() + 60).bound
    monkeypatch.setattr(dive_module, "INTERIOR_POINT_COLUMNS", 0)
    relaxation = Relaxation(compiled, EXACT)
    assert relaxation.cold_interior and relaxation.highs.getOptionValue("solver")[1] == "hipo"
    dive = relaxation.dive(time.perf_counter() + 60)
    assert bound is not None and dive.bound == pytest.approx(bound, rel=1e-7)
    assert dive.x is not None
    _assert_feasible(compiled, dive.x)
    asked: list[str | None] = []
    run_highs = solve_module.run_highs

    def recorded(*args: Any, root_lp: str | None = None, **kwargs: Any) -> Any:
        asked.append(root_lp)
        return run_highs(*args, root_lp=root_lp, **kwargs)

    monkeypatch.setattr(solve_module, "run_highs", recorded)
    outcome = solve(build_model(scenario), EXACT)  # the dive's plan is not within 1e-9: on to the MIP
    assert asked == ["hipo"]  # its root LP by interior point too
    assert not outcome.dive_beside_mip and "solve" in outcome.timings
    assert outcome.objective == pytest.approx(37.97706, rel=1e-6)


def test_warm_basis_gives_the_same_relaxation_and_a_foreign_one_is_ignored(profile: Path) -> None:
    options = SolveOptions(time_limit_s=60, mip_gap=1e-9, concurrent_dive=False)
    first = solve(build_model(tiny(profile, CASES["lumpy"])), options)
    assert first.relaxation_basis is not None and not first.relaxation_warm
    other = tiny(profile, {**CASES["lumpy"], "demand.inference.peak_tokens_per_s": 180_000})  # same structure
    warm = solve(build_model(other), options, warm_basis=first.relaxation_basis)
    cold = solve(build_model(other), options)
    assert warm.relaxation_warm and not cold.relaxation_warm
    assert warm.relaxation_bound == pytest.approx(cold.relaxation_bound, rel=1e-9)
    assert warm.objective == pytest.approx(cold.objective, rel=1e-9)
    assert warm.relaxation_bound < warm.objective  # the lumpy case has a real integrality gap
    # A basis of another structure (a different number of rows and columns) is not used.
    foreign = solve(build_model(tiny(profile, _pue_case())), options, warm_basis=first.relaxation_basis)
    assert not foreign.relaxation_warm and foreign.objective == pytest.approx(37.97706, rel=1e-6)


def test_a_warm_relaxation_lets_highs_choose_the_simplex_by_the_basis_for_its_first_solve_only(profile: Path) -> None:
    # A sweep case that changes only prices leaves the first case's basis primal feasible, where the
    # primal simplex re-optimises in a third of the dual's time (pue_x_price: 2.4-4.1 s against 9.4-13.0
    # s); HiGHS's "choose" (simplex_strategy 0) picks by the basis. The dive's re-solves keep the dual.
    compiled = compile_model(build_model(tiny(profile, CASES["lumpy"])))
    first = Relaxation(compiled, EXACT).dive(time.perf_counter() + 60, round_plan=False)
    dearer = compile_model(build_model(tiny(profile, {**CASES["lumpy"], "power.grid.tariff.scale": 1.5})))
    cold = Relaxation(dearer, EXACT)
    assert cold.highs.getOptionValue("simplex_strategy")[1] == 1  # HiGHS's dual, untouched
    warm = Relaxation(dearer, EXACT, start=first.basis)
    assert warm.warm and warm.highs.getOptionValue("simplex_strategy")[1] == 0
    status, bound = warm.solve_lp(60)
    assert status == "optimal" and bound == pytest.approx(cold.solve_lp(60)[1], rel=1e-9)
    assert warm.highs.getOptionValue("simplex_strategy")[1] == 1  # back for the re-solves
    mine = Relaxation(dearer, dataclasses.replace(EXACT, extra=(("simplex_strategy", 4),)), start=first.basis)
    assert mine.highs.getOptionValue("simplex_strategy")[1] == 4  # the user's own choice is kept
    mine.solve_lp(60)
    assert mine.highs.getOptionValue("simplex_strategy")[1] == 4


def test_rounding_is_repaired_on_rows_of_the_group_alone() -> None:
    """A purchase cap over two cooling technologies: 2.5 + 2.5 <= 5 rounds up to 3 + 3; the repair
    takes one unit back. A row that also involves a column outside the group is left to the LP."""
    from scipy import sparse

    # rows: x0 + x1 <= 5 (own), x0 + x2 <= 10 (x2 outside the group), x1 >= 2 (own, holds)
    A = sparse.csc_array(np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]))
    compiled = SimpleNamespace(
        A=A, row_lower=np.array([-np.inf, -np.inf, 2.0]), row_upper=np.array([5.0, 10.0, np.inf])
    )
    relaxation = Relaxation.__new__(Relaxation)
    relaxation.compiled = compiled
    relaxation.lower, relaxation.upper = np.zeros(3), np.full(3, 100.0)
    relaxation._row_entries = None  # counted on first use
    cols, x = np.array([0, 1]), np.array([2.5, 2.4, 7.0])
    repaired = relaxation._repaired(cols, np.array([3.0, 3.0]), x)
    assert repaired.tolist() == [3.0, 2.0]  # x1 was rounded up furthest (0.6): it gives the unit back
    assert relaxation._repaired(cols, np.array([2.0, 3.0]), x).tolist() == [2.0, 3.0]  # feasible: unchanged


#: Two sites of five halls over two years (halls live both years), so that halls are built per site and year.
TWO_SITES = {
    "years": [2026, 2027],
    "facility.hall.lifetime_years": 5,
    "facility.max_halls": 10,
    "sites": {
        "a": {"max_halls": 5, "grid": {"max_blocks": 5}, "pv_max_mw": 0},
        "b": {"max_halls": 5, "grid": {"max_blocks": 5}, "pv_max_mw": 0},
    },
}


def test_site_indexed_builds_are_rounded_up_over_the_sites_not_at_each(profile: Path) -> None:
    """LP halls a: 0.4 in 2026, 0.4 in 2027; b: 0.3, 0.5. Rounding each site's cumulative builds up
    gives a 1 + 0 and b 1 + 0: two halls in 2026 where the LP builds 0.7. Over the sites: 2026's
    total 0.7 rounds up to 1, given to a (fraction 0.4 > 0.3); 2027's total 1.6 to 2, so one more,
    given to b (left 0.8 against a's -0.2): a 1 + 0, b 0 + 1, as many halls as the LP's rounded totals.
    """
    compiled = compile_model(build_model(tiny(profile, TWO_SITES)))
    relaxation = Relaxation(compiled, EXACT)
    assert relaxation.sites == {"a", "b"}
    cols = np.array([j for j, v in enumerate(compiled.columns) if v.parent_component().local_name == "halls_new"])
    index = [compiled.columns[j].index() for j in cols]
    lp = {("a", 2026): 0.4, ("a", 2027): 0.4, ("b", 2026): 0.3, ("b", 2027): 0.5}
    x = np.zeros(len(compiled.columns))
    x[cols] = [lp[i] for i in index]
    per_site = dict(zip(index, relaxation._rounded(cols, x, nearest=False), strict=True))
    assert per_site == {("a", 2026): 1, ("a", 2027): 0, ("b", 2026): 1, ("b", 2027): 0}
    over_sites = dict(zip(index, relaxation._rounded_over_sites(cols, x), strict=True))
    assert over_sites == {("a", 2026): 1, ("a", 2027): 0, ("b", 2026): 0, ("b", 2027): 1}
    # A site's own yes/no is not shared out, and a model of one site rounds per key as before.
    binaries = np.flatnonzero([v.is_binary() for v in compiled.columns])
    assert relaxation._rounded_over_sites(binaries, x) is None
    one_site = Relaxation(compile_model(build_model(tiny(profile, {}))), EXACT)
    assert not one_site.sites


def test_on_two_sites_the_dive_gives_a_feasible_plan_within_the_bound(profile: Path) -> None:
    # 2.5 MW of servers over two sites of at most two 1 MW halls each (one year: the tiny plant and
    # blocks live one year, which the cumulative rounding does not follow): the dive's plan is a
    # plan, and the MIP optimum lies between it and the relaxation.
    changes = {
        "facility.max_halls": 10,
        "sites": {name: {**spec, "max_halls": 2} for name, spec in TWO_SITES["sites"].items()},
        "demand.inference.peak_tokens_per_s": 250_000,
    }
    scenario = tiny(profile, changes)
    compiled = compile_model(build_model(scenario))
    dive = Relaxation(compiled, EXACT).dive(time.perf_counter() + 60)
    assert dive.x is not None and dive.objective is not None and dive.bound is not None
    _assert_feasible(compiled, dive.x)
    exact = solve(build_model(scenario), SolveOptions(time_limit_s=60, mip_gap=1e-9, dive=False))
    assert exact.objective is not None
    assert dive.bound <= exact.objective * (1 + 1e-9) <= dive.objective * (1 + 2e-9)


def test_a_group_with_no_room_for_one_more_unit_is_rounded_down(profile: Path) -> None:
    """Where the lumpy builds fixed first leave no room for one more server (on the four sites with a
    hub buying servers at full load, every hall and block is full in the LP), rounding the servers up or
    to the nearest has no plan; the group is then rounded down, every cumulative build to its whole part,
    before the key-by-key fallback. Here rounding any other way is refused (as an LP without a plan)."""
    changes = {
        "facility.max_halls": 10,
        "sites": {name: {**spec, "max_halls": 2} for name, spec in TWO_SITES["sites"].items()},
        "demand.inference.peak_tokens_per_s": 250_700,  # LP: 50.7 servers at a, 200 at b
    }
    compiled = compile_model(build_model(tiny(profile, changes)))
    relaxation = Relaxation(compiled, EXACT)
    group = np.flatnonzero([v.parent_component().local_name == "servers_new" for v in compiled.columns])
    fix, seen = relaxation._fix, {"refused": 0}

    def only_down(cols: np.ndarray, values: np.ndarray, deadline: float) -> float | None:
        if compiled.columns[cols[0]].parent_component().local_name != "servers_new":
            return fix(cols, values, deadline)
        if "down" not in seen:  # the LP values before the group's first rounding
            seen["down"] = relaxation._rounded(cols, relaxation.values(), nearest=False, up=False)
        if len(cols) < len(group) or not np.array_equal(values, seen["down"]):
            seen["refused"] += 1
            return None
        return fix(cols, values, deadline)

    relaxation._fix = only_down  # type: ignore[method-assign]
    dive = relaxation.dive(time.perf_counter() + 60)
    assert seen["refused"] == 3  # rounded up per site, up over the sites, to the nearest
    assert dive.x is not None
    np.testing.assert_array_equal(dive.x[group], seen["down"])
    np.testing.assert_array_equal(seen["down"], [50, 200])
    _assert_feasible(compiled, dive.x)


def test_a_group_that_breaks_a_coupling_row_is_fixed_key_by_key(profile: Path) -> None:
    """A 50 % domestic-compute floor binds in the LP: 1.1 foreign and 1.375 domestic servers (the
    floor needs 0.8 n >= g). Rounding both up (2, 2) or to nearest (1, 1) breaks the floor; fixing
    the foreign type first (2) lets the LP raise the domestic one (2.5), which then rounds to 3."""
    npu = copy.deepcopy(tiny_data(profile)["accelerators"]["gpu"])
    npu.update(domestic=True, chip="N1", pflops_per_server=0.8, tokens_per_s=600, capex_cny=0.75e6)
    changes = {
        "accelerators.npu": npu,
        "policy.domestic_compute_share_min": 0.5,
        "demand.inference.peak_tokens_per_s": 1925,
    }
    scenario = tiny(profile, changes)
    compiled = compile_model(build_model(scenario))
    whole_only = Relaxation(compiled, EXACT)
    whole_only._fix_key_by_key = lambda cols, deadline: None  # the dive as it was before the fallback
    assert whole_only.dive(time.perf_counter() + 60).x is None
    dive = Relaxation(compiled, EXACT).dive(time.perf_counter() + 60)
    assert dive.x is not None
    _assert_feasible(compiled, dive.x)
    exact = solve(build_model(scenario), SolveOptions(time_limit_s=60, mip_gap=1e-9, dive=False))
    assert dive.objective == pytest.approx(exact.objective, rel=1e-9)  # here the dive finds the optimum


def test_infeasible_relaxation_is_diagnosed(profile: Path) -> None:
    # Existing air-cooled servers (kappa 0.1, PUE 1.1) must run: a PUE cap of 1.07 cannot hold,
    # and the LP relaxation already shows it. (DLC, kappa 0.05, makes 1.07 physically possible for
    # new servers, so validation lets the cap through: the existing fleet is what breaks it.)
    existing = [{"accelerator": "gpu", "cooling": "air", "count": 40, "year_built": 2025}]
    changes = {
        "policy.pue_max": 1.07,
        "existing.servers": existing,
        "accelerators.gpu.lifetime_years": 5,
        "accelerators.gpu.cooling": ["air", "dlc"],
        "accelerators.gpu.max_new_per_year": 5,  # too few new DLC servers to dilute the air fleet's PUE
        "cooling.dlc": dlc_cooling(),
    }
    scenario = tiny(profile, changes)
    outcome = solve(build_model(scenario), EXACT)
    assert outcome.status == "infeasible"
    assert outcome.x is None and outcome.diagnosis
    assert "PUE" in "\n".join(outcome.diagnosis)


@pytest.mark.long
def test_medium_plan_is_the_same_twice_and_the_dive_met_the_mip(tmp_path: Path) -> None:
    """2026-2027 of the default on 2 representative days: HiGHS reaches the meeting point after its
    root LP, and two solves give the same plan to the last digit (the meeting is at a fixed point
    of HiGHS's own sequence, not a race between threads)."""
    from conftest import write_scenario
    from test_residuals import medium_data

    from planner.scenario import load_scenario

    scenario = load_scenario(write_scenario(tmp_path, medium_data(representative_days=2), "medium.yaml"))
    options = SolveOptions(time_limit_s=120, mip_gap=0.005)
    first = solve(build_model(scenario), options, shadow_prices=False)
    second = solve(build_model(scenario), options, shadow_prices=False)
    assert first.dive_given and second.dive_given
    assert first.dive_beside_mip and "solve" in first.timings  # side by side: the report leaves it out of the total
    assert first.x is not None and second.x is not None
    assert first.objective == second.objective
    assert np.array_equal(first.x, second.x)
    assert first.relaxation_bound is not None and first.dive_objective is not None
    assert first.relaxation_bound <= first.objective <= first.dive_objective * (1 + 1e-9)


@pytest.mark.parametrize("bad", [{"time_limit_s": float("nan")}, {"time_limit_s": float("inf")}, {"mip_gap": -0.1}])
def test_solve_options_refuse_unbounded_limits(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        SolveOptions(**bad)


def test_a_failing_dive_does_not_cost_the_plan(profile: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: Relaxation, deadline: float) -> None:
        raise RuntimeError("HiGHS failed on the side thread")

    monkeypatch.setattr(Relaxation, "dive", broken)
    scenario = tiny(profile, CASES["lumpy"])
    outcome = solve(build_model(scenario), EXACT, shadow_prices=False)
    exact = solve(build_model(scenario), SolveOptions(time_limit_s=60, mip_gap=1e-9, dive=False), shadow_prices=False)
    assert outcome.status == "optimal" and outcome.objective == pytest.approx(exact.objective, rel=1e-9)
    assert outcome.dive_objective is None and not outcome.dive_given


def test_a_start_plan_is_kept_unless_something_better_is_found(profile: Path) -> None:
    """``start`` (a near-optimal alternative's least-cost plan) is never worse than what comes back, and
    a plan of another model (another length) is ignored. Here the dive's own plan (39.134 MCNY) is within
    the loose gap of the relaxation (29.373) and would be returned but for the start (the optimum, 37.977)."""
    scenario = tiny(profile, CASES["pue_cap"])
    exact = solve(build_model(scenario), SolveOptions(time_limit_s=60, mip_gap=1e-9, dive=False), shadow_prices=False)
    assert exact.x is not None
    for concurrent in (False, True):
        loose = SolveOptions(time_limit_s=60, mip_gap=0.5, concurrent_dive=concurrent)  # a gap the dive alone meets
        outcome = solve(build_model(scenario), loose, shadow_prices=False, start=exact.x)
        assert outcome.objective is not None
        assert outcome.objective <= exact.objective * (1 + 1e-9), concurrent
    without = solve(build_model(scenario), SolveOptions(time_limit_s=60, mip_gap=0.5, concurrent_dive=False))
    assert without.objective == pytest.approx(39.134, rel=1e-4)  # what the start prevents
    foreign = solve(build_model(scenario), EXACT, shadow_prices=False, start=np.zeros(3))
    assert foreign.objective == pytest.approx(exact.objective, rel=1e-9)


def test_under_an_npv_budget_the_dive_keeps_a_margin_for_rounding() -> None:
    """Maximise servers ``a`` with ``a <= 10 h`` (halls) and the NPV ``a + 5 h <= 17``; LP: h = 17/15,
    a = 11.33. Without margins a rounds to 12 (h >= 1.2: NPV 18) or 11, then h to 2 (NPV 21) or 1
    (a <= 10 broken): no plan. With margins 1.25 (a) and 6.25 (h) the LP starts at the budget 9.5
    (h = 0.633, a = 6.33); a is fixed at 7 at 10.75 (NPV 7 + 3.5), h at 1 at 17 (NPV 12)."""
    import pyomo.environ as pyo

    m = pyo.ConcreteModel()
    m.a = pyo.Var(within=pyo.NonNegativeIntegers, bounds=(0, 100))
    m.h = pyo.Var(within=pyo.NonNegativeIntegers, bounds=(0, 100))
    m.space = pyo.Constraint(expr=m.a <= 10 * m.h)
    m.npv = pyo.Objective(expr=m.a + 5 * m.h)
    compiled = compile_model(m)
    names = [v.name for v in compiled.columns]
    direction = np.array([-1.0 if name == "a" else 0.0 for name in names])  # maximise a
    alt = compiled.with_objective(direction, 0.0, budget=17.0)
    assert alt.budget_row == len(alt.rows) - 1 and compiled.budget_row is None

    no_margin = Relaxation(alt, EXACT)
    no_margin.margins = lambda groups: [0.0] * len(groups)  # type: ignore[method-assign]
    assert no_margin.dive(time.perf_counter() + 60).x is None

    relaxation = Relaxation(alt, EXACT)
    assert relaxation.margins(relaxation.groups()) == pytest.approx([1.25, 6.25])
    dive = relaxation.dive(time.perf_counter() + 60)
    assert dive.bound == pytest.approx(-170 / 15)  # the relaxation at the full budget: a proven bound
    assert dive.x is not None
    assert dict(zip(names, dive.x.round(9), strict=True)) == {"a": 7.0, "h": 1.0}
    assert float(compiled.cost @ dive.x + compiled.offset) <= 17.0


def _trace_fix(relaxation: Relaxation) -> list[frozenset[str]]:
    """The groups (component names) of each LP the dive fixes columns with, in order, as it goes."""
    fix, calls = relaxation._fix, []
    columns = relaxation.compiled.columns

    def traced(cols: np.ndarray, values: np.ndarray, deadline: float) -> float | None:
        calls.append(frozenset(columns[int(j)].parent_component().local_name for j in cols))
        return fix(cols, values, deadline)

    relaxation._fix = traced  # type: ignore[method-assign]
    return calls


CAPACITY = frozenset({"halls_new", "cooling_units_new", "grid_blocks_new", "generators_new"})


def test_on_one_site_the_builds_that_only_add_capacity_are_rounded_together(profile: Path) -> None:
    """Halls, plant units, grid blocks and gensets: one LP for the four, after the servers and racks
    that load them, each rounded up as it would be alone; the plan is a plan within the bound, and
    the MIP optimum lies between them. On two sites the dive fixes every group on its own."""
    scenario = tiny(profile, CASES["lumpy"])
    model = build_model(scenario)
    assert model.capacity_builds == CAPACITY
    compiled = compile_model(model)
    relaxation = Relaxation(compiled, EXACT)
    calls = _trace_fix(relaxation)
    dive = relaxation.dive(time.perf_counter() + 60)
    # The in-use binaries, servers and racks one LP each, then the four in one.
    assert calls[:-1] == [{"cooling_in_use"}, {"site_in_use"}, {"servers_new"}, {"racks_new"}]
    assert calls[-1] == CAPACITY
    names = [name for name, _, _ in dive.steps]
    assert names[-4:] == ["halls_new", "cooling_units_new", "grid_blocks_new", "generators_new"]
    assert len(names) == len(set(names)) == 8
    assert dive.x is not None and dive.objective is not None and dive.bound is not None
    assert {objective for name, objective, _ in dive.steps if name in CAPACITY} == {dive.objective}
    _assert_feasible(compiled, dive.x)
    exact = solve(build_model(scenario), SolveOptions(time_limit_s=60, mip_gap=1e-9, dive=False))
    assert exact.objective is not None
    assert dive.bound <= exact.objective * (1 + 1e-9) <= dive.objective * (1 + 1e-9)
    two_sites = Relaxation(compile_model(build_model(tiny(profile, TWO_SITES))), EXACT)
    assert two_sites.together(two_sites.groups()) == {}


def test_when_the_capacity_builds_have_no_plan_together_they_are_fixed_one_at_a_time(
    profile: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The joint LP refused (as when rounding every one of them up passes a cap on their stock): the
    # bounds and basis are as before it, and the dive goes on group by group to the same plan.
    scenario = tiny(profile, CASES["lumpy"])
    compiled = compile_model(build_model(scenario))
    together = Relaxation(compiled, EXACT).dive(time.perf_counter() + 60)
    refused = []

    def no_plan(self: Relaxation, groups: list[tuple[str, np.ndarray]], x: np.ndarray, deadline: float) -> None:
        refused.append([name for name, _ in groups])
        return None

    monkeypatch.setattr(Relaxation, "_fix_together", no_plan)
    relaxation = Relaxation(compiled, EXACT)
    calls = _trace_fix(relaxation)
    alone = relaxation.dive(time.perf_counter() + 60)
    assert refused == [["halls_new", "cooling_units_new", "grid_blocks_new", "generators_new"]]
    assert calls[-4:] == [{"halls_new"}, {"cooling_units_new"}, {"grid_blocks_new"}, {"generators_new"}]
    assert alone.x is not None and alone.objective is not None and together.objective is not None
    _assert_feasible(compiled, alone.x)
    # Here every rounding up is the same from either LP: the same plan.
    assert alone.objective == pytest.approx(together.objective, rel=1e-9)


def _rows_made_harder_by_one_more_unit(compiled: Any, stock: str, fixed_before: frozenset[str]) -> list[str]:
    """Rows that one more unit of ``stock`` (in service) makes harder to hold, besides its definition and
    caps on it: rows whose other columns are the stock's own or binaries the dive fixes before."""
    names = [v.parent_component().local_name for v in compiled.columns]
    A = compiled.A.tocsr()
    harder = []
    for j in (k for k, name in enumerate(names) if name == stock):
        column = compiled.A[:, [j]].tocoo()
        for r, a in zip(column.row, column.data, strict=True):
            row = compiled.rows[r][0].parent_component().local_name
            others = {names[k] for k in A.indices[A.indptr[r] : A.indptr[r + 1]]} - {stock}
            if row == f"{stock}_def" or others <= fixed_before:
                continue
            relaxed = (a < 0 and compiled.row_lower[r] == -np.inf) or (a > 0 and compiled.row_upper[r] == np.inf)
            if not relaxed:
                harder.append(row)
    return sorted(set(harder))


@pytest.mark.parametrize("changes", [CASES["pue_cap"], TWO_SITES], ids=["one site, PUE cap", "two sites"])
def test_the_builds_declared_capacity_only_make_no_row_harder_but_caps_on_them(profile: Path, changes: dict) -> None:
    # What the dive relies on to round them together, read from the matrix: each row their stock in
    # service enters holds at least as easily with one unit more, but for caps on that stock (whose
    # other columns are in-use binaries, fixed first). Servers and racks take power and floor: not so.
    model = build_model(tiny(profile, changes))
    compiled = compile_model(model)
    binaries = frozenset({"cooling_in_use", "site_in_use"})
    for build in model.capacity_builds:
        assert _rows_made_harder_by_one_more_unit(compiled, build.removesuffix("_new"), binaries) == [], build
    servers = _rows_made_harder_by_one_more_unit(compiled, "servers", binaries)
    assert servers == ["hall_nameplate", "it_power_def", "rack_power", "rack_space"]
    assert _rows_made_harder_by_one_more_unit(compiled, "racks", binaries) == ["hall_space"]


#: one core, as a sweep case; the lumpy case's relaxation lies 2.0 % below its optimum (302.32 against 308.545)
ONE_CORE = SolveOptions(time_limit_s=60, mip_gap=0.05, concurrent_dive=False)


def test_a_similar_scenarios_plan_within_the_gap_is_taken_instead_of_the_dive(profile: Path) -> None:
    # A sweep case moved from its anchor along a price keeps the anchor's whole units: 250 servers in 3
    # halls of 1 MW serve 250,000 tokens/s at any energy price. One LP with them fixed replaces the dive.
    anchor = solve(build_model(tiny(profile, CASES["lumpy"])), ONE_CORE)
    assert anchor.x is not None and anchor.plan_basis is not None and anchor.plan_source == "rounding dive"
    dearer = tiny(profile, {**CASES["lumpy"], "power.grid.tariff.scale": 1.5})
    compiled = compile_model(build_model(dearer))
    started = solve(compiled.model, ONE_CORE, compiled=compiled, plan_start=PlanStart(anchor.x, anchor.plan_basis))
    assert started.plan_source == START_STEP and started.x is not None
    assert "dive_plan_start" in started.timings and "dive_dive" not in started.timings  # no dive
    ints = compiled.integer
    assert np.array_equal(np.round(started.x[ints]), np.round(anchor.x[ints]))
    _assert_feasible(compiled, started.x)
    assert started.objective == pytest.approx(compiled.objective(started.x), rel=1e-9)
    # ... and that plan is the dearer scenario's optimum, solved apart by HiGHS's MIP alone.
    exact = solve(build_model(dearer), SolveOptions(time_limit_s=60, mip_gap=1e-9, dive=False))
    assert started.objective == pytest.approx(exact.objective, rel=1e-9)
    assert started.relaxation_bound is not None and started.gap is not None and started.gap <= ONE_CORE.mip_gap


@pytest.mark.parametrize("start_from", ["over-built", "under-built", "another structure"])
def test_a_plan_start_outside_the_gap_or_without_a_plan_leaves_the_dive_as_it_was(
    profile: Path, start_from: str
) -> None:
    # 400 servers in 4 halls for 250,000 tokens/s cost far more than the relaxation; 100 cannot serve it.
    if start_from == "another structure":
        start = PlanStart(np.zeros(3))
    else:
        peak = {"over-built": 400_000, "under-built": 100_000}[start_from]
        other = solve(
            build_model(tiny(profile, {**CASES["lumpy"], "demand.inference.peak_tokens_per_s": peak})), ONE_CORE
        )
        assert other.x is not None
        start = PlanStart(other.x, other.plan_basis)
    scenario = tiny(profile, CASES["lumpy"])
    with_start = solve(build_model(scenario), ONE_CORE, plan_start=start)
    without = solve(build_model(scenario), ONE_CORE)
    assert with_start.plan_source == without.plan_source == "rounding dive"
    assert with_start.objective == pytest.approx(without.objective, rel=1e-9)
    assert with_start.relaxation_bound == pytest.approx(without.relaxation_bound, rel=1e-9)
    assert np.array_equal(np.round(with_start.x[with_start.x != 0]), np.round(without.x[without.x != 0]))


def _anchor_and_case(profile: Path, tariff: float) -> tuple[Any, Any]:
    """The lumpy case solved as a sweep's anchor, and the model of the same case at another tariff scale."""
    anchor = solve(build_model(tiny(profile, CASES["lumpy"])), ONE_CORE)
    assert anchor.x is not None and anchor.relaxation_duals is not None and anchor.relaxation_bound is not None
    compiled = compile_model(build_model(tiny(profile, {**CASES["lumpy"], "power.grid.tariff.scale": tariff})))
    return anchor, compiled


def _moved(anchor: Any, compiled: Any, options: SolveOptions, duals: bool = True) -> Any:
    """``compiled`` solved as a sweep case moved from ``anchor``: its basis, its plan (and its duals)."""
    start = PlanStart(anchor.x, anchor.plan_basis, anchor.relaxation_duals if duals else None)
    return solve(compiled.model, options, compiled=compiled, warm_basis=anchor.relaxation_basis, plan_start=start)


def test_a_similar_scenarios_duals_prove_its_plan_without_this_relaxation(profile: Path) -> None:
    # A dearer tariff only raises costs: the anchor's duals bound this relaxation at the anchor's own bound
    # (weak duality, planner/solver/bounds.py), which is within the gap of the anchor's plan here. The
    # relaxation is not solved; the plan, its cost and its prices are those of the path that solves it.
    anchor, compiled = _anchor_and_case(profile, 1.5)
    fast = _moved(anchor, compiled, ONE_CORE)
    full = _moved(anchor, compiled, ONE_CORE, duals=False)
    assert fast.plan_source == full.plan_source == START_STEP
    assert "dive_relaxation" not in fast.timings and "dive_relaxation" in full.timings
    assert fast.relaxation_bound is None and fast.relaxation_solution is None and fast.dual_bound is not None
    assert fast.bound == fast.dual_bound and fast.gap is not None and fast.gap <= ONE_CORE.mip_gap
    assert "bound from its LP duals" in fast.termination
    # The bound: at least the anchor's relaxation (costs only rose), at most this case's own relaxation.
    assert full.relaxation_bound is not None
    assert anchor.relaxation_bound * (1 - 1e-9) <= fast.dual_bound <= full.relaxation_bound * (1 + 1e-9)
    assert fast.objective == pytest.approx(full.objective, rel=1e-9)
    assert np.array_equal(fast.plan, full.plan)
    _assert_feasible(compiled, fast.x)
    assert fast.shadow_prices.keys() == full.shadow_prices.keys()
    for key, (value, _) in full.shadow_prices.items():
        assert fast.shadow_prices[key][0] == pytest.approx(value, rel=1e-6, abs=1e-9), key


def test_a_plan_the_duals_do_not_prove_is_proven_by_the_relaxation_without_its_lp_again(profile: Path) -> None:
    # A gap between the two bounds: the anchor's duals prove less than this relaxation. The start's LP,
    # solved first, is kept; the relaxation proves it; no second LP of the start, no dive.
    anchor, compiled = _anchor_and_case(profile, 1.5)
    full = _moved(anchor, compiled, ONE_CORE, duals=False)
    assert full.objective is not None and full.relaxation_bound is not None
    lower = anchor.relaxation_bound
    within_relaxation = (full.objective - full.relaxation_bound) / full.objective
    within_duals = (full.objective - lower) / full.objective
    assert within_relaxation < within_duals  # the duals' bound is the weaker here (hand check of the set-up)
    options = dataclasses.replace(ONE_CORE, mip_gap=(within_relaxation + within_duals) / 2)
    runs = []
    real_start_lp = dive_module.Relaxation._start_lp

    def counted(self: Relaxation, *args: Any, **kwargs: Any) -> Any:
        runs.append(1)
        return real_start_lp(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(dive_module.Relaxation, "_start_lp", counted)
        slow = _moved(anchor, compiled, options)
    assert len(runs) == 1
    assert slow.plan_source == START_STEP and slow.dual_bound is None
    assert slow.relaxation_bound == pytest.approx(full.relaxation_bound, rel=1e-9)
    assert slow.objective == pytest.approx(full.objective, rel=1e-9) and np.array_equal(slow.plan, full.plan)
    assert "dive_dive" not in slow.timings
    for key, (value, _) in full.shadow_prices.items():  # priced from the start's basis, put back
        assert slow.shadow_prices[key][0] == pytest.approx(value, rel=1e-6, abs=1e-9), key


def test_a_cheaper_scenario_gets_no_bound_from_a_dearer_ones_duals(profile: Path) -> None:
    # Power cheaper than at the anchor: the anchor's duals leave unbounded columns with negative reduced
    # costs, so they prove nothing, and the relaxation runs as it did without them.
    anchor, compiled = _anchor_and_case(profile, 1.5)
    cheaper = compile_model(build_model(tiny(profile, CASES["lumpy"])))
    dearer_anchor = _moved(anchor, compiled, ONE_CORE, duals=False)
    assert dearer_anchor.relaxation_duals is not None
    assert dual_bound(cheaper, dearer_anchor.relaxation_duals) == -np.inf
    with_duals = _moved(dearer_anchor, cheaper, ONE_CORE)
    without = _moved(dearer_anchor, cheaper, ONE_CORE, duals=False)
    assert with_duals.dual_bound is None and "dive_relaxation" in with_duals.timings
    assert with_duals.relaxation_bound == pytest.approx(without.relaxation_bound, rel=1e-9)
    assert with_duals.objective == pytest.approx(without.objective, rel=1e-9)
    assert with_duals.plan_source == without.plan_source
