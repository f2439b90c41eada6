"""Stage timings of `plan solve` and its overhead against HiGHS alone on the same model.

For each seed: compile the scenario's model and save it bit for bit (``.npz`` of the matrices, the
exact arrays the planner passes to HiGHS), then plan the scenario through the library (load +
validate, time reduction, model build, compile + hand-off, solve, results) while a separate
process — HiGHS alone — reads the saved arrays and solves them with highspy under the same
options. Prints the stages, HiGHS's counters both ways (nodes, LP iterations: identical counts
mean HiGHS followed the same path, so the hand-off changed nothing), the overhead ratio
(planner total / HiGHS alone, median over seeds) and the peak memory.

Why not the MPS file of ``--export-model``: MPS writes numbers to 15 significant digits, which
changes the last bits of ~30k coefficients of the default; that is enough to send a MIP search
down another path (measured: 546 s inside against 267 s alone on one seed, different plans). With
``--mps`` HiGHS alone also solves the exported MPS, for comparison.

With the dive (the default), the planner runs two threads and HiGHS alone plain HiGHS, one after
the other; the ratio measures the whole planner against the solver's own best effort. With
``--no-dive`` both run plain single-thread HiGHS at the same time on the two cores, so they share
the machine alike and their solve times compare the hand-off alone.

Usage:
    python benchmarks/overhead.py inputs/2030.yaml --seeds 0 1 2 [--no-dive] [--mps] [--time-limit 900]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from planner.pipeline import build, plan_scenario
from planner.scenario import load_scenario
from planner.solver.highs import OBJECTIVE_SCALE, CompiledModel, SolveOptions, write_mps

#: HiGHS alone, in a fresh process: highspy's own ``HighsLp`` filled from the saved arrays (not the
#: planner's buffer hand-off, ``HighsArrays.pass_to``), so that equal node and iteration counts
#: show the two ways give HiGHS the same model.
ALONE = r"""
import json, sys, time
import highspy, numpy as np
path, options = sys.argv[1], json.loads(sys.argv[2])
t0 = time.perf_counter()
h = highspy.Highs()
h.setOptionValue("output_flag", False)
if path.endswith(".mps"):
    h.readModel(path)
else:
    d = np.load(path)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(d["cost"]), len(d["row_lower"])
    lp.col_cost_, lp.offset_ = d["cost"], float(d["offset"])
    lp.col_lower_, lp.col_upper_ = d["col_lower"], d["col_upper"]
    lp.row_lower_, lp.row_upper_ = d["row_lower"], d["row_upper"]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = d["start"], d["index"], d["value"]
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = lp.num_col_, lp.num_row_
    kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
    lp.integrality_ = [kinds[int(i)] for i in d["integrality"]]
    h.passModel(lp)
for name, value in options.items():
    h.setOptionValue(name, value)
t1 = time.perf_counter()
h.run()
t2 = time.perf_counter()
i = h.getInfo()
print(json.dumps({"total": t2 - t0, "solve": t2 - t1, "objective": i.objective_function_value,
                  "nodes": int(i.mip_node_count), "iterations": int(i.simplex_iteration_count)}))
"""


def save_exact(compiled: CompiledModel, path: Path) -> None:
    """The arrays the planner hands to HiGHS (``CompiledModel.highs_arrays``), bit for bit."""
    compiled.highs_arrays().save(path)


def alone_options(options: SolveOptions) -> dict[str, object]:
    """The HiGHS options the planner sets (``planner.solver.highs.new_highs``), for HiGHS alone."""
    return {
        "time_limit": options.time_limit_s,
        "mip_rel_gap": options.mip_gap,
        "threads": options.threads,
        "random_seed": options.random_seed,
        **dict(options.extra),
    }


def start_alone(model: Path, options: SolveOptions) -> subprocess.Popen[str]:
    """HiGHS alone on ``model`` (.npz or .mps) in a fresh process."""
    args = [sys.executable, "-c", ALONE, str(model), json.dumps(alone_options(options))]
    return subprocess.Popen(args, stdout=subprocess.PIPE, text=True)


def finish_alone(proc: subprocess.Popen[str]) -> dict[str, float]:
    out, _ = proc.communicate()
    result = json.loads(out.strip().splitlines()[-1])
    result["objective"] /= OBJECTIVE_SCALE  # [MCNY]
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", type=Path)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument("--mip-gap", type=float, default=None)
    parser.add_argument("--no-shadow-prices", action="store_true")
    parser.add_argument("--no-dive", action="store_true", help="plain HiGHS inside too, side by side with alone")
    parser.add_argument("--mps", action="store_true", help="also solve the exported MPS file alone")
    args = parser.parse_args(argv)

    ratios, inside, alone_times = [], [], []
    for seed in args.seeds:
        scenario = load_scenario(args.scenario, args.overrides)
        options = SolveOptions.from_scenario(
            scenario, time_limit_s=args.time_limit, mip_gap=args.mip_gap, random_seed=seed
        )
        if args.no_dive:
            options = dataclasses.replace(options, dive=False)
        with tempfile.TemporaryDirectory() as tmp:
            exact, mps = Path(tmp) / "model.npz", Path(tmp) / "model.mps"
            compiled = build(scenario).compiled
            save_exact(compiled, exact)
            write_mps(compiled, mps)
            del compiled
            side_by_side = args.no_dive
            proc = start_alone(exact, options) if side_by_side else None
            t0 = time.perf_counter()
            scenario = load_scenario(args.scenario, args.overrides)
            load = time.perf_counter() - t0
            run = plan_scenario(scenario, options, shadow_prices=not args.no_shadow_prices, timings={"load": load})
            total = time.perf_counter() - t0
            if proc is None:
                proc = start_alone(exact, options)
            alone = finish_alone(proc)
            by_mps = finish_alone(start_alone(mps, options)) if args.mps else None
        stages = {k: round(v, 2) for k, v in run.timings.items()}
        stats = run.outcome.solver_stats
        print(f"seed {seed}: stages [s] {stages}")
        print(
            f"seed {seed}: planner total {total:.1f} s (HiGHS MIP {run.timings.get('solve', 0):.1f} s, "
            f"{stats.get('mip_node_count')} nodes, {stats.get('simplex_iteration_count')} LP iterations, "
            f"objective {run.outcome.objective:,.3f}, gap {run.outcome.gap:.3%}); HiGHS alone {alone['total']:.1f} s "
            f"(solve {alone['solve']:.1f} s, {alone['nodes']} nodes, {alone['iterations']} LP iterations, "
            f"objective {alone['objective']:,.3f}); ratio {total / alone['total']:.3f}",
            flush=True,
        )
        if by_mps is not None:
            print(
                f"seed {seed}: HiGHS alone on the MPS file {by_mps['total']:.1f} s ({by_mps['nodes']} nodes, "
                f"{by_mps['iterations']} LP iterations, objective {by_mps['objective']:,.3f})",
                flush=True,
            )
        ratios.append(total / alone["total"])
        inside.append(run.timings.get("solve", float("nan")))
        alone_times.append(alone["solve"])
    print(f"median overhead ratio (planner total / HiGHS alone): {statistics.median(ratios):.3f}")
    print(
        f"median HiGHS solve time inside plan solve: {statistics.median(inside):.1f} s; alone: "
        f"{statistics.median(alone_times):.1f} s"
    )
    print(f"peak memory of the planner's process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main(sys.argv[1:])
