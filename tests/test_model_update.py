"""A built model re-used for scenarios that differ only in numbers gives the fresh-build optimum."""

from __future__ import annotations

import dataclasses
import gc
import itertools
import weakref

import numpy as np
import pytest
import xarray as xr
from tiny import tiny, write_profile

from planner import pipeline
from planner.model import build_model
from planner.model.data import MCNY
from planner.model.update import structure_key, update_model
from planner.pipeline import ModelCache
from planner.results.dataset import to_dataset
from planner.solver.highs import SolveOptions, write_values
from planner.solver.solve import solve

OPTIONS = SolveOptions(time_limit_s=60, mip_gap=1e-9)

# A small grid over every kind of mutable parameter: demand, energy price, capex, policy.
GRID = {
    "demand.inference.peak_tokens_per_s": [1500, 2000, 4500],
    "power.grid.tariff.flat_cny_per_kwh": [0.3, 0.9],
    "accelerators.gpu.capex_cny": [8e5, 1.5e6],
    "policy.pue_max": [1.2, 1.15],
}


@pytest.fixture(scope="module")
def profile(tmp_path_factory):
    return write_profile(tmp_path_factory.mktemp("upd") / "flat.csv")


def test_structure_key_ignores_numbers_but_not_structure(profile):
    base = tiny(profile)
    assert structure_key(base) == structure_key(tiny(profile, {"power.grid.tariff.flat_cny_per_kwh": 0.7}))
    assert structure_key(base) != structure_key(tiny(profile, {"accelerators.gpu.full_kw": 12}))
    assert structure_key(base) != structure_key(tiny(profile, {"cooling.air.fans_pumps_kw_per_kw": 0.2}))
    # a limit set in a year where it was not is a new row: a different structure
    assert structure_key(base) != structure_key(tiny(profile, {"policy.pue_max": 1.2}))
    capped = tiny(profile, {"policy.pue_max": 1.2})
    assert structure_key(capped) == structure_key(tiny(profile, {"policy.pue_max": 1.3}))


def test_update_rejects_a_different_structure(profile):
    m = build_model(tiny(profile))
    with pytest.raises(ValueError, match="more than mutable parameters"):
        update_model(m, tiny(profile, {"accelerators.gpu.idle_kw": 5}))


def test_parameter_update_matches_fresh_build_on_a_grid(profile):
    cases = [dict(zip(GRID, values, strict=True)) for values in itertools.product(*GRID.values())]
    first = tiny(profile, cases[0])
    model = build_model(first)
    checked = 0
    for changes in cases:
        scenario = tiny(profile, changes)
        update_model(model, scenario)
        reused = solve(model, OPTIONS, shadow_prices=False)
        fresh_model = build_model(scenario)
        fresh = solve(fresh_model, OPTIONS, shadow_prices=False)
        assert reused.status == fresh.status == "optimal", changes
        assert reused.objective == pytest.approx(fresh.objective, rel=1e-9), changes
        assert model.planner_data.scenario is scenario
        # the results of the re-used model read the new numbers (its cached linear forms are
        # re-derived when a parameter in them changed): its costs add up to its own objective,
        # and the prices and demand it reports are those of a fresh build
        ds, ds_fresh = to_dataset(model, reused), to_dataset(fresh_model, fresh)
        assert float(ds["npv_cny"]) == pytest.approx(reused.objective * MCNY, rel=1e-9), changes
        for name in ("grid_price_cny_per_mwh", "inference_demand_tokens_per_s", "pue_max"):
            xr.testing.assert_identical(ds[name], ds_fresh[name])
        checked += 1
    assert checked == 24


def test_the_cache_takes_its_models_out_of_the_garbage_collector_and_frees_those_it_drops(profile):
    # A kept model is frozen (gc.freeze: full collections no longer walk it); one dropped from the
    # cache for a newer structure is collected, not kept frozen for ever.
    cache = ModelCache(size=1)
    try:
        first = pipeline.build(tiny(profile, {}), cache)
        assert gc.get_freeze_count() > 0
        dropped = weakref.ref(first.model)
        del first
        pipeline.build(tiny(profile, {"years": [2026, 2027]}), cache)  # another structure: the first goes
        gc.collect()
        assert dropped() is None
    finally:
        gc.unfreeze()


def test_results_are_read_from_the_plan_when_the_variables_hold_another(profile):
    # A sweep case does not load its plan into the re-used model's variables (``load_plan=False``):
    # they still hold the previous case's. Its Dataset, read from the plan by column, must equal the
    # one read from the variables with the plan loaded into them.
    model = build_model(tiny(profile, {"demand.inference.peak_tokens_per_s": 1500, "policy.pue_max": 1.2}))
    solve(model, OPTIONS)
    scenario = tiny(profile, {"demand.inference.peak_tokens_per_s": 4500, "policy.pue_max": 1.2})
    update_model(model, scenario)
    outcome = solve(model, OPTIONS, load_plan=False)
    held = np.array([v.value or 0.0 for v in outcome.columns])
    assert np.abs(held - outcome.plan).max() > 1.0  # the variables hold the other case's plan
    read = to_dataset(model, outcome)

    write_values(outcome.columns, outcome.plan)
    loaded = to_dataset(model, dataclasses.replace(outcome, columns=None, plan=None))
    xr.testing.assert_identical(read.drop_attrs(), loaded.drop_attrs())
    assert float(read["npv_cny"]) == pytest.approx(outcome.objective * MCNY, rel=1e-9)
    fresh = to_dataset(model_fresh := build_model(scenario), solve(model_fresh, OPTIONS))
    assert read["shadow_price"].notnull().sum() == 1  # the PUE cap, priced at the plan as a fresh solve does
    xr.testing.assert_allclose(read["shadow_price"], fresh["shadow_price"], rtol=1e-6)


def test_the_results_refuse_an_outcome_whose_plan_is_not_of_its_x(profile):
    # An outcome copied with another x (``plan hedge`` makes one per future) keeps the old plan and columns
    # unless it sets them too: read as it stands, the results would show the old plan.
    model = build_model(tiny(profile))
    outcome = solve(model, OPTIONS)
    stale = dataclasses.replace(outcome, x=np.zeros(len(outcome.x) + 1))
    with pytest.raises(ValueError, match="plan .* is not of its x"):
        to_dataset(model, stale)
