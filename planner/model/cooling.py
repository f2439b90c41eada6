"""Cooling: temperature-dependent cooling power and the N+k heat-rejection plant.

``kappa[c,d,h]`` [kW electric per kW IT heat] is precomputed from ambient temperature in
:func:`planner.timeseries.cooling_coefficient` (free cooling below a threshold, partial
economiser, mechanical COP above). Plant units are linked to racks through a binary
"technology in use" so that a technology without racks needs no spare units.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyomo.environ as pyo

from planner.model.data import MCNY, ModelData
from planner.model.stocks import add_stock

__all__ = ["add_cooling", "effective_kappa", "parameters"]


def effective_kappa(scenario: Any, kappa: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Cooling power per unit of a technology's IT power, with its room-air residual [kW/kW].

    A liquid technology rejects ``liquid_capture`` of its racks' heat through its own loop
    (``kappa[c]``) and leaves the rest to room air, cooled by ``residual_heat_to`` (its own
    ``kappa``): ``kappa_eff[c] = capture_c * kappa[c] + (1 - capture_c) * kappa[residual_c]``.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario (its ``cooling`` entries).
    kappa : mapping of str to numpy.ndarray
        Each technology's own coefficient, (n_days, 24) [kW electric per kW heat].
    """
    out = {}
    for name, c in scenario.cooling.items():
        own = np.asarray(kappa[name], dtype=float)
        if c.liquid_capture < 1 and c.residual_heat_to is not None:
            out[name] = c.with_residual(own, np.asarray(kappa[c.residual_heat_to], dtype=float))
        else:
            out[name] = own
    return out


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
    s = data.scenario
    cool, hall, acc = s.cooling, s.facility.hall, s.accelerators
    first = data.years[0]

    blended = effective_kappa(s, data.time.kappa)
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

    # ---------------------------------------------------------------- plant units
    m.cooling_units_new = pyo.Var(m.C, m.Y, within=pyo.NonNegativeIntegers, doc="cu[c,y]: new plant units [units]")
    m.cooling_unit_capex = pyo.Param(
        m.C,
        m.Y,
        mutable=True,
        initialize=parameters(data)["cooling_unit_capex"],
        doc="price of one plant unit [MCNY/unit]",
    )

    def units(m: pyo.ConcreteModel, c: str, y: int) -> pyo.Expression:
        return data.in_service(
            m.cooling_units_new, cool[c].plant.lifetime_years, y, s.existing.cooling_units, key=(c,), cooling=c
        )

    add_stock(m, "cooling_units", (m.C, m.Y), units, "K[c,y]", "plant units in service", "units")
    m.cooling_in_use = pyo.Var(m.C, m.Y, within=pyo.Binary, doc="u[c,y]: technology c has racks in year y [-]")

    def rack_bound(c: str) -> float:
        """Most racks of technology c an optimal plan can hold (big-M of the in-use link) [racks].

        Racks only serve to hold servers (rack power and rack space are their only rows), so an
        optimal plan has no more than the existing racks or what the largest possible fleet in
        this technology needs: the site's nameplate power limit (oversubscription x hall MW x
        max halls) by rack power, or the same in servers' rack units by rack space. The
        tighter this bound, the stronger the LP relaxation of the link.
        """
        existing = sum(e.count for e in s.existing.racks if e.cooling == c)
        by_floor = math.floor(s.facility.max_halls * hall.rack_slots / cool[c].floor_slots_per_rack)
        nameplate_kw = s.facility.oversubscription * hall.it_mw * 1000 * s.facility.max_halls
        units_per_kw = max((acc[a].rack_units / acc[a].full_kw for a, cc in data.pairs if cc == c), default=0.0)
        by_power = math.ceil(nameplate_kw / cool[c].rack_kw_max) + 1
        by_space = math.ceil(nameplate_kw * units_per_kw / cool[c].rack_units) + 1
        return max(existing, min(by_floor, max(by_power, by_space)))

    # A technology with existing racks in service is in use: fix its binary (a valid tightening).
    for c in m.C:
        for y in m.Y:
            if data.existing_count(s.existing.racks, y, cool[c].lifetime_years, cooling=c) > 0:
                m.cooling_in_use[c, y].fix(1)

    m.cooling_use_link = pyo.Constraint(
        m.C,
        m.Y,
        rule=lambda m, c, y: m.racks[c, y] <= rack_bound(c) * m.cooling_in_use[c, y],
        doc="R[c,y] <= Rmax_c * u[c,y]   [racks]",
    )

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

    # ---------------------------------------------------------------- costs [MCNY/year]
    def plant_capital(m: pyo.ConcreteModel, y: int) -> pyo.Expression:
        """sum_c sum_(v alive in y) (CRF + fom) * unit_capex[c,v] * cu[c,v]   [MCNY/year]"""
        return sum(
            data.annual_capital_charge(
                m.cooling_unit_capex[c, v], cool[c].plant.lifetime_years, cool[c].plant.fixed_om_fraction
            )
            * m.cooling_units_new[c, v]
            for c in m.C
            for v in data.vintages(data.years, cool[c].plant.lifetime_years, y)
        )

    def existing_om(m: pyo.ConcreteModel, y: int) -> float:
        """fixed O&M of existing plant units at first-year capex   [MCNY/year]"""
        return (
            sum(
                data.existing_count(s.existing.cooling_units, y, cool[c].plant.lifetime_years, cooling=c)
                * cool[c].plant.fixed_om_fraction
                * cool[c].plant.capex_cny_per_unit.at(first)
                for c in m.C
            )
            / MCNY
        )

    m.cost_terms["cooling_plant_capital"] = plant_capital
    m.cost_terms["fixed_om_existing_cooling"] = existing_om
