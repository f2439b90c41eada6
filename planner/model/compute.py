"""Compute: servers by type and cooling, what they do each hour, and the demand they meet.

Symbols: ``s`` site, ``a`` server type, ``c`` cooling technology, ``(a, c) ∈ AC`` allowed pairs, ``y`` year,
``d`` representative day with weight ``W_d`` [days], ``h`` hour, ``r`` demand region, ``n`` hub.
Model units (see ``data.py``): servers [-], inference [Mtok/s], training [ZFLOP], money [MCNY].
Servers stand at a site. Training (every year) is met by the servers of all sites together and
by compute leased from hubs that take training (``network.py``). Inference (every hour) comes
from regions: without ``demand.inference.regions`` one region that every site (and every hub
leasing inference) serves; with them, each region's share is served only by the sites and hubs
of its latency class, through the routing ``x[s,r,y,d,h]``.
"""

from __future__ import annotations

import pyomo.environ as pyo

from planner.model.assets import Asset, Fleet, add_asset
from planner.model.data import MCNY, MTOK, ZFLOP, ZFLOP_PER_EFLOP, ModelData
from planner.model.network import leased_inference, leased_reserve, leased_training, sold_servers
from planner.scenario.schema import IMPLICIT_REGION

__all__ = ["add_compute", "parameters"]


#: Unit of the annual training balance row [ZFLOP] (1e23 FLOP; see ``training_balance``).
TRAINING_ROW_ZFLOP = 100.0


def parameters(data: ModelData) -> dict[str, dict]:
    """Values of this subsystem's mutable parameters (what sweeps change without a rebuild)."""
    s = data.scenario
    acc = s.accelerators
    years = data.years
    return {
        "server_capex": {
            (a, y): acc[a].capex_cny.at(y) * acc[a].price_scale / MCNY for a in data.accelerators for y in years
        },
        "purchase_cap_servers": {
            (a, y): cap.at(y) for a in data.accelerators if (cap := acc[a].max_new_per_year) is not None for y in years
        },
        "inference_demand": {
            y: s.demand.inference.peak_tokens_per_s.at(y) * s.demand.inference.scale / MTOK for y in years
        },
        "training_demand": {y: s.demand.training.flop.at(y) * s.demand.training.scale / ZFLOP for y in years},
    }


def add_compute(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Add server stocks and builds, hourly activity, inference and training balances."""
    _add_sets_and_parameters(m, data)
    servers = _add_servers(m, data)
    _add_activity(m, data)
    _add_inference(m, data)
    _add_training(m, data)
    _add_purchase_cap(m, data)
    _add_installed_compute(m, data)
    _add_costs(m, data, servers)


def _add_sets_and_parameters(m: pyo.ConcreteModel, data: ModelData) -> None:
    """The (server type, cooling) pairs, the build years, and the sweepable parameters."""
    m.AC = pyo.Set(initialize=data.pairs, dimen=2, ordered=True, doc="allowed (server type, cooling) pairs")
    m.BUILD = pyo.Set(
        initialize=[(a, c, y) for a, c in data.pairs for y in data.buildable_years(a)],
        dimen=3,
        ordered=True,
        doc="(server type, cooling, year) in which new servers may be bought",
    )
    values = parameters(data)
    m.server_capex = pyo.Param(
        m.A,
        m.Y,
        mutable=True,
        initialize=values["server_capex"],
        doc="price of one server bought in year y [MCNY/server]",
    )
    caps = values["purchase_cap_servers"]
    m.CAPPED = pyo.Set(initialize=list(caps), dimen=2, ordered=True, doc="(server type, year) with a purchase cap")
    m.purchase_cap_servers = pyo.Param(
        m.CAPPED, mutable=True, initialize=caps, doc="most new servers of a type per year [servers/year]"
    )
    m.inference_demand = pyo.Param(
        m.Y, mutable=True, initialize=values["inference_demand"], doc="peak inference demand of the year R_y [Mtok/s]"
    )
    m.training_demand = pyo.Param(
        m.Y, mutable=True, initialize=values["training_demand"], doc="training work required in year y E_y [ZFLOP]"
    )


def _add_servers(m: pyo.ConcreteModel, data: ModelData) -> Asset:
    """Servers bought (by type, cooling and buildable year) and in service; their capital charge."""
    s = data.scenario
    acc = s.accelerators

    def fleet(a: str, c: str) -> Fleet:
        return Fleet(
            acc[a].lifetime_years,
            acc[a].fixed_om_fraction,
            s.existing.servers,
            match={"accelerator": a, "cooling": c},
            build_years=data.buildable_years(a),
            price_key=(a,),  # the price of a server depends on its type, not its cooling
        )

    return add_asset(
        m,
        data,
        "servers",
        m.AC,
        fleet,
        builds=m.BUILD,
        new_doc="b[s,a,c,y]: new servers [servers]",
        capex=m.server_capex,
        symbol="N[s,a,c,y]",
        meaning="servers in service",
        unit="servers",
        cost="servers_capital",
        cost_doc="sum_(s,a,c) sum_(v alive in y) (CRF_a + fom_a) * capex[a,v] * b[s,a,c,v]   [MCNY/year]",
    )


def _add_activity(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Servers busy training or serving inference each hour, at most the available ones."""
    acc = data.scenario.accelerators
    m.servers_training = pyo.Var(
        m.S, m.AC, m.Y, m.D, m.H, within=pyo.NonNegativeReals, doc="z_tr: servers busy training [servers]"
    )
    m.servers_inference = pyo.Var(
        m.S, m.AC, m.Y, m.D, m.H, within=pyo.NonNegativeReals, doc="z_inf: servers serving inference [servers]"
    )

    def activity(m: pyo.ConcreteModel, s: str, a: str, c: str, y: int, d: int, h: int) -> pyo.Expression:
        busy = m.servers_training[s, a, c, y, d, h] + m.servers_inference[s, a, c, y, d, h]
        return busy + sold_servers(m, s, a, c, y) <= acc[a].availability * m.servers[s, a, c, y]

    m.activity = pyo.Constraint(
        m.S,
        m.AC,
        m.Y,
        m.D,
        m.H,
        rule=activity,
        doc="z_tr[s,a,c,y,d,h] + z_inf[s,a,c,y,d,h] + z_sold[s,a,c,y] <= availability_a * N[s,a,c,y]   [servers]"
        " (z_sold: servers sold to hubs, network.py)",
    )


def _add_inference(m: pyo.ConcreteModel, data: ModelData) -> None:
    """The hourly inference balance and the yearly reserve, each with its unserved slack."""
    s = data.scenario
    acc = s.accelerators
    tokens = {a: acc[a].tokens_per_s / MTOK for a in m.A}
    shape = data.time.inference_shape
    m.inference_unserved = pyo.Var(
        m.Y, m.D, m.H, within=pyo.NonNegativeReals, doc="u_inf: inference demand not served [Mtok/s]"
    )

    if data.explicit_regions:
        _add_regions(m, data, tokens)
    else:

        def inference_balance(m: pyo.ConcreteModel, y: int, d: int, h: int) -> pyo.Expression:
            served = sum(tokens[a] * m.servers_inference[s, a, c, y, d, h] for s in m.S for a, c in m.AC)
            served = served + leased_inference(m, data, IMPLICIT_REGION, y, d, h)
            # An equality: serving more than the hour's demand would be useless work that only
            # lowers the PUE (spare servers idle at idle power instead).
            return served + m.inference_unserved[y, d, h] == m.inference_demand[y] * float(shape[d, h])

        m.inference_balance = pyo.Constraint(
            m.Y,
            m.D,
            m.H,
            rule=inference_balance,
            doc="sum_(s,a,c) tok_a * z_inf[s,a,c,y,d,h] + sum_n tok_n * li[n,all,y,d,h] + u_inf[y,d,h] = "
            "R_y * shape[d,h]   [Mtok/s] (no regions: one, served by every site and hub leasing inference)",
        )
    m.reserve_unserved = pyo.Var(m.Y, within=pyo.NonNegativeReals, doc="u_res: missing reserve capacity [Mtok/s]")
    margin = s.demand.inference.reserve_margin

    def inference_reserve(m: pyo.ConcreteModel, y: int) -> pyo.Expression:
        # Servers that are down do not count toward the reserve.
        available = sum(tokens[a] * acc[a].availability * m.servers[s, a, c, y] for s in m.S for a, c in m.AC)
        # Servers sold to a hub are the buyer's all year; compute leased for inference is capacity held.
        sold = sum(tokens[a] * sold_servers(m, s, a, c, y) for s in m.S for a, c in m.AC)
        available = available - sold + leased_reserve(m, data, y)
        return available + m.reserve_unserved[y] >= (1 + margin) * m.inference_demand[y]

    m.inference_reserve = pyo.Constraint(
        m.Y,
        rule=inference_reserve,
        doc="sum_(s,a,c) tok_a * (availability_a * N[s,a,c,y] - z_sold[s,a,c,y]) + sum_n tok_n * L[n,y] + u_res[y]"
        " >= (1 + reserve) * R_y   [Mtok/s] (n: hubs leasing inference)",
    )


def _add_regions(m: pyo.ConcreteModel, data: ModelData, tokens: dict[str, float]) -> None:
    """Inference by region: each site's throughput routed to the regions whose latency class names
    it, and each region's share of the hour's demand met by its sites and hubs, with its own
    unserved slack (the penalised ``u_inf`` is their sum).
    """
    shape = data.time.inference_shape
    regions = data.region_specs
    m.R = pyo.Set(initialize=data.regions, ordered=True, doc="demand regions")
    m.ROUTE = pyo.Set(
        initialize=[(s, r) for r in data.regions for s in regions[r].sites if s in data.site_specs],
        dimen=2,
        ordered=True,
        doc="(site, region): the region's latency class names the site",
    )
    m.inference_routed = pyo.Var(
        m.ROUTE,
        m.Y,
        m.D,
        m.H,
        within=pyo.NonNegativeReals,
        doc="x[s,r,y,d,h]: site s's inference for region r [Mtok/s]",
    )
    m.inference_unserved_region = pyo.Var(
        m.R, m.Y, m.D, m.H, within=pyo.NonNegativeReals, doc="u_r[r,y,d,h]: region r's demand not served [Mtok/s]"
    )

    def site_inference(m: pyo.ConcreteModel, s: str, y: int, d: int, h: int) -> pyo.Expression:
        served = sum(tokens[a] * m.servers_inference[s, a, c, y, d, h] for a, c in m.AC)
        return served == sum(m.inference_routed[s, r, y, d, h] for ss, r in m.ROUTE if ss == s)

    m.site_inference = pyo.Constraint(
        m.S,
        m.Y,
        m.D,
        m.H,
        rule=site_inference,
        doc="sum_(a,c) tok_a * z_inf[s,a,c,y,d,h] = sum_(r: s in class r) x[s,r,y,d,h]   [Mtok/s]",
    )

    def region_balance(m: pyo.ConcreteModel, r: str, y: int, d: int, h: int) -> pyo.Expression:
        served = sum(m.inference_routed[s, r, y, d, h] for s, rr in m.ROUTE if rr == r)
        served = served + leased_inference(m, data, r, y, d, h)
        demand = regions[r].share * float(shape[d, h]) * m.inference_demand[y]
        return served + m.inference_unserved_region[r, y, d, h] == demand

    m.region_balance = pyo.Constraint(
        m.R,
        m.Y,
        m.D,
        m.H,
        rule=region_balance,
        doc="sum_(s in class r) x[s,r,y,d,h] + sum_(n in class r) tok_n * li[n,r,y,d,h] + u_r[r,y,d,h] = "
        "share_r * R_y * shape[d,h]   [Mtok/s]",
    )
    m.inference_unserved_def = pyo.Constraint(
        m.Y,
        m.D,
        m.H,
        rule=lambda m, y, d, h: (
            m.inference_unserved[y, d, h] == sum(m.inference_unserved_region[r, y, d, h] for r in m.R)
        ),
        doc="u_inf[y,d,h] = sum_r u_r[r,y,d,h]   [Mtok/s]",
    )


def _add_training(m: pyo.ConcreteModel, data: ModelData) -> None:
    """The hourly training rate, its flexibility within a day, and the yearly training balance."""
    s = data.scenario
    acc = s.accelerators
    # ZFLOP per server-hour: PFLOPS x MFU x 3600 s x 1e15 / 1e21
    flop = {a: acc[a].pflops_per_server * acc[a].mfu * 3600 * 1e15 / 1e21 for a in m.A}
    m.training_rate = pyo.Var(m.Y, m.D, m.H, within=pyo.NonNegativeReals, doc="F[y,d,h]: training work done [ZFLOP/h]")

    def training_rate_def(m: pyo.ConcreteModel, y: int, d: int, h: int) -> pyo.Expression:
        own = sum(flop[a] * m.servers_training[s, a, c, y, d, h] for s in m.S for a, c in m.AC)
        return m.training_rate[y, d, h] == own + leased_training(m, data, y, d, h)

    m.training_rate_def = pyo.Constraint(
        m.Y,
        m.D,
        m.H,
        rule=training_rate_def,
        doc="F[y,d,h] = sum_(s,a,c) PFLOPS_a * MFU_a * 3600 * 1e-6 * z_tr[s,a,c,y,d,h] + sum_n MFU_n * 3600 * 1e-6"
        " * lt[n,y,d,h]   [ZFLOP/h] (n: hubs leasing training)",
    )
    phi = s.demand.training.flexibility
    if phi < 1:
        m.training_day_mean = pyo.Var(
            m.Y, m.D, within=pyo.NonNegativeReals, doc="mean training rate of a day [ZFLOP/h]"
        )
        m.training_day_mean_def = pyo.Constraint(
            m.Y,
            m.D,
            rule=lambda m, y, d: 24 * m.training_day_mean[y, d] == sum(m.training_rate[y, d, h] for h in m.H),
            doc="24 * Fbar[y,d] = sum_h F[y,d,h]   [ZFLOP]",
        )
        m.training_flexibility = pyo.Constraint(
            m.Y,
            m.D,
            m.H,
            rule=lambda m, y, d, h: m.training_rate[y, d, h] >= (1 - phi) * m.training_day_mean[y, d],
            doc="F[y,d,h] >= (1 - flexibility) * Fbar[y,d]   [ZFLOP/h]",
        )
    m.training_unserved = pyo.Var(m.Y, within=pyo.NonNegativeReals, doc="u_tr: training work not done [ZFLOP]")

    def training_balance(m: pyo.ConcreteModel, y: int) -> pyo.Expression:
        done = sum(data.weight[d] * m.training_rate[y, d, h] for d in m.D for h in m.H)
        # Written in units of TRAINING_ROW_ZFLOP: the default's 5e26 FLOP (5e5 ZFLOP) in 2030 is
        # close to HiGHS's "excessively large row bounds" (1e6), which three times the demand passed.
        # An equality, like the inference balance: no credit for training work beyond demand.
        return (done + m.training_unserved[y]) / TRAINING_ROW_ZFLOP == m.training_demand[y] / TRAINING_ROW_ZFLOP

    m.training_balance = pyo.Constraint(
        m.Y,
        rule=training_balance,
        doc="(sum_(d,h) W_d * F[y,d,h] + u_tr[y]) / 100 = E_y / 100   [100 ZFLOP = 1e23 FLOP]",
    )


def _add_purchase_cap(m: pyo.ConcreteModel, data: ModelData) -> None:
    """At most the cap of new servers of a type in a year (export controls, supply)."""
    acc = data.scenario.accelerators

    def purchase_cap(m: pyo.ConcreteModel, a: str, y: int) -> pyo.Expression:
        new = [m.servers_new[s, a, c, y] for s in m.S for c in acc[a].cooling if (a, c, y) in m.BUILD]
        if not new:
            return pyo.Constraint.Skip
        return sum(new) <= m.purchase_cap_servers[a, y]

    m.purchase_cap = pyo.Constraint(
        m.CAPPED, rule=purchase_cap, doc="sum_(s,c) b[s,a,c,y] <= cap[a,y]   [servers/year] (export controls, supply)"
    )


def _add_installed_compute(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Installed compute, as reported and as the policy limits count it."""
    acc = data.scenario.accelerators
    m.installed_pflops = pyo.Expression(
        m.Y,
        rule=lambda m, y: sum(acc[a].pflops_per_server * m.servers[s, a, c, y] for s in m.S for a, c in m.AC),
        doc="installed dense BF16 compute [PFLOPS]",
    )


def _add_costs(m: pyo.ConcreteModel, data: ModelData, servers: Asset) -> None:
    """Register the fixed O&M of the existing servers and the shortfall penalties [MCNY/year]."""
    s = data.scenario
    first = data.years[0]

    def server_existing_om(m: pyo.ConcreteModel, y: int) -> pyo.Expression:
        """sum_(s,a,c) existing N[s,a,c,y] * fom_a * capex[a,y0]   [MCNY/year] (capex with its price_scale)"""
        return servers.existing_om(data, y, lambda a: m.server_capex[a, first])

    penalty = s.demand.shortfall_penalty

    def inference_shortfall(m: pyo.ConcreteModel, y: int) -> pyo.Expression:
        """sum_(d,h) W_d * 3600 * u_inf[y,d,h] * penalty [CNY/Mtoken] / 1e6   [MCNY/year]"""
        unserved_mtok = sum(data.weight[d] * 3600 * m.inference_unserved[y, d, h] for d in m.D for h in m.H)
        return unserved_mtok * penalty.inference_cny_per_million_tokens / MCNY

    def training_shortfall(m: pyo.ConcreteModel, y: int) -> pyo.Expression:
        """u_tr[y] * 1000 EFLOP/ZFLOP * penalty [CNY/EFLOP] / 1e6   [MCNY/year]"""
        return m.training_unserved[y] / ZFLOP_PER_EFLOP * penalty.training_cny_per_eflop / MCNY

    def reserve_shortfall(m: pyo.ConcreteModel, y: int) -> pyo.Expression:
        """u_res[y] * 1e6 * penalty [CNY/(token/s)/year] / 1e6   [MCNY/year]"""
        return m.reserve_unserved[y] * MTOK * penalty.reserve_cny_per_token_per_s / MCNY

    m.cost_terms["fixed_om_existing_servers"] = server_existing_om
    m.cost_terms["shortfall_inference"] = inference_shortfall
    m.cost_terms["shortfall_training"] = training_shortfall
    m.cost_terms["shortfall_reserve"] = reserve_shortfall
