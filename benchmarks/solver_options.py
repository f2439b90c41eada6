"""Time HiGHS on the exported default model under a few option sets (median over seeds).

Usage: python benchmarks/solver_options.py [--seeds 0 1 2] [--time-limit 600] [--variants base heur03 ...]
Prints one line per (variant, seed): seconds to the 0.5 % gap, objective, bound, gap.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import highspy

from planner.solver.highs import OBJECTIVE_SCALE

VARIANTS: dict[str, dict[str, object]] = {
    "base": {},
    "heur03": {"mip_heuristic_effort": 0.3},
    "nosym": {"mip_detect_symmetry": False},
    "presolve_off": {"presolve": "off"},
    "ipm_root": {"mip_lp_solver": "ipm"},
}


def run(
    mps: Path, options: dict[str, object], seed: int, time_limit: float, gap: float
) -> tuple[float, float, float, float]:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(mps))
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", seed)
    h.setOptionValue("time_limit", time_limit)
    h.setOptionValue("mip_rel_gap", gap)
    for k, v in options.items():
        h.setOptionValue(k, v)
    t0 = time.perf_counter()
    h.run()
    info = h.getInfo()
    scale = OBJECTIVE_SCALE  # the exported objective is in 10 kCNY; report MCNY
    return time.perf_counter() - t0, info.objective_function_value / scale, info.mip_dual_bound / scale, info.mip_gap


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("mps", type=Path)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--time-limit", type=float, default=600)
    p.add_argument("--gap", type=float, default=0.005)
    p.add_argument("--variants", nargs="+", default=list(VARIANTS))
    a = p.parse_args(argv)
    for name in a.variants:
        times = []
        for seed in a.seeds:
            t, obj, bound, gap = run(a.mps, VARIANTS[name], seed, a.time_limit, a.gap)
            times.append(t)
            print(f"{name:14s} seed {seed}: {t:7.1f} s  obj {obj:,.2f}  bound {bound:,.2f}  gap {gap:.4f}", flush=True)
        print(f"{name:14s} median {statistics.median(times):.1f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
