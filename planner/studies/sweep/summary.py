"""The terminal summary of a finished sweep: a row per case (DataFrame or rich table), then why cases have no plan.

Both read the combined Dataset only (:mod:`planner.studies.sweep.stack`), so they work on a file
written by any earlier run. :func:`gist` is shared with the progress lines of
:func:`planner.studies.sweep.run_sweep`.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from rich.markup import escape
from rich.table import Table

from planner.report.format import fmt_money_cell
from planner.scenario.errors import shown
from planner.solver.status import Status

__all__ = ["gist", "print_summary", "summary_table"]

_KPIS = ("pue", "green_share", "domestic_share")


def _last_year(ds: xr.Dataset) -> int | None:
    return int(ds["year"].values[-1]) if "year" in ds.coords and ds.sizes.get("year", 0) else None


def _kpis(sel: xr.Dataset, prefix: str, year: int | None) -> dict[str, Any]:
    """Status, NPV, KPIs of ``year``, gap and message of one case (variables named ``<prefix><name>``)."""
    row: dict[str, Any] = {
        "status": str(sel[f"{prefix}status"].values),
        "npv_cny": float(sel[f"{prefix}objective"].values),
    }
    for name in _KPIS:
        key = f"{name}_{year}" if year is not None else name
        var = f"{prefix}{name}"
        row[key] = float(sel[var].sel(year=year).values) if var in sel and year is not None else math.nan
    row["mip_gap"] = float(sel[f"{prefix}mip_gap"].values)
    row["message"] = str(sel[f"{prefix}message"].values)
    return row


def summary_table(ds: xr.Dataset) -> pd.DataFrame:
    """One row per case of a combined sweep Dataset: id, coordinates, status, NPV, KPIs of the last year, gap.

    Columns: ``id``, ``kind`` (grid/oat), one column per grid path, ``case`` (tornado label),
    ``status``, ``npv_cny``, ``pue_<year>``, ``green_share_<year>``, ``domestic_share_<year>`` (the
    last planning year), ``mip_gap``, ``message``. Grid rows come first, in the sweep's order.
    """
    dims = json.loads(ds.attrs.get("sweep_grid_dims", "[]"))
    year = _last_year(ds)
    rows: list[dict[str, Any]] = []
    if dims and "case_id" in ds:
        for idx in np.ndindex(*(ds.sizes[d] for d in dims)):
            sel = ds.isel(dict(zip(dims, idx, strict=True)))
            coords = {d: sel[d].values.item() for d in dims}
            rows.append(
                {"id": str(sel["case_id"].values), "kind": "grid", **coords, "case": "", **_kpis(sel, "", year)}
            )
    if "oat_case_id" in ds:
        for i in range(ds.sizes["case"]):
            sel = ds.isel(case=i)
            label = str(sel["case"].values)
            rows.append(
                {"id": str(sel["oat_case_id"].values), "kind": "oat", **dict.fromkeys(dims, None), "case": label}
                | _kpis(sel, "oat_", year)
            )
    return pd.DataFrame(rows)


def _share(value: Any) -> str:
    return "-" if value is None or not math.isfinite(float(value)) else f"{float(value):.1%}"


def gist(message: str, lines: int = 2) -> str:
    """The first lines of a (diagnosis) message, on one line."""
    return " ".join(line.strip() for line in message.strip().splitlines()[:lines] if line.strip())


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return shown(value) if not isinstance(value, str) else value


def _row_cells(row: dict[str, Any], dims: list[str], has_oat: bool, year: int | None) -> list[str]:
    """The cells of one case's row of the summary table (rich markup)."""
    cells = [row["id"]]
    cells += ["" if _missing(row.get(d)) else escape(_cell(row[d])) for d in dims]
    if has_oat:
        cells.append(escape(row["case"]))
    status = row["status"]
    cells.append(status if status == Status.OPTIMAL else f"[yellow]{escape(status)}[/]")
    cells.append(fmt_money_cell(row["npv_cny"]))
    key = f"_{year}" if year is not None else ""
    pue = row.get(f"pue{key}", math.nan)
    cells.append("-" if not math.isfinite(pue) else f"{pue:.3f}")
    cells.append(_share(row.get(f"green_share{key}")))
    cells.append(_share(row.get(f"domestic_share{key}")))
    gap = row["mip_gap"]
    cells.append("-" if not math.isfinite(gap) else f"{gap:.2%}")
    return cells


def print_summary(ds: xr.Dataset, console: Any) -> None:
    """Print the sweep's cases as a table (see :func:`summary_table`), then why cases have no plan."""
    frame = summary_table(ds)
    dims = json.loads(ds.attrs.get("sweep_grid_dims", "[]"))
    year = _last_year(ds)
    table = Table(title=f"sweep {escape(str(ds.attrs.get('sweep_name', '')))}", title_justify="left")
    table.add_column("id")
    for d in dims:
        table.add_column(escape(d), justify="right")
    has_oat = bool(len(frame)) and bool((frame["kind"] == "oat").any())
    if has_oat:
        table.add_column("case")
    table.add_column("status")
    table.add_column("NPV [CNY]", justify="right")
    suffix = f" {year}" if year is not None else ""
    for name in ("PUE", "green", "domestic"):
        table.add_column(f"{name}{suffix}", justify="right")
    table.add_column("gap", justify="right")
    for row in frame.to_dict("records"):
        table.add_row(*_row_cells(row, dims, has_oat, year))
    console.print(table)
    failed = frame[~np.isfinite(frame["npv_cny"].astype(float))] if len(frame) else frame
    if len(failed):
        console.print(f"[yellow]{len(failed)} of {len(frame)} cases have no plan:[/]")
        for row in failed.to_dict("records"):
            note = gist(str(row["message"]))
            label = row["case"] or ", ".join(f"{d}={_cell(row[d])}" for d in dims)
            console.print(
                f"  {row['id']} {escape(label)}: {escape(row['status'])}" + (f": {escape(note)}" if note else "")
            )
