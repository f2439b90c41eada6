"""Terminal summaries (rich) of a validated scenario and of a plan; the CLI calls these, nothing else prints."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from planner.report.format import decimals, money_scale
from planner.report.labels import accelerator_label, cooling_label, cooling_name
from planner.report.limits import (
    LIMIT_COSTS_HINT,
    LIMITS,
    badges,
    has_limit_costs,
    limit_cost_text,
    marginal_text,
    step_text,
)
from planner.report.sites import site_figures, site_table
from planner.report.tables import timing_rows, wall_clock
from planner.results.kpis import served_shares, unserved_shares
from planner.results.provenance import InputCheck
from planner.results.sites import cluster_view
from planner.scenario import Scenario, scenario_files
from planner.scenario.schema import SiteTariff
from planner.solver.status import Status
from planner.time.cooling import effective_kappa
from planner.time.prepare import TimeData

__all__ = ["files_read", "print_files", "print_plan", "print_validation"]


def _titled(console: Console, title: str) -> Table:
    """A table whose title is printed as a heading line (titles wrap badly on narrow tables)."""
    console.print(f"\n[bold]{escape(title)}[/]")
    return Table()


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "-"
    return f"{value:,.{digits}g}" if abs(value) < 1e3 else f"{value:,.0f}"


def _row_cells(name: str, values: list[float | None]) -> tuple[str, list[str]]:
    """(unit suffix for the row's label, cells) of one row of figures, all in one format.

    PUE with 3 decimals, shares in % with 1 decimal, money in one unit for the row (`` [M CNY]``),
    anything else with the decimals that tell its values apart.
    """
    arr = np.array([np.nan if v is None else v for v in values], dtype=float)

    def cells(fmt: str, scale: float = 1.0) -> list[str]:
        return ["-" if not np.isfinite(v) else fmt.format(v / scale) for v in arr]

    if "pue" in name:
        return "", cells("{:.3f}")
    if "share" in name:
        return "", cells("{:.1%}")
    if "_cny" in name:
        scale, unit = money_scale(arr)
        digits = decimals(arr / scale)
        return f" [{unit}]", cells(f"{{:,.{digits}f}}", scale)
    return "", cells(f"{{:,.{decimals(arr)}f}}")


def _real(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):
        return Path(os.path.abspath(path))


def files_read(scenario: Scenario) -> list[tuple[str, Path, bool]]:
    """The files a scenario was read from: (role, resolved path, outside the scenario's folder tree).

    The roles are ``scenario`` (the file named), ``extends`` (each base it extends, in order) and
    ``profiles``. A file is *outside* when it does not lie in the folder of the named scenario
    file or below it (after symlinks are resolved), e.g. an ``extends: /etc/...`` or
    ``../../other/base.yaml``: worth a look before trusting a scenario from someone else.
    """
    files = [_real(f) for f in scenario_files(scenario)]
    home = files[0].parent if files else None
    roles = ["scenario"] + ["extends"] * (len(files) - 1)
    out = [(role, f, home is not None and not f.is_relative_to(home)) for role, f in zip(roles, files, strict=True)]
    profiles = _real(Path(scenario.time.profiles))
    out.append(("profiles", profiles, home is not None and not profiles.is_relative_to(home)))
    return out


def print_files(scenario: Scenario, console: Console) -> None:
    """Print the files read (the ``extends`` chain and the profiles), flagging any outside the scenario's folder."""
    rows = files_read(scenario)
    console.print("files read:")
    home = rows[0][1].parent if rows[0][0] == "scenario" else None
    for role, path, outside in rows:
        flag = f"  [bold yellow]outside[/] {escape(str(home))}" if outside else ""
        console.print(f"  {role:<9} {escape(str(path))}{flag}")
    if any(outside for _, _, outside in rows):
        console.print(
            "[yellow]note:[/] some files lie outside the scenario's own folder tree; check that they are the ones meant"
        )


def print_validation(scenario: Scenario, time: TimeData, model_size: str, console: Console) -> None:
    """Print what a planner should see before solving: files read, model size, fleet options, time reduction.

    ``time`` and ``model_size`` (a sentence) come from :func:`planner.pipeline.check_scenario`.
    """
    s = scenario
    console.print(f"[bold green]valid[/] scenario [bold]{escape(s.name)}[/] — years {s.years[0]}–{s.years[-1]}")
    print_files(s, console)
    console.print(f"model size: {model_size}")
    if s.sites:
        _print_sites(s, console)
    if s.demand.inference.regions or s.network.hubs:
        _print_network(s, console)

    servers = _titled(console, "Server types")
    for col in ("name", "chip", "domestic", "PFLOPS", "tokens/s", "kW full/idle", "price [M CNY]", "cap/yr", "cooling"):
        servers.add_column(col, justify="left" if col in ("name", "chip", "cooling") else "right")
    for name, a in s.accelerators.items():
        cap = "-" if a.max_new_per_year is None else "/".join(_fmt(v, 4) for v in a.max_new_per_year.values(s.years))
        servers.add_row(
            escape(name),
            escape(f"{a.vendor} {a.chip}"),
            "yes" if a.domestic else "no",
            _fmt(a.pflops_per_server),
            _fmt(a.tokens_per_s),
            f"{a.full_kw:g}/{a.idle_kw:g}",
            "/".join(_fmt(v / 1e6) for v in a.capex_cny.values([s.years[0], s.years[-1]])),
            cap,
            escape(", ".join(cooling_name(c, s.cooling[c].description if c in s.cooling else "") for c in a.cooling)),
        )
    console.print(servers)

    cooling = _titled(console, "Cooling technologies")
    for col in ("name", "technology", "kW/rack", "basis", "free below [°C]", "κ annual", "κ max", "PUE (κ + aux)"):
        cooling.add_column(col, justify="left" if col in ("name", "technology", "basis") else "right")
    w = time.weight[:, None]
    blended = effective_kappa(s.cooling, time.kappa)
    for name, c in s.cooling.items():
        k = blended[name]
        annual = float((w * k).sum() / (w.sum() * 24))
        cooling.add_row(
            escape(name),
            escape(cooling_name(name, c.description)),
            _fmt(c.rack_kw_max),
            c.basis,
            _fmt(c.free_cooling_below_c),
            f"{annual:.3f}",
            f"{k.max():.3f}",
            f"{1 + annual + s.facility.aux_loss_fraction:.3f}",
        )
    console.print(cooling)

    policy = _titled(console, "Policy limits by year")
    policy.add_column("limit")
    for y in s.years:
        policy.add_column(str(y), justify="right")
    for field in type(s.policy).model_fields:
        series = getattr(s.policy, field)
        if series is not None and not isinstance(series, str):
            unit, cells = _row_cells(field, list(series.values(s.years)))
            policy.add_row(field + unit, *cells)
    demand = s.demand
    training = [v / 1e24 for v in demand.training.flop.values(s.years)]
    policy.add_row("training [1e24 FLOP]", *_row_cells("training", training)[1])
    peak = [v / 1e6 for v in demand.inference.peak_tokens_per_s.values(s.years)]
    policy.add_row("inference peak [M tokens/s]", *_row_cells("inference", peak)[1])
    console.print(policy)
    console.print(f"carbon price and cap apply to {s.policy.emissions_basis}-based emissions")

    days = _titled(console, f"Representative days ({time.days.method}, {time.n_days} days)")
    for col in ("day", "date", "weight [days]", "mean °C", "max WB °C", "extreme"):
        days.add_column(col, justify="right")
    extremes = {v: k for k, v in time.days.extremes.items()}
    for i in range(time.n_days):
        date = np.datetime64("2026-01-01") + np.timedelta64(int(time.days.day_of_year[i]), "D")
        days.add_row(
            str(i),
            str(date)[5:],
            f"{time.weight[i]:g}",
            f"{time.dry_bulb_c[i].mean():.1f}",
            f"{time.wet_bulb_c[i].max():.1f}",
            escape(extremes.get(i, "")),
        )
    if time.n_days <= 60:
        console.print(days)
    console.print(f"weights sum to {time.weight.sum():g} days")

    err = _titled(console, "Aggregation error (representative days vs the full year)")
    for col in ("column", "annual mean", "represented", "error %", "NRMSE %", "max actual/repr."):
        err.add_column(col, justify="left" if col == "column" else "right")
    for column, row in time.aggregation_error.iterrows():
        err.add_row(
            escape(str(column)),
            _fmt(row["annual_mean"]),
            _fmt(row["represented_mean"]),
            f"{row['mean_error_pct']:+.2f}",
            f"{row['nrmse_pct']:.1f}",
            f"{_fmt(row['actual_max'])}/{_fmt(row['represented_max'])}",
        )
    console.print(err)
    if time.mean_correction:
        fixes = ", ".join(f"{escape(c)} ×{f:.3f}" for c, f in time.mean_correction.items())
        console.print(f"annual means restored after day selection: {fixes}")


def _print_sites(s: Scenario, console: Console) -> None:
    """The start areas: land, grid connection, PV and climate of each."""
    table = _titled(console, "Sites")
    for col in (
        "name",
        "max halls",
        "halls/yr",
        "max blocks",
        "first new block",
        "PV max [MW]",
        "PV yield",
        "weather (dry/wet bulb)",
        "grid tariff",
    ):
        table.add_column(col, justify="left" if col in ("name", "weather (dry/wet bulb)", "grid tariff") else "right")
    for name, site in s.sites.items():
        c = site.climate
        own = site.grid.tariff
        table.add_row(
            escape(name),
            _fmt(site.max_halls),
            "-" if site.max_new_halls_per_year is None else _fmt(site.max_new_halls_per_year),
            _fmt(site.grid.max_blocks),
            "-" if site.grid.first_new_block_year is None else str(site.grid.first_new_block_year),
            _fmt(site.pv_max_mw),
            f"{site.pv_yield:g}" + (f" × {escape(site.pv_profile_column)}" if site.pv_profile_column else ""),
            escape(
                f"{c.dry_bulb_column or 'profile'} {c.dry_bulb_offset_k:+g} K / "
                f"{c.wet_bulb_column or 'profile'} {c.wet_bulb_offset_k:+g} K"
            ),
            "power.grid.tariff" if own is None else _site_tariff_text(own),
        )
    console.print(table)


def _site_tariff_text(own: SiteTariff) -> str:
    """A site's own tariff in a few words (what it sets apart from the cluster's)."""
    parts = []
    if own.flat_cny_per_kwh is not None:
        values = [v for _, v in own.flat_cny_per_kwh.points]
        shown = f"{values[0]:g}" if len(values) == 1 else f"{values[0]:g} → {values[-1]:g}"
        parts.append(f"flat {shown} CNY/kWh")
    if own.non_floating_cny_per_kwh is not None:
        parts.append(f"funds {own.non_floating_cny_per_kwh:g} CNY/kWh")
    if not own.time_of_use:
        parts.append("one price every hour")
    if own.capacity_cny_per_kva_month is not None:
        parts.append(f"capacity {own.capacity_cny_per_kva_month:g} CNY/kVA/month")
    if own.demand_cny_per_kw_month is not None:
        parts.append(f"demand {own.demand_cny_per_kw_month:g} CNY/kW/month")
    return ", ".join(parts) or "power.grid.tariff"


def _print_network(s: Scenario, console: Console) -> None:
    """The demand regions (share, latency class) and the hubs (what each leases and buys, at what price)."""
    if s.demand.inference.regions:
        table = _titled(console, "Demand regions")
        for col in ("name", "share", "served by (latency class)"):
            table.add_column(col, justify="right" if col == "share" else "left")
        for name, region in s.demand.inference.regions.items():
            table.add_row(escape(name), f"{region.share:.0%}", escape(", ".join(region.sites)))
        console.print(table)
    if s.network.hubs:
        table = _titled(console, "Hubs")
        for col in (
            "name",
            "lease [CNY/PFLOPS·h]",
            "lease max [PFLOPS]",
            "server type",
            "workloads",
            "buys at [CNY/PFLOPS·h]",
            "buys max [PFLOPS]",
        ):
            table.add_column(col, justify="left" if col in ("name", "server type", "workloads") else "right")
        years = [s.years[0], s.years[-1]]
        for name, hub in s.network.hubs.items():
            lease, sell = hub.lease, hub.sell
            table.add_row(
                escape(name),
                "-" if lease is None else "/".join(_fmt(v) for v in lease.price_cny_per_pflops_hour.values(years)),
                "-" if lease is None else "/".join(_fmt(v) for v in lease.max_pflops.values(years)),
                "-" if lease is None else escape(lease.accelerator),
                "-" if lease is None else ", ".join(lease.workloads),
                "-" if sell is None else "/".join(_fmt(v) for v in sell.price_cny_per_pflops_hour.values(years)),
                "-" if sell is None else "/".join(_fmt(v) for v in sell.max_pflops.values(years)),
            )
        console.print(table)


def print_full_year(plan: xr.Dataset, full: xr.Dataset, relaxed: dict[int, list[str]], console: Console) -> None:
    """The representative-day plan against the same plan operated over every hour of each year."""
    plan, full = cluster_view(plan), cluster_view(full)
    years = [int(y) for y in plan.year.values]
    npv_plan, npv_full = float(plan["npv_cny"]), float(full["npv_cny"])
    console.print(
        f"operated over every hour ({full.sizes['day']} days a year, decisions fixed): NPV "
        f"[bold]{npv_full / 1e9:,.3f} bn CNY[/] against {npv_plan / 1e9:,.3f} bn on "
        f"{plan.sizes['day']} representative days ({(npv_full - npv_plan) / 1e6:+,.1f} M CNY, "
        f"{(npv_full - npv_plan) / npv_plan:+.2%})"
    )
    table = _titled(console, "Representative days (plan) against every hour (operation), by year")
    table.add_column("figure")
    for y in years:
        table.add_column(str(y), justify="right")
    served_plan, trained_plan = served_shares(plan)
    served_full, trained_full = served_shares(full)
    rows = (
        ("annual cost [M CNY]", plan["cost"].sum("component") / 1e6, full["cost"].sum("component") / 1e6, "{:,.1f}"),
        ("PUE", plan["pue"], full["pue"], "{:.3f}"),
        ("green share", plan["green_share"], full["green_share"], "{:.1%}"),
        ("inference served", served_plan, served_full, "{:.2%}"),
        ("training delivered", trained_plan, trained_full, "{:.2%}"),
        (
            "peak grid import [MW]",
            plan["grid_import_mw"].max(("day", "hour")),
            full["grid_import_mw"].max(("day", "hour")),
            "{:,.1f}",
        ),
    )
    for label, a, b, fmt in rows:
        for which, values in (("plan", a), ("every hour", b)):
            cells = ["-" if not np.isfinite(v) else fmt.format(v) for v in np.asarray(values.values, dtype=float)]
            table.add_row(escape(f"{label}, {which}"), *cells)
    console.print(table)
    for year, limits in relaxed.items():
        console.print(
            f"[bold yellow]warning:[/] {year}: the plan cannot meet its {', '.join(limits)} over every hour; "
            "that year was operated without it (see the figures above)"
        )


def print_plan(ds: xr.Dataset, console: Console) -> None:
    """The plan at a glance: builds per year, MW, costs, policy KPIs, shortfall, solver, timings (of the
    cluster as a whole).
    """
    table = site_table(site_figures(ds))
    ds = cluster_view(ds)
    _print_headline(ds, console)
    _print_builds(ds, console)
    if table is not None:
        _print_site_table(table, int(ds["year"].values[-1]), console)
    _print_figures(ds, console)
    _print_limits(ds, console)
    rows = timing_rows(ds)
    if rows:
        marks = {True: "", False: " (beside the MIP)"}
        stages = ", ".join(f"{r['stage']} {r['seconds']:.2f}{marks[r['counted']]}" for r in rows)
        beside = "; the dive ran beside the MIP, not added" if any(not r["counted"] for r in rows) else ""
        console.print(f"timings \\[s]: {stages}; total {wall_clock(ds):.2f} (wall clock{beside})")


def _print_site_table(table: dict[str, Any], year: int, console: Console) -> None:
    """What each site holds in the last year, against its own land and grid (the report's site table)."""
    out = _titled(console, f"Sites in {year}")
    out.add_column("site")
    for heading, unit in table["columns"]:
        out.add_column(f"{heading} [{unit}]", justify="right")
    for row in table["rows"]:
        out.add_row(escape(row["site"]), *row["cells"])
    console.print(out)


def _print_headline(ds: xr.Dataset, console: Console) -> None:
    """NPV and solver status, with a warning for a plan short of the optimum or of demand."""
    status = ds.attrs.get("solver_status", "?")
    gap = ds.attrs.get("mip_gap", float("nan"))
    colour = "green" if status == Status.OPTIMAL else "yellow"
    console.print(
        f"[bold]{escape(str(ds.attrs.get('scenario_name', '')))}[/]: "
        f"NPV [bold]{float(ds['npv_cny']) / 1e9:,.3f} bn CNY[/]"
        f"  — solver [{colour}]{escape(str(status))}[/] ({escape(str(ds.attrs.get('termination', '')))}),"
        f" MIP gap {gap:.3%}"
    )
    if status != Status.OPTIMAL:
        console.print(
            f"[bold yellow]warning:[/] the plan is the best found when the solver stopped; it may cost up to "
            f"{gap:.2%} more than the optimum"
        )
    tokens, training = unserved_shares(ds)
    for label, share in (("inference tokens", tokens.fillna(0)), ("training work", training.fillna(0))):
        worst = float(share.max())
        if worst > 0.01:
            year = int(ds.year.values[int(np.argmax(share.values))])
            console.print(
                f"[bold yellow]warning:[/] {worst:.1%} of {label} is not met in {year}: meeting it would cost "
                "more than its shortfall penalty (demand.shortfall_penalty), or a limit prevents it"
            )


def _print_builds(ds: xr.Dataset, console: Console) -> None:
    """What to build each year (new units, stock in service in brackets)."""
    years = [int(y) for y in ds.year.values]
    builds = _titled(console, "What to build (new in the year; stock in service in brackets)")
    builds.add_column("item")
    for y in years:
        builds.add_column(str(y), justify="right")

    def row(label: str, new: np.ndarray, stock: np.ndarray | None = None, fmt: str = "{:,.0f}") -> None:
        if not np.any(np.abs(new) > 1e-6) and (stock is None or not np.any(np.abs(stock) > 1e-6)):
            return
        cells = []
        for i in range(len(years)):
            cell = fmt.format(new[i]) if abs(new[i]) > 1e-6 else "·"
            if stock is not None:
                cell += f" ({fmt.format(stock[i])})"
            cells.append(cell)
        builds.add_row(escape(label), *cells)

    for a in ds.accelerator.values:
        new = ds["servers_new"].sel(accelerator=a).sum("cooling").values
        stock = ds["servers"].sel(accelerator=a).sum("cooling").values
        row(f"servers {accelerator_label(ds, str(a))}", new, stock)
    for c in ds.cooling.values:
        racks = ds["racks_new"].sel(cooling=c).values, ds["racks"].sel(cooling=c).values
        row(f"racks, {cooling_label(ds, str(c))}", *racks)
    row("halls", ds["halls_new"].values, ds["halls"].values)
    for c in ds.cooling.values:
        row(
            f"cooling plant units, {cooling_label(ds, str(c))}",
            ds["cooling_units_new"].sel(cooling=c).values,
            ds["cooling_units"].sel(cooling=c).values,
        )
    row("grid blocks", ds["grid_blocks_new"].values, ds["grid_blocks"].values)
    row("gensets", ds["generators_new"].values, ds["generator_units"].values)
    row("PV [MWp]", np.diff(ds["pv_mw"].values, prepend=0.0).clip(min=0), ds["pv_mw"].values, "{:,.1f}")
    row(
        "battery [MWh]", np.diff(ds["battery_mwh"].values, prepend=0.0).clip(min=0), ds["battery_mwh"].values, "{:,.1f}"
    )
    for k in ds.ppa.values:
        row(f"PPA {k} contracted [MW]", ds["ppa_mw"].sel(ppa=k).values, None, "{:,.1f}")
    console.print(builds)


def _print_figures(ds: xr.Dataset, console: Console) -> None:
    """Operation, policy and cost by year, each limited figure beside its limit."""
    years = [int(y) for y in ds.year.values]
    kpi = _titled(console, "Operation, policy and cost by year")
    kpi.add_column("figure")
    for y in years:
        kpi.add_column(str(y), justify="right")

    def line(label: str, values: np.ndarray, fmt: str, limit: np.ndarray | None = None, upper: bool = True) -> None:
        cells = []
        for i, v in enumerate(values):
            text = "-" if not np.isfinite(v) else fmt.format(v)
            if limit is not None and np.isfinite(limit[i]):
                ok = v <= limit[i] + 1e-6 if upper else v >= limit[i] - 1e-6
                text += f" {'✓' if ok else '✗'} ({'≤' if upper else '≥'}{fmt.format(limit[i])})"
            cells.append(text)
        kpi.add_row(escape(label), *cells)

    line("peak IT power [MW]", ds["it_power_mw"].sum("cooling").max(("day", "hour")).values, "{:,.1f}")
    line("peak facility power [MW]", ds["facility_power_mw"].max(("day", "hour")).values, "{:,.1f}")
    eflops, floor = ds["installed_pflops"].values / 1000, ds["installed_eflops_min"].values.astype(float)
    sizes = np.abs(np.r_[eflops, floor])
    smallest = float(sizes[np.isfinite(sizes) & (sizes > 0)].min(initial=1.0))
    digits = int(np.clip(1 - np.floor(np.log10(smallest)), 1, 4))  # 2 significant digits of the smallest
    line("installed compute [EFLOPS]", eflops, f"{{:,.{digits}f}}", floor, upper=False)
    line("PUE", ds["pue"].values, "{:.3f}", ds["pue_max"].values)
    line("green share", ds["green_share"].values, "{:.1%}", ds["green_share_min"].values, upper=False)
    line("domestic share", ds["domestic_share"].values, "{:.1%}", ds["domestic_compute_share_min"].values, upper=False)
    em = ds["emissions_t"]
    for basis in em.coords["basis"].values if "basis" in em.dims else []:
        priced = " (priced)" if basis == em.attrs.get("priced_basis") else ""
        line(f"emissions, {basis}{priced} [kt CO2]", em.sel(basis=basis).values / 1000, "{:,.1f}")
    if "basis" not in em.dims:
        line("emissions [kt CO2]", em.values / 1000, "{:,.1f}")
    line("utilisation", ds["utilisation"].values, "{:.1%}")
    served, trained = served_shares(ds)
    line("inference served", served.values, "{:.1%}")
    line("training delivered", trained.values, "{:.1%}")
    if "lease_pflops" in ds and ds.sizes.get("hub", 0):  # the network flows
        for n in ds.hub.values:
            for name, verb in (("lease_pflops", "leased from"), ("sold_pflops", "sold to")):
                flow = ds[name].sel(hub=n).values
                if np.any(flow > 1e-6):
                    line(f"{verb} {n} [PFLOPS]", flow, "{:,.1f}")
        line("lease cost [M CNY]", ds["lease_cost_cny"].values / 1e6, "{:,.1f}")
        line("sale revenue [M CNY]", ds["sale_revenue_cny"].values / 1e6, "{:,.1f}")
    if "region" in ds.dims and ds.sizes["region"] > 1:  # each region's demand served
        demand = ds["inference_demand_tokens_per_s"] * ds["region_share"]
        served = (demand - ds["inference_unserved_by_region"]) * ds["day_weight"]
        share = served.sum(("day", "hour")) / (demand * ds["day_weight"]).sum(("day", "hour"))
        for r in ds.region.values:
            line(f"inference served in {r}", share.sel(region=r).values, "{:.1%}")
    line("annual cost [bn CNY]", ds["cost"].sum("component").values / 1e9, "{:,.3f}")
    if "capital_spent_cny" in ds:  # not in results written before the cash view
        line("capital spent [bn CNY]", ds["capital_spent_cny"].sum("asset").values / 1e9, "{:,.3f}")
    line("CNY per PFLOP-hour", ds["cost_per_pflop_hour"].values, "{:,.1f}")
    line("CNY per million tokens", ds["cost_per_million_tokens"].values, "{:,.2f}")
    console.print(kpi)


def _print_limits(ds: xr.Dataset, console: Console) -> None:
    """Each policy limit by year: binding (with its marginal cost) or its headroom, and its total cost.

    Which limits bind is :func:`planner.results.kpis.binding`; the texts are the report's
    (:mod:`planner.report.limits`).
    """
    years = [int(y) for y in ds.year.values]
    marks = badges(ds)
    shown = [lim for lim in LIMITS if any(marks[(lim.key, y)].state != "unset" for y in years)]
    if not shown:
        return
    table = _titled(
        console,
        "Policy limits: binding (and the marginal cost of one step tighter, CNY of NPV) or the headroom left",
    )
    table.add_column("limit")
    for y in years:
        table.add_column(str(y), justify="right")
    table.add_column("marginal cost per")
    for lim in shown:
        cells, step = [], ""
        for y in years:
            mark = marks[(lim.key, y)]
            price, method = _shadow_price(ds, lim.key, y)
            step = step or (step_text(method) if ";" in method else "")
            if mark.state == "binding":
                cells.append(f"[bold]binding[/] · {escape(marginal_text(price, '', True).replace(' (NPV)', ''))}")
            else:
                cells.append(escape(mark.text))
        table.add_row(escape(f"{lim.label} ({'≤' if lim.upper else '≥'})"), *cells, escape(step.removeprefix("per ")))
    console.print(table)
    binding_limits = [lim for lim in shown if any(marks[(lim.key, y)].state == "binding" for y in years)]
    _print_limit_costs(ds, binding_limits, console)


def _shadow_price(ds: xr.Dataset, key: str, year: int) -> tuple[float, str]:
    """(shadow price [CNY, NPV], method) of a limit in a year (NaN, "" when not priced)."""
    if "shadow_price" not in ds or key not in [str(v) for v in ds["limit"].values]:
        return float("nan"), ""
    price = float(ds["shadow_price"].sel(limit=key, year=year))
    method = str(ds["shadow_price_method"].sel(limit=key, year=year).values) if "shadow_price_method" in ds else ""
    return price, method


def _print_limit_costs(ds: xr.Dataset, binding_limits: list[Any], console: Console) -> None:
    """The total cost of each binding limit (``plan solve --limit-costs``), or how to get it."""
    if not binding_limits:
        return
    if not has_limit_costs(ds):
        console.print(f"{LIMIT_COSTS_HINT} (a re-solve per limit)")
        return
    how = str(ds["limit_cost_cny"].attrs.get("method", ""))
    console.print(f"total cost of each binding limit, CNY of NPV ({escape(how)}):")
    for lim in binding_limits:
        amount, interval = limit_cost_text(ds, lim.key)
        detail = f", {interval}" if interval else ""
        console.print(f"  limit cost {escape(lim.label)}: [bold]{escape(amount)}[/]{escape(detail)}")


def print_input_check(file: Path, check: InputCheck, console: Console, err: Console) -> bool:
    """``plan validate RESULTS``: the recorded inputs, their state now, and whether they still match.

    Warnings and the reason for a mismatch go to ``err``; returns whether the inputs match.
    """
    what = check.kind if check.kind in ("sweep", "hedge") else "plan"
    console.print(f"{escape(str(file))}: {what} made from {escape(check.source or '(no recorded file)')}")
    if check.overrides:
        console.print("  overrides: " + " ".join(f"--set {escape(o)}" for o in check.overrides))
    for f in check.files:
        state = {"same": "unchanged", "changed": "[bold red]changed[/]", "missing": "[bold red]missing[/]"}[f["state"]]
        console.print(f"  {f['role']:<9} {escape(f['path'])}: {state}")
    hashes = f"recorded {check.recorded_hash or '-'}, now {check.current_hash or '-'}"
    console.print(f"  input hash: {escape(hashes)}")
    options = ", ".join(f"{k}={v}" for k, v in check.solver_options.items()) or "(not recorded)"
    console.print(f"  solver options: {escape(options)}")
    versions = ", ".join(f"{k} {v}" for k, v in check.package_versions.items())
    console.print(f"  package versions: {escape(versions)}")
    differ = check.version_differences
    if differ:
        changes = ", ".join(f"{k} {old} -> {new}" for k, (old, new) in differ.items())
        err.print(
            f"[yellow]warning:[/] the installed versions differ from the ones the results were made with: "
            f"{escape(changes)}; solving again may give a different plan"
        )
    if not check.matches:
        err.print(f"[bold red]error:[/] {escape(check.mismatch)}")
        return False
    same = ""
    if check.changed_files:
        files = ", ".join(f["path"] for f in check.changed_files)
        same = f" ({files} changed in form only: the inputs resolve to the same)"
    console.print(f"[green]inputs match:[/] the results are what these inputs give{escape(same)}")
    return True
