"""The hourly dispatch of two plans on the same representative day: each plan's facility load, and B − A by source.

Only what both plans have is compared: the years both have
(:func:`planner.report.compare_years.common_years`) and the representative days that stand for the
same calendar day (``day_of_year``, :func:`common_days`); :func:`days_note` says which days are left
out. The sources are those of the plan report's dispatch (:func:`planner.report.figures.dispatch.supply_series`),
with the battery as its net (discharge − charge), so that the differences by source add up to the
difference of the facility load.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
import xarray as xr

from planner.report.compare_energy import FACILITY, source_styles
from planner.report.compare_years import common_years
from planner.report.data import units_of
from planner.report.figures.dispatch import day_labels, day_menu, supply_series, tou_bands, year_buttons
from planner.report.format import numbers, plain
from planner.report.style import empty_figure, layout, subplots

__all__ = ["calendar_days", "common_days", "compare_dispatch_figure", "days_note", "supply_difference"]

#: The colours of plan A's and plan B's facility load (as in the other comparison figures).
LOAD_COLOURS = ("#8c959f", "#0969da")


def calendar_days(ds: xr.Dataset) -> list[int]:
    """The calendar day (0 = 1 Jan) each representative day stands for (``day_of_year``, else its ``day``)."""
    values = ds["day_of_year"].values if "day_of_year" in ds else ds["day"].values
    return [int(v) for v in values]


def common_days(a: xr.Dataset, b: xr.Dataset) -> list[tuple[int, int]]:
    """(index in A, index in B) of each representative day both plans have, the same calendar day, in A's order."""
    in_b = {d: j for j, d in enumerate(calendar_days(b))}
    return [(i, in_b[d]) for i, d in enumerate(calendar_days(a)) if d in in_b]


def days_note(a: xr.Dataset, b: xr.Dataset, labels: tuple[str, str]) -> str:
    """Which representative days the comparison of the dispatch leaves out, as a sentence ("" when none)."""
    pairs = common_days(a, b)
    left = [
        f"{lab}: {', '.join(day_labels(ds)[i] for i in range(ds.sizes['day']) if i not in kept)}"
        for ds, lab, kept in ((a, labels[0], {i for i, _ in pairs}), (b, labels[1], {j for _, j in pairs}))
        if len(kept) < ds.sizes["day"]
    ]
    if not left:
        return ""
    if not pairs:
        return f"The plans have no representative day in common ({'; '.join(left)}): each plan's own dispatch is below."
    return (
        f"Only the representative days both plans have (same calendar day) are compared; left out: {'; '.join(left)}."
    )


def _supply(ds: xr.Dataset, year: int, index: int) -> dict[str, np.ndarray]:
    """A plan's supply by source on its ``index``-th representative day [MW, 24 values], the battery as its net."""
    series = dict(supply_series(ds, year, int(ds["day"].values[index])))
    series["battery"] = series.pop("discharge") + series.pop("charge")  # the charge is negative
    return series


def supply_difference(a: xr.Dataset, b: xr.Dataset, year: int, pair: tuple[int, int]) -> dict[str, np.ndarray]:
    """B − A of each source and of the facility load (:data:`FACILITY`) on a common day [MW, 24 values].

    ``pair``: the day's index in A and in B (:func:`common_days`). A source one plan does not have
    (a PPA) is 0 there; the differences of the sources add up to that of the facility load.
    """
    sa, sb = _supply(a, year, pair[0]), _supply(b, year, pair[1])
    zero = np.zeros_like(sa[FACILITY])
    return {k: sb.get(k, zero) - sa.get(k, zero) for k in dict.fromkeys([*sa, *sb])}


def _pair_label(a: xr.Dataset, b: xr.Dataset, pair: tuple[int, int], labels: tuple[str, str]) -> str:
    """A common day by its label in A, with B's weight when that differs (``… · ×31 d · B: ×28 d``)."""
    text = day_labels(a)[pair[0]]
    wa, wb = float(a["day_weight"].values[pair[0]]), float(b["day_weight"].values[pair[1]])
    return text if wa == wb else f"{text} · {labels[1]}: ×{wb:g} d"


def _bands(a: xr.Dataset, b: xr.Dataset, pair: tuple[int, int]) -> list[dict[str, Any]]:
    """The day's TOU bands when both plans have the same periods that day (else none: which would they be?)."""
    if "tou_period" not in a or "tou_period" not in b:
        return []
    same = list(a["tou_period"].isel(day=pair[0]).values) == list(b["tou_period"].isel(day=pair[1]).values)
    return tou_bands(a, pair[0]) if same else []


def _start(diffs: list[dict[str, np.ndarray]], weights: list[float]) -> int:
    """The day shown first: where the plans' supply differs most over the year, Σ |B − A| over sources and hours
    × the calendar days the day stands for (A's weight).
    """
    scores = [
        w * sum(float(np.abs(v).sum()) for k, v in d.items() if k != FACILITY)
        for d, w in zip(diffs, weights, strict=True)
    ]
    return int(np.argmax(scores)) if scores else 0


def _load_title(year: int, labels: tuple[str, str]) -> str:
    return f"Facility load in {year} [MW]: {labels[0]} (grey), {labels[1]} (blue)"


def compare_dispatch_figure(
    a: xr.Dataset, b: xr.Dataset, labels: tuple[str, str] = ("A", "B"), year: int | None = None
) -> go.Figure:
    """Hourly dispatch of A and B on a representative day both have: their facility loads, and B − A by source.

    Top: the facility load of A and of B. Bottom: B − A of each source (grid import, each PPA, PV
    used, the battery's net) as bars that add up to the difference of the facility load (the black
    line); a source that differs in no hour of the year is left out. A drop-down picks the day, a
    button per year the year (default: the last year both plans have); the day opened is the one
    where the supply differs most over the year (:func:`_start`). TOU periods are shaded when both
    plans have the same ones.
    """
    labels = (plain(labels[0]), plain(labels[1]))
    years, pairs = common_years(a, b), common_days(a, b)
    title = f"Hourly dispatch: {labels[1]} − {labels[0]}"
    if not years or not pairs:
        return empty_figure(title, "no year and representative day the two plans both have")
    year = years[-1] if year is None or int(year) not in years else int(year)
    order = [year, *(y for y in years if y != year)]  # the year shown first owns the first traces
    styles = source_styles(a, b)
    diffs = {y: [supply_difference(a, b, y, p) for p in pairs] for y in order}
    keep = {y: [k for k in styles if any(np.any(np.abs(d.get(k, 0.0)) > 1e-9) for d in diffs[y])] for y in order}
    names = [_pair_label(a, b, p, labels) for p in pairs]
    start = _start(diffs[year], [float(a["day_weight"].values[i]) for i, _ in pairs])

    def series(y: int, i: int) -> list[list[float | None]]:
        """The y values of year ``y``'s traces on common day ``i``, in the order of the traces."""
        day_a, day_b = (int(ds["day"].values[p]) for ds, p in zip((a, b), pairs[i], strict=True))
        loads = [numbers(ds["facility_power_mw"].sel(year=y, day=d).values, 6) for ds, d in ((a, day_a), (b, day_b))]
        return [*loads, *(numbers(diffs[y][i][k], 6) for k in keep[y]), numbers(diffs[y][i][FACILITY], 6)]

    fig = subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        row_heights=[0.4, 0.6],
        subplot_titles=(
            _load_title(year, labels),
            f"Difference {labels[1]} − {labels[0]} by source [MW] (line: facility load)",
        ),
    )
    unit = units_of(a["facility_power_mw"])
    owner: list[int] = []
    for y in order:
        values = series(y, start)
        traces: list[tuple[Any, int]] = [
            (go.Scatter(name=f"facility load {lab}", mode="lines", line={"color": c, "width": 2.5, "shape": "hvh"}), 1)
            for lab, c in zip(labels, LOAD_COLOURS, strict=True)
        ]
        traces += [(go.Bar(name=f"Δ {styles[k][0]}", marker_color=styles[k][1]), 2) for k in keep[y]]
        line = {"color": "#1f2328", "width": 2.5, "shape": "hvh"}
        traces.append((go.Scatter(name="Δ facility load", mode="lines", line=line), 2))
        for (trace, row), v in zip(traces, values, strict=True):
            trace.update(
                x=list(range(24)),
                y=v,
                visible=y == year,
                legendgroup=trace.name,
                hovertemplate=f"%{{x}}:00  %{{y:,.4f}} {unit}<extra>%{{fullData.name}}</extra>",
            )
            fig.add_trace(trace, row=row, col=1)
            owner.append(y)

    def day_title(i: int) -> str:
        return f"{title}: {names[i]}"

    buttons = [
        {
            "label": names[i],
            "method": "update",
            "args": [
                {"y": [v for y in order for v in series(y, i)]},
                {"title.text": day_title(i), "shapes": _bands(a, b, pairs[i])},
            ],
        }
        for i in range(len(pairs))
    ]
    menus = [day_menu(buttons, start)]
    if len(years) > 1:
        args: list[list[dict[str, Any]]] = [
            [{"visible": [o == y for o in owner]}, {"annotations[0].text": _load_title(y, labels)}] for y in years
        ]
        menus.append(year_buttons(years, args, active=years.index(year)))
    fig.update_layout(barmode="relative", updatemenus=menus, shapes=_bands(a, b, pairs[start]))
    fig.update_xaxes(tickmode="linear", dtick=2, range=[-0.5, 23.5], row=1, col=1)
    fig.update_xaxes(tickmode="linear", dtick=2, range=[-0.5, 23.5], title_text="hour of day", row=2, col=1)
    fig.update_yaxes(title_text=f"power [{unit}]", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text=f"Δ power [{unit}]", zeroline=True, zerolinecolor="#57606a", row=2, col=1)
    return layout(fig, day_title(start), height=620, margin={"t": 120}, legend={"y": -0.14})
