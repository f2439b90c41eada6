"""Assemble the self-contained HTML report of a sweep, and the per-case reports it links to.

    ds = run_sweep("inputs/sweeps/pue_x_price.yaml")
    write_sweep_report(ds, "reports/sweeps/pue_x_price.html", parts="results/sweeps/pue_x_price")

writes ``reports/sweeps/pue_x_price.html`` and, next to it, ``reports/sweeps/pue_x_price/<id>.html``:
the single-plan report (:func:`planner.report.html.write_report`) of every case that has a plan,
drawn from the case's own part file ``<parts>/<id>.nc`` (with its scenario, timings and solver
details) or, when that is missing, from the case's slice of the combined Dataset. All these pages
load one ``reports/sweeps/pue_x_price/plotly.min.js`` (relative ``<script src>``: 4.6 MB once,
not in every page); without case reports the sweep page embeds plotly.js and stands alone.

The page follows the single-plan report (:mod:`planner.report.html`): a Jinja2 template with
autoescaping (``templates/sweep.html.j2``, on ``base.html.j2``), plotly.js loaded once, every
figure a JSON document whose ``<``, ``>`` and ``&`` are JSON escapes, atomic writes, no network.
Cases and tables come from :mod:`planner.report.sweep_tables`, figures from
:mod:`planner.report.figures.sweep_grid` and :mod:`planner.report.figures.sweep_oat`. The case
table sorts on a click on its header by a few lines of plain JavaScript in the page.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import plotly.graph_objects as go
import xarray as xr

from planner.report.figures.sweep_grid import chip_mix_figure, heatmap_figure, marginal_figure
from planner.report.figures.sweep_oat import tornado_figure
from planner.report.format import (
    coord_text,
    fmt_compute,
    fmt_fixed,
    fmt_money,
    fmt_share,
    fmt_signed_money,
    value_label,
)
from planner.report.html import ReportInputError, load_results, write_report
from planner.report.labels import accelerator_label, parameter_label
from planner.report.page import PLOTLY_JS_NAME, charts, render, write_html, write_plotly_js
from planner.report.sweep_tables import (
    SweepCase,
    case_view,
    final_year,
    grid_dims,
    has_grid,
    has_oat,
    is_sweep,
    marginal_tables,
    oat_parameters,
    status_counts,
    sweep_cases,
    tornado_rows,
    unique_cases,
)
from planner.results.io import read_dataset
from planner.results.sites import cluster_view
from planner.scenario.sweep import DEFAULT_RESULTS_DIR

__all__ = [
    "case_plan",
    "default_parts_dir",
    "load_report_input",
    "render_sweep_report",
    "sweep_charts",
    "write_case_reports",
    "write_sweep_report",
]

#: Variables a combined sweep file must hold for a report (besides the grid or one-at-a-time info).
SWEEP_REQUIRED = ("servers_new", "pue", "green_share", "domestic_share", "installed_pflops")


# ====================================================================== input


def load_report_input(path: Path | str) -> tuple[xr.Dataset, bool]:
    """Read a results file for ``plan report``: ``(ds, True)`` for a combined sweep, ``(ds, False)`` for a plan.

    A file of one plan goes through :func:`planner.report.html.load_results` (same checks and
    messages); a sweep file needs its sweep attributes and per-case variables.

    Raises
    ------
    ReportInputError
        The file is missing, unreadable, or neither a plan nor a sweep.
    """
    path = Path(path)
    if path.is_file():
        try:
            ds = read_dataset(path)
        except Exception:  # noqa: BLE001 - let load_results word the error
            ds = None
        if ds is not None and is_sweep(ds):
            missing = [name for name in SWEEP_REQUIRED if name not in ds and f"oat_{name}" not in ds]
            if missing:
                raise ReportInputError(f"{path}: a sweep file without {', '.join(missing)}: not a planner sweep")
            return ds, True
    return load_results(path), False


def default_parts_dir(ds: xr.Dataset, source: Path | str | None = None) -> Path | None:
    """Where the sweep's part files are: ``<folder of source>/<name>/``, else ``results/sweeps/<name>/``."""
    name = str(ds.attrs.get("sweep_name", ""))
    if not name:
        return None
    candidates = [Path(source).parent / name] if source else []
    candidates.append(DEFAULT_RESULTS_DIR / name)
    return next((c for c in candidates if c.is_dir()), None)


# ====================================================================== charts and page data


def sweep_charts(ds: xr.Dataset) -> dict[str, go.Figure]:
    """Every figure of a sweep report, by key, in page order (grid figures only with a grid, tornado only with one)."""
    figures: dict[str, go.Figure] = {}
    if has_grid(ds):
        figures["heatmap"] = heatmap_figure(ds)
        figures["marginal"] = marginal_figure(ds)
        figures["chip_mix"] = chip_mix_figure(ds)
    if has_oat(ds):
        figures["tornado"] = tornado_figure(ds)
    return figures


def _mix_text(ds: xr.Dataset, mix: Mapping[str, float]) -> str:
    """New servers by type (``Huawei Ascend 950 120 · NVIDIA H20 40``), "none", or "–" without a plan."""
    parts = [f"{accelerator_label(ds, name)} {count:,.0f}" for name, count in mix.items() if count > 0.5]
    return " · ".join(parts) if parts else ("none" if mix else "–")


def _case_rows(
    ds: xr.Dataset, cases: list[SweepCase], links: Mapping[str, str], dims: list[str]
) -> list[dict[str, Any]]:
    rows = []
    for c in cases:
        coords = [c.coords.get(d, "") for d in dims]
        if c.kind == "oat":
            what = "base" if c.side == "base" else f"{parameter_label(c.parameter)} = {value_label(c.value)} ({c.side})"
        else:
            what = ""
        rows.append(
            {
                "id": c.id,
                "href": links.get(c.id, ""),
                "kind": "grid" if c.kind == "grid" else "one at a time",
                "coords": coords,
                "coord_sort": [_coord_sort(v) for v in coords],
                "oat": what,
                "status": c.status,
                "npv": c.npv,
                "npv_text": fmt_money(c.npv),
                "gap": c.gap,
                "gap_text": fmt_fixed(c.gap, ".2%"),
                "pue": c.pue,
                "pue_text": fmt_fixed(c.pue, ".3f"),
                "green": c.green,
                "green_text": fmt_share(c.green),
                "domestic": c.domestic,
                "domestic_text": fmt_share(c.domestic),
                "eflops": c.eflops,
                "eflops_text": fmt_compute(c.eflops * 1000),
                "mix": _mix_text(ds, c.new_servers),
                "mix_sort": sum(c.new_servers.values()) if c.new_servers else math.nan,
                "wall": c.wall_time_s,
                "wall_text": fmt_fixed(c.wall_time_s, ".2f"),
            }
        )
    return rows


def _coord_sort(text: str) -> str:
    try:
        return f"{float(text):.10g}"
    except ValueError:
        return text


@dataclass(frozen=True)
class _Failed:
    """Cases without a plan that share a status and a message."""

    status: str
    head: str  #: the first lines of the message
    rest: str  #: the others (long messages: tracebacks)
    cases: list[tuple[str, str]]  #: (id, label)


def _failed(cases: list[SweepCase], lines: int = 12) -> list[_Failed]:
    groups: dict[tuple[str, str], list[SweepCase]] = {}
    for c in unique_cases(cases):
        if not (c.has_plan and c.status in ("optimal", "time_limit")):
            groups.setdefault((c.status, c.message.strip()), []).append(c)
    out = []
    for (status, message), members in groups.items():
        text = message.splitlines() or ["(no message)"]
        out.append(
            _Failed(status, "\n".join(text[:lines]), "\n".join(text[lines:]), [(c.id, c.label) for c in members])
        )
    return out


def _tornado_table(ds: xr.Dataset) -> dict[str, Any]:
    base_npv, base_status, rows = tornado_rows(ds)
    return {
        "base_npv": base_npv,
        "base_status": base_status,
        "rows": [
            {
                "parameter": parameter_label(r.parameter),
                "path": r.parameter,
                "low_value": value_label(r.low_value),
                "high_value": value_label(r.high_value),
                "low_npv": fmt_money(r.low_npv) if math.isfinite(r.low_npv) else r.low_status,
                "high_npv": fmt_money(r.high_npv) if math.isfinite(r.high_npv) else r.high_status,
                "low_delta": _signed(r.low_delta),
                "high_delta": _signed(r.high_delta),
                "swing": fmt_money(r.swing),
            }
            for r in rows
        ],
    }


def _signed(value: float) -> dict[str, str]:
    """Text and class of a cost difference: red when it costs more, green when less."""
    if not math.isfinite(value):
        return {"text": "no plan", "cls": "muted"}
    return {"text": fmt_signed_money(value), "cls": "" if abs(value) < 0.5 else ("pos" if value > 0 else "neg")}


def _marginal(ds: xr.Dataset) -> list[dict[str, Any]]:
    out = []
    for t in marginal_tables(ds):
        out.append(
            {
                "dim": t.dim,
                "label": parameter_label(t.dim),
                "steps": [
                    f"{s} ({size})" if size and not t.uniform_step else s
                    for s, size in zip(t.steps, t.step_sizes, strict=True)
                ],
                "uniform": t.uniform_step,
                "rows": [(label, [_signed(v) for v in deltas]) for label, deltas in t.rows],
                "mean": [_signed(v) for v in t.mean],
                "n_rows": len(t.rows),
                "omitted": t.omitted,
                "summary": t.summary,
                "has_any": math.isfinite(t.overall),
            }
        )
    return out


def _swept(ds: xr.Dataset) -> list[dict[str, Any]]:
    return [
        {"dim": d, "label": parameter_label(d), "labels": [coord_text(v) for v in ds[d].values], "n": ds.sizes[d]}
        for d in grid_dims(ds)
    ]


def render_sweep_report(
    ds: xr.Dataset,
    source: str | None = None,
    links: Mapping[str, str] | None = None,
    plotly_src: str | None = None,
) -> str:
    """The HTML report of a combined sweep Dataset, as text.

    Parameters
    ----------
    ds : xarray.Dataset
        The combined results of :func:`planner.studies.sweep.run_sweep`.
    source : str, optional
        The results file, named in the header.
    links : mapping, optional
        Case id -> href (relative to the page) of the case's own report; cases without one are not linked.
    plotly_src : str, optional
        Load plotly.js from this URL (relative to the page) instead of embedding it.
    """
    ds = cluster_view(ds)
    links = dict(links or {})
    figures = sweep_charts(ds)
    cases = sweep_cases(ds)
    dims = grid_dims(ds)
    counts = status_counts(ds)
    unique = unique_cases(cases)
    wall = sum(c.wall_time_s for c in unique if math.isfinite(c.wall_time_s))
    planned = [c for c in unique if c.has_plan]
    cheapest = min(planned, key=lambda c: c.npv) if planned else None
    dearest = max(planned, key=lambda c: c.npv) if planned else None
    year = final_year(ds)
    failed = _failed(cases)
    return render(
        "sweep.html.j2",
        plotly_src,
        name=str(ds.attrs.get("sweep_name", "sweep")),
        description=str(ds.attrs.get("sweep_description", "")),
        base=str(ds.attrs.get("sweep_base", "")),
        sweep_yaml=str(ds.attrs.get("sweep_yaml", "")),
        version=str(ds.attrs.get("planner_version", "")),
        source=source or "",
        counts=counts,
        wall=wall,
        cheapest=cheapest,
        dearest=dearest,
        year=year,
        ysuf=f" {year}" if year is not None else "",
        dims=dims,
        dim_labels=[parameter_label(d) for d in dims],
        swept=_swept(ds),
        oat=oat_parameters(ds),
        charts=charts(figures),
        marginal=_marginal(ds),
        tornado=_tornado_table(ds),
        rows=_case_rows(ds, cases, links, dims),
        failed=failed,
        n_failed=sum(len(f.cases) for f in failed),
        n_links=len(links),
        n_planned=len(planned),
        has_grid=has_grid(ds),
        has_oat=has_oat(ds),
    )


# ====================================================================== per-case reports


def _read_part(path: Path) -> xr.Dataset:
    """A part file, fully loaded.

    Through netCDF4 where it is installed (several times faster than h5netcdf to open a file of many
    small variables; the same Dataset), else :func:`planner.results.io.read_dataset`.
    """
    try:
        # deferred: netCDF4 is optional (only a faster reader), and probing it costs a heavy import
        import netCDF4  # noqa: F401
    except ImportError:
        return read_dataset(path)
    with xr.open_dataset(path, engine="netcdf4") as ds:
        return ds.load()


def case_plan(ds: xr.Dataset, case: SweepCase, parts: Path | None = None) -> tuple[xr.Dataset, str]:
    """The plan of one case, for its own report, and where it came from.

    Its part file ``<parts>/<id>.nc`` when there is one (the plan as it was solved, with its
    scenario and solver details), else the case's slice of the combined Dataset (plan variables
    only; the report says less about inputs and timings).
    """
    if parts is not None:
        path = Path(parts) / f"{case.id}.nc"
        if path.is_file():
            try:
                return _read_part(path), str(path)
            except Exception:  # noqa: BLE001, S110 - an unreadable part: fall back to the slice
                pass
    if case.kind == "grid":
        dims = grid_dims(ds)
        plan = case_view(ds, "grid").isel(dict(zip(dims, case.index, strict=True)), drop=True)
    else:
        plan = case_view(ds, "oat").isel(case=case.index[0], drop=True)
        plan = plan.drop_vars([c for c in ("case_parameter", "case_side", "case_value") if c in plan.coords])
    plan = plan.copy()
    plan.attrs = {
        "solver_status": case.status,
        "objective_cny": case.npv,
        "mip_gap": case.gap,
        "planner_version": ds.attrs.get("planner_version", ""),
        "display_names": ds.attrs.get("display_names", ""),
    }
    return plan, f"{ds.attrs.get('sweep_name', 'sweep')}.nc, case {case.id}"


def write_case_reports(
    ds: xr.Dataset,
    folder: Path | str,
    parts: Path | str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Path]:
    """Write the single-plan report of every case with a plan to ``<folder>/<id>.html``.

    The reports load plotly.js from ``<folder>/plotly.min.js``, written here once
    (:func:`planner.report.page.write_plotly_js`).

    Returns
    -------
    dict
        Case id -> the report written.
    """
    folder = Path(folder)
    parts_path = Path(parts) if parts is not None else None
    todo = [c for c in unique_cases(sweep_cases(ds)) if c.has_plan]
    name = str(ds.attrs.get("sweep_name", "sweep"))
    written: dict[str, Path] = {}
    if todo:
        write_plotly_js(folder)
    for i, case in enumerate(todo):
        plan, source = case_plan(ds, case, parts_path)
        plan.attrs = dict(plan.attrs)
        scenario = str(plan.attrs.get("scenario_name") or "")
        plan.attrs["scenario_name"] = f"{name} · {case.label}" + (f" ({scenario})" if scenario else "")
        written[case.id] = write_report(plan, folder / f"{case.id}.html", source=source, plotly_src=PLOTLY_JS_NAME)
        if progress is not None:
            progress(i + 1, len(todo))
    return written


def write_sweep_report(
    ds: xr.Dataset,
    path: Path | str,
    parts: Path | str | None = None,
    case_reports: bool = True,
    source: str | None = None,
) -> tuple[Path, dict[str, Path]]:
    """Write the sweep report to ``path`` and, with ``case_reports``, each case's report to ``<path stem>/<id>.html``.

    With case reports, every page loads the one ``<path stem>/plotly.min.js``; without, the sweep
    page embeds plotly.js.

    Parameters
    ----------
    ds : xarray.Dataset
        The combined sweep results.
    path : path
        The sweep report (folders created; written atomically).
    parts : path, optional
        The sweep's part files (``results/sweeps/<name>/``), read for the per-case reports.
    case_reports : bool
        Also write the per-case reports (linked from the case table).
    source : str, optional
        The results file, named in the header.

    Returns
    -------
    (Path, dict)
        The sweep report, and case id -> the per-case report written.
    """
    path = Path(path)
    written: dict[str, Path] = {}
    if case_reports:
        written = write_case_reports(ds, path.parent / path.stem, parts)
    links = {cid: f"{quote(path.stem)}/{quote(p.name)}" for cid, p in written.items()}
    shared = f"{quote(path.stem)}/{PLOTLY_JS_NAME}" if written else None  # written with the case reports
    return write_html(render_sweep_report(ds, source, links, shared), path), written
