"""Legibility of a plan report, part 2 (issue 17): the inputs section, the stage timings, the marginal-cost
figure and the terminal summary.

* inputs: paths relative to the scenario's folder, numbers formatted (no ``60000000000.0``);
* timings: the total is the wall clock, the dive's stages (beside the MIP) shown but not added;
* marginal cost: one panel per limit with a price, each y-axis named with its unit and step;
* terminal: server types by vendor and chip, one number format per row.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml
from rich.console import Console
from test_report import plan

from planner.report.figures.cost import shadow_price_figure
from planner.report.html import render_report
from planner.report.scenario_inputs import input_rows, inputs_yaml
from planner.report.tables import timing_rows, wall_clock
from planner.report.terminal import print_plan

# =========================================================================== inputs


def _with_inputs(ds: xr.Dataset, folder: Path) -> xr.Dataset:
    """``ds`` as if made from ``folder/scenario.yaml``, with its profiles in ``folder/data`` and a 6e10 CNY cap."""
    data = yaml.safe_load(ds.attrs["scenario_yaml"])
    data["time"]["profiles"] = str(folder / "data" / "hourly.csv")
    data["accelerators"]["gpu"]["capex_cny"] = 6e10
    data["finance"]["budget_like_number"] = 6e10  # not money: plain thousands separators
    out = ds.copy()
    out.attrs = {**ds.attrs, "scenario_yaml": yaml.safe_dump(data), "scenario_source": str(folder / "scenario.yaml")}
    return out


def test_inputs_show_paths_relative_to_the_scenario_and_numbers_formatted(tmp_path: Path) -> None:
    ds = _with_inputs(plan("tiny"), tmp_path)
    rows = {r.key: r for r in input_rows(ds)}
    assert rows["time.profiles"].value == "data/hourly.csv" and rows["time.profiles"].full == ""
    assert rows["accelerators.gpu.capex_cny"].value == "60 bn CNY"
    assert rows["finance.budget_like_number"].value == "60,000,000,000"
    assert rows["time.representative_days"].value == "1"
    html = render_report(ds, source="x.nc")
    assert str(tmp_path) not in html
    assert "60000000000.0" not in html and "60000000000.0" not in inputs_yaml(ds)
    assert "data/hourly.csv" in html
    assert yaml.safe_load(inputs_yaml(ds))["time"]["profiles"] == "data/hourly.csv"


def test_a_path_outside_the_scenarios_folder_shows_its_name_and_the_full_path_on_hover(tmp_path: Path) -> None:
    ds = _with_inputs(plan("tiny"), tmp_path / "shared")
    ds.attrs["scenario_source"] = str(tmp_path / "scenarios" / "scenario.yaml")
    row = next(r for r in input_rows(ds) if r.key == "time.profiles")
    assert row.value == "hourly.csv" and row.full == str(tmp_path / "shared" / "data" / "hourly.csv")
    assert f'title="{row.full}">hourly.csv<' in render_report(ds)
    assert yaml.safe_load(inputs_yaml(ds))["time"]["profiles"] == row.full  # the YAML keeps what it needs


# =========================================================================== timings

TIMINGS = {
    "load": 1.0,
    "time_reduction": 2.0,
    "build": 3.0,
    "compile": 1.0,
    "handoff": 0.5,
    "solve": 10.0,
    "dive_relaxation": 4.0,
    "dive_dive": 5.0,
    "dive_wait": 0.5,
    "load_values": 0.25,
    "shadow_prices": 2.0,
    "results": 0.75,
}


def test_the_timings_total_is_the_wall_clock_without_the_dive_beside_the_mip() -> None:
    ds = xr.Dataset(attrs={"timings_s": json.dumps(TIMINGS)})
    assert wall_clock(ds) == pytest.approx(21.0)  # 30 s summed, less the 9 s of the dive beside the MIP
    rows = timing_rows(ds)
    stages = [r["stage"] for r in rows]
    assert stages.index("solve") < stages.index("dive_relaxation") < stages.index("dive_wait")
    beside = {r["stage"] for r in rows if not r["counted"]}
    assert beside == {"dive_relaxation", "dive_dive"}
    assert sum(r["share"] for r in rows if r["counted"]) == pytest.approx(100.0)


def test_without_a_mip_the_dive_was_the_solve_and_counts() -> None:
    t = {k: v for k, v in TIMINGS.items() if k not in ("solve", "handoff")}
    ds = xr.Dataset(attrs={"timings_s": json.dumps(t)})
    assert wall_clock(ds) == pytest.approx(sum(t.values()))
    assert all(r["counted"] for r in timing_rows(ds))


def test_a_dive_that_ran_before_the_mip_counts_and_is_listed_before_it() -> None:
    """At full resolution the dive goes first and the MIP runs after it: its seconds are wall clock."""
    ds = xr.Dataset(attrs={"timings_s": json.dumps(TIMINGS), "dive_beside_mip": 0})
    assert wall_clock(ds) == pytest.approx(30.0)
    rows = timing_rows(ds)
    stages = [r["stage"] for r in rows]
    assert stages.index("dive_relaxation") < stages.index("solve") and stages.index("dive_dive") < stages.index("solve")
    assert all(r["counted"] for r in rows)
    assert sum(r["share"] for r in rows) == pytest.approx(100.0)
    beside = xr.Dataset(attrs={"timings_s": json.dumps(TIMINGS), "dive_beside_mip": 1})
    assert wall_clock(beside) == pytest.approx(21.0)  # the same as a file written before the attribute existed


def test_the_report_labels_the_total_as_the_wall_clock() -> None:
    ds = plan("tiny").copy()
    ds.attrs = {**ds.attrs, "timings_s": json.dumps(TIMINGS)}
    html = render_report(ds)
    assert "dive_dive (ran beside the MIP)" in html
    assert "total (wall clock" in html and "<b>21.00</b>" in html


# =========================================================================== marginal cost


def _one_limit_priced(ds: xr.Dataset) -> tuple[xr.Dataset, str]:
    assert "shadow_price" in ds and ds.sizes["limit"] > 1
    out = ds.copy(deep=True)
    key = str(out["limit"].values[0])
    out["shadow_price"] = out["shadow_price"].copy(data=np.zeros(out["shadow_price"].shape))
    out["shadow_price"].loc[{"limit": key}] = 2.5e6
    out["shadow_price"].loc[{"limit": str(out["limit"].values[1])}] = np.nan
    return out, key


def test_the_marginal_cost_figure_has_one_panel_per_limit_with_a_price() -> None:
    ds, _ = _one_limit_priced(plan("two_day"))
    fig = shadow_price_figure(ds)
    assert len(fig.data) == 1
    axes = [k for k in fig.layout.to_plotly_json() if k.startswith("yaxis")]
    assert len(axes) == 1
    title = fig.layout.yaxis.title.text
    assert "M CNY" in title and "per " in title


def test_no_price_anywhere_is_one_line_of_text() -> None:
    ds = plan("two_day").copy(deep=True)
    ds["shadow_price"] = ds["shadow_price"] * 0.0
    fig = shadow_price_figure(ds)
    assert not fig.data
    assert any("no limit has a marginal cost" in a.text for a in fig.layout.annotations)


# =========================================================================== terminal


def test_the_terminal_summary_names_server_types_and_formats_each_row_one_way() -> None:
    console = Console(record=True, width=200)
    print_plan(plan("two_day"), console)
    text = console.export_text()
    assert "servers X G1" in text and "servers gpu" not in text
    pue = next(line for line in text.splitlines() if line.lstrip("│ ").startswith("PUE "))
    assert len(re.findall(r"\d\.\d{3}\b", pue)) == 4 and not re.findall(r"\d\.(\d{1,2}|\d{4,})\b", pue)
    for name in ("green share", "inference served", "utilisation"):
        line = next(line for line in text.splitlines() if name in line)
        shares = re.findall(r"[\d.]+%", line)
        assert shares and all(re.fullmatch(r"\d+\.\d%", s) for s in shares), line
    assert "annual cost [" in text and "CNY]" in text
