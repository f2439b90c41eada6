"""The directions near-optimal alternatives go in: a metric up or down, or a random weighting of the build
decisions that pushes away from what the earlier alternatives built (SPORES-style).

**Build decisions** (:func:`decisions`) are linear forms of the plan's Dataset, like metrics
(:class:`planner.results.metrics.Term`): servers bought per server type, racks bought per cooling
technology, halls, grid blocks, cooling plant units and gensets bought, and PV, battery and each
PPA contract in the last year. The alternatives page shows the range each one takes.

**Random directions** (:func:`random_direction`): the k-th minimises ``sum_i w_i * x_i / scale_i``
over the decisions, with ``w_i = r_i + p_i``: ``r_i`` uniform in [-1, 1] from a generator seeded
by ``(seed, k)``, and ``p_i`` the mean over every earlier alternative of ``x_i / scale_i`` (what
was built before costs more now, so the next alternative builds something else; Lombardi et al.,
SPORES, Joule 2020). ``scale_i`` is the largest value of decision ``i`` in the earlier
alternatives (at least 1 of its unit). The weights depend only on the earlier plans and the seed,
so a resumed study draws the same directions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from planner.results.metrics import Term, linear_value

__all__ = [
    "LEAST_COST",
    "SENSES",
    "Direction",
    "decision_terms",
    "decision_values",
    "decisions",
    "metric_directions",
    "random_direction",
]

LEAST_COST = "least_cost"
"""The id of the least-cost plan among the alternatives."""

SENSES = ("min", "max")


@dataclass(frozen=True)
class Direction:
    """Where one alternative goes."""

    id: str  #: ``least_cost``, ``<metric>-min``, ``<metric>-max`` or ``random-<k>``
    kind: str  #: ``least_cost``, ``metric`` or ``random``
    metric: str = ""
    sense: str = ""  #: ``min`` or ``max`` (metric directions)
    weights: tuple[tuple[str, float], ...] = ()  #: decision -> weight per unit (random directions)

    def describe(self) -> str:
        """The direction in words."""
        if self.kind == "metric":
            return f"{'minimise' if self.sense == 'min' else 'maximise'} {self.metric}"
        if self.kind == "random":
            return f"random direction {self.id.removeprefix('random-')} over the build decisions"
        return "least cost"


def metric_directions(metrics: Sequence[str]) -> list[Direction]:
    """Minimise and maximise each metric, in order."""
    return [Direction(f"{m}-{sense}", "metric", metric=m, sense=sense) for m in metrics for sense in SENSES]


def _one_hot(dim: str, label: str) -> Any:
    def weight(ds: xr.Dataset, s: Any) -> xr.DataArray:
        return (ds[dim] == label).astype(float)

    return weight


def decisions(ds: xr.Dataset) -> dict[str, tuple[str, tuple[Term, ...]]]:
    """Every build decision of the plan's scenario: name -> (units, its linear form)."""
    out: dict[str, tuple[str, tuple[Term, ...]]] = {}
    for a in ds["accelerator"].values.tolist():
        out[f"servers_new:{a}"] = ("servers", (Term("servers_new", _one_hot("accelerator", a)),))
    for c in ds["cooling"].values.tolist():
        out[f"racks_new:{c}"] = ("racks", (Term("racks_new", _one_hot("cooling", c)),))
    out["halls_new"] = ("halls", (Term("halls_new"),))
    out["grid_blocks_new"] = ("blocks", (Term("grid_blocks_new"),))
    out["cooling_units_new"] = ("units", (Term("cooling_units_new"),))
    out["generators_new"] = ("units", (Term("generators_new"),))
    out["pv_mw"] = ("MW", (Term("pv_mw", last_year=True),))
    out["battery_mwh"] = ("MWh", (Term("battery_mwh", last_year=True),))
    for p in ds["ppa"].values.tolist():
        out[f"ppa_mw:{p}"] = ("MW", (Term("ppa_mw", _one_hot("ppa", p), last_year=True),))
    return out


def decision_values(ds: xr.Dataset, s: Any) -> dict[str, float]:
    """The value of every build decision in a plan (servers, racks, ... bought; MW, MWh in the last year)."""
    return {name: linear_value(ds, terms, s) for name, (_, terms) in decisions(ds).items()}


def decision_terms(ds: xr.Dataset, direction: Direction) -> tuple[Term, ...]:
    """A random direction's objective as terms: each decision's form, weighted."""
    forms = decisions(ds)
    terms: list[Term] = []
    for name, w in direction.weights:
        for term in forms[name][1]:
            terms.append(Term(term.variable, _times(term, w), term.last_year))
    return tuple(terms)


def _times(term: Term, factor: float) -> Any:
    def weight(ds: xr.Dataset, s: Any) -> Any:
        return term.weight(ds, s) * factor

    return weight


def random_direction(k: int, seed: int, earlier: Sequence[Mapping[str, float]]) -> Direction:
    """The k-th random direction (k = 1, 2, ...) given the decision values of the earlier alternatives."""
    names = list(earlier[0])
    rng = np.random.default_rng([seed, k])
    r = rng.uniform(-1.0, 1.0, size=len(names))
    values = np.array([[e.get(n, 0.0) for n in names] for e in earlier], dtype=float)
    scale = np.maximum(np.abs(values).max(axis=0), 1.0)
    penalty = (values / scale).mean(axis=0)
    weights = (r + penalty) / scale
    return Direction(f"random-{k}", "random", weights=tuple((n, float(w)) for n, w in zip(names, weights, strict=True)))
