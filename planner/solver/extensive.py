"""The extensive form of a two-stage plan: every future's compiled model side by side, the first-stage
columns shared (DESIGN.md §9), solved as one MIP on the planner's HiGHS path.

**Construction** (:func:`extensive_form`). Each future is its own compiled model (same formulation,
its own numbers). Their rows are stacked block-diagonally; a first-stage column (a build or contract
decided now, :mod:`planner.model.stages`) is *merged*: one column of the extensive form stands for
the same decision in every future, matched by its name (``servers_new[h200,air,2026]``). Merging,
rather than tying copies with equality rows, keeps one column per decision for the rounding dive and
for HiGHS's presolve. Its bounds are the intersection of the futures' bounds; a decision that some
future does not have (a server type it cannot buy that year) is held at 0 in every future, since a
decision taken now cannot depend on which future comes. Recourse columns stay each future's own.

**Objective.** ``sum_f p_f NPV_f(x)`` [MCNY], where ``NPV_f(x) = c_f x_f + offset_f`` is future f's own
objective. With ``risk = (alpha, weight)``, plus ``weight * CVaR_alpha`` of the NPV, linearised after
Rockafellar and Uryasev (2000): ``eta + 1/(1-alpha) sum_f p_f s_f`` with ``s_f >= NPV_f - eta``,
``s_f >= 0`` and ``eta`` free (at the optimum ``eta`` is the alpha-quantile of the NPV, the value at
risk); one row and one column per future, and one column for ``eta``.

**Columns** are wrapped (:class:`BlockColumn`) so that the dive groups and rounds each future's own
builds per future: the wrapper's index leads with the future (``"shared"`` for a merged column) and
keeps the year last. Values go back into each future's own Pyomo model with
:func:`planner.solver.highs.load_values` on :meth:`ExtensiveForm.future_x`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from planner.solver.highs import INF, AddedRow, CompiledModel

__all__ = ["AddedColumn", "BlockColumn", "ExtensiveForm", "extensive_form", "with_fixed"]


@dataclass(frozen=True)
class BlockColumn:
    """A column of the extensive form: a future's variable (``block`` its position), or a merged
    first-stage decision (``block`` = ``"shared"``, ``var`` the first future's variable).
    """

    var: Any
    block: int | str

    def parent_component(self) -> Any:
        """The Pyomo component of the variable (the dive groups by it)."""
        return self.var.parent_component()

    def index(self) -> tuple[Any, ...]:
        """The future (or ``"shared"``), then the variable's own index (its year last)."""
        index = self.var.index()
        return (self.block, *(index if isinstance(index, tuple) else (index,)))

    def is_binary(self) -> bool:
        """As the variable."""
        return bool(self.var.is_binary())

    def is_integer(self) -> bool:
        """As the variable."""
        return bool(self.var.is_integer())

    @property
    def name(self) -> str:
        """``<variable>@<future>``."""
        return f"{self.var.name}@{self.block}"

    def set_value(self, value: float, skip_validation: bool = False) -> None:
        """Write the value into the variable (a shared column: into the first future's)."""
        self.var.set_value(value, skip_validation=skip_validation)


@dataclass(frozen=True)
class AddedColumn:
    """A column that is no variable of a Pyomo model (the CVaR's ``eta`` and ``s_f``)."""

    name: str

    @property
    def local_name(self) -> str:
        """Its name (as a Pyomo component's)."""
        return self.name

    def parent_component(self) -> AddedColumn:
        """Itself."""
        return self

    def index(self) -> tuple[Any, ...]:
        """No index."""
        return ()

    def is_binary(self) -> bool:
        """Continuous."""
        return False

    def is_integer(self) -> bool:
        """Continuous."""
        return False

    def set_value(self, value: float, skip_validation: bool = False) -> None:
        """Nothing to write into."""


@dataclass
class ExtensiveForm:
    """The extensive form's arrays and how each future's columns sit in it."""

    compiled: CompiledModel
    maps: list[np.ndarray]
    """Per future: its column j is column ``maps[f][j]`` of the extensive form."""
    blocks: list[CompiledModel]
    """Each future's own compiled model."""
    probabilities: np.ndarray
    shared: list[str]
    """Names of the merged first-stage decisions, in column order (columns ``0 .. len(shared)-1``)."""
    missing: dict[str, list[int]]
    """Merged decision -> the futures that do not have it (it is held at 0)."""
    eta: int | None = None
    """Column of the CVaR's ``eta`` (None without a risk term)."""

    def future_x(self, x: np.ndarray, f: int) -> np.ndarray:
        """Future f's own column values in a solution of the extensive form."""
        return np.asarray(x, dtype=float)[self.maps[f]]

    def future_npv(self, x: np.ndarray, f: int) -> float:
        """Future f's own objective at ``x`` [MCNY]."""
        block = self.blocks[f]
        return block.objective(self.future_x(x, f))

    def first_stage(self, x: np.ndarray) -> dict[str, float]:
        """The shared decisions' values: name -> value."""
        return {name: float(x[j]) for j, name in enumerate(self.shared)}


def extensive_form(
    blocks: Sequence[CompiledModel],
    probabilities: Sequence[float],
    first_stage: Sequence[np.ndarray],
    risk: tuple[float, float] | None = None,
) -> ExtensiveForm:
    """The extensive form of ``blocks`` (one compiled model per future) with ``first_stage[f]`` (a bool
    per column of future f) merged by name; ``risk`` = (alpha, weight) adds ``weight * CVaR_alpha``.
    """
    p = np.asarray(probabilities, dtype=float)
    if len(blocks) != len(p) or len(first_stage) != len(p):
        raise ValueError("one compiled model, probability and first-stage mask per future")
    shared: dict[str, int] = {}
    shared_var: list[Any] = []
    has: list[set[str]] = []
    for block, mask in zip(blocks, first_stage, strict=True):
        names = set()
        for j in np.flatnonzero(mask):
            name = block.columns[j].name
            names.add(name)
            if name not in shared:
                shared[name] = len(shared)
                shared_var.append(block.columns[j])
        has.append(names)
    n_shared = len(shared)
    maps: list[np.ndarray] = []
    columns: list[Any] = [BlockColumn(v, "shared") for v in shared_var]
    lower = np.full(n_shared, -INF)
    upper = np.full(n_shared, INF)
    integer = np.zeros(n_shared, dtype=bool)
    parts_lower, parts_upper, parts_integer = [lower], [upper], [integer]
    n = n_shared
    for f, (block, mask) in enumerate(zip(blocks, first_stage, strict=True)):
        own = np.flatnonzero(~mask)
        index = np.empty(block.shape[1], dtype=np.int64)
        index[own] = n + np.arange(len(own))
        first = np.flatnonzero(mask)
        index[first] = [shared[block.columns[j].name] for j in first]
        maps.append(index)
        lower[index[first]] = np.maximum(lower[index[first]], block.col_lower[first])
        upper[index[first]] = np.minimum(upper[index[first]], block.col_upper[first])
        integer[index[first]] |= block.integer[first]
        columns += [BlockColumn(block.columns[j], f) for j in own]
        parts_lower.append(block.col_lower[own])
        parts_upper.append(block.col_upper[own])
        parts_integer.append(block.integer[own])
        n += len(own)
    missing = {name: [f for f in range(len(blocks)) if name not in has[f]] for name in shared}
    missing = {name: fs for name, fs in missing.items() if fs}
    for name in missing:
        upper[shared[name]] = min(upper[shared[name]], 0.0)

    # rows: each future's block, its columns mapped
    rows_i, cols_j, vals = [], [], []
    row_lower, row_upper, rows = [], [], []
    offset_rows = 0
    cost = np.zeros(n)
    for f, block in enumerate(blocks):
        coo = sparse.coo_array(block.A)
        rows_i.append(coo.row + offset_rows)
        cols_j.append(maps[f][coo.col])
        vals.append(coo.data)
        row_lower.append(block.row_lower)
        row_upper.append(block.row_upper)
        rows += block.rows
        offset_rows += block.shape[0]
        np.add.at(cost, maps[f], p[f] * block.cost)
    offset = float(sum(p[f] * block.offset for f, block in enumerate(blocks)))
    col_lower = np.concatenate(parts_lower)
    col_upper = np.concatenate(parts_upper)
    col_integer = np.concatenate(parts_integer)

    eta = None
    if risk is not None and risk[1] > 0:
        alpha, weight = float(risk[0]), float(risk[1])
        eta = n
        s = n + 1 + np.arange(len(blocks))
        columns += [AddedColumn("cvar_eta"), *(AddedColumn(f"cvar_excess[{f}]") for f in range(len(blocks)))]
        col_lower = np.concatenate([col_lower, [-INF], np.zeros(len(blocks))])
        col_upper = np.concatenate([col_upper, [INF], np.full(len(blocks), INF)])
        col_integer = np.concatenate([col_integer, np.zeros(len(blocks) + 1, dtype=bool)])
        cost = np.concatenate([cost, [weight], weight / (1 - alpha) * p])
        for f, block in enumerate(blocks):
            # NPV_f - s_f - eta <= 0, i.e. c_f x_f - s_f - eta <= -offset_f
            nz = np.flatnonzero(block.cost)
            rows_i.append(np.full(len(nz) + 2, offset_rows))
            cols_j.append(np.concatenate([maps[f][nz], [s[f], eta]]))
            vals.append(np.concatenate([block.cost[nz], [-1.0, -1.0]]))
            row_lower.append(np.array([-INF]))
            row_upper.append(np.array([-block.offset]))
            rows.append((AddedRow(f"cvar_excess_def[{f}]"), 1))
            offset_rows += 1
        n = len(col_lower)
    A = sparse.csc_array(
        sparse.coo_array(
            (np.concatenate(vals), (np.concatenate(rows_i), np.concatenate(cols_j))), shape=(offset_rows, n)
        )
    )
    compiled = CompiledModel(
        model=blocks[0].model,
        columns=columns,
        rows=rows,
        A=A,
        cost=cost,
        offset=offset,
        col_lower=col_lower,
        col_upper=col_upper,
        row_lower=np.concatenate(row_lower),
        row_upper=np.concatenate(row_upper),
        integer=col_integer,
    )
    return ExtensiveForm(compiled, maps, list(blocks), p, list(shared), missing, eta)


def with_fixed(
    compiled: CompiledModel, values: Mapping[str, float], mask: np.ndarray
) -> tuple[CompiledModel, list[str]]:
    """The model with its first-stage columns (``mask``) fixed at ``values`` (by column name).

    A first-stage column that ``values`` does not name is fixed at 0 (the plan did not take that
    decision). Returns the new model (the arrays are copies) and, in words, each decision of the plan
    that this model cannot carry out: one it does not have (a server type it cannot buy that year)
    or a value outside its bounds (beyond a purchase cap). Such a plan is infeasible in this model.
    """
    lower, upper = compiled.col_lower.copy(), compiled.col_upper.copy()
    problems: list[str] = []
    names = {}
    tol = 1e-6
    for j in np.flatnonzero(mask):
        name = compiled.columns[j].name
        names[name] = j
        value = float(values.get(name, 0.0))
        if compiled.integer[j]:
            value = float(round(value))
        if value < lower[j] - tol * max(1.0, abs(lower[j])) or value > upper[j] + tol * max(1.0, abs(upper[j])):
            problems.append(f"{name} = {value:g} is outside what this future allows [{lower[j]:g}, {upper[j]:g}]")
        lower[j] = upper[j] = value
    problems += [
        f"{name} = {value:g}: this future cannot take that decision"
        for name, value in values.items()
        if name not in names and abs(value) > tol
    ]
    return dataclasses.replace(compiled, col_lower=lower, col_upper=upper), problems
