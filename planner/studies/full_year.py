"""Operate a plan at full hourly resolution: does it hold on every hour of every year?

The plan is made on representative days (12 by default), which is what makes it solvable; the
five-year model at full resolution (8760 hours a year, about 1.3 M columns) is too large to plan
as a MIP on this machine. This module checks the plan instead: it builds the full-resolution
model, fixes every planning decision at the plan's values — builds, technology-in-use
binaries and contracted PPA capacity; the stocks follow from the builds — and re-solves the
operation of each year on its own as an LP (with the decisions fixed, the years no longer share
a column, so each is its own problem of about 250 k columns). What it reports:

* the NPV of the plan operated over all hours, against the representative-day NPV (the capex
  part is the same: the difference is what the time reduction got wrong about operation);
* per year: operating cost, unserved inference and training, PUE and green share at full
  resolution;
* a policy limit (PUE cap, green share, certificates) that the fixed plan cannot meet over the
  full year: that year is solved again without it, and the limit is named with the value the
  plan reaches.

Flow: PlanRun (solved on representative days) -> Scenario with ``representative_days: full``
-> model -> decisions fixed -> compiled -> one LP per year -> results Dataset (the usual schema,
365 days).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
import xarray as xr

from planner.model import ModelData, build_model
from planner.pipeline import PlanRun
from planner.results.dataset import to_dataset
from planner.scenario import Scenario
from planner.solver.highs import SolveOptions, SolveOutcome, Status, compile_model, load_values, new_highs
from planner.time.prepare import prepare_time

__all__ = ["ANNUAL_OPERATION", "POLICY_ROWS", "OperationRun", "YearOperation", "operate_full_year"]

#: Variables without an hourly index that are operation, not planning: left free.
#: Compute leased from and sold to the hubs is held for a year but decided like operation: it is re-decided
#: at full resolution (the plan's servers, halls and contracts stay fixed).
ANNUAL_OPERATION = frozenset(
    {
        "reserve_unserved",
        "training_unserved",
        "grid_peak",
        "certificates",
        "emissions",
        "lease_pflops",
        "sold_pflops",
        "servers_sold",
    }
)

#: Continuous planning decisions besides the builds (``*_new``).
PLANNING_CONTINUOUS = frozenset({"ppa_contract"})

#: Policy rows that depend on hourly operation; one the fixed plan cannot meet is dropped for that
#: year and reported (the others — domestic share, installed EFLOPS — depend on the fixed fleet only).
POLICY_ROWS = {"pue_cap": "PUE cap", "green_share": "green-power share", "certificate_cap": "certificate cap"}


@dataclass
class YearOperation:
    """One year of the plan operated over all its hours."""

    year: int
    status: str  #: ``Status.OPTIMAL``, or HiGHS's status text
    seconds: float
    columns: int
    rows: int
    relaxed: list[str] = field(default_factory=list)  #: policy limits the plan cannot meet this year


@dataclass
class OperationRun:
    """The plan operated at full resolution."""

    scenario: Scenario
    model: pyo.ConcreteModel
    dataset: xr.Dataset | None  #: the usual results schema over 365 days; None if a year failed
    years: list[YearOperation]
    timings: dict[str, float]


def _year_of(index: Any, years: set[int]) -> int | None:
    for element in index if isinstance(index, tuple) else (index,):
        if isinstance(element, int) and element in years:
            return element
    return None


def is_planning(var: pyo.Var) -> bool:
    """A planning decision: an integer or binary variable, a build (``*_new``) or a contract.

    Stocks in service are not fixed: each is pinned by its defining row to the fixed builds of its
    own year, and fixing both would leave rows of constants that floating point can break by 1e-12
    (``battery_mwh_def``). Hourly and annual operation (:data:`ANNUAL_OPERATION`) stays free.
    """
    names = {s.local_name for s in var.index_set().subsets()} if var.is_indexed() else set()
    if {"D", "H"} & names or var.local_name in ANNUAL_OPERATION:
        return False
    first = next(iter(var.values()), None)
    integral = first is not None and (first.is_integer() or first.is_binary())
    return integral or var.local_name.endswith("_new") or var.local_name in PLANNING_CONTINUOUS


def fix_decisions(target: pyo.ConcreteModel, source: pyo.ConcreteModel) -> int:
    """Fix every planning decision of ``target`` at its value in the solved ``source``; the count."""
    count = 0
    for var in target.component_objects(pyo.Var):
        if not is_planning(var):
            continue
        plan = getattr(source, var.local_name)
        for index, v in var.items():
            value = pyo.value(plan[index])
            v.fix(float(round(value)) if v.is_integer() or v.is_binary() else float(value))
            count += 1
    return count


def operate_full_year(
    run: PlanRun, options: SolveOptions | None = None, representative_days: int | str = "full"
) -> OperationRun:
    """Operate ``run``'s plan on ``representative_days`` (every day of the year by default).

    Parameters
    ----------
    run : PlanRun
        A plan solved on representative days, its values in ``run.model``.
    options : SolveOptions, optional
        Time limit per year [s], threads, seed.
    representative_days : int or "full"
        The resolution to operate at.
    """
    options = options or SolveOptions()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    scenario = run.scenario.model_copy(
        update={"time": run.scenario.time.model_copy(update={"representative_days": representative_days})}
    )
    data = ModelData(scenario, prepare_time(scenario))
    t1 = time.perf_counter()
    model = build_model(data)
    fix_decisions(model, run.model)
    t2 = time.perf_counter()
    compiled = compile_model(model)  # fixed decisions become constants: only operation is left
    t3 = time.perf_counter()
    timings.update(time_reduction=t1 - t0, build=t2 - t1, compile=t3 - t2)

    years = set(data.years)
    col_year = np.array([_year_of(v.index(), years) or 0 for v in compiled.columns])
    row_year = np.array([_year_of(con.index(), years) or 0 for con, _ in compiled.rows])
    # every column and row belongs to one year; one without would be left out of every year's LP
    # (a column silently at 0): refuse rather than operate wrongly
    for what, owner, year_of in (("column", compiled.columns, col_year), ("row", compiled.rows, row_year)):
        if (year_of == 0).any():
            first = owner[int(np.flatnonzero(year_of == 0)[0])]
            name = (first[0] if isinstance(first, tuple) else first).name
            raise RuntimeError(
                f"{(year_of == 0).sum()} {what}s have no year index (e.g. {name}): cannot operate by year"
            )
    row_names = [con.parent_component().local_name for con, _ in compiled.rows]
    x = np.zeros(len(compiled.columns))
    results: list[YearOperation] = []
    A = compiled.A.tocsr()
    for year in data.years:
        rows = np.flatnonzero(row_year == year)
        cols = np.flatnonzero(col_year == year)
        block = A[rows, :]
        outside = np.setdiff1d(np.unique(block.indices), cols)
        if len(outside):  # cannot happen with every decision fixed; refuse rather than solve wrongly
            raise RuntimeError(f"year {year}: rows reach {len(outside)} columns of other years")
        t = time.perf_counter()
        status, values, relaxed = _solve_year(compiled, rows, cols, row_names, options)
        results.append(YearOperation(year, status, time.perf_counter() - t, len(cols), len(rows), relaxed))
        if values is None:
            timings["operate"] = sum(r.seconds for r in results)
            return OperationRun(scenario, model, None, results, timings)
        x[cols] = values
    timings["operate"] = sum(r.seconds for r in results)
    load_values(compiled, x)
    objective = compiled.objective(x)
    outcome = SolveOutcome(
        status=Status.OPTIMAL,
        termination="Optimal (operation at full resolution, decisions fixed)",
        objective=objective,
        bound=objective,
        gap=0.0,
        options=options,
        n_rows=compiled.shape[0],
        n_cols=compiled.shape[1],
        x=x,
    )
    t4 = time.perf_counter()
    dataset = to_dataset(model, outcome, timings)
    timings["results"] = time.perf_counter() - t4
    dataset.attrs["operated_from_representative_days"] = int(run.model.planner_data.time.n_days)
    dataset.attrs["relaxed_limits"] = "; ".join(f"{r.year}: {', '.join(r.relaxed)}" for r in results if r.relaxed)
    return OperationRun(scenario, model, dataset, results, timings)


def _solve_year(
    compiled: Any,
    rows: np.ndarray,
    cols: np.ndarray,
    row_names: list[str],
    options: SolveOptions,
) -> tuple[str, np.ndarray | None, list[str]]:
    """Solve one year's operation LP; drop a policy row it cannot meet and say so."""
    keep = np.ones(len(rows), dtype=bool)
    relaxed: list[str] = []
    while True:
        h = new_highs(options)
        # ~250 k columns: interior point is far faster here. IPX, not HiPO (solver.highs.interior_point):
        # with the decisions fixed no capacity column is left to slow IPX down, and HiPO took over
        # 10 min for the default's five years (beside another solve) against 244 s for IPX idle.
        h.setOptionValue("solver", "ipx")
        compiled.highs_arrays(rows=rows[keep], cols=cols, relax=True).pass_to(h)
        h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            return Status.OPTIMAL, np.asarray(h.getSolution().col_value, dtype=float), relaxed
        if status not in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            return h.modelStatusToString(status), None, relaxed
        policy = [i for i in np.flatnonzero(keep) if row_names[rows[i]] in POLICY_ROWS]
        if not policy:
            return Status.INFEASIBLE, None, relaxed
        for i in policy:  # drop the hour-dependent limits of this year, then say which ones bind
            keep[i] = False
            relaxed.append(POLICY_ROWS[row_names[rows[i]]])
