"""Tianfu planner: least-cost build-out of AI data-center clusters.

The pipeline runs one way: YAML -> :class:`planner.scenario.Scenario` -> Pyomo model ->
HiGHS solve -> ``xarray.Dataset`` -> report / sweep.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tianfu-planner")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
