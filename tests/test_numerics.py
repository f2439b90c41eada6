"""Scaling of the default model: coefficient ranges HiGHS accepts without numerical warnings.

HiGHS warns of "excessively small costs" below 1e-4 and treats matrix entries spread over more
than ~1e9 as trouble. The model is built in scaled units (planner/model/data.py) to stay well inside.
"""

from __future__ import annotations

import numpy as np
from conftest import DEFAULT_YAML

from planner.model import build_model
from planner.scenario import load_scenario
from planner.solve import compile_model


def _range(values: np.ndarray) -> tuple[float, float]:
    v = np.abs(np.asarray(values, dtype=float))
    v = v[(v > 0) & np.isfinite(v)]
    return float(v.min()), float(v.max())


def test_default_coefficient_ranges() -> None:
    compiled = compile_model(build_model(load_scenario(DEFAULT_YAML)))
    matrix = _range(compiled.A.data)
    cost = _range(compiled.cost)
    assert 1e-4 <= matrix[0] and matrix[1] <= 1e5, matrix
    assert 1e-4 <= cost[0] and cost[1] <= 1e4, cost  # certificates in GWh: ~6e-3 MCNY per unit, not 6e-6
    assert matrix[1] / matrix[0] <= 1e9 and cost[1] / cost[0] <= 1e7
