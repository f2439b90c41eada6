"""The time-of-use grid tariff: which period each calendar hour is in, and the price formula.

Sichuan's TOU rules (seasons, peak and valley hours, critical peak months and the hot-day trigger)
become a (365, 24) calendar of periods; :func:`grid_price` is the one formula that turns a flat
price into an hourly one, used by the model and by every check of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from planner.time.profiles import DAYS_PER_YEAR, HOURS_PER_DAY, HOURS_PER_YEAR, day_months

# ----------------------------------------------------------------------------------------------
# Time-of-use tariff
# ----------------------------------------------------------------------------------------------

#: The TOU periods in a fixed order (the last axis of ``TimeData.tou_period_share``).
TOU_PERIODS: tuple[str, ...] = ("critical", "peak", "flat", "valley")


class _Season(Protocol):
    """A TOU season (read-only view of the schema's ``TouSeason``)."""

    @property
    def months(self) -> Sequence[int]: ...
    @property
    def peak(self) -> Sequence[tuple[int, int]]: ...
    @property
    def valley(self) -> Sequence[tuple[int, int]]: ...


class _Critical(Protocol):
    """A critical-peak rule by month."""

    @property
    def months(self) -> Sequence[int]: ...
    @property
    def hours(self) -> Sequence[tuple[int, int]]: ...


class _HotDays(Protocol):
    """The hot-day critical-peak trigger."""

    @property
    def min_dry_bulb_c(self) -> float: ...
    @property
    def consecutive_days(self) -> int: ...
    @property
    def hours(self) -> Sequence[tuple[int, int]]: ...
    @property
    def months(self) -> Sequence[int] | None: ...


class _Tariff(Protocol):
    """The tariff's seasons and critical-peak rules."""

    @property
    def seasons(self) -> Sequence[_Season]: ...
    @property
    def critical(self) -> Sequence[_Critical]: ...


def _hour_mask(ranges: Iterable[tuple[int, int]], what: str) -> np.ndarray:
    """Boolean (24,) mask of the hours covered by half-open ranges, wrapping past midnight."""
    mask = np.zeros(HOURS_PER_DAY, dtype=bool)
    hours = np.arange(HOURS_PER_DAY)
    for rng in ranges:
        start, end = (int(x) for x in rng)
        if not (0 <= start <= HOURS_PER_DAY and 0 <= end <= HOURS_PER_DAY) or start == end:
            raise ValueError(f"{what}: hour range {tuple(rng)} must satisfy 0 <= start, end <= 24, start != end")
        mask |= (hours >= start) & (hours < end) if start < end else (hours >= start) | (hours < end)
    return mask


def _check_months(months: Iterable[int], what: str) -> list[int]:
    out = [int(m) for m in months]
    bad = [m for m in out if not 1 <= m <= 12]
    if bad:
        raise ValueError(f"{what}: months must be 1..12, got {bad}")
    return out


def _tou_table(seasons: Sequence[_Season], critical: Sequence[_Critical]) -> np.ndarray:
    """(12, 24) table of period names, row = month - 1, column = hour."""
    table = np.full((12, HOURS_PER_DAY), "", dtype="<U8")
    owner: dict[int, int] = {}
    for k, season in enumerate(seasons):
        peak = _hour_mask(season.peak, f"season {k} peak")
        valley = _hour_mask(season.valley, f"season {k} valley")
        both = np.flatnonzero(peak & valley)
        if both.size:
            raise ValueError(f"season {k}: hour(s) {both.tolist()} are both peak and valley")
        row = np.where(peak, "peak", np.where(valley, "valley", "flat"))
        for m in _check_months(season.months, f"season {k}"):
            if m in owner:
                raise ValueError(f"month {m} is covered by seasons {owner[m]} and {k}; it must be in exactly one")
            owner[m] = k
            table[m - 1] = row
    uncovered = [m for m in range(1, 13) if m not in owner]
    if uncovered:
        raise ValueError(f"month(s) {uncovered} are not covered by any TOU season")
    for k, crit in enumerate(critical):
        mask = _hour_mask(crit.hours, f"critical period {k}")
        for m in _check_months(crit.months, f"critical period {k}"):
            table[m - 1, mask] = "critical"
    return table


def tou_periods(
    month: np.ndarray,
    hour: np.ndarray,
    seasons: Sequence[_Season],
    critical: Sequence[_Critical] = (),
) -> np.ndarray:
    """Time-of-use period of each (month, hour) under a seasonal TOU tariff.

    Parameters
    ----------
    month : numpy.ndarray of int
        Calendar month [1..12]; broadcast against ``hour``.
    hour : numpy.ndarray of int
        Hour of day, hour-beginning [0..23].
    seasons : sequence of season-like objects
        Each has ``.months`` [1..12], ``.peak`` and ``.valley`` [h], lists of half-open hour
        ranges ``(start, end)`` with 0 <= start, end <= 24 that wrap past midnight when
        start > end (``(22, 8)`` is 22:00-08:00). Hours in neither list are "flat". Every month
        must belong to exactly one season.
    critical : sequence of critical-period-like objects, default ()
        Each has ``.months`` [1..12] and ``.hours`` [h] (hour ranges as above); those cells are
        "critical", overriding peak / flat / valley.

    Returns
    -------
    numpy.ndarray of dtype ``<U8``
        One of "critical", "peak", "flat", "valley" per element [-].

    Raises
    ------
    ValueError
        A month is in no season or in several, an hour is both peak and valley in a season,
        an hour range is malformed, or ``month`` / ``hour`` are out of range.
    """
    month_arr, hour_arr = np.broadcast_arrays(np.asarray(month), np.asarray(hour))
    if month_arr.size and (not np.all(month_arr == np.round(month_arr)) or month_arr.min() < 1 or month_arr.max() > 12):
        raise ValueError("month must hold integers 1..12")
    if hour_arr.size and (not np.all(hour_arr == np.round(hour_arr)) or hour_arr.min() < 0 or hour_arr.max() > 23):
        raise ValueError("hour must hold integers 0..23")
    table = _tou_table(seasons, critical)
    return table[month_arr.astype(np.int64) - 1, hour_arr.astype(np.int64)].astype("<U8")


def hot_spell_days(daily_max_c: np.ndarray, min_c: float, consecutive_days: int) -> np.ndarray:
    """Days that end a run of at least ``consecutive_days`` hot days (or continue such a run).

    Day ``i`` is flagged when days ``i - consecutive_days + 1 .. i`` all have a maximum of at
    least ``min_c``; so in a run of hot days the ``consecutive_days``-th day and every later day
    of the run are flagged. Runs do not wrap from the last day back to the first.

    Parameters
    ----------
    daily_max_c : numpy.ndarray
        (n,) daily maximum temperature in calendar order [°C].
    min_c : float
        Threshold; a day is hot when its maximum is >= ``min_c`` [°C].
    consecutive_days : int
        Run length needed, >= 1 [days].

    Returns
    -------
    numpy.ndarray of bool
        (n,) True on the flagged days [-].

    Raises
    ------
    ValueError
        ``consecutive_days`` < 1, or ``daily_max_c`` is not one-dimensional.
    """
    tmax = np.asarray(daily_max_c, dtype=float)
    if tmax.ndim != 1:
        raise ValueError(f"daily_max_c must be one-dimensional, got shape {tmax.shape}")
    n = int(consecutive_days)
    if n < 1:
        raise ValueError(f"consecutive_days must be >= 1, got {consecutive_days}")
    hot = tmax >= float(min_c)
    run = np.zeros(tmax.size, dtype=np.int64)  # length of the hot run ending on each day
    count = 0
    for i, is_hot in enumerate(hot):
        count = count + 1 if is_hot else 0
        run[i] = count
    return run >= n


def calendar_tou_periods(
    months: np.ndarray | pd.DataFrame,
    dry_bulb_c: np.ndarray | None,
    tariff: _Tariff,
) -> np.ndarray:
    """TOU period of every hour of the calendar year, hot-spell critical days included.

    Each calendar day gets the periods of its month (:func:`tou_periods`: seasons, then the
    ``critical`` rules); then, if ``tariff.critical_hot_days`` is set, the days flagged by
    :func:`hot_spell_days` on the daily maximum dry-bulb temperature, whose month is in its
    ``months`` (default: every month no ``critical`` rule covers), get ``"critical"`` in its
    ``hours``.

    Parameters
    ----------
    months : numpy.ndarray of int or pandas.DataFrame
        (365,) month of each calendar day [1..12], or an 8760-row profile frame (as from
        :func:`load_profiles`; its ``month`` column, else a non-leap calendar).
    dry_bulb_c : numpy.ndarray, optional
        (8760,) or (365, 24) hourly dry-bulb temperature [°C]; if None, the frame's
        ``dry_bulb_c`` column. Needed only when the tariff has ``critical_hot_days``.
    tariff : tariff-like
        Has ``.seasons`` and ``.critical`` as for :func:`tou_periods` and optionally
        ``.critical_hot_days`` (``.min_dry_bulb_c`` [°C], ``.consecutive_days`` [days],
        ``.hours`` [h], ``.months`` [1..12] or None), e.g. a
        :class:`planner.scenario.schema.Tariff`.

    Returns
    -------
    numpy.ndarray of dtype ``<U8``
        (365, 24) one of :data:`TOU_PERIODS` per calendar day and hour [-].

    Raises
    ------
    ValueError
        As :func:`tou_periods`; months not of shape (365,); a missing or misshapen
        temperature when the tariff needs it.
    """
    frame = months if isinstance(months, pd.DataFrame) else None
    if frame is not None:
        if len(frame) != HOURS_PER_YEAR:
            raise ValueError(f"frame must have {HOURS_PER_YEAR} hourly rows, got {len(frame)}")
        day_month = day_months(frame)
    else:
        day_month = np.asarray(months)
        if day_month.shape != (DAYS_PER_YEAR,):
            raise ValueError(f"months must have shape ({DAYS_PER_YEAR},), one per calendar day, got {day_month.shape}")
    hour = np.arange(HOURS_PER_DAY)[None, :]
    periods = tou_periods(day_month[:, None], hour, tariff.seasons, tariff.critical)
    hot_rule: _HotDays | None = getattr(tariff, "critical_hot_days", None)
    if hot_rule is None:
        return periods
    if dry_bulb_c is None:
        if frame is None or "dry_bulb_c" not in frame.columns:
            raise ValueError("critical_hot_days needs the hourly dry-bulb temperature (column 'dry_bulb_c')")
        dry_bulb_c = frame["dry_bulb_c"].to_numpy(dtype=float)
    dry = np.asarray(dry_bulb_c, dtype=float)
    if dry.size != HOURS_PER_YEAR:
        raise ValueError(f"dry_bulb_c must hold {HOURS_PER_YEAR} hourly values, got shape {dry.shape}")
    triggered = hot_spell_days(
        dry.reshape(DAYS_PER_YEAR, HOURS_PER_DAY).max(axis=1),
        float(hot_rule.min_dry_bulb_c),
        int(hot_rule.consecutive_days),
    )
    if hot_rule.months is not None:
        active = _check_months(hot_rule.months, "critical_hot_days")
    else:
        covered = {int(m) for rule in tariff.critical for m in rule.months}
        active = [m for m in range(1, 13) if m not in covered]
    mask = _hour_mask(hot_rule.hours, "critical_hot_days")
    rows = triggered & np.isin(day_month, active)
    periods[np.ix_(rows, mask)] = "critical"
    return periods


def grid_price(flat: Any, non_floating: float, multiplier: Any, adder: Any = 0.0, scale: Any = 1.0) -> Any:
    """The grid energy price of an hour under Sichuan's TOU tariff [CNY/kWh]: the one formula.

    ``price = non_floating + scale * ((flat - non_floating) * multiplier + adder)``: the government
    funds and surcharges in the flat price (``non_floating``) neither float with the TOU period
    nor scale in a sweep; the floating part is multiplied by the period's multiplier, and the
    season adder (summer/winter) is added to it.

    Works on numbers, numpy arrays (elementwise) and Pyomo expressions alike (the model's
    ``grid_price`` rows are written with it).

    Parameters
    ----------
    flat : float, array or expression
        Flat-period energy price including the non-floating part [CNY/kWh].
    non_floating : float
        Part of the flat price that does not float with TOU [CNY/kWh].
    multiplier : float, array or expression
        Multiplier of the floating part, e.g. critical 1.92, peak 1.6, flat 1.0, valley 0.4 [-]
        (on a representative hour: the mean over its member days).
    adder : float, array or expression
        Season adder on the floating part [CNY/kWh].
    scale : float or expression
        Sweep multiplier on the floating part and the adder (``tariff.scale``) [-].
    """
    return non_floating + scale * ((flat - non_floating) * multiplier + adder)


def energy_cost(
    flat: Any, non_floating: float, energy: Any, tou_energy: Any, adder_energy: Any, scale: Any = 1.0
) -> Any:
    """:func:`grid_price` times the energy of each hour, summed over hours [CNY/kWh * MWh]: by aggregates.

    ``sum_h price_h * e_h = non_floating * E + scale * ((flat - non_floating) * E_tou + A)`` with
    ``E = sum_h e_h``, ``E_tou = sum_h multiplier_h * e_h`` and ``A = sum_h adder_h * e_h``: the prices
    multiply three sums that do not depend on them (the model's yearly energy cost is written with it, so
    that a new tariff re-prices three numbers a site and year instead of every hour).

    Parameters
    ----------
    flat, non_floating, scale
        As in :func:`grid_price`.
    energy : float, array or expression
        ``E``: the energy [MWh].
    tou_energy : float, array or expression
        ``E_tou``: the energy weighted by each hour's TOU multiplier [MWh].
    adder_energy : float, array or expression
        ``A``: the energy weighted by each hour's season adder [CNY/kWh * MWh].
    """
    return non_floating * energy + scale * ((flat - non_floating) * tou_energy + adder_energy)
