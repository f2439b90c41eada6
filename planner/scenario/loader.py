"""Reading scenario YAML: safe loading, ``extends`` merging, ``--set`` overrides, error paths.

``load_scenario(path, overrides)`` is the one entry point: it returns a validated
:class:`~planner.scenario.schema.Scenario` or raises :class:`ScenarioError` listing every
problem with its dotted YAML path.
"""

from __future__ import annotations

import copy
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from planner.scenario.errors import Problem, ScenarioError, did_you_mean

__all__ = ["read_yaml", "resolve_extends", "apply_overrides", "parse_override", "validation_problems"]

MAX_YAML_BYTES = 5_000_000
MAX_EXTENDS_DEPTH = 16


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader (no object construction) that rejects duplicate keys."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"a mapping key must be a plain value, got {type(key).__name__}", key_node.start_mark
            ) from exc
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path) -> dict[str, Any]:
    """Read one YAML file into a dict, safely.

    Raises
    ------
    ScenarioError
        If the file is missing, too large, not valid YAML, or not a mapping at the top.
    """
    source = str(path)
    if not path.is_file():
        raise ScenarioError([Problem("", f"file not found: {path}")], source)
    size = path.stat().st_size
    if size > MAX_YAML_BYTES:
        raise ScenarioError([Problem("", f"file is {size:,} bytes; a scenario is at most {MAX_YAML_BYTES:,}")], source)
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except UnicodeDecodeError as exc:
        raise ScenarioError([Problem("", f"not UTF-8 text: {exc}")], source) from exc
    except yaml.YAMLError as exc:
        raise ScenarioError([Problem("", f"not valid YAML: {_yaml_message(exc)}")], source) from exc
    except RecursionError as exc:
        raise ScenarioError([Problem("", "YAML nested too deeply")], source) from exc
    if data is None:
        raise ScenarioError([Problem("", "the file is empty")], source)
    if not isinstance(data, dict):
        raise ScenarioError([Problem("", f"the top level must be a mapping of keys, got {type(data).__name__}")], source)
    return data


def _yaml_message(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    return f"{problem}{where}"


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``over`` into ``base``: maps merge key by key; lists and scalars are replaced."""
    out = copy.deepcopy(dict(base))
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _anchor_paths(data: dict[str, Any], folder: Path) -> None:
    """Make file paths inside ``data`` absolute, relative to the file that names them."""
    time = data.get("time")
    if isinstance(time, dict) and isinstance(time.get("profiles"), str):
        profiles = Path(time["profiles"])
        time["profiles"] = str(profiles if profiles.is_absolute() else (folder / profiles).resolve())


def resolve_extends(path: Path, _chain: tuple[Path, ...] = ()) -> tuple[dict[str, Any], list[Path]]:
    """Read ``path`` and the chain of files it ``extends``, merged; return the data and the chain.

    ``extends`` is a path relative to the file that names it. Cycles and chains deeper than
    16 files are errors.
    """
    path = path.resolve()
    if path in _chain:
        cycle = " -> ".join(str(p) for p in (*_chain, path))
        raise ScenarioError([Problem("extends", f"cycle of extends: {cycle}")], str(_chain[0]))
    if len(_chain) >= MAX_EXTENDS_DEPTH:
        raise ScenarioError([Problem("extends", f"more than {MAX_EXTENDS_DEPTH} levels of extends")], str(_chain[0]))
    data = read_yaml(path)
    _anchor_paths(data, path.parent)
    parent = data.pop("extends", None)
    if parent is None:
        return data, [path]
    if not isinstance(parent, str) or not parent.strip():
        raise ScenarioError([Problem("extends", f"must be a path to a base scenario, got {parent!r}")], str(path))
    base_path = Path(parent)
    if not base_path.is_absolute():
        base_path = path.parent / base_path
    if not base_path.resolve().is_file():
        raise ScenarioError(
            [Problem("extends", f"base scenario not found: {parent} (resolved to {base_path.resolve()})")], str(path)
        )
    base, chain = resolve_extends(base_path, (*_chain, path))
    return deep_merge(base, data), [path, *chain]


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``a.b.c=value`` into its path and its YAML-parsed value.

    Raises
    ------
    ScenarioError
        If there is no ``=``, the path is empty or malformed, or the value is not valid YAML.
    """
    if "=" not in text:
        raise ScenarioError([Problem(f"--set {text}", "expected KEY.PATH=VALUE, e.g. policy.pue_max=1.2")])
    key, raw = text.split("=", 1)
    parts = key.strip().split(".")
    if not key.strip() or any(not p.strip() for p in parts):
        raise ScenarioError([Problem(f"--set {text}", "the key path is empty or has an empty part")])
    try:
        value = yaml.load(raw, Loader=_UniqueKeyLoader) if raw.strip() else None  # noqa: S506
    except yaml.YAMLError as exc:
        raise ScenarioError([Problem(f"--set {key}", f"value is not valid YAML: {_yaml_message(exc)}")]) from exc
    return [p.strip() for p in parts], value


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``--set a.b.c=value`` overrides to merged scenario data (a new dict is returned)."""
    out = copy.deepcopy(data)
    problems: list[Problem] = []
    for text in overrides:
        try:
            parts, value = parse_override(text)
        except ScenarioError as exc:
            problems += exc.problems
            continue
        node: Any = out
        for i, part in enumerate(parts[:-1]):
            where = ".".join(parts[: i + 1])
            if isinstance(node, dict):
                key: Any = _key_like(node, part)
                if key not in node:
                    node[key] = {}
                node = node[key]
            elif isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    problems.append(Problem(f"--set {'.'.join(parts)}", f"{where}: no list item {part}"))
                    break
                node = node[int(part)]
            else:
                problems.append(Problem(f"--set {'.'.join(parts)}", f"{where} is a value, not a section"))
                break
        else:
            last = parts[-1]
            if isinstance(node, dict):
                node[_key_like(node, last)] = value
            elif isinstance(node, list) and last.isdigit() and int(last) < len(node):
                node[int(last)] = value
            else:
                problems.append(Problem(f"--set {'.'.join(parts)}", f"cannot set {last} here"))
    if problems:
        raise ScenarioError(problems)
    return out


def _key_like(node: dict[Any, Any], part: str) -> Any:
    """The existing key that ``part`` names (years are int keys in YAML maps)."""
    if part not in node and part.isdigit() and int(part) in node:
        return int(part)
    if part not in node and part.isdigit() and all(isinstance(k, int) for k in node) and node:
        return int(part)
    return part


# --------------------------------------------------------------------------- pydantic errors -> paths


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated/Optional wrappers down to the type that holds fields or items."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            annotation = models[0] if models else args[0]
        else:
            return annotation


def _walk(model: type[BaseModel], loc: Sequence[Any]) -> tuple[list[str], Any]:
    """Turn a pydantic error location into YAML path parts; also return the type at its parent.

    Union tags that pydantic inserts into locations (``int``, ``literal[...]``,
    ``function-plain[...]``) are dropped.
    """
    parts: list[str] = []
    current: Any = model
    parent: Any = model
    for item in loc:
        kind = _unwrap(current)
        origin = typing.get_origin(kind)
        parent = kind
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            if isinstance(item, str) and item in kind.model_fields:
                parts.append(item)
                current = kind.model_fields[item].annotation
            elif isinstance(item, str) and ("[" in item or item in ("int", "str", "float", "bool", "none")):
                continue  # a union tag
            else:
                parts.append(str(item))
                current = None
        elif origin is dict:
            if item == "[key]":
                continue
            parts.append(str(item))
            current = typing.get_args(kind)[1]
        elif origin in (list, tuple):
            if isinstance(item, int):
                parts[-1:] = [f"{parts[-1]}[{item}]"] if parts else [f"[{item}]"]
                args = typing.get_args(kind)
                current = args[0] if args else None
            else:
                continue
        else:
            if isinstance(item, str) and ("[" in item or item in ("int", "str", "float", "bool", "none")):
                continue
            parts.append(str(item))
            current = None
    return parts, parent


def _message(err: Mapping[str, Any]) -> str:
    kind = err["type"]
    msg = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    value = err.get("input")
    if kind == "missing":
        return "missing required key"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        op = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}[kind]
        limit = next(iter(err.get("ctx", {}).values()), "?")
        return f"must be {op} {limit} (got {value!r})"
    if kind.startswith(("int_", "float_", "bool_", "string_", "list_", "dict_", "model_", "literal_", "tuple_")):
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        return f"{msg} (got {shown})"
    return msg


def validation_problems(exc: ValidationError, model: type[BaseModel]) -> list[Problem]:
    """Every error of a pydantic ValidationError as a Problem with its YAML path."""
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for err in exc.errors(include_url=False):
        parts, parent = _walk(model, err["loc"])
        path = ".".join(parts)
        if err["type"] == "extra_forbidden":
            key = parts[-1] if parts else "?"
            options = list(parent.model_fields) if isinstance(parent, type) and issubclass(parent, BaseModel) else []
            hint = did_you_mean(key, options)
            message = f"unknown key '{key}'" + (f"; {hint}" if hint else "")
        else:
            message = _message(err)
        if (path, message) not in seen:
            seen.add((path, message))
            problems.append(Problem(path, message))
    return problems
