"""The pricing stage's slope of a limit's row: the row's finite difference, kept per model and re-taken when due."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

from planner.solver import prices
from planner.solver.highs import compile_model


def _row_with_a_limit() -> pyo.ConcreteModel:
    """``q x + 2 z <= p (q x + w) + 4 p``, ``w`` fixed at 1: its slope in ``p`` at a plan is ``-(q x + w + 4)``."""
    m = pyo.ConcreteModel()
    m.x = pyo.Var(bounds=(0, 10))
    m.z = pyo.Var(within=pyo.Integers, bounds=(0, 5))
    m.p = pyo.Param(mutable=True, initialize=0.5)
    m.q = pyo.Param(mutable=True, initialize=3.0)
    m.w = pyo.Var(bounds=(0, 10))
    m.w.fix(1.0)  # a constant of the row, not a column
    m.e = pyo.Expression(expr=m.q * m.x)  # a named expression: its form moves with q
    m.row = pyo.Constraint(expr=m.e + 2 * m.z <= m.p * (m.e + m.w) + 4 * m.p)
    m.obj = pyo.Objective(expr=m.x + m.z)
    return m


def test_the_slope_is_worked_by_hand_and_follows_every_parameter_the_row_holds() -> None:
    m = _row_with_a_limit()
    compiled = compile_model(m)
    assert [v.name for v in compiled.columns] == ["x", "z"]
    sense = compiled.rows[0].bound_type
    slopes = prices._Index(compiled)
    plan = np.array([2.0, 1.0])
    assert slopes.derivative(m.row, m.p, sense, plan) == pytest.approx(-(3.0 * 2.0 + 1.0 + 4.0), rel=1e-8)
    # the limit itself moved (a sweep case): the row is affine in p, the slope stays
    m.p = 0.8
    assert slopes.derivative(m.row, m.p, sense, plan) == pytest.approx(-11.0, rel=1e-8)
    # another parameter of the row moved: a kept form would still say -11
    m.q = 5.0
    assert slopes.derivative(m.row, m.p, sense, plan) == pytest.approx(-(5.0 * 2.0 + 1.0 + 4.0), rel=1e-8)
    # so did the fixed variable's value
    m.w.fix(3.0)
    assert slopes.derivative(m.row, m.p, sense, plan) == pytest.approx(-(5.0 * 2.0 + 3.0 + 4.0), rel=1e-8)
    # the same as evaluating the row twice, the way it was priced before
    m.x.value, m.z.value = 2.0, 1.0
    assert slopes.derivative(m.row, m.p, sense, plan) == pytest.approx(
        prices._slack_derivative(m.row, m.p, sense), rel=1e-8
    )
    assert float(m.p.value) == 0.8  # the finite difference put the limit back


def test_the_slopes_are_kept_on_the_model_for_its_later_cases() -> None:
    m = _row_with_a_limit()
    compiled = compile_model(m)
    assert prices._index(compiled) is prices._index(compiled)
    recompiled = compile_model(m)  # new rows and columns: new forms
    assert prices._index(recompiled) is not prices._index(compiled)


def test_a_row_priced_by_evaluation_is_evaluated_at_the_plan_not_at_what_the_variables_hold() -> None:
    # A row holding a variable the compiled model has no column for (here ``w``, unfixed after
    # compiling) falls back to evaluating the row. A sweep case does not load its plan into the
    # variables, so the fallback writes it first: the slope is the plan's, not the stale values'.
    m = _row_with_a_limit()
    compiled = compile_model(m)
    m.w.unfix()
    slopes = prices._Index(compiled)
    m.x.value, m.z.value = 9.0, 4.0  # another case's plan
    plan = np.array([2.0, 1.0])
    sense = compiled.rows[0].bound_type
    assert slopes.derivative(m.row, m.p, sense, plan) == pytest.approx(-(3.0 * 2.0 + 1.0 + 4.0), rel=1e-8)
    assert (m.x.value, m.z.value) == (2.0, 1.0)
