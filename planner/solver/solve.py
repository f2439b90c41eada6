"""One solve, orchestrated: the relaxation and rounding dive, HiGHS's MIP, then prices or a diagnosis.

The stages (:func:`solve`): the LP relaxation and a rounding dive (:mod:`planner.solver.dive`)
run beside HiGHS's MIP, whose incumbent the dive's plan seeds; a large model of several sites
takes its first plan from a coarser model of the same scenario instead of the dive
(:mod:`planner.solver.coarse`); a plan is loaded into the Pyomo variables and its policy limits
priced (:mod:`planner.solver.prices`); no plan gets a diagnosis in the user's terms
(:mod:`planner.solver.diagnose`).
"""

from __future__ import annotations

import math
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo

from planner.solver.coarse import COARSE_SHARE, CoarsePlan, plan_from_coarse
from planner.solver.diagnose import diagnose_infeasibility
from planner.solver.dive import START_STEP, SUB_MIP_OFF, ConcurrentDive, PlanStart, Relaxation
from planner.solver.highs import (
    OBJECTIVE_SCALE,
    CompiledModel,
    SolveOptions,
    SolveOutcome,
    Status,
    compile_model,
    interior_point,
    new_highs,
    rounded_plan,
    status_of,
    write_values,
)
from planner.solver.prices import price_limits

__all__ = ["run_highs", "solve"]

#: ``SolveOutcome.plan_source`` of a first plan from the coarse model (:mod:`planner.solver.coarse`).
COARSE_SOURCE = "coarse model's rounding"


def run_highs(
    compiled: CompiledModel,
    options: SolveOptions,
    time_limit_s: float | None = None,
    dive: Any = None,
    start: np.ndarray | None = None,
    root_lp: str | None = None,
) -> tuple[highspy.Highs, dict[str, float]]:
    """Pass the compiled model to a new HiGHS instance and run it; return it and timings.

    ``time_limit_s`` overrides the options' limit; ``dive`` is a running
    :class:`planner.solver.dive.ConcurrentDive` that meets the MIP after its root LP; ``start``
    (column values of a feasible plan) is HiGHS's first incumbent; ``root_lp`` the solver of the
    MIP's root LP (HiGHS's ``mip_lp_solver``; default: its own choice, the dual simplex).
    """
    t0 = time.perf_counter()
    h = new_highs(options)
    if time_limit_s is not None:
        h.setOptionValue("time_limit", max(float(time_limit_s), 1e-3))
    user = {name for name, _ in options.extra}  # options the user set: never overridden here
    if root_lp is not None and "mip_lp_solver" not in user:
        h.setOptionValue("mip_lp_solver", root_lp)  # the root LP only; cut rounds and nodes stay on the simplex
    compiled.highs_arrays().pass_to(h)
    if start is not None:
        h.setSolution(len(start), np.arange(len(start), dtype=np.int32), np.ascontiguousarray(start, dtype=float))
    if dive is not None:
        for name, value in SUB_MIP_OFF:
            if name not in user:
                h.setOptionValue(name, value)
        dive.attach(h)
    t1 = time.perf_counter()
    h.run()
    t2 = time.perf_counter()
    return h, {"handoff": t1 - t0, "solve": t2 - t1}


def solve(
    m: pyo.ConcreteModel,
    options: SolveOptions | None = None,
    compiled: CompiledModel | None = None,
    shadow_prices: bool = True,
    warm_basis: Any = None,
    start: np.ndarray | None = None,
    coarse: CompiledModel | None = None,
    plan_start: PlanStart | None = None,
    load_plan: bool = True,
) -> SolveOutcome:
    """Solve the planning model with HiGHS and load the plan into the Pyomo variables.

    Parameters
    ----------
    m : ConcreteModel
        The model from :func:`planner.model.build_model`.
    options : SolveOptions, optional
        Time limit, gap, threads, seed.
    compiled : CompiledModel, optional
        A model already compiled (skips compilation).
    shadow_prices : bool
        Also price the policy limits (duals of one LP: lumpy builds fixed at the plan, servers and
        racks continuous; see :mod:`planner.solver.prices`).
    warm_basis : planner.solver.dive.Basis, optional
        Start the LP relaxation from this basis (of a scenario with the same structure); the
        relaxation's own optimal basis comes back in ``relaxation_basis``.
    start : numpy.ndarray, optional
        Column values of a plan known to be feasible (a near-optimal alternative starts from the
        least-cost plan): HiGHS's first incumbent, and the plan returned wherever nothing better is
        found (so the objective is never worse than the start's).
    coarse : CompiledModel, optional
        The same scenario at fewer representative days: its rounded plan, with the integers fixed
        in this model and the rest re-optimised (:mod:`planner.solver.coarse`), is the first plan
        instead of the rounding dive on this model, whose warm re-solves a large model of several
        sites cannot afford; the relaxation of this model still gives the bound. It runs beside
        that relaxation on a second thread (``options.concurrent_dive``), else before it.
    plan_start : planner.solver.dive.PlanStart, optional
        The plan of a scenario of the same structure (its column values and its last LP's basis,
        ``SolveOutcome.plan_basis``): its integers fixed here and the LP re-solved once after the
        relaxation; taken instead of the rounding dive when within ``options.mip_gap`` of the
        relaxation (``plan_source`` says so), else the dive runs as without it. Not with ``coarse``.
        With its scenario's relaxation duals (``PlanStart.duals``) and ``warm_basis``, that LP comes first
        and the relaxation is skipped when the bound from those duals already proves the plan
        (:mod:`planner.solver.bounds`; ``SolveOutcome.dual_bound``).
    load_plan : bool
        Write the plan into the model's variables (the default). A caller that keeps only the results
        Dataset, which is read from ``SolveOutcome.plan``, can skip it (a sweep case: ~10 ms of its
        ~0.1 s outside HiGHS); the variables then keep what they held (on a re-used model, another
        case's plan).

    Returns
    -------
    SolveOutcome
        Status, objective, bound, gap, timings, and the diagnosis when infeasible.
    """
    options = options or SolveOptions()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    deadline = t0 + options.time_limit_s
    if compiled is None:
        compiled = compile_model(m)
        timings["compile"] = time.perf_counter() - t0
    if start is not None and len(start) != compiled.shape[1]:
        start = None  # another model's plan: no start
    outcome = SolveOutcome(
        status=Status.ERROR,
        termination="",
        objective=None,
        bound=None,
        gap=None,
        timings=timings,
        options=options,
        n_rows=compiled.shape[0],
        n_cols=compiled.shape[1],
        n_integers=int(compiled.integer.sum()),
        coefficient_ranges=compiled.coefficient_ranges(),
    )

    relaxation, dive, concurrent, first = None, None, None, None
    background = False
    if options.dive and compiled.integer.any():
        first = _FirstPlan(compiled, coarse, options, deadline, hurry=t0 + COARSE_SHARE * options.time_limit_s)
        relaxation = Relaxation(compiled, options, start=warm_basis)
        outcome.relaxation_warm = relaxation.warm
        # Side by side only where HiGHS's root LP (dual simplex) keeps pace with the relaxation's. At
        # full resolution the relaxation runs interior point and is minutes ahead (one planning year
        # at 8,760 hours: the dive's plan, 0.02 % from the bound, was ready at 997 s while the MIP's
        # root simplex ran to 1,290 s), so the dive goes first and the MIP runs only if it must.
        background = options.concurrent_dive and not relaxation.cold_interior and coarse is None
        concurrent = ConcurrentDive(
            relaxation,
            deadline,
            background=background,
            round_plan=coarse is None,
            start=plan_start if coarse is None else None,
            accept_gap=options.mip_gap,
        )
        if not background:
            dive = concurrent.finish()
            start = first.better_start(start, timings, outcome)
            dive = _keep_the_start(dive, compiled, start)
            if dive.started:
                outcome.plan_source = START_STEP
    h = None
    if dive is not None and dive.relaxation_status == Status.INFEASIBLE:
        # The dive ran first: with no plan even with the integers relaxed, the MIP has none either.
        outcome.status, outcome.termination = Status.INFEASIBLE, "Infeasible (LP relaxation)"
    elif dive is not None and dive.x is not None and dive.gap is not None and dive.gap <= options.mip_gap:
        # The dive ran first and the relaxation (or a similar scenario's duals) proves its plan within the gap:
        # no MIP needed.
        proof = "the bound from its LP duals" if dive.dual_bound else "the LP relaxation"
        outcome.status = Status.OPTIMAL
        outcome.termination = f"Optimal ({outcome.plan_source} within the gap of {proof})"
        outcome.x, outcome.objective, outcome.bound, outcome.gap = dive.x, dive.objective, dive.bound, dive.gap
    else:
        # A model whose relaxation started cold by interior point gets the same for the MIP's root LP:
        # the dual simplex there is what made such models slow (one planning year at 8,760 h: 1,290 s).
        root_lp = interior_point() if relaxation is not None and relaxation.cold_interior else None
        left = deadline - time.perf_counter()
        h, t = run_highs(compiled, options, time_limit_s=left, dive=concurrent, start=start, root_lp=root_lp)
        timings.update(t)
    if concurrent is not None:
        t1 = time.perf_counter()
        dive = concurrent.finish()
        timings["dive_wait"] = time.perf_counter() - t1
        timings.update({f"dive_{k}": v for k, v in dive.timings.items()})
        outcome.relaxation_bound = None if dive.dual_bound else dive.bound
        outcome.dual_bound = dive.bound if dive.dual_bound else None
        outcome.dive_objective = dive.objective
        outcome.relaxation_solution = dive.solution
        outcome.dive_given = concurrent.given
        outcome.dive_beside_mip = background and h is not None
        outcome.relaxation_basis = dive.basis
        outcome.plan_basis = dive.plan_basis
        if dive.started:
            outcome.plan_source = START_STEP
    if h is not None:
        # The first plan reached HiGHS: the dive's at the meeting, or the coarse model's as its start.
        given = concurrent is not None and (concurrent.given or outcome.plan_source == COARSE_SOURCE)
        _read_mip(h, compiled, outcome, dive, given)

    if outcome.x is not None:
        t1 = time.perf_counter()
        outcome.columns, outcome.plan = compiled.columns, rounded_plan(compiled, outcome.x)
        if load_plan:
            write_values(outcome.columns, outcome.plan)
        timings["load_values"] = time.perf_counter() - t1
        if shadow_prices:
            t2 = time.perf_counter()
            # A working LP instance, where the dive rounded on it (after a coarse model's plan its basis is
            # the relaxation's, as far from the pricing LP as the whole dive: a cold LP is faster there).
            warm = relaxation if dive is not None and dive.bound is not None and coarse is None else None
            outcome.shadow_prices = price_limits(compiled, outcome.x, options, relaxation=warm)
            timings["shadow_prices"] = time.perf_counter() - t2
    elif outcome.status == Status.INFEASIBLE:
        t1 = time.perf_counter()
        outcome.diagnosis = diagnose_infeasibility(compiled, options)
        timings["diagnosis"] = time.perf_counter() - t1
    elif outcome.status == Status.TIME_LIMIT:
        outcome.diagnosis = [
            f"HiGHS stopped at the time limit of {options.time_limit_s:g} s before finding any feasible plan"
        ]
        if first is not None:
            outcome.diagnosis += first.shortfall(timings)
    return outcome


class _FirstPlan:
    """The plan from the coarse model (:mod:`planner.solver.coarse`), on a second thread where allowed."""

    def __init__(
        self,
        compiled: CompiledModel,
        coarse: CompiledModel | None,
        options: SolveOptions,
        deadline: float,
        hurry: float | None = None,
    ):
        self.compiled = compiled
        self.days = None if coarse is None else len(getattr(coarse.model, "D", ()))
        self._pool: ThreadPoolExecutor | None = None
        self._job: Future[CoarsePlan] | None = None
        self._done: CoarsePlan | None = None
        if coarse is None:
            return
        if options.concurrent_dive:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="planner-coarse")
            self._job = self._pool.submit(plan_from_coarse, compiled, coarse, options, deadline, hurry)
        else:
            self._done = plan_from_coarse(compiled, coarse, options, deadline, hurry)

    def better_start(self, start: np.ndarray | None, timings: dict[str, float], outcome: SolveOutcome) -> Any:
        """``start``, or the coarse model's plan where there is one and it is better; its timings recorded."""
        if self._job is not None and self._pool is not None:
            t0 = time.perf_counter()
            try:
                self._done = self._job.result()
            except Exception:  # it only ever helps: the MIP goes on without its plan (as after a failed dive)
                self._done = None
            self._pool.shutdown()
            timings["coarse_wait"] = time.perf_counter() - t0
        plan = self._done
        if plan is None:
            return start
        timings.update(plan.timings)
        outcome.coarse_objective = plan.objective
        if plan.coarse is not None:
            outcome.coarse_left = list(plan.coarse.left)
        if plan.x is None or plan.objective is None:
            return start
        if start is not None and self.compiled.objective(start) <= plan.objective:
            return start
        outcome.plan_source = COARSE_SOURCE
        return plan.x

    def shortfall(self, timings: dict[str, float]) -> list[str]:
        """Why the coarse model gave no plan in time, in the user's terms (nothing when it did not run)."""
        plan = self._done
        if plan is None or plan.coarse is None:
            return []
        rough, large = plan.coarse, plan.large
        spent = {key: plan.timings.get(key, 0.0) for key in ("coarse_dive", "coarse_fixed_lp", "coarse_large_dive")}
        stage = f"The first plan comes from the same scenario at {self.days} representative days"
        if rough.bound is None:
            what = f"its LP relaxation stopped after {rough.timings.get('relaxation', 0.0):.0f} s"
        else:
            what = f"its rounding fixed {len(rough.steps)} groups of whole units in {spent['coarse_dive']:.0f} s"
            if rough.x is not None and (large is None or large.bound is None):
                what += f", but the full model's LP with them fixed gave no plan in {spent['coarse_fixed_lp']:.0f} s"
            elif rough.x is not None:
                what += (
                    f", and the full model's own rounding of the groups left ({', '.join(rough.left)}) stopped"
                    f" after {spent['coarse_large_dive']:.0f} s"
                )
        fine = timings.get("dive_relaxation")
        beside = "" if fine is None else f"; the full model's LP relaxation beside it took {fine:.0f} s"
        longer = "A longer time limit (--time-limit, or solver.time_limit_s) gives it the time."
        return [f"{stage}: {what}{beside}. {longer}"]


def _keep_the_start(dive: Any, compiled: CompiledModel, start: np.ndarray | None) -> Any:
    """The dive's result, its plan replaced by ``start`` where the start is the better plan (lower objective)."""
    if start is None or dive.relaxation_status == Status.INFEASIBLE:
        return dive
    objective = compiled.objective(start)
    if dive.x is None or dive.objective is None or objective < dive.objective:
        dive.x, dive.objective = np.asarray(start, dtype=float), objective
        dive.plan_basis, dive.started = None, False  # not the dive's last LP, nor a PlanStart's plan
    return dive


def _read_mip(h: highspy.Highs, compiled: CompiledModel, outcome: SolveOutcome, dive: Any, given: bool) -> None:
    """Fill ``outcome`` from HiGHS's MIP result (and the dive's, when HiGHS stopped before the meeting)."""
    model_status = h.getModelStatus()
    outcome.termination = h.modelStatusToString(model_status)
    outcome.status = status_of(model_status)
    info = h.getInfo()
    outcome.solver_stats = {
        "mip_node_count": int(info.mip_node_count),
        "simplex_iteration_count": int(info.simplex_iteration_count),
    }
    if info.primal_solution_status == 2 and outcome.status in (Status.OPTIMAL, Status.TIME_LIMIT):  # a feasible plan
        outcome.x = np.asarray(h.getSolution().col_value, dtype=float)
        outcome.objective = float(info.objective_function_value) / OBJECTIVE_SCALE
        if compiled.integer.any():
            bounds = [float(info.mip_dual_bound) / OBJECTIVE_SCALE]
            if dive is not None and dive.bound is not None:
                bounds.append(dive.bound)
            finite = [b for b in bounds if math.isfinite(b)]
            outcome.bound = max(finite) if finite else None
            if outcome.bound is not None:
                outcome.gap = max(0.0, (outcome.objective - outcome.bound) / max(abs(outcome.objective), 1e-9))
        else:
            outcome.bound, outcome.gap = outcome.objective, 0.0
        if (
            dive is not None
            and dive.x is not None
            and dive.objective is not None
            and dive.objective < outcome.objective - 1e-9 * max(1.0, abs(outcome.objective))
        ):
            # HiGHS checks a user solution against its presolved model, whose reductions may cut off
            # a feasible plan (seen on a medium instance: the same plan passed as a MIP start is
            # "feasible"), and can end with a worse incumbent: the dive's plan (an LP optimum with the
            # integers fixed) is a plan all the same, and the better one is returned.
            outcome.x, outcome.objective = dive.x, dive.objective
            if outcome.bound is not None:
                outcome.gap = max(0.0, (outcome.objective - outcome.bound) / max(abs(outcome.objective), 1e-9))
            outcome.termination += f" (plan from the {outcome.plan_source}, better than HiGHS's incumbent)"
        elif given and dive.objective is not None and math.isclose(outcome.objective, dive.objective, rel_tol=1e-9):
            outcome.termination += f" (plan from the {outcome.plan_source})"
    elif dive is not None and dive.x is not None and outcome.status not in (Status.INFEASIBLE, Status.UNBOUNDED):
        # HiGHS stopped (time limit) before the meeting point: the dive's plan is still a plan.
        outcome.status = Status.TIME_LIMIT
        outcome.x, outcome.objective, outcome.bound, outcome.gap = dive.x, dive.objective, dive.bound, dive.gap
