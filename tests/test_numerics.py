"""Scaling of the default model: coefficient ranges HiGHS accepts without numerical warnings.

HiGHS warns of "excessively small costs" below 1e-4 and treats matrix entries spread over more
than ~1e9 as trouble. The model is built in scaled units (planner/model/data.py) and its
objective reaches HiGHS scaled by ``OBJECTIVE_SCALE`` (planner/solve.py) to stay well inside, also
at the extreme corners of the example sweeps (``benchmarks/numerics.py`` solves those and lists
HiGHS's warnings).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DEFAULT_YAML

from planner.model import build_model
from planner.scenario import load_scenario
from planner.solver.highs import OBJECTIVE_SCALE, compile_model

#: HiGHS's thresholds for "Problem has some excessively small costs" / "... large row bounds".
SMALL_COST = 1e-4
LARGE_BOUND = 1e6


def _range(values: np.ndarray) -> tuple[float, float]:
    v = np.abs(np.asarray(values, dtype=float))
    v = v[(v > 0) & np.isfinite(v)]
    return float(v.min()), float(v.max())


def test_default_coefficient_ranges() -> None:
    compiled = compile_model(build_model(load_scenario(DEFAULT_YAML)))
    matrix = _range(compiled.A.data)
    cost = _range(compiled.cost * OBJECTIVE_SCALE)  # what HiGHS sees
    assert 1e-4 <= matrix[0] and matrix[1] <= 1e5, matrix
    assert 1e-2 <= cost[0] and cost[1] <= 1e5, cost  # hourly energy ~2e-2, capex per unit up to ~2e4
    assert matrix[1] / matrix[0] <= 1e9 and cost[1] / cost[0] <= 1e7
    reported = compiled.coefficient_ranges()  # what the results record (attrs["coefficient_ranges"])
    assert reported["matrix"] == pytest.approx(matrix) and reported["cost"] == pytest.approx(cost)


#: The extreme corners of benchmarks/numerics.py, which HiGHS solves with no warning.
CORNERS = {
    "power_x0.2": ["power.grid.tariff.scale=0.2"],
    "power_x5": ["power.grid.tariff.scale=5"],
    "demand_x0.05": ["demand.inference.scale=0.05", "demand.training.scale=0.05"],
    "demand_x3": ["demand.inference.scale=3", "demand.training.scale=3"],
}


@pytest.mark.parametrize("corner", sorted(CORNERS))
def test_extreme_corners_stay_inside_highs_thresholds(corner: str) -> None:
    ranges = compile_model(build_model(load_scenario(DEFAULT_YAML, CORNERS[corner]))).coefficient_ranges()
    # unscaled (MCNY) the cheapest hour at a tariff of 0.2 was 9.7e-5: "excessively small costs"
    assert ranges["cost"][0] >= 10 * SMALL_COST, ranges["cost"]
    # in ZFLOP the training balance of 3x the demand was 1.5e6: "excessively large row bounds"
    assert ranges["rhs"][1] <= LARGE_BOUND / 10, ranges["rhs"]
    assert ranges["matrix"][1] / ranges["matrix"][0] <= 1e9, ranges["matrix"]
