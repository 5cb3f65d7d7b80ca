"""Read an asset's columns and labels from its OData v4 ``$metadata`` document (EDMX/CSDL XML)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from include.datasphere_glue.datasphere.errors import DocumentError
from include.datasphere_glue.model import SourceColumn

EDMX_NS = "http://docs.oasis-open.org/odata/ns/edmx"
EDM_NS = "http://docs.oasis-open.org/odata/ns/edm"
COMMON_VOCABULARY = "com.sap.vocabularies.Common.v1"
CORE_VOCABULARY = "Org.OData.Core.V1"

_E = f"{{{EDM_NS}}}"
_X = f"{{{EDMX_NS}}}"


@dataclass(frozen=True, slots=True)
class EdmxEntity:
    """The entity type of an asset's metadata document.

    :param name: the entity type's name.
    :param columns: its properties in document order, key properties flagged.
    :param label: the entity type's ``Common.Label``, if any.
    :param description: its ``Core.Description``, if any.
    """

    name: str
    columns: tuple[SourceColumn, ...]
    label: str | None = None
    description: str | None = None


def parse_edmx(document: bytes | str, *, asset_name: str | None = None) -> EdmxEntity:
    """Parse a CSDL v4 document into the entity type that describes the asset.

    An analytical document of an asset with parameters holds a second entity type for the parameters;
    the one the asset's entity set points at (or the one named after the asset) is chosen.

    :param document: the ``$metadata`` body.
    :param asset_name: the asset's technical name, used to pick among several entity types.
    :raises DocumentError: when the document is not well-formed or holds no entity type.
    """
    try:
        root = ET.fromstring(document)
    except ET.ParseError as error:
        line, column = error.position
        raise DocumentError(f"EDMX is not well-formed XML (line {line}, column {column})") from None
    if root.tag != f"{_X}Edmx":
        raise DocumentError(f"EDMX root element is {_local(root.tag)!r}, expected an OData v4 'Edmx' element")
    vocabularies = _vocabulary_aliases(root)
    schemas = root.findall(f"{_X}DataServices/{_E}Schema")
    entity_type, schema = _choose_entity_type(schemas, asset_name)
    annotations = _out_of_line_annotations(schemas, schema, entity_type.get("Name", ""))
    keys = {ref.get("Name") for ref in entity_type.findall(f"{_E}Key/{_E}PropertyRef")}
    columns = tuple(
        _column(prop, keys, vocabularies, annotations.get(prop.get("Name", ""), []))
        for prop in entity_type.findall(f"{_E}Property")
    )
    own_annotations = [*entity_type.findall(f"{_E}Annotation"), *annotations.get("", [])]
    return EdmxEntity(
        name=entity_type.get("Name", ""),
        columns=columns,
        label=_term_value(own_annotations, vocabularies, COMMON_VOCABULARY, "Label"),
        description=_term_value(own_annotations, vocabularies, CORE_VOCABULARY, "Description"),
    )


def _choose_entity_type(schemas: list[ET.Element], asset_name: str | None) -> tuple[ET.Element, ET.Element]:
    candidates = [(entity, schema) for schema in schemas for entity in schema.findall(f"{_E}EntityType")]
    if not candidates:
        raise DocumentError("EDMX holds no EntityType: the asset exposes no columns")
    if len(candidates) == 1 or asset_name is None:
        return candidates[0]
    by_name = {entity.get("Name"): (entity, schema) for entity, schema in candidates}
    for schema in schemas:
        for entity_set in schema.findall(f"{_E}EntityContainer/{_E}EntitySet"):
            if entity_set.get("Name") == asset_name:
                chosen = by_name.get(entity_set.get("EntityType", "").rsplit(".", 1)[-1])
                if chosen is not None:
                    return chosen
    for name in (asset_name, f"{asset_name}Type"):
        if name in by_name:
            return by_name[name]
    keyed = [pair for pair in candidates if pair[0].find(f"{_E}Key") is not None]
    return (keyed or candidates)[0]


def _column(
    prop: ET.Element, keys: set[str | None], vocabularies: dict[str, str], extra: list[ET.Element]
) -> SourceColumn:
    name = prop.get("Name")
    if not name:
        raise DocumentError("EDMX has a Property without a Name")
    is_key = name in keys
    annotations = [*prop.findall(f"{_E}Annotation"), *extra]
    return SourceColumn(
        name=name,
        source_type=prop.get("Type", ""),
        length=_facet(prop, "MaxLength"),
        precision=_facet(prop, "Precision"),
        scale=_facet(prop, "Scale"),
        nullable=not is_key and prop.get("Nullable", "true").lower() != "false",
        key=is_key,
        label=_term_value(annotations, vocabularies, COMMON_VOCABULARY, "Label"),
    )


def _facet(prop: ET.Element, attribute: str) -> int | None:
    """Read a numeric facet; symbolic values such as ``max`` or ``variable`` mean no fixed number."""
    value = prop.get(attribute)
    if value is None or not value.isdigit():
        return None
    return int(value)


def _vocabulary_aliases(root: ET.Element) -> dict[str, str]:
    """Map each alias and namespace that may prefix a term to the vocabulary namespace it stands for."""
    aliases = {"Common": COMMON_VOCABULARY, "Core": CORE_VOCABULARY}
    for include in root.iter(f"{_X}Include"):
        namespace = include.get("Namespace")
        if namespace:
            aliases[namespace] = namespace
            if include.get("Alias"):
                aliases[include.get("Alias", "")] = namespace
    return aliases


def _out_of_line_annotations(
    schemas: list[ET.Element], owner: ET.Element, entity_name: str
) -> dict[str, list[ET.Element]]:
    """Collect ``Annotations`` blocks aimed at the entity type ("" key) or one of its properties."""
    qualifiers = {owner.get("Namespace"), owner.get("Alias")} - {None}
    found: dict[str, list[ET.Element]] = {}
    for schema in schemas:
        for block in schema.findall(f"{_E}Annotations"):
            type_part, _, member = block.get("Target", "").partition("/")
            qualifier, _, name = type_part.rpartition(".")
            if name == entity_name and qualifier in qualifiers:
                found.setdefault(member, []).extend(block.findall(f"{_E}Annotation"))
    return found


def _term_value(
    annotations: list[ET.Element], vocabularies: dict[str, str], vocabulary: str, term: str
) -> str | None:
    for annotation in annotations:
        prefix, _, name = annotation.get("Term", "").rpartition(".")
        if name != term or vocabularies.get(prefix) != vocabulary:
            continue
        value = annotation.get("String")
        if value is None:
            child = annotation.find(f"{_E}String")
            value = child.text if child is not None else None
        if value and value.strip():
            return value.strip()
    return None


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]
