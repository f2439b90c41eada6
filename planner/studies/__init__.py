"""Many solves of one scenario family: sweeps (``sweep/``) and the full-year check of a plan (``full_year``)."""
