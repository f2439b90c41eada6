"""The hedged plan by progressive hedging (``method: ph``): each future solved on its own, their first-stage
decisions pulled to a consensus by mpi-sppy's PH (Rockafellar and Wets 1991; Pyomo's own stochastic-programming
framework), the consensus then fixed and evaluated in every future (:func:`solve_progressive`).

**The subproblems** are the planner's own models: each future built by :func:`planner.pipeline.build` (as
``plan solve`` builds it) and compiled. Its first-stage columns are the rule's
(:func:`planner.model.stages.first_stage_mask`), handed to mpi-sppy as the ROOT node's variables in one name
order shared by every future (:func:`mpisppy.utils.sputils.attach_root_node`); a decision some future does not
have is a placeholder column held at 0 there, as the extensive form holds it at 0. The first-stage cost given
to mpi-sppy (which only reports it) is the objective's part on those columns, ``sum_j c_j x_j`` [MCNY]: the
discounted capital charges of the builds decided now.

**PH** (``mpisppy.opt.ph.PH``, single process: mpi-sppy's own stand-in for MPI when mpi4py is absent)
minimises ``E[NPV]``. Every iteration solves each future's MIP with HiGHS (``appsi_highs``, at the study's
MIP gap and time limit) with the dual weights ``W`` and the proximal term ``rho/2 (x - xbar)^2`` added; the
proximal term is linearised by outer-approximation cuts (``linearize_proximal_terms``), since HiGHS solves no
MIQP. ``rho_j = rho_factor * |c_j|``, the decision's cost coefficient (mpi-sppy's advice for MIPs; a decision
without a cost takes the median of the others'). PH stops when its convergence metric falls below
``convergence``, after ``iteration_limit`` iterations, or at the time limit.

**PH is a heuristic for a MIP**: its consensus need not be optimal, nor integral, nor feasible in every future.
So the consensus ``xbar`` (rounded to whole units for integer decisions) is *evaluated*: fixed in each future
(:func:`planner.solver.extensive.with_fixed`) and the rest re-optimised on the planner's HiGHS path, as every
other plan of the study is evaluated. Its expected NPV is therefore a true cost (an upper bound on the
hedge's optimum); the lower bound is the best of mpi-sppy's trivial bound (every future alone, iteration 0,
from HiGHS's MIP bounds) and the Lagrangian bound of the last weights (one more solve of every future with
``W`` and without the proximal term). Their relative difference is the gap the study reports.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyomo.environ as pyo
import xarray as xr

from planner.model.data import MCNY
from planner.model.stages import decision_units, first_stage_mask
from planner.pipeline import Built, build
from planner.results.dataset import to_dataset
from planner.results.provenance import record_overrides
from planner.scenario import Scenario
from planner.scenario.futures import ProgressiveHedging
from planner.solver.extensive import with_fixed
from planner.solver.highs import SolveOptions, SolveOutcome
from planner.solver.solve import solve
from planner.solver.status import Status
from planner.studies.futures.hedge import Hedge
from planner.studies.futures.solve import FIRST_STAGE_ATTR, FIRST_STAGE_UNITS_ATTR

__all__ = ["PHError", "PHRun", "progressive_hedging", "solve_progressive"]

SOLVER = "appsi_highs"
"""The Pyomo solver interface mpi-sppy solves each future's subproblem with (HiGHS through highspy)."""

PROX_TOLERANCE = 1e-2
"""Tolerance of the proximal term's outer approximation (mpi-sppy's ``proximal_linearization_tolerance``) [-]."""

LINK = "ph_first_stage"
"""Block PH adds to each future's model while it runs: ``x[i]``, the i-th first-stage decision (in the order
shared by every future, so that mpi-sppy sees the same names in each), tied to the future's own column by
``tie[i]``, or held at 0 where the future does not have that decision."""


class PHError(RuntimeError):
    """Progressive hedging found no plan that every future can carry out (the message says why)."""


@dataclass
class PHRun:
    """What mpi-sppy's PH returned."""

    consensus: dict[str, float]  #: first-stage decision -> xbar, integer decisions rounded
    xbar: dict[str, float]  #: first-stage decision -> xbar as PH left it
    iterations: int  #: PH iterations after iteration 0
    convergence: float  #: the last convergence metric (mpi-sppy's ``conv``)
    converged: bool  #: the metric fell below ``convergence``
    trivial_bound: float  #: E over futures of each future alone: a lower bound [MCNY]
    lagrangian_bound: float  #: the Lagrangian bound of the last weights [MCNY] (NaN if not computed)
    history: list[float] = field(default_factory=list)  #: convergence metric per iteration
    solve_times: list[float] = field(default_factory=list)  #: wall time of each subproblem solve [s]
    wall_time_s: float = 0.0


def _rho_values(cost: dict[str, float], factor: float) -> dict[str, float]:
    """``rho_j = factor * |c_j|``; a decision without a cost takes the median of the others' (or ``factor``)."""
    nonzero = [abs(c) for c in cost.values() if abs(c) > 1e-12]
    fallback = float(np.median(nonzero)) if nonzero else 1.0
    return {name: factor * (abs(c) if abs(c) > 1e-12 else fallback) for name, c in cost.items()}


def _link(names: Sequence[str], own: dict[str, tuple[Any, float]], integer: dict[str, bool]) -> pyo.Block:
    """The block of :data:`LINK` for one future: ``x[i] = <its column named names[i]>``, or 0 if it has none."""
    block = pyo.Block(concrete=True)

    def bounds(_: Any, i: int) -> tuple[Any, Any]:
        var = own.get(names[i], (None, 0.0))[0]
        return (var.lb, var.ub) if var is not None else (0.0, 0.0)

    block.x = pyo.Var(
        range(len(names)),
        domain=lambda _, i: pyo.Integers if integer[names[i]] else pyo.Reals,
        bounds=bounds,
        initialize=lambda _, i: pyo.value(own[names[i]][0]) if names[i] in own else 0.0,
        doc="first-stage decision i, in the order every future shares [unit of the decision]",
    )
    present = [i for i, n in enumerate(names) if n in own]
    block.tie = pyo.Constraint(present, rule=lambda b, i: b.x[i] == own[names[i]][0], doc="x[i] = the column")
    return block


def progressive_hedging(
    built: Sequence[Built],
    masks: Sequence[np.ndarray],
    probabilities: Sequence[float],
    settings: ProgressiveHedging,
    options: SolveOptions,
    progress: Any = None,
) -> tuple[PHRun, list[str]]:
    """Run mpi-sppy's PH on the built futures (their first stage ``masks``); return its outcome and the
    first-stage decisions' names in the order given to mpi-sppy. Each model is left as it was built.
    """
    chatter = io.StringIO()  # mpi-sppy prints its progress on stdout (from its import on); the study says its own
    with contextlib.redirect_stdout(chatter):
        # mpi-sppy (with Pyomo's persistent solver interfaces, ~1 s) is loaded only for method: ph
        import mpisppy.utils.sputils as sputils  # noqa: PLC0415
        from mpisppy.extensions.extension import Extension  # noqa: PLC0415
        from mpisppy.opt.ph import PH  # noqa: PLC0415

    t0 = time.perf_counter()
    names: list[str] = []
    columns: list[dict[str, tuple[Any, float]]] = []
    for b, mask in zip(built, masks, strict=True):
        assert b.compiled is not None
        own = {
            b.compiled.columns[j].name: (b.compiled.columns[j], float(b.compiled.cost[j])) for j in np.flatnonzero(mask)
        }
        names += [n for n in own if n not in names]
        columns.append(own)
    cost = {n: next(c[n][1] for c in columns if n in c) for n in names}
    rho = _rho_values(cost, float(settings.rho_factor))
    scenario_names = [f"future{f}" for f in range(len(built))]
    integer = {n: any(c[n][0].is_integer() or c[n][0].is_binary() for c in columns if n in c) for n in names}
    objectives = {}
    for f, b in enumerate(built):
        objectives[f] = b.model.npv.expr
        b.model.add_component(LINK, _link(names, columns[f], integer))

    def scenario_creator(scenario_name: str) -> pyo.ConcreteModel:
        f = scenario_names.index(scenario_name)
        m = built[f].model
        link = getattr(m, LINK)
        varlist = [link.x[i] for i in range(len(names))]
        first_cost = sum(c * v for v, c in columns[f].values() if c != 0.0)
        sputils.attach_root_node(m, first_cost, varlist)
        m._mpisppy_probability = float(probabilities[f])
        return m

    def rho_setter(m: pyo.ConcreteModel) -> list[tuple[int, float]]:
        varlist = m._mpisppy_node_list[0].nonant_vardata_list
        return [(id(v), rho[n]) for v, n in zip(varlist, names, strict=True)]

    history: list[float] = []
    solves: list[float] = []  # wall time of each subproblem solve [s]

    class Progress(Extension):  # type: ignore[misc]
        """Records the convergence metric of each iteration and says it."""

        def pre_solve(self, subproblem: Any) -> None:
            if self.opt._PHIter == 0:
                # the proximal term's outer approximation stands for x^2 by a column above its cuts; at x^2 it
                # meets every cut, so the future's own plan is a feasible MIP start (at 0 it need not be)
                xsq = getattr(subproblem._mpisppy_model, "xsqvar", None)
                for key, x in subproblem._mpisppy_data.nonant_indices.items():
                    if xsq is not None and key in xsq:
                        xsq[key].set_value(float(x.value or 0.0) ** 2)
            solves.append(-time.perf_counter())

        def post_solve(self, subproblem: Any, results: Any) -> Any:
            solves[-1] += time.perf_counter()
            return results

        def post_iter0(self) -> None:  # every future solved alone, from its own plan
            if progress is not None:
                progress(0, math.nan, time.perf_counter() - t0)

        def miditer(self) -> None:  # after the iteration's xbar, weights and metric, before the stopping test
            conv = float(self.opt.conv) if self.opt.conv is not None else math.nan
            history.append(conv)
            if progress is not None:
                progress(self.opt._PHIter, conv, time.perf_counter() - t0)

    sub = {"mip_rel_gap": float(options.mip_gap), "time_limit": float(options.time_limit_s), "threads": 1}
    ph_options = {
        "solver_name": SOLVER,
        "PHIterLimit": int(settings.iteration_limit),
        "defaultPHrho": float(np.median(list(rho.values()))) if rho else 1.0,
        "convthresh": float(settings.convergence),
        "verbose": False,
        "display_progress": False,
        "display_timing": False,
        "linearize_proximal_terms": True,
        "proximal_linearization_tolerance": PROX_TOLERANCE,
        "solver_options_layers": [sputils.solver_options_layer("default", sub)],
        # iteration 0 starts each MIP from the future's own plan (the values in the model), later ones from
        # the previous iteration's
        "warmstart_subproblems": True,
        "user_warmstart": True,
        "time_limit": float(options.time_limit_s),
    }
    try:
        with contextlib.redirect_stdout(chatter):
            ph = PH(
                ph_options,
                scenario_names,
                scenario_creator,
                lambda *args, **kwargs: None,
                rho_setter=rho_setter,
                extensions=Progress,
            )
            conv, _, trivial = ph.ph_main(finalize=False)
            s0 = ph.local_scenarios[scenario_names[0]]
            xbar = {
                n: float(pyo.value(s0._mpisppy_model.xbars[key]))
                for n, key in zip(names, s0._mpisppy_data.nonant_indices, strict=True)
            }
            converged = conv is not None and float(conv) < float(settings.convergence)
            try:
                lagrangian = float(ph.post_solve_bound(solver_options=dict(sub)))
            except Exception:  # noqa: BLE001 - a bound that cannot be computed is reported as missing
                lagrangian = math.nan
    finally:
        for f, b in enumerate(built):
            m = b.model
            m.npv.expr = objectives[f]
            for name in ("_mpisppy_model", "_mpisppy_data", LINK):
                if m.component(name) is not None:
                    m.del_component(name)
            for name in ("_mpisppy_node_list", "_mpisppy_probability"):
                if hasattr(m, name):
                    delattr(m, name)
    consensus = {n: float(round(v)) if integer.get(n, False) else v for n, v in xbar.items()}
    run = PHRun(
        consensus=consensus,
        xbar=xbar,
        iterations=len(history),
        convergence=math.nan if conv is None else float(conv),
        converged=converged,
        trivial_bound=float(trivial),
        lagrangian_bound=lagrangian,
        history=history,
        solve_times=solves,
        wall_time_s=time.perf_counter() - t0,
    )
    return run, names


def solve_progressive(
    scenarios: Sequence[Scenario],
    overrides: Sequence[Sequence[str]],
    probabilities: Sequence[float],
    commit_until: int,
    options: SolveOptions,
    settings: ProgressiveHedging,
    progress: Any = None,
    names: Sequence[str] | None = None,
) -> Hedge:
    """Build every future, run PH, and evaluate its rounded consensus in every future: the hedged plan as
    :func:`planner.studies.futures.hedge.solve_hedge` returns it, its outcome saying how PH ended.

    Raises
    ------
    PHError
        The consensus cannot be carried out in some future (a decision outside its bounds, or limits its
        builds cannot meet): PH needs more iterations, or the extensive form.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    built = [build(s, compile=True) for s in scenarios]
    masks = [first_stage_mask(b.model, b.compiled.columns, commit_until) for b in built]  # type: ignore[union-attr]
    timings["build"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    for b in built:  # each future alone on the planner's path: its plan is PH's first MIP start in that future
        solve(b.model, options, compiled=b.compiled, shadow_prices=False)
    timings["start"] = time.perf_counter() - t1
    run, decisions = progressive_hedging(built, masks, probabilities, settings, options, progress)
    timings["ph"] = run.wall_time_s
    t1 = time.perf_counter()
    p = np.asarray(probabilities, dtype=float)
    plans: list[xr.Dataset | None] = []
    npv = []
    outcomes: list[SolveOutcome] = []
    for f, (b, mask) in enumerate(zip(built, masks, strict=True)):
        assert b.compiled is not None
        future = f"future {names[f]!r}" if names is not None else f"future {f + 1}"
        fixed, problems = with_fixed(b.compiled, run.consensus, mask)
        if problems:
            shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
            raise PHError(_why(run, f"{future} cannot carry out the consensus: {shown}"))
        outcome = solve(b.model, options, compiled=fixed, shadow_prices=False)
        if outcome.x is None or outcome.objective is None:
            why = " ".join(line.strip() for line in outcome.diagnosis) or outcome.termination
            raise PHError(_why(run, f"{future} has no plan with the consensus fixed ({outcome.status}): {why}"))
        outcomes.append(outcome)
        npv.append(outcome.objective * MCNY)
        own = {
            k: v for k, v in run.consensus.items() if k in {b.compiled.columns[j].name for j in np.flatnonzero(mask)}
        }
        ds = record_overrides(to_dataset(b.model, outcome, {**b.timings}), list(overrides[f]))
        ds.attrs[FIRST_STAGE_ATTR] = json.dumps(own)
        ds.attrs[FIRST_STAGE_UNITS_ATTR] = json.dumps(decision_units(b.model))
        plans.append(ds)
    timings["evaluate"] = time.perf_counter() - t1
    expected = float(np.sum(p * np.asarray(npv)))  # [CNY]: the consensus's true expected NPV, an upper bound
    # each evaluation is proven within its own MIP gap: its bound, not its plan, bounds what the consensus can cost
    lower = max(run.trivial_bound, run.lagrangian_bound if math.isfinite(run.lagrangian_bound) else -math.inf)
    gap = (expected / MCNY - lower) / max(abs(expected / MCNY), 1e-9)
    status = Status.OPTIMAL if gap <= options.mip_gap + 1e-9 else Status.TIME_LIMIT
    ended = (
        f"converged after {run.iterations} iterations (metric {run.convergence:.3g} < {settings.convergence:g})"
        if run.converged
        else f"stopped after {run.iterations} iterations (metric {run.convergence:.3g} >= {settings.convergence:g})"
    )
    termination = (
        f"progressive hedging {ended}; consensus evaluated in every future: E[NPV] {expected / 1e6:,.2f} M CNY,"
        f" lower bound {lower * MCNY / 1e6:,.2f} M CNY (gap {gap:.2%})"
    )
    largest = max(range(len(built)), key=lambda f: built[f].compiled.shape[1])  # type: ignore[union-attr]
    outcome = SolveOutcome(
        status=status,
        termination=termination,
        objective=expected / MCNY,
        bound=lower,
        gap=gap,
        timings=timings,
        options=options,
        n_rows=outcomes[largest].n_rows,
        n_cols=outcomes[largest].n_cols,
        n_integers=outcomes[largest].n_integers,
        x=np.zeros(0),
    )
    attrs = {
        "hedge_method": "ph",
        "hedge_ph_iterations": run.iterations,
        "hedge_ph_convergence": run.convergence,
        "hedge_ph_converged": int(run.converged),
        "hedge_ph_history": json.dumps(run.history),
        "hedge_ph_trivial_bound_cny": run.trivial_bound * MCNY,
        "hedge_ph_lagrangian_bound_cny": run.lagrangian_bound * MCNY,
        "hedge_ph_xbar": json.dumps(run.xbar),
        "hedge_ph_subproblem_solves": len(run.solve_times),
        "hedge_ph_subproblem_time_s": float(sum(run.solve_times)),
        "hedge_ph_settings": json.dumps(settings.model_dump(mode="json")),
    }
    return Hedge(outcome, None, plans, dict(run.consensus), npv, math.nan, timings, shared=decisions, attrs=attrs)


def _why(run: PHRun, what: str) -> str:
    state = "converged" if run.converged else "did not converge"
    return (
        f"progressive hedging {state} in {run.iterations} iterations (metric {run.convergence:.3g}) and {what}; "
        "raise ph.iteration_limit, or use method: extensive"
    )
