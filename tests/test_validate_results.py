"""``plan validate RESULTS``: do saved results still match the inputs they were made from?

A results file records its scenario file, its ``--set`` overrides, every input file (the
scenario, the files it ``extends``, the profile CSV; for a sweep also the sweep file) with its
SHA-256, and the ``input_hash`` of the resolved scenario. ``plan validate`` on it hashes the
files again, loads the scenario again and compares: exit 0 "inputs match", exit 2 "inputs changed
since this plan was made: <files>" (or missing, or not recorded). It also prints the recorded
solver options and package versions and warns when the installed ones differ.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import xarray as xr
from click.testing import CliRunner, Result
from test_sweep import write_yaml
from tiny import tiny_data, write_profile

from planner.cli import cli
from planner.results.io import is_results_file, read_dataset, write_dataset
from planner.results.provenance import check_inputs


@pytest.fixture(autouse=True)
def _work_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def plan(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=True)


def assert_clean(result: Result, code: int) -> str:
    """The exit code, no traceback; returns all output (stdout and stderr)."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    text = result.output + (result.stderr if result.stderr not in result.output else "")
    assert "Traceback" not in text
    assert result.exit_code == code, text
    return " ".join(text.split())  # rich wraps long lines


@pytest.fixture
def solved(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The tiny scenario as a file that extends a base, solved with an override: (results, scenario, base)."""
    profile = write_profile(tmp_path / "inputs" / "profile.csv")
    data = tiny_data(profile)
    base = write_yaml(tmp_path / "inputs" / "base.yaml", data)
    scenario = write_yaml(tmp_path / "inputs" / "tiny.yaml", {"extends": "base.yaml", "name": "tiny plan"})
    out = tmp_path / "results" / "tiny.nc"
    result = plan(
        "solve", str(scenario), "--set", "demand.inference.peak_tokens_per_s=1000", "-o", str(out), "--no-report"
    )
    assert_clean(result, 0)
    return out, scenario, base


def test_results_record_what_they_were_made_from(solved: tuple[Path, Path, Path]) -> None:
    out, scenario, base = solved
    attrs = read_dataset(out).attrs
    assert attrs["scenario_source"] == str(scenario.resolve())
    assert json.loads(attrs["scenario_overrides"]) == ["demand.inference.peak_tokens_per_s=1000"]
    files = json.loads(attrs["input_files"])
    assert [(f["role"], Path(f["path"]).name) for f in files] == [
        ("scenario", "tiny.yaml"),
        ("extends", "base.yaml"),
        ("profiles", "profile.csv"),
    ]
    assert all(len(f["sha256"]) == 64 for f in files)
    options = json.loads(attrs["solver_options"])
    assert {"time_limit_s", "mip_gap", "threads", "random_seed"} <= set(options)
    assert options["time_limit_s"] == 60 and options["mip_gap"] == 1e-6 and options["random_seed"] == 0
    assert {"python", "pyomo", "highspy", "xarray"} <= set(json.loads(attrs["package_versions"]))
    assert len(attrs["input_hash"]) == 16


def test_unchanged_inputs_match_exit_0_with_options_and_versions(solved: tuple[Path, Path, Path]) -> None:
    out, scenario, _ = solved
    text = assert_clean(plan("validate", str(out)), 0)
    assert "inputs match" in text
    assert str(scenario.resolve()) in text and "--set demand.inference.peak_tokens_per_s=1000" in text
    assert "time_limit_s=60" in text and "mip_gap=1e-06" in text and "random_seed=0" in text and "threads=1" in text
    assert "highspy" in text and "pyomo" in text
    assert "warning" not in text and ": changed" not in text and "inputs changed" not in text


@pytest.mark.parametrize(
    ("which", "edit"),
    [
        ("scenario", lambda text: text.replace("tiny plan", "tiny plan 2")),
        ("base", lambda text: text.replace("capex_cny: 1000000.0", "capex_cny: 1100000.0")),
        ("profiles", lambda text: text.replace("15.0", "16.0", 1)),
    ],
)
def test_a_changed_input_file_is_named_and_exits_2(solved: tuple[Path, Path, Path], which: str, edit) -> None:  # noqa: ANN001
    out, scenario, base = solved
    path = {"scenario": scenario, "base": base, "profiles": scenario.parent / "profile.csv"}[which]
    original = path.read_text(encoding="utf-8")
    assert edit(original) != original
    path.write_text(edit(original), encoding="utf-8")
    text = assert_clean(plan("validate", str(out)), 2)
    assert f"inputs changed since this plan was made: {path.resolve()}" in text
    others = {scenario, base, scenario.parent / "profile.csv"} - {path}
    assert all(f"{p.resolve()} (" not in text.split("inputs changed")[1] for p in others), "only the changed file"
    path.write_text(original, encoding="utf-8")  # put back: it matches again
    assert "inputs match" in assert_clean(plan("validate", str(out)), 0)


def test_a_change_in_form_only_still_matches(solved: tuple[Path, Path, Path]) -> None:
    out, scenario, _ = solved
    scenario.write_text(scenario.read_text(encoding="utf-8") + "# a comment\n", encoding="utf-8")
    text = assert_clean(plan("validate", str(out)), 0)
    assert "inputs match" in text and "changed in form only" in text and str(scenario.resolve()) in text


def test_missing_inputs_exit_2(solved: tuple[Path, Path, Path]) -> None:
    out, _, base = solved
    base.rename(base.with_suffix(".old"))
    text = assert_clean(plan("validate", str(out)), 2)
    assert f"inputs missing since this plan was made: {base.resolve()} (extends)" in text


def test_results_that_do_not_record_their_inputs_exit_2(solved: tuple[Path, Path, Path], tmp_path: Path) -> None:
    out, _, _ = solved
    ds = read_dataset(out)
    for key in ("input_files", "scenario_source", "scenario_overrides"):
        del ds.attrs[key]
    old = write_dataset(ds, tmp_path / "old.nc")
    text = assert_clean(plan("validate", str(old)), 2)
    assert "do not record their input files" in text


def test_other_installed_versions_are_a_warning(solved: tuple[Path, Path, Path], tmp_path: Path) -> None:
    out, _, _ = solved
    ds = read_dataset(out)
    versions = json.loads(ds.attrs["package_versions"])
    versions["highspy"] = "0.0.1"
    ds.attrs["package_versions"] = json.dumps(versions)
    other = write_dataset(ds, tmp_path / "other.nc")
    text = assert_clean(plan("validate", str(other)), 0)
    assert "warning" in text and "highspy 0.0.1 ->" in text and "inputs match" in text


def test_results_are_recognised_by_their_bytes_and_junk_is_not_a_traceback(
    solved: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    out, _, _ = solved
    renamed = shutil.copy(out, tmp_path / "plan.data")
    assert is_results_file(renamed) and not is_results_file(solved[1])
    assert "inputs match" in assert_clean(plan("validate", str(renamed)), 0)
    junk = tmp_path / "junk.nc"
    junk.write_bytes(b"not netCDF at all")
    assert "not a results file" in assert_clean(plan("validate", str(junk)), 2)
    assert "no such file" in assert_clean(plan("validate", str(tmp_path / "none.nc")), 2)
    not_a_plan = xr.Dataset({"x": ("a", [1.0])})
    assert "not a planner results file" in assert_clean(
        plan("validate", str(write_dataset(not_a_plan, tmp_path / "x.nc"))), 2
    )
    assert "--set applies to a scenario file" in assert_clean(plan("validate", str(out), "--set", "a=1"), 2)


def test_sweep_results_and_their_cases_are_checked(tmp_path: Path) -> None:
    profile = write_profile(tmp_path / "inputs" / "profile.csv")
    write_yaml(tmp_path / "inputs" / "tiny.yaml", tiny_data(profile))
    sweep = write_yaml(
        tmp_path / "inputs" / "s.yaml",
        {"name": "s", "base": "tiny.yaml", "grid": {"policy.pue_max": [1.2, 1.3]}, "shadow_prices": False},
    )
    assert_clean(plan("sweep", str(sweep), "--workers", "1", "--no-report"), 0)
    combined = tmp_path / "results" / "sweeps" / "s.nc"
    check = check_inputs(combined)
    assert check.kind == "sweep" and check.matches
    assert [f["role"] for f in check.files] == ["sweep", "scenario", "profiles"]
    assert "inputs match" in assert_clean(plan("validate", str(combined)), 0)
    case = next((tmp_path / "results" / "sweeps" / "s").glob("*.nc"))  # a case: its own overrides recorded
    text = assert_clean(plan("validate", str(case)), 0)
    assert "inputs match" in text and "--set policy.pue_max=" in text

    sweep.write_text(sweep.read_text(encoding="utf-8").replace("1.3", "1.4"), encoding="utf-8")
    text = assert_clean(plan("validate", str(combined)), 2)
    assert f"inputs changed since this sweep was made: {sweep.resolve()} (sweep)" in text
    assert "inputs match" in assert_clean(plan("validate", str(case)), 0), "a case depends on the base, not the grid"
