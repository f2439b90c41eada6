"""The whole chain for one scenario, with the time of each stage:
load + validate -> time reduction -> model build -> solve -> results Dataset.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyomo.environ as pyo
import xarray as xr

from planner.model import ModelData, build_model
from planner.model.size import check_size
from planner.model.update import structure_key, update_model
from planner.results import to_dataset
from planner.scenario import Scenario, load_scenario, scenario_files
from planner.solve import CompiledModel, SolveOptions, SolveOutcome, compile_model, solve
from planner.timeseries import prepare_time

__all__ = ["ModelCache", "PlanRun", "plan_file", "plan_scenario", "relaxation_basis"]


class ModelCache:
    """Built and compiled models kept by structure, so that scenarios differing only in numbers
    re-use one.

    One cache lives in each worker process of a sweep. ``reuse`` returns a model already updated
    with the scenario's numbers (:func:`planner.model.update.update_model`) and its matrices
    patched where the changed numbers reach (:class:`planner.recompile.Recompiler`), or None.
    """

    def __init__(self, size: int = 2) -> None:
        self.size = size
        self._entries: dict[str, _CacheEntry] = {}

    def reuse(self, scenario: Scenario) -> tuple[pyo.ConcreteModel, CompiledModel] | None:
        """The cached model for ``scenario``'s structure updated to its numbers, and its
        compiled matrices (None if there is none).
        """
        entry = self._entries.get(structure_key(scenario))
        if entry is None:
            return None
        if entry.recompiler is None:  # indexed on the first re-use (a one-case sweep never pays),
            from planner.recompile import Recompiler  # at the numbers it was compiled with

            entry.recompiler = Recompiler(entry.compiled)
        changed = update_model(entry.model, scenario)
        compiled = entry.recompiler.refresh(changed)
        if compiled is None:  # the change alters the compiled shape: compile in full, index afresh
            compiled = compile_model(entry.model)
            entry.recompiler = None
        entry.compiled = compiled
        return entry.model, compiled

    def store(self, model: pyo.ConcreteModel, compiled: CompiledModel) -> None:
        """Keep ``model`` (and its compile) for later scenarios of the same structure (oldest
        dropped beyond ``size``).
        """
        if len(self._entries) >= self.size:
            self._entries.pop(next(iter(self._entries)))
        self._entries[structure_key(model.planner_data.scenario)] = _CacheEntry(model, compiled)


@dataclass
class _CacheEntry:
    model: pyo.ConcreteModel
    compiled: CompiledModel
    recompiler: Any = None  #: planner.recompile.Recompiler, made on the first re-use


@dataclass
class PlanRun:
    """Everything one planning run produced."""

    scenario: Scenario
    model: pyo.ConcreteModel
    outcome: SolveOutcome
    dataset: xr.Dataset | None  #: None when there is no plan (infeasible, nothing found in time)
    timings: dict[str, float] = field(default_factory=dict)  #: seconds per stage


def plan_scenario(
    scenario: Scenario,
    options: SolveOptions | None = None,
    export_model: Path | None = None,
    shadow_prices: bool = True,
    timings: dict[str, float] | None = None,
    cache: ModelCache | None = None,
    warm_basis: object = None,
) -> PlanRun:
    """Reduce, build, solve and collect the results of a validated scenario.

    A scenario whose model would be too large (:mod:`planner.model.size`) is refused with a
    :class:`~planner.scenario.ScenarioError` before anything is built.

    With a ``cache``, a model built earlier for a scenario of the same structure (differing
    only in prices, demand, caps or policy limits) is updated in place instead of rebuilt.
    ``warm_basis`` starts the LP relaxation from the basis of such a scenario
    (:func:`planner.solve.solve`).
    """
    files = scenario_files(scenario)
    check_size(scenario, str(files[0]) if files else None)  # refuse a model too large to build
    timings = dict(timings or {})
    options = options or SolveOptions.from_scenario(scenario)
    t0 = time.perf_counter()
    reused = cache.reuse(scenario) if cache is not None else None
    compiled = None
    if reused is not None:
        model, compiled = reused
        timings["update"] = time.perf_counter() - t0
    else:
        data = ModelData(scenario, prepare_time(scenario))
        t1 = time.perf_counter()
        model = build_model(data)
        t2 = time.perf_counter()
        timings.update({"time_reduction": t1 - t0, "build": t2 - t1})
        if cache is not None:
            compiled = compile_model(model)
            timings["compile"] = time.perf_counter() - t2
            cache.store(model, compiled)
    outcome = solve(
        model,
        options,
        export_model=export_model,
        compiled=compiled,
        shadow_prices=shadow_prices,
        warm_basis=warm_basis,
    )
    dataset = None
    if outcome.has_plan:
        t3 = time.perf_counter()
        dataset = to_dataset(model, outcome, timings)
        timings["results"] = time.perf_counter() - t3
        dataset.attrs["timings_s"] = _timings_json({**timings, **outcome.timings})
    return PlanRun(scenario, model, outcome, dataset, {**timings, **outcome.timings})


def relaxation_basis(scenario: Scenario, options: SolveOptions, cache: ModelCache | None = None) -> object:
    """The optimal basis of the scenario's LP relaxation (``planner.dive.Basis``; None if it has none).

    What the cases of a sweep start from (see :func:`planner.sweep.run_sweep`): solved once per
    model structure, by the simplex from scratch, and handed to every case of that structure.
    """
    from planner.dive import Relaxation, get_basis

    files = scenario_files(scenario)
    check_size(scenario, str(files[0]) if files else None)
    reused = cache.reuse(scenario) if cache is not None else None
    if reused is not None:
        compiled = reused[1]
    else:
        compiled = compile_model(build_model(ModelData(scenario, prepare_time(scenario))))
        if cache is not None:
            cache.store(compiled.model, compiled)
    relaxation = Relaxation(compiled, options)
    status, _ = relaxation.solve_lp(options.time_limit_s)
    return get_basis(relaxation.highs) if status == "optimal" else None


def plan_file(
    path: Path | str,
    overrides: Sequence[str] = (),
    options: SolveOptions | None = None,
    **kwargs: object,
) -> PlanRun:
    """Load a scenario file (with ``--set`` overrides) and plan it."""
    t0 = time.perf_counter()
    scenario = load_scenario(path, overrides)
    load = time.perf_counter() - t0
    return plan_scenario(scenario, options, timings={"load": load}, **kwargs)  # type: ignore[arg-type]


def _timings_json(timings: dict[str, float]) -> str:
    import json

    return json.dumps({k: round(v, 4) for k, v in timings.items()})
