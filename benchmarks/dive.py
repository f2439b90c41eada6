"""The LP relaxation and the rounding dive of a scenario, group by group: where the dive's gap comes from.

For each seed: build and compile the scenario's model, solve its LP relaxation (the proven bound),
then run the rounding dive (``planner.solver.dive``) and print, for every group of integer decisions
in the order the dive fixes them, each rounding tried (rounded units in all, the LP objective after
it or "no plan", seconds) and the group's result; then the dive's plan, its gap to the bound and the
stage times. The per-group rows show which lumpy decisions cost the gap (on the default on four
sites: the halls, rounded per site, cost 220 M CNY where rounding their sum over the sites costs 42 M).

Then where the gap sits in the objective: each cost component's NPV (the objective's columns grouped by
model component) in the relaxation and in the plan, largest difference first, and the LP values of the
in-use binaries the plan sets to 1 (a binary at 0.05 in the LP pays a twentieth of its spare units
there: the formulation's weak spot, which only branching or cuts close).

Usage:
    python benchmarks/dive.py inputs/tianfu-sites.yaml [--set time.representative_days=4] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from typing import Any

import numpy as np

from planner.pipeline import build
from planner.scenario import load_scenario
from planner.solver import dive as dive_module
from planner.solver.highs import SolveOptions


def run(path: str, overrides: list[str], seed: int, time_limit: float) -> dict[str, Any]:
    """One relaxation and dive, printed as it goes; returns its bound, plan and times."""
    scenario = load_scenario(path, overrides)
    t0 = time.perf_counter()
    compiled = build(scenario).compiled
    assert compiled is not None
    t1 = time.perf_counter()
    options = SolveOptions.from_scenario(scenario, random_seed=seed, time_limit_s=time_limit)
    relaxation = dive_module.Relaxation(compiled, options)
    print(f"seed {seed}: {compiled.shape[0]:,} rows, {compiled.shape[1]:,} columns, build + compile {t1 - t0:.1f} s")

    fix = relaxation._fix
    relaxed: list[np.ndarray] = []

    def traced(cols: np.ndarray, values: np.ndarray, deadline: float) -> float | None:
        if not relaxed:  # the first rounding starts from the relaxation's values
            relaxed.append(relaxation.values().copy())
        t = time.perf_counter()
        objective = fix(cols, values, deadline)
        name = compiled.columns[int(cols[0])].parent_component().local_name
        result = "no plan" if objective is None else f"{objective:,.1f} M CNY"
        print(f"    try {name:<20} {values.sum():>10,.0f} units -> {result:>20}  {time.perf_counter() - t:6.1f} s")
        return objective

    relaxation._fix = traced  # type: ignore[method-assign]
    result = relaxation.dive(time.perf_counter() + time_limit)
    for name, objective, seconds in result.steps:
        print(f"  fixed {name:<20} LP {objective:,.1f} M CNY  ({seconds:.1f} s)")
    gap = result.gap
    print(
        f"  relaxation {result.bound:,.1f} M CNY in {result.timings.get('relaxation', 0):.1f} s; "
        f"dive {result.objective if result.objective is None else f'{result.objective:,.1f}'} M CNY, "
        f"gap {'-' if gap is None else f'{gap:.3%}'}, dive {result.timings.get('dive', 0):.1f} s",
        flush=True,
    )
    if relaxed and result.x is not None:
        where_the_gap_sits(compiled, relaxed[0], result.x)
    return {"bound": result.bound, "objective": result.objective, "gap": gap, **result.timings}


def where_the_gap_sits(compiled: Any, relaxed: np.ndarray, plan: np.ndarray, rows: int = 12) -> None:
    """Print each cost component's NPV [M CNY] in the relaxation and the plan, and the in-use binaries' LP values."""
    names = [v.parent_component().local_name for v in compiled.columns]
    npv: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for j in np.flatnonzero(compiled.cost):
        npv[names[j]][0] += float(compiled.cost[j] * relaxed[j])
        npv[names[j]][1] += float(compiled.cost[j] * plan[j])
    print("  where the gap sits (NPV by component, M CNY): relaxation, plan, difference")
    for name, (lp, whole) in sorted(npv.items(), key=lambda kv: -abs(kv[1][1] - kv[1][0]))[:rows]:
        print(f"    {name:<28} {lp:>12,.1f} {whole:>12,.1f} {whole - lp:>+10,.1f}")
    binaries = defaultdict(list)
    for j in np.flatnonzero(compiled.integer):
        if compiled.columns[j].is_binary() and plan[j] > 0.5 and compiled.col_lower[j] < 0.5:
            binaries[names[j]].append(float(relaxed[j]))
    for name, values in binaries.items():
        print(
            f"  {name}: {len(values)} set to 1 by the plan, at {min(values):.2f}-{max(values):.2f}"
            f" (median {statistics.median(values):.2f}) in the relaxation"
        )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("scenario")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--time-limit", type=float, default=3600)
    a = p.parse_args(argv)
    rows = [run(a.scenario, a.overrides, seed, a.time_limit) for seed in a.seeds]
    for key in ("relaxation", "dive"):
        print(f"median {key}: {statistics.median(r.get(key, float('nan')) for r in rows):.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
