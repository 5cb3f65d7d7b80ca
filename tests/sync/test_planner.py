"""The planner: create, update, leave alone, or refuse, per table, from fingerprints and ownership."""

from __future__ import annotations

from typing import Any

from include.datasphere_glue.glue.tables import LINEAGE_KEY, build_desired_table
from include.datasphere_glue.sync.planner import ActionKind, find_collisions, plan_table
from tests.glue.assets import make_asset
from tests.glue.rules import make_rule

RULE = make_rule()


def as_glue_returns(table_input: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**table_input, "DatabaseName": "dev_sales", "CreateTime": "2026-01-01", **extra}


def test_missing_table_is_created() -> None:
    desired = build_desired_table(make_asset(), RULE)
    assert plan_table(desired, None).kind is ActionKind.CREATE


def test_same_fingerprint_is_unchanged_unless_full_refresh() -> None:
    desired = build_desired_table(make_asset(), RULE)
    current = as_glue_returns(desired.table_input, VersionId="3")
    assert plan_table(desired, current).kind is ActionKind.UNCHANGED
    refresh = plan_table(desired, current, full_refresh=True)
    assert (
        refresh.kind is ActionKind.UPDATE and refresh.version_id == "3" and refresh.reason == "full refresh"
    )


def test_changed_source_updates_and_keeps_the_lineage_finalize_wrote() -> None:
    old = build_desired_table(make_asset(description="old"), RULE)
    params = {**old.table_input["Parameters"], LINEAGE_KEY: "dataflows:LOAD"}
    current = as_glue_returns({**old.table_input, "Parameters": params})
    action = plan_table(build_desired_table(make_asset(description="new"), RULE), current)
    assert action.kind is ActionKind.UPDATE and action.conflict is None
    assert (
        action.table_input is not None and action.table_input["Parameters"][LINEAGE_KEY] == "dataflows:LOAD"
    )


def test_hand_edit_is_an_update_with_the_conflict_named() -> None:
    desired = build_desired_table(make_asset(), RULE)
    current = as_glue_returns({**desired.table_input, "Description": "by hand"})
    action = plan_table(desired, current)
    assert action.kind is ActionKind.UPDATE and action.conflict == "description"


def test_unowned_table_is_skipped() -> None:
    desired = build_desired_table(make_asset(), RULE)
    action = plan_table(desired, {"Name": "orders", "Parameters": {"owner": "someone"}})
    assert action.kind is ActionKind.SKIP and "not managed" in action.reason


def test_owned_table_of_another_asset_is_not_overwritten() -> None:
    other = build_desired_table(make_asset("ORDERS", space="SALES"), RULE)
    params = {**other.table_input["Parameters"], "datasphere.technical_name": "Orders"}
    action = plan_table(other, as_glue_returns({**other.table_input, "Parameters": params}))
    assert action.kind is ActionKind.FAIL and "already holds asset SALES/Orders" in action.reason


def test_collisions_name_every_asset_involved_and_only_those() -> None:
    tables = [build_desired_table(make_asset(name), RULE) for name in ("A.B", "A_B", "C")]
    errors = find_collisions({t.asset_key: (t.database, t.name) for t in tables})
    assert sorted(errors) == ["SALES/A.B", "SALES/A_B"]
    assert "SALES/A.B and SALES/A_B all map to Glue table dev_sales.a_b" in errors["SALES/A.B"]
