"""The energy balance of a plan by year, in GWh: where the facility's energy comes from and where it goes.

Energy is power weighted by the calendar days each representative day stands for:
E[y] = Σ_day,hour P[y,day,hour] × day_weight[day] (MW × days × 1 h = MWh), shown in GWh.

Sources: grid import, each PPA, PV used, battery discharge. Uses: IT power, cooling power,
auxiliary losses, battery charge. The model's supply balance (grid + PPAs + PV + discharge −
charge = facility power, every hour) and facility load (facility = (1 + aux) × IT + cooling)
make the two sides equal each year; the losses are read as facility − IT − cooling, so the
balance closes to the solver's feasibility tolerance (far below the table's rounding).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from planner.report.data import coord_names
from planner.report.format import decimals

__all__ = ["GWH_PER_MWH", "Flow", "annual_gwh", "balance_gap", "energy_flows", "energy_table", "net_flows"]

GWH_PER_MWH = 1e-3


@dataclass(frozen=True)
class Flow:
    """One line of the energy balance: a source or a use, its energy in each year [GWh]."""

    #: ``grid``, ``ppa:<name>``, ``pv``, ``discharge`` | ``it``, ``cooling``, ``aux``, ``charge``
    #: (``battery``: discharge − charge, in :func:`net_flows`)
    key: str
    label: str
    side: str  #: ``source`` or ``use``
    green: bool | None  #: sources: True when the energy counts as green; None for the battery and the uses
    gwh: tuple[float, ...]  #: one value per year of the plan


def annual_gwh(ds: xr.Dataset, power: xr.DataArray) -> np.ndarray:
    """Energy of an hourly power by year [GWh]: Σ_day,hour P × day_weight (other dims summed too)."""
    energy = (power * ds["day_weight"]).sum([d for d in power.dims if d != "year"])
    return np.asarray(energy.transpose("year").values, dtype=float) * GWH_PER_MWH


def _ppa_green(ds: xr.Dataset) -> dict[str, bool]:
    names = coord_names(ds, "ppa")
    if "ppa_green" not in ds:
        return dict.fromkeys(names, False)
    return {k: bool(int(ds["ppa_green"].sel(ppa=k))) for k in names}


def energy_flows(ds: xr.Dataset) -> list[Flow]:
    """Sources then uses, by year [GWh]; grid, IT and cooling always, the others when non-zero in some year."""
    green = _ppa_green(ds)
    it = ds["it_power_mw"].sum("cooling") if "cooling" in ds["it_power_mw"].dims else ds["it_power_mw"]
    cooling = ds["cooling_power_mw"]
    cooling = cooling.sum("cooling") if "cooling" in cooling.dims else cooling
    candidates: list[tuple[str, str, str, bool | None, xr.DataArray, bool]] = [
        ("grid", "grid import", "source", False, ds["grid_import_mw"], True),
        *[
            (f"ppa:{k}", f"PPA {k}", "source", green[k], ds["ppa_mw_used"].sel(ppa=k), False)
            for k in coord_names(ds, "ppa")
        ],
        ("pv", "PV", "source", True, ds["pv_used_mw"], False),
        ("discharge", "battery discharge", "source", None, ds["battery_discharge_mw"], False),
        ("it", "IT", "use", None, it, True),
        ("cooling", "cooling", "use", None, cooling, True),
        ("aux", "auxiliary losses", "use", None, ds["facility_power_mw"] - it - cooling, False),
        ("charge", "battery charge", "use", None, ds["battery_charge_mw"], False),
    ]
    out = []
    for key, label, side, is_green, power, always in candidates:
        gwh = annual_gwh(ds, power)
        if always or np.any(np.abs(gwh) > 1e-9):
            out.append(Flow(key, label, side, is_green, tuple(float(v) for v in gwh)))
    return out


def net_flows(ds: xr.Dataset) -> list[Flow]:
    """:func:`energy_flows` with the battery as one net source, ``battery`` = discharge − charge, by year [GWh].

    The sources (grid, PPAs, PV, the battery's net, negative for its losses) then add up to the
    facility's energy, and so do the uses (IT, cooling, auxiliary losses). The battery line is
    there when it charged or discharged in some year.
    """
    flows = energy_flows(ds)
    by_key = {f.key: f for f in flows}
    out = [f for f in flows if f.side == "source" and f.key != "discharge"]
    if "discharge" in by_key or "charge" in by_key:
        zero = (0.0,) * len(flows[0].gwh)
        net = np.subtract(
            by_key["discharge"].gwh if "discharge" in by_key else zero,
            by_key["charge"].gwh if "charge" in by_key else zero,
        )
        out.append(Flow("battery", "battery (net: discharge − charge)", "source", None, tuple(float(v) for v in net)))
    return out + [f for f in flows if f.side == "use" and f.key != "charge"]


def balance_gap(flows: list[Flow]) -> np.ndarray:
    """Sources less uses by year [GWh] (zero within the solver's tolerance)."""
    sources = np.sum([f.gwh for f in flows if f.side == "source"], axis=0)
    uses = np.sum([f.gwh for f in flows if f.side == "use"], axis=0)
    return np.asarray(sources - uses, dtype=float)


def energy_table(ds: xr.Dataset) -> dict[str, object]:
    """The energy-balance table for the page: rows of text in one unit (GWh) and the decimals used.

    Each row: ``label``, ``kind`` (``source``, ``use`` or ``total``), ``tag`` (green / grey / ""),
    ``values`` (one string per year). Totals close each side; they agree within rounding.
    """
    flows = energy_flows(ds)
    values = np.array([f.gwh for f in flows], dtype=float)
    digits = decimals(values.ravel(), significant=5, most=3) if values.size else 0

    def fmt(v: float) -> str:
        return f"{v:,.{digits}f}"

    def tag(f: Flow) -> str:
        return "" if f.green is None else ("green" if f.green else "grey")

    rows: list[dict[str, object]] = []
    for side, total_label in (("source", "total sources"), ("use", "total uses")):
        side_flows = [f for f in flows if f.side == side]
        rows += [{"label": f.label, "kind": side, "tag": tag(f), "values": [fmt(v) for v in f.gwh]} for f in side_flows]
        total = np.sum([f.gwh for f in side_flows], axis=0)
        rows.append({"label": total_label, "kind": "total", "tag": "", "values": [fmt(v) for v in total]})
    gap = float(np.max(np.abs(balance_gap(flows)))) if flows else 0.0
    return {"rows": rows, "decimals": digits, "max_gap_gwh": gap}
