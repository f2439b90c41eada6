"""Figures of a plan's energy: hourly dispatch of the representative days, PUE against temperature, emissions.

Pure functions ``Dataset -> plotly Figure``, plus the labels of the representative days.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
import xarray as xr

from planner.report.data import coord_names, emissions, plan_years, units_of
from planner.report.format import as_float, finite, numbers, plain
from planner.report.style import (
    BAD_COLOUR,
    OK_COLOUR,
    PPA_COLOURS,
    SIDE_LEGEND,
    SUPPLY_COLOURS,
    cooling_colours,
    figure,
    layout,
    subplots,
    year_axis,
    year_colours,
)

__all__ = ["day_labels", "default_day", "dispatch_figure", "emissions_figure", "pue_figure"]

_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def day_labels(ds: xr.Dataset, base_year: int = 2026) -> list[str]:
    """A label per representative day: ``day 3 · 14 Jul · ×31 days`` (date from ``day_of_year``)."""
    out = []
    doy = ds["day_of_year"].values if "day_of_year" in ds else ds["day"].values
    weights = ds["day_weight"].values if "day_weight" in ds else np.ones(ds.sizes["day"])
    for i, d in enumerate(ds["day"].values):
        date = np.datetime64(f"{base_year}-01-01") + np.timedelta64(int(doy[i]), "D")
        text = np.datetime_as_string(date, unit="D")
        month = _MONTHS[int(text[5:7]) - 1]
        out.append(f"day {int(d)} · {int(text[8:10])} {month} · ×{weights[i]:g} d")
    return out


def default_day(ds: xr.Dataset, year: int) -> int:
    """Index of the day shown first: the day with the year's peak facility power."""
    peak = ds["facility_power_mw"].sel(year=year).max("hour").values
    return int(np.argmax(peak)) if peak.size else 0


# ====================================================================== dispatch


def _dispatch_series(ds: xr.Dataset, year: int, day: int) -> list[tuple[str, list[float | None]]]:
    """(trace key, 24 values) of every dispatch trace, in the order of the traces."""
    sel = {"year": year, "day": day}
    out: list[tuple[str, list[float | None]]] = [("grid", numbers(ds["grid_import_mw"].sel(sel).values, 4))]
    for k in coord_names(ds, "ppa"):
        out.append((f"ppa:{k}", numbers(ds["ppa_mw_used"].sel({"ppa": k, **sel}).values, 4)))
    out.append(("pv", numbers(ds["pv_used_mw"].sel(sel).values, 4)))
    out.append(("discharge", numbers(ds["battery_discharge_mw"].sel(sel).values, 4)))
    out.append(("charge", numbers(-ds["battery_charge_mw"].sel(sel).values, 4)))
    out.append(("facility", numbers(ds["facility_power_mw"].sel(sel).values, 4)))
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


def _dispatch_keep(ds: xr.Dataset, year: int) -> set[str]:
    """Trace keys that are non-zero on some day of the year (others would only clutter the legend)."""
    keep = {"grid", "facility", "temp"}
    sel = ds.sel(year=year)
    if np.any(sel["pv_used_mw"].values > 1e-9):
        keep.add("pv")
    if np.any(sel["battery_discharge_mw"].values > 1e-9) or np.any(sel["battery_charge_mw"].values > 1e-9):
        keep |= {"discharge", "charge"}
    for k in coord_names(ds, "ppa"):
        if np.any(sel["ppa_mw_used"].sel(ppa=k).values > 1e-9):
            keep.add(f"ppa:{k}")
    for c in coord_names(ds, "cooling"):
        if np.any(sel["it_power_mw"].sel(cooling=c).values > 1e-9):
            keep |= {f"it:{c}", f"cool:{c}"}
    aux = sel["facility_power_mw"] - sel["it_power_mw"].sum("cooling") - sel["cooling_power_mw"].sum("cooling")
    if np.any(aux.values > 1e-9):
        keep.add("aux")
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
        return go.Bar(name=f"IT {key[3:]}", marker_color=cc[key[3:]], legendgroup="it"), hover
    if key.startswith("cool:"):
        pattern = {"shape": "/", "fillmode": "overlay", "fgcolor": "white", "fgopacity": 0.7}
        marker = {"color": cc[key[5:]], "pattern": pattern}
        return go.Bar(name=f"cooling {key[5:]}", marker=marker, legendgroup="cool"), hover
    if key == "aux":
        return go.Bar(name="aux losses", marker_color="#d0d7de"), hover
    # temp
    trace = go.Scatter(name="ambient °C", mode="lines", line={"color": "#bc4c00", "dash": "dot"})
    return trace, f"%{{x}}:00  %{{y:.1f}} {units_of(ds['ambient_temp_c']).replace('degC', '°C')}"


def _day_menu(buttons: list[dict[str, Any]], active: int) -> dict[str, Any]:
    """The drop-down over the representative days, above the top left of the plot."""
    return {
        "type": "dropdown",
        "buttons": buttons,
        "active": active,
        "x": 0.0,
        "xanchor": "left",
        "y": 1.1,
        "yanchor": "bottom",
        "showactive": True,
        "bgcolor": "white",
        "bordercolor": "#8c959f",
        "font": {"size": 12},
    }


def dispatch_figure(ds: xr.Dataset, year: int | None = None, title_prefix: str = "") -> go.Figure:
    """Hourly dispatch of one representative day, with a dropdown over all days.

    Top: supply stack (grid import, each PPA, PV used, battery discharge; battery charging
    below zero) against the facility load. Bottom: the facility load split into IT power
    and cooling power by technology and auxiliary losses, with the ambient temperature on
    the right axis. ``year`` defaults to the last year of the plan.
    """
    years = plan_years(ds)
    year = years[-1] if year is None else int(year)
    title_prefix = plain(title_prefix)
    days = [int(d) for d in ds["day"].values]
    labels = day_labels(ds)
    keep = _dispatch_keep(ds, year)
    start = default_day(ds, year)
    series = {d: [(k, v) for k, v in _dispatch_series(ds, year, d) if k in keep] for d in days}
    fig = subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        row_heights=[0.55, 0.45],
        specs=[[{}], [{"secondary_y": True}]],
        subplot_titles=("Supply against facility load [MW]", "Facility load: IT, cooling and losses [MW]"),
    )
    unit = units_of(ds["facility_power_mw"])
    for key, values in series[days[start]]:
        trace, hover = _dispatch_trace(ds, key)
        trace.update(x=list(range(24)), y=values, hovertemplate=hover + "<extra>%{fullData.name}</extra>")
        if key in ("grid", "pv", "discharge", "charge", "facility") or key.startswith("ppa:"):
            fig.add_trace(trace, row=1, col=1)
        else:
            fig.add_trace(trace, row=2, col=1, secondary_y=key == "temp")

    def title(d: int) -> str:
        return f"{title_prefix}Hourly dispatch {year}: {labels[d]}"

    buttons = [
        {
            "label": labels[i],
            "method": "update",
            "args": [{"y": [v for _, v in series[d]]}, {"title.text": title(i)}],
        }
        for i, d in enumerate(days)
    ]
    fig.update_layout(barmode="relative", updatemenus=[_day_menu(buttons, start)])
    fig.update_xaxes(tickmode="linear", dtick=2, title_text="hour of day", row=2, col=1)
    fig.update_yaxes(title_text=f"power [{unit}]", row=1, col=1)
    fig.update_yaxes(title_text=f"power [{unit}]", rangemode="tozero", row=2, col=1)
    fig.update_yaxes(
        title_text="ambient [°C]", showgrid=False, tickmode="auto", nticks=6, row=2, col=1, secondary_y=True
    )
    layout(fig, title(start), height=640, margin={"t": 120, "r": 20}, legend={**SIDE_LEGEND, "traceorder": "normal"})
    return fig


# ====================================================================== PUE and emissions


def pue_figure(ds: xr.Dataset) -> go.Figure:
    """Hourly PUE (facility / IT power) against ambient temperature, one colour per year.

    Marker size grows with the number of calendar days a representative day stands for; the
    dashed lines are each year's annual PUE cap (the cap bounds the annual PUE, not each hour).
    """
    years = plan_years(ds)
    colours = year_colours(years)
    it = ds["it_power_mw"].sum("cooling")
    pue = (ds["facility_power_mw"] / it.where(it > 1e-9)).transpose("year", "day", "hour")
    temp = ds["ambient_temp_c"].transpose("day", "hour").values
    weights = ds["day_weight"].values
    size = 5 + 7 * np.sqrt(weights / max(float(weights.max()), 1e-9))
    labels = day_labels(ds)
    fig = figure()
    tmin, tmax = float(np.nanmin(temp)), float(np.nanmax(temp))
    caps = ds["pue_max"].values if "pue_max" in ds else np.full(len(years), np.nan)
    for i, y in enumerate(years):
        values = pue.sel(year=y).values
        annual = as_float(ds["pue"].values[i])
        custom = [[labels[d], h] for d in range(values.shape[0]) for h in range(24)]
        fig.add_trace(
            go.Scatter(
                x=numbers(temp, 2),
                y=numbers(values, 4),
                mode="markers",
                name=f"{y} (annual {annual:.3f})",
                legendgroup=str(y),
                marker={
                    "color": colours[y],
                    "size": np.repeat(size, 24).round(1).tolist(),
                    "opacity": 0.65,
                    "line": {"width": 0},
                },
                customdata=custom,
                hovertemplate=f"{y} · %{{customdata[0]}} · %{{customdata[1]}}:00<br>"
                "%{x:.1f} °C → PUE %{y:.3f}<extra></extra>",
            )
        )
        if finite(caps[i]):
            fig.add_trace(
                go.Scatter(
                    x=[tmin, tmax],
                    y=[float(caps[i])] * 2,
                    mode="lines",
                    name=f"{y} annual cap {float(caps[i]):.2f}",
                    legendgroup=str(y),
                    showlegend=False,
                    line={"color": colours[y], "dash": "dash", "width": 1.5},
                    hovertemplate=f"{y} annual PUE cap {float(caps[i]):.3f}<extra></extra>",
                )
            )
    fig.update_xaxes(
        title_text=f"ambient dry-bulb temperature [{units_of(ds['ambient_temp_c']).replace('degC', '°C')}]"
    )
    fig.update_yaxes(title_text="hourly PUE = facility / IT power [1]")
    return layout(fig, "PUE against ambient temperature (dashed: annual cap of the year)", height=440)


def _green_share_traces(fig: go.Figure, ds: xr.Dataset, years: list[int]) -> None:
    """The green share and its minimum, on the right axis."""
    fig.add_trace(
        go.Scatter(
            x=years,
            y=numbers(ds["green_share"].values * 100, 3),
            mode="lines+markers",
            name="green share",
            line={"color": OK_COLOUR, "width": 3},
            hovertemplate="%{x}: %{y:.1f} %<extra>green share</extra>",
        ),
        secondary_y=True,
    )
    if np.isfinite(ds["green_share_min"].values.astype(float)).any():
        fig.add_trace(
            go.Scatter(
                x=years,
                y=numbers(ds["green_share_min"].values * 100, 3),
                mode="lines+markers",
                name="green share minimum",
                line={"color": OK_COLOUR, "dash": "dash", "shape": "hv"},
                marker={"symbol": "line-ew-open", "size": 12},
                hovertemplate="%{x}: ≥ %{y:.1f} %<extra>minimum</extra>",
            ),
            secondary_y=True,
        )


def emissions_figure(ds: xr.Dataset) -> go.Figure:
    """Location- and market-based emissions by year (bars) with the green share and its minimum (right axis)."""
    years = plan_years(ds)
    fig = subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Bar(
            x=years,
            y=numbers(emissions(ds, "location") / 1000, 4),
            name="location-based",
            marker_color="#6e7781",
            hovertemplate="%{x}: %{y:,.1f} kt CO₂<extra>location-based</extra>",
        )
    )
    if "basis" in ds["emissions_t"].dims:
        fig.add_trace(
            go.Bar(
                x=years,
                y=numbers(emissions(ds, "market") / 1000, 4),
                name="market-based",
                marker_color="#afb8c1",
                hovertemplate="%{x}: %{y:,.1f} kt CO₂<extra>market-based</extra>",
            )
        )
    if "carbon_cap_t" in ds and np.isfinite(ds["carbon_cap_t"].values.astype(float)).any():
        fig.add_trace(
            go.Scatter(
                x=years,
                y=numbers(ds["carbon_cap_t"].values / 1000),
                mode="markers",
                name="carbon cap",
                marker={"symbol": "line-ew-open", "size": 24, "color": BAD_COLOUR, "line": {"width": 3}},
            )
        )
    _green_share_traces(fig, ds, years)
    fig.update_layout(barmode="group")
    year_axis(fig, years)
    fig.update_yaxes(title_text="emissions [kt CO₂/year]", rangemode="tozero", secondary_y=False)
    fig.update_yaxes(
        title_text="green share [%]", range=[0, 105], dtick=20, tickmode="linear", showgrid=False, secondary_y=True
    )
    return layout(fig, "Emissions and green power share", height=400)
