"""Two plans year by year: each policy limit's achieved value, limit, badge and marginal cost in A and B,
and the delta table ``plan compare`` prints in the terminal.

Pure functions of two results Datasets (:func:`policy_year_rows`, :func:`common_years`,
:func:`years_note`); :func:`print_compare` writes the terminal summary with rich. The comparison page
(:mod:`planner.report.compare`) shows the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import xarray as xr
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from planner.report.data import coord_names, emissions, plan_years
from planner.report.format import MISSING, as_float, finite, fmt_limit_value, fmt_money, fmt_share, fmt_signed_money
from planner.report.inputs import InputDifference
from planner.report.labels import accelerator_label
from planner.report.limits import LIMITS, Badge, badges, fmt_price, step_text
from planner.results.kpis import limit_achieved, limit_bounds

__all__ = [
    "PolicyYearRow",
    "common_years",
    "fmt_delta",
    "policy_year_rows",
    "print_compare",
    "server_rows",
    "years_note",
]

#: How many input differences the terminal lists by name (the page lists them all).
TERMINAL_INPUTS = 5


@dataclass(frozen=True)
class PolicyYearRow:
    """One policy limit in one year of plans A and B (NaN / None where a plan has no such year)."""

    key: str
    label: str
    kind: str  #: the limit's unit: "ratio", "share", "eflops", "t"
    sense: str  #: "≤" (a cap) or "≥" (a minimum)
    year: int
    a: float  #: the KPI the limit bounds, achieved by A
    b: float
    limit_a: float  #: the limit in A (NaN: not set)
    limit_b: float
    badge_a: Badge | None
    badge_b: Badge | None
    price_a: str  #: marginal cost (shadow price) text, ``1.5 M CNY per 0.01 lower PUE cap`` or ``–``
    price_b: str

    @property
    def delta(self) -> float:
        """B − A of the achieved value."""
        return self.b - self.a

    @property
    def delta_text(self) -> str:
        """B − A in the limit's unit (:func:`fmt_delta`)."""
        return fmt_delta(self.delta, self.kind)

    def text(self, value: float) -> str:
        """A value of this row in the limit's unit."""
        return fmt_limit_value(value, self.kind)


def fmt_delta(value: float, kind: str) -> str:
    """A difference in a limit's unit: ``+0.020`` (PUE), ``−1.5 pp``, ``+0.1 EFLOPS``, ``+12.0 kt``, ``±0``."""
    if not finite(value):
        return MISSING
    if abs(value) < 1e-9:
        return "±0"
    sign = "+" if value > 0 else "−"
    if kind == "share":
        return f"{sign}{abs(value) * 100:.1f} pp"
    return sign + fmt_limit_value(abs(value), kind)


def _price(ds: xr.Dataset, key: str, year: int) -> str:
    """The shadow price of a limit in a year as text (``–`` where the plan has no price there)."""
    if "shadow_price" not in ds or "limit" not in ds.coords or year not in plan_years(ds):
        return MISSING
    names = [str(v) for v in ds["limit"].values]
    name = next((n for n in (key, key.replace("_compute", "")) if n in names), None)
    if name is None:
        return MISSING
    price = as_float(ds["shadow_price"].sel(limit=name, year=year).values)
    if not finite(price):
        return MISSING
    if price == 0:
        return "0"
    method = str(ds["shadow_price_method"].sel(limit=name, year=year).values) if "shadow_price_method" in ds else ""
    return f"{fmt_price(price)} {step_text(method)}"


def _at(ds: xr.Dataset, values: xr.DataArray, key: str, year: int) -> float:
    if year not in plan_years(ds):
        return float("nan")
    return as_float(values.sel(limit=key, year=year).values)


def policy_year_rows(a: xr.Dataset, b: xr.Dataset) -> list[PolicyYearRow]:
    """Every policy limit in every year of either plan: achieved in A and B, the limits, badges, marginal costs.

    Limits set in neither plan in any year are left out, except the first four (PUE, green share,
    domestic share, installed compute), whose achieved values mean something without a limit.
    """
    years = sorted(set(plan_years(a)) | set(plan_years(b)))
    got_a, got_b = limit_achieved(a), limit_achieved(b)
    lim_a, lim_b = limit_bounds(a), limit_bounds(b)
    badge_a, badge_b = badges(a), badges(b)
    rows = []
    for i, lim in enumerate(LIMITS):
        set_anywhere = bool(lim_a.sel(limit=lim.key).notnull().any() or lim_b.sel(limit=lim.key).notnull().any())
        if i >= 4 and not set_anywhere:
            continue
        for y in years:
            rows.append(
                PolicyYearRow(
                    lim.key,
                    lim.label,
                    lim.kind,
                    "≤" if lim.upper else "≥",
                    y,
                    _at(a, got_a, lim.key, y),
                    _at(b, got_b, lim.key, y),
                    _at(a, lim_a, lim.key, y),
                    _at(b, lim_b, lim.key, y),
                    badge_a.get((lim.key, y)),
                    badge_b.get((lim.key, y)),
                    _price(a, lim.key, y),
                    _price(b, lim.key, y),
                )
            )
    return rows


def common_years(a: xr.Dataset, b: xr.Dataset) -> list[int]:
    """The years both plans have, in order (energy and dispatch are compared in these only)."""
    return sorted(set(plan_years(a)) & set(plan_years(b)))


def years_note(a: xr.Dataset, b: xr.Dataset, labels: tuple[str, str]) -> str:
    """What the years both plans have leave out, as a sentence ("" when the plans have the same years)."""
    only_a = sorted(set(plan_years(a)) - set(plan_years(b)))
    only_b = sorted(set(plan_years(b)) - set(plan_years(a)))
    if not only_a and not only_b:
        return ""
    parts = [f"{', '.join(map(str, ys))} only in {lab}" for ys, lab in ((only_a, labels[0]), (only_b, labels[1])) if ys]
    if not common_years(a, b):
        return f"The plans have no year in common ({'; '.join(parts)})."
    return f"Only the years both plans have are compared ({'; '.join(parts)})."


def server_rows(a: xr.Dataset, b: xr.Dataset) -> list[tuple[str, float, float]]:
    """(server type by display name, servers in service in A's final year, in B's) of each type either plan has."""

    def final(ds: xr.Dataset, acc: str) -> float:
        if acc not in coord_names(ds, "accelerator"):
            return 0.0
        return as_float(ds["servers"].sel(accelerator=acc).isel(year=-1).sum().values)

    accs = list(dict.fromkeys(coord_names(a, "accelerator") + coord_names(b, "accelerator")))
    rows = []
    for acc in accs:
        name = accelerator_label(a if acc in coord_names(a, "accelerator") else b, acc)
        va, vb = final(a, acc), final(b, acc)
        if abs(va) > 1e-6 or abs(vb) > 1e-6:
            rows.append((name, va, vb))
    return rows


# ====================================================================== the terminal


def _signed(value: float, kind: str) -> str:
    if kind != "num" or not finite(value) or abs(value) < 1e-9:
        return fmt_delta(value, kind)
    return f"{value:+,.3g}"


def _count_delta(value: float) -> str:
    """A difference of counts: ``+12``, ``−3``, ``±0``."""
    if abs(value) < 0.5:
        return "±0"
    return f"{'+' if value > 0 else '−'}{abs(value):,.0f}"


def _percent(relative: float) -> str:
    return f"{relative:+.2%}" if finite(relative) else MISSING


def _by_year(ds: xr.Dataset, values: np.ndarray, years: list[int]) -> list[float]:
    by = dict(zip(plan_years(ds), np.asarray(values, dtype=float), strict=True))
    return [float(by.get(y, np.nan)) for y in years]


def _terminal_figures() -> list[tuple[str, Callable[[xr.Dataset], np.ndarray], Callable[[float], str], str]]:
    """(label, per-year values, format, kind of the difference) of each figure of the terminal delta table."""
    return [
        ("PUE", lambda ds: ds["pue"].values, lambda v: fmt_limit_value(v, "ratio"), "ratio"),
        ("green share", lambda ds: ds["green_share"].values, fmt_share, "share"),
        ("domestic share", lambda ds: ds["domestic_share"].values, fmt_share, "share"),
        (
            "installed [EFLOPS]",
            lambda ds: ds["installed_pflops"].values / 1e3,
            lambda v: MISSING if not finite(v) else f"{v:,.3g}",
            "num",
        ),
        (
            "emissions [kt CO₂]",
            lambda ds: emissions(ds) / 1e3,
            lambda v: MISSING if not finite(v) else f"{v:,.1f}",
            "num",
        ),
    ]


def print_compare(
    a: xr.Dataset,
    b: xr.Dataset,
    labels: tuple[str, str],
    differences: list[InputDifference],
    console: Console,
) -> None:
    """The terminal summary of ``plan compare``: NPV A, B and Δ, and the servers of each type (by vendor
    and chip) in service in the final year; the policy figures per year A → B; how many inputs differ
    and the first few.
    """
    npv_a, npv_b = as_float(a["npv_cny"].values), as_float(b["npv_cny"].values)
    la, lb = escape(labels[0]), escape(labels[1])
    console.print(f"\n[bold]{la} → {lb}[/] (A → B, Δ = B − A)")
    head = Table()
    for name in ("figure", f"A: {la}", f"B: {lb}", "Δ", "Δ %"):
        head.add_column(name, justify="left" if name == "figure" else "right")
    rel = (npv_b - npv_a) / abs(npv_a) if finite(npv_a) and abs(npv_a) > 0 else float("nan")
    head.add_row(
        "NPV of all costs",
        fmt_money(npv_a),
        fmt_money(npv_b),
        fmt_signed_money(npv_b - npv_a),
        _percent(rel),
    )
    for name, in_a, in_b in server_rows(a, b):
        change = (in_b - in_a) / abs(in_a) if abs(in_a) > 0 else float("nan")
        head.add_row(
            f"servers {escape(name)}, final year",
            f"{in_a:,.0f}",
            f"{in_b:,.0f}",
            _count_delta(in_b - in_a),
            _percent(change),
        )
    console.print(head)
    table = Table()
    table.add_column("by year: A → B (Δ)")
    years = sorted(set(plan_years(a)) | set(plan_years(b)))
    for y in years:
        table.add_column(str(y), justify="right")
    for name, values, fmt, kind in _terminal_figures():
        va, vb = _by_year(a, values(a), years), _by_year(b, values(b), years)
        cells = [f"{fmt(x)} → {fmt(z)} ({_signed(z - x, kind)})" for x, z in zip(va, vb, strict=True)]
        table.add_row(escape(name), *cells)
    console.print(table)
    if not differences:
        console.print("inputs: the same (no input differs)")
    else:
        n = len(differences)
        first = f" (the first {TERMINAL_INPUTS}:)" if n > TERMINAL_INPUTS else ":"
        console.print(f"inputs: {n} differ{'s' if n == 1 else ''}{first}")
        for d in differences[:TERMINAL_INPUTS]:
            console.print(f"  {escape(d.path)}: {escape(d.a)} → {escape(d.b)}", soft_wrap=True)
        if n > TERMINAL_INPUTS:
            console.print(f"  … and {n - TERMINAL_INPUTS} more (listed in the HTML page)")
