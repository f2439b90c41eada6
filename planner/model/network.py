"""Network: compute leased from other hub nodes of the national network, and capacity sold to them
(DESIGN.md §8).

Symbols: ``n`` hub, ``r`` demand region, ``s`` site, ``(a, c)`` server type and cooling, ``y`` year,
``d`` representative day with weight ``W_d`` [days], ``h`` hour; ``T_y = sum_d W_d * 24`` hours in
the year [h]. Model units: compute [PFLOPS of dense BF16 peak], money [MCNY].

*Leased compute* ``L[n,y]`` is held for the whole year and paid ``price[n,y] * T_y`` per PFLOPS.
Each hour it is busy training (``lt[n,y,d,h]``) or serving the inference of a region whose
latency class names the hub (``li[n,r,y,d,h]``), at most ``L``. The compute balances
(``compute.py``) count it at the MFU and tokens/s per PFLOPS of the server type leased; nothing
else does: it is no installed compute of this cluster (EFLOPS target, domestic share), draws no
power here and so has no PUE here.

*Sold capacity* is servers of this cluster set aside for the hub for the whole year,
``z_sold[s,a,c,y]``: they count as busy in the activity rows (``compute.py``) and at full load in
the IT power (``facility.py``), so they draw power, cooling and energy at their site; they serve
none of the cluster's demand or reserve. ``sold[n,y]`` [PFLOPS] is what hub ``n`` buys; it earns
``price[n,y] * T_y`` per PFLOPS (a negative cost).

This module is added first: the compute and facility rows read its variables through
:func:`leased_training`, :func:`leased_inference`, :func:`leased_reserve` and
:func:`sold_servers`, which are 0 when the scenario has no hubs (the model is then unchanged).
"""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from planner.model.data import MCNY, MTOK, ModelData

__all__ = [
    "add_network",
    "lease_flop_per_pflops_hour",
    "lease_tokens_per_pflops",
    "leased_inference",
    "leased_reserve",
    "leased_training",
    "parameters",
    "sold_servers",
]


def parameters(data: ModelData) -> dict[str, dict]:
    """Values of this subsystem's mutable parameters: prices [MCNY per PFLOPS-year] and caps [PFLOPS]."""
    hubs, years, hours = data.hubs, data.years, data.hours_in_year
    lease = {n: hubs[n].lease for n in data.lease_hubs}
    sell = {n: hubs[n].sell for n in data.sale_hubs}
    return {
        "lease_price": {
            (n, y): x.price_cny_per_pflops_hour.at(y) * hours / MCNY for n, x in lease.items() if x for y in years
        },
        "lease_max_pflops": {(n, y): x.max_pflops.at(y) for n, x in lease.items() if x for y in years},
        "sale_price": {
            (n, y): x.price_cny_per_pflops_hour.at(y) * hours / MCNY for n, x in sell.items() if x for y in years
        },
        "sale_max_pflops": {(n, y): x.max_pflops.at(y) for n, x in sell.items() if x for y in years},
    }


def lease_flop_per_pflops_hour(data: ModelData, hub: str) -> float:
    """Training work one leased PFLOPS does in an hour, at the leased type's MFU [ZFLOP/h]:
    MFU x 3600 s x 1e15 / 1e21.
    """
    lease = data.hubs[hub].lease
    assert lease is not None
    return data.scenario.accelerators[lease.accelerator].mfu * 3600 * 1e15 / 1e21


def lease_tokens_per_pflops(data: ModelData, hub: str) -> float:
    """Inference throughput of one leased PFLOPS: the leased type's tokens/s per PFLOPS [Mtok/s per PFLOPS]."""
    lease = data.hubs[hub].lease
    assert lease is not None
    acc = data.scenario.accelerators[lease.accelerator]
    return acc.tokens_per_s / acc.pflops_per_server / MTOK


def add_network(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Add leased compute and sold capacity, their limits and their costs (nothing without hubs)."""
    values = parameters(data)
    _add_lease(m, data, values)
    _add_sale(m, data, values)


def _add_lease(m: pyo.ConcreteModel, data: ModelData, values: dict[str, dict]) -> None:
    """Compute leased from each hub for the year, busy training or serving regions each hour."""
    hubs = data.hubs
    m.LEASE = pyo.Set(initialize=data.lease_hubs, ordered=True, doc="hubs the cluster may lease compute from")
    m.LEASE_TRAINING = pyo.Set(
        initialize=[n for n in data.lease_hubs if hubs[n].takes("training")],
        ordered=True,
        doc="hubs whose leased compute may train",
    )
    m.LEASE_INFERENCE = pyo.Set(
        initialize=[(n, r) for r, region in data.region_specs.items() for n in region.sites if n in data.lease_hubs],
        dimen=2,
        ordered=True,
        doc="(hub, region): the region's latency class names the hub, whose leased compute takes inference",
    )
    if not data.lease_hubs:
        return
    m.lease_price = pyo.Param(
        m.LEASE,
        m.Y,
        mutable=True,
        initialize=values["lease_price"],
        doc="price[n,y] * T_y / 1e6: a PFLOPS leased for year y [MCNY/PFLOPS/year]",
    )
    m.lease_max_pflops = pyo.Param(
        m.LEASE, m.Y, mutable=True, initialize=values["lease_max_pflops"], doc="most compute hub n leases [PFLOPS]"
    )
    m.lease_pflops = pyo.Var(m.LEASE, m.Y, within=pyo.NonNegativeReals, doc="L[n,y]: compute leased [PFLOPS]")
    m.contracts["lease_pflops"] = m.lease_pflops  # a lease is signed for its year (planner.model.stages)
    m.lease_training = pyo.Var(
        m.LEASE_TRAINING,
        m.Y,
        m.D,
        m.H,
        within=pyo.NonNegativeReals,
        doc="lt[n,y,d,h]: leased compute training [PFLOPS]",
    )
    m.lease_inference = pyo.Var(
        m.LEASE_INFERENCE,
        m.Y,
        m.D,
        m.H,
        within=pyo.NonNegativeReals,
        doc="li[n,r,y,d,h]: leased compute serving region r's inference [PFLOPS]",
    )
    m.lease_limit = pyo.Constraint(
        m.LEASE,
        m.Y,
        rule=lambda m, n, y: m.lease_pflops[n, y] <= m.lease_max_pflops[n, y],
        doc="L[n,y] <= lease_max[n,y]   [PFLOPS]",
    )

    def lease_use(m: pyo.ConcreteModel, n: str, y: int, d: int, h: int) -> Any:
        busy = [m.lease_training[n, y, d, h]] if n in m.LEASE_TRAINING else []
        busy += [m.lease_inference[n, r, y, d, h] for nn, r in m.LEASE_INFERENCE if nn == n]
        if not busy:
            return pyo.Constraint.Skip
        return sum(busy) <= m.lease_pflops[n, y]

    m.lease_use = pyo.Constraint(
        m.LEASE,
        m.Y,
        m.D,
        m.H,
        rule=lease_use,
        doc="lt[n,y,d,h] + sum_r li[n,r,y,d,h] <= L[n,y]   [PFLOPS]",
    )

    def lease_cost(m: pyo.ConcreteModel, y: int) -> Any:
        """sum_n price[n,y] [CNY/PFLOPS/h] * T_y / 1e6 * L[n,y]   [MCNY/year]"""
        return sum(m.lease_price[n, y] * m.lease_pflops[n, y] for n in m.LEASE)

    m.cost_terms["network_lease"] = lease_cost


def _add_sale(m: pyo.ConcreteModel, data: ModelData, values: dict[str, dict]) -> None:
    """Servers set aside for sale to the hubs for the year, and the revenue they earn."""
    acc = data.scenario.accelerators
    m.SALE = pyo.Set(initialize=data.sale_hubs, ordered=True, doc="hubs the cluster may sell compute to")
    if not data.sale_hubs:
        return
    m.SOLD = pyo.Set(
        initialize=[(s, a, c) for s in data.sites for a, c in data.pairs],
        dimen=3,
        ordered=True,
        doc="(site, server type, cooling) whose servers may be sold",
    )
    m.sale_price = pyo.Param(
        m.SALE,
        m.Y,
        mutable=True,
        initialize=values["sale_price"],
        doc="price[n,y] * T_y / 1e6: a PFLOPS sold for year y [MCNY/PFLOPS/year]",
    )
    m.sale_max_pflops = pyo.Param(
        m.SALE, m.Y, mutable=True, initialize=values["sale_max_pflops"], doc="most compute hub n buys [PFLOPS]"
    )
    m.servers_sold = pyo.Var(
        m.SOLD, m.Y, within=pyo.NonNegativeReals, doc="z_sold[s,a,c,y]: servers set aside for sale [servers]"
    )
    m.sold_pflops = pyo.Var(m.SALE, m.Y, within=pyo.NonNegativeReals, doc="sold[n,y]: compute sold to hub n [PFLOPS]")
    m.contracts["sold_pflops"] = m.sold_pflops  # a sale is signed for its year; which servers serve it is operation
    m.sale_split = pyo.Constraint(
        m.Y,
        rule=lambda m, y: (
            sum(m.sold_pflops[n, y] for n in m.SALE)
            == sum(acc[a].pflops_per_server * m.servers_sold[s, a, c, y] for s, a, c in m.SOLD)
        ),
        doc="sum_n sold[n,y] = sum_(s,a,c) PFLOPS_a * z_sold[s,a,c,y]   [PFLOPS]",
    )
    m.sale_limit = pyo.Constraint(
        m.SALE,
        m.Y,
        rule=lambda m, n, y: m.sold_pflops[n, y] <= m.sale_max_pflops[n, y],
        doc="sold[n,y] <= sale_max[n,y]   [PFLOPS]",
    )

    def sale_revenue(m: pyo.ConcreteModel, y: int) -> Any:
        """-sum_n price[n,y] [CNY/PFLOPS/h] * T_y / 1e6 * sold[n,y]   [MCNY/year] (revenue: a negative cost)"""
        return -sum(m.sale_price[n, y] * m.sold_pflops[n, y] for n in m.SALE)

    m.cost_terms["network_sale"] = sale_revenue


# ---------------------------------------------------------------------- what the other subsystems read


def leased_training(m: pyo.ConcreteModel, data: ModelData, y: int, d: int, h: int) -> Any:
    """Training work done on leased compute in an hour, sum_n flop_n * lt[n,y,d,h] [ZFLOP/h] (0 without)."""
    return sum(lease_flop_per_pflops_hour(data, n) * m.lease_training[n, y, d, h] for n in m.LEASE_TRAINING)


def leased_inference(m: pyo.ConcreteModel, data: ModelData, r: str, y: int, d: int, h: int) -> Any:
    """Region r's inference served on leased compute, sum_n tok_n * li[n,r,y,d,h] [Mtok/s] (0 without)."""
    return sum(
        lease_tokens_per_pflops(data, n) * m.lease_inference[n, rr, y, d, h] for n, rr in m.LEASE_INFERENCE if rr == r
    )


def leased_reserve(m: pyo.ConcreteModel, data: ModelData, y: int) -> Any:
    """Inference capacity of the compute leased from hubs that take inference, sum_n tok_n * L[n,y] [Mtok/s]."""
    hubs = sorted({n for n, _ in m.LEASE_INFERENCE}, key=list(m.LEASE).index)
    return sum(lease_tokens_per_pflops(data, n) * m.lease_pflops[n, y] for n in hubs)


def sold_servers(m: pyo.ConcreteModel, s: str, a: str, c: str, y: int) -> Any:
    """Servers of (s, a, c) set aside for sale in year y [servers] (0 without hubs that buy)."""
    return m.servers_sold[s, a, c, y] if len(m.SALE) else 0
