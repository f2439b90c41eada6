"""Hypothesis fuzzing of the whole ``plan`` CLI: every mutated input keeps the CLI's contract.

Two sizes of the same families of cases (:data:`fuzz.fuzzkit.FAMILIES`):

* the quick set (``test_quick``), about 170 cases (~40 s) in the default ``pytest`` run;
* the large job (``test_large``, marker ``fuzz``), ``FUZZ_EXAMPLES`` cases in all (default
  3000), run on its own by ``.ci/run``::

      FUZZ_EXAMPLES=3000 FUZZ_BUDGET_S=780 python3 -m pytest -q -m fuzz tests/fuzz

  ``FUZZ_BUDGET_S`` bounds its wall-clock time: each family gets its share of the budget (plus
  what earlier families left unused) and draws no further cases once that is spent; the count
  of cases run, and of those left out, is printed at the end.

Both are derandomised (the same cases on every run, so CI is reproducible); ``FUZZ_RANDOM=1``
draws fresh cases for exploring locally.
"""

from __future__ import annotations

import os
import time

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from fuzz.fuzzkit import FAMILIES, STATS, Case, examples, run

QUICK_TOTAL = 170
LARGE_TOTAL = int(os.environ.get("FUZZ_EXAMPLES", "3000"))
BUDGET_S = float(os.environ.get("FUZZ_BUDGET_S", "0")) or None

_SETTINGS = dict(
    deadline=None,
    database=None,
    derandomize=os.environ.get("FUZZ_RANDOM", "") in ("", "0"),
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)
_LARGE_START: list[float] = []


def _run_family(family: str, n: int, shrink: bool, deadline: float | None = None) -> None:
    strategy: st.SearchStrategy[Case] = FAMILIES[family][0]
    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if shrink else [])

    @settings(max_examples=n, phases=phases, **_SETTINGS)
    @given(strategy)
    def case_keeps_the_contract(case: Case) -> None:
        if deadline is not None and time.monotonic() > deadline:
            STATS.left_out += 1
            return
        run(case)

    case_keeps_the_contract()


def _large_deadline(family: str) -> float | None:
    """When ``family`` must stop drawing cases: its share of the budget, plus what earlier ones left."""
    if BUDGET_S is None:
        return None
    if not _LARGE_START:
        _LARGE_START.append(time.monotonic())
    names = list(FAMILIES)
    shares = [FAMILIES[f][1] for f in names]
    upto = sum(shares[: names.index(family) + 1]) / sum(shares)
    return _LARGE_START[0] + upto * BUDGET_S


@pytest.mark.parametrize("family", list(FAMILIES))
def test_quick(family: str) -> None:
    _run_family(family, examples(family, QUICK_TOTAL), shrink=True)


@pytest.mark.fuzz
@pytest.mark.parametrize("family", list(FAMILIES))
def test_large(family: str) -> None:
    _run_family(family, examples(family, LARGE_TOTAL), shrink=False, deadline=_large_deadline(family))
