"""``plan solve`` end to end through click's test runner: exit codes, files, messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pytest
import xarray as xr
import yaml
from click.testing import CliRunner, Result
from conftest import load_default_yaml_data, write_scenario
from horizon import restrict_years
from test_model_tiny import dlc_cooling
from tiny import tiny_data, write_profile

from planner.cli import cli
from planner.results.io import read_dataset
from planner.solver.highs import OBJECTIVE_SCALE

TINY_NPV = 14_196_360.0  # the default tiny optimum (tests/tiny.py)


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_profile(tmp_path_factory.mktemp("cli") / "profile.csv")


@pytest.fixture(autouse=True)
def _work_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every command from a temporary folder, so default outputs (reports/, results/) land there."""
    monkeypatch.chdir(tmp_path)


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def tiny_yaml(tmp_path: Path, profile: Path) -> Path:
    return write_yaml(tmp_path / "tiny.yaml", tiny_data(profile))


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, ["solve", *args], catch_exceptions=True)


def assert_no_traceback(result: Result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output and "Traceback" not in result.stderr


# --------------------------------------------------------------------------- success


def test_solve_writes_results_and_prints_summary(tiny_yaml: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "x.nc"
    result = invoke(str(tiny_yaml), "-o", str(out))
    assert_no_traceback(result)
    assert result.exit_code == 0, result.output + result.stderr
    assert out.is_file()
    assert not [p for p in out.parent.iterdir() if p.name != "x.nc"], "temporary files left behind"
    text = result.stdout
    assert "NPV" in text and "0.014 bn CNY" in text  # 14,196,360 CNY
    assert "optimal" in text
    assert str(out) in text.replace("\n", "")
    assert "warning" not in text.lower()


def test_results_round_trip(tiny_yaml: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.nc"
    result = invoke(str(tiny_yaml), "-o", str(out))
    assert result.exit_code == 0, result.output + result.stderr
    ds = read_dataset(out)
    assert float(ds.npv_cny) == pytest.approx(TINY_NPV, rel=1e-6)
    assert float(ds.servers.sum()) == 2
    for name, da in ds.data_vars.items():
        assert "units" in da.attrs, f"{name} has no units"
        assert "long_name" in da.attrs, f"{name} has no long_name"
    # write it again and read it back: identical values, dims and attrs
    again = tmp_path / "again.nc"
    from planner.results.io import write_dataset

    write_dataset(ds, again)
    back = read_dataset(again)
    xr.testing.assert_identical(ds, back)
    assert back.attrs["scenario_yaml"] == ds.attrs["scenario_yaml"]
    assert yaml.safe_load(back.attrs["scenario_yaml"])["name"] == "tiny"


def test_round_trip_equals_the_plan_in_memory(profile: Path, tmp_path: Path) -> None:
    from tiny import tiny

    from planner.pipeline import plan_scenario
    from planner.results.io import write_dataset

    ds = plan_scenario(tiny(profile)).dataset
    path = write_dataset(ds, tmp_path / "mem.nc")
    back = read_dataset(path)
    assert set(back.data_vars) == set(ds.data_vars)
    for name, da in ds.data_vars.items():
        if da.dtype.kind in "fiu":
            np.testing.assert_allclose(back[name].values, da.values, rtol=0, atol=0, equal_nan=True, err_msg=name)
        else:
            np.testing.assert_array_equal(back[name].values.astype(str), da.values.astype(str), err_msg=name)
        assert back[name].attrs["units"] == da.attrs["units"], name
        assert back[name].dims == da.dims, name


# --------------------------------------------------------------------------- no plan / bad input


def test_infeasible_pue_cap_with_existing_fleet_exits_1(tmp_path: Path, profile: Path) -> None:
    # Forty existing air-cooled servers (kappa 0.1, so PUE 1.1) must stay. Direct liquid cooling
    # (kappa 0.05) makes a cap of 1.07 physically possible, so validation lets it through, but five
    # new DLC servers a year cannot pull the fleet's PUE down to it: no plan (exit 1).
    data = tiny_data(profile)
    data["accelerators"]["gpu"]["lifetime_years"] = 5
    data["accelerators"]["gpu"]["cooling"] = ["air", "dlc"]
    data["accelerators"]["gpu"]["max_new_per_year"] = 5
    data["cooling"]["dlc"] = dlc_cooling()
    data["existing"] = {"servers": [{"accelerator": "gpu", "cooling": "air", "count": 40, "year_built": 2025}]}
    path = write_yaml(tmp_path / "fleet.yaml", data)
    ok = invoke(str(path), "-o", str(tmp_path / "ok.nc"))
    assert ok.exit_code == 0, ok.output + ok.stderr
    out = tmp_path / "bad.nc"
    result = invoke(str(path), "--set", "policy.pue_max=1.07", "-o", str(out))
    assert_no_traceback(result)
    assert result.exit_code == 1, result.output + result.stderr
    assert "PUE cap" in result.stderr, result.stderr
    assert "1.07" in result.stderr
    assert "40 existing" in result.stderr, result.stderr  # the fleet that cannot retire is named
    assert not out.exists()


def test_pue_cap_below_the_physics_exits_2(tmp_path: Path, profile: Path) -> None:
    # Air cooling alone (fans and pumps 10 %, no aux losses) cannot go below PUE 1.1: refused as input.
    path = write_yaml(tmp_path / "tiny.yaml", tiny_data(profile))
    out = tmp_path / "bad.nc"
    result = invoke(str(path), "--set", "policy.pue_max=1.05", "-o", str(out))
    assert_no_traceback(result)
    assert result.exit_code == 2, result.output + result.stderr
    assert "policy.pue_max: 1.05 in 2026 is below what the physics allows" in result.stderr, result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--set", "accelerators.gpu.full_kw=-1"], "accelerators.gpu.full_kw"),
        (["--set", "accelerators.gpu.ful_kw=10"], "full_kw"),  # typo: did-you-mean
        (["--set", "policy.pue_max=banana"], "policy.pue_max"),
    ],
)
def test_bad_input_exits_2(tiny_yaml: Path, tmp_path: Path, args: list[str], expected: str) -> None:
    out = tmp_path / "x.nc"
    result = invoke(str(tiny_yaml), *args, "-o", str(out))
    assert_no_traceback(result)
    assert result.exit_code == 2, result.output + result.stderr
    assert expected in result.stderr, result.stderr
    assert not out.exists()


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = invoke(str(tmp_path / "nope.yaml"), "-o", str(tmp_path / "x.nc"))
    assert_no_traceback(result)
    assert result.exit_code == 2, result.output + result.stderr


def test_bad_yaml_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed\n", encoding="utf-8")
    result = invoke(str(path), "-o", str(tmp_path / "x.nc"))
    assert_no_traceback(result)
    assert result.exit_code == 2, result.output + result.stderr


# --------------------------------------------------------------------------- model export


def test_export_model_mps_solves_to_the_same_objective(tiny_yaml: Path, tmp_path: Path) -> None:
    mps = tmp_path / "model" / "m.mps"
    out = tmp_path / "x.nc"
    result = invoke(str(tiny_yaml), "--export-model", str(mps), "-o", str(out))
    assert result.exit_code == 0, result.output + result.stderr
    assert mps.is_file() and mps.stat().st_size > 0
    ds = read_dataset(out)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    assert h.readModel(str(mps)) == highspy.HighsStatus.kOk
    h.setOptionValue("mip_rel_gap", 1e-9)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    lp = h.getLp()
    assert any(t == highspy.HighsVarType.kInteger for t in lp.integrality_)
    # The MPS objective (with its offset) is what HiGHS solves: MCNY x OBJECTIVE_SCALE (10 kCNY units).
    objective_mcny = h.getInfo().objective_function_value / OBJECTIVE_SCALE
    assert objective_mcny * 1e6 == pytest.approx(ds.attrs["objective_cny"], rel=1e-6)
    assert objective_mcny * 1e6 == pytest.approx(TINY_NPV, rel=1e-6)


# --------------------------------------------------------------------------- time limit


def test_tiny_time_limit_never_tracebacks(tmp_path: Path) -> None:
    # A medium instance (the default cut to 2026-2027, 3 representative days; ~10-20 s to a 0.5 % gap)
    # with a 1 s limit: either a plan flagged as not optimal (exit 0 with a warning) or no plan
    # (exit 1 with the reason) — never a traceback.
    data = restrict_years(load_default_yaml_data(), [2026, 2027])
    data["time"]["representative_days"] = 3
    data["time"]["extreme_days"] = {}
    path = write_scenario(tmp_path, data, "medium.yaml")
    out = tmp_path / "x.nc"
    result = invoke(str(path), "--time-limit", "1", "--no-shadow-prices", "-o", str(out))
    assert_no_traceback(result)
    assert result.exit_code in (0, 1), result.output + result.stderr
    if result.exit_code == 0:
        assert "warning" in result.stdout.lower(), result.stdout
        assert "time_limit" in result.stdout
        ds = read_dataset(out)
        assert ds.attrs["solver_status"] == "time_limit"
    else:
        assert "time limit" in result.stderr.lower(), result.stderr
        assert not out.exists()


def test_time_limit_must_be_positive(tiny_yaml: Path, tmp_path: Path) -> None:
    result = invoke(str(tiny_yaml), "--time-limit", "0", "-o", str(tmp_path / "x.nc"))
    assert_no_traceback(result)
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--time-limit", "nan"),
        ("--time-limit", "inf"),
        ("--time-limit", "1e400"),
        ("--time-limit", "1e9"),
        ("--mip-gap", "nan"),
    ],
)
def test_a_solver_limit_always_applies(tiny_yaml: Path, tmp_path: Path, option: str, value: str) -> None:
    """NaN slips through a plain range check (every comparison is false) and inf has no upper bound:
    both ran HiGHS without a time limit. They are refused, like a time limit above the schema's week."""
    out = tmp_path / "x.nc"
    result = invoke(str(tiny_yaml), option, value, "-o", str(out), "--no-report")
    assert_no_traceback(result)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}'" in result.stderr
    assert not out.exists()


def test_a_sweep_time_limit_must_be_finite(tiny_yaml: Path, tmp_path: Path) -> None:
    sweep = write_yaml(tmp_path / "s.yaml", {"name": "s", "base": str(tiny_yaml), "grid": {"policy.pue_max": [1.2]}})
    result = CliRunner().invoke(cli, ["sweep", str(sweep), "--time-limit", "nan", "--workers", "1"])
    assert_no_traceback(result)
    assert result.exit_code == 2 and "Invalid value for '--time-limit'" in result.stderr
    assert not (tmp_path / "results").exists()
