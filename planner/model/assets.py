"""Assets: what every subsystem builds, in one pattern: buy, price, keep in service, pay for.

An asset (servers, racks, halls, cooling plant units, grid blocks, PV, gensets) is bought each
year as ``<name>_new`` (whole units or a continuous amount) at a capex per unit, usually a mutable
parameter that sweeps move. The units in service in a year, the stock, are the existing fleet
still in service plus every build inside the horizon not yet retired. Each year of service inside
the horizon a build costs its annualised capital charge ``(CRF + fixed O&M share) * capex``; the
existing fleet is sunk and pays fixed O&M only. :func:`add_asset` adds all of that for one asset;
the subsystem adds what the asset is for (its limits and hourly rows). The battery, whose energy
and power are bought separately and charged in one term, uses :class:`Fleet` and :func:`add_stock`
directly (``power.py``).

What each capital cost term is made of is kept in ``m.capital_builds`` (cost term name ->
:class:`Builds`, one per kind of unit bought): the results read from it the capital spent in the
year of each purchase and the fixed O&M share of the charge (the cash view), which no model row
needs.

Stocks are variables with one defining row each. Written as an expression, each of the
thousands of hourly rows that mention a stock would repeat all its vintage terms; as a variable
with one defining row per index, every hourly row holds a single coefficient for it. Same
optimum, a much sparser matrix (fewer nonzeros for the LP to carry).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pyomo.environ as pyo

from planner.model.data import ModelData

__all__ = ["Asset", "Builds", "Fleet", "add_asset", "add_stock", "capital_charge"]


@dataclass(frozen=True)
class Fleet:
    """The units of one asset under one key (e.g. the racks of one cooling technology at one site).

    Every asset stands at a site: its keys are ``(site, *rest)``, and an existing entry belongs
    to the key when its site and the fields of ``match`` agree.
    """

    life: int
    """Years a unit serves, counting the year it is built."""
    fixed_om: float
    """Fixed O&M per year, as a share of capex [-]."""
    existing: list[Any]
    """The scenario's ``existing`` entries of the asset."""
    match: Mapping[str, str] = field(default_factory=dict)
    """Fields an existing entry must have to belong to the key, e.g. ``{"cooling": c}``."""
    amount: str = "count"
    """Field of an existing entry that holds its size (``"mw"`` for PV)."""
    build_years: tuple[int, ...] | None = None
    """Years new units may be bought (default: every planning year)."""
    price_key: tuple[Any, ...] | None = None
    """Index of the capex besides the year, if not the key without its site (servers: the type,
    not the cooling). Prices are the same at every site."""

    def in_service(self, data: ModelData, new: Any, key: tuple[Any, ...], year: int) -> Any:
        """Existing units still in service in ``year`` plus the builds ``new[*key, v]`` still alive."""
        return data.in_service(
            new, self.life, year, self.existing, key=key, build_years=self.build_years, amount=self.amount, **self.match
        )

    def priced_as(self, key: tuple[Any, ...]) -> tuple[Any, ...]:
        """Index of the capex of the units under ``key`` (site first), besides the year."""
        return key[1:] if self.price_key is None else self.price_key

    def vintages(self, data: ModelData, year: int) -> tuple[int, ...]:
        """The build years whose units are in service in ``year``."""
        return data.vintages(data.years if self.build_years is None else self.build_years, self.life, year)

    def existing_om(self, data: ModelData, year: int, price: Any) -> Any:
        """Fixed O&M of the existing units in service in ``year``, each valued at ``price``."""
        return data.existing_count(self.existing, year, self.life, self.amount, **self.match) * self.fixed_om * price


@dataclass(frozen=True)
class Asset:
    """An asset added by :func:`add_asset`."""

    new: pyo.Var  #: units bought, by key and year
    stock: pyo.Var  #: units in service, by key and year
    fleets: dict[tuple[Any, ...], Fleet]  #: the fleet of each key (``(site,)`` for an asset by site and year only)

    def existing_om(self, data: ModelData, year: int, price: Callable[..., Any]) -> Any:
        """Fixed O&M of the existing units in ``year``, summed over the keys; ``price(*price key)`` per
        unit (:meth:`Fleet.priced_as`: the key without its site, or the fleet's ``price_key``).
        """
        return sum(fleet.existing_om(data, year, price(*fleet.priced_as(key))) for key, fleet in self.fleets.items())


@dataclass(frozen=True)
class Builds:
    """One kind of unit bought inside the horizon, as a capital cost term charges it (``m.capital_builds``)."""

    new: Any  #: units bought, by key and build year (a Var)
    capex: Any  #: price of a unit by the fleet's ``price_key`` and build year [MCNY/unit] (a Param or a mapping)
    fleets: Mapping[tuple[Any, ...], Fleet]  #: the fleet of each key (``(site,)`` for units by site and year only)

    def entries(self, data: ModelData) -> Iterator[tuple[Fleet, int, Any, Any]]:
        """``(fleet, build year, units bought, price of a unit)`` of every build the horizon allows."""
        for key, fleet in self.fleets.items():
            for v in data.years if fleet.build_years is None else fleet.build_years:
                yield fleet, v, self.new[(*key, v)], self.capex[(*fleet.priced_as(key), v)]


def capital_charge(data: ModelData, new: Any, capex: Any, fleets: Mapping[tuple[Any, ...], Fleet], year: int) -> Any:
    """``sum_k sum_(v alive in year) (CRF(r, life_k) + fom_k) * capex[k,v] * new[k,v]`` [capex unit/year].

    ``capex`` is indexed by a fleet's ``price_key`` (default its key) and the build year. Builds
    are charged in their years of service inside the horizon, and nothing after it.
    """
    return sum(
        data.annual_capital_charge(capex[(*fleet.priced_as(key), v)], fleet.life, fleet.fixed_om) * new[(*key, v)]
        for key, fleet in fleets.items()
        for v in fleet.vintages(data, year)
    )


def add_asset(
    m: pyo.ConcreteModel,
    data: ModelData,
    name: str,
    over: pyo.Set | None,
    fleet: Fleet | Callable[..., Fleet],
    *,
    new_doc: str,
    capex: Any,
    symbol: str,
    meaning: str,
    unit: str,
    cost: str,
    cost_doc: str,
    new_name: str | None = None,
    builds: pyo.Set | None = None,
    within: Any = pyo.NonNegativeIntegers,
    bounds: Any = None,
    capex_param: str | None = None,
    capex_doc: str | None = None,
    adds_capacity: bool = False,
) -> Asset:
    """Add an asset at every site: its builds, capex, stock with its defining row, and capital-charge
    cost term. Builds and stocks are indexed ``[site, *key, year]`` (the year last, the site first);
    prices are the same at every site (indexed ``[*key, year]``).

    Declares, in this order, ``m.<new_name>`` (builds), ``m.<capex_param>`` (if given) and the stock
    ``m.<name>`` with ``m.<name>_def`` (:func:`add_stock`), and registers the cost term
    ``m.cost_terms[cost]`` (:func:`capital_charge`, documented by ``cost_doc``) and what it
    charges, ``m.capital_builds[cost]`` (:class:`Builds`).

    Parameters
    ----------
    m : ConcreteModel
        The model.
    data : ModelData
        The model data.
    name : str
        Component name of the stock, e.g. ``"racks"``.
    over : Set or None
        Keys of the asset besides the site and the year (``m.C`` for racks); None for an asset by
        site and year only.
    fleet : Fleet or callable
        ``fleet(*key) -> Fleet`` for each key besides the site; a Fleet for an asset by site and
        year only. Each site's fleet also matches the existing entries by their site.
    new_doc : str
        Doc of the builds, e.g. ``"r[c,y]: new racks [racks]"``.
    capex : Param or dict
        Price of a unit by key and build year [MCNY/unit] (see :func:`capital_charge`): a parameter
        declared before, or with ``capex_param`` the values of the one declared here.
    symbol, meaning, unit : str
        For the stock's docs: e.g. ``"R[c,y]"``, ``"racks in service"``, ``"racks"``.
    cost, cost_doc : str
        Name of the capital-charge cost term [MCNY/year] and its formula.
    new_name : str, optional
        Component name of the builds (default ``<name>_new``).
    builds : Set, optional
        Index of the builds besides the site, if not the keys x years (servers: the years each type
        may be bought).
    within, bounds
        Domain and bounds of the builds (default: whole units, no upper bound); ``bounds`` as Pyomo
        takes it: a pair, or ``bounds(m, site, *key, year) -> pair``.
    capex_param, capex_doc : str, optional
        Name and doc of the mutable capex parameter to declare.
    adds_capacity : bool
        A unit only adds capacity: apart from caps on the stock itself (land, blocks a site may
        hold, gensets the permit allows), every row the stock enters holds at least as easily with
        one unit more (halls, cooling plant units, grid blocks, gensets; not servers or racks,
        which take floor space and power). Registered in ``m.capacity_builds`` (the builds'
        component names): the rounding dive fixes such builds together (:mod:`planner.solver.dive`).
    """
    price_index = (m.Y,) if over is None else (over, m.Y)
    index = (m.S, *price_index)
    rests = [()] if over is None else [k if isinstance(k, tuple) else (k,) for k in over]
    fleets = {}
    for site in m.S:
        for rest in rests:
            of_key = fleet if isinstance(fleet, Fleet) else fleet(*rest)
            fleets[(site, *rest)] = replace(of_key, match={"site": site, **of_key.match})

    new = pyo.Var(*((m.S, builds) if builds is not None else index), within=within, bounds=bounds, doc=new_doc)
    m.add_component(new_name or f"{name}_new", new)
    if capex_param is not None:
        capex = pyo.Param(*price_index, mutable=True, initialize=capex, doc=capex_doc)
        m.add_component(capex_param, capex)

    def in_service(m: pyo.ConcreteModel, *index: Any) -> Any:
        *key, year = index
        return fleets[tuple(key)].in_service(data, new, tuple(key), year)

    stock = add_stock(m, name, index, in_service, symbol, meaning, unit)

    def capital(m: pyo.ConcreteModel, y: int) -> Any:
        return capital_charge(data, new, capex, fleets, y)

    capital.__doc__ = cost_doc
    m.cost_terms[cost] = capital
    m.capital_builds[cost] = (Builds(new, capex, fleets),)
    if adds_capacity:
        m.capacity_builds.add(new.local_name)
    return Asset(new, stock, fleets)


def add_stock(
    m: pyo.ConcreteModel,
    name: str,
    index: tuple[Any, ...],
    rule: Callable[..., Any],
    symbol: str,
    meaning: str,
    unit: str,
) -> pyo.Var:
    """Add stock variable ``m.<name>`` and its defining row ``m.<name>_def``.

    Parameters
    ----------
    m : ConcreteModel
        The model.
    name : str
        Component name of the stock variable.
    index : tuple
        Index sets of the stock.
    rule : callable
        ``rule(m, *index) -> expression``: existing units in service plus the builds still alive.
    symbol, meaning, unit : str
        For the docs: e.g. ``"N[a,c,y]"``, ``"servers in service"``, ``"servers"``.
    """
    var = pyo.Var(*index, within=pyo.NonNegativeReals, doc=f"{symbol}: {meaning} [{unit}]")
    m.add_component(name, var)

    def define(m: pyo.ConcreteModel, *i: Any) -> Any:
        key = i[0] if len(i) == 1 else i
        return var[key] == rule(m, *i)

    m.add_component(
        f"{name}_def",
        pyo.Constraint(
            *index,
            rule=define,
            doc=f"{symbol} = existing in service + sum_(v alive) new[v]   [{unit}]",
        ),
    )
    return var
