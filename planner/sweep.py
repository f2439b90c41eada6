"""Sensitivity sweeps: expand a sweep file into cases, solve them side by side, stack the results.

    spec = load_sweep("inputs/sweeps/pue_x_price.yaml")
    ds = run_sweep(spec, workers=2)                      # or scheduler="tcp://10.0.0.5:8786"
    summary_table(ds)                                     # one row per case, as a DataFrame

**Cases and ids.** :func:`expand` turns the ``grid`` into every combination (in the file's order,
the last path varying fastest) and the ``one_at_a_time`` block into a ``<path>=low`` and a
``<path>=high`` case per path plus one ``base`` case. A case is the list of ``--set`` overrides
applied to the base scenario: the sweep's ``set`` list, then its own values. Its id is the first
10 hex digits of the SHA-256 of those overrides, sorted and joined by newlines, each written as
``path=<YAML text of the value>`` (:func:`case_id`): the same case has the same id in every run, on
every machine, whatever else the sweep holds; two cases that apply the same overrides share an id
and are solved once.

**Validation.** :func:`validate_cases` loads the base and every case through the scenario loader
before anything is solved, and reports every problem at once with its place in the sweep file
(``grid.policy.pue_mx: unknown key 'pue_mx'; did you mean 'pue_max'?``).

**Parts and resume.** Each case is saved the moment it finishes, in ``<results_dir>/<name>/``
(default ``results/sweeps/<name>/``): its plan as ``<id>.nc`` (the plan's own Dataset, readable by
every tool that reads a plan), then its record ``<id>.json`` (overrides, status, objective, bound,
gap, message, timings and the *fingerprint* of its inputs: the resolved scenario with its profile
file, the solver options and the planner version). Both are written atomically (a temp file in
the same folder, then ``os.replace``), the record last: a case is saved exactly when its record
is. Workers (local or remote) return the plan to the process that runs the sweep, which writes
it, so workers never touch the results folder. With ``resume`` (the default) a case is solved
again only if its record is missing, was written for other inputs (a changed base file, time
limit, ...) or recorded an ``error`` (an exception, a lost worker: possibly transient);
infeasible and time-limited cases are final. A sweep killed at any moment leaves complete files
only (plus, at worst, hidden temp files named by :mod:`planner.atomic`, removed by the next run),
and the next run gives the same combined result as an uninterrupted one. A lock file (``.lock``,
empty, held with ``flock`` and so released by the OS when its process dies) keeps two runs of the
same sweep from writing at once; the combined file is written while it is held.

**The combined Dataset** (``<results_dir>/<name>.nc``, or ``output``), one file for both blocks:

* grid cases: every plan variable with one leading dim per swept path (named by the path, e.g.
  ``policy.pue_max.2030``, coordinates the values in the file's order), then the plan's own dims;
  per case ``case_id``, ``status``, ``termination``, ``objective`` [CNY], ``bound`` [CNY],
  ``mip_gap``, ``message`` and ``wall_time_s``;
* one-at-a-time cases: the same variables prefixed ``oat_`` over the dim ``case``
  (``"base"``, ``"<path>=low"``, ``"<path>=high"``) with the coordinates ``case_parameter``,
  ``case_side`` and ``case_value``;
* a case without a plan has NaN (numbers) or ``""`` (text) in the plan variables;
* attrs: the sweep's name, its file as YAML, the grid dims and one-at-a-time paths (JSON), counts;
  what it was made from: ``sweep_source``, ``input_hash`` (:func:`sweep_input_hash`), ``input_files``
  (the sweep file, the base scenario, the files it extends and its profiles, each with its SHA-256;
  ``plan validate`` checks them),
  ``solver_options`` (every case's) and ``package_versions``.

Only ``wall_time_s``/``oat_wall_time_s`` (:data:`TIMING_VARS`) differ between two runs of the
same sweep; everything else is identical whether it ran at once, resumed, on local processes or on
a Dask cluster (HiGHS runs with one thread and a fixed seed).

**Executors.** Local worker processes (``workers``, default the machine's cores; a
``forkserver`` pool that imports the planner once; with ``workers=1`` the cases run in this
process), or an existing Dask distributed cluster (``scheduler``: its address), which receives the
same function. The base scenario and its profile file are read by path in the workers: a remote
cluster needs them at the same path (a shared file system).

**The seam.** :func:`solve_case` is the one function that solves one case. Each worker (each
thread of a worker process) keeps its built models in a :class:`planner.pipeline.ModelCache`: a
case that differs from an earlier one only in numbers (prices, demand, caps, policy limits)
updates that model's parameters instead of rebuilding it (:mod:`planner.model.update`) and
patches its compiled matrices where those numbers reach (:mod:`planner.recompile`); the matrices
are the same as a fresh build's, bit for bit, so the results are too.

**One core per case, warm starts.** A case solves on one core: the LP relaxation and the
rounding dive first, then HiGHS's MIP only if the dive's plan is not already within the gap of
the relaxation (:mod:`planner.dive`; at the example sweeps' 1 % it rarely is needed). Before the
cases, the LP relaxation of the first case of each model structure is solved from scratch and
its optimal basis saved as ``<id>.basis.npz`` beside the parts; every case of that structure
starts its relaxation from it (4-9 s instead of about 36 s on the default). The basis depends
only on the sweep's inputs (it is part of each case's fingerprint), so warm starts never make a
result depend on the worker count or the order cases finish in.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import itertools
import json
import math
import multiprocessing
import os
import threading
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd
import xarray as xr
import yaml

from planner import __version__
from planner.atomic import write_bytes
from planner.dive import Basis
from planner.model.size import check_size
from planner.model.update import structure_key
from planner.pipeline import ModelCache
from planner.results import input_files, installed_versions, record_overrides, write_dataset
from planner.scenario import Problem, ScenarioError, input_hash, load_scenario
from planner.scenario.errors import shown
from planner.scenario.sweep import Sweep, coordinate_values, load_sweep, override_text, value_text
from planner.solve import SolveOptions

__all__ = [
    "Case",
    "DEFAULT_RESULTS_DIR",
    "SweepError",
    "TIMING_VARS",
    "TRACE_ENV",
    "case_id",
    "case_options",
    "expand",
    "load_sweep",
    "parts_dir",
    "print_summary",
    "read_parts",
    "run_sweep",
    "solve_case",
    "stack",
    "summary_table",
    "sweep_input_hash",
    "validate_cases",
]

DEFAULT_RESULTS_DIR = Path("results") / "sweeps"
TIMING_VARS = ("wall_time_s", "oat_wall_time_s")
"""Variables of the combined Dataset that hold run times (the only ones that differ between runs)."""
TRACE_ENV = "PLANNER_SWEEP_TRACE"
"""If set, :func:`solve_case` appends ``<case id> <pid>`` to this file each time it starts a case."""
ID_LENGTH = 10
MAX_PROBLEMS = 100
FINAL_STATUSES = ("optimal", "time_limit", "infeasible", "unbounded")


class SweepError(RuntimeError):
    """A sweep could not run (e.g. another run of the same sweep holds its results folder)."""


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """One scenario of a sweep: the base with some overrides."""

    id: str
    """Short hash of the sorted overrides (see :func:`case_id`)."""
    kind: str
    """``grid`` or ``oat`` (one at a time)."""
    params: tuple[tuple[str, Any], ...]
    """The case's own (path, value) pairs: the swept values it takes."""
    overrides: tuple[str, ...]
    """Everything applied to the base, in order: the sweep's ``set`` list, then the case's values."""
    label: str
    """``path=value, ...`` for a grid case; ``<path>=low``, ``<path>=high`` or ``base`` for a tornado case."""
    coords: tuple[tuple[str, Any], ...]
    """Coordinates in the combined Dataset: (swept path, value label) per path, or (``case``, label)."""
    index: tuple[int, ...] = ()
    """Grid cases: the position of each value in its list."""
    side: str = ""
    """Tornado cases: ``low``, ``high`` or ``base``."""

    @property
    def coordinates(self) -> dict[str, Any]:
        """The case's coordinates as a dict."""
        return dict(self.coords)


def case_id(overrides: Sequence[str]) -> str:
    """The id of the case that applies ``overrides`` to the base: 10 hex digits of SHA-256 of them, sorted.

    >>> case_id(["policy.pue_max=1.2", "power.grid.tariff.scale=0.8"])
    '74bfa7d90e'
    """
    text = "\n".join(sorted(str(o) for o in overrides))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:ID_LENGTH]


def expand(spec: Sweep) -> list[Case]:
    """Every case of a sweep, grid cases first (the last grid path varying fastest), then the tornado.

    The tornado block gives ``base`` first, then ``<path>=low`` and ``<path>=high`` per path.
    """
    cases: list[Case] = []
    if spec.grid:
        paths = list(spec.grid)
        labels = {p: coordinate_values(list(v)) for p, v in spec.grid.items()}
        for index in itertools.product(*(range(len(spec.grid[p])) for p in paths)):
            params = tuple((p, spec.grid[p][i]) for p, i in zip(paths, index, strict=True))
            overrides = (*spec.set, *(override_text(p, v) for p, v in params))
            cases.append(
                Case(
                    id=case_id(overrides),
                    kind="grid",
                    params=params,
                    overrides=overrides,
                    label=", ".join(f"{p}={value_text(v)}" for p, v in params),
                    coords=tuple((p, labels[p][i]) for p, i in zip(paths, index, strict=True)),
                    index=index,
                )
            )
    if spec.one_at_a_time:
        base = tuple(spec.set)
        cases.append(Case(case_id(base), "oat", (), base, "base", (("case", "base"),), side="base"))
        for p, (low, high) in spec.one_at_a_time.items():
            for side, value in (("low", low), ("high", high)):
                overrides = (*spec.set, override_text(p, value))
                label = f"{p}={side}"
                cases.append(
                    Case(case_id(overrides), "oat", ((p, value),), overrides, label, (("case", label),), side=side)
                )
    by_id: dict[str, tuple[str, ...]] = {}
    for case in cases:
        other = by_id.setdefault(case.id, tuple(sorted(case.overrides)))
        if other != tuple(sorted(case.overrides)):  # pragma: no cover - a 40-bit collision
            raise SweepError(f"two different cases share the id {case.id}; rename a value")
    return cases


def case_options(spec: Sweep, time_limit: float | None = None, mip_gap: float | None = None) -> dict[str, Any]:
    """The solver options every case gets (``None``: the scenario's own).

    One core per case: HiGHS on one thread, and the rounding dive before it on the same core
    (``concurrent_dive`` False), which also skips the MIP when the dive's plan is within the gap.
    A case's result thus never depends on the number of workers beside it. ``warm_start``: the
    LP relaxation of each case starts from that of the first case of the same model structure
    (see :func:`run_sweep`).
    """
    return {
        "time_limit_s": float(time_limit) if time_limit is not None else spec.solver.time_limit_s,
        "mip_gap": float(mip_gap) if mip_gap is not None else spec.solver.mip_gap,
        "threads": 1,
        "concurrent_dive": False,
        "warm_start": True,
        "shadow_prices": bool(spec.shadow_prices),
    }


def fingerprint(scenario: Any, options: Mapping[str, Any]) -> str:
    """What a case's result depends on: the resolved scenario and its profiles, the options, the planner."""
    text = json.dumps(
        {"inputs": input_hash(scenario), "options": dict(options), "planner": __version__}, sort_keys=True
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# --------------------------------------------------------------------------- validation


def _load_problems(base: Path, overrides: Sequence[str]) -> list[Problem]:
    try:
        load_scenario(base, overrides)
    except ScenarioError as exc:
        return exc.problems
    return []


def _problem_text(problem: Problem, path: str) -> str:
    """A scenario problem about an override of ``path``, without repeating the path."""
    where = problem.path.removeprefix("--set ").strip()
    return problem.message if where in ("", path) else f"{where}: {problem.message}"


def _value_problems(where: str, path: str, names: list[str], found: list[list[Problem]]) -> list[Problem]:
    """Problems of each value of one swept path; said once if every value has the same ones."""
    texts = [[_problem_text(p, path) for p in problems] for problems in found]
    if len(texts) > 1 and all(texts) and all(sorted(t) == sorted(texts[0]) for t in texts):
        return [Problem(where, t) for t in texts[0]]
    return [Problem(where, f"{name}: {t}") for name, ts in zip(names, texts, strict=True) for t in ts]


def _raise(problems: list[Problem], source: str) -> NoReturn:
    unique = list(dict.fromkeys(problems))
    if len(unique) > MAX_PROBLEMS:
        more = len(unique) - MAX_PROBLEMS
        unique = [*unique[:MAX_PROBLEMS], Problem("", f"... and {more} more problems")]
    raise ScenarioError(unique, source)


def validate_cases(
    spec: Sweep,
    cases: Sequence[Case] | None = None,
    options: Mapping[str, Any] | None = None,
    structures: dict[str, str] | None = None,
) -> dict[str, str]:
    """Load the base and every case through the scenario loader, without solving anything.

    The base file is loaded first, then every case. If a case fails, the problems are traced to
    their place in the sweep file: each ``set`` item alone and all together, then each swept value
    alone on top of ``set`` (``grid.policy.pue_max: value 0.9 (item 1): must be >= 1``); problems
    that only a combination of values has (cross-field rules) are reported with the case's label.

    If ``structures`` is given, it is filled with case id -> the structure of its model
    (:func:`planner.model.update.structure_key`): cases with the same structure share a model.

    Returns
    -------
    dict
        Case id -> fingerprint of its inputs (see :func:`fingerprint`).

    Raises
    ------
    ScenarioError
        Every problem found, each with its place in the sweep file.
    """
    cases = list(cases) if cases is not None else expand(spec)
    options = dict(options) if options is not None else case_options(spec)
    source = str(spec.source or spec.base)
    base = Path(spec.base)
    problems = [Problem("base", f"{base}: {p}") for p in _load_problems(base, [])]
    if problems:
        _raise(problems, source)
    fingerprints: dict[str, str] = {}
    case_problems: list[Problem] = []
    for case in cases:
        if case.id in fingerprints:
            continue
        try:
            scenario = load_scenario(base, case.overrides)
            check_size(scenario, source)  # a case too large to build is refused before any solve
        except ScenarioError as exc:
            section = "grid" if case.kind == "grid" else "one_at_a_time"
            where = f"{section} case {case.label}"
            case_problems += [Problem(where, str(p).removeprefix("--set ")) for p in exc.problems]
            continue
        fingerprints[case.id] = fingerprint(scenario, options)
        if structures is not None:
            structures[case.id] = structure_key(scenario)
    if not case_problems:
        return fingerprints
    for i, text in enumerate(spec.set):
        problems += [Problem(f"set[{i}]", str(p).removeprefix("--set ")) for p in _load_problems(base, [text])]
    if not problems and len(spec.set) > 1:
        problems += [Problem("set", str(p).removeprefix("--set ")) for p in _load_problems(base, spec.set)]
    if problems:
        _raise(problems, source)
    for path, values in spec.grid.items():
        names = [f"value {value_text(v)} (item {i})" for i, v in enumerate(values)]
        found = [_load_problems(base, [*spec.set, override_text(path, v)]) for v in values]
        problems += _value_problems(f"grid.{path}", path, names, found)
    for path, (low, high) in spec.one_at_a_time.items():
        names = [f"low value {value_text(low)}", f"high value {value_text(high)}"]
        found = [_load_problems(base, [*spec.set, override_text(path, v)]) for v in (low, high)]
        problems += _value_problems(f"one_at_a_time.{path}", path, names, found)
    _raise(problems or case_problems, source)


# --------------------------------------------------------------------------- solving one case (the seam)


def _trace(overrides: Sequence[str]) -> None:
    target = os.environ.get(TRACE_ENV)
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(f"{case_id(overrides)} {os.getpid()}\n")


def _no_plan_info(status: str, message: str) -> dict[str, Any]:
    return {
        "status": status,
        "termination": "",
        "objective_cny": math.nan,
        "bound_cny": math.nan,
        "mip_gap": math.nan,
        "message": message,
        "timings": {},
    }


#: Built models, re-used by cases that differ only in numbers (see ModelCache): one cache per
#: thread, since a Dask worker may run several cases at once in threads of one process, and two
#: cases must never push their numbers into the same model.
_LOCAL = threading.local()


def _models() -> ModelCache:
    """The model cache of the calling thread."""
    cache = getattr(_LOCAL, "models", None)
    if cache is None:
        cache = _LOCAL.models = ModelCache()
    return cache


def solve_case(
    base_path: str,
    overrides: list[str],
    options: dict[str, Any],
    warm_basis: Basis | None = None,
    basis_only: bool = False,
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
    warm_basis : planner.dive.Basis, optional
        Start the LP relaxation from this basis (the first case of the same structure's).
    basis_only : bool
        Only solve the case's LP relaxation and return its optimal basis in
        ``info["relaxation_basis"]`` (None if it has none), with no plan: the warm start of the
        cases of its structure.

    Returns
    -------
    info : dict
        ``status`` (optimal, time_limit, infeasible, unbounded, error), ``termination``,
        ``objective_cny``, ``bound_cny``, ``mip_gap`` (NaN without a plan), ``message`` (why there is
        no plan, or a note), ``timings`` (seconds per stage), ``wall_time_s``.
    plan : xarray.Dataset or None
        The plan's results Dataset (:func:`planner.results.to_dataset`), or None without a plan. It
        travels back pickled (process pool, Dask) and the sweep's own process saves it, so workers
        never write to the results folder and the parent keeps it for stacking without re-reading it.
    """
    t0 = time.perf_counter()
    if not basis_only:
        _trace(overrides)
    plan: xr.Dataset | None = None
    try:
        from planner.pipeline import plan_scenario, relaxation_basis

        scenario = load_scenario(base_path, overrides)
        loaded = time.perf_counter() - t0
        solve_options = SolveOptions.from_scenario(
            scenario,
            time_limit_s=options.get("time_limit_s"),
            mip_gap=options.get("mip_gap"),
            threads=int(options.get("threads", 1)),
        )
        solve_options = dataclasses.replace(
            solve_options, concurrent_dive=bool(options.get("concurrent_dive", solve_options.concurrent_dive))
        )
        if basis_only:
            basis = relaxation_basis(scenario, solve_options, cache=_models())
            status = "optimal" if basis is not None else "error"
            info = {**_no_plan_info(status, "" if basis is not None else "the LP relaxation has no optimal basis")}
            info.update(relaxation_basis=basis, wall_time_s=time.perf_counter() - t0)
            return info, None
        run = plan_scenario(
            scenario,
            solve_options,
            shadow_prices=bool(options.get("shadow_prices", True)),
            timings={"load": loaded},
            cache=_models(),
            warm_basis=warm_basis,
        )
    except ScenarioError as exc:
        info = _no_plan_info("error", str(exc))
    except Exception as exc:  # noqa: BLE001 - a failing case is recorded, it does not stop the sweep
        info = _no_plan_info("error", _exception_text(exc))
    else:
        outcome = run.outcome
        info = _no_plan_info(outcome.status, "\n".join(outcome.diagnosis))
        info["termination"] = outcome.termination
        info["relaxation_warm"] = outcome.relaxation_warm
        info["timings"] = {"load_scenario": round(loaded, 4)} | {k: round(float(v), 4) for k, v in run.timings.items()}
        if run.dataset is not None:
            info["objective_cny"] = float(run.dataset.attrs["objective_cny"])
            info["bound_cny"] = float(run.dataset.attrs["bound_cny"])
            info["mip_gap"] = float(run.dataset.attrs["mip_gap"])
            if outcome.status != "optimal":
                info["message"] = f"stopped ({outcome.termination}) with a plan at a MIP gap of {info['mip_gap']:.2%}"
            plan = record_overrides(run.dataset, overrides)
    info["wall_time_s"] = time.perf_counter() - t0
    return info, plan


def _exception_text(exc: BaseException) -> str:
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    tail = "".join(lines[-3:]).strip()
    return f"{type(exc).__name__}: {exc}\n{tail}"


# --------------------------------------------------------------------------- executors

Outcome = tuple[Case, dict[str, Any], xr.Dataset | None]

#: Case id -> extra keyword arguments of :func:`solve_case` (warm start, basis only).
CaseArgs = Mapping[str, Mapping[str, Any]]


def _future_outcome(case: Case, future: Any) -> Outcome:
    try:
        info, plan = future.result()
    except Exception as exc:  # noqa: BLE001 - a lost worker is an error of this case, not of the sweep
        return (
            case,
            {**_no_plan_info("error", f"the worker failed: {_exception_text(exc)}"), "wall_time_s": math.nan},
            None,
        )
    return case, info, plan


def _run_inline(jobs: Sequence[Case], base: str, options: dict[str, Any], args: CaseArgs) -> Iterator[Outcome]:
    for case in jobs:
        info, plan = solve_case(base, list(case.overrides), options, **args.get(case.id, {}))
        yield case, info, plan


def _mp_context() -> Any:
    """A forkserver context that imports the planner once (spawn where there is no forkserver)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["planner.pipeline", "planner.sweep"])
        return ctx
    return multiprocessing.get_context("spawn")


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the sweep's process, which stops them (no traceback from each worker)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_processes(
    jobs: Sequence[Case], base: str, options: dict[str, Any], args: CaseArgs, workers: int
) -> Iterator[Outcome]:
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context(), initializer=_ignore_interrupts)
    finished = False
    try:
        futures: dict[Future[Any], Case] = {
            pool.submit(solve_case, base, list(case.overrides), options, **args.get(case.id, {})): case for case in jobs
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
    jobs: Sequence[Case], base: str, options: dict[str, Any], args: CaseArgs, scheduler: Any
) -> Iterator[Outcome]:
    from distributed import Client
    from distributed import as_completed as dask_completed

    try:
        client = Client(scheduler, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise SweepError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
    futures: dict[Any, Case] = {}
    try:
        for case in jobs:
            key = f"planner-solve_case-{case.id}-{os.urandom(4).hex()}"
            future = client.submit(
                solve_case, base, list(case.overrides), options, **args.get(case.id, {}), key=key, pure=False, retries=0
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


def _executor(
    jobs: Sequence[Case], base: str, options: dict[str, Any], args: CaseArgs, workers: int | None, scheduler: Any
) -> Iterator[Outcome]:
    """The cases' outcomes as they finish: on the Dask cluster, on worker processes, or here (one worker)."""
    if scheduler is not None:
        return _run_dask(jobs, base, options, args, scheduler)
    n = min(workers or _default_workers(), len(jobs))
    return _run_inline(jobs, base, options, args) if n == 1 else _run_processes(jobs, base, options, args, n)


def _default_workers() -> int:
    return max(1, os.cpu_count() or 1)


# --------------------------------------------------------------------------- parts


def parts_dir(spec: Sweep, results_dir: str | Path = DEFAULT_RESULTS_DIR) -> Path:
    """The folder of a sweep's per-case files: ``<results_dir>/<name>/``."""
    return Path(results_dir) / spec.name


def _plan_path(folder: Path, cid: str) -> Path:
    return folder / f"{cid}.nc"


def _record_path(folder: Path, cid: str) -> Path:
    return folder / f"{cid}.json"


def _basis_path(folder: Path, cid: str) -> Path:
    return folder / f"{cid}.basis.npz"


def _write_basis(folder: Path, cid: str, basis: Basis) -> None:
    """Save the LP relaxation basis of a structure's first case (the warm start of the others)."""
    import io

    buffer = io.BytesIO()
    np.savez(buffer, cols=basis[0], rows=basis[1])
    _atomic_write(_basis_path(folder, cid), buffer.getvalue())


def _read_basis(folder: Path, cid: str) -> Basis | None:
    try:
        with np.load(_basis_path(folder, cid)) as data:
            return np.asarray(data["cols"], dtype=np.int8), np.asarray(data["rows"], dtype=np.int8)
    except (OSError, KeyError, ValueError):
        return None


def warm_fingerprint(own: str, first: str) -> str:
    """Fingerprint of a case warm-started from the first case of its structure: its result depends on both."""
    return hashlib.sha256(f"{own} warm from {first}".encode()).hexdigest()


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    return value


def _atomic_write(path: Path, data: bytes) -> None:
    """Write bytes to ``path`` atomically (:func:`planner.atomic.write_bytes`: temp file, flushed, renamed)."""
    write_bytes(path, data)


def _write_part(folder: Path, case: Case, fp: str, info: Mapping[str, Any], plan: xr.Dataset | None) -> None:
    """Save one finished case: its plan as ``<id>.nc``, then its record ``<id>.json``, each atomically.

    The record is written last and names the fingerprint, so a case counts as done only once both
    files are complete; a stale plan of a case that now has none is removed after its record.
    """
    if plan is not None:
        write_dataset(plan, _plan_path(folder, case.id))
    record = {
        "id": case.id,
        "label": case.label,
        "overrides": list(case.overrides),
        "fingerprint": fp,
        "has_plan": plan is not None,
        **{k: info.get(k) for k in ("status", "termination", "objective_cny", "bound_cny", "mip_gap", "message")},
        "relaxation_warm": bool(info.get("relaxation_warm", False)),
        "wall_time_s": info.get("wall_time_s"),
        "timings": dict(info.get("timings") or {}),
        "planner_version": __version__,
    }
    text = json.dumps(_json_safe(record), indent=1, ensure_ascii=False, allow_nan=False)
    _atomic_write(_record_path(folder, case.id), text.encode("utf-8"))
    if plan is None:
        with contextlib.suppress(FileNotFoundError):
            _plan_path(folder, case.id).unlink()


def _read_record(folder: Path, cid: str) -> dict[str, Any] | None:
    """The record of a saved case, or None if it is missing, unreadable or its plan file is gone."""
    try:
        record = json.loads(_record_path(folder, cid).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or (record.get("has_plan") and not _plan_path(folder, cid).is_file()):
        return None
    return record


def _is_done(record: Mapping[str, Any] | None, fp: str) -> bool:
    return record is not None and record.get("fingerprint") == fp and record.get("status") in FINAL_STATUSES


def _info_from_record(record: Mapping[str, Any]) -> dict[str, Any]:
    def number(key: str) -> float:
        value = record.get(key)
        return math.nan if value is None else float(value)

    return {
        "status": str(record.get("status") or "error"),
        "termination": str(record.get("termination") or ""),
        "objective_cny": number("objective_cny"),
        "bound_cny": number("bound_cny"),
        "mip_gap": number("mip_gap"),
        "message": str(record.get("message") or ""),
        "wall_time_s": number("wall_time_s"),
    }


def read_parts(
    folder: Path, cases: Sequence[Case], fresh: Mapping[str, tuple[dict[str, Any], xr.Dataset | None]] | None = None
) -> dict[str, tuple[dict[str, Any], xr.Dataset | None]]:
    """The saved result of every case: case id -> (info, plan Dataset or None).

    ``fresh`` holds the cases solved in this run (saved already), which are not read back.
    """
    from planner.results import read_dataset

    out: dict[str, tuple[dict[str, Any], xr.Dataset | None]] = dict(fresh or {})
    for case in cases:
        if case.id in out:
            continue
        record = _read_record(folder, case.id)
        if record is None:
            out[case.id] = (_no_plan_info("error", "not solved"), None)
            continue
        plan = read_dataset(_plan_path(folder, case.id)) if record.get("has_plan") else None
        out[case.id] = (_info_from_record(record), plan)
    return out


@contextlib.contextmanager
def _lock(folder: Path) -> Iterator[None]:
    """Hold the sweep's lock file for the run (released by the OS if the process dies)."""
    import fcntl

    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a+") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise SweepError(f"another run of this sweep is writing to {folder}; wait for it or stop it") from None
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _remove_temps(folder: Path) -> None:
    """Remove temp files a killed run left behind (only ever ours: the folder is locked)."""
    for tmp in folder.glob(".*.tmp"):
        with contextlib.suppress(OSError):
            tmp.unlink()


# --------------------------------------------------------------------------- progress


class _Progress:
    """A rich progress bar (done, failed, ETA) on a terminal; one line per finished case elsewhere."""

    def __init__(self, console: Any, enabled: bool, total: int) -> None:
        self.console = console
        self.enabled = enabled and total > 0
        self.total = total
        self.done = 0
        self.failed = 0
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> _Progress:
        if self.enabled and self.console.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("solving"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("[red]{task.fields[failed]} failed"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task("solving", total=self.total, failed=0)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def advance(self, case: Case, info: Mapping[str, Any]) -> None:
        from rich.markup import escape

        self.done += 1
        no_plan = not math.isfinite(float(info.get("objective_cny", math.nan)))
        self.failed += no_plan
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(self._task, advance=1, failed=self.failed)
            if no_plan:
                gist = _gist(str(info.get("message", "")))
                self.console.print(
                    f"[red]{escape(case.id)} {escape(str(info['status']))}[/] {escape(case.label)}"
                    + (f": {escape(gist)}" if gist else "")
                )
            return
        npv = _money(float(info.get("objective_cny", math.nan)))
        wall = float(info.get("wall_time_s", math.nan))
        self.console.print(
            f"[{self.done}/{self.total}] {case.id} {escape(str(info['status'])):<10} {npv:>12} {wall:6.1f} s  "
            f"{escape(case.label)}",
            soft_wrap=True,
        )


# --------------------------------------------------------------------------- running a sweep


def run_sweep(
    spec: Sweep | str | Path,
    *,
    workers: int | None = None,
    scheduler: Any = None,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    resume: bool = True,
    progress: bool = True,
    results_dir: str | Path = DEFAULT_RESULTS_DIR,
    output: str | Path | None = None,
    console: Any = None,
) -> xr.Dataset:
    """Validate, solve and stack every case of a sweep; write the parts and the combined Dataset.

    Parameters
    ----------
    spec : Sweep or path
        The sweep (or its file).
    workers : int, optional
        Local worker processes (default: the machine's cores; 1 runs the cases in this process).
    scheduler : str, optional
        Address of an existing Dask distributed scheduler (or a ``distributed`` cluster object);
        the cases go there instead of local processes.
    time_limit, mip_gap : float, optional
        Override the sweep's (and the scenario's) solver settings for every case [s], [-].
    resume : bool
        Keep the cases already saved for the same inputs; solve only the others.
    progress : bool
        Show a progress bar (a line per case when not on a terminal).
    results_dir : path
        Where parts (``<name>/<id>.nc``) and, by default, the combined file (``<name>.nc``) go.
    output : path, optional
        The combined file (default ``<results_dir>/<name>.nc``).
    console : rich.console.Console, optional
        Where progress goes (default: standard error).

    Returns
    -------
    xarray.Dataset
        The combined results (see the module docstring), as written.

    Raises
    ------
    ScenarioError
        Any problem of the sweep or of one of its cases, before anything is solved.
    SweepError
        Another run of the same sweep is writing its results.
    """
    if workers is not None and scheduler is not None:
        raise ValueError("give either workers (local processes) or scheduler (a Dask cluster), not both")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    spec = spec if isinstance(spec, Sweep) else load_sweep(spec)
    if console is None:
        from rich.console import Console

        console = Console(stderr=True, highlight=False)
    cases = expand(spec)
    options = case_options(spec, time_limit, mip_gap)
    structures: dict[str, str] = {}
    fingerprints = validate_cases(spec, cases, options, structures)
    unique = list({c.id: c for c in cases}.values())
    # Warm starts: the LP relaxation of the first case of each model structure (in the sweep's
    # order) is solved from scratch, its basis saved, and every case of that structure (the
    # first one too) starts from it. A case's result thus depends on the sweep's inputs only,
    # never on which worker ran what, and the bases take one LP each, not a whole solve.
    warm = bool(options.get("warm_start"))
    first: dict[str, Case] = {}
    for case in unique:
        first.setdefault(structures[case.id], case)
    ref_of = {case.id: first[structures[case.id]] for case in unique}
    if warm:
        for case in unique:
            fingerprints[case.id] = warm_fingerprint(fingerprints[case.id], fingerprints[ref_of[case.id].id])
    folder = parts_dir(spec, results_dir)
    out = Path(output) if output is not None else Path(results_dir) / f"{spec.name}.nc"
    base = str(spec.base)
    with _lock(folder):
        _remove_temps(folder)
        jobs = [c for c in unique if not (resume and _is_done(_read_record(folder, c.id), fingerprints[c.id]))]
        bases: dict[str, Basis | None] = {}  # first case id -> the basis its structure starts from
        if warm:
            for ref in {ref_of[c.id].id: ref_of[c.id] for c in jobs}.values():
                bases[ref.id] = _read_basis(folder, ref.id)
        missing = [
            first_case for first_case in first.values() if first_case.id in bases and bases[first_case.id] is None
        ]
        if progress:
            where = _where(jobs, workers, scheduler)
            reused = len(unique) - len(jobs)
            console.print(
                f"sweep [bold]{_esc(spec.name)}[/]: {len(cases)} cases"
                + (f", {reused} reused from {_esc(str(folder))}" if reused else "")
                + (f"; solving {len(jobs)} {where}" if jobs else "; nothing to solve")
                + (f" from {len(missing)} LP relaxation basis(es) solved first" if missing else "")
            )
        if missing:
            args = {c.id: {"basis_only": True} for c in missing}
            stream = _executor(missing, base, options, args, workers, scheduler)
            try:
                for case, info, _ in stream:
                    bases[case.id] = info.get("relaxation_basis")
                    if bases[case.id] is not None:
                        _write_basis(folder, case.id, bases[case.id])
            finally:
                stream.close()
        fresh: dict[str, tuple[dict[str, Any], xr.Dataset | None]] = {}
        if jobs:
            args = {c.id: {"warm_basis": bases.get(ref_of[c.id].id)} for c in jobs}
            stream = _executor(jobs, base, options, args, workers, scheduler)
            with _Progress(console, progress, len(jobs)) as bar:
                try:
                    for case, info, plan in stream:
                        _write_part(folder, case, fingerprints[case.id], info, plan)
                        fresh[case.id] = (info, plan)
                        bar.advance(case, info)
                except KeyboardInterrupt:
                    console.print(
                        f"interrupted: {len(fresh)} of {len(jobs)} cases saved in {_esc(str(folder))};"
                        " run the sweep again to solve the rest"
                    )
                    raise
                finally:
                    stream.close()
        ds = stack(spec, cases, read_parts(folder, cases, fresh))
        ds.attrs.update(_provenance(spec, options))
        write_dataset(ds, out)
    return ds


def _provenance(spec: Sweep, options: Mapping[str, Any]) -> dict[str, Any]:
    """Attrs of the combined file naming what it was made from (checked by ``plan validate``)."""
    files: list[dict[str, str]] = []
    if spec.source is not None:
        sweep_file = Path(spec.source).resolve()
        files.append({"role": "sweep", "path": str(sweep_file), "sha256": _file_sha256(sweep_file)})
    base = load_scenario(spec.base)
    files += input_files(base)
    return {
        "sweep_source": files[0]["path"] if spec.source is not None else "",
        "input_hash": sweep_input_hash(spec, base),
        "input_files": json.dumps(files),
        "solver_options": json.dumps(dict(options), sort_keys=True),
        "package_versions": json.dumps(installed_versions()),
    }


def sweep_input_hash(spec: Sweep, base: Any = None) -> str:
    """SHA-256 (16 hex digits) of a sweep as resolved (its cases) and of its base's :func:`input_hash`."""
    base = base if base is not None else load_scenario(spec.base)
    text = json.dumps({"sweep": spec.model_dump(mode="json"), "base": input_hash(base)}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _file_sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def _where(jobs: Sequence[Case], workers: int | None, scheduler: Any) -> str:
    if scheduler is not None:
        address = scheduler if isinstance(scheduler, str) else getattr(scheduler, "scheduler_address", "a cluster")
        return f"on the Dask cluster at {_esc(str(address))}"
    n = min(workers or _default_workers(), len(jobs))
    return "in this process" if n == 1 else f"on {n} worker processes"


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)


# --------------------------------------------------------------------------- stacking

_INFO_VARS: dict[str, tuple[str, str, str]] = {
    # name: (info key, units, long_name)
    "case_id": ("id", "1", "case id: hash of the case's overrides (its part is <name>/<id>.nc)"),
    "status": ("status", "1", "solver status: optimal, time_limit, infeasible, unbounded or error"),
    "termination": ("termination", "1", "HiGHS model status, verbatim"),
    "objective": ("objective_cny", "CNY", "objective of the plan: NPV of all costs (NaN: no plan)"),
    "bound": ("bound_cny", "CNY", "best proven lower bound of the objective"),
    "mip_gap": ("mip_gap", "1", "relative MIP gap of the plan"),
    "message": ("message", "1", "why the case has no plan, or a note on a non-optimal plan"),
    "wall_time_s": ("wall_time_s", "s", "time to load, build, solve and collect the case"),
}


def _fill(da: xr.DataArray) -> Any:
    if da.dtype.kind in "USO":
        return ""
    if da.dtype.kind == "b":
        return False
    return np.nan


def _stack_group(entries: Sequence[tuple[Case, Mapping[str, Any], xr.Dataset | None]]) -> xr.Dataset:
    """The cases' plans and infos along a new dim ``_case`` (in the order given)."""
    n = len(entries)
    plans = [(i, ds) for i, (_, _, ds) in enumerate(entries) if ds is not None]
    if plans:
        first = plans[0][1]
        fills = {name: _fill(da) for name, da in first.data_vars.items()}
        stacked = xr.concat(
            [ds.drop_attrs(deep=False).drop_encoding() for _, ds in plans],
            dim="_case",
            data_vars="all",
            coords="minimal",
            compat="override",
            join="outer",
            combine_attrs="override",
            fill_value=fills,
        )
        stacked = stacked.assign_coords(_case=[i for i, _ in plans]).reindex(_case=np.arange(n), fill_value=fills)
        stacked = stacked.drop_vars("_case")
    else:
        stacked = xr.Dataset()
    for name, (key, units, long_name) in _INFO_VARS.items():
        if key == "id":
            values: Any = np.array([case.id for case, _, _ in entries], dtype=str)
        elif units == "1" and key != "mip_gap":
            values = np.array([str(info.get(key, "")) for _, info, _ in entries], dtype=str)
        else:
            values = np.array([float(info.get(key, math.nan)) for _, info, _ in entries], dtype=float)
        stacked[name] = xr.DataArray(values, dims=("_case",), attrs={"units": units, "long_name": long_name})
    stacked.attrs = {}
    return stacked


def _grid_dataset(spec: Sweep, group: xr.Dataset) -> xr.Dataset:
    dims = list(spec.grid)
    shape = tuple(len(v) for v in spec.grid.values())
    coords: dict[str, Any] = {d: coordinate_values(list(spec.grid[d])) for d in dims}
    coords.update({str(k): v for k, v in group.coords.items() if "_case" not in v.dims})
    out = xr.Dataset(coords=coords)
    for name, da in group.data_vars.items():
        da = da.transpose("_case", ...)
        values = da.values.reshape(shape + da.shape[1:])
        out[name] = xr.DataArray(values, dims=(*dims, *da.dims[1:]), attrs=da.attrs)
    return out


def _oat_dataset(cases: Sequence[Case], group: xr.Dataset) -> xr.Dataset:
    group = group.rename({"_case": "case"}).rename({name: f"oat_{name}" for name in group.data_vars})
    labels = [c.label for c in cases]
    params = [c.params[0][0] if c.params else "" for c in cases]
    values = [value_text(c.params[0][1]) if c.params else "" for c in cases]
    return group.assign_coords(
        case=(
            "case",
            np.array(labels, dtype=str),
            {"long_name": "one-at-a-time case: base, <path>=low or <path>=high"},
        ),
        case_parameter=("case", np.array(params, dtype=str), {"long_name": "the path varied in the case"}),
        case_side=("case", np.array([c.side for c in cases], dtype=str), {"long_name": "low, high or base"}),
        case_value=("case", np.array(values, dtype=str), {"long_name": "the value the path takes (YAML)"}),
    )


def stack(
    spec: Sweep, cases: Sequence[Case], parts: Mapping[str, tuple[Mapping[str, Any], xr.Dataset | None]]
) -> xr.Dataset:
    """Stack the cases' plans into one Dataset (layout in the module docstring)."""
    grid = [c for c in cases if c.kind == "grid"]
    oat = [c for c in cases if c.kind == "oat"]
    pieces: list[xr.Dataset] = []
    if grid:
        pieces.append(_grid_dataset(spec, _stack_group([(c, *parts[c.id]) for c in grid])))
    if oat:
        pieces.append(_oat_dataset(oat, _stack_group([(c, *parts[c.id]) for c in oat])))
    fills = {name: _fill(da) for piece in pieces for name, da in piece.data_vars.items()}
    ds = xr.merge(pieces, join="outer", compat="no_conflicts", combine_attrs="drop", fill_value=fills)
    unique = {c.id: parts[c.id][0] for c in cases}
    n_no_plan = sum(1 for info in unique.values() if not math.isfinite(float(info.get("objective_cny", math.nan))))
    spec_data = spec.model_dump(mode="json")
    ds.attrs = {
        "title": f"Tianfu planner sweep: {spec.name}",
        "sweep_name": spec.name,
        "sweep_description": spec.description,
        "sweep_base": str(spec.base),
        "sweep_yaml": yaml.safe_dump(spec_data, sort_keys=False, allow_unicode=True),
        "sweep_grid_dims": json.dumps(list(spec.grid)),
        "sweep_oat_parameters": json.dumps(list(spec.one_at_a_time)),
        "sweep_layout": (
            "grid cases: variables over one dim per swept path (sweep_grid_dims) plus the plan's dims; "
            "one-at-a-time cases: the same variables prefixed oat_ over the dim 'case'; "
            "per-case parts in <results_dir>/<sweep_name>/<case_id>.nc"
        ),
        "sweep_cases": len(unique),
        "sweep_cases_without_plan": n_no_plan,
        "planner_version": __version__,
    }
    return ds


# --------------------------------------------------------------------------- summary


def _last_year(ds: xr.Dataset) -> int | None:
    return int(ds["year"].values[-1]) if "year" in ds.coords and ds.sizes.get("year", 0) else None


def summary_table(ds: xr.Dataset) -> pd.DataFrame:
    """One row per case of a combined sweep Dataset: id, coordinates, status, NPV, KPIs of the last year, gap.

    Columns: ``id``, ``kind`` (grid/oat), one column per grid path, ``case`` (tornado label),
    ``status``, ``npv_cny``, ``pue_<year>``, ``green_share_<year>``, ``domestic_share_<year>`` (the
    last planning year), ``mip_gap``, ``message``. Grid rows come first, in the sweep's order.
    """
    dims = json.loads(ds.attrs.get("sweep_grid_dims", "[]"))
    year = _last_year(ds)
    rows: list[dict[str, Any]] = []

    def kpis(sel: xr.Dataset, prefix: str) -> dict[str, Any]:
        row: dict[str, Any] = {
            "status": str(sel[f"{prefix}status"].values),
            "npv_cny": float(sel[f"{prefix}objective"].values),
        }
        for name in ("pue", "green_share", "domestic_share"):
            key = f"{name}_{year}" if year is not None else name
            var = f"{prefix}{name}"
            row[key] = float(sel[var].sel(year=year).values) if var in sel and year is not None else math.nan
        row["mip_gap"] = float(sel[f"{prefix}mip_gap"].values)
        row["message"] = str(sel[f"{prefix}message"].values)
        return row

    if dims and "case_id" in ds:
        for idx in np.ndindex(*(ds.sizes[d] for d in dims)):
            sel = ds.isel(dict(zip(dims, idx, strict=True)))
            coords = {d: sel[d].values.item() for d in dims}
            rows.append({"id": str(sel["case_id"].values), "kind": "grid", **coords, "case": "", **kpis(sel, "")})
    if "oat_case_id" in ds:
        for i in range(ds.sizes["case"]):
            sel = ds.isel(case=i)
            label = str(sel["case"].values)
            rows.append(
                {"id": str(sel["oat_case_id"].values), "kind": "oat", **dict.fromkeys(dims, None), "case": label}
                | kpis(sel, "oat_")
            )
    return pd.DataFrame(rows)


def _money(value: float) -> str:
    if not math.isfinite(value):
        return "-"
    if abs(value) >= 1e9:
        return f"{value / 1e9:,.3f} bn"
    return f"{value / 1e6:,.3f} M"


def _share(value: Any) -> str:
    return "-" if value is None or not math.isfinite(float(value)) else f"{float(value):.1%}"


def print_summary(ds: xr.Dataset, console: Any) -> None:
    """Print the sweep's cases as a table (see :func:`summary_table`), then why cases have no plan."""
    from rich.markup import escape
    from rich.table import Table

    frame = summary_table(ds)
    dims = json.loads(ds.attrs.get("sweep_grid_dims", "[]"))
    year = _last_year(ds)
    table = Table(title=f"sweep {escape(str(ds.attrs.get('sweep_name', '')))}", title_justify="left")
    table.add_column("id")
    for d in dims:
        table.add_column(escape(d), justify="right")
    has_oat = bool(len(frame)) and bool((frame["kind"] == "oat").any())
    if has_oat:
        table.add_column("case")
    table.add_column("status")
    table.add_column("NPV [CNY]", justify="right")
    suffix = f" {year}" if year is not None else ""
    for name in ("PUE", "green", "domestic"):
        table.add_column(f"{name}{suffix}", justify="right")
    table.add_column("gap", justify="right")
    for row in frame.to_dict("records"):
        cells = [row["id"]]
        cells += ["" if _missing(row.get(d)) else escape(_cell(row[d])) for d in dims]
        if has_oat:
            cells.append(escape(row["case"]))
        status = row["status"]
        cells.append(status if status == "optimal" else f"[yellow]{escape(status)}[/]")
        cells.append(_money(row["npv_cny"]))
        key = f"_{year}" if year is not None else ""
        pue = row.get(f"pue{key}", math.nan)
        cells.append("-" if not math.isfinite(pue) else f"{pue:.3f}")
        cells.append(_share(row.get(f"green_share{key}")))
        cells.append(_share(row.get(f"domestic_share{key}")))
        gap = row["mip_gap"]
        cells.append("-" if not math.isfinite(gap) else f"{gap:.2%}")
        table.add_row(*cells)
    console.print(table)
    failed = frame[~np.isfinite(frame["npv_cny"].astype(float))] if len(frame) else frame
    if len(failed):
        console.print(f"[yellow]{len(failed)} of {len(frame)} cases have no plan:[/]")
        for row in failed.to_dict("records"):
            gist = _gist(str(row["message"]))
            label = row["case"] or ", ".join(f"{d}={_cell(row[d])}" for d in dims)
            console.print(
                f"  {row['id']} {escape(label)}: {escape(row['status'])}" + (f": {escape(gist)}" if gist else "")
            )


def _gist(message: str, lines: int = 2) -> str:
    """The first lines of a (diagnosis) message, on one line."""
    return " ".join(line.strip() for line in message.strip().splitlines()[:lines] if line.strip())


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return shown(value) if not isinstance(value, str) else value
