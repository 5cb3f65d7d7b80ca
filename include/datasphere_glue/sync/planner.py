"""Decide, per desired table, whether Glue needs a create, an update, nothing, or must be left alone."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from include.datasphere_glue.glue.tables import (
    FINGERPRINT_KEY,
    LINEAGE_KEY,
    MANAGED_KEY,
    SPACE_KEY,
    TECHNICAL_NAME_KEY,
    DesiredTable,
    describe_differences,
    fingerprint_of,
)


class ActionKind(StrEnum):
    """What the applier does for one table."""

    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    SKIP = "skip"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class TableAction:
    """One planned step for one asset's table.

    :param reason: why a table is skipped or failed, or why it is updated.
    :param conflict: for updates of a table changed by hand: what was changed.
    :param version_id: the table version Glue returned, passed back on update for optimistic locking.
    """

    kind: ActionKind
    asset_key: str
    database: str
    name: str
    table_input: dict[str, Any] | None = None
    version_id: str | None = None
    reason: str = ""
    conflict: str | None = None

    def describe(self) -> str:
        """One line for a dry run's list of actions."""
        text = f"{self.kind.value} {self.database}.{self.name} ({self.asset_key})"
        if self.conflict:
            return f"{text}: put back after a hand edit ({self.conflict})"
        return f"{text}: {self.reason}" if self.reason else text


def is_owned(table: Mapping[str, Any]) -> bool:
    """Whether a Glue table carries our ownership marker; tables without it are never touched."""
    return (table.get("Parameters") or {}).get(MANAGED_KEY) == "true"


def find_collisions(targets: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    """Find assets that fold into the same Glue table; every asset of a collision gets an error.

    :param targets: asset key → (database, table name).
    :return: asset key → message naming the other assets.
    """
    by_target: dict[tuple[str, str], list[str]] = defaultdict(list)
    for asset_key, target in targets.items():
        by_target[target].append(asset_key)
    errors: dict[str, str] = {}
    for (database, name), keys in by_target.items():
        if len(keys) < 2:
            continue
        for key in keys:
            others = ", ".join(sorted(k for k in keys if k != key))
            errors[key] = (
                f"name collision: {key} and {others} all map to Glue table {database}.{name}; "
                "none of them is written (rename an asset, or exclude one in the rule)"
            )
    return errors


def plan_tables(
    desired: Iterable[DesiredTable],
    current: Mapping[str, Mapping[str, Any]],
    *,
    full_refresh: bool = False,
) -> list[TableAction]:
    """Plan the writes that bring one database's tables in line with the desired ones.

    :param desired: tables wanted in one database.
    :param current: that database's tables as ``GetTables`` returned them, by lower-case name.
    :param full_refresh: rewrite tables even when their fingerprint says nothing changed.
    """
    wanted = list(desired)
    collisions = find_collisions({d.asset_key: (d.database, d.name) for d in wanted})
    actions = []
    for table in wanted:
        if table.asset_key in collisions:
            actions.append(_action(ActionKind.FAIL, table, reason=collisions[table.asset_key]))
        else:
            actions.append(plan_table(table, current.get(table.name), full_refresh=full_refresh))
    return actions


def plan_table(
    desired: DesiredTable, current: Mapping[str, Any] | None, *, full_refresh: bool = False
) -> TableAction:
    """Plan one table against its current state in Glue (None when it does not exist)."""
    if current is None:
        return _action(ActionKind.CREATE, desired, table_input=desired.table_input)
    parameters = current.get("Parameters") or {}
    if not is_owned(current):
        return _action(
            ActionKind.SKIP,
            desired,
            reason=f"Glue table {desired.database}.{desired.name} exists but is not managed by this sync "
            f"(no {MANAGED_KEY} parameter); left untouched",
        )
    holder = (parameters.get(SPACE_KEY), parameters.get(TECHNICAL_NAME_KEY))
    if holder != (desired.space, desired.technical_name):
        return _action(
            ActionKind.FAIL,
            desired,
            reason=f"name collision: Glue table {desired.database}.{desired.name} already holds asset "
            f"{holder[0]}/{holder[1]}; not overwritten",
        )
    stored = parameters.get(FINGERPRINT_KEY)
    table_input = _keep_lineage(desired.table_input, parameters)
    version_id = current.get("VersionId")
    if stored and fingerprint_of(current) != stored:
        return _action(
            ActionKind.UPDATE,
            desired,
            table_input=table_input,
            version_id=version_id,
            conflict=describe_differences(current, desired.table_input),
        )
    if stored == desired.fingerprint and not full_refresh:
        return _action(ActionKind.UNCHANGED, desired)
    reason = "full refresh" if stored == desired.fingerprint else "source changed"
    return _action(ActionKind.UPDATE, desired, table_input=table_input, version_id=version_id, reason=reason)


def _keep_lineage(table_input: dict[str, Any], current_parameters: Mapping[str, str]) -> dict[str, Any]:
    """Carry the lineage that finalize wrote over to the new definition; it is not the source's to drop."""
    lineage = current_parameters.get(LINEAGE_KEY)
    if not lineage:
        return table_input
    return {**table_input, "Parameters": {**table_input["Parameters"], LINEAGE_KEY: lineage}}


def _action(kind: ActionKind, desired: DesiredTable, **fields: Any) -> TableAction:
    return TableAction(
        kind=kind, asset_key=desired.asset_key, database=desired.database, name=desired.name, **fields
    )
