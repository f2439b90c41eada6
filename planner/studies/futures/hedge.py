"""The hedged plan: the extensive form of every future solved as one MIP, here in the study's own process
(both cores, as ``plan solve``), and each future's plan read back from it (:func:`solve_hedge`).

Each future's model is built on its own (:func:`planner.pipeline.build`), its first-stage columns found by
the rule of :mod:`planner.model.stages`, and the models joined by :func:`planner.solver.extensive.extensive_form`.
The futures need not have the same columns: a decision that only some futures have is held at 0 (see there).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import xarray as xr

from planner.model.data import MCNY
from planner.model.stages import decision_units, first_stage_mask
from planner.pipeline import build
from planner.results.dataset import to_dataset
from planner.results.provenance import record_overrides
from planner.scenario import Scenario
from planner.solver.extensive import ExtensiveForm, extensive_form
from planner.solver.highs import SolveOptions, SolveOutcome, rounded_plan, write_values
from planner.solver.solve import solve
from planner.studies.futures.solve import FIRST_STAGE_ATTR, FIRST_STAGE_UNITS_ATTR

__all__ = ["Hedge", "solve_hedge"]


@dataclass
class Hedge:
    """How the hedged plan was found (the extensive form's outcome, or progressive hedging's as
    :mod:`planner.studies.futures.progressive` sums it up) and each future's plan in it.
    """

    outcome: SolveOutcome
    form: ExtensiveForm | None  #: the extensive form (None: progressive hedging)
    plans: list[xr.Dataset | None]  #: each future's plan (None without a plan)
    first_stage: dict[str, float]  #: the shared decisions: column name -> value
    npv_cny: list[float]  #: each future's NPV under the hedged plan [CNY] (NaN without a plan)
    eta_cny: float  #: the CVaR's eta (the value at risk) at the optimum [CNY] (NaN without a risk term)
    timings: dict[str, float]
    shared: list[str] = field(default_factory=list)  #: names of the first-stage decisions
    attrs: dict[str, Any] = field(default_factory=dict)  #: the method's own attrs for the plans


def solve_hedge(
    scenarios: Sequence[Scenario],
    overrides: Sequence[Sequence[str]],
    probabilities: Sequence[float],
    commit_until: int,
    options: SolveOptions,
    risk: tuple[float, float] | None = None,
) -> Hedge:
    """Build every future, join them into the extensive form and solve it; each future's plan as a Dataset."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    built = [build(s, compile=True) for s in scenarios]
    blocks = [b.compiled for b in built]
    assert all(b is not None for b in blocks)  # compile=True
    masks = [first_stage_mask(b.model, c.columns, commit_until) for b, c in zip(built, blocks, strict=True)]  # type: ignore[union-attr]
    timings["build"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    form = extensive_form(blocks, probabilities, masks, risk)  # type: ignore[arg-type]
    timings["extensive_form"] = time.perf_counter() - t1
    outcome = solve(built[0].model, options, compiled=form.compiled, shadow_prices=False)
    timings.update({f"solve_{k}": v for k, v in outcome.timings.items()})
    plans: list[xr.Dataset | None] = [None] * len(scenarios)
    npv = [float("nan")] * len(scenarios)
    first: dict[str, float] = {}
    eta = float("nan")
    if outcome.x is not None:
        x = outcome.x
        first = form.first_stage(x)
        if form.eta is not None:
            eta = float(x[form.eta]) * MCNY
        t2 = time.perf_counter()
        for f, (b, block) in enumerate(zip(built, form.blocks, strict=True)):
            xf = form.future_x(x, f)
            plan = rounded_plan(block, xf)
            write_values(block.columns, plan)
            objective = form.future_npv(x, f)
            npv[f] = objective * MCNY
            own = dataclasses.replace(
                outcome,
                x=xf,
                columns=block.columns,
                plan=plan,
                objective=objective,
                bound=None,
                n_rows=block.shape[0],
                n_cols=block.shape[1],
                n_integers=int(block.integer.sum()),
                coefficient_ranges=block.coefficient_ranges(),
                shadow_prices={},
            )
            ds = record_overrides(to_dataset(b.model, own, {**b.timings}), list(overrides[f]))
            ds.attrs[FIRST_STAGE_ATTR] = json.dumps(
                {k: v for k, v in first.items() if f not in form.missing.get(k, [])}
            )
            ds.attrs[FIRST_STAGE_UNITS_ATTR] = json.dumps(decision_units(b.model))
            plans[f] = ds
        timings["results"] = time.perf_counter() - t2
    return Hedge(outcome, form, plans, first, npv, eta, timings, list(form.shared), {"hedge_method": "extensive"})
