"""The solves of a hedge study, each in a worker: a future alone (:func:`solve_future`: perfect foresight, or
the mean-value future) and a first-stage plan carried into a future (:func:`evaluate_plan`: the plan's
decisions up to ``commit_until`` fixed, everything after re-optimised).

Both run on the sweep's executor (:func:`planner.studies.sweep.execute.executor`) like sweep cases: one core
each, the worker's built models re-used between futures of the same structure
(:func:`planner.studies.sweep.execute.worker_models`), so that the evaluations of every plan in one future
re-use one model and only move column bounds.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

import xarray as xr

from planner.model.data import MCNY
from planner.model.stages import decision_units, first_stage_mask, first_stage_values
from planner.pipeline import build, plan_scenario
from planner.results.provenance import record_overrides
from planner.scenario import ScenarioError, load_scenario
from planner.solver.extensive import with_fixed
from planner.solver.solve import solve
from planner.solver.status import Status
from planner.studies.sweep.execute import case_solve_options, exception_text, worker_models
from planner.studies.sweep.store import no_plan_info

__all__ = ["FIRST_STAGE_ATTR", "FIRST_STAGE_UNITS_ATTR", "evaluate_plan", "read_first_stage", "solve_future"]

FIRST_STAGE_ATTR = "first_stage_json"
"""Attr of a plan's Dataset holding its first-stage decisions (JSON: column name -> value)."""

FIRST_STAGE_UNITS_ATTR = "first_stage_units_json"
"""Attr of a plan's Dataset holding the unit of each decision component (JSON: ``servers_new`` -> ``servers``)."""


def read_first_stage(plan: xr.Dataset) -> dict[str, float]:
    """The first-stage decisions a plan's Dataset records (:data:`FIRST_STAGE_ATTR`)."""
    return {str(k): float(v) for k, v in json.loads(str(plan.attrs.get(FIRST_STAGE_ATTR, "{}"))).items()}


def solve_future(
    base_path: str, overrides: list[str], options: dict[str, Any], commit_until: int
) -> tuple[dict[str, Any], xr.Dataset | None]:
    """Plan one future alone (it knows it will come): the base with ``overrides``; its plan records its
    first-stage decisions (:data:`FIRST_STAGE_ATTR`). Returns the info (as a sweep case's) and the plan.
    """
    t0 = time.perf_counter()
    plan: xr.Dataset | None = None
    try:
        scenario = load_scenario(base_path, overrides)
        loaded = time.perf_counter() - t0
        run = plan_scenario(
            scenario,
            case_solve_options(scenario, options),
            shadow_prices=bool(options.get("shadow_prices", False)),
            timings={"load": loaded},
            cache=worker_models(),
        )
    except ScenarioError as exc:
        info = no_plan_info(Status.ERROR, str(exc))
    except Exception as exc:  # noqa: BLE001 - a failing solve is recorded, it does not stop the study
        info = no_plan_info(Status.ERROR, exception_text(exc))
    else:
        outcome = run.outcome
        info = no_plan_info(outcome.status, "\n".join(outcome.diagnosis))
        info.update(termination=outcome.termination, timings={k: round(float(v), 4) for k, v in run.timings.items()})
        if run.dataset is not None:
            plan = record_overrides(run.dataset, overrides)
            plan.attrs[FIRST_STAGE_ATTR] = json.dumps(first_stage_values(run.model, commit_until))
            plan.attrs[FIRST_STAGE_UNITS_ATTR] = json.dumps(decision_units(run.model))
            info.update(
                objective_cny=float(plan.attrs["objective_cny"]),
                bound_cny=float(plan.attrs["bound_cny"]),
                mip_gap=float(plan.attrs["mip_gap"]),
            )
    info["wall_time_s"] = time.perf_counter() - t0
    return info, plan


def evaluate_plan(
    base_path: str,
    overrides: list[str],
    options: dict[str, Any],
    commit_until: int,
    first_stage: dict[str, float],
) -> tuple[dict[str, Any], xr.Dataset | None]:
    """Carry a first-stage plan into one future: its decisions up to ``commit_until`` fixed (by column name),
    the future's later decisions and all operation re-optimised.

    Returns the info: ``objective_cny`` the plan's NPV in this future [CNY] (with the future's shortfall
    penalties), ``bound_cny``, ``mip_gap``; a plan that this future cannot carry out (a decision it does not
    allow, a policy limit it cannot meet with these builds) is ``infeasible`` with the reason in
    ``message``. No plan Dataset comes back (the study keeps the cost only).
    """
    t0 = time.perf_counter()
    try:
        scenario = load_scenario(base_path, overrides)
        built = build(scenario, cache=worker_models())
        assert built.compiled is not None  # with a cache, build always compiles
        mask = first_stage_mask(built.model, built.compiled.columns, commit_until)
        fixed, problems = with_fixed(built.compiled, first_stage, mask)
        if problems:
            shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
            info = no_plan_info(Status.INFEASIBLE, f"the plan cannot be carried out in this future: {shown}")
        else:
            outcome = solve(built.model, case_solve_options(scenario, options), compiled=fixed, shadow_prices=False)
            info = no_plan_info(outcome.status, "\n".join(outcome.diagnosis))
            info["termination"] = outcome.termination
            if outcome.status == Status.INFEASIBLE:
                info["message"] = "the plan's builds cannot meet this future's limits. " + " ".join(
                    line.strip() for line in outcome.diagnosis
                )
            if outcome.objective is not None:
                info.update(
                    objective_cny=outcome.objective * MCNY,
                    bound_cny=math.nan if outcome.bound is None else outcome.bound * MCNY,
                    mip_gap=math.nan if outcome.gap is None else outcome.gap,
                )
            info["timings"] = {k: round(float(v), 4) for k, v in {**built.timings, **outcome.timings}.items()}
    except ScenarioError as exc:
        info = no_plan_info(Status.ERROR, str(exc))
    except Exception as exc:  # noqa: BLE001 - a failing evaluation is recorded, it does not stop the study
        info = no_plan_info(Status.ERROR, exception_text(exc))
    info["wall_time_s"] = time.perf_counter() - t0
    return info, None
