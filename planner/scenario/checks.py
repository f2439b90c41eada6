"""Cross-field checks of a scenario whose fields are each valid on their own.

Each check returns :class:`Problem` s with the YAML path of the offending value; all of them
run, so a user sees every problem of a file at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from planner.scenario.errors import Problem, did_you_mean, shown
from planner.scenario.fields import YearSeries
from planner.scenario.schema import Scenario

__all__ = ["cross_check", "iter_series"]

#: Columns the profile loader derives from the timestamps; a scenario cannot name them as data.
CALENDAR_COLUMNS = ("month", "day", "hour")


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
    problems += _existing(s)
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
    for name, c in s.cooling.items():
        if c.mechanical_above_c <= c.free_cooling_below_c:
            out.append(
                Problem(
                    f"cooling.{name}.mechanical_above_c",
                    f"mechanical_above_c ({c.mechanical_above_c:g} °C) must be above "
                    f"free_cooling_below_c ({c.free_cooling_below_c:g} °C)",
                )
            )
        if c.floor_slots_per_rack > hall.rack_slots:
            out.append(
                Problem(
                    f"cooling.{name}.floor_slots_per_rack",
                    f"{c.floor_slots_per_rack:g} slots do not fit in a hall of {hall.rack_slots} slots",
                )
            )
    return out


def _tariff(s: Scenario) -> list[Problem]:
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
    if not _years(s) and not tariff.flat_cny_per_kwh.coverage_problem(s.years):
        lowest = min(tariff.flat_cny_per_kwh.values(s.years))
        if tariff.non_floating_cny_per_kwh >= lowest:
            out.append(
                Problem(
                    "power.grid.tariff.non_floating_cny_per_kwh",
                    f"{tariff.non_floating_cny_per_kwh:g} CNY/kWh must be below the flat price ({lowest:g} CNY/kWh)",
                )
            )
    return out


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
    return out


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


def _time(s: Scenario) -> list[Problem]:
    days = s.time.representative_days
    if isinstance(days, int) and days <= len(s.time.extreme_days):
        return [
            Problem(
                "time.representative_days",
                f"{days} days leave no room for typical days beside the {len(s.time.extreme_days)} extreme days",
            )
        ]
    return []


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
