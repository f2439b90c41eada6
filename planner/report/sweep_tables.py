"""Read a combined sweep Dataset into cases, metrics and tables: what the sweep page and its figures show.

The Dataset is the one :func:`planner.studies.sweep.run_sweep` writes: grid cases with one leading dim per
swept path (``attrs["sweep_grid_dims"]``), one-at-a-time cases as ``oat_*`` variables over the dim
``case``. Pure functions returning plain dataclasses; the figures are in
:mod:`planner.report.figures.sweep_grid` and :mod:`planner.report.figures.sweep_oat`.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from planner.report.format import coord_text, fmt_money, fmt_signed_money
from planner.report.labels import accelerator_label, cooling_label, parameter_label
from planner.results.sites import cluster_view

__all__ = [
    "MAX_CONTEXTS",
    "MarginalTable",
    "Metric",
    "SweepCase",
    "TornadoRow",
    "case_view",
    "final_year",
    "grid_dims",
    "grid_metrics",
    "has_grid",
    "has_oat",
    "is_sweep",
    "marginal_tables",
    "oat_parameters",
    "status_counts",
    "sweep_cases",
    "tornado_rows",
    "unique_cases",
]

MAX_CONTEXTS = 40
"""Most lines of the marginal-NPV table per swept dim (combinations of the other dims)."""


# ====================================================================== the Dataset


def is_sweep(ds: xr.Dataset) -> bool:
    """Whether ``ds`` is a combined sweep Dataset (written by :func:`planner.studies.sweep.run_sweep`)."""
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


def final_year(ds: xr.Dataset) -> int | None:
    """The last planning year (None when the Dataset has no year)."""
    return int(ds["year"].values[-1]) if "year" in ds.coords and ds.sizes.get("year", 0) else None


def case_view(ds: xr.Dataset, kind: str) -> xr.Dataset:
    """The grid cases (leading dims: the swept paths) or the one-at-a-time cases (dim ``case``, no prefix),
    each the cluster as a whole (its sites added up, :func:`planner.results.sites.cluster_view`).
    """
    ds = cluster_view(ds)
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
    label: str  #: e.g. "NPV", "PUE 2030", "new servers: Huawei Ascend 910C"
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
                        f"servers_new:{a}",
                        f"new servers: {accelerator_label(view, str(a))}",
                        "count",
                        new.sel(accelerator=a, drop=True),
                        "Purples",
                    )
                )
    if "racks_new" in view:
        racks = view["racks_new"].sum("year", min_count=1)
        for c in view["cooling"].values:
            name = f"new racks: {cooling_label(view, str(c))}"
            out.append(Metric(f"racks_new:{c}", name, "count", racks.sel(cooling=c, drop=True), "BuPu"))
    return out


def grid_metrics(ds: xr.Dataset) -> list[Metric]:
    """The metrics of the grid cases, each over the swept dims (empty without a grid)."""
    if not has_grid(ds):
        return []
    dims = grid_dims(ds)
    return [
        Metric(m.key, m.label, m.kind, m.values.transpose(*dims), m.colourscale)
        for m in _metrics(case_view(ds, "grid"))
    ]


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
        for rec in _case_records(case_view(ds, "grid"), dims):
            idx = rec.pop("index")
            coords = {d: labels[d][i] for d, i in zip(dims, idx, strict=True)}
            out.append(
                SweepCase(
                    kind="grid",
                    label=", ".join(f"{parameter_label(d)} = {v}" for d, v in coords.items()),
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
        for rec in _case_records(case_view(ds, "oat"), ["case"]):
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
            return f"No two neighbouring values of {parameter_label(self.dim)} both have a plan: nothing to compare."
        step = f"each step of {self.uniform_step} in" if self.uniform_step else "each step to the next value of"
        if abs(self.overall) < 0.5:
            text = f"On average {step} {parameter_label(self.dim)} leaves the NPV unchanged"
        else:
            verb = "raises" if self.overall > 0 else "lowers"
            text = f"On average {step} {parameter_label(self.dim)} {verb} the NPV by {fmt_money(abs(self.overall))}"
        if self.total - self.missing > 1 and self.overall_high - self.overall_low > 0.5:
            text += (
                f" (from {fmt_signed_money(self.overall_low)} to {fmt_signed_money(self.overall_high)} across the grid)"
            )
        text += "."
        if self.overall < -0.5:
            text += " A step the other way costs that much."
        if self.missing:
            text += f" {self.missing} of {self.total} steps have no plan at one end and are left out."
        return text


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
    npv = case_view(ds, "grid")["objective"].transpose(*dims)
    status = np.asarray(case_view(ds, "grid")["status"].transpose(*dims).values).astype(str)
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
            label = ", ".join(
                f"{parameter_label(d)} = {coord_text(ds[d].values[i])}" for d, i in zip(others, pos, strict=True)
            )
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
