"""What does each policy limit cost? Marginal cost of one step of each limit, per year.

DESIGN.md §3 asks for short-run duals from the LP with the integer decisions fixed, and a
re-solve with the limit moved one step for limits whose rows hold only integer decisions
(domestic share, EFLOPS target: their fixed-integer dual is always zero). On the default
scenario each MIP re-solve takes minutes, and its answer is blurred by the MIP gap (0.5 % of
the NPV is far more than one step of a limit is worth). So the planner prices every limit
with **one LP**: the lumpy decisions (halls, grid blocks, cooling plant units, gensets, and the
in-use binaries) are fixed at the plan, while server and rack counts — which number in the
thousands, so their integrality is immaterial to a marginal cost — are continuous. The LP's row
duals then price every limit, including the integer-only ones, as the cost of the cheapest
adjustment of the fleet and its operation inside the built facility. With no server or rack
columns free (tiny models, or when the LP fails) the figure says so.

For a limit ``p`` in a row ``lo <= body(x, p) <= up`` with dual ``λ`` (HiGHS: the change of the
objective per unit of the active bound), ``dObj/dp = -λ · d(body - bound)/dp`` at the plan.

Signs: every figure is the cost [MCNY] of tightening the limit by one step (PUE cap -0.01,
shares +1 percentage point, EFLOPS target +1, carbon cap -1,000 tCO2); 0 when not binding.

What the figure is, measured (``benchmarks/price_check.py``, ``docs/prices.md``): the dual of the
pricing LP's optimal basis, a rate at the plan. Where the plan sits on a breakpoint of the LP's
value function it can be the rate of loosening rather than of tightening: a limit exactly at its
bound then shows 0, and a step that crosses the breakpoint costs more (22-44 % more in two of the
measured cases). A step that changes a lumpy build (a hall, a plant unit) costs more again.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.environ as pyo

from planner.solver.dive import INTERIOR_POINT_COLUMNS, Relaxation
from planner.solver.highs import (
    OBJECTIVE_SCALE,
    CompiledModel,
    SolveOptions,
    Status,
    interior_point,
    new_highs,
    rounded_plan,
    write_values,
)
from planner.solver.recompile import LinearForms, constants_state, held_constants

__all__ = ["LIMIT_STEPS", "price_limits", "pricing_duals"]


@dataclass(frozen=True)
class LimitStep:
    """How a policy limit is priced."""

    param: str  #: Pyomo parameter holding the limit per year
    rows: tuple[str, ...]  #: constraint components the limit appears in
    step: float  #: one step in the tightening direction [limit unit]
    label: str  #: the step in words


LIMIT_STEPS: dict[str, LimitStep] = {
    "pue_max": LimitStep("pue_max", ("pue_cap",), -0.01, "per 0.01 lower PUE cap"),
    "green_share_min": LimitStep(
        "green_share_min", ("green_share", "certificate_cap"), 0.01, "per percentage point of green share"
    ),
    "domestic_compute_share_min": LimitStep(
        "domestic_share_min", ("domestic_share",), 0.01, "per percentage point of domestic share"
    ),
    "installed_eflops_min": LimitStep("eflops_min", ("eflops_target",), 1.0, "per EFLOPS of target"),
    "carbon_cap_t": LimitStep("carbon_cap", ("carbon_cap_limit",), -1000.0, "per 1,000 tCO2 lower cap"),
}

#: Integer components that stay continuous in the pricing LP (they come in thousands).
RELAXED_INTEGERS = ("servers_new", "racks_new")
METHOD = (
    "LP dual with halls, grid blocks, plant units and gensets fixed at the plan and server and rack counts continuous"
)


def _slack_derivative(con: pyo.ConstraintData, param: pyo.ParamData, sense: int) -> float:
    """d(body - bound)/dp of the row's active side at the current variable values."""
    p0 = float(pyo.value(param))
    eps = max(1e-6, abs(p0) * 1e-6)

    def g() -> float:
        body = float(pyo.value(con.body))
        bound = con.upper if sense >= 0 and con.has_ub() else con.lower
        return body - float(pyo.value(bound))

    base = g()
    param.set_value(p0 + eps)
    try:
        moved = g()
    finally:
        param.set_value(p0)
    return (moved - base) / eps


class _Index:
    """What the pricing stage reads of a model's rows and columns, kept on the model for its later cases.

    Its rows per constraint (by ``id``) and the columns that stay continuous in the pricing LP depend on
    the model's rows and columns only (a sweep's case re-uses them: ~50 ms a case otherwise). The
    slopes ``d(body - bound)/dp`` of the rows a limit ``p`` is in (:meth:`derivative`) are kept as
    linear forms in the columns: :func:`_slack_derivative` evaluates a row twice (at ``p`` and
    ``p + eps``), and a yearly row such as the PUE cap sums every representative hour (the default's 19
    priced rows took ~23 ms of a sweep case that way). Here the same finite difference is taken once on
    the row's linear forms (Pyomo's ``LinearRepnVisitor``, as the compiler reduces rows): its slope per
    column and constant, so that the derivative at a plan is one dot product. A form is taken again only
    when a parameter or fixed variable it holds as a constant (``p`` among them) has a new value, as a
    sweep case that moves the limit does; a row that is not linear, or holds a variable the compiled
    model has no column for, falls back to :func:`_slack_derivative` (with the plan written into the
    variables first). The plan's values are read as :func:`planner.solver.highs.load_values` writes them
    (integers rounded).
    """

    def __init__(self, compiled: CompiledModel) -> None:
        self.rows, self.columns = compiled.rows, compiled.columns
        self.rows_of: dict[int, list[int]] = {}
        for r, (con, _) in enumerate(compiled.rows):
            self.rows_of.setdefault(id(con), []).append(r)
        self.relaxed = np.array(
            [v.parent_component().local_name in RELAXED_INTEGERS for v in compiled.columns], dtype=bool
        )
        self._column = {id(v): j for j, v in enumerate(compiled.columns)}
        self._linear = LinearForms(compiled.model)
        #: (id(row), id(p), upper side) -> (columns, slopes, constant, held constants, their state)
        self._forms: dict[tuple[int, int, bool], tuple[np.ndarray, np.ndarray, float, list[Any], tuple[Any, ...]]] = {}
        self._loaded: np.ndarray | None = None  #: the plan last written into the variables here

    def derivative(self, con: pyo.ConstraintData, param: pyo.ParamData, sense: int, x: np.ndarray) -> float:
        """d(body - bound)/dp of the row's active side at the plan ``x`` (column values, integers rounded)."""
        upper = sense >= 0 and con.has_ub()
        key = (id(con), id(param), upper)
        form = self._forms.get(key)
        if form is None or constants_state(form[3]) != form[4]:
            form = self._form(con, param, upper)
            if form is None:  # Pyomo evaluates the row: the plan must be in the variables (a sweep does not load it)
                if self._loaded is not x:
                    write_values(self.columns, x)
                    self._loaded = x
                return _slack_derivative(con, param, sense)
            self._forms[key] = form
        cols, slopes, constant = form[0], form[1], form[2]
        return constant + float(slopes @ x[cols])

    def _form(
        self, con: pyo.ConstraintData, param: pyo.ParamData, upper: bool
    ) -> tuple[np.ndarray, np.ndarray, float, list[Any], tuple[Any, ...]] | None:
        p0 = float(pyo.value(param))
        eps = max(1e-6, abs(p0) * 1e-6)  # as _slack_derivative
        bound = con.upper if upper else con.lower
        held = held_constants(con.body, bound)
        state = constants_state(held)
        forms = []
        try:
            for p in (p0, p0 + eps):
                param.set_value(p)
                repn = self._linear.walk(con.body)
                self._linear.clear()  # a named expression's form moves with p
                if repn.nonlinear is not None:
                    return None
                forms.append((dict(repn.linear), float(repn.constant) - float(pyo.value(bound))))
        finally:
            param.set_value(p0)
        (a0, c0), (a1, c1) = forms
        slope: dict[int, float] = {}
        try:  # a linear form's keys are its variables' ids
            for vid in {**a0, **a1}:
                slope[self._column[vid]] = (a1.get(vid, 0.0) - a0.get(vid, 0.0)) / eps
        except KeyError:  # a variable the compiled model has no column for
            return None
        cols = np.fromiter(slope, dtype=np.int64, count=len(slope))
        slopes = np.fromiter(slope.values(), dtype=float, count=len(slope))
        return cols, slopes, (c1 - c0) / eps, held, state


def _index(compiled: CompiledModel) -> _Index:
    """The model's :class:`_Index` (made on first use, kept for the model's later cases)."""
    m = compiled.model
    kept = getattr(m, "_planner_pricing_index", None)
    if kept is None or kept.rows is not compiled.rows or kept.columns is not compiled.columns:
        kept = m._planner_pricing_index = _Index(compiled)
    return kept


def price_limits(
    compiled: CompiledModel, x: np.ndarray, options: SolveOptions, relaxation: Relaxation | None = None
) -> dict[tuple[str, int], tuple[float, str]]:
    """Marginal cost of one step of each policy limit in each year it is set.

    Parameters
    ----------
    compiled : CompiledModel
        The model as solved (the plan need not be loaded into its variables).
    x : numpy.ndarray
        The plan (column values).
    options : SolveOptions
        Options of the original solve (threads, seed, time limit).
    relaxation : Relaxation, optional
        The dive's warm LP instance (re-solved from its basis instead of from scratch).

    Returns
    -------
    dict
        ``(limit, year) -> (cost of one tightening step [MCNY], how it was obtained)``.
    """
    m = compiled.model
    index = _index(compiled)
    plan = rounded_plan(compiled, x)  # as load_values wrote it into the variables
    duals = pricing_duals(compiled, x, options, relaxation)
    out: dict[tuple[str, int], tuple[float, str]] = {}
    for limit, spec in LIMIT_STEPS.items():
        param = getattr(m, spec.param, None)
        if param is None:
            continue
        for y in list(param.keys()):
            if duals is None:
                out[(limit, y)] = (float("nan"), "not priced: the pricing LP did not solve")
                continue
            derivative = 0.0
            for comp_name in spec.rows:
                comp = getattr(m, comp_name, None)
                if comp is None or y not in comp:
                    continue
                con = comp[y]
                for r in index.rows_of.get(id(con), []):
                    derivative += -duals[r] * index.derivative(con, param[y], compiled.rows[r][1], plan)
            value = derivative * spec.step
            out[(limit, y)] = (0.0 if abs(value) < 1e-9 else value, f"{METHOD}; {spec.label}")
    return out


def pricing_duals(
    compiled: CompiledModel, x: np.ndarray, options: SolveOptions, relaxation: Relaxation | None = None
) -> np.ndarray | None:
    """Row duals of the pricing LP (lumpy integers fixed at the plan, servers and racks free)."""
    relaxed = _index(compiled).relaxed
    fix = compiled.integer & ~relaxed
    if relaxation is not None:
        free = np.flatnonzero(compiled.integer & relaxed)
        fixed = np.flatnonzero(fix)
        relaxation.reset_bounds(free)
        relaxation.set_bounds(fixed, np.round(x[fixed]), np.round(x[fixed]))
        status, _ = relaxation.solve_lp(options.time_limit_s)
        if status == Status.OPTIMAL:
            return relaxation.row_duals()
    lower = np.array(compiled.col_lower, dtype=float)
    upper = np.array(compiled.col_upper, dtype=float)
    lower[fix] = np.round(x[fix])
    upper[fix] = np.round(x[fix])
    arrays = dataclasses.replace(compiled.highs_arrays(relax=True), col_lower=lower, col_upper=upper)
    h = new_highs(
        SolveOptions(time_limit_s=options.time_limit_s, threads=options.threads, random_seed=options.random_seed)
    )
    arrays.pass_to(h)
    if len(compiled.columns) > INTERIOR_POINT_COLUMNS:  # cold and large: as the relaxation (dive.py), with crossover
        h.setOptionValue("solver", interior_point())
    h.run()
    if h.modelStatusToString(h.getModelStatus()) != "Optimal":
        return None
    return np.asarray(h.getSolution().row_dual, dtype=float) / OBJECTIVE_SCALE  # [MCNY per unit]
