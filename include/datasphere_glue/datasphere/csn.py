"""Read columns, business context, upstream objects and flow lineage from repository CSN documents."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from include.datasphere_glue.datasphere.errors import DocumentError
from include.datasphere_glue.model import SourceColumn

# Elements of these types link to other entities; they hold no data and never become columns.
_NON_COLUMN_TYPES = frozenset({"cds.Association", "cds.Composition"})


@dataclass(frozen=True, slots=True)
class CsnObject:
    """One repository object as its CSN definition describes it.

    :param name: the technical name the definition is keyed by.
    :param kind: the CSN ``kind`` (``entity``, ``sap.dis.dataflow``, ...).
    :param columns: its elements that hold data, in document order.
    :param label: ``@EndUserText.label``, the business name.
    :param description: ``@EndUserText.quickInfo`` or ``doc``.
    :param semantic_usage: the ``#`` value of ``@ObjectModel.modelingPattern``.
    :param upstream: technical names the object's query reads from, in order of appearance.
    """

    name: str
    kind: str
    columns: tuple[SourceColumn, ...]
    label: str | None = None
    description: str | None = None
    semantic_usage: str | None = None
    upstream: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CsnFlow:
    """What a flow's CSN says it reads and writes."""

    name: str
    kind: str
    sources: tuple[str, ...]
    targets: tuple[str, ...]


def parse_csn(document: Any, technical_name: str) -> CsnObject:
    """Parse the CSN of a table, view or analytic model.

    :param document: the decoded JSON of the repository's object content.
    :param technical_name: the object's technical name (it may contain dots).
    :raises DocumentError: when the document holds no definition of the object or a malformed element.
    """
    name, definition = _definition(document, technical_name)
    elements = definition.get("elements") or {}
    if not isinstance(elements, dict):
        raise DocumentError(f"CSN definition {name!r}: 'elements' is not an object")
    columns = tuple(
        _column(column_name, element)
        for column_name, element in elements.items()
        if isinstance(element, dict) and element.get("type") not in _NON_COLUMN_TYPES
    )
    pattern = definition.get("@ObjectModel.modelingPattern")
    return CsnObject(
        name=name,
        kind=str(definition.get("kind", "")),
        columns=columns,
        label=_text(definition.get("@EndUserText.label")),
        description=_text(definition.get("@EndUserText.quickInfo")) or _text(definition.get("doc")),
        semantic_usage=_text(pattern.get("#")) if isinstance(pattern, dict) else _text(pattern),
        upstream=tuple(dict.fromkeys(_query_sources(definition.get("query")))),
    )


def parse_flow(document: Any, technical_name: str) -> CsnFlow:
    """Parse the CSN of a data, replication or transformation flow.

    The shape is an assumption shared with the local emulator: the flow's definition carries
    ``sources`` and ``targets`` lists, each item a technical name or an object with ``name``,
    ``technicalName`` or a ``ref`` path.

    :param document: the decoded JSON of the repository's object content.
    :param technical_name: the flow's technical name.
    :raises DocumentError: when the document holds no definition of the flow.
    """
    name, definition = _definition(document, technical_name)
    return CsnFlow(
        name=name,
        kind=str(definition.get("kind", "")),
        sources=tuple(dict.fromkeys(_object_names(definition.get("sources"), name, "sources"))),
        targets=tuple(dict.fromkeys(_object_names(definition.get("targets"), name, "targets"))),
    )


def _definition(document: Any, technical_name: str) -> tuple[str, dict[str, Any]]:
    definitions = document.get("definitions") if isinstance(document, dict) else None
    if not isinstance(definitions, dict) or not definitions:
        raise DocumentError("CSN document has no 'definitions'")
    definition = definitions.get(technical_name)
    if definition is None and len(definitions) == 1:
        # Some exports key the definition by a qualified name; a single definition is unambiguous.
        technical_name, definition = next(iter(definitions.items()))
    if not isinstance(definition, dict):
        raise DocumentError(
            f"CSN document has no definition named {technical_name!r} "
            f"(it defines {', '.join(sorted(definitions)[:5])})"
        )
    return technical_name, definition


def _column(name: str, element: dict[str, Any]) -> SourceColumn:
    is_key = bool(element.get("key"))
    return SourceColumn(
        name=name,
        source_type=str(element.get("type") or ""),
        length=_integer(element, "length", name),
        precision=_integer(element, "precision", name),
        scale=_integer(element, "scale", name),
        nullable=not is_key and not element.get("notNull"),
        key=is_key,
        label=_text(element.get("@EndUserText.label")),
    )


def _integer(element: dict[str, Any], facet: str, column: str) -> int | None:
    value = element.get(facet)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if facet == "scale" and isinstance(value, str):
        return None  # a symbolic scale ("floating", "variable") has no fixed number
    raise DocumentError(f"CSN element {column!r}: {facet} {value!r} is not a whole number")


def _query_sources(query: Any) -> Iterator[str]:
    """Yield the technical names a CSN query reads from: plain refs, joins (nested) and unions."""
    if not isinstance(query, dict):
        return
    if "SELECT" in query:
        yield from _from_sources(query["SELECT"].get("from") if isinstance(query["SELECT"], dict) else None)
    if "SET" in query and isinstance(query["SET"], dict):
        for branch in query["SET"].get("args", []):
            yield from _query_sources(branch)


def _from_sources(source: Any) -> Iterator[str]:
    if not isinstance(source, dict):
        return
    if "ref" in source:
        name = _ref_name(source["ref"])
        if name:
            yield name
    elif "join" in source or "args" in source:
        for argument in source.get("args", []):
            yield from _from_sources(argument)
    else:
        yield from _query_sources(source)  # a sub-query in the FROM clause


def _ref_name(ref: Any) -> str | None:
    first = ref[0] if isinstance(ref, list) and ref else ref
    if isinstance(first, dict):
        first = first.get("id")
    return first if isinstance(first, str) and first else None


def _object_names(items: Any, flow: str, field_name: str) -> Iterator[str]:
    if items is None:
        return
    if not isinstance(items, list):
        raise DocumentError(f"CSN flow {flow!r}: {field_name!r} is not a list")
    for item in items:
        name = _ref_name(item["ref"]) if isinstance(item, dict) and "ref" in item else item
        if isinstance(name, dict):
            name = name.get("technicalName") or name.get("name")
        if not isinstance(name, str) or not name:
            raise DocumentError(f"CSN flow {flow!r}: an item of {field_name!r} names no object: {item!r}")
        yield name


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
