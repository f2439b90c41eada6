"""Tests for planner.time: profile loading, TOU, cooling and representative days."""

from __future__ import annotations

import pickle
from pathlib import Path
from types import SimpleNamespace
from typing import Literal

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tiny import tiny, write_profile

from planner.scenario import ScenarioError, load_scenario
from planner.time.cooling import cooling_coefficient
from planner.time.days import RepresentativeDays, reduce_days
from planner.time.prepare import prepare_time
from planner.time.profiles import COLUMN_RANGES, PROFILE_COLUMNS, ProfileError, load_profiles
from planner.time.tariff import (
    TOU_PERIODS,
    calendar_tou_periods,
    energy_cost,
    grid_price,
    hot_spell_days,
    tou_periods,
)

REPO = Path(__file__).resolve().parents[1]
DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
EXTREMES: list[tuple[str, Literal["max", "min"]]] = [
    ("dry_bulb_c", "max"),
    ("wet_bulb_c", "max"),
    ("inference_shape", "max"),
    ("hydro_availability", "min"),
]


def tou_prices(periods: np.ndarray, flat: float, nf: float, multipliers: dict[str, float]) -> np.ndarray:
    """Price per element under the TOU tariff (:func:`planner.time.tariff.grid_price`), by period label."""
    periods = np.asarray(periods)
    unknown = sorted({str(p) for p in periods.ravel()} - set(multipliers))
    if unknown:
        raise ValueError(f"no TOU multiplier for period(s) {unknown}; have {sorted(multipliers)}")
    multiplier = np.vectorize(lambda p: float(multipliers[str(p)]), otypes=[float])(periods)
    return grid_price(flat, nf, multiplier)


# ----------------------------------------------------------------------------------------------
# Synthetic data
# ----------------------------------------------------------------------------------------------


def make_frame(seed: int = 1) -> pd.DataFrame:
    """A plausible 8760-hour year with the seven profile columns and month/day/hour."""
    rng = np.random.default_rng(seed)
    t = np.arange(8760)
    day, hour = t // 24, t % 24
    season = -np.cos(2 * np.pi * (day - 15) / 365)  # -1 in January, +1 in July
    diurnal = np.sin(2 * np.pi * (hour - 9) / 24)
    dry = 16 + 10 * season + 4 * diurnal + np.repeat(rng.normal(0, 2, 365), 24) + rng.normal(0, 0.3, 8760)
    wet = dry - np.clip(3 + 2 * diurnal + rng.normal(0, 0.5, 8760), 0, None)
    pv = np.clip(np.sin(np.pi * (hour - 6) / 12), 0, None) * np.repeat(rng.uniform(0.2, 1, 365), 24) * 0.8
    load = 0.6 + 0.3 * np.sin(2 * np.pi * (hour - 14) / 24) ** 2 + rng.normal(0, 0.02, 8760)
    hydro = np.clip(0.75 + 0.2 * season + np.repeat(rng.normal(0, 0.03, 365), 24), 0, 1)
    wind = np.clip(0.25 - 0.08 * season + rng.normal(0, 0.08, 8760), 0, 1)
    emission = 0.14 - 0.05 * season + rng.normal(0, 0.005, 8760)
    frame = pd.DataFrame(
        {
            "dry_bulb_c": dry,
            "wet_bulb_c": wet,
            "pv_cf": pv,
            "inference_shape": load / load.max(),
            "hydro_availability": hydro,
            "wind_availability": wind,
            "grid_emission_t_per_mwh": emission,
        }
    )
    stamps = pd.date_range("2025-01-01", periods=8760, freq="h")
    frame["month"] = np.asarray(stamps.month, dtype=np.int64)
    frame["day"] = day
    frame["hour"] = hour
    return frame


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return make_frame()


def by_day(frame: pd.DataFrame, column: str) -> np.ndarray:
    return frame[column].to_numpy().reshape(365, 24)


def write_csv(
    path: Path,
    frame: pd.DataFrame,
    *,
    timestamps: bool = True,
    year: int = 2025,
    edit: dict[tuple[int, str], str] | None = None,
) -> Path:
    """Write ``frame``'s profile columns as a commented CSV; ``edit`` maps (0-based row, col) -> cell."""
    data = frame[[c for c in frame.columns if c not in ("month", "day", "hour")]].copy()
    data = data.map(lambda v: f"{v:.4f}").astype(object)
    if timestamps:
        stamps = pd.date_range(f"{year}-01-01", periods=len(data), freq="h")
        data.insert(0, "timestamp", stamps.strftime("%Y-%m-%dT%H:%M"))
    for (row, col), cell in (edit or {}).items():
        data.loc[row, col] = cell
    with path.open("w", encoding="utf-8") as fh:
        fh.write("# synthetic test profile\n# second comment line, with, commas\n")
        data.to_csv(fh, index=False)
    return path


# ----------------------------------------------------------------------------------------------
# load_profiles
# ----------------------------------------------------------------------------------------------


def problems_of(path: Path, **kwargs: object) -> list[str]:
    with pytest.raises(ProfileError) as info:
        load_profiles(path, **kwargs)  # type: ignore[arg-type]
    return info.value.problems


def test_load_good_csv(tmp_path: Path, frame: pd.DataFrame) -> None:
    out = load_profiles(write_csv(tmp_path / "good.csv", frame))
    assert list(out.columns) == [*PROFILE_COLUMNS, "month", "day", "hour"]
    assert isinstance(out.index, pd.RangeIndex) and len(out) == 8760
    assert all(out[c].dtype == np.float64 for c in PROFILE_COLUMNS)
    assert all(out[c].dtype == np.int64 for c in ("month", "day", "hour"))
    np.testing.assert_allclose(out[list(PROFILE_COLUMNS)], frame[list(PROFILE_COLUMNS)], atol=5e-5)
    np.testing.assert_array_equal(out["month"], frame["month"])
    np.testing.assert_array_equal(out["day"], np.repeat(np.arange(365), 24))
    np.testing.assert_array_equal(out["hour"], np.tile(np.arange(24), 365))
    assert out.loc[24 * 31, "month"] == 2 and out.loc[8759, "month"] == 12


def test_load_without_timestamp_assumes_non_leap_year(tmp_path: Path, frame: pd.DataFrame) -> None:
    out = load_profiles(write_csv(tmp_path / "nots.csv", frame, timestamps=False))
    np.testing.assert_array_equal(out["month"], frame["month"])
    np.testing.assert_array_equal(out["hour"], np.tile(np.arange(24), 365))


def test_load_leap_year_without_29_february(tmp_path: Path, frame: pd.DataFrame) -> None:
    path = write_csv(tmp_path / "leap.csv", frame, timestamps=False)
    stamps = pd.date_range("2024-01-01", "2024-12-31 23:00", freq="h")
    stamps = stamps[~((stamps.month == 2) & (stamps.day == 29))]
    data = pd.read_csv(path, comment="#")
    data.insert(0, "timestamp", stamps.strftime("%Y-%m-%dT%H:%M"))
    data.to_csv(path, index=False)
    out = load_profiles(path)
    assert out.loc[8759, "month"] == 12 and out.loc[59 * 24, "month"] == 3  # day 59 = 1 March


def test_extra_availability_column_allowed_and_range_checked(tmp_path: Path, frame: pd.DataFrame) -> None:
    extra = frame.copy()
    extra["solar_ppa_availability"] = 0.5
    out = load_profiles(write_csv(tmp_path / "extra.csv", extra))
    assert out["solar_ppa_availability"].dtype == np.float64
    extra.loc[10, "solar_ppa_availability"] = 1.2
    problems = problems_of(write_csv(tmp_path / "extra_bad.csv", extra))
    assert len(problems) == 1
    assert "solar_ppa_availability" in problems[0] and "row 11" in problems[0] and "1.2" in problems[0]


def test_missing_file(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path / "nope.csv")
    assert "not found" in problem


def test_too_big_refused_before_reading(tmp_path: Path, frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_csv(tmp_path / "big.csv", frame)

    def no_read(*args: object, **kwargs: object) -> str:
        raise AssertionError("file was read")

    monkeypatch.setattr(Path, "read_text", no_read)
    (problem,) = problems_of(path, max_bytes=10_000)
    assert "larger" in problem and "10000" in problem


def test_wrong_row_count(tmp_path: Path, frame: pd.DataFrame) -> None:
    (problem,) = problems_of(write_csv(tmp_path / "short.csv", frame.iloc[:-1]))
    assert "8760" in problem and "8759" in problem


def test_missing_columns_named(tmp_path: Path, frame: pd.DataFrame) -> None:
    path = write_csv(tmp_path / "missing.csv", frame.drop(columns=["pv_cf", "wind_availability"]))
    (problem,) = problems_of(path)
    assert "pv_cf" in problem and "wind_availability" in problem


@pytest.mark.parametrize(
    ("cell", "words"),
    [
        ("abc", ["pv_cf", "non-numeric", "row 101", "'abc'"]),
        ("", ["pv_cf", "missing/NaN", "row 101"]),
        ("NaN", ["pv_cf", "missing/NaN", "row 101"]),
        ("inf", ["pv_cf", "infinite", "row 101"]),
        ("1.5", ["pv_cf", "outside", "row 101", "1.5"]),
    ],
)
def test_bad_cell(tmp_path: Path, frame: pd.DataFrame, cell: str, words: list[str]) -> None:
    (problem,) = problems_of(write_csv(tmp_path / "bad.csv", frame, edit={(100, "pv_cf"): cell}))
    for word in words:
        assert word in problem


def test_wet_above_dry(tmp_path: Path, frame: pd.DataFrame) -> None:
    bad = frame.copy()
    bad.loc[7, "wet_bulb_c"] = bad.loc[7, "dry_bulb_c"] + 1.0
    (problem,) = problems_of(write_csv(tmp_path / "wet.csv", bad))
    assert "wet_bulb_c" in problem and "dry_bulb_c" in problem and "row 8" in problem
    # within the 0.05 degC tolerance is fine
    ok = frame.copy()
    ok["wet_bulb_c"] = ok["dry_bulb_c"] + 0.03
    load_profiles(write_csv(tmp_path / "wet_ok.csv", ok))


def test_inference_shape_all_zero(tmp_path: Path, frame: pd.DataFrame) -> None:
    bad = frame.copy()
    bad["inference_shape"] = 0.0
    (problem,) = problems_of(write_csv(tmp_path / "zero.csv", bad))
    assert "inference_shape" in problem and "zero" in problem


def test_bad_timestamps(tmp_path: Path, frame: pd.DataFrame) -> None:
    problems = problems_of(write_csv(tmp_path / "ts.csv", frame, edit={(5, "timestamp"): "2025-01-01T07:00"}))
    assert all("timestamp" in p for p in problems) and "row 6" in problems[0]
    (problem,) = problems_of(write_csv(tmp_path / "ts2.csv", frame, edit={(5, "timestamp"): "yesterday"}))
    assert "timestamp" in problem and "'yesterday'" in problem


def test_unparseable_csv(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n1,2\n3,4,5\n")
    (problem,) = problems_of(path)
    assert "not parseable" in problem and "row 2" in problem
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81garbage")
    (problem,) = problems_of(binary)
    assert "not parseable" in problem


def test_all_problems_reported_at_once(tmp_path: Path, frame: pd.DataFrame) -> None:
    bad = frame.iloc[:-24].drop(columns=["wind_availability"]).copy()
    bad.loc[3, "wet_bulb_c"] = bad.loc[3, "dry_bulb_c"] + 2.0
    bad.loc[9, "grid_emission_t_per_mwh"] = 2.5
    path = write_csv(tmp_path / "many.csv", bad, edit={(20, "pv_cf"): "sunny", (30, "hydro_availability"): "nan"})
    with pytest.raises(ProfileError) as info:
        load_profiles(path)
    problems = info.value.problems
    expected = ["8736", "wind_availability", "'sunny'", "hydro_availability", "grid_emission", "wet_bulb_c"]
    for word in expected:
        assert sum(word in p for p in problems) >= 1, (word, problems)
    assert len(problems) == 6
    assert str(info.value) == "\n".join(problems)


def test_profile_error_pickles() -> None:
    err = pickle.loads(pickle.dumps(ProfileError(["column 'a': bad", "column 'b': worse"])))
    assert err.problems == ["column 'a': bad", "column 'b': worse"]
    assert str(err) == "column 'a': bad\ncolumn 'b': worse"


def test_column_ranges_cover_profile_columns() -> None:
    assert set(COLUMN_RANGES) == set(PROFILE_COLUMNS)
    assert COLUMN_RANGES["dry_bulb_c"] == (-40.0, 55.0) and COLUMN_RANGES["wet_bulb_c"] == (-45.0, 40.0)


# ----------------------------------------------------------------------------------------------
# TOU tariff (Sichuan, 川发改价格〔2025〕185号)
# ----------------------------------------------------------------------------------------------

SEASONS = [
    SimpleNamespace(months=[3, 4, 5, 6, 10, 11], peak=[(10, 12), (17, 22)], valley=[(22, 8)]),
    SimpleNamespace(months=[7, 8, 9], peak=[(11, 18), (20, 23)], valley=[(1, 7)]),
    SimpleNamespace(months=[12, 1, 2], peak=[(10, 12), (16, 22)], valley=[(0, 8)]),
]
CRITICAL = [SimpleNamespace(months=[7, 8], hours=[(13, 14), (21, 23)])]
C, P, F, V = "critical", "peak", "flat", "valley"
MULTIPLIERS = {"critical": 1.92, "peak": 1.6, "flat": 1.0, "valley": 0.4}


def day_periods(month: int) -> list[str]:
    return tou_periods(np.full(24, month), np.arange(24), SEASONS, CRITICAL).tolist()


def test_tou_15_july() -> None:
    #          0  1  2  3  4  5  6  7  8  9 10 11 12 13 14 15 16 17 18 19 20 21 22 23
    expected = [F, V, V, V, V, V, V, F, F, F, F, P, P, C, P, P, P, P, F, F, P, C, C, F]
    assert day_periods(7) == expected


def test_tou_15_january() -> None:
    expected = [V] * 8 + [F, F, P, P, F, F, F, F] + [P] * 6 + [F, F]
    assert day_periods(1) == expected


def test_tou_spring_and_september() -> None:
    # spring/autumn: valley wraps 22:00-08:00
    assert day_periods(4) == [V] * 8 + [F, F, P, P, F, F, F, F, F, P, P, P, P, P, V, V]
    # September is summer but has no critical hours
    assert day_periods(9)[13] == P and day_periods(9)[21] == P


def test_tou_dtype_shape_and_full_year(frame: pd.DataFrame) -> None:
    periods = tou_periods(frame["month"].to_numpy(), frame["hour"].to_numpy(), SEASONS, CRITICAL)
    assert periods.dtype == np.dtype("<U8") and periods.shape == (8760,)
    assert (periods == C).sum() == 3 * (31 + 31)
    grid = tou_periods(np.arange(1, 13)[:, None], np.arange(24)[None, :], SEASONS, CRITICAL)
    assert grid.shape == (12, 24) and set(np.unique(grid)) == {C, P, F, V}


def test_tou_season_coverage_guard() -> None:
    with pytest.raises(ValueError, match="not covered"):
        tou_periods(np.array([1]), np.array([0]), SEASONS[:2], CRITICAL)
    double = [*SEASONS, SimpleNamespace(months=[5], peak=[], valley=[])]
    with pytest.raises(ValueError, match="exactly one"):
        tou_periods(np.array([1]), np.array([0]), double, CRITICAL)
    with pytest.raises(ValueError, match="hour"):
        tou_periods(np.array([1]), np.array([24]), SEASONS, CRITICAL)


def test_tou_prices_july_and_january() -> None:
    flat, nf = 0.432, 0.0472
    price = {  # non_floating + (flat - non_floating) * multiplier, worked by hand
        C: 0.0472 + 0.3848 * 1.92,  # 0.786016
        P: 0.0472 + 0.3848 * 1.6,  # 0.66288
        F: 0.432,
        V: 0.0472 + 0.3848 * 0.4,  # 0.20112
    }
    assert price[C] == pytest.approx(0.786016) and price[V] == pytest.approx(0.20112)
    for month in (7, 1):
        periods = np.array(day_periods(month))
        got = tou_prices(periods, flat, nf, MULTIPLIERS)
        np.testing.assert_allclose(got, [price[p] for p in periods], rtol=1e-12)
    july = tou_prices(np.array(day_periods(7)), flat, nf, MULTIPLIERS)
    assert july[13] == pytest.approx(0.786016) and july[3] == pytest.approx(0.20112)
    assert july.mean() == pytest.approx((3 * 0.786016 + 7 * 0.66288 + 8 * 0.432 + 6 * 0.20112) / 24)
    with pytest.raises(ValueError, match="critical"):
        tou_prices(np.array([C]), flat, nf, {"peak": 1.6})


def test_energy_cost_by_aggregates_is_the_sum_of_hourly_prices() -> None:
    """Three hours worked by hand: 0.2 CNY/kWh of non-floating, flat 0.5, multipliers 1.6/1/0.4, adders
    0.01/0/-0.02, scale 1.25, energy 10/20/30 MWh:
    prices 0.2 + 1.25 * (0.3 * m + a) = 0.8125, 0.575, 0.325; cost 8.125 + 11.5 + 9.75 = 29.375."""
    mult, adder, e = np.array([1.6, 1.0, 0.4]), np.array([0.01, 0.0, -0.02]), np.array([10.0, 20.0, 30.0])
    hourly = grid_price(0.5, 0.2, mult, adder, 1.25)
    np.testing.assert_allclose(hourly, [0.8125, 0.575, 0.325], rtol=1e-12)
    by_aggregates = energy_cost(0.5, 0.2, e.sum(), (mult * e).sum(), (adder * e).sum(), 1.25)
    assert by_aggregates == pytest.approx(29.375, rel=1e-12)
    assert by_aggregates == pytest.approx(float((hourly * e).sum()), rel=1e-12)


# ----------------------------------------------------------------------------------------------
# Cooling coefficient
# ----------------------------------------------------------------------------------------------

COOLING = dict(
    free_cooling_below_c=10.0,
    mechanical_above_c=20.0,
    cop_rated=5.0,
    cop_rated_at_c=25.0,
    cop_slope_per_c=0.1,
    cop_min=2.5,
    fans_pumps_kw_per_kw=0.05,
)


@pytest.mark.parametrize(
    ("temp", "kappa"),
    [
        (5.0, 0.05),  # fully free: fans and pumps only
        (10.0, 0.05),  # edge of free cooling
        (15.0, 0.05 + 0.5 / 6.0),  # half economiser, COP = 5 - 0.1 * (15 - 25) = 6
        (25.0, 0.05 + 1.0 / 5.0),  # fully mechanical at rated COP
        (30.0, 0.05 + 1.0 / 4.5),  # COP = 5 - 0.1 * 5 = 4.5
        (60.0, 0.05 + 1.0 / 2.5),  # COP 5 - 3.5 = 1.5 -> floor 2.5
    ],
)
def test_cooling_coefficient_known_points(temp: float, kappa: float) -> None:
    dry_basis = cooling_coefficient(np.array([temp]), np.array([-10.0]), basis="dry_bulb", **COOLING)
    wet_basis = cooling_coefficient(np.array([99.0]), np.array([temp]), basis="wet_bulb", **COOLING)
    assert dry_basis[0] == pytest.approx(kappa) and wet_basis[0] == pytest.approx(kappa)


def test_cooling_coefficient_broadcasts_and_validates() -> None:
    out = cooling_coefficient(np.array([[5.0], [15.0], [30.0]]), np.zeros((1, 4)), basis="dry_bulb", **COOLING)
    assert out.shape == (3, 4)
    np.testing.assert_allclose(out[:, 0], [0.05, 0.05 + 0.5 / 6.0, 0.05 + 1 / 4.5])
    assert np.all(np.diff(cooling_coefficient(np.linspace(-5, 45, 51), np.zeros(51), basis="dry_bulb", **COOLING)) >= 0)
    with pytest.raises(ValueError, match="mechanical_above_c"):
        cooling_coefficient(np.array([1.0]), np.array([1.0]), basis="dry_bulb", **{**COOLING, "mechanical_above_c": 5})
    with pytest.raises(ValueError, match="basis"):
        cooling_coefficient(np.array([1.0]), np.array([1.0]), basis="enthalpy", **COOLING)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------
# Representative days
# ----------------------------------------------------------------------------------------------


def assert_consistent(rep: RepresentativeDays, frame: pd.DataFrame, n_days: int) -> None:
    assert rep.weight.shape == (n_days,) and np.issubdtype(rep.weight.dtype, np.integer)
    assert rep.weight.sum() == 365 and rep.weight.min() >= 1
    assert rep.assignment.shape == (365,)
    np.testing.assert_array_equal(np.bincount(rep.assignment, minlength=n_days), rep.weight)
    np.testing.assert_array_equal(rep.assignment[rep.day_of_year], np.arange(n_days))
    assert np.all(np.diff(rep.day_of_year) > 0)  # chronological, no duplicates
    day_month = frame["month"].to_numpy().reshape(365, 24)[:, 0]
    np.testing.assert_array_equal(rep.month, day_month[rep.day_of_year])
    for column in PROFILE_COLUMNS:
        assert rep.data[column].shape == (n_days, 24)
        np.testing.assert_array_equal(rep.data[column], by_day(frame, column)[rep.day_of_year])


def test_full(frame: pd.DataFrame) -> None:
    rep = reduce_days(frame, method="full")
    assert rep.method == "full"
    assert_consistent(rep, frame, 365)
    np.testing.assert_array_equal(rep.weight, 1)
    np.testing.assert_array_equal(rep.expand("pv_cf"), frame["pv_cf"])
    err = rep.aggregation_error(frame)
    assert err.shape == (7, 8)
    assert (err[["mean_error_pct", "nrmse_pct"]].abs() < 1e-9).all().all()
    np.testing.assert_allclose(err["actual_max"], err["represented_max"])


def test_monthly(frame: pd.DataFrame) -> None:
    rep = reduce_days(frame, method="monthly")
    assert rep.method == "monthly"
    assert_consistent(rep, frame, 12)
    np.testing.assert_array_equal(rep.weight, DAYS_IN_MONTH)
    np.testing.assert_array_equal(rep.month, np.arange(1, 13))
    day_month = frame["month"].to_numpy().reshape(365, 24)[:, 0]
    np.testing.assert_array_equal(day_month[rep.assignment == 6], 7)  # July stands for July
    # the chosen July day is the closest July day to July's mean day (normalised columns)
    features = np.concatenate(
        [(b - b.min()) / (b.max() - b.min()) for b in (by_day(frame, c) for c in PROFILE_COLUMNS)], axis=1
    )
    july = np.flatnonzero(day_month == 7)
    dist = np.linalg.norm(features[july] - features[july].mean(axis=0), axis=1)
    assert rep.day_of_year[6] == july[np.argmin(dist)]


def test_monthly_with_extremes(frame: pd.DataFrame) -> None:
    rep = reduce_days(frame, method="monthly", extreme_days=EXTREMES)
    n = 12 + len(set(rep.extremes.values()))
    assert_consistent(rep, frame, n)
    assert all(rep.weight[i] == 1 for i in rep.extremes.values())


def test_tsam_with_extremes(frame: pd.DataFrame) -> None:
    rep = reduce_days(frame, method="tsam", n_days=12, extreme_days=EXTREMES)
    assert rep.method == "tsam"
    assert_consistent(rep, frame, 12)
    assert set(rep.extremes) == {f"{c}:{k}" for c, k in EXTREMES}
    for column, kind in EXTREMES:
        i = rep.extremes[f"{column}:{kind}"]
        true = frame[column].max() if kind == "max" else frame[column].min()
        got = rep.data[column][i].max() if kind == "max" else rep.data[column][i].min()
        assert got == true
        assert rep.weight[i] == 1
        true_day = int((frame[column].idxmax() if kind == "max" else frame[column].idxmin()) // 24)
        assert rep.day_of_year[i] == true_day
    err = rep.aggregation_error(frame, load_column="inference_shape")
    assert err.shape == (7, 11)
    assert err.loc["dry_bulb_c", "represented_max"] == err.loc["dry_bulb_c", "actual_max"]
    assert (err["mean_error_pct"].abs() < 25).all()
    # represented_mean is the weighted mean of the days, the same as the rebuilt year's mean
    assert err.loc["pv_cf", "represented_mean"] == pytest.approx(rep.expand("pv_cf").mean())


def test_tsam_deterministic(frame: pd.DataFrame) -> None:
    a = reduce_days(frame, method="tsam", n_days=10, extreme_days=EXTREMES[:2])
    b = reduce_days(frame.copy(), method="tsam", n_days=10, extreme_days=EXTREMES[:2], seed=7)
    np.testing.assert_array_equal(a.day_of_year, b.day_of_year)
    np.testing.assert_array_equal(a.assignment, b.assignment)
    assert a.extremes == b.extremes


def test_tsam_shared_extreme_day_kept_once(frame: pd.DataFrame) -> None:
    spiked = frame.copy()
    hot = 200 * 24 + 15
    spiked.loc[hot, "dry_bulb_c"] = 45.0
    spiked.loc[hot, "wet_bulb_c"] = 35.0
    rep = reduce_days(spiked, method="tsam", n_days=6, extreme_days=EXTREMES[:2])
    assert_consistent(rep, spiked, 6)
    assert rep.extremes["dry_bulb_c:max"] == rep.extremes["wet_bulb_c:max"]
    assert rep.day_of_year[rep.extremes["dry_bulb_c:max"]] == 200


def test_tsam_columns_and_weights(frame: pd.DataFrame) -> None:
    rep = reduce_days(
        frame,
        method="tsam",
        n_days=8,
        columns=["dry_bulb_c", "pv_cf", "inference_shape"],
        column_weights={"pv_cf": 2.0, "inference_shape": 0.0},
    )
    assert_consistent(rep, frame, 8)
    assert set(rep.data) == set(PROFILE_COLUMNS)  # all columns carried, not just the features
    with pytest.raises(ValueError, match=">= 0"):
        reduce_days(frame, method="tsam", n_days=8, column_weights={"pv_cf": -1.0})
    with pytest.raises(ValueError, match="unknown"):
        reduce_days(frame, method="tsam", n_days=8, columns=["nope"])


def test_tsam_edge_counts(frame: pd.DataFrame) -> None:
    one = reduce_days(frame, method="tsam", n_days=1)
    assert_consistent(one, frame, 1)
    everything = reduce_days(frame, method="tsam", n_days=365, extreme_days=EXTREMES)
    assert_consistent(everything, frame, 365)
    minimal = reduce_days(frame, method="tsam", n_days=len(EXTREMES) + 1, extreme_days=EXTREMES)
    assert minimal.n_days == len(EXTREMES) + 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "tsam", "n_days": 0}, "1..365"),
        ({"method": "tsam", "n_days": 366}, "1..365"),
        ({"method": "tsam", "n_days": 4, "extreme_days": EXTREMES}, "at least 5"),
        ({"method": "tsam"}, "n_days"),
        ({"method": "tsam", "n_days": 5, "extreme_days": [("nope", "max")]}, "nope"),
        ({"method": "tsam", "n_days": 5, "extreme_days": [("pv_cf", "mean")]}, "max' or 'min"),
        ({"method": "monthly", "n_days": 10}, "monthly"),
        ({"method": "kmeans", "n_days": 10}, "method"),
    ],
)
def test_reduce_days_errors(frame: pd.DataFrame, kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        reduce_days(frame, **kwargs)  # type: ignore[arg-type]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n_days=st.integers(min_value=1, max_value=365), n_extremes=st.integers(min_value=0, max_value=4))
def test_weights_always_sum_to_365(frame: pd.DataFrame, n_days: int, n_extremes: int) -> None:
    n_extremes = min(n_extremes, n_days - 1)
    rep = reduce_days(frame, method="tsam", n_days=n_days, extreme_days=EXTREMES[:n_extremes])
    assert rep.n_days == n_days
    assert rep.weight.sum() == 365 and rep.weight.min() >= 1
    np.testing.assert_array_equal(np.bincount(rep.assignment, minlength=n_days), rep.weight)


# ----------------------------------------------------------------------------------------------
# The generated Chengdu profile (optional)
# ----------------------------------------------------------------------------------------------

CHENGDU = REPO / "inputs" / "profiles" / "chengdu.csv"


@pytest.mark.skipif(not CHENGDU.exists(), reason="inputs/profiles/chengdu.csv not generated")
def test_chengdu_profile_loads_and_reduces() -> None:
    profile = load_profiles(CHENGDU)
    rep = reduce_days(profile, method="tsam", n_days=12, extreme_days=EXTREMES)
    assert_consistent(rep, profile, 12)
    err = rep.aggregation_error(profile)
    assert err.loc["dry_bulb_c", "represented_max"] == profile["dry_bulb_c"].max()


def test_too_many_lines_refused_before_parsing(
    tmp_path: Path, frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    import csv as csv_module

    import planner.time.profiles as ts

    monkeypatch.setattr(ts, "MAX_PROFILE_LINES", 9000)
    path = write_csv(tmp_path / "long.csv", pd.concat([frame, frame.iloc[:500]]))

    def no_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was parsed")

    monkeypatch.setattr(csv_module, "reader", no_parse)
    (problem,) = problems_of(path)
    assert "9,263 lines" in problem and "at most 9,000 lines" in problem and str(path) in problem


# ----------------------------------------------------------------------------------------------
# Representative days keep the calendar's TOU periods, adders and emission factors
# ----------------------------------------------------------------------------------------------

#: First calendar day (0-based) of each month of a non-leap year.
MONTH_START = np.concatenate([[0], np.cumsum(DAYS_IN_MONTH)[:-1]])
DEFAULT_YAML = REPO / "inputs" / "2030.yaml"


def period_hours(periods: np.ndarray) -> dict[str, int]:
    return {p: int((periods == p).sum()) for p in TOU_PERIODS}


def represented_hours(time: object) -> dict[str, float]:
    w = time.weight  # type: ignore[attr-defined]
    share = time.tou_period_share  # type: ignore[attr-defined]
    return {p: float(np.sum(w[:, None] * share[:, :, i])) for i, p in enumerate(TOU_PERIODS)}


def old_medoid_hours(time: object, tariff: object) -> dict[str, float]:
    """Represented hours per period the way they were priced before: the medoid's own month."""
    month = np.broadcast_to(time.month[:, None], (time.n_days, 24))  # type: ignore[attr-defined]
    own = tou_periods(month, np.arange(24)[None, :], tariff.seasons, tariff.critical)  # type: ignore[attr-defined]
    w = time.weight  # type: ignore[attr-defined]
    return {p: float(np.sum(w[:, None] * (own == p))) for p in TOU_PERIODS}


@pytest.mark.skipif(not (CHENGDU.exists() and DEFAULT_YAML.exists()), reason="default inputs not present")
def test_prepare_time_keeps_calendar_tou_hours_on_chengdu() -> None:
    scenario = load_scenario(DEFAULT_YAML)
    assert scenario.time.representative_days == 12
    time = prepare_time(scenario)
    frame = load_profiles(CHENGDU)
    tariff = scenario.power.grid.tariff
    calendar = calendar_tou_periods(frame, None, tariff)
    assert calendar.shape == (365, 24)
    actual = period_hours(calendar)
    assert sum(actual.values()) == 8760 and actual["critical"] == 3 * (31 + 31)
    got = represented_hours(time)
    for p in TOU_PERIODS:
        assert abs(got[p] - actual[p]) <= 0.01 * actual[p], (p, got[p], actual[p])
        assert got[p] == pytest.approx(actual[p], abs=1e-9)  # exact by construction
    # the medoid's own period was off by several per cent (critical -11 %, valley -8 %)
    old = old_medoid_hours(time, tariff)
    assert max(abs(old[p] - actual[p]) / actual[p] for p in TOU_PERIODS) > 0.05

    share = time.tou_period_share
    assert share.shape == (time.n_days, 24, 4)
    np.testing.assert_allclose(share.sum(axis=-1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(time.tou_period, np.asarray(TOU_PERIODS)[share.argmax(axis=-1)])

    w = time.weight
    mult = np.array([getattr(tariff.multipliers, p) for p in TOU_PERIODS])
    calendar_mult = np.select([calendar == p for p in TOU_PERIODS], list(mult))
    np.testing.assert_allclose(time.tou_multiplier, share @ mult, rtol=1e-12)
    assert np.sum(w[:, None] * time.tou_multiplier) == pytest.approx(calendar_mult.sum(), rel=1e-12)
    day_month = frame["month"].to_numpy()[::24]
    calendar_adder = sum(r.cny_per_kwh * np.isin(day_month, r.months) for r in tariff.season_adders) * 24
    assert np.sum(w[:, None] * time.season_adder_cny_per_kwh) == pytest.approx(calendar_adder.sum(), rel=1e-12)
    ef = frame[scenario.power.grid_emission_column].to_numpy()
    assert np.sum(w[:, None] * time.grid_emission_t_per_mwh) / 8760 == pytest.approx(ef.mean(), rel=1e-12)
    assert time.aggregation_error.loc[scenario.power.grid_emission_column, "mean_error_pct"] == pytest.approx(
        0.0, abs=1e-9
    )

    md = time.member_days
    assert md.shape == (time.n_days, 12) and np.issubdtype(md.dtype, np.integer)
    np.testing.assert_array_equal(md.sum(axis=1), w)
    np.testing.assert_array_equal(md.sum(axis=0), DAYS_IN_MONTH)
    for d in range(time.n_days):  # a representative stands for its own month's day at least
        assert md[d, time.month[d] - 1] >= 1


def test_hot_spell_days_runs() -> None:
    tmax = np.array([36, 36, 34, 35, 35, 35, 40, 20, 35, 35, 35], dtype=float)
    np.testing.assert_array_equal(hot_spell_days(tmax, 35.0, 3), [0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1])
    np.testing.assert_array_equal(hot_spell_days(tmax, 35.0, 1), tmax >= 35)
    with pytest.raises(ValueError, match="consecutive_days"):
        hot_spell_days(tmax, 35.0, 0)


def hot_profile() -> np.ndarray:
    """Hourly dry bulb [°C]: 20 °C with hot days (max 36 °C at 14:00) on chosen calendar days."""
    dry = np.full((365, 24), 20.0)
    hot = [
        *range(MONTH_START[4] + 9, MONTH_START[4] + 14),  # 10-14 May: 5 days -> 12, 13, 14 May trigger
        MONTH_START[5] + 1,
        MONTH_START[5] + 2,  # 2-3 June: only 2 days -> nothing
        *range(MONTH_START[7] + 29, MONTH_START[8] + 2),  # 30 Aug - 2 Sep: 1 and 2 Sep trigger
        363,
        364,
        0,  # 30-31 Dec and 1 Jan: runs do not wrap across the year
    ]
    dry[hot, 14] = 36.0
    dry[MONTH_START[9] + 4 : MONTH_START[9] + 7, 14] = 34.9  # 5-7 Oct: just below the threshold
    return dry


HOT_RULE = {"min_dry_bulb_c": 35, "consecutive_days": 3, "hours": ["13-14", "21-23"]}
#: Calendar days (0-based) that trigger the hot-day rule of :func:`hot_profile`, by default months.
HOT_TRIGGERED = [MONTH_START[4] + 11, MONTH_START[4] + 12, MONTH_START[4] + 13, MONTH_START[8], MONTH_START[8] + 1]


def hot_tariff(**hot: object) -> dict[str, object]:
    return {
        "flat_cny_per_kwh": 0.5,
        "non_floating_cny_per_kwh": 0.1,
        "seasons": [
            {"name": "summer", "months": [7, 8, 9], "peak": ["11-18"], "valley": ["1-7"]},
            {"name": "rest", "months": [1, 2, 3, 4, 5, 6, 10, 11, 12], "peak": ["17-22"], "valley": ["22-8"]},
        ],
        "critical": [{"months": [7, 8], "hours": ["13-14", "21-23"]}],
        "season_adders": [{"months": [5], "cny_per_kwh": 0.05}],
        "critical_hot_days": {**HOT_RULE, **hot},
        "fixed_charge_basis": "capacity",
        "capacity_cny_per_kva_month": 0.0,
    }


def test_calendar_tou_periods_hot_days(tmp_path: Path) -> None:
    profile = write_profile(tmp_path / "hot.csv", dry_bulb_c=hot_profile().reshape(-1), wet_bulb_c=15.0)
    scenario = tiny(profile, {"power.grid.tariff": hot_tariff()})
    tariff = scenario.power.grid.tariff
    assert tariff.critical_hot_days is not None and tariff.critical_hot_days.months is None
    frame = load_profiles(profile)
    calendar = calendar_tou_periods(frame, None, tariff)
    plain = calendar_tou_periods(
        frame["month"].to_numpy()[::24], None, tariff.model_copy(update={"critical_hot_days": None})
    )
    changed = np.flatnonzero((calendar != plain).any(axis=1))
    np.testing.assert_array_equal(changed, HOT_TRIGGERED)
    for day in HOT_TRIGGERED:
        assert [h for h in range(24) if calendar[day, h] == "critical"] == [13, 21, 22]
    # the same from month and temperature arrays
    same = calendar_tou_periods(frame["month"].to_numpy()[::24], hot_profile(), tariff)
    np.testing.assert_array_equal(same, calendar)
    # explicit months: only May
    may = tiny(profile, {"power.grid.tariff": hot_tariff(months=[5])}).power.grid.tariff
    changed = np.flatnonzero((calendar_tou_periods(frame, None, may) != plain).any(axis=1))
    np.testing.assert_array_equal(changed, HOT_TRIGGERED[:3])
    # two days in a row are enough with consecutive_days 2: 3 June, 31 Aug is July-Aug (already critical), 31 Dec
    two = tiny(profile, {"power.grid.tariff": hot_tariff(consecutive_days=2)}).power.grid.tariff
    changed = np.flatnonzero((calendar_tou_periods(frame, None, two) != plain).any(axis=1))
    expected = sorted([*range(MONTH_START[4] + 10, MONTH_START[4] + 14), MONTH_START[5] + 2, *HOT_TRIGGERED[3:], 364])
    np.testing.assert_array_equal(changed, expected)
    with pytest.raises(ValueError, match="dry-bulb"):
        calendar_tou_periods(frame["month"].to_numpy()[::24], None, tariff)


@pytest.mark.parametrize("representative_days", [1, 4, "monthly", "full"])
def test_prepare_time_hot_days_enter_through_the_mean(tmp_path: Path, representative_days: object) -> None:
    profile = write_profile(tmp_path / "hot.csv", dry_bulb_c=hot_profile().reshape(-1), wet_bulb_c=15.0)
    scenario = tiny(
        profile,
        {"power.grid.tariff": hot_tariff(), "time.representative_days": representative_days},
    )
    time = prepare_time(scenario)
    calendar = calendar_tou_periods(load_profiles(profile), None, scenario.power.grid.tariff)
    actual = period_hours(calendar)
    assert actual["critical"] == 3 * 62 + 3 * len(HOT_TRIGGERED)
    got = represented_hours(time)
    for p in TOU_PERIODS:
        assert got[p] == pytest.approx(actual[p], abs=1e-9)
    np.testing.assert_array_equal(time.member_days.sum(axis=1), time.weight)
    np.testing.assert_array_equal(time.member_days.sum(axis=0), DAYS_IN_MONTH)
    w = time.weight
    assert np.sum(w[:, None] * time.season_adder_cny_per_kwh) == pytest.approx(0.05 * 31 * 24, rel=1e-12)
    mult = np.array([getattr(scenario.power.grid.tariff.multipliers, p) for p in TOU_PERIODS])
    calendar_mult = np.select([calendar == p for p in TOU_PERIODS], list(mult))
    assert np.sum(w[:, None] * time.tou_multiplier) == pytest.approx(calendar_mult.sum(), rel=1e-12)
    if representative_days == 1:
        assert time.tou_period_share[0, 13, 0] == pytest.approx((62 + len(HOT_TRIGGERED)) / 365)
    if representative_days == "full":  # every day stands for itself: its own values, exactly
        assert time.n_days == 365
        np.testing.assert_array_equal(time.tou_period, calendar)
        np.testing.assert_array_equal(time.tou_multiplier, calendar_mult)
        np.testing.assert_array_equal(
            time.member_days[np.arange(365), load_profiles(profile)["month"].to_numpy()[::24] - 1], 1
        )


def test_critical_hot_days_schema_and_checks(tmp_path: Path) -> None:
    profile = write_profile(tmp_path / "flat.csv")
    rule = tiny(profile, {"power.grid.tariff": hot_tariff(min_dry_bulb_c="308.15 K")}).power.grid.tariff
    assert rule.critical_hot_days is not None and rule.critical_hot_days.min_dry_bulb_c == pytest.approx(35.0)
    assert tiny(profile).power.grid.tariff.critical_hot_days is None

    def problems(changes: dict[str, object]) -> list[str]:
        with pytest.raises(ScenarioError) as info:
            tiny(profile, {"power.grid.tariff": hot_tariff(**changes)})
        return [str(p) for p in info.value.problems]

    where = "power.grid.tariff.critical_hot_days"
    for bad, key in [
        ({"consecutive_days": 0}, "consecutive_days"),
        ({"hours": []}, "hours"),
        ({"months": []}, "months"),
        ({"months": [5, 5]}, "months"),
        ({"months": [13]}, "months"),
        ({"min_dry_bulb_c": 80}, "min_dry_bulb_c"),
        ({"hot": True}, "hot"),
    ]:
        found = problems(bad)
        assert any(f"{where}.{key}" in p for p in found), (bad, found)
    # a month whose every day already pays the critical price in these hours
    (msg,) = problems({"months": [5, 8]})
    assert f"{where}.months" in msg and "month 8" in msg and "critical[0]" in msg
    assert tiny(profile, {"power.grid.tariff": hot_tariff(months=[8], hours=["12-14"])})  # adds hour 12: fine
    # default months with critical rules covering the whole year: the trigger could never apply
    data = hot_tariff()
    data["critical"] = [{"months": list(range(1, 13)), "hours": ["13-14"]}]
    with pytest.raises(ScenarioError) as info:
        tiny(profile, {"power.grid.tariff": data})
    (msg,) = [str(p) for p in info.value.problems]
    assert where in msg and "never apply" in msg
