"""Running the cases of a sweep: :func:`solve_case` (the one seam that solves a case) and the executors.

**The seam.** :func:`solve_case` is the one function that solves one case. Each worker (each
thread of a worker process) keeps its built models in a :class:`planner.pipeline.ModelCache`: a
case that differs from an earlier one only in numbers (prices, demand, caps, policy limits)
updates that model's parameters instead of rebuilding it (:mod:`planner.model.update`) and
patches its compiled matrices where those numbers reach (:mod:`planner.solver.recompile`); the
matrices are the same as a fresh build's, bit for bit, so the results are too.

**One core per case, warm starts.** A case solves on one core: the LP relaxation and the
rounding dive first, then HiGHS's MIP only if the dive's plan is not already within the gap of
the relaxation (:mod:`planner.solver.dive`; at the example sweeps' 1 % it rarely is needed).
Before the cases, the LP relaxation of the first case of each model structure is solved from
scratch (``solve_case(..., basis_only=True)``), then, in a grid of two or more paths, that of each
*anchor* (the first case of each run of the fastest-varying path) from it, and their optimal bases
saved beside the parts; every case starts its relaxation from its anchor's basis
(:func:`planner.studies.sweep.run.warm_starts`; on the default 1.5-3 s instead of about 36 s from
scratch and 13-18 s from the first case). A case moved from its anchor along the last path also
tries the anchor's plan before its rounding dive (``plan_start``: the anchor's whole units fixed, one
LP; the anchors are solved first and return their plans, ``give_plan``;
:func:`planner.studies.sweep.run.plan_starts`). The bases and plans depend only on the sweep's inputs
(they are part of each case's fingerprint), so warm starts never make a result depend on the worker
count or the order cases finish in.

**Executors** (:func:`executor`). Local worker processes (``workers``, default the machine's
cores; a ``forkserver`` pool that imports the planner once; with ``workers=1`` the cases run in
this process), or an existing Dask distributed cluster (``scheduler``: its address), which
receives the same function. The base scenario and its profile file are read by path in the
workers: a remote cluster needs them at the same path (a shared file system). Each executor
yields the cases' outcomes as they finish; a worker that fails makes an ``error`` outcome of its
case, never of the sweep.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Generator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any

import numpy as np
import xarray as xr
from rich.markup import escape

from planner.pipeline import ModelCache, PlanRun, plan_scenario, relaxation_basis
from planner.results.provenance import record_overrides
from planner.scenario import ScenarioError, load_scenario
from planner.solver.dive import Basis, PlanStart, basis_arrays
from planner.solver.highs import SolveOptions
from planner.solver.status import Status
from planner.studies.sweep.cases import Case, SweepError, case_id
from planner.studies.sweep.store import no_plan_info

__all__ = [
    "TRACE_ENV",
    "CaseArgs",
    "Outcome",
    "Task",
    "case_solve_options",
    "exception_text",
    "worker_models",
    "default_workers",
    "executor",
    "solve_case",
    "where",
]

TRACE_ENV = "PLANNER_SWEEP_TRACE"
"""If set, :func:`solve_case` appends ``<case id> <pid>`` to this file each time it starts a case."""

Outcome = tuple[Case, dict[str, Any], xr.Dataset | None]
"""A finished case: the case, its info (see :func:`solve_case`) and its plan (or None)."""

CaseArgs = Mapping[str, Mapping[str, Any]]
"""Case id -> extra keyword arguments of :func:`solve_case` (warm start, basis only)."""

Task = Callable[..., tuple[dict[str, Any], "xr.Dataset | None"]]
"""What a worker runs for one job: ``task(base, overrides, options, **args)`` -> (info, plan), as
:func:`solve_case` (other studies, e.g. near-optimal alternatives, bring their own)."""


# --------------------------------------------------------------------------- solving one case (the seam)


def _trace(overrides: Sequence[str]) -> None:
    target = os.environ.get(TRACE_ENV)
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(f"{case_id(overrides)} {os.getpid()}\n")


#: Built models, re-used by cases that differ only in numbers (see ModelCache): one cache per
#: thread, since a Dask worker may run several cases at once in threads of one process, and two
#: cases must never push their numbers into the same model.
_LOCAL = threading.local()


def worker_models() -> ModelCache:
    """The model cache of the calling thread."""
    cache = getattr(_LOCAL, "models", None)
    if cache is None:
        cache = _LOCAL.models = ModelCache()
    return cache


def case_solve_options(scenario: Any, options: Mapping[str, Any]) -> SolveOptions:
    """The HiGHS options of a case: the scenario's, with the sweep's ``options`` on top."""
    solve_options = SolveOptions.from_scenario(
        scenario,
        time_limit_s=options.get("time_limit_s"),
        mip_gap=options.get("mip_gap"),
        threads=int(options.get("threads", 1)),
    )
    return dataclasses.replace(
        solve_options, concurrent_dive=bool(options.get("concurrent_dive", solve_options.concurrent_dive))
    )


def _run_info(run: PlanRun, loaded: float) -> dict[str, Any]:
    """The info of a finished solve (without ``wall_time_s``)."""
    outcome = run.outcome
    info = no_plan_info(outcome.status, "\n".join(outcome.diagnosis))
    info["termination"] = outcome.termination
    info["relaxation_warm"] = outcome.relaxation_warm
    info["timings"] = {"load_scenario": round(loaded, 4)} | {k: round(float(v), 4) for k, v in run.timings.items()}
    if run.dataset is not None:
        info["objective_cny"] = float(run.dataset.attrs["objective_cny"])
        info["bound_cny"] = float(run.dataset.attrs["bound_cny"])
        info["mip_gap"] = float(run.dataset.attrs["mip_gap"])
        if outcome.status != Status.OPTIMAL:
            info["message"] = f"stopped ({outcome.termination}) with a plan at a MIP gap of {info['mip_gap']:.2%}"
    return info


def solve_case(
    base_path: str,
    overrides: list[str],
    options: dict[str, Any],
    warm_basis: Basis | None = None,
    basis_only: bool = False,
    plan_start: PlanStart | None = None,
    give_plan: bool = False,
) -> tuple[dict[str, Any], xr.Dataset | None]:
    """Solve one case of a sweep: the base scenario with ``overrides``. Runs in a worker process.

    This is the single seam of the sweep engine: local processes and Dask workers call it, and
    nothing else solves a case. A faster path (one built model per worker process, the numbers of
    each case pushed into it) belongs behind it, with the same arguments and results.

    Parameters
    ----------
    base_path : str
        The base scenario file (absolute, or relative to the worker's working directory).
    overrides : list of str
        ``a.b.c=value`` overrides, applied in order (the sweep's ``set`` list, then the case's values).
    options : dict
        ``time_limit_s`` and ``mip_gap`` (None: the scenario's), ``threads``, ``concurrent_dive``,
        ``shadow_prices``.
    warm_basis : planner.solver.dive.Basis, optional
        Start the LP relaxation from this basis (the case's anchor's, :func:`planner.studies.sweep.run.warm_starts`).
    basis_only : bool
        Only solve the case's LP relaxation (from ``warm_basis`` when given) and return its optimal
        basis in ``info["relaxation_basis"]`` (None if it has none), with no plan: the warm start of
        the cases anchored at it.
    plan_start : planner.solver.dive.PlanStart, optional
        The plan of the case's anchor, tried before the rounding dive (:func:`planner.studies.sweep.run.plan_starts`).
    give_plan : bool
        Return the case's own plan in ``info["plan_start"]`` (a :class:`~planner.solver.dive.PlanStart`,
        its basis as arrays; absent without a plan): an anchor's, for the cases moved from it.

    Returns
    -------
    info : dict
        ``status`` (a :class:`planner.solver.status.Status`: optimal, time_limit, infeasible,
        unbounded, error), ``termination``, ``objective_cny``, ``bound_cny``, ``mip_gap`` (NaN
        without a plan), ``message`` (why there is no plan, or a note), ``timings`` (seconds per
        stage), ``wall_time_s``.
    plan : xarray.Dataset or None
        The plan's results Dataset (:func:`planner.results.dataset.to_dataset`), or None without a
        plan. It travels back pickled (process pool, Dask) and the sweep's own process saves it, so
        workers never write to the results folder and the parent keeps it for stacking without
        re-reading it.
    """
    t0 = time.perf_counter()
    if not basis_only:
        _trace(overrides)
    plan: xr.Dataset | None = None
    try:
        scenario = load_scenario(base_path, overrides)
        loaded = time.perf_counter() - t0
        solve_options = case_solve_options(scenario, options)
        if basis_only:
            basis = relaxation_basis(scenario, solve_options, cache=worker_models(), start=warm_basis)
            status = Status.OPTIMAL if basis is not None else Status.ERROR
            info = {**no_plan_info(status, "" if basis is not None else "the LP relaxation has no optimal basis")}
            info.update(relaxation_basis=basis, wall_time_s=time.perf_counter() - t0)
            return info, None
        run = plan_scenario(
            scenario,
            solve_options,
            shadow_prices=bool(options.get("shadow_prices", True)),
            timings={"load": loaded},
            cache=worker_models(),
            warm_basis=warm_basis,
            plan_start=plan_start,
            load_plan=False,  # only the Dataset is kept
        )
    except ScenarioError as exc:
        info = no_plan_info(Status.ERROR, str(exc))
    except Exception as exc:  # noqa: BLE001 - a failing case is recorded, it does not stop the sweep
        info = no_plan_info(Status.ERROR, exception_text(exc))
    else:
        info = _run_info(run, loaded)
        if run.dataset is not None:
            plan = record_overrides(run.dataset, overrides)
            x, basis = run.outcome.x, run.outcome.plan_basis
            if give_plan and x is not None and basis is not None:
                duals = run.outcome.relaxation_duals
                info["plan_start"] = PlanStart(np.asarray(x, dtype=float), basis_arrays(basis), duals)
    info["wall_time_s"] = time.perf_counter() - t0
    return info, plan


def exception_text(exc: BaseException) -> str:
    """An exception as a short message: its type and text, then the last lines of its traceback."""
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    tail = "".join(lines[-3:]).strip()
    return f"{type(exc).__name__}: {exc}\n{tail}"


# --------------------------------------------------------------------------- executors


def _future_outcome(case: Case, future: Any) -> Outcome:
    try:
        info, plan = future.result()
    except Exception as exc:  # noqa: BLE001 - a lost worker is an error of this case, not of the sweep
        return (
            case,
            {**no_plan_info(Status.ERROR, f"the worker failed: {exception_text(exc)}"), "wall_time_s": math.nan},
            None,
        )
    return case, info, plan


def _run_inline(
    jobs: Sequence[Case], base: str, options: dict[str, Any], args: CaseArgs, task: Task
) -> Generator[Outcome, None, None]:
    for case in jobs:
        info, plan = task(base, list(case.overrides), options, **args.get(case.id, {}))
        yield case, info, plan


def _mp_context() -> Any:
    """A forkserver context that imports the planner once (spawn where there is no forkserver)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["planner.pipeline", "planner.studies.sweep"])
        return ctx
    return multiprocessing.get_context("spawn")


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the sweep's process, which stops them (no traceback from each worker)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_processes(
    jobs: Sequence[Case], base: str, options: dict[str, Any], args: CaseArgs, workers: int, task: Task
) -> Generator[Outcome, None, None]:
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context(), initializer=_ignore_interrupts)
    finished = False
    try:
        futures: dict[Future[Any], Case] = {
            pool.submit(task, base, list(case.overrides), options, **args.get(case.id, {})): case for case in jobs
        }
        for future in as_completed(futures):
            yield _future_outcome(futures[future], future)
        finished = True
    finally:
        # taken before shutdown, which forgets them (``_processes = None``) without stopping them
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=finished, cancel_futures=True)
        if not finished:  # interrupted: do not leave workers solving cases nobody will save
            for process in processes:
                with contextlib.suppress(Exception):
                    process.terminate()


def _run_dask(
    jobs: Sequence[Case], base: str, options: dict[str, Any], args: CaseArgs, scheduler: Any, task: Task
) -> Generator[Outcome, None, None]:
    # Deferred on purpose: ``distributed`` (Dask) is an optional, heavy dependency, needed only
    # when a sweep is sent to a cluster; local sweeps must neither require nor pay for it.
    from distributed import Client
    from distributed import as_completed as dask_completed

    try:
        client = Client(scheduler, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise SweepError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
    futures: dict[Any, Case] = {}
    try:
        for case in jobs:
            key = f"planner-{task.__name__}-{case.id}-{os.urandom(4).hex()}"
            future = client.submit(
                task, base, list(case.overrides), options, **args.get(case.id, {}), key=key, pure=False, retries=0
            )
            futures[future] = case
        for future in dask_completed(list(futures), loop=client.loop):
            outcome = _future_outcome(futures[future], future)
            future.release()
            yield outcome
    finally:
        with contextlib.suppress(Exception):
            client.cancel([f for f in futures if not f.done()])
        client.close()


def default_workers() -> int:
    """Local worker processes when none are asked for: the machine's cores."""
    return max(1, os.cpu_count() or 1)


def executor(
    jobs: Sequence[Case],
    base: str,
    options: dict[str, Any],
    args: CaseArgs,
    workers: int | None,
    scheduler: Any,
    task: Task | None = None,
) -> Generator[Outcome, None, None]:
    """The cases' outcomes as they finish: on the Dask cluster, on worker processes, or here (one worker).

    Each job runs ``task`` (default :func:`solve_case`, looked up when called, so that a test may
    replace the seam); it must be a module-level function, to reach worker processes.
    """
    task = task or solve_case
    if scheduler is not None:
        return _run_dask(jobs, base, options, args, scheduler, task)
    n = min(workers or default_workers(), len(jobs))
    if n == 1:
        return _run_inline(jobs, base, options, args, task)
    return _run_processes(jobs, base, options, args, n, task)


def where(jobs: Sequence[Case], workers: int | None, scheduler: Any) -> str:
    """Where :func:`executor` runs ``jobs``, in words (rich markup)."""
    if scheduler is not None:
        address = scheduler if isinstance(scheduler, str) else getattr(scheduler, "scheduler_address", "a cluster")
        return f"on the Dask cluster at {escape(str(address))}"
    n = min(workers or default_workers(), len(jobs))
    return "in this process" if n == 1 else f"on {n} worker processes"
