"""The user-set limits of the model in the user's words: what each limit row says, for a diagnosis.

:func:`describe_limit` turns a row (component and index) into a sentence naming the YAML key, the
server type or contract, the years and the values; rows it does not know are physics, never shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from planner.scenario.schema import IMPLICIT_SITE

__all__ = [
    "COLUMN_LIMITS",
    "KINDS",
    "Kind",
    "describe_limit",
    "num",
    "pct",
    "series_at",
    "server_name",
    "split_name",
    "years_text",
]

_INDEX = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:\[(?P<index>.*)\])?$")


def split_name(name: str) -> tuple[str, list[str]]:
    """A row or column name, ``name[i,j]``, as its component and index parts."""
    name = name.replace(" ", "")
    if name.endswith("_lo") and "[" in name:  # the lower half of a two-sided row
        name = name[:-3]
    match = _INDEX.match(name)
    if not match:
        return name, []
    index = match.group("index")
    return match.group("name"), [p.strip("'\"") for p in index.split(",")] if index else []


def years_text(years: list[int]) -> str:
    """``[2028, 2029]`` -> ``"2028–2029"``; ``[2026, 2028]`` -> ``"2026 and 2028"``."""
    runs: list[list[int]] = []
    for y in sorted(set(years)):
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    parts = [f"{r[0]}–{r[-1]}" if len(r) > 1 else f"{r[0]}" for r in runs]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def num(v: float) -> str:
    """1.1 -> '1.10', 1.085 -> '1.085', 45.0 -> '45', 3000 -> '3,000'."""
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if float(v).is_integer():
        return f"{v:.0f}"
    return f"{v:.2f}" if round(v, 2) == v else f"{v:.4g}"


def pct(v: float) -> str:
    """A share as a percentage, three significant digits."""
    return f"{v * 100:.3g} %"


def _by_value(label: Callable[[str], str], values: dict[int, float | None], fmt: Callable[[float], str]) -> str:
    """One phrase for a limit over several years: its value in each run of years."""
    groups: dict[str, list[int]] = {}
    for y, v in sorted(values.items()):
        groups.setdefault("?" if v is None else fmt(v), []).append(y)
    if len(groups) == 1:
        ((text, ys),) = groups.items()
        return f"{label(text)} in {years_text(ys)}"
    first, *rest = groups.items()
    return f"{label(first[0])} in {years_text(first[1])}" + "".join(
        f", {text} in {years_text(ys)}" for text, ys in rest
    )


def server_name(s: Any, a: str) -> str:
    """A server type by its chip, as users know it (its YAML key when it names none)."""
    spec = s.accelerators.get(a)
    return str(spec.chip) if spec is not None and getattr(spec, "chip", None) else a


def series_at(series: Any, y: int) -> float | None:
    """A year series' value in year ``y`` (None when unset or not defined there)."""
    if series is None:
        return None
    try:
        return series.at(y) if hasattr(series, "at") else float(series)
    except (KeyError, ValueError, TypeError):
        return None


@dataclass(frozen=True)
class Kind:
    """A kind of user-set limit: wording, order in the deletion filter, the YAML key to loosen."""

    describe: Callable[[Any, tuple[str, ...], list[int]], str]
    order: int  #: lower: lifted first when it can be (build limits before the policy limits)
    key: Callable[[tuple[str, ...]], str]  #: YAML path a user changes to loosen it


def _policy(field_name: str, phrase: Callable[[str], str], fmt: Callable[[float], str]) -> Callable[..., str]:
    def describe(s: Any, rest: tuple[str, ...], years: list[int]) -> str:
        series = getattr(s.policy, field_name, None)
        return _by_value(phrase, {y: series_at(series, y) for y in years}, fmt)

    return describe


def _constant(phrase: Callable[[Any, tuple[str, ...]], str]) -> Callable[..., str]:
    def describe(s: Any, rest: tuple[str, ...], years: list[int]) -> str:
        return f"{phrase(s, rest)} in {years_text(years)}" if years else phrase(s, rest)

    return describe


def _purchase_cap(s: Any, rest: tuple[str, ...], years: list[int]) -> str:
    a = rest[0]
    spec = s.accelerators.get(a)
    cap = getattr(spec, "max_new_per_year", None)
    name = server_name(s, a)
    return _by_value(
        lambda v: f"the purchase cap of {v} new {name} servers a year", {y: series_at(cap, y) for y in years}, num
    )


def _ppa_limit(s: Any, rest: tuple[str, ...], years: list[int]) -> str:
    k = rest[0]
    ppa = s.power.ppa.get(k)
    values = {y: series_at(getattr(ppa, "max_mw", None), y) for y in years}
    if all(v == 0 for v in values.values()):
        return f"no contract to buy from '{k}' (0 MW allowed in {years_text(years)})"
    return _by_value(lambda v: f"at most {v} MW of the '{k}' contract", values, num)


def _ppa_min_take(s: Any, rest: tuple[str, ...], years: list[int]) -> str:
    k = rest[0]
    share = getattr(s.power.ppa.get(k), "min_take_share", None)
    what = f"{pct(share)} of the energy" if share is not None else "a least share of the energy"
    return f"the '{k}' contract's minimum take of {what} it makes available in {years_text(years)}"


def _cert_phrase(s: Any, rest: tuple[str, ...]) -> str:
    share = s.power.green_certificates.max_share
    if share <= 0:
        return "the rule that no certificates count toward the green requirement"
    return f"the cap on certificates of {pct(share)} of the green requirement"


def _site(s: Any, rest: tuple[str, ...]) -> Any:
    """The site a per-site limit row is about (its first index), with its limits."""
    return s.site_specs()[rest[0]]


def _at(s: Any, rest: tuple[str, ...]) -> str:
    """`` at site 'x'`` for a scenario with sites; nothing for a scenario that is one site."""
    return f" at site '{rest[0]}'" if s.sites else ""


def _all(s: Any) -> str:
    """`` over all sites`` for a cluster-wide limit of a scenario with sites; nothing without."""
    return " over all sites" if s.sites else ""


def _site_key(rest: tuple[str, ...], key: str, implicit: str) -> str:
    """The YAML path of a per-site limit: ``sites.<site>.<key>``, or ``implicit`` for the one implicit
    site of a scenario without sites (``main``).
    """
    return f"sites.{rest[0]}.{key}" if rest and rest[0] != IMPLICIT_SITE else implicit


KINDS: dict[str, Kind] = {
    # build limits: lifted first where the conflict holds without them
    "hall_limit": Kind(
        _constant(lambda s, r: f"the land limit of {num(_site(s, r).max_halls)} halls{_at(s, r)}"),
        10,
        lambda r: _site_key(r, "max_halls", "facility.max_halls"),
    ),
    "hall_limit_cluster": Kind(
        _constant(lambda s, r: f"the cluster limit of {num(s.facility.max_halls)} halls over all sites"),
        10,
        lambda r: "facility.max_halls",
    ),
    "halls_new": Kind(
        _constant(lambda s, r: f"at most {num(_site(s, r).max_new_halls_per_year or 0)} new halls a year{_at(s, r)}"),
        11,
        lambda r: _site_key(r, "max_new_halls_per_year", "facility.max_new_halls_per_year"),
    ),
    "halls_new_cluster": Kind(
        _constant(
            lambda s, r: f"at most {num(s.facility.max_new_halls_per_year or 0)} new halls a year over all sites"
        ),
        11,
        lambda r: "facility.max_new_halls_per_year",
    ),
    "grid_block_limit": Kind(
        _constant(lambda s, r: f"the utility limit of {num(_site(s, r).grid.max_blocks)} grid blocks{_at(s, r)}"),
        12,
        lambda r: _site_key(r, "grid.max_blocks", "power.grid.max_blocks"),
    ),
    "grid_block_limit_cluster": Kind(
        _constant(lambda s, r: f"the utility limit of {num(s.power.grid.max_blocks)} grid blocks over all sites"),
        12,
        lambda r: "power.grid.max_blocks",
    ),
    "grid_blocks_new": Kind(
        _constant(lambda s, r: f"no new grid block{_at(s, r)} before {_site(s, r).grid.first_new_block_year}"),
        12,
        lambda r: _site_key(r, "grid.first_new_block_year", "power.grid.max_blocks"),
    ),
    "generator_limit": Kind(
        _constant(lambda s, r: f"the limit of {num(s.power.generators.max_units)} gensets{_all(s)}"),
        13,
        lambda r: "power.generators.max_units",
    ),
    "battery_limit_mwh": Kind(
        _constant(lambda s, r: f"the battery limit of {num(s.power.battery.max_mwh)} MWh{_all(s)}"),
        14,
        lambda r: "power.battery.max_mwh",
    ),
    "battery_limit_mw": Kind(
        _constant(lambda s, r: f"the battery limit of {num(s.power.battery.max_mw)} MW{_all(s)}"),
        15,
        lambda r: "power.battery.max_mw",
    ),
    "pv_limit": Kind(
        _constant(lambda s, r: f"the PV limit of {num(_site(s, r).pv_max_mw)} MWp{_at(s, r)}"),
        16,
        lambda r: _site_key(r, "pv_max_mw", "power.pv.max_mw"),
    ),
    "pv_limit_cluster": Kind(
        _constant(lambda s, r: f"the PV limit of {num(s.power.pv.max_mw)} MWp over all sites"),
        16,
        lambda r: "power.pv.max_mw",
    ),
    "ppa_min_take": Kind(_ppa_min_take, 17, lambda r: f"power.ppa.{r[0]}.min_take_share"),
    "ppa_contract_limit": Kind(_ppa_limit, 18, lambda r: f"power.ppa.{r[0]}.max_mw"),
    "purchase_cap": Kind(_purchase_cap, 20, lambda r: f"accelerators.{r[0]}.max_new_per_year"),
    # policy limits: kept in preference
    "eflops_target": Kind(
        _policy("installed_eflops_min", lambda v: f"the installed-compute target of {v} EFLOPS", num),
        30,
        lambda r: "policy.installed_eflops_min",
    ),
    "carbon_cap_limit": Kind(
        _policy("carbon_cap_t", lambda v: f"the carbon cap of {v} tCO2", lambda v: f"{v:,.0f}"),
        31,
        lambda r: "policy.carbon_cap_t",
    ),
    "certificate_cap": Kind(_constant(_cert_phrase), 32, lambda r: "power.green_certificates.max_share"),
    "domestic_share": Kind(
        _policy("domestic_compute_share_min", lambda v: f"the domestic compute share of at least {v}", pct),
        33,
        lambda r: "policy.domestic_compute_share_min",
    ),
    "green_share": Kind(
        _policy("green_share_min", lambda v: f"the green-power share of at least {v}", pct),
        34,
        lambda r: "policy.green_share_min",
    ),
    "pue_cap": Kind(_policy("pue_max", lambda v: f"the PUE cap of {v}", num), 35, lambda r: "policy.pue_max"),
}

#: Limits that are column bounds (not rows): component -> which bound is the limit.
COLUMN_LIMITS = {"halls_new": "upper", "grid_blocks_new": "upper"}


def describe_limit(scenario: Any, component: str, rest: tuple[str, ...], years: list[int]) -> str | None:
    """The user's words for a limit (a model component, its non-year index and its years), or
    None when ``component`` is no user-set limit (physics is never described).
    """
    kind = KINDS.get(component)
    if kind is None:
        return None
    try:
        return kind.describe(scenario, rest, years)
    except (KeyError, ValueError, IndexError, AttributeError, TypeError):
        return None
