"""Size of the planning model, estimated from the scenario before anything is built.

Almost all of the model is hourly: every (year, representative day, hour) carries the same block
of columns and rows (the activity of each allowed (server type, cooling) pair, IT power and
cooling plant per cooling technology, each PPA's energy, and the site's supply, battery and
balance rows). The estimate counts that block per hour and adds the yearly part (stocks, builds,
limits), so it needs only the scenario: years, the number of representative days, the allowed
pairs, the cooling technologies and the PPA contracts. It is within a few per cent of the
compiled model (tested on the tiny scenario and the default).

A scenario whose model would exceed :data:`MAX_COLUMNS` columns or :data:`MAX_ROWS` rows is
refused before the profiles are reduced and the model is built (``plan validate`` and
``plan solve`` exit with code 2). At that size Pyomo needs several GB of memory and many
minutes to build the model, and HiGHS would not solve the MIP in any useful time: the default
scenario has about 57,000 columns; with ``representative_days: full`` it has 1.7 million.
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.model.data import allowed_pairs
from planner.scenario import Problem, Scenario, ScenarioError

__all__ = ["MAX_COLUMNS", "MAX_ROWS", "ModelSize", "check_size", "estimate_size", "representative_day_count"]

MAX_COLUMNS = 5_000_000
"""Most columns (variables) of a model the planner will build [-]."""
MAX_ROWS = 5_000_000
"""Most rows (constraints) of a model the planner will build [-]."""

HOURS_PER_DAY = 24
DAYS_PER_YEAR = 365
MONTHS = 12

# Hourly block, per (year, day, hour): columns and rows that do not depend on the sets.
# Columns: unserved inference, training rate, facility power, grid import, PV used, battery
# charge, discharge and state of charge. Rows: inference balance, training rate, hall power,
# facility power, grid capacity, PV output, battery balance and its three limits, supply
# balance, backup.
_HOURLY_COLUMNS = 8
_HOURLY_ROWS = 12
# Yearly part, per year: builds and stocks of halls, grid blocks, PV, battery, gensets, the site
# binary, unserved training and reserve, certificates ... and their defining rows and limits.
_YEARLY_COLUMNS = 22
_YEARLY_ROWS = 17


def representative_day_count(scenario: Scenario) -> int:
    """Days the model holds per year: ``representative_days``, 12 (+ extremes) for monthly, 365 for full."""
    days = scenario.time.representative_days
    if days == "full":
        return DAYS_PER_YEAR
    if days == "monthly":
        return MONTHS + len(scenario.time.extreme_days)
    return int(days)


@dataclass(frozen=True)
class ModelSize:
    """An estimate of the model's size, with the counts it was worked out from."""

    years: int
    days: int  #: representative days per year
    pairs: int  #: allowed (server type, cooling) pairs
    cooling: int  #: cooling technologies
    ppas: int  #: PPA contracts
    columns_per_hour: int  #: columns of one (year, day, hour)
    rows_per_hour: int  #: rows of one (year, day, hour)
    columns: int  #: estimated columns (variables) of the model
    rows: int  #: estimated rows (constraints) of the model

    @property
    def hours(self) -> int:
        """(year, day, hour) combinations of the model [-]."""
        return self.years * self.days * HOURS_PER_DAY

    @property
    def too_large(self) -> bool:
        """More columns than :data:`MAX_COLUMNS` or more rows than :data:`MAX_ROWS`."""
        return self.columns > MAX_COLUMNS or self.rows > MAX_ROWS

    def describe(self) -> str:
        """``about 50,755 rows × 56,545 columns (5 years × 12 days × 24 h × 39 columns per hour)``."""
        return (
            f"about {self.rows:,} rows × {self.columns:,} columns"
            f" ({self.years} years × {self.days} days × 24 h × {self.columns_per_hour} columns per hour)"
        )


def _months_per_day(scenario: Scenario, days: int) -> int:
    """Calendar months a representative day stands for days of (one monthly-peak row per month).

    One per day with every day or one day per month; clustered days mix months: measured on the
    Chengdu profile 4.7 at 3 days, 2.5 at 12 and 24, 2.0 at 48 (rounded up here); one day, 12.
    """
    if scenario.time.representative_days in ("full", "monthly"):
        return 1
    if days <= 2:
        return MONTHS
    return 5 if days < 6 else 3 if days < 40 else 2


def estimate_size(scenario: Scenario) -> ModelSize:
    """Estimate the rows and columns of the model of a validated scenario, without building it."""
    s = scenario
    years = len(s.years)
    days = representative_day_count(s)
    pairs = len(allowed_pairs(s))
    cooling = len(s.cooling)
    ppas = len(s.power.ppa)
    capped = len({a for a, acc in s.accelerators.items() if acc.max_new_per_year is not None})
    policies = sum(getattr(s.policy, f) is not None for f in type(s.policy).model_fields if f != "emissions_basis")
    # Nearly every column and row is per site (a few, the demand balances, are the cluster's:
    # counted per site too, an overestimate of a few per cent with several sites).
    sites = len(s.site_specs())
    # z_tr and z_inf per pair; IT power per cooling technology; energy taken per PPA.
    columns_per_hour = sites * (_HOURLY_COLUMNS + 2 * pairs + cooling + ppas)
    # activity per pair; IT power and plant capacity per technology; availability per PPA; the
    # training flexibility row when training may not move freely; the peak row of a demand charge.
    rows_per_hour = sites * (
        _HOURLY_ROWS
        + pairs
        + 2 * cooling
        + ppas
        + (s.demand.training.flexibility < 1)
        + (s.power.grid.tariff.fixed_charge_basis == "demand") * _months_per_day(s, days)
    )
    daily = years * days * (s.demand.training.flexibility < 1)  # a day's mean training rate
    hours = years * days * HOURS_PER_DAY
    columns = hours * columns_per_hour + daily + sites * years * (_YEARLY_COLUMNS + 2 * pairs + 5 * cooling + ppas)
    rows = (
        hours * rows_per_hour + daily + sites * years * (_YEARLY_ROWS + pairs + capped + 5 * cooling + ppas + policies)
    )
    return ModelSize(years, days, pairs, cooling, ppas, columns_per_hour, rows_per_hour, columns, rows)


def check_size(scenario: Scenario, source: str | None = None) -> ModelSize:
    """The size estimate of ``scenario``; raise :class:`ScenarioError` if the model would be too large.

    Raises
    ------
    ScenarioError
        Naming ``time.representative_days`` (and ``years``), with the estimate and the limit.
    """
    size = estimate_size(scenario)
    if not size.too_large:
        return size
    over = (
        f"{size.columns:,} columns (limit {MAX_COLUMNS:,})"
        if size.columns > MAX_COLUMNS
        else f"{size.rows:,} rows (limit {MAX_ROWS:,})"
    )
    hint = "use fewer representative days"
    if scenario.time.representative_days == "full":
        hint = "use representative days (a number such as 12, or 'monthly') instead of 'full'"
    message = (
        f"the model would be too large to build and solve: about {over}, from {size.years} years × "
        f"{size.days} days × 24 h × {size.columns_per_hour} columns per hour; {hint}, fewer years, "
        "or fewer server/cooling pairs (accelerators.<name>.cooling)"
    )
    raise ScenarioError([Problem("time.representative_days", message)], source)
