"""What each site (start area) builds and runs: the figures of a plan's sites, by site and year.

The rest of the report shows the cluster as a whole (:func:`planner.results.sites.cluster_view`);
this module reads the plan's Dataset with its ``site`` dim. A plan on one site has no site view
(:func:`has_site_view`): its cluster view is the site.

Per site and year (:func:`site_figures`): compute in service [EFLOPS], halls in service against the
site's land [halls], grid blocks against its limit [blocks], peak import through its connection
against the connection's N-k capacity [MW], the IT energy [GWh] and PUE (facility energy / IT
energy over the year, weighted by the days each representative day stands for [-]), cooling plant
units, gensets, PV [MWp] and battery [MWh].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from planner.report.data import scenario_data
from planner.report.format import fmt_num

__all__ = [
    "SITE_COLUMNS",
    "HubYear",
    "SiteYear",
    "has_site_view",
    "hub_rows",
    "site_figures",
    "site_rows",
    "site_table",
]


def has_site_view(ds: xr.Dataset) -> bool:
    """Whether the plan has two or more sites (a one-site plan is its cluster view)."""
    return "site" in ds.dims and ds.sizes["site"] > 1


@dataclass(frozen=True)
class SiteYear:
    """One site's figures for every planning year (arrays over ``year``)."""

    site: str
    eflops: np.ndarray  #: compute in service, dense BF16 peak [EFLOPS]
    servers: np.ndarray  #: servers in service [servers]
    halls: np.ndarray  #: halls in service [halls]
    max_halls: float  #: the site's land [halls] (inf: no limit)
    grid_blocks: np.ndarray  #: grid blocks in service [blocks]
    max_grid_blocks: float  #: the site's limit [blocks] (inf: no limit)
    firm_mw: np.ndarray  #: what the connection carries with its largest blocks out (N-k) [MW]
    peak_import_mw: np.ndarray  #: highest hourly flow through the connection (grid + wheeled PPA) [MW]
    it_gwh: np.ndarray  #: IT energy over the year [GWh]
    facility_gwh: np.ndarray  #: facility energy over the year [GWh]
    pue: np.ndarray  #: facility / IT energy over the year [-] (NaN: no IT energy)
    plant_units: np.ndarray  #: cooling plant units in service, all technologies [units]
    gensets: np.ndarray  #: backup gensets in service [units]
    pv_mw: np.ndarray  #: PV in service [MWp]
    battery_mwh: np.ndarray  #: battery energy in service [MWh]


#: Below this a figure is the solver's round-off, shown as 0 (in the figure's own unit).
_ROUND_OFF = 1e-6


def _clean(values: object) -> np.ndarray:
    """The values as floats, the solver's round-off (|v| < 1e-6) as 0."""
    a = np.asarray(values, dtype=float)
    return np.where(np.abs(a) < _ROUND_OFF, 0.0, a)


def _annual_gwh(hourly: xr.DataArray, weight: xr.DataArray) -> np.ndarray:
    """sum_(d,h) W_d * P[d,h] / 1000 for each year [GWh] of an hourly power [MW]."""
    return _clean(np.asarray((hourly * weight).sum(["day", "hour"]).values, dtype=float) / 1000.0)


def _firm_mw(ds: xr.Dataset, site: str, redundancy: float) -> np.ndarray:
    """The connection's capacity with ``redundancy`` blocks out while the site has any [MW]."""
    blocks = ds["grid_blocks"].sel(site=site).values.astype(float)
    mw = ds["grid_mw"].sel(site=site).values.astype(float)
    block = np.divide(mw, blocks, out=np.zeros_like(mw), where=blocks > 0)
    return np.clip((blocks - np.where(blocks > 0, redundancy, 0.0)) * block, 0.0, None)


def site_rows(ds: xr.Dataset) -> list[SiteYear]:
    """Every site's figures by year, in the Dataset's site order."""
    weight = ds["day_weight"]
    pflops = ds["pflops_per_server"]
    power = scenario_data(ds).get("power", {})
    redundancy = float(power.get("grid", {}).get("redundancy", 0))
    # PPA energy wheeled over the public grid enters through the site's connection blocks
    wheeled = [k for k, c in (power.get("ppa") or {}).items() if c.get("delivery", "grid") == "grid"]
    rows = []
    for site in (str(s) for s in ds["site"].values):
        at = ds.sel(site=site)
        servers = at["servers"].sum("cooling")
        it = at["it_power_mw"].sum("cooling")
        it_gwh = _annual_gwh(it, weight)
        facility_gwh = _annual_gwh(at["facility_power_mw"], weight)
        flow = at["grid_import_mw"]
        if wheeled:
            flow = flow + at["ppa_mw_used"].sel(ppa=wheeled).sum("ppa")
        rows.append(
            SiteYear(
                site=site,
                eflops=np.asarray((servers * pflops).sum("accelerator").values, dtype=float) / 1000.0,
                servers=np.asarray(servers.sum("accelerator").values, dtype=float),
                halls=np.asarray(at["halls"].values, dtype=float),
                max_halls=float(at["site_max_halls"]) if "site_max_halls" in at else float("inf"),
                grid_blocks=np.asarray(at["grid_blocks"].values, dtype=float),
                max_grid_blocks=float(at["site_max_grid_blocks"]) if "site_max_grid_blocks" in at else float("inf"),
                firm_mw=_firm_mw(ds, site, redundancy),
                peak_import_mw=_clean(flow.max(["day", "hour"]).values),
                it_gwh=it_gwh,
                facility_gwh=facility_gwh,
                pue=np.divide(facility_gwh, it_gwh, out=np.full_like(it_gwh, np.nan), where=it_gwh > 0),
                plant_units=np.asarray(at["cooling_units"].sum("cooling").values, dtype=float),
                gensets=np.asarray(at["generator_units"].values, dtype=float),
                pv_mw=_clean(at["pv_mw"].values),
                battery_mwh=_clean(at["battery_mwh"].values),
            )
        )
    return rows


@dataclass(frozen=True)
class HubYear:
    """What flows between the cluster and one other hub node, for every planning year (arrays over ``year``)."""

    hub: str
    leased_pflops: np.ndarray  #: compute leased from the hub for the year [PFLOPS]
    sold_pflops: np.ndarray  #: compute sold to the hub for the year [PFLOPS]


def hub_rows(ds: xr.Dataset) -> list[HubYear]:
    """Every hub's leases and sales by year, in the Dataset's hub order (none without hubs)."""
    if "hub" not in ds.dims or not ds.sizes["hub"]:
        return []
    return [
        HubYear(
            hub=str(hub),
            leased_pflops=_clean(ds["lease_pflops"].sel(hub=hub).values),
            sold_pflops=_clean(ds["sold_pflops"].sel(hub=hub).values),
        )
        for hub in ds["hub"].values
    ]


def site_figures(ds: xr.Dataset) -> list[SiteYear]:
    """:func:`site_rows` of a plan with a site view, else none."""
    return site_rows(ds) if has_site_view(ds) else []


#: The site table's columns: (heading, unit).
SITE_COLUMNS = (
    ("compute", "EFLOPS"),
    ("servers", "servers"),
    ("halls / land", "halls"),
    ("grid blocks / limit", "blocks"),
    ("peak import / N-k capacity", "MW"),
    ("IT energy", "GWh"),
    ("PUE", "-"),
    ("cooling plant", "units"),
    ("gensets", "units"),
    ("PV", "MWp"),
    ("battery", "MWh"),
)


def _of(value: float, limit: float) -> str:
    return f"{fmt_num(value)} / {fmt_num(limit) if np.isfinite(limit) else 'no limit'}"


def site_table(rows: list[SiteYear]) -> dict[str, object] | None:
    """The last planning year's figures of every site, formatted, in :data:`SITE_COLUMNS` order
    (``None`` for a plan without a site view).
    """
    if not rows:
        return None
    body = []
    for r in rows:
        pue = "–" if not np.isfinite(r.pue[-1]) else f"{r.pue[-1]:.3f}"
        body.append(
            {
                "site": r.site,
                "cells": [
                    fmt_num(r.eflops[-1]),
                    fmt_num(r.servers[-1]),
                    _of(r.halls[-1], r.max_halls),
                    _of(r.grid_blocks[-1], r.max_grid_blocks),
                    f"{fmt_num(r.peak_import_mw[-1])} / {fmt_num(r.firm_mw[-1])}",
                    fmt_num(r.it_gwh[-1]),
                    pue,
                    fmt_num(r.plant_units[-1]),
                    fmt_num(r.gensets[-1]),
                    fmt_num(r.pv_mw[-1]),
                    fmt_num(r.battery_mwh[-1]),
                ],
            }
        )
    return {"columns": SITE_COLUMNS, "rows": body}
