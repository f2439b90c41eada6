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
(``num / den``) is optimised by Dinkelbach's method on the LP relaxation: from ``t`` = the
least-cost plan's share, optimise ``num - t * den``, set ``t`` to the new point's share, and repeat
until it moves less than :data:`SHARE_TOL` (at most :data:`MAX_ITERATIONS` LPs, each from the
last one's basis, seconds each); then one MIP optimises ``num - t * den`` at that ``t``, from the
last LP's basis. The LP's share is the direction's proven limit; the MIP's plan is the answer.

**The MIP** is HiGHS's, after the relaxation and the rounding dive of :mod:`planner.solver.dive`,
whose budget margins keep rounding from breaking the NPV budget (without them no direction on the
default left the least-cost plan). Every alternative records its *limit*: how far any plan within
the slack could go in its direction (the relaxation's or the MIP's bound, worked back to the
metric), so that a plan stopped at its time limit still says how much room it may have missed.
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
from planner.solver.dive import Basis, Relaxation, basis_arrays, with_basic_rows
from planner.solver.highs import OBJECTIVE_SCALE, CompiledModel, SolveOptions, SolveOutcome, load_values
from planner.solver.solve import solve
from planner.solver.status import Status
from planner.studies.alternatives.directions import Direction, decision_terms
from planner.studies.sweep.execute import case_solve_options, exception_text, worker_models
from planner.studies.sweep.store import no_plan_info

__all__ = ["MAX_ITERATIONS", "SHARE_TOL", "solve_alternative"]

SHARE_TOL = 1e-6
"""Dinkelbach stops when the LP's share moves by less than this [-]."""

MAX_ITERATIONS = 20
"""At most this many LPs for one share direction (Dinkelbach converges superlinearly: 3-6 on the default)."""

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
    iterations: int  #: LPs solved for a share (Dinkelbach), else 1
    limit: float = math.nan
    """No plan within the budget goes beyond this value in the direction (a proven bound; NaN: none)."""


def _options(options: SolveOptions) -> SolveOptions:
    """The scenario's gap also as an absolute gap on the scaled objective (a metric can be 0 at its optimum)."""
    extra = (*options.extra, ("mip_abs_gap", options.mip_gap * OBJECTIVE_SCALE))
    return dataclasses.replace(options, extra=extra)


def _scale(value: float) -> float:
    return max(abs(value), 1.0)


def _objective(
    compiled: CompiledModel, form: tuple[np.ndarray, float], sign: float, scale: float, budget: float, offset: float
) -> tuple[np.ndarray, float]:
    """``sign * form / scale + offset`` plus the cost tie-break, as costs and a constant [scaled]."""
    c, c0 = form
    cost = sign * c / scale + TIE_BREAK * compiled.cost / budget
    return cost, sign * c0 / scale + offset + TIE_BREAK * compiled.offset / budget


def _linear(
    compiled: CompiledModel,
    form: tuple[np.ndarray, float],
    sign: float,
    scale: float,
    budget: float,
    options: SolveOptions,
    start: np.ndarray | None,
    warm: Basis | None,
    offset: float = 0.0,
) -> tuple[SolveOutcome, CompiledModel, float]:
    """Minimise ``sign * form / scale + offset`` plus the cost tie-break, with the NPV at most ``budget`` [MCNY].

    ``start`` (the least-cost plan's columns, feasible for every budget above its cost) is HiGHS's
    first incumbent: no alternative is worse in its own direction than the least-cost plan.
    ``warm`` (a basis of this model with its budget row) starts the LP relaxation.
    ``offset`` keeps an objective that is about 0 at its optimum (Dinkelbach's ``num - t den``) at
    about 1, so that the relative gap means what it says. Returns the outcome, the model solved and
    the *limit* of ``form``: no plan within the budget has ``sign * form`` below ``sign * limit``
    (from the proven bound ``L`` of the objective: every plan has ``sign * form / scale >= L -
    offset - TIE_BREAK``, its NPV being at most the budget; NaN without a bound).
    """
    cost, constant = _objective(compiled, form, sign, scale, budget, offset)
    alt = compiled.with_objective(cost, constant, budget)
    outcome = solve(compiled.model, options, compiled=alt, shadow_prices=False, start=start, warm_basis=warm)
    limit = math.nan if outcome.bound is None else sign * scale * (outcome.bound - offset - TIE_BREAK)
    return outcome, alt, limit


def _value(form: tuple[np.ndarray, float], x: np.ndarray) -> float:
    return float(form[0] @ x + form[1])


def _share_lp(
    compiled: CompiledModel,
    num: tuple[np.ndarray, float],
    den: tuple[np.ndarray, float],
    sign: float,
    t: float,
    den_scale: float,
    budget: float,
    options: SolveOptions,
    basis: Basis | None,
) -> tuple[float, bool, Basis, int] | None:
    """Dinkelbach's method on the LP relaxation, from the share ``t``: the best share of any LP point
    within the budget found, whether it converged (then that share is a proven limit for every plan;
    otherwise only a share some LP point reaches), the last LP's basis and the LPs solved.
    None when an LP stops short (time limit, numerical trouble): the MIP then starts from ``t``.
    """

    def costs(t: float) -> np.ndarray:
        return _objective(compiled, (num[0] - t * den[0], 0.0), sign, den_scale, budget, 0.0)[0]

    alt = compiled.with_objective(costs(t), 0.0, budget)
    lp = Relaxation(alt, options, start=with_basic_rows(basis, 1) if basis is not None else None)
    deadline = time.perf_counter() + options.time_limit_s
    iterations, converged = 0, False
    while iterations < MAX_ITERATIONS:
        iterations += 1
        status, _ = lp.solve_lp(deadline - time.perf_counter())
        if status != Status.OPTIMAL:
            return None
        x = lp.values()
        d = _value(den, x)
        if d <= 0:
            return None
        share = _value(num, x) / d
        moved = sign * (t - share)  # > 0: the share went further in the direction
        if moved > 0:
            t = share
        if moved < SHARE_TOL:
            converged = True
            break
        lp.set_objective(costs(t))
    return t, converged, basis_arrays(lp.highs.getBasis()), iterations


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
    warm = with_basic_rows(basis, 1) if basis is not None else None
    num, den = metric_columns(compiled.model, compiled.columns, reference, metric, s)
    if den is None:
        outcome, alt, limit = _linear(
            compiled, num, sign, _scale(metric_value(reference, metric, s)), budget, options, start, warm
        )
        value = _value(num, outcome.x) if outcome.x is not None else math.nan
        return _Result(outcome, alt, value, 1, limit)
    # A share num/den: Dinkelbach on the LP, then one MIP at the LP's share
    t = metric_value(reference, metric, s)
    den_scale = _scale(linear_value(reference, metric.denominator, s))
    t0 = time.perf_counter()
    lp = _share_lp(compiled, num, den, sign, t, den_scale, budget, options, basis)
    limit, iterations = math.nan, 0
    if lp is not None:
        t, converged, warm, iterations = lp
        limit = t if converged else math.nan  # not converged: an LP point's share, no proof of a limit
    # one time limit for the whole direction: the MIP gets what the LPs left
    options = dataclasses.replace(options, time_limit_s=max(options.time_limit_s - (time.perf_counter() - t0), 1.0))
    form = (num[0] - t * den[0], num[1] - t * den[1])
    outcome, alt, _ = _linear(compiled, form, sign, den_scale, budget, options, start, warm, offset=1.0)
    share = math.nan
    if outcome.x is not None and (d := _value(den, outcome.x)) > 0:
        share = _value(num, outcome.x) / d
    return _Result(outcome, alt, share, iterations, limit)


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
            warm = with_basic_rows(basis, 1) if basis is not None else None
            outcome, alt, limit = _linear(
                built.compiled, form, 1.0, 1.0, budget, solve_options, start, warm, offset=1.0
            )
            result = _Result(outcome, alt, _value(form, outcome.x) if outcome.x is not None else math.nan, 1, limit)
    except ScenarioError as exc:
        info = no_plan_info(Status.ERROR, str(exc))
    except Exception as exc:  # noqa: BLE001 - a failing alternative is recorded, it does not stop the study
        info = no_plan_info(Status.ERROR, exception_text(exc))
    else:
        outcome = result.outcome
        info = no_plan_info(outcome.status, "\n".join(outcome.diagnosis))
        info.update(
            termination=outcome.termination,
            iterations=result.iterations,
            direction_value=result.value,
            direction_limit=result.limit,
        )
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
                alternative_limit=result.limit,
                least_cost_npv_cny=least_cost_npv_cny,
            )
            info.update(objective_cny=npv, mip_gap=math.nan if outcome.gap is None else outcome.gap)
            if outcome.status != Status.OPTIMAL:
                info["message"] = f"stopped ({outcome.termination}) with a plan"
        info["timings"] = {k: round(float(v), 4) for k, v in timings.items()}
    info["wall_time_s"] = time.perf_counter() - t0
    return info, plan
