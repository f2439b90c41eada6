"""Sensitivity sweeps: expand a sweep file into cases, solve them side by side, stack the results.

    spec = load_sweep("inputs/sweeps/pue_x_price.yaml")
    ds = run_sweep(spec, workers=2)                      # or scheduler="tcp://10.0.0.5:8786"
    summary_table(ds)                                     # one row per case, as a DataFrame

A sweep is many solves of one scenario family: a base scenario and, per case, a list of ``--set``
overrides (a ``grid`` of every combination, and/or a ``one_at_a_time`` tornado). This package is
the public face of the sweep study; its stages live in its modules, and data flows one way
(each module imports only those above it):

* :mod:`~planner.studies.sweep.cases`: the cases of a sweep, their ids (a hash of their
  overrides: the same case has the same id in every run), their fingerprints and their
  validation through the scenario loader before anything is solved;
* :mod:`~planner.studies.sweep.store`: the saved parts on disk (a plan and a record per case,
  each written atomically the moment the case finishes), the lock, and what ``resume`` keeps;
* :mod:`~planner.studies.sweep.execute`: :func:`solve_case`, the one seam that solves a case
  (warm-started from the LP relaxation basis of its model structure, re-using built models),
  and the executors that run it on local worker processes or a Dask cluster;
* :mod:`~planner.studies.sweep.stack`: the combined Dataset of all cases, and its provenance;
* :mod:`~planner.studies.sweep.summary`: the terminal summary;
* :mod:`~planner.studies.sweep.run`: :func:`run_sweep`, which strings the stages together.

**Determinism.** A case's result depends only on the sweep's inputs (its fingerprint): HiGHS runs
on one thread with a fixed seed, warm starts come from bases that depend on the inputs only, and
re-used models are patched to the same matrices as a fresh build. So the combined file is the
same, but for its run times (:data:`TIMING_VARS`), whether the sweep ran at once, was killed and
resumed, ran on local processes or on a Dask cluster.
"""

from planner.studies.sweep.cases import Case, SweepError, case_id, case_options, expand, validate_cases
from planner.studies.sweep.execute import TRACE_ENV, solve_case
from planner.studies.sweep.run import run_sweep
from planner.studies.sweep.stack import TIMING_VARS, stack
from planner.studies.sweep.store import parts_dir, read_parts
from planner.studies.sweep.summary import print_summary, summary_table

__all__ = [
    "TIMING_VARS",
    "TRACE_ENV",
    "Case",
    "SweepError",
    "case_id",
    "case_options",
    "expand",
    "parts_dir",
    "print_summary",
    "read_parts",
    "run_sweep",
    "solve_case",
    "stack",
    "summary_table",
    "validate_cases",
]
