"""A first plan for a large model from the same scenario at a coarser time resolution.

Why: on the default on four sites at 12 representative days (217 k columns) the rounding dive's
warm LP re-solves do not finish in reasonable time (the halls alone, rounded per site: 256 s and
50 k dual simplex pivots; rounded over the sites: still running ten minutes later), so
``plan solve`` found no plan in 40 minutes. The integer decisions (servers, racks, halls, grid
blocks, plant units, gensets, in-use binaries) are indexed by site, technology and year, never
by hour, so a model of the same scenario on fewer representative days has the very same
integer columns. Its relaxation and dive take minutes (four sites at 4 days: 198 s in all),
and with its integers fixed the large model is an LP without lumpy choices, which interior point
solves in well under a minute (38 s at 12 days). That LP's optimum is a feasible plan of the large
model, proven against the large model's own relaxation bound (0.94 % on the four sites at 12
days, after 4 minutes); it seeds HiGHS's MIP as its first incumbent.

The coarse plan sizes the lumpy builds for the coarse days' hours. The extreme days
(``time.extreme_days``) are kept at any resolution, so the sizing hours are seen by both models;
the large model adds typical days, on which other builds may pay, which is why the plan is
measured against the large model's own bound and the MIP goes on from it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import highspy
import numpy as np

from planner.solver.dive import DiveResult, Relaxation
from planner.solver.highs import CompiledModel, SolveOptions, interior_point, new_highs

__all__ = ["CoarsePlan", "plan_from_coarse"]


@dataclass
class CoarsePlan:
    """What the coarse model gave the large one."""

    x: np.ndarray | None = None
    """Column values of the large model's plan (None: none found)."""
    objective: float | None = None  #: the large model's objective at ``x`` [MCNY]
    coarse: DiveResult | None = None  #: the coarse model's relaxation and dive
    timings: dict[str, float] = field(default_factory=dict)  #: seconds: ``coarse_dive``, ``coarse_fixed_lp``


def _integer_keys(compiled: CompiledModel) -> dict[tuple[str, object], int]:
    """Each integer column by (component name, index)."""
    out = {}
    for j in np.flatnonzero(compiled.integer):
        v = compiled.columns[j]
        out[(v.parent_component().local_name, v.index())] = int(j)
    return out


def plan_from_coarse(
    compiled: CompiledModel, coarse: CompiledModel, options: SolveOptions, deadline: float
) -> CoarsePlan:
    """The coarse model's rounded plan, its integers fixed in ``compiled`` and the rest re-optimised.

    Parameters
    ----------
    compiled : CompiledModel
        The large model.
    coarse : CompiledModel
        The same scenario at fewer representative days (the same integer columns).
    options : SolveOptions
        Solver options (threads, seed, tolerances) of the solve.
    deadline : float
        ``time.perf_counter()`` value by which to stop.

    Returns
    -------
    CoarsePlan
        With ``x`` None when the coarse dive finds no plan, the integer columns differ, or the large
        model has no plan with those integers.
    """
    result = CoarsePlan()
    t0 = time.perf_counter()
    result.coarse = Relaxation(coarse, options).dive(deadline)
    result.timings["coarse_dive"] = time.perf_counter() - t0
    fine, rough = _integer_keys(compiled), _integer_keys(coarse)
    if result.coarse.x is None or fine.keys() != rough.keys():
        return result
    t1 = time.perf_counter()
    cols = np.fromiter(fine.values(), dtype=np.int32, count=len(fine))
    values = np.round(result.coarse.x[[rough[k] for k in fine]])
    h = new_highs(options)
    compiled.highs_arrays(relax=True).pass_to(h)
    h.changeColsBounds(len(cols), cols, values, values)
    h.setOptionValue("solver", interior_point())
    h.setOptionValue("time_limit", max(deadline - time.perf_counter(), 1e-3))
    h.run()
    result.timings["coarse_fixed_lp"] = time.perf_counter() - t1
    if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
        x = np.asarray(h.getSolution().col_value, dtype=float)
        x[cols] = values  # exactly whole
        result.x = x
        result.objective = compiled.objective(x)
    return result
