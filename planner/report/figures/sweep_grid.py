"""Figures of a sweep's grid: heatmaps of the metrics, the marginal NPV of each step, and the chip mix.

Pure functions of the combined sweep Dataset returning a ``plotly.graph_objects.Figure`` (an
explanatory empty figure when the sweep has no grid).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
import xarray as xr

from planner.report.figures.sweep import (
    FAILED_SCALE,
    MAX_HEATMAP_VIEWS,
    HeatmapView,
    Shown,
    cells,
    heatmap_views,
    no_plan,
    shown,
    view_buttons,
    view_grid,
)
from planner.report.format import coord_text, decimals, money_scale, numbers, plain
from planner.report.labels import accelerator_label, parameter_label
from planner.report.style import (
    BAD_COLOUR,
    LIMIT_COLOUR,
    colourscale,
    empty_figure,
    figure,
    layout,
    menu,
    menu_label,
    origin_colours,
    palette,
)
from planner.report.sweep_tables import (
    MarginalTable,
    Metric,
    case_view,
    final_year,
    grid_dims,
    grid_metrics,
    marginal_tables,
)

__all__ = ["chip_mix_figure", "chip_views", "heatmap_figure", "marginal_figure"]


# ====================================================================== heatmaps


def _metric_arrays(
    metric: Metric, disp: Shown, view: HeatmapView, dims: list[str], grid: dict[str, np.ndarray]
) -> dict[str, Any]:
    """z, cell text and hover data of one metric in one view (NaN and no text where a case has no plan)."""
    status = view_grid(grid["status"], dims, view)
    values = view_grid(disp.values, dims, view)
    texts = view_grid(disp.texts, dims, view)
    ids = view_grid(grid["id"], dims, view)
    bad = no_plan(status, values)
    unit = f" {disp.unit}" if disp.unit else ""
    text = [
        ["" if bad[r, c] else texts[r, c] + ("*" if status[r, c] == "time_limit" else "") for c in range(bad.shape[1])]
        for r in range(bad.shape[0])
    ]
    custom = [
        [[plain(metric.label), f"{texts[r, c]}{unit}", status[r, c], ids[r, c]] for c in range(bad.shape[1])]
        for r in range(bad.shape[0])
    ]
    z = np.where(bad, np.nan, values)
    return {"z": [numbers(row, 6) for row in z], "text": text, "customdata": custom}


def _failed_cells(
    view: HeatmapView,
    visible: bool,
    axes: tuple[list[str], list[str]],
    dims: list[str],
    grid: dict[str, np.ndarray],
    disp: Shown,
) -> go.Heatmap:
    """The cells of cases without a plan: grey, with their status (the same for every metric)."""
    status = view_grid(grid["status"], dims, view)
    bad = no_plan(status, view_grid(disp.values, dims, view))
    gists = view_grid(grid["gist"], dims, view)
    ids = view_grid(grid["id"], dims, view)
    return go.Heatmap(
        x=axes[0],
        y=axes[1],
        z=[[1.0 if bad[r, c] else None for c in range(bad.shape[1])] for r in range(bad.shape[0])],
        text=[[status[r, c] if bad[r, c] else "" for c in range(bad.shape[1])] for r in range(bad.shape[0])],
        customdata=[[[ids[r, c], gists[r, c]] for c in range(bad.shape[1])] for r in range(bad.shape[0])],
        texttemplate="%{text}",
        textfont={"size": 12, "color": "#57606a"},
        colorscale=FAILED_SCALE,
        showscale=False,
        hoverongaps=False,
        hovertemplate=(
            (f"{_name(view.y)} = %{{y}}<br>" if view.y else "")
            + f"{_name(view.x)} = %{{x}}<br><b>%{{text}}</b>: no plan<br>%{{customdata[1]}}"
            + "<br>case %{customdata[0]}<extra></extra>"
        ),
        xgap=2,
        ygap=2,
        visible=visible,
        name="no plan",
    )


def _metric_buttons(
    shown_metrics: list[tuple[Metric, Shown]],
    views: list[HeatmapView],
    dims: list[str],
    grid: dict[str, np.ndarray],
    main_traces: list[int],
) -> list[dict[str, Any]]:
    """The metric drop-down: each entry restyles the main heatmap of every view."""
    buttons = []
    for metric, disp in shown_metrics:
        per_view = [_metric_arrays(metric, disp, view, dims, grid) for view in views]
        buttons.append(
            {
                "label": plain(metric.label),
                "method": "update",
                "args": [
                    {
                        "z": [a["z"] for a in per_view],
                        "text": [a["text"] for a in per_view],
                        "customdata": [a["customdata"] for a in per_view],
                        "colorscale": [colourscale(metric.colourscale)] * len(views),
                        "colorbar.title.text": [disp.unit or plain(metric.label)] * len(views),
                        "name": [plain(metric.label)] * len(views),
                    },
                    {"title.text": _heatmap_title(metric)},
                    main_traces,
                ],
            }
        )
    return buttons


def heatmap_figure(ds: xr.Dataset) -> go.Figure:
    """NPV, final-year PUE, green and domestic share, installed EFLOPS and builds over two swept dims.

    A drop-down picks the metric; with more than two swept dims a second one picks the pair of
    dims (the others held at a value named in the entry). Cells are annotated with their value;
    cells of cases without a plan are grey, their status on the cell and on hover. A ``*`` marks
    a time-limited plan (within its MIP gap of the optimum).
    """
    dims = grid_dims(ds)
    if not dims:
        return empty_figure("Heatmaps over the swept dims", "this sweep has no grid (only a one-at-a-time block)")
    views = heatmap_views(ds)
    grid = cells(ds, dims)
    labels = {d: [plain(coord_text(v)) for v in ds[d].values] for d in dims}
    fig = figure()
    main_traces: list[int] = []
    shown_metrics = [(m, shown(m)) for m in grid_metrics(ds)]
    first_metric, first_shown = shown_metrics[0]
    for k, view in enumerate(views):
        axes = labels[view.x], labels[view.y] if view.y is not None else [""]
        hover = (
            (f"{_name(view.y)} = %{{y}}<br>" if view.y else "")
            + f"{_name(view.x)} = %{{x}}<br>%{{customdata[0]}}: <b>%{{customdata[1]}}</b>"
            + "<br>status: %{customdata[2]} · case %{customdata[3]}<extra></extra>"
        )
        main_traces.append(len(fig.data))
        fig.add_trace(
            go.Heatmap(
                x=axes[0],
                y=axes[1],
                colorscale=colourscale(first_metric.colourscale),
                colorbar={"title": {"text": first_shown.unit or first_metric.label, "side": "right"}, "thickness": 14},
                texttemplate="%{text}",
                textfont={"size": 12},
                hovertemplate=hover,
                hoverongaps=False,
                xgap=2,
                ygap=2,
                visible=k == 0,
                name=first_metric.label,
                **_metric_arrays(first_metric, first_shown, view, dims, grid),
            )
        )
        fig.add_trace(_failed_cells(view, k == 0, axes, dims, grid, first_shown))
    n_traces = len(fig.data)
    metric_buttons = _metric_buttons(shown_metrics, views, dims, grid, main_traces)
    # the menus side by side above the plot (paper y is a fraction of the plot area's height)
    height = _heatmap_height(ds, views)
    top = 110 if len(views) > 1 else 90
    y = 1.0 + 34 / (height - top - 40)
    menus = [menu(metric_buttons, 0.07, y)]
    annotations = [menu_label("metric", 0.065, y)]
    first = views[0]
    if len(views) > 1:
        buttons = view_buttons(
            [plain(view.label(ds)) for view in views],
            [(2 * k, 2 * k + 2) for k in range(len(views))],
            n_traces,
            [{"xaxis.title.text": _name(view.x), "yaxis.title.text": _name(view.y)} for view in views],
        )
        menus.append(menu(buttons, 0.33, y))
        annotations.append(menu_label("dims", 0.325, y))
    fig.update_layout(updatemenus=menus, annotations=annotations)
    fig.update_xaxes(type="category", title_text=_name(first.x), showgrid=False)
    fig.update_yaxes(type="category", title_text=_name(first.y), showgrid=False, showticklabels=first.y is not None)
    return layout(fig, _heatmap_title(first_metric), height=height, margin={"t": top, "l": 90, "r": 30})


def _heatmap_title(metric: Metric) -> str:
    return f"{plain(metric.label)} over the swept dims"


def _heatmap_height(ds: xr.Dataset, views: Sequence[HeatmapView]) -> int:
    rows = max((ds.sizes[v.y] if v.y else 1) for v in views)
    top = 110 if len(views) > 1 else 90
    return int(min(900, max(300, top + 70 + 46 * rows)))


# ====================================================================== marginal cost of each step


def _marginal_bars(fig: go.Figure, table: MarginalTable, scale: float, unit: str, visible: bool) -> None:
    """A bar per combination of the other swept dims, over the steps of one dim."""
    for (context, deltas), colour in zip(table.rows, palette(len(table.rows)), strict=True):
        arr = np.asarray(deltas, dtype=float) / scale
        digits = decimals(arr)
        fig.add_trace(
            go.Bar(
                x=[plain(s) for s in table.steps],
                y=numbers(arr, 6),
                name=plain(context),
                marker_color=colour,
                text=[f"{v:+,.{digits}f}" if np.isfinite(v) else "no plan" for v in arr],
                textposition="outside",
                cliponaxis=False,
                textfont={"size": 11},
                hovertemplate=(
                    f"{_name(table.dim)}: %{{x}}<br>{plain(context)}<br>ΔNPV <b>%{{y:+,.4g}} {unit}</b><extra></extra>"
                ),
                visible=visible,
                showlegend=len(table.rows) > 1,
            )
        )


def marginal_figure(ds: xr.Dataset) -> go.Figure:
    """What each step of a swept parameter costs: ΔNPV between neighbouring grid values, as bars.

    One group of bars per step (``1.15 → 1.2``), one bar per combination of the other swept
    values; positive bars: the step adds cost. A drop-down picks the swept dim when there are two
    or more.
    """
    title = "Marginal NPV per step of each swept parameter"
    tables = marginal_tables(ds)
    if not tables:
        return empty_figure(title, "no swept dim has two values (nothing to difference)")
    everything = np.array([v for t in tables for _, row in t.rows for v in row], dtype=float)
    if not np.isfinite(everything).any():
        return empty_figure(title, "no two neighbouring grid points both have a plan")
    scale, unit = money_scale(everything[np.isfinite(everything)])
    fig = figure()
    spans: list[tuple[int, int]] = []
    for k, table in enumerate(tables):
        start = len(fig.data)
        _marginal_bars(fig, table, scale, unit, k == 0)
        spans.append((start, len(fig.data)))
    fig.add_hline(y=0, line_color=LIMIT_COLOUR, line_width=1)
    if len(tables) > 1:
        buttons = view_buttons(
            [_name(t.dim) for t in tables],
            spans,
            len(fig.data),
            [{"xaxis.title.text": _marginal_axis(t)} for t in tables],
        )
        fig.update_layout(updatemenus=[menu(buttons, 0.12, 1.13)], annotations=[menu_label("swept dim", 0.115, 1.13)])
    fig.update_xaxes(type="category", title_text=_marginal_axis(tables[0]))
    fig.update_yaxes(title_text=f"ΔNPV per step [{unit}]")
    return layout(
        fig,
        f"{title} (NPV at the next value − NPV at this one)",
        height=430,
        margin={"t": 100 if len(tables) > 1 else 60},
        barmode="group",
    )


def _marginal_axis(table: MarginalTable) -> str:
    step = f" (steps of {table.uniform_step})" if table.uniform_step else ""
    return plain(f"{parameter_label(table.dim)}{step}")


# ====================================================================== chip mix


def chip_views(ds: xr.Dataset) -> list[HeatmapView]:
    """The views of the chip-mix chart: a swept dim along x (``x``), grouped by another (``y``), the rest held.

    Both orientations of every pair; the first view puts a domestic-share dim along x when there is one.
    """
    dims = grid_dims(ds)
    if len(dims) == 1:
        return [HeatmapView(dims[0], None, ())]
    views: list[HeatmapView] = []
    for v in heatmap_views(ds, MAX_HEATMAP_VIEWS // 2):
        assert v.y is not None
        views += [v, HeatmapView(v.y, v.x, v.fixed)]
    first = next((v for v in views if "domestic" in v.x), views[0])
    return [first, *(v for v in views if v is not first)]


@dataclass(frozen=True)
class _ChipMix:
    """What the chip-mix chart draws, over the swept dims."""

    dims: list[str]
    accs: list[str]
    names: dict[str, str]  #: each server type by vendor and chip (escaped)
    values: np.ndarray  #: new servers over all years, (*dims, accelerator)
    flags: dict[str, bool | None]  #: whether each type is domestic (None: unknown)
    share: np.ndarray | None  #: domestic share of installed PFLOPS in the final year [%], over dims
    status: np.ndarray  #: over dims
    labels: dict[str, list[str]]  #: value labels of each swept dim (escaped)
    peak: float  #: the tallest stack
    year: int | None


def _chip_mix(ds: xr.Dataset, dims: list[str]) -> _ChipMix:
    view_ds = case_view(ds, "grid")
    new = view_ds["servers_new"].sum(("cooling", "year"), min_count=1).transpose(*dims, "accelerator")
    accs = [str(a) for a in view_ds["accelerator"].values]
    values = np.asarray(new.values, dtype=float)
    domestic = (
        np.asarray(view_ds["accelerator_domestic"].transpose(*dims, "accelerator").values, dtype=float)
        if "accelerator_domestic" in view_ds
        else None
    )
    flags = {
        a: (bool(np.nanmax(domestic[..., i])) if domestic is not None and np.isfinite(domestic[..., i]).any() else None)
        for i, a in enumerate(accs)
    }
    share = (
        np.asarray(view_ds["domestic_share"].isel(year=-1).transpose(*dims).values, dtype=float) * 100
        if "domestic_share" in view_ds
        else None
    )
    totals = np.nansum(values, axis=-1)
    return _ChipMix(
        dims,
        accs,
        {a: plain(accelerator_label(ds, a)) for a in accs},
        values,
        flags,
        share,
        np.asarray(view_ds["status"].transpose(*dims).values).astype(str),
        {d: [plain(coord_text(v)) for v in ds[d].values] for d in dims},
        float(totals.max()) if totals.size and totals.max() > 0 else 1.0,
        final_year(ds),
    )


def _chip_traces(fig: go.Figure, mix: _ChipMix, view: HeatmapView, visible: bool) -> None:
    """The stacked bars, the domestic share and the markers of grid points without a plan, of one view."""
    dims, labels = mix.dims, mix.labels
    colours = origin_colours(mix.flags)
    rows = view_grid(mix.status, dims, view)
    n_groups, n_x = rows.shape
    xs: Any = [labels[view.x][c] for _ in range(n_groups) for c in range(n_x)]
    if view.y is not None:
        outer = [f"{_name(view.y)}<br>= {labels[view.y][r]}" for r in range(n_groups) for _ in range(n_x)]
        xs = [outer, xs]
    for i, a in enumerate(mix.accs):
        ys = view_grid(mix.values[..., i], dims, view).ravel()
        tag = {True: " (domestic)", False: " (imported)", None: ""}[mix.flags[a]]
        fig.add_trace(
            go.Bar(
                x=xs,
                y=numbers(ys, 3),
                name=mix.names[a] + tag,
                legendgroup=a,
                marker_color=colours[a],
                # a count on every bar tall enough to hold one
                text=[f"{v:,.0f}" if np.isfinite(v) and v > 0.5 and v >= 0.06 * mix.peak else "" for v in ys],
                textposition="inside",
                insidetextanchor="middle",
                textangle=0,
                hovertemplate=f"{mix.names[a]}: <b>%{{y:,.0f}}</b> new servers<br>%{{x}}<extra></extra>",
                visible=visible,
            )
        )
    if mix.share is not None:
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=numbers(view_grid(mix.share, dims, view).ravel(), 3),
                name=f"domestic share {mix.year} (right axis)",
                legendgroup="share",
                mode="markers",
                marker={"size": 9, "color": "#24292f", "symbol": "diamond", "line": {"color": "white", "width": 1}},
                yaxis="y2",
                hovertemplate="domestic share of installed PFLOPS: <b>%{y:.1f} %</b><br>%{x}<extra></extra>",
                visible=visible,
            )
        )
    bad = [j for j, st in enumerate(rows.ravel()) if st not in ("optimal", "time_limit")]
    fig.add_trace(
        go.Scatter(
            x=[[part[j] for j in bad] for part in xs] if view.y is not None else [xs[j] for j in bad],
            y=[0.0] * len(bad),
            text=[str(rows.ravel()[j]) for j in bad],
            mode="markers+text",
            textposition="top center",
            marker={"symbol": "x", "size": 11, "color": BAD_COLOUR},
            textfont={"color": BAD_COLOUR, "size": 11},
            name="no plan",
            legendgroup="no plan",
            showlegend=bool(bad),
            hovertemplate="<b>%{text}</b>: no plan<br>%{x}<extra></extra>",
            visible=visible,
        )
    )


def chip_mix_figure(ds: xr.Dataset) -> go.Figure:
    """New servers by type at every grid point (bought over the whole horizon), stacked, with the domestic share.

    The bars show at which swept value the plan switches chips; the line (right axis) is the
    domestic share of installed PFLOPS in the final year. One swept dim runs along the x axis within
    groups of another's values; a drop-down picks the pair (and holds the other dims, with three or
    more). Grid points without a plan are marked with their status.
    """
    dims = grid_dims(ds)
    if not dims:
        return empty_figure("Chip mix: new servers by type", "this sweep has no grid")
    if "servers_new" not in case_view(ds, "grid"):
        return empty_figure("Chip mix: new servers by type", "no grid point has a plan")
    mix = _chip_mix(ds, dims)
    views = chip_views(ds)
    fig = figure()
    spans: list[tuple[int, int]] = []
    for k, view in enumerate(views):
        start = len(fig.data)
        _chip_traces(fig, mix, view, k == 0)
        spans.append((start, len(fig.data)))
    if len(views) > 1:
        buttons = view_buttons(
            [plain(_chip_label(ds, view)) for view in views],
            spans,
            len(fig.data),
            [{"xaxis.title.text": _chip_axis(view)} for view in views],
        )
        fig.update_layout(updatemenus=[menu(buttons, 0.07, 1.13)], annotations=[menu_label("view", 0.065, 1.13)])
    fig.update_layout(
        barmode="stack",
        yaxis={"range": [0, mix.peak * 1.15], "title": {"text": "new servers, all years"}},
        # 0 and 100 % level with 0 and the tallest bar
        yaxis2={
            "overlaying": "y",
            "side": "right",
            "range": [0, 115],
            "tickvals": [0, 25, 50, 75, 100],
            "ticktext": ["0 %", "25 %", "50 %", "75 %", "100 %"],
            "showgrid": False,
            "zeroline": False,
            "title": {"text": "domestic share"},
        },
    )
    fig.update_xaxes(title_text=_chip_axis(views[0]), type="category" if views[0].y is None else "multicategory")
    return layout(
        fig,
        "Chip mix: new servers by type at each grid point (where the plan switches chips)",
        height=500,
        margin={"t": 100 if len(views) > 1 else 60, "r": 70},
        legend={"y": -0.25},
    )


def _chip_label(ds: xr.Dataset, view: HeatmapView) -> str:
    x = parameter_label(view.x)
    return (x if view.y is None else f"{x} within {parameter_label(view.y)}") + view.held(ds)


def _name(dim: str | None) -> str:
    """A swept dim by its readable name and unit (:func:`planner.report.labels.parameter_label`), escaped."""
    return plain(parameter_label(dim)) if dim else ""


def _chip_axis(view: HeatmapView) -> str:
    return plain(parameter_label(view.x) + (f", within each value of {parameter_label(view.y)}" if view.y else ""))
