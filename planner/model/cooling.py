"""Cooling: temperature-dependent cooling power and the N+k heat-rejection plant.

``kappa[c,d,h]`` [kW electric per kW IT heat] is precomputed from ambient temperature in
:func:`planner.timeseries.cooling_coefficient` (free cooling below a threshold, partial
economiser, mechanical COP above). Plant units are linked to racks through a binary
"technology in use" so that a technology without racks needs no spare units.
"""

from __future__ import annotations

import math

import pyomo.environ as pyo

from planner.model.data import MCNY, ModelData

__all__ = ["add_cooling"]


def add_cooling(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Add cooling power, plant units, the in-use link and the N+k plant constraint."""
    s = data.scenario
    cool, hall = s.cooling, s.facility.hall
    first = data.years[0]

    kappa = {(c, d, h): float(data.time.kappa[c][d, h]) for c in m.C for d in m.D for h in m.H}
    m.cooling_coefficient = pyo.Param(
        m.C, m.D, m.H, initialize=kappa, doc="kappa[c,d,h]: cooling power per IT power [-]"
    )
    m.cooling_power = pyo.Expression(
        m.Y,
        m.D,
        m.H,
        rule=lambda m, y, d, h: sum(m.cooling_coefficient[c, d, h] * m.it_power[c, y, d, h] for c in m.C),
        doc="P_cool[y,d,h] = sum_c kappa[c,d,h] * P_it[c,y,d,h]   [MW]",
    )

    # ---------------------------------------------------------------- plant units
    m.cooling_units_new = pyo.Var(m.C, m.Y, within=pyo.NonNegativeIntegers, doc="cu[c,y]: new plant units [units]")
    m.cooling_unit_capex = pyo.Param(
        m.C,
        m.Y,
        mutable=True,
        initialize={(c, y): cool[c].plant.capex_cny_per_unit.at(y) / MCNY for c in m.C for y in m.Y},
        doc="price of one plant unit [MCNY/unit]",
    )

    def units(m: pyo.ConcreteModel, c: str, y: int) -> pyo.Expression:
        life = cool[c].plant.lifetime_years
        built = sum(m.cooling_units_new[c, v] for v in data.vintages(data.years, life, y))
        return data.existing_count(s.existing.cooling_units, y, life, cooling=c) + built

    m.cooling_units = pyo.Expression(m.C, m.Y, rule=units, doc="K[c,y]: plant units in service [units]")
    m.cooling_in_use = pyo.Var(m.C, m.Y, within=pyo.Binary, doc="u[c,y]: technology c has racks in year y [-]")

    def rack_bound(c: str) -> float:
        """Most racks of technology c the site can ever hold (big-M of the in-use link)."""
        existing = sum(e.count for e in s.existing.racks if e.cooling == c)
        return max(existing, math.floor(s.facility.max_halls * hall.rack_slots / cool[c].floor_slots_per_rack))

    m.cooling_use_link = pyo.Constraint(
        m.C,
        m.Y,
        rule=lambda m, c, y: m.racks[c, y] <= rack_bound(c) * m.cooling_in_use[c, y],
        doc="R[c,y] <= Rmax_c * u[c,y]   [racks]",
    )

    def plant(m: pyo.ConcreteModel, c: str, y: int, d: int, h: int) -> pyo.Expression:
        unit, k = cool[c].plant.unit_mw, cool[c].plant.redundancy
        return m.it_power[c, y, d, h] <= unit * (m.cooling_units[c, y] - k * m.cooling_in_use[c, y])

    m.cooling_plant = pyo.Constraint(
        m.C,
        m.Y,
        m.D,
        m.H,
        rule=plant,
        doc="P_it[c,y,d,h] <= unit_mw_c * (K[c,y] - k_c * u[c,y])   [MW]  (N+k plant)",
    )

    # ---------------------------------------------------------------- costs [MCNY/year]
    def plant_capital(m: pyo.ConcreteModel, y: int) -> pyo.Expression:
        """sum_c sum_(v alive in y) (CRF + fom) * unit_capex[c,v] * cu[c,v]   [MCNY/year]"""
        return sum(
            data.annual_capital_charge(
                m.cooling_unit_capex[c, v], cool[c].plant.lifetime_years, cool[c].plant.fixed_om_fraction
            )
            * m.cooling_units_new[c, v]
            for c in m.C
            for v in data.vintages(data.years, cool[c].plant.lifetime_years, y)
        )

    def existing_om(m: pyo.ConcreteModel, y: int) -> float:
        """fixed O&M of existing plant units at first-year capex   [MCNY/year]"""
        return (
            sum(
                data.existing_count(s.existing.cooling_units, y, cool[c].plant.lifetime_years, cooling=c)
                * cool[c].plant.fixed_om_fraction
                * cool[c].plant.capex_cny_per_unit.at(first)
                for c in m.C
            )
            / MCNY
        )

    m.cost_terms["cooling_plant_capital"] = plant_capital
    m.cost_terms["fixed_om_existing_cooling"] = existing_om
