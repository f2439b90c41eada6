"""Patching the compiled matrices after a parameter change gives exactly what a full compile gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyomo.environ as pyo
import pytest
from pyomo.repn.linear import LinearRepnVisitor

from planner.model import ModelData, build_model
from planner.model.update import structure_key, update_model
from planner.pipeline import ModelCache
from planner.scenario import load_scenario
from planner.solver.highs import CompiledModel, compile_model
from planner.solver.recompile import LinearForms, Recompiler
from planner.time.prepare import prepare_time

DEFAULT = Path(__file__).resolve().parents[1] / "inputs" / "2030.yaml"
SMALL = ["time.representative_days=3"]

#: One override per kind of mutable parameter, as sweeps set them: each reaches other rows,
#: objective terms or coefficients (the PUE, green and domestic floors sit in the matrix).
CHANGES = [
    ["power.grid.tariff.scale=1.4"],
    ["demand.inference.scale=1.3"],
    ["demand.training.scale=0.6"],
    ["policy.pue_max.2030=1.12"],
    ["policy.domestic_compute_share_min.2030=0.9"],
    ["accelerators.ascend_950.price_scale=0.8", "cooling.dlc.capex_cny_per_rack=300000"],
    ["accelerators.h20.price_scale=1.3"],  # existing H20: their fixed O&M (an objective constant) moves too
    ["power.ppa.hydro.energy_cny_per_kwh=0.45 CNY/kWh", "policy.green_share_min.2030=0.8"],
    ["accelerators.h200.max_new_per_year.2027=100"],
]


def assert_same(a: CompiledModel, b: CompiledModel, what: object) -> None:
    """Equal entry for entry, bit for bit (the same floating-point operations)."""
    assert a.shape == b.shape, what
    assert [v is w for v, w in zip(a.columns, b.columns, strict=True)] == [True] * a.shape[1], what
    assert [(r[0] is s[0], r[1] == s[1]) for r, s in zip(a.rows, b.rows, strict=True)] == [(True, True)] * a.shape[0]
    for part in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(a.A, part), getattr(b.A, part), err_msg=f"{what}: A.{part}")
    for part in ("cost", "col_lower", "col_upper", "row_lower", "row_upper", "integer"):
        np.testing.assert_array_equal(getattr(a, part), getattr(b, part), err_msg=f"{what}: {part}")
    assert a.offset == b.offset, what


@pytest.fixture(scope="module")
def default_small():
    scenario = load_scenario(DEFAULT, SMALL)
    model = build_model(ModelData(scenario, prepare_time(scenario)))
    return model, compile_model(model)


def test_patched_matrices_equal_a_full_compile_on_the_default(default_small):
    model, compiled = default_small
    recompiler = Recompiler(compiled)
    base_key = structure_key(model.planner_data.scenario)
    for overrides in [*CHANGES, []]:  # the last one goes back to the default's numbers
        scenario = load_scenario(DEFAULT, SMALL + overrides)
        assert structure_key(scenario) == base_key, overrides
        changed = update_model(model, scenario)
        assert changed or not overrides, overrides
        patched = recompiler.refresh(changed)
        assert patched is not None, overrides
        assert_same(patched, compile_model(model), overrides)
    # back at the start: the same matrices as the first compile
    assert_same(patched, compiled, "round trip")


def test_parameters_only_in_bounds_leave_the_matrix_alone(default_small):
    """Demand sits in the right-hand sides: the matrix object is not even rebuilt."""
    model, compiled = default_small
    update_model(model, load_scenario(DEFAULT, SMALL))
    recompiler = Recompiler(compile_model(model))
    before = recompiler.compiled
    patched = recompiler.refresh(update_model(model, load_scenario(DEFAULT, [*SMALL, "demand.inference.scale=1.2"])))
    assert patched.A is before.A
    assert (patched.row_lower != before.row_lower).sum() > 0
    assert patched.cost is before.cost


def test_a_change_that_empties_a_column_asks_for_a_full_compile():
    """x + p y >= q, minimise x: with p = 0 the full compiler drops y; the patch must not keep it."""
    m = pyo.ConcreteModel()
    m.p = pyo.Param(mutable=True, initialize=2.0)
    m.q = pyo.Param(mutable=True, initialize=4.0)
    m.x = pyo.Var(bounds=(0, 10))
    m.y = pyo.Var(bounds=(0, 1))
    m.c = pyo.Constraint(expr=m.x + m.p * m.y >= m.q)
    m.obj = pyo.Objective(expr=m.x)
    recompiler = Recompiler(compile_model(m))
    m.q.set_value(5.0)
    patched = recompiler.refresh([m.q])
    assert_same(patched, compile_model(m), "q")
    assert patched.row_lower.tolist() == [5.0]
    m.p.set_value(3.0)
    patched = recompiler.refresh([m.p])
    assert_same(patched, compile_model(m), "p")
    assert patched.A.toarray().tolist() == [[1.0, 3.0]]
    m.p.set_value(0.0)
    assert recompiler.refresh([m.p]) is None
    assert compile_model(m).shape == (1, 1)
    # a refused patch leaves the recompiler as it was: the next change patches correctly again
    m.p.set_value(5.0)
    assert_same(recompiler.refresh([m.p]), compile_model(m), "p after a refusal")


def test_model_cache_patches_without_compiling_again(monkeypatch):
    """Re-used for new numbers, the cache patches the matrices; it never compiles in full again."""
    import planner.pipeline as pipeline

    scenario = load_scenario(DEFAULT, SMALL)
    cache = ModelCache()
    model = build_model(ModelData(scenario, prepare_time(scenario)))
    cache.store(model, compile_model(model))
    monkeypatch.setattr(pipeline, "compile_model", lambda m: pytest.fail("compiled in full"))
    for overrides in CHANGES[:4]:
        reused, patched = cache.reuse(load_scenario(DEFAULT, SMALL + overrides))
        assert_same(patched, compile_model(model), overrides)


def test_model_cache_falls_back_to_a_full_compile(monkeypatch, default_small):
    """When the patch cannot reproduce the shape, the cache compiles in full and indexes afresh."""
    scenario = load_scenario(DEFAULT, SMALL)
    cache = ModelCache()
    model = build_model(ModelData(scenario, prepare_time(scenario)))
    cache.store(model, compile_model(model))
    _, first = cache.reuse(load_scenario(DEFAULT, [*SMALL, "power.grid.tariff.scale=1.1"]))
    monkeypatch.setattr(Recompiler, "refresh", lambda self, changed: None)
    later = load_scenario(DEFAULT, [*SMALL, "power.grid.tariff.scale=1.3"])
    reused, second = cache.reuse(later)
    assert reused is model and second is not first
    assert_same(second, compile_model(model), "fallback")


def test_a_parameter_in_a_variable_bound_is_patched():
    m = pyo.ConcreteModel()
    m.u = pyo.Param(mutable=True, initialize=3.0)
    m.x = pyo.Var(bounds=(0, m.u))
    m.y = pyo.Var(within=pyo.NonNegativeIntegers, bounds=(m.u, 10))
    m.c = pyo.Constraint(expr=m.x + m.y >= 1)
    m.obj = pyo.Objective(expr=m.x + 2 * m.y)
    recompiler = Recompiler(compile_model(m))
    m.u.set_value(7.0)
    patched = recompiler.refresh([m.u])
    assert_same(patched, compile_model(m), "u")
    assert patched.col_upper.tolist() == [7.0, 10.0] and patched.col_lower.tolist() == [0.0, 7.0]


def _aggregate_model() -> pyo.ConcreteModel:
    """cost = p * E + q * x with the aggregate E = 2 g1 + 3 g2 (m.aggregates), and a row holding E."""
    m = pyo.ConcreteModel()
    m.p = pyo.Param(mutable=True, initialize=5.0)
    m.q = pyo.Param(mutable=True, initialize=1.0)
    m.g = pyo.Var([1, 2], bounds=(0, 4))
    m.x = pyo.Var(bounds=(0, 9))
    m.E = pyo.Expression(expr=2 * m.g[1] + 3 * m.g[2])
    m.aggregates = [m.E]
    m.row = pyo.Constraint(expr=m.E + m.x >= m.q * 6)
    m.obj = pyo.Objective(expr=m.p * m.E + m.q * m.x)
    return m


def test_linear_forms_keep_an_aggregate_and_nothing_else():
    """An aggregate's form survives ``clear`` (a moved price re-prices it, not re-walks it); another
    named expression's does not (its parameters may have moved); the forms equal a fresh walk's."""
    m = _aggregate_model()
    m.F = pyo.Expression(expr=m.q * m.g[1])  # a named expression with a parameter
    forms = LinearForms(m)
    repn = forms.walk(m.p * m.E + m.F)
    assert id(m.E) in forms.visitor.subexpression_cache and id(m.F) in forms.visitor.subexpression_cache
    forms.clear()
    assert list(forms.visitor.subexpression_cache) == [id(m.E)]
    m.p.set_value(7.0)
    m.q.set_value(2.0)
    repn = forms.walk(m.p * m.E + m.F)
    forms.clear()
    fresh = LinearRepnVisitor({}).walk_expression(m.p * m.E + m.F)
    by_name = {forms.var_map[i].name: c for i, c in repn.linear.items()}
    assert by_name == {"g[1]": 7.0 * 2 + 2.0, "g[2]": 21.0}
    assert by_name == {v.name: c for v, c in zip((m.g[1], m.g[2]), fresh.linear.values(), strict=True)}


def test_linear_forms_refuse_an_aggregate_with_a_parameter():
    m = _aggregate_model()
    m.E2 = pyo.Expression(expr=m.p * m.g[1])
    m.aggregates.append(m.E2)
    with pytest.raises(ValueError, match="E2"):
        LinearForms(m)


def test_a_moved_price_of_an_aggregate_patches_the_objective():
    m = _aggregate_model()
    recompiler = Recompiler(compile_model(m))
    for p, q in ((6.0, 1.0), (2.5, 3.0)):
        m.p.set_value(p)
        m.q.set_value(q)
        patched = recompiler.refresh([m.p, m.q])
        assert_same(patched, compile_model(m), (p, q))
        assert patched.cost.tolist() == [2 * p, 3 * p, q]


def test_an_aggregate_with_a_fixed_variable_is_walked_again():
    """A fixed variable is a constant of the form, and its value may move: such an aggregate is not kept."""
    m = _aggregate_model()
    m.g[2].fix(1.0)
    forms = LinearForms(m)
    assert forms.walk(m.p * m.E).constant == 15.0
    forms.clear()
    assert id(m.E) not in forms.visitor.subexpression_cache
    m.g[2].fix(2.0)
    assert forms.walk(m.p * m.E).constant == 30.0


def test_a_limit_on_a_years_energy_keeps_the_pattern_and_sets_values_in_place(monkeypatch, default_small):
    """A PUE cap multiplies a year's IT energy: its rows keep their entries, so the patch sets the new
    coefficients in both orders of the matrix without re-assembling it, and still equals a full compile."""
    import planner.solver.recompile as recompile

    model, _ = default_small
    update_model(model, load_scenario(DEFAULT, SMALL))
    recompiler = Recompiler(compile_model(model))
    monkeypatch.setattr(recompile, "_replace_rows", lambda *a: pytest.fail("re-assembled the matrix"))
    for cap in ("1.12", "1.18"):
        scenario = load_scenario(DEFAULT, [*SMALL, f"policy.pue_max.2030={cap}"])
        patched = recompiler.refresh(update_model(model, scenario))
        assert_same(patched, compile_model(model), cap)
    monkeypatch.undo()
    update_model(model, load_scenario(DEFAULT, SMALL))
