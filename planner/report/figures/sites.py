"""Figures of a plan's sites (start areas): a schematic of what each site holds in a year, and each
site's build-out against its own limits, by year.

Pure functions of :func:`planner.report.sites.site_rows` (figures by site and year) and the plan's years.
The schematic is drawn on blank axes (no map tiles: the report stays offline): the sites on a circle
around the cluster's demand, each a disc whose area is its compute in service and whose line to the
centre is as wide as its share of the cluster's IT energy; the other hub nodes of the national network
in a column to the right, each a square with a dashed line to the centre as wide as the compute leased
from and sold to it, relative to the cluster's own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from planner.report.figures.dispatch import year_buttons
from planner.report.format import fmt_num
from planner.report.sites import HubYear, SiteYear
from planner.report.style import LIMIT_COLOUR, figure, layout, palette, subplots, year_axis

__all__ = ["site_build_figure", "site_colours", "site_schematic_figure"]

#: The largest disc of the schematic [px of diameter]; the others scale by area.
_MAX_DISC_PX = 70.0
#: The widest line from a site to the centre [px].
_MAX_LINE_PX = 14.0
#: The centre of the schematic: the cluster's demand, which any site may serve.
_CENTRE_TEXT = "cluster demand<br>(training anywhere,<br>inference)"
_CENTRE_SIZE = 14
#: Where the hubs stand: a column right of the sites' circle (x), spread over this height (y).
_HUB_X = 2.35
_HUB_SPREAD = 1.5
#: The hubs' colour (they are not the cluster's).
_HUB_COLOUR = "#7f7f7f"


def site_colours(rows: Sequence[SiteYear]) -> dict[str, str]:
    """One colour per site, in site order."""
    return dict(zip([r.site for r in rows], palette(len(rows)), strict=True))


def _limit(value: float) -> str:
    return "no limit" if not math.isfinite(value) else fmt_num(value)


def _site_text(r: SiteYear, i: int) -> str:
    """The label of site ``r`` in year index ``i``: compute, land, grid, PUE."""
    pue = "–" if not np.isfinite(r.pue[i]) else f"{r.pue[i]:.3f}"
    return (
        f"<b>{r.site}</b><br>{fmt_num(r.eflops[i])} EFLOPS · {fmt_num(r.servers[i])} servers"
        f"<br>halls {fmt_num(r.halls[i])} / {_limit(r.max_halls)} · blocks {fmt_num(r.grid_blocks[i])} / "
        f"{_limit(r.max_grid_blocks)}<br>peak {fmt_num(r.peak_import_mw[i])} of {fmt_num(r.firm_mw[i])} MW firm"
        f" · PUE {pue}"
    )


def _year_state(rows: Sequence[SiteYear], i: int) -> dict[str, Any]:
    """Disc sizes, line widths and labels of the schematic in year index ``i``."""
    peak = max((float(np.nanmax(r.eflops)) for r in rows), default=0.0) or 1.0
    total_it = sum(float(r.it_gwh[i]) for r in rows) or 1.0
    return {
        "size": [max(6.0, _MAX_DISC_PX * math.sqrt(max(float(r.eflops[i]), 0.0) / peak)) for r in rows],
        "width": [max(0.5, _MAX_LINE_PX * max(float(r.it_gwh[i]), 0.0) / total_it) for r in rows],
        "text": [_site_text(r, i) for r in rows],
    }


def _hub_text(h: HubYear, i: int) -> str:
    """The label of hub ``h`` in year index ``i``: compute leased from it and sold to it."""
    flows = []
    if h.leased_pflops[i] > 0:
        flows.append(f"leased {fmt_num(h.leased_pflops[i])} PFLOPS")
    if h.sold_pflops[i] > 0:
        flows.append(f"sold {fmt_num(h.sold_pflops[i])} PFLOPS")
    return f"<b>{h.hub}</b> (hub)<br>{' · '.join(flows) if flows else 'no lease or sale'}"


def _hub_state(rows: Sequence[SiteYear], hubs: Sequence[HubYear], i: int) -> dict[str, Any]:
    """Line widths and labels of the hubs in year index ``i``: a line as wide as the compute leased
    and sold, as a share of the cluster's own compute in service that year (at most the widest).
    """
    own = sum(float(r.eflops[i]) for r in rows) * 1000.0 or 1.0  # [PFLOPS]
    flow = [float(h.leased_pflops[i] + h.sold_pflops[i]) for h in hubs]
    return {
        "width": [0.0 if f <= 0 else max(0.5, min(_MAX_LINE_PX, _MAX_LINE_PX * f / own)) for f in flow],
        "text": [_hub_text(h, i) for h in hubs],
    }


def site_schematic_figure(rows: Sequence[SiteYear], years: Sequence[int], hubs: Sequence[HubYear] = ()) -> go.Figure:
    """The sites around the cluster's demand in a year (buttons switch the year; the last is shown).

    Disc area: compute in service [EFLOPS], to one scale over every year; line width: the site's
    share of the cluster's IT energy that year; label: compute, servers, halls and grid blocks
    against the site's limits, the peak flow through its connection against its N-k capacity [MW],
    and its PUE over the year. ``hubs`` (other hub nodes) stand in a column to the right: a dashed
    line to the centre as wide as the compute leased from and sold to the hub, as a share of the
    cluster's own compute in service (none when nothing flows), labelled with both [PFLOPS].
    """
    fig = figure()
    n = len(rows)
    colours = site_colours(rows)
    angles = [math.pi / 2 - 2 * math.pi * k / n for k in range(n)]
    xs, ys = [math.cos(a) for a in angles], [math.sin(a) for a in angles]
    last = len(years) - 1
    state = _year_state(rows, last)
    # One line per site (its width is the site's share of IT energy), then the discs, then the centre.
    for k, r in enumerate(rows):
        fig.add_trace(
            go.Scatter(
                x=[0.0, xs[k]],
                y=[0.0, ys[k]],
                mode="lines",
                line={"color": colours[r.site], "width": state["width"][k]},
                opacity=0.5,
                hoverinfo="skip",
                showlegend=False,
            )
        )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="markers+text",
            marker={"size": state["size"], "color": [colours[r.site] for r in rows], "line": {"color": "white"}},
            text=state["text"],
            textposition=["top center" if y >= 0 else "bottom center" for y in ys],
            textfont={"size": 11},
            hovertext=state["text"],
            hoverinfo="text",
            showlegend=False,
            cliponaxis=False,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[0.0],
            y=[0.0],
            mode="markers+text",
            marker={"size": _CENTRE_SIZE, "color": LIMIT_COLOUR, "symbol": "diamond"},
            text=[_CENTRE_TEXT],
            textposition="middle right",
            textfont={"size": 11, "color": LIMIT_COLOUR},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    m = len(hubs)
    hub_ys = [_HUB_SPREAD / 2 - _HUB_SPREAD * k / (m - 1) if m > 1 else 0.0 for k in range(m)]
    hub_state = _hub_state(rows, hubs, last)
    for k in range(m):
        fig.add_trace(
            go.Scatter(
                x=[0.0, _HUB_X],
                y=[0.0, hub_ys[k]],
                mode="lines",
                line={"color": _HUB_COLOUR, "width": hub_state["width"][k], "dash": "dash"},
                opacity=0.6,
                hoverinfo="skip",
                showlegend=False,
            )
        )
    if m:
        fig.add_trace(
            go.Scatter(
                x=[_HUB_X] * m,
                y=hub_ys,
                mode="markers+text",
                marker={"size": 16, "color": _HUB_COLOUR, "symbol": "square"},
                text=hub_state["text"],
                textposition="middle right",
                textfont={"size": 11},
                hovertext=hub_state["text"],
                hoverinfo="text",
                showlegend=False,
                cliponaxis=False,
            )
        )
    # Buttons: restyle the lines' widths and the discs' sizes and labels for each year (the hubs'
    # lines and labels too, after the centre).
    args = []
    for i in range(len(years)):
        s = _year_state(rows, i)
        h = _hub_state(rows, hubs, i)
        widths: list[Any] = [{"width": w, "color": colours[r.site]} for w, r in zip(s["width"], rows, strict=True)]
        hub_lines: list[Any] = [{"width": w, "color": _HUB_COLOUR, "dash": "dash"} for w in h["width"]]
        hub_marks: list[Any] = [None] if m else []
        args.append(
            [
                {
                    "line": [*widths, None, None, *hub_lines, *hub_marks],
                    "marker.size": [None] * n + [s["size"], _CENTRE_SIZE] + [None] * m + hub_marks,
                    "text": [None] * n + [s["text"], [_CENTRE_TEXT]] + [None] * m + ([h["text"]] if m else []),
                    "hovertext": [None] * n + [s["text"], None] + [None] * m + ([h["text"]] if m else []),
                },
                {},
            ]
        )
    fig.update_layout(updatemenus=[year_buttons(list(years), args, active=last)])
    axis = {"visible": False, "range": [-1.9, 1.9], "fixedrange": True}
    fig.update_xaxes(**{**axis, "range": [-1.9, 3.6 if m else 1.9]})
    fig.update_yaxes(**axis, scaleanchor="x", scaleratio=1)
    return layout(
        fig,
        "Sites: what each start area holds",
        height=560,
        subtitle="disc area: compute in service; line width: share of the cluster's IT energy"
        + ("; dashed: compute leased from or sold to another hub, as a share of the cluster's own" if m else ""),
        margin={"l": 20, "r": 20, "b": 20},
    )


def site_build_figure(rows: Sequence[SiteYear], years: Sequence[int]) -> go.Figure:
    """Each site's build-out by year against its own limits: compute [EFLOPS], halls against land
    [halls], peak flow against the connection's N-k capacity [MW], PUE over the year [-].
    """
    colours = site_colours(rows)
    titles = [
        "Compute in service [EFLOPS]",
        "Halls (outline: land) [halls]",
        "Peak import (outline: N-k) [MW]",
        "PUE over the year [-]",
    ]
    fig = subplots(rows=2, cols=2, subplot_titles=titles, vertical_spacing=0.16, horizontal_spacing=0.1)
    x = [str(y) for y in years]
    for r in rows:
        c = colours[r.site]
        fig.add_trace(
            go.Bar(x=x, y=r.eflops, name=r.site, legendgroup=r.site, marker_color=c, offsetgroup=r.site),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Bar(
                x=x, y=r.halls, name=r.site, legendgroup=r.site, marker_color=c, offsetgroup=r.site, showlegend=False
            ),
            row=1,
            col=2,
        )
        if math.isfinite(r.max_halls):
            fig.add_trace(_limit_marks(x, [r.max_halls] * len(x), r.site, c, "land"), row=1, col=2)
        fig.add_trace(
            go.Bar(
                x=x,
                y=r.peak_import_mw,
                name=r.site,
                legendgroup=r.site,
                marker_color=c,
                offsetgroup=r.site,
                showlegend=False,
            ),
            row=2,
            col=1,
        )
        fig.add_trace(_limit_marks(x, list(r.firm_mw), r.site, c, "N-k capacity"), row=2, col=1)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[None if not np.isfinite(v) else round(float(v), 4) for v in r.pue],
                name=r.site,
                legendgroup=r.site,
                mode="lines+markers",
                line={"color": c},
                showlegend=False,
            ),
            row=2,
            col=2,
        )
    fig.update_layout(barmode="group")
    for row, col in ((1, 1), (1, 2), (2, 1), (2, 2)):
        year_axis(fig, years, row=row, col=col)
    return layout(fig, "Sites by year, against their own limits", height=640, legend={"y": -0.08})


def _limit_marks(x: list[str], values: list[float], site: str, colour: str, what: str) -> go.Bar:
    """A site's limit as an empty bar drawn over the site's own bar (the same offset group)."""
    return go.Bar(
        x=x,
        y=values,
        offsetgroup=site,
        marker={"color": "rgba(0,0,0,0)", "line": {"color": colour, "width": 1.5}},
        name=f"{site} {what}",
        legendgroup=site,
        showlegend=False,
        hovertemplate=f"{site} {what}: %{{y:,.4g}}<extra></extra>",
    )
