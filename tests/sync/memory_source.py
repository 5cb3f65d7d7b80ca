"""An in-memory Datasphere for engine tests of the Glue side (the HTTP emulator tests come separately)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field

from include.datasphere_glue.datasphere.errors import AssetReadError
from include.datasphere_glue.model import AssetRef, FlowLineage, ObjectType, SourceAsset


@dataclass
class Listing:
    refs: list[AssetRef]
    complete: bool = True
    warnings: list[str] = field(default_factory=list)
    skipped: bool = False


class MemorySource:
    """Assets and flows in dicts; ``broken`` assets fail to read, ``incomplete`` spaces list partially."""

    def __init__(self) -> None:
        self.assets: dict[str, SourceAsset] = {}
        self.flows: dict[str, FlowLineage] = {}
        self.broken: set[str] = set()
        self.incomplete: set[str] = set()
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, *assets: SourceAsset) -> None:
        for asset in assets:
            self.assets[asset.ref.key] = asset

    def remove(self, key: str) -> None:
        del self.assets[key]

    def add_flow(self, flow: FlowLineage) -> None:
        self.flows[f"{flow.space}/{flow.flow_name}"] = flow

    def _count(self, api: str) -> None:
        with self._lock:
            self.calls[api] += 1

    def list_spaces(self) -> list[str]:
        self._count("catalog")
        return sorted({a.ref.space for a in self.assets.values()} | {f.space for f in self.flows.values()})

    def list_assets(self, space: str, object_types: Collection[ObjectType]) -> Listing:
        self._count("repository")
        refs = [
            a.ref for a in self.assets.values() if a.ref.space == space and a.ref.object_type in object_types
        ]
        refs += [
            AssetRef(f.space, f.flow_name, f.object_type)
            for f in self.flows.values()
            if f.space == space and f.object_type in object_types
        ]
        if space in self.incomplete:
            warning = f"space {space}: page 2 failed"
            return Listing(refs=refs[: len(refs) // 2], complete=False, warnings=[warning])
        return Listing(refs=refs)

    def read_asset(self, ref: AssetRef) -> SourceAsset:
        self._count("repository")
        if ref.key in self.broken:
            raise AssetReadError(ref.space, ref.technical_name, "HTTP 500 after retries")
        return self.assets[ref.key]

    def read_flow(self, ref: AssetRef) -> FlowLineage:
        self._count("repository")
        return self.flows[ref.key]
