"""docs/rules.md describes every field of the rules schema, so the reference cannot fall behind it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from include.datasphere_glue.rules.model import (
    Defaults,
    Deletion,
    JobOverrides,
    Match,
    PoolSpec,
    SyncRule,
    TargetOverrides,
    TypeMapping,
)

REFERENCE = (Path(__file__).resolve().parents[2] / "docs" / "rules.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("model", "prefix"),
    [
        (SyncRule, ""),
        (Match, ""),
        (TargetOverrides, ""),
        (JobOverrides, ""),
        (Deletion, ""),
        (TypeMapping, ""),
        (Defaults, "defaults."),
        (PoolSpec, "pools.<name>."),
    ],
)
def test_every_field_has_a_row(model: type[BaseModel], prefix: str) -> None:
    for name, field in model.model_fields.items():
        assert field.description, f"{model.__name__}.{name} has no description"
        row = f"| `{prefix}{name}` |"
        if prefix == "defaults." and name == "priorities":
            row = "| `defaults.priorities.<PRIORITY>.job` |"
        assert row in REFERENCE, f"docs/rules.md lacks a row for {prefix}{name}"
