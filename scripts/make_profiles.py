#!/usr/bin/env python3
"""Generate the synthetic hourly site profiles for Chengdu (``inputs/profiles/chengdu.csv``).

This is a reproducible generator: all randomness comes from a single
``numpy.random.Generator`` (PCG64) seeded with a fixed integer, and the CSV is
written with explicit per-column formatting, so re-running the script with the
same seed (and the same numpy version) gives a byte-identical file.

The result is a *synthetic, estimated* typical year [E]. It is built from
published climate normals and simple physical / statistical models; it is not a
measured year, and none of the hourly values should be cited as observations.

Time axis
---------
8760 hourly rows, 2026-01-01T00:00 to 2026-12-31T23:00, local time (China
Standard Time, UTC+8, no DST). Hour-beginning convention: the row stamped
``t`` represents the interval ``[t, t + 1 h)``. PV is the mean over that
interval; the other quantities are representative values for the hour.

Method
------
dry_bulb_c [degC]
    CMA 1981-2010 monthly normals (Dujiangyan/Chengdu station) of mean and
    mean-daily-maximum dry-bulb temperature are turned into smooth daily
    curves by a least-squares harmonic fit (4 annual harmonics) in which each
    basis function is averaged over the days of each calendar month, so the
    fitted curve reproduces the monthly means (residual < 0.1 degC). Day-to-day
    synoptic anomalies are an AR(1) process (std 2.2 degC, lag-1 correlation
    0.7), centred within each calendar month so the year keeps the normals.
    A diurnal cycle is added: a piecewise cosine with its minimum at local
    sunrise (about 06:10 in summer, 08:05 in winter, clock time) and its
    maximum at 15:00, with half-amplitude equal to (mean daily max - mean),
    i.e. peak-to-trough amplitude = 2 x (mean max - mean); the amplitude is
    scaled by the day's cloudiness (clear days larger, overcast days smaller;
    factor 0.6 + 0.4 * k_day / k_clim). Daily mean and amplitude are linearly
    interpolated between day centres so there are no steps at midnight.
    Values are clipped to the Chengdu record extremes -4.6 / 37.5 degC.
relative humidity (internal, not written)
    CMA monthly mean RH, same harmonic fit, plus a daily anomaly (AR(1),
    std 3 %-points, anti-correlated with the temperature anomaly
    -1.5 %-points/degC and with clearness), centred within each month. The
    inverse diurnal cycle follows the temperature excursion,
    RH = RH_day * (1 - 0.045 * (T - T_day)), i.e. a partially constant dew
    point, plus hourly noise (std 1.5 %-points); clipped to 30-100 %.
wet_bulb_c [degC]
    Stull (2011) empirical formula from dry-bulb and RH, rounded to 0.1 degC
    and clipped so wet_bulb_c <= dry_bulb_c every hour.
pv_cf [-]
    Solar geometry for Chengdu (30.67 N, 104.07 E, UTC+8; solar noon about
    13:04 local clock time) from the Spencer (1971) declination and equation
    of time, averaged over 6 sub-steps per hour. Clear-sky global horizontal
    irradiance = 1.1 * 1361 * E0 * cos(z) * 0.7 ** (AM ** 0.678) (Meinel
    attenuation, +10 % diffuse, Kasten & Young 1989 air mass); AC output per
    kWp DC = 0.80 * G / 1000 W/m2 (performance ratio 0.80, horizontal-
    equivalent shape: optimal tilt in the diffuse-dominated basin is low).
    This is multiplied by a daily clear-sky index k_day ~ Beta(m * 5,
    (1 - m) * 5) with a seasonal mean m (0.44-0.46 in Nov-Feb, 0.56-0.59 in
    Jul/Aug, loosely following the monthly sunshine fraction; with the low
    winter sun, Dec/Jan CF is about 0.35x the Jul CF: Chengdu winters are
    very overcast) and a small hourly multiplicative noise (log-std 0.15),
    then rescaled (clipping to [0, 0.80], the AC limit per kWp DC for a
    DC/AC ratio of 1.25; the rescale factor is about 0.96) so that the
    annual mean capacity factor is exactly 0.100 (876 kWh/kWp/yr), within the
    800-950 kWh/kWp/yr range quoted for the Sichuan Basin (1,073-1,152
    sunshine hours, ~245 overcast days; the lowest solar resource in China).
inference_shape [-]
    Diurnal profile of interactive LLM traffic in China (single time zone):
    low 02:00-06:00, rising from 08:00, broad plateau 09:00-23:00 with peaks
    at 10-11 h and 20-22 h. Interactive component (80 % of weekday peak
    energy) has peak/trough about 3.1; blended with a flat batch component
    (20 %) the weekday mean profile has peak/trough = 2.2 [E]. Weekends are
    10 % lower than weekdays (weekday = 1.1 x weekend); public holidays are
    not modelled. Small noise: daily factor (std 2 %) and hourly factor
    (std 2 %). No within-year growth (demand growth is set per year
    elsewhere). Normalised so the annual maximum is exactly 1.0. [E]
hydro_availability [-]
    Share of contracted hydro PPA MW available. Sichuan seasonality: wet
    season Jun-Oct about 0.95-0.98 (capped at 1), dry season Dec-Apr about
    0.46-0.55, transitions in May and Nov (monthly targets, harmonic fit),
    daily AR(1) noise (std 0.025, lag-1 0.9), tiny diurnal cycle (+-0.01,
    contracted flat) and hourly noise (std 0.005). STRESS FEATURE: a
    drought-like dip to ~0.5 on 15-24 Aug with 3-day cosine ramps either
    side, mimicking the August 2022 Sichuan drought (inflows fell > 50 %,
    industrial power rationing). [E]
wind_availability [-]
    Wind capacity-factor-like series: monthly targets higher in winter/spring
    (~0.27-0.30) and lower in summer (~0.16), diurnal factor
    1 + 0.15 cos(2 pi (h - 2) / 24) (night-time maximum), multiplied by a
    log-normal AR(1) hourly noise (sigma 0.55, lag-1 0.95); clipped to [0, 1]
    and rescaled so the annual mean is 0.22. [E]
grid_emission_t_per_mwh [tCO2/MWh]
    Shape driven by hydro: 0.09 + 0.26 * (0.98 - smooth hydro availability,
    incl. the drought dip), i.e. ~0.09 in the wet season and ~0.22 in the dry
    season before scaling; diurnal factor (+6 % in the 18-22 h evening peak,
    -3 % at 02-05 h) and 2 % hourly noise. Scaled so the plain annual mean is
    the Sichuan provincial average 0.1404 tCO2/MWh (MEE, 2022 factor).
    The shape is [E]; only the annual mean is sourced.

Sources
-------
- China Meteorological Administration, 1981-2010 climate normals,
  Dujiangyan/Chengdu (monthly mean, mean daily max, mean RH); Chengdu record
  extremes -4.6 / 37.5 degC.
- Stull, R. (2011): Wet-bulb temperature from relative humidity and air
  temperature. J. Appl. Meteor. Climatol., 50, 2267-2269,
  doi:10.1175/JAMC-D-11-0143.1.
- Spencer, J. W. (1971): Fourier series representation of the position of the
  Sun. Search, 2(5), 172.
- Kasten, F. & Young, A. T. (1989): Revised optical air mass tables and
  approximation formula. Appl. Opt., 28, 4735-4738.
- Meinel, A. B. & Meinel, M. P. (1976): Applied Solar Energy (clear-sky
  attenuation 0.7 ** AM ** 0.678).
- Sichuan Basin PV yield ~800-950 kWh/kWp/yr, 1,073-1,152 sunshine hours,
  ~245 overcast days (project brief; not independently verified).
- Ministry of Ecology and Environment (MEE): provincial grid emission factor,
  Sichuan 0.1404 tCO2/MWh (2022).
- August 2022 Sichuan drought and hydropower shortfall (press reports).

Usage
-----
``python scripts/make_profiles.py [--out PATH] [--seed N] [--quiet]``
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from planner.time.profiles import PROFILE_COLUMNS

# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "inputs" / "profiles" / "chengdu.csv"
DEFAULT_SEED = 20260101

YEAR = 2026
N_DAYS = 365
N_HOURS = 8760

LAT_DEG = 30.67  # [deg N] Chengdu
LON_DEG = 104.07  # [deg E]
TZ_HOURS = 8.0  # [h] UTC+8, China Standard Time

COLUMNS = ["timestamp", *PROFILE_COLUMNS]  # the columns the planner reads (planner.time.profiles)

# CMA 1981-2010 normals, Dujiangyan/Chengdu, Jan..Dec
T_MEAN_NORMAL = np.array([5.1, 7.0, 10.7, 15.8, 20.3, 22.9, 24.8, 24.3, 20.7, 16.1, 11.6, 6.4])  # [degC]
T_MAX_NORMAL = np.array([8.3, 10.3, 14.6, 20.2, 24.7, 26.7, 28.7, 28.3, 24.3, 19.2, 14.9, 9.7])  # [degC]
RH_NORMAL = np.array([82, 81, 79, 77, 73, 77, 81, 81, 83, 85, 83, 82], dtype=float)  # [%]
T_RECORD_MIN = -4.6  # [degC] Chengdu record low
T_RECORD_MAX = 37.5  # [degC] Chengdu record high

# Temperature anomaly process
T_ANOM_STD = 2.2  # [degC]
T_ANOM_PHI = 0.7  # [-] lag-1 (daily) autocorrelation
T_MAX_HOUR = 15.0  # [h] local clock time of daily maximum

# Humidity
RH_ANOM_STD = 3.0  # [%-points]
RH_PER_DEGC_ANOM = -1.5  # [%-points / degC] daily RH vs temperature anomaly
RH_DIURNAL_K = 0.045  # [1/degC] relative RH change per degC of diurnal excursion
RH_HOURLY_STD = 1.5  # [%-points]

# PV
PV_PR = 0.80  # [-] performance ratio (AC per kWp DC at 1000 W/m2)
PV_TARGET_CF = 0.100  # [-] annual mean capacity factor
PV_AC_LIMIT = 0.80  # [-] AC limit per kWp DC (DC/AC ratio 1.25, inverter clipping)
# Seasonal mean of the daily clear-sky index (Jan..Dec) [-] [E]; loosely follows
# the monthly sunshine fraction in Chengdu (~15 % of possible in Dec to ~35 % in Aug).
PV_K_MONTHLY = np.array([0.46, 0.46, 0.50, 0.54, 0.54, 0.52, 0.56, 0.59, 0.48, 0.45, 0.46, 0.44])
PV_K_CONC = 5.0  # [-] Beta concentration (a + b)
PV_HOURLY_NOISE = 0.15  # [-] log-std of hourly clear-sky-index noise

# Inference
INF_WEEKDAY_PEAK_TROUGH = 2.2  # [-] blended weekday peak/trough [E]
INF_INTERACTIVE_SHARE = 0.8  # [-] share of interactive in weekday peak [E]
INF_WEEKDAY_OVER_WEEKEND = 1.10  # [-] [E]
# Interactive template, 0 = trough, 1 = peak, by local clock hour 0..23 [E]
INF_TEMPLATE = np.array(
    [
        0.45,
        0.25,
        0.08,
        0.02,
        0.00,
        0.02,
        0.08,
        0.22,  # 00-07
        0.45,
        0.72,
        0.93,
        0.96,
        0.80,
        0.74,
        0.82,
        0.85,  # 08-15
        0.83,
        0.78,
        0.76,
        0.84,
        0.95,
        1.00,
        0.94,
        0.74,  # 16-23
    ]
)

# Hydro (Jan..Dec) [-] [E]
HYDRO_MONTHLY = np.array([0.50, 0.46, 0.47, 0.55, 0.75, 0.95, 0.98, 0.98, 0.98, 0.96, 0.78, 0.55])
HYDRO_DROUGHT_START = "2026-08-15"  # first full day of the stress dip
HYDRO_DROUGHT_DAYS = 10  # [d]
HYDRO_DROUGHT_LEVEL = 0.50  # [-]
HYDRO_DROUGHT_RAMP_DAYS = 3  # [d] cosine ramp before and after

# Wind (Jan..Dec) [-] [E]
WIND_MONTHLY = np.array([0.27, 0.29, 0.30, 0.28, 0.23, 0.18, 0.16, 0.16, 0.17, 0.19, 0.23, 0.26])
WIND_TARGET_MEAN = 0.22  # [-]

# Grid emission factor
EF_ANNUAL_MEAN = 0.1404  # [tCO2/MWh] Sichuan, MEE 2022

HEADER_LINES = [
    "Synthetic hourly site profiles for Chengdu, Sichuan, China. ESTIMATED [E], not measured data.",
    "Generated by scripts/make_profiles.py, make_profiles(seed={seed}); re-running reproduces this file",
    "  byte for byte. Details and sources: script docstring and inputs/profiles/README.md.",
    "Time: 2026-01-01T00:00..2026-12-31T23:00 local time UTC+8, hour-beginning (row t = [t, t+1h)).",
    "dry_bulb_c [degC]: CMA 1981-2010 monthly normals (Dujiangyan/Chengdu), harmonic daily fit",
    "  + AR(1) synoptic anomalies (std 2.2 degC, r1 0.7, centred per month) + diurnal cosine (min at",
    "  sunrise, max 15:00, amplitude 2 x (mean max - mean), scaled by cloudiness); clipped -4.6..37.5.",
    "wet_bulb_c [degC]: Stull (2011, JAMC 50:2267) from dry bulb and synthetic RH (CMA monthly RH",
    "  normals, inverse diurnal cycle, noise, 30-100 %); clipped so wet_bulb_c <= dry_bulb_c.",
    "pv_cf [-]: AC output per kWp DC; Spencer solar geometry at 30.67N 104.07E, Meinel/Kasten-Young",
    "  clear sky, PR 0.80, AC limit 0.80/kWp, daily Beta clear-sky index with seasonal mean",
    "  (overcast winters); annual CF 0.100 = 876 kWh/kWp (Sichuan Basin ~800-950 kWh/kWp,",
    "  1073-1152 sunshine h, ~245 overcast days).",
    "inference_shape [-]: interactive LLM traffic in China blended with flat batch, weekday",
    "  peak/trough 2.2, weekdays 10 % above weekends, small noise, no growth; annual max = 1.0. [E]",
    "hydro_availability [-]: share of contracted hydro PPA MW; wet Jun-Oct ~0.95-1.0, dry Dec-Apr",
    "  ~0.46-0.55; STRESS FEATURE: drought dip to ~0.5 on 15-24 Aug (like Aug 2022, inflows -50 %). [E]",
    "wind_availability [-]: capacity-factor-like, mean 0.22, winter/spring high, summer low, night",
    "  high, log-normal AR(1) noise. [E]",
    "grid_emission_t_per_mwh [tCO2/MWh]: shape follows hydro (low wet season, high dry season and",
    "  drought dip, evening +6 %) [E]; plain annual mean = Sichuan 0.1404 tCO2/MWh (MEE 2022).",
]


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _day_index() -> tuple[np.ndarray, np.ndarray]:
    """Return day-of-year and month for the 365 days of the year.

    Returns
    -------
    doy : numpy.ndarray of int, shape (365,)
        Day of year, 1..365 [d].
    month : numpy.ndarray of int, shape (365,)
        Calendar month, 1..12 [-].
    """
    days = pd.date_range(f"{YEAR}-01-01", periods=N_DAYS, freq="D")
    return days.dayofyear.to_numpy(), days.month.to_numpy()


def monthly_to_daily(monthly: np.ndarray, n_harm: int = 4) -> np.ndarray:
    """Smooth periodic daily curve whose calendar-month means match ``monthly``.

    A least-squares fit of a constant plus ``n_harm`` annual harmonics, where
    each basis function is averaged over the days of each calendar month
    before fitting, so the fitted curve reproduces the monthly means (exactly
    for ``n_harm`` >= 6, approximately otherwise).

    Parameters
    ----------
    monthly : numpy.ndarray, shape (12,)
        Monthly mean values, Jan..Dec [any unit].
    n_harm : int, optional
        Number of annual harmonics [-].

    Returns
    -------
    numpy.ndarray, shape (365,)
        Daily values [same unit as ``monthly``].
    """
    doy, month = _day_index()
    angle = 2.0 * np.pi * (doy - 0.5) / N_DAYS
    cols = [np.ones(N_DAYS)]
    for k in range(1, n_harm + 1):
        cols.append(np.cos(k * angle))
        cols.append(np.sin(k * angle))
    basis = np.column_stack(cols)  # (365, p)
    month_avg = np.vstack([basis[month == m].mean(axis=0) for m in range(1, 13)])  # (12, p)
    coef, *_ = np.linalg.lstsq(month_avg, np.asarray(monthly, dtype=float), rcond=None)
    return basis @ coef


def _ar1(rng: np.random.Generator, n: int, phi: float, std: float) -> np.ndarray:
    """Stationary AR(1) series.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random generator.
    n : int
        Length [-].
    phi : float
        Lag-1 autocorrelation [-].
    std : float
        Marginal standard deviation [unit of output].

    Returns
    -------
    numpy.ndarray, shape (n,)
        AR(1) realisation with zero mean [unit of ``std``].
    """
    eps = rng.standard_normal(n)
    out = np.empty(n)
    out[0] = eps[0] * std
    innov = std * np.sqrt(1.0 - phi**2)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + innov * eps[i]
    return out


def _centre_by_month(x: np.ndarray, month: np.ndarray) -> np.ndarray:
    """Subtract the calendar-month mean from a daily series.

    Parameters
    ----------
    x : numpy.ndarray, shape (365,)
        Daily series [any unit].
    month : numpy.ndarray of int, shape (365,)
        Calendar month of each day [-].

    Returns
    -------
    numpy.ndarray, shape (365,)
        Series with zero mean in each calendar month [unit of ``x``].
    """
    out = x.copy()
    for m in range(1, 13):
        sel = month == m
        out[sel] -= out[sel].mean()
    return out


def _daily_to_hourly(daily: np.ndarray) -> np.ndarray:
    """Linear interpolation of daily values (at 12:00) to the 8760 hours, periodic.

    Parameters
    ----------
    daily : numpy.ndarray, shape (365,)
        Daily values [any unit].

    Returns
    -------
    numpy.ndarray, shape (8760,)
        Hourly values [unit of ``daily``].
    """
    t = np.arange(N_HOURS) / 24.0  # [d] since 1 Jan 00:00
    xp = np.concatenate([[-0.5], np.arange(N_DAYS) + 0.5, [N_DAYS + 0.5]])
    fp = np.concatenate([[daily[-1]], daily, [daily[0]]])
    return np.interp(t, xp, fp)


def _solar_position(t_day: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solar geometry at Chengdu for fractional local-clock days.

    Parameters
    ----------
    t_day : numpy.ndarray
        Time since 2026-01-01T00:00 local time [d].

    Returns
    -------
    cos_zenith : numpy.ndarray
        Cosine of the solar zenith angle [-] (negative at night).
    e0 : numpy.ndarray
        Eccentricity correction factor (Sun-Earth distance) [-].
    eot_min : numpy.ndarray
        Equation of time [min].
    """
    gamma = 2.0 * np.pi * t_day / N_DAYS  # day angle [rad], Spencer (1971)
    decl = (
        0.006918
        - 0.399912 * np.cos(gamma)
        + 0.070257 * np.sin(gamma)
        - 0.006758 * np.cos(2 * gamma)
        + 0.000907 * np.sin(2 * gamma)
        - 0.002697 * np.cos(3 * gamma)
        + 0.00148 * np.sin(3 * gamma)
    )
    eot = 229.18 * (
        0.000075
        + 0.001868 * np.cos(gamma)
        - 0.032077 * np.sin(gamma)
        - 0.014615 * np.cos(2 * gamma)
        - 0.040849 * np.sin(2 * gamma)
    )
    e0 = (
        1.000110
        + 0.034221 * np.cos(gamma)
        + 0.001280 * np.sin(gamma)
        + 0.000719 * np.cos(2 * gamma)
        + 0.000077 * np.sin(2 * gamma)
    )
    clock_h = (t_day % 1.0) * 24.0
    solar_h = clock_h + (4.0 * (LON_DEG - 15.0 * TZ_HOURS) + eot) / 60.0
    omega = np.deg2rad(15.0 * (solar_h - 12.0))
    lat = np.deg2rad(LAT_DEG)
    cosz = np.sin(lat) * np.sin(decl) + np.cos(lat) * np.cos(decl) * np.cos(omega)
    return cosz, e0, eot


def sunrise_clock_hour(doy: np.ndarray) -> np.ndarray:
    """Local clock time of geometric sunrise at Chengdu.

    Parameters
    ----------
    doy : numpy.ndarray of int
        Day of year, 1..365 [d].

    Returns
    -------
    numpy.ndarray
        Sunrise time, local clock (UTC+8) [h].
    """
    t_noon = (doy - 1) + 0.5
    gamma = 2.0 * np.pi * t_noon / N_DAYS
    decl = (
        0.006918
        - 0.399912 * np.cos(gamma)
        + 0.070257 * np.sin(gamma)
        - 0.006758 * np.cos(2 * gamma)
        + 0.000907 * np.sin(2 * gamma)
        - 0.002697 * np.cos(3 * gamma)
        + 0.00148 * np.sin(3 * gamma)
    )
    _, _, eot = _solar_position(t_noon)
    lat = np.deg2rad(LAT_DEG)
    ws = np.rad2deg(np.arccos(-np.tan(lat) * np.tan(decl)))  # sunset hour angle [deg]
    solar_noon_clock = 12.0 - (4.0 * (LON_DEG - 15.0 * TZ_HOURS) + eot) / 60.0
    return solar_noon_clock - ws / 15.0


def stull_wet_bulb(t_c: np.ndarray, rh_pct: np.ndarray) -> np.ndarray:
    """Wet-bulb temperature from dry-bulb and relative humidity (Stull, 2011).

    Valid for RH 5-99 % and -20..50 degC at standard sea-level pressure;
    error typically within -1..+0.65 degC.

    Parameters
    ----------
    t_c : numpy.ndarray
        Dry-bulb temperature [degC].
    rh_pct : numpy.ndarray
        Relative humidity [%].

    Returns
    -------
    numpy.ndarray
        Wet-bulb temperature [degC].
    """
    t = np.asarray(t_c, dtype=float)
    rh = np.asarray(rh_pct, dtype=float)
    return (
        t * np.arctan(0.151977 * np.sqrt(rh + 8.313659))
        + np.arctan(t + rh)
        - np.arctan(rh - 1.676331)
        + 0.00391838 * rh**1.5 * np.arctan(0.023101 * rh)
        - 4.686035
    )


def _diurnal_temperature_shape(hour: np.ndarray, t_min_today: np.ndarray, t_min_next: np.ndarray) -> np.ndarray:
    """Piecewise-cosine diurnal temperature shape in [-1, 1].

    -1 at ``t_min_today`` (sunrise), +1 at 15:00, falling through the night
    to the next day's minimum.

    Parameters
    ----------
    hour : numpy.ndarray
        Local clock hour of day, 0..23 [h].
    t_min_today : numpy.ndarray
        Time of today's minimum [h].
    t_min_next : numpy.ndarray
        Time of the next day's minimum [h].

    Returns
    -------
    numpy.ndarray
        Shape value [-].
    """
    h = hour.astype(float)
    rising = (h >= t_min_today) & (h < T_MAX_HOUR)
    f = np.empty_like(h)
    # rising branch: sunrise -> 15:00
    f[rising] = -np.cos(np.pi * (h[rising] - t_min_today[rising]) / (T_MAX_HOUR - t_min_today[rising]))
    # falling branch after 15:00 (towards next morning)
    late = h >= T_MAX_HOUR
    f[late] = np.cos(np.pi * (h[late] - T_MAX_HOUR) / (24.0 - T_MAX_HOUR + t_min_next[late]))
    # falling branch before sunrise (from yesterday 15:00)
    early = h < t_min_today
    f[early] = np.cos(np.pi * (h[early] + 24.0 - T_MAX_HOUR) / (24.0 - T_MAX_HOUR + t_min_today[early]))
    return f


def _rescale_clipped(
    x: np.ndarray, target_mean: float, lo: float = 0.0, hi: float = 1.0, n_iter: int = 30
) -> np.ndarray:
    """Multiplicatively rescale a non-negative series to a target mean under clipping.

    Parameters
    ----------
    x : numpy.ndarray
        Non-negative series [-].
    target_mean : float
        Desired mean after clipping [-].
    lo, hi : float, optional
        Clip bounds [-].
    n_iter : int, optional
        Fixed-point iterations [-].

    Returns
    -------
    numpy.ndarray
        Rescaled, clipped series [-].
    """
    scale = target_mean / x.mean()
    for _ in range(n_iter):
        y = np.clip(x * scale, lo, hi)
        scale *= target_mean / y.mean()
    return np.clip(x * scale, lo, hi)


def _r(x: np.ndarray, nd: int) -> np.ndarray:
    """Round and remove negative zeros.

    Parameters
    ----------
    x : numpy.ndarray
        Values [any unit].
    nd : int
        Decimals [-].

    Returns
    -------
    numpy.ndarray
        Rounded values [unit of ``x``].
    """
    return np.round(x, nd) + 0.0


# ---------------------------------------------------------------------------
# Main generator
# ---------------------------------------------------------------------------


def make_profiles(seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Build the synthetic hourly Chengdu profiles.

    Parameters
    ----------
    seed : int, optional
        Seed for ``numpy.random.default_rng`` [-].

    Returns
    -------
    pandas.DataFrame
        8760 rows, columns as in ``COLUMNS``: ``timestamp`` (naive datetime,
        local time UTC+8), ``dry_bulb_c`` [degC], ``wet_bulb_c`` [degC],
        ``pv_cf`` [-], ``inference_shape`` [-], ``hydro_availability`` [-],
        ``wind_availability`` [-], ``grid_emission_t_per_mwh`` [tCO2/MWh].
        Values are already rounded as written to the CSV.
    """
    df, _ = _generate(seed)
    return df


def _generate(seed: int) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Build the profiles and return internal diagnostics as well.

    Parameters
    ----------
    seed : int
        Seed for ``numpy.random.default_rng`` [-].

    Returns
    -------
    df : pandas.DataFrame
        8760 rows, columns as in ``COLUMNS``: ``timestamp`` (naive datetime,
        local time UTC+8), ``dry_bulb_c`` [degC], ``wet_bulb_c`` [degC],
        ``pv_cf`` [-], ``inference_shape`` [-], ``hydro_availability`` [-],
        ``wind_availability`` [-], ``grid_emission_t_per_mwh`` [tCO2/MWh].
        Values are already rounded as written to the CSV.
    diagnostics : dict of str to numpy.ndarray
        Internal series not written to the CSV: ``rh_pct`` [%] hourly
        relative humidity, ``k_day`` [-] daily clear-sky index.
    """
    rng = np.random.default_rng(seed)
    # Draw the independent random streams in a fixed order (reproducibility).
    rng_pv, rng_temp, rng_rh, rng_inf, rng_hydro, rng_wind, rng_ef = rng.spawn(7)

    ts = pd.date_range(f"{YEAR}-01-01 00:00", periods=N_HOURS, freq="h")
    hour = ts.hour.to_numpy()
    day = np.arange(N_HOURS) // 24  # 0..364
    doy, month_d = _day_index()

    # ---------------- PV ---------------------------------------------------
    n_sub = 6
    sub = (np.arange(n_sub) + 0.5) / n_sub  # fraction of the hour
    t_sub = (np.arange(N_HOURS)[:, None] + sub[None, :]) / 24.0  # [d]
    cosz, e0, _ = _solar_position(t_sub)
    cosz_pos = np.clip(cosz, 0.0, None)
    zen_deg = np.rad2deg(np.arccos(np.clip(cosz, -1.0, 1.0)))
    with np.errstate(invalid="ignore", divide="ignore"):
        am = 1.0 / (cosz_pos + 0.50572 * np.power(np.clip(96.07995 - zen_deg, 1e-3, None), -1.6364))
        dni = 1361.0 * e0 * np.power(0.7, np.power(am, 0.678))
    ghi_clear = np.where(cosz > 0.0, 1.1 * dni * cosz_pos, 0.0).mean(axis=1)  # [W/m2] hourly mean
    cf_clear = PV_PR * ghi_clear / 1000.0  # [-]

    k_mean_d = np.clip(monthly_to_daily(PV_K_MONTHLY, n_harm=3), 0.05, 0.95)
    k_day = rng_pv.beta(k_mean_d * PV_K_CONC, (1.0 - k_mean_d) * PV_K_CONC)
    k_hour = k_day[day] * np.exp(PV_HOURLY_NOISE * rng_pv.standard_normal(N_HOURS) - 0.5 * PV_HOURLY_NOISE**2)
    k_hour = np.clip(k_hour, 0.0, 1.0)
    pv_cf = _rescale_clipped(cf_clear * k_hour, PV_TARGET_CF, hi=PV_AC_LIMIT)
    pv_cf = np.where(ghi_clear > 0.0, pv_cf, 0.0)

    # ---------------- Temperature ---------------------------------------------
    t_mean_d = monthly_to_daily(T_MEAN_NORMAL)
    half_amp_d = monthly_to_daily(T_MAX_NORMAL - T_MEAN_NORMAL)
    t_anom = _centre_by_month(_ar1(rng_temp, N_DAYS, T_ANOM_PHI, T_ANOM_STD), month_d)
    cloud_fac = 0.6 + 0.4 * k_day / k_mean_d
    half_amp_d = half_amp_d * cloud_fac
    t_day = t_mean_d + t_anom
    t_day_h = _daily_to_hourly(t_day)
    half_amp_h = _daily_to_hourly(half_amp_d)
    t_rise = sunrise_clock_hour(doy)
    t_rise_next = np.roll(t_rise, -1)
    shape = _diurnal_temperature_shape(hour, t_rise[day], t_rise_next[day])
    dry = np.clip(t_day_h + half_amp_h * shape, T_RECORD_MIN, T_RECORD_MAX)

    # ---------------- Humidity and wet bulb -----------------------------------
    rh_d = monthly_to_daily(RH_NORMAL)
    rh_anom = RH_PER_DEGC_ANOM * t_anom - 8.0 * (k_day - k_mean_d) + _ar1(rng_rh, N_DAYS, 0.6, RH_ANOM_STD)
    rh_day_h = _daily_to_hourly(rh_d + _centre_by_month(rh_anom, month_d))
    rh = rh_day_h * (1.0 - RH_DIURNAL_K * (dry - t_day_h)) + RH_HOURLY_STD * rng_rh.standard_normal(N_HOURS)
    rh = np.clip(rh, 30.0, 100.0)
    dry_r = _r(dry, 1)
    wet_r = np.minimum(_r(stull_wet_bulb(dry, rh), 1), dry_r)

    # ---------------- Inference shape -----------------------------------------
    # Blend: B(h) = s*(t + (1-t)*x(h)) + (1-s); choose t so max/min = ratio.
    s, ratio = INF_INTERACTIVE_SHARE, INF_WEEKDAY_PEAK_TROUGH
    t_int = ((s + (1.0 - s)) / ratio - (1.0 - s)) / s  # interactive trough/peak [-]
    weekday_prof = s * (t_int + (1.0 - t_int) * INF_TEMPLATE) + (1.0 - s)
    is_weekend = ts.dayofweek.to_numpy() >= 5
    level = np.where(is_weekend, 1.0 / INF_WEEKDAY_OVER_WEEKEND, 1.0)
    daily_noise = np.exp(0.02 * rng_inf.standard_normal(N_DAYS))
    hourly_noise = np.exp(0.02 * rng_inf.standard_normal(N_HOURS))
    inf = weekday_prof[hour] * level * daily_noise[day] * hourly_noise
    inf = inf / inf.max()

    # ---------------- Hydro ---------------------------------------------------
    hydro_d = np.clip(monthly_to_daily(HYDRO_MONTHLY), 0.0, 1.0)
    d0 = (pd.Timestamp(HYDRO_DROUGHT_START) - pd.Timestamp(f"{YEAR}-01-01")).days
    d_idx = np.arange(N_DAYS)
    w = np.zeros(N_DAYS)
    w[(d_idx >= d0) & (d_idx < d0 + HYDRO_DROUGHT_DAYS)] = 1.0
    r = HYDRO_DROUGHT_RAMP_DAYS
    for j in range(1, r + 1):
        wj = 0.5 * (1.0 - np.cos(np.pi * (r + 1 - j) / (r + 1)))  # weight j days outside the dip
        w[d0 - j] = wj
        w[d0 + HYDRO_DROUGHT_DAYS - 1 + j] = wj
    hydro_smooth_d = hydro_d * (1.0 - w) + HYDRO_DROUGHT_LEVEL * w
    hydro_noisy_d = hydro_smooth_d + _ar1(rng_hydro, N_DAYS, 0.9, 0.025)
    hydro = (
        _daily_to_hourly(hydro_noisy_d)
        + 0.01 * np.cos(2.0 * np.pi * (hour - 3.0) / 24.0)
        + 0.005 * rng_hydro.standard_normal(N_HOURS)
    )
    hydro = np.clip(hydro, 0.0, 1.0)

    # ---------------- Wind ----------------------------------------------------
    wind_base = _daily_to_hourly(np.clip(monthly_to_daily(WIND_MONTHLY), 0.02, None))
    wind_diurnal = 1.0 + 0.15 * np.cos(2.0 * np.pi * (hour - 2.0) / 24.0)
    sig = 0.55
    z = _ar1(rng_wind, N_HOURS, 0.95, 1.0)
    wind = wind_base * wind_diurnal * np.exp(sig * z - 0.5 * sig**2)
    wind = _rescale_clipped(wind, WIND_TARGET_MEAN)

    # ---------------- Grid emission factor ------------------------------------
    ef_shape = 0.09 + 0.26 * (0.98 - _daily_to_hourly(hydro_smooth_d))
    ef_shape = np.clip(ef_shape, 0.05, None)
    evening = np.isin(hour, [18, 19, 20, 21, 22])
    night = np.isin(hour, [2, 3, 4, 5])
    ef_diurnal = 1.0 + 0.06 * evening - 0.03 * night
    ef = ef_shape * ef_diurnal * np.exp(0.02 * rng_ef.standard_normal(N_HOURS))
    ef = ef * EF_ANNUAL_MEAN / ef.mean()

    df = pd.DataFrame(
        {
            "timestamp": ts,
            "dry_bulb_c": dry_r,
            "wet_bulb_c": wet_r,
            "pv_cf": _r(pv_cf, 4),
            "inference_shape": _r(inf, 4),
            "hydro_availability": _r(hydro, 4),
            "wind_availability": _r(wind, 4),
            "grid_emission_t_per_mwh": _r(ef, 4),
        },
        columns=COLUMNS,
    )
    df.attrs["seed"] = seed
    return df, {"rh_pct": rh, "k_day": k_day}


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------

_FORMATS = {
    "dry_bulb_c": "{:.1f}",
    "wet_bulb_c": "{:.1f}",
    "pv_cf": "{:.4f}",
    "inference_shape": "{:.4f}",
    "hydro_availability": "{:.4f}",
    "wind_availability": "{:.4f}",
    "grid_emission_t_per_mwh": "{:.4f}",
}


def write_csv(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write the profiles to CSV atomically (temp file + ``os.replace``).

    The file starts with ``# `` comment lines describing its provenance,
    followed by a header row and 8760 data rows, ``\\n`` line endings.

    Parameters
    ----------
    df : pandas.DataFrame
        Output of :func:`make_profiles`.
    path : str or os.PathLike
        Destination file.

    Returns
    -------
    pathlib.Path
        The written path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    seed = df.attrs.get("seed", DEFAULT_SEED)
    lines = ["# " + ln.format(seed=seed) for ln in HEADER_LINES]
    lines.append(",".join(COLUMNS))
    ts = pd.DatetimeIndex(df["timestamp"]).strftime("%Y-%m-%dT%H:%M")
    cols = [ts.to_list()] + [[_FORMATS[c].format(v) for v in df[c].to_numpy()] for c in COLUMNS[1:]]
    lines.extend(",".join(row) for row in zip(*cols, strict=True))
    text = "\n".join(lines) + "\n"

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; use normal file permissions
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _summary(df: pd.DataFrame) -> str:
    """Human-readable summary statistics for sanity checks.

    Parameters
    ----------
    df : pandas.DataFrame
        Output of :func:`make_profiles`.

    Returns
    -------
    str
        Multi-line summary.
    """
    ts = pd.DatetimeIndex(df["timestamp"])
    m = ts.month
    g = df.groupby(m)
    daily_max = df.groupby(ts.normalize())["dry_bulb_c"].max()
    mean_max = daily_max.groupby(daily_max.index.month).mean()
    out = ["month  DB_mean(normal)  DBmax_mean(normal)  WB_max  PV_cf  hydro  wind   EF"]
    for i in range(1, 13):
        out.append(
            f"{i:5d}  {g['dry_bulb_c'].mean()[i]:5.1f} ({T_MEAN_NORMAL[i - 1]:4.1f})"
            f"    {mean_max[i]:5.1f} ({T_MAX_NORMAL[i - 1]:4.1f})"
            f"     {g['wet_bulb_c'].max()[i]:5.1f}  {g['pv_cf'].mean()[i]:.3f}"
            f"  {g['hydro_availability'].mean()[i]:.3f}  {g['wind_availability'].mean()[i]:.3f}"
            f"  {g['grid_emission_t_per_mwh'].mean()[i]:.4f}"
        )
    wet = m.isin([6, 7, 8, 9, 10])
    dry = m.isin([12, 1, 2, 3, 4])
    db, wb, pv = df["dry_bulb_c"], df["wet_bulb_c"], df["pv_cf"]
    hy, ef = df["hydro_availability"], df["grid_emission_t_per_mwh"]
    inf = df["inference_shape"]
    out += [
        f"annual DB mean {db.mean():.2f} degC, min {db.min():.1f}, max {db.max():.1f}",
        f"max WB {wb.max():.1f} degC; WB 99.6th pct {wb.quantile(0.996):.1f}",
        f"PV annual CF {pv.mean():.4f} = {pv.sum():.0f} kWh/kWp; max hourly CF {pv.max():.3f}",
        f"inference max {inf.max():.4f} mean {inf.mean():.4f}",
        f"hydro mean wet (Jun-Oct) {hy[wet].mean():.3f}, dry (Dec-Apr) {hy[dry].mean():.3f}",
        f"wind mean {df['wind_availability'].mean():.4f}",
        f"EF annual mean {ef.mean():.5f}; wet {ef[wet].mean():.4f}, dry {ef[dry].mean():.4f}",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (defaults to ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status [-].
    """
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output CSV (default: {DEFAULT_OUT})")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"RNG seed (default: {DEFAULT_SEED})")
    ap.add_argument("--quiet", action="store_true", help="do not print summary statistics")
    args = ap.parse_args(argv)
    df = make_profiles(args.seed)
    path = write_csv(df, args.out)
    if not args.quiet:
        print(f"wrote {path} ({len(df)} rows, seed {args.seed})")
        print(_summary(df))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
