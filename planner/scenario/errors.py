"""The planner's own input error: every problem of a file, each with its YAML path."""

from __future__ import annotations

import difflib
import reprlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Problem", "ScenarioError", "did_you_mean", "shown"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where (dotted YAML path) and what."""

    path: str
    message: str

    def __post_init__(self) -> None:
        # A path holds the user's own keys; one with a line break or a control character is shown
        # quoted, with escapes, so that every problem stays on one line of a report.
        if not self.path.isprintable():
            object.__setattr__(self, "path", shown(self.path))

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ScenarioError(ValueError):
    """Bad input. Carries all problems found, not just the first; the CLI exits with code 2."""

    def __init__(self, problems: Sequence[Problem], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        super().__init__(self._text())

    def _text(self) -> str:
        head = f"{self.source}: " if self.source else ""
        n = len(self.problems)
        lines = [f"{head}{n} problem{'s' if n != 1 else ''} in the input:"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


def did_you_mean(word: str, options: Iterable[str], listing: str = "valid keys", most: int = 12) -> str:
    """A ``did you mean 'x'?`` hint for a misspelt key, or a list of the options.

    The options are listed (after ``listing``, e.g. ``"valid keys"``) when no option is close
    and there are at most ``most`` of them; otherwise the hint is empty.
    """
    options = sorted(str(o) for o in options)
    close = difflib.get_close_matches(str(word)[:200], options, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    if options and len(options) <= most:
        return f"{listing}: " + ", ".join(options)
    return ""


class _BoundedRepr(reprlib.Repr):
    """``repr`` that stays short and fast however large or deeply shared the value is."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 2
        self.maxlist = self.maxtuple = self.maxset = self.maxdict = 4
        self.maxstring = 60
        self.maxlong = 40
        self.maxother = 60

    def repr_int(self, x: int, level: int) -> str:
        # Python refuses to print integers of more than 4,300 digits; do not try.
        if x.bit_length() > 128:
            digits = int(x.bit_length() * 0.30103) + 1
            return f"{'-' if x < 0 else ''}<a number of about {digits:,} digits>"
        return super().repr_int(x, level)


_REPR = _BoundedRepr()


def shown(value: Any) -> str:
    """A user's value as it may appear in a message: YAML spellings, bounded in length and depth."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    try:
        text = _REPR.repr(value)
    except Exception:  # noqa: BLE001 - a message must never fail because of the value it shows
        return f"a {type(value).__name__}"
    return text if len(text) <= 100 else text[:97] + "..."
