"""``plan compare`` says what differs: the inputs, each policy limit per year, and an NPV bridge one can read.

Plan A is the two-day plan of ``test_report.py`` (no overrides); plan B is the same scenario with
``--set``-style overrides applied by the loader's own :func:`apply_overrides` (a higher server price
and a tighter PUE cap), solved once per session and recorded with :func:`record_overrides` as
``plan solve --set`` does.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
import yaml
from click.testing import CliRunner
from test_report import TWO_DAY, _workdir, compare_file, plan, varied_profile
from tiny import tiny_data

from planner.cli import cli
from planner.pipeline import plan_scenario
from planner.report.compare import compare_npv_figure, render_compare
from planner.report.compare_bridge import bridge_range
from planner.report.compare_years import policy_year_rows
from planner.report.html import render_report
from planner.report.inputs import NOT_SET, compact, input_differences, variant_tag, variant_text
from planner.results.io import write_dataset
from planner.results.provenance import record_overrides
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
        _CACHE["b"] = record_overrides(run.dataset, OVERRIDES)
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
    assert text.rstrip().endswith("c.html") and "comparison written to" in text
    assert out.is_file() and 'data-path="policy.pue_max"' in out.read_text(encoding="utf-8")


def test_the_shared_compare_page_has_the_inputs_section() -> None:
    assert "What differs in the inputs" in compare_file("two_day", "hostile").read_text(encoding="utf-8")
