"""Near-optimal alternatives (DESIGN.md §10): how much room there is within a few percent of the least cost.

``directions`` (what an alternative optimises), ``search`` (a direction pushed as least-cost plans
at its levels, with the limit it proves), ``solve`` (one alternative, the task a worker runs),
``run`` (the study: least cost, metric directions on the workers, random directions one after
another, parts saved and resumed like a sweep's, one combined Dataset).
"""

from planner.studies.alternatives.directions import LEAST_COST, Direction, decision_values, decisions
from planner.studies.alternatives.run import (
    DEFAULT_METRICS,
    DEFAULT_RESULTS_DIR,
    AlternativesError,
    run_alternatives,
    stack_alternatives,
)
from planner.studies.alternatives.solve import solve_alternative

__all__ = [
    "DEFAULT_METRICS",
    "DEFAULT_RESULTS_DIR",
    "LEAST_COST",
    "AlternativesError",
    "Direction",
    "decision_values",
    "decisions",
    "run_alternatives",
    "solve_alternative",
    "stack_alternatives",
]
