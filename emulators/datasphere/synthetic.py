"""Generate large, deterministic synthetic catalogs for benchmarks."""

from __future__ import annotations

import random
from typing import Any

from emulators.datasphere.catalog import CATALOG_FORMAT

# Share of each object type in a synthetic space; flows take the remainder.
_TYPE_MIX = (
    ("localtables", 0.30),
    ("remotetables", 0.10),
    ("views", 0.35),
    ("analyticmodels", 0.15),
)
_FLOW_TYPES = ("dataflows", "replicationflows", "transformationflows")
_COLUMN_TYPES: tuple[tuple[str, dict[str, int]], ...] = (
    ("cds.String", {"length": 40}),
    ("cds.String", {"length": 10}),
    ("cds.Integer", {}),
    ("cds.Integer64", {}),
    ("cds.Decimal", {"precision": 15, "scale": 2}),
    ("cds.Date", {}),
    ("cds.Timestamp", {}),
    ("cds.Boolean", {}),
    ("cds.Double", {}),
    ("hana.CHAR", {"length": 3}),
    ("cds.UUID", {}),
    ("hana.TINYINT", {}),
)
_USAGES = ("DATA_STRUCTURE", "ANALYTICAL_DATASET", "ANALYTICAL_FACT", "ANALYTICAL_DIMENSION")


def generate(spaces: int = 10, assets: int = 10_000, seed: int = 0) -> dict[str, Any]:
    """Return a catalog document with ``assets`` assets spread evenly over ``spaces`` spaces.

    The same arguments always give the same catalog. Every space holds tables, views on those tables,
    analytic models on those views and flows loading the tables, each with 5 to 40 columns; views and
    analytic models are exposed for consumption.

    :param spaces: number of spaces (named ``SPACE_00``, ``SPACE_01``, ...).
    :param assets: total number of assets.
    :param seed: seed of the pseudo-random choices.
    """
    rng = random.Random(seed)
    document_spaces = []
    for index in range(spaces):
        count = assets // spaces + (1 if index < assets % spaces else 0)
        name = f"SPACE_{index:02d}"
        document_spaces.append(
            {
                "name": name,
                "label": f"Synthetic Space {index}",
                "member": True,
                "metadata_prefix": "datasphere",
                "assets": _space_assets(rng, name, count),
            }
        )
    return {"format": CATALOG_FORMAT, "options": {"spaces_as_array": False}, "spaces": document_spaces}


def _space_assets(rng: random.Random, space: str, count: int) -> list[dict[str, Any]]:
    plan: list[str] = []
    for object_type, share in _TYPE_MIX:
        plan += [object_type] * int(count * share)
    plan += [_FLOW_TYPES[i % len(_FLOW_TYPES)] for i in range(count - len(plan))]
    tables: list[str] = []
    views: list[str] = []
    result = []
    # Tables first, so that views, models and flows always have something to read.
    for ordinal, object_type in enumerate(plan):
        name = f"{space}_{_SHORT[object_type]}_{ordinal:05d}"
        if object_type in ("localtables", "remotetables"):
            definition = _entity(rng, name, "DATA_STRUCTURE", None)
            tables.append(name)
        elif object_type == "views":
            definition = _entity(rng, name, rng.choice(_USAGES), rng.choice(tables) if tables else None)
            views.append(name)
        elif object_type == "analyticmodels":
            definition = _entity(
                rng, name, "ANALYTICAL_CUBE", rng.choice(views) if views else None, typeless_measures=True
            )
        else:
            sources = rng.sample(tables, k=min(len(tables), 2))
            definition = {
                "kind": _FLOW_KINDS[object_type],
                "@EndUserText.label": f"Load {name}",
                "sources": sources,
                "targets": [rng.choice(tables)] if tables else [],
            }
        result.append(
            {
                "name": name,
                "type": object_type,
                "exposed": object_type in ("views", "analyticmodels"),
                "definition": definition,
            }
        )
    return result


_SHORT = {
    "localtables": "LT",
    "remotetables": "RT",
    "views": "V",
    "analyticmodels": "AM",
    "dataflows": "DF",
    "replicationflows": "RF",
    "transformationflows": "TF",
}
_FLOW_KINDS = {
    "dataflows": "sap.dis.dataflow",
    "replicationflows": "sap.dis.replicationflow",
    "transformationflows": "sap.dis.transformationflow",
}


def _entity(
    rng: random.Random, name: str, usage: str, source: str | None, *, typeless_measures: bool = False
) -> dict[str, Any]:
    elements: dict[str, Any] = {
        "ID": {"type": "cds.String", "length": 20, "key": True, "@EndUserText.label": "Identifier"}
    }
    for position in range(1, rng.randint(5, 40)):
        cds_type, facets = rng.choice(_COLUMN_TYPES)
        element: dict[str, Any] = {"type": cds_type, **facets, "@EndUserText.label": f"Attribute {position}"}
        if typeless_measures and cds_type in ("cds.Decimal", "cds.Double") and rng.random() < 0.5:
            element = {
                "@EndUserText.label": f"Measure {position}",
                "@AnalyticsDetails.measureType": {"#": "BASE"},
            }
        elements[f"COL_{position:02d}"] = element
    definition: dict[str, Any] = {
        "kind": "entity",
        "@EndUserText.label": f"{name.replace('_', ' ').title()}",
        "@ObjectModel.modelingPattern": {"#": usage},
        "elements": elements,
    }
    if source:
        definition["query"] = {"SELECT": {"from": {"ref": [source]}}}
    return definition
