"""Tiny canonical instances shared by the model tests, with flat, hand-computable inputs.

``tiny_data()`` is one year, one server type, one cooling technology, no policy; every
number is chosen so that optima can be worked out by hand in the test beside them:

* server ``gpu``: 1 PFLOPS, 1,000 tokens/s, 10 kW full = idle (power independent of load),
  1 U, 1,000,000 CNY, 1-year life, MFU 1, availability 1;
* cooling ``air``: 20 kW and 42 U per rack, 100,000 CNY per rack; kappa = 0.1 at every
  temperature the profile has (free cooling below 50 °C, fans and pumps 0.1); plant units of 1 MW for
  1,000,000 CNY, N+0;
* halls of 100 slots and 1 MW for 10,000,000 CNY, no aux losses, no oversubscription;
* grid blocks of 10 MVA at pf 1 for 1,000,000 CNY, N-0; flat 0.5 CNY/kWh in every hour,
  no fixed charge; no PPA, PV, battery; gensets not required (critical fraction 0);
* discount rate 0, so the capital recovery factor of a 1-year asset is 1.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planner.scenario import Scenario, scenario_from_dict

FLAT_PROFILE = {
    "dry_bulb_c": 15.0,
    "wet_bulb_c": 12.0,
    "pv_cf": 0.0,
    "inference_shape": 1.0,
    "hydro_availability": 1.0,
    "wind_availability": 0.0,
    "grid_emission_t_per_mwh": 0.5,
}


def write_profile(path: Path, **columns: Any) -> Path:
    """Write an 8760-hour profile CSV: flat values, overridable per column by a scalar or a
    24-value daily shape (repeated every day) or an 8760-value array; other names add columns."""
    ts = pd.date_range("2026-01-01", periods=8760, freq="h")
    frame = pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%dT%H:%M")})
    for name, default in {**FLAT_PROFILE, **columns}.items():
        value = columns.get(name, default)
        arr = np.asarray(value, dtype=float)
        if arr.ndim == 0:
            arr = np.full(8760, float(arr))
        elif arr.size == 24:
            arr = np.tile(arr, 365)
        frame[name] = arr
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def tiny_data(profile: Path) -> dict[str, Any]:
    """The tiny scenario as a YAML-like dict (see the module docstring)."""
    return {
        "name": "tiny",
        "years": [2026],
        "finance": {"discount_rate": 0.0},
        "time": {"profiles": str(profile), "representative_days": 1, "extreme_days": {}},
        "demand": {
            "training": {"flop": 0, "flexibility": 1.0},
            "inference": {"peak_tokens_per_s": 2000, "reserve_margin": 0.0},
            "shortfall_penalty": {
                "training_cny_per_eflop": 1e6,
                "inference_cny_per_million_tokens": 1e6,
                "reserve_cny_per_token_per_s": 1e6,
            },
        },
        "accelerators": {
            "gpu": {
                "vendor": "X",
                "chip": "G1",
                "domestic": False,
                "accelerators_per_server": 8,
                "pflops_per_server": 1.0,
                "tokens_per_s": 1000,
                "full_kw": 10,
                "idle_kw": 10,
                "rack_units": 1,
                "capex_cny": 1e6,
                "fixed_om_fraction": 0.0,
                "lifetime_years": 1,
                "mfu": 1.0,
                "availability": 1.0,
                "cooling": ["air"],
            }
        },
        "cooling": {
            "air": {
                "rack_kw_max": 20,
                "rack_units": 42,
                "capex_cny_per_rack": 1e5,
                "lifetime_years": 1,
                "fixed_om_fraction": 0.0,
                "basis": "dry_bulb",
                "free_cooling_below_c": 50,
                "mechanical_above_c": 60,
                "cop_rated": 5,
                "fans_pumps_kw_per_kw": 0.1,
                "plant": {
                    "unit_mw": 1.0,
                    "capex_cny_per_unit": 1e6,
                    "redundancy": 0,
                    "lifetime_years": 1,
                    "fixed_om_fraction": 0.0,
                },
            }
        },
        "facility": {
            "hall": {"rack_slots": 100, "it_mw": 1.0, "capex_cny": 1e7, "lifetime_years": 1, "fixed_om_fraction": 0.0},
            "max_halls": 10,
            "aux_loss_fraction": 0.0,
            "oversubscription": 1.0,
        },
        "power": {
            "grid": {
                "block_mva": 10,
                "power_factor": 1.0,
                "capex_cny_per_block": 1e6,
                "lifetime_years": 1,
                "fixed_om_fraction": 0.0,
                "max_blocks": 10,
                "redundancy": 0,
                "tariff": {
                    "flat_cny_per_kwh": 0.5,
                    "non_floating_cny_per_kwh": 0.0,
                    "seasons": [{"name": "all", "months": list(range(1, 13))}],
                    "fixed_charge_basis": "capacity",
                    "capacity_cny_per_kva_month": 0.0,
                },
            },
            "pv": {"capex_cny_per_kw": 1000, "max_mw": 0, "lifetime_years": 1, "fixed_om_fraction": 0.0},
            "battery": {
                "capex_cny_per_kwh": 100,
                "capex_cny_per_kw": 100,
                "max_mwh": 0,
                "max_mw": 0,
                "lifetime_years": 1,
                "fixed_om_fraction": 0.0,
            },
            "generators": {
                "unit_mw": 1.0,
                "capex_cny_per_unit": 1e5,
                "redundancy": 0,
                "critical_fraction": 0.0,
                "lifetime_years": 1,
                "fixed_om_fraction": 0.0,
            },
            "green_certificates": {"price_cny_per_mwh": 0.0, "max_share": 0.0},
        },
        "solver": {"time_limit_s": 60, "mip_gap": 1e-6},
    }


def tiny(profile: Path, changes: dict[str, Any] | None = None) -> Scenario:
    """The tiny scenario with ``changes`` deep-merged in (dotted keys allowed)."""
    data = copy.deepcopy(tiny_data(profile))
    for key, value in (changes or {}).items():
        node = data
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return scenario_from_dict(data)
