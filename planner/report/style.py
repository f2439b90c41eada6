"""The look of every chart: fonts, colours, the slim plotly template, and the layout, legend and menu helpers.

Every figure starts from :func:`figure` (or :func:`subplots`) and ends in :func:`layout`, so all
charts share a font, a title position and a legend under the plot; colours of server types,
cooling technologies, cost groups and years are picked here, once. A figure of panels whose
legends explain some panels only gives each its own legend beside them (:func:`row_legend`,
:func:`panel_legend`), and a legend lists only traces with data (:func:`has_data`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
import xarray as xr
from plotly.colors import qualitative, sample_colorscale, sequential
from plotly.subplots import make_subplots

from planner.report.data import coord_names, domestic_flags

__all__ = [
    "ASSET_COLOURS",
    "BAD_COLOUR",
    "COOLING_COLOURS",
    "COST_GROUPS",
    "DOMESTIC_COLOURS",
    "FONT",
    "IMPORTED_COLOURS",
    "LIMIT_COLOUR",
    "OK_COLOUR",
    "OTHER_GROUP",
    "PPA_COLOURS",
    "SIDE_LEGEND",
    "SLIM_TEMPLATE",
    "SUPPLY_COLOURS",
    "TITLE_CHARS_800PX",
    "accelerator_colours",
    "accelerator_legend_title",
    "colourscale",
    "component_colours",
    "cooling_colours",
    "cost_group",
    "empty_figure",
    "figure",
    "has_data",
    "layout",
    "menu",
    "menu_label",
    "note_empty",
    "origin_colours",
    "palette",
    "panel_legend",
    "row_legend",
    "subplots",
    "year_axis",
    "year_colours",
]

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
SIDE_LEGEND = {"orientation": "v", "y": 1.0, "x": 1.02, "xanchor": "left", "yanchor": "top"}
OK_COLOUR, BAD_COLOUR, LIMIT_COLOUR = "#1a7f37", "#cf222e", "#57606a"
SUPPLY_COLOURS = {
    "grid": "#8c959f",
    "pv": "#f2b705",
    "discharge": "#2da44e",
    "charge": "#a6e3b8",
}
PPA_COLOURS = ["#0969da", "#0a3069", "#3192aa", "#6639ba"]
COOLING_COLOURS = ["#b392f0", "#1b7c83", "#bf3989", "#fb8f44", "#8c959f"]
IMPORTED_COLOURS = ["#0550ae", "#218bff", "#80ccff", "#0a3069", "#54aeff", "#b6e3ff"]
DOMESTIC_COLOURS = ["#fb8f44", "#953800", "#d4a72c", "#ffb77c", "#bc4c00", "#7d4e00", "#ffd8b5"]
#: Cost groups of the stacked cost bars: (group label, colour, component-name prefixes), in stack order.
COST_GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("servers", "#0969da", ("servers_", "fixed_om_existing_servers")),
    ("racks and halls", "#8250df", ("racks_", "halls_", "fixed_om_existing_facility")),
    ("cooling plant", "#1b7c83", ("cooling_", "fixed_om_existing_cooling")),
    (
        "grid, PV, battery, gensets",
        "#fb8f44",
        ("grid_capital", "pv_", "battery_", "generators_", "fixed_om_existing_power"),
    ),
    ("grid energy and charges", "#6e7781", ("grid_energy", "grid_fixed")),
    ("green power (PPA, certificates)", "#2da44e", ("ppa_", "certificates")),
    ("carbon", "#424a53", ("carbon",)),
    ("national network (lease, sale)", "#bf8700", ("network_",)),
    ("shortfall penalties", "#cf222e", ("shortfall_",)),
)
OTHER_GROUP = ("other", "#afb8c1")
#: Asset classes of the capital spent (``capital_spent_cny``), in the hues of their cost groups.
ASSET_COLOURS = {
    "servers": "#0969da",
    "racks": "#8250df",
    "halls": "#c297ff",
    "cooling_plant": "#1b7c83",
    "grid": "#fb8f44",
    "pv": "#f2b705",
    "battery": "#2da44e",
    "generators": "#953800",
}

#: A slim white template (plotly_white's look), set once per figure instead of the full default template,
#: which plotly deep-copies into every figure and every page (slow, and kilobytes per chart).
_GRID = "#e5e9f0"
SLIM_TEMPLATE: dict[str, Any] = {
    "layout": {
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "colorway": list(qualitative.Plotly),
        "hovermode": "closest",
        "hoverlabel": {"align": "left"},
        "font": {"color": "#2a3f5f"},
        "xaxis": {
            "gridcolor": _GRID,
            "linecolor": _GRID,
            "zerolinecolor": _GRID,
            "ticks": "",
            "automargin": True,
            "title": {"standoff": 10},
        },
        "yaxis": {
            "gridcolor": _GRID,
            "linecolor": _GRID,
            "zerolinecolor": _GRID,
            "zerolinewidth": 2,
            "ticks": "",
            "automargin": True,
            "title": {"standoff": 10},
        },
    }
}


# ====================================================================== figures and layout


def figure() -> go.Figure:
    """An empty figure with the slim template (no copy of plotly's default template)."""
    return go.Figure(layout={"template": SLIM_TEMPLATE})


#: Characters of a subplot title that fit over one panel of a row of three on an 800-px page (a
#: panel is about 220 px wide; the titles are 14-px text).
TITLE_CHARS_800PX_3 = 26
#: Characters of a figure's title that fit on one line across a chart on an 800-px page (the chart is
#: about 750 px wide; the title is 16-px text): the budget of :data:`TITLE_CHARS_800PX_3` scaled to the
#: width and the font size. Say more in a subtitle (:func:`layout`; 12-px text, 4/3 of the budget).
TITLE_CHARS_800PX = TITLE_CHARS_800PX_3 * 750 * 14 // (220 * 16)
#: Top margin a subtitle adds [px]: one line of 12-px text and its gap under the title.
_SUBTITLE_LINE = 20


def subplots(side_legend: bool = False, **kwargs: Any) -> go.Figure:
    """``make_subplots`` on a figure with the slim template; titles over narrow panels wrap (:func:`wrap_title`).

    With ``side_legend`` (legends at the right of the rows, :func:`row_legend`) the panels are
    narrower: titles wrap as if there were one column more.
    """
    cols = int(kwargs.get("cols", 1)) + int(side_legend)
    if kwargs.get("subplot_titles") and cols >= 3:
        kwargs["subplot_titles"] = [wrap_title(t, cols) for t in kwargs["subplot_titles"]]
    return make_subplots(figure=figure(), **kwargs)


def wrap_title(title: str, cols: int) -> str:
    """A subplot title broken onto two lines when it is too long for one of ``cols`` panels at 800 px.

    Before the unit when both lines then fit (``"Accelerators installed<br>[accelerators]"``), else
    at the space that makes the longer line shortest when both fit (``"Racks by<br>cooling [racks]"``
    over narrower panels); when no break fits, before the unit, else at the space that makes the
    longer line shortest. A title that already has a line break, or has no space, is left alone.
    """
    limit = TITLE_CHARS_800PX_3 * 3 // cols
    if "<br>" in title or len(title) <= limit:
        return title
    spaces = [i for i, ch in enumerate(title) if ch == " "]
    if not spaces:
        return title
    unit = title.find(" [")
    longer = {i: max(i, len(title) - i - 1) for i in spaces}
    cut = min(spaces, key=lambda i: (longer[i] > limit, i != unit, longer[i], -i))
    return f"{title[:cut]}<br>{title[cut + 1 :]}"


def layout(fig: go.Figure, title: str, height: int = 420, subtitle: str = "", **kwargs: Any) -> go.Figure:
    """The house style: title top left (a ``subtitle`` in small grey text under it), legend in a row
    under the plot, white template.

    A subplot title wrapped onto two lines (:func:`wrap_title`) gets one line more of top margin,
    so that it stays clear of the figure's title, and so does a subtitle. A title fits an 800-px
    page in :data:`TITLE_CHARS_800PX` characters: a key or a note that does not goes in the subtitle.
    """
    wrapped = any("<br>" in str(a.text) and a.yref == "paper" for a in fig.layout.annotations or ())
    top = (78 if wrapped else 60) + (_SUBTITLE_LINE if subtitle else 0)
    margin = {"l": 60, "r": 20, "t": top, "b": 40, **kwargs.pop("margin", {})}
    legend = {
        "orientation": "h",
        "yanchor": "top",
        "y": -0.12,
        "x": 0.0,
        "xanchor": "left",
        "traceorder": "normal",
        **kwargs.pop("legend", {}),
    }
    fig.update_layout(
        title={
            "text": title,
            "x": 0.0,
            "xanchor": "left",
            "y": 0.985,
            "yref": "container",
            "yanchor": "top",
            "font": {"size": 16},
            **({"subtitle": {"text": subtitle, "font": {"size": 12, "color": LIMIT_COLOUR}}} if subtitle else {}),
        },
        font={"family": FONT, "size": 12},
        height=height,
        margin=margin,
        legend=legend,
        hoverlabel={"namelength": -1},
        **kwargs,
    )
    return fig


def has_data(*values: Any, tol: float = 1e-9) -> bool:
    """Whether any of the arrays holds a finite number other than 0 (a trace worth a legend entry)."""
    for v in values:
        a = np.asarray(v, dtype=float)
        if np.any(np.isfinite(a) & (np.abs(a) > tol)):
            return True
    return False


#: Gap between the plot area's right edge and a legend beside a row of panels [fraction of the plot width].
LEGEND_GAP = 0.02


def row_legend(fig: go.Figure, row: int, **kwargs: Any) -> dict[str, Any]:
    """Layout of a legend at the right of one row of panels, its top level with the row's top.

    Paper coordinates: ``y`` is the top of the row's y-axis domain, so the legend's entries run
    down beside the row's panels. Put the row's legended panels in its last columns (next to it).
    """
    top = fig.get_subplot(row, 1).yaxis.domain[1]  # the panels of a row share their y domain
    return {
        "orientation": "v",
        "x": 1 + LEGEND_GAP,
        "xanchor": "left",
        "y": top,
        "yanchor": "top",
        "yref": "paper",
        "traceorder": "normal",
        **kwargs,
    }


def panel_legend(fig: go.Figure, row: int, col: int, **kwargs: Any) -> dict[str, Any]:
    """Layout of a legend under one panel of a single row, starting at the panel's left edge."""
    sub = fig.get_subplot(row, col)
    return {"orientation": "h", "x": sub.xaxis.domain[0], "xanchor": "left", "y": -0.12, "yanchor": "top", **kwargs}


def year_axis(fig: go.Figure, years: Sequence[int], **where: Any) -> None:
    """One tick per planning year, labelled with the year."""
    fig.update_xaxes(tickmode="array", tickvals=list(years), ticktext=[str(y) for y in years], **where)


def note_empty(fig: go.Figure, row: int, col: int, text: str) -> None:
    """Write ``text`` in the middle of an empty subplot.

    Paper coordinates: an annotation on an axis without traces upsets plotly.js.
    """
    sub = fig.get_subplot(row, col)
    x0, x1 = sub.xaxis.domain
    y0, y1 = sub.yaxis.domain
    fig.add_annotation(
        text=text,
        showarrow=False,
        xref="paper",
        yref="paper",
        x=(x0 + x1) / 2,
        y=(y0 + y1) / 2,
        font={"color": LIMIT_COLOUR, "size": 13},
    )


def empty_figure(title: str, text: str) -> go.Figure:
    """A short figure without axes that says why there is nothing to draw."""
    fig = figure()
    fig.add_annotation(text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return layout(fig, title, height=200)


def menu_label(text: str, x: float, y: float) -> dict[str, Any]:
    """The label left of a drop-down menu (an annotation in paper coordinates)."""
    return {
        "text": text,
        "showarrow": False,
        "xref": "paper",
        "yref": "paper",
        "x": x,
        "y": y,
        "xanchor": "right",
        "yanchor": "middle",
        "font": {"size": 12, "color": LIMIT_COLOUR},
    }


def menu(buttons: list[dict[str, Any]], x: float, y: float, active: int = 0) -> dict[str, Any]:
    """A drop-down menu above the plot."""
    return {
        "type": "dropdown",
        "buttons": buttons,
        "active": active,
        "x": x,
        "y": y,
        "xanchor": "left",
        "yanchor": "middle",
        "showactive": True,
        "pad": {"l": 0, "r": 0, "t": 0, "b": 0},
        "bgcolor": "white",
        "bordercolor": "#d0d7de",
        "font": {"size": 12},
    }


# ====================================================================== colours


def palette(n: int) -> list[str]:
    """``n`` distinct colours (repeating after 20)."""
    base = qualitative.Plotly + qualitative.D3
    return [base[i % len(base)] for i in range(n)]


def colourscale(name: str) -> list[list[Any]]:
    """A sequential plotly colour scale as [position, colour] pairs, light for low values."""
    colours = list(getattr(sequential, name, sequential.Viridis))
    if name == "Viridis":
        colours = colours[::-1]
    n = len(colours) - 1
    return [[i / n, c] for i, c in enumerate(colours)]


def year_colours(years: Sequence[int]) -> dict[int, str]:
    """One colour per year, light (first) to dark (last)."""
    if len(years) == 1:
        return {int(years[0]): "#0969da"}
    points = [0.15 + 0.75 * i / (len(years) - 1) for i in range(len(years))]
    return {int(y): c for y, c in zip(years, sample_colorscale("Viridis", points), strict=True)}


def origin_colours(flags: dict[str, bool | None]) -> dict[str, str]:
    """One colour per server type from whether it is domestic: warm colours for domestic, blues for imported.

    When no type's origin is known, a plain palette.
    """
    if all(v is None for v in flags.values()):
        return dict(zip(flags, palette(len(flags)), strict=True))
    out: dict[str, str] = {}
    n_dom = n_imp = 0
    for a, dom in flags.items():
        if dom:
            out[a] = DOMESTIC_COLOURS[n_dom % len(DOMESTIC_COLOURS)]
            n_dom += 1
        else:
            out[a] = IMPORTED_COLOURS[n_imp % len(IMPORTED_COLOURS)]
            n_imp += 1
    return out


def accelerator_colours(ds: xr.Dataset) -> dict[str, str]:
    """One colour per server type of a plan: domestic types in warm colours, imported ones in blues."""
    return origin_colours(domestic_flags(ds))


def accelerator_legend_title(ds: xr.Dataset) -> str:
    """Legend title explaining the colours of the server types."""
    if all(v is None for v in domestic_flags(ds).values()):
        return "server type:"
    return "server type (warm: domestic, blue: imported):"


def cooling_colours(ds: xr.Dataset) -> dict[str, str]:
    """One colour per cooling technology."""
    names = coord_names(ds, "cooling")
    return {c: COOLING_COLOURS[i % len(COOLING_COLOURS)] for i, c in enumerate(names)}


def cost_group(component: str) -> tuple[str, str]:
    """(group label, colour) of a cost component."""
    for group, colour, prefixes in COST_GROUPS:
        if component.startswith(prefixes):
            return group, colour
    return OTHER_GROUP


def component_colours(components: Sequence[str]) -> dict[str, str]:
    """Each component in its cost group's colour."""
    return {c: cost_group(c)[1] for c in components}
