"""The power block of the scenario schema: grid connection and its TOU tariff, PPAs, PV, battery,
backup generation and green certificates (YAML key ``power``).

Each field's docstring states its meaning and canonical unit in brackets, as in
:mod:`planner.scenario.schema`.
"""

from __future__ import annotations

import datetime as _dt
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from planner.scenario.fields import (
    Count,
    Fraction,
    HourRange,
    Int,
    Lifetime,
    Month,
    Name,
    Q,
    Series,
    Strict,
    sorted_months,
)

__all__ = [
    "Battery",
    "CriticalHotDays",
    "CriticalRule",
    "Generators",
    "GreenCertificates",
    "Grid",
    "Power",
    "Ppa",
    "Pv",
    "Rationing",
    "SeasonAdder",
    "Tariff",
    "TouMultipliers",
    "TouSeason",
]


class TouSeason(Strict):
    """The peak and valley hours of one tariff season; other hours are flat."""

    name: str
    """Label of the season."""
    months: list[Month] = Field(min_length=1)
    """Months of the season (1-12)."""
    peak: list[HourRange] = Field(default_factory=list)
    """Peak hours [h, h) as ranges like ``"10-12"``."""
    valley: list[HourRange] = Field(default_factory=list)
    """Valley hours [h, h) as ranges like ``"22-8"`` (wrapping past midnight)."""


class CriticalRule(Strict):
    """Hours that pay the critical-peak price."""

    months: list[Month] = Field(min_length=1)
    """Months the rule applies to."""
    hours: list[HourRange] = Field(min_length=1)
    """Critical hours [h, h)."""


class CriticalHotDays(Strict):
    """Critical-peak hours triggered by a hot spell (Sichuan 川发改价格〔2025〕185号: outside
    July-August the critical price also applies after three consecutive days of 35 °C or more).
    A calendar day pays the critical price in ``hours`` when its month is in ``months`` and it
    and the ``consecutive_days - 1`` days before it each have a highest hourly ``dry_bulb_c``
    of at least ``min_dry_bulb_c``: the day that completes a run of hot days (the third, by
    default) and every later day of the same run.

    Runs are counted on the calendar days of the profile year over all months (a run may start
    in a month outside ``months``), but not across the year's end (31 December does not precede
    1 January). Critical hours override peak, flat and valley, as in ``critical``. Because the
    trigger depends on the weather of each calendar day, a representative day carries the share
    of its member days that were triggered (``planner.time.tariff.calendar_tou_periods``).
    """

    min_dry_bulb_c: Q("°C", ge=-40, le=55) = 35.0
    """Daily maximum dry-bulb temperature at or above which a day counts as hot [°C]."""
    consecutive_days: Annotated[Int, Field(ge=1, le=31)] = 3
    """Hot days in a row needed before the critical price applies; the day completing the run
    and every later day of the run pay it [days]."""
    hours: list[HourRange] = Field(min_length=1)
    """Critical hours [h, h) on a triggered day, as ranges like ``"13-14"``."""
    months: Annotated[list[Month], AfterValidator(sorted_months)] | None = Field(default=None, min_length=1)
    """Months in which the trigger applies (1-12); left out: every month that no ``critical``
    rule covers."""


class TouMultipliers(Strict):
    """Price of each time-of-use period relative to the flat price (of its floating part)."""

    critical: Q("", gt=0, le=5) = 1.92
    """Critical-peak price as a multiple of the flat price (of its floating part) [-]."""
    peak: Q("", gt=0, le=5) = 1.6
    """Peak price as a multiple of the flat price (of its floating part) [-]."""
    flat: Q("", gt=0, le=5) = 1.0
    """Flat-period multiplier [-]; 1 keeps the flat price as given."""
    valley: Q("", gt=0, le=5) = 0.4
    """Valley price as a multiple of the flat price (of its floating part) [-]."""


class SeasonAdder(Strict):
    """An energy-price adder for some months (e.g. dry-season scarcity)."""

    months: list[Month] = Field(min_length=1)
    """Months the adder applies to."""
    cny_per_kwh: Q("CNY/kWh", ge=-1, le=5)
    """Amount added to every hour's price [CNY/kWh]."""


class Tariff(Strict):
    """Two-part time-of-use tariff for grid electricity (Sichuan large-industrial style)."""

    flat_cny_per_kwh: Series("CNY/kWh", gt=0, le=10)
    """Flat-period energy price, all components included [CNY/kWh]."""
    non_floating_cny_per_kwh: Q("CNY/kWh", ge=0, le=10) = 0.0
    """Part of the price that does not float with TOU (government funds) [CNY/kWh]."""
    multipliers: TouMultipliers = TouMultipliers()
    """TOU ratios applied to the floating part of the price."""
    seasons: list[TouSeason] = Field(min_length=1)
    """Seasons with their peak and valley hours; together they cover each month once."""
    critical: list[CriticalRule] = Field(default_factory=list)
    """Critical-peak hours (override peak, flat and valley)."""
    critical_hot_days: CriticalHotDays | None = None
    """Critical price after a run of hot days; left out: no such trigger."""
    season_adders: list[SeasonAdder] = Field(default_factory=list)
    """Energy-price adders by month."""
    fixed_charge_basis: Literal["capacity", "demand"] = "capacity"
    """Basis of the fixed charge: ``capacity`` per kVA of connected transformer capacity, or
    ``demand`` per kW of each month's peak import (one peak per calendar month)."""
    capacity_cny_per_kva_month: Q("CNY/kVA/month", ge=0) = 0.0
    """Capacity charge [CNY/kVA/month], used with ``fixed_charge_basis: capacity``."""
    demand_cny_per_kw_month: Q("CNY/kW/month", ge=0) = 0.0
    """Demand charge [CNY/kW/month], used with ``fixed_charge_basis: demand``."""
    scale: Q("", ge=0) = 1.0
    """Multiplier on the floating part of every hour's energy price and on the season adders, for
    sensitivity sweeps [-]; the non-floating part (government funds) stays."""


def _month_day(value: str) -> str:
    """A calendar day of the (non-leap) profile year as ``MM-DD``."""
    try:
        _dt.date.fromisoformat(f"2026-{value}")
    except (TypeError, ValueError):
        raise ValueError(f"expected a calendar day as MM-DD, e.g. 08-15, got {value!r}") from None
    return value


MonthDay = Annotated[str, AfterValidator(_month_day)]


class Rationing(Strict):
    """Grid rationing on a run of calendar days (a hydrology future, e.g. the 2022 Sichuan drought).

    The days ``start`` .. ``end`` (inclusive, in the profile's calendar) are kept together as one
    representative day of their own, so the model operates them apart from the rest of the year; in each
    year of ``import_cap_mw`` everything the site draws through its grid connection on those days (grid
    energy and wheeled contracts) is at most that many MW, every hour. Years not listed are not rationed.
    """

    start: MonthDay
    """First rationed day, ``MM-DD`` [-]."""
    end: MonthDay
    """Last rationed day, ``MM-DD`` (inclusive, on or after ``start``) [-]."""
    import_cap_mw: dict[Annotated[Int, Field(ge=2000, le=2100)], Q("MW", ge=0)] = Field(default_factory=dict)
    """Most power through the grid connection on the rationed days, by year [MW]; years not listed: no cap."""

    def day_range(self) -> tuple[int, int]:
        """The first and last rationed day as days of the year 0..364 [-]."""
        first = _dt.date.fromisoformat(f"2026-{self.start}").timetuple().tm_yday - 1
        last = _dt.date.fromisoformat(f"2026-{self.end}").timetuple().tm_yday - 1
        return first, last


class Grid(Strict):
    """Grid connection built in substation/transformer blocks."""

    block_mva: Q("MVA", gt=0)
    """Transformer rating of one connection block [MVA]."""
    power_factor: Q("", gt=0, le=1) = 0.95
    """Power factor of the site [-]; a block carries ``block_mva x power_factor`` MW."""
    capex_cny_per_block: Series("CNY", gt=0)
    """Price of one block (substation bay, transformer, lines) [CNY/block]."""
    lifetime_years: Lifetime = 30
    """Service life [years]."""
    fixed_om_fraction: Q("", ge=0, le=1) = 0.02
    """Fixed O&M as a share of capex per year [-] (``0.02`` or ``"2 %"``)."""
    max_blocks: Count
    """Most blocks the utility can connect [blocks]; with ``sites``, a cap on the sum over the sites
    (each has its own ``sites.<name>.grid.max_blocks``)."""
    redundancy: Annotated[Int, Field(ge=0, le=10)] = 1
    """Blocks that may fail with the site still supplied (N-k) [blocks], at each site in use."""
    tariff: Tariff
    rationing: Rationing | None = None
    """Days on which the grid may ration the site (a drought: Sichuan, 15-25 August 2022), and the most it
    then delivers in each year it does (none: no rationing)."""


class Ppa(Strict):
    """A green-power purchase contract (hydro, wind), contracted in MW each year."""

    kind: str = "hydro"
    """Label of the source (hydro, wind, ...)."""
    availability_column: str
    """Profile column with the share of contracted MW available each hour [-]."""
    energy_cny_per_kwh: Series("CNY/kWh", ge=0, le=10)
    """Price of energy taken [CNY/kWh]."""
    capacity_cny_per_kw_year: Series("CNY/kW/year", ge=0) = 0.0
    """Capacity fee per contracted kW and year [CNY/kW/year]."""
    take_or_pay: Q("", ge=0, le=1) = 0.0
    """Share of the energy price paid for energy the contract makes available but the site does
    not take [-] (0: pay only what is taken; 1: pay for all energy made available)."""
    min_take_share: Q("", ge=0, le=1) = 0.0
    """Least share of the energy the contract makes available in a year (day-weighted) that the
    site must take [-]."""
    max_mw: Series("MW", ge=0)
    """Most MW that can be contracted in a year [MW]."""
    green: bool = True
    """Counts towards the green-power share."""
    delivery: Literal["grid", "direct"] = "grid"
    """``grid``: the energy is wheeled over the public grid and enters the site through its
    connection blocks (counts against their capacity and the peak for the demand charge), as
    green-power trading in Sichuan does; ``direct``: a private line from the plant."""
    emission_t_per_mwh: Q("t/MWh", ge=0, le=2) = 0.0
    """Emission factor of the contracted energy [tCO2/MWh]."""
    hydrology: dict[Annotated[Int, Field(ge=2000, le=2100)], dict[Month, Q("", ge=0, le=1)]] = Field(
        default_factory=dict
    )
    """A dry year: by year and month, the share of the profile's availability the contract delivers [-]
    (``{2028: {8: 0.5}}``: half in August 2028; months and years not listed: 1). Each representative day
    takes the mean over the calendar days it stands for."""
    sites: list[Name] | None = Field(default=None, min_length=1)
    """Sites (keys of ``sites``) where the contract's energy can be taken, e.g. a local hydro deal
    of one start area; null or omitted: any site."""


class Pv(Strict):
    """On-site photovoltaics."""

    capex_cny_per_kw: Series("CNY/kW", ge=0)
    """Installed price [CNY/kWp]."""
    max_mw: Q("MW", ge=0)
    """Most PV the cluster (roofs, car parks, nearby land) can hold [MWp]; with ``sites``, a cap on the
    sum over the sites (each has its own ``sites.<name>.pv_max_mw``)."""
    lifetime_years: Lifetime = 25
    """Service life [years]."""
    fixed_om_fraction: Q("", ge=0, le=1) = 0.015
    """Fixed O&M as a share of capex per year [-] (``0.015`` or ``"1.5 %"``)."""
    profile_column: str = "pv_cf"
    """Profile column with the hourly capacity factor [-]."""


class Battery(Strict):
    """Battery energy storage (LFP)."""

    capex_cny_per_kwh: Series("CNY/kWh", ge=0)
    """Price of energy capacity [CNY/kWh]."""
    capex_cny_per_kw: Series("CNY/kW", ge=0)
    """Price of power capacity (converters, grid connection) [CNY/kW]."""
    charge_efficiency: Q("", gt=0, le=1) = 0.95
    """Share of charged energy that is stored [-]."""
    discharge_efficiency: Q("", gt=0, le=1) = 0.95
    """Share of stored energy that is delivered [-]."""
    max_mwh: Q("MWh", ge=0)
    """Most energy capacity that can be installed [MWh], summed over the sites (a battery stands at
    a site and serves its supply balance)."""
    max_mw: Q("MW", ge=0)
    """Most power capacity that can be installed [MW], summed over the sites."""
    lifetime_years: Lifetime = 12
    """Service life [years]."""
    fixed_om_fraction: Q("", ge=0, le=1) = 0.02
    """Fixed O&M as a share of capex per year [-] (``0.02`` or ``"2 %"``)."""


class Generators(Strict):
    """Backup diesel gensets for the critical load."""

    unit_mw: Q("MW", gt=0)
    """Rating of one genset [MW]."""
    capex_cny_per_unit: Series("CNY", gt=0)
    """Installed price of one genset [CNY/unit]."""
    redundancy: Annotated[Int, Field(ge=0, le=10)] = 1
    """Spare gensets (N+k) [units], at each site in use."""
    critical_fraction: Q("", ge=0, le=1) = 1.0
    """Share of facility power that backup must carry [-]."""
    lifetime_years: Lifetime = 20
    """Service life [years]."""
    fixed_om_fraction: Q("", ge=0, le=1) = 0.02
    """Fixed O&M as a share of capex per year [-] (``0.02`` or ``"2 %"``)."""
    max_units: Count = 1000
    """Most gensets the cluster can hold [units], summed over the sites (each site keeps its own
    N+k)."""


class GreenCertificates(Strict):
    """Green electricity certificates (GEC) bought to cover the green-power requirement."""

    price_cny_per_mwh: Series("CNY/MWh", ge=0)
    """Price of one certificate [CNY/MWh]."""
    max_share: Fraction = 1.0
    """Largest share of the green requirement certificates may cover [-]."""
    residual_emission_t_per_mwh: Q("t/MWh", ge=0, le=2) = 0.0
    """Emission factor each certificate removes in market-based accounting (the residual grid
    mix) [tCO2/MWh]."""


class Power(Strict):
    """Electricity supply: grid, contracts, on-site generation, storage and backup."""

    grid: Grid
    ppa: dict[Name, Ppa] = Field(default_factory=dict)
    """Green-power contracts by name."""
    pv: Pv
    battery: Battery
    generators: Generators
    green_certificates: GreenCertificates
    grid_emission_column: str = "grid_emission_t_per_mwh"
    """Profile column with the grid's hourly emission factor [tCO2/MWh]."""
