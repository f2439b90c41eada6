"""Figures of a plan, by theme: pure functions ``Dataset -> plotly Figure`` (DESIGN.md §4–§5).

``build`` (servers and facility), ``energy`` (PUE, emissions), ``dispatch`` (hourly dispatch of
the representative days), ``flows`` (annual energy balance and its Sankey), ``cost`` (cost, NPV,
shadow prices), ``cash`` (capital spent and cash flow), ``policy`` (limits), ``operation``
(utilisation, shortfall); the sweep's figures are in ``sweep`` (shared parts), ``sweep_grid`` and
``sweep_oat``. Nothing here reads or writes files. Labels use the Dataset's own vocabulary
(``year``, ``accelerator``, ``cooling``, ``day``, ``hour``) and axis titles carry the units from
each variable's ``attrs["units"]``.

This package re-exports the figures of one plan, the ones a plan report draws.
"""

from planner.report.figures.build import facility_figure, installed_figure, new_servers_figure
from planner.report.figures.cash import cash_figure
from planner.report.figures.cost import cost_figure, npv_figure, shadow_price_figure
from planner.report.figures.dispatch import day_labels, default_day, dispatch_days_figure, dispatch_figure
from planner.report.figures.energy import emissions_figure, pue_figure
from planner.report.figures.flows import energy_balance_figure, flows_figure
from planner.report.figures.operation import shortfall_figure, utilisation_figure
from planner.report.figures.policy import compliance_figure

__all__ = [
    "cash_figure",
    "compliance_figure",
    "cost_figure",
    "day_labels",
    "default_day",
    "dispatch_days_figure",
    "dispatch_figure",
    "emissions_figure",
    "energy_balance_figure",
    "facility_figure",
    "flows_figure",
    "installed_figure",
    "new_servers_figure",
    "npv_figure",
    "pue_figure",
    "shadow_price_figure",
    "shortfall_figure",
    "utilisation_figure",
]
