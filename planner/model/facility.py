"""Facility: racks of each cooling technology, data halls, and the IT power they carry.

Symbols as in ``compute.py``; ``R[s,c,y]`` racks in service at site ``s``, ``H[s,y]`` halls in
service, ``P_it[s,c,y,d,h]`` IT power drawn in racks of technology ``c`` [MW]. Every site has its
own land (``sites.<name>.max_halls``, halls a year); the cluster-wide ``facility`` limits cap the
sums over the sites where they can bind.
"""

from __future__ import annotations

import pyomo.environ as pyo

from planner.model.assets import Asset, Fleet, add_asset
from planner.model.data import MCNY, ModelData
from planner.model.network import sold_servers

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
        new_doc="r[s,c,y]: new racks [racks]",
        capex=values["rack_capex"],
        capex_param="rack_capex",
        capex_doc="price of one rack [MCNY/rack]",
        symbol="R[s,c,y]",
        meaning="racks in service",
        unit="racks",
        cost="racks_capital",
        cost_doc="sum_(s,c) sum_(v alive in y) (CRF_c + fom_c) * rack_capex[c,v] * r[s,c,v]   [MCNY/year]",
    )

    def rack_power(m: pyo.ConcreteModel, site: str, c: str, y: int) -> pyo.Expression:
        if not _pairs_of(m, c):
            return pyo.Constraint.Skip
        return (
            sum(acc[a].full_kw * m.servers[site, a, c, y] for a, _ in _pairs_of(m, c))
            <= cool[c].rack_kw_max * m.racks[site, c, y]
        )

    m.rack_power = pyo.Constraint(
        m.S, m.C, m.Y, rule=rack_power, doc="sum_a full_kw_a * N[s,a,c,y] <= rack_kw_c * R[s,c,y]   [kW]"
    )

    def rack_space(m: pyo.ConcreteModel, site: str, c: str, y: int) -> pyo.Expression:
        if not _pairs_of(m, c):
            return pyo.Constraint.Skip
        return (
            sum(acc[a].rack_units * m.servers[site, a, c, y] for a, _ in _pairs_of(m, c))
            <= cool[c].rack_units * m.racks[site, c, y]
        )

    m.rack_space = pyo.Constraint(
        m.S, m.C, m.Y, rule=rack_space, doc="sum_a U_a * N[s,a,c,y] <= rack_units_c * R[s,c,y]   [U]"
    )
    return racks


def _add_halls(m: pyo.ConcreteModel, data: ModelData, values: dict[str, dict]) -> Asset:
    """Data halls: how many each site holds, and the racks' floor slots and nameplate power they hold."""
    s = data.scenario
    acc, cool, hall = s.accelerators, s.cooling, s.facility.hall
    sites = data.site_specs
    halls = add_asset(
        m,
        data,
        "halls",
        None,
        Fleet(hall.lifetime_years, hall.fixed_om_fraction, s.existing.halls),
        new_doc="hall[s,y]: new data halls [halls]",
        bounds=lambda m, site, y: (0, sites[site].max_new_halls_per_year),
        capex=values["hall_capex"],
        capex_param="hall_capex",
        capex_doc="price of a hall [MCNY/hall]",
        symbol="H[s,y]",
        meaning="halls in service",
        unit="halls",
        cost="halls_capital",
        adds_capacity=True,
        cost_doc="sum_(s, v alive in y) (CRF + fom) * hall_capex[v] * hall[s,v]   [MCNY/year]",
    )
    m.hall_limit = pyo.Constraint(
        m.S,
        m.Y,
        rule=lambda m, site, y: m.halls[site, y] <= sites[site].max_halls,
        doc="H[s,y] <= max_halls_s   [halls]",
    )
    # Cluster-wide caps on the sums over the sites, where the sites' own limits allow more.
    if data.cluster_cap_binds(s.facility.max_halls, [v.max_halls for v in sites.values()]):
        m.hall_limit_cluster = pyo.Constraint(
            m.Y,
            rule=lambda m, y: sum(m.halls[site, y] for site in m.S) <= s.facility.max_halls,
            doc="sum_s H[s,y] <= facility.max_halls   [halls]",
        )
    built = s.facility.max_new_halls_per_year
    if data.cluster_cap_binds(built, [v.max_new_halls_per_year for v in sites.values()]):
        m.halls_new_cluster = pyo.Constraint(
            m.Y,
            rule=lambda m, y: sum(m.halls_new[site, y] for site in m.S) <= built,
            doc="sum_s hall[s,y] <= facility.max_new_halls_per_year   [halls/year]",
        )
    m.hall_space = pyo.Constraint(
        m.S,
        m.Y,
        rule=lambda m, site, y: (
            sum(cool[c].floor_slots_per_rack * m.racks[site, c, y] for c in m.C) <= hall.rack_slots * m.halls[site, y]
        ),
        doc="sum_c slots_c * R[s,c,y] <= hall_slots * H[s,y]   [slots]",
    )
    m.hall_nameplate = pyo.Constraint(
        m.S,
        m.Y,
        rule=lambda m, site, y: (
            sum(acc[a].full_kw / 1000 * m.servers[site, a, c, y] for a, c in m.AC)
            <= s.facility.oversubscription * hall.it_mw * m.halls[site, y]
        ),
        doc="sum_(a,c) full_kw_a / 1000 * N[s,a,c,y] <= oversubscription * hall_mw * H[s,y]   [MW]",
    )
    return halls


def _add_it_power(m: pyo.ConcreteModel, data: ModelData) -> None:
    """IT power drawn in the racks of each technology each hour, at most the halls' IT power."""
    acc, hall = data.scenario.accelerators, data.scenario.facility.hall
    m.it_power = pyo.Var(m.S, m.C, m.Y, m.D, m.H, within=pyo.NonNegativeReals, doc="P_it[s,c,y,d,h]: IT power [MW]")

    def it_power_def(m: pyo.ConcreteModel, s: str, c: str, y: int, d: int, h: int) -> pyo.Expression:
        terms = [
            acc[a].idle_kw / 1000 * m.servers[s, a, c, y]
            + (acc[a].full_kw - acc[a].idle_kw)
            / 1000
            * (
                m.servers_training[s, a, c, y, d, h]
                + m.servers_inference[s, a, c, y, d, h]
                + sold_servers(m, s, a, c, y)
            )
            for a, _ in _pairs_of(m, c)
        ]
        if not terms:
            return m.it_power[s, c, y, d, h] == 0
        return m.it_power[s, c, y, d, h] == sum(terms)

    m.it_power_def = pyo.Constraint(
        m.S,
        m.C,
        m.Y,
        m.D,
        m.H,
        rule=it_power_def,
        doc="P_it[s,c,y,d,h] = sum_a (idle_a * N[s,a,c,y] + (full_a - idle_a) * (z_tr + z_inf + z_sold)[s,a,c,y,d,h])"
        " / 1000   [MW] (z_sold: servers sold to hubs, at full load every hour)",
    )
    m.hall_power = pyo.Constraint(
        m.S,
        m.Y,
        m.D,
        m.H,
        rule=lambda m, s, y, d, h: sum(m.it_power[s, c, y, d, h] for c in m.C) <= hall.it_mw * m.halls[s, y],
        doc="sum_c P_it[s,c,y,d,h] <= hall_mw * H[s,y]   [MW]",
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
