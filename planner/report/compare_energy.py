"""The energy of two plans by year and source, and its difference (B − A), in GWh.

Each plan's lines are its :func:`planner.report.energy.net_flows`: grid import, each PPA, PV used
and the battery's net (discharge − charge, negative: its losses), which add up to the facility's
energy; then IT, cooling and auxiliary losses, which add up to it too. A line one plan does not
have (a PPA it has no contract for, a battery it does not run) is 0 there. Only the years both
plans have are compared (:func:`planner.report.compare_years.common_years`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import xarray as xr

from planner.report.compare_years import common_years
from planner.report.data import coord_names, plan_years
from planner.report.energy import Flow, annual_gwh, net_flows
from planner.report.format import decimals, numbers, plain
from planner.report.style import PPA_COLOURS, SUPPLY_COLOURS, empty_figure, layout, subplots, year_axis

__all__ = [
    "FACILITY",
    "EnergyDeltaRow",
    "compare_energy_figure",
    "compare_energy_rows",
    "energy_digits",
    "source_styles",
]

#: The key of the total: the facility's energy (what the sources add up to, and the uses).
FACILITY = "facility"

#: Order of the lines: sources, the facility's total, uses (``ppa:<name>`` ranks as ``ppa``).
_RANK = {"grid": 0, "ppa": 1, "pv": 2, "battery": 3, FACILITY: 4, "it": 5, "cooling": 6, "aux": 7}


#: The facility's energy in the figure: a black dash over each bar.
_TOTAL_MARKER = {"symbol": "line-ew-open", "size": 22, "color": "#1f2328", "line": {"width": 3}}


@dataclass(frozen=True)
class EnergyDeltaRow:
    """One line of the energy of plans A and B in the years both have [GWh/year], and B − A."""

    key: str  #: a :class:`planner.report.energy.Flow` key, or :data:`FACILITY`
    label: str
    side: str  #: ``source``, ``use`` or ``total``
    green: bool | None  #: sources: whether the energy counts as green (None: the battery, the uses, the total)
    years: list[int]
    a: list[float]  #: GWh per year of ``years``
    b: list[float]

    @property
    def delta(self) -> list[float]:
        """B − A per year [GWh]."""
        return [y - x for x, y in zip(self.a, self.b, strict=True)]

    @property
    def tag(self) -> str:
        """``green`` or ``grey`` for a source that is one or the other, else ""."""
        return "" if self.green is None else ("green" if self.green else "grey")


def _rank(key: str) -> int:
    return _RANK[key.split(":", 1)[0]]


def _in_years(ds: xr.Dataset, values: tuple[float, ...] | np.ndarray, years: list[int]) -> list[float]:
    """A plan's per-year values at ``years`` (years it has)."""
    index = plan_years(ds)
    return [float(values[index.index(y)]) for y in years]


def compare_energy_rows(a: xr.Dataset, b: xr.Dataset) -> list[EnergyDeltaRow]:
    """Energy by source and use of A and B [GWh/year] in the years both have: sources, facility total, uses.

    A line is left out when it is 0 in both plans in every year compared (grid, IT, cooling and the
    total always shown).
    """
    years = common_years(a, b)
    flows: dict[str, dict[str, Flow]] = {"a": {f.key: f for f in net_flows(a)}, "b": {f.key: f for f in net_flows(b)}}
    keys = sorted(dict.fromkeys([*flows["a"], *flows["b"]]), key=_rank)  # stable: A's PPAs first, then B's
    rows = []
    for key in keys:
        fa, fb = flows["a"].get(key), flows["b"].get(key)
        ref = fa or fb
        assert ref is not None
        va = _in_years(a, fa.gwh, years) if fa else [0.0] * len(years)
        vb = _in_years(b, fb.gwh, years) if fb else [0.0] * len(years)
        if key not in ("grid", "it", "cooling") and not any(abs(v) > 1e-9 for v in va + vb):
            continue
        rows.append(EnergyDeltaRow(key, ref.label, ref.side, ref.green, years, va, vb))
    total = [_in_years(ds, annual_gwh(ds, ds["facility_power_mw"]), years) for ds in (a, b)]
    at = next((i for i, r in enumerate(rows) if r.side == "use"), len(rows))
    rows.insert(at, EnergyDeltaRow(FACILITY, "facility energy", "total", None, years, total[0], total[1]))
    return rows


def energy_digits(rows: list[EnergyDeltaRow]) -> int:
    """Decimals of the energy comparison table: one for all of it, as the plan report's energy table chooses."""
    values = np.array([v for r in rows for v in (*r.a, *r.b)], dtype=float)
    return decimals(values, significant=5, most=3) if values.size else 0


def source_styles(a: xr.Dataset, b: xr.Dataset) -> dict[str, tuple[str, str]]:
    """(name, colour) of each source of either plan by key, in stack order: grid, PPAs, PV, battery (net).

    The colours of the plan report's hourly dispatch; the PPAs of both plans share one palette.
    """
    ppas = list(dict.fromkeys(coord_names(a, "ppa") + coord_names(b, "ppa")))
    return {
        "grid": ("grid import", SUPPLY_COLOURS["grid"]),
        **{f"ppa:{k}": (f"PPA {plain(k)}", PPA_COLOURS[i % len(PPA_COLOURS)]) for i, k in enumerate(ppas)},
        "pv": ("PV", SUPPLY_COLOURS["pv"]),
        "battery": ("battery (net)", SUPPLY_COLOURS["discharge"]),
    }


def compare_energy_figure(a: xr.Dataset, b: xr.Dataset, labels: tuple[str, str] = ("A", "B")) -> go.Figure:
    """Energy by source per year [GWh]: A and B stacked side by side (top), the difference B − A by source (below).

    The black dashes are the facility's energy (the sources' total; the battery's net is negative,
    its losses). Years only one plan has are left out.
    """
    labels = (plain(labels[0]), plain(labels[1]))
    rows = compare_energy_rows(a, b)
    years = common_years(a, b)
    title = f"Energy by source: {labels[0]} | {labels[1]}, and {labels[1]} − {labels[0]}"
    if not years:
        return empty_figure(title, "the plans have no year in common")
    styles = source_styles(a, b)
    pairs = [(y, lab) for y in years for lab in labels]
    x_top = [[str(y) for y, _ in pairs], [lab for _, lab in pairs]]
    fig = subplots(
        rows=2,
        cols=1,
        row_heights=[0.58, 0.42],
        vertical_spacing=0.16,
        subplot_titles=(
            f"Energy by source [GWh/year]: {labels[0]} | {labels[1]}",
            f"Difference {labels[1]} − {labels[0]} [GWh/year]",
        ),
    )
    unit = "GWh"
    for r in rows:
        if r.side == "use":
            continue
        if r.side == "total":
            name, marker = "facility energy", dict(_TOTAL_MARKER)
        else:
            name, colour = styles[r.key]
            marker = {"color": colour}
        top = [v for y in range(len(years)) for v in (r.a[y], r.b[y])]
        kind = go.Scatter if r.side == "total" else go.Bar
        extra = {"mode": "markers"} if r.side == "total" else {}
        fig.add_trace(
            kind(
                x=x_top,
                y=numbers(top, 6),
                name=name,
                legendgroup=r.key,
                marker=marker,
                hovertemplate=f"{name}<br>%{{x}}: %{{y:,.3f}} {unit}<extra></extra>",
                **extra,
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            kind(
                x=years,
                y=numbers(r.delta, 6),
                name=name,
                legendgroup=r.key,
                showlegend=False,
                marker=marker,
                hovertemplate=f"{name}<br>%{{x}}: %{{y:+,.3f}} {unit}<extra>{labels[1]} − {labels[0]}</extra>",
                **extra,
            ),
            row=2,
            col=1,
        )
    fig.update_layout(barmode="relative")
    year_axis(fig, years, row=2, col=1)
    fig.update_xaxes(tickfont={"size": 10}, row=1, col=1)
    fig.update_yaxes(title_text=f"energy [{unit}/year]", row=1, col=1)
    fig.update_yaxes(title_text=f"Δ [{unit}/year]", zeroline=True, zerolinecolor="#57606a", row=2, col=1)
    return layout(fig, title, height=620, legend={"y": -0.1})
