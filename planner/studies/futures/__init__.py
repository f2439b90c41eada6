"""Plans that hold across futures (``plan hedge``, DESIGN.md §9): the hedged plan of a futures file, each
future's perfect-foresight plan, the mean-value plan, every plan carried into every future, and what
foresight and hedging are worth (EVPI, VSS). See :mod:`planner.studies.futures.run`.
"""

from planner.scenario.futures import DEFAULT_RESULTS_DIR
from planner.studies.futures.run import HedgeError, run_hedge

__all__ = ["DEFAULT_RESULTS_DIR", "HedgeError", "run_hedge"]
