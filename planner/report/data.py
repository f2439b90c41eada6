"""Read plain values out of a plan's results Dataset: years, names, units, the stored scenario, emissions, shortfall.

Nothing here formats or draws: the figures (:mod:`planner.report.figures`), the tables
(:mod:`planner.report.tables`) and the pages share these readers so that they agree on every value.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import xarray as xr
import yaml

from planner.results.kpis import unserved_shares

__all__ = [
    "coord_names",
    "domestic_flags",
    "emissions",
    "grid_block_mw",
    "has_shortfall",
    "increase",
    "plan_years",
    "scenario_data",
    "shortfall_shares",
    "units_of",
    "worst_shortfall",
]


def plan_years(ds: xr.Dataset) -> list[int]:
    """The planning years, as ints."""
    return [int(y) for y in ds["year"].values]


def coord_names(ds: xr.Dataset, dim: str) -> list[str]:
    """The labels along ``dim`` (empty when the Dataset has no such coordinate)."""
    return [str(v) for v in ds[dim].values] if dim in ds.coords else []


def units_of(da: xr.DataArray) -> str:
    """The variable's ``attrs["units"]`` ("" when unset)."""
    return str(da.attrs.get("units", ""))


@lru_cache(maxsize=8)
def _parse_yaml(text: str) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(text, Loader=loader) or {}  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def scenario_data(ds: xr.Dataset) -> dict[str, Any]:
    """The resolved scenario stored in ``attrs["scenario_yaml"]`` (empty if missing or unreadable; do not modify)."""
    return _parse_yaml(str(ds.attrs.get("scenario_yaml", "")))


def domestic_flags(ds: xr.Dataset) -> dict[str, bool | None]:
    """Whether each server type is domestic (``accelerator_domestic``, else the stored scenario; None: unknown)."""
    if "accelerator_domestic" in ds:
        return {str(a): bool(v) for a, v in zip(ds.accelerator.values, ds["accelerator_domestic"].values, strict=True)}
    accs = scenario_data(ds).get("accelerators") or {}
    out: dict[str, bool | None] = {}
    for a in coord_names(ds, "accelerator"):
        spec = accs.get(a) if isinstance(accs, dict) else None
        out[a] = bool(spec.get("domestic")) if isinstance(spec, dict) and "domestic" in spec else None
    return out


def emissions(ds: xr.Dataset, basis: str | None = None) -> np.ndarray:
    """Emissions per year [t] of one basis (``location`` / ``market``; default: the one the carbon
    price and cap apply to, as the results record it).
    """
    e = ds["emissions_t"]
    if "basis" not in e.dims:
        return np.asarray(e.values, dtype=float)
    basis = basis or str(e.attrs.get("priced_basis", "location"))
    return np.asarray(e.sel(basis=basis).values, dtype=float)


def increase(stock: np.ndarray) -> np.ndarray:
    """Year-on-year increase of a capacity in service (0 where it falls)."""
    return np.diff(np.asarray(stock, dtype=float), prepend=0.0).clip(min=0)


def grid_block_mw(ds: xr.Dataset) -> np.ndarray:
    """MW of one grid block, per year (NaN in years without a block)."""
    blocks = ds["grid_blocks"].values
    return ds["grid_mw"].values / np.where(blocks > 0, blocks, np.nan)


def shortfall_shares(ds: xr.Dataset) -> dict[str, np.ndarray]:
    """Unmet share of inference tokens, training work and inference reserve, per year (0 without demand)."""
    tokens, training = unserved_shares(ds)
    out = {"inference tokens": tokens.fillna(0).values, "training work": training.fillna(0).values}
    if "reserve_unserved_tokens_per_s" in ds:
        peak = ds["inference_demand_tokens_per_s"].max(("day", "hour"))
        out["inference reserve"] = (ds["reserve_unserved_tokens_per_s"] / peak.where(peak > 0)).fillna(0).values
    return out


def has_shortfall(ds: xr.Dataset, tol: float = 1e-6) -> bool:
    """Whether any demand is unmet in any year."""
    return any(float(np.nanmax(v)) > tol for v in shortfall_shares(ds).values() if np.size(v))


def worst_shortfall(ds: xr.Dataset) -> tuple[str, float, int] | None:
    """The largest unmet share of any demand: (what, share, year); None for a plan without years."""
    shares = shortfall_shares(ds)
    name = max(shares, key=lambda k: float(np.nanmax(shares[k])) if np.size(shares[k]) else 0.0)
    values = shares[name]
    if not np.size(values):
        return None
    return name, float(np.nanmax(values)), int(ds["year"].values[int(np.nanargmax(values))])
