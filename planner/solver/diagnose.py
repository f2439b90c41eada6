"""Why is there no plan? The limits that conflict, said in the user's words.

Shortfall slacks keep demand from ever making the model infeasible, so an infeasible plan
comes from hard limits: policy (PUE cap, green share, certificate cap, domestic share, EFLOPS
target, carbon cap), purchase caps, build limits, contract limits, or an existing fleet that
cannot meet a limit. Everything here works on the LP relaxation.

Method (only real causes are named; the model's tightenings, rows that follow from its limits such
as the halls a site can reach in a year, are left out of every probe, so lifting a limit lifts them):

1. The LP relaxation (zero objective) is infeasible; HiGHS's dual ray is a Farkas proof of it, and
   the rows where the ray is nonzero (and the column bounds where ``A^T y`` is) are infeasible on
   their own (no ray: HiGHS's IIS from an elastic LP). The user-set limits among them, grouped by
   limit (one group per limit and server type or contract, all years), are the candidates; every
   other limit is lifted from here on, and every physical row (power balances, stocks, cooling,
   ...) always stays. That physics plus the candidates is infeasible is checked by a solve.
2. Deletion filter over the candidate groups, build limits first: a group is lifted for good when
   the model without it (physics plus the remaining groups) is still infeasible. What is left is a
   minimal set: the physics with these limits has no plan, and lifting any one of them gives one.
3. Fixed facts, tested the same way: the existing servers are allowed to retire early (their stock
   rows relaxed); if that gives a plan, a deletion filter keeps the smallest set of (server type,
   cooling) groups whose staying in service the conflict needs, named with count, build year,
   lifetime and last year in service. Facts that need no test are said only where true: the PUE
   floor of aux losses plus the least cooling power (with a PUE cap in the conflict), no green
   contract to buy (with a green share in the conflict).
4. Years: a limit is reported in the years the proof uses, and in every other year in which the
   remaining limits conflict on their own (that year's rows only); years the same value holds are
   merged ("in 2028–2029").

Physical rows are never printed, and no Pyomo component name is ever shown: an unknown row is
treated as physics and left out. Every probe shares one time budget (:data:`BUDGET_S`, at most the
solve's own limit); when it runs out, a limit not yet tested is kept (it is in the proof, so part of
a real conflict, though perhaps not a necessary one), and a fact or year not yet tested is not said.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np

from planner.scenario.checks import cooling_floor, pue_floor
from planner.solver.highs import INF, CompiledModel, SolveOptions, new_highs
from planner.solver.limits import (
    COLUMN_LIMITS,
    KINDS,
    Kind,
    describe_limit,
    num,
    pct,
    series_at,
    server_name,
    split_name,
    years_text,
)

__all__ = ["diagnose_infeasibility"]


#: Time budget of a diagnosis [s] (less when the solve's own limit is shorter).
BUDGET_S = 300.0


# --------------------------------------------------------------------------- the feasibility probe


class _Probe:
    """The LP relaxation with a zero objective in one HiGHS instance; bounds changed in place
    (a warm start from the previous basis) to test sub-models for feasibility.
    """

    def __init__(self, compiled: CompiledModel, options: SolveOptions, deadline: float) -> None:
        arrays = compiled.highs_arrays(relax=True)
        # The model's tightenings (``m.tightenings``) follow from the limits: left in, they would keep a
        # limit in force after the probe lifts it (the halls a site can reach in a year, from its build
        # limit). Without them the LP relaxation is looser, never infeasible where the model is not.
        tightenings: set[str] = getattr(compiled.model, "tightenings", set())
        free = [i for i, (row, _) in enumerate(compiled.rows) if row.parent_component().local_name in tightenings]
        row_lower, row_upper = arrays.row_lower.copy(), arrays.row_upper.copy()
        row_lower[free], row_upper[free] = -INF, INF
        arrays = dataclasses.replace(
            arrays, cost=np.zeros_like(arrays.cost), offset=0.0, row_lower=row_lower, row_upper=row_upper
        )
        self.h = new_highs(SolveOptions(time_limit_s=max(1.0, deadline - time.perf_counter()), threads=options.threads))
        arrays.pass_to(self.h)
        self.row_lower, self.row_upper = arrays.row_lower.copy(), arrays.row_upper.copy()
        self.col_lower, self.col_upper = arrays.col_lower.copy(), arrays.col_upper.copy()
        self.deadline = deadline
        self._rows: set[int] = set()
        self._cols: set[int] = set()
        self.runs = 0

    def prefer_interior_point(self) -> None:
        """On a large model, solve the later probes by interior point without crossover: about as
        fast cold as warm (the default at 12 days: ~15 s a probe, against 10-80 s by dual simplex
        from the last basis). Small models keep the warm-started simplex (a fraction of a second).
        """
        if len(self.row_lower) > 20_000:
            self.h.setOptionValue("solver", "ipm")
            self.h.setOptionValue("run_crossover", "off")

    def out_of_time(self) -> bool:
        return time.perf_counter() >= self.deadline - 0.5

    def feasible(
        self,
        rows: dict[int, tuple[float, float]] | None = None,
        cols: dict[int, tuple[float, float]] | None = None,
    ) -> bool | None:
        """Is the model with these row and column bounds (all others as compiled) feasible?
        None when HiGHS could not tell in the time left.
        """
        rows, cols = rows or {}, cols or {}
        if self.out_of_time():
            return None
        self._set(rows, self._rows, self.row_lower, self.row_upper, self.h.changeRowsBounds)  # type: ignore[attr-defined]
        self._set(cols, self._cols, self.col_lower, self.col_upper, self.h.changeColsBounds)
        self._rows, self._cols = set(rows), set(cols)
        # HiGHS's time limit counts the instance's whole run time, over all runs: add what is used
        self.h.setOptionValue("time_limit", self.h.getRunTime() + max(0.5, self.deadline - time.perf_counter()))
        self.h.run()
        self.runs += 1
        status = self.h.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            return True
        if status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            return False
        return None

    def conflict(self, A: Any) -> tuple[set[int], set[int]] | None:
        """Rows and columns of a proof that the model as last run is infeasible, or None.

        HiGHS's dual ray ``y`` (a Farkas certificate, no further solve) uses the bounds of the rows
        where ``y`` is nonzero and of the columns where ``A^T y`` is: those rows and column bounds
        alone are infeasible. Without a ray, HiGHS's IIS from its elastic LP, in the time left.
        """
        status, has_ray, ray = self.h.getDualRay()  # type: ignore[attr-defined]  # not in highspy's stubs
        if status != highspy.HighsStatus.kError and has_ray:
            y = np.asarray(ray, dtype=float)
            scale = max(float(np.abs(y).max()), 1e-300)
            rows = set(np.nonzero(np.abs(y) > 1e-9 * scale)[0].tolist())
            reduced = A.T @ y
            cols = set(np.nonzero(np.abs(reduced) > 1e-9 * scale)[0].tolist())
            if rows:
                return rows, cols
        if self.out_of_time():
            return None
        self.h.setOptionValue("iis_strategy", 2)  # from an elastic LP
        self.h.setOptionValue("iis_time_limit", max(0.5, self.deadline - time.perf_counter()))
        status, iis = self.h.getIis()
        if status == highspy.HighsStatus.kError or not iis.valid_:
            return None
        rows, cols = set(iis.row_index_), set(iis.col_index_)
        return (rows, cols) if rows or cols else None

    @staticmethod
    def _set(
        new: dict[int, tuple[float, float]],
        old: set[int],
        lower: np.ndarray,
        upper: np.ndarray,
        change: Callable[..., Any],
    ) -> None:
        index = sorted(old | set(new))
        if not index:
            return
        lo = np.array([new[i][0] if i in new else lower[i] for i in index], dtype=float)
        hi = np.array([new[i][1] if i in new else upper[i] for i in index], dtype=float)
        change(len(index), np.asarray(index, dtype=np.int32), lo, hi)


# --------------------------------------------------------------------------- limits and facts


@dataclass
class _Group:
    """One limit over its years: the rows (and column bounds) that carry it."""

    component: str
    rest: tuple[str, ...]
    rows: dict[int | None, list[int]] = field(default_factory=dict)  #: year -> row positions
    cols: dict[int | None, list[int]] = field(default_factory=dict)  #: year -> column positions

    @property
    def kind(self) -> Kind:
        return KINDS[self.component]

    @property
    def years(self) -> list[int]:
        return sorted(y for y in set(self.rows) | set(self.cols) if y is not None)


def _year_of(index: list[str]) -> int | None:
    if not index:
        return None
    try:
        return int(index[-1])
    except ValueError:
        return None


def _limit_groups(
    compiled: CompiledModel, row_names: list[str], col_names: list[str]
) -> dict[tuple[str, tuple[str, ...]], _Group]:
    """Every user-set limit of the model, grouped by limit (all years together)."""
    groups: dict[tuple[str, tuple[str, ...]], _Group] = {}
    for r, name in enumerate(row_names):
        component, index = split_name(name)
        if component not in KINDS or component in COLUMN_LIMITS:
            continue
        year = _year_of(index)
        rest = tuple(index[:-1]) if year is not None else tuple(index)
        group = groups.setdefault((component, rest), _Group(component, rest))
        group.rows.setdefault(year, []).append(r)
    for j, name in enumerate(col_names):
        component, index = split_name(name)
        if component not in COLUMN_LIMITS or not np.isfinite(compiled.col_upper[j]):
            continue
        year = _year_of(index)
        rest = tuple(index[:-1]) if year is not None else tuple(index)
        group = groups.setdefault((component, rest), _Group(component, rest))
        group.cols.setdefault(year, []).append(j)
    return groups


def _lifted(
    groups: list[_Group], compiled: CompiledModel, keep_years: dict[int, set[int | None]] | None = None
) -> tuple[dict[int, tuple[float, float]], dict[int, tuple[float, float]]]:
    """Row and column bounds that lift ``groups`` (all their years, or those not in ``keep_years[id]``)."""
    rows: dict[int, tuple[float, float]] = {}
    cols: dict[int, tuple[float, float]] = {}
    for g in groups:
        keep = (keep_years or {}).get(id(g), set())
        for y, rs in g.rows.items():
            if y not in keep:
                rows.update({r: (-INF, INF) for r in rs})
        for y, cs in g.cols.items():
            if y not in keep:
                cols.update({c: (float(compiled.col_lower[c]), INF) for c in cs})
    return rows, cols


@dataclass
class _Fleet:
    """Existing servers of one (server type, cooling) pair and the stock rows that keep them."""

    accelerator: str
    cooling: str
    rows: dict[int, tuple[float, float]]  #: row -> bounds that let them retire early


def _fleets(compiled: CompiledModel, row_names: list[str]) -> list[_Fleet]:
    """Existing servers, by (server type, cooling), with their stock rows relaxed to allow retiring early.

    A stock row reads ``N[s,a,c,y] - sum(new) = existing in service`` (or its negative); letting the
    existing part lie anywhere between 0 and that count lets the fleet retire early.
    """
    s = compiled.model.planner_data.scenario
    pairs = {(e.accelerator, e.cooling) for e in s.existing.servers if e.count > 0}
    out: dict[tuple[str, str], _Fleet] = {}
    for r, name in enumerate(row_names):
        component, index = split_name(name)
        # N[s,a,c,y]: the fleets of a pair at every site together
        if component != "servers_def" or len(index) != 4 or (index[1], index[2]) not in pairs:
            continue
        lo, hi = compiled.row_lower[r], compiled.row_upper[r]
        if lo != hi or lo == 0 or not np.isfinite(lo):
            continue
        fleet = out.setdefault((index[1], index[2]), _Fleet(index[1], index[2], {}))
        fleet.rows[r] = (min(0.0, float(lo)), max(0.0, float(lo)))
    return list(out.values())


def _fleet_line(s: Any, fleet: _Fleet) -> str:
    a = s.accelerators[fleet.accelerator]
    life = int(a.lifetime_years)
    items = [e for e in s.existing.servers if (e.accelerator, e.cooling) == (fleet.accelerator, fleet.cooling)]
    items = [e for e in items if e.count > 0 and e.year_built + life - 1 >= s.years[0]]
    name = server_name(s, fleet.accelerator)
    parts = []
    for e in sorted(items, key=lambda e: e.year_built):
        parts.append(
            f"{e.count:,.0f} existing {name} servers in {fleet.cooling} racks (built {e.year_built}, "
            f"{life}-year life) stay in service until {e.year_built + life - 1}"
        )
    return "; ".join(parts) + " and cannot retire early"


# --------------------------------------------------------------------------- the diagnosis


def diagnose_infeasibility(compiled: CompiledModel, options: SolveOptions) -> list[str]:
    """The limits that cannot hold together, in the user's words.

    A headline, the conflicting limits (with their values and years), at most a few "because"
    lines with the fixed facts behind them, and one suggestion. If the LP relaxation is feasible
    (the conflict needs the integers), says so.
    """
    m = compiled.model
    s = m.planner_data.scenario
    deadline = time.perf_counter() + min(BUDGET_S, options.time_limit_s)
    probe = _Probe(compiled, options, deadline)
    first = probe.feasible()
    if first:
        return [
            "No plan meets every limit with whole numbers of servers, racks, halls and units, although a "
            "fractional plan would: a limit is just on the edge (e.g. a share or target met only by part of a server).",
            "Loosen the tightest policy limit slightly and solve again.",
        ]
    row_names, col_names = compiled.row_names(), compiled.column_names()
    groups = _limit_groups(compiled, row_names, col_names)
    candidates = list(groups.values())
    proof_years: dict[int, set[int | None]] = {}
    proof = probe.conflict(compiled.A) if first is False else None
    if proof is not None:
        in_proof: dict[tuple[str, tuple[str, ...]], set[int | None]] = {}
        for position, names, kinds in ((proof[0], row_names, KINDS), (proof[1], col_names, COLUMN_LIMITS)):
            for i in sorted(position):
                component, index = split_name(names[i])
                if component in kinds and (kinds is COLUMN_LIMITS or component not in COLUMN_LIMITS):
                    year = _year_of(index)
                    key = (component, tuple(index[:-1]) if year is not None else tuple(index))
                    in_proof.setdefault(key, set()).add(year)
        picked = [groups[k] for k in in_proof if k in groups]
        others = [g for g in candidates if (g.component, g.rest) not in in_proof]
        # physics + the proof's limits (all their years) is infeasible; checked, else every limit stays
        if picked and probe.feasible(*_lifted(others, compiled)) is False:
            candidates = picked
        proof_years = {id(groups[k]): ys for k, ys in in_proof.items() if k in groups}

    probe.prefer_interior_point()

    # deletion filter over the limits, build limits first
    lifted = [g for g in groups.values() if g not in candidates]
    kept: list[_Group] = []
    untested = sorted(candidates, key=lambda g: (g.kind.order, g.component, g.rest))
    while untested:
        g = untested.pop(0)
        verdict = probe.feasible(*_lifted([*lifted, g], compiled))
        if verdict is False:
            lifted.append(g)
        else:  # needed (or no time left to tell: keep it, it is part of the proof's conflict)
            kept.append(g)

    # fixed facts: the existing servers whose staying in service the conflict needs
    base_rows, base_cols = _lifted(lifted, compiled)
    fleets = _fleets(compiled, row_names)
    needed: list[_Fleet] = []
    if fleets:
        everything = {r: b for f in fleets for r, b in f.rows.items()}
        if probe.feasible({**base_rows, **everything}, base_cols):
            needed = list(fleets)
            for f in sorted(fleets, key=lambda f: (f.accelerator, f.cooling)):
                rest = [x for x in needed if x is not f]
                relaxed = {r: b for x in rest for r, b in x.rows.items()}
                if probe.feasible({**base_rows, **relaxed}, base_cols) is not False:
                    needed = rest  # not needed (or no time left to tell: say nothing)

    # years: those of the proof, and those that conflict on their own. A year the proof uses for one
    # limit but not for another is tested too: which rows a proof uses depends on the ray HiGHS finds.
    known = {y for g in kept for y in proof_years.get(id(g), set()) if y is not None}
    alone: set[int] = set()
    for y in sorted({y for g in kept for y in g.years if y is not None and y not in proof_years.get(id(g), set())}):
        keep = {id(g): {y, None} for g in kept}
        if probe.feasible(*_lifted([*lifted, *kept], compiled, keep_years=keep)) is False:
            alone.add(y)
    years_of: dict[int, list[int]] = {}
    for g in kept:
        ys = {y for y in proof_years.get(id(g), set()) if y is not None} | (alone & set(g.years))
        if not ys:  # the conflict spans years: all of the limit's
            ys = {y for y in known | alone if y in g.years} or set(g.years)
        years_of[id(g)] = sorted(ys)

    return _wording(s, kept, years_of, needed)


def _no_green_contract(s: Any) -> str | None:
    """Why no green-power contract can be bought, if none can (in any year)."""
    green = {k: p for k, p in s.power.ppa.items() if getattr(p, "green", True)}
    if not green:
        which = "none" if not s.power.ppa else "only contracts that are not green"
        return f"no green-power contract to buy (power.ppa has {which})"
    if all((series_at(p.max_mw, y) or 0) <= 0 for p in green.values() for y in s.years):
        return "no green-power contract to buy (every green contract allows 0 MW)"
    return None


def _closed(s: Any, g: _Group, years: list[int]) -> bool:
    """A contract limit of 0 MW in all of ``years``."""
    ppa = s.power.ppa.get(g.rest[0]) if g.rest else None
    return ppa is not None and all(series_at(ppa.max_mw, y) == 0 for y in years)


def _wording(s: Any, kept: list[_Group], years_of: dict[int, list[int]], fleets: list[_Fleet]) -> list[str]:
    """Headline, the limits, at most three "because" lines, one suggestion."""
    closed = [g for g in kept if g.component == "ppa_contract_limit" and _closed(s, g, years_of[id(g)])]
    closed_text = ""
    if closed:
        names = " or ".join(f"'{g.rest[0]}'" for g in closed)
        years = sorted({y for g in closed for y in years_of[id(g)]})
        closed_text = f"no contract to buy from {names} (0 MW allowed in {years_text(years)})"
    has_green = any(g.component == "green_share" for g in kept)
    limits = []
    for g in sorted(kept, key=lambda g: (-g.kind.order, g.component, g.rest)):
        if g in closed:
            if g is closed[0] and not has_green:
                limits.append(closed_text)
            continue
        text = describe_limit(s, g.component, g.rest, years_of[id(g)])
        if text and g.component == "green_share":
            why = closed_text or _no_green_contract(s)
            text = f"{text}, with {why}" if why else text
        if text:
            limits.append(text)
    because = [_fleet_line(s, f) for f in sorted(fleets, key=lambda f: (f.accelerator, f.cooling))]
    if any(g.component == "pue_cap" for g in kept):
        because.append(_pue_line(s, fleets))
    because = [f"{'because' if i == 0 else 'and'} {b}" for i, b in enumerate(because[:3])]
    if not limits:
        lines = ["No plan exists even with every policy and build limit lifted: the fixed inputs conflict."]
        lines += because
        lines.append("Check the existing fleet and the scenario's fixed inputs.")
        return lines
    lines = ["No plan can meet these limits together:"]
    lines += [f"  - {text}" for text in limits]
    lines += because
    first = max(kept, key=lambda g: g.kind.order)
    lines.append(f"Loosen one of them (e.g. --set {first.kind.key(first.rest)}=...) and solve again.")
    return lines


def _pue_line(s: Any, fleets: list[_Fleet]) -> str:
    """The PUE the physics allows: of the technologies the fleet named sits in, and at best."""
    aux = float(s.facility.aux_loss_fraction)
    floor = pue_floor(s)
    parts = [
        f"{c} cooling (at least {pct(cooling_floor(s, c))} of IT power) gives a PUE of at least "
        f"{num(1 + aux + cooling_floor(s, c))}"
        for c in sorted({f.cooling for f in fleets if f.cooling in s.cooling})
    ]
    if floor is not None:
        least, tech, kappa = floor
        best = (
            f"the best technology ({tech}, {pct(kappa)})"
            if parts
            else f"the best technology ({tech}, {pct(kappa)}) gives a PUE of"
        )
        parts.append(f"{best} at least {num(least)}")
    if not parts:
        return f"aux losses take {pct(aux)} of IT power"
    return f"with aux losses of {pct(aux)}, " + ", ".join(parts)
