"""Hand the Pyomo model to HiGHS, solve it, and say plainly what came back.

Path to the solver: Pyomo's linear standard-form compiler turns the model into sparse
matrices, which go straight into ``highspy`` (``passModel``). On this model that is several
times faster than Pyomo's persistent HiGHS interface or an LP/MPS file round trip (figures in
the README's Performance section), and it keeps the matrices at hand for exporting the exact
model (``--export-model``), for duals with the integers fixed and for the IIS.

Outcomes are typed (:class:`SolveOutcome`); a non-optimal result is never silent.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler
from scipy import sparse

__all__ = [
    "OBJECTIVE_SCALE",
    "SolveOptions",
    "SolveOutcome",
    "CompiledModel",
    "HighsArrays",
    "compile_model",
    "solve",
    "run_highs",
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
    dive: bool = True  #: solve the LP relaxation and a rounding dive first (``planner.dive``)
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
            return cls(**{f.name: d[f.name] if f.name != "offset" else float(d[f.name]) for f in fields(cls)})


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

    status: str  #: "optimal", "time_limit", "infeasible", "unbounded", "error"
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
    diagnosis: list[str] = field(default_factory=list)  #: why there is no plan, in the user's terms
    shadow_prices: dict[tuple[str, int], tuple[float, str]] = field(default_factory=dict)
    """(limit, year) -> (marginal cost [MCNY per unit of the limit], how it was obtained)"""
    relaxation_bound: float | None = None  #: objective of the LP relaxation (a lower bound) [MCNY]
    dive_objective: float | None = None  #: objective of the rounding dive's plan [MCNY]
    dive_given: bool = False  #: the dive's plan reached HiGHS as an incumbent (after its root LP)
    relaxation_basis: Any = None
    """optimal basis of the LP relaxation, HiGHS's own object: a warm start (``warm_basis``);
    ``planner.dive.basis_arrays`` turns it into arrays"""
    relaxation_warm: bool = False  #: the relaxation started from a given basis
    solver_stats: dict[str, int] = field(default_factory=dict)
    """HiGHS's MIP counters when it ran: ``mip_node_count``, ``simplex_iteration_count`` (its LP
    iterations, the dive's not included) — the same model and options give the same counts."""

    @property
    def has_plan(self) -> bool:
        """A feasible plan came back (optimal, or the best found at a limit)."""
        return self.x is not None

    @property
    def is_optimal(self) -> bool:
        """Solved to the requested gap."""
        return self.status == "optimal"


def _highs(options: SolveOptions) -> highspy.Highs:
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


def run_highs(
    compiled: CompiledModel,
    options: SolveOptions,
    time_limit_s: float | None = None,
    dive: Any = None,
) -> tuple[highspy.Highs, dict[str, float]]:
    """Pass the compiled model to a new HiGHS instance and run it; return it and timings.

    ``time_limit_s`` overrides the options' limit; ``dive`` is a running
    :class:`planner.dive.ConcurrentDive` that meets the MIP after its root LP.
    """
    t0 = time.perf_counter()
    h = _highs(options)
    if time_limit_s is not None:
        h.setOptionValue("time_limit", max(float(time_limit_s), 1e-3))
    compiled.highs_arrays().pass_to(h)
    if dive is not None:
        from planner.dive import SUB_MIP_OFF

        user = {name for name, _ in options.extra}
        for name, value in SUB_MIP_OFF:
            if name not in user:
                h.setOptionValue(name, value)
        dive.attach(h)
    t1 = time.perf_counter()
    h.run()
    t2 = time.perf_counter()
    return h, {"handoff": t1 - t0, "solve": t2 - t1}


_STATUS = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kTimeLimit: "time_limit",
    highspy.HighsModelStatus.kInterrupt: "time_limit",
    highspy.HighsModelStatus.kSolutionLimit: "time_limit",
    highspy.HighsModelStatus.kIterationLimit: "time_limit",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
    highspy.HighsModelStatus.kUnbounded: "unbounded",
    highspy.HighsModelStatus.kUnboundedOrInfeasible: "infeasible",
}


def solve(
    m: pyo.ConcreteModel,
    options: SolveOptions | None = None,
    export_model: Path | None = None,
    compiled: CompiledModel | None = None,
    shadow_prices: bool = True,
    warm_basis: Any = None,
) -> SolveOutcome:
    """Solve the planning model with HiGHS and load the plan into the Pyomo variables.

    Parameters
    ----------
    m : ConcreteModel
        The model from :func:`planner.model.build_model`.
    options : SolveOptions, optional
        Time limit, gap, threads, seed.
    export_model : Path, optional
        Write the exact model handed to HiGHS to this MPS file first.
    compiled : CompiledModel, optional
        A model already compiled (skips compilation).
    shadow_prices : bool
        Also price the policy limits (duals of one LP: lumpy builds fixed at the plan, servers and
        racks continuous; see :mod:`planner.prices`).
    warm_basis : planner.dive.Basis, optional
        Start the LP relaxation from this basis (of a scenario with the same structure); the
        relaxation's own optimal basis comes back in ``relaxation_basis``.

    Returns
    -------
    SolveOutcome
        Status, objective, bound, gap, timings, and the diagnosis when infeasible.
    """
    options = options or SolveOptions()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    deadline = t0 + options.time_limit_s
    if compiled is None:
        compiled = compile_model(m)
        timings["compile"] = time.perf_counter() - t0
    if export_model is not None:
        write_mps(compiled, Path(export_model))
    outcome = SolveOutcome(
        status="error",
        termination="",
        objective=None,
        bound=None,
        gap=None,
        timings=timings,
        options=options,
        n_rows=compiled.shape[0],
        n_cols=compiled.shape[1],
        n_integers=int(compiled.integer.sum()),
        coefficient_ranges=compiled.coefficient_ranges(),
    )

    relaxation, dive, concurrent = None, None, None
    if options.dive and compiled.integer.any():
        from planner.dive import ConcurrentDive, Relaxation

        relaxation = Relaxation(compiled, options, start=warm_basis)
        outcome.relaxation_warm = relaxation.warm
        # Side by side only where HiGHS's root LP (dual simplex) keeps pace with the relaxation's. At
        # full resolution the relaxation runs interior point and is minutes ahead (one planning year
        # at 8,760 hours: the dive's plan, 0.02 % from the bound, was ready at 997 s while the MIP's
        # root simplex ran to 1,290 s), so the dive goes first and the MIP runs only if it must.
        background = options.concurrent_dive and not relaxation.cold_ipx
        concurrent = ConcurrentDive(relaxation, deadline, background=background)
        if not background:
            dive = concurrent.finish()
    h = None
    if dive is not None and dive.relaxation_status == "infeasible":
        # The dive ran first: with no plan even with the integers relaxed, the MIP has none either.
        outcome.status, outcome.termination = "infeasible", "Infeasible (LP relaxation)"
    elif dive is not None and dive.x is not None and dive.gap is not None and dive.gap <= options.mip_gap:
        # The dive ran first and the relaxation proves its plan within the gap: no MIP needed.
        outcome.status, outcome.termination = "optimal", "Optimal (rounding dive within the gap of the LP relaxation)"
        outcome.x, outcome.objective, outcome.bound, outcome.gap = dive.x, dive.objective, dive.bound, dive.gap
    else:
        h, t = run_highs(compiled, options, time_limit_s=deadline - time.perf_counter(), dive=concurrent)
        timings.update(t)
    if concurrent is not None:
        t1 = time.perf_counter()
        dive = concurrent.finish()
        timings["dive_wait"] = time.perf_counter() - t1
        timings.update({f"dive_{k}": v for k, v in dive.timings.items()})
        outcome.relaxation_bound, outcome.dive_objective = dive.bound, dive.objective
        outcome.dive_given = concurrent.given
        outcome.relaxation_basis = dive.basis
    if h is not None:
        _read_mip(h, compiled, outcome, dive, concurrent is not None and concurrent.given)

    if outcome.x is not None:
        t1 = time.perf_counter()
        load_values(compiled, outcome.x)
        timings["load_values"] = time.perf_counter() - t1
        if shadow_prices:
            from planner.prices import price_limits

            t2 = time.perf_counter()
            warm = relaxation if dive is not None and dive.bound is not None else None  # a working LP instance
            outcome.shadow_prices = price_limits(compiled, outcome.x, options, relaxation=warm)
            timings["shadow_prices"] = time.perf_counter() - t2
    elif outcome.status == "infeasible":
        from planner.diagnose import diagnose_infeasibility

        t1 = time.perf_counter()
        outcome.diagnosis = diagnose_infeasibility(compiled, options)
        timings["diagnosis"] = time.perf_counter() - t1
    elif outcome.status == "time_limit":
        outcome.diagnosis = [
            f"HiGHS stopped at the time limit of {options.time_limit_s:g} s before finding any feasible plan"
        ]
    return outcome


def _read_mip(h: highspy.Highs, compiled: CompiledModel, outcome: SolveOutcome, dive: Any, given: bool) -> None:
    """Fill ``outcome`` from HiGHS's MIP result (and the dive's, when HiGHS stopped before the meeting)."""
    model_status = h.getModelStatus()
    outcome.termination = h.modelStatusToString(model_status)
    outcome.status = _STATUS.get(model_status, "error")
    info = h.getInfo()
    outcome.solver_stats = {
        "mip_node_count": int(info.mip_node_count),
        "simplex_iteration_count": int(info.simplex_iteration_count),
    }
    if info.primal_solution_status == 2 and outcome.status in ("optimal", "time_limit"):  # a feasible plan
        outcome.x = np.asarray(h.getSolution().col_value, dtype=float)
        outcome.objective = float(info.objective_function_value) / OBJECTIVE_SCALE
        if compiled.integer.any():
            bounds = [float(info.mip_dual_bound) / OBJECTIVE_SCALE]
            if dive is not None and dive.bound is not None:
                bounds.append(dive.bound)
            finite = [b for b in bounds if math.isfinite(b)]
            outcome.bound = max(finite) if finite else None
            if outcome.bound is not None:
                outcome.gap = max(0.0, (outcome.objective - outcome.bound) / max(abs(outcome.objective), 1e-9))
        else:
            outcome.bound, outcome.gap = outcome.objective, 0.0
        if (
            dive is not None
            and dive.x is not None
            and dive.objective is not None
            and dive.objective < outcome.objective - 1e-9 * max(1.0, abs(outcome.objective))
        ):
            # HiGHS checks a user solution against its presolved model, whose reductions may cut off
            # a feasible plan (seen on a medium instance: the same plan passed as a MIP start is
            # "feasible"), and can end with a worse incumbent: the dive's plan (an LP optimum with the
            # integers fixed) is a plan all the same, and the better one is returned.
            outcome.x, outcome.objective = dive.x, dive.objective
            if outcome.bound is not None:
                outcome.gap = max(0.0, (outcome.objective - outcome.bound) / max(abs(outcome.objective), 1e-9))
            outcome.termination += " (plan from the rounding dive, better than HiGHS's incumbent)"
        elif given and outcome.objective == dive.objective:
            outcome.termination += " (plan from the rounding dive)"
    elif dive is not None and dive.x is not None and outcome.status not in ("infeasible", "unbounded"):
        # HiGHS stopped (time limit) before the meeting point: the dive's plan is still a plan.
        outcome.status = "time_limit"
        outcome.x, outcome.objective, outcome.bound, outcome.gap = dive.x, dive.objective, dive.bound, dive.gap


def load_values(compiled: CompiledModel, x: np.ndarray) -> None:
    """Write column values into the Pyomo variables (integers rounded)."""
    for v, value, is_int in zip(compiled.columns, x, compiled.integer, strict=True):
        v.set_value(float(round(value)) if is_int else float(value), skip_validation=True)


def write_mps(compiled: CompiledModel, path: Path) -> None:
    """Write the exact model handed to HiGHS as a (free-format) MPS file, atomically.

    Its objective is the one HiGHS solves: in units of 10 kCNY (:data:`OBJECTIVE_SCALE` x MCNY).
    """
    from planner.atomic import atomic_path

    h = _highs(SolveOptions())
    compiled.highs_arrays().pass_to(h)
    with atomic_path(Path(path), keep_suffix=True) as tmp:
        h.writeModel(str(tmp))
