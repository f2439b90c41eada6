"""Re-use a built model for a scenario that differs only in numbers (sweeps).

Each subsystem module exposes ``parameters(data) -> {param name: {index: value}}`` for its
mutable Pyomo parameters (prices, demand levels, caps, policy limits). Two scenarios can share
a model when everything else is equal: :func:`structure_key` is the scenario with the values
those parameters come from blanked out, plus the index sets they live on (years with a
purchase cap or a policy limit, buildable years). :func:`update_model` pushes a new scenario's
values into the model; the caller then recompiles and re-solves.
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import json
from typing import Any

import pyomo.environ as pyo

from planner.model import compute, cooling, facility, network, policy, power
from planner.model.data import ModelData, allowed_pairs, buildable_years
from planner.scenario import Scenario

__all__ = ["MUTABLE_PATHS", "structure_key", "update_model"]

#: Scenario paths whose values only reach the model through mutable parameters.
MUTABLE_PATHS: tuple[str, ...] = (
    "name",
    "description",
    "sources.*",
    "solver.*",
    "accelerators.*.capex_cny",
    "accelerators.*.price_scale",
    "accelerators.*.max_new_per_year",
    "demand.inference.peak_tokens_per_s",
    "demand.inference.scale",
    "demand.training.flop",
    "demand.training.scale",
    "cooling.*.capex_cny_per_rack",
    "cooling.*.plant.capex_cny_per_unit",
    "facility.hall.capex_cny",
    "power.grid.capex_cny_per_block",
    "power.grid.tariff.flat_cny_per_kwh",
    "power.grid.tariff.scale",
    "sites.*.grid.tariff.flat_cny_per_kwh",
    "power.ppa.*.max_mw",
    "power.ppa.*.energy_cny_per_kwh",
    "power.pv.capex_cny_per_kw",
    "power.generators.capex_cny_per_unit",
    "power.green_certificates.price_cny_per_mwh",
    "policy.*",
    "network.hubs.*.lease.price_cny_per_pflops_hour",
    "network.hubs.*.lease.max_pflops",
    "network.hubs.*.sell.price_cny_per_pflops_hour",
    "network.hubs.*.sell.max_pflops",
)

_SUBSYSTEMS = (network, compute, facility, cooling, power, policy)


def _flatten(node: Any, path: str = "") -> dict[str, Any]:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            out.update(_flatten(value, f"{path}.{key}" if path else str(key)))
        return out if out or not path else {path: {}}
    return {path: node}


@functools.lru_cache(maxsize=8192)  # the same few hundred paths, scenario after scenario
def _is_mutable(path: str) -> bool:
    return any(
        fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path, pattern + ".*") for pattern in MUTABLE_PATHS
    )


def structure_key(scenario: Scenario) -> str:
    """A hash that is equal for two scenarios exactly when one built model serves both."""
    flat = _flatten(scenario.model_dump(mode="json"))
    fixed = {k: v for k, v in flat.items() if not _is_mutable(k)}
    shape = {
        "pairs": list(map(list, allowed_pairs(scenario))),
        "build": {a: list(buildable_years(scenario, a)) for a in scenario.accelerators},
        "capped": sorted(a for a, acc in scenario.accelerators.items() if acc.max_new_per_year is not None),
        "policy": {
            field: [
                y
                for y in scenario.years
                if (series := getattr(scenario.policy, field)) is not None and series.at(y) is not None
            ]
            for field in type(scenario.policy).model_fields
            if field not in ("carbon_price_cny_per_t", "emissions_basis")
        },
        # The basis decides the model's shape (a floored market-based variable, certificate years).
        "emissions_basis": scenario.policy.emissions_basis,
        "carbon_priced": scenario.policy.carbon_price_cny_per_t is not None,
    }
    text = json.dumps({"fixed": fixed, "shape": shape}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def update_model(m: pyo.ConcreteModel, scenario: Scenario, key: str | None = None) -> list[Any]:
    """Push ``scenario``'s numbers into a model built for a scenario of the same structure.

    ``key`` is ``structure_key(scenario)`` when the caller has it (a cache looked the model up by it);
    the model's own is kept on it from one update to the next (each takes ~1.3 ms on the default).

    Returns
    -------
    list of ParamData
        The parameter entries whose value changed (what :class:`planner.recompile.Recompiler`
        needs to patch the compiled model).

    Raises
    ------
    ValueError
        If the scenario needs a different model (its :func:`structure_key` differs).
    """
    old: ModelData = m.planner_data
    key = key or structure_key(scenario)
    if key != (getattr(m, "_planner_structure_key", None) or structure_key(old.scenario)):
        raise ValueError("the scenario differs from the built model in more than mutable parameters")
    data = ModelData(scenario, old.time)
    changed: list[Any] = []
    for module in _SUBSYSTEMS:
        for name, values in module.parameters(data).items():
            if not values:  # none in this structure (e.g. lease prices without hubs): no component either
                continue
            component = getattr(m, name)
            for index, value in values.items():
                if component.is_indexed() and index not in component:  # an entry no expression uses yet
                    component[index] = value
                    changed.append(component[index])
                    continue
                entry = component[index] if component.is_indexed() else component
                if entry.value != value:
                    entry.set_value(value)
                    changed.append(entry)
    m.planner_data = data
    m._planner_structure_key = key
    return changed
