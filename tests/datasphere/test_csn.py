"""CSN parsing: columns, business context, upstream objects and flow lineage from repository documents."""

from __future__ import annotations

from typing import Any

import pytest

from include.datasphere_glue.datasphere.csn import parse_csn, parse_flow
from include.datasphere_glue.datasphere.errors import DocumentError
from include.datasphere_glue.model import SourceColumn

LOCAL_TABLE: dict[str, Any] = {
    "definitions": {
        "SALES_ORDERS": {
            "kind": "entity",
            "@EndUserText.label": "Sales Orders",
            "@ObjectModel.modelingPattern": {"#": "DATA_STRUCTURE"},
            "@ObjectModel.supportedCapabilities": [{"#": "DATA_STRUCTURE"}],
            "elements": {
                "ORDER_ID": {
                    "type": "cds.String",
                    "length": 10,
                    "key": True,
                    "notNull": True,
                    "@EndUserText.label": "Order",
                },
                "STATUS": {"type": "hana.CHAR", "length": 1},
                "QUANTITY": {"type": "hana.TINYINT", "notNull": True},
                "AMOUNT": {"type": "cds.Decimal", "precision": 15, "scale": 2},
                "RATE": {"type": "cds.DecimalFloat"},
                "_CUSTOMER": {"type": "cds.Association", "target": "CUSTOMERS", "on": []},
            },
        }
    }
}

# A view over a join of a table and a dotted time dimension, unioned with an archive.
VIEW_WITH_JOIN_AND_UNION: dict[str, Any] = {
    "definitions": {
        "V_ORDERS_BY_DAY": {
            "kind": "entity",
            "@EndUserText.label": "Orders by Day",
            "@EndUserText.quickInfo": "Order items with their calendar day.",
            "@ObjectModel.modelingPattern": {"#": "ANALYTICAL_FACT"},
            "query": {
                "SET": {
                    "op": "union",
                    "all": True,
                    "args": [
                        {
                            "SELECT": {
                                "from": {
                                    "join": "left",
                                    "args": [
                                        {"ref": ["SALES_ORDERS"], "as": "O"},
                                        {
                                            "join": "inner",
                                            "args": [
                                                {"ref": ["SAP.TIME.VIEW_DIMENSION_DAY"], "as": "D"},
                                                {"ref": ["CALENDAR_EXT"]},
                                            ],
                                            "on": [],
                                        },
                                    ],
                                    "on": [{"ref": ["O", "DAY"]}, "=", {"ref": ["D", "DATE_SQL"]}],
                                },
                                "columns": [{"ref": ["O", "ORDER_ID"]}],
                            }
                        },
                        {"SELECT": {"from": {"ref": ["SALES_ORDERS_ARCHIVE"]}}},
                        {"SELECT": {"from": {"ref": ["SALES_ORDERS"]}}},
                    ],
                }
            },
            "elements": {
                "ORDER_ID": {"type": "cds.String", "length": 10, "key": True},
                "DAY": {"type": "cds.Date", "@EndUserText.label": "Calendar Day"},
            },
        }
    }
}

ANALYTIC_MODEL: dict[str, Any] = {
    "definitions": {
        "AM_REVENUE": {
            "kind": "entity",
            "doc": "Revenue by region.",
            "query": {"SELECT": {"from": {"ref": ["V_ORDERS_BY_DAY"]}}},
            "elements": {
                "REGION": {"type": "cds.String", "length": 3, "@EndUserText.label": "Region"},
                "REVENUE": {"@AnalyticsDetails.measureType": {"#": "BASE"}, "@EndUserText.label": "Revenue"},
            },
        }
    }
}


class TestTables:
    def test_columns_with_types_facets_and_keys(self) -> None:
        table = parse_csn(LOCAL_TABLE, "SALES_ORDERS")

        assert table.columns[0] == SourceColumn(
            name="ORDER_ID", source_type="cds.String", length=10, nullable=False, key=True, label="Order"
        )
        columns = {column.name: column for column in table.columns}
        assert (columns["STATUS"].source_type, columns["STATUS"].length) == ("hana.CHAR", 1)
        assert not columns["QUANTITY"].nullable and not columns["QUANTITY"].key
        assert (columns["AMOUNT"].precision, columns["AMOUNT"].scale) == (15, 2)
        assert columns["RATE"].precision is None and columns["RATE"].scale is None

    def test_associations_are_not_columns(self) -> None:
        names = [column.name for column in parse_csn(LOCAL_TABLE, "SALES_ORDERS").columns]

        assert "_CUSTOMER" not in names and len(names) == 5

    def test_business_name_and_semantic_usage(self) -> None:
        table = parse_csn(LOCAL_TABLE, "SALES_ORDERS")

        assert (table.label, table.semantic_usage, table.kind) == ("Sales Orders", "DATA_STRUCTURE", "entity")
        assert table.upstream == ()


class TestViews:
    def test_upstream_from_nested_joins_and_unions_in_order_without_duplicates(self) -> None:
        view = parse_csn(VIEW_WITH_JOIN_AND_UNION, "V_ORDERS_BY_DAY")

        assert view.upstream == (
            "SALES_ORDERS",
            "SAP.TIME.VIEW_DIMENSION_DAY",
            "CALENDAR_EXT",
            "SALES_ORDERS_ARCHIVE",
        )

    def test_description_from_quick_info(self) -> None:
        view = parse_csn(VIEW_WITH_JOIN_AND_UNION, "V_ORDERS_BY_DAY")

        assert view.description == "Order items with their calendar day."
        assert view.semantic_usage == "ANALYTICAL_FACT"


class TestAnalyticModels:
    def test_a_measure_without_type_has_an_empty_source_type(self) -> None:
        model = parse_csn(ANALYTIC_MODEL, "AM_REVENUE")
        revenue = model.columns[1]

        assert (revenue.name, revenue.source_type, revenue.label) == ("REVENUE", "", "Revenue")
        assert model.description == "Revenue by region."
        assert model.upstream == ("V_ORDERS_BY_DAY",)


class TestNames:
    def test_dotted_technical_name_is_looked_up_as_one_key(self) -> None:
        document = {
            "definitions": {
                "SAP.TIME": {"kind": "context"},
                "SAP.TIME.VIEW_DIMENSION_DAY": {
                    "kind": "entity",
                    "elements": {"DATE_SQL": {"type": "cds.Date"}},
                },
            }
        }

        day = parse_csn(document, "SAP.TIME.VIEW_DIMENSION_DAY")

        assert day.name == "SAP.TIME.VIEW_DIMENSION_DAY"
        assert [column.name for column in day.columns] == ["DATE_SQL"]

    def test_missing_definition_names_what_the_document_defines(self) -> None:
        document = {"definitions": {"A": {"kind": "entity"}, "B": {"kind": "entity"}}}

        with pytest.raises(DocumentError, match=r"no definition named 'C' \(it defines A, B\)"):
            parse_csn(document, "C")

    def test_bad_facet_names_the_element(self) -> None:
        document = {"definitions": {"T": {"elements": {"NAME": {"type": "cds.String", "length": "ten"}}}}}

        with pytest.raises(DocumentError, match="element 'NAME': length 'ten'"):
            parse_csn(document, "T")


class TestFlows:
    def test_sources_and_targets_in_every_accepted_shape(self) -> None:
        document = {
            "definitions": {
                "DF_LOAD_ORDERS": {
                    "kind": "sap.dis.dataflow",
                    "sources": ["ERP_ORDERS", {"technicalName": "ERP_ITEMS"}, {"ref": ["ERP_ORDERS"]}],
                    "targets": [{"name": "SALES_ORDERS"}],
                }
            }
        }

        flow = parse_flow(document, "DF_LOAD_ORDERS")

        assert flow.kind == "sap.dis.dataflow"
        assert flow.sources == ("ERP_ORDERS", "ERP_ITEMS")
        assert flow.targets == ("SALES_ORDERS",)

    def test_an_item_without_a_name_is_an_error(self) -> None:
        document = {"definitions": {"RF": {"kind": "sap.dis.replicationflow", "targets": [{"x": 1}]}}}

        with pytest.raises(DocumentError, match="'targets' names no object"):
            parse_flow(document, "RF")
