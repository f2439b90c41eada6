"""How far a direction goes within the NPV budget, searched as least-cost plans at a level of the direction.

Minimising a direction ``d(x)`` with the NPV held at most ``B`` (the alternative as DESIGN §10 states it)
gives the simplex a flat objective: every column outside the direction costs only the tie-break, and
on the default each LP of it took 70-140 s and 50-160 k pivots, the rounding dive's re-solves as long;
the dive ran out of time and HiGHS's MIP found nothing better than the least-cost plan in 240-900 s.
The same alternatives are the least-cost plans at a *level* of the direction, the
epsilon-constraint form:

    V(z) = min NPV(x)  subject to the model's rows and  d(x) <= z,

and the alternative is the plan with the smallest ``z`` whose NPV is within ``B``. With the cost as
objective the LP re-solves after a change of ``z`` (a row bound: dual simplex from the last basis) take
seconds, and the rounding dive of :mod:`planner.solver.dive` rounds as it does for the least-cost plan
(with no budget row to break). Among plans that go equally far, the cheapest comes out by construction.

:func:`search` works on the LP value ``V``, which is non-increasing in ``z`` (a looser level never costs
more):

1. **The limit.** Every LP solved at a level ``z`` with ``V(z) > B`` (or proven without a plan)
   proves that no plan within the budget reaches ``z`` or beyond. For a linear direction ``V`` is also
   convex, so the row's dual ``y`` at any level ``z_k`` (a subgradient) proves more with one LP:
   every plan with ``d(x) < z_k + (B - V(z_k)) / y`` costs more than ``B``. The levels are chosen
   between the nearest level within the budget and the nearest beyond it: Newton steps on that
   tangent from beyond (they never pass the root), secant steps for a share, bisection where a level
   has no plan; until the two are within :data:`LEVEL_TOL`. Before any level beyond the budget is
   known, a step goes at most twice as far as the LPs have gone (at least :data:`FIRST_STEP` of the
   start's position): on the default a level far beyond proved empty only after 190-205 s of
   simplex. No level goes beyond the direction's
   *floor*, where no plan can pass (a share is at least 0 and at most 1; non-negative weights of
   non-negative columns sum to at least 0), which is tried first where the tangent says nothing; else,
   where the start's level does not bind the LP (its point lies beyond), the first step goes
   :data:`FIRST_STEP` beyond that point. Where
   every plan's position is a whole number of units (a direction over integer columns whose
   coefficients are whole multiples of one unit: grid blocks of one rating, servers bought, halls),
   the limit is rounded up to the next whole unit: on the default, 6 grid blocks (359 MW), since
   the LP's 303.7 MW leaves no room for 5 (299 MW).
2. **The plans.** The rounding dive adds cost ``U(z) - V(z)`` to the LP (on the default about 0.4 %
   of the NPV, a fifth of a 2 % budget), so it runs at the level where ``V`` leaves that much of the
   budget: ``V(z) = B - delta``, ``delta`` first the least-cost plan's own rounding cost, then what
   the last dive cost. Levels are kept between the best plan's position (no dive at or beyond it can
   do better) and the highest level whose dive failed or passed the budget; where the target's level
   falls outside, the midpoint. For a share the dive minimises the NPV plus the level row's dual
   price times the row, the row itself a band from just beyond the level to :data:`DIVE_WIDEN` of
   the way from the start behind it: the LP's point stays optimal, and a rounding that leaves the
   plan a little behind the level costs that price instead of failing the row (a share's row moves
   with every whole server, and the dive could neither repair it nor avoid overshooting). At most
   :data:`MAX_DIVES` dives, until the best position and the highest failed level are
   :data:`TARGET_TOL` of the way apart; the plan going furthest within the
   budget is kept (none: the start).

A *share* direction (``num / den``, Dinkelbach's ratio) is a level too: ``share <= t`` is the
linear row ``num - t den <= 0`` (its coefficients change with ``t``); its ``V`` is monotone but not
convex, so only step 1's first proof applies.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import highspy
import numpy as np

from planner.solver.dive import Basis, Relaxation, with_basic_rows
from planner.solver.highs import CompiledModel, SolveOptions
from planner.solver.status import Status

__all__ = ["LEVEL_ROW", "LEVEL_TOL", "MAX_DIVES", "MAX_LPS", "Level", "Searched", "implied_integer", "search"]

LEVEL_ROW = "direction_level"
"""Name of the row ``d(x) <= z`` added to the model."""

LEVEL_TOL = 1e-6
"""The limit is searched until the levels within and beyond the budget are this close [direction's
scale, about 1 at the least-cost plan]."""

DIVE_ALLOWANCE = 1e-5
"""A dive runs at its level widened by this [direction's scale, relative]: a plan on the level itself
(two of four servers domestic at the level share >= 0.5) must not fail the row by a rounding error."""

DIVE_WIDEN = 0.25
"""A dive's level row is widened by this share of the way from the start's level (its Lagrangian price
keeps the plan near the level; :meth:`_Probe.dive`)."""

FIRST_STEP = 0.1
"""Where the LP at the start's level does not feel the level (its point lies beyond it), the next level
is this share of the direction's scale beyond that point."""

LATTICE_TOL = 1e-6
"""Tolerance of whole multiples [units of the lattice] (:func:`_lattice`)."""

MAX_LPS = 40
"""At most this many LPs in one search (each seconds on the default)."""

MAX_DIVES = 5
"""At most this many rounding dives in one search (each 5-8 s on the default)."""

TARGET_TOL = 0.02
"""The dives stop when the best plan's position and the highest failed level are this share of the way
from the start to the limit apart; a target's LP level is close enough within this share of the budget's
room (``B`` less the LP at the start's level)."""


@dataclass(frozen=True)
class Level:
    """A direction as a level row: ``coefficients(z) @ x <= upper(z)`` holds exactly when the plan's
    ``position(x) <= z``; smaller ``z`` goes further in the direction.

    ``convex``: the coefficients do not depend on ``z`` (a linear direction), so ``V`` is convex in
    ``z`` and the row's dual proves a limit (module docstring).
    """

    coefficients: Callable[[float], np.ndarray]
    upper: Callable[[float], float]
    position: Callable[[np.ndarray], float]
    convex: bool
    support: np.ndarray  #: the columns the row may touch at any level
    floor: float = -math.inf  #: no plan's position is below this (a share is at least 0 and at most 1)

    @classmethod
    def linear(cls, form: tuple[np.ndarray, float]) -> Level:
        """``position(x) = c @ x + c0`` for ``form = (c, c0)``."""
        c, c0 = np.asarray(form[0], dtype=float), float(form[1])
        return cls(lambda z: c, lambda z: z - c0, lambda x: float(c @ x) + c0, True, np.flatnonzero(c))

    @classmethod
    def share(cls, num: tuple[np.ndarray, float], den: tuple[np.ndarray, float], sign: float) -> Level:
        """``position(x) = sign * num(x) / den(x)`` (``den`` positive): ``sign * (num - t den) <= 0``
        at ``t = sign * z``.
        """
        (nc, n0), (dc, d0) = num, den

        def coefficients(z: float) -> np.ndarray:
            return sign * (nc - sign * z * dc)

        def upper(z: float) -> float:
            return -sign * (n0 - sign * z * d0)

        def position(x: np.ndarray) -> float:
            d = float(dc @ x) + d0
            return sign * (float(nc @ x) + n0) / d if d > 0 else math.inf

        # a part of a whole (each numerator weight between 0 and the denominator's) lies in [0, 1]
        part = bool(np.all(nc >= 0) and np.all(nc <= dc) and 0 <= n0 <= d0)
        floor = (0.0 if sign > 0 else -1.0) if part else -math.inf
        return cls(coefficients, upper, position, False, np.flatnonzero((nc != 0) | (dc != 0)), floor)


@dataclass
class Searched:
    """What :func:`search` found (positions in the direction's units; money in MCNY)."""

    x: np.ndarray | None  #: the plan going furthest within the budget (None: no dive did better than the start)
    position: float  #: its position (the start's when ``x`` is None)
    limit: float = -math.inf  #: proven: no plan within the budget has a position below this
    lps: int = 0
    dives: int = 0
    steps: list[tuple[str, float, float, float]] = field(default_factory=list)
    """(what, level z, LP or plan NPV [MCNY], seconds) of each LP and dive, for the log."""


class _Probe:
    """The least-cost LP at a level, in one warm HiGHS instance (the model plus the level row)."""

    def __init__(
        self, compiled: CompiledModel, level: Level, z0: float, options: SolveOptions, basis: Basis | None
    ) -> None:
        self.level = level
        self.model = compiled.with_row(LEVEL_ROW, level.coefficients(z0), level.upper(z0))
        self.row = len(self.model.rows) - 1
        self.lp = Relaxation(self.model, options, start=with_basic_rows(basis, 1) if basis is not None else None)
        self.integer = np.flatnonzero(self.model.integer)
        self.z = z0
        self.good: highspy.HighsBasis | None = None  #: the basis of the last optimal LP

    def set_level(self, z: float) -> None:
        upper = self.level.upper(z)
        self.model.row_upper[self.row] = upper  # the dive's repair reads the model's bounds
        h = self.lp.highs
        h.changeRowBounds(self.row, -highspy.kHighsInf, upper)
        if not self.level.convex:
            coefficients = self.level.coefficients(z)
            for j in self.level.support:
                h.changeCoeff(self.row, int(j), float(coefficients[j]))
        self.z = z

    def solve(self, z: float, deadline: float) -> tuple[float, float, float, bool]:
        """``V(z)`` [MCNY] (inf: no plan at that level, or none found), the level row's dual [MCNY per unit of
        z], the position of the LP's point and whether ``V`` is proven (optimal, or infeasible).

        Raises TimeoutError at the deadline.
        """
        self.set_level(z)
        status, value = self.lp.solve_lp(deadline - time.perf_counter())
        if status == Status.OPTIMAL and value is not None:
            self.good = self.lp.highs.getBasis()
            return value, float(self.lp.row_duals()[self.row]), self.level.position(self.lp.values()), True
        if self.good is not None:  # the next LP starts from the last optimal basis, not from this one
            self.lp.highs.setBasis(self.good)
        if status != Status.INFEASIBLE and time.perf_counter() >= deadline:
            raise TimeoutError(status)
        # infeasible; or HiGHS stopped short otherwise (numerical trouble at an extreme level): no plan
        # there to use, and only infeasibility proves anything
        return math.inf, 0.0, z, status == Status.INFEASIBLE

    def dive(self, z: float, widen: float, deadline: float) -> tuple[np.ndarray | None, float]:
        """The rounding dive's plan at level ``z`` and its NPV [MCNY]; the LP is left as it was.

        A linear direction's dive runs at the level itself (widened by :data:`DIVE_ALLOWANCE`): the rows
        of the dive's groups alone are repaired before each LP (:meth:`Relaxation._repaired`), the
        level row of whole units (servers bought, grid blocks) among them. A share's row involves
        stocks, which no repair sees, and moves with every whole server; its dive minimises the
        *Lagrangian* of the level row: the NPV plus the row's dual price at ``z``
        times the row, with the row itself a band: from :data:`DIVE_ALLOWANCE` beyond ``z`` to ``widen``
        behind it. The LP's point at ``z`` stays optimal (LP duality), but a rounding that leaves the
        plan a little behind the level costs the level's price instead of failing the row (a share's
        row moves with every whole server, and the dive could neither repair it nor avoid overshooting);
        the band's near edge keeps the re-solves from sliding along the Lagrangian's flat face beyond
        the level, which would spend the budget.
        """
        if self.level.convex:
            self.set_level(z + DIVE_ALLOWANCE * max(1.0, abs(z)))
            return self._run_dive(deadline)
        self.set_level(z)
        status, _ = self.lp.solve_lp(deadline - time.perf_counter())  # the LP at z (its dual)
        if status != Status.OPTIMAL:
            return None, math.inf
        price = max(-float(self.lp.row_duals()[self.row]), 0.0)  # [MCNY per unit of the row]
        x = self.lp.values()
        coefficients = self.level.coefficients(z)
        # the row's units per unit of z at this point (1 for a linear direction; a share's denominator)
        per_z = abs(
            float((self.level.coefficients(z + 1) - coefficients) @ x) - (self.level.upper(z + 1) - self.level.upper(z))
        )
        upper = self.level.upper(z)
        lower = upper - DIVE_ALLOWANCE * max(1.0, abs(z)) * per_z
        upper += max(widen, DIVE_ALLOWANCE * max(1.0, abs(z))) * per_z

        def band() -> None:
            self.lp.highs.changeRowBounds(self.row, lower, upper)
            self.model.row_lower[self.row], self.model.row_upper[self.row] = lower, upper
            self.lp.set_objective(self.model.cost + price * coefficients)

        def unband() -> None:
            self.lp.set_objective(self.model.cost)
            self.model.row_lower[self.row] = -highspy.kHighsInf
            self.set_level(z)

        return self._run_dive(deadline, band, unband)

    def _run_dive(
        self, deadline: float, prepare: Callable[[], None] = lambda: None, undo: Callable[[], None] = lambda: None
    ) -> tuple[np.ndarray | None, float]:
        """The rounding dive from the LP as ``prepare`` leaves it, its plan and NPV [MCNY]; ``undo``,
        the integer bounds and the basis then leave the LP as it was.
        """
        basis = self.lp.highs.getBasis()
        prepare()
        try:
            result = self.lp.dive(deadline)
        finally:
            undo()
            self.lp.reset_bounds(self.integer)
            self.lp.highs.setBasis(basis)
        if result.x is None:
            return None, math.inf
        return result.x, self.model.objective(result.x)


def implied_integer(compiled: CompiledModel, passes: int = 3) -> np.ndarray:
    """Columns whole in every plan (bool per column): the integer columns, and each column that an
    equality row with whole coefficients and a whole right-hand side defines, with coefficient +-1, from
    columns whole already (a stock of grid blocks: the blocks built up to that year, none existing).
    """
    A = compiled.A.tocsr()
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    whole_coefficient = np.abs(A.data - np.round(A.data)) <= LATTICE_TOL
    rhs = np.where(np.isfinite(compiled.row_upper), compiled.row_upper, 0.5)  # 0.5: never whole
    defining = (
        (compiled.row_lower == compiled.row_upper)
        & (np.abs(rhs - np.round(rhs)) <= LATTICE_TOL)
        & (np.bincount(rows, weights=~whole_coefficient, minlength=A.shape[0]) == 0)
    )
    whole = compiled.integer.astype(bool).copy()
    for _ in range(passes):
        open_entry = ~whole[A.indices]
        n_open = np.bincount(rows, weights=open_entry, minlength=A.shape[0])
        entries = open_entry & defining[rows] & (n_open[rows] == 1) & (np.abs(A.data) == 1)
        new = np.unique(A.indices[entries])
        if not len(new):
            break
        whole[new] = True
    return whole


def _lattice(level: Level, whole: np.ndarray) -> tuple[float, float] | None:
    """``(unit, origin)`` when every position a plan can take is ``origin + k * unit`` for an integer ``k``
    (a linear direction over columns whole in every plan, :func:`implied_integer`, whose coefficients
    are whole multiples of ``unit``: grid blocks of one rating, servers, halls), else None.
    """
    if not level.convex or not len(level.support) or not whole[level.support].all():
        return None
    c = level.coefficients(0.0)[level.support]
    unit = float(np.min(np.abs(c)))
    k = c / unit
    if np.max(np.abs(k - np.round(k))) > LATTICE_TOL:
        return None
    return unit, level.position(np.zeros(len(whole)))


def search(
    compiled: CompiledModel,
    level: Level,
    budget: float,
    start: np.ndarray,
    options: SolveOptions,
    basis: Basis | None = None,
    deadline: float | None = None,
) -> Searched:
    """How far ``level``'s direction goes with the NPV at most ``budget`` [MCNY] (module docstring).

    ``compiled`` is the scenario's least-cost model, ``start`` a plan within the budget (the least-cost
    plan) and ``basis`` an optimal basis of its LP relaxation (where the first LP starts).
    """
    deadline = time.perf_counter() + options.time_limit_s if deadline is None else deadline
    z0 = level.position(start)
    floor = level.floor
    if level.convex:  # non-negative weights of columns that cannot be negative: at least the constant
        c = level.coefficients(z0)[level.support]
        if np.all(c >= 0) and np.all(np.asarray(compiled.col_lower)[level.support] >= 0):
            floor = max(floor, level.position(np.zeros(len(compiled.columns))))
    out = Searched(None, z0, limit=floor)
    probe = _Probe(compiled, level, z0, options, basis)
    samples: dict[float, tuple[float, float]] = {}  # level -> (V, the level row's dual)
    at: dict[float, float] = {}  # level -> the position of the LP's point there

    def lp(z: float) -> None:
        t = time.perf_counter()
        value, dual, at[z], proven = probe.solve(z, deadline)
        out.lps += 1
        samples[z] = (value, dual)
        out.steps.append(("lp", z, value, time.perf_counter() - t))
        if value > budget and proven:
            out.limit = max(out.limit, z)
        if level.convex and dual < 0 and math.isfinite(value):
            out.limit = max(out.limit, z + (budget - value) / dual)

    def level_for(target: float, z_tol: float, v_tol: float) -> float | None:
        """The smallest level found with ``target - v_tol <= V <= target``, or within ``z_tol`` of a
        level beyond ``target``; LPs solved as needed. None when no level found is within ``target``.
        """
        while out.lps < MAX_LPS and time.perf_counter() < deadline:
            within = [z for z, (v, _) in samples.items() if v <= target]
            if not within:
                return None
            ok = min(within)
            v_ok, y_ok = samples[ok]
            beyond = [z for z, (v, _) in samples.items() if v > target and z < ok]
            bad = max(beyond) if beyond else None
            proven = max(bad if bad is not None else -math.inf, floor, out.limit if target >= budget else -math.inf)
            if (v_tol > 0 and target - v_ok <= v_tol) or ok - proven <= z_tol:
                return ok
            if bad is None:  # the tangent at ok meets the target beyond it (V is convex), or a step further
                if level.convex and y_ok < 0:
                    z = ok + (target - v_ok) / y_ok
                elif math.isfinite(floor):  # the furthest any plan goes: try it
                    z = floor
                else:  # the level does not bind the LP: a tenth of the scale beyond the LP's own point
                    z = min(at[ok], ok) - FIRST_STEP * max(1.0, abs(ok))
                # no plan lies beyond the floor; and no step goes more than twice as far as the LPs
                # have gone (a level far beyond the root can take minutes to prove empty)
                z = max(z, floor, ok - max(FIRST_STEP * max(1.0, abs(z0)), 2 * (z0 - ok)))
            else:
                v_bad, y_bad = samples[bad]
                if level.convex and math.isfinite(v_bad) and y_bad < 0:  # Newton from beyond: never passes the root
                    z = bad + (target - v_bad) / y_bad
                elif math.isfinite(v_bad) and v_bad > v_ok:  # secant on V - target
                    z = ok + (target - v_ok) * (ok - bad) / (v_ok - v_bad)
                else:  # no plan at bad: bisection
                    z = 0.5 * (bad + ok)
                z = min(max(z, bad + 1e-3 * (ok - bad)), ok - 1e-3 * (ok - bad))
            lp(z)
        within = [z for z, (v, _) in samples.items() if v <= target]
        return min(within) if within else None

    lattice = _lattice(level, implied_integer(compiled)) if level.convex else None
    try:
        lp(z0)
        v0 = samples[z0][0]
        if v0 > budget:  # the start's level has no LP plan within the budget: nothing to search
            return out
        level_for(budget, LEVEL_TOL, 0.0)
        if lattice is not None and math.isfinite(out.limit):  # the position moves in whole units: so does the limit
            unit, origin = lattice
            out.limit = origin + unit * math.ceil((out.limit - origin) / unit - LATTICE_TOL)
        # The plans: dives at levels where the LP leaves the budget room for rounding, between the
        # best plan's position (no level there or beyond can do better) and the highest level whose
        # dive failed or went over the budget.
        npv0 = compiled.objective(start)
        room = max(budget - v0, 1e-9 * abs(budget))
        # the furthest level within the budget the LP reached (the limit, unless the LPs ran out first)
        reach = min(z for z, (v, _) in samples.items() if v <= budget)
        z_bad = (out.limit if math.isfinite(out.limit) else reach) - LEVEL_TOL  # the limit may hold a plan
        delta = max(npv0 - v0, 0.0)  # the least-cost plan's own rounding cost
        dived: set[float] = set()
        while out.dives < MAX_DIVES and time.perf_counter() < deadline:
            if out.position - out.limit <= LEVEL_TOL or out.position - z_bad <= TARGET_TOL * (z0 - z_bad):
                break  # the plan is at the limit, or the levels left to try are too close together
            target = budget - delta
            known_above = any(z >= out.position and v > target for z, (v, _) in samples.items())
            z = None if known_above else level_for(target, LEVEL_TOL, TARGET_TOL * room)
            if z is None or z in dived or not z_bad < z < out.position:
                z = 0.5 * (z_bad + out.position)
                if z in dived:
                    break
                if z not in samples:
                    lp(z)
            dived.add(z)
            t = time.perf_counter()
            x, npv = probe.dive(z, DIVE_WIDEN * (z0 - z), deadline)
            out.dives += 1
            out.steps.append(("dive", z, npv, time.perf_counter() - t))
            if x is not None and npv <= budget and level.position(x) < out.position:
                out.x, out.position = x, level.position(x)
            else:
                z_bad = max(z_bad, z)
            delta = max(npv - samples[z][0], 0.0) if x is not None else 2 * delta
    except TimeoutError:
        pass  # what was found stands; the limit is what was proven
    out.limit = min(out.limit, out.position)  # a plan is there: a limit beyond it is the LPs' tolerance
    return out
