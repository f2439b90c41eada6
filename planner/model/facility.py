"""Facility: racks of each cooling technology, data halls, and the IT power they carry.

Symbols as in ``compute.py``; ``R[c,y]`` racks in service, ``H[y]`` halls in service,
``P_it[c,y,d,h]`` IT power drawn in racks of technology ``c`` [MW].
"""

from __future__ import annotations

import pyomo.environ as pyo

from planner.model.data import MCNY, ModelData
from planner.model.stocks import add_stock

__all__ = ["add_facility", "parameters"]


def parameters(data: ModelData) -> dict[str, dict]:
    """Values of this subsystem's mutable parameters."""
    s = data.scenario
    return {
        "rack_capex": {(c, y): s.cooling[c].capex_cny_per_rack.at(y) / MCNY for c in data.cooling for y in data.years},
        "hall_capex": {y: s.facility.hall.capex_cny.at(y) / MCNY for y in data.years},
    }


def add_facility(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Add racks, halls, IT power per technology and the rack/hall limits."""
    s = data.scenario
    acc, cool, hall = s.accelerators, s.cooling, s.facility.hall
    first = data.years[0]

    # ---------------------------------------------------------------- racks
    m.racks_new = pyo.Var(m.C, m.Y, within=pyo.NonNegativeIntegers, doc="r[c,y]: new racks [racks]")
    values = parameters(data)
    m.rack_capex = pyo.Param(
        m.C,
        m.Y,
        mutable=True,
        initialize=values["rack_capex"],
        doc="price of one rack [MCNY/rack]",
    )

    def racks(m: pyo.ConcreteModel, c: str, y: int) -> pyo.Expression:
        return data.in_service(m.racks_new, cool[c].lifetime_years, y, s.existing.racks, key=(c,), cooling=c)

    add_stock(m, "racks", (m.C, m.Y), racks, "R[c,y]", "racks in service", "racks")

    def pairs_of(c: str) -> list[tuple[str, str]]:
        return [(a, cc) for a, cc in m.AC if cc == c]

    def rack_power(m: pyo.ConcreteModel, c: str, y: int) -> pyo.Expression:
        if not pairs_of(c):
            return pyo.Constraint.Skip
        return sum(acc[a].full_kw * m.servers[a, c, y] for a, _ in pairs_of(c)) <= cool[c].rack_kw_max * m.racks[c, y]

    m.rack_power = pyo.Constraint(
        m.C, m.Y, rule=rack_power, doc="sum_a full_kw_a * N[a,c,y] <= rack_kw_c * R[c,y]   [kW]"
    )

    def rack_space(m: pyo.ConcreteModel, c: str, y: int) -> pyo.Expression:
        if not pairs_of(c):
            return pyo.Constraint.Skip
        return sum(acc[a].rack_units * m.servers[a, c, y] for a, _ in pairs_of(c)) <= cool[c].rack_units * m.racks[c, y]

    m.rack_space = pyo.Constraint(m.C, m.Y, rule=rack_space, doc="sum_a U_a * N[a,c,y] <= rack_units_c * R[c,y]   [U]")

    # ---------------------------------------------------------------- halls
    max_new = s.facility.max_new_halls_per_year
    m.halls_new = pyo.Var(
        m.Y, within=pyo.NonNegativeIntegers, bounds=(0, max_new), doc="hall[y]: new data halls [halls]"
    )
    m.hall_capex = pyo.Param(m.Y, mutable=True, initialize=values["hall_capex"], doc="price of a hall [MCNY/hall]")

    def halls(m: pyo.ConcreteModel, y: int) -> pyo.Expression:
        return data.in_service(m.halls_new, hall.lifetime_years, y, s.existing.halls)

    add_stock(m, "halls", (m.Y,), halls, "H[y]", "halls in service", "halls")
    m.hall_limit = pyo.Constraint(
        m.Y, rule=lambda m, y: m.halls[y] <= s.facility.max_halls, doc="H[y] <= max_halls   [halls]"
    )
    m.hall_space = pyo.Constraint(
        m.Y,
        rule=lambda m, y: (
            sum(cool[c].floor_slots_per_rack * m.racks[c, y] for c in m.C) <= hall.rack_slots * m.halls[y]
        ),
        doc="sum_c slots_c * R[c,y] <= hall_slots * H[y]   [slots]",
    )
    m.hall_nameplate = pyo.Constraint(
        m.Y,
        rule=lambda m, y: (
            sum(acc[a].full_kw / 1000 * m.servers[a, c, y] for a, c in m.AC)
            <= s.facility.oversubscription * hall.it_mw * m.halls[y]
        ),
        doc="sum_(a,c) full_kw_a / 1000 * N[a,c,y] <= oversubscription * hall_mw * H[y]   [MW]",
    )

    # ---------------------------------------------------------------- IT power
    m.it_power = pyo.Var(m.C, m.Y, m.D, m.H, within=pyo.NonNegativeReals, doc="P_it[c,y,d,h]: IT power [MW]")

    def it_power_def(m: pyo.ConcreteModel, c: str, y: int, d: int, h: int) -> pyo.Expression:
        terms = [
            acc[a].idle_kw / 1000 * m.servers[a, c, y]
            + (acc[a].full_kw - acc[a].idle_kw)
            / 1000
            * (m.servers_training[a, c, y, d, h] + m.servers_inference[a, c, y, d, h])
            for a, _ in pairs_of(c)
        ]
        if not terms:
            return m.it_power[c, y, d, h] == 0
        return m.it_power[c, y, d, h] == sum(terms)

    m.it_power_def = pyo.Constraint(
        m.C,
        m.Y,
        m.D,
        m.H,
        rule=it_power_def,
        doc="P_it[c,y,d,h] = sum_a (idle_a * N[a,c,y] + (full_a - idle_a) * (z_tr + z_inf)[a,c,y,d,h]) / 1000   [MW]",
    )
    m.hall_power = pyo.Constraint(
        m.Y,
        m.D,
        m.H,
        rule=lambda m, y, d, h: sum(m.it_power[c, y, d, h] for c in m.C) <= hall.it_mw * m.halls[y],
        doc="sum_c P_it[c,y,d,h] <= hall_mw * H[y]   [MW]",
    )

    # ---------------------------------------------------------------- costs [MCNY/year]
    def racks_capital(m: pyo.ConcreteModel, y: int) -> pyo.Expression:
        """sum_c sum_(v alive in y) (CRF_c + fom_c) * rack_capex[c,v] * r[c,v]   [MCNY/year]"""
        return sum(
            data.annual_capital_charge(m.rack_capex[c, v], cool[c].lifetime_years, cool[c].fixed_om_fraction)
            * m.racks_new[c, v]
            for c in m.C
            for v in data.vintages(data.years, cool[c].lifetime_years, y)
        )

    def halls_capital(m: pyo.ConcreteModel, y: int) -> pyo.Expression:
        """sum_(v alive in y) (CRF + fom) * hall_capex[v] * hall[v]   [MCNY/year]"""
        return sum(
            data.annual_capital_charge(m.hall_capex[v], hall.lifetime_years, hall.fixed_om_fraction) * m.halls_new[v]
            for v in data.vintages(data.years, hall.lifetime_years, y)
        )

    def existing_om(m: pyo.ConcreteModel, y: int) -> float:
        """fixed O&M of existing racks and halls at first-year capex   [MCNY/year]"""
        rack_om = sum(
            data.existing_count(s.existing.racks, y, cool[c].lifetime_years, cooling=c)
            * cool[c].fixed_om_fraction
            * cool[c].capex_cny_per_rack.at(first)
            for c in m.C
        )
        hall_om = (
            data.existing_count(s.existing.halls, y, hall.lifetime_years)
            * hall.fixed_om_fraction
            * hall.capex_cny.at(first)
        )
        return (rack_om + hall_om) / MCNY

    m.cost_terms["racks_capital"] = racks_capital
    m.cost_terms["halls_capital"] = halls_capital
    m.cost_terms["fixed_om_existing_facility"] = existing_om
