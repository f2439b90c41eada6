"""The input-format reference ``docs/inputs.md`` is generated from the schema and covers all of it.

The walk over the schema here is written independently of ``scripts/schema_doc.py`` so that a
field the generator skips is caught.
"""

from __future__ import annotations

import difflib
import importlib.util
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from planner.scenario.fields import unwrap
from planner.scenario.schema import Scenario

REPO_ROOT = Path(__file__).resolve().parents[1]
DOC_PATH = REPO_ROOT / "docs" / "inputs.md"
SCRIPT_PATH = REPO_ROOT / "scripts" / "schema_doc.py"
REGENERATE = "python scripts/schema_doc.py"

# Leaf fields of planner/scenario/schema.py allowed to go without a docstring: none any more.
# test_every_leaf_field_has_a_description holds every field to that; the list stays so that an
# exception, should one ever be needed, is written down here rather than silently skipped.
KNOWN_UNDOCUMENTED: set[str] = set()


def _load_script() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("schema_doc", SCRIPT_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def schema_doc() -> types.ModuleType:
    return _load_script()


@pytest.fixture(scope="module")
def rendered(schema_doc: types.ModuleType) -> str:
    return schema_doc.render()


def _strip(annotation: typing.Any) -> typing.Any:
    return unwrap(annotation).base


def _is_model(annotation: typing.Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _leaves(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, FieldInfo]]:
    """Every leaf field: ``a.b`` for nested models, ``a.<name>.b`` in maps, ``a[].b`` in lists."""
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        base = _strip(info.annotation)
        origin, args = typing.get_origin(base), typing.get_args(base)
        if _is_model(base):
            yield from _leaves(base, f"{path}.")
        elif origin is dict and _is_model(_strip(args[1])):
            yield from _leaves(_strip(args[1]), f"{path}.<name>.")
        elif origin is list and _is_model(_strip(args[0])):
            yield from _leaves(_strip(args[0]), f"{path}[].")
        else:
            yield path, info


LEAVES = dict(_leaves(Scenario))


def _undocumented() -> list[str]:
    return [path for path, info in LEAVES.items() if not (info.description or "").strip()]


def test_doc_is_generated_from_the_current_schema(rendered: str) -> None:
    assert DOC_PATH.is_file(), f"{DOC_PATH.relative_to(REPO_ROOT)} is missing: run `{REGENERATE}`"
    on_disk = DOC_PATH.read_text(encoding="utf-8")
    if on_disk != rendered:
        diff = list(difflib.unified_diff(on_disk.splitlines(), rendered.splitlines(), "on disk", "schema", lineterm=""))
        shown = "\n".join(diff[:40]) + ("\n..." if len(diff) > 40 else "")
        pytest.fail(f"docs/inputs.md is out of date with the schema or inputs/2030.yaml: run `{REGENERATE}`\n{shown}")


def test_check_flag_agrees(schema_doc: types.ModuleType, rendered: str, capsys: pytest.CaptureFixture[str]) -> None:
    expected = 0 if DOC_PATH.is_file() and DOC_PATH.read_text(encoding="utf-8") == rendered else 1
    assert schema_doc.main(["--check"]) == expected
    if expected:
        assert REGENERATE in capsys.readouterr().err


def test_schema_walk_finds_nested_keys() -> None:
    # Guards the walk itself: one key of each shape (nested, map of models, list of models, optional).
    for path in (
        "finance.discount_rate",
        "accelerators.<name>.full_kw",
        "cooling.<name>.plant.unit_mw",
        "power.ppa.<name>.max_mw",
        "power.grid.tariff.seasons[].peak",
        "existing.servers[].count",
        "policy.pue_max",
    ):
        assert path in LEAVES, path
    assert len(LEAVES) > 150


def test_every_leaf_field_is_in_the_doc(rendered: str) -> None:
    missing = [path for path in LEAVES if f"| `{path}` |" not in rendered]
    assert not missing, f"schema keys without a row in docs/inputs.md: {missing}"


def test_generator_rows_match_the_schema(schema_doc: types.ModuleType) -> None:
    documented = [path for path, _, _ in schema_doc.leaf_rows()]
    assert sorted(documented) == sorted(LEAVES)


def test_no_new_undocumented_fields() -> None:
    new = sorted(set(_undocumented()) - KNOWN_UNDOCUMENTED)
    assert not new, f"schema fields without a docstring (add one in planner/scenario/schema.py): {new}"


def test_every_leaf_field_has_a_description() -> None:
    missing = _undocumented()
    assert not missing, f"schema fields without a docstring: {missing}"
