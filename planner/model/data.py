"""Numbers prepared for the model: index sets, discounting, vintages, scaled units.

The model is built in scaled units so that matrix coefficients stay within a few orders of
magnitude (DESIGN.md §3, Numerics):

=================  ==========================  ===========================
quantity           model unit                  user unit
=================  ==========================  ===========================
money              MCNY (1e6 CNY)              CNY
power              MW                          MW / kW
energy             MWh                         MWh
certificates       GWh                         MWh
training work      ZFLOP (1e21 FLOP)           FLOP / EFLOP
inference rate     Mtok/s (1e6 tokens/s)       tokens/s
compute installed  PFLOPS                      PFLOPS / EFLOPS
emissions          tCO2                        tCO2
=================  ==========================  ===========================

``results.py`` converts back with the factors defined here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from planner.scenario import Scenario
from planner.scenario.schema import Hub, Region, Site, SitePrices
from planner.time.cooling import effective_kappa, technology_kappa
from planner.time.prepare import TimeData, prepare_time

__all__ = [
    "ModelData",
    "allowed_pairs",
    "buildable_years",
    "crf",
    "MCNY",
    "ZFLOP",
    "ZFLOP_PER_EFLOP",
    "MTOK",
    "MWH_PER_GWH",
]

MCNY = 1e6  #: CNY per model money unit
ZFLOP_PER_EFLOP = 1e-3  #: ZFLOP per EFLOP
ZFLOP = 1e21  #: FLOP per model training unit
MTOK = 1e6  #: tokens per model token unit
MWH_PER_GWH = 1e3  #: MWh per model certificate unit (in MWh their price, ~6e-6 MCNY, is too small a cost)
HOURS = tuple(range(24))


def crf(rate: float, life: int) -> float:
    """Capital recovery factor [1/year]: the annuity per unit of capex over ``life`` years at ``rate``."""
    if rate == 0:
        return 1.0 / life
    return rate * (1 + rate) ** life / ((1 + rate) ** life - 1)


def buildable_years(scenario: Scenario, accelerator: str) -> tuple[int, ...]:
    """Years in which new servers of a type may be bought: inside its window, cap of at least 1."""
    a = scenario.accelerators[accelerator]
    return tuple(
        y
        for y in scenario.years
        if (a.first_year is None or y >= a.first_year)
        and (a.last_year is None or y <= a.last_year)
        and (a.max_new_per_year is None or (a.max_new_per_year.at(y) or 0.0) >= 1)
    )


def allowed_pairs(scenario: Scenario) -> tuple[tuple[str, str], ...]:
    """(server type, cooling) pairs that can hold servers in the horizon (buildable or existing)."""
    existing = {(e.accelerator, e.cooling) for e in scenario.existing.servers if e.count > 0}
    return tuple(
        (a, c)
        for a, acc in scenario.accelerators.items()
        for c in acc.cooling
        if buildable_years(scenario, a) or (a, c) in existing
    )


@dataclass(frozen=True, eq=False)
class ModelData:
    """A scenario and its time data, with the index sets and factors every subsystem uses."""

    scenario: Scenario
    time: TimeData
    years: tuple[int, ...] = field(init=False)
    days: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "years", tuple(self.scenario.years))
        object.__setattr__(self, "days", tuple(range(self.time.n_days)))

    @classmethod
    def from_scenario(cls, scenario: Scenario, time: TimeData | None = None) -> ModelData:
        """Prepare model data (reducing the profiles unless ``time`` is given)."""
        return cls(scenario, time if time is not None else prepare_time(scenario))

    # ------------------------------------------------------------------ sets
    @property
    def hours(self) -> tuple[int, ...]:
        """Hours of a representative day, 0-23."""
        return HOURS

    def hydrology_factor(self, ppa: str, year: int) -> np.ndarray:
        """(n_days,) share of the profile's availability contract ``ppa`` delivers in ``year``: the mean of
        its ``hydrology`` factors over the calendar days each representative day stands for (1 where none) [-].
        """
        months = self.scenario.power.ppa[ppa].hydrology.get(year, {})
        if not months:
            return np.ones(self.time.n_days)
        factor = np.ones(12)
        for month, value in months.items():
            factor[month - 1] = float(value)
        member = np.asarray(self.time.member_days, dtype=float)
        return (member @ factor) / member.sum(axis=1)

    def ppa_availability(self, ppa: str, year: int) -> np.ndarray:
        """(n_days, 24) share of contracted MW contract ``ppa`` makes available in ``year``: the profile's
        availability times its hydrology factor (:meth:`hydrology_factor`) [-].
        """
        return np.asarray(self.time.availability[ppa], dtype=float) * self.hydrology_factor(ppa, year)[:, None]

    @property
    def rationed_days(self) -> tuple[int, ...]:
        """Representative days that stand for grid rationing days only (``power.grid.rationing``)."""
        rationed = self.time.rationed
        return tuple(d for d in self.days if d < len(rationed) and bool(rationed[d]))

    @cached_property
    def weight(self) -> dict[int, float]:
        """Calendar days each representative day stands for [days]."""
        return {d: float(self.time.weight[d]) for d in self.days}

    @cached_property
    def discount(self) -> dict[int, float]:
        """Discount factor of each year to the base year [-]."""
        r = self.scenario.finance.discount_rate
        y0 = self.scenario.base_year
        return {y: (1 + r) ** -(y - y0) for y in self.years}

    def buildable_years(self, accelerator: str) -> tuple[int, ...]:
        """Years in which new servers of a type may be bought (window and cap > 0)."""
        return buildable_years(self.scenario, accelerator)

    @cached_property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        """Allowed (server type, cooling) pairs that can hold servers at some point in the horizon."""
        return allowed_pairs(self.scenario)

    @cached_property
    def accelerators(self) -> tuple[str, ...]:
        """Server types that appear in some allowed pair."""
        return tuple(dict.fromkeys(a for a, _ in self.pairs))

    @cached_property
    def cooling(self) -> tuple[str, ...]:
        """All cooling technologies of the scenario."""
        return tuple(self.scenario.cooling)

    @cached_property
    def ppas(self) -> tuple[str, ...]:
        """PPA contract names."""
        return tuple(self.scenario.power.ppa)

    @cached_property
    def site_specs(self) -> dict[str, Site]:
        """Every site by name (the one implicit site ``main`` of a scenario without ``sites``)."""
        return self.scenario.site_specs()

    @cached_property
    def sites(self) -> tuple[str, ...]:
        """Site names, in the scenario's order."""
        return tuple(self.site_specs)

    @cached_property
    def hubs(self) -> dict[str, Hub]:
        """Other hub nodes of the network by name (``network.hubs``)."""
        return dict(self.scenario.network.hubs)

    @cached_property
    def lease_hubs(self) -> tuple[str, ...]:
        """Hubs the cluster may lease compute from."""
        return tuple(n for n, hub in self.hubs.items() if hub.lease is not None)

    @cached_property
    def sale_hubs(self) -> tuple[str, ...]:
        """Hubs the cluster may sell compute to."""
        return tuple(n for n, hub in self.hubs.items() if hub.sell is not None)

    @cached_property
    def region_specs(self) -> dict[str, Region]:
        """Every demand region by name (the one implicit region ``all`` without ``regions``)."""
        return self.scenario.region_specs()

    @cached_property
    def regions(self) -> tuple[str, ...]:
        """Demand region names, in the scenario's order."""
        return tuple(self.region_specs)

    @property
    def explicit_regions(self) -> bool:
        """Whether the scenario names its demand regions (else one implicit region, ``all``)."""
        return bool(self.scenario.demand.inference.regions)

    @cached_property
    def hours_in_year(self) -> float:
        """Hours of the year the representative days stand for, sum_d W_d * 24 [h]."""
        return sum(self.weight.values()) * len(HOURS)

    def cluster_cap_binds(self, cluster: float | None, per_site: list[float | None]) -> bool:
        """Whether a cluster-wide cap on a sum over sites can bind: it is set and the sites' own
        limits (None: none) allow more in total. A row that cannot bind is not added.
        """
        if cluster is None:
            return False
        return any(v is None for v in per_site) or sum(v for v in per_site if v is not None) > cluster

    @cached_property
    def kappa(self) -> dict[str, dict[str, np.ndarray]]:
        """Cooling power per IT power at each site, by technology, with the room-air residual of
        liquid technologies (:func:`planner.time.cooling.effective_kappa`), (n_days, 24) [kW/kW].

        A site's weather is the profile's with its climate offsets; a site without offsets uses
        the coefficients of the time data as they are.
        """
        out = {}
        for name, site in self.site_specs.items():
            climate = site.climate
            own = self.time.kappa
            columns = climate.dry_bulb_column, climate.wet_bulb_column
            if climate.dry_bulb_offset_k or climate.wet_bulb_offset_k or any(columns):
                dry, wet = self.site_dry_bulb_c(name), self.site_wet_bulb_c(name)
                own = {c: technology_kappa(spec, dry, wet) for c, spec in self.scenario.cooling.items()}
            out[name] = effective_kappa(self.scenario.cooling, own)
        return out

    def site_dry_bulb_c(self, site: str) -> np.ndarray:
        """(n_days, 24) dry-bulb temperature at ``site``: its own profile column, else the profile's,
        plus its offset [°C].
        """
        climate = self.site_specs[site].climate
        return self._column(climate.dry_bulb_column, self.time.dry_bulb_c) + climate.dry_bulb_offset_k

    def site_wet_bulb_c(self, site: str) -> np.ndarray:
        """(n_days, 24) wet-bulb temperature at ``site``: its own profile column, else the profile's,
        plus its offset [°C].
        """
        climate = self.site_specs[site].climate
        return self._column(climate.wet_bulb_column, self.time.wet_bulb_c) + climate.wet_bulb_offset_k

    def _column(self, column: str | None, base: np.ndarray) -> np.ndarray:
        """A profile column on the representative days (n_days, 24), or ``base`` when ``column`` is None."""
        return base if column is None else np.asarray(self.time.days.data[column], dtype=float)

    def pv_cf(self, site: str) -> np.ndarray:
        """(n_days, 24) PV capacity factor at ``site`` before its ``pv_yield``: its own profile column,
        else ``power.pv.profile_column``'s [-].
        """
        return self._column(self.site_specs[site].pv_profile_column, self.time.pv_cf)

    # ------------------------------------------------------------------ vintages
    def alive(self, built: int, life: int, year: int) -> bool:
        """An asset built in ``built`` serves years ``built .. built + life - 1``."""
        return built <= year <= built + life - 1

    def vintages(self, years: tuple[int, ...], life: int, year: int) -> tuple[int, ...]:
        """The build years among ``years`` whose assets are in service in ``year``."""
        return tuple(v for v in years if self.alive(v, life, year))

    def annual_capital_charge(self, capex: float, life: int, fixed_om: float) -> float:
        """Yearly charge of one unit in service: annuity plus fixed O&M [same unit as capex / year]."""
        return capex * (crf(self.scenario.finance.discount_rate, life) + fixed_om)

    def existing_count(self, items: list, year: int, life: int, amount: str = "count", **match: str) -> float:
        """Units (``amount``: the field to add up) of an ``existing`` list still in service in ``year``,
        among the items whose fields equal ``match`` (``site``: the site the item stands at).
        """
        total = 0.0
        for item in items:
            if all(
                (self.scenario.site_of(item) if k == "site" else getattr(item, k)) == v for k, v in match.items()
            ) and self.alive(item.year_built, life, year):
                total += getattr(item, amount)
        return total

    def in_service(
        self,
        new: Any,
        life: int,
        year: int,
        existing: list,
        key: tuple[Any, ...] = (),
        build_years: tuple[int, ...] | None = None,
        amount: str = "count",
        **match: str,
    ) -> Any:
        """A stock in ``year``: existing units still in service plus builds ``new[*key, v]`` still alive."""
        years = self.years if build_years is None else build_years
        built = sum(new[(*key, v)] for v in self.vintages(years, life, year))
        return self.existing_count(existing, year, life, amount, **match) + built

    def reachable_halls(self, site: str, year: int) -> float:
        """The most halls ``site`` can have in service in ``year`` [halls].

        Its existing halls still in service, plus the most it may build in each planning year up to
        ``year`` whose halls still serve (its own ``max_new_halls_per_year`` and the cluster's), within
        its land and the cluster's (``max_halls``). The big-M of every "in use" link at the site: the
        tighter it is, the more of a site's fixed spare units its LP relaxation pays in the early years.
        """
        s = self.scenario
        spec = self.site_specs[site]
        life = s.facility.hall.lifetime_years
        land = min(spec.max_halls, s.facility.max_halls)
        caps = [v for v in (spec.max_new_halls_per_year, s.facility.max_new_halls_per_year) if v is not None]
        if not caps:
            return land
        built = min(caps) * len(self.vintages(self.years, life, year))
        return min(land, self.existing_count(s.existing.halls, year, life, site=site) + built)

    # ------------------------------------------------------------------ hourly data
    def hourly(self, array: np.ndarray) -> dict[tuple[int, int], float]:
        """A (n_days, 24) array as a {(day, hour): value} dict."""
        return {(d, h): float(array[d, h]) for d in self.days for h in HOURS}

    # ------------------------------------------------------------------ each site's tariff
    @cached_property
    def site_prices(self) -> dict[str, SitePrices]:
        """What each site pays for grid power, its own tariff over the cluster's (``Scenario.site_tariff``)."""
        return {site: self.scenario.site_tariff(site) for site in self.sites}

    def flat_price(self, site: str, year: int) -> float:
        """Flat-period grid energy price at ``site`` in ``year`` [CNY/kWh]."""
        price = self.site_prices[site].flat_cny_per_kwh.at(year)
        assert price is not None  # a Series (not a PolicySeries) is never open-start
        return price

    @cached_property
    def grid_block_mw(self) -> float:
        """Real power one grid block carries [MW]."""
        g = self.scenario.power.grid
        return g.block_mva * g.power_factor
