"""The bound from another scenario's LP duals (planner/solver/bounds.py), on an LP worked by hand.

min x1 + c2 x2 + 5  s.t.  x1 + x2 >= 3,  x1 >= 0,  0 <= x2 <= 2.
With c2 = 2: x = (3, 0), cost 8, the row's dual 1. With c2 = 0.5: x = (1, 2), cost 7, dual 1 (x1 basic).
L(y) = 5 + 3 y + min_{x1 >= 0} (1 - y) x1 + min_{0 <= x2 <= 2} (c2 - y) x2.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

from planner.solver.bounds import DUAL_TOLERANCE, dual_bound
from planner.solver.highs import compile_model


def _lp(c2: float) -> object:
    m = pyo.ConcreteModel()
    m.x1 = pyo.Var(within=pyo.NonNegativeReals)
    m.x2 = pyo.Var(bounds=(0, 2))
    m.cover = pyo.Constraint(expr=m.x1 + m.x2 >= 3)
    m.cost = pyo.Objective(expr=m.x1 + c2 * m.x2 + 5)
    compiled = compile_model(m)
    assert compiled.row_lower.tolist() == [3.0] and compiled.row_upper.tolist() == [np.inf]
    return compiled


@pytest.mark.parametrize(
    ("c2", "y", "expected"),
    [
        (2.0, 1.0, 8.0),  # the LP's own dual: its optimum
        (2.0, 0.5, 6.5),  # another dual: below it (5 + 1.5, both reduced costs positive at x = 0)
        (0.5, 1.0, 7.0),  # x2's reduced cost -0.5 meets its finite upper bound: 5 + 3 - 1
        (2.0, 1.0 + DUAL_TOLERANCE / 10, 8.0),  # x1's reduced cost -1e-10 on an unbounded column: taken as 0
    ],
)
def test_the_bound_at_a_dual_is_the_lagrangian_worked_by_hand(c2: float, y: float, expected: float) -> None:
    assert dual_bound(_lp(c2), np.array([y])) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    "y",
    [
        [1.5],  # x1's reduced cost -0.5 on a column without an upper bound: the duals prove nothing
        [-1.0],  # a negative dual on a >= row prices its infinite upper side
        [1.0 + 10 * DUAL_TOLERANCE],  # beyond the tolerance
        [1.0, 0.0],  # not this model's rows
        [np.nan],
    ],
)
def test_duals_that_prove_nothing_give_minus_infinity(y: list[float]) -> None:
    assert dual_bound(_lp(2.0), np.array(y)) == -np.inf


def test_the_bound_never_exceeds_the_optimum_at_any_dual() -> None:
    # Weak duality, swept: L(y) <= 8 for every y, with equality at y = 1 only.
    compiled = _lp(2.0)
    values = [dual_bound(compiled, np.array([y])) for y in np.linspace(-0.5, 2.5, 31)]
    assert max(values) == pytest.approx(8.0, rel=1e-12)
    assert all(v <= 8.0 + 1e-12 for v in values)
    assert sum(v == pytest.approx(8.0) for v in values) == 1
