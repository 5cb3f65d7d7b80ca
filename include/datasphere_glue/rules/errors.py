"""Mistakes in a rules folder, each naming the file, line, rule and field it is about."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RuleError:
    """One mistake in a rules file; ``str()`` renders it as one line a user can act on.

    :param file: the rules file, as the loader was pointed at it (e.g. ``rules/views.yaml``).
    :param line: 1-based line of the mistake; 0 when it is not in a file (an environment variable).
    :param rule: name of the rule it concerns, or None for file-level mistakes and nameless rules.
    :param field: dotted path of the field inside the rule (or the file), e.g. ``job.retry_delay_seconds``
        or ``match.object_types[1]``; None when the whole rule or file is concerned.
    :param message: what is wrong.
    :param suggestion: the nearest valid key or value for a misspelling, or None.
    """

    file: str
    line: int
    rule: str | None
    field: str | None
    message: str
    suggestion: str | None = None

    def __str__(self) -> str:
        parts = [f"{self.file}:{self.line}"]
        if self.rule:
            parts.append(f"rule '{self.rule}'")
        if self.field:
            parts.append(f"field '{self.field}'")
        parts.append(self.message)
        text = ": ".join(parts)
        if self.suggestion:
            text += f"; did you mean '{self.suggestion}'?"
        return text


class RulesError(ValueError):
    """Raised by a strict load when any rule or file has an error; carries every error found.

    :param errors: all errors of the load, in file and line order.
    """

    def __init__(self, errors: Iterable[RuleError]) -> None:
        self.errors = list(errors)
        lines = "\n".join(str(error) for error in self.errors)
        super().__init__(f"{len(self.errors)} error(s) in the sync rules:\n{lines}")
