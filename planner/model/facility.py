"""Facility: racks of each cooling technology, data halls, and the IT power they carry.

Symbols as in ``compute.py``; ``R[c,y]`` racks in service, ``H[y]`` halls in service,
``P_it[c,y,d,h]`` IT power drawn in racks of technology ``c`` [MW].
"""

from __future__ import annotations

import pyomo.environ as pyo

from planner.model.assets import Asset, Fleet, add_asset
from planner.model.data import MCNY, ModelData

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
    values = parameters(data)
    racks = _add_racks(m, data, values)
    halls = _add_halls(m, data, values)
    _add_it_power(m, data)
    _add_existing_om(m, data, racks, halls)


def _pairs_of(m: pyo.ConcreteModel, c: str) -> list[tuple[str, str]]:
    """The allowed (server type, cooling) pairs of cooling technology ``c``."""
    return [(a, cc) for a, cc in m.AC if cc == c]


def _add_racks(m: pyo.ConcreteModel, data: ModelData, values: dict[str, dict]) -> Asset:
    """Racks of each technology, holding their servers' power and rack units."""
    s = data.scenario
    acc, cool = s.accelerators, s.cooling
    racks = add_asset(
        m,
        data,
        "racks",
        m.C,
        lambda c: Fleet(cool[c].lifetime_years, cool[c].fixed_om_fraction, s.existing.racks, match={"cooling": c}),
        new_doc="r[c,y]: new racks [racks]",
        capex=values["rack_capex"],
        capex_param="rack_capex",
        capex_doc="price of one rack [MCNY/rack]",
        symbol="R[c,y]",
        meaning="racks in service",
        unit="racks",
        cost="racks_capital",
        cost_doc="sum_c sum_(v alive in y) (CRF_c + fom_c) * rack_capex[c,v] * r[c,v]   [MCNY/year]",
    )

    def rack_power(m: pyo.ConcreteModel, c: str, y: int) -> pyo.Expression:
        if not _pairs_of(m, c):
            return pyo.Constraint.Skip
        return (
            sum(acc[a].full_kw * m.servers[a, c, y] for a, _ in _pairs_of(m, c)) <= cool[c].rack_kw_max * m.racks[c, y]
        )

    m.rack_power = pyo.Constraint(
        m.C, m.Y, rule=rack_power, doc="sum_a full_kw_a * N[a,c,y] <= rack_kw_c * R[c,y]   [kW]"
    )

    def rack_space(m: pyo.ConcreteModel, c: str, y: int) -> pyo.Expression:
        if not _pairs_of(m, c):
            return pyo.Constraint.Skip
        return (
            sum(acc[a].rack_units * m.servers[a, c, y] for a, _ in _pairs_of(m, c))
            <= cool[c].rack_units * m.racks[c, y]
        )

    m.rack_space = pyo.Constraint(m.C, m.Y, rule=rack_space, doc="sum_a U_a * N[a,c,y] <= rack_units_c * R[c,y]   [U]")
    return racks


def _add_halls(m: pyo.ConcreteModel, data: ModelData, values: dict[str, dict]) -> Asset:
    """Data halls: how many the site holds, and the racks' floor slots and nameplate power they hold."""
    s = data.scenario
    acc, cool, hall = s.accelerators, s.cooling, s.facility.hall
    halls = add_asset(
        m,
        data,
        "halls",
        None,
        Fleet(hall.lifetime_years, hall.fixed_om_fraction, s.existing.halls),
        new_doc="hall[y]: new data halls [halls]",
        bounds=(0, s.facility.max_new_halls_per_year),
        capex=values["hall_capex"],
        capex_param="hall_capex",
        capex_doc="price of a hall [MCNY/hall]",
        symbol="H[y]",
        meaning="halls in service",
        unit="halls",
        cost="halls_capital",
        cost_doc="sum_(v alive in y) (CRF + fom) * hall_capex[v] * hall[v]   [MCNY/year]",
    )
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
    return halls


def _add_it_power(m: pyo.ConcreteModel, data: ModelData) -> None:
    """IT power drawn in the racks of each technology each hour, at most the halls' IT power."""
    acc, hall = data.scenario.accelerators, data.scenario.facility.hall
    m.it_power = pyo.Var(m.C, m.Y, m.D, m.H, within=pyo.NonNegativeReals, doc="P_it[c,y,d,h]: IT power [MW]")

    def it_power_def(m: pyo.ConcreteModel, c: str, y: int, d: int, h: int) -> pyo.Expression:
        terms = [
            acc[a].idle_kw / 1000 * m.servers[a, c, y]
            + (acc[a].full_kw - acc[a].idle_kw)
            / 1000
            * (m.servers_training[a, c, y, d, h] + m.servers_inference[a, c, y, d, h])
            for a, _ in _pairs_of(m, c)
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


def _add_existing_om(m: pyo.ConcreteModel, data: ModelData, racks: Asset, halls: Asset) -> None:
    """Register the fixed O&M of the existing racks and halls [MCNY/year]."""
    s = data.scenario
    cool, hall = s.cooling, s.facility.hall
    first = data.years[0]

    def existing_om(m: pyo.ConcreteModel, y: int) -> float:
        """fixed O&M of existing racks and halls at first-year capex   [MCNY/year]"""
        rack_om = racks.existing_om(data, y, lambda c: cool[c].capex_cny_per_rack.at(first))
        hall_om = halls.existing_om(data, y, lambda: hall.capex_cny.at(first))
        return (rack_om + hall_om) / MCNY

    m.cost_terms["fixed_om_existing_facility"] = existing_om
