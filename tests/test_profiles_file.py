"""Checks on the shipped synthetic site profiles ``inputs/profiles/chengdu.csv``."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planner.time.profiles import PROFILE_COLUMNS

REPO_ROOT = Path(__file__).resolve().parents[1]
CSV_PATH = REPO_ROOT / "inputs" / "profiles" / "chengdu.csv"
SCRIPT_PATH = REPO_ROOT / "scripts" / "make_profiles.py"

EXPECTED_COLUMNS = ["timestamp", *PROFILE_COLUMNS]

# CMA 1981-2010 monthly mean dry-bulb normals, Dujiangyan/Chengdu [degC]
T_MEAN_NORMAL = [5.1, 7.0, 10.7, 15.8, 20.3, 22.9, 24.8, 24.3, 20.7, 16.1, 11.6, 6.4]


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return pd.read_csv(CSV_PATH, comment="#")


@pytest.fixture(scope="module")
def gen_module():
    spec = importlib.util.spec_from_file_location("make_profiles_under_test", SCRIPT_PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_header_comments_and_columns():
    lines = CSV_PATH.read_text(encoding="utf-8").splitlines()
    n_comment = 0
    while lines[n_comment].startswith("#"):
        assert lines[n_comment].startswith("# ")
        n_comment += 1
    assert n_comment >= 3
    comment_text = "\n".join(lines[:n_comment])
    assert "make_profiles.py" in comment_text
    assert "[E]" in comment_text
    assert lines[n_comment].split(",") == EXPECTED_COLUMNS
    assert len(lines) - n_comment - 1 == 8760


def test_shape_and_time_axis(df):
    assert list(df.columns) == EXPECTED_COLUMNS
    assert len(df) == 8760
    assert not df.isna().any().any()
    ts = pd.to_datetime(df["timestamp"], format="%Y-%m-%dT%H:%M")
    expected = pd.date_range("2026-01-01 00:00", "2026-12-31 23:00", freq="h")
    assert (ts.to_numpy() == expected.to_numpy()).all()
    assert df["timestamp"].iloc[0] == "2026-01-01T00:00"
    assert df["timestamp"].iloc[-1] == "2026-12-31T23:00"


def test_physical_ranges(df):
    ts = pd.to_datetime(df["timestamp"])
    assert (df["wet_bulb_c"] <= df["dry_bulb_c"]).all()
    assert df["dry_bulb_c"].between(-10, 45, inclusive="neither").all()
    assert 25.0 <= df["wet_bulb_c"].max() <= 28.0
    assert df["pv_cf"].between(0, 1).all()
    assert (df.loc[ts.dt.hour == 0, "pv_cf"] == 0).all()
    assert df["inference_shape"].max() == 1.0
    assert df["inference_shape"].between(0, 1).all()
    for col in ("hydro_availability", "wind_availability"):
        assert df[col].between(0, 1).all(), col
    assert (df["grid_emission_t_per_mwh"] > 0).all()


def test_annual_means(df):
    assert abs(df["grid_emission_t_per_mwh"].mean() - 0.1404) <= 0.002
    assert 0.095 <= df["pv_cf"].mean() <= 0.105
    assert abs(df["wind_availability"].mean() - 0.22) <= 0.01


def test_seasonality(df):
    month = pd.to_datetime(df["timestamp"]).dt.month
    wet = month.isin([6, 7, 8, 9, 10])
    dry = month.isin([12, 1, 2, 3, 4])
    assert df.loc[wet, "hydro_availability"].mean() > df.loc[dry, "hydro_availability"].mean() + 0.25
    assert df.loc[wet, "grid_emission_t_per_mwh"].mean() < df.loc[dry, "grid_emission_t_per_mwh"].mean()
    summer = month.isin([6, 7, 8])
    winter = month.isin([12, 1, 2])
    assert df.loc[summer, "pv_cf"].mean() > df.loc[winter, "pv_cf"].mean()


def test_monthly_mean_dry_bulb_matches_normals(df):
    month = pd.to_datetime(df["timestamp"]).dt.month
    monthly = df.groupby(month)["dry_bulb_c"].mean().to_numpy()
    assert np.all(np.abs(monthly - np.array(T_MEAN_NORMAL)) <= 1.0), monthly


def test_generator_reproduces_shipped_file(gen_module, tmp_path):
    out = tmp_path / "chengdu.csv"
    gen_module.write_csv(gen_module.make_profiles(), out)
    assert out.read_bytes() == CSV_PATH.read_bytes()
