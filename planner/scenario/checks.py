"""Cross-field checks of a scenario whose fields are each valid on their own.

Each check returns :class:`Problem` s with the YAML path of the offending value; all of them
run, so a user sees every problem of a file at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from planner.scenario.errors import Problem, did_you_mean, shown
from planner.scenario.fields import YearSeries
from planner.scenario.schema import Scenario
from planner.time.profiles import CALENDAR_COLUMNS, COLUMN_RANGES, WET_BULB_TOLERANCE_C

__all__ = ["cross_check", "iter_series", "cooling_floor", "pue_floor", "site_column_values", "site_columns"]


def iter_series(node: Any, path: str = "") -> Iterator[tuple[str, YearSeries]]:
    """Every year-indexed value in a scenario (or part of one), with its dotted path."""
    if isinstance(node, YearSeries):
        yield path, node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from iter_series(getattr(node, name), f"{path}.{name}" if path else name)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from iter_series(value, f"{path}.{key}")
    elif isinstance(node, list | tuple):
        for i, value in enumerate(node):
            yield from iter_series(value, f"{path}[{i}]")


def cross_check(s: Scenario, profile_columns: list[str] | None = None) -> list[Problem]:
    """All cross-field problems of ``s``; ``profile_columns`` (if known) checks column references."""
    problems: list[Problem] = []
    problems += _years(s)
    problems += _series_coverage(s)
    problems += _compute(s)
    problems += _tariff(s)
    problems += _power(s)
    problems += _cooling(s)
    problems += _existing(s)
    problems += _sites(s)
    problems += _network(s)
    problems += _regions(s)
    problems += _pue_floor(s)
    problems += _time(s)
    if profile_columns is not None:
        problems += _columns(s, profile_columns)
    return problems


def _years(s: Scenario) -> list[Problem]:
    ys = s.years
    if any(b <= a for a, b in zip(ys, ys[1:], strict=False)):
        return [Problem("years", f"must be strictly increasing, got {ys}")]
    if any(b != a + 1 for a, b in zip(ys, ys[1:], strict=False)):
        return [Problem("years", f"must be consecutive years (every year is planned), got {ys}")]
    return []


def _series_coverage(s: Scenario) -> list[Problem]:
    if _years(s):
        return []
    out = []
    for path, series in iter_series(s):
        problem = series.coverage_problem(s.years)
        if problem:
            out.append(Problem(path, problem))
    return out


def _compute(s: Scenario) -> list[Problem]:
    out: list[Problem] = []
    first, last = s.years[0], s.years[-1]
    for name, a in s.accelerators.items():
        where = f"accelerators.{name}"
        if a.idle_kw > a.full_kw:
            out.append(
                Problem(
                    f"{where}.idle_kw",
                    f"idle_kw ({a.idle_kw:g} kW) must not exceed full_kw ({a.full_kw:g} kW)",
                )
            )
        for i, c in enumerate(a.cooling):
            if c not in s.cooling:
                hint = did_you_mean(c, s.cooling)
                out.append(Problem(f"{where}.cooling[{i}]", f"unknown cooling technology '{c}'; {hint}".rstrip("; ")))
        if len(set(a.cooling)) != len(a.cooling):
            out.append(Problem(f"{where}.cooling", f"a technology is listed twice: {a.cooling}"))
        fits = [c for c in a.cooling if c in s.cooling and a.full_kw <= s.cooling[c].rack_kw_max]
        if a.cooling and all(c in s.cooling for c in a.cooling) and not fits:
            out.append(
                Problem(
                    f"{where}.full_kw",
                    f"{a.full_kw:g} kW does not fit in a rack of any allowed cooling technology "
                    f"(largest rack: {max(s.cooling[c].rack_kw_max for c in a.cooling):g} kW)",
                )
            )
        for c in a.cooling:
            if c in s.cooling and a.rack_units > s.cooling[c].rack_units:
                out.append(
                    Problem(
                        f"{where}.rack_units",
                        f"{a.rack_units} U is taller than a '{c}' rack ({s.cooling[c].rack_units} U)",
                    )
                )
        if a.first_year is not None and a.first_year > last:
            out.append(Problem(f"{where}.first_year", f"{a.first_year} is after the horizon ends ({last})"))
        if a.last_year is not None and a.last_year < first:
            out.append(Problem(f"{where}.last_year", f"{a.last_year} is before the horizon starts ({first})"))
        if a.first_year is not None and a.last_year is not None and a.last_year < a.first_year:
            out.append(Problem(f"{where}.last_year", f"{a.last_year} is before first_year ({a.first_year})"))
    hall = s.facility.hall
    for name, tech in s.cooling.items():
        if tech.mechanical_above_c <= tech.free_cooling_below_c:
            out.append(
                Problem(
                    f"cooling.{name}.mechanical_above_c",
                    f"mechanical_above_c ({tech.mechanical_above_c:g} °C) must be above "
                    f"free_cooling_below_c ({tech.free_cooling_below_c:g} °C)",
                )
            )
        if tech.floor_slots_per_rack > hall.rack_slots:
            out.append(
                Problem(
                    f"cooling.{name}.floor_slots_per_rack",
                    f"{tech.floor_slots_per_rack:g} slots do not fit in a hall of {hall.rack_slots} slots",
                )
            )
    return out


def _tariff(s: Scenario) -> list[Problem]:
    def _hours_of(ranges: list[tuple[int, int]]) -> set[int]:
        """Hours 0-23 covered by half-open hour ranges that wrap past midnight when start > end."""
        hours: set[int] = set()
        for start, end in ranges:
            hours.update(range(start, end) if start < end else [*range(start, 24), *range(0, end)])
        return hours

    out: list[Problem] = []
    tariff = s.power.grid.tariff
    seen: dict[int, str] = {}
    for i, season in enumerate(tariff.seasons):
        for m in season.months:
            if m in seen:
                out.append(
                    Problem(
                        f"power.grid.tariff.seasons[{i}].months",
                        f"month {m} is already in season '{seen[m]}'",
                    )
                )
            seen[m] = season.name
    missing = sorted(set(range(1, 13)) - set(seen))
    if missing:
        out.append(Problem("power.grid.tariff.seasons", f"months {missing} are in no season"))
    hot = tariff.critical_hot_days
    if hot is not None:
        where = "power.grid.tariff.critical_hot_days"
        hot_hours = _hours_of(hot.hours)
        if hot.months is None:
            covered = sorted({m for rule in tariff.critical for m in rule.months})
            if len(covered) == 12:
                out.append(
                    Problem(
                        where,
                        "the critical rules already cover every month, so the hot-day trigger (which applies "
                        "by default in the months no critical rule covers) would never apply; give its months",
                    )
                )
        else:
            for m in hot.months:
                for k, rule in enumerate(tariff.critical):
                    if m in rule.months and hot_hours <= _hours_of(rule.hours):
                        out.append(
                            Problem(
                                f"{where}.months",
                                f"month {m} pays the critical price in these hours on every day already "
                                f"(power.grid.tariff.critical[{k}]); the hot-day trigger changes nothing there",
                            )
                        )
                        break
    return out + _funds(s)


def _funds(s: Scenario) -> list[Problem]:
    """At every site the non-floating part of the price (the funds) stays below the flat price,
    each the site's own (``Scenario.site_tariff``) or the cluster's; a problem names the key that
    sets it, once however many sites share the cluster's.
    """
    if _years(s):
        return []
    out: dict[str, Problem] = {}
    for name, site in s.site_specs().items():
        prices = s.site_tariff(name)
        if prices.flat_cny_per_kwh.coverage_problem(s.years):
            continue  # named by the series' own check
        lowest = min(prices.flat_cny_per_kwh.values(s.years))
        funds = prices.non_floating_cny_per_kwh
        if funds < lowest:
            continue
        own = site.grid.tariff
        if own is not None and own.non_floating_cny_per_kwh is not None:
            where = f"sites.{name}.grid.tariff.non_floating_cny_per_kwh"
        elif own is not None and own.flat_cny_per_kwh is not None:
            where = f"sites.{name}.grid.tariff.flat_cny_per_kwh"
        else:
            where = "power.grid.tariff.non_floating_cny_per_kwh"
        whose = "its" if where.startswith("sites.") else "the"
        message = f"the non-floating part ({funds:g} CNY/kWh) must be below {whose} flat price ({lowest:g} CNY/kWh)"
        out.setdefault(where, Problem(where, message))
    return list(out.values())


def _power(s: Scenario) -> list[Problem]:
    out: list[Problem] = []
    grid = s.power.grid
    if grid.redundancy >= grid.max_blocks:
        out.append(
            Problem(
                "power.grid.redundancy",
                f"N-{grid.redundancy} needs more than {grid.redundancy} blocks but max_blocks is {grid.max_blocks}",
            )
        )
    gens = s.power.generators
    if gens.redundancy > gens.max_units:
        out.append(Problem("power.generators.redundancy", f"N+{gens.redundancy} exceeds max_units ({gens.max_units})"))
    years = set(s.years)
    rationing = grid.rationing
    if rationing is not None:
        first, last = rationing.day_range()
        if last < first:
            out.append(Problem("power.grid.rationing.end", f"{rationing.end} is before start {rationing.start}"))
        for y in rationing.import_cap_mw:
            if y not in years:
                out.append(Problem(f"power.grid.rationing.import_cap_mw.{y}", f"{y} is not a planning year"))
    for name, ppa in s.power.ppa.items():
        for y in ppa.hydrology:
            if y not in years:
                out.append(Problem(f"power.ppa.{name}.hydrology.{y}", f"{y} is not a planning year"))
    return out


def _cooling(s: Scenario) -> list[Problem]:
    """Residual room-air heat of a liquid technology must go to a technology that takes it whole."""
    out: list[Problem] = []
    for name, c in s.cooling.items():
        where = f"cooling.{name}"
        target = c.residual_heat_to
        if c.liquid_capture < 1 and target is None:
            out.append(
                Problem(
                    f"{where}.residual_heat_to",
                    f"liquid_capture is {c.liquid_capture:g}: name the technology (e.g. air) whose plant "
                    "cools the rest of the heat",
                )
            )
        if target is None:
            continue
        if target not in s.cooling:
            hint = did_you_mean(target, s.cooling)
            out.append(
                Problem(f"{where}.residual_heat_to", f"unknown cooling technology '{target}'; {hint}".rstrip("; "))
            )
        elif target == name:
            out.append(Problem(f"{where}.residual_heat_to", "a technology cannot take its own residual heat"))
        elif s.cooling[target].liquid_capture < 1:
            out.append(
                Problem(
                    f"{where}.residual_heat_to",
                    f"'{target}' leaves heat to room air itself (liquid_capture "
                    f"{s.cooling[target].liquid_capture:g}); name a technology that rejects all its heat",
                )
            )
    return out


def cooling_floor(s: Scenario, name: str) -> float:
    """Least cooling power per unit of IT heat that technology ``name`` can reach [kW/kW].

    The cooling coefficient is ``fans_pumps_kw_per_kw`` plus a mechanical part that is never
    negative (``planner.time.cooling.cooling_coefficient``), so fans and pumps are its floor at any
    temperature. A liquid technology that leaves the share ``1 - liquid_capture`` of its heat to
    room air adds that share at the floor of the technology taking it (``residual_heat_to``;
    the lowest floor of any technology when none is named or known).
    """
    c = s.cooling[name]
    own = float(c.fans_pumps_kw_per_kw)
    if c.liquid_capture >= 1:
        return own
    target = c.residual_heat_to
    if target in s.cooling and target != name:
        rest = float(s.cooling[target].fans_pumps_kw_per_kw)
    else:
        rest = min(float(t.fans_pumps_kw_per_kw) for t in s.cooling.values())
    return float(c.with_residual(own, rest))


def pue_floor(s: Scenario) -> tuple[float, str, float] | None:
    """The least annual PUE the physics allows, the technology that reaches it and its cooling floor.

    ``PUE = 1 + aux_loss_fraction + sum_c kappa_c * P_it[c] / sum_c P_it[c]``, so no plan can do
    better than 1 + aux losses + the lowest cooling floor of the technologies some server type may
    use (None when no server type names a known technology).
    """
    used = {c for a in s.accelerators.values() for c in a.cooling if c in s.cooling}
    if not used:
        return None
    floors = {c: cooling_floor(s, c) for c in sorted(used)}
    best = min(floors, key=lambda c: floors[c])
    return 1.0 + float(s.facility.aux_loss_fraction) + floors[best], best, floors[best]


def _years_text(years: list[int]) -> str:
    """``[2026, 2027, 2028, 2030]`` -> ``"2026–2028, 2030"``."""
    runs: list[list[int]] = []
    for y in sorted(years):
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    return ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 1 else f"{r[0]}" for r in runs)


def _pue_floor(s: Scenario) -> list[Problem]:
    """A PUE cap below what aux losses and the best cooling technology allow can never be met."""
    cap = s.policy.pue_max
    unknown = any(c not in s.cooling for a in s.accelerators.values() for c in a.cooling)
    if cap is None or unknown or _years(s) or cap.coverage_problem(s.years):
        return []
    floor = pue_floor(s)
    if floor is None:
        return []
    least, best, kappa = floor
    below: dict[float, list[int]] = {}
    for y in s.years:
        value = cap.at(y)
        if value is not None and value < least - 1e-9:
            below.setdefault(value, []).append(y)
    if not below:
        return []
    values = ", ".join(f"{v:g} in {_years_text(ys)}" for v, ys in sorted(below.items(), key=lambda i: i[1]))
    verb = "is" if len(below) == 1 else "are"
    aux = float(s.facility.aux_loss_fraction)
    return [
        Problem(
            "policy.pue_max",
            f"{values} {verb} below what the physics allows: aux losses {aux * 100:g} % + the least cooling "
            f"power of any technology ({best}, {kappa * 100:g} %) give a PUE of at least {least:.4g}",
        )
    ]


def _existing(s: Scenario) -> list[Problem]:
    out: list[Problem] = []
    first = s.years[0]
    lists: dict[str, list[Any]] = {name: getattr(s.existing, name) for name in type(s.existing).model_fields}
    for group, items in lists.items():
        for i, item in enumerate(items):
            where = f"existing.{group}[{i}]"
            if item.year_built >= first:
                out.append(
                    Problem(
                        f"{where}.year_built",
                        f"{item.year_built} is not before the first planning year ({first})",
                    )
                )
            accelerator = getattr(item, "accelerator", None)
            cooling = getattr(item, "cooling", None)
            if accelerator is not None and accelerator not in s.accelerators:
                hint = did_you_mean(accelerator, s.accelerators)
                message = f"unknown server type '{accelerator}'; {hint}".rstrip("; ")
                out.append(Problem(f"{where}.accelerator", message))
            if cooling is not None and cooling not in s.cooling:
                hint = did_you_mean(cooling, s.cooling)
                message = f"unknown cooling technology '{cooling}'; {hint}".rstrip("; ")
                out.append(Problem(f"{where}.cooling", message))
            if (
                accelerator in s.accelerators
                and cooling in s.cooling
                and cooling not in s.accelerators[accelerator].cooling
            ):
                message = f"'{accelerator}' servers cannot be installed in '{cooling}' racks"
                out.append(Problem(f"{where}.cooling", message))
    return out


def _sites(s: Scenario) -> list[Problem]:
    """Each site's grid connection can carry something under N-k (``max_blocks: 0`` is a site without
    one); each ``existing`` entry stands at a known site.
    """
    out: list[Problem] = []
    redundancy = s.power.grid.redundancy
    for name, site in s.sites.items():
        if site.max_halls > 0 and 0 < site.grid.max_blocks <= redundancy:
            out.append(
                Problem(
                    f"sites.{name}.grid.max_blocks",
                    f"N-{redundancy} (power.grid.redundancy) needs more than {redundancy} blocks at a site with "
                    f"halls, but max_blocks is {site.grid.max_blocks}",
                )
            )
        out.extend(_site_tariff(s, name))
    for k, ppa in s.power.ppa.items():
        for i, name in enumerate(ppa.sites or []):
            if name not in s.sites:
                hint = did_you_mean(name, s.sites) if s.sites else "the scenario has no sites (it is one site)"
                out.append(Problem(f"power.ppa.{k}.sites[{i}]", f"unknown site '{name}'; {hint}".rstrip("; ")))
    for group in type(s.existing).model_fields:
        for i, item in enumerate(getattr(s.existing, group)):
            where = f"existing.{group}[{i}].site"
            if item.site is None:
                if len(s.sites) > 1:
                    out.append(Problem(where, f"name the site these units stand at: one of {', '.join(s.sites)}"))
            elif not s.sites:
                out.append(Problem(where, "the scenario has no sites (it is one site): leave site out"))
            elif item.site not in s.sites:
                hint = did_you_mean(item.site, s.sites)
                out.append(Problem(where, f"unknown site '{item.site}'; {hint}".rstrip("; ")))
    return out


def _site_tariff(s: Scenario, name: str) -> list[Problem]:
    """A site's own fixed-charge rate is of the basis the cluster's tariff is billed on (the other
    rate would be ignored). Its funds against its flat price: ``_funds``.
    """
    own = s.sites[name].grid.tariff
    if own is None:
        return []
    cluster = s.power.grid.tariff
    unused = "capacity_cny_per_kva_month" if cluster.fixed_charge_basis == "demand" else "demand_cny_per_kw_month"
    if getattr(own, unused) is None:
        return []
    return [
        Problem(
            f"sites.{name}.grid.tariff.{unused}",
            f"power.grid.tariff.fixed_charge_basis is '{cluster.fixed_charge_basis}', so this rate would never "
            "be billed; set the site's rate of that basis instead",
        )
    ]


def _network(s: Scenario) -> list[Problem]:
    """A hub is not also a site, and leases a known server type."""
    out: list[Problem] = []
    for name, hub in s.network.hubs.items():
        if name in s.site_specs():
            out.append(Problem(f"network.hubs.{name}", f"'{name}' is also a site: a hub needs a name of its own"))
        if hub.lease is not None and hub.lease.accelerator not in s.accelerators:
            hint = did_you_mean(hub.lease.accelerator, s.accelerators)
            message = f"unknown server type '{hub.lease.accelerator}'; {hint}".rstrip("; ")
            out.append(Problem(f"network.hubs.{name}.lease.accelerator", message))
    return out


#: How far the regions' shares may add up from 1 [-].
SHARE_TOLERANCE = 1e-6


def _regions(s: Scenario) -> list[Problem]:
    """The regions' shares add up to 1; each names sites, or hubs whose lease takes inference."""
    regions = s.demand.inference.regions
    if not regions:
        return []
    out: list[Problem] = []
    total = sum(r.share for r in regions.values())
    if abs(total - 1) > SHARE_TOLERANCE:
        shares = ", ".join(f"{k} {r.share:g}" for k, r in regions.items())
        out.append(
            Problem("demand.inference.regions", f"the shares must add up to 1, but they add up to {total:g} ({shares})")
        )
    sites, hubs = s.site_specs(), s.network.hubs
    for k, region in regions.items():
        for i, name in enumerate(region.sites):
            where = f"demand.inference.regions.{k}.sites[{i}]"
            if name in region.sites[:i]:
                out.append(Problem(where, f"region '{k}' names '{name}' twice"))
            elif name in hubs:
                if not hubs[name].takes("inference"):
                    message = (
                        f"hub '{name}' leases no inference (network.hubs.{name}.lease.workloads): "
                        f"it cannot serve region '{k}'"
                    )
                    out.append(Problem(where, message))
            elif name not in sites:
                hint = did_you_mean(name, [*sites, *hubs], listing="sites and hubs")
                out.append(Problem(where, f"region '{k}' names '{name}', which is no site or hub; {hint}".rstrip("; ")))
    return out


def _time(s: Scenario) -> list[Problem]:
    """Room for at least one typical day beside the days kept for themselves: each extreme day and, with
    ``power.grid.rationing``, the rationing days as one day of their own (planner.time.prepare).
    """
    days = s.time.representative_days
    extremes = len(s.time.extreme_days)
    rationing = s.power.grid.rationing is not None
    if isinstance(days, int) and days <= extremes + int(rationing):
        kept = f"the {extremes} extreme days" + (" and the rationing days (power.grid.rationing)" if rationing else "")
        return [Problem("time.representative_days", f"{days} days leave no room for typical days beside {kept}")]
    return []


#: What a site's own profile column holds: its physical range and unit, by the key that names it.
#: The ranges are the profile loader's for the column the site's column stands in for.
SITE_COLUMN_RANGES: dict[str, tuple[float, float, str]] = {
    "climate.dry_bulb_column": (*COLUMN_RANGES["dry_bulb_c"], "°C"),
    "climate.wet_bulb_column": (*COLUMN_RANGES["wet_bulb_c"], "°C"),
    "pv_profile_column": (*COLUMN_RANGES["pv_cf"], "-"),
}


def site_columns(s: Scenario) -> list[tuple[str, str]]:
    """(YAML path, column) of every profile column a site names as its own."""
    out = []
    for name, site in s.sites.items():
        for key in SITE_COLUMN_RANGES:
            holder = site.climate if key.startswith("climate.") else site
            column = getattr(holder, key.rsplit(".", 1)[-1])
            if column is not None:
                out.append((f"sites.{name}.{key}", column))
    return out


def site_column_values(s: Scenario, profile: pd.DataFrame) -> list[Problem]:
    """A site's own profile columns hold numbers in their physical range every hour, and a site's
    wet bulb (its column or the profile's, plus its offset) stays at or below its dry bulb.
    """
    out = _site_column_ranges(s, profile)
    if out:
        return out
    for name, site in s.sites.items():
        c = site.climate
        own = [col for col in (c.dry_bulb_column, c.wet_bulb_column) if col is not None]
        if not own or any(col not in profile.columns or col in CALENDAR_COLUMNS for col in own):
            continue  # the profile's own columns are checked when it is read; a missing one by _columns
        dry = profile[c.dry_bulb_column or "dry_bulb_c"].to_numpy(dtype=float) + c.dry_bulb_offset_k
        wet = profile[c.wet_bulb_column or "wet_bulb_c"].to_numpy(dtype=float) + c.wet_bulb_offset_k
        above = wet > dry + WET_BULB_TOLERANCE_C
        if above.any():
            key = "wet_bulb_column" if c.wet_bulb_column is not None else "dry_bulb_column"
            first = int(np.flatnonzero(above)[0])
            out.append(
                Problem(
                    f"sites.{name}.climate.{key}",
                    f"the site's wet bulb is above its dry bulb in {int(above.sum())} hour(s) (first at hour "
                    f"{first} of the year: {wet[first]:.2f} °C wet, {dry[first]:.2f} °C dry, offsets included)",
                )
            )
    return out


def _site_column_ranges(s: Scenario, profile: pd.DataFrame) -> list[Problem]:
    """A site's own profile columns hold numbers in their physical range every hour."""
    out: list[Problem] = []
    for path, column in site_columns(s):
        if column not in profile.columns or column in CALENDAR_COLUMNS:
            continue  # named in _columns
        low, high, unit = SITE_COLUMN_RANGES[path.split(".", 2)[2]]
        values = pd.to_numeric(profile[column], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values) | (values < low) | (values > high)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            out.append(
                Problem(
                    path,
                    f"column {shown(column)} has {int(bad.sum())} hour(s) that are not numbers within "
                    f"{low:g} .. {high:g} {unit} (first at hour {first} of the year: {shown(values[first])})",
                )
            )
    return out


def _columns(s: Scenario, columns: list[str]) -> list[Problem]:
    """Column references that name no data column of the profile file.

    ``columns`` are the columns of the loaded profile frame; the calendar columns the loader
    derives (``month``, ``day``, ``hour``) are not data and cannot be referenced.
    """
    data = [str(c) for c in columns if c not in CALENDAR_COLUMNS]
    out: list[Problem] = []
    refs: list[tuple[str, str]] = [
        (f"power.ppa.{n}.availability_column", p.availability_column) for n, p in s.power.ppa.items()
    ]
    refs.append(("power.pv.profile_column", s.power.pv.profile_column))
    refs.append(("power.grid_emission_column", s.power.grid_emission_column))
    refs += site_columns(s)
    refs += [(f"time.extreme_days.{c}", c) for c in s.time.extreme_days]
    refs += [(f"time.column_weights.{c}", c) for c in s.time.column_weights]
    for path, column in refs:
        if column in data:
            continue
        hint = did_you_mean(column, data, listing="columns in the file", most=40)
        if column in CALENDAR_COLUMNS:
            message = f"'{column}' is derived by the planner from the timestamps, not a data column of the profile file"
        else:
            message = f"no column {shown(column)} in the profile file"
        out.append(Problem(path, f"{message}; {hint}" if hint else message))
    return out
