"""Good scenario inputs: the default, series interpolation, units, ``extends``, ``--set``, round trips."""

from __future__ import annotations

import copy
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import DEFAULT_PROFILES, DEFAULT_YAML, load_default_yaml_data, set_path, write_scenario
from fuzz.fuzzkit import get, locations
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from planner.scenario import (
    Scenario,
    ScenarioError,
    YearSeries,
    load_scenario,
    scenario_files,
    scenario_from_dict,
)
from planner.scenario.loader import read_yaml

YEARS = [2026, 2027, 2028, 2029, 2030]


def build(data: dict[str, Any]) -> Scenario:
    """Validate data without reading the profile file (fast; profiles have their own tests)."""
    return scenario_from_dict(data, check_profiles=False)


def with_value(path: str, value: Any) -> Scenario:
    data = load_default_yaml_data()
    set_path(data, path, value)
    return build(data)


def relpath(target: Path, start: Path) -> str:
    return os.path.relpath(target, start)


# --------------------------------------------------------------------------- the default


def test_default_loads(repo_root: Path) -> None:
    s = load_scenario(repo_root / "inputs" / "2030.yaml")
    assert isinstance(s, Scenario)
    assert s.name == "tianfu-2030"
    assert s.years == YEARS
    assert s.base_year == 2026
    assert Path(s.time.profiles).is_absolute()
    assert Path(s.time.profiles) == DEFAULT_PROFILES
    assert set(s.accelerators) >= {"h20", "h200", "ascend_910c"}
    assert set(s.cooling) == {"air", "dlc", "immersion"}
    assert s.accelerators["h20"].full_kw == 5.8
    # "2e25 FLOP" in the file is read in the canonical FLOP
    assert s.demand.training.flop.unit == "FLOP"
    assert s.demand.training.flop.at(2026) == pytest.approx(2e25)
    assert s.demand.inference.peak_tokens_per_s.at(2030) == pytest.approx(450e6)
    assert s.power.grid.tariff.seasons[1].peak[0] == (11, 18)
    assert s.existing.servers[1].accelerator == "h20"


def test_default_loads_from_a_str_path_and_relative_cwd(repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo_root / "inputs")
    s = load_scenario("2030.yaml")
    assert Path(s.time.profiles) == DEFAULT_PROFILES


def test_default_data_fixture(default_yaml_data: dict[str, Any]) -> None:
    assert Path(default_yaml_data["time"]["profiles"]).is_absolute()
    assert build(default_yaml_data) == build(load_default_yaml_data())


def test_write_scenario_lives_anywhere(tmp_path: Path, default_yaml_data: dict[str, Any]) -> None:
    file = write_scenario(tmp_path / "deep" / "er", default_yaml_data)
    s = load_scenario(file)
    assert Path(s.time.profiles) == DEFAULT_PROFILES
    assert scenario_files(s) == (file.resolve(),)


# --------------------------------------------------------------------------- year-indexed values


def test_year_map_interpolates() -> None:
    s = with_value("demand.inference.peak_tokens_per_s", {2026: 10, 2030: 50})
    series = s.demand.inference.peak_tokens_per_s
    assert isinstance(series, YearSeries)
    assert series.at(2028) == pytest.approx(30)
    assert series.at(2027) == pytest.approx(20)
    assert list(series.values(YEARS)) == pytest.approx([10, 20, 30, 40, 50])
    assert series.first_year == 2026 and series.last_year == 2030
    assert not series.is_scalar


def test_year_map_keys_in_any_order_and_as_strings() -> None:
    s = with_value("demand.inference.peak_tokens_per_s", {"2030": 50, 2026: 10, "2028": 40})
    assert s.demand.inference.peak_tokens_per_s.points == ((2026, 10.0), (2028, 40.0), (2030, 50.0))
    assert s.demand.inference.peak_tokens_per_s.at(2029) == pytest.approx(45)


def test_scalar_series_holds_every_year() -> None:
    s = with_value("demand.inference.peak_tokens_per_s", 7.5e7)
    series = s.demand.inference.peak_tokens_per_s
    assert series.is_scalar
    assert [series.at(y) for y in YEARS] == [7.5e7] * 5
    assert series.to_plain() == 7.5e7


def test_policy_map_is_open_before_its_first_year() -> None:
    s = with_value("policy.pue_max", {2028: 1.25, 2030: 1.2})
    assert s.policy.pue_max is not None
    assert s.policy.pue_max.at(2026) is None
    assert s.policy.pue_max.at(2029) == pytest.approx(1.225)


def test_year_map_with_units() -> None:
    s = with_value("power.grid.tariff.flat_cny_per_kwh", {2026: "432 CNY/MWh", 2030: "0.452 CNY/kWh"})
    assert s.power.grid.tariff.flat_cny_per_kwh.at(2026) == pytest.approx(0.432)
    assert s.power.grid.tariff.flat_cny_per_kwh.at(2028) == pytest.approx(0.442)


# --------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("path", "given", "expected", "read"),
    [
        ("accelerators.h20.full_kw", "5800 W", 5.8, lambda s: s.accelerators["h20"].full_kw),
        ("accelerators.h20.full_kw", "0.0058 MW", 5.8, lambda s: s.accelerators["h20"].full_kw),
        (
            "power.grid.tariff.flat_cny_per_kwh",
            "432 CNY/MWh",
            0.432,
            lambda s: s.power.grid.tariff.flat_cny_per_kwh.at(2027),
        ),
        ("accelerators.h20.availability", "80 %", 0.8, lambda s: s.accelerators["h20"].availability),
        ("finance.discount_rate", "8 %", 0.08, lambda s: s.finance.discount_rate),
        ("cooling.air.cop_rated_at_c", "77 degF", 25.0, lambda s: s.cooling["air"].cop_rated_at_c),
        (
            "cooling.immersion.free_cooling_below_c",
            "305.15 K",
            32.0,
            lambda s: s.cooling["immersion"].free_cooling_below_c,
        ),
        (
            "power.grid.tariff.demand_cny_per_kw_month",
            "324 CNY/kW/year",
            27.0,
            lambda s: s.power.grid.tariff.demand_cny_per_kw_month,
        ),
        ("power.pv.max_mw", "60000 kW", 60.0, lambda s: s.power.pv.max_mw),
        ("power.battery.max_mwh", "0.4 GWh", 400.0, lambda s: s.power.battery.max_mwh),
        ("demand.training.flop", "1e26 FLOP", 1e26, lambda s: s.demand.training.flop.at(2030)),
        ("demand.training.flop", "400 EFLOP", 4e20, lambda s: s.demand.training.flop.at(2030)),
        (
            "accelerators.h20.fixed_om_fraction",
            "3 %",
            0.03,
            lambda s: s.accelerators["h20"].fixed_om_fraction,
        ),
        (
            "cooling.dlc.plant.fixed_om_fraction",
            "2.5 %",
            0.025,
            lambda s: s.cooling["dlc"].plant.fixed_om_fraction,
        ),
        ("finance.discount_rate", "6 percent", 0.06, lambda s: s.finance.discount_rate),
        ("accelerators.h20.full_kw", "5.8", 5.8, lambda s: s.accelerators["h20"].full_kw),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_unit_conversion(path: str, given: str, expected: float, read: Any) -> None:
    assert read(with_value(path, given)) == pytest.approx(expected)


def test_bare_number_for_training_flop_is_flop() -> None:
    s = with_value("demand.training.flop", {2026: 2e25, 2030: 4e26})
    assert s.demand.training.flop.at(2030) == 4e26


def test_every_fixed_om_fraction_and_the_discount_rate_are_plain_shares(tmp_path: Path) -> None:
    data = load_default_yaml_data()
    paths = [
        "finance.discount_rate",
        "accelerators.h20.fixed_om_fraction",
        "cooling.air.fixed_om_fraction",
        "cooling.air.plant.fixed_om_fraction",
        "facility.hall.fixed_om_fraction",
        "power.grid.fixed_om_fraction",
        "power.pv.fixed_om_fraction",
        "power.battery.fixed_om_fraction",
        "power.generators.fixed_om_fraction",
    ]
    for path in paths:
        set_path(data, path, "3 %")
    s = load_scenario(write_scenario(tmp_path, data))
    dumped = s.model_dump()
    for path in paths:
        node: Any = dumped
        for part in path.split("."):
            node = node[part]
        assert node == pytest.approx(0.03), path
    assert '"unit": "1/year"' not in json.dumps(Scenario.model_json_schema())


def test_whole_numbers_accept_integral_floats() -> None:
    s = with_value("accelerators.h20.accelerators_per_server", 8.0)
    assert s.accelerators["h20"].accelerators_per_server == 8
    assert isinstance(s.accelerators["h20"].accelerators_per_server, int)
    assert with_value("facility.max_halls", "12").facility.max_halls == 12
    assert with_value("time.representative_days", 10.0).time.representative_days == 10


def test_units_through_a_file(tmp_path: Path, default_yaml_data: dict[str, Any]) -> None:
    set_path(default_yaml_data, "accelerators.h20.full_kw", "5800 W")
    set_path(default_yaml_data, "cooling.air.cop_rated_at_c", "77 degF")
    s = load_scenario(write_scenario(tmp_path, default_yaml_data))
    assert s.accelerators["h20"].full_kw == pytest.approx(5.8)
    assert s.cooling["air"].cop_rated_at_c == pytest.approx(25.0)


# --------------------------------------------------------------------------- extends


def _child(tmp_path: Path, body: str, name: str = "child.yaml") -> Path:
    file = tmp_path / name
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(f"extends: {relpath(DEFAULT_YAML, file.parent)}\n{body}", encoding="utf-8")
    return file


def test_extends_changes_one_nested_value(tmp_path: Path) -> None:
    child = _child(tmp_path, "accelerators:\n  h20:\n    full_kw: 6.0\n")
    s = load_scenario(child)
    default = load_scenario(DEFAULT_YAML)
    assert s.accelerators["h20"].full_kw == 6.0
    # the rest of h20 and of the scenario is kept
    assert s.accelerators["h20"].idle_kw == default.accelerators["h20"].idle_kw
    assert s.accelerators["h20"].cooling == ["air", "dlc"]
    assert set(s.accelerators) == set(default.accelerators)
    assert s.power == default.power
    assert s.name == default.name
    # the profile path stays relative to the base file that named it
    assert Path(s.time.profiles) == DEFAULT_PROFILES
    assert scenario_files(s) == (child.resolve(), DEFAULT_YAML.resolve())


def test_extends_replaces_lists(tmp_path: Path) -> None:
    child = _child(
        tmp_path,
        "accelerators:\n  h200:\n    cooling: [dlc]\n"
        "existing:\n  servers:\n    - {accelerator: h20, cooling: air, count: 10, year_built: 2025}\n",
    )
    s = load_scenario(child)
    assert s.accelerators["h200"].cooling == ["dlc"]
    assert len(s.existing.servers) == 1 and s.existing.servers[0].count == 10
    assert len(s.existing.racks) == 1  # untouched list kept


def test_extends_chain_and_profiles_relative_to_the_file_naming_them(tmp_path: Path) -> None:
    (tmp_path / "prof").mkdir()
    shutil.copy(DEFAULT_PROFILES, tmp_path / "prof" / "site.csv")
    middle = _child(tmp_path, "name: middle\ntime:\n  profiles: prof/site.csv\n", "middle.yaml")
    leaf = tmp_path / "sub" / "leaf.yaml"
    leaf.parent.mkdir()
    leaf.write_text("extends: ../middle.yaml\ndescription: leaf\n", encoding="utf-8")
    s = load_scenario(leaf)
    assert s.name == "middle" and s.description == "leaf"
    assert Path(s.time.profiles) == (tmp_path / "prof" / "site.csv").resolve()
    assert s.time.representative_days == 12  # the rest of time: from the base
    assert scenario_files(s) == (leaf.resolve(), middle.resolve(), DEFAULT_YAML.resolve())


def test_extends_absolute_path(tmp_path: Path) -> None:
    child = tmp_path / "abs.yaml"
    child.write_text(f"extends: {DEFAULT_YAML}\nname: abs\n", encoding="utf-8")
    s = load_scenario(child)
    assert s.name == "abs"


def test_set_applies_after_extends(tmp_path: Path) -> None:
    child = _child(tmp_path, "accelerators:\n  h20:\n    full_kw: 6.0\n")
    s = load_scenario(child, ["accelerators.h20.full_kw=6.5"])
    assert s.accelerators["h20"].full_kw == 6.5


# --------------------------------------------------------------------------- --set


@pytest.fixture(scope="module")
def default_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scenario(tmp_path_factory.mktemp("set"), load_default_yaml_data())


def test_set_scalar(default_file: Path) -> None:
    s = load_scenario(default_file, ["policy.pue_max=1.2"])
    assert s.policy.pue_max is not None and s.policy.pue_max.is_scalar
    assert s.policy.pue_max.at(2026) == 1.2


def test_set_nested_and_with_unit(default_file: Path) -> None:
    s = load_scenario(default_file, ["accelerators.h20.full_kw=6.5", "cooling.air.plant.unit_mw=4000 kW"])
    assert s.accelerators["h20"].full_kw == 6.5
    assert s.cooling["air"].plant.unit_mw == pytest.approx(4.0)


def test_set_year_map(default_file: Path) -> None:
    s = load_scenario(default_file, ["policy.pue_max={2026: 1.3, 2030: 1.2}"])
    assert s.policy.pue_max is not None
    assert s.policy.pue_max.points == ((2026, 1.3), (2030, 1.2))
    assert s.policy.pue_max.at(2028) == pytest.approx(1.25)


def test_set_one_year_of_a_map(default_file: Path) -> None:
    s = load_scenario(default_file, ["demand.inference.peak_tokens_per_s.2028=2e8"])
    assert s.demand.inference.peak_tokens_per_s.at(2028) == pytest.approx(2e8)
    assert s.demand.inference.peak_tokens_per_s.at(2026) == pytest.approx(60e6)


def test_set_list(default_file: Path) -> None:
    s = load_scenario(default_file, ["accelerators.h200.cooling=[dlc]", "years=[2026, 2027, 2028, 2029, 2030]"])
    assert s.accelerators["h200"].cooling == ["dlc"]


def test_set_list_item(default_file: Path) -> None:
    s = load_scenario(default_file, ["existing.servers.0.count=5"])
    assert s.existing.servers[0].count == 5


def test_set_new_optional_key(default_file: Path) -> None:
    s = load_scenario(default_file, ["policy.carbon_cap_t=1e6", "finance.base_year=2026"])
    assert s.policy.carbon_cap_t is not None and s.policy.carbon_cap_t.at(2030) == 1e6
    assert s.finance.base_year == 2026


def test_set_later_wins(default_file: Path) -> None:
    s = load_scenario(default_file, ["accelerators.h20.full_kw=6", "accelerators.h20.full_kw=7"])
    assert s.accelerators["h20"].full_kw == 7


def test_set_value_is_validated_like_the_file(default_file: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(default_file, ["accelerators.h20.full_kw=-1", "policy.pue_max={2027: 1.3, 2031: 1.2}"])
    paths = [p.path for p in info.value.problems]
    assert "accelerators.h20.full_kw" in paths
    with pytest.raises(ScenarioError) as info:
        load_scenario(default_file, ["policy.pue_max={2027: 1.3, 2031: 1.2}"])
    assert [p.path for p in info.value.problems] == ["policy.pue_max"]
    assert "2031" in info.value.problems[0].message


def test_set_does_not_touch_the_file(default_file: Path) -> None:
    before = default_file.read_bytes()
    load_scenario(default_file, ["accelerators.h20.full_kw=6.5"])
    assert default_file.read_bytes() == before
    assert load_scenario(default_file).accelerators["h20"].full_kw == 5.8


# --------------------------------------------------------------------------- the Scenario object


def test_scenario_files() -> None:
    assert scenario_files(load_scenario(DEFAULT_YAML)) == (DEFAULT_YAML.resolve(),)
    assert scenario_files(build(load_default_yaml_data())) == ()


def test_scenario_is_frozen() -> None:
    s = build(load_default_yaml_data())
    with pytest.raises(ValidationError):
        s.name = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        s.accelerators["h20"].full_kw = 1.0  # type: ignore[misc]
    with pytest.raises(ValidationError):
        s.power.grid.tariff.flat_cny_per_kwh = 0.5  # type: ignore[misc]
    with pytest.raises(AttributeError):
        s.demand.inference.peak_tokens_per_s.points = ()  # type: ignore[misc]


def test_round_trip_through_yaml() -> None:
    s = build(load_default_yaml_data())
    text = yaml.safe_dump(s.model_dump(mode="json"), sort_keys=False)
    again = build(yaml.safe_load(text))
    assert again == s
    assert again.model_dump(mode="json") == s.model_dump(mode="json")


def test_round_trip_of_a_loaded_scenario_keeps_every_value() -> None:
    s = load_scenario(DEFAULT_YAML)
    again = scenario_from_dict(yaml.safe_load(yaml.safe_dump(s.model_dump(mode="json"))))
    assert again.model_dump() == s.model_dump()


# --------------------------------------------------------------------------- YAML anchors and merge keys

_SKU = (
    "    vendor: Test\n    chip: T1\n    domestic: true\n    accelerators_per_server: 8\n"
    "    pflops_per_server: 4.0\n    tokens_per_s: 10000\n    full_kw: 7.0\n    idle_kw: 2.0\n"
    "    rack_units: 4\n    capex_cny: 1.0e6\n    mfu: 0.35\n    cooling: [dlc]\n"
)


def test_merge_key_without_override(tmp_path: Path) -> None:
    child = _child(tmp_path, "accelerators:\n  t1: &t1\n" + _SKU + "  t2:\n    <<: *t1\n    description: a copy\n")
    s = load_scenario(child)
    assert s.accelerators["t2"].description == "a copy"
    assert s.accelerators["t2"].full_kw == s.accelerators["t1"].full_kw == 7.0


def test_merge_key_with_override(tmp_path: Path) -> None:
    child = _child(tmp_path, "accelerators:\n  t1: &t1\n" + _SKU + "  t2:\n    <<: *t1\n    full_kw: 9.0\n")
    s = load_scenario(child)
    assert s.accelerators["t2"].full_kw == 9.0
    assert s.accelerators["t1"].full_kw == 7.0


def test_merge_keys_in_order_of_precedence(tmp_path: Path) -> None:
    """With ``<<: [*a, *b]`` the earlier map wins; an explicit key wins over both."""
    file = tmp_path / "merge.yaml"
    text = "a: &a {p: 1, q: 1}\nb: &b {p: 2, q: 2, r: 2}\nc:\n  <<: [*a, *b]\n  q: 3\n"
    file.write_text(text, encoding="utf-8")
    assert read_yaml(file)["c"] == {"p": 1, "q": 3, "r": 2}


def test_extends_replaces_a_year_map_as_a_whole(tmp_path: Path) -> None:
    child = _child(tmp_path, "policy:\n  pue_max: {2029: 1.15, 2030: 1.15}\n")
    s = load_scenario(child)
    assert s.policy.pue_max is not None
    assert s.policy.pue_max.points == ((2029, 1.15), (2030, 1.15))
    assert s.policy.pue_max.at(2026) is None


def test_extends_year_map_must_cover_the_horizon_on_its_own(tmp_path: Path) -> None:
    """The base's map (2026-2030) does not fill in a child's map that starts late."""
    child = _child(tmp_path, "demand:\n  inference:\n    peak_tokens_per_s: {2028: 1.5e8, 2030: 2.9e8}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    assert [p.path for p in info.value.problems] == ["demand.inference.peak_tokens_per_s"]
    assert "give a value for 2026" in info.value.problems[0].message


def test_extends_still_merges_sections(tmp_path: Path) -> None:
    child = _child(tmp_path, "power:\n  grid:\n    tariff:\n      multipliers: {peak: 1.7}\n")
    s = load_scenario(child)
    default = load_scenario(DEFAULT_YAML)
    assert s.power.grid.tariff.multipliers.peak == 1.7
    assert s.power.grid.tariff.multipliers.valley == default.power.grid.tariff.multipliers.valley
    assert s.power.grid.tariff.flat_cny_per_kwh == default.power.grid.tariff.flat_cny_per_kwh


# --------------------------------------------------------------------------- random mutations

_DEFAULT = load_default_yaml_data()


_ALL = locations(_DEFAULT)


_LEAVES = [loc for loc in _ALL if not isinstance(get(_DEFAULT, loc), dict | list)]
_KEYS = [loc for loc in _ALL if isinstance(get(_DEFAULT, loc[:-1]), dict)]

_scalars = st.one_of(
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.booleans(),
    st.none(),
)
_values = st.one_of(
    _scalars,
    st.lists(_scalars, max_size=4),
    st.dictionaries(st.one_of(st.text(max_size=8), st.integers(2020, 2035)), _scalars, max_size=4),
)


@st.composite
def _mutated(draw: st.DrawFn) -> dict[str, Any]:
    data = copy.deepcopy(_DEFAULT)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["delete", "replace", "rename"]))
        if kind == "replace":
            loc = draw(st.sampled_from(_LEAVES))
        else:
            loc = draw(st.sampled_from(_KEYS))
        try:
            parent = get(data, loc[:-1])
            if loc[-1] not in (parent if isinstance(parent, dict) else range(len(parent))):
                continue  # removed by an earlier mutation
        except (KeyError, IndexError, TypeError):
            continue
        if kind == "delete":
            del parent[loc[-1]]
        elif kind == "replace":
            parent[loc[-1]] = draw(_values)
        else:
            new = draw(st.one_of(st.text(min_size=1, max_size=12), st.sampled_from(["ful_kw", "polcy", "2031"])))
            parent[new] = parent.pop(loc[-1])
    return data


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated())
def test_random_mutations_give_a_scenario_or_a_scenario_error(data: dict[str, Any]) -> None:
    try:
        result = scenario_from_dict(data, check_profiles=False)
    except ScenarioError as exc:
        assert exc.problems
        for p in exc.problems:
            assert isinstance(p.path, str) and isinstance(p.message, str) and p.message
        assert str(exc)
    else:
        assert isinstance(result, Scenario)
