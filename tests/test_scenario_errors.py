"""Bad scenario inputs: every one ends in a ScenarioError naming the YAML path, never a traceback.

Each case mutates the default scenario (inputs/2030.yaml), writes it to a temporary file and
loads it through ``load_scenario``; a good share is also run through ``plan validate``, which
must exit with code 2 and print every problem as ``  <path>: <message>`` on stderr.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import (
    DEFAULT_PROFILES,
    DEFAULT_YAML,
    delete_path,
    load_default_yaml_data,
    rename_key,
    set_path,
    write_scenario,
)

from planner.cli import cli
from planner.scenario import ScenarioError, load_scenario, scenario_from_dict

# --------------------------------------------------------------------------- helpers


def _problems(exc: ScenarioError) -> list[tuple[str, str]]:
    return [(p.path, p.message) for p in exc.problems]


def assert_problem(exc: ScenarioError, path: str, phrase: str | tuple[str, ...]) -> None:
    """``path`` is among the problem paths and one of its messages contains every phrase."""
    phrases = (phrase,) if isinstance(phrase, str) else phrase
    paths = [p.path for p in exc.problems]
    assert path in paths, f"no problem at {path!r}; got {_problems(exc)}"
    messages = [p.message for p in exc.problems if p.path == path]
    assert any(all(ph in m for ph in phrases) for m in messages), (
        f"no message at {path!r} contains {phrases}; got {messages}"
    )


def load_error(file: Path, overrides: list[str] | tuple[str, ...] = ()) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(file, overrides)
    return info.value


def run_validate(file: Path, *overrides: str) -> Any:
    args = ["validate", str(file)]
    for o in overrides:
        args += ["--set", o]
    return CliRunner().invoke(cli, args)


def assert_cli_bad_input(result: Any, path: str, phrase: str | tuple[str, ...] = ()) -> None:
    """Exit code 2, ``  <path>: `` on stderr (``(file)`` for file-level problems), no traceback."""
    assert "Traceback" not in result.output
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    shown = path or "(file)"
    assert f"  {shown}: " in result.stderr, result.stderr
    phrases = (phrase,) if isinstance(phrase, str) else phrase
    for ph in phrases:
        assert ph in result.stderr, result.stderr


# --------------------------------------------------------------------------- mutations


@dataclass(frozen=True)
class Set:
    path: str
    value: Any

    def __call__(self, data: dict[str, Any]) -> None:
        set_path(data, self.path, self.value)


@dataclass(frozen=True)
class Delete:
    path: str

    def __call__(self, data: dict[str, Any]) -> None:
        delete_path(data, self.path)


@dataclass(frozen=True)
class Rename:
    path: str
    new: str

    def __call__(self, data: dict[str, Any]) -> None:
        rename_key(data, self.path, self.new)


@dataclass(frozen=True)
class Add:
    """Add a key next to ``path``'s parent (``path`` names the new key)."""

    path: str
    value: Any

    def __call__(self, data: dict[str, Any]) -> None:
        set_path(data, self.path, self.value)


Mutation = Callable[[dict[str, Any]], None]

NAN, INF = math.nan, math.inf
PEAK = "demand.inference.peak_tokens_per_s"
FLAT = "power.grid.tariff.flat_cny_per_kwh"
SEASONS = "power.grid.tariff.seasons"

# (id, mutation, expected path, key phrase(s) of the message, also through the CLI)
CASES: list[tuple[str, Mutation, str, str | tuple[str, ...], bool]] = [
    # wrong types
    ("string-for-count", Set("facility.max_halls", "forty"), "facility.max_halls", "valid integer", True),
    (
        "string-for-int",
        Set("accelerators.h20.accelerators_per_server", "eight"),
        "accelerators.h20.accelerators_per_server",
        "valid integer",
        False,
    ),
    (
        "fraction-for-count",
        Set("existing.servers[0].count", 1.5),
        "existing.servers[0].count",
        ("must be a whole number", "fractional part"),
        True,
    ),
    (
        "list-for-scalar",
        Set("accelerators.h20.full_kw", [5, 6]),
        "accelerators.h20.full_kw",
        ("kW", "got list"),
        True,
    ),
    ("list-for-series", Set(FLAT, [0.4, 0.5]), FLAT, ("{year: value} map", "got a list"), False),
    (
        "mapping-for-string",
        Set("accelerators.h20.vendor", {"name": "NVIDIA"}),
        "accelerators.h20.vendor",
        "valid string",
        True,
    ),
    ("mapping-for-name", Set("name", {"a": 1}), "name", "valid string", False),
    (
        "string-for-list",
        Set("accelerators.h20.cooling", "air"),
        "accelerators.h20.cooling",
        "valid list",
        False,
    ),
    (
        "string-for-section",
        Set("cooling.air.plant", "big"),
        "cooling.air.plant",
        "expected a section of keys (a mapping), got 'big'",
        True,
    ),
    (
        "empty-section",
        Set("power.grid", None),
        "power.grid",
        "expected a section of keys (a mapping), got null",
        False,
    ),
    (
        "list-for-section",
        Set("power.battery", [1, 2]),
        "power.battery",
        "expected a section of keys (a mapping), got [1, 2]",
        False,
    ),
    (
        "bad-boolean",
        Set("accelerators.h20.domestic", "maybe"),
        "accelerators.h20.domestic",
        "valid boolean",
        False,
    ),
    (
        "boolean-for-number",
        Set("accelerators.h20.full_kw", True),
        "accelerators.h20.full_kw",
        "boolean",
        True,
    ),
    (
        "bad-literal",
        Set("cooling.air.basis", "drybulb"),
        "cooling.air.basis",
        "'dry_bulb' or 'wet_bulb'",
        True,
    ),
    ("bad-currency", Set("currency", "USD"), "currency", "'CNY'", False),
    (
        "bad-name-key",
        Add(
            "power.ppa.hydro-2",
            {"availability_column": "hydro_availability", "energy_cny_per_kwh": 0.3, "max_mw": 10},
        ),
        "power.ppa.hydro-2",
        "names use letters, digits and underscores and start with a letter (got 'hydro-2')",
        False,
    ),
    (
        "name-too-long",
        Set("accelerators.h20.cooling", ["air", "a" * 65]),
        "accelerators.h20.cooling[1]",
        "names have at most 64 characters",
        False,
    ),
    ("empty-years", Set("years", []), "years", "must list at least one item", False),
    ("no-accelerators", Set("accelerators", {}), "accelerators", "must have at least one entry", False),
    # negative, zero, out of range
    (
        "negative-full-kw",
        Set("accelerators.h20.full_kw", -5),
        "accelerators.h20.full_kw",
        "must be > 0",
        True,
    ),
    ("zero-full-kw", Set("accelerators.h20.full_kw", 0), "accelerators.h20.full_kw", "must be > 0", False),
    (
        "idle-above-full",
        Set("accelerators.h20.idle_kw", 9),
        "accelerators.h20.idle_kw",
        "idle_kw (9 kW) must not exceed full_kw (5.8 kW)",
        True,
    ),
    (
        "battery-efficiency-1.5",
        Set("power.battery.charge_efficiency", 1.5),
        "power.battery.charge_efficiency",
        "must be <= 1",
        True,
    ),
    (
        "battery-efficiency-0",
        Set("power.battery.discharge_efficiency", 0),
        "power.battery.discharge_efficiency",
        "must be > 0",
        False,
    ),
    ("discount-rate-1", Set("finance.discount_rate", 1.0), "finance.discount_rate", "must be < 1", False),
    (
        "month-0",
        Set(f"{SEASONS}[0].months", [0, 3, 4, 5, 6, 10, 11]),
        f"{SEASONS}[0].months[0]",
        "must be >= 1",
        False,
    ),
    ("negative-in-year-map", Set(FLAT, {2026: -1, 2030: 0.4}), FLAT, "at 2026: must be > 0", True),
    (
        "last-year-1999",
        Set("accelerators.h20.last_year", 1999),
        "accelerators.h20.last_year",
        ">= 2000",
        False,
    ),
    (
        "cooling-band-inverted",
        Set("cooling.air.mechanical_above_c", 5),
        "cooling.air.mechanical_above_c",
        "must be above free_cooling_below_c",
        False,
    ),
    ("pue-below-1", Set("policy.pue_max", 0.9), "policy.pue_max", "must be >= 1", False),
    (
        "redundancy-too-high",
        Set("power.grid.redundancy", 11),
        "power.grid.redundancy",
        "must be <= 10",
        False,
    ),
    (
        "rack-too-tall",
        Set("accelerators.h20.rack_units", 50),
        "accelerators.h20.rack_units",
        "taller than a 'air' rack",
        False,
    ),
    (
        "server-fits-no-rack",
        Set("accelerators.h20.full_kw", 90),
        "accelerators.h20.full_kw",
        "does not fit in a rack",
        False,
    ),
    # unknown and missing keys
    ("unknown-top-level", Add("polcy", {"pue_max": 1.2}), "polcy", "did you mean 'policy'?", True),
    (
        "misspelt-nested",
        Add("accelerators.h20.ful_kw", 5),
        "accelerators.h20.ful_kw",
        "did you mean 'full_kw'?",
        True,
    ),
    ("misspelt-deep", Add(f"{FLAT[:-1]}", 0.4), FLAT[:-1], "did you mean 'flat_cny_per_kwh'?", False),
    (
        "renamed-required",
        Rename("accelerators.h20.full_kw", "ful_kw"),
        "accelerators.h20.ful_kw",
        "did you mean 'full_kw'?",
        True,
    ),
    (
        "missing-required",
        Delete("power.grid.max_blocks"),
        "power.grid.max_blocks",
        "missing required key",
        True,
    ),
    # units
    (
        "energy-for-power",
        Set("accelerators.h20.full_kw", "5 kWh"),
        "accelerators.h20.full_kw",
        ("kW", "wrong dimension"),
        True,
    ),
    (
        "energy-price-for-demand-charge",
        Set("power.grid.tariff.demand_cny_per_kw_month", "0.4 CNY/kWh"),
        "power.grid.tariff.demand_cny_per_kw_month",
        (
            "mixes up an energy price and a charge per period",
            "expected CNY/kW/month (money per power per period)",
            "got CNY/kWh (money per energy)",
        ),
        True,
    ),
    (
        "demand-charge-for-energy-price",
        Set(FLAT, "27 CNY/kW/month"),
        FLAT,
        (
            "mixes up an energy price and a charge per period",
            "expected CNY/kWh (money per energy)",
            "got CNY/kW/month (money per power per period)",
        ),
        False,
    ),
    (
        "unknown-unit",
        Set("accelerators.h20.full_kw", "5 blorps"),
        "accelerators.h20.full_kw",
        "unknown unit 'blorps'",
        True,
    ),
    (
        "unit-without-number",
        Set("accelerators.h20.full_kw", "kW"),
        "accelerators.h20.full_kw",
        "cannot read 'kW'",
        False,
    ),
    (
        "power-for-temperature",
        Set("cooling.air.free_cooling_below_c", "5 kW"),
        "cooling.air.free_cooling_below_c",
        "temperature",
        False,
    ),
    # bounds of a unit field are checked after conversion and shown in the canonical unit
    (
        "kelvin-below-range",
        Set("cooling.air.free_cooling_below_c", "8 K"),
        "cooling.air.free_cooling_below_c",
        "must be >= -40 °C (got -265.15 °C from '8 K')",
        True,
    ),
    (
        "watts-not-positive",
        Set("accelerators.h20.full_kw", "-5800 W"),
        "accelerators.h20.full_kw",
        "must be > 0 kW (got -5.8 kW from '-5800 W')",
        False,
    ),
    (
        "percent-above-one",
        Set("power.battery.charge_efficiency", "150 %"),
        "power.battery.charge_efficiency",
        "must be <= 1 (got 1.5 from '150 %')",
        False,
    ),
    # non-finite numbers
    ("nan", Set("accelerators.h20.full_kw", NAN), "accelerators.h20.full_kw", "finite", True),
    ("inf", Set("accelerators.h20.full_kw", INF), "accelerators.h20.full_kw", "finite", False),
    ("minus-inf-series", Set(PEAK, -INF), PEAK, "finite", False),
    ("nan-in-year-map", Set(PEAK, {2026: NAN, 2030: 3e8}), PEAK, "at 2026: expected a finite number", True),
    ("inf-for-int", Set("accelerators.h20.rack_units", INF), "accelerators.h20.rack_units", "finite", False),
    # year maps and years
    (
        "map-misses-first-year",
        Set(PEAK, {2027: 1.1e8, 2030: 2.9e8}),
        PEAK,
        ("2026", "give a value for 2026"),
        True,
    ),
    (
        "map-misses-last-year",
        Set(PEAK, {2026: 6e7, 2029: 2.3e8}),
        PEAK,
        ("2030", "give a value for 2030"),
        True,
    ),
    (
        "policy-year-before",
        Set("policy.pue_max", {2024: 1.4, 2030: 1.2}),
        "policy.pue_max",
        ("[2024]", "outside the planning horizon"),
        True,
    ),
    (
        "policy-year-after",
        Set("policy.green_share_min", {2026: 0.6, 2031: 0.8}),
        "policy.green_share_min",
        ("[2031]", "outside the planning horizon"),
        False,
    ),
    (
        "policy-misses-last-year",
        Set("policy.pue_max", {2026: 1.3, 2028: 1.2}),
        "policy.pue_max",
        "give a value for 2030",
        False,
    ),
    ("year-key-not-a-year", Set(PEAK, {"soon": 1, 2030: 2}), PEAK, "whole years", False),
    ("year-twice", Set(PEAK, {2026: 1, "2026": 2, 2030: 3}), PEAK, "a year appears twice", False),
    ("empty-year-map", Set(PEAK, {}), PEAK, "an empty map", False),
    (
        "years-not-increasing",
        Set("years", [2026, 2028, 2027, 2029, 2030]),
        "years",
        "strictly increasing",
        True,
    ),
    ("years-repeated", Set("years", [2026, 2026, 2027]), "years", "strictly increasing", False),
    ("years-not-consecutive", Set("years", [2026, 2027, 2029]), "years", "consecutive", True),
    (
        "first-year-after-horizon",
        Set("accelerators.h200.first_year", 2031),
        "accelerators.h200.first_year",
        "after the horizon ends",
        False,
    ),
    # names that must exist
    (
        "unknown-cooling",
        Set("accelerators.h20.cooling", ["air", "dcl"]),
        "accelerators.h20.cooling[1]",
        ("unknown cooling technology 'dcl'", "did you mean 'dlc'?"),
        True,
    ),
    (
        "cooling-listed-twice",
        Set("accelerators.h20.cooling", ["air", "air"]),
        "accelerators.h20.cooling",
        "listed twice",
        False,
    ),
    (
        "existing-unknown-accelerator",
        Set("existing.servers[0].accelerator", "ascend_910"),
        "existing.servers[0].accelerator",
        ("unknown server type 'ascend_910'", "did you mean"),
        True,
    ),
    (
        "existing-built-in-horizon",
        Set("existing.servers[0].year_built", 2027),
        "existing.servers[0].year_built",
        "not before the first planning year (2026)",
        True,
    ),
    (
        "existing-rack-built-in-horizon",
        Set("existing.racks[0].year_built", 2026),
        "existing.racks[0].year_built",
        "not before the first planning year",
        False,
    ),
    (
        "existing-disallowed-cooling",
        Set("existing.servers[1].cooling", "immersion"),
        "existing.servers[1].cooling",
        "'h20' servers cannot be installed in 'immersion' racks",
        True,
    ),
    (
        "existing-unknown-cooling",
        Set("existing.cooling_units[0].cooling", "aire"),
        "existing.cooling_units[0].cooling",
        "did you mean 'air'?",
        False,
    ),
    # tariff
    (
        "season-misses-month",
        Set(f"{SEASONS}[1].months", [7, 8]),
        SEASONS,
        "months [9] are in no season",
        True,
    ),
    (
        "season-repeats-month",
        Set(f"{SEASONS}[1].months", [7, 8, 9, 10]),
        f"{SEASONS}[1].months",
        "month 10 is already in season 'spring_autumn'",
        True,
    ),
    (
        "month-twice-in-season",
        Set(f"{SEASONS}[2].months", [12, 1, 1, 2]),
        f"{SEASONS}[2].months",
        "month 1 is already in season 'winter'",
        False,
    ),
    ("hour-range-25-3", Set(f"{SEASONS}[0].peak", ["25-3"]), f"{SEASONS}[0].peak[0]", "within 0-24", True),
    (
        "hour-range-empty",
        Set(f"{SEASONS}[0].valley", ["10-10"]),
        f"{SEASONS}[0].valley[0]",
        "must not be empty",
        False,
    ),
    (
        "hour-range-text",
        Set("power.grid.tariff.critical[0].hours", ["one-two"]),
        "power.grid.tariff.critical[0].hours[0]",
        "'start-end'",
        False,
    ),
    (
        "hour-range-as-list",
        Set(f"{SEASONS}[0].peak", [[10, 25]]),
        f"{SEASONS}[0].peak[0]",
        "within 0-24",
        False,
    ),
    (
        "non-floating-above-flat",
        Set("power.grid.tariff.non_floating_cny_per_kwh", 0.5),
        "power.grid.tariff.non_floating_cny_per_kwh",
        "must be below the flat price",
        False,
    ),
    # representative days
    (
        "representative-days-0",
        Set("time.representative_days", 0),
        "time.representative_days",
        "from 1 to 365",
        True,
    ),
    (
        "representative-days-400",
        Set("time.representative_days", 400),
        "time.representative_days",
        "from 1 to 365",
        False,
    ),
    (
        "representative-days-weekly",
        Set("time.representative_days", "weekly"),
        "time.representative_days",
        ("'monthly' or 'full'", "'weekly'"),
        True,
    ),
    (
        "representative-days-bool",
        Set("time.representative_days", True),
        "time.representative_days",
        "from 1 to 365",
        False,
    ),
    (
        "representative-days-too-few",
        Set("time.representative_days", 2),
        "time.representative_days",
        "no room for typical days",
        False,
    ),
    (
        "extreme-day-kind",
        Set("time.extreme_days", {"wet_bulb_c": "maximum"}),
        "time.extreme_days.wet_bulb_c",
        "'max' or 'min'",
        False,
    ),
    # columns of the profile file
    (
        "ppa-column-missing",
        Set("power.ppa.hydro.availability_column", "hydro_avail"),
        "power.ppa.hydro.availability_column",
        ("no column 'hydro_avail' in the profile file", "did you mean 'hydro_availability'?"),
        True,
    ),
    (
        "pv-column-missing",
        Set("power.pv.profile_column", "solar_cf"),
        "power.pv.profile_column",
        "no column 'solar_cf'",
        False,
    ),
    (
        "extreme-day-column-missing",
        Set("time.extreme_days", {"wetbulb_c": "max", "inference_shape": "max"}),
        "time.extreme_days.wetbulb_c",
        "did you mean 'wet_bulb_c'?",
        False,
    ),
    (
        "profiles-missing",
        Set("time.profiles", "/nonexistent/dir/profiles.csv"),
        "time.profiles",
        "file not found",
        True,
    ),
    (
        "profiles-is-a-list",
        Set("time.profiles", ["a.csv"]),
        "time.profiles",
        "expected a file path, got ['a.csv']",
        False,
    ),
]

_PARAMS = [pytest.param(m, p, ph, id=i) for i, m, p, ph, _ in CASES]
_CLI_PARAMS = [pytest.param(m, p, ph, id=i) for i, m, p, ph, cli_too in CASES if cli_too]


def _mutated_file(tmp_path: Path, mutation: Mutation) -> Path:
    data = load_default_yaml_data()
    mutation(data)
    return write_scenario(tmp_path, data)


def test_enough_cases() -> None:
    assert len(CASES) >= 30
    assert len(_CLI_PARAMS) >= 15
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize(("mutation", "path", "phrase"), _PARAMS)
def test_bad_value_library(tmp_path: Path, mutation: Mutation, path: str, phrase: str | tuple[str, ...]) -> None:
    exc = load_error(_mutated_file(tmp_path, mutation))
    assert_problem(exc, path, phrase)
    assert exc.source is not None and exc.source.endswith("scenario.yaml")
    # the error's text lists every problem with its path
    assert f"  {path}: " in str(exc)


@pytest.mark.parametrize(("mutation", "path", "phrase"), _CLI_PARAMS)
def test_bad_value_cli(tmp_path: Path, mutation: Mutation, path: str, phrase: str | tuple[str, ...]) -> None:
    result = run_validate(_mutated_file(tmp_path, mutation))
    assert_cli_bad_input(result, path, phrase)


def test_default_problem_free_control(tmp_path: Path) -> None:
    """The unmutated default, written the same way, loads (so each case above fails for its mutation)."""
    assert load_scenario(write_scenario(tmp_path, load_default_yaml_data())).name == "tianfu-2030"


# --------------------------------------------------------------------------- several errors at once


def test_three_independent_errors_reported_together(tmp_path: Path) -> None:
    data = load_default_yaml_data()
    set_path(data, "accelerators.h20.full_kw", -5)
    set_path(data, "power.battery.charge_efficiency", 1.5)
    data["polcy"] = {"pue_max": 1.2}
    file = write_scenario(tmp_path, data)
    exc = load_error(file)
    assert_problem(exc, "accelerators.h20.full_kw", "must be > 0")
    assert_problem(exc, "power.battery.charge_efficiency", "must be <= 1")
    assert_problem(exc, "polcy", "did you mean 'policy'?")
    assert len(exc.problems) == 3
    result = run_validate(file)
    assert_cli_bad_input(result, "accelerators.h20.full_kw")
    assert "3 problems in the input" in result.stderr
    for path in ("power.battery.charge_efficiency", "polcy"):
        assert f"  {path}: " in result.stderr


def test_three_cross_field_errors_reported_together(tmp_path: Path) -> None:
    data = load_default_yaml_data()
    set_path(data, "accelerators.h20.cooling", ["air", "dcl"])
    set_path(data, f"{SEASONS}[1].months", [7, 8])
    set_path(data, "existing.servers[0].year_built", 2028)
    exc = load_error(write_scenario(tmp_path, data))
    assert_problem(exc, "accelerators.h20.cooling[1]", "did you mean 'dlc'?")
    assert_problem(exc, SEASONS, "[9]")
    assert_problem(exc, "existing.servers[0].year_built", "2028")


# --------------------------------------------------------------------------- the file itself


def _write_text(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _default_text_with_absolute_profiles() -> str:
    text = DEFAULT_YAML.read_text(encoding="utf-8")
    return text.replace("profiles: profiles/chengdu.csv", f"profiles: {DEFAULT_PROFILES}", 1)


def test_syntax_error_names_line(tmp_path: Path) -> None:
    lines = _default_text_with_absolute_profiles().splitlines()
    i = next(n for n, line in enumerate(lines) if line.startswith("years:"))
    lines[i] = "years: [2026, 2027, 2028, 2029, 2030"  # unclosed flow sequence
    file = _write_text(tmp_path, "\n".join(lines) + "\n")
    exc = load_error(file)
    assert_problem(exc, "", "not valid YAML")
    message = exc.problems[0].message
    assert "line " in message
    line = int(message.split("line ")[1].split(",")[0])
    assert i + 1 <= line <= i + 4  # PyYAML reports where it noticed: the line after the open bracket
    # ... and where the construct it was reading began: the line with the open bracket
    assert f"while parsing a flow sequence that began at line {i + 1}, column 8" in message
    assert_cli_bad_input(run_validate(file), "", ("not valid YAML", "line ", "while parsing a flow sequence"))


def test_bad_indentation_names_line(tmp_path: Path) -> None:
    file = _write_text(tmp_path, "name: x\n  years: [2026]\n")
    exc = load_error(file)
    assert_problem(exc, "", ("not valid YAML", "line 2"))


def test_duplicate_key(tmp_path: Path) -> None:
    text = _default_text_with_absolute_profiles().replace("currency: CNY\n", "currency: CNY\nname: again\n", 1)
    file = _write_text(tmp_path, text)
    exc = load_error(file)
    assert_problem(exc, "", ("duplicate key 'name'", "line "))
    assert_cli_bad_input(run_validate(file), "", "duplicate key 'name'")


def test_duplicate_nested_year_key(tmp_path: Path) -> None:
    text = _default_text_with_absolute_profiles().replace("{2026: 0.432, 2030: 0.452}", "{2026: 0.432, 2026: 0.452}")
    exc = load_error(_write_text(tmp_path, text))
    assert_problem(exc, "", "duplicate key 2026")


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"], ids=["empty", "blank", "comment", "doc"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    file = _write_text(tmp_path, text)
    assert_problem(load_error(file), "", "the file is empty")
    assert_cli_bad_input(run_validate(file), "", "the file is empty")


@pytest.mark.parametrize(
    ("text", "kind"),
    [("- a\n- b\n", "list"), ("just text\n", "str"), ("42\n", "int")],
    ids=["list", "str", "int"],
)
def test_top_level_not_a_mapping(tmp_path: Path, text: str, kind: str) -> None:
    file = _write_text(tmp_path, text)
    assert_problem(load_error(file), "", ("must be a mapping", kind))
    assert_cli_bad_input(run_validate(file), "", "must be a mapping")


def test_duplicate_key_next_to_a_merge_key(tmp_path: Path) -> None:
    """Keys from ``<<`` may be overridden; two explicit keys in one mapping are still duplicates."""
    file = _write_text(tmp_path, "base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n  y: 3\n")
    assert_problem(load_error(file), "", ("duplicate key 'y'", "line 5"))


def test_too_many_aliases(tmp_path: Path) -> None:
    aliases = ", ".join(["*a"] * 10_001)
    file = _write_text(tmp_path, f"x_anchor: &a 1\nx_many: [{aliases}]\n")
    start = time.perf_counter()
    exc = load_error(file)
    assert time.perf_counter() - start < 2
    assert_problem(exc, "", ("too many YAML aliases", "10,000", "line 2"))
    assert len(exc.problems) == 1


def test_a_directory_as_the_scenario_file(tmp_path: Path) -> None:
    exc = load_error(tmp_path)
    assert_problem(exc, "", "is a directory, not a scenario file")
    assert_cli_bad_input(run_validate(tmp_path), "", "is a directory, not a scenario file")


@pytest.mark.parametrize("name", ["in\0valid.yaml", "x" * 5000 + ".yaml"], ids=["nul", "too-long"])
def test_unreadable_scenario_path(tmp_path: Path, name: str) -> None:
    assert_problem(load_error(tmp_path / name), "", "cannot read the file")


def test_missing_file(tmp_path: Path) -> None:
    file = tmp_path / "nope.yaml"
    assert_problem(load_error(file), "", "file not found")
    assert_cli_bad_input(run_validate(file), "", "file not found")


def test_not_utf8(tmp_path: Path) -> None:
    file = tmp_path / "latin1.yaml"
    file.write_bytes("name: caf\xe9\n".encode("latin-1"))
    assert_problem(load_error(file), "", "not UTF-8")


def test_python_tag_is_not_constructed(tmp_path: Path) -> None:
    file = _write_text(tmp_path, "name: !!python/object/apply:os.getcwd []\n")
    assert_problem(load_error(file), "", "not valid YAML")


def test_wrong_type_in_raw_yaml_text(tmp_path: Path) -> None:
    """YAML's own spellings of non-finite numbers, written by hand rather than by the dumper."""
    text = _default_text_with_absolute_profiles()
    text = text.replace("    full_kw: 5.8 ", "    full_kw: .NaN ", 1).replace("max_mwh: 400 ", "max_mwh: -.inf ", 1)
    exc = load_error(_write_text(tmp_path, text))
    assert_problem(exc, "accelerators.h20.full_kw", "finite")
    assert_problem(exc, "power.battery.max_mwh", "finite")


# --------------------------------------------------------------------------- extends


def test_extends_missing_base(tmp_path: Path) -> None:
    file = _write_text(tmp_path, "extends: no_such_base.yaml\nname: child\n")
    exc = load_error(file)
    assert_problem(exc, "extends", ("base scenario not found", "no_such_base.yaml"))
    assert_cli_bad_input(run_validate(file), "extends", "base scenario not found")


def test_extends_cycle(tmp_path: Path) -> None:
    a = _write_text(tmp_path, "extends: b.yaml\nname: a\n", "a.yaml")
    _write_text(tmp_path, "extends: a.yaml\nname: b\n", "b.yaml")
    exc = load_error(a)
    assert_problem(exc, "extends", ("cycle of extends", "a.yaml -> ", "b.yaml -> "))
    assert_cli_bad_input(run_validate(a), "extends", "cycle of extends")


def test_extends_itself(tmp_path: Path) -> None:
    file = _write_text(tmp_path, "extends: ./self.yaml\n", "self.yaml")
    assert_problem(load_error(file), "extends", "cycle of extends")


@pytest.mark.parametrize("value", ["5", "[a.yaml]", "{path: a.yaml}", "''", "true"])
def test_extends_not_a_path(tmp_path: Path, value: str) -> None:
    file = _write_text(tmp_path, f"extends: {value}\nname: child\n")
    assert_problem(load_error(file), "extends", "must be a path to a base scenario")
    assert_cli_bad_input(run_validate(file), "extends", "must be a path")


def test_extends_a_directory(tmp_path: Path) -> None:
    file = _write_text(tmp_path, "extends: .\n")
    assert_problem(load_error(file), "extends", "base scenario not found")


def test_extends_broken_base_names_the_base(tmp_path: Path) -> None:
    _write_text(tmp_path, "name: [unclosed\n", "base.yaml")
    child = _write_text(tmp_path, "extends: base.yaml\nname: child\n", "child.yaml")
    exc = load_error(child)
    assert_problem(exc, "", "not valid YAML")
    assert exc.source is not None and exc.source.endswith("base.yaml")


def test_extends_too_deep(tmp_path: Path) -> None:
    for i in range(20):
        _write_text(tmp_path, f"extends: s{i + 1}.yaml\n" if i < 19 else "name: x\n", f"s{i}.yaml")
    assert_problem(load_error(tmp_path / "s0.yaml"), "extends", "levels of extends")


def test_extends_child_error_has_yaml_path(tmp_path: Path) -> None:
    base = os.path.relpath(DEFAULT_YAML, tmp_path)
    child = _write_text(tmp_path, f"extends: {base}\naccelerators:\n  h20:\n    ful_kw: 6\n")
    exc = load_error(child)
    assert_problem(exc, "accelerators.h20.ful_kw", "did you mean 'full_kw'?")


# --------------------------------------------------------------------------- --set


@pytest.fixture
def default_file(tmp_path: Path) -> Path:
    return write_scenario(tmp_path, load_default_yaml_data())


SET_CASES = [
    pytest.param("policy.pue_max", "--set policy.pue_max", "expected KEY.PATH=VALUE", id="no-equals"),
    pytest.param("policy..pue_max=1.2", "--set policy..pue_max=1.2", "empty part", id="empty-part"),
    pytest.param("=1.2", "--set =1.2", "key path is empty", id="empty-path"),
    pytest.param("policy.pue_max.=1.2", "--set policy.pue_max.=1.2", "empty part", id="trailing-dot"),
    pytest.param("policy.pue_mx=1.2", "policy.pue_mx", "did you mean 'pue_max'?", id="unknown-key"),
    pytest.param("polcy.pue_max=1.2", "polcy", "did you mean 'policy'?", id="unknown-section"),
    pytest.param("accelerators.h20.ful_kw=6", "accelerators.h20.ful_kw", "did you mean 'full_kw'?", id="unknown-leaf"),
    pytest.param("accelerators.h20.full_kw=abc", "accelerators.h20.full_kw", "cannot read 'abc'", id="wrong-type"),
    pytest.param("accelerators.h20.full_kw=-5", "accelerators.h20.full_kw", "must be > 0", id="out-of-range"),
    pytest.param("accelerators.h20.full_kw=5 kWh", "accelerators.h20.full_kw", "wrong dimension", id="wrong-unit"),
    pytest.param("facility.max_halls=[1, 2]", "facility.max_halls", "valid integer", id="list-for-count"),
    pytest.param("name=[1,", "--set name", "value is not valid YAML", id="invalid-yaml"),
    pytest.param("name={a: 1, a: 2}", "--set name", "duplicate key", id="duplicate-key-in-value"),
    pytest.param(
        "accelerators.h20.full_kw.x=1",
        "--set accelerators.h20.full_kw.x",
        "accelerators.h20.full_kw is a value, not a section",
        id="into-a-value",
    ),
    pytest.param(
        "accelerators.h20.full_kw.x.y=1",
        "--set accelerators.h20.full_kw.x.y",
        "accelerators.h20.full_kw is a value, not a section",
        id="below-a-value",
    ),
    pytest.param(
        "existing.servers.7.count=1",
        "--set existing.servers.7.count",
        "the list existing.servers has no item 7",
        id="bad-index",
    ),
    pytest.param("years.9=2031", "--set years.9", "the list years has no item 9", id="bad-last-index"),
    pytest.param("years.first=2031", "--set years.first", "the list years has no item first", id="not-an-index"),
    pytest.param(f"{PEAK}={{2027: 1e8, 2030: 3e8}}", PEAK, "give a value for 2026", id="year-map-coverage"),
    pytest.param("years=[2026, 2028]", "years", "consecutive", id="years"),
    pytest.param(
        "power.ppa.hydro.availability_column=hydro",
        "power.ppa.hydro.availability_column",
        "no column 'hydro'",
        id="profile-column",
    ),
]


@pytest.mark.parametrize(("override", "path", "phrase"), SET_CASES)
def test_bad_set(default_file: Path, override: str, path: str, phrase: str) -> None:
    exc = load_error(default_file, [override])
    assert_problem(exc, path, phrase)
    assert_cli_bad_input(run_validate(default_file, override), path, phrase)


def test_several_bad_sets_reported_together(default_file: Path) -> None:
    exc = load_error(default_file, ["nope", "name=[1,", "accelerators.h20.full_kw.x=1"])
    assert [p.path for p in exc.problems] == ["--set nope", "--set name", "--set accelerators.h20.full_kw.x"]


def test_set_errors_and_file_errors_both_reach_validation(tmp_path: Path) -> None:
    data = load_default_yaml_data()
    set_path(data, "power.battery.charge_efficiency", 1.5)
    file = write_scenario(tmp_path, data)
    exc = load_error(file, ["accelerators.h20.full_kw=-5"])
    assert_problem(exc, "power.battery.charge_efficiency", "must be <= 1")
    assert_problem(exc, "accelerators.h20.full_kw", "must be > 0")


# --------------------------------------------------------------------------- the profile CSV


def _profile_lines() -> tuple[list[str], int]:
    lines = DEFAULT_PROFILES.read_text(encoding="utf-8").splitlines(keepends=True)
    header = next(i for i, line in enumerate(lines) if line.strip() and not line.startswith("#"))
    return lines, header


def _with_profiles(tmp_path: Path, csv_text: str) -> Path:
    csv_path = tmp_path / "broken.csv"
    csv_path.write_text(csv_text, encoding="utf-8")
    data = load_default_yaml_data()
    data["time"]["profiles"] = str(csv_path)
    return write_scenario(tmp_path, data)


def test_truncated_profile(tmp_path: Path) -> None:
    lines, header = _profile_lines()
    file = _with_profiles(tmp_path, "".join(lines[: header + 1 + 8000]))
    exc = load_error(file)
    assert_problem(exc, "time.profiles", ("broken.csv", "8760", "8000"))
    assert_cli_bad_input(run_validate(file), "time.profiles", "8760")


def test_text_in_profile_number_column(tmp_path: Path) -> None:
    lines, header = _profile_lines()
    row = header + 100
    cells = lines[row].rstrip("\n").split(",")
    cells[2] = "warm"
    lines[row] = ",".join(cells) + "\n"
    file = _with_profiles(tmp_path, "".join(lines))
    exc = load_error(file)
    column = lines[header].split(",")[2].strip()
    assert_problem(exc, "time.profiles", (f"'{column}'", "non-numeric", "'warm'", "data row 100"))
    assert_cli_bad_input(run_validate(file), "time.profiles", "non-numeric")


def test_profile_missing_a_ppa_column(tmp_path: Path) -> None:
    """A profile file that is valid on its own but lacks the column a PPA names."""
    lines, header = _profile_lines()
    names = [c.strip() for c in lines[header].split(",")]
    keep = [i for i, n in enumerate(names) if n != "wind_availability"]
    out = [line for line in lines[:header]]
    for line in lines[header:]:
        cells = line.rstrip("\n").split(",")
        out.append(",".join(cells[i] for i in keep) + "\n")
    file = _with_profiles(tmp_path, "".join(out))
    exc = load_error(file)
    assert_problem(exc, "time.profiles", "wind_availability")


def test_profile_problem_names_the_file_once(tmp_path: Path) -> None:
    data = load_default_yaml_data()
    missing = str(tmp_path / "nowhere" / "p.csv")
    data["time"]["profiles"] = missing
    exc = load_error(write_scenario(tmp_path, data))
    assert_problem(exc, "time.profiles", "file not found")
    message = next(p.message for p in exc.problems if p.path == "time.profiles")
    assert message == f"{missing}: file not found"
    lines, header = _profile_lines()
    exc = load_error(_with_profiles(tmp_path, "".join(lines[: header + 1 + 8000])))
    message = next(p.message for p in exc.problems if p.path == "time.profiles")
    assert message.count("broken.csv") == 1, message


def test_profiles_is_a_directory(tmp_path: Path) -> None:
    data = load_default_yaml_data()
    data["time"]["profiles"] = str(tmp_path)
    assert_problem(load_error(write_scenario(tmp_path, data)), "time.profiles", "not a regular file")


# --------------------------------------------------------------------------- bugs found (fixed; regressions)


@pytest.mark.parametrize(
    "path",
    [
        "accelerators.h20.accelerators_per_server",
        "existing.servers[0].count",
        "facility.max_halls",
        "solver.threads",
    ],
)
def test_boolean_for_count_rejected(tmp_path: Path, path: str) -> None:
    data = load_default_yaml_data()
    set_path(data, path, True)
    assert_problem(load_error(write_scenario(tmp_path, data)), path, "boolean")


@pytest.mark.parametrize(
    "path",
    ["accelerators.h20.first_year", "power.grid.tariff.seasons[0].months[0]", "power.grid.redundancy"],
)
def test_boolean_for_other_whole_numbers_rejected(tmp_path: Path, path: str) -> None:
    data = load_default_yaml_data()
    set_path(data, path, False)
    assert_problem(load_error(write_scenario(tmp_path, data)), path, "boolean")


def test_boolean_in_an_hour_range_rejected(tmp_path: Path) -> None:
    data = load_default_yaml_data()
    set_path(data, f"{SEASONS}[0].peak", [[True, 12]])
    assert_problem(load_error(write_scenario(tmp_path, data)), f"{SEASONS}[0].peak[0][0]", "boolean")


@pytest.mark.parametrize("column", ["month", "hour", "day"])
def test_calendar_column_is_not_an_availability_column(tmp_path: Path, column: str) -> None:
    data = load_default_yaml_data()
    set_path(data, "power.ppa.hydro.availability_column", column)
    assert_problem(load_error(write_scenario(tmp_path, data)), "power.ppa.hydro.availability_column", column)


def test_column_hint_lists_data_columns_only(tmp_path: Path) -> None:
    data = load_default_yaml_data()
    set_path(data, "power.ppa.hydro.availability_column", "hour")
    set_path(data, "power.pv.profile_column", "zzz")
    exc = load_error(write_scenario(tmp_path, data))
    for path in ("power.ppa.hydro.availability_column", "power.pv.profile_column"):
        assert_problem(exc, path, ("columns in the file: ", "pv_cf", "wet_bulb_c"))
        message = next(p.message for p in exc.problems if p.path == path)
        listed = message.split("columns in the file: ")[1].split(", ")
        assert not {"month", "day", "hour"} & set(listed), message
        assert "valid keys" not in message
    assert_problem(exc, "power.ppa.hydro.availability_column", "derived by the planner from the timestamps")


def test_infinite_column_weight_rejected(tmp_path: Path) -> None:
    data = load_default_yaml_data()
    data["time"]["column_weights"] = {"pv_cf": INF}
    assert_problem(load_error(write_scenario(tmp_path, data)), "time.column_weights.pv_cf", "finite")


@pytest.mark.parametrize(("weight", "phrase"), [(NAN, "finite"), (-1, "must be >= 0")])
def test_bad_column_weight_rejected(tmp_path: Path, weight: float, phrase: str) -> None:
    data = load_default_yaml_data()
    data["time"]["column_weights"] = {"pv_cf": weight}
    assert_problem(load_error(write_scenario(tmp_path, data)), "time.column_weights.pv_cf", phrase)


def test_nul_in_profiles_path_library(tmp_path: Path) -> None:
    data = load_default_yaml_data()
    data["time"]["profiles"] = "in\0puts.csv"
    exc = load_error(write_scenario(tmp_path, data))
    assert_problem(exc, "time.profiles", "")
    assert_problem(exc, "time.profiles", "cannot read the file")


def test_nul_in_profiles_path_cli(tmp_path: Path) -> None:
    data = load_default_yaml_data()
    data["time"]["profiles"] = "in\0puts.csv"
    assert_cli_bad_input(run_validate(write_scenario(tmp_path, data)), "time.profiles")


def test_overlong_profiles_path(tmp_path: Path) -> None:
    data = load_default_yaml_data()
    data["time"]["profiles"] = "x" * 5000 + ".csv"
    exc = load_error(write_scenario(tmp_path, data))
    assert_problem(exc, "time.profiles", "")
    assert_problem(exc, "time.profiles", "cannot read the file")


def test_unreadable_profiles_path_in_code() -> None:
    """The same paths given to scenario_from_dict (no YAML file in between)."""
    for bad in ("/tmp/in\0puts.csv", "/tmp/" + "x" * 5000 + ".csv"):
        data = load_default_yaml_data()
        data["time"]["profiles"] = bad
        with pytest.raises(ScenarioError) as info:
            scenario_from_dict(data)
        assert_problem(info.value, "time.profiles", "cannot read the file")


@pytest.mark.parametrize("path", ["accelerators.h20.full_kw", PEAK])
def test_huge_integer_in_unit_field(tmp_path: Path, path: str) -> None:
    data = load_default_yaml_data()
    set_path(data, path, 10**400)
    exc = load_error(write_scenario(tmp_path, data))
    assert_problem(exc, path, "")
    assert_problem(exc, path, "number too large")


def test_huge_integer_in_unit_field_cli(tmp_path: Path) -> None:
    data = load_default_yaml_data()
    set_path(data, "accelerators.h20.full_kw", 10**400)
    assert_cli_bad_input(run_validate(write_scenario(tmp_path, data)), "accelerators.h20.full_kw")


def test_integer_literal_beyond_str_limit(tmp_path: Path) -> None:
    text = _default_text_with_absolute_profiles().replace("    full_kw: 5.8 ", "    full_kw: 1" + "0" * 5000 + " ", 1)
    exc = load_error(_write_text(tmp_path, text))
    assert exc.problems
    assert_problem(exc, "", ("not valid YAML", "4300 digits", "line "))
    assert len(str(exc)) < 1000


def test_alias_bomb_is_rejected_quickly(tmp_path: Path) -> None:
    anchors = ['  l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    anchors += [f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 7)]
    text = _default_text_with_absolute_profiles().replace("description: >-", "old_description: >-", 1)
    text = "x_anchors:\n" + "\n".join(anchors) + "\n" + text + "\ndescription: *l6\n"
    file = _write_text(tmp_path, text)
    start = time.perf_counter()
    exc = load_error(file)
    elapsed = time.perf_counter() - start
    assert_problem(exc, "description", "valid string")
    assert elapsed < 0.4, f"{elapsed:.2f} s for a {len(text)}-byte file"


# --------------------------------------------------------------------------- sanity of the helpers


def test_mutations_do_not_touch_the_shared_default() -> None:
    first = load_default_yaml_data()
    set_path(first, "accelerators.h20.full_kw", -5)
    assert load_default_yaml_data()["accelerators"]["h20"]["full_kw"] == 5.8
    assert yaml.safe_load(DEFAULT_YAML.read_text(encoding="utf-8"))["accelerators"]["h20"]["full_kw"] == 5.8


def test_non_finite_number_in_a_bounded_float_is_plain() -> None:
    """pydantic's own bound errors (outside the unit fields) say "finite" for nan, not "must be >= 0"."""
    from typing import Annotated

    from pydantic import BaseModel, Field, ValidationError

    from planner.scenario.loader import validation_problems

    class Model(BaseModel):
        x: Annotated[float, Field(ge=0)]

    with pytest.raises(ValidationError) as info:
        Model.model_validate({"x": NAN})
    assert [(p.path, p.message) for p in validation_problems(info.value, Model)] == [
        ("x", "must be a finite number (got nan)")
    ]


def test_huge_value_in_a_message_is_shortened(tmp_path: Path) -> None:
    data = load_default_yaml_data()
    set_path(data, "accelerators.h20.vendor", {"k": ["x" * 10_000] * 1000})
    set_path(data, "accelerators.h20.full_kw", "5 " + "blorp" * 10_000)
    set_path(data, "name", 10**5000)
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, check_profiles=False)
    assert_problem(info.value, "accelerators.h20.vendor", "valid string")
    assert_problem(info.value, "name", ("valid string", "digits"))
    assert all(len(p.message) < 400 for p in info.value.problems), info.value.problems


def test_unit_field_out_of_range_gives_one_clear_message() -> None:
    data = load_default_yaml_data()
    set_path(data, "cooling.air.free_cooling_below_c", "8 K")
    set_path(data, "cooling.air.cop_rated_at_c", -50)
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, check_profiles=False)
    assert _problems(info.value) == [
        ("cooling.air.free_cooling_below_c", "must be >= -40 °C (got -265.15 °C from '8 K')"),
        ("cooling.air.cop_rated_at_c", "must be >= -40 °C (got -50 °C)"),
    ]


def test_scenario_from_dict_reports_without_a_file() -> None:
    data = load_default_yaml_data()
    set_path(data, "accelerators.h20.full_kw", -5)
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, check_profiles=False)
    assert_problem(info.value, "accelerators.h20.full_kw", "must be > 0")
    assert info.value.source is None


# --------------------------------------------------------------------------- found by the fuzzer (tests/fuzz)


@pytest.mark.parametrize(
    ("text", "line", "column", "code"),
    [
        ("name: x\x00\n", 1, 8, "U+0000"),
        ("name: x\nyears: [2026]\ncurrency: \x1b[31mCNY\n", 3, 11, "U+001B"),
        ("\x7f", 1, 1, "U+007F"),
    ],
    ids=["nul", "escape", "delete"],
)
def test_control_character_names_its_line_and_column(
    tmp_path: Path, text: str, line: int, column: int, code: str
) -> None:
    """PyYAML's ReaderError gives an offset only; the problem must say where, like every syntax error."""
    file = _write_text(tmp_path, text)
    assert_problem(load_error(file), "", ("not valid YAML", code, f"(line {line}, column {column})"))
    assert_cli_bad_input(run_validate(file), "", (code, f"line {line}"))


def test_control_character_in_a_set_value(tmp_path: Path) -> None:
    result = run_validate(write_scenario(tmp_path, load_default_yaml_data()), "name=a\x01b")
    assert_cli_bad_input(result, "--set name", ("U+0001", "line 1"))


@pytest.mark.parametrize(
    "unit",
    ["1/0", "kW**(1/0)", "(kW", "kW)", "10**10**10", "kW**99999999", "kW;", "kW#", "kW{}", "kW\x00", "2 kW"],
)
def test_unit_strings_pint_cannot_or_should_not_evaluate(tmp_path: Path, unit: str) -> None:
    """pint evaluates units as arithmetic: 1/0 raised ZeroDivisionError, '(kW' a TokenError, and
    10**10**10 never finished. Each is now a problem at its path, found at once."""
    data = load_default_yaml_data()
    set_path(data, "accelerators.h20.full_kw", f"5 {unit}")
    start = time.perf_counter()
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, check_profiles=False)
    assert time.perf_counter() - start < 2
    assert_problem(info.value, "accelerators.h20.full_kw", "unit")
    assert len(info.value.problems) == 1


def test_unit_strings_still_accepted() -> None:
    from planner.scenario.units import convert

    assert convert("0.1 1/K", "1/K") == pytest.approx(0.1)
    assert convert("1.2 MW", "kW") == pytest.approx(1200)
    assert convert("3 kW**2/kW", "kW") == pytest.approx(3)
    assert convert("35 CNY/kW/month", "CNY/kW/month") == pytest.approx(35)
    assert convert("8 %", "") == pytest.approx(0.08)
    assert convert("1 tCO2/MWh", "t/MWh") == pytest.approx(1)


def test_unit_string_through_the_cli(tmp_path: Path) -> None:
    data = load_default_yaml_data()
    set_path(data, "power.grid.block_mva", "63 1/0")
    assert_cli_bad_input(run_validate(write_scenario(tmp_path, data)), "power.grid.block_mva", "a number belongs")


def test_set_text_with_a_line_break_stays_on_one_line(tmp_path: Path) -> None:
    result = run_validate(write_scenario(tmp_path, load_default_yaml_data()), "- a\n- b")
    assert_cli_bad_input(result, "--set '- a\\n- b'", "expected KEY.PATH=VALUE")


def test_key_with_a_line_break_is_quoted_in_its_path(tmp_path: Path) -> None:
    data = load_default_yaml_data()
    data["finance"]["rate\nx"] = 1
    exc = load_error(write_scenario(tmp_path, data))
    assert_problem(exc, "finance.'rate\\nx'", "unknown key")
    assert all("\n" not in p.path for p in exc.problems)


def test_sweep_without_anything_to_sweep_names_the_grid(tmp_path: Path) -> None:
    from planner.scenario.sweep import load_sweep

    file = _write_text(tmp_path, f"name: s\nbase: {DEFAULT_YAML}\n", "sweep.yaml")
    with pytest.raises(ScenarioError) as info:
        load_sweep(file)
    assert_problem(info.value, "grid", "nothing to sweep")


def test_python_object_tag_is_refused_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = _default_text_with_absolute_profiles().replace(
        "name: tianfu-2030", f"name: !!python/object/apply:os.system ['touch {marker}']", 1
    )
    file = _write_text(tmp_path, text)
    assert_cli_bad_input(run_validate(file), "", ("not valid YAML", "python/object/apply", "line "))
    assert not marker.exists()
    sweep = _write_text(tmp_path, f"name: s\nbase: !!python/object/apply:os.system ['touch {marker}']\n", "sw.yaml")
    result = CliRunner().invoke(cli, ["sweep", str(sweep)])
    assert_cli_bad_input(result, "", "not valid YAML")
    assert not marker.exists()


def test_profile_with_too_many_lines_is_refused(tmp_path: Path) -> None:
    from planner.time.profiles import MAX_PROFILE_LINES

    profile = tmp_path / "long.csv"
    lines = DEFAULT_PROFILES.read_text(encoding="utf-8").splitlines()
    profile.write_text("\n".join(lines + lines[-8760:] * 11) + "\n", encoding="utf-8")
    data = load_default_yaml_data()
    data["time"]["profiles"] = str(profile)
    exc = load_error(write_scenario(tmp_path, data))
    assert_problem(exc, "time.profiles", (str(profile), "lines", f"{MAX_PROFILE_LINES:,}"))
