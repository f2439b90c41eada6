"""Recompile only what changed parameters touch: the matrices of a sweep case in milliseconds.

A sweep re-solves one built model with new prices, demand, caps or policy limits
(:func:`planner.model.update.update_model`). Compiling the whole model again
(:func:`planner.solver.highs.compile_model`, Pyomo's standard-form compiler) walks all of its ~50k
constraint expressions, about 0.8 s on the default, while a case changes a few rows (a PUE
cap: five), the objective, or the right-hand side of the hourly demand rows.

:class:`Recompiler` finds, once per built model, which constraints, objective terms and
column bounds each mutable parameter reaches. :meth:`Recompiler.refresh` then re-walks only
those, with the same Pyomo visitor the full compiler uses, and patches the matrices. A row
whose parameters sit only in its bounds (``served >= R_y * shape``) gets its right-hand side
re-evaluated without walking its body at all.

The result is equal to a full compile, entry for entry (``tests/test_recompile.py`` checks it
bit for bit). Where a change would alter the model's *shape* as the full compiler builds it —
a coefficient becoming zero so that a column or row disappears, an equality that turns into a
range, a variable the compiled model did not have — :meth:`refresh` says so by returning None
and the caller compiles in full.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.common.numeric_types import native_types
from pyomo.core.expr.numeric_expr import SumExpression
from pyomo.core.expr.visitor import identify_mutable_parameters, identify_variables
from pyomo.repn.linear import LinearRepnVisitor
from scipy import sparse

from planner.solver.highs import INF, CompiledModel, column_bounds

__all__ = ["LinearForms", "Recompiler", "constants_state", "held_constants"]


class _ShapeChanged(Exception):
    """The change needs a full compile (the full compiler would build a different shape)."""


def _parameters(expr: Any, named: dict[int, dict[int, Any]]) -> dict[int, Any]:
    """The mutable parameters in ``expr`` (id -> ParamData), as Pyomo's
    ``identify_mutable_parameters`` finds them, but each named expression is walked only once
    (``named`` keeps what each contained): the stocks recur in every hourly row of a year, and
    walking them again each time made the index three times slower.
    """
    found: dict[int, Any] = {}
    stack = [expr]
    while stack:
        node = stack.pop()
        if node.__class__ in native_types:
            continue
        if node.is_expression_type():
            if node.is_named_expression_type():
                inside = named.get(id(node))
                if inside is None:
                    inside = named[id(node)] = _parameters(node.expr, named)
                found.update(inside)
            else:
                stack.extend(node.args)
        elif not node.is_variable_type() and node.is_fixed() and not node.is_constant():
            found[id(node)] = node
    return found


def held_constants(*exprs: Any) -> list[Any]:
    """The mutable parameters and fixed variables in ``exprs``: what a linear form of them holds as constants.

    A linear form kept across cases (the results' values, the pricing stage's slopes) is taken again when
    :func:`constants_state` of these has changed.
    """
    held: list[Any] = []
    for expr in exprs:
        held += identify_mutable_parameters(expr)
        held += [v for v in identify_variables(expr, include_fixed=True) if v.fixed]
    return held


def constants_state(held: list[Any]) -> tuple[Any, ...]:
    """Values (and fixed flags) of :func:`held_constants`."""
    return tuple((getattr(c, "fixed", True), c.value) for c in held)


def _kept_aggregates(m: Any) -> list[int]:
    """The ids of the model's aggregates whose forms :class:`LinearForms` keeps (checked once per model: the
    recompiler, the results and the pricing stage each have their own visitor, ~37 ms a check on the default).
    """
    kept = getattr(m, "_planner_kept_aggregates", None)
    if kept is None:
        aggregates = [e for component in getattr(m, "aggregates", ()) for e in component.values()]
        named: dict[int, dict[int, Any]] = {}
        held = [e.name for e in aggregates if _parameters(e.expr, named)]
        if held:
            raise ValueError(f"an aggregate holds a parameter: {held[:3]}")
        kept = [id(e) for e in aggregates if not any(v.fixed for v in identify_variables(e.expr, include_fixed=True))]
        if m is not None:
            m._planner_kept_aggregates = kept
    return kept


class LinearForms:
    """Pyomo's ``LinearRepnVisitor`` (as the compiler reduces rows), keeping the forms of the model's aggregates.

    An aggregate (``m.aggregates``: a year's grid energy at a site, its facility and IT energy;
    :mod:`planner.model.power`, :mod:`planner.model.policy`) is a named expression of variables alone, so its
    linear form does not change with the parameters: it is taken on the first walk that meets it and kept,
    and a row or cost term that multiplies it by a price or a limit is re-read from it when that moves.
    Every other named expression's form is kept only until :meth:`clear` (one batch of walks at the same
    parameter values), as before. An aggregate holding a parameter is refused (a modelling error); one
    holding a fixed variable (a contract fixed to 0 at a site it cannot reach) is walked every time, as the
    value a fixed variable stands for may move.

    Parameters
    ----------
    m : ConcreteModel
        The model the walked expressions belong to.
    """

    def __init__(self, m: Any) -> None:
        self.visitor = LinearRepnVisitor({})
        self._ids = _kept_aggregates(m)
        self._kept: dict[int, Any] = {}

    @property
    def var_map(self) -> dict[int, Any]:
        """id -> variable of every variable met so far."""
        return self.visitor.var_map

    def walk(self, expr: Any) -> Any:
        """The linear form (``LinearRepn``) of ``expr`` at the parameters' present values."""
        return self.visitor.walk_expression(expr)

    def clear(self) -> None:
        """Forget the forms of named expressions, except the aggregates' (call after parameters moved)."""
        cache = self.visitor.subexpression_cache
        if len(self._kept) < len(self._ids):
            self._kept.update((i, cache[i]) for i in self._ids if i in cache and i not in self._kept)
        cache.clear()
        cache.update(self._kept)


def _number(bound: Any) -> Any:
    """A constraint bound as the full compiler evaluates it (None stays None)."""
    return bound if bound.__class__ in native_types else pyo.value(bound)


class Recompiler:
    """Patch a :class:`~planner.solver.highs.CompiledModel` after mutable parameters of its model changed.

    Parameters
    ----------
    compiled : CompiledModel
        A full compile of the model (:func:`planner.solver.highs.compile_model`), made with the
        parameters' values at that time.

    Notes
    -----
    Building the index of which parameter reaches which row walks every constraint once
    (0.3-0.5 s on the default): paid when the first re-solve of a model comes, not per case.
    """

    def __init__(self, compiled: CompiledModel) -> None:
        self.compiled = compiled
        m = compiled.model
        self._column = {id(v): j for j, v in enumerate(compiled.columns)}
        self._slots: dict[int, list[tuple[int, int]]] = {}  # id(constraint) -> [(row, sense)]
        for i, (con, sense) in enumerate(compiled.rows):
            self._slots.setdefault(id(con), []).append((i, sense))
        self._forms = LinearForms(m)
        self._csr = sparse.csr_array(compiled.A)
        self._csr.sort_indices()
        #: (the row-major index array they hold for, each entry's position in the column-major matrix)
        self._positions: tuple[np.ndarray, np.ndarray] | None = None

        # who each mutable parameter reaches: id(ParamData) -> constraints / objective terms / columns
        self._constraints: dict[int, list[Any]] = {}
        self._terms: dict[int, list[int]] = {}
        self._bounded: dict[int, list[int]] = {}
        self._body_offset: dict[int, float] = {}  # constraints whose parameters sit only in the bounds
        named: dict[int, dict[int, Any]] = {}
        for con in m.component_data_objects(pyo.Constraint, active=True):
            params = _parameters(con.expr, named)
            if not params:
                continue
            for p in params:
                self._constraints.setdefault(p, []).append(con)
            _, body, _ = con.to_bounded_expression()
            if not _parameters(body, named):
                repn = self._forms.walk(body)
                self._body_offset[id(con)] = repn.constant
        self._forms.clear()
        for j, v in enumerate(compiled.columns):
            for bound in (v.lower, v.upper):
                if bound is not None and bound.__class__ not in native_types:
                    for p in _parameters(bound, named):
                        self._bounded.setdefault(p, []).append(j)

        # the objective as its top-level terms (the NPV: one term per cost component and year)
        objectives = list(m.component_data_objects(pyo.Objective, active=True))
        self._objective = objectives[0] if len(objectives) == 1 else None
        self._term_forms: list[tuple[np.ndarray, np.ndarray, float]] = []
        self._terms_exact = False
        if self._objective is not None:
            expr = self._objective.expr
            self._term_exprs = list(expr.args) if isinstance(expr, SumExpression) else [expr]
            for k, term in enumerate(self._term_exprs):
                for p in _parameters(term, named):
                    self._terms.setdefault(p, []).append(k)
            try:
                self._term_forms = [self._linear_form(t) for t in self._term_exprs]
                cost, offset = self._sum_terms(self._term_forms)
                # the terms add up to the full compiler's objective exactly, or terms are not used
                self._terms_exact = np.array_equal(cost, compiled.cost) and offset == compiled.offset
            except _ShapeChanged:
                self._terms_exact = False
            self._forms.clear()

    # ------------------------------------------------------------------ helpers
    def _linear_form(self, expr: Any) -> tuple[np.ndarray, np.ndarray, float]:
        """(columns, coefficients, constant) of a linear expression at the parameters' values."""
        repn = self._forms.walk(expr)
        if repn.nonlinear is not None:
            raise _ShapeChanged
        try:
            cols = np.fromiter((self._column[vid] for vid in repn.linear), dtype=np.int64, count=len(repn.linear))
        except KeyError:  # a variable the compiled model does not have as a column
            raise _ShapeChanged from None
        coefs = np.fromiter(repn.linear.values(), dtype=float, count=len(repn.linear))
        return cols, coefs, repn.constant

    def _sum_terms(self, term_forms: list[tuple[np.ndarray, np.ndarray, float]]) -> tuple[np.ndarray, float]:
        """The objective's cost vector and constant, adding the terms in the full compiler's order."""
        cost = np.zeros(len(self.compiled.columns))
        offset = 0.0
        for cols, coefs, constant in term_forms:
            cost[cols] += coefs  # a term's columns are distinct
            offset += constant
        return cost, float(offset)

    # ------------------------------------------------------------------ the patch
    def _same_pattern(
        self, csr: sparse.csr_array, A: sparse.csc_array, rows: dict[int, tuple[np.ndarray, np.ndarray]]
    ) -> tuple[sparse.csr_array, sparse.csc_array] | None:
        """Both orders of the matrix with ``rows``' new coefficients, when each row keeps its columns (a
        limit that multiplies a year's energy: new values, same entries); else None.

        Setting the values in place of a copy skips re-assembling the column-major matrix (the general
        path, :func:`_replace_rows`); the positions of the entries in it are found once per pattern.
        """
        updates = []
        for r, (cols, vals) in rows.items():
            keep = vals != 0
            cols, vals = cols[keep], vals[keep]
            order = np.argsort(cols, kind="stable")
            lo, hi = csr.indptr[r], csr.indptr[r + 1]
            if hi - lo != len(cols) or not np.array_equal(csr.indices[lo:hi], cols[order]):
                return None
            updates.append((lo, hi, vals[order]))
        if self._positions is None or self._positions[0] is not csr.indices:
            self._positions = (csr.indices, _column_positions(csr))
        positions = self._positions[1]
        row_data, column_data = csr.data.copy(), A.data.copy()
        for lo, hi, vals in updates:
            row_data[lo:hi] = vals
            column_data[positions[lo:hi]] = vals
        return (
            sparse.csr_array((row_data, csr.indices, csr.indptr), shape=csr.shape),
            sparse.csc_array((column_data, A.indices, A.indptr), shape=A.shape),
        )

    def refresh(self, changed: Iterable[Any]) -> CompiledModel | None:
        """The compiled model after the parameters ``changed`` (ParamData) took new values.

        Returns None when only a full compile reproduces the model (see the module docstring).
        """
        constraints: dict[int, Any] = {}
        terms: set[int] = set()
        columns: set[int] = set()
        for p in changed:
            for con in self._constraints.get(id(p), ()):
                constraints[id(con)] = con
            terms.update(self._terms.get(id(p), ()))
            columns.update(self._bounded.get(id(p), ()))
        old = self.compiled
        if not (constraints or terms or columns):
            return old
        try:
            new, csr, term_forms = self._patch(old, constraints, terms, columns)
        except _ShapeChanged:
            return None
        finally:
            self._forms.clear()
        # the state moves on only with a patch that succeeded
        self.compiled, self._csr, self._term_forms = new, csr, term_forms
        return new

    def _patch(
        self, old: CompiledModel, constraints: dict[int, Any], terms: set[int], columns: set[int]
    ) -> tuple[CompiledModel, sparse.csr_array, list[tuple[np.ndarray, np.ndarray, float]]]:
        row_lower, row_upper = old.row_lower.copy(), old.row_upper.copy()
        new_rows: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for key, con in constraints.items():
            slots = self._slots.get(key)
            if not slots:  # the full compiler left it out (no bounds, or no variables)
                raise _ShapeChanged
            lb, body, ub = con.to_bounded_expression()
            lb, ub = _number(lb), _number(ub)
            if key in self._body_offset:
                form, offset = None, self._body_offset[key]
            else:
                form = self._linear_form(body)
                offset = form[2]
                if not len(form[0]):
                    raise _ShapeChanged
            senses = [0] if lb == ub else [s for s, b in ((1, ub), (-1, lb)) if b is not None]
            if senses != [s for _, s in slots]:
                raise _ShapeChanged
            for row, sense in slots:
                rhs = float((lb if sense == -1 else ub) - offset)
                row_lower[row] = -INF if sense == 1 else rhs
                row_upper[row] = INF if sense == -1 else rhs
                if form is not None:
                    new_rows[row] = (form[0], form[1])

        A, csr = old.A, self._csr
        if new_rows:
            same = self._same_pattern(csr, A, new_rows)
            if same is not None:  # new coefficients where the rows had entries: set them in both orders
                csr, A = same
            else:
                csr = _replace_rows(csr, new_rows)
                A = sparse.csc_array(csr.tocsc())
                A.sort_indices()

        cost, offset, term_forms = old.cost, old.offset, self._term_forms
        if terms:
            if not self._terms_exact or self._objective is None:
                raise _ShapeChanged
            term_forms = list(term_forms)
            for k in sorted(terms):
                term_forms[k] = self._linear_form(self._term_exprs[k])
            cost, offset = self._sum_terms(term_forms)

        col_lower, col_upper = old.col_lower, old.col_upper
        if columns:
            col_lower, col_upper = col_lower.copy(), col_upper.copy()
            for j in columns:
                col_lower[j], col_upper[j] = column_bounds(old.columns[j])

        if new_rows or terms:  # a column left with no entry at all would be dropped by the full compiler
            empty = (np.diff(A.indptr) == 0) & (cost == 0)
            if empty.any():
                raise _ShapeChanged
        new = dataclasses.replace(
            old,
            A=A,
            cost=cost,
            offset=offset,
            col_lower=col_lower,
            col_upper=col_upper,
            row_lower=row_lower,
            row_upper=row_upper,
        )
        return new, csr, term_forms


def _column_positions(csr: sparse.csr_array) -> np.ndarray:
    """For each entry of ``csr`` (row-major, sorted), its position in the column-major (sorted) matrix."""
    order = sparse.csr_array((np.arange(csr.nnz, dtype=np.int64), csr.indices, csr.indptr), shape=csr.shape).tocsc()
    order.sort_indices()
    positions = np.empty(csr.nnz, dtype=np.int64)
    positions[order.data] = np.arange(csr.nnz, dtype=np.int64)
    return positions


def _replace_rows(csr: sparse.csr_array, rows: dict[int, tuple[np.ndarray, np.ndarray]]) -> sparse.csr_array:
    """``csr`` with the given rows' entries replaced by (columns, values); zeros are dropped."""
    n_rows = csr.shape[0]
    lengths = np.diff(csr.indptr)
    replaced = np.zeros(n_rows, dtype=bool)
    order = sorted(rows)
    replaced[order] = True
    parts = []
    for r in order:
        cols, vals = rows[r]
        keep = vals != 0
        cols, vals = cols[keep], vals[keep]
        sort = np.argsort(cols, kind="stable")
        parts.append((cols[sort], vals[sort]))
    new_lengths = lengths.copy()
    new_lengths[order] = [len(c) for c, _ in parts]
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(new_lengths, out=indptr[1:])
    indices = np.empty(indptr[-1], dtype=csr.indices.dtype)
    data = np.empty(indptr[-1], dtype=float)
    # entries of rows kept: shift each by how far its row start moved
    row_of = np.repeat(np.arange(n_rows), lengths)
    kept = ~replaced[row_of]
    target = np.arange(len(csr.data))[kept] - csr.indptr[row_of[kept]] + indptr[row_of[kept]]
    indices[target] = csr.indices[kept]
    data[target] = csr.data[kept]
    for r, (cols, vals) in zip(order, parts, strict=True):
        indices[indptr[r] : indptr[r + 1]] = cols
        data[indptr[r] : indptr[r + 1]] = vals
    return sparse.csr_array((data, indices, indptr.astype(csr.indptr.dtype)), shape=csr.shape)
