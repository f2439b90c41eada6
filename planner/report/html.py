"""Assemble the self-contained HTML report of a plan (and the comparison of two plans).

This is the one module that writes HTML. Figures come from :mod:`planner.report.figures`;
the page is a Jinja2 template (``templates/``) rendered with autoescaping on, so every piece
of user text (scenario name and description, server, cooling and PPA names) is escaped.
plotly.js is embedded once; each figure is a JSON document in a
``<script type="application/json">`` block whose ``<``, ``>`` and ``&`` are written as
JSON unicode escapes (u003c), so no user text can close the script element. Opening the file
needs no network access.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import xarray as xr
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from planner.atomic import atomic_path
from planner.report import figures as F
from planner.scenario.sweep import PLAN_DIMS as SWEEP_PLAN_DIMS

__all__ = [
    "ReportInputError",
    "load_results",
    "render_compare",
    "render_report",
    "report_charts",
    "compare_charts",
    "write_compare",
    "write_html",
    "write_report",
]

#: Variables a results file must hold for a report to be drawn.
REQUIRED = (
    "servers",
    "servers_new",
    "cost",
    "npv_cny",
    "facility_power_mw",
    "it_power_mw",
    "day_weight",
    "pue",
    "green_share",
    "domestic_share",
)

#: Dimensions of one plan's results (a sweep adds one per swept parameter).
#: Dimensions of one plan's Dataset (a sweep's combined file adds one per swept parameter).
PLAN_DIMS = tuple(sorted(SWEEP_PLAN_DIMS - {"case"}))

PLOTLY_CONFIG = {
    "responsive": True,
    "displaylogo": False,
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


class ReportInputError(Exception):
    """A file given to ``plan report`` / ``plan compare`` is missing or not a results file."""


def load_results(path: Path | str) -> xr.Dataset:
    """Read a results file for a report, with a clear error for anything that is not one."""
    from planner.results import read_dataset

    path = Path(path)
    if not path.exists():
        raise ReportInputError(f"{path}: no such file")
    if path.is_dir():
        raise ReportInputError(f"{path}: is a folder, not a results file")
    try:
        ds = read_dataset(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure means "not a results file"
        raise ReportInputError(f"{path}: not a results file (cannot be read as netCDF: {type(exc).__name__})") from None
    missing = [name for name in REQUIRED if name not in ds]
    if missing or "year" not in ds.dims:
        raise ReportInputError(
            f"{path}: not a planner results file (missing {', '.join(missing) or 'the year dimension'})"
        )
    extra = [d for d in ds.dims if d not in PLAN_DIMS]
    if extra:
        raise ReportInputError(
            f"{path}: holds more than one plan (extra dimensions: {', '.join(map(str, extra))}); "
            "a report draws one plan: select one (ds.sel(...)) and save it with planner.results.write_dataset"
        )
    return ds


# ====================================================================== charts


@dataclass(frozen=True)
class Chart:
    """One figure, ready for the template."""

    id: str
    spec: Markup  #: the figure as JSON, safe inside a <script> element
    height: int


def _script_json(text: str) -> Markup:
    """JSON that can sit inside ``<script>``: ``<``, ``>`` and ``&`` escaped (valid JSON still)."""
    return Markup(text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e"))


def _chart(fig: go.Figure, chart_id: str) -> Chart:
    spec = pio.to_json(fig, validate=False, pretty=False)
    height = int(fig.layout.height or 420)
    return Chart(chart_id, _script_json(spec), height)


def report_charts(ds: xr.Dataset) -> dict[str, go.Figure]:
    """Every figure of a plan's report, by key, in page order (shortfall only when there is one)."""
    charts = {
        "compliance": F.compliance_figure(ds),
        "new_servers": F.new_servers_figure(ds),
        "installed": F.installed_figure(ds),
        "facility": F.facility_figure(ds),
        "cost": F.cost_figure(ds),
        "npv": F.npv_figure(ds),
        "dispatch": F.dispatch_figure(ds),
        "pue": F.pue_figure(ds),
        "emissions": F.emissions_figure(ds),
        "utilisation": F.utilisation_figure(ds),
    }
    if F.has_shortfall(ds):
        charts["shortfall"] = F.shortfall_figure(ds)
    charts["shadow_prices"] = F.shadow_price_figure(ds)
    return charts


def compare_charts(a: xr.Dataset, b: xr.Dataset, labels: tuple[str, str]) -> dict[str, go.Figure]:
    """Every figure of a comparison report, by key, in page order."""
    return {
        "policy": F.compare_policy_figure(a, b, labels),
        "builds": F.compare_builds_figure(a, b, labels),
        "facility": F.compare_facility_figure(a, b, labels),
        "cost": F.compare_cost_figure(a, b, labels),
        "npv": F.compare_npv_figure(a, b, labels),
        "dispatch_a": F.dispatch_figure(a, title_prefix=f"{labels[0]}: "),
        "dispatch_b": F.dispatch_figure(b, title_prefix=f"{labels[1]}: "),
    }


# ====================================================================== page data


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("planner.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = F.fmt_num
    env.filters["money"] = F.fmt_money
    env.filters["share"] = F.fmt_share
    env.filters["limit_value"] = F.fmt_limit_value
    return env


def _scenario(ds: xr.Dataset) -> dict[str, Any]:
    return F.scenario_data(ds)


def _flatten(node: Any, prefix: str = "") -> list[tuple[str, str]]:
    """``{"a": {"b": 1}}`` -> ``[("a.b", "1")]``; lists of scalars joined, lists of mappings indexed."""
    rows: list[tuple[str, str]] = []
    if isinstance(node, dict):
        if not node and prefix:
            rows.append((prefix, "{}"))
        for key, value in node.items():
            rows.extend(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(node, list) and any(isinstance(v, dict | list) for v in node):
        for i, value in enumerate(node):
            rows.extend(_flatten(value, f"{prefix}[{i}]"))
    elif isinstance(node, list):
        rows.append((prefix, ", ".join("null" if v is None else str(v) for v in node)))
    else:
        rows.append((prefix, "null" if node is None else str(node)))
    return rows


def _build_cells(row: F.BuildRow) -> list[dict[str, Any]]:
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


def _compliance_grid(ds: xr.Dataset) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows of the compliance table (one per limit, one cell per year) and the pricing-method notes."""
    rows: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    for r in F.compliance_rows(ds):
        method, _, step = r.shadow_price_method.partition(";")
        row = rows.setdefault(r.key, {"label": r.label, "sense": r.sense, "cells": [], "step": ""})
        note = None
        price = ""
        if np.isfinite(r.shadow_price):
            if method not in notes:
                notes.append(method)
            note = notes.index(method) + 1
            row["step"] = row["step"] or step.strip()
            if abs(r.shadow_price) >= 1e-6:
                price = F.fmt_money(r.shadow_price)
            elif np.isfinite(r.limit) and abs(r.achieved - r.limit) <= 1e-6 * max(1.0, abs(r.limit)):
                # exactly at its limit with a zero dual: the plan sits on a breakpoint, and one step
                # tighter may still cost something (docs/prices.md)
                price = "at the limit; 0 at the margin"
            else:
                price = "not binding"
        row["cells"].append(
            {
                "year": r.year,
                "achieved": F.fmt_limit_value(r.achieved, r.kind),
                "limit": F.fmt_limit_value(r.limit, r.kind) if np.isfinite(r.limit) else "",
                "ok": r.ok,
                "price": price,
                "binding": bool(np.isfinite(r.shadow_price) and abs(r.shadow_price) >= 1e-6),
                "note": note,
                "method": r.shadow_price_method,
            }
        )
    return list(rows.values()), notes


STAGE_ORDER = ("load", "time_reduction", "build", "compile", "handoff", "solve", "shadow_prices", "results", "report")


def _timings(ds: xr.Dataset) -> list[dict[str, Any]]:
    t = F.timings(ds)
    order = {k: i for i, k in enumerate(STAGE_ORDER)}
    total = sum(t.values()) or 1.0
    stages = sorted(t, key=lambda k: order.get(k, len(order)))
    return [{"stage": k, "seconds": t[k], "share": 100 * t[k] / total} for k in stages]


def _common(ds: xr.Dataset) -> dict[str, Any]:
    scenario = _scenario(ds)
    years = [int(y) for y in ds["year"].values]
    return {
        "name": str(ds.attrs.get("scenario_name") or scenario.get("name") or "plan"),
        "description": str(scenario.get("description") or ""),
        "years": years,
        "status": str(ds.attrs.get("solver_status", "?")),
        "termination": str(ds.attrs.get("termination", "")),
        "gap": F.as_float(ds.attrs.get("mip_gap")),
        "version": str(ds.attrs.get("planner_version", "")),
        "input_hash": str(ds.attrs.get("input_hash", "")),
        "npv": F.as_float(ds["npv_cny"].values),
    }


def _worst_shortfall(ds: xr.Dataset) -> str:
    shares = F.shortfall_shares(ds)
    name = max(shares, key=lambda k: float(np.nanmax(shares[k])) if np.size(shares[k]) else 0.0)
    values = shares[name]
    if not np.size(values):
        return "none"
    year = int(ds["year"].values[int(np.nanargmax(values))])
    return f"{F.fmt_small_share(float(np.nanmax(values)))} of {name} in {year}"


def _now() -> str:
    return _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")


def render_report(ds: xr.Dataset, source: str | None = None) -> str:
    """The HTML report of one plan, as text."""
    env = _env()
    figures = report_charts(ds)
    charts = {key: _chart(fig, f"chart-{key.replace('_', '-')}") for key, fig in figures.items()}
    compliance, notes = _compliance_grid(ds)
    scenario_yaml = str(ds.attrs.get("scenario_yaml", ""))
    cost_rows = F.cost_rows(ds)
    return env.get_template("report.html.j2").render(
        plotly_js=_plotly_js(),
        config=_script_json(pio.json.to_json_plotly(PLOTLY_CONFIG)),
        plan=_common(ds),
        source=source or "",
        generated=_now(),
        kpis=F.headline(ds),
        totals=F.build_totals(ds),
        compliance=compliance,
        compliance_notes=notes,
        builds=[{"row": r, "cells": _build_cells(r)} for r in F.build_rows(ds)],
        cost_rows=cost_rows,
        charts=charts,
        has_shortfall="shortfall" in charts,
        shortfall_worst=_worst_shortfall(ds),
        solver=F.solver_rows(ds),
        timings=_timings(ds),
        inputs=_flatten(_scenario(ds)),
        scenario_yaml=scenario_yaml,
        dispatch_year=int(ds["year"].values[-1]),
    )


def _labels(a: xr.Dataset, b: xr.Dataset, sources: tuple[str, str] | None) -> tuple[str, str]:
    na, nb = str(a.attrs.get("scenario_name", "A")), str(b.attrs.get("scenario_name", "B"))
    if na != nb:
        return na, nb
    if sources and Path(sources[0]).stem != Path(sources[1]).stem:
        stems = Path(sources[0]).stem, Path(sources[1]).stem
        # a bare number ("2030") would read as a year in the charts
        return tuple(f"plan {s}" if s.isdigit() else s for s in stems)  # type: ignore[return-value]
    return "A", "B"


def render_compare(a: xr.Dataset, b: xr.Dataset, sources: tuple[str, str] | None = None) -> str:
    """The HTML comparison of two plans (A and B, differences B − A), as text."""
    env = _env()
    labels = _labels(a, b, sources)
    figures = compare_charts(a, b, labels)
    charts = {key: _chart(fig, f"chart-{key.replace('_', '-')}") for key, fig in figures.items()}
    builds = F.compare_build_rows(a, b)
    return env.get_template("compare.html.j2").render(
        plotly_js=_plotly_js(),
        config=_script_json(pio.json.to_json_plotly(PLOTLY_CONFIG)),
        a=_common(a),
        b=_common(b),
        labels=labels,
        sources=sources or ("", ""),
        generated=_now(),
        kpis=F.compare_kpis(a, b),
        builds=builds,
        build_years=builds[0].years if builds else sorted({*map(int, a["year"].values), *map(int, b["year"].values)}),
        charts=charts,
    )


def _plotly_js() -> Markup:
    from plotly.offline import get_plotlyjs

    return Markup(get_plotlyjs())


# ====================================================================== writing


def write_html(text: str, path: Path | str) -> Path:
    """Write ``text`` to ``path`` atomically (:func:`planner.atomic.atomic_path`: temp file, then rename)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def write_report(ds: xr.Dataset, path: Path | str, source: str | None = None) -> Path:
    """Render the report of ``ds`` and write it to ``path`` (folders created, atomic)."""
    return write_html(render_report(ds, source), path)


def write_compare(a: xr.Dataset, b: xr.Dataset, path: Path | str, sources: tuple[str, str] | None = None) -> Path:
    """Render the comparison of plans ``a`` and ``b`` and write it to ``path`` (atomic)."""
    return write_html(render_compare(a, b, sources), path)
