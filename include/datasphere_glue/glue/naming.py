"""Glue database and table names derived from Datasphere spaces and technical names."""

from __future__ import annotations

import re

from include.datasphere_glue.rules.model import ResolvedRule

GLUE_NAME_MAX = 255
_NOT_ALLOWED = re.compile(r"[^a-z0-9_]")


def glue_name(text: str) -> str:
    """Fold any text into a Glue name: lower case, ``.`` and other characters outside [a-z0-9_] as ``_``.

    Glue itself lowercases names; doing it here keeps what we compare equal to what Glue returns.
    """
    return _NOT_ALLOWED.sub("_", text.lower().replace(".", "_"))[:GLUE_NAME_MAX]


def database_name(rule: ResolvedRule, space: str) -> str:
    """The Glue database a rule writes a space's tables into, from the rule's database template.

    :param rule: the rule whose ``target.database_template`` (placeholders ``{env}``, ``{space}``) applies.
    :param space: the space technical name.
    """
    return glue_name(rule.target.database_template.format(env=rule.env, space=space))


def table_name(rule: ResolvedRule, technical_name: str) -> str:
    """The Glue table name of an asset: the rule's table prefix and the technical name, folded."""
    return glue_name(f"{rule.target.table_prefix}{technical_name}")
