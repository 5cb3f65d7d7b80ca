"""The committed demo catalog, the synthetic generator and the catalog file checks."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from emulators.datasphere.catalog import (
    DEMO_CATALOG_PATH,
    OBJECT_TYPES,
    Catalog,
    CatalogError,
    load_catalog,
)
from emulators.datasphere.demo import build_demo_catalog
from emulators.datasphere.edmx import CDS_TO_EDM
from emulators.datasphere.synthetic import generate

# Every source type the mapping table names, so the sync sees each at least once in the demo.
MAPPED_TYPES = {
    "cds.String",
    "cds.LargeString",
    "hana.CHAR",
    "cds.Boolean",
    "hana.TINYINT",
    "cds.Int16",
    "cds.Integer",
    "cds.Integer64",
    "cds.Decimal",
    "cds.DecimalFloat",
    "hana.SMALLDECIMAL",
    "cds.Double",
    "hana.REAL",
    "cds.Date",
    "cds.Time",
    "cds.DateTime",
    "cds.Timestamp",
    "cds.Binary",
    "cds.LargeBinary",
    "cds.UUID",
    "hana.ST_POINT",
    "hana.ST_GEOMETRY",
}


def _elements(catalog: Catalog) -> list[dict[str, Any]]:
    return [el for asset in catalog.assets() for el in (asset.definition.get("elements") or {}).values()]


class TestDemoCatalog:
    def test_committed_file_matches_its_generator(self) -> None:
        assert json.loads(DEMO_CATALOG_PATH.read_text(encoding="utf-8")) == build_demo_catalog()

    def test_size_and_object_types(self) -> None:
        catalog = load_catalog("demo")

        assert len(catalog.spaces) == 5
        assert sum(1 for _ in catalog.assets()) >= 100
        assert set(Counter(asset.object_type for asset in catalog.assets())) == set(OBJECT_TYPES)
        assert [space.name for space in catalog.spaces.values() if not space.member] == [
            "EXECUTIVE_RESTRICTED"
        ]

    def test_every_mapped_column_type_occurs(self) -> None:
        elements = _elements(load_catalog("demo"))

        types = {el.get("type") for el in elements}
        assert types >= MAPPED_TYPES
        assert set(CDS_TO_EDM) >= MAPPED_TYPES
        assert any(el.get("type") == "cds.Decimal" and "precision" not in el for el in elements)
        assert any(el.get("type") == "cds.String" and "length" not in el for el in elements)
        assert any("type" not in el for el in elements)  # typeless measures

    def test_hard_cases_are_present(self) -> None:
        catalog = load_catalog("demo")
        sales = catalog.spaces["SALES"].assets

        assert {"SALES.ORDERS", "SALES_ORDERS"} <= set(sales)
        assert "SAP.TIME.VIEW_DIMENSION_DAY" in catalog.spaces["FINANCE"].assets
        assert max(len(el.get("@EndUserText.label", "")) for el in _elements(catalog)) > 255
        descriptions = [a.definition.get("@EndUserText.quickInfo", "") for a in catalog.assets()]
        assert max(len(text) for text in descriptions) > 2048
        usages = {asset.semantic_usage for asset in catalog.assets()}
        assert {"ANALYTICAL_FACT", "ANALYTICAL_DIMENSION", "ANALYTICAL_DATASET", "DATA_STRUCTURE"} <= usages


class TestSyntheticCatalog:
    def test_is_deterministic_per_seed(self) -> None:
        assert generate(spaces=3, assets=300, seed=7) == generate(spaces=3, assets=300, seed=7)
        assert generate(spaces=3, assets=300, seed=7) != generate(spaces=3, assets=300, seed=8)

    def test_sizes_and_mix(self) -> None:
        catalog = Catalog.from_json(generate(spaces=10, assets=10_000))

        assets = list(catalog.assets())
        assert len(catalog.spaces) == 10
        assert len(assets) == 10_000
        assert set(Counter(asset.object_type for asset in assets)) == set(OBJECT_TYPES)
        column_counts = [len(a.definition["elements"]) for a in assets if "elements" in a.definition]
        assert min(column_counts) >= 5
        assert max(column_counts) <= 40

    def test_spec_string(self) -> None:
        catalog = load_catalog("synthetic:50:2:1")

        assert [len(space.assets) for space in catalog.spaces.values()] == [25, 25]


class TestCatalogFile:
    def test_wrong_format_is_refused(self) -> None:
        with pytest.raises(CatalogError, match="'format'"):
            Catalog.from_json({"format": "something-else"})

    def test_bad_asset_is_named(self) -> None:
        document = {
            "format": "datasphere-emulator-catalog/1",
            "spaces": [{"name": "S", "assets": [{"name": "T", "type": "localtables", "definition": {}}]}],
        }

        with pytest.raises(CatalogError, match=r"spaces\[0\]\.assets\[0\] \(T\): 'elements'"):
            Catalog.from_json(document, source="my.json")

    def test_missing_file_names_the_path(self, tmp_path: Any) -> None:
        with pytest.raises(CatalogError, match=r"nope\.json"):
            load_catalog(str(tmp_path / "nope.json"))
