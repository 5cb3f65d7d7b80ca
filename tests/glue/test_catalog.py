"""Glue access: paging moto never exercises, retries on throttling, batched deletes, versioned updates."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from include.datasphere_glue.glue.catalog import GlueCallFailed, GlueCatalog


def offline_client() -> Any:
    return boto3.client("glue", region_name="eu-central-1", aws_access_key_id="x", aws_secret_access_key="x")


def table(name: str) -> dict[str, Any]:
    return {"Name": name, "DatabaseName": "dev_sales"}


class TestPaging:
    def test_get_tables_follows_next_token_to_the_last_page(self) -> None:
        client = offline_client()
        with Stubber(client) as stub:
            stub.add_response(
                "get_tables",
                {"TableList": [table("a"), table("b")], "NextToken": "t1"},
                {"DatabaseName": "dev_sales"},
            )
            stub.add_response(
                "get_tables",
                {"TableList": [table("c")], "NextToken": "t2"},
                {"DatabaseName": "dev_sales", "NextToken": "t1"},
            )
            stub.add_response(
                "get_tables", {"TableList": [table("D")]}, {"DatabaseName": "dev_sales", "NextToken": "t2"}
            )
            catalog = GlueCatalog(client)
            tables = catalog.get_tables("dev_sales")
            stub.assert_no_pending_responses()
        assert tables is not None and sorted(tables) == ["a", "b", "c", "d"]
        assert catalog.calls["GetTables"] == 3

    def test_get_databases_follows_next_token(self) -> None:
        client = offline_client()
        with Stubber(client) as stub:
            stub.add_response("get_databases", {"DatabaseList": [{"Name": "one"}], "NextToken": "n"}, {})
            stub.add_response("get_databases", {"DatabaseList": [{"Name": "two"}]}, {"NextToken": "n"})
            assert GlueCatalog(client).list_databases() == ["one", "two"]

    def test_a_missing_database_reads_as_none(self) -> None:
        client = offline_client()
        with Stubber(client) as stub:
            stub.add_client_error("get_tables", "EntityNotFoundException", "Database dev_x not found")
            assert GlueCatalog(client).get_tables("dev_x") is None


class TestRetries:
    def test_throttling_and_concurrent_modification_are_retried(self) -> None:
        client = offline_client()
        delays: list[float] = []
        with Stubber(client) as stub:
            stub.add_client_error("create_table", "ThrottlingException", "Rate exceeded")
            stub.add_client_error("create_table", "ConcurrentModificationException", "busy")
            stub.add_response("create_table", {})
            catalog = GlueCatalog(client, sleep=delays.append, backoff_seconds=0.5)
            catalog.create_table("dev_sales", {"Name": "t"})
            stub.assert_no_pending_responses()
        assert catalog.calls["CreateTable"] == 3
        assert len(delays) == 2 and 0 <= delays[0] <= 0.5 and 0 <= delays[1] <= 1.0

    def test_throttling_gives_up_after_the_last_attempt_keeping_the_code(self) -> None:
        client = offline_client()
        with Stubber(client) as stub:
            for _ in range(3):
                stub.add_client_error("update_table", "ThrottlingException", "Rate exceeded")
            catalog = GlueCatalog(client, sleep=lambda _: None, max_attempts=3)
            with pytest.raises(GlueCallFailed) as caught:
                catalog.update_table("dev_sales", {"Name": "t"}, version_id=None)
        assert caught.value.code == "ThrottlingException"
        assert catalog.calls["UpdateTable"] == 3

    def test_other_errors_are_not_retried(self) -> None:
        client = offline_client()
        with Stubber(client) as stub:
            stub.add_client_error("create_table", "AccessDeniedException", "no")
            catalog = GlueCatalog(client, sleep=lambda _: pytest.fail("slept"))
            with pytest.raises(GlueCallFailed, match="AccessDeniedException"):
                catalog.create_table("dev_sales", {"Name": "t"})


class TestWrites:
    def test_update_passes_version_id_and_skips_archive(self) -> None:
        client = offline_client()
        with Stubber(client) as stub:
            expected = {
                "DatabaseName": "db",
                "TableInput": {"Name": "t"},
                "SkipArchive": True,
                "VersionId": "7",
            }
            stub.add_response("update_table", {}, expected)
            GlueCatalog(client).update_table("db", {"Name": "t"}, version_id="7")
            stub.assert_no_pending_responses()

    def test_catalog_id_goes_on_every_call(self) -> None:
        client = offline_client()
        with Stubber(client) as stub:
            stub.add_response(
                "get_tables", {"TableList": []}, {"DatabaseName": "db", "CatalogId": "123456789012"}
            )
            assert GlueCatalog(client, catalog_id="123456789012").get_tables("db") == {}

    def test_batch_delete_takes_at_most_100_names_a_call_and_reports_refusals(self) -> None:
        names = [f"t{i:03d}" for i in range(230)]
        client = offline_client()
        with Stubber(client) as stub:
            stub.add_response("batch_delete_table", {}, {"DatabaseName": "db", "TablesToDelete": names[:100]})
            stub.add_response(
                "batch_delete_table",
                {
                    "Errors": [
                        {
                            "TableName": "t150",
                            "ErrorDetail": {"ErrorCode": "AccessDeniedException", "ErrorMessage": "denied"},
                        }
                    ]
                },
                {"DatabaseName": "db", "TablesToDelete": names[100:200]},
            )
            stub.add_response("batch_delete_table", {}, {"DatabaseName": "db", "TablesToDelete": names[200:]})
            catalog = GlueCatalog(client)
            refused = catalog.delete_tables("db", reversed(names))
            stub.assert_no_pending_responses()
        assert refused == {"t150": "AccessDeniedException: denied"}
        assert catalog.calls["BatchDeleteTable"] == 3 and catalog.writes == 3


class TestAgainstLocalGlue:
    def test_round_trip_through_moto(self, glue: Any) -> None:
        catalog = GlueCatalog(glue)
        assert catalog.get_tables("dev_sales") is None
        assert catalog.create_database("dev_sales", description="Sales", parameters={"k": "v"}) is True
        assert catalog.create_database("dev_sales", description="Sales", parameters={"k": "v"}) is False
        for i in range(105):
            catalog.create_table("dev_sales", {"Name": f"t{i}", "StorageDescriptor": {"Columns": []}})
        tables = catalog.get_tables("dev_sales")
        assert tables is not None and len(tables) == 105
        assert catalog.delete_tables("dev_sales", list(tables)) == {}
        assert catalog.get_tables("dev_sales") == {}
        assert catalog.calls["BatchDeleteTable"] == 2
        assert catalog.list_databases() == ["dev_sales"]
