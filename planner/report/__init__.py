"""Self-contained interactive HTML reports of a plan and comparisons of two plans (DESIGN.md §5).

``figures`` holds pure functions ``Dataset -> plotly Figure``; ``html`` assembles and writes
the page from a Jinja2 template.
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
