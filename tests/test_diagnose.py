"""Diagnoses of infeasible plans in the user's words (issue 13), and the PUE floor ``plan validate`` checks.

The infeasible cases are the shipped default cut small (2 representative days, fewer years where
the conflict survives the cut): each solves and diagnoses in a few seconds. The lines are asserted
exactly, so a wrong word fails; none may show a model component name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import DEFAULT_YAML, load_default_yaml_data, write_scenario
from horizon import restrict_years

from planner.cli import cli
from planner.scenario import load_scenario
from planner.scenario.checks import pue_floor

#: Model component names a diagnosis must never show (rows, columns and stock definitions; the
#: one-word ones, e.g. ``activity``, are plain English and may appear).
COMPONENTS = (
    "pue_cap green_share certificate_cap certificate_headroom domestic_share eflops_target carbon_cap_limit "
    "purchase_cap hall_limit grid_block_limit generator_limit pv_limit battery_limit_mwh battery_limit_mw "
    "ppa_contract_limit ppa_take ppa_min_take inference_balance training_balance inference_reserve "
    "grid_peak_def it_power_def servers_def facility_power_def halls_new "
    "supply_balance cooling_plant hall_power pv_output battery_balance training_rate_def"
).split()


def default_scenario(tmp_path: Path, years: list[int] | None = None, days: int = 2) -> Path:
    """The shipped default, cut to ``years`` and ``days`` representative days (no extreme days)."""
    data: dict[str, Any] = load_default_yaml_data()
    if years is not None:
        data = restrict_years(data, years)
        # a policy map that starts after the cut horizon is left empty by the cut: the policy is not set
        data["policy"] = {k: v for k, v in data["policy"].items() if v != {}}
    data["time"]["representative_days"] = days
    data["time"]["extreme_days"] = {}
    return write_scenario(tmp_path, data, "cut.yaml")


def solve(path: Path, *sets: str) -> Result:
    args = ["solve", str(path), "--time-limit", "120", "--no-shadow-prices", "--no-report"]
    args += ["-o", str(path.with_suffix(".nc"))]
    for s in sets:
        args += ["--set", s]
    return CliRunner().invoke(cli, args, catch_exceptions=True)


def diagnosis(result: Result) -> list[str]:
    """The lines after ``no plan: ...`` on stderr."""
    assert result.exit_code == 1, result.output + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.rstrip("\n").splitlines()
    assert lines[0].startswith("no plan:"), result.stderr
    return lines[1:]


def assert_users_words(lines: list[str]) -> None:
    """No component name, no index brackets, no snake_case word outside a dotted YAML path."""
    text = "\n".join(lines)
    assert "_def" not in text and "[" not in text and "]" not in text, text
    for word in re.findall(r"[A-Za-z0-9_.]+", text):
        parts = word.split(".")
        if len(parts) > 1 and parts[0] in {"policy", "power", "facility", "accelerators", "cooling"}:
            continue  # a YAML path, e.g. policy.green_share_min
        assert not re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", word.strip(".")), f"internal name {word!r} in: {text}"
    for name in COMPONENTS:
        assert not re.search(rf"(?<![.\w]){name}(?![\w])", text), f"component {name!r} in: {text}"


@pytest.fixture(autouse=True)
def _work_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


# --------------------------------------------------------------------------- (a) PUE cap


def test_validate_refuses_a_pue_cap_below_the_physics() -> None:
    result = CliRunner().invoke(cli, ["validate", str(DEFAULT_YAML), "--set", "policy.pue_max=1.06"])
    assert result.exit_code == 2, result.output + result.stderr
    assert result.stderr.splitlines()[1:] == [
        "  policy.pue_max: 1.06 in 2026–2030 is below what the physics allows: aux losses 5 % + the least "
        "cooling power of any technology (immersion, 3.5 %) give a PUE of at least 1.085"
    ], result.stderr


def test_validate_names_the_years_of_a_pue_map_below_the_floor() -> None:
    result = CliRunner().invoke(
        cli, ["validate", str(DEFAULT_YAML), "--set", "policy.pue_max={2026: 1.3, 2028: 1.08, 2029: 1.07, 2030: 1.2}"]
    )
    assert result.exit_code == 2, result.output + result.stderr
    assert result.stderr.splitlines()[1:] == [
        "  policy.pue_max: 1.08 in 2028, 1.07 in 2029 are below what the physics allows: aux losses 5 % + the "
        "least cooling power of any technology (immersion, 3.5 %) give a PUE of at least 1.085"
    ], result.stderr


def test_solve_validates_the_pue_floor_first(tmp_path: Path) -> None:
    result = solve(default_scenario(tmp_path, [2026]), "policy.pue_max=1.06")
    assert result.exit_code == 2, result.output + result.stderr
    assert "policy.pue_max: 1.06 in 2026 is below what the physics allows" in result.stderr
    assert "Traceback" not in result.stderr


def test_pue_floor_counts_residual_heat_and_only_usable_technologies(tmp_path: Path) -> None:
    data = load_default_yaml_data()
    data["cooling"]["immersion"]["liquid_capture"] = 0.9
    data["cooling"]["immersion"]["residual_heat_to"] = "air"
    s = load_scenario(write_scenario(tmp_path, data, "residual.yaml"))
    least, tech, kappa = pue_floor(s)
    assert tech == "immersion"
    assert kappa == pytest.approx(0.9 * 0.035 + 0.1 * 0.12)
    assert least == pytest.approx(1.05 + 0.9 * 0.035 + 0.1 * 0.12)
    # no server type may use immersion: the floor is the next technology's (DLC, a quarter of its heat to air)
    for a in data["accelerators"].values():
        a["cooling"] = [c for c in a["cooling"] if c != "immersion"]
    s = load_scenario(write_scenario(tmp_path, data, "no_immersion.yaml"))
    least, tech, kappa = pue_floor(s)
    assert tech == "dlc"
    assert kappa == pytest.approx(0.75 * 0.07 + 0.25 * 0.12)
    assert least == pytest.approx(1.05 + kappa)


def test_pue_cap_the_existing_air_fleet_cannot_meet(tmp_path: Path) -> None:
    # 1.10 passes the static floor (1.085) but not in 2026: the air-cooled H20 fleet (PUE >= 1.17)
    # stays in service, and the immersion-capable servers that could dilute it are capped.
    lines = diagnosis(solve(default_scenario(tmp_path, [2026]), "policy.pue_max=1.10"))
    assert lines == [
        "No plan can meet these limits together:",
        "  - the PUE cap of 1.10 in 2026",
        "  - the purchase cap of 3,000 new Ascend 910B servers a year in 2026",
        "  - the purchase cap of 2,000 new MLU590 servers a year in 2026",
        "because 2,000 existing H20 servers in air racks (built 2025, 5-year life) stay in service until 2029 "
        "and cannot retire early",
        "and with aux losses of 5 %, air cooling (at least 12 % of IT power) gives a PUE of at least 1.17, "
        "the best technology (immersion, 3.5 %) at least 1.085",
        "Loosen one of them (e.g. --set policy.pue_max=...) and solve again.",
    ]
    assert_users_words(lines)


# --------------------------------------------------------------------------- (b) green floor


def test_full_green_floor_without_contracts(tmp_path: Path) -> None:
    result = solve(
        default_scenario(tmp_path, [2026, 2027]),
        "policy.green_share_min=1.0",
        "power.ppa={}",
        "power.green_certificates.max_share=0.2",
    )
    lines = diagnosis(result)
    assert lines == [
        "No plan can meet these limits together:",
        "  - the green-power share of at least 100 % in 2026–2027, with no green-power contract to buy "
        "(power.ppa has none)",
        "  - the cap on certificates of 20 % of the green requirement in 2026–2027",
        "  - the PV limit of 60 MWp in 2026–2027",
        "because 2,000 existing H20 servers in air racks (built 2025, 5-year life) stay in service until 2029 "
        "and cannot retire early",
        "Loosen one of them (e.g. --set policy.green_share_min=...) and solve again.",
    ]
    assert len(lines) <= 6
    assert "no certificates can count" not in result.stderr  # the false sentence of issue 13
    assert_users_words(lines)


def test_full_green_floor_with_contracts_closed(tmp_path: Path) -> None:
    lines = diagnosis(
        solve(
            default_scenario(tmp_path, [2026, 2027]),
            "policy.green_share_min=1.0",
            "power.ppa.hydro.max_mw=0",
            "power.ppa.wind.max_mw=0",
            "power.green_certificates.max_share=0.2",
        )
    )
    assert lines == [
        "No plan can meet these limits together:",
        "  - the green-power share of at least 100 % in 2026–2027, with no contract to buy from 'hydro' or "
        "'wind' (0 MW allowed in 2026–2027)",
        "  - the cap on certificates of 20 % of the green requirement in 2026–2027",
        "  - the PV limit of 60 MWp in 2026–2027",
        "because 2,000 existing H20 servers in air racks (built 2025, 5-year life) stay in service until 2029 "
        "and cannot retire early",
        "Loosen one of them (e.g. --set policy.green_share_min=...) and solve again.",
    ]
    assert_users_words(lines)


# --------------------------------------------------------------------------- (c) domestic share


def test_full_domestic_share_while_the_h20_fleet_lives(tmp_path: Path) -> None:
    lines = diagnosis(
        solve(default_scenario(tmp_path), "policy.domestic_compute_share_min={2026: 0.4, 2028: 1.0, 2030: 1.0}")
    )
    assert lines == [
        "No plan can meet these limits together:",
        "  - the domestic compute share of at least 100 % in 2028–2029",
        "because 2,000 existing H20 servers in air racks (built 2025, 5-year life) stay in service until 2029 "
        "and cannot retire early",
        "Loosen one of them (e.g. --set policy.domestic_compute_share_min=...) and solve again.",
    ]
    assert_users_words(lines)
