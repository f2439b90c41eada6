"""The whole chain for one scenario, with the time of each stage:
load + validate -> time reduction -> model build -> solve -> results Dataset.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyomo.environ as pyo
import xarray as xr

from planner.model import ModelData, build_model
from planner.results import to_dataset
from planner.scenario import Scenario, load_scenario
from planner.solve import SolveOptions, SolveOutcome, solve
from planner.timeseries import prepare_time

__all__ = ["PlanRun", "plan_scenario", "plan_file"]


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
) -> PlanRun:
    """Reduce, build, solve and collect the results of a validated scenario."""
    timings = dict(timings or {})
    options = options or SolveOptions.from_scenario(scenario)
    t0 = time.perf_counter()
    data = ModelData(scenario, prepare_time(scenario))
    t1 = time.perf_counter()
    model = build_model(data)
    t2 = time.perf_counter()
    timings.update({"time_reduction": t1 - t0, "build": t2 - t1})
    outcome = solve(model, options, export_model=export_model, shadow_prices=shadow_prices)
    dataset = None
    if outcome.has_plan:
        t3 = time.perf_counter()
        dataset = to_dataset(model, outcome, timings)
        timings["results"] = time.perf_counter() - t3
        dataset.attrs["timings_s"] = _timings_json({**timings, **outcome.timings})
    return PlanRun(scenario, model, outcome, dataset, {**timings, **outcome.timings})


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
