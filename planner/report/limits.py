"""What a report says about each policy limit: does it bind, how much room is left, what it costs.

* **Badges**, per limit and year (:func:`badges`): *binding* where
  :func:`planner.results.kpis.binding` says so (the plan at the limit within
  ``BINDING_RTOL * max(1, |limit|)``, or a nonzero shadow price), *headroom X* (how far the plan
  is inside the limit, in the limit's unit), *missed by X*, or *not set*.
* **Marginal cost** (:func:`marginal_text`): the shadow price with its unit and step spelled out,
  ``"1.53 M CNY (NPV) per 0.01 lower PUE cap"``; ``"< 5 k CNY (NPV) per ..."`` below
  :data:`TINY_PRICE_CNY`; ``"not binding"`` where the price is 0 (or missing) and the limit does
  not bind. Shadow prices are NPV: the objective is the sum of discounted costs.
* **Total cost of a limit** (:func:`limit_cost_text`): ``limit_cost_cny`` and its interval
  ``[limit_cost_low_cny, limit_cost_high_cny]``, written by ``plan solve --limit-costs``
  (``planner.studies.limit_costs``); :data:`LIMIT_COSTS_HINT` where the results have none.

The terminal summary (:mod:`planner.report.terminal`) and the HTML report use these same texts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from planner.report.format import MISSING, finite, fmt_compute, fmt_money, fmt_share
from planner.results.kpis import binding, headroom, limit_bounds

__all__ = [
    "LIMITS",
    "LIMIT_COSTS_HINT",
    "TINY_PRICE_CNY",
    "Badge",
    "Limit",
    "badges",
    "fmt_headroom",
    "fmt_price",
    "has_limit_costs",
    "limit_cost_text",
    "marginal_text",
    "step_text",
]


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

#: Nonzero shadow prices smaller than this [CNY per step] read ``< 5 k CNY``: the terminal's table in
#: M CNY with two decimals would show them as 0.00, and at this size a dual says little more.
TINY_PRICE_CNY = 5e3

LIMIT_COSTS_HINT = "plan solve --limit-costs gives the total cost of each binding limit"


@dataclass(frozen=True)
class Badge:
    """Whether a limit binds in one year, in a word or two."""

    state: str  #: "binding", "headroom", "missed" or "unset"
    text: str  #: "binding", "headroom 0.200", "missed by 1.0 pp", "not set"
    headroom: float  #: in the limit's unit (NaN: not set)


def fmt_headroom(value: float, kind: str) -> str:
    """A distance from a limit in the limit's unit: ``0.200`` (PUE), ``5.0 pp`` (shares), ``1.0 EFLOPS``, ``12.3 kt``
    (sign dropped: the badge says which side of the limit the plan is on).
    """
    if not finite(value):
        return MISSING
    value = abs(float(value))
    if kind == "share":
        return f"{fmt_share(value).removesuffix(' %')} pp"
    if kind == "ratio":
        return f"{value:.3f}"
    if kind == "eflops":
        return fmt_compute(value * 1000)
    return f"{value / 1000:,.1f} kt"


def badges(ds: xr.Dataset) -> dict[tuple[str, int], Badge]:
    """The badge of every limit in every year, by ``(limit key, year)`` (:func:`planner.results.kpis.binding`)."""
    binds, room, bounds = binding(ds), headroom(ds), limit_bounds(ds)
    out: dict[tuple[str, int], Badge] = {}
    for lim in LIMITS:
        for y in (int(v) for v in ds["year"].values):
            r = float(room.sel(limit=lim.key, year=y))
            if not np.isfinite(float(bounds.sel(limit=lim.key, year=y))):
                out[(lim.key, y)] = Badge("unset", "not set", float("nan"))
            elif bool(binds.sel(limit=lim.key, year=y)):
                out[(lim.key, y)] = Badge("binding", "binding", r)
            elif r < 0:
                out[(lim.key, y)] = Badge("missed", f"missed by {fmt_headroom(r, lim.kind)}", r)
            else:
                out[(lim.key, y)] = Badge("headroom", f"headroom {fmt_headroom(r, lim.kind)}", r)
    return out


def step_text(method: str) -> str:
    """The step a shadow price is per, from its method (``"...; per 0.01 lower PUE cap"``), else ``per step``."""
    _, sep, step = str(method).partition(";")
    return step.strip() if sep and step.strip() else "per step"


def marginal_text(price: float, step: str, binds: bool) -> str:
    """A shadow price in words: ``1.53 M CNY (NPV) per 0.01 lower PUE cap``, ``< 5 k CNY (NPV) per ...``,
    ``not binding``, ``0 at the margin`` (at the limit with a zero dual: one step tighter may still
    cost something, docs/prices.md) or ``not priced``.
    """
    if not finite(price):
        return "not priced" if binds else "not binding"
    if abs(price) == 0:
        return "0 at the margin" if binds else "not binding"
    return f"{fmt_price(price)} (NPV) {step}".rstrip()


def fmt_price(price: float) -> str:
    """A nonzero shadow price [CNY]: ``1.53 M CNY``, or ``< 5 k CNY`` below :data:`TINY_PRICE_CNY`."""
    if finite(price) and 0 < abs(price) < TINY_PRICE_CNY:
        return f"< {TINY_PRICE_CNY / 1e3:g} k CNY"
    return fmt_money(price)


def has_limit_costs(ds: xr.Dataset) -> bool:
    """Whether the results hold the total cost of the binding limits (``plan solve --limit-costs``)."""
    return "limit_cost_cny" in ds and "limit" in ds["limit_cost_cny"].dims


def limit_cost_text(ds: xr.Dataset, key: str) -> tuple[str, str]:
    """(amount, interval) of a limit's total cost: ``("200 k CNY (NPV)", "between 199 k and 201 k CNY")``.

    ``("not set", "")`` where the limit is set in no year, ``("not binding", "")`` where it binds
    in none, ``("not computed", why)`` where it binds but the results hold no cost for it.
    """
    binds = binding(ds)
    if key not in binds["limit"].values or not bool(limit_bounds(ds).sel(limit=key).notnull().any()):
        return "not set", ""
    if not bool(binds.sel(limit=key).any()):
        return "not binding", ""
    if not has_limit_costs(ds) or key not in [str(v) for v in ds["limit_cost_cny"]["limit"].values]:
        return "not computed", LIMIT_COSTS_HINT
    value = float(ds["limit_cost_cny"].sel(limit=key))
    if not np.isfinite(value):
        note = str(ds["limit_cost_method"].sel(limit=key).values) if "limit_cost_method" in ds else ""
        return "not computed", note
    low, high = (float(ds[f"limit_cost_{end}_cny"].sel(limit=key)) for end in ("low", "high"))
    interval = f"between {fmt_money(low)} and {fmt_money(high)}" if finite(low) and finite(high) else ""
    return f"{fmt_money(value)} (NPV)", interval
