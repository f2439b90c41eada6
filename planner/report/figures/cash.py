"""Figure of what a plan pays each year in cash: capital spent by asset class, the cash flow, the annual cost.

A pure function ``Dataset -> plotly Figure`` drawn beside the annualised cost chart
(:func:`planner.report.figures.cost.cost_figure`); the numbers come from :mod:`planner.report.cash`.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import xarray as xr

from planner.report.cash import asset_label, capital_spent, has_cash
from planner.report.data import plan_years
from planner.report.format import money_scale, numbers
from planner.report.style import ASSET_COLOURS, LIMIT_COLOUR, empty_figure, figure, layout, palette, year_axis

__all__ = ["cash_figure"]

TITLE = "Cash by year: capital spent when bought, and all cash out"


def cash_figure(ds: xr.Dataset) -> go.Figure:
    """Capital spent per year stacked by asset class; lines: the cash flow and, to compare, the annualised cost."""
    if not has_cash(ds):
        return empty_figure(TITLE, "not in this results file (written before the cash view): solve it again")
    years = plan_years(ds)
    spent = capital_spent(ds)
    cash = ds["cash_flow_cny"].values.astype(float)
    annual = ds["cost"].sum("component").values.astype(float)
    scale, unit = money_scale(np.r_[cash, annual, *spent.values()])
    fig = figure()
    spare = iter(palette(len(spent)))
    for asset, values in spent.items():
        name = asset_label(asset)
        fig.add_trace(
            go.Bar(
                x=years,
                y=numbers(values / scale, 5),
                name=name,
                marker_color=ASSET_COLOURS.get(asset) or next(spare),
                hovertemplate=f"<b>{name}</b> %{{x}}: %{{y:,.3f}} {unit}<extra>capital spent</extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=years,
            y=numbers(cash / scale, 5),
            name="cash flow",
            mode="lines+markers",
            line={"color": "#1f2328", "width": 2},
            hovertemplate=f"cash flow %{{x}}: %{{y:,.3f}} {unit}<extra>capital spent + operating cost</extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=years,
            y=numbers(annual / scale, 5),
            name="annual cost (annuities)",
            mode="lines+markers",
            line={"color": LIMIT_COLOUR, "width": 1.5, "dash": "dot"},
            hovertemplate=f"annual cost %{{x}}: %{{y:,.3f}} {unit}<extra>capital as annuities</extra>",
        )
    )
    fig.update_layout(barmode="stack")
    year_axis(fig, years)
    fig.update_yaxes(title_text=f"cash out [{unit}]")
    return layout(fig, TITLE, height=420)
