"""``plan compare`` says what differs: the inputs, each policy limit per year, and an NPV bridge one can read.

Plan A is the two-day plan of ``test_report.py`` (no overrides); plan B is the same scenario with
``--set``-style overrides applied by the loader's own :func:`apply_overrides` (a higher server price
and a tighter PUE cap), solved once per session and recorded with :func:`record_overrides` as
``plan solve --set`` does.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
import yaml
from click.testing import CliRunner
from test_energy_report import ds as energy_plan  # noqa: F401 - a fixture: the energy view's plan (PPAs, PV, battery)
from test_report import TWO_DAY, _workdir, compare_file, plan, varied_profile
from tiny import tiny_data

from planner.cli import cli
from planner.pipeline import plan_scenario
from planner.report.compare import (
    compare_build_rows,
    compare_builds_figure,
    compare_dispatch_figure,
    compare_energy_figure,
    compare_npv_figure,
    render_compare,
)
from planner.report.compare_bridge import bridge_range
from planner.report.compare_energy import compare_energy_rows, energy_digits
from planner.report.compare_years import policy_year_rows
from planner.report.figures import day_labels
from planner.report.html import render_report
from planner.report.inputs import NOT_SET, compact, input_differences, variant_tag, variant_text
from planner.results.io import write_dataset
from planner.results.provenance import record_overrides
from planner.results.sites import cluster_view
from planner.scenario import scenario_from_dict
from planner.scenario.loader import apply_overrides

OVERRIDES = ["accelerators.gpu.capex_cny=1200000", "policy.pue_max=1.25"]
_CACHE: dict[str, Any] = {}


def _two_day_data() -> dict[str, Any]:
    """The two-day scenario of ``test_report.py`` as data (``tiny()``'s dotted changes set by hand)."""
    data = copy.deepcopy(tiny_data(varied_profile()))
    for key, value in {**TWO_DAY, "name": "two-day", "description": "Tiny plan over two years and two days."}.items():
        node = data
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return data


def plan_a() -> xr.Dataset:
    """The two-day plan, recorded as made without overrides."""
    if "a" not in _CACHE:
        _CACHE["a"] = record_overrides(plan("two_day").copy(), [])
    return _CACHE["a"]


def plan_b() -> xr.Dataset:
    """The two-day plan with :data:`OVERRIDES` (solved once)."""
    if "b" not in _CACHE:
        run = plan_scenario(scenario_from_dict(apply_overrides(_two_day_data(), OVERRIDES)))
        assert run.dataset is not None, run.outcome.termination
        _CACHE["b"] = record_overrides(cluster_view(run.dataset), OVERRIDES)
    return _CACHE["b"]


def _file(name: str, ds: xr.Dataset) -> Path:
    path = _workdir() / f"{name}.nc"
    if not path.exists():
        write_dataset(ds, path)
    return path


# ====================================================================== input differences


def test_input_differences_list_exactly_the_overridden_paths() -> None:
    diffs = input_differences(plan_a(), plan_b())
    assert [d.path for d in diffs] == ["accelerators.gpu.capex_cny", "policy.pue_max"]
    by_path = {d.path: (d.a, d.b) for d in diffs}
    assert by_path["accelerators.gpu.capex_cny"] == ("1000000", "1200000")
    assert by_path["policy.pue_max"] == ("1.3", "1.25")
    assert input_differences(plan_a(), plan_a()) == []


def _attrs_only(scenario: dict[str, Any], profile_sha: str, **attrs: Any) -> xr.Dataset:
    files = [{"role": "profiles", "path": scenario["time"]["profiles"], "sha256": profile_sha}]
    return xr.Dataset(attrs={"scenario_yaml": yaml.safe_dump(scenario), "input_files": json.dumps(files), **attrs})


def test_input_differences_added_removed_lists_and_moved_profiles() -> None:
    base = {"name": "x", "time": {"profiles": "/a/p.csv"}, "years": list(range(2026, 2041)), "policy": {"pue_max": 1.3}}
    other = copy.deepcopy(base)
    other["time"]["profiles"] = "/elsewhere/p.csv"  # same content: not a difference
    other["years"] = list(range(2026, 2036))
    del other["policy"]["pue_max"]
    other["policy"]["green_share_min"] = {2030: 0.5}
    diffs = input_differences(_attrs_only(base, "s1"), _attrs_only(other, "s1"))
    assert [d.path for d in diffs] == ["policy.green_share_min.2030", "policy.pue_max", "years"]
    assert diffs[0] == ("policy.green_share_min.2030", NOT_SET, "0.5")
    assert diffs[1] == ("policy.pue_max", "1.3", NOT_SET)
    assert diffs[2].a.startswith("[15 items: 2026, 2027") and diffs[2].b.startswith("[10 items")
    moved = input_differences(_attrs_only(base, "s1"), _attrs_only(other, "s2"))  # another file's content
    assert "time.profiles" in [d.path for d in moved]
    assert compact([1, 2]) == "[1, 2]" and compact(1e6) == "1000000" and compact(None) == "null"


# ====================================================================== headers and pages


def test_variant_header_and_title_show_the_overrides() -> None:
    assert variant_text(plan_b()) == "variant of its scenario with --set " + " --set ".join(OVERRIDES)
    assert variant_text(plan_a()) == "no overrides"
    assert variant_tag(plan_b()) == "capex_cny=1200000, pue_max=1.25"
    html = render_report(plan_b(), source="variant.nc")
    header = html.split("</header>")[0].split('<header class="page">')[1]
    assert "--set policy.pue_max=1.25" in header and "--set accelerators.gpu.capex_cny=1200000" in header
    assert "<title>two-day [capex_cny=1200000, pue_max=1.25] · " in html
    assert "no overrides" in render_report(plan_a()).split("</header>")[0]


def test_compare_page_names_the_overridden_inputs_and_policy_per_year() -> None:
    html = render_compare(plan_a(), plan_b(), ("two_day.nc", "variant.nc"))
    inputs = html.split('<section id="inputs">')[1].split("</section>")[0]
    assert 'data-path="policy.pue_max"' in inputs and 'data-path="accelerators.gpu.capex_cny"' in inputs
    assert "1.25" in inputs and "1200000" in inputs
    assert html.index('id="inputs"') < html.index('id="kpis"')  # at the top
    rows = policy_year_rows(plan_a(), plan_b())
    pue = [r for r in rows if r.key == "pue_max"]
    assert [r.year for r in pue] == [2026, 2027]
    assert [(r.limit_a, r.limit_b) for r in pue] == [(1.3, 1.25), (1.3, 1.25)]
    assert all(r.badge_a is not None and r.badge_b is not None for r in pue)
    policy = html.split('<section id="policy">')[1].split("</section>")[0]
    assert 'data-limit="pue_max" data-year="2027"' in policy and "1.300 / 1.250" in policy


def test_npv_bridge_axis_does_not_start_at_zero_and_steps_add_up() -> None:
    a, b = plan_a(), plan_b()
    fig = compare_npv_figure(a, b, ("A", "B"))
    trace = fig.data[0]
    measures, ys = list(trace.measure), np.asarray(trace.y, dtype=float)
    assert measures[0] == "absolute" and measures[-1] == "total" and set(measures[1:-1]) == {"relative"}
    npv_a, npv_b = float(a["npv_cny"]), float(b["npv_cny"])
    scale = npv_a / ys[0]
    assert np.isclose(ys[1:-1].sum() * scale, npv_b - npv_a, rtol=1e-6, atol=1.0)
    assert npv_b > npv_a  # servers cost more in B
    low, high = fig.layout.yaxis.range
    assert 0 < low < min(npv_a, npv_b) / scale and high > max(npv_a, npv_b) / scale
    assert "does not start at 0" in fig.layout.title.subtitle.text


def test_bridge_range_starts_at_zero_only_for_large_steps() -> None:
    low, high = bridge_range(100.0, [1.0, -0.5])
    assert 98 < low < 100 and 100.5 < high < 102
    assert bridge_range(100.0, [300.0])[0] == 0.0  # the steps dwarf the NPV: start at 0
    low, high = bridge_range(100.0, [])  # nothing changes: still a readable window around the NPV
    assert 0 < low < 100 < high


# ====================================================================== the command


def test_plan_compare_prints_the_delta_table_and_the_differing_inputs(tmp_path: Path) -> None:
    out = tmp_path / "c.html"
    result = CliRunner().invoke(
        cli, ["compare", str(_file("cmp_a", plan_a())), str(_file("cmp_b", plan_b())), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = result.output
    assert "NPV of all costs" in text and "Δ" in text
    for figure in ("PUE", "green share", "domestic share", "installed [EFLOPS]", "emissions"):
        assert figure in text
    assert "2026" in text and "2027" in text and "→" in text
    assert "inputs: 2 differ" in text and "policy.pue_max: 1.3 → 1.25" in text
    assert "accelerators.gpu.capex_cny: 1000000 → 1200000" in text
    assert "servers X G1, final year" in text  # the server type by vendor and chip (tiny.py: X, G1)
    assert not re.search(r"servers gpu|^\W*gpu\b", text, re.MULTILINE), "never the raw key ``gpu``"
    assert text.rstrip().endswith("c.html") and "comparison written to" in text
    assert out.is_file() and 'data-path="policy.pue_max"' in out.read_text(encoding="utf-8")


def test_the_shared_compare_page_has_the_inputs_section() -> None:
    assert "What differs in the inputs" in compare_file("two_day", "hostile").read_text(encoding="utf-8")


# ====================================================================== energy and dispatch differences


def annual_gwh(ds: xr.Dataset, power: xr.DataArray) -> np.ndarray:
    """Σ_day,hour power × day_weight [MW × days × 1 h] by year, in GWh, written out here (not the report's code)."""
    return np.array([float((power.sel(year=y) * ds["day_weight"]).sum()) / 1e3 for y in ds["year"].values])


def expected_energy(ds: xr.Dataset) -> dict[str, np.ndarray]:
    """A plan's energy by line [GWh per year], from the Dataset's hourly variables."""
    it, cooling = ds["it_power_mw"].sum("cooling"), ds["cooling_power_mw"].sum("cooling")
    return {
        "grid": annual_gwh(ds, ds["grid_import_mw"]),
        "pv": annual_gwh(ds, ds["pv_used_mw"]),
        "battery": annual_gwh(ds, ds["battery_discharge_mw"] - ds["battery_charge_mw"]),
        "facility": annual_gwh(ds, ds["facility_power_mw"]),
        "it": annual_gwh(ds, it),
        "cooling": annual_gwh(ds, cooling),
        "aux": annual_gwh(ds, ds["facility_power_mw"] - it - cooling),
    }


def test_energy_differences_are_b_minus_a_of_the_datasets_energy() -> None:
    a, b = plan("two_day"), plan("hostile")  # B serves more demand: more energy, from PV and the battery
    rows = {r.key: r for r in compare_energy_rows(a, b)}
    want_a, want_b = expected_energy(a), expected_energy(b)
    assert set(rows) <= set(want_a)  # no PPA in these plans
    for key in set(want_a) - set(rows):  # a line left out is 0 in both plans (here: no auxiliary losses)
        assert np.allclose(want_a[key], 0, atol=1e-9) and np.allclose(want_b[key], 0, atol=1e-9), key
    for key, row in rows.items():
        assert row.years == [2026, 2027]
        np.testing.assert_allclose(row.a, want_a[key], atol=1e-9, err_msg=key)
        np.testing.assert_allclose(row.b, want_b[key], atol=1e-9, err_msg=key)
        np.testing.assert_allclose(row.delta, want_b[key] - want_a[key], atol=1e-9, err_msg=key)
    assert all(d > 1e-3 for d in rows["facility"].delta) and all(d > 1e-3 for d in rows["pv"].delta)
    sources = sum(np.asarray(rows[k].delta) for k in ("grid", "pv", "battery"))
    np.testing.assert_allclose(sources, rows["facility"].delta, atol=1e-6)  # the sources' changes add up
    # the figure's lower panel (B − A by year) shows the same numbers
    fig = compare_energy_figure(a, b, ("A", "B"))
    lower = {t.name: np.asarray(t.y, dtype=float) for t in fig.data if t.xaxis == "x2"}
    np.testing.assert_allclose(lower["PV"], want_b["pv"] - want_a["pv"], atol=1e-6)
    np.testing.assert_allclose(lower["facility energy"], want_b["facility"] - want_a["facility"], atol=1e-6)
    upper = {t.name: list(t.y) for t in fig.data if t.xaxis == "x"}
    np.testing.assert_allclose(
        upper["PV"], [want_a["pv"][0], want_b["pv"][0], want_a["pv"][1], want_b["pv"][1]], atol=1e-6
    )
    # and the page's table, in GWh with the table's decimals
    html = render_compare(a, b, ("a.nc", "b.nc"))
    row = html.split('data-flow="pv"')[1].split("</tr>")[0]
    digits = energy_digits(list(rows.values()))
    delta = want_b["pv"][1] - want_a["pv"][1]
    assert f"{want_a['pv'][1]:,.{digits}f} → <b>{want_b['pv'][1]:,.{digits}f}</b>" in row
    assert f"+{delta:,.{digits}f}" in row


def _day_index(ds: xr.Dataset, calendar_day: int) -> int:
    return int(np.flatnonzero(ds["day_of_year"].values == calendar_day)[0])


def _visible(fig: Any) -> dict[str, np.ndarray]:
    return {t.name: np.asarray(t.y, dtype=float) for t in fig.data if t.visible}


def test_dispatch_difference_shows_each_plans_hours_and_b_minus_a_by_source() -> None:
    a, b = plan("two_day"), plan("hostile")
    fig = compare_dispatch_figure(a, b, ("A", "B"), year=2026)
    day_menu, year_menu = fig.layout.updatemenus
    assert [btn.label for btn in year_menu.buttons] == ["2026", "2027"]
    assert len(day_menu.buttons) == 2  # the two plans have the same two days
    shown = day_menu.buttons[day_menu.active].label
    calendar_day = int(a["day_of_year"].values[day_labels(a).index(shown)])
    da, db = _day_index(a, calendar_day), _day_index(b, calendar_day)

    def hours(ds: xr.Dataset, name: str, day: int) -> np.ndarray:
        return ds[name].sel(year=2026).isel(day=day).values

    def battery(ds: xr.Dataset, day: int) -> np.ndarray:
        return hours(ds, "battery_discharge_mw", day) - hours(ds, "battery_charge_mw", day)

    y = _visible(fig)
    np.testing.assert_allclose(y["facility load A"], hours(a, "facility_power_mw", da), atol=1e-6)
    np.testing.assert_allclose(y["facility load B"], hours(b, "facility_power_mw", db), atol=1e-6)
    np.testing.assert_allclose(y["Δ PV"], hours(b, "pv_used_mw", db) - hours(a, "pv_used_mw", da), atol=1e-6)
    np.testing.assert_allclose(y["Δ battery (net)"], battery(b, db) - battery(a, da), atol=1e-6)
    fac = hours(b, "facility_power_mw", db) - hours(a, "facility_power_mw", da)
    np.testing.assert_allclose(y["Δ facility load"], fac, atol=1e-6)
    assert np.abs(y["Δ PV"]).max() > 1e-4
    assert "Δ grid import" not in y  # no grid import in either plan: nothing to show
    # each entry of the drop-down carries that day's values, the visible year's traces included
    visible = [i for i, t in enumerate(fig.data) if t.visible]
    for button in day_menu.buttons:
        other = _day_index(a, int(a["day_of_year"].values[day_labels(a).index(button.label)]))
        ys = button.args[0]["y"]
        np.testing.assert_allclose(ys[visible[0]], hours(a, "facility_power_mw", other), atol=1e-6)


def test_dispatch_and_energy_compare_only_the_years_and_days_both_plans_have() -> None:
    a, b = plan("two_day"), plan("hostile").sel(year=[2027]).isel(day=[1])  # B: one year, one day
    fig = compare_dispatch_figure(a, b, ("A", "B"))
    (day_menu,) = fig.layout.updatemenus  # one year in common: no year buttons
    assert len(day_menu.buttons) == 1
    da = _day_index(a, int(b["day_of_year"].values[0]))
    y = _visible(fig)
    np.testing.assert_allclose(y["facility load A"], a["facility_power_mw"].sel(year=2027).isel(day=da), atol=1e-6)
    np.testing.assert_allclose(y["facility load B"], b["facility_power_mw"].sel(year=2027).isel(day=0), atol=1e-6)
    assert [r.years for r in compare_energy_rows(a, b)][0] == [2027]
    html = render_compare(a, b, ("a.nc", "b.nc"))
    operation = html.split('<section id="operation">')[1].split("</section>")[0]
    assert "Only the years both plans have are compared (2026 only in two-day)" in operation
    assert "left out: two-day: " + day_labels(a)[1 - da] in operation
    # no day in common (the one-day plan against the two-day one): a figure that says so
    empty = compare_dispatch_figure(plan("tiny"), a, ("A", "B"))
    assert not empty.data and "no year and representative day" in empty.layout.annotations[0].text


def test_server_types_are_shown_by_vendor_and_chip() -> None:
    a, b = plan_a(), plan_b()
    fig = compare_builds_figure(a, b, ("A", "B"))
    assert fig.data and {t.name for t in fig.data} == {"X G1"}
    assert all(t.hovertemplate.startswith("X G1<br>") for t in fig.data)
    assert [r.label for r in compare_build_rows(a, b) if r.unit == "servers"] == ["servers X G1"]
    html = render_compare(a, b)
    build = html.split('<section id="build">')[1].split("</section>")[0]
    assert "servers X G1" in build and "servers gpu" not in build


def test_a_ppa_only_one_plan_has_counts_zero_in_the_other(energy_plan: xr.Dataset) -> None:  # noqa: F811
    a = energy_plan
    b = a.sel(ppa=["hydro"])  # the same plan without its grey PPA (not a plan one could solve: a test of the union)
    coal = a["ppa_mw_used"].sel(ppa="coal")
    rows = compare_energy_rows(a, b)
    keys = [r.key for r in rows]
    assert keys[: keys.index("pv")] == ["grid", "ppa:hydro", "ppa:coal"]  # the PPAs between the grid and PV
    by_key = {r.key: r for r in rows}
    np.testing.assert_allclose(by_key["ppa:coal"].a, annual_gwh(a, coal), atol=1e-9)
    assert by_key["ppa:coal"].b == [0.0, 0.0] and by_key["ppa:coal"].tag == "grey"
    assert by_key["ppa:hydro"].delta == [0.0, 0.0] and by_key["ppa:hydro"].tag == "green"
    fig = compare_dispatch_figure(a, b, ("A", "B"), year=2027)
    menu = fig.layout.updatemenus[0]
    day = day_labels(a).index(menu.buttons[menu.active].label)
    y = _visible(fig)
    np.testing.assert_allclose(y["Δ PPA coal"], -coal.sel(year=2027).isel(day=day).values, atol=1e-6)
    assert {"Δ PPA hydro", "Δ PV", "Δ grid import"}.isdisjoint(y)  # the same in both
    assert fig.layout.shapes, "the same tariff in both plans: its TOU periods are shaded"
