"""Figures of a plan's hourly dispatch on its representative days, with the time-of-use periods behind it.

``dispatch_figure``: one day at a time, a drop-down of the days and a button per year;
``dispatch_days_figure``: every day of one year side by side (what a printed page shows, where
no drop-down can be opened). TOU periods (critical, peak, flat, valley of ``tou_period``) are
shaded bands; the days kept for an extreme (``extreme_day``) are flagged with ★ in their labels.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import plotly.graph_objects as go
import xarray as xr

from planner.report.data import coord_names, plan_years, units_of
from planner.report.format import numbers, plain
from planner.report.labels import cooling_label
from planner.report.style import (
    PPA_COLOURS,
    SIDE_LEGEND,
    SUPPLY_COLOURS,
    cooling_colours,
    has_data,
    layout,
    subplots,
)

__all__ = [
    "TOU_COLOURS",
    "day_labels",
    "day_menu",
    "default_day",
    "dispatch_days_figure",
    "dispatch_figure",
    "extreme_flags",
    "supply_series",
    "tou_bands",
    "year_buttons",
]

_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

#: Background of each time-of-use period (translucent, behind the bars).
TOU_COLOURS = {
    "critical": "rgba(207,34,46,0.20)",
    "peak": "rgba(251,143,68,0.18)",
    "flat": "rgba(140,149,159,0.07)",
    "valley": "rgba(9,105,218,0.13)",
}

#: How an extreme day is named: (profile column, max/min) -> word.
_EXTREME_WORDS = {
    ("dry_bulb_c", "max"): "hottest",
    ("dry_bulb_c", "min"): "coldest",
    ("wet_bulb_c", "max"): "hottest wet-bulb",
    ("wet_bulb_c", "min"): "coldest wet-bulb",
    ("inference_shape", "max"): "peak inference",
    ("pv_cf", "max"): "sunniest",
    ("pv_cf", "min"): "darkest",
}

_SUPPLY_KEYS = ("grid", "pv", "discharge", "charge", "facility")


def extreme_flags(ds: xr.Dataset) -> list[str]:
    """Per representative day: ``★ hottest`` (and more, ``,``-joined) for a day kept for an extreme, else ""."""
    if "extreme_day" not in ds:
        return [""] * ds.sizes["day"]
    out = []
    for text in ds["extreme_day"].values:
        words = []
        for spec in str(text).split(","):
            column, _, kind = spec.strip().partition(":")
            if column:
                words.append(_EXTREME_WORDS.get((column, kind), f"{kind} {column}".strip()))
        out.append(f"★ {', '.join(words)}" if words else "")
    return out


def _date(doy: float, base_year: int) -> str:
    text = np.datetime_as_string(np.datetime64(f"{base_year}-01-01") + np.timedelta64(int(doy), "D"), unit="D")
    return f"{int(text[8:10])} {_MONTHS[int(text[5:7]) - 1]}"


def day_labels(ds: xr.Dataset, base_year: int = 2026) -> list[str]:
    """A label per representative day: ``day 3 · 14 Jul · ×31 d`` (``★ hottest`` added on an extreme day)."""
    doy = ds["day_of_year"].values if "day_of_year" in ds else ds["day"].values
    weights = ds["day_weight"].values if "day_weight" in ds else np.ones(ds.sizes["day"])
    flags = extreme_flags(ds)
    return [
        f"day {int(d)} · {_date(doy[i], base_year)} · ×{weights[i]:g} d" + (f" {flags[i]}" if flags[i] else "")
        for i, d in enumerate(ds["day"].values)
    ]


def default_day(ds: xr.Dataset, year: int) -> int:
    """Index of the day shown first: the day with the year's peak facility power."""
    peak = ds["facility_power_mw"].sel(year=year).max("hour").values
    return int(np.argmax(peak)) if peak.size else 0


def tou_bands(ds: xr.Dataset, day: int, offset: int = 0) -> list[dict[str, Any]]:
    """One shaded rectangle per run of equal TOU period on representative day ``day`` (hours shifted by ``offset``).

    The rectangles span the height of the panel of the first axes (``yref`` ``"y domain"``), not the
    figure's: a panel under it keeps its own background and its title stays legible.
    """
    if "tou_period" not in ds:
        return []
    periods = [str(p) for p in ds["tou_period"].isel(day=day).values]
    bands, start = [], 0
    for h in range(1, len(periods) + 1):
        if h == len(periods) or periods[h] != periods[start]:
            name = periods[start]
            bands.append(
                {
                    "type": "rect",
                    "xref": "x",
                    "yref": "y domain",
                    "x0": offset + start - 0.5,
                    "x1": offset + h - 0.5,
                    "y0": 0,
                    "y1": 1,
                    "fillcolor": TOU_COLOURS.get(name, "rgba(140,149,159,0.07)"),
                    "line": {"width": 0},
                    "layer": "below",
                    "name": f"TOU {name}",
                    "label": {"text": name, "textposition": "top center", "font": {"size": 9, "color": "#57606a"}},
                }
            )
            start = h
    return bands


#: How the dispatch chart's menus (day drop-down, year buttons) look.
MENU_STYLE: dict[str, Any] = {"showactive": True, "bgcolor": "white", "bordercolor": "#8c959f", "font": {"size": 12}}


def year_buttons(years: list[int], args: list[list[dict[str, Any]]], active: int = -1) -> dict[str, Any]:
    """A row of buttons, one per year, above the top right of the plot (``args``: each button's update)."""
    return {
        "type": "buttons",
        "direction": "right",
        "buttons": [{"label": str(y), "method": "update", "args": a} for y, a in zip(years, args, strict=True)],
        "active": active % len(years),
        "x": 1.0,
        "xanchor": "right",
        "y": 1.1,
        "yanchor": "bottom",
        **MENU_STYLE,
        "pad": {"l": 0, "r": 0, "t": 0, "b": 0},
    }


# ====================================================================== dispatch


def supply_series(ds: xr.Dataset, year: int, day: int) -> list[tuple[str, np.ndarray]]:
    """(trace key, 24 hourly values [MW]) of the supply side of representative day ``day`` (its coordinate) of a year.

    Grid import, each PPA (``ppa:<name>``), PV used, battery discharge, battery charge (negative)
    and the facility load (``facility``), in the order of the dispatch traces.
    """
    sel = {"year": year, "day": day}
    out = [("grid", ds["grid_import_mw"].sel(sel).values)]
    for k in coord_names(ds, "ppa"):
        out.append((f"ppa:{k}", ds["ppa_mw_used"].sel({"ppa": k, **sel}).values))
    out.append(("pv", ds["pv_used_mw"].sel(sel).values))
    out.append(("discharge", ds["battery_discharge_mw"].sel(sel).values))
    out.append(("charge", -ds["battery_charge_mw"].sel(sel).values))
    out.append(("facility", ds["facility_power_mw"].sel(sel).values))
    return [(key, np.asarray(values, dtype=float)) for key, values in out]


def _dispatch_series(ds: xr.Dataset, year: int, day: int) -> list[tuple[str, list[float | None]]]:
    """(trace key, 24 values) of every dispatch trace, in the order of the traces."""
    sel = {"year": year, "day": day}
    out = [(key, numbers(values, 4)) for key, values in supply_series(ds, year, day)]
    it = ds["it_power_mw"].sel(sel)
    cool = ds["cooling_power_mw"].sel(sel)
    for c in coord_names(ds, "cooling"):
        out.append((f"it:{c}", numbers(it.sel(cooling=c).values, 4)))
    for c in coord_names(ds, "cooling"):
        out.append((f"cool:{c}", numbers(cool.sel(cooling=c).values, 4)))
    aux = ds["facility_power_mw"].sel(sel) - it.sum("cooling") - cool.sum("cooling")
    out.append(("aux", numbers(aux.clip(min=0).values, 4)))
    out.append(("temp", numbers(ds["ambient_temp_c"].sel(day=day).values, 2)))
    return out


def _with_data(per_day: Iterable[Iterable[tuple[str, list[float | None]]]]) -> set[str]:
    """Keys of the traces with data (:func:`has_data`) on some of the days shown (others would clutter the legend).

    A trace is kept, or dropped, for every day at once: the day drop-down sets the data of the
    traces by their index, so one day cannot list a trace that another day leaves out. The ambient
    temperature is always kept (0 °C is a temperature).
    """
    keep = {"temp"}
    for series in per_day:
        keep |= {key for key, values in series if has_data([np.nan if v is None else v for v in values])}
    return keep


def _dispatch_trace(ds: xr.Dataset, key: str) -> tuple[Any, str]:
    """The (empty) trace of a dispatch series and its hover template (without the trace name)."""
    unit = units_of(ds["facility_power_mw"])
    hover = f"%{{x}}:00  %{{y:,.2f}} {unit}"
    if key == "grid":
        return go.Bar(name="grid import", marker_color=SUPPLY_COLOURS["grid"]), hover
    if key.startswith("ppa:"):
        ppa_colour = {k: PPA_COLOURS[j % len(PPA_COLOURS)] for j, k in enumerate(coord_names(ds, "ppa"))}
        return go.Bar(name=f"PPA {key[4:]}", marker_color=ppa_colour[key[4:]]), hover
    if key in ("pv", "discharge", "charge"):
        name = {"pv": "PV", "discharge": "battery discharge", "charge": "battery charge (−)"}[key]
        return go.Bar(name=name, marker_color=SUPPLY_COLOURS[key]), hover
    if key == "facility":
        line = {"color": "#1f2328", "width": 3, "shape": "hvh"}
        return go.Scatter(name="facility load", mode="lines", line=line), hover
    cc = cooling_colours(ds)
    if key.startswith("it:"):
        name = f"IT load, {cooling_label(ds, key[3:])}"
        return go.Bar(name=name, marker_color=cc[key[3:]], legendgroup="it"), hover
    if key.startswith("cool:"):
        pattern = {"shape": "/", "fillmode": "overlay", "fgcolor": "white", "fgopacity": 0.7}
        marker = {"color": cc[key[5:]], "pattern": pattern}
        name = f"cooling power, {cooling_label(ds, key[5:])}"
        return go.Bar(name=name, marker=marker, legendgroup="cool"), hover
    if key == "aux":
        return go.Bar(name="aux losses", marker_color="#d0d7de"), hover
    # temp
    trace = go.Scatter(name="ambient °C", mode="lines", line={"color": "#bc4c00", "dash": "dot"})
    return trace, f"%{{x}}:00  %{{y:.1f}} {units_of(ds['ambient_temp_c']).replace('degC', '°C')}"


def day_menu(buttons: list[dict[str, Any]], active: int) -> dict[str, Any]:
    """The drop-down over the representative days, above the top left of the plot."""
    return {
        "type": "dropdown",
        "buttons": buttons,
        "active": active,
        "x": 0.0,
        "xanchor": "left",
        "y": 1.1,
        "yanchor": "bottom",
        **MENU_STYLE,
    }


#: Height of a row of menus above the dispatch's upper panel, gap included [px] (a menu's box is 33 px).
_MENU_ROW = 40
#: Room between the upper panel's top and the lowest row of menus, for the panel's title [px].
_PANEL_TITLE = 28
#: Room at the top of the dispatch for the figure's title, above the menus [px].
_FIGURE_TITLE = 38


def _menu_row(row: int) -> dict[str, Any]:
    """Where a menu of the dispatch goes: on its own row above the upper panel (``row`` 0 the lowest), at its left edge.

    Rows are set in pixels (the menu's bottom padding), not in fractions of the plot's height, so
    they stay apart, and clear of the panel's title, at any size. At 800 px the day drop-down (as
    wide as its longest label, ``day 5 · 24 Jul · ×1 d ★ hottest wet-bulb``) takes most of the
    plot's width: year buttons beside it would cover it.
    """
    return {
        "x": 0.0,
        "xanchor": "left",
        "y": 1.0,
        "yanchor": "bottom",
        "pad": {"l": 0, "r": 0, "t": 0, "b": _PANEL_TITLE + row * _MENU_ROW},
    }


def _add_day_traces(
    fig: go.Figure, ds: xr.Dataset, series: list[tuple[str, list[float | None]]], visible: bool
) -> None:
    """One year's dispatch traces: supply on the top panel, the load's split (and temperature) below."""
    for key, values in series:
        trace, hover = _dispatch_trace(ds, key)
        trace.update(
            x=list(range(24)), y=values, visible=visible, hovertemplate=hover + "<extra>%{fullData.name}</extra>"
        )
        if key in _SUPPLY_KEYS or key.startswith("ppa:"):
            fig.add_trace(trace, row=1, col=1)
        else:
            fig.add_trace(trace, row=2, col=1, secondary_y=key == "temp")


def _supply_title(year: int) -> str:
    return f"Supply against facility load in {year} [MW] (shaded: TOU periods)"


def dispatch_figure(ds: xr.Dataset, year: int | None = None, title_prefix: str = "") -> go.Figure:
    """Hourly dispatch of one representative day, a drop-down over the days and a button per year.

    Top: supply stack (grid import, each PPA, PV used, battery discharge; battery charging
    below zero) against the facility load, over the day's TOU periods (shaded). Bottom: the
    facility load split into IT power and cooling power by technology and auxiliary losses,
    with the ambient temperature on the right axis. ``year`` (default the last year of the
    plan) is shown first; each year has its own traces (the year buttons switch which are
    visible) and each day button sets the data of every year's traces, so the two selectors
    combine; they sit on rows of their own above the upper panel (:func:`_menu_row`), the panels'
    titles at the panels' left edge, and the TOU periods shade the upper panel only (:func:`tou_bands`).
    The day opened is the one with the year's peak facility load. A series with no data
    on any day of a year (no grid import, a PPA not taken, an unused cooling technology) has no
    trace in that year; cooling technologies are named from the scenario (:func:`cooling_label`).
    """
    years = plan_years(ds)
    year = years[-1] if year is None else int(year)
    order = [year, *(y for y in years if y != year)]  # the year shown first owns the first traces
    title_prefix = plain(title_prefix)
    days = [int(d) for d in ds["day"].values]
    labels = day_labels(ds)
    start = default_day(ds, year)
    full = {(y, d): _dispatch_series(ds, y, d) for y in order for d in days}
    keep = {y: _with_data(full[(y, d)] for d in days) for y in order}
    series = {(y, d): [(k, v) for k, v in full[(y, d)] if k in keep[y]] for (y, d) in full}
    fig = subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        row_heights=[0.55, 0.45],
        specs=[[{}], [{"secondary_y": True}]],
        subplot_titles=(_supply_title(year), "Facility load: IT, cooling and losses [MW]"),
    )
    for y in order:
        _add_day_traces(fig, ds, series[(y, days[start])], visible=y == year)
    owner = [y for y in order for _ in series[(y, days[start])]]  # the year of each trace

    def title(i: int) -> str:
        return f"{title_prefix}Hourly dispatch: {labels[i]}"

    day_buttons = [
        {
            "label": labels[i],
            "method": "update",
            "args": [
                {"y": [v for y in order for _, v in series[(y, d)]]},
                {"title.text": title(i), "shapes": tou_bands(ds, i)},
            ],
        }
        for i, d in enumerate(days)
    ]
    menus = [{**day_menu(day_buttons, start), **_menu_row(0)}]
    if len(years) > 1:
        args: list[list[dict[str, Any]]] = [
            [{"visible": [o == y for o in owner]}, {"annotations[0].text": _supply_title(y)}] for y in years
        ]
        menus.append({**year_buttons(years, args, active=years.index(year)), **_menu_row(1)})
    # The panels' titles start at the panels' left edge: centred over a plot narrowed by the legend beside
    # it (800 px), the upper one, wider than the plot, ran off the figure's left edge.
    fig.update_annotations(x=fig.layout.xaxis.domain[0], xanchor="left")
    fig.update_layout(barmode="relative", updatemenus=menus, shapes=tou_bands(ds, start))
    unit = units_of(ds["facility_power_mw"])
    fig.update_xaxes(tickmode="linear", dtick=2, range=[-0.5, 23.5], row=1, col=1)
    fig.update_xaxes(tickmode="linear", dtick=2, range=[-0.5, 23.5], title_text="hour of day", row=2, col=1)
    fig.update_yaxes(title_text=f"power [{unit}]", row=1, col=1)
    fig.update_yaxes(title_text=f"power [{unit}]", rangemode="tozero", row=2, col=1)
    fig.update_yaxes(
        title_text="ambient [°C]", showgrid=False, tickmode="auto", nticks=6, row=2, col=1, secondary_y=True
    )
    top = _FIGURE_TITLE + len(menus) * _MENU_ROW + _PANEL_TITLE  # the title, a row per menu, the panel's title
    legend = {**SIDE_LEGEND, "traceorder": "normal"}
    layout(fig, title(start), height=520 + top, margin={"t": top, "r": 20}, legend=legend)
    return fig


def _dates(ds: xr.Dataset, base_year: int = 2026) -> list[str]:
    """The date of each representative day, ``14 Jul``."""
    doy = ds["day_of_year"].values if "day_of_year" in ds else ds["day"].values
    return [_date(v, base_year) for v in doy]


def dispatch_days_figure(ds: xr.Dataset, year: int | None = None, title_prefix: str = "") -> go.Figure:
    """Every representative day of one year side by side: supply stack against facility load, TOU shaded.

    The days follow each other on one axis (24 hours each, a thin line between days), so all of
    them print, where the interactive dispatch shows one day. ``year`` defaults to the last year. A
    source with no data on any day is left out.
    """
    years = plan_years(ds)
    year = years[-1] if year is None else int(year)
    n = ds.sizes["day"]
    flags, dates = extreme_flags(ds), _dates(ds)
    weights = ds["day_weight"].values if "day_weight" in ds else np.ones(n)
    per_day = [dict(_dispatch_series(ds, year, int(d))) for d in ds["day"].values]
    keep = _with_data(day.items() for day in per_day)
    fig = subplots(rows=1, cols=1)
    x = list(range(24 * n))
    for key in ("grid", *(f"ppa:{k}" for k in coord_names(ds, "ppa")), "pv", "discharge", "charge", "facility"):
        if key not in keep:
            continue
        trace, hover = _dispatch_trace(ds, key)
        y = [v for day in per_day for v in day[key]]
        hover = hover.replace("%{x}:00", "%{customdata}:00") + "<extra>%{fullData.name}</extra>"
        trace.update(x=x, y=y, customdata=[f"{dates[i]} {h}" for i in range(n) for h in range(24)], hovertemplate=hover)
        if key == "facility":
            trace.update(line={"color": "#1f2328", "width": 1.5, "shape": "hvh"})
        fig.add_trace(trace)
    shapes = [band for i in range(n) for band in tou_bands(ds, i, offset=24 * i)]
    for band in shapes:
        band.pop("label", None)  # too narrow to label: the interactive chart names the periods
    separators = [
        {
            "type": "line",
            "xref": "x",
            "yref": "y domain",
            "x0": 24 * i - 0.5,
            "x1": 24 * i - 0.5,
            "y0": 0,
            "y1": 1,
            "line": {"color": "#57606a", "width": 1},
        }
        for i in range(1, n)
    ]
    fig.update_layout(barmode="relative", bargap=0, shapes=shapes + separators)
    fig.update_xaxes(
        tickmode="array",
        tickvals=[24 * i + 11.5 for i in range(n)],
        ticktext=[f"{dates[i]} ×{weights[i]:g}" + (f"<br>{flags[i]}" if flags[i] else "") for i in range(n)],
        range=[-0.5, 24 * n - 0.5],
        showgrid=False,
    )
    fig.update_yaxes(title_text=f"power [{units_of(ds['facility_power_mw'])}]")
    title = f"{plain(title_prefix)}Every representative day of {year}: supply against facility load"
    note = "shaded: time-of-use periods (critical, peak, flat, valley) · ×N: the calendar days a day stands for"
    return layout(fig, title, subtitle=note, height=360, margin={"b": 70}, legend={"y": -0.3})
