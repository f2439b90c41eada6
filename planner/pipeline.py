"""One scenario through the stages, with the time of each: time reduction -> model build -> solve ->
results Dataset; and the per-worker cache of built models that sweeps and studies re-use.
"""

from __future__ import annotations

import gc
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyomo.environ as pyo
import xarray as xr
from pyomo.common.gc_manager import PauseGC

from planner.model import ModelData, build_model
from planner.model.size import MAX_COLUMNS, MAX_ROWS, check_size, estimate_size, representative_day_count
from planner.model.update import structure_key, update_model
from planner.results.dataset import to_dataset
from planner.results.io import atomic_path
from planner.scenario import Scenario, scenario_files
from planner.solver.dive import INTERIOR_POINT_COLUMNS, Basis, PlanStart, Relaxation, get_basis
from planner.solver.highs import CompiledModel, SolveOptions, SolveOutcome, Status, compile_model, write_mps
from planner.solver.recompile import Recompiler
from planner.solver.solve import solve
from planner.time.prepare import TimeData, prepare_time

__all__ = [
    "Built",
    "ModelCache",
    "PlanRun",
    "ScenarioCheck",
    "SolveOptions",
    "Status",
    "build",
    "check_scenario",
    "coarse_scenario",
    "plan_scenario",
    "relaxation_basis",
    "solve_options",
]


def solve_options(scenario: Scenario, **overrides: object) -> SolveOptions:
    """The solver options of a scenario's ``solver`` block with command-line overrides (None = keep)."""
    return SolveOptions.from_scenario(scenario, **overrides)


@dataclass
class ScenarioCheck:
    """What ``plan validate`` shows of a scenario before anything is solved."""

    scenario: Scenario
    time: TimeData  #: its hourly inputs on the representative days
    model_size: str  #: the model's estimated size and the planner's limits, as a sentence


def check_scenario(scenario: Scenario) -> ScenarioCheck:
    """Check that a validated scenario's model can be built and reduce its time (no model is built).

    Raises
    ------
    ScenarioError
        If the model would be too large to build (:func:`planner.model.size.check_size`).
    """
    files = scenario_files(scenario)
    size = check_size(scenario, str(files[0]) if files else None)
    note = f"{size.describe()}; at most {MAX_COLUMNS:,} columns and {MAX_ROWS:,} rows are built"
    return ScenarioCheck(scenario, prepare_time(scenario), note)


class ModelCache:
    """Built and compiled models kept by structure, so that scenarios differing only in numbers
    re-use one.

    One cache lives in each worker process of a sweep. ``reuse`` returns a model already updated
    with the scenario's numbers (:func:`planner.model.update.update_model`) and its matrices
    patched where the changed numbers reach (:class:`planner.solver.recompile.Recompiler`), or None.
    """

    def __init__(self, size: int = 2) -> None:
        self.size = size
        self._entries: dict[str, _CacheEntry] = {}

    def reuse(self, scenario: Scenario) -> tuple[pyo.ConcreteModel, CompiledModel] | None:
        """The cached model for ``scenario``'s structure updated to its numbers, and its
        compiled matrices (None if there is none).
        """
        key = structure_key(scenario)
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.recompiler is None:  # indexed on the first re-use (a one-case sweep never pays),
            entry.recompiler = Recompiler(entry.compiled)  # at the numbers it was compiled with
        changed = update_model(entry.model, scenario, key)
        compiled = entry.recompiler.refresh(changed)
        if compiled is None:  # the change alters the compiled shape: compile in full, index afresh
            compiled = compile_model(entry.model)
            entry.recompiler = None
        entry.compiled = compiled
        return entry.model, compiled

    def store(self, model: pyo.ConcreteModel, compiled: CompiledModel) -> None:
        """Keep ``model`` (and its compile) for later scenarios of the same structure (oldest
        dropped beyond ``size``).

        The kept models then leave Python's cyclic garbage collector: a model is millions of
        objects, and every full collection walked them all (0.3 s on the default, in one warm case
        of three, against ~0.1 s for the rest of the case outside HiGHS). Everything alive is
        frozen (``gc.freeze``) after a full collection, and thawed again first, so that a model
        dropped from the cache is collected then: what stays frozen is what the cache keeps.
        """
        if len(self._entries) >= self.size:
            self._entries.pop(next(iter(self._entries)))
        self._entries[structure_key(model.planner_data.scenario)] = _CacheEntry(model, compiled)
        gc.unfreeze()
        gc.collect()
        gc.freeze()


@dataclass
class _CacheEntry:
    model: pyo.ConcreteModel
    compiled: CompiledModel
    recompiler: Recompiler | None = None  #: made on the first re-use


@dataclass
class PlanRun:
    """Everything one planning run produced."""

    scenario: Scenario
    model: pyo.ConcreteModel
    outcome: SolveOutcome
    dataset: xr.Dataset | None  #: None when there is no plan (infeasible, nothing found in time)
    timings: dict[str, float] = field(default_factory=dict)  #: seconds per stage


@dataclass
class Built:
    """A scenario's model, built (or re-used from a cache) and, when asked, compiled to arrays."""

    model: pyo.ConcreteModel
    compiled: CompiledModel | None  #: None when not asked for (the solver compiles it then)
    timings: dict[str, float]  #: [s]: ``update`` (re-used), or ``time_reduction``, ``build``, ``compile``, ``cache``


def build(scenario: Scenario, cache: ModelCache | None = None, compile: bool = True) -> Built:
    """The stages before the solver, timed: refuse a model too large, reduce time, build, compile.

    A scenario whose model would be too large (:mod:`planner.model.size`) is refused with a
    :class:`~planner.scenario.ScenarioError` before anything is built. With a ``cache``, a model
    built earlier for a scenario of the same structure (differing only in prices, demand, caps or
    policy limits) is updated in place instead of rebuilt, and a new one is kept there (compiled).
    """
    files = scenario_files(scenario)
    check_size(scenario, str(files[0]) if files else None)
    t0 = time.perf_counter()
    reused = cache.reuse(scenario) if cache is not None else None
    if reused is not None:
        return Built(reused[0], reused[1], {"update": time.perf_counter() - t0})
    # Building allocates millions of objects that all live on: the cyclic garbage collector would
    # walk the growing model again and again for nothing (1.5 s of build's 2.6 s on the default).
    with PauseGC():
        data = ModelData(scenario, prepare_time(scenario))
        t1 = time.perf_counter()
        model = build_model(data)
        t2 = time.perf_counter()
        timings = {"time_reduction": t1 - t0, "build": t2 - t1}
        compiled = None
        if compile or cache is not None:
            compiled = compile_model(model)
            timings["compile"] = time.perf_counter() - t2
    if cache is not None and compiled is not None:
        t3 = time.perf_counter()
        cache.store(model, compiled)
        timings["cache"] = time.perf_counter() - t3
    return Built(model, compiled, timings)


#: Representative days of the coarse model that gives a large model of several sites its first plan
#: (more when the scenario keeps more extreme days: those and two clustered days) [days].
COARSE_DAYS = 4


def coarse_scenario(scenario: Scenario, options: SolveOptions) -> Scenario | None:
    """The scenario at :data:`COARSE_DAYS` representative days, where its own model needs one for a plan.

    That is a model of several sites whose relaxation starts cold by interior point (more than
    ``INTERIOR_POINT_COLUMNS`` columns, estimated): there the rounding dive's warm re-solves move
    servers between sites through every hour and do not finish (the default on four sites at 12
    days found no plan in 40 minutes), so the first plan comes from the coarse model
    (:mod:`planner.solver.coarse`). One site rounds quickly at any size (a planning year at 8,760
    hours: 30 s), and a scenario already that coarse has nothing to gain: None for those.
    """
    days = max(COARSE_DAYS, len(scenario.time.extreme_days) + 2)
    if not options.dive or len(scenario.site_specs()) < 2 or representative_day_count(scenario) <= days:
        return None
    if estimate_size(scenario).columns <= INTERIOR_POINT_COLUMNS:
        return None
    return scenario.model_copy(update={"time": scenario.time.model_copy(update={"representative_days": days})})


def plan_scenario(
    scenario: Scenario,
    options: SolveOptions | None = None,
    export_model: Path | None = None,
    shadow_prices: bool = True,
    timings: dict[str, float] | None = None,
    cache: ModelCache | None = None,
    warm_basis: object = None,
    plan_start: PlanStart | None = None,
    load_plan: bool = True,
) -> PlanRun:
    """Reduce, build, solve and collect the results of a validated scenario.

    The stages before the solver are :func:`build` (with ``cache``: re-used where the structure
    allows). ``warm_basis`` starts the LP relaxation from the basis of a scenario with the same
    structure, and ``plan_start`` tries that scenario's plan before the rounding dive
    (:func:`planner.solver.solve.solve`). ``export_model`` writes the exact model handed to HiGHS to
    that MPS file first (atomically). With ``load_plan`` False the plan is not written into the model's
    variables (the Dataset does not need it): for a caller that keeps only ``PlanRun.dataset``.
    """
    options = options or SolveOptions.from_scenario(scenario)
    built = build(scenario, cache, compile=export_model is not None)
    timings = {**(timings or {}), **built.timings}
    if export_model is not None and built.compiled is not None:
        with atomic_path(Path(export_model), keep_suffix=True) as tmp:
            write_mps(built.compiled, tmp)
    coarse = coarse_scenario(scenario, options)
    coarse_model = None
    if coarse is not None:
        t0 = time.perf_counter()
        coarse_model = build(coarse).compiled
        timings["coarse_build"] = time.perf_counter() - t0
    outcome = solve(
        built.model,
        options,
        compiled=built.compiled,
        shadow_prices=shadow_prices,
        warm_basis=warm_basis,
        coarse=coarse_model,
        plan_start=plan_start,
        load_plan=load_plan,
    )
    dataset = None
    if outcome.has_plan:
        t3 = time.perf_counter()
        dataset = to_dataset(built.model, outcome, timings)
        timings["results"] = time.perf_counter() - t3
        dataset.attrs["timings_s"] = _timings_json({**timings, **outcome.timings})
    return PlanRun(scenario, built.model, outcome, dataset, {**timings, **outcome.timings})


def relaxation_basis(
    scenario: Scenario, options: SolveOptions, cache: ModelCache | None = None, start: Basis | None = None
) -> object:
    """The optimal basis of the scenario's LP relaxation (``planner.solver.dive.Basis``; None if it has none).

    What the cases of a sweep start from (see :func:`planner.studies.sweep.run_sweep`): solved once per
    model structure by the simplex from scratch, or from ``start`` (the basis of another scenario of the
    same structure: a sweep's anchors start from their structure's first case), and handed to the cases
    that start there.
    """
    compiled = build(scenario, cache).compiled
    assert compiled is not None  # build compiles when asked (the default)
    relaxation = Relaxation(compiled, options, start=start)
    status, _ = relaxation.solve_lp(options.time_limit_s)
    return get_basis(relaxation.highs) if status == Status.OPTIMAL else None


def _timings_json(timings: dict[str, float]) -> str:
    return json.dumps({k: round(v, 4) for k, v in timings.items()})
