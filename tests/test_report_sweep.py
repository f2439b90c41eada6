"""The sweep report: figures, page, escaping, per-case reports, ``plan sweep``/``plan report``, and a real browser.

One real sweep is solved once for the module, on the tiny instance of ``tests/tiny.py`` with a
second, domestic server type ``npu`` (half the PFLOPS of ``gpu`` for the same 10 kW) and a site of
one 1 MW hall: a 2 x 3 grid ``domestic share floor {0, 0.6} x installed-compute target
{0.001, 0.04, 0.08} EFLOPS`` and a one-at-a-time block of two parameters (grid tariff scale, gpu
price). The corner (0.6, 0.08) is infeasible: 80 PFLOPS with 60 % of it on ``npu`` needs 1.28 MW
of IT. The sweep's description is HTML (``<script>alert(1)</script>``).

The browser tests use playwright and Debian's chromium exactly as ``test_report_browser.py`` does
(same launch flags; skipped only where there is no chromium and ``CI`` is not set).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
import pytest
import xarray as xr
import yaml
from click.testing import CliRunner
from plotly.offline import get_plotlyjs
from test_report import parse
from test_report_browser import Page, browser  # noqa: F401 - the browser fixture (same launch and skip rule)
from tiny import tiny_data, write_profile

from planner.cli import cli
from planner.report import sweep_tables as S
from planner.report.figures.sweep import heatmap_views
from planner.report.figures.sweep_grid import chip_mix_figure, heatmap_figure, marginal_figure
from planner.report.figures.sweep_oat import tornado_figure
from planner.report.html import render_report
from planner.report.labels import accelerator_label, parameter_label
from planner.report.sweep import (
    case_plan,
    default_parts_dir,
    load_report_input,
    render_sweep_report,
    sweep_charts,
    write_sweep_report,
)
from planner.results.io import read_dataset
from planner.studies.sweep import run_sweep, summary_table

NAME = "tiny_report"
DOMESTIC = "policy.domestic_compute_share_min"
EFLOPS = "policy.installed_eflops_min"
GRID = {DOMESTIC: [0.0, 0.6], EFLOPS: [0.001, 0.04, 0.08]}
OAT = {"power.grid.tariff.scale": [0.5, 2.0], "accelerators.gpu.capex_cny": [800000, 1500000]}
DESCRIPTION = "Tiny sweep <script>alert(1)</script> & <b>bold</b>"
FIGURES = {
    "heatmap": heatmap_figure,
    "marginal": marginal_figure,
    "chip_mix": chip_mix_figure,
    "tornado": tornado_figure,
}


def write_yaml(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sweep's inputs (``base.yaml``, ``sweep.yaml``) and its results in ``results/sweeps/``."""
    folder = tmp_path_factory.mktemp("sweep_report")
    base = tiny_data(write_profile(folder / "profile.csv"))
    npu = copy.deepcopy(base["accelerators"]["gpu"])
    npu.update({"vendor": "Y", "chip": "N1", "domestic": True, "pflops_per_server": 0.5, "tokens_per_s": 600})
    npu["capex_cny"] = 6e5
    base["accelerators"]["npu"] = npu
    base["facility"]["max_halls"] = 1
    write_yaml(folder / "base.yaml", base)
    spec = {"name": NAME, "description": DESCRIPTION, "base": "base.yaml", "grid": GRID, "one_at_a_time": OAT}
    write_yaml(folder / "sweep.yaml", {**spec, "shadow_prices": False})
    run_sweep(folder / "sweep.yaml", workers=1, results_dir=folder / "results" / "sweeps", progress=False)
    return folder


@pytest.fixture(scope="module")
def ds(folder: Path) -> xr.Dataset:
    """The combined results, as read back from the file."""
    return read_dataset(folder / "results" / "sweeps" / f"{NAME}.nc")


@pytest.fixture(scope="module")
def report(folder: Path, ds: xr.Dataset) -> tuple[Path, dict[str, Path]]:
    """The sweep report and its per-case reports, written as ``plan sweep`` does (elsewhere than the CLI tests)."""
    return write_sweep_report(
        ds,
        folder / "pages" / f"{NAME}.html",
        parts=folder / "results" / "sweeps" / NAME,
        source=f"results/sweeps/{NAME}.nc",
    )


@pytest.fixture(scope="module")
def html(report: tuple[Path, dict[str, Path]]) -> str:
    return report[0].read_text(encoding="utf-8")


class _Table(HTMLParser):
    """The rows of the case table: each row's ``data-id`` and the hrefs inside it."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, list[str]]] = []
        self._in_table = self._in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and a.get("id") == "case-table":
            self._in_table = True
        elif self._in_table and tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self.rows.append((str(a.get("data-id")), []))
        elif self._in_body and tag == "a" and a.get("href"):
            self.rows[-1][1].append(str(a["href"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody" and self._in_body:
            self._in_body = self._in_table = False


def case_table(html: str) -> list[tuple[str, list[str]]]:
    parser = _Table()
    parser.feed(html)
    return parser.rows


def grid_only(ds: xr.Dataset) -> xr.Dataset:
    out = ds.drop_vars([v for v in ds.data_vars if str(v).startswith("oat_")])
    return out.drop_dims("case")


def oat_only(ds: xr.Dataset) -> xr.Dataset:
    out = ds.drop_vars([v for v in ds.data_vars if not str(v).startswith("oat_")])
    out = out.drop_dims([d for d in GRID])
    out.attrs = {**ds.attrs, "sweep_grid_dims": "[]"}
    return out


# =========================================================================== the sweep and its figures


def test_the_sweep_has_a_grid_a_tornado_and_one_infeasible_corner(ds: xr.Dataset) -> None:
    assert S.grid_dims(ds) == [DOMESTIC, EFLOPS] and S.oat_parameters(ds) == list(OAT)
    status = ds["status"].transpose(DOMESTIC, EFLOPS).values.tolist()
    assert status == [["optimal"] * 3, ["optimal", "optimal", "infeasible"]]
    assert ds["oat_status"].values.tolist() == ["optimal"] * 5
    assert S.status_counts(ds) == {"cases": 11, "optimal": 10, "time_limit": 0, "infeasible": 1, "failed": 0}
    # the plan switches chips with the domestic floor: only gpu at 0, npu at 0.6
    new = ds["servers_new"].sum(("site", "cooling", "year"))
    assert float(new.sel({DOMESTIC: 0.0, EFLOPS: 0.04, "accelerator": "npu"})) == 0
    assert float(new.sel({DOMESTIC: 0.6, EFLOPS: 0.04, "accelerator": "npu"})) > 0


@pytest.mark.parametrize("name", list(FIGURES))
def test_every_figure_builder_returns_a_figure(ds: xr.Dataset, name: str) -> None:
    before = ds.copy(deep=True)
    fig = FIGURES[name](ds)
    xr.testing.assert_identical(ds, before)  # pure
    assert isinstance(fig, go.Figure) and fig.layout.title.text and fig.data
    json.loads(fig.to_json())
    # a sweep without one of the blocks still gets a figure (saying there is nothing to draw)
    for part in (grid_only(ds), oat_only(ds)):
        assert isinstance(FIGURES[name](part), go.Figure)
    assert set(sweep_charts(grid_only(ds))) == {"heatmap", "marginal", "chip_mix"}
    assert set(sweep_charts(oat_only(ds))) == {"tornado"}


def test_heatmap_has_every_metric_greys_the_infeasible_cell_and_annotates_values(ds: xr.Dataset) -> None:
    fig = heatmap_figure(ds)
    (menu,) = fig.layout.updatemenus  # two swept dims: a metric menu only
    labels = [b.label for b in menu.buttons]
    for label in ("NPV", "PUE 2026", "green share 2026", "domestic share 2026", "installed EFLOPS 2026"):
        assert label in labels
    assert "new servers (all types)" in labels and "new servers: Y N1" in labels and "new racks: air cooling" in labels
    main, failed = fig.data
    assert list(main.x) == ["0.001", "0.04", "0.08"] and list(main.y) == ["0", "0.6"]
    npv = ds["objective"].transpose(DOMESTIC, EFLOPS).values / 1e6
    z = np.array(main.z, dtype=float)
    assert np.isnan(z[1, 2]) and main.text[1][2] == ""
    np.testing.assert_allclose(z[np.isfinite(z)], npv[np.isfinite(npv)], rtol=1e-6)
    assert float(main.text[0][0]) == pytest.approx(npv[0, 0], abs=0.01)  # values annotated in the cells
    assert failed.z[1][2] == 1 and failed.text[1][2] == "infeasible" and failed.z[0][0] is None
    assert "No plan can meet these limits together" in failed.customdata[1][2][1]  # why, on hover
    # each metric button carries its own data for the heatmap trace
    pue = menu.buttons[labels.index("PUE 2026")].args[0]["z"][0]
    assert pue[0][0] == pytest.approx(float(ds["pue"].isel({DOMESTIC: 0, EFLOPS: 0, "year": -1})))


def test_heatmap_of_three_swept_dims_has_a_menu_for_the_pair(ds: xr.Dataset) -> None:
    grid = grid_only(ds)
    three = grid.expand_dims({"finance.discount_rate": [0.0, 0.05]}).transpose("finance.discount_rate", ...)
    three.attrs["sweep_grid_dims"] = json.dumps(["finance.discount_rate", DOMESTIC, EFLOPS])
    fig = heatmap_figure(three)
    metrics, pairs = fig.layout.updatemenus
    views = heatmap_views(three)
    assert len(pairs.buttons) == len(views) == 2 + 3 + 2  # each pair, with each value of the third dim
    assert len(fig.data) == 2 * len(views)
    for k, button in enumerate(pairs.buttons):
        visible = button.args[0]["visible"]
        assert [i for i, v in enumerate(visible) if v] == [2 * k, 2 * k + 1]
    assert "at" in pairs.buttons[0].label
    assert all(len(b.args[0]["z"]) == len(views) for b in metrics.buttons)


def test_marginal_npv_is_the_difference_between_neighbouring_values(ds: xr.Dataset) -> None:
    tables = {t.dim: t for t in S.marginal_tables(ds)}
    npv = ds["objective"]
    dom = tables[DOMESTIC]
    assert dom.steps == ["0 → 0.6"] and dom.uniform_step == "+0.6"
    for (label, deltas), e in zip(dom.rows, GRID[EFLOPS], strict=True):
        assert label == f"installed compute floor [EFLOPS] = {e:g}"  # parameter_label(EFLOPS)
        expected = float(npv.sel({DOMESTIC: 0.6, EFLOPS: e}) - npv.sel({DOMESTIC: 0.0, EFLOPS: e}))
        assert deltas[0] == pytest.approx(expected) if np.isfinite(expected) else np.isnan(deltas[0])
    assert np.isnan(dom.rows[2][1][0]) and dom.missing == 1 and dom.total == 3
    assert "raises the NPV by" in dom.summary and "1 of 3 steps have no plan" in dom.summary
    eflops = tables[EFLOPS]
    assert eflops.steps == ["0.001 → 0.04", "0.04 → 0.08"] and eflops.uniform_step == ""
    assert all(d > 0 for _, row in eflops.rows for d in row if np.isfinite(d))  # more compute costs more
    fig = marginal_figure(ds)
    assert len(fig.layout.updatemenus[0].buttons) == 2  # one entry per swept dim


def test_chip_mix_shows_new_servers_by_type_at_every_grid_point(ds: xr.Dataset) -> None:
    fig = chip_mix_figure(ds)
    bars = {t.name: t for t in fig.data if isinstance(t, go.Bar)}
    assert set(bars) == {"X G1 (imported)", "Y N1 (domestic)"}  # vendor and chip, from the sweep's display names
    new = (
        ds["servers_new"]
        .sum(("site", "cooling", "year"), min_count=1)
        .transpose(DOMESTIC, EFLOPS, "accelerator")
        .values
    )
    # default order: the last swept dim varies fastest, grouped by the first
    np.testing.assert_allclose(np.array(bars["Y N1 (domestic)"].y, dtype=float), new[..., 1].ravel(), equal_nan=True)
    failed = next(t for t in fig.data if t.name == "no plan")
    assert list(failed.text) == ["infeasible"]
    assert len(fig.layout.updatemenus[0].buttons) == 2


def test_tornado_is_sorted_by_swing_and_labelled_with_the_values(ds: xr.Dataset) -> None:
    base, status, rows = S.tornado_rows(ds)
    assert status == "optimal" and base == pytest.approx(float(ds["oat_objective"].sel(case="base")))
    assert [r.swing for r in rows] == sorted((r.swing for r in rows), reverse=True)
    by = {r.parameter: r for r in rows}
    tariff = by["power.grid.tariff.scale"]
    high = float(ds["oat_objective"].sel(case="power.grid.tariff.scale=high"))
    assert tariff.high_delta == pytest.approx(high - base) and tariff.low_delta < 0 < tariff.high_delta
    fig = tornado_figure(ds)
    low, high_trace = fig.data
    assert list(low.y) == [parameter_label(r.parameter) for r in rows]
    assert low.text[list(low.y).index("GPU server price [CNY]")].startswith("800,000: ")


def test_hostile_swept_values_are_escaped_in_the_figures(ds: xr.Dataset) -> None:
    hostile = ds.assign_coords(case_value=("case", ["", "<b>0.5</b>", "2.0", "<script>x</script>", "1"]))
    text = tornado_figure(hostile).to_json()
    assert "<script>" not in text and "<b>0.5" not in text and "&lt;b&gt;0.5" in text


# =========================================================================== the page


def test_page_loads_the_shared_plotly_and_needs_no_network(
    ds: xr.Dataset, html: str, report: tuple[Path, dict[str, Path]]
) -> None:
    assert html.count("* plotly.js v") == 0, "not embedded: the pages of a sweep share one copy"
    page = parse(html)
    figures = [(a, t) for a, t in page.scripts if "plotly-figure" in (a.get("class") or "")]
    assert len(figures) == len(sweep_charts(ds)) == 4
    for attrs, text in figures:
        assert json.loads(text)["data"] and f'id="{attrs["data-target"]}"' in html
    assert [attrs.get("src") for attrs, _ in page.scripts if attrs.get("src")] == [f"{NAME}/plotly.min.js"]
    shared = report[0].parent / NAME / "plotly.min.js"
    assert shared.read_text(encoding="utf-8") == get_plotlyjs()
    external = [u for u in page.urls if re.match(r"^([a-z][a-z0-9+.-]*:|//)", u, re.I)]
    assert external == [], external
    assert all(u.startswith("#") or u.startswith(f"{NAME}/") for u in page.urls)
    for section in ("overview", "heatmaps", "tradeoffs", "chips", "tornado", "cases", "failed", "definition"):
        assert f'id="{section}"' in html
    assert "@media print" in html


def test_sweep_description_is_escaped(html: str) -> None:
    assert "<script>alert(1)</script>" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    code = [text for attrs, text in parse(html).scripts if attrs.get("type") != "application/json"]
    assert len(code) == 3 and code[0] == "", "plotly.js (src), the table sorter and the loader"
    assert not any("alert" in c for c in code)
    for attrs, text in parse(html).scripts:
        if attrs.get("type") == "application/json":
            json.loads(text)
            assert "<" not in text and ">" not in text


def test_header_counts_and_failed_cases(html: str) -> None:
    assert "Sweep tiny_report" in html and "base.yaml" in html
    counts = dict(re.findall(r'<div class="label">([^<]+)</div><div class="value">([^<]+)</div>', html))
    assert {k: counts[k] for k in ("Cases", "Optimal", "Time-limited", "Infeasible", "Failed")} == {
        "Cases": "11",
        "Optimal": "10",
        "Time-limited": "0",
        "Infeasible": "1",
        "Failed": "0",
    }
    assert counts["Wall time"].endswith(" s")
    failed = html[html.index('id="failed"') :]
    assert "infeasible" in failed and "the installed-compute target of 0.08 EFLOPS" in failed


def test_case_table_has_one_row_per_case_and_links_to_existing_reports(
    ds: xr.Dataset, report: tuple[Path, dict[str, Path]], html: str
) -> None:
    rows = case_table(html)
    frame = summary_table(ds)
    assert [cid for cid, _ in rows] == frame["id"].tolist() and len(rows) == 11
    links = {cid: hrefs for cid, hrefs in rows}
    planned = frame.loc[frame["status"] == "optimal", "id"].tolist()
    assert set(report[1]) == set(planned)
    for cid in planned:
        (href,) = links[cid]
        target = report[0].parent / href
        assert target.is_file() and target == report[1][cid]
        assert target.parent == report[0].parent / NAME  # reports/sweeps/<name>/<id>.html
    infeasible = frame.loc[frame["status"] == "infeasible", "id"].item()
    assert links[infeasible] == []
    case_html = report[1][planned[0]].read_text(encoding="utf-8")
    assert case_html.count("* plotly.js v") == 0 and "tiny_report · " in case_html
    assert '<script src="plotly.min.js"></script>' in case_html  # the copy beside the case reports


def test_case_report_without_its_part_is_drawn_from_the_combined_file(ds: xr.Dataset) -> None:
    case = next(c for c in S.sweep_cases(ds) if c.kind == "oat" and c.side == "high")
    plan, source = case_plan(ds, case, parts=None)
    assert "case" not in plan.dims and not [d for d in GRID if d in plan.dims]
    assert float(plan["npv_cny"]) == pytest.approx(case.npv) and case.id in source
    assert "<!DOCTYPE html>" in render_report(plan, source)


def test_no_case_reports_means_no_links(ds: xr.Dataset) -> None:
    text = render_sweep_report(ds)
    assert all(hrefs == [] for _, hrefs in case_table(text)) and "--no-case-reports" in text
    assert text.count("* plotly.js v") == 1, "a sweep page alone embeds plotly.js"


# =========================================================================== display names


def _mix_cells(html: str) -> list[str]:
    """The text of the case table's server-mix cells."""
    return re.findall(r'<td class="mix"[^>]*>(.*?)</td>', html, re.S)


def test_the_sweep_file_stores_the_names_of_the_base_scenarios_entries(ds: xr.Dataset) -> None:
    names = json.loads(ds.attrs["display_names"])
    assert names["accelerators"] == {"gpu": {"vendor": "X", "chip": "G1"}, "npu": {"vendor": "Y", "chip": "N1"}}
    assert set(names["cooling"]) == {"air"}


def test_the_sweep_page_names_server_types_by_vendor_and_chip(ds: xr.Dataset, html: str) -> None:
    mixes = [m for m in _mix_cells(html) if m not in ("none", "–")]
    assert mixes and any("Y N1" in m for m in mixes) and any("X G1" in m for m in mixes)
    assert not any(re.search(r"\b(gpu|npu)\b", m, re.I) for m in mixes), mixes
    labels = [m.label for m in S.grid_metrics(ds)]
    assert "new servers: X G1" in labels and "new servers: Y N1" in labels
    assert not [label for label in labels if "gpu" in label.lower() or "npu" in label.lower()]


def test_an_old_sweep_file_without_names_reports_the_keys_in_words(ds: xr.Dataset) -> None:
    old = ds.copy()
    old.attrs = {k: v for k, v in ds.attrs.items() if k != "display_names"}
    mixes = [m for m in _mix_cells(render_sweep_report(old)) if m not in ("none", "–")]
    assert any("NPU" in m for m in mixes) and not any("Y N1" in m for m in mixes)
    assert {t.name for t in chip_mix_figure(old).data if isinstance(t, go.Bar)} == {"GPU (imported)", "NPU (domestic)"}


def test_a_case_report_drawn_from_the_combined_file_keeps_the_names(ds: xr.Dataset) -> None:
    case = next(c for c in S.sweep_cases(ds) if c.kind == "grid" and c.has_plan and c.new_servers.get("npu", 0) > 0)
    plan, _ = case_plan(ds, case, parts=None)
    assert accelerator_label(plan, "npu") == "Y N1"
    assert "Y N1" in render_report(plan)


# =========================================================================== command line


def test_plan_sweep_writes_the_sweep_report(folder: Path, ds: xr.Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    # The flags of plan sweep (a real plan sweep runs in test_sweep.py): run_sweep returns the results at once.
    monkeypatch.chdir(folder)
    monkeypatch.setattr("planner.studies.sweep.run_sweep", lambda *a, **k: ds)
    args = ["sweep", "sweep.yaml", "--workers", "1"]
    run = CliRunner().invoke(cli, [*args, "--no-case-reports", "-r", "mine/s.html"])
    assert run.exit_code == 0, run.output + run.stderr
    assert "sweep report written to mine/s.html" in run.stdout
    assert len(case_table((folder / "mine" / "s.html").read_text(encoding="utf-8"))) == 11
    assert not (folder / "mine" / "s").exists()  # no case reports
    run = CliRunner().invoke(cli, [*args, "--no-report", "-r", "none/s.html"])
    assert run.exit_code == 0 and not (folder / "none").exists() and "sweep report" not in run.stdout


def test_plan_report_routes_a_sweep_file_to_the_sweep_report(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(folder)
    results = Path("results") / "sweeps" / f"{NAME}.nc"
    ds, is_sweep = load_report_input(results)
    assert is_sweep and S.is_sweep(ds)
    assert default_parts_dir(ds, results) == results.parent / NAME  # where the case reports are drawn from
    run = CliRunner().invoke(cli, ["report", str(results), "--no-case-reports"])
    assert run.exit_code == 0, run.output + run.stderr
    out = folder / "reports" / "sweeps" / f"{NAME}.html"  # the default for a sweep
    assert "sweep report written to" in run.stdout and len(case_table(out.read_text(encoding="utf-8"))) == 11


# =========================================================================== in a browser


@pytest.fixture(scope="module")
def sweep_page(browser: Any, ds: xr.Dataset, report: tuple[Path, dict[str, Path]]) -> Iterator[Page]:  # noqa: F811
    page = Page(browser, report[0])
    page.wait_for_charts(len(sweep_charts(ds)))
    yield page
    page.close()


def _row_ids(page: Page) -> list[str]:
    return page.page.eval_on_selector_all("#case-table tbody tr", "rows => rows.map(r => r.dataset.id)")


def test_sweep_report_opens_without_errors_or_network(sweep_page: Page, ds: xr.Dataset) -> None:
    page = sweep_page
    assert page.page.locator(".js-plotly-plot").count() == len(sweep_charts(ds)) == 4
    assert page.page.evaluate("typeof window.Plotly") == "object"
    page.page.wait_for_timeout(200)
    assert page.errors == [] and page.requests == [] and page.dialogs == []
    assert "<script>alert(1)</script>" in page.page.locator("header .desc").inner_text()  # shown as text


def test_clicking_a_header_sorts_the_case_table(sweep_page: Page, ds: xr.Dataset) -> None:
    page = sweep_page
    before = _row_ids(page)
    page.page.locator("#case-table thead th", has_text="NPV").click()
    after = _row_ids(page)
    assert after != before and sorted(after) == sorted(before)
    npv = {str(i): float(v) for i, v in zip(summary_table(ds)["id"], summary_table(ds)["npv_cny"], strict=True)}
    values = [npv[i] for i in after]
    finite = [v for v in values if np.isfinite(v)]
    assert finite == sorted(finite) and np.isnan(values[-1])  # ascending, the case without a plan last
    page.page.locator("#case-table thead th", has_text="NPV").click()
    again = [npv[i] for i in _row_ids(page)]
    assert [v for v in again if np.isfinite(v)] == sorted(finite, reverse=True)
    assert page.errors == []


def test_heatmap_selector_switches_the_metric(sweep_page: Page) -> None:
    page = sweep_page

    def z() -> Any:
        return page.page.evaluate("() => document.getElementById('chart-heatmap').data[0].z")

    before = z()
    chart = page.page.locator("#chart-heatmap")
    chart.locator(".updatemenu-header").first.click(timeout=5_000)
    chart.locator(".updatemenu-dropdown-button", has_text="new servers (all types)").first.click(timeout=5_000)
    page.page.wait_for_timeout(200)
    assert z() != before
    title = page.page.evaluate("() => document.getElementById('chart-heatmap').layout.title.text")
    assert title.startswith("new servers (all types)")
    assert page.errors == []


def test_a_case_link_opens_the_case_report(sweep_page: Page) -> None:
    page = sweep_page  # the last test of the page: it leaves the sweep report
    link = page.page.locator("#case-table tbody a").first
    cid = link.inner_text()
    with page.page.expect_navigation(wait_until="load"):
        link.click()
    assert page.page.url.endswith(f"/{NAME}/{cid}.html")
    page.wait_for_charts(5)
    assert page.page.locator("h1").inner_text().startswith(f"{NAME} · ")
    assert page.errors == [] and page.requests == [] and page.dialogs == []
