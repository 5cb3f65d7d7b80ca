"""The applier turns a failed write into a failed asset, and a dry run into an action line."""

from __future__ import annotations

from typing import Any

from include.datasphere_glue.glue.catalog import GlueCatalog
from include.datasphere_glue.glue.tables import build_desired_table
from include.datasphere_glue.sync.applier import apply_action
from include.datasphere_glue.sync.planner import plan_table
from include.datasphere_glue.sync.report import SyncReport
from tests.glue.assets import make_asset
from tests.glue.rules import make_rule


def test_a_failed_write_is_recorded_and_the_other_writes_land(glue: Any) -> None:
    rule = make_rule()
    glue.create_database(DatabaseInput={"Name": "dev_sales"})
    desired = [build_desired_table(make_asset(f"T{i}"), rule) for i in range(5)]
    lost = build_desired_table(make_asset("LOST", space="NOWHERE"), rule)  # its database does not exist
    report = SyncReport(rule=rule.name)

    for table in [*desired, lost]:
        apply_action(plan_table(table, None), GlueCatalog(glue), report)

    assert report.created == 5 and report.failed == 1
    assert "EntityNotFoundException" in report.errors["NOWHERE/LOST"]
    assert len(glue.get_tables(DatabaseName="dev_sales")["TableList"]) == 5


def test_dry_run_records_actions_without_writing(glue: Any) -> None:
    rule = make_rule()
    report = SyncReport(rule=rule.name, dry_run=True)
    action = plan_table(build_desired_table(make_asset(), rule), None)
    apply_action(action, GlueCatalog(glue), report, dry_run=True)
    assert report.actions == ["create dev_sales.orders (SALES/ORDERS)"] and report.created == 1
    assert glue.get_databases()["DatabaseList"] == []
