"""Provenance of a plan: which files and package versions made it, and whether they still match.

:func:`input_files` and :func:`installed_versions` are recorded in every results file;
:func:`check_inputs` hashes those files again and loads the scenario (or sweep) again to say
whether the plan is still the plan of its inputs (``plan validate RESULTS``).
"""

from __future__ import annotations

import functools
import json
import platform
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import xarray as xr

from planner import __version__
from planner.results.io import ResultsFileError, file_sha256
from planner.scenario import ScenarioError, input_hash, load_scenario, scenario_files
from planner.scenario.futures import futures_input_hash, load_futures
from planner.scenario.sweep import load_sweep, sweep_input_hash

__all__ = ["InputCheck", "check_inputs", "input_files", "installed_versions", "record_overrides"]


def installed_versions() -> dict[str, str]:
    """Versions of Python and of the packages a plan depends on, as installed now."""
    return dict(_versions())


@functools.cache
def _versions() -> dict[str, str]:  # what is installed does not change while a process runs
    out = {"python": platform.python_version()}
    for pkg in ("pyomo", "highspy", "numpy", "pandas", "xarray", "tsam", "pydantic", "pint"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:  # pragma: no cover
            out[pkg] = "?"
    return out


def input_files(scenario: Any) -> list[dict[str, str]]:
    """The files a loaded scenario was made from, each ``{"role", "path", "sha256"}``.

    Roles: ``scenario`` (the file named), ``extends`` (each base it extends, nearest first) and
    ``profiles`` (the hourly CSV). Paths are absolute as the loader resolved them.
    """
    files = [
        {"role": "scenario" if i == 0 else "extends", "path": str(p), "sha256": file_sha256(Path(p))}
        for i, p in enumerate(scenario_files(scenario))
    ]
    profiles = Path(scenario.time.profiles)
    files.append({"role": "profiles", "path": str(profiles), "sha256": file_sha256(profiles)})
    return files


def record_overrides(ds: xr.Dataset, overrides: Any) -> xr.Dataset:
    """Record the ``--set`` overrides a plan was made with (``scenario_overrides``, JSON); returns ``ds``.

    With ``scenario_source`` and ``input_files`` (set by :func:`to_dataset`) this is what
    :func:`check_inputs` needs to load the plan's scenario again.
    """
    ds.attrs["scenario_overrides"] = json.dumps([str(o) for o in overrides])
    return ds


@dataclass
class InputCheck:
    """Whether a results file still matches the inputs it was made from (see :func:`check_inputs`)."""

    path: Path
    kind: str  #: ``plan`` or ``sweep``
    recorded: bool  #: the file records its input files (results written before that cannot be checked)
    source: str  #: the scenario (or sweep) file the results were made from
    overrides: list[str] | None  #: the ``--set`` overrides (None: not recorded)
    files: list[dict[str, str]]  #: recorded input files, each with ``state`` (same, changed, missing)
    recorded_hash: str  #: ``input_hash`` recorded
    current_hash: str | None  #: ``input_hash`` of the scenario (or sweep) loaded again now (None: not loaded)
    load_problems: list[str]  #: why the scenario does not load again (empty: it loads)
    solver_options: dict[str, Any]
    package_versions: dict[str, str]  #: recorded
    installed: dict[str, str]  #: installed now (the planner itself under ``planner``)

    @property
    def changed_files(self) -> list[dict[str, str]]:
        """Recorded files that changed or are missing."""
        return [f for f in self.files if f["state"] != "same"]

    @property
    def matches(self) -> bool:
        """The inputs are there and load again to the recorded ``input_hash`` (file bytes may differ in form)."""
        if not self.recorded or self.load_problems or any(f["state"] == "missing" for f in self.files):
            return False
        return self.current_hash is not None and self.current_hash == self.recorded_hash

    @property
    def mismatch(self) -> str:
        """Why the results no longer match their inputs, in the user's words ("" when they match)."""
        if self.matches:
            return ""
        what = "sweep" if self.kind == "sweep" else "plan"
        if not self.recorded:
            return "the results do not record their input files (written before they were recorded); solve again"
        if not self.source:
            return f"the {what}'s inputs were not read from a file, so they cannot be loaded again"
        if any(f["state"] == "missing" for f in self.files):
            files = ", ".join(f"{f['path']} ({f['role']})" for f in self.files if f["state"] == "missing")
            return f"inputs missing since this {what} was made: {files}"
        if self.changed_files:
            files = ", ".join(f"{f['path']} ({f['role']})" for f in self.changed_files)
            reason = f"inputs changed since this {what} was made: {files}"
            if self.load_problems:
                reason += f"; they no longer load: {'; '.join(self.load_problems)}"
            return reason
        if self.load_problems:
            return f"the recorded inputs no longer load: {'; '.join(self.load_problems)}"
        return (
            f"inputs changed since this {what} was made: they resolve differently now although their "
            "files are unchanged (another planner version's defaults or rules?)"
        )

    @property
    def version_differences(self) -> dict[str, tuple[str, str]]:
        """Package -> (recorded, installed) for every package whose version differs."""
        return {
            k: (v, self.installed.get(k, "?"))
            for k, v in self.package_versions.items()
            if self.installed.get(k, "?") != v
        }


def _json_attr(attrs: dict[str, Any], key: str, default: Any) -> Any:
    try:
        return json.loads(str(attrs[key]))
    except (KeyError, ValueError):
        return default


def check_inputs(path: Path | str) -> InputCheck:
    """Check a results file (a plan, a sweep case or a combined sweep) against its inputs as they are now.

    Each recorded input file (scenario, the files it extends, the profile CSV, for a sweep also the
    sweep file) is hashed again and compared with its recorded SHA-256 (which files changed); the
    scenario is then loaded again from its recorded path with its recorded ``--set`` overrides and
    its :func:`planner.scenario.input_hash` compared with the recorded one (a sweep: its
    :func:`planner.scenario.sweep.sweep_input_hash`). The results match when that hash is the same: a file
    that changed only in form (a comment) still gives the same plan, while a scenario that
    resolves differently under another planner version does not.

    Raises
    ------
    ResultsFileError
        The file is missing or is not a planner results file.
    """
    path = Path(path)
    if not path.is_file():
        raise ResultsFileError(f"{path}: {'is a folder, not a results file' if path.is_dir() else 'no such file'}")
    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            attrs = dict(ds.attrs)
    except Exception as exc:  # noqa: BLE001 - any reader failure means "not a results file"
        raise ResultsFileError(f"{path}: not a results file (cannot be read as netCDF: {type(exc).__name__})") from None
    kind = "sweep" if "sweep_name" in attrs else ("hedge" if attrs.get("study") == "hedge" else "plan")
    if kind == "plan" and "input_hash" not in attrs:
        raise ResultsFileError(f"{path}: not a planner results file (no input_hash attribute)")
    recorded = "input_files" in attrs and "input_hash" in attrs
    files = []
    for f in _json_attr(attrs, "input_files", []):
        current = file_sha256(Path(f["path"])) if Path(f["path"]).is_file() else None
        state = "missing" if current is None else ("same" if current == f.get("sha256") else "changed")
        files.append({**f, "state": state})
    overrides = _json_attr(attrs, "scenario_overrides", None)
    source = str(attrs.get({"plan": "scenario_source", "sweep": "sweep_source"}.get(kind, "futures_source"), ""))
    current_hash: str | None = None
    problems: list[str] = []
    if recorded and source and not any(f["state"] == "missing" for f in files):
        try:
            if kind == "plan":
                current_hash = input_hash(load_scenario(source, overrides or []))
            elif kind == "hedge":
                current_hash = futures_input_hash(load_futures(source, check_futures=False))
            else:
                current_hash = sweep_input_hash(load_sweep(source))
        except ScenarioError as exc:
            problems = [str(p) for p in exc.problems]
    installed = {**_versions(), "planner": __version__}
    versions = {**_json_attr(attrs, "package_versions", {}), "planner": str(attrs.get("planner_version", "?"))}
    return InputCheck(
        path=path,
        kind=kind,
        recorded=recorded,
        source=source,
        overrides=overrides,
        files=files,
        recorded_hash=str(attrs.get("input_hash", "")),
        current_hash=current_hash,
        load_problems=problems,
        solver_options=_json_attr(attrs, "solver_options", {}),
        package_versions=versions,
        installed=installed,
    )
