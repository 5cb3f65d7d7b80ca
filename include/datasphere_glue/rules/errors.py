"""Mistakes in a rules folder, each naming the file, line, rule and field, and how they are worded."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel

from include.datasphere_glue.rules.model import (
    ENV_NAME_PATTERN,
    POOL_NAME_PATTERN,
    RULE_NAME_PATTERN,
    nearest,
)

# What a name pattern asks for, in words: a regular expression is no help to a rule author.
PATTERN_MEANING = {
    RULE_NAME_PATTERN: "must start with a lower-case letter and hold only lower-case letters, digits "
    "and underscores (at most 100)",
    ENV_NAME_PATTERN: "must start with a lower-case letter and hold only lower-case letters, digits "
    "and underscores (at most 32)",
    POOL_NAME_PATTERN: "may hold only letters, digits, '_', '.' and '-'",
}


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


def describe_validation_error(
    detail: Any, model: type[BaseModel], location: tuple[Any, ...]
) -> tuple[str, str | None]:
    """A readable message for one pydantic error, and the nearest valid key or value if misspelt.

    :param detail: one entry of ``ValidationError.errors()``.
    :param model: the model that was validated.
    :param location: where the error is, from ``model`` (pydantic's ``loc``, possibly extended).
    :return: the message and the suggestion (or None).
    """
    kind = detail["type"]
    value = detail.get("input")
    if kind == "extra_forbidden":
        parent = _annotation_at(model, location[:-1])
        names = list(parent.model_fields) if _is_model(parent) else []
        return "unknown field", nearest(str(location[-1]), names)
    if kind == "missing":
        return "required field is missing", None
    if kind == "enum":
        enum = _annotation_at(model, location)
        choices = [member.value for member in enum] if _is_enum(enum) else []
        shown = ", ".join(str(choice) for choice in choices)
        return f"'{value}' is not one of {shown}", nearest(str(value), choices)
    if kind == "string_pattern_mismatch":
        meaning = PATTERN_MEANING.get(detail.get("ctx", {}).get("pattern"))
        if meaning:
            return f"'{value}' {meaning}", None
    return _plain(detail["msg"]), None


def _plain(message: str) -> str:
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _annotation_at(model: type[BaseModel], location: tuple[Any, ...]) -> Any:
    """Follow a pydantic error location through the model's annotations to the type it points at."""
    annotation: Any = model
    for part in location:
        annotation = _unwrap_optional(annotation)
        if part == "[key]":
            return _unwrap_optional(typing.get_args(annotation)[0]) if typing.get_args(annotation) else None
        if _is_model(annotation):
            model_field = annotation.model_fields.get(part)
            if model_field is None:
                return None
            annotation = model_field.annotation
        elif typing.get_origin(annotation) in (list, tuple, set, frozenset):
            annotation = typing.get_args(annotation)[0]
        elif typing.get_origin(annotation) is dict:
            annotation = typing.get_args(annotation)[1]
        else:
            return None
    annotation = _unwrap_optional(annotation)
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _unwrap_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_enum(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, Enum)


def dotted(location: tuple[Any, ...]) -> str:
    """Render a location as the dotted field path users read: ``match.object_types[1]``, ``job.retries``.

    :param location: pydantic's ``loc``, possibly with a prefix.
    """
    text = ""
    for part in location:
        if part == "[key]":
            continue
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
