"""Cooling: temperature-dependent cooling power and the N+k heat-rejection plant of each site.

``kappa[s,c,d,h]`` [kW electric per kW IT heat] is precomputed from the site's ambient temperature
(the profile with the site's climate offsets) by :func:`planner.time.cooling.cooling_coefficient`
(free cooling below a threshold, partial economiser, mechanical COP above). Each site has its own
plant with its own N+k spare units: a unit at one site cannot back up another's. Plant units are
linked to racks and servers through a binary "technology in use at the site" so that a technology
without racks there needs no spare units.
"""

from __future__ import annotations

import math

import pyomo.environ as pyo

from planner.model.assets import Asset, Fleet, add_asset
from planner.model.data import MCNY, ModelData

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
    """Cooling power drawn each hour at each site for the IT power of each technology."""
    blended = data.kappa
    kappa = {(s, c, d, h): float(blended[s][c][d, h]) for s in m.S for c in m.C for d in m.D for h in m.H}
    m.cooling_coefficient = pyo.Param(
        m.S,
        m.C,
        m.D,
        m.H,
        initialize=kappa,
        doc="kappa[s,c,d,h] = capture_c * kappa_c + (1 - capture_c) * kappa_(residual of c) at the site's "
        "temperatures: cooling power per IT power [-]",
    )
    m.cooling_power = pyo.Expression(
        m.S,
        m.Y,
        m.D,
        m.H,
        rule=lambda m, s, y, d, h: sum(m.cooling_coefficient[s, c, d, h] * m.it_power[s, c, y, d, h] for c in m.C),
        doc="P_cool[s,y,d,h] = sum_c kappa[s,c,d,h] * P_it[s,c,y,d,h]   [MW]",
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
        new_doc="cu[s,c,y]: new plant units [units]",
        capex=parameters(data)["cooling_unit_capex"],
        capex_param="cooling_unit_capex",
        capex_doc="price of one plant unit [MCNY/unit]",
        symbol="K[s,c,y]",
        meaning="plant units in service",
        unit="units",
        cost="cooling_plant_capital",
        adds_capacity=True,
        cost_doc="sum_(s,c) sum_(v alive in y) (CRF + fom) * unit_capex[c,v] * cu[s,c,v]   [MCNY/year]",
    )


def _rack_bound(data: ModelData, site: str, c: str) -> float:
    """Most racks of technology c an optimal plan can hold at a site (big-M of the in-use link) [racks].

    Racks only serve to hold servers (rack power and rack space are their only rows), so an
    optimal plan has no more than the existing racks or what the largest possible fleet in
    this technology needs: the site's nameplate power limit (oversubscription x hall MW x
    max halls) by rack power, or the same in servers' rack units by rack space. The
    tighter this bound, the stronger the LP relaxation of the link.
    """
    s = data.scenario
    cool, hall, acc = s.cooling, s.facility.hall, s.accelerators
    max_halls = min(data.site_specs[site].max_halls, s.facility.max_halls)
    existing = sum(e.count for e in s.existing.racks if e.cooling == c and s.site_of(e) == site)
    by_floor = math.floor(max_halls * hall.rack_slots / cool[c].floor_slots_per_rack)
    nameplate_kw = s.facility.oversubscription * hall.it_mw * 1000 * max_halls
    units_per_kw = max((acc[a].rack_units / acc[a].full_kw for a, cc in data.pairs if cc == c), default=0.0)
    by_power = math.ceil(nameplate_kw / cool[c].rack_kw_max) + 1
    by_space = math.ceil(nameplate_kw * units_per_kw / cool[c].rack_units) + 1
    return max(existing, min(by_floor, max(by_power, by_space)))


def _add_in_use(m: pyo.ConcreteModel, data: ModelData) -> None:
    """The binary "technology c has racks at site s in year y", linked to the racks."""
    s = data.scenario
    m.cooling_in_use = pyo.Var(
        m.S, m.C, m.Y, within=pyo.Binary, doc="u[s,c,y]: technology c has racks at site s in year y [-]"
    )
    # A technology with existing racks in service is in use: fix its binary (a valid tightening).
    for site in m.S:
        for c in m.C:
            for y in m.Y:
                life = s.cooling[c].lifetime_years
                if data.existing_count(s.existing.racks, y, life, cooling=c, site=site) > 0:
                    m.cooling_in_use[site, c, y].fix(1)

    bound = {(site, c): _rack_bound(data, site, c) for site in m.S for c in m.C}
    m.cooling_use_link = pyo.Constraint(
        m.S,
        m.C,
        m.Y,
        rule=lambda m, site, c, y: m.racks[site, c, y] <= bound[site, c] * m.cooling_in_use[site, c, y],
        doc="R[s,c,y] <= Rmax_(s,c) * u[s,c,y]   [racks]",
    )
    # The same link through the servers' power: they draw no more than the nameplate of the halls the
    # site can have in service that year (a bound at any price), far below Rmax's in the early years.
    acc, hall = s.accelerators, s.facility.hall
    nameplate_mw = {
        (site, y): s.facility.oversubscription * hall.it_mw * data.reachable_halls(site, y) for site in m.S for y in m.Y
    }
    pairs = {c: [a for a, cc in data.pairs if cc == c] for c in m.C}
    m.cooling_server_link = pyo.Constraint(
        [(site, c, y) for site in m.S for c in m.C for y in m.Y if pairs[c] and not m.cooling_in_use[site, c, y].fixed],
        rule=lambda m, site, c, y: (
            sum(acc[a].full_kw / 1000 * m.servers[site, a, c, y] for a in pairs[c])
            <= nameplate_mw[site, y] * m.cooling_in_use[site, c, y]
        ),
        doc="sum_a full_kw_a / 1000 * N[s,a,c,y] <= oversubscription * hall_mw * Hmax[s,y] * u[s,c,y]   [MW]",
    )
    m.tightenings.add("cooling_server_link")


def _add_plant_capacity(m: pyo.ConcreteModel, data: ModelData) -> None:
    """The N+k plant of each technology in use carries the heat it rejects every hour."""
    cool = data.scenario.cooling
    # Heat each plant rejects: its own racks' captured share, plus the room-air residual of the
    # technologies that name it as residual_heat_to.
    residual_of = {c: [r for r in m.C if cool[r].residual_heat_to == c and cool[r].liquid_capture < 1] for c in m.C}

    def plant(m: pyo.ConcreteModel, s: str, c: str, y: int, d: int, h: int) -> pyo.Expression:
        unit, k = cool[c].plant.unit_mw, cool[c].plant.redundancy
        heat = cool[c].liquid_capture * m.it_power[s, c, y, d, h] + sum(
            (1 - cool[r].liquid_capture) * m.it_power[s, r, y, d, h] for r in residual_of[c]
        )
        return heat <= unit * (m.cooling_units[s, c, y] - k * m.cooling_in_use[s, c, y])

    m.cooling_plant = pyo.Constraint(
        m.S,
        m.C,
        m.Y,
        m.D,
        m.H,
        rule=plant,
        doc="capture_c * P_it[s,c,y,d,h] + sum_(r: residual to c) (1 - capture_r) * P_it[s,r,y,d,h] "
        "<= unit_mw_c * (K[s,c,y] - k_c * u[s,c,y])   [MW]  (N+k plant per site)",
    )
    # A plant that takes another technology's residual heat is in use whenever that one is.
    m.cooling_residual_in_use = pyo.Constraint(
        [(s, c, r, y) for s in m.S for c in m.C for r in residual_of[c] for y in m.Y],
        rule=lambda m, s, c, r, y: m.cooling_in_use[s, c, y] >= m.cooling_in_use[s, r, y],
        doc="u[s,c,y] >= u[s,r,y] for every r whose residual heat goes to c   [-]",
    )


def _add_existing_om(m: pyo.ConcreteModel, data: ModelData, units: Asset) -> None:
    """Register the fixed O&M of the existing plant units [MCNY/year]."""
    cool = data.scenario.cooling
    first = data.years[0]

    def existing_om(m: pyo.ConcreteModel, y: int) -> float:
        """fixed O&M of existing plant units at first-year capex   [MCNY/year]"""
        return units.existing_om(data, y, lambda c: cool[c].plant.capex_cny_per_unit.at(first)) / MCNY

    m.cost_terms["fixed_om_existing_cooling"] = existing_om
