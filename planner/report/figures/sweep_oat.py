"""The figure of a sweep's one-at-a-time block: a tornado of the NPV at each parameter's low and high value.

A pure function of the combined sweep Dataset returning a ``plotly.graph_objects.Figure`` (an
explanatory empty figure when the sweep has no one-at-a-time block or its base case has no plan).
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import xarray as xr

from planner.report.figures.sweep import HIGH_COLOUR, LOW_COLOUR
from planner.report.format import decimals, fmt_money, money_scale, numbers, plain, value_label
from planner.report.labels import parameter_label
from planner.report.style import empty_figure, figure, layout
from planner.report.sweep_tables import TornadoRow, tornado_rows

__all__ = ["tornado_figure"]


def _side_bars(rows: list[TornadoRow], side: str, colour: str, scale: float, unit: str, digits: int) -> go.Bar:
    """The bars of one side (``low`` or ``high``) of every parameter, labelled with the value and its ΔNPV."""
    xs, texts, custom = [], [], []
    for r in rows:
        d = r.low_delta if side == "low" else r.high_delta
        value = r.low_value if side == "low" else r.high_value
        stat = r.low_status if side == "low" else r.high_status
        cid = r.low_id if side == "low" else r.high_id
        npv = r.low_npv if side == "low" else r.high_npv
        xs.append(d / scale if math.isfinite(d) else 0.0)
        texts.append(
            f"{plain(value_label(value))}: {d / scale:+,.{digits}f}"
            if math.isfinite(d)
            else f"{plain(value_label(value))}: {stat}"
        )
        custom.append([plain(value_label(value)), fmt_money(npv), stat, cid])
    return go.Bar(
        y=[plain(parameter_label(r.parameter)) for r in rows],
        x=numbers(xs, 6),
        orientation="h",
        name=f"{side} value",
        marker_color=colour,
        text=texts,
        textposition="outside",
        cliponaxis=False,
        textfont={"size": 11},
        customdata=custom,
        hovertemplate=(
            f"%{{y}} = %{{customdata[0]}} ({side})<br>ΔNPV <b>%{{x:+,.4g}} {unit}</b>"
            "<br>NPV %{customdata[1]} · %{customdata[2]} · case %{customdata[3]}<extra></extra>"
        ),
    )


def tornado_figure(ds: xr.Dataset) -> go.Figure:
    """Tornado of the one-at-a-time block: NPV at each parameter's low and high value minus the base.

    Parameters are sorted by swing (the largest at the top); each bar is labelled with the value
    it stands for and its ΔNPV; a side without a plan is named with its status.
    """
    base_npv, base_status, rows = tornado_rows(ds)
    title = "Tornado: NPV at each parameter's low and high value, minus the base case"
    if not rows:
        return empty_figure(title, "this sweep has no one-at-a-time block")
    if not math.isfinite(base_npv):
        return empty_figure(title, f"the base case has no plan ({plain(base_status)}): nothing to compare against")
    deltas = np.array([[r.low_delta, r.high_delta] for r in rows], dtype=float)
    scale, unit = money_scale(deltas[np.isfinite(deltas)] if np.isfinite(deltas).any() else [0.0])
    digits = decimals(deltas / scale)
    fig = figure()
    fig.add_trace(_side_bars(rows, "low", LOW_COLOUR, scale, unit, digits))
    fig.add_trace(_side_bars(rows, "high", HIGH_COLOUR, scale, unit, digits))
    span = float(np.nanmax(np.abs(deltas / scale))) if np.isfinite(deltas).any() else 1.0
    span = span if span > 0 else 1.0
    fig.add_vline(x=0, line_color="#24292f", line_width=1.5)
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(
        title_text=f"ΔNPV against the base case ({fmt_money(base_npv)}) [{unit}]",
        range=[-1.45 * span, 1.45 * span],
        zeroline=False,
    )
    return layout(
        fig,
        title,
        height=int(min(1000, 150 + 58 * len(rows))),
        barmode="group",
        bargap=0.28,
        bargroupgap=0.06,
        margin={"l": 60, "r": 30},
    )
