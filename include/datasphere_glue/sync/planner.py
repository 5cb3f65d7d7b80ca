"""Decide, per desired table, whether Glue needs a create, an update, nothing, or must be left alone."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from include.datasphere_glue.glue.tables import (
    FINGERPRINT_KEY,
    LINEAGE_KEY,
    MANAGED_KEY,
    SPACE_KEY,
    TECHNICAL_NAME_KEY,
    UPSTREAM_KEY,
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


@dataclass(frozen=True, slots=True)
class TableState:
    """What the planner needs of a table as Glue holds it, without keeping its whole definition.

    A run over thousands of tables keeps one of these per table; the full definition is kept only for
    a table whose content no longer matches its stored fingerprint, to say what was changed by hand.
    """

    name: str
    owned: bool
    holder: tuple[str | None, str | None]
    stored_fingerprint: str | None
    content_fingerprint: str
    version_id: str | None
    lineage: str | None
    upstream: tuple[str, ...] = ()
    edited_table: Mapping[str, Any] | None = None

    @classmethod
    def of(cls, table: Mapping[str, Any]) -> TableState:
        """Summarise a table as ``GetTables`` returns it."""
        parameters = table.get("Parameters") or {}
        stored = parameters.get(FINGERPRINT_KEY)
        content = fingerprint_of(table)
        return cls(
            name=str(table.get("Name", "")).lower(),
            owned=is_owned(table),
            holder=(parameters.get(SPACE_KEY), parameters.get(TECHNICAL_NAME_KEY)),
            stored_fingerprint=stored,
            content_fingerprint=content,
            version_id=table.get("VersionId"),
            lineage=parameters.get(LINEAGE_KEY),
            upstream=tuple(u for u in parameters.get(UPSTREAM_KEY, "").split(",") if u),
            edited_table=table if stored and stored != content else None,
        )

    @property
    def hand_edited(self) -> bool:
        """Whether the table changed since we wrote it (only meaningful for owned tables)."""
        return bool(self.stored_fingerprint) and self.stored_fingerprint != self.content_fingerprint


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


def plan_table(
    desired: DesiredTable, current: TableState | Mapping[str, Any] | None, *, full_refresh: bool = False
) -> TableAction:
    """Plan one table against its current state in Glue (None when it does not exist)."""
    if current is None:
        return _action(ActionKind.CREATE, desired, table_input=desired.table_input)
    state = current if isinstance(current, TableState) else TableState.of(current)
    if not state.owned:
        return _action(
            ActionKind.SKIP,
            desired,
            reason=f"Glue table {desired.database}.{desired.name} exists but is not managed by this sync "
            f"(no {MANAGED_KEY} parameter); left untouched",
        )
    if state.holder != (desired.space, desired.technical_name):
        return _action(
            ActionKind.FAIL,
            desired,
            reason=f"name collision: Glue table {desired.database}.{desired.name} already holds asset "
            f"{state.holder[0]}/{state.holder[1]}; not overwritten",
        )
    table_input = _keep_lineage(desired.table_input, state.lineage)
    if state.hand_edited:
        edited = state.edited_table or {}
        return _action(
            ActionKind.UPDATE,
            desired,
            table_input=table_input,
            version_id=state.version_id,
            conflict=describe_differences(edited, desired.table_input),
        )
    if state.stored_fingerprint == desired.fingerprint and not full_refresh:
        return _action(ActionKind.UNCHANGED, desired)
    reason = "full refresh" if state.stored_fingerprint == desired.fingerprint else "source changed"
    return _action(
        ActionKind.UPDATE, desired, table_input=table_input, version_id=state.version_id, reason=reason
    )


def _keep_lineage(table_input: dict[str, Any], lineage: str | None) -> dict[str, Any]:
    """Carry the lineage that finalize wrote over to the new definition; it is not the source's to drop."""
    if not lineage:
        return table_input
    return {**table_input, "Parameters": {**table_input["Parameters"], LINEAGE_KEY: lineage}}


def _action(kind: ActionKind, desired: DesiredTable, **fields: Any) -> TableAction:
    return TableAction(
        kind=kind, asset_key=desired.asset_key, database=desired.database, name=desired.name, **fields
    )
