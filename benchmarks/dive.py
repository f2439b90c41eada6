"""The LP relaxation and the rounding dive of a scenario, group by group: where the dive's gap comes from.

For each seed: build and compile the scenario's model, solve its LP relaxation (the proven bound),
then run the rounding dive (``planner.solver.dive``) and print, for every group of integer decisions
in the order the dive fixes them, each rounding tried (rounded units in all, the LP objective after
it or "no plan", seconds) and the group's result; then the dive's plan, its gap to the bound and the
stage times. The per-group rows show which lumpy decisions cost the gap (on the default on four
sites: the halls, rounded per site, cost 220 M CNY where rounding their sum over the sites costs 42 M).

Usage:
    python benchmarks/dive.py inputs/tianfu-sites.yaml [--set time.representative_days=4] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
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

    def traced(cols: np.ndarray, values: np.ndarray, deadline: float) -> float | None:
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
    return {"bound": result.bound, "objective": result.objective, "gap": gap, **result.timings}


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
