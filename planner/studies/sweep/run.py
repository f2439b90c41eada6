"""Running a whole sweep: validate every case, solve those not saved yet, save each, stack and write the result.

:func:`run_sweep` is the sweep's one entry point; it strings the stages of this package together
under the sweep's lock (:func:`planner.studies.sweep.store.lock`):

1. expand the sweep into cases and validate them all (:mod:`planner.studies.sweep.cases`);
2. keep the cases already saved for the same inputs (:mod:`planner.studies.sweep.store`);
3. solve, first the LP relaxation basis of each model structure that has none saved, then that of
   each anchor (:func:`warm_starts`), then the cases (:mod:`planner.studies.sweep.execute`): those
   that start from an anchor's plan (:func:`plan_starts`) after the others, saving each the moment it
   finishes, with a progress bar (:class:`_Progress`);
4. stack every saved case into the combined Dataset and write it
   (:mod:`planner.studies.sweep.stack`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xarray as xr
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from planner.report.format import fmt_money_cell
from planner.results.io import write_dataset
from planner.scenario.sweep import DEFAULT_RESULTS_DIR, Sweep, load_sweep
from planner.solver.dive import Basis, PlanStart
from planner.studies.sweep.cases import (
    Case,
    case_options,
    expand,
    plan_fingerprint,
    validate_cases,
    warm_fingerprint,
)
from planner.studies.sweep.execute import CaseArgs, Outcome, executor, where
from planner.studies.sweep.stack import provenance, stack
from planner.studies.sweep.store import (
    NO_PLAN,
    Parts,
    is_done,
    lock,
    parts_dir,
    read_basis,
    read_parts,
    read_plan,
    read_record,
    remove_temps,
    write_basis,
    write_part,
    write_plan,
)
from planner.studies.sweep.summary import gist

__all__ = ["plan_starts", "run_sweep", "warm_fingerprints", "warm_starts"]


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
        """Count a finished case: move the bar (and name the case if it has no plan), or print its line."""
        self.done += 1
        no_plan = not math.isfinite(float(info.get("objective_cny", math.nan)))
        self.failed += no_plan
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(self._task, advance=1, failed=self.failed)
            if no_plan:
                note = gist(str(info.get("message", "")))
                self.console.print(
                    f"[red]{escape(case.id)} {escape(str(info['status']))}[/] {escape(case.label)}"
                    + (f": {escape(note)}" if note else "")
                )
            return
        npv = fmt_money_cell(float(info.get("objective_cny", math.nan)))
        wall = float(info.get("wall_time_s", math.nan))
        self.console.print(
            f"[{self.done}/{self.total}] {case.id} {escape(str(info['status'])):<10} {npv:>12} {wall:6.1f} s  "
            f"{escape(case.label)}",
            soft_wrap=True,
        )


# --------------------------------------------------------------------------- running a sweep


@dataclass(frozen=True)
class _Run:
    """What the stages of one sweep run share: where its parts go and where its cases are solved."""

    folder: Path
    base: str
    options: dict[str, Any]
    workers: int | None
    scheduler: Any
    console: Any
    progress: bool

    def outcomes(self, jobs: Sequence[Case], args: CaseArgs) -> Generator[Outcome, None, None]:
        """The outcomes of ``jobs`` as they finish (see :func:`planner.studies.sweep.execute.executor`)."""
        return executor(jobs, self.base, self.options, args, self.workers, self.scheduler)


def warm_starts(
    unique: Sequence[Case], structures: Mapping[str, str]
) -> tuple[dict[str, Case], dict[str, Case], dict[str, Case]]:
    """Where each case's LP relaxation starts: ``(first, ref_of, anchor_of)``.

    ``first``: the first case of each model structure (in the sweep's order), solved from scratch;
    ``ref_of``: case id -> its structure's first case; ``anchor_of``: case id -> the case whose optimal
    basis it starts from. In a grid of two or more paths that is its *anchor*: the case of the same
    structure with the same values but the first of the last path, the one that varies fastest (the
    anchor starts from its structure's first case, itself from its own basis); otherwise (one path, a
    tornado case, an anchor of another structure) its structure's first case. Why: a case moved along
    one path from its start re-solves in a few thousand pivots, along two in many more (on the default,
    a 2030 PUE cap and the tariff moved together from the first case: 13-18 s; the tariff alone from the
    anchor of the same cap: 1.5-3 s; each anchor from the first case 7-9 s).
    """
    first: dict[str, Case] = {}
    for case in unique:
        first.setdefault(structures[case.id], case)
    ref_of = {case.id: first[structures[case.id]] for case in unique}
    grid = {(case.index, structures[case.id]): case for case in unique if case.kind == "grid"}
    anchor_of = {}
    for case in unique:
        anchor = ref_of[case.id]
        if case.kind == "grid" and len(case.index) >= 2:
            anchor = grid.get(((*case.index[:-1], 0), structures[case.id]), anchor)
        anchor_of[case.id] = anchor
    return first, ref_of, anchor_of


def plan_starts(unique: Sequence[Case], anchor_of: Mapping[str, Case]) -> dict[str, Case]:
    """The cases that try their anchor's plan before the rounding dive: case id -> that anchor.

    A case of a grid moved from its anchor along the last path only (the anchor is the case with the
    same values but the first of that path, :func:`warm_starts`): a price, a cap or a demand a step or
    two away usually keeps the anchor's whole units (halls, blocks, plant units, gensets, servers),
    and one LP with them fixed proves them within the gap of the case's own relaxation instead of a
    dive of several LPs (:class:`planner.solver.dive.PlanStart`; on the default's ``pue_x_price`` the
    tariff cases took 8.7-13.1 s instead of 16.0-25.3 s, README "A neighbour's plan instead of the
    dive"). Where it does not, the dive runs as before. In a one-path sweep or a tornado the cases
    start from their structure's first case, which is no neighbour: no plan.
    """
    return {
        case.id: anchor_of[case.id]
        for case in unique
        if case.kind == "grid"
        and len(case.index) >= 2
        and anchor_of[case.id].id != case.id
        and anchor_of[case.id].index[:-1] == case.index[:-1]
    }


def warm_fingerprints(
    unique: Sequence[Case],
    fingerprints: Mapping[str, str],
    ref_of: Mapping[str, Case],
    anchor_of: Mapping[str, Case],
    plan_of: Mapping[str, Case] | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """The fingerprints of warm-started cases, and of the bases they start from (:func:`warm_starts`).

    A structure's first basis depends on its case's inputs; an anchor's basis on its own and on the
    first basis it starts from; a case's result on its own inputs and on its anchor's basis, and, where
    it tries its anchor's plan first (``plan_of``, :func:`plan_starts`), on the anchor's result.
    """
    basis: dict[str, str] = {}
    for case in unique:
        ref, anchor = ref_of[case.id], anchor_of[case.id]
        basis.setdefault(ref.id, fingerprints[ref.id])
        if anchor.id != ref.id:
            basis.setdefault(anchor.id, warm_fingerprint(fingerprints[anchor.id], basis[ref.id]))
    cases = {case.id: warm_fingerprint(fingerprints[case.id], basis[anchor_of[case.id].id]) for case in unique}
    for cid, anchor in (plan_of or {}).items():  # an anchor tries no plan itself: its fingerprint is final
        cases[cid] = plan_fingerprint(cases[cid], cases[anchor.id])
    return cases, basis


def _announce(run: _Run, spec: Sweep, n_cases: int, reused: int, jobs: Sequence[Case], n_bases: int) -> None:
    """Say what the run will do: cases in all, reused, to solve and where, bases solved first."""
    run.console.print(
        f"sweep [bold]{escape(spec.name)}[/]: {n_cases} cases"
        + (f", {reused} reused from {escape(str(run.folder))}" if reused else "")
        + (f"; solving {len(jobs)} {where(jobs, run.workers, run.scheduler)}" if jobs else "; nothing to solve")
        + (f" from {n_bases} LP relaxation basis(es) solved first" if n_bases else "")
    )


def _solve_bases(
    run: _Run,
    missing: Sequence[Case],
    bases: dict[str, Basis | None],
    fingerprints: Mapping[str, str],
    starts: Mapping[str, Basis | None] | None = None,
) -> None:
    """Solve the LP relaxation of each case in ``missing`` (from its basis in ``starts``, else from scratch);
    save (with its fingerprint) and keep the bases found.
    """
    starts = starts or {}
    stream = run.outcomes(missing, {c.id: {"basis_only": True, "warm_basis": starts.get(c.id)} for c in missing})
    try:
        for case, info, _ in stream:
            basis = bases[case.id] = info.get("relaxation_basis")
            if basis is not None:
                write_basis(run.folder, case.id, basis, fingerprints[case.id])
    finally:
        stream.close()


def _solve_jobs(
    run: _Run,
    waves: Sequence[tuple[Sequence[Case], Callable[[], CaseArgs]]],
    fingerprints: Mapping[str, str],
    plans: dict[str, PlanStart | None],
    givers: set[str],
) -> Parts:
    """Solve the jobs of each wave in turn, saving each case as it finishes; the cases solved (all of them
    unless interrupted). A wave's arguments are made when it starts (the cases of the second start from
    the plans of anchors of the first); the plan of an anchor in ``givers`` (``info["plan_start"]``) goes
    into ``plans`` and is saved beside its part.
    """
    fresh: Parts = {}
    total = sum(len(jobs) for jobs, _ in waves)
    with _Progress(run.console, run.progress, total) as bar:
        for jobs, args in waves:
            if not jobs:
                continue
            wave = args()
            stream = run.outcomes(jobs, wave)
            try:
                for case, info, plan in stream:
                    start = info.pop("plan_start", None)
                    if case.id in givers:  # before the part: its record is what makes the case saved
                        given = plans[case.id] = start if start is not None else NO_PLAN
                        write_plan(run.folder, case.id, given, fingerprints[case.id])
                    if "plan_start" in wave[case.id]:  # a moved case: did its anchor have a plan to give?
                        offered = wave[case.id]["plan_start"]
                        info["anchor_plan"] = offered is not None and len(offered.x) > 0
                    write_part(run.folder, case, fingerprints[case.id], info, plan)
                    fresh[case.id] = (info, plan)
                    bar.advance(case, info)
            except KeyboardInterrupt:
                run.console.print(
                    f"interrupted: {len(fresh)} of {total} cases saved in {escape(str(run.folder))};"
                    " run the sweep again to solve the rest"
                )
                raise
            finally:
                stream.close()
    return fresh


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
        The combined results (layout: :mod:`planner.studies.sweep.stack`), as written.

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
    console = console if console is not None else Console(stderr=True, highlight=False)
    cases = expand(spec)
    options = case_options(spec, time_limit, mip_gap)
    structures: dict[str, str] = {}
    fingerprints = validate_cases(spec, cases, options, structures)
    unique = list({c.id: c for c in cases}.values())
    # Warm starts: the LP relaxation of the first case of each model structure (in the sweep's
    # order) is solved from scratch, then that of each anchor from it (``warm_starts``), their bases
    # saved, and every case starts from its anchor's. A case's result thus depends on the sweep's
    # inputs only, never on which worker ran what, and the bases take one LP each, not a whole solve.
    # A case moved from its anchor along the last path also tries the anchor's plan before the rounding
    # dive (``plan_starts``): the anchors are solved first, their plans saved beside their parts.
    warm = bool(options.get("warm_start"))
    first, ref_of, anchor_of = warm_starts(unique, structures)
    plan_of = plan_starts(unique, anchor_of) if warm else {}
    basis_fingerprints: dict[str, str] = {}
    if warm:
        fingerprints, basis_fingerprints = warm_fingerprints(unique, fingerprints, ref_of, anchor_of, plan_of)
    run = _Run(parts_dir(spec, results_dir), str(spec.base), options, workers, scheduler, console, progress)
    out = Path(output) if output is not None else Path(results_dir) / f"{spec.name}.nc"
    with lock(run.folder):
        remove_temps(run.folder)
        jobs = [c for c in unique if not (resume and is_done(read_record(run.folder, c.id), fingerprints[c.id]))]
        # A case moved from an anchor that had no plan to give because its solve failed (``error``, solved
        # again now) is solved again after it: else its result would depend on that earlier failure.
        for case in unique:
            if case.id in plan_of and plan_of[case.id] in jobs and case not in jobs:
                record = read_record(run.folder, case.id)
                if record is not None and record.get("anchor_plan") is False:
                    jobs.append(case)
        reused = len(unique) - len(jobs)
        # the anchors whose plans the jobs start from: one solved in this run gives its own (its saved one
        # may be of a failed solve); one saved for other inputs, or none, is solved again
        plans: dict[str, PlanStart | None] = {}
        for anchor in {plan_of[c.id].id: plan_of[c.id] for c in jobs if c.id in plan_of}.values():
            plans[anchor.id] = None if anchor in jobs else read_plan(run.folder, anchor.id, fingerprints[anchor.id])
            if plans[anchor.id] is None and anchor not in jobs:
                jobs.append(anchor)
        givers = {aid for aid, start in plans.items() if start is None}
        bases: dict[str, Basis | None] = {}  # case id of a first case or anchor -> its basis
        anchors: dict[str, Case] = {}  # the anchors the jobs start from whose basis is not saved
        if warm:
            for anchor in {anchor_of[c.id].id: anchor_of[c.id] for c in jobs}.values():
                bases[anchor.id] = read_basis(run.folder, anchor.id, basis_fingerprints[anchor.id])
                ref = ref_of[anchor.id]
                if bases[anchor.id] is None and ref.id != anchor.id:
                    anchors[anchor.id] = anchor
                    if ref.id not in bases:
                        bases[ref.id] = read_basis(run.folder, ref.id, basis_fingerprints[ref.id])
        missing = [case for case in first.values() if case.id in bases and bases[case.id] is None]
        if progress:
            _announce(run, spec, len(cases), reused, jobs, len(missing) + len(anchors))
        if missing:
            _solve_bases(run, missing, bases, basis_fingerprints)
        if anchors:
            starts = {a: bases.get(ref_of[a].id) for a in anchors}
            _solve_bases(run, list(anchors.values()), bases, basis_fingerprints, starts)
        fresh: Parts = {}
        if jobs:
            now = [c for c in jobs if c.id not in plan_of]
            later = [c for c in jobs if c.id in plan_of]
            waves: list[tuple[Sequence[Case], Callable[[], CaseArgs]]] = [
                (
                    now,
                    lambda: {
                        c.id: {"warm_basis": bases.get(anchor_of[c.id].id), "give_plan": c.id in givers} for c in now
                    },
                ),
                (
                    later,
                    lambda: {
                        c.id: {"warm_basis": bases.get(anchor_of[c.id].id), "plan_start": plans.get(plan_of[c.id].id)}
                        for c in later
                    },
                ),
            ]
            fresh = _solve_jobs(run, waves, fingerprints, plans, givers)
        ds = stack(spec, cases, read_parts(run.folder, cases, fresh))
        ds.attrs.update(provenance(spec, options))
        write_dataset(ds, out)
    return ds
