"""Figures of what a plan costs: annual cost by group, the NPV breakdown, and the shadow prices of the policy limits.

Pure functions ``Dataset -> plotly Figure``, plus the cost grouping the comparison figures share.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import xarray as xr

from planner.report.data import coord_names, plan_years
from planner.report.format import as_float, fmt_money, label, money_scale, numbers
from planner.report.labels import component_label
from planner.report.style import (
    COST_GROUPS,
    OTHER_GROUP,
    component_colours,
    cost_group,
    empty_figure,
    figure,
    layout,
    subplots,
    year_axis,
)
from planner.report.tables import LIMITS

__all__ = ["active_components", "cost_figure", "discounted", "grouped_cost", "npv_figure", "shadow_price_figure"]


def discounted(ds: xr.Dataset) -> xr.DataArray:
    """Cost per component and year, discounted to the first year [CNY]."""
    return ds["cost"] * ds["discount_factor"]


def active_components(*datasets: xr.Dataset) -> list[str]:
    """Cost components that are non-zero in some year of any of the plans, in the Datasets' order."""
    names: list[str] = []
    for ds in datasets:
        for c in coord_names(ds, "component"):
            if c not in names and np.any(np.abs(ds["cost"].sel(component=c).values) > 1e-6):
                names.append(c)
    return names


def grouped_cost(ds: xr.Dataset) -> dict[str, tuple[str, dict[str, np.ndarray]]]:
    """Annual cost by group: ``{group: (colour, {component: cost per year [CNY]})}``, stack order, non-zero only."""
    out: dict[str, tuple[str, dict[str, np.ndarray]]] = {}
    order = [g for g, _, _ in COST_GROUPS] + [OTHER_GROUP[0]]
    for comp in active_components(ds):
        group, colour = cost_group(comp)
        out.setdefault(group, (colour, {}))[1][comp] = ds["cost"].sel(component=comp).values.astype(float)
    return {g: out[g] for g in order if g in out}


def _group_hover(members: dict[str, np.ndarray], i: int, scale: float, unit: str) -> str:
    parts = sorted(members.items(), key=lambda kv: -abs(kv[1][i]))
    return "<br>".join(f"  {component_label(c)}: {v[i] / scale:,.3f} {unit}" for c, v in parts if abs(v[i]) > 1e-9)


def cost_figure(ds: xr.Dataset) -> go.Figure:
    """Annual cost (undiscounted) stacked by cost group, the total above each bar; hover lists the components."""
    years = plan_years(ds)
    total = ds["cost"].sum("component").values
    scale, unit = money_scale(total)
    fig = figure()
    for group, (colour, members) in grouped_cost(ds).items():
        values = np.sum(list(members.values()), axis=0)
        fig.add_trace(
            go.Bar(
                x=years,
                y=numbers(values / scale, 5),
                name=group,
                marker_color=colour,
                customdata=[_group_hover(members, i, scale, unit) for i in range(len(years))],
                hovertemplate=f"<b>{group}</b> %{{x}}: %{{y:,.3f}} {unit}<br>%{{customdata}}<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=years,
            y=numbers(total / scale, 5),
            mode="text",
            text=[f"{v / scale:,.2f}" for v in total],
            textposition="top center",
            showlegend=False,
            hoverinfo="skip",
        )
    )
    fig.update_layout(barmode="relative")
    year_axis(fig, years)
    fig.update_yaxes(title_text=f"annual cost [{unit}/year]")
    return layout(fig, "Annual cost by group (undiscounted; hover for the components)", height=420)


def npv_figure(ds: xr.Dataset) -> go.Figure:
    """The NPV as a waterfall of discounted components (largest first), ending in the total.

    Bars float from the running sum, coloured like the components in :func:`cost_figure`.
    """
    disc = discounted(ds).sum("year")
    comps = sorted(active_components(ds), key=lambda c: -abs(as_float(disc.sel(component=c).values)))
    colours = component_colours(active_components(ds))
    npv = as_float(ds["npv_cny"].values)
    scale, unit = money_scale([npv, *[as_float(disc.sel(component=c).values) for c in comps]])
    values = [as_float(disc.sel(component=c).values) / scale for c in comps]
    bases = np.r_[0.0, np.cumsum(values)[:-1]] if values else np.zeros(0)
    labels = [component_label(c) for c in comps]
    shares = [v * scale / npv if npv else float("nan") for v in values]
    fig = figure()
    fig.add_trace(
        go.Bar(
            orientation="h",
            y=[*labels, "NPV"],
            x=[*values, npv / scale],
            base=[*bases.tolist(), 0.0],
            marker_color=[colours[c] for c in comps] + ["#1f2328"],
            text=[
                f"{v:,.3g} ({sh:.0%})" if abs(sh) >= 0.005 else f"{v:,.3g} (<1%)"
                for v, sh in zip(values, shares, strict=True)
            ]
            + [f"{npv / scale:,.3f}"],
            textposition="outside",
            cliponaxis=False,
            hovertemplate=f"%{{y}}: %{{x:,.4f}} {unit}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text=f"discounted cost over the horizon [{unit}]", range=[0, npv / scale * 1.12])
    return layout(
        fig,
        f"NPV breakdown: {fmt_money(npv)} of discounted costs",
        height=max(300, 100 + 26 * (len(labels) + 1)),
        showlegend=False,
        margin={"l": 190, "t": 50},
    )


# ====================================================================== shadow prices


def _priced_limits(ds: xr.Dataset) -> list[tuple[str, str, np.ndarray, list[str]]]:
    """(label, step, price per year, pricing method per year) of each limit priced in some year."""
    priced: list[tuple[str, str, np.ndarray, list[str]]] = []
    if "shadow_price" in ds and "limit" in ds.coords:
        for lim in (str(v) for v in ds["limit"].values):
            values = ds["shadow_price"].sel(limit=lim).values.astype(float)
            if not np.isfinite(values).any():
                continue
            methods = [str(m) for m in ds["shadow_price_method"].sel(limit=lim).values]
            step = next((m.split(";")[-1].strip() for m in methods if ";" in m), "per step")
            name = next((x.label for x in LIMITS if lim in (x.key, x.variable)), label(lim))
            priced.append((name, step, values, methods))
    return priced


def shadow_price_figure(ds: xr.Dataset) -> go.Figure:
    """Marginal cost of one tightening step of each policy limit with a price, by year: one panel per limit.

    Limits whose price is 0 (or missing) in every year get no panel; with none left the figure is
    one line of text. Each panel has its own money unit (the limits' prices differ by orders of
    magnitude), named with the step on its y-axis; the hover text says how each price was obtained.
    """
    title = "Marginal cost of the policy limits (shadow prices)"
    years = plan_years(ds)
    priced = _priced_limits(ds)
    if not priced:
        return empty_figure(title, "no limit was priced (no limits set, or the run used --no-shadow-prices)")
    priced = [p for p in priced if np.any(np.abs(np.nan_to_num(p[2])) > 1e-9)]
    if not priced:
        return empty_figure(title, "no limit has a marginal cost: none binds at the margin in any year")
    fig = subplots(
        rows=1,
        cols=len(priced),
        subplot_titles=[f"<b>{name}</b>" for name, _, _, _ in priced],
        horizontal_spacing=0.09,
    )
    for col, (name, step, values, methods) in enumerate(priced, start=1):
        scale, unit = money_scale(values[np.isfinite(values)])
        binding = np.abs(np.nan_to_num(values)) > 1e-9
        fig.add_trace(
            go.Bar(
                x=years,
                y=numbers(values / scale, 6),
                name=name,
                showlegend=False,
                marker_color=["#bc4c00" if b else "#d0d7de" for b in binding],
                text=[fmt_money(v) if b else "0" for v, b in zip(values, binding, strict=True)],
                textposition="outside",
                constraintext="none",
                textfont={"size": 11},
                cliponaxis=False,
                customdata=methods,
                hovertemplate=f"%{{x}}: %{{y:,.4g}} {unit}<br>%{{customdata}}<extra>{name}</extra>",
            ),
            row=1,
            col=col,
        )
        finite_values = values[np.isfinite(values)] / scale
        top, bottom = float(finite_values.max()), float(finite_values.min())
        fig.update_yaxes(
            range=[min(0.0, bottom * 1.25), max(0.0, top * 1.25)],
            title_text=f"{unit} (NPV) {step}",
            title_font_size=11,
            row=1,
            col=col,
        )
    year_axis(fig, years)
    fig.update_annotations(font_size=12)
    return layout(fig, f"{title}; grey: 0 at the margin", height=360, margin={"t": 70})
