"""Numerical health of the model at the default and at extreme corners of the example sweeps.

For each corner (very cheap or very dear grid power, tiny or huge demand, and their
combinations) this runs the real command, ``plan solve inputs/2030.yaml --log --set ...``, and
prints the solve's status and gap, the coefficient ranges of the model handed to HiGHS
(``coefficient_ranges`` in the results' attrs: matrix, cost, bound, rhs) and every line of
HiGHS's log that warns (``WARNING``, "excessively", "numerical", "ill-conditioned", ...).

Usage:
    python benchmarks/numerics.py [--mip-gap 0.01] [--time-limit 300] [--only NAME ...] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import xarray as xr

REPO = Path(__file__).resolve().parents[1]

#: name -> --set overrides. Scales well beyond the example sweeps' ranges on both sides.
CORNERS: dict[str, list[str]] = {
    "default": [],
    "power_x0.2": ["power.grid.tariff.scale=0.2"],
    "power_x5": ["power.grid.tariff.scale=5"],
    "demand_x0.05": ["demand.inference.scale=0.05", "demand.training.scale=0.05"],
    "demand_x3": ["demand.inference.scale=3", "demand.training.scale=3"],
    "cheap_power_tiny_demand": [
        "power.grid.tariff.scale=0.2",
        "demand.inference.scale=0.05",
        "demand.training.scale=0.05",
    ],
    "dear_power_huge_demand": ["power.grid.tariff.scale=5", "demand.inference.scale=3", "demand.training.scale=3"],
}

#: HiGHS log lines that signal numerical trouble.
TROUBLE = re.compile(r"WARNING|[Ee]xcessive|[Nn]umerical|[Ii]ll.?condition|[Ss]ingular|[Ii]mprecise")


def run(name: str, overrides: list[str], mip_gap: float, time_limit: float, out: Path) -> dict[str, object]:
    """Solve one corner through the CLI; return its status, gap, ranges and warnings."""
    results = out / f"{name}.nc"
    cmd = [sys.executable, "-m", "planner.cli", "solve", str(REPO / "inputs" / "2030.yaml"), "--log", "--no-report"]
    cmd += ["--mip-gap", str(mip_gap), "--time-limit", str(time_limit), "-o", str(results)]
    for item in overrides:
        cmd += ["--set", item]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=False)
    wall = time.perf_counter() - t0
    (out / f"{name}.log").write_text(proc.stdout + proc.stderr)
    lines = (proc.stdout + proc.stderr).splitlines()
    # HiGHS's own lines only: the planner's "warning: the plan is the best found ..." is not HiGHS's.
    warnings = sorted({line.strip() for line in lines if TROUBLE.search(line) and "the plan is the best" not in line})
    row: dict[str, object] = {"name": name, "exit": proc.returncode, "wall_s": round(wall, 1), "warnings": warnings}
    if results.exists():
        with xr.open_dataset(results) as ds:
            a = ds.attrs
            row.update(
                status=a["solver_status"],
                gap=float(a["mip_gap"]),
                npv_mcny=float(a["objective_cny"]) / 1e6,
                ranges=json.loads(a["coefficient_ranges"]),
            )
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mip-gap", type=float, default=0.01)
    parser.add_argument("--time-limit", type=float, default=300)
    parser.add_argument("--only", nargs="+", choices=sorted(CORNERS))
    parser.add_argument("--out", type=Path, default=None, help="keep results and logs here")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="numerics-"))
    out.mkdir(parents=True, exist_ok=True)
    for name in args.only or list(CORNERS):
        row = run(name, CORNERS[name], args.mip_gap, args.time_limit, out)
        ranges = row.get("ranges", {})
        shown = "; ".join(f"{k} {lo:.1e}..{hi:.1e}" for k, (lo, hi) in ranges.items())  # type: ignore[union-attr]
        print(
            f"{name:24s} exit {row['exit']} {row.get('status', '-'):10s} gap {row.get('gap', float('nan')):.3%} "
            f"NPV {row.get('npv_mcny', float('nan')):>10,.0f} M CNY {row['wall_s']:>6.1f} s | {shown}"
        )
        for line in row["warnings"]:  # type: ignore[union-attr]
            print(f"    HiGHS: {line}")
        if not row["warnings"]:
            print("    HiGHS: no warnings")
        sys.stdout.flush()
    print(f"logs and results in {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
