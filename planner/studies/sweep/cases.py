"""The cases of a sweep: expanding a sweep file into cases, their ids, and checking every case before a solve.

**Cases and ids.** :func:`expand` turns the ``grid`` into every combination (in the file's order,
the last path varying fastest) and the ``one_at_a_time`` block into a ``<path>=low`` and a
``<path>=high`` case per path plus one ``base`` case. A case is the list of ``--set`` overrides
applied to the base scenario: the sweep's ``set`` list, then its own values. Its id is the first
10 hex digits of the SHA-256 of those overrides, sorted and joined by newlines, each written as
``path=<YAML text of the value>`` (:func:`case_id`): the same case has the same id in every run, on
every machine, whatever else the sweep holds; two cases that apply the same overrides share an id
and are solved once.

**Fingerprints.** What a case's result depends on (:func:`fingerprint`): the resolved scenario with
its profile file, the solver options every case gets (:func:`case_options`) and the planner
version; with warm starts also the fingerprint of the basis its LP relaxation starts from
(:func:`warm_fingerprint`, :func:`planner.studies.sweep.run.warm_fingerprints`) and, for a case that
tries its anchor's plan first, the anchor's own (:func:`plan_fingerprint`). A saved case is
reused only for the same fingerprint.

**Validation.** :func:`validate_cases` loads the base and every case through the scenario loader
before anything is solved, and reports every problem at once with its place in the sweep file
(``grid.policy.pue_mx: unknown key 'pue_mx'; did you mean 'pue_max'?``).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from planner import __version__
from planner.model.size import check_size
from planner.model.update import structure_key
from planner.scenario import Problem, ScenarioError, input_hash, load_scenario
from planner.scenario.sweep import Sweep, coordinate_values, override_text, value_text

__all__ = [
    "Case",
    "SweepError",
    "case_id",
    "case_options",
    "expand",
    "fingerprint",
    "validate_cases",
    "plan_fingerprint",
    "warm_fingerprint",
]

ID_LENGTH = 10
MAX_PROBLEMS = 100


class SweepError(RuntimeError):
    """A sweep could not run (e.g. another run of the same sweep holds its results folder)."""


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """One scenario of a sweep: the base with some overrides."""

    id: str
    """Short hash of the sorted overrides (see :func:`case_id`)."""
    kind: str
    """``grid`` or ``oat`` (one at a time)."""
    params: tuple[tuple[str, Any], ...]
    """The case's own (path, value) pairs: the swept values it takes."""
    overrides: tuple[str, ...]
    """Everything applied to the base, in order: the sweep's ``set`` list, then the case's values."""
    label: str
    """``path=value, ...`` for a grid case; ``<path>=low``, ``<path>=high`` or ``base`` for a tornado case."""
    coords: tuple[tuple[str, Any], ...]
    """Coordinates in the combined Dataset: (swept path, value label) per path, or (``case``, label)."""
    index: tuple[int, ...] = ()
    """Grid cases: the position of each value in its list."""
    side: str = ""
    """Tornado cases: ``low``, ``high`` or ``base``."""

    @property
    def coordinates(self) -> dict[str, Any]:
        """The case's coordinates as a dict."""
        return dict(self.coords)


def case_id(overrides: Sequence[str]) -> str:
    """The id of the case that applies ``overrides`` to the base: 10 hex digits of SHA-256 of them, sorted.

    >>> case_id(["policy.pue_max=1.2", "power.grid.tariff.scale=0.8"])
    '74bfa7d90e'
    """
    text = "\n".join(sorted(str(o) for o in overrides))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:ID_LENGTH]


def _grid_cases(spec: Sweep) -> list[Case]:
    """Every combination of the grid's values, the last path varying fastest."""
    paths = list(spec.grid)
    labels = {p: coordinate_values(list(v)) for p, v in spec.grid.items()}
    cases: list[Case] = []
    for index in itertools.product(*(range(len(spec.grid[p])) for p in paths)):
        params = tuple((p, spec.grid[p][i]) for p, i in zip(paths, index, strict=True))
        overrides = (*spec.set, *(override_text(p, v) for p, v in params))
        cases.append(
            Case(
                id=case_id(overrides),
                kind="grid",
                params=params,
                overrides=overrides,
                label=", ".join(f"{p}={value_text(v)}" for p, v in params),
                coords=tuple((p, labels[p][i]) for p, i in zip(paths, index, strict=True)),
                index=index,
            )
        )
    return cases


def _oat_cases(spec: Sweep) -> list[Case]:
    """The tornado: ``base`` first, then ``<path>=low`` and ``<path>=high`` per path."""
    base = tuple(spec.set)
    cases = [Case(case_id(base), "oat", (), base, "base", (("case", "base"),), side="base")]
    for p, (low, high) in spec.one_at_a_time.items():
        for side, value in (("low", low), ("high", high)):
            overrides = (*spec.set, override_text(p, value))
            label = f"{p}={side}"
            cases.append(
                Case(case_id(overrides), "oat", ((p, value),), overrides, label, (("case", label),), side=side)
            )
    return cases


def expand(spec: Sweep) -> list[Case]:
    """Every case of a sweep, grid cases first (the last grid path varying fastest), then the tornado.

    The tornado block gives ``base`` first, then ``<path>=low`` and ``<path>=high`` per path.
    """
    cases: list[Case] = []
    if spec.grid:
        cases += _grid_cases(spec)
    if spec.one_at_a_time:
        cases += _oat_cases(spec)
    by_id: dict[str, tuple[str, ...]] = {}
    for case in cases:
        other = by_id.setdefault(case.id, tuple(sorted(case.overrides)))
        if other != tuple(sorted(case.overrides)):  # pragma: no cover - a 40-bit collision
            raise SweepError(f"two different cases share the id {case.id}; rename a value")
    return cases


# --------------------------------------------------------------------------- options and fingerprints


def case_options(spec: Sweep, time_limit: float | None = None, mip_gap: float | None = None) -> dict[str, Any]:
    """The solver options every case gets (``None``: the scenario's own).

    One core per case: HiGHS on one thread, and the rounding dive before it on the same core
    (``concurrent_dive`` False), which also skips the MIP when the dive's plan is within the gap.
    A case's result thus never depends on the number of workers beside it. ``warm_start``: the
    LP relaxation of each case starts from that of the first case of the same model structure
    (see :func:`planner.studies.sweep.run_sweep`).
    """
    return {
        "time_limit_s": float(time_limit) if time_limit is not None else spec.solver.time_limit_s,
        "mip_gap": float(mip_gap) if mip_gap is not None else spec.solver.mip_gap,
        "threads": 1,
        "concurrent_dive": False,
        "warm_start": True,
        "shadow_prices": bool(spec.shadow_prices),
    }


def fingerprint(scenario: Any, options: Mapping[str, Any]) -> str:
    """What a case's result depends on: the resolved scenario and its profiles, the options, the planner."""
    text = json.dumps(
        {"inputs": input_hash(scenario), "options": dict(options), "planner": __version__}, sort_keys=True
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def warm_fingerprint(own: str, first: str) -> str:
    """Fingerprint of a case (or basis) warm-started from a basis of fingerprint ``first``: it depends on both."""
    return hashlib.sha256(f"{own} warm from {first}".encode()).hexdigest()


def plan_fingerprint(own: str, anchor: str) -> str:
    """Fingerprint of a case that tries the plan of an anchor of fingerprint ``anchor`` first: it depends on both."""
    return hashlib.sha256(f"{own} from the plan of {anchor}".encode()).hexdigest()


# --------------------------------------------------------------------------- validation


def _load_problems(base: Path, overrides: Sequence[str]) -> list[Problem]:
    try:
        load_scenario(base, overrides)
    except ScenarioError as exc:
        return exc.problems
    return []


def _problem_text(problem: Problem, path: str) -> str:
    """A scenario problem about an override of ``path``, without repeating the path."""
    where = problem.path.removeprefix("--set ").strip()
    return problem.message if where in ("", path) else f"{where}: {problem.message}"


def _value_problems(where: str, path: str, names: list[str], found: list[list[Problem]]) -> list[Problem]:
    """Problems of each value of one swept path; said once if every value has the same ones."""
    texts = [[_problem_text(p, path) for p in problems] for problems in found]
    if len(texts) > 1 and all(texts) and all(sorted(t) == sorted(texts[0]) for t in texts):
        return [Problem(where, t) for t in texts[0]]
    return [Problem(where, f"{name}: {t}") for name, ts in zip(names, texts, strict=True) for t in ts]


def _raise(problems: list[Problem], source: str) -> NoReturn:
    unique = list(dict.fromkeys(problems))
    if len(unique) > MAX_PROBLEMS:
        more = len(unique) - MAX_PROBLEMS
        unique = [*unique[:MAX_PROBLEMS], Problem("", f"... and {more} more problems")]
    raise ScenarioError(unique, source)


def _set_problems(spec: Sweep, base: Path) -> list[Problem]:
    """Problems of the sweep's ``set`` list: each item alone, then (if they pass) all together."""
    problems: list[Problem] = []
    for i, text in enumerate(spec.set):
        problems += [Problem(f"set[{i}]", str(p).removeprefix("--set ")) for p in _load_problems(base, [text])]
    if not problems and len(spec.set) > 1:
        problems += [Problem("set", str(p).removeprefix("--set ")) for p in _load_problems(base, spec.set)]
    return problems


def _swept_value_problems(spec: Sweep, base: Path) -> list[Problem]:
    """Problems of each swept value alone on top of ``set``, named by its place in the sweep file."""
    problems: list[Problem] = []
    for path, values in spec.grid.items():
        names = [f"value {value_text(v)} (item {i})" for i, v in enumerate(values)]
        found = [_load_problems(base, [*spec.set, override_text(path, v)]) for v in values]
        problems += _value_problems(f"grid.{path}", path, names, found)
    for path, (low, high) in spec.one_at_a_time.items():
        names = [f"low value {value_text(low)}", f"high value {value_text(high)}"]
        found = [_load_problems(base, [*spec.set, override_text(path, v)]) for v in (low, high)]
        problems += _value_problems(f"one_at_a_time.{path}", path, names, found)
    return problems


def validate_cases(
    spec: Sweep,
    cases: Sequence[Case] | None = None,
    options: Mapping[str, Any] | None = None,
    structures: dict[str, str] | None = None,
) -> dict[str, str]:
    """Load the base and every case through the scenario loader, without solving anything.

    The base file is loaded first, then every case. If a case fails, the problems are traced to
    their place in the sweep file: each ``set`` item alone and all together, then each swept value
    alone on top of ``set`` (``grid.policy.pue_max: value 0.9 (item 1): must be >= 1``); problems
    that only a combination of values has (cross-field rules) are reported with the case's label.

    If ``structures`` is given, it is filled with case id -> the structure of its model
    (:func:`planner.model.update.structure_key`): cases with the same structure share a model.

    Returns
    -------
    dict
        Case id -> fingerprint of its inputs (see :func:`fingerprint`).

    Raises
    ------
    ScenarioError
        Every problem found, each with its place in the sweep file.
    """
    cases = list(cases) if cases is not None else expand(spec)
    options = dict(options) if options is not None else case_options(spec)
    source = str(spec.source or spec.base)
    base = Path(spec.base)
    problems = [Problem("base", f"{base}: {p}") for p in _load_problems(base, [])]
    if problems:
        _raise(problems, source)
    fingerprints: dict[str, str] = {}
    case_problems: list[Problem] = []
    for case in cases:
        if case.id in fingerprints:
            continue
        try:
            scenario = load_scenario(base, case.overrides)
            check_size(scenario, source)  # a case too large to build is refused before any solve
        except ScenarioError as exc:
            section = "grid" if case.kind == "grid" else "one_at_a_time"
            where = f"{section} case {case.label}"
            case_problems += [Problem(where, str(p).removeprefix("--set ")) for p in exc.problems]
            continue
        fingerprints[case.id] = fingerprint(scenario, options)
        if structures is not None:
            structures[case.id] = structure_key(scenario)
    if not case_problems:
        return fingerprints
    problems = _set_problems(spec, base)
    if problems:
        _raise(problems, source)
    _raise(_swept_value_problems(spec, base) or case_problems, source)
