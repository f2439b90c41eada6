"""Reading scenario YAML: safe loading, ``extends`` merging, ``--set`` overrides, error paths.

``load_scenario(path, overrides)`` is the one entry point: it returns a validated
:class:`~planner.scenario.schema.Scenario` or raises :class:`ScenarioError` listing every
problem with its dotted YAML path.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import re
import stat
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from planner.scenario.errors import Problem, ScenarioError, did_you_mean, shown
from planner.scenario.fields import NAME_PATTERN, unwrap

M = TypeVar("M", bound=BaseModel)

__all__ = [
    "read_yaml",
    "read_study_file",
    "resolve_extends",
    "apply_overrides",
    "parse_override",
    "validation_problems",
]

MAX_YAML_BYTES = 5_000_000
MAX_EXTENDS_DEPTH = 16
MAX_YAML_ALIASES = 10_000
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _TooManyAliases(yaml.YAMLError):
    """A document with more alias nodes (``*name``) than :data:`MAX_YAML_ALIASES`."""

    def __init__(self, mark: Any) -> None:
        super().__init__(f"more than {MAX_YAML_ALIASES:,} aliases")
        self.mark = mark


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader (no object construction) that rejects duplicate keys and alias floods.

    Aliases are counted as the document is composed; a document with more than
    :data:`MAX_YAML_ALIASES` of them is refused before anything is built from it.
    """

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: D102 - PyYAML's hook
        if self.check_event(yaml.events.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_YAML_ALIASES:
                raise _TooManyAliases(self.peek_event().start_mark)
        return super().compose_node(parent, index)


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    """A mapping whose explicit keys are unique; keys merged in with ``<<`` yield to explicit ones.

    ``flatten_mapping`` puts the merged pairs first and the explicit pairs after them, so
    building the dict in order lets an explicit key override a merged one, as YAML specifies.
    Only two explicit keys of the same mapping are a duplicate.
    """
    explicit = {id(key_node) for key_node, _ in node.value if key_node.tag != _MERGE_TAG}
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    seen: set[Any] = set()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError as exc:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"a mapping key must be a plain value, got {type(key).__name__}",
                key_node.start_mark,
            ) from exc
        if id(key_node) in explicit:
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {shown(key)}", key_node.start_mark)
            seen.add(key)
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


def _guarded(constructor: Any, what: str) -> Any:
    """Wrap a scalar constructor so that its ValueError becomes a YAML error with a line number.

    Python refuses integers of more than 4,300 digits and dates such as 2026-02-30.
    """

    def construct(loader: _UniqueKeyLoader, node: yaml.ScalarNode) -> Any:
        try:
            return constructor(loader, node)
        except ValueError as exc:
            reason = str(exc).split(";")[0]
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {shown(node.value)} as {what} ({reason})", node.start_mark
            ) from exc

    return construct


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_UniqueKeyLoader.add_constructor(
    "tag:yaml.org,2002:int", _guarded(yaml.constructor.SafeConstructor.construct_yaml_int, "a number")
)
_UniqueKeyLoader.add_constructor(
    "tag:yaml.org,2002:timestamp",
    _guarded(yaml.constructor.SafeConstructor.construct_yaml_timestamp, "a date"),
)


class _BadCharacter(yaml.YAMLError):
    """A character YAML does not allow (a control character, a lone surrogate), with its line and column.

    PyYAML's ``ReaderError`` gives only an offset into the text; the line and column are worked
    out here from the text itself.
    """

    def __init__(self, exc: yaml.reader.ReaderError, text: str) -> None:
        position = min(max(int(exc.position), 0), len(text))
        before = text[:position]
        line = before.count("\n")
        column = position - (before.rfind("\n") + 1)
        self.mark = yaml.Mark("<text>", position, line, column, None, None)  # type: ignore[arg-type]  # no buffer
        character = exc.character
        code = character if isinstance(character, int) else ord(character) if character else 0
        self.problem = f"character U+{code:04X} is not allowed"
        super().__init__(self.problem)


def _load_yaml(text: str) -> Any:
    """Parse YAML text with the safe, strict loader.

    Raises
    ------
    _TooManyAliases, _BadCharacter, yaml.YAMLError, ValueError, RecursionError
        As PyYAML and Python raise them; callers turn them into problems.
    """
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.reader.ReaderError as exc:
        raise _BadCharacter(exc, text) from exc


#: Parsed YAML by file text, for files read again and again (a sweep worker loads the same base
#: scenario for every case: PyYAML's pure-Python parser takes ~0.1 s of the default, the rest of
#: loading ~0.01 s). Keyed by the text itself, so an edited file is parsed afresh.
_PARSED: dict[str, Any] = {}
_PARSED_MAX = 16


def _parsed(text: str) -> Any:
    """:func:`_load_yaml` of ``text``, from the cache when seen before (a deep copy: callers mutate it)."""
    data = _PARSED.get(text)
    if data is None:
        data = _load_yaml(text)
        if len(_PARSED) >= _PARSED_MAX:
            with contextlib.suppress(StopIteration, RuntimeError):  # another thread evicted meanwhile
                _PARSED.pop(next(iter(_PARSED)), None)
        _PARSED[text] = data
    return copy.deepcopy(data)


def _yaml_problem(exc: BaseException) -> str:
    """What is wrong with YAML text that could not be loaded, for a problem message."""
    if isinstance(exc, _TooManyAliases):
        return (
            f"too many YAML aliases: more than {MAX_YAML_ALIASES:,} '*name' references{_at(exc.mark)};"
            " a scenario uses anchors to share a few blocks, not to build large structures"
        )
    if isinstance(exc, _BadCharacter):
        return f"not valid YAML: {exc.problem}{_at(exc.mark)}"
    if isinstance(exc, yaml.YAMLError):
        return f"not valid YAML: {_yaml_message(exc)}"
    if isinstance(exc, RecursionError):
        return "YAML nested too deeply"
    return f"not valid YAML: {str(exc).split(';')[0]}"


def _os_reason(exc: BaseException) -> str:
    """The reason of an OSError/ValueError about a path, without repeating the path."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


def read_yaml(path: Path) -> dict[str, Any]:
    """Read one YAML file into a dict, safely.

    Raises
    ------
    ScenarioError
        If the file is missing, a directory, unreadable, too large, not valid YAML (or full of
        aliases), or not a mapping at the top.
    """
    source = str(path)
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise ScenarioError([Problem("", f"file not found: {path}")], source) from None
    except (OSError, ValueError) as exc:  # e.g. a NUL byte, a name too long, no permission
        raise ScenarioError([Problem("", f"cannot read the file: {_os_reason(exc)}")], source) from exc
    if stat.S_ISDIR(info.st_mode):
        raise ScenarioError([Problem("", "is a directory, not a scenario file")], source)
    if not stat.S_ISREG(info.st_mode):
        raise ScenarioError([Problem("", "not a regular file")], source)
    size = info.st_size
    if size > MAX_YAML_BYTES:
        message = f"file is {size:,} bytes; a scenario is at most {MAX_YAML_BYTES:,}"
        raise ScenarioError([Problem("", message)], source)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError([Problem("", f"not UTF-8 text: {exc}")], source) from exc
    except (OSError, ValueError) as exc:
        raise ScenarioError([Problem("", f"cannot read the file: {_os_reason(exc)}")], source) from exc
    try:
        data = _parsed(text)
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        raise ScenarioError([Problem("", _yaml_problem(exc))], source) from exc
    if data is None:
        raise ScenarioError([Problem("", "the file is empty")], source)
    if not isinstance(data, dict):
        message = f"the top level must be a mapping of keys, got {type(data).__name__}"
        raise ScenarioError([Problem("", message)], source)
    return data


def _at(mark: Any) -> str:
    return f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""


def _yaml_message(exc: yaml.YAMLError) -> str:
    """PyYAML's problem with its line, and the construct it was reading with where that began.

    ``expected ',' or ']', but got ':' (line 16, column 5), while parsing a flow sequence
    that began at line 15, column 8``: the problem is often noticed a line after the cause.
    """
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    problem_mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    if not problem and not context:
        return str(exc)
    if not problem:
        return f"{context}{_at(context_mark or problem_mark)}"
    text = f"{problem}{_at(problem_mark or context_mark)}"
    if context:
        text += f", {context}"
        if (
            context_mark is not None
            and problem_mark is not None
            and ((context_mark.line, context_mark.column) != (problem_mark.line, problem_mark.column))
        ):
            text += f" that began at line {context_mark.line + 1}, column {context_mark.column + 1}"
    return text


def _year_like(key: Any) -> bool:
    if isinstance(key, bool):
        return False
    return isinstance(key, int) or (isinstance(key, str) and key.strip().isdigit())


def _is_year_map(value: Any) -> bool:
    """A non-empty mapping whose keys are all years: a year-indexed value, not a section."""
    return isinstance(value, Mapping) and bool(value) and all(_year_like(k) for k in value)


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``over`` into ``base``: sections merge key by key; anything else is replaced.

    A mapping is merged into a mapping of the base key by key (recursively). Lists, scalars and
    year-indexed maps (a mapping whose keys are all years, such as ``{2029: 1.15, 2030: 1.15}``)
    replace the base's value as a whole: a child's year map is the complete series, and keeps
    none of the base's points.
    """
    out = copy.deepcopy(dict(base))
    for key, value in over.items():
        current = out.get(key)
        if (
            isinstance(value, Mapping)
            and isinstance(current, Mapping)
            and not _is_year_map(value)
            and not _is_year_map(current)
        ):
            out[key] = deep_merge(current, value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _resolved(path: Path) -> Path:
    """``path`` made absolute with symlinks resolved, or just absolute if it cannot be resolved."""
    try:
        return path.resolve()
    except (OSError, ValueError, RuntimeError):
        return Path(os.path.abspath(path))


def read_study_file(path: Path, model: type[M]) -> tuple[M, Any]:
    """A study file (a sweep, futures) read and validated as ``model``, its ``base`` scenario resolved
    against the file's folder when relative; with the base as written there, for messages.

    Raises
    ------
    ScenarioError
        The file cannot be read or parsed, or its keys do not validate (each problem with its path).
    """
    data = read_yaml(path)
    base = data.get("base")
    if isinstance(base, str) and base.strip() and not Path(base).is_absolute():
        data["base"] = str(_resolved(path.parent / base))
    try:
        return model.model_validate(data), base
    except ValidationError as exc:
        raise ScenarioError(validation_problems(exc, model), str(path)) from None


def _anchor_paths(data: dict[str, Any], folder: Path) -> None:
    """Make file paths inside ``data`` absolute, relative to the file that names them."""
    time = data.get("time")
    if isinstance(time, dict) and isinstance(time.get("profiles"), str):
        profiles = Path(time["profiles"])
        time["profiles"] = str(profiles if profiles.is_absolute() else _resolved(folder / profiles))


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def resolve_extends(path: Path, _chain: tuple[Path, ...] = ()) -> tuple[dict[str, Any], list[Path]]:
    """Read ``path`` and the chain of files it ``extends``, merged; return the data and the chain.

    ``extends`` is a path relative to the file that names it. Cycles and chains deeper than
    16 files are errors.
    """
    path = _resolved(Path(path))
    if path in _chain:
        cycle = " -> ".join(str(p) for p in (*_chain, path))
        raise ScenarioError([Problem("extends", f"cycle of extends: {cycle}")], str(_chain[0]))
    if len(_chain) >= MAX_EXTENDS_DEPTH:
        message = f"more than {MAX_EXTENDS_DEPTH} levels of extends"
        raise ScenarioError([Problem("extends", message)], str(_chain[0]))
    data = read_yaml(path)
    _anchor_paths(data, path.parent)
    parent = data.pop("extends", None)
    if parent is None:
        return data, [path]
    if not isinstance(parent, str) or not parent.strip():
        raise ScenarioError([Problem("extends", f"must be a path to a base scenario, got {shown(parent)}")], str(path))
    base_path = Path(parent)
    if not base_path.is_absolute():
        base_path = path.parent / base_path
    if not _is_file(_resolved(base_path)):
        raise ScenarioError(
            [
                Problem(
                    "extends",
                    f"base scenario not found: {shown(parent)} (resolved to {_resolved(base_path)})",
                )
            ],
            str(path),
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
        raise ScenarioError([Problem(f"--set {_part(text)}", "expected KEY.PATH=VALUE, e.g. policy.pue_max=1.2")])
    key, raw = text.split("=", 1)
    parts = key.strip().split(".")
    if not key.strip() or any(not p.strip() for p in parts):
        raise ScenarioError([Problem(f"--set {_part(text)}", "the key path is empty or has an empty part")])
    try:
        value = _load_yaml(raw) if raw.strip() else None
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        message = _yaml_problem(exc).replace("not valid YAML: ", "")
        raise ScenarioError([Problem(f"--set {_part(key)}", f"value is not valid YAML: {message}")]) from exc
    return [p.strip() for p in parts], value


def _no_item(where: str, items: list[Any], part: str) -> str:
    if not items:
        return f"the list {where} has no item {part} (it is empty)"
    return f"the list {where} has no item {part} (its items are numbered 0 to {len(items) - 1})"


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``--set a.b.c=value`` overrides to merged scenario data (a new dict is returned).

    A missing section on the way is created (validation then names an unknown key); a list
    item is named by its index (``existing.servers.0.count``); a year of a map by the year.
    """
    out = copy.deepcopy(data)
    problems: list[Problem] = []
    for text in overrides:
        try:
            parts, value = parse_override(text)
        except ScenarioError as exc:
            problems += exc.problems
            continue
        where = f"--set {_part('.'.join(parts))}"
        node: Any = out
        for i, part in enumerate(parts):
            parent = ".".join(parts[:i])
            last = i == len(parts) - 1
            if isinstance(node, dict):
                key: Any = _key_like(node, part)
                if last:
                    node[key] = value
                else:
                    if key not in node:
                        node[key] = {}
                    node = node[key]
            elif isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    problems.append(Problem(where, _no_item(parent, node, part)))
                    break
                if last:
                    node[int(part)] = value
                else:
                    node = node[int(part)]
            else:
                problems.append(Problem(where, f"{parent} is a value, not a section"))
                break
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
    """Strip Annotated/Optional wrappers down to the type that holds fields or items (of a union
    of several members: its model, else its first member).
    """
    while True:
        base = unwrap(annotation).base
        if typing.get_origin(base) not in (typing.Union, types.UnionType):
            return base
        args = typing.get_args(base)
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        annotation = models[0] if models else args[0]


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


_BOUND_OPS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
_SECTION_TYPES = ("model_type", "model_attributes_type", "dict_type")
_SHOW_INPUT = ("int_", "float_", "bool_", "string_", "list_", "dict_", "model_", "literal_", "tuple_")
_NAME_CHARS = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
MAX_PROBLEMS = 100


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _message(err: Mapping[str, Any]) -> str:
    """A pydantic error in plain words, showing the offending value briefly."""
    kind = err["type"]
    msg = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    value = err.get("input")
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return "missing required key"
    if kind == "finite_number" or (kind in _BOUND_OPS and isinstance(value, float) and not math.isfinite(value)):
        return f"must be a finite number (got {shown(value)})"
    if kind in _BOUND_OPS:
        limit = next(iter(ctx.values()), "?")
        return f"must be {_BOUND_OPS[kind]} {limit} (got {shown(value)})"
    if kind == "path_type":
        return f"expected a file path, got {shown(value)}"
    if kind in _SECTION_TYPES:
        return f"expected a section of keys (a mapping), got {shown(value)}"
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == NAME_PATTERN:
        if isinstance(value, str) and _NAME_CHARS.fullmatch(value):
            return f"names have at most 64 characters (got one of {len(value)})"
        return f"names use letters, digits and underscores and start with a letter (got {shown(value)})"
    if kind == "too_short":
        least = int(ctx.get("min_length", 1))
        if ctx.get("field_type") == "Dictionary":
            return "must have at least one entry" if least == 1 else f"must have at least {least} entries"
        return "must list at least one item" if least == 1 else f"must list at least {least} items"
    if kind == "too_long":
        most, actual = ctx.get("max_length", "?"), ctx.get("actual_length", "?")
        what = "entries" if ctx.get("field_type") == "Dictionary" else "items"
        return f"must have at most {most} {what} (got {actual})"
    if kind == "string_too_short":
        least = int(ctx.get("min_length", 1))
        return "must not be empty" if least == 1 else f"must have at least {least} characters"
    if kind == "string_too_long":
        length = len(value) if isinstance(value, str) else "?"
        return f"must have at most {ctx.get('max_length', '?')} characters (got {length})"
    if kind.startswith(_SHOW_INPUT):
        return f"{msg} (got {shown(value)})"
    return msg


def _part(text: str) -> str:
    """A key or path as it may appear in a problem's path: one line, printable, at most 80 characters.

    A key with a line break or a control character in it (YAML allows quoted keys of any text)
    is shown quoted, with escapes, so that each problem stays on one line of the report.
    """
    if not text.isprintable():
        return shown(text)[:80]
    return text if len(text) <= 80 else text[:77] + "..."


def validation_problems(exc: ValidationError, model: type[BaseModel]) -> list[Problem]:
    """Every error of a pydantic ValidationError as a Problem with its YAML path.

    At most :data:`MAX_PROBLEMS` are listed; a last problem says how many more there are.
    """
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    errors = exc.errors(include_url=False)
    for err in errors:
        parts, parent = _walk(model, err["loc"])
        path = ".".join(_part(p) for p in parts)
        if err["type"] == "extra_forbidden":
            key = parts[-1] if parts else "?"
            is_model = isinstance(parent, type) and issubclass(parent, BaseModel)
            options = list(parent.model_fields) if is_model else []
            hint = did_you_mean(key, options)
            message = f"unknown key {shown(key)}" + (f"; {hint}" if hint else "")
        else:
            message = _message(err)
        if (path, message) not in seen:
            seen.add((path, message))
            problems.append(Problem(path, message))
    if len(problems) > MAX_PROBLEMS:
        more = len(problems) - MAX_PROBLEMS
        problems = [*problems[:MAX_PROBLEMS], Problem("", f"... and {_plural(more, 'more problem')}")]
    return problems
