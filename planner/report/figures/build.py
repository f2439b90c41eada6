"""Figures of what a plan builds: new servers per year, compute in service, and facility and power in service.

Pure functions ``Dataset -> plotly Figure``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
import xarray as xr

from planner.report.data import coord_names, grid_block_mw, increase, plan_years, units_of
from planner.report.format import as_float, fmt_num, numbers, plain
from planner.report.labels import accelerator_label, cooling_label
from planner.report.style import (
    PPA_COLOURS,
    SUPPLY_COLOURS,
    accelerator_colours,
    accelerator_legend_title,
    cooling_colours,
    figure,
    has_data,
    layout,
    note_empty,
    row_legend,
    subplots,
    year_axis,
)
from planner.report.tables import LIMITS, limit_values

__all__ = ["facility_figure", "installed_figure", "new_servers_figure"]


def _stock_bar(
    fig: go.Figure, x: Sequence[int], stock: Any, new: Any, name: str, colour: str, row: int, col: int, **kw: Any
) -> None:
    """Bars of what is in service, labelled ``+N`` with what was added that year."""
    stock_l, new_a = numbers(stock, 3), np.asarray(new, dtype=float)
    text = [f"+{fmt_num(v)}" if v > 1e-6 else "" for v in new_a]
    fig.add_trace(
        go.Bar(
            x=list(x),
            y=stock_l,
            name=name,
            marker_color=colour,
            text=text,
            textposition="inside",
            insidetextanchor="end",
            textangle=0,
            customdata=numbers(new_a, 3),
            hovertemplate=f"{name}<br>%{{x}}: %{{y:,.4g}} in service, %{{customdata:,.4g}} new<extra></extra>",
            **kw,
        ),
        row=row,
        col=col,
    )


def new_servers_figure(ds: xr.Dataset) -> go.Figure:
    """New servers bought each year, stacked by server type (label: accelerators added)."""
    years = plan_years(ds)
    colours = accelerator_colours(ds)
    fig = figure()
    per_server = ds["accelerators_installed"].sum("year") / ds["servers"].sum(("cooling", "year")).where(
        ds["servers"].sum(("cooling", "year")) > 0
    )
    for a in coord_names(ds, "accelerator"):
        new = ds["servers_new"].sel(accelerator=a).sum("cooling").values
        if not np.any(new > 0):
            continue
        chips = new * as_float(per_server.sel(accelerator=a).values)
        name = plain(accelerator_label(ds, a))
        fig.add_trace(
            go.Bar(
                x=years,
                y=numbers(new, 3),
                name=name,
                marker_color=colours[a],
                customdata=numbers(np.nan_to_num(chips), 1),
                hovertemplate=f"{name}<br>%{{x}}: %{{y:,}} servers (%{{customdata:,}} accelerators)<extra></extra>",
            )
        )
    totals = ds["servers_new"].sum(("accelerator", "cooling")).values
    fig.add_trace(
        go.Scatter(
            x=years,
            y=numbers(totals, 3),
            mode="text",
            text=[fmt_num(t) for t in totals],
            textposition="top center",
            showlegend=False,
            hoverinfo="skip",
        )
    )
    if not any(isinstance(t, go.Bar) for t in fig.data):
        fig.add_annotation(text="no new servers in any year", showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    fig.update_layout(barmode="stack")
    year_axis(fig, years)
    fig.update_yaxes(title_text=f"new servers [{units_of(ds['servers_new'])}]", rangemode="tozero")
    return layout(
        fig,
        "New servers bought each year, by type",
        height=380,
        legend={"title": {"text": accelerator_legend_title(ds)}},
    )


def _installed_compute(fig: go.Figure, ds: xr.Dataset, years: list[int]) -> float:
    """Installed EFLOPS per year (right panel) with the target as a tick over each bar; returns the top of the axis."""
    eflops = ds["installed_pflops"].values / 1000
    fig.add_trace(
        go.Bar(
            x=years,
            y=numbers(eflops, 4),
            name="installed EFLOPS",
            marker_color="#0969da",
            showlegend=False,
            text=[f"{v:,.1f}" for v in eflops],
            textposition="outside",
            hovertemplate="%{x}: %{y:,.2f} EFLOPS<extra>installed</extra>",
        ),
        row=1,
        col=3,
    )
    target = limit_values(ds, LIMITS[3])
    if has_data(target):
        fig.add_trace(
            go.Scatter(
                x=years,
                y=numbers(target),
                mode="markers",
                name="EFLOPS target",
                marker={"symbol": "line-ew-open", "size": 34, "color": "#1f2328", "line": {"width": 3}},
                hovertemplate="%{x}: ≥ %{y:,.1f} EFLOPS<extra>target</extra>",
            ),
            row=1,
            col=3,
        )
    return float(np.nanmax(np.r_[eflops, np.nan_to_num(target), 1e-9])) * 1.18


def installed_figure(ds: xr.Dataset) -> go.Figure:
    """Servers and accelerators in service by type, and installed compute against the target."""
    years = plan_years(ds)
    colours = accelerator_colours(ds)
    fig = subplots(
        rows=1,
        cols=3,
        subplot_titles=(
            f"Servers in service [{units_of(ds['servers'])}]",
            f"Accelerators installed [{units_of(ds['accelerators_installed'])}]",
            "Installed compute [EFLOPS]",
        ),
        horizontal_spacing=0.07,
    )
    for a in coord_names(ds, "accelerator"):
        stock = ds["servers"].sel(accelerator=a).sum("cooling").values
        if not np.any(stock > 0):
            continue
        new = ds["servers_new"].sel(accelerator=a).sum("cooling").values
        name = plain(accelerator_label(ds, a))
        _stock_bar(fig, years, stock, new, name, colours[a], 1, 1, legendgroup=a)
        chips = ds["accelerators_installed"].sel(accelerator=a).values
        fig.add_trace(
            go.Bar(
                x=years,
                y=numbers(chips, 1),
                name=name,
                legendgroup=a,
                showlegend=False,
                marker_color=colours[a],
                hovertemplate=f"{name}<br>%{{x}}: %{{y:,}} accelerators<extra></extra>",
            ),
            row=1,
            col=2,
        )
    top = _installed_compute(fig, ds, years)
    fig.update_layout(barmode="stack")
    year_axis(fig, years)
    fig.update_yaxes(rangemode="tozero")
    fig.update_yaxes(range=[0, top], row=1, col=3)
    return layout(
        fig,
        "Compute in service (+N: bought that year)",
        height=380,
        legend={"title": {"text": accelerator_legend_title(ds)}},
    )


#: Where each panel of :func:`facility_figure` sits (row, column): the panels a legend explains
#: (racks and plant by cooling technology, PPA contracts) at the right of their rows, next to it.
FACILITY_PANELS = {
    "halls": (1, 1),
    "grid": (1, 2),
    "racks": (1, 3),
    "cooling_units": (1, 4),
    "pv": (2, 1),
    "battery": (2, 2),
    "gensets": (2, 3),
    "ppa": (2, 4),
}
#: The legend of each row of :func:`facility_figure`: cooling technologies (row 1), PPA contracts (row 2).
FACILITY_LEGENDS = {1: "legend", 2: "legend2"}


def _facility_titles(ds: xr.Dataset) -> dict[str, str]:
    """The title of each panel of :func:`facility_figure`, by key."""
    return {
        "racks": f"Racks by cooling [{units_of(ds['racks'])}]",
        "cooling_units": f"Cooling plant [{units_of(ds['cooling_units'])}]",
        "halls": f"Data halls [{units_of(ds['halls'])}]",
        "grid": f"Grid connection [{units_of(ds['grid_mw'])}]",
        "pv": f"PV [{units_of(ds['pv_mw'])}p]",
        "battery": f"Battery [{units_of(ds['battery_mwh'])}]",
        "gensets": f"Backup gensets [{units_of(ds['generator_units'])}]",
        "ppa": f"PPA contracts [{units_of(ds['ppa_mw'])}]",
    }


def _facility_cooling(fig: go.Figure, ds: xr.Dataset, years: list[int]) -> None:
    """Racks and cooling plant units in service, by cooling technology; technologies never used are left out.

    One legend entry per technology (on its racks, or on its plant when it has no racks), in the
    legend beside the first row.
    """
    cc = cooling_colours(ds)
    (r_row, r_col), (u_row, u_col) = FACILITY_PANELS["racks"], FACILITY_PANELS["cooling_units"]
    for c in coord_names(ds, "cooling"):
        racks, units = ds["racks"].sel(cooling=c).values, ds["cooling_units"].sel(cooling=c).values
        if not has_data(racks, units):
            continue
        name = plain(cooling_label(ds, c))
        common = {"legendgroup": f"cooling-{c}", "legend": FACILITY_LEGENDS[r_row]}
        new_racks = ds["racks_new"].sel(cooling=c).values
        _stock_bar(fig, years, racks, new_racks, name, cc[c], r_row, r_col, showlegend=has_data(racks), **common)
        new_units = ds["cooling_units_new"].sel(cooling=c).values
        _stock_bar(fig, years, units, new_units, name, cc[c], u_row, u_col, showlegend=not has_data(racks), **common)


def _facility_power(fig: go.Figure, ds: xr.Dataset, years: list[int]) -> None:
    """Halls, grid MW, PV, battery, gensets and PPA contracts in service (the other six panels).

    PPA contracts with nothing contracted in any year are left out (and out of the second row's legend).
    """
    at = FACILITY_PANELS
    _stock_bar(
        fig, years, ds["halls"].values, ds["halls_new"].values, "halls", "#8250df", *at["halls"], showlegend=False
    )
    grid_new = np.nan_to_num(ds["grid_blocks_new"].values * grid_block_mw(ds))
    grid = ds["grid_mw"].values
    _stock_bar(fig, years, grid, grid_new, "grid MW", SUPPLY_COLOURS["grid"], *at["grid"], showlegend=False)
    pv, battery = ds["pv_mw"].values, ds["battery_mwh"].values
    _stock_bar(fig, years, pv, increase(pv), "PV", SUPPLY_COLOURS["pv"], *at["pv"], showlegend=False)
    colour = SUPPLY_COLOURS["discharge"]
    _stock_bar(fig, years, battery, increase(battery), "battery MWh", colour, *at["battery"], showlegend=False)
    gensets = ds["generator_units"].values
    _stock_bar(fig, years, gensets, ds["generators_new"].values, "gensets", "#953800", *at["gensets"], showlegend=False)
    row, col = at["ppa"]
    for j, k in enumerate(coord_names(ds, "ppa")):
        v = ds["ppa_mw"].sel(ppa=k).values
        if not has_data(v):
            continue
        colour = PPA_COLOURS[j % len(PPA_COLOURS)]
        _stock_bar(
            fig,
            years,
            v,
            np.zeros_like(v),
            plain(f"PPA {k}"),
            colour,
            row,
            col,
            legendgroup=f"ppa-{k}",
            legend=FACILITY_LEGENDS[row],
        )


def facility_figure(ds: xr.Dataset) -> go.Figure:
    """Halls, grid MW, racks and cooling plant units by technology (first row); PV MWp, battery MWh, gensets and
    PPA MW (second row), each row's legend at its right, beside the panels it explains.
    """
    years = plan_years(ds)
    titles = _facility_titles(ds)
    order = sorted(FACILITY_PANELS, key=lambda k: FACILITY_PANELS[k])
    fig = subplots(
        rows=2,
        cols=4,
        side_legend=True,
        subplot_titles=[titles[k] for k in order],
        horizontal_spacing=0.06,
        vertical_spacing=0.2,
    )
    _facility_cooling(fig, ds, years)
    _facility_power(fig, ds, years)
    fig.update_layout(barmode="stack")
    year_axis(fig, years)
    fig.update_yaxes(rangemode="tozero")
    values = {
        "racks": ds["racks"].values,
        "cooling_units": ds["cooling_units"].values,
        "halls": ds["halls"].values,
        "grid": ds["grid_mw"].values,
        "pv": ds["pv_mw"].values,
        "battery": ds["battery_mwh"].values,
        "gensets": ds["generator_units"].values,
        "ppa": ds["ppa_mw"].values if coord_names(ds, "ppa") else np.zeros(1),
    }
    for key, value in values.items():
        if not np.any(np.asarray(value) > 1e-6):
            note_empty(fig, *FACILITY_PANELS[key], "none")
    used = {t.legend or "legend" for t in fig.data}
    fig.update_layout({name: row_legend(fig, row) for row, name in FACILITY_LEGENDS.items() if name in used})
    title = "Facility and power in service by year (+N: built that year)"
    return layout(fig, title, height=560, legend=row_legend(fig, 1))
