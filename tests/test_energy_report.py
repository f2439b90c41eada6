"""The energy view of a plan report: the annual energy balance, its Sankey, the dispatch's TOU bands and selectors.

The plan is the tiny instance made rich enough to show everything: two years, three typical days
and the hottest day kept as an extreme, a valley/peak tariff, a green and a grey PPA, PV, a
battery and auxiliary losses. Energies are recomputed here from the Dataset (Σ power × day_weight).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from tiny import tiny, write_profile

from planner.pipeline import plan_scenario
from planner.report import figures as F
from planner.report.energy import balance_gap, energy_flows, energy_table
from planner.report.html import render_report, report_charts
from planner.results.sites import cluster_view

ALL_MONTHS = list(range(1, 13))


@pytest.fixture(scope="module")
def ds() -> xr.Dataset:
    with tempfile.TemporaryDirectory(prefix="energy-report-") as tmp:
        h = np.arange(8760)
        doy, hod = h // 24, h % 24
        temp = 15 + 12 * np.sin(2 * np.pi * (doy - 100) / 365) + 5 * np.sin(2 * np.pi * (hod - 9) / 24)
        temp[200 * 24 + 10 : 200 * 24 + 18] += 8  # one clearly hottest day
        pv = np.clip(np.sin(np.pi * (hod - 6) / 12), 0, None) * (0.6 + 0.3 * np.sin(2 * np.pi * (doy - 80) / 365))
        hydro = 0.5 + 0.4 * np.sin(2 * np.pi * (doy - 120) / 365)
        profile = write_profile(
            Path(tmp) / "rich.csv",
            dry_bulb_c=temp,
            wet_bulb_c=temp - 4,
            pv_cf=pv,
            hydro_availability=hydro,
            wind_availability=0.8,
        )
        changes = {
            "name": "energy view",
            "years": [2026, 2027],
            "time.representative_days": 3,
            "time.extreme_days": {"dry_bulb_c": "max"},
            "facility.aux_loss_fraction": 0.05,
            "cooling.air.free_cooling_below_c": 18,
            "cooling.air.mechanical_above_c": 28,
            "power.grid.tariff.seasons": [{"name": "all", "months": ALL_MONTHS, "valley": ["0-8"], "peak": ["16-20"]}],
            "power.pv.max_mw": 0.01,
            "power.pv.capex_cny_per_kw": 10,
            "power.battery.max_mwh": 0.02,
            "power.battery.max_mw": 0.01,
            "power.ppa": {
                "hydro": {"availability_column": "hydro_availability", "energy_cny_per_kwh": 0.3, "max_mw": 0.008},
                "coal": {
                    "availability_column": "wind_availability",
                    "energy_cny_per_kwh": 0.35,
                    "max_mw": 0.004,
                    "green": False,
                },
            },
        }
        run = plan_scenario(tiny(profile, changes))
        assert run.dataset is not None, run.outcome.termination
        return cluster_view(run.dataset.load())  # what the report reads


def gwh(ds: xr.Dataset, da: xr.DataArray) -> np.ndarray:
    """Σ_day,hour power × day_weight by year, in GWh, written out independently of the report."""
    return np.array(
        [
            float((da.sel(year=y) * ds.day_weight).sum()) * 1e-3  # MWh -> GWh; other dims (ppa, cooling) summed too
            for y in ds.year.values
        ]
    )


def test_the_plan_has_every_kind_of_flow(ds: xr.Dataset) -> None:
    keys = {f.key for f in energy_flows(ds)}
    assert {"grid", "ppa:hydro", "ppa:coal", "pv", "discharge", "it", "cooling", "aux", "charge"} <= keys
    assert any(str(e) for e in ds.extreme_day.values)
    assert {"valley", "peak", "flat"} <= {str(p) for p in np.unique(ds.tou_period.values)}


def test_energy_balance_sources_equal_uses_and_the_dataset(ds: xr.Dataset) -> None:
    flows = {f.key: np.array(f.gwh) for f in energy_flows(ds)}
    sources = sum(flows[k] for k in ("grid", "ppa:hydro", "ppa:coal", "pv", "discharge"))
    uses = sum(flows[k] for k in ("it", "cooling", "aux", "charge"))
    np.testing.assert_allclose(sources, uses, rtol=1e-6)
    np.testing.assert_allclose(balance_gap(energy_flows(ds)), 0, atol=1e-6 * float(np.max(uses)))
    # against Σ power × weight from the Dataset
    supply = ds.grid_import_mw + ds.ppa_mw_used.sum("ppa") + ds.pv_used_mw + ds.battery_discharge_mw
    np.testing.assert_allclose(sources, gwh(ds, supply), rtol=1e-6)
    np.testing.assert_allclose(uses, gwh(ds, ds.facility_power_mw + ds.battery_charge_mw), rtol=1e-6)
    np.testing.assert_allclose(flows["grid"], gwh(ds, ds.grid_import_mw), rtol=1e-6)
    np.testing.assert_allclose(flows["ppa:hydro"], gwh(ds, ds.ppa_mw_used.sel(ppa="hydro")), rtol=1e-6)
    np.testing.assert_allclose(flows["it"], gwh(ds, ds.it_power_mw), rtol=1e-6)
    np.testing.assert_allclose(flows["cooling"], gwh(ds, ds.cooling_power_mw), rtol=1e-6)
    np.testing.assert_allclose(flows["aux"], 0.05 * gwh(ds, ds.it_power_mw), rtol=1e-6)  # aux = 5 % of IT
    # the table says the same in one unit, and its two totals agree
    table = energy_table(ds)
    rows = {r["label"]: r for r in table["rows"]}  # type: ignore[attr-defined]
    assert rows["total sources"]["values"] == rows["total uses"]["values"]
    assert [float(v.replace(",", "")) for v in rows["total sources"]["values"]] == pytest.approx(
        sources, abs=10 ** -table["decimals"]
    )
    assert table["max_gap_gwh"] < 1e-6 * float(np.max(uses))


def test_green_and_grey_sources_are_told_apart(ds: xr.Dataset) -> None:
    flows = {f.key: f for f in energy_flows(ds)}
    assert flows["ppa:hydro"].green is True and flows["pv"].green is True
    assert flows["ppa:coal"].green is False and flows["grid"].green is False
    assert F.flows.flow_colour(ds, flows["ppa:hydro"]) != F.flows.flow_colour(ds, flows["ppa:coal"])


def test_balance_chart_stacks_the_table(ds: xr.Dataset) -> None:
    fig = F.energy_balance_figure(ds)
    for side in ("sources", "uses"):
        bars = [t for t in fig.data if t.legendgroup == side]
        total = np.sum([np.asarray(t.y, dtype=float) for t in bars], axis=0)
        np.testing.assert_allclose(total, gwh(ds, ds.facility_power_mw + ds.battery_charge_mw), rtol=1e-5)


def test_sankey_links_sum_to_the_facility_energy(ds: xr.Dataset) -> None:
    fig = F.flows_figure(ds)
    years = [int(y) for y in ds.year.values]
    assert [t.name for t in fig.data] == [str(y) for y in years]
    assert [t.visible for t in fig.data] == [False, True]  # the last year first
    (menu,) = fig.layout.updatemenus
    assert [b.label for b in menu.buttons] == [str(y) for y in years]
    facility = gwh(ds, ds.facility_power_mw)
    charge = gwh(ds, ds.battery_charge_mw)
    for i, sankey in enumerate(fig.data):
        labels = list(sankey.node.label)
        hub = labels.index("facility")
        src, tgt, val = (np.asarray(a) for a in (sankey.link.source, sankey.link.target, sankey.link.value))
        into, out = val[tgt == hub].sum(), val[src == hub]
        np.testing.assert_allclose(into, facility[i] + charge[i], rtol=1e-5)
        not_charge = tgt[src == hub] != labels.index("battery charge")
        np.testing.assert_allclose(out[not_charge].sum(), facility[i], rtol=1e-5)
        np.testing.assert_allclose(out.sum(), into, rtol=1e-5)
        # only green sources are drawn green
        assert sankey.node.color[labels.index("PPA hydro (green)")] == F.flows.GREEN
        assert sankey.node.color[labels.index("grid import (grey)")] == F.flows.GREY


def tou_runs(ds: xr.Dataset, day: int) -> list[str]:
    periods = [str(p) for p in ds.tou_period.isel(day=day).values]
    return [p for h, p in enumerate(periods) if h == 0 or p != periods[h - 1]]


def test_dispatch_shades_each_tou_run_and_selects_the_year(ds: xr.Dataset) -> None:
    fig = F.dispatch_figure(ds)
    day_menu, year_menu = fig.layout.updatemenus
    start = day_menu.active
    assert [s.name for s in fig.layout.shapes] == [f"TOU {p}" for p in tou_runs(ds, start)]
    for d, button in enumerate(day_menu.buttons):
        assert [s["name"] for s in button.args[1]["shapes"]] == [f"TOU {p}" for p in tou_runs(ds, d)]
    years = [int(y) for y in ds.year.values]
    assert [b.label for b in year_menu.buttons] == [str(y) for y in years]
    assert year_menu.active == len(years) - 1
    # each year button shows that year's traces only; the day buttons carry every year's data
    facility = [i for i, t in enumerate(fig.data) if t.name == "facility load"]
    assert len(facility) == len(years)
    for y, button in zip(years, year_menu.buttons, strict=True):
        visible = button.args[0]["visible"]
        (shown,) = [i for i in facility if visible[i]]
        assert str(y) in button.args[1]["annotations[0].text"]
        for d, day_button in enumerate(day_menu.buttons):
            np.testing.assert_allclose(
                day_button.args[0]["y"][shown], ds.facility_power_mw.sel(year=y).isel(day=d).values, atol=1e-3
            )


def test_extreme_days_are_flagged_in_the_labels(ds: xr.Dataset) -> None:
    labels = F.day_labels(ds)
    for label, extreme in zip(labels, ds.extreme_day.values, strict=True):
        assert ("★ hottest" in label) == (str(extreme) == "dry_bulb_c:max"), label
    day_menu = F.dispatch_figure(ds).layout.updatemenus[0]
    assert [b.label for b in day_menu.buttons] == labels
    assert any("★ hottest" in t for t in F.dispatch_days_figure(ds).layout.xaxis.ticktext)


def test_every_day_figure_shows_all_days_of_the_last_year(ds: xr.Dataset) -> None:
    fig = F.dispatch_days_figure(ds)
    n = ds.sizes["day"]
    load = next(t for t in fig.data if t.name == "facility load")
    np.testing.assert_allclose(
        np.asarray(load.y, dtype=float), ds.facility_power_mw.isel(year=-1).values.ravel(), atol=1e-3
    )
    bands = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(bands) == sum(len(tou_runs(ds, d)) for d in range(n))
    assert len(fig.layout.xaxis.ticktext) == n
    assert not fig.layout.updatemenus  # nothing to click: it prints as it is


def test_report_holds_the_energy_view(ds: xr.Dataset) -> None:
    charts = report_charts(ds)
    assert {"energy_balance", "flows", "dispatch", "dispatch_days"} <= set(charts)
    html = render_report(ds)
    assert "Energy balance by year" in html and 'class="energy"' in html
    assert html.count("total sources") == 1 and html.count("total uses") == 1
