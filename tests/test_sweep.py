"""Sweep engine: expansion and ids, validation before solving, executors, kill-safety and resume.

Every sweep here runs on the tiny instance of ``tests/tiny.py`` (a case solves in well under a
second). The 6-case grid ``peak tokens/s {1000, 2000, 3000} x PUE cap {1.2, 1.3}`` is solved once
on local worker processes (the module's reference) and compared with a real Dask ``LocalCluster``
and with a run that was killed with SIGKILL and restarted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
import yaml
from click.testing import CliRunner
from conftest import REPO_ROOT
from test_model_tiny import dlc_cooling
from tiny import tiny_data, write_profile

from planner.cli import cli
from planner.results.io import read_dataset
from planner.scenario import ScenarioError, load_scenario
from planner.scenario.sweep import load_sweep
from planner.solver.dive import PlanStart
from planner.studies.sweep import TIMING_VARS, TRACE_ENV, case_id, expand, run_sweep, summary_table, validate_cases
from planner.studies.sweep.run import plan_starts, warm_fingerprints, warm_starts
from planner.studies.sweep.store import read_plan, write_plan

TINY_NPV = {1000: 13_148_180.0, 2000: 14_196_360.0, 3000: 15_344_540.0}  # tiny optimum by peak tokens/s
GRID = {"demand.inference.peak_tokens_per_s": [1000, 2000, 3000], "policy.pue_max": [1.2, 1.3]}


# --------------------------------------------------------------------------- helpers and fixtures


def write_yaml(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the tiny scenario (``tiny.yaml``), one with an existing fleet (``fleet.yaml``) and the grid."""
    folder = tmp_path_factory.mktemp("sweep_inputs")
    profile = write_profile(folder / "profile.csv")
    write_yaml(folder / "tiny.yaml", tiny_data(profile))
    # Forty existing air-cooled servers (PUE 1.1) must stay; DLC (kappa 0.05) makes lower caps
    # physically possible, but five new servers a year cannot bring the PUE below 1.1 by much.
    fleet = tiny_data(profile)
    fleet["accelerators"]["gpu"]["lifetime_years"] = 5
    fleet["accelerators"]["gpu"]["cooling"] = ["air", "dlc"]
    fleet["accelerators"]["gpu"]["max_new_per_year"] = 5
    fleet["cooling"]["dlc"] = dlc_cooling()
    fleet["existing"] = {"servers": [{"accelerator": "gpu", "cooling": "air", "count": 40, "year_built": 2025}]}
    write_yaml(folder / "fleet.yaml", fleet)
    write_yaml(folder / "grid.yaml", {"name": "tiny_grid", "base": "tiny.yaml", "grid": GRID, "shadow_prices": False})
    return folder


@pytest.fixture(scope="module")
def reference(inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> xr.Dataset:
    """The 6-case grid solved on two local worker processes, uninterrupted."""
    results = tmp_path_factory.mktemp("reference")
    run_sweep(inputs / "grid.yaml", workers=2, results_dir=results, progress=False)
    return read_dataset(results / "tiny_grid.nc")


def comparable(ds: xr.Dataset) -> xr.Dataset:
    """The combined Dataset without its run times (the only thing two runs may differ in)."""
    return ds.drop_vars([v for v in TIMING_VARS if v in ds])


def part_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in (".nc", ".json")) if folder.is_dir() else []


def traced(path: Path) -> list[str]:
    return [line.split()[0] for line in path.read_text().splitlines()] if path.exists() else []


# --------------------------------------------------------------------------- expansion and ids


def test_case_ids_are_a_pinned_hash_of_the_sorted_overrides() -> None:
    # Pinned: a case keeps its id (and its saved result) across runs, machines and versions.
    assert case_id(["policy.pue_max=1.2", "power.grid.tariff.scale=0.8"]) == "74bfa7d90e"
    assert case_id(["power.grid.tariff.scale=0.8", "policy.pue_max=1.2"]) == "74bfa7d90e"
    assert case_id([]) == "e3b0c44298"  # the base case: SHA-256 of nothing


def test_expansion_is_deterministic(inputs: Path, tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path / "s.yaml",
        {
            "name": "s",
            "base": str(inputs / "tiny.yaml"),
            "grid": GRID,
            "one_at_a_time": {"power.grid.tariff.scale": [0.5, 2.0], "demand.inference.reserve_margin": [0, "10 %"]},
            "set": ["time.representative_days=1"],
        },
    )
    cases = expand(load_sweep(path))
    assert [c.id for c in cases] == [c.id for c in expand(load_sweep(path))]
    grid, oat = cases[:6], cases[6:]
    # full factorial, the last path varying fastest; coordinates are the values
    assert [c.coordinates for c in grid[:3]] == [
        {"demand.inference.peak_tokens_per_s": 1000, "policy.pue_max": 1.2},
        {"demand.inference.peak_tokens_per_s": 1000, "policy.pue_max": 1.3},
        {"demand.inference.peak_tokens_per_s": 2000, "policy.pue_max": 1.2},
    ]
    assert grid[0].overrides == (
        "time.representative_days=1",
        "demand.inference.peak_tokens_per_s=1000",
        "policy.pue_max=1.2",
    )
    assert grid[0].id == case_id(grid[0].overrides)
    assert [c.label for c in oat] == [
        "base",
        "power.grid.tariff.scale=low",
        "power.grid.tariff.scale=high",
        "demand.inference.reserve_margin=low",
        "demand.inference.reserve_margin=high",
    ]
    assert oat[0].overrides == ("time.representative_days=1",)
    assert oat[4].overrides[-1] == "demand.inference.reserve_margin=10 %"
    assert len({c.id for c in cases}) == len(cases)
    # the order of the grid's paths in the file does not change any case's id
    swapped = write_yaml(
        tmp_path / "swapped.yaml",
        {"name": "s", "base": str(inputs / "tiny.yaml"), "grid": dict(reversed(list(GRID.items())))},
    )
    plain = write_yaml(tmp_path / "plain.yaml", {"name": "s", "base": str(inputs / "tiny.yaml"), "grid": GRID})
    assert {c.id for c in expand(load_sweep(swapped))} == {c.id for c in expand(load_sweep(plain))}


# --------------------------------------------------------------------------- validation before solving


BAD_SWEEPS: list[tuple[dict[str, Any], list[str]]] = [
    ({"gird": GRID}, ["unknown key 'gird'; did you mean 'grid'?"]),
    (
        {"grid": {"policy.pue_mx": [1.2, 1.3], "policy.pue_max": [1.2, 0.9]}},
        [
            "grid.policy.pue_mx: unknown key 'pue_mx'; did you mean 'pue_max'?",
            "grid.policy.pue_max: value 0.9 (item 1): must be >= 1",
        ],
    ),
    ({"grid": {"demand.inference.peak_tokens_per_s": ["1000 token/s", "2 MW"]}}, ["value 2 MW (item 1)"]),
    ({"grid": {"policy.pue_max": [1.2, 1.2]}}, ["grid.policy.pue_max: value 1.2 (item 1) repeats item 0"]),
    ({"grid": {"policy.pue_max": [[1.2, 1.3]]}}, ["grid.policy.pue_max", "a single value"]),
    (
        {"one_at_a_time": {"power.grid.tariff.scale": [0.5, 1.0, 2.0]}},
        ["one_at_a_time.power.grid.tariff.scale: expected [low, high], two values"],
    ),
    ({"one_at_a_time": {"finance.discount_rate": [0.05, 1.5]}}, ["one_at_a_time.finance.discount_rate: high value"]),
    ({"grid": {"policy.pue_max": [1.2]}, "set": ["accelerators.gpu.full_kw=-1"]}, ["set[0]", "full_kw"]),
    ({"grid": {"policy.pue_max": [1.2]}, "base": "missing.yaml"}, ["base: base scenario not found"]),
    ({}, ["nothing to sweep"]),
]


@pytest.mark.parametrize(("changes", "expected"), BAD_SWEEPS)
def test_bad_sweep_exits_2_before_solving(
    inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, changes: dict[str, Any], expected: list[str]
) -> None:
    data = {"name": "bad", "base": str(inputs / "tiny.yaml"), **changes}
    if "gird" in changes or "one_at_a_time" in changes or not changes:
        data.pop("grid", None)
    if "base" in changes:
        data["base"] = changes["base"]
    path = write_yaml(tmp_path / "bad.yaml", data)
    monkeypatch.chdir(tmp_path)
    trace = tmp_path / "trace.txt"
    monkeypatch.setenv(TRACE_ENV, str(trace))
    result = CliRunner().invoke(cli, ["sweep", str(path), "--workers", "1"])
    assert result.exit_code == 2, result.output + result.stderr
    assert "Traceback" not in result.output + result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr
    assert not trace.exists(), "a case was solved"
    assert not (tmp_path / "results").exists(), "something was written"


def test_all_problems_are_reported_at_once(inputs: Path, tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path / "s.yaml",
        {
            "name": "s",
            "base": str(inputs / "tiny.yaml"),
            "grid": {"policy.pue_mx": [1.2], "accelerators.gpu.full_kw": [10, -1, "5 m"]},
            "one_at_a_time": {"finance.discount_rte": [0.01, 0.1]},
        },
    )
    with pytest.raises(ScenarioError) as info:
        validate_cases(load_sweep(path))
    paths = [p.path for p in info.value.problems]
    assert "grid.policy.pue_mx" in paths
    assert paths.count("grid.accelerators.gpu.full_kw") == 2  # -1 and "5 m", each named
    assert "one_at_a_time.finance.discount_rte" in paths
    text = str(info.value)
    assert "value -1 (item 1)" in text and "value 5 m (item 2)" in text


def test_case_too_large_to_build_is_refused_before_solving(inputs: Path, tmp_path: Path, monkeypatch) -> None:
    # The tiny model on 365 days has ~10x the columns of 12 days: with a limit between the two,
    # only the full-year case is refused, by its place in the sweep file, before anything solves.
    import planner.model.size as size

    small = size.estimate_size(load_scenario(inputs / "tiny.yaml", ["time.representative_days=12"]))
    monkeypatch.setattr(size, "MAX_COLUMNS", 2 * small.columns)
    path = write_yaml(
        tmp_path / "s.yaml",
        {"name": "s", "base": str(inputs / "tiny.yaml"), "grid": {"time.representative_days": [12, "full"]}},
    )
    with pytest.raises(ScenarioError) as info:
        validate_cases(load_sweep(path))
    assert [p.path for p in info.value.problems] == ["grid case time.representative_days=full"]
    assert "columns" in str(info.value)


# --------------------------------------------------------------------------- executors give one result


def test_reference_grid_is_stacked_with_one_dim_per_swept_path(reference: xr.Dataset) -> None:
    ds = reference
    assert ds["servers"].dims[:2] == ("demand.inference.peak_tokens_per_s", "policy.pue_max")
    assert ds["demand.inference.peak_tokens_per_s"].values.tolist() == [1000, 2000, 3000]
    assert ds["policy.pue_max"].values.tolist() == [1.2, 1.3]
    assert (ds["status"] == "optimal").all()
    for tokens, npv in TINY_NPV.items():
        got = ds["npv_cny"].sel({"demand.inference.peak_tokens_per_s": tokens})
        np.testing.assert_allclose(got, npv, rtol=1e-6)
        np.testing.assert_allclose(ds["objective"].sel({"demand.inference.peak_tokens_per_s": tokens}), npv, rtol=1e-6)
    # a looser demand never costs less
    assert (ds["objective"].diff("demand.inference.peak_tokens_per_s") > 0).all()
    frame = summary_table(ds)
    assert len(frame) == 6
    assert {"id", "status", "npv_cny", "pue_2026", "green_share_2026", "mip_gap"} <= set(frame.columns)
    assert frame["id"].tolist() == ds["case_id"].values.ravel().tolist()


@pytest.mark.long
def test_dask_cluster_gives_the_same_result_as_local_processes(
    inputs: Path, reference: xr.Dataset, tmp_path: Path
) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    ) as cluster:
        ds = run_sweep(inputs / "grid.yaml", scheduler=cluster.scheduler_address, results_dir=tmp_path, progress=False)
    xr.testing.assert_identical(comparable(ds), comparable(reference))
    xr.testing.assert_identical(comparable(read_dataset(tmp_path / "tiny_grid.nc")), comparable(reference))


def test_dask_worker_threads_never_share_a_model(inputs: Path, reference: xr.Dataset, tmp_path: Path) -> None:
    """A Dask worker may run cases in several threads of one process: each thread keeps its own
    built models, so two cases never push their numbers into the same model at once."""
    import threading

    from planner.studies.sweep.execute import worker_models as _models

    seen: dict[str, object] = {}

    def grab(name: str) -> None:
        seen[name] = _models()

    threads = [threading.Thread(target=grab, args=(f"t{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen["t0"] is not seen["t1"] and _models() is _models()
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None, silence_logs=40
    ) as cluster:
        ds = run_sweep(inputs / "grid.yaml", scheduler=cluster.scheduler_address, results_dir=tmp_path, progress=False)
    xr.testing.assert_identical(comparable(ds), comparable(reference))


# --------------------------------------------------------------------------- kill-safety and resume


@pytest.mark.long
def test_a_killed_sweep_resumes_with_only_the_missing_cases(
    inputs: Path, reference: xr.Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    parts = work / "results" / "sweeps" / "tiny_grid"
    first_trace, second_trace = tmp_path / "first.txt", tmp_path / "second.txt"
    env = {**os.environ, TRACE_ENV: str(first_trace)}
    command = [sys.executable, "-c", "from planner.cli import main; main()", "sweep", str(inputs / "grid.yaml")]
    log = tmp_path / "first.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [*command, "--workers", "2"],
            cwd=work,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,  # its own process group: the kill reaches its workers too
        )
    try:
        deadline = time.monotonic() + 60
        while not list(parts.glob("*.json")):
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "no case finished within 60 s"
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    saved = {p.stem for p in parts.glob("*.json")}
    assert 1 <= len(saved) < 6, "the kill came too late to test anything"
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in part_files(parts)}
    for record in parts.glob("*.json"):  # every saved case is complete: its record and its plan
        assert json.loads(record.read_text())["status"] == "optimal"
        read_dataset(parts / f"{record.stem}.nc")
    assert not (work / "results" / "sweeps" / "tiny_grid.nc").exists()

    monkeypatch.chdir(work)
    monkeypatch.setenv(TRACE_ENV, str(second_trace))
    result = CliRunner().invoke(cli, ["sweep", str(inputs / "grid.yaml"), "--workers", "1"])
    assert result.exit_code == 0, result.output + result.stderr
    assert f"{len(saved)} reused" in result.stderr
    all_ids = set(reference["case_id"].values.ravel().tolist())
    resolved = traced(second_trace)
    assert sorted(resolved) == sorted(all_ids - saved), "only the missing cases are solved, each once"
    assert set(traced(first_trace)) | set(resolved) == all_ids
    for name, stamp in before.items():  # nothing saved before the kill was written again
        path = parts / name
        assert (path.stat().st_ino, path.stat().st_mtime_ns) == stamp, name
    assert len(part_files(parts)) == 12 and not list(parts.glob(".*.tmp"))
    combined = read_dataset(work / "results" / "sweeps" / "tiny_grid.nc")
    xr.testing.assert_identical(comparable(combined), comparable(reference))


def test_failing_case_is_recorded_and_the_others_finish(
    inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Forty existing air-cooled servers (PUE 1.1) must stay: a PUE cap of 1.07 is infeasible, 1.2 is not.
    sweep = write_yaml(
        tmp_path / "fleet_sweep.yaml",
        {
            "name": "fleet",
            "base": str(inputs / "fleet.yaml"),
            "grid": {"policy.pue_max": [1.07, 1.2]},
            "one_at_a_time": {"power.grid.tariff.scale": [0.5, 2.0]},
            "shadow_prices": False,
        },
    )
    monkeypatch.chdir(tmp_path)
    trace = tmp_path / "trace.txt"
    monkeypatch.setenv(TRACE_ENV, str(trace))
    result = CliRunner().invoke(cli, ["sweep", str(sweep), "--workers", "1", "-o", "out/fleet.nc"])
    assert result.exit_code == 0, result.output + result.stderr
    assert len(traced(trace)) == 5
    ds = read_dataset(tmp_path / "out" / "fleet.nc")
    status = ds["status"].to_series().to_dict()
    assert status == {1.07: "infeasible", 1.2: "optimal"}
    bad = ds.sel({"policy.pue_max": 1.07})
    assert "PUE cap" in str(bad["message"].values)
    assert np.isnan(bad["objective"]) and np.isnan(bad["servers"]).all() and np.isnan(bad["mip_gap"])
    assert np.isfinite(ds["objective"].sel({"policy.pue_max": 1.2}))
    assert ds["oat_status"].values.tolist() == ["optimal"] * 3
    assert ds["case"].values.tolist() == ["base", "power.grid.tariff.scale=low", "power.grid.tariff.scale=high"]
    assert ds["case_value"].values.tolist() == ["", "0.5", "2.0"]
    assert ds.attrs["sweep_cases"] == 5 and ds.attrs["sweep_cases_without_plan"] == 1
    record = json.loads((tmp_path / "results" / "sweeps" / "fleet" / f"{bad['case_id'].item()}.json").read_text())
    assert record["status"] == "infeasible" and record["has_plan"] is False
    # the summary names every case and says why one has no plan
    for cid in [*ds["case_id"].values.ravel(), *ds["oat_case_id"].values]:
        assert cid in result.stdout
    assert "1 of 5 cases have no plan" in result.stdout and "infeasible" in result.stdout
    assert "results written to out/fleet.nc" in result.stdout.replace("\n", "")

    # resume: nothing left to solve, the infeasible case included; same result
    trace.unlink()
    again = CliRunner().invoke(cli, ["sweep", str(sweep), "--workers", "1", "-o", "out/again.nc"])
    assert again.exit_code == 0, again.output + again.stderr
    assert not trace.exists() and "nothing to solve" in again.stderr
    xr.testing.assert_identical(comparable(read_dataset(tmp_path / "out" / "again.nc")), comparable(ds))


def test_an_anchor_without_a_plan_is_not_solved_again_for_one_on_resume(
    inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The PUE cap 1.07 is infeasible (forty air-cooled servers must stay): that anchor has no plan to give
    # the case moved from it along the tariff. It saves an empty one, so a resume that solves that case
    # again does not solve the anchor again first.
    sweep = write_yaml(
        tmp_path / "fleet_grid.yaml",
        {
            "name": "fleet_grid",
            "base": str(inputs / "fleet.yaml"),
            "grid": {"policy.pue_max": [1.07, 1.2], "power.grid.tariff.scale": [0.5, 2.0]},
            "shadow_prices": False,
        },
    )
    ds = run_sweep(sweep, workers=1, results_dir=tmp_path, progress=False)
    assert ds["status"].to_series().to_dict() == {
        (1.07, 0.5): "infeasible",
        (1.07, 2.0): "infeasible",
        (1.2, 0.5): "optimal",
        (1.2, 2.0): "optimal",
    }
    parts = tmp_path / "fleet_grid"
    by_index = {c.index: c.id for c in expand(load_sweep(sweep))}
    plans = {i: np.load(parts / f"{by_index[(i, 0)]}.plan.npz")["x"] for i in range(2)}
    assert len(plans[0]) == 0 and len(plans[1]) > 0  # the infeasible anchor's is empty
    (parts / f"{by_index[(0, 1)]}.json").unlink()
    trace = tmp_path / "trace.txt"
    monkeypatch.setenv(TRACE_ENV, str(trace))
    again = run_sweep(sweep, workers=1, results_dir=tmp_path, progress=False)
    assert traced(trace) == [by_index[(0, 1)]]
    xr.testing.assert_identical(comparable(again), comparable(ds))


def test_changed_inputs_or_no_resume_solve_again(inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sweep = write_yaml(
        tmp_path / "one.yaml",
        {"name": "one", "base": str(inputs / "tiny.yaml"), "grid": {"policy.pue_max": [1.2]}, "shadow_prices": False},
    )
    monkeypatch.chdir(tmp_path)
    trace = tmp_path / "trace.txt"
    monkeypatch.setenv(TRACE_ENV, str(trace))
    runs = [[], [], ["--time-limit", "30"], ["--time-limit", "30", "--no-resume"]]
    counts, bases = [], []
    for args in runs:
        result = CliRunner().invoke(cli, ["sweep", str(sweep), "--workers", "1", *args])
        assert result.exit_code == 0, result.output + result.stderr
        counts.append(len(traced(trace)))
        bases.append("1 LP relaxation basis(es) solved first" in " ".join(result.stderr.split()))
    # solved; reused; stale (other solver options); solved again on request
    assert counts == [1, 1, 2, 3]
    # the warm-start basis saved by the first run was solved for other inputs than the third's: solved
    # again, not read (a stale start would make the case depend on the earlier run); the fourth reads it
    assert bases == [True, False, True, False]


def test_cases_start_from_the_relaxation_of_their_anchor(
    inputs: Path, reference: xr.Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = run_sweep(inputs / "grid.yaml", workers=1, results_dir=tmp_path, progress=False)
    xr.testing.assert_identical(comparable(ds), comparable(reference))  # one worker in-process == two workers
    parts = tmp_path / "tiny_grid"
    records = {p.stem: json.loads(p.read_text()) for p in parts.glob("*.json")}
    cases = expand(load_sweep(inputs / "grid.yaml"))  # demand (3 values) x PUE cap (2), the cap fastest
    by_index = {c.index: c.id for c in cases}
    anchors = [by_index[(i, 0)] for i in range(3)]  # the first of each run of PUE caps; the first case among them
    assert sorted(p.name for p in parts.glob("*.basis.npz")) == sorted(f"{a}.basis.npz" for a in anchors)
    assert len(records) == 6 and all(r["relaxation_warm"] for r in records.values())  # the anchors too
    # Without the first case's basis, a resume solves its relaxation again, then only the missing case.
    first = anchors[0]
    (parts / f"{first}.basis.npz").unlink()
    other = by_index[(0, 1)]  # anchored at the first case
    (parts / f"{other}.json").unlink()
    trace = tmp_path / "trace.txt"
    monkeypatch.setenv(TRACE_ENV, str(trace))
    again = run_sweep(inputs / "grid.yaml", workers=1, results_dir=tmp_path, progress=False)
    assert traced(trace) == [other]  # the relaxation alone is not a solve
    assert (parts / f"{first}.basis.npz").exists()
    xr.testing.assert_identical(comparable(again), comparable(reference))
    # Without an anchor's basis and the first's: both solved again (the anchor from the first), then the case.
    trace.unlink()
    (parts / f"{first}.basis.npz").unlink()
    (parts / f"{anchors[2]}.basis.npz").unlink()
    (parts / f"{by_index[(2, 1)]}.json").unlink()
    again = run_sweep(inputs / "grid.yaml", workers=1, results_dir=tmp_path, progress=False)
    assert traced(trace) == [by_index[(2, 1)]]
    assert (parts / f"{first}.basis.npz").exists() and (parts / f"{anchors[2]}.basis.npz").exists()
    xr.testing.assert_identical(comparable(again), comparable(reference))


def test_a_case_moved_from_its_anchor_along_the_last_path_tries_the_anchors_plan_first(
    inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The tiny relaxation lies far below its optimum (1.2 M against 13.1 M CNY at 1,000 tokens/s): at a gap
    # of 95 % the anchor's plan is within it. The PUE cap moves nothing in the tiny model (PUE 1.1), so a
    # case moved along it keeps its anchor's whole units, and its NPV is its demand's hand optimum.
    sweep = write_yaml(
        inputs / "grid_loose.yaml",
        {"name": "tiny_loose", "base": "tiny.yaml", "grid": GRID, "shadow_prices": False, "solver": {"mip_gap": 0.95}},
    )
    ds = run_sweep(sweep, workers=2, results_dir=tmp_path, progress=False)
    parts = tmp_path / "tiny_loose"
    cases = expand(load_sweep(sweep))
    by_index = {c.index: c.id for c in cases}
    source = {c.index: read_dataset(parts / f"{c.id}.nc").attrs["first_plan_source"] for c in cases}
    assert source == {
        (i, j): "plan of a similar scenario" if j else "rounding dive" for i in range(3) for j in range(2)
    }
    assert sorted(p.name for p in parts.glob("*.plan.npz")) == sorted(f"{by_index[(i, 0)]}.plan.npz" for i in range(3))
    # The cap's row has no dual at the anchor, so the anchor's relaxation duals bound each moved case's at
    # the anchor's own bound, well within 95 %: the moved cases solve no relaxation (planner/solver/bounds.py).
    attrs = {c.index: read_dataset(parts / f"{c.id}.nc").attrs for c in cases}
    for (i, j), a in attrs.items():
        if j:
            assert np.isnan(a["relaxation_bound_cny"]) and a["dual_bound_cny"] == a["bound_cny"]
            assert a["dual_bound_cny"] == pytest.approx(attrs[(i, 0)]["relaxation_bound_cny"], rel=1e-9)
        else:
            assert np.isnan(a["dual_bound_cny"]) and a["relaxation_bound_cny"] == a["bound_cny"]
    with np.load(parts / f"{by_index[(0, 0)]}.plan.npz") as saved:  # the duals go with the plan, one per row
        assert len(saved["duals"]) == len(saved["rows"]) > 0 and np.any(saved["duals"] != 0)
    for tokens, npv in TINY_NPV.items():
        np.testing.assert_allclose(ds["npv_cny"].sel({"demand.inference.peak_tokens_per_s": tokens}), npv, rtol=1e-6)
    # The same on one worker, in this process (the plans depend on the inputs only) ...
    again = run_sweep(sweep, workers=1, results_dir=tmp_path / "one", progress=False)
    xr.testing.assert_identical(comparable(again), comparable(ds))
    # ... and on resume: without an anchor's plan, the anchor is solved again first, then its case.
    (parts / f"{by_index[(1, 0)]}.plan.npz").unlink()
    (parts / f"{by_index[(1, 1)]}.json").unlink()
    trace = tmp_path / "trace.txt"
    monkeypatch.setenv(TRACE_ENV, str(trace))
    resumed = run_sweep(sweep, workers=1, results_dir=tmp_path, progress=False)
    assert traced(trace) == [by_index[(1, 0)], by_index[(1, 1)]]
    assert (parts / f"{by_index[(1, 0)]}.plan.npz").exists()
    xr.testing.assert_identical(comparable(resumed), comparable(ds))
    # A moved case's record says whether its anchor had a plan to give. One that had none because its
    # anchor's solve failed (simulated: the anchor's record says error, the case's no plan) is solved again
    # after the anchor; one whose anchor is final keeps its result whatever it started from.
    records = {c.index: json.loads((parts / f"{c.id}.json").read_text()) for c in cases}
    assert {k: r["anchor_plan"] for k, r in records.items()} == {(i, j): True if j else None for i, j in records}
    changes = {(0, 0): {"status": "error"}, (0, 1): {"anchor_plan": False}, (2, 1): {"anchor_plan": False}}
    for key, change in changes.items():
        (parts / f"{by_index[key]}.json").write_text(json.dumps({**records[key], **change}))
    trace.unlink()
    resumed = run_sweep(sweep, workers=1, results_dir=tmp_path, progress=False)
    assert traced(trace) == [by_index[(0, 0)], by_index[(0, 1)]]
    assert json.loads((parts / f"{by_index[(0, 1)]}.json").read_text())["anchor_plan"] is True
    xr.testing.assert_identical(comparable(resumed), comparable(ds))


def test_the_anchor_of_a_case_is_the_first_of_its_run_of_the_fastest_path(inputs: Path) -> None:
    cases = expand(load_sweep(inputs / "grid.yaml"))
    by_index = {c.index: c for c in cases}
    one = dict.fromkeys((c.id for c in cases), "s")
    first, ref_of, anchor_of = warm_starts(cases, one)
    assert [c.id for c in first.values()] == [by_index[(0, 0)].id]
    assert all(ref_of[c.id] is by_index[(0, 0)] for c in cases)
    assert {c.index: anchor_of[c.id].index for c in cases} == {(i, j): (i, 0) for i in range(3) for j in range(2)}
    # an anchor of another structure is no start: the case starts from its own structure's first case
    two = {**one, by_index[(1, 1)].id: "t", by_index[(2, 1)].id: "t"}
    first, ref_of, anchor_of = warm_starts(cases, two)
    assert anchor_of[by_index[(2, 1)].id] is by_index[(1, 1)] is first["t"]
    # the fingerprints: a case's moves with its anchor's basis, which moves with its first case's
    fps = {c.id: f"fp-{c.index}" for c in cases}
    own, bases = warm_fingerprints(cases, fps, *warm_starts(cases, one)[1:])
    assert set(bases) == {by_index[(i, 0)].id for i in range(3)}
    moved, moved_bases = warm_fingerprints(cases, {**fps, by_index[(0, 0)].id: "other"}, *warm_starts(cases, one)[1:])
    assert all(moved[c.id] != own[c.id] for c in cases)  # every case starts, through its anchor, from the first
    moved, _ = warm_fingerprints(cases, {**fps, by_index[(1, 0)].id: "other"}, *warm_starts(cases, one)[1:])
    assert {c.index for c in cases if moved[c.id] != own[c.id]} == {(1, 0), (1, 1)}
    # the cases moved along the last path try their anchor's plan: their result depends on the anchor's too
    _, ref_of, anchor_of = warm_starts(cases, one)
    plan_of = plan_starts(cases, anchor_of)
    assert {by_index[k].index: a.index for k, a in [(c.index, plan_of[c.id]) for c in cases if c.id in plan_of]} == {
        (i, 1): (i, 0) for i in range(3)
    }
    with_plans, _ = warm_fingerprints(cases, fps, ref_of, anchor_of, plan_of)
    assert {c.index for c in cases if with_plans[c.id] != own[c.id]} == {(i, 1) for i in range(3)}
    assert plan_starts(cases, warm_starts(cases, two)[2]).keys() == {by_index[(0, 1)].id}  # not from another structure


@pytest.mark.parametrize("command", ["sweep", "alternatives", "hedge"])
def test_workers_and_scheduler_are_exclusive(inputs: Path, command: str) -> None:
    result = CliRunner().invoke(cli, [command, str(inputs / "grid.yaml"), "--workers", "2", "--scheduler", "x:1"])
    assert result.exit_code == 2
    assert "not both" in result.output + result.stderr
    assert "Traceback" not in result.output + result.stderr


# --------------------------------------------------------------------------- shipped examples


@pytest.mark.parametrize("name", ["pue_x_price", "demand_x_domestic", "tornado"])
def test_shipped_sweeps_are_valid(name: str) -> None:
    spec = load_sweep(REPO_ROOT / "inputs" / "sweeps" / f"{name}.yaml")
    assert spec.name == name
    assert not spec.set, "the shipped examples sweep the full default model"
    cases = expand(spec)
    fingerprints = validate_cases(spec, cases)
    assert len(fingerprints) == len(cases) == spec.n_cases
    if name == "tornado":
        assert len(spec.one_at_a_time) == 10 and not spec.grid
    else:
        assert len(spec.grid) == 2


def test_plan_validate_checks_every_case_of_a_sweep_file(inputs: Path, tmp_path: Path) -> None:
    """``plan validate`` on a sweep file validates its cases (it is not a scenario with unknown keys)."""
    from click.testing import CliRunner

    from planner.cli import cli

    runner = CliRunner()
    result = runner.invoke(cli, ["validate", str(inputs / "grid.yaml")])
    assert result.exit_code == 0, result.output
    assert "tiny_grid: 6 cases" in result.output and "every one valid" in result.output
    bad = write_yaml(
        tmp_path / "bad.yaml", {"name": "bad", "base": str(inputs / "tiny.yaml"), "grid": {"policy.pue_max": [0.9]}}
    )
    result = runner.invoke(cli, ["validate", str(bad)])
    assert result.exit_code == 2, result.output
    assert "grid.policy.pue_max: value 0.9 (item 0): must be >= 1" in result.output
    result = runner.invoke(cli, ["validate", str(inputs / "grid.yaml"), "--set", "policy.pue_max=1.2"])
    assert result.exit_code == 2 and "--set applies to a scenario file" in result.output


def test_an_anchors_plan_is_saved_with_its_relaxation_duals_and_read_without_them_from_an_older_file(
    tmp_path: Path,
) -> None:
    x, basis, duals = np.array([1.0, 2.5]), (np.array([1, 0], dtype=np.int8), np.array([1], dtype=np.int8)), np.ones(1)
    write_plan(tmp_path, "a", PlanStart(x, basis, duals), "fp")
    read = read_plan(tmp_path, "a", "fp")
    assert read is not None and np.array_equal(read.x, x) and np.array_equal(read.duals, duals)
    assert read_plan(tmp_path, "a", "other inputs") is None
    write_plan(tmp_path, "b", PlanStart(x, basis), "fp")  # no duals (its relaxation did not run)
    read = read_plan(tmp_path, "b", "fp")
    assert read is not None and read.duals is None and np.array_equal(read.basis[0], basis[0])
    np.savez(tmp_path / "c.plan.npz", fingerprint="fp", x=x, cols=basis[0], rows=basis[1])  # saved before the duals
    read = read_plan(tmp_path, "c", "fp")
    assert read is not None and read.duals is None and np.array_equal(read.x, x)
