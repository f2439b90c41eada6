"""What every HTML page shares: the Jinja2 environment, charts as script-safe JSON, plotly.js once, atomic writes.

A page is a Jinja2 template (``templates/``) rendered with autoescaping on, so every piece of
user text is escaped. plotly.js is embedded once, or, for the pages of a sweep, written once
beside them (:func:`write_plotly_js`) and loaded with a relative ``<script src>``; each figure is a JSON document in a
``<script type="application/json">`` block whose ``<``, ``>`` and ``&`` are JSON unicode escapes
(:func:`planner.report.format.script_json`), so no user text can close the script element.
Opening a page needs no network access (plotly's own copy of plotly.js, never a CDN).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from planner.report.format import breakable, fmt_limit_value, fmt_money, fmt_num, fmt_share, script_json
from planner.results.io import atomic_path, write_bytes

__all__ = [
    "PLOTLY_CONFIG",
    "PLOTLY_JS_NAME",
    "Chart",
    "chart",
    "charts",
    "environment",
    "now",
    "plotly_js",
    "render",
    "write_html",
    "write_plotly_js",
]

#: The file name of the shared plotly.js that the pages of a sweep load (:func:`write_plotly_js`).
PLOTLY_JS_NAME = "plotly.min.js"

PLOTLY_CONFIG = {
    "responsive": True,
    "displaylogo": False,
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


@dataclass(frozen=True)
class Chart:
    """One figure, ready for the template."""

    id: str
    spec: Markup  #: the figure as JSON, safe inside a <script> element
    height: int


def chart(fig: go.Figure, chart_id: str) -> Chart:
    """A figure as a chart of the page: its JSON (script-safe) and its height."""
    spec = pio.to_json(fig, validate=False, pretty=False)
    height = int(fig.layout.height or 420)
    return Chart(chart_id, script_json(spec), height)


def charts(figures: Mapping[str, go.Figure]) -> dict[str, Chart]:
    """Every figure of a page as a chart, by key; the element id is ``chart-<key>`` (``_`` as ``-``)."""
    return {key: chart(fig, f"chart-{key.replace('_', '-')}") for key, fig in figures.items()}


def environment() -> Environment:
    """The templates, autoescaped, with the filters ``num``, ``money``, ``share``, ``limit_value``, ``breakable``."""
    env = Environment(
        loader=PackageLoader("planner.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = fmt_num
    env.filters["money"] = fmt_money
    env.filters["share"] = fmt_share
    env.filters["limit_value"] = fmt_limit_value
    env.filters["breakable"] = breakable
    return env


def plotly_js() -> Markup:
    """plotly.js, to embed once per page."""
    return Markup(get_plotlyjs())


def write_plotly_js(folder: Path | str) -> Path:
    """Write plotly.js to ``<folder>/plotly.min.js`` (atomically; not rewritten when it is already there, the same).

    The pages of a sweep load this one copy with ``<script src>`` instead of embedding 4.6 MB each.
    """
    path = Path(folder) / PLOTLY_JS_NAME
    data = get_plotlyjs().encode("utf-8")
    if not (path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data):
        write_bytes(path, data)
    return path


def now() -> str:
    """The time a page is generated, as its footer shows it."""
    return _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")


def render(template: str, plotly_src: str | None = None, **context: Any) -> str:
    """Render a page's template with plotly.js, the plotly config and the time of generation added to ``context``.

    ``plotly_src``: load plotly.js from this (relative) URL, a file :func:`write_plotly_js` wrote,
    instead of embedding it (None: embedded, the page stands alone).
    """
    return (
        environment()
        .get_template(template)
        .render(
            plotly_js=Markup("") if plotly_src else plotly_js(),
            plotly_src=plotly_src or "",
            config=script_json(pio.json.to_json_plotly(PLOTLY_CONFIG)),
            generated=now(),
            **context,
        )
    )


def write_html(text: str, path: Path | str) -> Path:
    """Write ``text`` to ``path`` atomically (:func:`planner.results.io.atomic_path`: temp file, then rename)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
