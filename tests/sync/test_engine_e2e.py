"""The engine end to end: the Datasphere emulator over HTTP into a local Glue (moto server)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from emulators.datasphere.testing import EmulatorProcess
from include.datasphere_glue.datasphere.catalog import DatasphereCatalog
from include.datasphere_glue.datasphere.client import DatasphereConfig, RetryPolicy
from include.datasphere_glue.glue.catalog import WRITE_OPERATIONS, GlueCatalog
from include.datasphere_glue.sync.engine import SyncEngine
from include.datasphere_glue.sync.report import SyncFailed, SyncReport
from tests.glue.rules import make_rule

pytestmark = pytest.mark.slow

SALES_ONLY = {"match": {"spaces": ["SALES"]}}
DELETING = {"deletion": {"mode": "delete_vanished", "max_delete_percent": 20}}
TABLE = {"kind": "entity", "elements": {"ID": {"type": "cds.Integer", "key": True}}}


class WriteCounter:
    """Counts Glue write calls at the botocore layer, independently of what the engine reports."""

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        client.meta.events.register("before-call.glue.*", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    @property
    def writes(self) -> int:
        return sum(n for name, n in self.calls.items() if name in WRITE_OPERATIONS)


@pytest.fixture
def source(datasphere: EmulatorProcess) -> Iterator[DatasphereCatalog]:
    config = DatasphereConfig(
        tenant_url=datasphere.url,
        client_id=datasphere.client_id,
        client_secret=datasphere.client_secret,
        token_url=datasphere.token_url,
        retry=RetryPolicy(max_attempts=2, backoff_seconds=0.01, max_total_seconds=2),
    )
    with DatasphereCatalog(config) as catalog:
        yield catalog


@pytest.fixture
def writes(glue: Any) -> WriteCounter:
    return WriteCounter(glue)


def sync(source: DatasphereCatalog, glue: Any, **rule_fields: Any) -> SyncReport:
    rule_fields.setdefault("job", {"batch_size": 10, "max_parallel_requests": 8})
    return SyncEngine(source, GlueCatalog(glue), make_rule(**rule_fields)).sync_all()


def tables(glue: Any, database: str = "dev_sales") -> dict[str, dict[str, Any]]:
    return {t["Name"]: t for t in glue.get_tables(DatabaseName=database)["TableList"]}


def test_demo_catalog_lands_in_glue_and_a_second_sync_writes_nothing(
    source: DatasphereCatalog, glue: Any, writes: WriteCounter
) -> None:
    first = sync(source, glue)
    # the demo catalog holds one collision on purpose: SALES.ORDERS and SALES_ORDERS fold into one name
    assert set(first.errors) == {"SALES/SALES.ORDERS", "SALES/SALES_ORDERS"}
    assert first.created >= 60 and first.failed == 2
    assert {db["Name"] for db in glue.get_databases()["DatabaseList"]} >= {
        "dev_sales",
        "dev_finance",
        "dev_hr",
    }
    # the restricted space is not readable: named in a warning, the others still synced
    assert any("EXECUTIVE_RESTRICTED" in warning for warning in first.warnings)
    assert "sales_orders" not in tables(glue)
    items = tables(glue)["s4h_order_items"]
    assert items["Parameters"]["datasphere_glue_sync.managed"] == "true"
    assert items["Parameters"]["datasphere.object_type"] == "remotetables"
    assert first.calls["datasphere.repository"] > 0 and first.calls["glue.CreateTable"] == first.created

    writes.calls.clear()
    second = sync(source, glue)
    assert (second.created, second.updated, second.failed) == (0, 0, 2)
    assert second.unchanged == first.created
    assert writes.writes == 0, writes.calls


def test_hand_edited_table_is_put_back_and_reported(source: DatasphereCatalog, glue: Any) -> None:
    sync(source, glue, **SALES_ONLY)
    table = tables(glue)["customers"]
    edited = {k: table[k] for k in ("Name", "TableType", "Parameters", "StorageDescriptor")}
    edited["StorageDescriptor"] = {"Columns": table["StorageDescriptor"]["Columns"][:-1]}
    glue.update_table(DatabaseName="dev_sales", TableInput=edited)

    report = sync(source, glue, **SALES_ONLY)
    assert report.updated == 1 and "columns removed" in report.conflicts["SALES/CUSTOMERS"]
    restored = tables(glue)["customers"]["StorageDescriptor"]["Columns"]
    assert len(restored) == len(table["StorageDescriptor"]["Columns"])


def test_assets_colliding_on_a_glue_name_are_both_refused(
    datasphere: EmulatorProcess, source: DatasphereCatalog, glue: Any
) -> None:
    glue.create_database(DatabaseInput={"Name": "dev_sales"})
    glue.create_table(DatabaseName="dev_sales", TableInput={"Name": "sap_x", "Description": "someone's"})
    datasphere.admin.upsert_asset("SALES", "SAP.X", object_type="localtables", definition=TABLE)
    datasphere.admin.upsert_asset("SALES", "SAP_X", object_type="views", definition=TABLE)

    report = sync(source, glue, **SALES_ONLY)
    assert "SALES/SAP_X" in report.errors["SALES/SAP.X"] and "SALES/SAP.X" in report.errors["SALES/SAP_X"]
    assert tables(glue)["sap_x"]["Description"] == "someone's"
    with pytest.raises(SyncFailed):
        report.raise_for_failures()


def test_asset_removed_in_datasphere_is_deleted_from_glue(
    datasphere: EmulatorProcess, source: DatasphereCatalog, glue: Any
) -> None:
    sync(source, glue, **SALES_ONLY, **DELETING)
    assert "customers" in tables(glue)
    datasphere.admin.delete_asset("SALES", "CUSTOMERS")

    report = sync(source, glue, **SALES_ONLY, **DELETING)
    assert report.deleted == 1 and "SALES/CUSTOMERS" not in report.errors
    assert "customers" not in tables(glue) and "v_customers" in tables(glue)


def test_fail_safe_trips_when_too_many_tables_would_go(
    datasphere: EmulatorProcess, source: DatasphereCatalog, glue: Any
) -> None:
    first = sync(source, glue, **SALES_ONLY, **DELETING)
    before = set(tables(glue))
    table_assets = [
        t["Parameters"]["datasphere.technical_name"]
        for t in tables(glue).values()
        if t["Parameters"]["datasphere.object_type"] in ("localtables", "remotetables")
    ]
    for name in table_assets:
        datasphere.admin.delete_asset("SALES", name)

    report = sync(source, glue, **SALES_ONLY, **DELETING)
    assert report.deleted == 0 and set(tables(glue)) == before
    message = report.errors["deletion fail-safe"]
    assert f"would delete {len(table_assets)} of its {first.created} owned tables" in message
    with pytest.raises(SyncFailed, match="max_delete_percent"):
        report.raise_for_failures()


@pytest.mark.parametrize("cause", ["space not readable (403)", "listing kept failing (5xx)"])
def test_partial_listing_deletes_nothing(
    cause: str, datasphere: EmulatorProcess, source: DatasphereCatalog, glue: Any
) -> None:
    spaces = {"match": {"spaces": ["SALES", "EXECUTIVE_RESTRICTED"] if "403" in cause else ["SALES"]}}
    sync(source, glue, **spaces, **DELETING)
    datasphere.admin.delete_asset("SALES", "CUSTOMERS")
    if "5xx" in cause:
        datasphere.admin.set_faults(
            server_errors={
                "count": 1000,
                "status": 503,
                "path_prefix": "/dwaas-core/api/v1/spaces/SALES/views",
            }
        )

    report = sync(source, glue, **spaces, **DELETING)
    assert report.deleted == 0 and "customers" in tables(glue)
    assert any("no table deleted" in warning and "incomplete" in warning for warning in report.warnings)
    if "5xx" in cause:
        # A listing that broke off is a fault: the sync fails so that the next attempt lists again.
        assert "could not be listed completely" in report.errors["space SALES"]
        with pytest.raises(SyncFailed, match="space SALES"):
            report.raise_for_failures()
    else:
        # A space the client may not read is left out on purpose: a warning, not a failure.
        assert "space EXECUTIVE_RESTRICTED" not in report.errors
        assert any("not a member" in warning for warning in report.warnings)


def test_one_failing_asset_does_not_block_the_others(
    datasphere: EmulatorProcess, source: DatasphereCatalog, glue: Any
) -> None:
    datasphere.admin.set_faults(
        server_errors={
            "count": 1000,
            "status": 500,
            "path_prefix": "/dwaas-core/api/v1/spaces/SALES/localtables/CUSTOMERS",
        }
    )
    report = sync(source, glue, **SALES_ONLY)
    assert "HTTP 500" in report.errors["SALES/CUSTOMERS"] or "500" in report.errors["SALES/CUSTOMERS"]
    assert report.failed == 3  # CUSTOMERS, and the demo's deliberate collision pair
    assert report.created > 10 and "customers" not in tables(glue) and "v_customers" in tables(glue)
    with pytest.raises(SyncFailed, match="SALES/CUSTOMERS"):
        report.raise_for_failures()


def test_flow_lineage_lands_on_the_tables_flows_load(source: DatasphereCatalog, glue: Any) -> None:
    sync(source, glue, **SALES_ONLY)
    report = sync(
        source, glue, match={"spaces": ["SALES"], "object_types": ["replicationflows", "dataflows"]}
    )
    assert report.failed == 0 and report.calls["glue.UpdateTable"] >= 1
    lineage = {name: t["Parameters"].get("datasphere.lineage") for name, t in tables(glue).items()}
    assert lineage["customers"] == "replicationflows:RF_CUSTOMERS"


def test_a_semantic_usage_condition_selects_the_assets_that_carry_it(
    datasphere: EmulatorProcess, source: DatasphereCatalog, glue: Any
) -> None:
    # The listing names no semantic usage: the condition can only be judged on the asset as read.
    catalog = datasphere.admin.catalog()
    sales = next(space for space in catalog["spaces"] if space["name"] == "SALES")
    dimensions = {
        asset["name"].lower().replace(".", "_")
        for asset in sales["assets"]
        if asset["type"] == "views"
        and asset["definition"].get("@ObjectModel.modelingPattern", {}).get("#") == "ANALYTICAL_DIMENSION"
    }
    assert dimensions, "the demo catalog has dimension views in SALES"

    report = sync(
        source,
        glue,
        match={"spaces": ["SALES"], "object_types": ["views"], "semantic_usage": ["ANALYTICAL_DIMENSION"]},
    )

    assert report.failed == 0 and report.created == len(dimensions)
    assert set(tables(glue)) == dimensions
