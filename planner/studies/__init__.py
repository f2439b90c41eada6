"""Many solves of one scenario family: sweeps (``sweep/``), the full-year check of a plan (``full_year``) and the
total cost of its binding policy limits (``limit_costs``).
"""
