"""The cluster as a whole: a plan's Dataset with its sites added up (:func:`cluster_view`).

A plan's Dataset carries a ``site`` dim on every build and hourly variable (DESIGN.md §4, §8),
also when the scenario has one site (``main``, a ``site`` dim of length 1). The views of the
whole cluster (the report, the terminal summary, comparisons, sweeps) read the cluster's
totals: every such variable summed over its sites, with its attributes. A Dataset without a
``site`` dim (a results file written before sites) is returned as it is.
"""

from __future__ import annotations

from collections.abc import Hashable

import xarray as xr

__all__ = ["SITE_INPUTS", "cluster_view", "has_sites"]

#: The sites' own inputs (limits, climate offsets, the regions they may serve): not added up, dropped
#: from the cluster view.
SITE_INPUTS = (
    "site_max_halls",
    "site_max_grid_blocks",
    "site_pv_max_mw",
    "site_pv_yield",
    "site_pv_capacity_factor",
    "site_dry_bulb_c",
    "site_wet_bulb_c",
    "site_dry_bulb_offset_k",
    "site_wet_bulb_offset_k",
    "region_site",
)

#: Coefficients by site (not amounts): the cluster view takes their mean over the sites.
_MEANS = ("cooling_coefficient",)

#: Prices by site: the cluster view takes their mean weighted by the amount bought at each site
#: (the plain mean where the cluster buys none).
_WEIGHTED = {"grid_price_cny_per_mwh": "grid_import_mw"}


def has_sites(ds: xr.Dataset) -> bool:
    """Whether the Dataset has a ``site`` dim (every plan made since sites were modelled)."""
    return "site" in ds.dims


def cluster_view(ds: xr.Dataset) -> xr.Dataset:
    """The Dataset with every variable by site added up over the sites (the cluster's amounts).

    Builds, stocks and hourly power are amounts: their sum over the sites is the cluster's (NaN
    where every site's is NaN: a sweep case without a plan). The cooling coefficient is the mean
    over the sites, the grid price their mean weighted by each site's grid import; the sites' own
    inputs (:data:`SITE_INPUTS`) are dropped. Attributes of the
    Dataset and of each variable are kept.
    """
    if not has_sites(ds):
        return ds
    out = ds.drop_vars([v for v in SITE_INPUTS if v in ds.data_vars])
    summed: dict[Hashable, xr.DataArray] = {}
    for name, var in out.data_vars.items():
        if "site" not in var.dims:
            continue
        if name in _MEANS:
            summed[name] = var.mean("site", keep_attrs=True)
        elif name in _WEIGHTED and _WEIGHTED[name] in ds.data_vars:
            amount = ds[_WEIGHTED[name]]
            total = amount.sum("site")
            weighted = (var * amount).sum("site") / total.where(total > 0)
            summed[name] = weighted.fillna(var.mean("site")).assign_attrs(var.attrs)
        elif var.dtype.kind == "f":  # NaN stays NaN (a sweep case without a plan)
            summed[name] = var.sum("site", keep_attrs=True, min_count=1)
        else:
            summed[name] = var.sum("site", keep_attrs=True).astype(var.dtype)
    out = out.drop_dims("site").assign(summed)
    out.attrs = dict(ds.attrs)
    return out
