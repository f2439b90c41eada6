"""A plan's data to take away (``plan export``): tables built from the results Dataset, written as xlsx or CSV.

One function per sheet turns the Dataset into a pandas DataFrame, every header with its unit
(``grid_import [MW]``, from each variable's ``attrs["units"]``): ``about`` (where the plan comes
from), ``builds`` (new units and stock in service by year), ``costs`` (the ``cost`` variable by
component and year, and its discounted sum, the NPV), ``cash`` (when the Dataset has cash flows),
``policy`` (each limit by year, from :func:`planner.report.tables.compliance_rows`), ``kpis``
(the yearly key figures) and ``dispatch`` (every representative hour). :func:`write_export`
writes them as one workbook (openpyxl) or as a folder of CSV files, atomically either way. The
plan report embeds the build and policy tables as CSV links (:func:`download_links`).
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from planner import __version__
from planner.report.data import emissions, increase, plan_years, units_of
from planner.report.format import as_float
from planner.report.tables import LIMITS, compliance_rows
from planner.results.io import atomic_folder, atomic_path
from planner.results.kpis import served_shares
from planner.results.sites import cluster_view

__all__ = [
    "FORMATS",
    "REQUIRED",
    "SHEETS",
    "ExportError",
    "about_table",
    "builds_table",
    "cash_table",
    "check_exportable",
    "costs_table",
    "csv_text",
    "default_output",
    "dispatch_table",
    "download_links",
    "export_tables",
    "kpis_table",
    "policy_table",
    "write_export",
]

FORMATS = ("xlsx", "csv")

#: The sheets, in workbook order (``cash`` only when the Dataset has cash flows).
SHEETS = ("about", "builds", "costs", "cash", "policy", "kpis", "dispatch")

#: Variables the export reads (beyond these, ``cash`` and ``shadow_price`` are optional).
REQUIRED = (
    *("servers", "servers_new", "racks", "racks_new", "cooling_units", "cooling_units_new", "halls", "halls_new"),
    *("grid_blocks", "grid_blocks_new", "grid_mw", "generator_units", "generators_new"),
    *("pv_mw", "battery_mwh", "battery_mw", "ppa_mw", "cost", "discount_factor", "npv_cny"),
    *("pue", "green_share", "domestic_share", "installed_pflops", "emissions_t", "utilisation"),
    *("cost_per_pflop_hour", "cost_per_million_tokens", "it_energy_mwh", "facility_energy_mwh"),
    *("inference_demand_tokens_per_s", "inference_unserved", "training_unserved_flop", "training_demand_flop"),
    *("day_weight", "tou_period", "grid_import_mw", "pv_used_mw", "battery_charge_mw", "battery_discharge_mw"),
    *("battery_soc_mwh", "ppa_mw_used", "it_power_mw", "cooling_power_mw", "facility_power_mw"),
    "grid_price_cny_per_mwh",
)


class ExportError(Exception):
    """A plan that cannot be exported, or an output the export may not write."""


def check_exportable(ds: xr.Dataset, path: Path | str, is_sweep: bool = False) -> None:
    """Refuse a sweep's combined results and a plan that lacks a variable the export reads."""
    if is_sweep:
        raise ExportError(
            f"{path}: a sweep's combined results: sweeps are not exported yet; export one case's "
            "results file instead (<results>/sweeps/<sweep name>/<case>.nc)"
        )
    missing = [name for name in REQUIRED if name not in ds]
    if missing:
        raise ExportError(f"{path}: not a complete planner results file (missing {', '.join(missing)})")


def _header(name: str, units: str) -> str:
    """``name [units]`` (just ``name`` without units)."""
    return f"{name} [{units}]" if units else name


def _year_columns(da: xr.DataArray, name: str, units: str | None = None) -> dict[str, np.ndarray]:
    """One column per label of ``da``'s dims other than ``year`` (``name label [units]``), one value per year."""
    units = units_of(da) if units is None else units
    other = [d for d in da.dims if d != "year"]
    values = da.transpose(*other, "year").values
    if not other:
        return {_header(name, units): values}
    labels = [[str(v) for v in da[d].values] if d in da.coords else [str(i) for i in range(da.sizes[d])] for d in other]
    return {
        _header(f"{name} {'/'.join(labels[k][i] for k, i in enumerate(index))}", units): values[index]
        for index in np.ndindex(*values.shape[:-1])
    }


def _by_year(ds: xr.Dataset, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """A table with one row per planning year: ``year`` then ``columns``."""
    return pd.DataFrame({"year": plan_years(ds), **columns})


# ====================================================================== sheets


def about_table(ds: xr.Dataset, source: str | None = None) -> pd.DataFrame:
    """Where the plan comes from: scenario, files, solver outcome, NPV, versions, overrides (``field``, ``value``)."""
    a = ds.attrs
    try:
        overrides = json.loads(str(a["scenario_overrides"]))
        override_text = " ".join(f"--set {o}" for o in overrides) or "(none)"
    except (KeyError, ValueError, TypeError):
        override_text = "(not recorded)"
    gap = as_float(a.get("mip_gap"))
    rows = [
        ("scenario", str(a.get("scenario_name", ""))),
        ("results file", source or ""),
        ("scenario file", str(a.get("scenario_source", ""))),
        ("overrides", override_text),
        ("input hash", str(a.get("input_hash", ""))),
        ("solver status", str(a.get("solver_status", ""))),
        ("termination", str(a.get("termination", ""))),
        ("MIP gap [1]", gap if np.isfinite(gap) else None),
        (_header("NPV", units_of(ds["npv_cny"])), float(ds["npv_cny"].values)),
        ("years", f"{plan_years(ds)[0]}-{plan_years(ds)[-1]}"),
        ("representative days", int(ds.sizes.get("day", 0))),
        ("planner version (solve)", str(a.get("planner_version", ""))),
        ("planner version (export)", __version__),
        ("created", _dt.datetime.now().astimezone().isoformat(timespec="seconds")),
        ("sheets", ", ".join(s for s in SHEETS if s != "cash" or _has_cash(ds))),
    ]
    return pd.DataFrame(rows, columns=["field", "value"])


def builds_table(ds: xr.Dataset) -> pd.DataFrame:
    """New units and stock in service per asset and year (``<variable> <label> [units]``, one row per year).

    Servers per server type (summed over cooling), racks and cooling plant units per cooling
    technology, halls, grid blocks (and the grid MW), gensets, PV, battery energy and power (their
    year-on-year increase as ``*_added``), and the PPA MW contracted each year.
    """
    columns: dict[str, np.ndarray] = {}
    for name in ("servers_new", "servers"):
        columns |= _year_columns(ds[name].sum("cooling"), name, units_of(ds[name]))
    for name in ("racks_new", "racks", "cooling_units_new", "cooling_units"):
        columns |= _year_columns(ds[name], name)
    for name in ("halls_new", "halls", "grid_blocks_new", "grid_blocks", "grid_mw", "generators_new"):
        columns |= _year_columns(ds[name], name)
    columns |= _year_columns(ds["generator_units"], "generators")
    for name, label in (("pv_mw", "pv"), ("battery_mwh", "battery_energy"), ("battery_mw", "battery_power")):
        units = units_of(ds[name])
        columns[_header(f"{label}_added", units)] = increase(ds[name].values)
        columns[_header(label, units)] = ds[name].values
    columns |= _year_columns(ds["ppa_mw"], "ppa_contracted")
    return _by_year(ds, columns)


def costs_table(ds: xr.Dataset) -> pd.DataFrame:
    """The ``cost`` variable, one row per component and a ``total`` row, one column per year, and
    ``discounted``: the sum over the years of cost x discount factor (the total's is the NPV).
    """
    cost = ds["cost"].transpose("component", "year")
    units = units_of(ds["cost"])
    values = np.asarray(cost.values, dtype=float)
    discounted = values @ np.asarray(ds["discount_factor"].values, dtype=float)
    table = pd.DataFrame(values, columns=[_header(str(y), units) for y in plan_years(ds)])
    table.insert(0, "component", [str(c) for c in ds["component"].values])
    table[_header("discounted", units_of(ds["npv_cny"]))] = discounted
    total = ["total", *values.sum(axis=0), float(discounted.sum())]
    return pd.concat([table, pd.DataFrame([total], columns=table.columns)], ignore_index=True)


def _has_cash(ds: xr.Dataset) -> bool:
    return "capital_spent_cny" in ds or "cash_flow_cny" in ds


def cash_table(ds: xr.Dataset) -> pd.DataFrame | None:
    """Capital spent per asset and the cash flow, one row per year (None when the Dataset has neither)."""
    if not _has_cash(ds):
        return None
    columns: dict[str, np.ndarray] = {}
    if "capital_spent_cny" in ds:
        columns |= _year_columns(ds["capital_spent_cny"], "capital_spent")
    if "cash_flow_cny" in ds:
        columns |= _year_columns(ds["cash_flow_cny"], "cash_flow")
    return _by_year(ds, columns)


def policy_table(ds: xr.Dataset) -> pd.DataFrame:
    """Each policy limit in each year (the report's compliance rows): the value achieved, the limit,
    whether it holds, whether it binds and its shadow price per step (blank: not priced).
    """
    units = {lim.key: units_of(ds[lim.variable]) if lim.variable in ds else "" for lim in LIMITS}
    price_units = units_of(ds["shadow_price"]) if "shadow_price" in ds else "CNY"
    rows = []
    for r in compliance_rows(ds):
        method, _, step = r.shadow_price_method.partition(";")
        rows.append(
            {
                "limit": r.key,
                "description": r.label,
                "year": r.year,
                "sense": "<=" if r.upper else ">=",
                "unit": units[r.key],
                "achieved": r.achieved,
                "limit_value": r.limit,
                "holds": r.ok,
                "binding": r.binding,
                _header("shadow_price", price_units): r.shadow_price,
                "shadow_price_step": step.strip(),
                "pricing_method": method.strip(),
            }
        )
    return pd.DataFrame(rows)


def kpis_table(ds: xr.Dataset) -> pd.DataFrame:
    """The yearly key figures: PUE, shares, compute, emissions by basis, utilisation, unit costs, served shares."""
    columns: dict[str, np.ndarray] = {}
    for name in ("pue", "green_share", "domestic_share", "installed_pflops", "utilisation"):
        columns |= _year_columns(ds[name], name)
    units = units_of(ds["emissions_t"])
    if "basis" in ds["emissions_t"].dims:
        for basis in (str(b) for b in ds["basis"].values):
            columns[_header(f"emissions_{basis}", units)] = emissions(ds, basis)
    else:
        columns[_header("emissions", units)] = emissions(ds)
    for name in ("cost_per_pflop_hour", "cost_per_million_tokens"):
        columns |= _year_columns(ds[name], name)
    tokens, training = served_shares(ds)
    columns[_header("inference_served_share", "1")] = tokens.values
    columns[_header("training_served_share", "1")] = training.values
    columns |= _year_columns(ds["it_energy_mwh"], "it_energy")
    columns |= _year_columns(ds["facility_energy_mwh"], "facility_energy")
    columns |= _year_columns(ds["discount_factor"], "discount_factor")
    return _by_year(ds, columns)


def dispatch_table(ds: xr.Dataset) -> pd.DataFrame:
    """Every representative hour (year x day x hour): the day's weight, the TOU period and the power flows [MW]."""
    series: dict[str, xr.DataArray] = {
        _header("day_weight", units_of(ds["day_weight"])): ds["day_weight"],
        "tou_period": ds["tou_period"],
        _header("grid_price", units_of(ds["grid_price_cny_per_mwh"])): ds["grid_price_cny_per_mwh"],
    }
    for name in ("grid_import", "pv_used", "battery_charge", "battery_discharge"):
        series[_header(name, units_of(ds[f"{name}_mw"]))] = ds[f"{name}_mw"]
    series[_header("battery_soc", units_of(ds["battery_soc_mwh"]))] = ds["battery_soc_mwh"]
    for k in (str(p) for p in ds["ppa"].values):
        series[_header(f"ppa_used {k}", units_of(ds["ppa_mw_used"]))] = ds["ppa_mw_used"].sel(ppa=k)
    for name in ("it_power", "cooling_power"):
        series[_header(name, units_of(ds[f"{name}_mw"]))] = ds[f"{name}_mw"].sum("cooling")
    series[_header("facility_power", units_of(ds["facility_power_mw"]))] = ds["facility_power_mw"]
    hourly = xr.Dataset({k: v.reset_coords(drop=True) for k, v in series.items()})
    table = hourly.to_dataframe(dim_order=["year", "day", "hour"]).reset_index()
    return table[["year", "day", *list(series)[:1], "hour", *list(series)[1:]]]


def export_tables(ds: xr.Dataset, source: str | None = None) -> dict[str, pd.DataFrame]:
    """Every sheet of the export, by name, in workbook order (``cash`` only when the Dataset has it); the
    cluster as a whole (its sites added up).
    """
    ds = cluster_view(ds)
    tables = {
        "about": about_table(ds, source),
        "builds": builds_table(ds),
        "costs": costs_table(ds),
        "cash": cash_table(ds),
        "policy": policy_table(ds),
        "kpis": kpis_table(ds),
        "dispatch": dispatch_table(ds),
    }
    return {name: table for name, table in tables.items() if table is not None}


# ====================================================================== files


def default_output(results: Path | str, fmt: str) -> Path:
    """``reports/<stem>.xlsx``, or the folder ``reports/<stem>-export/`` for CSV."""
    stem = Path(results).stem
    return Path("reports") / (f"{stem}.xlsx" if fmt == "xlsx" else f"{stem}-export")


def csv_text(table: pd.DataFrame, float_format: str | None = None) -> str:
    """A table as CSV text (newline line ends, blank for missing values; numbers in full unless ``float_format``)."""
    return str(table.to_csv(index=False, lineterminator="\n", float_format=float_format))


def _cell(value: object) -> object:
    """A value as openpyxl stores it: plain Python, None for a missing number (NaN is no Excel value)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _write_xlsx(tables: dict[str, pd.DataFrame], path: Path) -> None:
    """One workbook, a sheet per table: bold frozen header row, columns as wide as their header."""
    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for name, table in tables.items():
        sheet = book.create_sheet(name)
        sheet.append([str(c) for c in table.columns])
        for row in table.itertuples(index=False, name=None):
            sheet.append([_cell(v) for v in row])
        for i, header in enumerate(table.columns, start=1):
            sheet.cell(row=1, column=i).font = bold
            least = (26, 80)[i - 1] if name == "about" else 10
            sheet.column_dimensions[get_column_letter(i)].width = max(len(str(header)), least) + 2
        sheet.freeze_panes = "A2" if name == "about" else "B2"
    with atomic_path(path) as tmp:
        book.save(tmp)


def _write_csv_folder(tables: dict[str, pd.DataFrame], path: Path) -> None:
    """A folder with one ``<sheet>.csv`` per table, replacing an earlier export there (and nothing else)."""
    if path.exists() and not path.is_dir():
        raise ExportError(f"{path}: a file, not a folder: the CSV export is a folder of files")
    if path.is_dir():
        ours = {f"{name}.csv" for name in SHEETS}
        foreign = sorted(p.name for p in path.iterdir() if p.name not in ours)
        if foreign:
            raise ExportError(
                f"{path}: a folder with other files in it ({', '.join(foreign[:3])}"
                f"{', ...' if len(foreign) > 3 else ''}); the CSV export replaces the whole folder: give a new one"
            )
    with atomic_folder(path) as tmp:
        for name, table in tables.items():
            (tmp / f"{name}.csv").write_text(csv_text(table), encoding="utf-8")


def write_export(ds: xr.Dataset, path: Path | str, fmt: str = "xlsx", source: str | None = None) -> Path:
    """Write the plan's tables to ``path``: one xlsx workbook, or a folder of CSV files (atomic either way)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r} (one of {', '.join(FORMATS)})")
    path = Path(path)
    tables = export_tables(ds, source)
    if fmt == "xlsx":
        _write_xlsx(tables, path)
    else:
        _write_csv_folder(tables, path)
    return path


# ====================================================================== links in the report


def download_links(ds: xr.Dataset) -> list[tuple[str, str]]:
    """``(file name, data: URI)`` of the build plan and the policy table as CSV, for the plan report.

    A few kB in the page: numbers to 10 significant digits, and the policy table without its
    ``pricing_method`` (the same long text in every row; the report's notes say it once).
    """
    links = []
    tables = (("builds.csv", builds_table(ds)), ("policy.csv", policy_table(ds).drop(columns="pricing_method")))
    for name, table in tables:
        encoded = base64.b64encode(csv_text(table, "%.10g").encode("utf-8")).decode("ascii")
        links.append((name, f"data:text/csv;charset=utf-8;base64,{encoded}"))
    return links
