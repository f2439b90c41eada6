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

**Short time limits.** The coarse dive shares the machine with the large model's relaxation (four sites
at 4 days: 174-198 s, beside the 12-day relaxation's 208-234 s). A coarse dive that has not finished by
the time limit gives no plan, so it stops at :data:`COARSE_SHARE` of the time limit (the ``hurry`` of
``Relaxation.dive``): the groups it fixed by then are fixed in the large model, and the large model's own
dive, warm from that LP's basis, fixes the groups it left (``only``). That dive is slower than the coarse
one (its LPs have three times the hours), so the stop is late, a fallback for a coarse dive that is
nearly done, not a shortcut.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from planner.solver.dive import DiveResult, Relaxation
from planner.solver.highs import CompiledModel, SolveOptions

__all__ = ["COARSE_SHARE", "CoarsePlan", "plan_from_coarse"]

#: The coarse dive stops at this share of the time limit and leaves the groups it has not fixed to the
#: large model's dive. The rest is for the large model's LP with the integers fixed (42 s at 12 days on
#: four sites) and that dive. At 0.5 the coarse dive of four sites stopped at 150 s of 300 with four groups
#: left, which the large model's dive had not fixed 59 s later: no plan; at 0.8 it finished (174 s) and
#: the plan came at 220 s.
COARSE_SHARE = 0.8


@dataclass
class CoarsePlan:
    """What the coarse model gave the large one."""

    x: np.ndarray | None = None
    """Column values of the large model's plan (None: none found)."""
    objective: float | None = None  #: the large model's objective at ``x`` [MCNY]
    coarse: DiveResult | None = None  #: the coarse model's relaxation and dive
    large: DiveResult | None = None
    """the large model's LP with the coarse model's fixed groups fixed, and its dive of the groups left"""
    timings: dict[str, float] = field(default_factory=dict)
    """seconds: ``coarse_dive``, ``coarse_fixed_lp``, and ``coarse_large_dive`` where groups were left"""


def _integer_keys(compiled: CompiledModel) -> dict[tuple[str, object], int]:
    """Each integer column by (component name, index)."""
    out = {}
    for j in np.flatnonzero(compiled.integer):
        v = compiled.columns[j]
        out[(v.parent_component().local_name, v.index())] = int(j)
    return out


def plan_from_coarse(
    compiled: CompiledModel, coarse: CompiledModel, options: SolveOptions, deadline: float, hurry: float | None = None
) -> CoarsePlan:
    """The coarse model's rounded plan, its integers fixed in ``compiled`` and the rest re-optimised.

    The groups the coarse dive fixed are fixed in ``compiled`` and its LP solved (interior point on a
    large model, :class:`Relaxation`); the groups a hurried coarse dive left are then fixed by the
    large model's own dive, warm from that LP.

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
    hurry : float, optional
        ``time.perf_counter()`` value at which the coarse dive stops fixing groups; the large model's
        dive fixes the groups it left.

    Returns
    -------
    CoarsePlan
        With ``x`` None when the coarse dive finds no plan, the integer columns differ, or the large
        model has no plan with those integers.
    """
    result = CoarsePlan()
    t0 = time.perf_counter()
    result.coarse = Relaxation(coarse, options).dive(deadline, hurry=hurry)
    result.timings["coarse_dive"] = time.perf_counter() - t0
    fine, rough = _integer_keys(compiled), _integer_keys(coarse)
    if result.coarse.x is None or fine.keys() != rough.keys():
        return result
    fixed = {name for name, _, _ in result.coarse.steps}
    keys = [k for k in fine if k[0] in fixed]
    cols = np.fromiter((fine[k] for k in keys), dtype=np.int64, count=len(keys))
    values = np.round(result.coarse.x[[rough[k] for k in keys]])
    large = Relaxation(compiled, options)
    large.set_bounds(cols, values, values)
    result.large = large.dive(deadline, only=frozenset(result.coarse.left))
    result.timings["coarse_fixed_lp"] = result.large.timings.get("relaxation", 0.0)
    if result.coarse.left:
        result.timings["coarse_large_dive"] = result.large.timings.get("dive", 0.0)
    if result.large.x is not None and result.large.objective is not None:
        x = result.large.x.copy()
        x[compiled.integer] = np.round(x[compiled.integer])  # exactly whole
        result.x = x
        result.objective = compiled.objective(x)
    return result
