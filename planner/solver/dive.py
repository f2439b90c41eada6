"""The LP relaxation and a rounding dive: a proven bound and a good plan before branch-and-bound.

Why: on the default scenario HiGHS spends most of its MIP time not on the root LP but on
finding a first good plan (sub-MIP heuristics, minutes), and the LP relaxation is already
within about 0.7 % of the optimum. This module solves the relaxation once, then fixes the
integer decisions group by group — technology-in-use binaries, servers, racks, halls, plant
units, grid blocks, gensets, in model order — re-solving the LP from the previous basis after
each group (a few seconds each). The result is a feasible plan ``U`` and a proven lower bound
``L`` (the relaxation). When ``(U - L) / |U|`` is already within the requested gap, the plan is
proven good enough and no MIP is needed; otherwise the plan is handed to HiGHS as a MIP start.

Rounding rule for a build variable ``new[k, y]``: the cumulative builds of key ``k`` up to year
``y`` are rounded up (``ceil``), so that every stock is at least its relaxed value (capacity
rows stay satisfiable) and nothing is built twice; binaries are rounded up, each on its own,
when positive. The LP re-solved after each group lets the continuous decisions and the integers
not yet fixed adapt. On one site, the builds whose units only add capacity (``m.capacity_builds``:
halls, plant units, grid blocks, gensets, in model order after the servers and racks that load them)
are rounded up together from the same LP and fixed with one re-solve (``Relaxation.together``):
rounding one of them up barely moves the others' LP values (more halls carry no more heat, more
plant units draw no more power), so a re-solve after each re-solved much the same hours again; if
that LP has no plan, they are fixed one at a time like every other group. Before the LP, rows that
involve only the group's columns (a purchase cap shared by a server type's cooling technologies)
are checked and the rounding repaired unit by unit. If the LP is still infeasible, the group is
re-tried with nearest rounding, then rounded down (every cumulative build to its whole part: where
the lumpy builds fixed before leave no room for one more unit, as when a hub buys servers at full
load and the LP fills every hall), then one key at a time (rounded up, else down) with an LP
re-solve after each, so that a row coupling the keys through other variables (a binding
domestic-share floor) can be followed; the dive gives up when that fails too.

**On several sites** a build is indexed by site first (``halls_new[site, year]``). Rounding each site's
cumulative builds up adds up to one unit per site where the cluster needs at most one in all, so
each site-indexed group is also rounded over the sites (the sum rounded up, the whole parts kept,
the units left to the largest fractions) and the cheaper of the two LPs kept
(``Relaxation._fix_over_sites``); and the groups are fixed lumpiest first (largest NPV of one unit:
halls, grid blocks, plant units, gensets, then servers and racks), while the servers can still move
to the sites where the rounding left room. A model of one site takes exactly the path described
above.

**Under an NPV budget** (a near-optimal alternative, whose objective is a direction and whose cost
is capped by one added row, :meth:`planner.solver.highs.CompiledModel.with_objective`), the
relaxation spends the whole budget on its direction, so rounding anything up breaks the budget,
and once the continuous decisions left cannot give the money back the dive fails (on the default:
every direction). The dive therefore keeps a *margin* in the budget for the groups not yet fixed:
each group's margin is what rounding it up can cost at most, the NPV of one more unit of each of
its keys bought in its dearest year (cumulative rounding adds less than one unit per key,
:data:`BUDGET_MARGIN` for what comes with it), and the budget grows back by a group's margin as it
is fixed, to the full budget at the last. The first relaxation runs at the full budget (the
proven bound); if the budget less every margin leaves no plan, the margins are halved until one
does (after :data:`MARGIN_HALVINGS` halvings, none).

**In a hurry** (``hurry``, for the coarse model of :mod:`planner.solver.coarse`), the dive stops fixing
groups at that time and returns the last optimal LP, its fixed groups whole, with the names of the groups
it left (``DiveResult.left``); the caller fixes those in a model of its own (``only``: a dive of some
groups alone, the others fixed beforehand by the caller).

The same HiGHS instance, with its basis, later prices the policy limits
(:func:`planner.solver.prices.pricing_duals`): that LP differs from the last dive step only in bounds,
so it re-solves in seconds instead of from scratch.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np

from planner.solver.bounds import dual_bound
from planner.solver.highs import OBJECTIVE_SCALE, CompiledModel, SolveOptions, Status, interior_point, new_highs

__all__ = [
    "Basis",
    "ConcurrentDive",
    "DiveResult",
    "PlanStart",
    "Relaxation",
    "START_STEP",
    "SUB_MIP_OFF",
    "basis_arrays",
    "get_basis",
    "set_basis",
]

#: LP values below this count as zero when rounding binaries and cumulative builds [-].
TOLERANCE = 1e-6

#: HiGHS options while the dive supplies the first plan: its sub-MIP heuristics (RINS, RENS, the
#: root reduced-cost sub-MIP) found the same quality of plan on the default in 100-165 s that
#: the dive finds in seconds, so they are switched off (benchmarks/solver_options.py).
SUB_MIP_OFF = (
    ("mip_heuristic_run_rins", False),
    ("mip_heuristic_run_rens", False),
    ("mip_heuristic_run_root_reduced_cost", False),
)

#: A group's budget margin is this times the NPV of one more unit of each key (see the module
#: docstring): the rest covers what rounding up brings with it (idle power, O&M of the extra units).
BUDGET_MARGIN = 1.25

#: At most this many halvings of the budget margins before the dive goes on without any.
MARGIN_HALVINGS = 4

#: The dive's rounding over the sites (``Relaxation._fix_over_sites``) may take at most this many times
#: the simplex iterations of the rounding per site, and at least :data:`OVER_SITES_MIN_PIVOTS`.
OVER_SITES_PIVOTS = 1.5
OVER_SITES_MIN_PIVOTS = 1000

#: Above this many columns a cold LP relaxation starts with interior point (see ``Relaxation``).
INTERIOR_POINT_COLUMNS = 150_000

#: The dive's plan meets the MIP at HiGHS's second user-solution call with a finite dual bound,
#: which comes after the root LP (the first is the trivial bound before it). Meeting at a fixed
#: point of HiGHS's own sequence, and waiting there for the dive, keeps the solve deterministic:
#: the plan returned never depends on which thread was faster.
MEET_AT_CALL = 2


#: A simplex basis as two int8 arrays (HiGHS basis status of each column, of each row).
Basis = tuple[np.ndarray, np.ndarray]

#: HiGHS's basis statuses by their number. pybind converts a basis entry by entry, so building
#: the statuses through this table rather than calling the enum is ~8x faster (~10 ms instead of
#: ~90 ms on the default, a warm sweep case's largest cost outside the solver).
_STATUS = {int(s): s for s in highspy.HighsBasisStatus.__members__.values()}


def get_basis(highs: highspy.Highs) -> Basis:
    """The current simplex basis of ``highs`` as arrays (to keep, pickle or save)."""
    return basis_arrays(highs.getBasis())


def basis_arrays(basis: highspy.HighsBasis) -> Basis:
    """A HiGHS basis object as arrays."""
    cols, rows = basis.col_status, basis.row_status  # each read converts the whole vector: once
    return (
        np.fromiter(map(int, cols), dtype=np.int8, count=len(cols)),
        np.fromiter(map(int, rows), dtype=np.int8, count=len(rows)),
    )


def with_basic_rows(basis: Basis, n: int) -> Basis:
    """The basis of a model with ``n`` rows appended, each basic (its slack in the basis).

    A near-optimal alternative adds one row, the NPV budget, to the least-cost model; the least-cost
    relaxation's optimal basis with that row basic is primal feasible for the alternative's LP (the
    relaxation's cost is below the budget), so its simplex starts there instead of from scratch.
    """
    cols, rows = basis
    return cols, np.append(rows, np.full(n, int(highspy.HighsBasisStatus.kBasic), dtype=np.int8))


def set_basis(highs: highspy.Highs, basis: Basis | highspy.HighsBasis) -> bool:
    """Start ``highs``'s next simplex solve from ``basis`` (arrays, or HiGHS's own object);
    False if it does not fit the model.
    """
    if isinstance(basis, highspy.HighsBasis):
        return highs.setBasis(basis) == highspy.HighsStatus.kOk
    cols, rows = basis
    if len(cols) != highs.getNumCol() or len(rows) != highs.getNumRow():
        return False
    start = highspy.HighsBasis()
    start.col_status = [_STATUS[v] for v in cols.tolist()]
    start.row_status = [_STATUS[v] for v in rows.tolist()]
    start.valid = True
    return highs.setBasis(start) == highspy.HighsStatus.kOk


@dataclass(frozen=True, eq=False)  # arrays: compared and hashed by identity
class PlanStart:
    """The plan of a scenario of the same structure, tried before the dive (:meth:`Relaxation.dive`).

    Its integers are fixed in this model and the LP re-solved once, from ``basis``; if that LP has a plan
    within the requested gap of this model's relaxation, it is the plan and the dive is skipped. With
    ``duals`` and a warm relaxation, that LP comes first, and where the bound from the duals proves its
    plan the relaxation is skipped too (:mod:`planner.solver.bounds`). A sweep case moved from its anchor
    along one path (a price) usually keeps the anchor's whole-unit builds: on the default, one LP of
    2.5-3.4 s from the anchor's last basis against a dive of about 8 s.
    """

    x: np.ndarray  #: column values of that plan (its integers are taken, rounded)
    basis: Basis | highspy.HighsBasis | None = None  #: the optimal basis of its last LP (``DiveResult.plan_basis``)
    duals: np.ndarray | None = None
    """row duals of that scenario's LP relaxation [MCNY per unit of each row] (``SolveOutcome.relaxation_duals``): where
    they bound this model's relaxation close enough (:func:`planner.solver.bounds.dual_bound`), the plan is
    tried before the relaxation, which is skipped when the plan is within the gap of that bound"""


#: ``DiveResult.steps`` name of a plan taken from a :class:`PlanStart`.
START_STEP = "plan of a similar scenario"


@dataclass(eq=False)
class _StartLP:
    """The LP of a :class:`PlanStart`'s integers fixed (:meth:`Relaxation._start_lp`)."""

    cols: np.ndarray  #: the integer columns
    values: np.ndarray  #: their fixed values
    before: highspy.HighsBasis  #: the instance's basis before
    objective: float | None = None  #: the LP's objective [MCNY] (None: it had no optimal plan)
    solution: Any = None  #: its optimal solution, HiGHS's own object
    basis: highspy.HighsBasis | None = None  #: its optimal basis
    seconds: float = 0.0

    def within(self, bound: float, gap: float) -> bool:
        """Its plan is proven within ``gap`` [-] of the lower ``bound`` [MCNY]."""
        return self.objective is not None and self.objective - bound <= gap * max(abs(self.objective), 1e-9)


@dataclass
class DiveResult:
    """What the relaxation and the dive found (money in MCNY)."""

    bound: float | None = None
    """a proven lower bound [MCNY]: the LP relaxation's objective, or, where the relaxation was skipped
    (``dual_bound``), the bound from a similar scenario's duals"""
    dual_bound: bool = False
    """``bound`` is :func:`planner.solver.bounds.dual_bound` at a :class:`PlanStart`'s duals: the relaxation
    did not run (no ``basis``, no ``solution``), the start's plan was within the gap of that bound"""
    relaxation_status: str = ""
    """``Status.OPTIMAL``, ``Status.INFEASIBLE``, or HiGHS's status text when neither (with ``dual_bound``:
    ``Status.OPTIMAL``, the relaxation is bounded and has a plan, the start's)"""
    objective: float | None = None  #: objective of the rounded plan (None if the dive failed)
    x: np.ndarray | None = None  #: column values of the rounded plan
    steps: list[tuple[str, float, float]] = field(default_factory=list)
    """(group, LP objective after fixing it [MCNY], seconds it took) for each group fixed; groups fixed
    together in one LP (``Relaxation.together``) each have that LP's objective, and its seconds on the first."""
    left: list[str] = field(default_factory=list)
    """Groups not fixed when the dive had to hurry (``Relaxation.dive``); ``x`` is then the last optimal
    LP, whole in the groups fixed (``steps``) only, and ``objective`` is None."""
    basis: Any = None
    """Optimal basis of the relaxation, HiGHS's own object (a warm start for similar scenarios;
    :func:`basis_arrays` turns it into arrays to save or send)."""
    plan_basis: Any = None
    """Optimal basis of the plan's LP (its integers fixed), HiGHS's own object: where a
    :class:`PlanStart` of this plan starts in a similar scenario."""
    solution: Any = None
    """The relaxation's optimal solution, HiGHS's own object (a copy, 0.1 ms; its vectors are converted
    only when read: ``SolveOutcome.relaxation_duals``)."""
    started: bool = False  #: the plan is a :class:`PlanStart`'s, the dive was skipped
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def gap(self) -> float | None:
        """Relative gap of the rounded plan to the bound [-]."""
        if self.objective is None or self.bound is None:
            return None
        return (self.objective - self.bound) / max(abs(self.objective), 1e-9)


class Relaxation:
    """The compiled model with every integer made continuous, in one warm HiGHS instance."""

    def __init__(
        self, compiled: CompiledModel, options: SolveOptions, start: Basis | highspy.HighsBasis | None = None
    ) -> None:
        self.compiled = compiled
        self.options = options
        self.highs = new_highs(options)
        compiled.highs_arrays(relax=True).pass_to(self.highs)
        # From scratch on the default (56 k columns) the simplex takes 36 s against 24-32 s for
        # IPX and 26 s for HiPO, but IPX's crossover ends "imprecise" there (a dual infeasibility
        # of 1.7e-7 against a tolerance of 1e-7, with or without user scaling) and HiGHS warns and
        # cleans up; the simplex reports no numerical trouble. On larger models (several sites,
        # full-year resolution) the simplex falls far behind (degenerate hourly columns), so above
        # INTERIOR_POINT_COLUMNS interior point with crossover starts (HiPO where available: ``interior_point``).
        # From a ``start`` basis (the relaxation of a scenario of the same structure, e.g. a sweep's
        # first case) the simplex takes 4-9 s on the default. Later re-solves start from the basis
        # at hand.
        self.warm = start is not None and set_basis(self.highs, start)
        self.cold_interior = not self.warm and len(compiled.columns) > INTERIOR_POINT_COLUMNS
        self.highs.setOptionValue("solver", interior_point() if self.cold_interior else "simplex")
        # From another scenario's basis HiGHS may choose the simplex by that basis (``simplex_strategy``
        # 0): primal where it is still primal feasible, as when a sweep case changes only prices (3,878
        # and 6,107 iterations in 2.5 and 4.5 s against the dual's 7,041 and 11,777 in 9.8 and 15.2 s),
        # dual where it is not, as when it changes a PUE cap (the same 5,896 iterations as the dual). For
        # this first solve only: the dive's re-solves change bounds, the dual's case.
        self._restore_strategy: int | None = None
        if self.warm:
            self._choose_simplex_once()
        self.lower = np.array(compiled.col_lower, dtype=float)
        self.upper = np.array(compiled.col_upper, dtype=float)
        self._row_entries: np.ndarray | None = None  #: entries of each row of A (``_repaired``, on first use)
        self.budget_row = compiled.budget_row
        sites = getattr(compiled.model, "S", None)
        #: the model's sites when it has several (the dive then rounds site-indexed builds over them)
        self.sites: frozenset[object] = frozenset(sites) if sites is not None and len(sites) > 1 else frozenset()

    # ------------------------------------------------------------------ LP plumbing
    def _choose_simplex_once(self) -> None:
        """Let HiGHS choose primal or dual simplex by the basis (``simplex_strategy`` 0) for the next solve
        only, unless the user set ``simplex_strategy``: after another scenario's basis is set.
        """
        if "simplex_strategy" not in {name for name, _ in self.options.extra}:
            if self._restore_strategy is None:  # not armed already (a start's LP after a warm relaxation's)
                self._restore_strategy = int(self.highs.getOptionValue("simplex_strategy")[1])
            self.highs.setOptionValue("simplex_strategy", 0)

    def _run(self, time_limit: float) -> str:
        """Run HiGHS for at most ``time_limit`` seconds; a :class:`Status` when optimal or infeasible, else
        HiGHS's own status text.
        """
        # HiGHS holds its time limit against the instance's total run time over all its runs, not this
        # run's (ERGO-Code/HiGHS#1477, to change in HiGHS 2.0): the dive's tenth LP given "the 140 s
        # left" would stop at once after 160 s of earlier runs. So the limit is offset by that total.
        self.highs.setOptionValue("time_limit", self.highs.getRunTime() + max(float(time_limit), 1e-3))
        self.highs.run()
        self.highs.setOptionValue("solver", "simplex")  # re-solves: from the basis at hand
        if self._restore_strategy is not None:
            self.highs.setOptionValue("simplex_strategy", self._restore_strategy)
            self._restore_strategy = None
        status = self.highs.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            return Status.OPTIMAL
        if status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            return Status.INFEASIBLE
        return self.highs.modelStatusToString(status)

    def _objective(self) -> float:
        return float(self.highs.getInfo().objective_function_value) / OBJECTIVE_SCALE  # [MCNY]

    def values(self) -> np.ndarray:
        """Column values of the last solve (``fromiter``: a third faster than ``asarray`` of highspy's list)."""
        return np.fromiter(self.highs.getSolution().col_value, float, count=len(self.lower))

    def set_bounds(self, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """Change column bounds (the basis is kept for the next solve)."""
        if len(cols):
            self.highs.changeColsBounds(len(cols), cols.astype(np.int32), lower, upper)

    def reset_bounds(self, cols: np.ndarray) -> None:
        """Give columns back their model bounds."""
        self.set_bounds(cols, self.lower[cols], self.upper[cols])

    def set_objective(self, cost: np.ndarray) -> None:
        """Minimise ``cost @ x`` [MCNY, as the compiled model's] instead (the basis is kept)."""
        n = len(cost)
        self.highs.changeColsCost(n, np.arange(n, dtype=np.int32), np.asarray(cost, dtype=float) * OBJECTIVE_SCALE)

    def set_budget(self, margin: float) -> None:
        """Hold the NPV budget row ``margin`` [MCNY] below its model bound (no budget row: nothing)."""
        r = self.budget_row
        if r is not None:
            upper = float(self.compiled.row_upper[r]) - margin
            self.highs.changeRowBounds(r, -highspy.kHighsInf, upper)

    def margins(self, groups: list[tuple[str, np.ndarray]]) -> list[float]:
        """Each group's budget margin [MCNY] (module docstring): per key, the dearest NPV of one unit."""
        if self.budget_row is None:
            return [0.0] * len(groups)
        npv = self.compiled.A[[self.budget_row], :].toarray().ravel()
        out = []
        for _, cols in groups:
            dearest = [max(0.0, float(np.max(npv[cols[members]]))) for members in self._keys(cols).values()]
            out.append(BUDGET_MARGIN * sum(dearest))
        return out

    def solve_lp(self, time_limit: float) -> tuple[str, float | None]:
        """Solve the LP as it stands; return its status and objective [MCNY]."""
        status = self._run(time_limit)
        return status, (self._objective() if status == Status.OPTIMAL else None)

    def row_duals(self) -> np.ndarray:
        """Row duals of the last optimal solve [MCNY per unit of the row]."""
        return np.asarray(self.highs.getSolution().row_dual, dtype=float) / OBJECTIVE_SCALE

    # ------------------------------------------------------------------ the dive
    def groups(self) -> list[tuple[str, np.ndarray]]:
        """Integer columns grouped by component: binaries first, then the model's order."""
        by_component: dict[str, list[int]] = defaultdict(list)
        binary: dict[str, bool] = {}
        for j in np.flatnonzero(self.compiled.integer):
            v = self.compiled.columns[j]
            name = v.parent_component().local_name
            by_component[name].append(int(j))
            binary[name] = bool(v.is_binary())
        groups = {n: np.array(cols, dtype=np.int64) for n, cols in by_component.items()}
        if self.sites:
            # Several sites: the lumpiest builds first (NPV of one unit, largest first), while the
            # servers are still continuous and can move to the sites where the rounding left room.
            unit = {n: float(np.max(np.abs(self.compiled.cost[cols]))) for n, cols in groups.items()}
            names = sorted(groups, key=lambda n: (not binary[n], -unit[n]))
        else:
            names = sorted(groups, key=lambda n: not binary[n])  # stable: model order within each kind
        return [(n, groups[n]) for n in names]

    def _keys(self, cols: np.ndarray) -> dict[object, list[int]]:
        """Positions in ``cols`` per key (the index without its year, the last element), in year order."""
        by_key: dict[object, list[tuple[Any, int]]] = defaultdict(list)
        for pos, j in enumerate(cols):
            index = self.compiled.columns[j].index()
            index = index if isinstance(index, tuple) else (index,)
            by_key[index[:-1]].append((index[-1], pos))
        return {key: [pos for _, pos in sorted(members, key=lambda m: m[0])] for key, members in by_key.items()}

    def _by_site(self, cols: np.ndarray) -> dict[object, dict[object, list[int]]] | None:
        """The group's keys by their key without the site (``(a, c)`` of ``(site, a, c)``), then by
        site; None when the group is not indexed by site first or the model has one site.
        """
        if not self.sites:
            return None
        out: dict[object, dict[object, list[int]]] = defaultdict(dict)
        for key, members in self._keys(cols).items():
            key = key if isinstance(key, tuple) else (key,)
            if not key or key[0] not in self.sites:
                return None
            out[key[1:]][key[0]] = members
        return out

    def _rounded_over_sites(self, cols: np.ndarray, x: np.ndarray) -> np.ndarray | None:
        """Values to fix ``cols`` at, rounded so that the sum over the sites is rounded up, not each site.

        Rounding every site's cumulative builds up adds up to one unit per site where the cluster
        needs at most one in all (on the default on four sites at 4 days: 19 new halls where the LP
        builds 17.9, against 18 rounded over the sites). Per key without the site and per year,
        every site keeps at least the whole part of its cumulative LP builds; the units that make up
        the cluster's rounded-up total go to the sites with the largest fractional parts that still
        have room in the year's bounds.
        The LP re-solve then moves what the rounding took from one site to the others. None when
        the group is not indexed by site (or the model has one site).
        """
        if all(self.compiled.columns[j].is_binary() for j in cols):
            return None  # a site's own yes/no (in use, a technology there): not a quantity to share out
        by_site = self._by_site(cols)
        if by_site is None:
            return None
        lo, hi = self.lower[cols], self.upper[cols]
        out = np.zeros(len(cols))
        for sites in by_site.values():
            names = list(sites)
            n_years = len(next(iter(sites.values())))
            if any(len(m) != n_years for m in sites.values()):
                return None  # sites with different build years: nothing to line up
            cumulative = dict.fromkeys(names, 0.0)
            built = dict.fromkeys(names, 0.0)
            for k in range(n_years):
                pos = {s: sites[s][k] for s in names}
                for s in names:
                    cumulative[s] += max(x[cols[pos[s]]], 0.0)
                target = math.ceil(sum(cumulative.values()) - TOLERANCE)
                step = {}
                for s in names:
                    whole = math.floor(cumulative[s] + TOLERANCE)
                    step[s] = min(max(max(0.0, whole - built[s]), lo[pos[s]]), hi[pos[s]])
                extra = target - sum(built[s] + step[s] for s in names)
                order = sorted(names, key=lambda s: -(cumulative[s] - built[s] - step[s]))
                for s in order:
                    if extra <= 0:
                        break
                    if step[s] + 1 <= hi[pos[s]] and cumulative[s] - built[s] - step[s] > TOLERANCE:
                        step[s] += 1
                        extra -= 1
                for s in names:
                    out[pos[s]] = step[s]
                    built[s] += step[s]
        return out

    def _rounded(self, cols: np.ndarray, x: np.ndarray, nearest: bool, up: bool = True) -> np.ndarray:
        """Values to fix ``cols`` at: cumulative ceil (``up``) or floor along the year per key."""
        lo, hi = self.lower[cols], self.upper[cols]
        if nearest:
            return np.clip(np.round(x[cols]), lo, hi)
        if all(self.compiled.columns[j].is_binary() for j in cols):
            return np.clip(np.ceil(x[cols] - TOLERANCE) if up else np.floor(x[cols] + TOLERANCE), lo, hi)
        out = np.empty(len(cols))
        for members in self._keys(cols).values():
            cumulative, built = 0.0, 0.0
            for pos in members:
                cumulative += max(x[cols[pos]], 0.0)
                whole = math.ceil(cumulative - TOLERANCE) if up else math.floor(cumulative + TOLERANCE)
                value = min(max(max(0.0, whole - built), lo[pos]), hi[pos])
                out[pos] = value
                built += value
        return out

    def _fix(self, cols: np.ndarray, values: np.ndarray, deadline: float) -> float | None:
        """Fix ``cols`` at ``values`` and re-solve; on failure undo it (bounds and basis). The objective."""
        basis = self.highs.getBasis()
        self.set_bounds(cols, values, values)
        status, objective = self.solve_lp(deadline - time.perf_counter())
        if status == Status.OPTIMAL and objective is not None:
            return float(objective)
        self.reset_bounds(cols)
        self.highs.setBasis(basis)
        return None

    def together(self, groups: list[tuple[str, np.ndarray]]) -> dict[int, int]:
        """Runs of consecutive groups to fix in one LP: ``{first: one past the last}``.

        On one site, the builds whose units only add capacity (``m.capacity_builds``: halls, plant
        units, grid blocks, gensets, once the servers and racks that load them are fixed) are rounded
        up together from the same LP: rounding one of them up barely moves the others' LP values (more
        halls carry no more heat, more plant units draw no more power), so an LP after each re-solved
        much the same hours again (on the default about 6 s for the four one by one, 4.5 s at once; the
        plans measured within 0.02 % either way, README "Sweeps"). On several sites the dive compares
        two roundings per group and fixes the lumpiest first (module docstring): no runs.
        """
        capacity: set[str] = getattr(self.compiled.model, "capacity_builds", set())
        if self.sites or not capacity:
            return {}
        runs: dict[int, int] = {}
        i = 0
        while i < len(groups):
            end = i
            while end < len(groups) and groups[end][0] in capacity:
                end += 1
            if end - i > 1:
                runs[i] = end
            i = max(end, i + 1)
        return runs

    def _fix_together(self, groups: list[tuple[str, np.ndarray]], x: np.ndarray, deadline: float) -> float | None:
        """Fix ``groups`` at once, each rounded up as the dive's first try (cumulative ``ceil``, repaired);
        on failure nothing is fixed (:meth:`_fix`). The LP objective [MCNY].
        """
        cols = np.concatenate([c for _, c in groups])
        values = np.concatenate([self._repaired(c, self._rounded(c, x, nearest=False), x) for _, c in groups])
        return self._fix(cols, values, deadline)

    def _fix_over_sites(self, cols: np.ndarray, x: np.ndarray, over_sites: np.ndarray, deadline: float) -> float | None:
        """Fix a site-indexed group at the better of its rounding per site and its rounding over the sites.

        Rounded over the sites, a site may keep less than its LP value (its whole part only); the LP
        re-solve moves the rest of its load to other sites, which can cost more than the unit saved
        (a site whose grid connection is rounded down serves its halls from gensets; on the default
        on four sites that LP took 114 s to a plan 87 % dearer). So the rounding per site is solved
        first, then the one over the sites from the same basis with at most
        :data:`OVER_SITES_PIVOTS` times as many simplex iterations (a deterministic cap, unlike a
        time limit), and the cheaper kept (``over_sites``: the values of
        :meth:`_rounded_over_sites`). None when neither rounding leaves a plan (the caller's
        fallbacks follow).
        """
        basis = self.highs.getBasis()
        own = self._repaired(cols, self._rounded(cols, x, nearest=False), x)
        own_objective = self._fix(cols, own, deadline)
        own_basis = self.highs.getBasis()
        pivots = int(self.highs.getInfo().simplex_iteration_count)
        self.reset_bounds(cols)
        self.highs.setBasis(basis)
        cap = max(OVER_SITES_MIN_PIVOTS, int(OVER_SITES_PIVOTS * pivots))
        self.highs.setOptionValue("simplex_iteration_limit", cap)
        try:
            shared_objective = self._fix(cols, self._repaired(cols, over_sites, x), deadline)
        finally:
            self.highs.setOptionValue("simplex_iteration_limit", highspy.kHighsIInf)
        if shared_objective is not None and (own_objective is None or shared_objective < own_objective):
            return shared_objective
        if own_objective is None:
            return None
        # Back to the rounding per site, from its own optimal basis (no pivots).
        self.reset_bounds(cols)
        self.set_bounds(cols, own, own)
        self.highs.setBasis(own_basis)
        status, objective = self.solve_lp(deadline - time.perf_counter())
        return objective if status == Status.OPTIMAL else None

    def _fix_key_by_key(self, cols: np.ndarray, deadline: float) -> float | None:
        """Fix a group one key at a time (rounded up, else down), the LP adapting the rest in between.

        The fallback when rounding the whole group at once breaks a row that couples its keys
        through other variables, e.g. a domestic-share floor binding in the LP: rounding a foreign
        server type up needs the domestic ones to follow, which the LP re-solve after each key does.
        """
        objective = None
        for members in self._keys(cols).values():
            key_cols = cols[members]
            for up in (True, False):
                x = self.values()
                objective = self._fix(key_cols, self._rounded(key_cols, x, nearest=False, up=up), deadline)
                if objective is not None:
                    break
            if objective is None or time.perf_counter() > deadline:
                return None
        return objective

    def _repaired(self, cols: np.ndarray, values: np.ndarray, x: np.ndarray) -> np.ndarray:
        """``values`` moved by whole units until the rows that involve only ``cols`` hold.

        Such rows are checked exactly before any LP: a purchase cap, for example, limits the sum of
        a server type's builds over its cooling technologies, and rounding each of them up can pass
        it by one. A violated row is repaired by taking back, one unit at a time, the roundings that
        moved furthest from the LP values in the wrong direction (down for a row above its upper
        bound, up for one below its lower bound), never beyond a column's bounds.
        """
        A = self.compiled.A
        if self._row_entries is None:  # entries per row over all columns (A is column-major: one count)
            self._row_entries = np.bincount(A.indices, minlength=A.shape[0])
        sub = A[:, cols].tocsr()
        entries = np.diff(sub.indptr)
        rows = np.flatnonzero((entries > 0) & (entries == self._row_entries))  # no entries outside cols
        if not len(rows):
            return values
        block = sub[rows, :].tocsr()
        lo, up = self.lower[cols], self.upper[cols]
        out = values.copy()
        for i, r in enumerate(rows):
            start, end = block.indptr[i], block.indptr[i + 1]
            members, coef = block.indices[start:end], block.data[start:end]
            for _ in range(len(members) * 4):  # a few units per column at most
                activity = float(coef @ out[members])
                tol = 1e-6 * (1 + abs(activity))
                if activity > self.compiled.row_upper[r] + tol:
                    sign = 1.0
                elif activity < self.compiled.row_lower[r] - tol:
                    sign = -1.0
                else:
                    break
                # Columns whose unit step moves the activity back: sign*coef > 0 means step down.
                step = -sign * np.sign(coef)
                moved = (out[members] - x[cols[members]]) * -step  # how far each went the wrong way
                room = np.where(step < 0, out[members] - lo[members] >= 1, up[members] - out[members] >= 1)
                candidates = np.flatnonzero(room & (coef != 0))
                if not len(candidates):
                    break
                k = candidates[np.argmax(moved[candidates])]
                out[members[k]] += step[k]
        return out

    def _first_margins(self, groups: list[tuple[str, np.ndarray]], deadline: float) -> list[float] | None:
        """The budget margins the dive starts with, the LP re-solved with the budget less all of them.

        Halved until the LP has a plan (at most :data:`MARGIN_HALVINGS` times, then none: the full
        budget, as solved before). None when even that LP stops short (time limit).
        """
        margins = self.margins(groups)
        if not any(margins):
            return margins
        basis = self.highs.getBasis()
        for _ in range(MARGIN_HALVINGS):
            self.set_budget(sum(margins))
            status, _ = self.solve_lp(deadline - time.perf_counter())
            if status == Status.OPTIMAL:
                return margins
            self.highs.setBasis(basis)
            margins = [m / 2 for m in margins]
        margins = [0.0] * len(groups)
        self.set_budget(0.0)
        status, _ = self.solve_lp(deadline - time.perf_counter())
        return margins if status == Status.OPTIMAL else None

    def dive(
        self,
        deadline: float,
        round_plan: bool = True,
        hurry: float | None = None,
        only: frozenset[str] | None = None,
        start: PlanStart | None = None,
        accept_gap: float | None = None,
    ) -> DiveResult:
        """Solve the relaxation, then fix the integers group by group (see the module docstring).

        Parameters
        ----------
        deadline : float
            ``time.perf_counter()`` value by which to stop; the dive gives up when it passes.
        round_plan : bool
            False: the relaxation only (its bound and basis), where the plan comes from elsewhere
            (:mod:`planner.solver.coarse`).
        hurry : float, optional
            ``time.perf_counter()`` value at which to stop fixing groups (a group's LPs stop there too)
            and return the last optimal LP with the groups left (``DiveResult.left``), for a caller
            that fixes those elsewhere.
        only : frozenset of str, optional
            Fix these groups (component names) alone: the caller has fixed the other integer columns
            (``set_bounds``) before the relaxation.
        start : PlanStart, optional
            A similar scenario's plan, tried first: taken instead of the dive when its LP is within
            ``accept_gap`` [-] of the relaxation (``DiveResult.started``).
        accept_gap : float, optional
            The gap within which ``start``'s plan is taken (the caller's MIP gap).
        """
        result = DiveResult()
        tried: _StartLP | None = None  #: the start's LP, where it was solved before the relaxation
        if round_plan and self.warm and start is not None and start.duals is not None and accept_gap is not None:
            # The start's duals may bound this relaxation close enough to prove the start's plan without it
            # (its LP then comes first; a try that fails goes back to the warm basis the relaxation starts from).
            lower = dual_bound(self.compiled, start.duals)
            if math.isfinite(lower):
                tried = self._start_lp(start, deadline)
                if tried is not None:
                    result.timings["plan_start"] = tried.seconds
                    if tried.within(lower, accept_gap):
                        result.bound, result.dual_bound, result.relaxation_status = lower, True, Status.OPTIMAL
                        return self._started(result, tried)
                    self._undo_start(tried)
                    self._choose_simplex_once()  # the relaxation starts from another scenario's basis again
        t0 = time.perf_counter()
        status, bound = self.solve_lp(deadline - t0)
        result.timings["relaxation"] = time.perf_counter() - t0
        result.relaxation_status = status
        if status != Status.OPTIMAL:
            return result
        result.bound = bound
        result.basis = self.highs.getBasis()  # a copy, cheap; its arrays only when needed
        result.solution = self.highs.getSolution()  # likewise (its duals: a neighbour's start, ``PlanStart``)
        if not round_plan:
            return result
        if start is not None and accept_gap is not None and bound is not None:
            if tried is None:
                tried = self._start_lp(start, deadline)
                if tried is not None:
                    result.timings["plan_start"] = tried.seconds
                    if tried.within(bound, accept_gap):
                        return self._started(result, tried)
                    self._undo_start(tried)
            elif tried.within(bound, accept_gap):  # solved before the relaxation, proven by it now
                self._redo_start(tried)
                return self._started(result, tried)
        t1 = time.perf_counter()
        groups = [(name, cols) for name, cols in self.groups() if only is None or name in only]
        margins = self._first_margins(groups, deadline)
        if margins is None:
            result.timings["dive"] = time.perf_counter() - t1
            return result
        # With ``hurry``, a group's LPs stop there too, and the groups not fixed by then are left.
        stop = deadline if hurry is None else min(hurry, deadline)
        runs = self.together(groups)
        done = 0  # groups before this one were fixed together with an earlier one
        for i, (name, cols) in enumerate(groups):
            if i < done:
                continue
            t2 = time.perf_counter()
            x = self.values()  # the last optimal LP: the relaxation, or the groups fixed so far
            if hurry is not None and t2 > hurry:
                return self._left(result, groups[i:], x, t1)
            end = runs.get(i)
            if end is not None:  # builds that only add capacity: rounded up together, one LP
                self.set_budget(sum(margins[end:]))
                objective = self._fix_together(groups[i:end], x, stop)
                if time.perf_counter() > deadline:
                    result.timings["dive"] = time.perf_counter() - t1
                    return result
                if objective is not None:
                    seconds = time.perf_counter() - t2
                    fixed = [n for n, _ in groups[i:end]]
                    result.steps.extend((n, objective, seconds if k == 0 else 0.0) for k, n in enumerate(fixed))
                    done = end
                    continue
                # Else one group at a time, as below (the LP and basis are as before the try).
            self.set_budget(sum(margins[i + 1 :]))  # this group's margin back: what its rounding may cost
            objective = None
            over_sites = self._rounded_over_sites(cols, x)
            if over_sites is not None:  # several sites: both roundings up, the cheaper kept
                objective = self._fix_over_sites(cols, x, over_sites, stop)
            for nearest in (False, True):
                if objective is not None:
                    break
                if nearest or over_sites is None:  # rounding up per site was tried just above
                    objective = self._fix(cols, self._repaired(cols, self._rounded(cols, x, nearest), x), stop)
            if objective is None and time.perf_counter() < stop:
                # Every cumulative build rounded down: where the lumpy builds fixed before leave no room
                # for one more unit (servers sold at full load fill every hall and block they can).
                down = self._repaired(cols, self._rounded(cols, x, nearest=False, up=False), x)
                objective = self._fix(cols, down, stop)
            if objective is None and time.perf_counter() < stop:
                objective = self._fix_key_by_key(cols, stop)
            now = time.perf_counter()
            if objective is None and hurry is not None and hurry < now < deadline:  # stopped by the hurry
                return self._left(result, groups[i:], x, t1)
            if objective is None or now > deadline:
                result.timings["dive"] = time.perf_counter() - t1
                return result
            result.steps.append((name, objective, time.perf_counter() - t2))
        result.objective = self._objective()
        result.x = self.values()
        result.plan_basis = self.highs.getBasis()
        result.timings["dive"] = time.perf_counter() - t1
        return result

    def _start_lp(self, start: PlanStart, deadline: float) -> _StartLP | None:
        """``start``'s integers fixed here and the LP solved, from the start's own last basis (None: the start
        does not fit this model). The instance is left with that LP (:meth:`_undo_start` goes back).

        Where only prices moved that basis is still primal feasible, so HiGHS chooses the simplex by the
        basis (``simplex_strategy`` 0), as for a warm relaxation.
        """
        if len(start.x) != len(self.lower):
            return None
        t0 = time.perf_counter()
        cols = np.flatnonzero(self.compiled.integer)
        values = np.clip(np.round(start.x[cols]), self.lower[cols], self.upper[cols]) + 0.0
        before = self.highs.getBasis()
        self.set_bounds(cols, values, values)
        if start.basis is not None and set_basis(self.highs, start.basis):
            self._choose_simplex_once()
        status, objective = self.solve_lp(deadline - time.perf_counter())
        lp = _StartLP(cols, values, before)
        if status == Status.OPTIMAL and objective is not None:
            lp.objective, lp.solution, lp.basis = float(objective), self.highs.getSolution(), self.highs.getBasis()
        lp.seconds = time.perf_counter() - t0
        return lp

    def _undo_start(self, lp: _StartLP) -> None:
        """The bounds and basis as before :meth:`_start_lp`."""
        self.reset_bounds(lp.cols)
        self.highs.setBasis(lp.before)

    def _redo_start(self, lp: _StartLP) -> None:
        """The start's integers fixed again, from the basis its LP ended with (no solve: its values are kept)."""
        self.set_bounds(lp.cols, lp.values, lp.values)
        if lp.basis is not None:
            self.highs.setBasis(lp.basis)

    def _started(self, result: DiveResult, lp: _StartLP) -> DiveResult:
        """``result`` with the start's plan taken (the dive skipped)."""
        assert lp.objective is not None and lp.solution is not None
        result.steps.append((START_STEP, lp.objective, lp.seconds))
        result.objective, result.started, result.plan_basis = lp.objective, True, lp.basis
        result.x = np.fromiter(lp.solution.col_value, float, count=len(self.lower))
        return result

    def _left(self, result: DiveResult, groups: list[tuple[str, np.ndarray]], x: np.ndarray, t1: float) -> DiveResult:
        """``result`` of a dive that stopped at its hurry: ``x`` (the last optimal LP) and the groups left."""
        result.x = x
        result.left = [name for name, _ in groups]
        result.timings["dive"] = time.perf_counter() - t1
        return result


class ConcurrentDive:
    """Run the relaxation and dive on a second thread while HiGHS solves the MIP's root.

    HiGHS's MIP and the dive each start with the same LP (about 40-50 s on the default), so
    on a machine with two cores they run side by side. HiGHS calls back for user solutions
    at fixed points of its root processing; at :data:`MEET_AT_CALL` the callback waits for the
    dive and hands its plan to HiGHS as an incumbent. If that plan is within the requested gap
    of HiGHS's root bound, HiGHS stops there; otherwise branch-and-bound goes on from it.

    With ``background=False`` (one core per solve, as in sweeps) the dive runs to its end in the
    constructor instead; the caller can then skip the MIP when the dive already proves the gap,
    and otherwise the same meeting hands the finished plan to HiGHS.
    """

    def __init__(
        self,
        relaxation: Relaxation,
        deadline: float,
        background: bool = True,
        round_plan: bool = True,
        start: PlanStart | None = None,
        accept_gap: float | None = None,
    ) -> None:
        self.relaxation = relaxation
        self.deadline = deadline
        self.round_plan = round_plan
        self.start, self.accept_gap = start, accept_gap  #: a similar scenario's plan, tried first (``dive``)
        self.result: DiveResult | None = None
        self.error: BaseException | None = None
        self.given = False
        self._finite_calls = 0
        self._met = False
        self._thread = threading.Thread(target=self._run, name="planner-dive", daemon=True)
        if background:
            self._thread.start()
        else:  # one core: dive first, in this thread; the meeting then hands the finished plan over
            self._run()

    def _join(self) -> None:
        if self._thread.ident is not None:  # started (background)
            self._thread.join()

    def _run(self) -> None:
        try:
            self.result = self.relaxation.dive(
                self.deadline, round_plan=self.round_plan, start=self.start, accept_gap=self.accept_gap
            )
        except Exception as exc:  # the MIP goes on without a start; finish() reports it
            self.error = exc

    def attach(self, highs: highspy.Highs) -> None:
        """Subscribe to HiGHS's user-solution callback."""
        highs.cbMipUserSolution.subscribe(self._callback)

    def _callback(self, event: object) -> None:
        if self._met:
            return
        if not math.isfinite(event.data_out.mip_dual_bound):  # type: ignore[attr-defined]
            return
        self._finite_calls += 1
        if self._finite_calls < MEET_AT_CALL:
            return
        self._met = True
        self._join()
        if self.result is not None and self.result.x is not None:
            event.data_in.setSolution(np.ascontiguousarray(self.result.x, dtype=float))  # type: ignore[attr-defined]
            self.given = True

    def finish(self) -> DiveResult:
        """Wait for the dive (if HiGHS finished before the meeting point) and return its result.

        A dive that raised returns an empty result (``relaxation_status`` says why): it only ever
        helps the MIP, so its failure must not cost the user the plan HiGHS found.
        """
        self._join()
        if self.result is None:  # the dive failed: HiGHS's own result stands, without a start
            return DiveResult(relaxation_status=f"error: {self.error!r}")
        return self.result
