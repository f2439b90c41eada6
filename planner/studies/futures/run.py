"""``plan hedge``: a plan that holds across futures, and what it is worth (DESIGN.md §9).

:func:`run_hedge` is the study's one entry point:

1. load and check the futures file (every future through the scenario loader, all problems at once) and
   derive the mean-value future (:func:`planner.scenario.futures.mean_value_overrides`);
2. solve each future alone (*perfect foresight*) and the mean-value future, on the workers as sweep cases
   run (:func:`planner.studies.sweep.execute.executor`, one core each), saving each as it finishes;
3. solve the extensive form here, on both cores (:mod:`planner.studies.futures.hedge`): the *hedged plan*,
   its first-stage decisions shared, each future's recourse its own;
4. carry every other first-stage plan (each future's perfect-foresight plan, the mean-value plan) into
   every future, its decisions up to ``commit_until`` fixed and the rest re-optimised
   (:func:`planner.studies.futures.solve.evaluate_plan`), again on the workers;
5. combine everything into one Dataset (:func:`planner.studies.futures.stack.hedge_dataset`) and write it.

The hedged plan's cost in each future is its NPV in the extensive form (its recourse is already optimal
there); a perfect-foresight plan's cost in its own future is that future's solve. Neither is solved again.

**Parts and resume**, as a sweep's (:mod:`planner.studies.sweep.store`): each solve is saved in
``<results_dir>/<name>/`` as ``<id>.nc`` (where it has a plan to keep) and then its record ``<id>.json``,
atomically, under the folder's lock. Ids: ``perfect-<future>``, ``mean_value``, ``hedged-<future>`` (the
hedged plan in each future, then the record ``hedged``), ``eval-<plan>-in-<future>``. A part is solved
again only if its record is missing or was written for other inputs (its fingerprint: the future's
resolved scenario and profiles, the solver options, the planner version; an evaluation's also the plan's).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import xarray as xr
from rich.console import Console
from rich.markup import escape

from planner.model.data import MCNY
from planner.results.io import write_dataset
from planner.scenario import Problem, Scenario, ScenarioError, load_scenario
from planner.scenario.futures import (
    DEFAULT_RESULTS_DIR,
    MEAN_VALUE,
    Futures,
    future_overrides,
    load_futures,
    mean_value_overrides,
)
from planner.solver.highs import SolveOptions
from planner.solver.status import Status
from planner.studies.futures.hedge import solve_hedge
from planner.studies.futures.progressive import PHError, solve_progressive
from planner.studies.futures.solve import evaluate_plan, read_first_stage, solve_future
from planner.studies.futures.stack import HEDGED, Evaluation, hedge_dataset, perfect
from planner.studies.sweep.cases import Case, fingerprint
from planner.studies.sweep.execute import executor, where
from planner.studies.sweep.store import (
    Parts,
    is_done,
    lock,
    no_plan_info,
    read_parts,
    read_record,
    remove_temps,
    write_part,
)

__all__ = ["HedgeError", "run_hedge"]


class HedgeError(RuntimeError):
    """The extensive form has no plan (infeasible, or none found in time): the message says why."""


def _case(cid: str, overrides: Sequence[str], label: str) -> Case:
    return Case(id=cid, kind="future", params=(), overrides=tuple(overrides), label=label, coords=(("id", cid),))


def _hash(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:16]


def _scenarios(spec: Futures, mean: list[str]) -> tuple[dict[str, list[str]], dict[str, Scenario]]:
    """Overrides and scenario of every future and of the mean-value future (``mean_value``)."""
    overrides = {f.name: future_overrides(spec, f) for f in spec.futures}
    overrides[MEAN_VALUE] = mean
    scenarios = {}
    for name, ov in overrides.items():
        try:
            scenarios[name] = load_scenario(spec.base, ov)
        except ScenarioError as exc:  # only the mean-value future can fail here (the futures were checked)
            where_ = "the mean-value future (probability-weighted means of the overrides)"
            raise ScenarioError(
                [Problem(f"{where_}: {p.path}", p.message) for p in exc.problems], str(spec.source)
            ) from None
    return overrides, scenarios


def run_hedge(
    futures_path: str | Path,
    *,
    workers: int | None = None,
    scheduler: Any = None,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    resume: bool = True,
    results_dir: str | Path = DEFAULT_RESULTS_DIR,
    output: str | Path | None = None,
    console: Any = None,
) -> xr.Dataset:
    """Solve the hedged plan of a futures file, each future alone, the mean-value plan, and every plan in
    every future; write them as one Dataset (``output``, default ``<results_dir>/<name>.nc``).

    Raises
    ------
    ScenarioError
        A bad futures file or future (every problem at once, each with its place in the file).
    HedgeError
        The extensive form has no plan (the diagnosis says why).
    SweepError
        Another run writes the same study.
    """
    if workers is not None and scheduler is not None:
        raise ValueError("give either workers (local processes) or scheduler (a Dask cluster), not both")
    console = console if console is not None else Console(stderr=True, highlight=False)
    spec = load_futures(futures_path)
    mean, notes = mean_value_overrides(spec)
    overrides, scenarios = _scenarios(spec, mean)
    base = scenarios[spec.futures[0].name]
    name = Path(output).stem if output is not None else spec.name
    folder = Path(results_dir) / name
    out = Path(output) if output is not None else Path(results_dir) / f"{name}.nc"
    sv = spec.solver
    ef_options = SolveOptions.from_scenario(
        base, time_limit_s=time_limit if time_limit is not None else sv.time_limit_s, mip_gap=mip_gap or sv.mip_gap
    )
    options = {
        "time_limit_s": ef_options.time_limit_s,
        "mip_gap": ef_options.mip_gap,
        "threads": 1,
        "concurrent_dive": False,
        "shadow_prices": False,
    }
    c = spec.commit_until
    names = spec.names
    fps = {n: fingerprint(scenarios[n], {**options, "commit_until": c, "task": "solve_future"}) for n in overrides}
    with lock(folder):
        remove_temps(folder)
        # 1. each future alone, and the mean-value future
        alone = [_case(perfect(n), overrides[n], f"{n} alone") for n in names] + [
            _case(MEAN_VALUE, overrides[MEAN_VALUE], "the mean-value future")
        ]
        alone_fps = {perfect(n): fps[n] for n in names} | {MEAN_VALUE: fps[MEAN_VALUE]}
        parts = _run(alone, alone_fps, {}, options, folder, resume, workers, scheduler, console, solve_future, c, spec)
        # 2. the extensive form
        risk = (float(spec.risk.cvar_alpha), float(spec.risk.weight)) if spec.risk is not None else None
        method = () if spec.method == "extensive" else (spec.method, spec.ph.model_dump(mode="json"))
        hedged_fp = _hash([fps[n] for n in names], spec.probabilities, risk, repr(ef_options), c, *method)
        hedged = _hedged(spec, overrides, scenarios, ef_options, risk, hedged_fp, folder, resume, console)
        parts.update(hedged)
        # 3. every other plan in every future
        plans = [perfect(n) for n in names] + [MEAN_VALUE]
        jobs, job_fps, args = [], {}, {}
        for plan in plans:
            info, ds = parts[plan]
            if ds is None:
                continue
            first = read_first_stage(ds)
            for n in names:
                if plan == perfect(n):
                    continue
                cid = f"eval-{plan}-in-{n}"
                jobs.append(_case(cid, overrides[n], f"{plan} plan in {n}"))
                job_fps[cid] = _hash(fps[n], alone_fps[plan], "evaluate", first)
                args[cid] = {"first_stage": first}
        parts.update(
            _run(jobs, job_fps, args, options, folder, resume, workers, scheduler, console, evaluate_plan, c, spec)
        )
        evaluations = _evaluations(names, plans, parts)
        ds = hedge_dataset(spec, base, parts, evaluations, notes, options, ef_options)
        write_dataset(ds, out)
    return ds


def _run(
    jobs: Sequence[Case],
    fps: Mapping[str, str],
    args: Mapping[str, Mapping[str, Any]],
    options: Mapping[str, Any],
    folder: Path,
    resume: bool,
    workers: int | None,
    scheduler: Any,
    console: Any,
    task: Any,
    commit_until: int,
    spec: Futures,
) -> Parts:
    """Solve the jobs not saved for the same inputs on the executor, saving each as it finishes; return all."""
    todo = [j for j in jobs if not (resume and is_done(read_record(folder, j.id), fps[j.id]))]
    fresh: Parts = {}
    if todo:
        console.print(
            f"{len(jobs) - len(todo)} of {len(jobs)} saved; solving {len(todo)} {where(todo, workers, scheduler)}"
        )
        per_job = {j.id: {"commit_until": commit_until, **args.get(j.id, {})} for j in todo}
        for case, info, plan in executor(
            todo, str(Path(spec.base).resolve()), dict(options), per_job, workers, scheduler, task=task
        ):
            write_part(folder, case, fps[case.id], info, plan)
            fresh[case.id] = (info, plan)
            npv = info.get("objective_cny", math.nan)
            console.print(
                f"  {escape(case.label)}: {info['status']}"
                + (
                    f", NPV {npv / 1e6:,.1f} M CNY"
                    if math.isfinite(npv)
                    else f" ({escape(str(info.get('message', ''))[:200])})"
                )
                + f" [{info.get('wall_time_s', math.nan):.1f} s]"
            )
    else:
        console.print(f"all {len(jobs)} saved for the same inputs")
    return read_parts(folder, list(jobs), fresh)


def _hedged(
    spec: Futures,
    overrides: Mapping[str, list[str]],
    scenarios: Mapping[str, Scenario],
    options: SolveOptions,
    risk: tuple[float, float] | None,
    fp: str,
    folder: Path,
    resume: bool,
    console: Any,
) -> Parts:
    """The hedged plan in each future (``hedged-<future>``), solved or as saved; its record ``hedged``."""
    names = spec.names
    cases = [_case(f"{HEDGED}-{n}", overrides[n], f"hedged plan in {n}") for n in names]
    record = read_record(folder, HEDGED)
    if resume and is_done(record, fp):
        saved = read_parts(folder, cases)
        if all(plan is not None for _, plan in saved.values()):
            console.print("the hedged plan is saved for the same inputs")
            return {**saved, HEDGED: (dict(saved[cases[0].id][0]) | {"objective_cny": record["objective_cny"]}, None)}  # type: ignore[index]
    futures = ([scenarios[n] for n in names], [overrides[n] for n in names], spec.probabilities, spec.commit_until)
    t0 = time.perf_counter()
    if spec.method == "ph":
        console.print(
            f"progressive hedging over {len(names)} futures (mpi-sppy, first stage up to {spec.commit_until}) ..."
        )

        def progress(iteration: int, metric: float, seconds: float) -> None:
            if iteration == 0:
                console.print(f"  PH iteration 0: every future solved alone [{seconds:.1f} s]")
            else:
                console.print(f"  PH iteration {iteration}: convergence metric {metric:.4g} [{seconds:.1f} s]")

        try:
            hedge = solve_progressive(*futures, options, spec.ph, progress, names)
        except PHError as exc:
            raise HedgeError(f"the futures have no common plan: {exc}") from None
    else:
        console.print(f"solving the extensive form of {len(names)} futures (first stage up to {spec.commit_until}) ...")
        hedge = solve_hedge(*futures, options, risk)
    wall = time.perf_counter() - t0  # the stages' sum counts the dive beside the MIP twice
    outcome = hedge.outcome
    if outcome.x is None:
        why = "\n".join(outcome.diagnosis) or outcome.termination
        hint = (
            "; the extensive form holds every future's model: give it more time (--time-limit, solver.time_limit_s)"
            " or fewer representative days (set: time.representative_days=N)"
            if outcome.status == Status.TIME_LIMIT
            else ""
        )
        raise HedgeError(f"the futures have no common plan ({outcome.status}): {why}{hint}")
    info = no_plan_info(outcome.status, "")
    info.update(
        termination=outcome.termination,
        objective_cny=float(outcome.objective or math.nan) * MCNY,
        bound_cny=math.nan if outcome.bound is None else outcome.bound * MCNY,
        mip_gap=math.nan if outcome.gap is None else outcome.gap,
        timings={k: round(float(v), 4) for k, v in {**hedge.timings}.items()},
    )
    out: Parts = {}
    for case, npv, plan in zip(cases, hedge.npv_cny, hedge.plans, strict=True):
        assert plan is not None
        plan.attrs.update(
            hedge_objective_cny=info["objective_cny"],
            hedge_bound_cny=info["bound_cny"],
            hedge_mip_gap=info["mip_gap"],
            hedge_eta_cny=hedge.eta_cny,
            hedge_rows=outcome.n_rows,
            hedge_columns=outcome.n_cols,
            hedge_first_stage_columns=len(hedge.shared),
            hedge_timings_s=json.dumps(info["timings"]),
            **hedge.attrs,
        )
        own = {**info, "objective_cny": npv}
        write_part(folder, case, fp, own, plan)
        out[case.id] = (own, plan)
    write_part(folder, _case(HEDGED, [], "hedged plan"), fp, info, None)
    out[HEDGED] = (info, None)
    console.print(
        f"  hedged plan: {outcome.status}, expected NPV {info['objective_cny'] / 1e6:,.1f} M CNY"
        f" (gap {info['mip_gap']:.2%}) [{wall:.1f} s]"
    )
    if spec.method == "ph":
        console.print(f"  {escape(outcome.termination)}")
    return out


def _evaluations(names: Sequence[str], plans: Sequence[str], parts: Parts) -> dict[tuple[str, str], Evaluation]:
    """(plan, future) -> the plan's cost in the future, its status and message."""
    out: dict[tuple[str, str], Evaluation] = {}
    for n in names:
        info, _ = parts[f"{HEDGED}-{n}"]
        out[(HEDGED, n)] = Evaluation.of(info)
    for plan in plans:
        for n in names:
            if plan == perfect(n):
                info = parts[plan][0]
            elif f"eval-{plan}-in-{n}" in parts:
                info = parts[f"eval-{plan}-in-{n}"][0]
            else:
                reason = parts[plan][0].get("message") or "no plan"
                info = no_plan_info(Status.ERROR, f"the {plan} plan was not found: {reason}")
            out[(plan, n)] = Evaluation.of(info)
    return out
