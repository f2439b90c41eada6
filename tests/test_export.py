"""``plan export``: the plan's tables as an xlsx workbook or a CSV folder, and the report's CSV download links.

The plan is the two-year, two-day plan of ``tests/test_report.py`` (solved once per session),
with PV, a battery and two policy limits, so that every sheet has something in it.
"""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner, Result
from test_report import plan, report_html, results_file

from planner.cli import cli
from planner.report import export as E
from planner.report.tables import compliance_rows
from planner.results.io import write_dataset

HEADER_WITH_UNITS = re.compile(r"^.+ \[[^\]]+\]$")


@pytest.fixture(autouse=True)
def _work_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def ds() -> xr.Dataset:
    return plan("two_day")


def export(*args: str) -> Result:
    return CliRunner().invoke(cli, ["export", *args], catch_exceptions=False)


def sheet_rows(path: Path, name: str) -> tuple[list[str], list[list[object]]]:
    """A sheet's header and its rows, read back with openpyxl."""
    book = openpyxl.load_workbook(path, read_only=True)
    rows = [list(r) for r in book[name].iter_rows(values_only=True)]
    book.close()
    return [str(h) for h in rows[0]], rows[1:]


def column(header: list[str], rows: list[list[object]], name: str) -> np.ndarray:
    return np.array([r[header.index(name)] for r in rows], dtype=float)


def hidden(folder: Path) -> list[str]:
    """Temp files and folders (``.<name>.<pid>...tmp``) left anywhere below ``folder``."""
    return [p.name for p in folder.rglob(".*")]


def as_number(value: object) -> object:
    """A cell as a float where it reads as one (CSV gives text), else as it is."""
    try:
        return float(str(value))
    except ValueError:
        return value


def expected_sheets(ds: xr.Dataset) -> list[str]:
    has_cash = "capital_spent_cny" in ds or "cash_flow_cny" in ds
    return [s for s in E.SHEETS if s != "cash" or has_cash]


# =========================================================================== xlsx


def test_xlsx_has_every_sheet_with_units_in_the_headers(ds: xr.Dataset, tmp_path: Path) -> None:
    result = export(str(results_file("two_day")), "-o", "out/plan.xlsx")
    assert result.exit_code == 0, result.output
    assert "xlsx export written to out/plan.xlsx" in result.output
    path = tmp_path / "out" / "plan.xlsx"
    assert openpyxl.load_workbook(path, read_only=True).sheetnames == expected_sheets(ds)
    assert expected_sheets(ds)[0] == "about"
    for name, ids in (("builds", {"year"}), ("kpis", {"year"}), ("costs", {"component"})):
        header, _ = sheet_rows(path, name)
        assert all(HEADER_WITH_UNITS.match(h) for h in header if h not in ids), (name, header)
    header, _ = sheet_rows(path, "dispatch")
    for h in ("grid_import [MW]", "pv_used [MW]", "battery_charge [MW]", "battery_discharge [MW]"):
        assert h in header
    assert {"it_power [MW]", "cooling_power [MW]", "facility_power [MW]", "day_weight [days]", "tou_period"} <= set(
        header
    )
    assert header[:4] == ["year", "day", "day_weight [days]", "hour"]
    header, _ = sheet_rows(path, "kpis")
    assert {"pue [1]", "installed_pflops [PFLOPS]", "emissions_location [t]", "emissions_market [t]"} <= set(header)
    assert {"cost_per_million_tokens [CNY/Mtoken]", "inference_served_share [1]"} <= set(header)
    assert hidden(tmp_path / "out") == []


def test_xlsx_totals_equal_the_dataset(ds: xr.Dataset, tmp_path: Path) -> None:
    assert export(str(results_file("two_day")), "-o", "plan.xlsx").exit_code == 0
    path = tmp_path / "plan.xlsx"
    years = [int(y) for y in ds["year"].values]

    header, rows = sheet_rows(path, "costs")
    components = [r for r in rows if r[0] != "total"]
    total = next(r for r in rows if r[0] == "total")
    assert [r[0] for r in components] == [str(c) for c in ds["component"].values]
    year_columns = [header.index(f"{y} [CNY/year]") for y in years]
    by_year = np.array([[r[i] for i in year_columns] for r in components], dtype=float)
    assert by_year.sum() == pytest.approx(float(ds["cost"].sum()), rel=1e-12)
    assert by_year.sum(axis=0) == pytest.approx(ds["cost"].sum("component").values, rel=1e-12)
    assert total[header.index("discounted [CNY]")] == pytest.approx(float(ds["npv_cny"]), rel=1e-12)

    header, rows = sheet_rows(path, "builds")
    assert column(header, rows, "year").tolist() == years
    new = sum(column(header, rows, h) for h in header if h.startswith("servers_new "))
    assert new.sum() == float(ds["servers_new"].sum()) > 0
    assert column(header, rows, "pv [MW]") == pytest.approx(ds["pv_mw"].values)
    assert column(header, rows, "halls_new [halls]").sum() == float(ds["halls_new"].sum())

    header, rows = sheet_rows(path, "dispatch")
    assert len(rows) == ds.sizes["year"] * ds.sizes["day"] * 24
    weighted = column(header, rows, "grid_import [MW]") * column(header, rows, "day_weight [days]")
    assert weighted.sum() == pytest.approx(float((ds["grid_import_mw"] * ds["day_weight"]).sum()), rel=1e-12)
    facility = column(header, rows, "facility_power [MW]")
    assert facility.sum() == pytest.approx(float(ds["facility_power_mw"].sum()), rel=1e-12)

    header, rows = sheet_rows(path, "kpis")
    assert column(header, rows, "pue [1]") == pytest.approx(ds["pue"].values)


def test_policy_sheet_is_the_reports_compliance_rows(ds: xr.Dataset, tmp_path: Path) -> None:
    assert export(str(results_file("two_day")), "-o", "plan.xlsx").exit_code == 0
    header, rows = sheet_rows(tmp_path / "plan.xlsx", "policy")
    expected = compliance_rows(ds)
    assert len(rows) == len(expected) > 0
    assert "shadow_price [CNY]" in header and "shadow_price_step" in header
    for row, r in zip(rows, expected, strict=True):
        got = dict(zip(header, row, strict=True))
        assert (got["limit"], got["year"]) == (r.key, r.year)
        assert got["achieved"] == pytest.approx(r.achieved)
        assert got["holds"] == r.ok
        assert got["binding"] == r.binding
        if np.isfinite(r.limit):
            assert got["limit_value"] == pytest.approx(r.limit)
        else:
            assert got["limit_value"] is None
    pue = [dict(zip(header, row, strict=True)) for row in rows if row[0] == "pue_max"]
    assert pue and all(p["limit_value"] == 1.3 and p["sense"] == "<=" and p["unit"] == "1" for p in pue)
    assert all(p["shadow_price_step"] == "per 0.01 lower PUE cap" for p in pue)


def test_about_sheet_says_where_the_plan_comes_from(ds: xr.Dataset, tmp_path: Path) -> None:
    source = tmp_path / "with-overrides.nc"
    write_dataset(ds.assign_attrs(scenario_overrides='["policy.pue_max=1.3"]'), source)
    assert export(str(source), "-o", "plan.xlsx").exit_code == 0
    _, rows = sheet_rows(tmp_path / "plan.xlsx", "about")
    about = {str(k): v for k, v in rows}
    assert about["scenario"] == "two-day"
    assert about["results file"] == str(source)
    assert about["solver status"] == "optimal"
    assert about["NPV [CNY]"] == pytest.approx(float(ds["npv_cny"]))
    assert about["overrides"] == "--set policy.pue_max=1.3"
    assert about["planner version (solve)"] == ds.attrs["planner_version"]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", str(about["created"]))


# =========================================================================== csv


def test_csv_folder_has_the_same_numbers(ds: xr.Dataset, tmp_path: Path) -> None:
    results = str(results_file("two_day"))
    assert export(results, "-o", "plan.xlsx").exit_code == 0
    result = export(results, "--format", "csv")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "reports" / "two_day-export"
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{s}.csv" for s in expected_sheets(ds))
    for name in expected_sheets(ds):
        from_csv = pd.read_csv(folder / f"{name}.csv")
        from_xlsx = pd.read_excel(tmp_path / "plan.xlsx", sheet_name=name, engine="openpyxl")
        assert list(from_csv.columns) == list(from_xlsx.columns), name
        if name == "about":  # text and numbers in one column; the time of each export differs
            from_csv, from_xlsx = (t[t["field"] != "created"].map(as_number) for t in (from_csv, from_xlsx))
        pd.testing.assert_frame_equal(from_csv, from_xlsx, check_dtype=False, obj=name)
    dispatch = pd.read_csv(folder / "dispatch.csv")
    weighted = (dispatch["grid_import [MW]"] * dispatch["day_weight [days]"]).sum()
    assert weighted == pytest.approx(float((ds["grid_import_mw"] * ds["day_weight"]).sum()), rel=1e-12)
    assert hidden(tmp_path / "reports") == []


def test_default_outputs_and_a_second_export_replaces_the_first(tmp_path: Path) -> None:
    results = str(results_file("two_day"))
    assert export(results).exit_code == 0
    assert (tmp_path / "reports" / "two_day.xlsx").is_file()
    folder = tmp_path / "reports" / "two_day-export"
    assert export(results, "--format", "csv").exit_code == 0
    (folder / "kpis.csv").write_text("stale", encoding="utf-8")
    assert export(results, "--format", "csv").exit_code == 0
    assert (folder / "kpis.csv").read_text(encoding="utf-8").startswith("year,pue [1],")
    assert hidden(tmp_path / "reports") == []


def test_a_failed_csv_export_leaves_the_old_folder_and_no_temp_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = str(results_file("two_day"))
    assert export(results, "--format", "csv", "-o", "out").exit_code == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    calls = {"n": 0}
    real = E.csv_text

    def fail_on_the_third(table: pd.DataFrame) -> str:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        return real(table)

    monkeypatch.setattr(E, "csv_text", fail_on_the_third)
    result = export(results, "--format", "csv", "-o", "out")
    assert result.exit_code == 2 and "No space left on device" in result.output
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == before
    assert hidden(tmp_path) == []


def test_a_failed_xlsx_export_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(E.Workbook, "save", fail)
    result = export(str(results_file("two_day")), "-o", "out/plan.xlsx")
    assert result.exit_code == 2
    assert list((tmp_path / "out").iterdir()) == []


# =========================================================================== bad input


def assert_bad_input(result: Result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for w in words:
        assert w in result.output, result.output


def test_bad_input_exits_2_naming_the_file(ds: xr.Dataset, tmp_path: Path) -> None:
    assert_bad_input(export("missing.nc"), "missing.nc", "no such file")
    (tmp_path / "notes.nc").write_text("not netCDF", encoding="utf-8")
    assert_bad_input(export("notes.nc"), "notes.nc", "not a results file")
    sweep = ds.assign_attrs(sweep_grid_dims="[]").assign(case_id=xr.DataArray(["a"], dims=("case",)))
    write_dataset(sweep, tmp_path / "sweep.nc")
    assert_bad_input(export("sweep.nc"), "sweep.nc", "sweeps are not exported yet")
    write_dataset(ds.drop_vars(["grid_import_mw"]), tmp_path / "old.nc")
    assert_bad_input(export("old.nc"), "old.nc", "missing grid_import_mw")
    assert not (tmp_path / "reports").exists()


def test_csv_export_does_not_replace_a_folder_of_other_files(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.docx").write_text("precious", encoding="utf-8")
    result = export(str(results_file("two_day")), "--format", "csv", "-o", "mine")
    assert_bad_input(result, "mine", "thesis.docx")
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["thesis.docx"]
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    assert_bad_input(export(str(results_file("two_day")), "--format", "csv", "-o", "a-file"), "a-file")


# =========================================================================== the report's download links


def links(html: str) -> dict[str, str]:
    found = re.findall(r'<a download="([^"]+)" href="data:text/csv;charset=utf-8;base64,([A-Za-z0-9+/=]+)"', html)
    return {name: base64.b64decode(data).decode("utf-8") for name, data in found}


def test_report_links_decode_to_the_build_and_policy_sheets(ds: xr.Dataset, tmp_path: Path) -> None:
    html = report_html("two_day")
    csv = links(html)
    assert set(csv) == {"builds.csv", "policy.csv"}
    assert "plan export two_day.nc" in html
    assert export(str(results_file("two_day")), "-o", "plan.xlsx").exit_code == 0
    header, rows = sheet_rows(tmp_path / "plan.xlsx", "builds")
    builds = pd.read_csv(io.StringIO(csv["builds.csv"]))
    assert list(builds.columns) == header
    assert np.array(builds.values, dtype=float) == pytest.approx(np.array(rows, dtype=float), rel=1e-9)
    new = builds[[c for c in builds.columns if c.startswith("servers_new ")]].to_numpy().sum()
    assert new == float(ds["servers_new"].sum())
    policy = pd.read_csv(io.StringIO(csv["policy.csv"]))
    assert len(policy) == len(compliance_rows(ds))
    assert policy["limit"].tolist() == [r.key for r in compliance_rows(ds)]
    _, sheet = sheet_rows(tmp_path / "plan.xlsx", "policy")
    assert list(policy.columns) == [h for h in sheet_rows(tmp_path / "plan.xlsx", "policy")[0] if h != "pricing_method"]
    assert policy["achieved"].to_numpy() == pytest.approx([r.achieved for r in compliance_rows(ds)], rel=1e-9)
    assert len(sheet) == len(policy)
    # a few kB on a page of megabytes (plotly.js)
    assert sum(len(t) for t in csv.values()) < 8_000
