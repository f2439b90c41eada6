"""What a plan was made from, in words: its ``--set`` overrides and how the inputs of two plans differ.

Read from the results Dataset's attributes alone: ``scenario_yaml`` (the resolved scenario),
``scenario_overrides`` (JSON list of the ``--set a.b=v`` overrides), ``scenario_source`` and
``input_files`` (JSON, each file's role, path and sha256).

* :func:`input_differences` lists every dotted input path whose value differs between two plans.
* :func:`overrides`, :func:`variant_text` and :func:`variant_tag` say whether a plan is a variant
  of its scenario file, for the header and the title of its report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import xarray as xr

from planner.report.data import scenario_data

__all__ = [
    "NOT_SET",
    "InputDifference",
    "compact",
    "flatten",
    "input_differences",
    "overrides",
    "variant_tag",
    "variant_text",
]

#: How a path present in one plan's inputs and not in the other's is shown.
NOT_SET = "(not set)"

#: Lists with more items than this, or longer than :data:`_WIDTH` characters as text, are summarised.
_ITEMS = 6
_WIDTH = 60

_MISSING = object()  #: a path one plan's inputs do not have


class InputDifference(NamedTuple):
    """One input whose value differs between plans A and B (values shown compactly)."""

    path: str  #: dotted path in the scenario, ``policy.pue_max``
    a: str
    b: str


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """A nested mapping as ``{dotted path: leaf value}``; lists are leaves, an empty mapping is a leaf too."""
    if not isinstance(data, dict) or (not data and prefix):
        return {prefix: data}
    out: dict[str, Any] = {}
    for key, value in data.items():
        out |= flatten(value, f"{prefix}.{key}" if prefix else str(key))
    return out


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e12:
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


def compact(value: Any) -> str:
    """A value in a few characters: ``1.25``, ``[2026, 2027]``, ``[12 items: 1, 2, …]``, ``(not set)``."""
    if value is _MISSING:
        return NOT_SET
    if isinstance(value, list):
        items = [_scalar(v) for v in value]
        text = "[" + ", ".join(items) + "]"
        if len(items) <= _ITEMS and len(text) <= _WIDTH:
            return text
        return f"[{len(items)} items: " + ", ".join(items[:2])[:_WIDTH] + ", …]"
    text = _scalar(value)
    return text if len(text) <= 2 * _WIDTH else text[: 2 * _WIDTH - 1] + "…"


def _profile_hashes(ds: xr.Dataset) -> set[str]:
    try:
        files = json.loads(str(ds.attrs.get("input_files", "[]")))
    except json.JSONDecodeError:
        return set()
    return {str(f.get("sha256")) for f in files if isinstance(f, dict) and f.get("role") == "profiles"}


def input_differences(a: xr.Dataset, b: xr.Dataset) -> list[InputDifference]:
    """Every input of plans A and B that differs, by dotted path (sorted), with both values shown compactly.

    Paths in one plan's scenario only are listed with :data:`NOT_SET` on the other side. The
    profile CSV's path (``time.profiles``) is left out when both plans record the same file content
    (its sha256 in ``input_files``): the same data read from another folder is the same input.
    """
    flat_a, flat_b = flatten(scenario_data(a)), flatten(scenario_data(b))
    same_profiles = bool(_profile_hashes(a)) and _profile_hashes(a) == _profile_hashes(b)
    out = []
    for path in sorted(set(flat_a) | set(flat_b)):
        va, vb = flat_a.get(path, _MISSING), flat_b.get(path, _MISSING)
        if (va == vb and type(va) is type(vb)) or (path == "time.profiles" and same_profiles):
            continue
        if compact(va) == compact(vb) and va is not _MISSING and vb is not _MISSING:
            continue  # 1 and 1.0: the same input
        out.append(InputDifference(path, compact(va), compact(vb)))
    return out


# ====================================================================== one plan: a variant of its scenario?


def overrides(ds: xr.Dataset) -> list[str] | None:
    """The ``--set`` overrides a plan was made with (None: the results do not record them)."""
    if "scenario_overrides" not in ds.attrs:
        return None
    try:
        recorded = json.loads(str(ds.attrs["scenario_overrides"]))
    except json.JSONDecodeError:
        return None
    return [str(o) for o in recorded] if isinstance(recorded, list) else None


def variant_text(ds: xr.Dataset) -> str:
    """``variant of base.yaml with --set policy.pue_max=1.2 --set …``, ``base.yaml, no overrides``,
    or ``no overrides recorded`` for results written before overrides were recorded.
    """
    source = str(ds.attrs.get("scenario_source") or "")
    name = Path(source).name if source else ""
    sets = overrides(ds)
    if sets is None:
        return f"{name}, overrides not recorded" if name else "overrides not recorded"
    if not sets:
        return f"{name}, no overrides" if name else "no overrides"
    return f"variant of {name or 'its scenario'} with " + " ".join(f"--set {o}" for o in sets)


def variant_tag(ds: xr.Dataset, width: int = 40) -> str:
    """A short tag for a page title: ``pue_max=1.2``, ``pue_max=1.2, capex_cny=9e5 +1`` ('' without overrides)."""
    sets = overrides(ds) or []
    if not sets:
        return ""
    short = [o.split("=", 1)[0].rsplit(".", 1)[-1] + ("=" + o.split("=", 1)[1] if "=" in o else "") for o in sets]
    tag, shown = "", 0
    for item in short:
        if shown and len(tag) + len(item) + 2 > width:
            break
        tag, shown = (f"{tag}, {item}" if tag else item), shown + 1
    if len(tag) > width:
        tag = tag[: width - 1] + "…"
    return tag + (f" +{len(short) - shown}" if shown < len(short) else "")
