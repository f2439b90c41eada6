"""Reproducibility: the same input gives the same plan, in another process and on another worker count.

HiGHS runs with a fixed random seed and (in sweeps) one thread, so a plan is a function of its
inputs: two separate ``plan solve`` processes give the same integer builds, the same objective
and in fact the same Dataset (only ``timings_s`` differs), and a sweep gives the same combined
results on one worker as on two (only the run times differ). Besides the tiny scenario this
runs a medium one (the default cut to 2026-2027 with 3 representative days) whose solve is a
real branch-and-bound with heuristics, where run-to-run differences would show.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from conftest import write_scenario
from test_residuals import medium_data
from test_sweep import GRID, TINY_NPV, comparable, write_yaml
from tiny import tiny_data, write_profile

from planner.results.io import read_dataset

pytestmark = pytest.mark.long  # fresh processes and worker counts: minutes of solves; its own step of .ci/run

PLAN = [sys.executable, "-m", "planner.cli"]
INTEGER_VARS = (
    "servers_new",
    "servers",
    "racks_new",
    "halls_new",
    "grid_blocks_new",
    "cooling_units_new",
    "generators_new",
)
RUN_ATTRS = ("timings_s",)
"""Attrs that record how a run went rather than what it found (allowed to differ)."""


def run(args: list[str], cwd: Path) -> None:
    proc = subprocess.run([*PLAN, *args], cwd=cwd, capture_output=True, text=True, env=os.environ, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def without_run_attrs(ds: xr.Dataset) -> xr.Dataset:
    ds = ds.copy()
    ds.attrs = {k: v for k, v in ds.attrs.items() if k not in RUN_ATTRS}
    return ds


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("reproducible")
    profile = write_profile(folder / "profile.csv")
    medium = medium_data()
    medium["solver"] = {**medium.get("solver", {}), "time_limit_s": 600, "mip_gap": 0.01}
    return {
        "tiny": write_yaml(folder / "tiny.yaml", tiny_data(profile)),
        "medium": write_scenario(folder, medium, "medium.yaml"),
    }


@pytest.mark.parametrize("name", ["tiny", "medium"])
def test_two_processes_give_the_same_plan(scenarios: dict[str, Path], name: str, tmp_path: Path) -> None:
    extra = ["--no-shadow-prices"] if name == "medium" else []
    for out in ("a.nc", "b.nc"):
        run(["solve", str(scenarios[name]), "-o", out, "--no-report", *extra], tmp_path)
    a, b = read_dataset(tmp_path / "a.nc"), read_dataset(tmp_path / "b.nc")
    assert a.attrs["solver_status"] == "optimal", "a plan stopped by the time limit need not repeat"
    for var in INTEGER_VARS:
        assert np.array_equal(a[var].values, b[var].values), var
        assert np.array_equal(a[var].values, np.round(a[var].values)), f"{var} is not integer"
    assert a.attrs["objective_cny"] == b.attrs["objective_cny"]  # exactly: same path through the solver
    assert float(a["servers_new"].sum()) > 0
    if name == "tiny":
        assert a.attrs["objective_cny"] == pytest.approx(TINY_NPV[2000], rel=1e-9)
    # the whole plan, hourly dispatch included, and everything recorded about it
    xr.testing.assert_identical(without_run_attrs(a), without_run_attrs(b))
    assert json.loads(a.attrs["timings_s"]).keys() == json.loads(b.attrs["timings_s"]).keys()


def test_a_sweep_gives_the_same_results_on_one_and_on_two_workers(scenarios: dict[str, Path], tmp_path: Path) -> None:
    sweep = write_yaml(
        scenarios["tiny"].parent / "grid.yaml",
        {"name": "tiny_grid", "base": "tiny.yaml", "grid": GRID, "shadow_prices": False},
    )
    combined: dict[int, xr.Dataset] = {}
    for workers in (1, 2):
        work = tmp_path / f"w{workers}"
        work.mkdir()
        run(["sweep", str(sweep), "--workers", str(workers), "--no-report"], work)
        combined[workers] = read_dataset(work / "results" / "sweeps" / "tiny_grid.nc")
    one, two = combined[1], combined[2]
    # per case: the same objective and the same builds
    assert np.array_equal(one["objective"].values, two["objective"].values)
    for var in INTEGER_VARS:
        assert np.array_equal(one[var].values, two[var].values), var
    npv = one["objective"].sel({"policy.pue_max": 1.2}).values
    assert npv == pytest.approx([TINY_NPV[t] for t in (1000, 2000, 3000)], rel=1e-9)
    # and everything else but the run times, attrs included (inputs, solver options, versions)
    assert one["wall_time_s"].notnull().all() and two["wall_time_s"].notnull().all()
    xr.testing.assert_identical(comparable(one), comparable(two))
    for key in ("input_hash", "input_files", "solver_options", "package_versions"):
        assert one.attrs[key], key
    assert json.loads(one.attrs["solver_options"])["threads"] == 1
    # each case's own plan file too
    for part in sorted((tmp_path / "w1" / "results" / "sweeps" / "tiny_grid").glob("*.nc")):
        other = tmp_path / "w2" / "results" / "sweeps" / "tiny_grid" / part.name
        xr.testing.assert_identical(without_run_attrs(read_dataset(part)), without_run_attrs(read_dataset(other)))
