"""What the sweep figures share: colours, metrics in display units, grid cells and the views of the grid.

The figures themselves are in :mod:`planner.report.figures.sweep_grid` (heatmaps, marginal NPV,
chip mix) and :mod:`planner.report.figures.sweep_oat` (tornado). What a planner asks of a sweep,
and where it is answered:

* how the cost and the KPIs move over two swept parameters: ``heatmap_figure`` (a drop-down
  for the metric, and one for the pair of swept dims when there are more than two);
* what each step of a swept parameter costs: ``marginal_tables`` and ``marginal_figure``
  (differences of the NPV between neighbouring grid values);
* at which value the plan switches chips: ``chip_mix_figure`` (new servers by type at every
  grid point);
* which uncertain input matters most: ``tornado_rows`` and ``tornado_figure``.

Every figure returns a ``plotly.graph_objects.Figure`` (an explanatory empty figure when the sweep
has nothing to show, e.g. a tornado of a sweep without a one-at-a-time block). User text (swept
values that are strings, messages) is HTML-escaped before plotly sees it
(:func:`planner.report.format.plain`): plotly renders a little HTML in labels.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from planner.report.format import coord_text, decimals, gist, money_scale, plain
from planner.report.labels import parameter_label
from planner.report.sweep_tables import Metric, case_view, grid_dims

__all__ = [
    "FAILED_COLOUR",
    "FAILED_SCALE",
    "HIGH_COLOUR",
    "LOW_COLOUR",
    "MAX_HEATMAP_VIEWS",
    "HeatmapView",
    "Shown",
    "cells",
    "heatmap_views",
    "no_plan",
    "shown",
    "view_buttons",
    "view_grid",
]

FAILED_COLOUR = "#d0d7de"
"""Cells and markers of cases without a plan (infeasible, failed)."""
FAILED_SCALE = [[0.0, FAILED_COLOUR], [1.0, FAILED_COLOUR]]
LOW_COLOUR, HIGH_COLOUR = "#0969da", "#bc4c00"
MAX_HEATMAP_VIEWS = 60
"""Most entries of the heatmap's dims drop-down (pairs of swept dims x slices of the other dims)."""


@dataclass(frozen=True)
class Shown:
    """A metric's values scaled and formatted for display."""

    values: np.ndarray  #: scaled (NaN kept)
    texts: np.ndarray  #: formatted, "" for NaN
    unit: str  #: of the scaled values ("M CNY", "%", "EFLOPS", "servers", "")


def shown(metric: Metric) -> Shown:
    """The metric's values in display units, with text labels of a common precision."""
    raw = np.asarray(metric.values.values, dtype=float)
    if metric.kind == "money":
        scale, unit = money_scale(raw)
        values = raw / scale
        digits = decimals(values, significant=4)
    elif metric.kind == "share":
        values, unit, digits = raw * 100.0, "%", 1
    elif metric.kind == "ratio":
        values, unit, digits = raw, "", 3
    elif metric.kind == "eflops":
        values, unit = raw, "EFLOPS"
        digits = decimals(values)
    else:
        values, unit, digits = raw, metric.label.split(":")[0].split(" ")[-1], 0
    texts = np.array([f"{v:,.{digits}f}" if np.isfinite(v) else "" for v in values.ravel()], dtype=object)
    return Shown(values, texts.reshape(values.shape), unit)


def cells(ds: xr.Dataset, dims: Sequence[str]) -> dict[str, np.ndarray]:
    """Per grid point (arrays over ``dims``): status, case id and the first lines of the message (escaped)."""
    view = case_view(ds, "grid")
    status = np.asarray(view["status"].transpose(*dims).values).astype(str)
    ids = np.asarray(view["case_id"].transpose(*dims).values).astype(str)
    messages = np.asarray(view["message"].transpose(*dims).values).astype(str)
    gists = (
        np.vectorize(lambda m: plain(gist(m)).replace("\n", "<br>"), otypes=[object])(messages)
        if messages.size
        else messages
    )
    return {"status": status, "id": ids, "gist": gists}


def no_plan(status: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Where a case has no plan: no value, or a status other than optimal and time_limit."""
    return ~np.isfinite(values) | ~np.isin(status, ["optimal", "time_limit"])


# ====================================================================== views of the grid


@dataclass(frozen=True)
class HeatmapView:
    """One entry of the heatmap's dims drop-down: a pair of swept dims, the others fixed."""

    x: str
    y: str | None  #: None: a one-dim grid (one row)
    fixed: tuple[tuple[str, int], ...]  #: the other dims and the position each is held at

    def label(self, ds: xr.Dataset) -> str:
        """``y × x`` (and ``at c = 1`` when other dims are held)."""
        x, y = parameter_label(self.x), parameter_label(self.y) if self.y else ""
        return (x if self.y is None else f"{y} × {x}") + self.held(ds)

    def held(self, ds: xr.Dataset) -> str:
        """`` at c = 1, d = x`` naming the value each other dim is held at ("" when none is)."""
        if not self.fixed:
            return ""
        return " at " + ", ".join(f"{parameter_label(d)} = {coord_text(ds[d].values[i])}" for d, i in self.fixed)


def heatmap_views(ds: xr.Dataset, most: int = MAX_HEATMAP_VIEWS) -> list[HeatmapView]:
    """The views of the heatmap: every pair of swept dims, with each slice of the others (up to ``most``)."""
    dims = grid_dims(ds)
    if len(dims) == 1:
        return [HeatmapView(dims[0], None, ())]
    views: list[HeatmapView] = []
    pairs = list(itertools.combinations(range(len(dims)), 2))
    n_slices = [math.prod(ds.sizes[d] for k, d in enumerate(dims) if k not in pair) for pair in pairs]
    all_slices = len(pairs) + sum(n - 1 for n in n_slices) <= most
    for (i, j), _n in zip(pairs, n_slices, strict=True):
        others = [d for k, d in enumerate(dims) if k not in (i, j)]
        positions = itertools.product(*(range(ds.sizes[d]) for d in others)) if all_slices else [(0,) * len(others)]
        for pos in positions:
            views.append(HeatmapView(dims[j], dims[i], tuple(zip(others, pos, strict=True))))
    return views


def view_grid(values: np.ndarray, dims: Sequence[str], view: HeatmapView) -> np.ndarray:
    """The 2-D slice (rows: the view's y dim, columns: its x dim) of an array over ``dims``."""
    index: list[Any] = [slice(None)] * len(dims)
    for d, i in view.fixed:
        index[dims.index(d)] = i
    part = np.asarray(values)[tuple(index)]
    kept = [d for d in dims if d not in dict(view.fixed)]
    if view.y is None:
        return part.reshape(1, -1)
    if kept.index(view.y) > kept.index(view.x):
        part = np.swapaxes(part, 0, 1)
    return part


def view_buttons(
    labels: Sequence[str], spans: Sequence[tuple[int, int]], n_traces: int, relayouts: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Drop-down entries that each show one span of traces (``first <= i < stop``) and relayout the figure."""
    return [
        {
            "label": text,
            "method": "update",
            "args": [{"visible": [first <= i < stop for i in range(n_traces)]}, relayout],
        }
        for text, (first, stop), relayout in zip(labels, spans, relayouts, strict=True)
    ]
