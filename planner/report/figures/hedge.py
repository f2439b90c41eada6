"""Figures of a hedge study (``plan hedge``): pure functions of its combined Dataset."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import xarray as xr

from planner.report.format import money_scale
from planner.report.labels import accelerator_label
from planner.report.style import figure, layout, subplots

__all__ = ["cost_figure", "plan_label", "recourse_figure", "regret_figure"]


def plan_label(plan: str) -> str:
    """A plan of the study in words: ``hedged``, ``perfect-high`` -> ``high's own plan``, ``mean-value plan``."""
    if plan == "hedged":
        return "hedged plan"
    if plan == "mean_value":
        return "mean-value plan"
    if plan.startswith("perfect-"):
        return f"{plan.removeprefix('perfect-')}'s own plan"
    return plan


def regret_figure(ds: xr.Dataset) -> go.Figure:
    """Regret of each plan (rows) in each future (columns) as a heatmap [M CNY]; a plan a future cannot
    carry out is a grey cell marked ``cannot be carried out``.
    """
    regret = ds["regret_cny"].values.astype(float)
    plans = [plan_label(str(p)) for p in ds["plan"].values]
    futures = [f"{f} (p={p:.2f})" for f, p in zip(ds["future"].values, ds["probability"].values, strict=True)]
    finite = np.where(np.isfinite(regret), regret, np.nan)
    scale, unit = money_scale(finite[np.isfinite(finite)] if np.isfinite(finite).any() else [0.0])
    text = [
        [
            "cannot be carried out"
            if math.isinf(v)
            else ("no result" if math.isnan(v) else f"{v / scale:,.1f}".replace("-0.0", "0.0"))
            for v in row
        ]
        for row in regret
    ]
    fig = figure()
    fig.add_trace(
        go.Heatmap(
            z=[[None if not math.isfinite(v) else v / scale for v in row] for row in regret.tolist()],
            x=futures,
            y=plans,
            text=text,
            texttemplate="%{text}",
            colorscale="OrRd",
            zmin=0,
            colorbar={"title": {"text": unit}},
            hovertemplate="%{y} in %{x}: regret %{text} " + unit + "<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    return layout(
        fig,
        f"Regret of each plan in each future [{unit}]",
        height=120 + 48 * len(plans),
        subtitle="cost in the future minus that future's own optimum; 0 on the diagonal",
        margin={"l": 170},
    )


def cost_figure(ds: xr.Dataset) -> go.Figure:
    """Each plan's NPV in each future (dots, sized by probability), its expected NPV (bar) and its CVaR (diamond)."""
    cost = ds["cost_cny"].values.astype(float)
    finite = cost[np.isfinite(cost)]
    scale, unit = money_scale(finite if finite.size else [0.0])
    plans = [plan_label(str(p)) for p in ds["plan"].values]
    fig = figure()
    expected = ds["expected_cost_cny"].values.astype(float) / scale
    fig.add_trace(
        go.Bar(
            x=plans,
            y=np.where(np.isfinite(expected), expected, np.nan),
            name="expected NPV",
            marker_color="#c6dbef",
            hovertemplate="%{x}: expected %{y:,.1f} " + unit + "<extra></extra>",
        )
    )
    p = ds["probability"].values.astype(float)
    for j, future in enumerate(ds["future"].values):
        y = cost[:, j] / scale
        fig.add_trace(
            go.Scatter(
                x=plans,
                y=np.where(np.isfinite(y), y, np.nan),
                mode="markers",
                name=f"in {future}",
                marker={"size": 6 + 20 * math.sqrt(float(p[j])), "line": {"width": 1, "color": "#fff"}},
                hovertemplate="%{x} in " + str(future) + ": %{y:,.1f} " + unit + "<extra></extra>",
            )
        )
    alpha = float(ds["cvar_cny"].attrs.get("alpha", 0.9))
    cv = ds["cvar_cny"].values.astype(float) / scale
    fig.add_trace(
        go.Scatter(
            x=plans,
            y=np.where(np.isfinite(cv), cv, np.nan),
            mode="markers",
            name=f"CVaR {alpha:g} (worst {1 - alpha:.0%})",
            marker={"symbol": "diamond-open", "size": 18, "line": {"width": 2.5}, "color": "#cf222e"},
            hovertemplate="%{x}: CVaR %{y:,.1f} " + unit + "<extra></extra>",
        )
    )
    top = np.nanmax(np.where(np.isfinite(cost), cost, np.nan)) / scale if finite.size else 1.0
    low = np.nanmin(np.where(np.isfinite(cost), cost, np.nan)) / scale if finite.size else 0.0
    fig.update_yaxes(
        title_text=f"NPV [{unit}]", range=[low - 0.15 * (top - low + 1e-9), top + 0.08 * (top - low + 1e-9)]
    )
    return layout(
        fig,
        f"NPV of each plan over the futures [{unit}]",
        height=460,
        subtitle="bar: expected; diamond: CVaR; dots: each future (size: probability); missing: cannot be carried out",
    )


def recourse_figure(ds: xr.Dataset) -> go.Figure:
    """New servers by type and year in each future under the hedged plan: the shared years, then each
    future's recourse.
    """
    futures = [str(f) for f in ds["future"].values]
    commit = int(ds.attrs.get("commit_until", 0))
    # The cluster's new servers: summed over cooling technologies and sites.
    new = ds["servers_new"].sum([d for d in ("cooling", "site") if d in ds["servers_new"].dims])
    cols = min(len(futures), 3)
    rows = math.ceil(len(futures) / cols)
    fig = subplots(rows=rows, cols=cols, subplot_titles=futures, shared_yaxes=True, vertical_spacing=0.16)
    palette = ["#0969da", "#bc4c00", "#1a7f37", "#8250df", "#cf222e", "#9a6700", "#57606a", "#1b7c83"]
    years = [int(y) for y in ds["year"].values]
    for a_i, a in enumerate(ds["accelerator"].values):
        values = new.sel(accelerator=a).values.astype(float)
        if not np.nansum(np.abs(values)) > 0:
            continue
        for f_i, _ in enumerate(futures):
            fig.add_trace(
                go.Bar(
                    x=years,
                    y=values[f_i],
                    name=accelerator_label(ds, str(a)),
                    legendgroup=str(a),
                    showlegend=f_i == 0,
                    marker_color=palette[a_i % len(palette)],
                    hovertemplate=accelerator_label(ds, str(a)) + " %{x}: %{y:,.0f}<extra></extra>",
                ),
                row=f_i // cols + 1,
                col=f_i % cols + 1,
            )
    fig.update_layout(barmode="stack")
    for f_i in range(len(futures)):
        fig.add_vrect(
            x0=years[0] - 0.5,
            x1=commit + 0.5,
            fillcolor="#0d2a4a",
            opacity=0.06,
            line_width=0,
            row=f_i // cols + 1,
            col=f_i % cols + 1,
        )
    fig.update_xaxes(dtick=1)
    return layout(
        fig,
        "New servers per year in each future [servers]",
        height=180 + 260 * rows,
        subtitle=f"shaded: decided now (to {commit}), the same in every future; after it, each future's recourse",
    )
