"""Collecting suite mistakes: each one names the file, the key path, the value and what is allowed."""

import difflib
from typing import Any, Iterable, List, Optional

SHORT_REPR = 80  # characters of a bad value shown in a message


def short(value: Any) -> str:
    """repr(value), cut to SHORT_REPR characters: a message names the value, it does not dump it."""
    text = repr(value)
    return text if len(text) <= SHORT_REPR else text[: SHORT_REPR - 5] + " ...]"


class SuiteError(Exception):
    """A suite that cannot run. Carries every mistake found, not just the first."""

    def __init__(self, path: str, problems: List[str]):
        self.path = path
        self.problems = problems
        super().__init__("\n".join(problems))


class Checker:
    """Accumulates mistakes while a suite is read, so the user sees all of them at once."""

    def __init__(self, path: str):
        self.path = path
        self.problems = []  # type: List[str]

    def fail(
        self,
        key: str,
        message: str,
        allowed: Optional[Iterable[Any]] = None,
        value: Any = None,
    ) -> None:
        text = "{}: {}: {}".format(self.path, key or "(top level)", message)
        if allowed is not None:
            allowed = [str(a) for a in allowed]
            text += "; allowed: " + ", ".join(allowed)
            if isinstance(value, str):
                near = difflib.get_close_matches(value, allowed, n=1, cutoff=0.6)
                if near:
                    text += f" (did you mean {near[0]!r}?)"
        self.problems.append(text)

    def add(self, message: str) -> None:
        """A mistake another module's parser found, already worded with the file and key."""
        self.problems.append(message)

    def unknown_keys(self, key: str, mapping: dict, allowed: Iterable[str]) -> None:
        allowed = list(allowed)
        for name in mapping:
            if name not in allowed:
                where = f"{key}.{name}" if key else str(name)
                self.fail(where, f"unknown key {name!r}", allowed, name)

    def raise_if_any(self) -> None:
        if self.problems:
            raise SuiteError(self.path, self.problems)

    # -- typed readers: return the converted value, or None after recording the mistake --

    def number(self, key: str, value: Any, minimum: float = None, positive: bool = False):
        # YAML 1.1 reads "1e-3" (no dot) as a string: accept numeric strings for numbers.
        if isinstance(value, bool):
            self.fail(key, f"expected a number, got {short(value)}")
            return None
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                self.fail(key, f"expected a number, got {short(value)}")
                return None
        if not isinstance(value, (int, float)) or value != value or value in (float("inf"), float("-inf")):
            self.fail(key, f"expected a finite number, got {short(value)}")
            return None
        if positive and value <= 0:
            self.fail(key, f"must be greater than 0, got {short(value)}")
            return None
        if minimum is not None and value < minimum:
            self.fail(key, f"must be at least {minimum}, got {short(value)}")
            return None
        return value

    def integer(self, key: str, value: Any, minimum: int = None):
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"expected a whole number, got {short(value)}")
            return None
        if minimum is not None and value < minimum:
            self.fail(key, f"must be at least {minimum}, got {short(value)}")
            return None
        return value

    def boolean(self, key: str, value: Any):
        if not isinstance(value, bool):
            self.fail(key, f"expected true or false, got {short(value)}")
            return None
        return value

    def choice(self, key: str, value: Any, allowed: List[str]):
        if value not in allowed:
            self.fail(key, f"unknown value {short(value)}", allowed, value)
            return None
        return value

    def mapping(self, key: str, value: Any):
        if not isinstance(value, dict):
            self.fail(key, f"expected a mapping (key: value), got {short(value)}")
            return None
        return value
