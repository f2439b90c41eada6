"""Rows of a plan report's tables and cards: policy compliance, headline KPIs, builds, costs, solver, timings.

Pure functions of the results Dataset returning plain dataclasses, tuples and dicts that the
templates lay out; numbers are formatted by :mod:`planner.report.format`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from planner.report.data import (
    coord_names,
    emissions,
    grid_block_mw,
    increase,
    plan_years,
    scenario_data,
    units_of,
    worst_shortfall,
)
from planner.report.format import (
    as_float,
    finite,
    fmt_compute,
    fmt_fixed,
    fmt_limit_value,
    fmt_money,
    fmt_mw,
    fmt_share,
    fmt_small_share,
)
from planner.report.inputs import variant_tag, variant_text
from planner.report.labels import accelerator_label, cooling_label
from planner.report.limits import LIMITS, Limit, badges, limit_cost_text, marginal_text, step_text
from planner.results.kpis import BINDING_RTOL, limit_achieved

__all__ = [
    "LIMITS",
    "BESIDE",
    "STAGE_ORDER",
    "BuildRow",
    "ComplianceRow",
    "CostRow",
    "Kpi",
    "Limit",
    "achieved",
    "build_cells",
    "build_rows",
    "build_totals",
    "compliance_grid",
    "compliance_rows",
    "cost_rows",
    "headline",
    "holds",
    "limit_values",
    "plan_header",
    "solver_rows",
    "timing_rows",
    "timings",
    "wall_clock",
]


# ====================================================================== policy limits


def achieved(ds: xr.Dataset, limit: Limit) -> np.ndarray:
    """The KPI a limit bounds, per year, in the limit's own unit (:func:`planner.results.kpis.limit_achieved`)."""
    return limit_achieved(ds).sel(limit=limit.key).values.astype(float)


def limit_values(ds: xr.Dataset, limit: Limit) -> np.ndarray:
    """The limit per year (NaN where not set)."""
    if limit.variable not in ds:
        return np.full(ds.sizes["year"], np.nan)
    return ds[limit.variable].values.astype(float)


def holds(value: float, bound: float, upper: bool) -> bool | None:
    """Whether ``value`` satisfies the limit ``bound`` (None when either is missing)."""
    if not (finite(value) and finite(bound)):
        return None
    tol = BINDING_RTOL * max(1.0, abs(bound))
    return bool(value <= bound + tol) if upper else bool(value >= bound - tol)


def _shadow(ds: xr.Dataset, key: str, year: int) -> tuple[float, str]:
    if "shadow_price" not in ds or "limit" not in ds.coords:
        return float("nan"), "not in the results"
    names = [str(v) for v in ds["limit"].values]
    aliases = [key, key.replace("_compute", "")]
    for name in aliases:
        if name in names:
            value = as_float(ds["shadow_price"].sel(limit=name, year=year).values)
            method = (
                str(ds["shadow_price_method"].sel(limit=name, year=year).values) if "shadow_price_method" in ds else ""
            )
            return value, method
    return float("nan"), "not priced"


@dataclass(frozen=True)
class ComplianceRow:
    """One policy limit in one year."""

    key: str
    label: str
    year: int
    kind: str
    upper: bool
    limit: float  #: the limit (NaN: not set)
    achieved: float
    ok: bool | None  #: None when the limit is not set
    shadow_price: float  #: cost of tightening the limit by one step [CNY, NPV] (NaN: not priced)
    shadow_price_method: str
    binding: bool = False  #: :func:`planner.results.kpis.binding`
    badge: str = "not set"  #: "binding", "headroom 0.200", "missed by 1.0 pp" or "not set"
    badge_state: str = "unset"  #: "binding", "headroom", "missed" or "unset"

    @property
    def sense(self) -> str:
        """``≤`` or ``≥``."""
        return "≤" if self.upper else "≥"


def compliance_rows(ds: xr.Dataset) -> list[ComplianceRow]:
    """Every policy limit in every year: the limit, the value achieved, ✓/✗ and its marginal cost.

    Limits that are set in no year are left out, except the carbon cap, which is left out
    unless set (the other KPIs are shown even without a limit).
    """
    rows: list[ComplianceRow] = []
    marks = badges(ds)
    for lim in LIMITS:
        bounds = limit_values(ds, lim)
        if lim.key == "carbon_cap_t" and not np.isfinite(bounds).any():
            continue
        values = achieved(ds, lim)
        for i, y in enumerate(plan_years(ds)):
            price, method = _shadow(ds, lim.key, y)
            rows.append(
                ComplianceRow(
                    lim.key,
                    lim.label,
                    y,
                    lim.kind,
                    lim.upper,
                    float(bounds[i]),
                    float(values[i]),
                    holds(values[i], bounds[i], lim.upper),
                    price,
                    method,
                    marks[(lim.key, y)].state == "binding",
                    marks[(lim.key, y)].text,
                    marks[(lim.key, y)].state,
                )
            )
    return rows


def compliance_grid(ds: xr.Dataset) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows of the compliance table (one per limit, one cell per year, and the limit's total cost)
    and the pricing-method notes.
    """
    rows: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    for r in compliance_rows(ds):
        method, _, step = r.shadow_price_method.partition(";")
        row = rows.get(r.key)
        if row is None:
            cost, interval = limit_cost_text(ds, r.key)
            row = rows[r.key] = {"key": r.key, "label": r.label, "sense": r.sense, "cells": [], "step": ""}
            row.update(cost=cost, cost_interval=interval)
        note = None
        if np.isfinite(r.shadow_price):
            if method not in notes:
                notes.append(method)
            note = notes.index(method) + 1
            row["step"] = row["step"] or step.strip()
        per = step_text(r.shadow_price_method)
        price = marginal_text(r.shadow_price, per, r.binding) if np.isfinite(r.limit) else ""
        exact = f"{r.shadow_price:,.0f} CNY (NPV) {per}; " if finite(r.shadow_price) else ""
        row["cells"].append(
            {
                "year": r.year,
                "achieved": fmt_limit_value(r.achieved, r.kind),
                "limit": fmt_limit_value(r.limit, r.kind) if np.isfinite(r.limit) else "",
                "ok": r.ok,
                "badge": r.badge,
                "state": r.badge_state,
                "price": price,
                "binding": r.binding,
                "note": note,
                "method": exact + r.shadow_price_method,
            }
        )
    return list(rows.values()), notes


# ====================================================================== headline cards


@dataclass(frozen=True)
class Kpi:
    """A headline number for a card."""

    label: str
    value: str
    detail: str = ""
    status: str = ""  #: "ok", "bad", "warn" or ""


def _limit_status(ds: xr.Dataset, key: str) -> tuple[str, str]:
    """(status, text) of a limit over all years: ``("ok", "met in all 5 years")``."""
    rows = [r for r in compliance_rows(ds) if r.key == key and r.ok is not None]
    if not rows:
        return "", "no limit set"
    failed = [r.year for r in rows if not r.ok]
    if failed:
        return "bad", "✗ missed in " + ", ".join(str(y) for y in failed)
    return "ok", f"✓ met in all {len(rows)} years with a limit"


def _limit_card(ds: xr.Dataset, label: str, key: str, text: str) -> Kpi:
    """A final-year KPI with its limit in that year and whether the limit holds in every year."""
    lim = next(x for x in LIMITS if x.key == key)
    last = plan_years(ds)[-1]
    bound = limit_values(ds, lim)[-1]
    status, overall = _limit_status(ds, key)
    detail = (
        f"{'≤' if lim.upper else '≥'} {fmt_limit_value(bound, lim.kind)} in {last} · {overall}"
        if finite(bound)
        else overall
    )
    return Kpi(label, text, detail, status)


def _emissions_card(ds: xr.Dataset) -> Kpi:
    last = plan_years(ds)[-1]
    emis = as_float(emissions(ds, "location")[-1])
    market = as_float(emissions(ds, "market")[-1]) if "basis" in ds["emissions_t"].dims else float("nan")
    status = ""
    if "carbon_cap_t" in ds and np.isfinite(ds["carbon_cap_t"].values.astype(float)).any():
        status = _limit_status(ds, "carbon_cap_t")[0]
    return Kpi(
        f"Emissions {last}",
        f"{emis / 1000:,.1f} kt CO₂",
        f"location-based; market-based {market / 1000:,.1f} kt",
        status,
    )


def _solver_card(ds: xr.Dataset) -> Kpi:
    solver = str(ds.attrs.get("solver_status", "?"))
    gap = as_float(ds.attrs.get("mip_gap"))
    return Kpi(
        "Solver",
        solver,
        f"MIP gap {gap:.2%} · {ds.attrs.get('termination', '')}"
        if finite(gap)
        else str(ds.attrs.get("termination", "")),
        "ok" if solver == "optimal" else "warn",
    )


def headline(ds: xr.Dataset) -> list[Kpi]:
    """The headline cards: NPV, final-year compute, PUE, green and domestic shares, emissions, solver."""
    years = plan_years(ds)
    last = years[-1]
    i = len(years) - 1
    out = [
        Kpi(
            "NPV of all costs",
            fmt_money(as_float(ds["npv_cny"].values)),
            f"{years[0]}–{last}, discounted to {years[0]}" if len(years) > 1 else f"{last}",
        )
    ]
    pflops = as_float(ds["installed_pflops"].values[i])
    out.append(_limit_card(ds, f"Installed compute {last}", "installed_eflops_min", fmt_compute(pflops)))
    out.append(_limit_card(ds, f"PUE {last}", "pue_max", f"{as_float(ds['pue'].values[i]):.3f}"))
    out.append(_limit_card(ds, f"Green power {last}", "green_share_min", fmt_share(ds["green_share"].values[i])))
    out.append(
        _limit_card(
            ds, f"Domestic compute {last}", "domestic_compute_share_min", fmt_share(ds["domestic_share"].values[i])
        )
    )
    out.append(_emissions_card(ds))
    peak = as_float(ds["facility_power_mw"].sel(year=last).max().values)
    out.append(
        Kpi(
            f"Peak facility power {last}",
            fmt_mw(peak),
            f"grid connection {fmt_mw(as_float(ds['grid_mw'].values[i]))} (all blocks)",
        )
    )
    out.append(_solver_card(ds))
    worst = worst_shortfall(ds)
    if worst is not None and worst[1] > 1e-6:
        name, share, year = worst
        out.append(
            Kpi(
                "Unmet demand",
                fmt_small_share(share),
                f"of {name} in {year} (worst year), see Shortfall",
                "bad" if share > 0.01 else "warn",
            )
        )
    return out


def plan_header(ds: xr.Dataset) -> dict[str, Any]:
    """What a page's header says about a plan: name, description, years, solver outcome, version, NPV, overrides."""
    scenario = scenario_data(ds)
    return {
        "name": str(ds.attrs.get("scenario_name") or scenario.get("name") or "plan"),
        "description": str(scenario.get("description") or ""),
        "years": plan_years(ds),
        "status": str(ds.attrs.get("solver_status", "?")),
        "termination": str(ds.attrs.get("termination", "")),
        "gap": as_float(ds.attrs.get("mip_gap")),
        "version": str(ds.attrs.get("planner_version", "")),
        "input_hash": str(ds.attrs.get("input_hash", "")),
        "npv": as_float(ds["npv_cny"].values),
        "variant": variant_text(ds),  # "variant of base.yaml with --set ..." or "no overrides"
        "tag": variant_tag(ds),  # for the page title ('' without overrides)
    }


# ====================================================================== build-out


@dataclass(frozen=True)
class BuildRow:
    """One item of the build plan: what is added each year and what is in service."""

    group: str
    label: str
    unit: str
    new: list[float]
    stock: list[float]
    digits: int = 0  #: decimals to print
    contract: bool = False  #: an annual contract (PPA): ``new`` is the amount contracted that year

    @property
    def retired(self) -> list[float]:
        """Units leaving service in each year: ``stock[y-1] + new[y] - stock[y]`` (0 for contracts)."""
        if self.contract:
            return [0.0] * len(self.stock)
        previous = [0.0, *self.stock[:-1]]
        return [max(0.0, p + n - s) for p, n, s in zip(previous, self.new, self.stock, strict=True)]


def build_rows(ds: xr.Dataset) -> list[BuildRow]:
    """What to build each year: one row per server type, cooling technology and facility item.

    Rows with nothing built and nothing in service in any year are left out. PV, battery and
    PPA additions are the year-on-year increase of the capacity in service.
    """
    rows: list[BuildRow] = []

    def add(group: str, label: str, unit: str, new: Any, stock: Any, digits: int = 0, contract: bool = False) -> None:
        new_a, stock_a = np.asarray(new, dtype=float), np.asarray(stock, dtype=float)
        if np.any(np.abs(new_a) > 1e-6) or np.any(np.abs(stock_a) > 1e-6):
            rows.append(BuildRow(group, label, unit, new_a.tolist(), stock_a.tolist(), digits, contract))

    for a in coord_names(ds, "accelerator"):
        add(
            "compute",
            f"servers {accelerator_label(ds, a)}",
            "servers",
            ds["servers_new"].sel(accelerator=a).sum("cooling").values,
            ds["servers"].sel(accelerator=a).sum("cooling").values,
        )
    for c in coord_names(ds, "cooling"):
        racks = ds["racks_new"].sel(cooling=c).values, ds["racks"].sel(cooling=c).values
        add("facility", f"racks, {cooling_label(ds, c)}", "racks", *racks)
    add("facility", "data halls", "halls", ds["halls_new"].values, ds["halls"].values)
    for c in coord_names(ds, "cooling"):
        add(
            "cooling",
            f"cooling plant units, {cooling_label(ds, c)}",
            "units",
            ds["cooling_units_new"].sel(cooling=c).values,
            ds["cooling_units"].sel(cooling=c).values,
        )
    block_mw = grid_block_mw(ds)
    mw = float(np.nanmax(block_mw)) if np.isfinite(block_mw).any() else float("nan")
    add(
        "power",
        f"grid blocks ({mw:g} MW each)" if finite(mw) else "grid blocks",
        "blocks",
        ds["grid_blocks_new"].values,
        ds["grid_blocks"].values,
    )
    add("power", "backup gensets", "units", ds["generators_new"].values, ds["generator_units"].values)
    add("power", "PV", "MWp", increase(ds["pv_mw"].values), ds["pv_mw"].values, 1)
    add("power", "battery energy", "MWh", increase(ds["battery_mwh"].values), ds["battery_mwh"].values, 1)
    add("power", "battery power", "MW", increase(ds["battery_mw"].values), ds["battery_mw"].values, 1)
    for k in coord_names(ds, "ppa"):
        contracted = ds["ppa_mw"].sel(ppa=k).values
        add("power", f"PPA {k} (annual contract)", "MW", contracted, contracted, 1, contract=True)
    for n in coord_names(ds, "hub") if "lease_pflops" in ds else []:  # results written before the network: none
        leased, sold = ds["lease_pflops"].sel(hub=n).values, ds["sold_pflops"].sel(hub=n).values
        add("network", f"compute leased from {n} (for the year)", "PFLOPS", leased, leased, 1, contract=True)
        add("network", f"compute sold to {n} (for the year)", "PFLOPS", sold, sold, 1, contract=True)
    return rows


def build_cells(row: BuildRow) -> list[dict[str, Any]]:
    """The cells of one build row, per year: new (blank when none), in service, retired (blank when none)."""

    def fmt(v: float) -> str:
        return f"{v:,.{row.digits}f}"

    cells = []
    for new, stock, retired in zip(row.new, row.stock, row.retired, strict=True):
        cells.append(
            {
                "new": fmt(new) if abs(new) > 1e-6 else "",
                "stock": fmt(stock),
                "retired": fmt(retired) if retired > 1e-6 else "",
            }
        )
    return cells


def build_totals(ds: xr.Dataset) -> list[tuple[str, str]]:
    """What the whole plan adds over the horizon, as (item, amount) pairs for a one-line summary."""
    out: list[tuple[str, str]] = []
    servers_new = ds["servers_new"].sum("cooling")
    stock = ds["servers"].sum("cooling")
    per_server = (ds["accelerators_installed"] / stock.where(stock > 0)).max("year").fillna(0)
    n_servers = float(servers_new.sum())
    out.append(("servers", f"{n_servers:,.0f}"))
    out.append(("accelerators", f"{float((servers_new.sum('year') * per_server).sum()):,.0f}"))
    out.append(("racks", f"{float(ds['racks_new'].sum()):,.0f}"))
    out.append(("data halls", f"{float(ds['halls_new'].sum()):,.0f}"))
    out.append(("cooling plant units", f"{float(ds['cooling_units_new'].sum()):,.0f}"))
    block = ds["grid_mw"] / ds["grid_blocks"].where(ds["grid_blocks"] > 0)
    grid_new = float((ds["grid_blocks_new"] * block.fillna(0)).sum())
    blocks = float(ds["grid_blocks_new"].sum())
    out.append(("grid connection", f"+{grid_new:,.0f} MW ({blocks:,.0f} block{'' if blocks == 1 else 's'})"))
    out.append(("gensets", f"{float(ds['generators_new'].sum()):,.0f}"))
    out.append(("PV", f"{float(increase(ds['pv_mw'].values).sum()):,.1f} MWp"))
    out.append(("battery", f"{float(increase(ds['battery_mwh'].values).sum()):,.1f} MWh"))
    if "ppa" in ds.coords and ds.sizes.get("ppa", 0):
        last = ds["ppa_mw"].isel(year=-1).sum()
        out.append((f"PPA contracts {int(ds['year'].values[-1])}", f"{float(last):,.0f} MW"))
    return [(k, v) for k, v in out if not v.startswith(("0 ", "+0 MW")) and v not in ("0", "0.0 MWp", "0.0 MWh")]


# ====================================================================== costs


@dataclass(frozen=True)
class CostRow:
    """One line of the cost table (values per year)."""

    label: str
    unit: str
    values: list[float]
    fmt: str = "money"


def cost_rows(ds: xr.Dataset) -> list[CostRow]:
    """Annual total, discounted total, cost per PFLOP-hour and per million tokens, by year."""
    total = ds["cost"].sum("component").values
    return [
        CostRow("annual cost (undiscounted)", "CNY/year", total.tolist()),
        CostRow("annual cost (discounted)", "CNY", (total * ds["discount_factor"].values).tolist()),
        CostRow("discount factor", "1", ds["discount_factor"].values.tolist(), "ratio"),
        CostRow(
            "cost per PFLOP-hour of busy compute",
            units_of(ds["cost_per_pflop_hour"]),
            ds["cost_per_pflop_hour"].values.tolist(),
            "num",
        ),
        CostRow(
            "cost per million tokens served",
            units_of(ds["cost_per_million_tokens"]),
            ds["cost_per_million_tokens"].values.tolist(),
            "num",
        ),
    ]


# ====================================================================== solver and timings


def _json_rows(text: str, label: str, join: Any) -> list[tuple[str, str]]:
    """``[(label, join(parsed))]`` of a JSON attribute, or no row when it does not parse."""
    try:
        return [(label, join(json.loads(text)))]
    except (ValueError, TypeError):
        return []


def solver_rows(ds: xr.Dataset) -> list[tuple[str, str]]:
    """(label, value) pairs describing the solver outcome and the run."""
    a = ds.attrs
    rows = [
        ("status", str(a.get("solver_status", "?"))),
        ("termination", str(a.get("termination", "?"))),
        ("objective", fmt_money(as_float(a.get("objective_cny")))),
        ("best bound", fmt_money(as_float(a.get("bound_cny")))),
        ("MIP gap", fmt_fixed(as_float(a.get("mip_gap")), ".3%")),
        (
            "model size",
            f"{int(as_float(a.get('model_rows', 0))):,} rows × {int(as_float(a.get('model_columns', 0))):,} columns, "
            f"{int(as_float(a.get('model_integers', 0))):,} integer",
        )
        if finite(a.get("model_rows"))
        else ("model size", "–"),
        ("representative days", str(a.get("representative_days", ds.sizes.get("day", "?")))),
        ("input hash", str(a.get("input_hash", "–"))),
        ("planner version", str(a.get("planner_version", "–"))),
    ]
    rows += _json_rows(
        str(a.get("coefficient_ranges", "{}")),
        "coefficient ranges",
        lambda ranges: "; ".join(f"{k} {lo:.1e} .. {hi:.1e}" for k, (lo, hi) in ranges.items()) or "–",
    )
    rows += _json_rows(
        str(a.get("solver_options", "{}")),
        "solver options",
        lambda opts: ", ".join(f"{k}={v}" for k, v in opts.items()),
    )
    rows += _json_rows(
        str(a.get("package_versions", "{}")), "packages", lambda vs: ", ".join(f"{k} {v}" for k, v in vs.items())
    )
    return rows


def timings(ds: xr.Dataset) -> dict[str, float]:
    """Seconds per pipeline stage from ``attrs["timings_s"]`` (empty if missing or unreadable)."""
    try:
        raw = json.loads(str(ds.attrs.get("timings_s", "{}")))
        return {str(k): float(v) for k, v in raw.items()}
    except (ValueError, TypeError, AttributeError):
        return {}


STAGE_ORDER = (
    "load",
    "time_reduction",
    "update",
    "build",
    "compile",
    "handoff",
    "solve",
    "dive_wait",
    "load_values",
    "shadow_prices",
    "diagnosis",
    "results",
    "report",
)
"""The stages of a run, one after the other, in pipeline order: their seconds add up to the wall clock."""

BESIDE = ("dive_relaxation", "dive_dive")
"""Stages that may run beside HiGHS's MIP (``solve``, :mod:`planner.solver.solve`): then not added to the total."""


def dive_beside_mip(ds: xr.Dataset) -> bool:
    """Whether the rounding dive ran at the same time as HiGHS's MIP (``attrs["dive_beside_mip"]``).

    A dive that ran first (at full resolution the relaxation is interior point and goes before the
    MIP) or alone (its plan proved within the gap) is part of the wall clock. Files written before
    the attribute existed: the dive ran beside the MIP whenever the MIP ran.
    """
    if "dive_beside_mip" in ds.attrs:
        return bool(int(ds.attrs["dive_beside_mip"]))
    return "solve" in timings(ds)


def _beside(stage: str, beside_mip: bool) -> bool:
    """Whether a stage ran at the same time as another: the dive's, when it ran beside the MIP."""
    return beside_mip and (stage in BESIDE or (stage.startswith("dive_") and stage not in STAGE_ORDER))


def timing_rows(ds: xr.Dataset) -> list[dict[str, Any]]:
    """The stages of the run in pipeline order: seconds and percentage of the wall-clock total.

    ``counted`` is False for a stage that ran beside the MIP (the rounding dive's, listed after
    ``solve``); the total (:func:`wall_clock`) adds the counted stages only.
    """
    t, beside = timings(ds), dive_beside_mip(ds)
    order = {k: i for i, k in enumerate(STAGE_ORDER)}
    after_solve = order["solve"] + 0.5
    total = wall_clock(ds) or 1.0
    dive_first = order["solve"] - 0.5  # a dive that ran before the MIP (or instead of it) is listed before it
    stages = sorted(
        t,
        key=lambda k: order[k] if k in order else (after_solve if _beside(k, beside) else dive_first),
    )
    return [
        {"stage": k, "seconds": t[k], "share": 100 * t[k] / total, "counted": not _beside(k, beside)} for k in stages
    ]


def wall_clock(ds: xr.Dataset) -> float:
    """Seconds of the run: the stages that ran one after the other (not the dive's, beside the MIP)."""
    t, beside = timings(ds), dive_beside_mip(ds)
    return sum(v for k, v in t.items() if not _beside(k, beside))
