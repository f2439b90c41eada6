"""docs/formulation.md is generated from the model, and every component documents itself."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pyomo.environ as pyo
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("formulation_doc", ROOT / "scripts" / "formulation_doc.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def small_model():
    from planner.model import build_model
    from planner.scenario import load_scenario

    s = load_scenario(ROOT / "inputs" / "2030.yaml", ["time.representative_days=2", "time.extreme_days={}"])
    return build_model(s)


def test_formulation_doc_is_current():
    text = _script().render()
    on_disk = (ROOT / "docs" / "formulation.md").read_text(encoding="utf-8")
    assert on_disk == text, "docs/formulation.md is out of date: run `python scripts/formulation_doc.py`"


def test_every_constraint_states_its_equation_and_units(small_model):
    for con in small_model.component_objects(pyo.Constraint, descend_into=False):
        doc = con.doc or ""
        assert re.search(r"(<=|>=|=)", doc), f"{con.name}: doc has no equation: {doc!r}"
        assert re.search(r"\[[^\]]+\]", doc), f"{con.name}: doc states no units: {doc!r}"


def test_every_variable_expression_and_param_is_documented(small_model):
    for kind in (pyo.Var, pyo.Expression, pyo.Param):
        for comp in small_model.component_objects(kind, descend_into=False):
            assert comp.doc, f"{comp.name} has no doc"


def test_every_cost_term_has_a_formula(small_model):
    for name, rule in small_model.cost_terms.items():
        assert rule.__doc__ and "MCNY/year" in rule.__doc__, f"cost term {name} has no formula with units"
