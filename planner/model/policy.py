"""Policy: the hard limits of each year (PUE cap, green share with a certificate cap, domestic
compute share, installed-EFLOPS target, carbon cap), on the cluster as a whole: sums over the
sites. A limit not set for a year adds no row.

Limits are mutable parameters so that sweeps can move them without rebuilding (the set of
years a limit applies to is part of the model's structure). ``planner/prices.py`` prices each
limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyomo.environ as pyo

from planner.model.data import MWH_PER_GWH, ModelData

__all__ = ["add_policy", "parameters"]

#: Model parameter -> the scenario's policy field it comes from.
_LIMIT_FIELDS = {
    "pue_max": "pue_max",
    "green_share_min": "green_share_min",
    "domestic_share_min": "domestic_compute_share_min",
    "eflops_min": "installed_eflops_min",
    "carbon_cap": "carbon_cap_t",
}


def parameters(data: ModelData) -> dict[str, dict]:
    """Values of the policy limits in the years they are set (mutable parameters)."""
    out: dict[str, dict] = {}
    for param, field in _LIMIT_FIELDS.items():
        series = getattr(data.scenario.policy, field)
        values = {y: series.at(y) for y in data.years} if series is not None else {}
        out[param] = {y: v for y, v in values.items() if v is not None}
    return out


def add_policy(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Add one row per year and set policy limit."""
    s = data.scenario
    W = data.weight
    acc = s.accelerators
    values = parameters(data)

    def limit_param(name: str, doc: str) -> pyo.Param:
        years = list(values[name])
        index = pyo.Set(initialize=years, ordered=True)
        m.add_component(f"{name}_years", index)
        param = pyo.Param(index, mutable=True, initialize=values[name], doc=doc)
        m.add_component(name, param)
        return param

    def annual(expr_hourly: Callable[[int, int, int], Any], y: int) -> pyo.Expression:
        return sum(W[d] * expr_hourly(y, d, h) for d in m.D for h in m.H)

    # A year's facility and IT energy: aggregates (no parameter), so that a row a limit multiplies one by is
    # re-read from its kept form when the limit moves (planner.solver.recompile.LinearForms), not re-walked.
    m.facility_energy = pyo.Expression(
        m.Y,
        rule=lambda m, y: annual(lambda y, d, h: sum(m.facility_power[s, y, d, h] for s in m.S), y),
        doc="sum_(s,d,h) W_d * P_fac[s,y,d,h]   [MWh/year]",
    )
    m.it_energy = pyo.Expression(
        m.Y,
        rule=lambda m, y: annual(lambda y, d, h: sum(m.it_power[s, c, y, d, h] for s in m.S for c in m.C), y),
        doc="sum_(s,c,d,h) W_d * P_it[s,c,y,d,h]   [MWh/year]",
    )
    m.aggregates += [m.facility_energy, m.it_energy]

    def facility_mwh(y: int) -> pyo.Expression:
        return m.facility_energy[y]

    def it_mwh(y: int) -> pyo.Expression:
        return m.it_energy[y]

    # PUE -------------------------------------------------------------------------------
    limit_param("pue_max", "annual PUE cap [-]")
    m.pue_cap = pyo.Constraint(
        m.pue_max_years,
        rule=lambda m, y: facility_mwh(y) <= m.pue_max[y] * it_mwh(y),
        doc="sum_(s,d,h) W_d * P_fac[s,y,d,h] <= pue_max_y * sum_(s,d,h) W_d * sum_c P_it[s,c,y,d,h]   [MWh]",
    )

    # Green share -------------------------------------------------------------------------
    # Green energy is energy consumed that is neither grid energy nor a non-green contract's:
    # P_fac - g - sum_(k not green) q = sum_(k green) q + pv_used + discharge - charge (supply
    # balance), so energy lost in the battery is never credited.
    grey_ppas = [k for k in m.P if not s.power.ppa[k].green]
    limit_param("green_share_min", "least green share of facility energy [-]")

    m.not_green_energy = pyo.Expression(
        m.Y,
        rule=lambda m, y: annual(
            lambda y, d, h: sum(
                m.grid_import[s, y, d, h] + sum(m.ppa_energy[s, k, y, d, h] for k in grey_ppas) for s in m.S
            ),
            y,
        ),
        doc="sum_(s,d,h) W_d * (g[s,y,d,h] + sum_(k not green) q[s,k,y,d,h])   [MWh/year]",
    )
    m.aggregates.append(m.not_green_energy)

    def not_green_mwh(y: int) -> pyo.Expression:
        return m.not_green_energy[y]

    m.green_share = pyo.Constraint(
        m.green_share_min_years,
        rule=lambda m, y: (
            facility_mwh(y) - not_green_mwh(y) + MWH_PER_GWH * m.certificates[y]
            >= m.green_share_min[y] * facility_mwh(y)
        ),
        doc="sum_(s,d,h) W_d * (P_fac - g - sum_(k not green) q)[s] + 1000 * gec[y] >= green_min_y * "
        "sum_(s,d,h) W_d * P_fac[s]   [MWh]",
    )
    # Certificates cover at most the energy that is not already green: the share never exceeds 100 %.
    carbon_by_market = s.policy.emissions_basis == "market" and (
        s.policy.carbon_price_cny_per_t is not None or s.policy.carbon_cap_t is not None
    )
    certificate_years = [y for y in m.Y if y in m.green_share_min_years or carbon_by_market]
    m.certificate_headroom = pyo.Constraint(
        certificate_years,
        rule=lambda m, y: MWH_PER_GWH * m.certificates[y] <= not_green_mwh(y),
        doc="1000 * gec[y] <= sum W_d * (g + sum_(k not green) q)   [MWh]",
    )
    share = s.power.green_certificates.max_share
    if share < 1:
        m.certificate_cap = pyo.Constraint(
            m.green_share_min_years,
            rule=lambda m, y: MWH_PER_GWH * m.certificates[y] <= share * m.green_share_min[y] * facility_mwh(y),
            doc="1000 * gec[y] <= max_share * green_min_y * sum W_d * P_fac   [MWh]",
        )
    # Certificates count against a green requirement (and, with market-based carbon accounting,
    # against emissions); otherwise none are bought.
    for y in m.Y:
        if y not in certificate_years:
            m.certificates[y].fix(0)

    # Domestic compute share and EFLOPS target -----------------------------------------------
    limit_param("domestic_share_min", "least domestic share of installed PFLOPS [-]")
    domestic = [(a, c) for a, c in m.AC if acc[a].domestic]
    m.domestic_share = pyo.Constraint(
        m.domestic_share_min_years,
        rule=lambda m, y: (
            sum(acc[a].pflops_per_server * m.servers[s, a, c, y] for s in m.S for a, c in domestic)
            >= m.domestic_share_min[y] * m.installed_pflops[y]
        ),
        doc="sum_(s,a domestic,c) PFLOPS_a * N[s,a,c,y] >= dom_min_y * sum_(s,a,c) PFLOPS_a * N[s,a,c,y]   [PFLOPS]",
    )
    limit_param("eflops_min", "least installed compute [EFLOPS]")
    m.eflops_target = pyo.Constraint(
        m.eflops_min_years,
        rule=lambda m, y: m.installed_pflops[y] >= 1000 * m.eflops_min[y],
        doc="sum_(s,a,c) PFLOPS_a * N[s,a,c,y] >= 1000 * eflops_min_y   [PFLOPS]",
    )

    # Carbon cap ------------------------------------------------------------------------------
    limit_param("carbon_cap", f"cap on {s.policy.emissions_basis}-based emissions [tCO2/year]")
    m.carbon_cap_limit = pyo.Constraint(
        m.carbon_cap_years,
        rule=lambda m, y: m.emissions[y] <= m.carbon_cap[y],
        doc="emissions[y] (location- or market-based, as the scenario says) <= carbon_cap_y   [tCO2]",
    )
