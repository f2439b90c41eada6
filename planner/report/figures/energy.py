"""Figures of a plan's energy: PUE against temperature, emissions (and, re-exported, the dispatch and the flows).

Pure functions ``Dataset -> plotly Figure``. The hourly dispatch and the labels of the
representative days live in :mod:`planner.report.figures.dispatch`, the annual energy balance and
its Sankey in :mod:`planner.report.figures.flows`; both are re-exported here.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import xarray as xr

from planner.report.data import emissions, plan_years, units_of
from planner.report.figures.dispatch import day_labels, default_day, dispatch_days_figure, dispatch_figure
from planner.report.figures.flows import energy_balance_figure, flows_figure
from planner.report.format import as_float, finite, numbers
from planner.report.style import (
    BAD_COLOUR,
    OK_COLOUR,
    figure,
    has_data,
    layout,
    note_empty,
    subplots,
    year_axis,
    year_colours,
)

__all__ = [
    "day_labels",
    "default_day",
    "dispatch_days_figure",
    "dispatch_figure",
    "emissions_figure",
    "energy_balance_figure",
    "flows_figure",
    "pue_figure",
]

# ====================================================================== PUE and emissions


def pue_figure(ds: xr.Dataset) -> go.Figure:
    """Hourly PUE (facility / IT power) against ambient temperature, one colour per year.

    Marker size grows with the number of calendar days a representative day stands for; the
    dashed lines are each year's annual PUE cap (the cap bounds the annual PUE, not each hour).
    """
    years = plan_years(ds)
    colours = year_colours(years)
    it = ds["it_power_mw"].sum("cooling")
    pue = (ds["facility_power_mw"] / it.where(it > 1e-9)).transpose("year", "day", "hour")
    temp = ds["ambient_temp_c"].transpose("day", "hour").values
    weights = ds["day_weight"].values
    size = 5 + 7 * np.sqrt(weights / max(float(weights.max()), 1e-9))
    labels = day_labels(ds)
    fig = figure()
    tmin, tmax = float(np.nanmin(temp)), float(np.nanmax(temp))
    caps = ds["pue_max"].values if "pue_max" in ds else np.full(len(years), np.nan)
    for i, y in enumerate(years):
        values = pue.sel(year=y).values
        annual = as_float(ds["pue"].values[i])
        custom = [[labels[d], h] for d in range(values.shape[0]) for h in range(24)]
        fig.add_trace(
            go.Scatter(
                x=numbers(temp, 2),
                y=numbers(values, 4),
                mode="markers",
                name=f"{y} (annual {annual:.3f})",
                legendgroup=str(y),
                marker={
                    "color": colours[y],
                    "size": np.repeat(size, 24).round(1).tolist(),
                    "opacity": 0.65,
                    "line": {"width": 0},
                },
                customdata=custom,
                hovertemplate=f"{y} · %{{customdata[0]}} · %{{customdata[1]}}:00<br>"
                "%{x:.1f} °C → PUE %{y:.3f}<extra></extra>",
            )
        )
        if finite(caps[i]):
            fig.add_trace(
                go.Scatter(
                    x=[tmin, tmax],
                    y=[float(caps[i])] * 2,
                    mode="lines",
                    name=f"{y} annual cap {float(caps[i]):.2f}",
                    legendgroup=str(y),
                    showlegend=False,
                    line={"color": colours[y], "dash": "dash", "width": 1.5},
                    hovertemplate=f"{y} annual PUE cap {float(caps[i]):.3f}<extra></extra>",
                )
            )
    fig.update_xaxes(
        title_text=f"ambient dry-bulb temperature [{units_of(ds['ambient_temp_c']).replace('degC', '°C')}]"
    )
    fig.update_yaxes(title_text="hourly PUE = facility / IT power [1]")
    return layout(fig, "PUE against ambient temperature (dashed: annual cap of the year)", height=440)


def _green_share_traces(fig: go.Figure, ds: xr.Dataset, years: list[int]) -> None:
    """The green share and its minimum, on the right axis."""
    fig.add_trace(
        go.Scatter(
            x=years,
            y=numbers(ds["green_share"].values * 100, 3),
            mode="lines+markers",
            name="green share",
            line={"color": OK_COLOUR, "width": 3},
            hovertemplate="%{x}: %{y:.1f} %<extra>green share</extra>",
        ),
        secondary_y=True,
    )
    if np.isfinite(ds["green_share_min"].values.astype(float)).any():
        fig.add_trace(
            go.Scatter(
                x=years,
                y=numbers(ds["green_share_min"].values * 100, 3),
                mode="lines+markers",
                name="green share minimum",
                line={"color": OK_COLOUR, "dash": "dash", "shape": "hv"},
                marker={"symbol": "line-ew-open", "size": 12},
                hovertemplate="%{x}: ≥ %{y:.1f} %<extra>minimum</extra>",
            ),
            secondary_y=True,
        )


def emissions_figure(ds: xr.Dataset) -> go.Figure:
    """Location- and market-based emissions by year (bars) with the green share and its minimum (right axis).

    A basis that is 0 in every year (no grid energy, or all of it green) has no bars; without any
    emissions the plot says so.
    """
    years = plan_years(ds)
    fig = subplots(specs=[[{"secondary_y": True}]])
    bases = [("location", "location-based", "#6e7781")]
    if "basis" in ds["emissions_t"].dims:
        bases.append(("market", "market-based", "#afb8c1"))
    shown = 0
    for basis, name, colour in bases:
        kt = numbers(emissions(ds, basis) / 1000, 4)
        if not has_data(kt):
            continue
        shown += 1
        fig.add_trace(
            go.Bar(
                x=years,
                y=kt,
                name=name,
                marker_color=colour,
                hovertemplate=f"%{{x}}: %{{y:,.1f}} kt CO₂<extra>{name}</extra>",
            )
        )
    if not shown:
        note_empty(fig, 1, 1, "no emissions in any year")
    if "carbon_cap_t" in ds and np.isfinite(ds["carbon_cap_t"].values.astype(float)).any():
        fig.add_trace(
            go.Scatter(
                x=years,
                y=numbers(ds["carbon_cap_t"].values / 1000),
                mode="markers",
                name="carbon cap",
                marker={"symbol": "line-ew-open", "size": 24, "color": BAD_COLOUR, "line": {"width": 3}},
            )
        )
    _green_share_traces(fig, ds, years)
    fig.update_layout(barmode="group")
    year_axis(fig, years)
    fig.update_yaxes(title_text="emissions [kt CO₂/year]", rangemode="tozero", secondary_y=False)
    fig.update_yaxes(
        title_text="green share [%]", range=[0, 105], dtick=20, tickmode="linear", showgrid=False, secondary_y=True
    )
    return layout(fig, "Emissions and green power share", height=400)
