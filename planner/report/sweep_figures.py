"""Figures and tables of a sweep: pure functions of the combined sweep Dataset (DESIGN.md §5–§6).

The Dataset is the one :func:`planner.sweep.run_sweep` writes (layout in :mod:`planner.sweep`):
grid cases with one leading dim per swept path (``attrs["sweep_grid_dims"]``), one-at-a-time
cases as ``oat_*`` variables over the dim ``case``. Every ``*_figure`` function takes that
Dataset and returns a ``plotly.graph_objects.Figure`` (an explanatory empty figure when the
sweep has nothing to show, e.g. a tornado of a sweep without a one-at-a-time block); the table
helpers return plain dataclasses. Nothing here reads or writes files: :mod:`planner.report.sweep`
assembles and writes the page.

What a planner asks of a sweep, and where it is answered:

* how the cost and the KPIs move over two swept parameters: :func:`heatmap_figure` (a drop-down
  for the metric, and one for the pair of swept dims when there are more than two);
* what each step of a swept parameter costs: :func:`marginal_tables` and :func:`marginal_figure`
  (differences of the NPV between neighbouring grid values);
* at which value the plan switches chips: :func:`chip_mix_figure` (new servers by type at every
  grid point);
* which uncertain input matters most: :func:`tornado_rows` and :func:`tornado_figure`.

User text (swept values that are strings, messages) is HTML-escaped before plotly sees it
(:func:`planner.report.figures.plain`): plotly renders a little HTML in labels.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import plotly.graph_objects as go
import xarray as xr
from plotly.colors import sequential

from planner.report import figures as F

__all__ = [
    "FAILED_COLOUR",
    "HeatmapView",
    "MarginalTable",
    "Metric",
    "Shown",
    "SweepCase",
    "TornadoRow",
    "chip_mix_figure",
    "chip_views",
    "coord_text",
    "final_year",
    "grid_dims",
    "grid_metrics",
    "has_grid",
    "has_oat",
    "heatmap_figure",
    "heatmap_views",
    "is_sweep",
    "marginal_figure",
    "marginal_tables",
    "oat_parameters",
    "shown",
    "status_counts",
    "sweep_cases",
    "tornado_figure",
    "tornado_rows",
    "unique_cases",
    "value_label",
]

FAILED_COLOUR = "#d0d7de"
"""Cells and markers of cases without a plan (infeasible, failed)."""
LOW_COLOUR, HIGH_COLOUR = "#0969da", "#bc4c00"
MAX_HEATMAP_VIEWS = 60
"""Most entries of the heatmap's dims drop-down (pairs of swept dims x slices of the other dims)."""
MAX_CONTEXTS = 40
"""Most lines of the marginal-NPV table per swept dim (combinations of the other dims)."""


# ====================================================================== the Dataset


def is_sweep(ds: xr.Dataset) -> bool:
    """Whether ``ds`` is a combined sweep Dataset (written by :func:`planner.sweep.run_sweep`)."""
    return "sweep_grid_dims" in ds.attrs and ("case_id" in ds or "oat_case_id" in ds)


def grid_dims(ds: xr.Dataset) -> list[str]:
    """The swept paths of the grid, in the sweep file's order (the Dataset's leading dims)."""
    try:
        dims = json.loads(str(ds.attrs.get("sweep_grid_dims", "[]")))
    except ValueError:
        return []
    return [str(d) for d in dims if d in ds.dims] if "case_id" in ds else []


def oat_parameters(ds: xr.Dataset) -> list[str]:
    """The paths of the one-at-a-time block, in the sweep file's order."""
    if "oat_case_id" not in ds:
        return []
    try:
        return [str(p) for p in json.loads(str(ds.attrs.get("sweep_oat_parameters", "[]")))]
    except ValueError:
        return list(dict.fromkeys(str(p) for p in ds["case_parameter"].values if str(p)))


def has_grid(ds: xr.Dataset) -> bool:
    """Whether the sweep has grid cases."""
    return bool(grid_dims(ds))


def has_oat(ds: xr.Dataset) -> bool:
    """Whether the sweep has a one-at-a-time (tornado) block."""
    return "oat_case_id" in ds and ds.sizes.get("case", 0) > 0


def coord_text(value: Any) -> str:
    """A swept value as a short label: ``1.2``, ``0.001``, ``1e+26``, ``0.30 CNY/kWh``, ``true``."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def value_label(text: str) -> str:
    """A swept value written as YAML, for display: ``800000.0`` -> ``800,000``, ``0.05`` stays, text stays."""
    try:
        number = float(text)
    except (TypeError, ValueError):
        return str(text)
    if not math.isfinite(number):
        return str(text)
    if number.is_integer() and abs(number) < 1e15:
        return f"{int(number):,}"
    return f"{number:.6g}"


def final_year(ds: xr.Dataset) -> int | None:
    """The last planning year (None when the Dataset has no year)."""
    return int(ds["year"].values[-1]) if "year" in ds.coords and ds.sizes.get("year", 0) else None


def _view(ds: xr.Dataset, kind: str) -> xr.Dataset:
    """The grid cases (leading dims: the swept paths) or the one-at-a-time cases (dim ``case``, no prefix)."""
    if kind == "oat":
        names = [str(v) for v in ds.data_vars if str(v).startswith("oat_")]
        return ds[names].rename({v: v[4:] for v in names})
    return ds[[str(v) for v in ds.data_vars if not str(v).startswith("oat_")]]


def _text(da: xr.DataArray) -> np.ndarray:
    return np.asarray(da.values).astype(str)


# ====================================================================== metrics


@dataclass(frozen=True)
class Metric:
    """A number per case (one value per grid point, or per one-at-a-time case)."""

    key: str
    label: str  #: e.g. "NPV", "PUE 2030", "new servers: ascend_910c"
    kind: str  #: money, ratio, share, eflops, count
    values: xr.DataArray  #: over the cases' dims, in raw units (CNY, 1, share 0–1, EFLOPS, count); NaN: no plan
    colourscale: str  #: a name in plotly.colors.sequential (light = low)


def _metrics(view: xr.Dataset) -> list[Metric]:
    """The metrics of the heatmaps and the case table, for a grid or one-at-a-time view."""
    year = final_year(view)
    suffix = f" {year}" if year is not None else ""
    out: list[Metric] = [Metric("npv", "NPV", "money", view["objective"].astype(float), "YlOrRd")]

    def last(name: str) -> xr.DataArray | None:
        if name not in view or "year" not in view[name].dims:
            return None
        return view[name].isel(year=-1, drop=True).astype(float)

    for key, name, label, kind, scale in (
        ("pue", "pue", f"PUE{suffix}", "ratio", "YlOrRd"),
        ("green", "green_share", f"green share{suffix}", "share", "Greens"),
        ("domestic", "domestic_share", f"domestic share{suffix}", "share", "Oranges"),
        ("eflops", "installed_pflops", f"installed EFLOPS{suffix}", "eflops", "Blues"),
    ):
        da = last(name)
        if da is not None:
            out.append(Metric(key, label, kind, da / 1000.0 if kind == "eflops" else da, scale))
    if "servers_new" in view:
        new = view["servers_new"].sum(("cooling", "year"), min_count=1)
        out.append(
            Metric("servers_new", "new servers (all types)", "count", new.sum("accelerator", min_count=1), "Purples")
        )
        if view.sizes.get("accelerator", 0) > 1:
            for a in view["accelerator"].values:
                out.append(
                    Metric(
                        f"servers_new:{a}", f"new servers: {a}", "count", new.sel(accelerator=a, drop=True), "Purples"
                    )
                )
    if "racks_new" in view:
        racks = view["racks_new"].sum("year", min_count=1)
        for c in view["cooling"].values:
            out.append(Metric(f"racks_new:{c}", f"new racks: {c}", "count", racks.sel(cooling=c, drop=True), "BuPu"))
    return out


def grid_metrics(ds: xr.Dataset) -> list[Metric]:
    """The metrics of the grid cases, each over the swept dims (empty without a grid)."""
    if not has_grid(ds):
        return []
    dims = grid_dims(ds)
    return [
        Metric(m.key, m.label, m.kind, m.values.transpose(*dims), m.colourscale) for m in _metrics(_view(ds, "grid"))
    ]


def _decimals(values: np.ndarray, significant: int = 3, most: int = 4) -> int:
    """Decimals that tell neighbouring values apart: ``significant`` digits of their spread."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return 0
    spread = float(finite.max() - finite.min())
    peak = float(np.abs(finite).max())
    ref = spread if spread > 1e-9 * max(peak, 1e-300) else peak
    if ref <= 0:
        return 0
    return int(np.clip(significant - 1 - math.floor(math.log10(ref)), 0, most))


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
        scale, unit = F.money_scale(raw)
        values = raw / scale
        digits = _decimals(values, significant=4)
    elif metric.kind == "share":
        values, unit, digits = raw * 100.0, "%", 1
    elif metric.kind == "ratio":
        values, unit, digits = raw, "", 3
    elif metric.kind == "eflops":
        values, unit = raw, "EFLOPS"
        digits = _decimals(values)
    else:
        values, unit, digits = raw, metric.label.split(":")[0].split(" ")[-1], 0
    texts = np.array([f"{v:,.{digits}f}" if np.isfinite(v) else "" for v in values.ravel()], dtype=object)
    return Shown(values, texts.reshape(values.shape), unit)


# ====================================================================== cases


@dataclass(frozen=True)
class SweepCase:
    """One case of a sweep, as the report shows it."""

    id: str
    kind: str  #: grid or oat
    label: str  #: ``a=1, b=2`` (grid) or ``base`` / ``<path>=low`` (one at a time)
    coords: dict[str, str]  #: grid: swept path -> value label; one at a time: empty
    index: tuple[int, ...]  #: grid: position along each swept dim; one at a time: (position along ``case``,)
    parameter: str  #: one at a time: the path varied ("" for base and grid cases)
    side: str  #: one at a time: base, low or high
    value: str  #: one at a time: the value the path takes (YAML)
    status: str
    message: str
    npv: float
    gap: float
    wall_time_s: float
    pue: float
    green: float
    domestic: float
    eflops: float
    new_servers: dict[str, float] = field(default_factory=dict)  #: by server type, over all years

    @property
    def has_plan(self) -> bool:
        """Whether the case has a plan (its NPV is a number)."""
        return math.isfinite(self.npv)


def _case_records(view: xr.Dataset, lead: Sequence[str]) -> list[dict[str, Any]]:
    """Per case (in C order over ``lead``): status, NPV, KPIs of the final year, new servers by type."""
    shape = tuple(view.sizes[d] for d in lead)

    def arr(name: str, default: Any = math.nan) -> np.ndarray:
        if name not in view:
            return np.full(shape, default, dtype=object if isinstance(default, str) else float)
        return np.asarray(view[name].transpose(*lead).values)

    year_vals: dict[str, np.ndarray] = {}
    for key, name in (("pue", "pue"), ("green", "green_share"), ("domestic", "domestic_share")):
        year_vals[key] = (
            np.asarray(view[name].isel(year=-1).transpose(*lead).values, dtype=float)
            if name in view and "year" in view[name].dims
            else np.full(shape, math.nan)
        )
    year_vals["eflops"] = (
        np.asarray(view["installed_pflops"].isel(year=-1).transpose(*lead).values, dtype=float) / 1000.0
        if "installed_pflops" in view
        else np.full(shape, math.nan)
    )
    new = (
        view["servers_new"].sum(("cooling", "year"), min_count=1).transpose(*lead, "accelerator")
        if "servers_new" in view
        else None
    )
    accs = [str(a) for a in view["accelerator"].values] if new is not None else []
    new_vals = np.asarray(new.values, dtype=float) if new is not None else None
    ids, status, message = arr("case_id", ""), arr("status", ""), arr("message", "")
    npv, gap, wall = arr("objective"), arr("mip_gap"), arr("wall_time_s")
    records = []
    for idx in np.ndindex(*shape):
        mix = {a: float(new_vals[(*idx, i)]) for i, a in enumerate(accs)} if new_vals is not None else {}
        records.append(
            {
                "index": idx,
                "id": str(ids[idx]),
                "status": str(status[idx]),
                "message": str(message[idx]),
                "npv": float(npv[idx]),
                "gap": float(gap[idx]),
                "wall_time_s": float(wall[idx]),
                **{k: float(v[idx]) for k, v in year_vals.items()},
                "new_servers": {a: v for a, v in mix.items() if math.isfinite(v)},
            }
        )
    return records


def sweep_cases(ds: xr.Dataset) -> list[SweepCase]:
    """Every case of the sweep: grid cases first (the last swept path varying fastest), then the tornado."""
    out: list[SweepCase] = []
    dims = grid_dims(ds)
    if dims:
        labels = {d: [coord_text(v) for v in ds[d].values] for d in dims}
        for rec in _case_records(_view(ds, "grid"), dims):
            idx = rec.pop("index")
            coords = {d: labels[d][i] for d, i in zip(dims, idx, strict=True)}
            out.append(
                SweepCase(
                    kind="grid",
                    label=", ".join(f"{d}={v}" for d, v in coords.items()),
                    coords=coords,
                    index=tuple(int(i) for i in idx),
                    parameter="",
                    side="",
                    value="",
                    **rec,
                )
            )
    if has_oat(ds):
        params = _text(ds["case_parameter"]) if "case_parameter" in ds.coords else None
        sides = _text(ds["case_side"]) if "case_side" in ds.coords else None
        values = _text(ds["case_value"]) if "case_value" in ds.coords else None
        names = _text(ds["case"])
        for rec in _case_records(_view(ds, "oat"), ["case"]):
            idx = rec.pop("index")
            i = int(idx[0])
            out.append(
                SweepCase(
                    kind="oat",
                    label=str(names[i]),
                    coords={},
                    index=(i,),
                    parameter=str(params[i]) if params is not None else "",
                    side=str(sides[i]) if sides is not None else "",
                    value=str(values[i]) if values is not None else "",
                    **rec,
                )
            )
    return out


def unique_cases(cases: Sequence[SweepCase]) -> list[SweepCase]:
    """The cases with distinct ids (a case in both blocks is solved, and counted, once)."""
    return list({c.id: c for c in cases}.values())


def status_counts(ds: xr.Dataset) -> dict[str, int]:
    """Distinct cases by outcome: ``cases``, ``optimal``, ``time_limit``, ``infeasible``, ``failed`` (the rest)."""
    cases = unique_cases(sweep_cases(ds))
    counts = {"cases": len(cases), "optimal": 0, "time_limit": 0, "infeasible": 0, "failed": 0}
    for c in cases:
        key = c.status if c.status in ("optimal", "time_limit", "infeasible") else "failed"
        counts[key] += 1
    return counts


# ====================================================================== figure helpers


def _layout(fig: go.Figure, title: str, height: int = 420, **kwargs: Any) -> go.Figure:
    return F._layout(fig, title, height=height, **kwargs)


def _empty(title: str, text: str) -> go.Figure:
    fig = F._figure()
    fig.add_annotation(text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title, height=200)


def _colourscale(name: str) -> list[list[Any]]:
    """A sequential plotly colour scale as [position, colour] pairs, light for low values."""
    colours = list(getattr(sequential, name, sequential.Viridis))
    if name == "Viridis":
        colours = colours[::-1]
    n = len(colours) - 1
    return [[i / n, c] for i, c in enumerate(colours)]


FAILED_SCALE = [[0.0, FAILED_COLOUR], [1.0, FAILED_COLOUR]]


def _menu_label(text: str, x: float, y: float) -> dict[str, Any]:
    return {
        "text": text,
        "showarrow": False,
        "xref": "paper",
        "yref": "paper",
        "x": x,
        "y": y,
        "xanchor": "right",
        "yanchor": "middle",
        "font": {"size": 12, "color": F.LIMIT_COLOUR},
    }


def _menu(buttons: list[dict[str, Any]], x: float, y: float, active: int = 0) -> dict[str, Any]:
    return {
        "type": "dropdown",
        "buttons": buttons,
        "active": active,
        "x": x,
        "y": y,
        "xanchor": "left",
        "yanchor": "middle",
        "showactive": True,
        "pad": {"l": 0, "r": 0, "t": 0, "b": 0},
        "bgcolor": "white",
        "bordercolor": "#d0d7de",
        "font": {"size": 12},
    }


def _cells(ds: xr.Dataset, dims: Sequence[str]) -> dict[str, np.ndarray]:
    """Per grid point (arrays over ``dims``): status, case id and the first line of the message."""
    view = _view(ds, "grid")
    status = np.asarray(view["status"].transpose(*dims).values).astype(str)
    ids = np.asarray(view["case_id"].transpose(*dims).values).astype(str)
    messages = np.asarray(view["message"].transpose(*dims).values).astype(str)
    gist = (
        np.vectorize(lambda m: F.plain(_gist(m)).replace("\n", "<br>"), otypes=[object])(messages)
        if messages.size
        else messages
    )
    return {"status": status, "id": ids, "gist": gist}


def _gist(message: str, width: int = 110, lines: int = 6) -> str:
    """The first ``lines`` lines of a message, each cut to ``width`` characters (plain text, newline-joined)."""
    kept = [s.rstrip() for s in str(message).splitlines() if s.strip()][:lines]
    return "\n".join(s if len(s) <= width else s[: width - 1] + "…" for s in kept)


def _no_plan(status: np.ndarray, values: np.ndarray) -> np.ndarray:
    return ~np.isfinite(values) | ~np.isin(status, ["optimal", "time_limit"])


# ====================================================================== heatmaps


@dataclass(frozen=True)
class HeatmapView:
    """One entry of the heatmap's dims drop-down: a pair of swept dims, the others fixed."""

    x: str
    y: str | None  #: None: a one-dim grid (one row)
    fixed: tuple[tuple[str, int], ...]  #: the other dims and the position each is held at

    def label(self, ds: xr.Dataset) -> str:
        """``y × x`` (and ``at c = 1`` when other dims are held)."""
        text = self.x if self.y is None else f"{self.y} × {self.x}"
        if self.fixed:
            text += " at " + ", ".join(f"{d} = {coord_text(ds[d].values[i])}" for d, i in self.fixed)
        return text


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


def _view_grid(values: np.ndarray, dims: Sequence[str], view: HeatmapView) -> np.ndarray:
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


def heatmap_figure(ds: xr.Dataset) -> go.Figure:
    """NPV, final-year PUE, green and domestic share, installed EFLOPS and builds over two swept dims.

    A drop-down picks the metric; with more than two swept dims a second one picks the pair of
    dims (the others held at a value named in the entry). Cells are annotated with their value;
    cells of cases without a plan are grey, their status on the cell and on hover. A ``*`` marks
    a time-limited plan (within its MIP gap of the optimum).
    """
    dims = grid_dims(ds)
    if not dims:
        return _empty("Heatmaps over the swept dims", "this sweep has no grid (only a one-at-a-time block)")
    metrics = grid_metrics(ds)
    views = heatmap_views(ds)
    cells = _cells(ds, dims)
    labels = {d: [F.plain(coord_text(v)) for v in ds[d].values] for d in dims}
    fig = F._figure()
    main_traces: list[int] = []
    shown_metrics = [(m, shown(m)) for m in metrics]

    def metric_arrays(metric: Metric, disp: Shown, view: HeatmapView) -> dict[str, Any]:
        status = _view_grid(cells["status"], dims, view)
        values = _view_grid(disp.values, dims, view)
        texts = _view_grid(disp.texts, dims, view)
        ids = _view_grid(cells["id"], dims, view)
        bad = _no_plan(status, values)
        unit = f" {disp.unit}" if disp.unit else ""
        text = [
            [
                "" if bad[r, c] else texts[r, c] + ("*" if status[r, c] == "time_limit" else "")
                for c in range(bad.shape[1])
            ]
            for r in range(bad.shape[0])
        ]
        custom = [
            [[F.plain(metric.label), f"{texts[r, c]}{unit}", status[r, c], ids[r, c]] for c in range(bad.shape[1])]
            for r in range(bad.shape[0])
        ]
        z = np.where(bad, np.nan, values)
        return {"z": [F._list(row, 6) for row in z], "text": text, "customdata": custom}

    first_metric, first_shown = shown_metrics[0]
    for k, view in enumerate(views):
        xs = labels[view.x]
        ys = labels[view.y] if view.y is not None else [""]
        ylabel = view.y or ""
        hover = (
            (f"{F.plain(ylabel)} = %{{y}}<br>" if view.y else "")
            + f"{F.plain(view.x)} = %{{x}}<br>%{{customdata[0]}}: <b>%{{customdata[1]}}</b>"
            + "<br>status: %{customdata[2]} · case %{customdata[3]}<extra></extra>"
        )
        arrays = metric_arrays(first_metric, first_shown, view)
        main_traces.append(len(fig.data))
        fig.add_trace(
            go.Heatmap(
                x=xs,
                y=ys,
                colorscale=_colourscale(first_metric.colourscale),
                colorbar={"title": {"text": first_shown.unit or first_metric.label, "side": "right"}, "thickness": 14},
                texttemplate="%{text}",
                textfont={"size": 12},
                hovertemplate=hover,
                hoverongaps=False,
                xgap=2,
                ygap=2,
                visible=k == 0,
                name=first_metric.label,
                **arrays,
            )
        )
        status = _view_grid(cells["status"], dims, view)
        bad = _no_plan(status, _view_grid(first_shown.values, dims, view))
        # the failed cells: grey, with their status (the same for every metric)
        gist = _view_grid(cells["gist"], dims, view)
        ids = _view_grid(cells["id"], dims, view)
        fig.add_trace(
            go.Heatmap(
                x=xs,
                y=ys,
                z=[[1.0 if bad[r, c] else None for c in range(bad.shape[1])] for r in range(bad.shape[0])],
                text=[[status[r, c] if bad[r, c] else "" for c in range(bad.shape[1])] for r in range(bad.shape[0])],
                customdata=[[[ids[r, c], gist[r, c]] for c in range(bad.shape[1])] for r in range(bad.shape[0])],
                texttemplate="%{text}",
                textfont={"size": 12, "color": "#57606a"},
                colorscale=FAILED_SCALE,
                showscale=False,
                hoverongaps=False,
                hovertemplate=(
                    (f"{F.plain(ylabel)} = %{{y}}<br>" if view.y else "")
                    + f"{F.plain(view.x)} = %{{x}}<br><b>%{{text}}</b>: no plan<br>%{{customdata[1]}}"
                    + "<br>case %{customdata[0]}<extra></extra>"
                ),
                xgap=2,
                ygap=2,
                visible=k == 0,
                name="no plan",
            )
        )
    n_traces = len(fig.data)
    metric_buttons = []
    for metric, disp in shown_metrics:
        per_view = [metric_arrays(metric, disp, view) for view in views]
        metric_buttons.append(
            {
                "label": F.plain(metric.label),
                "method": "update",
                "args": [
                    {
                        "z": [a["z"] for a in per_view],
                        "text": [a["text"] for a in per_view],
                        "customdata": [a["customdata"] for a in per_view],
                        "colorscale": [_colourscale(metric.colourscale)] * len(views),
                        "colorbar.title.text": [disp.unit or F.plain(metric.label)] * len(views),
                        "name": [F.plain(metric.label)] * len(views),
                    },
                    {"title.text": _heatmap_title(metric)},
                    main_traces,
                ],
            }
        )
    # the menus side by side above the plot (paper y is a fraction of the plot area's height)
    height = _heatmap_height(ds, views)
    y = 1.0 + 34 / (height - (110 if len(views) > 1 else 90) - 40)
    menus = [_menu(metric_buttons, 0.07, y)]
    annotations = [_menu_label("metric", 0.065, y)]
    first = views[0]
    if len(views) > 1:
        view_buttons = []
        for k, view in enumerate(views):
            visible = [False] * n_traces
            visible[2 * k] = visible[2 * k + 1] = True
            view_buttons.append(
                {
                    "label": F.plain(view.label(ds)),
                    "method": "update",
                    "args": [
                        {"visible": visible},
                        {"xaxis.title.text": F.plain(view.x), "yaxis.title.text": F.plain(view.y or "")},
                    ],
                }
            )
        menus.append(_menu(view_buttons, 0.33, y))
        annotations.append(_menu_label("dims", 0.325, y))
    fig.update_layout(updatemenus=menus, annotations=annotations)
    fig.update_xaxes(type="category", title_text=F.plain(first.x), showgrid=False)
    fig.update_yaxes(
        type="category", title_text=F.plain(first.y or ""), showgrid=False, showticklabels=first.y is not None
    )
    top = 110 if len(views) > 1 else 90
    return _layout(
        fig, _heatmap_title(first_metric), height=_heatmap_height(ds, views), margin={"t": top, "l": 90, "r": 30}
    )


def _heatmap_title(metric: Metric) -> str:
    return f"{F.plain(metric.label)} over the swept dims"


def _heatmap_height(ds: xr.Dataset, views: Sequence[HeatmapView]) -> int:
    rows = max((ds.sizes[v.y] if v.y else 1) for v in views)
    top = 110 if len(views) > 1 else 90
    return int(min(900, max(300, top + 70 + 46 * rows)))


# ====================================================================== marginal cost of each step


@dataclass(frozen=True)
class MarginalTable:
    """NPV differences between neighbouring values of one swept dim, per combination of the others."""

    dim: str
    steps: list[str]  #: ``1.15 → 1.2``
    step_sizes: list[str]  #: ``+0.05`` (numeric dims), else ""
    uniform_step: str  #: the step when every step is the same (``+0.05``), else ""
    rows: list[tuple[str, list[float]]]  #: (label of the other dims' values, ΔNPV per step [CNY], NaN: no plan)
    mean: list[float]  #: mean ΔNPV per step over the rows with both plans [CNY]
    low: list[float]  #: least ΔNPV per step [CNY]
    high: list[float]  #: largest ΔNPV per step [CNY]
    omitted: int = 0  #: rows left out (more combinations than MAX_CONTEXTS)
    overall: float = math.nan  #: mean ΔNPV of one step over every step and combination with both plans [CNY]
    overall_low: float = math.nan  #: least ΔNPV of one step anywhere in the grid [CNY]
    overall_high: float = math.nan  #: largest ΔNPV of one step anywhere in the grid [CNY]
    missing: int = 0  #: steps (of all combinations) with no plan at one end or both
    total: int = 0  #: steps of all combinations

    @property
    def summary(self) -> str:
        """One sentence: what one step of the dim does to the NPV, on average over the grid."""
        if not math.isfinite(self.overall):
            return f"No two neighbouring values of {self.dim} both have a plan: nothing to compare."
        step = f"each step of {self.uniform_step} in" if self.uniform_step else "each step to the next value of"
        if abs(self.overall) < 0.5:
            text = f"On average {step} {self.dim} leaves the NPV unchanged"
        else:
            verb = "raises" if self.overall > 0 else "lowers"
            text = f"On average {step} {self.dim} {verb} the NPV by {F.fmt_money(abs(self.overall))}"
        if self.total - self.missing > 1 and self.overall_high - self.overall_low > 0.5:
            text += f" (from {_signed_money(self.overall_low)} to {_signed_money(self.overall_high)} across the grid)"
        text += "."
        if self.overall < -0.5:
            text += " A step the other way costs that much."
        if self.missing:
            text += f" {self.missing} of {self.total} steps have no plan at one end and are left out."
        return text


def _signed_money(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    if abs(value) < 0.5:
        return "±0"
    return ("+" if value > 0 else "−") + F.fmt_money(abs(value))


def _numeric(values: np.ndarray) -> bool:
    return values.dtype.kind in "iuf"


def _step_texts(values: np.ndarray) -> tuple[list[str], str]:
    if not _numeric(values) or values.size < 2:
        return [""] * max(0, values.size - 1), ""
    diffs = np.diff(values.astype(float))
    texts = [f"{d:+.6g}" for d in diffs]
    uniform = texts[0] if np.allclose(diffs, diffs[0], rtol=1e-6, atol=1e-12) else ""
    return texts, uniform


def marginal_tables(ds: xr.Dataset) -> list[MarginalTable]:
    """For each swept dim with at least two values: the NPV differences between neighbouring values.

    A row per combination of the other swept dims' values (at most :data:`MAX_CONTEXTS`), a column
    per step ``v_i → v_{i+1}`` holding ``NPV(v_{i+1}) − NPV(v_i)``: positive means the step costs
    money. NaN where either case has no plan.
    """
    dims = grid_dims(ds)
    if not dims:
        return []
    npv = _view(ds, "grid")["objective"].transpose(*dims)
    status = np.asarray(_view(ds, "grid")["status"].transpose(*dims).values).astype(str)
    values = np.where(np.isin(status, ["optimal", "time_limit"]), np.asarray(npv.values, dtype=float), np.nan)
    tables = []
    for k, dim in enumerate(dims):
        n = ds.sizes[dim]
        if n < 2:
            continue
        coords = np.asarray(ds[dim].values)
        labels = [coord_text(v) for v in coords]
        steps = [f"{labels[i]} → {labels[i + 1]}" for i in range(n - 1)]
        sizes, uniform = _step_texts(coords)
        others = [d for d in dims if d != dim]
        moved = np.moveaxis(values, k, 0).reshape(n, -1)
        deltas = moved[1:] - moved[:-1]  # (steps, contexts)
        contexts = list(itertools.product(*(range(ds.sizes[d]) for d in others)))
        rows = []
        for j, pos in enumerate(contexts[:MAX_CONTEXTS]):
            label = ", ".join(f"{d} = {coord_text(ds[d].values[i])}" for d, i in zip(others, pos, strict=True))
            rows.append((label or "all", [float(v) for v in deltas[:, j]]))
        mean, low, high = [], [], []
        for s in range(n - 1):
            finite = deltas[s][np.isfinite(deltas[s])]
            mean.append(float(finite.mean()) if finite.size else math.nan)
            low.append(float(finite.min()) if finite.size else math.nan)
            high.append(float(finite.max()) if finite.size else math.nan)
        every = deltas[np.isfinite(deltas)]
        tables.append(
            MarginalTable(
                dim,
                steps,
                sizes,
                uniform,
                rows,
                mean,
                low,
                high,
                omitted=max(0, len(contexts) - MAX_CONTEXTS),
                overall=float(every.mean()) if every.size else math.nan,
                overall_low=float(every.min()) if every.size else math.nan,
                overall_high=float(every.max()) if every.size else math.nan,
                missing=int(deltas.size - every.size),
                total=int(deltas.size),
            )
        )
    return tables


def marginal_figure(ds: xr.Dataset) -> go.Figure:
    """What each step of a swept parameter costs: ΔNPV between neighbouring grid values, as bars.

    One group of bars per step (``1.15 → 1.2``), one bar per combination of the other swept
    values; positive bars: the step adds cost. A drop-down picks the swept dim when there are two
    or more.
    """
    tables = marginal_tables(ds)
    if not tables:
        return _empty(
            "Marginal NPV per step of each swept parameter", "no swept dim has two values (nothing to difference)"
        )
    everything = np.array([v for t in tables for _, row in t.rows for v in row], dtype=float)
    if not np.isfinite(everything).any():
        return _empty(
            "Marginal NPV per step of each swept parameter", "no two neighbouring grid points both have a plan"
        )
    scale, unit = F.money_scale(everything[np.isfinite(everything)] if np.isfinite(everything).any() else [0.0])
    fig = F._figure()
    spans: list[tuple[int, int]] = []
    for k, table in enumerate(tables):
        start = len(fig.data)
        colours = F._palette(len(table.rows))
        for (label, deltas), colour in zip(table.rows, colours, strict=True):
            arr = np.asarray(deltas, dtype=float) / scale
            digits = _decimals(arr)
            fig.add_trace(
                go.Bar(
                    x=[F.plain(s) for s in table.steps],
                    y=F._list(arr, 6),
                    name=F.plain(label),
                    marker_color=colour,
                    text=[f"{v:+,.{digits}f}" if np.isfinite(v) else "no plan" for v in arr],
                    textposition="outside",
                    cliponaxis=False,
                    textfont={"size": 11},
                    hovertemplate=(
                        f"{F.plain(table.dim)}: %{{x}}<br>{F.plain(label)}<br>"
                        f"ΔNPV <b>%{{y:+,.4g}} {unit}</b><extra></extra>"
                    ),
                    visible=k == 0,
                    showlegend=len(table.rows) > 1,
                )
            )
        spans.append((start, len(fig.data)))
    fig.add_hline(y=0, line_color=F.LIMIT_COLOUR, line_width=1)
    if len(tables) > 1:
        buttons = []
        for k, (table, (a, b)) in enumerate(zip(tables, spans, strict=True)):
            visible = [a <= i < b for i in range(len(fig.data))]
            buttons.append(
                {
                    "label": F.plain(table.dim),
                    "method": "update",
                    "args": [{"visible": visible}, {"xaxis.title.text": _marginal_axis(tables[k])}],
                }
            )
        fig.update_layout(updatemenus=[_menu(buttons, 0.12, 1.13)], annotations=[_menu_label("swept dim", 0.115, 1.13)])
    fig.update_xaxes(type="category", title_text=_marginal_axis(tables[0]))
    fig.update_yaxes(title_text=f"ΔNPV per step [{unit}]")
    return _layout(
        fig,
        "Marginal NPV per step of each swept parameter (NPV at the next value − NPV at this one)",
        height=430,
        margin={"t": 100 if len(tables) > 1 else 60},
        barmode="group",
    )


def _marginal_axis(table: MarginalTable) -> str:
    step = f" (steps of {table.uniform_step})" if table.uniform_step else ""
    return F.plain(f"{table.dim}{step}")


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


def chip_mix_figure(ds: xr.Dataset) -> go.Figure:
    """New servers by type at every grid point (bought over the whole horizon), stacked, with the domestic share.

    The bars show at which swept value the plan switches chips; the line (right axis) is the
    domestic share of installed PFLOPS in the final year. One swept dim runs along the x axis within
    groups of another's values; a drop-down picks the pair (and holds the other dims, with three or
    more). Grid points without a plan are marked with their status.
    """
    dims = grid_dims(ds)
    view_ds = _view(ds, "grid")
    if not dims:
        return _empty("Chip mix: new servers by type", "this sweep has no grid")
    if "servers_new" not in view_ds:
        return _empty("Chip mix: new servers by type", "no grid point has a plan")
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
    colours = _acc_colours(flags)
    share = (
        np.asarray(view_ds["domestic_share"].isel(year=-1).transpose(*dims).values, dtype=float) * 100
        if "domestic_share" in view_ds
        else None
    )
    status = np.asarray(view_ds["status"].transpose(*dims).values).astype(str)
    year = final_year(ds)
    labels = {d: [F.plain(coord_text(v)) for v in ds[d].values] for d in dims}
    totals = np.nansum(values, axis=-1)
    peak = float(totals.max()) if totals.size and totals.max() > 0 else 1.0
    views = chip_views(ds)
    fig = F._figure()
    spans: list[tuple[int, int]] = []
    for k, view in enumerate(views):
        start = len(fig.data)
        rows = _view_grid(status, dims, view)
        n_groups, n_x = rows.shape
        xs: Any = [labels[view.x][c] for _ in range(n_groups) for c in range(n_x)]
        if view.y is not None:
            outer = [f"{F.plain(_short(view.y))}<br>= {labels[view.y][r]}" for r in range(n_groups) for _ in range(n_x)]
            xs = [outer, xs]
        for i, a in enumerate(accs):
            ys = _view_grid(values[..., i], dims, view).ravel()
            tag = {True: " (domestic)", False: " (imported)", None: ""}[flags[a]]
            fig.add_trace(
                go.Bar(
                    x=xs,
                    y=F._list(ys, 3),
                    name=F.plain(a + tag),
                    legendgroup=a,
                    marker_color=colours[a],
                    # a count on every bar tall enough to hold one
                    text=[f"{v:,.0f}" if np.isfinite(v) and v > 0.5 and v >= 0.06 * peak else "" for v in ys],
                    textposition="inside",
                    insidetextanchor="middle",
                    textangle=0,
                    hovertemplate=f"{F.plain(a)}: <b>%{{y:,.0f}}</b> new servers<br>%{{x}}<extra></extra>",
                    visible=k == 0,
                )
            )
        if share is not None:
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=F._list(_view_grid(share, dims, view).ravel(), 3),
                    name=f"domestic share {year} (right axis)",
                    legendgroup="share",
                    mode="markers",
                    marker={"size": 9, "color": "#24292f", "symbol": "diamond", "line": {"color": "white", "width": 1}},
                    yaxis="y2",
                    hovertemplate="domestic share of installed PFLOPS: <b>%{y:.1f} %</b><br>%{x}<extra></extra>",
                    visible=k == 0,
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
                marker={"symbol": "x", "size": 11, "color": F.BAD_COLOUR},
                textfont={"color": F.BAD_COLOUR, "size": 11},
                name="no plan",
                legendgroup="no plan",
                showlegend=bool(bad),
                hovertemplate="<b>%{text}</b>: no plan<br>%{x}<extra></extra>",
                visible=k == 0,
            )
        )
        spans.append((start, len(fig.data)))
    if len(views) > 1:
        buttons = []
        for view, (first, stop) in zip(views, spans, strict=True):
            buttons.append(
                {
                    "label": F.plain(_chip_label(ds, view)),
                    "method": "update",
                    "args": [
                        {"visible": [first <= i < stop for i in range(len(fig.data))]},
                        {"xaxis.title.text": _chip_axis(view)},
                    ],
                }
            )
        fig.update_layout(updatemenus=[_menu(buttons, 0.07, 1.13)], annotations=[_menu_label("view", 0.065, 1.13)])
    fig.update_layout(
        barmode="stack",
        yaxis={"range": [0, peak * 1.15], "title": {"text": "new servers, all years"}},
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
    return _layout(
        fig,
        "Chip mix: new servers by type at each grid point (where the plan switches chips)",
        height=500,
        margin={"t": 100 if len(views) > 1 else 60, "r": 70},
        legend={"y": -0.25},
    )


def _chip_label(ds: xr.Dataset, view: HeatmapView) -> str:
    text = view.x if view.y is None else f"{view.x} within {view.y}"
    if view.fixed:
        text += " at " + ", ".join(f"{d} = {coord_text(ds[d].values[i])}" for d, i in view.fixed)
    return text


def _short(dim: str) -> str:
    """A swept path without its leading section (``policy.pue_max.2030`` -> ``pue_max.2030``)."""
    parts = dim.split(".")
    return ".".join(parts[1:]) if len(parts) > 2 else dim


def _chip_axis(view: HeatmapView) -> str:
    return F.plain(view.x + (f", within each value of {view.y}" if view.y else ""))


def _acc_colours(flags: dict[str, bool | None]) -> dict[str, str]:
    if all(v is None for v in flags.values()):
        return dict(zip(flags, F._palette(len(flags)), strict=True))
    out: dict[str, str] = {}
    n_dom = n_imp = 0
    for a, dom in flags.items():
        if dom:
            out[a] = F.DOMESTIC_COLOURS[n_dom % len(F.DOMESTIC_COLOURS)]
            n_dom += 1
        else:
            out[a] = F.IMPORTED_COLOURS[n_imp % len(F.IMPORTED_COLOURS)]
            n_imp += 1
    return out


# ====================================================================== tornado


@dataclass(frozen=True)
class TornadoRow:
    """One parameter of the one-at-a-time block: the NPV at its low and its high value."""

    parameter: str
    low_value: str
    high_value: str
    low_npv: float  #: NaN: no plan
    high_npv: float
    low_status: str
    high_status: str
    low_id: str
    high_id: str
    base_npv: float

    @property
    def low_delta(self) -> float:
        """NPV at the low value − NPV of the base [CNY]."""
        return self.low_npv - self.base_npv

    @property
    def high_delta(self) -> float:
        """NPV at the high value − NPV of the base [CNY]."""
        return self.high_npv - self.base_npv

    @property
    def swing(self) -> float:
        """|NPV(high) − NPV(low)|, or the one side's |Δ| when the other has no plan (0 when neither has)."""
        if math.isfinite(self.low_npv) and math.isfinite(self.high_npv):
            return abs(self.high_npv - self.low_npv)
        sides = [abs(d) for d in (self.low_delta, self.high_delta) if math.isfinite(d)]
        return max(sides) if sides else 0.0


def tornado_rows(ds: xr.Dataset) -> tuple[float, str, list[TornadoRow]]:
    """The base case's NPV and status, and a row per one-at-a-time parameter, the largest swing first."""
    if not has_oat(ds):
        return math.nan, "", []
    cases = [c for c in sweep_cases(ds) if c.kind == "oat"]
    base = next((c for c in cases if c.side == "base"), None)
    base_npv = base.npv if base is not None and base.has_plan else math.nan
    by_key = {(c.parameter, c.side): c for c in cases}
    rows = []
    for p in oat_parameters(ds):
        low, high = by_key.get((p, "low")), by_key.get((p, "high"))
        if low is None or high is None:
            continue
        rows.append(
            TornadoRow(
                p,
                low.value,
                high.value,
                low.npv if low.has_plan else math.nan,
                high.npv if high.has_plan else math.nan,
                low.status,
                high.status,
                low.id,
                high.id,
                base_npv,
            )
        )
    rows.sort(key=lambda r: -r.swing)
    return base_npv, base.status if base is not None else "", rows


def tornado_figure(ds: xr.Dataset) -> go.Figure:
    """Tornado of the one-at-a-time block: NPV at each parameter's low and high value minus the base.

    Parameters are sorted by swing (the largest at the top); each bar is labelled with the value
    it stands for and its ΔNPV; a side without a plan is named with its status.
    """
    base_npv, base_status, rows = tornado_rows(ds)
    title = "Tornado: NPV at each parameter's low and high value, minus the base case"
    if not rows:
        return _empty(title, "this sweep has no one-at-a-time block")
    if not math.isfinite(base_npv):
        return _empty(title, f"the base case has no plan ({F.plain(base_status)}): nothing to compare against")
    deltas = np.array([[r.low_delta, r.high_delta] for r in rows], dtype=float)
    scale, unit = F.money_scale(deltas[np.isfinite(deltas)] if np.isfinite(deltas).any() else [0.0])
    digits = _decimals(deltas / scale)
    names = [F.plain(r.parameter) for r in rows]
    fig = F._figure()
    for side, colour in (("low", LOW_COLOUR), ("high", HIGH_COLOUR)):
        xs, texts, custom = [], [], []
        for r in rows:
            d = r.low_delta if side == "low" else r.high_delta
            value = r.low_value if side == "low" else r.high_value
            stat = r.low_status if side == "low" else r.high_status
            cid = r.low_id if side == "low" else r.high_id
            npv = r.low_npv if side == "low" else r.high_npv
            xs.append(d / scale if math.isfinite(d) else 0.0)
            texts.append(
                f"{F.plain(value_label(value))}: {d / scale:+,.{digits}f}"
                if math.isfinite(d)
                else f"{F.plain(value_label(value))}: {stat}"
            )
            custom.append([F.plain(value_label(value)), F.fmt_money(npv), stat, cid])
        fig.add_trace(
            go.Bar(
                y=names,
                x=F._list(xs, 6),
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
        )
    span = float(np.nanmax(np.abs(deltas / scale))) if np.isfinite(deltas).any() else 1.0
    span = span if span > 0 else 1.0
    fig.add_vline(x=0, line_color="#24292f", line_width=1.5)
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(
        title_text=f"ΔNPV against the base case ({F.fmt_money(base_npv)}) [{unit}]",
        range=[-1.45 * span, 1.45 * span],
        zeroline=False,
    )
    return _layout(
        fig,
        title,
        height=int(min(1000, 150 + 58 * len(rows))),
        barmode="group",
        bargap=0.28,
        bargroupgap=0.06,
        margin={"l": 60, "r": 30},
    )
