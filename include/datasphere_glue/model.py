"""Datasphere assets as the sync engine sees them, independent of how they were read."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ObjectType(StrEnum):
    """Kinds of Datasphere objects the sync knows about, by their repository API path segment."""

    ANALYTIC_MODEL = "analyticmodels"
    VIEW = "views"
    LOCAL_TABLE = "localtables"
    REMOTE_TABLE = "remotetables"
    DATA_FLOW = "dataflows"
    REPLICATION_FLOW = "replicationflows"
    TRANSFORMATION_FLOW = "transformationflows"

    @property
    def is_flow(self) -> bool:
        """Flows move data between tables; they never become Glue tables themselves."""
        return self in _FLOW_TYPES

    @property
    def sync_stage(self) -> int:
        """Order in which a run syncs assets so that upstream objects land first."""
        return _SYNC_STAGE[self]


_FLOW_TYPES = frozenset({ObjectType.DATA_FLOW, ObjectType.REPLICATION_FLOW, ObjectType.TRANSFORMATION_FLOW})

# Tables feed views, views feed analytic models; flows only add lineage to tables.
_SYNC_STAGE = {
    ObjectType.LOCAL_TABLE: 0,
    ObjectType.REMOTE_TABLE: 0,
    ObjectType.VIEW: 1,
    ObjectType.ANALYTIC_MODEL: 2,
    ObjectType.DATA_FLOW: 3,
    ObjectType.REPLICATION_FLOW: 3,
    ObjectType.TRANSFORMATION_FLOW: 3,
}


@dataclass(frozen=True, slots=True)
class AssetRef:
    """One entry of a space's listing: enough to select an asset by rule, before reading its columns."""

    space: str
    technical_name: str
    object_type: ObjectType
    business_name: str | None = None
    semantic_usage: str | None = None
    # Absolute or tenant-relative URL of the OData $metadata document, when the catalog exposes one.
    metadata_url: str | None = None

    @property
    def key(self) -> str:
        """Identity of the asset across runs: space and technical name."""
        return f"{self.space}/{self.technical_name}"


@dataclass(frozen=True, slots=True)
class SourceColumn:
    """A column as Datasphere declares it, before mapping to a Glue type.

    :param source_type: the declared type, e.g. ``cds.String``, ``Edm.Decimal``, ``hana.TINYINT``;
        empty when the source declares none (measures of analytic models may carry no type).
    """

    name: str
    source_type: str
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    nullable: bool = True
    key: bool = False
    label: str | None = None


@dataclass(frozen=True, slots=True)
class SourceAsset:
    """An asset with its columns and business context, ready to be mapped to a Glue table."""

    ref: AssetRef
    columns: tuple[SourceColumn, ...]
    description: str | None = None
    # Technical names (same space) of the objects this one reads from.
    upstream: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FlowLineage:
    """What a data, replication or transformation flow reads and writes, by technical name."""

    space: str
    flow_name: str
    object_type: ObjectType
    sources: tuple[str, ...] = field(default_factory=tuple)
    targets: tuple[str, ...] = field(default_factory=tuple)
