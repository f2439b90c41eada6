"""The page and terminal summary of a hedge study (``plan hedge``, DESIGN.md §9): what the hedged plan
commits to now and how that differs from each deterministic plan, each future's recourse, the regret
table, the cost distributions (expected, CVaR), EVPI and VSS.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import xarray as xr
import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from planner.report.figures.hedge import cost_figure, plan_label, recourse_figure, regret_figure
from planner.report.format import fmt_money, fmt_num
from planner.report.html import write_report
from planner.report.labels import accelerator_label, cooling_label
from planner.report.page import PLOTLY_JS_NAME, charts, render, write_html, write_plotly_js
from planner.results.io import read_dataset

__all__ = [
    "decision_label",
    "hedge_plans",
    "is_hedge",
    "load_hedge",
    "print_hedge",
    "render_hedge_report",
    "write_hedge_report",
]

_DECISIONS = {
    "servers_new": "{a} servers ({c})",
    "racks_new": "{c} racks",
    "halls_new": "data halls",
    "cooling_units_new": "{c} plant units",
    "grid_blocks_new": "grid blocks",
    "pv_new": "PV",
    "battery_mwh_new": "battery energy",
    "battery_mw_new": "battery power",
    "generators_new": "gensets",
    "ppa_contract": "{k} PPA contracted",
    "lease_pflops": "compute leased from {k}",
    "sold_pflops": "compute sold to {k}",
}


#: Decisions signed for a year rather than built at a site (no site index).
_CONTRACTS = ("ppa_contract", "lease_pflops", "sold_pflops")


def is_hedge(ds: xr.Dataset) -> bool:
    """A combined hedge Dataset (``plan hedge``)."""
    return ds.attrs.get("study") == "hedge"


def load_hedge(path: Path | str) -> xr.Dataset | None:
    """The combined hedge Dataset in ``path``, or None when the file is not one (or unreadable)."""
    try:
        ds = read_dataset(Path(path))
    except Exception:  # noqa: BLE001 - not ours to word: the plan/sweep reader says what is wrong
        return None
    return ds if is_hedge(ds) else None


def decision_label(ds: xr.Dataset, name: str) -> str:
    """A first-stage decision in words: ``servers_new[main,h200,air,2026]`` -> ``NVIDIA H200 servers (air
    cooling), 2026``; a build's site (its first index) is named when the plan has two or more sites
    (``..., at pidu, 2026``). Contracts (``ppa_contract[hydro,2026]``, a hub's lease or sale) have no site.
    """
    match = re.fullmatch(r"([A-Za-z_]+)\[(.*)\]", name)
    if not match:
        return name
    component, args = match.group(1), [a.strip() for a in match.group(2).split(",")]
    year, keys = args[-1], args[:-1]
    sites = [str(v) for v in ds["site"].values] if "site" in ds.coords else []
    site = keys.pop(0) if component not in _CONTRACTS and keys and keys[0] in sites else None
    template = _DECISIONS.get(component)
    if template is None:
        return f"{component} [{', '.join(args)}]"
    values = {"a": "", "c": "", "k": ""}
    if component == "servers_new" and len(keys) >= 2:
        values.update(a=accelerator_label(ds, keys[0]), c=cooling_label(ds, keys[1]))
    elif component in ("racks_new", "cooling_units_new") and keys:
        values["c"] = cooling_label(ds, keys[0])
    elif component in _CONTRACTS and keys:
        values["k"] = keys[0]
    where = f", at {site}" if site is not None and len(sites) > 1 else ""
    return f"{template.format(**values)}{where}, {year}"


@dataclass(frozen=True)
class CommitRow:
    """One first-stage decision: its value in each plan."""

    label: str
    units: str
    values: list[str]
    differs: list[bool]  #: per plan: differs from the hedged plan


def commit_rows(ds: xr.Dataset) -> list[CommitRow]:
    """Every decision some plan takes now, with each plan's value."""
    rows = []
    table = ds["first_stage_value"]
    for name, units in zip(ds["decision"].values, ds["decision_units"].values, strict=True):
        values = table.sel(decision=name).values.astype(float)
        hedged = values[0]
        rows.append(
            CommitRow(
                decision_label(ds, str(name)),
                str(units),
                [fmt_num(v) for v in values],
                [bool(math.isfinite(v) and abs(v - hedged) > 1e-6 * max(1.0, abs(hedged))) for v in values],
            )
        )
    return rows


@dataclass(frozen=True)
class PlanRow:
    """A plan's cost over the futures."""

    plan: str
    expected: str
    cvar: str
    worst: str
    max_regret: str
    costs: list[str]
    notes: list[str]


def plan_rows(ds: xr.Dataset) -> list[PlanRow]:
    """One row per plan: expected, CVaR, worst, largest regret, and its NPV in each future."""
    out = []
    for i, plan in enumerate(ds["plan"].values):
        cost = ds["cost_cny"].values[i]
        notes = [
            f"in {f}: {m}"
            for f, m, s in zip(
                ds["future"].values, ds["evaluation_message"].values[i], ds["evaluation_status"].values[i], strict=True
            )
            if s not in ("optimal",) and m
        ]
        out.append(
            PlanRow(
                plan_label(str(plan)),
                _money(ds["expected_cost_cny"].values[i]),
                _money(ds["cvar_cny"].values[i]),
                _money(ds["worst_cost_cny"].values[i]),
                _money(ds["max_regret_cny"].values[i]),
                [_money(c) for c in cost],
                notes,
            )
        )
    return out


def _money(value: float) -> str:
    value = float(value)
    if math.isinf(value):
        return "cannot be carried out"
    return fmt_money(value)


def _futures(ds: xr.Dataset) -> list[dict[str, str]]:
    spec = yaml.safe_load(str(ds.attrs.get("futures_yaml", "")) or "{}") or {}
    out = []
    for f in spec.get("futures", []):
        overrides = ", ".join(f"{k}={v}" for k, v in (f.get("overrides") or {}).items()) or "none (the base)"
        out.append(
            {
                "name": str(f.get("name", "")),
                "probability": f"{float(f.get('probability', math.nan)):.2f}",
                "description": str(f.get("description", "")),
                "source": str(f.get("source", "")),
                "overrides": overrides,
            }
        )
    return out


def render_hedge_report(
    ds: xr.Dataset, source: str | None = None, links: dict[str, str] | None = None, plotly_src: str | None = None
) -> str:
    """The HTML page of a combined hedge Dataset, as text."""
    figures = {"regret": regret_figure(ds), "costs": cost_figure(ds), "recourse": recourse_figure(ds)}
    risk = json.loads(str(ds.attrs.get("risk", "null")) or "null")
    hedged = 0
    return render(
        "hedge.html.j2",
        plotly_src,
        name=str(ds.attrs.get("futures_name", "")),
        description=str(ds.attrs.get("futures_description", "")),
        version=str(ds.attrs.get("planner_version", "")),
        source=source or "",
        commit_until=int(ds.attrs.get("commit_until", 0)),
        risk=(
            f"minimises E[NPV] + {risk['weight']:g} × CVaR {risk['cvar_alpha']:g}"
            if risk and float(risk.get("weight", 0)) > 0
            else "minimises the expected NPV (risk-neutral)"
        ),
        n=int(ds.sizes["future"]),
        expected=_money(ds["expected_cost_cny"].values[hedged]),
        cvar=_money(ds["cvar_cny"].values[hedged]),
        alpha=f"{float(ds.attrs.get('cvar_alpha', 0.9)):g}",
        evpi=_money(float(ds["evpi_cny"])),
        vss=_money(float(ds["vss_cny"])),
        gap=f"{float(ds.attrs.get('hedge_mip_gap', math.nan)):.2%}",
        method=_method(ds),
        futures=_futures(ds),
        plans=[plan_label(str(p)) for p in ds["plan"].values],
        future_names=[str(f) for f in ds["future"].values],
        commits=commit_rows(ds),
        rows=plan_rows(ds),
        notes=json.loads(str(ds.attrs.get("mean_value_notes", "[]"))),
        links=links or {},
        charts=charts(figures),
    )


def _method(ds: xr.Dataset) -> str:
    """How the hedged plan was found, and what its gap is measured against."""
    if ds.attrs.get("hedge_method") == "ph":
        n = int(ds.attrs.get("hedge_ph_iterations", 0))
        state = "converged" if int(ds.attrs.get("hedge_ph_converged", 0)) else "not converged"
        return f"progressive hedging ({n} iterations, {state}; evaluated in every future), gap to its lower bound"
    return "extensive form, MIP"


def hedge_plans(ds: xr.Dataset, parts: Path | str | None = None) -> dict[str, xr.Dataset]:
    """The hedged plan in each future as its own plan: the part ``<parts>/hedged-<future>.nc`` where there is one."""
    plans = {}
    for future in ds["future"].values:
        part = Path(parts) / f"hedged-{future}.nc" if parts is not None else None
        if part is not None and part.is_file():
            plans[str(future)] = read_dataset(part)
    return plans


def write_hedge_report(
    ds: xr.Dataset, path: Path | str, plans: dict[str, xr.Dataset] | None = None, source: str | None = None
) -> tuple[Path, dict[str, Path]]:
    """Write the hedge page to ``path`` and the hedged plan's full report in each future to
    ``<path stem>/<future>.html``.
    """
    path = Path(path)
    folder = path.parent / path.stem
    written: dict[str, Path] = {}
    if plans:
        write_plotly_js(folder)
        for future, plan in plans.items():
            plan = plan.copy()
            plan.attrs = {**plan.attrs, "scenario_name": f"{plan.attrs.get('scenario_name', '')} · hedged, {future}"}
            written[future] = write_report(plan, folder / f"{future}.html", plotly_src=PLOTLY_JS_NAME)
    links = {f: f"{quote(path.stem)}/{quote(p.name)}" for f, p in written.items()}
    shared = f"{quote(path.stem)}/{PLOTLY_JS_NAME}" if written else None
    return write_html(render_hedge_report(ds, source, links, shared), path), written


def print_hedge(ds: xr.Dataset, console: Console) -> None:
    """The hedge in the terminal: what it commits now against the other plans, each plan's cost, EVPI, VSS."""
    plans = [plan_label(str(p)) for p in ds["plan"].values]
    console.print(
        f"hedged plan over {ds.sizes['future']} futures, decided now to {ds.attrs.get('commit_until')}: expected NPV "
        f"{_money(ds['expected_cost_cny'].values[0])}, EVPI {_money(float(ds['evpi_cny']))}, "
        f"VSS {_money(float(ds['vss_cny']))}"
    )
    commit = Table(title="decided now", title_justify="left")
    commit.add_column("decision")
    for p in plans:
        commit.add_column(escape(p), justify="right")
    for row in commit_rows(ds):
        commit.add_row(
            escape(f"{row.label} [{row.units}]"),
            *[f"[bold]{v}[/]" if d else v for v, d in zip(row.values, row.differs, strict=True)],
        )
    console.print(commit)
    costs = Table(title="NPV in each future", title_justify="left")
    costs.add_column("plan")
    for f in ds["future"].values:
        costs.add_column(escape(str(f)), justify="right")
    costs.add_column("expected", justify="right")
    costs.add_column("max regret", justify="right")
    for plan_row in plan_rows(ds):
        costs.add_row(
            escape(plan_row.plan),
            *[escape(c) for c in plan_row.costs],
            escape(plan_row.expected),
            escape(plan_row.max_regret),
        )
    console.print(costs)
