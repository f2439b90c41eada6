"""The saved parts of a sweep on disk: writing each finished case, reading them back, and what resume keeps.

**Parts and resume.** Each case is saved the moment it finishes, in ``<results_dir>/<name>/``
(default ``results/sweeps/<name>/``, :func:`parts_dir`): its plan as ``<id>.nc`` (the plan's own
Dataset, readable by every tool that reads a plan), then its record ``<id>.json`` (overrides,
status, objective, bound, gap, message, timings and the *fingerprint* of its inputs: the resolved
scenario with its profile file, the solver options and the planner version). Both are written
atomically (:func:`planner.results.io.write_bytes`: a temp file in the same folder, then
``os.replace``), the record last: a case is saved exactly when its record is. Workers (local or
remote) return the plan to the process that runs the sweep, which writes it, so workers never
touch the results folder. With ``resume`` (the default) a case is solved again only if its record
is missing, was written for other inputs (a changed base file, time limit, ...) or recorded an
``error`` (an exception, a lost worker: possibly transient); infeasible and time-limited cases are
final (:func:`is_done`). A sweep killed at any moment leaves complete files only (plus, at worst,
hidden temp files named by :mod:`planner.results.io`, removed by the next run), and the next run
gives the same combined result as an uninterrupted one. A lock file (``.lock``, empty, held with
``flock`` and so released by the OS when its process dies, :func:`lock`) keeps two runs of the
same sweep from writing at once; the combined file is written while it is held.

**Warm-start bases.** The LP relaxation basis of the first case of each model structure, and of each
anchor (:func:`planner.studies.sweep.run.warm_starts`), is saved as ``<id>.basis.npz`` beside the
parts (:func:`write_basis`), the warm start of the cases anchored there, with the fingerprint of the
inputs it was solved for: a basis saved for other inputs is solved again.

**Anchors' plans.** A case moved from its grid anchor along the last path tries the anchor's plan
before the rounding dive (:func:`planner.studies.sweep.run.plan_starts`); the anchor's plan (its
column values and its last LP's basis) is saved as ``<id>.plan.npz`` when the anchor finishes
(:func:`write_plan`), with the anchor's fingerprint, so a resumed sweep starts those cases from the
same plan.

**Infos.** A case's outcome travels as an *info* dict (``status``, ``termination``,
``objective_cny``, ``bound_cny``, ``mip_gap``, ``message``, ``timings``, ``wall_time_s``):
:func:`no_plan_info` is the info of a case without a plan, and :func:`read_parts` rebuilds the
infos of saved cases from their records.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from planner import __version__
from planner.results.io import read_dataset, write_bytes, write_dataset
from planner.scenario.sweep import DEFAULT_RESULTS_DIR, Sweep
from planner.solver.dive import Basis, PlanStart
from planner.solver.status import Status
from planner.studies.sweep.cases import Case, SweepError

__all__ = [
    "FINAL_STATUSES",
    "NO_PLAN",
    "Parts",
    "is_done",
    "lock",
    "no_plan_info",
    "parts_dir",
    "read_basis",
    "read_parts",
    "read_plan",
    "read_record",
    "remove_temps",
    "write_basis",
    "write_part",
    "write_plan",
]

FINAL_STATUSES = (Status.OPTIMAL, Status.TIME_LIMIT, Status.INFEASIBLE, Status.UNBOUNDED)
"""Statuses a saved case keeps on resume (``error`` is solved again: it may be transient)."""

Parts = dict[str, tuple[dict[str, Any], xr.Dataset | None]]
"""Case id -> (info, plan Dataset or None)."""


def no_plan_info(status: Status, message: str) -> dict[str, Any]:
    """The info of a case without a plan (NaN numbers, no timings)."""
    return {
        "status": status,
        "termination": "",
        "objective_cny": math.nan,
        "bound_cny": math.nan,
        "mip_gap": math.nan,
        "message": message,
        "timings": {},
    }


# --------------------------------------------------------------------------- paths


def parts_dir(spec: Sweep, results_dir: str | Path = DEFAULT_RESULTS_DIR) -> Path:
    """The folder of a sweep's per-case files: ``<results_dir>/<name>/``."""
    return Path(results_dir) / spec.name


def _plan_path(folder: Path, cid: str) -> Path:
    return folder / f"{cid}.nc"


def _record_path(folder: Path, cid: str) -> Path:
    return folder / f"{cid}.json"


def _basis_path(folder: Path, cid: str) -> Path:
    return folder / f"{cid}.basis.npz"


def _start_path(folder: Path, cid: str) -> Path:
    return folder / f"{cid}.plan.npz"


# --------------------------------------------------------------------------- warm-start bases


def _write_npz(path: Path, fp: str, **arrays: np.ndarray) -> None:
    """Save ``arrays`` with the fingerprint ``fp`` of the inputs they were solved for, atomically."""
    buffer = io.BytesIO()
    payload: dict[str, Any] = {"fingerprint": np.array(fp), **arrays}
    np.savez(buffer, **payload)
    write_bytes(path, buffer.getvalue())


def _read_npz(path: Path, fp: str, names: Sequence[str], optional: Sequence[str] = ()) -> dict[str, np.ndarray] | None:
    """The arrays ``names`` saved at ``path`` (and those of ``optional`` it holds), or None if the file is
    missing, unreadable, lacks one of ``names``, or was solved for other inputs than ``fp`` says (a changed
    base file or solver option: the case id stays, its solution does not, and a stale start would make the
    cases depend on an earlier run).
    """
    try:
        with np.load(path) as data:
            if str(data["fingerprint"]) != fp:
                return None
            return {name: data[name] for name in [*names, *(n for n in optional if n in data.files)]}
    except (OSError, KeyError, ValueError):
        return None


def _basis_of(arrays: Mapping[str, np.ndarray]) -> Basis:
    """A basis's column and row statuses as HiGHS takes them (``int8``)."""
    return np.asarray(arrays["cols"], dtype=np.int8), np.asarray(arrays["rows"], dtype=np.int8)


def write_basis(folder: Path, cid: str, basis: Basis, fp: str) -> None:
    """Save the LP relaxation basis of a structure's first case or an anchor (the warm start of the cases
    anchored there), with the fingerprint ``fp`` of the inputs it was solved for.
    """
    _write_npz(_basis_path(folder, cid), fp, cols=basis[0], rows=basis[1])


def read_basis(folder: Path, cid: str, fp: str) -> Basis | None:
    """The saved basis of a structure's first case or an anchor, or None if it is missing, unreadable, or
    was solved for other inputs than ``fp`` says.
    """
    arrays = _read_npz(_basis_path(folder, cid), fp, ("cols", "rows"))
    return None if arrays is None else _basis_of(arrays)


#: What an anchor without a plan (infeasible, or none found in time) saves as its plan: a start of no
#: columns, never taken (``planner.solver.dive.Relaxation``: its cases dive), but a resume that finds it
#: does not solve the anchor again for a plan it has not got.
NO_PLAN = PlanStart(np.zeros(0), (np.zeros(0, dtype=np.int8), np.zeros(0, dtype=np.int8)))


def write_plan(folder: Path, cid: str, start: PlanStart, fp: str) -> None:
    """Save an anchor's plan (the start of the cases moved from it), with the anchor's fingerprint ``fp``."""
    if start.basis is None or not isinstance(start.basis, tuple):
        raise ValueError("an anchor's plan is saved with its basis as arrays (planner.solver.dive.basis_arrays)")
    duals = np.zeros(0) if start.duals is None else np.asarray(start.duals, dtype=float)
    _write_npz(_start_path(folder, cid), fp, x=start.x, cols=start.basis[0], rows=start.basis[1], duals=duals)


def read_plan(folder: Path, cid: str, fp: str) -> PlanStart | None:
    """The saved plan of an anchor, or None if it is missing, unreadable or was solved for other inputs.

    Its relaxation duals (``PlanStart.duals``) are None where it had none (an empty array saved, or a plan
    saved before they were: its cases then solve their relaxation, as they did).
    """
    arrays = _read_npz(_start_path(folder, cid), fp, ("x", "cols", "rows"), optional=("duals",))
    if arrays is None:
        return None
    duals = np.asarray(arrays.get("duals", ()), dtype=float)
    return PlanStart(np.asarray(arrays["x"], dtype=float), _basis_of(arrays), duals if len(duals) else None)


# --------------------------------------------------------------------------- parts and records


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    return value


def write_part(folder: Path, case: Case, fp: str, info: Mapping[str, Any], plan: xr.Dataset | None) -> None:
    """Save one finished case: its plan as ``<id>.nc``, then its record ``<id>.json``, each atomically.

    The record is written last and names the fingerprint, so a case counts as done only once both
    files are complete; a stale plan of a case that now has none is removed after its record.
    """
    if plan is not None:
        write_dataset(plan, _plan_path(folder, case.id))
    status = info.get("status")
    record = {
        "id": case.id,
        "label": case.label,
        "overrides": list(case.overrides),
        "fingerprint": fp,
        "has_plan": plan is not None,
        "status": str(status) if status is not None else None,
        **{k: info.get(k) for k in ("termination", "objective_cny", "bound_cny", "mip_gap", "message")},
        "relaxation_warm": bool(info.get("relaxation_warm", False)),
        # a case moved from its anchor: whether the anchor had a plan to give (None for the other cases)
        "anchor_plan": info.get("anchor_plan"),
        "wall_time_s": info.get("wall_time_s"),
        "timings": dict(info.get("timings") or {}),
        "planner_version": __version__,
    }
    text = json.dumps(_json_safe(record), indent=1, ensure_ascii=False, allow_nan=False)
    write_bytes(_record_path(folder, case.id), text.encode("utf-8"))
    if plan is None:
        with contextlib.suppress(FileNotFoundError):
            _plan_path(folder, case.id).unlink()


def read_record(folder: Path, cid: str) -> dict[str, Any] | None:
    """The record of a saved case, or None if it is missing, unreadable or its plan file is gone."""
    try:
        record = json.loads(_record_path(folder, cid).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or (record.get("has_plan") and not _plan_path(folder, cid).is_file()):
        return None
    return record


def is_done(record: Mapping[str, Any] | None, fp: str) -> bool:
    """True if a saved record is final for these inputs (resume keeps it)."""
    return record is not None and record.get("fingerprint") == fp and record.get("status") in FINAL_STATUSES


def _info_from_record(record: Mapping[str, Any]) -> dict[str, Any]:
    def number(key: str) -> float:
        value = record.get(key)
        return math.nan if value is None else float(value)

    return {
        "status": str(record.get("status") or Status.ERROR),
        "termination": str(record.get("termination") or ""),
        "objective_cny": number("objective_cny"),
        "bound_cny": number("bound_cny"),
        "mip_gap": number("mip_gap"),
        "message": str(record.get("message") or ""),
        "wall_time_s": number("wall_time_s"),
    }


def read_parts(
    folder: Path, cases: Sequence[Case], fresh: Mapping[str, tuple[dict[str, Any], xr.Dataset | None]] | None = None
) -> Parts:
    """The saved result of every case: case id -> (info, plan Dataset or None).

    ``fresh`` holds the cases solved in this run (saved already), which are not read back.
    """
    out: Parts = dict(fresh or {})
    for case in cases:
        if case.id in out:
            continue
        record = read_record(folder, case.id)
        if record is None:
            out[case.id] = (no_plan_info(Status.ERROR, "not solved"), None)
            continue
        plan = read_dataset(_plan_path(folder, case.id)) if record.get("has_plan") else None
        out[case.id] = (_info_from_record(record), plan)
    return out


# --------------------------------------------------------------------------- the lock


@contextlib.contextmanager
def lock(folder: Path) -> Iterator[None]:
    """Hold the sweep's lock file for the run (released by the OS if the process dies)."""
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


def remove_temps(folder: Path) -> None:
    """Remove temp files a killed run left behind (only ever ours: the folder is locked)."""
    for tmp in folder.glob(".*.tmp"):
        with contextlib.suppress(OSError):
            tmp.unlink()
