"""Figures and tables of a plan: pure functions of the results Dataset (DESIGN.md §4–§5).

Every ``*_figure`` function takes a Dataset (or two, for comparisons) and returns a
``plotly.graph_objects.Figure``; the table helpers return plain dataclasses. Nothing here
reads or writes files: :mod:`planner.report.html` is the one place that writes HTML.

Labels use the Dataset's own vocabulary (``year``, ``accelerator``, ``cooling``, ``day``,
``hour``) and axis titles carry the units from each variable's ``attrs["units"]``. Money is
shown in M CNY or bn CNY, picked from the size of the numbers.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import plotly.graph_objects as go
import xarray as xr
from plotly.colors import qualitative, sample_colorscale
from plotly.subplots import make_subplots

__all__ = [
    "LIMITS",
    "BuildRow",
    "ComplianceRow",
    "DeltaRow",
    "Kpi",
    "build_rows",
    "build_totals",
    "compare_build_rows",
    "compare_builds_figure",
    "compare_cost_figure",
    "compare_facility_figure",
    "compare_kpis",
    "compare_npv_figure",
    "compare_policy_figure",
    "compliance_figure",
    "compliance_rows",
    "compliance_table",
    "cost_figure",
    "cost_rows",
    "day_labels",
    "dispatch_figure",
    "emissions_figure",
    "facility_figure",
    "has_shortfall",
    "headline",
    "installed_figure",
    "new_servers_figure",
    "npv_figure",
    "pue_figure",
    "shadow_price_figure",
    "shortfall_figure",
    "solver_rows",
    "timings",
    "utilisation_figure",
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
    ("shortfall penalties", "#cf222e", ("shortfall_",)),
)
OTHER_GROUP = ("other", "#afb8c1")


# ====================================================================== helpers


def _units(da: xr.DataArray) -> str:
    return str(da.attrs.get("units", ""))


def _years(ds: xr.Dataset) -> list[int]:
    return [int(y) for y in ds["year"].values]


def _names(ds: xr.Dataset, dim: str) -> list[str]:
    return [str(v) for v in ds[dim].values] if dim in ds.coords else []


def _finite(x: Any) -> bool:
    try:
        return bool(np.isfinite(float(x)))
    except (TypeError, ValueError):
        return False


def as_float(x: Any) -> float:
    """A plain float (NaN for missing)."""
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


def _list(values: Any, digits: int = 6) -> list[float | None]:
    """Plain JSON-friendly numbers (None for NaN), rounded to keep the page small."""
    out: list[float | None] = []
    for v in np.asarray(values, dtype=float).ravel():
        out.append(None if not np.isfinite(v) else float(np.round(v, digits)))
    return out


def money_scale(values: Any) -> tuple[float, str]:
    """Divisor and unit label for CNY amounts of the size of ``values``."""
    arr = np.abs(np.asarray(values, dtype=float))
    peak = float(np.nanmax(arr)) if arr.size and np.isfinite(arr).any() else 0.0
    if peak >= 1e9:
        return 1e9, "bn CNY"
    if peak >= 1e6:
        return 1e6, "M CNY"
    if peak >= 1e3:
        return 1e3, "k CNY"
    return 1.0, "CNY"


def fmt_money(value: float) -> str:
    """``1.234 bn CNY`` / ``12.3 M CNY`` / ``950 CNY``."""
    if not _finite(value):
        return "–"
    scale, unit = money_scale([value])
    return f"{value / scale:,.3g} {unit}" if abs(value / scale) < 100 else f"{value / scale:,.0f} {unit}"


def fmt_num(value: float, digits: int = 3) -> str:
    """Compact number: 3 significant digits below 1,000, thousands separators above."""
    if not _finite(value):
        return "–"
    value = float(value)
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.{digits}g}"


def fmt_compute(pflops: float) -> str:
    """Installed compute in EFLOPS (PFLOPS below 1 EFLOPS)."""
    if not _finite(pflops):
        return "–"
    return f"{pflops / 1000:,.1f} EFLOPS" if abs(pflops) >= 1000 else f"{fmt_num(pflops)} PFLOPS"


def fmt_mw(value: float) -> str:
    """Power in MW (kW below 1 MW)."""
    if not _finite(value):
        return "–"
    return f"{value:,.1f} MW" if abs(value) >= 1 else f"{fmt_num(value * 1000)} kW"


def fmt_small_share(value: float) -> str:
    """A share that may be tiny: ``12.3 %``, ``0.42 %``, ``0.0026 %``."""
    if not _finite(value):
        return "–"
    pct = 100 * float(value)
    if pct == 0 or abs(pct) >= 10:
        return f"{pct:.1f} %"
    return f"{pct:.2g} %"


def fmt_share(value: float) -> str:
    """A share as a percentage with one decimal."""
    return "–" if not _finite(value) else f"{100 * float(value):.1f} %"


def plain(text: str) -> str:
    """User text made literal for plotly, whose labels understand a little HTML (``<b>``, ``<a>``)."""
    return html.escape(str(text), quote=False)


def _label(name: str) -> str:
    return name.replace("_", " ")


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


def _figure() -> go.Figure:
    """An empty figure with the slim template (no copy of plotly's default template)."""
    return go.Figure(layout={"template": SLIM_TEMPLATE})


def _subplots(**kwargs: Any) -> go.Figure:
    """``make_subplots`` on a figure with the slim template."""
    return make_subplots(figure=_figure(), **kwargs)


def _layout(fig: go.Figure, title: str, height: int = 420, **kwargs: Any) -> go.Figure:
    """The house style: title top left, legend in a row under the plot, white template."""
    margin = {"l": 60, "r": 20, "t": 60, "b": 40, **kwargs.pop("margin", {})}
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
        },
        font={"family": FONT, "size": 12},
        height=height,
        margin=margin,
        legend=legend,
        hoverlabel={"namelength": -1},
        **kwargs,
    )
    return fig


def _year_axis(fig: go.Figure, years: Sequence[int], **where: Any) -> None:
    fig.update_xaxes(tickmode="array", tickvals=list(years), ticktext=[str(y) for y in years], **where)


def _palette(n: int) -> list[str]:
    base = qualitative.Plotly + qualitative.D3
    return [base[i % len(base)] for i in range(n)]


def year_colours(years: Sequence[int]) -> dict[int, str]:
    """One colour per year, light (first) to dark (last)."""
    if len(years) == 1:
        return {int(years[0]): "#0969da"}
    points = [0.15 + 0.75 * i / (len(years) - 1) for i in range(len(years))]
    return {int(y): c for y, c in zip(years, sample_colorscale("Viridis", points), strict=True)}


@lru_cache(maxsize=8)
def _parse_yaml(text: str) -> dict[str, Any]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(text, Loader=loader) or {}  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def scenario_data(ds: xr.Dataset) -> dict[str, Any]:
    """The resolved scenario stored in ``attrs["scenario_yaml"]`` (empty if missing or unreadable; do not modify)."""
    return _parse_yaml(str(ds.attrs.get("scenario_yaml", "")))


def domestic_flags(ds: xr.Dataset) -> dict[str, bool | None]:
    """Whether each server type is domestic (``accelerator_domestic``, else the stored scenario; None: unknown)."""
    if "accelerator_domestic" in ds:
        return {str(a): bool(v) for a, v in zip(ds.accelerator.values, ds["accelerator_domestic"].values, strict=True)}
    accs = scenario_data(ds).get("accelerators") or {}
    out: dict[str, bool | None] = {}
    for a in _names(ds, "accelerator"):
        spec = accs.get(a) if isinstance(accs, dict) else None
        out[a] = bool(spec.get("domestic")) if isinstance(spec, dict) and "domestic" in spec else None
    return out


def accelerator_colours(ds: xr.Dataset) -> dict[str, str]:
    """One colour per server type: domestic types in warm colours, imported ones in blues."""
    flags = domestic_flags(ds)
    if all(v is None for v in flags.values()):
        names = list(flags)
        return dict(zip(names, _palette(len(names)), strict=True))
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


def accelerator_legend_title(ds: xr.Dataset) -> str:
    """Legend title explaining the colours of the server types."""
    if all(v is None for v in domestic_flags(ds).values()):
        return "server type:"
    return "server type (warm: domestic, blue: imported):"


def cooling_colours(ds: xr.Dataset) -> dict[str, str]:
    """One colour per cooling technology."""
    names = _names(ds, "cooling")
    return {c: COOLING_COLOURS[i % len(COOLING_COLOURS)] for i, c in enumerate(names)}


def cost_group(component: str) -> tuple[str, str]:
    """(group label, colour) of a cost component."""
    for label, colour, prefixes in COST_GROUPS:
        if component.startswith(prefixes):
            return label, colour
    return OTHER_GROUP


def component_colours(components: Sequence[str]) -> dict[str, str]:
    """Each component in its cost group's colour."""
    return {c: cost_group(c)[1] for c in components}


def day_labels(ds: xr.Dataset, base_year: int = 2026) -> list[str]:
    """A label per representative day: ``day 3 · 14 Jul · ×31 days`` (date from ``day_of_year``)."""
    out = []
    doy = ds["day_of_year"].values if "day_of_year" in ds else ds["day"].values
    weights = ds["day_weight"].values if "day_weight" in ds else np.ones(ds.sizes["day"])
    for i, d in enumerate(ds["day"].values):
        date = np.datetime64(f"{base_year}-01-01") + np.timedelta64(int(doy[i]), "D")
        text = np.datetime_as_string(date, unit="D")
        month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][int(text[5:7]) - 1]
        out.append(f"day {int(d)} · {int(text[8:10])} {month} · ×{weights[i]:g} d")
    return out


def weighted(da: xr.DataArray, ds: xr.Dataset) -> xr.DataArray:
    """Annual total of an hourly variable: ``Σ_d Σ_h w_d x[d,h]`` (per year where it has one)."""
    return (da * ds["day_weight"]).sum(("day", "hour"))


# ====================================================================== headline and compliance


@dataclass(frozen=True)
class Limit:
    """A policy limit and the KPI it bounds."""

    key: str  #: name in the ``limit`` coordinate of ``shadow_price``
    variable: str  #: Dataset variable holding the limit per year
    label: str
    upper: bool  #: True: achieved <= limit; False: achieved >= limit
    kind: str  #: "ratio", "share", "eflops", "t"


LIMITS: tuple[Limit, ...] = (
    Limit("pue_max", "pue_max", "PUE cap", True, "ratio"),
    Limit("green_share_min", "green_share_min", "Green power share", False, "share"),
    Limit("domestic_compute_share_min", "domestic_compute_share_min", "Domestic compute share", False, "share"),
    Limit("installed_eflops_min", "installed_eflops_min", "Installed compute target", False, "eflops"),
    Limit("carbon_cap_t", "carbon_cap_t", "Carbon cap (priced basis)", True, "t"),
)


def achieved(ds: xr.Dataset, limit: Limit) -> np.ndarray:
    """The KPI a limit bounds, per year, in the limit's own unit."""
    if limit.key == "pue_max":
        return ds["pue"].values.astype(float)
    if limit.key == "green_share_min":
        return ds["green_share"].values.astype(float)
    if limit.key == "domestic_compute_share_min":
        return ds["domestic_share"].values.astype(float)
    if limit.key == "installed_eflops_min":
        return ds["installed_pflops"].values.astype(float) / 1000.0
    return emissions(ds).astype(float)


def emissions(ds: xr.Dataset, basis: str | None = None) -> np.ndarray:
    """Emissions per year [t] of one basis (``location`` / ``market``; default: the one the carbon
    price and cap apply to, as the results record it).
    """
    e = ds["emissions_t"]
    if "basis" not in e.dims:
        return np.asarray(e.values, dtype=float)
    basis = basis or str(e.attrs.get("priced_basis", "location"))
    return np.asarray(e.sel(basis=basis).values, dtype=float)


def limit_values(ds: xr.Dataset, limit: Limit) -> np.ndarray:
    """The limit per year (NaN where not set)."""
    if limit.variable not in ds:
        return np.full(ds.sizes["year"], np.nan)
    return ds[limit.variable].values.astype(float)


def holds(value: float, bound: float, upper: bool) -> bool | None:
    """Whether ``value`` satisfies the limit ``bound`` (None when either is missing)."""
    if not (_finite(value) and _finite(bound)):
        return None
    tol = 1e-6 * max(1.0, abs(bound))
    return bool(value <= bound + tol) if upper else bool(value >= bound - tol)


def fmt_limit_value(value: float, kind: str) -> str:
    """A limit or KPI value in the limit's unit."""
    if not _finite(value):
        return "–"
    if kind == "share":
        return fmt_share(value)
    if kind == "ratio":
        return f"{float(value):.3f}"
    if kind == "eflops":
        return fmt_compute(float(value) * 1000)
    return f"{float(value) / 1000:,.1f} kt"


def _shadow(ds: xr.Dataset, key: str, year: int) -> tuple[float, str]:
    if "shadow_price" not in ds or "limit" not in ds.coords:
        return float("nan"), "not in the results"
    names = [str(v) for v in ds["limit"].values]
    aliases = [key, key.replace("_compute", "")]
    for name in aliases:
        if name in names:
            value = as_float(ds["shadow_price"].sel(limit=name, year=year).values)
            method = (
                str(ds["shadow_price_method"].sel(limit=name, year=year).values) if "shadow_price_method" in ds else ""
            )
            return value, method
    return float("nan"), "not priced"


@dataclass(frozen=True)
class ComplianceRow:
    """One policy limit in one year."""

    key: str
    label: str
    year: int
    kind: str
    upper: bool
    limit: float  #: the limit (NaN: not set)
    achieved: float
    ok: bool | None  #: None when the limit is not set
    shadow_price: float  #: cost of tightening the limit by one step [CNY] (NaN: not priced)
    shadow_price_method: str

    @property
    def sense(self) -> str:
        """``≤`` or ``≥``."""
        return "≤" if self.upper else "≥"


def compliance_rows(ds: xr.Dataset) -> list[ComplianceRow]:
    """Every policy limit in every year: the limit, the value achieved, ✓/✗ and its marginal cost.

    Limits that are set in no year are left out, except the carbon cap, which is left out
    unless set (the other KPIs are shown even without a limit).
    """
    rows: list[ComplianceRow] = []
    for lim in LIMITS:
        bounds = limit_values(ds, lim)
        if lim.key == "carbon_cap_t" and not np.isfinite(bounds).any():
            continue
        values = achieved(ds, lim)
        for i, y in enumerate(_years(ds)):
            price, method = _shadow(ds, lim.key, y)
            rows.append(
                ComplianceRow(
                    lim.key,
                    lim.label,
                    y,
                    lim.kind,
                    lim.upper,
                    float(bounds[i]),
                    float(values[i]),
                    holds(values[i], bounds[i], lim.upper),
                    price,
                    method,
                )
            )
    return rows


def compliance_table(ds: xr.Dataset) -> list[dict[str, Any]]:
    """:func:`compliance_rows` as plain records (limit, year, limit value, achieved, ✓/✗, shadow price, method)."""
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
        for r in compliance_rows(ds)
    ]


@dataclass(frozen=True)
class Kpi:
    """A headline number for a card."""

    label: str
    value: str
    detail: str = ""
    status: str = ""  #: "ok", "bad", "warn" or ""


def _limit_status(ds: xr.Dataset, key: str) -> tuple[str, str]:
    """(status, text) of a limit over all years: ``("ok", "met in all 5 years")``."""
    rows = [r for r in compliance_rows(ds) if r.key == key and r.ok is not None]
    if not rows:
        return "", "no limit set"
    failed = [r.year for r in rows if not r.ok]
    if failed:
        return "bad", "✗ missed in " + ", ".join(str(y) for y in failed)
    return "ok", f"✓ met in all {len(rows)} years with a limit"


def headline(ds: xr.Dataset) -> list[Kpi]:
    """The headline cards: NPV, final-year compute, PUE, green and domestic shares, emissions, solver."""
    years = _years(ds)
    last = years[-1]
    i = len(years) - 1
    out = [
        Kpi(
            "NPV of all costs",
            fmt_money(as_float(ds["npv_cny"].values)),
            f"{years[0]}–{last}, discounted to {years[0]}" if len(years) > 1 else f"{last}",
        )
    ]

    def card(label: str, key: str, text: str) -> Kpi:
        lim = next(x for x in LIMITS if x.key == key)
        bound = limit_values(ds, lim)[i]
        status, overall = _limit_status(ds, key)
        detail = (
            f"{'≤' if lim.upper else '≥'} {fmt_limit_value(bound, lim.kind)} in {last} · {overall}"
            if _finite(bound)
            else overall
        )
        return Kpi(label, text, detail, status)

    pflops = as_float(ds["installed_pflops"].values[i])
    out.append(card(f"Installed compute {last}", "installed_eflops_min", fmt_compute(pflops)))
    out.append(card(f"PUE {last}", "pue_max", f"{as_float(ds['pue'].values[i]):.3f}"))
    out.append(card(f"Green power {last}", "green_share_min", fmt_share(ds["green_share"].values[i])))
    out.append(
        card(f"Domestic compute {last}", "domestic_compute_share_min", fmt_share(ds["domestic_share"].values[i]))
    )
    emis = as_float(emissions(ds, "location")[i])
    market = as_float(emissions(ds, "market")[i]) if "basis" in ds["emissions_t"].dims else float("nan")
    status = ""
    if "carbon_cap_t" in ds and np.isfinite(ds["carbon_cap_t"].values.astype(float)).any():
        status = _limit_status(ds, "carbon_cap_t")[0]
    out.append(
        Kpi(
            f"Emissions {last}",
            f"{emis / 1000:,.1f} kt CO₂",
            f"location-based; market-based {market / 1000:,.1f} kt",
            status,
        )
    )
    peak = as_float(ds["facility_power_mw"].sel(year=last).max().values)
    out.append(
        Kpi(
            f"Peak facility power {last}",
            fmt_mw(peak),
            f"grid connection {fmt_mw(as_float(ds['grid_mw'].values[i]))} (all blocks)",
        )
    )
    solver = str(ds.attrs.get("solver_status", "?"))
    gap = as_float(ds.attrs.get("mip_gap"))
    out.append(
        Kpi(
            "Solver",
            solver,
            f"MIP gap {gap:.2%} · {ds.attrs.get('termination', '')}"
            if _finite(gap)
            else str(ds.attrs.get("termination", "")),
            "ok" if solver == "optimal" else "warn",
        )
    )
    short = shortfall_shares(ds)
    worst_name, worst = max(
        ((name, float(np.nanmax(v)) if np.size(v) else 0.0) for name, v in short.items()), key=lambda kv: kv[1]
    )
    if worst > 1e-6:
        year = years[int(np.nanargmax(short[worst_name]))]
        out.append(
            Kpi(
                "Unmet demand",
                fmt_small_share(worst),
                f"of {worst_name} in {year} (worst year), see Shortfall",
                "bad" if worst > 0.01 else "warn",
            )
        )
    return out


def compliance_figure(ds: xr.Dataset) -> go.Figure:
    """Achieved PUE, green share, domestic share and installed EFLOPS by year against their limits."""
    shown = [lim for lim in LIMITS if lim.key != "carbon_cap_t" or np.isfinite(limit_values(ds, lim)).any()]
    titles = {
        "pue_max": "PUE [1] ≤ cap",
        "green_share_min": "Green share [%] ≥ min",
        "domestic_compute_share_min": "Domestic share [%] ≥ min",
        "installed_eflops_min": "Compute [EFLOPS] ≥ target",
        "carbon_cap_t": "Emissions [kt CO₂] ≤ cap",
    }
    fig = _subplots(rows=1, cols=len(shown), subplot_titles=[titles[x.key] for x in shown], horizontal_spacing=0.06)
    years = _years(ds)
    for col, lim in enumerate(shown, start=1):
        scale = 100.0 if lim.kind == "share" else (1e-3 if lim.kind == "t" else 1.0)
        values = achieved(ds, lim)
        bounds = limit_values(ds, lim)
        ok = [holds(v, b, lim.upper) for v, b in zip(values, bounds, strict=True)]
        colours = [LIMIT_COLOUR if o is None else (OK_COLOUR if o else BAD_COLOUR) for o in ok]
        symbols = ["circle" if o is None else ("circle" if o else "x") for o in ok]
        fig.add_trace(
            go.Scatter(
                x=years,
                y=_list(values * scale),
                mode="lines+markers",
                name="achieved",
                legendgroup="achieved",
                showlegend=col == 1,
                line={"color": "#0969da", "width": 2},
                marker={"color": colours, "size": 10, "symbol": symbols, "line": {"width": 1, "color": "white"}},
                hovertemplate="%{x}: %{y:.4g}<extra>achieved</extra>",
            ),
            row=1,
            col=col,
        )
        if np.isfinite(bounds).any():
            fig.add_trace(
                go.Scatter(
                    x=years,
                    y=_list(bounds * scale),
                    mode="lines+markers",
                    name="limit",
                    legendgroup="limit",
                    showlegend=col == 1,
                    line={"color": LIMIT_COLOUR, "dash": "dash", "shape": "hv"},
                    marker={"symbol": "line-ew-open", "size": 12, "color": LIMIT_COLOUR},
                    hovertemplate="%{x}: %{y:.4g}<extra>limit</extra>",
                ),
                row=1,
                col=col,
            )
    _year_axis(fig, years)
    fig.update_xaxes(dtick=1)
    return _layout(fig, "Policy limits by year: achieved (✓ green, ✗ red) against the limit", height=330)


# ====================================================================== build-out


@dataclass(frozen=True)
class BuildRow:
    """One item of the build plan: what is added each year and what is in service."""

    group: str
    label: str
    unit: str
    new: list[float]
    stock: list[float]
    digits: int = 0  #: decimals to print
    contract: bool = False  #: an annual contract (PPA): ``new`` is the amount contracted that year

    @property
    def retired(self) -> list[float]:
        """Units leaving service in each year: ``stock[y-1] + new[y] - stock[y]`` (0 for contracts)."""
        if self.contract:
            return [0.0] * len(self.stock)
        previous = [0.0, *self.stock[:-1]]
        return [max(0.0, p + n - s) for p, n, s in zip(previous, self.new, self.stock, strict=True)]


def _increase(stock: np.ndarray) -> np.ndarray:
    return np.diff(np.asarray(stock, dtype=float), prepend=0.0).clip(min=0)


def build_rows(ds: xr.Dataset) -> list[BuildRow]:
    """What to build each year: one row per server type, cooling technology and facility item.

    Rows with nothing built and nothing in service in any year are left out. PV, battery and
    PPA additions are the year-on-year increase of the capacity in service.
    """
    rows: list[BuildRow] = []

    def add(group: str, label: str, unit: str, new: Any, stock: Any, digits: int = 0, contract: bool = False) -> None:
        new_a, stock_a = np.asarray(new, dtype=float), np.asarray(stock, dtype=float)
        if np.any(np.abs(new_a) > 1e-6) or np.any(np.abs(stock_a) > 1e-6):
            rows.append(BuildRow(group, label, unit, new_a.tolist(), stock_a.tolist(), digits, contract))

    for a in _names(ds, "accelerator"):
        add(
            "compute",
            f"servers {a}",
            "servers",
            ds["servers_new"].sel(accelerator=a).sum("cooling").values,
            ds["servers"].sel(accelerator=a).sum("cooling").values,
        )
    for c in _names(ds, "cooling"):
        add("facility", f"racks {c}", "racks", ds["racks_new"].sel(cooling=c).values, ds["racks"].sel(cooling=c).values)
    add("facility", "data halls", "halls", ds["halls_new"].values, ds["halls"].values)
    for c in _names(ds, "cooling"):
        add(
            "cooling",
            f"cooling plant units {c}",
            "units",
            ds["cooling_units_new"].sel(cooling=c).values,
            ds["cooling_units"].sel(cooling=c).values,
        )
    block_mw = ds["grid_mw"].values / np.where(ds["grid_blocks"].values > 0, ds["grid_blocks"].values, np.nan)
    mw = float(np.nanmax(block_mw)) if np.isfinite(block_mw).any() else float("nan")
    add(
        "power",
        f"grid blocks ({mw:g} MW each)" if _finite(mw) else "grid blocks",
        "blocks",
        ds["grid_blocks_new"].values,
        ds["grid_blocks"].values,
    )
    add("power", "backup gensets", "units", ds["generators_new"].values, ds["generator_units"].values)
    add("power", "PV", "MWp", _increase(ds["pv_mw"].values), ds["pv_mw"].values, 1)
    add("power", "battery energy", "MWh", _increase(ds["battery_mwh"].values), ds["battery_mwh"].values, 1)
    add("power", "battery power", "MW", _increase(ds["battery_mw"].values), ds["battery_mw"].values, 1)
    for k in _names(ds, "ppa"):
        contracted = ds["ppa_mw"].sel(ppa=k).values
        add("power", f"PPA {k} (annual contract)", "MW", contracted, contracted, 1, contract=True)
    return rows


def build_totals(ds: xr.Dataset) -> list[tuple[str, str]]:
    """What the whole plan adds over the horizon, as (item, amount) pairs for a one-line summary."""
    out: list[tuple[str, str]] = []
    servers_new = ds["servers_new"].sum("cooling")
    stock = ds["servers"].sum("cooling")
    per_server = (ds["accelerators_installed"] / stock.where(stock > 0)).max("year").fillna(0)
    n_servers = float(servers_new.sum())
    out.append(("servers", f"{n_servers:,.0f}"))
    out.append(("accelerators", f"{float((servers_new.sum('year') * per_server).sum()):,.0f}"))
    out.append(("racks", f"{float(ds['racks_new'].sum()):,.0f}"))
    out.append(("data halls", f"{float(ds['halls_new'].sum()):,.0f}"))
    out.append(("cooling plant units", f"{float(ds['cooling_units_new'].sum()):,.0f}"))
    block = ds["grid_mw"] / ds["grid_blocks"].where(ds["grid_blocks"] > 0)
    grid_new = float((ds["grid_blocks_new"] * block.fillna(0)).sum())
    blocks = float(ds["grid_blocks_new"].sum())
    out.append(("grid connection", f"+{grid_new:,.0f} MW ({blocks:,.0f} block{'' if blocks == 1 else 's'})"))
    out.append(("gensets", f"{float(ds['generators_new'].sum()):,.0f}"))
    out.append(("PV", f"{float(_increase(ds['pv_mw'].values).sum()):,.1f} MWp"))
    out.append(("battery", f"{float(_increase(ds['battery_mwh'].values).sum()):,.1f} MWh"))
    if "ppa" in ds.coords and ds.sizes.get("ppa", 0):
        last = ds["ppa_mw"].isel(year=-1).sum()
        out.append((f"PPA contracts {int(ds['year'].values[-1])}", f"{float(last):,.0f} MW"))
    return [(k, v) for k, v in out if not v.startswith(("0 ", "+0 MW")) and v not in ("0", "0.0 MWp", "0.0 MWh")]


def _stock_bar(
    fig: go.Figure, x: Sequence[int], stock: Any, new: Any, name: str, colour: str, row: int, col: int, **kw: Any
) -> None:
    stock_l, new_a = _list(stock, 3), np.asarray(new, dtype=float)
    text = [f"+{fmt_num(v)}" if v > 1e-6 else "" for v in new_a]
    fig.add_trace(
        go.Bar(
            x=list(x),
            y=stock_l,
            name=name,
            marker_color=colour,
            text=text,
            textposition="inside",
            insidetextanchor="end",
            textangle=0,
            customdata=_list(new_a, 3),
            hovertemplate=f"{name}<br>%{{x}}: %{{y:,.4g}} in service, %{{customdata:,.4g}} new<extra></extra>",
            **kw,
        ),
        row=row,
        col=col,
    )


def _note_empty(fig: go.Figure, row: int, col: int, text: str) -> None:
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


def new_servers_figure(ds: xr.Dataset) -> go.Figure:
    """New servers bought each year, stacked by server type (label: accelerators added)."""
    years = _years(ds)
    colours = accelerator_colours(ds)
    fig = _figure()
    per_server = ds["accelerators_installed"].sum("year") / ds["servers"].sum(("cooling", "year")).where(
        ds["servers"].sum(("cooling", "year")) > 0
    )
    for a in _names(ds, "accelerator"):
        new = ds["servers_new"].sel(accelerator=a).sum("cooling").values
        if not np.any(new > 0):
            continue
        chips = new * as_float(per_server.sel(accelerator=a).values)
        fig.add_trace(
            go.Bar(
                x=years,
                y=_list(new, 3),
                name=a,
                marker_color=colours[a],
                customdata=_list(np.nan_to_num(chips), 1),
                hovertemplate=f"{a}<br>%{{x}}: %{{y:,}} servers (%{{customdata:,}} accelerators)<extra></extra>",
            )
        )
    totals = ds["servers_new"].sum(("accelerator", "cooling")).values
    fig.add_trace(
        go.Scatter(
            x=years,
            y=_list(totals, 3),
            mode="text",
            text=[fmt_num(t) for t in totals],
            textposition="top center",
            showlegend=False,
            hoverinfo="skip",
        )
    )
    if not any(isinstance(t, go.Bar) for t in fig.data):
        fig.add_annotation(text="no new servers in any year", showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    fig.update_layout(barmode="stack")
    _year_axis(fig, years)
    fig.update_yaxes(title_text=f"new servers [{_units(ds['servers_new'])}]", rangemode="tozero")
    return _layout(
        fig,
        "New servers bought each year, by type",
        height=380,
        legend={"title": {"text": accelerator_legend_title(ds)}},
    )


def installed_figure(ds: xr.Dataset) -> go.Figure:
    """Servers and accelerators in service by type, and installed compute against the target."""
    years = _years(ds)
    colours = accelerator_colours(ds)
    fig = _subplots(
        rows=1,
        cols=3,
        subplot_titles=(
            f"Servers in service [{_units(ds['servers'])}]",
            f"Accelerators installed [{_units(ds['accelerators_installed'])}]",
            "Installed compute [EFLOPS]",
        ),
        horizontal_spacing=0.07,
    )
    for a in _names(ds, "accelerator"):
        stock = ds["servers"].sel(accelerator=a).sum("cooling").values
        if not np.any(stock > 0):
            continue
        new = ds["servers_new"].sel(accelerator=a).sum("cooling").values
        _stock_bar(fig, years, stock, new, a, colours[a], 1, 1, legendgroup=a)
        chips = ds["accelerators_installed"].sel(accelerator=a).values
        fig.add_trace(
            go.Bar(
                x=years,
                y=_list(chips, 1),
                name=a,
                legendgroup=a,
                showlegend=False,
                marker_color=colours[a],
                hovertemplate=f"{a}<br>%{{x}}: %{{y:,}} accelerators<extra></extra>",
            ),
            row=1,
            col=2,
        )
    eflops = ds["installed_pflops"].values / 1000
    fig.add_trace(
        go.Bar(
            x=years,
            y=_list(eflops, 4),
            name="installed EFLOPS",
            marker_color="#0969da",
            showlegend=False,
            text=[f"{v:,.1f}" for v in eflops],
            textposition="outside",
            hovertemplate="%{x}: %{y:,.2f} EFLOPS<extra>installed</extra>",
        ),
        row=1,
        col=3,
    )
    target = limit_values(ds, LIMITS[3])
    if np.isfinite(target).any():
        fig.add_trace(
            go.Scatter(
                x=years,
                y=_list(target),
                mode="markers",
                name="EFLOPS target",
                marker={"symbol": "line-ew-open", "size": 34, "color": "#1f2328", "line": {"width": 3}},
                hovertemplate="%{x}: ≥ %{y:,.1f} EFLOPS<extra>target</extra>",
            ),
            row=1,
            col=3,
        )
    fig.update_layout(barmode="stack")
    _year_axis(fig, years)
    fig.update_yaxes(rangemode="tozero")
    fig.update_yaxes(range=[0, float(np.nanmax(np.r_[eflops, np.nan_to_num(target), 1e-9])) * 1.18], row=1, col=3)
    return _layout(
        fig,
        "Compute in service (+N: bought that year)",
        height=380,
        legend={"title": {"text": accelerator_legend_title(ds)}},
    )


def facility_figure(ds: xr.Dataset) -> go.Figure:
    """Racks and cooling units by technology, halls, grid MW, PV MWp, battery MWh, gensets, PPA MW."""
    years = _years(ds)
    cc = cooling_colours(ds)
    ppas = _names(ds, "ppa")
    panels = [
        ("racks", f"Racks by cooling [{_units(ds['racks'])}]"),
        ("cooling_units", f"Cooling plant units [{_units(ds['cooling_units'])}]"),
        ("halls", f"Data halls [{_units(ds['halls'])}]"),
        ("grid", f"Grid connection [{_units(ds['grid_mw'])}]"),
        ("pv", f"PV [{_units(ds['pv_mw'])}p]"),
        ("battery", f"Battery [{_units(ds['battery_mwh'])}]"),
        ("gensets", f"Backup gensets [{_units(ds['generator_units'])}]"),
        ("ppa", f"PPA contracts [{_units(ds['ppa_mw'])}]"),
    ]
    fig = _subplots(
        rows=2, cols=4, subplot_titles=[t for _, t in panels], horizontal_spacing=0.06, vertical_spacing=0.2
    )
    for c in _names(ds, "cooling"):
        _stock_bar(
            fig,
            years,
            ds["racks"].sel(cooling=c).values,
            ds["racks_new"].sel(cooling=c).values,
            c,
            cc[c],
            1,
            1,
            legendgroup=f"cooling-{c}",
        )
        _stock_bar(
            fig,
            years,
            ds["cooling_units"].sel(cooling=c).values,
            ds["cooling_units_new"].sel(cooling=c).values,
            c,
            cc[c],
            1,
            2,
            legendgroup=f"cooling-{c}",
            showlegend=False,
        )
    _stock_bar(fig, years, ds["halls"].values, ds["halls_new"].values, "halls", "#8250df", 1, 3, showlegend=False)
    block = ds["grid_mw"].values / np.where(ds["grid_blocks"].values > 0, ds["grid_blocks"].values, np.nan)
    grid_new = np.nan_to_num(ds["grid_blocks_new"].values * block)
    _stock_bar(fig, years, ds["grid_mw"].values, grid_new, "grid MW", SUPPLY_COLOURS["grid"], 1, 4, showlegend=False)
    _stock_bar(
        fig,
        years,
        ds["pv_mw"].values,
        _increase(ds["pv_mw"].values),
        "PV",
        SUPPLY_COLOURS["pv"],
        2,
        1,
        showlegend=False,
    )
    _stock_bar(
        fig,
        years,
        ds["battery_mwh"].values,
        _increase(ds["battery_mwh"].values),
        "battery MWh",
        SUPPLY_COLOURS["discharge"],
        2,
        2,
        showlegend=False,
    )
    _stock_bar(
        fig,
        years,
        ds["generator_units"].values,
        ds["generators_new"].values,
        "gensets",
        "#953800",
        2,
        3,
        showlegend=False,
    )
    for j, k in enumerate(ppas):
        v = ds["ppa_mw"].sel(ppa=k).values
        _stock_bar(
            fig, years, v, np.zeros_like(v), f"PPA {k}", PPA_COLOURS[j % len(PPA_COLOURS)], 2, 4, legendgroup=f"ppa-{k}"
        )
    fig.update_layout(barmode="stack")
    _year_axis(fig, years)
    fig.update_yaxes(rangemode="tozero")
    for (row, col), value in (
        ((1, 1), ds["racks"].values),
        ((1, 2), ds["cooling_units"].values),
        ((1, 3), ds["halls"].values),
        ((1, 4), ds["grid_mw"].values),
        ((2, 1), ds["pv_mw"].values),
        ((2, 2), ds["battery_mwh"].values),
        ((2, 3), ds["generator_units"].values),
        ((2, 4), ds["ppa_mw"].values if ppas else np.zeros(1)),
    ):
        if not np.any(np.asarray(value) > 1e-6):
            _note_empty(fig, row, col, "none")
    return _layout(fig, "Facility and power in service by year (+N: built that year)", height=560)


# ====================================================================== operation


def _dispatch_series(ds: xr.Dataset, year: int, day: int) -> list[tuple[str, list[float | None]]]:
    """(trace key, 24 values) of every dispatch trace, in the order of the traces."""
    sel = {"year": year, "day": day}
    out: list[tuple[str, list[float | None]]] = [("grid", _list(ds["grid_import_mw"].sel(sel).values, 4))]
    for k in _names(ds, "ppa"):
        out.append((f"ppa:{k}", _list(ds["ppa_mw_used"].sel({"ppa": k, **sel}).values, 4)))
    out.append(("pv", _list(ds["pv_used_mw"].sel(sel).values, 4)))
    out.append(("discharge", _list(ds["battery_discharge_mw"].sel(sel).values, 4)))
    out.append(("charge", _list(-ds["battery_charge_mw"].sel(sel).values, 4)))
    out.append(("facility", _list(ds["facility_power_mw"].sel(sel).values, 4)))
    it = ds["it_power_mw"].sel(sel)
    cool = ds["cooling_power_mw"].sel(sel)
    for c in _names(ds, "cooling"):
        out.append((f"it:{c}", _list(it.sel(cooling=c).values, 4)))
    for c in _names(ds, "cooling"):
        out.append((f"cool:{c}", _list(cool.sel(cooling=c).values, 4)))
    aux = ds["facility_power_mw"].sel(sel) - it.sum("cooling") - cool.sum("cooling")
    out.append(("aux", _list(aux.clip(min=0).values, 4)))
    out.append(("temp", _list(ds["ambient_temp_c"].sel(day=day).values, 2)))
    return out


def _dispatch_keep(ds: xr.Dataset, year: int) -> set[str]:
    """Trace keys that are non-zero on some day of the year (others would only clutter the legend)."""
    keep = {"grid", "facility", "temp"}
    sel = ds.sel(year=year)
    if np.any(sel["pv_used_mw"].values > 1e-9):
        keep.add("pv")
    if np.any(sel["battery_discharge_mw"].values > 1e-9) or np.any(sel["battery_charge_mw"].values > 1e-9):
        keep |= {"discharge", "charge"}
    for k in _names(ds, "ppa"):
        if np.any(sel["ppa_mw_used"].sel(ppa=k).values > 1e-9):
            keep.add(f"ppa:{k}")
    for c in _names(ds, "cooling"):
        if np.any(sel["it_power_mw"].sel(cooling=c).values > 1e-9):
            keep |= {f"it:{c}", f"cool:{c}"}
    aux = sel["facility_power_mw"] - sel["it_power_mw"].sum("cooling") - sel["cooling_power_mw"].sum("cooling")
    if np.any(aux.values > 1e-9):
        keep.add("aux")
    return keep


def default_day(ds: xr.Dataset, year: int) -> int:
    """Index of the day shown first: the day with the year's peak facility power."""
    peak = ds["facility_power_mw"].sel(year=year).max("hour").values
    return int(np.argmax(peak)) if peak.size else 0


def dispatch_figure(ds: xr.Dataset, year: int | None = None, title_prefix: str = "") -> go.Figure:
    """Hourly dispatch of one representative day, with a dropdown over all days.

    Top: supply stack (grid import, each PPA, PV used, battery discharge; battery charging
    below zero) against the facility load. Bottom: the facility load split into IT power
    and cooling power by technology and auxiliary losses, with the ambient temperature on
    the right axis. ``year`` defaults to the last year of the plan.
    """
    years = _years(ds)
    year = years[-1] if year is None else int(year)
    title_prefix = plain(title_prefix)
    days = [int(d) for d in ds["day"].values]
    labels = day_labels(ds)
    keep = _dispatch_keep(ds, year)
    start = default_day(ds, year)
    series = {d: [(k, v) for k, v in _dispatch_series(ds, year, d) if k in keep] for d in days}
    cc = cooling_colours(ds)
    ppa_colour = {k: PPA_COLOURS[j % len(PPA_COLOURS)] for j, k in enumerate(_names(ds, "ppa"))}
    hours = list(range(24))
    fig = _subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        row_heights=[0.55, 0.45],
        specs=[[{}], [{"secondary_y": True}]],
        subplot_titles=("Supply against facility load [MW]", "Facility load: IT, cooling and losses [MW]"),
    )
    unit = _units(ds["facility_power_mw"])
    for key, values in series[days[start]]:
        hover = f"%{{x}}:00  %{{y:,.2f}} {unit}"
        if key == "grid":
            trace: Any = go.Bar(name="grid import", marker_color=SUPPLY_COLOURS["grid"])
        elif key.startswith("ppa:"):
            trace = go.Bar(name=f"PPA {key[4:]}", marker_color=ppa_colour[key[4:]])
        elif key == "pv":
            trace = go.Bar(name="PV", marker_color=SUPPLY_COLOURS["pv"])
        elif key == "discharge":
            trace = go.Bar(name="battery discharge", marker_color=SUPPLY_COLOURS["discharge"])
        elif key == "charge":
            trace = go.Bar(name="battery charge (−)", marker_color=SUPPLY_COLOURS["charge"])
        elif key == "facility":
            trace = go.Scatter(
                name="facility load", mode="lines", line={"color": "#1f2328", "width": 3, "shape": "hvh"}
            )
        elif key.startswith("it:"):
            trace = go.Bar(name=f"IT {key[3:]}", marker_color=cc[key[3:]], legendgroup="it")
        elif key.startswith("cool:"):
            trace = go.Bar(
                name=f"cooling {key[5:]}",
                marker={
                    "color": cc[key[5:]],
                    "pattern": {"shape": "/", "fillmode": "overlay", "fgcolor": "white", "fgopacity": 0.7},
                },
                legendgroup="cool",
            )
        elif key == "aux":
            trace = go.Bar(name="aux losses", marker_color="#d0d7de")
        else:  # temp
            trace = go.Scatter(name="ambient °C", mode="lines", line={"color": "#bc4c00", "dash": "dot"})
            hover = f"%{{x}}:00  %{{y:.1f}} {_units(ds['ambient_temp_c']).replace('degC', '°C')}"
        trace.update(x=hours, y=values, hovertemplate=hover + "<extra>%{fullData.name}</extra>")
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
    fig.update_layout(
        barmode="relative",
        updatemenus=[
            {
                "type": "dropdown",
                "buttons": buttons,
                "active": start,
                "x": 0.0,
                "xanchor": "left",
                "y": 1.1,
                "yanchor": "bottom",
                "showactive": True,
                "bgcolor": "white",
                "bordercolor": "#8c959f",
                "font": {"size": 12},
            }
        ],
    )
    fig.update_xaxes(tickmode="linear", dtick=2, title_text="hour of day", row=2, col=1)
    fig.update_yaxes(title_text=f"power [{unit}]", row=1, col=1)
    fig.update_yaxes(title_text=f"power [{unit}]", rangemode="tozero", row=2, col=1)
    fig.update_yaxes(
        title_text="ambient [°C]", showgrid=False, tickmode="auto", nticks=6, row=2, col=1, secondary_y=True
    )
    _layout(fig, title(start), height=640, margin={"t": 120, "r": 20}, legend={**SIDE_LEGEND, "traceorder": "normal"})
    return fig


def pue_figure(ds: xr.Dataset) -> go.Figure:
    """Hourly PUE (facility / IT power) against ambient temperature, one colour per year.

    Marker size grows with the number of calendar days a representative day stands for; the
    dashed lines are each year's annual PUE cap (the cap bounds the annual PUE, not each hour).
    """
    years = _years(ds)
    colours = year_colours(years)
    it = ds["it_power_mw"].sum("cooling")
    pue = (ds["facility_power_mw"] / it.where(it > 1e-9)).transpose("year", "day", "hour")
    temp = ds["ambient_temp_c"].transpose("day", "hour").values
    weights = ds["day_weight"].values
    size = 5 + 7 * np.sqrt(weights / max(float(weights.max()), 1e-9))
    labels = day_labels(ds)
    fig = _figure()
    tmin, tmax = float(np.nanmin(temp)), float(np.nanmax(temp))
    caps = ds["pue_max"].values if "pue_max" in ds else np.full(len(years), np.nan)
    for i, y in enumerate(years):
        values = pue.sel(year=y).values
        annual = as_float(ds["pue"].values[i])
        custom = [[labels[d], h] for d in range(values.shape[0]) for h in range(24)]
        fig.add_trace(
            go.Scatter(
                x=_list(temp, 2),
                y=_list(values, 4),
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
        if _finite(caps[i]):
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
    fig.update_xaxes(title_text=f"ambient dry-bulb temperature [{_units(ds['ambient_temp_c']).replace('degC', '°C')}]")
    fig.update_yaxes(title_text="hourly PUE = facility / IT power [1]")
    return _layout(fig, "PUE against ambient temperature (dashed: annual cap of the year)", height=440)


# ====================================================================== costs


def _discounted(ds: xr.Dataset) -> xr.DataArray:
    return ds["cost"] * ds["discount_factor"]


def _active_components(*datasets: xr.Dataset) -> list[str]:
    names: list[str] = []
    for ds in datasets:
        for c in _names(ds, "component"):
            if c not in names and np.any(np.abs(ds["cost"].sel(component=c).values) > 1e-6):
                names.append(c)
    return names


def grouped_cost(ds: xr.Dataset) -> dict[str, tuple[str, dict[str, np.ndarray]]]:
    """Annual cost by group: ``{group: (colour, {component: cost per year [CNY]})}``, stack order, non-zero only."""
    out: dict[str, tuple[str, dict[str, np.ndarray]]] = {}
    order = [g for g, _, _ in COST_GROUPS] + [OTHER_GROUP[0]]
    for comp in _active_components(ds):
        group, colour = cost_group(comp)
        out.setdefault(group, (colour, {}))[1][comp] = ds["cost"].sel(component=comp).values.astype(float)
    return {g: out[g] for g in order if g in out}


def _group_hover(members: dict[str, np.ndarray], i: int, scale: float, unit: str) -> str:
    parts = sorted(members.items(), key=lambda kv: -abs(kv[1][i]))
    return "<br>".join(f"  {_label(c)}: {v[i] / scale:,.3f} {unit}" for c, v in parts if abs(v[i]) > 1e-9)


def cost_figure(ds: xr.Dataset) -> go.Figure:
    """Annual cost (undiscounted) stacked by cost group, the total above each bar; hover lists the components."""
    years = _years(ds)
    total = ds["cost"].sum("component").values
    scale, unit = money_scale(total)
    fig = _figure()
    for group, (colour, members) in grouped_cost(ds).items():
        values = np.sum(list(members.values()), axis=0)
        fig.add_trace(
            go.Bar(
                x=years,
                y=_list(values / scale, 5),
                name=group,
                marker_color=colour,
                customdata=[_group_hover(members, i, scale, unit) for i in range(len(years))],
                hovertemplate=f"<b>{group}</b> %{{x}}: %{{y:,.3f}} {unit}<br>%{{customdata}}<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=years,
            y=_list(total / scale, 5),
            mode="text",
            text=[f"{v / scale:,.2f}" for v in total],
            textposition="top center",
            showlegend=False,
            hoverinfo="skip",
        )
    )
    fig.update_layout(barmode="relative")
    _year_axis(fig, years)
    fig.update_yaxes(title_text=f"annual cost [{unit}/year]")
    return _layout(fig, "Annual cost by group (undiscounted; hover for the components)", height=420)


def npv_figure(ds: xr.Dataset) -> go.Figure:
    """The NPV as a waterfall of discounted components (largest first), ending in the total.

    Bars float from the running sum, coloured like the components in :func:`cost_figure`.
    """
    disc = _discounted(ds).sum("year")
    comps = sorted(_active_components(ds), key=lambda c: -abs(as_float(disc.sel(component=c).values)))
    colours = component_colours(_active_components(ds))
    npv = as_float(ds["npv_cny"].values)
    scale, unit = money_scale([npv, *[as_float(disc.sel(component=c).values) for c in comps]])
    values = [as_float(disc.sel(component=c).values) / scale for c in comps]
    bases = np.r_[0.0, np.cumsum(values)[:-1]] if values else np.zeros(0)
    labels = [_label(c) for c in comps]
    shares = [v * scale / npv if npv else float("nan") for v in values]
    fig = _figure()
    fig.add_trace(
        go.Bar(
            orientation="h",
            y=[*labels, "NPV"],
            x=[*values, npv / scale],
            base=[*bases.tolist(), 0.0],
            marker_color=[colours[c] for c in comps] + ["#1f2328"],
            text=[
                f"{v:,.3g} ({sh:.0%})" if abs(sh) >= 0.005 else f"{v:,.3g} (<1%)"
                for v, sh in zip(values, shares, strict=True)
            ]
            + [f"{npv / scale:,.3f}"],
            textposition="outside",
            cliponaxis=False,
            hovertemplate=f"%{{y}}: %{{x:,.4f}} {unit}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text=f"discounted cost over the horizon [{unit}]", range=[0, npv / scale * 1.12])
    return _layout(
        fig,
        f"NPV breakdown: {fmt_money(npv)} of discounted costs",
        height=max(300, 100 + 26 * (len(labels) + 1)),
        showlegend=False,
        margin={"l": 190, "t": 50},
    )


@dataclass(frozen=True)
class CostRow:
    """One line of the cost table (values per year)."""

    label: str
    unit: str
    values: list[float]
    fmt: str = "money"


def cost_rows(ds: xr.Dataset) -> list[CostRow]:
    """Annual total, discounted total, cost per PFLOP-hour and per million tokens, by year."""
    total = ds["cost"].sum("component").values
    return [
        CostRow("annual cost (undiscounted)", "CNY/year", total.tolist()),
        CostRow("annual cost (discounted)", "CNY", (total * ds["discount_factor"].values).tolist()),
        CostRow("discount factor", "1", ds["discount_factor"].values.tolist(), "ratio"),
        CostRow(
            "cost per PFLOP-hour of busy compute",
            _units(ds["cost_per_pflop_hour"]),
            ds["cost_per_pflop_hour"].values.tolist(),
            "num",
        ),
        CostRow(
            "cost per million tokens served",
            _units(ds["cost_per_million_tokens"]),
            ds["cost_per_million_tokens"].values.tolist(),
            "num",
        ),
    ]


# ====================================================================== emissions, utilisation, shortfall


def emissions_figure(ds: xr.Dataset) -> go.Figure:
    """Location- and market-based emissions by year (bars) with the green share and its minimum (right axis)."""
    years = _years(ds)
    fig = _subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Bar(
            x=years,
            y=_list(emissions(ds, "location") / 1000, 4),
            name="location-based",
            marker_color="#6e7781",
            hovertemplate="%{x}: %{y:,.1f} kt CO₂<extra>location-based</extra>",
        )
    )
    if "basis" in ds["emissions_t"].dims:
        fig.add_trace(
            go.Bar(
                x=years,
                y=_list(emissions(ds, "market") / 1000, 4),
                name="market-based",
                marker_color="#afb8c1",
                hovertemplate="%{x}: %{y:,.1f} kt CO₂<extra>market-based</extra>",
            )
        )
    if "carbon_cap_t" in ds and np.isfinite(ds["carbon_cap_t"].values.astype(float)).any():
        fig.add_trace(
            go.Scatter(
                x=years,
                y=_list(ds["carbon_cap_t"].values / 1000),
                mode="markers",
                name="carbon cap",
                marker={"symbol": "line-ew-open", "size": 24, "color": BAD_COLOUR, "line": {"width": 3}},
            )
        )
    fig.add_trace(
        go.Scatter(
            x=years,
            y=_list(ds["green_share"].values * 100, 3),
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
                y=_list(ds["green_share_min"].values * 100, 3),
                mode="lines+markers",
                name="green share minimum",
                line={"color": OK_COLOUR, "dash": "dash", "shape": "hv"},
                marker={"symbol": "line-ew-open", "size": 12},
                hovertemplate="%{x}: ≥ %{y:.1f} %<extra>minimum</extra>",
            ),
            secondary_y=True,
        )
    fig.update_layout(barmode="group")
    _year_axis(fig, years)
    fig.update_yaxes(title_text="emissions [kt CO₂/year]", rangemode="tozero", secondary_y=False)
    fig.update_yaxes(
        title_text="green share [%]", range=[0, 105], dtick=20, tickmode="linear", showgrid=False, secondary_y=True
    )
    return _layout(fig, "Emissions and green power share", height=400)


def utilisation_figure(ds: xr.Dataset) -> go.Figure:
    """Share of available server-hours busy training, serving inference and idle, by year; busy share by type."""
    years = _years(ds)
    w = ds["day_weight"]
    train = (ds["training_servers"] * w).sum(("accelerator", "cooling", "day", "hour"))
    infer = (ds["inference_servers"] * w).sum(("accelerator", "cooling", "day", "hour"))
    busy = train + infer
    util = ds["utilisation"].fillna(0)
    t_share = (util * train / busy.where(busy > 0)).fillna(0).values
    i_share = (util * infer / busy.where(busy > 0)).fillna(0).values
    idle = np.clip(1 - t_share - i_share, 0, 1) * (ds["servers"].sum(("accelerator", "cooling")).values > 0)
    fig = _subplots(
        rows=1,
        cols=2,
        subplot_titles=(
            "Fleet: share of available server-hours [%]",
            "By type: busy share of installed server-hours [%]",
        ),
        horizontal_spacing=0.1,
    )
    for name, values, colour in (
        ("training", t_share, "#8250df"),
        ("inference", i_share, "#0969da"),
        ("idle", idle, "#d0d7de"),
    ):
        fig.add_trace(
            go.Bar(
                x=years,
                y=_list(values * 100, 3),
                name=name,
                marker_color=colour,
                hovertemplate=f"%{{x}}: %{{y:.1f}} %<extra>{name}</extra>",
            ),
            row=1,
            col=1,
        )
    colours = accelerator_colours(ds)
    installed_h = ds["servers"].sum("cooling") * w.sum() * 24
    busy_a = ((ds["training_servers"] + ds["inference_servers"]) * w).sum(("cooling", "day", "hour"))
    share = (busy_a / installed_h.where(installed_h > 0)).transpose("accelerator", "year")
    for a in _names(ds, "accelerator"):
        values = share.sel(accelerator=a).values
        if not np.isfinite(values).any():
            continue
        fig.add_trace(
            go.Scatter(
                x=years,
                y=_list(values * 100, 3),
                mode="lines+markers",
                name=a,
                line={"color": colours[a]},
                hovertemplate=f"%{{x}}: %{{y:.1f}} %<extra>{a}</extra>",
            ),
            row=1,
            col=2,
        )
    fig.update_layout(barmode="stack")
    _year_axis(fig, years)
    fig.update_yaxes(range=[0, 105], ticksuffix=" %")
    return _layout(fig, "Utilisation of the fleet", height=380, legend={"traceorder": "normal"})


def shortfall_shares(ds: xr.Dataset) -> dict[str, np.ndarray]:
    """Unmet share of inference tokens, training work and inference reserve, per year."""
    w = ds["day_weight"]
    demand = (ds["inference_demand_tokens_per_s"] * w).sum(("day", "hour"))
    inf = ((ds["inference_unserved"] * w).sum(("day", "hour")) / demand.where(demand > 0)).fillna(0).values
    tr_dem = ds["training_demand_flop"]
    train = (ds["training_unserved_flop"] / tr_dem.where(tr_dem > 0)).fillna(0).values
    out = {"inference tokens": inf, "training work": train}
    if "reserve_unserved_tokens_per_s" in ds:
        peak = ds["inference_demand_tokens_per_s"].max(("day", "hour"))
        out["inference reserve"] = (ds["reserve_unserved_tokens_per_s"] / peak.where(peak > 0)).fillna(0).values
    return out


def has_shortfall(ds: xr.Dataset, tol: float = 1e-6) -> bool:
    """Whether any demand is unmet in any year."""
    return any(float(np.nanmax(v)) > tol for v in shortfall_shares(ds).values() if np.size(v))


def shortfall_figure(ds: xr.Dataset) -> go.Figure:
    """Unmet share of inference tokens, training work and reserve, by year."""
    years = _years(ds)
    fig = _figure()
    colours = {"inference tokens": "#cf222e", "training work": "#bc4c00", "inference reserve": "#fb8f44"}
    w = ds["day_weight"]
    absolute = {
        "inference tokens": (ds["inference_unserved"] * w).sum(("day", "hour")).values * 3600 / 1e12,
        "training work": ds["training_unserved_flop"].values / 1e24,
        "inference reserve": ds["reserve_unserved_tokens_per_s"].values / 1e6
        if "reserve_unserved_tokens_per_s" in ds
        else np.zeros(len(years)),
    }
    units = {"inference tokens": "T tokens", "training work": "1e24 FLOP", "inference reserve": "M tokens/s"}
    for name, share in shortfall_shares(ds).items():
        fig.add_trace(
            go.Bar(
                x=years,
                y=_list(share * 100, 4),
                name=name,
                marker_color=colours[name],
                customdata=_list(absolute[name], 4),
                hovertemplate=f"%{{x}}: %{{y:.2f}} % unmet (%{{customdata:,.4g}} {units[name]})<extra>{name}</extra>",
            )
        )
    fig.update_layout(barmode="group")
    _year_axis(fig, years)
    fig.update_yaxes(title_text="unmet share of demand [%]", rangemode="tozero")
    return _layout(fig, "Unmet demand by year (priced at the shortfall penalty)", height=360)


# ====================================================================== shadow prices, solver


def shadow_price_figure(ds: xr.Dataset) -> go.Figure:
    """Marginal cost of one tightening step of each priced policy limit, by year: one panel per limit.

    Each panel has its own scale (the limits' prices differ by orders of magnitude); the hover
    text says how each price was obtained.
    """
    years = _years(ds)
    priced: list[tuple[str, str, np.ndarray, list[str]]] = []
    if "shadow_price" in ds and "limit" in ds.coords:
        for lim in (str(v) for v in ds["limit"].values):
            values = ds["shadow_price"].sel(limit=lim).values.astype(float)
            if not np.isfinite(values).any():
                continue
            methods = [str(m) for m in ds["shadow_price_method"].sel(limit=lim).values]
            step = next((m.split(";")[-1].strip() for m in methods if ";" in m), "per step")
            label = next((x.label for x in LIMITS if lim in (x.key, x.variable)), _label(lim))
            priced.append((label, step, values, methods))
    if not priced:
        fig = _figure()
        fig.add_annotation(
            text="no limit was priced (no limits set, or the run used --no-shadow-prices)",
            showarrow=False,
            xref="paper",
            yref="paper",
            x=0.5,
            y=0.5,
        )
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        return _layout(fig, "Marginal cost of the policy limits (shadow prices)", height=200)
    values_all = np.concatenate([np.abs(v[np.isfinite(v)]) for _, _, v, _ in priced])
    scale, unit = money_scale(values_all if values_all.size else [0.0])
    fig = _subplots(
        rows=1,
        cols=len(priced),
        subplot_titles=[
            f"<b>{label}</b><br><span style='font-size:11px'>{step}</span>" for label, step, _, _ in priced
        ],
        horizontal_spacing=0.07,
    )
    for col, (label, _step, values, methods) in enumerate(priced, start=1):
        binding = np.abs(np.nan_to_num(values)) > 1e-9
        fig.add_trace(
            go.Bar(
                x=years,
                y=_list(values / scale, 6),
                name=label,
                showlegend=False,
                marker_color=["#bc4c00" if b else "#d0d7de" for b in binding],
                text=[fmt_money(v) if b else "0" for v, b in zip(values, binding, strict=True)],
                textposition="outside",
                constraintext="none",
                textfont={"size": 11},
                cliponaxis=False,
                customdata=methods,
                hovertemplate=f"%{{x}}: %{{y:,.4g}} {unit}<br>%{{customdata}}<extra>{label}</extra>",
            ),
            row=1,
            col=col,
        )
        finite = values[np.isfinite(values)] / scale
        top, bottom = (float(finite.max()), float(finite.min())) if finite.size else (0.0, 0.0)
        fig.update_yaxes(range=[min(0.0, bottom * 1.25), top * 1.25 if top > 0 else 1], row=1, col=col)
    _year_axis(fig, years)
    fig.update_yaxes(title_text=f"cost of one step tighter [{unit}]", row=1, col=1)
    fig.update_annotations(font_size=12)
    return _layout(
        fig, "Marginal cost of the policy limits (shadow prices; grey: not binding)", height=360, margin={"t": 90}
    )


def timings(ds: xr.Dataset) -> dict[str, float]:
    """Seconds per pipeline stage from ``attrs["timings_s"]`` (empty if missing or unreadable)."""
    try:
        raw = json.loads(str(ds.attrs.get("timings_s", "{}")))
        return {str(k): float(v) for k, v in raw.items()}
    except (ValueError, TypeError, AttributeError):
        return {}


def solver_rows(ds: xr.Dataset) -> list[tuple[str, str]]:
    """(label, value) pairs describing the solver outcome and the run."""
    a = ds.attrs
    gap = as_float(a.get("mip_gap"))
    rows = [
        ("status", str(a.get("solver_status", "?"))),
        ("termination", str(a.get("termination", "?"))),
        ("objective", fmt_money(as_float(a.get("objective_cny")))),
        ("best bound", fmt_money(as_float(a.get("bound_cny")))),
        ("MIP gap", f"{gap:.3%}" if _finite(gap) else "–"),
        (
            "model size",
            f"{int(as_float(a.get('model_rows', 0))):,} rows × {int(as_float(a.get('model_columns', 0))):,} columns, "
            f"{int(as_float(a.get('model_integers', 0))):,} integer",
        )
        if _finite(a.get("model_rows"))
        else ("model size", "–"),
        ("representative days", str(a.get("representative_days", ds.sizes.get("day", "?")))),
        ("input hash", str(a.get("input_hash", "–"))),
        ("planner version", str(a.get("planner_version", "–"))),
    ]
    try:
        ranges = json.loads(str(a.get("coefficient_ranges", "{}")))
        rows.append(
            ("coefficient ranges", "; ".join(f"{k} {lo:.1e} .. {hi:.1e}" for k, (lo, hi) in ranges.items()) or "–")
        )
    except (ValueError, TypeError):
        pass
    try:
        opts = json.loads(str(a.get("solver_options", "{}")))
        rows.append(("solver options", ", ".join(f"{k}={v}" for k, v in opts.items())))
    except (ValueError, TypeError):
        pass
    try:
        versions = json.loads(str(a.get("package_versions", "{}")))
        rows.append(("packages", ", ".join(f"{k} {v}" for k, v in versions.items())))
    except (ValueError, TypeError):
        pass
    return rows


# ====================================================================== comparison of two plans


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
        return self.delta / abs(self.a) if _finite(self.a) and abs(self.a) > 1e-12 else float("nan")


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


def compare_build_rows(a: xr.Dataset, b: xr.Dataset) -> list[CompareBuildRow]:
    """New builds per item and year in A and B, and their difference, over the union of years."""
    years = sorted(set(_years(a)) | set(_years(b)))
    rows_a = {r.label: r for r in build_rows(a)}
    rows_b = {r.label: r for r in build_rows(b)}
    labels = list(rows_a) + [label for label in rows_b if label not in rows_a]
    out = []
    for label in labels:
        ra, rb = rows_a.get(label), rows_b.get(label)

        def per_year(r: BuildRow | None, ds: xr.Dataset) -> list[float]:
            if r is None:
                return [0.0] * len(years)
            by = dict(zip(_years(ds), r.new, strict=True))
            return [float(by.get(y, 0.0)) for y in years]

        va, vb = per_year(ra, a), per_year(rb, b)
        ref = ra or rb
        assert ref is not None
        if not any(abs(v) > 1e-6 for v in va + vb):
            continue  # nothing bought in either plan (only stock from before)
        out.append(
            CompareBuildRow(
                label,
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
    """New servers by type per year, A and B side by side, and the difference B − A."""
    labels = (plain(labels[0]), plain(labels[1]))
    years = sorted(set(_years(a)) | set(_years(b)))
    accs = list(dict.fromkeys(_names(a, "accelerator") + _names(b, "accelerator")))
    colours = {**accelerator_colours(b), **accelerator_colours(a)}
    x, pairs = _multicat(years, labels)
    fig = _subplots(
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
        if acc not in _names(ds, "accelerator") or year not in _years(ds):
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
                name=acc,
                legendgroup=acc,
                marker_color=colours[acc],
                hovertemplate=f"{acc}<br>%{{x}}: %{{y:,}} servers<extra></extra>",
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Bar(
                x=years,
                y=diff,
                name=acc,
                legendgroup=acc,
                showlegend=False,
                marker_color=colours[acc],
                hovertemplate=f"{acc}<br>%{{x}}: %{{y:+,}} servers<extra></extra>",
            ),
            row=1,
            col=2,
        )
    fig.update_layout(barmode="relative")
    _year_axis(fig, years, row=1, col=2)
    return _layout(fig, "What each plan buys", height=420)


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
    fig = _subplots(rows=1, cols=len(items), subplot_titles=[t for _, t, _ in items], horizontal_spacing=0.05)
    years = sorted(set(_years(a)) | set(_years(b)))
    for col, (name, _title, scale) in enumerate(items, start=1):
        for k, (ds, lab, colour) in enumerate(((a, labels[0], "#8c959f"), (b, labels[1], "#0969da"))):
            fig.add_trace(
                go.Bar(
                    x=_years(ds),
                    y=_list(ds[name].values * scale, 4),
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
    _year_axis(fig, years)
    return _layout(fig, f"In service by year: {labels[0]} (grey) and {labels[1]} (blue)", height=340)


def compare_cost_figure(a: xr.Dataset, b: xr.Dataset, labels: tuple[str, str] = ("A", "B")) -> go.Figure:
    """Annual cost by cost group, A and B side by side for each year."""
    labels = (plain(labels[0]), plain(labels[1]))
    years = sorted(set(_years(a)) | set(_years(b)))
    scale, unit = money_scale(np.r_[a["cost"].sum("component").values, b["cost"].sum("component").values])
    x, pairs = _multicat(years, labels)
    groups = {0: grouped_cost(a), 1: grouped_cost(b)}
    names = [g for g, _, _ in COST_GROUPS] + [OTHER_GROUP[0]]
    fig = _figure()
    for group in names:
        if group not in groups[0] and group not in groups[1]:
            continue
        colour = (groups[0].get(group) or groups[1][group])[0]
        values = []
        for y, lab in pairs:
            k = 0 if lab == labels[0] else 1
            ds = a if k == 0 else b
            members = groups[k].get(group, ("", {}))[1]
            if y in _years(ds) and members:
                values.append(round(float(np.sum([v[_years(ds).index(y)] for v in members.values()])) / scale, 5))
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
    return _layout(fig, f"Annual cost by group (undiscounted): {labels[0]} | {labels[1]}", height=440)


def compare_npv_figure(a: xr.Dataset, b: xr.Dataset, labels: tuple[str, str] = ("A", "B")) -> go.Figure:
    """From the NPV of A to the NPV of B: a waterfall of the change of each discounted component."""
    labels = (plain(labels[0]), plain(labels[1]))
    comps = _active_components(a, b)

    def disc(ds: xr.Dataset, comp: str) -> float:
        if comp not in _names(ds, "component"):
            return 0.0
        return as_float(_discounted(ds).sel(component=comp).sum().values)

    deltas = {c: disc(b, c) - disc(a, c) for c in comps}
    comps = [c for c in sorted(comps, key=lambda c: -abs(deltas[c])) if abs(deltas[c]) > 1e-6]
    npv_a, npv_b = as_float(a["npv_cny"].values), as_float(b["npv_cny"].values)
    scale, unit = money_scale([npv_a, npv_b])
    # the largest changes by name (at most 10), the many small ones together
    largest = sum(abs(deltas[c]) for c in comps) or 1.0
    shown = [c for i, c in enumerate(comps) if i < 10 and abs(deltas[c]) >= 0.005 * largest]
    rest = [c for c in comps if c not in shown]
    steps = [(_label(c), deltas[c]) for c in shown]
    if rest:
        steps.append((f"{len(rest)} other components", sum(deltas[c] for c in rest)))
    names = [f"NPV {labels[0]}", *[n for n, _ in steps], f"NPV {labels[1]}"]
    xs = [npv_a / scale, *[v / scale for _, v in steps], npv_b / scale]
    comps = [n for n, _ in steps]
    fig = _figure()
    fig.add_trace(
        go.Waterfall(
            orientation="v",
            x=names,
            y=xs,
            measure=["absolute"] + ["relative"] * len(comps) + ["total"],
            text=[f"{npv_a / scale:,.3f}", *[f"{v:+,.3g}" for v in xs[1:-1]], f"{npv_b / scale:,.3f}"],
            textposition="outside",
            increasing={"marker": {"color": BAD_COLOUR}},
            decreasing={"marker": {"color": OK_COLOUR}},
            totals={"marker": {"color": "#1f2328"}},
            connector={"line": {"color": "#d0d7de"}},
            hovertemplate=f"%{{x}}: %{{y:+,.4f}} {unit}<extra></extra>",
        )
    )
    fig.update_yaxes(title_text=f"discounted cost [{unit}]")
    delta = npv_b - npv_a
    rel = delta / abs(npv_a) if abs(npv_a) > 0 else float("nan")
    return _layout(
        fig,
        f"NPV: {labels[1]} − {labels[0]} = {'+' if delta >= 0 else '−'}{fmt_money(abs(delta))}"
        + (f" ({rel:+.2%})" if _finite(rel) else "")
        + " (red: costs more, green: saves)",
        height=440,
        showlegend=False,
    )


def compare_policy_figure(a: xr.Dataset, b: xr.Dataset, labels: tuple[str, str] = ("A", "B")) -> go.Figure:
    """PUE, green share, domestic share and installed EFLOPS by year: A, B and their limits."""
    labels = (plain(labels[0]), plain(labels[1]))
    shown = LIMITS[:4]
    titles = ["PUE [1]", "Green share [%]", "Domestic share [%]", "Installed compute [EFLOPS]"]
    fig = _subplots(rows=1, cols=4, subplot_titles=titles, horizontal_spacing=0.06)
    for col, lim in enumerate(shown, start=1):
        scale = 100.0 if lim.kind == "share" else 1.0
        for ds, lab, colour, dash in ((a, labels[0], "#8c959f", "solid"), (b, labels[1], "#0969da", "solid")):
            fig.add_trace(
                go.Scatter(
                    x=_years(ds),
                    y=_list(achieved(ds, lim) * scale, 5),
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
                        x=_years(ds),
                        y=_list(bounds * scale),
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
    years = sorted(set(_years(a)) | set(_years(b)))
    _year_axis(fig, years)
    return _layout(fig, "Policy KPIs by year (dashed: limits)", height=330)
