"""Legibility of the reports: readable names of swept parameters, server types and cost components, and sweep pages
that load plotly.js once.

* the labels (:mod:`planner.report.labels`) of a few hand-picked paths and keys;
* a plan report names its server types by vendor and chip: no raw key in a chart legend;
* a sweep of three tiny cases writes one ``plotly.min.js`` beside its pages, which load it with a
  relative ``<script src>`` (no page embeds plotly.js), so that ten cases stay well under 10 MB;
  the case report opens in a browser from disk with no console error and no request but file://.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import xarray as xr
import yaml
from plotly.offline import get_plotlyjs
from test_report import parse
from test_report_browser import Page, browser  # noqa: F401 - the browser fixture (same launch and skip rule)
from tiny import tiny_data, write_profile

from planner.pipeline import plan_scenario
from planner.report.html import render_report, report_charts
from planner.report.labels import accelerator_label, component_label, parameter_label
from planner.report.sweep import write_sweep_report
from planner.report.tables import build_rows
from planner.results.io import read_dataset
from planner.scenario import scenario_from_dict
from planner.studies.sweep import run_sweep

# =========================================================================== labels


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("policy.pue_max", "PUE cap [-]"),
        ("policy.pue_max.2030", "PUE cap 2030 [-]"),
        ("power.grid.tariff.scale", "grid tariff scale [-]"),
        ("accelerators.h200.capex_cny", "H200 server price [CNY]"),
        ("accelerators.ascend_910c.price_scale", "Ascend 910C price scale [-]"),
        ("accelerators.ascend_910c.full_kw", "Ascend 910C full-load power [kW]"),
        ("power.ppa.hydro.energy_cny_per_kwh", "hydro PPA energy price [CNY/kWh]"),
        ("demand.inference.scale", "inference demand scale [-]"),
        ("policy.domestic_compute_share_min.2030", "domestic compute share floor 2030 [-]"),
        ("policy.installed_eflops_min", "installed compute floor [EFLOPS]"),
        ("finance.discount_rate", "discount rate [-]"),
        ("cooling.dlc.capex_cny_per_rack", "DLC cooling price per rack [CNY]"),
    ],
)
def test_parameter_label_names_the_path_and_its_unit_from_the_schema(path: str, label: str) -> None:
    assert parameter_label(path) == label


def test_parameter_label_of_an_unknown_path_is_short_words() -> None:
    assert parameter_label("nothing.such_path") == "such path"
    assert parameter_label("policy.no_such_limit") == "no such limit"


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("fixed_om_existing_servers", "fixed O&M, existing servers"),
        ("servers_capital", "servers (capital charge)"),
        ("ppa_take_or_pay", "PPA take-or-pay"),
        ("grid_energy", "grid energy"),
        ("fixed_om_existing_things", "fixed O&M, existing things"),  # a component added later
        ("widgets_capital", "widgets (capital charge)"),
    ],
)
def test_component_label(key: str, label: str) -> None:
    assert component_label(key) == label


def test_accelerator_label_is_vendor_and_chip_from_the_stored_scenario() -> None:
    accs = {
        "ascend_950": {"vendor": "Huawei", "chip": "Ascend 950"},
        "h200": {"vendor": "NVIDIA", "chip": "H200"},
        "mlu": {"vendor": "Cambricon", "chip": "Cambricon MLU590"},  # the chip names its vendor already
    }
    ds = xr.Dataset(attrs={"scenario_yaml": yaml.safe_dump({"accelerators": accs})})
    assert accelerator_label(ds, "ascend_950") == "Huawei Ascend 950"
    assert accelerator_label(ds, "h200") == "NVIDIA H200"
    assert accelerator_label(ds, "mlu") == "Cambricon MLU590"
    assert accelerator_label(xr.Dataset(), "ascend_910c") == "Ascend 910C"  # no scenario: the key in words


# =========================================================================== a plan report


@pytest.fixture(scope="module")
def named_plan(tmp_path_factory: pytest.TempPathFactory) -> xr.Dataset:
    """The tiny plan with two server types under realistic keys: ``ascend_950`` (domestic) and ``h200``."""
    data = tiny_data(write_profile(tmp_path_factory.mktemp("legibility") / "flat.csv"))
    gpu = data["accelerators"].pop("gpu")
    data["accelerators"]["h200"] = {**copy.deepcopy(gpu), "vendor": "NVIDIA", "chip": "H200"}
    data["accelerators"]["ascend_950"] = {
        **copy.deepcopy(gpu),
        "vendor": "Huawei",
        "chip": "Ascend 950",
        "domestic": True,
        "capex_cny": 6e5,  # cheaper: both types are bought
    }
    run = plan_scenario(scenario_from_dict(data))
    assert run.dataset is not None
    return run.dataset


def _legend_names(fig: Any) -> list[str]:
    spec = json.loads(fig.to_json())
    return [str(t["name"]) for t in spec["data"] if t.get("name") and t.get("showlegend", True) is not False]


def test_report_names_server_types_by_vendor_and_chip(named_plan: xr.Dataset) -> None:
    keys = {str(a) for a in named_plan["accelerator"].values}
    assert keys == {"h200", "ascend_950"}
    figures = report_charts(named_plan)
    names = [n for key in ("new_servers", "installed", "utilisation") for n in _legend_names(figures[key])]
    assert "Huawei Ascend 950" in names
    for key, fig in figures.items():
        legend = _legend_names(fig)
        assert not keys & set(legend), f"{key}: raw server keys in the legend {legend}"
    labels = [r.label for r in build_rows(named_plan)]
    assert any("Huawei Ascend 950" in label for label in labels) and not any("ascend_950" in x for x in labels)
    html = render_report(named_plan)
    assert "Huawei Ascend 950" in html
    (bars,) = json.loads(figures["npv"].to_json())["data"]  # the NPV waterfall, a bar per cost component
    assert bars["y"][-1] == "NPV" and not any("_" in str(y) for y in bars["y"]), "components by name, not by key"


# =========================================================================== a sweep's pages


@pytest.fixture(scope="module")
def sweep_pages(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    """A sweep of three tiny cases and its report with the case reports."""
    folder = tmp_path_factory.mktemp("legibility_sweep")
    base = tiny_data(write_profile(folder / "profile.csv"))
    (folder / "base.yaml").write_text(yaml.safe_dump(base, sort_keys=False), encoding="utf-8")
    spec = {"name": "three", "base": "base.yaml", "grid": {"power.grid.tariff.scale": [0.5, 1.0, 2.0]}}
    (folder / "sweep.yaml").write_text(yaml.safe_dump({**spec, "shadow_prices": False}), encoding="utf-8")
    run_sweep(folder / "sweep.yaml", workers=1, results_dir=folder / "results", progress=False)
    ds = read_dataset(folder / "results" / "three.nc")
    return write_sweep_report(ds, folder / "reports" / "three.html", parts=folder / "results" / "three")


def test_a_sweep_writes_plotly_once_beside_its_pages(sweep_pages: tuple[Path, dict[str, Path]]) -> None:
    page, cases = sweep_pages
    assert len(cases) == 3
    folder = page.parent / page.stem
    assert [p.name for p in folder.glob("*.js")] == ["plotly.min.js"]
    assert (folder / "plotly.min.js").read_text(encoding="utf-8") == get_plotlyjs()
    js = len(get_plotlyjs())
    for path, src in [(page, "three/plotly.min.js"), *((p, "plotly.min.js") for p in cases.values())]:
        text = path.read_text(encoding="utf-8")
        assert "* plotly.js v" not in text, f"{path.name} embeds plotly.js"
        assert [a.get("src") for a, _ in parse(text).scripts if a.get("src")] == [src]
        assert path.stat().st_size < js / 10
    # ten cases: each case page at most as big as the largest of these three, plus the shared plotly.js
    ten = page.stat().st_size + 10 * max(p.stat().st_size for p in cases.values())
    assert ten < 2_000_000 and ten + js < 10_000_000, ten
    assert "grid tariff scale [-]" in page.read_text(encoding="utf-8")


def test_a_case_report_opens_from_disk_with_the_shared_plotly(
    browser: Any,  # noqa: F811
    sweep_pages: tuple[Path, dict[str, Path]],
) -> None:
    path = next(iter(sweep_pages[1].values()))
    page = Page(browser, path)
    try:
        page.wait_for_charts(5)
        assert page.page.evaluate("typeof window.Plotly") == "object"
        drawn = page.page.evaluate("() => document.querySelectorAll('.js-plotly-plot .main-svg').length")
        assert drawn >= 5
        page.page.wait_for_timeout(200)
        assert page.errors == [] and page.requests == [] and page.dialogs == []
    finally:
        page.close()
