"""The ``plan`` command: a thin click layer over the library.

Exit codes: 0 success; 1 no feasible plan (diagnosis printed); 2 bad input (every problem
with its YAML path). A user's mistake never ends in a Python traceback.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from pyomo.common.errors import InfeasibleConstraintException
from rich.console import Console
from rich.markup import escape

from planner import pipeline
from planner.report import ReportInputError, load_results, write_compare, write_report
from planner.report.alternatives import (
    alternative_plans,
    load_alternatives,
    print_alternatives,
    write_alternatives_report,
)
from planner.report.compare import compare_labels
from planner.report.compare_years import print_compare
from planner.report.export import FORMATS, ExportError, check_exportable, default_output, write_export
from planner.report.hedge import hedge_plans, load_hedge, print_hedge, write_hedge_report
from planner.report.inputs import input_differences
from planner.report.sweep import default_parts_dir, load_report_input, write_sweep_report
from planner.report.terminal import print_full_year, print_input_check, print_plan, print_validation
from planner.results.io import ResultsFileError, is_results_file, write_dataset
from planner.results.kpis import binding
from planner.results.metrics import METRICS
from planner.results.provenance import check_inputs, record_overrides
from planner.scenario import ScenarioError, load_scenario
from planner.scenario.futures import is_futures_data, load_futures, mean_value_overrides
from planner.scenario.loader import read_yaml
from planner.scenario.sweep import DEFAULT_RESULTS_DIR, load_sweep
from planner.studies import alternatives as alternatives_study
from planner.studies import futures as futures_study
from planner.studies import sweep as sweep_study
from planner.studies.full_year import operate_full_year
from planner.studies.limit_costs import add_limit_costs
from planner.studies.limit_costs import limit_costs as study_limit_costs

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_INFEASIBLE, EXIT_BAD_INPUT = 0, 1, 2


def _console() -> Console:
    console = Console(highlight=False)
    if not console.is_terminal:  # pipes and CI logs: wide enough for the summary tables
        console = Console(highlight=False, width=150)
    return console


def _err() -> Console:
    """The console of errors and progress (stderr), so stdout carries only what a command prints."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _handle_errors(func: F) -> F:
    """Turn the planner's own errors into messages and exit codes."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ScenarioError as exc:
            err = _err()
            err.print(
                f"[bold red]error:[/] {exc.source + ': ' if exc.source else ''}"
                f"{len(exc.problems)} problem{'s' if len(exc.problems) != 1 else ''} in the input"
            )
            for p in exc.problems:
                err.print(f"  [bold]{_escape(p.path) or '(file)'}[/]: {_escape(p.message)}")
            sys.exit(EXIT_BAD_INPUT)
        except OSError as exc:  # an output path that cannot be written (a folder, no permission, disk full)
            err = _err()
            where = exc.filename2 or exc.filename
            message = f"{where}: {exc.strerror or exc}" if where else str(exc)
            err.print(f"[bold red]error:[/] {_escape(message)}")
            sys.exit(EXIT_BAD_INPUT)

    return wrapper  # type: ignore[return-value]


def _escape(text: str) -> str:
    return escape(text)


class _FiniteRange(click.FloatRange):
    """A float range that also refuses NaN (which slips through a range check): a limit always applies."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        rv = super().convert(value, param, ctx)
        if rv != rv:
            self.fail(f"{value!r} is not a number.", param, ctx)
        return rv


def _backend_options(runs: str) -> Callable[[F], F]:
    """``--workers N`` (local processes) or ``--scheduler ADDRESS`` (an existing Dask cluster) to run ``runs`` on."""

    def wrap(f: F) -> F:
        f = click.option(
            "--scheduler", metavar="ADDRESS", default=None, help=f"Run {runs} on an existing Dask cluster instead."
        )(f)
        return click.option(
            "--workers", type=click.IntRange(min=1), default=None, help="Local worker processes [default: all cores]."
        )(f)

    return wrap


def _one_backend(workers: int | None, scheduler: str | None) -> None:
    """Refuse ``--workers`` and ``--scheduler`` together (a usage error, exit code 2)."""
    if workers is not None and scheduler is not None:
        raise click.UsageError("give --workers or --scheduler, not both")


def _study_output(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """A study's combined results file: it must have a suffix, since its solves are kept in the folder
    of the same name without it (``results/futures/<name>.nc`` and ``<name>/``). Without one, the two
    would be one path and the command would fail only when it writes, after every solve.
    """
    if value is not None and not value.suffix:
        raise click.BadParameter(
            f"{value} has no suffix: give a file such as {value}.nc (its solves are kept in the folder {value}/)"
        )
    return value


#: Solver time limits [s]: finite, > 0 and at most a week, as ``solver.time_limit_s`` in a scenario.
TIME_LIMIT = _FiniteRange(min=0, min_open=True, max=7 * 86400)


set_option = click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY.PATH=VALUE",
    help="Override a scenario value, e.g. --set policy.pue_max=1.2 (repeatable; validated like the file).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tianfu-planner", prog_name="plan")
def cli() -> None:
    """Plan the build-out of an AI data-center cluster at least cost under policy limits."""


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@set_option
@_handle_errors
def validate(file: Path, overrides: Sequence[str]) -> None:
    """Check a scenario FILE (schema, cross-field rules, profiles) without solving it.

    Given a sweep file (``base`` plus ``grid`` or ``one_at_a_time``), check the sweep and every
    one of its cases the same way.

    Given a results file instead (netCDF: a plan, a sweep case or a combined sweep, recognised by
    its suffix or its first bytes), check that it still matches its inputs: every recorded input
    file (scenario, the files it extends, the profile CSV, a sweep's file) is hashed again and a
    plan's scenario is loaded again with its recorded --set overrides. Prints the recorded solver
    options and package versions (with a warning where the installed ones differ). Exit 0 when the
    inputs match; exit 2 when they changed, are missing, no longer load, or were not recorded.
    """
    if is_results_file(file):
        if overrides:
            raise click.UsageError("--set applies to a scenario file, not to a results file")
        _validate_results(file)
        return

    if _is_sweep_file(file):
        if overrides:
            raise click.UsageError("--set applies to a scenario file; a sweep file sets its own values")
        _validate_sweep(file)
        return
    if _is_futures_file(file):
        if overrides:
            raise click.UsageError("--set applies to a scenario file; a futures file sets its own values")
        _validate_futures(file)
        return
    check = pipeline.check_scenario(load_scenario(file, overrides))
    print_validation(check.scenario, check.time, check.model_size, _console())


def _is_sweep_file(file: Path) -> bool:
    """A YAML file with a top-level ``base`` and ``grid`` or ``one_at_a_time``: a sweep, not a scenario."""
    try:
        data = read_yaml(file)
    except ScenarioError:  # the scenario path reports it
        return False
    return "base" in data and ("grid" in data or "one_at_a_time" in data)


def _is_futures_file(file: Path) -> bool:
    """A YAML file with a top-level ``base`` and ``futures``: a futures file (``plan hedge``)."""
    try:
        data = read_yaml(file)
    except ScenarioError:  # the scenario path reports it
        return False
    return is_futures_data(data)


def _validate_futures(file: Path) -> None:
    """``plan validate FUTURES``: every future loads and validates, and so does the mean-value future."""
    spec = load_futures(file)
    _, notes = mean_value_overrides(spec)
    _console().print(
        f"futures [bold]{_escape(spec.name)}[/]: {len(spec.futures)} futures over {_escape(str(spec.base))}, "
        f"decided now to {spec.commit_until}"
        + (" (hedged by progressive hedging on mpi-sppy)" if spec.method == "ph" else "")
        + ", every one valid; nothing solved"
    )
    for note in notes:
        _console().print(f"  mean-value future: {_escape(note)}")


def _validate_sweep(file: Path) -> None:
    """``plan validate SWEEP``: every case loads and validates (nothing is solved)."""
    spec = load_sweep(file)
    cases = sweep_study.expand(spec)
    structures: dict[str, str] = {}
    sweep_study.validate_cases(spec, cases, structures=structures)
    _console().print(
        f"sweep [bold]{_escape(spec.name)}[/]: {len(cases)} cases over {_escape(str(spec.base))}, "
        f"every one valid ({len(set(structures.values()))} model structure(s)); nothing solved"
    )


def _validate_results(file: Path) -> None:
    """``plan validate RESULTS``: do the results still match their inputs? (exit 0 yes, 2 no)."""
    err = _err()
    try:
        check = check_inputs(file)
    except ResultsFileError as exc:
        err.print(f"[bold red]error:[/] {_escape(str(exc))}")
        sys.exit(EXIT_BAD_INPUT)
    if not print_input_check(file, check, _console(), err):
        sys.exit(EXIT_BAD_INPUT)


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@set_option
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Results file (netCDF). Default: results/<FILE stem>.nc",
)
@click.option(
    "--time-limit",
    type=TIME_LIMIT,
    default=None,
    help="Solver time limit [s] (default: the scenario's solver.time_limit_s).",
)
@click.option(
    "--mip-gap",
    type=_FiniteRange(min=0, max=1),
    default=None,
    help="Relative MIP gap to stop at (default: the scenario's solver.mip_gap).",
)
@click.option(
    "--export-model",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write the exact model handed to HiGHS as an MPS file (objective in 10 kCNY: MCNY x 100).",
)
@click.option(
    "--shadow-prices/--no-shadow-prices",
    default=True,
    show_default=True,
    help="Price each policy limit (duals of one LP: lumpy builds fixed at the plan, servers and racks continuous).",
)
@click.option(
    "--limit-costs/--no-limit-costs",
    default=False,
    show_default=True,
    help="Then the total cost of each binding policy limit: one re-solve per limit with it relaxed in every "
    "year (the built model re-used), NPV(plan) - NPV(relaxed) with an interval from the two MIP bounds.",
)
@click.option("--log/--no-log", default=False, help="Show HiGHS's log.")
@click.option(
    "--full-year-check/--no-full-year-check",
    default=False,
    show_default=True,
    help="Then operate the plan over every hour of each year (decisions fixed, one LP per year), "
    "compare it with the representative days and write results/<stem>.full-year.nc. Minutes and "
    "several GB for the default.",
)
@click.option(
    "--report/--no-report",
    default=True,
    show_default=True,
    help="Also draw the HTML report of the plan.",
)
@click.option(
    "-r",
    "--report-file",
    type=click.Path(path_type=Path),
    default=None,
    help="HTML report file. Default: reports/<results stem>.html",
)
@_handle_errors
def solve(
    file: Path,
    overrides: Sequence[str],
    output: Path | None,
    time_limit: float | None,
    mip_gap: float | None,
    export_model: Path | None,
    shadow_prices: bool,
    limit_costs: bool,
    log: bool,
    full_year_check: bool,
    report: bool,
    report_file: Path | None,
) -> None:
    """Plan the scenario FILE at least cost; write results and print the plan."""
    console = _console()
    t0 = time.perf_counter()
    scenario = load_scenario(file, overrides)
    loaded = time.perf_counter() - t0
    options = pipeline.solve_options(scenario, time_limit_s=time_limit, mip_gap=mip_gap, log=log)
    console.print(
        f"solving [bold]{_escape(scenario.name)}[/] (time limit {options.time_limit_s:g} s, "
        f"MIP gap {options.mip_gap:g}) ..."
    )
    cache = pipeline.ModelCache() if limit_costs else None  # the re-solves re-use the plan's model
    run = pipeline.plan_scenario(
        scenario, options, export_model=export_model, shadow_prices=shadow_prices, timings={"load": loaded}, cache=cache
    )
    if export_model is not None:
        console.print(f"model written to {_escape(str(export_model))}")
    if run.dataset is None:
        err = _err()
        err.print(f"[bold red]no plan:[/] {_escape(run.outcome.termination)}")
        for line in run.outcome.diagnosis:
            err.print(_escape(line))
        sys.exit(EXIT_INFEASIBLE)
    if limit_costs:
        _limit_costs(run, options, cache, console)
    out = output or Path("results") / f"{file.stem}.nc"
    record_overrides(run.dataset, overrides)
    write_dataset(run.dataset, out)
    print_plan(run.dataset, console)
    console.print(f"results written to {_escape(str(out))}")
    if report:
        html = write_report(run.dataset, report_file or Path("reports") / f"{out.stem}.html", source=str(out))
        console.print(f"report written to {_escape(str(html))}")
    if full_year_check:
        _full_year_check(run, options, out, overrides, console)


def _limit_costs(run: Any, options: Any, cache: Any, console: Console) -> None:
    """``plan solve --limit-costs``: re-solve once per binding limit, relaxed (planner.studies.limit_costs)."""
    todo = [str(k) for k, b in binding(run.dataset).any("year").to_series().items() if b]
    if not todo:
        console.print("no policy limit binds: no limit costs to compute")
        return
    console.print(f"costing {len(todo)} binding limit(s) ({_escape(', '.join(todo))}): one re-solve each, relaxed ...")
    add_limit_costs(run.dataset, study_limit_costs(run, options, cache))


def _full_year_check(run: Any, options: Any, out: Path, overrides: Sequence[str], console: Console) -> None:
    """``plan solve --full-year-check``: the plan operated over every hour (planner.studies.full_year)."""
    console.print("operating the plan over every hour of each year (decisions fixed) ...")
    t0 = time.perf_counter()
    try:
        operation = operate_full_year(run, options)
    except (InfeasibleConstraintException, RuntimeError) as exc:  # the plan is saved; say why the check failed
        _err().print(
            f"[bold red]full-year check failed:[/] {_escape(str(exc))} (the plan is saved in {_escape(str(out))})"
        )
        sys.exit(EXIT_INFEASIBLE)
    failed = [y for y in operation.years if y.status != pipeline.Status.OPTIMAL]
    if operation.dataset is None or failed:
        err = _err()
        for y in failed:
            err.print(f"[bold red]full-year check:[/] {y.year}: {_escape(y.status)} (after {y.seconds:.0f} s)")
        sys.exit(EXIT_INFEASIBLE)
    relaxed = {y.year: y.relaxed for y in operation.years if y.relaxed}
    print_full_year(run.dataset, operation.dataset, relaxed, console)
    full = out.with_name(f"{out.stem}.full-year.nc")
    record_overrides(operation.dataset, overrides)
    write_dataset(operation.dataset, full)
    stages = ", ".join(f"{k} {v:.1f}" for k, v in operation.timings.items())
    console.print(f"full-year operation written to {_escape(str(full))} ({time.perf_counter() - t0:.0f} s: {stages} s)")


@cli.command("report")
@click.argument("results", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="HTML file. Default: reports/<RESULTS stem>.html (a sweep: reports/sweeps/<name>.html)",
)
@click.option(
    "--case-reports/--no-case-reports",
    default=True,
    show_default=True,
    help="For a sweep: also draw each case's own report, linked from the sweep report.",
)
@_handle_errors
def report_command(results: Path, output: Path | None, case_reports: bool) -> None:
    """(Re)draw the HTML report of a saved plan RESULTS (netCDF), or of a sweep's combined results."""
    hedge = load_hedge(results) if results.is_file() else None
    if hedge is not None:
        _write_hedge_report(hedge, output, source=results, console=_console())
        return
    alternatives = load_alternatives(results) if results.is_file() else None
    if alternatives is not None:
        _write_alternatives_report(alternatives, output, source=results, console=_console())
        return
    try:
        ds, is_sweep = load_report_input(results)
    except ReportInputError as exc:
        _err().print(f"[bold red]error:[/] {_escape(str(exc))}")
        sys.exit(EXIT_BAD_INPUT)
    if is_sweep:
        _write_sweep_report(ds, output, case_reports, source=results, console=_console())
        return
    out = write_report(ds, output or Path("reports") / f"{results.stem}.html", source=str(results))
    _console().print(f"report written to {_escape(str(out))}")


def _write_sweep_report(
    ds: Any, output: Path | None, case_reports: bool, source: Path, console: Console, parts: Path | None = None
) -> None:
    """Draw a sweep's report (default ``reports/sweeps/<name>.html``) and its per-case reports beside it."""
    path = output or Path("reports") / "sweeps" / f"{ds.attrs.get('sweep_name', source.stem)}.html"
    t0 = time.perf_counter()
    html, written = write_sweep_report(
        ds, path, parts=parts or default_parts_dir(ds, source), case_reports=case_reports, source=str(source)
    )
    cases = f" and {len(written)} case reports in {_escape(str(html.parent / html.stem))}/" if written else ""
    console.print(f"sweep report written to {_escape(str(html))}{cases} ({time.perf_counter() - t0:.1f} s)")


@cli.command("compare")
@click.argument("a", type=click.Path(path_type=Path))
@click.argument("b", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="HTML file. Default: reports/compare_<A stem>_<B stem>.html",
)
@_handle_errors
def compare_command(a: Path, b: Path, output: Path | None) -> None:
    """Compare two saved plans A and B side by side (differences are B − A)."""
    try:
        plans = [load_results(a), load_results(b)]
    except ReportInputError as exc:
        _err().print(f"[bold red]error:[/] {_escape(str(exc))}")
        sys.exit(EXIT_BAD_INPUT)
    (a_ds, b_ds), sources, console = plans, (str(a), str(b)), _console()
    print_compare(a_ds, b_ds, compare_labels(a_ds, b_ds, sources), input_differences(a_ds, b_ds), console)
    out = write_compare(a_ds, b_ds, output or Path("reports") / f"compare_{a.stem}_{b.stem}.html", sources)
    console.print(f"comparison written to {_escape(str(out))}")


@cli.command("export")
@click.argument("results", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="xlsx",
    show_default=True,
    help="xlsx: one workbook; csv: a folder with one CSV file per sheet.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Workbook or folder. Default: reports/<RESULTS stem>.xlsx (csv: reports/<RESULTS stem>-export/)",
)
@_handle_errors
def export_command(results: Path, fmt: str, output: Path | None) -> None:
    """Write a saved plan RESULTS as tables to take away: about, builds, costs, cash, policy, KPIs, hourly dispatch.

    Every header carries its unit; the file (or folder) is written atomically.
    """
    try:
        ds, is_sweep = load_report_input(results)
        check_exportable(ds, results, is_sweep)
        out = write_export(ds, output or default_output(results, fmt), fmt, source=str(results))
    except (ReportInputError, ExportError) as exc:
        _err().print(f"[bold red]error:[/] {_escape(str(exc))}")
        sys.exit(EXIT_BAD_INPUT)
    _console().print(f"{fmt} export written to {_escape(str(out))}")


@cli.command("sweep")
@click.argument("file", type=click.Path(path_type=Path))
@_backend_options("the cases")
@click.option(
    "--time-limit",
    type=TIME_LIMIT,
    default=None,
    help="Solver time limit per case [s] (default: the sweep's solver block, else the scenario's).",
)
@click.option(
    "--resume/--no-resume",
    default=True,
    show_default=True,
    help="Keep the cases already saved for the same inputs and solve only the others.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Combined results (netCDF). Default: results/sweeps/<name>.nc",
)
@click.option(
    "--report/--no-report",
    default=True,
    show_default=True,
    help="Also draw the sweep's HTML report.",
)
@click.option(
    "-r",
    "--report-file",
    type=click.Path(path_type=Path),
    default=None,
    help="HTML report file. Default: reports/sweeps/<name>.html (case reports in reports/sweeps/<name>/)",
)
@click.option(
    "--case-reports/--no-case-reports",
    default=True,
    show_default=True,
    help="Also draw each case's own report next to the sweep report (skip for big sweeps).",
)
@_handle_errors
def sweep_command(
    file: Path,
    workers: int | None,
    scheduler: str | None,
    time_limit: float | None,
    resume: bool,
    output: Path | None,
    report: bool,
    report_file: Path | None,
    case_reports: bool,
) -> None:
    """Solve every case of the sweep FILE, save each one as it finishes, and stack them into one file."""
    _one_backend(workers, scheduler)
    spec = load_sweep(file)
    out = output or DEFAULT_RESULTS_DIR / f"{spec.name}.nc"
    err = _err()
    with _run_as_study(err, (sweep_study.SweepError,), "the worker processes were stopped too"):
        ds = sweep_study.run_sweep(
            spec,
            workers=workers,
            scheduler=scheduler,
            time_limit=time_limit,
            resume=resume,
            output=out,
            console=err,
        )
    console = _console()
    sweep_study.print_summary(ds, console)
    console.print(
        f"results written to {_escape(str(out))} (each case in {_escape(str(DEFAULT_RESULTS_DIR / spec.name))})"
    )
    if report:
        path = report_file or Path("reports") / "sweeps" / f"{spec.name}.html"
        _write_sweep_report(ds, path, case_reports, source=out, console=console, parts=DEFAULT_RESULTS_DIR / spec.name)
    if ds.attrs["sweep_cases_without_plan"] == ds.attrs["sweep_cases"]:
        sys.exit(EXIT_INFEASIBLE)


@cli.command("alternatives")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--slack",
    type=_FiniteRange(min=0, min_open=True, max=1),
    default=0.02,
    show_default=True,
    help="Every alternative's NPV is at most (1 + SLACK) times the least cost (0.02 = 2 %).",
)
@click.option(
    "--metric",
    "metrics",
    multiple=True,
    metavar="NAME",
    help=f"A metric to minimise and maximise (repeatable) [default: {', '.join(alternatives_study.DEFAULT_METRICS)}]; "
    f"one of {', '.join(METRICS)}.",
)
@click.option(
    "--random",
    "n_random",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Random directions over the build decisions, each away from what earlier alternatives built.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random directions.")
@set_option
@_backend_options("the alternatives")
@click.option("--time-limit", type=TIME_LIMIT, default=None, help="Solver time limit per solve [s].")
@click.option("--mip-gap", type=_FiniteRange(min=0, max=1), default=None, help="Relative MIP gap per solve [-].")
@click.option(
    "--resume/--no-resume", default=True, show_default=True, help="Keep alternatives saved for the same inputs."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    callback=_study_output,
    help="Combined results (netCDF). Default: results/alternatives/<FILE stem>.nc (plans in its folder <stem>/)",
)
@click.option("--report/--no-report", default=True, show_default=True, help="Also draw the alternatives page.")
@_handle_errors
def alternatives_command(
    file: Path,
    slack: float,
    metrics: Sequence[str],
    n_random: int,
    seed: int,
    overrides: Sequence[str],
    workers: int | None,
    scheduler: str | None,
    time_limit: float | None,
    mip_gap: float | None,
    resume: bool,
    output: Path | None,
    report: bool,
) -> None:
    """The plans within SLACK of the least cost of scenario FILE that go furthest in each direction (DESIGN §10)."""
    _one_backend(workers, scheduler)
    err = _err()
    out = output or alternatives_study.DEFAULT_RESULTS_DIR / f"{file.stem}.nc"
    with _run_as_study(
        err, (alternatives_study.AlternativesError, sweep_study.SweepError), "the alternatives saved so far are kept"
    ):
        ds = alternatives_study.run_alternatives(
            file,
            slack=slack,
            metrics=list(metrics) or list(alternatives_study.DEFAULT_METRICS),
            n_random=n_random,
            overrides=list(overrides),
            seed=seed,
            workers=workers,
            scheduler=scheduler,
            time_limit=time_limit,
            mip_gap=mip_gap,
            resume=resume,
            results_dir=out.parent,
            output=out,
            console=err,
        )
    console = _console()
    print_alternatives(ds, console)
    console.print(f"results written to {_escape(str(out))} (each plan in {_escape(str(out.parent / out.stem))}/)")
    if report:
        _write_alternatives_report(ds, None, source=out, console=console)


def _write_alternatives_report(ds: Any, output: Path | None, source: Path, console: Console) -> None:
    """The alternatives page (default ``reports/alternatives/<name>.html``) and each plan's report beside it."""
    path = output or Path("reports") / "alternatives" / f"{source.stem}.html"
    html, written = write_alternatives_report(
        ds, path, alternative_plans(ds, source.parent / source.stem), source=str(source)
    )
    console.print(f"alternatives page written to {_escape(str(html))} and {len(written)} plan reports beside it")


@cli.command("hedge")
@click.argument("file", type=click.Path(path_type=Path))
@_backend_options("the single-future solves")
@click.option("--time-limit", type=TIME_LIMIT, default=None, help="Solver time limit per solve [s].")
@click.option("--mip-gap", type=_FiniteRange(min=0, max=1), default=None, help="Relative MIP gap per solve [-].")
@click.option("--resume/--no-resume", default=True, show_default=True, help="Keep solves saved for the same inputs.")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    callback=_study_output,
    help="Combined results (netCDF). Default: results/futures/<name>.nc (each solve in its folder <name>/)",
)
@click.option("--report/--no-report", default=True, show_default=True, help="Also draw the hedge page.")
@_handle_errors
def hedge_command(
    file: Path,
    workers: int | None,
    scheduler: str | None,
    time_limit: float | None,
    mip_gap: float | None,
    resume: bool,
    output: Path | None,
    report: bool,
) -> None:
    """A plan that holds across the futures of FILE: the hedged plan, each future alone, regret, EVPI, VSS.

    DESIGN.md §9. Exit codes as ``plan solve``: 1 when the futures have no common plan, 2 for a bad file.
    """
    _one_backend(workers, scheduler)
    err = _err()
    with _run_as_study(err, (futures_study.HedgeError, sweep_study.SweepError), "the solves saved so far are kept"):
        ds = futures_study.run_hedge(
            file,
            workers=workers,
            scheduler=scheduler,
            time_limit=time_limit,
            mip_gap=mip_gap,
            resume=resume,
            results_dir=output.parent if output is not None else futures_study.DEFAULT_RESULTS_DIR,
            output=output,
            console=err,
        )
    out = output or futures_study.DEFAULT_RESULTS_DIR / f"{ds.attrs['futures_name']}.nc"
    console = _console()
    print_hedge(ds, console)
    console.print(f"results written to {_escape(str(out))} (each solve in {_escape(str(out.parent / out.stem))}/)")
    if report:
        _write_hedge_report(ds, None, source=out, console=console)


def _write_hedge_report(ds: Any, output: Path | None, source: Path, console: Console) -> None:
    """The hedge page (default ``reports/futures/<name>.html``) and the hedged plan's report in each future
    beside it.
    """
    path = output or Path("reports") / "futures" / f"{source.stem}.html"
    html, written = write_hedge_report(ds, path, hedge_plans(ds, source.parent / source.stem), source=str(source))
    console.print(f"hedge page written to {_escape(str(html))} and {len(written)} plan reports beside it")


class _Terminated(KeyboardInterrupt):
    """SIGTERM, unwinding like Ctrl-C."""


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Let SIGTERM (``kill``, a batch scheduler's stop) unwind like Ctrl-C.

    By default SIGTERM ends the process on the spot, and a sweep's worker processes, each in the
    middle of a case, solve on for minutes with nobody to save their result. Raised as an
    interrupt, it runs the sweep's own cleanup: stop the workers, keep the cases already saved.
    """
    if threading.current_thread() is not threading.main_thread():  # signals go to the main thread only
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _run_as_study(err: Console, errors: tuple[type[Exception], ...], kept: str) -> Iterator[None]:
    """Run a study (sweep, alternatives, hedge): SIGTERM unwinds like Ctrl-C; a study's own error
    (``errors``) is said on stderr with exit 1, a stop with what is ``kept`` and exit 128 + the signal
    (the conventional status, not click's "Aborted!" and 1).
    """
    try:
        with _terminate_as_interrupt():
            yield
    except errors as exc:
        err.print(f"[bold red]error:[/] {_escape(str(exc))}")
        sys.exit(EXIT_INFEASIBLE)
    except _Terminated:
        err.print(f"stopped (SIGTERM); {kept}")
        sys.exit(128 + signal.SIGTERM)
    except KeyboardInterrupt:
        err.print(f"stopped (Ctrl-C); {kept}")
        sys.exit(128 + signal.SIGINT)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="plan")


if __name__ == "__main__":  # pragma: no cover
    main()
