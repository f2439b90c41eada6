"""``build_model(scenario) -> ConcreteModel``: the subsystems added in a fixed order."""

from __future__ import annotations

import pyomo.environ as pyo

from planner.model.compute import add_compute
from planner.model.cooling import add_cooling
from planner.model.data import ModelData
from planner.model.facility import add_facility
from planner.model.network import add_network
from planner.model.objective import add_objective
from planner.model.policy import add_policy
from planner.model.power import add_power
from planner.scenario import Scenario
from planner.time.prepare import TimeData

__all__ = ["build_model", "new_model"]

#: The order in which subsystems are added; each may use what the earlier ones defined. The network
#: (compute leased from and sold to other hubs) comes first: the compute and facility rows count it.
SUBSYSTEMS = (add_network, add_compute, add_facility, add_cooling, add_power, add_policy, add_objective)


def build_model(scenario: Scenario | ModelData, time: TimeData | None = None) -> pyo.ConcreteModel:
    """Build the planning MILP of a scenario.

    Parameters
    ----------
    scenario : Scenario or ModelData
        A validated scenario (its profiles are reduced here unless ``time`` is given), or
        already prepared model data.
    time : TimeData, optional
        Representative days to use instead of reducing the scenario's profiles.

    Returns
    -------
    pyomo.environ.ConcreteModel
        The model, in scaled units (``planner.model.data``); ``m.planner_data`` holds the
        :class:`ModelData` it was built from, ``m.cost_terms`` the rule of each annual cost
        term, ``m.capital_builds`` the units each capital cost term charges, ``m.capacity_builds`` the
        builds whose units only add capacity, ``m.tightenings`` the constraints that only tighten the LP
        relaxation, and ``m.contracts`` the contracts signed per year (with
        the builds: the decisions, :mod:`planner.model.stages`).
    """
    data = scenario if isinstance(scenario, ModelData) else ModelData.from_scenario(scenario, time)
    m = new_model(data)
    for add in SUBSYSTEMS:
        add(m, data)
    return m


def new_model(data: ModelData) -> pyo.ConcreteModel:
    """The model before its subsystems: its data, the registries they fill and the sets they index by
    (what :func:`build_model` adds to; ``scripts/formulation_doc.py`` adds the subsystems one by one).
    """
    m = pyo.ConcreteModel(name=data.scenario.name)
    m.planner_data = data
    m.cost_terms = {}
    m.capital_builds = {}  # capital cost term -> what it charges (planner.model.assets.Builds)
    m.capacity_builds = set()  # builds whose units only add capacity (assets.add_asset): rounded together
    m.tightenings = set()  # constraints valid for every plan that only tighten the LP relaxation (diagnose)
    m.aggregates = []  # indexed Expressions of variables alone (no parameter): their linear forms are kept
    m.contracts = {}  # signed per year (PPA MW, hub leases and sales): with the builds, the decisions (model.stages)
    m.Y = pyo.Set(initialize=data.years, ordered=True, doc="planning years")
    m.D = pyo.Set(initialize=data.days, ordered=True, doc="representative days")
    m.H = pyo.Set(initialize=data.hours, ordered=True, doc="hours of a day")
    m.A = pyo.Set(initialize=data.accelerators, ordered=True, doc="server types")
    m.C = pyo.Set(initialize=data.cooling, ordered=True, doc="cooling technologies")
    m.P = pyo.Set(initialize=data.ppas, ordered=True, doc="PPA contracts")
    m.S = pyo.Set(initialize=data.sites, ordered=True, doc="sites (start areas; one, `main`, without `sites`)")
    return m
