"""Turn numbers and user text into what a report shows: money, shares, counts, labels and escaped text.

Every number on a page goes through one of these functions, so that a value reads the same in a
card, a table, a hover text and a chart title; ``–`` stands for a missing value everywhere. Money
is shown in CNY, k CNY, M CNY or bn CNY, picked from the size of the numbers (:func:`money_scale`).

Escaping has two helpers, one per context: :func:`plain` makes user text literal in HTML (plotly
labels, which render a little HTML, and the fragments built for the templates) and
:func:`script_json` makes a JSON document safe inside a ``<script>`` element.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
from markupsafe import Markup

__all__ = [
    "MISSING",
    "fmt_money_cell",
    "as_float",
    "breakable",
    "coord_text",
    "decimals",
    "finite",
    "fmt_compute",
    "fmt_fixed",
    "fmt_limit_value",
    "fmt_money",
    "fmt_mw",
    "fmt_num",
    "fmt_share",
    "fmt_signed_money",
    "fmt_small_share",
    "gist",
    "label",
    "money_scale",
    "numbers",
    "plain",
    "script_json",
    "value_label",
]

MISSING = "–"
"""What a missing value (NaN, None, not a number) is shown as."""


# ====================================================================== numbers


def finite(x: Any) -> bool:
    """Whether ``x`` is a finite number (False for None, text and NaN)."""
    try:
        return bool(np.isfinite(float(x)))
    except (TypeError, ValueError):
        return False


def as_float(x: Any) -> float:
    """A plain float (NaN for missing)."""
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


def numbers(values: Any, digits: int = 6) -> list[float | None]:
    """Plain JSON-friendly numbers (None for NaN), rounded to keep the page small."""
    out: list[float | None] = []
    for v in np.asarray(values, dtype=float).ravel():
        out.append(None if not np.isfinite(v) else float(np.round(v, digits)))
    return out


def decimals(values: np.ndarray, significant: int = 3, most: int = 4) -> int:
    """Decimals that tell neighbouring values apart: ``significant`` digits of their spread."""
    finite_values = values[np.isfinite(values)]
    if not finite_values.size:
        return 0
    spread = float(finite_values.max() - finite_values.min())
    peak = float(np.abs(finite_values).max())
    ref = spread if spread > 1e-9 * max(peak, 1e-300) else peak
    if ref <= 0:
        return 0
    return int(np.clip(significant - 1 - math.floor(math.log10(ref)), 0, most))


def fmt_fixed(value: float, spec: str) -> str:
    """``value`` in the format ``spec`` (``".3f"``, ``".2%"``), ``–`` when missing."""
    return format(value, spec) if finite(value) else MISSING


def fmt_num(value: float, digits: int = 3) -> str:
    """Compact number: 3 significant digits below 1,000, thousands separators above."""
    if not finite(value):
        return MISSING
    value = float(value)
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.{digits}g}"


# ====================================================================== money


def money_scale(values: Any) -> tuple[float, str]:
    """Divisor and unit label for CNY amounts of the size of ``values``."""
    arr = np.abs(np.asarray(values, dtype=float))
    peak = float(np.nanmax(arr)) if arr.size and np.isfinite(arr).any() else 0.0
    if peak >= 1e9:
        return 1e9, "bn CNY"
    if peak >= 1e6:
        return 1e6, "M CNY"
    if peak >= 1e3:
        return 1e3, "k CNY"
    return 1.0, "CNY"


def fmt_money(value: float) -> str:
    """``1.234 bn CNY`` / ``12.3 M CNY`` / ``950 CNY``: the one money format of the reports."""
    if not finite(value):
        return MISSING
    scale, unit = money_scale([value])
    return f"{value / scale:,.3g} {unit}" if abs(value / scale) < 100 else f"{value / scale:,.0f} {unit}"


def fmt_money_cell(value: float) -> str:
    """An amount in CNY for a terminal table cell: ``1.234 bn`` or ``12.345 M`` (``-`` if not finite)."""
    if not finite(value):
        return "-"
    if abs(value) >= 1e9:
        return f"{value / 1e9:,.3f} bn"
    return f"{value / 1e6:,.3f} M"


def fmt_signed_money(value: float) -> str:
    """A cost difference: ``+1.2 M CNY`` / ``−950 CNY``, ``±0`` below half a yuan, ``–`` when missing."""
    if not finite(value):
        return MISSING
    if abs(value) < 0.5:
        return "±0"
    return ("+" if value > 0 else "−") + fmt_money(abs(value))


# ====================================================================== shares and physical units


def fmt_share(value: float) -> str:
    """A share as a percentage with one decimal."""
    return MISSING if not finite(value) else f"{100 * float(value):.1f} %"


def fmt_small_share(value: float) -> str:
    """A share that may be tiny: ``12.3 %``, ``0.42 %``, ``0.0026 %``."""
    if not finite(value):
        return MISSING
    pct = 100 * float(value)
    if pct == 0 or abs(pct) >= 10:
        return f"{pct:.1f} %"
    return f"{pct:.2g} %"


def fmt_compute(pflops: float) -> str:
    """Installed compute in EFLOPS (PFLOPS below 1 EFLOPS)."""
    if not finite(pflops):
        return MISSING
    return f"{pflops / 1000:,.1f} EFLOPS" if abs(pflops) >= 1000 else f"{fmt_num(pflops)} PFLOPS"


def fmt_mw(value: float) -> str:
    """Power in MW (kW below 1 MW)."""
    if not finite(value):
        return MISSING
    return f"{value:,.1f} MW" if abs(value) >= 1 else f"{fmt_num(value * 1000)} kW"


def fmt_limit_value(value: float, kind: str) -> str:
    """A policy limit or the KPI it bounds, in the limit's unit (``kind``: share, ratio, eflops or t)."""
    if not finite(value):
        return MISSING
    if kind == "share":
        return fmt_share(value)
    if kind == "ratio":
        return f"{float(value):.3f}"
    if kind == "eflops":
        return fmt_compute(float(value) * 1000)
    return f"{float(value) / 1000:,.1f} kt"


# ====================================================================== labels and text


def label(name: str) -> str:
    """A Dataset name as a label: ``grid_energy`` -> ``grid energy``."""
    return name.replace("_", " ")


def coord_text(value: Any) -> str:
    """A swept value as a short label: ``1.2``, ``0.001``, ``1e+26``, ``0.30 CNY/kWh``, ``true``."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def value_label(text: str) -> str:
    """A swept value written as YAML, for display: ``800000.0`` -> ``800,000``, ``0.05`` stays, text stays."""
    try:
        number = float(text)
    except (TypeError, ValueError):
        return str(text)
    if not math.isfinite(number):
        return str(text)
    if number.is_integer() and abs(number) < 1e15:
        return f"{int(number):,}"
    return f"{number:.6g}"


def gist(message: str, width: int = 110, lines: int = 6) -> str:
    """The first ``lines`` lines of a message, each cut to ``width`` characters (plain text, newline-joined)."""
    kept = [s.rstrip() for s in str(message).splitlines() if s.strip()][:lines]
    return "\n".join(s if len(s) <= width else s[: width - 1] + "…" for s in kept)


# ====================================================================== escaping


def plain(text: str) -> str:
    """User text made literal in HTML (``<``, ``>``, ``&``), e.g. for plotly, whose labels render ``<b>``, ``<a>``."""
    return html.escape(str(text), quote=False)


def breakable(text: str) -> Markup:
    """``a.b_c`` with a line-break opportunity after each ``.`` and ``_`` (the text escaped by :func:`plain`)."""
    return Markup(plain(text).replace(".", ".<wbr>").replace("_", "_<wbr>"))


def script_json(text: str) -> Markup:
    """JSON that can sit inside ``<script>``: ``<``, ``>`` and ``&`` as JSON unicode escapes (still valid JSON)."""
    return Markup(text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e"))
