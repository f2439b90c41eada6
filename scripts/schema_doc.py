#!/usr/bin/env python3
"""Generate ``docs/inputs.md``, the scenario input-format reference, from the pydantic schema.

Every table row comes from :class:`planner.scenario.schema.Scenario`: the dotted key, the type,
the canonical unit (``Q``/``Series`` fields record it), the default, the range (pydantic
``ge/gt/le/lt`` and length constraints, or the series' own bounds) and the field's docstring.
The worked examples in the introduction are computed with the real converters, and the example
column quotes ``inputs/2030.yaml``, so the document cannot drift from the code::

    python scripts/schema_doc.py            # (re)write docs/inputs.md
    python scripts/schema_doc.py --check    # exit 1 if docs/inputs.md is out of date

``tests/test_docs_inputs.py`` runs the same comparison.
"""

from __future__ import annotations

import argparse
import re
import sys
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import annotated_types as at
import yaml
from pydantic import BaseModel, StringConstraints
from pydantic.fields import FieldInfo

from planner.scenario import fields as fields_mod
from planner.scenario import loader
from planner.scenario import schema as schema_mod
from planner.scenario.fields import SeriesSpec, YearSeries, unwrap
from planner.scenario.units import convert

REPO_ROOT = Path(__file__).resolve().parents[1]
DOC_PATH = REPO_ROOT / "docs" / "inputs.md"
EXAMPLE_PATH = REPO_ROOT / "inputs" / "2030.yaml"
EXAMPLE_REL = "inputs/2030.yaml"
COMMAND = "python scripts/schema_doc.py"

NAME = "<name>"  # path part standing for any key of a dict of models
ITEM = "[]"  # path suffix standing for any item of a list of models
EXAMPLE_WIDTH = 60

# Named type aliases of the schema, shown by their meaning instead of their base type.
_ALIAS_TYPES: list[tuple[Any, str]] = [
    (fields_mod.Name, "name"),
    (fields_mod.Years, "year"),
    (fields_mod.Month, "month"),
    (fields_mod.HourRange, "hour range"),
]
_ALIASES: dict[int, str] = {id(alias): text for alias, text in _ALIAS_TYPES}
# Ranges enforced by validators rather than by constraints pydantic exposes.
_ALIAS_RANGES = {"hour range": "hours 0 to 24, start ≠ end"}
# Keys whose accepted values a custom validator decides; path -> (type, range). Checked to exist.
_OVERRIDES = {
    "time.representative_days": ("integer, `monthly` or `full`", "1 to 365"),
}
_PLURAL = {
    "number": "numbers",
    "integer": "integers",
    "text": "texts",
    "name": "names",
    "year": "years",
    "month": "months",
    "hour range": "hour ranges",
    "yes/no": "yes/no values",
}


# --------------------------------------------------------------------------- reading the schema


@dataclass
class _Facts:
    """What a field's annotation and metadata say about its accepted values."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    min_len: int | None = None
    max_len: int | None = None
    unit: str | None = None
    series: SeriesSpec | None = None
    alias: str | None = None
    optional: bool = False
    meta: list[Any] = field(default_factory=list)

    def absorb(self, items: typing.Iterable[Any]) -> None:
        for item in items:
            if not isinstance(item, FieldInfo):
                self.meta.append(item)
            if isinstance(item, FieldInfo):
                self.absorb(item.metadata)
                extra = item.json_schema_extra
                if isinstance(extra, dict) and "unit" in extra:
                    self.unit = str(extra["unit"])
            elif isinstance(item, SeriesSpec):
                self.series = item
            elif isinstance(item, at.Ge):
                self.ge = item.ge  # type: ignore[assignment]
            elif isinstance(item, at.Gt):
                self.gt = item.gt  # type: ignore[assignment]
            elif isinstance(item, at.Le):
                self.le = item.le  # type: ignore[assignment]
            elif isinstance(item, at.Lt):
                self.lt = item.lt  # type: ignore[assignment]
            elif isinstance(item, at.MinLen):
                self.min_len = item.min_length
            elif isinstance(item, at.MaxLen):
                self.max_len = item.max_length
            elif isinstance(item, StringConstraints):
                self.min_len = item.min_length if item.min_length is not None else self.min_len
                self.max_len = item.max_length if item.max_length is not None else self.max_len


def _unwrap(annotation: Any, facts: _Facts) -> Any:
    """Strip ``Annotated`` and ``Optional`` layers (:func:`planner.scenario.fields.unwrap`), recording
    what they say in ``facts``."""
    layers = unwrap(annotation)
    if facts.alias is None:
        facts.alias = next((_ALIASES[id(a)] for a in layers.layers if id(a) in _ALIASES), None)
    facts.absorb(layers.meta)
    facts.optional = facts.optional or layers.optional
    return layers.base


def _alias_of(base: Any, meta: list[Any]) -> str | None:
    """The alias a plain field was declared with (pydantic unpacks ``Annotated`` of plain fields)."""
    for alias, text in _ALIAS_TYPES:
        facts = _Facts()
        if _unwrap(alias, facts) is base and facts.meta == meta:
            return text
    return None


def _model_inside(info: FieldInfo) -> tuple[type[BaseModel] | None, str, _Facts]:
    """The model a field holds (directly, as dict values or as list items) and the path suffix."""
    facts = _field_facts(info)
    base = _unwrap(info.annotation, facts)
    if isinstance(base, type) and issubclass(base, BaseModel):
        return base, "", facts
    origin = typing.get_origin(base)
    args = typing.get_args(base)
    if origin is dict:
        inner = _unwrap(args[1], _Facts())
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return inner, "." + NAME, facts
    if origin is list:
        inner = _unwrap(args[0], _Facts())
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return inner, ITEM, facts
    return None, "", facts


def _num(value: float) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value)}"
    return f"{value:.6g}"


def _bounds(ge: float | None, gt: float | None, le: float | None, lt: float | None) -> str:
    if ge is not None and le is not None and gt is None and lt is None:
        return f"{_num(ge)} to {_num(le)}"
    parts = []
    if ge is not None:
        parts.append(f"≥ {_num(ge)}")
    if gt is not None:
        parts.append(f"> {_num(gt)}")
    if le is not None:
        parts.append(f"≤ {_num(le)}")
    if lt is not None:
        parts.append(f"< {_num(lt)}")
    return ", ".join(parts)


def _length(min_len: int | None, max_len: int | None, what: str) -> str:
    if min_len is not None and max_len is not None:
        return f"{min_len} to {max_len} {what}s"
    if min_len is not None and min_len > 0:
        return f"at least {min_len} {what}" + ("s" if min_len != 1 else "")
    if max_len is not None:
        return f"at most {max_len} {what}s"
    return ""


@dataclass
class _Shape:
    """How one leaf value looks in YAML: type text, canonical unit, range text."""

    type: str
    unit: str = ""
    range: str = ""
    series: SeriesSpec | None = None


def _scalar_shape(base: Any, facts: _Facts) -> _Shape:
    if facts.series is not None or base is YearSeries:
        spec = facts.series
        assert spec is not None, "a YearSeries without its SeriesSpec"
        kind = "year-indexed limit" if spec.open_start else "year-indexed"
        return _Shape(kind, spec.unit, _bounds(spec.ge, spec.gt, spec.le, spec.lt), spec)
    if typing.get_origin(base) is Literal:
        options = ", ".join(f"`{o}`" for o in typing.get_args(base))
        return _Shape(f"one of {options}")
    alias = facts.alias or _alias_of(base, facts.meta)
    if alias is not None:
        kind = alias
    elif base is bool:
        kind = "yes/no"
    elif base is int:
        kind = "integer"
    elif base is float:
        kind = "number"
    elif base is str:
        kind = "text"
    elif base is Path:
        kind = "file path"
    elif typing.get_origin(base) in (typing.Union, types.UnionType):
        kind = " or ".join(_scalar_shape(a, _Facts()).type for a in typing.get_args(base))
    else:
        raise TypeError(f"no documentation rule for the type {base!r}")
    rng = _bounds(facts.ge, facts.gt, facts.le, facts.lt)
    if base is str:
        rng = ", ".join(p for p in (rng, _length(facts.min_len, facts.max_len, "character")) if p)
    rng = rng or _ALIAS_RANGES.get(kind, "")
    return _Shape(kind, facts.unit or "", rng)


def _field_facts(info: FieldInfo) -> _Facts:
    """Facts pydantic moved out of a field's annotation into its FieldInfo."""
    facts = _Facts()
    facts.absorb([info])
    return facts


def _leaf_shape(info: FieldInfo) -> tuple[_Shape, bool]:
    """Shape of a leaf field and whether it is optional (may be left unset)."""
    facts = _field_facts(info)
    base = _unwrap(info.annotation, facts)
    origin = typing.get_origin(base)
    if origin is list:
        item_facts = _Facts()
        item = _scalar_shape(_unwrap(typing.get_args(base)[0], item_facts), item_facts)
        rng = "; ".join(
            p
            for p in (
                f"each {item.range}" if item.range else "",
                _length(facts.min_len, facts.max_len, "item"),
            )
            if p
        )
        return _Shape(f"list of {_PLURAL.get(item.type, item.type)}", item.unit, rng), facts.optional
    if origin is dict:
        key_facts, value_facts = _Facts(), _Facts()
        key = _scalar_shape(_unwrap(typing.get_args(base)[0], key_facts), key_facts)
        value = _map_value_shape(_unwrap(typing.get_args(base)[1], value_facts), value_facts)
        rng = "; ".join(
            p
            for p in (
                f"each {value.range}" if value.range else "",
                _length(facts.min_len, facts.max_len, "entry"),
            )
            if p
        )
        return _Shape(f"map: {key.type} → {value.type}", value.unit, rng, value.series), facts.optional
    return _scalar_shape(base, facts), facts.optional


def _map_value_shape(base: Any, facts: _Facts) -> _Shape:
    """Shape of a map's values: a scalar, or itself a map (``year -> month -> share``)."""
    if typing.get_origin(base) is not dict:
        return _scalar_shape(base, facts)
    key_facts, value_facts = _Facts(), _Facts()
    key = _scalar_shape(_unwrap(typing.get_args(base)[0], key_facts), key_facts)
    value = _map_value_shape(_unwrap(typing.get_args(base)[1], value_facts), value_facts)
    return _Shape(f"map: {key.type} → {value.type}", value.unit, value.range, value.series)


# --------------------------------------------------------------------------- examples from the default file


class _Example:
    """Values of ``inputs/2030.yaml`` as written there (source text of each YAML node)."""

    def __init__(self, path: Path) -> None:
        self.text = path.read_text(encoding="utf-8")
        self.root = yaml.compose(self.text, Loader=yaml.SafeLoader)
        self.data = yaml.safe_load(self.text)

    def _nodes(self, node: Any, parts: list[str]) -> Iterator[Any]:
        if not parts:
            yield node
            return
        head, rest = parts[0], parts[1:]
        if head == NAME and isinstance(node, yaml.MappingNode):
            for _, value in node.value:
                yield from self._nodes(value, rest)
            return
        key, is_list = (head[: -len(ITEM)], True) if head.endswith(ITEM) else (head, False)
        if not isinstance(node, yaml.MappingNode):
            return
        for key_node, value in node.value:
            if key_node.value == key:
                if not is_list:
                    yield from self._nodes(value, rest)
                elif isinstance(value, yaml.SequenceNode):
                    for item in value.value:
                        yield from self._nodes(item, rest)

    def source(self, path: str) -> str:
        """The first value written for ``path`` in the file, as written (shortened)."""
        for node in self._nodes(self.root, _split(path)):
            if isinstance(node, yaml.ScalarNode) and node.style in (">", "|"):
                text = node.value
            elif isinstance(node, yaml.CollectionNode) and not node.flow_style:
                text = _plain_value(yaml.safe_load(yaml.serialize(node)))
            else:
                text = self.text[node.start_mark.index : node.end_mark.index]
            text = " ".join(text.split())
            if len(text) > EXAMPLE_WIDTH:
                text = text[: EXAMPLE_WIDTH - 1].rstrip() + "…"
            return text
        return ""

    def names(self, path: str) -> list[str]:
        """The keys the file uses for a dict of models at ``path``."""
        node: Any = self.data
        for part in _split(path):
            if not isinstance(node, dict) or part not in node:
                return []
            node = node[part]
        return [str(k) for k in node] if isinstance(node, dict) else []


def _split(path: str) -> list[str]:
    return path.split(".")


# --------------------------------------------------------------------------- the document model


@dataclass
class _Row:
    path: str
    shape: _Shape
    default: str
    example: str
    description: str
    field: FieldInfo


@dataclass
class _Block:
    path: str
    title: str
    intro: list[str]
    rows: list[_Row] = field(default_factory=list)


def _clean(text: str | None) -> str:
    """A docstring as one Markdown table cell: one line, reST literals as code, pipes escaped."""
    if not text:
        return ""
    text = " ".join(text.split())
    text = re.sub(r"``(.+?)``", r"`\1`", text)
    text = re.sub(r":\w+:`~?([^`]+)`", r"`\1`", text)
    return text.replace("|", "\\|")


def _cell(text: str) -> str:
    return text.replace("|", "\\|") if text else "-"


def _code(text: str) -> str:
    return f"`{text}`" if text and text != "-" else "-"


def _plain_value(value: Any) -> str:
    if isinstance(value, YearSeries):
        value = value.to_plain()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return _num(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, str):
        return value
    dumped = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=10**6, allow_unicode=True)
    return dumped.strip().removesuffix("...").strip()


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    value = info.get_default(call_default_factory=True)
    if value is None:
        return "not set"
    if isinstance(value, list | dict | str) and not value:
        return "empty"
    return _code(_plain_value(value))


def _walk(model: type[BaseModel], prefix: str, example: _Example, blocks: list[_Block], block: _Block) -> None:
    """Add the leaves of ``model`` to ``block`` and a new block per nested model."""
    nested: list[tuple[str, type[BaseModel], str, FieldInfo, _Facts]] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        inner, suffix, facts = _model_inside(info)
        if inner is not None:
            nested.append((path, inner, suffix, info, facts))
            continue
        shape, _ = _leaf_shape(info)
        if path in _OVERRIDES:
            shape.type, shape.range = _OVERRIDES[path]
        block.rows.append(_Row(path, shape, _default(info), example.source(path), _clean(info.description), info))
    for path, inner, suffix, info, facts in nested:
        child = _Block(path, f"`{path}`", _section_intro(path, inner, suffix, info, facts, example))
        blocks.append(child)
        _walk(inner, f"{path}{suffix}.", example, blocks, child)


def _section_intro(
    path: str, model: type[BaseModel], suffix: str, info: FieldInfo, facts: _Facts, example: _Example
) -> list[str]:
    lines = []
    what = _clean((model.__doc__ or "").strip().split("\n\n")[0])
    own = _clean(info.description)
    if own and own.rstrip(".") not in what:
        lines.append(own)
    if what:
        if suffix:
            first_word = what.split()[0]
            if first_word[1:] == first_word[1:].lower():  # keep acronyms such as PV
                what = what[0].lower() + what[1:]
            what = f"Each {'entry' if suffix == '.' + NAME else 'item'}: {what}"
        lines.append(what)
    if suffix == "." + NAME:
        names = example.names(path)
        shown = ", ".join(f"`{n}`" for n in names)
        lines.append(
            f"A map from a name of your choice to one entry each (keys `{path}.{NAME}.…`)."
            + (f" `{EXAMPLE_REL}` has {shown}." if names else "")
        )
    elif suffix == ITEM:
        lines.append(f"A list; each item has the keys below (`{path}{ITEM}.…`).")
    if info.is_required():
        need = _length(facts.min_len, None, "entry" if suffix == "." + NAME else "item")
        lines.append("Required" + (f": {need}." if need else "."))
    else:
        default = info.get_default(call_default_factory=True)
        empty = isinstance(default, list | dict) and not default
        lines.append("Optional; " + ("empty if left out." if empty else "left out, each key takes its default."))
    return [" ".join(lines)]


def _structure(example: _Example) -> tuple[_Block, list[_Block]]:
    """The top-level block (scalar keys) and one list of blocks per top-level section."""
    top = _Block("", "Top level", [_clean(schema_mod.Scenario.__doc__)])
    blocks: list[_Block] = []
    _walk(schema_mod.Scenario, "", example, blocks, top)
    paths = {row.path for b in [top, *blocks] for row in b.rows}
    unknown = sorted(set(_OVERRIDES) - paths)
    if unknown:
        raise KeyError(f"scripts/schema_doc.py overrides keys the schema does not have: {unknown}")
    return top, blocks


def leaf_rows() -> list[tuple[str, _Shape, FieldInfo]]:
    """Every leaf key of the schema as documented: dotted path, shape, field info."""
    top, blocks = _structure(_Example(EXAMPLE_PATH))
    return [(r.path, r.shape, r.field) for b in [top, *blocks] for r in b.rows]


# --------------------------------------------------------------------------- rendering


_HEADER = "| key | type | unit | default | range | example | description |\n|---|---|---|---|---|---|---|"


def _table(rows: list[_Row]) -> str:
    lines = [_HEADER]
    for r in rows:
        lines.append(
            "| "
            + " | ".join(
                [
                    f"`{r.path}`",
                    _cell(r.shape.type),
                    _code(r.shape.unit),
                    r.default,
                    _cell(r.shape.range),
                    _code(r.example.replace("`", "'")) if r.example else "-",
                    r.description or "-",
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def _slug(title: str) -> str:
    text = re.sub(r"[^\w\- ]", "", title.lower().replace("`", ""))
    return text.replace(" ", "-")


def _intro(rows: dict[str, tuple[_Shape, FieldInfo]], example: _Example) -> str:
    def unit(path: str) -> str:
        return rows[path][0].unit

    def spec(path: str) -> SeriesSpec:
        found = rows[path][0].series
        assert found is not None, f"{path} is not year-indexed"
        return found

    conversions = [
        ("accelerators.<name>.full_kw", "5.8"),
        ("accelerators.<name>.full_kw", '"5800 W"'),
        ("power.grid.tariff.flat_cny_per_kwh", '"0.43 CNY/kWh"'),
        ("power.grid.tariff.demand_cny_per_kw_month", '"35 CNY/kW/month"'),
        ("power.grid.tariff.demand_cny_per_kw_month", '"420 CNY/kW/year"'),
        ("finance.discount_rate", '"8 %"'),
        ("cooling.<name>.free_cooling_below_c", '"77 degF"'),
        ("demand.training.flop", '"2e25 FLOP"'),
        ("power.grid.tariff.flat_cny_per_kwh", '"35 CNY/kW/month"'),
        ("accelerators.<name>.full_kw", '"700 kWh"'),
    ]
    conv_lines = ["| key | you write | canonical unit | read as |", "|---|---|---|---|"]
    for path, written in conversions:
        raw = yaml.safe_load(written)
        try:
            got = _num(convert(raw, unit(path)))
        except ValueError as exc:
            got = f"error: {exc}"
        conv_lines.append(f"| `{path}` | `{written}` | {_code(unit(path))} | {_cell(got)} |")

    years = [int(y) for y in example.data["years"]]
    last = years[-1]
    capex_written = example.source("accelerators.<name>.capex_cny") or "{2026: 1.35e6, 2030: 1.2e6}"
    capex = spec("accelerators.<name>.capex_cny").parse(yaml.safe_load(capex_written))
    pue_raw = {years[min(2, len(years) - 1)]: 1.25, last: 1.2}
    pue = spec("policy.pue_max").parse(pue_raw)
    late = f"{{{years[min(1, len(years) - 1)]}: 1.3e6, {last}: 1.2e6}}"
    late_problem = spec("accelerators.<name>.capex_cny").parse(yaml.safe_load(late)).coverage_problem(years)
    series_lines = [
        "| year | " + " | ".join(str(y) for y in years) + " |",
        "|---|" + "---|" * len(years),
        f"| `capex_cny: {capex_written}` | " + " | ".join(_num(v) for v in capex.values(years)) + " |",
        f"| `pue_max: {_plain_value(pue_raw)}` | "
        + " | ".join("no limit" if p is None else _num(p) for p in (pue.at(y) for y in years))
        + " |",
    ]
    name_pattern = next(m.pattern for m in typing.get_args(fields_mod.Name)[1:] if isinstance(m, StringConstraints))
    text = f"""\
# Scenario input format

<!-- Generated by `{COMMAND}` from planner/scenario/schema.py; do not edit by hand. -->

A scenario is one YAML file (the shipped default is [`{EXAMPLE_REL}`](../{EXAMPLE_REL})). This
reference lists every key. It is generated from the schema the planner validates against, so
it is complete and current; `plan validate FILE` checks a file against it and lists every
problem with its dotted key.

## How values are read

### Units

Every number has a canonical unit (the *unit* column; `-` means a plain number, such as a
share or a ratio). A bare number is read in that unit. A string with a unit is converted with
[pint](https://pint.readthedocs.io): `"700 W"`, `"1.2 MW"`, `"0.43 CNY/kWh"`,
`"35 CNY/kW/month"`, `"80 %"`. A unit of the wrong dimension is an error, and so is mixing up
an energy price with a charge per period: `CNY/kWh` and `CNY/kW/month` have the same dimension,
but a key in one accepts no value in the other. Temperatures are absolute (`"77 degF"` is
25 °C). Shares and ratios (unit `-`) accept `"80 %"`.

{chr(10).join(conv_lines)}

### Year-indexed values

Keys of type *year-indexed* take a value per planning year, written as

* a scalar, which holds in every year: `max_new_per_year: 1500`;
* a `{{year: value}}` map, linear between the years it names:
  `capex_cny: {{2026: 1.35e6, 2030: 1.2e6}}`. The map must name the first and the last
  planning year (missing ends are an error, not a guess) and no year outside the horizon.

Values may carry units (`{{2026: "2e25 FLOP", 2030: "4e26 FLOP"}}`); the *range* applies to
every value. *Year-indexed limits* (the `policy` keys) are the exception at the start: a limit
applies from the first year its map names and imposes nothing before; it must still reach the
last planning year. With the years of `{EXAMPLE_REL}`:

{chr(10).join(series_lines)}

`capex_cny: {late}` is refused: "{late_problem}".

### Names, optional keys, unknown keys

* Keys marked `{NAME}` are names you choose (`accelerators.h20`, `cooling.dlc`): a letter, then
  letters, digits or underscores, at most 64 characters (`{name_pattern}`). Other keys refer to
  them by the same name (`accelerators.h20.cooling: [air, dlc]`).
* Keys with a default may be left out. A default of *not set* means the key is off unless
  given (no purchase cap, no policy limit, ...); for those keys `null` is the same as leaving
  the key out.
* A key the schema does not know is an error, with a did-you-mean suggestion; so is a missing
  required key.
* Rules between keys (names that must exist, years inside the horizon, tariff seasons covering
  each month once, a server fitting its racks, …) are checked after the types and ranges below.

### `extends`: a scenario on top of another

```yaml
extends: 2030.yaml          # relative to this file
name: high-demand
demand:
  inference:
    scale: 2
```

The file deep-merges over its base: maps merge key by key, and a list or a scalar replaces the
base's value. A `{{year: value}}` map is one year-indexed value, so it replaces the base's
value as a whole (and must cover the horizon on its own). `extends` and `time.profiles` are relative
to the file that names them. A base may extend another, up to {loader.MAX_EXTENDS_DEPTH} files;
a cycle is an error.

### `--set`: overrides on the command line

`--set KEY.PATH=VALUE` (repeatable) replaces one value after `extends` is merged; the value is
read as YAML and validated like the file:

```sh
plan validate {EXAMPLE_REL} --set policy.pue_max=1.2
plan validate {EXAMPLE_REL} --set 'policy.pue_max={{2026: 1.3, 2030: 1.2}}'
plan validate {EXAMPLE_REL} --set 'accelerators.h20.full_kw=5800 W'
plan validate {EXAMPLE_REL} --set policy.pue_max.2030=1.18      # one year of a map
plan validate {EXAMPLE_REL} --set existing.servers.0.count=1000 # a list item by index
```
"""
    return text


def render() -> str:
    """The full Markdown text of ``docs/inputs.md``."""
    example = _Example(EXAMPLE_PATH)
    top, blocks = _structure(example)
    rows = {r.path: (r.shape, r.field) for b in [top, *blocks] for r in b.rows}

    extends = _Row(
        "extends",
        _Shape("file path"),
        "not set",
        example.source("extends"),
        "Base scenario this file deep-merges over (see above); relative to this file. Read by the loader, "
        "not part of the validated scenario.",
        FieldInfo(),
    )
    top.rows.insert(next((i for i, r in enumerate(top.rows) if r.path == "years"), 0) + 1, extends)

    sections: list[tuple[_Block, list[_Block]]] = [(top, [])]
    for block in blocks:
        if "." not in block.path:
            sections.append((block, []))
        else:
            sections[-1][1].append(block)

    out = [_intro(rows, example).rstrip(), "", "## Keys", ""]
    out.append(
        f"Columns: *key* is the dotted path (as used by `--set` and in error messages); *unit* is the"
        f" canonical unit; *range* the accepted values; *example* the value in `{EXAMPLE_REL}` (for"
        f" `{NAME}` and `{ITEM}` keys, the first entry that sets it)."
    )
    out.append("")
    for block, _ in sections:
        out.append(f"* [{block.title}](#{_slug(block.title)})")
    for block, children in sections:
        out += ["", f"## {block.title}", "", *block.intro]
        if block.rows:
            out += ["", _table(block.rows)]
        for child in children:
            out += ["", f"### {child.title}", "", *child.intro]
            if child.rows:
                out += ["", _table(child.rows)]
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write ``docs/inputs.md``, or with ``--check`` report whether it is current."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/inputs.md differs from the schema")
    args = parser.parse_args(argv)
    text = render()
    rel = DOC_PATH.relative_to(REPO_ROOT)
    if args.check:
        current = DOC_PATH.read_text(encoding="utf-8") if DOC_PATH.is_file() else None
        if current != text:
            state = "is missing" if current is None else "is out of date with the schema"
            print(f"{rel} {state}: run `{COMMAND}` to regenerate it.", file=sys.stderr)
            return 1
        print(f"{rel} is up to date.")
        return 0
    DOC_PATH.parent.mkdir(parents=True, exist_ok=True)
    DOC_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {rel} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
