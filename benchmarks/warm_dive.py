"""A sweep's warm cases, LP by LP: where the relaxation and the rounding dive of each case spend their time.

On the first ``--cases`` cases of a sweep file, one core, in this process: the LP relaxation basis of
the first case is solved from scratch (what ``plan sweep`` hands every case of that structure), then
for each later case and each ``--variants`` entry a :class:`~planner.solver.dive.Relaxation` starts
from that basis and dives, printing the relaxation's seconds and simplex iterations, every LP of the
dive (group, seconds, iterations) and the plan's objective. Variants:

* ``plain``: what ``plan sweep`` does;
* ``devex``: HiGHS's Devex pricing in the dual simplex for the whole case
  (``simplex_dual_edge_weight_strategy`` 1; HiGHS reads it once, when it sets up its simplex);
* ``batch:<group>``: the dive as usual up to ``<group>`` (e.g. ``halls_new``), then that group and
  every later one rounded up together and fixed in one LP.

The README (Performance, "Where a warm case's time goes now") quotes these figures.

Usage:
    python benchmarks/warm_dive.py inputs/sweeps/pue_x_price.yaml --cases 4 --variants plain batch:halls_new
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from planner.pipeline import ModelCache, build, relaxation_basis
from planner.scenario import load_scenario
from planner.scenario.sweep import load_sweep
from planner.solver.dive import Relaxation
from planner.solver.highs import SolveOptions
from planner.studies.sweep import case_options, expand

DEADLINE_S = 600.0


def traced(relaxation: Relaxation, log: list[tuple[str, float, int]]) -> None:
    """Record every LP the dive fixes a group with: (group, seconds, simplex iterations)."""
    fix = relaxation._fix
    names = relaxation.compiled.columns

    def _fix(cols: np.ndarray, values: np.ndarray, deadline: float) -> float | None:
        t = time.perf_counter()
        objective = fix(cols, values, deadline)
        name = names[int(cols[0])].parent_component().local_name
        log.append((name, time.perf_counter() - t, int(relaxation.highs.getInfo().simplex_iteration_count)))
        return objective

    relaxation._fix = _fix  # type: ignore[method-assign]


def batched_dive(relaxation: Relaxation, first: str) -> float | None:
    """The dive's groups one LP each up to ``first``, then ``first`` and the rest in one LP; the objective."""
    groups = relaxation.groups()
    names = [n for n, _ in groups]
    if first not in names:
        raise SystemExit(f"no group {first!r}; the groups are {', '.join(names)}")
    k = names.index(first)
    objective = None
    for _, cols in groups[:k]:
        x = relaxation.values()
        values = relaxation._repaired(cols, relaxation._rounded(cols, x, nearest=False), x)
        objective = relaxation._fix(cols, values, time.perf_counter() + DEADLINE_S)
        if objective is None:
            return None
    x = relaxation.values()
    cols = np.concatenate([c for _, c in groups[k:]])
    rounded = [relaxation._repaired(c, relaxation._rounded(c, x, nearest=False), x) for _, c in groups[k:]]
    values = np.concatenate(rounded)
    return relaxation._fix(cols, values, time.perf_counter() + DEADLINE_S)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("sweep", type=Path)
    p.add_argument("--cases", type=int, default=4)
    p.add_argument("--variants", nargs="+", default=["plain"])
    a = p.parse_args(argv)

    spec = load_sweep(a.sweep)
    cases = expand(spec)[: a.cases]
    opts = case_options(spec)
    base = load_scenario(spec.base, [])
    options = SolveOptions.from_scenario(base, time_limit_s=opts["time_limit_s"], mip_gap=opts["mip_gap"], threads=1)
    cache = ModelCache()
    t0 = time.perf_counter()
    basis = relaxation_basis(load_scenario(spec.base, list(cases[0].overrides)), options, cache)
    print(f"{spec.name}: the first case's relaxation basis from scratch in {time.perf_counter() - t0:.1f} s")
    for case in cases[1:]:
        compiled = build(load_scenario(spec.base, list(case.overrides)), cache).compiled
        assert compiled is not None
        print(case.label)
        for variant in a.variants:
            relaxation = Relaxation(compiled, options, start=basis)
            if variant == "devex":
                relaxation.highs.setOptionValue("simplex_dual_edge_weight_strategy", 1)
            log: list[tuple[str, float, int]] = []
            traced(relaxation, log)
            t1 = time.perf_counter()
            _, bound = relaxation.solve_lp(DEADLINE_S)
            t2 = time.perf_counter()
            iterations = int(relaxation.highs.getInfo().simplex_iteration_count)
            if variant.startswith("batch:"):
                objective = batched_dive(relaxation, variant.partition(":")[2])
            else:  # the dive re-solves the relaxation from its optimal basis (no pivots) first
                objective = relaxation.dive(t2 + DEADLINE_S).objective
            t3 = time.perf_counter()
            steps = ", ".join(f"{name} {seconds:.2f} s ({its})" for name, seconds, its in log)
            plan = "no plan" if objective is None else f"{objective:,.3f} M CNY"
            print(
                f"  {variant:<18} relaxation {t2 - t1:5.2f} s ({iterations} iterations), bound {bound:,.3f};"
                f" dive {t3 - t2:5.2f} s -> {plan}",
                flush=True,
            )
            print(f"    {steps}")


if __name__ == "__main__":
    main(sys.argv[1:])
