"""Objective: the net present value of every cost the plan causes inside the horizon.

Each subsystem registers its annual (undiscounted) cost terms in ``m.cost_terms`` as
``name -> rule(m, y)`` [MCNY/year]; this module turns them into one indexed Expression
``annual_cost[component, y]`` and minimises ``sum_y DF_y * sum_k annual_cost[k, y]``. The
results report the same expressions, so reported costs add up to the objective exactly.
"""

from __future__ import annotations

import pyomo.environ as pyo

from planner.model.data import ModelData

__all__ = ["add_objective"]


def add_objective(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Add ``annual_cost[k, y]`` [MCNY/year], ``discount_factor[y]`` [-] and the NPV objective."""
    terms = dict(m.cost_terms)
    m.COMPONENT = pyo.Set(initialize=list(terms), ordered=True, doc="cost components")
    m.annual_cost = pyo.Expression(
        m.COMPONENT, m.Y, rule=lambda m, k, y: terms[k](m, y), doc="cost of component k in year y [MCNY/year]"
    )
    m.discount_factor = pyo.Param(m.Y, initialize=data.discount, doc="DF_y = (1 + r)^-(y - y0) [-]")
    m.npv = pyo.Objective(
        expr=sum(m.discount_factor[y] * m.annual_cost[k, y] for k in m.COMPONENT for y in m.Y),
        sense=pyo.minimize,
        doc="NPV = sum_y DF_y * sum_k annual_cost[k,y]   [MCNY]",
    )
