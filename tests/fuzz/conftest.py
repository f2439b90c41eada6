"""The fuzz suite's own hooks: the large job runs only when asked for; a count of cases at the end."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the large job (marker ``fuzz``) unless ``-m`` selects it by name.

    ``addopts`` deselects it with ``-m "not fuzz"``, but any other ``-m`` given on the command line
    (``-m "not slow"``) replaces that; the large job must still not start by accident.
    """
    expression = config.getoption("markexpr") or ""
    if "fuzz" in expression and "not fuzz" not in expression:
        return
    skip = pytest.mark.skip(reason="the large fuzz job runs with -m fuzz (FUZZ_EXAMPLES=N sets its size)")
    for item in items:
        if item.get_closest_marker("fuzz") is not None:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many fuzz cases ran and how they ended."""
    from fuzz.fuzzkit import STATS

    if STATS.cases:
        terminalreporter.section("fuzz cases")
        for line in STATS.lines():
            terminalreporter.write_line(line)
