"""Kill-safety: real ``plan solve`` and ``plan sweep`` processes killed with SIGKILL at random moments.

The product rule (DESIGN.md §1): an interrupted run never leaves a half-written file. Each test
starts the real command as its own process group, kills the whole group at a seeded random
moment — either a random delay over the whole run (start-up, loading, solving, writing) or just
after a temp file of an output appears (the middle of a write) — and then checks every output:

* a results file present loads completely (xarray) and is either the old file, byte for byte, or
  the complete new one; a report present ends with ``</html>`` and is the old page or the new one;
* nothing else is in the output folders but temp files named by :mod:`planner.results.io` (never a
  name a tool takes for a result), which the next run removes;
* a sweep restarted after the kills completes with exactly its cases: none lost, none solved
  again once it was saved, the combined file identical to an uninterrupted run's.

The tiny scenario of ``tests/tiny.py`` keeps a run to a few seconds, most of it start-up.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from test_sweep import GRID, TINY_NPV, comparable, inputs, reference, traced, write_yaml  # noqa: F401
from tiny import tiny_data, write_profile

from planner.results.io import HOST_TAG, atomic_path, read_dataset, remove_stale_temps
from planner.studies.sweep import TRACE_ENV

pytestmark = pytest.mark.long  # real processes killed at random moments: minutes of start-ups; its own step of .ci/run

#: The temp-file names planner.results.io documents: ``.<target>.<pid>.<host tag>.<random>.tmp[.suffix]``.
TEMP_NAME = re.compile(r"^\.(?P<target>.+)\.(?P<pid>\d+)\.(?P<host>[0-9a-f]{8})\.(?P<rand>[a-z0-9_]+)\.tmp(\.\w+)?$")


def is_temp_name(name: str) -> bool:
    """True for the name of a temp file written by :func:`atomic_path` (never a result)."""
    return TEMP_NAME.match(name) is not None


PLAN = [sys.executable, "-m", "planner.cli"]
SOLVE_KILLS = 12
SWEEP_KILLS = 10
WRITE_WINDOW_S = 0.03  # "at a write" kills land within this long after a temp file appears


# --------------------------------------------------------------------------- helpers


def start(args: list[str], cwd: Path, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    with log.open("ab") as err:
        return subprocess.Popen(
            [*PLAN, *args],
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,  # its own process group: the kill reaches sweep workers too
        )


def temps(*folders: Path) -> list[Path]:
    return [p for f in folders if f.is_dir() for p in f.iterdir() if is_temp_name(p.name)]


def snapshot(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Name -> (inode, modification time, size) of every file in ``folder`` (empty if there is none)."""
    out = {}
    for entry in os.scandir(folder) if folder.is_dir() else []:
        with contextlib.suppress(FileNotFoundError):
            if entry.is_dir():  # a sweep's parts folder: its own writes are watched on their own
                continue
            st = entry.stat()
            out[entry.name] = (st.st_ino, st.st_mtime_ns, st.st_size)
    return out


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:  # pragma: no cover - already gone
        pass
    proc.wait(timeout=60)


def run_and_kill(
    proc: subprocess.Popen[bytes], rng: random.Random, full_run_s: float, watch: Path
) -> tuple[str, float]:
    """Kill ``proc`` at a random moment; return (how, seconds after start); ``finished``: it ended first.

    Half of the kills come after a delay drawn uniformly over a whole run; the other half within
    a few milliseconds after a write starts in the folder ``watch``: a file appears there (a temp
    file, say) or one changes (which would be a write in place).
    """
    t0 = time.monotonic()
    at_write = rng.random() < 0.5
    before = snapshot(watch)  # what earlier runs left, temp files included
    delay = rng.uniform(0, WRITE_WINDOW_S) if at_write else rng.uniform(0, full_run_s)
    deadline = t0 + (120 if at_write else delay)
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return "finished", time.monotonic() - t0
            if at_write and snapshot(watch) != before:
                time.sleep(delay)
                break
            time.sleep(0.001 if at_write else 0.005)
        kill_group(proc)
    finally:
        if proc.poll() is None:
            kill_group(proc)
    how = "finished" if proc.returncode == 0 else ("at write" if at_write else "timed")
    assert proc.returncode in (0, -signal.SIGKILL), f"the run failed by itself: exit {proc.returncode}"
    return how, time.monotonic() - t0


def timed_run(args: list[str], cwd: Path, log: Path, env: dict[str, str] | None = None) -> float:
    t0 = time.monotonic()
    proc = start(args, cwd, log, env)
    assert proc.wait(timeout=300) == 0, log.read_text()
    return time.monotonic() - t0


def html_is_complete(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    assert text.rstrip().endswith("</html>"), f"{path} is cut short"
    return text


# --------------------------------------------------------------------------- the atomic writer itself


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "x.nc"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("killed mid-write")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.nc"]
    with atomic_path(target) as tmp:
        assert is_temp_name(tmp.name) and tmp.parent == tmp_path
        assert not tmp.name.endswith((".nc", ".html", ".json")), "a temp name must never look like a result"
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new"
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask()), "results get the normal file mode"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_only_stale_temps_of_this_host_are_removed(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".x.nc.{dead.pid}.{HOST_TAG}.abc_123.tmp"
    live = tmp_path / f".x.nc.{os.getpid()}.{HOST_TAG}.def456.tmp"  # this process: still writing
    other_host = tmp_path / f".x.nc.{dead.pid}.{'0' * 8 if HOST_TAG != '0' * 8 else '1' * 8}.ghi789.tmp"
    mps = tmp_path / f".m.mps.{dead.pid}.{HOST_TAG}.jkl000.tmp.mps"
    foreign = tmp_path / ".notes.tmp"  # not ours: never touched
    for p in (stale, live, other_host, mps, foreign):
        p.write_bytes(b"partial")
    removed = remove_stale_temps(tmp_path)
    assert sorted(removed) == sorted([stale, mps])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in (live, other_host, foreign))


def test_an_output_that_cannot_be_written_exits_2_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from planner.cli import cli

    monkeypatch.chdir(tmp_path)
    profile = write_profile(tmp_path / "profile.csv")
    scenario = write_yaml(tmp_path / "tiny.yaml", tiny_data(profile))
    (tmp_path / "taken").mkdir()  # a folder where a file should go
    for args in (["solve", str(scenario), "-o", "taken"], ["solve", str(scenario), "-r", "taken"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2 and "taken: Is a directory" in result.output, result.output
        assert "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["report", "results/tiny.nc", "-o", "taken"])
    assert result.exit_code == 2 and "taken: Is a directory" in result.output, result.output
    assert not list((tmp_path / "taken").iterdir())
    assert not temps(tmp_path, tmp_path / "results", tmp_path / "reports")


# --------------------------------------------------------------------------- plan solve


@pytest.fixture
def solve_work(tmp_path: Path) -> Path:
    """A working folder with the tiny scenario and the *old* outputs of another plan of it."""
    work = tmp_path / "work"
    profile = write_profile(work / "profile.csv")
    write_yaml(work / "tiny.yaml", tiny_data(profile))
    return work


def test_solve_killed_at_random_moments_leaves_old_or_new_outputs_only(solve_work: Path, tmp_path: Path) -> None:
    work = solve_work
    results, reports = work / "results", work / "reports"
    nc, html = results / "tiny.nc", reports / "tiny.html"
    log = tmp_path / "solve.log"
    # the old plan: peak 1,000 tokens/s; every killed run plans peak 2,000 tokens/s over it
    timed_run(["solve", "tiny.yaml", "--set", "demand.inference.peak_tokens_per_s=1000"], work, log)
    old_nc, old_html = nc.read_bytes(), html.read_bytes()
    old_hash = read_dataset(nc).attrs["input_hash"]
    args = ["solve", "tiny.yaml", "--set", "demand.inference.peak_tokens_per_s=2000"]
    full_run_s = timed_run(args, work, log)
    new = read_dataset(nc)
    new_hash, new_npv = new.attrs["input_hash"], float(new["npv_cny"])
    assert new_hash != old_hash and new_npv == pytest.approx(TINY_NPV[2000], rel=1e-6)

    rng = random.Random(7)
    outcomes: Counter[str] = Counter()
    moments: list[str] = []
    left_temps = 0
    while outcomes["timed"] + outcomes["at write"] < SOLVE_KILLS:
        assert len(moments) < 3 * SOLVE_KILLS, f"too few runs could be killed: {moments}"
        nc.write_bytes(old_nc)
        html.write_bytes(old_html)
        watch = (results, reports)[len(moments) % 2]  # at-write kills alternate: the results, the report
        how, when = run_and_kill(start(args, work, log), rng, full_run_s, watch)
        outcomes[how] += 1
        moments.append(f"{how}{f' ({watch.name})' * (how == 'at write')} {when:.1f} s")
        for folder, name in ((results, "tiny.nc"), (reports, "tiny.html")):
            others = [p.name for p in folder.iterdir() if p.name != name and not is_temp_name(p.name)]
            assert not others, f"stray files after a kill at {when:.2f} s: {others}"
        left_temps += len(temps(results, reports))
        # each output is the old file untouched, or the complete new one
        if nc.read_bytes() == old_nc:
            outcomes["results old"] += 1
        else:
            ds = read_dataset(nc)  # loads completely
            assert ds.attrs["input_hash"] == new_hash and float(ds["npv_cny"]) == pytest.approx(new_npv, rel=1e-9)
            outcomes["results new"] += 1
        if html.read_bytes() == old_html:
            outcomes["report old"] += 1
        else:
            assert new_hash in html_is_complete(html), "a changed report is the new plan's report"
            outcomes["report new"] += 1
    print(f"\nplan solve (a whole run {full_run_s:.1f} s): {dict(outcomes)}, {left_temps} temps left: {moments}")
    assert outcomes["results old"] and outcomes["results new"], "kills must come before and after the results"
    assert outcomes["report old"], "some kills must come before the report is written"

    # the next complete run removes the temp files the killed runs left, and writes both outputs
    timed_run(args, work, log)
    assert sorted(p.name for p in results.iterdir()) == ["tiny.nc"]
    assert sorted(p.name for p in reports.iterdir()) == ["tiny.html"]
    assert read_dataset(nc).attrs["input_hash"] == new_hash
    assert new_hash in html_is_complete(html)


# --------------------------------------------------------------------------- plan sweep


_CHECKED: set[tuple[str, int, int, int]] = set()


def check_sweep_folder(parts: Path, expected_npv: dict[str, float]) -> set[str]:
    """Every part file is complete; returns the ids of the saved cases (those with a record)."""
    saved = set()
    for p in parts.iterdir() if parts.is_dir() else []:
        if is_temp_name(p.name) or p.name == ".lock":
            continue
        if p.name.endswith(".basis.npz"):  # the warm start of the cases: complete whenever it exists
            assert p.name.removesuffix(".basis.npz") in expected_npv, f"stray file {p.name}"
            with np.load(p) as basis:
                assert len(basis["cols"]) > 0 and len(basis["rows"]) > 0
            continue
        if p.name.endswith(".plan.npz"):  # an anchor's plan, the start of the cases moved from it: complete too
            assert p.name.removesuffix(".plan.npz") in expected_npv, f"stray file {p.name}"
            with np.load(p) as start:
                assert len(start["x"]) == len(start["cols"]) > 0 and len(start["rows"]) > 0
            continue
        assert p.suffix in (".nc", ".json") and p.stem in expected_npv, f"stray file {p.name}"
        if p.suffix == ".json":
            record = json.loads(p.read_text(encoding="utf-8"))  # complete JSON
            assert record["id"] == p.stem and record["status"] == "optimal" and record["has_plan"]
            assert (parts / f"{p.stem}.nc").is_file(), "a record is written after its plan"
            saved.add(p.stem)
            continue
        stat = p.stat()  # a plan, possibly still without its record: complete anyway (each version read once)
        key = (str(p), stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if key not in _CHECKED:
            assert float(read_dataset(p)["npv_cny"]) == pytest.approx(expected_npv[p.stem], rel=1e-9)
            _CHECKED.add(key)
    return saved


def test_sweep_killed_at_random_moments_resumes_with_exactly_its_cases(
    inputs: Path,  # noqa: F811 - the fixture of test_sweep
    reference: xr.Dataset,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Runs on 1 worker (cases in the sweep's own process) and on 2 worker processes, picked at random
    per run: a sweep killed on one may be resumed on the other."""
    work = tmp_path / "work"
    work.mkdir()
    results = work / "results" / "sweeps"
    parts, combined = results / "tiny_grid", results / "tiny_grid.nc"
    reports = work / "reports" / "sweeps"
    ids = reference["case_id"].values.ravel().tolist()
    expected_npv = dict(zip(ids, reference["objective"].values.ravel().tolist(), strict=True))
    log = tmp_path / "sweep.log"

    def args(workers: int) -> list[str]:
        return ["sweep", str(inputs / "grid.yaml"), "--workers", str(workers), "--no-case-reports"]

    scratch = tmp_path / "scratch"  # an uninterrupted run elsewhere, to time one
    scratch.mkdir()
    full_run_s = timed_run(args(2), scratch, log)

    rng = random.Random(100)
    outcomes: Counter[str] = Counter()
    runs: list[tuple[set[str], list[str]]] = []  # per run: cases saved before it, cases it started
    moments: list[str] = []
    while outcomes["timed"] + outcomes["at write"] < SWEEP_KILLS:
        assert len(runs) < 3 * SWEEP_KILLS, f"too few runs could be killed: {moments}"
        saved_before = check_sweep_folder(parts, expected_npv)
        trace = tmp_path / f"trace{len(runs)}.txt"
        workers = rng.choice([1, 2])
        proc = start(args(workers), work, log, {TRACE_ENV: str(trace)})
        # at-write kills take turns: while cases remain every other one at a part, else the combined file or the report
        k = len(runs)
        watch = parts if saved_before != set(ids) and k % 2 == 0 else (results, reports)[(k // 2) % 2]
        how, when = run_and_kill(proc, rng, full_run_s, watch)
        outcomes[how] += 1
        where = f" ({watch.relative_to(work)})" * (how == "at write")
        moments.append(f"{workers} worker{'s' * (workers > 1)}: {how}{where} {when:.1f} s")
        runs.append((saved_before, traced(trace)))
        saved = check_sweep_folder(parts, expected_npv)
        assert saved >= saved_before, "a saved case was lost"
        if combined.exists():  # complete, and what an uninterrupted run gives
            xr.testing.assert_identical(comparable(read_dataset(combined)), comparable(reference))
        if (reports / "tiny_grid.html").exists():
            html_is_complete(reports / "tiny_grid.html")
        if how == "finished":  # start again from nothing, to kill the solving phase again
            assert saved == set(ids)
            for p in [*parts.iterdir(), combined]:
                p.unlink()
    print(f"\nplan sweep (a whole run {full_run_s:.1f} s): {dict(outcomes)}: {moments}")

    trace = tmp_path / "last.txt"
    saved_before = check_sweep_folder(parts, expected_npv)
    timed_run(args(2), work, log, {TRACE_ENV: str(trace)})
    runs.append((saved_before, traced(trace)))
    for saved_before, started in runs:
        assert not saved_before & set(started), "a saved case was solved again"
        assert len(started) == len(set(started)), "a run started a case twice"
    assert sorted(runs[-1][1]) == sorted(set(ids) - runs[-1][0]), "the last run solves exactly the missing cases"
    names = sorted(p.name for p in parts.iterdir())
    # the anchors (the first case of each run of the last path, the grid's first among them): their
    # relaxation bases are the cases' warm starts, and their plans the first try of the cases moved from them
    anchors = reference["case_id"].values[..., 0].ravel().tolist()
    starts = [*(f"{a}.basis.npz" for a in anchors), *(f"{a}.plan.npz" for a in anchors)]
    expected = [".lock", *starts, *(f"{i}.nc" for i in ids), *(f"{i}.json" for i in ids)]
    assert names == sorted(expected)
    assert not temps(results, reports), "the completed run removes what killed runs left"
    xr.testing.assert_identical(comparable(read_dataset(combined)), comparable(reference))
    html_is_complete(reports / "tiny_grid.html")


# --------------------------------------------------------------------------- SIGTERM


def descendants(pid: int) -> set[int]:
    """Processes below ``pid`` (children, their children, ...), from /proc."""
    parent: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parent[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parent.items() if pp in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has finished; only its exit status is left


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process tree from /proc")
@pytest.mark.parametrize(("signum", "said"), [(signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "Ctrl-C")])
def test_a_stopped_sweep_stops_its_workers(tmp_path: Path, signum: int, said: str) -> None:
    """``kill <pid>`` of a sweep (SIGTERM to its own process only, as a batch scheduler sends it)
    or a SIGINT to it stops the worker processes in the middle of their cases too, instead of
    leaving them to solve on with nobody to save their results, and exits 128 + the signal."""
    default = Path(__file__).resolve().parents[1] / "inputs" / "2030.yaml"
    write_yaml(tmp_path / "base.yaml", {"extends": str(default), "time": {"representative_days": 3}})
    grid = {"power.grid.tariff.scale": [0.8, 1.2, 1.6, 2.0]}
    spec = {"name": "slow_grid", "base": "base.yaml", "grid": grid, "shadow_prices": False}
    write_yaml(tmp_path / "grid.yaml", {**spec, "solver": {"time_limit_s": 120, "mip_gap": 1e-4}})
    trace, log = tmp_path / "trace.txt", tmp_path / "sweep.log"
    proc = start(
        ["sweep", "grid.yaml", "--workers", "2", "--no-case-reports"], tmp_path, log, {TRACE_ENV: str(trace)}
    )
    try:
        deadline = time.monotonic() + 240
        # the first case's relaxation runs in the sweep's process; then both workers take a case
        while not (trace.exists() and len(trace.read_text().splitlines()) >= 2):
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the workers never started"
            time.sleep(0.05)
        time.sleep(1.0)  # well inside their solves
        below = descendants(proc.pid)
        workers = {int(line.split()[1]) for line in trace.read_text().splitlines()} - {proc.pid}
        assert workers and workers <= below, (workers, below)
        os.kill(proc.pid, signum)
        assert proc.wait(timeout=60) == 128 + signum, log.read_text()
        deadline = time.monotonic() + 10
        while any(alive(p) for p in below) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [p for p in below if alive(p)], "worker processes outlived the sweep"
        assert f"stopped ({said})" in log.read_text()
    finally:
        if proc.poll() is None:
            kill_group(proc)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
