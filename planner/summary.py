"""Terminal summaries (rich) of a validated scenario; the CLI calls these, nothing else prints."""

from __future__ import annotations

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from planner.scenario import Scenario, scenario_files
from planner.timeseries import TimeData, prepare_time

__all__ = ["print_validation"]


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "-"
    return f"{value:,.{digits}g}" if abs(value) < 1e3 else f"{value:,.0f}"


def print_validation(scenario: Scenario, console: Console) -> TimeData:
    """Print what a planner should see before solving: horizon, fleet options, time reduction."""
    s = scenario
    console.print(f"[bold green]valid[/] scenario [bold]{escape(s.name)}[/] — years {s.years[0]}–{s.years[-1]}")
    files = scenario_files(s)
    if len(files) > 1:
        console.print("merged from: " + " <- ".join(escape(str(f)) for f in files))
    console.print(f"profiles: {escape(str(s.time.profiles))}")

    servers = Table(title="Server types", title_justify="left")
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
            escape(", ".join(a.cooling)),
        )
    console.print(servers)

    time = prepare_time(s)
    cooling = Table(title="Cooling technologies", title_justify="left")
    for col in ("name", "kW/rack", "basis", "free below [°C]", "κ annual", "κ max", "PUE (κ + aux)"):
        cooling.add_column(col, justify="left" if col in ("name", "basis") else "right")
    w = time.weight[:, None]
    for name, c in s.cooling.items():
        k = time.kappa[name]
        annual = float((w * k).sum() / (w.sum() * 24))
        cooling.add_row(
            escape(name), _fmt(c.rack_kw_max), c.basis, _fmt(c.free_cooling_below_c), f"{annual:.3f}",
            f"{k.max():.3f}", f"{1 + annual + s.facility.aux_loss_fraction:.3f}",
        )
    console.print(cooling)

    policy = Table(title="Policy limits by year", title_justify="left")
    policy.add_column("limit")
    for y in s.years:
        policy.add_column(str(y), justify="right")
    for field in type(s.policy).model_fields:
        series = getattr(s.policy, field)
        if series is not None:
            policy.add_row(field, *[_fmt(v) for v in series.values(s.years)])
    demand = s.demand
    policy.add_row("training [1e24 FLOP]", *[_fmt(v * 1e18 / 1e24) for v in demand.training.flop.values(s.years)])
    policy.add_row(
        "inference peak [M tokens/s]", *[_fmt(v / 1e6) for v in demand.inference.peak_tokens_per_s.values(s.years)]
    )
    console.print(policy)

    days = Table(title=f"Representative days ({time.days.method}, {time.n_days} days)", title_justify="left")
    for col in ("day", "date", "weight [days]", "mean °C", "max WB °C", "extreme"):
        days.add_column(col, justify="right")
    extremes = {v: k for k, v in time.days.extremes.items()}
    for i in range(time.n_days):
        date = np.datetime64("2026-01-01") + np.timedelta64(int(time.days.day_of_year[i]), "D")
        days.add_row(
            str(i), str(date)[5:], f"{time.weight[i]:g}", f"{time.dry_bulb_c[i].mean():.1f}",
            f"{time.wet_bulb_c[i].max():.1f}", escape(extremes.get(i, "")),
        )
    if time.n_days <= 60:
        console.print(days)
    console.print(f"weights sum to {time.weight.sum():g} days")

    err = Table(title="Aggregation error (representative days vs the full year)", title_justify="left")
    for col in ("column", "annual mean", "represented", "error %", "NRMSE %", "max actual/repr."):
        err.add_column(col, justify="left" if col == "column" else "right")
    for column, row in time.aggregation_error.iterrows():
        err.add_row(
            escape(str(column)), _fmt(row["annual_mean"]), _fmt(row["represented_mean"]),
            f"{row['mean_error_pct']:+.2f}", f"{row['nrmse_pct']:.1f}",
            f"{_fmt(row['actual_max'])}/{_fmt(row['represented_max'])}",
        )
    console.print(err)
    if time.mean_correction:
        fixes = ", ".join(f"{escape(c)} ×{f:.3f}" for c, f in time.mean_correction.items())
        console.print(f"annual means restored after day selection: {fixes}")
    return time
