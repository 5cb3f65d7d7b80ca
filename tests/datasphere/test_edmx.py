"""EDMX parsing: columns, keys, facets and labels from realistic $metadata documents."""

from __future__ import annotations

import pytest

from include.datasphere_glue.datasphere.edmx import parse_edmx
from include.datasphere_glue.datasphere.errors import DocumentError
from include.datasphere_glue.model import SourceColumn

# A relational $metadata as a tenant serves it for an exposed view, labels inline.
RELATIONAL_VIEW = """<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
  <edmx:Reference Uri="https://sap.github.io/odata-vocabularies/vocabularies/Common.xml">
    <edmx:Include Namespace="com.sap.vocabularies.Common.v1" Alias="Common"/>
  </edmx:Reference>
  <edmx:Reference Uri="https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Core.V1.xml">
    <edmx:Include Namespace="Org.OData.Core.V1" Alias="Core"/>
  </edmx:Reference>
  <edmx:DataServices>
    <Schema Namespace="SALES" xmlns="http://docs.oasis-open.org/odata/ns/edm">
      <EntityType Name="V_ORDERSType">
        <Key><PropertyRef Name="ORDER_ID"/><PropertyRef Name="ITEM_NO"/></Key>
        <Property Name="ORDER_ID" Type="Edm.String" MaxLength="10" Nullable="false">
          <Annotation Term="Common.Label" String="Sales Order"/>
        </Property>
        <Property Name="ITEM_NO" Type="Edm.Int32" Nullable="false"/>
        <Property Name="AMOUNT" Type="Edm.Decimal" Precision="15" Scale="2">
          <Annotation Term="com.sap.vocabularies.Common.v1.Label"><String>Net Amount</String></Annotation>
        </Property>
        <Property Name="RATE" Type="Edm.Decimal" Scale="variable"/>
        <Property Name="NOTE" Type="Edm.String" MaxLength="max"/>
        <Property Name="CREATED_AT" Type="Edm.DateTimeOffset" Precision="7" Nullable="false"/>
        <Property Name="FLAG" Type="Edm.Byte"/>
        <Annotation Term="Common.Label" String="Sales Orders"/>
        <Annotation Term="Core.Description" String="One row per order item."/>
      </EntityType>
      <EntityContainer Name="EntityContainer">
        <EntitySet Name="V_ORDERS" EntityType="SALES.V_ORDERSType"/>
      </EntityContainer>
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>
"""

# An analytical $metadata with a parameters entity type and out-of-line labels under a custom alias.
ANALYTICAL_WITH_PARAMETERS = """<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
  <edmx:Reference Uri="https://sap.github.io/odata-vocabularies/vocabularies/Common.xml">
    <edmx:Include Namespace="com.sap.vocabularies.Common.v1" Alias="SAPCommon"/>
  </edmx:Reference>
  <edmx:DataServices>
    <Schema Namespace="FINANCE" Alias="SELF" xmlns="http://docs.oasis-open.org/odata/ns/edm">
      <EntityType Name="AM_REVENUEParameters">
        <Key><PropertyRef Name="P_YEAR"/></Key>
        <Property Name="P_YEAR" Type="Edm.String" MaxLength="4" Nullable="false"/>
      </EntityType>
      <EntityType Name="AM_REVENUEType">
        <Key><PropertyRef Name="ID"/></Key>
        <Property Name="ID" Type="Edm.String" MaxLength="36" Nullable="false"/>
        <Property Name="REGION" Type="Edm.String" MaxLength="3"/>
        <Property Name="REVENUE" Type="Edm.Double"/>
      </EntityType>
      <EntityContainer Name="EntityContainer">
        <EntitySet Name="AM_REVENUE_P" EntityType="FINANCE.AM_REVENUEParameters"/>
        <EntitySet Name="AM_REVENUE" EntityType="FINANCE.AM_REVENUEType"/>
      </EntityContainer>
      <Annotations Target="SELF.AM_REVENUEType/REGION">
        <Annotation Term="SAPCommon.Label" String="Sales Region"/>
      </Annotations>
      <Annotations Target="FINANCE.AM_REVENUEType">
        <Annotation Term="SAPCommon.Label" String="Revenue"/>
      </Annotations>
      <Annotations Target="OTHER.AM_REVENUEType/REVENUE">
        <Annotation Term="SAPCommon.Label" String="not ours"/>
      </Annotations>
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>
"""


class TestRelationalDocument:
    def test_reads_every_property_in_order_with_facets(self) -> None:
        entity = parse_edmx(RELATIONAL_VIEW, asset_name="V_ORDERS")

        assert [column.name for column in entity.columns] == [
            "ORDER_ID",
            "ITEM_NO",
            "AMOUNT",
            "RATE",
            "NOTE",
            "CREATED_AT",
            "FLAG",
        ]
        assert entity.columns[0] == SourceColumn(
            name="ORDER_ID",
            source_type="Edm.String",
            length=10,
            nullable=False,
            key=True,
            label="Sales Order",
        )
        amount = entity.columns[2]
        assert (amount.source_type, amount.precision, amount.scale) == ("Edm.Decimal", 15, 2)

    def test_symbolic_facets_mean_no_number(self) -> None:
        columns = {column.name: column for column in parse_edmx(RELATIONAL_VIEW).columns}

        assert columns["RATE"].scale is None and columns["RATE"].precision is None
        assert columns["NOTE"].length is None

    def test_keys_and_nullability(self) -> None:
        columns = {column.name: column for column in parse_edmx(RELATIONAL_VIEW).columns}

        assert columns["ITEM_NO"].key and not columns["ITEM_NO"].nullable
        assert not columns["CREATED_AT"].key and not columns["CREATED_AT"].nullable
        assert columns["FLAG"].nullable and not columns["FLAG"].key

    def test_labels_from_attribute_and_child_element_and_entity_annotations(self) -> None:
        entity = parse_edmx(RELATIONAL_VIEW)

        assert entity.columns[2].label == "Net Amount"
        assert entity.columns[1].label is None
        assert entity.label == "Sales Orders"
        assert entity.description == "One row per order item."


class TestAnalyticalDocument:
    def test_picks_the_entity_type_of_the_assets_entity_set_not_its_parameters(self) -> None:
        entity = parse_edmx(ANALYTICAL_WITH_PARAMETERS, asset_name="AM_REVENUE")

        assert entity.name == "AM_REVENUEType"
        assert [column.name for column in entity.columns] == ["ID", "REGION", "REVENUE"]

    def test_out_of_line_labels_under_an_alias(self) -> None:
        entity = parse_edmx(ANALYTICAL_WITH_PARAMETERS, asset_name="AM_REVENUE")
        labels = {column.name: column.label for column in entity.columns}

        assert labels == {"ID": None, "REGION": "Sales Region", "REVENUE": None}
        assert entity.label == "Revenue"


class TestBadDocuments:
    def test_malformed_xml_names_the_line(self) -> None:
        with pytest.raises(DocumentError, match=r"not well-formed XML \(line 3"):
            parse_edmx('<?xml version="1.0"?>\n<edmx:Edmx xmlns:edmx="x">\n<broken>')

    def test_an_html_page_is_not_taken_for_metadata(self) -> None:
        with pytest.raises(DocumentError, match="expected an OData v4 'Edmx'"):
            parse_edmx("<html><body>Sign in</body></html>")

    def test_a_document_without_entity_type_says_so(self) -> None:
        document = (
            '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">'
            "<edmx:DataServices>"
            '<Schema Namespace="S" xmlns="http://docs.oasis-open.org/odata/ns/edm"/>'
            "</edmx:DataServices></edmx:Edmx>"
        )
        with pytest.raises(DocumentError, match="no EntityType"):
            parse_edmx(document)
