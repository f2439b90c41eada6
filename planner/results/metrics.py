"""Metrics of a plan that near-optimal alternatives push up or down (``plan alternatives --metric NAME``).

A metric is one number per plan, defined **once** here as a linear form of the results Dataset's
variables (:class:`Term`: a variable, a weight from the plan's inputs, all years or the last), or a
ratio of two such forms (a share). The same definition is

* evaluated on a Dataset (:func:`metric_value`: what the alternatives page and ``plan solve``'s
  Dataset show), and
* turned into a coefficient per column of the compiled model (:func:`metric_columns`: the
  objective of an alternative), through the table of :mod:`planner.results.variables`, which says
  which model component each Dataset variable is read from and in which units.

So a metric optimised is exactly the metric reported (a test checks ``c · x`` against
:func:`metric_value` on every alternative). Weights depend only on the plan's inputs (server
types, day weights, emission factors, block ratings), which are the same in every alternative of
a scenario. A share (``domestic_share``, ``liquid_share``) is pushed as a level ``num - t den <= 0``
(:mod:`planner.studies.alternatives.search`).

Names are those of the Dataset's own figures where one exists (``domestic_share``, ``grid_mw``,
``ppa_mw``, ``halls``, ``emissions_t``, ...); the metric is that figure taken over the horizon or
in its last year, as its ``long_name`` says.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any

import numpy as np
import pyomo.environ as pyo
import xarray as xr
from pyomo.repn.linear import LinearRepnVisitor

from planner.results.variables import FIELDS, Field

__all__ = ["METRICS", "Metric", "Term", "metric_columns", "metric_value", "unknown_metrics"]

Weight = Callable[[xr.Dataset, Any], "xr.DataArray | float"]
"""The weight of a term from the plan's Dataset (its input variables) and its scenario."""


def _one(ds: xr.Dataset, s: Any) -> float:
    return 1.0


@dataclass(frozen=True)
class Term:
    """``sum(weight * ds[variable])`` over every entry (or over the last planning year's)."""

    variable: str  #: a Dataset variable read from a model component (its Field's source is ``m.<component>``)
    weight: Weight = _one  #: broadcast against the variable's dims
    last_year: bool = False  #: only the last planning year


@dataclass(frozen=True)
class Metric:
    """One number per plan: ``numerator`` (a sum of terms), divided by ``denominator`` when there is one."""

    name: str
    units: str
    long_name: str
    numerator: tuple[Term, ...]
    denominator: tuple[Term, ...] = ()

    @property
    def is_share(self) -> bool:
        """A ratio of two linear forms (pushed as the level row ``num - t den <= 0``)."""
        return bool(self.denominator)


# --------------------------------------------------------------------------- weights


def _pflops(ds: xr.Dataset, s: Any) -> xr.DataArray:
    return ds["pflops_per_server"]


def _domestic_pflops(ds: xr.Dataset, s: Any) -> xr.DataArray:
    return ds["pflops_per_server"] * ds["accelerator_domestic"]


def _imported(ds: xr.Dataset, s: Any) -> xr.DataArray:
    return 1 - ds["accelerator_domestic"]


def _block_mw(ds: xr.Dataset, s: Any) -> float:
    g = s.power.grid
    return float(g.block_mva * g.power_factor)


def is_liquid(cooling: Any) -> bool:
    """Whether a cooling technology counts as liquid cooling: its ``liquid`` flag, else whether it
    leaves residual heat to another technology's plant (cold plates).
    """
    return bool(cooling.liquid) if cooling.liquid is not None else cooling.residual_heat_to is not None


def _liquid(ds: xr.Dataset, s: Any) -> xr.DataArray:
    flags = [float(is_liquid(s.cooling[str(c)])) for c in ds["cooling"].values]
    return xr.DataArray(flags, dims=("cooling",), coords={"cooling": ds["cooling"].values})


def _grid_emission(ds: xr.Dataset, s: Any) -> xr.DataArray:
    """t per MW-hour of grid import: day weight x the hour's grid factor."""
    return ds["day_weight"] * ds["grid_emission_t_per_mwh"]


def _ppa_emission(ds: xr.Dataset, s: Any) -> xr.DataArray:
    """t per MW-hour taken of each contract: wheeled at the grid's factor, direct at its own."""
    ppas = [s.power.ppa[str(p)] for p in ds["ppa"].values]
    wheeled = xr.DataArray([float(k.delivery == "grid") for k in ppas], dims=("ppa",))
    own = xr.DataArray([float(k.emission_t_per_mwh) for k in ppas], dims=("ppa",))
    return ds["day_weight"] * (wheeled * ds["grid_emission_t_per_mwh"] + (1 - wheeled) * own)


def _last_year(variable: str, weight: Weight = _one) -> tuple[Term, ...]:
    return (Term(variable, weight, last_year=True),)


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric(
            "domestic_share",
            "1",
            "domestic share of installed PFLOPS over the horizon (PFLOPS-years on domestic chips / all)",
            (Term("servers", _domestic_pflops),),
            (Term("servers", _pflops),),
        ),
        Metric(
            "imported_servers",
            "servers",
            "imported servers bought over the horizon",
            (Term("servers_new", _imported),),
        ),
        Metric(
            "installed_pflops",
            "PFLOPS",
            "installed dense BF16 compute in the last year",
            _last_year("servers", _pflops),
        ),
        Metric("grid_mw", "MW", "grid connection in the last year (all blocks)", _last_year("grid_blocks", _block_mw)),
        Metric("ppa_mw", "MW", "PPA capacity contracted in the last year (all contracts)", _last_year("ppa_mw")),
        Metric(
            "liquid_share",
            "1",
            "liquid-cooled share of the racks in service in the last year",
            _last_year("racks", _liquid),
            _last_year("racks"),
        ),
        Metric(
            "emissions_t",
            "t",
            "location-based emissions over the horizon (grid and wheeled energy at the grid's factor, "
            "direct contracts at their own)",
            (Term("grid_import_mw", _grid_emission), Term("ppa_mw_used", _ppa_emission)),
        ),
        Metric("halls", "halls", "data halls in service in the last year", _last_year("halls")),
        Metric("pv_mw", "MW", "PV in service in the last year (peak)", _last_year("pv_mw")),
        Metric("battery_mwh", "MWh", "battery energy capacity in the last year", _last_year("battery_mwh")),
    )
}
"""Every metric, by the name ``--metric`` takes."""


def unknown_metrics(names: Sequence[str]) -> list[str]:
    """A sentence per name that is not a metric, with the closest names (empty if all are known)."""
    out = []
    for name in names:
        if name not in METRICS:
            close = get_close_matches(name, list(METRICS), n=3, cutoff=0.5)
            hint = f"; did you mean {' or '.join(close)}?" if close else f"; the metrics are {', '.join(METRICS)}"
            out.append(f"unknown metric {name!r}{hint}")
    return out


# --------------------------------------------------------------------------- on a Dataset


def _weighted(ds: xr.Dataset, term: Term, s: Any) -> xr.DataArray:
    values = ds[term.variable]
    weighted = values * term.weight(ds, s)
    if term.last_year:
        weighted = weighted.isel(year=-1)
    return weighted


def linear_value(ds: xr.Dataset, terms: Sequence[Term], s: Any) -> float:
    """``sum over terms of sum(weight * variable)`` on a plan's Dataset."""
    return float(sum(float(_weighted(ds, t, s).sum()) for t in terms))


def metric_value(ds: xr.Dataset, metric: Metric, s: Any) -> float:
    """The metric of a plan, from its Dataset and scenario (NaN for a share of nothing)."""
    num = linear_value(ds, metric.numerator, s)
    if not metric.is_share:
        return num
    den = linear_value(ds, metric.denominator, s)
    return num / den if den > 0 else float("nan")


# --------------------------------------------------------------------------- on the compiled model

_FIELD = {f.name: f for f in FIELDS}


def _model_field(variable: str) -> Field:
    f = _FIELD.get(variable)
    if f is None or not f.source.startswith("m."):
        raise ValueError(f"metric term {variable!r} is not a Dataset variable read from the model")
    return f


def _term_entries(m: pyo.ConcreteModel, ds: xr.Dataset, term: Term, s: Any) -> list[tuple[Any, float]]:
    """(model component entry, coefficient in the metric's units per model unit) of every entry of a term."""
    f = _model_field(term.variable)
    component = getattr(m, f.source.removeprefix("m."))
    weight = xr.DataArray(0.0) + term.weight(ds, s)  # as an array, broadcast below
    weight = weight.broadcast_like(ds[term.variable]).transpose(*f.dims)
    positions = [{label: i for i, label in enumerate(ds[dim].values.tolist())} for dim in f.dims]
    last = ds["year"].values.tolist()[-1] if term.last_year else None
    year_at = f.dims.index("year") if "year" in f.dims else None
    per_unit = f.scale / f.divide
    w = weight.values
    out = []
    for index in component:
        key = index if isinstance(index, tuple) else (index,)
        if last is not None and year_at is not None and key[year_at] != last:
            continue
        coef = float(w[tuple(p[k] for p, k in zip(positions, key, strict=True))]) * per_unit
        if coef != 0.0:
            out.append((component[index], coef))
    return out


def linear_columns(
    m: pyo.ConcreteModel, columns: Sequence[Any], ds: xr.Dataset, terms: Sequence[Term], s: Any
) -> tuple[np.ndarray, float]:
    """A sum of terms as ``(c, c0)`` over the compiled model's columns: its value is ``c @ x + c0``.

    ``columns`` are the compiled model's variables in column order
    (:attr:`planner.solver.highs.CompiledModel.columns`); ``ds`` is any plan of the same scenario
    (only its input variables and coordinates are read, for the weights and labels).
    """
    where = {id(v): j for j, v in enumerate(columns)}
    c = np.zeros(len(columns))
    constant = 0.0
    visitor = LinearRepnVisitor({})
    for term in terms:
        for entry, coef in _term_entries(m, ds, term, s):
            repn = visitor.walk_expression(entry)
            visitor.subexpression_cache.clear()
            if repn.nonlinear is not None:
                raise ValueError(f"metric term {term.variable!r} is not linear in the model")
            for vid, a in repn.linear.items():
                j = where.get(id(visitor.var_map[vid]))
                if j is not None:  # a variable the compiler dropped is fixed: read as its value
                    c[j] += coef * a
                else:
                    constant += coef * a * float(pyo.value(visitor.var_map[vid]))
            constant += coef * float(repn.constant)
    return c, constant


def metric_columns(
    m: pyo.ConcreteModel, columns: Sequence[Any], ds: xr.Dataset, metric: Metric, s: Any
) -> tuple[tuple[np.ndarray, float], tuple[np.ndarray, float] | None]:
    """The metric's numerator (and denominator, for a share) as linear forms over the columns."""
    num = linear_columns(m, columns, ds, metric.numerator, s)
    den = linear_columns(m, columns, ds, metric.denominator, s) if metric.is_share else None
    return num, den
