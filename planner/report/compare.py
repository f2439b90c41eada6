"""Two plans side by side: the KPI and build differences (B − A), the comparison figures, and the comparison page.

The figures are pure functions of two results Datasets (the energy by source in
:mod:`planner.report.compare_energy`, the hourly dispatch in
:mod:`planner.report.figures.compare_dispatch`); :func:`render_compare` assembles the page
(``templates/compare.html.j2``) like :func:`planner.report.html.render_report` does for one plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import xarray as xr

from planner.report.compare_bridge import bridge_range, bridge_steps
from planner.report.compare_energy import compare_energy_figure, compare_energy_rows, energy_digits
from planner.report.compare_years import common_years, policy_year_rows, years_note
from planner.report.data import coord_names, emissions, plan_years
from planner.report.figures.compare_dispatch import compare_dispatch_figure, days_note
from planner.report.figures.cost import grouped_cost
from planner.report.figures.energy import dispatch_figure
from planner.report.format import as_float, finite, fmt_money, money_scale, numbers, plain
from planner.report.inputs import input_differences, variant_tag
from planner.report.labels import accelerator_label
from planner.report.page import charts, render
from planner.report.style import (
    BAD_COLOUR,
    COST_GROUPS,
    OK_COLOUR,
    OTHER_GROUP,
    accelerator_colours,
    figure,
    layout,
    subplots,
    year_axis,
)
from planner.report.tables import LIMITS, BuildRow, achieved, build_rows, limit_values, plan_header
from planner.results.sites import cluster_view

__all__ = [
    "CompareBuildRow",
    "DeltaRow",
    "compare_build_rows",
    "compare_builds_figure",
    "compare_charts",
    "compare_cost_figure",
    "compare_dispatch_figure",
    "compare_energy_figure",
    "compare_facility_figure",
    "compare_kpis",
    "compare_labels",
    "compare_npv_figure",
    "compare_policy_figure",
    "render_compare",
]


# ====================================================================== differences of two plans


@dataclass(frozen=True)
class DeltaRow:
    """One KPI of two plans and their difference (B − A)."""

    label: str
    a: float
    b: float
    kind: str = "num"  #: "money", "share", "ratio", "num"
    better: str = "lower"  #: which direction is better: "lower", "higher" or ""

    @property
    def delta(self) -> float:
        """B − A."""
        return self.b - self.a

    @property
    def relative(self) -> float:
        """(B − A) / |A| (NaN when A is 0)."""
        return self.delta / abs(self.a) if finite(self.a) and abs(self.a) > 1e-12 else float("nan")


def compare_kpis(a: xr.Dataset, b: xr.Dataset) -> list[DeltaRow]:
    """Headline KPIs of plans A and B (final year of each) with B − A."""

    def last(ds: xr.Dataset, name: str) -> float:
        return as_float(ds[name].values[-1])

    rows = [
        DeltaRow("NPV of all costs", as_float(a["npv_cny"].values), as_float(b["npv_cny"].values), "money"),
        DeltaRow(
            "sum of annual costs (undiscounted)",
            as_float(a["cost"].sum().values),
            as_float(b["cost"].sum().values),
            "money",
        ),
        DeltaRow(
            "installed compute, final year [EFLOPS]",
            last(a, "installed_pflops") / 1e3,
            last(b, "installed_pflops") / 1e3,
            "num",
            "higher",
        ),
        DeltaRow(
            "servers in service, final year",
            as_float(a["servers"].isel(year=-1).sum().values),
            as_float(b["servers"].isel(year=-1).sum().values),
            "num",
            "",
        ),
        DeltaRow("PUE, final year", last(a, "pue"), last(b, "pue"), "ratio"),
        DeltaRow("green share, final year", last(a, "green_share"), last(b, "green_share"), "share", "higher"),
        DeltaRow("domestic share, final year", last(a, "domestic_share"), last(b, "domestic_share"), "share", ""),
        DeltaRow(
            "emissions (priced basis), final year [kt CO₂]",
            as_float(emissions(a)[-1]) / 1e3,
            as_float(emissions(b)[-1]) / 1e3,
            "num",
        ),
        DeltaRow(
            "emissions (priced basis), all years [kt CO₂]",
            as_float(emissions(a).sum()) / 1e3,
            as_float(emissions(b).sum()) / 1e3,
            "num",
        ),
        DeltaRow(
            "peak facility power, final year [MW]",
            as_float(a["facility_power_mw"].isel(year=-1).max().values),
            as_float(b["facility_power_mw"].isel(year=-1).max().values),
            "num",
        ),
        DeltaRow("data halls, final year", last(a, "halls"), last(b, "halls"), "num"),
        DeltaRow("grid connection, final year [MW]", last(a, "grid_mw"), last(b, "grid_mw"), "num"),
        DeltaRow("PV, final year [MWp]", last(a, "pv_mw"), last(b, "pv_mw"), "num", ""),
        DeltaRow("battery, final year [MWh]", last(a, "battery_mwh"), last(b, "battery_mwh"), "num", ""),
        DeltaRow("utilisation, final year", last(a, "utilisation"), last(b, "utilisation"), "share", "higher"),
        DeltaRow("MIP gap", as_float(a.attrs.get("mip_gap")), as_float(b.attrs.get("mip_gap")), "share"),
    ]
    return rows


@dataclass(frozen=True)
class CompareBuildRow:
    """One build item of plans A and B: new per year in each, and B − A."""

    label: str
    unit: str
    years: list[int]
    a: list[float]
    b: list[float]
    digits: int = 0
    delta: list[float] = field(default_factory=list)
    contract: bool = False  #: an annual contract (PPA): a total over years means nothing


def _new_per_year(row: BuildRow | None, ds: xr.Dataset, years: list[int]) -> list[float]:
    """A build row's additions over ``years`` (0 in years the plan does not have, or without the row)."""
    if row is None:
        return [0.0] * len(years)
    by = dict(zip(plan_years(ds), row.new, strict=True))
    return [float(by.get(y, 0.0)) for y in years]


def compare_build_rows(a: xr.Dataset, b: xr.Dataset) -> list[CompareBuildRow]:
    """New builds per item and year in A and B, and their difference, over the union of years."""
    years = sorted(set(plan_years(a)) | set(plan_years(b)))
    rows_a = {r.label: r for r in build_rows(a)}
    rows_b = {r.label: r for r in build_rows(b)}
    items = list(rows_a) + [item for item in rows_b if item not in rows_a]
    out = []
    for item in items:
        ra, rb = rows_a.get(item), rows_b.get(item)
        va, vb = _new_per_year(ra, a, years), _new_per_year(rb, b, years)
        ref = ra or rb
        assert ref is not None
        if not any(abs(v) > 1e-6 for v in va + vb):
            continue  # nothing bought in either plan (only stock from before)
        out.append(
            CompareBuildRow(
                item,
                ref.unit,
                years,
                va,
                vb,
                ref.digits,
                [y - x for x, y in zip(va, vb, strict=True)],
                ref.contract,
            )
        )
    return out


def _multicat(years: Sequence[int], labels: Sequence[str]) -> tuple[list[list[str]], list[tuple[int, str]]]:
    pairs = [(y, lab) for y in years for lab in labels]
    return [[str(y) for y, _ in pairs], [lab for _, lab in pairs]], pairs


def compare_builds_figure(a: xr.Dataset, b: xr.Dataset, labels: tuple[str, str] = ("A", "B")) -> go.Figure:
    """New servers by type per year, A and B side by side, and the difference B − A.

    Server types are named by vendor and chip (:func:`planner.report.labels.accelerator_label`).
    """
    labels = (plain(labels[0]), plain(labels[1]))
    years = sorted(set(plan_years(a)) | set(plan_years(b)))
    accs = list(dict.fromkeys(coord_names(a, "accelerator") + coord_names(b, "accelerator")))
    names = {acc: plain(accelerator_label(a if acc in coord_names(a, "accelerator") else b, acc)) for acc in accs}
    colours = {**accelerator_colours(b), **accelerator_colours(a)}
    x, pairs = _multicat(years, labels)
    fig = subplots(
        rows=1,
        cols=2,
        column_widths=[0.62, 0.38],
        subplot_titles=(
            f"New servers by type [servers]: {labels[0]} | {labels[1]}",
            f"Difference {labels[1]} − {labels[0]} [servers]",
        ),
        horizontal_spacing=0.08,
    )

    def new(ds: xr.Dataset, acc: str, year: int) -> float:
        if acc not in coord_names(ds, "accelerator") or year not in plan_years(ds):
            return 0.0
        return as_float(ds["servers_new"].sel(accelerator=acc, year=year).sum().values)

    for acc in accs:
        vals = [new(a if lab == labels[0] else b, acc, y) for y, lab in pairs]
        diff = [new(b, acc, y) - new(a, acc, y) for y in years]
        if not any(v > 0 for v in vals):
            continue
        fig.add_trace(
            go.Bar(
                x=x,
                y=vals,
                name=names[acc],
                legendgroup=acc,
                marker_color=colours[acc],
                hovertemplate=f"{names[acc]}<br>%{{x}}: %{{y:,}} servers<extra></extra>",
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Bar(
                x=years,
                y=diff,
                name=names[acc],
                legendgroup=acc,
                showlegend=False,
                marker_color=colours[acc],
                hovertemplate=f"{names[acc]}<br>%{{x}}: %{{y:+,}} servers<extra></extra>",
            ),
            row=1,
            col=2,
        )
    fig.update_layout(barmode="relative")
    year_axis(fig, years, row=1, col=2)
    return layout(fig, "What each plan buys", height=420)


def compare_facility_figure(a: xr.Dataset, b: xr.Dataset, labels: tuple[str, str] = ("A", "B")) -> go.Figure:
    """Halls, grid MW, PV MWp, battery MWh and installed EFLOPS in service by year, A against B."""
    labels = (plain(labels[0]), plain(labels[1]))
    items = [
        ("installed_pflops", "Installed compute [EFLOPS]", 1e-3),
        ("halls", "Data halls [halls]", 1.0),
        ("grid_mw", "Grid connection [MW]", 1.0),
        ("pv_mw", "PV [MWp]", 1.0),
        ("battery_mwh", "Battery [MWh]", 1.0),
    ]
    fig = subplots(rows=1, cols=len(items), subplot_titles=[t for _, t, _ in items], horizontal_spacing=0.05)
    years = sorted(set(plan_years(a)) | set(plan_years(b)))
    for col, (name, _title, scale) in enumerate(items, start=1):
        for k, (ds, lab, colour) in enumerate(((a, labels[0], "#8c959f"), (b, labels[1], "#0969da"))):
            fig.add_trace(
                go.Bar(
                    x=plan_years(ds),
                    y=numbers(ds[name].values * scale, 4),
                    name=lab,
                    legendgroup=lab,
                    showlegend=col == 1,
                    marker_color=colour,
                    offsetgroup=str(k),
                    hovertemplate=f"{lab}<br>%{{x}}: %{{y:,.4g}}<extra></extra>",
                ),
                row=1,
                col=col,
            )
    fig.update_layout(barmode="group")
    year_axis(fig, years)
    return layout(fig, f"In service by year: {labels[0]} (grey) and {labels[1]} (blue)", height=340)


def compare_cost_figure(a: xr.Dataset, b: xr.Dataset, labels: tuple[str, str] = ("A", "B")) -> go.Figure:
    """Annual cost by cost group, A and B side by side for each year."""
    labels = (plain(labels[0]), plain(labels[1]))
    years = sorted(set(plan_years(a)) | set(plan_years(b)))
    scale, unit = money_scale(np.r_[a["cost"].sum("component").values, b["cost"].sum("component").values])
    x, pairs = _multicat(years, labels)
    groups = {0: grouped_cost(a), 1: grouped_cost(b)}
    names = [g for g, _, _ in COST_GROUPS] + [OTHER_GROUP[0]]
    fig = figure()
    for group in names:
        if group not in groups[0] and group not in groups[1]:
            continue
        colour = (groups[0].get(group) or groups[1][group])[0]
        values = []
        for y, lab in pairs:
            k = 0 if lab == labels[0] else 1
            ds = a if k == 0 else b
            members = groups[k].get(group, ("", {}))[1]
            if y in plan_years(ds) and members:
                values.append(round(float(np.sum([v[plan_years(ds).index(y)] for v in members.values()])) / scale, 5))
            else:
                values.append(0.0)
        fig.add_trace(
            go.Bar(
                x=x,
                y=values,
                name=group,
                marker_color=colour,
                hovertemplate=f"{group}<br>%{{x}}: %{{y:,.3f}} {unit}<extra></extra>",
            )
        )
    fig.update_layout(barmode="relative")
    fig.update_yaxes(title_text=f"annual cost [{unit}/year]")
    return layout(fig, f"Annual cost by group (undiscounted): {labels[0]} | {labels[1]}", height=440)


def compare_npv_figure(a: xr.Dataset, b: xr.Dataset, labels: tuple[str, str] = ("A", "B")) -> go.Figure:
    """From the NPV of A to the NPV of B: a waterfall of the change of the discounted cost of each cost group.

    The y-axis starts near A's NPV, not at 0 (:func:`bridge_range`), so that the steps are readable;
    the subtitle says so.
    """
    labels = (plain(labels[0]), plain(labels[1]))
    steps = bridge_steps(a, b)
    npv_a, npv_b = as_float(a["npv_cny"].values), as_float(b["npv_cny"].values)
    scale, unit = money_scale([npv_a, npv_b])
    names = [f"NPV {labels[0]}", *[n for n, _ in steps], f"NPV {labels[1]}"]
    ys = [npv_a / scale, *[v / scale for _, v in steps], npv_b / scale]
    fig = figure()
    fig.add_trace(
        go.Waterfall(
            orientation="v",
            x=names,
            y=ys,
            measure=["absolute"] + ["relative"] * len(steps) + ["total"],
            text=[f"{npv_a / scale:,.3f}", *[f"{v:+,.3g}" for v in ys[1:-1]], f"{npv_b / scale:,.3f}"],
            textposition="outside",
            increasing={"marker": {"color": BAD_COLOUR}},
            decreasing={"marker": {"color": OK_COLOUR}},
            totals={"marker": {"color": "#1f2328"}},
            connector={"line": {"color": "#d0d7de"}},
            hovertemplate=f"%{{x}}: %{{y:+,.4f}} {unit}<extra></extra>",
        )
    )
    low, high = bridge_range(npv_a, [v for _, v in steps])
    fig.update_yaxes(title_text=f"discounted cost [{unit}]", range=[low / scale, high / scale])
    delta = npv_b - npv_a
    rel = delta / abs(npv_a) if abs(npv_a) > 0 else float("nan")
    layout(
        fig,
        f"NPV: {labels[1]} − {labels[0]} = {'+' if delta >= 0 else '−'}{fmt_money(abs(delta))}"
        + (f" ({rel:+.2%})" if finite(rel) else "")
        + " by cost group (red: costs more, green: saves)",
        height=460,
        showlegend=False,
        margin={"t": 80},
    )
    note = "the y-axis does not start at 0: it spans the steps" if low > 0 or high < 0 else "the y-axis starts at 0"
    fig.update_layout(title_subtitle={"text": note, "font": {"size": 12, "color": "#57606a"}})
    return fig


def compare_policy_figure(a: xr.Dataset, b: xr.Dataset, labels: tuple[str, str] = ("A", "B")) -> go.Figure:
    """PUE, green share, domestic share and installed EFLOPS by year: A, B and their limits."""
    labels = (plain(labels[0]), plain(labels[1]))
    shown = LIMITS[:4]
    titles = ["PUE [1]", "Green share [%]", "Domestic share [%]", "Installed compute [EFLOPS]"]
    fig = subplots(rows=1, cols=4, subplot_titles=titles, horizontal_spacing=0.06)
    for col, lim in enumerate(shown, start=1):
        scale = 100.0 if lim.kind == "share" else 1.0
        for ds, lab, colour, dash in ((a, labels[0], "#8c959f", "solid"), (b, labels[1], "#0969da", "solid")):
            fig.add_trace(
                go.Scatter(
                    x=plan_years(ds),
                    y=numbers(achieved(ds, lim) * scale, 5),
                    mode="lines+markers",
                    name=lab,
                    legendgroup=lab,
                    showlegend=col == 1,
                    line={"color": colour, "dash": dash, "width": 2},
                    hovertemplate=f"{lab}<br>%{{x}}: %{{y:.4g}}<extra></extra>",
                ),
                row=1,
                col=col,
            )
            bounds = limit_values(ds, lim)
            if np.isfinite(bounds).any():
                fig.add_trace(
                    go.Scatter(
                        x=plan_years(ds),
                        y=numbers(bounds * scale),
                        mode="lines",
                        name=f"limit {lab}",
                        legendgroup=f"limit-{lab}",
                        showlegend=col == 1,
                        line={"color": colour, "dash": "dash", "shape": "hv", "width": 1},
                        hovertemplate=f"limit {lab}<br>%{{x}}: %{{y:.4g}}<extra></extra>",
                    ),
                    row=1,
                    col=col,
                )
    years = sorted(set(plan_years(a)) | set(plan_years(b)))
    year_axis(fig, years)
    return layout(fig, "Policy KPIs by year (dashed: limits)", height=330)


# ====================================================================== the page


def compare_labels(a: xr.Dataset, b: xr.Dataset, sources: tuple[str, str] | None) -> tuple[str, str]:
    """Names of plans A and B: their scenario names, else their file names, else ``A`` and ``B``."""
    na, nb = str(a.attrs.get("scenario_name", "A")), str(b.attrs.get("scenario_name", "B"))
    if na != nb:
        return na, nb
    if sources and Path(sources[0]).stem != Path(sources[1]).stem:
        stems = Path(sources[0]).stem, Path(sources[1]).stem
        # a bare number ("2030") would read as a year in the charts
        return tuple(f"plan {s}" if s.isdigit() else s for s in stems)  # type: ignore[return-value]
    tags = variant_tag(a), variant_tag(b)
    if tags[0] != tags[1]:
        return tuple(f"{na} [{t}]" if t else na for t in tags)  # type: ignore[return-value]
    return "A", "B"


def compare_charts(a: xr.Dataset, b: xr.Dataset, labels: tuple[str, str]) -> dict[str, go.Figure]:
    """Every figure of a comparison report, by key, in page order."""
    return {
        "policy": compare_policy_figure(a, b, labels),
        "builds": compare_builds_figure(a, b, labels),
        "facility": compare_facility_figure(a, b, labels),
        "cost": compare_cost_figure(a, b, labels),
        "npv": compare_npv_figure(a, b, labels),
        "energy": compare_energy_figure(a, b, labels),
        "dispatch_diff": compare_dispatch_figure(a, b, labels),
        "dispatch_a": dispatch_figure(a, title_prefix=f"{labels[0]}: "),
        "dispatch_b": dispatch_figure(b, title_prefix=f"{labels[1]}: "),
    }


def render_compare(a: xr.Dataset, b: xr.Dataset, sources: tuple[str, str] | None = None) -> str:
    """The HTML comparison of two plans (A and B, differences B − A), as text: the clusters as a whole."""
    a, b = cluster_view(a), cluster_view(b)
    labels = compare_labels(a, b, sources)
    figures = compare_charts(a, b, labels)
    builds = compare_build_rows(a, b)
    energy = compare_energy_rows(a, b)
    return render(
        "compare.html.j2",
        a=plan_header(a),
        b=plan_header(b),
        labels=labels,
        differences=input_differences(a, b),
        policy_rows=policy_year_rows(a, b),
        sources=sources or ("", ""),
        kpis=compare_kpis(a, b),
        builds=builds,
        build_years=builds[0].years if builds else sorted({*map(int, a["year"].values), *map(int, b["year"].values)}),
        energy=energy,
        energy_years=common_years(a, b),
        energy_digits=energy_digits(energy),
        years_note=years_note(a, b, labels),
        days_note=days_note(a, b, labels),
        charts=charts(figures),
    )
