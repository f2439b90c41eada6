"""Solved model -> one ``xarray.Dataset`` (DESIGN.md §4): every variable in user units, with its units.

Everything after this module (reports, sweeps, checks) reads only the Dataset. Values are
converted from the model's scaled units (``planner.model.data``) to user units here, and
every variable carries ``units`` and ``long_name``. The ``cost`` variable is built from the
same expressions as the objective, so ``sum(cost * discount_factor) == objective``.

Which variables there are, in which order, and what each is read from is the table
:data:`planner.results.variables.FIELDS`: one loop reads every field with a source, and a few
named steps compute the rest.
"""

from __future__ import annotations

import json
from itertools import product
from operator import attrgetter
from typing import Any

import numpy as np
import pyomo.environ as pyo
import xarray as xr
import yaml

from planner import __version__
from planner.model.data import MCNY, MTOK, ModelData
from planner.model.network import lease_tokens_per_pflops
from planner.results.kpis import add_kpis
from planner.results.provenance import input_files, installed_versions
from planner.results.variables import FIELDS, Field
from planner.scenario import input_hash, scenario_files
from planner.scenario.network import WORKLOADS
from planner.solver.highs import SolveOutcome
from planner.solver.prices import LIMIT_STEPS
from planner.solver.recompile import LinearForms, constants_state, held_constants
from planner.time.tariff import TOU_PERIODS
from planner.time.tariff import grid_price as tou_grid_price

__all__ = ["to_dataset"]

#: libyaml's emitter where PyYAML has it (the scenario is dumped into every plan's attrs; the
#: pure-Python one takes ~15 ms of a sweep case), else the pure-Python one. Both are safe dumpers.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Values:
    """Values of a solved model's variables and expressions, fast when asked again (sweeps).

    Pyomo evaluates an expression by walking its tree: the 105 annual costs of the default take
    ~50 ms that way, and filling the hourly arrays entry by entry ~30 ms, against a sweep case's
    budget of well under 0.2 s outside the solver. Here each expression is reduced once to its
    linear form (Pyomo's ``LinearRepnVisitor``, as the compiler does) and reduced again only when
    a parameter in it has a new value. A variable's value is read from the solved plan by its column
    (:meth:`bind`: one numpy gather per array, positions found once per model), so the plan need not be
    loaded into the variables (a sweep case does not); a variable that is no column (in no row) holds
    its own value, or none. One instance lives on each model (:func:`_values_of`), so a model re-used
    for many cases pays the reductions once.
    """

    def __init__(self, m: pyo.ConcreteModel) -> None:
        self._linear = LinearForms(m)
        #: id(expr) -> (variables, coefficients, constant, held constants, their state)
        self._forms: dict[int, tuple[list[Any], np.ndarray, float, list[Any], tuple[Any, ...]]] = {}
        self._grids: dict[tuple[str, tuple[int, ...]], tuple[list[Any], np.ndarray]] = {}
        self._columns: list[Any] | None = None  #: the columns the plan is of (by identity)
        self._column: dict[int, int] = {}  #: id(VarData) -> its column
        self._plan = np.zeros(0)
        #: column of each variable of a form or grid (-1: no column), for the columns bound
        self._at: dict[int, np.ndarray] = {}

    def bind(self, columns: list[Any] | None, plan: np.ndarray | None) -> None:
        """Read variables from ``plan`` (one value per entry of ``columns``, the compiled model's); with
        None, from the variables themselves (a plan loaded into them by its caller).
        """
        if columns is not None and (plan is None or len(plan) != len(columns)):
            raise ValueError(f"a plan of {len(columns)} columns is needed, not {None if plan is None else len(plan)}")
        if columns is not self._columns:
            self._columns, self._at = columns, {}
            self._column = {} if columns is None else {id(v): j for j, v in enumerate(columns)}
        self._plan = np.zeros(0) if plan is None else np.asarray(plan, dtype=float)

    def _read(self, key: int, variables: list[Any]) -> np.ndarray:
        """The values of ``variables`` (0 for a variable without one)."""
        if self._columns is None:
            return np.fromiter((v.value or 0.0 for v in variables), float, count=len(variables))
        at = self._at.get(key)
        if at is None:
            at = self._at[key] = np.fromiter(
                (self._column.get(id(v), -1) for v in variables), np.int64, count=len(variables)
            )
        out = self._plan[at]
        for i in np.flatnonzero(at < 0):  # no column: the variable's own value (fixed, or in no row: none)
            out[i] = variables[i].value or 0.0
        return out

    def value(self, expr: Any) -> float:
        """Value of a linear expression (a named Expression, a parameter, a variable)."""
        return float(self.values([expr])[0])

    def values(self, exprs: list[Any]) -> np.ndarray:
        """Values of linear expressions, as one array."""
        out = np.empty(len(exprs))
        for i, expr in enumerate(exprs):
            key = id(expr)
            form = self._forms.get(key)
            state: tuple[Any, ...] | None = None
            if form is not None:
                state = constants_state(form[3])
                if state != form[4] and not form[0]:
                    # no variables (a price): Pyomo's evaluation is cheaper than a new linear form
                    form = self._forms[key] = (form[0], form[1], float(pyo.value(expr)), form[3], state)
            if form is None or state != form[4]:
                repn = self._linear.walk(expr)
                self._linear.clear()
                if repn.nonlinear is not None:  # not linear: Pyomo evaluates it
                    out[i] = pyo.value(expr)
                    continue
                variables = [self._linear.var_map[vid] for vid in repn.linear]
                if form is None:  # what the form takes as constants: mutable parameters, fixed variables
                    watched = held_constants(expr)
                else:  # the same components (a variable fixed since is read as a variable: still right)
                    watched = form[3]
                coefs = np.fromiter(repn.linear.values(), float, count=len(variables))
                state = constants_state(watched) if state is None else state
                form = self._forms[key] = (variables, coefs, float(repn.constant), watched, state)
                self._at.pop(key, None)  # its variables may have changed
            variables, coefs, constant = form[0], form[1], form[2]
            out[i] = constant + float(coefs @ self._read(key, variables)) if variables else constant
        return out

    def grid(self, var: Any, shape: tuple[int, ...], key: Any) -> np.ndarray:
        """A variable's values as an array of ``shape``; ``key(index)`` is an entry's position."""
        cached = self._grids.get((var.name, shape))
        if cached is None:
            datas = list(var.values())
            entries = np.array([key(k) for k in var.keys()], dtype=np.int64).reshape(len(datas), len(shape))
            positions = np.asarray(np.ravel_multi_index(entries.T, shape) if datas else np.zeros(0, dtype=np.int64))
            cached = self._grids[(var.name, shape)] = (datas, positions)
        datas, positions = cached
        out = np.zeros(shape)
        out.flat[positions] = self._read(id(datas), datas)
        return out


def _values_of(m: pyo.ConcreteModel) -> _Values:
    """The model's :class:`_Values` (made on first use, kept for the model's later cases)."""
    values = getattr(m, "_planner_values", None)
    if values is None:
        values = _Values(m)
        m._planner_values = values
    return values


def to_dataset(m: pyo.ConcreteModel, outcome: SolveOutcome, timings: dict[str, float] | None = None) -> xr.Dataset:
    """Build the results Dataset of a solved model.

    Parameters
    ----------
    m : ConcreteModel
        The solved model.
    outcome : SolveOutcome
        What the solver returned (``has_plan``). Variables are read from ``outcome.plan`` by their
        columns (``outcome.columns``) where it has them, else from the model, with the plan loaded.
    timings : dict, optional
        Seconds per pipeline stage (load, time reduction, build, ...) to record.

    Returns
    -------
    xarray.Dataset
    """
    data: ModelData = m.planner_data
    labels = _labels(m)
    vals = _values_of(m)
    if outcome.plan is not None and outcome.x is not None and len(outcome.plan) != len(outcome.x):
        # a copy of an outcome with a new x keeps the old plan unless it sets plan and columns too
        raise ValueError(f"the outcome's plan ({len(outcome.plan)} columns) is not of its x ({len(outcome.x)})")
    vals.bind(outcome.columns, outcome.plan)
    # Arrays are collected first and made into one Dataset at the end: assigning variables one by
    # one costs an alignment and merge each (~0.1 s of a sweep case's ~0.2 s of results).
    arrays = _read(FIELDS, m, vals, labels)
    arrays.update(_installed(arrays, data, labels))
    arrays.update(_cooling(arrays, data, labels))
    arrays.update(_sites(data, labels))
    arrays.update(_grid_price(m, vals, data, labels))
    arrays.update(_ppa_not_taken(arrays, data, labels))
    arrays.update(_extreme_days(data))
    arrays.update(_demand(arrays, m, vals, data, labels))
    arrays.update(_network(arrays, m, vals, data, labels))
    arrays.update(_network_inputs(data, labels))
    arrays.update(_npv(arrays, data, labels))
    arrays.update(_cash(arrays, m, vals, data, labels))
    ds = xr.Dataset(
        {
            f.name: xr.Variable(
                f.dims, np.asarray(arrays[f.name], dtype=f.dtype), attrs={"units": f.units, "long_name": f.long_name}
            )
            for f in FIELDS
        }
        | _shadow_prices(outcome, labels["year"]),
        coords=_coords(labels) | {"limit": list(LIMIT_STEPS)},
    )
    add_kpis(ds, data.scenario)
    _add_attrs(ds, m, outcome, timings or {})
    return ds


def _labels(m: pyo.ConcreteModel) -> dict[str, list[Any]]:
    """The labels of each dim, as the model indexes by them."""
    data: ModelData = m.planner_data
    s = data.scenario
    return {
        "year": list(data.years),
        "site": list(data.sites),
        "region": list(data.regions),
        "hub": list(data.hubs),
        "workload": list(WORKLOADS),
        "accelerator": list(s.accelerators),
        "cooling": list(s.cooling),
        "day": list(data.days),
        "hour": list(range(24)),
        "ppa": list(s.power.ppa),
        "calendar_month": list(range(1, 13)),
        "tou_period_name": list(TOU_PERIODS),
        "basis": ["location", "market"],
        "component": list(m.COMPONENT),
        "asset": [cost.removesuffix("_capital") for cost in m.capital_builds],
    }


def _coords(labels: dict[str, list[Any]]) -> dict[str, Any]:
    """The Dataset's coordinates (the contract names as a string array, also when there is none)."""
    return {
        dim: np.array(values, dtype=str) if dim in ("ppa", "site", "hub", "region", "workload") else values
        for dim, values in labels.items()
    }


def _read(
    fields: tuple[Field, ...], m: pyo.ConcreteModel, vals: _Values, labels: dict[str, list[Any]]
) -> dict[str, Any]:
    """The values of every field with a source (see :class:`~planner.results.variables.Field`)."""
    data: ModelData = m.planner_data
    out: dict[str, Any] = {}
    for f in fields:
        kind, _, path = f.source.partition(".")
        if kind == "m":
            out[f.name] = _read_component(f, getattr(m, path), vals, labels)
        elif kind == "time":
            out[f.name] = attrgetter(path)(data.time)
        elif kind == "scenario":
            mapping, _, name = path.rpartition(".")
            entries = attrgetter(mapping)(data.scenario)
            out[f.name] = [getattr(entries[label], name) for label in labels[f.dims[0]]]
    return out


def _read_component(f: Field, component: Any, vals: _Values, labels: dict[str, list[Any]]) -> np.ndarray:
    """A model component's values on the field's dims, in user units."""
    shape = tuple(len(labels[dim]) for dim in f.dims)
    if f.whole:
        where = [{label: i for i, label in enumerate(labels[dim])} for dim in f.dims]
        values = vals.grid(component, shape, lambda k: tuple(w[i] for w, i in zip(where, k, strict=True)))
    else:
        keys: list[Any] = list(product(*(labels[dim] for dim in f.dims)))
        if len(f.dims) == 1:
            keys = [k[0] for k in keys]
        if f.fill is None:
            values = vals.values([component[k] for k in keys]).reshape(shape)
        else:
            present = [i for i, k in enumerate(keys) if k in component]
            values = np.full(shape, f.fill)
            values.flat[present] = vals.values([component[keys[i]] for i in present])
    if f.divide != 1.0:
        values = values / f.divide
    if f.scale != 1.0:
        values = values * f.scale
    if f.round == "numpy":
        return np.round(values)
    if f.round == "python":
        return np.round(values) + 0.0  # round() of each value as an int: no -0.0
    return values


def _installed(arrays: dict[str, Any], data: ModelData, labels: dict[str, list[Any]]) -> dict[str, Any]:
    """Accelerator chips installed and grid connection capacity."""
    s = data.scenario
    per_server = np.array([s.accelerators[a].accelerators_per_server for a in labels["accelerator"]], dtype=float)
    return {
        "accelerators_installed": arrays["servers"].sum(axis=2) * per_server[None, :, None],
        "grid_mw": arrays["grid_blocks"] * data.grid_block_mw,
    }


def _cooling(arrays: dict[str, Any], data: ModelData, labels: dict[str, list[Any]]) -> dict[str, Any]:
    """The cooling coefficient (kappa) of each technology at each site by hour, and its cooling power."""
    kappa = np.stack([np.stack([data.kappa[s][c] for c in labels["cooling"]]) for s in labels["site"]])
    return {"cooling_power_mw": arrays["it_power_mw"] * kappa[:, :, None, :, :], "cooling_coefficient": kappa}


def _sites(data: ModelData, labels: dict[str, list[Any]]) -> dict[str, Any]:
    """Each site's own limits, climate offsets, and hourly weather and PV capacity factor."""
    specs = [data.site_specs[s] for s in labels["site"]]
    return {
        "site_dry_bulb_c": np.stack([data.site_dry_bulb_c(s) for s in labels["site"]]),
        "site_wet_bulb_c": np.stack([data.site_wet_bulb_c(s) for s in labels["site"]]),
        "site_pv_capacity_factor": np.stack([data.pv_cf(s) for s in labels["site"]]),
        "site_max_halls": np.array([v.max_halls for v in specs], dtype=float),
        "site_max_grid_blocks": np.array([v.grid.max_blocks for v in specs], dtype=float),
        "site_pv_max_mw": np.array([v.pv_max_mw for v in specs], dtype=float),
        "site_pv_yield": np.array([v.pv_yield for v in specs], dtype=float),
        "site_dry_bulb_offset_k": np.array([v.climate.dry_bulb_offset_k for v in specs], dtype=float),
        "site_wet_bulb_offset_k": np.array([v.climate.wet_bulb_offset_k for v in specs], dtype=float),
    }


def _grid_price(m: pyo.ConcreteModel, vals: _Values, data: ModelData, labels: dict[str, list[Any]]) -> dict[str, Any]:
    """Each site's grid energy price by hour [CNY/MWh], by :func:`planner.time.tariff.grid_price` (the formula
    the model's energy cost sums, :func:`planner.time.tariff.energy_cost`) on the tariff's arrays.
    """
    sites, years = labels["site"], labels["year"]
    flat = vals.values([m.flat_price[s, y] for s in sites for y in years]).reshape(len(sites), len(years))
    scale = float(pyo.value(m.tariff_scale))
    time = data.time
    out = np.empty((len(sites), len(years), time.n_days, 24))
    for i, site in enumerate(sites):
        prices = data.site_prices[site]
        mult, adder = (time.tou_multiplier, time.season_adder_cny_per_kwh) if prices.time_of_use else (1.0, 0.0)
        nf = prices.non_floating_cny_per_kwh
        out[i] = tou_grid_price(flat[i][:, None, None], nf, np.asarray(mult)[None], np.asarray(adder)[None], scale)
    return {"grid_price_cny_per_mwh": out * 1000}


def _ppa_not_taken(arrays: dict[str, Any], data: ModelData, labels: dict[str, list[Any]]) -> dict[str, Any]:
    """Availability of each PPA contract and the power it made available but that was not taken."""
    ppas, time = labels["ppa"], data.time
    shape = (len(labels["year"]), len(labels["day"]), 24)
    availability = np.stack([time.availability[k] for k in ppas]) if ppas else np.zeros((0, *shape[1:]))
    years = labels["year"]
    factor = (
        np.stack([np.stack([data.hydrology_factor(k, y) for y in years]) for k in ppas])
        if ppas
        else np.zeros((0, *shape[:2]))
    )
    available = (
        availability[:, None] * factor[:, :, :, None] * arrays["ppa_mw"][:, :, None, None]
        if ppas
        else np.zeros((0, *shape))
    )
    return {
        "ppa_availability": availability,
        "ppa_hydrology_factor": factor,
        "ppa_mw_not_taken": np.clip(available - arrays["ppa_mw_used"].sum(axis=0), 0.0, None),
    }


def _extreme_days(data: ModelData) -> dict[str, Any]:
    """The extremes each representative day was kept for, comma-separated (empty for typical days)."""
    extreme = np.full(data.time.n_days, "", dtype=object)
    for label, d in data.time.days.extremes.items():
        extreme[d] = f"{extreme[d]}, {label}" if extreme[d] else label
    return {"extreme_day": extreme.astype(str)}


def _demand(
    arrays: dict[str, Any], m: pyo.ConcreteModel, vals: _Values, data: ModelData, labels: dict[str, list[Any]]
) -> dict[str, Any]:
    """Inference demand by hour, and the part of it served."""
    peak = vals.values([m.inference_demand[y] for y in labels["year"]])
    demand = peak[:, None, None] * data.time.inference_shape[None]
    return {
        "inference_demand_tokens_per_s": demand * MTOK,
        "inference_served_tokens_per_s": demand * MTOK - arrays["inference_unserved"],
    }


def _network(
    arrays: dict[str, Any], m: pyo.ConcreteModel, vals: _Values, data: ModelData, labels: dict[str, list[Any]]
) -> dict[str, Any]:
    """Inference by region (routed from each site, leased from each hub, unserved), and compute leased
    from and sold to each hub. Without regions the one region's service at a site is that site's
    whole inference; without hubs the hub arrays are empty.
    """
    hubs = labels["hub"]
    dims = ("site", "accelerator", "cooling", "region", "hub", "year")
    position = {dim: {label: i for i, label in enumerate(labels[dim])} for dim in dims}

    def grid(name: str, dims: tuple[str, ...]) -> np.ndarray:
        """A variable of the model on ``dims`` + (year, day, hour) or + (year,), zeros where it has no entry."""
        shape = tuple(len(labels[d]) for d in dims)
        component = getattr(m, name, None)
        per_hour = dims[-1] == "hour"
        if component is None:
            return np.zeros(shape)
        index_dims = dims[:-3] if per_hour else dims[:-1]

        def key(k: Any) -> tuple[int, ...]:
            k = k if isinstance(k, tuple) else (k,)
            head = tuple(position[dim][label] for dim, label in zip(index_dims, k, strict=False))
            rest = k[len(index_dims) :]
            return (*head, position["year"][rest[0]], *rest[1:])

        return vals.grid(component, shape, key)

    tokens = np.array([data.scenario.accelerators[a].tokens_per_s for a in labels["accelerator"]], dtype=float)
    if data.explicit_regions:
        routed = grid("inference_routed", ("site", "region", "year", "day", "hour")) * MTOK
        unserved = grid("inference_unserved_region", ("region", "year", "day", "hour")) * MTOK
    else:  # one region: every site's inference is for it
        routed = np.einsum("sacydh,a->sydh", arrays["inference_servers"], tokens)[:, None]
        unserved = arrays["inference_unserved"][None]
    per_pflops = np.array([lease_tokens_per_pflops(data, n) if n in data.lease_hubs else 0.0 for n in hubs])
    leased_inf = grid("lease_inference", ("hub", "region", "year", "day", "hour"))
    return {
        "inference_routed_tokens_per_s": routed,
        "inference_leased_tokens_per_s": leased_inf * per_pflops[:, None, None, None, None] * MTOK,
        "inference_unserved_by_region": unserved,
        "lease_pflops": grid("lease_pflops", ("hub", "year")),
        "lease_training_pflops": grid("lease_training", ("hub", "year", "day", "hour")),
        "lease_inference_pflops": leased_inf,
        "sold_pflops": grid("sold_pflops", ("hub", "year")),
        "servers_sold": grid("servers_sold", ("site", "accelerator", "cooling", "year")),
    }


def _network_inputs(data: ModelData, labels: dict[str, list[Any]]) -> dict[str, Any]:
    """The regions' shares and latency classes, and each hub's offers (prices, caps, workloads)."""
    regions, hubs, years = data.region_specs, labels["hub"], labels["year"]
    shape = (len(hubs), len(years))
    lease_price, lease_max = np.full(shape, np.nan), np.zeros(shape)
    sale_price, sale_max = np.full(shape, np.nan), np.zeros(shape)
    mfu, per_pflops = np.full(len(hubs), np.nan), np.full(len(hubs), np.nan)
    workload = np.zeros((len(hubs), len(labels["workload"])), dtype=np.int8)
    for i, n in enumerate(hubs):
        hub = data.hubs[n]
        if hub.lease is not None:
            lease_price[i] = [hub.lease.price_cny_per_pflops_hour.at(y) for y in years]
            lease_max[i] = [hub.lease.max_pflops.at(y) for y in years]
            mfu[i] = data.scenario.accelerators[hub.lease.accelerator].mfu
            per_pflops[i] = lease_tokens_per_pflops(data, n) * MTOK
            workload[i] = [hub.takes(w) for w in labels["workload"]]
        if hub.sell is not None:
            sale_price[i] = [hub.sell.price_cny_per_pflops_hour.at(y) for y in years]
            sale_max[i] = [hub.sell.max_pflops.at(y) for y in years]
    return {
        "region_share": np.array([regions[r].share for r in labels["region"]], dtype=float),
        "region_site": np.array([[s in regions[r].sites for s in labels["site"]] for r in labels["region"]]).reshape(
            len(labels["region"]), len(labels["site"])
        ),
        "region_hub": np.array([[n in regions[r].sites for n in hubs] for r in labels["region"]]).reshape(
            len(labels["region"]), len(hubs)
        ),
        "hub_lease_price_cny_per_pflops_hour": lease_price,
        "hub_lease_max_pflops": lease_max,
        "hub_lease_workload": workload,
        "hub_lease_mfu": mfu,
        "hub_lease_tokens_per_s_per_pflops": per_pflops,
        "hub_sale_price_cny_per_pflops_hour": sale_price,
        "hub_sale_max_pflops": sale_max,
    }


def _npv(arrays: dict[str, Any], data: ModelData, labels: dict[str, list[Any]]) -> dict[str, Any]:
    """The discount factors and the net present value of the costs (the objective)."""
    discount = np.asarray([data.discount[y] for y in labels["year"]])
    return {"discount_factor": discount, "npv_cny": float((arrays["cost"] * discount[None, :]).sum())}


def _cash(
    arrays: dict[str, Any], m: pyo.ConcreteModel, vals: _Values, data: ModelData, labels: dict[str, list[Any]]
) -> dict[str, Any]:
    """The cash view of the costs: capital spent when bought, fixed O&M when paid, by asset class and year.

    Each capital cost term (``m.capital_builds``, in the order of the ``asset`` labels) charges
    ``(CRF + fom) * capex_v * new_v`` in each year of service of a build; here the same build is
    ``capex_v * new_v`` spent in its year ``v`` and ``fom * capex_v * new_v`` paid in each of those
    years. The cash flow adds every other cost component as it stands.
    """
    years = labels["year"]
    column = {y: i for i, y in enumerate(years)}
    spent = np.zeros((len(labels["asset"]), len(years)))
    fixed_om = np.zeros_like(spent)
    entries = [
        (i, fleet, v, new, capex)
        for i, builds in enumerate(m.capital_builds.values())
        for kind in builds
        for fleet, v, new, capex in kind.entries(data)
    ]
    bought = vals.values([new for *_, new, _ in entries])
    for (i, fleet, v, _, capex), units in zip(entries, bought, strict=True):
        amount = float(units) * float(pyo.value(capex)) * MCNY
        spent[i, column[v]] += amount
        if fleet.fixed_om:
            for y in years:
                if data.alive(v, fleet.life, y):
                    fixed_om[i, column[y]] += fleet.fixed_om * amount
    other = np.array([k not in m.capital_builds for k in labels["component"]], dtype=bool)
    cash = spent.sum(axis=0) + fixed_om.sum(axis=0) + arrays["cost"][other].sum(axis=0)
    return {"capital_spent_cny": spent, "fixed_om_new_cny": fixed_om, "cash_flow_cny": cash}


def _shadow_prices(outcome: SolveOutcome, years: list[int]) -> dict[str, xr.Variable]:
    """The shadow price of each policy limit (``LIMIT_STEPS``, the ``limit`` dim) by year, and how it was
    obtained.
    """
    limits = list(LIMIT_STEPS)
    values = np.full((len(limits), len(years)), np.nan)
    methods = np.full((len(limits), len(years)), "not set", dtype=object)
    for (limit, y), (value, method) in outcome.shadow_prices.items():
        values[limits.index(limit), years.index(y)] = value * MCNY
        methods[limits.index(limit), years.index(y)] = method
    return {
        "shadow_price": xr.Variable(
            ("limit", "year"),
            values,
            attrs={
                "units": "CNY",
                "long_name": "cost of tightening each limit by one step, in CNY of net present value "
                "(discounted to the first year; the step is named in shadow_price_method)",
            },
        ),
        "shadow_price_method": xr.Variable(
            ("limit", "year"),
            methods.astype(str),
            attrs={"units": "1", "long_name": "how each shadow price was obtained"},
        ),
    }


def _add_attrs(ds: xr.Dataset, m: pyo.ConcreteModel, outcome: SolveOutcome, timings: dict[str, float]) -> None:
    """The plan's provenance and the solve's outcome as global attributes."""
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
            "solver_status": str(outcome.status),  # the text, for netCDF (a StrEnum is not a plain str to h5py)
            "termination": outcome.termination,
            "objective_cny": np.nan if outcome.objective is None else outcome.objective * MCNY,
            "bound_cny": np.nan if outcome.bound is None else outcome.bound * MCNY,
            "relaxation_bound_cny": np.nan if outcome.relaxation_bound is None else outcome.relaxation_bound * MCNY,
            "dual_bound_cny": np.nan if outcome.dual_bound is None else outcome.dual_bound * MCNY,
            "dive_objective_cny": np.nan if outcome.dive_objective is None else outcome.dive_objective * MCNY,
            "first_plan_source": outcome.plan_source,  # "rounding dive" or "coarse model's rounding"
            "coarse_objective_cny": np.nan if outcome.coarse_objective is None else outcome.coarse_objective * MCNY,
            "coarse_groups_left": json.dumps(outcome.coarse_left),  # fixed by the large model's dive (short limit)
            "dive_plan_given_to_highs": int(outcome.dive_given),
            "dive_beside_mip": int(outcome.dive_beside_mip),
            "relaxation_warm_start": int(outcome.relaxation_warm),
            "solver_stats": json.dumps(outcome.solver_stats),
            "mip_gap": np.nan if outcome.gap is None else outcome.gap,
            "model_rows": outcome.n_rows,
            "model_columns": outcome.n_cols,
            "model_integers": outcome.n_integers,
            "coefficient_ranges": json.dumps(outcome.coefficient_ranges),
            "solver_options": json.dumps(outcome.options.__dict__, default=str),
            "timings_s": json.dumps({**timings, **outcome.timings}),
            "package_versions": json.dumps(installed_versions()),
            "representative_days": m.planner_data.time.n_days,
        }
    )
