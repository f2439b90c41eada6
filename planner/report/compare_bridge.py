"""The NPV bridge of two plans: the change of discounted cost by cost group (B − A), and the y-axis range
that shows those steps rather than the two NPVs' common bulk.

:func:`planner.report.compare.compare_npv_figure` draws the waterfall from these.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from planner.report.data import coord_names
from planner.report.figures.cost import active_components, discounted
from planner.report.format import as_float
from planner.report.style import COST_GROUPS, OTHER_GROUP, cost_group

__all__ = ["UNEXPLAINED", "bridge_range", "bridge_steps"]

#: The step that closes the bridge when the discounted costs do not add up to the recorded NPVs.
UNEXPLAINED = "not in the cost components"


def _discounted(ds: xr.Dataset, comp: str) -> float:
    if comp not in coord_names(ds, "component"):
        return 0.0
    return as_float(discounted(ds).sel(component=comp).sum().values)


def bridge_steps(a: xr.Dataset, b: xr.Dataset) -> list[tuple[str, float]]:
    """``(cost group, B − A of its discounted cost [CNY])``, in the cost groups' order, zero steps left out.

    The steps add up to ``npv_cny`` of B less that of A: a last step :data:`UNEXPLAINED` takes up
    any rest (none when the discounted components add up to the NPV, as they do).
    """
    by_group: dict[str, float] = {}
    for comp in active_components(a, b):
        group = cost_group(comp)[0]
        by_group[group] = by_group.get(group, 0.0) + _discounted(b, comp) - _discounted(a, comp)
    order = [g for g, _, _ in COST_GROUPS] + [OTHER_GROUP[0]]
    steps = [(g, by_group[g]) for g in order if g in by_group and abs(by_group[g]) > 1e-6]
    total = as_float(b["npv_cny"].values) - as_float(a["npv_cny"].values)
    rest = total - sum(v for _, v in steps)
    if abs(rest) > 1e-6 * max(1.0, abs(total)):
        steps.append((UNEXPLAINED, rest))
    return steps


def bridge_range(start: float, steps: Sequence[float]) -> tuple[float, float]:
    """(low, high) of a waterfall's value axis that shows the steps from ``start``.

    The axis spans the running totals with room below (60 % of their span) and above (40 %, for
    the bar labels). When that would reach within a quarter of the way to 0, the axis starts at 0
    instead: the steps are then large enough to read against the whole.
    """
    levels = np.cumsum([start, *steps])
    low, high = float(levels.min()), float(levels.max())
    span = high - low
    if span <= 1e-9 * max(1.0, abs(start)):
        span = 0.02 * abs(start) or 1.0
    lo, hi = low - 0.6 * span, high + 0.4 * span
    if low > 0 and lo <= 0.25 * low:
        lo = 0.0
    if high < 0 and hi >= 0.25 * high:
        hi = 0.0
    return lo, hi
