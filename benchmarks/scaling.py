"""How the model grows with time resolution: 12, 24, 48 representative days and the full year.

Each configuration runs in a fresh process (so that its peak memory is its own): load and
validate, time reduction, model build (Pyomo), compile to matrices and hand-off to HiGHS
(``passModel``), and, with ``--solve``, the solve itself (LP relaxation, dive, MIP as
``plan solve`` does it, to ``--mip-gap``). Prints rows, columns, nonzeros, seconds per stage
and peak memory, and how each grows against the 12-day model.

``--one-year YEAR`` plans only that year of the scenario (``planner.scenario.horizon``: year maps
interpolated, server types unavailable that year dropped; the fleet is the scenario's existing
one, so the year builds what it needs itself).

Usage:
    python benchmarks/scaling.py inputs/2030.yaml --days 12 24 48 full [--solve 12 24] [--mip-gap 0.01]
    python benchmarks/scaling.py inputs/2030.yaml --one-year 2030 --days full --solve full --mip-gap 0.01
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import highspy
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # tests/horizon.py

from horizon import restrict_years  # noqa: E402

from planner.pipeline import build, plan_scenario  # noqa: E402
from planner.scenario import load_scenario  # noqa: E402
from planner.solver.highs import SolveOptions  # noqa: E402


def child(
    scenario_path: str, days: str, solve: bool, mip_gap: float, time_limit: float, highs_log: str | None = None
) -> dict[str, object]:
    """One configuration, in this process: stage timings, size and peak memory."""
    out: dict[str, object] = {"days": days}
    t0 = time.perf_counter()
    scenario = load_scenario(scenario_path, [f"time.representative_days={days}"])
    load = time.perf_counter() - t0
    built = build(scenario)  # the pipeline's own stages: time reduction, build, compile
    compiled = built.compiled
    assert compiled is not None
    t4 = time.perf_counter()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    compiled.highs_arrays().pass_to(h)
    out.update(
        rows=compiled.shape[0],
        columns=compiled.shape[1],
        nonzeros=int(compiled.A.nnz),
        integers=int(compiled.integer.sum()),
        load=load,
        **built.timings,
        handoff=time.perf_counter() - t4,
    )
    del h, compiled, built
    if solve:
        options = SolveOptions.from_scenario(scenario, mip_gap=mip_gap, time_limit_s=time_limit)
        if highs_log:  # HiGHS's log (MIP and relaxation) appended to a file, to follow a long solve
            extra = (("output_flag", True), ("log_to_console", False), ("log_file", highs_log))
            options = dataclasses.replace(options, extra=extra)
        t6 = time.perf_counter()
        run = plan_scenario(scenario, options, shadow_prices=False)
        o = run.outcome
        out.update(
            solve_wall=time.perf_counter() - t6,
            status=o.status,
            gap=o.gap,
            objective_mcny=o.objective,
            relaxation=run.timings.get("dive_relaxation"),
            dive=run.timings.get("dive_dive"),
            mip=run.timings.get("solve"),
            mip_ran="solve" in run.timings,
        )
    out["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", type=Path)
    parser.add_argument("--days", nargs="+", default=["12", "24", "48", "full"])
    parser.add_argument("--solve", nargs="*", default=[], help="the --days values to solve too")
    parser.add_argument("--mip-gap", type=float, default=0.01)
    parser.add_argument("--time-limit", type=float, default=3600)
    parser.add_argument("--one-year", type=int, default=None)
    parser.add_argument("--highs-log", default=None, help="append HiGHS's log of the solves to this file")
    parser.add_argument("--child", nargs=2, metavar=("SCENARIO", "DAYS"), help=argparse.SUPPRESS)
    parser.add_argument("--child-solve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        result = child(args.child[0], args.child[1], args.child_solve, args.mip_gap, args.time_limit, args.highs_log)
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory() as tmp:  # never inside the repository (a killed run leaves it)
        scenario = args.scenario.resolve()
        if args.one_year is not None:
            data = yaml.safe_load(scenario.read_text(encoding="utf-8"))
            data = restrict_years(data, [args.one_year])
            data["time"]["profiles"] = str((scenario.parent / data["time"]["profiles"]).resolve())
            if data.get("extends"):  # restrict_years cuts this file's maps, not those of a base it extends
                parser.error("--one-year needs a scenario without 'extends'")
            scenario = Path(tmp) / f"{args.scenario.stem}_{args.one_year}.yaml"
            scenario.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
        rows: list[dict[str, object]] = []
        for days in args.days:
            cmd = [sys.executable, __file__, str(args.scenario), "--child", str(scenario), days]
            cmd += ["--mip-gap", str(args.mip_gap), "--time-limit", str(args.time_limit)]
            if args.highs_log:
                cmd += ["--highs-log", args.highs_log]
            if days in args.solve:
                cmd.append("--child-solve")
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                print(f"days {days}: failed\n{proc.stderr[-3000:]}", flush=True)
                continue
            row = json.loads(proc.stdout.strip().splitlines()[-1])
            rows.append(row)
            first = rows[0]
            print(
                f"days {days:>4}: {row['rows']:>9,} rows {row['columns']:>9,} cols {row['nonzeros']:>10,} nz | "
                f"load {row['load']:.1f} s, reduction {row['time_reduction']:.1f} s, build {row['build']:.1f} s, "
                f"compile {row['compile']:.1f} s, hand-off {row['handoff']:.1f} s | peak {row['peak_mib']:,.0f} MiB | "
                f"x{row['columns'] / first['columns']:.1f} columns, build x{row['build'] / first['build']:.1f}, "
                f"memory x{row['peak_mib'] / first['peak_mib']:.1f}",
                flush=True,
            )
            if "solve_wall" in row:
                print(
                    f"           solve {row['solve_wall']:.1f} s ({row['status']}, gap {row['gap']:.3%}, "
                    f"objective {row['objective_mcny']:,.1f} M CNY): relaxation {row['relaxation']:.1f} s, "
                    f"dive {row['dive']:.1f} s, MIP {'ran' if row['mip_ran'] else 'not needed'}"
                    + (f" ({row['mip']:.1f} s)" if row["mip_ran"] else ""),
                    flush=True,
                )


if __name__ == "__main__":
    main(sys.argv[1:])
