"""Stocks in service as variables with one defining row each.

A stock (servers, racks, halls, plant units, grid blocks, gensets, PV, battery) is the existing
fleet still in service plus every vintage built inside the horizon and not yet retired. Written
as an expression, each of the thousands of hourly rows that mention a stock would repeat all its
vintage terms; as a variable with one defining row per index, every hourly row holds a single
coefficient for it. Same optimum, a much sparser matrix (fewer nonzeros for the LP to carry).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyomo.environ as pyo

__all__ = ["add_stock"]


def add_stock(
    m: pyo.ConcreteModel,
    name: str,
    index: tuple[Any, ...],
    rule: Callable[..., Any],
    symbol: str,
    meaning: str,
    unit: str,
) -> pyo.Var:
    """Add stock variable ``m.<name>`` and its defining row ``m.<name>_def``.

    Parameters
    ----------
    m : ConcreteModel
        The model.
    name : str
        Component name of the stock variable.
    index : tuple
        Index sets of the stock.
    rule : callable
        ``rule(m, *index) -> expression``: existing units in service plus the builds still alive.
    symbol, meaning, unit : str
        For the docs: e.g. ``"N[a,c,y]"``, ``"servers in service"``, ``"servers"``.
    """
    var = pyo.Var(*index, within=pyo.NonNegativeReals, doc=f"{symbol}: {meaning} [{unit}]")
    m.add_component(name, var)

    def define(m: pyo.ConcreteModel, *i: Any) -> Any:
        key = i[0] if len(i) == 1 else i
        return var[key] == rule(m, *i)

    m.add_component(
        f"{name}_def",
        pyo.Constraint(
            *index,
            rule=define,
            doc=f"{symbol} = existing in service + sum_(v alive) new[v]   [{unit}]",
        ),
    )
    return var
