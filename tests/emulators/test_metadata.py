"""The $metadata documents: EDMX shape, CSN to Edm type mapping, labels, keys, 404 when not exposed."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
import pytest

from tests.emulators.support import CATALOG

EDMX = "{http://docs.oasis-open.org/odata/ns/edmx}"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


def _metadata_url(api: httpx.Client, space: str, name: str, kind: str = "Relational") -> str:
    row = api.get(f"{CATALOG}/spaces('{space}')/assets('{name}')").json()
    return str(row[f"asset{kind}MetadataUrl"])


def _entity_type(api: httpx.Client, url: str) -> ET.Element:
    response = api.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{EDMX}Edmx"
    assert root.get("Version") == "4.0"
    entity_types = root.findall(f"{EDMX}DataServices/{EDM}Schema/{EDM}EntityType")
    assert len(entity_types) == 1
    return entity_types[0]


def _properties(entity_type: ET.Element) -> dict[str, ET.Element]:
    return {prop.get("Name", ""): prop for prop in entity_type.findall(f"{EDM}Property")}


def _label(element: ET.Element) -> str | None:
    for annotation in element.findall(f"{EDM}Annotation"):
        if annotation.get("Term") == "Common.Label":
            return annotation.get("String")
    return None


class TestRelationalMetadata:
    def test_keys_facets_and_labels(self, api: httpx.Client) -> None:
        entity_type = _entity_type(api, _metadata_url(api, "SALES", "V_ORDER_ITEMS"))

        keys = [ref.get("Name") for ref in entity_type.findall(f"{EDM}Key/{EDM}PropertyRef")]
        assert keys == ["ORDER_ID", "ITEM_NO"]
        props = _properties(entity_type)
        assert props["ORDER_ID"].attrib == {
            "Name": "ORDER_ID",
            "Type": "Edm.String",
            "MaxLength": "10",
            "Nullable": "false",
        }
        assert props["QUANTITY"].get("Precision") == "13"
        assert props["QUANTITY"].get("Scale") == "3"
        assert props["PRODUCT_ID"].get("Nullable") == "true"
        assert _label(props["UNIT"]) == "Sales Unit"
        assert _label(entity_type) == "Order Items View"

    @pytest.mark.parametrize(
        ("space", "view", "column", "edm_type"),
        [
            ("SALES", "V_SALES_ORDERS", "ORDER_UUID", "Edm.Guid"),
            ("SALES", "V_SALES_ORDERS", "ORDER_DATE", "Edm.Date"),
            ("SALES", "V_SALES_ORDERS", "ORDER_TIME", "Edm.TimeOfDay"),
            ("SALES", "V_SALES_ORDERS", "CHANGED_AT", "Edm.DateTimeOffset"),
            ("SALES", "V_SALES_ORDERS", "CURRENCY", "Edm.String"),
            ("SALES", "V_SALES_ORDERS", "ITEM_COUNT", "Edm.Int32"),
            ("SALES", "V_SALES_ORDERS", "PRIORITY", "Edm.Byte"),
            ("SALES", "V_SALES_ORDERS", "IS_BLOCKED", "Edm.Boolean"),
            ("SALES", "V_SALES_ORDERS", "NOTES", "Edm.String"),
            ("SALES", "V_ORDER_ITEMS", "ITEM_NO", "Edm.Int16"),
            ("SALES", "V_ORDER_ITEMS", "DISCOUNT_RATE", "Edm.Single"),
            ("SALES", "V_ORDER_ITEMS", "MARGIN", "Edm.Double"),
            ("SALES", "V_PRODUCTS", "IMAGE", "Edm.Binary"),
            ("SALES", "V_CUSTOMERS", "LOCATION", "Edm.GeometryPoint"),
            ("SALES", "V_CUSTOMERS", "CREATED_ON", "Edm.DateTimeOffset"),
            ("HR", "V_ORG_UNITS", "OFFICE_AREA", "Edm.Geometry"),
            ("FINANCE", "V_JOURNAL_ENTRIES", "POSTED_AT", "Edm.DateTimeOffset"),
            ("SUPPLY_CHAIN", "V_STOCK", "LAST_COUNT", "Edm.Int64"),
        ],
    )
    def test_cds_types_map_to_edm(
        self, api: httpx.Client, space: str, view: str, column: str, edm_type: str
    ) -> None:
        props = _properties(_entity_type(api, _metadata_url(api, space, view)))

        assert props[column].get("Type") == edm_type

    def test_decimals_without_precision_carry_no_precision(self, api: httpx.Client) -> None:
        products = _properties(_entity_type(api, _metadata_url(api, "SALES", "V_PRODUCTS")))
        customers = _properties(_entity_type(api, _metadata_url(api, "SALES", "V_CUSTOMERS")))

        for prop in (products["WEIGHT_KG"], products["LIST_PRICE"], customers["CREDIT_LIMIT"]):
            assert prop.get("Type") == "Edm.Decimal"
            assert prop.get("Precision") is None
            assert prop.get("Scale") == "variable"
        assert products["CHECKSUM"].get("MaxLength") == "32"

    def test_long_business_names_are_served_whole(self, api: httpx.Client) -> None:
        orders = _entity_type(api, _metadata_url(api, "SALES", "V_SALES_ORDERS"))
        enriched = _entity_type(api, _metadata_url(api, "SALES", "V_ORDERS_ENRICHED", "Analytical"))

        assert len(_label(_properties(orders)["NET_AMOUNT"]) or "") > 255
        descriptions = [
            a.get("String") or ""
            for a in enriched.findall(f"{EDM}Annotation")
            if a.get("Term") == "Core.Description"
        ]
        assert len(descriptions[0]) > 2048

    def test_dotted_name_metadata(self, api: httpx.Client) -> None:
        url = _metadata_url(api, "FINANCE", "SAP.TIME.VIEW_DIMENSION_DAY")
        assert "/SAP.TIME.VIEW_DIMENSION_DAY/$metadata" in url

        props = _properties(_entity_type(api, url))

        assert props["DATE_SQL"].get("Type") == "Edm.Date"


class TestAnalyticalMetadata:
    def test_measures_without_type_take_the_source_type_or_double(self, api: httpx.Client) -> None:
        url = _metadata_url(api, "HR", "AM_HEADCOUNT", "Analytical")

        props = _properties(_entity_type(api, url))

        assert props["HEADCOUNT"].get("Type") == "Edm.Int64"  # typed by the view it reads
        assert props["HEADCOUNT_SHARE"].get("Type") == "Edm.Double"  # calculated, no source column

    def test_analytic_model_has_no_relational_metadata(self, api: httpx.Client) -> None:
        url = _metadata_url(api, "HR", "AM_HEADCOUNT", "Analytical").replace("/analytical/", "/relational/")

        assert api.get(url).status_code == 404


class TestNotServed:
    def test_unexposed_view_is_not_found(self, api: httpx.Client) -> None:
        url = "/api/v1/datasphere/consumption/relational/SALES/V_SALES_DRAFT/$metadata"

        assert api.get(url).status_code == 404

    def test_local_table_is_not_found(self, api: httpx.Client) -> None:
        assert api.get("/api/v1/dwc/consumption/relational/SALES/SALES_ORDERS/$metadata").status_code == 404

    def test_restricted_space_is_forbidden(self, api: httpx.Client) -> None:
        url = "/api/v1/datasphere/consumption/relational/EXECUTIVE_RESTRICTED/V_BOARD_KPIS/$metadata"

        assert api.get(url).status_code == 403

    def test_metadata_needs_a_token(self, api: httpx.Client) -> None:
        url = _metadata_url(api, "SALES", "V_SALES_ORDERS")

        assert httpx.get(url).status_code == 401
