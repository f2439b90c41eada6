"""Hourly site profiles: loading, TOU tariff expansion, cooling power and representative days.

Everything here is a pure function of numpy / pandas data (plus :mod:`tsam` for clustering);
nothing knows about the pydantic scenario, which is glued on elsewhere.

Conventions
-----------
* A profile year has exactly 8760 hourly rows (365 days x 24 h, hour-beginning). Row ``t``
  belongs to calendar day ``t // 24`` (0..364) and hour ``t % 24`` (0..23).
* Shares (``pv_cf``, ``*_availability``, ``inference_shape``) are dimensionless [-].
* Temperatures are in [°C], grid emission factors in [t CO2/MWh], prices in [CNY/kWh].
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from planner.scenario.schema import Scenario

__all__ = [
    "COLUMN_RANGES",
    "PROFILE_COLUMNS",
    "ProfileError",
    "RepresentativeDays",
    "TOU_PERIODS",
    "calendar_tou_periods",
    "cooling_coefficient",
    "hot_spell_days",
    "load_profiles",
    "reduce_days",
    "tou_periods",
    "tou_prices",
    "TimeData",
    "load_profiles_cached",
    "prepare_time",
]

HOURS_PER_YEAR = 8760
DAYS_PER_YEAR = 365
HOURS_PER_DAY = 24

PROFILE_COLUMNS: tuple[str, ...] = (
    "dry_bulb_c",
    "wet_bulb_c",
    "pv_cf",
    "inference_shape",
    "hydro_availability",
    "wind_availability",
    "grid_emission_t_per_mwh",
)

#: Physical (low, high) bounds per known column, inclusive, in the column's own unit.
COLUMN_RANGES: dict[str, tuple[float, float]] = {
    "dry_bulb_c": (-40.0, 55.0),
    "wet_bulb_c": (-45.0, 40.0),
    "pv_cf": (0.0, 1.0),
    "inference_shape": (0.0, 1.0),
    "hydro_availability": (0.0, 1.0),
    "wind_availability": (0.0, 1.0),
    "grid_emission_t_per_mwh": (0.0, 2.0),
}

_COLUMN_UNITS: dict[str, str] = {
    "dry_bulb_c": "°C",
    "wet_bulb_c": "°C",
    "grid_emission_t_per_mwh": "t/MWh",
}

#: Columns that :func:`load_profiles` derives from the timestamp; a file must not carry them.
_CALENDAR_COLUMNS: tuple[str, ...] = ("month", "day", "hour")
_TIMESTAMP = "timestamp"
_AVAILABILITY_SUFFIX = "_availability"
#: Tolerance [°C] on wet bulb <= dry bulb (rounding in the source data).
_WET_BULB_TOLERANCE_C = 0.05
_MISSING_TOKENS = frozenset({"", "nan", "na", "n/a", "null", "none"})
#: Non-leap reference year used when a file carries no timestamp column.
_REFERENCE_YEAR = 2025
#: Largest profile file read [bytes]; the shipped Chengdu file is about 0.5 MB.
MAX_PROFILE_BYTES = 20_000_000
#: Most lines a profile file may have (comments included); a year is 8760 rows.
MAX_PROFILE_LINES = 100_000


# ----------------------------------------------------------------------------------------------
# Loading
# ----------------------------------------------------------------------------------------------


class ProfileError(Exception):
    """A profile file failed validation.

    Parameters
    ----------
    problems : list of str
        Every problem found [-]; each message names the column and, where relevant, the first
        offending 1-based data row and its value.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems: list[str] = list(problems)
        super().__init__(self.problems)  # args keep the list, so the error pickles intact

    def __str__(self) -> str:
        return "\n".join(self.problems)


def _column_range(name: str) -> tuple[float, float] | None:
    """Physical range of a column, or None if the column is not range-checked."""
    if name in COLUMN_RANGES:
        return COLUMN_RANGES[name]
    if name.endswith(_AVAILABILITY_SUFFIX):
        return (0.0, 1.0)
    return None


def _fmt(value: float) -> str:
    """Short, exact-enough rendering of a number for error messages."""
    return f"{value:.6g}"


def _first(mask: np.ndarray) -> int:
    """Index of the first True entry of a boolean mask (mask must have one)."""
    return int(np.flatnonzero(mask)[0])


def _read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """Read header and data rows of a CSV whose comment lines start with ``#``.

    Raises
    ------
    ProfileError
        If the file is not UTF-8 text, has more than MAX_PROFILE_LINES lines, is not valid CSV, has no
        header, or has ragged rows.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProfileError([f"{path}: not parseable, the file is not UTF-8 text ({exc.reason})"]) from exc
    except OSError as exc:
        raise ProfileError([f"{path}: could not be read ({exc.strerror or exc})"]) from exc
    all_lines = text.splitlines()
    if len(all_lines) > MAX_PROFILE_LINES:
        raise ProfileError(
            [
                f"{path}: has {len(all_lines):,} lines; a profile holds one year of {HOURS_PER_YEAR} hourly rows"
                f" and at most {MAX_PROFILE_LINES:,} lines are read"
            ]
        )
    lines = [line for line in all_lines if line.strip() and not line.lstrip().startswith("#")]
    try:
        rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO("\n".join(lines)))]
    except csv.Error as exc:
        raise ProfileError([f"{path}: not parseable as CSV ({exc})"]) from exc
    if not rows:
        raise ProfileError([f"{path}: not parseable, no header row found (the file is empty or only comments)"])
    header, data = rows[0], rows[1:]
    ragged = [i for i, row in enumerate(data) if len(row) != len(header)]
    if ragged:
        first = ragged[0]
        raise ProfileError(
            [
                f"{path}: not parseable, {len(ragged)} data row(s) do not have the {len(header)} fields of "
                f"the header; first at data row {first + 1} with {len(data[first])} field(s)"
            ]
        )
    return header, data


def _parse_numeric(name: str, raw: np.ndarray, problems: list[str]) -> np.ndarray:
    """Convert one column of raw strings to float64, reporting missing / text / inf values."""
    stripped = pd.Series(raw, dtype=object)
    values = pd.to_numeric(stripped, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    missing = np.fromiter((str(cell).lower() in _MISSING_TOKENS for cell in raw), dtype=bool, count=raw.size)
    text = np.isnan(values) & ~missing
    if text.any():
        i = _first(text)
        problems.append(
            f"column {name!r}: {int(text.sum())} non-numeric value(s), first at data row {i + 1}: {raw[i]!r}"
        )
    if missing.any():
        i = _first(missing)
        problems.append(
            f"column {name!r}: {int(missing.sum())} missing/NaN value(s), first at data row {i + 1}: {raw[i]!r}"
        )
    infinite = np.isinf(values)
    if infinite.any():
        i = _first(infinite)
        problems.append(
            f"column {name!r}: {int(infinite.sum())} infinite value(s), first at data row {i + 1}: {raw[i]!r}"
        )
    return values


def _check_range(name: str, values: np.ndarray, problems: list[str]) -> None:
    """Report finite values outside the physical range of a column."""
    bounds = _column_range(name)
    if bounds is None:
        return
    low, high = bounds
    with np.errstate(invalid="ignore"):
        bad = np.isfinite(values) & ((values < low) | (values > high))
    if bad.any():
        i = _first(bad)
        unit = _COLUMN_UNITS.get(name, "-")
        problems.append(
            f"column {name!r}: {int(bad.sum())} value(s) outside the physical range "
            f"[{_fmt(low)}, {_fmt(high)}] {unit}, first at data row {i + 1}: {_fmt(values[i])}"
        )


def _parse_timestamps(raw: np.ndarray, problems: list[str]) -> pd.DatetimeIndex | None:
    """Parse ISO timestamps and check that they are consecutive hours starting at 00:00.

    One step of 25 h is accepted where 29 February was dropped from a leap year.
    Timezone-aware stamps keep their local wall-clock time.
    """
    try:
        stamps = pd.to_datetime(pd.Series(raw, dtype=object), format="ISO8601", errors="coerce")
    except (ValueError, TypeError) as exc:
        problems.append(f"column {_TIMESTAMP!r}: not parseable as ISO timestamps ({exc})")
        return None
    bad = stamps.isna().to_numpy()
    if bad.any():
        i = _first(bad)
        problems.append(
            f"column {_TIMESTAMP!r}: {int(bad.sum())} value(s) are not ISO timestamps, first at data row "
            f"{i + 1}: {raw[i]!r}"
        )
        return None
    index = pd.DatetimeIndex(stamps)
    if index.tz is not None:
        index = index.tz_localize(None)
    n = len(index)
    hour = index.hour.to_numpy()
    off = hour != np.arange(n) % HOURS_PER_DAY
    if off.any():
        i = _first(off)
        problems.append(
            f"column {_TIMESTAMP!r}: the year must start at 00:00 and run in whole days; data row {i + 1} "
            f"({raw[i]}) has hour {hour[i]}, expected {i % HOURS_PER_DAY}"
        )
    if n > 1:
        step_h = np.diff(index.to_numpy().astype("datetime64[s]").astype(np.int64)) / 3600.0
        prev = index[:-1]
        skips_feb29 = (step_h == 25.0) & (prev.month == 2) & (prev.day == 28) & prev.is_leap_year
        bad_step = (step_h != 1.0) & ~np.asarray(skips_feb29)
        if bad_step.any():
            i = _first(bad_step) + 1
            problems.append(
                f"column {_TIMESTAMP!r}: timestamps must be consecutive hours; data row {i + 1} ({raw[i]}) "
                f"follows the previous one by {_fmt(step_h[i - 1])} h"
            )
    return index


def load_profiles(
    path: Path,
    required: Sequence[str] = PROFILE_COLUMNS,
    max_bytes: int = MAX_PROFILE_BYTES,
) -> pd.DataFrame:
    """Read and validate an hourly profile CSV.

    The file may start with comment lines beginning with ``#``; then comes a header row, an
    optional ``timestamp`` column (ISO 8601, hourly, hour-beginning) and numeric columns.
    Every problem found is collected and reported together in one :class:`ProfileError`.

    Parameters
    ----------
    path : pathlib.Path
        CSV file to read [-].
    required : sequence of str, default PROFILE_COLUMNS
        Columns that must be present [-]. Extra numeric columns are allowed and returned
        (e.g. the availability of another PPA); columns whose name ends in ``_availability``
        are range-checked to 0..1.
    max_bytes : int, default MAX_PROFILE_BYTES
        Largest file size accepted [bytes]; a larger file is refused before it is read, and a
        file of more than :data:`MAX_PROFILE_LINES` lines before it is parsed.

    Returns
    -------
    pandas.DataFrame
        RangeIndex 0..8759; every numeric column of the file as float64 [column unit], plus
        int64 columns ``month`` [1..12], ``day`` [0..364, day of the profile year] and
        ``hour`` [0..23]. Without a timestamp column the calendar of a non-leap year starting
        1 January 00:00 is assumed. ``attrs["source"]`` holds the path.

    Raises
    ------
    ProfileError
        Missing file, a path that cannot be read (a NUL byte, a name too long for the file
        system), file too large, unparseable file, not exactly 8760 data rows, missing
        required columns, non-numeric / NaN / infinite values, values outside
        :data:`COLUMN_RANGES`, wet bulb above dry bulb + 0.05 °C, ``inference_shape`` all zero,
        bad timestamps, or a column named ``month``, ``day`` or ``hour``.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except (FileNotFoundError, NotADirectoryError):
        raise ProfileError([f"{path}: file not found"]) from None
    except (OSError, ValueError) as exc:  # e.g. a NUL byte or a name too long for the file system
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ProfileError([f"{path}: cannot read the file: {reason}"]) from exc
    if not path.is_file():
        raise ProfileError([f"{path}: not a regular file"])
    if size > max_bytes:
        raise ProfileError(
            [f"{path}: file is {size} bytes, larger than the limit of {max_bytes} bytes; refusing to read it"]
        )

    header, rows = _read_rows(path)
    problems: list[str] = []

    n_rows = len(rows)
    if n_rows != HOURS_PER_YEAR:
        problems.append(f"{path}: expected exactly {HOURS_PER_YEAR} hourly data rows, found {n_rows}")

    blank = [i + 1 for i, name in enumerate(header) if not name]
    if blank:
        problems.append(f"header: column(s) number {', '.join(map(str, blank))} have no name")
    duplicates = sorted({name for name in header if name and header.count(name) > 1})
    if duplicates:
        problems.append(f"header: duplicate column name(s): {', '.join(duplicates)}")
    reserved = [name for name in header if name in _CALENDAR_COLUMNS]
    if reserved:
        problems.append(
            f"header: column(s) {', '.join(reserved)} are reserved (derived from the timestamp); rename or drop them"
        )
    missing_cols = [name for name in required if name not in header]
    if missing_cols:
        problems.append(f"missing required column(s): {', '.join(missing_cols)}")

    table = np.array(rows, dtype=object).reshape(n_rows, len(header))
    values: dict[str, np.ndarray] = {}
    stamps: pd.DatetimeIndex | None = None
    for j, name in enumerate(header):
        if not name or name in values or name in _CALENDAR_COLUMNS:
            continue
        if name == _TIMESTAMP:
            stamps = _parse_timestamps(table[:, j], problems)
            continue
        column = _parse_numeric(name, table[:, j], problems)
        _check_range(name, column, problems)
        values[name] = column

    if "dry_bulb_c" in values and "wet_bulb_c" in values:
        dry, wet = values["dry_bulb_c"], values["wet_bulb_c"]
        with np.errstate(invalid="ignore"):
            above = np.isfinite(dry) & np.isfinite(wet) & (wet > dry + _WET_BULB_TOLERANCE_C)
        if above.any():
            i = _first(above)
            problems.append(
                f"column 'wet_bulb_c': above dry_bulb_c + {_WET_BULB_TOLERANCE_C} °C in {int(above.sum())} "
                f"row(s), first at data row {i + 1}: wet bulb {_fmt(wet[i])} > dry bulb {_fmt(dry[i])}"
            )
    if "inference_shape" in values and n_rows > 0:
        shape = values["inference_shape"]
        if np.all(np.nan_to_num(shape, nan=0.0) == 0.0):
            problems.append("column 'inference_shape': all values are zero (no inference load)")

    if problems:
        raise ProfileError(problems)

    frame = pd.DataFrame(values, index=pd.RangeIndex(n_rows), dtype="float64")
    if stamps is None:
        stamps = pd.date_range(f"{_REFERENCE_YEAR}-01-01", periods=n_rows, freq="h")
    frame["month"] = np.asarray(stamps.month, dtype=np.int64)
    frame["day"] = np.arange(n_rows, dtype=np.int64) // HOURS_PER_DAY
    frame["hour"] = np.asarray(stamps.hour, dtype=np.int64)
    frame.attrs["source"] = str(path)
    return frame


# ----------------------------------------------------------------------------------------------
# Time-of-use tariff
# ----------------------------------------------------------------------------------------------

#: The TOU periods in a fixed order (the last axis of ``TimeData.tou_period_share``).
TOU_PERIODS: tuple[str, ...] = ("critical", "peak", "flat", "valley")


class _Season(Protocol):
    months: Sequence[int]
    peak: Sequence[tuple[int, int]]
    valley: Sequence[tuple[int, int]]


class _Critical(Protocol):
    months: Sequence[int]
    hours: Sequence[tuple[int, int]]


class _HotDays(Protocol):
    min_dry_bulb_c: float
    consecutive_days: int
    hours: Sequence[tuple[int, int]]
    months: Sequence[int] | None


class _Tariff(Protocol):
    seasons: Sequence[_Season]
    critical: Sequence[_Critical]


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
        day_month = _day_months(frame)
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


def tou_prices(
    periods: np.ndarray,
    flat: float,
    non_floating: float,
    multipliers: Mapping[str, float],
) -> np.ndarray:
    """Energy price per hour under a TOU tariff whose non-floating part does not float.

    ``price = non_floating + (flat - non_floating) * multipliers[period]``: in Sichuan the
    government funds and surcharges in the flat price are not scaled by the TOU multiplier.

    Parameters
    ----------
    periods : numpy.ndarray of str
        TOU period per element, as from :func:`tou_periods` [-].
    flat : float
        Flat-period energy price including the non-floating part [CNY/kWh].
    non_floating : float
        Part of the flat price that does not float with TOU (government funds) [CNY/kWh].
    multipliers : mapping of str to float
        Multiplier of the floating part per period [-], e.g. critical 1.92, peak 1.6, flat 1.0,
        valley 0.4.

    Returns
    -------
    numpy.ndarray of float64
        Price per element, same shape as ``periods`` [CNY/kWh].

    Raises
    ------
    ValueError
        A period in ``periods`` has no multiplier.
    """
    periods_arr = np.asarray(periods)
    names, inverse = np.unique(periods_arr, return_inverse=True)
    unknown = [str(name) for name in names if name not in multipliers]
    if unknown:
        raise ValueError(f"no TOU multiplier for period(s) {unknown}; have {sorted(multipliers)}")
    factor = np.array([float(multipliers[str(name)]) for name in names], dtype=float)
    floating = float(flat) - float(non_floating)
    return (float(non_floating) + floating * factor[inverse]).reshape(periods_arr.shape)


# ----------------------------------------------------------------------------------------------
# Cooling
# ----------------------------------------------------------------------------------------------


def cooling_coefficient(
    dry_bulb_c: np.ndarray,
    wet_bulb_c: np.ndarray,
    *,
    basis: Literal["dry_bulb", "wet_bulb"],
    free_cooling_below_c: float,
    mechanical_above_c: float,
    cop_rated: float,
    cop_rated_at_c: float,
    cop_slope_per_c: float,
    cop_min: float,
    fans_pumps_kw_per_kw: float,
) -> np.ndarray:
    """Electric cooling power per unit of IT heat as a function of ambient conditions.

    With ``T`` the basis temperature, the mechanical share is
    ``m = clip((T - free_cooling_below_c) / (mechanical_above_c - free_cooling_below_c), 0, 1)``
    (partial economiser in between), the chiller COP is
    ``COP = max(cop_min, cop_rated - cop_slope_per_c * (T - cop_rated_at_c))`` and the result
    is ``fans_pumps_kw_per_kw + m / COP``.

    Parameters
    ----------
    dry_bulb_c : numpy.ndarray
        Ambient dry-bulb temperature [°C].
    wet_bulb_c : numpy.ndarray
        Ambient wet-bulb temperature [°C]; broadcast against ``dry_bulb_c``.
    basis : {"dry_bulb", "wet_bulb"}
        Which temperature drives economiser and chiller (dry coolers / air-side vs. cooling
        towers / evaporative) [-].
    free_cooling_below_c : float
        Below this basis temperature cooling is fully free (economiser only) [°C].
    mechanical_above_c : float
        Above this basis temperature cooling is fully mechanical [°C]; must exceed
        ``free_cooling_below_c``.
    cop_rated : float
        Chiller COP at ``cop_rated_at_c`` [kW heat / kW electric].
    cop_rated_at_c : float
        Basis temperature at which ``cop_rated`` holds [°C].
    cop_slope_per_c : float
        Loss of COP per degree of basis temperature above ``cop_rated_at_c`` [1/°C].
    cop_min : float
        Floor of the COP [kW heat / kW electric]; must be positive.
    fans_pumps_kw_per_kw : float
        Always-on fans and pumps [kW electric / kW IT heat].

    Returns
    -------
    numpy.ndarray of float64
        Cooling coefficient kappa, broadcast shape of the inputs [kW electric / kW IT heat].

    Raises
    ------
    ValueError
        Unknown ``basis``, ``mechanical_above_c <= free_cooling_below_c``, non-positive
        ``cop_min`` or ``cop_rated``, or negative ``fans_pumps_kw_per_kw``.
    """
    if basis not in ("dry_bulb", "wet_bulb"):
        raise ValueError(f"basis must be 'dry_bulb' or 'wet_bulb', got {basis!r}")
    if not mechanical_above_c > free_cooling_below_c:
        raise ValueError(
            f"mechanical_above_c ({mechanical_above_c}) must exceed free_cooling_below_c ({free_cooling_below_c})"
        )
    if not (cop_min > 0 and cop_rated > 0):
        raise ValueError(f"cop_min ({cop_min}) and cop_rated ({cop_rated}) must be positive")
    if fans_pumps_kw_per_kw < 0:
        raise ValueError(f"fans_pumps_kw_per_kw must be >= 0, got {fans_pumps_kw_per_kw}")
    dry, wet = np.broadcast_arrays(np.asarray(dry_bulb_c, dtype=float), np.asarray(wet_bulb_c, dtype=float))
    temp = dry if basis == "dry_bulb" else wet
    share = np.clip((temp - free_cooling_below_c) / (mechanical_above_c - free_cooling_below_c), 0.0, 1.0)
    cop = np.maximum(cop_min, cop_rated - cop_slope_per_c * (temp - cop_rated_at_c))
    return np.asarray(fans_pumps_kw_per_kw + share / cop, dtype=float)


# ----------------------------------------------------------------------------------------------
# Representative days
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class RepresentativeDays:
    """A year of hourly data represented by a few real calendar days.

    Representatives are sorted chronologically (by ``day_of_year``) for every method.

    Parameters
    ----------
    data : dict of str to numpy.ndarray
        Column -> (n_days, 24) hourly values of the representative days [column unit].
    weight : numpy.ndarray of int
        (n_days,) calendar days each representative stands for [days]; sums to 365.
    day_of_year : numpy.ndarray of int
        (n_days,) calendar day 0..364 each representative is (the cluster medoid) [-].
    month : numpy.ndarray of int
        (n_days,) month 1..12 of that calendar day [-].
    assignment : numpy.ndarray of int
        (365,) index of the representative standing for each calendar day [-].
    method : str
        "tsam", "monthly" or "full" [-].
    extremes : dict of str to int, default {}
        ``"column:max"`` / ``"column:min"`` -> index of the representative holding that
        extreme hour of the year [-].
    """

    data: dict[str, np.ndarray]
    weight: np.ndarray
    day_of_year: np.ndarray
    month: np.ndarray
    assignment: np.ndarray
    method: str
    extremes: dict[str, int] = field(default_factory=dict)

    @property
    def n_days(self) -> int:
        """Number of representative days [-]."""
        return int(self.weight.size)

    def expand(self, column: str) -> np.ndarray:
        """Rebuild a full year of one column from the representatives.

        Parameters
        ----------
        column : str
            Column name [-].

        Returns
        -------
        numpy.ndarray of float64
            (8760,) hourly values, each calendar day replaced by its representative [column unit].
        """
        return np.asarray(self.data[column][self.assignment], dtype=float).reshape(-1)

    def aggregation_error(self, frame: pd.DataFrame, load_column: str | None = None) -> pd.DataFrame:
        """Error statistics of the representation against the actual year.

        Parameters
        ----------
        frame : pandas.DataFrame
            The 8760-row year the representatives were taken from [column units].
        load_column : str, optional
            If given (e.g. ``"inference_shape"``), add load-weighted means
            ``sum(load * x) / sum(load)`` of every column, actual and represented, and their
            error [column unit, %]; useful for e.g. the load-weighted grid emission factor.

        Returns
        -------
        pandas.DataFrame
            One row per column of ``data`` present in ``frame``, with ``annual_mean``,
            ``represented_mean`` [column unit], ``mean_error_pct`` [%], ``nrmse_pct``
            (RMSE of the rebuilt year vs. the actual one, divided by the actual range) [%],
            ``actual_max``, ``represented_max``, ``actual_min``, ``represented_min``
            [column unit] (and the load-weighted columns if requested).
        """
        if len(frame) != HOURS_PER_YEAR:
            raise ValueError(f"frame must have {HOURS_PER_YEAR} rows, got {len(frame)}")
        load_actual = load_rep = None
        if load_column is not None:
            load_actual = frame[load_column].to_numpy(dtype=float)
            load_rep = self.expand(load_column)
        records: dict[str, dict[str, float]] = {}
        for name in self.data:
            if name not in frame.columns:
                continue
            actual = frame[name].to_numpy(dtype=float)
            rebuilt = self.expand(name)
            mean_actual = float(actual.mean())
            mean_rep = float(np.sum(self.weight * self.data[name].mean(axis=1)) / DAYS_PER_YEAR)
            span = float(actual.max() - actual.min())
            rmse = float(np.sqrt(np.mean((rebuilt - actual) ** 2)))
            rec = {
                "annual_mean": mean_actual,
                "represented_mean": mean_rep,
                "mean_error_pct": _pct(mean_rep - mean_actual, mean_actual),
                "nrmse_pct": _pct(rmse, span),
                "actual_max": float(actual.max()),
                "represented_max": float(self.data[name].max()),
                "actual_min": float(actual.min()),
                "represented_min": float(self.data[name].min()),
            }
            if load_actual is not None and load_rep is not None:
                lw_actual = float(np.sum(load_actual * actual) / np.sum(load_actual))
                lw_rep = float(np.sum(load_rep * rebuilt) / np.sum(load_rep))
                rec["load_weighted_actual"] = lw_actual
                rec["load_weighted_represented"] = lw_rep
                rec["load_weighted_error_pct"] = _pct(lw_rep - lw_actual, lw_actual)
            records[name] = rec
        out = pd.DataFrame.from_dict(records, orient="index")
        out.index.name = "column"
        return out


def _pct(numerator: float, denominator: float) -> float:
    """100 * numerator / |denominator|; 0 if both are zero, NaN if only the denominator is."""
    if denominator == 0.0:
        return 0.0 if numerator == 0.0 else math.nan
    return 100.0 * numerator / abs(denominator)


def _value_columns(frame: pd.DataFrame) -> list[str]:
    """Numeric profile columns of a frame (everything except the calendar columns)."""
    return [str(c) for c in frame.columns if c not in _CALENDAR_COLUMNS and pd.api.types.is_numeric_dtype(frame[c])]


def _day_months(frame: pd.DataFrame) -> np.ndarray:
    """(365,) month of each calendar day: from ``frame['month']`` or a non-leap calendar."""
    if "month" in frame.columns:
        months = frame["month"].to_numpy().reshape(DAYS_PER_YEAR, HOURS_PER_DAY)[:, 0]
        return np.asarray(months, dtype=np.int64)
    return np.asarray(pd.date_range(f"{_REFERENCE_YEAR}-01-01", periods=DAYS_PER_YEAR, freq="D").month, dtype=np.int64)


def _normalised_features(
    days: Mapping[str, np.ndarray], columns: Sequence[str], weights: Mapping[str, float]
) -> np.ndarray:
    """(365, 24 * n_columns) min-max normalised, weighted day vectors (as tsam builds them)."""
    blocks = []
    for name in columns:
        block = days[name]
        low, high = float(block.min()), float(block.max())
        scaled = (block - low) / (high - low) if high > low else np.zeros_like(block)
        blocks.append(scaled * float(weights.get(name, 1.0)))
    return np.concatenate(blocks, axis=1)


def _find_extremes(days: Mapping[str, np.ndarray], extreme_days: Sequence[tuple[str, str]]) -> dict[str, int]:
    """``"column:kind"`` -> calendar day holding that extreme hour (first occurrence on ties)."""
    found: dict[str, int] = {}
    for spec in extreme_days:
        name, kind = spec
        if name not in days:
            raise ValueError(f"extreme day column {name!r} is not a numeric column of the frame")
        if kind not in ("max", "min"):
            raise ValueError(f"extreme day kind must be 'max' or 'min', got {kind!r} for {name!r}")
        flat = days[name].reshape(-1)
        hour = int(np.argmax(flat) if kind == "max" else np.argmin(flat))
        found[f"{name}:{kind}"] = hour // HOURS_PER_DAY
    return found


def _tsam_medoids(
    days: Mapping[str, np.ndarray],
    candidates: np.ndarray,
    columns: Sequence[str],
    weights: Mapping[str, float],
    n_clusters: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Hierarchical clustering with medoid representation by :func:`tsam.aggregate`.

    Parameters
    ----------
    days : mapping of str to numpy.ndarray
        Column -> (365, 24) values [column unit].
    candidates : numpy.ndarray of int
        Calendar days to cluster [-].
    columns : sequence of str
        Clustering features [-].
    weights : mapping of str to float
        Feature weights [-].
    n_clusters : int
        Number of clusters [-].

    Returns
    -------
    medoids : numpy.ndarray of int
        (n_clusters,) calendar day of each cluster's medoid [-].
    labels : numpy.ndarray of int
        (len(candidates),) cluster of each candidate day [-].
    """
    import tsam  # local import: loading tsam (and scikit-learn) costs ~1 s

    hourly = pd.DataFrame(
        {name: days[name][candidates].reshape(-1) for name in columns},
        index=pd.RangeIndex(candidates.size * HOURS_PER_DAY),
    )
    non_unit = {name: float(w) for name, w in weights.items() if name in columns and float(w) != 1.0}
    result = tsam.aggregate(
        hourly,
        n_clusters=n_clusters,
        period_duration=HOURS_PER_DAY,
        temporal_resolution=1.0,
        cluster=tsam.ClusterConfig(method="hierarchical", representation="medoid"),
        weights=non_unit or None,
        preserve_column_means=False,
    )
    labels = np.asarray(result.cluster_assignments, dtype=np.int64)
    centers = result.clustering.cluster_centers
    if labels.shape != (candidates.size,) or centers is None or len(centers) != n_clusters:
        raise RuntimeError(
            f"tsam returned an inconsistent clustering: {labels.size} assignments for "
            f"{candidates.size} days, "
            f"{None if centers is None else len(centers)} medoids for {n_clusters} clusters"
        )
    medoid_pos = np.asarray(centers, dtype=np.int64)
    if labels.min() < 0 or labels.max() >= n_clusters or np.any(labels[medoid_pos] != np.arange(n_clusters)):
        raise RuntimeError("tsam returned medoids that are not members of their own clusters")
    # The medoid profiles must be the days we think they are.
    reps = result.cluster_representatives
    for name in columns:
        got = reps[name].to_numpy(dtype=float).reshape(n_clusters, HOURS_PER_DAY)
        want = days[name][candidates[medoid_pos]]
        if not np.allclose(got, want, rtol=1e-7, atol=1e-9 * max(1.0, float(np.abs(want).max()))):
            raise RuntimeError(f"tsam's medoid profiles of {name!r} do not match the days it named as medoids")
    return candidates[medoid_pos], labels


def _assemble(
    days: Mapping[str, np.ndarray],
    months: np.ndarray,
    rep_days: np.ndarray,
    assignment_days: np.ndarray,
    extremes: Mapping[str, int],
    method: str,
) -> RepresentativeDays:
    """Build a chronologically sorted :class:`RepresentativeDays` and check its consistency.

    ``assignment_days`` maps each calendar day to the calendar day that represents it.
    """
    order = np.sort(np.unique(rep_days))
    if order.size != rep_days.size:
        raise RuntimeError("the same calendar day was chosen as representative twice")
    position = np.full(DAYS_PER_YEAR, -1, dtype=np.int64)
    position[order] = np.arange(order.size)
    assignment = position[assignment_days]
    if np.any(assignment < 0):
        raise RuntimeError("some calendar days are assigned to a day that is not a representative")
    weight = np.bincount(assignment, minlength=order.size).astype(np.int64)
    _check_consistency(weight, assignment, order)
    data = {name: np.ascontiguousarray(block[order], dtype=float) for name, block in days.items()}
    arrays = [*data.values(), weight, order, assignment]
    rep_months = np.ascontiguousarray(months[order], dtype=np.int64)
    arrays.append(rep_months)
    for arr in arrays:
        arr.setflags(write=False)
    return RepresentativeDays(
        data=data,
        weight=weight,
        day_of_year=order,
        month=rep_months,
        assignment=assignment,
        method=method,
        extremes={label: int(position[day]) for label, day in extremes.items()},
    )


def _check_consistency(weight: np.ndarray, assignment: np.ndarray, day_of_year: np.ndarray) -> None:
    """Raise RuntimeError unless weights, assignment and medoid days agree."""
    n = weight.size
    if assignment.shape != (DAYS_PER_YEAR,):
        raise RuntimeError(f"assignment must cover {DAYS_PER_YEAR} days, has shape {assignment.shape}")
    if int(weight.sum()) != DAYS_PER_YEAR:
        raise RuntimeError(f"representative-day weights sum to {int(weight.sum())}, not {DAYS_PER_YEAR}")
    if np.any(weight < 1):
        raise RuntimeError(f"representative day(s) {np.flatnonzero(weight < 1).tolist()} stand for no day")
    if not np.array_equal(np.bincount(assignment, minlength=n), weight):
        raise RuntimeError("assignment is inconsistent with the weights")
    if not np.array_equal(assignment[day_of_year], np.arange(n)):
        raise RuntimeError("a representative day is not assigned to itself")


def reduce_days(
    frame: pd.DataFrame,
    *,
    method: Literal["tsam", "monthly", "full"],
    n_days: int | None = None,
    columns: Sequence[str] | None = None,
    column_weights: Mapping[str, float] | None = None,
    extreme_days: Sequence[tuple[str, Literal["max", "min"]]] = (),
    seed: int = 0,
) -> RepresentativeDays:
    """Represent a year of hourly profiles by a few real calendar days.

    ``method`` selects one of:

    ``"full"``
        All 365 days, weight 1 each (``extreme_days`` are recorded but change nothing).
    ``"monthly"``
        One typical day per month: the day of the month closest (Euclidean on min-max
        normalised, weighted columns) to the month's mean day, weight = days in the month.
        Extreme days, if given, are taken out of their month and added with weight 1, so
        12 + (number of distinct extreme days) days are returned.
    ``"tsam"``
        ``n_days`` days: the extreme days as days of their own (weight 1: each stands for
        itself only), and the remaining days clustered by :func:`tsam.aggregate`
        (hierarchical Ward clustering, medoid representation, no mean rescaling) into
        ``n_days - (number of distinct extreme days)`` clusters, each represented by its
        medoid. tsam's own extreme-period handling is not used: with medoids it skips an
        extreme that is already a medoid and can empty (and drop) a cluster, so the number of
        days it returns depends on the data (tsam issue #410). If two extremes fall on the same
        day, that day is kept once and the freed slot goes to the clustering, so exactly
        ``n_days`` days are returned.

    Every representative is a real calendar day, so its month is meaningful and its columns
    are mutually consistent. The result is deterministic (hierarchical clustering and
    tie-breaks by lowest day index).

    Parameters
    ----------
    frame : pandas.DataFrame
        8760 hourly rows (day ``t // 24``), as from :func:`load_profiles` [column units].
        All numeric columns except ``month`` / ``day`` / ``hour`` are carried into the
        result; ``month`` (if present) gives each day's month, else a non-leap calendar is
        assumed.
    method : {"tsam", "monthly", "full"}
        Reduction method [-].
    n_days : int, optional
        Number of representative days [-]; required for "tsam" (1..365, at least the number
        of extreme specs + 1). For "monthly" / "full" it may be given only as the resulting
        count (12 + distinct extreme days / 365).
    columns : sequence of str, optional
        Columns used as clustering features [-]; default all numeric columns.
    column_weights : mapping of str to float, optional
        Feature weight per column (default 1) [-]; 0 drops a column from the features.
    extreme_days : sequence of (str, {"max", "min"}), default ()
        Days holding the extreme hour of a column to keep as days of their own [-], e.g.
        ``("dry_bulb_c", "max")``, ``("hydro_availability", "min")``. Ties go to the first
        hour of the year.
    seed : int, default 0
        Unused: all methods are deterministic. Kept for API stability (should a randomised
        clustering be added) [-].

    Returns
    -------
    RepresentativeDays
        Chronologically sorted representatives; ``extremes`` maps ``"column:kind"`` to the
        representative holding that extreme.

    Raises
    ------
    ValueError
        Bad method, frame shape, non-finite values, unknown columns, negative weights, or an
        invalid ``n_days``.
    RuntimeError
        The clustering came back inconsistent (weights, assignment or medoids).
    """
    del seed  # deterministic; see docstring
    if len(frame) != HOURS_PER_YEAR:
        raise ValueError(f"frame must have {HOURS_PER_YEAR} hourly rows (365 days), got {len(frame)}")
    value_cols = _value_columns(frame)
    if not value_cols:
        raise ValueError("frame has no numeric profile columns")
    days = {name: frame[name].to_numpy(dtype=float).reshape(DAYS_PER_YEAR, HOURS_PER_DAY) for name in value_cols}
    nonfinite = [name for name, block in days.items() if not np.all(np.isfinite(block))]
    if nonfinite:
        raise ValueError(f"column(s) {nonfinite} hold NaN or infinite values")
    months = _day_months(frame)
    if months.min() < 1 or months.max() > 12:
        raise ValueError("frame['month'] must hold 1..12")

    weights = dict(column_weights or {})
    feature_cols = list(columns) if columns is not None else list(value_cols)
    unknown = [name for name in [*feature_cols, *weights] if name not in days]
    if unknown:
        raise ValueError(f"unknown or non-numeric column(s): {sorted(set(unknown))}")
    negative = {name: w for name, w in weights.items() if not float(w) >= 0.0}
    if negative:
        raise ValueError(f"column weights must be >= 0, got {negative}")
    feature_cols = [name for name in dict.fromkeys(feature_cols) if float(weights.get(name, 1.0)) > 0.0]
    if not feature_cols:
        raise ValueError("no clustering columns left (all have weight 0)")

    specs = list(dict.fromkeys((str(c), str(k)) for c, k in extreme_days))
    extremes = _find_extremes(days, specs)
    extreme_set = np.array(sorted(set(extremes.values())), dtype=np.int64)

    if method == "full":
        if n_days not in (None, DAYS_PER_YEAR):
            raise ValueError(f"method 'full' always gives {DAYS_PER_YEAR} days, got n_days={n_days}")
        every = np.arange(DAYS_PER_YEAR)
        return _assemble(days, months, every, every, extremes, "full")

    if method == "monthly":
        expected = 12 + extreme_set.size
        if n_days not in (None, expected):
            raise ValueError(
                f"method 'monthly' gives 12 days + {extreme_set.size} extreme day(s) = {expected}, got n_days={n_days}"
            )
        features = _normalised_features(days, feature_cols, weights)
        is_extreme = np.isin(np.arange(DAYS_PER_YEAR), extreme_set)
        target = np.arange(DAYS_PER_YEAR)
        typical = []
        for m in range(1, 13):
            pool = np.flatnonzero((months == m) & ~is_extreme)
            if pool.size == 0:
                raise ValueError(f"month {m} has no day left after taking out the extreme days")
            dist = np.sqrt(((features[pool] - features[pool].mean(axis=0)) ** 2).sum(axis=1))
            best = int(pool[int(np.argmin(np.round(dist, 10)))])
            typical.append(best)
            target[pool] = best
        rep = np.array([*typical, *extreme_set.tolist()], dtype=np.int64)
        return _assemble(days, months, rep, target, extremes, "monthly")

    if method != "tsam":
        raise ValueError(f"method must be 'tsam', 'monthly' or 'full', got {method!r}")
    if n_days is None:
        raise ValueError("method 'tsam' needs n_days")
    if isinstance(n_days, bool) or int(n_days) != n_days:
        raise ValueError(f"n_days must be an integer, got {n_days!r}")
    n_days = int(n_days)
    if not 1 <= n_days <= DAYS_PER_YEAR:
        raise ValueError(f"n_days must be 1..{DAYS_PER_YEAR}, got {n_days}")
    if n_days < len(specs) + 1:
        raise ValueError(
            f"n_days={n_days} leaves no clustered day besides the {len(specs)} extreme day(s); "
            f"need at least {len(specs) + 1}"
        )
    candidates = np.setdiff1d(np.arange(DAYS_PER_YEAR), extreme_set)
    n_clusters = n_days - extreme_set.size
    target = np.arange(DAYS_PER_YEAR)
    if n_clusters == candidates.size:
        medoids = candidates  # every remaining day is its own cluster
    else:
        medoids, labels = _tsam_medoids(days, candidates, feature_cols, weights, n_clusters)
        target[candidates] = medoids[labels]
    rep = np.concatenate([medoids, extreme_set])
    return _assemble(days, months, rep, target, extremes, "tsam")


# ----------------------------------------------------------------------------------------------
# Scenario glue: everything the model needs from the hourly data, for one scenario
# ----------------------------------------------------------------------------------------------

#: Columns whose annual mean is restored after medoid selection (energy that the plan buys or
#: makes): medoids keep real days but not means (PV was ~10 % low at 12 days on Chengdu).
_MEAN_PRESERVED_SUFFIXES: tuple[str, ...] = ("_availability", "_cf")


@dataclass(frozen=True, eq=False)
class TimeData:
    """The hourly inputs of one scenario on its representative days.

    All hourly arrays have shape (n_days, 24). ``kappa`` and ``availability`` are keyed by
    cooling technology and PPA name.

    Representative days keep the calendar's prices (DESIGN.md §3): ``tou_multiplier``,
    ``season_adder_cny_per_kwh`` and ``grid_emission_t_per_mwh`` of hour (d, h) are the means,
    over the calendar days that representative d stands for (``days.assignment == d``), of
    those days' values in hour h, not the values of the medoid day itself. So
    ``Σ_d weight[d] · x[d, h]`` equals the calendar's ``Σ_day x[day, h]`` for each of them, and
    every TOU period weighs exactly its calendar hours (``tou_period_share``). With method
    "full" each day stands for itself and the arrays are the day's own values.
    """

    days: RepresentativeDays
    weight: np.ndarray  #: (n_days,) [days] calendar days each representative stands for
    month: np.ndarray  #: (n_days,) [-] month of each representative day
    dry_bulb_c: np.ndarray  #: [°C]
    wet_bulb_c: np.ndarray  #: [°C]
    inference_shape: np.ndarray  #: [-] share of the year's peak inference demand
    pv_cf: np.ndarray  #: [-] PV output per MWp
    #: [tCO2/MWh] mean over the member days of the grid emission factor in that hour
    grid_emission_t_per_mwh: np.ndarray
    availability: dict[str, np.ndarray]  #: PPA name -> [-] share of contracted MW available
    #: (n_days, 24) str: the period of :data:`TOU_PERIODS` with the largest
    #: ``tou_period_share`` in that hour (ties: the first in TOU_PERIODS order); a label for
    #: reports only, prices use ``tou_multiplier``
    tou_period: np.ndarray
    #: [-] mean over the member days of the multiplier of the floating price part
    #: (``Σ_p tou_period_share[d, h, p] · multiplier_p``)
    tou_multiplier: np.ndarray
    season_adder_cny_per_kwh: np.ndarray  #: [CNY/kWh] mean over the member days of the season adder
    kappa: dict[str, np.ndarray]  #: cooling -> [kW electric per kW IT heat]
    aggregation_error: pd.DataFrame  #: per column: how well the days reproduce the year
    mean_correction: dict[str, float]  #: column -> factor applied to restore its annual mean [-]
    #: (n_days, 24, 4) [-] share of the member days whose hour h is in period p (p in
    #: :data:`TOU_PERIODS` order); sums to 1 over p. ``Σ_{d,h} weight[d] · share[d, h, p]`` is
    #: the number of calendar hours of period p
    tou_period_share: np.ndarray
    #: (n_days, 12) int [days] calendar days of each month (column m - 1 for month m) that each
    #: representative stands for; sums over months to ``weight``
    member_days: np.ndarray

    @property
    def n_days(self) -> int:
        """Number of representative days [-]."""
        return int(self.weight.size)

    def grid_price_cny_per_kwh(self, flat: float, non_floating: float, scale: float = 1.0) -> np.ndarray:
        """Hourly grid energy price for one year's flat price [CNY/kWh], shape (n_days, 24).

        ``price = non_floating + (flat - non_floating) x multiplier x scale + season adder``;
        ``scale`` is the sweep multiplier on the floating part and the adder.
        """
        floating = (flat - non_floating) * self.tou_multiplier + self.season_adder_cny_per_kwh
        return non_floating + scale * floating


def load_profiles_cached(path: Path | str) -> pd.DataFrame:
    """:func:`load_profiles` with a cache keyed by the file's path, size and modification time.

    A path that cannot be examined is not cached; :func:`load_profiles` raises the
    :class:`ProfileError` that says why.
    """
    p = Path(path)
    try:
        stat = p.stat()
        resolved = str(p.resolve())
    except (OSError, ValueError, RuntimeError):
        return load_profiles(p)  # not cached: it reports why the file cannot be read
    return _load_profiles_cached(resolved, stat.st_size, stat.st_mtime_ns)


_PROFILE_CACHE: dict[tuple[str, int, int], pd.DataFrame] = {}


def _load_profiles_cached(path: str, size: int, mtime_ns: int) -> pd.DataFrame:
    key = (path, size, mtime_ns)
    if key not in _PROFILE_CACHE:
        if len(_PROFILE_CACHE) > 8:
            _PROFILE_CACHE.clear()
        _PROFILE_CACHE[key] = load_profiles(Path(path))
    return _PROFILE_CACHE[key]


def prepare_time(scenario: Scenario) -> TimeData:
    """Reduce a scenario's profiles to representative days and derive every hourly input.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.

    Returns
    -------
    TimeData
        Representative days with weights, hourly prices' TOU structure, PPA availability,
        cooling coefficients and the aggregation error. The TOU multiplier, season adder and
        grid emission factor of each representative hour are means over the calendar days it
        stands for (the calendar's periods from :func:`calendar_tou_periods`, hot-spell
        critical days included); the emission column of ``days.data`` is replaced by those
        means too, so that ``aggregation_error`` reports what the model sees.
    """
    frame = load_profiles_cached(scenario.time.profiles)
    t = scenario.time
    method: Literal["tsam", "monthly", "full"]
    if t.representative_days == "monthly":
        method, n_days = "monthly", None
    elif t.representative_days == "full":
        method, n_days = "full", None
    else:
        method, n_days = "tsam", int(t.representative_days)
    days = reduce_days(
        frame,
        method=method,
        n_days=n_days,
        columns=[c for c in frame.columns if c not in _CALENDAR_COLUMNS],
        column_weights=dict(t.column_weights) or None,
        extreme_days=[(c, k) for c, k in t.extreme_days.items()],
        seed=t.seed,
    )
    days, correction = _restore_means(days, frame)
    emission_column = scenario.power.grid_emission_column
    days = _replace_column(
        days,
        emission_column,
        _member_mean(frame[emission_column].to_numpy(dtype=float), days.assignment, days.n_days),
    )
    error = days.aggregation_error(frame, load_column="inference_shape")
    tariff = scenario.power.grid.tariff
    day_month = _day_months(frame)
    calendar = calendar_tou_periods(day_month, frame["dry_bulb_c"].to_numpy(dtype=float), tariff)
    one_hot = np.stack([calendar == name for name in TOU_PERIODS], axis=-1).astype(float)  # (365, 24, 4)
    share = _member_mean(one_hot, days.assignment, days.n_days)
    mult = tariff.multipliers
    factors = np.array([float(getattr(mult, name)) for name in TOU_PERIODS])
    multiplier = _member_mean(one_hot @ factors, days.assignment, days.n_days)
    period = np.asarray(TOU_PERIODS, dtype="<U8")[np.argmax(share, axis=-1)]
    day_adder = np.zeros(DAYS_PER_YEAR)
    for rule in tariff.season_adders:
        day_adder[np.isin(day_month, rule.months)] += float(rule.cny_per_kwh)
    adder = _member_mean(np.repeat(day_adder[:, None], HOURS_PER_DAY, axis=1), days.assignment, days.n_days)
    member_days = np.zeros((days.n_days, 12), dtype=np.int64)
    np.add.at(member_days, (days.assignment, day_month - 1), 1)
    for arr in (share, multiplier, period, adder, member_days):
        arr.setflags(write=False)
    kappa = {
        name: cooling_coefficient(
            days.data["dry_bulb_c"],
            days.data["wet_bulb_c"],
            basis=c.basis,
            free_cooling_below_c=c.free_cooling_below_c,
            mechanical_above_c=c.mechanical_above_c,
            cop_rated=c.cop_rated,
            cop_rated_at_c=c.cop_rated_at_c,
            cop_slope_per_c=c.cop_slope_per_c,
            cop_min=c.cop_min,
            fans_pumps_kw_per_kw=c.fans_pumps_kw_per_kw,
        )
        for name, c in scenario.cooling.items()
    }
    return TimeData(
        days=days,
        weight=days.weight.astype(float),
        month=days.month,
        dry_bulb_c=days.data["dry_bulb_c"],
        wet_bulb_c=days.data["wet_bulb_c"],
        inference_shape=days.data["inference_shape"],
        pv_cf=days.data[scenario.power.pv.profile_column],
        grid_emission_t_per_mwh=days.data[emission_column],
        availability={n: days.data[p.availability_column] for n, p in scenario.power.ppa.items()},
        tou_period=period,
        tou_multiplier=multiplier,
        season_adder_cny_per_kwh=adder,
        kappa=kappa,
        aggregation_error=error,
        mean_correction=correction,
        tou_period_share=share,
        member_days=member_days,
    )


def _member_mean(calendar: np.ndarray, assignment: np.ndarray, n_days: int) -> np.ndarray:
    """Mean over the calendar days each representative stands for.

    Parameters
    ----------
    calendar : numpy.ndarray
        (8760,) hourly values, or (365, 24, ...) values per calendar day and hour [unit].
    assignment : numpy.ndarray of int
        (365,) representative of each calendar day [-].
    n_days : int
        Number of representatives [-].

    Returns
    -------
    numpy.ndarray of float64
        (n_days, 24, ...) mean of the member days' values [unit]; a representative standing
        for itself only keeps its own values exactly.
    """
    values = np.asarray(calendar, dtype=float)
    if values.shape == (HOURS_PER_YEAR,):
        values = values.reshape(DAYS_PER_YEAR, HOURS_PER_DAY)
    total = np.zeros((n_days, *values.shape[1:]))
    np.add.at(total, assignment, values)
    count = np.bincount(assignment, minlength=n_days).astype(float)
    return total / count.reshape(-1, *([1] * (values.ndim - 1)))


def _replace_column(days: RepresentativeDays, column: str, values: np.ndarray) -> RepresentativeDays:
    """A copy of ``days`` whose ``data[column]`` is ``values`` (read-only)."""
    data = dict(days.data)
    data[column] = np.ascontiguousarray(values, dtype=float)
    data[column].setflags(write=False)
    return dataclasses.replace(days, data=data)


def _restore_means(days: RepresentativeDays, frame: pd.DataFrame) -> tuple[RepresentativeDays, dict[str, float]]:
    """Scale availability and capacity-factor columns so their weighted mean is the year's.

    Medoid days are real days, so temperatures and loads stay mutually consistent, but the
    energy a PPA or PV delivers over the year would be off by the sampling error. Values are
    capped at 1 after scaling; the factor is reported so that it can be shown.
    """
    if days.method == "full":
        return days, {}
    data = dict(days.data)
    correction: dict[str, float] = {}
    for column, values in days.data.items():
        if not column.endswith(_MEAN_PRESERVED_SUFFIXES):
            continue
        represented = float(np.sum(days.weight[:, None] * values) / (DAYS_PER_YEAR * HOURS_PER_DAY))
        actual = float(frame[column].mean())
        if represented <= 0 or actual <= 0:
            continue
        factor = actual / represented
        data[column] = np.minimum(values * factor, 1.0)
        data[column].setflags(write=False)
        correction[column] = factor
    return dataclasses.replace(days, data=data), correction
