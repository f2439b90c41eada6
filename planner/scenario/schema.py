"""The scenario schema: every YAML key of DESIGN.md §2 as a frozen pydantic model (the power block
in :mod:`planner.scenario.power`).

Each field's docstring states its meaning and canonical unit in brackets. Numbers in YAML are
read in that unit; strings with a unit (``"700 W"``) are converted. Unknown keys are errors.
Cross-field rules (names that must exist, years inside the horizon, ...) live in
:mod:`planner.scenario.checks`; this module only describes shapes and single-field ranges.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    PlainValidator,
    PrivateAttr,
)

from planner.scenario.errors import shown
from planner.scenario.fields import (
    Count,
    Fraction,
    Int,
    Lifetime,
    Name,
    PolicySeries,
    Q,
    Series,
    Strict,
    Years,
    YearSeries,
)
from planner.scenario.network import Hub, HubLease, HubSale, Network
from planner.scenario.power import (
    Battery,
    CriticalHotDays,
    CriticalRule,
    Generators,
    GreenCertificates,
    Grid,
    Power,
    Ppa,
    Pv,
    SeasonAdder,
    Tariff,
    TouMultipliers,
    TouSeason,
)

__all__ = [
    "Accelerator",
    "Battery",
    "Cooling",
    "CoolingPlant",
    "CriticalHotDays",
    "CriticalRule",
    "Demand",
    "Existing",
    "Facility",
    "Finance",
    "Generators",
    "GreenCertificates",
    "Grid",
    "Hall",
    "Hub",
    "HubLease",
    "HubSale",
    "Inference",
    "Network",
    "Policy",
    "Power",
    "Ppa",
    "Pv",
    "IMPLICIT_REGION",
    "IMPLICIT_SITE",
    "Region",
    "Scenario",
    "SeasonAdder",
    "ShortfallPenalty",
    "Site",
    "SiteClimate",
    "SiteGrid",
    "SiteTariff",
    "Solver",
    "Tariff",
    "Time",
    "TouMultipliers",
    "TouSeason",
    "Training",
]


# --------------------------------------------------------------------------- finance & time


class Finance(Strict):
    """Discounting of money to the first planning year."""

    discount_rate: Q("", ge=0, lt=1)
    """Real discount rate, a plain share [-] per year (``0.08`` or ``"8 %"``); also used for the
    capital recovery factor of every asset."""
    base_year: Years | None = None
    """Year that money is discounted to [year]; defaults to the first planning year."""


def _representative_days(value: Any) -> int | str:
    if isinstance(value, str) and value.strip() in ("monthly", "full"):
        return value.strip()
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 365:
        return value
    raise ValueError(f"expected a number of days from 1 to 365, 'monthly' or 'full', got {shown(value)}")


class Time(Strict):
    """Hourly profiles and how the year is reduced to representative days."""

    profiles: Path
    """CSV of 8760 hourly rows (see ``inputs/profiles/README.md``), relative to the scenario file."""
    representative_days: Annotated[int | str, PlainValidator(_representative_days)] = 12
    """Number of representative days found by tsam clustering, ``monthly`` (one typical day per
    month) or ``full`` (all 365 days, no reduction) [days]. The model grows with years x days x 24
    hours; one of more than 5 million columns or rows is refused (``planner.model.size``)."""
    extreme_days: dict[str, Literal["max", "min"]] = Field(
        default_factory=lambda: {"wet_bulb_c": "max", "inference_shape": "max"}  # type: ignore[arg-type]
    )
    """Profile columns whose extreme day is kept as a representative day of its own, so that
    sizing hours (hottest wet-bulb for cooling plant, peak load) are seen by the model."""
    column_weights: dict[str, Q("", ge=0)] = Field(default_factory=dict)
    """Relative weight of each profile column in the clustering distance, a finite number >= 0
    [-] (default 1)."""
    seed: Int = 0
    """Seed of the clustering (the result is deterministic for a given seed) [-]."""


# --------------------------------------------------------------------------- demand


class Training(Strict):
    """Annual training compute that the cluster must deliver."""

    flop: Series("FLOP", ge=0)
    """Model FLOPs of training work required per year [FLOP/year]: a bare number is FLOP
    (``4e26``); strings may use a prefix (``"400 EFLOP"``, 1 EFLOP = 1e18 FLOP)."""
    flexibility: Fraction = 0.5
    """Share of a day's training rate that may move between its hours [-]: every hour's
    rate is at least (1 - flexibility) x that day's mean rate."""
    scale: Q("", ge=0) = 1.0
    """Multiplier on ``flop`` for sensitivity sweeps [-]."""


class Region(Strict):
    """Where a share of the inference demand comes from, and which sites or hubs are close enough
    (its latency class) to serve it interactively.
    """

    description: str = ""
    """Free text, e.g. the latency class and its source."""
    share: Fraction
    """Share of every hour's inference demand that comes from this region [-]; the shares of all
    regions add up to 1."""
    sites: list[Name] = Field(min_length=1)
    """The sites (keys of ``sites``; ``main`` without them) and hubs (keys of ``network.hubs``
    whose lease takes inference) within the region's latency class: only they may serve it."""


class Inference(Strict):
    """Hourly inference throughput that the cluster must serve."""

    peak_tokens_per_s: Series("token/s", ge=0)
    """Peak inference throughput of the year, in tokens per second of the reference model
    [tokens/s]; each hour's demand is this times the profile's ``inference_shape``."""
    reserve_margin: Q("", ge=0, le=2) = 0.2
    """Installed inference capacity above the peak, for failures and bursts [-]."""
    scale: Q("", ge=0) = 1.0
    """Multiplier on ``peak_tokens_per_s`` for sensitivity sweeps [-]."""
    regions: dict[Name, Region] = Field(default_factory=dict)
    """Demand regions by name, each with its share of the demand and its latency class (DESIGN.md
    §8). Left out: one region, served by every site and every hub whose lease takes inference.
    Training has no region: it may run at any site or leased hub that takes it."""


class ShortfallPenalty(Strict):
    """Prices of demand not met: keep every plan feasible and make shortfall visible."""

    training_cny_per_eflop: Q("CNY/EFLOP", gt=0)
    """Cost of one EFLOP of training work not delivered [CNY/EFLOP]."""
    inference_cny_per_million_tokens: Q("CNY/Mtoken", gt=0)
    """Cost of one million tokens not served [CNY/Mtoken]."""
    reserve_cny_per_token_per_s: Q("CNY*s/token/year", gt=0)
    """Cost of inference reserve capacity missing for a year, per token/s of missing capacity
    [CNY/(token/s)/year]."""


class Demand(Strict):
    """Training and inference demand, and the price of not meeting it."""

    training: Training
    inference: Inference
    shortfall_penalty: ShortfallPenalty


# --------------------------------------------------------------------------- compute


class Accelerator(Strict):
    """One server SKU (e.g. an 8-accelerator HGX H20 server)."""

    vendor: str
    """Manufacturer of the accelerator chip."""
    chip: str
    """Chip model, e.g. ``H20`` or ``Ascend 910C``."""
    description: str = ""
    """Free text, e.g. the sources of the numbers below."""
    domestic: bool
    """Made in China (counts towards the domestic compute share)."""
    accelerators_per_server: Annotated[Int, Field(ge=1, le=1024)]
    """Accelerator chips in one server [chips/server]."""
    pflops_per_server: Q("PFLOPS", gt=0)
    """Dense BF16 peak of one server [PFLOPS]."""
    tokens_per_s: Q("token/s", gt=0)
    """Inference throughput of one server on the reference model [tokens/s]."""
    full_kw: Q("kW", gt=0)
    """Electric power of one server at full load [kW]."""
    idle_kw: Q("kW", ge=0)
    """Electric power of one installed, idle server [kW]."""
    rack_units: Annotated[Int, Field(ge=1, le=100)]
    """Height of one server [U]."""
    capex_cny: Series("CNY", gt=0)
    """Purchase and installation price of one server in the year it is bought [CNY/server]."""
    price_scale: Q("", gt=0) = 1.0
    """Multiplier on ``capex_cny`` for sensitivity sweeps [-]."""
    fixed_om_fraction: Q("", ge=0, le=1) = 0.03
    """Fixed O&M as a share of capex per year [-] (``0.03`` or ``"3 %"``)."""
    lifetime_years: Lifetime = 5
    """Service life [years]."""
    mfu: Q("", gt=0, le=1)
    """Model-FLOPs utilisation achieved on training work [-]."""
    availability: Q("", gt=0, le=1) = 0.95
    """Share of installed servers usable at any hour (failures, maintenance) [-]."""
    first_year: Years | None = None
    """First year this SKU can be bought [year]; null or omitted: from the start."""
    last_year: Years | None = None
    """Last year this SKU can be bought [year]; null or omitted: to the end."""
    max_new_per_year: Series("", ge=0) | None = None
    """Purchase cap on new servers per year (export controls, supply): a count of servers
    [servers/year]; null or omitted: unlimited. A scalar or a {year: value} map."""
    cooling: list[Name] = Field(min_length=1)
    """Cooling technologies this server can be installed in (keys of ``cooling``)."""


# --------------------------------------------------------------------------- cooling


class CoolingPlant(Strict):
    """Heat-rejection plant of one cooling technology, built in units (chillers, CDUs, dry coolers)."""

    unit_mw: Q("MW", gt=0)
    """IT heat one plant unit can reject [MW]."""
    capex_cny_per_unit: Series("CNY", gt=0)
    """Price of one plant unit [CNY/unit]."""
    redundancy: Annotated[Int, Field(ge=0, le=10)] = 1
    """Spare units beyond what the IT load needs (N+k) [units], at each site where the technology is in use."""
    lifetime_years: Lifetime = 15
    """Service life [years]."""
    fixed_om_fraction: Q("", ge=0, le=1) = 0.03
    """Fixed O&M as a share of capex per year [-] (``0.03`` or ``"3 %"``)."""


class Cooling(Strict):
    """A rack and cooling technology (air, direct liquid cooling, immersion)."""

    description: str = ""
    """Free text."""
    rack_kw_max: Q("kW", gt=0)
    """Largest IT power one rack of this kind can hold [kW/rack]."""
    rack_units: Annotated[Int, Field(ge=1, le=200)] = 42
    """Usable height of one rack [U/rack]."""
    floor_slots_per_rack: Q("", gt=0) = 1.0
    """Hall floor slots one rack occupies (tanks take more than a cabinet) [slots/rack]."""
    capex_cny_per_rack: Series("CNY", gt=0)
    """Price of one rack with its in-row cooling, manifolds or tank [CNY/rack]."""
    lifetime_years: Lifetime = 10
    """Service life of a rack [years]."""
    fixed_om_fraction: Q("", ge=0, le=1) = 0.03
    """Fixed O&M as a share of rack capex per year [-] (``0.03`` or ``"3 %"``)."""
    basis: Literal["dry_bulb", "wet_bulb"]
    """Ambient temperature that limits free cooling: dry-bulb (dry coolers, air economisers) or
    wet-bulb (cooling towers, evaporative)."""
    free_cooling_below_c: Q("degC", ge=-40, le=60)
    """Below this ambient temperature all heat is rejected without compressors [°C]."""
    mechanical_above_c: Q("degC", ge=-40, le=70)
    """Above this ambient temperature all heat goes through compressors; in between the
    mechanical share rises linearly (partial economiser) [°C]."""
    cop_rated: Q("", gt=0, le=50)
    """Coefficient of performance of the mechanical cooling at ``cop_rated_at_c`` [kW heat/kW electric]."""
    cop_rated_at_c: Q("degC", ge=-40, le=60) = 30.0
    """Ambient temperature at which ``cop_rated`` holds [°C]."""
    cop_slope_per_c: Q("1/K", ge=0, le=5) = 0.1
    """Fall of COP per °C of ambient above ``cop_rated_at_c`` (and rise below) [1/°C]."""
    cop_min: Q("", gt=0, le=50) = 2.0
    """Floor of the COP at the hottest hours [-]."""
    fans_pumps_kw_per_kw: Q("", ge=0, le=1)
    """Fans and pumps that run whatever the weather [kW electric/kW IT heat]."""
    liquid_capture: Q("", ge=0, le=1) = 1.0
    """Share of a rack's IT heat that this technology's own loop (and plant) rejects [-]; the
    rest goes to room air and is cooled by ``residual_heat_to`` (cold plates ≈ 0.7–0.8,
    immersion ≈ 1). 1 for air cooling itself."""
    residual_heat_to: Name | None = None
    """Cooling technology (e.g. ``air``) whose plant rejects the heat this one leaves to room
    air; required when ``liquid_capture`` < 1."""
    plant: CoolingPlant
    """Heat-rejection plant sizing and cost."""
    liquid: bool | None = None
    """Counts as liquid cooling (the liquid-cooled share of racks, ``plan alternatives --metric
    liquid_share``); default: true when it leaves residual heat to another technology's plant."""

    def with_residual(self, own: Any, residual: Any) -> Any:
        """A rack's cooling power per IT power from this technology's own coefficient and that of
        the technology taking its room-air residual [kW/kW]: ``capture * own + (1 - capture) *
        residual`` (numbers or arrays alike).
        """
        return self.liquid_capture * own + (1 - self.liquid_capture) * residual


# --------------------------------------------------------------------------- facility


class Hall(Strict):
    """One data hall: shell, floor, critical power distribution (UPS, PDUs)."""

    rack_slots: Annotated[Int, Field(ge=1, le=100_000)]
    """Floor slots for racks [slots/hall]."""
    it_mw: Q("MW", gt=0)
    """Critical IT power the hall's electrical system delivers [MW/hall]."""
    capex_cny: Series("CNY", gt=0)
    """Price of one hall, fitted out [CNY/hall]."""
    lifetime_years: Lifetime = 20
    """Service life [years]."""
    fixed_om_fraction: Q("", ge=0, le=1) = 0.02
    """Fixed O&M as a share of capex per year [-] (``0.02`` or ``"2 %"``)."""


class Facility(Strict):
    """Data halls and the electrical overheads of the site."""

    hall: Hall
    max_halls: Count
    """Most halls the cluster can hold in service at once [halls]; with ``sites``, a cap on the
    sum over the sites (each site has its own ``sites.<name>.max_halls``)."""
    max_new_halls_per_year: Count | None = None
    """Most halls that can be built in one year (construction capacity) [halls/year]; with
    ``sites``, a cap on the sum over the sites."""
    aux_loss_fraction: Q("", ge=0, le=0.5)
    """UPS, distribution and lighting losses as a share of IT power [-]."""
    oversubscription: Q("", ge=1, le=2) = 1.0
    """Nameplate server power a hall may hold per MW of its power envelope [-]; actual hourly
    draw always stays inside the envelope."""


# --------------------------------------------------------------------------- sites

#: Name of the one implicit site of a scenario without ``sites``.
IMPLICIT_SITE = "main"

#: Name of the one implicit demand region of a scenario without ``demand.inference.regions``.
IMPLICIT_REGION = "all"


class SiteTariff(Strict):
    """Where a site's grid energy is priced apart from the cluster's tariff (``power.grid.tariff``):
    its own flat price, funds or fixed-charge rate (a voltage level of its own, a local settlement
    deal). The TOU calendar (seasons, critical rules, multipliers, season adders) and the sweep
    ``scale`` stay the cluster's: one provincial tariff. An omitted key keeps the cluster's value.
    """

    flat_cny_per_kwh: Series("CNY/kWh", gt=0, le=10) | None = None
    """The site's flat-period energy price, all components included [CNY/kWh]."""
    non_floating_cny_per_kwh: Q("CNY/kWh", ge=0, le=10) | None = None
    """The part of the site's price that does not float with TOU (government funds) [CNY/kWh]."""
    time_of_use: bool = True
    """``false``: the site pays its flat price in every hour (an annual-average settlement, such
    as Ya'an's big-data price), with no TOU ratio and no season adder; the sweep ``scale`` still
    applies to its floating part."""
    capacity_cny_per_kva_month: Q("CNY/kVA/month", ge=0) | None = None
    """The site's capacity charge [CNY/kVA/month] (with ``fixed_charge_basis: capacity``)."""
    demand_cny_per_kw_month: Q("CNY/kW/month", ge=0) | None = None
    """The site's demand charge [CNY/kW/month] (with ``fixed_charge_basis: demand``)."""


@dataclass(frozen=True)
class SitePrices:
    """What a site pays for grid power, its own tariff's keys over the cluster's
    (``Scenario.site_tariff``). The TOU calendar, the fixed-charge basis and the sweep ``scale``
    are the cluster's alone (``power.grid.tariff``).
    """

    flat_cny_per_kwh: YearSeries
    """Flat-period energy price, all components included [CNY/kWh]."""
    non_floating_cny_per_kwh: float
    """Part of the price that does not float with TOU (government funds) [CNY/kWh]."""
    time_of_use: bool
    """Whether the site pays TOU prices (else its flat price every hour)."""
    fixed_charge_rate: float
    """Rate of the cluster's fixed-charge basis: [CNY/kVA/month] for ``capacity``, [CNY/kW/month]
    for ``demand``."""


class SiteGrid(Strict):
    """A site's own grid connection (its substation): blocks of the size, price, lifetime and N-k
    redundancy of ``power.grid``, counted and made redundant per site.
    """

    max_blocks: Count
    """Most grid blocks the site's connection can hold in service at once [blocks]."""
    first_new_block_year: Years | None = None
    """First year a new block can be energised at this site (lead time of a new connection)
    [year]; null or omitted: from the first planning year."""
    tariff: SiteTariff | None = None
    """Where the site's grid energy is priced apart from ``power.grid.tariff``; omitted: the
    cluster's tariff."""


class SiteClimate(Strict):
    """A site's weather: its own columns of the profile file (``time.profiles``) or the base
    profile's temperatures, each with an offset.
    """

    dry_bulb_column: str | None = None
    """Column of the profile file with the site's own hourly dry-bulb temperature [°C]; omitted:
    the base profile's ``dry_bulb_c``."""
    wet_bulb_column: str | None = None
    """Column of the profile file with the site's own hourly wet-bulb temperature [°C]; omitted:
    the base profile's ``wet_bulb_c``."""
    dry_bulb_offset_k: Q("K", ge=-20, le=20) = 0.0
    """Added to every hour's dry-bulb temperature (the site's column, else the profile's) [K]."""
    wet_bulb_offset_k: Q("K", ge=-20, le=20) = 0.0
    """Added to every hour's wet-bulb temperature (the site's column, else the profile's) [K]."""


class Site(Strict):
    """One start area of the cluster: its own land, grid connection, cooling plant, gensets, PV
    and weather. Plant, gensets and grid blocks of one site cannot back up another's.
    """

    description: str = ""
    """Free text."""
    max_halls: Count
    """Most halls the site can hold in service at once (its land) [halls]."""
    max_new_halls_per_year: Count | None = None
    """Most halls the site can build in one year [halls/year]; null or omitted: no limit of
    its own."""
    grid: SiteGrid
    """The site's grid connection."""
    pv_max_mw: Q("MW", ge=0)
    """Most PV the site can hold [MWp]."""
    pv_yield: Q("", ge=0, le=2) = 1.0
    """Multiplier on the PV capacity factor at this site [-] (e.g. a cloudier valley)."""
    pv_profile_column: str | None = None
    """Column of the profile file with the site's own PV capacity factor [-] (its annual mean is
    kept on the representative days, as ``power.pv.profile_column``'s); omitted: that column."""
    climate: SiteClimate = SiteClimate()
    """The site's weather: its own profile columns or the base profile's, with offsets."""


# --------------------------------------------------------------------------- policy


class Policy(Strict):
    """Hard policy limits per year (a scalar holds every year; a map holds from its first year)."""

    pue_max: PolicySeries("", ge=1, le=3) | None = None
    """Annual power usage effectiveness cap [-]."""
    green_share_min: PolicySeries("", ge=0, le=1) | None = None
    """Least share of facility energy from green sources (PPA, PV, certificates) [-]."""
    domestic_compute_share_min: PolicySeries("", ge=0, le=1) | None = None
    """Least share of installed dense BF16 PFLOPS on domestic chips [-]."""
    installed_eflops_min: PolicySeries("EFLOPS", ge=0) | None = None
    """Least installed dense BF16 compute [EFLOPS]."""
    carbon_price_cny_per_t: PolicySeries("CNY/t", ge=0) | None = None
    """Price on emissions of the basis ``emissions_basis`` [CNY/tCO2]."""
    carbon_cap_t: PolicySeries("t", ge=0) | None = None
    """Cap on emissions of the basis ``emissions_basis`` per year [tCO2/year]."""
    emissions_basis: Literal["location", "market"] = "location"
    """Which emissions the carbon price and cap apply to: ``location`` (grid and wheeled energy
    at the grid's hourly factor) or ``market`` (grid at the grid's factor, each contract at its
    own, less certificates at the residual factor; never below zero)."""


# --------------------------------------------------------------------------- existing fleet


class ExistingServers(Strict):
    """Servers installed before the first planning year."""

    accelerator: Name
    """Server type (a key of ``accelerators``); its lifetime and O&M apply."""
    cooling: Name
    """Rack and cooling technology the servers are installed in (a key of ``cooling``)."""
    count: Count
    """Number of servers, a count [servers]."""
    year_built: Years
    """Year the servers were installed [year], before the first planning year; they retire
    when their lifetime ends."""
    site: Name | None = None
    """Site the units stand at (a key of ``sites``); required when there is more than one site,
    omitted when the scenario has no ``sites``."""


class ExistingRacks(Strict):
    """Racks installed before the first planning year."""

    cooling: Name
    """Rack and cooling technology (a key of ``cooling``)."""
    count: Count
    """Number of racks, a count [racks]."""
    year_built: Years
    """Year the racks were installed [year], before the first planning year."""
    site: Name | None = None
    """Site the units stand at (a key of ``sites``); required when there is more than one site,
    omitted when the scenario has no ``sites``."""


class ExistingUnits(Strict):
    """Halls, grid blocks or gensets installed before the first planning year."""

    count: Count
    """Number of units (halls, grid blocks or gensets), a count [units]."""
    year_built: Years
    """Year the units were built [year], before the first planning year."""
    site: Name | None = None
    """Site the units stand at (a key of ``sites``); required when there is more than one site,
    omitted when the scenario has no ``sites``."""


class ExistingCoolingUnits(Strict):
    """Cooling plant units installed before the first planning year."""

    cooling: Name
    """Cooling technology whose plant the units belong to (a key of ``cooling``)."""
    count: Count
    """Number of plant units, a count [units]."""
    year_built: Years
    """Year the units were built [year], before the first planning year."""
    site: Name | None = None
    """Site the units stand at (a key of ``sites``); required when there is more than one site,
    omitted when the scenario has no ``sites``."""


class ExistingPv(Strict):
    """PV installed before the first planning year."""

    mw: Q("MW", ge=0)
    """Installed PV capacity [MWp]."""
    year_built: Years
    """Year the PV was built [year], before the first planning year."""
    site: Name | None = None
    """Site the units stand at (a key of ``sites``); required when there is more than one site,
    omitted when the scenario has no ``sites``."""


class ExistingBattery(Strict):
    """Battery installed before the first planning year."""

    mwh: Q("MWh", ge=0)
    """Installed energy capacity [MWh]."""
    mw: Q("MW", ge=0)
    """Installed power capacity [MW]."""
    year_built: Years
    """Year the battery was built [year], before the first planning year."""
    site: Name | None = None
    """Site the units stand at (a key of ``sites``); required when there is more than one site,
    omitted when the scenario has no ``sites``."""


class Existing(Strict):
    """The fleet and facility in place when planning starts (no capex; fixed O&M; retire by age)."""

    servers: list[ExistingServers] = Field(default_factory=list)
    racks: list[ExistingRacks] = Field(default_factory=list)
    halls: list[ExistingUnits] = Field(default_factory=list)
    grid_blocks: list[ExistingUnits] = Field(default_factory=list)
    cooling_units: list[ExistingCoolingUnits] = Field(default_factory=list)
    generators: list[ExistingUnits] = Field(default_factory=list)
    pv: list[ExistingPv] = Field(default_factory=list)
    battery: list[ExistingBattery] = Field(default_factory=list)


# --------------------------------------------------------------------------- solver


class Solver(Strict):
    """HiGHS options."""

    time_limit_s: Q("s", gt=0, le=7 * 86400) = 900.0
    """Wall-clock limit of the MIP solve [s]; the best plan found is returned with its gap."""
    mip_gap: Q("", ge=0, le=1) = 0.005
    """Relative MIP gap at which the solve stops [-]."""
    threads: Annotated[Int, Field(ge=1, le=256)] = 1
    """Solver threads, a count (HiGHS's MIP search is essentially serial) [-]."""
    random_seed: Annotated[Int, Field(ge=0, le=2**31 - 1)] = 0
    """HiGHS random seed (fixed for reproducible plans)."""


# --------------------------------------------------------------------------- scenario


class Scenario(Strict):
    """A complete planning scenario: what can be built, what it costs, what must be met."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    """Label of the scenario (free text; escaped wherever it is shown)."""
    description: str = ""
    """Free text."""
    currency: Literal["CNY"] = "CNY"
    """Currency of every money value."""
    years: list[Years] = Field(min_length=1, max_length=40)
    """Planning years, consecutive and increasing [year]."""
    finance: Finance
    time: Time
    demand: Demand
    accelerators: dict[Name, Accelerator] = Field(min_length=1)
    """Server SKUs by name."""
    cooling: dict[Name, Cooling] = Field(min_length=1)
    """Rack and cooling technologies by name."""
    facility: Facility
    power: Power
    sites: dict[Name, Site] = Field(default_factory=dict)
    """Start areas by name, each with its own land, grid connection, plant, gensets, PV and
    weather (DESIGN.md §8). Left out: the cluster is one site, ``main``, with the limits of
    ``facility``, ``power.grid`` and ``power.pv``."""
    network: Network = Network()
    """Other hub nodes of the national network to lease compute from and sell it to (DESIGN.md §8)."""
    policy: Policy = Policy()
    existing: Existing = Existing()
    solver: Solver = Solver()
    sources: dict[str, str] = Field(default_factory=dict)
    """Where the numbers come from (key: what, value: source); not used by the model."""

    _files: tuple[Path, ...] = PrivateAttr(default=())
    """The files this scenario was merged from (set by the loader), the named file first."""

    def site_specs(self) -> dict[str, Site]:
        """Every site by name: ``sites``, or the one implicit site (``main``) made of the
        cluster-wide ``facility.max_halls``, ``facility.max_new_halls_per_year``,
        ``power.grid.max_blocks`` and ``power.pv.max_mw`` when there are none.
        """
        if self.sites:
            return dict(self.sites)
        implicit = Site(
            max_halls=self.facility.max_halls,
            max_new_halls_per_year=self.facility.max_new_halls_per_year,
            grid=SiteGrid(max_blocks=self.power.grid.max_blocks),
            pv_max_mw=self.power.pv.max_mw,
        )
        return {IMPLICIT_SITE: implicit}

    def site_tariff(self, name: str) -> SitePrices:
        """The tariff site ``name`` pays, every key resolved: the site's own value
        (``sites.<name>.grid.tariff``) where it sets one, else the cluster's (``power.grid.tariff``).
        """
        cluster = self.power.grid.tariff
        own = self.site_specs()[name].grid.tariff or SiteTariff()

        def pick(key: str) -> Any:
            value = getattr(own, key)
            return getattr(cluster, key) if value is None else value

        basis = "demand_cny_per_kw_month" if cluster.fixed_charge_basis == "demand" else "capacity_cny_per_kva_month"
        return SitePrices(
            flat_cny_per_kwh=pick("flat_cny_per_kwh"),
            non_floating_cny_per_kwh=float(pick("non_floating_cny_per_kwh")),
            time_of_use=own.time_of_use,
            fixed_charge_rate=float(pick(basis)),
        )

    def site_of(self, entry: Any) -> str:
        """The site an ``existing`` entry stands at: its ``site``, else the first site."""
        site = getattr(entry, "site", None)
        return site if site is not None else next(iter(self.sites), IMPLICIT_SITE)

    def region_specs(self) -> dict[str, Region]:
        """Every demand region by name: ``demand.inference.regions``, or the one implicit region
        (``all``) served by every site and every hub whose lease takes inference.
        """
        if self.demand.inference.regions:
            return dict(self.demand.inference.regions)
        serving = [*self.site_specs(), *(h for h, hub in self.network.hubs.items() if hub.takes("inference"))]
        return {IMPLICIT_REGION: Region(share=1.0, sites=serving)}

    @property
    def base_year(self) -> int:
        """Year money is discounted to [year]."""
        return self.finance.base_year if self.finance.base_year is not None else self.years[0]
