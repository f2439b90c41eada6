"""The planning MILP: ``build_model(scenario) -> pyo.ConcreteModel`` (one module per subsystem)."""

from planner.model.build import SUBSYSTEMS, build_model
from planner.model.data import ModelData

__all__ = ["ModelData", "SUBSYSTEMS", "build_model"]
