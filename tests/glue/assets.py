"""Source assets built in tests, without a Datasphere."""

from __future__ import annotations

from include.datasphere_glue.model import AssetRef, ObjectType, SourceAsset, SourceColumn


def make_asset(
    name: str = "ORDERS",
    space: str = "SALES",
    object_type: ObjectType = ObjectType.VIEW,
    *,
    columns: tuple[SourceColumn, ...] | None = None,
    description: str | None = "Sales orders",
    business_name: str | None = "Orders",
    semantic_usage: str | None = "FACT",
    upstream: tuple[str, ...] = (),
) -> SourceAsset:
    """An asset with a few typical columns unless others are given."""
    ref = AssetRef(space, name, object_type, business_name=business_name, semantic_usage=semantic_usage)
    if columns is None:
        columns = (
            SourceColumn("ORDER_ID", "cds.Integer64", key=True, nullable=False, label="Order"),
            SourceColumn("CUSTOMER", "cds.String", length=10, label="Customer"),
            SourceColumn("AMOUNT", "cds.Decimal", precision=15, scale=2, label="Amount"),
            SourceColumn("RATE", "cds.DecimalFloat"),
        )
    return SourceAsset(ref=ref, columns=columns, description=description, upstream=upstream)
