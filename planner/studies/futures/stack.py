"""The combined Dataset of a hedge study (:func:`hedge_dataset`): the hedged plan in every future, and what
every first-stage plan costs in every future.

Dims and coordinates: ``future`` (the file's order), ``plan`` (``hedged``, ``perfect-<future>`` for each
future's perfect-foresight plan, ``mean_value``), ``decision`` (first-stage decisions some plan takes:
``servers_new[h200,air,2026]``, with ``decision_units``).

Variables:

* ``probability`` (future) [1];
* the hedged plan's own variables (``servers_new``, ``grid_import_mw``, ``npv_cny``, ...) with a leading
  ``future`` dim: each future's recourse; the first-stage decisions are equal in every future;
* ``cost_cny`` (plan, future) [CNY, NPV]: the plan's NPV in the future, its first stage fixed and the rest
  re-optimised (shortfall penalties included); ``inf`` where the plan cannot be carried out in the future
  (``evaluation_status`` infeasible, ``evaluation_message`` says why), NaN where the solve failed;
* ``perfect_foresight_cost_cny`` (future) [CNY]: the future's own optimum;
* ``regret_cny`` (plan, future) [CNY]: ``cost_cny`` minus the future's perfect-foresight cost (within the
  MIP gaps of both solves, so it may be slightly negative);
* ``expected_cost_cny``, ``cvar_cny`` (at ``cvar_alpha``), ``worst_cost_cny``, ``max_regret_cny`` (plan) [CNY];
* ``evpi_cny`` [CNY]: expected value of perfect information, E[cost of the hedged plan] − E[perfect-foresight
  cost]; ``vss_cny`` [CNY]: value of the stochastic solution, E[cost of the mean-value plan] − E[cost of the
  hedged plan] (``inf`` when the mean-value plan cannot be carried out in some future);
* ``first_stage_value`` (plan, decision): what each plan commits to now.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
import yaml

from planner import __version__
from planner.results.io import file_sha256
from planner.results.provenance import input_files, installed_versions
from planner.scenario import Scenario, load_scenario
from planner.scenario.futures import MEAN_VALUE, Futures, futures_input_hash
from planner.solver.highs import SolveOptions
from planner.solver.status import Status
from planner.studies.futures.solve import FIRST_STAGE_UNITS_ATTR, read_first_stage
from planner.studies.sweep.stack import display_names, stack_plans
from planner.studies.sweep.store import Parts

__all__ = ["DEFAULT_CVAR_ALPHA", "HEDGED", "Evaluation", "cvar", "hedge_dataset", "perfect"]

HEDGED = "hedged"
"""The hedged plan's id (and its parts' prefix)."""

DEFAULT_CVAR_ALPHA = 0.9
"""The CVaR level reported when the futures file has no ``risk`` block [-]."""


def perfect(future: str) -> str:
    """The id of a future's perfect-foresight plan."""
    return f"perfect-{future}"


@dataclass(frozen=True)
class Evaluation:
    """A plan's outcome in one future."""

    cost_cny: float  #: NPV [CNY]; inf: the plan cannot be carried out there; NaN: the solve failed
    status: str
    message: str

    @classmethod
    def of(cls, info: Mapping[str, Any]) -> Evaluation:
        """From a solve's info (as saved in a part's record)."""
        status = str(info.get("status", Status.ERROR))
        cost = float(info.get("objective_cny", math.nan))
        if status in (Status.INFEASIBLE, Status.UNBOUNDED):
            cost = math.inf
        elif status not in (Status.OPTIMAL, Status.TIME_LIMIT) or not math.isfinite(cost):
            cost = math.nan
        return cls(cost, status, str(info.get("message") or ""))


def cvar(costs: Sequence[float] | np.ndarray, probabilities: Sequence[float] | np.ndarray, alpha: float) -> float:
    """``CVaR_alpha`` of a discrete cost distribution: ``min_eta eta + 1/(1-alpha) sum_f p_f (c_f - eta)^+``
    (Rockafellar and Uryasev), the mean of the worst ``1 - alpha`` of probability [same unit as costs].
    """
    c = np.asarray(costs, dtype=float)
    p = np.asarray(probabilities, dtype=float)
    if np.isnan(c).any():
        return math.nan
    if np.isinf(c[p > 0]).any():
        return math.inf
    return float(min(eta + np.sum(p * np.maximum(c - eta, 0.0)) / (1 - alpha) for eta in c))


def _expected(costs: np.ndarray, p: np.ndarray) -> float:
    if np.isnan(costs).any():
        return math.nan
    if np.isinf(costs[p > 0]).any():
        return math.inf
    return float(np.sum(p * costs))


def _var(values: Any, dims: tuple[str, ...], units: str, long_name: str, **extra: Any) -> xr.DataArray:
    return xr.DataArray(values, dims=dims, attrs={"units": units, "long_name": long_name, **extra})


def hedge_dataset(
    spec: Futures,
    base: Scenario,
    parts: Parts,
    evaluations: Mapping[tuple[str, str], Evaluation],
    notes: Sequence[str],
    options: Mapping[str, Any],
    ef_options: SolveOptions,
) -> xr.Dataset:
    """The study's combined Dataset (see the module docstring)."""
    names = spec.names
    p = np.asarray(spec.probabilities, dtype=float)
    plans = [HEDGED, *(perfect(n) for n in names), MEAN_VALUE]
    hedged = [parts[f"{HEDGED}-{n}"][1] for n in names]
    assert all(h is not None for h in hedged)
    ds = stack_plans([(i, h) for i, h in enumerate(hedged) if h is not None], len(names)).rename({"_case": "future"})
    ds = ds.assign_coords(future=names, plan=plans)
    ds["probability"] = _var(p, ("future",), "1", "probability of the future")
    cost = np.array([[evaluations[(plan, n)].cost_cny for n in names] for plan in plans])
    pf = np.array([evaluations[(perfect(n), n)].cost_cny for n in names])
    ds["cost_cny"] = _var(cost, ("plan", "future"), "CNY", "NPV of the plan's first stage carried into the future")
    ds["perfect_foresight_cost_cny"] = _var(pf, ("future",), "CNY", "NPV of the future's own optimal plan")
    with np.errstate(invalid="ignore"):
        ds["regret_cny"] = _var(
            cost - pf[None, :], ("plan", "future"), "CNY", "cost in the future minus its perfect-foresight cost"
        )
    ds["evaluation_status"] = _var(
        np.array([[evaluations[(plan, n)].status for n in names] for plan in plans], dtype=str),
        ("plan", "future"),
        "1",
        "status of the plan in the future: optimal, time_limit, infeasible (cannot be carried out) or error",
    )
    ds["evaluation_message"] = _var(
        np.array([[evaluations[(plan, n)].message for n in names] for plan in plans], dtype=str),
        ("plan", "future"),
        "1",
        "why a plan has no cost in a future, or a note",
    )
    alpha = float(spec.risk.cvar_alpha) if spec.risk is not None else DEFAULT_CVAR_ALPHA
    expected = np.array([_expected(row, p) for row in cost])
    ds["expected_cost_cny"] = _var(expected, ("plan",), "CNY", "expected NPV over the futures")
    ds["cvar_cny"] = _var(
        np.array([cvar(row, p, alpha) for row in cost]),
        ("plan",),
        "CNY",
        f"CVaR at {alpha:g}: mean NPV of the worst {1 - alpha:.0%} of probability",
        alpha=alpha,
    )
    ds["worst_cost_cny"] = _var(
        np.array([np.max(row[p > 0]) for row in cost]), ("plan",), "CNY", "highest NPV over the futures"
    )
    with np.errstate(invalid="ignore"):
        ds["max_regret_cny"] = _var(
            np.array([np.max((row - pf)[p > 0]) for row in cost]), ("plan",), "CNY", "largest regret over the futures"
        )
    e_hedged, e_pf, e_mean = expected[0], _expected(pf, p), expected[-1]
    ds["evpi_cny"] = _var(
        e_hedged - e_pf, (), "CNY", "expected value of perfect information: E[hedged cost] - E[perfect-foresight cost]"
    )
    with np.errstate(invalid="ignore"):
        vss = e_mean - e_hedged if not (math.isinf(e_mean) and math.isinf(e_hedged)) else math.nan
    ds["vss_cny"] = _var(
        vss, (), "CNY", "value of the stochastic solution: E[cost of the mean-value plan] - E[cost of the hedged plan]"
    )
    _decisions(ds, plans, parts, hedged[0])
    ds.attrs = _attrs(spec, base, hedged[0], parts, notes, options, ef_options, alpha)
    return ds


def _decisions(ds: xr.Dataset, plans: Sequence[str], parts: Parts, reference: Any) -> None:
    """``first_stage_value`` (plan, decision) of the decisions some plan takes (nonzero)."""
    firsts = {}
    for plan in plans:
        source = reference if plan == HEDGED else parts.get(plan, ({}, None))[1]
        firsts[plan] = read_first_stage(source) if source is not None else None
    names: list[str] = []
    for first in firsts.values():
        names += [k for k, v in (first or {}).items() if abs(v) > 1e-9 and k not in names]
    units = json.loads(str(reference.attrs.get(FIRST_STAGE_UNITS_ATTR, "{}")))
    table = np.array(
        [[math.nan if firsts[plan] is None else firsts[plan].get(k, 0.0) for k in names] for plan in plans]  # type: ignore[union-attr]
    ).reshape(len(plans), len(names))
    ds.coords["decision"] = names
    ds.coords["decision_units"] = ("decision", [units.get(k.split("[")[0], "") for k in names])
    ds["first_stage_value"] = _var(
        table,
        ("plan", "decision"),
        "see decision_units",
        "what each plan decides now (builds and contracts up to commit_until)",
    )


_KEPT = (
    "title",
    "scenario_name",
    "scenario_yaml",
    "representative_days",
    "hedge_objective_cny",
    "hedge_bound_cny",
    "hedge_mip_gap",
    "hedge_eta_cny",
    "hedge_rows",
    "hedge_columns",
    "hedge_first_stage_columns",
    "hedge_timings_s",
    "solver_status",
    "termination",
)


def _attrs(
    spec: Futures,
    base: Scenario,
    reference: Any,
    parts: Parts,
    notes: Sequence[str],
    options: Mapping[str, Any],
    ef_options: SolveOptions,
    alpha: float,
) -> dict[str, Any]:
    futures = spec.model_dump(mode="json")
    files: list[dict[str, str]] = []
    if spec.source is not None:
        futures_file = Path(spec.source).resolve()
        files.append({"role": "futures", "path": str(futures_file), "sha256": file_sha256(futures_file)})
    files += input_files(load_scenario(spec.base))
    times = {cid: info.get("wall_time_s") for cid, (info, _) in parts.items()}
    return {
        **{k: reference.attrs[k] for k in _KEPT if k in reference.attrs},
        "study": "hedge",
        "futures_name": spec.name,
        "futures_description": spec.description,
        "futures_source": files[0]["path"] if spec.source is not None else "",
        "input_files": json.dumps(files),
        "futures_yaml": yaml.safe_dump(futures, sort_keys=False, allow_unicode=True),
        "commit_until": int(spec.commit_until),
        "risk": json.dumps(futures.get("risk")),
        "cvar_alpha": alpha,
        "mean_value_notes": json.dumps(list(notes)),
        "input_hash": futures_input_hash(spec),
        "display_names": json.dumps(display_names(base)),
        "solver_options": json.dumps({"workers": dict(options), "extensive_form": ef_options.__dict__}, default=str),
        "wall_times_s": json.dumps(times, default=str),
        "planner_version": __version__,
        "package_versions": json.dumps(installed_versions()),
    }
