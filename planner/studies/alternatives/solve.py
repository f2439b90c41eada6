"""One near-optimal alternative: the scenario's model with its NPV held within ``(1 + slack)`` of the least cost,
pushed as far as it goes in one direction (:func:`solve_alternative`, the task each worker runs).

**The model is re-used.** The worker's built model (:class:`planner.pipeline.ModelCache`, as sweep
cases share it) is compiled once; an alternative changes only the objective (the direction) and
adds one row, the NPV budget (:meth:`planner.solver.highs.CompiledModel.with_objective`):
``NPV(x) <= (1 + slack) * NPV*``, where ``NPV*`` is the least-cost plan's objective. The least-cost
plan satisfies the budget, so every alternative has a plan.

**Directions** (:class:`Direction`): minimise or maximise a metric of :mod:`planner.results.metrics`
(its linear form over the columns, scaled so the least-cost plan's value is about 1; HiGHS stops
within ``mip_gap`` of that scale, absolute, or ``mip_gap`` relative; a small NPV term breaks ties,
:data:`TIE_BREAK`), or minimise a weighted sum of
the build decisions (random directions, :mod:`planner.studies.alternatives.directions`). A share
(``num / den``) is optimised by Dinkelbach's method: from ``t`` = the least-cost plan's share,
optimise ``num - t * den``, set ``t`` to the new plan's share, and repeat until it moves less than
:data:`SHARE_TOL` (at most :data:`MAX_ITERATIONS` MIPs); each MIP is solved to the scenario's gap.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from planner.model.data import MCNY
from planner.pipeline import build
from planner.results.dataset import to_dataset
from planner.results.metrics import METRICS, Metric, linear_columns, linear_value, metric_columns, metric_value
from planner.results.provenance import record_overrides
from planner.scenario import ScenarioError, load_scenario
from planner.solver.dive import Basis, with_basic_rows
from planner.solver.highs import OBJECTIVE_SCALE, CompiledModel, SolveOptions, SolveOutcome, load_values
from planner.solver.solve import solve
from planner.solver.status import Status
from planner.studies.alternatives.directions import Direction, decision_terms
from planner.studies.sweep.execute import case_solve_options, exception_text, worker_models
from planner.studies.sweep.store import no_plan_info

__all__ = ["MAX_ITERATIONS", "SHARE_TOL", "solve_alternative"]

SHARE_TOL = 1e-3
"""Dinkelbach stops when a share moves by less than this (0.1 percentage point) [-]."""

MAX_ITERATIONS = 5
"""At most this many MIPs for one share direction."""

TIE_BREAK = 1e-3
"""Weight of the NPV (as a share of the budget) in an alternative's objective: among plans that go
equally far, the cheaper one, instead of whatever spends the budget on things the direction does
not see. At most ``TIE_BREAK x slack`` (2e-5 at 2 %) of the direction's scale: it never trades
away a real step of the metric."""


@dataclass
class _Result:
    outcome: SolveOutcome
    compiled: CompiledModel
    value: float  #: the direction's own value of the plan (the metric, or the weighted decisions)
    iterations: int


def _options(options: SolveOptions) -> SolveOptions:
    """The scenario's gap also as an absolute gap on the scaled objective (a metric can be 0 at its optimum)."""
    extra = (*options.extra, ("mip_abs_gap", options.mip_gap * OBJECTIVE_SCALE))
    return dataclasses.replace(options, extra=extra)


def _scale(value: float) -> float:
    return max(abs(value), 1.0)


def _linear(
    compiled: CompiledModel,
    form: tuple[np.ndarray, float],
    sign: float,
    scale: float,
    budget: float,
    options: SolveOptions,
    start: np.ndarray | None,
    basis: Basis | None,
    offset: float = 0.0,
) -> tuple[SolveOutcome, CompiledModel]:
    """Minimise ``sign * form / scale + offset`` plus the cost tie-break, with the NPV at most ``budget`` [MCNY].

    ``start`` (the least-cost plan's columns, feasible for every budget above its cost) is HiGHS's
    first incumbent: no alternative is worse in its own direction than the least-cost plan.
    ``basis`` (the least-cost relaxation's, with the budget row basic) starts the LP relaxation.
    ``offset`` keeps an objective that is about 0 at its optimum (Dinkelbach's ``num - t den``) at
    about 1, so that the relative gap means what it says.
    """
    c, c0 = form
    cost = sign * c / scale + TIE_BREAK * compiled.cost / budget
    alt = compiled.with_objective(cost, sign * c0 / scale + offset + TIE_BREAK * compiled.offset / budget, budget)
    warm = with_basic_rows(basis, 1) if basis is not None else None
    return solve(compiled.model, options, compiled=alt, shadow_prices=False, start=start, warm_basis=warm), alt


def _value(form: tuple[np.ndarray, float], x: np.ndarray) -> float:
    return float(form[0] @ x + form[1])


def _optimise_metric(
    compiled: CompiledModel,
    metric: Metric,
    sense: str,
    reference: xr.Dataset,
    s: Any,
    budget: float,
    options: SolveOptions,
    start: np.ndarray | None,
    basis: Basis | None,
) -> _Result:
    sign = 1.0 if sense == "min" else -1.0
    num, den = metric_columns(compiled.model, compiled.columns, reference, metric, s)
    if den is None:
        outcome, alt = _linear(
            compiled, num, sign, _scale(metric_value(reference, metric, s)), budget, options, start, basis
        )
        value = _value(num, outcome.x) if outcome.x is not None else math.nan
        return _Result(outcome, alt, value, 1)
    # Dinkelbach: a share num/den, from the least-cost plan's share t
    t = metric_value(reference, metric, s)
    den_scale = _scale(linear_value(reference, metric.denominator, s))
    best: _Result | None = None
    iterations = 0
    while iterations < MAX_ITERATIONS:
        iterations += 1
        form = (num[0] - t * den[0], num[1] - t * den[1])
        outcome, alt = _linear(compiled, form, sign, den_scale, budget, options, start, basis, offset=1.0)
        if outcome.x is None:
            break
        d = _value(den, outcome.x)
        share = _value(num, outcome.x) / d if d > 0 else math.nan
        if best is None or (math.isfinite(share) and sign * (share - best.value) < 0):
            best = _Result(outcome, alt, share, 0)
        if not math.isfinite(share) or sign * (t - share) < SHARE_TOL:
            break  # no longer moves: the share is at its optimum (within the MIPs' gap)
        if outcome.status != Status.OPTIMAL:
            break  # a MIP stopped at its time limit: the next would too; keep the best share found
        t = share
    if best is None:
        return _Result(outcome, alt, math.nan, iterations)
    best.iterations = iterations
    return best


def solve_alternative(
    base_path: str,
    overrides: list[str],
    options: dict[str, Any],
    direction: Direction,
    slack: float,
    least_cost_npv_cny: float,
    reference: xr.Dataset,
    start: np.ndarray | None = None,
    basis: Basis | None = None,
) -> tuple[dict[str, Any], xr.Dataset | None]:
    """Solve one alternative in a worker: the base scenario with ``overrides``, its NPV at most
    ``(1 + slack) * least_cost_npv_cny``, pushed along ``direction``.

    ``reference`` is the least-cost plan's Dataset (its inputs weight the metrics), ``start`` its
    column values (the first incumbent of every MIP; None: none, e.g. a different model) and ``basis``
    its LP relaxation's optimal basis (where every relaxation starts, the budget row basic). Returns the
    info (as :func:`planner.studies.sweep.execute.solve_case`: ``status``, ``objective_cny`` — here
    the plan's NPV —, ``mip_gap`` of the direction's objective, ``message``, ``timings``, plus
    ``direction_value`` and ``iterations``) and the alternative's plan.
    """
    t0 = time.perf_counter()
    plan: xr.Dataset | None = None
    try:
        scenario = load_scenario(base_path, overrides)
        loaded = time.perf_counter() - t0
        built = build(scenario, cache=worker_models())
        assert built.compiled is not None  # with a cache, build always compiles
        solve_options = _options(case_solve_options(scenario, options))
        budget = (1 + slack) * least_cost_npv_cny / MCNY
        if direction.kind == "metric":
            result = _optimise_metric(
                built.compiled,
                METRICS[direction.metric],
                direction.sense,
                reference,
                scenario,
                budget,
                solve_options,
                start,
                basis,
            )
        else:
            form = linear_columns(
                built.model, built.compiled.columns, reference, decision_terms(reference, direction), scenario
            )
            outcome, alt = _linear(built.compiled, form, 1.0, 1.0, budget, solve_options, start, basis, offset=1.0)
            result = _Result(outcome, alt, _value(form, outcome.x) if outcome.x is not None else math.nan, 1)
    except ScenarioError as exc:
        info = no_plan_info(Status.ERROR, str(exc))
    except Exception as exc:  # noqa: BLE001 - a failing alternative is recorded, it does not stop the study
        info = no_plan_info(Status.ERROR, exception_text(exc))
    else:
        outcome = result.outcome
        info = no_plan_info(outcome.status, "\n".join(outcome.diagnosis))
        info.update(termination=outcome.termination, iterations=result.iterations, direction_value=result.value)
        timings = {"load": loaded, **built.timings, **outcome.timings}
        if outcome.x is not None:
            load_values(result.compiled, outcome.x)  # the best iterate (Dinkelbach's last may be no better)
            t1 = time.perf_counter()
            plan = record_overrides(to_dataset(built.model, outcome, timings), overrides)
            timings["results"] = time.perf_counter() - t1
            npv = float(plan["npv_cny"])
            plan.attrs.update(
                objective_cny=npv,
                bound_cny=math.nan,
                alternative_id=direction.id,
                alternative_objective=direction.describe(),
                alternative_slack=slack,
                alternative_iterations=result.iterations,
                least_cost_npv_cny=least_cost_npv_cny,
            )
            info.update(objective_cny=npv, mip_gap=math.nan if outcome.gap is None else outcome.gap)
            if outcome.status != Status.OPTIMAL:
                info["message"] = f"stopped ({outcome.termination}) with a plan"
        info["timings"] = {k: round(float(v), 4) for k, v in timings.items()}
    info["wall_time_s"] = time.perf_counter() - t0
    return info, plan
