"""The results Dataset's variables, in order: dims, units, long name, and where each one's values come from.

One :class:`Field` per variable that :func:`planner.results.dataset.to_dataset` writes (the key
figures of :mod:`planner.results.kpis` and the shadow prices follow them). A field with a
``source`` is read by one generic loop; one without is computed by a named step of
``to_dataset``. A model component's ``dims`` name, in order, the Dataset dim of each of its index
positions (``m.it_power[c, y, d, h]`` -> ``("cooling", "year", "day", "hour")``), so that the
Pyomo sets keep their model names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from planner.model.data import MCNY, MTOK, MWH_PER_GWH, ZFLOP_PER_EFLOP

__all__ = ["EFLOP", "FIELDS", "Field"]

EFLOP = 1e18  #: FLOP per EFLOP


@dataclass(frozen=True)
class Field:
    """One variable of the results Dataset."""

    name: str  #: the Dataset variable
    dims: tuple[str, ...]  #: its dims; of a model component, the dim of each index position in order
    units: str
    long_name: str
    source: str = ""
    """Where the values are read: ``"m.<component>"`` (a Var, Expression or Param of the model),
    ``"time.<attribute>"`` (the hourly inputs, ``planner.time.prepare.TimeData``),
    ``"scenario.<mapping>.<field>"`` (a field of each entry of a mapping by the first dim's labels,
    e.g. ``"scenario.accelerators.full_kw"``); empty when a step of ``to_dataset`` computes them."""
    whole: bool = False
    """A Var read in one pass into its grid (the hourly variables), not entry by entry as linear forms."""
    divide: float = 1.0  #: a model component's values are ``value / divide * scale`` in user units
    scale: float = 1.0
    round: Literal["", "numpy", "python"] = ""
    """To whole units: ``"numpy"`` by ``np.round`` (a tiny negative reads -0.0), ``"python"`` as
    Python's ``round`` of each value (the same, but 0.0)."""
    fill: float | None = None  #: value where the component has no entry (None: it has every one)
    dtype: npt.DTypeLike | None = None  #: dtype of the values, if not the one numpy infers


A, P, D, Y, S = ("accelerator",), ("ppa",), ("day",), ("year",), ("site",)
PY, SY = ("ppa", "year"), ("site", "year")
SACY, SCY = ("site", "accelerator", "cooling", "year"), ("site", "cooling", "year")
DH, YDH = ("day", "hour"), ("year", "day", "hour")
PYDH, SYDH = ("ppa", *YDH), ("site", *YDH)
SCYDH, SPYDH, SACYDH = ("site", "cooling", *YDH), ("site", "ppa", *YDH), ("site", "accelerator", "cooling", *YDH)


def _policy(name: str, param: str, units: str) -> Field:
    """A policy limit by year, NaN in the years it is not set."""
    return Field(name, Y, units, f"policy limit {name} (NaN: not set)", f"m.{param}", fill=np.nan)


FIELDS: tuple[Field, ...] = (
    # ------------------------------------------------------------------ builds and stocks (by site)
    Field("servers", SACY, "servers", "servers in service", "m.servers", round="numpy", fill=0.0),
    Field("servers_new", SACY, "servers", "new servers bought", "m.servers_new", whole=True, round="numpy"),
    Field("accelerators_installed", ("site", "accelerator", "year"), "accelerators", "accelerator chips installed"),
    Field("racks", SCY, "racks", "racks in service", "m.racks", round="numpy"),
    Field("racks_new", SCY, "racks", "new racks", "m.racks_new", round="python"),
    Field("halls", SY, "halls", "data halls in service", "m.halls", round="numpy"),
    Field("halls_new", SY, "halls", "new data halls", "m.halls_new", round="numpy"),
    Field("grid_blocks", SY, "blocks", "grid connection blocks in service", "m.grid_blocks", round="numpy"),
    Field("grid_blocks_new", SY, "blocks", "new grid blocks", "m.grid_blocks_new", round="numpy"),
    Field("grid_mw", SY, "MW", "grid connection capacity (all blocks, before N-k)"),
    Field("cooling_units", SCY, "units", "cooling plant units in service", "m.cooling_units", round="python"),
    Field("cooling_units_new", SCY, "units", "new cooling plant units", "m.cooling_units_new", round="python"),
    Field("generator_units", SY, "units", "backup gensets in service", "m.generators", round="numpy"),
    Field("generators_new", SY, "units", "new gensets", "m.generators_new", round="numpy"),
    Field("pv_mw", SY, "MW", "PV in service (peak)", "m.pv_mw"),
    Field("battery_mwh", SY, "MWh", "battery energy capacity", "m.battery_mwh"),
    Field("battery_mw", SY, "MW", "battery power capacity", "m.battery_mw"),
    Field("ppa_mw", PY, "MW", "contracted PPA capacity (by the cluster)", "m.ppa_contract"),
    Field("certificates_mwh", Y, "MWh", "green certificates bought", "m.certificates", scale=MWH_PER_GWH),
    # ------------------------------------------------------------------ hourly operation (by site)
    Field("it_power_mw", SCYDH, "MW", "IT power by cooling technology", "m.it_power", whole=True),
    Field("cooling_power_mw", SCYDH, "MW", "cooling power by technology"),
    Field("facility_power_mw", SYDH, "MW", "facility power", "m.facility_power", whole=True),
    Field("grid_import_mw", SYDH, "MW", "grid import", "m.grid_import", whole=True),
    Field("pv_used_mw", SYDH, "MW", "PV output used", "m.pv_used", whole=True),
    Field("battery_charge_mw", SYDH, "MW", "battery charging", "m.battery_charge", whole=True),
    Field("battery_discharge_mw", SYDH, "MW", "battery discharging", "m.battery_discharge", whole=True),
    Field(
        "battery_soc_mwh", SYDH, "MWh", "battery state of charge at the end of the hour", "m.battery_soc", whole=True
    ),
    Field("ppa_mw_used", SPYDH, "MW", "PPA power taken at each site", "m.ppa_energy", whole=True),
    Field(
        "ppa_mw_not_taken",
        PYDH,
        "MW",
        "PPA power made available but not taken at any site (paid at take_or_pay of its price)",
    ),
    Field("training_servers", SACYDH, "servers", "servers busy training", "m.servers_training", whole=True),
    Field("inference_servers", SACYDH, "servers", "servers serving inference", "m.servers_inference", whole=True),
    Field(
        "inference_unserved",
        YDH,
        "tokens/s",
        "inference demand not served",
        "m.inference_unserved",
        whole=True,
        scale=MTOK,
    ),
    Field(
        "training_unserved_flop",
        Y,
        "FLOP",
        "training work not done",
        "m.training_unserved",
        divide=ZFLOP_PER_EFLOP,
        scale=EFLOP,
    ),
    Field(
        "reserve_unserved_tokens_per_s",
        Y,
        "tokens/s",
        "inference reserve capacity missing",
        "m.reserve_unserved",
        scale=MTOK,
    ),
    # ------------------------------------------------------------------ regions and the network (hubs)
    Field(
        "inference_routed_tokens_per_s",
        ("site", "region", *YDH),
        "tokens/s",
        "inference served at each site for each demand region",
    ),
    Field(
        "inference_leased_tokens_per_s",
        ("hub", "region", *YDH),
        "tokens/s",
        "inference served on compute leased from each hub for each demand region",
    ),
    Field(
        "inference_unserved_by_region",
        ("region", *YDH),
        "tokens/s",
        "inference demand of each region not served (adds up to inference_unserved)",
    ),
    Field("lease_pflops", ("hub", "year"), "PFLOPS", "compute leased from each hub for the year (dense BF16 peak)"),
    Field("lease_training_pflops", ("hub", *YDH), "PFLOPS", "leased compute busy training (dense BF16 peak)"),
    Field(
        "lease_inference_pflops",
        ("hub", "region", *YDH),
        "PFLOPS",
        "leased compute serving each region's inference (dense BF16 peak)",
    ),
    Field("sold_pflops", ("hub", "year"), "PFLOPS", "compute sold to each hub for the year (dense BF16 peak)"),
    Field(
        "servers_sold",
        SACY,
        "servers",
        "servers set aside for sale to the hubs for the year (at full load every hour, drawing power here)",
    ),
    # ------------------------------------------------------------------ server types (inputs)
    Field(
        "accelerator_domestic",
        A,
        "1",
        "1 when the server type's chips are made in China",
        "scenario.accelerators.domestic",
        dtype=np.int8,
    ),
    Field("pflops_per_server", A, "PFLOPS", "dense BF16 peak of one server", "scenario.accelerators.pflops_per_server"),
    Field(
        "tokens_per_s_per_server",
        A,
        "tokens/s",
        "inference throughput of one server on the reference model",
        "scenario.accelerators.tokens_per_s",
    ),
    Field("server_full_kw", A, "kW", "server power at full load", "scenario.accelerators.full_kw"),
    Field("server_idle_kw", A, "kW", "server power when idle", "scenario.accelerators.idle_kw"),
    Field(
        "server_availability",
        A,
        "1",
        "share of installed servers usable at any hour",
        "scenario.accelerators.availability",
    ),
    # ------------------------------------------------------------------ inputs the plan saw
    Field("day_weight", D, "days", "calendar days each representative day stands for", "time.weight"),
    Field("day_of_year", D, "1", "calendar day (0 = 1 Jan) of each representative day", "time.days.day_of_year"),
    Field("month", D, "1", "month of each representative day", "time.month"),
    Field("extreme_day", D, "1", "extreme kept as its own day (column:max/min), empty for typical days"),
    Field("ambient_temp_c", DH, "degC", "ambient dry-bulb temperature (of the profile)", "time.dry_bulb_c"),
    Field("wetbulb_temp_c", DH, "degC", "ambient wet-bulb temperature (of the profile)", "time.wet_bulb_c"),
    Field("cooling_coefficient", ("site", "cooling", *DH), "1", "cooling power per IT power (kappa) at each site"),
    # ------------------------------------------------------------------ sites (inputs)
    Field("site_max_halls", S, "halls", "most halls the site can hold"),
    Field("site_max_grid_blocks", S, "blocks", "most grid blocks the site's connection can hold"),
    Field("site_pv_max_mw", S, "MW", "most PV the site can hold (peak)"),
    Field("site_pv_yield", S, "1", "multiplier on the site's PV capacity factor"),
    Field(
        "site_pv_capacity_factor",
        ("site", *DH),
        "1",
        "PV output per MWp at the site before its yield (its own profile column, else the profile's)",
    ),
    Field(
        "site_dry_bulb_c",
        ("site", *DH),
        "degC",
        "dry-bulb temperature at the site (its own profile column, else the profile's, plus its offset)",
    ),
    Field(
        "site_wet_bulb_c",
        ("site", *DH),
        "degC",
        "wet-bulb temperature at the site (its own profile column, else the profile's, plus its offset)",
    ),
    Field("site_dry_bulb_offset_k", S, "K", "site's dry-bulb temperature above the profile's (ambient_temp_c)"),
    Field("site_wet_bulb_offset_k", S, "K", "site's wet-bulb temperature above the profile's (wetbulb_temp_c)"),
    # ------------------------------------------------------------------ regions and hubs (inputs)
    Field("region_share", ("region",), "1", "share of every hour's inference demand from the region"),
    Field("region_site", ("region", "site"), "1", "1 when the site is in the region's latency class", dtype=np.int8),
    Field("region_hub", ("region", "hub"), "1", "1 when the hub is in the region's latency class", dtype=np.int8),
    Field(
        "hub_lease_price_cny_per_pflops_hour",
        ("hub", "year"),
        "CNY/PFLOPS/h",
        "price of compute leased from the hub (NaN: the hub leases none)",
    ),
    Field("hub_lease_max_pflops", ("hub", "year"), "PFLOPS", "most compute the hub leases (0: none)"),
    Field(
        "hub_lease_workload",
        ("hub", "workload"),
        "1",
        "1 when compute leased from the hub may take the workload",
        dtype=np.int8,
    ),
    Field("hub_lease_mfu", ("hub",), "1", "model-FLOPs utilisation of the leased server type (NaN: no lease)"),
    Field(
        "hub_lease_tokens_per_s_per_pflops",
        ("hub",),
        "tokens/s/PFLOPS",
        "inference throughput per PFLOPS of the leased server type (NaN: no lease)",
    ),
    Field(
        "hub_sale_price_cny_per_pflops_hour",
        ("hub", "year"),
        "CNY/PFLOPS/h",
        "revenue of compute sold to the hub (NaN: the hub buys none)",
    ),
    Field("hub_sale_max_pflops", ("hub", "year"), "PFLOPS", "most compute the hub buys (0: none)"),
    Field(
        "grid_price_cny_per_mwh",
        SYDH,
        "CNY/MWh",
        "grid energy price at the site (TOU, or its own settlement)",
    ),
    Field(
        "tou_period",
        DH,
        "1",
        "time-of-use period of most calendar days this hour stands for (all: tou_period_share)",
        "time.tou_period",
        dtype=str,
    ),
    Field("pv_capacity_factor", DH, "1", "PV output per MWp", "time.pv_cf"),
    Field("ppa_availability", ("ppa", *DH), "1", "share of contracted PPA MW available (the profile's)"),
    Field(
        "ppa_hydrology_factor",
        ("ppa", "year", "day"),
        "1",
        "share of the profile's availability the contract delivers that year (power.ppa.<k>.hydrology; 1 normally)",
    ),
    Field("grid_emission_t_per_mwh", DH, "t/MWh", "grid emission factor", "time.grid_emission_t_per_mwh"),
    Field("inference_demand_tokens_per_s", YDH, "tokens/s", "inference demand"),
    Field(
        "inference_served_tokens_per_s", YDH, "tokens/s", "inference served (demand less unserved; never above demand)"
    ),
    Field(
        "member_days",
        ("day", "calendar_month"),
        "days",
        "calendar days of each month a representative day stands for",
        "time.member_days",
    ),
    Field(
        "tou_period_share",
        (*DH, "tou_period_name"),
        "1",
        "share of the calendar days a representative hour stands for that are in each TOU period",
        "time.tou_period_share",
    ),
    Field(
        "ppa_take_or_pay",
        P,
        "1",
        "share of the energy price paid for PPA energy not taken",
        "scenario.power.ppa.take_or_pay",
    ),
    Field(
        "ppa_green", P, "1", "1 when the contract's energy counts as green", "scenario.power.ppa.green", dtype=np.int8
    ),
    Field(
        "training_demand_flop",
        Y,
        "FLOP",
        "training work required",
        "m.training_demand",
        divide=ZFLOP_PER_EFLOP,
        scale=EFLOP,
    ),
    _policy("pue_max", "pue_max", "1"),
    _policy("green_share_min", "green_share_min", "1"),
    _policy("domestic_compute_share_min", "domestic_share_min", "1"),
    _policy("installed_eflops_min", "eflops_min", "EFLOPS"),
    _policy("carbon_cap_t", "carbon_cap", "t"),
    # ------------------------------------------------------------------ costs
    Field(
        "cost",
        ("component", "year"),
        "CNY/year",
        "annual cost by component (undiscounted)",
        "m.annual_cost",
        scale=MCNY,
    ),
    Field(
        "capital_spent_cny",
        ("asset", "year"),
        "CNY",
        "capital spent: units bought in the year x their unit capex that year, by asset class "
        "(builds inside the horizon only; the existing fleet is sunk)",
    ),
    Field(
        "fixed_om_new_cny",
        ("asset", "year"),
        "CNY",
        "fixed O&M paid in the year for the units bought inside the horizon and in service "
        "(fixed_om_fraction x capex: the O&M share of the annual capital charge in cost)",
    ),
    Field(
        "cash_flow_cny",
        Y,
        "CNY",
        "cash out in the year, financing-free: capital spent + fixed O&M of new units in service "
        "+ every cost component but the *_capital annuities (energy, charges, PPA, certificates, carbon, "
        "shortfall penalties, fixed O&M of the existing fleet)",
    ),
    Field("discount_factor", Y, "1", "discount factor to the base year"),
    Field("npv_cny", (), "CNY", "net present value of all costs (the objective)"),
)
