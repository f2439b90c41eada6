"""``plan alternatives``: the least-cost plan, then the plans within ``slack`` of its cost that go furthest in
each chosen direction, saved one by one, resumable, on local processes or a Dask cluster.

:func:`run_alternatives` is the study's one entry point:

1. validate the scenario (with ``--set``) and the metric names, all problems at once;
2. solve the least-cost plan here (both cores, as ``plan solve``), or keep the one saved for the
   same inputs;
3. solve each metric direction (min and max) on the workers, as sweep cases run
   (:func:`planner.studies.sweep.execute.executor`, one core each), saving each the moment it
   finishes;
4. solve the random directions one after another (each depends on every plan before it);
5. stack every alternative into one Dataset (:func:`stack_alternatives`) and write it.

**Parts and resume**, as a sweep's (:mod:`planner.studies.sweep.store`): each alternative is saved
in ``<results_dir>/<name>/`` as ``<id>.nc`` and then its record ``<id>.json``, both atomically,
under the folder's lock. An alternative is solved again only if its record is missing or was
written for other inputs: its *fingerprint* covers the resolved scenario and profiles, the solver
options, the planner version, the direction (its weights too), the slack and the least-cost NPV.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from rich.console import Console
from rich.markup import escape

from planner.pipeline import ModelCache, plan_scenario
from planner.results.io import write_bytes, write_dataset
from planner.results.metrics import METRICS, metric_value, unknown_metrics
from planner.results.provenance import record_overrides
from planner.scenario import Problem, Scenario, ScenarioError, load_scenario
from planner.solver.dive import Basis, basis_arrays
from planner.solver.highs import SolveOptions
from planner.studies.alternatives.directions import (
    LEAST_COST,
    Direction,
    decision_values,
    decisions,
    metric_directions,
    random_direction,
)
from planner.studies.alternatives.solve import solve_alternative
from planner.studies.sweep.cases import Case, fingerprint
from planner.studies.sweep.execute import default_workers, executor
from planner.studies.sweep.stack import stack_plans
from planner.studies.sweep.store import (
    Parts,
    is_done,
    lock,
    no_plan_info,
    read_basis,
    read_record,
    remove_temps,
    write_basis,
    write_part,
)
from planner.studies.sweep.store import read_parts as read_saved

__all__ = ["DEFAULT_METRICS", "DEFAULT_RESULTS_DIR", "AlternativesError", "run_alternatives", "stack_alternatives"]

DEFAULT_METRICS = ("domestic_share", "imported_servers", "grid_mw", "ppa_mw", "liquid_share")
"""The metrics when none is named."""

DEFAULT_RESULTS_DIR = Path("results") / "alternatives"
"""Where the parts (``<name>/<id>.nc``) and the combined file (``<name>.nc``) go by default."""


class AlternativesError(RuntimeError):
    """No least-cost plan to start from (infeasible, or none found in time): the message says why."""


def _case(direction: Direction, overrides: Sequence[str]) -> Case:
    """An alternative as the sweep store's case: its id, its overrides, its direction as the label."""
    return Case(
        id=direction.id,
        kind="alternative",
        params=(),
        overrides=tuple(overrides),
        label=direction.describe(),
        coords=(("alternative", direction.id),),
    )


def _fingerprint(scenario: Scenario, options: Mapping[str, Any], direction: Direction, slack: float, npv: float) -> str:
    extra = {"direction": asdict(direction), "slack": slack, "least_cost_npv_cny": npv}
    return fingerprint(scenario, {**options, **extra})


def _check(
    scenario_path: Path, overrides: Sequence[str], metrics: Sequence[str], slack: float, n_random: int
) -> Scenario:
    problems = [Problem(f"--metric {name}", text) for name in metrics for text in unknown_metrics([name])]
    if not (math.isfinite(slack) and 0 < slack <= 1):
        problems.append(Problem("--slack", f"must be a share above 0 and at most 1 (0.02 = 2 %), not {slack}"))
    if n_random < 0:
        problems.append(Problem("--random", f"must be 0 or more, not {n_random}"))
    try:
        scenario = load_scenario(scenario_path, overrides)
    except ScenarioError as exc:
        raise ScenarioError([*exc.problems, *problems], exc.source) from None
    if problems:
        raise ScenarioError(problems, str(scenario_path))
    return scenario


def run_alternatives(
    scenario_path: str | Path,
    *,
    slack: float = 0.02,
    metrics: Sequence[str] = DEFAULT_METRICS,
    n_random: int = 0,
    overrides: Sequence[str] = (),
    seed: int = 0,
    workers: int | None = None,
    scheduler: Any = None,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    resume: bool = True,
    results_dir: str | Path = DEFAULT_RESULTS_DIR,
    output: str | Path | None = None,
    console: Any = None,
) -> xr.Dataset:
    """Solve the least-cost plan and the near-optimal alternatives of a scenario; write them as one Dataset.

    Parameters
    ----------
    scenario_path : path
        The scenario (YAML).
    slack : float
        Every alternative's NPV is at most ``(1 + slack)`` times the least-cost plan's [-].
    metrics : names
        Metrics of :data:`planner.results.metrics.METRICS` to minimise and maximise.
    n_random : int
        Random directions over the build decisions (SPORES-style), solved one after another.
    overrides : list of str
        ``a.b=value`` overrides of the scenario (``--set``).
    seed : int
        Seed of the random directions.
    workers, scheduler
        Local worker processes (default: the machine's cores), or a Dask scheduler's address.
    time_limit, mip_gap : float, optional
        Override the scenario's solver settings for every solve [s], [-].
    resume : bool
        Keep alternatives saved for the same inputs.
    results_dir, output : path
        Parts go to ``<results_dir>/<name>/``; the combined file to ``output`` (default
        ``<results_dir>/<name>.nc``), ``<name>`` the output's (or the scenario file's) stem.
    console : rich.console.Console, optional
        Where progress goes (default: standard error).

    Raises
    ------
    ScenarioError
        Bad scenario, override, metric name, slack or count (every problem at once).
    AlternativesError
        The scenario has no least-cost plan (the message is the diagnosis).
    SweepError
        Another run writes the same alternatives.
    """
    if workers is not None and scheduler is not None:
        raise ValueError("give either workers (local processes) or scheduler (a Dask cluster), not both")
    console = console if console is not None else Console(stderr=True, highlight=False)
    path = Path(scenario_path)
    scenario = _check(path, overrides, metrics, slack, n_random)
    name = Path(output).stem if output is not None else path.stem
    folder = Path(results_dir) / name
    out = Path(output) if output is not None else Path(results_dir) / f"{name}.nc"
    base_options = SolveOptions.from_scenario(scenario, time_limit_s=time_limit, mip_gap=mip_gap)
    n_workers = 1 if scheduler is not None else min(workers or default_workers(), max(1, 2 * len(metrics)))
    options = {
        "time_limit_s": base_options.time_limit_s,
        "mip_gap": base_options.mip_gap,
        "threads": 1,
        "concurrent_dive": n_workers == 1 and scheduler is None,
        "shadow_prices": False,
    }
    with lock(folder):
        remove_temps(folder)
        least, start, basis = _least_cost(scenario, overrides, base_options, folder, resume, console)
        npv = float(least.attrs["objective_cny"])
        directions = metric_directions(list(dict.fromkeys(metrics)))
        fps = {d.id: _fingerprint(scenario, options, d, slack, npv) for d in directions}
        todo = [d for d in directions if not (resume and is_done(read_record(folder, d.id), fps[d.id]))]
        args = {"base": str(path.resolve()), "overrides": list(overrides), "options": options, "folder": str(folder)}
        common = {"slack": slack, "least_cost_npv_cny": npv, "reference": least, "start": start, "basis": basis}
        console.print(
            f"alternatives of [bold]{escape(scenario.name)}[/] within {slack:.1%} of {npv / 1e6:,.1f} M CNY: "
            f"{len(directions) - len(todo)} of {len(directions)} metric directions saved, {len(todo)} to solve "
            f"{'on Dask' if scheduler is not None else f'on {n_workers} worker(s)'}; {n_random} random"
        )
        fresh = _solve(todo, args, common, fps, folder, overrides, n_workers, scheduler, console)
        fresh.update(_saved(folder, directions, fresh))
        randoms = _random(scenario, least, fresh, directions, n_random, seed, args, common, options, resume, console)
        every = [Direction(LEAST_COST, LEAST_COST), *directions, *randoms]
        parts = read_saved(folder, [_case(d, overrides) for d in every], fresh)
        parts[LEAST_COST] = (parts[LEAST_COST][0], least)
        ds = stack_alternatives(scenario, every, parts, slack)
        write_dataset(ds, out)
    return ds


def _start_path(folder: Path) -> Path:
    return folder / f"{LEAST_COST}.x.npy"


def _least_cost(
    scenario: Scenario, overrides: Sequence[str], options: SolveOptions, folder: Path, resume: bool, console: Any
) -> tuple[xr.Dataset, np.ndarray, Basis | None]:
    """The least-cost plan, its column values (every alternative's first incumbent) and its relaxation's
    optimal basis (where every alternative's relaxation starts), solved or as saved.
    """
    direction = Direction(LEAST_COST, LEAST_COST)
    fp = _fingerprint(scenario, {"solve": repr(options)}, direction, 0.0, 0.0)
    record = read_record(folder, LEAST_COST)
    if (
        resume
        and is_done(record, fp)
        and record is not None
        and record.get("has_plan")
        and _start_path(folder).is_file()
    ):
        ((_, plan),) = read_saved(folder, [_case(direction, overrides)]).values()
        if plan is not None:
            return plan, np.load(_start_path(folder)), read_basis(folder, LEAST_COST, fp)
    console.print("solving the least-cost plan ...")
    run = plan_scenario(scenario, options, cache=ModelCache())
    if run.dataset is None or run.outcome.x is None:
        why = "\n".join(run.outcome.diagnosis) or run.outcome.termination
        raise AlternativesError(f"the scenario has no least-cost plan ({run.outcome.status}): {why}")
    plan = record_overrides(run.dataset, list(overrides))
    info = no_plan_info(run.outcome.status, "")
    info.update(
        termination=run.outcome.termination,
        objective_cny=float(plan.attrs["objective_cny"]),
        bound_cny=float(plan.attrs["bound_cny"]),
        mip_gap=float(plan.attrs["mip_gap"]),
        timings={k: round(float(v), 4) for k, v in run.timings.items()},
    )
    buffer = io.BytesIO()
    np.save(buffer, run.outcome.x)
    write_bytes(_start_path(folder), buffer.getvalue())  # before the record: saved means all are there
    basis = basis_arrays(run.outcome.relaxation_basis) if run.outcome.relaxation_basis is not None else None
    if basis is not None:
        write_basis(folder, LEAST_COST, basis, fp)
    write_part(folder, _case(direction, overrides), fp, info, plan)
    return plan, run.outcome.x, basis


def _solve(
    todo: Sequence[Direction],
    args: Mapping[str, Any],
    common: Mapping[str, Any],
    fps: Mapping[str, str],
    folder: Path,
    overrides: Sequence[str],
    workers: int,
    scheduler: Any,
    console: Any,
) -> Parts:
    """Solve ``todo`` on the executor; save each alternative as it finishes; return them (id -> info, plan)."""
    fresh: Parts = {}
    if not todo:
        return fresh
    jobs = [_case(d, overrides) for d in todo]
    per_job = {d.id: {"direction": d, **common} for d in todo}
    for case, info, plan in executor(
        jobs, args["base"], dict(args["options"]), per_job, workers, scheduler, task=solve_alternative
    ):
        write_part(folder, case, fps[case.id], info, plan)
        fresh[case.id] = (info, plan)
        npv = info.get("objective_cny", math.nan)
        console.print(
            f"  {escape(case.label)}: {info['status']}"
            + (f", NPV {npv / 1e6:,.1f} M CNY" if math.isfinite(npv) else f" ({escape(str(info.get('message', '')))})")
            + f" [{info.get('wall_time_s', math.nan):.1f} s]"
        )
    return fresh


def _saved(folder: Path, directions: Sequence[Direction], fresh: Parts) -> Parts:
    """The alternatives saved by an earlier run (those not solved in this one), read back."""
    return read_saved(folder, [_case(d, []) for d in directions if d.id not in fresh])


def _random(
    scenario: Scenario,
    least: xr.Dataset,
    plans: Parts,
    directions: Sequence[Direction],
    n_random: int,
    seed: int,
    args: Mapping[str, Any],
    common: Mapping[str, Any],
    options: Mapping[str, Any],
    resume: bool,
    console: Any,
) -> list[Direction]:
    """The random directions, one after another: each pushes away from every plan before it.

    ``plans`` holds the metric directions' (info, plan); the random ones are added to it.
    """
    folder = Path(args["folder"])
    earlier = [decision_values(least, scenario)]
    earlier += [decision_values(plan, scenario) for d in directions if (plan := plans[d.id][1]) is not None]
    out = []
    for k in range(1, n_random + 1):
        direction = random_direction(k, seed, earlier)
        fp = _fingerprint(scenario, options, direction, float(common["slack"]), float(common["least_cost_npv_cny"]))
        if resume and is_done(read_record(folder, direction.id), fp):
            plans.update(_saved(folder, [direction], {}))
        else:
            todo = [direction]
            plans.update(_solve(todo, args, common, {direction.id: fp}, folder, args["overrides"], 1, None, console))
        out.append(direction)
        plan = plans[direction.id][1]
        if plan is not None:
            earlier.append(decision_values(plan, scenario))
    return out


_INFO = {
    "status": ("1", "solver status of the alternative: optimal, time_limit, infeasible or error"),
    "mip_gap": ("1", "relative MIP gap of the alternative's own objective (its direction)"),
    "iterations": ("1", "LPs solved by the search of the direction's levels (least-cost LPs; the MIP's not counted)"),
    "wall_time_s": ("s", "time to build, solve and collect the alternative"),
}


def stack_alternatives(
    scenario: Scenario,
    directions: Sequence[Direction],
    parts: Mapping[str, tuple[dict[str, Any], xr.Dataset | None]],
    slack: float,
) -> xr.Dataset:
    """Every alternative's plan along the dim ``alternative`` (the least-cost plan first).

    Coordinates on ``alternative``: ``direction`` (in words), ``metric`` and ``sense`` (empty for
    the least-cost plan and random directions) and ``slack``. Besides each plan's own variables
    (``npv_cny``, ``domestic_share`` by year, builds, ...): ``metric_<name>`` for every metric of
    :data:`planner.results.metrics.METRICS` and ``limit_<name>`` (the proven limit of an alternative
    that pushes that metric), ``decision`` values (alternative, decision), the
    infos (``status``, ``mip_gap``, ``iterations``, ``wall_time_s``) and ``npv_over_least_cost``.
    """
    entries = [(d, *parts[d.id]) for d in directions]
    plans = [(i, plan) for i, (_, _, plan) in enumerate(entries) if plan is not None]
    if not plans:
        raise AlternativesError("no alternative has a plan")
    ds = stack_plans(plans, len(entries)).rename({"_case": "alternative"})
    return _annotate(ds, scenario, entries, slack)


def _annotate(
    ds: xr.Dataset,
    scenario: Scenario,
    entries: Sequence[tuple[Direction, dict[str, Any], xr.Dataset | None]],
    slack: float,
) -> xr.Dataset:
    ds = ds.assign_coords(
        alternative=[d.id for d, _, _ in entries],
        direction=("alternative", [d.describe() for d, _, _ in entries]),
        metric=("alternative", [d.metric for d, _, _ in entries]),
        sense=("alternative", [d.sense for d, _, _ in entries]),
        slack=("alternative", [0.0 if d.kind == LEAST_COST else slack for d, _, _ in entries]),
    )
    for key, (units, long_name) in _INFO.items():
        if key == "iterations":  # kept in the plan (a saved record has the sweep's fields only)
            raw = [None if plan is None else plan.attrs.get("alternative_iterations", 0) for _, _, plan in entries]
        else:
            raw = [info.get(key) for _, info, _ in entries]
        values: Any = (
            np.array([str(v or "") for v in raw], dtype=str)
            if units == "1" and key == "status"
            else np.array([math.nan if v is None else float(v) for v in raw], dtype=float)
        )
        ds[key] = xr.DataArray(values, dims=("alternative",), attrs={"units": units, "long_name": long_name})
    for name, metric in METRICS.items():
        values = [metric_value(plan, metric, scenario) if plan is not None else math.nan for _, _, plan in entries]
        ds[f"metric_{name}"] = xr.DataArray(
            np.array(values, dtype=float),
            dims=("alternative",),
            attrs={"units": metric.units, "long_name": metric.long_name},
        )
        limits = [
            plan.attrs.get("alternative_limit", math.nan) if plan is not None and d.metric == name else math.nan
            for d, _, plan in entries
        ]
        ds[f"limit_{name}"] = xr.DataArray(
            np.array(limits, dtype=float),
            dims=("alternative",),
            attrs={
                "units": metric.units,
                "long_name": f"proven limit of {metric.long_name} in the alternative's direction: no plan "
                "within the slack goes beyond it (LP relaxation or MIP bound); NaN for other directions",
            },
        )
    least = next(plan for d, _, plan in entries if plan is not None and d.kind == LEAST_COST)
    forms = decisions(least)
    table = np.array(
        [
            [math.nan] * len(forms) if plan is None else list(decision_values(plan, scenario).values())
            for _, _, plan in entries
        ]
    )
    ds["decision_value"] = xr.DataArray(
        table,
        dims=("alternative", "decision"),
        coords={"decision": list(forms), "decision_units": ("decision", [u for u, _ in forms.values()])},
        attrs={
            "units": "see decision_units",
            "long_name": "build decisions: bought over the horizon, or MW/MWh in the last year",
        },
    )
    ds["npv_over_least_cost"] = xr.DataArray(
        ds["npv_cny"].values / float(least["npv_cny"]) - 1.0,
        dims=("alternative",),
        attrs={"units": "1", "long_name": "NPV above the least-cost plan's, as a share of it"},
    )
    ds.attrs = {
        **{k: v for k, v in least.attrs.items() if k in _KEPT_ATTRS},
        "study": "alternatives",
        "slack": slack,
        "least_cost_npv_cny": float(least["npv_cny"]),
        "least_cost_objective_cny": float(least.attrs.get("objective_cny", math.nan)),
        "least_cost_mip_gap": float(least.attrs.get("mip_gap", math.nan)),
        "metrics": json.dumps({n: {"units": m.units, "long_name": m.long_name} for n, m in METRICS.items()}),
    }
    return ds


_KEPT_ATTRS = (
    "title",
    "scenario_name",
    "scenario_yaml",
    "input_hash",
    "scenario_source",
    "input_files",
    "planner_version",
    "package_versions",
    "representative_days",
    "scenario_overrides",
)
"""Attrs of the least-cost plan the combined file keeps: what it was made from (the report reads the scenario)."""
