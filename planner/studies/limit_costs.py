"""What does each binding policy limit cost in total? One re-solve per limit, with it relaxed in every year.

A shadow price (``shadow_price``) is the cost of one step at the margin; this study answers the
question a planner asks next: what would the plan cost without the limit? For every limit that
binds in some year (:func:`planner.results.kpis.binding`) the scenario is solved again with that
limit **relaxed in every year it is set** (:data:`RELAXED`), and

    limit cost = NPV(plan) - NPV(plan with the limit relaxed)

Both are MIP solutions within a gap, so the exact difference of the two optima is only known to lie
in an interval made from each solve's proven lower bound (the outcome's ``bound``):

    [LB(plan) - NPV(relaxed), NPV(plan) - LB(relaxed)]

tightened by two facts that always hold: the plan is feasible with the limit relaxed (the relaxed
value is looser in every year), so the relaxed optimum is at most NPV(plan) and NPV(relaxed) is
taken as ``min(NPV(relaxed), NPV(plan))``; and relaxing a limit never costs more, so the low end is
at least 0.

**Relaxed, not removed.** The years a limit is set in are part of the model's structure
(:func:`planner.model.update.structure_key`), so the limit keeps its years and takes a value that
cannot bind: a PUE cap of 3 (the schema's highest), share minimums and the compute target of 0, a
carbon cap of 10^12 t a year. The scenario then differs from the plan's only in numbers, and the
built model is re-used (:class:`planner.pipeline.ModelCache`, its matrices patched) with the LP
relaxation warm-started from the plan's basis, as a sweep's cases are
(:mod:`planner.studies.sweep.execute`). One exception: a green-share minimum of 0 would still cap the
certificates (``certificate_cap``: at most ``max_share`` x the minimum x facility energy), which
matters where certificates also lower market-based emissions under a carbon price or cap; there
the minimum is removed instead (``None``), and the model is built again for it.

Each relaxed solve has the plan's solver options (time limit, gap). A relaxed value that still binds
(:func:`planner.results.kpis.binding` on the relaxed plan) is said in the limit's method text.

Results (:func:`add_limit_costs`): ``limit_cost_cny``, ``limit_cost_low_cny`` and
``limit_cost_high_cny`` (limit) [CNY, NPV], NaN for limits that do not bind or could not be
re-solved, and ``limit_cost_method`` (limit), how each was obtained.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from planner.pipeline import ModelCache, PlanRun, plan_scenario, relaxation_basis
from planner.results.kpis import LIMIT_KPIS, binding
from planner.scenario import Scenario, YearSeries
from planner.solver.highs import SolveOptions, load_values

__all__ = ["METHOD", "RELAXED", "LimitCost", "LimitCosts", "add_limit_costs", "limit_costs", "relaxed_scenario"]

#: The value each limit is relaxed to, in every year it is set (its unit: that of the policy field).
RELAXED: dict[str, float] = {
    "pue_max": 3.0,
    "green_share_min": 0.0,
    "domestic_compute_share_min": 0.0,
    "installed_eflops_min": 0.0,
    "carbon_cap_t": 1e12,
}

METHOD = "re-solve with the limit relaxed in every year; interval from the two MIP bounds"


@dataclass
class LimitCost:
    """The total cost of one binding limit."""

    limit: str  #: a name of the ``limit`` coordinate (and the policy field)
    relaxed_to: float | None  #: the value it was relaxed to in every year it is set (None: removed)
    status: str  #: how the relaxed solve ended (``planner.solver.status.Status``)
    npv_relaxed_cny: float = math.nan  #: NPV of the relaxed plan [CNY]
    bound_relaxed_cny: float = math.nan  #: proven lower bound of the relaxed optimum [CNY]
    cost_cny: float = math.nan  #: NPV(plan) - NPV(relaxed plan) [CNY]
    low_cny: float = math.nan  #: the exact cost is at least this [CNY]
    high_cny: float = math.nan  #: and at most this [CNY]
    seconds: float = 0.0
    note: str = ""  #: how it was obtained, or why there is no figure


@dataclass
class LimitCosts:
    """The cost of every binding limit of a plan."""

    npv_cny: float  #: NPV of the plan [CNY]
    bound_cny: float  #: proven lower bound of the plan's optimum [CNY]
    costs: dict[str, LimitCost] = field(default_factory=dict)
    seconds: float = 0.0


def _relaxed_value(scenario: Scenario, limit: str) -> float | None:
    """What ``limit`` is relaxed to (None: removed, see the module docstring)."""
    policy = scenario.policy
    if limit == "green_share_min":
        market = policy.emissions_basis == "market" and (
            policy.carbon_price_cny_per_t is not None or policy.carbon_cap_t is not None
        )
        if market and scenario.power.green_certificates.max_share < 1:
            return None
    return RELAXED[limit]


def relaxed_scenario(scenario: Scenario, limit: str) -> Scenario:
    """``scenario`` with the policy ``limit`` relaxed in every year it is set (:data:`RELAXED`).

    The relaxed series names the same years (a scalar stays a scalar; a map from its first year to
    the last planning year), so the model's structure is kept, except for a removed limit.
    """
    series = getattr(scenario.policy, limit)
    if series is None:
        raise ValueError(f"policy.{limit} is not set: nothing to relax")
    value = _relaxed_value(scenario, limit)
    relaxed: YearSeries | None = None
    if value is not None:
        years = [y for y in (series.first_year, scenario.years[-1]) if y is not None]
        points = ((None, value),) if series.is_scalar else tuple((y, value) for y in dict.fromkeys(years))
        relaxed = YearSeries(points, series.unit, series.open_start)
    return scenario.model_copy(update={"policy": scenario.policy.model_copy(update={limit: relaxed})})


def limit_costs(
    run: PlanRun,
    options: SolveOptions,
    cache: ModelCache | None = None,
    limits: Sequence[str] | None = None,
) -> LimitCosts:
    """Re-solve the plan's scenario once per binding limit, that limit relaxed in every year.

    Parameters
    ----------
    run : PlanRun
        The plan (with its Dataset). Give the ``cache`` it was planned with
        (``plan_scenario(..., cache=cache)``) to re-use its built model; its model then holds the
        plan again when this returns (numbers and variable values).
    options : SolveOptions
        The solver options of each re-solve (the plan's).
    cache : ModelCache, optional
        Built models to re-use (a new one if not given).
    limits : sequence of str, optional
        The limits to cost (default: every limit that binds in some year).

    Returns
    -------
    LimitCosts
    """
    ds = run.dataset
    if ds is None:
        raise ValueError("the run has no plan")
    t0 = time.perf_counter()
    cache = cache if cache is not None else ModelCache()
    binds = binding(ds).any("year")
    bound_limits = [str(k) for k in binds["limit"].values if bool(binds.sel(limit=k))]
    todo = [k for k in (limits if limits is not None else LIMIT_KPIS) if k in bound_limits]
    npv, bound = float(ds.attrs["objective_cny"]), float(ds.attrs["bound_cny"])
    out = LimitCosts(npv, bound if np.isfinite(bound) else npv)
    basis = run.outcome.relaxation_basis
    if todo and basis is None:
        basis = relaxation_basis(run.scenario, options, cache)
    for limit in todo:
        out.costs[limit] = _relaxed_cost(run.scenario, limit, options, cache, basis, out)
    if todo:
        _restore(run, cache)
    out.seconds = time.perf_counter() - t0
    return out


def _relaxed_cost(
    scenario: Scenario, limit: str, options: SolveOptions, cache: ModelCache, basis: object, plan: LimitCosts
) -> LimitCost:
    """Solve ``scenario`` with ``limit`` relaxed; its cost against ``plan`` and the interval."""
    t0 = time.perf_counter()
    relaxed = relaxed_scenario(scenario, limit)
    value = _relaxed_value(scenario, limit)
    run = plan_scenario(relaxed, options, shadow_prices=False, cache=cache, warm_basis=basis)
    seconds = time.perf_counter() - t0
    what = (
        f"policy.{limit} relaxed to {value:g} in every year it is set"
        if value is not None
        else f"policy.{limit} removed (a minimum of 0 would still cap the certificates)"
    )
    cost = LimitCost(limit, value, str(run.outcome.status), seconds=seconds)
    if run.dataset is None:
        cost.note = f"{what}: no plan ({run.outcome.termination})"
        return cost
    npv_relaxed = float(run.dataset.attrs["objective_cny"])
    bound_relaxed = float(run.dataset.attrs["bound_cny"])
    bound_relaxed = bound_relaxed if np.isfinite(bound_relaxed) else npv_relaxed
    best = min(npv_relaxed, plan.npv_cny)  # the plan is feasible with the limit relaxed
    cost.npv_relaxed_cny, cost.bound_relaxed_cny = npv_relaxed, bound_relaxed
    cost.cost_cny = plan.npv_cny - best
    cost.low_cny = max(0.0, plan.bound_cny - best)
    cost.high_cny = max(cost.cost_cny, plan.npv_cny - bound_relaxed)
    gap = run.dataset.attrs.get("mip_gap", math.nan)
    cost.note = f"{what}; re-solve {run.outcome.status} (MIP gap {gap:.2%}, {seconds:.1f} s)"
    if value is not None and bool(binding(run.dataset).sel(limit=limit).any()):
        cost.note += "; the relaxed value still binds: the cost shown is a lower bound"
    return cost


def _restore(run: PlanRun, cache: ModelCache) -> None:
    """Give the plan's model back its numbers and its plan, if the re-solves used it."""
    reused = cache.reuse(run.scenario)
    if reused is not None and reused[0] is run.model and run.outcome.x is not None:
        load_values(reused[1], run.outcome.x)


def add_limit_costs(ds: xr.Dataset, result: LimitCosts) -> xr.Dataset:
    """Write the costs into the plan's Dataset: ``limit_cost_cny``, ``limit_cost_low_cny``,
    ``limit_cost_high_cny`` (limit) [CNY, NPV] and ``limit_cost_method`` (limit); NaN (and a
    method saying so) for limits that do not bind. The study's seconds join ``timings_s``.
    """
    limits = [str(v) for v in ds["limit"].values] if "limit" in ds.coords else list(LIMIT_KPIS)
    values = {name: np.full(len(limits), np.nan) for name in ("cost", "low", "high")}
    methods = np.full(len(limits), "not binding: not computed", dtype=object)
    for i, limit in enumerate(limits):
        cost = result.costs.get(limit)
        if cost is None:
            continue
        values["cost"][i], values["low"][i], values["high"][i] = cost.cost_cny, cost.low_cny, cost.high_cny
        methods[i] = cost.note
    common = {"units": "CNY", "method": METHOD}
    ds["limit_cost_cny"] = xr.DataArray(
        values["cost"],
        dims="limit",
        coords={"limit": limits},
        attrs={
            **common,
            "long_name": "total cost of each binding limit: NPV of the plan less the NPV of the plan re-solved "
            "with the limit relaxed in every year (NaN: not binding, or not computed)",
        },
    )
    for end, words in (("low", "at least"), ("high", "at most")):
        ds[f"limit_cost_{end}_cny"] = xr.DataArray(
            values[end],
            dims="limit",
            coords={"limit": limits},
            attrs={**common, "long_name": f"the exact total cost of each binding limit is {words} this (MIP bounds)"},
        )
    ds["limit_cost_method"] = xr.DataArray(
        methods.astype(str),
        dims="limit",
        coords={"limit": limits},
        attrs={"units": "1", "long_name": "how each limit's total cost was obtained"},
    )
    try:
        timings = json.loads(str(ds.attrs.get("timings_s", "{}")))
    except ValueError:
        timings = {}
    ds.attrs["timings_s"] = json.dumps({**timings, "limit_costs": round(result.seconds, 4)})
    return ds
