"""Turn a Datasphere asset into the Glue table the sync wants, with a fingerprint of its content."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from include.datasphere_glue.glue.naming import database_name, table_name
from include.datasphere_glue.glue.types import describe_source_type, map_column_type, normalise_source_type
from include.datasphere_glue.model import SourceAsset, SourceColumn
from include.datasphere_glue.rules.model import ResolvedRule

MANAGED_KEY = "datasphere_glue_sync.managed"
FINGERPRINT_KEY = "datasphere_glue_sync.fingerprint"
RULE_KEY = "datasphere_glue_sync.rule"
SPACE_KEY = "datasphere.space"
TECHNICAL_NAME_KEY = "datasphere.technical_name"
OBJECT_TYPE_KEY = "datasphere.object_type"
BUSINESS_NAME_KEY = "datasphere.business_name"
SEMANTIC_USAGE_KEY = "datasphere.semantic_usage"
UPSTREAM_KEY = "datasphere.upstream"
LINEAGE_KEY = "datasphere.lineage"

COLUMN_SOURCE_NAME_KEY = "datasphere.name"
COLUMN_SOURCE_TYPE_KEY = "datasphere.source_type"
COLUMN_LABEL_KEY = "datasphere.business_name"
COLUMN_KEY_KEY = "datasphere.key"

# Left out of the fingerprint: the fingerprint itself; lineage, which finalize writes from the flows;
# and the rule, so that two rules covering one asset do not rewrite it back and forth.
VOLATILE_KEYS = frozenset({FINGERPRINT_KEY, LINEAGE_KEY, RULE_KEY})

COLUMN_COMMENT_MAX = 255
DESCRIPTION_MAX = 2048
ELLIPSIS = "…"
TABLE_TYPE = "EXTERNAL_TABLE"


@dataclass(frozen=True, slots=True)
class DesiredTable:
    """The Glue table one asset should be, ready for the planner.

    :param asset_key: ``space/technical_name`` of the asset.
    :param table_input: the ``TableInput`` to write, fingerprint included.
    :param notes: type fallbacks and truncations worth a line in the report.
    """

    asset_key: str
    space: str
    technical_name: str
    database: str
    name: str
    table_input: dict[str, Any]
    fingerprint: str
    notes: tuple[str, ...] = field(default_factory=tuple)


def build_desired_table(
    asset: SourceAsset, rule: ResolvedRule, type_overrides: Mapping[str, str] | None = None
) -> DesiredTable:
    """Map an asset to the Glue table the rule wants for it.

    :param asset: the asset with its columns, as read from Datasphere.
    :param rule: the rule that selected it (target naming, decimal policy, type overrides).
    :param type_overrides: the rule's overrides as returned by ``validate_overrides``; the rule's own
        are used unvalidated when omitted.
    """
    ref = asset.ref
    notes: list[str] = []
    overrides = (
        dict(type_overrides)
        if type_overrides is not None
        else {normalise_source_type(k).lower(): v.strip().lower() for k, v in rule.type_overrides.items()}
    )
    columns = [_column(column, rule, overrides, ref.key, notes) for column in asset.columns]
    description = _truncated(
        asset.description or ref.business_name or "", DESCRIPTION_MAX, f"{ref.key}: description", notes
    )
    parameters = {
        MANAGED_KEY: "true",
        RULE_KEY: rule.name,
        SPACE_KEY: ref.space,
        TECHNICAL_NAME_KEY: ref.technical_name,
        OBJECT_TYPE_KEY: ref.object_type.value,
        BUSINESS_NAME_KEY: ref.business_name or "",
        SEMANTIC_USAGE_KEY: ref.semantic_usage or "",
        UPSTREAM_KEY: ",".join(asset.upstream),
    }
    table_input: dict[str, Any] = {
        "Name": table_name(rule, ref.technical_name),
        "TableType": TABLE_TYPE,
        "Parameters": parameters,
        "StorageDescriptor": {"Columns": columns},
    }
    if description:
        table_input["Description"] = description
    fingerprint = fingerprint_of(table_input)
    parameters[FINGERPRINT_KEY] = fingerprint
    return DesiredTable(
        asset_key=ref.key,
        space=ref.space,
        technical_name=ref.technical_name,
        database=database_name(rule, ref.space),
        name=table_input["Name"],
        table_input=table_input,
        fingerprint=fingerprint,
        notes=tuple(notes),
    )


def fingerprint_of(table: Mapping[str, Any]) -> str:
    """Hash the content of a ``TableInput`` or of a table as ``GetTables`` returns it.

    Both shapes give the same hash for the same content, so comparing the hash stored on a table with
    the hash of the table as it is now tells whether anyone changed it since we wrote it.
    """
    canonical = json.dumps(normalised_content(table), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def normalised_content(table: Mapping[str, Any]) -> dict[str, Any]:
    """Project a table onto the fields the sync writes, with Glue's omissions filled in."""
    descriptor = table.get("StorageDescriptor") or {}
    return {
        "Name": str(table.get("Name", "")).lower(),
        "Description": table.get("Description") or "",
        "TableType": table.get("TableType") or "",
        "Parameters": {k: v for k, v in (table.get("Parameters") or {}).items() if k not in VOLATILE_KEYS},
        "Columns": [
            {
                "Name": str(column.get("Name", "")).lower(),
                "Type": str(column.get("Type", "")).lower(),
                "Comment": column.get("Comment") or "",
                "Parameters": dict(column.get("Parameters") or {}),
            }
            for column in descriptor.get("Columns") or []
        ],
    }


def table_input_from(table: Mapping[str, Any]) -> dict[str, Any]:
    """Rebuild the ``TableInput`` of a table we own from what ``GetTables`` returned for it."""
    content = normalised_content(table)
    table_input: dict[str, Any] = {
        "Name": content["Name"],
        "TableType": content["TableType"] or TABLE_TYPE,
        "Parameters": dict(table.get("Parameters") or {}),
        "StorageDescriptor": {
            "Columns": [
                {k: v for k, v in column.items() if v or k in ("Name", "Type")}
                for column in content["Columns"]
            ]
        },
    }
    if content["Description"]:
        table_input["Description"] = content["Description"]
    return table_input


def describe_differences(current: Mapping[str, Any], desired: Mapping[str, Any]) -> str:
    """Say in a few words how a table differs from what the source wants, e.g. after a hand edit."""
    now, wanted = normalised_content(current), normalised_content(desired)
    changes = []
    if now["Description"] != wanted["Description"]:
        changes.append("description")
    if now["TableType"] != wanted["TableType"]:
        changes.append("table type")
    changes.extend(_column_differences(now["Columns"], wanted["Columns"]))
    changed_keys = sorted(
        key
        for key in set(now["Parameters"]) | set(wanted["Parameters"])
        if now["Parameters"].get(key) != wanted["Parameters"].get(key)
    )
    if changed_keys:
        changes.append("parameters " + ", ".join(changed_keys[:5]))
    return "; ".join(changes) or "content no longer matches its fingerprint"


def _column_differences(now: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> list[str]:
    now_by_name = {c["Name"]: c for c in now}
    wanted_by_name = {c["Name"]: c for c in wanted}
    added = sorted(set(now_by_name) - set(wanted_by_name))
    removed = sorted(set(wanted_by_name) - set(now_by_name))
    changed = sorted(
        name for name in set(now_by_name) & set(wanted_by_name) if now_by_name[name] != wanted_by_name[name]
    )
    changes = []
    if added:
        changes.append("columns added " + ", ".join(added[:5]))
    if removed:
        changes.append("columns removed " + ", ".join(removed[:5]))
    if changed:
        changes.append("columns changed " + ", ".join(changed[:5]))
    if not changes and [c["Name"] for c in now] != [c["Name"] for c in wanted]:
        changes.append("column order")
    return changes


def _column(
    column: SourceColumn, rule: ResolvedRule, overrides: dict[str, str], asset_key: str, notes: list[str]
) -> dict[str, Any]:
    mapped = map_column_type(column, rule.decimal_without_precision, overrides)
    if mapped.note:
        notes.append(f"{asset_key}: {mapped.note}")
    parameters = {COLUMN_SOURCE_NAME_KEY: column.name, COLUMN_SOURCE_TYPE_KEY: describe_source_type(column)}
    if column.label:
        parameters[COLUMN_LABEL_KEY] = column.label
    if column.key:
        parameters[COLUMN_KEY_KEY] = "true"
    glue_column: dict[str, Any] = {"Name": column.name.lower(), "Type": mapped.glue_type}
    comment = _truncated(
        column.label or "", COLUMN_COMMENT_MAX, f"{asset_key}: column {column.name} comment", notes
    )
    if comment:
        glue_column["Comment"] = comment
    glue_column["Parameters"] = parameters
    return glue_column


def _truncated(text: str, limit: int, what: str, notes: list[str]) -> str:
    """Cut text to Glue's limit with an ellipsis; the emulators do not enforce these limits, Glue does."""
    if len(text) <= limit:
        return text
    notes.append(f"{what} truncated from {len(text)} to {limit} characters")
    return text[: limit - len(ELLIPSIS)] + ELLIPSIS
