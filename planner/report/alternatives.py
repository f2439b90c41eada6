"""The alternatives page (``plan alternatives``): how much room there is within a few percent of the least cost.

Read from the combined alternatives Dataset alone (:func:`planner.studies.alternatives.stack_alternatives`):
the range each metric and each build decision takes over the alternatives (bars from min to max,
the least-cost plan marked), a parallel-coordinates view of every alternative, and a table of
them with links to each one's full report. The metrics' values are the Dataset's ``metric_<name>``
variables, computed by :mod:`planner.results.metrics` (the same definitions the objectives used);
the page recomputes nothing.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import numpy as np
import plotly.graph_objects as go
import xarray as xr
from rich.console import Console
from rich.markup import escape

from planner.report.format import fmt_money, fmt_num, fmt_share
from planner.report.html import write_report
from planner.report.labels import accelerator_label
from planner.report.page import PLOTLY_JS_NAME, charts, render, write_html, write_plotly_js
from planner.report.style import figure, layout, subplots
from planner.results.io import read_dataset
from planner.results.sites import cluster_view

__all__ = [
    "alternative_plans",
    "alternative_rows",
    "is_alternatives",
    "load_alternatives",
    "print_alternatives",
    "range_rows",
    "render_alternatives_report",
    "write_alternatives_report",
]

LEAST_COST = "least_cost"
_LEAST_COLOUR, _BAR_COLOUR, _LIMIT_COLOUR = "#cf222e", "#54aeff", "#57606a"


def is_alternatives(ds: xr.Dataset) -> bool:
    """Whether a Dataset is the combined result of ``plan alternatives``."""
    return ds.attrs.get("study") == "alternatives" and "alternative" in ds.dims


def load_alternatives(path: Path | str) -> xr.Dataset | None:
    """The combined alternatives Dataset in ``path``, or None when the file is not one (or unreadable:
    ``plan report`` then words the error as for any results file).
    """
    try:
        ds = read_dataset(Path(path))
    except Exception:  # noqa: BLE001 - not ours to word: the plan/sweep reader says what is wrong
        return None
    return ds if is_alternatives(ds) else None


def _metrics(ds: xr.Dataset) -> dict[str, dict[str, str]]:
    try:
        return dict(json.loads(str(ds.attrs.get("metrics", "{}"))))
    except ValueError:
        return {}


@dataclass(frozen=True)
class RangeRow:
    """The range one quantity takes over the alternatives with a plan."""

    key: str
    label: str
    units: str
    least: float  #: the least-cost plan's value
    low: float
    high: float
    low_at: str  #: the alternative that has the low value
    high_at: str
    low_limit: float = math.nan
    """No plan within the slack goes below this (the proven limit of the alternative that minimises
    the metric; NaN when none did or it has no bound)."""
    high_limit: float = math.nan  #: no plan within the slack goes above this

    def text(self, value: float) -> str:
        """A value in the row's units, as the page shows it ("–" for NaN)."""
        if not math.isfinite(value):
            return "–"
        return fmt_share(value) if self.units == "1" else fmt_num(value)


def _range(ds: xr.Dataset, values: xr.DataArray, key: str, label: str, units: str) -> RangeRow | None:
    v = np.asarray(values.values, dtype=float)
    ok = np.isfinite(v)
    if not ok.any():
        return None
    ids = [str(a) for a in ds["alternative"].values]
    lo, hi = int(np.nanargmin(v)), int(np.nanargmax(v))
    return RangeRow(key, label, units, float(v[ids.index(LEAST_COST)]), float(v[lo]), float(v[hi]), ids[lo], ids[hi])


def _limit(ds: xr.Dataset, name: str, sense: str) -> float:
    """The proven limit recorded by the alternative that pushes metric ``name`` in ``sense`` (NaN: none)."""
    if f"limit_{name}" not in ds:
        return math.nan
    at = (ds["metric"] == name) & (ds["sense"] == sense)
    values = ds[f"limit_{name}"].values[at.values].astype(float)
    values = values[np.isfinite(values)]
    return float(values[0]) if len(values) else math.nan


def _decision_label(ds: xr.Dataset, key: str) -> str:
    kind, _, what = key.partition(":")
    names = {
        "servers_new": "servers bought",
        "racks_new": "racks bought",
        "halls_new": "halls built",
        "grid_blocks_new": "grid blocks built",
        "cooling_units_new": "cooling plant units bought",
        "generators_new": "gensets bought",
        "pv_mw": "PV, last year",
        "battery_mwh": "battery, last year",
        "ppa_mw": "PPA contracted, last year",
    }
    name = names.get(kind, kind.replace("_", " "))
    if kind == "servers_new":
        return f"{accelerator_label(ds, what)} {name}"
    return f"{name}: {what}" if what else name


def range_rows(ds: xr.Dataset) -> tuple[list[RangeRow], list[RangeRow]]:
    """(metrics, build decisions): the range of each over the alternatives, the least-cost value in it."""
    metrics = []
    for name, meta in _metrics(ds).items():
        if f"metric_{name}" in ds:
            row = _range(ds, ds[f"metric_{name}"], name, f"{name}: {meta.get('long_name', '')}", meta.get("units", ""))
            if row is not None:
                metrics.append(
                    dataclasses.replace(row, low_limit=_limit(ds, name, "min"), high_limit=_limit(ds, name, "max"))
                )
    decisions = []
    if "decision_value" in ds:
        units = ds["decision_units"].values.tolist()
        for i, key in enumerate(ds["decision"].values.tolist()):
            row = _range(ds, ds["decision_value"].isel(decision=i), key, _decision_label(ds, key), str(units[i]))
            if row is not None and (row.high > 1e-9 or row.low < -1e-9):
                decisions.append(row)
    return metrics, decisions


def _unit(r: RangeRow) -> str:
    return "%" if r.units == "1" else r.units


def ranges_figure(rows: list[RangeRow], title: str) -> go.Figure:
    """A panel per quantity that varies, in its own units: a bar from its lowest to its highest value,
    the least-cost plan marked (quantities the same in every alternative are in the page's table only).
    """
    rows = _varying(rows)
    if not rows:
        fig = figure()
        fig.add_annotation(
            text="the same in every alternative", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper"
        )
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        return layout(fig, title, height=160)
    n = len(rows)
    gap = 58 / (10 + 95 * n)  # [-] of the plot height: 58 px for the tick labels and the next title
    fig = subplots(
        rows=n,
        cols=1,
        vertical_spacing=min(gap, 1 / max(n - 1, 1)),
        subplot_titles=[f"{r.key} [{_unit(r)}]" for r in rows],
    )
    shown_limit = False
    for i, r in enumerate(rows, start=1):
        scale = 100.0 if r.units == "1" else 1.0
        fig.add_trace(
            go.Bar(
                x=[(r.high - r.low) * scale],
                base=[r.low * scale],
                y=[""],
                orientation="h",
                marker_color=_BAR_COLOUR,
                showlegend=i == 1,
                name="range over the alternatives",
                legendgroup="range",
                hovertemplate=f"{r.label}<br>{r.text(r.low)} ({r.low_at}) to {r.text(r.high)} ({r.high_at})"
                "<extra></extra>",
            ),
            row=i,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=[r.least * scale],
                y=[""],
                mode="markers",
                marker={"symbol": "line-ns", "size": 22, "line": {"width": 3, "color": _LEAST_COLOUR}},
                showlegend=i == 1,
                name="least-cost plan",
                legendgroup="least",
                hovertemplate=f"least cost: {r.text(r.least)}<extra></extra>",
            ),
            row=i,
            col=1,
        )
        limits = [v for v in (r.low_limit, r.high_limit) if math.isfinite(v)]
        if limits:
            fig.add_trace(
                go.Scatter(
                    x=[v * scale for v in limits],
                    y=[""] * len(limits),
                    mode="markers",
                    marker={"symbol": "line-ns", "size": 16, "line": {"width": 2, "color": _LIMIT_COLOUR}},
                    showlegend=not shown_limit,
                    name="proven limit (no plan beyond)",
                    legendgroup="limit",
                    hovertemplate="no plan within the slack goes beyond %{x:.4g}<extra></extra>",
                ),
                row=i,
                col=1,
            )
            shown_limit = True
        lo, hi = min([r.low, *limits]), max([r.high, *limits])
        pad = abs(hi - lo) * scale * 0.05
        fig.update_xaxes(range=[lo * scale - pad, hi * scale + pad], row=i, col=1)
    return layout(fig, title, height=110 + 95 * n, margin={"l": 20, "b": 40}, legend={"y": -0.4 / n})


def _varying(rows: list[RangeRow]) -> list[RangeRow]:
    """The rows whose value differs between the alternatives."""
    return [r for r in rows if r.high - r.low > 1e-9 * max(1.0, abs(r.high))]


def parallel_figure(ds: xr.Dataset, rows: list[RangeRow]) -> go.Figure:
    """Every alternative as a line over its NPV and metrics (coloured by NPV above the least cost)."""
    over = np.nan_to_num(ds["npv_over_least_cost"].values.astype(float) * 100)
    dims = [{"label": "NPV over least cost [%]", "values": over}]
    for r in _varying(rows):
        v = ds[f"metric_{r.key}"].values.astype(float) * (100 if r.units == "1" else 1)
        dims.append({"label": f"{r.key} [{_unit(r)}]", "values": np.nan_to_num(v)})
    fig = figure()
    fig.add_trace(
        go.Parcoords(line={"color": over, "colorscale": "Blues", "showscale": True, "cmin": 0}, dimensions=dims)
    )
    return layout(fig, "Every alternative: its cost and its metrics", height=460, margin={"l": 70, "r": 70, "t": 90})


@dataclass(frozen=True)
class AlternativeRow:
    """One alternative in the page's table."""

    id: str
    direction: str
    status: str
    npv: str
    over: str
    metrics: list[str]
    link: str | None


def alternative_rows(ds: xr.Dataset, links: Mapping[str, str] | None = None) -> list[AlternativeRow]:
    """Every alternative: its direction, status, NPV and metric values (the table's rows)."""
    links = dict(links or {})
    units = _metrics(ds)
    names = [n for n in units if f"metric_{n}" in ds]
    out = []
    for i, alt in enumerate(ds["alternative"].values.tolist()):
        npv = float(ds["npv_cny"].values[i])
        over = float(ds["npv_over_least_cost"].values[i])
        values = []
        for n in names:
            v = float(ds[f"metric_{n}"].values[i])
            values.append("–" if not math.isfinite(v) else fmt_share(v) if units[n].get("units") == "1" else fmt_num(v))
        out.append(
            AlternativeRow(
                id=str(alt),
                direction=str(ds["direction"].values[i]),
                status=str(ds["status"].values[i]) if "status" in ds else "",
                npv=fmt_money(npv) if math.isfinite(npv) else "–",
                over=f"+{over:.2%}" if math.isfinite(over) and alt != LEAST_COST else "",
                metrics=values,
                link=links.get(str(alt)),
            )
        )
    return out


def render_alternatives_report(
    ds: xr.Dataset, source: str | None = None, links: Mapping[str, str] | None = None, plotly_src: str | None = None
) -> str:
    """The HTML page of a combined alternatives Dataset, as text."""
    ds = cluster_view(ds)
    metrics, decisions = range_rows(ds)
    figures = {
        "metric_ranges": ranges_figure(metrics, "What each metric can be at this cost"),
        "decision_ranges": ranges_figure(decisions, "What each build decision can be at this cost"),
        "parallel": parallel_figure(ds, metrics),
    }
    slack = float(ds.attrs.get("slack", math.nan))
    least = float(ds.attrs.get("least_cost_npv_cny", math.nan))
    return render(
        "alternatives.html.j2",
        plotly_src,
        name=str(ds.attrs.get("scenario_name", "")),
        version=str(ds.attrs.get("planner_version", "")),
        source=source or "",
        slack=fmt_share(slack),
        least=fmt_money(least),
        budget=fmt_money(least * (1 + slack)),
        n=int(ds.sizes["alternative"]),
        metrics=metrics,
        decisions=decisions,
        metric_names=[n for n in _metrics(ds) if f"metric_{n}" in ds],
        rows=alternative_rows(ds, links),
        charts=charts(figures),
        gap=fmt_share(float(ds.attrs.get("least_cost_mip_gap", math.nan))),
    )


def alternative_plans(ds: xr.Dataset, parts: Path | str | None = None) -> dict[str, xr.Dataset]:
    """Each alternative's own plan: its part file ``<parts>/<id>.nc`` (with its own attrs: solver,
    timings) where there is one, else its slice of the combined Dataset with the combined attrs.
    """
    plans = {}
    for i, alt in enumerate(ds["alternative"].values.tolist()):
        part = Path(parts) / f"{alt}.nc" if parts is not None else None
        if part is not None and part.is_file():
            plans[str(alt)] = read_dataset(part)
        elif math.isfinite(float(ds["npv_cny"].values[i])):
            own = [str(v) for v in ds.data_vars if not str(v).startswith("metric_") and v not in _STUDY_VARS]
            plan = (
                ds[own]
                .isel(alternative=i, drop=True)
                .drop_vars(["direction", "metric", "sense", "slack"], errors="ignore")
            )
            plans[str(alt)] = plan
    return plans


_STUDY_VARS = ("status", "mip_gap", "iterations", "wall_time_s", "decision_value", "npv_over_least_cost")


def write_alternatives_report(
    ds: xr.Dataset, path: Path | str, plans: Mapping[str, xr.Dataset] | None = None, source: str | None = None
) -> tuple[Path, dict[str, Path]]:
    """Write the alternatives page to ``path`` and each plan's full report to ``<path stem>/<id>.html``.

    The per-alternative reports and the page share one ``plotly.min.js`` beside them (offline).
    """
    path = Path(path)
    folder = path.parent / path.stem
    written: dict[str, Path] = {}
    if plans:
        write_plotly_js(folder)
        for alt, plan in plans.items():
            plan = plan.copy()
            plan.attrs = {**plan.attrs, "scenario_name": f"{plan.attrs.get('scenario_name', '')} · {alt}"}
            written[alt] = write_report(plan, folder / f"{alt}.html", plotly_src=PLOTLY_JS_NAME)
    links = {alt: f"{quote(path.stem)}/{quote(p.name)}" for alt, p in written.items()}
    shared = f"{quote(path.stem)}/{PLOTLY_JS_NAME}" if written else None
    return write_html(render_alternatives_report(ds, source, links, shared), path), written


def print_alternatives(ds: xr.Dataset, console: Console) -> None:
    """The room in the terminal: each metric's range at the slack, and every alternative's NPV."""
    metrics, _ = range_rows(ds)
    console.print(
        f"near-optimal alternatives within {fmt_share(float(ds.attrs['slack']))} of the least cost "
        f"({fmt_money(float(ds.attrs['least_cost_npv_cny']))}); the metrics pushed both ways:"
    )
    pushed = set(ds["metric"].values.tolist())
    for r in metrics:
        if r.key not in pushed:
            continue
        console.print(
            f"  {escape(r.key)}: {r.text(r.low)} .. {r.text(r.high)} (least cost {r.text(r.least)}"
            f"{'' if r.units in ('1', '') else ' ' + escape(r.units)}; no plan below {r.text(r.low_limit)}"
            f" or above {r.text(r.high_limit)})"
        )
    for row in alternative_rows(ds):
        console.print(f"  {escape(row.id)}: {row.status}, NPV {row.npv} {row.over}")
