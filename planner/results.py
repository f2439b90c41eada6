"""Solved model -> one ``xarray.Dataset`` (DESIGN.md §4), KPIs, netCDF I/O.

Everything after this module (reports, sweeps, checks) reads only the Dataset. Values are
converted from the model's scaled units (``planner.model.data``) to user units here, and
every variable carries ``units`` and ``long_name``. The ``cost`` variable is built from the
same expressions as the objective, so ``sum(cost * discount_factor) == objective``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pyomo.environ as pyo
import xarray as xr
import yaml

from planner import __version__
from planner.atomic import atomic_path
from planner.model.cooling import effective_kappa
from planner.model.data import MCNY, MTOK, MWH_PER_GWH, ZFLOP_PER_EFLOP, ModelData
from planner.scenario import input_hash, scenario_files
from planner.solve import SolveOutcome
from planner.timeseries import TOU_PERIODS

__all__ = [
    "InputCheck",
    "ResultsFileError",
    "check_inputs",
    "input_files",
    "installed_versions",
    "is_results_file",
    "kpis",
    "read_dataset",
    "record_overrides",
    "to_dataset",
    "write_dataset",
]

EFLOP = 1e18
#: libyaml's emitter where PyYAML has it (the scenario is dumped into every plan's attrs; the
#: pure-Python one takes ~15 ms of a sweep case), else the pure-Python one. Both are safe dumpers.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Values:
    """Values of a solved model's variables and expressions, fast when asked again (sweeps).

    Pyomo evaluates an expression by walking its tree: the 105 annual costs of the default take
    ~50 ms that way, and filling the hourly arrays entry by entry ~30 ms, against a sweep case's
    budget of well under 0.2 s outside the solver. Here each expression is reduced once to its
    linear form (Pyomo's ``LinearRepnVisitor``, as the compiler does) and reduced again only when
    a parameter in it has a new value; a variable's entries are read in one pass into positions
    found once. One instance lives on each model (:func:`_values_of`), so a model re-used for
    many cases pays the reductions once.
    """

    def __init__(self) -> None:
        from pyomo.repn.linear import LinearRepnVisitor

        self._visitor = LinearRepnVisitor({})
        self._forms: dict[int, tuple[list[Any], np.ndarray, float, list[Any], tuple[Any, ...]]] = {}
        self._grids: dict[tuple[str, tuple[int, ...]], tuple[list[Any], np.ndarray]] = {}

    def value(self, expr: Any) -> float:
        """Value of a linear expression (a named Expression, a parameter, a variable)."""
        return float(self.values([expr])[0])

    def values(self, exprs: list[Any]) -> np.ndarray:
        """Values of linear expressions, as one array."""
        from pyomo.core.expr.visitor import identify_mutable_parameters, identify_variables

        out = np.empty(len(exprs))
        for i, expr in enumerate(exprs):
            form = self._forms.get(id(expr))
            state = None if form is None else _state(form[3])
            if form is not None and state != form[4] and not form[0]:
                # no variables (a price): Pyomo's evaluation is cheaper than a new linear form
                form = self._forms[id(expr)] = (form[0], form[1], float(pyo.value(expr)), form[3], state)
            if form is None or state != form[4]:
                repn = self._visitor.walk_expression(expr)
                self._visitor.subexpression_cache.clear()
                if repn.nonlinear is not None:  # not linear: Pyomo evaluates it
                    out[i] = pyo.value(expr)
                    continue
                variables = [self._visitor.var_map[vid] for vid in repn.linear]
                if form is None:  # what the form takes as constants: mutable parameters, fixed variables
                    watched = list(identify_mutable_parameters(expr))
                    watched += [v for v in identify_variables(expr, include_fixed=True) if v.fixed]
                else:  # the same components (a variable fixed since is read as a variable: still right)
                    watched = form[3]
                coefs = np.fromiter(repn.linear.values(), float, count=len(variables))
                state = _state(watched) if state is None else state
                form = self._forms[id(expr)] = (variables, coefs, float(repn.constant), watched, state)
            variables, coefs, constant = form[0], form[1], form[2]
            x = np.fromiter((v.value or 0.0 for v in variables), float, count=len(variables))
            out[i] = constant + float(coefs @ x)
        return out

    def grid(self, var: Any, shape: tuple[int, ...], key: Any) -> np.ndarray:
        """A variable's values as an array of ``shape``; ``key(index)`` is an entry's position."""
        cached = self._grids.get((var.name, shape))
        if cached is None:
            datas = list(var.values())
            positions = (
                np.ravel_multi_index(
                    np.array([key(k) for k in var.keys()], dtype=np.int64).reshape(len(datas), len(shape)).T, shape
                )
                if datas
                else np.zeros(0, dtype=np.int64)
            )
            cached = self._grids[(var.name, shape)] = (datas, positions)
        datas, positions = cached
        out = np.zeros(shape)
        out.flat[positions] = np.fromiter((v.value or 0.0 for v in datas), float, count=len(datas))
        return out


def _state(watched: list[Any]) -> tuple[Any, ...]:
    """Values (and fixed flags) of the parameters and fixed variables a linear form depends on."""
    return tuple((getattr(c, "fixed", True), c.value) for c in watched)


def _values_of(m: pyo.ConcreteModel) -> _Values:
    """The model's :class:`_Values` (made on first use, kept for the model's later cases)."""
    values = getattr(m, "_planner_values", None)
    if values is None:
        values = _Values()
        m._planner_values = values
    return values


def _grid(shape: tuple[int, ...]) -> np.ndarray:
    return np.zeros(shape, dtype=float)


def to_dataset(m: pyo.ConcreteModel, outcome: SolveOutcome, timings: dict[str, float] | None = None) -> xr.Dataset:
    """Build the results Dataset of a solved model.

    Parameters
    ----------
    m : ConcreteModel
        The model, with the plan loaded into its variables (``outcome.has_plan``).
    outcome : SolveOutcome
        What the solver returned.
    timings : dict, optional
        Seconds per pipeline stage (load, time reduction, build, ...) to record.

    Returns
    -------
    xarray.Dataset
    """
    data: ModelData = m.planner_data
    s = data.scenario
    time = data.time
    years, days, hours = list(data.years), list(data.days), list(range(24))
    accs, cools, ppas = list(s.accelerators), list(s.cooling), list(s.power.ppa)
    ny, nd, na, nc = len(years), len(days), len(accs), len(cools)
    yi = {y: i for i, y in enumerate(years)}
    ai = {a: i for i, a in enumerate(accs)}
    ci = {c: i for i, c in enumerate(cools)}
    coords = {
        "year": years,
        "accelerator": accs,
        "cooling": cools,
        "day": days,
        "hour": hours,
        "ppa": np.array(ppas, dtype=str),
        "calendar_month": list(range(1, 13)),
        "tou_period_name": list(TOU_PERIODS),
        "basis": ["location", "market"],
        "component": list(m.COMPONENT),
    }
    # Variables are collected first and made into one Dataset at the end: assigning them one by
    # one costs an alignment and merge each (~0.1 s of a sweep case's ~0.2 s of results).
    ds: dict[str, xr.DataArray] = {}

    def put(name: str, dims: tuple[str, ...], values: Any, units: str, long_name: str) -> None:
        ds[name] = xr.DataArray(np.asarray(values), dims=dims, attrs={"units": units, "long_name": long_name})

    vals = _values_of(m)
    val = vals.value
    # ------------------------------------------------------------------ builds and stocks
    servers = _grid((na, nc, ny))
    for a, c in m.AC:
        servers[ai[a], ci[c], :] = np.round(vals.values([m.servers[a, c, y] for y in years]))
    servers_new = np.round(vals.grid(m.servers_new, (na, nc, ny), lambda k: (ai[k[0]], ci[k[1]], yi[k[2]])))
    put("servers", ("accelerator", "cooling", "year"), servers, "servers", "servers in service")
    put("servers_new", ("accelerator", "cooling", "year"), servers_new, "servers", "new servers bought")
    per_server = np.array([s.accelerators[a].accelerators_per_server for a in accs], dtype=float)
    put(
        "accelerators_installed",
        ("accelerator", "year"),
        servers.sum(axis=1) * per_server[:, None],
        "accelerators",
        "accelerator chips installed",
    )

    def stock(expr: Any, index: list[Any]) -> np.ndarray:
        return vals.values([expr[i] for i in index])

    racks = np.round(np.array([stock(m.racks, [(c, y) for y in years]) for c in cools]).reshape(nc, ny))
    put("racks", ("cooling", "year"), racks, "racks", "racks in service")
    put(
        "racks_new",
        ("cooling", "year"),
        np.array([[round(val(m.racks_new[c, y])) for y in years] for c in cools], dtype=float),
        "racks",
        "new racks",
    )
    put("halls", ("year",), np.round(stock(m.halls, years)), "halls", "data halls in service")
    put("halls_new", ("year",), np.round(stock(m.halls_new, years)), "halls", "new data halls")
    put("grid_blocks", ("year",), np.round(stock(m.grid_blocks, years)), "blocks", "grid connection blocks in service")
    put("grid_blocks_new", ("year",), np.round(stock(m.grid_blocks_new, years)), "blocks", "new grid blocks")
    put(
        "grid_mw",
        ("year",),
        ds["grid_blocks"].values * data.grid_block_mw,
        "MW",
        "grid connection capacity (all blocks, before N-k)",
    )
    put(
        "cooling_units",
        ("cooling", "year"),
        np.array([[round(val(m.cooling_units[c, y])) for y in years] for c in cools], dtype=float),
        "units",
        "cooling plant units in service",
    )
    put(
        "cooling_units_new",
        ("cooling", "year"),
        np.array([[round(val(m.cooling_units_new[c, y])) for y in years] for c in cools], dtype=float),
        "units",
        "new cooling plant units",
    )
    put("generator_units", ("year",), np.round(stock(m.generators, years)), "units", "backup gensets in service")
    put("generators_new", ("year",), np.round(stock(m.generators_new, years)), "units", "new gensets")
    put("pv_mw", ("year",), stock(m.pv_mw, years), "MW", "PV in service (peak)")
    put("battery_mwh", ("year",), stock(m.battery_mwh, years), "MWh", "battery energy capacity")
    put("battery_mw", ("year",), stock(m.battery_mw, years), "MW", "battery power capacity")
    put(
        "ppa_mw",
        ("ppa", "year"),
        np.array([[val(m.ppa_contract[k, y]) for y in years] for k in ppas]).reshape(len(ppas), ny),
        "MW",
        "contracted PPA capacity",
    )
    put("certificates_mwh", ("year",), stock(m.certificates, years) * MWH_PER_GWH, "MWh", "green certificates bought")

    # ------------------------------------------------------------------ hourly operation
    def hourly(var: Any, shape: tuple[int, ...], key: Any) -> np.ndarray:
        return vals.grid(var, shape, key)

    yd = (ny, nd, 24)
    put(
        "it_power_mw",
        ("cooling", "year", "day", "hour"),
        hourly(m.it_power, (nc, *yd), lambda k: (ci[k[0]], yi[k[1]], k[2], k[3])),
        "MW",
        "IT power by cooling technology",
    )
    blended = effective_kappa(s, time.kappa)
    kappa = np.stack([blended[c] for c in cools])
    put(
        "cooling_power_mw",
        ("cooling", "year", "day", "hour"),
        ds["it_power_mw"].values * kappa[:, None, :, :],
        "MW",
        "cooling power by technology",
    )
    # hourly operation on (year, day, hour)
    ydh = ("year", "day", "hour")
    for name, var, units, long_name in (
        ("facility_power_mw", m.facility_power, "MW", "facility power"),
        ("grid_import_mw", m.grid_import, "MW", "grid import"),
        ("pv_used_mw", m.pv_used, "MW", "PV output used"),
        ("battery_charge_mw", m.battery_charge, "MW", "battery charging"),
        ("battery_discharge_mw", m.battery_discharge, "MW", "battery discharging"),
        ("battery_soc_mwh", m.battery_soc, "MWh", "battery state of charge at the end of the hour"),
    ):
        put(name, ydh, hourly(var, yd, lambda k: (yi[k[0]], k[1], k[2])), units, long_name)
    put(
        "ppa_mw_used",
        ("ppa", "year", "day", "hour"),
        hourly(m.ppa_energy, (len(ppas), *yd), lambda k: (ppas.index(k[0]), yi[k[1]], k[2], k[3])),
        "MW",
        "PPA power taken",
    )
    available = (
        np.stack([time.availability[k] for k in ppas])[:, None] * ds["ppa_mw"].values[:, :, None, None]
        if ppas
        else np.zeros((0, *yd))
    )
    put(
        "ppa_mw_not_taken",
        ("ppa", "year", "day", "hour"),
        np.clip(available - ds["ppa_mw_used"].values, 0.0, None),
        "MW",
        "PPA power made available but not taken (paid at take_or_pay of its price)",
    )
    act = (na, nc, *yd)
    put(
        "training_servers",
        ("accelerator", "cooling", "year", "day", "hour"),
        hourly(m.servers_training, act, lambda k: (ai[k[0]], ci[k[1]], yi[k[2]], k[3], k[4])),
        "servers",
        "servers busy training",
    )
    put(
        "inference_servers",
        ("accelerator", "cooling", "year", "day", "hour"),
        hourly(m.servers_inference, act, lambda k: (ai[k[0]], ci[k[1]], yi[k[2]], k[3], k[4])),
        "servers",
        "servers serving inference",
    )
    put(
        "inference_unserved",
        ("year", "day", "hour"),
        hourly(m.inference_unserved, yd, lambda k: (yi[k[0]], k[1], k[2])) * MTOK,
        "tokens/s",
        "inference demand not served",
    )
    put(
        "training_unserved_flop",
        ("year",),
        stock(m.training_unserved, years) / ZFLOP_PER_EFLOP * EFLOP,
        "FLOP",
        "training work not done",
    )
    put(
        "reserve_unserved_tokens_per_s",
        ("year",),
        stock(m.reserve_unserved, years) * MTOK,
        "tokens/s",
        "inference reserve capacity missing",
    )

    # ------------------------------------------------------------------ server types (inputs)
    spec = [s.accelerators[a] for a in accs]
    put(
        "accelerator_domestic",
        ("accelerator",),
        np.array([a.domestic for a in spec], dtype=np.int8),
        "1",
        "1 when the server type's chips are made in China",
    )
    put(
        "pflops_per_server",
        ("accelerator",),
        [a.pflops_per_server for a in spec],
        "PFLOPS",
        "dense BF16 peak of one server",
    )
    put(
        "tokens_per_s_per_server",
        ("accelerator",),
        [a.tokens_per_s for a in spec],
        "tokens/s",
        "inference throughput of one server on the reference model",
    )
    put("server_full_kw", ("accelerator",), [a.full_kw for a in spec], "kW", "server power at full load")
    put("server_idle_kw", ("accelerator",), [a.idle_kw for a in spec], "kW", "server power when idle")
    put(
        "server_availability",
        ("accelerator",),
        [a.availability for a in spec],
        "1",
        "share of installed servers usable at any hour",
    )

    # ------------------------------------------------------------------ inputs the plan saw
    put("day_weight", ("day",), time.weight, "days", "calendar days each representative day stands for")
    put("day_of_year", ("day",), time.days.day_of_year, "1", "calendar day (0 = 1 Jan) of each representative day")
    put("month", ("day",), time.month, "1", "month of each representative day")
    extreme = np.full(nd, "", dtype=object)
    for label, d in time.days.extremes.items():
        extreme[d] = f"{extreme[d]}, {label}" if extreme[d] else label
    ds["extreme_day"] = xr.DataArray(
        extreme.astype(str),
        dims=("day",),
        attrs={"units": "1", "long_name": "extreme kept as its own day (column:max/min), empty for typical days"},
    )
    put("ambient_temp_c", ("day", "hour"), time.dry_bulb_c, "degC", "ambient dry-bulb temperature")
    put("wetbulb_temp_c", ("day", "hour"), time.wet_bulb_c, "degC", "ambient wet-bulb temperature")
    put("cooling_coefficient", ("cooling", "day", "hour"), kappa, "1", "cooling power per IT power (kappa)")
    price = vals.values([m.grid_price[y, d, h] for y in years for d in days for h in hours]).reshape(ny, nd, 24) * 1000
    put("grid_price_cny_per_mwh", ("year", "day", "hour"), price, "CNY/MWh", "grid energy price (TOU)")
    ds["tou_period"] = xr.DataArray(
        time.tou_period.astype(str),
        dims=("day", "hour"),
        attrs={
            "units": "1",
            "long_name": "time-of-use period of most calendar days this hour stands for (all: tou_period_share)",
        },
    )
    put("pv_capacity_factor", ("day", "hour"), time.pv_cf, "1", "PV output per MWp")
    put(
        "ppa_availability",
        ("ppa", "day", "hour"),
        np.stack([time.availability[k] for k in ppas]) if ppas else np.zeros((0, nd, 24)),
        "1",
        "share of contracted PPA MW available",
    )
    put("grid_emission_t_per_mwh", ("day", "hour"), time.grid_emission_t_per_mwh, "t/MWh", "grid emission factor")
    demand = np.array([val(m.inference_demand[y]) for y in years])[:, None, None] * time.inference_shape[None]
    put("inference_demand_tokens_per_s", ("year", "day", "hour"), demand * MTOK, "tokens/s", "inference demand")
    put(
        "inference_served_tokens_per_s",
        ("year", "day", "hour"),
        demand * MTOK - ds["inference_unserved"].values,
        "tokens/s",
        "inference served (demand less unserved; never above demand)",
    )
    put(
        "member_days",
        ("day", "calendar_month"),
        time.member_days,
        "days",
        "calendar days of each month a representative day stands for",
    )
    put(
        "tou_period_share",
        ("day", "hour", "tou_period_name"),
        time.tou_period_share,
        "1",
        "share of the calendar days a representative hour stands for that are in each TOU period",
    )
    put(
        "ppa_take_or_pay",
        ("ppa",),
        [s.power.ppa[k].take_or_pay for k in ppas],
        "1",
        "share of the energy price paid for PPA energy not taken",
    )
    put(
        "ppa_green",
        ("ppa",),
        np.array([s.power.ppa[k].green for k in ppas], dtype=np.int8),
        "1",
        "1 when the contract's energy counts as green",
    )
    put(
        "training_demand_flop",
        ("year",),
        np.array([val(m.training_demand[y]) for y in years]) / ZFLOP_PER_EFLOP * EFLOP,
        "FLOP",
        "training work required",
    )
    for name, param in (
        ("pue_max", "pue_max"),
        ("green_share_min", "green_share_min"),
        ("domestic_compute_share_min", "domestic_share_min"),
        ("installed_eflops_min", "eflops_min"),
        ("carbon_cap_t", "carbon_cap"),
    ):
        p = getattr(m, param)
        values = [float(val(p[y])) if y in p else np.nan for y in years]
        unit = {"installed_eflops_min": "EFLOPS", "carbon_cap_t": "t"}.get(name, "1")
        put(name, ("year",), values, unit, f"policy limit {name} (NaN: not set)")

    # ------------------------------------------------------------------ costs
    cost = vals.values([m.annual_cost[k, y] for k in m.COMPONENT for y in years]).reshape(-1, ny) * MCNY
    put("cost", ("component", "year"), cost, "CNY/year", "annual cost by component (undiscounted)")
    put("discount_factor", ("year",), [data.discount[y] for y in years], "1", "discount factor to the base year")
    put(
        "npv_cny",
        (),
        float((cost * ds["discount_factor"].values[None, :]).sum()),
        "CNY",
        "net present value of all costs (the objective)",
    )

    ds = xr.Dataset(ds, coords=coords)
    _add_kpis(ds, s)
    _add_shadow_prices(ds, outcome, years)
    _add_attrs(ds, m, outcome, timings or {})
    return ds


def _add_kpis(ds: xr.Dataset, s: Any) -> None:
    """Yearly headline figures from the Dataset's own variables (numpy: a sweep case's results
    are ~0.05 s, and xarray's alignment of ~50 small operations took half of that).
    """
    w = ds["day_weight"].values  # (day,)
    accs = [s.accelerators[a] for a in ds.accelerator.values]
    ppas = [s.power.ppa[k] for k in ds.ppa.values]

    def energy(power: np.ndarray) -> np.ndarray:
        """(..., year, day, hour) [MW] -> (..., year) [MWh], each day by its weight."""
        return np.einsum("...ydh,d->...y", power, w)

    def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        """num / den, NaN where den is not positive."""
        return np.divide(num, den, out=np.full(np.shape(den), np.nan), where=den > 0)

    it_mwh = energy(ds["it_power_mw"].values).sum(axis=0)
    fac_mwh = energy(ds["facility_power_mw"].values)
    grey_ppa = np.array([not k.green for k in ppas], dtype=bool)
    grid = ds["grid_import_mw"].values
    grey_mwh = energy(grid) + energy(ds["ppa_mw_used"].values[grey_ppa]).sum(axis=0)
    certificates = ds["certificates_mwh"].values

    pflops = np.array([a.pflops_per_server for a in accs], dtype=float)
    domestic = np.array([a.domestic for a in accs], dtype=bool)
    by_type = ds["servers"].values.sum(axis=1) * pflops[:, None]  # (accelerator, year) [PFLOPS]
    installed = by_type.sum(axis=0)

    ef = ds["grid_emission_t_per_mwh"].values  # (day, hour)
    ppa_ef = np.array([k.emission_t_per_mwh for k in ppas], dtype=float)
    wheeled = np.array([k.delivery == "grid" for k in ppas], dtype=bool)
    used = ds["ppa_mw_used"].values
    location = energy((grid + used[wheeled].sum(axis=0)) * ef) + np.einsum(
        "p,py->y", ppa_ef[~wheeled], energy(used[~wheeled])
    )
    residual = s.power.green_certificates.residual_emission_t_per_mwh
    market = np.clip(
        energy(grid * ef) + np.einsum("p,py->y", ppa_ef, energy(used)) - certificates * residual, 0.0, None
    )

    training, inference = ds["training_servers"].values, ds["inference_servers"].values
    avail = np.array([a.availability for a in accs], dtype=float)
    tokens = np.array([a.tokens_per_s for a in accs], dtype=float)
    busy_by_type = energy(training + inference).sum(axis=1)  # (accelerator, year) [server-h]
    busy = busy_by_type.sum(axis=0)
    usable = np.einsum("acy,a->y", ds["servers"].values, avail) * 365 * 24
    flop_h = pflops @ busy_by_type
    inference_by_type = energy(inference).sum(axis=1)
    tokens_m = tokens @ inference_by_type * 3600 / 1e6
    total = ds["cost"].values.sum(axis=0)

    figures = {
        "it_energy_mwh": (it_mwh, "MWh", "IT energy"),
        "facility_energy_mwh": (fac_mwh, "MWh", "facility energy"),
        "pue": (ratio(fac_mwh, it_mwh), "1", "annual power usage effectiveness"),
        "green_share": (
            ratio(fac_mwh - grey_mwh + certificates, fac_mwh),
            "1",
            "green share of facility energy: (facility - grid - non-green contracts + certificates) / facility",
        ),
        "installed_pflops": (installed, "PFLOPS", "installed dense BF16 compute"),
        "domestic_share": (ratio(by_type[domestic].sum(axis=0), installed), "1", "domestic share of installed PFLOPS"),
        "utilisation": (ratio(busy, usable), "1", "busy share of available server-hours"),
        "cost_per_pflop_hour": (
            ratio(total, flop_h),
            "CNY/PFLOP/h",
            "annual cost per PFLOP-hour of busy installed compute",
        ),
        "cost_per_million_tokens": (
            ratio(total * ratio(inference_by_type.sum(axis=0), busy), tokens_m),
            "CNY/Mtoken",
            "annual cost, shared by busy server-hours, per million tokens served",
        ),
    }
    ds.update(
        {
            name: xr.DataArray(values, dims=("year",), attrs={"units": units, "long_name": long_name})
            for name, (values, units, long_name) in figures.items()
        }
    )
    ds["emissions_t"] = xr.DataArray(
        np.stack([location, market]),
        dims=("basis", "year"),
        attrs={
            "units": "t",
            "long_name": "emissions: location-based (grid and wheeled energy at the grid's factor) and "
            "market-based (contracts at their own factor, less certificates at the residual factor)",
            "priced_basis": s.policy.emissions_basis,
        },
    )


def _add_shadow_prices(ds: xr.Dataset, outcome: SolveOutcome, years: list[int]) -> None:
    from planner.prices import LIMIT_STEPS

    limits = list(LIMIT_STEPS)
    values = np.full((len(limits), len(years)), np.nan)
    methods = np.full((len(limits), len(years)), "not set", dtype=object)
    for (limit, y), (value, method) in outcome.shadow_prices.items():
        values[limits.index(limit), years.index(y)] = value * MCNY
        methods[limits.index(limit), years.index(y)] = method
    ds.coords["limit"] = limits
    ds.update(
        {
            "shadow_price": xr.DataArray(
                values,
                dims=("limit", "year"),
                attrs={
                    "units": "CNY",
                    "long_name": "cost of tightening each limit by one step (see shadow_price_method)",
                },
            ),
            "shadow_price_method": xr.DataArray(
                methods.astype(str),
                dims=("limit", "year"),
                attrs={"units": "1", "long_name": "how each shadow price was obtained"},
            ),
        }
    )


def _add_attrs(ds: xr.Dataset, m: pyo.ConcreteModel, outcome: SolveOutcome, timings: dict[str, float]) -> None:
    s = m.planner_data.scenario
    ds.attrs.update(
        {
            "title": f"Tianfu planner results: {s.name}",
            "scenario_name": s.name,
            "scenario_yaml": yaml.dump(s.model_dump(mode="json"), Dumper=_DUMPER, sort_keys=False, allow_unicode=True),
            "input_hash": input_hash(s),
            "scenario_source": str(scenario_files(s)[0]) if scenario_files(s) else "",
            "input_files": json.dumps(input_files(s)),
            "planner_version": __version__,
            "solver_status": outcome.status,
            "termination": outcome.termination,
            "objective_cny": np.nan if outcome.objective is None else outcome.objective * MCNY,
            "bound_cny": np.nan if outcome.bound is None else outcome.bound * MCNY,
            "relaxation_bound_cny": np.nan if outcome.relaxation_bound is None else outcome.relaxation_bound * MCNY,
            "dive_objective_cny": np.nan if outcome.dive_objective is None else outcome.dive_objective * MCNY,
            "dive_plan_given_to_highs": int(outcome.dive_given),
            "relaxation_warm_start": int(outcome.relaxation_warm),
            "solver_stats": json.dumps(outcome.solver_stats),
            "mip_gap": np.nan if outcome.gap is None else outcome.gap,
            "model_rows": outcome.n_rows,
            "model_columns": outcome.n_cols,
            "model_integers": outcome.n_integers,
            "coefficient_ranges": json.dumps(outcome.coefficient_ranges),
            "solver_options": json.dumps(outcome.options.__dict__, default=str),
            "timings_s": json.dumps({**timings, **outcome.timings}),
            "package_versions": json.dumps(dict(_versions())),
            "representative_days": m.planner_data.time.n_days,
        }
    )


def installed_versions() -> dict[str, str]:
    """Versions of Python and of the packages a plan depends on, as installed now."""
    return dict(_versions())


@functools.cache
def _versions() -> dict[str, str]:  # what is installed does not change while a process runs
    out = {"python": platform.python_version()}
    for pkg in ("pyomo", "highspy", "numpy", "pandas", "xarray", "tsam", "pydantic", "pint"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:  # pragma: no cover
            out[pkg] = "?"
    return out


def kpis(ds: xr.Dataset) -> dict[str, Any]:
    """Headline figures of a plan as plain numbers (for summaries and sweeps)."""
    return {
        "npv_cny": float(ds["npv_cny"]),
        "pue": ds["pue"].values.tolist(),
        "green_share": ds["green_share"].values.tolist(),
        "domestic_share": ds["domestic_share"].values.tolist(),
        "installed_pflops": ds["installed_pflops"].values.tolist(),
        "emissions_t": ds["emissions_t"].values.tolist(),
        "status": ds.attrs.get("solver_status"),
        "mip_gap": ds.attrs.get("mip_gap"),
    }


def write_dataset(ds: xr.Dataset, path: Path | str) -> Path:
    """Write a Dataset to netCDF atomically (:func:`planner.atomic.atomic_path`: temp file, then rename)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf")
    return path


def read_dataset(path: Path | str) -> xr.Dataset:
    """Read a results file written by :func:`write_dataset` (fully loaded, file closed)."""
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


# --------------------------------------------------------------------------- provenance


def _sha256(path: Path) -> str:
    """SHA-256 of a file's bytes ("" if it cannot be read)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return ""
    return digest.hexdigest()


def input_files(scenario: Any) -> list[dict[str, str]]:
    """The files a loaded scenario was made from, each ``{"role", "path", "sha256"}``.

    Roles: ``scenario`` (the file named), ``extends`` (each base it extends, nearest first) and
    ``profiles`` (the hourly CSV). Paths are absolute as the loader resolved them.
    """
    files = [
        {"role": "scenario" if i == 0 else "extends", "path": str(p), "sha256": _sha256(Path(p))}
        for i, p in enumerate(scenario_files(scenario))
    ]
    profiles = Path(scenario.time.profiles)
    files.append({"role": "profiles", "path": str(profiles), "sha256": _sha256(profiles)})
    return files


def record_overrides(ds: xr.Dataset, overrides: Any) -> xr.Dataset:
    """Record the ``--set`` overrides a plan was made with (``scenario_overrides``, JSON); returns ``ds``.

    With ``scenario_source`` and ``input_files`` (set by :func:`to_dataset`) this is what
    :func:`check_inputs` needs to load the plan's scenario again.
    """
    ds.attrs["scenario_overrides"] = json.dumps([str(o) for o in overrides])
    return ds


class ResultsFileError(Exception):
    """A file given as results is missing or not a planner results file."""


NETCDF_SUFFIXES = (".nc", ".nc4", ".netcdf", ".h5", ".hdf5")
_MAGIC = (b"\x89HDF\r\n\x1a\n", b"CDF\x01", b"CDF\x02", b"CDF\x05")


def is_results_file(path: Path | str) -> bool:
    """True if ``path`` looks like netCDF: a netCDF suffix, or the HDF5 / classic netCDF magic bytes."""
    path = Path(path)
    if path.suffix.lower() in NETCDF_SUFFIXES:
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError:
        return False
    return any(head.startswith(m) for m in _MAGIC)


@dataclass
class InputCheck:
    """Whether a results file still matches the inputs it was made from (see :func:`check_inputs`)."""

    path: Path
    kind: str  #: ``plan`` or ``sweep``
    recorded: bool  #: the file records its input files (results written before that cannot be checked)
    source: str  #: the scenario (or sweep) file the results were made from
    overrides: list[str] | None  #: the ``--set`` overrides (None: not recorded)
    files: list[dict[str, str]]  #: recorded input files, each with ``state`` (same, changed, missing)
    recorded_hash: str  #: ``input_hash`` recorded
    current_hash: str | None  #: ``input_hash`` of the scenario (or sweep) loaded again now (None: not loaded)
    load_problems: list[str]  #: why the scenario does not load again (empty: it loads)
    solver_options: dict[str, Any]
    package_versions: dict[str, str]  #: recorded
    installed: dict[str, str]  #: installed now (the planner itself under ``planner``)

    @property
    def changed_files(self) -> list[dict[str, str]]:
        """Recorded files that changed or are missing."""
        return [f for f in self.files if f["state"] != "same"]

    @property
    def matches(self) -> bool:
        """The inputs are there and load again to the recorded ``input_hash`` (file bytes may differ in form)."""
        if not self.recorded or self.load_problems or any(f["state"] == "missing" for f in self.files):
            return False
        return self.current_hash is not None and self.current_hash == self.recorded_hash

    @property
    def version_differences(self) -> dict[str, tuple[str, str]]:
        """Package -> (recorded, installed) for every package whose version differs."""
        return {
            k: (v, self.installed.get(k, "?"))
            for k, v in self.package_versions.items()
            if self.installed.get(k, "?") != v
        }


def _json_attr(attrs: dict[str, Any], key: str, default: Any) -> Any:
    try:
        return json.loads(str(attrs[key]))
    except (KeyError, ValueError):
        return default


def check_inputs(path: Path | str) -> InputCheck:
    """Check a results file (a plan, a sweep case or a combined sweep) against its inputs as they are now.

    Each recorded input file (scenario, the files it extends, the profile CSV, for a sweep also the
    sweep file) is hashed again and compared with its recorded SHA-256 (which files changed); the
    scenario is then loaded again from its recorded path with its recorded ``--set`` overrides and
    its :func:`planner.scenario.input_hash` compared with the recorded one (a sweep: its
    :func:`planner.sweep.sweep_input_hash`). The results match when that hash is the same: a file
    that changed only in form (a comment) still gives the same plan, while a scenario that
    resolves differently under another planner version does not.

    Raises
    ------
    ResultsFileError
        The file is missing or is not a planner results file.
    """
    from planner.scenario import ScenarioError, load_scenario

    path = Path(path)
    if not path.is_file():
        raise ResultsFileError(f"{path}: {'is a folder, not a results file' if path.is_dir() else 'no such file'}")
    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            attrs = dict(ds.attrs)
    except Exception as exc:  # noqa: BLE001 - any reader failure means "not a results file"
        raise ResultsFileError(f"{path}: not a results file (cannot be read as netCDF: {type(exc).__name__})") from None
    kind = "sweep" if "sweep_name" in attrs else "plan"
    if kind == "plan" and "input_hash" not in attrs:
        raise ResultsFileError(f"{path}: not a planner results file (no input_hash attribute)")
    recorded = "input_files" in attrs and "input_hash" in attrs
    files = []
    for f in _json_attr(attrs, "input_files", []):
        current = _sha256(Path(f["path"])) if Path(f["path"]).is_file() else None
        state = "missing" if current is None else ("same" if current == f.get("sha256") else "changed")
        files.append({**f, "state": state})
    overrides = _json_attr(attrs, "scenario_overrides", None)
    source = str(attrs.get("scenario_source" if kind == "plan" else "sweep_source", ""))
    current_hash: str | None = None
    problems: list[str] = []
    if recorded and source and not any(f["state"] == "missing" for f in files):
        try:
            if kind == "plan":
                current_hash = input_hash(load_scenario(source, overrides or []))
            else:
                from planner.scenario.sweep import load_sweep
                from planner.sweep import sweep_input_hash

                current_hash = sweep_input_hash(load_sweep(source))
        except ScenarioError as exc:
            problems = [str(p) for p in exc.problems]
    installed = {**_versions(), "planner": __version__}
    versions = {**_json_attr(attrs, "package_versions", {}), "planner": str(attrs.get("planner_version", "?"))}
    return InputCheck(
        path=path,
        kind=kind,
        recorded=recorded,
        source=source,
        overrides=overrides,
        files=files,
        recorded_hash=str(attrs.get("input_hash", "")),
        current_hash=current_hash,
        load_problems=problems,
        solver_options=_json_attr(attrs, "solver_options", {}),
        package_versions=versions,
        installed=installed,
    )
