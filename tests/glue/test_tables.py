"""Desired tables: parameters, limits Glue enforces, and a fingerprint that survives a round trip to Glue."""

from __future__ import annotations

from typing import Any

from include.datasphere_glue.glue.tables import (
    FINGERPRINT_KEY,
    LINEAGE_KEY,
    MANAGED_KEY,
    build_desired_table,
    describe_differences,
    fingerprint_of,
)
from include.datasphere_glue.model import ObjectType, SourceColumn
from tests.glue.assets import make_asset
from tests.glue.rules import make_rule

RULE = make_rule(target={"table_prefix": "ds_"})


def test_table_carries_source_business_context_ownership_and_fingerprint() -> None:
    desired = build_desired_table(make_asset(upstream=("ORDERS_RAW", "CUSTOMERS")), RULE)
    parameters = desired.table_input["Parameters"]
    assert desired.database == "dev_sales" and desired.name == "ds_orders"
    assert parameters[MANAGED_KEY] == "true"
    assert parameters[FINGERPRINT_KEY] == desired.fingerprint
    assert parameters["datasphere.space"] == "SALES"
    assert parameters["datasphere.technical_name"] == "ORDERS"
    assert parameters["datasphere.object_type"] == "views"
    assert parameters["datasphere.business_name"] == "Orders"
    assert parameters["datasphere.semantic_usage"] == "FACT"
    assert parameters["datasphere.upstream"] == "ORDERS_RAW,CUSTOMERS"
    assert parameters["datasphere_glue_sync.rule"] == "test_rule"
    assert desired.table_input["Description"] == "Sales orders"


def test_columns_keep_source_type_and_business_label() -> None:
    columns = build_desired_table(make_asset(), RULE).table_input["StorageDescriptor"]["Columns"]
    amount = next(c for c in columns if c["Name"] == "amount")
    assert amount["Type"] == "decimal(15,2)" and amount["Comment"] == "Amount"
    assert amount["Parameters"]["datasphere.source_type"] == "cds.Decimal(15,2)"
    assert amount["Parameters"]["datasphere.business_name"] == "Amount"
    rate = next(c for c in columns if c["Name"] == "rate")
    assert rate["Type"] == "double" and rate["Parameters"]["datasphere.source_type"] == "cds.DecimalFloat"


def test_long_comments_and_descriptions_are_cut_with_an_ellipsis_and_noted() -> None:
    asset = make_asset(
        description="d" * 3000,
        columns=(SourceColumn("NOTE", "cds.String", length=20, label="x" * 400),),
    )
    desired = build_desired_table(asset, RULE)
    description = desired.table_input["Description"]
    comment = desired.table_input["StorageDescriptor"]["Columns"][0]["Comment"]
    assert len(description) == 2048 and description.endswith("…")
    assert len(comment) == 255 and comment.endswith("…")
    assert any("description truncated from 3000 to 2048" in note for note in desired.notes)
    assert any("column NOTE comment truncated from 400 to 255" in note for note in desired.notes)
    # the full label stays available where Glue allows it
    assert (
        desired.table_input["StorageDescriptor"]["Columns"][0]["Parameters"]["datasphere.business_name"]
        == "x" * 400
    )


def test_type_fallbacks_are_noted_with_the_asset() -> None:
    asset = make_asset(columns=(SourceColumn("MEASURE", ""),), object_type=ObjectType.ANALYTIC_MODEL)
    desired = build_desired_table(asset, RULE)
    assert desired.table_input["StorageDescriptor"]["Columns"][0]["Type"] == "string"
    assert desired.notes == ("SALES/ORDERS: column MEASURE declares no type: mapped to string",)


def test_fingerprint_changes_with_content_but_not_with_lineage_or_rule() -> None:
    desired = build_desired_table(make_asset(), RULE)
    changed = build_desired_table(make_asset(description="other"), RULE)
    other_rule = build_desired_table(
        make_asset(), make_rule(name="other_rule", target={"table_prefix": "ds_"})
    )
    assert changed.fingerprint != desired.fingerprint
    assert other_rule.fingerprint == desired.fingerprint
    with_lineage: dict[str, Any] = {
        **desired.table_input,
        "Parameters": {**desired.table_input["Parameters"], LINEAGE_KEY: "dataflows:LOAD"},
    }
    assert fingerprint_of(with_lineage) == desired.fingerprint


def test_fingerprint_of_the_table_glue_returns_matches_what_we_wrote(glue: Any) -> None:
    desired = build_desired_table(make_asset(), RULE)
    glue.create_database(DatabaseInput={"Name": desired.database})
    glue.create_table(DatabaseName=desired.database, TableInput=desired.table_input)
    stored = glue.get_table(DatabaseName=desired.database, Name=desired.name)["Table"]
    assert fingerprint_of(stored) == desired.fingerprint == stored["Parameters"][FINGERPRINT_KEY]


def test_differences_name_what_changed() -> None:
    desired = build_desired_table(make_asset(), RULE).table_input
    edited = {
        **desired,
        "Description": "hand written",
        "StorageDescriptor": {
            "Columns": [*desired["StorageDescriptor"]["Columns"][:-1], {"Name": "x", "Type": "int"}]
        },
    }
    text = describe_differences(edited, desired)
    assert "description" in text and "columns added x" in text and "columns removed rate" in text
