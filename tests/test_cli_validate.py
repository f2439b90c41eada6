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
    for section in ("Server types", "Cooling technologies", "Policy limits by year", "Representative days",
                    "Aggregation error"):
        assert section in out
    for name in ("h20", "h200", "ascend_910c", "ascend_950", "mlu590", "air", "dlc", "immersion"):
        assert name in out
    assert "weights sum to 365 days" in out
    # the extreme days kept on their own are labelled
    assert "wet_bulb_c:max" in out and "inference_shape:max" in out
    # the aggregation error reports every profile column with a signed percentage
    assert re.search(r"pv_cf\s*│[^\n]*[+-]\d+\.\d\d", out)


def test_validate_with_set_override_shows_the_new_value():
    result = CliRunner().invoke(
        cli, ["validate", str(ROOT / "inputs" / "2030.yaml"), "--set", "policy.pue_max=1.17"]
    )
    assert result.exit_code == 0, result.output
    pue_row = next(line for line in result.output.splitlines() if line.startswith("│ pue_max"))
    assert pue_row.count("1.17") == 5
