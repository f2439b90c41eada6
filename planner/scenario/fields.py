"""Field types of the scenario schema: quantities with canonical units and year-indexed series.

``Q("kW", gt=0)`` is a float field that also accepts ``"700 W"``; ``Series("CNY/kWh", ge=0)`` is a
:class:`YearSeries` that accepts a scalar, a ``{year: value}`` map (interpolated linearly
between its years) or either with unit strings. Every field records its canonical unit in its
JSON schema (``"unit"``), so docs and error messages can name it.
"""

from __future__ import annotations

import math
import types
import typing
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    StringConstraints,
)
from pydantic_core import core_schema

from planner.scenario.errors import shown
from planner.scenario.units import convert, describe_unit, unit_label

__all__ = [
    "Q",
    "Series",
    "PolicySeries",
    "YearSeries",
    "SeriesSpec",
    "Fraction",
    "Name",
    "Int",
    "Count",
    "Years",
    "Unwrapped",
    "unwrap",
    "Strict",
    "HourRange",
    "Month",
    "Lifetime",
    "sorted_months",
]

NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,63}$"
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
"""An identifier used as a YAML key and a model index (letters, digits, underscores)."""


def _whole_number(value: Any) -> Any:
    """Accept an int or an integral float (``5.0``) as a whole number; refuse booleans.

    YAML's ``true`` is a Python ``bool``, which is an ``int``; pydantic would read it as 1.
    Strings and other types pass through to pydantic's own integer check.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number, got a boolean ({shown(value)})")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"expected a finite whole number, got {shown(value)}")
        if not value.is_integer():
            raise ValueError(f"must be a whole number, got {shown(value)} (it has a fractional part)")
        return int(value)
    return value


Int = Annotated[int, BeforeValidator(_whole_number)]
"""A whole number: ``5`` or ``5.0``, not ``true`` and not ``5.5``."""

Count = Annotated[Int, Field(ge=0)]
"""A whole number of units (servers, racks, halls, blocks) [-]."""

Years = Annotated[Int, Field(ge=2000, le=2100)]


def _number(value: float, unit: str) -> str:
    label = unit_label(unit)
    return f"{value:g} {label}" if label else f"{value:g}"


def _bounds_problem(
    value: float,
    unit: str,
    ge: float | None,
    gt: float | None,
    le: float | None,
    lt: float | None,
    raw: Any = None,
) -> str:
    """Why ``value`` [unit] is out of bounds (empty when it is not), showing what it was read from."""
    for op, limit, ok in (
        (">=", ge, lambda v, b: v >= b),
        (">", gt, lambda v, b: v > b),
        ("<=", le, lambda v, b: v <= b),
        ("<", lt, lambda v, b: v < b),
    ):
        if limit is not None and not ok(value, limit):
            source = f" from {shown(raw)}" if isinstance(raw, str) else ""
            return f"must be {op} {_number(limit, unit)} (got {_number(value, unit)}{source})"
    return ""


def _converter(
    unit: str, ge: float | None, gt: float | None, le: float | None, lt: float | None
) -> Callable[[Any], Any]:
    def _convert(value: Any) -> Any:
        # None passes through so that Optional fields keep their meaning.
        if value is None:
            return None
        number = convert(value, unit)
        bad = _bounds_problem(number, unit, ge, gt, le, lt, raw=value)
        if bad:
            raise ValueError(bad)
        return number

    return _convert


def Q(  # noqa: N802 - reads like a type in annotations
    unit: str,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
) -> Any:
    """A float field in canonical ``unit`` that also accepts a pint string.

    The bounds are checked after conversion, so a message shows the value in the canonical
    unit and what it was read from (``must be >= -40 °C (got -265.15 °C from '8 K')``). They
    are also recorded as pydantic constraints, for the JSON schema and the docs; those never
    fire first.
    """
    return Annotated[
        float,
        BeforeValidator(_converter(unit, ge, gt, le, lt)),
        Field(ge=ge, gt=gt, le=le, lt=lt, json_schema_extra={"unit": unit}),
    ]


Fraction = Q("", ge=0, le=1)
"""A share between 0 and 1 (``"80 %"`` accepted)."""


@dataclass(frozen=True)
class YearSeries:
    """A value indexed by planning year.

    ``points`` are ``(year, value)`` pairs sorted by year; between them the value is
    interpolated linearly. A scalar is stored as a single point with ``year=None`` and holds
    for every year. ``open_start`` series (policy limits) impose nothing before their first
    year; other series must cover the whole horizon (checked against the scenario's years).
    Values are in the canonical ``unit``.
    """

    points: tuple[tuple[int | None, float], ...]
    unit: str
    open_start: bool = False

    @property
    def is_scalar(self) -> bool:
        """True for a single value that holds in every year."""
        return len(self.points) == 1 and self.points[0][0] is None

    @property
    def first_year(self) -> int | None:
        """The first year the series names (``None`` for a scalar)."""
        return None if self.is_scalar else self.points[0][0]

    @property
    def last_year(self) -> int | None:
        """The last year the series names (``None`` for a scalar)."""
        return None if self.is_scalar else self.points[-1][0]

    def at(self, year: int) -> float | None:
        """The value in ``year`` [unit]; ``None`` before an open-start series begins.

        Raises
        ------
        KeyError
            For a year outside the series' range (the scenario checks coverage up front).
        """
        if self.is_scalar:
            return self.points[0][1]
        years = [y for y, _ in self.points]
        first, last = years[0], years[-1]
        assert first is not None and last is not None
        if year < first:
            if self.open_start:
                return None
            raise KeyError(f"year {year} is before the series starts ({first})")
        if year > last:
            raise KeyError(f"year {year} is after the series ends ({last})")
        values = [v for _, v in self.points]
        return float(np.interp(year, np.asarray(years, dtype=float), np.asarray(values, dtype=float)))

    def values(self, years: Iterable[int]) -> np.ndarray:
        """Values for ``years`` [unit] as a float array (NaN where an open-start series is unset)."""
        out = [self.at(y) for y in years]
        return np.array([np.nan if v is None else v for v in out], dtype=float)

    def coverage_problem(self, years: list[int]) -> str:
        """Why this series does not cover ``years`` (empty string when it does)."""
        if self.is_scalar:
            return ""
        first, last = self.first_year, self.last_year
        assert first is not None and last is not None
        outside = [y for y, _ in self.points if y is not None and (y < years[0] or y > years[-1])]
        if outside:
            return f"years {outside} are outside the planning horizon {years[0]}-{years[-1]}"
        if last < years[-1]:
            return f"the map ends in {last} but the horizon runs to {years[-1]}: give a value for {years[-1]}"
        if first > years[0] and not self.open_start:
            return f"the map starts in {first} but the horizon starts in {years[0]}: give a value for {years[0]}"
        return ""

    def scaled(self, factor: float) -> YearSeries:
        """The series multiplied by ``factor``."""
        return YearSeries(tuple((y, v * factor) for y, v in self.points), self.unit, self.open_start)

    def to_plain(self) -> float | dict[int, float]:
        """Plain YAML form: a scalar or a ``{year: value}`` map in the canonical unit."""
        if self.is_scalar:
            return self.points[0][1]
        return {int(y): v for y, v in self.points if y is not None}


@dataclass(frozen=True)
class SeriesSpec:
    """How a :class:`YearSeries` field is read: its canonical unit, bounds, and whether it may start late."""

    unit: str
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    open_start: bool = False

    def parse(self, raw: Any) -> YearSeries:
        """Read a scalar or ``{year: value}`` map (numbers or unit strings) into a checked series."""
        if isinstance(raw, YearSeries):
            return raw
        if isinstance(raw, dict):
            if not raw:
                raise ValueError("an empty map: give a value, or a {year: value} map")
            points: list[tuple[int | None, float]] = []
            problems: list[str] = []
            for key, value in raw.items():
                year = _year_key(key)
                if year is None:
                    problems.append(f"year keys must be whole years like 2028, got {shown(key)}")
                    continue
                try:
                    number = convert(value, self.unit)
                except ValueError as exc:
                    problems.append(f"at {year}: {exc}")
                    continue
                bad = _bounds_problem(number, self.unit, self.ge, self.gt, self.le, self.lt, raw=value)
                if bad:
                    problems.append(f"at {year}: {bad}")
                points.append((year, number))
            if problems:
                more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
                raise ValueError("; ".join(problems[:5]) + more)
            points.sort(key=lambda p: p[0] or 0)
            years = [p[0] for p in points]
            if len(set(years)) != len(years):
                counts = Counter(years)
                twice = sorted(y for y, n in counts.items() if n > 1 and y is not None)
                raise ValueError(f"a year appears twice: {shown(twice)} (written as a number and as text)")
            return YearSeries(tuple(points), self.unit, self.open_start)
        if isinstance(raw, list | tuple):
            raise ValueError(f"expected a value in {describe_unit(self.unit)} or a {{year: value}} map, got a list")
        number = convert(raw, self.unit)
        bad = _bounds_problem(number, self.unit, self.ge, self.gt, self.le, self.lt, raw=raw)
        if bad:
            raise ValueError(bad)
        return YearSeries(((None, number),), self.unit, self.open_start)

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            self.parse,
            serialization=core_schema.plain_serializer_function_ser_schema(lambda s: s.to_plain()),
        )

    def __get_pydantic_json_schema__(self, schema: Any, handler: Any) -> dict[str, Any]:
        return {"anyOf": [{"type": "number"}, {"type": "string"}, {"type": "object"}], "unit": self.unit}


def _year_key(key: Any) -> int | None:
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        return key
    if isinstance(key, float) and key.is_integer():
        return int(key)
    if isinstance(key, str) and key.strip().isdigit():
        return int(key.strip())
    return None


def Series(  # noqa: N802 - reads like a type in annotations
    unit: str,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
) -> Any:
    """A year-indexed value in canonical ``unit`` that must cover every planning year."""
    return Annotated[YearSeries, SeriesSpec(unit, ge, gt, le, lt)]


def PolicySeries(  # noqa: N802
    unit: str,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
) -> Any:
    """A year-indexed policy limit: nothing is imposed before its first year; it must reach the last."""
    return Annotated[YearSeries, SeriesSpec(unit, ge, gt, le, lt, open_start=True)]


def finite(value: float) -> bool:
    """True for a finite float."""
    return math.isfinite(value)


@dataclass
class Unwrapped:
    """A field annotation with its ``Annotated`` and ``Optional`` layers taken off (:func:`unwrap`)."""

    base: Any  #: the type under the layers; a ``Union`` when several non-None members remain
    meta: list[Any]  #: the ``Annotated`` metadata met on the way, outermost first
    optional: bool  #: None was a member of a union on the way
    layers: list[Any]  #: every annotation passed through, outermost first (``base`` last)


def unwrap(annotation: Any) -> Unwrapped:
    """Take ``Annotated`` and ``Optional`` layers off a pydantic field annotation: the one way to do it.

    ``Annotated[int, Field(ge=0)] | None`` -> base ``int``, meta ``[FieldInfo(ge=0)]``, optional.
    A union with more than one non-None member stops the descent (``base`` is that union).
    """
    meta: list[Any] = []
    layers: list[Any] = []
    optional = False
    while True:
        layers.append(annotation)
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            args = typing.get_args(annotation)
            meta.extend(args[1:])
            annotation = args[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional = optional or len(members) < len(typing.get_args(annotation))
            if len(members) != 1:
                return Unwrapped(typing.Union[tuple(members)], meta, optional, layers)  # noqa: UP007 - rebuilt from parts
            annotation = members[0]
        else:
            return Unwrapped(annotation, meta, optional, layers)


class Strict(BaseModel):
    """Base of every schema model: frozen, unknown keys forbidden, attribute docstrings kept."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
        validate_default=True,
        arbitrary_types_allowed=False,
    )


def _hour_range(value: Any) -> Any:
    """Accept ``"10-12"`` as well as ``[10, 12]`` for an hour range."""
    if isinstance(value, str):
        parts = value.replace("–", "-").split("-")
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
            raise ValueError(f"an hour range is 'start-end' in whole hours 0-24, like '10-12', got {shown(value)}")
        return (int(parts[0]), int(parts[1]))
    return value


def _check_hour_range(value: tuple[int, int]) -> tuple[int, int]:
    """An hour range within 0-24 that is neither empty nor the whole day."""
    start, end = value
    if not (0 <= start <= 24 and 0 <= end <= 24):
        raise ValueError(f"hours must be within 0-24, got {start}-{end}")
    if start % 24 == end % 24:
        raise ValueError(f"an hour range must not be empty or the whole day, got {start}-{end}")
    return value


HourRange = Annotated[
    tuple[Int, Int],
    BeforeValidator(_hour_range),
    AfterValidator(_check_hour_range),
    Field(description="half-open hour range [start, end), wrapping past midnight when start > end"),
]
Month = Annotated[Int, Field(ge=1, le=12)]
Lifetime = Annotated[Int, Field(ge=1, le=60)]


def sorted_months(months: list[int]) -> list[int]:
    """A list of months as given, refused if a month appears twice."""
    if len(set(months)) != len(months):
        raise ValueError(f"a month is listed twice: {months}")
    return months
