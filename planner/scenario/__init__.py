"""Scenario inputs: the strict schema, YAML loading with ``extends`` and ``--set``, and checks.

>>> from planner.scenario import load_scenario
>>> s = load_scenario("inputs/2030.yaml", ["policy.pue_max=1.2"])   # doctest: +SKIP

Everything after this package sees only the typed :class:`Scenario`, never a raw dict.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from planner.scenario.checks import cross_check, iter_series, site_column_values
from planner.scenario.errors import Problem, ScenarioError, shown
from planner.scenario.fields import YearSeries
from planner.scenario.loader import apply_overrides, resolve_extends, validation_problems
from planner.scenario.schema import Scenario
from planner.time.profiles import ProfileError, load_profiles_cached

__all__ = [
    "Problem",
    "Scenario",
    "ScenarioError",
    "YearSeries",
    "input_hash",
    "iter_series",
    "load_scenario",
    "scenario_files",
    "scenario_from_dict",
]


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """Read, merge (``extends``), override (``--set``) and validate a scenario file.

    Parameters
    ----------
    path : str | Path
        The scenario YAML.
    overrides : sequence of str
        ``a.b.c=value`` overrides, applied after merging, validated like the file.

    Returns
    -------
    Scenario
        The validated scenario, with ``time.profiles`` an absolute path.

    Raises
    ------
    ScenarioError
        Listing every problem found, each with its YAML path.
    """
    path = Path(path)
    data, chain = resolve_extends(path)
    data = apply_overrides(data, overrides)
    scenario = scenario_from_dict(data, source=str(path))
    scenario._files = tuple(chain)
    return scenario


def scenario_files(scenario: Scenario) -> tuple[Path, ...]:
    """The files a loaded scenario was merged from, the named file first (empty if built in code)."""
    return scenario._files


def scenario_from_dict(data: Mapping[str, Any], source: str | None = None, check_profiles: bool = True) -> Scenario:
    """Validate already-merged scenario data (e.g. built in a test) into a :class:`Scenario`.

    ``time.profiles`` should be an absolute path (or relative to the working directory).
    With ``check_profiles`` the profile CSV is read and checked, and the columns the scenario
    names must exist in it.
    """
    try:
        scenario = Scenario.model_validate(dict(data))
    except ValidationError as exc:
        raise ScenarioError(validation_problems(exc, Scenario), source) from None
    columns: list[str] | None = None
    problems: list[Problem] = []
    if check_profiles:
        try:
            frame = load_profiles_cached(scenario.time.profiles)
        except ProfileError as exc:
            path = scenario.time.profiles
            problems += [Problem("time.profiles", _profile_message(path, p)) for p in exc.problems]
        else:
            columns = [str(c) for c in frame.columns]
    problems += cross_check(scenario, columns)
    if columns is not None:
        problems += site_column_values(scenario, frame)
    if problems:
        raise ScenarioError(problems, source)
    return scenario


def _profile_message(path: Path, message: str) -> str:
    """A profile problem prefixed with the file's path once (the loader may have named it already)."""
    shown_path = str(path) if len(str(path)) <= 200 and str(path).isprintable() else shown(str(path))
    for form in _path_forms(path):
        if message.startswith(f"{form}: "):
            message = message[len(form) + 2 :]
            break
    return f"{shown_path}: {message}"


def _path_forms(path: Path) -> list[str]:
    forms = [str(path)]
    try:
        forms.append(str(Path(path).resolve()))
    except (OSError, ValueError, RuntimeError):
        pass
    return sorted(set(forms), key=len, reverse=True)


def input_hash(scenario: Scenario) -> str:
    """SHA-256 of the resolved scenario and the bytes of its profile file (first 16 hex digits)."""
    digest = hashlib.sha256()
    digest.update(json.dumps(scenario.model_dump(mode="json"), sort_keys=True).encode())
    profiles = Path(scenario.time.profiles)
    if profiles.is_file():
        digest.update(profiles.read_bytes())
    return digest.hexdigest()[:16]
