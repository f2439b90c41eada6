"""Fuzzing kit for the ``plan`` CLI: a corpus of good inputs, mutations of them, and the contract.

A *case* is a folder of files (a scenario, maybe a profile CSV, a base it ``extends``, a sweep
file) and one ``plan`` command run on them in-process through click's ``CliRunner``, with that
folder as the working directory. The strategies below start from the shipped inputs
(``inputs/2030.yaml``, ``inputs/profiles/chengdu.csv``, ``inputs/sweeps/*.yaml``) and from the
tiny scenario of ``tests/tiny.py``, and break them: keys deleted, renamed or duplicated, values of
the wrong type, numbers negative / zero / NaN / inf / huge, unit strings garbled, YAML text
truncated or mis-indented or full of tabs and binary junk, files missing, profile CSVs cut short
or with text in number columns.

Every case must keep the CLI's contract (:func:`check`): exit 0, 1 or 2; a message for 1 and 2;
no Python traceback and no uncaught exception; each problem of a bad file named by its YAML path
(or by line and column for YAML syntax, by the CSV file for profiles); and finished inside a
wall-clock limit (:func:`wall_clock`; a hard ``faulthandler`` backstop ends the process if even
the signal cannot get through).

``plan solve`` runs only on the tiny scenario (``--time-limit 5``); the default scenario is
validated, never solved. ``plan sweep`` runs with its solving stage replaced by a stub
(:func:`dry_sweeps`): a sweep that reaches the stub passed validation; a bad one must exit 2
before it.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import faulthandler
import math
import os
import re
import shutil
import signal
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner, Result
from hypothesis import strategies as st

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_YAML = REPO_ROOT / "inputs" / "2030.yaml"
DEFAULT_PROFILES = REPO_ROOT / "inputs" / "profiles" / "chengdu.csv"
SWEEPS = sorted((REPO_ROOT / "inputs" / "sweeps").glob("*.yaml"))

#: Wall-clock limits of one case [s]: validation (the default's tsam clustering takes ~2 s on a
#: busy machine), a tiny solve (5 s HiGHS limit, plus model build and results).
VALIDATE_LIMIT_S = 45.0
SOLVE_LIMIT_S = 90.0
SOLVE_ARGS = ("--time-limit", "5", "--no-report", "--no-shadow-prices")

_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


# --------------------------------------------------------------------------- statistics


@dataclass
class Stats:
    """What the fuzz cases of this process did: counts by family and exit code, time spent."""

    cases: int = 0
    left_out: int = 0  #: cases drawn after the large job's time budget was spent, not run
    seconds: float = 0.0
    slowest: float = 0.0
    slowest_note: str = ""
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)

    def record(self, family: str, outcome: str, seconds: float, note: str) -> None:
        self.cases += 1
        self.seconds += seconds
        self.outcomes[(family, outcome)] += 1
        if seconds > self.slowest:
            self.slowest, self.slowest_note = seconds, f"{family}: {note}"

    def lines(self) -> list[str]:
        out = [
            f"fuzz: {self.cases} cases run through the CLI in {self.seconds:.1f} s "
            f"(slowest {self.slowest:.1f} s: {self.slowest_note[:100]})"
        ]
        if self.left_out:
            out.append(f"fuzz: {self.left_out} more cases drawn but not run: the time budget (FUZZ_BUDGET_S) was spent")
        families = sorted({f for f, _ in self.outcomes})
        for family in families:
            parts = ", ".join(f"{o} {n}" for (f, o), n in sorted(self.outcomes.items()) if f == family)
            out.append(f"  {family}: {parts}")
        return out


STATS = Stats()


# --------------------------------------------------------------------------- the corpus of good inputs


@dataclass(frozen=True)
class Corpus:
    """Good inputs every mutation starts from; files live in a private temp folder."""

    root: Path
    tiny_profile: Path
    tiny_yaml: Path
    tiny: dict[str, Any]
    default: dict[str, Any]
    default_text: str
    tiny_text: str
    tiny_profile_text: str
    default_profile_text: str
    tiny_sweep: dict[str, Any]
    shipped_sweeps: dict[str, dict[str, Any]]
    shipped_sweep_texts: dict[str, str]


@cache
def corpus() -> Corpus:
    """Build the corpus once per process (a temp folder removed at exit)."""
    from conftest import load_default_yaml_data
    from tiny import tiny_data, write_profile

    root = Path(tempfile.mkdtemp(prefix="plan-fuzz-"))
    atexit.register(shutil.rmtree, root, True)
    tiny_profile = write_profile(root / "tiny_profile.csv")
    tiny = tiny_data(tiny_profile)
    tiny_text = dump(tiny)
    tiny_yaml = root / "tiny.yaml"
    tiny_yaml.write_text(tiny_text, encoding="utf-8")
    default_text = re.sub(
        r"^(\s*profiles:\s*)profiles/chengdu\.csv",
        lambda m: m.group(1) + str(DEFAULT_PROFILES),
        DEFAULT_YAML.read_text(encoding="utf-8"),
        count=1,
        flags=re.M,
    )
    tiny_sweep = {
        "name": "fuzz_tiny",
        "base": str(tiny_yaml),
        "grid": {"power.grid.tariff.scale": [0.8, 1.2], "policy.pue_max": [1.2, 1.3]},
        "one_at_a_time": {"demand.inference.scale": [0.5, 2.0]},
        "solver": {"time_limit_s": 5, "mip_gap": 0.01},
        "shadow_prices": False,
    }
    shipped, shipped_texts = {}, {}
    for path in SWEEPS:
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"^base:.*$", f"base: {DEFAULT_YAML}", text, count=1, flags=re.M)
        shipped_texts[path.stem] = text
        shipped[path.stem] = yaml.safe_load(text)
    return Corpus(
        root=root,
        tiny_profile=tiny_profile,
        tiny_yaml=tiny_yaml,
        tiny=tiny,
        default=load_default_yaml_data(),
        default_text=default_text,
        tiny_text=tiny_text,
        tiny_profile_text=tiny_profile.read_text(encoding="utf-8"),
        default_profile_text=DEFAULT_PROFILES.read_text(encoding="utf-8"),
        tiny_sweep=tiny_sweep,
        shipped_sweeps=shipped,
        shipped_sweep_texts=shipped_texts,
    )


def dump(data: Any) -> str:
    """YAML text of ``data`` (block style, keys in order)."""
    return yaml.dump(data, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=10_000)


# --------------------------------------------------------------------------- cases


@dataclass
class Case:
    """One CLI run: files to write into a fresh folder, then ``plan <command> <target> <extra>``."""

    family: str
    command: str  #: validate, solve or sweep
    files: dict[str, bytes | str]
    target: str  #: the file named on the command line, relative to the case folder (may not exist)
    extra: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    structured: bool = False  #: the YAML text is intact: every problem must name a YAML path
    profile_file: str | None = None  #: a profile CSV of the case: problems must name it
    expect: frozenset[int] | None = None  #: exit codes allowed beyond the contract (None: 0, 1, 2)

    def __repr__(self) -> str:
        return f"<Case {self.family}: {'; '.join(self.notes)[:300]}>"

    def describe(self) -> str:
        lines = [f"{self.family}: plan {self.command} {self.target} {' '.join(self.extra)}".rstrip()]
        lines += [f"  - {n}" for n in self.notes]
        for name, content in self.files.items():
            text = content if isinstance(content, str) else repr(content[:400])
            lines.append(f"  --- {name} ({len(content)} chars):")
            lines.append("    " + text[:1500].replace("\n", "\n    "))
        return "\n".join(lines)


class CaseTimeout(BaseException):  # noqa: N818 - not an Exception on purpose: nothing may swallow it
    """A case ran past its wall-clock limit (a BaseException, so that ``except Exception`` cannot hide it)."""


@contextlib.contextmanager
def wall_clock(seconds: float) -> Iterator[None]:
    """Raise :class:`CaseTimeout` in the main thread after ``seconds``; end the process at 3x + 60 s.

    The signal reaches Python code (YAML parsing, pint, pydantic, pandas); a hang inside a C
    call that never returns is ended by ``faulthandler``, which prints every thread's stack.
    """
    def expire(signum: int, frame: Any) -> None:
        raise CaseTimeout(f"case exceeded its wall-clock limit of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    faulthandler.dump_traceback_later(3 * seconds + 60, exit=True)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        faulthandler.cancel_dump_traceback_later()


class WouldSolve(BaseException):  # noqa: N818 - a signal from the stub, not an error
    """Raised by the stub that replaces a sweep's solving stage: the sweep passed validation."""


@contextlib.contextmanager
def dry_sweeps() -> Iterator[None]:
    """Replace :func:`planner.studies.sweep.execute.solve_case` (the one seam that solves a case) by a stub."""
    import planner.studies.sweep.execute as sweep_module

    def stub(base_path: str, overrides: list[str], options: dict[str, Any], **_: Any) -> Any:
        raise WouldSolve(f"case {overrides} reached the solver")  # the relaxation basis of a first case too

    original = sweep_module.solve_case
    sweep_module.solve_case = stub
    try:
        yield
    finally:
        sweep_module.solve_case = original


def run(case: Case, dry: bool = True) -> tuple[Result | None, str]:
    """Run one case; return the click result (None if the dry sweep stub was reached) and its outcome."""
    from planner.cli import cli

    root = corpus().root / "cases"
    root.mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=root))
    for name, content in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_bytes(content.encode("utf-8", errors="surrogatepass"))
        else:
            path.write_bytes(content)
    args = [case.command, case.target]
    if case.command == "solve":
        args += [*SOLVE_ARGS, "-o", str(folder / "out" / "plan.nc")]
    if case.command == "sweep":
        args += ["--workers", "1", "--time-limit", "5", "--no-report"]
    args += case.extra  # last: an option given here overrides the defaults above
    limit = SOLVE_LIMIT_S if case.command != "validate" else VALIDATE_LIMIT_S
    cwd = os.getcwd()
    t0 = time.perf_counter()
    outcome = "?"
    try:
        os.chdir(folder)
        with wall_clock(limit), dry_sweeps() if (dry and case.command == "sweep") else contextlib.nullcontext():
            try:
                result = CliRunner().invoke(cli, args, catch_exceptions=True)
            except WouldSolve:
                outcome = "valid (stopped before solving)"
                return None, outcome
        outcome = f"exit {result.exit_code}"
        check(case, result, folder)
        return result, outcome
    except CaseTimeout as exc:
        outcome = "timeout"
        raise AssertionError(f"{exc}\n{case.describe()}") from None
    finally:
        os.chdir(cwd)
        STATS.record(case.family, outcome, time.perf_counter() - t0, "; ".join(case.notes))
        shutil.rmtree(folder, ignore_errors=True)


# --------------------------------------------------------------------------- the contract

_PROBLEM_LINE = re.compile(r"^  (\S.*?): (.*)$")


def problem_lines(stderr: str) -> list[tuple[str, str]]:
    """The ``  path: message`` lines of an exit-2 report."""
    out = []
    for line in stderr.splitlines():
        m = _PROBLEM_LINE.match(line)
        if m:
            out.append((m.group(1), m.group(2)))
    return out


def check(case: Case, result: Result, folder: Path) -> None:
    """The CLI's contract for any input; raise AssertionError with the case if it is broken."""

    def fail(why: str) -> None:
        raise AssertionError(f"{why}\n--- output:\n{result.output[-3000:]}\n--- case:\n{case.describe()}")

    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        tb = "".join(traceback.format_exception(*result.exc_info)) if result.exc_info else repr(exc)
        fail(f"uncaught {type(exc).__name__}: {exc}\n{tb}")
    if result.exit_code not in (0, 1, 2):
        fail(f"exit code {result.exit_code} (expected 0, 1 or 2)")
    if case.expect is not None and result.exit_code not in case.expect:
        fail(f"exit code {result.exit_code}, expected one of {sorted(case.expect)}")
    if "Traceback" in result.output:
        fail("a Python traceback was printed")
    stderr = result.stderr
    if result.exit_code in (1, 2) and not stderr.strip():
        fail(f"exit {result.exit_code} without a message on stderr")
    if result.exit_code == 2 and not stderr.startswith("Usage:"):
        lines = problem_lines(stderr)
        if "error:" not in stderr or not lines:
            fail("exit 2 without an 'error:' line and its problems")
        for path, message in lines:
            if not message.strip():
                fail(f"problem {path!r} has no message")
            if "not valid YAML" in message and "line " not in message:
                fail("a YAML syntax error without its line")
        if case.structured and not any(path != "(file)" for path, _ in lines):
            fail("no problem names a YAML path, though the file is valid YAML")
        if case.profile_file is not None and any(p == "time.profiles" for p, _ in lines):
            named = [m for p, m in lines if p == "time.profiles"]
            if not any(case.profile_file in m for m in named):
                fail(f"a profile problem does not name the file {case.profile_file}")
    if result.exit_code == 1 and case.command == "solve" and "no plan" not in stderr:
        fail("exit 1 without 'no plan' and its diagnosis")
    if result.exit_code == 0 and case.command == "validate":
        if "valid scenario" not in result.stdout:
            fail("exit 0 without 'valid scenario'")
        if "model size" not in result.stdout:
            fail("exit 0 without the model-size estimate")
    if result.exit_code == 0 and case.command == "solve" and not (folder / "out" / "plan.nc").is_file():
        fail("exit 0 but no results file")


# --------------------------------------------------------------------------- walking YAML-like data


def locations(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a key or list item of ``node``, parents before children."""
    out: list[tuple[Any, ...]] = []
    items: list[tuple[Any, Any]] = []
    if isinstance(node, dict):
        items = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    for key, value in items:
        out.append((*prefix, key))
        out += locations(value, (*prefix, key))
    return out


def get(node: Any, loc: tuple[Any, ...]) -> Any:
    for key in loc:
        node = node[key]
    return node


def dotted(loc: tuple[Any, ...]) -> str:
    return ".".join(str(k) for k in loc)


def _exists(data: Any, loc: tuple[Any, ...]) -> bool:
    try:
        parent = get(data, loc[:-1])
    except (KeyError, IndexError, TypeError):
        return False
    if isinstance(parent, dict):
        return loc[-1] in parent
    if isinstance(parent, list):
        return isinstance(loc[-1], int) and loc[-1] < len(parent)
    return False


# --------------------------------------------------------------------------- value strategies

UNITS = [
    "MW", "kW", "W", "GW", "MWh", "kWh", "MVA", "kVA", "CNY", "MCNY", "USD", "CNY/kWh", "CNY/MWh",
    "CNY/kW/month", "CNY/kW/year", "CNY/kVA/month", "degC", "degF", "K", "delta_degC", "%", "percent",
    "ppm", "s", "h", "hour", "year", "month", "t", "t/MWh", "tCO2", "FLOP", "EFLOP", "PFLOPS", "EFLOPS",
    "token/s", "Mtoken", "m", "kg", "dimensionless", "", "abc", "kW kW", "kW/h", "kW*h", "kW**2", "kW^2",
    "kW²", "kW·h", "1/0", "kW**-1", "kW**1e308", "kW**(1/0)", "(kW", "kW)", "__class__", "kW.__class__",
    "kW[0]", "kW{}", "µW", "ΔdegC", "megawatt", "MW MW MW", "MW/MW", "CNY*s/token/year", "NaN", "inf",
    "kW**99999999", "kW**-99999999", "10**10**10", "2**1000000 kW", "e", "E5", "kW#", "kW;", "kW\x00",
]

NUMBER_TEXTS = [
    "0", "-0", "1", "-1", "12", "1.5", "-5", "1e308", "1e309", "-1e400", "1e-320", "nan", "NaN", "inf",
    "-inf", ".5", "5.", "1_000", "0x10", "1,5", "12e", "++1", "--1", "1e1000000", "9" * 400, "", " ",
]


def unit_strings() -> st.SearchStrategy[str]:
    """``"<number> <unit>"`` strings, well-formed or not."""
    return st.builds(
        lambda n, sep, u: f"{n}{sep}{u}",
        st.sampled_from(NUMBER_TEXTS),
        st.sampled_from([" ", "", "  ", "\t", " * "]),
        st.sampled_from(UNITS),
    )


SPECIAL_NUMBERS = [
    0, -1, 1, 0.0, -0.0, -1e-9, 1e-300, 5e-324, 1e300, 1.7976931348623157e308, math.inf, -math.inf,
    math.nan, 2**31, 2**63, 2**64 + 1, 10**30, -(10**30), 10**400, 0.5, 2026, 1e15, 12345678901234567890,
]


def numbers_near(value: Any) -> st.SearchStrategy[Any]:
    """Numbers that break a field: negative, zero, NaN, inf, huge, tiny, scaled versions of ``value``."""
    options: list[st.SearchStrategy[Any]] = [st.sampled_from(SPECIAL_NUMBERS), st.floats(), st.integers()]
    if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) < 1e300:
        scale = st.sampled_from([-1, 0, 1e-12, 1e-3, 0.5, 2, 1e3, 1e12, 1e200])
        options.append(scale.map(lambda k: value * k))
        if isinstance(value, int):
            options.append(st.sampled_from([value - 1, value + 1, -value, value * 1000]))
    return st.one_of(options)


SCALARS = st.one_of(
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.booleans(),
    st.none(),
    st.sampled_from(["yes", "no", "null", "~", "2026-02-30", "1.2.3", "<<", "*", "&a", "!!binary"]),
)

VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=4),
    st.dictionaries(st.one_of(st.text(max_size=8), st.integers(1990, 2110)), SCALARS, max_size=4),
    unit_strings(),
)

KEY_NAMES = st.one_of(
    st.text(min_size=1, max_size=12),
    st.sampled_from(["ful_kw", "polcy", "2031", "x", "Accelerators", "__proto__", "extends", "base", "", " "]),
    st.integers(-5, 3000),
    st.booleans(),
    st.none(),
)


def typo(name: str) -> st.SearchStrategy[str]:
    """A misspelling of ``name``: a character dropped, doubled or swapped, or the case changed."""
    if len(name) < 2:
        return st.just(name + "_")
    return st.one_of(
        st.integers(0, len(name) - 1).map(lambda i: name[:i] + name[i + 1 :]),
        st.integers(0, len(name) - 1).map(lambda i: name[:i] + name[i] + name[i:]),
        st.integers(0, len(name) - 2).map(lambda i: name[:i] + name[i + 1] + name[i] + name[i + 2 :]),
        st.just(name.upper()),
        st.just(name + "s"),
    )


# --------------------------------------------------------------------------- structured mutations


@st.composite
def mutate_data(draw: st.DrawFn, data: dict[str, Any], max_changes: int = 3) -> tuple[dict[str, Any], list[str]]:
    """``data`` with 1..max_changes of: delete, rename (typo or junk), retype, renumber, unit string."""
    data = copy.deepcopy(data)
    notes: list[str] = []
    for _ in range(draw(st.integers(1, max_changes))):
        locs = locations(data)
        if not locs:
            break
        loc = draw(st.sampled_from(locs))
        if not _exists(data, loc):
            continue
        parent = get(data, loc[:-1])
        value = parent[loc[-1]]
        kind = draw(st.sampled_from(["delete", "rename", "retype", "number", "unit", "number", "unit", "retype"]))
        where = dotted(loc)
        if kind == "delete":
            del parent[loc[-1]]
            notes.append(f"deleted {where}")
        elif kind == "rename" and isinstance(parent, dict):
            key = loc[-1]
            new = draw(typo(key) if isinstance(key, str) else KEY_NAMES)
            if new in parent:
                continue
            items = [(new if k == key else k, v) for k, v in parent.items()]
            parent.clear()
            parent.update(items)
            notes.append(f"renamed {where} to {new!r}")
        elif kind == "number" or (kind == "rename" and isinstance(parent, list)):
            new = draw(numbers_near(value))
            parent[loc[-1]] = new
            notes.append(f"{where} = {new!r}")
        elif kind == "unit":
            new = draw(unit_strings())
            parent[loc[-1]] = new
            notes.append(f"{where} = {new!r}")
        else:
            new = draw(VALUES)
            parent[loc[-1]] = new
            notes.append(f"{where} = {new!r}")
    return data, notes


# --------------------------------------------------------------------------- text mutations

JUNK = [
    b"\x00", b"\xff\xfe", b"\x80\x81", b"\t", b"\x1b[31m", b"\r", b"\x0c", b"\xef\xbb\xbf", b"\\", b"\x7f",
    b": ", b"- ", b"{", b"}", b"[", b"]", b"&a ", b"*a", b"!!python/object/apply:os.system ['echo pwned']",
    b"!!python/name:os.system", b"!!binary", b"%TAG ! tag:x,2000:", b"---", b"...", b"? ", b"|", b">", b"'", b'"',
    b"#", b"<<: *x", b"\xe2\x80\xa8", "\u00e9\u4e2d".encode(),
]


@st.composite
def mutate_text(draw: st.DrawFn, text: str) -> tuple[bytes, list[str]]:
    """YAML text broken at the byte level: truncated, re-indented, tabbed, duplicated lines, junk."""
    raw = text.encode("utf-8")
    notes: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        lines = raw.split(b"\n")
        kind = draw(
            st.sampled_from(
                ["truncate", "indent", "tab", "duplicate", "junk", "junk", "flip", "swap", "drop", "python_tag"]
            )
        )
        if kind == "truncate" and raw:
            cut = draw(st.integers(0, len(raw) - 1))
            raw = raw[:cut]
            notes.append(f"truncated at byte {cut}")
            continue
        if not lines:
            continue
        i = draw(st.integers(0, len(lines) - 1))
        line = lines[i]
        if kind == "indent":
            delta = draw(st.sampled_from([-4, -2, -1, 1, 2, 3]))
            lines[i] = b" " * max(0, delta) + (line[-delta:] if delta < 0 and line[:-delta].strip() == b"" else line)
            notes.append(f"line {i + 1} indented by {delta}")
        elif kind == "tab":
            lines[i] = re.sub(rb"^( +)", lambda m: b"\t" * max(1, len(m.group(1)) // 2), line) if line else b"\t"
            notes.append(f"line {i + 1} indented with tabs")
        elif kind == "duplicate":
            lines.insert(i, line)
            notes.append(f"line {i + 1} duplicated")
        elif kind == "junk":
            junk = draw(st.one_of(st.sampled_from(JUNK), st.binary(min_size=1, max_size=16)))
            pos = draw(st.integers(0, len(line)))
            lines[i] = line[:pos] + junk + line[pos:]
            notes.append(f"line {i + 1}: {junk!r} inserted at column {pos + 1}")
        elif kind == "flip" and line:
            pos = draw(st.integers(0, len(line) - 1))
            byte = draw(st.integers(0, 255))
            lines[i] = line[:pos] + bytes([byte]) + line[pos + 1 :]
            notes.append(f"line {i + 1}: byte {pos + 1} set to {byte:#x}")
        elif kind == "swap" and len(lines) > 1:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            notes.append(f"lines {i + 1} and {j + 1} swapped")
        elif kind == "drop":
            del lines[i]
            notes.append(f"line {i + 1} deleted")
        elif kind == "python_tag":
            m = re.match(rb"^(\s*[\w]+:\s*)(\S.*)?$", line)
            if m:
                tag = draw(
                    st.sampled_from(
                        [
                            b"!!python/object/apply:os.system ['echo pwned']",
                            b"!!python/object:planner.scenario.schema.Scenario {}",
                            b"!!python/name:builtins.print",
                            b"!!python/tuple [1, 2]",
                            b"!!set {a, b}",
                            b"!!binary aGVsbG8=",
                            b"!!omap [a: 1]",
                            b"!custom 5",
                        ]
                    )
                )
                lines[i] = m.group(1) + tag
                notes.append(f"line {i + 1}: value replaced by tag {tag!r}")
        raw = b"\n".join(lines)
    return raw, notes


# --------------------------------------------------------------------------- profile CSV mutations


@st.composite
def mutate_csv(draw: st.DrawFn, text: str) -> tuple[bytes, list[str], bool]:
    """A profile CSV broken: rows cut or added, text in number cells, columns missing, empty, junk.

    Returns the bytes, notes, and whether the file is certainly bad (exit 2 expected).
    """
    lines = text.split("\n")
    comments = [ln for ln in lines if ln.startswith("#")]
    body = [ln for ln in lines if ln and not ln.startswith("#")]
    header, rows = body[0].split(","), body[1:]
    notes: list[str] = []
    certain = False
    kind = draw(
        st.sampled_from(
            [
                "truncate_rows", "truncate_bytes", "text_cell", "drop_column", "extra_rows", "empty",
                "header_only", "junk", "rename_column", "bad_number", "ragged", "many_rows", "quote", "nul",
                "delimiter", "crlf", "duplicate_column",
            ]
        )
    )
    if kind == "truncate_rows":
        keep = draw(st.integers(0, len(rows) - 1))
        rows = rows[:keep]
        certain = True
        notes.append(f"only {keep} data rows")
    elif kind == "truncate_bytes":
        blob = "\n".join([*comments, ",".join(header), *rows]).encode()
        cut = draw(st.integers(0, len(blob) - 20))
        return blob[:cut], [f"truncated at byte {cut}"], True
    elif kind == "text_cell":
        col = draw(st.integers(1, len(header) - 1))
        row = draw(st.integers(0, len(rows) - 1))
        cells = rows[row].split(",")
        cells[col] = draw(st.sampled_from(["abc", "1,2", "12 MW", "--", "1e", "0x1F", "true", "∞", "1.2.3"]))
        rows[row] = ",".join(cells)
        certain = True
        notes.append(f"data row {row + 1}, column {header[col]}: {cells[col]!r}")
    elif kind == "drop_column":
        col = draw(st.integers(0, len(header) - 1))
        notes.append(f"column {header[col]} deleted")
        certain = header[col] != "timestamp"
        header = header[:col] + header[col + 1 :]
        rows = [",".join(r.split(",")[:col] + r.split(",")[col + 1 :]) for r in rows]
    elif kind == "extra_rows":
        n = draw(st.integers(1, 30))
        rows = rows + rows[-n:]
        certain = True
        notes.append(f"{n} extra rows")
    elif kind == "empty":
        return b"", ["empty file"], True
    elif kind == "header_only":
        rows = []
        certain = True
        notes.append("header only")
    elif kind == "junk":
        junk = draw(st.binary(min_size=1, max_size=64))
        blob = "\n".join([*comments, ",".join(header), *rows]).encode()
        pos = draw(st.integers(0, len(blob)))
        return blob[:pos] + junk + blob[pos:], [f"{junk!r} at byte {pos}"], False
    elif kind == "rename_column":
        col = draw(st.integers(0, len(header) - 1))
        new = draw(st.sampled_from(["", "month", "hour", "Dry_Bulb_C", "x", header[(col + 1) % len(header)]]))
        notes.append(f"column {header[col]} renamed to {new!r}")
        header[col] = new
        certain = True
    elif kind == "bad_number":
        col = draw(st.integers(1, len(header) - 1))
        row = draw(st.integers(0, len(rows) - 1))
        cells = rows[row].split(",")
        cells[col] = draw(st.sampled_from(["nan", "inf", "-inf", "1e400", "-1e400", "-5", "1e308", "", "NA", "55.1"]))
        rows[row] = ",".join(cells)
        notes.append(f"data row {row + 1}, column {header[col]}: {cells[col]!r}")
    elif kind == "ragged":
        row = draw(st.integers(0, len(rows) - 1))
        rows[row] = rows[row] + draw(st.sampled_from([",1", ",", ",,,"])) if draw(st.booleans()) else ",".join(
            rows[row].split(",")[:-1]
        )
        certain = True
        notes.append(f"data row {row + 1} has a different number of fields")
    elif kind == "many_rows":
        factor = draw(st.sampled_from([2, 12, 14]))
        rows = rows * factor
        certain = True
        notes.append(f"rows repeated {factor} times ({len(rows)} rows)")
    elif kind == "quote":
        row = draw(st.integers(0, len(rows) - 1))
        rows[row] = '"' + rows[row]
        certain = True
        notes.append(f"unbalanced quote on data row {row + 1}")
    elif kind == "nul":
        row = draw(st.integers(0, len(rows) - 1))
        rows[row] = rows[row].replace(",", ",\x00", 1)
        notes.append(f"NUL byte in data row {row + 1}")
    elif kind == "delimiter":
        header = [";".join(header)]
        rows = [r.replace(",", ";") for r in rows]
        certain = True
        notes.append("semicolons instead of commas")
    elif kind == "crlf":
        return "\r\n".join([*comments, ",".join(header), *rows]).encode(), ["CRLF line ends"], False
    elif kind == "duplicate_column":
        col = draw(st.integers(1, len(header) - 1))
        header = [*header, header[col]]
        rows = [r + "," + r.split(",")[col] for r in rows]
        certain = True
        notes.append(f"column {header[col]} duplicated")
    return "\n".join([*comments, ",".join(header), *rows, ""]).encode(), notes, certain


# --------------------------------------------------------------------------- case strategies


def _base(which: str) -> dict[str, Any]:
    c = corpus()
    return c.tiny if which == "tiny" else c.default


@st.composite
def scenario_data_cases(draw: st.DrawFn) -> Case:
    """A structured mutation of the default or the tiny scenario, validated."""
    which = draw(st.sampled_from(["default", "tiny"]))
    data, notes = draw(mutate_data(_base(which)))
    return Case(
        family=f"scenario-data-{which}",
        command="validate",
        files={"scenario.yaml": dump(data)},
        target="scenario.yaml",
        notes=notes,
        structured=True,
    )


@st.composite
def scenario_text_cases(draw: st.DrawFn) -> Case:
    """The shipped default's text (with its comments) or the tiny scenario's, broken at the byte level."""
    which = draw(st.sampled_from(["default", "tiny"]))
    c = corpus()
    raw, notes = draw(mutate_text(c.default_text if which == "default" else c.tiny_text))
    return Case(family=f"scenario-text-{which}", command="validate", files={"scenario.yaml": raw},
                target="scenario.yaml", notes=notes)


@st.composite
def profile_cases(draw: st.DrawFn) -> Case:
    """A scenario whose profile CSV is broken (the tiny flat one or the shipped Chengdu file)."""
    which = draw(st.sampled_from(["tiny", "tiny", "default"]))
    c = corpus()
    source = c.tiny_profile_text if which == "tiny" else c.default_profile_text
    raw, notes, certain = draw(mutate_csv(source))
    data = copy.deepcopy(_base(which))
    data["time"]["profiles"] = "profile.csv"
    return Case(
        family=f"profile-{which}",
        command="validate",
        files={"scenario.yaml": dump(data), "profile.csv": raw},
        target="scenario.yaml",
        notes=notes,
        structured=True,
        profile_file="profile.csv",
        expect=frozenset({2}) if certain else None,
    )


@st.composite
def missing_file_cases(draw: st.DrawFn) -> Case:
    """A scenario, its profiles or its ``extends`` base missing, a directory, or not what it should be."""
    c = corpus()
    kind = draw(
        st.sampled_from(
            ["scenario", "profiles", "extends", "extends_dir", "extends_csv", "extends_cycle", "profiles_dir",
             "profiles_yaml", "scenario_dir", "extends_binary", "profiles_binary"]
        )
    )
    data = copy.deepcopy(c.tiny)
    files: dict[str, bytes | str] = {}
    target = "scenario.yaml"
    if kind == "scenario":
        target = draw(st.sampled_from(["missing.yaml", "sub/missing.yaml", "", ".", "scen\u00e9.yaml", "a" * 300]))
    elif kind == "scenario_dir":
        files["dir/keep"] = ""
        target = "dir"
    elif kind == "profiles":
        data["time"]["profiles"] = draw(st.sampled_from(["missing.csv", "../missing.csv", "/nonexistent/p.csv", ""]))
    elif kind == "profiles_dir":
        files["pdir/keep"] = ""
        data["time"]["profiles"] = "pdir"
    elif kind == "profiles_yaml":
        data["time"]["profiles"] = "scenario.yaml"
    elif kind == "profiles_binary":
        files["p.csv"] = draw(st.binary(min_size=0, max_size=200))
        data["time"]["profiles"] = "p.csv"
    elif kind.startswith("extends"):
        base_name = {"extends": "missing_base.yaml", "extends_dir": "bdir", "extends_csv": str(c.tiny_profile),
                     "extends_cycle": "scenario.yaml", "extends_binary": "junk.yaml"}[kind]
        if kind == "extends_dir":
            files["bdir/keep"] = ""
        if kind == "extends_binary":
            files["junk.yaml"] = draw(st.binary(min_size=1, max_size=200))
        data = {"extends": base_name, "name": "child"}
    files["scenario.yaml"] = dump(data)
    return Case(family=f"missing-{kind}", command="validate", files=files, target=target, notes=[kind],
                expect=frozenset({2}))


@st.composite
def extends_cases(draw: st.DrawFn) -> Case:
    """A child scenario over a base (a chain of 1-3 files, some in other folders), one of them mutated."""
    c = corpus()
    depth = draw(st.integers(1, 3))
    files: dict[str, bytes | str] = {}
    notes: list[str] = []
    base = copy.deepcopy(c.tiny)
    base["time"]["profiles"] = str(c.tiny_profile)
    names = [draw(st.sampled_from(["a.yaml", "sub/b.yaml", "c.yaml", "deep/er/d.yaml"])) for _ in range(depth)]
    names = list(dict.fromkeys(names))
    base_name = names[-1]
    files[base_name] = dump(base)
    previous = base_name
    for name in reversed(names[:-1]):
        rel = os.path.relpath(previous, os.path.dirname(name) or ".")
        files[name] = dump({"extends": rel, "description": f"over {previous}"})
        previous = name
    child: dict[str, Any] = {"extends": os.path.relpath(previous, "."), "name": "child"}
    override, override_notes = draw(mutate_data({"demand": copy.deepcopy(c.tiny["demand"])}, max_changes=1))
    if draw(st.booleans()):
        child.update(override)
        notes += override_notes
    if draw(st.booleans()):
        child["extends"] = str(corpus().tiny_yaml)  # an absolute path outside the case's folder
        notes.append("extends an absolute path outside the folder")
    files["scenario.yaml"] = dump(child)
    notes.append(f"chain: scenario.yaml -> {' -> '.join(names)}")
    return Case(family="extends", command="validate", files=files, target="scenario.yaml", notes=notes,
                structured=True)


def _override_paths() -> list[str]:
    c = corpus()
    return [dotted(loc) for loc in locations(c.tiny)]


@st.composite
def set_cases(draw: st.DrawFn) -> Case:
    """``plan validate --set PATH=VALUE`` with random paths and values on the tiny scenario."""
    n = draw(st.integers(1, 3))
    extra: list[str] = []
    for _ in range(n):
        path = draw(
            st.one_of(
                st.sampled_from(_override_paths()),
                st.sampled_from(["", ".", "a..b", "years.99999999999999999999", "existing.servers.0.count",
                                 "accelerators.gpu.cooling.5", "policy.pue_max.2026", "time", "name.x", "=", "x=y"]),
                st.text(max_size=20),
            )
        )
        value = draw(
            st.one_of(
                unit_strings(),
                st.sampled_from(["", "[", "{a: 1", "!!python/object/apply:os.system [ls]", "*x", "&a 1", "1e999",
                                 "nan", ".inf", "[1, 2, 3]", "{2026: 1.1}", "null", "'", "\x00", "- a\n- b"]),
                st.text(max_size=12),
            )
        )
        sep = draw(st.sampled_from(["=", "=", " = ", ""]))
        extra += ["--set", f"{path}{sep}{value}"]
    files = {"scenario.yaml": corpus().tiny_text}
    return Case(family="set", command="validate", files=files, target="scenario.yaml", extra=tuple(extra),
                notes=[" ".join(extra)])


#: Keys of the tiny scenario whose numbers are shares, counts or bounded: not scaled freely.
_BOUNDED = frozenset(
    {
        "flexibility", "availability", "mfu", "fixed_om_fraction", "power_factor", "critical_fraction", "max_share",
        "reserve_margin", "discount_rate", "aux_loss_fraction", "oversubscription", "lifetime_years", "redundancy",
        "rack_units", "accelerators_per_server", "free_cooling_below_c", "mechanical_above_c", "cop_rated",
        "rack_slots", "max_halls", "max_blocks", "flat_cny_per_kwh", "non_floating_cny_per_kwh",
    }
)


@st.composite
def solve_cases(draw: st.DrawFn) -> Case:
    """``plan solve`` of the tiny scenario with numbers changed (often still valid: the model runs)."""
    c = corpus()
    data = copy.deepcopy(c.tiny)
    notes: list[str] = []
    leaves = [
        loc
        for loc in locations(data)
        if isinstance(get(data, loc), int | float) and not isinstance(get(data, loc), bool) and loc[0] != "years"
    ]
    # Numbers that may grow freely (no upper bound, not a share, a count or a solver setting).
    free = [loc for loc in leaves if loc[0] not in ("solver", "time") and loc[-1] not in _BOUNDED]
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.integers(0, 4)) == 0:  # one change in five is likely invalid
            loc = draw(st.sampled_from(leaves))
            new = draw(st.sampled_from([0, 1e-9, 1e-6, 1e9, 1e12, 1e15, -1, math.nan, 10**12]))
        else:
            loc = draw(st.sampled_from(free))
            new = get(data, loc) * draw(st.sampled_from([0.01, 0.1, 0.5, 0.9, 1.1, 2, 10, 1000, 1e6]))
        if loc[-1] in ("representative_days",):
            new = draw(st.sampled_from([1, 2, 3, "monthly"]))
        get(data, loc[:-1])[loc[-1]] = new
        notes.append(f"{dotted(loc)} = {new!r}")
    if draw(st.booleans()):
        limit = draw(st.sampled_from([("pue_max", 1.0), ("pue_max", 1.05), ("green_share_min", 1.0),
                                      ("installed_eflops_min", 1e6), ("carbon_cap_t", 0)]))
        data["policy"] = {limit[0]: limit[1]}
        notes.append(f"policy.{limit[0]} = {limit[1]}")
    extra: tuple[str, ...] = ()
    expect = None
    if draw(st.integers(0, 3)) == 0:  # a bad solver option: refused before anything runs
        option = draw(st.sampled_from(["--time-limit", "--mip-gap"]))
        value = draw(st.sampled_from(["nan", "inf", "-inf", "1e400", "0", "-1", "abc", "", "1e9", "2"]))
        if (option, value) in (("--time-limit", "2"), ("--mip-gap", "0")):  # valid values
            value = "nan"
        extra, expect = (option, value), frozenset({2})
        notes.append(f"{option} {value!r}")
    return Case(family="solve-tiny", command="solve", files={"scenario.yaml": dump(data)}, target="scenario.yaml",
                extra=extra, notes=notes, structured=extra == (), expect=expect)


@st.composite
def sweep_cases(draw: st.DrawFn) -> Case:
    """A sweep file (over the tiny scenario, or a shipped one over the default) mutated; never solved."""
    c = corpus()
    which = draw(st.sampled_from(["tiny", "tiny", "tiny", *c.shipped_sweeps]))
    how = draw(st.sampled_from(["data", "data", "text", "values"]))
    notes: list[str] = [f"sweep {which}"]
    source = c.tiny_sweep if which == "tiny" else c.shipped_sweeps[which]
    structured = False
    if how == "text":
        text = dump(source) if which == "tiny" else c.shipped_sweep_texts[which]
        raw, more = draw(mutate_text(text))
        content: bytes | str = raw
        notes += more
    elif how == "values":
        data = copy.deepcopy(source)
        section = draw(st.sampled_from([s for s in ("grid", "one_at_a_time") if s in data]))
        path = draw(st.sampled_from(sorted(data[section])))
        values = list(data[section][path])
        i = draw(st.integers(0, len(values) - 1))
        values[i] = draw(st.one_of(numbers_near(values[i]), unit_strings(), VALUES))
        data[section][path] = values
        notes.append(f"{section}.{path}[{i}] = {values[i]!r}")
        content = dump(data)
        structured = True
    else:
        data, more = draw(mutate_data(source, max_changes=2))
        notes += more
        content = dump(data)
        structured = True
    extra: tuple[str, ...] = ()
    expect = None
    if draw(st.integers(0, 7)) == 0:  # a bad time limit: refused before the sweep file is read
        extra = ("--time-limit", draw(st.sampled_from(["nan", "inf", "0", "-5", "1e400", "x"])))
        expect = frozenset({2})
        notes.append(" ".join(extra))
    return Case(family=f"sweep-{'tiny' if which == 'tiny' else 'shipped'}", command="sweep",
                files={"sweep.yaml": content}, target="sweep.yaml", extra=extra, notes=notes,
                structured=structured and not extra, expect=expect)


@st.composite
def size_cases(draw: st.DrawFn) -> Case:
    """The tiny scenario grown: more years, more days, more server types; too large ones must be refused.

    The expectation is worked out here from the hourly block alone (two columns per server type,
    one per cooling technology, eight more), independently of :mod:`planner.model.size`: well above
    5 million columns must exit 2, well below must pass.
    """
    c = corpus()
    data = copy.deepcopy(c.tiny)
    n_years = draw(st.integers(1, 40))
    days = draw(st.sampled_from([1, 12, 100, 365, "monthly", "full"]))
    copies = draw(st.integers(0, 8))
    data["years"] = list(range(2026, 2026 + n_years))
    data["time"]["representative_days"] = days
    for i in range(copies):
        data["accelerators"][f"gpu{i}"] = copy.deepcopy(data["accelerators"]["gpu"])
    n_days = 365 if days == "full" else 12 if days == "monthly" else days
    columns = n_years * n_days * 24 * (8 + 2 * (copies + 1) + 1)
    expect = frozenset({2}) if columns > 5.5e6 else frozenset({0}) if columns < 4.5e6 else None
    notes = [f"{n_years} years, representative_days {days}, {copies + 1} server types: ~{columns:,} columns"]
    return Case(family="model-size", command="validate", files={"scenario.yaml": dump(data)}, target="scenario.yaml",
                notes=notes, structured=True, expect=expect)


FAMILIES: dict[str, tuple[st.SearchStrategy[Case], float]] = {
    "scenario_data": (scenario_data_cases(), 0.28),
    "scenario_text": (scenario_text_cases(), 0.18),
    "profile": (profile_cases(), 0.12),
    "missing_file": (missing_file_cases(), 0.06),
    "extends": (extends_cases(), 0.06),
    "set": (set_cases(), 0.08),
    "sweep": (sweep_cases(), 0.14),
    "solve": (solve_cases(), 0.05),
    "model_size": (size_cases(), 0.03),
}
"""Each family: its strategy and its share of the cases."""


def examples(family: str, total: int) -> int:
    """How many cases of ``family`` a run of ``total`` cases holds (at least 2)."""
    return max(2, round(total * FAMILIES[family][1]))
