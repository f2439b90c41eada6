"""Stacking the saved parts of a sweep into one combined Dataset, with attrs naming what it was made from.

**The combined Dataset** (``<results_dir>/<name>.nc``, or ``output``), one file for both blocks:

* grid cases: every plan variable with one leading dim per swept path (named by the path, e.g.
  ``policy.pue_max.2030``, coordinates the values in the file's order), then the plan's own dims;
  per case ``case_id``, ``status``, ``termination``, ``objective`` [CNY], ``bound`` [CNY],
  ``mip_gap``, ``message`` and ``wall_time_s``;
* one-at-a-time cases: the same variables prefixed ``oat_`` over the dim ``case``
  (``"base"``, ``"<path>=low"``, ``"<path>=high"``) with the coordinates ``case_parameter``,
  ``case_side`` and ``case_value``;
* a case without a plan has NaN (numbers) or ``""`` (text) in the plan variables;
* attrs (:func:`stack`): the sweep's name, its file as YAML, the grid dims and one-at-a-time paths
  (JSON), counts, ``display_names`` (JSON, :func:`display_names`: what the report names the base
  scenario's server types and cooling technologies by, since the file stores no scenario); what it
  was made from (:func:`provenance`): ``sweep_source``, ``input_hash``
  (:func:`planner.scenario.sweep.sweep_input_hash`), ``input_files`` (the sweep file, the base
  scenario, the files it extends and its profiles, each with its SHA-256; ``plan validate`` checks
  them), ``solver_options`` (every case's) and ``package_versions``.

Only ``wall_time_s``/``oat_wall_time_s`` (:data:`TIMING_VARS`) differ between two runs of the
same sweep; everything else is identical whether it ran at once, resumed, on local processes or on
a Dask cluster (HiGHS runs with one thread and a fixed seed).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
import yaml

from planner import __version__
from planner.results.io import file_sha256
from planner.results.provenance import input_files, installed_versions
from planner.scenario import Scenario, load_scenario
from planner.scenario.sweep import Sweep, coordinate_values, sweep_input_hash, value_text
from planner.studies.sweep.cases import Case

__all__ = ["TIMING_VARS", "display_names", "provenance", "stack", "stack_plans"]

TIMING_VARS = ("wall_time_s", "oat_wall_time_s")
"""Variables of the combined Dataset that hold run times (the only ones that differ between runs)."""

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


def stack_plans(plans: Sequence[tuple[int, xr.Dataset]], n: int) -> xr.Dataset:
    """The plans along a new dim ``_case`` of length ``n``; positions without a plan are filled."""
    fills = {name: _fill(da) for name, da in plans[0][1].data_vars.items()}
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
    return stacked.drop_vars("_case")


def _stack_group(entries: Sequence[tuple[Case, Mapping[str, Any], xr.Dataset | None]]) -> xr.Dataset:
    """The cases' plans and infos along a new dim ``_case`` (in the order given)."""
    plans = [(i, ds) for i, (_, _, ds) in enumerate(entries) if ds is not None]
    stacked = stack_plans(plans, len(entries)) if plans else xr.Dataset()
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
    """Stack the cases' plans into one Dataset (layout in this module's docstring)."""
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
        "display_names": json.dumps(display_names(load_scenario(spec.base, spec.set)), ensure_ascii=False),
        "planner_version": __version__,
    }
    return ds


def display_names(base: Scenario) -> dict[str, dict[str, dict[str, str]]]:
    """What the report names the scenario's entries by: vendor and chip of each server type, the
    description of each cooling technology (``{"accelerators": {key: {"vendor", "chip"}}, "cooling":
    {key: {"description"}}}``; read by :mod:`planner.report.labels`).
    """
    return {
        "accelerators": {k: {"vendor": a.vendor, "chip": a.chip} for k, a in base.accelerators.items()},
        "cooling": {k: {"description": c.description} for k, c in base.cooling.items()},
    }


def provenance(spec: Sweep, options: Mapping[str, Any]) -> dict[str, Any]:
    """Attrs of the combined file naming what it was made from (checked by ``plan validate``)."""
    files: list[dict[str, str]] = []
    if spec.source is not None:
        sweep_file = Path(spec.source).resolve()
        files.append({"role": "sweep", "path": str(sweep_file), "sha256": file_sha256(sweep_file)})
    base = load_scenario(spec.base)
    files += input_files(base)
    return {
        "sweep_source": files[0]["path"] if spec.source is not None else "",
        "input_hash": sweep_input_hash(spec, base),
        "input_files": json.dumps(files),
        "solver_options": json.dumps(dict(options), sort_keys=True),
        "package_versions": json.dumps(installed_versions()),
    }
