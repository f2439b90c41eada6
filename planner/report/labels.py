"""Readable names for what the report shows by key: swept parameters, server types, cooling and cost components.

* :func:`parameter_label` — a dotted scenario path as a name and a unit, read from the scenario
  schema (``policy.pue_max`` -> ``PUE cap [-]``, ``accelerators.h200.capex_cny`` ->
  ``H200 server price [CNY]``); every sweep figure and table names its axes with it;
* :func:`accelerator_label` — a server type by vendor and chip from the plan's stored scenario
  (``ascend_950`` -> ``Huawei Ascend 950``);
* :func:`cooling_label` (and :func:`cooling_name`, the same from a key and a description) — a
  cooling technology (``dlc`` -> ``direct liquid cooling``);
* :func:`component_label` — a cost component (``fixed_om_existing_servers`` ->
  ``fixed O&M, existing servers``).

The names of server types and cooling technologies come from the plan's stored scenario
(``attrs["scenario_yaml"]``) or, in a combined sweep file, which stores no scenario, from the
base scenario's names the sweep stored with it (``attrs["display_names"]``, JSON written by
:func:`planner.studies.sweep.stack.display_names`).

Each falls back to a tidied key, never fails, and knows nothing of plotly or HTML (escape the
result where it is shown).
"""

from __future__ import annotations

import json
import re
import typing
from functools import lru_cache
from typing import Any

import xarray as xr
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from planner.report.data import scenario_data
from planner.scenario.fields import SeriesSpec, unwrap
from planner.scenario.schema import Scenario

__all__ = ["accelerator_label", "component_label", "cooling_label", "cooling_name", "parameter_label"]

#: Short names of schema fields (the docstrings are sentences); a field not here is named from its
#: docstring when that is short, else from its name.
FIELD_NAMES = {
    "pue_max": "PUE cap",
    "green_share_min": "green share floor",
    "domestic_compute_share_min": "domestic compute share floor",
    "installed_eflops_min": "installed compute floor",
    "carbon_price_cny_per_t": "carbon price",
    "carbon_cap_t": "carbon cap",
    "capex_cny": "server price",
    "price_scale": "price scale",
    "pflops_per_server": "PFLOPS per server",
    "tokens_per_s": "throughput",
    "full_kw": "full-load power",
    "idle_kw": "idle power",
    "mfu": "MFU",
    "max_new_per_year": "purchase cap",
    "discount_rate": "discount rate",
    "energy_cny_per_kwh": "energy price",
    "capacity_cny_per_kw_year": "capacity price",
    "flat_cny_per_kwh": "flat energy price",
    "capex_cny_per_rack": "price per rack",
    "capex_cny_per_kw": "price per kW",
    "capex_cny_per_kwh": "price per kWh",
    "capex_cny_per_unit": "price per unit",
    "capex_cny_per_block": "price per block",
    "price_cny_per_mwh": "price",
    "max_mw": "max power",
    "max_mwh": "max energy",
    "block_mva": "block size",
    "scale": "scale",
}
#: Whole paths (``<name>`` for any key) whose generic name reads badly.
PATH_NAMES = {
    "demand.inference.scale": "inference demand scale",
    "demand.training.scale": "training demand scale",
}
#: Words written another way than lower case.
WORDS = {"om": "O&M", "ppa": "PPA", "pv": "PV", "pue": "PUE", "tou": "TOU", "dlc": "DLC", "mfu": "MFU"}
#: Cost components, as the stacked cost bars, the waterfall and the tables name them.
COMPONENTS = {
    "servers_capital": "servers (capital charge)",
    "racks_capital": "racks (capital charge)",
    "halls_capital": "halls (capital charge)",
    "cooling_plant_capital": "cooling plant (capital charge)",
    "grid_capital": "grid connection (capital charge)",
    "pv_capital": "PV (capital charge)",
    "battery_capital": "battery (capital charge)",
    "generators_capital": "gensets (capital charge)",
    "fixed_om_existing_servers": "fixed O&M, existing servers",
    "fixed_om_existing_facility": "fixed O&M, existing facility",
    "fixed_om_existing_cooling": "fixed O&M, existing cooling plant",
    "fixed_om_existing_power": "fixed O&M, existing power assets",
    "shortfall_inference": "shortfall penalty, inference",
    "shortfall_training": "shortfall penalty, training",
    "shortfall_reserve": "shortfall penalty, inference reserve",
    "grid_energy": "grid energy",
    "grid_fixed_charge": "grid capacity/demand charge",
    "ppa_energy": "PPA energy",
    "ppa_take_or_pay": "PPA take-or-pay",
    "ppa_capacity": "PPA capacity",
    "certificates": "green certificates",
    "carbon": "carbon price",
    "network_lease": "compute leased from hubs",
    "network_sale": "compute sold to hubs (revenue)",
}
#: Cooling technologies by their usual keys; other keys are named from a short description, else in words.
COOLING_NAMES = {
    "air": "air cooling",
    "dlc": "direct liquid cooling",
    "liquid": "liquid cooling",
    "immersion": "immersion cooling",
    "rdhx": "rear-door heat exchangers",
}
#: Longest description (characters, words) taken as a cooling technology's name.
_SHORT_DESCRIPTION = (32, 4)
_UNIT_WORDS = {"cny", "usd", "kw", "kwh", "mw", "mwh", "mva", "kva", "t", "s", "h", "per", "pct"}


def _words(key: str, title: bool = False) -> str:
    """A key in words: ``ascend_910c`` -> ``ascend 910C`` (``Ascend 910C`` with ``title``), ``dlc`` -> ``DLC``."""
    out = []
    for w in key.replace(".", "_").split("_"):
        if not w:
            continue
        low = w.lower()
        if low in WORDS:
            out.append(WORDS[low])
        elif re.search(r"\d", w) or (title and len(w) <= 3 and w.isalpha()):
            out.append(w.upper())
        else:
            out.append(w.capitalize() if title else w)
    return " ".join(out)


def _field_name(name: str, info: FieldInfo) -> str:
    """A field's short name: :data:`FIELD_NAMES`, else its docstring when short, else its name less units."""
    if name in FIELD_NAMES:
        return FIELD_NAMES[name]
    doc = re.split(r"(?<=\w)\. |\n| \[|\(|;|:", (info.description or "").strip())[0].rstrip(".").strip()
    if doc and len(doc.split()) <= 4:
        return doc[0].lower() + doc[1:] if not doc[:2].isupper() else doc
    words = [w for w in name.split("_") if w.lower() not in _UNIT_WORDS]
    return _words("_".join(words) or name)


def _unit(info: FieldInfo) -> str | None:
    """The canonical unit a field records (``Q``/``Series``), "-" for a plain number; None when it has none."""
    extra = info.json_schema_extra
    if isinstance(extra, dict) and "unit" in extra:
        return str(extra["unit"]) or "-"
    for item in [*info.metadata, *unwrap(info.annotation).meta]:
        if isinstance(item, SeriesSpec):
            return item.unit or "-"
        extra = item.json_schema_extra if isinstance(item, FieldInfo) else None
        if isinstance(extra, dict) and "unit" in extra:
            return str(extra["unit"]) or "-"
    return None


def _model(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model a field holds (directly, or as the values of a dict or items of a list) and whether keyed."""
    base = unwrap(annotation).base
    if isinstance(base, type) and issubclass(base, BaseModel):
        return base, False
    if typing.get_origin(base) in (dict, list):
        inner = unwrap(typing.get_args(base)[-1]).base
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return inner, True
    return None, False


@lru_cache(maxsize=256)
def parameter_label(path: str) -> str:
    """A swept scenario path as a readable name and its unit: ``power.grid.tariff.scale`` -> ``grid tariff scale [-]``.

    The walk follows the schema (:class:`planner.scenario.schema.Scenario`): the keys of named
    entries lead (``accelerators.h200.capex_cny`` -> ``H200 server price [CNY]``), sections under
    the top level name the context, a year ends it (``policy.pue_max.2030`` -> ``PUE cap 2030 [-]``).
    A path the schema does not know is shown as its parts in words.
    """
    parts = path.split(".")
    model: type[BaseModel] | None = Scenario
    words: list[str] = []
    unit: str | None = None
    name = ""
    generic: list[str] = []
    i = 0
    while i < len(parts) and model is not None:
        part = parts[i]
        info = model.model_fields.get(part)
        if info is None:
            return _fallback(path)
        generic.append(part)
        inner, keyed = _model(info.annotation)
        if inner is None:
            name, unit = _field_name(part, info), _unit(info)
            model = None
        elif keyed:
            if i + 1 >= len(parts):
                return _fallback(path)
            key = parts[i + 1]
            generic.append("<name>")
            if key.isdigit():  # an item of a list: existing.servers.0.count -> existing servers #1 count
                words += [_words(part), f"#{int(key) + 1}"]
            elif part == "accelerators":  # a server type needs no "accelerators" after it
                words.append(_words(key, title=True))
            else:  # a named entry, before what it is: hydro PPA, DLC cooling
                words += [_words(key), _words(part)]
            model, i = inner, i + 1
        else:
            if i > 0:
                words.append(_words(part))
            model = inner
        i += 1
    rest = parts[i:]
    if model is not None or not name or any(not p.isdigit() for p in rest):
        return _fallback(path)
    name = PATH_NAMES.get(".".join(generic), name)
    if ".".join(generic) in PATH_NAMES:
        words = []
    text = " ".join([*words, name, *rest])
    return f"{text} [{unit}]" if unit else text


def _fallback(path: str) -> str:
    """A path the schema does not name: its parts after the section, in words."""
    parts = path.split(".")
    return _words(" ".join(parts[1:] if len(parts) > 1 else parts).replace(" ", "_")) or path


def _named_entries(ds: xr.Dataset, section: str) -> dict[str, Any]:
    """The entries of a section of the scenario (``accelerators``, ``cooling``) that the labels read.

    From the stored scenario; else from ``attrs["display_names"]`` (a combined sweep file); else empty.
    """
    entries = scenario_data(ds).get(section)
    if isinstance(entries, dict) and entries:
        return entries
    try:
        names = json.loads(str(ds.attrs.get("display_names", "") or "{}"))
    except ValueError:
        return {}
    entries = names.get(section) if isinstance(names, dict) else None
    return entries if isinstance(entries, dict) else {}


def accelerator_label(ds: xr.Dataset, key: str) -> str:
    """A server type by vendor and chip, from the stored scenario (``ascend_950`` -> ``Huawei Ascend 950``).

    The chip alone when it already names the vendor; the key in words when the Dataset has no scenario
    (nor a sweep's ``display_names``).
    """
    spec = _named_entries(ds, "accelerators").get(key)
    if isinstance(spec, dict):
        vendor, chip = str(spec.get("vendor") or "").strip(), str(spec.get("chip") or "").strip()
        if chip:
            return chip if not vendor or chip.lower().startswith(vendor.lower()) else f"{vendor} {chip}"
    return _words(str(key), title=True)


def cooling_name(key: str, description: str = "") -> str:
    """A cooling technology by name: its description when that is short (a few words), else
    :data:`COOLING_NAMES`, else its key in words with ``cooling`` (``dlc`` -> ``direct liquid cooling``,
    ``two_phase`` -> ``two phase cooling``).
    """
    key, text = str(key), " ".join(str(description or "").split()).rstrip(".")
    chars, words = _SHORT_DESCRIPTION
    if text and len(text) <= chars and len(text.split()) <= words:
        return text
    if key.lower() in COOLING_NAMES:
        return COOLING_NAMES[key.lower()]
    name = _words(key)
    return name if "cooling" in name.lower() else f"{name} cooling"


def cooling_label(ds: xr.Dataset, key: str) -> str:
    """A cooling technology of a plan by name (:func:`cooling_name` with the stored scenario's description)."""
    spec = _named_entries(ds, "cooling").get(str(key))
    return cooling_name(str(key), str(spec.get("description") or "") if isinstance(spec, dict) else "")


def component_label(key: str) -> str:
    """A cost component by name: ``fixed_om_existing_servers`` -> ``fixed O&M, existing servers``."""
    key = str(key)
    if key in COMPONENTS:
        return COMPONENTS[key]
    if key.startswith("fixed_om_existing_"):
        return f"fixed O&M, existing {_words(key.removeprefix('fixed_om_existing_'))}"
    if key.endswith("_capital"):
        return f"{_words(key.removesuffix('_capital'))} (capital charge)"
    return _words(key)
