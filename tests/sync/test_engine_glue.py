"""The engine against a local Glue (moto server) with assets built in the test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from include.datasphere_glue.glue.catalog import GlueCallFailed, GlueCatalog
from include.datasphere_glue.glue.tables import FINGERPRINT_KEY, LINEAGE_KEY
from include.datasphere_glue.glue.types import TypeOverrideError
from include.datasphere_glue.model import FlowLineage, ObjectType, SourceColumn
from include.datasphere_glue.sync.engine import SyncEngine
from include.datasphere_glue.sync.report import SyncFailed
from tests.glue.assets import make_asset
from tests.glue.rules import make_rule
from tests.sync.memory_source import MemorySource

DELETING = {"deletion": {"mode": "delete_vanished", "max_delete_percent": 50}}


def engine_for(source: MemorySource, glue: Any, **rule_fields: Any) -> SyncEngine:
    rule_fields.setdefault("job", {"batch_size": 3, "max_parallel_requests": 4})
    return SyncEngine(source, GlueCatalog(glue), make_rule(**rule_fields))


def sales_source(n: int = 6) -> MemorySource:
    source = MemorySource()
    source.add(*(make_asset(f"T{i}", object_type=ObjectType.LOCAL_TABLE) for i in range(n)))
    source.add(
        make_asset("V_ORDERS", upstream=("T0",)),
        make_asset("AM_SALES", object_type=ObjectType.ANALYTIC_MODEL),
    )
    return source


def table_names(glue: Any, database: str = "dev_sales") -> list[str]:
    return sorted(t["Name"] for t in glue.get_tables(DatabaseName=database)["TableList"])


class TestDiscovery:
    def test_batches_by_stage_then_space_with_readable_labels(self, glue: Any) -> None:
        source = sales_source(5)
        source.add(make_asset("X", space="HR", object_type=ObjectType.LOCAL_TABLE))
        discovery = engine_for(source, glue).discover()
        assert [(b["stage"], b["space"], b["names"]) for b in discovery.batches] == [
            (0, "HR", ["X"]),
            (0, "SALES", ["T0", "T1", "T2"]),
            (0, "SALES", ["T3", "T4"]),
            (1, "SALES", ["V_ORDERS"]),
            (2, "SALES", ["AM_SALES"]),
        ]
        assert discovery.batches[1]["label"] == "SALES: T0, T1 +1"
        assert discovery.batches[2]["label"] == "SALES: T3, T4"
        assert discovery.complete and discovery.selected == 8

    def test_views_are_ordered_after_the_views_they_read_once_glue_knows_their_upstream(
        self, glue: Any
    ) -> None:
        source = MemorySource()
        source.add(make_asset("V1", upstream=("V3",)), make_asset("V2"), make_asset("V3", upstream=("V4",)))
        source.add(
            make_asset("V4", upstream=("T_RAW",)), make_asset("T_RAW", object_type=ObjectType.LOCAL_TABLE)
        )
        engine = engine_for(source, glue, job={"batch_size": 1})
        assert [b["names"][0] for b in engine.discover().batches] == ["T_RAW", "V1", "V2", "V3", "V4"]
        engine.sync_all()
        ordered = [b["names"][0] for b in engine_for(source, glue, job={"batch_size": 1}).discover().batches]
        assert ordered == ["T_RAW", "V2", "V4", "V3", "V1"]

    def test_upstream_cycles_do_not_stop_discovery(self, glue: Any) -> None:
        source = MemorySource()
        source.add(make_asset("V1", upstream=("V2",)), make_asset("V2", upstream=("V1",)), make_asset("V0"))
        engine_for(source, glue).sync_all()
        names = [
            n for b in engine_for(source, glue, job={"batch_size": 1}).discover().batches for n in b["names"]
        ]
        assert sorted(names) == ["V0", "V1", "V2"] and names[0] == "V0"

    def test_rule_match_and_only_select_assets(self, glue: Any) -> None:
        source = sales_source(5)
        engine = engine_for(
            source, glue, match={"object_types": ["localtables"], "include": ["t*"], "exclude": ["T4"]}
        )
        assert [b["names"] for b in engine.discover().batches] == [["T0", "T1", "T2"], ["T3"]]
        discovery = engine.discover(only=["T1", "NOPE"])
        assert [b["names"] for b in discovery.batches] == [["T1"]]
        assert any("NOPE" in w for w in discovery.warnings)

    def test_bad_type_override_stops_the_engine_with_the_rule_named(self, glue: Any) -> None:
        with pytest.raises(TypeOverrideError, match="rule 'test_rule'"):
            engine_for(MemorySource(), glue, type_mapping={"overrides": {"cds.UUID": "uuid"}})


class TestIncrementalSync:
    def test_first_sync_creates_database_and_tables_and_second_writes_nothing(self, glue: Any) -> None:
        source = sales_source()
        first = engine_for(source, glue).sync_all()
        assert (first.created, first.updated, first.failed) == (8, 0, 0)
        assert first.calls["glue.CreateDatabase"] == 1
        assert {"discover", "stage_0", "stage_1", "stage_2", "glue_read", "finalize"} <= set(first.durations)
        assert first.duration_seconds >= first.durations["stage_0"] > 0
        database = glue.get_database(Name="dev_sales")["Database"]
        assert database["Parameters"]["datasphere.space"] == "SALES"
        assert table_names(glue) == ["am_sales", *(f"t{i}" for i in range(6)), "v_orders"]

        engine = engine_for(source, glue)
        second = engine.sync_all()
        assert (second.created, second.updated, second.unchanged) == (0, 0, 8)
        assert engine.glue.writes == 0
        assert engine.glue.calls["GetTables"] == 1  # one paginated read for the database, not one per asset

    def test_changed_asset_is_updated_and_full_refresh_rewrites_all(self, glue: Any) -> None:
        source = sales_source(2)
        engine_for(source, glue).sync_all()
        source.add(
            make_asset("T1", object_type=ObjectType.LOCAL_TABLE, columns=(SourceColumn("NEW", "cds.Date"),))
        )
        report = engine_for(source, glue).sync_all()
        assert (report.updated, report.unchanged) == (1, 3)
        columns = glue.get_table(DatabaseName="dev_sales", Name="t1")["Table"]["StorageDescriptor"]["Columns"]
        assert [(c["Name"], c["Type"]) for c in columns] == [("new", "date")]
        refresh = engine_for(source, glue).sync_all(full_refresh=True)
        assert (refresh.updated, refresh.unchanged) == (4, 0)

    def test_hand_edited_table_is_put_back_and_named_as_a_conflict(self, glue: Any) -> None:
        source = sales_source(2)
        engine_for(source, glue).sync_all()
        table = glue.get_table(DatabaseName="dev_sales", Name="t0")["Table"]
        edited = {k: table[k] for k in ("Name", "TableType", "Parameters", "StorageDescriptor")}
        edited["Description"] = "edited by hand"
        glue.update_table(DatabaseName="dev_sales", TableInput=edited)

        report = engine_for(source, glue).sync_all()
        assert report.updated == 1 and report.unchanged == 3
        assert "description" in report.conflicts["SALES/T0"]
        restored = glue.get_table(DatabaseName="dev_sales", Name="t0")["Table"]
        assert restored["Description"] == "Sales orders"
        assert restored["Parameters"][FINGERPRINT_KEY] == table["Parameters"][FINGERPRINT_KEY]

    def test_dry_run_lists_actions_and_writes_nothing(self, glue: Any) -> None:
        engine = engine_for(sales_source(2), glue)
        report = engine.sync_all(dry_run=True)
        assert report.created == 4 and engine.glue.writes == 0
        assert "create database dev_sales" in report.actions
        assert "create dev_sales.t0 (SALES/T0)" in report.actions
        assert glue.get_databases()["DatabaseList"] == []


class TestSafety:
    def test_unowned_table_in_the_way_is_skipped_and_left_alone(self, glue: Any) -> None:
        glue.create_database(DatabaseInput={"Name": "dev_sales"})
        glue.create_table(DatabaseName="dev_sales", TableInput={"Name": "t0", "Description": "theirs"})
        report = engine_for(sales_source(2), glue).sync_all()
        assert report.skipped == 1 and "not managed by this sync" in report.skips["SALES/T0"]
        assert glue.get_table(DatabaseName="dev_sales", Name="t0")["Table"]["Description"] == "theirs"
        assert report.created == 3

    def test_name_collision_fails_both_assets_and_keeps_the_existing_table(self, glue: Any) -> None:
        source = sales_source(1)
        engine_for(source, glue).sync_all()
        source.add(make_asset("A.B", object_type=ObjectType.LOCAL_TABLE), make_asset("A_B"))
        source.add(make_asset("t0", object_type=ObjectType.REMOTE_TABLE, description="collides with T0"))
        report = engine_for(source, glue).sync_all()
        assert set(report.errors) == {"SALES/A.B", "SALES/A_B", "SALES/T0", "SALES/t0"}
        assert "dev_sales.a_b" in report.errors["SALES/A.B"] and "SALES/A_B" in report.errors["SALES/A.B"]
        assert "a_b" not in table_names(glue)
        assert glue.get_table(DatabaseName="dev_sales", Name="t0")["Table"]["Description"] == "Sales orders"
        with pytest.raises(SyncFailed, match="4 asset"):
            report.raise_for_failures()

    def test_one_failing_asset_does_not_block_the_others(self, glue: Any) -> None:
        source = sales_source(4)
        source.broken.add("SALES/T2")
        report = engine_for(source, glue).sync_all()
        assert report.failed == 1 and "HTTP 500" in report.errors["SALES/T2"]
        assert report.created == 5 and "t2" not in table_names(glue)
        with pytest.raises(SyncFailed, match="SALES/T2"):
            report.raise_for_failures()


class TestDeletion:
    def test_vanished_owned_tables_are_deleted_only_within_scope(self, glue: Any) -> None:
        source = sales_source(4)
        engine_for(source, glue, **DELETING).sync_all()
        # a table another rule owns in the same database, of a type this rule does not select
        other = make_asset("OTHER_VIEW")
        source.add(other)
        engine_for(source, glue, match={"object_types": ["views"]}).sync_all()
        source.remove("SALES/T3")
        source.remove("SALES/OTHER_VIEW")
        report = engine_for(source, glue, match={"object_types": ["localtables"]}, **DELETING).sync_all()
        assert report.deleted == 1
        assert "t3" not in table_names(glue) and "other_view" in table_names(glue)

    def test_fail_safe_trips_and_deletes_nothing(self, glue: Any) -> None:
        source = sales_source(4)
        engine_for(source, glue, **DELETING).sync_all()
        for key in ("SALES/T0", "SALES/T1", "SALES/T2", "SALES/T3"):
            source.remove(key)
        report = engine_for(source, glue, **DELETING).sync_all()
        assert report.deleted == 0 and len(table_names(glue)) == 6
        assert "would delete 4 of its 6 owned tables" in report.errors["deletion fail-safe"]
        with pytest.raises(SyncFailed, match="fail-safe"):
            report.raise_for_failures()

    def test_incomplete_listing_deletes_nothing(self, glue: Any) -> None:
        source = sales_source(4)
        engine_for(source, glue, **DELETING).sync_all()
        source.remove("SALES/T3")
        source.incomplete.add("SALES")
        report = engine_for(source, glue, **DELETING).sync_all()
        assert report.deleted == 0 and "t3" in table_names(glue)
        assert any("incomplete" in w for w in report.warnings)

    def test_deletion_off_keeps_vanished_tables(self, glue: Any) -> None:
        source = sales_source(2)
        engine_for(source, glue).sync_all()
        source.remove("SALES/T1")
        assert engine_for(source, glue).sync_all().deleted == 0
        assert "t1" in table_names(glue)


class TestLineage:
    def test_flows_lineage_lands_on_target_tables_and_survives_resync(self, glue: Any) -> None:
        source = sales_source(2)
        source.add_flow(
            FlowLineage("SALES", "DF_LOAD", ObjectType.DATA_FLOW, sources=("T0",), targets=("T1",))
        )
        engine_for(source, glue).sync_all()
        flows_rule = {"match": {"object_types": ["dataflows"]}}
        report = engine_for(source, glue, **flows_rule).sync_all()
        assert report.calls["glue.UpdateTable"] == 1
        table = glue.get_table(DatabaseName="dev_sales", Name="t1")["Table"]
        assert table["Parameters"][LINEAGE_KEY] == "dataflows:DF_LOAD"

        # the tables rule runs again: lineage stays, nothing is written
        engine = engine_for(source, glue)
        assert engine.sync_all().unchanged == 4 and engine.glue.writes == 0
        engine = engine_for(source, glue, **flows_rule)
        engine.sync_all()
        assert engine.glue.writes == 0

        source.flows.clear()
        engine_for(source, glue, **flows_rule).sync_all()
        assert LINEAGE_KEY not in glue.get_table(DatabaseName="dev_sales", Name="t1")["Table"]["Parameters"]


class UnreadableDatabase(GlueCatalog):
    """Glue that refuses to read one database, as an IAM policy scoped to other databases would."""

    def iter_tables(self, database: str) -> Iterator[dict[str, Any]]:
        if database == "dev_hr":
            raise GlueCallFailed("GetTables", "AccessDeniedException", "not allowed on dev_hr")
        return super().iter_tables(database)


def test_a_database_glue_refuses_fails_its_assets_only(glue: Any) -> None:
    source = sales_source(2)
    source.add(make_asset("EMPLOYEES", space="HR", object_type=ObjectType.LOCAL_TABLE))
    report = SyncEngine(source, UnreadableDatabase(glue), make_rule()).sync_all()
    assert "AccessDeniedException" in report.errors["HR/EMPLOYEES"]
    assert report.failed == 1 and report.created == 4
