"""Cooling: temperature-dependent cooling power and the N+k heat-rejection plant.

``kappa[c,d,h]`` [kW electric per kW IT heat] is precomputed from ambient temperature in
:func:`planner.time.cooling.cooling_coefficient` (free cooling below a threshold, partial
economiser, mechanical COP above). Plant units are linked to racks through a binary
"technology in use" so that a technology without racks needs no spare units.
"""

from __future__ import annotations

import math

import pyomo.environ as pyo

from planner.model.assets import Asset, Fleet, add_asset
from planner.model.data import MCNY, ModelData
from planner.time.cooling import effective_kappa

__all__ = ["add_cooling", "parameters"]


def parameters(data: ModelData) -> dict[str, dict]:
    """Values of this subsystem's mutable parameters."""
    s = data.scenario
    return {
        "cooling_unit_capex": {
            (c, y): s.cooling[c].plant.capex_cny_per_unit.at(y) / MCNY for c in data.cooling for y in data.years
        }
    }


def add_cooling(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Add cooling power, plant units, the in-use link and the N+k plant constraint."""
    _add_cooling_power(m, data)
    units = _add_plant_units(m, data)
    _add_in_use(m, data)
    _add_plant_capacity(m, data)
    _add_existing_om(m, data, units)


def _add_cooling_power(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Cooling power drawn each hour for the IT power of each technology."""
    blended = effective_kappa(data.scenario.cooling, data.time.kappa)
    kappa = {(c, d, h): float(blended[c][d, h]) for c in m.C for d in m.D for h in m.H}
    m.cooling_coefficient = pyo.Param(
        m.C,
        m.D,
        m.H,
        initialize=kappa,
        doc="kappa[c,d,h] = capture_c * kappa_c + (1 - capture_c) * kappa_(residual of c): "
        "cooling power per IT power [-]",
    )
    m.cooling_power = pyo.Expression(
        m.Y,
        m.D,
        m.H,
        rule=lambda m, y, d, h: sum(m.cooling_coefficient[c, d, h] * m.it_power[c, y, d, h] for c in m.C),
        doc="P_cool[y,d,h] = sum_c kappa[c,d,h] * P_it[c,y,d,h]   [MW]",
    )


def _add_plant_units(m: pyo.ConcreteModel, data: ModelData) -> Asset:
    """Heat-rejection plant units of each technology."""
    s = data.scenario
    cool = s.cooling
    return add_asset(
        m,
        data,
        "cooling_units",
        m.C,
        lambda c: Fleet(
            cool[c].plant.lifetime_years,
            cool[c].plant.fixed_om_fraction,
            s.existing.cooling_units,
            match={"cooling": c},
        ),
        new_doc="cu[c,y]: new plant units [units]",
        capex=parameters(data)["cooling_unit_capex"],
        capex_param="cooling_unit_capex",
        capex_doc="price of one plant unit [MCNY/unit]",
        symbol="K[c,y]",
        meaning="plant units in service",
        unit="units",
        cost="cooling_plant_capital",
        cost_doc="sum_c sum_(v alive in y) (CRF + fom) * unit_capex[c,v] * cu[c,v]   [MCNY/year]",
    )


def _rack_bound(data: ModelData, c: str) -> float:
    """Most racks of technology c an optimal plan can hold (big-M of the in-use link) [racks].

    Racks only serve to hold servers (rack power and rack space are their only rows), so an
    optimal plan has no more than the existing racks or what the largest possible fleet in
    this technology needs: the site's nameplate power limit (oversubscription x hall MW x
    max halls) by rack power, or the same in servers' rack units by rack space. The
    tighter this bound, the stronger the LP relaxation of the link.
    """
    s = data.scenario
    cool, hall, acc = s.cooling, s.facility.hall, s.accelerators
    existing = sum(e.count for e in s.existing.racks if e.cooling == c)
    by_floor = math.floor(s.facility.max_halls * hall.rack_slots / cool[c].floor_slots_per_rack)
    nameplate_kw = s.facility.oversubscription * hall.it_mw * 1000 * s.facility.max_halls
    units_per_kw = max((acc[a].rack_units / acc[a].full_kw for a, cc in data.pairs if cc == c), default=0.0)
    by_power = math.ceil(nameplate_kw / cool[c].rack_kw_max) + 1
    by_space = math.ceil(nameplate_kw * units_per_kw / cool[c].rack_units) + 1
    return max(existing, min(by_floor, max(by_power, by_space)))


def _add_in_use(m: pyo.ConcreteModel, data: ModelData) -> None:
    """The binary "technology c has racks in year y", linked to the racks."""
    s = data.scenario
    m.cooling_in_use = pyo.Var(m.C, m.Y, within=pyo.Binary, doc="u[c,y]: technology c has racks in year y [-]")
    # A technology with existing racks in service is in use: fix its binary (a valid tightening).
    for c in m.C:
        for y in m.Y:
            if data.existing_count(s.existing.racks, y, s.cooling[c].lifetime_years, cooling=c) > 0:
                m.cooling_in_use[c, y].fix(1)

    m.cooling_use_link = pyo.Constraint(
        m.C,
        m.Y,
        rule=lambda m, c, y: m.racks[c, y] <= _rack_bound(data, c) * m.cooling_in_use[c, y],
        doc="R[c,y] <= Rmax_c * u[c,y]   [racks]",
    )


def _add_plant_capacity(m: pyo.ConcreteModel, data: ModelData) -> None:
    """The N+k plant of each technology in use carries the heat it rejects every hour."""
    cool = data.scenario.cooling
    # Heat each plant rejects: its own racks' captured share, plus the room-air residual of the
    # technologies that name it as residual_heat_to.
    residual_of = {c: [r for r in m.C if cool[r].residual_heat_to == c and cool[r].liquid_capture < 1] for c in m.C}

    def plant(m: pyo.ConcreteModel, c: str, y: int, d: int, h: int) -> pyo.Expression:
        unit, k = cool[c].plant.unit_mw, cool[c].plant.redundancy
        heat = cool[c].liquid_capture * m.it_power[c, y, d, h] + sum(
            (1 - cool[r].liquid_capture) * m.it_power[r, y, d, h] for r in residual_of[c]
        )
        return heat <= unit * (m.cooling_units[c, y] - k * m.cooling_in_use[c, y])

    m.cooling_plant = pyo.Constraint(
        m.C,
        m.Y,
        m.D,
        m.H,
        rule=plant,
        doc="capture_c * P_it[c,y,d,h] + sum_(r: residual to c) (1 - capture_r) * P_it[r,y,d,h] "
        "<= unit_mw_c * (K[c,y] - k_c * u[c,y])   [MW]  (N+k plant)",
    )
    # A plant that takes another technology's residual heat is in use whenever that one is.
    m.cooling_residual_in_use = pyo.Constraint(
        [(c, r, y) for c in m.C for r in residual_of[c] for y in m.Y],
        rule=lambda m, c, r, y: m.cooling_in_use[c, y] >= m.cooling_in_use[r, y],
        doc="u[c,y] >= u[r,y] for every r whose residual heat goes to c   [-]",
    )


def _add_existing_om(m: pyo.ConcreteModel, data: ModelData, units: Asset) -> None:
    """Register the fixed O&M of the existing plant units [MCNY/year]."""
    cool = data.scenario.cooling
    first = data.years[0]

    def existing_om(m: pyo.ConcreteModel, y: int) -> float:
        """fixed O&M of existing plant units at first-year capex   [MCNY/year]"""
        return units.existing_om(data, y, lambda c: cool[c].plant.capex_cny_per_unit.at(first)) / MCNY

    m.cost_terms["fixed_om_existing_cooling"] = existing_om
