"""Operating a plan at a finer time resolution (planner/operate.py, ``plan solve --full-year-check``).

The medium instance (the default cut to 2026-2027) is planned on 3 representative days and
operated on 8: every decision must stay as planned, the capital costs must not move, and the
residual checks of ``test_residuals`` (written from DESIGN.md on the Dataset alone) must hold on
the operated Dataset. The tiny instance is operated over the full year (365 days), also through
the CLI, and with a PUE cap its fleet cannot meet, which must be named, not hidden.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
import yaml
from click.testing import CliRunner
from conftest import write_scenario
from test_model_tiny import dlc_cooling
from test_residuals import ALL_CHECKS, medium_data, scenario_of
from tiny import tiny, tiny_data, write_profile

from planner.cli import cli
from planner.pipeline import plan_scenario
from planner.results.io import read_dataset
from planner.scenario import load_scenario
from planner.solver.highs import SolveOptions
from planner.studies.full_year import operate_full_year

#: Planning decisions in the results Dataset (stocks in service; builds follow from them).
DECISIONS = ("servers", "racks", "halls", "cooling_units", "grid_blocks", "pv_mw", "battery_mwh", "generator_units")


@pytest.fixture(scope="module")
def medium_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[xr.Dataset, Any]:
    path = write_scenario(tmp_path_factory.mktemp("operate"), medium_data(representative_days=3), "medium.yaml")
    run = plan_scenario(load_scenario(path), SolveOptions(time_limit_s=60, mip_gap=0.05), shadow_prices=False)
    assert run.dataset is not None
    return run.dataset, operate_full_year(run, representative_days=8)


def test_operation_keeps_every_decision_and_its_capital_cost(medium_pair: tuple[xr.Dataset, Any]) -> None:
    plan, operation = medium_pair
    full = operation.dataset
    assert full is not None and all(y.status == "optimal" for y in operation.years)
    assert plan.sizes["day"] == 3 and full.sizes["day"] == 8
    for name in DECISIONS:
        if name in plan:
            np.testing.assert_allclose(full[name].values, plan[name].values, rtol=1e-9, atol=1e-9, err_msg=name)
    capital = [str(c) for c in plan.component.values if str(c).endswith("_capital") or str(c).startswith("fixed_om")]
    np.testing.assert_allclose(
        full["cost"].sel(component=capital).values, plan["cost"].sel(component=capital).values, rtol=1e-9
    )
    # NPV = discounted sum of the yearly costs, in the operated Dataset too
    npv = float((full["cost"].sum("component") * full["discount_factor"]).sum())
    assert float(full["npv_cny"]) == pytest.approx(npv, rel=1e-9)


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda f: f.__name__.removeprefix("check_"))
def test_operated_dataset_passes_the_residual_checks(medium_pair: tuple[xr.Dataset, Any], check: Any) -> None:
    _, operation = medium_pair
    assert not any(y.relaxed for y in operation.years)  # else check_policy would rightly fail
    check(operation.dataset, scenario_of(operation.dataset))


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_profile(tmp_path_factory.mktemp("operate_tiny") / "profile.csv")


def test_a_limit_the_fixed_plan_cannot_meet_is_named(profile: Path) -> None:
    # Planned without a PUE cap on air cooling (PUE 1.1), then operated under a cap of 1.07: no
    # operation of that fleet meets it, so the year is operated without it and the cap is named.
    # (A DLC option, kappa 0.05, makes 1.07 physically possible, so validation lets the cap through.)
    dlc = {"accelerators.gpu.cooling": ["air", "dlc"], "cooling.dlc": dlc_cooling(capex_cny_per_rack=1e9)}
    run = plan_scenario(tiny(profile, dlc), SolveOptions(mip_gap=1e-9), shadow_prices=False)
    capped = tiny(profile, {**dlc, "policy.pue_max": 1.07})
    run.scenario = capped
    operation = operate_full_year(run)
    assert [y.relaxed for y in operation.years] == [["PUE cap"]]
    assert operation.dataset is not None and operation.dataset.sizes["day"] == 365
    assert float(operation.dataset["pue"].max()) > 1.07
    assert "PUE cap" in operation.dataset.attrs["relaxed_limits"]


def test_cli_full_year_check_writes_and_compares(
    profile: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(yaml.safe_dump(tiny_data(profile)), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["solve", str(scenario), "--full-year-check", "--no-report"])
    assert result.exit_code == 0, result.output + result.stderr
    assert "operated over every hour (365 days a year" in result.output
    full = read_dataset(tmp_path / "results" / "tiny.full-year.nc")
    plan = read_dataset(tmp_path / "results" / "tiny.nc")
    assert full.sizes["day"] == 365 and full.attrs["operated_from_representative_days"] == plan.sizes["day"]
    assert float(full["npv_cny"]) == pytest.approx(float(plan["npv_cny"]), rel=1e-6)  # flat tiny profile


def test_decisions_are_fixed_and_stocks_left_to_their_rows(profile: Path) -> None:
    # Fixing a stock as well as its builds leaves a row of constants that floating point can break
    # (battery_mwh_def of the default failed Pyomo's feasibility check by ~1e-12).
    from planner.model import build_model
    from planner.studies.full_year import is_planning

    m = build_model(tiny(profile, {}))
    fixed = {"servers_new", "racks_new", "halls_new", "cooling_in_use", "site_in_use", "pv_new", "battery_mwh_new"}
    free = {"servers", "racks", "battery_mwh", "pv_mw", "grid_peak", "certificates", "training_unserved", "grid_import"}
    present = {name for name in fixed | free if hasattr(m, name)}
    assert {"servers_new", "servers", "battery_mwh_new", "battery_mwh", "cooling_in_use"} <= present
    for name in present:
        assert is_planning(getattr(m, name)) == (name in fixed), name


def test_a_column_without_a_year_is_refused(profile: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each year's LP takes that year's columns: one with no year would silently stay at 0."""
    import planner.studies.full_year as operate

    run = plan_scenario(tiny(profile), SolveOptions(time_limit_s=60, mip_gap=1e-6), shadow_prices=False)
    real = operate._year_of
    monkeypatch.setattr(operate, "_year_of", lambda index, years: None if index == (2026, 0, 0) else real(index, years))
    with pytest.raises(RuntimeError, match=r"have no year index \(e\.g\. [a-z_]+\[2026,0,0\]\)"):
        operate_full_year(run, representative_days=1)
