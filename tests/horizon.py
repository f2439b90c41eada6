"""A scenario planned over part of its horizon: its YAML data cut to some of its years.

Used to build small instances of the default for tests, and by ``benchmarks/scaling.py`` and
``benchmarks/price_check.py`` (which put this folder on their path) to plan part of the default. It
works on the raw YAML data (before validation), so the result goes through the loader's checks like
any scenario."""

from __future__ import annotations

import copy
import re
from typing import Any

import numpy as np

__all__ = ["restrict_years"]

_NUMBER_UNIT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")


def _number_unit(value: Any) -> tuple[float, str] | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value), ""
    match = _NUMBER_UNIT.match(str(value))
    return (float(match.group(1)), match.group(2)) if match else None


def _is_year_map(node: dict[Any, Any]) -> bool:
    keys = list(node)
    return bool(keys) and all(isinstance(k, int) and not isinstance(k, bool) and 1900 <= k <= 2200 for k in keys)


def _cut(node: Any, years: list[int]) -> Any:
    """Every ``{year: value}`` map replaced by its values interpolated onto ``years`` (in its unit);
    years before a map's first year are left out, as open-start (policy) maps allow.
    """
    if isinstance(node, dict):
        if _is_year_map(node):
            parsed = {k: _number_unit(v) for k, v in node.items()}
            if any(p is None for p in parsed.values()) or len({p[1] for p in parsed.values() if p}) != 1:
                return node  # not a numeric series in one unit: the loader will say what is wrong
            points = sorted((k, p[0], p[1]) for k, p in parsed.items() if p is not None)
            unit = points[0][2]
            xs, vs = [p[0] for p in points], [p[1] for p in points]
            out: dict[int, Any] = {}
            for y in years:
                if xs[0] <= y <= xs[-1]:
                    v = float(np.interp(y, xs, vs))
                    out[y] = f"{v!r} {unit}" if unit else v
            return out
        return {k: _cut(v, years) for k, v in node.items()}
    if isinstance(node, list):
        return [_cut(v, years) for v in node]
    return node


def restrict_years(data: dict[str, Any], years: list[int]) -> dict[str, Any]:
    """The scenario's YAML data planned over ``years`` (consecutive, inside its horizon) only.

    * Every year map is interpolated onto ``years`` (values at the new ends included).
    * A server type that cannot be bought in ``years`` (``last_year`` before them, ``first_year``
      after them) is dropped with its existing servers when those have retired by the first year;
      if some are still in service it stays, but cannot be bought (``max_new_per_year: 0``).

    The existing fleet is kept as it is (assets built before the new horizon); what the full
    plan would have built in earlier years is not carried over.
    """
    out = _cut(copy.deepcopy(data), years)
    out["years"] = list(years)
    first, last = years[0], years[-1]
    accelerators = out.get("accelerators") or {}
    existing = (out.get("existing") or {}).get("servers") or []
    for name in list(accelerators):
        spec = accelerators[name]
        if not isinstance(spec, dict):
            continue
        gone = isinstance(spec.get("last_year"), int) and spec["last_year"] < first
        early = isinstance(spec.get("first_year"), int) and spec["first_year"] > last
        if not (gone or early):
            continue
        life = spec.get("lifetime_years")
        alive = [
            e
            for e in existing
            if isinstance(e, dict)
            and e.get("accelerator") == name
            and not (isinstance(life, int) and isinstance(e.get("year_built"), int) and e["year_built"] + life <= first)
        ]
        if alive:
            spec.pop("last_year", None)
            spec.pop("first_year", None)
            spec["max_new_per_year"] = 0
        else:
            del accelerators[name]
            existing[:] = [e for e in existing if not (isinstance(e, dict) and e.get("accelerator") == name)]
    return out
