"""Key figures of a plan computed from its Dataset: PUE, green and domestic shares, emissions, served demand.

Defined once here and read by the Dataset builder, the terminal summary and the report, so that
every place that shows a figure shows the same number.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

__all__ = ["add_kpis", "served_shares", "unserved_shares"]


def add_kpis(ds: xr.Dataset, s: Any) -> None:
    """Yearly headline figures from the Dataset's own variables (numpy: a sweep case's results
    are ~0.05 s, and xarray's alignment of ~50 small operations took half of that).
    """
    w = ds["day_weight"].values  # (day,)
    figures = {**_energy_figures(ds, s, w), **_compute_figures(ds, s, w)}
    ds.update(
        {
            name: xr.DataArray(values, dims=("year",), attrs={"units": units, "long_name": long_name})
            for name, (values, units, long_name) in figures.items()
        }
    )
    ds["emissions_t"] = xr.DataArray(
        _emissions(ds, s, w),
        dims=("basis", "year"),
        attrs={
            "units": "t",
            "long_name": "emissions: location-based (grid and wheeled energy at the grid's factor) and "
            "market-based (contracts at their own factor, less certificates at the residual factor)",
            "priced_basis": s.policy.emissions_basis,
        },
    )


def _energy(power: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(..., year, day, hour) [MW] -> (..., year) [MWh], each day by its weight ``w``."""
    return np.einsum("...ydh,d->...y", power, w)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, NaN where den is not positive."""
    return np.divide(num, den, out=np.full(np.shape(den), np.nan), where=den > 0)


def _energy_figures(ds: xr.Dataset, s: Any, w: np.ndarray) -> dict[str, tuple[np.ndarray, str, str]]:
    """IT and facility energy, PUE and green share by year: (values, units, long name) by name."""
    ppas = [s.power.ppa[k] for k in ds.ppa.values]
    it_mwh = _energy(ds["it_power_mw"].values, w).sum(axis=0)
    fac_mwh = _energy(ds["facility_power_mw"].values, w)
    grey_ppa = np.array([not k.green for k in ppas], dtype=bool)
    grey_mwh = _energy(ds["grid_import_mw"].values, w) + _energy(ds["ppa_mw_used"].values[grey_ppa], w).sum(axis=0)
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
    by_type = ds["servers"].values.sum(axis=1) * pflops[:, None]  # (accelerator, year) [PFLOPS]
    installed = by_type.sum(axis=0)

    training, inference = ds["training_servers"].values, ds["inference_servers"].values
    avail = np.array([a.availability for a in accs], dtype=float)
    tokens = np.array([a.tokens_per_s for a in accs], dtype=float)
    busy_by_type = _energy(training + inference, w).sum(axis=1)  # (accelerator, year) [server-h]
    busy = busy_by_type.sum(axis=0)
    usable = np.einsum("acy,a->y", ds["servers"].values, avail) * 365 * 24
    flop_h = pflops @ busy_by_type
    inference_by_type = _energy(inference, w).sum(axis=1)
    tokens_m = tokens @ inference_by_type * 3600 / 1e6
    total = ds["cost"].values.sum(axis=0)
    return {
        "installed_pflops": (installed, "PFLOPS", "installed dense BF16 compute"),
        "domestic_share": (_ratio(by_type[domestic].sum(axis=0), installed), "1", "domestic share of installed PFLOPS"),
        "utilisation": (_ratio(busy, usable), "1", "busy share of available server-hours"),
        "cost_per_pflop_hour": (
            _ratio(total, flop_h),
            "CNY/PFLOP/h",
            "annual cost per PFLOP-hour of busy installed compute",
        ),
        "cost_per_million_tokens": (
            _ratio(total * _ratio(inference_by_type.sum(axis=0), busy), tokens_m),
            "CNY/Mtoken",
            "annual cost, shared by busy server-hours, per million tokens served",
        ),
    }


def _emissions(ds: xr.Dataset, s: Any, w: np.ndarray) -> np.ndarray:
    """(basis, year) [t]: location-based, then market-based emissions."""
    ppas = [s.power.ppa[k] for k in ds.ppa.values]
    grid = ds["grid_import_mw"].values
    ef = ds["grid_emission_t_per_mwh"].values  # (day, hour)
    ppa_ef = np.array([k.emission_t_per_mwh for k in ppas], dtype=float)
    wheeled = np.array([k.delivery == "grid" for k in ppas], dtype=bool)
    used = ds["ppa_mw_used"].values
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
