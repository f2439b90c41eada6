"""Assemble and write the self-contained HTML report of a plan (and of the comparison of two plans).

The figures come from :mod:`planner.report.figures`, the tables and cards from
:mod:`planner.report.tables`, the comparison from :mod:`planner.report.compare`; the page is the
Jinja2 template ``templates/report.html.j2`` rendered by :func:`planner.report.page.render`
(autoescaping on, plotly.js embedded once, every figure script-safe JSON, no network needed).
"""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
import xarray as xr

from planner.report.cash import cash_rows, cash_unit, has_cash
from planner.report.compare import render_compare
from planner.report.data import has_shortfall, worst_shortfall
from planner.report.energy import energy_table
from planner.report.export import download_links
from planner.report.figures import (
    cash_figure,
    compliance_figure,
    cost_figure,
    dispatch_days_figure,
    dispatch_figure,
    emissions_figure,
    energy_balance_figure,
    facility_figure,
    flows_figure,
    installed_figure,
    new_servers_figure,
    npv_figure,
    pue_figure,
    shadow_price_figure,
    shortfall_figure,
    utilisation_figure,
)
from planner.report.figures.sites import site_build_figure, site_schematic_figure
from planner.report.format import fmt_small_share
from planner.report.page import charts, render, write_html
from planner.report.scenario_inputs import input_rows, inputs_yaml
from planner.report.sites import hub_rows, site_figures, site_table
from planner.report.tables import (
    build_cells,
    build_rows,
    build_totals,
    compliance_grid,
    cost_rows,
    headline,
    plan_header,
    solver_rows,
    timing_rows,
)
from planner.results.io import read_dataset
from planner.results.sites import cluster_view
from planner.scenario.sweep import PLAN_DIMS as SWEEP_PLAN_DIMS

__all__ = [
    "ReportInputError",
    "load_results",
    "render_compare",
    "render_report",
    "report_charts",
    "write_compare",
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

#: Dimensions of one plan's Dataset (a sweep's combined file adds one per swept parameter).
PLAN_DIMS = tuple(sorted(SWEEP_PLAN_DIMS - {"case"}))


class ReportInputError(Exception):
    """A file given to ``plan report`` / ``plan compare`` is missing or not a results file."""


def load_results(path: Path | str) -> xr.Dataset:
    """Read a results file for a report, with a clear error for anything that is not one."""
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
            "a report draws one plan: select one (ds.sel(...)) and save it with planner.results.io.write_dataset"
        )
    return ds


def report_charts(ds: xr.Dataset) -> dict[str, go.Figure]:
    """Every figure of a plan's report, by key, in page order (cash and shortfall only when the plan has them).

    The figures show the cluster as a whole (:func:`planner.results.sites.cluster_view`).
    """
    sites = site_figures(ds)
    hubs = hub_rows(ds)
    years = [int(y) for y in ds["year"].values]
    ds = cluster_view(ds)
    figures = {
        "compliance": compliance_figure(ds),
        "new_servers": new_servers_figure(ds),
        "installed": installed_figure(ds),
        "facility": facility_figure(ds),
    }
    if sites:  # a plan on two or more sites: what each holds
        figures["site_schematic"] = site_schematic_figure(sites, years, hubs)
        figures["site_build"] = site_build_figure(sites, years)
    figures["cost"] = cost_figure(ds)
    if has_cash(ds):  # not in results written before the cash view
        figures["cash"] = cash_figure(ds)
    figures |= {
        "npv": npv_figure(ds),
        "energy_balance": energy_balance_figure(ds),
        "flows": flows_figure(ds),
        "dispatch": dispatch_figure(ds),
        "dispatch_days": dispatch_days_figure(ds),
        "pue": pue_figure(ds),
        "emissions": emissions_figure(ds),
        "utilisation": utilisation_figure(ds),
    }
    if has_shortfall(ds):
        figures["shortfall"] = shortfall_figure(ds)
    figures["shadow_prices"] = shadow_price_figure(ds)
    return figures


def _worst_shortfall(ds: xr.Dataset) -> str:
    worst = worst_shortfall(ds)
    if worst is None:
        return "none"
    name, share, year = worst
    return f"{fmt_small_share(share)} of {name} in {year}"


def render_report(ds: xr.Dataset, source: str | None = None, plotly_src: str | None = None) -> str:
    """The HTML report of one plan, as text (``plotly_src``: load plotly.js from there, see :func:`page.render`).

    The report shows the cluster as a whole: its sites added up (:func:`planner.results.sites.cluster_view`).
    """
    page_charts = charts(report_charts(ds))
    sites = site_figures(ds)
    ds = cluster_view(ds)
    compliance, notes = compliance_grid(ds)
    cash = cash_rows(ds)
    return render(
        "report.html.j2",
        plotly_src,
        plan=plan_header(ds),
        source=source or "",
        kpis=headline(ds),
        totals=build_totals(ds),
        compliance=compliance,
        compliance_notes=notes,
        builds=[{"row": r, "cells": build_cells(r)} for r in build_rows(ds)],
        cost_rows=cost_rows(ds),
        cash_rows=cash,
        cash_unit=cash_unit(cash) if cash else None,
        charts=page_charts,
        has_shortfall="shortfall" in page_charts,
        shortfall_worst=_worst_shortfall(ds),
        solver=solver_rows(ds),
        timings=timing_rows(ds),
        inputs=input_rows(ds),
        scenario_yaml=inputs_yaml(ds),
        dispatch_year=int(ds["year"].values[-1]),
        energy=energy_table(ds),
        downloads=download_links(ds),
        sites=site_table(sites),
    )


def write_report(ds: xr.Dataset, path: Path | str, source: str | None = None, plotly_src: str | None = None) -> Path:
    """Render the report of ``ds`` and write it to ``path`` (folders created, atomic).

    plotly.js is embedded, unless ``plotly_src`` names a shared copy (relative to the page).
    """
    return write_html(render_report(ds, source, plotly_src), path)


def write_compare(a: xr.Dataset, b: xr.Dataset, path: Path | str, sources: tuple[str, str] | None = None) -> Path:
    """Render the comparison of plans ``a`` and ``b`` and write it to ``path`` (atomic)."""
    return write_html(render_compare(a, b, sources), path)
