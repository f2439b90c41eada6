"""The policy figure of a plan: PUE, green and domestic shares, compute and emissions by year against their limits.

A pure function ``Dataset -> plotly Figure``; the limits are :data:`planner.report.tables.LIMITS`.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import xarray as xr

from planner.report.data import plan_years
from planner.report.format import numbers
from planner.report.limits import badges
from planner.report.style import BAD_COLOUR, LIMIT_COLOUR, OK_COLOUR, has_data, layout, subplots, year_axis
from planner.report.tables import LIMITS, achieved, holds, limit_values

__all__ = ["BINDING_COLOUR", "KEY", "TITLE", "compliance_figure"]

#: Marker colour of a limit that binds (the colour of a binding badge in the policy table).
BINDING_COLOUR = "#bc4c00"
#: The figure's title, and its subtitle: the key of the achieved values' markers (the title alone fits
#: an 800-px page, :data:`planner.report.style.TITLE_CHARS_800PX`).
TITLE = "Policy limits by year: achieved against the limit"
KEY = "achieved: ● green = headroom, ◆ orange = binding, ✗ red = missed"

_TITLES = {
    "pue_max": "PUE [1] ≤ cap",
    "green_share_min": "Green share [%] ≥ min",
    "domestic_compute_share_min": "Domestic share [%] ≥ min",
    "installed_eflops_min": "Compute [EFLOPS] ≥ target",
    "carbon_cap_t": "Emissions [kt CO₂] ≤ cap",
}


def compliance_figure(ds: xr.Dataset) -> go.Figure:
    """Achieved PUE, green share, domestic share and installed EFLOPS by year against their limits."""
    shown = [lim for lim in LIMITS if lim.key != "carbon_cap_t" or np.isfinite(limit_values(ds, lim)).any()]
    fig = subplots(rows=1, cols=len(shown), subplot_titles=[_TITLES[x.key] for x in shown], horizontal_spacing=0.06)
    years = plan_years(ds)
    marks = badges(ds)
    listed: set[str] = set()  # legend groups with an entry: the first panel with data gives it
    for col, lim in enumerate(shown, start=1):
        scale = 100.0 if lim.kind == "share" else (1e-3 if lim.kind == "t" else 1.0)
        values = achieved(ds, lim)
        bounds = limit_values(ds, lim)
        ok = [holds(v, b, lim.upper) for v, b in zip(values, bounds, strict=True)]
        binds = [marks[(lim.key, y)].state == "binding" for y in years]
        colours = [
            LIMIT_COLOUR if o is None else (BAD_COLOUR if not o else (BINDING_COLOUR if b else OK_COLOUR))
            for o, b in zip(ok, binds, strict=True)
        ]
        symbols = ["x" if o is False else ("diamond" if b else "circle") for o, b in zip(ok, binds, strict=True)]
        fig.add_trace(
            go.Scatter(
                x=years,
                y=numbers(values * scale),
                mode="lines+markers",
                name="achieved",
                legendgroup="achieved",
                showlegend=_first_entry(listed, "achieved", values),
                line={"color": "#0969da", "width": 2},
                marker={"color": colours, "size": 10, "symbol": symbols, "line": {"width": 1, "color": "white"}},
                customdata=[marks[(lim.key, y)].text for y in years],
                hovertemplate="%{x}: %{y:.4g} (%{customdata})<extra>achieved</extra>",
            ),
            row=1,
            col=col,
        )
        if np.isfinite(bounds).any():
            fig.add_trace(
                go.Scatter(
                    x=years,
                    y=numbers(bounds * scale),
                    mode="lines+markers",
                    name="limit",
                    legendgroup="limit",
                    showlegend=_first_entry(listed, "limit", bounds),
                    line={"color": LIMIT_COLOUR, "dash": "dash", "shape": "hv"},
                    marker={"symbol": "line-ew-open", "size": 12, "color": LIMIT_COLOUR},
                    hovertemplate="%{x}: %{y:.4g}<extra>limit</extra>",
                ),
                row=1,
                col=col,
            )
    year_axis(fig, years)
    fig.update_xaxes(dtick=1)
    return layout(fig, TITLE, subtitle=KEY, height=350)


def _first_entry(listed: set[str], group: str, values: np.ndarray) -> bool:
    """Whether a trace gives its legend group's entry: the first of the group with data (non-zero values)."""
    if group in listed or not has_data(values):
        return False
    listed.add(group)
    return True
