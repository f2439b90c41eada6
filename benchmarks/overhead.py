"""Stage timings of `plan solve` and its overhead against HiGHS alone on the same model.

For each seed: plan the scenario through the library (load + validate, time reduction, model
build, compile + hand-off, solve, results), export the exact model handed to HiGHS, then solve
that MPS file directly with highspy under the same options. Prints the stages, the median
overhead ratio (planner total / HiGHS alone) and the peak memory of the process.

With the dive (the default), "HiGHS alone" is plain HiGHS on the same model and the ratio measures
the whole planner against the solver's own best effort; with ``--no-dive`` the planner runs plain
HiGHS too, so the solve times inside and alone compare the hand-off only.

Usage:
    python benchmarks/overhead.py inputs/2030.yaml --seeds 0 1 2 [--set key=value ...] [--time-limit 900] [--no-dive]
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import highspy

from planner.pipeline import plan_scenario
from planner.scenario import load_scenario
from planner.solve import OBJECTIVE_SCALE, SolveOptions


def highs_alone(mps: Path, options: SolveOptions) -> tuple[float, float]:
    """Wall time of reading and solving the MPS file with highspy [s], and the objective [MCNY]."""
    t0 = time.perf_counter()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(mps))
    h.setOptionValue("time_limit", options.time_limit_s)
    h.setOptionValue("mip_rel_gap", options.mip_gap)
    h.setOptionValue("threads", options.threads)
    h.setOptionValue("random_seed", options.random_seed)
    h.run()
    return time.perf_counter() - t0, h.getInfo().objective_function_value / OBJECTIVE_SCALE  # [MCNY]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", type=Path)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument("--no-shadow-prices", action="store_true")
    parser.add_argument(
        "--no-dive",
        action="store_true",
        help="plain HiGHS inside the planner too (compares the hand-off alone: same algorithm both ways)",
    )
    args = parser.parse_args(argv)

    ratios, solver_inside, solver_alone = [], [], []
    for seed in args.seeds:
        t0 = time.perf_counter()
        scenario = load_scenario(args.scenario, args.overrides)
        load = time.perf_counter() - t0
        options = SolveOptions.from_scenario(scenario, time_limit_s=args.time_limit, random_seed=seed)
        if args.no_dive:
            options = dataclasses.replace(options, dive=False)
        with tempfile.TemporaryDirectory() as tmp:
            mps = Path(tmp) / "model.mps"
            t1 = time.perf_counter()
            run = plan_scenario(
                scenario, options, export_model=mps, shadow_prices=not args.no_shadow_prices, timings={"load": load}
            )
            total = load + (time.perf_counter() - t1)
            alone, objective = highs_alone(mps, options)
        stages = {k: round(v, 2) for k, v in run.timings.items()}
        print(f"seed {seed}: stages [s] {stages}")
        print(
            f"seed {seed}: planner total {total:.1f} s, HiGHS alone {alone:.1f} s, ratio {total / alone:.3f}; "
            f"objective planner {run.outcome.objective:,.3f} vs alone {objective:,.3f} MCNY, gap {run.outcome.gap}"
        )
        ratios.append(total / alone)
        solver_inside.append(run.timings.get("solve", float("nan")))
        solver_alone.append(alone)
    print(f"median overhead ratio: {statistics.median(ratios):.3f}")
    print(
        f"median HiGHS time inside plan solve: {statistics.median(solver_inside):.1f} s; alone: "
        f"{statistics.median(solver_alone):.1f} s"
    )
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main(sys.argv[1:])
