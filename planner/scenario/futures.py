"""The futures-file schema (``inputs/futures/*.yaml``): a base scenario, the futures it may meet, and
how far the plan commits now (DESIGN.md §9).

>>> from planner.scenario.futures import load_futures
>>> spec = load_futures("inputs/futures/tianfu.yaml")   # doctest: +SKIP

A futures file holds::

    name: tianfu                      # names the results: results/futures/<name>.nc and <name>/
    base: ../2030.yaml                # the scenario every future starts from (relative to this file)
    commit_until: 2027                # the last year whose builds and contracts all futures share
    set: ["time.representative_days=6"]  # optional: overrides of the base in every future
    risk: {cvar_alpha: 0.9, weight: 0.5}  # optional: minimise E[NPV] + weight * CVaR_alpha[NPV]
    solver: {time_limit_s: 1800, mip_gap: 0.01}
    method: extensive                 # or ph: progressive hedging (mpi-sppy), with its settings in ph:
    ph: {iteration_limit: 50, convergence: 1.0e-4, rho_factor: 1.0}
    futures:
      - name: imports_cut
        probability: 0.3
        source: planner's judgement after the 2026-01 customs notice (domain-data §9)
        overrides:                    # the sweep's dotted paths: scalars, scale fields, one year each
          accelerators.h200.max_new_per_year.2028: 0
          demand.inference.scale: 1.3

Paths are the scenario's dotted YAML paths, exactly as ``plan solve --set`` and a sweep's grid take
them. A future is the base with ``set`` and then its own overrides applied. Probabilities are
finite shares in [0, 1] that sum to 1 (within :data:`PROBABILITY_TOL`).

:func:`load_futures` checks everything before anything is solved, and reports every problem at once
with its place in the file: the file's own shape, then every future loaded through the scenario
loader (``futures[1].overrides.policy.pue_mx: unknown key 'pue_mx'; did you mean 'pue_max'?``), and
``commit_until`` against the base's planning years.

**The mean-value future** (:func:`mean_value_overrides`, the classic "expected value problem" whose
plan the value of the stochastic solution is measured against): every path that some future
overrides takes the probability-weighted mean of its value in each future, a future that does not
override it counting with the base's value (the validated base with ``set``: defaults filled in, units
converted; a year of a year map that the base does not list: the base's map interpolated linearly; a year
of a scalar: the scalar), or with the file's ``neutral`` value for the path where it gives one. A path
whose value is not a plain number in some future (a string such as ``"0.45 CNY/kWh"``, true/false, null,
or a base without a value there) takes the value of the most probable future instead (the first listed on a tie), and
the notes say so. Whole units that a mean makes fractional (a purchase cap of 400.5) are kept as the
mean: the scenario schema rounds or refuses them like any other value.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, StringConstraints

from planner.scenario import Scenario, ScenarioError, input_hash, load_scenario
from planner.scenario.errors import Problem, shown
from planner.scenario.fields import Int, Q, Strict
from planner.scenario.loader import read_study_file
from planner.scenario.sweep import DottedPath, SweepSolver, SweepValue, override_text, value_text

__all__ = [
    "DEFAULT_RESULTS_DIR",
    "MAX_FUTURES",
    "MEAN_VALUE",
    "PROBABILITY_TOL",
    "Future",
    "Futures",
    "ProgressiveHedging",
    "Risk",
    "future_overrides",
    "futures_input_hash",
    "is_futures_data",
    "load_futures",
    "mean_value_overrides",
]

MAX_FUTURES = 64
"""Most futures one file may hold (the extensive form grows with each)."""

PROBABILITY_TOL = 1e-6
"""How far the probabilities may sum away from 1 [-]."""

MEAN_VALUE = "mean_value"
"""Name of the mean-value future (a future may not take it)."""

FUTURE_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,39}$"
FILE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"

#: Where a futures file's parts and combined results go unless told otherwise.
DEFAULT_RESULTS_DIR = Path("results") / "futures"


class Risk(Strict):
    """Risk aversion: minimise ``E[NPV] + weight * CVaR_alpha[NPV]`` instead of ``E[NPV]``."""

    cvar_alpha: Q("", ge=0, lt=1)
    """Confidence level of the conditional value at risk [-]: CVaR_0.9 is the mean NPV of the worst 10 %
    of probability."""
    weight: Q("", ge=0, le=100)
    """Weight of the CVaR beside the expected NPV [-] (0: risk-neutral)."""


class ProgressiveHedging(Strict):
    """Settings of progressive hedging (``method: ph``; docs/futures.md, "Decomposition")."""

    iteration_limit: Int = Field(default=50, ge=1, le=1000)
    """Most PH iterations after the first (independent) solve of every future [-]."""
    convergence: Q("", gt=0, le=1e6) = 1e-4
    """PH stops when its convergence metric (the mean over futures and first-stage decisions of
    ``|x_f - xbar|``, mpi-sppy's ``convthresh``) falls below this [unit of the decisions]."""
    rho_factor: Q("", gt=0, le=1e6) = 1.0
    """Penalty of each first-stage decision: ``rho_j = rho_factor * |c_j|``, its cost coefficient in the
    objective [MCNY per unit] (a decision without a cost takes the median of the others') [-]."""


class Future(Strict):
    """One future: a probability and the overrides that make it from the base."""

    name: Annotated[str, StringConstraints(pattern=FUTURE_NAME_PATTERN)]
    """Name of the future (letters, digits, ``_``; starts with a letter; at most 40 characters)."""
    probability: Q("", ge=0, le=1)
    """Probability of the future [-]; the probabilities of a file sum to 1."""
    description: str = ""
    """What the future is, in words."""
    source: str = ""
    """Where its probability and values come from (a source, or "planner's judgement")."""
    overrides: dict[DottedPath, SweepValue] = Field(default_factory=dict)
    """Dotted scenario path -> value, applied to the base after the file's ``set`` list (as
    ``plan solve --set``: one year of a year-indexed value is ``path.<year>``, a scale field scales a
    series)."""


class Futures(Strict):
    """A futures file: a base scenario, its futures and the commitment year."""

    name: Annotated[str, StringConstraints(pattern=FILE_NAME_PATTERN)]
    """Name of the study: results go to ``results/futures/<name>.nc`` and ``results/futures/<name>/``."""
    description: str = ""
    """Free text."""
    base: Path
    """The base scenario file, relative to the futures file (made absolute when the file is loaded)."""
    commit_until: Int
    """The last planning year whose build and contract decisions are shared by every future (decided
    now); later years' decisions and all operation are each future's own [year]."""
    futures: Annotated[list[Future], Field(min_length=1, max_length=MAX_FUTURES)]
    """The futures, each with a probability and overrides."""
    set: list[Annotated[str, StringConstraints(min_length=3, max_length=10_000)]] = Field(default_factory=list)
    """``a.b.c=value`` overrides applied to the base in every future, before the future's own."""
    risk: Risk | None = None
    """Optional risk aversion (CVaR of the NPV over the futures)."""
    solver: SweepSolver = SweepSolver()
    """Solver overrides for every solve of the study."""
    method: Literal["extensive", "ph"] = "extensive"
    """How the hedged plan is found: ``extensive`` (every future in one MIP, solved by HiGHS) or ``ph``
    (progressive hedging on mpi-sppy, one future at a time, its consensus evaluated in every future)."""
    ph: ProgressiveHedging = ProgressiveHedging()
    """Settings of progressive hedging (read with ``method: ph`` only)."""
    sources: dict[str, str] = Field(default_factory=dict)
    """Free-form sources of the futures' numbers (key -> citation)."""
    neutral: dict[DottedPath, SweepValue] = Field(default_factory=dict)
    """For the mean-value future: the value a future that does not override a path has there, where the
    base has none (an unlisted month of ``power.ppa.<k>.hydrology`` is 1, but the base holds no entry)."""

    _source: Path | None = PrivateAttr(default=None)

    @property
    def source(self) -> Path | None:
        """The futures file this spec was read from (None if built in code)."""
        return self._source

    @property
    def names(self) -> list[str]:
        """The futures' names, in the file's order."""
        return [f.name for f in self.futures]

    @property
    def probabilities(self) -> list[float]:
        """The futures' probabilities, in the file's order [-]."""
        return [float(f.probability) for f in self.futures]


def future_overrides(spec: Futures, future: Future) -> list[str]:
    """Everything a future applies to the base, in order: the file's ``set`` list, then its own values."""
    return [*spec.set, *(override_text(p, v) for p, v in future.overrides.items())]


def is_futures_data(data: Any) -> bool:
    """A YAML mapping with a top-level ``base`` and ``futures``: a futures file, not a scenario or sweep."""
    return isinstance(data, dict) and "base" in data and "futures" in data


def load_futures(path: str | Path, check_futures: bool = True) -> Futures:
    """Read and check a futures file: its shape, its probabilities, and (``check_futures``) every future's
    scenario and the commitment year against the base's years.

    Raises
    ------
    ScenarioError
        Every problem found, each with its path in the futures file (``futures[1].probability``).
    """
    path = Path(path)
    source = str(path)
    spec, base = read_study_file(path, Futures)
    problems = _check_shape(spec, written_base=base)
    if not problems and check_futures:
        problems = _check_scenarios(spec)
    if problems:
        raise ScenarioError(problems, source)
    spec._source = path
    return spec


def _check_shape(spec: Futures, written_base: Any = None) -> list[Problem]:
    """Rules across keys of a futures file that the field types cannot state."""
    problems: list[Problem] = []
    if not Path(spec.base).is_file():
        shown_base = written_base if isinstance(written_base, str) else str(spec.base)
        problems.append(Problem("base", f"base scenario not found: {shown(shown_base)} (resolved to {spec.base})"))
    total = math.fsum(spec.probabilities)
    if abs(total - 1.0) > PROBABILITY_TOL:
        listed = " + ".join(f"{p:g}" for p in spec.probabilities)
        problems.append(Problem("futures", f"the probabilities must sum to 1, they sum to {total:.6g} ({listed})"))
    seen: dict[str, int] = {}
    for i, future in enumerate(spec.futures):
        if future.name == MEAN_VALUE:
            problems.append(
                Problem(f"futures[{i}].name", f"{MEAN_VALUE!r} names the mean-value future; choose another")
            )
        if future.name in seen:
            problems.append(
                Problem(
                    f"futures[{i}].name", f"{future.name!r} repeats futures[{seen[future.name]}]; names must differ"
                )
            )
        else:
            seen[future.name] = i
    set_paths = {text.split("=", 1)[0].strip(): i for i, text in enumerate(spec.set) if "=" in text}
    for i, text in enumerate(spec.set):
        if "=" not in text:
            problems.append(Problem(f"set[{i}]", f"expected KEY.PATH=VALUE (got {shown(text)})"))
    for i, future in enumerate(spec.futures):
        for p in future.overrides:
            if p in set_paths:
                problems.append(
                    Problem(f"futures[{i}].overrides.{p}", f"also fixed by set[{set_paths[p]}]; set it in one place")
                )
    if spec.method == "ph" and spec.risk is not None and spec.risk.weight > 0:
        problems.append(
            Problem(
                "method",
                "progressive hedging (ph) minimises the expected NPV only; with a risk block use method: extensive",
            )
        )
    if spec.risk is not None and spec.risk.weight > 0 and len(spec.futures) == 1:
        problems.append(Problem("risk", "a CVaR over a single future is its NPV; give two futures or no risk block"))
    return problems


def _load_problems(base: Path, overrides: list[str]) -> list[Problem]:
    try:
        load_scenario(base, overrides)
    except ScenarioError as exc:
        return exc.problems
    return []


def _check_scenarios(spec: Futures) -> list[Problem]:
    """Load the base, the ``set`` list and every future through the scenario loader; check ``commit_until``."""
    base = Path(spec.base)
    try:
        scenario = load_scenario(base, [])
    except ScenarioError as exc:
        return [Problem("base", f"{base}: {p}") for p in exc.problems]
    problems: list[Problem] = []
    for i, text in enumerate(spec.set):
        problems += [Problem(f"set[{i}]", str(p).removeprefix("--set ")) for p in _load_problems(base, [text])]
    if problems:
        return problems
    if spec.set:
        try:
            scenario = load_scenario(base, spec.set)
        except ScenarioError as exc:
            return [Problem("set", str(p).removeprefix("--set ")) for p in exc.problems]
    years = list(scenario.years)
    if not years[0] <= spec.commit_until <= years[-1]:
        problems.append(
            Problem(
                "commit_until",
                f"{spec.commit_until} is not a planning year of the base ({years[0]}-{years[-1]}); the commitment"
                " covers the years from the first to this one",
            )
        )
    for i, future in enumerate(spec.futures):
        where = f"futures[{i}].overrides"
        found = _load_problems(base, future_overrides(spec, future))
        for problem in found:
            at = problem.path.removeprefix("--set ").strip()
            problems.append(Problem(f"{where}.{at}" if at else f"futures[{i}]", problem.message))
    return list(dict.fromkeys(problems))


# --------------------------------------------------------------------------- the mean-value future


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _base_value(data: Any, parts: list[str]) -> Any:
    """The value at a dotted path of resolved base data (None if it has none); a year of a year map the
    map does not list is interpolated linearly between its neighbours, a year of a scalar is the scalar.
    """
    node = data
    for i, part in enumerate(parts):
        if isinstance(node, dict):
            key: Any = part
            if part not in node and part.isdigit() and int(part) in node:
                key = int(part)
            if key in node:
                node = node[key]
                continue
            years = {int(k): v for k, v in node.items() if str(k).isdigit()}
            if part.isdigit() and years and i == len(parts) - 1 and all(_is_number(v) for v in years.values()):
                y = int(part)
                if y < min(years) or y > max(years):
                    return None
                below = max(k for k in years if k <= y)
                above = min(k for k in years if k >= y)
                if below == above:
                    return years[below]
                t = (y - below) / (above - below)
                return years[below] + t * (years[above] - years[below])
            return None
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            continue
        if _is_number(node) and part.isdigit() and i == len(parts) - 1:
            return node  # a year of a scalar series
        return None
    return node


def mean_value_overrides(spec: Futures) -> tuple[list[str], list[str]]:
    """The overrides of the mean-value future (see the module docstring) and notes on paths that are no
    plain number (each says which future's value was taken).
    """
    data = load_scenario(spec.base, spec.set).model_dump(mode="json")  # defaults filled, units canonical
    paths = list(dict.fromkeys(p for f in spec.futures for p in f.overrides))
    order = sorted(range(len(spec.futures)), key=lambda i: -spec.futures[i].probability)
    likeliest = spec.futures[order[0]]
    overrides = list(spec.set)
    notes: list[str] = []
    for path in paths:
        base_value = spec.neutral[path] if path in spec.neutral else _base_value(data, path.split("."))
        values: list[Any] = [f.overrides.get(path, base_value) for f in spec.futures]
        if all(_is_number(v) for v in values):
            mean = math.fsum(p * float(v) for p, v in zip(spec.probabilities, values, strict=True))
            if all(isinstance(v, int) for v in values) and float(mean).is_integer():
                mean = int(mean)
            overrides.append(override_text(path, mean))
        else:
            value = likeliest.overrides.get(path, base_value)
            notes.append(
                f"{path}: not a number in every future; the most probable future's value is taken"
                f" ({likeliest.name}: {value_text(value)})"
            )
            if path in likeliest.overrides:
                overrides.append(override_text(path, value))
    return overrides, notes


def futures_input_hash(spec: Futures, base: Scenario | None = None) -> str:
    """SHA-256 (16 hex digits) of a futures file as resolved and of its base's :func:`input_hash`."""
    base = base if base is not None else load_scenario(spec.base)
    text = json.dumps({"futures": spec.model_dump(mode="json"), "base": input_hash(base)}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
