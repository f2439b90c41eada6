"""HiGHS as the planner sees it: options, the model compiled to arrays, and a typed outcome.

Path to the solver: Pyomo's linear standard-form compiler turns the model into sparse
matrices, which go straight into ``highspy`` (``passModel``). On this model that is several
times faster than Pyomo's persistent HiGHS interface or an LP/MPS file round trip (figures in
the README's Performance section), and it keeps the matrices at hand for exporting the exact
model (``--export-model``), for duals with the integers fixed and for the IIS.

Every solver module builds its HiGHS instances here (:func:`new_highs`) and reports one of the
:class:`Status` values; a non-optimal result is never silent.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler
from scipy import sparse

from planner.solver.status import Status

__all__ = [
    "INF",
    "AddedRow",
    "NPV_BUDGET",
    "OBJECTIVE_SCALE",
    "CompiledModel",
    "HighsArrays",
    "SolveOptions",
    "SolveOutcome",
    "Status",
    "column_bounds",
    "compile_model",
    "interior_point",
    "load_values",
    "new_highs",
    "status_of",
    "write_mps",
    "write_values",
]

INF = highspy.kHighsInf

#: HiGHS sees the objective multiplied by this, i.e. in units of 10 kCNY instead of the model's
#: MCNY. The cheapest costs of the model are hourly energy (weight x discount x price: about 2e-4
#: MCNY per MWh in an off-peak hour of the default) and fall below HiGHS's "excessively small
#: costs" threshold of 1e-4 when power is cheap (a tariff scale of 0.2); with absolute dual
#: tolerances of 1e-7 such costs also lose precision. Scaled, the costs span about 1e-2 to 2e4.
#: Everything read back from HiGHS (objective, bound, duals) is divided by it again.
OBJECTIVE_SCALE = 100.0


@dataclass(frozen=True)
class SolveOptions:
    """HiGHS options of one solve."""

    time_limit_s: float = 900.0  #: wall-clock limit of the MIP [s]
    mip_gap: float = 0.005  #: relative MIP gap to stop at [-]
    threads: int = 1  #: solver threads [-]
    random_seed: int = 0  #: HiGHS random seed [-]
    log: bool = False  #: print HiGHS's log
    dive: bool = True  #: solve the LP relaxation and a rounding dive first (``planner.solver.dive``)
    concurrent_dive: bool = True
    """Run the dive on a second thread beside HiGHS's root LP (a solve using two cores). False:
    dive first on the same core, and skip the MIP when the dive's plan is already within
    ``mip_gap`` of the relaxation (sweeps, one core per case). Models whose relaxation starts
    cold by interior point (full resolution) always dive first."""
    extra: tuple[tuple[str, Any], ...] = ()  #: further HiGHS options as (name, value) pairs

    def __post_init__(self) -> None:
        # A time limit always applies: NaN or inf would let HiGHS run for ever.
        if not (math.isfinite(self.time_limit_s) and self.time_limit_s > 0):
            raise ValueError(f"time_limit_s must be a finite number of seconds > 0, not {self.time_limit_s!r}")
        if not (math.isfinite(self.mip_gap) and 0 <= self.mip_gap <= 1):
            raise ValueError(f"mip_gap must be within [0, 1], not {self.mip_gap!r}")

    @classmethod
    def from_scenario(cls, scenario: Any, **overrides: Any) -> SolveOptions:
        """Options from a scenario's ``solver`` block, with CLI overrides (None = keep)."""
        sv = scenario.solver
        base = {
            "time_limit_s": sv.time_limit_s,
            "mip_gap": sv.mip_gap,
            "threads": sv.threads,
            "random_seed": sv.random_seed,
        }
        base.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**base)


NPV_BUDGET = "npv_budget"
"""Name of the row :meth:`CompiledModel.with_objective` adds: the NPV at most a budget."""


@dataclass
class CompiledModel:
    """The model as matrices: ``row_lower <= A x <= row_upper``, ``col_lower <= x <= col_upper``."""

    model: pyo.ConcreteModel
    columns: list[Any]  #: Pyomo VarData of each column
    rows: list[tuple[Any, int]]  #: (ConstraintData, sense) of each row: 0 ==, 1 <=, -1 >=
    A: sparse.csc_array
    cost: np.ndarray
    offset: float
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    integer: np.ndarray  #: bool per column

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return (len(self.rows), len(self.columns))

    def highs_arrays(
        self, rows: np.ndarray | None = None, cols: np.ndarray | None = None, relax: bool = False
    ) -> HighsArrays:
        """The model as HiGHS gets it (objective scaled by :data:`OBJECTIVE_SCALE`).

        ``rows``/``cols`` select a sub-model (the rows and columns at those positions); ``relax``
        makes every column continuous (the LP relaxation).
        """
        A, cost, col_lower, col_upper = self.A, self.cost, self.col_lower, self.col_upper
        row_lower, row_upper, integer = self.row_lower, self.row_upper, self.integer
        if rows is not None:
            A, row_lower, row_upper = A[rows, :], row_lower[rows], row_upper[rows]
        if cols is not None:
            A, cost, col_lower, col_upper, integer = (
                A[:, cols],
                cost[cols],
                col_lower[cols],
                col_upper[cols],
                integer[cols],
            )
        A = sparse.csc_array(A)
        return HighsArrays(
            cost=cost * OBJECTIVE_SCALE,
            offset=self.offset * OBJECTIVE_SCALE,
            col_lower=np.asarray(col_lower, dtype=float),
            col_upper=np.asarray(col_upper, dtype=float),
            row_lower=np.asarray(row_lower, dtype=float),
            row_upper=np.asarray(row_upper, dtype=float),
            start=A.indptr.astype(np.int32),
            index=A.indices.astype(np.int32),
            value=A.data.astype(float),
            integrality=np.zeros(len(cost), dtype=np.int32) if relax else integer.astype(np.int32),
        )

    def coefficient_ranges(self) -> dict[str, tuple[float, float]]:
        """Smallest and largest nonzero finite magnitude of the matrix, costs, column bounds and
        row bounds as HiGHS sees them (its own "Coefficient ranges"; costs scaled by
        :data:`OBJECTIVE_SCALE`); an empty part gives (0, 0).

        What to look for: HiGHS warns of costs below 1e-4 and of matrix spreads beyond ~1e9, and
        simplex tolerances are 1e-7 absolute, so values well inside 1e-4 .. 1e6 are comfortable.
        """

        def span(values: np.ndarray) -> tuple[float, float]:
            v = np.abs(np.asarray(values, dtype=float))
            v = v[(v > 0) & (v < INF)]
            return (float(v.min()), float(v.max())) if v.size else (0.0, 0.0)

        return {
            "matrix": span(self.A.data),
            "cost": span(self.cost * OBJECTIVE_SCALE),
            "bound": span(np.concatenate([self.col_lower, self.col_upper])),
            "rhs": span(np.concatenate([self.row_lower, self.row_upper])),
        }

    def objective(self, x: np.ndarray) -> float:
        """The model's objective ``cost @ x + offset`` at column values ``x`` [MCNY]."""
        return float(self.cost @ np.asarray(x, dtype=float) + self.offset)

    def with_objective(self, cost: np.ndarray, offset: float, budget: float | None = None) -> CompiledModel:
        """The same model minimising ``cost @ x + offset`` instead; with ``budget``, plus one row:
        its own objective (the NPV) at most ``budget`` [MCNY] (near-optimal alternatives).

        The arrays are new; this model's are left as they are (a cached model serves its next case).
        """
        A, rows, row_lower, row_upper = self.A, self.rows, self.row_lower, self.row_upper
        if budget is not None:
            A = sparse.csc_array(sparse.vstack([self.A, sparse.csr_array(self.cost.reshape(1, -1))], format="csc"))
            rows = [*self.rows, (AddedRow(NPV_BUDGET), 1)]
            row_lower = np.append(self.row_lower, -INF)
            row_upper = np.append(self.row_upper, budget - self.offset)
        return CompiledModel(
            model=self.model,
            columns=self.columns,
            rows=rows,
            A=A,
            cost=np.asarray(cost, dtype=float),
            offset=float(offset),
            col_lower=self.col_lower,
            col_upper=self.col_upper,
            row_lower=row_lower,
            row_upper=row_upper,
            integer=self.integer,
        )

    def with_row(self, name: str, coefficients: np.ndarray, upper: float) -> CompiledModel:
        """The same model (same objective) plus one row ``coefficients @ x <= upper``, named ``name``
        (the level of a near-optimal alternative's direction, :mod:`planner.studies.alternatives.search`).

        The arrays are new; this model's are left as they are.
        """
        row = sparse.csr_array(np.asarray(coefficients, dtype=float).reshape(1, -1))
        return replace(
            self,
            rows=[*self.rows, (AddedRow(name), 1)],
            A=sparse.csc_array(sparse.vstack([self.A, row], format="csc")),
            row_lower=np.append(self.row_lower, -INF),
            row_upper=np.append(self.row_upper, float(upper)),
        )

    @property
    def budget_row(self) -> int | None:
        """Position of the NPV budget row (:meth:`with_objective`), None when there is none."""
        if self.rows and isinstance(self.rows[-1][0], AddedRow) and self.rows[-1][0].name == NPV_BUDGET:
            return len(self.rows) - 1
        return None

    def row_names(self) -> list[str]:
        """Readable, unique row names (``component[index]``, suffixed for two-sided rows)."""
        names = []
        for con, sense in self.rows:
            name = con.name.replace(" ", "")
            names.append(name + ("_lo" if sense == -1 and con.has_ub() else ""))
        return names

    def column_names(self) -> list[str]:
        """Readable column names (``component[index]``)."""
        return [v.name.replace(" ", "") for v in self.columns]


@dataclass(frozen=True)
class AddedRow:
    """A row of the compiled arrays that is no constraint of the Pyomo model (the NPV budget of an
    alternative, :meth:`CompiledModel.with_objective`): it has a name and an upper bound only.
    """

    name: str

    def has_ub(self) -> bool:
        """It has an upper bound (as a Pyomo constraint answers)."""
        return True

    def has_lb(self) -> bool:
        """It has no lower bound."""
        return False


@dataclass
class HighsArrays:
    """The exact arrays handed to HiGHS (column-wise matrix, objective already scaled)."""

    cost: np.ndarray
    offset: float
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    start: np.ndarray  #: int32, column starts (len = columns + 1)
    index: np.ndarray  #: int32, row of each nonzero
    value: np.ndarray
    integrality: np.ndarray  #: int32 per column: 0 continuous, 1 integer

    def pass_to(self, h: highspy.Highs) -> None:
        """``passModel`` through highspy's array overload: the arrays go in as buffers.

        Filling a ``HighsLp`` instead converts every entry through pybind (~70 ms on the
        default, a third of a sweep case's time outside the solver); the model HiGHS ends up
        with is the same, entry for entry.
        """
        status = h.passModel(
            len(self.cost),
            len(self.row_lower),
            len(self.value),
            int(highspy.MatrixFormat.kColwise),
            int(highspy.ObjSense.kMinimize),
            float(self.offset),
            self.cost,
            self.col_lower,
            self.col_upper,
            self.row_lower,
            self.row_upper,
            self.start,
            self.index,
            self.value,
            self.integrality,
        )
        if status == highspy.HighsStatus.kError:
            raise RuntimeError("HiGHS refused the model (passModel returned an error)")

    def save(self, path: Path) -> None:
        """Write the arrays to an ``.npz`` file (to give HiGHS alone the same model, bit for bit)."""
        np.savez(path, **{f.name: getattr(self, f.name) for f in fields(self)})

    @classmethod
    def load(cls, path: Path | str) -> HighsArrays:
        """Read arrays written by :meth:`save`."""
        with np.load(path) as d:
            values: dict[str, Any] = {f.name: d[f.name] for f in fields(cls)}
            values["offset"] = float(values["offset"])
            return cls(**values)


def column_bounds(v: Any) -> tuple[float, float]:
    """A variable's bounds as HiGHS gets them (a fixed variable at its value; none = infinite)."""
    lb, ub = (v.value, v.value) if v.fixed else v.bounds
    return (-INF if lb is None else lb, INF if ub is None else ub)


def compile_model(m: pyo.ConcreteModel) -> CompiledModel:
    """Compile a linear Pyomo model to matrices (Pyomo's standard-form compiler, mixed form)."""
    info = LinearStandardFormCompiler().write(m, mixed_form=True, set_sense=None)
    columns = list(info.columns)
    n = len(columns)
    col_lower = np.empty(n)
    col_upper = np.empty(n)
    integer = np.zeros(n, dtype=bool)
    for j, v in enumerate(columns):
        col_lower[j], col_upper[j] = column_bounds(v)
        integer[j] = v.is_integer() or v.is_binary()
    rhs = np.asarray(info.rhs, dtype=float)
    senses = np.array([s for _, s in info.rows], dtype=int)
    row_lower = np.where(senses == 1, -INF, rhs)
    row_upper = np.where(senses == -1, INF, rhs)
    cost = np.asarray(info.c.toarray()).ravel() if info.c.shape[0] else np.zeros(n)
    offset = float(info.c_offset[0]) if len(info.c_offset) else 0.0
    return CompiledModel(
        model=m,
        columns=columns,
        rows=list(info.rows),
        A=sparse.csc_array(info.A),
        cost=cost,
        offset=offset,
        col_lower=col_lower,
        col_upper=col_upper,
        row_lower=row_lower,
        row_upper=row_upper,
        integer=integer,
    )


@dataclass
class SolveOutcome:
    """What a solve returned, in the model's units (money in MCNY)."""

    status: Status  #: how the solve ended
    termination: str  #: HiGHS's model status, verbatim
    objective: float | None  #: objective of the plan returned [MCNY]
    bound: float | None  #: best proven lower bound [MCNY]
    gap: float | None  #: relative gap between objective and bound [-]
    timings: dict[str, float] = field(default_factory=dict)  #: seconds per stage
    options: SolveOptions = field(default_factory=SolveOptions)
    n_rows: int = 0
    n_cols: int = 0
    n_integers: int = 0
    coefficient_ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    """(smallest, largest) nonzero magnitude of the matrix, cost, bound and rhs entries
    (:meth:`CompiledModel.coefficient_ranges`)"""
    x: np.ndarray | None = None  #: column values of the plan returned
    columns: list[Any] | None = None
    """the Pyomo VarData of each entry of ``x`` (the compiled model's columns), set with the plan"""
    plan: np.ndarray | None = None
    """the plan as the model's variables take it: ``x`` with the integers rounded (:func:`rounded_plan`);
    the results are read from it (``planner.results.dataset``), whether or not it was loaded"""
    diagnosis: list[str] = field(default_factory=list)  #: why there is no plan, in the user's terms
    shadow_prices: dict[tuple[str, int], tuple[float, str]] = field(default_factory=dict)
    """(limit, year) -> (marginal cost [MCNY per unit of the limit], how it was obtained)"""
    relaxation_bound: float | None = None  #: objective of the LP relaxation (a lower bound) [MCNY]
    dual_bound: float | None = None
    """the lower bound from a similar scenario's relaxation duals, where it proved that scenario's plan
    (``planner.solver.dive.PlanStart``) and this relaxation was not solved (``planner.solver.bounds``) [MCNY]"""
    dive_objective: float | None = None  #: objective of the rounding dive's plan [MCNY]
    coarse_objective: float | None = None
    """objective of the plan from the coarse model (``planner.solver.coarse``), when one ran [MCNY]"""
    #: the first plan's source: "rounding dive", "coarse model's rounding" or "plan of a similar scenario"
    #: (``solve(plan_start=...)``)
    plan_source: str = "rounding dive"
    coarse_left: list[str] = field(default_factory=list)
    """groups of whole units the coarse model's dive left to the large model's, when it had to stop at
    ``planner.solver.coarse.COARSE_SHARE`` of the time limit"""
    dive_given: bool = False  #: the dive's plan reached HiGHS as an incumbent (after its root LP)
    dive_beside_mip: bool = False  #: the dive ran at the same time as HiGHS's MIP (else before it, or alone)
    relaxation_basis: Any = None
    """optimal basis of the LP relaxation, HiGHS's own object: a warm start (``warm_basis``);
    ``planner.solver.dive.basis_arrays`` turns it into arrays"""
    relaxation_warm: bool = False  #: the relaxation started from a given basis
    relaxation_solution: Any = None
    """optimal solution of the LP relaxation, HiGHS's own object (its vectors converted only when read:
    ``relaxation_duals``)"""
    plan_basis: Any = None
    """optimal basis of the first plan's LP with its integers fixed (the dive's last LP, or a plan
    start's), HiGHS's own object: where ``planner.solver.dive.PlanStart`` of this plan starts"""
    solver_stats: dict[str, int] = field(default_factory=dict)
    """HiGHS's MIP counters when it ran: ``mip_node_count``, ``simplex_iteration_count`` (its LP
    iterations, the dive's not included) — the same model and options give the same counts."""

    @property
    def relaxation_duals(self) -> np.ndarray | None:
        """Row duals of the LP relaxation's optimum [MCNY per unit of each row] (None where it did not run).

        What ``planner.solver.dive.PlanStart.duals`` takes for the scenarios started from this plan.
        """
        if self.relaxation_solution is None:
            return None
        return np.asarray(self.relaxation_solution.row_dual, dtype=float) / OBJECTIVE_SCALE

    @property
    def has_plan(self) -> bool:
        """A feasible plan came back (optimal, or the best found at a limit)."""
        return self.x is not None


@functools.cache
def interior_point() -> str:
    """HiGHS's interior-point solver for a large cold LP relaxation (``Relaxation``) and the root LP
    of a MIP after it (``planner.solver.solve``): ``hipo`` where ``highspy-extras`` provides it,
    else ``ipx``.

    HiPO factorises the Newton systems (OpenBLAS); IPX solves them by preconditioned conjugate
    gradients, which slow down on this model's capacity columns (a server fleet's count enters
    every hour's activity and power rows). With crossover, on the 2-core machine: the default on
    four sites at 12 days (217 k columns) 234 s against 615 s; one planning year at 8,760 hours
    173 s (one thread) against 882 s; the default at 12 days (57 k columns, which keeps the
    simplex) 26 s against 36 s. Its runs repeat bit for bit. Not a gain everywhere: the futures
    example's extensive form (142 k columns) took 460 s against the simplex's 278 s, and the
    full-year operation LPs keep IPX (with the decisions fixed no capacity column is left;
    ``planner.studies.full_year``).
    """
    probe = highspy.Highs()
    probe.setOptionValue("output_flag", False)
    return "hipo" if probe.setOptionValue("solver", "hipo") == highspy.HighsStatus.kOk else "ipx"


def new_highs(options: SolveOptions) -> highspy.Highs:
    """A HiGHS instance set up with ``options`` (log, time limit, gap, threads, seed, extras)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(options.log))
    h.setOptionValue("log_to_console", bool(options.log))
    h.setOptionValue("time_limit", float(options.time_limit_s))
    h.setOptionValue("mip_rel_gap", float(options.mip_gap))
    h.setOptionValue("threads", int(options.threads))
    h.setOptionValue("random_seed", int(options.random_seed))
    for name, value in options.extra:
        h.setOptionValue(name, value)
    return h


_STATUS: dict[highspy.HighsModelStatus, Status] = {
    highspy.HighsModelStatus.kOptimal: Status.OPTIMAL,
    highspy.HighsModelStatus.kTimeLimit: Status.TIME_LIMIT,
    highspy.HighsModelStatus.kInterrupt: Status.TIME_LIMIT,
    highspy.HighsModelStatus.kSolutionLimit: Status.TIME_LIMIT,
    highspy.HighsModelStatus.kIterationLimit: Status.TIME_LIMIT,
    highspy.HighsModelStatus.kInfeasible: Status.INFEASIBLE,
    highspy.HighsModelStatus.kUnbounded: Status.UNBOUNDED,
    highspy.HighsModelStatus.kUnboundedOrInfeasible: Status.INFEASIBLE,
}


def status_of(model_status: highspy.HighsModelStatus) -> Status:
    """The planner's :class:`Status` for a HiGHS model status (anything unexpected is an error)."""
    return _STATUS.get(model_status, Status.ERROR)


def rounded_plan(compiled: CompiledModel, x: np.ndarray) -> np.ndarray:
    """Column values with the integers rounded (half to even, as ``round``; no -0.0): the plan as loaded."""
    return np.where(compiled.integer, np.round(x) + 0.0, x)


def load_values(compiled: CompiledModel, x: np.ndarray) -> None:
    """Write column values into the Pyomo variables (:func:`rounded_plan`)."""
    write_values(compiled.columns, rounded_plan(compiled, x))


def write_values(columns: list[Any], values: np.ndarray) -> None:
    """Write ``values`` into the Pyomo variables ``columns``, one each (56 k on the default: ~10 ms)."""
    for v, value in zip(columns, values.tolist(), strict=True):
        v.set_value(value, skip_validation=True)


def write_mps(compiled: CompiledModel, path: Path) -> None:
    """Write the exact model handed to HiGHS as a (free-format) MPS file at ``path``.

    Its objective is the one HiGHS solves: in units of 10 kCNY (:data:`OBJECTIVE_SCALE` x MCNY).
    The caller makes the write atomic (:func:`planner.results.io.atomic_path`).
    """
    h = new_highs(SolveOptions())
    compiled.highs_arrays().pass_to(h)
    h.writeModel(str(path))
