"""Figures of a plan's annual energy: the balance by year (stacked bars) and the flows of a year (Sankey).

Both read :func:`planner.report.energy.energy_flows`, so they show the numbers of the energy table.
Green sources (green PPAs, PV) are green, grey ones (grid, other PPAs) grey, the battery blue.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import xarray as xr

from planner.report.data import plan_years
from planner.report.energy import Flow, energy_flows
from planner.report.figures.dispatch import year_buttons
from planner.report.style import PPA_COLOURS, SUPPLY_COLOURS, cooling_colours, empty_figure, figure, has_data, layout

__all__ = ["energy_balance_figure", "flow_colour", "flows_figure"]

GREEN, GREY, BATTERY = "#2da44e", "#8c959f", "#0969da"
_USE_COLOURS = {"it": "#0550ae", "aux": "#d0d7de", "charge": "#a6e3b8"}


def flow_colour(ds: xr.Dataset, f: Flow) -> str:
    """The colour of a line of the energy balance (sources: green, grey or the battery's blue)."""
    if f.side == "source":
        if f.key == "pv":
            return SUPPLY_COLOURS["pv"]
        if f.key.startswith("ppa:") and f.green:
            return GREEN
        return BATTERY if f.green is None else GREY
    if f.key == "cooling":
        colours = list(cooling_colours(ds).values())
        return colours[0] if colours else PPA_COLOURS[2]
    return _USE_COLOURS[f.key]


def energy_balance_figure(ds: xr.Dataset) -> go.Figure:
    """Energy by year [GWh]: a bar of the sources and a bar of the uses side by side (they balance)."""
    years = plan_years(ds)
    fig = figure()
    for f in energy_flows(ds):
        if not has_data(f.gwh):  # grid, IT and cooling are always flows, but may be 0 (a legend entry of nothing)
            continue
        side = "sources" if f.side == "source" else "uses"
        fig.add_trace(
            go.Bar(
                x=[[str(y) for y in years], [side] * len(years)],
                y=[round(v, 6) for v in f.gwh],
                name=_tagged(f),
                legendgroup=side,
                marker_color=flow_colour(ds, f),
                hovertemplate=f"%{{x}}: %{{y:,.3f}} GWh<extra>{f.label}</extra>",
            )
        )
    fig.update_layout(barmode="stack", bargap=0.25)
    fig.update_yaxes(title_text="energy [GWh/year]", rangemode="tozero")
    fig.update_xaxes(title_text="", tickangle=0, tickfont={"size": 10})
    return layout(fig, "Energy balance by year: sources against uses [GWh]", height=460, legend={"y": -0.2})


def _sankey(ds: xr.Dataset, flows: list[Flow], i: int, year: int, visible: bool) -> go.Sankey:
    """One year's flows: sources → facility → IT, cooling, losses and battery charge."""
    sources = [f for f in flows if f.side == "source"]
    uses = [f for f in flows if f.side == "use"]
    nodes = [*sources, None, *uses]  # None: the facility
    hub = len(sources)
    label = [_tagged(f) if f is not None else "facility" for f in nodes]
    colour = [flow_colour(ds, f) if f is not None else "#1f2328" for f in nodes]
    link: dict[str, list[Any]] = {"source": [], "target": [], "value": [], "color": []}
    ends = [(j, hub, f) for j, f in enumerate(sources)] + [(hub, hub + 1 + j, f) for j, f in enumerate(uses)]
    for a, b, f in ends:
        if f.gwh[i] > 1e-9:  # plotly.js fails on a Sankey of zero-valued links only
            link["source"].append(a)
            link["target"].append(b)
            link["value"].append(round(f.gwh[i], 6))
            link["color"].append(_translucent(_link_colour(ds, f)))
    return go.Sankey(
        name=str(year),
        visible=visible,
        valueformat=",.3f",
        valuesuffix=" GWh",
        node={"label": label, "color": colour, "pad": 18, "thickness": 16, "line": {"width": 0}},
        link=link,
    )


def _tagged(f: Flow) -> str:
    """A flow's label, with ``(green)`` or ``(grey)`` after a source that is one or the other."""
    return f.label + ("" if f.green is None else (" (green)" if f.green else " (grey)"))


def _link_colour(ds: xr.Dataset, f: Flow) -> str:
    """A link's colour: green or grey for the sources (PV too is green here), the battery blue."""
    if f.side == "source":
        return BATTERY if f.green is None else (GREEN if f.green else GREY)
    return flow_colour(ds, f)


def _translucent(colour: str, alpha: float = 0.45) -> str:
    r, g, b = (int(colour[k : k + 2], 16) for k in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def flows_figure(ds: xr.Dataset, year: int | None = None) -> go.Figure:
    """A Sankey of one year's energy [GWh] (default the last year), with one button per year.

    Sources (grid, PPAs, PV, battery discharge) flow into the facility, which passes them on to
    IT, cooling, auxiliary losses and the battery's charge; a link's width is its energy. Links
    from green sources (green PPAs, PV) are green, from grey ones (grid, other PPAs) grey.
    """
    years = plan_years(ds)
    shown = years.index(years[-1] if year is None else int(year))
    flows = energy_flows(ds)
    if not any(f.gwh[i] > 1e-9 for f in flows for i in range(len(years))):
        return empty_figure(_title(years[shown]), "no energy flows: nothing is operated")
    fig = figure()
    for i, y in enumerate(years):
        fig.add_trace(_sankey(ds, flows, i, y, visible=i == shown))
    if len(years) > 1:
        menu = year_buttons(
            years,
            [
                [{"visible": [j == i for j in range(len(years))]}, {"title.text": _title(y)}]
                for i, y in enumerate(years)
            ],
            active=shown,
        )
        fig.update_layout(updatemenus=[menu])
    return layout(fig, _title(years[shown]), height=420, margin={"t": 90})


def _title(year: int) -> str:
    return f"Energy flows in {year} [GWh]"
