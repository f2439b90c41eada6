"""The Inputs section of a plan report: the resolved scenario (``attrs["scenario_yaml"]``), legible.

* file paths are shown relative to the folder of the scenario file (``attrs["scenario_source"]``)
  when they lie in it or below; any other path by its file name, its full path kept for a tooltip;
* numbers are shown as :func:`planner.report.format.value_label` writes them (``800,000``, ``0.05``,
  no trailing ``.0``); amounts of money (a key with ``_cny`` in it) of a million or more in
  ``M CNY`` or ``bn CNY`` (``60 bn CNY``).

The YAML shown beside the table is the same scenario written again with those paths and with
whole numbers written as integers: still valid for the scenario's folder, since the loader reads a
relative profile path from there.
"""

from __future__ import annotations

import os
from pathlib import PurePath
from typing import Any, NamedTuple

import xarray as xr
import yaml

from planner.report.data import scenario_data
from planner.report.format import value_label

__all__ = ["InputRow", "input_rows", "input_value", "inputs_yaml", "path_text", "scenario_home"]


class InputRow(NamedTuple):
    """One input of the scenario: its dotted path, its value as shown and, for a path, the full path."""

    key: str
    value: str
    full: str = ""  #: the full path (a tooltip) when ``value`` is a path shortened; else ""


def scenario_home(ds: xr.Dataset) -> PurePath | None:
    """The folder of the scenario file the plan was made from (None when not recorded)."""
    source = str(ds.attrs.get("scenario_source") or "")
    return PurePath(os.path.normpath(source)).parent if source else None


def _is_path(value: Any) -> bool:
    return isinstance(value, str) and "\n" not in value and os.path.isabs(value)


def path_text(value: str, home: PurePath | None) -> tuple[str, str]:
    """(shown, full): ``profiles/x.csv`` and "" under ``home``; else the file name and the full path."""
    path = PurePath(os.path.normpath(value))
    if home is not None and path.is_relative_to(home):
        return path.relative_to(home).as_posix(), ""
    return path.name or str(path), str(value)


def _is_money(key: str) -> bool:
    return any("_cny" in part for part in key.split("."))


def input_value(key: str, value: Any) -> str:
    """A scalar input as shown: ``true``, ``null``, ``1,000``, ``0.05``, ``60 bn CNY`` (money keys only), text."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if _is_money(key) and abs(value) >= 1e6:
            scale, unit = (1e9, "bn") if abs(value) >= 1e9 else (1e6, "M")
            return f"{value_label(str(round(value / scale, 6)))} {unit} CNY"
        return value_label(str(value))
    return str(value)


def _rows(node: Any, prefix: str, home: PurePath | None) -> list[InputRow]:
    rows: list[InputRow] = []
    if isinstance(node, dict):
        if not node and prefix:
            rows.append(InputRow(prefix, "{}"))
        for key, value in node.items():
            rows.extend(_rows(value, f"{prefix}.{key}" if prefix else str(key), home))
    elif isinstance(node, list) and any(isinstance(v, dict | list) for v in node):
        for i, value in enumerate(node):
            rows.extend(_rows(value, f"{prefix}[{i}]", home))
    elif isinstance(node, list):
        rows.append(InputRow(prefix, ", ".join(input_value(prefix, v) for v in node)))
    elif _is_path(node):
        rows.append(InputRow(prefix, *path_text(node, home)))
    else:
        rows.append(InputRow(prefix, input_value(prefix, node)))
    return rows


def input_rows(ds: xr.Dataset) -> list[InputRow]:
    """Every input of the plan's scenario: ``{"a": {"b": 1}}`` -> ``[InputRow("a.b", "1")]``.

    Lists of scalars are joined, lists of mappings indexed (``a[0].b``).
    """
    return _rows(scenario_data(ds), "", scenario_home(ds))


def _tidy(node: Any, home: PurePath | None) -> Any:
    if isinstance(node, dict):
        return {key: _tidy(value, home) for key, value in node.items()}
    if isinstance(node, list):
        return [_tidy(value, home) for value in node]
    if isinstance(node, float) and node.is_integer() and abs(node) < 1e15:
        return int(node)
    if _is_path(node):
        shown, full = path_text(node, home)
        return full or shown  # a path outside the scenario's folder stays whole: it is needed to read it
    return node


def inputs_yaml(ds: xr.Dataset) -> str:
    """The scenario as YAML, paths under its folder relative and whole numbers as integers."""
    data = scenario_data(ds)
    if not data:
        return str(ds.attrs.get("scenario_yaml", ""))
    return yaml.safe_dump(_tidy(data, scenario_home(ds)), sort_keys=False, allow_unicode=True, width=100)
