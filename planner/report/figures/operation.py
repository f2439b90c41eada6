"""Figures of how a plan's fleet is used: utilisation by year and type, and demand left unmet.

Pure functions ``Dataset -> plotly Figure``.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import xarray as xr

from planner.report.data import coord_names, plan_years, shortfall_shares
from planner.report.format import numbers, plain
from planner.report.labels import accelerator_label
from planner.report.style import (
    accelerator_colours,
    figure,
    has_data,
    layout,
    panel_legend,
    row_legend,
    subplots,
    year_axis,
)

__all__ = ["shortfall_figure", "utilisation_figure"]


def _busy_by_type(fig: go.Figure, ds: xr.Dataset, years: list[int]) -> None:
    """Busy share of installed server-hours, a line per server type (right panel)."""
    w = ds["day_weight"]
    colours = accelerator_colours(ds)
    installed_h = ds["servers"].sum("cooling") * w.sum() * 24
    busy_a = ((ds["training_servers"] + ds["inference_servers"]) * w).sum(("cooling", "day", "hour"))
    share = (busy_a / installed_h.where(installed_h > 0)).transpose("accelerator", "year")
    for a in coord_names(ds, "accelerator"):
        values = share.sel(accelerator=a).values
        if not has_data(values):
            continue
        fig.add_trace(
            go.Scatter(
                x=years,
                y=numbers(values * 100, 3),
                mode="lines+markers",
                name=plain(accelerator_label(ds, a)),
                legend="legend2",
                line={"color": colours[a]},
                hovertemplate=f"%{{x}}: %{{y:.1f}} %<extra>{plain(accelerator_label(ds, a))}</extra>",
            ),
            row=1,
            col=2,
        )


def utilisation_figure(ds: xr.Dataset) -> go.Figure:
    """Share of available server-hours busy training, serving inference and idle, by year; busy share by type."""
    years = plan_years(ds)
    w = ds["day_weight"]
    train = (ds["training_servers"] * w).sum(("accelerator", "cooling", "day", "hour"))
    infer = (ds["inference_servers"] * w).sum(("accelerator", "cooling", "day", "hour"))
    busy = train + infer
    util = ds["utilisation"].fillna(0)
    t_share = (util * train / busy.where(busy > 0)).fillna(0).values
    i_share = (util * infer / busy.where(busy > 0)).fillna(0).values
    idle = np.clip(1 - t_share - i_share, 0, 1) * (ds["servers"].sum(("accelerator", "cooling")).values > 0)
    fig = subplots(
        rows=1,
        cols=2,
        side_legend=True,
        subplot_titles=(
            "Fleet: share of available server-hours [%]",
            "Busy share of installed server-hours [%]",
        ),
        horizontal_spacing=0.1,
    )
    for name, values, colour in (
        ("training", t_share, "#8250df"),
        ("inference", i_share, "#0969da"),
        ("idle", idle, "#d0d7de"),
    ):
        if not has_data(values):
            continue
        fig.add_trace(
            go.Bar(
                x=years,
                y=numbers(values * 100, 3),
                name=name,
                marker_color=colour,
                hovertemplate=f"%{{x}}: %{{y:.1f}} %<extra>{name}</extra>",
            ),
            row=1,
            col=1,
        )
    _busy_by_type(fig, ds, years)
    fig.update_layout(barmode="stack")
    year_axis(fig, years)
    fig.update_yaxes(range=[0, 105], ticksuffix=" %")
    fig.update_layout(legend2=row_legend(fig, 1))
    return layout(fig, "Utilisation of the fleet", height=380, legend=panel_legend(fig, 1, 1, traceorder="normal"))


def shortfall_figure(ds: xr.Dataset) -> go.Figure:
    """Unmet share of inference tokens, training work and reserve, by year."""
    years = plan_years(ds)
    fig = figure()
    colours = {"inference tokens": "#cf222e", "training work": "#bc4c00", "inference reserve": "#fb8f44"}
    w = ds["day_weight"]
    absolute = {
        "inference tokens": (ds["inference_unserved"] * w).sum(("day", "hour")).values * 3600 / 1e12,
        "training work": ds["training_unserved_flop"].values / 1e24,
        "inference reserve": ds["reserve_unserved_tokens_per_s"].values / 1e6
        if "reserve_unserved_tokens_per_s" in ds
        else np.zeros(len(years)),
    }
    units = {"inference tokens": "T tokens", "training work": "1e24 FLOP", "inference reserve": "M tokens/s"}
    for name, share in shortfall_shares(ds).items():
        if not has_data(share):
            continue
        fig.add_trace(
            go.Bar(
                x=years,
                y=numbers(share * 100, 4),
                name=name,
                marker_color=colours[name],
                customdata=numbers(absolute[name], 4),
                hovertemplate=f"%{{x}}: %{{y:.2f}} % unmet (%{{customdata:,.4g}} {units[name]})<extra>{name}</extra>",
            )
        )
    fig.update_layout(barmode="group")
    year_axis(fig, years)
    fig.update_yaxes(title_text="unmet share of demand [%]", rangemode="tozero")
    return layout(fig, "Unmet demand by year (priced at the shortfall penalty)", height=360)
