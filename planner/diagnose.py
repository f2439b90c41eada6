"""Why is there no plan? An irreducible infeasible subset (IIS) said in the planner's terms.

Shortfall slacks keep demand from ever making the model infeasible, so an infeasible plan
comes from hard limits: policy (PUE cap, green share, domestic share, EFLOPS target, carbon
cap), purchase caps, build limits, or an existing fleet that cannot meet a limit. HiGHS's
``getIis`` works on the LP relaxation; its rows and column bounds are translated into
sentences such as "the PUE cap of 1.10 in 2028".
"""

from __future__ import annotations

import re
from collections.abc import Callable

import highspy
import pyomo.environ as pyo

from planner.solve import CompiledModel, SolveOptions, _highs

__all__ = ["diagnose_infeasibility", "describe_row"]

_INDEX = re.compile(r"^(?P<name>[A-Za-z_]+)(?:\[(?P<index>.*)\])?$")


def _split(name: str) -> tuple[str, list[str]]:
    match = _INDEX.match(name.replace(" ", ""))
    if not match:
        return name, []
    index = match.group("index")
    return match.group("name"), [p.strip("'\"") for p in index.split(",")] if index else []


def _limit_value(m: pyo.ConcreteModel, param: str, year: str) -> float:
    return float(pyo.value(getattr(m, param)[int(year)]))


def _describers(m: pyo.ConcreteModel) -> dict[str, Callable[[list[str]], str]]:
    s = m.planner_data.scenario
    return {
        "pue_cap": lambda i: f"the PUE cap of {_limit_value(m, 'pue_max', i[0]):.3g} in {i[0]}",
        "green_share": lambda i: (
            f"the green-power share of at least {_limit_value(m, 'green_share_min', i[0]):.0%} in {i[0]}"
        ),
        "certificate_cap": lambda i: (
            f"the rule that certificates cover at most {s.power.green_certificates.max_share:.0%} "
            f"of the green requirement in {i[0]}"
        ),
        "domestic_share": lambda i: (
            f"the domestic compute share of at least {_limit_value(m, 'domestic_share_min', i[0]):.0%} in {i[0]}"
        ),
        "eflops_target": lambda i: (
            f"the installed-compute target of {_limit_value(m, 'eflops_min', i[0]):g} EFLOPS in {i[0]}"
        ),
        "carbon_cap_limit": lambda i: f"the carbon cap of {_limit_value(m, 'carbon_cap', i[0]):,.0f} tCO2 in {i[0]}",
        "purchase_cap": lambda i: (
            f"the purchase cap of {pyo.value(m.purchase_cap_servers[i[0], int(i[1])]):,.0f} "
            f"new '{i[0]}' servers in {i[1]}"
        ),
        "hall_limit": lambda i: f"the site limit of {s.facility.max_halls} halls ({i[0]})",
        "grid_block_limit": lambda i: f"the utility limit of {s.power.grid.max_blocks} grid blocks ({i[0]})",
        "generator_limit": lambda i: f"the limit of {s.power.generators.max_units} gensets ({i[0]})",
        "pv_limit": lambda i: f"the PV limit of {s.power.pv.max_mw:g} MWp ({i[0]})",
        "battery_limit_mwh": lambda i: f"the battery limit of {s.power.battery.max_mwh:g} MWh ({i[0]})",
        "battery_limit_mw": lambda i: f"the battery limit of {s.power.battery.max_mw:g} MW ({i[0]})",
        "ppa_contract_limit": lambda i: f"the most '{i[0]}' PPA capacity contractable in {i[1]}",
    }


_PHYSICS = {
    "activity": "servers can only work while installed and available",
    "it_power_def": "server power draw (idle plus load)",
    "facility_power_def": "facility power = IT + cooling + losses",
    "cooling_plant": "cooling plant N+k sizing",
    "cooling_use_link": "plant redundancy for each technology in use",
    "site_use_link": "grid and genset redundancy for a site in use",
    "supply_balance": "the hourly power balance",
    "grid_capacity": "grid capacity with N-1",
    "hall_power": "the power envelope of the halls",
    "hall_space": "floor space of the halls",
    "hall_nameplate": "nameplate power of the halls",
    "rack_power": "rack power limits",
    "rack_space": "rack space",
    "backup": "backup gensets N+k",
    "ppa_availability": "PPA availability by hour",
    "pv_output": "PV output by hour",
    "training_rate_def": "training work accounting",
}


def describe_row(m: pyo.ConcreteModel, name: str) -> tuple[str, bool]:
    """A sentence for one IIS row and whether it is a user-set limit (vs physics)."""
    component, index = _split(name)
    describers = _describers(m)
    if component in describers:
        try:
            return describers[component](index), True
        except (KeyError, ValueError, IndexError, AttributeError):
            return f"{component}[{', '.join(index)}]", True
    return _PHYSICS.get(component, component.replace("_", " ")), False


def _describe_column(m: pyo.ConcreteModel, name: str) -> str | None:
    component, index = _split(name)
    s = m.planner_data.scenario
    if component == "halls_new" and s.facility.max_new_halls_per_year is not None:
        return f"at most {s.facility.max_new_halls_per_year} new halls a year ({index[0] if index else ''})"
    if component == "certificates":
        return f"no certificates can count in {index[0]} (no green requirement that year)" if index else None
    return None


def diagnose_infeasibility(compiled: CompiledModel, options: SolveOptions) -> list[str]:
    """Sentences naming the limits that cannot hold together (the IIS of the LP relaxation).

    Returns a list whose first line is the headline; further lines name each limit, then the
    physical rules involved. If the LP relaxation is feasible (the conflict needs the
    integers), says so.
    """
    m = compiled.model
    h = _highs(SolveOptions(time_limit_s=min(120.0, options.time_limit_s), threads=options.threads))
    compiled.highs_arrays(relax=True).pass_to(h)  # the LP relaxation
    h.setOptionValue("iis_strategy", 2)  # from the LP relaxation's infeasibility, fast
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kInfeasible:
        return [
            "No plan meets every limit with whole numbers of servers, racks, halls and units, although a "
            "fractional plan would: a limit is just on the edge (e.g. a share or target met only by part of a server). "
            "Loosen the tightest policy limit slightly."
        ]
    status, iis = h.getIis()
    limits: list[str] = []
    physics: list[str] = []
    row_names = compiled.row_names()
    for r in list(iis.row_index_):
        text, is_limit = describe_row(m, row_names[r])
        (limits if is_limit else physics).append(text)
    col_names = compiled.column_names()
    for c in list(iis.col_index_):
        text = _describe_column(m, col_names[c])
        if text:
            limits.append(text)
        elif _split(col_names[c])[0].endswith("_new"):
            physics.append("what is installed stays until the end of its life")
    if m.planner_data.scenario.existing.servers and any("server power" in p for p in physics):
        physics.append("the existing fleet (existing.servers) draws idle power until it retires")
    limits = list(dict.fromkeys(limits))
    physics = list(dict.fromkeys(physics))
    if not limits:
        headline = "No feasible plan exists; the conflict involves only physical rules: " + "; ".join(physics)
        return [headline]
    lines = ["No plan can meet all limits: these cannot hold together:"]
    lines += [f"  - {text}" for text in limits]
    if physics:
        lines.append("given: " + "; ".join(physics))
    lines.append("Loosen one of the limits above (e.g. --set policy.<limit>=...) and solve again.")
    return lines
