"""A lower bound on a scenario's cost from another scenario's LP duals, without solving its relaxation.

Why: a sweep case moved from its anchor along one path (a tariff a step higher) usually keeps the
anchor's whole units, and one LP with them fixed gives its plan (:class:`planner.solver.dive.PlanStart`).
What proved that plan within the gap was the case's own LP relaxation, re-solved from the anchor's
basis: on the default 3.0-5.9 s, a third of such a case. The anchor's relaxation duals
give a bound on the case's relaxation for the price of one product with the constraint matrix.

For the LP ``min c'x + c0`` s.t. ``rl <= A x <= ru``, ``l <= x <= u``, and *any* row duals ``y``
(HiGHS's sign convention: positive on a row at its lower side), weak duality gives

    L(y) = c0 + sum_r min(y_r rl_r, y_r ru_r) + sum_j min(d_j l_j, d_j u_j),   d = c - A'y,

a lower bound on the LP's optimum, hence on every plan's cost. At the LP's own optimal duals it is the
LP's optimum; at a neighbour's it is smaller, by how far the neighbour's duals are from this LP's.
Where a case only raises costs (a tariff up: the same matrix and bounds, ``c >= c_anchor`` on every
column at its lower bound 0) ``L`` is exactly the anchor's relaxation bound; where a limit is tightened
in a row whose dual is not zero it can be more. Where the case opens room the anchor's duals did not
price (a PUE cap loosened: columns with no upper bound get a reduced cost of the wrong sign), the
bound is ``-inf`` and the case's own relaxation runs as before.

A reduced cost (or dual) smaller than :data:`DUAL_TOLERANCE` is taken as zero where the bound it meets
is infinite: the duals are only as exact as HiGHS's dual feasibility tolerance (1e-7 on the scaled
model, ``planner.solver.highs.OBJECTIVE_SCALE``): at the default's own relaxation optimum some 2,650
columns without an upper bound carry reduced costs of the wrong sign, together 1e-11 in HiGHS's scaled
units; counted as they are, the bound would be ``-inf``. The bound is then as exact as the LP objective
HiGHS reports, which the planner takes as the relaxation bound anyway.
"""

from __future__ import annotations

import numpy as np

from planner.solver.highs import CompiledModel

__all__ = ["DUAL_TOLERANCE", "dual_bound"]

#: Reduced costs and row duals smaller than this count as zero against an infinite bound [MCNY per unit].
DUAL_TOLERANCE = 1e-9


def dual_bound(compiled: CompiledModel, duals: np.ndarray, tolerance: float = DUAL_TOLERANCE) -> float:
    """The Lagrangian lower bound ``L(y)`` on ``compiled``'s LP relaxation at row duals ``duals`` [MCNY].

    Parameters
    ----------
    compiled : CompiledModel
        The model whose cost is bounded (its integers relaxed: a bound on the relaxation is one on
        every plan).
    duals : numpy.ndarray
        Row duals ``y`` [MCNY per unit of each row], e.g. another scenario's relaxation duals
        (:meth:`planner.solver.dive.Relaxation.row_duals`) of the same structure.
    tolerance : float
        Reduced costs and duals below this [MCNY per unit] are taken as zero where they meet an infinite
        bound.

    Returns
    -------
    float
        The bound [MCNY]; ``-inf`` where ``duals`` prove nothing (a wrong-signed reduced cost on an
        unbounded column, or a dual on a row's infinite side), or do not fit the model's rows.
    """
    y = np.asarray(duals, dtype=float)
    if y.shape != compiled.row_lower.shape or not np.all(np.isfinite(y)):
        return -np.inf
    rows = _side_terms(y, compiled.row_lower, compiled.row_upper, tolerance)
    if rows is None:
        return -np.inf
    reduced = compiled.cost - compiled.A.T @ y
    cols = _side_terms(reduced, compiled.col_lower, compiled.col_upper, tolerance)
    if cols is None:
        return -np.inf
    return float(compiled.offset + rows + cols)


def _side_terms(rate: np.ndarray, lower: np.ndarray, upper: np.ndarray, tolerance: float) -> float | None:
    """``sum min(rate * lower, rate * upper)``, or None when a rate beyond ``tolerance`` meets an infinite side.

    A positive rate takes the lower side, a negative one the upper side; a rate within ``tolerance`` of
    zero takes zero where its side is infinite, its product where it is finite (then exact).
    """
    side = np.where(rate > 0, lower, upper)
    infinite = ~np.isfinite(side)
    if np.any(infinite & (np.abs(rate) > tolerance)):
        return None
    return float(np.sum(np.where(infinite, 0.0, rate * np.where(infinite, 0.0, side))))
