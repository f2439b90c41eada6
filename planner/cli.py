"""The ``plan`` command: a thin click layer over the library.

Exit codes: 0 success; 1 no feasible plan (diagnosis printed); 2 bad input (every problem
with its YAML path). A user's mistake never ends in a Python traceback.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from planner.scenario import ScenarioError, load_scenario

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_INFEASIBLE, EXIT_BAD_INPUT = 0, 1, 2


def _console() -> Console:
    console = Console(highlight=False)
    if not console.is_terminal:  # pipes and CI logs: wide enough for the summary tables
        console = Console(highlight=False, width=150)
    return console


def _handle_errors(func: F) -> F:
    """Turn the planner's own errors into messages and exit codes."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ScenarioError as exc:
            err = Console(stderr=True, highlight=False, soft_wrap=True)
            err.print(
                f"[bold red]error:[/] {exc.source + ': ' if exc.source else ''}"
                f"{len(exc.problems)} problem{'s' if len(exc.problems) != 1 else ''} in the input"
            )
            for p in exc.problems:
                err.print(f"  [bold]{_escape(p.path) or '(file)'}[/]: {_escape(p.message)}")
            sys.exit(EXIT_BAD_INPUT)

    return wrapper  # type: ignore[return-value]


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


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
    """Check a scenario FILE (schema, cross-field rules, profiles) without solving it."""
    from planner.summary import print_validation

    scenario = load_scenario(file, overrides)
    print_validation(scenario, _console())


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
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Solver time limit [s] (default: the scenario's solver.time_limit_s).",
)
@click.option(
    "--mip-gap",
    type=click.FloatRange(min=0, max=1),
    default=None,
    help="Relative MIP gap to stop at (default: the scenario's solver.mip_gap).",
)
@click.option(
    "--export-model",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write the exact model handed to HiGHS as an MPS file.",
)
@click.option(
    "--shadow-prices/--no-shadow-prices",
    default=True,
    show_default=True,
    help="Price each policy limit (LP duals with integers fixed; re-solves for integer-only limits).",
)
@click.option("--log/--no-log", default=False, help="Show HiGHS's log.")
@_handle_errors
def solve(
    file: Path,
    overrides: Sequence[str],
    output: Path | None,
    time_limit: float | None,
    mip_gap: float | None,
    export_model: Path | None,
    shadow_prices: bool,
    log: bool,
) -> None:
    """Plan the scenario FILE at least cost; write results and print the plan."""
    from planner.pipeline import plan_scenario
    from planner.results import write_dataset
    from planner.solve import SolveOptions
    from planner.summary import print_plan

    console = _console()
    t0 = time.perf_counter()
    scenario = load_scenario(file, overrides)
    loaded = time.perf_counter() - t0
    options = SolveOptions.from_scenario(scenario, time_limit_s=time_limit, mip_gap=mip_gap, log=log)
    console.print(
        f"solving [bold]{_escape(scenario.name)}[/] (time limit {options.time_limit_s:g} s, "
        f"MIP gap {options.mip_gap:g}) ..."
    )
    run = plan_scenario(
        scenario, options, export_model=export_model, shadow_prices=shadow_prices, timings={"load": loaded}
    )
    if export_model is not None:
        console.print(f"model written to {_escape(str(export_model))}")
    if run.dataset is None:
        err = Console(stderr=True, highlight=False, soft_wrap=True)
        err.print(f"[bold red]no plan:[/] {_escape(run.outcome.termination)}")
        for line in run.outcome.diagnosis:
            err.print(_escape(line))
        sys.exit(EXIT_INFEASIBLE)
    out = output or Path("results") / f"{file.stem}.nc"
    write_dataset(run.dataset, out)
    print_plan(run.dataset, console)
    console.print(f"results written to {_escape(str(out))}")


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="plan")


if __name__ == "__main__":  # pragma: no cover
    main()
