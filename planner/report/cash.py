"""The cash view of a plan: capital spent by asset class and year, and the cash flow without financing.

The annual cost (``cost``) spreads each build's capex over its years of service as an annuity; a
budget needs the money in the year it leaves: ``capital_spent_cny`` (asset, year) and
``cash_flow_cny`` (year), whose definitions are in :mod:`planner.results.variables`. Pure functions
of the results Dataset, like :mod:`planner.report.tables`, whose rows the template lays out. A
results file written before these variables existed has no cash view (:func:`has_cash`); its
report leaves the cash chart and table out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from planner.report.data import coord_names
from planner.report.format import label, money_scale

__all__ = ["ASSET_LABELS", "CashRow", "asset_label", "capital_spent", "cash_rows", "cash_unit", "has_cash"]

#: How the table and the chart name each asset class of ``capital_spent_cny``.
ASSET_LABELS = {
    "servers": "servers",
    "racks": "racks",
    "halls": "data halls",
    "cooling_plant": "cooling plant",
    "grid": "grid connection",
    "pv": "PV",
    "battery": "battery",
    "generators": "backup gensets",
}


def has_cash(ds: xr.Dataset) -> bool:
    """Whether the plan holds the cash view (results written before it do not)."""
    return "capital_spent_cny" in ds and "cash_flow_cny" in ds and "asset" in ds.coords


def asset_label(asset: str) -> str:
    """An asset class as the report names it."""
    return ASSET_LABELS.get(asset, label(asset))


def capital_spent(ds: xr.Dataset) -> dict[str, np.ndarray]:
    """Capital spent per year [CNY] of each asset class that spends in some year, in the Dataset's order."""
    out: dict[str, np.ndarray] = {}
    for asset in coord_names(ds, "asset"):
        values = ds["capital_spent_cny"].sel(asset=asset).values.astype(float)
        if np.any(np.abs(values) > 1e-6):
            out[asset] = values
    return out


@dataclass(frozen=True)
class CashRow:
    """One line of the capital-spent table: an amount per year [CNY] and its total over the years."""

    label: str
    values: list[float]
    total: float
    kind: str = "asset"  #: "asset" (one class), "total" (capital spent, all classes) or "cash" (the cash flow)


def cash_rows(ds: xr.Dataset) -> list[CashRow]:
    """The capital spent by asset class and year with its totals, then the cash flow (empty without the cash view).

    One row per asset class that spends in some year, each with its total over the years; the
    ``total`` row is the column totals (all classes each year) and its total the plan's whole
    capital spent; the ``cash`` row is ``cash_flow_cny``.
    """
    if not has_cash(ds):
        return []
    rows = [CashRow(asset_label(a), v.tolist(), float(v.sum())) for a, v in capital_spent(ds).items()]
    by_year = ds["capital_spent_cny"].sum("asset").values.astype(float)
    rows.append(CashRow("capital spent", by_year.tolist(), float(by_year.sum()), "total"))
    cash = ds["cash_flow_cny"].values.astype(float)
    rows.append(CashRow("cash flow (all cash out)", cash.tolist(), float(cash.sum()), "cash"))
    return rows


def cash_unit(rows: list[CashRow]) -> tuple[float, str, int]:
    """One unit for the whole capital-spent table: (divisor, label, decimals), e.g. ``(1e6, "M CNY", 1)``.

    Chosen from the largest amount in the table, so that every cell reads in the same unit.
    """
    values = [v for r in rows for v in (*r.values, r.total)]
    scale, unit = money_scale(values)
    return scale, unit, 2 if scale >= 1e9 else 1
