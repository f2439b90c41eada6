"""Power: facility load, and how it is supplied (grid blocks with N-k, TOU energy, demand or
capacity charge, PPAs, PV, battery) and backed up (N+k gensets), at each site.

Every site has its own supply balance, its own grid connection (blocks with N-k, its own monthly
peaks), PV, battery and gensets (N+k per site: units at one site cannot back up another). PPAs
are contracted by the cluster: a contract's energy may be taken at any site, or only at the sites
it names (``power.ppa.<k>.sites``), through that site's connection when it is wheeled.
Certificates and emissions are the cluster's.

Model units: power [MW], energy [MWh] (one representative hour = 1 h), money [MCNY].
"""

from __future__ import annotations

from dataclasses import replace

import pyomo.environ as pyo

from planner.model.assets import Asset, Builds, Fleet, add_asset, add_stock
from planner.model.data import MCNY, MWH_PER_GWH, ModelData
from planner.time.tariff import energy_cost

__all__ = ["add_power", "parameters"]

KWH_PRICE_TO_MCNY_PER_MWH = 1000 / MCNY  #: CNY/kWh -> MCNY/MWh
#: Formula of the capital charge of grid blocks, PV and gensets (a cost term's doc).
CAPITAL_DOC = "sum_(v alive in y) (CRF + fom) * capex[v] * new[v]   [MCNY/year]"


def parameters(data: ModelData) -> dict[str, dict]:
    """Values of this subsystem's mutable parameters."""
    s = data.scenario
    p = s.power
    years, ppas = data.years, data.ppas
    carbon = s.policy.carbon_price_cny_per_t
    return {
        "grid_block_capex": {y: p.grid.capex_cny_per_block.at(y) / MCNY for y in years},
        "flat_price": {(site, y): data.flat_price(site, y) for site in data.sites for y in years},
        "tariff_scale": {None: p.grid.tariff.scale},
        "ppa_max_mw": {(k, y): p.ppa[k].max_mw.at(y) for k in ppas for y in years},
        "ppa_energy_price": {(k, y): p.ppa[k].energy_cny_per_kwh.at(y) for k in ppas for y in years},
        "pv_capex": {y: p.pv.capex_cny_per_kw.at(y) * 1000 / MCNY for y in years},
        "generator_capex": {y: p.generators.capex_cny_per_unit.at(y) / MCNY for y in years},
        "certificate_price": {y: p.green_certificates.price_cny_per_mwh.at(y) for y in years},
        "carbon_price": {y: (carbon.at(y) or 0.0) if carbon is not None else 0.0 for y in years},
    }


def add_power(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Add facility power, supply balance, grid, PPAs, PV, battery, gensets and certificates."""
    values = parameters(data)
    _add_facility_load(m, data)
    grid_blocks = _add_grid(m, data, values)
    _add_ppas(m, data, values)
    _add_connection(m, data)
    _add_pv(m, data, values)
    _add_battery(m, data)
    _add_supply_balance(m)
    generators = _add_gensets(m, data, values)
    _add_emissions(m, data, values)
    _add_existing_om(m, data, grid_blocks, generators)
    _add_energy_costs(m, data)


def _add_facility_load(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Facility power: IT power with its auxiliary losses, plus cooling power."""
    aux = data.scenario.facility.aux_loss_fraction
    m.facility_power = pyo.Var(
        m.S, m.Y, m.D, m.H, within=pyo.NonNegativeReals, doc="P_fac[s,y,d,h]: facility power [MW]"
    )
    m.facility_power_def = pyo.Constraint(
        m.S,
        m.Y,
        m.D,
        m.H,
        rule=lambda m, s, y, d, h: (
            m.facility_power[s, y, d, h]
            == (1 + aux) * sum(m.it_power[s, c, y, d, h] for c in m.C) + m.cooling_power[s, y, d, h]
        ),
        doc="P_fac[s,y,d,h] = (1 + aux) * sum_c P_it[s,c,y,d,h] + P_cool[s,y,d,h]   [MW]",
    )


def _add_grid(m: pyo.ConcreteModel, data: ModelData, values: dict[str, dict]) -> Asset:
    """Grid connection blocks of each site, grid import and its TOU energy price."""
    s = data.scenario
    grid = s.power.grid
    sites = data.site_specs

    def new_blocks(m: pyo.ConcreteModel, site: str, y: int) -> tuple[float, float | None]:
        first = sites[site].grid.first_new_block_year
        return (0, 0 if first is not None and y < first else None)

    blocks = add_asset(
        m,
        data,
        "grid_blocks",
        None,
        Fleet(grid.lifetime_years, grid.fixed_om_fraction, s.existing.grid_blocks),
        new_doc="grid[s,y]: new connection blocks [blocks] (0 before the site's first_new_block_year)",
        bounds=new_blocks,
        capex=values["grid_block_capex"],
        capex_param="grid_block_capex",
        capex_doc="price of a grid block [MCNY/block]",
        symbol="G[s,y]",
        meaning="grid blocks in service",
        unit="blocks",
        cost="grid_capital",
        cost_doc=CAPITAL_DOC,
        adds_capacity=True,
    )
    m.grid_block_limit = pyo.Constraint(
        m.S,
        m.Y,
        rule=lambda m, site, y: m.grid_blocks[site, y] <= sites[site].grid.max_blocks,
        doc="G[s,y] <= max_blocks_s   [blocks]",
    )
    if data.cluster_cap_binds(grid.max_blocks, [v.grid.max_blocks for v in sites.values()]):
        m.grid_block_limit_cluster = pyo.Constraint(
            m.Y,
            rule=lambda m, y: sum(m.grid_blocks[site, y] for site in m.S) <= grid.max_blocks,
            doc="sum_s G[s,y] <= power.grid.max_blocks   [blocks]",
        )
    m.grid_import = pyo.Var(m.S, m.Y, m.D, m.H, within=pyo.NonNegativeReals, doc="g[s,y,d,h]: grid import [MW]")
    m.flat_price = pyo.Param(
        m.S,
        m.Y,
        mutable=True,
        initialize=values["flat_price"],
        doc="flat-period grid energy price at the site (its own tariff's, else the cluster's) [CNY/kWh]",
    )
    m.tariff_scale = pyo.Param(
        mutable=True, initialize=values["tariff_scale"][None], doc="sweep multiplier on grid energy prices [-]"
    )
    return blocks


def _ppa_made_available(m: pyo.ConcreteModel, data: ModelData, k: str, y: int) -> pyo.Expression:
    """sum_(d,h) W_d * avail_k[y,d,h] * ppa_cap[k,y]   [MWh/year]"""
    W, avail = data.weight, data.ppa_availability(k, y)
    return float(sum(W[d] * float(avail[d, h]) for d in m.D for h in m.H)) * m.ppa_contract[k, y]


def _ppa_taken(m: pyo.ConcreteModel, data: ModelData, k: str, y: int) -> pyo.Expression:
    """sum_(s,d,h) W_d * q[s,k,y,d,h]   [MWh/year]"""
    W = data.weight
    return sum(W[d] * m.ppa_energy[s, k, y, d, h] for s in m.S for d in m.D for h in m.H)


def _add_ppas(m: pyo.ConcreteModel, data: ModelData, values: dict[str, dict]) -> None:
    """PPA contracts: capacity contracted, power taken of what it makes available, least take."""
    p = data.scenario.power
    m.ppa_max_mw = pyo.Param(
        m.P,
        m.Y,
        mutable=True,
        initialize=values["ppa_max_mw"],
        doc="most MW contractable [MW]",
    )
    m.ppa_energy_price = pyo.Param(
        m.P,
        m.Y,
        mutable=True,
        initialize=values["ppa_energy_price"],
        doc="PPA energy price [CNY/kWh]",
    )
    m.ppa_contract = pyo.Var(m.P, m.Y, within=pyo.NonNegativeReals, doc="contracted PPA capacity [MW]")
    m.contracts["ppa_contract"] = m.ppa_contract  # a decision taken in its year (planner.model.stages)
    m.ppa_contract_limit = pyo.Constraint(
        m.P, m.Y, rule=lambda m, k, y: m.ppa_contract[k, y] <= m.ppa_max_mw[k, y], doc="ppa_cap[k,y] <= max_mw   [MW]"
    )
    m.ppa_energy = pyo.Var(
        m.S, m.P, m.Y, m.D, m.H, within=pyo.NonNegativeReals, doc="q[s,k,y,d,h]: PPA power taken at site s [MW]"
    )
    # A contract limited to some sites delivers nothing at the others.
    for k in m.P:
        allowed = p.ppa[k].sites
        for s in m.S:
            if allowed is not None and s not in allowed:
                for y in m.Y:
                    for d in m.D:
                        for h in m.H:
                            m.ppa_energy[s, k, y, d, h].fix(0)
    avail = {(k, y): data.ppa_availability(k, y) for k in m.P for y in m.Y}  # profile x the year's hydrology
    # A contract makes avail * ppa_cap available every hour; what is not taken, x = avail * ppa_cap - q,
    # is not a free option: take_or_pay of its price is paid all the same (cost terms below). x is
    # substituted rather than kept as a column: q + x = avail * ppa_cap with x >= 0 is exactly this row.
    m.ppa_availability = pyo.Constraint(
        m.P,
        m.Y,
        m.D,
        m.H,
        rule=lambda m, k, y, d, h: (
            sum(m.ppa_energy[s, k, y, d, h] for s in m.S) <= float(avail[k, y][d, h]) * m.ppa_contract[k, y]
        ),
        doc="sum_s q[s,k,y,d,h] <= avail_k[y,d,h] * ppa_cap[k,y]   [MW]  "
        "(not taken x = avail_k * ppa_cap - sum_s q >= 0; avail_k[y,d,h] = profile availability x hydrology "
        "factor of year y)",
    )
    min_take = [k for k in m.P if p.ppa[k].min_take_share > 0]
    m.ppa_min_take = pyo.Constraint(
        [(k, y) for k in min_take for y in m.Y],
        rule=lambda m, k, y: _ppa_taken(m, data, k, y) >= p.ppa[k].min_take_share * _ppa_made_available(m, data, k, y),
        doc="sum_(s,d,h) W_d * q[s,k,y,d,h] >= min_take_share_k * sum_(d,h) W_d * avail_k[y,d,h] * ppa_cap[k,y]"
        "   [MWh]",
    )


def _add_connection(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Power through each site's grid connection: N-k block capacity for a site in use, monthly peaks."""
    s = data.scenario
    p = s.power
    grid, tariff = p.grid, p.grid.tariff
    block_mw = data.grid_block_mw
    wheeled = [k for k in m.P if p.ppa[k].delivery == "grid"]
    sites = data.site_specs

    def through_connection(m: pyo.ConcreteModel, site: str, y: int, d: int, h: int) -> pyo.Expression:
        return m.grid_import[site, y, d, h] + sum(m.ppa_energy[site, k, y, d, h] for k in wheeled)

    m.connection_flow = pyo.Expression(
        m.S,
        m.Y,
        m.D,
        m.H,
        rule=through_connection,
        doc="flow through the site's grid connection = g[s] + sum_(k wheeled) q[s,k]   [MW]",
    )
    # Redundancy is for a site in use: a binary per site and year, 1 when any data hall is in service.
    m.site_in_use = pyo.Var(m.S, m.Y, within=pyo.Binary, doc="o[s,y]: site s has data halls in service in year y [-]")
    m.site_use_link = pyo.Constraint(
        m.S,
        m.Y,
        rule=lambda m, site, y: m.halls[site, y] <= sites[site].max_halls * m.site_in_use[site, y],
        doc="H[s,y] <= max_halls_s * o[s,y]   [halls]",
    )
    # The same link with the most halls the site can have in service that year, where that is less
    # than its land (the early years): the LP relaxation then pays more of a site's spare units. A
    # tightening, not a limit of its own: it follows from the build limits and the land.
    reach = {(site, y): data.reachable_halls(site, y) for site in m.S for y in m.Y}
    m.site_use_reach = pyo.Constraint(
        [
            (site, y)
            for site in m.S
            for y in m.Y
            if reach[site, y] < sites[site].max_halls and not m.site_in_use[site, y].fixed
        ],
        rule=lambda m, site, y: m.halls[site, y] <= reach[site, y] * m.site_in_use[site, y],
        doc="H[s,y] <= Hmax[s,y] * o[s,y] where Hmax[s,y] < max_halls_s   [halls]  (Hmax: the most halls the "
        "site can have in service in y: existing + yearly build limit x planning years so far, within its land)",
    )
    life = s.facility.hall.lifetime_years
    for site in m.S:
        for y in m.Y:
            if data.existing_count(s.existing.halls, y, life, site=site) > 0:
                m.site_in_use[site, y].fix(1)

    def halls_kept(site: str, y: int, later: int) -> bool:
        """No hall of ``site`` in service in ``y`` retires by ``later``."""
        existing = [e for e in s.existing.halls if s.site_of(e) == site and data.alive(e.year_built, life, y)]
        return all(data.alive(e.year_built, life, later) for e in existing) and all(
            data.alive(v, life, later) for v in data.vintages(data.years, life, y)
        )

    # A site in use stays in use while none of its halls retires: with halls in y it has them in the
    # next year too (and a binary at 1 over no halls only costs spare units). Valid for every optimum,
    # and in the LP relaxation it carries an early year's share of the spare units into the later years.
    m.site_in_use_kept = pyo.Constraint(
        [
            (site, y, later)
            for site in m.S
            for y, later in zip(m.Y, list(m.Y)[1:], strict=False)
            if not m.site_in_use[site, later].fixed and halls_kept(site, y, later)
        ],
        rule=lambda m, site, y, later: m.site_in_use[site, y] <= m.site_in_use[site, later],
        doc="o[s,y] <= o[s,y+1] where no hall of site s in service in y retires by y+1   [-]",
    )
    m.tightenings |= {"site_use_reach", "site_in_use_kept"}
    m.grid_capacity = pyo.Constraint(
        m.S,
        m.Y,
        m.D,
        m.H,
        rule=lambda m, site, y, d, h: (
            m.connection_flow[site, y, d, h]
            <= block_mw * (m.grid_blocks[site, y] - grid.redundancy * m.site_in_use[site, y])
        ),
        doc="g[s] + sum_(k wheeled) q[s,k] <= block_mva * power_factor * (G[s,y] - redundancy * o[s,y])   [MW]  "
        "(N-k per site)",
    )
    caps = grid.rationing.import_cap_mw if grid.rationing is not None else {}
    m.grid_rationing = pyo.Constraint(
        [(y, d, h) for y in m.Y if y in caps for d in data.rationed_days for h in m.H],
        rule=lambda m, y, d, h: sum(m.connection_flow[site, y, d, h] for site in m.S) <= float(caps[y]),
        doc="sum_s (g[s] + sum_(k wheeled) q[s,k]) <= rationing_cap[y] on the rationing days' representative day"
        "   [MW]  (the cluster's import, all sites)",
    )
    if tariff.fixed_charge_basis == "demand":
        # One billed peak per calendar month, over the representative days that stand for days of it.
        member = data.time.member_days
        m.MONTH = pyo.Set(
            initialize=[mo for mo in range(1, 13) if member[:, mo - 1].any()], ordered=True, doc="calendar months"
        )
        m.grid_peak = pyo.Var(
            m.S, m.Y, m.MONTH, within=pyo.NonNegativeReals, doc="peak[s,y,mo]: month's peak flow at site s [MW]"
        )
        m.grid_peak_def = pyo.Constraint(
            [
                (site, y, mo, d, h)
                for site in m.S
                for y in m.Y
                for mo in m.MONTH
                for d in m.D
                if member[d, mo - 1] > 0
                for h in m.H
            ],
            rule=lambda m, site, y, mo, d, h: m.grid_peak[site, y, mo] >= m.connection_flow[site, y, d, h],
            doc="peak[s,y,mo] >= g[s,y,d,h] + sum_(k wheeled) q[s,k,y,d,h] for every day d standing for days "
            "of month mo   [MW]",
        )


def _add_pv(m: pyo.ConcreteModel, data: ModelData, values: dict[str, dict]) -> None:
    """PV in service at each site [MWp] and the output used each hour."""
    s = data.scenario
    pv = s.power.pv
    sites = data.site_specs
    add_asset(
        m,
        data,
        "pv_mw",
        None,
        Fleet(pv.lifetime_years, pv.fixed_om_fraction, s.existing.pv, amount="mw"),
        new_name="pv_new",
        new_doc="new PV [MWp]",
        within=pyo.NonNegativeReals,
        capex=values["pv_capex"],
        capex_param="pv_capex",
        capex_doc="PV price [MCNY/MWp]",
        symbol="PV[s,y]",
        meaning="PV in service",
        unit="MWp",
        cost="pv_capital",
        cost_doc=CAPITAL_DOC,
    )
    m.pv_limit = pyo.Constraint(
        m.S,
        m.Y,
        rule=lambda m, site, y: m.pv_mw[site, y] <= sites[site].pv_max_mw,
        doc="PV[s,y] <= pv_max_mw_s   [MWp]",
    )
    if data.cluster_cap_binds(pv.max_mw, [v.pv_max_mw for v in sites.values()]):
        m.pv_limit_cluster = pyo.Constraint(
            m.Y,
            rule=lambda m, y: sum(m.pv_mw[site, y] for site in m.S) <= pv.max_mw,
            doc="sum_s PV[s,y] <= power.pv.max_mw   [MWp]",
        )
    m.pv_used = pyo.Var(m.S, m.Y, m.D, m.H, within=pyo.NonNegativeReals, doc="PV output used [MW]")
    cf = {site: data.pv_cf(site) for site in data.sites}
    m.pv_output = pyo.Constraint(
        m.S,
        m.Y,
        m.D,
        m.H,
        rule=lambda m, site, y, d, h: (
            m.pv_used[site, y, d, h] <= float(cf[site][d, h]) * sites[site].pv_yield * m.pv_mw[site, y]
        ),
        doc="pv_used[s,y,d,h] <= cf_s[d,h] * pv_yield_s * PV[s,y]   [MW] (cf_s: the site's own profile column,"
        " else power.pv.profile_column)",
    )


def _add_battery(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Batteries at each site (energy and power bought separately, charged as one asset) and their
    operation; ``power.battery.max_mwh`` and ``max_mw`` cap the sums over the sites.
    """
    s = data.scenario
    bat = s.power.battery
    energy = Fleet(bat.lifetime_years, bat.fixed_om_fraction, s.existing.battery, amount="mwh")
    power = Fleet(bat.lifetime_years, bat.fixed_om_fraction, s.existing.battery, amount="mw")
    energy_at = {(site,): replace(energy, match={"site": site}) for site in m.S}
    power_at = {(site,): replace(power, match={"site": site}) for site in m.S}
    m.battery_mwh_new = pyo.Var(m.S, m.Y, within=pyo.NonNegativeReals, doc="new battery energy capacity [MWh]")
    m.battery_mw_new = pyo.Var(m.S, m.Y, within=pyo.NonNegativeReals, doc="new battery power capacity [MW]")
    add_stock(
        m,
        "battery_mwh",
        (m.S, m.Y),
        lambda m, site, y: energy_at[(site,)].in_service(data, m.battery_mwh_new, (site,), y),
        "E[s,y]",
        "battery energy capacity",
        "MWh",
    )
    add_stock(
        m,
        "battery_mw",
        (m.S, m.Y),
        lambda m, site, y: power_at[(site,)].in_service(data, m.battery_mw_new, (site,), y),
        "P[s,y]",
        "battery power capacity",
        "MW",
    )

    def battery_capital(m: pyo.ConcreteModel, y: int) -> pyo.Expression:
        """sum_(s, v alive) (CRF + fom) * 1000 * (capex_kWh * E_new[s,v] + capex_kW * P_new[s,v]) / 1e6   [MCNY/year]"""
        charge = data.annual_capital_charge(1.0, bat.lifetime_years, bat.fixed_om_fraction)
        return sum(
            charge
            * (
                bat.capex_cny_per_kwh.at(v) * 1000 / MCNY * m.battery_mwh_new[site, v]
                + bat.capex_cny_per_kw.at(v) * 1000 / MCNY * m.battery_mw_new[site, v]
            )
            for site in m.S
            for v in data.vintages(data.years, bat.lifetime_years, y)
        )

    m.cost_terms["battery_capital"] = battery_capital
    m.capital_builds["battery_capital"] = (
        Builds(m.battery_mwh_new, {(v,): bat.capex_cny_per_kwh.at(v) * 1000 / MCNY for v in data.years}, energy_at),
        Builds(m.battery_mw_new, {(v,): bat.capex_cny_per_kw.at(v) * 1000 / MCNY for v in data.years}, power_at),
    )
    m.battery_limit_mwh = pyo.Constraint(
        m.Y, rule=lambda m, y: sum(m.battery_mwh[site, y] for site in m.S) <= bat.max_mwh, doc="sum_s E[s,y] <= max_mwh"
    )
    m.battery_limit_mw = pyo.Constraint(
        m.Y, rule=lambda m, y: sum(m.battery_mw[site, y] for site in m.S) <= bat.max_mw, doc="sum_s P[s,y] <= max_mw"
    )
    m.battery_charge = pyo.Var(m.S, m.Y, m.D, m.H, within=pyo.NonNegativeReals, doc="battery charging [MW]")
    m.battery_discharge = pyo.Var(m.S, m.Y, m.D, m.H, within=pyo.NonNegativeReals, doc="battery discharging [MW]")
    m.battery_soc = pyo.Var(
        m.S, m.Y, m.D, m.H, within=pyo.NonNegativeReals, doc="battery state of charge at the end of the hour [MWh]"
    )
    eta_c, eta_d = bat.charge_efficiency, bat.discharge_efficiency

    def soc_balance(m: pyo.ConcreteModel, site: str, y: int, d: int, h: int) -> pyo.Expression:
        previous = m.battery_soc[site, y, d, (h - 1) % 24]  # cyclic within each representative day
        return (
            m.battery_soc[site, y, d, h]
            == previous + eta_c * m.battery_charge[site, y, d, h] - m.battery_discharge[site, y, d, h] / eta_d
        )

    m.battery_balance = pyo.Constraint(
        m.S,
        m.Y,
        m.D,
        m.H,
        rule=soc_balance,
        doc="soc[s,y,d,h] = soc[s,y,d,h-1 mod 24] + eta_c * charge[s,y,d,h] - discharge[s,y,d,h] / eta_d   [MWh]",
    )
    m.battery_energy_limit = pyo.Constraint(
        m.S,
        m.Y,
        m.D,
        m.H,
        rule=lambda m, site, y, d, h: m.battery_soc[site, y, d, h] <= m.battery_mwh[site, y],
        doc="soc <= E[s,y]   [MWh]",
    )
    m.battery_charge_limit = pyo.Constraint(
        m.S,
        m.Y,
        m.D,
        m.H,
        rule=lambda m, site, y, d, h: m.battery_charge[site, y, d, h] <= m.battery_mw[site, y],
        doc="charge <= P[s,y]   [MW]",
    )
    m.battery_discharge_limit = pyo.Constraint(
        m.S,
        m.Y,
        m.D,
        m.H,
        rule=lambda m, site, y, d, h: m.battery_discharge[site, y, d, h] <= m.battery_mw[site, y],
        doc="discharge <= P[s,y]   [MW]",
    )


def _add_supply_balance(m: pyo.ConcreteModel) -> None:
    """Every hour at every site, grid, PPAs, PV and the battery supply the site's facility power."""
    m.supply_balance = pyo.Constraint(
        m.S,
        m.Y,
        m.D,
        m.H,
        rule=lambda m, s, y, d, h: (
            m.grid_import[s, y, d, h]
            + sum(m.ppa_energy[s, k, y, d, h] for k in m.P)
            + m.pv_used[s, y, d, h]
            + m.battery_discharge[s, y, d, h]
            - m.battery_charge[s, y, d, h]
            == m.facility_power[s, y, d, h]
        ),
        doc="g[s] + sum_k q[s,k] + pv_used[s] + discharge[s] - charge[s] = P_fac[s]   [MW] every hour",
    )


def _add_gensets(m: pyo.ConcreteModel, data: ModelData, values: dict[str, dict]) -> Asset:
    """Backup gensets: at each site in use, N+k of them carry the critical share of its facility power."""
    s = data.scenario
    gens = s.power.generators
    generators = add_asset(
        m,
        data,
        "generators",
        None,
        Fleet(gens.lifetime_years, gens.fixed_om_fraction, s.existing.generators),
        new_doc="gen[s,y]: new gensets [units]",
        capex=values["generator_capex"],
        capex_param="generator_capex",
        capex_doc="price of a genset [MCNY/unit]",
        symbol="GEN[s,y]",
        meaning="gensets in service",
        unit="units",
        cost="generators_capital",
        cost_doc=CAPITAL_DOC,
        adds_capacity=True,
    )
    m.generator_limit = pyo.Constraint(
        m.Y,
        rule=lambda m, y: sum(m.generators[site, y] for site in m.S) <= gens.max_units,
        doc="sum_s GEN[s,y] <= max_units",
    )
    m.backup = pyo.Constraint(
        m.S,
        m.Y,
        m.D,
        m.H,
        rule=lambda m, site, y, d, h: (
            gens.unit_mw * (m.generators[site, y] - gens.redundancy * m.site_in_use[site, y])
            >= gens.critical_fraction * m.facility_power[site, y, d, h]
        ),
        doc="gen_mw * (GEN[s,y] - k * o[s,y]) >= critical_fraction * P_fac[s,y,d,h]   [MW]  (N+k per site)",
    )
    return generators


def _add_emissions(m: pyo.ConcreteModel, data: ModelData, values: dict[str, dict]) -> None:
    """Green certificates, location- and market-based emissions, and the carbon price."""
    s = data.scenario
    p = s.power
    W = data.weight
    m.certificates = pyo.Var(m.Y, within=pyo.NonNegativeReals, doc="green certificates bought [GWh]")
    m.certificate_price = pyo.Param(
        m.Y,
        mutable=True,
        initialize=values["certificate_price"],
        doc="certificate price [CNY/MWh]",
    )
    ef = data.time.grid_emission_t_per_mwh
    direct = [k for k in m.P if p.ppa[k].delivery == "direct"]
    m.emissions_location = pyo.Expression(
        m.Y,
        rule=lambda m, y: sum(
            W[d]
            * (
                float(ef[d, h]) * m.connection_flow[site, y, d, h]
                + sum(p.ppa[k].emission_t_per_mwh * m.ppa_energy[site, k, y, d, h] for k in direct)
            )
            for site in m.S
            for d in m.D
            for h in m.H
        ),
        doc="location-based emissions = sum_(s,d,h) W_d * (ef[d,h] * (g[s] + sum_(k wheeled) q[s,k]) "
        "+ sum_(k direct) ef_k * q[s,k])   [tCO2/year]",
    )
    residual = p.green_certificates.residual_emission_t_per_mwh
    m.emissions_market_gross = pyo.Expression(
        m.Y,
        rule=lambda m, y: (
            sum(
                W[d]
                * (
                    float(ef[d, h]) * m.grid_import[site, y, d, h]
                    + sum(p.ppa[k].emission_t_per_mwh * m.ppa_energy[site, k, y, d, h] for k in m.P)
                )
                for site in m.S
                for d in m.D
                for h in m.H
            )
            - residual * MWH_PER_GWH * m.certificates[y]
        ),
        doc="market-based emissions before the floor at zero = sum_(s,d,h) W_d * (ef[d,h] * g[s] "
        "+ sum_k ef_k * q[s,k]) - residual_ef * 1000 * gec[y]   [tCO2/year]",
    )
    if s.policy.emissions_basis == "market":
        # Market-based emissions are never below zero: a variable above both.
        m.emissions = pyo.Var(m.Y, within=pyo.NonNegativeReals, doc="market-based emissions [tCO2/year]")
        m.emissions_market_floor = pyo.Constraint(
            m.Y,
            rule=lambda m, y: m.emissions[y] >= m.emissions_market_gross[y],
            doc="E_mkt[y] >= market-based emissions before the floor, E_mkt[y] >= 0   [tCO2/year]",
        )
    else:
        m.emissions = pyo.Expression(
            m.Y,
            rule=lambda m, y: m.emissions_location[y],
            doc="emissions the carbon price and cap apply to [tCO2/year]",
        )
    m.carbon_price = pyo.Param(
        m.Y,
        mutable=True,
        initialize=values["carbon_price"],
        doc="carbon price [CNY/tCO2]",
    )


def _add_existing_om(m: pyo.ConcreteModel, data: ModelData, grid_blocks: Asset, generators: Asset) -> None:
    """Register the fixed O&M of the existing grid blocks, gensets, PV and battery [MCNY/year]."""
    s = data.scenario
    p = s.power
    grid, pv, bat, gens = p.grid, p.pv, p.battery, p.generators
    first = data.years[0]

    def existing_om(m: pyo.ConcreteModel, y: int) -> float:
        """fixed O&M of existing blocks, gensets, PV and battery at first-year capex   [MCNY/year]"""
        total = grid_blocks.existing_om(data, y, lambda: grid.capex_cny_per_block.at(first))
        total += generators.existing_om(data, y, lambda: gens.capex_cny_per_unit.at(first))
        total += sum(
            e.mw * 1000 * pv.capex_cny_per_kw.at(first) * pv.fixed_om_fraction
            for e in s.existing.pv
            if data.alive(e.year_built, pv.lifetime_years, y)
        )
        total += sum(
            1000
            * (e.mwh * bat.capex_cny_per_kwh.at(first) + e.mw * bat.capex_cny_per_kw.at(first))
            * bat.fixed_om_fraction
            for e in s.existing.battery
            if data.alive(e.year_built, bat.lifetime_years, y)
        )
        return total / MCNY

    m.cost_terms["fixed_om_existing_power"] = existing_om


def _add_grid_energy(m: pyo.ConcreteModel, data: ModelData) -> None:
    """A year's grid energy at each site, plain and weighted by the tariff's hourly factors: the aggregates
    the energy cost multiplies by its prices (DESIGN.md §6).

    They hold no parameter, so a linear form of one is taken once and kept (``m.aggregates``,
    :class:`planner.solver.recompile.LinearForms`): a sweep case that moves the tariff re-prices five yearly
    terms of three aggregates each instead of re-walking every hour of every year.
    """
    W = data.weight
    mult, adder = data.time.tou_multiplier, data.time.season_adder_cny_per_kwh
    tou = {site: data.site_prices[site].time_of_use for site in data.sites}
    m.grid_energy = pyo.Expression(
        m.S,
        m.Y,
        rule=lambda m, s, y: sum(W[d] * m.grid_import[s, y, d, h] for d in m.D for h in m.H),
        doc="E[s,y] = sum_(d,h) W_d * g[s,y,d,h]   [MWh/year]",
    )
    m.grid_tou_energy = pyo.Expression(
        m.S,
        m.Y,
        rule=lambda m, s, y: (
            sum(W[d] * float(mult[d, h]) * m.grid_import[s, y, d, h] for d in m.D for h in m.H)
            if tou[s]
            else m.grid_energy[s, y]
        ),
        doc="E_tou[s,y] = sum_(d,h) W_d * tou_multiplier[d,h] * g[s,y,d,h] (a site without time_of_use:"
        " E[s,y])   [MWh/year]",
    )
    m.grid_adder_energy = pyo.Expression(
        m.S,
        m.Y,
        rule=lambda m, s, y: (
            sum(W[d] * float(adder[d, h]) * m.grid_import[s, y, d, h] for d in m.D for h in m.H) if tou[s] else 0.0
        ),
        doc="A[s,y] = sum_(d,h) W_d * season_adder[d,h] * g[s,y,d,h] (a site without time_of_use: 0)"
        "   [CNY/kWh * MWh/year]",
    )
    m.aggregates += [m.grid_energy, m.grid_tou_energy, m.grid_adder_energy]


def _add_energy_costs(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Register grid energy and fixed charge, PPA, certificate and carbon costs [MCNY/year]."""
    p = data.scenario.power
    grid, tariff = p.grid, p.grid.tariff
    W = data.weight

    rate = {site: data.site_prices[site].fixed_charge_rate for site in data.sites}
    _add_grid_energy(m, data)
    nf = {site: data.site_prices[site].non_floating_cny_per_kwh for site in data.sites}

    def energy(m: pyo.ConcreteModel, y: int) -> pyo.Expression:
        """sum_s (nf_s * E[s,y] + scale * ((flat[s,y] - nf_s) * E_tou[s,y] + A[s,y])) * 1000 / 1e6 = sum_(s,d,h)
        W_d * price[s,y,d,h] * 1000 * g / 1e6, price = nf_s + scale * ((flat - nf_s) * tou_multiplier + season_adder)
        [CNY/kWh]   [MCNY/year]
        """
        return KWH_PRICE_TO_MCNY_PER_MWH * sum(
            energy_cost(
                m.flat_price[s, y],
                nf[s],
                m.grid_energy[s, y],
                m.grid_tou_energy[s, y],
                m.grid_adder_energy[s, y],
                m.tariff_scale,
            )
            for s in m.S
        )

    def fixed_charge(m: pyo.ConcreteModel, y: int) -> pyo.Expression:
        """demand: sum_s c_kW[s] * 1000 * sum_mo peak[s,y,mo] / 1e6; capacity: sum_s c_kVA[s] * 12000 * block_mva
        * G[s,y] / 1e6   [MCNY/year] (c[s]: the site's own rate, else the cluster's)
        """
        if tariff.fixed_charge_basis == "demand":
            return sum(rate[s] * 1000 / MCNY * sum(m.grid_peak[s, y, mo] for mo in m.MONTH) for s in m.S)
        return sum(rate[s] * 12 * grid.block_mva * 1000 / MCNY * m.grid_blocks[s, y] for s in m.S)

    def ppa_energy(m: pyo.ConcreteModel, y: int) -> pyo.Expression:
        """sum_(s,k,d,h) W_d * ppa_price[k,y] [CNY/kWh] * 1000 * q[s,k,y,d,h] / 1e6   [MCNY/year]"""
        return KWH_PRICE_TO_MCNY_PER_MWH * sum(
            W[d] * m.ppa_energy_price[k, y] * m.ppa_energy[s, k, y, d, h]
            for s in m.S
            for k in m.P
            for d in m.D
            for h in m.H
        )

    def ppa_not_taken(m: pyo.ConcreteModel, y: int) -> pyo.Expression:
        """sum_k take_or_pay_k * ppa_price[k,y] * 1000 * sum_(d,h) W_d * (avail_k * ppa_cap[k,y] - sum_s q) / 1e6
        [MCNY/year]
        """
        return KWH_PRICE_TO_MCNY_PER_MWH * sum(
            p.ppa[k].take_or_pay
            * m.ppa_energy_price[k, y]
            * (_ppa_made_available(m, data, k, y) - _ppa_taken(m, data, k, y))
            for k in m.P
            if p.ppa[k].take_or_pay > 0
        )

    def ppa_capacity(m: pyo.ConcreteModel, y: int) -> pyo.Expression:
        """sum_k fee_k [CNY/kW/year] * 1000 * ppa_cap[k,y] / 1e6   [MCNY/year]"""
        return sum(p.ppa[k].capacity_cny_per_kw_year.at(y) * 1000 / MCNY * m.ppa_contract[k, y] for k in m.P)

    def certificates(m: pyo.ConcreteModel, y: int) -> pyo.Expression:
        """certificate_price[y] [CNY/MWh] * 1000 * gec[y] [GWh] / 1e6   [MCNY/year]"""
        return m.certificate_price[y] * MWH_PER_GWH / MCNY * m.certificates[y]

    def carbon(m: pyo.ConcreteModel, y: int) -> pyo.Expression:
        """carbon_price[y] [CNY/t] * emissions[y] (of the scenario's basis) / 1e6   [MCNY/year]"""
        return m.carbon_price[y] / MCNY * m.emissions[y]

    m.cost_terms["grid_energy"] = energy
    m.cost_terms["grid_fixed_charge"] = fixed_charge
    m.cost_terms["ppa_energy"] = ppa_energy
    m.cost_terms["ppa_take_or_pay"] = ppa_not_taken
    m.cost_terms["ppa_capacity"] = ppa_capacity
    m.cost_terms["certificates"] = certificates
    m.cost_terms["carbon"] = carbon
