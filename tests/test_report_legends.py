"""Legends beside their panels, listing only what carries data, and cooling technologies by name (issue 17).

* every legend entry of every figure of a plan report has data (a non-zero value in some trace
  of its group), so a technology or a contract the plan does not use is not listed;
* a figure of several rows of panels gives each legend a place within the vertical span of the
  rows it explains, at the right of them; the facility figure has one legend per row;
* :func:`planner.report.labels.cooling_name` / ``cooling_label``: a short description, else the
  usual name of a key, else the key in words; the HTML build table, the dispatch charts and the
  terminal (the plan's build table and the validation's cooling table) use them, not the raw keys;
* the dispatch charts draw a source (grid import too) only when it has data on some day of the
  year, and then for every day (the day drop-down sets the traces' data by index); the emissions
  chart draws a basis only when it is non-zero in some year;
* every chart's title fits an 800-px page in :data:`planner.report.style.TITLE_CHARS_800PX`
  characters (a subtitle in 4/3 of them): the policy chart's key of markers is its subtitle.
"""

from __future__ import annotations

import copy
import json
import re
from html import unescape
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
import yaml
from click.testing import CliRunner
from rich.console import Console
from test_report import plan
from tiny import tiny_data, write_profile

from planner.cli import cli
from planner.pipeline import plan_scenario
from planner.report.figures import (
    compliance_figure,
    dispatch_days_figure,
    dispatch_figure,
    emissions_figure,
    facility_figure,
    utilisation_figure,
)
from planner.report.html import render_report, report_charts
from planner.report.labels import cooling_label, cooling_name
from planner.report.style import TITLE_CHARS_800PX, has_data, row_legend, subplots, wrap_title
from planner.report.tables import build_rows
from planner.report.terminal import print_plan
from planner.results.sites import cluster_view
from planner.scenario import scenario_from_dict

# =========================================================================== a plan with unused options


def legend_data(profile: Path) -> dict[str, Any]:
    """The tiny scenario with a costly ``immersion`` (never built) beside ``air``, a cheap ``hydro`` PPA (taken)
    and a ``wind`` PPA that is never available (never contracted)."""
    data = tiny_data(profile)
    data["accelerators"]["gpu"]["cooling"] = ["air", "immersion"]
    immersion = copy.deepcopy(data["cooling"]["air"])
    immersion.update({"capex_cny_per_rack": 1e9, "description": "Single-phase immersion tanks with dry coolers"})
    immersion["plant"]["capex_cny_per_unit"] = 1e9
    data["cooling"]["immersion"] = immersion
    data["power"]["ppa"] = {
        "hydro": {"availability_column": "hydro_availability", "energy_cny_per_kwh": 0.1, "max_mw": 0.5},
        "wind": {
            "availability_column": "wind_availability",
            "energy_cny_per_kwh": 0.05,
            "capacity_cny_per_kw_year": 10,
            "max_mw": 0.5,
        },
    }
    return data


@pytest.fixture(scope="module")
def unused(tmp_path_factory: pytest.TempPathFactory) -> xr.Dataset:
    """The plan of :func:`legend_data`: air racks and the hydro PPA, no immersion and no wind."""
    run = plan_scenario(scenario_from_dict(legend_data(write_profile(tmp_path_factory.mktemp("legends") / "p.csv"))))
    assert run.dataset is not None
    ds = run.dataset
    assert float(ds["racks"].sel(cooling="immersion").sum()) == 0 and float(ds["racks"].sel(cooling="air").sum()) > 0
    assert float(ds["ppa_mw"].sel(ppa="wind").sum()) == 0 and float(ds["ppa_mw"].sel(ppa="hydro").sum()) > 0
    return cluster_view(ds)  # what the report reads


def _values(trace: dict[str, Any]) -> np.ndarray:
    """A trace's plotted values: ``x`` of a horizontal bar, else ``y`` (None and text: NaN)."""
    raw = trace.get("x" if trace.get("orientation") == "h" else "y")
    if raw is None:
        return np.zeros(0)
    out = []
    for v in np.asarray(raw, dtype=object).ravel():
        try:
            out.append(float(v))
        except (TypeError, ValueError):
            out.append(np.nan)
    return np.asarray(out, dtype=float)


def _menu_ys(spec: dict[str, Any]) -> dict[int, list[Any]]:
    """The ``y`` each menu button gives each trace, by trace index (a day's drop-down sets every trace's data)."""
    out: dict[int, list[Any]] = {}
    for menu in spec["layout"].get("updatemenus", []):
        for button in menu.get("buttons", []):
            args = button.get("args") or [{}]
            every = len(args) < (3 if button.get("method") == "update" else 2)  # no trace indices: all, in order
            ys = args[0].get("y") if isinstance(args[0], dict) else None
            if every and isinstance(ys, list):
                for i, y in enumerate(ys):
                    out.setdefault(i, []).append(y)
    return out


def legend_entries(fig: Any) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The traces of each legend entry: (legend, group or name) -> the traces in it (the entry's and its group's).

    Each trace carries, as ``menu_ys``, the data the figure's menus give it (another day's).
    """
    spec = json.loads(fig.to_json())
    data = spec["data"]
    for i, ys in _menu_ys(spec).items():
        data[i]["menu_ys"] = ys
    shown = {
        (t.get("legend", "legend"), t.get("legendgroup") or t["name"])
        for t in data
        if t.get("name")
        and t.get("showlegend", True) is not False
        and t.get("type") in ("bar", "scatter", None)
        and t.get("mode") != "text"
    }
    return {
        key: [t for t in data if (t.get("legend", "legend"), t.get("legendgroup") or t.get("name")) == key]
        for key in shown
    }


def _domain(layout: dict[str, Any], axis: str) -> tuple[float, float]:
    """The vertical domain of a y axis (``y``, ``y2``, ...) in paper coordinates."""
    name = "yaxis" + axis[1:]
    return tuple(layout.get(name, {}).get("domain", [0.0, 1.0]))  # type: ignore[return-value]


def check_entries_have_data(key: str, fig: Any) -> None:
    """Every legend entry has data: some trace of its group has a finite non-zero value (on some day of a menu)."""
    for (legend, group), traces in legend_entries(fig).items():
        shown = [_values(t) for t in traces] + [_values({"y": y}) for t in traces for y in t.get("menu_ys", [])]
        assert any(has_data(v) for v in shown), f"{key}: legend entry {group!r} ({legend}) has no data"


def check_legends_beside_rows(key: str, fig: Any) -> None:
    """With several rows of panels, each legend sits at the right of the rows whose traces it lists, level with them."""
    spec = json.loads(fig.to_json())
    rows = {_domain(spec["layout"], t.get("yaxis", "y")) for t in spec["data"]}
    if len(rows) < 2:
        return
    for legend in {t.get("legend", "legend") for t in spec["data"] if t.get("showlegend", True) is not False}:
        spans = [
            _domain(spec["layout"], t.get("yaxis", "y")) for t in spec["data"] if t.get("legend", "legend") == legend
        ]
        place = spec["layout"].get(legend, {})
        assert place.get("yref", "paper") == "paper", f"{key}: {legend} not placed in paper coordinates"
        low, high = min(s[0] for s in spans), max(s[1] for s in spans)
        assert low - 1e-9 <= place["y"] <= high + 1e-9, f"{key}: {legend} at y={place['y']}, its rows span {low}-{high}"
        assert place.get("x", 0) >= 1.0, f"{key}: {legend} is not beside its rows (x={place.get('x')})"


@pytest.mark.parametrize("kind", ["unused", "two_day"])
def test_every_legend_entry_has_data_and_multi_row_legends_sit_beside_their_rows(kind: str, unused: xr.Dataset) -> None:
    ds = unused if kind == "unused" else plan("two_day")
    figures = report_charts(ds)
    assert {"facility", "utilisation", "compliance", "installed"} <= set(figures)
    assert {"dispatch", "dispatch_days", "emissions"} <= set(figures)
    for key, fig in figures.items():
        check_entries_have_data(key, fig)
        check_legends_beside_rows(key, fig)


def test_the_facility_figure_has_a_legend_per_row_without_unused_options(unused: xr.Dataset) -> None:
    fig = facility_figure(unused)
    entries = legend_entries(fig)
    names = {legend: sorted(t[0]["name"] for k, t in entries.items() if k[0] == legend) for legend, _ in entries}
    assert names == {"legend": ["air cooling"], "legend2": ["PPA hydro"]}
    lay = fig.layout
    first, second = fig.get_subplot(1, 1).yaxis.domain, fig.get_subplot(2, 1).yaxis.domain
    assert lay.legend.y == pytest.approx(first[1]) and lay.legend.yanchor == "top"
    assert lay.legend2.y == pytest.approx(second[1]) and second[1] < first[0]
    # the panels a legend explains are the last of their rows, next to it
    racks = next(t for t in fig.data if t.legendgroup == "cooling-air" and t.showlegend is not False)
    ppa = next(t for t in fig.data if t.legendgroup == "ppa-hydro")
    assert fig.layout[racks.xaxis.replace("x", "xaxis")].domain[1] > 0.7
    assert fig.layout[ppa.xaxis.replace("x", "xaxis")].domain[1] == pytest.approx(1.0)


def test_the_utilisation_legends_sit_by_their_panels(unused: xr.Dataset) -> None:
    fig = utilisation_figure(unused)
    by_legend = {t.legend or "legend" for t in fig.data}
    assert by_legend == {"legend", "legend2"}
    assert {t.name for t in fig.data if (t.legend or "legend") == "legend"} <= {"training", "inference", "idle"}
    assert "training" not in {t.name for t in fig.data}, "no training demand: no training entry"
    assert fig.layout.legend.x == pytest.approx(fig.get_subplot(1, 1).xaxis.domain[0])
    assert fig.layout.legend2.x >= 1.0


def test_the_dispatch_charts_draw_grid_import_only_with_data(unused: xr.Dataset) -> None:
    assert not has_data(unused["grid_import_mw"]) and has_data(plan("tiny")["grid_import_mw"])
    for fig in (dispatch_figure(unused), dispatch_days_figure(unused)):
        assert "grid import" not in {t.name for t in fig.data}
        assert "PPA hydro" in {t.name for t in fig.data} and "PPA wind" not in {t.name for t in fig.data}
    for fig in (dispatch_figure(plan("tiny")), dispatch_days_figure(plan("tiny"))):
        assert "grid import" in {t.name for t in fig.data}


def _grid_on(ds: xr.Dataset, **where: int) -> xr.Dataset:
    """The plan with 0.5 MW of grid import every hour of the days and years ``where`` picks (by index), else none."""
    grid = xr.zeros_like(ds["grid_import_mw"])
    grid[where] = 0.5
    return ds.assign(grid_import_mw=grid)


def test_a_source_with_data_on_one_day_is_drawn_on_every_day() -> None:
    ds = plan("two_day")  # two days, two years, no grid import
    assert ds.sizes["day"] == 2 and ds.sizes["year"] == 2 and not has_data(ds["grid_import_mw"])
    fig = dispatch_figure(_grid_on(ds, day=1))  # grid import on the second day only, in both years
    grid = [i for i, t in enumerate(fig.data) if t.name == "grid import"]
    assert len(grid) == 2, "one grid trace per year"
    days, years = fig.layout.updatemenus
    for d, button in enumerate(days.buttons):
        ys = button.args[0]["y"]
        assert len(ys) == len(fig.data), "a day's button sets the data of every trace, in order"
        for i in grid:
            np.testing.assert_allclose(ys[i], np.full(24, 0.5 if d == 1 else 0.0))
    for button in years.buttons:
        assert len(button.args[0]["visible"]) == len(fig.data)
    check_entries_have_data("dispatch", fig)
    (line,) = [t for t in dispatch_days_figure(_grid_on(ds, day=1)).data if t.name == "grid import"]
    np.testing.assert_allclose(np.reshape(line.y, (2, 24)), [[0.0] * 24, [0.5] * 24])
    # grid import in the first year only: a trace in that year, none in the other
    fig = dispatch_figure(_grid_on(ds, year=0))
    grid = [i for i, t in enumerate(fig.data) if t.name == "grid import"]
    first, last = fig.layout.updatemenus[1].buttons
    assert len(grid) == 1 and first.args[0]["visible"][grid[0]] and not last.args[0]["visible"][grid[0]]
    assert "grid import" not in {t.name for t in dispatch_days_figure(_grid_on(ds, year=0)).data}  # the last year


def test_the_dispatch_names_cooling_technologies_from_the_scenario(unused: xr.Dataset) -> None:
    names = {t.name for t in dispatch_figure(unused).data}
    assert {"IT load, air cooling", "cooling power, air cooling"} <= names
    assert not any("immersion" in n for n in names), "immersion is never built: no trace"
    data = yaml.safe_load(unused.attrs["scenario_yaml"])
    data["cooling"]["air"]["description"] = "Chilled-water CRAHs"
    named = unused.assign_attrs(scenario_yaml=yaml.safe_dump(data))
    names = {t.name for t in dispatch_figure(named).data}
    assert {"IT load, Chilled-water CRAHs", "cooling power, Chilled-water CRAHs"} <= names
    assert not any(n.endswith(" air") or n.startswith(("IT air", "cooling air")) for n in names)


def test_the_emissions_chart_draws_only_bases_with_emissions(unused: xr.Dataset) -> None:
    def bars(ds: xr.Dataset) -> list[str]:
        return [t.name for t in emissions_figure(ds).data if t.type == "bar"]

    assert bars(plan("tiny")) == ["location-based", "market-based"]  # grid energy: both bases
    assert has_data(unused["emissions_t"].sel(basis="location"))
    assert not has_data(unused["emissions_t"].sel(basis="market"))  # all of it from the hydro PPA
    assert bars(unused) == ["location-based"]
    two_day = plan("two_day")  # PV and battery only: no emissions at all
    assert not has_data(two_day["emissions_t"]) and bars(two_day) == []
    assert "no emissions in any year" in [a.text for a in emissions_figure(two_day).layout.annotations]


def _text(html: str | None) -> str:
    """What a plotly label shows: its text without tags, entities unescaped."""
    return unescape(re.sub(r"<[^>]+>", "", html or ""))


@pytest.mark.parametrize("kind", ["unused", "two_day"])
def test_every_chart_title_fits_an_800px_page(kind: str, unused: xr.Dataset) -> None:
    ds = unused if kind == "unused" else plan("two_day")
    for key, fig in report_charts(ds).items():
        title, subtitle = _text(fig.layout.title.text), _text(fig.layout.title.subtitle.text)
        assert 0 < len(title) <= TITLE_CHARS_800PX, f"{key}: title of {len(title)} characters: {title!r}"
        assert len(subtitle) <= TITLE_CHARS_800PX * 4 // 3, f"{key}: subtitle of {len(subtitle)}: {subtitle!r}"
    policy = compliance_figure(ds).layout.title
    assert not set("●◆✗") & set(policy.text) and set("●◆✗") <= set(policy.subtitle.text)


def test_row_legend_is_level_with_the_top_of_its_row() -> None:
    fig = subplots(rows=3, cols=2, vertical_spacing=0.1)
    for row in (1, 2, 3):
        place = row_legend(fig, row)
        low, high = fig.get_subplot(row, 2).yaxis.domain
        assert place["y"] == pytest.approx(high) and place["yanchor"] == "top" and place["yref"] == "paper"


@pytest.mark.parametrize(
    ("title", "cols", "wrapped"),
    [
        ("Accelerators installed [accelerators]", 3, "Accelerators installed<br>[accelerators]"),
        ("Racks by cooling [racks]", 3, "Racks by cooling [racks]"),
        ("Racks by cooling [racks]", 5, "Racks by<br>cooling [racks]"),  # four panels and a legend beside them
        ("Grid connection [MW]", 5, "Grid connection<br>[MW]"),
        ("Servers in service [servers]", 3, "Servers in service<br>[servers]"),
    ],
)
def test_wrap_title(title: str, cols: int, wrapped: str) -> None:
    assert wrap_title(title, cols) == wrapped


def test_has_data() -> None:
    assert not has_data([0.0, np.nan, -1e-12]) and not has_data([]) and has_data([0.0], [np.nan, -2.0])


# =========================================================================== cooling by name


@pytest.mark.parametrize(
    ("key", "description", "name"),
    [
        ("air", "Chilled-water CRAH with hot-aisle containment and a waterside (tower) economiser", "air cooling"),
        ("dlc", "", "direct liquid cooling"),
        ("immersion", "", "immersion cooling"),
        ("rdx", "Rear-door heat exchangers", "Rear-door heat exchangers"),  # a short description names it
        ("two_phase", "", "two phase cooling"),
        ("evaporative_cooling", "", "evaporative cooling"),
    ],
)
def test_cooling_name(key: str, description: str, name: str) -> None:
    assert cooling_name(key, description) == name


def test_cooling_label_reads_the_stored_scenario_or_a_sweeps_names() -> None:
    stored = xr.Dataset(attrs={"scenario_yaml": yaml.safe_dump({"cooling": {"rdx": {"description": "Rear doors"}}})})
    assert cooling_label(stored, "rdx") == "Rear doors"
    sweep = xr.Dataset(attrs={"display_names": json.dumps({"cooling": {"rdx": {"description": "Rear doors"}}})})
    assert cooling_label(sweep, "rdx") == "Rear doors"
    assert cooling_label(xr.Dataset(attrs={"display_names": "not json"}), "dlc") == "direct liquid cooling"
    assert cooling_label(xr.Dataset(), "air") == "air cooling"


def test_the_report_and_the_terminal_name_cooling_technologies(unused: xr.Dataset) -> None:
    labels = [r.label for r in build_rows(unused)]
    assert "racks, air cooling" in labels and "cooling plant units, air cooling" in labels
    assert not any(label.endswith(" air") for label in labels)
    assert "racks, air cooling" in render_report(unused)
    console = Console(record=True, width=200)
    print_plan(unused, console)
    text = console.export_text()
    assert "racks, air cooling" in text and "cooling plant units, air cooling" in text
    assert "racks air" not in text and "cooling units air" not in text


def test_plan_validate_names_cooling_technologies(tmp_path: Path) -> None:
    data = legend_data(write_profile(tmp_path / "p.csv"))
    data["cooling"]["dlc"] = copy.deepcopy(data["cooling"]["air"])
    data["accelerators"]["gpu"]["cooling"] = ["air", "dlc", "immersion"]
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    cooling = result.output.split("Cooling technologies", 1)[1].split("Policy limits", 1)[0]
    for name in ("air cooling", "direct liquid cooling", "immersion cooling"):
        assert name in cooling
    servers = result.output.split("Server types", 1)[1].split("Cooling technologies", 1)[0]
    assert "air cooling, direct liquid cooling, immersion cooling" in servers
