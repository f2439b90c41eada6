"""How a solve ended: the one vocabulary of solver statuses, shared by the solver, the results and the report.

A Dataset records it as text (``solver_status``, a sweep's ``status``); :class:`Status` is a ``str``
enum, so a status read back from a file compares equal to its member.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Status"]


class Status(StrEnum):
    """How a solve ended, in the planner's words (a ``str``: it compares and serialises as its value)."""

    OPTIMAL = "optimal"  #: solved to the requested gap
    TIME_LIMIT = "time_limit"  #: stopped at a limit (time, iterations, interrupt); may still hold a plan
    INFEASIBLE = "infeasible"  #: no plan satisfies every limit
    UNBOUNDED = "unbounded"  #: the objective can fall without end (a modelling error)
    ERROR = "error"  #: HiGHS failed or returned nothing usable
