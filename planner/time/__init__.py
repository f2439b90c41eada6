"""Hourly data for the model: profiles, the TOU tariff, the cooling coefficient, representative days.

``profiles``, ``tariff``, ``cooling`` and ``days`` are pure functions of numpy / pandas data (plus
tsam); ``prepare`` is the one module that knows the Scenario and glues them into
:class:`planner.time.prepare.TimeData`. Nothing is re-exported here: the scenario loader imports
``planner.time.profiles`` and must not pull in ``prepare`` (which imports the scenario).
"""
