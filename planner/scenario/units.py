"""Unit handling for scenario values: pint strings converted to each field's canonical unit.

A number in YAML is taken to be in the field's canonical unit already. A string such as
``"700 W"``, ``"1.2 MW"``, ``"0.43 CNY/kWh"`` or ``"35 CNY/kW/month"`` is parsed by pint and
converted. Two guards go beyond dimensional analysis:

* Money per energy (``CNY/kWh``) and money per power per month (``CNY/kW/month``) have the
  same dimension, so pint alone would silently turn a demand charge into an energy price.
  A canonical unit that is a rate per calendar period (``/month``, ``/year``) therefore only
  accepts inputs that name a calendar period too, and vice versa.
* Temperatures are offset units: ``"77 degF"`` converts to 25 °C (not a temperature
  difference).
"""

from __future__ import annotations

import math
import re
from functools import cache
from typing import Any

import pint

from planner.scenario.errors import shown

__all__ = ["UREG", "UnitError", "convert", "describe_unit", "unit_label"]

UREG: pint.UnitRegistry = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
UREG.define("CNY = [currency] = yuan = RMB")
UREG.define("MCNY = 1e6 CNY")
UREG.define("FLOP = [compute]")
UREG.define("FLOPS = FLOP / second")
UREG.define("token = [tokens] = tokens")
UREG.define("Mtoken = 1e6 token")
UREG.define("server = [] = servers")
UREG.define("tCO2 = tonne")

_CALENDAR = {"month", "year", "day", "week"}
_NUMBER_UNIT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")


class UnitError(ValueError):
    """A value whose unit cannot be converted to the field's canonical unit."""


@cache
def _unit(canonical: str) -> pint.Unit:
    return UREG.Unit(canonical)


def _calendar_rate(unit: pint.Unit) -> bool:
    """True when ``unit`` divides by a calendar period (month, year, day, week)."""
    return any(exp < 0 and UREG.get_name(name) in _CALENDAR for name, exp in unit._units.items())  # type: ignore[operator]


_LABELS = {"degC": "°C", "CNY*s/token/year": "CNY/(token/s)/year"}


def unit_label(canonical: str) -> str:
    """A canonical unit as shown after a number in a message (``"°C"`` for ``degC``; ``""`` for none)."""
    if canonical in ("", "1"):
        return ""
    return _LABELS.get(canonical, canonical)


def describe_unit(canonical: str) -> str:
    """Human form of a canonical unit with its dimension, e.g. ``kW (power)``."""
    if canonical in ("", "1"):
        return "a plain number"
    return f"{unit_label(canonical)} ({_dim(_unit(canonical))})"


def convert(value: Any, canonical: str) -> float:
    """Convert ``value`` to a float in ``canonical`` units.

    Parameters
    ----------
    value : float | int | str
        A number (already in the canonical unit) or a string ``"<number> <unit>"``.
    canonical : str
        The field's canonical unit, a pint expression (``"kW"``, ``"CNY/kWh"``, ``""`` for
        dimensionless).

    Returns
    -------
    float
        The value in the canonical unit.

    Raises
    ------
    UnitError
        If the string cannot be parsed, has the wrong dimension or is not finite.
    """
    if isinstance(value, bool):
        raise UnitError(f"expected a number in {describe_unit(canonical)}, got a boolean ({shown(value)})")
    try:
        if isinstance(value, int | float):
            out = float(value)
        elif isinstance(value, str):
            out = _convert_string(value, canonical)
        else:
            raise UnitError(f"expected a number in {describe_unit(canonical)}, got {type(value).__name__}")
    except OverflowError as exc:
        raise UnitError(f"number too large: {shown(value)} (expected {describe_unit(canonical)})") from exc
    if not math.isfinite(out):
        raise UnitError(f"expected a finite number, got {shown(value)}")
    return out


#: Signs a unit may be written with besides letters and digits (``CNY/kW/month``, ``kW**2``, ``°C``, ``%``).
_UNIT_SIGNS = frozenset(" */^()._%°µμΔ²³·-+")
#: A power with its exponent: ``**2``, ``^-1``, ``** 0.5``.
_POWER = re.compile(r"(?:\*\*|\^)\s*([-+]?\d+(?:\.\d+)?)")
#: A digit that is not part of a unit's name (``tCO2`` has one in its name; ``10 kW`` does not).
_LOOSE_DIGIT = re.compile(r"(?<![A-Za-z_µμΔ°\d])\d")
#: Largest exponent a unit may carry (``m**3`` is common; ``kW**99`` is as far as sense goes).
MAX_UNIT_EXPONENT = 99


def _unit_text_problem(unit_text: str) -> str:
    """Why ``unit_text`` is not a plain unit expression (empty if it is one).

    pint evaluates a unit string as an arithmetic expression: ``10**10**10`` would run for ever
    and ``1/0`` raises. A unit here is names joined by ``*``, ``/`` and spaces, with
    parentheses and small whole or decimal exponents, and no numbers of its own (a leading
    ``1/``, as in ``1/K``, is allowed); the number goes before it (``"1.2 MW"``).
    """
    for ch in unit_text:
        if not (ch.isalpha() or ch.isdigit() or ch in _UNIT_SIGNS):
            return f"the character {ch!r} cannot be part of a unit"
    exponents = _POWER.findall(unit_text)
    if any(abs(float(e)) > MAX_UNIT_EXPONENT for e in exponents):
        return f"exponents of a unit are at most {MAX_UNIT_EXPONENT}"
    rest = _POWER.sub(" ", unit_text)
    if "**" in rest or "^" in rest:
        return "an exponent must be a number written right after ** or ^ (like kW**2)"
    rest = re.sub(r"^\s*1\s*/", "/", rest)
    if _LOOSE_DIGIT.search(rest):
        return "a number belongs before the unit (like '1.2 MW'), not inside it"
    return ""


def _convert_string(text: str, canonical: str) -> float:
    quoted = shown(text)
    match = _NUMBER_UNIT.match(text) if len(text) <= 200 else None
    if not match:
        raise UnitError(f"cannot read {quoted} as '<number> <unit>' (expected {describe_unit(canonical)})")
    number, unit_text = float(match.group(1)), match.group(2)
    target = _unit(canonical)
    if not unit_text:
        return number
    bad = _unit_text_problem(unit_text)
    if bad:
        expected = describe_unit(canonical)
        raise UnitError(f"cannot read the unit {shown(unit_text)} in {quoted}: {bad} (expected {expected})")
    try:
        given = UREG.Unit(unit_text)
    except Exception as exc:  # noqa: BLE001 - pint's parser raises many kinds (TokenError, ZeroDivisionError, ...)
        raise UnitError(f"unknown unit {shown(unit_text)} in {quoted} (expected {describe_unit(canonical)})") from exc
    if given.dimensionality != target.dimensionality:
        raise UnitError(
            f"{quoted} has the wrong dimension: expected {describe_unit(canonical)}, got {unit_text} ({_dim(given)})"
        )
    if _calendar_rate(given) != _calendar_rate(target):
        raise UnitError(
            f"{quoted}: expected {describe_unit(canonical)}, got {unit_text} ({_dim(given)}); the two "
            "have the same dimension, but this mixes up an energy price and a charge per period "
            "(e.g. CNY/kWh vs CNY/kW/month)"
        )
    try:
        return float(UREG.Quantity(number, given).to(target).magnitude)
    except pint.errors.PintError as exc:  # pragma: no cover - dimension was checked above
        raise UnitError(f"cannot convert {quoted} to {canonical}: {exc}") from exc


_DIMENSION_NAMES = {
    "W": "power",
    "kWh": "energy",
    "CNY": "money",
    "CNY/kWh": "money per energy",
    "CNY/kW": "money per power",
    "CNY/t": "money per mass",
    "degC": "temperature",
    "K": "temperature",
    "PFLOPS": "compute rate",
    "FLOP": "compute",
    "CNY/FLOP": "money per compute",
    "token/s": "token rate",
    "CNY*s/token": "money per token rate",
    "token": "tokens",
    "t": "mass",
    "t/MWh": "mass per energy",
    "s": "time",
    "": "dimensionless",
}


@cache
def _dimension_table() -> dict[Any, str]:
    return {UREG.Unit(u).dimensionality: name for u, name in _DIMENSION_NAMES.items()}


def _dim(unit: pint.Unit) -> str:
    """The dimension of ``unit`` in words; a rate per calendar period says so (``... per period``).

    ``CNY/kWh`` and ``CNY/kW/month`` share a dimension, so a calendar rate is named by what
    remains once its period is taken out: ``money per power per period``.
    """
    if _calendar_rate(unit):
        base = unit
        for name, exp in unit._units.items():
            if exp < 0 and UREG.get_name(name) in _CALENDAR:  # type: ignore[operator]
                base = base * UREG.Unit(name) ** (-exp)
        if base.dimensionality == UREG.Unit("").dimensionality:
            return "a rate per period"
        return f"{_dim(base)} per period"
    return _dimension_table().get(unit.dimensionality, str(unit.dimensionality))
