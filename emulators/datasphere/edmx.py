"""Render an asset's CSN definition as the OData v4 EDMX ($metadata) document the tenant serves."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import quoteattr

from emulators.datasphere.catalog import Asset


@dataclass(frozen=True)
class EdmType:
    """An Edm type and which CSN facets carry over to it."""

    name: str
    max_length: bool = False
    precision: bool = False
    scale: bool = False
    # Facets the tenant always writes for this type, e.g. Scale="variable" for floating decimals.
    fixed: tuple[tuple[str, str], ...] = ()


# The mapping the emulator applies; unknown or missing CSN types become Edm.String.
CDS_TO_EDM: dict[str, EdmType] = {
    "cds.String": EdmType("Edm.String", max_length=True),
    "cds.LargeString": EdmType("Edm.String"),
    "hana.CHAR": EdmType("Edm.String", max_length=True),
    "hana.NCHAR": EdmType("Edm.String", max_length=True),
    "hana.VARCHAR": EdmType("Edm.String", max_length=True),
    "hana.CLOB": EdmType("Edm.String"),
    "hana.NCLOB": EdmType("Edm.String"),
    "cds.Boolean": EdmType("Edm.Boolean"),
    "hana.TINYINT": EdmType("Edm.Byte"),
    "hana.SMALLINT": EdmType("Edm.Int16"),
    "cds.Int16": EdmType("Edm.Int16"),
    "cds.Integer": EdmType("Edm.Int32"),
    "cds.Int32": EdmType("Edm.Int32"),
    "cds.Integer64": EdmType("Edm.Int64"),
    "cds.Int64": EdmType("Edm.Int64"),
    "cds.Decimal": EdmType("Edm.Decimal", precision=True, scale=True),
    "cds.DecimalFloat": EdmType("Edm.Decimal", fixed=(("Scale", "variable"),)),
    "hana.SMALLDECIMAL": EdmType("Edm.Decimal", fixed=(("Scale", "variable"),)),
    "cds.Double": EdmType("Edm.Double"),
    "hana.REAL": EdmType("Edm.Single"),
    "cds.Date": EdmType("Edm.Date"),
    "cds.Time": EdmType("Edm.TimeOfDay"),
    "cds.DateTime": EdmType("Edm.DateTimeOffset"),
    "cds.Timestamp": EdmType("Edm.DateTimeOffset", fixed=(("Precision", "7"),)),
    "cds.Binary": EdmType("Edm.Binary", max_length=True),
    "cds.LargeBinary": EdmType("Edm.Binary"),
    "hana.BINARY": EdmType("Edm.Binary", max_length=True),
    "cds.UUID": EdmType("Edm.Guid"),
    "hana.ST_POINT": EdmType("Edm.GeometryPoint"),
    "hana.ST_GEOMETRY": EdmType("Edm.Geometry"),
}
_FALLBACK = EdmType("Edm.String")
# Measures of analytic models without a type are typed by the engine at run time; a double is its answer.
_TYPELESS_MEASURE = EdmType("Edm.Double")
# Elements that are not columns: associations and compositions navigate, they hold no data.
_NON_COLUMN_TYPES = frozenset({"cds.Association", "cds.Composition"})
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]")


def entity_type_name(asset_name: str) -> str:
    """CSDL simple identifiers allow no dots, so ``SAP.TIME.X`` becomes ``SAP_TIME_X``."""
    return _NOT_IDENTIFIER.sub("_", asset_name)


def render_edmx(space: str, asset: Asset, *, resolve_type: dict[str, str] | None = None) -> str:
    """Return the EDMX document of ``asset``: one EntityType with keys, properties and labels.

    :param space: the space name, used as schema namespace.
    :param asset: the consumable asset.
    :param resolve_type: column → CSN type for measures that declare none (taken from the source view).
    """
    namespace = entity_type_name(space)
    set_name = entity_type_name(asset.name)
    type_name = f"{set_name}Type"
    elements: dict[str, dict[str, Any]] = asset.definition.get("elements") or {}
    columns = {name: el for name, el in elements.items() if el.get("type") not in _NON_COLUMN_TYPES}
    keys = [name for name, element in columns.items() if element.get("key")]

    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">',
        _reference(
            "https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Core.V1.xml",
            "Org.OData.Core.V1",
            "Core",
        ),
        _reference(
            "https://sap.github.io/odata-vocabularies/vocabularies/Common.xml",
            "com.sap.vocabularies.Common.v1",
            "Common",
        ),
        _reference(
            "https://sap.github.io/odata-vocabularies/vocabularies/Analytics.xml",
            "com.sap.vocabularies.Analytics.v1",
            "Analytics",
        ),
        "<edmx:DataServices>",
        f'<Schema Namespace={quoteattr(namespace)} xmlns="http://docs.oasis-open.org/odata/ns/edm">',
        f"<EntityType Name={quoteattr(type_name)}>",
    ]
    if keys:
        lines.append("<Key>" + "".join(f"<PropertyRef Name={quoteattr(k)}/>" for k in keys) + "</Key>")
    for name, element in columns.items():
        lines.append(_property(name, element, asset, resolve_type or {}))
    lines.append(_annotation("Common.Label", asset.label))
    description = asset.definition.get("@EndUserText.quickInfo")
    if description:
        lines.append(_annotation("Core.Description", str(description)))
    lines += [
        "</EntityType>",
        '<EntityContainer Name="EntityContainer">',
        f"<EntitySet Name={quoteattr(set_name)} EntityType={quoteattr(f'{namespace}.{type_name}')}/>",
        "</EntityContainer>",
        "</Schema>",
        "</edmx:DataServices>",
        "</edmx:Edmx>",
    ]
    return "\n".join(lines) + "\n"


def _property(name: str, element: dict[str, Any], asset: Asset, resolve_type: dict[str, str]) -> str:
    cds_type = element.get("type") or resolve_type.get(name)
    if cds_type:
        edm = CDS_TO_EDM.get(cds_type, _FALLBACK)
    else:
        edm = _TYPELESS_MEASURE if asset.object_type == "analyticmodels" else _FALLBACK
    attributes = [("Name", name), ("Type", edm.name)]
    if edm.max_length and element.get("length") is not None:
        attributes.append(("MaxLength", str(element["length"])))
    if edm.precision and element.get("precision") is not None:
        attributes.append(("Precision", str(element["precision"])))
    if edm.scale and element.get("scale") is not None:
        attributes.append(("Scale", str(element["scale"])))
    elif edm.precision and element.get("precision") is None:
        attributes.append(("Scale", "variable"))  # a Decimal without precision floats
    attributes += edm.fixed
    nullable = not (element.get("key") or element.get("notNull"))
    attributes.append(("Nullable", "true" if nullable else "false"))
    head = "<Property " + " ".join(f"{key}={quoteattr(value)}" for key, value in attributes)
    annotations = []
    label = element.get("@EndUserText.label")
    if label:
        annotations.append(_annotation("Common.Label", str(label)))
    if element.get("@Analytics.measure") or element.get("@AnalyticsDetails.measureType"):
        annotations.append('<Annotation Term="Analytics.Measure" Bool="true"/>')
    if not annotations:
        return head + "/>"
    return head + ">" + "".join(annotations) + "</Property>"


def _annotation(term: str, text: str) -> str:
    return f"<Annotation Term={quoteattr(term)} String={quoteattr(text)}/>"


def _reference(uri: str, namespace: str, alias: str) -> str:
    return (
        f"<edmx:Reference Uri={quoteattr(uri)}>"
        f"<edmx:Include Namespace={quoteattr(namespace)} Alias={quoteattr(alias)}/>"
        "</edmx:Reference>"
    )
