"""The model-size estimate (planner.model.size) against compiled models, and the refusal of huge ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import DEFAULT_YAML, write_scenario
from tiny import tiny, tiny_data, write_profile

from planner.cli import cli
from planner.model import ModelData, build_model
from planner.model.size import MAX_COLUMNS, MAX_ROWS, check_size, estimate_size
from planner.pipeline import plan_scenario
from planner.scenario import ScenarioError, load_scenario
from planner.solver.highs import compile_model
from planner.time.prepare import prepare_time


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_profile(tmp_path_factory.mktemp("size") / "profile.csv")


def compiled_shape(scenario) -> tuple[int, int]:
    return compile_model(build_model(ModelData(scenario, prepare_time(scenario)))).shape


def assert_close(scenario) -> None:
    rows, columns = compiled_shape(scenario)
    size = estimate_size(scenario)
    assert size.rows == pytest.approx(rows, rel=0.10), (size, rows)
    assert size.columns == pytest.approx(columns, rel=0.10), (size, columns)


def test_estimate_of_the_tiny_scenario(profile: Path) -> None:
    assert_close(tiny(profile))


@pytest.mark.parametrize(
    "changes",
    [
        {"time.representative_days": "monthly", "demand.training.flexibility": 0.5},
        {"power.grid.tariff.fixed_charge_basis": "demand", "policy": {"pue_max": 1.3}, "years": [2026, 2027, 2028]},
    ],
    ids=["monthly-flexible", "demand-charge-3-years"],
)
def test_estimate_of_tiny_variants(profile: Path, changes: dict) -> None:
    assert_close(tiny(profile, changes))


def test_estimate_of_the_default() -> None:
    """The shipped default: build and compile (~3 s), never solve."""
    scenario = load_scenario(DEFAULT_YAML)
    assert_close(scenario)
    size = estimate_size(scenario)
    assert (size.years, size.days, size.pairs, size.cooling, size.ppas) == (5, 12, 13, 3, 2)


def test_full_year_multiplies_the_hourly_part(profile: Path) -> None:
    one = estimate_size(tiny(profile))
    full = estimate_size(tiny(profile, {"time.representative_days": "full"}))
    assert full.days == 365
    assert full.columns - one.columns == 364 * 24 * one.columns_per_hour


def _huge(profile: Path) -> dict:
    """40 years of all 365 days with six server types: about 7.4 million columns."""
    data = tiny_data(profile)
    data["years"] = list(range(2026, 2066))
    data["time"]["representative_days"] = "full"
    for i in range(5):
        data["accelerators"][f"gpu{i}"] = dict(data["accelerators"]["gpu"])
    return data


def test_too_large_a_model_is_refused_by_validate(profile: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", str(write_scenario(tmp_path, _huge(profile)))])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "valid scenario" not in result.stdout
    line = next(x for x in result.stderr.splitlines() if x.startswith("  time.representative_days: "))
    assert "too large" in line and f"{MAX_COLUMNS:,}" in line and "40 years × 365 days" in line
    assert "7,3" in line or "7,4" in line  # the estimate itself, ~7.4 million columns


def test_too_large_a_model_is_refused_before_anything_is_built(
    profile: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = load_scenario(write_scenario(tmp_path, _huge(profile)))

    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was built")

    monkeypatch.setattr("planner.pipeline.prepare_time", no_build)
    monkeypatch.setattr("planner.pipeline.build_model", no_build)
    with pytest.raises(ScenarioError) as info:
        plan_scenario(scenario)
    (problem,) = info.value.problems
    assert problem.path == "time.representative_days" and "instead of 'full'" in problem.message
    assert info.value.source and info.value.source.endswith("scenario.yaml")


def test_solve_refuses_too_large_a_model(profile: Path, tmp_path: Path) -> None:
    file = write_scenario(tmp_path, _huge(profile))
    result = CliRunner().invoke(cli, ["solve", str(file), "--no-report", "-o", str(tmp_path / "x.nc")])
    assert result.exit_code == 2, result.output
    assert "time.representative_days" in result.stderr and "too large" in result.stderr
    assert not (tmp_path / "x.nc").exists()


def test_check_size_passes_the_default_and_states_the_limits() -> None:
    size = check_size(load_scenario(DEFAULT_YAML))
    assert not size.too_large
    assert MAX_COLUMNS >= 1_000_000 and MAX_ROWS >= 1_000_000
    assert "rows" in size.describe() and "12 days" in size.describe()


def test_validate_prints_the_estimate() -> None:
    result = CliRunner().invoke(cli, ["validate", str(DEFAULT_YAML)])
    assert result.exit_code == 0, result.output
    size = estimate_size(load_scenario(DEFAULT_YAML))
    line = next(x for x in result.stdout.splitlines() if x.startswith("model size:"))
    assert f"{size.rows:,} rows × {size.columns:,} columns" in line
