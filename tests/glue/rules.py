"""Build resolved rules for tests without a rules folder."""

from __future__ import annotations

from typing import Any

from include.datasphere_glue.rules.model import Defaults, ResolvedRule, SyncRule, resolve


def make_rule(**fields: Any) -> ResolvedRule:
    """A resolved rule named ``test_rule`` (overridable) with the given fields on top of the defaults."""
    defaults_fields = fields.pop("defaults", {})
    body: dict[str, Any] = {
        "name": "test_rule",
        "description": "rule under test",
        "owner": "data-platform",
        "priority": "HIGH",
        "frequency": "hourly",
        **fields,
    }
    return resolve(
        SyncRule.model_validate(body), Defaults.model_validate(defaults_fields), "rules/test.yaml", 7
    )
