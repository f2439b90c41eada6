"""The sweep-file schema (``inputs/sweeps/*.yaml``): a base scenario and the values to vary.

>>> from planner.scenario.sweep import load_sweep
>>> spec = load_sweep("inputs/sweeps/pue_x_price.yaml")   # doctest: +SKIP

A sweep file holds::

    name: pue_x_price                 # names the results: results/sweeps/<name>.nc and <name>/
    base: ../2030.yaml                # the scenario every case starts from (relative to this file)
    grid:                             # full factorial: every combination is one case
      policy.pue_max.2030: [1.15, 1.20, 1.25, 1.30]
      power.grid.tariff.scale: [0.8, 1.0, 1.2]
    one_at_a_time:                    # optional tornado: each path at its low and at its high value,
      demand.inference.scale: [0.5, 2.0]   # everything else at the base; plus the base case itself
    set: ["time.representative_days=6"]  # optional: overrides applied to every case
    solver: {time_limit_s: 600, mip_gap: 0.01}   # optional: overrides of the scenario's solver block

Paths are the scenario's dotted YAML paths, exactly as ``plan solve --set`` takes them (a year
of a year-indexed value is one more part: ``policy.pue_max.2030``; a list item its index:
``existing.servers.0.count``). Values are single YAML values and may carry units
(``"0.5 CNY/kWh"``). This module checks the file's own shape; whether each value is valid for
its path is checked case by case through the scenario loader (:func:`planner.studies.sweep.validate_cases`).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BeforeValidator, Field, PrivateAttr, StringConstraints

from planner.scenario import input_hash, load_scenario
from planner.scenario.errors import Problem, ScenarioError, shown
from planner.scenario.fields import Q, Strict
from planner.scenario.loader import read_study_file

__all__ = [
    "DEFAULT_RESULTS_DIR",
    "MAX_CASES",
    "PLAN_DIMS",
    "Sweep",
    "SweepSolver",
    "coordinate_values",
    "load_sweep",
    "override_text",
    "sweep_input_hash",
    "value_text",
]

MAX_CASES = 10_000
"""Most cases one sweep may expand to (grid combinations plus one-at-a-time cases)."""

PATH_PATTERN = r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$"
SWEEP_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"

#: Where a sweep's saved parts and combined results go unless told otherwise.
DEFAULT_RESULTS_DIR = Path("results") / "sweeps"

PLAN_DIMS = frozenset(
    {
        "year",
        "site",
        "region",
        "hub",
        "workload",
        "accelerator",
        "cooling",
        "day",
        "hour",
        "ppa",
        "component",
        "limit",
        "calendar_month",
        "tou_period_name",
        "basis",
        "asset",
        "case",
    }
)
"""Dimension names of a plan's Dataset (and ``case``); a swept path may not take one of them."""

DottedPath = Annotated[str, StringConstraints(pattern=PATH_PATTERN, max_length=300)]
"""A dotted scenario path such as ``power.grid.tariff.scale`` (parts: letters, digits, ``_``)."""


def _single_value(value: Any) -> Any:
    """A swept value is one YAML scalar: a number, a string (maybe with a unit), true/false or null."""
    if isinstance(value, dict | list | tuple):
        kind = "a mapping" if isinstance(value, dict) else "a list"
        raise ValueError(
            f"a swept value must be a single value (a number, a string such as '0.5 CNY/kWh', true/false or"
            f" null), got {kind} {shown(value)}; sweep a year-indexed value through its year"
            " (policy.pue_max.2030) or its scale field"
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"a swept value must be finite, got {shown(value)}")
    if not isinstance(value, str | int | float | bool | type(None)):
        raise ValueError(f"a swept value must be a number, a string, true/false or null, got {shown(value)}")
    return value


SweepValue = Annotated[Any, AfterValidator(_single_value)]


def _low_high(value: Any) -> Any:
    """A one-at-a-time entry is ``[low, high]``: exactly two values."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError(f"expected [low, high], two values, got {shown(value)}")
    return value


class SweepSolver(Strict):
    """Solver settings for every case of a sweep (the base scenario's ``solver`` block otherwise)."""

    time_limit_s: Q("s", gt=0, le=7 * 86400) | None = None
    """Wall-clock limit of each case's MIP solve [s]; ``plan sweep --time-limit`` overrides it."""
    mip_gap: Q("", ge=0, le=1) | None = None
    """Relative MIP gap at which each case stops [-]."""


class Sweep(Strict):
    """A sweep: a base scenario, a full-factorial grid and/or a one-at-a-time (tornado) block."""

    name: Annotated[str, StringConstraints(pattern=SWEEP_NAME_PATTERN)]
    """Name of the sweep: its results are ``results/sweeps/<name>.nc`` and ``results/sweeps/<name>/``
    (letters, digits, ``_``, ``-``, ``.``; at most 64 characters)."""
    description: str = ""
    """Free text."""
    base: Path
    """The base scenario file, relative to the sweep file (made absolute when the file is loaded)."""
    grid: dict[DottedPath, Annotated[list[SweepValue], Field(min_length=1, max_length=1000)]] = Field(
        default_factory=dict
    )
    """Full factorial: dotted scenario path -> the values it takes; every combination is one case.
    The combined results have one dimension per path, named by the path, in this order."""
    one_at_a_time: dict[DottedPath, Annotated[tuple[SweepValue, SweepValue], BeforeValidator(_low_high)]] = Field(
        default_factory=dict
    )
    """Tornado: dotted scenario path -> ``[low, high]``; each value is one case with everything else
    at the base, and the base itself is one more case."""
    solver: SweepSolver = SweepSolver()
    """Solver overrides for every case (threads are always 1: the cases run side by side)."""
    shadow_prices: bool = True
    """Price the policy limits in every case (one extra LP per case)."""
    set: list[Annotated[str, StringConstraints(min_length=3, max_length=10_000)]] = Field(default_factory=list)
    """``a.b.c=value`` overrides applied to the base in every case, before the case's own values."""

    _source: Path | None = PrivateAttr(default=None)
    """The sweep file this spec was read from (set by :func:`load_sweep`)."""

    @property
    def source(self) -> Path | None:
        """The sweep file this spec was read from (None if built in code)."""
        return self._source

    @property
    def n_cases(self) -> int:
        """Number of cases: grid combinations, plus two per one-at-a-time path and the base."""
        n_grid = math.prod(len(v) for v in self.grid.values()) if self.grid else 0
        n_oat = 2 * len(self.one_at_a_time) + 1 if self.one_at_a_time else 0
        return n_grid + n_oat


def value_text(value: Any) -> str:
    """A swept value as YAML text that reads back as the same value (``1.0e+26``, ``'1.20'``, ``null``)."""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**9)
    if text.endswith("\n...\n"):
        text = text[: -len("\n...\n")]
    return text.strip()


def override_text(path: str, value: Any) -> str:
    """The ``--set`` override that gives ``path`` the value ``value``."""
    return f"{path}={value_text(value)}"


def coordinate_values(values: list[Any]) -> list[Any]:
    """The coordinate labels of a swept path's values in the combined results.

    Numbers stay numbers (``1.2``); if any value is not a number, every label is text: a string as
    written (``"0.5 CNY/kWh"``), anything else as YAML (``null``, ``true``, ``1000``).
    """
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return list(values)
    if all(isinstance(v, bool) for v in values):
        return list(values)
    return [v if isinstance(v, str) else value_text(v) for v in values]


def load_sweep(path: str | Path) -> Sweep:
    """Read and check a sweep file: its own keys and shapes, not yet the values of its cases.

    Raises
    ------
    ScenarioError
        Every problem found, each with its path in the sweep file (``grid.policy.pue_max``).
    """
    path = Path(path)
    source = str(path)
    spec, base = read_study_file(path, Sweep)
    problems = check_sweep(spec, written_base=base)
    if problems:
        raise ScenarioError(problems, source)
    spec._source = path
    return spec


def check_sweep(spec: Sweep, written_base: Any = None) -> list[Problem]:
    """Rules across keys of a sweep file that the field types cannot state."""
    problems: list[Problem] = []
    base = Path(spec.base)
    if not base.is_file():
        shown_base = written_base if isinstance(written_base, str) else str(base)
        problems.append(Problem("base", f"base scenario not found: {shown(shown_base)} (resolved to {base})"))
    if not spec.grid and not spec.one_at_a_time:
        problems.append(Problem("grid", "nothing to sweep: give a 'grid' and/or a 'one_at_a_time' block"))
    for section, paths in (("grid", spec.grid), ("one_at_a_time", spec.one_at_a_time)):
        for p in paths:
            if p in PLAN_DIMS:
                problems.append(
                    Problem(f"{section}.{p}", f"{p!r} names a dimension of the results; it cannot be swept")
                )
    for p, values in spec.grid.items():
        labels = coordinate_values(list(values))
        seen: dict[Any, int] = {}
        for i, label in enumerate(labels):
            if label in seen:
                problems.append(
                    Problem(
                        f"grid.{p}",
                        f"value {value_text(values[i])} (item {i}) repeats item {seen[label]};"
                        " each value of a grid path must be different",
                    )
                )
            else:
                seen[label] = i
    for p, (low, high) in spec.one_at_a_time.items():
        labels = coordinate_values([low, high])
        if labels[0] == labels[1]:
            problems.append(Problem(f"one_at_a_time.{p}", f"low and high are the same ({value_text(low)})"))
    set_paths: dict[str, int] = {}
    for i, text in enumerate(spec.set):
        key = text.split("=", 1)[0].strip() if "=" in text else None
        if key is None:
            problems.append(
                Problem(f"set[{i}]", f"expected KEY.PATH=VALUE, e.g. time.representative_days=6 (got {shown(text)})")
            )
        elif not re.fullmatch(PATH_PATTERN, key):
            problems.append(Problem(f"set[{i}]", f"the key path {shown(key)} is not a dotted path like a.b.c"))
        else:
            set_paths[key] = i
    for section, paths in (("grid", spec.grid), ("one_at_a_time", spec.one_at_a_time)):
        for p in paths:
            if p in set_paths:
                problems.append(
                    Problem(f"{section}.{p}", f"also fixed by set[{set_paths[p]}]; sweep it or set it, not both")
                )
    if spec.n_cases > MAX_CASES:
        problems.append(Problem("grid", f"the sweep expands to {spec.n_cases:,} cases; at most {MAX_CASES:,}"))
    return problems


def sweep_input_hash(spec: Sweep, base: Any = None) -> str:
    """SHA-256 (16 hex digits) of a sweep as resolved (its cases) and of its base's :func:`input_hash`."""
    base = base if base is not None else load_scenario(spec.base)
    text = json.dumps({"sweep": spec.model_dump(mode="json"), "base": input_hash(base)}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
