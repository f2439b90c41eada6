"""Seconds per sweep case: rebuild vs parameter re-solve (cold or warm), HiGHS alone, throughput.

On the first ``--cases`` cases of a sweep file, in this one process and one core:

* ``rebuild``: every case loaded, reduced, built, compiled and solved from scratch;
* ``update``: one built model re-used, each case's numbers pushed into it and its compiled
  matrices patched where they reach (``ModelCache``, ``planner.solver.recompile``), the LP relaxation
  solved from scratch;
* ``update+warm``: as ``update``, with the relaxation started from its anchor's basis, each anchor
  from the first case's (what ``plan sweep`` does: ``planner.studies.sweep.run.warm_starts``);
* ``update+plan``: as ``update+warm``, and a case moved from its grid anchor along the last path also
  tries the anchor's plan before the rounding dive (``planner.solver.dive.PlanStart``: the anchor's
  integers fixed, one LP from the anchor's last basis; taken when within the gap).

For each: wall time per case, the time spent in HiGHS (relaxation and dive LPs, MIP, pricing LP:
every ``Highs.run`` of the case, clocked around the call) and the rest ("outside": load, reduction,
build or update, compile, hand-off, the dive's and pricing's own Python, results), and the
objective. (Before, "HiGHS" was the sum of the solver stages, which also held their Python: the
pricing stage's index of the rows, ~50 ms, and a full garbage collection when one fell there.)
With ``--alone`` each case's model is also solved by plain HiGHS (highspy, one
thread, same gap and time limit, from the exact arrays the planner hands over), and the sweep
overhead ratio is the ``update+warm`` wall time over the sum of those. With ``--throughput`` the
whole sweep file runs through ``run_sweep`` on 1 and on 2 local workers (fresh results folders),
reporting cases per minute and whether the two combined results are identical.

Usage:
    python benchmarks/sweep.py inputs/sweeps/pue_x_price.yaml --cases 4 [--seed 1] [--alone] [--throughput]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

import highspy
import xarray as xr
from overhead import finish_alone, save_exact, start_alone  # this folder is on sys.path when run as a script

from planner.model.update import structure_key
from planner.pipeline import ModelCache, plan_scenario
from planner.scenario import load_scenario
from planner.scenario.sweep import load_sweep
from planner.solver.dive import START_STEP, PlanStart
from planner.solver.highs import SolveOptions, compile_model
from planner.studies.sweep import TIMING_VARS, case_options, expand, run_sweep
from planner.studies.sweep.run import plan_starts, warm_starts

_IN_HIGHS = [0.0]  #: seconds inside Highs.run since the process started
_run = highspy.Highs.run


def _clocked_run(self: highspy.Highs, *args, **kwargs):
    """``Highs.run``, its seconds added to ``_IN_HIGHS`` (one core, one run at a time: no overlap)."""
    t0 = time.perf_counter()
    try:
        return _run(self, *args, **kwargs)
    finally:
        _IN_HIGHS[0] += time.perf_counter() - t0


highspy.Highs.run = _clocked_run


def solve_cases(cases, base: Path, options: SolveOptions, mode: str, export: Path | None = None) -> list[dict]:
    """Solve ``cases`` one after the other in ``mode``; one row of figures per case."""
    cache = ModelCache() if mode != "rebuild" else None
    # Warm starts as ``plan sweep`` takes them (planner.studies.sweep.run.warm_starts): each case from its
    # anchor's relaxation basis, each anchor from its structure's first case's. In one process, in the
    # sweep's order, an anchor's relaxation (solved by ``plan sweep`` before the cases) is its own case's.
    structures = {c.id: structure_key(load_scenario(base, list(c.overrides))) for c in cases}
    _, ref_of, anchor_of = warm_starts(cases, structures)
    anchors = {a.id for a in anchor_of.values()}
    bases: dict[str, object] = {}
    plan_of = plan_starts(cases, anchor_of) if mode == "update+plan" else {}  # as ``plan sweep`` tries them
    plans: dict[str, PlanStart] = {}  # anchor id -> its plan
    rows = []
    for case in cases:
        t0 = time.perf_counter()
        in_highs = _IN_HIGHS[0]
        scenario = load_scenario(base, list(case.overrides))
        load = time.perf_counter() - t0
        start = anchor_of[case.id] if anchor_of[case.id].id != case.id else ref_of[case.id]
        run = plan_scenario(
            scenario,
            options,
            shadow_prices=True,
            timings={"load": load},
            cache=cache,
            warm_basis=bases.get(start.id) if mode in ("update+warm", "update+plan") else None,
            plan_start=plans.get(plan_of[case.id].id) if case.id in plan_of else None,
            load_plan=False,  # as ``plan sweep``: the Dataset is read from the plan, not from the model
        )
        wall = time.perf_counter() - t0
        if export is not None:  # the exact arrays handed to HiGHS, for HiGHS alone
            save_exact(compile_model(run.model), export / f"{case.id}.npz")
        if mode in ("update+warm", "update+plan") and case.id in anchors:
            bases[case.id] = run.outcome.relaxation_basis
        if case.id in {a.id for a in plan_of.values()} and run.outcome.x is not None:
            plans[case.id] = PlanStart(run.outcome.x, run.outcome.plan_basis, run.outcome.relaxation_duals)
        solver = _IN_HIGHS[0] - in_highs
        rows.append(
            {
                "case": case.label,
                "wall": wall,
                "solver": solver,
                "outside": wall - solver,
                "objective": run.outcome.objective,
                "gap": run.outcome.gap,
                "warm": run.outcome.relaxation_warm,
                "plan_source": run.outcome.plan_source,
                "mip_ran": "solve" in run.timings,
                "stages": {k: round(v, 2) for k, v in run.timings.items()},
            }
        )
        print(
            f"  {mode:12s} {case.label[:60]:60s} wall {wall:6.1f} s  HiGHS {solver:6.1f} s"
            f"  outside {wall - solver:5.2f} s"
            f"  obj {run.outcome.objective:,.2f}  gap {run.outcome.gap:.3%}  warm {run.outcome.relaxation_warm}"
            f"  MIP {'yes' if 'solve' in run.timings else 'no'}  plan: {run.outcome.plan_source}",
            flush=True,
        )
        print("    stages: " + ", ".join(f"{k} {v:.2f}" for k, v in run.timings.items() if v >= 0.01), flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sweep", type=Path)
    parser.add_argument("--cases", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0, help="HiGHS's random seed")
    parser.add_argument("--modes", nargs="+", default=["rebuild", "update", "update+warm"])
    parser.add_argument("--alone", action="store_true", help="also solve each case's model with plain HiGHS")
    parser.add_argument("--throughput", action="store_true", help="run the whole sweep on 1 and 2 workers")
    args = parser.parse_args(argv)

    spec = load_sweep(args.sweep)
    cases = expand(spec)[: args.cases]
    opts = case_options(spec)
    base_scenario = load_scenario(spec.base, [])
    options = SolveOptions.from_scenario(
        base_scenario, time_limit_s=opts["time_limit_s"], mip_gap=opts["mip_gap"], threads=1, random_seed=args.seed
    )
    options = dataclasses.replace(options, concurrent_dive=False)
    print(f"{spec.name}: {len(cases)} cases, gap {options.mip_gap}, seed {args.seed}, one core each (dive first)")
    results: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) if args.alone else None
        for mode in args.modes:
            results[mode] = solve_cases(cases, spec.base, options, mode, export if mode == "rebuild" else None)
        # After the first case: the median is the steady state of a long sweep; the mean also
        # carries one-time costs (the second case of a re-used model indexes it for patching).
        for mode, rows in results.items():
            later = [r["outside"] for r in rows[1:]] or [float("nan")]
            print(
                f"{mode:12s} per case: wall {statistics.mean(r['wall'] for r in rows):6.1f} s, "
                f"HiGHS {statistics.mean(r['solver'] for r in rows):6.1f} s, "
                f"outside {statistics.mean(r['outside'] for r in rows):5.2f} s (after the first case: "
                f"median {statistics.median(later):5.3f} s, mean {statistics.mean(later):5.3f} s)"
            )
        # Issue 19's warm case: a case that took a similar scenario's plan (its anchor's), HiGHS included.
        for mode, rows in results.items():
            started = [r for r in rows if r["plan_source"] == START_STEP]
            if started:
                walls = sorted(r["wall"] for r in started)
                proofs = sum(1 for r in started if "dive_relaxation" not in r["stages"])
                print(
                    f"{mode:12s} cases that took their anchor's plan: {len(started)}, wall median"
                    f" {statistics.median(walls):.1f} s ({walls[0]:.1f}-{walls[-1]:.1f} s);"
                    f" {proofs} proven by the anchor's duals, without their own relaxation"
                )
        for warm in ("update+warm", "update+plan"):
            if "rebuild" not in results or warm not in results or len(cases) < 2:
                continue
            rb = statistics.median(r["outside"] for r in results["rebuild"][1:])
            up = statistics.median(r["outside"] for r in results[warm][1:])
            print(f"outside-solver time per case (median), rebuild / {warm}: {rb:.3f} / {up:.3f} s = {rb / up:.1f}x")
            for a, b in zip(results["rebuild"], results[warm], strict=True):
                rel = abs(a["objective"] - b["objective"]) / abs(a["objective"])
                objectives = f"rebuild {a['objective']:,.2f} vs {warm} {b['objective']:,.2f}"
                print(f"  {a['case'][:60]:60s} {objectives} ({rel:.3%})")
        if "update+warm" in results and "update+plan" in results:
            print("a similar scenario's plan first (update+plan) against the dive (update+warm), case by case:")
            for a, b in zip(results["update+warm"], results["update+plan"], strict=True):
                print(
                    f"  {a['case'][:60]:60s} wall {a['wall']:6.1f} -> {b['wall']:6.1f} s"
                    f"  obj {a['objective']:,.2f} -> {b['objective']:,.2f}  gap {a['gap']:.3%} -> {b['gap']:.3%}"
                    f"  ({b['plan_source']})"
                )
        if args.alone and export is not None:
            alone = []
            for case in cases:
                result = finish_alone(start_alone(export / f"{case.id}.npz", options))
                seconds, objective = result["total"], result["objective"]
                alone.append(seconds)
                print(f"  HiGHS alone  {case.label[:60]:60s} {seconds:6.1f} s  obj {objective:,.2f}", flush=True)
            ours = sum(r["wall"] for r in results.get("update+warm", results[args.modes[-1]]))
            total = sum(alone)
            print(f"sweep overhead ratio (planner wall / HiGHS alone): {ours:.1f} / {total:.1f} = {ours / total:.3f}")
    if args.throughput:
        combined = {}
        for workers in (1, 2):
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                ds = run_sweep(spec, workers=workers, results_dir=tmp, progress=False)
                wall = time.perf_counter() - t0
                combined[workers] = ds.drop_vars([v for v in TIMING_VARS if v in ds]).load()
            n = spec.n_cases
            print(f"throughput, {workers} worker(s): {n} cases in {wall:.1f} s = {60 * n / wall:.2f} cases/min")
        try:
            xr.testing.assert_identical(combined[1], combined[2])
            print("1 and 2 workers: identical combined results")
        except AssertionError as exc:
            print(f"1 and 2 workers DIFFER: {str(exc)[:2000]}")


if __name__ == "__main__":
    main(sys.argv[1:])
