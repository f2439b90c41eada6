"""HTML reports without a browser: figures, page structure, escaping, ``plan report`` / ``plan compare``.

The plans come from the tiny instance (``tests/tiny.py``): ``tiny`` is the canonical one-year,
one-day plan; ``two_day`` has two years, two representative days that differ (a seasonal,
daily-cycling temperature and PV profile), PV and a battery, and policy limits, so that the
dispatch drop-down and the compliance table have something to show; ``hostile`` is the
two-day plan with more demand, of a scenario whose name and description are HTML (it is
also the "B" of the comparison tests). They are solved once per test
session (:func:`plan`) and shared with ``test_report_browser.py``.
"""

from __future__ import annotations

import inspect
import json
import re
import tempfile
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
from tiny import tiny, tiny_data, write_profile

from planner.cli import cli
from planner.pipeline import plan_scenario
from planner.report import compare as C
from planner.report import figures as F
from planner.report import tables as T
from planner.report.compare import compare_charts
from planner.report.data import has_shortfall
from planner.report.format import fmt_money, money_scale
from planner.report.html import (
    load_results,
    render_compare,
    render_report,
    report_charts,
)
from planner.report.page import write_html
from planner.results.io import write_dataset
from planner.results.sites import cluster_view

HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_DESCRIPTION = '<img src=x onerror="alert(2)"> & <b>bold</b> </script><script>alert(3)</script>'

_CACHE: dict[str, Any] = {}


def _workdir() -> Path:
    if "dir" not in _CACHE:
        _CACHE["tmp"] = tempfile.TemporaryDirectory(prefix="report-tests-")
        _CACHE["dir"] = Path(_CACHE["tmp"].name)
    return Path(_CACHE["dir"])


def varied_profile() -> Path:
    """An 8760-hour profile whose days differ: seasonal and daily temperature cycles, PV by day length."""
    path = _workdir() / "varied.csv"
    if not path.exists():
        h = np.arange(8760)
        doy, hod = h // 24, h % 24
        temp = 15 + 12 * np.sin(2 * np.pi * (doy - 100) / 365) + 5 * np.sin(2 * np.pi * (hod - 9) / 24)
        pv = np.clip(np.sin(np.pi * (hod - 6) / 12), 0, None) * (0.6 + 0.3 * np.sin(2 * np.pi * (doy - 80) / 365))
        write_profile(path, dry_bulb_c=temp, wet_bulb_c=temp - 4, pv_cf=pv)
    return path


TWO_DAY = {
    "years": [2026, 2027],
    "time.representative_days": 2,
    "power.pv.max_mw": 2,
    "power.battery.max_mwh": 2,
    "power.battery.max_mw": 1,
    "cooling.air.free_cooling_below_c": 18,
    "cooling.air.mechanical_above_c": 28,
    "policy.pue_max": 1.3,
    "policy.installed_eflops_min": 0.001,
}


def scenario_changes(kind: str) -> dict[str, Any] | None:
    """The ``tiny(profile, changes)`` of each test plan (None: the plain tiny instance on a flat profile)."""
    if kind == "tiny":
        return None
    if kind == "two_day":
        return {**TWO_DAY, "name": "two-day", "description": "Tiny plan over two years and two days."}
    if kind == "hostile":  # HTML for a name and description, and more demand (so that it differs from two_day)
        return {
            **TWO_DAY,
            "name": HOSTILE_NAME,
            "description": HOSTILE_DESCRIPTION,
            "demand.inference.peak_tokens_per_s": 3000,
        }
    raise KeyError(kind)


def plan(kind: str) -> xr.Dataset:
    """The cluster view of a test plan (its sites added up, as the report's entry points read it):
    what the report's figure and table functions take."""
    key = f"cluster:{kind}"
    if key not in _CACHE:
        _CACHE[key] = cluster_view(solved(kind))
    return _CACHE[key]


def solved(kind: str) -> xr.Dataset:
    """The solved results Dataset of a test plan, with its ``site`` dim (solved once per session)."""
    key = f"ds:{kind}"
    if key not in _CACHE:
        changes = scenario_changes(kind)
        if changes is None:
            scenario = tiny(write_profile(_workdir() / "flat.csv"))
        else:
            scenario = tiny(varied_profile(), changes)
        run = plan_scenario(scenario)
        assert run.dataset is not None, run.outcome.termination
        _CACHE[key] = run.dataset
    return _CACHE[key]


def results_file(kind: str) -> Path:
    """The plan written as a netCDF results file."""
    path = _workdir() / f"{kind}.nc"
    if not path.exists():
        write_dataset(solved(kind), path)
    return path


def report_html(kind: str) -> str:
    """The plan's HTML report (rendered once)."""
    key = f"html:{kind}"
    if key not in _CACHE:
        _CACHE[key] = render_report(solved(kind), source=f"{kind}.nc")
    return str(_CACHE[key])


def compare_html(a: str, b: str) -> str:
    """The comparison of two plans (rendered once)."""
    key = f"compare:{a}:{b}"
    if key not in _CACHE:
        _CACHE[key] = render_compare(solved(a), solved(b), (f"{a}.nc", f"{b}.nc"))
    return str(_CACHE[key])


def report_file(kind: str) -> Path:
    """The plan's HTML report as a file."""
    path = _workdir() / f"{kind}.html"
    if not path.exists():
        write_html(report_html(kind), path)
    return path


def compare_file(a: str, b: str) -> Path:
    """The comparison of two plans as a file."""
    path = _workdir() / f"compare_{a}_{b}.html"
    if not path.exists():
        write_html(compare_html(a, b), path)
    return path


class _Scripts(HTMLParser):
    """Collects every <script> element (attributes and text) and every src/href attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.urls: list[str] = []
        self._open: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)
        if tag == "script":
            self._open, self._text = dict(attrs), []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._open is not None:
            self.scripts.append((self._open, "".join(self._text)))
            self._open = None


def parse(html: str) -> _Scripts:
    parser = _Scripts()
    parser.feed(html)
    return parser


# =========================================================================== figures


FIGURE_FUNCTIONS = [
    name
    for name in F.__all__
    if name.endswith("_figure") and not name.startswith("compare_") and inspect.isfunction(getattr(F, name))
]
COMPARE_FUNCTIONS = [name for name in C.__all__ if name.startswith("compare_") and name.endswith("_figure")]


@pytest.mark.parametrize("kind", ["tiny", "two_day"])
@pytest.mark.parametrize("name", FIGURE_FUNCTIONS)
def test_every_figure_function_returns_a_figure(kind: str, name: str) -> None:
    ds = plan(kind)
    before = ds.copy(deep=True)
    fig = getattr(F, name)(ds)
    xr.testing.assert_identical(ds, before)  # pure: the Dataset is left as it was
    assert isinstance(fig, go.Figure)
    assert fig.layout.title.text, "every figure has a title"
    json.loads(fig.to_json())  # serialisable


@pytest.mark.parametrize("name", COMPARE_FUNCTIONS)
def test_every_compare_function_returns_a_figure(name: str) -> None:
    fig = getattr(C, name)(plan("tiny"), plan("two_day"), ("A", "B"))
    assert isinstance(fig, go.Figure)
    json.loads(fig.to_json())


def test_dispatch_dropdown_has_one_button_per_day_with_that_days_data() -> None:
    ds = plan("two_day")
    fig = F.dispatch_figure(ds)
    menu, _years = fig.layout.updatemenus  # the days' drop-down, then the years' buttons
    assert len(menu.buttons) == ds.sizes["day"] == 2
    ys = [button.args[0]["y"] for button in menu.buttons]
    assert all(len(y) == len(fig.data) for y in ys)
    assert ys[0] != ys[1], "the two days must show different data"
    labels = F.day_labels(ds)
    assert [b.label for b in menu.buttons] == labels
    # the facility-load trace of each button is that day's facility power
    idx = next(i for i, t in enumerate(fig.data) if t.name == "facility load")
    for d, y in enumerate(ys):
        np.testing.assert_allclose(y[idx], ds["facility_power_mw"].isel(year=-1, day=d).values, atol=1e-3)
    # the figure opens on the day of the year's peak load, and the drop-down says so
    assert menu.active == F.default_day(ds, int(ds.year.values[-1]))


def test_dispatch_supply_stack_balances_the_facility_load() -> None:
    ds = plan("two_day")
    fig = F.dispatch_figure(ds)
    shown = [t for t in fig.data if t.visible is not False]  # the year shown (each year has its traces)
    supply = [t for t in shown if isinstance(t, go.Bar) and t.xaxis == "x"]
    load = next(t for t in shown if t.name == "facility load")
    total = np.sum([np.asarray(t.y, dtype=float) for t in supply], axis=0)
    np.testing.assert_allclose(total, np.asarray(load.y, dtype=float), atol=1e-3)


def compliance_table(ds: xr.Dataset) -> list[dict[str, Any]]:
    """Compliance rows as plain records (limit, year, limit value, achieved, ✓/✗, shadow price, method)."""
    return [
        {
            "limit": r.key,
            "year": r.year,
            "limit_value": r.limit,
            "achieved": r.achieved,
            "holds": "–" if r.ok is None else ("✓" if r.ok else "✗"),
            "shadow_price": r.shadow_price,
            "shadow_price_method": r.shadow_price_method,
        }
        for r in T.compliance_rows(ds)
    ]


def test_compliance_rows_hold_limit_achieved_tick_and_price() -> None:
    ds = plan("two_day")
    rows = {(r.key, r.year): r for r in T.compliance_rows(ds)}
    pue = rows[("pue_max", 2026)]
    assert pue.limit == pytest.approx(1.3)
    assert pue.achieved == pytest.approx(float(ds["pue"].sel(year=2026)))
    assert pue.ok is True and pue.sense == "≤"
    assert np.isfinite(pue.shadow_price) and pue.shadow_price_method
    green = rows[("green_share_min", 2026)]
    assert not np.isfinite(green.limit) and green.ok is None
    table = compliance_table(ds)
    assert {"limit", "year", "limit_value", "achieved", "holds", "shadow_price", "shadow_price_method"} <= set(table[0])
    assert {r["holds"] for r in table if r["limit"] == "pue_max"} == {"✓"}


def test_compliance_marks_a_missed_limit() -> None:
    ds = plan("two_day").copy(deep=True)
    ds["pue_max"] = ds["pue_max"].copy(data=np.array([1.0, 1.3]))
    rows = {(r.key, r.year): r for r in T.compliance_rows(ds)}
    assert rows[("pue_max", 2026)].ok is False and rows[("pue_max", 2027)].ok is True
    card = next(k for k in T.headline(ds) if k.label.startswith("PUE"))
    assert card.status == "bad" and "2026" in card.detail


def test_build_rows_match_the_plan() -> None:
    ds = plan("two_day")
    rows = {r.label: r for r in T.build_rows(ds)}
    servers = rows["servers X G1"]  # vendor and chip of the tiny server type "gpu"
    assert servers.new == ds["servers_new"].sum(("accelerator", "cooling")).values.tolist()
    assert servers.stock == ds["servers"].sum(("accelerator", "cooling")).values.tolist()
    assert "PV" in rows and rows["PV"].stock[0] == pytest.approx(float(ds["pv_mw"][0]))


def test_npv_breakdown_adds_up_to_the_npv() -> None:
    ds = plan("two_day")
    fig = F.npv_figure(ds)
    bar = fig.data[0]
    scale, _ = money_scale([float(ds["npv_cny"])])
    assert sum(bar.x[:-1]) == pytest.approx(bar.x[-1], rel=1e-6)
    assert bar.x[-1] * scale == pytest.approx(float(ds["npv_cny"]), rel=1e-6)


def test_shortfall_figure_only_when_demand_is_unmet() -> None:
    ds = plan("two_day")
    assert not has_shortfall(ds)
    short = ds.copy(deep=True)
    short["inference_unserved"] = short["inference_unserved"] + 0.1 * short["inference_demand_tokens_per_s"]
    assert has_shortfall(short)
    assert "shortfall" in report_charts(short)
    assert any(k.label == "Unmet demand" for k in T.headline(short))


def test_headline_cards() -> None:
    cards = {k.label: k for k in T.headline(plan("two_day"))}
    assert {
        "NPV of all costs",
        "Installed compute 2027",
        "PUE 2027",
        "Green power 2027",
        "Domestic compute 2027",
    } <= set(cards)
    assert cards["Solver"].value == "optimal"
    assert cards["PUE 2027"].status == "ok"


def test_compare_kpis_are_b_minus_a() -> None:
    a, b = plan("two_day"), plan("hostile")
    rows = {r.label: r for r in C.compare_kpis(a, b)}
    npv = rows["NPV of all costs"]
    assert npv.a == pytest.approx(float(a["npv_cny"])) and npv.b == pytest.approx(float(b["npv_cny"]))
    assert npv.delta == pytest.approx(float(b["npv_cny"] - a["npv_cny"]))
    builds = C.compare_build_rows(a, b)
    assert all(r.delta == [y - x for x, y in zip(r.a, r.b, strict=True)] for r in builds)


# =========================================================================== the page


def test_report_embeds_plotly_once_and_every_chart() -> None:
    ds = plan("two_day")
    html = report_html("two_day")
    assert html.count("* plotly.js v") == 1
    scripts = parse(html).scripts
    figures = [(attrs, text) for attrs, text in scripts if "plotly-figure" in (attrs.get("class") or "")]
    assert len(figures) == len(report_charts(ds))
    for attrs, text in figures:
        spec = json.loads(text)
        assert "layout" in spec
        assert spec["data"] or spec["layout"].get("annotations")  # a figure, or a line saying why there is none
        assert f'id="{attrs["data-target"]}"' in html


def test_report_needs_no_network() -> None:
    for html in (
        report_html("two_day"),
        compare_html("two_day", "hostile"),
    ):
        page = parse(html)
        assert not any(attrs.get("src") for attrs, _ in page.scripts), "no external scripts"
        # anchors, and the CSV download links (the data itself, embedded)
        assert not [u for u in page.urls if not u.startswith(("#", "data:text/csv;"))], page.urls
        assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=[\"']?https?://", html)


def _assert_scripts_are_ours(html: str) -> None:
    """Every <script> is plotly.js, the loader, or JSON without a raw ``<`` (so it cannot close the element)."""
    code = [text for attrs, text in parse(html).scripts if attrs.get("type") != "application/json"]
    assert len(code) == 2 and code[0] == get_plotlyjs(), "plotly.js and the loader, nothing else"
    assert "alert" not in code[1]
    for attrs, text in parse(html).scripts:
        if attrs.get("type") == "application/json":
            json.loads(text)
            assert "<" not in text and ">" not in text


def test_user_text_is_escaped_everywhere() -> None:
    html = report_html("hostile")
    assert HOSTILE_NAME not in html and "<img" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x" in html
    _assert_scripts_are_ours(html)
    compare = compare_html("two_day", "hostile")
    assert HOSTILE_NAME not in compare and "<img" not in compare
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in compare
    _assert_scripts_are_ours(compare)
    # in plotly labels the name is HTML-escaped too (plotly renders a little HTML in labels)
    fig = C.compare_npv_figure(plan("hostile"), plan("two_day"), (HOSTILE_NAME, "B"))
    assert "&lt;script&gt;" in fig.layout.title.text and "<script>" not in fig.to_json()


def test_report_sections_and_inputs() -> None:
    html = report_html("two_day")
    for anchor in (
        "kpis",
        "policy",
        "build",
        "cost",
        "operation",
        "emissions",
        "utilisation",
        "prices",
        "solver",
        "inputs",
    ):
        assert f'id="{anchor}"' in html
    assert "<details>" in html and "representative_days" in html
    assert "time_reduction" in html  # stage timings
    assert "@media print" in html


def test_compare_report_contains_deltas() -> None:
    a, b = plan("two_day"), plan("hostile")
    html = compare_html("two_day", "hostile")
    assert html.count("* plotly.js v") == 1
    delta = float(b["npv_cny"] - a["npv_cny"])
    assert "Δ" in html and fmt_money(abs(delta)) in html
    figures = [s for s in parse(html).scripts if "plotly-figure" in (s[0].get("class") or "")]
    assert len(figures) == len(compare_charts(a, b, ("a", "b")))


def test_writing_is_atomic_and_creates_folders(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "er" / "r.html"
    write_html("first", out)
    write_html(report_html("two_day"), out)  # overwrite
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in out.parent.iterdir()] == ["r.html"]


# =========================================================================== CLI


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_plan_report_writes_the_default_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("report", str(results_file("tiny")))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "reports" / "tiny.html").is_file()
    assert "report written to" in result.output
    result = run("report", str(results_file("tiny")), "-o", "elsewhere/x.html")
    assert result.exit_code == 0 and (tmp_path / "elsewhere" / "x.html").is_file()


def test_plan_compare_writes_a_comparison_to_the_file_given(tmp_path: Path) -> None:
    out = tmp_path / "elsewhere" / "c.html"
    result = run("compare", str(results_file("two_day")), str(results_file("hostile")), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "Δ" in out.read_text(encoding="utf-8") and [p.name for p in out.parent.iterdir()] == ["c.html"]


def test_bad_results_files_exit_2(tmp_path: Path) -> None:
    text = tmp_path / "notes.nc"
    text.write_text("not netCDF", encoding="utf-8")
    other = tmp_path / "other.nc"
    xr.Dataset({"x": ("t", [1.0, 2.0])}).to_netcdf(other, engine="h5netcdf")
    swept = tmp_path / "sweep.nc"
    write_dataset(plan("tiny").expand_dims(pue_max_x=[1.2, 1.3]), swept)
    good = str(results_file("tiny"))
    cases = [
        (["report", str(tmp_path / "missing.nc")], "no such file"),
        (["report", str(text)], "not a results file"),
        (["report", str(other)], "not a planner results file"),
        (["report", str(tmp_path)], "folder"),
        (["report", str(swept)], "more than one plan"),
        (["compare", good, str(tmp_path / "missing.nc")], "no such file"),
        (["compare", str(other), good], "not a planner results file"),
    ]
    for args, message in cases:
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.output + result.stderr
    assert not list(tmp_path.glob("reports/*")) and not (Path("reports") / "missing.html").exists()
    with pytest.raises(Exception, match="no such file"):
        load_results(tmp_path / "missing.nc")


def test_plan_solve_writes_a_report_unless_told_not_to(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    scenario = tmp_path / "t.yaml"
    scenario.write_text(yaml.safe_dump(tiny_data(write_profile(tmp_path / "p.csv"))), encoding="utf-8")
    result = run("solve", str(scenario), "-o", "out/plan.nc")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "reports" / "plan.html").is_file() and "report written to" in result.output
    result = run("solve", str(scenario), "-o", "out/plan2.nc", "--no-report")
    assert result.exit_code == 0 and not (tmp_path / "reports" / "plan2.html").exists()
    result = run("solve", str(scenario), "-o", "out/plan3.nc", "-r", "mine/r.html")
    assert result.exit_code == 0 and (tmp_path / "mine" / "r.html").is_file()
