"""Check the policy prices (``planner/prices.py``) against MIP re-solves one step tighter (issue 13).

The planner prices each policy limit with one LP: the lumpy integers (halls, grid blocks,
cooling plant units, gensets, in-use binaries) fixed at the plan, server and rack counts
continuous, and the row duals times the limit's step (``planner.solver.prices.LIMIT_STEPS``). This
script measures how well that number predicts what the MIP itself says:

1. solve a small case (the medium instance of ``tests/test_residuals.py``: the shipped default
   cut to 2026-2027 and a few representative days, or a variant of it in which a limit binds)
   to a tight MIP gap and read ``shadow_price`` [CNY per step] from the results Dataset;
2. for every limit that is active in a year (a nonzero price, or the KPI sitting on the limit),
   re-solve the MIP with that limit moved ``k`` steps tighter in that year only;
3. compare the price with ``ΔNPV / k`` of the two MIPs. The MIP objectives are only known to
   within their gaps, so the true ΔNPV lies in ``[bound_tight - obj_base, obj_tight - bound_base]``;
   a difference inside that band is noise, not disagreement.

As a control the same step is also taken in the pricing LP itself (lumpy integers fixed at the
base plan, servers and racks continuous): ``LP Δ`` checks the dual's sign and unit by finite
difference, and separates "the dual is wrong" from "the LP is not the MIP".

The variants are defined from the medium plan's own KPIs (a PUE cap just below the PUE it
reaches, an EFLOPS target above the fleet it installs, a carbon cap below its emissions, ...), so
they stay binding when the model changes.

Small instances only: 2 years, 2-3 representative days, one thread; every solve takes seconds.

Usage:
    python benchmarks/price_check.py [--cases medium pue green domestic eflops carbon]
        [--gap 1e-4] [--days 3] [--steps 1 10] [--time-limit 120] [--markdown]
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
import xarray as xr
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # tests/horizon.py: a scenario cut to some of its years

from horizon import restrict_years  # noqa: E402

from planner.pipeline import build, plan_scenario  # noqa: E402
from planner.scenario import scenario_from_dict  # noqa: E402
from planner.solver.highs import OBJECTIVE_SCALE, SolveOptions  # noqa: E402
from planner.solver.prices import LIMIT_STEPS, RELAXED_INTEGERS  # noqa: E402

MCNY = 1e6
YEARS = [2026, 2027]
#: achieved value of each limit's KPI in the results Dataset (in the limit's unit)
KPI = {
    "pue_max": lambda ds: ds["pue"].values.astype(float),
    "green_share_min": lambda ds: ds["green_share"].values.astype(float),
    "domestic_compute_share_min": lambda ds: ds["domestic_share"].values.astype(float),
    "installed_eflops_min": lambda ds: ds["installed_pflops"].values.astype(float) / 1000.0,
    "carbon_cap_t": lambda ds: _emissions(ds),
}


def _emissions(ds: xr.Dataset) -> np.ndarray:
    e = ds["emissions_t"]
    if "basis" in e.dims:
        e = e.sel(basis=str(e.attrs.get("priced_basis", "location")))
    return np.asarray(e.values, dtype=float)


# --------------------------------------------------------------------------- instances


def medium_data(days: int) -> dict[str, Any]:
    """``tests/test_residuals.py::medium_data``: the shipped default on 2026-2027, ``days`` days."""
    data = yaml.safe_load((REPO / "inputs" / "2030.yaml").read_text(encoding="utf-8"))
    profiles = Path(data["time"]["profiles"])
    if not profiles.is_absolute():
        data["time"]["profiles"] = str((REPO / "inputs" / profiles).resolve())
    data = restrict_years(data, YEARS)
    data["time"]["representative_days"] = days
    data["time"]["extreme_days"] = {}
    return data


def set_limit(data: dict[str, Any], limit: str, year: int, value: float) -> dict[str, Any]:
    """A copy of ``data`` with ``policy.<limit>`` set to ``value`` in ``year`` (other years kept)."""
    out = copy.deepcopy(data)
    series = out["policy"].get(limit)
    if series is None:
        series = {}
    elif not isinstance(series, dict):
        series = {y: series for y in YEARS}
    series = {int(k): v for k, v in series.items()}
    for y in YEARS:  # pin every planning year, so that moving one year moves no other
        if y not in series and any(k <= y for k in series):
            series[y] = float(np.interp(y, sorted(series), [series[k] for k in sorted(series)]))
    series[year] = value
    out["policy"][limit] = dict(sorted(series.items()))
    return out


def limit_value(data: dict[str, Any], limit: str, year: int) -> float | None:
    series = data["policy"].get(limit)
    if series is None:
        return None
    if not isinstance(series, dict):
        return float(series)
    series = {int(k): float(v) for k, v in series.items()}
    if year < min(series):
        return None
    return float(np.interp(year, sorted(series), [series[k] for k in sorted(series)]))


def variants(base: dict[str, Any], ds: xr.Dataset) -> dict[str, dict[str, Any]]:
    """The cases: the medium instance and one variant per limit, each built to make it bind."""
    k = {name: dict(zip(YEARS, f(ds), strict=True)) for name, f in KPI.items()}
    out: dict[str, dict[str, Any]] = {"medium": base}

    d = copy.deepcopy(base)  # a PUE cap just below the PUE the medium plan reaches
    d["policy"]["pue_max"] = {y: round(k["pue_max"][y] - 0.003, 3) for y in YEARS}
    out["pue"] = d

    d = copy.deepcopy(base)  # certificates capped at 30 % of the requirement, a higher requirement
    d["power"]["green_certificates"]["max_share"] = 0.3
    d["policy"]["green_share_min"] = {2026: 0.6, 2027: 0.75}
    out["green"] = d

    d = copy.deepcopy(base)  # 5 points above the domestic share the plan installs
    d["policy"]["domestic_compute_share_min"] = {y: round(k["domestic_compute_share_min"][y] + 0.05, 2) for y in YEARS}
    out["domestic"] = d

    d = copy.deepcopy(base)  # an EFLOPS target above the demand-driven fleet
    d["policy"]["installed_eflops_min"] = {y: float(math.ceil(k["installed_eflops_min"][y]) + 1) for y in YEARS}
    out["eflops"] = d

    d = copy.deepcopy(base)  # a carbon cap 10 % below the plan's emissions (priced basis)
    d["policy"]["carbon_cap_t"] = {y: float(round(0.9 * k["carbon_cap_t"][y], -3)) for y in YEARS}
    out["carbon"] = d
    return out


# --------------------------------------------------------------------------- solves


@dataclass
class Solved:
    data: dict[str, Any]
    objective: float  #: [MCNY]
    bound: float  #: [MCNY]
    gap: float
    status: str
    seconds: float
    ds: xr.Dataset
    lumpy: dict[str, float] = field(default_factory=dict)  #: lumpy integer decisions by name
    servers: dict[str, float] = field(default_factory=dict)


def solve(data: dict[str, Any], options: SolveOptions) -> Solved | None:
    scenario = scenario_from_dict(data)
    t0 = time.perf_counter()
    run = plan_scenario(scenario, options)
    seconds = time.perf_counter() - t0
    o = run.outcome
    if not o.has_plan or run.dataset is None:
        print(f"    no plan: {o.status} {o.diagnosis[:2]}", flush=True)
        return None
    lumpy, servers = {}, {}
    for v in run.model.component_data_objects(ctype=pyo.Var, descend_into=True):
        if v.is_integer() or v.is_binary():
            target = servers if v.parent_component().local_name in RELAXED_INTEGERS else lumpy
            target[v.name] = round(float(v.value or 0.0))
    return Solved(
        data, float(o.objective), float(o.bound), float(o.gap or 0.0), o.status, seconds, run.dataset, lumpy, servers
    )


def fixed_lp(data: dict[str, Any], lumpy: dict[str, float], options: SolveOptions) -> float | None:
    """Objective [MCNY] of the pricing LP of ``data`` with the lumpy integers fixed at ``lumpy``."""
    compiled = build(scenario_from_dict(data)).compiled
    lower = np.array(compiled.col_lower, dtype=float)
    upper = np.array(compiled.col_upper, dtype=float)
    for j, v in enumerate(compiled.columns):
        if compiled.integer[j] and v.parent_component().local_name not in RELAXED_INTEGERS:
            lower[j] = upper[j] = lumpy[v.name]
    arrays = dataclasses.replace(compiled.highs_arrays(relax=True), col_lower=lower, col_upper=upper)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", int(options.threads))
    h.setOptionValue("time_limit", float(options.time_limit_s))
    arrays.pass_to(h)
    h.run()
    if h.modelStatusToString(h.getModelStatus()) != "Optimal":
        return None
    return float(h.getInfo().objective_function_value) / OBJECTIVE_SCALE


def lumpy_changes(a: dict[str, float], b: dict[str, float]) -> str:
    diff = [f"{n}: {a[n]:g}->{b[n]:g}" for n in a if n in b and a[n] != b[n]]
    return "; ".join(diff) if diff else "-"


# --------------------------------------------------------------------------- the check


@dataclass
class Row:
    case: str
    limit: str
    year: int
    limit_value: float
    achieved: float
    steps: int
    lp_price: float  #: [CNY per step], as reported
    lp_delta: float | None  #: pricing LP's finite difference [CNY per step]
    mip_delta: float | None  #: MIP ΔNPV [CNY per step]
    lo: float | None  #: what the gaps allow [CNY per step]
    hi: float | None
    gap_base: float
    gap_tight: float | None
    seconds: float
    changes: str

    @property
    def ratio(self) -> float | None:
        if self.mip_delta is None or abs(self.lp_price) < 1e-9:
            return None
        return self.mip_delta / self.lp_price

    @property
    def verdict(self) -> str:
        if self.mip_delta is None:
            return "tighter MIP infeasible"
        if self.lo is not None and self.hi is not None and self.lo <= self.lp_price <= self.hi:
            return "LP price within MIP noise"
        if self.hi is not None and self.hi - self.lo > abs(self.mip_delta) and self.lo <= 0 <= self.hi:
            return "MIP Δ is noise"
        return "differ"


def active_limits(solved: Solved) -> list[tuple[str, int, float, float, float]]:
    """(limit, year, limit value, achieved, LP price) of every limit priced nonzero or at its bound."""
    ds = solved.ds
    out = []
    for limit in LIMIT_STEPS:
        kpi = KPI[limit](ds)
        for i, y in enumerate(YEARS):
            value = limit_value(solved.data, limit, y)
            if value is None:
                continue
            price = float(ds["shadow_price"].sel(limit=limit, year=y).values)
            at_bound = abs(kpi[i] - value) <= 1e-4 * max(1.0, abs(value))
            if at_bound or (np.isfinite(price) and abs(price) > 0):
                out.append((limit, y, value, float(kpi[i]), price))
    return out


def check_case(name: str, data: dict[str, Any], base: Solved | None, args: argparse.Namespace) -> list[Row]:
    rows = _check_case(name, data, base, args)
    if rows:
        print(table(rows, markdown=True), flush=True)
    return rows


def _check_case(name: str, data: dict[str, Any], base: Solved | None, args: argparse.Namespace) -> list[Row]:
    options = SolveOptions(
        time_limit_s=args.time_limit, mip_gap=args.gap, threads=1, concurrent_dive=False, random_seed=0
    )
    if base is None:
        print(f"[{name}] base solve ...", flush=True)
        base = solve(data, options)
        if base is None:
            return []
    print(
        f"[{name}] base: NPV {base.objective:,.3f} MCNY, gap {base.gap:.1e} ({base.status}), {base.seconds:.1f} s",
        flush=True,
    )
    for limit in LIMIT_STEPS:
        kpi = KPI[limit](base.ds)
        for i, y in enumerate(YEARS):
            value = limit_value(data, limit, y)
            if value is not None:
                price = float(base.ds["shadow_price"].sel(limit=limit, year=y).values)
                print(f"    {limit} {y}: limit {value:g}, achieved {kpi[i]:.6g}, LP price {money(price)}", flush=True)
    lp0 = fixed_lp(data, base.lumpy, options)
    rows: list[Row] = []
    for limit, y, value, got, price in active_limits(base):
        step = LIMIT_STEPS[limit].step
        for k in args.steps:
            tight = set_limit(data, limit, y, value + k * step)
            print(f"[{name}] {limit} {y}: {value:g} -> {value + k * step:g} ...", flush=True)
            other = solve(tight, options)
            lp1 = fixed_lp(tight, base.lumpy, options)
            lp_delta = None if lp0 is None or lp1 is None else (lp1 - lp0) * MCNY / k
            if other is None:
                rows.append(
                    Row(name, limit, y, value, got, k, price, lp_delta, None, None, None, base.gap, None, 0.0, "")
                )
                continue
            delta = (other.objective - base.objective) * MCNY / k
            lo = (other.bound - base.objective) * MCNY / k
            hi = (other.objective - base.bound) * MCNY / k
            rows.append(
                Row(
                    name,
                    limit,
                    y,
                    value,
                    got,
                    k,
                    price,
                    lp_delta,
                    delta,
                    lo,
                    hi,
                    base.gap,
                    other.gap,
                    other.seconds,
                    lumpy_changes(base.lumpy, other.lumpy),
                )
            )
    if not rows:
        print(f"[{name}] no limit is active", flush=True)
    return rows


# --------------------------------------------------------------------------- output


def money(x: float | None) -> str:
    if x is None or not np.isfinite(x):
        return "–"
    return f"{x / 1e3:,.1f}k"


def table(rows: list[Row], markdown: bool) -> str:
    head = [
        "case",
        "limit",
        "year",
        "limit",
        "achieved",
        "k",
        "LP price/step",
        "LP Δ/step",
        "MIP ΔNPV/step",
        "MIP band/step",
        "ratio",
        "gaps (base, tight)",
        "verdict",
        "lumpy decisions changed",
    ]
    body = []
    for r in rows:
        body.append(
            [
                r.case,
                r.limit,
                str(r.year),
                f"{r.limit_value:g}",
                f"{r.achieved:.4g}",
                str(r.steps),
                money(r.lp_price),
                money(r.lp_delta),
                money(r.mip_delta),
                "–" if r.lo is None else f"[{money(r.lo)}, {money(r.hi)}]",
                "–" if r.ratio is None else f"{r.ratio:.2f}",
                f"{r.gap_base:.0e}, " + ("–" if r.gap_tight is None else f"{r.gap_tight:.0e}"),
                r.verdict,
                r.changes,
            ]
        )
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(b) + " |" for b in body]
        return "\n".join(lines)
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)] if body else [len(h) for h in head]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*head)] + [fmt.format(*b) for b in body])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cases", nargs="+", default=["medium", "pue", "green", "domestic", "eflops", "carbon"])
    p.add_argument("--gap", type=float, default=1e-4, help="relative MIP gap of every solve (default 1e-4)")
    p.add_argument("--days", type=int, default=3, help="representative days (2-3; default 3)")
    p.add_argument("--steps", type=int, nargs="+", default=[1], help="move each limit k steps (ΔNPV reported per step)")
    p.add_argument("--time-limit", type=float, default=60.0, help="per solve [s]")
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = p.parse_args(argv)
    if args.days > 3:
        p.error("small instances only: --days 2 or 3")

    base_data = medium_data(args.days)
    options = SolveOptions(time_limit_s=args.time_limit, mip_gap=args.gap, threads=1, concurrent_dive=False)
    print("[medium] base solve ...", flush=True)
    medium = solve(base_data, options)
    if medium is None:
        return 1
    cases = variants(base_data, medium.ds)
    unknown = [c for c in args.cases if c not in cases]
    if unknown:
        p.error(f"unknown case(s) {unknown}; choose from {list(cases)}")
    rows: list[Row] = []
    t0 = time.perf_counter()
    for name in args.cases:
        rows += check_case(name, cases[name], medium if name == "medium" else None, args)
    print()
    print(table(rows, args.markdown))
    print(
        f"\nCNY per step (k = steps moved; Δ divided by k). MIP band: what the two MIP gaps allow for the "
        f"true ΔNPV; a price inside it agrees with the MIP to within its noise. {time.perf_counter() - t0:.0f} s."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
