"""Which decisions are taken now and which wait: the stages of a plan across futures (DESIGN.md §9).

**The rule.** A column of the model is *first-stage* (decided now, shared by every future) when

1. it is a *decision*: the purchases of a unit that a capital cost term charges (every ``new`` of
   ``m.capital_builds``: servers, racks, halls, cooling plant units, grid blocks, PV, gensets,
   battery energy and power) or a contract signed for a year (``m.contracts``: PPA MW, compute
   leased from or sold to another hub), and
2. its *year*, the last element of its index, is at most ``commit_until``.

Everything else is the future's own (*recourse*): the same decisions in later years, and all
operation (hourly dispatch, shortfall, certificates bought for a year, which are an annual purchase
of the year's green share rather than a commitment), and the variables that follow from the
decisions (stocks, the binaries that say a technology or the site is in use).

The rule reads only the registries each subsystem fills when it adds an asset or a contract
(:func:`planner.model.assets.add_asset`), never component names: a new asset, or a new index
before the year (a ``site``), is first-stage by the same rule without a change here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pyomo.environ as pyo

__all__ = ["decision_components", "decision_units", "first_stage_mask", "first_stage_values", "year_of"]


def decision_components(m: pyo.ConcreteModel) -> list[Any]:
    """The Var components that are decisions: every build of ``m.capital_builds`` and every contract of
    ``m.contracts``, each once, in the model's registration order.
    """
    out: dict[int, Any] = {}
    for builds in m.capital_builds.values():
        for b in builds:
            out.setdefault(id(b.new), b.new)
    for var in getattr(m, "contracts", {}).values():
        out.setdefault(id(var), var)
    return list(out.values())


def year_of(v: Any) -> Any:
    """The year of a variable: the last element of its index."""
    index = v.index()
    return index[-1] if isinstance(index, tuple) else index


def first_stage_mask(m: pyo.ConcreteModel, columns: Sequence[Any] | Iterable[Any], commit_until: int) -> np.ndarray:
    """Per column (Pyomo VarData of a compiled model): is it first-stage (see the module docstring)?"""
    decisions = {id(c) for c in decision_components(m)}
    return np.array(
        [id(v.parent_component()) in decisions and int(year_of(v)) <= commit_until for v in columns], dtype=bool
    )


def first_stage_values(m: pyo.ConcreteModel, commit_until: int) -> dict[str, float]:
    """The first-stage decisions of a solved model: column name (``servers_new[h200,air,2026]``) -> value."""
    out: dict[str, float] = {}
    for component in decision_components(m):
        for v in component.values():
            if v.value is not None and int(year_of(v)) <= commit_until:
                out[v.name] = float(v.value)
    return out


def decision_units(m: pyo.ConcreteModel) -> dict[str, str]:
    """The unit of each decision component, read from the last ``[...]`` of its doc: name -> unit."""
    out = {}
    for component in decision_components(m):
        doc = component.doc or ""
        unit = doc[doc.rfind("[") + 1 : doc.rfind("]")] if "[" in doc and doc.rstrip().endswith("]") else ""
        out[component.local_name] = unit
    return out
