"""The scenario's hourly inputs on its representative days (:class:`TimeData`): the one module of
:mod:`planner.time` that knows the Scenario.

Profiles are read (:mod:`planner.time.profiles`), reduced to representative days
(:mod:`planner.time.days`), and the calendar's TOU periods (:mod:`planner.time.tariff`) and the
cooling coefficient (:mod:`planner.time.cooling`) are carried onto those days as member-day means.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from planner.scenario.schema import Scenario
from planner.time.cooling import technology_kappa
from planner.time.days import RepresentativeDays, reduce_days
from planner.time.profiles import (
    CALENDAR_COLUMNS,
    DAYS_PER_YEAR,
    HOURS_PER_DAY,
    HOURS_PER_YEAR,
    day_months,
    load_profiles_cached,
)
from planner.time.tariff import TOU_PERIODS, calendar_tou_periods

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
    #: (n_days,) bool [-]: the representative stands for grid rationing days only
    #: (``power.grid.rationing``; its days are kept together as a day of their own)
    rationed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @property
    def n_days(self) -> int:
        """Number of representative days [-]."""
        return int(self.weight.size)


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
        columns=[c for c in frame.columns if c not in CALENDAR_COLUMNS],
        column_weights=dict(t.column_weights) or None,
        extreme_days=[(c, k) for c, k in t.extreme_days.items()],
        seed=t.seed,
        own_days=rationed_days(scenario),
    )
    own_pv = [site.pv_profile_column for site in scenario.sites.values() if site.pv_profile_column is not None]
    days, correction = _restore_means(days, frame, own_pv)
    emission_column = scenario.power.grid_emission_column
    days = _replace_column(
        days,
        emission_column,
        _member_mean(frame[emission_column].to_numpy(dtype=float), days.assignment, days.n_days),
    )
    error = days.aggregation_error(frame, load_column="inference_shape")
    tariff = scenario.power.grid.tariff
    day_month = day_months(frame)
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
        name: technology_kappa(c, days.data["dry_bulb_c"], days.data["wet_bulb_c"])
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
        rationed=_rationed(days.assignment, days.n_days, rationed_days(scenario)),
    )


def rationed_days(scenario: Scenario) -> list[int]:
    """The calendar days 0..364 of the scenario's grid rationing period (none without one)."""
    rationing = scenario.power.grid.rationing
    if rationing is None:
        return []
    first, last = rationing.day_range()
    return list(range(first, last + 1))


def _rationed(assignment: np.ndarray, n_days: int, days: list[int]) -> np.ndarray:
    """Per representative day: does it stand for rationing days only (and for at least one)?"""
    out = np.zeros(n_days, dtype=bool)
    if not days:
        return out
    inside = np.isin(np.arange(assignment.size), days)
    for d in range(n_days):
        members = assignment == d
        out[d] = bool(members.any() and inside[members].all())
    return out


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


def _restore_means(
    days: RepresentativeDays, frame: pd.DataFrame, also: list[str] | None = None
) -> tuple[RepresentativeDays, dict[str, float]]:
    """Scale availability and capacity-factor columns (and the columns ``also`` names: a site's own
    PV column) so their weighted mean is the year's.

    Medoid days are real days, so temperatures and loads stay mutually consistent, but the
    energy a PPA or PV delivers over the year would be off by the sampling error. Values are
    capped at 1 after scaling; the factor is reported so that it can be shown.
    """
    if days.method == "full":
        return days, {}
    data = dict(days.data)
    correction: dict[str, float] = {}
    for column, values in days.data.items():
        if not column.endswith(_MEAN_PRESERVED_SUFFIXES) and column not in (also or ()):
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
