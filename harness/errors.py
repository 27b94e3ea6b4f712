"""The one exception family of bench.

Every error a user can cause (bad files, bad flags, unknown names) is a `BenchError`; the CLI
prints its message on one line per problem and exits 2. Anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class BenchError(Exception):
    """A user-facing error: printed without a traceback, exit status 2."""

    exit_code = 2

    def lines(self) -> list[str]:
        return [str(self)]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where, which key, what value, which rule."""

    source: str
    key: str
    value: object
    rule: str

    def __str__(self) -> str:
        where = f"{self.source}: {self.key}" if self.key else self.source
        if self.value is _NO_VALUE:
            return f"{where}: {self.rule}"
        return f"{where} = {_show(self.value)}: {self.rule}"


class _NoValue:
    def __repr__(self) -> str:
        return "<no value>"


_NO_VALUE = _NoValue()
NO_VALUE = _NO_VALUE


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class ConfigError(BenchError):
    """One or more problems found while loading an input; all are reported together."""

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


def config_error(source: str, key: str, value: object, rule: str) -> ConfigError:
    return ConfigError(Problem(source, key, value, rule))
