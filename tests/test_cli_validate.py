"""`plan validate` on the shipped default: exit 0 and a summary a planner can read."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from planner.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def test_validate_default_prints_a_readable_summary():
    result = CliRunner().invoke(cli, ["validate", str(ROOT / "inputs" / "2030.yaml")])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "valid scenario tianfu-2030" in out
    assert "years 2026–2030" in out
    for section in (
        "Server types",
        "Cooling technologies",
        "Policy limits by year",
        "Representative days",
        "Aggregation error",
    ):
        assert section in out
    for name in ("h20", "h200", "ascend_910c", "ascend_950", "mlu590", "air", "dlc", "immersion"):
        assert name in out
    assert "weights sum to 365 days" in out
    # the extreme days kept on their own are labelled
    assert "wet_bulb_c:max" in out and "inference_shape:max" in out
    # the aggregation error reports every profile column with a signed percentage
    assert re.search(r"pv_cf\s*│[^\n]*[+-]\d+\.\d\d", out)


def test_validate_with_set_override_shows_the_new_value():
    result = CliRunner().invoke(cli, ["validate", str(ROOT / "inputs" / "2030.yaml"), "--set", "policy.pue_max=1.17"])
    assert result.exit_code == 0, result.output
    pue_row = next(line for line in result.output.splitlines() if line.startswith("│ pue_max"))
    assert pue_row.count("1.17") == 5


def test_validate_lists_the_files_read_and_flags_those_outside_the_folder(tmp_path: Path) -> None:
    """The extends chain with resolved absolute paths; a base outside the scenario's folder tree is flagged."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "middle.yaml").write_text(f"extends: {ROOT / 'inputs' / '2030.yaml'}\nname: middle\n")
    child = tmp_path / "child.yaml"
    child.write_text("extends: sub/./middle.yaml\nname: child\n")
    result = CliRunner().invoke(cli, ["validate", str(child)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    start = lines.index("files read:")
    rows = [line.split() for line in lines[start + 1 : start + 5]]
    assert rows[0] == ["scenario", str(child.resolve())]
    assert rows[1] == ["extends", str((tmp_path / "sub" / "middle.yaml").resolve())]  # inside: not flagged
    assert rows[2] == ["extends", str((ROOT / "inputs" / "2030.yaml").resolve()), "outside", str(tmp_path.resolve())]
    assert rows[3][:3] == ["profiles", str((ROOT / "inputs" / "profiles" / "chengdu.csv").resolve()), "outside"]
    assert "some files lie outside the scenario's own folder tree" in result.stdout


def test_validate_of_the_default_flags_nothing() -> None:
    result = CliRunner().invoke(cli, ["validate", str(ROOT / "inputs" / "2030.yaml")])
    assert result.exit_code == 0, result.output
    assert "outside" not in result.stdout
    assert f"  profiles  {(ROOT / 'inputs' / 'profiles' / 'chengdu.csv').resolve()}" in result.stdout
