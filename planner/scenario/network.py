"""The network block of the scenario schema: other hub nodes of the national computing-power network
that the cluster may lease compute from and sell compute to (YAML key ``network``, DESIGN.md §8).

Each field's docstring states its meaning and canonical unit in brackets, as in
:mod:`planner.scenario.schema`. A PFLOPS·h is one PFLOPS of dense BF16 peak held for one hour
(3.6e18 FLOP); prices per PFLOPS·h are what the market quotes per server-month divided by the
server's PFLOPS and 730 h (``docs/research/sites-network.md`` §3.2).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from planner.scenario.fields import Name, Series, Strict

__all__ = ["Hub", "HubLease", "HubSale", "Network", "WORKLOADS"]

#: Workloads a hub's leased compute may take.
WORKLOADS = ("training", "inference")


class HubLease(Strict):
    """Compute another hub offers to lease to the cluster: held for the whole year, paid by the hour.

    Leased compute serves demand (training anywhere; inference of a region whose latency class
    names the hub) but is none of this cluster's installed compute: it counts in neither the
    installed PFLOPS nor the EFLOPS target, the domestic share or the PUE, and draws no power here.
    """

    price_cny_per_pflops_hour: Series("CNY/PFLOPS/h", ge=0)
    """Price of leased compute [CNY/PFLOPS/h], per PFLOPS of dense BF16 peak held for an hour
    (``"13 CNY/PFLOPS/h"``); the lease is held all year, so one PFLOPS costs 8,760 h x this."""
    max_pflops: Series("PFLOPS", ge=0)
    """Most compute the hub leases to the cluster in a year [PFLOPS] (dense BF16 peak)."""
    accelerator: Name
    """The server type leased (a key of ``accelerators``): its MFU turns leased PFLOPS into
    training FLOP and its tokens/s per PFLOPS into inference throughput. Leased servers are
    not bought: the type needs no purchase window."""
    workloads: list[Literal["training", "inference"]] = Field(min_length=1)
    """What the leased compute may take: ``training`` (no latency limit) and ``inference``
    (interactive, only for regions whose ``sites`` name this hub). Batch inference is not a
    demand of its own in this model."""


class HubSale(Strict):
    """Capacity the cluster may sell to the hub (the national scheduling platform) for a year.

    Sold capacity is servers of this cluster set aside for the buyer: they run at full load every
    hour (their IT power, cooling and energy are drawn here, at their site) and serve none of
    the cluster's own demand or reserve; they stay installed compute of this cluster.
    """

    price_cny_per_pflops_hour: Series("CNY/PFLOPS/h", ge=0)
    """Revenue per PFLOPS of dense BF16 peak sold for an hour [CNY/PFLOPS/h]; sold for the whole
    year, so one PFLOPS earns 8,760 h x this."""
    max_pflops: Series("PFLOPS", ge=0)
    """Most compute the hub buys from the cluster in a year [PFLOPS]."""


class Hub(Strict):
    """Another hub node of the national network (e.g. Chongqing, Gui'an, Qingyang)."""

    description: str = ""
    """Free text, e.g. the sources of the numbers below."""
    lease: HubLease | None = None
    """Compute the cluster may lease from this hub; null or omitted: none."""
    sell: HubSale | None = None
    """Compute the cluster may sell to this hub; null or omitted: none."""

    def takes(self, workload: Literal["training", "inference"]) -> bool:
        """Whether compute leased here may take ``workload``."""
        return self.lease is not None and workload in self.lease.workloads


class Network(Strict):
    """The national computing-power network around the cluster."""

    hubs: dict[Name, Hub] = Field(default_factory=dict)
    """Other hub nodes by name: compute to lease, capacity to sell. Left out: none."""
