"""HiGHS and what the planner does around it: the compiled model and outcome (``highs``), one solve
orchestrated (``solve``), the relaxation and rounding dive (``dive``), matrices patched for a sweep
case (``recompile``), policy limits priced (``prices``) and no plan explained (``diagnose``).
"""
