"""What does each policy limit cost? Marginal cost of one step of each limit, per year.

Two ways, each figure says which it used (DESIGN.md §3, "Reported"):

* **Fixed-integer LP dual.** With every integer decision fixed at the plan's value, the LP's
  row duals give short-run prices. For a limit ``p`` in a row ``lo <= body(x, p) <= up`` with
  dual ``λ`` (HiGHS: the change of the objective per unit of the active bound),
  ``dObj/dp = -λ · d(body - bound)/dp``, evaluated at the plan. PUE cap, green share (its
  row and the certificate cap), carbon cap.
* **MIP re-solve.** A row that holds only integer decisions (domestic share, EFLOPS target)
  has a zero dual once the integers are fixed. If one step tighter would cut off the plan,
  the limit is priced by re-solving with the limit loosened one step (the plan stays
  feasible and is passed as a start): the saving is what the last step of the limit costs.
  Its accuracy is bounded by the MIP gaps of both solves, which the figure states.

Signs: every figure is the cost [MCNY] of tightening the limit by one step (PUE cap -0.01,
shares +1 percentage point, EFLOPS target +1, carbon cap -1,000 tCO2); 0 when not binding.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from planner.solve import CompiledModel, SolveOptions, _highs, compile_model

__all__ = ["LIMIT_STEPS", "price_limits"]


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

#: Share of the solve time limit that MIP re-solves for integer-only limits may use in total.
RESOLVE_BUDGET_SHARE = 0.5


def _slack_derivative(con: pyo.ConstraintData, param: pyo.ParamData, sense: int) -> tuple[float, float]:
    """(g, dg/dp) of the row's active side, g = body - bound, at the current variable values."""
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
    return base, (moved - base) / eps


def price_limits(
    compiled: CompiledModel, x: np.ndarray, options: SolveOptions
) -> dict[tuple[str, int], tuple[float, str]]:
    """Marginal cost of one step of each policy limit in each year it is set.

    Parameters
    ----------
    compiled : CompiledModel
        The model as solved.
    x : numpy.ndarray
        The plan (column values).
    options : SolveOptions
        Options of the original solve (time limit sets the re-solve budget).

    Returns
    -------
    dict
        ``(limit, year) -> (cost of one tightening step [MCNY], how it was obtained)``.
    """
    m = compiled.model
    rows_of: dict[int, list[int]] = {}
    for r, (con, _) in enumerate(compiled.rows):
        rows_of.setdefault(id(con), []).append(r)
    duals = _fixed_integer_duals(compiled, x, options)
    A_rows = compiled.A.tocsr()
    out: dict[tuple[str, int], tuple[float, str]] = {}
    budget_end = time.perf_counter() + RESOLVE_BUDGET_SHARE * options.time_limit_s
    for limit, spec in LIMIT_STEPS.items():
        param = getattr(m, spec.param, None)
        if param is None:
            continue
        for y in list(param.keys()):
            derivative = 0.0
            integer_only = True
            violated_by_step = False
            for comp_name in spec.rows:
                comp = getattr(m, comp_name, None)
                if comp is None or y not in comp:
                    continue
                con = comp[y]
                for r in rows_of.get(id(con), []):
                    sense = compiled.rows[r][1]
                    g, dg = _slack_derivative(con, param[y], sense)
                    lam = duals[r] if duals is not None else 0.0
                    derivative += -lam * dg
                    cols = A_rows.indices[A_rows.indptr[r] : A_rows.indptr[r + 1]]
                    integer_only &= bool(compiled.integer[cols].all())
                    moved = g + dg * spec.step
                    tol = 1e-6 * max(1.0, abs(g))
                    if (sense >= 0 and moved > tol) or (sense <= 0 and moved < -tol and sense != 1):
                        violated_by_step = True
            if not integer_only:
                if duals is None:
                    out[(limit, y)] = (float("nan"), "fixed-integer LP did not solve; not priced")
                else:
                    out[(limit, y)] = (derivative * spec.step, f"fixed-integer LP dual, {spec.label}")
            elif not violated_by_step:
                out[(limit, y)] = (0.0, f"not binding: the plan still meets the limit one step tighter ({spec.label})")
            else:
                remaining = budget_end - time.perf_counter()
                out[(limit, y)] = _resolve(compiled, x, options, spec, param[y], remaining)
    return out


def _fixed_integer_duals(compiled: CompiledModel, x: np.ndarray, options: SolveOptions) -> np.ndarray | None:
    lp = compiled.to_highs_lp()
    lower = np.array(compiled.col_lower, dtype=float)
    upper = np.array(compiled.col_upper, dtype=float)
    fixed = np.round(x[compiled.integer])
    lower[compiled.integer] = fixed
    upper[compiled.integer] = fixed
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    lp.integrality_ = []
    h = _highs(SolveOptions(time_limit_s=options.time_limit_s, threads=options.threads, random_seed=options.random_seed))
    h.passModel(lp)
    h.run()
    if h.modelStatusToString(h.getModelStatus()) != "Optimal":
        return None
    return np.asarray(h.getSolution().row_dual, dtype=float)


def _resolve(
    compiled: CompiledModel,
    x: np.ndarray,
    options: SolveOptions,
    spec: LimitStep,
    param: pyo.ParamData,
    remaining_s: float,
) -> tuple[float, str]:
    """Price an integer-only limit by re-solving with it loosened one step (plan as MIP start)."""
    if remaining_s < 5:
        return float("nan"), f"not priced: the re-solve budget ({RESOLVE_BUDGET_SHARE:.0%} of the time limit) is spent"
    m = compiled.model
    p0 = float(pyo.value(param))
    base_obj = float(compiled.cost @ x + compiled.offset)
    param.set_value(p0 - spec.step)
    try:
        loosened = compile_model(m)
    finally:
        param.set_value(p0)
    if loosened.shape != compiled.shape:  # pragma: no cover - structure never changes with a value
        return float("nan"), "not priced: the model changed shape"
    h = _highs(
        SolveOptions(
            time_limit_s=max(5.0, remaining_s),
            mip_gap=options.mip_gap,
            threads=options.threads,
            random_seed=options.random_seed,
        )
    )
    h.passModel(loosened.to_highs_lp())
    h.setSolution(len(x), np.arange(len(x), dtype=np.int32), np.asarray(x, dtype=float))
    h.run()
    info = h.getInfo()
    if info.primal_solution_status != 2:
        return float("nan"), "not priced: the re-solve found no plan in its time"
    saving = base_obj - float(info.objective_function_value)
    gap = float(info.mip_gap) if np.isfinite(info.mip_gap) else float("nan")
    uncertainty = abs(base_obj) * (options.mip_gap + (gap if np.isfinite(gap) else 0.0))
    return (
        max(saving, 0.0),
        f"MIP re-solve with the limit loosened one step ({spec.label}); ± {uncertainty:,.0f} MCNY from the MIP gaps",
    )
