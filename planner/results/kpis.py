"""Key figures of a plan computed from its Dataset: PUE, green and domestic shares, emissions, served demand,
and which policy limits bind (:func:`binding`, :func:`headroom`).

Defined once here and read by the Dataset builder, the terminal summary and the report, so that
every place that shows a figure shows the same number.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

__all__ = [
    "BINDING_RTOL",
    "LIMIT_KPIS",
    "PRICE_ATOL_CNY",
    "add_kpis",
    "binding",
    "headroom",
    "limit_achieved",
    "limit_bounds",
    "served_shares",
    "unserved_shares",
]


def add_kpis(ds: xr.Dataset, s: Any) -> None:
    """Yearly headline figures from the Dataset's own variables (numpy: a sweep case's results
    are ~0.05 s, and xarray's alignment of ~50 small operations took half of that).
    """
    w = ds["day_weight"].values  # (day,)
    figures = {**_energy_figures(ds, s, w), **_compute_figures(ds, s, w), **_network_figures(ds, w)}
    # as Variables (no coordinates of their own to align: ~10 ms less a sweep case than DataArrays), in
    # one update (each merges and copies the whole Dataset: ~5 ms)
    variables = {
        name: xr.Variable(("year",), values, attrs={"units": units, "long_name": long_name})
        for name, (values, units, long_name) in figures.items()
    }
    variables["emissions_t"] = xr.Variable(
        ("basis", "year"),
        _emissions(ds, s, w),
        attrs={
            "units": "t",
            "long_name": "emissions: location-based (grid and wheeled energy at the grid's factor) and "
            "market-based (contracts at their own factor, less certificates at the residual factor)",
            "priced_basis": s.policy.emissions_basis,
        },
    )
    ds.update(variables)


def _total(ds: xr.Dataset, name: str) -> np.ndarray:
    """A variable's values summed over the sites (the cluster's), as an array without the ``site`` dim."""
    values = ds[name]
    return values.values.sum(axis=values.dims.index("site")) if "site" in values.dims else values.values


def _energy(power: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(..., year, day, hour) [MW] -> (..., year) [MWh], each day by its weight ``w``."""
    return np.einsum("...ydh,d->...y", power, w)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, NaN where den is not positive."""
    return np.divide(num, den, out=np.full(np.shape(den), np.nan), where=den > 0)


def _energy_figures(ds: xr.Dataset, s: Any, w: np.ndarray) -> dict[str, tuple[np.ndarray, str, str]]:
    """IT and facility energy, PUE and green share by year: (values, units, long name) by name."""
    ppas = [s.power.ppa[k] for k in ds.ppa.values]
    it_mwh = _energy(_total(ds, "it_power_mw"), w).sum(axis=0)
    fac_mwh = _energy(_total(ds, "facility_power_mw"), w)
    grey_ppa = np.array([not k.green for k in ppas], dtype=bool)
    grey_mwh = _energy(_total(ds, "grid_import_mw"), w) + _energy(_total(ds, "ppa_mw_used")[grey_ppa], w).sum(axis=0)
    certificates = ds["certificates_mwh"].values
    return {
        "it_energy_mwh": (it_mwh, "MWh", "IT energy"),
        "facility_energy_mwh": (fac_mwh, "MWh", "facility energy"),
        "pue": (_ratio(fac_mwh, it_mwh), "1", "annual power usage effectiveness"),
        "green_share": (
            _ratio(fac_mwh - grey_mwh + certificates, fac_mwh),
            "1",
            "green share of facility energy: (facility - grid - non-green contracts + certificates) / facility",
        ),
    }


def _compute_figures(ds: xr.Dataset, s: Any, w: np.ndarray) -> dict[str, tuple[np.ndarray, str, str]]:
    """Installed compute, its domestic share, its use and its cost by year: (values, units, long name) by name."""
    accs = [s.accelerators[a] for a in ds.accelerator.values]
    pflops = np.array([a.pflops_per_server for a in accs], dtype=float)
    domestic = np.array([a.domestic for a in accs], dtype=bool)
    servers = _total(ds, "servers")  # (accelerator, cooling, year)
    by_type = servers.sum(axis=1) * pflops[:, None]  # (accelerator, year) [PFLOPS]
    installed = by_type.sum(axis=0)

    training, inference = _total(ds, "training_servers"), _total(ds, "inference_servers")
    avail = np.array([a.availability for a in accs], dtype=float)
    tokens = np.array([a.tokens_per_s for a in accs], dtype=float)
    busy_by_type = _energy(training + inference, w).sum(axis=1)  # (accelerator, year) [server-h]
    # sold servers are busy (the buyer's) every hour of the year
    busy_by_type = busy_by_type + _total(ds, "servers_sold").sum(axis=1) * float(w.sum()) * 24
    busy = busy_by_type.sum(axis=0)
    usable = np.einsum("acy,a->y", servers, avail) * 365 * 24
    flop_h = pflops @ busy_by_type
    inference_by_type = _energy(inference, w).sum(axis=1)
    tokens_m = tokens @ inference_by_type * 3600 / 1e6
    total = _own_compute_cost(ds)
    return {
        "installed_pflops": (installed, "PFLOPS", "installed dense BF16 compute"),
        "domestic_share": (_ratio(by_type[domestic].sum(axis=0), installed), "1", "domestic share of installed PFLOPS"),
        "utilisation": (_ratio(busy, usable), "1", "busy share of available server-hours"),
        "cost_per_pflop_hour": (
            _ratio(total, flop_h),
            "CNY/PFLOP/h",
            "annual cost of the cluster's own compute per PFLOP-hour of its busy installed compute"
            " (hub leases and sales excluded; servers sold to hubs count as busy)",
        ),
        "cost_per_million_tokens": (
            _ratio(total * _ratio(inference_by_type.sum(axis=0), busy), tokens_m),
            "CNY/Mtoken",
            "annual cost of the cluster's own compute, shared by busy server-hours, per million tokens it served",
        ),
    }


#: Cost components that are not the cost of the cluster's own compute: compute leased from hubs (its
#: PFLOP-hours are the hub's, not counted below) and the revenue of servers sold to them (whose cost
#: of ownership and power stays in the total, and whose hours count as busy).
NETWORK_COMPONENTS = ("network_lease", "network_sale")


def _own_compute_cost(ds: xr.Dataset) -> np.ndarray:
    """(year,) [CNY/year]: the annual cost less the hub leases' cost and plus the hub sales' revenue."""
    cost = ds["cost"]
    own = [c not in NETWORK_COMPONENTS for c in cost["component"].values.tolist()]
    return cost.values[np.array(own, dtype=bool)].sum(axis=0)


def _network_figures(ds: xr.Dataset, w: np.ndarray) -> dict[str, tuple[np.ndarray, str, str]]:
    """What leasing compute from the hubs costs and what selling to them earns, by year [CNY/year]:
    PFLOPS held for the year x price x the year's hours (sum_d W_d x 24).
    """
    hours = float(w.sum()) * 24
    lease = np.nan_to_num(ds["hub_lease_price_cny_per_pflops_hour"].values) * ds["lease_pflops"].values
    sale = np.nan_to_num(ds["hub_sale_price_cny_per_pflops_hour"].values) * ds["sold_pflops"].values
    return {
        "lease_cost_cny": (lease.sum(axis=0) * hours, "CNY/year", "cost of compute leased from the hubs"),
        "sale_revenue_cny": (sale.sum(axis=0) * hours, "CNY/year", "revenue of compute sold to the hubs"),
    }


def _emissions(ds: xr.Dataset, s: Any, w: np.ndarray) -> np.ndarray:
    """(basis, year) [t]: location-based, then market-based emissions."""
    ppas = [s.power.ppa[k] for k in ds.ppa.values]
    grid = _total(ds, "grid_import_mw")
    ef = ds["grid_emission_t_per_mwh"].values  # (day, hour)
    ppa_ef = np.array([k.emission_t_per_mwh for k in ppas], dtype=float)
    wheeled = np.array([k.delivery == "grid" for k in ppas], dtype=bool)
    used = _total(ds, "ppa_mw_used")
    location = _energy((grid + used[wheeled].sum(axis=0)) * ef, w) + np.einsum(
        "p,py->y", ppa_ef[~wheeled], _energy(used[~wheeled], w)
    )
    residual = s.power.green_certificates.residual_emission_t_per_mwh
    certificates = ds["certificates_mwh"].values
    market = np.clip(
        _energy(grid * ef, w) + np.einsum("p,py->y", ppa_ef, _energy(used, w)) - certificates * residual, 0.0, None
    )
    return np.stack([location, market])


def unserved_shares(ds: xr.Dataset) -> tuple[xr.DataArray, xr.DataArray]:
    """Per year: share of inference tokens not served and of training work not delivered [-] (NaN without demand)."""
    w = ds["day_weight"]
    demand = (ds["inference_demand_tokens_per_s"] * w).sum(("day", "hour"))
    tokens = (ds["inference_unserved"] * w).sum(("day", "hour")) / demand.where(demand > 0)
    training = ds["training_unserved_flop"] / ds["training_demand_flop"].where(ds["training_demand_flop"] > 0)
    return tokens, training


def served_shares(ds: xr.Dataset) -> tuple[xr.DataArray, xr.DataArray]:
    """Per year: share of inference tokens served and of training work delivered [-] (NaN without demand)."""
    tokens, training = unserved_shares(ds)
    return 1 - tokens, 1 - training


# ====================================================================== which policy limits bind

#: Each policy limit (a name of the ``limit`` coordinate, and the Dataset variable holding its value
#: per year): the figure it bounds, the factor from that figure's unit to the limit's, and whether
#: the limit is a cap (achieved <= limit) or a minimum (achieved >= limit).
LIMIT_KPIS: dict[str, tuple[str, float, bool]] = {
    "pue_max": ("pue", 1.0, True),
    "green_share_min": ("green_share", 1.0, False),
    "domestic_compute_share_min": ("domestic_share", 1.0, False),
    "installed_eflops_min": ("installed_pflops", 1e-3, False),
    "carbon_cap_t": ("emissions_t", 1.0, True),  # the basis the cap applies to (``priced_basis``)
}

#: A limit is at its bound when the plan is within ``BINDING_RTOL * max(1, |limit|)`` of it, in the
#: limit's unit: 1e-6 of a share, of a PUE of 1, of an EFLOPS, of a tonne below 1 t; relative above.
BINDING_RTOL = 1e-6

#: A shadow price [CNY per step] further from zero than this is nonzero (the pricing LP's duals
#: below 1e-9 MCNY are written as 0 already).
PRICE_ATOL_CNY = 1e-3

#: Names an older results file may give a limit in the ``limit`` coordinate.
_ALIASES = {"domestic_compute_share_min": "domestic_share_min"}


def _by_limit(arrays: dict[str, xr.DataArray], long_name: str) -> xr.DataArray:
    """One (limit, ...) DataArray of per-limit arrays, in the order of :data:`LIMIT_KPIS`."""
    out = xr.concat(
        [arrays[k].astype(float).drop_vars("limit", errors="ignore") for k in LIMIT_KPIS],
        dim="limit",
        coords="minimal",
        compat="override",
        join="override",
    ).assign_coords(limit=list(LIMIT_KPIS))
    out.attrs = {"units": "the limit's own", "long_name": long_name}
    return out


def _is_cap() -> xr.DataArray:
    """(limit): True for a cap, False for a minimum."""
    return xr.DataArray([v[2] for v in LIMIT_KPIS.values()], dims="limit", coords={"limit": list(LIMIT_KPIS)})


def limit_bounds(ds: xr.Dataset) -> xr.DataArray:
    """Each policy limit per year, in its own unit: (limit, year), NaN where it is not set."""
    nan = xr.full_like(ds["pue"], np.nan, dtype=float)
    return _by_limit({k: ds[k] if k in ds else nan for k in LIMIT_KPIS}, "policy limit (NaN: not set)")


def limit_achieved(ds: xr.Dataset) -> xr.DataArray:
    """The figure each policy limit bounds, per year, in the limit's unit: (limit, year).

    PUE, green share, domestic share, installed compute [EFLOPS] and the emissions of the basis
    the carbon cap applies to [t].
    """
    out: dict[str, xr.DataArray] = {}
    for key, (name, factor, _) in LIMIT_KPIS.items():
        value = ds[name]
        if "basis" in value.dims:
            value = value.sel(basis=str(value.attrs.get("priced_basis", "location")), drop=True)
        out[key] = value * factor
    return _by_limit(out, "the figure each policy limit bounds")


def headroom(ds: xr.Dataset) -> xr.DataArray:
    """How far the plan is inside each policy limit, per year, in the limit's unit: (limit, year).

    ``limit - achieved`` for a cap, ``achieved - limit`` for a minimum: positive with room to
    spare, about 0 at the limit, negative when the limit is missed; NaN where the limit is not set.
    """
    gap = limit_bounds(ds) - limit_achieved(ds)
    out = xr.where(_is_cap(), gap, -gap)
    out.attrs = {"units": "the limit's own", "long_name": "headroom: how far inside each limit the plan is"}
    return out.rename("headroom")


def _shadow_prices(ds: xr.Dataset) -> xr.DataArray:
    """The shadow price [CNY per step] of each limit per year: (limit, year), NaN where not priced."""
    names = [str(v) for v in ds["limit"].values] if "shadow_price" in ds and "limit" in ds.coords else []
    nan = xr.full_like(ds["pue"], np.nan, dtype=float)
    arrays = {}
    for key in LIMIT_KPIS:
        name = next((n for n in (key, _ALIASES.get(key)) if n in names), None)
        arrays[key] = ds["shadow_price"].sel(limit=name, drop=True) if name is not None else nan
    return _by_limit(arrays, "shadow price [CNY per step]")


def binding(ds: xr.Dataset) -> xr.DataArray:
    """Whether each policy limit binds the plan, per year: (limit, year) of bool.

    A limit binds in a year when it is set there and either

    * the plan sits at it: ``|headroom| <= BINDING_RTOL * max(1, |limit|)`` (:func:`headroom`,
      in the limit's unit), or
    * its shadow price (``shadow_price``, the cost of one tightening step) is nonzero:
      ``|price| > PRICE_ATOL_CNY``.

    A minimum of 0 or less never binds (there is nothing to relax), and a limit the plan misses
    by more than that tolerance is missed, not binding. Read from the Dataset alone: the limits
    (``pue_max``, ``green_share_min``, ``domestic_compute_share_min``, ``installed_eflops_min``,
    ``carbon_cap_t``), the figures they bound and the shadow prices.
    """
    bounds = limit_bounds(ds)
    room = headroom(ds)
    tol = BINDING_RTOL * np.maximum(1.0, abs(bounds))
    vacuous = ~_is_cap() & (bounds <= 0)
    priced = abs(_shadow_prices(ds)) > PRICE_ATOL_CNY
    out = bounds.notnull() & ~vacuous & (room >= -tol) & ((room <= tol) | priced)
    out.attrs = {"units": "1", "long_name": "the policy limit binds (kpis.binding)"}
    return out.rename("binding")
