"""One near-optimal alternative: the scenario's model with its NPV held within ``(1 + slack)`` of the least cost,
pushed as far as it goes in one direction (:func:`solve_alternative`, the task each worker runs).

**The model is re-used.** The worker's built model (:class:`planner.pipeline.ModelCache`, as sweep
cases share it) is compiled once; an alternative adds one row to it.

**Directions** (:class:`Direction`): minimise or maximise a metric of :mod:`planner.results.metrics`
(its linear form over the columns, scaled so the least-cost plan's value is about 1), or minimise a
weighted sum of the build decisions (random directions,
:mod:`planner.studies.alternatives.directions`). A share (``num / den``) is a ratio of two forms.

**The search** (:mod:`planner.studies.alternatives.search`) finds the plan as the least-cost plan at
a *level* of the direction (``d(x) <= z``; for a share ``num - t den <= 0``), the level pushed as
far as the NPV budget allows: LPs with the cost as objective, re-solved in seconds, and the rounding
dive of :mod:`planner.solver.dive`. It also proves the direction's *limit*: how far any plan within
the slack could go, so that the room left between plan and limit is known.

**The MIP**, only where the search's plan is not within the scenario's gap of that limit, in the
time left: HiGHS minimises the direction itself with one more row, the NPV budget
(:meth:`planner.solver.highs.CompiledModel.with_objective`: ``NPV(x) <= (1 + slack) * NPV*``), from
the search's plan (HiGHS stops within ``mip_gap`` of the direction's scale, absolute, or ``mip_gap``
relative; a small NPV term breaks ties, :data:`TIE_BREAK`; a share is Dinkelbach's ``num - t den``
at the search's limit ``t``). The budget margins of the rounding dive keep rounding from breaking
the budget there.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
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
from planner.studies.alternatives.search import Level, Searched, search
from planner.studies.sweep.execute import case_solve_options, exception_text, worker_models
from planner.studies.sweep.store import no_plan_info

__all__ = ["solve_alternative"]

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
    iterations: int  #: LPs solved by the search
    limit: float = math.nan
    """No plan within the budget goes beyond this value in the direction (a proven bound; NaN: none)."""
    searched: float = math.nan
    """The value the search's plan reached, before the MIP (if it ran)."""


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


def _better(sign: float, a: float, b: float) -> float:
    """The tighter of two limits of a metric pushed with ``sign`` (1: down, so the larger; NaN: none)."""
    known = [v for v in (a, b) if math.isfinite(v)]
    return sign * max(sign * v for v in known) if known else math.nan


def _direction(
    compiled: CompiledModel,
    level: Level,
    mip_form: Callable[[float], tuple[np.ndarray, float]],
    sign: float,
    scale: float,
    mip_scale: float,
    budget: float,
    options: SolveOptions,
    start: np.ndarray | None,
    basis: Basis | None,
    offset: float = 0.0,
) -> tuple[SolveOutcome, CompiledModel, float, Searched]:
    """Search the direction as least-cost plans at its levels (:mod:`.search`), then, unless the plan
    found is within the gap of the proven limit, HiGHS's MIP of the direction under the NPV budget from
    that plan, in the time left. ``level``'s positions are ``sign * value / scale``; ``mip_form(limit)``
    is the form the MIP minimises (times ``sign``, over ``mip_scale``) given the search's limit of the
    value, plus ``offset`` (:func:`_linear`). Without a ``start`` of this model (no plan within the
    budget to search from), the MIP alone.

    Returns the outcome, the model solved, the limit of the value (NaN: none proven) and what the search
    found (its position, LPs and dives).
    """
    t0 = time.perf_counter()
    if start is None or len(start) != compiled.shape[1]:
        found, plan = Searched(None, math.inf), None
    else:
        found = search(compiled, level, budget, start, options, basis, deadline=t0 + options.time_limit_s)
        plan = found.x if found.x is not None else start
    limit = sign * scale * found.limit if math.isfinite(found.limit) else math.nan
    gap = max(found.position - found.limit, 0.0)
    if plan is not None and gap <= options.mip_gap * max(abs(found.position), 1.0):
        outcome = SolveOutcome(
            status=Status.OPTIMAL,
            termination="Optimal (least-cost plans at the direction's levels, within the gap of its proven limit)",
            objective=found.position,
            bound=found.limit,
            gap=gap / max(abs(found.position), 1.0),
            timings={"search": time.perf_counter() - t0},
            options=options,
            n_rows=compiled.shape[0],
            n_cols=compiled.shape[1],
            n_integers=int(compiled.integer.sum()),
            x=plan,
        )
        return outcome, compiled, limit, found
    searched = time.perf_counter() - t0
    left = max(options.time_limit_s - searched, 1.0)
    warm = with_basic_rows(basis, 1) if basis is not None else None
    outcome, alt, mip_limit = _linear(
        compiled,
        mip_form(limit),
        sign,
        mip_scale,
        budget,
        dataclasses.replace(options, time_limit_s=left),
        plan,
        warm,
        offset=offset,
    )
    outcome.timings["search"] = searched
    if level.convex:  # the MIP's bound is on the value itself
        limit = _better(sign, limit, mip_limit)
    return outcome, alt, limit, found


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
        scale = _scale(metric_value(reference, metric, s))
        level = Level.linear((sign * num[0] / scale, sign * num[1] / scale))
        outcome, alt, limit, found = _direction(
            compiled, level, lambda _: num, sign, scale, scale, budget, options, start, basis
        )
        value = _value(num, outcome.x) if outcome.x is not None else math.nan
        return _Result(outcome, alt, value, found.lps, limit, sign * scale * found.position)
    # A share num/den: its levels are the rows sign * (num - t den) <= 0; the MIP, if it runs,
    # minimises sign * (num - t den) at the search's limit t (Dinkelbach's form at the LP's best share).
    den_scale = _scale(linear_value(reference, metric.denominator, s))
    at = metric_value(reference, metric, s)

    def form(t: float) -> tuple[np.ndarray, float]:
        t = t if math.isfinite(t) else at
        return (num[0] - t * den[0], num[1] - t * den[1])

    outcome, alt, limit, found = _direction(
        compiled, Level.share(num, den, sign), form, sign, 1.0, den_scale, budget, options, start, basis, offset=1.0
    )
    share = math.nan
    if outcome.x is not None and (d := _value(den, outcome.x)) > 0:
        share = _value(num, outcome.x) / d
    return _Result(outcome, alt, share, found.lps, limit, sign * found.position)


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
            outcome, alt, limit, found = _direction(
                built.compiled,
                Level.linear(form),
                lambda _: form,
                1.0,
                1.0,
                1.0,
                budget,
                solve_options,
                start,
                basis,
                offset=1.0,
            )
            value = _value(form, outcome.x) if outcome.x is not None else math.nan
            result = _Result(outcome, alt, value, found.lps, limit, found.position)
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
            direction_searched=result.searched,
        )
        timings = {"load": loaded, **built.timings, **outcome.timings}
        if outcome.x is not None:
            load_values(result.compiled, outcome.x)
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
                alternative_searched=result.searched,
                least_cost_npv_cny=least_cost_npv_cny,
            )
            info.update(objective_cny=npv, mip_gap=math.nan if outcome.gap is None else outcome.gap)
            if outcome.status != Status.OPTIMAL:
                info["message"] = f"stopped ({outcome.termination}) with a plan"
        info["timings"] = {k: round(float(v), 4) for k, v in timings.items()}
    info["wall_time_s"] = time.perf_counter() - t0
    return info, plan
