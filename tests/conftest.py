"""Shared fixtures of the scenario tests: the repository, the default scenario as data, writers."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from planner.pipeline import plan_scenario
from planner.scenario import load_scenario
from planner.solver.highs import SolveOptions

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_YAML = REPO_ROOT / "inputs" / "2030.yaml"
DEFAULT_PROFILES = REPO_ROOT / "inputs" / "profiles" / "chengdu.csv"

_DEFAULT_CACHE: dict[str, Any] = {}


@pytest.fixture(scope="session")
def default_plan() -> Any:
    """The shipped default (inputs/2030.yaml) solved to 0.5 %, once per test session (its residual
    checks and its report in a browser share it)."""
    # 1800 s: the default solves to 0.5 % in ~2 min on an idle 2-core machine; the margin keeps a busy CI green.
    run = plan_scenario(load_scenario(DEFAULT_YAML), SolveOptions(time_limit_s=1800, mip_gap=0.005))
    assert run.outcome.has_plan, (run.outcome.status, run.outcome.diagnosis)
    assert run.dataset is not None
    return run.dataset


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def load_default_yaml_data() -> dict[str, Any]:
    """A fresh copy of inputs/2030.yaml as a dict, with ``time.profiles`` an absolute path."""
    if "data" not in _DEFAULT_CACHE:
        data = yaml.safe_load(DEFAULT_YAML.read_text(encoding="utf-8"))
        profiles = Path(data["time"]["profiles"])
        if not profiles.is_absolute():
            profiles = (DEFAULT_YAML.parent / profiles).resolve()
        data["time"]["profiles"] = str(profiles)
        _DEFAULT_CACHE["data"] = data
    return copy.deepcopy(_DEFAULT_CACHE["data"])


def write_scenario(tmp_path: Path, data: Any, name: str = "scenario.yaml") -> Path:
    """Dump ``data`` as YAML into ``tmp_path / name`` and return the file's path.

    ``time.profiles`` is written as it is in ``data``; keep it absolute (as
    :func:`load_default_yaml_data` gives it) so that the file can live anywhere.
    """
    path = Path(tmp_path) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.dump(data, Dumper=_DUMPER, sort_keys=False, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def split_path(dotted: str) -> list[str | int]:
    """``"a.b[1].c"`` or ``"a.b.1.c"`` -> ``["a", "b", 1, "c"]`` (digits index lists, not year keys)."""
    parts: list[str | int] = []
    for name, index in _PART.findall(dotted):
        parts.append(int(index) if index else name)
    return parts


def _step(node: Any, part: str | int) -> Any:
    if isinstance(node, list):
        return node[int(part)]
    if part in node:
        return node[part]
    if isinstance(part, str) and part.isdigit() and int(part) in node:
        return node[int(part)]
    return node[part]


def _parent(data: Any, dotted: str) -> tuple[Any, str | int]:
    parts = split_path(dotted)
    node = data
    for part in parts[:-1]:
        node = _step(node, part)
    last = parts[-1]
    if isinstance(node, list):
        last = int(last)
    return node, last


def set_path(data: Any, dotted: str, value: Any) -> Any:
    """Set the value at a dotted path (creating nothing but the last key); return ``data``."""
    node, last = _parent(data, dotted)
    node[last] = value
    return data


def get_path(data: Any, dotted: str) -> Any:
    """The value at a dotted path."""
    node, last = _parent(data, dotted)
    return _step(node, last)


def delete_path(data: Any, dotted: str) -> Any:
    """Delete the key (or list item) at a dotted path; return ``data``."""
    node, last = _parent(data, dotted)
    del node[last]
    return data


def rename_key(data: Any, dotted: str, new_name: str) -> Any:
    """Rename the last key of a dotted path, keeping its value; return ``data``."""
    node, last = _parent(data, dotted)
    node[new_name] = node.pop(last)
    return data


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (holds ``inputs/`` and ``planner/``)."""
    return REPO_ROOT


@pytest.fixture
def default_yaml_data() -> dict[str, Any]:
    """The parsed default scenario (inputs/2030.yaml), ``time.profiles`` made absolute; a fresh copy."""
    return load_default_yaml_data()
