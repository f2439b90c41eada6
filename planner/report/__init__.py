"""Self-contained interactive HTML reports of a plan, of two plans compared, and of a sweep (DESIGN.md §5, §7).

``format`` (numbers, money, escaping), ``labels`` (display names), ``data`` (values read from a
results Dataset), ``style`` (colours and layout), ``tables``, ``cash``, ``limits``, ``energy``,
``inputs`` and ``scenario_inputs`` (rows and cards), ``figures/<theme>`` (pure ``Dataset -> Figure``
functions), ``compare`` (two plans), ``export`` (``plan export``), ``page`` (what every page
shares), ``html`` (the plan report), ``sweep_tables`` and ``sweep`` (the sweep report),
``terminal`` (rich summaries), ``templates/`` (Jinja2).

The pages show the cluster as a whole: their entry points (``render_report``, ``render_compare``,
the sweep's ``case_view``, ``export_tables``, ``print_plan``, ...) read a plan through
:func:`planner.results.sites.cluster_view`, its sites added up, and the figure and table functions
take that view (a Dataset without a ``site`` dim).
"""

from planner.report.html import (
    ReportInputError,
    load_results,
    render_compare,
    render_report,
    write_compare,
    write_report,
)

__all__ = ["ReportInputError", "load_results", "render_compare", "render_report", "write_compare", "write_report"]
