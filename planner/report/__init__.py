"""Self-contained interactive HTML reports of a plan, of two plans compared, and of a sweep (DESIGN.md §5, §7).

``format`` (numbers, money, escaping), ``data`` (values read from a results Dataset), ``style``
(colours and layout), ``tables`` (rows and cards), ``figures/<theme>`` (pure ``Dataset -> Figure``
functions), ``compare`` (two plans), ``page`` (what every page shares), ``html`` (the plan report),
``sweep_tables`` and ``sweep`` (the sweep report), ``templates/`` (Jinja2).
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
