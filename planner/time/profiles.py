"""Hourly site profiles from CSV: read, check and cache one year of weather, PV, demand shape and availability.

Everything here is a pure function of the file's bytes; nothing knows about the scenario.

Conventions
-----------
* A profile year has exactly 8760 hourly rows (365 days x 24 h, hour-beginning). Row ``t``
  belongs to calendar day ``t // 24`` (0..364) and hour ``t % 24`` (0..23).
* Shares (``pv_cf``, ``*_availability``, ``inference_shape``) are dimensionless [-].
* Temperatures are in [°C], grid emission factors in [t CO2/MWh], prices in [CNY/kWh].
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

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
CALENDAR_COLUMNS: tuple[str, ...] = ("month", "day", "hour")
_TIMESTAMP = "timestamp"
_AVAILABILITY_SUFFIX = "_availability"
#: Tolerance [°C] on wet bulb <= dry bulb (rounding in the source data).
WET_BULB_TOLERANCE_C = 0.05
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
    reserved = [name for name in header if name in CALENDAR_COLUMNS]
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
        if not name or name in values or name in CALENDAR_COLUMNS:
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
            above = np.isfinite(dry) & np.isfinite(wet) & (wet > dry + WET_BULB_TOLERANCE_C)
        if above.any():
            i = _first(above)
            problems.append(
                f"column 'wet_bulb_c': above dry_bulb_c + {WET_BULB_TOLERANCE_C} °C in {int(above.sum())} "
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


def value_columns(frame: pd.DataFrame) -> list[str]:
    """Numeric profile columns of a frame (everything except the calendar columns): the one list of them."""
    return [str(c) for c in frame.columns if c not in CALENDAR_COLUMNS and pd.api.types.is_numeric_dtype(frame[c])]


def day_months(frame: pd.DataFrame) -> np.ndarray:
    """(365,) month of each calendar day: from ``frame['month']`` or a non-leap calendar."""
    if "month" in frame.columns:
        months = frame["month"].to_numpy().reshape(DAYS_PER_YEAR, HOURS_PER_DAY)[:, 0]
        return np.asarray(months, dtype=np.int64)
    return np.asarray(pd.date_range(f"{_REFERENCE_YEAR}-01-01", periods=DAYS_PER_YEAR, freq="D").month, dtype=np.int64)


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
